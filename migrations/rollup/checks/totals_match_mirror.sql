-- severity: fail
-- description: new_rentals sums to the rentals in the mirror, returned_rentals to the returns within the series
with
series as (
    select
        min(weekly_rentals.week_beginning) as first_week
    from rollup.weekly_rentals
),

totals as (
    select
        (select coalesce(sum(weekly_rentals.new_rentals), 0) from rollup.weekly_rentals) as new_rentals_total,
        (select count(*) from rollup.raw_rental) as rentals_in_mirror,
        (select coalesce(sum(weekly_rentals.returned_rentals), 0) from rollup.weekly_rentals) as returned_rentals_total,
        (
            select count(*)
            from rollup.raw_rental
            cross join series
            where raw_rental.return_date is not null
                and date_trunc('week', raw_rental.return_date at time zone 'UTC')::date >= series.first_week
        ) as returns_in_series
)

select
    totals.*
from totals
where totals.new_rentals_total <> totals.rentals_in_mirror
    or totals.returned_rentals_total <> totals.returns_in_series
