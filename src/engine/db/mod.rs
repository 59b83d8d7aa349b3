//! What the engine needs from a database, whatever its dialect: the migration lock, refinery's
//! migration history, applying one migration, row counts, and plain parameterised SQL (the run
//! history and the checks are written once, on top of it). [`mysql`] and [`postgres`] implement
//! [`Database`]; [`settings`] holds where to connect, [`swap`] publishes whole MySQL tables.

pub mod mysql;
pub mod postgres;
pub mod settings;
pub mod swap;

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

/// The two SQL dialects, for the few expressions they spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL 9 and MariaDB 10.11.
    Mysql,
    Postgres,
}

impl Dialect {
    /// The current time, to the microsecond, stored in a timestamp column.
    pub fn now(self) -> &'static str {
        match self {
            Dialect::Mysql => "utc_timestamp(6)",
            Dialect::Postgres => "clock_timestamp()",
        }
    }

    /// A timestamp column as ISO 8601 text in UTC (`2026-01-31T12:00:00.000000Z`).
    pub fn iso_utc(self, column: &str) -> String {
        match self {
            Dialect::Mysql => format!("date_format({column}, '%Y-%m-%dT%H:%i:%s.%fZ')"),
            Dialect::Postgres => {
                format!("to_char({column} at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
        }
    }
}

/// A parameter of [`Database::execute`] and [`Database::query`], bound in place of a `?`.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(text: &'a str) -> Self {
        Param::Text(text)
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Param::Null, Param::Text)
    }
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Param::Int(value)
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Param::Null, Param::Int)
    }
}

/// A value [`Database::query`] returns: whole numbers and text are all the engine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// What a model's select becomes in the database (`materialized:` in its header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialized {
    /// A view named after the model.
    View,
    /// A view `build_<name>` that fills the table `<name>` on every run.
    Table,
    /// A function `<name>_rows(<parameters>)` returning rows of the table `<name>`.
    Incremental,
}

impl Materialized {
    pub fn name(self) -> &'static str {
        match self {
            Materialized::View => "view",
            Materialized::Table => "table",
            Materialized::Incremental => "incremental",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "view" => Some(Materialized::View),
            "table" => Some(Materialized::Table),
            "incremental" => Some(Materialized::Incremental),
            _ => None,
        }
    }

    /// The object that holds a model's select: the view, the build view, or the function.
    pub fn object(self, name: &str) -> String {
        match self {
            Materialized::View => name.to_owned(),
            Materialized::Table => format!("build_{name}"),
            Materialized::Incremental => format!("{name}_rows"),
        }
    }
}

/// A column and what it means (a model header's `columns:` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    pub description: String,
}

/// A model as an adapter creates it (engine::models parses it from its file).
#[derive(Debug, Clone, Copy)]
pub struct ModelObject<'a> {
    pub name: &'a str,
    /// The schema of the object and its table (`rollup`), or the connection's database.
    pub schema: Option<&'a str>,
    pub materialized: Materialized,
    /// The select.
    pub body: &'a str,
    /// `incremental`: the function's parameters.
    pub parameters: Option<&'a str>,
    /// The comment of the view or table: the model's grain.
    pub comment: &'a str,
    /// Exactly the object's columns, in order, with the comment of each.
    pub columns: &'a [Column],
}

impl ModelObject<'_> {
    /// `schema.name` or `name`, unquoted (our names are plain identifiers).
    pub fn qualified(&self, name: &str) -> String {
        match self.schema {
            Some(schema) => format!("{schema}.{name}"),
            None => name.to_owned(),
        }
    }

    /// Fails unless `found` (the object's columns in the catalog) are the header's, in order.
    pub fn check_columns(&self, what: &str, found: &[String]) -> Result<()> {
        let listed: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        if listed != found {
            anyhow::bail!(
                "models/{}.sql: its columns list ({}) is not the columns of {what} ({})",
                self.name,
                listed.join(", "),
                found.join(", ")
            );
        }
        Ok(())
    }
}

pub trait Database {
    /// Where it is connected to, with the password removed.
    fn display(&self) -> String;

    fn dialect(&self) -> Dialect;

    /// Takes the per-database migration lock, waiting up to `timeout` for another runner.
    fn lock(&mut self, timeout: Duration) -> Result<()>;

    /// Releases the lock (also released when the connection closes, so a crash never leaves it held).
    fn unlock(&mut self) -> Result<()>;

    /// Fails unless this connection still holds the lock: if it was ended (a killed session, a
    /// server restart), another runner may be inside. Called before every step that changes what
    /// readers see.
    fn verify_lock(&mut self) -> Result<()>;

    fn table_exists(&mut self, table: &str) -> Result<bool>;

    /// Migrations refinery recorded as applied, oldest first; empty when its table is missing.
    fn applied_migrations(&mut self) -> Result<Vec<Migration>>;

    /// Applies one migration and records it in refinery's table (one transaction where the
    /// dialect allows: PostgreSQL yes, MySQL only for statements that do not commit implicitly).
    fn apply_migration(&mut self, migration: &Migration) -> Result<()>;

    /// Exact row counts of the base tables the runner owns in this database.
    fn table_row_counts(&mut self) -> Result<Vec<TableCount>>;

    /// Runs one statement with `?` placeholders; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64>;

    /// Runs an `insert` with `?` placeholders and returns the value of `id_column` it generated.
    fn insert_returning(&mut self, sql: &str, params: &[Param<'_>], id_column: &str)
    -> Result<i64>;

    /// Runs one query with `?` placeholders; every column must be a whole number or text.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>>;

    /// Runs a check query: how many rows it returns, and the first `sample` of them as text.
    fn query_check(&mut self, sql: &str, sample: usize) -> Result<(u64, Vec<String>)>;

    /// Creates or replaces a model's object, checks that its columns are the header's, and puts
    /// the header's descriptions into the catalog as comments.
    fn apply_model(&mut self, model: &ModelObject<'_>) -> Result<()>;

    /// Drops the object of a model whose file is gone (never its table: that is the schema's).
    fn drop_model(
        &mut self,
        name: &str,
        materialized: Materialized,
        schema: Option<&str>,
    ) -> Result<()>;
}

/// An error as one line for people: its chain joined by `: `, with MySQL's server errors as
/// `ERROR 1045 (28000): ...` instead of the driver's debug form.
pub fn message(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| match e.downcast_ref::<::mysql::Error>() {
            Some(::mysql::Error::MySqlError(server)) => format!(
                "ERROR {} ({}): {}",
                server.code, server.state, server.message
            ),
            _ => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

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

/// A dropped connection (server restart, killed session, network) gets a sentence saying so and
/// what happens next, instead of the driver's terse I/O error.
pub fn explain_lost_connection(err: anyhow::Error) -> anyhow::Error {
    let lost = err.chain().any(|e| {
        let mysql_lost = matches!(
            e.downcast_ref::<::mysql::Error>(),
            Some(::mysql::Error::IoError(_) | ::mysql::Error::CodecError(_))
        );
        let pg_lost = e.downcast_ref::<::postgres::Error>().is_some_and(|e| {
            use ::postgres::error::SqlState;
            // closed, or ended by the server: terminated (57P01), crashed (57P02), or a
            // connection exception (class 08)
            e.is_closed()
                || e.code().is_some_and(|code| {
                    code == &SqlState::ADMIN_SHUTDOWN
                        || code == &SqlState::CRASH_SHUTDOWN
                        || code.code().starts_with("08")
                })
        });
        mysql_lost || pg_lost
    });
    if lost {
        err.context(
            "lost the database connection mid-run (server restarted or session killed); \
             nothing half-built was published: run again once the database is back",
        )
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_found_counts_again_only_after_a_full_sample() {
        let never = || -> Result<u64> { panic!("counted although the sample was not full") };
        assert_eq!(rows_found(0, 5, never).unwrap(), 0);
        assert_eq!(rows_found(4, 5, never).unwrap(), 4);
        assert_eq!(rows_found(5, 5, || Ok(12)).unwrap(), 12);
    }
}
