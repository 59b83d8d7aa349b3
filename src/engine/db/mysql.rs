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

use super::settings::MysqlSettings;
use super::{
    Cell, Database, Dialect, MIGRATION_TABLE, Materialized, ModelObject, Param, TableCount,
};
use crate::engine::drill;
use crate::engine::retry::{is_transient_io, retry_connect};

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
    settings: MysqlSettings,
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

fn opts(settings: &MysqlSettings, database: Option<&str>, timeout: Duration) -> OptsBuilder {
    OptsBuilder::new()
        .ip_or_hostname(Some(settings.host.clone()))
        .tcp_port(settings.port)
        .user(Some(settings.user.clone()))
        .pass(settings.password.clone())
        .db_name(database.map(str::to_owned))
        .prefer_socket(false)
        .tcp_connect_timeout(Some(timeout.min(Duration::from_secs(10))))
        .init(SESSION_INIT.to_vec())
}

impl MysqlConn {
    /// Connects, retrying while the server starts; creates the database when it is missing and
    /// `create_database` is set (the user needs the CREATE privilege only then).
    pub fn connect(
        settings: &MysqlSettings,
        timeout: Duration,
        create_database: bool,
    ) -> Result<Self> {
        let what = format!("movies database {}", settings.display());
        let connect = |db: Option<&str>| {
            let (settings, db) = (settings.clone(), db.map(str::to_owned));
            retry_connect(
                &what,
                timeout,
                move |left| Conn::new(opts(&settings, db.as_deref(), left)),
                is_transient,
            )
        };
        let conn = match connect(Some(&settings.database)) {
            Ok(conn) => conn,
            Err(err) if create_database && is_unknown_database(&err) => {
                let mut conn = connect(None)?;
                let sql = format!(
                    "create database if not exists {} character set utf8mb4",
                    quote_ident(&settings.database)
                );
                conn.query_drop(&sql)
                    .with_context(|| format!("creating database {}", settings.database))?;
                tracing::info!("movies: created database {}", settings.database);
                conn.select_db(&settings.database)
                    .with_context(|| format!("selecting database {}", settings.database))?;
                conn
            }
            Err(err) => return Err(err),
        };
        Ok(Self {
            conn,
            settings: settings.clone(),
        })
    }

    /// Runs a multi-statement script, reading every result set so no error is lost.
    pub fn execute_script(&mut self, sql: &str) -> Result<(), mysql::Error> {
        drain(self.conn.query_iter(sql)?)
    }

    /// `BASE TABLE` or `VIEW`, or `None` when there is no such object.
    fn object_type(&mut self, name: &str) -> Result<Option<String>> {
        Ok(self.conn.exec_first(
            "select table_type from information_schema.tables \
             where table_schema = database() and table_name = ?",
            (name,),
        )?)
    }

    /// The columns of a table or view, in order.
    fn column_names(&mut self, name: &str) -> Result<Vec<String>> {
        Ok(self.conn.exec(
            "select column_name from information_schema.columns \
             where table_schema = database() and table_name = ? order by ordinal_position",
            (name,),
        )?)
    }

    /// The table's comment and its columns' comments from a model header, changed in one
    /// `alter table` where they differ. MySQL changes a column comment only by restating the
    /// column: its type, character set and nullability come from the catalog, and a model table
    /// may not have defaults or generated columns (the restatement would have to repeat them).
    fn comment_table(&mut self, model: &ModelObject<'_>) -> Result<()> {
        type ColumnRow = (
            String,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
            String,
        );
        let rows: Vec<ColumnRow> = self.conn.exec(
            "select column_name, column_type, is_nullable, column_default, extra, \
                 character_set_name, collation_name, column_comment \
             from information_schema.columns \
             where table_schema = database() and table_name = ? order by ordinal_position",
            (model.name,),
        )?;
        let mut changes = Vec::new();
        let current: Option<String> = self.conn.exec_first(
            "select table_comment from information_schema.tables \
             where table_schema = database() and table_name = ?",
            (model.name,),
        )?;
        if current.as_deref() != Some(model.comment) {
            changes.push(format!(
                "comment = {}",
                mysql_literal(model.comment, 2048, model.name)?
            ));
        }
        for (name, column_type, nullable, default, extra, charset, collation, comment) in rows {
            let description = model
                .columns
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.description.as_str())
                .unwrap_or_default();
            if comment == description {
                continue;
            }
            if default.as_deref().is_some_and(|d| d != "NULL") || !extra.is_empty() {
                bail!(
                    "table {}: column {name} has a default or is generated ({extra}): a model \
                     table's columns take neither",
                    model.name
                );
            }
            let charset = match (charset, collation) {
                (Some(cs), Some(co)) => format!(" character set {cs} collate {co}"),
                _ => String::new(),
            };
            let null = if nullable == "NO" { "not null" } else { "null" };
            changes.push(format!(
                "modify column {} {column_type}{charset} {null} comment {}",
                quote_ident(&name),
                mysql_literal(description, 1024, &name)?
            ));
        }
        if !changes.is_empty() {
            self.conn
                .query_drop(format!(
                    "alter table {} {}",
                    quote_ident(model.name),
                    changes.join(", ")
                ))
                .with_context(|| format!("commenting table {}", model.name))?;
        }
        Ok(())
    }

    fn lock_name(&self) -> String {
        lock_name(&self.settings.database)
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

fn lost_lock(name: &str, why: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "lost the migration lock {name} ({why}): its connection was ended, so another runner may \
         be inside; stopping before changing what readers see"
    )
}

/// The migration lock of a database. GET_LOCK names are server-wide and at most 64 characters:
/// a hash of the database's name keeps it unique per database, ASCII, and short whatever the name.
pub fn lock_name(database: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(database.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("runner.migrate.{hash}")
}

/// A string literal (backslash escapes are on: the session's sql_mode has no
/// NO_BACKSLASH_ESCAPES); `limit` is the server's length limit for the comment of `what`.
fn mysql_literal(text: &str, limit: usize, what: &str) -> Result<String> {
    if text.chars().count() > limit {
        bail!("the comment of {what} is longer than MySQL's {limit} characters");
    }
    Ok(format!(
        "'{}'",
        text.replace('\\', "\\\\").replace('\'', "''")
    ))
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
                drill::point("migrate:before-record");
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
        self.settings.display()
    }

    fn dialect(&self) -> Dialect {
        Dialect::Mysql
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

    fn verify_lock(&mut self) -> Result<()> {
        let name = self.lock_name();
        let held: Option<Option<i64>> = self
            .conn
            .exec_first("select is_used_lock(?) = connection_id()", (&name,))
            .map_err(|e| lost_lock(&name, e))?;
        if held.flatten() != Some(1) {
            return Err(lost_lock(&name, "another connection holds it, or none"));
        }
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

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        self.conn.exec_drop(sql, mysql_params(params))?;
        Ok(self.conn.affected_rows())
    }

    fn insert_returning(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        _id_column: &str,
    ) -> Result<i64> {
        self.conn.exec_drop(sql, mysql_params(params))?;
        Ok(self.conn.last_insert_id() as i64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>> {
        let rows: Vec<mysql::Row> = self.conn.exec(sql, mysql_params(params))?;
        rows.into_iter()
            .map(|row| row.unwrap().into_iter().map(cell).collect())
            .collect()
    }

    fn query_check(&mut self, sql: &str, sample: usize) -> Result<(u64, Vec<String>)> {
        let rows: Vec<mysql::Row> = self.conn.query(super::sample_query(sql, sample))?;
        let count = super::rows_found(rows.len(), sample, || {
            let count: Option<u64> = self.conn.query_first(super::count_query(sql))?;
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

    fn apply_model(&mut self, model: &ModelObject<'_>) -> Result<()> {
        if model.schema.is_some() {
            bail!(
                "models/{}.sql: MySQL models live in the connection's database",
                model.name
            );
        }
        let object = model.materialized.object(model.name);
        match model.materialized {
            Materialized::View => {}
            Materialized::Table => {
                if self.object_type(model.name)?.as_deref() != Some("BASE TABLE") {
                    bail!(
                        "models/{}.sql is materialized as a table, but no migration creates table {}",
                        model.name,
                        model.name
                    );
                }
            }
            Materialized::Incremental => {
                bail!(
                    "models/{}.sql: incremental models are for PostgreSQL",
                    model.name
                )
            }
        }
        self.conn
            .query_drop(format!(
                "create or replace view {} as\n{}",
                quote_ident(&object),
                model.body
            ))
            .with_context(|| format!("creating view {object}"))?;
        match model.materialized {
            Materialized::View => {
                model.check_columns(&format!("view {object}"), &self.column_names(&object)?)
            }
            _ => {
                model.check_columns(
                    &format!("table {}", model.name),
                    &self.column_names(model.name)?,
                )?;
                let mut built = self.column_names(&object)?;
                built.sort();
                let mut listed: Vec<String> =
                    model.columns.iter().map(|c| c.name.clone()).collect();
                listed.sort();
                if built != listed {
                    bail!(
                        "models/{}.sql: the select returns {} but table {} has {}",
                        model.name,
                        built.join(", "),
                        model.name,
                        listed.join(", ")
                    );
                }
                self.comment_table(model)
            }
        }
    }

    fn drop_model(
        &mut self,
        name: &str,
        materialized: Materialized,
        _schema: Option<&str>,
    ) -> Result<()> {
        let object = materialized.object(name);
        self.conn
            .query_drop(format!("drop view if exists {}", quote_ident(&object)))
            .with_context(|| format!("dropping view {object}"))
    }
}

fn mysql_params(params: &[Param<'_>]) -> mysql::Params {
    if params.is_empty() {
        return mysql::Params::Empty;
    }
    mysql::Params::Positional(
        params
            .iter()
            .map(|p| match p {
                Param::Null => mysql::Value::NULL,
                Param::Int(v) => mysql::Value::Int(*v),
                Param::Text(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
            })
            .collect(),
    )
}

fn cell(value: mysql::Value) -> Result<Cell> {
    Ok(match value {
        mysql::Value::NULL => Cell::Null,
        mysql::Value::Int(v) => Cell::Int(v),
        mysql::Value::UInt(v) => Cell::Int(i64::try_from(v)?),
        mysql::Value::Bytes(b) => Cell::Text(String::from_utf8(b)?),
        other => anyhow::bail!(
            "unexpected value {} (expected a number or text)",
            other.as_sql(true)
        ),
    })
}
