-- int_rating_histogram: how many times each movie got each rating
--
-- materialized: table
-- grain: one row per MovieLens movie of the ratings file and rating value it received (28,675
--   rows for the 100,004 ratings of ratings_small.csv; at most ten per movie)
-- sources: stg_movielens_ratings
--
-- The one pass over the ratings. Everything the derived tables need from a movie's ratings is a
-- function of this histogram: the count, the sum, the mean and every percentile. The builds
-- that read it (int_rated_movies, movie_rating_percentiles, user_rating_bias) read a table a
-- third to a hundredth the size of the ratings (26M ratings at full size: about 45,000 movies
-- times at most ten values).
--
-- columns:
--   movielens_movie_id  MovieLens movie id (the ratings file's movieId)
--   rating              a rating value the movie received, stars
--   rating_count        how many of its ratings have that value

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

select * from final
