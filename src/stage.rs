//! `runner stage movies`: the generic loader. It finds the input files, checks each header against
//! the contract (`contract`), reads every record, explodes Python-literal list columns into child
//! rows, and streams everything into fresh copies of the `raw_` tables with `LOAD DATA LOCAL
//! INFILE` (`bulk`). A record that cannot be staged goes to `raw_rejects` with the reason. When
//! every file is in, one `RENAME TABLE` swaps all copies in: readers see the old load or the new
//! one, never a mix. A file not in the expected format fails the run before anything is swapped.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use csv::ByteRecord;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mysql::prelude::Queryable;

use crate::bulk::TableWriter;
use crate::config::MysqlTarget;
use crate::contract::{
    Column, ColumnKind, FILES_TABLE, FieldKind, FileSpec, List, MOVIE_FILES, REJECTS_TABLE,
};
use crate::lines::line_counting;
use crate::mysql_conn::{MysqlConn, quote_ident};
use crate::pyliteral::{self, Value};
use crate::swap::{self, new_name};

/// The seed sample, built into the binary (see seeds/movies/README.md).
const SEEDS: &[(&str, &[u8])] = &[
    (
        "movies_metadata.csv",
        include_bytes!("../seeds/movies/movies_metadata.csv"),
    ),
    ("credits.csv", include_bytes!("../seeds/movies/credits.csv")),
    (
        "keywords.csv",
        include_bytes!("../seeds/movies/keywords.csv"),
    ),
    (
        "ratings_small.csv",
        include_bytes!("../seeds/movies/ratings_small.csv"),
    ),
    (
        "links_small.csv",
        include_bytes!("../seeds/movies/links_small.csv"),
    ),
];

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    Path(PathBuf),
    Seed(&'static [u8]),
}

/// One file to stage.
#[derive(Debug, Clone)]
pub struct Input {
    pub spec: &'static FileSpec,
    pub file_name: String,
    pub source: Source,
}

impl Input {
    fn describe(&self) -> String {
        match &self.source {
            Source::Path(p) => p.display().to_string(),
            Source::Seed(_) => format!("seeds/movies/{} (built in)", self.file_name),
        }
    }
}

/// Finds the movie files in `dir`. None there: the seed sample. Some but not all: an error.
pub fn resolve_inputs(dir: &Path, ratings_file: Option<&str>) -> Result<Vec<Input>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in MOVIE_FILES {
        let candidates: Vec<&str> = match (ratings_file, spec.table) {
            (Some(name), "raw_ratings") => vec![name],
            _ => spec.candidates.to_vec(),
        };
        match candidates.iter().find(|name| dir.join(name).is_file()) {
            Some(name) => found.push(Input {
                spec,
                file_name: (*name).to_owned(),
                source: Source::Path(dir.join(name)),
            }),
            None => missing.push(candidates.join(" or ")),
        }
    }
    if found.is_empty() && ratings_file.is_none() {
        tracing::warn!(
            "movies: {} holds none of the movie files: staging the bundled seed sample (seeds/movies) instead; \
             put the Kaggle files there to stage the real data",
            dir.display()
        );
        return Ok(MOVIE_FILES
            .iter()
            .map(|spec| {
                let (name, bytes) = SEEDS
                    .iter()
                    .find(|(name, _)| spec.candidates.contains(name))
                    .expect("every file has a seed");
                Input {
                    spec,
                    file_name: (*name).to_owned(),
                    source: Source::Seed(bytes),
                }
            })
            .collect());
    }
    if !missing.is_empty() {
        bail!(
            "{}: missing {}: put them in this folder (MOVIE_DATA_PATH / --movie-data-path)",
            dir.display(),
            missing.join(", ")
        );
    }
    Ok(found)
}

/// Counts for one staged file. read = loaded + rejected, always.
#[derive(Debug, Clone)]
pub struct FileCounts {
    pub file_name: String,
    pub read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub child_rows: Vec<(&'static str, u64)>,
}

/// Raw tables swapped in by [`stage_movies`]; their previous versions wait as `__old` until the
/// caller publishes ([`swap::drop_previous`]) or rolls back ([`swap::roll_back`]).
pub struct Staged {
    pub counts: Vec<FileCounts>,
    pub tables: Vec<String>,
}

/// Stages every input into copies and swaps them in, keeping the previous raw tables as `__old`.
pub fn stage_movies(
    admin: &mut MysqlConn,
    target: &MysqlTarget,
    connect_timeout: Duration,
    inputs: &[Input],
) -> Result<Staged> {
    let mut tables: Vec<String> = inputs
        .iter()
        .flat_map(|i| i.spec.tables())
        .map(str::to_owned)
        .collect();
    tables.extend([REJECTS_TABLE.to_owned(), FILES_TABLE.to_owned()]);
    swap::prepare_copies(admin, &tables)?;

    let rejects = TableWriter::start(
        target,
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
    let loaded = load_files(target, connect_timeout, inputs, &sizes, &rejects)?;
    let mut all = Vec::with_capacity(inputs.len());
    for ((input, counts), &size) in inputs.iter().zip(loaded).zip(&sizes) {
        admin
            .conn
            .exec_drop(
                format!(
                    "insert into {} (file_name, table_name, source, size_bytes, records_read, records_loaded, \
                     records_rejected, staged_at) values (?, ?, ?, ?, ?, ?, ?, utc_timestamp(6))",
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
    swap::swap_in(admin, &tables)?;
    crate::drill::point("stage:after-swap");
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
    target: &MysqlTarget,
    timeout: Duration,
    inputs: &[Input],
    sizes: &[u64],
    rejects: &Mutex<TableWriter>,
) -> Result<Vec<FileCounts>> {
    let sized: Vec<(&Input, u64)> = inputs.iter().zip(sizes.iter().copied()).collect();
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    crate::parallel::each(
        &sized,
        order,
        PARALLEL_FILES,
        || Ok(()),
        |(), &(input, size)| {
            let started = Instant::now();
            let counts = load_file(target, timeout, input, size, rejects)
                .with_context(|| format!("staging {}", input.file_name))?;
            log_counts(&counts, started);
            crate::drill::point(&format!("stage:after:{}", input.file_name));
            Ok(counts)
        },
    )
}

fn input_size(input: &Input) -> u64 {
    match &input.source {
        Source::Path(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        Source::Seed(bytes) => bytes.len() as u64,
    }
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

/// Where each declared column sits in the file's header.
struct Layout {
    width: usize,
    columns: Vec<(usize, &'static Column)>,
    lists: Vec<(usize, &'static List)>,
    parent_key: usize,
}

fn check_header(spec: &'static FileSpec, file_name: &str, header: &ByteRecord) -> Result<Layout> {
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let raw = if i == 0 {
            raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
        } else {
            raw
        };
        match std::str::from_utf8(raw) {
            Ok(name) if !name.contains('\0') => names.push(name),
            _ => bail!(
                "{file_name}:1: not a CSV file in the expected format: the header holds binary data"
            ),
        }
    }
    let expected: Vec<&str> = spec.headers().collect();
    let position = |name: &str| names.iter().position(|n| *n == name);
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|h| position(h).is_none())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{file_name}:1: header lacks column {}: expected {}; found {}",
            missing.join(", "),
            expected.join(","),
            names.join(",")
        );
    }
    if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
        bail!(
            "{file_name}:1: unexpected column {extra:?}: the contract (src/contract.rs) does not know it"
        );
    }
    if names.len() != expected.len() {
        bail!("{file_name}:1: a column appears twice in the header");
    }
    let index = |name: &str| position(name).expect("checked above");
    Ok(Layout {
        width: names.len(),
        columns: spec.columns.iter().map(|c| (index(c.header), c)).collect(),
        lists: spec.lists.iter().map(|l| (index(l.header), l)).collect(),
        parent_key: index(spec.parent_key),
    })
}

/// Why a record was set aside.
struct Reject {
    column: Option<&'static str>,
    reason: String,
}

fn reject(column: &'static str, reason: impl Into<String>) -> Reject {
    Reject {
        column: Some(column),
        reason: reason.into(),
    }
}

/// A checked column value, ready to write.
enum Cell<'a> {
    Bytes(&'a [u8]),
    Int(i64),
    Json(String),
    Null,
}

/// A checked record: its cells, and its lists' elements.
struct Checked<'a> {
    cells: Vec<Cell<'a>>,
    lists: Vec<Vec<Value<'a>>>,
    parent_key: i64,
}

fn open(input: &Input) -> Result<Box<dyn Read + Send>> {
    Ok(match &input.source {
        Source::Path(path) => {
            Box::new(File::open(path).with_context(|| format!("opening {}", path.display()))?)
        }
        Source::Seed(bytes) => Box::new(*bytes),
    })
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
    target: &MysqlTarget,
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
    let mut parent = TableWriter::start(target, timeout, &new_name(spec.table), &parent_columns)?;
    let mut children = Vec::with_capacity(spec.lists.len());
    for list in spec.lists {
        let mut columns = vec!["line_number", "movie_id", "position"];
        columns.extend(list.fields.iter().map(|f| f.column));
        children.push(TableWriter::start(
            target,
            timeout,
            &new_name(list.table),
            &columns,
        )?);
    }

    let mut record = ByteRecord::new();
    let (mut read, mut rejected) = (0u64, 0u64);
    let started = Instant::now();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => bail!("{file_name}: {err}"),
        }
        read += 1;
        let line = lines.line_of(record.position().map_or(0, |p| p.byte()));
        match check_record(&layout, &record) {
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

fn parse_int(bytes: &[u8]) -> Option<i64> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

fn is_decimal(bytes: &[u8]) -> bool {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let (whole, frac) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], Some(&digits[dot + 1..])),
        None => (digits, None),
    };
    !whole.is_empty()
        && whole.iter().all(u8::is_ascii_digit)
        && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
}

fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    format!("{s:?}")
}

fn check_record<'r>(layout: &Layout, record: &'r ByteRecord) -> Result<Checked<'r>, Reject> {
    if record.len() != layout.width {
        return Err(Reject {
            column: None,
            reason: format!(
                "expected {} fields, found {} (a broken record, e.g. a line break outside quotes)",
                layout.width,
                record.len()
            ),
        });
    }
    let mut cells = Vec::with_capacity(layout.columns.len());
    let mut parent_key = None;
    for &(index, column) in &layout.columns {
        let bytes = &record[index];
        let text = std::str::from_utf8(bytes).map_err(|e| {
            reject(
                column.header,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })?;
        let cell = match column.kind {
            ColumnKind::Id => Cell::Int(parse_int(bytes).ok_or_else(|| {
                reject(
                    column.header,
                    format!("not a whole number: {}", shown(bytes)),
                )
            })?),
            ColumnKind::OptionalInt if bytes.is_empty() => Cell::Null,
            ColumnKind::OptionalInt => Cell::Int(parse_int(bytes).ok_or_else(|| {
                reject(
                    column.header,
                    format!("not a whole number: {}", shown(bytes)),
                )
            })?),
            ColumnKind::Decimal if is_decimal(bytes) => Cell::Bytes(bytes),
            ColumnKind::Decimal => {
                return Err(reject(
                    column.header,
                    format!("not a decimal number: {}", shown(bytes)),
                ));
            }
            ColumnKind::Text => Cell::Bytes(bytes),
            ColumnKind::LiteralJson if bytes.is_empty() => Cell::Null,
            ColumnKind::LiteralJson => {
                let value =
                    pyliteral::parse(text).map_err(|e| reject(column.header, e.to_string()))?;
                if value.as_dict().is_none() {
                    return Err(reject(
                        column.header,
                        format!("expected a dict, found a {}", value.type_name()),
                    ));
                }
                Cell::Json(value.to_json().to_string())
            }
        };
        if let (true, Cell::Int(v)) = (index == layout.parent_key, &cell) {
            parent_key = Some(*v);
        }
        cells.push(cell);
    }
    let mut lists = Vec::with_capacity(layout.lists.len());
    for &(index, list) in &layout.lists {
        let text = std::str::from_utf8(&record[index]).map_err(|e| {
            reject(
                list.header,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })?;
        let value = pyliteral::parse(text).map_err(|e| reject(list.header, e.to_string()))?;
        let Value::List(elements) = value else {
            return Err(reject(
                list.header,
                format!("expected a list, found a {}", value.type_name()),
            ));
        };
        for (position, element) in elements.iter().enumerate() {
            check_element(list, position, element)?;
        }
        lists.push(elements);
    }
    Ok(Checked {
        cells,
        lists,
        parent_key: parent_key.unwrap_or(0),
    })
}

/// An element must be a dict with exactly the declared keys, each of its declared type.
fn check_element(list: &'static List, position: usize, element: &Value<'_>) -> Result<(), Reject> {
    let at = |what: String| reject(list.header, format!("element {position}: {what}"));
    let Some(entries) = element.as_dict() else {
        return Err(at(format!(
            "expected a dict, found a {}",
            element.type_name()
        )));
    };
    if entries.len() != list.fields.len() {
        let keys: Vec<String> = entries.iter().map(|(k, _)| k.to_string()).collect();
        let expected: Vec<&str> = list.fields.iter().map(|f| f.key).collect();
        return Err(at(format!(
            "keys {} differ from the declared {}",
            keys.join(", "),
            expected.join(", ")
        )));
    }
    for field in list.fields {
        let value = element
            .get(field.key)
            .ok_or_else(|| at(format!("no key '{}'", field.key)))?;
        let ok = match field.kind {
            FieldKind::Int => value.as_i64().is_some(),
            FieldKind::Str => value.as_str().is_some(),
            FieldKind::OptionalStr => value.as_str().is_some() || value.is_none(),
        };
        if !ok {
            return Err(at(format!(
                "'{}' is a {}, expected {:?}",
                field.key,
                value.type_name(),
                field.kind
            )));
        }
    }
    Ok(())
}

fn write_record(
    line: i64,
    checked: &Checked<'_>,
    parent: &mut TableWriter,
    children: &mut [TableWriter],
    spec: &FileSpec,
) -> Result<()> {
    parent.int(line);
    for cell in &checked.cells {
        match cell {
            Cell::Bytes(b) => parent.field(b),
            Cell::Int(v) => parent.int(*v),
            Cell::Json(s) => parent.field(s.as_bytes()),
            Cell::Null => parent.null(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_int(b"862"), Some(862));
        assert_eq!(parse_int(b"-3"), Some(-3));
        for bad in [
            &b""[..],
            b"1997-08-20",
            b" 1",
            b"1.0",
            b"+1",
            b"-",
            b"1234567890123456789",
        ] {
            assert_eq!(parse_int(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert!(is_decimal(b"3.5") && is_decimal(b"4") && is_decimal(b"-0.5"));
        assert!(
            !is_decimal(b"3.") && !is_decimal(b".5") && !is_decimal(b"") && !is_decimal(b"1e3")
        );
    }

    #[test]
    fn seeds_are_complete_and_every_file_has_one() {
        let inputs = resolve_inputs(Path::new("/nonexistent/runner-no-data"), None).unwrap();
        assert_eq!(inputs.len(), MOVIE_FILES.len());
        assert!(
            inputs
                .iter()
                .all(|i| matches!(i.source, Source::Seed(b) if !b.is_empty()))
        );
    }
}
