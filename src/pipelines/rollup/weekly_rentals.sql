-- recomputed weekly_rentals: rollup.weekly_rentals for the weeks this run recomputes
--
-- Grain: one row per week from $2 (from_week) to $3 (last_week).
-- Purpose: the rows the runner MERGEs into rollup.weekly_rentals (src/pipelines/rollup/merge.rs). A full
--          load recomputes every week; an incremental run only the weeks from the first week a
--          change touched, starting its running totals from the stored row of the week before,
--          which no change touched.
-- Sources: weekly_events (this run's temporary table, see weekly_events.sql),
--          rollup.weekly_rentals (the stored week before from_week).
-- Parameters (text, YYYY-MM-DD; the runner works them out, see docs/rollup.md):
--   $1 first_week  the first week of the whole series: the week of the first rental
--   $2 from_week   the first week to recompute; the weeks before it are kept as stored
--   $3 last_week   the last week of the series: the week of the latest rental or return
--
-- With rw the rental week and tw the return week of a rental, and weeks compared as whole
-- weeks (a week ends at the next Monday 00:00 UTC):
--   outstanding at the end of week w     rw <= w and not tw <= w
--   out at some moment of week w          rw <= w and not tw < w
-- so each total is (rentals started up to w) - (rentals that stopped counting up to w): a
-- running sum over weeks of rentals_started minus
--   outstanding: returned_in_order (on tw) + returned_out_of_order (on rw: never outstanding)
--   out:         returned_in_order of the week before (a return in week w - 7 is no longer out
--                in week w) + returned_out_of_order (on rw)
-- Whole weeks make the boundaries exact: a rental at Sunday 23:59:59 is in its week, a return
-- at Monday 00:00:00 in the next one (still outstanding at the end of the first).
--
--   week_beginning           the Monday (UTC) the week starts
--   new_rentals              rentals whose rental_date falls in the week
--   returned_rentals         rentals whose return_date falls in the week
--   outstanding_rentals      rentals out at the end of the week
--   rentals_out_during_week  rentals out at any moment of the week

with

refresh_plan as not materialized (
    select
        $1::text::date as first_week,
        $2::text::date as from_week,
        $3::text::date as last_week
),

weekly_events as (
    select
        weekly_events.week_beginning,
        sum(weekly_events.rentals_started) as rentals_started,
        sum(weekly_events.rentals_returned) as rentals_returned,
        sum(weekly_events.returned_in_order) as returned_in_order,
        sum(weekly_events.returned_out_of_order) as returned_out_of_order
    from pg_temp.weekly_events
    group by weekly_events.week_beginning
),

-- the running totals up to the week before from_week, as stored (none when from_week is the first)
weekly_rentals_before as (
    select
        weekly_rentals.outstanding_rentals,
        weekly_rentals.rentals_out_during_week
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
        )::integer as rentals_out_during_week
    from all_weeks
    inner join refresh_plan
        on all_weeks.week_beginning >= refresh_plan.from_week
    left join weekly_rentals_before
        on true
    window running_total as (order by all_weeks.week_beginning)
)

select * from final
