//! Models: the logic of every derived object, one SQL file per object
//! (`migrations/<pipeline>/models/<object>.sql`), always its current text. Where versioned
//! migrations hold the schema and are applied once, a model is applied again whenever its text
//! changes, like Flyway's repeatable migrations or a dbt model.
//!
//! A model file is a header of `--` lines, then one `select`:
//!
//! ```sql
//! -- keyword_aggregates: how often each keyword appears among the rated movies
//! --
//! -- materialized: table
//! -- grain: one row per keyword attached to at least one rated movie
//! -- sources: int_rated_movies, stg_keyword_mentions, stg_keywords
//! --
//! -- Prose for the reader: purpose, method, caveats (one space after `--`).
//! --
//! -- columns:
//! --   keyword_id        TMDB keyword id; primary key
//! --   movie_count       distinct rated movies whose keywords include it; a description
//! --                     continues on lines indented past the column name
//!
//! with ... select * from final
//! ```
//!
//! `materialized` says what the select becomes (each database adapter does it, [`Database`]):
//! `view` a view of the model's name; `table` a view `build_<name>` from which the pipeline
//! rebuilds the table `<name>` (created by a versioned migration) on every run; `incremental` a
//! function `<name>_rows(<parameters>)` (PL/pgSQL: `return query` of the select) returning rows
//! of the table `<name>`, which the pipeline merges in for the range it recomputes
//! (`parameters:` and `strategy:` lines say how). The
//! header's `sources` must list exactly what the select reads, and its `columns` exactly the
//! object's columns, in order: the runner checks both, so the header cannot go stale, and carries
//! the descriptions into the catalog as comments.
//!
//! This module parses models, orders them by what they read, compares them with what
//! `runner_models` recorded (applied, changed, new, removed), and applies what is not current.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::engine::db::{Column, Materialized};
use crate::engine::db::{Database, ModelObject, Param};

/// The table recording the models applied: name, materialization, checksum, when.
pub const MODELS_TABLE: &str = "runner_models";

/// One model file, parsed.
#[derive(Debug, Clone)]
pub struct Model {
    /// The object's name: the file name without `.sql`.
    pub name: String,
    /// The first header line, after the name.
    pub title: String,
    pub materialized: Materialized,
    pub grain: String,
    /// What the select reads, as the header lists it (checked against the select).
    pub sources: Vec<String>,
    pub columns: Vec<Column>,
    /// `incremental` only: the function's parameters, e.g. `first_week date, from_week date`.
    pub parameters: Option<String>,
    /// `incremental` only: how the pipeline writes the rows (`merge`, `delete+insert`).
    pub strategy: Option<String>,
    /// The header's prose paragraphs, for the docs.
    pub prose: Vec<String>,
    /// The select, without a final `;`.
    pub body: String,
    /// sha256 of the whole file, hex: a model is applied again when it changes.
    pub checksum: String,
}

impl Model {
    /// The object the database keeps for this model: the view, the build view, or the function.
    pub fn object(&self) -> String {
        self.materialized.object(&self.name)
    }

    /// What a database adapter needs to create it.
    pub fn spec<'a>(&'a self, schema: Option<&'a str>) -> ModelObject<'a> {
        ModelObject {
            name: &self.name,
            schema,
            materialized: self.materialized,
            body: &self.body,
            parameters: self.parameters.as_deref(),
            comment: &self.grain,
            columns: &self.columns,
        }
    }
}

/// Parses one model file. `name` is the file name without `.sql`.
pub fn parse(name: &str, text: &str) -> Result<Model> {
    let lines: Vec<&str> = text.lines().collect();
    let header_len = lines
        .iter()
        .position(|l| !(l.trim().is_empty() || l.trim_start().starts_with("--")))
        .unwrap_or(lines.len());
    let header: Vec<&str> = lines[..header_len]
        .iter()
        .map(|l| l.trim_start().strip_prefix("--").unwrap_or(""))
        .collect();
    let first = header.first().map(|l| l.trim()).unwrap_or_default();
    let title = match first.split_once(':') {
        Some((n, title)) if n.trim() == name => title.trim().to_owned(),
        _ => bail!("models/{name}.sql: the first line must be `-- {name}: what it is`"),
    };
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    let mut columns: Vec<Column> = Vec::new();
    let mut prose: Vec<String> = Vec::new();
    let mut paragraph = String::new();
    // What a more indented line continues: a field, a column, or nothing.
    enum Last<'a> {
        Field(&'a str),
        Column,
        None,
    }
    let mut last = Last::None;
    let mut in_columns = false;
    for line in &header[1..] {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() {
            if !paragraph.is_empty() {
                prose.push(std::mem::take(&mut paragraph));
            }
            last = Last::None;
            in_columns = false;
            continue;
        }
        if indent >= 2 {
            match last {
                Last::Field(key) if !in_columns => {
                    let value = fields.get_mut(key).expect("set when last was");
                    value.push(' ');
                    value.push_str(text);
                    continue;
                }
                Last::Column if indent > 3 => {
                    let column = columns.last_mut().expect("set when last was");
                    column.description.push(' ');
                    column.description.push_str(text);
                    continue;
                }
                _ if in_columns => {
                    let (column, description) = text
                        .split_once(char::is_whitespace)
                        .map(|(c, d)| (c, d.trim()))
                        .unwrap_or((text, ""));
                    if description.is_empty() {
                        bail!("models/{name}.sql: column {column} has no description");
                    }
                    columns.push(Column {
                        name: column.to_owned(),
                        description: description.to_owned(),
                    });
                    last = Last::Column;
                    continue;
                }
                _ => {}
            }
        }
        if let Some((key, value)) = text.split_once(':') {
            let key = key.trim();
            if ["materialized", "grain", "sources", "parameters", "strategy"].contains(&key) {
                if fields.insert(key, value.trim().to_owned()).is_some() {
                    bail!("models/{name}.sql: `{key}:` appears twice in the header");
                }
                last = Last::Field(key);
                continue;
            }
            if key == "columns" && value.trim().is_empty() {
                if !columns.is_empty() {
                    bail!("models/{name}.sql: `columns:` appears twice in the header");
                }
                in_columns = true;
                last = Last::None;
                continue;
            }
        }
        if !paragraph.is_empty() {
            paragraph.push('\n');
        }
        paragraph.push_str(text);
        last = Last::None;
    }
    if !paragraph.is_empty() {
        prose.push(paragraph);
    }
    let field = |key: &str| -> Result<String> {
        fields
            .get(key)
            .cloned()
            .with_context(|| format!("models/{name}.sql: no `-- {key}: ...` line in the header"))
    };
    let materialized = field("materialized")?;
    let materialized = Materialized::parse(&materialized).with_context(|| {
        format!("models/{name}.sql: materialized {materialized:?}: use view, table or incremental")
    })?;
    let (parameters, strategy) = match materialized {
        Materialized::Incremental => {
            let strategy = field("strategy")?;
            if !["merge", "delete+insert"].contains(&strategy.as_str()) {
                bail!("models/{name}.sql: strategy {strategy:?}: use merge or delete+insert");
            }
            (Some(field("parameters")?), Some(strategy))
        }
        _ => {
            if fields.contains_key("parameters") || fields.contains_key("strategy") {
                bail!("models/{name}.sql: parameters and strategy are for incremental models");
            }
            (None, None)
        }
    };
    if columns.is_empty() {
        bail!("models/{name}.sql: no `-- columns:` list in the header");
    }
    let body = lines[header_len..].join("\n");
    let body = body.trim().trim_end_matches(';').trim_end().to_owned();
    if body.is_empty() {
        bail!("models/{name}.sql: no select after the header");
    }
    if words(&body).iter().any(|w| w == ";") {
        bail!("models/{name}.sql: one select per model (found a `;` inside)");
    }
    let sources: Vec<String> = field("sources")?
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let read = relations_read(&body);
    let listed: BTreeSet<String> = sources.iter().cloned().collect();
    if read != listed {
        bail!(
            "models/{name}.sql: the header's sources ({}) differ from what the select reads ({})",
            sources.join(", "),
            read.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(Model {
        name: name.to_owned(),
        title,
        materialized,
        grain: field("grain")?,
        sources,
        columns,
        parameters,
        strategy,
        prose,
        body,
        checksum: hex(&Sha256::digest(text.as_bytes())),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The words of SQL text, lowercased, without comments and string literals; `a.b` stays one word,
/// `(` and `;` are words of their own.
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word).to_lowercase());
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                flush(&mut word, &mut out);
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' => {
                flush(&mut word, &mut out);
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        chars.next();
                    } else if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '.' || c == '$' => word.push(c),
            '(' | ';' => {
                flush(&mut word, &mut out);
                out.push(c.to_string());
            }
            _ => flush(&mut word, &mut out),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The tables, views and functions a select reads: every name after `from` or `join`, except
/// the names of its own CTEs and of functions called in `from` that are built in
/// (`generate_series`).
pub fn relations_read(sql: &str) -> BTreeSet<String> {
    let words = words(sql);
    let mut ctes = BTreeSet::new();
    for (i, word) in words.iter().enumerate() {
        // `name as (` or `name as [not] materialized (` defines a CTE (a column alias is never
        // followed by a parenthesis)
        if word == "as" && i > 0 {
            let rest = words[i + 1..]
                .iter()
                .find(|w| *w != "not" && *w != "materialized");
            if rest.is_some_and(|w| w == "(") {
                ctes.insert(words[i - 1].clone());
            }
        }
    }
    let mut read = BTreeSet::new();
    for (i, word) in words.iter().enumerate() {
        let Some(next) = words.get(i + 1) else { break };
        // `extract(field from x)`, `substring(x from n)`, `trim(y from x)` name no relation
        let in_function = i >= 3
            && words[i - 2] == "("
            && ["extract", "substring", "trim"].contains(&words[i - 3].as_str());
        if (word == "from" || word == "join")
            && !in_function
            && next != "("
            && next != "lateral"
            && next != "generate_series"
            && !ctes.contains(next)
        {
            read.insert(next.clone());
        }
    }
    read
}

/// A pipeline's models, by name: built-in (name, text) pairs, or the `.sql` files of `dir`
/// (`DIR/<pipeline>/models/` during development; none when it is missing).
pub fn load(built_in: &[(&str, &str)], dir: Option<&Path>) -> Result<Vec<Model>> {
    let mut models = Vec::new();
    match dir {
        Some(dir) => {
            if !dir.is_dir() {
                return Ok(models);
            }
            let mut paths: Vec<_> = std::fs::read_dir(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect();
            paths.sort();
            for path in paths {
                let name = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                models.push(parse(&name, &text)?);
            }
        }
        None => {
            for (name, text) in built_in {
                models.push(parse(name, text)?);
            }
        }
    }
    order(models)
}

/// Sorts models so that each comes after the models it reads (then by name); a cycle is an
/// error. `schema.name` sources match the model `name`.
pub fn order(mut models: Vec<Model>) -> Result<Vec<Model>> {
    models.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    let reads: Vec<BTreeSet<usize>> = models
        .iter()
        .map(|m| {
            m.sources
                .iter()
                .filter_map(|s| {
                    let bare = s.rsplit('.').next().unwrap_or(s);
                    let bare = bare.strip_suffix("_rows").unwrap_or(bare);
                    names.iter().position(|n| n == bare || n == s)
                })
                .filter(|&i| names[i] != m.name)
                .collect()
        })
        .collect();
    let mut done = vec![false; models.len()];
    let mut sorted = Vec::with_capacity(models.len());
    while sorted.len() < models.len() {
        let Some(next) = (0..models.len()).find(|&i| !done[i] && reads[i].iter().all(|&j| done[j]))
        else {
            let stuck: Vec<&str> = (0..models.len())
                .filter(|&i| !done[i])
                .map(|i| names[i].as_str())
                .collect();
            bail!(
                "models {} read each other: no order applies them",
                stuck.join(", ")
            );
        };
        done[next] = true;
        sorted.push(next);
    }
    let mut slots: Vec<Option<Model>> = models.into_iter().map(Some).collect();
    Ok(sorted
        .into_iter()
        .map(|i| slots[i].take().expect("each once"))
        .collect())
}

/// Where a model stands against what `runner_models` recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Applied with this very text.
    Applied,
    /// Applied, but the file changed since: applied again by the next `runner migrate`.
    Changed,
    /// Never applied.
    New,
    /// Applied, but its file is gone: dropped by the next `runner migrate`.
    Removed,
}

/// One model's state, for `runner status`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStatus {
    pub name: String,
    pub materialized: String,
    pub state: State,
    pub applied_at: Option<String>,
}

/// A model as `runner_models` recorded it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub name: String,
    pub materialized: String,
    pub checksum: String,
    pub applied_at: String,
}

/// What `runner_models` holds; empty when the table does not exist yet.
pub fn recorded(db: &mut dyn Database) -> Result<Vec<Recorded>> {
    if !db.table_exists(MODELS_TABLE)? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select model_name, materialized, checksum, {} from {MODELS_TABLE} order by model_name",
        db.dialect().iso_utc("applied_at")
    );
    db.query(&sql, &[])?
        .into_iter()
        .map(|row| {
            let text = |i: usize| -> Result<String> {
                row[i]
                    .text()
                    .map(str::to_owned)
                    .with_context(|| format!("{MODELS_TABLE}: unexpected {:?}", row[i]))
            };
            Ok(Recorded {
                name: text(0)?,
                materialized: text(1)?,
                checksum: text(2)?,
                applied_at: text(3)?,
            })
        })
        .collect()
}

/// Every model's state, in apply order, then the removed ones.
pub fn statuses(models: &[Model], recorded: &[Recorded]) -> Vec<ModelStatus> {
    let mut out: Vec<ModelStatus> = models
        .iter()
        .map(|m| {
            let record = recorded.iter().find(|r| r.name == m.name);
            ModelStatus {
                name: m.name.clone(),
                materialized: m.materialized.name().to_owned(),
                state: match record {
                    None => State::New,
                    Some(r)
                        if r.checksum == m.checksum && r.materialized == m.materialized.name() =>
                    {
                        State::Applied
                    }
                    Some(_) => State::Changed,
                },
                applied_at: record.map(|r| r.applied_at.clone()),
            }
        })
        .collect();
    for r in recorded {
        if !models.iter().any(|m| m.name == r.name) {
            out.push(ModelStatus {
                name: r.name.clone(),
                materialized: r.materialized.clone(),
                state: State::Removed,
                applied_at: Some(r.applied_at.clone()),
            });
        }
    }
    out
}

/// Refuses a database whose models are not those at hand (`runner stage` and `runner check` work
/// on the objects the current models define). `name` is the pipeline's, for the advice.
pub fn ensure_current(db: &mut dyn Database, models: &[Model], name: &str) -> Result<()> {
    let stale: Vec<String> = statuses(models, &recorded(db)?)
        .into_iter()
        .filter(|s| s.state != State::Applied)
        .map(|s| format!("{} {}", s.name, format!("{:?}", s.state).to_lowercase()))
        .collect();
    if !stale.is_empty() {
        bail!(
            "the database's models are not current ({}): run `runner migrate {name}` first",
            stale.join(", ")
        );
    }
    Ok(())
}

/// What [`apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    pub applied: Vec<String>,
    pub dropped: Vec<String>,
    pub current: usize,
}

/// Applies every model that is new or changed, in order, and drops the removed ones; each is
/// recorded in `runner_models` once it is in place. `schema` qualifies the objects
/// (`rollup`), or `None` for the connection's database. `label` prefixes log lines.
pub fn apply(
    db: &mut dyn Database,
    models: &[Model],
    schema: Option<&str>,
    label: &str,
) -> Result<Applied> {
    let recorded = recorded(db)?;
    let mut done = Applied::default();
    for status in statuses(models, &recorded) {
        match status.state {
            State::Applied => done.current += 1,
            State::New | State::Changed => {
                let model = models
                    .iter()
                    .find(|m| m.name == status.name)
                    .expect("statuses lists the models");
                db.apply_model(&model.spec(schema))
                    .with_context(|| format!("applying models/{}.sql", model.name))?;
                crate::engine::drill::point(&format!("models:before-record:{}", model.name));
                record(db, model)?;
                tracing::info!(
                    "{label}: applied model {} ({})",
                    model.name,
                    model.materialized.name()
                );
                done.applied.push(model.name.clone());
            }
            State::Removed => {
                let materialized =
                    Materialized::parse(&status.materialized).with_context(|| {
                        format!(
                            "{MODELS_TABLE}: {} has materialized {:?}",
                            status.name, status.materialized
                        )
                    })?;
                db.drop_model(&status.name, materialized, schema)
                    .with_context(|| format!("dropping removed model {}", status.name))?;
                db.execute(
                    &format!("delete from {MODELS_TABLE} where model_name = ?"),
                    &[status.name.as_str().into()],
                )?;
                tracing::info!("{label}: dropped removed model {}", status.name);
                done.dropped.push(status.name);
            }
        }
    }
    Ok(done)
}

fn record(db: &mut dyn Database, model: &Model) -> Result<()> {
    let params: [Param<'_>; 3] = [
        model.name.as_str().into(),
        model.materialized.name().into(),
        model.checksum.as_str().into(),
    ];
    db.execute(
        &format!("delete from {MODELS_TABLE} where model_name = ?"),
        &params[..1],
    )?;
    db.execute(
        &format!(
            "insert into {MODELS_TABLE} (model_name, materialized, checksum, applied_at) \
             values (?, ?, ?, {})",
            db.dialect().now()
        ),
        &params,
    )
    .with_context(|| format!("recording model {} in {MODELS_TABLE}", model.name))?;
    Ok(())
}

/// One checksum of every model of a pipeline (name and checksum of each): what a pipeline keeps
/// to notice that the logic of its incremental tables changed since they were computed.
pub fn combined_checksum(models: &[Model]) -> String {
    let mut hasher = Sha256::new();
    let mut sorted: Vec<&Model> = models.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for m in sorted {
        hasher.update(m.name.as_bytes());
        hasher.update(b"\0");
        hasher.update(m.checksum.as_bytes());
        hasher.update(b"\n");
    }
    hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "\
-- counts: rows per key
--
-- materialized: table
-- grain: one row per key
--   that appears at least once
-- sources: stg_things, other.table_x
--
-- Prose, first paragraph,
-- on two lines.
--
-- columns:
--   key_id     the key; primary key
--   row_count  how many rows
--              have it
--
-- Caveat: the last paragraph.

with
things as (
    select stg_things.key_id from stg_things -- from not_a_source
    where stg_things.name <> 'from fake'
),
final as (
    select things.key_id, count(*) as row_count
    from things
    inner join other.table_x on other.table_x.key_id = things.key_id
    group by things.key_id
)
select * from final;
";

    #[test]
    fn header_and_body() {
        let m = parse("counts", MODEL).unwrap();
        assert_eq!(m.title, "rows per key");
        assert_eq!(m.materialized, Materialized::Table);
        assert_eq!(m.grain, "one row per key that appears at least once");
        assert_eq!(m.sources, ["stg_things", "other.table_x"]);
        assert_eq!(
            m.columns,
            [
                Column {
                    name: "key_id".into(),
                    description: "the key; primary key".into()
                },
                Column {
                    name: "row_count".into(),
                    description: "how many rows have it".into()
                },
            ]
        );
        assert_eq!(
            m.prose,
            [
                "Prose, first paragraph,\non two lines.",
                "Caveat: the last paragraph."
            ]
        );
        assert!(m.body.starts_with("with\nthings as (") && m.body.ends_with("select * from final"));
        assert_eq!(m.object(), "build_counts");
        assert_eq!(m.checksum.len(), 64);
    }

    #[test]
    fn a_header_that_lies_or_lacks_is_refused() {
        let wrong_sources = MODEL.replace(
            "-- sources: stg_things, other.table_x",
            "-- sources: stg_things",
        );
        let err = parse("counts", &wrong_sources).unwrap_err().to_string();
        assert!(err.contains("other.table_x"), "{err}");
        assert!(parse("other_name", MODEL).is_err());
        assert!(parse("counts", &MODEL.replace("-- materialized: table\n", "")).is_err());
        assert!(
            parse(
                "counts",
                &MODEL.replace("materialized: table", "materialized: tbl")
            )
            .is_err()
        );
        assert!(parse("counts", &MODEL.replace("-- grain: one row per key\n", "")).is_err());
        assert!(
            parse(
                "counts",
                &MODEL.replace("select * from final;", "select 1; select 2")
            )
            .is_err()
        );
        let comment = MODEL.replace("with\n", "with\n-- a comment; not a statement\n");
        assert!(parse("counts", &comment).is_ok());
        assert!(
            parse(
                "counts",
                &MODEL.replace("--   key_id     the key; primary key\n", "--   key_id\n")
            )
            .is_err()
        );
        let incremental = MODEL.replace("materialized: table", "materialized: incremental");
        assert!(
            parse("counts", &incremental).is_err(),
            "needs parameters and strategy"
        );
        let incremental = incremental.replace(
            "-- grain:",
            "-- parameters: from_week date\n-- strategy: merge\n-- grain:",
        );
        let m = parse("counts", &incremental).unwrap();
        assert_eq!(m.parameters.as_deref(), Some("from_week date"));
        assert_eq!(m.object(), "counts_rows");
    }

    #[test]
    fn relations_skip_ctes_comments_strings_and_subqueries() {
        let read = relations_read(
            "with a as (select x from t1), b as not materialized (select y from a \
             inner join s.t2 on true) select * from b left join (select 1 from t3) as q on true \
             cross join lateral generate_series(1, 2) as n -- join t4\n where 'from t5' <> '' \
             and extract(isodow from b.week) = 1",
        );
        assert_eq!(read.into_iter().collect::<Vec<_>>(), ["s.t2", "t1", "t3"]);
    }

    fn model(name: &str, sources: &str) -> Model {
        parse(
            name,
            &format!(
                "-- {name}: x\n-- materialized: view\n-- grain: g\n-- sources: {sources}\n-- columns:\n--   c  d\nselect c from {}",
                sources.split(", ").collect::<Vec<_>>().join(" inner join ")
            ),
        )
        .unwrap()
    }

    #[test]
    fn order_puts_sources_first_and_refuses_a_cycle() {
        let ordered = order(vec![
            model("c", "b, raw_x"),
            model("a", "raw_x"),
            model("b", "a"),
        ])
        .unwrap();
        let names: Vec<&str> = ordered.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(order(vec![model("a", "b"), model("b", "a")]).is_err());
    }

    #[test]
    fn statuses_of_applied_changed_new_and_removed() {
        let models = vec![model("a", "raw_x"), model("b", "a"), model("c", "raw_x")];
        let rec = |name: &str, checksum: &str| Recorded {
            name: name.into(),
            materialized: "view".into(),
            checksum: checksum.into(),
            applied_at: "t".into(),
        };
        let recorded = vec![
            rec("a", &models[0].checksum),
            rec("b", "old"),
            rec("gone", "x"),
        ];
        let states: Vec<(String, State)> = statuses(&models, &recorded)
            .into_iter()
            .map(|s| (s.name, s.state))
            .collect();
        assert_eq!(
            states,
            [
                ("a".to_owned(), State::Applied),
                ("b".to_owned(), State::Changed),
                ("c".to_owned(), State::New),
                ("gone".to_owned(), State::Removed),
            ]
        );
    }
}
