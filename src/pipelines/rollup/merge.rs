//! Bringing both weekly tables up to date in the run's transaction: apply the staged changes to the
//! mirror, plan the weeks, recompute them (weekly_events.sql, then weekly_rentals.sql and
//! weekly_film_demand.sql; a full load's rows were computed already) and `MERGE` them in, delete
//! the weeks the series no longer covers, and write the state row.

use anyhow::{Context, Result};
use postgres::Transaction;

use super::indexes::{drop_indexes, rebuild_indexes};
use super::mirror::{Loaded, apply_rental_changes, apply_small_table_changes};
use super::plan::{WeekPlan, check_stored_prefix, plan, weeks_between};
use super::report::{Mode, RefreshOptions, RefreshReport, timed};
use super::state::write_state;

/// The one pass over the mirror: events per film and week ($1 first week to recompute).
const WEEKLY_EVENTS_SQL: &str = include_str!("weekly_events.sql");
/// The recompute of each table for a range of weeks ($1 first week, $2 from week, $3 last week).
const WEEKLY_RENTALS_SQL: &str = include_str!("weekly_rentals.sql");
const WEEKLY_FILM_DEMAND_SQL: &str = include_str!("weekly_film_demand.sql");

/// Applies the staged changes to the mirror, recomputes and merges the weeks they touched, deletes
/// the weeks outside the series, and writes the state row. Returns what the run did.
pub fn merge(
    tx: &mut Transaction<'_>,
    mode: Mode,
    loaded: &Loaded,
    watermark: &str,
    options: &RefreshOptions,
) -> Result<RefreshReport> {
    let full = mode == Mode::Full;
    let (inserted, updated, deleted, films_changed) = if full {
        (loaded.rows_read, 0, 0, true)
    } else {
        let (inserted, updated, deleted) = timed("applied the changes to the mirror", || {
            apply_rental_changes(tx)
        })?;
        let films_changed = timed("compared inventory and film", || {
            apply_small_table_changes(tx)
        })?;
        (inserted, updated, deleted, films_changed)
    };

    let plan = if full {
        // Every week; load_full computed them all.
        let (first, last) = loaded.full_series.clone().unzip();
        WeekPlan {
            first_changed_week: None,
            first_week: first.clone(),
            last_week: last,
            from_week: first.clone(),
            film_from_week: first,
        }
    } else {
        let mut plan = timed("planned the weeks", || plan(tx, films_changed))?;
        check_stored_prefix(tx, &mut plan)?;
        let from = match (&plan.from_week, &plan.film_from_week) {
            (Some(a), Some(b)) => Some(a.min(b).clone()),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let recomputes = match (&from, &plan.last_week) {
            (Some(from), Some(last)) => from <= last,
            _ => false,
        };
        if recomputes {
            timed("computed the weekly events", || {
                weekly_events(tx, from.as_deref())
            })?;
        }
        plan
    };

    let (weeks_recomputed, film_rows_recomputed) = if loaded.full_rows_in_place {
        // The first load copied its rows straight into the empty tables.
        let weeks = match (&plan.first_week, &plan.last_week) {
            (Some(first), Some(last)) => weeks_between(tx, first, last)?,
            _ => 0,
        };
        (weeks, weeks * stocked_films(tx)?)
    } else {
        let weeks = timed("merged rollup.weekly_rentals", || {
            merge_weekly(tx, &WEEKLY_RENTALS, &plan, plan.from_week.as_ref(), full)
        })?;
        // A full refresh rewrites every row of weekly_film_demand: building its index afterwards
        // is faster than maintaining it row by row.
        let film_indexes = if full {
            drop_indexes(tx, "rollup.weekly_film_demand")?
        } else {
            Vec::new()
        };
        let film_rows = timed("merged rollup.weekly_film_demand", || {
            let weeks = merge_weekly(
                tx,
                &WEEKLY_FILM_DEMAND,
                &plan,
                plan.film_from_week.as_ref(),
                full,
            )?;
            Ok(if weeks == 0 {
                0
            } else {
                weeks * stocked_films(tx)?
            })
        })?;
        rebuild_indexes(tx, "rollup.weekly_film_demand", &film_indexes)?;
        (weeks, film_rows)
    };
    if !loaded.full_rows_in_place {
        // (Rows copied into empty tables are all inside the series.)
        timed("deleted the weeks outside the series", || {
            delete_outside_series(tx, &plan, films_changed)
        })?;
    }

    let first_recomputed_week = if weeks_recomputed > 0 {
        plan.from_week.clone()
    } else {
        None
    };
    let weeks = match (&plan.first_week, &plan.last_week) {
        (Some(first), Some(last)) => weeks_between(tx, first, last)?,
        _ => 0,
    };
    let report = RefreshReport {
        mode,
        watermark: watermark.to_owned(),
        read_since: loaded.read_since.clone(),
        rows_read: loaded.rows_read,
        rows_inserted: inserted,
        rows_updated: updated,
        rows_deleted: deleted,
        checksum_mismatch: loaded.checksum_mismatch,
        films_changed,
        first_changed_week: plan.first_changed_week.clone(),
        first_recomputed_week,
        weeks_recomputed,
        film_rows_recomputed,
        first_week: plan.first_week.clone(),
        last_week: plan.last_week.clone(),
        weeks,
    };
    write_state(
        tx,
        &loaded.summary,
        loaded.last_update_max.as_deref(),
        &report,
        options,
    )?;
    Ok(report)
}

/// Fills the temporary table weekly_events (weekly_events.sql) with the events from the week
/// before `from` on.
fn weekly_events(tx: &mut Transaction<'_>, from: Option<&str>) -> Result<()> {
    tx.execute(
        &format!("insert into weekly_events {WEEKLY_EVENTS_SQL}"),
        &[&from],
    )
    .context("computing the weekly events from rollup.raw_rental")?;
    tx.batch_execute("analyze weekly_events")
        .context("analyzing weekly_events")?;
    Ok(())
}

/// `merge into rollup.<table> using (<source>)`: rows matched on `keys`; a matched row is updated
/// only when one of `values` differs (so unchanged weeks are not rewritten); a new row is inserted.
fn merge_statement(table: &str, keys: &[&str], values: &[&str], source: &str) -> String {
    let on: Vec<String> = keys
        .iter()
        .map(|k| format!("{table}.{k} = recomputed.{k}"))
        .collect();
    let stored: Vec<String> = values.iter().map(|v| format!("{table}.{v}")).collect();
    let recomputed: Vec<String> = values.iter().map(|v| format!("recomputed.{v}")).collect();
    let set: Vec<String> = values
        .iter()
        .map(|v| format!("{v} = recomputed.{v}"))
        .collect();
    let columns: Vec<&str> = keys.iter().chain(values).copied().collect();
    let inserted: Vec<String> = columns.iter().map(|c| format!("recomputed.{c}")).collect();
    format!(
        "merge into rollup.{table} using ({source}) as recomputed on {} \
         when matched and ({}) is distinct from ({}) then update set {} \
         when not matched then insert ({}) values ({})",
        on.join(" and "),
        stored.join(", "),
        recomputed.join(", "),
        set.join(", "),
        columns.join(", "),
        inserted.join(", "),
    )
}

/// A weekly table the rollup MERGEs into: its key and value columns, and the query that
/// recomputes its rows from a week on (parameters: first week, from week, last week).
struct WeeklyTable {
    table: &'static str,
    keys: &'static [&'static str],
    values: &'static [&'static str],
    sql: &'static str,
}

const WEEKLY_RENTALS: WeeklyTable = WeeklyTable {
    table: "weekly_rentals",
    keys: &["week_beginning"],
    values: &[
        "new_rentals",
        "returned_rentals",
        "outstanding_rentals",
        "rentals_out_during_week",
    ],
    sql: WEEKLY_RENTALS_SQL,
};

const WEEKLY_FILM_DEMAND: WeeklyTable = WeeklyTable {
    table: "weekly_film_demand",
    keys: &["week_beginning", "film_id"],
    values: &[
        "title",
        "copies_owned",
        "new_rentals",
        "returned_rentals",
        "outstanding_rentals",
        "rentals_out_during_week",
    ],
    sql: WEEKLY_FILM_DEMAND_SQL,
};

/// MERGEs the weeks from `from` on into `rollup.<table>`; returns the weeks recomputed. The rows
/// come from the table's query, or for a full load from the temporary `recomputed_<table>`.
fn merge_weekly(
    tx: &mut Transaction<'_>,
    weekly: &WeeklyTable,
    plan: &WeekPlan,
    from: Option<&String>,
    full: bool,
) -> Result<u64> {
    let (Some(first), Some(from), Some(last)) = (&plan.first_week, from, &plan.last_week) else {
        return Ok(0);
    };
    let weeks = weeks_between(tx, from, last)?;
    if weeks == 0 {
        return Ok(0);
    }
    let full_load = format!("select * from recomputed_{}", weekly.table);
    let (recomputed, params): (&str, Vec<&(dyn postgres::types::ToSql + Sync)>) = if full {
        (&full_load, vec![])
    } else {
        (weekly.sql, vec![first, from, last])
    };
    tx.execute(
        &merge_statement(weekly.table, weekly.keys, weekly.values, recomputed),
        &params,
    )
    .with_context(|| format!("merging the recomputed weeks into rollup.{}", weekly.table))?;
    Ok(weeks)
}

/// Films with at least one inventory copy (and a film row), in the mirror.
fn stocked_films(tx: &mut Transaction<'_>) -> Result<u64> {
    let films: i64 = tx
        .query_one(
            "select count(distinct raw_inventory.film_id) \
             from rollup.raw_inventory \
             inner join rollup.raw_film \
                 on raw_film.film_id = raw_inventory.film_id",
            &[],
        )
        .context("counting the stocked films")?
        .get(0);
    Ok(films as u64)
}

/// Deletes the weeks before the first week or after the last (PostgreSQL 15 has no MERGE ...
/// WHEN NOT MATCHED BY SOURCE), and the rows of films that no longer have a copy.
fn delete_outside_series(
    tx: &mut Transaction<'_>,
    plan: &WeekPlan,
    films_changed: bool,
) -> Result<()> {
    let (first, last) = (&plan.first_week, &plan.last_week);
    for weekly in [&WEEKLY_RENTALS, &WEEKLY_FILM_DEMAND] {
        let table = weekly.table;
        tx.execute(
            &format!(
                "delete from rollup.{table} \
                 where $1::text is null \
                     or {table}.week_beginning < $1::text::date \
                     or {table}.week_beginning > $2::text::date"
            ),
            &[first, last],
        )
        .with_context(|| format!("deleting the weeks outside the series from rollup.{table}"))?;
    }
    if films_changed {
        tx.execute(
            "delete from rollup.weekly_film_demand \
             where not exists ( \
                 select \
                 from rollup.raw_inventory \
                 inner join rollup.raw_film \
                     on raw_film.film_id = raw_inventory.film_id \
                 where raw_inventory.film_id = weekly_film_demand.film_id \
             )",
            &[],
        )
        .context("deleting the films without copies from rollup.weekly_film_demand")?;
    }
    Ok(())
}
