//! Loading the movie files into the `raw_` tables. Each file is read record by record, checked
//! against the contract ([`records`](super::records)), its Python-literal list columns exploded into
//! child rows, and everything streamed into fresh copies of the `raw_` tables with `LOAD DATA
//! LOCAL INFILE` ([`bulk`](super::bulk)). A record that cannot be staged goes to `raw_rejects` with
//! the reason and its line. The copies are published with everything built from them, after the
//! data checks (`publish`): readers see the old load or the new one, never a mix. A file not in
//! the expected format fails the run before anything is published.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use csv::ByteRecord;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mysql::prelude::Queryable;

use super::bulk::TableWriter;
use super::contract::{FILES_TABLE, FileSpec, REJECTS_TABLE, raw_tables};
use super::inputs::{Input, input_size, open};
use super::lines::line_counting;
use super::pyliteral::Value;
use super::records::{Checked, Duplicates, RawValue, Reject, check_header, check_record};
use crate::engine::db::mysql::{MysqlConn, quote_ident};
use crate::engine::db::settings::MysqlSettings;
use crate::engine::db::swap::{self, new_name};
use crate::engine::{drill, parallel};

/// Counts for one staged file. read = loaded + rejected, always.
#[derive(Debug, Clone)]
pub struct FileCounts {
    pub file_name: String,
    pub read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub child_rows: Vec<(&'static str, u64)>,
}

/// What [`load_raw_tables`] loaded: the counts per file, and the raw tables filled as copies
/// `<table>__new` (analyzed: the builds read them), which the caller publishes or discards.
pub struct Staged {
    pub counts: Vec<FileCounts>,
    pub tables: Vec<String>,
}

/// Stages every input into copies of the raw tables; the live raw tables are not touched.
/// `raw_files` records `run_id`, the run staging them, which every published table carries.
pub fn load_raw_tables(
    admin: &mut MysqlConn,
    settings: &MysqlSettings,
    connect_timeout: Duration,
    inputs: &[Input],
    run_id: Option<i64>,
) -> Result<Staged> {
    let tables = raw_tables();
    swap::prepare_copies(admin, &tables)?;

    let rejects = TableWriter::start(
        settings,
        connect_timeout,
        &new_name(REJECTS_TABLE),
        &[
            "file_name",
            "line_number",
            "column_name",
            "reason",
            "raw_text",
        ],
    )?;
    let rejects = Mutex::new(rejects);
    let sizes: Vec<u64> = inputs.iter().map(input_size).collect();
    let loaded = load_files(settings, connect_timeout, inputs, &sizes, &rejects)?;
    let mut all = Vec::with_capacity(inputs.len());
    for ((input, counts), &size) in inputs.iter().zip(loaded).zip(&sizes) {
        admin
            .conn
            .exec_drop(
                format!(
                    "insert into {} (file_name, table_name, source, size_bytes, records_read, records_loaded, \
                     records_rejected, staged_at, run_id) values (?, ?, ?, ?, ?, ?, ?, utc_timestamp(6), ?)",
                    quote_ident(&new_name(FILES_TABLE))
                ),
                (
                    &counts.file_name,
                    input.spec.table,
                    input.describe(),
                    size,
                    counts.read,
                    counts.loaded,
                    counts.rejected,
                    run_id,
                ),
            )
            .context("recording the file in raw_files")?;
        all.push(counts);
    }
    let rejects = rejects
        .into_inner()
        .map_err(|_| anyhow!("the raw_rejects writer is poisoned"))?;
    let rejected_rows = rejects.finish()?;
    let total_rejected: u64 = all.iter().map(|c| c.rejected).sum();
    if rejected_rows != total_rejected {
        bail!("raw_rejects holds {rejected_rows} rows but {total_rejected} records were rejected");
    }
    swap::analyze_copies(admin, &tables)?;
    drill::point("stage:after-load");
    Ok(Staged {
        counts: all,
        tables,
    })
}

/// Files staged at once. Each file already streams its tables over their own connections while
/// it is parsed; two files side by side keep both cores busy (the parser on one, the server's
/// inserts on the other) without the one big file waiting behind the small ones.
const PARALLEL_FILES: usize = 2;

/// Loads every input into its copies, [`PARALLEL_FILES`] at a time, biggest first (`sizes` in
/// bytes, one per input); the counts come back in the order of `inputs`.
fn load_files(
    settings: &MysqlSettings,
    timeout: Duration,
    inputs: &[Input],
    sizes: &[u64],
    rejects: &Mutex<TableWriter>,
) -> Result<Vec<FileCounts>> {
    let sized: Vec<(&Input, u64)> = inputs.iter().zip(sizes.iter().copied()).collect();
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    parallel::each(
        &sized,
        order,
        PARALLEL_FILES,
        || Ok(()),
        |(), &(input, size)| {
            let started = Instant::now();
            let counts = load_file(settings, timeout, input, size, rejects)
                .with_context(|| format!("staging {}", input.file_name))?;
            log_counts(&counts, started);
            drill::point(&format!("stage:after:{}", input.file_name));
            Ok(counts)
        },
    )
}

fn log_counts(counts: &FileCounts, started: Instant) {
    let children: Vec<String> = counts
        .child_rows
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    tracing::info!(
        "movies: {}: read {}, loaded {}, rejected {}{} ({:.1} s)",
        counts.file_name,
        counts.read,
        counts.loaded,
        counts.rejected,
        if children.is_empty() {
            String::new()
        } else {
            format!("; {}", children.join(", "))
        },
        started.elapsed().as_secs_f64()
    );
}

fn progress_bar(size: u64, file_name: &str) -> ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    // One bar per file being staged; files load side by side, so the bars share the terminal.
    static BARS: std::sync::LazyLock<MultiProgress> = std::sync::LazyLock::new(MultiProgress::new);
    let bar = BARS.add(ProgressBar::new(size));
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>20} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(file_name.to_owned());
    bar
}

fn load_file(
    settings: &MysqlSettings,
    timeout: Duration,
    input: &Input,
    size: u64,
    rejects: &Mutex<TableWriter>,
) -> Result<FileCounts> {
    let spec = input.spec;
    let file_name = input.file_name.as_str();
    let bar = progress_bar(size, file_name);
    let reader = open(input)?;
    let (reader, mut lines) = line_counting(bar.wrap_read(reader));
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(reader);

    let mut header = ByteRecord::new();
    let has_header = csv
        .read_byte_record(&mut header)
        .with_context(|| format!("{file_name}:1: reading the header"))?;
    if !has_header || (header.len() == 1 && header[0].is_empty()) {
        bail!(
            "{file_name}: empty file: expected a header line with {}",
            spec.headers().collect::<Vec<_>>().join(",")
        );
    }
    let layout = check_header(spec, file_name, &header)?;

    let mut parent_columns: Vec<&str> = vec!["line_number"];
    parent_columns.extend(spec.columns.iter().map(|c| c.column));
    let counts: Vec<String> = spec
        .lists
        .iter()
        .map(|l| format!("{}_count", l.header))
        .collect();
    parent_columns.extend(counts.iter().map(String::as_str));
    let mut parent = TableWriter::start(settings, timeout, &new_name(spec.table), &parent_columns)?;
    let mut children = Vec::with_capacity(spec.lists.len());
    for list in spec.lists {
        let mut columns = vec!["line_number", "movie_id", "position"];
        columns.extend(list.fields.iter().map(|f| f.column));
        children.push(TableWriter::start(
            settings,
            timeout,
            &new_name(list.table),
            &columns,
        )?);
    }

    let mut record = ByteRecord::new();
    let (mut read, mut rejected) = (0u64, 0u64);
    let mut duplicates = Duplicates::new(spec);
    let started = Instant::now();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => bail!("{file_name}: {err}"),
        }
        read += 1;
        let line = lines.line_of(record.position().map_or(0, |p| p.byte()));
        let checked = match (check_record(&layout, &record), duplicates.as_mut()) {
            (Ok(checked), Some(duplicates)) => match duplicates
                .check(&checked, line)
                .with_context(|| format!("{file_name}:{line}"))?
            {
                Some(repeated) => Err(repeated),
                None => Ok(checked),
            },
            (result, _) => result,
        };
        match checked {
            Ok(checked) => write_record(line as i64, &checked, &mut parent, &mut children, spec)?,
            Err(why) => {
                rejected += 1;
                let mut rejects = rejects
                    .lock()
                    .map_err(|_| anyhow!("the raw_rejects writer is poisoned"))?;
                write_reject(&mut rejects, file_name, line, &why, &record)?;
            }
        }
        if read % 65_536 == 0 {
            bar.set_message(format!(
                "{:.0} rows/s",
                read as f64 / started.elapsed().as_secs_f64()
            ));
        }
    }
    bar.finish_and_clear();
    if read == 0 {
        bail!(
            "{file_name}: no records after the header: the file arrived empty or cut short; \
             nothing is published: check the export and run again"
        );
    }
    let loaded = parent.finish()?;
    let mut child_rows = Vec::with_capacity(children.len());
    for (writer, list) in children.into_iter().zip(spec.lists) {
        child_rows.push((list.table, writer.finish()?));
    }
    debug_assert_eq!(read, loaded + rejected);
    Ok(FileCounts {
        file_name: file_name.to_owned(),
        read,
        loaded,
        rejected,
        child_rows,
    })
}

fn write_record(
    line: i64,
    checked: &Checked<'_>,
    parent: &mut TableWriter,
    children: &mut [TableWriter],
    spec: &FileSpec,
) -> Result<()> {
    parent.int(line);
    for value in &checked.values {
        match value {
            RawValue::Bytes(b) => parent.field(b),
            RawValue::Int(v) => parent.int(*v),
            RawValue::Json(s) => parent.field(s.as_bytes()),
            RawValue::Null => parent.null(),
        }
    }
    for elements in &checked.lists {
        parent.int(elements.len() as i64);
    }
    parent.end_row()?;
    for ((elements, writer), list) in checked
        .lists
        .iter()
        .zip(children.iter_mut())
        .zip(spec.lists)
    {
        for (position, element) in elements.iter().enumerate() {
            writer.int(line);
            writer.int(checked.parent_key);
            writer.int(position as i64);
            for field in list.fields {
                match element.get(field.key) {
                    Some(Value::Int(v)) => writer.int(*v),
                    Some(Value::Str(s)) => writer.field(s.as_bytes()),
                    _ => writer.null(),
                }
            }
            writer.end_row()?;
        }
    }
    Ok(())
}

fn write_reject(
    rejects: &mut TableWriter,
    file_name: &str,
    line: u64,
    why: &Reject,
    record: &ByteRecord,
) -> Result<()> {
    let mut raw = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    raw.write_byte_record(record)
        .context("re-encoding a rejected record")?;
    let mut raw = raw.into_inner().context("re-encoding a rejected record")?;
    if raw.last() == Some(&b'\n') {
        raw.pop();
    }
    rejects.field(file_name.as_bytes());
    rejects.int(line as i64);
    match why.column {
        Some(c) => rejects.field(c.as_bytes()),
        None => rejects.null(),
    }
    rejects.field(why.reason.as_bytes());
    rejects.field(String::from_utf8_lossy(&raw).as_bytes());
    rejects.end_row()
}
