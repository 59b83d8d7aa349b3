-- stg_people: cast members, one name per person
--
-- materialized: view
-- grain: one row per person id in any cast list, with the name first seen
-- sources: stg_people_first_credits, raw_credits_cast
--
-- A view, not a table: as a table its 465,233 rows at full size took 3 s to write for one
-- reader, cast_member_aggregates, which needs about a fifth of them.
--
-- columns:
--   person_id    the person's TMDB id
--   person_name  the name in the person's first credit

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

select * from final
