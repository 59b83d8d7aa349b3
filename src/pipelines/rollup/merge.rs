//! Bringing the rollup's tables up to date in the run's transaction: apply the staged changes to
//! the mirror, plan the weeks, recompute them with the models (migrations/rollup/models/: the
//! events int_weekly_events and int_weekly_store_events, then weekly_rentals, weekly_film_demand,
//! weekly_film_store_demand and film_store_weekly_features, each through its function
//! `rollup.<model>_rows(first_week, from_week, last_week)`) and write them in as each model's
//! `strategy` says, delete the weeks the series no longer covers, and write the state row.
//! When the models changed since the tables were computed, every week is recomputed.

use anyhow::{Context, Result, bail};
use postgres::Transaction;

use super::indexes::{SavedIndex, drop_indexes, rebuild_indexes};
use super::mirror::{Loaded, SmallTables, apply_rental_changes, apply_small_table_changes};
use super::plan::{WeekPlan, check_stored_prefix, plan, weeks_between};
use super::report::{Mode, RefreshOptions, RefreshReport, timed};
use super::state::{State, write_state};
use crate::engine::models::Model;

/// The events of each film and week, read by weekly_rentals and weekly_film_demand.
const EVENTS: &str = "int_weekly_events";
/// The events of each film, store and week with effective returns, read by weekly_rentals and
/// weekly_film_store_demand.
const STORE_EVENTS: &str = "int_weekly_store_events";
const WEEKLY_RENTALS: &str = "weekly_rentals";
const WEEKLY_FILM_DEMAND: &str = "weekly_film_demand";
const WEEKLY_FILM_STORE_DEMAND: &str = "weekly_film_store_demand";
/// Read from weekly_film_store_demand: its rows depend on the next week's (the target).
const FEATURES: &str = "film_store_weekly_features";

/// What [`merge`] did: the run's report, or nothing yet because the full path is cheaper (why).
pub enum Merged {
    Done(Box<RefreshReport>),
    FullPathCheaper(String),
}

/// Applies the staged changes to the mirror, recomputes and writes the weeks they touched,
/// deletes the weeks outside the series, and writes the state row. `models` are the rollup's
/// (their `strategy` says how each table is written). Returns what the run did, or, for an
/// incremental run whose changes reach back so far that a full build costs less, that (with the
/// mirror changed but no table written: the caller loads everything again in the same
/// transaction). `full_path_reason` is why a full load replaced an incremental run.
#[allow(clippy::too_many_arguments)]
pub fn merge(
    tx: &mut Transaction<'_>,
    mode: Mode,
    loaded: &Loaded,
    state: &State,
    watermark: &str,
    options: &RefreshOptions,
    models: &[Model],
    full_path_reason: Option<String>,
) -> Result<Merged> {
    let full = mode == Mode::Full;
    let (inserted, updated, deleted, small) = if full {
        (
            loaded.rows_read,
            0,
            0,
            SmallTables {
                films_changed: true,
                changed: true,
            },
        )
    } else {
        let (inserted, updated, deleted) = timed("applied the changes to the mirror", || {
            apply_rental_changes(tx)
        })?;
        let small = timed("compared inventory and film", || {
            apply_small_table_changes(tx)
        })?;
        (inserted, updated, deleted, small)
    };
    let films_changed = small.films_changed;
    let models_checksum = applied_models_checksum(tx)?;
    // Each table's key and value columns, read before a full refresh drops the indexes.
    let mut tables = Vec::new();
    for table in [
        EVENTS,
        STORE_EVENTS,
        WEEKLY_RENTALS,
        WEEKLY_FILM_DEMAND,
        WEEKLY_FILM_STORE_DEMAND,
        FEATURES,
    ] {
        let model = models.iter().find(|m| m.name == table).with_context(|| {
            format!("no model for rollup.{table} (migrations/rollup/models/{table}.sql)")
        })?;
        let (keys, values) = key_and_value_columns(tx, table)?;
        tables.push(Written {
            table,
            strategy: model.strategy.clone().unwrap_or_default(),
            keys,
            values,
        });
    }
    let [
        events,
        store_events,
        weekly_rentals,
        weekly_film_demand,
        weekly_film_store_demand,
        features,
    ] = &tables[..]
    else {
        unreachable!("six tables")
    };
    let models_changed =
        !full && state.models_checksum.as_deref() != Some(models_checksum.as_str());

    let plan = if full {
        // Every week; load_full stored the events of them all.
        let (first, last) = loaded.full_series.clone().unzip();
        let plan = WeekPlan {
            first_changed_week: None,
            first_week: first.clone(),
            last_week: last,
            from_week: first.clone(),
            film_from_week: first.clone(),
            store_from_week: first.clone(),
            features_from_week: first,
        };
        // The per-store events need each rental's effective return: the model computes them
        // from the mirror (the stream cannot: it needs the copy's next rental).
        timed("computed rollup.int_weekly_store_events", || {
            write_rows(tx, store_events, &plan, plan.store_from_week.as_ref())
        })?;
        plan
    } else {
        let mut plan = timed("planned the weeks", || {
            plan(tx, films_changed, small.changed)
        })?;
        check_stored_prefix(tx, &mut plan)?;
        if models_changed {
            tracing::info!(
                "rollup: the rollup models changed since the tables were computed: recomputing every week"
            );
            plan.from_week = plan.first_week.clone();
            plan.film_from_week = plan.first_week.clone();
            plan.store_from_week = plan.first_week.clone();
            plan.features_from_week = plan.first_week.clone();
        }
        // The events of the weeks any table recomputes, before the tables read them.
        let from = earliest(&plan.from_week, &plan.film_from_week);
        let store_from = earliest(&plan.from_week, &plan.store_from_week);
        if let (Some(from), Some(percent)) =
            (&earliest(&from, &store_from), options.full_path_percent)
            && let Some(reason) = too_far(tx, from, percent)?
        {
            return Ok(Merged::FullPathCheaper(reason));
        }
        timed("recomputed rollup.int_weekly_events", || {
            write_rows(tx, events, &plan, from.as_ref())
        })?;
        timed("recomputed rollup.int_weekly_store_events", || {
            write_rows(tx, store_events, &plan, store_from.as_ref())
        })?;
        plan
    };
    // Before the weekly tables read them: the events of weeks the series no longer covers
    // (deleted rentals before its new first week) must not reach their running sums.
    delete_outside_series(tx, &[EVENTS, STORE_EVENTS], &plan)?;

    let weeks_recomputed = timed("merged rollup.weekly_rentals", || {
        write_rows(tx, weekly_rentals, &plan, plan.from_week.as_ref())
    })?;
    // A table whose every week is written (a full load; a run that recomputes every week: a
    // changed model, a far-reaching batch) is emptied and filled as on the first load, its
    // indexes built afterwards: faster than merging into it and maintaining them row by row.
    let film_indexes = rewrite_all(tx, WEEKLY_FILM_DEMAND, &plan, &plan.film_from_week)?;
    let film_rows_recomputed = timed("merged rollup.weekly_film_demand", || {
        let weeks = write_rows(tx, weekly_film_demand, &plan, plan.film_from_week.as_ref())?;
        Ok(if weeks == 0 {
            0
        } else {
            weeks * stocked_films(tx)?
        })
    })?;
    rebuild_indexes(tx, "rollup.weekly_film_demand", &film_indexes)?;
    let store_indexes = [
        rewrite_all(tx, WEEKLY_FILM_STORE_DEMAND, &plan, &plan.store_from_week)?,
        rewrite_all(tx, FEATURES, &plan, &plan.features_from_week)?,
    ];
    let store_rows_recomputed = timed("merged rollup.weekly_film_store_demand", || {
        let weeks = write_rows(
            tx,
            weekly_film_store_demand,
            &plan,
            plan.store_from_week.as_ref(),
        )?;
        Ok(if weeks == 0 {
            0
        } else {
            weeks * stocked_film_stores(tx)?
        })
    })?;
    // The features read the store rows of the series only: the rows outside it go first.
    timed("deleted the weeks outside the series", || {
        delete_outside_series(
            tx,
            &[
                WEEKLY_RENTALS,
                WEEKLY_FILM_DEMAND,
                WEEKLY_FILM_STORE_DEMAND,
                FEATURES,
            ],
            &plan,
        )?;
        if small.changed {
            delete_films_without_copies(tx)?;
        }
        Ok(())
    })?;
    timed("merged rollup.film_store_weekly_features", || {
        write_rows(tx, features, &plan, plan.features_from_week.as_ref())
    })?;
    for (table, indexes) in [WEEKLY_FILM_STORE_DEMAND, FEATURES]
        .iter()
        .zip(&store_indexes)
    {
        rebuild_indexes(tx, &format!("rollup.{table}"), indexes)?;
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
    // The data checks examine the weeks recomputed and the last week (whose bound they compare
    // with the mirror's); a full load's, every week.
    let check_from_week = if full {
        None
    } else {
        [
            &plan.film_from_week,
            &plan.store_from_week,
            &plan.features_from_week,
            &plan.last_week,
        ]
        .into_iter()
        .fold(plan.from_week.clone(), |a, b| earliest(&a, b))
    };
    let report = RefreshReport {
        mode,
        watermark: watermark.to_owned(),
        read_since: loaded.read_since.clone(),
        rows_read: loaded.rows_read,
        rows_inserted: inserted,
        rows_updated: updated,
        rows_deleted: deleted,
        checksum_mismatch: loaded.blocks_compared > 0,
        blocks_compared: loaded.blocks_compared,
        films_changed,
        models_changed,
        first_changed_week: plan.first_changed_week.clone(),
        first_recomputed_week,
        weeks_recomputed,
        film_rows_recomputed,
        store_rows_recomputed,
        first_week: plan.first_week.clone(),
        last_week: plan.last_week.clone(),
        weeks,
        check_from_week,
        full_path_reason,
    };
    write_state(
        tx,
        &loaded.summary,
        loaded.last_update_max.as_deref(),
        &models_checksum,
        &report,
        options,
    )?;
    Ok(Merged::Done(Box::new(report)))
}

/// Why recomputing from `from` would cost more than a full build, if it would: the share of the
/// mirror's rentals rented from that week on (summed from the stored events, an index range of
/// rollup.int_weekly_events; rentals rented before and returned after are read too, so it
/// errs low) above `percent` (`--full-path-percent`; by default 100, never: measured at 5
/// million rentals, recomputing every week from the mirror took 59 s and the full path 65 to
/// 68 s, since the per-store model dominates both and the full path also copies and indexes
/// the mirror again; bench/README.md, "Rollup").
fn too_far(tx: &mut Transaction<'_>, from: &str, percent: u8) -> Result<Option<String>> {
    let row = tx
        .query_one(
            "select \
                 (select coalesce(sum(mirror_blocks.rentals), 0)::bigint from rollup.mirror_blocks), \
                 (select coalesce(sum(int_weekly_events.rentals_started), 0)::bigint \
                  from rollup.int_weekly_events \
                  where int_weekly_events.week_beginning >= $1::text::date)",
            &[&from],
        )
        .context("estimating the rentals to read again")?;
    let (rentals, from_there): (i64, i64) = (row.get(0), row.get(1));
    if rentals == 0 {
        return Ok(None);
    }
    let share = 100.0 * from_there as f64 / rentals as f64;
    Ok((share > f64::from(percent)).then(|| {
        format!(
            "the changes reach back to the week of {from}: recomputing from there reads about \
             {from_there} of the mirror's {rentals} rentals ({share:.0}%, more than \
             --full-path-percent {percent})"
        )
    }))
}

/// The earlier of two weeks (`YYYY-MM-DD` strings order as dates), either possibly absent.
fn earliest(a: &Option<String>, b: &Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b).clone()),
        (a, b) => a.clone().or_else(|| b.clone()),
    }
}

/// One checksum of the rollup models applied (`runner_models`): the logic the tables are
/// computed with. Kept in refresh_state; when it changes, the next run recomputes every week.
fn applied_models_checksum(tx: &mut Transaction<'_>) -> Result<String> {
    let checksum: Option<String> = tx
        .query_one(
            "select md5(string_agg(runner_models.model_name || ' ' || runner_models.checksum, \
                 ',' order by runner_models.model_name)) \
             from runner_models",
            &[],
        )
        .context("reading the models applied (runner_models)")?
        .get(0);
    checksum.context("runner_models is empty: run `runner migrate rollup` to apply the models")
}

/// A table the run writes, and how.
struct Written {
    table: &'static str,
    /// The model's `strategy`: `merge` or `delete+insert`.
    strategy: String,
    /// Primary key columns (what `merge` matches on) and the others.
    keys: Vec<String>,
    values: Vec<String>,
}

/// Writes the weeks from `from` to the last week of `rollup.<table>` from the function of its
/// model, `rollup.<table>_rows(first_week, from_week, last_week)`, as the model's strategy says:
/// `merge` updates the rows that differ and inserts the new ones; `delete+insert` deletes the
/// weeks from `from` on and inserts the function's rows. Returns the weeks written.
fn write_rows(
    tx: &mut Transaction<'_>,
    written: &Written,
    plan: &WeekPlan,
    from: Option<&String>,
) -> Result<u64> {
    let (Some(first), Some(from), Some(last)) = (&plan.first_week, from, &plan.last_week) else {
        return Ok(0);
    };
    let weeks = weeks_between(tx, from, last)?;
    if weeks == 0 {
        return Ok(0);
    }
    let table = written.table;
    let rows = format!(
        "select * from rollup.{table}_rows($1::text::date, $2::text::date, $3::text::date)"
    );
    match written.strategy.as_str() {
        "merge" => {
            if written.keys.is_empty() {
                bail!("rollup.{table} has no primary key to merge on");
            }
            let empty: bool = tx
                .query_one(
                    &format!("select not exists (select from rollup.{table})"),
                    &[],
                )
                .with_context(|| format!("looking into rollup.{table}"))?
                .get(0);
            if empty {
                // The first load, or every week (rewrite_all emptied it): a MERGE could only
                // insert, and costs the join (545,000 film rows at 5M rentals: 2.8 s merged,
                // 1.9 s inserted).
                tx.execute(
                    &format!("insert into rollup.{table} {rows}"),
                    &[first, from, last],
                )
                .with_context(|| format!("inserting the computed weeks into rollup.{table}"))?;
            } else {
                let keys: Vec<&str> = written.keys.iter().map(String::as_str).collect();
                let values: Vec<&str> = written.values.iter().map(String::as_str).collect();
                tx.execute(
                    &merge_statement(table, &keys, &values, &rows),
                    &[first, from, last],
                )
                .with_context(|| format!("merging the recomputed weeks into rollup.{table}"))?;
            }
        }
        "delete+insert" => {
            tx.execute(
                &format!(
                    "delete from rollup.{table} where {table}.week_beginning >= $1::text::date"
                ),
                &[from],
            )
            .with_context(|| format!("deleting the weeks recomputed from rollup.{table}"))?;
            tx.execute(
                &format!("insert into rollup.{table} {rows}"),
                &[first, from, last],
            )
            .with_context(|| format!("inserting the recomputed weeks into rollup.{table}"))?;
        }
        other => bail!("models/{table}.sql: strategy {other:?} is not one the rollup writes"),
    }
    // After every week of it was written, the checks and the next runs plan with its statistics
    // (autovacuum may be off, or not there yet). A run that recomputed some weeks leaves them as
    // they were: analyzing a million rows to add a week's would cost more than the run's work.
    if from == first {
        tx.batch_execute(&format!("analyze rollup.{table}"))
            .with_context(|| format!("analyzing rollup.{table}"))?;
    }
    Ok(weeks)
}

/// The primary key columns of `rollup.<table>` (none without one) and its other columns, in
/// table order.
fn key_and_value_columns(
    tx: &mut Transaction<'_>,
    table: &str,
) -> Result<(Vec<String>, Vec<String>)> {
    let rows = tx
        .query(
            "select \
                 pg_attribute.attname::text, \
                 coalesce(pg_attribute.attnum = any(pg_index.indkey), false) \
             from pg_attribute \
             left join pg_index \
                 on pg_index.indrelid = pg_attribute.attrelid \
                 and pg_index.indisprimary \
             where pg_attribute.attrelid = $1::text::regclass \
                 and pg_attribute.attnum > 0 \
                 and not pg_attribute.attisdropped \
             order by pg_attribute.attnum",
            &[&format!("rollup.{table}")],
        )
        .with_context(|| format!("reading the columns of rollup.{table}"))?;
    let (keys, values): (Vec<_>, Vec<_>) = rows
        .iter()
        .map(|row| (row.get::<_, String>(0), row.get::<_, bool>(1)))
        .partition(|(_, is_key)| *is_key);
    Ok((
        keys.into_iter().map(|(c, _)| c).collect(),
        values.into_iter().map(|(c, _)| c).collect(),
    ))
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

/// Empties `rollup.<table>` and drops its indexes, returning them to build again, when the run
/// writes every week of it (`from` is the first week: a full load, a changed model, a
/// far-reaching batch); otherwise does nothing. Inserting into the empty table costs less than
/// merging a million rows into a full one (about 10 s of a 70 s full refresh at 5 million
/// rentals). Readers of the table wait until the commit, then see the new rows.
fn rewrite_all(
    tx: &mut Transaction<'_>,
    table: &str,
    plan: &WeekPlan,
    from: &Option<String>,
) -> Result<Vec<SavedIndex>> {
    if from.is_none() || from != &plan.first_week {
        return Ok(Vec::new());
    }
    tx.batch_execute(&format!("truncate rollup.{table}"))
        .with_context(|| format!("emptying rollup.{table} to write every week"))?;
    drop_indexes(tx, &format!("rollup.{table}"))
}

/// Deletes the weeks before the first week or after the last from `tables` (PostgreSQL 15 has no
/// MERGE ... WHEN NOT MATCHED BY SOURCE).
fn delete_outside_series(tx: &mut Transaction<'_>, tables: &[&str], plan: &WeekPlan) -> Result<()> {
    for table in tables {
        let what = || format!("deleting the weeks outside the series from rollup.{table}");
        let Some(first) = &plan.first_week else {
            tx.execute(&format!("delete from rollup.{table}"), &[])
                .with_context(what)?;
            continue;
        };
        // Usually there is nothing to delete: the two ends of the index every table leads with
        // week_beginning say so without reading the table (the delete's own plan may not: its
        // estimate comes from statistics that may predate the run).
        let outside: bool = tx
            .query_one(
                &format!(
                    "select coalesce(\
                         min({table}.week_beginning) < $1::text::date \
                             or max({table}.week_beginning) > $2::text::date, \
                         false) \
                     from rollup.{table}"
                ),
                &[first, &plan.last_week],
            )
            .with_context(what)?
            .get(0);
        if outside {
            tx.execute(
                &format!(
                    "delete from rollup.{table} \
                     where {table}.week_beginning < $1::text::date \
                         or {table}.week_beginning > $2::text::date"
                ),
                &[first, &plan.last_week],
            )
            .with_context(what)?;
        }
    }
    Ok(())
}

/// Film-store pairs with at least one inventory copy, in the mirror.
fn stocked_film_stores(tx: &mut Transaction<'_>) -> Result<u64> {
    let pairs: i64 = tx
        .query_one(
            "select count(*) from (select distinct film_id, store_id from rollup.raw_inventory) as pairs",
            &[],
        )
        .context("counting the stocked film-store pairs")?
        .get(0);
    Ok(pairs as u64)
}

/// Deletes the rows of films (film-store pairs) that no longer have a copy from
/// rollup.weekly_film_demand (weekly_film_store_demand, film_store_weekly_features).
fn delete_films_without_copies(tx: &mut Transaction<'_>) -> Result<()> {
    for table in [WEEKLY_FILM_STORE_DEMAND, FEATURES] {
        tx.execute(
            &format!(
                "delete from rollup.{table} \
                 where not exists ( \
                     select \
                     from rollup.raw_inventory \
                     where raw_inventory.film_id = {table}.film_id \
                         and raw_inventory.store_id = {table}.store_id \
                 )"
            ),
            &[],
        )
        .with_context(|| {
            format!("deleting the film-store pairs without copies from rollup.{table}")
        })?;
    }
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
    Ok(())
}
