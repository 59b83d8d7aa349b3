-- user_rating_bias (V8), rebuilt from each movie's mean computed once
--
-- Grain, purpose and columns: unchanged, see V8__user_rating_bias.sql.
-- Sources: stg_ratings.
--
-- What changed: V8 put every rating next to its movie's mean with a window,
-- `avg(rating) over (partition by movielens_movie_id)`, which sorts all ratings by movie. At full
-- size (26M ratings) that sort took 2-3 minutes. Here the movie means come from one `group by`
-- (one pass, 45,115 groups) joined back by movie id: 35 s at full size, the same 0.13 s on
-- ratings_small.csv, and the same rows, to the last digit (the same `avg` of the same decimals).
-- The ranking of users stays a window (percent_rank over the 270,896 per-user rows).
--
-- Idempotent: `create or replace view`.

create or replace view build_user_rating_bias as
with
ratings as (
    select
        stg_ratings.user_id,
        stg_ratings.movielens_movie_id,
        stg_ratings.rating,
        stg_ratings.rated_at_unix
    from stg_ratings
),

movie_means as (
    select
        ratings.movielens_movie_id,
        avg(ratings.rating) as mean_rating
    from ratings
    group by ratings.movielens_movie_id
),

-- each rating next to the mean rating of its movie
per_user as (
    select
        ratings.user_id,
        count(*) as rating_count,
        avg(ratings.rating) as mean_rating,
        avg(ratings.rating - movie_means.mean_rating) as mean_offset,
        min(ratings.rated_at_unix) as first_rated_at_unix,
        max(ratings.rated_at_unix) as last_rated_at_unix
    from ratings
    inner join movie_means on movie_means.movielens_movie_id = ratings.movielens_movie_id
    group by ratings.user_id
),

final as (
    select
        per_user.user_id,
        per_user.rating_count,
        cast(per_user.mean_rating as decimal(7, 4)) as mean_rating,
        cast(per_user.mean_offset as decimal(7, 4)) as mean_offset,
        percent_rank() over (order by per_user.mean_offset) as leniency_percentile,
        per_user.first_rated_at_unix,
        per_user.last_rated_at_unix
    from per_user
)

select * from final;
