-- int_weekly_store_events: what happened to rentals per film, store and week, each rental ended at its effective return
--
-- materialized: incremental
-- parameters: first_week date, from_week date, last_week date
-- strategy: delete+insert
-- grain: one row per film, store and week of the series with at least one rental or effective
--   return; film_id and store_id are NULL for rentals whose copy is not in rollup.raw_inventory
-- sources: rollup.raw_rental, rollup.raw_inventory
--
-- A copy can't be out twice at once. So a rental ends at its effective return: the recorded
-- return_date, or the moment its copy is next rented when that comes first: a rental never
-- returned whose copy was rented again (the return was not recorded), or a recorded return after
-- the copy's next rental (overlapping records). Both are inferred returns. A rental never
-- returned whose copy was not rented again is still out. "Next" orders a copy's rentals by
-- rental_date, then rental_id. A rental whose effective return is before its rental_date (bad
-- data) was never out. docs/forecasting.md has the rule and its numbers on Pagila.
--
-- Peak concurrency: the rentals of a film in a store are out over [rental_date, effective
-- return). Sweeping their starts (+1) and ends (-1) in time order, the events of one instant
-- together, the number out rises and falls; peak_rise is the most it reaches during the week
-- relative to the number out at the end of the week before (the running sums'), which
-- weekly_film_store_demand adds it to. It is negative only when rentals came back at the week's
-- very first instant (Monday 00:00:00 UTC: returned in this week, so out at the end of the week
-- before) and the number never climbed back.
--
-- A run recomputes the weeks from from_week to last_week: it deletes those weeks' rows and
-- inserts what this select returns. It reads the rentals with an event in those weeks (the index
-- on last_event_week) and the rentals never returned (a partial index). The next rental of a
-- rental rented from from_week on is among them (rented later, so from from_week on); for one
-- rented earlier it is looked up in the index on (inventory_id, rental_date, rental_id), by
-- rollup.next_rental_of (V5__citus_ready.sql).
--
-- columns:
--   film_id                 the film of the rental's copy; NULL when the copy is unknown
--   store_id                the store owning the copy; NULL when the copy is unknown
--   week_beginning          the Monday (UTC) the week starts
--   rentals_started         rentals with rental_date in the week
--   effective_returns       rentals whose effective return falls in the week (not before their
--                           rental_date)
--   inferred_returns        of those, the ones ended by the copy's next rental, not by a
--                           recorded return
--   returned_before_rented  rentals with rental_date in the week whose effective return is
--                           earlier (bad data: never out)
--   peak_rise               the most rentals out at once during the week, minus the number
--                           out at the end of the week before

with

-- materialized: read once by the two below (on Citus: gathered from the shards once)
raw_rental as materialized (
    select
        raw_rental.rental_id,
        raw_rental.inventory_id,
        raw_rental.rental_date,
        raw_rental.return_date,
        raw_rental.rental_week,
        raw_rental.return_week
    from rollup.raw_rental
    -- a rental whose latest event is earlier has no event in the weeks recomputed, unless it was
    -- never returned: then its effective return may be any later week
    where raw_rental.last_event_week >= from_week
        or raw_rental.return_date is null
),

raw_inventory as (
    select
        raw_inventory.inventory_id,
        raw_inventory.film_id,
        raw_inventory.store_id
    from rollup.raw_inventory
),

-- rented from from_week on: the next rental of the copy is rented from from_week on too
rented_in_range as (
    select
        raw_rental.rental_id,
        raw_rental.inventory_id,
        raw_rental.rental_date,
        raw_rental.return_date,
        raw_rental.rental_week,
        raw_rental.return_week,
        lead(raw_rental.rental_date) over copy_rentals as next_rental_date,
        lead(raw_rental.rental_week) over copy_rentals as next_rental_week
    from raw_rental
    where raw_rental.rental_week >= from_week
    window copy_rentals as (
        partition by raw_rental.inventory_id
        order by raw_rental.rental_date, raw_rental.rental_id
    )
),

-- rented earlier, returned (or never) later: the next rental of the copy from the index on
-- (inventory_id, rental_date, rental_id)
rented_before_range as (
    select
        raw_rental.rental_id,
        raw_rental.inventory_id,
        raw_rental.rental_date,
        raw_rental.return_date,
        raw_rental.rental_week,
        raw_rental.return_week,
        next_rental.rental_date as next_rental_date,
        next_rental.rental_week as next_rental_week
    from raw_rental
    -- one index probe per rental (V5__citus_ready.sql has the function and why it is one)
    cross join lateral rollup.next_rental_of(
        raw_rental.inventory_id, raw_rental.rental_date, raw_rental.rental_id
    ) as next_rental
    where raw_rental.rental_week < from_week
),

rentals as (
    select
        rented_in_range.rental_id,
        rented_in_range.inventory_id,
        rented_in_range.rental_date,
        rented_in_range.return_date,
        rented_in_range.rental_week,
        rented_in_range.return_week,
        rented_in_range.next_rental_date,
        rented_in_range.next_rental_week
    from rented_in_range
    union all
    select
        rented_before_range.rental_id,
        rented_before_range.inventory_id,
        rented_before_range.rental_date,
        rented_before_range.return_date,
        rented_before_range.rental_week,
        rented_before_range.return_week,
        rented_before_range.next_rental_date,
        rented_before_range.next_rental_week
    from rented_before_range
),

-- inferred: the copy was rented again before any recorded return
inferred as (
    select
        rentals.*,
        rentals.next_rental_date is not null
            and (rentals.return_date is null or rentals.next_rental_date < rentals.return_date)
            as is_inferred
    from rentals
),

effective as (
    select
        inferred.rental_id,
        raw_inventory.film_id,
        raw_inventory.store_id,
        inferred.rental_date,
        inferred.rental_week,
        case when inferred.is_inferred then inferred.next_rental_date else inferred.return_date end
            as effective_return_date,
        -- the week of the effective return: the stored week of the recorded return or of the
        -- copy's next rental (the mirror's weeks, computed once when the rows were copied)
        case when inferred.is_inferred then inferred.next_rental_week else inferred.return_week end
            as effective_return_week,
        inferred.is_inferred
    from inferred
    left join raw_inventory
        on raw_inventory.inventory_id = inferred.inventory_id
),

-- each rental's start (+1) and end (-1), in the week it falls in; a rental ended before it
-- began (bad data) has neither, and counts as returned before rented; a rental still out has
-- no end
events as (
    select
        effective.film_id,
        effective.store_id,
        effective.rental_week as week_beginning,
        effective.rental_date as event_at,
        case when effective.effective_return_date < effective.rental_date then 0 else 1 end
            as delta,
        1 as is_start,
        0 as is_inferred,
        case when effective.effective_return_date < effective.rental_date then 1 else 0 end
            as is_before_rented
    from effective
    union all
    select
        effective.film_id,
        effective.store_id,
        effective.effective_return_week,
        effective.effective_return_date,
        -1,
        0,
        case when effective.is_inferred then 1 else 0 end,
        0
    from effective
    where effective.effective_return_date >= effective.rental_date
),

events_in_range as (
    select
        events.film_id,
        events.store_id,
        events.week_beginning,
        events.delta,
        events.is_start,
        events.is_inferred,
        events.is_before_rented,
        events.event_at = events.week_beginning::timestamp at time zone 'UTC' as is_at_week_start,
        -- the number out once every event up to this instant happened, relative to the end of
        -- the week before (a range frame: the events of one instant together)
        sum(events.delta) over (
            partition by events.film_id, events.store_id, events.week_beginning
            order by events.event_at
            range between unbounded preceding and current row
        ) as rise
    from events
    where events.week_beginning between from_week and last_week
),

final as (
    select
        events_in_range.film_id,
        events_in_range.store_id,
        events_in_range.week_beginning,
        sum(events_in_range.is_start)::bigint as rentals_started,
        count(*) filter (where events_in_range.delta = -1)::bigint as effective_returns,
        sum(events_in_range.is_inferred)::bigint as inferred_returns,
        sum(events_in_range.is_before_rented)::bigint as returned_before_rented,
        -- when nothing happened at the week's first instant, the number out then is the one at
        -- the end of the week before
        case
            when bool_or(events_in_range.is_at_week_start) then max(events_in_range.rise)
            else greatest(max(events_in_range.rise), 0)
        end::bigint as peak_rise
    from events_in_range
    group by
        events_in_range.film_id,
        events_in_range.store_id,
        events_in_range.week_beginning
)

select * from final
