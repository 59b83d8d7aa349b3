-- int_movie_scores: each rated movie's mean and Bayesian weighted rating
--
-- materialized: table
-- grain: one row per rated movie (a TMDB id reached from the ratings file, as int_rated_movies)
-- sources: int_rated_movies
--
-- Read by movie_genre_rankings, movie_hidden_gems, movie_financials and director_consistency,
-- so the weighted rating has one definition. It is a Bayesian mean: ten "average" ratings of
-- prior, so a film needs many ratings to move far from the global mean C, the mean of every
-- rating of a rated movie. The prior of 10 is a judgement call: larger favours well-known films
-- more. C comes to 5 decimal places and each weighted rating to the 9 its division gives; the
-- tables that rank by it use that precision, so films do not tie by rounding.
--
-- columns:
--   movie_id         TMDB movie id
--   rating_count     ratings of the movie (all MovieLens ids that link to this TMDB id)
--   mean_rating      plain mean rating, stars
--   weighted_rating  Bayesian mean, stars: (sum of ratings + 10 * C) / (rating_count + 10)

with
per_movie as (
    select
        int_rated_movies.movie_id,
        int_rated_movies.rating_count,
        int_rated_movies.rating_sum
    from int_rated_movies
),

-- the prior: 10 ratings at the mean of every rating (of a rated movie)
prior as (
    select
        sum(per_movie.rating_sum) / sum(per_movie.rating_count) as global_mean_rating,
        10 as prior_rating_count
    from per_movie
),

final as (
    select
        per_movie.movie_id,
        per_movie.rating_count,
        per_movie.rating_sum / per_movie.rating_count as mean_rating,
        (per_movie.rating_sum + prior.prior_rating_count * prior.global_mean_rating)
            / (per_movie.rating_count + prior.prior_rating_count) as weighted_rating
    from per_movie
    cross join prior
)

select * from final
