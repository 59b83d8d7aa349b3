//! Reads from the Pagila source. One REPEATABLE READ, READ ONLY transaction per run, so the rows
//! copied, the block sums and the rows compared all describe the same moment. SELECT on rental,
//! inventory and film is all it needs: no temporary table, no function is created there; rows
//! leave with binary `COPY (select ...) TO STDOUT` into a `COPY ... FROM STDIN` of the rollup
//! database, rentals through stream.rs, which adds their weeks.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use postgres::{Client, IsolationLevel, Transaction};

use super::stream::{BLOCK_BITS, RentalStream};

/// The rental columns as the mirror stores them, in `COPY` order: rental_select's, then the
/// weeks [`RentalStream`] adds.
pub const RENTAL_COLUMNS: &str = "rental_id, inventory_id, rental_date, return_date, last_update, \
     row_hash, rental_week, return_week, last_event_week";

/// The per-row content hash the mirror stores, computed by the source server only, so it never
/// has to agree with another server's hash functions: summed per block of ids and compared with
/// the mirror's each run, it finds the rentals changed without a new last_update. hash_record
/// hashes each field with its type's hash function: no text, no time zone.
const ROW_HASH: &str = "hash_record(row(\
    rental.rental_id::integer, \
    rental.rental_date::timestamptz, \
    rental.return_date::timestamptz, \
    rental.inventory_id::integer))";

/// The per-row part of the id checksum; the rollup database computes the same (hashint4 is
/// PostgreSQL's integer hash, the one hash partitioning relies on, stable across versions).
const ID_HASH: &str = "hashint4(rental.rental_id::integer)";

/// Rentals that fit a `where` clause (empty: all): the mirror's columns but the weeks, which
/// [`RentalStream`] adds on the way.
pub fn rental_select(filter: &str) -> String {
    format!(
        "select \
             rental.rental_id::integer, \
             rental.inventory_id::integer, \
             rental.rental_date::timestamptz, \
             rental.return_date::timestamptz, \
             rental.last_update::timestamptz, \
             {ROW_HASH} as row_hash \
         from public.rental {filter}"
    )
}

pub const INVENTORY_SELECT: &str = "select \
        inventory.inventory_id::integer, \
        inventory.film_id::integer, \
        inventory.store_id::integer \
    from public.inventory";

pub const FILM_SELECT: &str = "select \
        film.film_id::integer, \
        film.title::text, \
        film.rental_duration::smallint, \
        film.rental_rate::numeric(4, 2), \
        film.replacement_cost::numeric(5, 2) \
    from public.film";

/// Count and id checksum (sum of hashint4(rental_id)) of the whole rental table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rows: i64,
    pub id_checksum: i64,
}

/// What a block of rental ids (`rental_id >> BLOCK_BITS`) holds: how many rentals, the sum of
/// their id hashes, the sum of their row hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub block: i32,
    pub rentals: i64,
    pub id_checksum: i64,
    pub content_checksum: i64,
    /// Its rentals with a last_update at or after the run's read_since.
    pub changed: i64,
}

impl Summary {
    /// The whole table's count and id checksum, from its blocks.
    pub fn of(blocks: &[Block]) -> Self {
        Self {
            rows: blocks.iter().map(|b| b.rentals).sum(),
            id_checksum: blocks
                .iter()
                .fold(0i64, |sum, b| sum.wrapping_add(b.id_checksum)),
        }
    }
}

/// `to_char` format of every timestamp the runner passes around: ISO 8601 in UTC, which
/// PostgreSQL reads back whatever the session's DateStyle and TimeZone.
pub const TIMESTAMP_FORMAT: &str = "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"";

/// Every block of the rental table with its sums, and how many of its rentals have
/// `last_update >= changed_since`: one scan of the table gives both. (No `order by`, no
/// per-block arrays: the planner cannot estimate the number of blocks and would sort 5 million
/// rows, or spill a hash table, to produce them.)
fn blocks(tx: &mut Transaction<'_>, changed_since: &str) -> Result<Vec<Block>> {
    // ID_HASH, ROW_HASH and the query below name the table rental; keep them together. The
    // time is a literal (the caller checked its characters), folded once when the query is
    // planned: a parameter cast from text, or a join to it, would cost per row.
    if !changed_since
        .bytes()
        .all(|b| b.is_ascii_digit() || b"-:.TZ".contains(&b))
    {
        bail!("unexpected timestamp text {changed_since:?}");
    }
    let rows = tx
        .query(
            &format!(
                "select \
                     rental.rental_id::integer >> {BLOCK_BITS}, \
                     count(*), \
                     sum({ID_HASH})::bigint, \
                     sum({ROW_HASH}::bigint)::bigint, \
                     count(*) filter (where rental.last_update >= '{changed_since}'::timestamptz) \
                 from public.rental \
                 group by 1"
            ),
            &[],
        )
        .context(
            "summing the source's rentals per block of ids (count, id and row hashes) and \
             counting those changed",
        )?;
    let mut blocks: Vec<Block> = rows
        .iter()
        .map(|row| Block {
            block: row.get(0),
            rentals: row.get(1),
            id_checksum: row.get(2),
            content_checksum: row.get(3),
            changed: row.get(4),
        })
        .collect();
    blocks.sort_by_key(|b| b.block);
    Ok(blocks)
}

/// The ids and row hashes of the source's rentals in `blocks`: what the rows of the blocks whose
/// sums differ are compared with.
pub fn block_rows_select(blocks: &[i32]) -> String {
    let list: Vec<String> = blocks.iter().map(i32::to_string).collect();
    format!(
        "select rental.rental_id::integer, {ROW_HASH} as row_hash \
         from unnest('{{{}}}'::integer[]) as compared (block) \
         inner join public.rental \
             on rental.rental_id >= (compared.block::bigint << {BLOCK_BITS}) \
             and rental.rental_id < ((compared.block::bigint + 1) << {BLOCK_BITS})",
        list.join(",")
    )
}

/// A consistent, read-only view of the source for one run.
pub struct Snapshot<'a> {
    tx: Transaction<'a>,
    /// The source's clock when the snapshot began (`now()`): the next run's watermark.
    pub taken_at: String,
}

impl<'a> Snapshot<'a> {
    pub fn begin(client: &'a mut Client) -> Result<Self> {
        let version: i32 = client
            .query_one("select current_setting('server_version_num')::integer", &[])
            .context("reading the source's server version")?
            .get(0);
        if version < 140000 {
            bail!(
                "the Pagila source runs PostgreSQL {}.{}: the rollup needs 14 or later (hash_record)",
                version / 10000,
                version % 10000 / 100
            );
        }
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .context("starting a read-only snapshot of the source")?;
        // Big scans are faster without JIT compilation; SET LOCAL needs no privilege.
        tx.batch_execute("set local jit = off")
            .context("setting jit = off at the source")?;
        // The first query fixes the snapshot; now() is the transaction's start, just before it.
        let row = tx
            .query_one(
                &format!("select to_char(now() at time zone 'UTC', '{TIMESTAMP_FORMAT}')"),
                &[],
            )
            .context("reading the source's clock")?;
        Ok(Self {
            tx,
            taken_at: row.get(0),
        })
    }

    /// The sums of every block of rental ids and how many of its rentals changed since
    /// `changed_since` (one scan of the rental table).
    pub fn blocks(&mut self, changed_since: &str) -> Result<Vec<Block>> {
        blocks(&mut self.tx, changed_since)
    }

    /// Streams `select` out of the source with binary COPY into `copy_in` (a `COPY ... FROM
    /// STDIN (format binary)` of the rollup database). The two column lists must have the same
    /// types in the same order. Returns the rows copied.
    pub fn copy_into(
        &mut self,
        select: &str,
        rollup: &mut Transaction<'_>,
        copy_in: &str,
        what: &str,
    ) -> Result<u64> {
        let mut reader = self
            .tx
            .copy_out(&format!("copy ({select}) to stdout (format binary)"))
            .with_context(|| format!("{what}: reading the source"))?;
        let mut writer = rollup
            .copy_in(copy_in)
            .with_context(|| format!("{what}: writing the rollup database"))?;
        loop {
            let chunk = reader
                .fill_buf()
                .with_context(|| format!("{what}: reading the source"))?;
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len();
            writer
                .write_all(chunk)
                .with_context(|| format!("{what}: writing the rollup database"))?;
            reader.consume(n);
        }
        drop(reader);
        writer
            .finish()
            .with_context(|| format!("{what}: writing the rollup database"))
    }

    /// Copies the rentals that fit `filter` (empty: all) into `table` of the rollup database
    /// (the mirror's columns, RENTAL_COLUMNS), through `stream`, which adds the weeks and counts.
    /// `options` are the COPY options after `format binary` (e.g. `, freeze`).
    pub fn copy_rentals(
        &mut self,
        filter: &str,
        rollup: &mut Transaction<'_>,
        table: &str,
        options: &str,
        stream: &mut RentalStream,
    ) -> Result<u64> {
        let what = format!("copying rentals into {table}");
        let mut reader = self
            .tx
            .copy_out(&format!(
                "copy ({}) to stdout (format binary)",
                rental_select(filter)
            ))
            .with_context(|| format!("{what}: reading the source"))?;
        let mut writer = rollup
            .copy_in(&format!(
                "copy {table} ({RENTAL_COLUMNS}) from stdin (format binary{options})"
            ))
            .with_context(|| format!("{what}: writing the rollup database"))?;
        let mut out = Vec::with_capacity(1 << 17);
        loop {
            let chunk = reader
                .fill_buf()
                .with_context(|| format!("{what}: reading the source"))?;
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len();
            stream.feed(chunk, &mut out).with_context(|| what.clone())?;
            reader.consume(n);
            if out.len() >= 1 << 16 {
                writer
                    .write_all(&out)
                    .with_context(|| format!("{what}: writing the rollup database"))?;
                out.clear();
            }
        }
        drop(reader);
        stream.finish().with_context(|| what.clone())?;
        writer
            .write_all(&out)
            .with_context(|| format!("{what}: writing the rollup database"))?;
        writer
            .finish()
            .with_context(|| format!("{what}: writing the rollup database"))
    }

    /// inventory_id -> film_id of every inventory copy.
    pub fn film_of_copy(&mut self) -> Result<std::collections::HashMap<i32, i32>> {
        Ok(self
            .tx
            .query(INVENTORY_SELECT, &[])
            .context("reading the source's inventory")?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    /// Ends the read-only transaction.
    pub fn finish(self) -> Result<()> {
        self.tx
            .commit()
            .context("ending the snapshot of the source")
    }
}
