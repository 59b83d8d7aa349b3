//! `runner stage`: for each selected target, only the pipeline's loading step, on a database whose
//! migrations are up to date, under its lock, recorded as a run.

use anyhow::Result;

use super::{each_target, pipeline};
use crate::cli::{StageArgs, Target};
use crate::engine::history::Run;
use crate::engine::migrations::ensure_up_to_date;
use crate::engine::models::ensure_current;

pub fn run(args: &StageArgs) -> Result<()> {
    each_target(&args.targets, |target| stage_target(target, args))
}

fn stage_target(target: Target, args: &StageArgs) -> Result<()> {
    let pipeline = pipeline(
        target,
        &args.connections,
        Some(&args.data),
        Some(&args.rollup),
        Some(&args.guards),
    )?;
    let mut db = pipeline.connect(false)?;
    db.lock(args.connections.lock_timeout())?;
    ensure_up_to_date(db.as_mut(), &pipeline.migrations()?, target.name())?;
    ensure_current(db.as_mut(), &pipeline.models()?, target.name())?;
    let mut run = Run::begin(db, target.name(), "stage")?;
    let outcome = pipeline.stage_steps(&mut run);
    run.finish(&outcome, || pipeline.connect(false));
    outcome
}
