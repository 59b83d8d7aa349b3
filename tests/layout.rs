//! The shape of `src/` (docs/architecture.md), checked so it stays: every file is a module, a
//! module's uses are the other modules its code names (`crate::a::b`, `super::x`, `self::x`, or a
//! child module by its name), and
//!
//! - no two modules use each other, directly or through others (no import cycle);
//! - `engine` uses no pipeline and no command; `pipelines` use no command; a pipeline uses no
//!   other pipeline.
//!
//! Comments and string literals are skipped, so a doc link is not a use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path such as `pipelines::movies::load` (the crate root is the empty path).
type Module = String;

/// Every `.rs` file under `src/`, as (module path, file text). `main.rs` is the binary's root,
/// not a module of the library, and is left out.
fn modules(src: &Path) -> Vec<(Module, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| p != &src.join("main.rs"))
        .map(|path| {
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            (parts.join("::"), std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The code of a Rust file without comments and string or char literals (each replaced by a
/// space), so that only code is searched for paths.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            out.push(' ');
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // a raw string r"..." or r#"..."#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || (next == Some('\\'))) {
            // a char literal ('x', '\n', '\u{..}'); a lifetime ('a) has no closing quote
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Identifiers, `::` and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".to_owned());
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

fn is_ident(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// The path starting at `tokens[pos]`, after `prefix`; a `{...}` group (in a `use`) gives one
/// path per item. Returns the paths and the position after them.
fn path_at(tokens: &[String], mut pos: usize, prefix: &[String]) -> (Vec<Vec<String>>, usize) {
    let mut segments = prefix.to_vec();
    while pos < tokens.len() && is_ident(&tokens[pos]) {
        segments.push(tokens[pos].clone());
        pos += 1;
        if tokens.get(pos).map(String::as_str) != Some("::") {
            break;
        }
        pos += 1;
        if tokens.get(pos).map(String::as_str) == Some("{") {
            pos += 1;
            let mut all = Vec::new();
            while pos < tokens.len() && tokens[pos] != "}" {
                let (found, next) = path_at(tokens, pos, &segments);
                all.extend(found);
                pos = next.max(pos + 1);
                // skip `as name` and the like, up to the next item
                let mut depth = 0;
                while pos < tokens.len() {
                    match tokens[pos].as_str() {
                        "{" => depth += 1,
                        "}" if depth == 0 => break,
                        "}" => depth -= 1,
                        "," if depth == 0 => {
                            pos += 1;
                            break;
                        }
                        _ => {}
                    }
                    pos += 1;
                }
            }
            return (all, pos + 1);
        }
    }
    if segments.last().is_some_and(|s| s == "self") {
        segments.pop();
    }
    (vec![segments], pos)
}

/// The paths written in `code` with at least two segments (`crate::engine::db`, `super::X`,
/// `load::Staged`), `use` groups expanded, each with the number of inline `mod x { ... }` blocks
/// around it (inside `mod tests`, `super` is the file's own module).
fn paths(code: &str) -> Vec<(Vec<String>, usize)> {
    let tokens = tokens(code);
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut pos = 0;
    while pos < tokens.len() {
        match tokens[pos].as_str() {
            "{" => {
                let opens_mod = pos >= 2 && tokens[pos - 2] == "mod";
                depth += 1;
                if opens_mod {
                    inline_mods.push(depth);
                }
                pos += 1;
                continue;
            }
            "}" => {
                if inline_mods.last() == Some(&depth) {
                    inline_mods.pop();
                }
                depth = depth.saturating_sub(1);
                pos += 1;
                continue;
            }
            _ => {}
        }
        let starts_path = is_ident(&tokens[pos]) && (pos == 0 || tokens[pos - 1] != "::");
        if !starts_path {
            pos += 1;
            continue;
        }
        let (paths, next) = path_at(&tokens, pos, &[]);
        found.extend(
            paths
                .into_iter()
                .filter(|p| p.len() > 1)
                .map(|p| (p, inline_mods.len())),
        );
        pos = next.max(pos + 1);
    }
    found
}

/// Which modules each module uses.
fn graph(modules: &[(Module, String)]) -> BTreeMap<Module, BTreeSet<Module>> {
    let known: BTreeSet<&str> = modules.iter().map(|(m, _)| m.as_str()).collect();
    let join = |parts: &[String]| parts.join("::");
    let mut edges = BTreeMap::new();
    for (module, text) in modules {
        let here: Vec<String> = if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").map(str::to_owned).collect()
        };
        let mut uses = BTreeSet::new();
        for (path, inline) in paths(&code_only(text)) {
            let mut base = here.clone();
            let mut rest = path.as_slice();
            match rest[0].as_str() {
                "crate" => {
                    base.clear();
                    rest = &rest[1..];
                }
                "self" => rest = &rest[1..],
                "super" => {
                    let mut skip = inline;
                    while rest.first().is_some_and(|s| s == "super") {
                        if skip > 0 {
                            skip -= 1;
                        } else {
                            base.pop();
                        }
                        rest = &rest[1..];
                    }
                }
                // a child module named by itself (`load::Staged`, `use inputs::DataSource`)
                _ => {}
            }
            // the longest prefix that is a module
            let mut target = None;
            for n in (1..=rest.len()).rev() {
                let mut candidate = base.clone();
                candidate.extend(rest[..n].iter().cloned());
                if known.contains(join(&candidate).as_str()) {
                    target = Some(join(&candidate));
                    break;
                }
            }
            if target.is_none() && path[0] == "super" {
                target = Some(join(&base));
            }
            if let Some(target) = target.filter(|t| t != module) {
                uses.insert(target);
            }
        }
        edges.insert(module.clone(), uses);
    }
    edges
}

/// A cycle of modules, if there is one (depth-first search).
fn find_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<Module, u8>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        state.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|m| m == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, edges, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if state.get(node).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(node, edges, &mut state, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

/// Uses that break the layers: (from, to, rule).
fn layer_violations(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<String> {
    let top = |m: &str| m.split("::").next().unwrap_or("").to_owned();
    let pipeline = |m: &str| {
        let parts: Vec<&str> = m.split("::").collect();
        (parts.first() == Some(&"pipelines") && parts.len() > 1).then(|| parts[1].to_owned())
    };
    let mut broken = Vec::new();
    for (from, tos) in edges {
        for to in tos {
            let rule = match (top(from).as_str(), top(to).as_str()) {
                ("engine", "pipelines" | "commands" | "cli" | "") => {
                    Some("the engine knows no pipeline and no command")
                }
                ("pipelines", "commands" | "cli" | "") => Some("a pipeline knows no command"),
                ("pipelines", "pipelines")
                    if pipeline(from).is_some()
                        && pipeline(to).is_some()
                        && pipeline(from) != pipeline(to) =>
                {
                    Some("a pipeline uses no other pipeline")
                }
                _ => None,
            };
            if let Some(rule) = rule {
                broken.push(format!("{from} uses {to}: {rule}"));
            }
        }
    }
    broken
}

#[test]
fn src_has_no_import_cycle_and_keeps_its_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    let edges = graph(&modules);
    // The graph must be real: the commands use both pipelines, the pipelines use the engine.
    for (from, to) in [
        ("commands", "pipelines::movies"),
        ("commands", "pipelines::rollup"),
        ("pipelines::movies::load", "engine::db::mysql"),
        ("pipelines::rollup", "engine::checks"),
        ("engine::history", "engine::db"),
    ] {
        assert!(
            edges[from].contains(to),
            "{from} should use {to}: {:?}",
            edges[from]
        );
    }
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
    let broken = layer_violations(&edges);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_cycle_and_a_layer_break_are_found() {
    let modules: Vec<(Module, String)> = [
        ("", "pub mod engine; pub mod pipelines;"),
        (
            "engine",
            "pub mod db; use crate::{cli, pipelines::{movies::X, Y as Z}};",
        ),
        (
            "engine::db",
            "// crate::engine::checks is only a comment\nuse super::checks;",
        ),
        (
            "engine::checks",
            "use crate::engine::db::Database; let s = \"crate::x\";",
        ),
        ("pipelines", "pub mod movies; pub mod rollup;"),
        (
            "pipelines::movies",
            "use super::rollup::Y; fn f<'a>(c: char) { c == '{'; }",
        ),
        (
            "pipelines::rollup",
            "mod tests { use super::*; use super::super::movies::Z; }",
        ),
    ]
    .iter()
    .map(|(m, t)| (m.to_string(), t.to_string()))
    .collect();
    let edges = graph(&modules);
    assert_eq!(
        edges["engine::db"],
        BTreeSet::from(["engine::checks".to_owned()])
    );
    assert_eq!(
        edges["engine::checks"],
        BTreeSet::from(["engine::db".to_owned()])
    );
    // inside `mod tests`, `super` is the file's own module
    assert_eq!(
        edges["pipelines::rollup"],
        BTreeSet::from(["pipelines::movies".to_owned()])
    );
    let cycle = find_cycle(&edges).expect("engine::db and engine::checks use each other");
    assert_eq!(cycle.len(), 3, "{cycle:?}");
    assert_eq!(
        edges["engine"],
        BTreeSet::from(["pipelines".to_owned(), "pipelines::movies".to_owned()])
    );
    assert_eq!(
        layer_violations(&edges),
        [
            "engine uses pipelines: the engine knows no pipeline and no command",
            "engine uses pipelines::movies: the engine knows no pipeline and no command",
            "pipelines::movies uses pipelines::rollup: a pipeline uses no other pipeline",
            "pipelines::rollup uses pipelines::movies: a pipeline uses no other pipeline",
        ]
    );
}
