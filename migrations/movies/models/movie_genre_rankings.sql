-- movie_genre_rankings: the best rated movies of each genre and decade, fairly weighted
--
-- materialized: table
-- grain: one row per rated movie and genre (a movie with three genres has three rows); only
--   movies whose TMDB id is in the metadata file, since genres come from there
-- sources: int_movie_scores, stg_movies, stg_movie_genres, stg_staging_run
--
-- Which titles to feature on a genre shelf, or a genre-and-decade shelf ("best of the 90s"),
-- without letting a film with two perfect ratings beat one with three hundred. Informs:
-- merchandising rows, editorial picks.
--
-- The weighted rating is int_movie_scores' Bayesian mean: ten "average" ratings of prior, so a
-- film needs many ratings to move far from the global mean C. The prior of 10 is a judgement
-- call: larger favours well-known films more.
--
-- columns:
--   genre_id              TMDB genre id
--   movie_id              TMDB movie id
--   genre_name            genre
--   title                 movie title
--   release_decade        first year of the release decade, e.g. 1990; NULL when the date is
--                         unknown
--   rating_count          ratings of the movie (all MovieLens ids that link to this TMDB id)
--   mean_rating           plain mean rating, stars
--   weighted_rating       Bayesian mean, stars: (sum of ratings + 10 * C) / (rating_count + 10),
--                         C the mean of all ratings
--   rank_in_genre         rank by weighted_rating within the genre, 1 = best; ties share a rank
--   rank_in_genre_decade  rank by weighted_rating within the genre and release decade, 1 = best
--   is_low_sample         fewer than 10 ratings: mean_rating says little, and the weighted
--                         rating is mostly prior
--   run_id                the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

scored as (
    select
        int_movie_scores.movie_id,
        int_movie_scores.rating_count,
        int_movie_scores.mean_rating,
        int_movie_scores.weighted_rating
    from int_movie_scores
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title,
        stg_movies.release_year
    from stg_movies
),

genres as (
    select
        stg_movie_genres.movie_id,
        stg_movie_genres.genre_id,
        stg_movie_genres.genre_name
    from stg_movie_genres
),

final as (
    select
        genres.genre_id,
        scored.movie_id,
        genres.genre_name,
        movies.title,
        floor(movies.release_year / 10) * 10 as release_decade,
        scored.rating_count,
        cast(scored.mean_rating as decimal(7, 4)) as mean_rating,
        cast(scored.weighted_rating as decimal(7, 4)) as weighted_rating,
        rank() over (partition by genres.genre_id order by scored.weighted_rating desc) as rank_in_genre,
        rank() over (
            partition by genres.genre_id, floor(movies.release_year / 10)
            order by scored.weighted_rating desc
        ) as rank_in_genre_decade,
        scored.rating_count < 10 as is_low_sample,
        staging_run.run_id
    from scored
    inner join movies on movies.movie_id = scored.movie_id
    inner join genres on genres.movie_id = scored.movie_id
    cross join staging_run
)

select * from final
