-- cast_member_aggregates
--
-- Grain: one row per person in the cast of at least one rated movie.
-- Purpose: who appears across the rated catalogue, e.g. for "more with this actor" rows or as a
--          feature in a recommender.
-- Sources: stg_ratings (rated movies, by TMDB id through links), stg_movie_cast, stg_people.
--
-- Columns
--   cast_member_id      the person's TMDB id: the `id` of a cast element, not `cast_id` or
--                       `credit_id` (those identify one credit); primary key
--   cast_member_name    the person's name, as first seen in credits.csv
--   movie_count         distinct rated movies featuring the person; two roles in one film count once
--   movie_count_rank    rank by movie_count, 1 = most films; ties share a rank
--
-- Only movies that appear in the ratings file count (through links, as in keyword_aggregates).
--
-- Rebuilt on every run from build_cast_member_aggregates (copy, then RENAME TABLE).

create table if not exists cast_member_aggregates (
    cast_member_id bigint not null comment 'TMDB person id (cast element id, not cast_id or credit_id)',
    cast_member_name mediumtext not null comment 'name as first seen in credits.csv',
    movie_count bigint not null comment 'distinct rated movies featuring the person',
    movie_count_rank bigint not null comment 'rank by movie_count, 1 = most films; ties share a rank',
    primary key (cast_member_id)
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin
comment = 'one row per cast member of at least one rated movie';

create or replace view build_cast_member_aggregates as
with
ratings as (
    select
        stg_ratings.movie_id
    from stg_ratings
),

movie_cast as (
    select
        stg_movie_cast.movie_id,
        stg_movie_cast.person_id
    from stg_movie_cast
),

people as (
    select
        stg_people.person_id,
        stg_people.person_name
    from stg_people
),

rated_movies as (
    select distinct
        ratings.movie_id
    from ratings
    where ratings.movie_id is not null
),

-- movie_cast has one row per (movie, person), so count(*) counts distinct movies
counted as (
    select
        movie_cast.person_id,
        count(*) as movie_count
    from movie_cast
    inner join rated_movies on rated_movies.movie_id = movie_cast.movie_id
    group by movie_cast.person_id
),

final as (
    select
        counted.person_id as cast_member_id,
        people.person_name as cast_member_name,
        counted.movie_count,
        rank() over (order by counted.movie_count desc) as movie_count_rank
    from counted
    inner join people on people.person_id = counted.person_id
)

select * from final;
