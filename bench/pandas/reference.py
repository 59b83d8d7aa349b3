#!/usr/bin/env python3
"""The straightforward pandas + SQLAlchemy pipeline the runner is compared with (bench/README.md):
read the five CSV files, ast.literal_eval the list columns, explode them, to_sql everything into
MySQL, then compute the three challenge tables with pandas (quantiles with pandas' default linear
interpolation) and to_sql them.

Two variants, both straightforward pandas:
  --lists all      (default) the same loading job as `runner stage`: every list column is exploded
                   and written (metadata's genres, production_companies, production_countries,
                   spoken_languages and belongs_to_collection; credits' cast and crew; keywords)
  --lists minimal  only the three lists the challenge tables need (genres, cast, keywords)

Usage: reference.py DATA_DIR MYSQL_URL [--lists all|minimal]   (MYSQL_URL: mysql+pymysql://...)"""

import argparse
import ast
import json
import time

import pandas as pd
from sqlalchemy import create_engine

cli = argparse.ArgumentParser()
cli.add_argument("data_dir")
cli.add_argument("url")
cli.add_argument("--lists", choices=["all", "minimal"], default="all")
args = cli.parse_args()
data_dir = args.data_dir
engine = create_engine(args.url)
started = time.time()


def parse(text):
    try:
        return ast.literal_eval(text) if isinstance(text, str) and text else []
    except (ValueError, SyntaxError):
        return []


def explode(frame, id_column, list_column, keys):
    """One row per list element: the parent id, the element's position, and the given keys."""
    lists = frame[[id_column, list_column]].assign(**{list_column: frame[list_column].map(parse)})
    lists = lists.explode(list_column).dropna(subset=[list_column])
    out = pd.DataFrame({"movie_id": lists[id_column]})
    out["position"] = out.groupby(level=0).cumcount()
    for key in keys:
        out[key] = lists[list_column].map(lambda element, key=key: element.get(key))
    return out.reset_index(drop=True)


meta = pd.read_csv(f"{data_dir}/movies_metadata.csv", low_memory=False)
meta["id"] = pd.to_numeric(meta["id"], errors="coerce")
meta = meta.dropna(subset=["id"])
meta["id"] = meta["id"].astype("int64")
credits = pd.read_csv(f"{data_dir}/credits.csv")
keywords = pd.read_csv(f"{data_dir}/keywords.csv")
ratings = pd.read_csv(f"{data_dir}/ratings_small.csv")
links = pd.read_csv(f"{data_dir}/links_small.csv")

genres = explode(meta, "id", "genres", ["id", "name"])
cast = explode(credits, "id", "cast", ["cast_id", "character", "credit_id", "gender", "id", "name", "order",
                                       "profile_path"])
kw = explode(keywords, "id", "keywords", ["id", "name"])
frames = [("py_movie_genres", genres), ("py_credits_cast", cast), ("py_keywords", kw)]
if args.lists == "all":
    frames += [
        ("py_movie_production_companies", explode(meta, "id", "production_companies", ["id", "name"])),
        ("py_movie_production_countries", explode(meta, "id", "production_countries", ["iso_3166_1", "name"])),
        ("py_movie_spoken_languages", explode(meta, "id", "spoken_languages", ["iso_639_1", "name"])),
        ("py_credits_crew", explode(credits, "id", "crew", ["credit_id", "department", "gender", "id", "job",
                                                            "name", "profile_path"])),
    ]
    collection = meta["belongs_to_collection"].map(lambda t: parse(t) or None)
    meta = meta.assign(belongs_to_collection=collection.map(lambda c: json.dumps(c) if c else None))
list_columns = ["genres", "production_companies", "production_countries", "spoken_languages"]
if args.lists == "minimal":
    list_columns.append("belongs_to_collection")
frames += [("py_movies_metadata", meta.drop(columns=list_columns)),
           ("py_credits", credits[["id"]]), ("py_keyword_sets", keywords[["id"]]),
           ("py_ratings", ratings), ("py_links", links)]
for name, frame in frames:
    frame.to_sql(name, engine, if_exists="replace", index=False, chunksize=10_000)

# Rating percentiles per MovieLens movie.
grouped = ratings.groupby("movieId")["rating"]
pct = pd.DataFrame({"rating_count": grouped.count(), "min_rating": grouped.min(), "p25_rating": grouped.quantile(0.25),
                    "median_rating": grouped.quantile(0.5), "p75_rating": grouped.quantile(0.75),
                    "max_rating": grouped.max()}).reset_index()
pct = pct.merge(links[["movieId", "tmdbId"]], on="movieId", how="left")
pct = pct.merge(meta.drop_duplicates("id")[["id", "title"]], left_on="tmdbId", right_on="id", how="left")
pct.drop(columns=["id"]).to_sql("py_movie_rating_percentiles", engine, if_exists="replace", index=False)

rated = set(links.loc[links["movieId"].isin(ratings["movieId"]), "tmdbId"].dropna().astype("int64"))
kw_rated = kw[kw["movie_id"].isin(rated)].drop_duplicates(["movie_id", "id"])
kw_agg = kw_rated.groupby("id").agg(keyword=("name", "first"), movie_count=("movie_id", "nunique")).reset_index()
kw_agg.rename(columns={"id": "keyword_id"}).to_sql("py_keyword_aggregates", engine, if_exists="replace", index=False)

cast_rated = cast[cast["movie_id"].isin(rated)].drop_duplicates(["movie_id", "id"])
cast_agg = cast_rated.groupby("id").agg(name=("name", "first"), movie_count=("movie_id", "nunique")).reset_index()
cast_agg.rename(columns={"id": "person_id"}).to_sql("py_cast_member_aggregates", engine, if_exists="replace",
                                                    index=False)

print(f"pandas reference (--lists {args.lists}): {len(pct)} percentile rows, {len(kw_agg)} keywords, "
      f"{len(cast_agg)} cast members in {time.time() - started:.1f} s")
