-- stg_movielens_ratings: the ratings, renamed, in MovieLens ids only
--
-- materialized: view
-- grain: one row per rating of the ratings file (100,004 in ratings_small.csv)
-- sources: raw_ratings
--
-- The builds that read every rating (int_rating_histogram, user_rating_bias) and the check
-- user_bias_covers_users need MovieLens ids only, so they read this view rather than
-- stg_ratings: MySQL 9.7 keeps stg_ratings' join to stg_links even when no column of it is read
-- and looks up every rating's link (MariaDB drops it; docs/dialects.md). At 26M ratings on
-- MySQL 9.7 that join cost the check 43 s against 7.5 s.
--
-- columns:
--   user_id             MovieLens user id
--   movielens_movie_id  MovieLens movie id (not a TMDB id: stg_ratings.movie_id is that)
--   rating              stars, 0.5 to 5.0 in 0.5 steps
--   rated_at_unix       when, in Unix seconds

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

select * from final
