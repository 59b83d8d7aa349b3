//! Parses the Python literal syntax that `repr` writes, as found in the list-valued columns of
//! Kaggle's "The Movies Dataset" (`cast`, `crew`, `keywords`, `genres`, ...), which hold
//! `[{'id': 18, 'name': 'Drama'}]` rather than JSON. The parser is exact: whatever it accepts,
//! Python's `ast.literal_eval` accepts too and gives the same value (tests in
//! `tests/pyliteral_python.rs` check this against a real `python3`). It scans bytes without
//! regexes (the inside of a string 8 bytes at a time) and borrows strings that contain no
//! escapes, so a `cast` column parses at hundreds of MB/s (`cargo bench --bench pyliteral`).
//!
//! Supported: `None`, `True`, `False`; decimal ints that fit in `i64` (larger ones are an
//! [`ErrorKind::IntegerOverflow`] error, not kept as text) with an optional `+`/`-` sign; decimal
//! floats such as `1.5`, `1e-05`, `.5`, `5.` (`1e400` is `inf`, as in Python); strings in single
//! or double quotes with every escape of a normal Python string except `\N{...}`; lists, tuples
//! (`()`, `(1,)`), dicts, parentheses around a value (`(1)` is `1`), and whitespace, newlines
//! and backslash continuations wherever Python allows them. Dicts follow Python: a repeated key
//! keeps its first position and its last value, and `1`, `1.0` and `True` are the same key.
//!
//! Rejected although `ast.literal_eval` takes them, because `repr` never writes them: hex, octal,
//! binary and underscored numbers, complex numbers, sets, bytes and prefixed or triple-quoted
//! strings, implicit string concatenation, comments, a top-level tuple without parentheses, and
//! `\N{...}`. Rejected because a Rust string cannot hold them: surrogate escapes such as
//! `'\ud800'` (Python keeps `'\ud83d\ude00'` as two lone surrogates; it does not pair them).

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Deepest bracket nesting Python's tokenizer accepts ("too many nested parentheses" beyond).
pub const MAX_DEPTH: usize = 200;

/// A parsed Python literal. Strings without escapes borrow from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    List(Vec<Value<'a>>),
    Tuple(Vec<Value<'a>>),
    /// Pairs in Python's insertion order, keys unique under Python's `==`.
    Dict(Vec<(Value<'a>, Value<'a>)>),
}

/// A parse failure: what went wrong and the byte offset in the input where it did.
///
/// Displays as `unterminated string literal at byte 88`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at byte {}", .0.kind, .0.offset)]
pub struct ParseError(Box<ErrorAt>);

/// Boxed so that `Result<Value, ParseError>` is no larger than `Value`, which the parser moves a
/// lot; errors are rare.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorAt {
    kind: ErrorKind,
    offset: usize,
}

/// The kinds of [`ParseError`], for callers and tests that branch on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("unexpected end of input, expected {0}")]
    UnexpectedEnd(&'static str),
    #[error("unexpected {found:?}, expected {expected}")]
    UnexpectedChar { found: char, expected: &'static str },
    #[error("unexpected trailing characters")]
    TrailingCharacters,
    #[error("unterminated string literal")]
    UnterminatedString,
    /// Holds the escape's pattern, e.g. `\xXX`.
    #[error("truncated {0} escape")]
    TruncatedEscape(&'static str),
    #[error("escape \\U{0:08x} is beyond the last unicode character")]
    InvalidCodePoint(u32),
    #[error("surrogate escape \\u{0:04x} cannot be represented in utf-8")]
    Surrogate(u32),
    #[error("\\N{{...}} escapes are not supported")]
    NamedEscape,
    #[error("string prefix {0:?} is not supported")]
    StringPrefix(String),
    #[error("name {0:?} is not a python literal")]
    UnknownName(String),
    #[error("integer does not fit in 64 bits")]
    IntegerOverflow,
    #[error("leading zeros in decimal integer literals are not permitted")]
    LeadingZeros,
    #[error("invalid decimal literal")]
    InvalidNumber,
    #[error("set literals are not supported")]
    SetLiteral,
    /// Holds the Python type name of the key, `list` or `dict`.
    #[error("unhashable dict key of type {0}")]
    UnhashableKey(&'static str),
    #[error("nul character in input")]
    NulCharacter,
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

impl ParseError {
    fn new(kind: ErrorKind, offset: usize) -> Self {
        ParseError(Box::new(ErrorAt { kind, offset }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Byte offset into the input: the opening quote of an unterminated string, the backslash of
    /// a bad escape, the first digit or sign of a bad number, otherwise the offending character.
    pub fn offset(&self) -> usize {
        self.0.offset
    }
}

/// Parses one Python literal; anything but whitespace after it is an error.
pub fn parse(input: &str) -> Result<Value<'_>, ParseError> {
    let mut parser = Parser {
        src: input,
        bytes: input.as_bytes(),
        pos: 0,
        depth: 0,
        items: Vec::new(),
        pairs: Vec::new(),
    };
    parser.skip_leading();
    let value = parser.value()?;
    parser.skip_trailing();
    match parser.bytes.get(parser.pos) {
        None => Ok(value),
        Some(0) => Err(ParseError::new(ErrorKind::NulCharacter, parser.pos)),
        Some(_) => Err(ParseError::new(ErrorKind::TrailingCharacters, parser.pos)),
    }
}

impl<'a> Value<'a> {
    /// The value under string key `key` if this is a dict.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Dict(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer if this is an int (not a bool, not a float).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The elements if this is a list (not a tuple).
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The key-value pairs, in order, if this is a dict.
    pub fn as_dict(&self) -> Option<&[(Value<'a>, Value<'a>)]> {
        match self {
            Value::Dict(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// Python's name for the type: `NoneType`, `bool`, `int`, `float`, `str`, `list`, `tuple`,
    /// `dict`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
        }
    }

    /// Copies borrowed strings so the value outlives the input.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::None => Value::None,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::List(items) => Value::List(items.into_iter().map(Value::into_owned).collect()),
            Value::Tuple(items) => Value::Tuple(items.into_iter().map(Value::into_owned).collect()),
            Value::Dict(pairs) => Value::Dict(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON as Python's `json.dumps` would, for storing: tuples become arrays,
    /// `inf` (from `1e400`) becomes `null`, and int, float, bool and `None` dict keys become
    /// strings (`"1"`, `"true"`, `"null"`); a tuple key, which `json.dumps` refuses, becomes the
    /// JSON text of the array. Keys that meet as strings (`1` and `'1'`) keep the last value.
    /// Object keys come out sorted: serde_json's map sorts them (no `preserve_order` feature).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::None => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.to_string()),
            Value::List(items) | Value::Tuple(items) => {
                Json::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Dict(pairs) => Json::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.json_key(), v.to_json()))
                    .collect(),
            ),
        }
    }

    fn json_key(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            Value::None => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => python_float_repr(*f),
            other => other.to_json().to_string(),
        }
    }
}

/// Python's `repr` of a float: shortest round-trip digits, positional for exponents -4..16.
fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned(); // what json.dumps writes; a literal cannot produce it
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e16".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            let zeros = "0".repeat(point as usize - digits.len());
            format!("{sign}{digits}{zeros}.0")
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{sign}{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs())
    }
}

impl fmt::Display for Value<'_> {
    /// Compact JSON, as [`Value::to_json`] (a string key shows as `"name"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

// Byte classes. A string's fast scan stops only at bytes flagged STR_STOP.
const STR_STOP: u8 = 1;
const IDENT: u8 = 2;

static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let stops = [b'\'', b'"', b'\\', b'\n', b'\r', 0];
    let mut i = 0;
    while i < stops.len() {
        table[stops[i] as usize] |= STR_STOP;
        i += 1;
    }
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            table[b] |= IDENT;
        }
        b += 1;
    }
    table
};

/// The first position from `pos` holding a byte that ends a string's plain run (a quote,
/// backslash, line break or NUL), or `bytes.len()`. Tests 8 bytes at a time: a byte equals `b`
/// where `x = word ^ (b * 0x01..01)` has a zero byte, and `(x - 0x01..01) & !x & 0x80..80`
/// flags zero bytes exactly from the lowest one up, which is the one we want.
#[inline]
fn find_string_stop(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    #[inline(always)]
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(ONES) & !x & HIGHS
    }
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let hits = zero_bytes(word ^ (ONES * u64::from(b'\'')))
            | zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')))
            | zero_bytes(word ^ (ONES * u64::from(b'\n')))
            | zero_bytes(word ^ (ONES * u64::from(b'\r')))
            | zero_bytes(word);
        if hits != 0 {
            return pos + (hits.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while pos < bytes.len() && CLASS[bytes[pos] as usize] & STR_STOP == 0 {
        pos += 1;
    }
    pos
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Scratch stack for list and tuple elements, so each container allocates once.
    items: Vec<Value<'a>>,
    /// Scratch stack for dict pairs.
    pairs: Vec<(Value<'a>, Value<'a>)>,
}

impl<'a> Parser<'a> {
    fn err<T>(&self, kind: ErrorKind, offset: usize) -> Result<T, ParseError> {
        Err(ParseError::new(kind, offset))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Error for the byte at `pos` when `expected` was wanted.
    fn unexpected<T>(&self, expected: &'static str) -> Result<T, ParseError> {
        match self.src[self.pos..].chars().next() {
            None => self.err(ErrorKind::UnexpectedEnd(expected), self.pos),
            Some('\0') => self.err(ErrorKind::NulCharacter, self.pos),
            Some(found) => self.err(ErrorKind::UnexpectedChar { found, expected }, self.pos),
        }
    }

    /// Length of the line break at `at` (`\n`, `\r\n`, `\r`), or 0.
    fn newline_len(&self, at: usize) -> usize {
        match self.bytes.get(at) {
            Some(b'\n') => 1,
            Some(b'\r') if self.bytes.get(at + 1) == Some(&b'\n') => 2,
            Some(b'\r') => 1,
            _ => 0,
        }
    }

    /// Whitespace between tokens. Inside brackets line breaks are whitespace too; a backslash
    /// directly before a line break joins lines everywhere.
    fn skip_ws(&mut self) {
        let nested = self.depth > 0;
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'\n' | b'\r' if nested => self.pos += 1,
                b'\\' => match self.newline_len(self.pos + 1) {
                    0 => return,
                    n => self.pos += 1 + n,
                },
                _ => return,
            }
        }
    }

    fn skip_while(&mut self, set: &[u8]) {
        while self.peek().is_some_and(|b| set.contains(&b)) {
            self.pos += 1;
        }
    }

    /// What may precede the value: `literal_eval` strips spaces and tabs, then blank lines are
    /// fine but the value's own line must not be indented (form feeds reset the indentation).
    fn skip_leading(&mut self) {
        self.skip_while(b" \t");
        self.skip_blank_lines();
        self.skip_while(b"\x0c");
    }

    /// What may follow the value: spaces on its line, then blank lines that each end in a line
    /// break (a last line of spaces is an "unexpected indent" in Python; form feeds are not).
    fn skip_trailing(&mut self) {
        self.skip_while(b" \t\x0c");
        let n = self.newline_len(self.pos);
        if n > 0 {
            self.pos += n;
            self.skip_blank_lines();
            self.skip_while(b"\x0c");
        }
    }

    fn skip_blank_lines(&mut self) {
        loop {
            let start = self.pos;
            self.skip_while(b" \t\x0c");
            match self.newline_len(self.pos) {
                0 => {
                    self.pos = start;
                    return;
                }
                n => self.pos += n,
            }
        }
    }

    fn value(&mut self) -> Result<Value<'a>, ParseError> {
        let Some(b) = self.peek() else {
            return self.unexpected("a value");
        };
        match b {
            b'\'' | b'"' => self.string(b).map(Value::Str),
            b'[' => self.list(),
            b'(' => self.tuple(),
            b'{' => self.dict(),
            b'0'..=b'9' | b'.' | b'-' | b'+' => self.number(),
            _ if CLASS[b as usize] & IDENT != 0 => self.name(),
            _ => self.unexpected("a value"),
        }
    }

    fn name(&mut self) -> Result<Value<'a>, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| CLASS[b as usize] & IDENT != 0) {
            self.pos += 1;
        }
        let name = &self.src[start..self.pos];
        match name {
            "None" => Ok(Value::None),
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            _ if matches!(self.peek(), Some(b'\'' | b'"'))
                && matches!(
                    name.to_ascii_lowercase().as_str(),
                    "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf"
                ) =>
            {
                self.err(ErrorKind::StringPrefix(name.to_owned()), start)
            }
            _ => self.err(ErrorKind::UnknownName(name.to_owned()), start),
        }
    }

    fn open(&mut self) -> Result<(), ParseError> {
        if self.depth == MAX_DEPTH {
            return self.err(ErrorKind::TooDeep, self.pos);
        }
        self.depth += 1;
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    /// After an element: skips `,` and whitespace and returns true if `close` ends the sequence.
    fn next_element(&mut self, close: u8, expected: &'static str) -> Result<bool, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                Ok(self.close(close))
            }
            Some(b) if b == close => Ok(self.close(close)),
            _ => self.unexpected(expected),
        }
    }

    /// Consumes `close` if it is next.
    fn close(&mut self, close: u8) -> bool {
        if self.peek() == Some(close) {
            self.pos += 1;
            self.depth -= 1;
            true
        } else {
            false
        }
    }

    fn list(&mut self) -> Result<Value<'a>, ParseError> {
        self.open()?;
        let start = self.items.len();
        if !self.close(b']') {
            loop {
                let item = self.value()?;
                self.items.push(item);
                if self.next_element(b']', "',' or ']'")? {
                    break;
                }
            }
        }
        Ok(Value::List(self.items.drain(start..).collect()))
    }

    /// A tuple, or a parenthesized value: `(1)` is `1`, `(1,)` a tuple.
    fn tuple(&mut self) -> Result<Value<'a>, ParseError> {
        self.open()?;
        if self.close(b')') {
            return Ok(Value::Tuple(Vec::new()));
        }
        let first = self.value()?;
        self.skip_ws();
        if self.close(b')') {
            return Ok(first);
        }
        if self.peek() != Some(b',') {
            return self.unexpected("',' or ')'");
        }
        let start = self.items.len();
        self.items.push(first);
        self.pos += 1;
        self.skip_ws();
        while !self.close(b')') {
            let item = self.value()?;
            self.items.push(item);
            if self.next_element(b')', "',' or ')'")? {
                break;
            }
        }
        Ok(Value::Tuple(self.items.drain(start..).collect()))
    }

    fn dict(&mut self) -> Result<Value<'a>, ParseError> {
        self.open()?;
        let start = self.pairs.len();
        let mut index: Option<HashMap<u64, usize>> = None;
        if !self.close(b'}') {
            loop {
                let key_at = self.pos;
                let key = self.value()?;
                if let Some(kind) = unhashable(&key) {
                    return self.err(ErrorKind::UnhashableKey(kind), key_at);
                }
                self.skip_ws();
                match self.peek() {
                    Some(b':') => self.pos += 1,
                    Some(b',' | b'}') if self.pairs.len() == start => {
                        return self.err(ErrorKind::SetLiteral, self.pos);
                    }
                    _ => return self.unexpected("':'"),
                }
                self.skip_ws();
                let value = self.value()?;
                insert_pair(&mut self.pairs, start, &mut index, key, value);
                if self.next_element(b'}', "',' or '}'")? {
                    break;
                }
            }
        }
        Ok(Value::Dict(self.pairs.drain(start..).collect()))
    }

    fn number(&mut self) -> Result<Value<'a>, ParseError> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => true,
            Some(b'+') => false,
            _ => return self.unsigned_number(start, false),
        };
        self.pos += 1;
        self.skip_ws();
        match self.peek() {
            Some(b'0'..=b'9' | b'.') => self.unsigned_number(start, negative),
            // `-inf`: report the name; `-True` is the sign's fault.
            Some(b) if CLASS[b as usize] & IDENT != 0 => {
                let at = self.pos;
                self.name()?;
                self.pos = at;
                self.unexpected("a number after the sign")
            }
            _ => self.unexpected("a number after the sign"),
        }
    }

    /// `start` is where the sign (if any) was, for error offsets.
    fn unsigned_number(&mut self, start: usize, negative: bool) -> Result<Value<'a>, ParseError> {
        let digits_at = self.pos;
        let int_digits = self.digits();
        let mut float = false;
        let mut frac_digits = 0;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            frac_digits = self.digits();
        }
        if int_digits + frac_digits == 0 {
            // A lone '.' (or sign followed by '.').
            return self.err(ErrorKind::InvalidNumber, start);
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.err(ErrorKind::InvalidNumber, start);
            }
            float = true;
        }
        let text = &self.src[digits_at..self.pos];
        if float {
            let f: f64 = text
                .parse()
                .expect("validated decimal float syntax parses as f64");
            return Ok(Value::Float(if negative { -f } else { f }));
        }
        let bytes = text.as_bytes();
        if bytes.len() > 1 && bytes[0] == b'0' {
            return if bytes.iter().all(|&b| b == b'0') {
                Ok(Value::Int(0))
            } else {
                self.err(ErrorKind::LeadingZeros, start)
            };
        }
        let mut magnitude: u64 = 0;
        for &b in bytes {
            magnitude = match magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(b - b'0')))
            {
                Some(m) => m,
                None => return self.err(ErrorKind::IntegerOverflow, start),
            };
        }
        let value = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        match value {
            Some(i) => Ok(Value::Int(i)),
            None => self.err(ErrorKind::IntegerOverflow, start),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A string literal opening with `quote` at `pos`.
    fn string(&mut self, quote: u8) -> Result<Cow<'a, str>, ParseError> {
        let open = self.pos;
        let bytes = self.bytes;
        let mut pos = open + 1;
        // Fast path: no escapes, borrow.
        loop {
            pos = find_string_stop(bytes, pos);
            match bytes.get(pos) {
                Some(&b) if b == quote => {
                    self.pos = pos + 1;
                    return Ok(Cow::Borrowed(&self.src[open + 1..pos]));
                }
                Some(b'\'' | b'"') => pos += 1, // the other quote
                Some(b'\\') => break,
                Some(0) => return self.err(ErrorKind::NulCharacter, pos),
                _ => return self.err(ErrorKind::UnterminatedString, open),
            }
        }
        let mut out = String::with_capacity(pos - open + 16);
        out.push_str(&self.src[open + 1..pos]);
        loop {
            // `pos` is at a backslash.
            pos = self.escape(open, pos, &mut out)?;
            let run = pos;
            loop {
                pos = find_string_stop(bytes, pos);
                match bytes.get(pos) {
                    Some(&b) if b == quote => {
                        out.push_str(&self.src[run..pos]);
                        self.pos = pos + 1;
                        return Ok(Cow::Owned(out));
                    }
                    Some(b'\'' | b'"') => pos += 1,
                    Some(b'\\') => break,
                    Some(0) => return self.err(ErrorKind::NulCharacter, pos),
                    _ => return self.err(ErrorKind::UnterminatedString, open),
                }
            }
            out.push_str(&self.src[run..pos]);
        }
    }

    /// Decodes the escape whose backslash is at `at` into `out`; returns the position after it.
    fn escape(&self, open: usize, at: usize, out: &mut String) -> Result<usize, ParseError> {
        let Some(&b) = self.bytes.get(at + 1) else {
            return self.err(ErrorKind::UnterminatedString, open);
        };
        let simple = match b {
            b'\\' => '\\',
            b'\'' => '\'',
            b'"' => '"',
            b'a' => '\x07',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'v' => '\x0b',
            b'\n' | b'\r' => return Ok(at + 1 + self.newline_len(at + 1)),
            b'0'..=b'7' => {
                let mut end = at + 2;
                let mut code = u32::from(b - b'0');
                while end < at + 4 && matches!(self.bytes.get(end), Some(b'0'..=b'7')) {
                    code = code * 8 + u32::from(self.bytes[end] - b'0');
                    end += 1;
                }
                out.push(char::from_u32(code).expect("octal escapes are at most 0o777"));
                return Ok(end);
            }
            b'x' => return self.hex_escape(at, 2, "\\xXX", out),
            b'u' => return self.hex_escape(at, 4, "\\uXXXX", out),
            b'U' => return self.hex_escape(at, 8, "\\UXXXXXXXX", out),
            b'N' => return self.err(ErrorKind::NamedEscape, at),
            0 => return self.err(ErrorKind::NulCharacter, at + 1),
            // Unknown escapes such as `\q` keep the backslash; the next character is ordinary.
            _ => {
                out.push('\\');
                return Ok(at + 1);
            }
        };
        out.push(simple);
        Ok(at + 2)
    }

    fn hex_escape(
        &self,
        at: usize,
        len: usize,
        pattern: &'static str,
        out: &mut String,
    ) -> Result<usize, ParseError> {
        let mut code: u32 = 0;
        for i in 0..len {
            match self
                .bytes
                .get(at + 2 + i)
                .and_then(|&b| (b as char).to_digit(16))
            {
                Some(d) => code = code * 16 + d,
                None => return self.err(ErrorKind::TruncatedEscape(pattern), at),
            }
        }
        match char::from_u32(code) {
            Some(c) => out.push(c),
            None if (0xD800..0xE000).contains(&code) => {
                return self.err(ErrorKind::Surrogate(code), at);
            }
            None => return self.err(ErrorKind::InvalidCodePoint(code), at),
        }
        Ok(at + 2 + len)
    }
}

/// The type name if `key` cannot be a dict key in Python (a list or dict, also inside a tuple).
fn unhashable(key: &Value<'_>) -> Option<&'static str> {
    match key {
        Value::List(_) | Value::Dict(_) => Some(key.type_name()),
        Value::Tuple(items) => items.iter().find_map(unhashable),
        _ => None,
    }
}

/// Dicts up to this many keys find duplicates by scanning; larger ones use a hash index.
const SCAN_LIMIT: usize = 16;

/// Inserts as Python's dict display does: a key equal to an earlier one replaces that pair's
/// value and keeps the earlier key.
fn insert_pair<'a>(
    pairs: &mut Vec<(Value<'a>, Value<'a>)>,
    start: usize,
    index: &mut Option<HashMap<u64, usize>>,
    key: Value<'a>,
    value: Value<'a>,
) {
    let len = pairs.len() - start;
    if len < SCAN_LIMIT {
        if let Some(pair) = pairs[start..].iter_mut().find(|(k, _)| py_eq(k, &key)) {
            pair.1 = value;
        } else {
            pairs.push((key, value));
        }
        return;
    }
    let index = index.get_or_insert_with(|| {
        let mut map = HashMap::with_capacity(len * 2);
        for (i, (k, _)) in pairs[start..].iter().enumerate() {
            map.entry(py_hash(k)).or_insert(start + i);
        }
        map
    });
    let hash = py_hash(&key);
    let found = match index.get(&hash) {
        Some(&i) if py_eq(&pairs[i].0, &key) => Some(i),
        // A 64-bit hash collision between different keys: fall back to scanning.
        Some(_) => (start..pairs.len()).find(|&i| py_eq(&pairs[i].0, &key)),
        None => None,
    };
    match found {
        Some(i) => pairs[i].1 = value,
        None => {
            index.entry(hash).or_insert(pairs.len());
            pairs.push((key, value));
        }
    }
}

/// A number as Python compares it: ints, bools and integral floats in i64 range as integers.
#[derive(Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    Float(f64),
}

fn as_num(v: &Value<'_>) -> Option<Num> {
    match *v {
        Value::Bool(b) => Some(Num::Int(i64::from(b))),
        Value::Int(i) => Some(Num::Int(i)),
        // 2^63 is not an i64; -2^63 is. Casting in range is exact for integral floats.
        Value::Float(f)
            if f.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
        {
            Some(Num::Int(f as i64))
        }
        Value::Float(f) => Some(Num::Float(f)),
        _ => None,
    }
}

/// Python's `==` for hashable literal values.
fn py_eq(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Tuple(x), Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        _ => match (as_num(a), as_num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// A hash consistent with [`py_eq`].
fn py_hash(v: &Value<'_>) -> u64 {
    fn feed(v: &Value<'_>, h: &mut DefaultHasher) {
        match v {
            Value::Str(s) => {
                0u8.hash(h);
                s.hash(h);
            }
            Value::Tuple(items) => {
                1u8.hash(h);
                items.len().hash(h);
                for item in items {
                    feed(item, h);
                }
            }
            Value::None => 2u8.hash(h),
            _ => match as_num(v) {
                Some(Num::Int(i)) => {
                    3u8.hash(h);
                    i.hash(h);
                }
                Some(Num::Float(f)) => {
                    4u8.hash(h);
                    f.to_bits().hash(h);
                }
                None => 5u8.hash(h),
            },
        }
    }
    let mut h = DefaultHasher::new();
    feed(v, &mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Value<'_> {
        parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    fn err(input: &str) -> ParseError {
        match parse(input) {
            Ok(v) => panic!("{input:?} parsed as {v:?}"),
            Err(e) => e,
        }
    }

    fn s(text: &str) -> Value<'static> {
        Value::Str(Cow::Owned(text.to_owned()))
    }

    fn string(input: &str) -> String {
        match ok(input) {
            Value::Str(s) => s.into_owned(),
            other => panic!("{input:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn keywords_and_numbers() {
        assert_eq!(ok("None"), Value::None);
        assert_eq!(ok("True"), Value::Bool(true));
        assert_eq!(ok("False"), Value::Bool(false));
        assert_eq!(ok("0"), Value::Int(0));
        assert_eq!(ok("000"), Value::Int(0));
        assert_eq!(ok("-0"), Value::Int(0));
        assert_eq!(ok("+17"), Value::Int(17));
        assert_eq!(ok("- 17"), Value::Int(-17));
        assert_eq!(ok("9223372036854775807"), Value::Int(i64::MAX));
        assert_eq!(ok("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(ok("1.5"), Value::Float(1.5));
        assert_eq!(ok("1e-05"), Value::Float(1e-5));
        assert_eq!(ok("1E+16"), Value::Float(1e16));
        assert_eq!(ok("1."), Value::Float(1.0));
        assert_eq!(ok(".5"), Value::Float(0.5));
        assert_eq!(ok("-.5e1"), Value::Float(-5.0));
        assert_eq!(ok("1.e2"), Value::Float(100.0));
        assert_eq!(ok("012.5"), Value::Float(12.5));
        assert_eq!(ok("012e1"), Value::Float(120.0));
        assert_eq!(ok("1e400"), Value::Float(f64::INFINITY));
        assert_eq!(ok("-1e400"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(ok("1e-400"), Value::Float(0.0));
        let Value::Float(z) = ok("-0.0") else {
            panic!()
        };
        assert!(z == 0.0 && z.is_sign_negative());
    }

    #[test]
    fn bad_numbers() {
        assert_eq!(err("012").kind(), &ErrorKind::LeadingZeros);
        assert_eq!(
            err("9223372036854775808").kind(),
            &ErrorKind::IntegerOverflow
        );
        assert_eq!(
            err("-9223372036854775809").kind(),
            &ErrorKind::IntegerOverflow
        );
        assert_eq!(
            err("[1, 99999999999999999999999]").to_string(),
            "integer does not fit in 64 bits at byte 4"
        );
        assert_eq!(err("1e").kind(), &ErrorKind::InvalidNumber);
        assert_eq!(err("1e+").kind(), &ErrorKind::InvalidNumber);
        assert_eq!(err(".").kind(), &ErrorKind::InvalidNumber);
        assert_eq!(
            err("-").kind(),
            &ErrorKind::UnexpectedEnd("a number after the sign")
        );
        assert_eq!(
            err("--1").to_string(),
            "unexpected '-', expected a number after the sign at byte 1"
        );
        assert_eq!(err("-True").offset(), 1);
        assert_eq!(err("1_000").kind(), &ErrorKind::TrailingCharacters);
        assert_eq!(err("0x10").kind(), &ErrorKind::TrailingCharacters);
        assert_eq!(err("1j").kind(), &ErrorKind::TrailingCharacters);
        assert_eq!(err("1.5.2").kind(), &ErrorKind::TrailingCharacters);
        assert_eq!(
            err("-\n1").offset(),
            1,
            "a line break ends a top-level expression"
        );
        assert_eq!(ok("[-\n1]"), Value::List(vec![Value::Int(-1)]));
    }

    #[test]
    fn nan_and_inf_are_names_not_literals() {
        assert_eq!(
            err("nan").to_string(),
            "name \"nan\" is not a python literal at byte 0"
        );
        assert_eq!(
            err("[1.0, inf]").kind(),
            &ErrorKind::UnknownName("inf".into())
        );
        assert_eq!(err("-inf").kind(), &ErrorKind::UnknownName("inf".into()));
        assert_eq!(err("-inf").offset(), 1);
        assert_eq!(
            err("-True").kind(),
            &ErrorKind::UnexpectedChar {
                found: 'T',
                expected: "a number after the sign"
            }
        );
        assert_eq!(
            err("[Nonesuch]").kind(),
            &ErrorKind::UnknownName("Nonesuch".into())
        );
        assert_eq!(
            err("[True1]").kind(),
            &ErrorKind::UnknownName("True1".into())
        );
        assert_eq!(err("none").kind(), &ErrorKind::UnknownName("none".into()));
    }

    #[test]
    fn every_escape() {
        assert_eq!(string(r"'\\'"), "\\");
        assert_eq!(string(r"'\''"), "'");
        assert_eq!(string(r#"'\"'"#), "\"");
        assert_eq!(string(r#""\'""#), "'");
        assert_eq!(string(r"'\a\b\f\n\r\t\v'"), "\x07\x08\x0c\n\r\t\x0b");
        assert_eq!(string(r"'\0'"), "\0");
        assert_eq!(string(r"'\08'"), "\x008");
        assert_eq!(string(r"'\101\1011'"), "AA1");
        assert_eq!(string(r"'\7\77\777'"), "\x07?\u{1ff}");
        assert_eq!(string(r"'\x41\xa0\xFF'"), "A\u{a0}\u{ff}");
        assert_eq!(string(r"'\u00e9\u20AC'"), "é€");
        assert_eq!(string(r"'\U0001F600'"), "😀");
        assert_eq!(string(r"'\U0010ffff'"), "\u{10ffff}");
        assert_eq!(string("'a\\\nb'"), "ab");
        assert_eq!(string("'a\\\r\nb'"), "ab");
        assert_eq!(string("'a\\\rb'"), "ab");
        assert_eq!(string("'\\\n'"), "");
    }

    #[test]
    fn unknown_escapes_keep_the_backslash() {
        assert_eq!(string(r"'\q'"), "\\q");
        assert_eq!(string(r"'\8\9'"), "\\8\\9");
        assert_eq!(string(r"'\ '"), "\\ ");
        assert_eq!(string(r"'\é'"), "\\é");
        assert_eq!(string(r"'C:\dir\game'"), "C:\\dir\\game");
        assert_eq!(string(r"'\\q'"), "\\q");
    }

    #[test]
    fn bad_escapes() {
        assert_eq!(
            err(r"'\x4'").to_string(),
            "truncated \\xXX escape at byte 1"
        );
        assert_eq!(err(r"'\x4g'").kind(), &ErrorKind::TruncatedEscape("\\xXX"));
        assert_eq!(
            err(r"'ab\u12'").to_string(),
            "truncated \\uXXXX escape at byte 3"
        );
        assert_eq!(
            err(r"'\U0001F60'").kind(),
            &ErrorKind::TruncatedEscape("\\UXXXXXXXX")
        );
        assert_eq!(
            err(r"'\U00110000'").kind(),
            &ErrorKind::InvalidCodePoint(0x110000)
        );
        assert_eq!(err(r"'\N{BULLET}'").kind(), &ErrorKind::NamedEscape);
        assert_eq!(err("'\\").kind(), &ErrorKind::UnterminatedString);
    }

    #[test]
    fn surrogate_escapes_are_rejected() {
        let e = err(r"['ok', '\ud800']");
        assert_eq!(e.kind(), &ErrorKind::Surrogate(0xd800));
        assert_eq!(
            e.to_string(),
            "surrogate escape \\ud800 cannot be represented in utf-8 at byte 8"
        );
        // Python does not pair escaped surrogates; '\ud83d\ude00' is two lone surrogates.
        assert_eq!(err(r"'\ud83d\ude00'").kind(), &ErrorKind::Surrogate(0xd83d));
        assert_eq!(err(r"'\U0000dfff'").kind(), &ErrorKind::Surrogate(0xdfff));
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        assert!(matches!(
            ok("'Tom Hanks'"),
            Value::Str(Cow::Borrowed("Tom Hanks"))
        ));
        assert!(matches!(ok("\"it's\""), Value::Str(Cow::Borrowed("it's"))));
        assert!(matches!(ok("''"), Value::Str(Cow::Borrowed(""))));
        assert!(matches!(ok(r"'a\tb'"), Value::Str(Cow::Owned(_))));
    }

    #[test]
    fn raw_characters_in_strings() {
        // Everything but line breaks, NUL, the quote and the backslash may appear raw.
        assert_eq!(
            string("'a\tb\x0b\x0c\x1f\x7f\u{85}\u{2028}c'"),
            "a\tb\x0b\x0c\x1f\x7f\u{85}\u{2028}c"
        );
        assert_eq!(
            err("'a\nb'").to_string(),
            "unterminated string literal at byte 0"
        );
        assert_eq!(
            err("['x', 'a\rb']").to_string(),
            "unterminated string literal at byte 6"
        );
        assert_eq!(
            err("'a\0b'").to_string(),
            "nul character in input at byte 2"
        );
        assert_eq!(err("[1]\0").kind(), &ErrorKind::NulCharacter);
        assert_eq!(err("'abc").kind(), &ErrorKind::UnterminatedString);
        assert_eq!(err("\"abc'").kind(), &ErrorKind::UnterminatedString);
    }

    #[test]
    fn real_data_quirks() {
        let v = ok(
            r#"[{'id': 15101, 'name': "based on children's book"}, {'id': 9, 'name': '\xa0nightgown'}, {'id': 3, 'name': 'für elise'}]"#,
        );
        let names: Vec<_> = v
            .as_list()
            .unwrap()
            .iter()
            .map(|k| k.get("name").and_then(Value::as_str).unwrap())
            .collect();
        assert_eq!(
            names,
            ["based on children's book", "\u{a0}nightgown", "für elise"]
        );
        assert_eq!(
            v.as_list().unwrap()[0].get("id").and_then(Value::as_i64),
            Some(15101)
        );
        assert_eq!(string("'🎬 ok 😀'"), "🎬 ok 😀");
        assert_eq!(string(r"'\U0001f3ac'"), "🎬");
    }

    #[test]
    fn cast_element() {
        let v = ok(
            "[{'cast_id': 14, 'character': 'Woody (voice)', 'credit_id': '52fe4284c3a36847f8024f95', 'gender': 2, 'id': 31, 'name': 'Tom Hanks', 'order': 0, 'profile_path': None}]",
        );
        let woody = &v.as_list().unwrap()[0];
        assert_eq!(woody.get("name").and_then(Value::as_str), Some("Tom Hanks"));
        assert_eq!(woody.get("order").and_then(Value::as_i64), Some(0));
        assert!(woody.get("profile_path").unwrap().is_none());
        assert_eq!(woody.get("missing"), None);
        assert_eq!(woody.as_dict().unwrap().len(), 8);
    }

    #[test]
    fn containers() {
        assert_eq!(ok("[]"), Value::List(vec![]));
        assert_eq!(ok("[ ]"), Value::List(vec![]));
        assert_eq!(ok("{}"), Value::Dict(vec![]));
        assert_eq!(ok("()"), Value::Tuple(vec![]));
        assert_eq!(ok("(1,)"), Value::Tuple(vec![Value::Int(1)]));
        assert_eq!(
            ok("(1, 2,)"),
            Value::Tuple(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(ok("[1,]"), Value::List(vec![Value::Int(1)]));
        assert_eq!(
            ok("(1)"),
            Value::Int(1),
            "parentheses alone do not make a tuple"
        );
        assert_eq!(ok("(('a'))"), s("a"));
        assert_eq!(ok("((1,))"), Value::Tuple(vec![Value::Int(1)]));
        assert_eq!(
            ok("{'a': [1, (2.5, None)], (1, 'b'): {'c': True}}"),
            Value::Dict(vec![
                (
                    s("a"),
                    Value::List(vec![
                        Value::Int(1),
                        Value::Tuple(vec![Value::Float(2.5), Value::None])
                    ])
                ),
                (
                    Value::Tuple(vec![Value::Int(1), s("b")]),
                    Value::Dict(vec![(s("c"), Value::Bool(true))])
                ),
            ])
        );
    }

    #[test]
    fn duplicate_keys_follow_python() {
        // Python: {1: 'a', 1.0: 'b', True: 'c'} == {1: 'c'}; the first key stays.
        assert_eq!(
            ok("{1: 'a', 1.0: 'b', True: 'c', 'x': 0}"),
            Value::Dict(vec![(Value::Int(1), s("c")), (s("x"), Value::Int(0))])
        );
        assert_eq!(
            ok("{0: 1, -0.0: 2, False: 3}"),
            Value::Dict(vec![(Value::Int(0), Value::Int(3))])
        );
        assert_eq!(
            ok("{(1, 'a'): 1, (1.0, 'a'): 2}").as_dict().unwrap().len(),
            1
        );
        // 2**53 + 1 and float(2**53 + 1) differ in Python.
        assert_eq!(
            ok("{9007199254740993: 1, 9007199254740993.0: 2}")
                .as_dict()
                .unwrap()
                .len(),
            2
        );
        // Large dicts use the hash index.
        let text = format!(
            "{{{}, 5: 'again', 5.0: 'last', 'k7': 'str'}}",
            (0..100)
                .map(|i| format!("{i}: {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let v = ok(&text);
        let pairs = v.as_dict().unwrap();
        assert_eq!(pairs.len(), 101);
        assert_eq!(pairs[5], (Value::Int(5), s("last")));
        assert_eq!(pairs[100], (s("k7"), s("str")));
    }

    #[test]
    fn unhashable_keys_and_sets() {
        assert_eq!(err("{[1]: 2}").kind(), &ErrorKind::UnhashableKey("list"));
        assert_eq!(
            err("{'a': 1, (1, {}): 2}").to_string(),
            "unhashable dict key of type dict at byte 9"
        );
        assert_eq!(err("{1, 2}").kind(), &ErrorKind::SetLiteral);
        assert_eq!(err("{1}").kind(), &ErrorKind::SetLiteral);
    }

    #[test]
    fn whitespace_where_python_allows_it() {
        let v = Value::List(vec![Value::Int(1), Value::Int(2)]);
        for text in [
            " \t[1, 2]",
            "[\n 1 ,\r\n\t2\x0c,\r]",
            "[1,\\\n2]",
            "[1,\\\r\n2]",
            "\n\n[1,2]",
            "\r\n \n[1,2]",
            " \x0c[1,2]",
            "[1,2]\n",
            "[1,2] \t\x0c\r\n\n  \n\x0c",
        ] {
            assert_eq!(ok(text), v, "{text:?}");
        }
        assert_eq!(ok("-\\\n1"), Value::Int(-1));
        assert_eq!(ok("- \x0c1"), Value::Int(-1));
        assert_eq!(
            ok("{'a'\n:\n1}"),
            Value::Dict(vec![(s("a"), Value::Int(1))])
        );
        // Python rejects these as indentation errors or stray characters.
        for text in [
            "\n [1]",
            "\x0c [1]",
            "[1]\n ",
            "[1]\n\t",
            "\x0b[1]",
            "[1\\ \n]",
            "[1] \\\n",
            "\u{feff}[1]",
            "[1]\u{a0}",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn structural_errors() {
        assert_eq!(
            err("").to_string(),
            "unexpected end of input, expected a value at byte 0"
        );
        assert_eq!(err("  ").offset(), 2);
        assert_eq!(
            err("[1, 2").to_string(),
            "unexpected end of input, expected ',' or ']' at byte 5"
        );
        assert_eq!(
            err("[1, 2)").to_string(),
            "unexpected ')', expected ',' or ']' at byte 5"
        );
        assert_eq!(
            err("(1, 2]").kind(),
            &ErrorKind::UnexpectedChar {
                found: ']',
                expected: "',' or ')'"
            }
        );
        assert_eq!(
            err("{'a' 1}").kind(),
            &ErrorKind::UnexpectedChar {
                found: '1',
                expected: "':'"
            }
        );
        assert_eq!(
            err("[1]]").to_string(),
            "unexpected trailing characters at byte 3"
        );
        assert_eq!(err("[1] x").offset(), 4);
        assert_eq!(err("1, 2").offset(), 1, "a bare tuple is not repr output");
        assert_eq!(err("'a' 'b'").offset(), 4, "no implicit concatenation");
        assert_eq!(
            err("[,]").kind(),
            &ErrorKind::UnexpectedChar {
                found: ',',
                expected: "a value"
            }
        );
        assert_eq!(err("(,)").offset(), 1);
        assert_eq!(err("[1,,2]").offset(), 3);
        assert_eq!(err("[1 2]").offset(), 3);
        assert_eq!(err("{'a': }").offset(), 6);
        assert_eq!(err("b'x'").kind(), &ErrorKind::StringPrefix("b".into()));
        assert_eq!(err("'''a'''").offset(), 2);
        assert_eq!(err("[1] # comment").offset(), 4);
        assert_eq!(
            err("]").kind(),
            &ErrorKind::UnexpectedChar {
                found: ']',
                expected: "a value"
            }
        );
    }

    #[test]
    fn offsets_count_bytes_not_chars() {
        // 'für' is 5 bytes, so the bad escape's backslash is at byte 10.
        let e = err(r"['für', '\x4']");
        assert_eq!(e.offset(), 10);
        let e = err("['😀', 'open");
        assert_eq!(e.to_string(), "unterminated string literal at byte 9");
    }

    #[test]
    fn nesting_limit_matches_python() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(err(&deep(MAX_DEPTH + 1)).kind(), &ErrorKind::TooDeep);
        assert_eq!(err(&deep(100_000)).offset(), MAX_DEPTH);
        let parens = format!("{}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(ok(&parens), Value::Int(1));
    }

    #[test]
    fn to_json_for_storage() {
        let v = ok(
            r#"{'name': "it's", 'ids': (1, 2.5), 'gone': None, 1: True, 2.5: 1e400, 1e16: 0, None: False}"#,
        );
        assert_eq!(
            v.to_json().to_string(),
            r#"{"1":true,"1e+16":0,"2.5":null,"gone":null,"ids":[1,2.5],"name":"it's","null":false}"#
        );
    }

    #[test]
    fn python_float_repr_matches_python() {
        for (f, repr) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (1e15, "1000000000000000.0"),
            (-2.5e-300, "-2.5e-300"),
            (0.1, "0.1"),
        ] {
            assert_eq!(python_float_repr(f), repr);
        }
    }

    #[test]
    fn word_scan_finds_the_same_stop_as_a_byte_scan() {
        let naive = |bytes: &[u8], from: usize| {
            (from..bytes.len())
                .find(|&i| CLASS[bytes[i] as usize] & STR_STOP != 0)
                .unwrap_or(bytes.len())
        };
        // Bytes next to the stops (0x01 above a zero borrows in the word trick), high bytes.
        let filler = [
            b'a', 0x01, 0x80, 0xff, b'&', b'(', b'[', b'\x0b', b'#', b'!',
        ];
        for stop in [b'\'', b'"', b'\\', b'\n', b'\r', 0] {
            for len in 0..24 {
                for at in 0..=len {
                    let mut bytes: Vec<u8> = (0..len).map(|i| filler[i % filler.len()]).collect();
                    if at < len {
                        bytes[at] = stop;
                        if at + 1 < len {
                            bytes[at + 1] = stop; // a second stop must not hide the first
                        }
                    }
                    for from in 0..=len {
                        assert_eq!(find_string_stop(&bytes, from), naive(&bytes, from));
                    }
                }
            }
        }
    }

    #[test]
    fn results_are_no_larger_than_values() {
        assert_eq!(
            std::mem::size_of::<Result<Value<'_>, ParseError>>(),
            std::mem::size_of::<Value<'_>>()
        );
    }

    #[test]
    fn into_owned_detaches_from_input() {
        let owned = {
            let text = String::from("['a', {'b': ('c',)}]");
            parse(&text).unwrap().into_owned()
        };
        assert_eq!(owned.as_list().unwrap()[0].as_str(), Some("a"));
        assert_eq!(owned.type_name(), "list");
    }
}
