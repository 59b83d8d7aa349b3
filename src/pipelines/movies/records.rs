//! Checking one CSV record against the contract: the header's layout (every declared column, no
//! other), then each field by its kind (whole number, decimal, text, a Python literal dict) and each
//! list element's keys and types. A record that fails becomes a [`Reject`] with the column and the
//! reason, never an error: the loader sets it aside in `raw_rejects` and goes on.

use anyhow::{Result, bail};
use csv::ByteRecord;

use super::contract::{Column, ColumnKind, FieldKind, FileSpec, List};
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
            "{file_name}:1: header lacks column {}: expected {}; found {}",
            missing.join(", "),
            expected.join(","),
            names.join(",")
        );
    }
    if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
        bail!(
            "{file_name}:1: unexpected column {extra:?}: the contract (src/pipelines/movies/contract.rs) does not know it"
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
        let value = match column.kind {
            ColumnKind::Id => RawValue::Int(parse_int(bytes).ok_or_else(|| {
                reject(
                    column.header,
                    format!("not a whole number: {}", shown(bytes)),
                )
            })?),
            ColumnKind::OptionalInt if bytes.is_empty() => RawValue::Null,
            ColumnKind::OptionalInt => RawValue::Int(parse_int(bytes).ok_or_else(|| {
                reject(
                    column.header,
                    format!("not a whole number: {}", shown(bytes)),
                )
            })?),
            ColumnKind::Decimal if is_decimal(bytes) => RawValue::Bytes(bytes),
            ColumnKind::Decimal => {
                return Err(reject(
                    column.header,
                    format!("not a decimal number: {}", shown(bytes)),
                ));
            }
            ColumnKind::Text => RawValue::Bytes(bytes),
            ColumnKind::LiteralJson if bytes.is_empty() => RawValue::Null,
            ColumnKind::LiteralJson => {
                let value =
                    pyliteral::parse(text).map_err(|e| reject(column.header, e.to_string()))?;
                if value.as_dict().is_none() {
                    return Err(reject(
                        column.header,
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
}
