//! MySQL and MariaDB: connecting (with retry and database creation), the `GET_LOCK` migration
//! lock, and refinery's `Migrate` traits implemented on our own connection type.
//!
//! Why our own refinery adapter: refinery's sync mysql driver sends a migration file as one
//! multi-statement query and drops the result without reading every result set, so an error in
//! the second or later statement is swallowed and the migration recorded as applied (refinery
//! issue #343). [`MysqlConn`] drains every result set and returns the first error.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, TxOpts};
use refinery::Migration;
use refinery_core::traits::sync::{Migrate, Query, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::check;
use crate::config::MysqlTarget;
use crate::db::{Database, MIGRATION_TABLE, RunRecord, StepRecord, TableCount};
use crate::retry::{is_transient_io, retry_connect};

/// Server error codes that clear by themselves: too many connections, shutdown in progress.
const TRANSIENT_SERVER_CODES: &[u16] = &[1040, 1053];
const UNKNOWN_DATABASE: u16 = 1049;

/// Session settings every connection starts with, so MySQL and MariaDB behave alike.
const SESSION_INIT: &[&str] = &[
    "set names utf8mb4 collate utf8mb4_bin",
    "set time_zone = '+00:00'",
    "set sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    // Grouping and deduplicating a few hundred thousand ids (cast members, keywords) overflows
    // the 16 MiB default in-memory temporary table, and the server moves it to disk mid-query:
    // 2-3x slower on MariaDB. 256 MiB per temporary table, in this session only.
    "set session tmp_table_size = 268435456, max_heap_table_size = 268435456",
];

/// A MySQL connection that refinery can migrate, plus what it connects to.
pub struct MysqlConn {
    pub conn: Conn,
    target: MysqlTarget,
}

pub fn is_transient(err: &mysql::Error) -> bool {
    match err {
        mysql::Error::IoError(io) => is_transient_io(io),
        mysql::Error::DriverError(mysql::DriverError::ConnectTimeout) => true,
        mysql::Error::DriverError(mysql::DriverError::CouldNotConnect(Some((_, _, kind)))) => {
            is_transient_io(&std::io::Error::from(*kind))
        }
        mysql::Error::MySqlError(e) => TRANSIENT_SERVER_CODES.contains(&e.code),
        _ => false,
    }
}

fn opts(target: &MysqlTarget, database: Option<&str>, timeout: Duration) -> OptsBuilder {
    OptsBuilder::new()
        .ip_or_hostname(Some(target.host.clone()))
        .tcp_port(target.port)
        .user(Some(target.user.clone()))
        .pass(target.password.clone())
        .db_name(database.map(str::to_owned))
        .prefer_socket(false)
        .tcp_connect_timeout(Some(timeout.min(Duration::from_secs(10))))
        .init(SESSION_INIT.to_vec())
}

impl MysqlConn {
    /// Connects, retrying while the server starts; creates the database when it is missing and
    /// `create_database` is set (the user needs the CREATE privilege only then).
    pub fn connect(target: &MysqlTarget, timeout: Duration, create_database: bool) -> Result<Self> {
        let what = format!("movies database {}", target.display());
        let connect = |db: Option<&str>| {
            retry_connect(
                &what,
                timeout,
                |left| Conn::new(opts(target, db, left)),
                is_transient,
            )
        };
        let conn = match connect(Some(&target.database)) {
            Ok(conn) => conn,
            Err(err) if create_database && is_unknown_database(&err) => {
                let mut conn = connect(None)?;
                let sql = format!(
                    "create database if not exists {} character set utf8mb4",
                    quote_ident(&target.database)
                );
                conn.query_drop(&sql)
                    .with_context(|| format!("creating database {}", target.database))?;
                tracing::info!("movies: created database {}", target.database);
                conn.select_db(&target.database)
                    .with_context(|| format!("selecting database {}", target.database))?;
                conn
            }
            Err(err) => return Err(err),
        };
        Ok(Self {
            conn,
            target: target.clone(),
        })
    }

    /// Runs a multi-statement script, reading every result set so no error is lost.
    pub fn execute_script(&mut self, sql: &str) -> Result<(), mysql::Error> {
        drain(self.conn.query_iter(sql)?)
    }

    fn lock_name(&self) -> String {
        // GET_LOCK names are server-wide: include the database; MySQL allows 64 characters.
        let mut name = format!("runner.migrate.{}", self.target.database);
        name.truncate(64);
        name
    }
}

fn is_unknown_database(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(e.downcast_ref::<mysql::Error>(), Some(mysql::Error::MySqlError(m)) if m.code == UNKNOWN_DATABASE)
    })
}

/// Reads every row of every result set; the first error wins.
fn drain<T: mysql::prelude::Protocol>(
    mut result: mysql::QueryResult<'_, '_, '_, T>,
) -> Result<(), mysql::Error> {
    while let Some(set) = result.iter() {
        for row in set {
            row?;
        }
    }
    Ok(())
}

pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl Transaction for MysqlConn {
    type Error = mysql::Error;

    fn execute<'a, T: Iterator<Item = &'a str>>(
        &mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let mut tx = self.conn.start_transaction(TxOpts::default())?;
        let mut count = 0;
        for query in queries {
            if count > 0 {
                // Between a migration's statements and its history row (MySQL commits DDL at once).
                crate::drill::point("migrate:before-record");
            }
            drain(tx.query_iter(query)?)?;
            count += 1;
        }
        tx.commit()?;
        Ok(count)
    }
}

impl Query<Vec<Migration>> for MysqlConn {
    fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let rows: Vec<(i32, String, String, String)> = self.conn.query(query)?;
        rows.into_iter()
            .map(|(version, name, applied_on, checksum)| {
                let bad = |what: &str| {
                    mysql::Error::from(mysql::DriverError::SetupError).also_log(&format!(
                        "{MIGRATION_TABLE}: version {version}: unreadable {what}"
                    ))
                };
                let applied_on =
                    OffsetDateTime::parse(&applied_on, &Rfc3339).map_err(|_| bad("applied_on"))?;
                let checksum = checksum.parse::<u64>().map_err(|_| bad("checksum"))?;
                Ok(Migration::applied(version, name, applied_on, checksum))
            })
            .collect()
    }
}

/// Logs a message before returning an error that cannot carry it (refinery fixes the error type).
trait AlsoLog {
    fn also_log(self, message: &str) -> Self;
}

impl AlsoLog for mysql::Error {
    fn also_log(self, message: &str) -> Self {
        tracing::error!("{message}");
        self
    }
}

impl Migrate for MysqlConn {}

impl Database for MysqlConn {
    fn display(&self) -> String {
        self.target.display()
    }

    fn lock(&mut self, timeout: Duration) -> Result<()> {
        let name = self.lock_name();
        let got: Option<i64> = self
            .conn
            .exec_first("select get_lock(?, 0)", (&name,))?
            .flatten();
        if got == Some(1) {
            return Ok(());
        }
        tracing::info!(
            "movies: waiting for lock {name}: another runner is migrating this database"
        );
        let got: Option<i64> = self
            .conn
            .exec_first("select get_lock(?, ?)", (&name, timeout.as_secs()))
            .with_context(|| format!("waiting for lock {name}"))?
            .flatten();
        match got {
            Some(1) => Ok(()),
            _ => bail!(
                "another runner held lock {name} for more than {} s (--lock-timeout); is a run stuck?",
                timeout.as_secs()
            ),
        }
    }

    fn unlock(&mut self) -> Result<()> {
        let name = self.lock_name();
        self.conn.exec_drop("do release_lock(?)", (&name,))?;
        Ok(())
    }

    fn table_exists(&mut self, table: &str) -> Result<bool> {
        let n: Option<i64> = self.conn.exec_first(
            "select count(*) from information_schema.tables where table_schema = database() and table_name = ?",
            (table,),
        )?;
        Ok(n.unwrap_or(0) > 0)
    }

    fn applied_migrations(&mut self) -> Result<Vec<Migration>> {
        if !self.table_exists(MIGRATION_TABLE)? {
            return Ok(Vec::new());
        }
        Ok(self.get_applied_migrations(MIGRATION_TABLE)?)
    }

    fn apply_migration(&mut self, migration: &Migration) -> Result<()> {
        self.assert_migrations_table(MIGRATION_TABLE)?;
        refinery_core::traits::sync::migrate(
            self,
            vec![migration.clone()],
            refinery::Target::Latest,
            MIGRATION_TABLE,
            true,
        )?;
        Ok(())
    }

    fn table_row_counts(&mut self) -> Result<Vec<TableCount>> {
        let tables: Vec<String> = self.conn.query(
            "select table_name from information_schema.tables \
             where table_schema = database() and table_type = 'BASE TABLE' order by table_name",
        )?;
        let mut counts = Vec::with_capacity(tables.len());
        for table in tables {
            let rows: Option<u64> = self
                .conn
                .query_first(format!("select count(*) from {}", quote_ident(&table)))
                .with_context(|| format!("counting rows of {table}"))?;
            counts.push(TableCount {
                table,
                rows: rows.unwrap_or(0),
            });
        }
        Ok(counts)
    }

    fn run_begin(&mut self, command: &str) -> Result<i64> {
        self.conn.exec_drop(
            "insert into runner_runs (command, runner_version, started_at, outcome) \
             values (?, ?, utc_timestamp(6), 'running')",
            (command, env!("CARGO_PKG_VERSION")),
        )?;
        Ok(self.conn.last_insert_id() as i64)
    }

    fn run_step(&mut self, run_id: i64, step: &StepRecord) -> Result<()> {
        self.conn.exec_drop(
            "insert into runner_run_steps (run_id, step_number, step_name, duration_ms, rows_affected, detail) \
             values (?, ?, ?, ?, ?, ?)",
            (
                run_id,
                step.step_number,
                &step.step_name,
                step.duration_ms,
                step.rows_affected,
                &step.detail,
            ),
        )?;
        Ok(())
    }

    fn run_finish(
        &mut self,
        run_id: i64,
        outcome: &str,
        error_message: Option<&str>,
    ) -> Result<()> {
        self.conn.exec_drop(
            "update runner_runs set finished_at = utc_timestamp(6), outcome = ?, error_message = ? where run_id = ?",
            (outcome, error_message, run_id),
        )?;
        Ok(())
    }

    fn mark_abandoned_runs(&mut self) -> Result<u64> {
        self.conn.query_drop(
            "update runner_runs set outcome = 'abandoned', \
             error_message = 'the runner stopped before recording an outcome (killed or lost its connection)' \
             where outcome = 'running'",
        )?;
        Ok(self.conn.affected_rows())
    }

    fn query_check(&mut self, sql: &str, sample: usize) -> Result<(u64, Vec<String>)> {
        let rows: Vec<mysql::Row> = self.conn.query(check::sample_query(sql, sample))?;
        let count = check::rows_found(rows.len(), sample, || {
            let count: Option<u64> = self.conn.query_first(check::count_query(sql))?;
            Ok(count.unwrap_or(0))
        })?;
        let sample = rows
            .into_iter()
            .map(|row| {
                let cells: Vec<String> = row
                    .unwrap()
                    .into_iter()
                    .map(|v| match v {
                        mysql::Value::NULL => "NULL".to_owned(),
                        mysql::Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                        other => other.as_sql(true),
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        Ok((count, sample))
    }

    fn recent_runs(&mut self, limit: u32) -> Result<Vec<RunRecord>> {
        type StepRow = (u32, String, u64, Option<u64>, Option<String>);
        type Row = (i64, String, String, Option<String>, String, Option<String>);
        let runs: Vec<Row> = self.conn.exec(
            "select run_id, command, \
                 date_format(started_at, '%Y-%m-%dT%H:%i:%s.%fZ'), \
                 date_format(finished_at, '%Y-%m-%dT%H:%i:%s.%fZ'), \
                 outcome, error_message \
             from runner_runs order by run_id desc limit ?",
            (limit,),
        )?;
        let mut records = Vec::with_capacity(runs.len());
        for (run_id, command, started_at, finished_at, outcome, error_message) in runs {
            let steps: Vec<StepRow> = self.conn.exec(
                "select step_number, step_name, duration_ms, rows_affected, detail \
                 from runner_run_steps where run_id = ? order by step_number",
                (run_id,),
            )?;
            records.push(RunRecord {
                run_id,
                command,
                started_at,
                finished_at,
                outcome,
                error_message,
                steps: steps
                    .into_iter()
                    .map(
                        |(step_number, step_name, duration_ms, rows_affected, detail)| StepRecord {
                            step_number,
                            step_name,
                            duration_ms,
                            rows_affected,
                            detail,
                        },
                    )
                    .collect(),
            });
        }
        Ok(records)
    }
}
