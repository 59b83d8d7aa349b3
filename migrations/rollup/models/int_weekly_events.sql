-- int_weekly_events: what happened to rentals, per film and week
--
-- materialized: incremental
-- parameters: first_week date, from_week date, last_week date
-- strategy: delete+insert
-- grain: one row per film and week of the series with at least one rental or return; film_id
--   is NULL for rentals whose copy is not in rollup.raw_inventory
-- sources: rollup.raw_rental, rollup.raw_inventory
--
-- The one pass over the mirror: weekly_rentals and weekly_film_demand are running sums over
-- these counts. A run recomputes the weeks from from_week to last_week (the weeks before
-- from_week are untouched by its changes, see docs/rollup.md): it deletes those weeks' rows and
-- inserts what this select returns. It reads only the rentals with an event in those weeks (the
-- index on raw_rental.last_event_week finds them). A full load counts the same events from the
-- rentals as they stream into the mirror (src/pipelines/rollup/stream.rs) instead of reading them
-- again; the rollup property test holds the two to the same rows.
--
-- A rental is rented in its rental week rw and returned in its return week tw (NULL while out).
-- Out of order means returned in a week before the one it was rented in: bad data, but the counts
-- stay exact (weekly_rentals says how).
--
-- Parameters (the runner works them out, docs/rollup.md): first_week, the week of the first
-- rental; from_week, the first week recomputed; last_week, the week of the latest rental or
-- return.
--
-- columns:
--   film_id                the film of the rental's copy; NULL when the copy is unknown
--   week_beginning         the Monday (UTC) the week starts
--   rentals_started        rentals with rw in the week
--   rentals_returned       rentals with tw in the week
--   returned_in_order      rentals with tw in the week and tw >= rw
--   returned_out_of_order  rentals with rw in the week and tw < rw (counted on rw)

with

raw_rental as (
    select
        raw_rental.inventory_id,
        raw_rental.rental_week,
        raw_rental.return_week
    from rollup.raw_rental
    -- a rental whose latest event is earlier has no event in the weeks recomputed
    where raw_rental.last_event_week >= from_week
),

raw_inventory as (
    select
        raw_inventory.inventory_id,
        raw_inventory.film_id
    from rollup.raw_inventory
),

-- one pass, two groupings: by rental week and by return week (grouping() tells which)
rental_groups as (
    select
        raw_inventory.film_id,
        grouping(raw_rental.rental_week) as is_by_return_week,
        coalesce(raw_rental.rental_week, raw_rental.return_week) as week_beginning,
        count(*) as rentals,
        count(*) filter (
            where raw_rental.return_week >= raw_rental.rental_week
        ) as returned_in_order,
        count(*) filter (
            where raw_rental.return_week < raw_rental.rental_week
        ) as returned_out_of_order
    from raw_rental
    left join raw_inventory
        on raw_inventory.inventory_id = raw_rental.inventory_id
    group by grouping sets (
        (raw_inventory.film_id, raw_rental.rental_week),
        (raw_inventory.film_id, raw_rental.return_week)
    )
),

final as (
    select
        rental_groups.film_id,
        rental_groups.week_beginning,
        coalesce(sum(rental_groups.rentals) filter (
            where rental_groups.is_by_return_week = 0
        ), 0)::bigint as rentals_started,
        coalesce(sum(rental_groups.rentals) filter (
            where rental_groups.is_by_return_week = 1
        ), 0)::bigint as rentals_returned,
        coalesce(sum(rental_groups.returned_in_order) filter (
            where rental_groups.is_by_return_week = 1
        ), 0)::bigint as returned_in_order,
        coalesce(sum(rental_groups.returned_out_of_order) filter (
            where rental_groups.is_by_return_week = 0
        ), 0)::bigint as returned_out_of_order
    from rental_groups
    -- NULL: the return-week grouping of rentals not returned
    where rental_groups.week_beginning between from_week and last_week
    group by
        rental_groups.film_id,
        rental_groups.week_beginning
)

select * from final
