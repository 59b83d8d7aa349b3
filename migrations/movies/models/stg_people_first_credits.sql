-- stg_people_first_credits: where each person's name is first seen
--
-- materialized: view
-- grain: one row per person id in any cast list
-- sources: raw_credits_cast
--
-- The first cast element of each person (lowest line, then lowest position in the list). The
-- window ranks integer columns only; stg_people joins the name afterwards by the key.
--
-- columns:
--   person_id    the person's TMDB id
--   line_number  line of credits.csv holding the first credit
--   position     0-based position of that credit in the record's cast list

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

select * from final
