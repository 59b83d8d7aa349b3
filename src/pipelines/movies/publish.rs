//! The movies run, step by step: stage the files into the raw tables, rebuild every derived table
//! into a copy, run the data checks on the copies (write, audit), and only when no `fail` check
//! fails publish them all at once. A failure at any point puts the previous raw, `stg_` and `int_`
//! tables back and leaves the previous derived tables untouched. Also the one step of
//! `runner stage movies`: staging, published at once.

use std::time::Duration;

use anyhow::Result;

use super::inputs::{DataSource, resolve_inputs};
use super::load::load_raw_tables;
use super::rebuild::{Built, Layer, build_copies, rebuilt_tables};
use crate::engine::checks::{self, Check, Tally};
use crate::engine::db::mysql::MysqlConn;
use crate::engine::db::settings::MysqlSettings;
use crate::engine::db::swap::{self, new_name};
use crate::engine::history::{Run, StepOutcome};
use crate::engine::{drill, parallel};

/// `runner migrate movies` after the migrations: stage, rebuild, check, publish.
pub fn write_audit_publish(
    run: &mut Run,
    settings: &MysqlSettings,
    timeout: Duration,
    data: &DataSource,
    checks: &[Check],
) -> Result<()> {
    let mut work = MysqlConn::connect(settings, timeout, false)?;
    let mut staged = None;
    run.step("stage", |_db| {
        let (outcome, swapped) = stage(&mut work, settings, timeout, data)?;
        staged = Some(swapped);
        Ok(outcome)
    })?;
    // The tables swapped in before the checks (raw_, stg_, int_): put back if anything fails.
    let mut inputs = staged.unwrap_or_default();
    // Every table the refresh rebuilds; the copies of those not swapped in are dropped on failure.
    let mut rebuilt = Vec::new();
    let mut built = Vec::new();
    let audited = run
        .step("refresh", |_db| {
            rebuilt = rebuilt_tables(&mut work)?;
            let swapped = std::sync::Mutex::new(Vec::new());
            let outcome = build_copies(&mut work, settings, timeout, &rebuilt, &swapped);
            // whatever happened, the stg_ and int_ tables swapped in are put back on failure
            inputs.extend(
                swapped
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            let (upstream, derived): (Vec<Built>, Vec<Built>) = outcome?
                .into_iter()
                .partition(|b| Layer::of(&b.table) != Layer::Derived);
            let upstream = upstream.len();
            built = derived;
            drill::point("refresh:after-build");
            let detail: Vec<String> = built
                .iter()
                .map(|b| format!("{} {}", b.table, b.rows))
                .collect();
            Ok(StepOutcome {
                rows: Some(built.iter().map(|b| b.rows).sum()),
                detail: Some(format!(
                    "{upstream} stg_ and int_ tables, {} tables built: {}",
                    built.len(),
                    detail.join(", ")
                )),
            })
        })
        .and_then(|_| {
            let rename: Vec<(String, String)> = built
                .iter()
                .map(|b| (b.table.clone(), new_name(&b.table)))
                .collect();
            run.step("checks", |_db| audit(settings, timeout, checks, &rename))
        });
    if let Err(err) = audited {
        let unswapped: Vec<String> = rebuilt
            .iter()
            .filter(|t| !inputs.contains(t))
            .cloned()
            .collect();
        let restored = swap::discard_copies(&mut work, &unswapped)
            .and_then(|()| swap::roll_back(&mut work, &inputs));
        if let Err(restore) = restored {
            tracing::error!(
                "movies: could not restore the previous raw tables ({restore:#}); the next run stages them again"
            );
        } else {
            tracing::warn!("movies: nothing published; the previous tables stay");
        }
        return Err(err);
    }
    let derived: Vec<String> = built.iter().map(|b| b.table.clone()).collect();
    run.step("publish", |_db| {
        swap::swap_in(&mut work, &derived)?;
        drill::point("publish:after-swap");
        let mut published = inputs.clone();
        published.extend(derived.iter().cloned());
        swap::drop_previous(&mut work, &published)?;
        Ok(StepOutcome {
            rows: Some(published.len() as u64),
            detail: Some(format!("{} tables swapped in", published.len())),
        })
    })?;
    Ok(())
}

/// Checks run at once, each worker on its own connection (the checks only read).
const PARALLEL_CHECKS: usize = 2;

/// Runs every check on the unpublished data; any failing `fail` check stops the run.
fn audit(
    settings: &MysqlSettings,
    timeout: Duration,
    checks: &[Check],
    rename: &[(String, String)],
) -> Result<StepOutcome> {
    let results = parallel::each(
        checks,
        0..checks.len(),
        PARALLEL_CHECKS,
        || MysqlConn::connect(settings, timeout, false),
        |conn, check| checks::run_check(conn, check, rename),
    )?;
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

/// `runner stage movies`: the loading step alone, published at once (nothing is rebuilt).
pub fn stage_only(
    run: &mut Run,
    settings: &MysqlSettings,
    timeout: Duration,
    data: &DataSource,
) -> Result<()> {
    run.step("stage", |_db| {
        let mut work = MysqlConn::connect(settings, timeout, false)?;
        let (outcome, swapped) = stage(&mut work, settings, timeout, data)?;
        swap::drop_previous(&mut work, &swapped)?;
        Ok(outcome)
    })?;
    Ok(())
}

/// Finds the input files and loads them; returns the step's outcome and the raw tables swapped in.
fn stage(
    work: &mut MysqlConn,
    settings: &MysqlSettings,
    timeout: Duration,
    data: &DataSource,
) -> Result<(StepOutcome, Vec<String>)> {
    let inputs = resolve_inputs(&data.path, data.ratings_file.as_deref())?;
    let staged = load_raw_tables(work, settings, timeout, &inputs)?;
    let (read, loaded, rejected) = staged.counts.iter().fold((0, 0, 0), |(r, l, j), c| {
        (r + c.read, l + c.loaded, j + c.rejected)
    });
    let outcome = StepOutcome {
        rows: Some(loaded),
        detail: Some(format!(
            "{} files: read {read}, loaded {loaded}, rejected {rejected}",
            staged.counts.len()
        )),
    };
    Ok((outcome, staged.tables))
}
