-- stg_links: MovieLens movie ids mapped to TMDB and IMDb ids
--
-- materialized: table
-- grain: one row per MovieLens movie id of the links file (its first record)
-- sources: raw_links
--
-- Two id spaces, read this first. The ratings file speaks MovieLens ids (movieId); metadata,
-- credits and keywords speak TMDB ids (id). This table maps one to the other. The numbers
-- overlap but mean different films: MovieLens 318 is The Shawshank Redemption (TMDB 278), TMDB
-- 318 is The Million Dollar Hotel. Every table joins ratings to anything else through here; in
-- every table, movielens_movie_id is a MovieLens id and movie_id always a TMDB id. A "rated
-- movie" is a TMDB id reached from a movieId of the ratings file through this table.
--
-- links_small.csv has 13 movieIds without a tmdbId (720, 721, 769, ...): their movie_id is NULL,
-- and their ratings reach no title, keyword or cast. links.csv maps 29 TMDB ids from two
-- MovieLens ids each (105045 from 690 and 1533).
--
-- columns:
--   movielens_movie_id  MovieLens movie id; primary key
--   movie_id            TMDB movie id; NULL when the file has none
--   imdb_id             IMDb id, tt + 7 digits

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

select * from final
