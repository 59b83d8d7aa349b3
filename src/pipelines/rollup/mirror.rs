//! The mirror (`rollup.raw_rental`, `raw_inventory`, `raw_film`) and an incremental run's changes
//! to it, in the run's one transaction: stage the rentals changed since the watermark minus the
//! lookback, check the count and id checksum against the source, compare the id sets and row
//! hashes when they disagree (deletes, and changes the window missed), then apply the staged
//! changes to the mirror, recording each in the temporary table rental_change for the plan.

use anyhow::{Context, Result, bail};
use postgres::{Client, Transaction};

use super::report::timed;
use super::source::{
    FILM_SELECT, INVENTORY_SELECT, Snapshot, Summary, TIMESTAMP_FORMAT, rental_hash_select,
    summary_in_snapshot,
};
use super::state::State;
use super::stream::RentalStream;

/// Above this many rentals to fetch by id after an id-set comparison, copy the whole table instead.
const MAX_FETCH_BY_ID: usize = 100_000;

/// What the load step found, for the merge step and the report.
pub struct Loaded {
    pub read_since: Option<String>,
    /// The greatest last_update read (a full load's; an incremental run takes the staged rows').
    pub last_update_max: Option<String>,
    pub rows_read: u64,
    pub checksum_mismatch: bool,
    /// The source (= the mirror, once the changes are applied) at the snapshot.
    pub summary: Summary,
    /// A full load's series (first and last week), its events already in
    /// rollup.int_weekly_events; None without rentals (and for an incremental run).
    pub full_series: Option<(String, String)>,
}

/// An incremental load: stage the rentals changed since the watermark minus the lookback, check
/// count and checksum, compare the id sets when they disagree, and stage inventory and film.
/// The mirror itself changes later, in [`apply_rental_changes`] and
/// [`apply_small_table_changes`].
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
pub fn copy_small_tables(
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

/// Fills rental_change from the staged rows and deletes, then applies them to rollup.raw_rental.
/// Returns (inserted, updated, deleted); a staged row whose dates and copy are unchanged (read
/// again through the lookback, or only last_update moved) counts in none of them.
pub fn apply_rental_changes(tx: &mut Transaction<'_>) -> Result<(u64, u64, u64)> {
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
pub fn apply_small_table_changes(tx: &mut Transaction<'_>) -> Result<bool> {
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
