-- weekly_film_demand: each film's rentals started, returned and out, per week, against its copies
--
-- materialized: incremental
-- parameters: first_week date, from_week date, last_week date
-- strategy: merge
-- grain: one row per week of the series (as in weekly_rentals) and film with at least one
--   inventory copy, zeros included
-- sources: rollup.int_weekly_events, rollup.raw_inventory, rollup.raw_film,
--   rollup.weekly_film_demand
--
-- Demand per title, the input of inventory forecasting: how many copies of each film were out
-- each week against how many the stores own. The same running sums as weekly_rentals, per film,
-- over a dense grid of films and weeks (from the week before from_week, for lag()) with the
-- events joined on it. A rental whose copy is missing from raw_inventory belongs to no film.
-- from_week is the first week of the series when the inventory or a stocked film's title
-- changed (copies_owned and title are on every row), else the same as weekly_rentals'.
--
-- Caveat: copies_owned is the inventory as the source has it now, on every week; and
-- utilisation above 1 means copies rented more than once in the week, or returns never recorded
-- (a copy out twice at once).
--
-- columns:
--   week_beginning           the Monday (UTC) the week starts
--   film_id                  the film (raw_film.film_id)
--   title                    film title
--   copies_owned             inventory copies of the film, all stores, as the source has them
--                            now
--   new_rentals              rentals of the film whose rental_date falls in the week
--   returned_rentals         rentals of the film whose return_date falls in the week
--   outstanding_rentals      rentals of the film out at the end of the week
--   rentals_out_during_week  rentals of the film out at any moment of the week
--   utilisation              rentals_out_during_week / copies_owned, 4 decimals; above 1:
--                            copies rented more than once in the week

with

refresh_plan as not materialized (
    select
        first_week,
        from_week,
        last_week
),

weekly_events as (
    select
        int_weekly_events.film_id,
        int_weekly_events.week_beginning,
        int_weekly_events.rentals_started,
        int_weekly_events.rentals_returned,
        int_weekly_events.returned_in_order,
        int_weekly_events.returned_out_of_order
    from rollup.int_weekly_events
    where int_weekly_events.film_id is not null
        and int_weekly_events.week_beginning >= from_week - 7
),

raw_inventory as (
    select
        raw_inventory.inventory_id,
        raw_inventory.film_id
    from rollup.raw_inventory
),

raw_film as (
    select
        raw_film.film_id,
        raw_film.title
    from rollup.raw_film
),

-- the running totals up to the week before from_week, as stored (none when from_week is the first)
weekly_film_demand_before as (
    select
        weekly_film_demand.film_id,
        weekly_film_demand.outstanding_rentals,
        weekly_film_demand.rentals_out_during_week
    from rollup.weekly_film_demand
    inner join refresh_plan
        on weekly_film_demand.week_beginning = refresh_plan.from_week - 7
        and refresh_plan.from_week > refresh_plan.first_week
),

copies as (
    select
        raw_inventory.film_id,
        count(*) as copies_owned
    from raw_inventory
    group by raw_inventory.film_id
),

films as (
    select
        copies.film_id,
        raw_film.title,
        copies.copies_owned
    from copies
    inner join raw_film
        on raw_film.film_id = copies.film_id
),

weeks as (
    -- from the week before from_week: its returns decide who was out during from_week
    -- (integers, so the planner knows how many weeks there are)
    select (refresh_plan.from_week - 7 + 7 * week_number)::date as week_beginning
    from refresh_plan
    cross join lateral generate_series(
        0,
        (refresh_plan.last_week - refresh_plan.from_week) / 7 + 1
    ) as week_number
),

film_weeks as (
    select
        weeks.week_beginning,
        films.film_id,
        coalesce(weekly_events.rentals_started, 0) as rentals_started,
        coalesce(weekly_events.rentals_returned, 0) as rentals_returned,
        coalesce(weekly_events.returned_in_order, 0) as returned_in_order,
        coalesce(weekly_events.returned_out_of_order, 0) as returned_out_of_order,
        lag(coalesce(weekly_events.returned_in_order, 0)) over film_weeks as returned_in_order_week_before
    from films
    cross join weeks
    left join weekly_events
        on weekly_events.film_id = films.film_id
        and weekly_events.week_beginning = weeks.week_beginning
    window film_weeks as (partition by films.film_id order by weeks.week_beginning)
),

totals as (
    select
        film_weeks.week_beginning,
        films.film_id,
        films.title,
        films.copies_owned::integer as copies_owned,
        film_weeks.rentals_started::integer as new_rentals,
        film_weeks.rentals_returned::integer as returned_rentals,
        (
            coalesce(weekly_film_demand_before.outstanding_rentals, 0)
            + sum(
                film_weeks.rentals_started
                - film_weeks.returned_in_order
                - film_weeks.returned_out_of_order
            ) over running_total
        )::integer as outstanding_rentals,
        (
            coalesce(weekly_film_demand_before.rentals_out_during_week, 0)
            + sum(
                film_weeks.rentals_started
                - film_weeks.returned_in_order_week_before
                - film_weeks.returned_out_of_order
            ) over running_total
        )::integer as rentals_out_during_week
    from film_weeks
    inner join refresh_plan
        on film_weeks.week_beginning >= refresh_plan.from_week
    inner join films
        on films.film_id = film_weeks.film_id
    left join weekly_film_demand_before
        on weekly_film_demand_before.film_id = film_weeks.film_id
    window running_total as (partition by film_weeks.film_id order by film_weeks.week_beginning)
),

final as (
    select
        totals.week_beginning,
        totals.film_id,
        totals.title,
        totals.copies_owned,
        totals.new_rentals,
        totals.returned_rentals,
        totals.outstanding_rentals,
        totals.rentals_out_during_week,
        round(totals.rentals_out_during_week::numeric / totals.copies_owned, 4)::numeric(12, 4)
            as utilisation
    from totals
)

select * from final
