//! The data steps each target runs after its migrations (`runner migrate`) or alone
//! (`runner stage`): staging the movie files, refreshing derived tables, the rollup's incremental
//! merge. Each step is recorded in the run history.

use anyhow::Result;

use crate::cli::{ConnectionArgs, DataArgs, MigrateArgs, RollupArgs, StageArgs, Target};
use crate::config::MysqlTarget;
use crate::history::{Run, StepOutcome};
use crate::mysql_conn::MysqlConn;
use crate::refresh::{Built, Layer, build_copies, rebuilt_tables};
use crate::swap::{self, new_name};

/// Steps `runner migrate` runs after applying migrations.
pub fn data_steps(target: Target, run: &mut Run, args: &MigrateArgs) -> Result<()> {
    match target {
        Target::Movies => movies_write_audit_publish(run, &args.connections, &args.data),
        Target::Rollup => {
            run.step("rollup", |_db| {
                crate::rollup::refresh(&args.connections, &args.rollup)
            })?;
            Ok(())
        }
    }
}

/// Movies: stage the files, build every derived table into a copy, run the data checks on the
/// new data, and only when no `fail` check fails publish the copies. A failure at any point puts
/// the previous raw tables back and leaves the previous derived tables untouched.
fn movies_write_audit_publish(
    run: &mut Run,
    connections: &ConnectionArgs,
    data: &DataArgs,
) -> Result<()> {
    let target = MysqlTarget::from_args(connections)?;
    let mut work = MysqlConn::connect(&target, connections.connect_timeout(), false)?;
    let mut staged = None;
    run.step("stage", |_db| {
        let (outcome, swapped) = stage_movies(&mut work, &target, connections, data)?;
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
            let timeout = connections.connect_timeout();
            rebuilt = rebuilt_tables(&mut work)?;
            let swapped = std::sync::Mutex::new(Vec::new());
            let outcome = build_copies(&mut work, &target, timeout, &rebuilt, &swapped);
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
            crate::drill::point("refresh:after-build");
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
            let checks =
                crate::check::checks(Target::Movies, connections.migrations_dir.as_deref())?;
            let rename: Vec<(String, String)> = built
                .iter()
                .map(|b| (b.table.clone(), new_name(&b.table)))
                .collect();
            run.step("checks", |_db| {
                audit(&target, connections.connect_timeout(), &checks, &rename)
            })
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
        crate::drill::point("publish:after-swap");
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
    target: &MysqlTarget,
    timeout: std::time::Duration,
    checks: &[crate::check::Check],
    rename: &[(String, String)],
) -> Result<StepOutcome> {
    let results = crate::parallel::each(
        checks,
        0..checks.len(),
        PARALLEL_CHECKS,
        || MysqlConn::connect(target, timeout, false),
        |conn, check| crate::check::run_check(conn, check, rename),
    )?;
    let crate::check::Tally {
        passed,
        warned,
        failed,
    } = crate::check::gate(Target::Movies, &results, "published")?;
    Ok(StepOutcome {
        rows: Some(failed as u64),
        detail: Some(format!(
            "{} checks: {passed} passed, {warned} warned, {failed} failed",
            results.len()
        )),
    })
}

/// The loading step of `runner stage`: published at once (no derived tables are rebuilt).
fn stage_steps(
    run: &mut Run,
    target: Target,
    connections: &ConnectionArgs,
    data: &DataArgs,
    rollup: &RollupArgs,
) -> Result<()> {
    match target {
        Target::Movies => {
            run.step("stage", |_db| {
                let mysql = MysqlTarget::from_args(connections)?;
                let mut work = MysqlConn::connect(&mysql, connections.connect_timeout(), false)?;
                let (outcome, swapped) = stage_movies(&mut work, &mysql, connections, data)?;
                swap::drop_previous(&mut work, &swapped)?;
                Ok(outcome)
            })?;
        }
        Target::Rollup => {
            run.step("rollup", |_db| crate::rollup::refresh(connections, rollup))?;
        }
    }
    Ok(())
}

fn stage_movies(
    work: &mut MysqlConn,
    target: &MysqlTarget,
    connections: &ConnectionArgs,
    data: &DataArgs,
) -> Result<(StepOutcome, Vec<String>)> {
    let inputs = crate::stage::resolve_inputs(&data.movie_data_path, data.ratings_file.as_deref())?;
    let staged = crate::stage::stage_movies(work, target, connections.connect_timeout(), &inputs)?;
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

/// `runner stage`: only the loading step, on a database whose migrations are up to date.
pub fn stage(args: &StageArgs) -> Result<()> {
    crate::each_target(&args.targets, |target| stage_target(target, args))
}

fn stage_target(target: Target, args: &StageArgs) -> Result<()> {
    let mut db = crate::connect(target, &args.connections, false)?;
    db.lock(args.connections.lock_timeout())?;
    crate::migrate::ensure_up_to_date(
        db.as_mut(),
        target,
        args.connections.migrations_dir.as_deref(),
    )?;
    let mut run = Run::begin(db, target, "stage")?;
    let outcome = stage_steps(
        &mut run,
        target,
        &args.connections,
        &args.data,
        &args.rollup,
    );
    run.finish(&outcome);
    outcome
}
