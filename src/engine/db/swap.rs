//! Publishing whole tables on MySQL: every rebuilt table `t` is filled as a copy `t__new`; one
//! `RENAME TABLE` swaps all copies in at once (`t` becomes `t__old`), so readers see every old
//! table or every new one. Until [`drop_previous`] the previous versions stay as `t__old`, so a
//! publish can still be [`roll_back`]ed when a later step (the data checks) fails. Every function
//! here does nothing for an empty list of tables.

use anyhow::{Context, Result};
use mysql::prelude::Queryable;

use super::mysql::{MysqlConn, quote_ident};

pub fn new_name(table: &str) -> String {
    format!("{table}__new")
}

pub fn old_name(table: &str) -> String {
    format!("{table}__old")
}

fn quoted(tables: &[String], name: fn(&str) -> String) -> String {
    tables
        .iter()
        .map(|t| quote_ident(&name(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Drops leftovers of an interrupted run, then creates an empty copy `t__new` of each table.
pub fn prepare_copies(conn: &mut MysqlConn, tables: &[String]) -> Result<()> {
    for table in tables {
        let (new, old) = (quote_ident(&new_name(table)), quote_ident(&old_name(table)));
        conn.execute_script(&format!(
            "drop table if exists {new}; drop table if exists {old}; create table {new} like {}",
            quote_ident(table)
        ))
        .with_context(|| format!("preparing {}", new_name(table)))?;
    }
    Ok(())
}

/// Fresh statistics on the filled copies before they are swapped in and read: without them the
/// optimizer picks nested loops over the joins that read them (100x slower).
pub fn analyze_copies(conn: &mut MysqlConn, tables: &[String]) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    conn.execute_script(&format!("analyze table {}", quoted(tables, new_name)))
        .context("analyzing the new tables")
}

/// One `RENAME TABLE` moving every table `t` to `away(t)` and `back(t)` to `t`, atomically.
fn rotate(
    conn: &mut MysqlConn,
    tables: &[String],
    away: fn(&str) -> String,
    back: fn(&str) -> String,
) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    let renames: Vec<String> = tables
        .iter()
        .map(|t| {
            let (t_q, away_q, back_q) =
                (quote_ident(t), quote_ident(&away(t)), quote_ident(&back(t)));
            format!("{t_q} to {away_q}, {back_q} to {t_q}")
        })
        .collect();
    conn.conn
        .query_drop(format!("rename table {}", renames.join(", ")))
        .with_context(|| format!("renaming {}", tables.join(", ")))
}

/// One `RENAME TABLE`: `t` -> `t__old`, `t__new` -> `t`, for every table at once.
pub fn swap_in(conn: &mut MysqlConn, tables: &[String]) -> Result<()> {
    rotate(conn, tables, old_name, new_name).context("swapping the new tables in")
}

/// After a swap: the previous versions are no longer needed.
pub fn drop_previous(conn: &mut MysqlConn, tables: &[String]) -> Result<()> {
    drop_named(conn, tables, old_name).context("dropping the previous tables")
}

/// After a swap: puts the previous versions back (one `RENAME TABLE`) and drops the new ones.
pub fn roll_back(conn: &mut MysqlConn, tables: &[String]) -> Result<()> {
    rotate(conn, tables, new_name, old_name).context("restoring the previous tables")?;
    discard_copies(conn, tables)
}

/// Before a swap: drops the copies.
pub fn discard_copies(conn: &mut MysqlConn, tables: &[String]) -> Result<()> {
    drop_named(conn, tables, new_name).context("dropping unpublished copies")
}

/// One `DROP TABLE IF EXISTS` of `name(t)` for every table `t`.
fn drop_named(conn: &mut MysqlConn, tables: &[String], name: fn(&str) -> String) -> Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    Ok(conn
        .conn
        .query_drop(format!("drop table if exists {}", quoted(tables, name)))?)
}
