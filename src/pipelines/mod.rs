//! The pipelines, one folder each: [`movies`] (the Kaggle files into MySQL) and [`rollup`] (a
//! weekly rollup of Pagila into PostgreSQL). Each owns everything that knows its input, its SQL
//! folder (`migrations/<name>/`) and its tables, and is reached through the one interface here,
//! [`Pipeline`]. A third pipeline is a third folder that implements it, plus one line in
//! `commands` (the only layer that names every pipeline). Pipelines use the engine, never each
//! other.

pub mod movies;
pub mod rollup;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use refinery::Migration;

use crate::engine::checks::{self, Check, CheckResult, Severity, Status};
use crate::engine::db::Database;
use crate::engine::history::Run;
use crate::engine::migrations;
use crate::engine::models::{self, Model};

/// Settings every pipeline takes from the command line.
#[derive(Debug, Clone)]
pub struct Common {
    /// How long to keep retrying a database that refuses connections (`--connect-timeout`).
    pub connect_timeout: Duration,
    /// Read migrations and checks from `DIR/<name>/` instead of the built-in ones.
    pub migrations_dir: Option<PathBuf>,
}

impl Common {
    /// A pipeline's migrations: `built_in` (its `embed_migrations!` runner), or the files of
    /// `DIR/<name>/` with `--migrations-dir`.
    pub fn migrations(&self, name: &str, built_in: refinery::Runner) -> Result<Vec<Migration>> {
        let dir = self.migrations_dir.as_ref().map(|dir| dir.join(name));
        migrations::load(built_in, dir.as_deref())
    }

    /// A pipeline's checks: `built_in` (name, SQL) pairs, or the files of `DIR/<name>/checks/`
    /// with `--migrations-dir`.
    pub fn checks(&self, name: &str, built_in: &[(&str, &str)]) -> Result<Vec<Check>> {
        checks::load(built_in, self.folder(name, "checks").as_deref())
    }

    /// A pipeline's models, in the order they apply: `built_in` (name, SQL) pairs, or the files
    /// of `DIR/<name>/models/` with `--migrations-dir`.
    pub fn models(&self, name: &str, built_in: &[(&str, &str)]) -> Result<Vec<Model>> {
        models::load(built_in, self.folder(name, "models").as_deref())
    }

    fn folder(&self, name: &str, kind: &str) -> Option<PathBuf> {
        self.migrations_dir
            .as_ref()
            .map(|dir| dir.join(name).join(kind))
    }
}

/// What a run refuses to publish unless told to: an input or a published table that shrank by more
/// than `max_shrink_percent` against the last published run (the first run has nothing to compare
/// with).
#[derive(Debug, Clone, Copy)]
pub struct Guards {
    pub max_shrink_percent: u8,
    /// `--allow-shrink`: a shrink is reported as a warning only.
    pub allow_shrink: bool,
}

impl Guards {
    /// Whether `now` rows, against `before` at the last publish, is more shrink than allowed.
    pub fn shrank_too_much(&self, before: u64, now: u64) -> bool {
        u128::from(now) * 100 < u128::from(before) * u128::from(100 - self.max_shrink_percent)
    }

    /// The guard as a check, `no_unexpected_shrink`, over (what, rows at the last publish, rows
    /// now): it fails (warns with `--allow-shrink`) naming each that shrank too much.
    pub fn shrink_check(&self, compared: &[(String, u64, u64)]) -> CheckResult {
        let shrunk: Vec<String> = compared
            .iter()
            .filter(|(_, before, now)| self.shrank_too_much(*before, *now))
            .map(|(what, before, now)| {
                format!(
                    "({what}: {before} at the last publish, {now} now: -{:.1}%)",
                    100.0 - *now as f64 * 100.0 / *before as f64
                )
            })
            .collect();
        let severity = if self.allow_shrink {
            Severity::Warn
        } else {
            Severity::Fail
        };
        let status = match (shrunk.is_empty(), severity) {
            (true, _) => Status::Pass,
            (false, Severity::Warn) => Status::Warn,
            (false, Severity::Fail) => Status::Fail,
        };
        CheckResult {
            name: "no_unexpected_shrink".to_owned(),
            severity,
            description: format!(
                "nothing shrank by more than {}% against the last published run (publish a \
                 smaller input on purpose with --allow-shrink)",
                self.max_shrink_percent
            ),
            status,
            rows_found: shrunk.len() as u64,
            sample: shrunk,
        }
    }
}

/// What `runner status` shows of a pipeline beyond migrations, tables and runs.
#[derive(Debug, Clone)]
pub struct StatusDetails {
    /// For `--json`.
    pub json: serde_json::Value,
    /// For the text report, one line each (indented by the caller).
    pub text: Vec<String>,
}

/// One pipeline, as the commands see it: its database, its SQL, and its data steps.
pub trait Pipeline {
    /// Its name on the command line and in log lines: `movies`, `rollup`.
    fn name(&self) -> &'static str;

    /// Its database, password removed.
    fn display(&self) -> String;

    /// Connects to its database, waiting for it within `--connect-timeout`. With `create`, a
    /// missing database is created (migrate and stage do; status and check never do).
    fn connect(&self, create: bool) -> Result<Box<dyn Database>>;

    /// Its versioned migrations, sorted by version.
    fn migrations(&self) -> Result<Vec<Migration>>;

    /// Its models, in the order they apply.
    fn models(&self) -> Result<Vec<Model>>;

    /// The schema its models' objects live in (`rollup`), or `None` for the connection's database.
    fn schema(&self) -> Option<&'static str>;

    /// Its data checks, by name.
    fn checks(&self) -> Result<Vec<Check>>;

    /// What `runner migrate` runs after the migrations, each step recorded in `run`.
    fn data_steps(&self, run: &mut Run) -> Result<()>;

    /// What `runner stage` runs: loading only, published at once.
    fn stage_steps(&self, run: &mut Run) -> Result<()>;

    /// Its part of `runner status` (`db` is its database); `None` before a first run.
    fn status_details(&self, db: &mut dyn Database) -> Result<Option<StatusDetails>>;
}
