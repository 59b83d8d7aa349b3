//! Rebuilding the derived movie tables. The migrations own the logic: each derived table `X` comes
//! with a view `build_X` that computes its rows from the `stg_` layer. The runner fills a copy
//! `X__new` from `build_X` (columns matched by name) for every derived table; after the data
//! checks pass on the copies, `swap` publishes all of them with one `RENAME TABLE`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
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

/// Derived tables built at once, each on its own connection (the builds only read).
const PARALLEL_BUILDS: usize = 2;

/// Fills `X__new` for every derived table `X`, a few at a time. Nothing is published yet.
pub fn build_copies(
    conn: &mut MysqlConn,
    target: &MysqlTarget,
    timeout: Duration,
) -> Result<Vec<Built>> {
    let tables = derived_tables(conn)?;
    swap::prepare_copies(conn, &tables)?;
    let queue = Mutex::new(tables.iter().cloned().collect::<VecDeque<String>>());
    let results = Mutex::new(Vec::with_capacity(tables.len()));
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..PARALLEL_BUILDS.min(tables.len()))
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    let mut conn = MysqlConn::connect(target, timeout, false)?;
                    while let Some(table) = queue
                        .lock()
                        .map_err(|_| anyhow!("build queue poisoned"))?
                        .pop_front()
                    {
                        let started = std::time::Instant::now();
                        let rows = fill_copy(&mut conn, &table)
                            .with_context(|| format!("building {table} from build_{table}"))?;
                        tracing::info!(
                            "movies: built {table}: {rows} rows ({} ms)",
                            started.elapsed().as_millis()
                        );
                        results
                            .lock()
                            .map_err(|_| anyhow!("build results poisoned"))?
                            .push(Built { table, rows });
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow!("a build thread panicked"))??;
        }
        Ok(())
    })?;
    let mut built = results
        .into_inner()
        .map_err(|_| anyhow!("build results poisoned"))?;
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
