-- severity: fail
-- description: rollup.weekly_rentals has one row per week_beginning, never null
select
    weekly_rentals.week_beginning,
    count(*) as row_count
from rollup.weekly_rentals
where weekly_rentals.week_beginning >= rollup.check_from_week()
    or weekly_rentals.week_beginning is null
group by weekly_rentals.week_beginning
having count(*) > 1 or weekly_rentals.week_beginning is null
