-- forecast_backtest: how far each baseline forecast of next week's peak copies out was off, over the history
--
-- materialized: view
-- grain: one row per baseline and scope: each film and store, each film (its stores together),
--   and overall
-- sources: rollup.film_store_weekly_features
--
-- Each row of film_store_weekly_features with a usable target (is_target_usable: this week and
-- the next are both complete, neither a gap week nor the partial last week) scores both
-- baselines against what happened:
-- last_week forecasts next week's peak copies out as this week's, mean_4 as the mean of the last
-- 4 weeks. MAE is the mean absolute error in copies; WAPE the absolute errors summed over the
-- actual peaks summed (NULL when nothing was rented: no demand to be off by a share of). On
-- Pagila that is about 15 scored weeks per film and store, with a gap in the middle: a first
-- answer, not a model (docs/forecasting.md).
--
-- columns:
--   scope          film_store | film | overall
--   film_id        the film; NULL for overall
--   store_id       the store; NULL for film and overall
--   baseline       last_week | mean_4
--   weeks_scored   film-store-weeks scored
--   actual_total   sum of the actual peaks scored
--   mae            mean absolute error, copies, 4 decimals
--   wape           sum of absolute errors / sum of actual peaks, 4 decimals; NULL when the
--                  actual peaks sum to 0

with

film_store_weekly_features as (
    select
        film_store_weekly_features.film_id,
        film_store_weekly_features.store_id,
        film_store_weekly_features.forecast_last_week,
        film_store_weekly_features.forecast_mean_4,
        film_store_weekly_features.target_next_peak
    from rollup.film_store_weekly_features
    where film_store_weekly_features.is_target_usable
),

errors as (
    select
        film_store_weekly_features.film_id,
        film_store_weekly_features.store_id,
        baselines.baseline,
        film_store_weekly_features.target_next_peak as actual,
        abs(film_store_weekly_features.target_next_peak - baselines.forecast) as absolute_error
    from film_store_weekly_features
    cross join lateral (
        values
            ('last_week', film_store_weekly_features.forecast_last_week::numeric),
            ('mean_4', film_store_weekly_features.forecast_mean_4)
    ) as baselines (baseline, forecast)
),

final as (
    select
        case
            when grouping(errors.store_id) = 0 then 'film_store'
            when grouping(errors.film_id) = 0 then 'film'
            else 'overall'
        end as scope,
        errors.film_id,
        errors.store_id,
        errors.baseline,
        count(*)::integer as weeks_scored,
        sum(errors.actual)::bigint as actual_total,
        round(avg(errors.absolute_error), 4)::numeric(12, 4) as mae,
        round(sum(errors.absolute_error) / nullif(sum(errors.actual), 0), 4)::numeric(12, 4) as wape
    from errors
    group by grouping sets (
        (errors.baseline, errors.film_id, errors.store_id),
        (errors.baseline, errors.film_id),
        (errors.baseline)
    )
)

select * from final
