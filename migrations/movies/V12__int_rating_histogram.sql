-- int_rating_histogram: how many times each movie got each rating, counted once per run
--
-- Grain: one row per MovieLens movie id of the ratings file and distinct rating value it received
--        (28,675 rows for the 100,004 ratings of ratings_small.csv; at most ten per movie, since
--        ratings are 0.5 to 5.0 in 0.5 steps).
-- Purpose: everything the derived tables need from the ratings, per movie, is a function of this
--          histogram: the count, the sum, the mean and every percentile. Until V12 three builds
--          (int_rated_movies, movie_rating_percentiles, the movie means of user_rating_bias) each
--          read and sorted or grouped every rating; now one `group by` reads them once, and those
--          builds read a table of a third to a hundredth of the size (26M ratings at full size:
--          about 45,000 movies times at most ten values).
-- Sources: stg_ratings.
--
-- Columns
--   movielens_movie_id  MovieLens movie id (the ratings file's movieId)
--   rating              a rating value the movie received, stars
--   rating_count        how many of its ratings have that value
--   primary key (movielens_movie_id, rating)
--
-- Rebuilt on every run from build_int_rating_histogram, before the tables that read it (the
-- runner orders the builds by the tables their views read; see migrations/README.md).
--
-- Also restated here, reading the histogram instead of every rating, with the same rows:
--   int_rated_movies          per TMDB movie: the movie's buckets summed through stg_links
--   movie_rating_percentiles  exact continuous percentiles from the cumulative counts (below)
--   user_rating_bias          each movie's mean as sum(rating * count) / sum(count)
--
-- Idempotent: `create table if not exists`, `create or replace view`.

create table if not exists int_rating_histogram (
    movielens_movie_id bigint not null comment 'MovieLens movie id (the ratings file movieId)',
    rating decimal(3, 1) not null comment 'a rating value the movie received, stars',
    rating_count bigint not null comment 'ratings of the movie with that value',
    primary key (movielens_movie_id, rating)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per rated MovieLens movie and rating value: how many ratings have it';

create or replace view build_int_rating_histogram as
with
ratings as (
    select
        stg_ratings.movielens_movie_id,
        stg_ratings.rating
    from stg_ratings
),

final as (
    select
        ratings.movielens_movie_id,
        ratings.rating,
        count(*) as rating_count
    from ratings
    group by ratings.movielens_movie_id, ratings.rating
)

select * from final;

-- int_rated_movies (V10): the same rows, summed from the histogram. A TMDB id may be reached from
-- two MovieLens ids (links.csv maps 29 TMDB ids twice), so the MovieLens movies are summed first
-- and then grouped by TMDB id.
create or replace view build_int_rated_movies as
with
histogram as (
    select
        int_rating_histogram.movielens_movie_id,
        int_rating_histogram.rating,
        int_rating_histogram.rating_count
    from int_rating_histogram
),

links as (
    select
        stg_links.movielens_movie_id,
        stg_links.movie_id
    from stg_links
),

per_movielens_movie as (
    select
        histogram.movielens_movie_id,
        sum(histogram.rating_count) as rating_count,
        sum(histogram.rating * histogram.rating_count) as rating_sum
    from histogram
    group by histogram.movielens_movie_id
),

final as (
    select
        links.movie_id,
        sum(per_movielens_movie.rating_count) as rating_count,
        sum(per_movielens_movie.rating_sum) as rating_sum
    from per_movielens_movie
    inner join links on links.movielens_movie_id = per_movielens_movie.movielens_movie_id
    where links.movie_id is not null
    group by links.movie_id
)

select * from final;

-- movie_rating_percentiles (V4): the same definition, computed on the histogram.
--
-- Percentile p sits at 0-based position p * (n - 1) of the movie's sorted ratings; its value is
-- value_at(floor) + (value_at(floor + 1) - value_at(floor)) * fraction. V4 numbered every rating
-- with row_number() and counted them with count(); here the histogram stands for the sorted list:
-- a running sum of the counts, in rating order, is the row number of the last rating of each
-- value (ratings_through), and the total is the count. The rating at 0-based position k is then
-- the lowest value whose ratings_through exceeds k. The windows run over at most ten rows per
-- movie instead of every rating; the positions are integer arithmetic (for p = 1/4:
-- floor = (n - 1) div 4, fraction = ((n - 1) mod 4) / 4), so the results are exact multiples of
-- 0.125 as before.
create or replace view build_movie_rating_percentiles as
with
histogram as (
    select
        int_rating_histogram.movielens_movie_id,
        int_rating_histogram.rating,
        int_rating_histogram.rating_count
    from int_rating_histogram
),

links as (
    select
        stg_links.movielens_movie_id,
        stg_links.movie_id
    from stg_links
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title
    from stg_movies
),

-- per rating value: how many of the movie's ratings are at or below it, and how many it has
cumulative as (
    select
        histogram.movielens_movie_id,
        histogram.rating,
        cast(
            sum(histogram.rating_count) over (
                partition by histogram.movielens_movie_id
                order by histogram.rating
                rows between unbounded preceding and current row
            ) as signed
        ) as ratings_through,
        cast(sum(histogram.rating_count) over (partition by histogram.movielens_movie_id) as signed) as rating_count
    from histogram
),

-- the values at the floor position of each percentile and at the position after it (NULL past
-- the last rating, where the fraction is 0)
per_movie as (
    select
        cumulative.movielens_movie_id,
        max(cumulative.rating_count) as rating_count,
        min(cumulative.rating) as min_rating,
        min(case when cumulative.ratings_through > (cumulative.rating_count - 1) div 4 then cumulative.rating end) as p25_floor_value,
        min(case when cumulative.ratings_through > (cumulative.rating_count - 1) div 4 + 1 then cumulative.rating end) as p25_next_value,
        min(case when cumulative.ratings_through > (cumulative.rating_count - 1) div 2 then cumulative.rating end) as p50_floor_value,
        min(case when cumulative.ratings_through > (cumulative.rating_count - 1) div 2 + 1 then cumulative.rating end) as p50_next_value,
        min(case when cumulative.ratings_through > 3 * (cumulative.rating_count - 1) div 4 then cumulative.rating end) as p75_floor_value,
        min(case when cumulative.ratings_through > 3 * (cumulative.rating_count - 1) div 4 + 1 then cumulative.rating end) as p75_next_value,
        max(cumulative.rating) as max_rating
    from cumulative
    group by cumulative.movielens_movie_id
),

interpolated as (
    select
        per_movie.movielens_movie_id,
        per_movie.rating_count,
        per_movie.min_rating,
        per_movie.p25_floor_value
            + (coalesce(per_movie.p25_next_value, per_movie.p25_floor_value) - per_movie.p25_floor_value)
            * ((per_movie.rating_count - 1) mod 4) / 4 as p25_rating,
        per_movie.p50_floor_value
            + (coalesce(per_movie.p50_next_value, per_movie.p50_floor_value) - per_movie.p50_floor_value)
            * ((per_movie.rating_count - 1) mod 2) / 2 as median_rating,
        per_movie.p75_floor_value
            + (coalesce(per_movie.p75_next_value, per_movie.p75_floor_value) - per_movie.p75_floor_value)
            * ((3 * (per_movie.rating_count - 1)) mod 4) / 4 as p75_rating,
        per_movie.max_rating
    from per_movie
),

final as (
    select
        interpolated.movielens_movie_id,
        links.movie_id,
        movies.title,
        interpolated.rating_count,
        cast(interpolated.min_rating as decimal(6, 3)) as min_rating,
        cast(interpolated.p25_rating as decimal(6, 3)) as p25_rating,
        cast(interpolated.median_rating as decimal(6, 3)) as median_rating,
        cast(interpolated.p75_rating as decimal(6, 3)) as p75_rating,
        cast(interpolated.max_rating as decimal(6, 3)) as max_rating,
        rank() over (order by interpolated.rating_count desc) as rating_count_rank
    from interpolated
    left join links on links.movielens_movie_id = interpolated.movielens_movie_id
    left join movies on movies.movie_id = links.movie_id
)

select * from final;

-- user_rating_bias (V11): each movie's mean from the histogram (the same decimal division as
-- avg(): sum over count), joined to every rating by MovieLens id.
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

select * from final;
