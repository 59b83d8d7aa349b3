#!/usr/bin/env python3
"""The straightforward pandas + SQLAlchemy pipeline the runner is compared with (bench/README.md):
read the five CSV files, ast.literal_eval the list columns, explode them, to_sql everything into
MySQL, then compute the three challenge tables with pandas (quantiles with pandas' default linear
interpolation) and to_sql them. Usage: reference.py DATA_DIR MYSQL_URL (mysql+pymysql://...)."""

import ast
import sys
import time

import pandas as pd
from sqlalchemy import create_engine

data_dir, url = sys.argv[1], sys.argv[2]
engine = create_engine(url)
started = time.time()


def parse(text):
    try:
        return ast.literal_eval(text) if isinstance(text, str) and text else []
    except (ValueError, SyntaxError):
        return []


meta = pd.read_csv(f"{data_dir}/movies_metadata.csv", low_memory=False)
meta["id"] = pd.to_numeric(meta["id"], errors="coerce")
meta = meta.dropna(subset=["id"])
meta["id"] = meta["id"].astype("int64")
genres = meta[["id", "genres"]].assign(genres=meta["genres"].map(parse)).explode("genres").dropna()
genres = pd.DataFrame({"movie_id": genres["id"], "genre_id": genres["genres"].map(lambda g: g["id"]),
                       "name": genres["genres"].map(lambda g: g["name"])})

credits = pd.read_csv(f"{data_dir}/credits.csv")
cast = credits[["id", "cast"]].assign(cast=credits["cast"].map(parse)).explode("cast").dropna()
cast = pd.DataFrame({"movie_id": cast["id"], "person_id": cast["cast"].map(lambda c: c["id"]),
                     "name": cast["cast"].map(lambda c: c["name"]), "character_name": cast["cast"].map(lambda c: c["character"])})

keywords = pd.read_csv(f"{data_dir}/keywords.csv")
kw = keywords.assign(keywords=keywords["keywords"].map(parse)).explode("keywords").dropna()
kw = pd.DataFrame({"movie_id": kw["id"], "keyword_id": kw["keywords"].map(lambda k: k["id"]),
                   "name": kw["keywords"].map(lambda k: k["name"])})

ratings = pd.read_csv(f"{data_dir}/ratings_small.csv")
links = pd.read_csv(f"{data_dir}/links_small.csv")

for name, frame in [("py_movies_metadata", meta.drop(columns=["genres", "production_companies", "production_countries",
                                                               "spoken_languages", "belongs_to_collection"])),
                    ("py_movie_genres", genres), ("py_credits_cast", cast), ("py_keywords", kw),
                    ("py_ratings", ratings), ("py_links", links)]:
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
kw_rated = kw[kw["movie_id"].isin(rated)].drop_duplicates(["movie_id", "keyword_id"])
kw_agg = kw_rated.groupby("keyword_id").agg(keyword=("name", "first"), movie_count=("movie_id", "nunique")).reset_index()
kw_agg.to_sql("py_keyword_aggregates", engine, if_exists="replace", index=False)

cast_rated = cast[cast["movie_id"].isin(rated)].drop_duplicates(["movie_id", "person_id"])
cast_agg = cast_rated.groupby("person_id").agg(name=("name", "first"), movie_count=("movie_id", "nunique")).reset_index()
cast_agg.to_sql("py_cast_member_aggregates", engine, if_exists="replace", index=False)

print(f"pandas reference: {len(pct)} percentile rows, {len(kw_agg)} keywords, {len(cast_agg)} cast members "
      f"in {time.time() - started:.1f} s")
