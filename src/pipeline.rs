//! The data steps each target runs after its migrations (`runner migrate`) or alone
//! (`runner stage`): staging the movie files, refreshing derived tables, the rollup's incremental
//! merge. Each step is recorded in the run history.

use anyhow::{Result, bail};

use crate::cli::{ConnectionArgs, DataArgs, MigrateArgs, RollupArgs, StageArgs, Target};
use crate::config::MysqlTarget;
use crate::history::{Run, StepOutcome};

/// Steps `runner migrate` runs after applying migrations.
pub fn data_steps(target: Target, run: &mut Run, args: &MigrateArgs) -> Result<()> {
    stage_steps(target, run, &args.connections, &args.data, &args.rollup)?;
    if target == Target::Movies {
        run.step("refresh", |_db| refresh_movies(&args.connections))?;
    }
    Ok(())
}

/// Rebuilds every derived movie table from its `build_` view and swaps them in together.
fn refresh_movies(connections: &ConnectionArgs) -> Result<StepOutcome> {
    let target = MysqlTarget::from_args(connections)?;
    let mut conn =
        crate::mysql_conn::MysqlConn::connect(&target, connections.connect_timeout(), false)?;
    let tables = crate::refresh::refresh(&mut conn)?;
    let rows = tables.iter().map(|t| t.rows).sum();
    let detail: Vec<String> = tables
        .iter()
        .map(|t| format!("{} {}", t.table, t.rows))
        .collect();
    Ok(StepOutcome {
        rows: Some(rows),
        detail: Some(format!("{} tables: {}", tables.len(), detail.join(", "))),
    })
}

/// The loading step of a target: staging the movie files, or the rollup's incremental merge.
fn stage_steps(
    target: Target,
    run: &mut Run,
    connections: &ConnectionArgs,
    data: &DataArgs,
    rollup: &RollupArgs,
) -> Result<()> {
    match target {
        Target::Movies => {
            run.step("stage", |_db| stage_movies(connections, data))?;
        }
        Target::Rollup => {
            run.step("rollup", |_db| crate::rollup::refresh(connections, rollup))?;
        }
    }
    Ok(())
}

fn stage_movies(connections: &ConnectionArgs, data: &DataArgs) -> Result<StepOutcome> {
    let target = MysqlTarget::from_args(connections)?;
    let inputs = crate::stage::resolve_inputs(&data.movie_data_path, data.ratings_file.as_deref())?;
    let counts = crate::stage::stage_movies(&target, connections.connect_timeout(), &inputs)?;
    let (read, loaded, rejected) = counts.iter().fold((0, 0, 0), |(r, l, j), c| {
        (r + c.read, l + c.loaded, j + c.rejected)
    });
    Ok(StepOutcome {
        rows: Some(loaded),
        detail: Some(format!(
            "{} files: read {read}, loaded {loaded}, rejected {rejected}",
            counts.len()
        )),
    })
}

/// `runner stage`: only the loading step, on a database whose migrations are up to date.
pub fn stage(args: &StageArgs) -> Result<()> {
    let mut failed = Vec::new();
    for target in Target::selected(&args.targets) {
        if let Err(err) = stage_target(target, args) {
            tracing::error!("{target}: {err:#}");
            failed.push(format!("{target}: {err:#}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("{}", failed.join("; "))
    }
}

fn stage_target(target: Target, args: &StageArgs) -> Result<()> {
    let available = crate::migrate::migrations(target, args.connections.migrations_dir.as_deref())?;
    let mut db = crate::connect(target, &args.connections, false)?;
    db.lock(args.connections.lock_timeout())?;
    let plan = crate::migrate::plan(db.applied_migrations()?, &available);
    if !plan.pending.is_empty() || !plan.drift.is_empty() {
        bail!(
            "the database is not up to date ({} pending, {} drifted migrations): run `runner migrate {target}` first",
            plan.pending.len(),
            plan.drift.len()
        );
    }
    let mut run = Run::begin(db, target, "stage")?;
    let outcome = stage_steps(
        target,
        &mut run,
        &args.connections,
        &args.data,
        &args.rollup,
    );
    run.finish(&outcome);
    outcome
}
