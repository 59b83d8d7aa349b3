-- user_rating_bias: how harsh or generous each user rates, against others on the same films
--
-- materialized: table
-- grain: one row per MovieLens user of the ratings file
-- sources: int_rating_histogram, stg_movielens_ratings
--
-- The user term b_u of a baseline recommender (prediction = global mean + b_u + b_i), and a way
-- to spot raters whose scores need normalising before averaging. Informs: recommender
-- baselines, normalised ratings, outlier review. Each movie's mean comes from the histogram:
-- sum(rating * count) / sum(count).
--
-- Caveat: each movie's mean includes the user's own rating, so on a film only this user rated
-- the offset is 0 and users of obscure films look neutral.
--
-- columns:
--   user_id              MovieLens user id; primary key
--   rating_count         ratings the user gave
--   mean_rating          the user's mean rating, stars
--   mean_offset          mean over the user's ratings of (rating - that movie's mean rating),
--                        stars: negative = harsher than others on the same films
--   leniency_percentile  percent_rank of mean_offset among users, 0 = harshest, 1 = most
--                        generous
--   first_rated_at_unix  Unix seconds of the user's first rating
--   last_rated_at_unix   Unix seconds of the user's last rating

with
ratings as (
    select
        stg_movielens_ratings.user_id,
        stg_movielens_ratings.movielens_movie_id,
        stg_movielens_ratings.rating,
        stg_movielens_ratings.rated_at_unix
    from stg_movielens_ratings
),

histogram as (
    select
        int_rating_histogram.movielens_movie_id,
        int_rating_histogram.rating,
        int_rating_histogram.rating_count
    from int_rating_histogram
),

movie_means as (
    select
        histogram.movielens_movie_id,
        sum(histogram.rating * histogram.rating_count) / sum(histogram.rating_count) as mean_rating
    from histogram
    group by histogram.movielens_movie_id
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

select * from final
