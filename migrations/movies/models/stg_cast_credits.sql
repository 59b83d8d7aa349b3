-- stg_cast_credits: every cast credit, before deduplication
--
-- materialized: view
-- grain: one row per element of a cast list in credits.csv; a person playing two roles in one
--   film has two rows
-- sources: raw_credits_cast
--
-- cast_member_aggregates keeps the rated movies' credits first and deduplicates only those (a
-- fifth of the 562,474 credits at full size): 1.1-1.3 s instead of 1.6-2.0 s on MariaDB.
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
    select
        cast_members.movie_id,
        cast_members.id as person_id
    from cast_members
)

select * from final
