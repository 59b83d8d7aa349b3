//! Rebuilding the movie tables. The migrations own the logic: each rebuilt table `X` comes with a
//! view `build_X` that computes its rows. The runner fills a copy `X__new` from `build_X` (columns
//! matched by name), layer by layer: first the `stg_` tables (from `raw_`), then the `int_` tables
//! (from `stg_`), each layer swapped in at once so that the next one reads it, then the derived
//! tables, which `swap` publishes with one `RENAME TABLE` after the data checks pass on the copies.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use mysql::prelude::Queryable;

use crate::config::MysqlTarget;
use crate::mysql_conn::{MysqlConn, quote_ident};
use crate::swap::{self, new_name};

/// Rows written per derived table.
#[derive(Debug, Clone)]
pub struct Built {
    pub table: String,
    pub rows: u64,
}

/// The layers of rebuilt tables, in build order. Tables of one layer are built side by side, so a
/// `build_X` view may read only the layers below its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// `stg_X` tables, built from `raw_` tables.
    Staging,
    /// `int_X` tables: intermediate results several derived tables share, built from `stg_`.
    Intermediate,
    /// Every other table with a `build_X` view, built from `stg_` and `int_` objects.
    Derived,
}

impl Layer {
    /// The layers swapped in as soon as they are built, because the next layer reads them.
    pub const UPSTREAM: [Layer; 2] = [Layer::Staging, Layer::Intermediate];

    /// The layer a rebuilt table belongs to, by its name's prefix.
    pub fn of(table: &str) -> Layer {
        if table.starts_with("stg_") {
            Layer::Staging
        } else if table.starts_with("int_") {
            Layer::Intermediate
        } else {
            Layer::Derived
        }
    }

    /// The tables of `all` in this layer.
    pub fn select(self, all: &[String]) -> Vec<String> {
        all.iter()
            .filter(|t| Layer::of(t) == self)
            .cloned()
            .collect()
    }
}

/// Every rebuilt table, of all layers: each `build_X` view whose table `X` exists, sorted by name.
pub fn rebuilt_tables(conn: &mut MysqlConn) -> Result<Vec<String>> {
    let views: Vec<String> = conn.conn.query(
        "select table_name from information_schema.views \
         where table_schema = database() and table_name like 'build\\_%' order by table_name",
    )?;
    let mut tables = Vec::with_capacity(views.len());
    for view in views {
        let table = view["build_".len()..].to_owned();
        let exists: Option<u64> = conn.conn.exec_first(
            "select count(*) from information_schema.tables \
             where table_schema = database() and table_name = ? and table_type = 'BASE TABLE'",
            (&table,),
        )?;
        if exists != Some(1) {
            bail!("view {view} has no table {table} to fill: its migration must create both");
        }
        tables.push(table);
    }
    Ok(tables)
}

/// Derived tables built at once, each on its own connection (the builds only read).
const PARALLEL_BUILDS: usize = 2;

/// Fills `X__new` for every table `X` of `tables` (one layer), a few at a time. Nothing is
/// published yet.
pub fn build_copies(
    conn: &mut MysqlConn,
    target: &MysqlTarget,
    timeout: Duration,
    tables: &[String],
) -> Result<Vec<Built>> {
    swap::prepare_copies(conn, tables)?;
    let mut built = crate::parallel::each(
        tables,
        0..tables.len(),
        PARALLEL_BUILDS,
        || {
            let mut conn = MysqlConn::connect(target, timeout, false)?;
            // Under the default REPEATABLE READ, `insert ... select` takes a shared lock on every
            // row it reads (26M ratings at full size); READ COMMITTED reads a snapshot instead.
            // Nothing else writes these tables meanwhile: the run holds the migrate lock.
            conn.conn
                .query_drop("set session transaction isolation level read committed")
                .context("preparing a build connection")?;
            Ok(conn)
        },
        |conn, table| {
            let started = std::time::Instant::now();
            let rows = fill_copy(conn, table)
                .with_context(|| format!("building {table} from build_{table}"))?;
            tracing::info!(
                "movies: built {table}: {rows} rows ({} ms)",
                started.elapsed().as_millis()
            );
            Ok(Built {
                table: table.clone(),
                rows,
            })
        },
    )?;
    built.sort_by(|a, b| a.table.cmp(&b.table));
    Ok(built)
}

fn fill_copy(conn: &mut MysqlConn, table: &str) -> Result<u64> {
    let columns: Vec<String> = conn.conn.exec(
        "select column_name from information_schema.columns \
         where table_schema = database() and table_name = ? order by ordinal_position",
        (table,),
    )?;
    let list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    conn.conn.query_drop(format!(
        "insert into {} ({list}) select {list} from {}",
        quote_ident(&new_name(table)),
        quote_ident(&format!("build_{table}"))
    ))?;
    Ok(conn.conn.affected_rows())
}
