//! A full load (the first run, or `--full-refresh`): empty the mirror, copy every rental,
//! inventory copy and film into it, and store the weekly events of every rental in
//! rollup.int_weekly_events on the way (stream.rs tallies them while the rentals pass, as the
//! model int_weekly_events counts them), so a full load makes no second pass over millions of
//! rentals. The weekly tables are computed from those events by their models ([`super::merge`]).

use anyhow::{Context, Result, bail};
use postgres::Transaction;

use super::indexes::{drop_indexes, rebuild_indexes};
use super::mirror::{Loaded, copy_small_tables};
use super::report::timed;
use super::source::{Snapshot, Summary, TIMESTAMP_FORMAT};
use super::stream::{RentalStream, format_week};

/// A full load: empty the mirror and copy every row of the three tables into it, and replace
/// rollup.int_weekly_events with the events tallied on the way.
pub fn load_full(snapshot: &mut Snapshot<'_>, tx: &mut Transaction<'_>) -> Result<Loaded> {
    tx.batch_execute(
        "truncate rollup.raw_rental, rollup.raw_inventory, rollup.raw_film, \
             rollup.int_weekly_events, rollup.int_weekly_store_events, rollup.mirror_blocks",
    )
    .context("emptying the mirror (rollup.raw_rental, raw_inventory, raw_film) and the events")?;
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
    timed(
        "stored the mirror's block sums in rollup.mirror_blocks",
        || store_blocks(tx, &tally),
    )?;
    let full_series = match tally.series() {
        Some((first, last)) => {
            timed(
                "stored the tallied events in rollup.int_weekly_events",
                || store_events(tx, &tally, first, last),
            )?;
            Some((format_week(first)?, format_week(last)?))
        }
        None => None,
    };
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
             analyze rollup.int_weekly_events",
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
        blocks_compared: 0,
        summary: Summary {
            rows: tally.rows,
            id_checksum: tally.id_checksum,
        },
        full_series,
    })
}

/// Stores the block sums the stream tallied (the mirror's, since it holds exactly the rows copied).
fn store_blocks(tx: &mut Transaction<'_>, tally: &RentalStream) -> Result<()> {
    let mut blocks: Vec<(&i32, &(i64, i64, i64))> = tally.blocks.iter().collect();
    blocks.sort();
    let ids: Vec<i32> = blocks.iter().map(|(b, _)| **b).collect();
    let rentals: Vec<i64> = blocks.iter().map(|(_, s)| s.0).collect();
    let id_sums: Vec<i64> = blocks.iter().map(|(_, s)| s.1).collect();
    let content_sums: Vec<i64> = blocks.iter().map(|(_, s)| s.2).collect();
    tx.execute(
        "insert into rollup.mirror_blocks (block, rentals, id_checksum, content_checksum) \
         select * from unnest($1::integer[], $2::bigint[], $3::bigint[], $4::bigint[])",
        &[&ids, &rentals, &id_sums, &content_sums],
    )
    .context("storing rollup.mirror_blocks")?;
    Ok(())
}

/// Copies the tallied events of the series' weeks into the emptied rollup.int_weekly_events
/// (its index built afterwards).
fn store_events(
    tx: &mut Transaction<'_>,
    tally: &RentalStream,
    first: i32,
    last: i32,
) -> Result<()> {
    let indexes = drop_indexes(tx, "rollup.int_weekly_events")?;
    let rows = tally.weekly_events_copy(first, last);
    let mut writer = tx
        .copy_in(
            "copy rollup.int_weekly_events (film_id, week_beginning, rentals_started, \
             rentals_returned, returned_in_order, returned_out_of_order) \
             from stdin (format binary, freeze)",
        )
        .context("storing rollup.int_weekly_events")?;
    std::io::Write::write_all(&mut writer, &rows).context("storing rollup.int_weekly_events")?;
    writer
        .finish()
        .context("storing rollup.int_weekly_events")?;
    rebuild_indexes(tx, "rollup.int_weekly_events", &indexes)
}
