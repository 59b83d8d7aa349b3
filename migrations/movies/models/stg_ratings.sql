-- stg_ratings: the ratings with the TMDB id of their movie
--
-- materialized: view
-- grain: one row per rating of the ratings file
-- sources: stg_movielens_ratings, stg_links
--
-- stg_movielens_ratings left-joined to stg_links: movie_id is NULL when links has no tmdbId
-- for the movieId. No build reads it (they read stg_movielens_ratings and join stg_links
-- themselves where they need TMDB ids); it is the clean layer for ad-hoc queries.
--
-- columns:
--   user_id             MovieLens user id
--   movielens_movie_id  MovieLens movie id
--   movie_id            TMDB movie id through stg_links; NULL when links has no tmdbId
--   rating              stars, 0.5 to 5.0 in 0.5 steps
--   rated_at_unix       when, in Unix seconds

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

select * from final
