-- severity: fail
-- description: per week, weekly_film_demand sums to weekly_rentals (new, returned, outstanding, out during week)
with
film_sums as (
    select
        weekly_film_demand.week_beginning,
        sum(weekly_film_demand.new_rentals) as new_rentals,
        sum(weekly_film_demand.returned_rentals) as returned_rentals,
        sum(weekly_film_demand.outstanding_rentals) as outstanding_rentals,
        sum(weekly_film_demand.rentals_out_during_week) as rentals_out_during_week
    from rollup.weekly_film_demand
    group by weekly_film_demand.week_beginning
)

select
    weekly_rentals.week_beginning,
    weekly_rentals.new_rentals,
    film_sums.new_rentals as film_new_rentals,
    weekly_rentals.outstanding_rentals,
    film_sums.outstanding_rentals as film_outstanding_rentals
from rollup.weekly_rentals
full join film_sums on film_sums.week_beginning = weekly_rentals.week_beginning
where weekly_rentals.week_beginning is null
    or film_sums.week_beginning is null
    or weekly_rentals.new_rentals <> film_sums.new_rentals
    or weekly_rentals.returned_rentals <> film_sums.returned_rentals
    or weekly_rentals.outstanding_rentals <> film_sums.outstanding_rentals
    or weekly_rentals.rentals_out_during_week <> film_sums.rentals_out_during_week
