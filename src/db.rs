//! What the runner needs from a target database, whatever its dialect: the migration lock,
//! refinery's migration history, applying one migration, row counts and the run history.
//! `mysql_conn` and `pg_conn` implement it; `migrate`, `status` and `history` only see this trait.

use std::time::Duration;

use anyhow::Result;
use refinery::Migration;
use serde::Serialize;

/// refinery's history table (its default name, so `refinery_cli` reads it too).
pub const MIGRATION_TABLE: &str = "refinery_schema_history";

#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
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

pub trait Database {
    /// The connection target with the password removed.
    fn display(&self) -> String;

    /// Takes the per-database migration lock, waiting up to `timeout` for another runner.
    fn lock(&mut self, timeout: Duration) -> Result<()>;

    /// Releases the lock (also released when the connection closes, so a crash never leaves it held).
    fn unlock(&mut self) -> Result<()>;

    fn table_exists(&mut self, table: &str) -> Result<bool>;

    /// Migrations refinery recorded as applied, oldest first; empty when its table is missing.
    fn applied_migrations(&mut self) -> Result<Vec<Migration>>;

    /// Applies one migration and records it in refinery's table (one transaction where the
    /// dialect allows: PostgreSQL yes, MySQL only for statements that do not commit implicitly).
    fn apply_migration(&mut self, migration: &Migration) -> Result<()>;

    /// Exact row counts of the base tables the runner owns in this database.
    fn table_row_counts(&mut self) -> Result<Vec<TableCount>>;

    /// Inserts a `running` row into `runner_runs` and returns its id.
    fn run_begin(&mut self, command: &str) -> Result<i64>;

    fn run_step(&mut self, run_id: i64, step: &StepRecord) -> Result<()>;

    fn run_finish(&mut self, run_id: i64, outcome: &str, error_message: Option<&str>)
    -> Result<()>;

    /// Marks runs left `running` by a runner that died as `abandoned` (call with the lock held).
    fn mark_abandoned_runs(&mut self) -> Result<u64>;

    /// Runs a check query: how many rows it returns, and the first `sample` of them as text.
    fn query_check(&mut self, sql: &str, sample: usize) -> Result<(u64, Vec<String>)>;

    /// The last `limit` runs, newest first.
    fn recent_runs(&mut self, limit: u32) -> Result<Vec<RunRecord>>;
}
