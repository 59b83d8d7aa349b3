//! The movies run, step by step: load the files into copies of the raw tables, build every table
//! model into a copy from staged views that read the copies, run the data checks on the copies
//! (write, audit), and only when no `fail` check fails publish them all with one `RENAME TABLE`:
//! raw, `stg_`, `int_` and published tables together. Until then the live tables are untouched,
//! so readers and `runner check` see the previous set or the new one, never a mix, whatever is
//! killed when; a failure drops the copies. `runner stage movies` runs the same steps.

use std::time::Duration;

use anyhow::Result;

use super::contract;
use super::inputs::{DataSource, Origin, resolve_inputs};
use super::load::load_raw_tables;
use super::rebuild::{
    Built, Layer, Staging, build_copies, create_staged_views, drop_staged_views,
    leftover_staged_views,
};
use crate::engine::checks::{self, Check, CheckResult, Tally};
use crate::engine::db::mysql::MysqlConn;
use crate::engine::db::settings::MysqlSettings;
use crate::engine::db::swap;
use crate::engine::history::{Run, StepOutcome};
use crate::engine::models::Model;
use crate::engine::{drill, parallel};
use crate::pipelines::Guards;
use mysql::prelude::Queryable;

/// The data steps of `runner migrate movies` and `runner stage movies`: stage, rebuild, check,
/// publish.
pub fn write_audit_publish(
    run: &mut Run,
    settings: &MysqlSettings,
    timeout: Duration,
    data: &DataSource,
    models: &[Model],
    checks: &[Check],
    guards: Guards,
) -> Result<()> {
    let mut work = MysqlConn::connect(settings, timeout, false)?;
    // Staged views a run that died left behind (its copies are dropped as they are prepared).
    let leftovers = leftover_staged_views(&mut work)?;
    drop_staged_views(&mut work, &leftovers)?;
    let mut raw_tables = Vec::new();
    let mut staging: Option<Staging> = None;
    let run_id = run.id();
    let outcome = (|| -> Result<()> {
        run.step("stage", |_db| {
            let (outcome, tables) = stage(&mut work, settings, timeout, data, run_id)?;
            raw_tables = tables;
            Ok(outcome)
        })?;
        let mut built = Vec::new();
        run.step("refresh", |_db| {
            let staged = staging.insert(create_staged_views(&mut work, models, &raw_tables)?);
            built = build_copies(&mut work, settings, timeout, &staged.tables)?;
            drill::point("refresh:after-build");
            let (upstream, derived): (Vec<&Built>, Vec<&Built>) = built
                .iter()
                .partition(|b| Layer::of(&b.table) != Layer::Derived);
            let detail: Vec<String> = derived
                .iter()
                .map(|b| format!("{} {}", b.table, b.rows))
                .collect();
            Ok(StepOutcome {
                rows: Some(derived.iter().map(|b| b.rows).sum()),
                detail: Some(format!(
                    "{} stg_ and int_ tables, {} tables built: {}",
                    upstream.len(),
                    derived.len(),
                    detail.join(", ")
                )),
            })
        })?;
        let rename = staging
            .as_ref()
            .map(|s| s.rename.clone())
            .unwrap_or_default();
        let published_tables: Vec<String> = built
            .iter()
            .filter(|b| Layer::of(&b.table) == Layer::Derived)
            .map(|b| b.table.clone())
            .collect();
        run.step("checks", |_db| {
            let shrink = shrink_check(&mut work, &published_tables, guards)?;
            audit(settings, timeout, checks, &rename, shrink)
        })?;
        drill::point("checks:after-audit");
        let mut published = raw_tables.clone();
        published.extend(staging.iter().flat_map(|s| s.tables.iter().cloned()));
        run.step("publish", |db| {
            drill::point("publish:before-swap");
            db.verify_lock()?;
            swap::swap_in(&mut work, &published)?;
            drill::point("publish:after-swap");
            swap::drop_previous(&mut work, &published)?;
            Ok(StepOutcome {
                rows: Some(published.len() as u64),
                detail: Some(format!("{} tables swapped in", published.len())),
            })
        })?;
        Ok(())
    })();
    // Whatever happened, the staged views go; on failure the copies too (the live tables were
    // never touched).
    let views = staging
        .as_ref()
        .map(|s| s.views.clone())
        .unwrap_or_default();
    let mut cleanup = drop_staged_views(&mut work, &views);
    if outcome.is_err() {
        // every raw table's copy: a load that failed midway did not say which it made
        let mut copies = contract::raw_tables();
        copies.extend(staging.iter().flat_map(|s| s.tables.iter().cloned()));
        cleanup = cleanup.and_then(|()| swap::discard_copies(&mut work, &copies));
        tracing::warn!("movies: nothing published; the previous tables stay");
    }
    if let Err(err) = cleanup {
        tracing::warn!(
            "movies: could not drop the unpublished copies ({err:#}); the next run drops them"
        );
    }
    outcome
}

/// Checks run at once, each worker on its own connection (the checks only read).
const PARALLEL_CHECKS: usize = 2;

/// Runs every check on the unpublished data; any failing `fail` check stops the run.
fn audit(
    settings: &MysqlSettings,
    timeout: Duration,
    checks: &[Check],
    rename: &[(String, String)],
    shrink: CheckResult,
) -> Result<StepOutcome> {
    let mut results = parallel::each(
        checks,
        0..checks.len(),
        PARALLEL_CHECKS,
        || MysqlConn::connect(settings, timeout, false),
        |conn, check| checks::run_check(conn, check, rename),
    )?;
    results.push(shrink);
    let Tally {
        passed,
        warned,
        failed,
    } = checks::gate("movies", &results, "published")?;
    Ok(StepOutcome {
        rows: Some(failed as u64),
        detail: Some(format!(
            "{} checks: {passed} passed, {warned} warned, {failed} failed",
            results.len()
        )),
    })
}

/// Finds the input files and loads them into copies, `raw_files` stamped with the run; returns
/// the step's outcome and the raw tables copied.
fn stage(
    work: &mut MysqlConn,
    settings: &MysqlSettings,
    timeout: Duration,
    data: &DataSource,
    run_id: Option<i64>,
) -> Result<(StepOutcome, Vec<String>)> {
    let (inputs, origin) = resolve_inputs(data)?;
    let staged = load_raw_tables(work, settings, timeout, &inputs, run_id)?;
    let (read, loaded, rejected) = staged.counts.iter().fold((0, 0, 0), |(r, l, j), c| {
        (r + c.read, l + c.loaded, j + c.rejected)
    });
    let from = match origin {
        Origin::Folder(dir) => format!("from {}", dir.display()),
        Origin::Seeds => "from the built-in seed sample (no data folder set)".to_owned(),
    };
    let outcome = StepOutcome {
        rows: Some(loaded),
        detail: Some(format!(
            "{} files {from}: read {read}, loaded {loaded}, rejected {rejected}",
            staged.counts.len()
        )),
    };
    Ok((outcome, staged.tables))
}

/// The guard against an input that arrived cut short, as a check: every file's loaded records and
/// every published table's rows against the last published run (the live `raw_files` and tables),
/// failing when one shrank by more than the guard allows (a warning with `--allow-shrink`).
fn shrink_check(
    conn: &mut MysqlConn,
    published_tables: &[String],
    guards: Guards,
) -> Result<CheckResult> {
    let files: Vec<(String, String, u64, u64)> = conn.conn.query(
        "select new_files.table_name, new_files.file_name, raw_files.records_loaded, \
             new_files.records_loaded \
         from raw_files__new as new_files \
         inner join raw_files on raw_files.table_name = new_files.table_name \
         order by new_files.table_name",
    )?;
    let mut compared: Vec<(String, u64, u64)> = files
        .into_iter()
        .map(|(table, file, before, now)| (format!("{file} ({table})"), before, now))
        .collect();
    for table in published_tables {
        let q = |name: &str| crate::engine::db::mysql::quote_ident(name);
        let (before, now): (u64, u64) = conn
            .conn
            .query_first(format!(
                "select (select count(*) from {}), (select count(*) from {})",
                q(table),
                q(&swap::new_name(table))
            ))?
            .unwrap_or((0, 0));
        compared.push((table.clone(), before, now));
    }
    Ok(guards.shrink_check(&compared))
}
