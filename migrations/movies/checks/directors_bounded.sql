-- severity: fail
-- description: director_consistency: best and worst are the director's highest and lowest rated films, a spread exactly when two or more
with
films as (
    select
        stg_movie_directors.person_id,
        cast(int_movie_scores.weighted_rating as decimal(7, 4)) as weighted_rating
    from stg_movie_directors
    inner join int_movie_scores on int_movie_scores.movie_id = stg_movie_directors.movie_id
),

extremes as (
    select
        films.person_id,
        count(*) as films_rated,
        max(films.weighted_rating) as best_weighted_rating,
        min(films.weighted_rating) as worst_weighted_rating
    from films
    group by films.person_id
)

select
    director_consistency.person_id,
    'films_rated, best or worst rating differ from the director''s films' as problem
from director_consistency
left join extremes on extremes.person_id = director_consistency.person_id
where extremes.person_id is null
    or director_consistency.films_rated <> extremes.films_rated
    or director_consistency.best_weighted_rating <> extremes.best_weighted_rating
    or director_consistency.worst_weighted_rating <> extremes.worst_weighted_rating
union all
select
    extremes.person_id,
    'director of a rated film without a row'
from extremes
left join director_consistency on director_consistency.person_id = extremes.person_id
where director_consistency.person_id is null
union all
select
    director_consistency.person_id,
    'best or worst film not directed by the person, or not rated as its column says'
from director_consistency
left join stg_movie_directors as best
    on best.person_id = director_consistency.person_id
    and best.movie_id = director_consistency.best_movie_id
left join stg_movie_directors as worst
    on worst.person_id = director_consistency.person_id
    and worst.movie_id = director_consistency.worst_movie_id
left join int_movie_scores as best_score on best_score.movie_id = director_consistency.best_movie_id
left join int_movie_scores as worst_score on worst_score.movie_id = director_consistency.worst_movie_id
where best.movie_id is null or worst.movie_id is null
    or best_score.movie_id is null or worst_score.movie_id is null
    or cast(best_score.weighted_rating as decimal(7, 4)) <> director_consistency.best_weighted_rating
    or cast(worst_score.weighted_rating as decimal(7, 4)) <> director_consistency.worst_weighted_rating
union all
select
    director_consistency.person_id,
    'mean outside worst..best, a spread with one film or none with several, or is_low_sample wrong'
from director_consistency
where director_consistency.mean_weighted_rating < director_consistency.worst_weighted_rating
    or director_consistency.mean_weighted_rating > director_consistency.best_weighted_rating
    or (director_consistency.weighted_rating_spread is null) <> (director_consistency.films_rated = 1)
    or director_consistency.is_low_sample <> (director_consistency.films_rated < 3)
