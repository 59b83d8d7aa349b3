-- severity: fail
-- description: rollup.weekly_film_demand has one row per (week_beginning, film_id), never null
-- The weeks checked and the NULL weeks (outside every range) are read apart, each through the
-- index on (week_beginning, film_id): one `where ... or week_beginning is null` made the
-- planner walk the whole index to stop at the first offending row.
with

checked as (
    select
        weekly_film_demand.week_beginning,
        weekly_film_demand.film_id
    from rollup.weekly_film_demand
    where weekly_film_demand.week_beginning >= rollup.check_from_week()
    union all
    select
        weekly_film_demand.week_beginning,
        weekly_film_demand.film_id
    from rollup.weekly_film_demand
    where weekly_film_demand.week_beginning is null
)

select
    checked.week_beginning,
    checked.film_id,
    count(*) as row_count
from checked
group by checked.week_beginning, checked.film_id
having count(*) > 1 or checked.week_beginning is null or checked.film_id is null
