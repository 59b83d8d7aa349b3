//! The rollup database's side of a run, all in the caller's one transaction: loading the mirror
//! (`rollup.raw_*`) in full or by changes, finding the first week a change touched, recomputing
//! the weeks from there (weekly_events.sql, weekly_rentals.sql, weekly_film_demand.sql; a full
//! load's rows come from stream.rs) and `MERGE`-ing them, deleting the weeks the series no longer
//! covers, and the state row (`rollup.refresh_state`).

use std::time::Instant;

use anyhow::{Context, Result, bail};
use postgres::{Client, Transaction};

use super::source::{
    FILM_SELECT, INVENTORY_SELECT, Snapshot, Summary, TIMESTAMP_FORMAT, rental_hash_select,
    summary_in_snapshot,
};
use super::stream::{Film, RentalStream, format_week};
use super::{Mode, RefreshOptions, RefreshReport};

/// The one pass over the mirror: events per film and week ($1 first week to recompute).
const WEEKLY_EVENTS_SQL: &str = include_str!("weekly_events.sql");
/// The recompute of each table for a range of weeks ($1 first week, $2 from week, $3 last week).
const WEEKLY_RENTALS_SQL: &str = include_str!("weekly_rentals.sql");
const WEEKLY_FILM_DEMAND_SQL: &str = include_str!("weekly_film_demand.sql");

/// Above this many rentals to fetch by id after an id-set comparison, copy the whole table instead.
const MAX_FETCH_BY_ID: usize = 100_000;

/// `to_char` format of weeks passed to and from SQL: ISO, read back whatever the DateStyle.
const DATE_FORMAT: &str = "YYYY-MM-DD";

/// The state row, locked for the run.
pub struct State {
    pub watermark: Option<String>,
    pub source_rows: i64,
    pub source_id_checksum: i64,
}

/// What the load step found, for the merge step and the report.
pub struct Loaded {
    read_since: Option<String>,
    /// The greatest last_update read (a full load's; an incremental run takes the staged rows').
    last_update_max: Option<String>,
    rows_read: u64,
    checksum_mismatch: bool,
    /// The source (= the mirror, once the changes are applied) at the snapshot.
    summary: Summary,
    /// A full load's series (first and last week), its rows already computed into the temporary
    /// tables recomputed_weekly_rentals and recomputed_weekly_film_demand; None without rentals.
    full_series: Option<(String, String)>,
    /// The weekly tables were empty: the full load copied its rows straight into them.
    full_rows_in_place: bool,
}

/// Session settings for the run (this transaction only): memory for the big sorts, hashes and
/// index builds of a full load, and index lookups costed as on a cached or SSD-backed mirror, so an
/// incremental run finds its few thousand rentals by key instead of scanning millions.
pub fn tune_session(tx: &mut Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "set local jit = off; \
         set local work_mem = '256MB'; \
         set local maintenance_work_mem = '512MB'; \
         set local random_page_cost = 1.1",
    )
    .context("setting work_mem and maintenance_work_mem for the run")
}

/// Locks and reads the state row, so two runs never interleave.
pub fn lock_state(tx: &mut Transaction<'_>) -> Result<State> {
    let row = tx
        .query_opt(
            &format!(
                "select \
                     to_char(watermark_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     source_rows, \
                     source_id_checksum \
                 from rollup.refresh_state \
                 for update"
            ),
            &[],
        )
        .context("reading rollup.refresh_state (has `runner migrate rollup` created it?)")?;
    let Some(row) = row else {
        bail!("rollup.refresh_state has no row: it is created by migration V3__refresh_state.sql");
    };
    Ok(State {
        watermark: row.get(0),
        source_rows: row.get(1),
        source_id_checksum: row.get(2),
    })
}

/// The run's temporary tables (dropped at commit): rental_change, what changed and how;
/// weekly_events, the events of the weeks recomputed (weekly_events.sql).
pub fn create_work_tables(tx: &mut Transaction<'_>) -> Result<()> {
    tx.batch_execute(
        "create temporary table rental_change ( \
             rental_id integer not null, \
             change_kind text not null, \
             old_rental_week date, \
             old_return_week date, \
             old_inventory_id integer, \
             new_rental_week date, \
             new_return_week date, \
             new_inventory_id integer \
         ) on commit drop; \
         create temporary table weekly_events ( \
             film_id integer, \
             week_beginning date not null, \
             rentals_started bigint not null, \
             rentals_returned bigint not null, \
             returned_in_order bigint not null, \
             returned_out_of_order bigint not null \
         ) on commit drop",
    )
    .context("creating the temporary tables rental_change and weekly_events")
}

/// Logs how long a phase took (`-v`).
fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let out = f()?;
    tracing::debug!("rollup: {what} ({} ms)", started.elapsed().as_millis());
    Ok(out)
}

/// A full load: empty the mirror and copy every row of the three tables into it, tallying the
/// weekly events of every rental on the way (into weekly_events).
pub fn load_full(snapshot: &mut Snapshot<'_>, tx: &mut Transaction<'_>) -> Result<Loaded> {
    tx.batch_execute("truncate rollup.raw_rental, rollup.raw_inventory, rollup.raw_film")
        .context("emptying the mirror (rollup.raw_rental, raw_inventory, raw_film)")?;
    // Building the indexes once after the COPY is much faster than maintaining them per row.
    let indexes = drop_indexes(tx, "rollup.raw_rental")?;
    let mut tally = RentalStream::new(Some(snapshot.film_of_copy()?));
    // FREEZE: the table was emptied in this transaction, so rows go in frozen (no later rewrite).
    let rows_read = timed("copied every rental into rollup.raw_rental", || {
        snapshot.copy_rentals("", tx, "rollup.raw_rental", ", freeze", &mut tally)
    })?;
    if tally.rows as u64 != rows_read {
        bail!(
            "copied {rows_read} rentals but read {} in the COPY stream",
            tally.rows
        );
    }
    let films = snapshot.films()?;
    let (full_series, full_rows_in_place) = timed("computed every week of both tables", || {
        full_recompute(tx, &tally, &films)
    })?;
    rebuild_indexes(tx, "rollup.raw_rental", &indexes)?;
    copy_small_tables(
        snapshot,
        tx,
        "rollup.raw_inventory",
        "rollup.raw_film",
        true,
    )?;
    timed("analyzed the mirror", || {
        tx.batch_execute(
            "analyze rollup.raw_rental; analyze rollup.raw_inventory; analyze rollup.raw_film; \
             analyze recomputed_weekly_film_demand",
        )
        .context("analyzing the mirror")
    })?;
    let last_update_max: Option<String> = tx
        .query_one(
            &format!(
                "select to_char( \
                     (timestamptz '2000-01-01 00:00:00+00' + $1::bigint * interval '1 microsecond') \
                         at time zone 'UTC', \
                     '{TIMESTAMP_FORMAT}')"
            ),
            &[&tally.last_update_max],
        )
        .context("formatting the latest last_update")?
        .get(0);
    Ok(Loaded {
        read_since: None,
        last_update_max,
        rows_read,
        checksum_mismatch: false,
        summary: Summary {
            rows: tally.rows,
            id_checksum: tally.id_checksum,
        },
        full_series,
        full_rows_in_place,
    })
}

/// Stores every row of both weekly tables, computed from the tallied events (stream.rs), into
/// the temporary tables recomputed_weekly_rentals and recomputed_weekly_film_demand, from which
/// the same MERGE as an incremental run's applies them. When both weekly tables are empty (the
/// first run), a MERGE could only insert: the rows are copied straight into them instead.
/// Returns the series and whether the rows went straight in.
fn full_recompute(
    tx: &mut Transaction<'_>,
    tally: &RentalStream,
    films: &[Film],
) -> Result<(Option<(String, String)>, bool)> {
    tx.batch_execute(
        "create temporary table recomputed_weekly_rentals ( \
             week_beginning date not null, \
             new_rentals integer not null, \
             returned_rentals integer not null, \
             outstanding_rentals integer not null, \
             rentals_out_during_week integer not null \
         ) on commit drop; \
         create temporary table recomputed_weekly_film_demand ( \
             week_beginning date not null, \
             film_id integer not null, \
             title text not null, \
             copies_owned integer not null, \
             new_rentals integer not null, \
             returned_rentals integer not null, \
             outstanding_rentals integer not null, \
             rentals_out_during_week integer not null \
         ) on commit drop",
    )
    .context("creating the recomputed weekly tables")?;
    let Some((first, last)) = tally.series() else {
        return Ok((None, false));
    };
    let empty: bool = tx
        .query_one(
            "select not exists (select from rollup.weekly_rentals) \
                 and not exists (select from rollup.weekly_film_demand)",
            &[],
        )
        .context("looking into the weekly tables")?
        .get(0);
    let (rentals_table, film_table) = if empty {
        ("rollup.weekly_rentals", "rollup.weekly_film_demand")
    } else {
        ("recomputed_weekly_rentals", "recomputed_weekly_film_demand")
    };
    let film_indexes = if empty {
        drop_indexes(tx, "rollup.weekly_film_demand")?
    } else {
        Vec::new()
    };
    for (table, columns, rows) in [
        (
            rentals_table,
            "week_beginning, new_rentals, returned_rentals, outstanding_rentals, \
             rentals_out_during_week",
            tally.weekly_rentals_copy(first, last)?,
        ),
        (
            film_table,
            "week_beginning, film_id, title, copies_owned, new_rentals, returned_rentals, \
             outstanding_rentals, rentals_out_during_week",
            tally.weekly_film_demand_copy(films, first, last)?,
        ),
    ] {
        let mut writer = tx
            .copy_in(&format!(
                "copy {table} ({columns}) from stdin (format binary)"
            ))
            .with_context(|| format!("storing {table}"))?;
        std::io::Write::write_all(&mut writer, &rows)
            .with_context(|| format!("storing {table}"))?;
        writer
            .finish()
            .with_context(|| format!("storing {table}"))?;
    }
    rebuild_indexes(tx, "rollup.weekly_film_demand", &film_indexes)?;
    Ok((Some((format_week(first)?, format_week(last)?)), empty))
}

/// An incremental load: stage the rentals changed since the watermark minus the lookback, check
/// count and checksum, compare the id sets when they disagree, and stage inventory and film.
/// The mirror itself changes later, in [`merge`].
pub fn load_changes(
    snapshot: &mut Snapshot<'_>,
    second_source: Option<&mut Client>,
    tx: &mut Transaction<'_>,
    state: &State,
    lookback_seconds: u64,
) -> Result<Loaded> {
    let lookback = i64::try_from(lookback_seconds).context("--lookback is too large")?;
    let read_since: String = tx
        .query_one(
            &format!(
                "select to_char(\
                     (watermark_at - $1::bigint * interval '1 second') at time zone 'UTC', \
                     '{TIMESTAMP_FORMAT}') \
                 from rollup.refresh_state"
            ),
            &[&lookback],
        )
        .context("working out where to read from (watermark - lookback)")?
        .get(0);
    // It goes into the COPY text (COPY takes no parameters): only our own format may pass.
    if !read_since
        .bytes()
        .all(|b| b.is_ascii_digit() || b"-:.TZ".contains(&b))
    {
        bail!("unexpected watermark text {read_since:?}");
    }
    tx.batch_execute(
        "create temporary table stage_rental (like rollup.raw_rental) on commit drop; \
         create temporary table stage_deleted (rental_id integer primary key) on commit drop; \
         create temporary table stage_inventory (like rollup.raw_inventory) on commit drop; \
         create temporary table stage_film (like rollup.raw_film) on commit drop",
    )
    .context("creating the staging tables")?;
    // With a second connection, the source counts and checksums its rental table while this one
    // copies and stages the changed rows: the two scans overlap.
    let snapshot_id = match &second_source {
        Some(_) => snapshot.export()?,
        None => None,
    };
    let (mut rows_read, summary) = std::thread::scope(|scope| -> Result<(u64, Summary)> {
        let checksum = second_source
            .zip(snapshot_id)
            .map(|(client, id)| scope.spawn(move || summary_in_snapshot(client, &id)));
        let rows_read = timed("copied the changed rentals", || {
            snapshot.copy_rentals(
                &format!("where rental.last_update >= '{read_since}'::timestamptz"),
                tx,
                "stage_rental",
                "",
                &mut RentalStream::new(None),
            )
        })?;
        tx.batch_execute("analyze stage_rental")
            .context("analyzing stage_rental")?;
        let summary = match checksum {
            Some(thread) => timed("waited for the source's count and checksum", || {
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("the checksum thread panicked"))?
            })?,
            None => timed("counted and checksummed the source", || snapshot.summary())?,
        };
        Ok((rows_read, summary))
    })?;
    let expected = timed("worked out the mirror's count and checksum", || {
        expected_summary(tx, state)
    })?;
    let checksum_mismatch = expected != summary;
    if checksum_mismatch {
        tracing::info!(
            "rollup: the source has {} rentals (id checksum {}), the mirror would have {} ({}): comparing the id sets",
            summary.rows,
            summary.id_checksum,
            expected.rows,
            expected.id_checksum
        );
        rows_read += timed("compared the id sets", || compare_id_sets(snapshot, tx))?;
        let after = expected_summary(tx, state)?;
        if after != summary {
            bail!(
                "the mirror still disagrees with the source after comparing the id sets: \
                 {} rentals (checksum {}) against {} ({}); nothing was changed",
                after.rows,
                after.id_checksum,
                summary.rows,
                summary.id_checksum
            );
        }
    }
    timed("copied inventory and film", || {
        copy_small_tables(snapshot, tx, "stage_inventory", "stage_film", false)
    })?;
    let last_update_max: Option<String> = tx
        .query_one(
            &format!(
                "select to_char(max(stage_rental.last_update) at time zone 'UTC', '{TIMESTAMP_FORMAT}') \
                 from stage_rental"
            ),
            &[],
        )
        .context("reading the latest last_update staged")?
        .get(0);
    Ok(Loaded {
        read_since: Some(read_since),
        last_update_max,
        rows_read,
        checksum_mismatch,
        summary,
        full_series: None,
        full_rows_in_place: false,
    })
}

/// The mirror's count and id checksum once the staged rows and deletes are applied.
fn expected_summary(tx: &mut Transaction<'_>, state: &State) -> Result<Summary> {
    let row = tx
        .query_one(
            "with \
             staged as ( \
                 select \
                     count(*) as new_rentals, \
                     coalesce(sum(hashint4(stage_rental.rental_id)), 0) as id_change \
                 from stage_rental \
                 where not exists ( \
                     select \
                     from rollup.raw_rental \
                     where raw_rental.rental_id = stage_rental.rental_id \
                 ) \
             ), \
             deleted as ( \
                 select \
                     count(*) as deleted_rentals, \
                     coalesce(sum(hashint4(raw_rental.rental_id)), 0) as id_change \
                 from stage_deleted \
                 inner join rollup.raw_rental \
                     on raw_rental.rental_id = stage_deleted.rental_id \
             ) \
             select \
                 $1::bigint + staged.new_rentals - deleted.deleted_rentals, \
                 ($2::bigint + staged.id_change - deleted.id_change)::bigint \
             from staged \
             cross join deleted",
            &[&state.source_rows, &state.source_id_checksum],
        )
        .context("working out the mirror's count and id checksum after the changes")?;
    Ok(Summary {
        rows: row.get(0),
        id_checksum: row.get(1),
    })
}

/// Copies every rental id and row hash from the source, marks the mirror's rentals the source no
/// longer has as deleted, and stages the rentals the mirror lacks or holds differently (changes
/// the last_update window missed). Returns the rentals staged.
fn compare_id_sets(snapshot: &mut Snapshot<'_>, tx: &mut Transaction<'_>) -> Result<u64> {
    tx.batch_execute(
        "create temporary table source_rental_hash ( \
             rental_id integer not null, \
             row_hash integer not null \
         ) on commit drop",
    )
    .context("creating source_rental_hash")?;
    snapshot.copy_into(
        &rental_hash_select(),
        tx,
        "copy source_rental_hash (rental_id, row_hash) from stdin (format binary)",
        "copying every rental id and row hash into source_rental_hash",
    )?;
    tx.batch_execute(
        "analyze source_rental_hash; \
         insert into stage_deleted (rental_id) \
         select raw_rental.rental_id \
         from rollup.raw_rental \
         where not exists ( \
             select \
             from source_rental_hash \
             where source_rental_hash.rental_id = raw_rental.rental_id \
         )",
    )
    .context("finding the rentals deleted at the source")?;
    let missing: Vec<i32> = tx
        .query(
            "select source_rental_hash.rental_id \
             from source_rental_hash \
             left join rollup.raw_rental \
                 on raw_rental.rental_id = source_rental_hash.rental_id \
             where (raw_rental.rental_id is null or raw_rental.row_hash <> source_rental_hash.row_hash) \
                 and not exists ( \
                     select \
                     from stage_rental \
                     where stage_rental.rental_id = source_rental_hash.rental_id \
                 ) \
             order by source_rental_hash.rental_id",
            &[],
        )
        .context("finding the rentals the mirror lacks or holds differently")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    tracing::info!(
        "rollup: {} rentals changed outside the last_update window; copying them",
        missing.len()
    );
    let filter = if missing.len() > MAX_FETCH_BY_ID {
        tx.batch_execute("truncate stage_rental")
            .context("emptying stage_rental")?;
        String::new()
    } else {
        let ids: Vec<String> = missing.iter().map(i32::to_string).collect();
        format!(
            "where rental.rental_id = any('{{{}}}'::integer[])",
            ids.join(",")
        )
    };
    let rows = snapshot.copy_rentals(
        &filter,
        tx,
        "stage_rental",
        "",
        &mut RentalStream::new(None),
    )?;
    tx.batch_execute("analyze stage_rental")
        .context("analyzing stage_rental")?;
    Ok(rows)
}

/// Copies inventory and film whole (a few thousand rows) into the two tables named.
fn copy_small_tables(
    snapshot: &mut Snapshot<'_>,
    tx: &mut Transaction<'_>,
    inventory_table: &str,
    film_table: &str,
    freeze: bool,
) -> Result<()> {
    let options = if freeze {
        "format binary, freeze"
    } else {
        "format binary"
    };
    snapshot.copy_into(
        INVENTORY_SELECT,
        tx,
        &format!("copy {inventory_table} (inventory_id, film_id, store_id) from stdin ({options})"),
        &format!("copying inventory into {inventory_table}"),
    )?;
    snapshot.copy_into(
        FILM_SELECT,
        tx,
        &format!(
            "copy {film_table} (film_id, title, rental_duration, rental_rate, replacement_cost) \
             from stdin ({options})"
        ),
        &format!("copying film into {film_table}"),
    )?;
    Ok(())
}

/// An index of a table, with the statements that drop it and create it again.
struct SavedIndex {
    drop: String,
    create: String,
}

/// Drops every index of `table` (constraints through their constraint) and returns how to
/// rebuild them, from their definitions in the catalog (the migrations stay their only source).
fn drop_indexes(tx: &mut Transaction<'_>, table: &str) -> Result<Vec<SavedIndex>> {
    let rows = tx
        .query(
            "select \
                 quote_ident(index_namespace.nspname) || '.' || quote_ident(index_class.relname), \
                 pg_get_indexdef(pg_index.indexrelid), \
                 quote_ident(pg_constraint.conname), \
                 pg_get_constraintdef(pg_constraint.oid) \
             from pg_index \
             inner join pg_class as index_class \
                 on index_class.oid = pg_index.indexrelid \
             inner join pg_namespace as index_namespace \
                 on index_namespace.oid = index_class.relnamespace \
             left join pg_constraint \
                 on pg_constraint.conindid = pg_index.indexrelid \
                 and pg_constraint.conrelid = pg_index.indrelid \
                 and pg_constraint.contype in ('p', 'u', 'x') \
             where pg_index.indrelid = $1::text::regclass \
             order by pg_constraint.conname is null, index_class.relname",
            &[&table],
        )
        .with_context(|| format!("reading the index definitions of {table}"))?;
    let mut saved = Vec::with_capacity(rows.len());
    for row in rows {
        let index: String = row.get(0);
        let index_def: String = row.get(1);
        let constraint: Option<String> = row.get(2);
        let constraint_def: Option<String> = row.get(3);
        saved.push(match (constraint, constraint_def) {
            (Some(name), Some(def)) => SavedIndex {
                drop: format!("alter table {table} drop constraint {name}"),
                create: format!("alter table {table} add constraint {name} {def}"),
            },
            _ => SavedIndex {
                drop: format!("drop index {index}"),
                create: index_def,
            },
        });
    }
    for index in &saved {
        tx.batch_execute(&index.drop)
            .with_context(|| format!("dropping an index of {table}: {}", index.drop))?;
    }
    Ok(saved)
}

/// Creates again the indexes [`drop_indexes`] dropped.
fn rebuild_indexes(tx: &mut Transaction<'_>, table: &str, indexes: &[SavedIndex]) -> Result<()> {
    for index in indexes {
        timed(&format!("rebuilt an index: {}", index.create), || {
            tx.batch_execute(&index.create)
                .with_context(|| format!("rebuilding an index of {table}: {}", index.create))
        })?;
    }
    Ok(())
}

/// Which weeks this run recomputes; weeks as `YYYY-MM-DD`.
struct Plan {
    first_changed_week: Option<String>,
    first_week: Option<String>,
    last_week: Option<String>,
    from_week: Option<String>,
    film_from_week: Option<String>,
}

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
        Plan {
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
    write_state(tx, loaded, &report, options)?;
    Ok(report)
}

/// Fills rental_change from the staged rows and deletes, then applies them to rollup.raw_rental.
/// Returns (inserted, updated, deleted); a staged row whose dates and copy are unchanged (read
/// again through the lookback, or only last_update moved) counts in none of them.
fn apply_rental_changes(tx: &mut Transaction<'_>) -> Result<(u64, u64, u64)> {
    tx.batch_execute(
        "insert into rental_change \
         select \
             stage_rental.rental_id, \
             case \
                 when raw_rental.rental_id is null then 'inserted' \
                 when (raw_rental.rental_date, raw_rental.return_date, raw_rental.inventory_id) \
                     is distinct from \
                     (stage_rental.rental_date, stage_rental.return_date, stage_rental.inventory_id) \
                     then 'updated' \
                 else 'unchanged' \
             end, \
             raw_rental.rental_week, \
             raw_rental.return_week, \
             raw_rental.inventory_id, \
             stage_rental.rental_week, \
             stage_rental.return_week, \
             stage_rental.inventory_id \
         from stage_rental \
         left join rollup.raw_rental \
             on raw_rental.rental_id = stage_rental.rental_id; \
         insert into rental_change \
         select \
             stage_deleted.rental_id, \
             'deleted', \
             raw_rental.rental_week, \
             raw_rental.return_week, \
             raw_rental.inventory_id, \
             null, \
             null, \
             null \
         from stage_deleted \
         inner join rollup.raw_rental \
             on raw_rental.rental_id = stage_deleted.rental_id; \
         delete from rollup.raw_rental \
         using stage_deleted \
         where raw_rental.rental_id = stage_deleted.rental_id; \
         merge into rollup.raw_rental \
         using stage_rental \
             on raw_rental.rental_id = stage_rental.rental_id \
         when matched and ( \
             raw_rental.rental_date, \
             raw_rental.return_date, \
             raw_rental.inventory_id, \
             raw_rental.last_update, \
             raw_rental.row_hash \
         ) is distinct from ( \
             stage_rental.rental_date, \
             stage_rental.return_date, \
             stage_rental.inventory_id, \
             stage_rental.last_update, \
             stage_rental.row_hash \
         ) then update set \
             rental_date = stage_rental.rental_date, \
             return_date = stage_rental.return_date, \
             inventory_id = stage_rental.inventory_id, \
             last_update = stage_rental.last_update, \
             row_hash = stage_rental.row_hash, \
             rental_week = stage_rental.rental_week, \
             return_week = stage_rental.return_week, \
             last_event_week = stage_rental.last_event_week \
         when not matched then insert ( \
             rental_id, inventory_id, rental_date, return_date, last_update, row_hash, \
             rental_week, return_week, last_event_week \
         ) values ( \
             stage_rental.rental_id, \
             stage_rental.inventory_id, \
             stage_rental.rental_date, \
             stage_rental.return_date, \
             stage_rental.last_update, \
             stage_rental.row_hash, \
             stage_rental.rental_week, \
             stage_rental.return_week, \
             stage_rental.last_event_week \
         )",
    )
    .context("applying the changed and deleted rentals to rollup.raw_rental")?;
    let row = tx
        .query_one(
            "select \
                 count(*) filter (where change_kind = 'inserted'), \
                 count(*) filter (where change_kind = 'updated'), \
                 count(*) filter (where change_kind = 'deleted') \
             from rental_change",
            &[],
        )
        .context("counting the changes")?;
    let count = |i: usize| row.get::<_, i64>(i) as u64;
    Ok((count(0), count(1), count(2)))
}

/// Replaces rollup.raw_inventory and rollup.raw_film when the source's differ. Returns whether
/// a copy moved, appeared or disappeared, or a stocked film's title changed: then every row of
/// weekly_film_demand may change (copies_owned, title, the set of films).
fn apply_small_table_changes(tx: &mut Transaction<'_>) -> Result<bool> {
    let row = tx
        .query_one(
            "with \
             new_copies as ( \
                 select stage_inventory.inventory_id, stage_inventory.film_id \
                 from stage_inventory \
             ), \
             old_copies as ( \
                 select raw_inventory.inventory_id, raw_inventory.film_id \
                 from rollup.raw_inventory \
             ), \
             new_titles as ( \
                 select distinct stage_film.film_id, stage_film.title \
                 from stage_film \
                 inner join stage_inventory \
                     on stage_inventory.film_id = stage_film.film_id \
             ), \
             old_titles as ( \
                 select distinct raw_film.film_id, raw_film.title \
                 from rollup.raw_film \
                 inner join rollup.raw_inventory \
                     on raw_inventory.film_id = raw_film.film_id \
             ) \
             select \
                 exists (select * from stage_inventory except select * from rollup.raw_inventory) \
                     or exists (select * from rollup.raw_inventory except select * from stage_inventory), \
                 exists (select * from stage_film except select * from rollup.raw_film) \
                     or exists (select * from rollup.raw_film except select * from stage_film), \
                 exists (select * from new_copies except select * from old_copies) \
                     or exists (select * from old_copies except select * from new_copies) \
                     or exists (select * from new_titles except select * from old_titles) \
                     or exists (select * from old_titles except select * from new_titles)",
            &[],
        )
        .context("comparing inventory and film with the mirror")?;
    let (inventory_changed, film_changed, films_changed): (bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2));
    if inventory_changed {
        tx.batch_execute(
            "delete from rollup.raw_inventory; \
             insert into rollup.raw_inventory select * from stage_inventory",
        )
        .context("replacing rollup.raw_inventory")?;
    }
    if film_changed {
        tx.batch_execute(
            "delete from rollup.raw_film; \
             insert into rollup.raw_film select * from stage_film",
        )
        .context("replacing rollup.raw_film")?;
    }
    Ok(films_changed)
}

/// Works out the series (first and last week) and where an incremental run starts recomputing.
///
/// first_changed_week: the first week an event of a changed rental moved in or out of (old and
/// new rental and return weeks of what changed). The series starts at the first rental's week:
/// the stored first week unless a change touched it or anything before it. It ends at the latest
/// rental or return week. Recomputing starts at first_changed_week, or right after the stored last
/// week when the series grew past it (the new weeks in between have no events but must appear),
/// and never before the first week. weekly_film_demand is recomputed from the first week when the
/// films changed. (A full load recomputes everything: [`plan_from_events`].)
fn plan(tx: &mut Transaction<'_>, films_changed: bool) -> Result<Plan> {
    let row = tx
        .query_one(
            &format!(
                "with \
                 changes as ( \
                     select min(least( \
                         case when rental_change.change_kind = 'inserted' \
                             then least(rental_change.new_rental_week, rental_change.new_return_week) end, \
                         case when rental_change.change_kind = 'deleted' \
                             then least(rental_change.old_rental_week, rental_change.old_return_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_inventory_id <> rental_change.new_inventory_id \
                             then least( \
                                 rental_change.old_rental_week, rental_change.new_rental_week, \
                                 rental_change.old_return_week, rental_change.new_return_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_rental_week <> rental_change.new_rental_week \
                             then least(rental_change.old_rental_week, rental_change.new_rental_week) end, \
                         case when rental_change.change_kind = 'updated' \
                             and rental_change.old_return_week is distinct from rental_change.new_return_week \
                             then least(rental_change.old_return_week, rental_change.new_return_week) end \
                     )) as first_changed_week \
                     from rental_change \
                 ), \
                 stored_weeks as ( \
                     select \
                         min(weekly_rentals.week_beginning) as old_first_week, \
                         max(weekly_rentals.week_beginning) as old_last_week \
                     from rollup.weekly_rentals \
                 ), \
                 series as ( \
                     select \
                         changes.first_changed_week, \
                         stored_weeks.old_first_week, \
                         stored_weeks.old_last_week, \
                         case \
                             when stored_weeks.old_first_week is null \
                                 or changes.first_changed_week <= stored_weeks.old_first_week \
                                 then (select min(raw_rental.rental_week) from rollup.raw_rental) \
                             else stored_weeks.old_first_week \
                         end as first_week, \
                         (select max(raw_rental.last_event_week) from rollup.raw_rental) as last_week \
                     from changes \
                     cross join stored_weeks \
                 ), \
                 final as ( \
                     select \
                         series.first_changed_week, \
                         series.first_week, \
                         series.last_week, \
                         case \
                             when series.old_first_week is null then series.first_week \
                             when series.first_changed_week is null then null \
                             else greatest( \
                                 series.first_week, \
                                 least(series.first_changed_week, series.old_last_week + 7) \
                             ) \
                         end as from_week \
                     from series \
                 ) \
                 select \
                     to_char(final.first_changed_week, '{DATE_FORMAT}'), \
                     to_char(final.first_week, '{DATE_FORMAT}'), \
                     to_char(final.last_week, '{DATE_FORMAT}'), \
                     to_char(final.from_week, '{DATE_FORMAT}'), \
                     to_char( \
                         case when $1::boolean then final.first_week else final.from_week end, \
                         '{DATE_FORMAT}' \
                     ) \
                 from final"
            ),
            &[&films_changed],
        )
        .context("working out the weeks to recompute")?;
    Ok(Plan {
        first_changed_week: row.get(0),
        first_week: row.get(1),
        last_week: row.get(2),
        from_week: row.get(3),
        film_from_week: row.get(4),
    })
}

/// An incremental recompute starts its running totals from the stored row of the week before it.
/// If that row is missing (the tables were changed by hand), recompute from the first week.
fn check_stored_prefix(tx: &mut Transaction<'_>, plan: &mut Plan) -> Result<()> {
    let Some(first) = plan.first_week.clone() else {
        return Ok(());
    };
    if let Some(from) = plan.from_week.clone().filter(|from| *from > first) {
        let stored: bool = tx
            .query_one(
                "select exists ( \
                     select \
                     from rollup.weekly_rentals \
                     where weekly_rentals.week_beginning = $1::text::date - 7 \
                 )",
                &[&from],
            )
            .context("reading the stored week before the recompute")?
            .get(0);
        if !stored {
            tracing::warn!(
                "rollup: rollup.weekly_rentals lacks the week before {from}: recomputing every week"
            );
            plan.from_week = Some(first.clone());
        }
    }
    if let Some(from) = plan.film_from_week.clone().filter(|from| *from > first) {
        let stored: bool = tx
            .query_one(
                "select \
                     ( \
                         select count(*) \
                         from rollup.weekly_film_demand \
                         where weekly_film_demand.week_beginning = $1::text::date - 7 \
                     ) = ( \
                         select count(distinct raw_inventory.film_id) \
                         from rollup.raw_inventory \
                         inner join rollup.raw_film \
                             on raw_film.film_id = raw_inventory.film_id \
                     )",
                &[&from],
            )
            .context("reading the stored film rows of the week before the recompute")?
            .get(0);
        if !stored {
            tracing::warn!(
                "rollup: rollup.weekly_film_demand lacks film rows of the week before {from}: \
                 recomputing every week"
            );
            plan.film_from_week = Some(first);
        }
    }
    Ok(())
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

/// Number of weeks from `first` to `last`, both included.
fn weeks_between(tx: &mut Transaction<'_>, first: &str, last: &str) -> Result<u64> {
    let weeks: i32 = tx
        .query_one(
            "select greatest(($2::text::date - $1::text::date) / 7 + 1, 0)",
            &[&first, &last],
        )
        .context("counting weeks")?
        .get(0);
    Ok(weeks as u64)
}

/// `merge into rollup.<table> using (<source>)`: rows matched on `keys`; a matched row is updated
/// only when one of `values` differs (so unchanged weeks are not rewritten); a new row is inserted.
fn merge_statement(table: &str, keys: &[&str], values: &[&str], source: &str) -> String {
    let on: Vec<String> = keys
        .iter()
        .map(|k| format!("{table}.{k} = recomputed.{k}"))
        .collect();
    let target: Vec<String> = values.iter().map(|v| format!("{table}.{v}")).collect();
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
        target.join(", "),
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
    plan: &Plan,
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
fn delete_outside_series(tx: &mut Transaction<'_>, plan: &Plan, films_changed: bool) -> Result<()> {
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

fn write_state(
    tx: &mut Transaction<'_>,
    loaded: &Loaded,
    report: &RefreshReport,
    options: &RefreshOptions,
) -> Result<()> {
    let as_i64 = |n: u64| n as i64;
    tx.execute(
        "update rollup.refresh_state set \
             watermark_at = $1::text::timestamptz, \
             source_rows = $2, \
             source_id_checksum = $3, \
             last_update_max_at = greatest(last_update_max_at, $4::text::timestamptz), \
             last_run_at = clock_timestamp(), \
             last_mode = $5, \
             last_lookback_seconds = $6, \
             last_rows_read = $7, \
             last_rows_inserted = $8, \
             last_rows_updated = $9, \
             last_rows_deleted = $10, \
             last_checksum_mismatch = $11, \
             last_first_changed_week = $12::text::date, \
             last_first_recomputed_week = $13::text::date, \
             last_weeks_recomputed = $14, \
             last_film_rows_recomputed = $15",
        &[
            &report.watermark,
            &loaded.summary.rows,
            &loaded.summary.id_checksum,
            &loaded.last_update_max,
            &report.mode.name(),
            &i64::try_from(options.lookback_seconds).unwrap_or(i64::MAX),
            &as_i64(report.rows_read),
            &as_i64(report.rows_inserted),
            &as_i64(report.rows_updated),
            &as_i64(report.rows_deleted),
            &report.checksum_mismatch,
            &report.first_changed_week,
            &report.first_recomputed_week,
            &(report.weeks_recomputed as i32),
            &as_i64(report.film_rows_recomputed),
        ],
    )
    .context("writing rollup.refresh_state")?;
    Ok(())
}

/// The state row and the series, for `runner status`; `None` before the first run (or before
/// the migrations created the state table).
pub fn status(client: &mut Client) -> Result<Option<serde_json::Value>> {
    let exists: bool = client
        .query_one(
            "select to_regclass('rollup.refresh_state') is not null \
                 and to_regclass('rollup.weekly_rentals') is not null",
            &[],
        )
        .context("looking for rollup.refresh_state")?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_opt(
            &format!(
                "select \
                     to_char(refresh_state.watermark_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     refresh_state.source_rows, \
                     to_char(refresh_state.last_update_max_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     to_char(refresh_state.last_run_at at time zone 'UTC', '{TIMESTAMP_FORMAT}'), \
                     refresh_state.last_mode, \
                     refresh_state.last_lookback_seconds, \
                     refresh_state.last_rows_read, \
                     refresh_state.last_rows_inserted, \
                     refresh_state.last_rows_updated, \
                     refresh_state.last_rows_deleted, \
                     refresh_state.last_checksum_mismatch, \
                     to_char(refresh_state.last_first_changed_week, '{DATE_FORMAT}'), \
                     to_char(refresh_state.last_first_recomputed_week, '{DATE_FORMAT}'), \
                     refresh_state.last_weeks_recomputed, \
                     refresh_state.last_film_rows_recomputed, \
                     to_char(series.first_week, '{DATE_FORMAT}'), \
                     to_char(series.last_week, '{DATE_FORMAT}'), \
                     series.weeks \
                 from rollup.refresh_state \
                 cross join ( \
                     select \
                         min(weekly_rentals.week_beginning) as first_week, \
                         max(weekly_rentals.week_beginning) as last_week, \
                         count(*) as weeks \
                     from rollup.weekly_rentals \
                 ) as series \
                 where refresh_state.watermark_at is not null"
            ),
            &[],
        )
        .context("reading rollup.refresh_state")?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(serde_json::json!({
        "watermark": row.get::<_, Option<String>>(0),
        "source_rows": row.get::<_, i64>(1),
        "last_update_max": row.get::<_, Option<String>>(2),
        "last_run": {
            "finished_at": row.get::<_, Option<String>>(3),
            "mode": row.get::<_, Option<String>>(4),
            "lookback_seconds": row.get::<_, Option<i64>>(5),
            "rows_read": row.get::<_, Option<i64>>(6),
            "rows_inserted": row.get::<_, Option<i64>>(7),
            "rows_updated": row.get::<_, Option<i64>>(8),
            "rows_deleted": row.get::<_, Option<i64>>(9),
            "checksum_mismatch": row.get::<_, Option<bool>>(10),
            "first_changed_week": row.get::<_, Option<String>>(11),
            "first_recomputed_week": row.get::<_, Option<String>>(12),
            "weeks_recomputed": row.get::<_, Option<i32>>(13),
            "film_rows_recomputed": row.get::<_, Option<i64>>(14),
        },
        "series": {
            "first_week": row.get::<_, Option<String>>(15),
            "last_week": row.get::<_, Option<String>>(16),
            "weeks": row.get::<_, i64>(17),
        },
    })))
}
