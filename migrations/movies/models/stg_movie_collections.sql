-- stg_movie_collections: the collection (series) each movie belongs to
--
-- materialized: view
-- grain: one row per movie of stg_movies whose kept record names a collection
-- sources: raw_movies_metadata, stg_movies
--
-- TMDB groups sequels, prequels and remakes in collections ("Toy Story Collection"); the
-- metadata's belongs_to_collection holds one collection or nothing. Read from the record
-- stg_movies keeps for the movie (its first), through its line number, so a repeated id cannot
-- name two collections. A view: one lookup by primary key per movie.
--
-- columns:
--   movie_id         TMDB movie id
--   collection_id    TMDB collection id
--   collection_name  the collection's name, e.g. Toy Story Collection

with
movies as (
    select
        stg_movies.movie_id,
        stg_movies.source_line_number
    from stg_movies
),

metadata as (
    select
        raw_movies_metadata.line_number,
        raw_movies_metadata.belongs_to_collection
    from raw_movies_metadata
),

final as (
    select
        movies.movie_id,
        cast(json_unquote(json_extract(metadata.belongs_to_collection, '$.id')) as unsigned)
            as collection_id,
        json_unquote(json_extract(metadata.belongs_to_collection, '$.name')) as collection_name
    from movies
    inner join metadata on metadata.line_number = movies.source_line_number
    where metadata.belongs_to_collection is not null
)

select * from final
