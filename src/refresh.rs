//! Rebuilding the derived movie tables. The migrations own the logic: each derived table `X` comes
//! with a view `build_X` that computes its rows from the `stg_` layer. On every run the runner
//! fills a copy `X__new` from `build_X` (columns matched by name), then swaps every copy in with
//! one `RENAME TABLE`: readers see all the old tables or all the new ones, never a half-built one.

use anyhow::{Context, Result, bail};
use mysql::prelude::Queryable;

use crate::mysql_conn::{MysqlConn, quote_ident};

/// Rows written per derived table.
#[derive(Debug, Clone)]
pub struct Refreshed {
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

/// Builds every derived table into a copy, then swaps all copies in at once.
pub fn refresh(conn: &mut MysqlConn) -> Result<Vec<Refreshed>> {
    let tables = derived_tables(conn)?;
    let mut done = Vec::with_capacity(tables.len());
    for table in &tables {
        let started = std::time::Instant::now();
        let rows = build_copy(conn, table)
            .with_context(|| format!("building {table} from build_{table}"))?;
        tracing::info!(
            "movies: built {table}: {rows} rows ({} ms)",
            started.elapsed().as_millis()
        );
        done.push(Refreshed {
            table: table.clone(),
            rows,
        });
    }
    if tables.is_empty() {
        return Ok(done);
    }
    let renames: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "{} to {}, {} to {}",
                quote_ident(t),
                quote_ident(&format!("{t}__old")),
                quote_ident(&format!("{t}__new")),
                quote_ident(t)
            )
        })
        .collect();
    conn.conn
        .query_drop(format!("rename table {}", renames.join(", ")))
        .context("swapping the rebuilt tables in")?;
    let olds: Vec<String> = tables
        .iter()
        .map(|t| quote_ident(&format!("{t}__old")))
        .collect();
    conn.conn
        .query_drop(format!("drop table if exists {}", olds.join(", ")))
        .context("dropping the previous tables")?;
    Ok(done)
}

fn build_copy(conn: &mut MysqlConn, table: &str) -> Result<u64> {
    let (new, old) = (
        quote_ident(&format!("{table}__new")),
        quote_ident(&format!("{table}__old")),
    );
    conn.execute_script(&format!(
        "drop table if exists {new}; drop table if exists {old}; create table {new} like {}",
        quote_ident(table)
    ))?;
    let columns: Vec<String> = conn.conn.exec(
        "select column_name from information_schema.columns \
         where table_schema = database() and table_name = ? order by ordinal_position",
        (table,),
    )?;
    let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let list = list.join(", ");
    conn.conn.query_drop(format!(
        "insert into {new} ({list}) select {list} from {}",
        quote_ident(&format!("build_{table}"))
    ))?;
    Ok(conn.conn.affected_rows())
}
