//! The Pagila rollup (work in progress): incremental extraction of changed rentals into a mirror,
//! and a MERGE of the weeks they touch into `rollup.weekly_rentals` and `rollup.weekly_film_demand`.

use anyhow::Result;

use crate::cli::{ConnectionArgs, RollupArgs};
use crate::history::StepOutcome;

/// Brings the rollup up to date (the data step of `runner migrate rollup`).
pub fn refresh(_connections: &ConnectionArgs, _options: &RollupArgs) -> Result<StepOutcome> {
    tracing::warn!("rollup: the incremental merge is not built yet; only migrations were applied");
    Ok(StepOutcome::default())
}

/// What `runner status` shows for the rollup beyond the common fields; `None` before a first run.
pub fn status_details(_connections: &ConnectionArgs) -> Result<Option<serde_json::Value>> {
    Ok(None)
}
