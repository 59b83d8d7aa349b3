-- severity: fail
-- description: rollup.weekly_film_demand has one row per (week_beginning, film_id), never null
select
    weekly_film_demand.week_beginning,
    weekly_film_demand.film_id,
    count(*) as row_count
from rollup.weekly_film_demand
where weekly_film_demand.week_beginning >= rollup.check_from_week()
    or weekly_film_demand.week_beginning is null
group by weekly_film_demand.week_beginning, weekly_film_demand.film_id
having count(*) > 1 or weekly_film_demand.week_beginning is null or weekly_film_demand.film_id is null
