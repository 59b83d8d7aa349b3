//! Rebuilding the movie tables from the freshly loaded raw copies, without touching what readers
//! see. The models own the logic. For every model the runner creates a staged view, the model's
//! select with every name it reads replaced by its staged counterpart: a raw table `raw_X` by its
//! new copy `raw_X__new`, a table model `T` by its copy `T__new`, a view model `V` by its staged
//! view `V__staged`; a table model's staged view is `build_T__staged`. It then fills each copy
//! `T__new` from `build_T__staged` (columns matched by name), two at a time, each as soon as the
//! copies its view reads are built, found from the view definitions the server keeps. Nothing is
//! swapped in here: `publish` swaps every copy in at once after the data checks pass on them, so
//! readers and `runner check` see the previous set of tables or the new one, never a mix.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use mysql::prelude::Queryable;

use crate::engine::checks::substitute;
use crate::engine::db::mysql::{MysqlConn, quote_ident};
use crate::engine::db::settings::MysqlSettings;
use crate::engine::db::swap::{self, new_name};
use crate::engine::models::{Materialized, Model};
use crate::engine::parallel;

/// Rows written per derived table.
#[derive(Debug, Clone)]
pub struct Built {
    pub table: String,
    pub rows: u64,
}

/// The layers of rebuilt tables, by name: what the log line counts, and the order among tables
/// that are ready to build at the same time.
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

/// The staged view of a view model.
pub fn staged_view(name: &str) -> String {
    format!("{name}__staged")
}

/// The staged build view of a table model.
pub fn staged_build_view(table: &str) -> String {
    format!("build_{table}__staged")
}

/// What a run builds: the table models, and every name a staged view or a check must read
/// instead of the live one (raw and model tables to their copies, view models to their staged
/// views).
pub struct Staging {
    /// The table models, in the order the models apply.
    pub tables: Vec<String>,
    /// The staged views created, to drop when the run ends.
    pub views: Vec<String>,
    pub rename: Vec<(String, String)>,
}

/// Creates an empty copy `T__new` of every table model (dropping what a run that died left),
/// then the staged view of every model, in the models' order (a view after the views it reads).
/// `raw_tables` are the raw tables loaded into copies.
pub fn create_staged_views(
    conn: &mut MysqlConn,
    models: &[Model],
    raw_tables: &[String],
) -> Result<Staging> {
    let mut rename: Vec<(String, String)> = raw_tables
        .iter()
        .map(|t| (t.clone(), new_name(t)))
        .collect();
    let mut tables = Vec::new();
    for model in models {
        match model.materialized {
            Materialized::Table => {
                rename.push((model.name.clone(), new_name(&model.name)));
                tables.push(model.name.clone());
            }
            Materialized::View => rename.push((model.name.clone(), staged_view(&model.name))),
            Materialized::Incremental => {
                bail!(
                    "models/{}.sql: incremental models are for the rollup",
                    model.name
                )
            }
        }
    }
    // The copies first: a view can only be created over tables that exist.
    swap::prepare_copies(conn, &tables)?;
    let mut views = Vec::with_capacity(models.len());
    for model in models {
        let view = match model.materialized {
            Materialized::Table => staged_build_view(&model.name),
            _ => staged_view(&model.name),
        };
        conn.conn
            .query_drop(format!(
                "create or replace view {} as\n{}",
                quote_ident(&view),
                substitute(&model.body, &rename)
            ))
            .with_context(|| {
                format!(
                    "creating the staged view {view} of models/{}.sql",
                    model.name
                )
            })?;
        views.push(view);
    }
    Ok(Staging {
        tables,
        views,
        rename,
    })
}

/// Drops staged views (of this run, or left by one that died).
pub fn drop_staged_views(conn: &mut MysqlConn, views: &[String]) -> Result<()> {
    if views.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = views.iter().map(|v| quote_ident(v)).collect();
    conn.conn
        .query_drop(format!("drop view if exists {}", names.join(", ")))
        .context("dropping the staged views")
}

/// The staged views a run that died may have left behind.
pub fn leftover_staged_views(conn: &mut MysqlConn) -> Result<Vec<String>> {
    Ok(conn.conn.query(
        "select table_name from information_schema.views \
         where table_schema = database() and table_name like '%\\_\\_staged'",
    )?)
}

/// Tables built at once, each on its own connection (the builds only read).
const PARALLEL_BUILDS: usize = 2;

/// For each of `tables`, the indices of the others whose copies its staged build view reads,
/// directly or through staged views (`stg_ratings__staged` reads `stg_links__new`), from the
/// view definitions the server keeps.
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
        .map(|(i, t)| (new_name(t).to_lowercase(), i))
        .collect();
    let mut all: Vec<Vec<usize>> = Vec::with_capacity(tables.len());
    for table in tables {
        let mut read = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut pending = vec![staged_build_view(table).to_lowercase()];
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
            "the models of {} read each other's tables (or their own): no order builds them",
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

/// Fills `X__new` for every table `X` of `tables` from its staged build view, a few at a time,
/// each as soon as the copies its view reads are built (`prerequisites`), and analyzes it (the
/// builds after it read it). Nothing is swapped in.
pub fn build_copies(
    conn: &mut MysqlConn,
    settings: &MysqlSettings,
    timeout: Duration,
    tables: &[String],
) -> Result<Vec<Built>> {
    let after = prerequisites(conn, tables)?;
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
                .with_context(|| format!("building {table} from its model"))?;
            if waiter_count[tables.iter().position(|t| t == table).unwrap_or(0)] > 0 {
                // Read by the builds after it: fresh statistics, or the optimizer picks nested
                // loops over its joins (100x slower).
                swap::analyze_copies(conn, std::slice::from_ref(table))?;
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

/// `insert into X__new select ... from build_X__staged`, in primary-key order: InnoDB then appends each
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
        quote_ident(&staged_build_view(table))
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
