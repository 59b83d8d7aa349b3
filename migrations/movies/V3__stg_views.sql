-- stg_ views: the raw data renamed, cast and deduplicated, once
--
-- Grain and purpose, per view:
--   stg_movies          one row per TMDB movie id in movies_metadata.csv (the first record of an
--                       id that appears more than once)
--   stg_movie_genres    one row per movie and genre (of that first record)
--   stg_links           one row per MovieLens movie id, with its TMDB and IMDb ids
--   stg_ratings         one row per rating, with the TMDB id reached through stg_links
--   stg_movie_keywords  one row per movie and keyword (duplicate keyword records count once)
--   stg_keywords        one row per keyword id, with the name it first appears with
--   stg_movie_cast      one row per movie and person in its cast (two roles count once)
--   stg_people          one row per person id in any cast list, with the name first seen
-- Sources: the raw_ tables (migrations V2); nothing else reads raw_.
--
-- Columns (units in names; NULL where the source is empty or not a valid value)
--   movie_id              TMDB movie id
--   movielens_movie_id    MovieLens movie id (ratings and links only)
--   imdb_id               IMDb id, `tt` + 7 digits
--   title                 display title
--   release_date          release date; release_year its year
--   popularity_score      TMDB popularity (unitless, higher = more popular)
--   vote_average          TMDB vote average, 0-10
--   vote_count            number of TMDB votes
--   budget_usd, revenue_usd   US dollars, NULL when 0 or missing
--   runtime_minutes       minutes
--   genre_id, genre_name  TMDB genre
--   user_id               MovieLens user id
--   rating                stars, 0.5-5.0 in 0.5 steps
--   rated_at_unix         Unix seconds of the rating
--   keyword_id, keyword   TMDB keyword
--   person_id, person_name    TMDB person (the `id` of a cast element, not cast_id or credit_id)
--
-- Views, so they are always current and cost nothing to re-run.

create or replace view stg_movies as
with
metadata as (
    select
        raw_movies_metadata.line_number,
        raw_movies_metadata.id,
        raw_movies_metadata.imdb_id,
        raw_movies_metadata.title,
        raw_movies_metadata.original_language,
        raw_movies_metadata.release_date,
        raw_movies_metadata.popularity,
        raw_movies_metadata.vote_average,
        raw_movies_metadata.vote_count,
        raw_movies_metadata.budget,
        raw_movies_metadata.revenue,
        raw_movies_metadata.runtime,
        raw_movies_metadata.adult
    from raw_movies_metadata
),

-- ids repeat in the file: keep the first record of each
ranked as (
    select
        metadata.*,
        row_number() over (partition by metadata.id order by metadata.line_number) as occurrence
    from metadata
),

final as (
    select
        ranked.id as movie_id,
        ranked.line_number as source_line_number,
        nullif(ranked.imdb_id, '') as imdb_id,
        nullif(ranked.title, '') as title,
        nullif(ranked.original_language, '') as original_language,
        case
            when ranked.release_date regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                then cast(ranked.release_date as date)
        end as release_date,
        case
            when ranked.release_date regexp '^[0-9]{4}-'
                then cast(left(ranked.release_date, 4) as unsigned)
        end as release_year,
        case
            when ranked.popularity regexp '^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$'
                then cast(ranked.popularity as double)
        end as popularity_score,
        case
            when ranked.vote_average regexp '^[0-9]+([.][0-9]+)?$'
                then cast(ranked.vote_average as decimal(4, 2))
        end as vote_average,
        case
            when ranked.vote_count regexp '^[0-9]+([.]0+)?$'
                then cast(cast(ranked.vote_count as decimal(20, 2)) as unsigned)
        end as vote_count,
        case
            when ranked.budget regexp '^[0-9]+$' and ranked.budget <> '0'
                then cast(ranked.budget as unsigned)
        end as budget_usd,
        case
            when ranked.revenue regexp '^[0-9]+([.]0+)?$' and cast(ranked.revenue as decimal(20, 2)) > 0
                then cast(cast(ranked.revenue as decimal(20, 2)) as unsigned)
        end as revenue_usd,
        case
            when ranked.runtime regexp '^[0-9]+([.][0-9]+)?$' and cast(ranked.runtime as decimal(8, 2)) > 0
                then cast(ranked.runtime as decimal(8, 2))
        end as runtime_minutes,
        ranked.adult = 'True' as is_adult
    from ranked
    where ranked.occurrence = 1
)

select * from final;

create or replace view stg_movie_genres as
with
movies as (
    select
        stg_movies.movie_id,
        stg_movies.source_line_number
    from stg_movies
),

genres as (
    select
        raw_movie_genres.line_number,
        raw_movie_genres.id,
        raw_movie_genres.name
    from raw_movie_genres
),

final as (
    select distinct
        movies.movie_id,
        genres.id as genre_id,
        genres.name as genre_name
    from movies
    inner join genres on genres.line_number = movies.source_line_number
)

select * from final;

create or replace view stg_links as
with
links as (
    select
        raw_links.line_number,
        raw_links.movieId,
        raw_links.imdbId,
        raw_links.tmdbId
    from raw_links
),

ranked as (
    select
        links.*,
        row_number() over (partition by links.movieId order by links.line_number) as occurrence
    from links
),

final as (
    select
        ranked.movieId as movielens_movie_id,
        ranked.tmdbId as movie_id,
        case when ranked.imdbId <> '' then concat('tt', ranked.imdbId) end as imdb_id
    from ranked
    where ranked.occurrence = 1
)

select * from final;

create or replace view stg_ratings as
with
ratings as (
    select
        raw_ratings.userId,
        raw_ratings.movieId,
        raw_ratings.rating,
        raw_ratings.timestamp
    from raw_ratings
),

links as (
    select
        stg_links.movielens_movie_id,
        stg_links.movie_id
    from stg_links
),

final as (
    select
        ratings.userId as user_id,
        ratings.movieId as movielens_movie_id,
        links.movie_id,
        ratings.rating,
        ratings.timestamp as rated_at_unix
    from ratings
    left join links on links.movielens_movie_id = ratings.movieId
)

select * from final;

create or replace view stg_movie_keywords as
with
keywords as (
    select
        raw_keywords.movie_id,
        raw_keywords.id
    from raw_keywords
),

final as (
    select distinct
        keywords.movie_id,
        keywords.id as keyword_id
    from keywords
)

select * from final;

create or replace view stg_keywords as
with
keywords as (
    select
        raw_keywords.line_number,
        raw_keywords.position,
        raw_keywords.id,
        raw_keywords.name
    from raw_keywords
),

ranked as (
    select
        keywords.*,
        row_number() over (partition by keywords.id order by keywords.line_number, keywords.position) as occurrence
    from keywords
),

final as (
    select
        ranked.id as keyword_id,
        ranked.name as keyword
    from ranked
    where ranked.occurrence = 1
)

select * from final;

create or replace view stg_movie_cast as
with
cast_members as (
    select
        raw_credits_cast.movie_id,
        raw_credits_cast.id
    from raw_credits_cast
),

final as (
    select distinct
        cast_members.movie_id,
        cast_members.id as person_id
    from cast_members
)

select * from final;

create or replace view stg_people as
with
cast_members as (
    select
        raw_credits_cast.line_number,
        raw_credits_cast.position,
        raw_credits_cast.id,
        raw_credits_cast.name
    from raw_credits_cast
),

ranked as (
    select
        cast_members.*,
        row_number() over (partition by cast_members.id order by cast_members.line_number, cast_members.position)
            as occurrence
    from cast_members
),

final as (
    select
        ranked.id as person_id,
        ranked.name as person_name
    from ranked
    where ranked.occurrence = 1
)

select * from final;
