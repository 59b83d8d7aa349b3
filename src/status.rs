//! `runner status`: where each target's database stands. Per target: the connection (password
//! removed), applied and pending migrations, drift, row counts of its tables and the last runs.
//! Text for people, `--json` for scripts. Never creates or changes anything.

use anyhow::{Result, bail};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::cli::{StatusArgs, Target};
use crate::db::{RunRecord, TableCount};
use crate::migrate::{Drift, file_of, migrations, plan};

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
    pub tables: Vec<TableCount>,
    pub runs: Vec<RunRecord>,
    /// Target-specific state (the rollup's watermark and last merge).
    pub details: Option<serde_json::Value>,
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
        connection: connection_display(target, args),
        error: None,
        applied: Vec::new(),
        pending: Vec::new(),
        drift: Vec::new(),
        tables: Vec::new(),
        runs: Vec::new(),
        details: None,
    };
    if let Err(err) = fill(&mut status, args) {
        status.error = Some(format!("{err:#}"));
    }
    status
}

fn connection_display(target: Target, args: &StatusArgs) -> String {
    let shown = match target {
        Target::Movies => {
            crate::config::MysqlTarget::from_args(&args.connections).map(|t| t.display())
        }
        Target::Rollup => crate::config::PgTarget::from_url(
            &args.connections.rollup_database_url,
            "ROLLUP_DATABASE_URL",
        )
        .map(|t| t.display()),
    };
    shown.unwrap_or_else(|err| format!("(invalid: {err:#})"))
}

fn fill(status: &mut TargetStatus, args: &StatusArgs) -> Result<()> {
    let available = migrations(status.target, args.connections.migrations_dir.as_deref())?;
    let mut db = crate::connect(status.target, &args.connections, false)?;
    let plan = plan(db.applied_migrations()?, &available);
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
    status.tables = db.table_row_counts()?;
    if db.table_exists("runner_runs")? {
        status.runs = db.recent_runs(RECENT_RUNS)?;
    }
    status.details = match status.target {
        Target::Movies if db.table_exists("raw_files")? => Some(staged_files(args)?),
        Target::Movies => None,
        Target::Rollup => crate::rollup::status_details(&args.connections)?,
    };
    Ok(())
}

/// The last staging's counts per file (read = loaded + rejected), from `raw_files`.
fn staged_files(args: &StatusArgs) -> Result<serde_json::Value> {
    use mysql::prelude::Queryable;
    let target = crate::config::MysqlTarget::from_args(&args.connections)?;
    let mut conn =
        crate::mysql_conn::MysqlConn::connect(&target, args.connections.connect_timeout(), false)?;
    let rows: Vec<(String, u64, u64, u64, String)> = conn.conn.query(
        "select file_name, records_read, records_loaded, records_rejected, source from raw_files order by file_name",
    )?;
    let files: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(file, read, loaded, rejected, source)| {
            serde_json::json!({"file": file, "read": read, "loaded": loaded, "rejected": rejected, "source": source})
        })
        .collect();
    Ok(serde_json::json!({ "staged_files": files }))
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
        println!("  tables:");
        for c in &t.tables {
            println!("    {:<44} {:>12} rows", c.table, c.rows);
        }
        match t
            .details
            .as_ref()
            .and_then(|d| d.get("staged_files"))
            .and_then(|f| f.as_array())
        {
            Some(files) => {
                println!("  staged files (read = loaded + rejected):");
                for f in files {
                    println!(
                        "    {:<24} read {:>10}  loaded {:>10}  rejected {:>6}  from {}",
                        f["file"].as_str().unwrap_or("?"),
                        f["read"].as_u64().unwrap_or(0),
                        f["loaded"].as_u64().unwrap_or(0),
                        f["rejected"].as_u64().unwrap_or(0),
                        f["source"].as_str().unwrap_or("?")
                    );
                }
            }
            None => {
                if let Some(details) = &t.details {
                    println!("  details: {details}");
                }
            }
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
