-- collection_decay: do sequels get worse?
--
-- materialized: table
-- grain: one row per movie of the metadata file that belongs to a collection
--   (stg_movie_collections)
-- sources: int_movie_scores, stg_movie_collections, stg_movies, stg_staging_run
--
-- Each film of a series next to the first film and the one before it: whether a franchise holds
-- its quality, and from which instalment it drops. Informs: whether to license or promote a
-- whole series or only its first films, and which sequels disappoint their audience.
--
-- A film's place in its collection (sequel_number) is its order by release date among the
-- collection's films in the metadata file, ties and unknown dates last by movie_id; films the
-- file lacks are not counted, so with a partial metadata file the numbers are positions among
-- the films present. Ratings are int_movie_scores' weighted ratings; a film nobody rated has
-- none, and neither has its change. A collection of one film (is_only_film) has nothing to
-- compare.
--
-- columns:
--   collection_id         TMDB collection id
--   movie_id              TMDB movie id
--   collection_name       the collection's name
--   title                 movie title
--   release_date          release date; NULL when unknown
--   sequel_number         1 = the collection's first film, 2 = the next, ... (row_number by release
--                         date, then movie_id)
--   collection_films      films of the collection in the metadata file
--   rating_count          MovieLens ratings of the film; 0 when unrated
--   weighted_rating       Bayesian weighted rating, stars (int_movie_scores); NULL when unrated
--   change_from_first     weighted_rating minus the first film's, stars; NULL when either is
--                         unrated, 0 for the first film
--   change_from_previous  weighted_rating minus the previous film's (lag), stars; NULL for the
--                         first film or when either is unrated
--   is_only_film          the collection has one film in the metadata file
--   is_low_sample         fewer than 10 ratings: the weighted rating is mostly prior
--   run_id                the run that built this table (runner_runs.run_id, stg_staging_run)

with
staging_run as (
    select
        stg_staging_run.run_id
    from stg_staging_run
),

collections as (
    select
        stg_movie_collections.movie_id,
        stg_movie_collections.collection_id,
        stg_movie_collections.collection_name
    from stg_movie_collections
),

movies as (
    select
        stg_movies.movie_id,
        stg_movies.title,
        stg_movies.release_date
    from stg_movies
),

scores as (
    select
        int_movie_scores.movie_id,
        int_movie_scores.rating_count,
        -- to the 4 places the table stores, so each change is the difference of stored values
        cast(int_movie_scores.weighted_rating as decimal(7, 4)) as weighted_rating
    from int_movie_scores
),

-- each film of a collection in release order, with its rating
ordered as (
    select
        collections.collection_id,
        collections.movie_id,
        collections.collection_name,
        movies.title,
        movies.release_date,
        row_number() over by_release as sequel_number,
        count(*) over (partition by collections.collection_id) as collection_films,
        coalesce(scores.rating_count, 0) as rating_count,
        scores.weighted_rating,
        first_value(scores.weighted_rating) over by_release as first_weighted_rating,
        lag(scores.weighted_rating) over by_release as previous_weighted_rating
    from collections
    inner join movies on movies.movie_id = collections.movie_id
    left join scores on scores.movie_id = collections.movie_id
    window by_release as (
        partition by collections.collection_id
        order by movies.release_date is null, movies.release_date, collections.movie_id
    )
),

final as (
    select
        ordered.collection_id,
        ordered.movie_id,
        ordered.collection_name,
        ordered.title,
        ordered.release_date,
        ordered.sequel_number,
        ordered.collection_films,
        ordered.rating_count,
        ordered.weighted_rating,
        ordered.weighted_rating - ordered.first_weighted_rating as change_from_first,
        ordered.weighted_rating - ordered.previous_weighted_rating as change_from_previous,
        ordered.collection_films = 1 as is_only_film,
        ordered.rating_count < 10 as is_low_sample,
        staging_run.run_id
    from ordered
    cross join staging_run
)

select * from final
