-- severity: fail
-- description: one user_rating_bias row per rated user, its offsets in range and shrunk toward 0
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
union all
select
    user_rating_bias.user_id,
    'compared_count above rating_count, or is_low_sample not compared_count < 10'
from user_rating_bias
where user_rating_bias.compared_count > user_rating_bias.rating_count
    or user_rating_bias.is_low_sample <> (user_rating_bias.compared_count < 10)
union all
select
    user_rating_bias.user_id,
    'mean_offset outside -4.5..4.5, or NULL exactly when nothing was compared'
from user_rating_bias
where abs(user_rating_bias.mean_offset) > 4.5
    or (user_rating_bias.mean_offset is null) <> (user_rating_bias.compared_count = 0)
union all
select
    user_rating_bias.user_id,
    'shrunk_offset is not mean_offset * compared_count / (compared_count + 10)'
from user_rating_bias
where abs(
        user_rating_bias.shrunk_offset
        - coalesce(user_rating_bias.mean_offset, 0) * user_rating_bias.compared_count
        / (user_rating_bias.compared_count + 10)
    ) > 0.00011
