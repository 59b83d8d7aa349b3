-- user_rating_bias
--
-- Grain: one row per MovieLens user in the ratings file.
-- Purpose: how harsh or generous each user is compared with everyone else on the same films, the
--          user term b_u of a baseline recommender (prediction = global mean + b_u + b_i), and a
--          way to spot raters whose scores need normalising before averaging. Informs: recommender
--          baselines, normalised ratings, outlier review.
-- Sources: stg_ratings.
--
-- Columns
--   user_id               MovieLens user id
--   rating_count          ratings the user gave
--   mean_rating           the user's mean rating, stars
--   mean_offset           mean over the user's ratings of (rating - that movie's mean rating), stars:
--                         negative = harsher than others on the same films
--   leniency_percentile   percent_rank of mean_offset among users, 0 = harshest, 1 = most generous
--   first_rated_at_unix   Unix seconds of the user's first rating
--   last_rated_at_unix    Unix seconds of the user's last rating
--
-- Rebuilt on every run from build_user_rating_bias (copy, then RENAME TABLE).

create table if not exists user_rating_bias (
    user_id bigint not null comment 'MovieLens user id',
    rating_count bigint not null comment 'ratings the user gave',
    mean_rating decimal(7, 4) not null comment 'mean rating, stars',
    mean_offset decimal(7, 4) not null comment 'mean of (rating - movie mean rating), stars; negative = harsher',
    leniency_percentile double not null comment 'percent_rank of mean_offset, 0 = harshest, 1 = most generous',
    first_rated_at_unix bigint not null comment 'Unix seconds of the first rating',
    last_rated_at_unix bigint not null comment 'Unix seconds of the last rating',
    primary key (user_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per user: rating bias against the same films';

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

-- each rating next to the mean rating of its movie
with_movie_mean as (
    select
        ratings.user_id,
        ratings.rating,
        ratings.rated_at_unix,
        ratings.rating - avg(ratings.rating) over (partition by ratings.movielens_movie_id) as offset_from_movie_mean
    from ratings
),

per_user as (
    select
        with_movie_mean.user_id,
        count(*) as rating_count,
        avg(with_movie_mean.rating) as mean_rating,
        avg(with_movie_mean.offset_from_movie_mean) as mean_offset,
        min(with_movie_mean.rated_at_unix) as first_rated_at_unix,
        max(with_movie_mean.rated_at_unix) as last_rated_at_unix
    from with_movie_mean
    group by with_movie_mean.user_id
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
