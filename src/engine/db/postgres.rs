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

use super::settings::PgSettings;
use super::{
    Cell, Database, Dialect, MIGRATION_TABLE, Materialized, ModelObject, Param, TableCount,
};
use crate::engine::retry::{has_transient_io_source, retry_connect};

/// Advisory lock key for migrations ("runner" in ASCII); advisory locks are per database.
const LOCK_KEY: i64 = 0x72_75_6e_6e_65_72;

pub struct PgConn {
    pub client: Client,
    settings: PgSettings,
}

pub fn is_transient(err: &postgres::Error) -> bool {
    let code = err.code();
    code == Some(&SqlState::CANNOT_CONNECT_NOW)
        || code == Some(&SqlState::TOO_MANY_CONNECTIONS)
        || code == Some(&SqlState::ADMIN_SHUTDOWN)
        || has_transient_io_source(err)
}

fn config(settings: &PgSettings, timeout: Duration) -> postgres::Config {
    let mut config = postgres::Config::new();
    config
        .host(&settings.host)
        .port(settings.port)
        .user(&settings.user)
        .dbname(&settings.database)
        .application_name("runner")
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        // Week boundaries are defined in UTC; never depend on the server's or PGTZ's zone.
        // Notices ("relation ... already exists, skipping") are not for the operator.
        .options("-c TimeZone=UTC -c client_min_messages=warning");
    if let Some(password) = &settings.password {
        config.password(password);
    }
    config
}

impl PgConn {
    /// Connects, retrying while the server starts; creates the database when it is missing and
    /// `create_database` is set (connecting to the `postgres` database of the same server).
    pub fn connect(
        settings: &PgSettings,
        what: &str,
        timeout: Duration,
        create_database: bool,
    ) -> Result<Self> {
        let connect = |t: &PgSettings| {
            let label = format!("{what} {}", t.display());
            let t = t.clone();
            retry_connect(
                &label,
                timeout,
                move |left| config(&t, left).connect(NoTls),
                is_transient,
            )
        };
        let client = match connect(settings) {
            Ok(client) => client,
            Err(err) if create_database && has_code(&err, &SqlState::INVALID_CATALOG_NAME) => {
                let mut admin = connect(&settings.with_database("postgres"))?;
                let sql = format!("create database {}", quote_ident(&settings.database));
                match admin.batch_execute(&sql) {
                    Ok(()) => tracing::info!("{what}: created database {}", settings.database),
                    // Another runner created it first.
                    Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => {}
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("creating database {}", settings.database));
                    }
                }
                connect(settings)?
            }
            Err(err) => return Err(err),
        };
        Ok(Self {
            client,
            settings: settings.clone(),
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
    let messages = client.simple_query(&super::sample_query(sql, sample_size))?;
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
    let count = super::rows_found(sample.len(), sample_size, || {
        let count: i64 = client.query_one(&super::count_query(sql), &[])?.get(0);
        Ok(count as u64)
    })?;
    Ok((count, sample))
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A standard string literal (`'` doubled).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Database for PgConn {
    fn display(&self) -> String {
        self.settings.display()
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
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

    fn verify_lock(&mut self) -> Result<()> {
        let lost = |why: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "lost the migration lock ({why}): its session was ended, so another runner may \
                 be inside; stopping before changing what readers see"
            )
        };
        // A bigint advisory lock shows in pg_locks as classid (high half) and objid (low half).
        let held: bool = self
            .client
            .query_one(
                "select exists ( \
                     select from pg_locks \
                     where pg_locks.locktype = 'advisory' \
                         and pg_locks.pid = pg_backend_pid() \
                         and pg_locks.granted \
                         and pg_locks.classid = ($1::bigint >> 32)::oid \
                         and pg_locks.objid = ($1::bigint & 4294967295)::oid \
                         and pg_locks.objsubid = 1 \
                 )",
                &[&LOCK_KEY],
            )
            .map_err(|e| lost(&e))?
            .get(0);
        if !held {
            return Err(lost(&"this session no longer holds it"));
        }
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

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let (statement, values) = prepare(&mut self.client, sql, params)?;
        Ok(self.client.execute(&statement, &borrowed(&values))?)
    }

    fn insert_returning(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        id_column: &str,
    ) -> Result<i64> {
        let sql = format!("{sql} returning {id_column}");
        let (statement, values) = prepare(&mut self.client, &sql, params)?;
        let row = self.client.query_one(&statement, &borrowed(&values))?;
        Ok(row
            .try_get::<_, i64>(0)
            .or_else(|_| row.try_get::<_, i32>(0).map(i64::from))?)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>> {
        let (statement, values) = prepare(&mut self.client, sql, params)?;
        let rows = self.client.query(&statement, &borrowed(&values))?;
        rows.iter()
            .map(|row| (0..row.len()).map(|i| cell(row, i)).collect())
            .collect()
    }

    fn query_check(&mut self, sql: &str, sample: usize) -> Result<(u64, Vec<String>)> {
        query_check(&mut self.client, sql, sample)
    }

    fn apply_model(&mut self, model: &ModelObject<'_>) -> Result<()> {
        let object = model.qualified(&model.materialized.object(model.name));
        let table = model.qualified(model.name);
        let mut tx = self.client.transaction()?;
        match model.materialized {
            Materialized::View | Materialized::Table => {
                let create = format!("create or replace view {object} as\n{}", model.body);
                // A view whose columns change cannot be replaced: drop it first (a view that
                // reads it makes that fail, naming it).
                tx.batch_execute("savepoint replace_view")?;
                if let Err(err) = tx.batch_execute(&create) {
                    if err.code() != Some(&SqlState::INVALID_TABLE_DEFINITION) {
                        return Err(err).with_context(|| format!("creating view {object}"));
                    }
                    tx.batch_execute(&format!(
                        "rollback to savepoint replace_view; drop view {object}; {create}"
                    ))
                    .with_context(|| format!("creating view {object}"))?;
                }
            }
            Materialized::Incremental => {
                let parameters = model.parameters.unwrap_or_default();
                // PL/pgSQL rather than SQL: Citus cannot plan a parameterized SQL function that
                // reads a distributed table (the mirror), and plans each query of a PL/pgSQL one.
                // A column wins over a parameter of the same name, as in an SQL function.
                tx.batch_execute(&format!(
                    "create or replace function {object}({parameters}) returns setof {table} \
                     language plpgsql stable as $model$\n\
                     #variable_conflict use_column\n\
                     begin\n\
                     return query\n{}\n;\n\
                     end\n\
                     $model$",
                    model.body
                ))
                .with_context(|| format!("creating function {object}"))?;
            }
        }
        let described = match model.materialized {
            Materialized::View => &object,
            _ => &table,
        };
        let kind = match model.materialized {
            Materialized::View => "view",
            _ => "table",
        };
        let found: Vec<String> = tx
            .query(
                "select attname::text from pg_attribute \
                 where attrelid = $1::text::regclass and attnum > 0 and not attisdropped \
                 order by attnum",
                &[described],
            )?
            .iter()
            .map(|row| row.get(0))
            .collect();
        model.check_columns(&format!("{kind} {described}"), &found)?;
        let mut comments = vec![format!(
            "comment on {kind} {described} is {}",
            literal(model.comment)
        )];
        for column in model.columns {
            comments.push(format!(
                "comment on column {described}.{} is {}",
                quote_ident(&column.name),
                literal(&column.description)
            ));
        }
        tx.batch_execute(&comments.join(";\n"))
            .with_context(|| format!("commenting {described}"))?;
        tx.commit()?;
        Ok(())
    }

    fn drop_model(
        &mut self,
        name: &str,
        materialized: Materialized,
        schema: Option<&str>,
    ) -> Result<()> {
        let object = materialized.object(name);
        let object = match schema {
            Some(schema) => format!("{schema}.{object}"),
            None => object,
        };
        let kind = match materialized {
            Materialized::Incremental => "function",
            _ => "view",
        };
        self.client
            .batch_execute(&format!("drop {kind} if exists {object}"))
            .with_context(|| format!("dropping {kind} {object}"))
    }
}

/// `?` placeholders become `$1`, `$2`, ... (the engine's SQL holds no `?` in strings or names).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

type Value = Box<dyn postgres::types::ToSql + Sync>;

/// Prepares a statement and converts each parameter to the type the server expects there.
fn prepare(
    client: &mut Client,
    sql: &str,
    params: &[Param<'_>],
) -> Result<(postgres::Statement, Vec<Value>)> {
    use postgres::types::Type;
    let statement = client.prepare(&numbered(sql))?;
    let mut values: Vec<Value> = Vec::with_capacity(params.len());
    for (param, ty) in params.iter().zip(statement.params()) {
        values.push(match (*param, ty) {
            (Param::Null, &Type::INT2) => Box::new(None::<i16>),
            (Param::Null, &Type::INT4) => Box::new(None::<i32>),
            (Param::Null, &Type::INT8) => Box::new(None::<i64>),
            (Param::Null, _) => Box::new(None::<String>),
            (Param::Int(v), &Type::INT2) => Box::new(i16::try_from(v)?),
            (Param::Int(v), &Type::INT4) => Box::new(i32::try_from(v)?),
            (Param::Int(v), _) => Box::new(v),
            (Param::Text(s), _) => Box::new(s.to_owned()),
        });
    }
    Ok((statement, values))
}

fn borrowed(values: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values.iter().map(|v| v.as_ref() as _).collect()
}

fn cell(row: &postgres::Row, i: usize) -> Result<Cell> {
    use postgres::types::Type;
    let ty = row.columns()[i].type_();
    let cell = match *ty {
        Type::INT2 => row.get::<_, Option<i16>>(i).map(|v| Cell::Int(v.into())),
        Type::INT4 => row.get::<_, Option<i32>>(i).map(|v| Cell::Int(v.into())),
        Type::INT8 => row.get::<_, Option<i64>>(i).map(Cell::Int),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            row.get::<_, Option<String>>(i).map(Cell::Text)
        }
        _ => bail!(
            "column {} is of type {ty} (expected a whole number or text)",
            row.columns()[i].name()
        ),
    };
    Ok(cell.unwrap_or(Cell::Null))
}
