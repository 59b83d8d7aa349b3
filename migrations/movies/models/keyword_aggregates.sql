-- keyword_aggregates: how many rated movies carry each keyword
--
-- materialized: table
-- grain: one row per keyword attached to at least one rated movie
-- sources: int_rated_movies, stg_keyword_mentions, stg_keywords, stg_staging_run
--
-- Which tags the rated catalogue carries, e.g. to pick keywords for browse rows or to weigh
-- content features in a recommender. The top keywords are tags such as "woman director" and
-- "duringcreditsstinger", not themes.
--
-- The rated movies' mentions are kept first and only they are deduplicated (a movie whose
-- keywords record appears twice in the file counts once). Keywords of movies nobody rated are
-- not listed (their count would be 0); ratings whose movieId has no tmdbId reach no keyword.
--
-- columns:
--   keyword_id        TMDB keyword id; primary key
--   keyword           the keyword, as first seen in keywords.csv
--   movie_count       distinct rated movies whose keywords include it
--   movie_count_rank  rank by movie_count, 1 = most common; ties share a rank
--   run_id            the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

rated_movies as (
    select
        int_rated_movies.movie_id
    from int_rated_movies
),

mentions as (
    select
        stg_keyword_mentions.movie_id,
        stg_keyword_mentions.keyword_id
    from stg_keyword_mentions
),

keywords as (
    select
        stg_keywords.keyword_id,
        stg_keywords.keyword
    from stg_keywords
),

-- one row per (rated movie, keyword): a repeated record or mention counts once
rated_movie_keywords as (
    select distinct
        mentions.movie_id,
        mentions.keyword_id
    from mentions
    where mentions.movie_id in (select rated_movies.movie_id from rated_movies)
),

counted as (
    select
        rated_movie_keywords.keyword_id,
        count(*) as movie_count
    from rated_movie_keywords
    group by rated_movie_keywords.keyword_id
),

-- ranked before the names are joined, so the window sorts no text
ranked as (
    select
        counted.keyword_id,
        counted.movie_count,
        rank() over (order by counted.movie_count desc) as movie_count_rank
    from counted
),

final as (
    select
        ranked.keyword_id,
        keywords.keyword,
        ranked.movie_count,
        ranked.movie_count_rank,
        staging_run.run_id
    from ranked
    inner join keywords on keywords.keyword_id = ranked.keyword_id
    cross join staging_run
)

select * from final
