//! Reads from the Pagila source. One REPEATABLE READ, READ ONLY transaction per run, so the rows
//! copied, the count and checksum of the rental table and its id set all describe the same
//! moment. SELECT on rental, inventory and film is all it needs: no temporary table, no function
//! is created there; rows leave with binary `COPY (select ...) TO STDOUT` straight into a
//! `COPY ... FROM STDIN` of the rollup database, and nothing is parsed on the way.

use std::io::{BufRead, Write};

use anyhow::{Context, Result, bail};
use postgres::{Client, IsolationLevel, Transaction};

/// The rental columns as the mirror stores them, in `COPY` order.
pub const RENTAL_COLUMNS: &str =
    "rental_id, rental_date, return_date, inventory_id, last_update, row_hash";

/// The per-row hash both sides of the checksum use, computed by the source server only (the
/// mirror stores it), so it never has to agree with another server's hash functions.
/// hash_record hashes each field with its type's hash function: no text, no time zone.
const ROW_HASH: &str = "hash_record(row(\
    rental.rental_id::integer, \
    rental.rental_date::timestamptz, \
    rental.return_date::timestamptz, \
    rental.inventory_id::integer))";

/// Rentals that fit a `where` clause (empty: all), as the mirror's columns.
pub fn rental_select(filter: &str) -> String {
    format!(
        "select \
             rental.rental_id::integer, \
             rental.rental_date::timestamptz, \
             rental.return_date::timestamptz, \
             rental.inventory_id::integer, \
             rental.last_update::timestamptz, \
             {ROW_HASH} as row_hash \
         from public.rental {filter}"
    )
}

/// Every rental's id and row hash: the id sets compared when the checksum disagrees.
pub fn rental_hash_select() -> String {
    format!("select rental.rental_id::integer, {ROW_HASH} as row_hash from public.rental")
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

/// Count, checksum and latest `last_update` of the whole rental table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rows: i64,
    pub hash_sum: i64,
    pub last_update_max: Option<String>,
}

/// `to_char` format of every timestamp the runner passes around: ISO 8601 in UTC, which
/// PostgreSQL reads back whatever the session's DateStyle and TimeZone.
pub const TIMESTAMP_FORMAT: &str = "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"";

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
        let taken_at: String = tx
            .query_one(
                &format!("select to_char(now() at time zone 'UTC', '{TIMESTAMP_FORMAT}')"),
                &[],
            )
            .context("reading the source's clock")?
            .get(0);
        Ok(Self { tx, taken_at })
    }

    /// Count, checksum and latest `last_update` of the source's rental table (one scan).
    pub fn summary(&mut self) -> Result<Summary> {
        let row = self
            .tx
            .query_one(
                &format!(
                    "select \
                         count(*), \
                         coalesce(sum({ROW_HASH}), 0)::bigint, \
                         to_char(max(rental.last_update) at time zone 'UTC', '{TIMESTAMP_FORMAT}') \
                     from public.rental"
                ),
                &[],
            )
            .context("counting and checksumming the source's rental table")?;
        Ok(Summary {
            rows: row.get(0),
            hash_sum: row.get(1),
            last_update_max: row.get(2),
        })
    }

    /// Streams `select` out of the source with binary COPY into `copy_in` (a `COPY ... FROM
    /// STDIN (format binary)` of the rollup database). The two column lists must have the same
    /// types in the same order. Returns the rows copied.
    pub fn copy_into(
        &mut self,
        select: &str,
        target: &mut Transaction<'_>,
        copy_in: &str,
        what: &str,
    ) -> Result<u64> {
        let mut reader = self
            .tx
            .copy_out(&format!("copy ({select}) to stdout (format binary)"))
            .with_context(|| format!("{what}: reading the source"))?;
        let mut writer = target
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

    /// Ends the read-only transaction.
    pub fn finish(self) -> Result<()> {
        self.tx
            .commit()
            .context("ending the snapshot of the source")
    }
}
