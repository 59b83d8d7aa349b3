//! `runner status`: where each target's database stands. Per target: the connection (password
//! removed), applied and pending migrations, drift, row counts of its tables, the last runs, and
//! what the pipeline adds (the staged files, the rollup's state). Text for people, `--json` for
//! scripts. Never creates or changes anything.

use anyhow::{Result, bail};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use super::pipeline;
use crate::cli::{StatusArgs, Target};
use crate::engine::db::TableCount;
use crate::engine::history::{RunRecord, recent_runs};
use crate::engine::migrations::{Drift, check_history, file_of, plan};
use crate::engine::models::{ModelStatus, State, recorded, statuses};
use crate::pipelines::StatusDetails;

#[derive(Debug, Serialize)]
pub struct Report {
    pub targets: Vec<TargetStatus>,
}

#[derive(Debug, Serialize)]
pub struct TargetStatus {
    pub target: Target,
    pub connection: String,
    /// Set when the database could not be read; the other fields are then empty.
    pub error: Option<String>,
    pub applied: Vec<AppliedMigration>,
    pub pending: Vec<String>,
    pub drift: Vec<Drift>,
    /// Every model: applied, changed (applied again by the next migrate), new, or removed.
    pub models: Vec<ModelStatus>,
    pub tables: Vec<TableCount>,
    pub runs: Vec<RunRecord>,
    /// What the pipeline adds (the staged files, the rollup's watermark and last merge).
    pub details: Option<serde_json::Value>,
    /// The same for the text report.
    #[serde(skip)]
    pub details_text: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AppliedMigration {
    pub version: i32,
    pub name: String,
    pub applied_at: Option<String>,
}

const RECENT_RUNS: u32 = 5;

pub fn run(args: &StatusArgs) -> Result<()> {
    let mut targets = Vec::new();
    for target in Target::selected(&args.targets) {
        targets.push(target_status(target, args));
    }
    let report = Report { targets };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    let unreachable: Vec<String> = report
        .targets
        .iter()
        .filter(|t| t.error.is_some())
        .map(|t| t.target.to_string())
        .collect();
    if !unreachable.is_empty() {
        bail!("could not read the status of: {}", unreachable.join(", "));
    }
    Ok(())
}

fn target_status(target: Target, args: &StatusArgs) -> TargetStatus {
    let mut status = TargetStatus {
        target,
        connection: String::new(),
        error: None,
        applied: Vec::new(),
        pending: Vec::new(),
        drift: Vec::new(),
        models: Vec::new(),
        tables: Vec::new(),
        runs: Vec::new(),
        details: None,
        details_text: Vec::new(),
    };
    if let Err(err) = fill(&mut status, args) {
        status.error = Some(crate::engine::db::message(&err));
    }
    status
}

fn fill(status: &mut TargetStatus, args: &StatusArgs) -> Result<()> {
    let pipeline = pipeline(status.target, &args.connections, None, None, None)
        .inspect_err(|err| status.connection = format!("(invalid: {err:#})"))?;
    status.connection = pipeline.display();
    let available = pipeline.migrations()?;
    let models = pipeline.models()?;
    let mut db = pipeline.connect(false)?;
    let applied = db.applied_migrations()?;
    check_history(&applied, &available, status.target.name())?;
    let plan = plan(applied, &available);
    status.applied = plan
        .applied
        .iter()
        .map(|m| AppliedMigration {
            version: m.version(),
            name: m.name().to_owned(),
            applied_at: m.applied_on().and_then(|t| t.format(&Rfc3339).ok()),
        })
        .collect();
    status.pending = plan.pending.iter().map(file_of).collect();
    status.drift = plan.drift;
    status.models = statuses(&models, &recorded(db.as_mut())?);
    status.tables = db.table_row_counts()?;
    if db.table_exists("runner_runs")? {
        status.runs = recent_runs(db.as_mut(), RECENT_RUNS)?;
    }
    if let Some(StatusDetails { json, text }) = pipeline.status_details(db.as_mut())? {
        status.details = Some(json);
        status.details_text = text;
    }
    Ok(())
}

fn print_text(report: &Report) {
    for (i, t) in report.targets.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{}  {}", t.target, t.connection);
        if let Some(err) = &t.error {
            println!("  error: {err}");
            continue;
        }
        let drift = if t.drift.is_empty() {
            "no drift".to_owned()
        } else {
            format!("{} DRIFTED", t.drift.len())
        };
        println!(
            "  migrations: {} applied, {} pending, {drift}",
            t.applied.len(),
            t.pending.len()
        );
        for m in &t.applied {
            println!(
                "    V{:<4} {:<40} applied {}",
                m.version,
                m.name,
                m.applied_at.as_deref().unwrap_or("?")
            );
        }
        for p in &t.pending {
            println!("    pending  {p}");
        }
        for d in &t.drift {
            println!("    drift    {d}");
        }
        let count = |state: State| t.models.iter().filter(|m| m.state == state).count();
        println!(
            "  models: {} applied, {} changed, {} new, {} removed",
            count(State::Applied),
            count(State::Changed),
            count(State::New),
            count(State::Removed)
        );
        for m in &t.models {
            let state = match m.state {
                State::Applied => "applied",
                State::Changed => "CHANGED (applied again by the next migrate)",
                State::New => "new (applied by the next migrate)",
                State::Removed => "removed (dropped by the next migrate)",
            };
            println!(
                "    {:<32} {:<12} {state}{}",
                m.name,
                m.materialized,
                m.applied_at
                    .as_deref()
                    .filter(|_| m.state == State::Applied)
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default()
            );
        }
        println!("  tables:");
        for c in &t.tables {
            println!("    {:<44} {:>12} rows", c.table, c.rows);
        }
        for line in &t.details_text {
            println!("  {line}");
        }
        if !t.runs.is_empty() {
            println!("  last runs:");
        }
        for r in &t.runs {
            let took: u64 = r.steps.iter().map(|s| s.duration_ms).sum();
            println!(
                "    #{:<5} {:<8} {:<10} started {}  {} steps, {} ms{}",
                r.run_id,
                r.command,
                r.outcome,
                r.started_at,
                r.steps.len(),
                took,
                r.error_message
                    .as_deref()
                    .map(|e| format!("  error: {e}"))
                    .unwrap_or_default()
            );
        }
    }
}
