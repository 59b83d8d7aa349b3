//! Streaming bulk loads into MySQL with `LOAD DATA LOCAL INFILE`: a [`TableWriter`] encodes rows in
//! the server's tab-separated escape format and hands fixed-size chunks over a bounded channel to a
//! thread that runs the `LOAD DATA` statement on its own connection, feeding the server from the
//! mysql crate's local-infile handler. No temporary files; memory stays at a few chunks per table.

use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use mysql::LocalInfileHandler;
use mysql::prelude::Queryable;

use crate::engine::db::mysql::{MysqlConn, quote_ident};
use crate::engine::db::settings::MysqlSettings;

/// Bytes per chunk handed to the loader thread.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight per table: bounds memory at about CHUNK * (DEPTH + 2) per table.
const DEPTH: usize = 4;

/// Encodes rows for one table and streams them to a `LOAD DATA` running on another thread.
pub struct TableWriter {
    table: String,
    buf: Vec<u8>,
    rows: u64,
    first_field: bool,
    sender: Option<SyncSender<Vec<u8>>>,
    loader: Option<JoinHandle<Result<LoadResult>>>,
}

struct LoadResult {
    affected: u64,
    warnings: Vec<String>,
}

impl TableWriter {
    /// Connects and starts `LOAD DATA LOCAL INFILE` into `table` (columns in the order rows give them).
    pub fn start(
        settings: &MysqlSettings,
        connect_timeout: Duration,
        table: &str,
        columns: &[&str],
    ) -> Result<Self> {
        let mut conn = MysqlConn::connect(settings, connect_timeout, false)?;
        // A stream can sit idle for minutes: raw_rejects stays open through the whole stage, and a
        // sparse table fills a chunk slowly. The server drops a LOAD DATA that sends nothing for
        // net_read_timeout (30 s by default), so allow a day.
        conn.conn
            .query_drop("set session net_read_timeout = 86400")
            .with_context(|| format!("preparing the load of {table}"))?;
        let (sender, receiver) = sync_channel::<Vec<u8>>(DEPTH);
        let receiver = Arc::new(Mutex::new(receiver));
        conn.conn
            .set_local_infile_handler(Some(LocalInfileHandler::new(move |_name, out| {
                let receiver = receiver
                    .lock()
                    .map_err(|_| std::io::Error::other("loader poisoned"))?;
                feed(&receiver, out)
            })));
        let column_list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        let sql = format!(
            "load data local infile 'runner-stream' into table {} character set utf8mb4 \
             fields terminated by '\\t' escaped by '\\\\' lines terminated by '\\n' ({})",
            quote_ident(table),
            column_list.join(", ")
        );
        let name = table.to_owned();
        let loader = std::thread::Builder::new()
            .name(format!("load {table}"))
            .spawn(move || run_load(conn, &sql).with_context(|| format!("loading {name}")))
            .context("starting a loader thread")?;
        Ok(Self {
            table: table.to_owned(),
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
            rows: 0,
            first_field: true,
            sender: Some(sender),
            loader: Some(loader),
        })
    }

    /// Appends a field, escaping the bytes `LOAD DATA` treats specially.
    pub fn field(&mut self, value: &[u8]) {
        self.separator();
        let mut start = 0;
        for (i, &b) in value.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'\\' => b"\\\\",
                b'\t' => b"\\t",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                0 => b"\\0",
                _ => continue,
            };
            self.buf.extend_from_slice(&value[start..i]);
            self.buf.extend_from_slice(escaped);
            start = i + 1;
        }
        self.buf.extend_from_slice(&value[start..]);
    }

    pub fn int(&mut self, value: i64) {
        self.separator();
        let _ = write!(self.buf, "{value}");
    }

    pub fn null(&mut self) {
        self.separator();
        self.buf.extend_from_slice(b"\\N");
    }

    fn separator(&mut self) {
        if !self.first_field {
            self.buf.push(b'\t');
        }
        self.first_field = false;
    }

    /// Ends the row; sends a chunk when the buffer is full.
    pub fn end_row(&mut self) -> Result<()> {
        self.buf.push(b'\n');
        self.first_field = true;
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 64 * 1024));
        let sent = self.sender.as_ref().map(|s| s.send(chunk));
        if let Some(Err(_)) = sent {
            // The loader stopped early: its own error says why.
            return Err(self
                .join()
                .err()
                .unwrap_or_else(|| anyhow!("loading {} stopped early", self.table)));
        }
        Ok(())
    }

    /// Sends the rest, waits for the server, and checks that it stored every row without a warning.
    pub fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            self.flush()?;
        }
        self.sender = None;
        let result = self.join()?;
        if !result.warnings.is_empty() {
            bail!(
                "loading {}: the server changed or dropped data ({}); nothing was swapped in",
                self.table,
                result.warnings.join("; ")
            );
        }
        if result.affected != self.rows {
            bail!(
                "loading {}: sent {} rows but the server stored {}",
                self.table,
                self.rows,
                result.affected
            );
        }
        Ok(self.rows)
    }

    fn join(&mut self) -> Result<LoadResult> {
        self.sender = None;
        match self.loader.take() {
            Some(handle) => handle
                .join()
                .map_err(|_| anyhow!("the loader thread of {} panicked", self.table))?,
            None => bail!("loading {} already ended", self.table),
        }
    }
}

impl Drop for TableWriter {
    fn drop(&mut self) {
        // Abandoned (an error elsewhere): close the stream so the loader thread ends.
        self.sender = None;
        if let Some(handle) = self.loader.take() {
            let _ = handle.join();
        }
    }
}

fn feed(receiver: &Receiver<Vec<u8>>, out: &mut mysql::LocalInfile<'_>) -> std::io::Result<()> {
    while let Ok(chunk) = receiver.recv() {
        out.write_all(&chunk)?;
    }
    out.flush()
}

fn run_load(mut conn: MysqlConn, sql: &str) -> Result<LoadResult> {
    let (affected, warning_count) = {
        let mut result = conn.conn.query_iter(sql)?;
        let counts = (result.affected_rows(), result.warnings());
        while let Some(set) = result.iter() {
            for row in set {
                row?;
            }
        }
        counts
    };
    let mut warnings = Vec::new();
    if warning_count > 0 {
        let rows: Vec<(String, u32, String)> = conn.conn.query("show warnings limit 5")?;
        warnings = rows
            .into_iter()
            .map(|(level, code, msg)| format!("{level} {code}: {msg}"))
            .collect();
        if warnings.is_empty() {
            warnings.push(format!("{warning_count} warnings"));
        }
    }
    Ok(LoadResult { affected, warnings })
}
