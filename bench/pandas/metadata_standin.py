#!/usr/bin/env python3
"""Writes a stand-in for the full movies_metadata.csv (45,466 records, 34,445,126 bytes; not in
shared/data) from the real 4,627-record sample: the sample's records over and over, copy k with
every numeric `id` raised by k * 10,000,000, so the copies are distinct movies that no rating,
keyword or credit names, cut at the real file's 45,466 records. Every other field is the real
text; line ends stay CRLF, inside quoted fields too, as in the real file. The result is about
the real size (37.7 MB: the first records have longer overviews than the average).

It gives the loaders the real amount of metadata to parse and write (45,466 records, about
310,000 genre, company, country and language elements); it does not give the derived tables more
matches, since only the first copy's ids are real.

Usage: metadata_standin.py SAMPLE_CSV OUT_CSV"""

import csv
import sys

REAL_RECORDS = 45_466
ID_STEP = 10_000_000

sample, out = sys.argv[1], sys.argv[2]
with open(sample, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, records = rows[0], rows[1:]
id_column = header.index("id")
written = 0
with open(out, "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f, lineterminator="\r\n")
    writer.writerow(header)
    copy = 0
    while written < REAL_RECORDS:
        for record in records[: REAL_RECORDS - written]:
            if copy and record[id_column].isdigit():
                record = record.copy()
                record[id_column] = str(int(record[id_column]) + copy * ID_STEP)
            writer.writerow(record)
            written += 1
        copy += 1
print(f"{out}: {written} records")
