#!/usr/bin/env python3
"""Cut the seed sample from the Kaggle files: the films of credits.first99.csv with their metadata,
keywords, links and ratings. Usage: python3 cut_sample.py SOURCE_DIR (default ../../../shared/data/movies).

Records are re-encoded with Python's csv module (minimal quoting, as pandas wrote the originals);
line endings follow each original file (CRLF for movies_metadata, links and ratings; LF for
credits and keywords)."""

import csv
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "../../../shared/data/movies")
out = Path(__file__).parent
csv.field_size_limit(1 << 30)


def read(name):
    with open(src / name, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write(name, header, rows, terminator):
    with open(out / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator=terminator)
        w.writerow(header)
        w.writerows(rows)
    print(f"{name}: {len(rows)} records")


header, credits = read("credits.first99.csv")
films = {row[header.index("id")] for row in credits}
write("credits.csv", header, credits, "\n")

header, meta = read("movies_metadata.first4627.csv")
write("movies_metadata.csv", header, [r for r in meta if r[header.index("id")] in films], "\r\n")

header, keywords = read("keywords.csv")
write("keywords.csv", header, [r for r in keywords if r[0] in films], "\n")

header, links = read("links_small.csv")
links = [r for r in links if r[2] in films]
write("links_small.csv", header, links, "\r\n")
movielens = {r[0] for r in links}

header, ratings = read("ratings_small.csv")
write("ratings_small.csv", header, [r for r in ratings if r[1] in movielens], "\r\n")
