//! The run history: one `runner_runs` row per `runner migrate` or `runner stage` of a target, with a
//! `runner_run_steps` row per step (duration, rows, what it did). The tables come from each
//! target's first migration, so a run that creates them starts recording once they exist.

use std::time::Instant;

use anyhow::Result;

use crate::cli::Target;
use crate::db::{Database, StepRecord};

/// What a step reports about itself.
#[derive(Debug, Default)]
pub struct StepOutcome {
    pub rows: Option<u64>,
    pub detail: Option<String>,
}

/// A run in progress. Owns the connection so every step can reach it.
pub struct Run {
    db: Box<dyn Database>,
    target: Target,
    command: &'static str,
    run_id: Option<i64>,
    steps: Vec<StepRecord>,
    /// How many of `steps` are in `runner_run_steps` already.
    recorded: usize,
}

impl Run {
    /// Starts recording. Call with the migration lock held: runs still marked `running` then
    /// belong to a runner that died, and are marked `abandoned`.
    pub fn begin(db: Box<dyn Database>, target: Target, command: &'static str) -> Result<Self> {
        let mut run = Self {
            db,
            target,
            command,
            run_id: None,
            steps: Vec::new(),
            recorded: 0,
        };
        run.start_recording()?;
        Ok(run)
    }

    fn start_recording(&mut self) -> Result<()> {
        if self.run_id.is_some() || !self.db.table_exists("runner_runs")? {
            return Ok(());
        }
        let abandoned = self.db.mark_abandoned_runs()?;
        if abandoned > 0 {
            tracing::warn!(
                "{}: {abandoned} earlier run(s) had died mid-way; marked abandoned",
                self.target
            );
        }
        self.run_id = Some(self.db.run_begin(self.command)?);
        Ok(())
    }

    pub fn db(&mut self) -> &mut dyn Database {
        self.db.as_mut()
    }

    /// Runs one step, logs one line with its duration, and records it.
    pub fn step(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut dyn Database) -> Result<StepOutcome>,
    ) -> Result<StepOutcome> {
        let started = Instant::now();
        let result = f(self.db.as_mut());
        let duration_ms = started.elapsed().as_millis() as u64;
        let record = StepRecord {
            step_number: self.steps.len() as u32 + 1,
            step_name: name.to_owned(),
            duration_ms,
            rows_affected: result.as_ref().ok().and_then(|o| o.rows),
            detail: match &result {
                Ok(o) => o.detail.clone(),
                Err(err) => Some(format!("failed: {err:#}")),
            },
        };
        if result.is_ok() {
            let detail = record
                .detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            tracing::info!("{}: {name}{detail} ({duration_ms} ms)", self.target);
        }
        self.steps.push(record);
        self.record_last_step();
        result
    }

    fn record_last_step(&mut self) {
        if let Err(err) = self.flush_steps() {
            tracing::warn!(
                "{}: could not record step in runner_run_steps: {err:#}",
                self.target
            );
        }
    }

    fn flush_steps(&mut self) -> Result<()> {
        self.start_recording()?;
        if let Some(run_id) = self.run_id {
            while let Some(step) = self.steps.get(self.recorded) {
                self.db.run_step(run_id, step)?;
                self.recorded += 1;
            }
        }
        Ok(())
    }

    /// Records the outcome. Failures to record are logged, never hide the run's own error.
    pub fn finish(&mut self, outcome: &Result<()>) {
        let Some(run_id) = self.run_id else { return };
        let (status, message) = match outcome {
            Ok(()) => ("succeeded", None),
            Err(err) => ("failed", Some(format!("{err:#}"))),
        };
        if let Err(err) = self.db.run_finish(run_id, status, message.as_deref()) {
            tracing::warn!(
                "{}: could not record the run's outcome in runner_runs: {err:#}",
                self.target
            );
        }
    }

    pub fn into_db(self) -> Box<dyn Database> {
        self.db
    }
}
