//! Rebuilding the derived movie tables. The migrations own the logic: each derived table `X` comes
//! with a view `build_X` that computes its rows from the `stg_` layer. The runner fills a copy
//! `X__new` from `build_X` (columns matched by name) for every derived table; after the data
//! checks pass on the copies, `swap` publishes all of them with one `RENAME TABLE`.

use anyhow::{Context, Result, bail};
use mysql::prelude::Queryable;

use crate::mysql_conn::{MysqlConn, quote_ident};
use crate::swap::{self, new_name};

/// Rows written per derived table.
#[derive(Debug, Clone)]
pub struct Built {
    pub table: String,
    pub rows: u64,
}

/// The derived tables: every `build_X` view whose table `X` exists, sorted by name.
pub fn derived_tables(conn: &mut MysqlConn) -> Result<Vec<String>> {
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

/// Fills `X__new` for every derived table `X`. Nothing is published yet.
pub fn build_copies(conn: &mut MysqlConn) -> Result<Vec<Built>> {
    let tables = derived_tables(conn)?;
    swap::prepare_copies(conn, &tables)?;
    let mut built = Vec::with_capacity(tables.len());
    for table in tables {
        let started = std::time::Instant::now();
        let rows = fill_copy(conn, &table)
            .with_context(|| format!("building {table} from build_{table}"))?;
        tracing::info!(
            "movies: built {table}: {rows} rows ({} ms)",
            started.elapsed().as_millis()
        );
        built.push(Built { table, rows });
    }
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
