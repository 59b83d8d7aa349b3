-- severity: fail
-- description: outstanding(w) = outstanding(w-1) + new(w) - returned(w), and out during week = outstanding + returned
-- A rental returned before it was rented (bad source data) is counted as new in one week and
-- returned in another without ever being outstanding: the recurrence is corrected for those, and
-- the out-during-week identity is not checked in the week such a rental was returned.
-- Weeks from rollup.check_from_week() on (each compared with the stored week before it), and the
-- mirror's rentals with an event in them (found by last_event_week's index).
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
),

returned_before_rented as (
    select
        date_trunc('week', raw_rental.rental_date at time zone 'UTC')::date as rental_week,
        date_trunc('week', raw_rental.return_date at time zone 'UTC')::date as return_week
    from rollup.raw_rental
    where raw_rental.return_date < raw_rental.rental_date
        and raw_rental.last_event_week >= rollup.check_from_week()
),

corrections as (
    select
        shifted.week_beginning,
        sum(shifted.delta) as delta
    from (
        select returned_before_rented.rental_week as week_beginning, -1 as delta
        from returned_before_rented
        where returned_before_rented.rental_week <> returned_before_rented.return_week
        union all
        select returned_before_rented.return_week, 1
        from returned_before_rented
        where returned_before_rented.rental_week <> returned_before_rented.return_week
    ) as shifted
    group by shifted.week_beginning
)

select
    weeks.week_beginning,
    weeks.previous_outstanding,
    weeks.new_rentals,
    weeks.returned_rentals,
    weeks.outstanding_rentals,
    weeks.rentals_out_during_week
from weeks
left join corrections on corrections.week_beginning = weeks.week_beginning
where weeks.week_beginning >= rollup.check_from_week()
    and (
        weeks.outstanding_rentals
            <> weeks.previous_outstanding + weeks.new_rentals - weeks.returned_rentals + coalesce(corrections.delta, 0)
        or (
            weeks.rentals_out_during_week <> weeks.outstanding_rentals + weeks.returned_rentals
            -- a rental returned before it was rented is returned in its week without being out in it
            and not exists (
                select 1 from returned_before_rented where returned_before_rented.return_week = weeks.week_beginning
            )
        )
    )
