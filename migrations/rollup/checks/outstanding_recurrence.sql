-- severity: fail
-- description: outstanding(w) = outstanding(w-1) + new(w) - returned(w), and out during week = outstanding + returned
with
weeks as (
    select
        weekly_rentals.week_beginning,
        weekly_rentals.new_rentals,
        weekly_rentals.returned_rentals,
        weekly_rentals.outstanding_rentals,
        weekly_rentals.rentals_out_during_week,
        lag(weekly_rentals.outstanding_rentals, 1, 0::bigint) over (order by weekly_rentals.week_beginning)
            as previous_outstanding
    from rollup.weekly_rentals
)

select
    weeks.week_beginning,
    weeks.previous_outstanding,
    weeks.new_rentals,
    weeks.returned_rentals,
    weeks.outstanding_rentals,
    weeks.rentals_out_during_week
from weeks
where weeks.outstanding_rentals <> weeks.previous_outstanding + weeks.new_rentals - weeks.returned_rentals
    or weeks.rentals_out_during_week <> weeks.outstanding_rentals + weeks.returned_rentals
