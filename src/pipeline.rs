//! The data steps each target runs after its migrations (`runner migrate`) or alone
//! (`runner stage`): staging the movie files, refreshing derived tables, the rollup's incremental
//! merge. Each step is recorded in the run history.

use anyhow::{Result, bail};

use crate::cli::{MigrateArgs, StageArgs, Target};
use crate::history::Run;

/// Steps `runner migrate` runs after applying migrations.
pub fn data_steps(target: Target, _run: &mut Run, _args: &MigrateArgs) -> Result<()> {
    tracing::debug!("{target}: no data steps yet");
    Ok(())
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
    let outcome: Result<()> = {
        tracing::info!("{target}: nothing to stage for this target");
        Ok(())
    };
    run.finish(&outcome);
    outcome
}
