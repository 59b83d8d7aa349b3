-- recomputed weekly_film_demand: rollup.weekly_film_demand for the weeks this run recomputes
--
-- Grain: one row per week from $2 (from_week) to $3 (last_week) and per film with at least one
--        inventory copy.
-- Purpose: the rows the runner MERGEs into rollup.weekly_film_demand (src/pipelines/rollup/merge.rs): the
--          same computation as weekly_rentals.sql, per film. from_week is the first week of the
--          series when the inventory or a stocked film's title changed (copies_owned and title
--          are on every row), else the same as for weekly_rentals.
-- Sources: weekly_events (this run's temporary table, see weekly_events.sql), rollup.raw_inventory,
--          rollup.raw_film, rollup.weekly_film_demand (the stored week before from_week).
-- Parameters (text, YYYY-MM-DD), as in weekly_rentals.sql:
--   $1 first_week  the first week of the whole series
--   $2 from_week   the first week to recompute
--   $3 last_week   the last week of the series
--
-- Running sums as in weekly_rentals.sql, per film: a dense grid of films and weeks (from the week
-- before from_week, for lag()), the events joined on it. A rental whose inventory copy is missing
-- from raw_inventory belongs to no film.
--
--   week_beginning           the Monday (UTC) the week starts
--   film_id                  the film
--   title                    film title
--   copies_owned             inventory copies of the film
--   new_rentals              rentals of the film whose rental_date falls in the week
--   returned_rentals         rentals of the film whose return_date falls in the week
--   outstanding_rentals      rentals of the film out at the end of the week
--   rentals_out_during_week  rentals of the film out at any moment of the week

with

refresh_plan as not materialized (
    select
        $1::text::date as first_week,
        $2::text::date as from_week,
        $3::text::date as last_week
),

weekly_events as (
    select
        weekly_events.film_id,
        weekly_events.week_beginning,
        weekly_events.rentals_started,
        weekly_events.rentals_returned,
        weekly_events.returned_in_order,
        weekly_events.returned_out_of_order
    from pg_temp.weekly_events
    where weekly_events.film_id is not null
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

final as (
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
)

select * from final
