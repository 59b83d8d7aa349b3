-- director_consistency: how good, and how reliably good, each director's films are
--
-- materialized: table
-- grain: one row per director (stg_movie_directors) of at least one rated movie
-- sources: int_movie_scores, stg_movie_directors, stg_movies, stg_staging_run
--
-- Whose next film is a safe bet: a high mean with a small spread is a reliable director, a high
-- mean with a large spread a risky one. Informs: acquisition and programming by director,
-- retrospectives (the best and the worst film side by side).
--
-- Each film counts once per director with its Bayesian weighted rating (int_movie_scores), so a
-- film with few ratings counts near the global mean rather than at its raw mean. A co-directed
-- film counts for each of its directors. The spread is the sample standard deviation of the
-- films' weighted ratings: NULL for a director with one rated film, and read it with caution
-- below three (is_low_sample). Best and worst film: the highest and lowest weighted rating, ties
-- to the lower movie_id.
--
-- columns:
--   person_id               the director's TMDB person id; primary key
--   director_name           the name credited (the smallest spelling when films differ)
--   films_rated             rated films the person directed
--   rating_count            MovieLens ratings of those films
--   mean_weighted_rating    mean of the films' weighted ratings, stars
--   weighted_rating_spread  sample standard deviation of the films' weighted ratings, stars;
--                           NULL with one film
--   best_movie_id           the film with the highest weighted rating
--   best_title              its title; NULL when the film is not in the metadata file
--   best_weighted_rating    its weighted rating, stars
--   worst_movie_id          the film with the lowest weighted rating (the best, with one film)
--   worst_title             its title; NULL when the film is not in the metadata file
--   worst_weighted_rating   its weighted rating, stars
--   is_low_sample           fewer than 3 rated films: the mean and spread say little
--   run_id                  the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

directors as (
    select
        stg_movie_directors.movie_id,
        stg_movie_directors.person_id,
        stg_movie_directors.director_name
    from stg_movie_directors
),

scores as (
    select
        int_movie_scores.movie_id,
        int_movie_scores.rating_count,
        int_movie_scores.weighted_rating
    from int_movie_scores
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title
    from stg_movies
),

-- each rated film of each director, with the director's best and worst film beside it
films as (
    select
        directors.person_id,
        directors.director_name,
        scores.movie_id,
        scores.rating_count,
        scores.weighted_rating,
        first_value(scores.movie_id) over (
            partition by directors.person_id
            order by scores.weighted_rating desc, scores.movie_id
        ) as best_movie_id,
        first_value(scores.movie_id) over (
            partition by directors.person_id
            order by scores.weighted_rating, scores.movie_id
        ) as worst_movie_id
    from directors
    inner join scores on scores.movie_id = directors.movie_id
),

per_director as (
    select
        films.person_id,
        min(films.director_name) as director_name,
        count(*) as films_rated,
        sum(films.rating_count) as rating_count,
        avg(films.weighted_rating) as mean_weighted_rating,
        stddev_samp(films.weighted_rating) as weighted_rating_spread,
        max(films.best_movie_id) as best_movie_id,
        max(films.worst_movie_id) as worst_movie_id
    from films
    group by films.person_id
),

final as (
    select
        per_director.person_id,
        per_director.director_name,
        per_director.films_rated,
        per_director.rating_count,
        cast(per_director.mean_weighted_rating as decimal(7, 4)) as mean_weighted_rating,
        cast(per_director.weighted_rating_spread as decimal(7, 4)) as weighted_rating_spread,
        per_director.best_movie_id,
        best_movie.title as best_title,
        cast(best_score.weighted_rating as decimal(7, 4)) as best_weighted_rating,
        per_director.worst_movie_id,
        worst_movie.title as worst_title,
        cast(worst_score.weighted_rating as decimal(7, 4)) as worst_weighted_rating,
        per_director.films_rated < 3 as is_low_sample,
        staging_run.run_id
    from per_director
    inner join scores as best_score on best_score.movie_id = per_director.best_movie_id
    inner join scores as worst_score on worst_score.movie_id = per_director.worst_movie_id
    left join movies as best_movie on best_movie.movie_id = per_director.best_movie_id
    left join movies as worst_movie on worst_movie.movie_id = per_director.worst_movie_id
    cross join staging_run
)

select * from final
