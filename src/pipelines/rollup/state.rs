//! The rollup database's bookkeeping for a run, all in the run's one transaction: the session
//! settings, the state row (`rollup.refresh_state`: watermark, source count and checksum, what
//! the last run did), locked for the run so two runs never interleave, the run's temporary tables,
//! and what `runner status` shows.

use anyhow::{Context, Result, bail};
use postgres::{Client, Transaction};

use super::report::{DATE_FORMAT, RefreshOptions, RefreshReport};
use super::source::{Summary, TIMESTAMP_FORMAT};

/// The state row, locked for the run.
pub struct State {
    pub watermark: Option<String>,
    pub source_rows: i64,
    pub source_id_checksum: i64,
    /// The checksum of the models the tables were computed with (see merge.rs).
    pub models_checksum: Option<String>,
}

/// Session settings for the run (this transaction only): memory for the big sorts, hashes and
/// index builds of a full load, and index lookups costed as on a cached or SSD-backed mirror, so an
/// incremental run finds its few thousand rentals by key instead of scanning millions.
pub fn tune_session(tx: &mut Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "set local jit = off; \
         set local work_mem = '256MB'; \
         set local maintenance_work_mem = '512MB'; \
         set local random_page_cost = 1.1",
    )
    .context("setting work_mem and maintenance_work_mem for the run")
}

/// Locks and reads the state row, so two runs never interleave.
pub fn lock_state(tx: &mut Transaction<'_>) -> Result<State> {
    let row = tx
        .query_opt(
            &format!(
                "select \
                     to_char(watermark_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     source_rows, \
                     source_id_checksum, \
                     models_checksum \
                 from rollup.refresh_state \
                 for update"
            ),
            &[],
        )
        .context("reading rollup.refresh_state (has `runner migrate rollup` created it?)")?;
    let Some(row) = row else {
        bail!("rollup.refresh_state has no row: it is created by migration V1__baseline.sql");
    };
    Ok(State {
        watermark: row.get(0),
        source_rows: row.get(1),
        source_id_checksum: row.get(2),
        models_checksum: row.get(3),
    })
}

/// The run's temporary table (dropped at commit): rental_change, what changed and how.
pub fn create_work_tables(tx: &mut Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "create temporary table rental_change ( \
             rental_id integer not null, \
             change_kind text not null, \
             old_rental_week date, \
             old_return_week date, \
             old_inventory_id integer, \
             new_rental_week date, \
             new_return_week date, \
             new_inventory_id integer \
         ) on commit drop",
    )
    .context("creating the temporary table rental_change")
}

/// Moves the watermark and records what the run did. `summary` is the source's count and
/// checksum at the snapshot (= the mirror's now), `last_update_max` the greatest last_update read.
pub fn write_state(
    tx: &mut Transaction<'_>,
    summary: &Summary,
    last_update_max: Option<&str>,
    models_checksum: &str,
    report: &RefreshReport,
    options: &RefreshOptions,
) -> Result<()> {
    let as_i64 = |n: u64| n as i64;
    tx.execute(
        "update rollup.refresh_state set \
             watermark_at = $1::text::timestamptz, \
             source_rows = $2, \
             source_id_checksum = $3, \
             last_update_max_at = greatest(last_update_max_at, $4::text::timestamptz), \
             last_run_at = clock_timestamp(), \
             last_mode = $5, \
             last_lookback_seconds = $6, \
             last_rows_read = $7, \
             last_rows_inserted = $8, \
             last_rows_updated = $9, \
             last_rows_deleted = $10, \
             last_checksum_mismatch = $11, \
             last_first_changed_week = $12::text::date, \
             last_first_recomputed_week = $13::text::date, \
             last_weeks_recomputed = $14, \
             last_film_rows_recomputed = $15, \
             models_checksum = $16, \
             last_blocks_compared = $17, \
             last_full_path_reason = $18, \
             last_store_rows_recomputed = $19",
        &[
            &report.watermark,
            &summary.rows,
            &summary.id_checksum,
            &last_update_max,
            &report.mode.name(),
            &i64::try_from(options.lookback_seconds).unwrap_or(i64::MAX),
            &as_i64(report.rows_read),
            &as_i64(report.rows_inserted),
            &as_i64(report.rows_updated),
            &as_i64(report.rows_deleted),
            &report.checksum_mismatch,
            &report.first_changed_week,
            &report.first_recomputed_week,
            &(report.weeks_recomputed as i32),
            &as_i64(report.film_rows_recomputed),
            &models_checksum,
            &as_i64(report.blocks_compared),
            &report.full_path_reason,
            &as_i64(report.store_rows_recomputed),
        ],
    )
    .context("writing rollup.refresh_state")?;
    Ok(())
}

/// The state row and the series, for `runner status`; `None` before the first run (or before
/// the migrations created the state table).
pub fn status(client: &mut Client) -> Result<Option<serde_json::Value>> {
    let exists: bool = client
        .query_one(
            "select to_regclass('rollup.refresh_state') is not null \
                 and to_regclass('rollup.weekly_rentals') is not null",
            &[],
        )
        .context("looking for rollup.refresh_state")?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_opt(
            &format!(
                "select \
                     to_char(refresh_state.watermark_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     refresh_state.source_rows, \
                     to_char(refresh_state.last_update_max_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     to_char(refresh_state.last_run_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     refresh_state.last_mode, \
                     refresh_state.last_lookback_seconds, \
                     refresh_state.last_rows_read, \
                     refresh_state.last_rows_inserted, \
                     refresh_state.last_rows_updated, \
                     refresh_state.last_rows_deleted, \
                     refresh_state.last_checksum_mismatch, \
                     to_char(refresh_state.last_first_changed_week, '{DATE_FORMAT}'), \
                     to_char(refresh_state.last_first_recomputed_week, '{DATE_FORMAT}'), \
                     refresh_state.last_weeks_recomputed, \
                     refresh_state.last_film_rows_recomputed, \
                     refresh_state.last_blocks_compared, \
                     refresh_state.last_full_path_reason, \
                     to_char(series.first_week, '{DATE_FORMAT}'), \
                     to_char(series.last_week, '{DATE_FORMAT}'), \
                     series.weeks, \
                     refresh_state.last_store_rows_recomputed, \
                     series.inferred_returns, \
                     series.gap_weeks \
                 from rollup.refresh_state \
                 cross join ( \
                     select \
                         min(weekly_rentals.week_beginning) as first_week, \
                         max(weekly_rentals.week_beginning) as last_week, \
                         count(*) as weeks, \
                         sum(weekly_rentals.inferred_returns)::bigint as inferred_returns, \
                         count(*) filter ( \
                             where weekly_rentals.new_rentals = 0 and weekly_rentals.returned_rentals = 0 \
                         ) as gap_weeks \
                     from rollup.weekly_rentals \
                 ) as series \
                 where refresh_state.watermark_at is not null"
            ),
            &[],
        )
        .context("reading rollup.refresh_state")?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(serde_json::json!({
        "watermark": row.get::<_, Option<String>>(0),
        "source_rows": row.get::<_, i64>(1),
        "last_update_max": row.get::<_, Option<String>>(2),
        "last_run": {
            "finished_at": row.get::<_, Option<String>>(3),
            "mode": row.get::<_, Option<String>>(4),
            "lookback_seconds": row.get::<_, Option<i64>>(5),
            "rows_read": row.get::<_, Option<i64>>(6),
            "rows_inserted": row.get::<_, Option<i64>>(7),
            "rows_updated": row.get::<_, Option<i64>>(8),
            "rows_deleted": row.get::<_, Option<i64>>(9),
            "checksum_mismatch": row.get::<_, Option<bool>>(10),
            "first_changed_week": row.get::<_, Option<String>>(11),
            "first_recomputed_week": row.get::<_, Option<String>>(12),
            "weeks_recomputed": row.get::<_, Option<i32>>(13),
            "film_rows_recomputed": row.get::<_, Option<i64>>(14),
            "store_rows_recomputed": row.get::<_, Option<i64>>(20),
            "blocks_compared": row.get::<_, Option<i64>>(15),
            "full_path_reason": row.get::<_, Option<String>>(16),
        },
        "series": {
            "first_week": row.get::<_, Option<String>>(17),
            "last_week": row.get::<_, Option<String>>(18),
            "weeks": row.get::<_, i64>(19),
            "inferred_returns": row.get::<_, Option<i64>>(21),
            "gap_weeks": row.get::<_, i64>(22),
        },
    })))
}
