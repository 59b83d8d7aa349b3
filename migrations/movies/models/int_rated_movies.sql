-- int_rated_movies: the rated movies, in TMDB ids, with their rating count and sum
--
-- materialized: table
-- grain: one row per rated movie (a TMDB id reached from the ratings file through stg_links)
-- sources: int_rating_histogram, stg_links
--
-- Read by keyword_aggregates, cast_member_aggregates and movie_genre_rankings. A TMDB id may be
-- reached from two MovieLens ids (links.csv maps 29 TMDB ids twice): the MovieLens movies are
-- summed first, then grouped by TMDB id. Ratings whose movieId has no tmdbId are left out.
--
-- columns:
--   movie_id      TMDB movie id
--   rating_count  ratings of the movie
--   rating_sum    sum of its ratings, stars

with
histogram as (
    select
        int_rating_histogram.movielens_movie_id,
        int_rating_histogram.rating,
        int_rating_histogram.rating_count
    from int_rating_histogram
),

links as (
    select
        stg_links.movielens_movie_id,
        stg_links.movie_id
    from stg_links
),

per_movielens_movie as (
    select
        histogram.movielens_movie_id,
        sum(histogram.rating_count) as rating_count,
        sum(histogram.rating * histogram.rating_count) as rating_sum
    from histogram
    group by histogram.movielens_movie_id
),

final as (
    select
        links.movie_id,
        sum(per_movielens_movie.rating_count) as rating_count,
        sum(per_movielens_movie.rating_sum) as rating_sum
    from per_movielens_movie
    inner join links on links.movielens_movie_id = per_movielens_movie.movielens_movie_id
    where links.movie_id is not null
    group by links.movie_id
)

select * from final
