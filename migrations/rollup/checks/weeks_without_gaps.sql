-- severity: fail
-- description: weeks are Mondays, consecutive, from the first rental's week to the last rental or return
with
weeks as (
    select
        weekly_rentals.week_beginning,
        lag(weekly_rentals.week_beginning) over (order by weekly_rentals.week_beginning) as previous_week
    from rollup.weekly_rentals
),

bounds as (
    select
        min(date_trunc('week', raw_rental.rental_date at time zone 'UTC'))::date as first_week,
        max(date_trunc('week', greatest(raw_rental.rental_date, coalesce(raw_rental.return_date, raw_rental.rental_date)) at time zone 'UTC'))::date
            as last_week
    from rollup.raw_rental
)

select
    weeks.week_beginning,
    'not a Monday, or a gap before it' as problem
from weeks
where extract(isodow from weeks.week_beginning) <> 1
    or (weeks.previous_week is not null and weeks.week_beginning <> weeks.previous_week + 7)
union all
select
    null,
    'weeks span ' || coalesce(min(weeks.week_beginning)::text, '-') || '..' || coalesce(max(weeks.week_beginning)::text, '-')
        || ', rentals span ' || coalesce(max(bounds.first_week)::text, '-') || '..' || coalesce(max(bounds.last_week)::text, '-')
from weeks
cross join bounds
having min(weeks.week_beginning) is distinct from max(bounds.first_week)
    or max(weeks.week_beginning) is distinct from max(bounds.last_week)
