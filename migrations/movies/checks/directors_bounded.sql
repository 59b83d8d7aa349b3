-- severity: fail
-- description: director_consistency: worst <= mean <= best, a spread exactly when two or more films
select
    director_consistency.person_id,
    'mean_weighted_rating outside worst..best' as problem
from director_consistency
where director_consistency.mean_weighted_rating < director_consistency.worst_weighted_rating
    or director_consistency.mean_weighted_rating > director_consistency.best_weighted_rating
union all
select
    director_consistency.person_id,
    'weighted_rating_spread NULL with several films, or set with one'
from director_consistency
where (director_consistency.weighted_rating_spread is null) <> (director_consistency.films_rated = 1)
union all
select
    director_consistency.person_id,
    'films_rated below 1, or is_low_sample disagrees with films_rated < 3'
from director_consistency
where director_consistency.films_rated < 1
    or director_consistency.is_low_sample <> (director_consistency.films_rated < 3)
