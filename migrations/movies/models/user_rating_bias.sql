-- user_rating_bias: how harsh or generous each user rates, against other users on the same films
--
-- materialized: table
-- grain: one row per MovieLens user of the ratings file
-- sources: int_rating_histogram, stg_movielens_ratings, stg_staging_run
--
-- The user term b_u of a baseline recommender (prediction = global mean + b_u + b_i), and a way
-- to spot raters whose scores need normalising before averaging. Informs: recommender
-- baselines, normalised ratings, outlier review.
--
-- Each rating r of a movie is compared with the mean of the other users' ratings of that movie
-- (leave-one-out): with S and n the sum and count of the movie's ratings, the offset is
-- r - (S - r) / (n - 1) = (n * r - S) / (n - 1). The user's own rating never pulls the reference
-- toward itself. A movie nobody else rated (n = 1) has nothing to compare with and is left out;
-- compared_count counts the ratings that remain. Every other rating of the movie is another
-- user's: the loader rejects a second rating of a movie by the same user (raw_rejects).
--
-- Users with few compared ratings are shrunk toward 0, a neutral rater:
-- shrunk_offset = (sum of the offsets) / (compared_count + 10), the regularised user bias of a
-- baseline predictor with a prior worth 10 ratings. A user with 10 compared ratings keeps half
-- of their raw mean offset, one with 190 keeps 95%. The leniency percentile ranks the shrunk
-- offset, so a user with two generous ratings does not outrank a consistently generous one.
--
-- columns:
--   user_id              MovieLens user id; primary key
--   rating_count         ratings the user gave
--   mean_rating          the user's mean rating, stars
--   compared_count       the user's ratings of movies that at least one other user rated
--   mean_offset          mean over those ratings of (rating - the other users' mean rating of
--                        the movie), stars: negative = harsher than others on the same films;
--                        NULL when compared_count is 0
--   shrunk_offset        sum of those offsets / (compared_count + 10), stars: mean_offset pulled
--                        toward 0 for users with few compared ratings; 0 when compared_count is 0
--   leniency_percentile  percent_rank of shrunk_offset among users, 0 = harshest, 1 = most
--                        generous; ties share the lower value
--   is_low_sample        compared_count below 10: the prior weighs more than the user's ratings
--   first_rated_at_unix  Unix seconds of the user's first rating
--   last_rated_at_unix   Unix seconds of the user's last rating
--   run_id               the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

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

-- per movie, the offset of a rating r is r * scale - shift: scale = n / (n - 1) and
-- shift = S / (n - 1), both 0 when nobody else rated it. Computed here, in a grouped step, so
-- the server materialises them once per movie, and the per-rating offset appears in one
-- aggregate only: a CTE without `group by` is merged into the query that reads it, its columns
-- copied as expressions wherever they are used (an offset column read by count, avg and sum was
-- computed three times per rating: 54 s against 22 s at 26 million ratings).
movie_terms as (
    select
        histogram.movielens_movie_id,
        sum(histogram.rating_count) > 1 as is_compared,
        case
            when sum(histogram.rating_count) > 1
                then cast(sum(histogram.rating_count) as double) / (sum(histogram.rating_count) - 1)
            else 0
        end as scale,
        case
            when sum(histogram.rating_count) > 1
                then cast(sum(histogram.rating * histogram.rating_count) as double)
                / (sum(histogram.rating_count) - 1)
            else 0
        end as shift
    from histogram
    group by histogram.movielens_movie_id
),

per_user as (
    select
        ratings.user_id,
        count(*) as rating_count,
        sum(ratings.rating) as rating_sum,
        sum(movie_terms.is_compared) as compared_count,
        sum(ratings.rating * movie_terms.scale - movie_terms.shift) as offset_sum,
        min(ratings.rated_at_unix) as first_rated_at_unix,
        max(ratings.rated_at_unix) as last_rated_at_unix
    from ratings
    inner join movie_terms on movie_terms.movielens_movie_id = ratings.movielens_movie_id
    group by ratings.user_id
),

rounded as (
    select
        per_user.user_id,
        per_user.rating_count,
        -- in double: a decimal average rounds to 5 places, and a second rounding to 4 can be off
        cast(cast(per_user.rating_sum as double) / per_user.rating_count as decimal(7, 4))
            as mean_rating,
        per_user.compared_count,
        cast(per_user.offset_sum / nullif(per_user.compared_count, 0) as decimal(7, 4))
            as mean_offset,
        cast(per_user.offset_sum / (per_user.compared_count + 10) as decimal(7, 4))
            as shrunk_offset,
        per_user.compared_count < 10 as is_low_sample,
        per_user.first_rated_at_unix,
        per_user.last_rated_at_unix
    from per_user
),

final as (
    select
        rounded.user_id,
        rounded.rating_count,
        rounded.mean_rating,
        rounded.compared_count,
        rounded.mean_offset,
        rounded.shrunk_offset,
        -- ranked on the stored (rounded) value, so equal offsets tie on every server
        percent_rank() over (order by rounded.shrunk_offset) as leniency_percentile,
        rounded.is_low_sample,
        rounded.first_rated_at_unix,
        rounded.last_rated_at_unix,
        staging_run.run_id
    from rounded
    cross join staging_run
)

select * from final
