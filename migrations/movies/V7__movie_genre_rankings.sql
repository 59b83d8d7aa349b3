-- movie_genre_rankings
--
-- Grain: one row per rated movie and genre (a movie with three genres has three rows); only movies
--        whose TMDB id is in the metadata file, since genres come from there.
-- Purpose: which titles to feature on a genre shelf, or a genre-and-decade shelf, without letting a
--          film with two perfect ratings beat one with three hundred. Informs: merchandising rows,
--          "best of the 90s" lists, editorial picks.
-- Sources: stg_ratings (by TMDB id through links), stg_movies (title, release year),
--          stg_movie_genres.
--
-- Columns
--   genre_id               TMDB genre id
--   movie_id               TMDB movie id
--   genre_name             genre
--   title                  movie title
--   release_decade         first year of the release decade, e.g. 1990; NULL when the date is unknown
--   rating_count           ratings of the movie (all MovieLens ids that link to this TMDB id)
--   mean_rating            plain mean rating, stars
--   weighted_rating        Bayesian mean, stars: (sum of ratings + 10 * C) / (rating_count + 10),
--                          with C the mean of all ratings: ten "average" ratings of prior, so a
--                          film needs many ratings to move far from C
--   rank_in_genre          rank by weighted_rating within the genre, 1 = best (ties share a rank)
--   rank_in_genre_decade   rank by weighted_rating within the genre and release decade
--
-- Rebuilt on every run from build_movie_genre_rankings (copy, then RENAME TABLE).

create table if not exists movie_genre_rankings (
    genre_id bigint not null comment 'TMDB genre id',
    movie_id bigint not null comment 'TMDB movie id',
    genre_name mediumtext not null comment 'genre',
    title mediumtext null comment 'movie title',
    release_decade int null comment 'first year of the release decade; NULL when unknown',
    rating_count bigint not null comment 'ratings of the movie',
    mean_rating decimal(7, 4) not null comment 'mean rating, stars',
    weighted_rating decimal(7, 4) not null comment 'Bayesian mean with 10 prior ratings at the global mean, stars',
    rank_in_genre bigint not null comment 'rank by weighted_rating within the genre, 1 = best',
    rank_in_genre_decade bigint not null comment 'rank by weighted_rating within genre and decade, 1 = best',
    primary key (genre_id, movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per rated movie and genre, ranked by Bayesian-weighted rating';

create or replace view build_movie_genre_rankings as
with
ratings as (
    select
        stg_ratings.movie_id,
        stg_ratings.rating
    from stg_ratings
    where stg_ratings.movie_id is not null
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title,
        stg_movies.release_year
    from stg_movies
),

genres as (
    select
        stg_movie_genres.movie_id,
        stg_movie_genres.genre_id,
        stg_movie_genres.genre_name
    from stg_movie_genres
),

per_movie as (
    select
        ratings.movie_id,
        count(*) as rating_count,
        sum(ratings.rating) as rating_sum
    from ratings
    group by ratings.movie_id
),

-- the prior: 10 ratings at the mean of every rating
prior as (
    select
        avg(ratings.rating) as global_mean_rating,
        10 as prior_rating_count
    from ratings
),

scored as (
    select
        per_movie.movie_id,
        per_movie.rating_count,
        per_movie.rating_sum / per_movie.rating_count as mean_rating,
        (per_movie.rating_sum + prior.prior_rating_count * prior.global_mean_rating)
            / (per_movie.rating_count + prior.prior_rating_count) as weighted_rating
    from per_movie
    cross join prior
),

final as (
    select
        genres.genre_id,
        scored.movie_id,
        genres.genre_name,
        movies.title,
        floor(movies.release_year / 10) * 10 as release_decade,
        scored.rating_count,
        cast(scored.mean_rating as decimal(7, 4)) as mean_rating,
        cast(scored.weighted_rating as decimal(7, 4)) as weighted_rating,
        rank() over (partition by genres.genre_id order by scored.weighted_rating desc) as rank_in_genre,
        rank() over (
            partition by genres.genre_id, floor(movies.release_year / 10)
            order by scored.weighted_rating desc
        ) as rank_in_genre_decade
    from scored
    inner join movies on movies.movie_id = scored.movie_id
    inner join genres on genres.movie_id = scored.movie_id
)

select * from final;
