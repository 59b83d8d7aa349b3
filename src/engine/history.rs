//! The run history: one `runner_runs` row per `runner migrate` or `runner stage` of a pipeline,
//! with a `runner_run_steps` row per step (duration, rows, what it did). The tables come from each
//! pipeline's first migration, so a run that creates them starts recording once they exist. The
//! SQL is written once here for both dialects, on [`Database::execute`] and [`Database::query`].

use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::engine::db::{Cell, Database, message};

/// What a step reports about itself.
#[derive(Debug, Default)]
pub struct StepOutcome {
    pub rows: Option<u64>,
    pub detail: Option<String>,
}

/// One finished step of a run, as stored in `runner_run_steps`.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step_number: u32,
    pub step_name: String,
    pub duration_ms: u64,
    pub rows_affected: Option<u64>,
    pub detail: Option<String>,
}

/// One row of `runner_runs` with its steps.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub run_id: i64,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub error_message: Option<String>,
    pub steps: Vec<StepRecord>,
}

/// A run in progress. Owns the connection so every step can reach it.
pub struct Run {
    db: Box<dyn Database>,
    /// The pipeline's name, the prefix of every log line.
    label: &'static str,
    command: &'static str,
    run_id: Option<i64>,
    steps: Vec<StepRecord>,
    /// How many of `steps` are in `runner_run_steps` already.
    recorded: usize,
}

impl Run {
    /// Starts recording. Call with the migration lock held: runs still marked `running` then
    /// belong to a runner that died, and are marked `abandoned`.
    pub fn begin(
        db: Box<dyn Database>,
        label: &'static str,
        command: &'static str,
    ) -> Result<Self> {
        let mut run = Self {
            db,
            label,
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
        let abandoned = mark_abandoned_runs(self.db.as_mut())?;
        if abandoned > 0 {
            tracing::warn!(
                "{}: {abandoned} earlier run(s) had died mid-way; marked abandoned",
                self.label
            );
        }
        self.run_id = Some(run_begin(self.db.as_mut(), self.command)?);
        Ok(())
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
                Ok(o) => o.detail.as_deref().map(fitted),
                Err(err) => Some(fitted(&format!("failed: {}", message(err)))),
            },
        };
        if result.is_ok() {
            let detail = record
                .detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            tracing::info!("{}: {name}{detail} ({duration_ms} ms)", self.label);
        }
        self.steps.push(record);
        self.record_last_step();
        result
    }

    fn record_last_step(&mut self) {
        if let Err(err) = self.flush_steps() {
            tracing::warn!(
                "{}: could not record step in runner_run_steps: {err:#}",
                self.label
            );
        }
    }

    fn flush_steps(&mut self) -> Result<()> {
        self.start_recording()?;
        if let Some(run_id) = self.run_id {
            while let Some(step) = self.steps.get(self.recorded) {
                run_step(self.db.as_mut(), run_id, step)?;
                self.recorded += 1;
            }
        }
        Ok(())
    }

    /// Records the outcome, on a new connection from `reconnect` when the run's own was lost (a
    /// killed session, a server restart: often what failed the run). Failures to record are
    /// logged, never hide the run's own error.
    pub fn finish(
        &mut self,
        outcome: &Result<()>,
        reconnect: impl FnOnce() -> Result<Box<dyn Database>>,
    ) {
        let Some(run_id) = self.run_id else { return };
        let (status, message) = match outcome {
            Ok(()) => ("succeeded", None),
            Err(err) => ("failed", Some(fitted(&message(err)))),
        };
        let recorded =
            run_finish(self.db.as_mut(), run_id, status, message.as_deref()).or_else(|_| {
                let mut db = reconnect()?;
                run_finish(db.as_mut(), run_id, status, message.as_deref())
            });
        if let Err(err) = recorded {
            tracing::warn!(
                "{}: could not record the run's outcome in runner_runs: {err:#}",
                self.label
            );
        }
    }

    /// The run's id in `runner_runs`; `None` until that table exists (a first migrate records
    /// itself once its migrations have created it).
    pub fn id(&self) -> Option<i64> {
        self.run_id
    }

    pub fn into_db(self) -> Box<dyn Database> {
        self.db
    }
}

/// The most of a message the history keeps (MySQL's `text` holds 65,535 bytes): a longer one is
/// cut, saying how long it was, so a failed run is always recorded as failed.
const MAX_MESSAGE_BYTES: usize = 8_000;

fn fitted(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… (cut: {} bytes in all)", &message[..end], message.len())
}

/// Inserts a `running` row into `runner_runs` and returns its id.
fn run_begin(db: &mut dyn Database, command: &str) -> Result<i64> {
    let sql = format!(
        "insert into runner_runs (command, runner_version, started_at, outcome) \
         values (?, ?, {}, 'running')",
        db.dialect().now()
    );
    db.insert_returning(
        &sql,
        &[command.into(), env!("CARGO_PKG_VERSION").into()],
        "run_id",
    )
    .context("recording the run in runner_runs")
}

fn run_step(db: &mut dyn Database, run_id: i64, step: &StepRecord) -> Result<()> {
    db.execute(
        "insert into runner_run_steps \
             (run_id, step_number, step_name, duration_ms, rows_affected, detail) \
         values (?, ?, ?, ?, ?, ?)",
        &[
            run_id.into(),
            i64::from(step.step_number).into(),
            step.step_name.as_str().into(),
            (step.duration_ms as i64).into(),
            step.rows_affected.map(|r| r as i64).into(),
            step.detail.as_deref().into(),
        ],
    )?;
    Ok(())
}

fn run_finish(
    db: &mut dyn Database,
    run_id: i64,
    outcome: &str,
    error_message: Option<&str>,
) -> Result<()> {
    let sql = format!(
        "update runner_runs set finished_at = {}, outcome = ?, error_message = ? \
         where run_id = ?",
        db.dialect().now()
    );
    db.execute(&sql, &[outcome.into(), error_message.into(), run_id.into()])?;
    Ok(())
}

/// Marks runs left `running` by a runner that died as `abandoned` (call with the lock held).
fn mark_abandoned_runs(db: &mut dyn Database) -> Result<u64> {
    db.execute(
        "update runner_runs set outcome = 'abandoned', \
             error_message = 'the runner stopped before recording an outcome (killed or lost its connection)' \
         where outcome = 'running'",
        &[],
    )
    .context(
        "recording the run in runner_runs (the runner's user needs insert and update there, \
         as on every table of its database)",
    )
}

/// The last `limit` runs, newest first, with their steps.
pub fn recent_runs(db: &mut dyn Database, limit: u32) -> Result<Vec<RunRecord>> {
    let dialect = db.dialect();
    let sql = format!(
        "select run_id, command, {}, {}, outcome, error_message \
         from runner_runs order by run_id desc limit ?",
        dialect.iso_utc("started_at"),
        dialect.iso_utc("finished_at"),
    );
    let runs = db.query(&sql, &[i64::from(limit).into()])?;
    let mut records = Vec::with_capacity(runs.len());
    for run in runs {
        let run_id = int(&run[0])?;
        let steps = db.query(
            "select step_number, step_name, duration_ms, rows_affected, detail \
             from runner_run_steps where run_id = ? order by step_number",
            &[run_id.into()],
        )?;
        records.push(RunRecord {
            run_id,
            command: text(&run[1])?,
            started_at: text(&run[2])?,
            finished_at: run[3].text().map(str::to_owned),
            outcome: text(&run[4])?,
            error_message: run[5].text().map(str::to_owned),
            steps: steps
                .iter()
                .map(|s| {
                    Ok(StepRecord {
                        step_number: u32::try_from(int(&s[0])?)?,
                        step_name: text(&s[1])?,
                        duration_ms: u64::try_from(int(&s[2])?)?,
                        rows_affected: s[3].int().map(|r| r as u64),
                        detail: s[4].text().map(str::to_owned),
                    })
                })
                .collect::<Result<_>>()?,
        });
    }
    Ok(records)
}

fn int(cell: &Cell) -> Result<i64> {
    cell.int()
        .with_context(|| format!("runner_runs: expected a number, found {cell:?}"))
}

fn text(cell: &Cell) -> Result<String> {
    cell.text()
        .map(str::to_owned)
        .with_context(|| format!("runner_runs: expected text, found {cell:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(fitted("short"), "short");
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = fitted(&long);
        assert!(cut.len() < MAX_MESSAGE_BYTES + 40, "{}", cut.len());
        assert!(cut.ends_with(&format!("… (cut: {} bytes in all)", long.len())));
    }
}
