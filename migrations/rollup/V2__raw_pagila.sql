-- rollup.raw_rental, rollup.raw_inventory, rollup.raw_film: the mirror of the Pagila source
--
-- Grain: raw_rental has one row per rental in the source's rental table; raw_inventory one row per
--        inventory copy; raw_film one row per film.
-- Purpose: what `runner migrate rollup` copied from the source, verbatim, so the weekly tables can
--          be recomputed here without reading the source again. Each run copies only the rentals
--          changed since the last run (by last_update, re-reading a lookback window), removes the
--          rentals deleted at the source, and re-copies the small inventory and film tables whole.
--          Only the runner's recompute reads these tables; analysts read rollup.weekly_rentals and
--          rollup.weekly_film_demand.
-- Sources: the Pagila database: public.rental, public.inventory, public.film (SELECT only).
--
-- raw_rental
--   rental_id           source rental_id; primary key
--   inventory_id        the copy rented (raw_inventory.inventory_id)
--   rental_date         when the copy was rented (timestamptz)
--   return_date         when it came back; NULL while it is out
--   last_update         source last_update: set by the source's trigger on every change
--   row_hash            hash_record(rental_id, rental_date, return_date, inventory_id) computed by
--                       the source server: when a run compares id sets, rows whose hash differs
--                       at the source are copied again
--   rental_week         Monday (UTC) of the week of rental_date
--   return_week         Monday (UTC) of the week of return_date; NULL while out
--   last_event_week     the later of rental_week and return_week, indexed: the incremental
--                       recompute reads only rentals with an event in the weeks it recomputes
--                       (or the week before)
-- raw_inventory
--   inventory_id        source inventory_id; primary key
--   film_id             the film this copy is of
--   store_id            the store that owns it
-- raw_film
--   film_id             source film_id; primary key
--   title               film title
--   rental_duration     days a rental lasts before it is late
--   rental_rate         price of one rental (dollars)
--   replacement_cost    price of replacing a lost copy (dollars)
--
-- The three week columns are derived: the runner adds them to every rental as it streams from
-- the source (src/rollup/stream.rs), so neither server spends time on them, and nothing else
-- writes the mirror. A week starts Monday 00:00 UTC whatever the session's time zone: the Monday
-- of the UTC day of the instant, date_trunc('week', ts at time zone 'UTC')::date. Columns are
-- ordered so rows need no alignment padding.
-- A full load (first run, --full-refresh) drops the indexes of raw_rental and rebuilds them after
-- its COPY, from their definitions in the catalog.

create schema rollup;

comment on schema rollup is 'the Pagila weekly rental rollup: the mirror of the source (raw_), the refresh state, the weekly tables';

create table rollup.raw_rental (
    rental_id integer not null,
    inventory_id integer not null,
    rental_date timestamptz not null,
    return_date timestamptz null,
    last_update timestamptz not null,
    row_hash integer not null,
    rental_week date not null,
    return_week date null,
    last_event_week date not null,
    constraint raw_rental_pkey primary key (rental_id)
);

create index raw_rental_last_event_week_idx on rollup.raw_rental (last_event_week);

create table rollup.raw_inventory (
    inventory_id integer not null,
    film_id integer not null,
    store_id integer not null,
    constraint raw_inventory_pkey primary key (inventory_id)
);

create table rollup.raw_film (
    film_id integer not null,
    title text not null,
    rental_duration smallint null,
    rental_rate numeric(4, 2) null,
    replacement_cost numeric(5, 2) null,
    constraint raw_film_pkey primary key (film_id)
);

comment on table rollup.raw_rental is 'one row per rental of the Pagila source, as copied by the last run';
comment on column rollup.raw_rental.rental_id is 'source rental_id; primary key';
comment on column rollup.raw_rental.rental_date is 'when the copy was rented';
comment on column rollup.raw_rental.return_date is 'when it came back; NULL while it is out';
comment on column rollup.raw_rental.inventory_id is 'the copy rented (raw_inventory.inventory_id)';
comment on column rollup.raw_rental.last_update is 'source last_update: set by the source trigger on every change';
comment on column rollup.raw_rental.row_hash is 'hash_record(rental_id, rental_date, return_date, inventory_id) computed by the source; compared when id sets are';
comment on column rollup.raw_rental.rental_week is 'Monday (UTC) of the week of rental_date, added by the runner as the row streams in';
comment on column rollup.raw_rental.return_week is 'Monday (UTC) of the week of return_date; NULL while out';
comment on column rollup.raw_rental.last_event_week is 'the later of rental_week and return_week; indexed for the incremental recompute';
comment on table rollup.raw_inventory is 'one row per inventory copy of the Pagila source';
comment on column rollup.raw_inventory.inventory_id is 'source inventory_id; primary key';
comment on column rollup.raw_inventory.film_id is 'the film this copy is of';
comment on column rollup.raw_inventory.store_id is 'the store that owns it';
comment on table rollup.raw_film is 'one row per film of the Pagila source';
comment on column rollup.raw_film.film_id is 'source film_id; primary key';
comment on column rollup.raw_film.title is 'film title';
comment on column rollup.raw_film.rental_duration is 'days a rental lasts before it is late';
comment on column rollup.raw_film.rental_rate is 'price of one rental (dollars)';
comment on column rollup.raw_film.replacement_cost is 'price of replacing a lost copy (dollars)';
