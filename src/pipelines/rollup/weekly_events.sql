-- weekly_events: what happened to rentals, per film and week, from the week before $1 on
--
-- Grain: one row per film and week with at least one rental or return, from the week before $1
--        (events_from_week) on; film_id is NULL for rentals whose inventory copy is not in
--        rollup.raw_inventory.
-- Purpose: the one pass over the mirror an incremental run makes. The runner inserts these rows
--          into a temporary table of the same name; weekly_rentals.sql and weekly_film_demand.sql
--          compute the weekly tables from it with running sums. The run reads only the rentals
--          with an event in the weeks it recomputes (the index on last_event_week finds them).
--          A full load tallies the same events from the rows as they stream into the mirror
--          (src/pipelines/rollup/stream.rs), so it needs no second pass over millions of rows.
-- Sources: rollup.raw_rental, rollup.raw_inventory.
-- Parameters (text, YYYY-MM-DD):
--   $1 events_from_week  the first week recomputed; events of the week before it are kept too,
--                        because a return in week w - 7 decides who was out during week w
--
-- A rental is rented in its rental week rw and returned in its return week tw (NULL while out).
-- Out of order means returned in a week before the one it was rented in (bad data, but the
-- counts stay exact: see weekly_rentals.sql).
--
--   film_id                 the film of the rental's copy; NULL when the copy is unknown
--   week_beginning          the Monday (UTC) the week starts
--   rentals_started         rentals with rw in the week
--   rentals_returned        rentals with tw in the week
--   returned_in_order       rentals with tw in the week and tw >= rw
--   returned_out_of_order   rentals with rw in the week and tw < rw (counted on rw)

with

raw_rental as (
    select
        raw_rental.inventory_id,
        raw_rental.rental_week,
        raw_rental.return_week
    from rollup.raw_rental
    -- a rental whose latest event is earlier has no event from the week before $1 on
    where raw_rental.last_event_week >= $1::text::date - 7
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
        ), 0) as rentals_started,
        coalesce(sum(rental_groups.rentals) filter (
            where rental_groups.is_by_return_week = 1
        ), 0) as rentals_returned,
        coalesce(sum(rental_groups.returned_in_order) filter (
            where rental_groups.is_by_return_week = 1
        ), 0) as returned_in_order,
        coalesce(sum(rental_groups.returned_out_of_order) filter (
            where rental_groups.is_by_return_week = 0
        ), 0) as returned_out_of_order
    from rental_groups
    -- NULL: the return-week grouping of rentals not returned
    where rental_groups.week_beginning >= $1::text::date - 7
    group by
        rental_groups.film_id,
        rental_groups.week_beginning
)

select * from final
