//! Data checks: SQL files kept next to a pipeline's migrations (`migrations/<pipeline>/checks/`),
//! each a query returning the offending rows, zero rows meaning pass. A header names the severity
//! (`fail` or `warn`) and says in one line what is checked. This module parses them, runs them
//! (on a [`Database`], or through any query function) and gates a publish on their results;
//! `runner check` runs them against the live tables, each pipeline against its unpublished ones.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::engine::db::Database;

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
    // (a `;` in a comment is prose, not a second statement)
    let code: Vec<&str> = body
        .lines()
        .map(|l| l.split_once("--").map_or(l, |(code, _)| code))
        .collect();
    if code.iter().any(|l| l.contains(';')) {
        bail!("check {name}: one query per file (found a `;` inside)");
    }
    if body
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
    {
        bail!("check {name}: no query after the header");
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

/// A pipeline's checks, by name: `embedded` (name, SQL) pairs built into the binary, or the
/// `.sql` files of `dir` (`DIR/<pipeline>/checks/` during development; none when it is missing).
pub fn load(embedded: &[(&str, &str)], dir: Option<&Path>) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    match dir {
        Some(dir) => {
            if !dir.is_dir() {
                return Ok(checks);
            }
            let mut paths: Vec<_> = std::fs::read_dir(dir)
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
            for (name, sql) in embedded {
                checks.push(parse(name, sql)?);
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
    let started = std::time::Instant::now();
    let (rows_found, sample) =
        query(&sql, SAMPLE_ROWS).with_context(|| format!("running check {}", check.name))?;
    tracing::debug!(
        "check {}: {rows_found} rows found ({} ms)",
        check.name,
        started.elapsed().as_millis()
    );
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

/// Replaces whole-word names (`movie_rating_percentiles` but not `x_movie_rating_percentiles`),
/// outside string literals and `--` comments: the check or model reads the renamed tables.
pub fn substitute(sql: &str, rename: &[(String, String)]) -> String {
    let lookup: std::collections::HashMap<&str, &str> = rename
        .iter()
        .map(|(from, to)| (from.as_str(), to.as_str()))
        .collect();
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.char_indices().peekable();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                // to the closing quote; a backslash escapes one character, a doubled quote is one
                out.push(c);
                while let Some((_, d)) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some((_, e)) = chars.next() {
                            out.push(e);
                        }
                    } else if d == c {
                        if chars.peek().is_some_and(|&(_, e)| e == c) {
                            let (_, e) = chars.next().expect("peeked");
                            out.push(e);
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek().is_some_and(|&(_, d)| d == '-') => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            c if is_word(c) => {
                let mut end = at + c.len_utf8();
                while let Some(&(i, d)) = chars.peek() {
                    if !is_word(d) {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                let word = &sql[at..end];
                out.push_str(lookup.get(word).copied().unwrap_or(word));
            }
            _ => out.push(c),
        }
    }
    out
}

/// Counts of a checks run.
pub struct Tally {
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
}

/// The publishing gate: logs every check that did not pass (prefixed with `label`, the
/// pipeline's name), and fails naming each failed `fail` check with its first rows; `nothing`
/// says what the failure prevented ("published", "committed").
pub fn gate(label: &str, results: &[CheckResult], nothing: &str) -> Result<Tally> {
    for result in results.iter().filter(|r| r.status != Status::Pass) {
        tracing::warn!("{label}: check {result}");
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
        assert!(parse("x", "-- severity: warn\n-- description: d\n-- select 1\n").is_err());
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
    fn substitute_whole_words_only() {
        let rename = [("t_a".to_owned(), "t_a__new".to_owned())];
        assert_eq!(
            substitute("select * from t_a join t_ab on x_t_a.k = t_a.k", &rename),
            "select * from t_a__new join t_ab on x_t_a.k = t_a__new.k"
        );
        assert_eq!(
            substitute(
                "select 't_a', 'it''s t_a' from t_a -- t_a\nwhere é = t_a.x",
                &rename
            ),
            "select 't_a', 'it''s t_a' from t_a__new -- t_a\nwhere é = t_a__new.x"
        );
    }
}
