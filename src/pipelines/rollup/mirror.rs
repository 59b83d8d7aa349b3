//! The mirror (`rollup.raw_rental`, `raw_inventory`, `raw_film`) and an incremental run's changes
//! to it, in the run's one transaction: stage the rentals changed since the watermark minus the
//! lookback; compare, block of 256 ids by block, the source's count, id hashes and row hashes with
//! the mirror's (kept in rollup.mirror_blocks) once the staged rows are counted in; compare the
//! rows of the blocks that differ (deletes, and changes the window missed: an update that kept
//! an old last_update), staging what differs; then apply the staged changes to the mirror and its
//! block sums, recording each change in the temporary table rental_change for the plan.

use anyhow::{Context, Result, bail};
use postgres::Transaction;

use super::report::timed;
use super::source::{
    Block, FILM_SELECT, INVENTORY_SELECT, Snapshot, Summary, TIMESTAMP_FORMAT, block_rows_select,
};
use super::stream::{BLOCK_BITS, RentalStream};

/// Above this many rentals to fetch by id (changed, or differing after a block comparison), scan
/// the table instead.
const MAX_FETCH_BY_ID: usize = 100_000;

/// What the load step found, for the merge step and the report.
pub struct Loaded {
    pub read_since: Option<String>,
    /// The greatest last_update read (a full load's; an incremental run takes the staged rows').
    pub last_update_max: Option<String>,
    pub rows_read: u64,
    /// Blocks whose sums differed from the mirror's, so their rows were compared.
    pub blocks_compared: u64,
    /// The source (= the mirror, once the changes are applied) at the snapshot.
    pub summary: Summary,
    /// A full load's series (first and last week), its events already in
    /// rollup.int_weekly_events; None without rentals (and for an incremental run).
    pub full_series: Option<(String, String)>,
}

/// An incremental load: stage the rentals changed since the watermark minus the lookback, compare
/// the source's blocks with the mirror's, compare the rows of those that differ, and stage
/// inventory and film. The mirror itself changes later, in [`apply_rental_changes`] and
/// [`apply_small_table_changes`].
pub fn load_changes(
    snapshot: &mut Snapshot<'_>,
    tx: &mut Transaction<'_>,
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
    // The rentals staged next to the mirror go into the schema's unlogged staging tables (on
    // Citus co-located with the mirror: V5__citus_ready.sql); the rest into temporary tables.
    tx.batch_execute(
        "truncate rollup.stage_rental, rollup.stage_deleted, rollup.source_rental_hash; \
         create temporary table stage_inventory (like rollup.raw_inventory) on commit drop; \
         create temporary table stage_film (like rollup.raw_film) on commit drop; \
         create temporary table source_blocks (like rollup.mirror_blocks) on commit drop",
    )
    .context("creating the staging tables")?;
    // One scan of the source sums its blocks and counts their rentals changed since read_since;
    // those are then copied from the blocks that have any, through the primary key (or, when
    // that would read more than a scan, by a second scan for last_update).
    let blocks = timed(
        "summed the source's blocks and counted the changed rentals",
        || snapshot.blocks(&read_since),
    )?;
    let changed: Vec<i32> = blocks
        .iter()
        .filter(|b| b.changed > 0)
        .map(|b| b.block)
        .collect();
    let since = format!("rental.last_update >= '{read_since}'::timestamptz");
    let filter = if changed.len() > MAX_FETCH_BY_ID >> BLOCK_BITS {
        format!("where {since}")
    } else {
        format!("{} and {since}", in_blocks(&changed))
    };
    let mut rows_read = if changed.is_empty() {
        0
    } else {
        timed("copied the changed rentals", || {
            snapshot.copy_rentals(
                &filter,
                tx,
                "rollup.stage_rental",
                "",
                &mut RentalStream::new(None),
            )
        })?
    };
    tx.batch_execute("analyze rollup.stage_rental")
        .context("analyzing rollup.stage_rental")?;
    store_source_blocks(tx, &blocks)?;
    let differing = timed("compared the source's blocks with the mirror's", || {
        differing_blocks(tx)
    })?;
    if !differing.is_empty() {
        tracing::info!(
            "rollup: {} blocks of 256 rental ids differ from the mirror beyond the changes read: \
             comparing their rows",
            differing.len()
        );
        rows_read += timed("compared the rows of the differing blocks", || {
            compare_blocks(snapshot, tx, &differing)
        })?;
        let still = differing_blocks(tx)?;
        if !still.is_empty() {
            bail!(
                "the mirror still differs from the source in {} blocks of rental ids (the first \
                 from id {}) after comparing their rows; nothing was changed",
                still.len(),
                i64::from(still[0]) << BLOCK_BITS
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
                 from rollup.stage_rental"
            ),
            &[],
        )
        .context("reading the latest last_update staged")?
        .get(0);
    Ok(Loaded {
        read_since: Some(read_since),
        last_update_max,
        rows_read,
        blocks_compared: differing.len() as u64,
        summary: Summary::of(&blocks),
        full_series: None,
    })
}

/// Puts the source's block sums into the temporary table source_blocks.
fn store_source_blocks(tx: &mut Transaction<'_>, blocks: &[Block]) -> Result<()> {
    let column = |f: fn(&Block) -> i64| blocks.iter().map(f).collect::<Vec<i64>>();
    let ids: Vec<i32> = blocks.iter().map(|b| b.block).collect();
    tx.execute(
        "insert into source_blocks (block, rentals, id_checksum, content_checksum) \
         select * from unnest($1::integer[], $2::bigint[], $3::bigint[], $4::bigint[])",
        &[
            &ids,
            &column(|b| b.rentals),
            &column(|b| b.id_checksum),
            &column(|b| b.content_checksum),
        ],
    )
    .context("storing the source's block sums")?;
    tx.batch_execute("analyze source_blocks")
        .context("analyzing source_blocks")?;
    Ok(())
}

/// The blocks whose sums in the source differ from the mirror's with the staged rows and deletes
/// counted in (a staged row replaces the mirror's row of its id; a staged delete removes it).
fn differing_blocks(tx: &mut Transaction<'_>) -> Result<Vec<i32>> {
    let rows = tx
        .query(
            &format!(
                "with \
                 staged as ( \
                     select \
                         stage_rental.rental_id >> {BLOCK_BITS} as block, \
                         count(*) filter (where raw_rental.rental_id is null) as rentals, \
                         coalesce(sum(hashint4(stage_rental.rental_id)) \
                             filter (where raw_rental.rental_id is null), 0) as id_checksum, \
                         sum(stage_rental.row_hash::bigint - coalesce(raw_rental.row_hash, 0)::bigint) \
                             as content_checksum \
                     from rollup.stage_rental \
                     left join rollup.raw_rental \
                         on raw_rental.rental_id = stage_rental.rental_id \
                     group by 1 \
                 ), \
                 deleted as ( \
                     select \
                         raw_rental.rental_id >> {BLOCK_BITS} as block, \
                         -count(*) as rentals, \
                         -sum(hashint4(raw_rental.rental_id)) as id_checksum, \
                         -sum(raw_rental.row_hash::bigint) as content_checksum \
                     from rollup.stage_deleted \
                     inner join rollup.raw_rental \
                         on raw_rental.rental_id = stage_deleted.rental_id \
                     group by 1 \
                 ), \
                 expected as ( \
                     select \
                         sums.block, \
                         sum(sums.rentals) as rentals, \
                         sum(sums.id_checksum) as id_checksum, \
                         sum(sums.content_checksum) as content_checksum \
                     from ( \
                         select \
                             mirror_blocks.block, \
                             mirror_blocks.rentals::numeric as rentals, \
                             mirror_blocks.id_checksum::numeric as id_checksum, \
                             mirror_blocks.content_checksum::numeric as content_checksum \
                         from rollup.mirror_blocks \
                         union all \
                         select staged.block, staged.rentals, staged.id_checksum, staged.content_checksum \
                         from staged \
                         union all \
                         select deleted.block, deleted.rentals, deleted.id_checksum, deleted.content_checksum \
                         from deleted \
                     ) as sums \
                     group by sums.block \
                 ) \
                 select coalesce(expected.block, source_blocks.block) \
                 from expected \
                 full join source_blocks \
                     on source_blocks.block = expected.block \
                 where (coalesce(expected.rentals, 0), \
                        coalesce(expected.id_checksum, 0), \
                        coalesce(expected.content_checksum, 0)) \
                     is distinct from \
                       (coalesce(source_blocks.rentals, 0), \
                        coalesce(source_blocks.id_checksum, 0), \
                        coalesce(source_blocks.content_checksum, 0)) \
                 order by 1"
            ),
            &[],
        )
        .context("comparing the source's block sums with the mirror's")?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Copies the ids and row hashes of the source's rentals in `blocks`, marks the mirror's rentals
/// of those blocks the source no longer has as deleted, and stages the rentals the mirror lacks
/// or holds differently. Returns the rentals staged.
fn compare_blocks(
    snapshot: &mut Snapshot<'_>,
    tx: &mut Transaction<'_>,
    blocks: &[i32],
) -> Result<u64> {
    tx.batch_execute(
        "create temporary table compared_blocks (block integer primary key) on commit drop",
    )
    .context("creating compared_blocks")?;
    tx.execute(
        "insert into compared_blocks select unnest($1::integer[])",
        &[&blocks],
    )
    .context("listing the blocks compared")?;
    snapshot.copy_into(
        &block_rows_select(blocks),
        tx,
        "copy rollup.source_rental_hash (rental_id, row_hash) from stdin (format binary)",
        "copying the ids and row hashes of the differing blocks into rollup.source_rental_hash",
    )?;
    tx.batch_execute(&format!(
        "analyze rollup.source_rental_hash; \
         insert into rollup.stage_deleted (rental_id) \
         select raw_rental.rental_id \
         from compared_blocks \
         inner join rollup.raw_rental \
             on raw_rental.rental_id >= (compared_blocks.block::bigint << {BLOCK_BITS}) \
             and raw_rental.rental_id < ((compared_blocks.block::bigint + 1) << {BLOCK_BITS}) \
         where not exists ( \
             select \
             from rollup.source_rental_hash \
             where source_rental_hash.rental_id = raw_rental.rental_id \
         ) \
         on conflict do nothing"
    ))
    .context("finding the rentals deleted at the source")?;
    let missing: Vec<i32> = tx
        .query(
            "select source_rental_hash.rental_id \
             from rollup.source_rental_hash \
             left join rollup.raw_rental \
                 on raw_rental.rental_id = source_rental_hash.rental_id \
             left join rollup.stage_rental \
                 on stage_rental.rental_id = source_rental_hash.rental_id \
             where coalesce(stage_rental.row_hash, raw_rental.row_hash) is distinct from \
                 source_rental_hash.row_hash \
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
        tx.batch_execute("truncate rollup.stage_rental")
            .context("emptying rollup.stage_rental")?;
        String::new()
    } else {
        by_id(&missing)
    };
    // a staged row of the window that the comparison copies again is replaced
    tx.execute(
        "delete from rollup.stage_rental where stage_rental.rental_id = any($1::integer[])",
        &[&missing],
    )
    .context("making room in rollup.stage_rental")?;
    let rows = snapshot.copy_rentals(
        &filter,
        tx,
        "rollup.stage_rental",
        "",
        &mut RentalStream::new(None),
    )?;
    tx.batch_execute("analyze rollup.stage_rental")
        .context("analyzing rollup.stage_rental")?;
    Ok(rows)
}

/// A `where` clause for the rentals of these blocks of ids, each a range of the primary key
/// (COPY takes no parameters; integers only).
fn in_blocks(blocks: &[i32]) -> String {
    let ranges: Vec<String> = blocks
        .iter()
        .map(|b| {
            let first = i64::from(*b) << BLOCK_BITS;
            format!(
                "rental.rental_id between {first} and {}",
                first + (1 << BLOCK_BITS) - 1
            )
        })
        .collect();
    format!("where ({})", ranges.join(" or "))
}

/// A `where` clause for the rentals of these ids (COPY takes no parameters; integers only).
fn by_id(ids: &[i32]) -> String {
    let list: Vec<String> = ids.iter().map(i32::to_string).collect();
    format!(
        "where rental.rental_id = any('{{{}}}'::integer[])",
        list.join(",")
    )
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
         from rollup.stage_rental \
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
         from rollup.stage_deleted \
         inner join rollup.raw_rental \
             on raw_rental.rental_id = stage_deleted.rental_id; \
         delete from rollup.raw_rental \
         using rollup.stage_deleted \
         where raw_rental.rental_id = stage_deleted.rental_id; \
         merge into rollup.raw_rental \
         using rollup.stage_rental \
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
    update_blocks(tx)?;
    Ok((count(0), count(1), count(2)))
}

/// Recomputes rollup.mirror_blocks for the blocks the run's changes touched, from the mirror's
/// rows, then checks that every block now equals the source's: the mirror holds exactly the
/// source's rentals at the snapshot, or the run stops before anything is committed.
fn update_blocks(tx: &mut Transaction<'_>) -> Result<()> {
    tx.batch_execute(&format!(
        "create temporary table touched_blocks on commit drop as \
             select distinct rental_change.rental_id >> {BLOCK_BITS} as block \
             from rental_change; \
         delete from rollup.mirror_blocks \
         using touched_blocks \
         where mirror_blocks.block = touched_blocks.block; \
         insert into rollup.mirror_blocks (block, rentals, id_checksum, content_checksum) \
         select \
             touched_blocks.block, \
             count(*), \
             sum(hashint4(raw_rental.rental_id)), \
             sum(raw_rental.row_hash::bigint) \
         from touched_blocks \
         inner join rollup.raw_rental \
             on raw_rental.rental_id >= (touched_blocks.block::bigint << {BLOCK_BITS}) \
             and raw_rental.rental_id < ((touched_blocks.block::bigint + 1) << {BLOCK_BITS}) \
         group by touched_blocks.block"
    ))
    .context("updating rollup.mirror_blocks for the blocks changed")?;
    let differing: i64 = tx
        .query_one(
            "select count(*) \
             from rollup.mirror_blocks \
             full join source_blocks \
                 on source_blocks.block = mirror_blocks.block \
             where (mirror_blocks.block, mirror_blocks.rentals, mirror_blocks.id_checksum, \
                    mirror_blocks.content_checksum) \
                 is distinct from \
                   (source_blocks.block, source_blocks.rentals, source_blocks.id_checksum, \
                    source_blocks.content_checksum)",
            &[],
        )
        .context("comparing rollup.mirror_blocks with the source's blocks")?
        .get(0);
    if differing > 0 {
        bail!(
            "after applying the changes, {differing} blocks of rental ids in rollup.raw_rental \
             differ from the source's; nothing was changed (run `runner migrate rollup \
             --full-refresh` to copy the source again)"
        );
    }
    Ok(())
}

/// What changed in the small tables, and so which weekly tables a run recomputes from the first week.
pub struct SmallTables {
    /// A copy moved to another film, appeared or disappeared, or a stocked film's title changed:
    /// every row of weekly_film_demand may change (copies_owned, title, the set of films).
    pub films_changed: bool,
    /// Anything in rollup.raw_inventory or rollup.raw_film changed (a copy's store, a film's
    /// price too): every row of the per-store tables may change.
    pub changed: bool,
}

/// Replaces rollup.raw_inventory and rollup.raw_film when the source's differ, and says what
/// changed.
pub fn apply_small_table_changes(tx: &mut Transaction<'_>) -> Result<SmallTables> {
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
    Ok(SmallTables {
        films_changed,
        changed: inventory_changed || film_changed,
    })
}
