-- rollup.refresh_state: where the incremental rollup stands
--
-- Grain: exactly one row (refresh_state_id is always true).
-- Purpose: what the next run needs to read only what changed (the watermark, the mirror's row
--          count and id checksum), and what the last run did, for `runner status`. Written in the
--          same transaction as the mirror and the weekly tables, so all of them move together or
--          not at all; a run also locks this row, so two runs never interleave.
-- Sources: written by the runner (src/rollup.rs).
--
--   refresh_state_id        always true: the single row
--   watermark_at            the source's clock (now()) at the snapshot the last run read; NULL
--                           before the first run, which is then a full load. The next run copies
--                           the rentals with last_update >= watermark_at - lookback
--   source_rows             rentals at the source at that snapshot (= rows in raw_rental)
--   source_id_checksum      sum of hashint4(rental_id) over those rentals (= over raw_rental);
--                           with source_rows, what a run compares with the source to find
--                           deleted rentals and rentals the last_update window missed
--   last_update_max_at      the greatest rental.last_update the runner has read
--   last_run_at             when the last run committed (rollup database clock)
--   last_mode               full | incremental
--   last_lookback_seconds   the lookback the last run used (--lookback)
--   last_rows_read          rental rows the last run copied from the source
--   last_rows_inserted      rentals new to the mirror
--   last_rows_updated       rentals whose rental_date, return_date or inventory_id changed
--   last_rows_deleted       rentals gone from the source
--   last_checksum_mismatch  true when count and id checksum disagreed after the copy, so the run
--                           compared the id sets and row hashes (deletes, rows the window missed)
--   last_first_changed_week the first week any change touched (old and new dates); NULL when
--                           nothing changed
--   last_first_recomputed_week  the first week recomputed and merged; NULL when none
--   last_weeks_recomputed   weeks recomputed in rollup.weekly_rentals
--   last_film_rows_recomputed   rows recomputed in rollup.weekly_film_demand

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
