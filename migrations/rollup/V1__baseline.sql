-- The rollup database: its schema, applied once. Tables only; the logic that computes the
-- weekly tables is in models/ (one file per table, applied again whenever it changes), what
-- their columns mean in each model's header (carried into the catalog as comments).
--
-- This baseline replaced the history V1..V5 before the first release (CHANGELOG.md); a database
-- migrated by that history is refused with what to do.
--
-- runner_runs, runner_run_steps: the run history `runner status` reads, one row per
-- `runner migrate` or `runner stage` and one per step of it.

create table runner_runs (
    run_id bigint generated always as identity primary key,
    command varchar(32) not null,
    runner_version varchar(32) not null,
    started_at timestamptz not null,
    finished_at timestamptz null,
    outcome varchar(16) not null,
    error_message text null
);

create table runner_run_steps (
    run_id bigint not null references runner_runs (run_id),
    step_number int not null,
    step_name varchar(128) not null,
    duration_ms bigint not null,
    rows_affected bigint null,
    detail text null,
    primary key (run_id, step_number)
);

comment on table runner_runs is 'one row per runner migrate or runner stage of the rollup';
comment on column runner_runs.run_id is 'surrogate key, increasing with start time';
comment on column runner_runs.command is 'migrate | stage';
comment on column runner_runs.runner_version is 'version of the runner binary that made the run';
comment on column runner_runs.started_at is 'start time';
comment on column runner_runs.finished_at is 'end time; NULL while running or when the runner died';
comment on column runner_runs.outcome is 'running | succeeded | failed | abandoned';
comment on column runner_runs.error_message is 'the error that failed the run';
comment on table runner_run_steps is 'one row per step of a run in runner_runs';
comment on column runner_run_steps.run_id is 'the run (runner_runs.run_id)';
comment on column runner_run_steps.step_number is '1, 2, ... in execution order';
comment on column runner_run_steps.step_name is 'what the step is, e.g. migrations';
comment on column runner_run_steps.duration_ms is 'wall-clock duration in milliseconds';
comment on column runner_run_steps.rows_affected is 'rows the step wrote or counted, when it has such a number';
comment on column runner_run_steps.detail is 'one line on what it did, or why it failed';

-- runner_models: one row per model applied (models/*.sql), with the checksum of the text applied;
-- the runner applies a model again when its file's checksum differs.

create table runner_models (
    model_name text not null,
    materialized text not null,
    checksum text not null,
    applied_at timestamptz not null,
    constraint runner_models_pkey primary key (model_name)
);

comment on table runner_models is 'one row per model applied, with the checksum of its text';
comment on column runner_models.model_name is 'the model: its file name without .sql';
comment on column runner_models.materialized is 'view | table | incremental';
comment on column runner_models.checksum is 'sha256 of the model file applied, hex';
comment on column runner_models.applied_at is 'when it was applied';

-- rollup.raw_rental, rollup.raw_inventory, rollup.raw_film: the mirror of the Pagila source.
--
-- What `runner migrate rollup` copied from the source (public.rental, public.inventory,
-- public.film; SELECT only), verbatim, so the weekly tables are recomputed here without reading
-- the source again. Each run copies the rentals changed since the last one (by last_update,
-- re-reading a lookback window), removes the rentals deleted at the source, and copies the
-- small inventory and film tables whole. Only the models read these tables.
--
-- The three week columns of raw_rental are derived: the runner adds them to every rental as it
-- streams from the source (src/pipelines/rollup/stream.rs), so neither server spends time on
-- them. A week starts Monday 00:00 UTC, whatever the session's time zone
-- (`date_trunc('week', ts at time zone 'UTC')`), and ends at the next Monday 00:00 UTC.

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

-- rollup.refresh_state: where the incremental rollup stands. Exactly one row: what the next run
-- needs to read only what changed (the watermark, the mirror's row count and id checksum, the
-- models the tables were computed with), and what the last run did, for `runner status`.
-- Written in the same transaction as the mirror and the weekly tables, so they all move
-- together or not at all; a run also locks this row, so two runs never interleave.

create table rollup.refresh_state (
    refresh_state_id boolean not null default true,
    watermark_at timestamptz null,
    source_rows bigint not null default 0,
    source_id_checksum bigint not null default 0,
    last_update_max_at timestamptz null,
    last_run_at timestamptz null,
    last_mode text null,
    last_lookback_seconds bigint null,
    last_rows_read bigint null,
    last_rows_inserted bigint null,
    last_rows_updated bigint null,
    last_rows_deleted bigint null,
    last_checksum_mismatch boolean null,
    last_first_changed_week date null,
    last_first_recomputed_week date null,
    last_weeks_recomputed integer null,
    last_film_rows_recomputed bigint null,
    models_checksum text null,
    constraint refresh_state_pkey primary key (refresh_state_id),
    constraint refresh_state_single_row check (refresh_state_id),
    constraint refresh_state_last_mode check (last_mode in ('full', 'incremental'))
);

insert into rollup.refresh_state (refresh_state_id) values (true);

comment on table rollup.refresh_state is 'exactly one row: the watermark and checksum of the mirror, and what the last run did';
comment on column rollup.refresh_state.refresh_state_id is 'always true: the single row';
comment on column rollup.refresh_state.watermark_at is 'source clock at the snapshot the last run read; the next run copies rentals with last_update >= watermark_at - lookback; NULL before the first run';
comment on column rollup.refresh_state.source_rows is 'rentals at the source at that snapshot (= rows in raw_rental)';
comment on column rollup.refresh_state.source_id_checksum is 'sum of hashint4(rental_id) over those rentals (= over raw_rental)';
comment on column rollup.refresh_state.last_update_max_at is 'the greatest rental.last_update the runner has read';
comment on column rollup.refresh_state.last_run_at is 'when the last run committed';
comment on column rollup.refresh_state.last_mode is 'full | incremental';
comment on column rollup.refresh_state.last_lookback_seconds is 'the lookback the last run used (--lookback)';
comment on column rollup.refresh_state.last_rows_read is 'rental rows the last run copied from the source';
comment on column rollup.refresh_state.last_rows_inserted is 'rentals new to the mirror';
comment on column rollup.refresh_state.last_rows_updated is 'rentals whose rental_date, return_date or inventory_id changed';
comment on column rollup.refresh_state.last_rows_deleted is 'rentals gone from the source';
comment on column rollup.refresh_state.last_checksum_mismatch is 'true when count and id checksum disagreed after the copy, so id sets and row hashes were compared';
comment on column rollup.refresh_state.last_first_changed_week is 'the first week any change touched; NULL when nothing changed';
comment on column rollup.refresh_state.last_first_recomputed_week is 'the first week recomputed and merged; NULL when none';
comment on column rollup.refresh_state.last_weeks_recomputed is 'weeks recomputed in rollup.weekly_rentals';
comment on column rollup.refresh_state.last_film_rows_recomputed is 'rows recomputed in rollup.weekly_film_demand';
comment on column rollup.refresh_state.models_checksum is 'checksum of the rollup models the tables were last computed with; when the models change, the next run recomputes every week';

-- The tables the models fill (models/<table>.sql, materialized: incremental): types and keys
-- here, their meaning and logic in the model. Each run merges the weeks it recomputes.

create table rollup.int_weekly_events (
    film_id integer null,
    week_beginning date not null,
    rentals_started bigint not null,
    rentals_returned bigint not null,
    returned_in_order bigint not null,
    returned_out_of_order bigint not null
);

create index int_weekly_events_week_idx on rollup.int_weekly_events (week_beginning, film_id);

create table rollup.weekly_rentals (
    week_beginning date not null,
    new_rentals integer not null,
    returned_rentals integer not null,
    outstanding_rentals integer not null,
    rentals_out_during_week integer not null,
    constraint weekly_rentals_pkey primary key (week_beginning),
    constraint weekly_rentals_week_is_monday check (extract(isodow from week_beginning) = 1)
);

create table rollup.weekly_film_demand (
    week_beginning date not null,
    film_id integer not null,
    title text not null,
    copies_owned integer not null,
    new_rentals integer not null,
    returned_rentals integer not null,
    outstanding_rentals integer not null,
    rentals_out_during_week integer not null,
    utilisation numeric(12, 4) not null,
    constraint weekly_film_demand_pkey primary key (week_beginning, film_id),
    constraint weekly_film_demand_has_copies check (copies_owned > 0)
);
