-- keyword_aggregates
--
-- Grain: one row per keyword attached to at least one rated movie.
-- Purpose: which themes the rated catalogue covers, e.g. to pick keywords for browse rows or to
--          weigh content features in a recommender.
-- Sources: stg_ratings (rated movies, by TMDB id through links), stg_movie_keywords, stg_keywords.
--
-- Columns
--   keyword_id          TMDB keyword id; primary key
--   keyword             the keyword, as first seen in keywords.csv
--   movie_count         distinct rated movies whose keywords include it (a movie whose keywords
--                       record appears twice in the file counts once)
--   movie_count_rank    rank by movie_count, 1 = most common; ties share a rank
--
-- "Rated movie": a TMDB id reached from a movieId of the ratings file through the links file.
-- Ratings whose movieId has no tmdbId in links cannot reach a keyword and do not count.
--
-- Rebuilt on every run from build_keyword_aggregates (copy, then RENAME TABLE).

create table if not exists keyword_aggregates (
    keyword_id bigint not null comment 'TMDB keyword id',
    keyword mediumtext not null comment 'the keyword, as first seen in keywords.csv',
    movie_count bigint not null comment 'distinct rated movies with this keyword',
    movie_count_rank bigint not null comment 'rank by movie_count, 1 = most common; ties share a rank',
    primary key (keyword_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per keyword of at least one rated movie';

create or replace view build_keyword_aggregates as
with
ratings as (
    select
        stg_ratings.movie_id
    from stg_ratings
),

movie_keywords as (
    select
        stg_movie_keywords.movie_id,
        stg_movie_keywords.keyword_id
    from stg_movie_keywords
),

keywords as (
    select
        stg_keywords.keyword_id,
        stg_keywords.keyword
    from stg_keywords
),

rated_movies as (
    select distinct
        ratings.movie_id
    from ratings
    where ratings.movie_id is not null
),

-- movie_keywords has one row per (movie, keyword), so count(*) counts distinct movies
counted as (
    select
        movie_keywords.keyword_id,
        count(*) as movie_count
    from movie_keywords
    inner join rated_movies on rated_movies.movie_id = movie_keywords.movie_id
    group by movie_keywords.keyword_id
),

final as (
    select
        counted.keyword_id,
        keywords.keyword,
        counted.movie_count,
        rank() over (order by counted.movie_count desc) as movie_count_rank
    from counted
    inner join keywords on keywords.keyword_id = counted.keyword_id
)

select * from final;
