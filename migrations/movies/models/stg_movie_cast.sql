-- stg_movie_cast: who is in each movie's cast
--
-- materialized: view
-- grain: one row per movie and person in its cast (two roles in one film count once)
-- sources: raw_credits_cast
--
-- No build reads it (cast_member_aggregates keeps the rated movies' credits first, from
-- stg_cast_credits, and deduplicates only those): it is the clean layer for ad-hoc queries.
--
-- columns:
--   movie_id   TMDB movie id
--   person_id  the person's TMDB id: the `id` of a cast element, not `cast_id` or `credit_id`

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

select * from final
