-- severity: fail
-- description: per week, weekly_film_demand sums to weekly_rentals (new, returned, outstanding, out during week)
-- Weeks from rollup.check_from_week() on: every week for `runner check`, the recomputed ones in a run.
with
film_sums as (
    select
        weekly_film_demand.week_beginning,
        sum(weekly_film_demand.new_rentals) as new_rentals,
        sum(weekly_film_demand.returned_rentals) as returned_rentals,
        sum(weekly_film_demand.outstanding_rentals) as outstanding_rentals,
        sum(weekly_film_demand.rentals_out_during_week) as rentals_out_during_week
    from rollup.weekly_film_demand
    where weekly_film_demand.week_beginning >= rollup.check_from_week()
    group by weekly_film_demand.week_beginning
),

checked_weeks as (
    select
        weekly_rentals.week_beginning,
        weekly_rentals.new_rentals,
        weekly_rentals.returned_rentals,
        weekly_rentals.outstanding_rentals,
        weekly_rentals.rentals_out_during_week
    from rollup.weekly_rentals
    where weekly_rentals.week_beginning >= rollup.check_from_week()
)

select
    checked_weeks.week_beginning,
    checked_weeks.new_rentals,
    film_sums.new_rentals as film_new_rentals,
    checked_weeks.outstanding_rentals,
    film_sums.outstanding_rentals as film_outstanding_rentals
from checked_weeks
full join film_sums on film_sums.week_beginning = checked_weeks.week_beginning
where checked_weeks.week_beginning is null
    or film_sums.week_beginning is null
    or checked_weeks.new_rentals <> film_sums.new_rentals
    or checked_weeks.returned_rentals <> film_sums.returned_rentals
    or checked_weeks.outstanding_rentals <> film_sums.outstanding_rentals
    or checked_weeks.rentals_out_during_week <> film_sums.rentals_out_during_week
