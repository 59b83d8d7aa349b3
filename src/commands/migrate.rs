//! `runner migrate`: for each selected target, wait for its database, take its lock, apply the
//! pending migrations, then the models that are new or changed, then run the pipeline's data
//! steps, all recorded as one run.

use std::time::Instant;

use anyhow::Result;

use super::{each_target, pipeline};
use crate::cli::{MigrateArgs, Target};
use crate::engine::history::{Run, StepOutcome};
use crate::engine::migrations::apply_pending;
use crate::engine::models;

pub fn run(args: &MigrateArgs) -> Result<()> {
    each_target(&args.targets, |target| migrate_target(target, args))
}

fn migrate_target(target: Target, args: &MigrateArgs) -> Result<()> {
    let started = Instant::now();
    let pipeline = pipeline(
        target,
        &args.connections,
        Some(&args.data),
        Some(&args.rollup),
        Some(&args.guards),
    )?;
    let available = pipeline.migrations()?;
    let models = pipeline.models()?;
    let mut db = pipeline.connect(true)?;
    db.lock(args.connections.lock_timeout())?;
    let mut run = Run::begin(db, target.name(), "migrate")?;
    let outcome = (|| -> Result<()> {
        run.step("migrations", |db| {
            apply_pending(target.name(), db, &available)
        })?;
        run.step("models", |db| {
            db.verify_lock()?;
            let done = models::apply(db, &models, pipeline.schema(), target.name())?;
            Ok(StepOutcome {
                rows: Some(done.applied.len() as u64),
                detail: Some(format!(
                    "{} applied, {} dropped, {} already current",
                    done.applied.len(),
                    done.dropped.len(),
                    done.current
                )),
            })
        })?;
        pipeline.data_steps(&mut run)?;
        Ok(())
    })();
    run.finish(&outcome, || pipeline.connect(false));
    let mut db = run.into_db();
    if let Err(err) = db.unlock() {
        tracing::debug!("{target}: releasing the lock: {err:#} (the connection close releases it)");
    }
    outcome?;
    tracing::info!("{target}: done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
