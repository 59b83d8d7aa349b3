//! Data checks: SQL files kept next to each target's migrations (`migrations/<target>/checks/`),
//! each a query returning the offending rows, zero rows meaning pass. A header names the severity
//! (`fail` or `warn`) and says in one line what is checked. `runner check` runs them against the
//! live tables; `runner migrate` runs the `fail` checks against the new tables before publishing.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::cli::{CheckArgs, Target};
use crate::db::Database;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/checks.rs"));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Fail,
    Warn,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub severity: Severity,
    pub description: String,
    pub sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub severity: Severity,
    pub description: String,
    pub status: Status,
    pub rows_found: u64,
    /// The first offending rows, as text.
    pub sample: Vec<String>,
}

impl std::fmt::Display for CheckResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = match self.status {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        write!(
            f,
            "{status:<4}  {:<40} {:>8} rows  {}",
            self.name, self.rows_found, self.description
        )?;
        for row in &self.sample {
            write!(f, "\n        {row}")?;
        }
        Ok(())
    }
}

/// Rows shown per failing check.
pub const SAMPLE_ROWS: usize = 5;

/// The query returning the first `sample_size` rows of a check. Newlines around the check: a
/// trailing `--` comment must not swallow the parenthesis.
pub fn sample_query(sql: &str, sample_size: usize) -> String {
    format!("select * from (\n{sql}\n) as offending limit {sample_size}")
}

/// The query counting every row of a check (newlines as in [`sample_query`]).
pub fn count_query(sql: &str) -> String {
    format!("select count(*) from (\n{sql}\n) as offending")
}

/// How many rows a check found, given how many its sample query returned: a check that passes
/// (no rows) or finds fewer than a sample's worth runs once; only a full sample needs
/// `count_all`, a second query over `count_query`.
pub fn rows_found(
    sampled: usize,
    sample_size: usize,
    count_all: impl FnOnce() -> Result<u64>,
) -> Result<u64> {
    if sampled < sample_size {
        Ok(sampled as u64)
    } else {
        count_all()
    }
}

/// Parses a check file: `-- severity: fail|warn` and `-- description: ...` lines in its header.
pub fn parse(name: &str, sql: &str) -> Result<Check> {
    let mut severity = None;
    let mut description = None;
    for line in sql
        .lines()
        .take_while(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
    {
        let line = line.trim_start().trim_start_matches('-').trim();
        if let Some(value) = line.strip_prefix("severity:") {
            severity = Some(match value.trim() {
                "fail" => Severity::Fail,
                "warn" => Severity::Warn,
                other => bail!("check {name}: severity {other:?}: use fail or warn"),
            });
        } else if let Some(value) = line.strip_prefix("description:") {
            description = Some(value.trim().to_owned());
        }
    }
    let body = sql.trim().trim_end_matches(';').trim();
    if body.contains(';') {
        bail!("check {name}: one query per file (found a `;` inside)");
    }
    Ok(Check {
        name: name.to_owned(),
        severity: severity.with_context(|| {
            format!("check {name}: no `-- severity: fail|warn` line in its header")
        })?,
        description: description.with_context(|| {
            format!("check {name}: no `-- description: ...` line in its header")
        })?,
        sql: body.to_owned(),
    })
}

/// The checks of a target, by name: built in, or from `DIR/<target>/checks/` during development.
pub fn checks(target: Target, dir: Option<&Path>) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    match dir {
        Some(dir) => {
            let dir = dir.join(target.name()).join("checks");
            if !dir.is_dir() {
                return Ok(checks);
            }
            let mut paths: Vec<_> = std::fs::read_dir(&dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect();
            paths.sort();
            for path in paths {
                let name = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let sql = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                checks.push(parse(&name, &sql).with_context(|| path.display().to_string())?);
            }
        }
        None => {
            for (t, name, sql) in embedded::EMBEDDED {
                if *t == target.name() {
                    checks.push(parse(name, sql)?);
                }
            }
        }
    }
    Ok(checks)
}

/// Runs checks on a database. `rename` maps table names to the ones to read instead (the
/// unpublished copies).
pub fn run_checks(
    db: &mut dyn Database,
    checks: &[Check],
    rename: &[(String, String)],
) -> Result<Vec<CheckResult>> {
    run_checks_with(|sql, sample| db.query_check(sql, sample), checks, rename)
}

/// Runs one check on a database, reading `rename`d tables as in [`run_checks`].
pub fn run_check(
    db: &mut dyn Database,
    check: &Check,
    rename: &[(String, String)],
) -> Result<CheckResult> {
    check_with(
        &mut |sql, sample| db.query_check(sql, sample),
        check,
        rename,
    )
}

/// Runs checks through any query function returning (rows found, first rows as text): used inside
/// the rollup's transaction, to check its tables before it commits.
pub fn run_checks_with(
    mut query: impl FnMut(&str, usize) -> Result<(u64, Vec<String>)>,
    checks: &[Check],
    rename: &[(String, String)],
) -> Result<Vec<CheckResult>> {
    checks
        .iter()
        .map(|check| check_with(&mut query, check, rename))
        .collect()
}

fn check_with(
    query: &mut impl FnMut(&str, usize) -> Result<(u64, Vec<String>)>,
    check: &Check,
    rename: &[(String, String)],
) -> Result<CheckResult> {
    let sql = substitute(&check.sql, rename);
    let (rows_found, sample) =
        query(&sql, SAMPLE_ROWS).with_context(|| format!("running check {}", check.name))?;
    let status = match (rows_found, check.severity) {
        (0, _) => Status::Pass,
        (_, Severity::Warn) => Status::Warn,
        (_, Severity::Fail) => Status::Fail,
    };
    Ok(CheckResult {
        name: check.name.clone(),
        severity: check.severity,
        description: check.description.clone(),
        status,
        rows_found,
        sample: if status == Status::Pass {
            Vec::new()
        } else {
            sample
        },
    })
}

/// Replaces whole-word table names (`movie_rating_percentiles` but not `x_movie_rating_percentiles`).
pub fn substitute(sql: &str, rename: &[(String, String)]) -> String {
    let mut out = sql.to_owned();
    for (from, to) in rename {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(from.as_str()) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + from.len()..].chars().next();
            let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            result.push_str(&rest[..at]);
            if is_word(before) || is_word(after) {
                result.push_str(from);
            } else {
                result.push_str(to);
            }
            rest = &rest[at + from.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// Counts of a checks run.
pub struct Tally {
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
}

/// The publishing gate: logs every check that did not pass, and fails naming each failed `fail`
/// check with its first rows; `nothing` says what the failure prevented ("published", "committed").
pub fn gate(target: Target, results: &[CheckResult], nothing: &str) -> Result<Tally> {
    for result in results.iter().filter(|r| r.status != Status::Pass) {
        tracing::warn!("{target}: check {result}");
    }
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let tally = Tally {
        passed: count(Status::Pass),
        warned: count(Status::Warn),
        failed: count(Status::Fail),
    };
    if tally.failed > 0 {
        let failed: Vec<String> = results
            .iter()
            .filter(|r| r.status == Status::Fail)
            .map(|r| {
                format!(
                    "{} ({} rows, e.g. {})",
                    r.name,
                    r.rows_found,
                    r.sample.join(" ")
                )
            })
            .collect();
        bail!(
            "data checks failed, nothing {nothing}: {}",
            failed.join("; ")
        );
    }
    Ok(tally)
}

/// `runner check`: every check of each target against the live tables; fails if a `fail` check
/// does. A target that cannot be checked (unreachable, not migrated) does not stop the other:
/// its error is reported with theirs (as `migrate` and `stage` do).
pub fn run(args: &CheckArgs) -> Result<()> {
    let mut failed = Vec::new();
    let checked = crate::each_target(&args.targets, |target| {
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
    let dir = args.connections.migrations_dir.as_deref();
    let checks = checks(target, dir)?;
    let mut db = crate::connect(target, &args.connections, false)?;
    crate::migrate::ensure_up_to_date(db.as_mut(), target, dir)?;
    run_checks(db.as_mut(), &checks, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_body() {
        let check = parse(
            "x",
            "-- x\n-- severity: warn\n-- description: rows that are odd\nselect 1 from t;\n",
        )
        .unwrap();
        assert_eq!(
            (
                check.severity,
                check.description.as_str(),
                check.sql.as_str()
            ),
            (
                Severity::Warn,
                "rows that are odd",
                "-- x\n-- severity: warn\n-- description: rows that are odd\nselect 1 from t"
            )
        );
        assert!(parse("x", "-- description: d\nselect 1").is_err());
        assert!(parse("x", "-- severity: fatal\n-- description: d\nselect 1").is_err());
        assert!(
            parse(
                "x",
                "-- severity: fail\n-- description: d\nselect 1; select 2"
            )
            .is_err()
        );
    }

    #[test]
    fn rows_found_counts_again_only_after_a_full_sample() {
        let never = || -> Result<u64> { panic!("counted although the sample was not full") };
        assert_eq!(rows_found(0, 5, never).unwrap(), 0);
        assert_eq!(rows_found(4, 5, never).unwrap(), 4);
        assert_eq!(rows_found(5, 5, || Ok(12)).unwrap(), 12);
    }

    #[test]
    fn substitute_whole_words_only() {
        let rename = [("t_a".to_owned(), "t_a__new".to_owned())];
        assert_eq!(
            substitute("select * from t_a join t_ab on x_t_a.k = t_a.k", &rename),
            "select * from t_a__new join t_ab on x_t_a.k = t_a__new.k"
        );
    }

    #[test]
    fn every_embedded_check_parses() {
        for target in Target::ALL {
            for check in checks(target, None).unwrap() {
                assert!(!check.sql.is_empty(), "{target}/{}", check.name);
            }
        }
    }
}
