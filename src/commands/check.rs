//! `runner check`: every data check of each selected target against its live tables; fails if a
//! `fail` check does. A target that cannot be checked (unreachable, not migrated) does not stop
//! the other: its error is reported with theirs (as `migrate` and `stage` do).

use anyhow::{Result, bail};

use super::{each_target, pipeline};
use crate::cli::{CheckArgs, Target};
use crate::engine::checks::{CheckResult, Status, run_checks};
use crate::engine::migrations::ensure_up_to_date;
use crate::engine::models::ensure_current;

pub fn run(args: &CheckArgs) -> Result<()> {
    let mut failed = Vec::new();
    let checked = each_target(&args.targets, |target| {
        let results = check_target(target, args)?;
        for result in &results {
            println!("{target}: {result}");
            if result.status == Status::Fail {
                failed.push(format!("{target}/{}", result.name));
            }
        }
        let passed = results.iter().filter(|r| r.status == Status::Pass).count();
        println!("{target}: {passed} of {} checks passed", results.len());
        Ok(())
    });
    match (checked, failed.is_empty()) {
        (Ok(()), true) => Ok(()),
        (Ok(()), false) => bail!("failed checks: {}", failed.join(", ")),
        (Err(err), true) => Err(err),
        (Err(err), false) => bail!("failed checks: {}; {err:#}", failed.join(", ")),
    }
}

fn check_target(target: Target, args: &CheckArgs) -> Result<Vec<CheckResult>> {
    let pipeline = pipeline(target, &args.connections, None, None, None)?;
    let checks = pipeline.checks()?;
    let mut db = pipeline.connect(false)?;
    ensure_up_to_date(db.as_mut(), &pipeline.migrations()?, target.name())?;
    ensure_current(db.as_mut(), &pipeline.models()?, target.name())?;
    run_checks(db.as_mut(), &checks, &[])
}
