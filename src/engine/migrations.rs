//! Versioned migrations: where they come from (built into the binary, or a folder during
//! development), how the applied history is compared with them (pending, drift), and applying
//! what is pending, one migration at a time.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use refinery::Migration;
use serde::Serialize;

use crate::engine::db::Database;
use crate::engine::drill;
use crate::engine::history::StepOutcome;

/// A pipeline's migrations, sorted by version: `embedded` (refinery's `embed_migrations!` runner
/// of the pipeline's folder), or the folder `dir` during development.
pub fn load(embedded: refinery::Runner, dir: Option<&Path>) -> Result<Vec<Migration>> {
    let mut migrations = match dir {
        Some(dir) => load_dir(dir)?,
        None => embedded.get_migrations().clone(),
    };
    migrations.sort();
    Ok(migrations)
}

/// Loads `V<n>__<name>.sql` files from a folder. Unlike refinery, which silently skips a file
/// whose name does not match, any other `.sql` file directly in the folder is an error.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading migrations folder {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading migrations folder {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "sql") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut migrations: Vec<Migration> = Vec::with_capacity(paths.len());
    for path in paths {
        let file_name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let stem = file_name.trim_end_matches(".sql");
        if !is_migration_name(stem) {
            bail!(
                "{}: not a migration name: use V<version>__<name>.sql with letters, digits and _ only \
                 (refinery would skip this file silently)",
                path.display()
            );
        }
        let sql = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let migration =
            Migration::unapplied(stem, &sql).with_context(|| format!("{}", path.display()))?;
        if let Some(twin) = migrations
            .iter()
            .find(|m| m.version() == migration.version())
        {
            bail!(
                "{}: version {} is used twice (also by {})",
                path.display(),
                migration.version(),
                file_of(twin)
            );
        }
        migrations.push(migration);
    }
    // By version, not by file name: V10 sorts before V2 as text.
    migrations.sort();
    Ok(migrations)
}

fn is_migration_name(stem: &str) -> bool {
    let Some(rest) = stem.strip_prefix('V') else {
        return false;
    };
    let Some((version, name)) = rest.split_once("__") else {
        return false;
    };
    !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The file name a migration came from.
pub fn file_of(migration: &Migration) -> String {
    format!("V{}__{}.sql", migration.version(), migration.name())
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Applied, but the file's text differs from what was applied.
    Changed,
    /// Applied, but no file has its version any more.
    Missing,
    /// A file older than the newest applied migration that was never applied.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub version: i32,
    pub file: String,
    pub kind: DriftKind,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            DriftKind::Changed => write!(
                f,
                "{} changed after it was applied: never edit an applied migration, restore it and add a new one",
                self.file
            ),
            DriftKind::Missing => write!(
                f,
                "{} was applied but its file is gone: restore it",
                self.file
            ),
            DriftKind::Skipped => write!(
                f,
                "{} is older than the newest applied migration but was never applied: give it a higher version",
                self.file
            ),
        }
    }
}

/// Applied history against the migrations at hand.
pub struct Plan {
    pub applied: Vec<Migration>,
    pub pending: Vec<Migration>,
    pub drift: Vec<Drift>,
}

/// Refuses a database with pending or drifted migrations: `runner stage` and `runner check` work
/// on the objects this binary's migrations define (a check may read a view a pending migration
/// creates). `name` is the pipeline's, for the advice.
pub fn ensure_up_to_date(db: &mut dyn Database, available: &[Migration], name: &str) -> Result<()> {
    let applied = db.applied_migrations()?;
    check_history(&applied, available, name)?;
    let plan = plan(applied, available);
    if !plan.pending.is_empty() || !plan.drift.is_empty() {
        bail!(
            "the database is not up to date ({} pending, {} drifted migrations): run `runner migrate {name}` first",
            plan.pending.len(),
            plan.drift.len()
        );
    }
    Ok(())
}

/// Refuses a database migrated by another history: its first migration is not ours (our history
/// was squashed into one baseline before the first release, CHANGELOG.md). Drift would report
/// every migration as changed or missing; this says what to do instead.
pub fn check_history(applied: &[Migration], available: &[Migration], name: &str) -> Result<()> {
    let (Some(first), Some(ours)) = (applied.first(), available.first()) else {
        return Ok(());
    };
    if first.version() == ours.version() && first.name() == ours.name() {
        return Ok(());
    }
    let last = applied.last().map(file_of).unwrap_or_default();
    bail!(
        "this database was migrated by another migration history ({} .. {last}), not by this \
         runner's ({}): the history was squashed before the first release (CHANGELOG.md). Drop \
         the database and run `runner migrate {name}` again: every table is rebuilt from the \
         source data",
        file_of(first),
        file_of(ours)
    )
}

pub fn plan(applied: Vec<Migration>, available: &[Migration]) -> Plan {
    let mut drift = Vec::new();
    for app in &applied {
        match available.iter().find(|m| m.version() == app.version()) {
            None => drift.push(Drift {
                version: app.version(),
                file: file_of(app),
                kind: DriftKind::Missing,
            }),
            Some(m) if m.checksum() != app.checksum() || m.name() != app.name() => {
                drift.push(Drift {
                    version: app.version(),
                    file: file_of(m),
                    kind: DriftKind::Changed,
                })
            }
            Some(_) => {}
        }
    }
    let newest_applied = applied.iter().map(Migration::version).max();
    let mut pending = Vec::new();
    for m in available {
        if applied.iter().any(|a| a.version() == m.version()) {
            continue;
        }
        if newest_applied.is_some_and(|newest| m.version() < newest) {
            drift.push(Drift {
                version: m.version(),
                file: file_of(m),
                kind: DriftKind::Skipped,
            });
        } else {
            pending.push(m.clone());
        }
    }
    Plan {
        applied,
        pending,
        drift,
    }
}

/// Checks drift, then applies what is pending, one migration at a time. `name` is the
/// pipeline's (its folder under `migrations/`), for messages.
pub fn apply_pending(
    name: &str,
    db: &mut dyn Database,
    available: &[Migration],
) -> Result<StepOutcome> {
    let applied = db.applied_migrations()?;
    check_history(&applied, available, name)?;
    let plan = plan(applied, available);
    if !plan.drift.is_empty() {
        let lines: Vec<String> = plan
            .drift
            .iter()
            .map(|d| format!("migrations/{name}/{d}"))
            .collect();
        bail!("migration drift, nothing applied: {}", lines.join("; "));
    }
    for migration in &plan.pending {
        drill::point(&format!("migrate:before:V{}", migration.version()));
        let started = Instant::now();
        db.apply_migration(migration)
            .with_context(|| format!("applying migrations/{name}/{}", file_of(migration)))?;
        tracing::info!(
            "{name}: applied {} ({} ms)",
            file_of(migration),
            started.elapsed().as_millis()
        );
    }
    Ok(StepOutcome {
        rows: Some(plan.pending.len() as u64),
        detail: Some(format!(
            "{} applied, {} already up to date",
            plan.pending.len(),
            plan.applied.len()
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_names() {
        assert!(is_migration_name("V1__runner_runs"));
        assert!(is_migration_name("V12__a_b2"));
        for bad in [
            "V1_x", "v1__x", "V__x", "V1__", "V1__a-b", "V1.1__x", "U1__x", "V1__a b",
        ] {
            assert!(!is_migration_name(bad), "{bad}");
        }
    }

    fn m(name: &str, sql: &str) -> Migration {
        Migration::unapplied(name, sql).unwrap()
    }

    #[test]
    fn plan_finds_pending_changed_missing_and_skipped() {
        let applied = vec![
            m("V1__a", "select 1"),
            m("V2__b", "select 2"),
            m("V4__d", "select 4"),
        ];
        let available = vec![
            m("V1__a", "select 1"),
            m("V2__b", "select 2 -- edited"),
            m("V3__c", "x"),
            m("V5__e", "y"),
        ];
        let plan = plan(applied, &available);
        assert_eq!(plan.pending.len(), 1);
        assert_eq!(plan.pending[0].version(), 5);
        let kinds: Vec<String> = plan
            .drift
            .iter()
            .map(|d| format!("{}:{:?}", d.file, d.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                "V2__b.sql:Changed",
                "V4__d.sql:Missing",
                "V3__c.sql:Skipped"
            ]
        );
    }
}
