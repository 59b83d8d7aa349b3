//! A full load (the first run, or `--full-refresh`): empty the mirror, copy every rental, copy and
//! film into it, and compute every row of both weekly tables on the way (stream.rs tallies the
//! events while the rentals pass), so a full load makes no second pass over millions of rentals.

use anyhow::{Context, Result, bail};
use postgres::Transaction;

use super::indexes::{drop_indexes, rebuild_indexes};
use super::mirror::{Loaded, copy_small_tables};
use super::report::timed;
use super::source::{Snapshot, Summary, TIMESTAMP_FORMAT};
use super::stream::{Film, RentalStream, format_week};

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
