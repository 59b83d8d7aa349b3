-- severity: fail
-- description: one user_rating_bias row per rated user, leniency_percentile within 0..1
select
    stg_movielens_ratings.user_id,
    'rated user without a row' as problem
from stg_movielens_ratings
left join user_rating_bias on user_rating_bias.user_id = stg_movielens_ratings.user_id
where user_rating_bias.user_id is null
union all
select
    user_rating_bias.user_id,
    'leniency_percentile outside 0..1'
from user_rating_bias
where user_rating_bias.leniency_percentile < 0 or user_rating_bias.leniency_percentile > 1
