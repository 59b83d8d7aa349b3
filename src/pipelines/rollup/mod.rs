//! The Pagila rollup: brings `rollup.weekly_rentals` and `rollup.weekly_film_demand` up to date
//! from the Pagila source, incrementally, so that after every run both equal a full recompute.
//!
//! One run: in one REPEATABLE READ snapshot of the source (SELECT only), copy the rentals changed
//! since the last run (`last_update` at or after the watermark minus the lookback) with binary
//! `COPY`, compare the source's sums per block of 256 rental ids (count, id hashes, row hashes)
//! with the mirror's (and compare the rows of the blocks that differ, which finds deletes and
//! whatever the window missed), and copy the small inventory and film tables whole. Then, in one transaction of the
//! rollup database: apply the changes to the mirror (`rollup.raw_*`), work out the first week any
//! change touched, recompute the weeks from there with running sums over weekly events, `MERGE`
//! them into both tables, delete the weeks the series no longer covers, run the data checks, and
//! move the watermark. A run that dies commits nothing; the next one redoes the work.
//! docs/rollup.md explains why the result is exact.
//!
//! Read bottom-up: [`report`] (what a run is asked and what it did); [`stream`] (rentals on their
//! way, weeks added, a full load's events tallied); [`source`] (the reads from Pagila); [`state`]
//! (the state row, the run's temporary tables); [`indexes`]; [`mirror`] (an incremental run's
//! changes to the mirror); [`full_load`]; [`plan`] (which weeks to recompute); [`merge`]
//! (recompute and `MERGE` the weeks). This file runs them in order.

pub mod full_load;
pub mod indexes;
pub mod merge;
pub mod mirror;
pub mod plan;
pub mod report;
pub mod source;
pub mod state;
pub mod stream;

use std::time::Duration;

use anyhow::{Context, Result};
use postgres::Client;
use refinery::Migration;

use super::{Common, Pipeline, StatusDetails};
use crate::engine::checks::{self as check_engine, Check, CheckResult};
use crate::engine::db::Database;
use crate::engine::db::postgres::{PgConn, query_check};
use crate::engine::db::settings::PgSettings;
use crate::engine::drill;
use crate::engine::history::{Run, StepOutcome};
use crate::engine::models::Model;
use merge::Merged;
pub use report::{Mode, RefreshOptions, RefreshReport};

mod embedded {
    refinery::embed_migrations!("migrations/rollup");
    include!(concat!(env!("OUT_DIR"), "/sql_rollup.rs"));
}

pub const NAME: &str = "rollup";

/// What it builds, in one line (the docs' index).
pub const SUMMARY: &str = "a weekly rollup of the Pagila DVD-rental database into PostgreSQL";

/// Its models, in the order they apply: built in, or from `--migrations-dir`.
pub fn models(common: &Common) -> Result<Vec<Model>> {
    common.models(NAME, embedded::MODELS)
}

/// Its data checks: built in, or from `--migrations-dir`.
pub fn checks(common: &Common) -> Result<Vec<Check>> {
    common.checks(NAME, embedded::CHECKS)
}

/// What the command line names: `PAGILA_DATABASE_URL (--pagila-database-url)`.
const SOURCE_URL_NAME: &str = "PAGILA_DATABASE_URL (--pagila-database-url)";

/// The rollup pipeline: its database, its source, and how to bring it up to date.
pub struct Rollup {
    pub database: PgSettings,
    /// The Pagila source's URL, parsed only by the runs that read it (`runner status` never does).
    pub source_url: String,
    pub common: Common,
    /// How runs bring the rollup up to date; `None` for status and check.
    pub refresh: Option<RefreshOptions>,
}

impl Pipeline for Rollup {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display(&self) -> String {
        self.database.display()
    }

    fn connect(&self, create: bool) -> Result<Box<dyn Database>> {
        Ok(Box::new(self.connect_rollup(create)?))
    }

    fn migrations(&self) -> Result<Vec<Migration>> {
        self.common.migrations(NAME, embedded::migrations::runner())
    }

    fn checks(&self) -> Result<Vec<Check>> {
        checks(&self.common)
    }

    fn models(&self) -> Result<Vec<Model>> {
        models(&self.common)
    }

    fn schema(&self) -> Option<&'static str> {
        Some("rollup")
    }

    fn data_steps(&self, run: &mut Run) -> Result<()> {
        run.step("rollup", |db| self.refresh(db))?;
        Ok(())
    }

    fn stage_steps(&self, run: &mut Run) -> Result<()> {
        self.data_steps(run)
    }

    /// The state row and the series; `None` before the first run.
    fn status_details(&self, _db: &mut dyn Database) -> Result<Option<StatusDetails>> {
        let mut rollup = self.connect_rollup(false)?;
        Ok(
            state::status(&mut rollup.client)?.map(|json| StatusDetails {
                text: status_lines(&json),
                json,
            }),
        )
    }
}

/// The state for people: where the source stands, what the last run did, the series.
fn status_lines(json: &serde_json::Value) -> Vec<String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "-".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let last = &json["last_run"];
    let series = &json["series"];
    let recomputed = match last["first_recomputed_week"].as_str() {
        Some(week) => format!(
            "recomputed {} weeks from {week} ({} film rows, {} film-store rows)",
            text(&last["weeks_recomputed"]),
            text(&last["film_rows_recomputed"]),
            text(&last["store_rows_recomputed"])
        ),
        None => "recomputed no week".to_owned(),
    };
    let compared = if last["checksum_mismatch"] == serde_json::Value::Bool(true) {
        format!(
            "; {} blocks of rental ids differed beyond the rows read: their rows compared",
            text(&last["blocks_compared"])
        )
    } else {
        String::new()
    };
    let full_path = match last["full_path_reason"].as_str() {
        Some(reason) => format!("; {reason}: took the full path"),
        None => String::new(),
    };
    vec![
        format!(
            "source: {} rentals at watermark {} (latest last_update read {})",
            text(&json["source_rows"]),
            text(&json["watermark"]),
            text(&json["last_update_max"])
        ),
        format!(
            "last run: {} at {}: read {} rows: {} inserted, {} updated, {} deleted; {recomputed}{compared}{full_path}",
            text(&last["mode"]),
            text(&last["finished_at"]),
            text(&last["rows_read"]),
            text(&last["rows_inserted"]),
            text(&last["rows_updated"]),
            text(&last["rows_deleted"]),
        ),
        format!(
            "series: {} weeks, {}..{} ({} without any rental or return: gap weeks); {} returns inferred from \
             the copy's next rental",
            text(&series["weeks"]),
            text(&series["first_week"]),
            text(&series["last_week"]),
            text(&series["gap_weeks"]),
            text(&series["inferred_returns"])
        ),
    ]
}

impl Rollup {
    fn connect_rollup(&self, create: bool) -> Result<PgConn> {
        PgConn::connect(
            &self.database,
            "rollup database",
            self.common.connect_timeout,
            create,
        )
    }

    fn connect_source(&self, timeout: Duration) -> Result<PgConn> {
        let source = PgSettings::from_url(&self.source_url, SOURCE_URL_NAME)?;
        PgConn::connect(&source, "pagila source", timeout, false)
    }

    /// Brings the rollup up to date (the data step of `runner migrate rollup` and
    /// `runner stage rollup`); `lock` holds the migration lock, checked before the commit.
    fn refresh(&self, lock: &mut dyn Database) -> Result<StepOutcome> {
        let options = self
            .refresh
            .as_ref()
            .context("no refresh options were given to this command")?;
        let timeout = self.common.connect_timeout;
        let mut source = self.connect_source(timeout)?;
        let mut rollup = self.connect_rollup(false)?;
        let checks = self.checks()?;
        let models = self.models()?;
        let report = run(
            &mut source.client,
            &mut rollup.client,
            options,
            &models,
            &checks,
            &mut || lock.verify_lock(),
        )?;
        Ok(StepOutcome {
            rows: Some(match report.mode {
                Mode::Full => report.rows_read,
                Mode::Incremental => report.changed_rows(),
            }),
            detail: Some(report.summary()),
        })
    }
}

/// One run on connections the caller made: `source` to Pagila (SELECT on rental, inventory and
/// film is enough), `rollup` to a migrated rollup database (its models applied). The SQL does not
/// depend on the sessions' time zones. Nothing is committed unless the whole run succeeds.
pub fn refresh_with(
    source: &mut Client,
    rollup: &mut Client,
    options: &RefreshOptions,
) -> Result<RefreshReport> {
    let models = crate::engine::models::load(embedded::MODELS, None)?;
    run(source, rollup, options, &models, &[], &mut || Ok(()))
}

/// [`refresh_with`], with the checks to run before the commit and the lock to verify.
fn run(
    source: &mut Client,
    rollup: &mut Client,
    options: &RefreshOptions,
    models: &[Model],
    checks: &[Check],
    verify_lock: &mut dyn FnMut() -> Result<()>,
) -> Result<RefreshReport> {
    let mut tx = rollup
        .transaction()
        .context("starting a transaction in the rollup database")?;
    state::tune_session(&mut tx)?;
    let state = state::lock_state(&mut tx)?;
    state::create_work_tables(&mut tx)?;
    let mode = if options.full_refresh || state.watermark.is_none() {
        Mode::Full
    } else {
        Mode::Incremental
    };

    let mut snapshot = source::Snapshot::begin(source)?;
    let loaded = match mode {
        Mode::Full => full_load::load_full(&mut snapshot, &mut tx)?,
        Mode::Incremental => {
            mirror::load_changes(&mut snapshot, &mut tx, options.lookback_seconds)?
        }
    };
    let watermark = snapshot.taken_at.clone();
    let report = match merge::merge(
        &mut tx, mode, &loaded, &state, &watermark, options, models, None,
    )? {
        Merged::Done(report) => *report,
        // The changes reach so far back that recomputing from the mirror would cost more than
        // loading it again: the full path, in the same snapshot and transaction.
        Merged::FullPathCheaper(reason) => {
            tracing::info!("rollup: {reason}: taking the full path");
            let loaded = full_load::load_full(&mut snapshot, &mut tx)?;
            match merge::merge(
                &mut tx,
                Mode::Full,
                &loaded,
                &state,
                &watermark,
                options,
                models,
                Some(reason),
            )? {
                Merged::Done(report) => *report,
                Merged::FullPathCheaper(_) => unreachable!("a full load merges every week"),
            }
        }
    };
    snapshot.finish()?;
    drill::point("rollup:before-commit");
    // A source emptied or cut (a truncated table, a restore gone wrong) would empty the rollup:
    // the mirror's rentals against the last run's (none to compare with before the first).
    let shrink = options
        .guards
        .filter(|_| state.watermark.is_some())
        .map(|guards| {
            guards.shrink_check(&[(
                "the source's rentals (rollup.raw_rental)".to_owned(),
                state.source_rows as u64,
                loaded.summary.rows as u64,
            )])
        });
    if let Some(week) = &report.check_from_week {
        tx.execute(
            "select set_config('runner.check_from_week', $1, true)",
            &[week],
        )
        .context("setting runner.check_from_week for the data checks")?;
    }
    audit(&mut tx, checks, shrink, report.check_from_week.as_deref())?;
    if options.fail_before_commit {
        anyhow::bail!("failing before the commit, as asked (test hook)");
    }
    verify_lock()?;
    tx.commit()
        .context("committing the rollup (mirror, weekly tables, watermark)")?;
    Ok(report)
}

/// Write, audit, publish: the data checks read the uncommitted tables inside the run's transaction;
/// a failing `fail` check rolls everything back (mirror, tables and watermark stay as they were).
fn audit(
    tx: &mut postgres::Transaction<'_>,
    checks: &[Check],
    shrink: Option<CheckResult>,
    from_week: Option<&str>,
) -> Result<()> {
    let mut results =
        check_engine::run_checks_with(|sql, sample| query_check(tx, sql, sample), checks, &[])?;
    results.extend(shrink);
    check_engine::gate(NAME, &results, "committed")?;
    if !checks.is_empty() {
        let scope = match from_week {
            Some(week) => format!("the weeks from {week}"),
            None => "every week".to_owned(),
        };
        tracing::info!(
            "rollup: {} data checks passed before the commit ({scope})",
            results.len()
        );
    }
    Ok(())
}
