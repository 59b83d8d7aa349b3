-- severity: fail
-- description: rollup.int_weekly_events has one row per (film_id, week_beginning), film_id NULL counting as one film
select
    int_weekly_events.film_id,
    int_weekly_events.week_beginning,
    count(*) as rows_found
from rollup.int_weekly_events
where int_weekly_events.week_beginning >= rollup.check_from_week()
group by
    int_weekly_events.film_id,
    int_weekly_events.week_beginning
having count(*) > 1
