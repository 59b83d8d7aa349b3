-- stg_ tables: the deduplicating staging models, materialized once per run
--
-- Grain and purpose: as in V3, per model:
--   stg_movies          one row per TMDB movie id in movies_metadata.csv (its first record)
--   stg_movie_genres    one row per movie and genre (of that first record)
--   stg_links           one row per MovieLens movie id (its first record), with TMDB and IMDb ids
--   stg_keywords        one row per keyword id, with the name it first appears with
--   stg_people          (still a view) one row per person id in any cast list, with the name
--                       first seen; stg_people_first_credits (view) is where that name is
-- Sources: the raw_ tables (V2).
--
-- Why tables: V3 made every stg_ model a view, so each derived table recomputed them, and a
-- deduplicating view (row_number over a table with text columns) is materialized by the server
-- as an unindexed temporary table, on disk when it holds text (MariaDB). On the real files that
-- made stg_ratings (100,004 ratings joined to stg_links) take a second per use, and the five
-- builds nine seconds in all. Four models are now tables with primary keys, rebuilt on every run
-- from their build_stg_X views before the derived tables (the runner fills stg_X__new and swaps
-- it in with RENAME TABLE, as for raw_ and derived tables). The others stay views: stg_ratings
-- (a join to stg_links by its key, merged into each query), stg_movie_keywords and
-- stg_movie_cast (a distinct over two integer columns, kept in memory), and stg_people (one
-- reader; see below).
--
-- Columns and their meaning are V3's. "First record" is the lowest line_number; for an element
-- of a list column, the lowest line_number and then the lowest position in the list.
--
-- Idempotent (MySQL commits DDL implicitly): `drop view if exists` only warns when the name is
-- already a table, then `create table if not exists` and `create or replace view`.

drop view if exists stg_movies;

create table if not exists stg_movies (
    movie_id bigint not null comment 'TMDB movie id',
    source_line_number bigint not null comment 'line of the record kept in movies_metadata.csv',
    imdb_id mediumtext null comment 'IMDb id, tt + 7 digits',
    title mediumtext null comment 'display title',
    original_language mediumtext null comment 'ISO 639-1',
    release_date date null comment 'release date',
    release_year int null comment 'release year',
    popularity_score double null comment 'TMDB popularity (unitless, higher = more popular)',
    vote_average decimal(4, 2) null comment 'TMDB vote average, 0-10',
    vote_count bigint unsigned null comment 'number of TMDB votes',
    budget_usd bigint unsigned null comment 'US dollars; NULL when 0 or missing',
    revenue_usd bigint unsigned null comment 'US dollars; NULL when 0 or missing',
    runtime_minutes decimal(8, 2) null comment 'minutes',
    is_adult boolean not null comment 'adult = True in the file',
    primary key (movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per TMDB movie id of movies_metadata.csv (its first record)';

create or replace view build_stg_movies as
with
-- ids repeat in the file: keep the first record of each
first_records as (
    select
        raw_movies_metadata.id,
        min(raw_movies_metadata.line_number) as line_number
    from raw_movies_metadata
    group by raw_movies_metadata.id
),

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
    inner join first_records on first_records.line_number = raw_movies_metadata.line_number
),

final as (
    select
        metadata.id as movie_id,
        metadata.line_number as source_line_number,
        nullif(metadata.imdb_id, '') as imdb_id,
        nullif(metadata.title, '') as title,
        nullif(metadata.original_language, '') as original_language,
        case
            when metadata.release_date regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
                then cast(metadata.release_date as date)
        end as release_date,
        case
            when metadata.release_date regexp '^[0-9]{4}-'
                then cast(left(metadata.release_date, 4) as unsigned)
        end as release_year,
        case
            when metadata.popularity regexp '^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$'
                then cast(metadata.popularity as double)
        end as popularity_score,
        case
            when metadata.vote_average regexp '^[0-9]+([.][0-9]+)?$'
                then cast(metadata.vote_average as decimal(4, 2))
        end as vote_average,
        case
            when metadata.vote_count regexp '^[0-9]+([.]0+)?$'
                then cast(cast(metadata.vote_count as decimal(20, 2)) as unsigned)
        end as vote_count,
        case
            when metadata.budget regexp '^[0-9]+$' and metadata.budget <> '0'
                then cast(metadata.budget as unsigned)
        end as budget_usd,
        case
            when metadata.revenue regexp '^[0-9]+([.]0+)?$' and cast(metadata.revenue as decimal(20, 2)) > 0
                then cast(cast(metadata.revenue as decimal(20, 2)) as unsigned)
        end as revenue_usd,
        case
            when metadata.runtime regexp '^[0-9]+([.][0-9]+)?$' and cast(metadata.runtime as decimal(8, 2)) > 0
                then cast(metadata.runtime as decimal(8, 2))
        end as runtime_minutes,
        metadata.adult = 'True' as is_adult
    from metadata
)

select * from final;

drop view if exists stg_movie_genres;

create table if not exists stg_movie_genres (
    movie_id bigint not null comment 'TMDB movie id',
    genre_id bigint not null comment 'TMDB genre id',
    genre_name mediumtext not null comment 'genre',
    primary key (movie_id, genre_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per movie and genre (of the movie''s first record)';

create or replace view build_stg_movie_genres as
with
-- the movie's first record, as in build_stg_movies (stg_ tables are built side by side, so none
-- reads another)
first_records as (
    select
        raw_movies_metadata.id,
        min(raw_movies_metadata.line_number) as line_number
    from raw_movies_metadata
    group by raw_movies_metadata.id
),

-- a genre listed twice in one record counts once, with its first name
first_elements as (
    select
        raw_movie_genres.line_number,
        raw_movie_genres.id,
        min(raw_movie_genres.position) as position
    from raw_movie_genres
    group by raw_movie_genres.line_number, raw_movie_genres.id
),

final as (
    select
        first_records.id as movie_id,
        raw_movie_genres.id as genre_id,
        raw_movie_genres.name as genre_name
    from first_records
    inner join first_elements on first_elements.line_number = first_records.line_number
    inner join raw_movie_genres
        on raw_movie_genres.line_number = first_elements.line_number
        and raw_movie_genres.position = first_elements.position
)

select * from final;

drop view if exists stg_links;

create table if not exists stg_links (
    movielens_movie_id bigint not null comment 'MovieLens movie id',
    movie_id bigint null comment 'TMDB movie id; NULL when the file has none',
    imdb_id mediumtext null comment 'IMDb id, tt + 7 digits',
    primary key (movielens_movie_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per MovieLens movie id of the links file (its first record)';

create or replace view build_stg_links as
with
first_records as (
    select
        raw_links.movieId,
        min(raw_links.line_number) as line_number
    from raw_links
    group by raw_links.movieId
),

final as (
    select
        raw_links.movieId as movielens_movie_id,
        raw_links.tmdbId as movie_id,
        case when raw_links.imdbId <> '' then concat('tt', raw_links.imdbId) end as imdb_id
    from raw_links
    inner join first_records on first_records.line_number = raw_links.line_number
)

select * from final;

drop view if exists stg_keywords;

create table if not exists stg_keywords (
    keyword_id bigint not null comment 'TMDB keyword id',
    keyword mediumtext not null comment 'the keyword, as first seen in keywords.csv',
    primary key (keyword_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per keyword id, with the name it first appears with';

create or replace view build_stg_keywords as
with
-- the first element of each keyword id; ranked on the integer columns only, then joined back
-- for the name, so the window sorts no text
ranked as (
    select
        raw_keywords.line_number,
        raw_keywords.position,
        row_number() over (
            partition by raw_keywords.id order by raw_keywords.line_number, raw_keywords.position
        ) as occurrence
    from raw_keywords
),

final as (
    select
        raw_keywords.id as keyword_id,
        raw_keywords.name as keyword
    from ranked
    inner join raw_keywords
        on raw_keywords.line_number = ranked.line_number
        and raw_keywords.position = ranked.position
    where ranked.occurrence = 1
)

select * from final;

-- stg_people stays a view (V3's columns): as a table, its 465,233 rows at full size took 3 s to
-- write for one reader, cast_member_aggregates, which needs about a fifth of them. Redefined so
-- that the window ranks the integer columns only; the name is joined afterwards by the key.
create or replace view stg_people_first_credits as
with
ranked as (
    select
        raw_credits_cast.id,
        raw_credits_cast.line_number,
        raw_credits_cast.position,
        row_number() over (
            partition by raw_credits_cast.id order by raw_credits_cast.line_number, raw_credits_cast.position
        ) as occurrence
    from raw_credits_cast
),

final as (
    select
        ranked.id as person_id,
        ranked.line_number,
        ranked.position
    from ranked
    where ranked.occurrence = 1
)

select * from final;

create or replace view stg_people as
with
first_credits as (
    select
        stg_people_first_credits.person_id,
        stg_people_first_credits.line_number,
        stg_people_first_credits.position
    from stg_people_first_credits
),

final as (
    select
        first_credits.person_id,
        raw_credits_cast.name as person_name
    from first_credits
    inner join raw_credits_cast
        on raw_credits_cast.line_number = first_credits.line_number
        and raw_credits_cast.position = first_credits.position
)

select * from final;
