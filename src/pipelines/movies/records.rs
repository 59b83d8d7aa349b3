//! Checking one CSV record against the contract: the header's layout (every declared column, no
//! other), then each field by its kind (whole number, decimal, text, a Python literal dict) and each
//! list element's keys and types. A record that fails becomes a [`Reject`] with the column and the
//! reason, never an error: the loader sets it aside in `raw_rejects` and goes on.

use std::collections::{HashMap, HashSet};

use anyhow::{Result, bail};
use csv::ByteRecord;

use super::contract::{
    Column, ColumnKind, FieldKind, FileSpec, List, MAX_TEXT_BYTES, MAX_UNIX_SECONDS,
};
use super::pyliteral::{self, Value};

/// Where each declared column sits in the file's header.
pub struct Layout {
    width: usize,
    columns: Vec<(usize, &'static Column)>,
    lists: Vec<(usize, &'static List)>,
    parent_key: usize,
}

pub fn check_header(
    spec: &'static FileSpec,
    file_name: &str,
    header: &ByteRecord,
) -> Result<Layout> {
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
            "{file_name}:1: header lacks column {}: expected {}; found {}: is it the right file?",
            missing.join(", "),
            expected.join(","),
            capped(&names.join(","))
        );
    }
    if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
        bail!(
            "{file_name}:1: unexpected column {}: the contract (src/pipelines/movies/contract.rs) does not know it",
            capped(&format!("{extra:?}"))
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
pub struct Reject {
    pub column: Option<&'static str>,
    pub reason: String,
}

fn reject(column: &'static str, reason: impl Into<String>) -> Reject {
    Reject {
        column: Some(column),
        reason: reason.into(),
    }
}

/// A checked column value, ready to write into its raw table.
pub enum RawValue<'a> {
    Bytes(&'a [u8]),
    Int(i64),
    Json(String),
    Null,
}

/// A checked record: its cells, and its lists' elements.
pub struct Checked<'a> {
    pub values: Vec<RawValue<'a>>,
    pub lists: Vec<Vec<Value<'a>>>,
    pub parent_key: i64,
}

/// Why a field is not the whole number its column takes.
#[derive(Debug, PartialEq, Eq)]
enum NotWhole {
    /// Not `-` and digits.
    NotANumber,
    /// Digits, but beyond a 64-bit integer (the `bigint` columns).
    OutOfRange,
}

/// A whole number as the files write one: an optional `-`, then digits.
fn parse_whole(bytes: &[u8]) -> Result<i64, NotWhole> {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(NotWhole::NotANumber);
    }
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(NotWhole::OutOfRange)
}

/// A whole number, or the reason it is not one, for the column named `header`.
fn whole(header: &'static str, bytes: &[u8]) -> Result<i64, Reject> {
    parse_whole(bytes).map_err(|why| match why {
        NotWhole::NotANumber => reject(header, format!("not a whole number: {}", shown(bytes))),
        NotWhole::OutOfRange => reject(
            header,
            format!(
                "out of range: {} is beyond the largest whole number a bigint column holds ({})",
                shown(bytes),
                i64::MAX
            ),
        ),
    })
}

/// A rating in tenths of a star (`4.5` is 45), when it is one of 0.5, 1.0, ..., 5.0 written with
/// at most one decimal.
fn stars_in_tenths(bytes: &[u8]) -> Option<i64> {
    let (whole, decimals) = match bytes.iter().position(|&b| b == b'.') {
        Some(dot) => (&bytes[..dot], &bytes[dot + 1..]),
        None => (bytes, &b"0"[..]),
    };
    if whole.len() != 1
        || decimals.is_empty()
        || !whole.iter().chain(decimals).all(u8::is_ascii_digit)
        || decimals[1..].iter().any(|&d| d != b'0')
    {
        return None;
    }
    let tenths = &decimals[..1];
    let value = i64::from(whole[0] - b'0') * 10 + i64::from(tenths[0] - b'0');
    ((5..=50).contains(&value) && value % 5 == 0).then_some(value)
}

fn too_long(header: &'static str, bytes: &[u8]) -> Result<(), Reject> {
    if bytes.len() > MAX_TEXT_BYTES {
        return Err(reject(
            header,
            format!(
                "a field of {} bytes is longer than the {MAX_TEXT_BYTES} bytes a text column holds",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// Text echoed in an error, cut to 200 characters: a binary file's "header" can be megabytes.
fn capped(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}… ({} bytes in all)", &text[..at], text.len()),
        None => text.to_owned(),
    }
}

fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    format!("{s:?}")
}

pub fn check_record<'r>(layout: &Layout, record: &'r ByteRecord) -> Result<Checked<'r>, Reject> {
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
    let mut values = Vec::with_capacity(layout.columns.len());
    let mut parent_key = None;
    for &(index, column) in &layout.columns {
        let bytes = &record[index];
        let text = std::str::from_utf8(bytes).map_err(|e| {
            reject(
                column.header,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })?;
        let header = column.header;
        let value = match column.kind {
            ColumnKind::Id | ColumnKind::OptionalId if bytes.is_empty() => {
                if column.kind == ColumnKind::Id {
                    return Err(reject(header, "empty: an id is required"));
                }
                RawValue::Null
            }
            ColumnKind::Id | ColumnKind::OptionalId => {
                let id = whole(header, bytes)?;
                if id < 1 {
                    return Err(reject(
                        header,
                        format!("an id is a positive whole number, not {}", shown(bytes)),
                    ));
                }
                RawValue::Int(id)
            }
            ColumnKind::UnixSeconds => {
                let seconds = whole(header, bytes)?;
                if !(0..MAX_UNIX_SECONDS).contains(&seconds) {
                    return Err(reject(
                        header,
                        format!(
                            "{} is not a Unix time from 1970 to 2099 (seconds since 1970-01-01)",
                            shown(bytes)
                        ),
                    ));
                }
                RawValue::Int(seconds)
            }
            ColumnKind::Stars => match stars_in_tenths(bytes) {
                Some(_) => RawValue::Bytes(bytes),
                None => {
                    return Err(reject(
                        header,
                        format!(
                            "{} is not a rating: 0.5 to 5.0 stars in steps of 0.5",
                            shown(bytes)
                        ),
                    ));
                }
            },
            ColumnKind::Text => {
                too_long(header, bytes)?;
                RawValue::Bytes(bytes)
            }
            ColumnKind::LiteralJson if bytes.is_empty() => RawValue::Null,
            ColumnKind::LiteralJson => {
                too_long(header, bytes)?;
                let value = pyliteral::parse(text).map_err(|e| reject(header, e.to_string()))?;
                if value.as_dict().is_none() {
                    return Err(reject(
                        header,
                        format!("expected a dict, found a {}", value.type_name()),
                    ));
                }
                RawValue::Json(value.to_json().to_string())
            }
        };
        if let (true, RawValue::Int(v)) = (index == layout.parent_key, &value) {
            parent_key = Some(*v);
        }
        values.push(value);
    }
    let mut lists = Vec::with_capacity(layout.lists.len());
    for &(index, list) in &layout.lists {
        let text = std::str::from_utf8(&record[index]).map_err(|e| {
            reject(
                list.header,
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })?;
        if text.is_empty() {
            // an empty field is an empty list
            lists.push(Vec::new());
            continue;
        }
        too_long(list.header, text.as_bytes())?;
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
        values,
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
        if value.as_str().is_some_and(|s| s.len() > MAX_TEXT_BYTES) {
            return Err(at(format!(
                "'{}' is longer than the {MAX_TEXT_BYTES} bytes a text column holds",
                field.key
            )));
        }
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

/// Records read before a file must show it is grouped by its key's first column: until then (and
/// for a file that is not grouped, up to here) every key is kept in memory to find duplicates.
const KEYS_KEPT_UNGROUPED: u64 = 1_000_000;

/// Finds a record whose natural key (two id columns, `FileSpec::unique`) an earlier record of the
/// file had, in bounded memory. A file grouped by the first column (the MovieLens ratings files
/// are ordered by userId, then movieId) needs only the current group's keys; any file's first
/// million records are checked against every earlier key. A file of more records that is not
/// grouped is refused: its duplicates could not be found.
pub struct Duplicates {
    columns: [(&'static str, usize); 2],
    /// KEYS_KEPT_UNGROUPED (tests set less).
    keep_every_key_until: u64,
    records: u64,
    group: Option<i64>,
    /// The current group's second-column values, with the line that had each first.
    in_group: HashMap<i64, u64>,
    groups_seen: HashSet<i64>,
    grouped: bool,
    /// Every key so far, with its first line, while records <= KEYS_KEPT_UNGROUPED.
    every_key: Option<HashMap<(i64, i64), u64>>,
}

impl Duplicates {
    /// A tracker for `spec`'s natural key; `None` when the file has none.
    pub fn new(spec: &FileSpec) -> Option<Self> {
        let [first, second] = spec.unique else {
            return None;
        };
        let index = |header: &str| {
            spec.columns
                .iter()
                .position(|c| c.header == header)
                .expect("unique columns are declared columns")
        };
        Some(Self {
            columns: [(first, index(first)), (second, index(second))],
            keep_every_key_until: KEYS_KEPT_UNGROUPED,
            records: 0,
            group: None,
            in_group: HashMap::new(),
            groups_seen: HashSet::new(),
            grouped: true,
            every_key: Some(HashMap::new()),
        })
    }

    /// The reject for a record whose key an earlier record had (naming that record's line), or
    /// `Ok(None)`. `Err` when the file cannot be checked (not grouped, too many records).
    pub fn check(&mut self, checked: &Checked<'_>, line: u64) -> Result<Option<Reject>> {
        let value = |i: usize| match checked.values[i] {
            RawValue::Int(v) => v,
            _ => unreachable!("key columns are ids"),
        };
        let [(first_name, first), (second_name, second)] = self.columns;
        let key = (value(first), value(second));
        self.records += 1;
        if self.group != Some(key.0) {
            if let Some(done) = self.group.replace(key.0) {
                self.groups_seen.insert(done);
            }
            self.in_group.clear();
            if self.groups_seen.contains(&key.0) {
                self.grouped = false;
            }
        }
        if !self.grouped && self.every_key.is_none() {
            bail!(
                "{first_name} {} comes again after other {first_name}s: the file is \
                 not grouped by {first_name}, and with more than {} records it \
                 is too big to check for repeated ({first_name}, {second_name}) pairs in memory: \
                 sort it by {first_name} (e.g. `sort -t, -k1,1n`) and stage it again",
                key.0,
                self.keep_every_key_until
            );
        }
        let earlier = match &mut self.every_key {
            Some(every_key) => {
                let earlier = every_key.get(&key).copied();
                every_key.entry(key).or_insert(line);
                earlier
            }
            None => None,
        };
        let in_group = self.in_group.get(&key.1).copied();
        self.in_group.entry(key.1).or_insert(line);
        if self.records >= self.keep_every_key_until && self.grouped {
            // grouped so far: the current group's keys are enough from here on
            self.every_key = None;
        }
        Ok(earlier.or(in_group).map(|first_line| Reject {
            column: Some(first_name),
            reason: format!(
                "repeats line {first_line}: the same {first_name} {} and {second_name} {} \
                 (one record per pair: the first is kept)",
                key.0, key.1
            ),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_whole(b"862"), Ok(862));
        assert_eq!(parse_whole(b"-3"), Ok(-3));
        assert_eq!(parse_whole(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            parse_whole(b"9223372036854775808"),
            Err(NotWhole::OutOfRange)
        );
        assert_eq!(
            parse_whole(b"123456789012345678901234"),
            Err(NotWhole::OutOfRange)
        );
        for bad in [&b""[..], b"1997-08-20", b" 1", b"1.0", b"+1", b"-", b"1e3"] {
            assert_eq!(
                parse_whole(bad),
                Err(NotWhole::NotANumber),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// The key checks of the ratings file on (userId, movieId) pairs, each on the next line.
    fn repeats(pairs: &[(i64, i64)], keep_every_key_until: u64) -> Result<Vec<Option<String>>> {
        let mut duplicates = Duplicates::new(&super::super::contract::RATINGS).unwrap();
        duplicates.keep_every_key_until = keep_every_key_until;
        let mut out = Vec::new();
        for (i, &(user, movie)) in pairs.iter().enumerate() {
            let checked = Checked {
                values: vec![
                    RawValue::Int(user),
                    RawValue::Int(movie),
                    RawValue::Bytes(b"4.0"),
                    RawValue::Int(0),
                ],
                lists: Vec::new(),
                parent_key: movie,
            };
            out.push(duplicates.check(&checked, i as u64 + 2)?.map(|r| r.reason));
        }
        Ok(out)
    }

    #[test]
    fn a_repeated_key_is_found_grouped_or_not_within_the_bound() {
        // grouped by user: found through the group's keys, also after every key was let go
        let grouped = [
            (1, 10),
            (1, 11),
            (1, 10),
            (2, 10),
            (2, 12),
            (2, 12),
            (3, 10),
        ];
        for limit in [1, 1_000] {
            let found = repeats(&grouped, limit).unwrap();
            let at: Vec<usize> = (0..found.len()).filter(|&i| found[i].is_some()).collect();
            assert_eq!(at, [2, 5], "limit {limit}");
            assert_eq!(
                found[2].as_deref(),
                Some(
                    "repeats line 2: the same userId 1 and movieId 10 (one record per pair: the first is kept)"
                )
            );
        }
        // not grouped: found while every key is kept
        let scattered = [(1, 10), (2, 10), (1, 11), (1, 10), (2, 10)];
        let found = repeats(&scattered, 1_000).unwrap();
        assert_eq!(
            found.iter().map(Option::is_some).collect::<Vec<_>>(),
            [false, false, false, true, true]
        );
        // not grouped, beyond the bound: refused, not silently missed
        let err = repeats(&scattered, 2).unwrap_err().to_string();
        assert!(
            err.starts_with("userId 1 comes again after other userIds"),
            "{err}"
        );
    }

    #[test]
    fn ratings_are_half_stars_from_half_to_five() {
        for (text, tenths) in [
            (&b"0.5"[..], 5),
            (b"4", 40),
            (b"4.0", 40),
            (b"4.00", 40),
            (b"5.0", 50),
            (b"3.5", 35),
        ] {
            assert_eq!(
                stars_in_tenths(text),
                Some(tenths),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        for bad in [
            &b"2.25"[..],
            b"123.45",
            b"0",
            b"0.0",
            b"5.5",
            b"4.2",
            b"-0.5",
            b"10",
            b".5",
            b"3.",
            b"",
            b"4.05",
        ] {
            assert_eq!(
                stars_in_tenths(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
