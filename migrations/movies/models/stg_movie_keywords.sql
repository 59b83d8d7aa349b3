-- stg_movie_keywords: which keywords each movie has
--
-- materialized: view
-- grain: one row per movie and keyword (a keywords record that appears twice counts once)
-- sources: raw_keywords
--
-- keywords.csv repeats 985 movies' records (2-3 identical copies, never adjacent); the pairs are
-- deduplicated here. No build reads it (keyword_aggregates keeps the rated movies' mentions
-- first, from stg_keyword_mentions, and deduplicates only those): it is the clean layer for
-- ad-hoc queries.
--
-- columns:
--   movie_id    TMDB movie id
--   keyword_id  TMDB keyword id

with
keywords as (
    select
        raw_keywords.movie_id,
        raw_keywords.id
    from raw_keywords
),

final as (
    select distinct
        keywords.movie_id,
        keywords.id as keyword_id
    from keywords
)

select * from final
