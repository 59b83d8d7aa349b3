-- stg_movielens_ratings: the ratings without the TMDB mapping, for the builds that never use it
--
-- Grain: one row per rating in the ratings file (100,004 in ratings_small.csv).
-- Purpose: stg_ratings left-joins each rating to stg_links for its TMDB id. MariaDB drops that
--          join from a query that reads no column of stg_links ("table elimination"); MySQL 9.7
--          keeps it and looks up every rating's link, even where only MovieLens ids are read
--          (docs/dialects.md). The two builds that read every rating, int_rating_histogram and
--          user_rating_bias, only need MovieLens ids, so they read this view instead, and
--          int_rating_histogram no longer waits for stg_links to be built.
--          On the real ratings_small.csv, `select count(*)` over the V12 and the V14 view,
--          alternating, four times each, on MySQL 9.7: the histogram 0.25-0.34 s before and
--          0.11-0.14 s after, user_rating_bias 0.31-0.43 s and 0.17-0.21 s; on MariaDB 10.11
--          0.05-0.10 s and 0.05-0.08 s, 0.12-0.15 s and 0.10-0.14 s (no join to remove there).
-- Sources: raw_ratings.
--
-- Columns
--   user_id             MovieLens user id
--   movielens_movie_id  MovieLens movie id (not a TMDB id: stg_ratings.movie_id is that)
--   rating              stars, 0.5 to 5.0 in 0.5 steps
--   rated_at_unix       when, in Unix seconds
--
-- stg_ratings is restated on top of it (the same columns and rows: these ratings left-joined to
-- stg_links for movie_id), so the renames live in one place. The data check
-- user_bias_covers_users reads stg_movielens_ratings too (at 26M ratings on MySQL 9.7: 43 s
-- through stg_ratings, 7.5 s without the join).
--
-- Idempotent: `create or replace view`.

create or replace view stg_movielens_ratings as
with
ratings as (
    select
        raw_ratings.userId,
        raw_ratings.movieId,
        raw_ratings.rating,
        raw_ratings.timestamp
    from raw_ratings
),

final as (
    select
        ratings.userId as user_id,
        ratings.movieId as movielens_movie_id,
        ratings.rating,
        ratings.timestamp as rated_at_unix
    from ratings
)

select * from final;

-- stg_ratings (V3): the same ratings with the TMDB id from stg_links (NULL when links has none)
create or replace view stg_ratings as
with
ratings as (
    select
        stg_movielens_ratings.user_id,
        stg_movielens_ratings.movielens_movie_id,
        stg_movielens_ratings.rating,
        stg_movielens_ratings.rated_at_unix
    from stg_movielens_ratings
),

links as (
    select
        stg_links.movielens_movie_id,
        stg_links.movie_id
    from stg_links
),

final as (
    select
        ratings.user_id,
        ratings.movielens_movie_id,
        links.movie_id,
        ratings.rating,
        ratings.rated_at_unix
    from ratings
    left join links on links.movielens_movie_id = ratings.movielens_movie_id
)

select * from final;

-- int_rating_histogram (V12): the same rows, from stg_movielens_ratings
create or replace view build_int_rating_histogram as
with
ratings as (
    select
        stg_movielens_ratings.movielens_movie_id,
        stg_movielens_ratings.rating
    from stg_movielens_ratings
),

final as (
    select
        ratings.movielens_movie_id,
        ratings.rating,
        count(*) as rating_count
    from ratings
    group by ratings.movielens_movie_id, ratings.rating
)

select * from final;

-- user_rating_bias (V12): the same rows, from stg_movielens_ratings
create or replace view build_user_rating_bias as
with
ratings as (
    select
        stg_movielens_ratings.user_id,
        stg_movielens_ratings.movielens_movie_id,
        stg_movielens_ratings.rating,
        stg_movielens_ratings.rated_at_unix
    from stg_movielens_ratings
),

histogram as (
    select
        int_rating_histogram.movielens_movie_id,
        int_rating_histogram.rating,
        int_rating_histogram.rating_count
    from int_rating_histogram
),

movie_means as (
    select
        histogram.movielens_movie_id,
        sum(histogram.rating * histogram.rating_count) / sum(histogram.rating_count) as mean_rating
    from histogram
    group by histogram.movielens_movie_id
),

-- each rating next to the mean rating of its movie
per_user as (
    select
        ratings.user_id,
        count(*) as rating_count,
        avg(ratings.rating) as mean_rating,
        avg(ratings.rating - movie_means.mean_rating) as mean_offset,
        min(ratings.rated_at_unix) as first_rated_at_unix,
        max(ratings.rated_at_unix) as last_rated_at_unix
    from ratings
    inner join movie_means on movie_means.movielens_movie_id = ratings.movielens_movie_id
    group by ratings.user_id
),

final as (
    select
        per_user.user_id,
        per_user.rating_count,
        cast(per_user.mean_rating as decimal(7, 4)) as mean_rating,
        cast(per_user.mean_offset as decimal(7, 4)) as mean_offset,
        percent_rank() over (order by per_user.mean_offset) as leniency_percentile,
        per_user.first_rated_at_unix,
        per_user.last_rated_at_unix
    from per_user
)

select * from final;
