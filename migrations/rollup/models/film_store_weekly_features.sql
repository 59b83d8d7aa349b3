-- film_store_weekly_features: one dense row per film, store and week, as a forecaster of next week's peak copies out reads it
--
-- materialized: incremental
-- parameters: first_week date, from_week date, last_week date
-- strategy: merge
-- grain: one row per row of weekly_film_store_demand (week, film and store owning a copy)
-- sources: rollup.weekly_film_store_demand, rollup.weekly_rentals, rollup.raw_film,
--   rollup.film_store_weekly_features
--
-- The row of week w holds what is known at the end of week w (the week itself and the weeks
-- before it: no leakage) and, as the target, the peak copies out of week w + 1. The demand
-- measure is peak_copies_out (weekly_film_store_demand): the copies a store needed at once,
-- which is what sizing inventory asks. Lags are NULL before the series starts; the 4-week means
-- and maxima take the weeks there are (fewer at the start). Two baselines forecast the target:
-- last week's value (forecast_last_week) and the mean of the last 4 weeks (forecast_mean_4);
-- forecast_backtest scores them.
--
-- Flags: a gap week has no rental and no return anywhere (Pagila has 13, 2022-02-21 to
-- 2022-05-16: missing data, not zero demand); the last week of the series is partial (the data
-- stops inside it); has_inferred_returns marks the film-store-weeks whose figures rest on returns
-- inferred from the copy's next rental. is_target_usable says the row's week and its target week
-- are both complete (neither a gap week nor the partial last week, the target in the series):
-- train and score on the rows where it is true.
--
-- A run recomputes the rows from from_week on, which the runner sets to two weeks before the
-- first week weekly_film_store_demand recomputed or the week before the last week, whichever
-- comes first: a row's target and is_target_usable read the next week, and whether that one is
-- the partial last week, which moves when the series grows or shrinks. Lags and windows read the stored
-- demand from 4 weeks before; weeks_since_last_rental continues from the stored row of the week
-- before from_week.
--
-- columns:
--   week_beginning           the Monday (UTC) the week starts
--   film_id                  the film
--   store_id                 the store
--   week_of_year             ISO week number of week_beginning (1-53)
--   rental_rate              price of one rental (raw_film), as the source has it now
--   rental_duration          days a rental lasts before it is late (raw_film)
--   replacement_cost         price of replacing a copy (raw_film)
--   copies_owned             copies of the film in the store, as the source has them now
--   new_rentals              rentals started in the week
--   peak_copies_out          the most copies out at once during the week
--   peak_lag_1               peak_copies_out of the week before; NULL before the series
--   peak_lag_2               of 2 weeks before
--   peak_lag_3               of 3 weeks before
--   peak_lag_4               of 4 weeks before
--   new_rentals_lag_1        new_rentals of the week before; NULL before the series
--   peak_mean_4              mean peak_copies_out over this week and the 3 before (the weeks
--                            there are), 4 decimals
--   peak_max_4               greatest peak_copies_out over this week and the 3 before
--   new_rentals_mean_4       mean new_rentals over this week and the 3 before, 4 decimals
--   weeks_since_last_rental  weeks since the last week with a rental of the film in the store
--                            (0: this week); NULL when it was never rented there
--   is_gap_week              no rental and no return anywhere this week (missing data, not
--                            zero demand)
--   is_partial_week          the last week of the series: the data stops inside it
--   has_inferred_returns     some return of this film-store-week was inferred
--   forecast_last_week       baseline forecast of next week's peak: this week's
--   forecast_mean_4          baseline forecast of next week's peak: peak_mean_4
--   target_next_peak         peak_copies_out of the next week; NULL for the last week
--   is_target_usable         this week and the next are complete: neither is a gap week or the
--                            partial last week

with

refresh_plan as not materialized (
    select
        first_week,
        from_week,
        last_week
),

weekly_film_store_demand as (
    select
        weekly_film_store_demand.week_beginning,
        weekly_film_store_demand.film_id,
        weekly_film_store_demand.store_id,
        weekly_film_store_demand.copies_owned,
        weekly_film_store_demand.new_rentals,
        weekly_film_store_demand.inferred_returns,
        weekly_film_store_demand.peak_copies_out
    from rollup.weekly_film_store_demand
    -- from 4 weeks before from_week, for the lags and windows; within the series (rows outside
    -- it are deleted after the run writes the tables)
    where weekly_film_store_demand.week_beginning between greatest(from_week - 28, first_week)
        and last_week
),

weekly_rentals as (
    select
        weekly_rentals.week_beginning,
        weekly_rentals.new_rentals = 0 and weekly_rentals.returned_rentals = 0 as is_gap_week
    from rollup.weekly_rentals
    where weekly_rentals.week_beginning between greatest(from_week - 28, first_week) and last_week
),

raw_film as (
    select
        raw_film.film_id,
        raw_film.rental_rate,
        raw_film.rental_duration,
        raw_film.replacement_cost
    from rollup.raw_film
),

-- the last week with a rental as of the week before from_week, from its stored row
last_rental_before as (
    select
        film_store_weekly_features.film_id,
        film_store_weekly_features.store_id,
        film_store_weekly_features.week_beginning
            - 7 * film_store_weekly_features.weeks_since_last_rental as last_rental_week
    from rollup.film_store_weekly_features
    inner join refresh_plan
        on film_store_weekly_features.week_beginning = refresh_plan.from_week - 7
        and refresh_plan.from_week > refresh_plan.first_week
),

windowed as (
    select
        weekly_film_store_demand.week_beginning,
        weekly_film_store_demand.film_id,
        weekly_film_store_demand.store_id,
        weekly_film_store_demand.copies_owned,
        weekly_film_store_demand.new_rentals,
        weekly_film_store_demand.inferred_returns,
        weekly_film_store_demand.peak_copies_out,
        weekly_rentals.is_gap_week,
        lag(weekly_film_store_demand.peak_copies_out, 1) over film_store_weeks as peak_lag_1,
        lag(weekly_film_store_demand.peak_copies_out, 2) over film_store_weeks as peak_lag_2,
        lag(weekly_film_store_demand.peak_copies_out, 3) over film_store_weeks as peak_lag_3,
        lag(weekly_film_store_demand.peak_copies_out, 4) over film_store_weeks as peak_lag_4,
        lag(weekly_film_store_demand.new_rentals, 1) over film_store_weeks as new_rentals_lag_1,
        avg(weekly_film_store_demand.peak_copies_out) over last_4_weeks as peak_mean_4,
        max(weekly_film_store_demand.peak_copies_out) over last_4_weeks as peak_max_4,
        avg(weekly_film_store_demand.new_rentals) over last_4_weeks as new_rentals_mean_4,
        max(
            case when weekly_film_store_demand.new_rentals > 0
                then weekly_film_store_demand.week_beginning end
        ) over film_store_weeks as last_rental_week,
        lead(weekly_film_store_demand.peak_copies_out) over film_store_weeks as target_next_peak,
        lead(weekly_rentals.is_gap_week) over film_store_weeks as is_next_week_gap
    from weekly_film_store_demand
    inner join weekly_rentals
        on weekly_rentals.week_beginning = weekly_film_store_demand.week_beginning
    window
        film_store_weeks as (
            partition by weekly_film_store_demand.film_id, weekly_film_store_demand.store_id
            order by weekly_film_store_demand.week_beginning
        ),
        last_4_weeks as (
            partition by weekly_film_store_demand.film_id, weekly_film_store_demand.store_id
            order by weekly_film_store_demand.week_beginning
            rows between 3 preceding and current row
        )
),

final as (
    select
        windowed.week_beginning,
        windowed.film_id,
        windowed.store_id,
        extract(week from windowed.week_beginning)::integer as week_of_year,
        raw_film.rental_rate,
        raw_film.rental_duration,
        raw_film.replacement_cost,
        windowed.copies_owned,
        windowed.new_rentals,
        windowed.peak_copies_out,
        windowed.peak_lag_1,
        windowed.peak_lag_2,
        windowed.peak_lag_3,
        windowed.peak_lag_4,
        windowed.new_rentals_lag_1,
        round(windowed.peak_mean_4, 4)::numeric(12, 4) as peak_mean_4,
        windowed.peak_max_4,
        round(windowed.new_rentals_mean_4, 4)::numeric(12, 4) as new_rentals_mean_4,
        (
            windowed.week_beginning
            - greatest(windowed.last_rental_week, last_rental_before.last_rental_week)
        ) / 7 as weeks_since_last_rental,
        windowed.is_gap_week,
        windowed.week_beginning = refresh_plan.last_week as is_partial_week,
        windowed.inferred_returns > 0 as has_inferred_returns,
        windowed.peak_copies_out as forecast_last_week,
        round(windowed.peak_mean_4, 4)::numeric(12, 4) as forecast_mean_4,
        windowed.target_next_peak,
        coalesce(
            windowed.week_beginning + 7 < refresh_plan.last_week
            and not windowed.is_gap_week
            and not windowed.is_next_week_gap,
            false
        ) as is_target_usable
    from windowed
    inner join refresh_plan
        on windowed.week_beginning >= refresh_plan.from_week
    left join raw_film
        on raw_film.film_id = windowed.film_id
    left join last_rental_before
        on last_rental_before.film_id = windowed.film_id
        and last_rental_before.store_id = windowed.store_id
)

select * from final
