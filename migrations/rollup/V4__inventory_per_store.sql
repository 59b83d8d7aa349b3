-- Inventory per store, effective returns, peak concurrency and forecasting features
--
-- The tables the forecasting models fill (their meaning and logic in models/<table>.sql; the
-- method in docs/forecasting.md):
--   int_weekly_store_events    what happened to rentals per film, store and week, with every
--                              rental ended at its effective return
--   weekly_film_store_demand   copies owned, out at the end of the week and at the week's peak,
--                              per film, store and week
--   film_store_weekly_features one dense row per film, store and week for a forecaster: lags,
--                              rolling means and maxima, flags, baseline forecasts and the target
-- and two columns of rollup.weekly_rentals with the effective figures beside the recorded ones.
--
-- An effective return needs the next rental of the same copy: raw_rental_copy_idx finds it, and
-- raw_rental_open_idx the rentals never returned (every run looks at all of them).

create index raw_rental_copy_idx on rollup.raw_rental (inventory_id, rental_date, rental_id);

create index raw_rental_open_idx on rollup.raw_rental (rental_id) where return_date is null;

alter table rollup.weekly_rentals
    add column inferred_returns integer not null default 0,
    add column effective_outstanding_rentals integer not null default 0;

create table rollup.int_weekly_store_events (
    film_id integer null,
    store_id integer null,
    week_beginning date not null,
    rentals_started bigint not null,
    effective_returns bigint not null,
    inferred_returns bigint not null,
    returned_before_rented bigint not null,
    peak_rise bigint not null
);

create index int_weekly_store_events_week_idx
    on rollup.int_weekly_store_events (week_beginning, film_id, store_id);

create table rollup.weekly_film_store_demand (
    week_beginning date not null,
    film_id integer not null,
    store_id integer not null,
    copies_owned integer not null,
    new_rentals integer not null,
    effective_returns integer not null,
    inferred_returns integer not null,
    copies_out_at_end integer not null,
    peak_copies_out integer not null,
    is_stock_out boolean not null,
    constraint weekly_film_store_demand_pkey primary key (week_beginning, film_id, store_id),
    constraint weekly_film_store_demand_has_copies check (copies_owned > 0)
);

create table rollup.film_store_weekly_features (
    week_beginning date not null,
    film_id integer not null,
    store_id integer not null,
    week_of_year integer not null,
    rental_rate numeric(4, 2) null,
    rental_duration smallint null,
    replacement_cost numeric(5, 2) null,
    copies_owned integer not null,
    new_rentals integer not null,
    peak_copies_out integer not null,
    peak_lag_1 integer null,
    peak_lag_2 integer null,
    peak_lag_3 integer null,
    peak_lag_4 integer null,
    new_rentals_lag_1 integer null,
    peak_mean_4 numeric(12, 4) not null,
    peak_max_4 integer not null,
    new_rentals_mean_4 numeric(12, 4) not null,
    weeks_since_last_rental integer null,
    is_gap_week boolean not null,
    is_partial_week boolean not null,
    has_inferred_returns boolean not null,
    forecast_last_week integer not null,
    forecast_mean_4 numeric(12, 4) not null,
    target_next_peak integer null,
    is_target_usable boolean not null,
    constraint film_store_weekly_features_pkey primary key (week_beginning, film_id, store_id)
);

alter table rollup.refresh_state
    add column last_store_rows_recomputed bigint null;

comment on column rollup.refresh_state.last_store_rows_recomputed is 'rows recomputed in rollup.weekly_film_store_demand';
