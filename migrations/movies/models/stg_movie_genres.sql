-- stg_movie_genres: each movie's genres
--
-- materialized: table
-- grain: one row per movie and genre (of the movie's first record)
-- sources: raw_movies_metadata, raw_movie_genres
--
-- The genres list of the record stg_movies keeps; a genre listed twice in one record counts
-- once, with its first name. stg_ tables are built side by side, so this one finds the first
-- record itself instead of reading stg_movies.
--
-- columns:
--   movie_id    TMDB movie id
--   genre_id    TMDB genre id
--   genre_name  genre

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

select * from final
