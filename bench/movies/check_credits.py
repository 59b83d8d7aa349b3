#!/usr/bin/env python3
"""Checks a generated credits.csv against Python itself: every cast and crew field must be a list
of dicts with the real keys in the real order, and `repr(ast.literal_eval(field)) == field`, i.e.
the text is exactly what Python's repr writes. Prints the record and element counts, which must
equal credits_records, credits_cast_elements and credits_crew_elements in generated.txt.

Usage: bench/movies/check_credits.py /work/bench-data/movies/credits.csv   (about a minute)
"""
import ast
import collections
import csv
import sys

CAST_KEYS = ("cast_id", "character", "credit_id", "gender", "id", "name", "order", "profile_path")
CREW_KEYS = ("credit_id", "department", "gender", "id", "job", "name", "profile_path")
ESCAPES = ("\\xa0", "\\xad", "\\u200b", "\\t", "\\\\", "\\'")


def main(path):
    csv.field_size_limit(1 << 30)
    records = cast = crew = 0
    escapes = collections.Counter()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["cast", "crew", "id"], "header"
        for row in reader:
            records += 1
            int(row[2])
            for text, keys in ((row[0], CAST_KEYS), (row[1], CREW_KEYS)):
                elements = ast.literal_eval(text)
                assert all(tuple(e) == keys for e in elements), f"id {row[2]}: keys"
                assert repr(elements) == text, f"id {row[2]}: not Python's repr"
                for escape in ESCAPES:
                    escapes[escape] += text.count(escape)
            cast += len(ast.literal_eval(row[0]))
            crew += len(ast.literal_eval(row[1]))
    print(f"records={records} cast={cast} crew={crew} escapes={dict(escapes)}: "
          "every list is exactly Python's repr")


if __name__ == "__main__":
    main(sys.argv[1])
