-- stg_keyword_mentions: every keyword mention, before deduplication
--
-- materialized: view
-- grain: one row per element of a keywords list in keywords.csv; a record that repeats repeats
--   its mentions
-- sources: raw_keywords
--
-- keyword_aggregates keeps the rated movies' mentions first and deduplicates only those:
-- neither server pushes a filter into a `select distinct`, so reading stg_movie_keywords would
-- deduplicate all 158,680 mentions first.
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
    select
        keywords.movie_id,
        keywords.id as keyword_id
    from keywords
)

select * from final
