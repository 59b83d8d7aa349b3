-- movie_rating_percentiles: the spread of each rated movie's ratings
--
-- materialized: table
-- grain: one row per rated movie: every distinct movieId of the ratings file (9,066 with
--   ratings_small.csv)
-- sources: int_rating_histogram, stg_links, stg_movies, stg_staging_run
--
-- The spread of each movie's ratings, not just its mean: a median of 4.0 with p25 of 3.5 is a
-- consensus; the same median with p25 of 2.0 is a divisive film.
--
-- Percentiles are continuous with linear interpolation (PostgreSQL's percentile_cont, pandas'
-- default quantile): percentile p sits at 0-based position p * (n - 1) of the movie's sorted
-- ratings, between the values at floor and floor + 1. MySQL has no percentile_cont and
-- MariaDB has it only as a window function, so the histogram stands for the sorted list: a
-- running sum of its counts, in rating order, is the position of the last rating of each value
-- (ratings_through), and the rating at 0-based position k is the lowest value whose
-- ratings_through exceeds k. The positions are integer arithmetic (for p = 1/4:
-- floor = (n - 1) div 4, fraction = ((n - 1) mod 4) / 4), and ratings are multiples of 0.5, so
-- every percentile is an exact multiple of 0.125.
--
-- Example: The Shawshank Redemption (movieId 318, TMDB 278): 311 ratings, min 1.0, p25 4.0,
-- median 5.0, p75 5.0, max 5.0. A test checks these numbers and every movie against a reference
-- computed from the real ratings_small.csv, on both servers (tests/movie_tables.rs).
--
-- Caveats. A third of the rated movies have a single rating (min = p25 = median = p75 = max):
-- weigh a row by rating_count, or filter on is_low_sample. A NULL title means the two id spaces
-- did not meet or the metadata lacks the film, not "no such film" (title_missing_reason says
-- which): with the full movies_metadata.csv nearly every rated movie has one, with a partial
-- file (the 4,627-record sample) most do not.
--
-- columns:
--   movielens_movie_id    MovieLens movie id (the ratings file's movieId); primary key
--   movie_id              TMDB movie id through stg_links; NULL when links has no tmdbId (13
--                         movies of links_small.csv, e.g. 720, 721, 769)
--   title                 from the metadata file; NULL when there is none (title_missing_reason)
--   rating_count          number of ratings
--   min_rating            lowest rating, stars
--   p25_rating            25th percentile (linear interpolation), stars
--   median_rating         50th percentile (linear interpolation), stars
--   p75_rating            75th percentile (linear interpolation), stars
--   max_rating            highest rating, stars
--   rating_count_rank     rank by rating_count, 1 = most rated; ties share a rank
--   is_low_sample         fewer than 10 ratings: the percentiles describe a handful of ratings
--                         (with one rating, min = p25 = median = p75 = max)
--   title_missing_reason  why title is NULL: movieId not in the links file, no TMDB id in the
--                         links file, TMDB id not in the metadata file, or no title in the
--                         metadata; NULL when there is a title
--   run_id                the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

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
        rank() over (order by interpolated.rating_count desc) as rating_count_rank,
        interpolated.rating_count < 10 as is_low_sample,
        case
            when links.movielens_movie_id is null then 'movieId not in the links file'
            when links.movie_id is null then 'no TMDB id in the links file'
            when movies.movie_id is null then 'TMDB id not in the metadata file'
            when movies.title is null then 'no title in the metadata'
        end as title_missing_reason,
        staging_run.run_id
    from interpolated
    left join links on links.movielens_movie_id = interpolated.movielens_movie_id
    left join movies on movies.movie_id = links.movie_id
    cross join staging_run
)

select * from final
