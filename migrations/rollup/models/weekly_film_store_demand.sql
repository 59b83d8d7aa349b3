-- weekly_film_store_demand: copies of each film each store owns, and how many were out, at the end of the week and at its peak
--
-- materialized: incremental
-- parameters: first_week date, from_week date, last_week date
-- strategy: merge
-- grain: one row per week of the series (as in weekly_rentals), film and store owning at least
--   one copy of it, zeros included
-- sources: rollup.int_weekly_store_events, rollup.raw_inventory, rollup.weekly_film_store_demand
--
-- Demand per title where the copies are: a store's copies serve its own customers, so sizing
-- inventory is per film and store. Every rental ends at its effective return
-- (int_weekly_store_events): a copy is never out twice at once, so copies_out_at_end and
-- peak_copies_out never exceed copies_owned (a fail check holds them to it). The same running
-- sums as weekly_rentals over a dense grid of film-store pairs and weeks, from the stored row of
-- the week before from_week; from_week is the first week of the series when the inventory or the
-- films changed (copies_owned is on every row).
--
-- Caveat: copies_owned is the inventory as the source has it now, on every week. A week whose
-- peak reaches copies_owned is a stock-out: customers may have been turned away, so the demand
-- seen is a lower bound of the demand there was.
--
-- columns:
--   week_beginning     the Monday (UTC) the week starts
--   film_id            the film (raw_inventory.film_id)
--   store_id           the store (raw_inventory.store_id)
--   copies_owned       inventory copies of the film in the store, as the source has them now
--   new_rentals        rentals of the film in the store whose rental_date falls in the week
--   effective_returns  rentals whose effective return falls in the week (recorded or inferred)
--   inferred_returns   of those, the ones inferred from the copy's next rental
--   copies_out_at_end  copies out at the end of the week (rentals out, each ended at its
--                      effective return)
--   peak_copies_out    the most copies out at the same moment during the week
--   is_stock_out       peak_copies_out reached copies_owned: every copy was out at once

with

refresh_plan as not materialized (
    select
        first_week,
        from_week,
        last_week
),

store_events as (
    select
        int_weekly_store_events.film_id,
        int_weekly_store_events.store_id,
        int_weekly_store_events.week_beginning,
        int_weekly_store_events.rentals_started,
        int_weekly_store_events.effective_returns,
        int_weekly_store_events.inferred_returns,
        int_weekly_store_events.returned_before_rented,
        int_weekly_store_events.peak_rise
    from rollup.int_weekly_store_events
    where int_weekly_store_events.film_id is not null
        and int_weekly_store_events.week_beginning >= from_week
),

raw_inventory as (
    select
        raw_inventory.film_id,
        raw_inventory.store_id
    from rollup.raw_inventory
),

-- copies out at the end of the week before from_week, as stored (none when from_week is the first)
weekly_film_store_demand_before as (
    select
        weekly_film_store_demand.film_id,
        weekly_film_store_demand.store_id,
        weekly_film_store_demand.copies_out_at_end
    from rollup.weekly_film_store_demand
    inner join refresh_plan
        on weekly_film_store_demand.week_beginning = refresh_plan.from_week - 7
        and refresh_plan.from_week > refresh_plan.first_week
),

stocked as (
    select
        raw_inventory.film_id,
        raw_inventory.store_id,
        count(*) as copies_owned
    from raw_inventory
    group by raw_inventory.film_id, raw_inventory.store_id
),

weeks as (
    -- (integers, so the planner knows how many weeks there are)
    select (refresh_plan.from_week + 7 * week_number)::date as week_beginning
    from refresh_plan
    cross join lateral generate_series(
        0,
        (refresh_plan.last_week - refresh_plan.from_week) / 7
    ) as week_number
),

running as (
    select
        weeks.week_beginning,
        stocked.film_id,
        stocked.store_id,
        stocked.copies_owned,
        coalesce(store_events.rentals_started, 0) as new_rentals,
        coalesce(store_events.effective_returns, 0) as effective_returns,
        coalesce(store_events.inferred_returns, 0) as inferred_returns,
        coalesce(store_events.peak_rise, 0) as peak_rise,
        coalesce(store_events.rentals_started, 0)
            - coalesce(store_events.effective_returns, 0)
            - coalesce(store_events.returned_before_rented, 0) as change_in_week,
        coalesce(weekly_film_store_demand_before.copies_out_at_end, 0)
            + sum(
                coalesce(store_events.rentals_started, 0)
                - coalesce(store_events.effective_returns, 0)
                - coalesce(store_events.returned_before_rented, 0)
            ) over (
                partition by stocked.film_id, stocked.store_id
                order by weeks.week_beginning
            ) as copies_out_at_end
    from stocked
    cross join weeks
    left join store_events
        on store_events.film_id = stocked.film_id
        and store_events.store_id = stocked.store_id
        and store_events.week_beginning = weeks.week_beginning
    left join weekly_film_store_demand_before
        on weekly_film_store_demand_before.film_id = stocked.film_id
        and weekly_film_store_demand_before.store_id = stocked.store_id
),

final as (
    select
        running.week_beginning,
        running.film_id,
        running.store_id,
        running.copies_owned::integer as copies_owned,
        running.new_rentals::integer as new_rentals,
        running.effective_returns::integer as effective_returns,
        running.inferred_returns::integer as inferred_returns,
        running.copies_out_at_end::integer as copies_out_at_end,
        -- out when the week began (= at the end of the week before), plus the rise within it
        (running.copies_out_at_end - running.change_in_week + running.peak_rise)::integer
            as peak_copies_out,
        running.copies_out_at_end - running.change_in_week + running.peak_rise
            >= running.copies_owned as is_stock_out
    from running
)

select * from final
