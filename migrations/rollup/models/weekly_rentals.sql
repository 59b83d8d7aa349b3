-- weekly_rentals: rentals started, returned and out, per week
--
-- materialized: incremental
-- parameters: first_week date, from_week date, last_week date
-- strategy: merge
-- grain: one row per week, every week from the week of the first rental to the week of the
--   latest rental or return, with no gaps (weeks without any rental or return included)
-- sources: rollup.int_weekly_events, rollup.int_weekly_store_events, rollup.weekly_rentals
--
-- The weekly series of outstanding and returned rentals of the Pagila DVD stores, kept equal to
-- a full recompute by `runner migrate rollup`: each run MERGEs the weeks from from_week to
-- last_week (rows that differ are updated, new weeks inserted), starting the running totals
-- from the stored row of the week before from_week, which no change touched; the weeks before
-- it stay as stored. docs/rollup.md says how the weeks are chosen and why the result is exact.
--
-- A week starts Monday 00:00 UTC (`date_trunc('week', ts at time zone 'UTC')`), whatever the
-- session's time zone, and ends at the next Monday 00:00 UTC (excluded): a rental at Sunday
-- 23:59:59 belongs to that week, one at Monday 00:00:00 to the next.
--
-- With rw the rental week and tw the return week of a rental, and weeks compared as whole weeks:
-- outstanding at the end of week w means rw <= w and not tw <= w; out at some moment of week w
-- means rw <= w and not tw < w. So each total is (rentals started up to w) - (rentals that
-- stopped counting up to w): a running sum over weeks of rentals_started minus, for
-- outstanding, returned_in_order (on tw) + returned_out_of_order (on rw: never outstanding),
-- and for out during the week, returned_in_order of the week before (a return in week w - 7 is
-- no longer out in week w) + returned_out_of_order (on rw).
--
-- columns:
--   week_beginning           the Monday (UTC) the week starts; primary key
--   new_rentals              rentals whose rental_date falls in the week
--   returned_rentals         rentals whose return_date falls in the week
--   outstanding_rentals      rentals out at the end of the week: rented before it ended and not
--                            returned before it ended (the challenge's OutstandingRentals)
--   rentals_out_during_week  rentals out at any moment of the week: rented before it ended and
--                            not returned before it began (= outstanding at its end + returned
--                            during it)
--   inferred_returns         rentals whose effective return falls in the week and was inferred:
--                            the copy was rented again before any recorded return
--                            (int_weekly_store_events, docs/forecasting.md)
--   effective_outstanding_rentals rentals out at the end of the week when each ends at its
--                            effective return: outstanding_rentals without the returns never
--                            recorded

with

refresh_plan as not materialized (
    select
        first_week,
        from_week,
        last_week
),

-- the events from the week before from_week on, all films together
weekly_events as (
    select
        int_weekly_events.week_beginning,
        sum(int_weekly_events.rentals_started) as rentals_started,
        sum(int_weekly_events.rentals_returned) as rentals_returned,
        sum(int_weekly_events.returned_in_order) as returned_in_order,
        sum(int_weekly_events.returned_out_of_order) as returned_out_of_order
    from rollup.int_weekly_events
    where int_weekly_events.week_beginning >= from_week - 7
    group by int_weekly_events.week_beginning
),

-- the same weeks with every rental ended at its effective return
weekly_effective_events as (
    select
        int_weekly_store_events.week_beginning,
        sum(
            int_weekly_store_events.rentals_started
            - int_weekly_store_events.effective_returns
            - int_weekly_store_events.returned_before_rented
        ) as effective_change,
        sum(int_weekly_store_events.inferred_returns) as inferred_returns
    from rollup.int_weekly_store_events
    where int_weekly_store_events.week_beginning >= from_week
    group by int_weekly_store_events.week_beginning
),

-- the running totals up to the week before from_week, as stored (none when from_week is the first)
weekly_rentals_before as (
    select
        weekly_rentals.outstanding_rentals,
        weekly_rentals.rentals_out_during_week,
        weekly_rentals.effective_outstanding_rentals
    from rollup.weekly_rentals
    inner join refresh_plan
        on weekly_rentals.week_beginning = refresh_plan.from_week - 7
        and refresh_plan.from_week > refresh_plan.first_week
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

all_weeks as (
    select
        weeks.week_beginning,
        coalesce(weekly_events.rentals_started, 0) as rentals_started,
        coalesce(weekly_events.rentals_returned, 0) as rentals_returned,
        coalesce(weekly_events.returned_in_order, 0) as returned_in_order,
        coalesce(weekly_events.returned_out_of_order, 0) as returned_out_of_order,
        lag(coalesce(weekly_events.returned_in_order, 0)) over (order by weeks.week_beginning)
            as returned_in_order_week_before
    from weeks
    left join weekly_events
        on weekly_events.week_beginning = weeks.week_beginning
),

final as (
    select
        all_weeks.week_beginning,
        all_weeks.rentals_started::integer as new_rentals,
        all_weeks.rentals_returned::integer as returned_rentals,
        (
            coalesce(weekly_rentals_before.outstanding_rentals, 0)
            + sum(
                all_weeks.rentals_started
                - all_weeks.returned_in_order
                - all_weeks.returned_out_of_order
            ) over running_total
        )::integer as outstanding_rentals,
        (
            coalesce(weekly_rentals_before.rentals_out_during_week, 0)
            + sum(
                all_weeks.rentals_started
                - all_weeks.returned_in_order_week_before
                - all_weeks.returned_out_of_order
            ) over running_total
        )::integer as rentals_out_during_week,
        coalesce(weekly_effective_events.inferred_returns, 0)::integer as inferred_returns,
        (
            coalesce(weekly_rentals_before.effective_outstanding_rentals, 0)
            + sum(coalesce(weekly_effective_events.effective_change, 0)) over running_total
        )::integer as effective_outstanding_rentals
    from all_weeks
    inner join refresh_plan
        on all_weeks.week_beginning >= refresh_plan.from_week
    left join weekly_effective_events
        on weekly_effective_events.week_beginning = all_weeks.week_beginning
    left join weekly_rentals_before
        on true
    window running_total as (order by all_weeks.week_beginning)
)

select * from final
