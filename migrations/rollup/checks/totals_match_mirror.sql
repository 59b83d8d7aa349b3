-- severity: fail
-- description: new_rentals sums to the rentals in the mirror, returned_rentals to the returns within the series
-- Over every week: new_rentals sums to the mirror's rentals as rollup.mirror_blocks counts them
-- (kept with the mirror, equal to the source's at every run). Over the weeks from
-- rollup.check_from_week() on: new_rentals and returned_rentals sum to the rentals rented and
-- returned in them, counted from the mirror's timestamps.
with
series as (
    select
        min(weekly_rentals.week_beginning) as first_week
    from rollup.weekly_rentals
),

checked as (
    select greatest(rollup.check_from_week(), series.first_week) as from_week
    from series
),

recent_rentals as (
    select
        date_trunc('week', raw_rental.rental_date at time zone 'UTC')::date as rental_week,
        date_trunc('week', raw_rental.return_date at time zone 'UTC')::date as return_week
    from rollup.raw_rental
    where raw_rental.last_event_week >= rollup.check_from_week()
),

totals as (
    select
        (select coalesce(sum(weekly_rentals.new_rentals), 0) from rollup.weekly_rentals) as new_rentals_total,
        (select coalesce(sum(mirror_blocks.rentals), 0) from rollup.mirror_blocks) as rentals_in_mirror,
        (
            select coalesce(sum(weekly_rentals.new_rentals), 0)
            from rollup.weekly_rentals
            cross join checked
            where weekly_rentals.week_beginning >= checked.from_week
        ) as new_rentals_checked,
        (
            select count(*)
            from recent_rentals
            cross join checked
            where recent_rentals.rental_week >= checked.from_week
        ) as rentals_checked,
        (
            select coalesce(sum(weekly_rentals.returned_rentals), 0)
            from rollup.weekly_rentals
            cross join checked
            where weekly_rentals.week_beginning >= checked.from_week
        ) as returned_rentals_checked,
        (
            select count(*)
            from recent_rentals
            cross join checked
            where recent_rentals.return_week >= checked.from_week
        ) as returns_checked
)

select
    totals.*
from totals
where totals.new_rentals_total <> totals.rentals_in_mirror
    or totals.new_rentals_checked <> totals.rentals_checked
    or totals.returned_rentals_checked <> totals.returns_checked
