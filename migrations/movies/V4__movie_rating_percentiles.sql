-- movie_rating_percentiles
--
-- Grain: one row per rated movie: every distinct movieId of the ratings file.
-- Purpose: the spread of each movie's ratings, not just its mean: a 4.0 median with p25 of 3.5
--          is a consensus, the same median with p25 of 2.0 is a divisive film.
-- Sources: stg_ratings, stg_links (MovieLens -> TMDB id), stg_movies (title).
--
-- Columns
--   movielens_movie_id  MovieLens movie id (the ratings file's movieId); primary key
--   movie_id            TMDB movie id through the links file; NULL when links has no tmdbId
--   title               from the metadata file; NULL when the metadata has no such TMDB id
--   rating_count        number of ratings
--   min_rating          lowest rating, stars
--   p25_rating          25th percentile, stars
--   median_rating       50th percentile, stars
--   p75_rating          75th percentile, stars
--   max_rating          highest rating, stars
--   rating_count_rank   rank by rating_count, 1 = most rated (ties share a rank)
--
-- Percentiles are continuous with linear interpolation, the definition of PostgreSQL's
-- percentile_cont and of pandas' default quantile: percentile p sits at 0-based position
-- p * (n - 1) of the sorted ratings, between the values at floor and floor + 1. MySQL has no
-- percentile_cont and MariaDB has it only as a window function, so the positions are computed with
-- row_number() and count() windows. Ratings are exact decimals in 0.5 steps, so every percentile is
-- an exact multiple of 0.125.
--
-- Rebuilt on every run: the runner fills a copy of the table from build_movie_rating_percentiles
-- and swaps it in with RENAME TABLE.

create table if not exists movie_rating_percentiles (
    movielens_movie_id bigint not null comment 'MovieLens movie id (the ratings file movieId)',
    movie_id bigint null comment 'TMDB movie id through links; NULL when links has no tmdbId',
    title mediumtext null comment 'title from metadata; NULL when metadata lacks the TMDB id',
    rating_count bigint not null comment 'number of ratings',
    min_rating decimal(6, 3) not null comment 'lowest rating, stars',
    p25_rating decimal(6, 3) not null comment '25th percentile (linear interpolation), stars',
    median_rating decimal(6, 3) not null comment '50th percentile (linear interpolation), stars',
    p75_rating decimal(6, 3) not null comment '75th percentile (linear interpolation), stars',
    max_rating decimal(6, 3) not null comment 'highest rating, stars',
    rating_count_rank bigint not null comment 'rank by rating_count, 1 = most rated; ties share a rank',
    primary key (movielens_movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per rated movie: rating count and percentiles';

create or replace view build_movie_rating_percentiles as
with
ratings as (
    select
        stg_ratings.movielens_movie_id,
        stg_ratings.rating
    from stg_ratings
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

-- each rating's 0-based position among its movie's sorted ratings, and the movie's count
ranked as (
    select
        ratings.movielens_movie_id,
        ratings.rating,
        row_number() over (partition by ratings.movielens_movie_id order by ratings.rating) - 1 as position_index,
        count(*) over (partition by ratings.movielens_movie_id) as rating_count
    from ratings
),

-- percentile p sits at position p * (n - 1): its floor, and the fraction of the way to the next value
positions as (
    select
        ranked.movielens_movie_id,
        ranked.rating,
        ranked.position_index,
        ranked.rating_count,
        floor(0.25 * (ranked.rating_count - 1)) as p25_floor,
        0.25 * (ranked.rating_count - 1) - floor(0.25 * (ranked.rating_count - 1)) as p25_fraction,
        floor(0.50 * (ranked.rating_count - 1)) as p50_floor,
        0.50 * (ranked.rating_count - 1) - floor(0.50 * (ranked.rating_count - 1)) as p50_fraction,
        floor(0.75 * (ranked.rating_count - 1)) as p75_floor,
        0.75 * (ranked.rating_count - 1) - floor(0.75 * (ranked.rating_count - 1)) as p75_fraction
    from ranked
),

-- value = value_at(floor) * (1 - fraction) + value_at(floor + 1) * fraction
per_movie as (
    select
        positions.movielens_movie_id,
        max(positions.rating_count) as rating_count,
        min(positions.rating) as min_rating,
        sum(
            case
                when positions.position_index = positions.p25_floor then positions.rating * (1 - positions.p25_fraction)
                when positions.position_index = positions.p25_floor + 1 then positions.rating * positions.p25_fraction
                else 0
            end
        ) as p25_rating,
        sum(
            case
                when positions.position_index = positions.p50_floor then positions.rating * (1 - positions.p50_fraction)
                when positions.position_index = positions.p50_floor + 1 then positions.rating * positions.p50_fraction
                else 0
            end
        ) as median_rating,
        sum(
            case
                when positions.position_index = positions.p75_floor then positions.rating * (1 - positions.p75_fraction)
                when positions.position_index = positions.p75_floor + 1 then positions.rating * positions.p75_fraction
                else 0
            end
        ) as p75_rating,
        max(positions.rating) as max_rating
    from positions
    group by positions.movielens_movie_id
),

final as (
    select
        per_movie.movielens_movie_id,
        links.movie_id,
        movies.title,
        per_movie.rating_count,
        cast(per_movie.min_rating as decimal(6, 3)) as min_rating,
        cast(per_movie.p25_rating as decimal(6, 3)) as p25_rating,
        cast(per_movie.median_rating as decimal(6, 3)) as median_rating,
        cast(per_movie.p75_rating as decimal(6, 3)) as p75_rating,
        cast(per_movie.max_rating as decimal(6, 3)) as max_rating,
        rank() over (order by per_movie.rating_count desc) as rating_count_rank
    from per_movie
    left join links on links.movielens_movie_id = per_movie.movielens_movie_id
    left join movies on movies.movie_id = links.movie_id
)

select * from final;
