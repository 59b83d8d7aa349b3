//! PostgreSQL: connecting (with retry and creation of a missing rollup database), the
//! `pg_advisory_lock` migration lock, and the run history. refinery's own `postgres` driver applies
//! migrations; we call it one migration at a time in grouped mode, so each migration and its
//! history row commit in one transaction.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::error::SqlState;
use postgres::{Client, NoTls};
use refinery::Migration;
use refinery_core::traits::sync::Migrate;

use crate::check;
use crate::config::PgTarget;
use crate::db::{Database, MIGRATION_TABLE, RunRecord, StepRecord, TableCount};
use crate::retry::{has_transient_io_source, retry_connect};

/// Advisory lock key for migrations ("runner" in ASCII); advisory locks are per database.
const LOCK_KEY: i64 = 0x72_75_6e_6e_65_72;

pub struct PgConn {
    pub client: Client,
    target: PgTarget,
}

pub fn is_transient(err: &postgres::Error) -> bool {
    let code = err.code();
    code == Some(&SqlState::CANNOT_CONNECT_NOW)
        || code == Some(&SqlState::TOO_MANY_CONNECTIONS)
        || code == Some(&SqlState::ADMIN_SHUTDOWN)
        || has_transient_io_source(err)
}

fn config(target: &PgTarget, timeout: Duration) -> postgres::Config {
    let mut config = postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(&target.database)
        .application_name("runner")
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        // Week boundaries are defined in UTC; never depend on the server's or PGTZ's zone.
        .options("-c TimeZone=UTC");
    if let Some(password) = &target.password {
        config.password(password);
    }
    config
}

impl PgConn {
    /// Connects, retrying while the server starts; creates the database when it is missing and
    /// `create_database` is set (connecting to the `postgres` database of the same server).
    pub fn connect(
        target: &PgTarget,
        what: &str,
        timeout: Duration,
        create_database: bool,
    ) -> Result<Self> {
        let connect = |t: &PgTarget| {
            let label = format!("{what} {}", t.display());
            retry_connect(
                &label,
                timeout,
                |left| config(t, left).connect(NoTls),
                is_transient,
            )
        };
        let client = match connect(target) {
            Ok(client) => client,
            Err(err) if create_database && has_code(&err, &SqlState::INVALID_CATALOG_NAME) => {
                let mut admin = connect(&target.with_database("postgres"))?;
                let sql = format!("create database {}", quote_ident(&target.database));
                match admin.batch_execute(&sql) {
                    Ok(()) => tracing::info!("{what}: created database {}", target.database),
                    // Another runner created it first.
                    Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => {}
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("creating database {}", target.database));
                    }
                }
                connect(target)?
            }
            Err(err) => return Err(err),
        };
        Ok(Self {
            client,
            target: target.clone(),
        })
    }
}

fn has_code(err: &anyhow::Error, code: &SqlState) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<postgres::Error>().and_then(|e| e.code()) == Some(code))
}

/// Runs a check query on a client or inside a transaction: the number of rows it returns and the
/// first `sample` of them as text.
pub fn query_check(
    client: &mut impl postgres::GenericClient,
    sql: &str,
    sample_size: usize,
) -> Result<(u64, Vec<String>)> {
    // The simple protocol returns every value as text, whatever its type.
    let messages = client.simple_query(&check::sample_query(sql, sample_size))?;
    let sample: Vec<String> = messages
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .map(|row| {
            let cells: Vec<&str> = (0..row.len())
                .map(|i| row.get(i).unwrap_or("NULL"))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let count = check::rows_found(sample.len(), sample_size, || {
        let count: i64 = client.query_one(&check::count_query(sql), &[])?.get(0);
        Ok(count as u64)
    })?;
    Ok((count, sample))
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Database for PgConn {
    fn display(&self) -> String {
        self.target.display()
    }

    fn lock(&mut self, timeout: Duration) -> Result<()> {
        let got: bool = self
            .client
            .query_one("select pg_try_advisory_lock($1)", &[&LOCK_KEY])?
            .get(0);
        if got {
            return Ok(());
        }
        tracing::info!(
            "rollup: waiting for the migration lock: another runner is migrating this database"
        );
        self.client
            .batch_execute(&format!("set lock_timeout = '{}s'", timeout.as_secs()))?;
        let waited = self
            .client
            .execute("select pg_advisory_lock($1)", &[&LOCK_KEY]);
        self.client.batch_execute("reset lock_timeout")?;
        match waited {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => bail!(
                "another runner held the migration lock for more than {} s (--lock-timeout); is a run stuck?",
                timeout.as_secs()
            ),
            Err(e) => Err(e).context("waiting for the migration lock"),
        }
    }

    fn unlock(&mut self) -> Result<()> {
        self.client
            .execute("select pg_advisory_unlock($1)", &[&LOCK_KEY])?;
        Ok(())
    }

    fn table_exists(&mut self, table: &str) -> Result<bool> {
        let row = self
            .client
            .query_one("select to_regclass($1) is not null", &[&table])?;
        Ok(row.get(0))
    }

    fn applied_migrations(&mut self) -> Result<Vec<Migration>> {
        if !self.table_exists(MIGRATION_TABLE)? {
            return Ok(Vec::new());
        }
        Ok(self.client.get_applied_migrations(MIGRATION_TABLE)?)
    }

    fn apply_migration(&mut self, migration: &Migration) -> Result<()> {
        self.client.assert_migrations_table(MIGRATION_TABLE)?;
        // Grouped mode: the migration and its history row in one transaction.
        refinery_core::traits::sync::migrate(
            &mut self.client,
            vec![migration.clone()],
            refinery::Target::Latest,
            MIGRATION_TABLE,
            true,
        )?;
        Ok(())
    }

    fn table_row_counts(&mut self) -> Result<Vec<TableCount>> {
        let tables = self.client.query(
            "select schemaname, tablename from pg_tables \
             where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2",
            &[],
        )?;
        let mut counts = Vec::with_capacity(tables.len());
        for row in tables {
            let (schema, table): (String, String) = (row.get(0), row.get(1));
            let name = if schema == "public" {
                table.clone()
            } else {
                format!("{schema}.{table}")
            };
            let sql = format!(
                "select count(*) from {}.{}",
                quote_ident(&schema),
                quote_ident(&table)
            );
            let rows: i64 = self
                .client
                .query_one(&sql, &[])
                .with_context(|| format!("counting rows of {name}"))?
                .get(0);
            counts.push(TableCount {
                table: name,
                rows: rows as u64,
            });
        }
        Ok(counts)
    }

    fn run_begin(&mut self, command: &str) -> Result<i64> {
        let row = self.client.query_one(
            "insert into runner_runs (command, runner_version, started_at, outcome) \
             values ($1, $2, clock_timestamp(), 'running') returning run_id",
            &[&command, &env!("CARGO_PKG_VERSION")],
        )?;
        Ok(row.get(0))
    }

    fn run_step(&mut self, run_id: i64, step: &StepRecord) -> Result<()> {
        self.client.execute(
            "insert into runner_run_steps (run_id, step_number, step_name, duration_ms, rows_affected, detail) \
             values ($1, $2, $3, $4, $5, $6)",
            &[
                &run_id,
                &(step.step_number as i32),
                &step.step_name,
                &(step.duration_ms as i64),
                &step.rows_affected.map(|r| r as i64),
                &step.detail,
            ],
        )?;
        Ok(())
    }

    fn run_finish(
        &mut self,
        run_id: i64,
        outcome: &str,
        error_message: Option<&str>,
    ) -> Result<()> {
        self.client.execute(
            "update runner_runs set finished_at = clock_timestamp(), outcome = $1, error_message = $2 \
             where run_id = $3",
            &[&outcome, &error_message, &run_id],
        )?;
        Ok(())
    }

    fn mark_abandoned_runs(&mut self) -> Result<u64> {
        Ok(self.client.execute(
            "update runner_runs set outcome = 'abandoned', \
             error_message = 'the runner stopped before recording an outcome (killed or lost its connection)' \
             where outcome = 'running'",
            &[],
        )?)
    }

    fn query_check(&mut self, sql: &str, sample: usize) -> Result<(u64, Vec<String>)> {
        query_check(&mut self.client, sql, sample)
    }

    fn recent_runs(&mut self, limit: u32) -> Result<Vec<RunRecord>> {
        let runs = self.client.query(
            "select run_id, command, \
                 to_char(started_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                 to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                 outcome, error_message \
             from runner_runs order by run_id desc limit $1",
            &[&i64::from(limit)],
        )?;
        let mut records = Vec::with_capacity(runs.len());
        for run in runs {
            let run_id: i64 = run.get(0);
            let steps = self.client.query(
                "select step_number, step_name, duration_ms, rows_affected, detail \
                 from runner_run_steps where run_id = $1 order by step_number",
                &[&run_id],
            )?;
            records.push(RunRecord {
                run_id,
                command: run.get(1),
                started_at: run.get(2),
                finished_at: run.get(3),
                outcome: run.get(4),
                error_message: run.get(5),
                steps: steps
                    .iter()
                    .map(|s| StepRecord {
                        step_number: s.get::<_, i32>(0) as u32,
                        step_name: s.get(1),
                        duration_ms: s.get::<_, i64>(2) as u64,
                        rows_affected: s.get::<_, Option<i64>>(3).map(|r| r as u64),
                        detail: s.get(4),
                    })
                    .collect(),
            });
        }
        Ok(records)
    }
}
