//! Rebuilding the movie tables from the freshly staged raw tables. The migrations own the logic: each rebuilt table `X` comes with a
//! view `build_X` that computes its rows. The runner fills a copy `X__new` from `build_X` (columns
//! matched by name), two at a time, each as soon as the tables its view reads are built: `stg_`
//! tables (from `raw_`) and `int_` tables (from `stg_` and other `int_` tables) are swapped in as
//! soon as they are built, so that the next builds read them; the derived tables are published
//! by `swap` with one `RENAME TABLE` after the data checks pass on the copies.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use mysql::prelude::Queryable;

use crate::engine::db::mysql::{MysqlConn, quote_ident};
use crate::engine::db::settings::MysqlSettings;
use crate::engine::db::swap::{self, new_name};
use crate::engine::parallel;

/// Rows written per derived table.
#[derive(Debug, Clone)]
pub struct Built {
    pub table: String,
    pub rows: u64,
}

/// The layers of rebuilt tables. A `build_X` view may read `stg_` and `int_` tables (each is
/// swapped in as soon as it is built, and the tables that read it are built after it), never a
/// derived table (published only after the checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// `stg_X` tables, built from `raw_` tables.
    Staging,
    /// `int_X` tables: intermediate results several derived tables share, built from `stg_`.
    Intermediate,
    /// Every other table with a `build_X` view, built from `stg_` and `int_` objects.
    Derived,
}

impl Layer {
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

/// Tables built at once, each on its own connection (the builds only read).
const PARALLEL_BUILDS: usize = 2;

/// For each of `tables`, the indices of the others its `build_` view reads, directly or through
/// plain views (`stg_ratings` reads `stg_links`, say), from the view definitions the server keeps.
/// Only `stg_` and `int_` tables may be read: they are swapped in as soon as they are built, while
/// derived tables wait for the checks.
pub fn prerequisites(conn: &mut MysqlConn, tables: &[String]) -> Result<Vec<Vec<usize>>> {
    // Names compared lowercased: with lower_case_table_names=2 a definition may keep other case.
    let views: HashMap<String, String> = conn
        .conn
        .query::<(String, String), _>(
            "select table_name, view_definition from information_schema.views \
             where table_schema = database()",
        )?
        .into_iter()
        .map(|(name, definition)| (name.to_lowercase(), definition))
        .collect();
    let index: HashMap<String, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_lowercase(), i))
        .collect();
    let mut all: Vec<Vec<usize>> = Vec::with_capacity(tables.len());
    for table in tables {
        let mut read = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut pending = vec![format!("build_{table}").to_lowercase()];
        while let Some(view) = pending.pop() {
            let Some(definition) = views.get(&view) else {
                continue;
            };
            // MySQL shows an empty definition to a user without SHOW VIEW on the view: the order
            // cannot be known then, and guessing it could read tables not yet built.
            if definition.trim().is_empty() {
                bail!(
                    "cannot read the definition of view {view} (the runner's user needs SHOW VIEW \
                     on its database) to order the builds"
                );
            }
            for name in quoted_names(definition) {
                if let Some(&i) = index.get(&name) {
                    read.insert(i);
                } else if views.contains_key(&name) && seen.insert(name.clone()) {
                    pending.push(name);
                }
            }
        }
        for &i in &read {
            if Layer::of(&tables[i]) == Layer::Derived {
                bail!(
                    "build_{table} reads {}, a derived table: only stg_ and int_ tables are built \
                     before the others read them",
                    tables[i]
                );
            }
        }
        all.push(read.into_iter().collect());
    }
    // Builds that can never start: a view reading its own table, or views reading each other.
    let mut done = vec![false; tables.len()];
    while let Some(i) = (0..tables.len()).find(|&i| !done[i] && all[i].iter().all(|&p| done[p])) {
        done[i] = true;
    }
    let stuck: Vec<&str> = (0..tables.len())
        .filter(|&i| !done[i])
        .map(|i| tables[i].as_str())
        .collect();
    if !stuck.is_empty() {
        bail!(
            "the build_ views of {} read each other's tables (or their own): no order builds them",
            stuck.join(", ")
        );
    }
    Ok(all)
}

/// The backquoted identifiers of a view definition as the server stores it, lowercased
/// (`` `db`.`stg_links`.`movie_id` `` gives db, stg_links and movie_id). Both servers quote every
/// table name there. String literals are skipped (a backquote inside one is not a name); a
/// doubled backquote inside a name stands for one.
fn quoted_names(definition: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = definition.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                let mut name = String::new();
                while let Some(c) = chars.next() {
                    if c == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    name.push(c);
                }
                names.push(name.to_lowercase());
            }
            '\'' | '"' => {
                // to the closing quote; a backslash escapes one character, a doubled quote is one
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    names
}

/// Fills `X__new` for every table `X` of `tables`, a few at a time, each as soon as the tables its
/// view reads are built (`prerequisites`). A `stg_` or `int_` table is swapped in as soon as it is
/// built, and added to `swapped` (to be put back if the run fails); the derived tables are only
/// filled, not published.
pub fn build_copies(
    conn: &mut MysqlConn,
    settings: &MysqlSettings,
    timeout: Duration,
    tables: &[String],
    swapped: &Mutex<Vec<String>>,
) -> Result<Vec<Built>> {
    let after = prerequisites(conn, tables)?;
    swap::prepare_copies(conn, tables)?;
    // First the tables that the most other tables wait for (int_rating_histogram, stg_links,
    // int_rated_movies before stg_keywords), so the long derived builds at the end of those chains
    // start early; then by layer and name.
    let waiter_count = dependents(&after);
    let mut order: Vec<usize> = (0..tables.len()).collect();
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(waiter_count[i]),
            Layer::of(&tables[i]),
            &tables[i],
        )
    });
    let mut built = parallel::each_after(
        tables,
        order,
        &after,
        PARALLEL_BUILDS,
        || {
            let mut conn = MysqlConn::connect(settings, timeout, false)?;
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
            if Layer::of(table) != Layer::Derived {
                // Held across the swap, so one swap runs at a time: two concurrent RENAME TABLEs
                // can deadlock on the server's data dictionary (MariaDB: ERROR 1213).
                let mut swapped = swapped
                    .lock()
                    .map_err(|_| anyhow::anyhow!("swapped-table list poisoned"))?;
                let one = std::slice::from_ref(table);
                swap::analyze_copies(conn, one)?;
                swap::swap_in(conn, one)?;
                swapped.push(table.clone());
            }
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

/// For each item of `after` (the items each one waits for), how many items wait for it,
/// directly or through others.
fn dependents(after: &[Vec<usize>]) -> Vec<usize> {
    let mut count = vec![0; after.len()];
    for start in 0..after.len() {
        let mut seen = vec![false; after.len()];
        let mut pending = after[start].clone();
        while let Some(i) = pending.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                count[i] += 1;
                pending.extend(&after[i]);
            }
        }
    }
    count
}

/// `insert into X__new select ... from build_X`, in primary-key order: InnoDB then appends each
/// row instead of splitting pages (a derived table's rows come in rank order otherwise). At full
/// size the cast build's insert took 1.9-2.1 s of MySQL 9.7's CPU instead of 2.2-2.8 s; on
/// MariaDB the sort costs about what it saves, and one statement for both servers stays simpler.
fn fill_copy(conn: &mut MysqlConn, table: &str) -> Result<u64> {
    let columns = column_names(
        conn,
        "select column_name from information_schema.columns \
         where table_schema = database() and table_name = ? order by ordinal_position",
        table,
    )?;
    let key = column_names(
        conn,
        "select column_name from information_schema.statistics \
         where table_schema = database() and table_name = ? and index_name = 'PRIMARY' \
         order by seq_in_index",
        table,
    )?;
    let order = if key.is_empty() {
        String::new()
    } else {
        format!(" order by {key}")
    };
    conn.conn.query_drop(format!(
        "insert into {} ({columns}) select {columns} from {}{order}",
        quote_ident(&new_name(table)),
        quote_ident(&format!("build_{table}"))
    ))?;
    Ok(conn.conn.affected_rows())
}

/// The column names a query returns for `table`, quoted and comma-separated.
fn column_names(conn: &mut MysqlConn, query: &str, table: &str) -> Result<String> {
    let names: Vec<String> = conn.conn.exec(query, (table,))?;
    Ok(names
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", "))
}

#[cfg(test)]
mod tests {
    use super::{dependents, quoted_names};

    #[test]
    fn dependents_count_direct_and_indirect_waiters_once() {
        // 0 <- 1 <- 2, 0 <- 2 directly too, 3 alone
        let after = vec![vec![], vec![0], vec![0, 1], vec![]];
        assert_eq!(dependents(&after), [2, 1, 0, 0]);
    }

    #[test]
    fn quoted_names_skip_string_literals_and_fold_case() {
        let definition = "with `Ranked` as (select `db`.`stg_links`.`movie_id` AS `movie_id` \
             from `db`.`stg_links` where `db`.`stg_links`.`imdb_id` <> 'it''s a ` quote' \
             and `x` = 'a\\' `b`') select `odd``name` from `Ranked`";
        assert_eq!(
            quoted_names(definition),
            [
                "ranked",
                "db",
                "stg_links",
                "movie_id",
                "movie_id",
                "db",
                "stg_links",
                "db",
                "stg_links",
                "imdb_id",
                "x",
                "odd`name",
                "ranked"
            ]
        );
    }
}
