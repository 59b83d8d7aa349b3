//! The Pagila rollup: brings `rollup.weekly_rentals` and `rollup.weekly_film_demand` up to date
//! from the Pagila source, incrementally, so that after every run both equal a full recompute.
//!
//! One run: in one REPEATABLE READ snapshot of the source (SELECT only), copy the rentals changed
//! since the last run (`last_update` at or after the watermark minus the lookback) with binary
//! `COPY`, check the count and id checksum of the whole rental table against the mirror (and only
//! on a mismatch compare the id sets and row hashes, which finds deletes and whatever the window
//! missed), and copy the small inventory and film tables whole. Then, in one transaction of the rollup database:
//! apply the changes to the mirror (`rollup.raw_*`), work out the first week any change touched,
//! recompute the weeks from there with running sums over weekly events, `MERGE` them into both
//! tables, delete the weeks the series no longer covers, and move the watermark. A run that dies
//! commits nothing; the next one redoes the work. docs/rollup.md explains why the result is exact.
//!
//! [`source`] owns the reads from Pagila, [`target`] the rollup database's side, [`stream`] the
//! rentals on their way between them (weeks added, counted, a full load's events tallied).

mod source;
mod stream;
mod target;

use std::time::Duration;

use anyhow::{Context, Result};
use postgres::Client;
use serde::Serialize;

use crate::cli::{ConnectionArgs, RollupArgs};
use crate::config::PgTarget;
use crate::history::StepOutcome;
use crate::pg_conn::PgConn;

/// How a run brings the rollup up to date.
#[derive(Debug, Clone, Default)]
pub struct RefreshOptions {
    /// Rebuild the mirror and recompute every week (`--full-refresh`).
    pub full_refresh: bool,
    /// Seconds before the watermark whose changes are read again (`--lookback`).
    pub lookback_seconds: u64,
    /// For tests: fail after all the work, just before the commit.
    #[doc(hidden)]
    pub fail_before_commit: bool,
}

/// Full load (first run, `--full-refresh`) or an incremental run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Full,
    Incremental,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }
}

/// What one run did. Weeks are `YYYY-MM-DD` (the Monday), timestamps ISO 8601 in UTC.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    pub mode: Mode,
    /// The source clock at the snapshot read: the next run reads from here minus the lookback.
    pub watermark: String,
    /// The lower bound on `last_update` of this run's copy; `None` for a full load.
    pub read_since: Option<String>,
    /// Rental rows copied from the source.
    pub rows_read: u64,
    /// Rentals new to the mirror (a full load counts every rental).
    pub rows_inserted: u64,
    /// Rentals whose rental_date, return_date or inventory_id changed.
    pub rows_updated: u64,
    /// Rentals gone from the source.
    pub rows_deleted: u64,
    /// Count and checksum disagreed after the copy, so the id sets were compared.
    pub checksum_mismatch: bool,
    /// The inventory or a stocked film's title changed: every week of weekly_film_demand recomputed.
    pub films_changed: bool,
    /// The first week any change touched (old and new dates).
    pub first_changed_week: Option<String>,
    /// The first week recomputed and merged into weekly_rentals; `None` when nothing was.
    pub first_recomputed_week: Option<String>,
    pub weeks_recomputed: u64,
    pub film_rows_recomputed: u64,
    /// The series after the run: first and last week, number of weeks.
    pub first_week: Option<String>,
    pub last_week: Option<String>,
    pub weeks: u64,
}

impl RefreshReport {
    /// Rows the run changed in the mirror.
    pub fn changed_rows(&self) -> u64 {
        self.rows_inserted + self.rows_updated + self.rows_deleted
    }

    /// One line for the log and `runner_run_steps.detail`.
    pub fn summary(&self) -> String {
        let read = match &self.read_since {
            Some(since) => format!("read {} rows changed since {since}", self.rows_read),
            None => format!("read all {} rows", self.rows_read),
        };
        let recomputed = match &self.first_recomputed_week {
            Some(week) => format!(
                "recomputed {} weeks from {week} ({} film rows)",
                self.weeks_recomputed, self.film_rows_recomputed
            ),
            None => "recomputed no week".to_owned(),
        };
        let checks = match (self.checksum_mismatch, self.films_changed) {
            (false, false) => String::new(),
            (true, false) => "; checksum mismatch: id sets compared".to_owned(),
            (false, true) => "; inventory or films changed".to_owned(),
            (true, true) => {
                "; checksum mismatch: id sets compared; inventory or films changed".to_owned()
            }
        };
        format!(
            "{}: {read}: {} inserted, {} updated, {} deleted; {recomputed}; {} weeks {}..{}; watermark {}{checks}",
            self.mode.name(),
            self.rows_inserted,
            self.rows_updated,
            self.rows_deleted,
            self.weeks,
            self.first_week.as_deref().unwrap_or("-"),
            self.last_week.as_deref().unwrap_or("-"),
            self.watermark,
        )
    }
}

/// Brings the rollup up to date (the data step of `runner migrate rollup` and `runner stage rollup`).
pub fn refresh(connections: &ConnectionArgs, options: &RollupArgs) -> Result<StepOutcome> {
    let timeout = connections.connect_timeout();
    let mut source = connect_source(connections, timeout)?;
    // A second connection counts and checksums the source while the first copies the changes.
    let mut second_source = connect_source(connections, timeout)?;
    let mut rollup = connect_rollup(connections, timeout)?;
    let checks = crate::check::checks(
        crate::cli::Target::Rollup,
        connections.migrations_dir.as_deref(),
    )?;
    let report = run(
        &mut source.client,
        Some(&mut second_source.client),
        &mut rollup.client,
        &RefreshOptions {
            full_refresh: options.full_refresh,
            lookback_seconds: options.lookback,
            fail_before_commit: false,
        },
        &checks,
    )?;
    Ok(StepOutcome {
        rows: Some(match report.mode {
            Mode::Full => report.rows_read,
            Mode::Incremental => report.changed_rows(),
        }),
        detail: Some(report.summary()),
    })
}

fn connect_source(connections: &ConnectionArgs, timeout: Duration) -> Result<PgConn> {
    let target = PgTarget::from_url(
        &connections.pagila_database_url,
        "PAGILA_DATABASE_URL (--pagila-database-url)",
    )?;
    PgConn::connect(&target, "pagila source", timeout, false)
}

fn connect_rollup(connections: &ConnectionArgs, timeout: Duration) -> Result<PgConn> {
    let target = PgTarget::from_url(
        &connections.rollup_database_url,
        "ROLLUP_DATABASE_URL (--rollup-database-url)",
    )?;
    PgConn::connect(&target, "rollup database", timeout, false)
}

/// One run on connections the caller made: `source` to Pagila (SELECT on rental, inventory and
/// film is enough), `rollup` to a migrated rollup database. The SQL does not depend on the
/// sessions' time zones. Nothing is committed unless the whole run succeeds.
pub fn refresh_with(
    source: &mut Client,
    rollup: &mut Client,
    options: &RefreshOptions,
) -> Result<RefreshReport> {
    run(source, None, rollup, options, &[])
}

/// [`refresh_with`], with an optional second connection to the source for the checksum scan.
fn run(
    source: &mut Client,
    second_source: Option<&mut Client>,
    rollup: &mut Client,
    options: &RefreshOptions,
    checks: &[crate::check::Check],
) -> Result<RefreshReport> {
    let mut tx = rollup
        .transaction()
        .context("starting a transaction in the rollup database")?;
    target::tune_session(&mut tx)?;
    let state = target::lock_state(&mut tx)?;
    target::create_work_tables(&mut tx)?;
    let mode = if options.full_refresh || state.watermark.is_none() {
        Mode::Full
    } else {
        Mode::Incremental
    };

    let mut snapshot = source::Snapshot::begin(source)?;
    let loaded = match mode {
        Mode::Full => target::load_full(&mut snapshot, &mut tx)?,
        Mode::Incremental => target::load_changes(
            &mut snapshot,
            second_source,
            &mut tx,
            &state,
            options.lookback_seconds,
        )?,
    };
    let watermark = snapshot.taken_at.clone();
    snapshot.finish()?;

    let report = target::merge(&mut tx, mode, &loaded, &watermark, options)?;
    crate::drill::point("rollup:before-commit");
    audit(&mut tx, checks)?;
    if options.fail_before_commit {
        anyhow::bail!("failing before the commit, as asked (test hook)");
    }
    tx.commit()
        .context("committing the rollup (mirror, weekly tables, watermark)")?;
    Ok(report)
}

/// Write, audit, publish: the data checks read the uncommitted tables inside the run's transaction;
/// a failing `fail` check rolls everything back (mirror, tables and watermark stay as they were).
fn audit(tx: &mut postgres::Transaction<'_>, checks: &[crate::check::Check]) -> Result<()> {
    let results = crate::check::run_checks_with(
        |sql, sample| crate::pg_conn::query_check(tx, sql, sample),
        checks,
        &[],
    )?;
    crate::check::gate(crate::cli::Target::Rollup, &results, "committed")?;
    if !checks.is_empty() {
        tracing::info!(
            "rollup: {} data checks passed before the commit",
            results.len()
        );
    }
    Ok(())
}

/// What `runner status` shows for the rollup beyond the common fields; `None` before a first run.
pub fn status_details(connections: &ConnectionArgs) -> Result<Option<serde_json::Value>> {
    let mut rollup = connect_rollup(connections, connections.connect_timeout())?;
    target::status(&mut rollup.client)
}
