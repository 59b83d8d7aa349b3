-- severity: fail
-- description: no film-store-week has more copies out than the store owns (at the end of the week or at its peak)
-- Every rental ends at its effective return, so a copy is never out twice at once: a row breaking
-- this is a defect of the effective-return rule or of the running sums, not of the source data.
-- Weeks from rollup.check_from_week() on.
select
    weekly_film_store_demand.week_beginning,
    weekly_film_store_demand.film_id,
    weekly_film_store_demand.store_id,
    weekly_film_store_demand.copies_owned,
    weekly_film_store_demand.copies_out_at_end,
    weekly_film_store_demand.peak_copies_out
from rollup.weekly_film_store_demand
where weekly_film_store_demand.week_beginning >= rollup.check_from_week()
    and (
        weekly_film_store_demand.peak_copies_out > weekly_film_store_demand.copies_owned
        or weekly_film_store_demand.copies_out_at_end > weekly_film_store_demand.peak_copies_out
        or weekly_film_store_demand.copies_out_at_end < 0
        or weekly_film_store_demand.is_stock_out
            <> (weekly_film_store_demand.peak_copies_out >= weekly_film_store_demand.copies_owned)
    )
