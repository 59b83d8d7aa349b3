//! Checks `runner::pipelines::movies::pyliteral` against real Python: whatever the parser accepts must be what
//! `ast.literal_eval` gives for the same text. Three directions, each with one `python3` process
//! running `tests/fixtures/pyliteral/oracle.py`: random values rendered in Python syntax by Rust
//! (plus mutants of that text), random values rendered by Python's own `repr`, and every list
//! column literal in the real fixtures. Both sides print a canonical JSON form that tells apart
//! tuple and list, int and float (by IEEE bits), and keeps dict order, and the forms must match.
//! Without `python3` on PATH these tests fail; they never skip.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::Config;
use runner::pipelines::movies::pyliteral::{ErrorKind, Value, parse};
use serde_json::Value as Json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pyliteral")
        .join(name)
}

fn python(args: &[&str]) -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(fixture("oracle.py")).args(args);
    cmd
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    match cmd.spawn() {
        Ok(child) => child,
        Err(e) => panic!(
            "cannot run python3 ({e}): these tests compare the parser with Python's \
             ast.literal_eval; install python3 and put it on PATH (e.g. apt-get install python3)"
        ),
    }
}

/// The canonical form oracle.py prints, computed from our parse: the same text as Python's
/// `json.dumps(canon(v), separators=(",", ":"))`, compared as text (so nesting depth is no issue).
fn canon(v: &Value<'_>) -> String {
    fn write(v: &Value<'_>, out: &mut String) {
        match v {
            Value::None => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&format!(r#"{{"i":"{i}"}}"#)),
            Value::Float(f) => out.push_str(&format!(r#"{{"f":"{:016x}"}}"#, f.to_bits())),
            Value::Str(s) => {
                out.push_str(r#"{"s":"#);
                json_string(s, out);
                out.push('}');
            }
            Value::List(items) | Value::Tuple(items) => {
                let tag = if matches!(v, Value::List(_)) {
                    "l"
                } else {
                    "t"
                };
                out.push_str(&format!(r#"{{"{tag}":["#));
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push_str("]}");
            }
            Value::Dict(pairs) => {
                out.push_str(r#"{"d":["#);
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    write(k, out);
                    out.push(',');
                    write(v, out);
                    out.push(']');
                }
                out.push_str("]}");
            }
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii=True`.
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// A `python3 oracle.py eval` process answering one source text per line.
struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    fn start() -> Oracle {
        let mut child = spawn(python(&["eval"]));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Oracle {
            child,
            stdin,
            stdout,
        }
    }

    /// `Ok(canonical text)` or `Err(python's error)` for `ast.literal_eval(text)`.
    fn eval(&mut self, text: &str) -> Result<String, String> {
        let request = serde_json::to_string(text).expect("a str serializes");
        writeln!(self.stdin, "{request}")
            .and_then(|()| self.stdin.flush())
            .expect("writing to python3 oracle.py");
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .expect("reading from python3 oracle.py");
        assert!(
            n > 0,
            "python3 oracle.py exited early: {:?}",
            self.child.try_wait()
        );
        let line = line.trim_end_matches('\n');
        match line.split_once(' ') {
            Some(("ok", canon)) => Ok(canon.to_owned()),
            Some(("error", message)) => Err(message.to_owned()),
            _ => panic!("oracle.py wrote {line:?}"),
        }
    }
}

/// One oracle process shared by the proptests in this file.
fn shared_oracle() -> MutexGuard<'static, Oracle> {
    static ORACLE: OnceLock<Mutex<Oracle>> = OnceLock::new();
    ORACLE
        .get_or_init(|| Mutex::new(Oracle::start()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---- direction (a): Rust makes values, renders them in Python syntax, Python evaluates ----

/// SplitMix64, so one shrinkable `u64` seed picks every rendering choice.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[(self.next() % options.len() as u64) as usize]
    }
}

/// Renders `v` as Python source with randomly chosen quoting, escapes, number spellings,
/// trailing commas, redundant parentheses and whitespace. `nested` is true inside brackets,
/// where line breaks are whitespace too.
fn render(v: &Value<'_>, rng: &mut Rng, nested: bool, out: &mut String) {
    if rng.chance(4) {
        out.push('(');
        ws(rng, true, out);
        render(v, rng, true, out);
        ws(rng, true, out);
        out.push(')');
        return;
    }
    match v {
        Value::None => out.push_str("None"),
        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Int(i) => {
            if *i < 0 {
                out.push('-');
                ws(rng, nested, out);
            } else if rng.chance(10) {
                out.push('+');
                ws(rng, nested, out);
            }
            let magnitude = i.unsigned_abs();
            if magnitude == 0 && rng.chance(30) {
                out.push_str("000");
            } else {
                out.push_str(&magnitude.to_string());
            }
        }
        Value::Float(f) => {
            if f.is_sign_negative() {
                out.push('-');
                ws(rng, nested, out);
            } else if rng.chance(10) {
                out.push('+');
                ws(rng, nested, out);
            }
            out.push_str(&float_text(f.abs(), rng));
        }
        Value::Str(s) => string_text(s, rng, out),
        Value::List(items) => sequence(items, "[", "]", false, rng, out),
        Value::Tuple(items) => sequence(items, "(", ")", items.len() == 1, rng, out),
        Value::Dict(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                ws(rng, true, out);
                if i > 0 {
                    out.push(',');
                    ws(rng, true, out);
                }
                render(k, rng, true, out);
                ws(rng, true, out);
                out.push(':');
                ws(rng, true, out);
                render(v, rng, true, out);
            }
            if !pairs.is_empty() && rng.chance(20) {
                ws(rng, true, out);
                out.push(',');
            }
            ws(rng, true, out);
            out.push('}');
        }
    }
}

fn sequence(
    items: &[Value<'_>],
    open: &str,
    close: &str,
    comma_required: bool,
    rng: &mut Rng,
    out: &mut String,
) {
    out.push_str(open);
    for (i, item) in items.iter().enumerate() {
        ws(rng, true, out);
        if i > 0 {
            out.push(',');
            ws(rng, true, out);
        }
        render(item, rng, true, out);
    }
    if comma_required || (!items.is_empty() && rng.chance(20)) {
        ws(rng, true, out);
        out.push(',');
    }
    ws(rng, true, out);
    out.push_str(close);
}

/// Whitespace between tokens: usually none or a space.
fn ws(rng: &mut Rng, nested: bool, out: &mut String) {
    if !rng.chance(25) {
        return;
    }
    let inline: &[&str] = &[" ", "  ", "\t", "\x0c", "\\\n", "\\\r\n", "\\\r"];
    let breaks: &[&str] = &["\n", "\r\n", "\r", "\n    ", "\n\n\t"];
    out.push_str(if nested && rng.chance(40) {
        rng.pick(breaks)
    } else {
        rng.pick(inline)
    });
}

/// A spelling of the non-negative float `f` that Python and Rust read as a float.
fn float_text(f: f64, rng: &mut Rng) -> String {
    if f.is_infinite() {
        return rng.pick(&["1e400", "1E999", "9e99999"]).to_string();
    }
    let shortest = format!("{f:e}"); // "1.2345e-7", "0e0"
    let (mantissa, exp) = shortest.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    match rng.next() % 6 {
        0 => format!("{f:?}"), // "0.1", "1e-7", "1e16", "1.0"
        1 => format!("{mantissa}E{exp:+}"),
        2 => format!("00{mantissa}e{exp:03}"),
        3 => format!("{f:.40e}"), // more digits than needed: both sides round the same way
        4 if (0.0..1.0).contains(&f) => format!("{f:?}").trim_start_matches('0').to_owned(),
        5 if f.fract() == 0.0 && f < 1e20 => format!("{f:.0}."),
        _ => format!("{mantissa}e{exp}"),
    }
}

/// Characters that start a known escape after a backslash.
fn starts_escape(c: char) -> bool {
    matches!(
        c,
        '\\' | '\'' | '"' | 'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '0'
            ..='7' | 'x' | 'u' | 'U' | 'N' | '\n' | '\r'
    )
}

/// Needs no escape in a string quoted with `quote`.
fn raw_ok(c: char, quote: char) -> bool {
    !matches!(c, '\\' | '\n' | '\r' | '\0') && c != quote
}

fn string_text(s: &str, rng: &mut Rng, out: &mut String) {
    let quote = rng.pick(&['\'', '"']);
    let chars: Vec<char> = s.chars().collect();
    out.push(quote);
    let mut force_raw = false;
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        if std::mem::take(&mut force_raw) {
            out.push(c); // follows a raw backslash, making an unknown escape such as `\q`
            continue;
        }
        if rng.chance(3) {
            out.push_str(rng.pick(&["\\\n", "\\\r\n", "\\\r"])); // line continuation: no char
        }
        if c == '\\'
            && next.is_some_and(|n| raw_ok(n, quote) && !starts_escape(n))
            && rng.chance(50)
        {
            out.push('\\');
            force_raw = true;
            continue;
        }
        if raw_ok(c, quote) && rng.chance(60) {
            out.push(c);
            continue;
        }
        out.push_str(&escape(c, next, rng));
    }
    out.push(quote);
}

fn escape(c: char, next: Option<char>, rng: &mut Rng) -> String {
    let code = c as u32;
    let named = match c {
        '\\' => Some("\\\\"),
        '\'' => Some("\\'"),
        '"' => Some("\\\""),
        '\x07' => Some("\\a"),
        '\x08' => Some("\\b"),
        '\x0c' => Some("\\f"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        '\x0b' => Some("\\v"),
        '\0' if !next.is_some_and(|n| ('0'..='7').contains(&n)) => Some("\\0"),
        _ => None,
    };
    loop {
        match rng.next() % 6 {
            0 | 5 if named.is_some() => return named.unwrap().to_owned(),
            1 if code < 0x100 => {
                return if rng.chance(50) {
                    format!("\\x{code:02x}")
                } else {
                    format!("\\x{code:02X}")
                };
            }
            2 if code <= 0o777 => return format!("\\{code:03o}"),
            3 if code <= 0xffff => return format!("\\u{code:04x}"),
            4 => return format!("\\U{code:08X}"),
            _ => {}
        }
    }
}

/// Leading and trailing text around a top-level value that Python ignores.
fn top_level(v: &Value<'_>, rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.chance(20) {
        out.push_str(rng.pick(&[
            " ", "\t \t", "\n", "\r\n \n", "\x0c", " \x0c", "\n\x0c", "\r",
        ]));
    }
    render(v, rng, false, &mut out);
    if rng.chance(20) {
        out.push_str(rng.pick(&[
            " ",
            "\t",
            "\n",
            "\r\n",
            " \x0c\r\n\n",
            "\n  \n",
            "\n\x0c",
            "\r\r",
        ]));
    }
    out
}

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec!['\'', '"', '\\', 'x', 'u', 'N', '0', '7', '8', ' ', 'é', '\u{a0}']),
        2 => (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        2 => prop::sample::select(vec!['\x07', '\x08', '\t', '\n', '\x0b', '\x0c', '\r', '\0']),
        1 => Just('\x7f'),
        2 => (0x80u32..0x100).prop_map(|c| char::from_u32(c).unwrap()),
        1 => prop::sample::select(vec!['😀', '🎬', '\u{10ffff}', '\u{2028}', '\u{feff}', '\u{ffff}', '\u{301}']),
        3 => any::<char>(),
        3 => prop::char::range('a', 'z'),
    ]
}

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..10).prop_map(String::from_iter)
}

fn int() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -1000i64..1000,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0)
    ]
}

fn float() -> impl Strategy<Value = f64> {
    use prop::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        4 => POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO,
        2 => -1e6f64..1e6,
        1 => prop::sample::select(vec![0.0, -0.0, 1.0, 1e16, 1e-5, 5e-324, f64::MAX, f64::INFINITY, f64::NEG_INFINITY, 9007199254740993.0]),
        1 => (-100i64..100).prop_map(|i| i as f64),
    ]
}

fn string_value(s: String) -> Value<'static> {
    Value::Str(s.into())
}

/// Hashable keys, often from small pools so that Python's duplicate-key rules come into play.
fn key() -> impl Strategy<Value = Value<'static>> {
    let scalar = prop_oneof![
        3 => nasty_string().prop_map(string_value),
        2 => prop::sample::select(vec!["id", "name", "a"]).prop_map(|s| string_value(s.to_owned())),
        2 => (-1i64..3).prop_map(Value::Int),
        1 => prop::sample::select(vec![0.0, -0.0, 1.0, 1.5]).prop_map(Value::Float),
        1 => prop_oneof![Just(Value::None), Just(Value::Bool(true)), Just(Value::Bool(false))],
        1 => int().prop_map(Value::Int),
    ];
    prop_oneof![
        6 => scalar.clone(),
        1 => prop::collection::vec(scalar, 0..3).prop_map(Value::Tuple),
    ]
}

fn value() -> impl Strategy<Value = Value<'static>> {
    let leaf = prop_oneof![
        1 => Just(Value::None),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => int().prop_map(Value::Int),
        2 => float().prop_map(Value::Float),
        4 => nasty_string().prop_map(string_value),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Tuple),
            prop::collection::vec((key(), inner), 0..6).prop_map(Value::Dict),
        ]
    })
}

fn config() -> Config {
    Config {
        cases: 1000,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn python_agrees_on_values_rendered_by_rust(v in value(), style in any::<u64>()) {
        let text = top_level(&v, &mut Rng(style));
        let python = shared_oracle().eval(&text);
        let python = match python {
            Ok(python) => python,
            Err(e) => return Err(TestCaseError::fail(format!("python rejects {text:?}: {e}"))),
        };
        let ours = parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(canon(&ours), python, "text: {:?}", text);
    }

    /// Damaged text: if we still accept it, Python must accept it with the same value.
    #[test]
    fn python_agrees_whenever_we_accept_mutated_text(
        v in value(),
        style in any::<u64>(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0..3u8, prop::sample::select(vec![
                "'", "\"", "\\", ",", "[", "]", "(", ")", "{", "}", ":", " ", "\n", "\r", "0",
                ".", "e", "-", "+", "x", "u", "N", "#", "j", "_", "\0", "None", "1", "\\\n",
            ])),
            1..3,
        ),
    ) {
        let mut text = top_level(&v, &mut Rng(style));
        for (at, op, insert) in edits {
            let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let i = bounds[at.index(bounds.len())];
            let next = bounds.iter().copied().find(|&b| b > i);
            match (op, next) {
                (0, Some(next)) => text.replace_range(i..next, ""),
                (1, Some(next)) => {
                    let c = text[i..next].to_owned();
                    text.insert_str(i, &c);
                }
                _ => text.insert_str(i, insert),
            }
        }
        if let Ok(ours) = parse(&text) {
            let python = shared_oracle().eval(&text);
            prop_assert_eq!(Ok(canon(&ours)), python, "text: {:?}", text);
        }
    }
}

// ---- direction (b): Python makes values and writes repr(v), we parse it ----

#[test]
fn we_agree_with_python_on_repr_of_random_values() {
    const SEED: &str = "20240611";
    const COUNT: usize = 3000;
    let output = spawn(python(&["generate", SEED, &COUNT.to_string()]))
        .wait_with_output()
        .expect("running python3 oracle.py generate");
    assert!(output.status.success(), "oracle.py generate failed");
    let stdout = String::from_utf8(output.stdout).expect("oracle.py writes utf-8");
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for line in stdout.lines() {
        let case: Json = serde_json::from_str(line).expect("oracle.py writes JSON lines");
        let text = case["repr"].as_str().expect("repr is a string");
        let ours = parse(text);
        match (case["ok"].as_str(), case["error"].as_array()) {
            (Some(expected), None) => {
                let ours = ours.unwrap_or_else(|e| panic!("{text:?}: {e}"));
                assert_eq!(canon(&ours), expected, "repr: {text:?}");
                *seen.entry("ok").or_default() += 1;
            }
            (None, Some(reasons)) => {
                let e = match ours {
                    Ok(v) => panic!("{text:?} should fail ({reasons:?}) but parsed as {v:?}"),
                    Err(e) => e,
                };
                let kind = match e.kind() {
                    ErrorKind::UnknownName(name) if name == "inf" || name == "nan" => "python",
                    ErrorKind::Surrogate(_) => "surrogate",
                    ErrorKind::IntegerOverflow => "int_overflow",
                    _ => "other",
                };
                assert!(
                    reasons.iter().any(|r| r == kind),
                    "{text:?}: python says {reasons:?}, we say {e}"
                );
                *seen.entry(kind).or_default() += 1;
            }
            _ => panic!("oracle.py wrote {line}"),
        }
    }
    assert_eq!(seen.values().sum::<usize>(), COUNT);
    for kind in ["ok", "python", "surrogate", "int_overflow"] {
        assert!(
            seen.get(kind).copied().unwrap_or(0) >= 20,
            "too few {kind} cases: {seen:?}"
        );
    }
}

// ---- the real data ----

/// Every non-empty literal in the given columns of a fixture CSV.
fn literals(file: &str, columns: &[&str]) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(fixture(file)).expect("reading a fixture csv");
    let headers = reader.headers().expect("fixture has a header").clone();
    let indexes: Vec<(usize, &str)> = columns
        .iter()
        .map(|c| {
            (
                headers.iter().position(|h| h == *c).expect("column exists"),
                *c,
            )
        })
        .collect();
    let mut out = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.expect("fixture csv record");
        for &(i, column) in &indexes {
            if !record[i].is_empty() {
                out.push((
                    format!("{file}:{}: column {column}", row + 2),
                    record[i].to_owned(),
                ));
            }
        }
    }
    out
}

#[test]
fn we_agree_with_python_on_every_literal_in_the_fixtures() {
    let mut all = literals("credits.first20.csv", &["cast", "crew"]);
    all.extend(literals("keywords.sample.csv", &["keywords"]));
    all.extend(literals(
        "movies_metadata.literals.csv",
        &[
            "genres",
            "production_companies",
            "production_countries",
            "spoken_languages",
            "belongs_to_collection",
        ],
    ));
    assert!(all.len() > 2500, "fixtures shrank: {} literals", all.len());
    let mut oracle = Oracle::start();
    let (mut escaped, mut double_quoted) = (0, 0);
    for (place, text) in &all {
        let ours = parse(text).unwrap_or_else(|e| panic!("{place}: {e}"));
        let python = oracle.eval(text);
        assert_eq!(Ok(canon(&ours)), python, "{place}: {text}");
        escaped += usize::from(text.contains("\\x"));
        double_quoted += usize::from(text.contains(": \""));
    }
    // The quirks the fixtures were chosen for are still in them.
    assert!(
        escaped >= 100 && double_quoted >= 500,
        "{escaped} {double_quoted}"
    );
}

#[test]
fn python_and_we_agree_on_hand_picked_edge_cases() {
    let mut oracle = Oracle::start();
    let accepted = [
        "[{'id': 15101, 'name': \"based on children's book\"}]",
        "'\\xa0nightgown'",
        "'für elise'",
        "'\\U0001f600😀'",
        "{1: 'a', 1.0: 'b', True: 'c'}",
        "(1)",
        "- 1",
        "012.5",
        "1e400",
        "'\\q\\8\\é'",
        "'\\777'",
        &format!("{}{}", "[".repeat(200), "]".repeat(200)),
    ];
    for text in accepted {
        let ours = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(Ok(canon(&ours)), oracle.eval(text), "{text:?}");
    }
    // Python rejects these too (we reject more: see the module docs).
    let rejected = [
        "nan",
        "inf",
        "'\\x4'",
        "'abc",
        "[1, 2",
        "[1]]",
        "",
        "012",
        "'a\\0b\0'",
        "'\\U00110000'",
        "\n [1]",
        "[1]\n ",
        "{[1]: 2}",
        &format!("{}{}", "[".repeat(201), "]".repeat(201)),
    ];
    for text in rejected {
        assert!(parse(text).is_err(), "{text:?}");
        assert!(oracle.eval(text).is_err(), "python accepts {text:?}");
    }
    // Python accepts surrogate escapes, but a Rust string cannot hold them.
    let python = oracle.eval("'\\ud83d\\ude00'");
    assert_eq!(python, Err("surrogate".to_owned()));
    assert!(matches!(
        parse("'\\ud83d\\ude00'").unwrap_err().kind(),
        ErrorKind::Surrogate(0xd83d)
    ));
}
