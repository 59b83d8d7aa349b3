-- severity: fail
-- description: weeks are Mondays, consecutive, from the first rental's week to the last rental or return
-- The first week is compared when rollup.check_from_week() is at or before it (every week for
-- `runner check`; a run's changes that could move it), the last week always (a run's checked
-- weeks include the last one); the mirror's rentals are those with an event from there on.
with
weeks as (
    select
        weekly_rentals.week_beginning,
        lag(weekly_rentals.week_beginning) over (order by weekly_rentals.week_beginning) as previous_week
    from rollup.weekly_rentals
),

series as (
    select
        min(weeks.week_beginning) as first_week,
        max(weeks.week_beginning) as last_week
    from weeks
),

bounds as (
    select
        min(date_trunc('week', raw_rental.rental_date at time zone 'UTC'))::date as first_week,
        max(date_trunc('week', greatest(raw_rental.rental_date, coalesce(raw_rental.return_date, raw_rental.rental_date)) at time zone 'UTC'))::date
            as last_week
    from rollup.raw_rental
    where raw_rental.last_event_week >= rollup.check_from_week()
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
    'weeks span ' || coalesce(series.first_week::text, '-') || '..' || coalesce(series.last_week::text, '-')
        || ', rentals span ' || coalesce(bounds.first_week::text, '-') || '..' || coalesce(bounds.last_week::text, '-')
        || ' (from ' || rollup.check_from_week()::text || ')'
from series
cross join bounds
where (
        rollup.check_from_week() <= coalesce(series.first_week, 'infinity'::date)
        and series.first_week is distinct from bounds.first_week
    )
    or series.last_week is distinct from bounds.last_week
