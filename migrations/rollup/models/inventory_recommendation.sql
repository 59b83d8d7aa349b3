-- inventory_recommendation: copies each store needs of each film at a 90% service level, against the copies it owns
--
-- materialized: view
-- grain: one row per film and store owning at least one copy of it
-- sources: rollup.film_store_weekly_features
--
-- A first answer to "how many copies": the copies needed are the 90th percentile of the weekly
-- peak copies out over the complete weeks of the series (not gap weeks, not the partial last
-- week), so in 9 weeks out of 10 of the history the store would have had a copy for every rental
-- that happened. Demand is censored: in a stock-out week every copy was out and customers may
-- have been turned away, so the percentile cannot exceed copies_owned. When more than 10% of the
-- weeks were stock-outs, the service level was not met with the copies owned, and one more copy
-- is recommended (a lower bound: the true need is unknown). surplus = copies_owned -
-- copies_recommended: positive means copies to move or sell, negative a shortage. The next-week
-- forecasts are the two baselines of the last complete week. docs/forecasting.md says what this
-- can and cannot tell from 29 weeks with a gap.
--
-- columns:
--   film_id                the film
--   store_id               the store
--   copies_owned           copies of the film in the store now
--   weeks_observed         complete weeks (not gap weeks, not the partial last week)
--   mean_peak              mean weekly peak copies out over those weeks, 4 decimals
--   p90_peak               90th percentile of the weekly peak copies out (a copy count)
--   stock_out_weeks        of those weeks, how many had every copy out at once
--   stock_out_share        stock_out_weeks / weeks_observed, 4 decimals
--   copies_recommended     p90_peak, plus 1 when stock_out_share exceeds 10%
--   surplus                copies_owned - copies_recommended (negative: a shortage)
--   forecast_last_week     next week's peak by the last-week baseline, from the last complete
--                          week
--   forecast_mean_4        next week's peak by the 4-week-mean baseline, from the last complete
--                          week

with

film_store_weekly_features as (
    select
        film_store_weekly_features.week_beginning,
        film_store_weekly_features.film_id,
        film_store_weekly_features.store_id,
        film_store_weekly_features.copies_owned,
        film_store_weekly_features.peak_copies_out,
        film_store_weekly_features.forecast_last_week,
        film_store_weekly_features.forecast_mean_4
    from rollup.film_store_weekly_features
    where not film_store_weekly_features.is_gap_week
        and not film_store_weekly_features.is_partial_week
),

observed as (
    select
        film_store_weekly_features.film_id,
        film_store_weekly_features.store_id,
        max(film_store_weekly_features.copies_owned) as copies_owned,
        count(*) as weeks_observed,
        avg(film_store_weekly_features.peak_copies_out) as mean_peak,
        percentile_disc(0.9) within group (
            order by film_store_weekly_features.peak_copies_out
        ) as p90_peak,
        count(*) filter (
            where film_store_weekly_features.peak_copies_out >= film_store_weekly_features.copies_owned
        ) as stock_out_weeks,
        max(film_store_weekly_features.week_beginning) as last_complete_week
    from film_store_weekly_features
    group by film_store_weekly_features.film_id, film_store_weekly_features.store_id
),

final as (
    select
        observed.film_id,
        observed.store_id,
        observed.copies_owned::integer as copies_owned,
        observed.weeks_observed::integer as weeks_observed,
        round(observed.mean_peak, 4)::numeric(12, 4) as mean_peak,
        observed.p90_peak::integer as p90_peak,
        observed.stock_out_weeks::integer as stock_out_weeks,
        round(observed.stock_out_weeks::numeric / observed.weeks_observed, 4)::numeric(12, 4)
            as stock_out_share,
        (
            observed.p90_peak
            + case when observed.stock_out_weeks::numeric / observed.weeks_observed > 0.1
                then 1 else 0 end
        )::integer as copies_recommended,
        (
            observed.copies_owned
            - observed.p90_peak
            - case when observed.stock_out_weeks::numeric / observed.weeks_observed > 0.1
                then 1 else 0 end
        )::integer as surplus,
        last_week.forecast_last_week,
        last_week.forecast_mean_4
    from observed
    inner join film_store_weekly_features as last_week
        on last_week.film_id = observed.film_id
        and last_week.store_id = observed.store_id
        and last_week.week_beginning = observed.last_complete_week
)

select * from final
