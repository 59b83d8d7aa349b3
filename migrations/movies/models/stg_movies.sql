-- stg_movies: the movies of the metadata file, renamed and cast, one record per TMDB id
--
-- materialized: table
-- grain: one row per TMDB movie id of movies_metadata.csv (its first record)
-- sources: raw_movies_metadata
--
-- Ids repeat in the file (105045 twice, for one): the first record of each id is kept, the one
-- with the lowest line number. Text that is empty becomes NULL; numbers and dates that do not
-- parse become NULL rather than failing the run; 0 budgets and revenues mean "unknown" and are NULL.
--
-- A table, rebuilt on every run before the tables that read it: as a view, every reader
-- recomputed the deduplication (a window over a table with text columns, which both servers
-- materialise as an unindexed temporary table, on disk when it holds text on MariaDB).
--
-- columns:
--   movie_id            TMDB movie id; primary key
--   source_line_number  line of the record kept in movies_metadata.csv
--   imdb_id             IMDb id, tt + 7 digits
--   title               display title
--   original_language   ISO 639-1 code
--   release_date        release date
--   release_year        release year (also when only the year parses)
--   popularity_score    TMDB popularity (unitless, higher = more popular)
--   vote_average        TMDB vote average, 0-10
--   vote_count          number of TMDB votes
--   budget_usd          US dollars; NULL when 0 or missing
--   revenue_usd         US dollars; NULL when 0 or missing
--   runtime_minutes     minutes; NULL when 0 or missing
--   is_adult            adult = True in the file

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

select * from final
