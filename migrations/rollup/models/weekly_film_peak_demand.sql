-- weekly_film_peak_demand: weekly_film_store_demand summed over the stores, per film and week
--
-- materialized: view
-- grain: one row per week of the series and film with at least one copy in some store
-- sources: rollup.weekly_film_store_demand
--
-- The film-level view of the per-store table, for those who plan per title. Stores do not share
-- copies, so the copies a film needs at once are the sum of its stores' peaks
-- (peak_copies_out_all_stores), which can exceed the most copies of the film out at one moment
-- across all stores (the stores' peaks need not coincide).
--
-- columns:
--   week_beginning              the Monday (UTC) the week starts
--   film_id                     the film
--   copies_owned                copies of the film in all stores
--   new_rentals                 rentals of the film started in the week
--   effective_returns           effective returns of the film in the week (recorded or
--                               inferred)
--   inferred_returns            of those, inferred from the copy's next rental
--   copies_out_at_end           copies of the film out at the end of the week
--   peak_copies_out_all_stores  sum of the stores' peak copies out
--   stores_stocked_out          stores in which every copy of the film was out at once

with

weekly_film_store_demand as (
    select
        weekly_film_store_demand.week_beginning,
        weekly_film_store_demand.film_id,
        weekly_film_store_demand.copies_owned,
        weekly_film_store_demand.new_rentals,
        weekly_film_store_demand.effective_returns,
        weekly_film_store_demand.inferred_returns,
        weekly_film_store_demand.copies_out_at_end,
        weekly_film_store_demand.peak_copies_out,
        weekly_film_store_demand.is_stock_out
    from rollup.weekly_film_store_demand
),

final as (
    select
        weekly_film_store_demand.week_beginning,
        weekly_film_store_demand.film_id,
        sum(weekly_film_store_demand.copies_owned)::integer as copies_owned,
        sum(weekly_film_store_demand.new_rentals)::integer as new_rentals,
        sum(weekly_film_store_demand.effective_returns)::integer as effective_returns,
        sum(weekly_film_store_demand.inferred_returns)::integer as inferred_returns,
        sum(weekly_film_store_demand.copies_out_at_end)::integer as copies_out_at_end,
        sum(weekly_film_store_demand.peak_copies_out)::integer as peak_copies_out_all_stores,
        count(*) filter (where weekly_film_store_demand.is_stock_out)::integer
            as stores_stocked_out
    from weekly_film_store_demand
    group by weekly_film_store_demand.week_beginning, weekly_film_store_demand.film_id
)

select * from final
