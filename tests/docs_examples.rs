//! docs/examples.md stays true: every `sql` block there is run against the movie tables built
//! from the real files the project carries (tests/fixtures/movies/real/ and real_ratings/), on
//! MariaDB and MySQL 9.7, and its rows must equal the markdown table under it; the answer about
//! missing titles is also computed here from the files. With RUNNER_WRITE_EXAMPLES=1 the
//! answers are written from MariaDB instead (then checked on MySQL).

mod common;

use std::path::Path;

use common::*;
use mysql::prelude::Queryable;

const EXAMPLES: &str = "docs/examples.md";

/// The real files: the metadata's first 4,627 records, the credits' first 99, the rest whole.
fn real_files() -> TempDir {
    let dir = TempDir::new("realdocs");
    for (folder, file) in [
        ("real", "movies_metadata.csv"),
        ("real", "credits.csv"),
        ("real", "keywords.csv"),
        ("real_ratings", "ratings_small.csv"),
        ("real_ratings", "links_small.csv"),
    ] {
        std::fs::copy(movie_fixture(folder).join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// A query of the document, where its answer table stands (line range), if it has one yet.
struct Example {
    sql: String,
    /// The line after the closing fence.
    after_fence: usize,
    /// Lines of the answer table: [start, end).
    answer: Option<(usize, usize)>,
}

fn examples(lines: &[&str]) -> Vec<Example> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```sql" {
            let start = i + 1;
            let mut end = start;
            while lines[end].trim() != "```" {
                end += 1;
            }
            let sql = lines[start..end].join("\n");
            let after_fence = end + 1;
            let mut answer = None;
            if lines.get(after_fence) == Some(&"")
                && lines
                    .get(after_fence + 1)
                    .is_some_and(|l| l.starts_with('|'))
            {
                let first = after_fence + 1;
                let mut last = first;
                while lines.get(last).is_some_and(|l| l.starts_with('|')) {
                    last += 1;
                }
                answer = Some((first, last));
            }
            out.push(Example {
                sql,
                after_fence,
                answer,
            });
            i = after_fence;
        } else {
            i += 1;
        }
    }
    out
}

/// The query's rows as a markdown table: column names, then each value as the server's text
/// (NULL as `NULL`).
fn answer(conn: &mut mysql::Conn, sql: &str) -> Vec<String> {
    let rows: Vec<mysql::Row> = conn.query(sql).unwrap_or_else(|e| panic!("{sql}\n{e}"));
    assert!(
        !rows.is_empty(),
        "no rows: an example should answer something\n{sql}"
    );
    let names: Vec<String> = rows[0]
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    let mut out = vec![
        format!("| {} |", names.join(" | ")),
        format!("|{}", "---|".repeat(names.len())),
    ];
    for row in rows {
        let values: Vec<String> = row
            .unwrap()
            .into_iter()
            .map(|v| match v {
                mysql::Value::NULL => "NULL".to_owned(),
                mysql::Value::Bytes(b) => String::from_utf8(b).unwrap().replace('|', "\\|"),
                other => other.as_sql(true),
            })
            .collect();
        out.push(format!("| {} |", values.join(" | ")));
    }
    out
}

/// The answer to the "why rated movies have no title" example, computed here from the files
/// (not by the SQL): each rated movieId through links_small to a TMDB id, then the metadata's
/// first record of that id with 24 fields. Simpler than the loader where these files do not need
/// more (they hold no repeated rating, no repeated link and no record whose lists do not parse,
/// which the loader would reject).
fn title_reasons_from_the_files(dir: &Path) -> Vec<String> {
    let mut ratings: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut reader = csv::Reader::from_path(dir.join("ratings_small.csv")).unwrap();
    for record in reader.records() {
        *ratings
            .entry(record.unwrap()[1].parse().unwrap())
            .or_default() += 1;
    }
    let mut links: std::collections::HashMap<u64, Option<u64>> = Default::default();
    let mut reader = csv::Reader::from_path(dir.join("links_small.csv")).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        // the first record of a movieId counts, as stg_links keeps it
        links
            .entry(record[0].parse().unwrap())
            .or_insert(record[2].parse().ok());
    }
    let mut titles: std::collections::HashMap<u64, String> = Default::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(dir.join("movies_metadata.csv"))
        .unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        if record.len() != 24 {
            continue; // a broken record: the loader rejects it
        }
        if let Ok(id) = record[5].parse::<u64>() {
            titles.entry(id).or_insert_with(|| record[20].to_owned());
        }
    }
    let mut per_reason: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for (movie, count) in &ratings {
        let reason = match links.get(movie) {
            None => "movieId not in the links file",
            Some(None) => "no TMDB id in the links file",
            Some(Some(tmdb)) => match titles.get(tmdb) {
                None => "TMDB id not in the metadata file",
                Some(title) if title.is_empty() => "no title in the metadata",
                Some(_) => "(has a title)",
            },
        };
        let e = per_reason.entry(reason).or_default();
        e.0 += 1;
        e.1 += count;
    }
    let mut rows: Vec<(&str, (u64, u64))> = per_reason.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.0));
    let mut out = vec![
        "| reason | movies | ratings |".to_owned(),
        "|---|---|---|".to_owned(),
    ];
    out.extend(
        rows.iter()
            .map(|(r, (m, n))| format!("| {r} | {m} | {n} |")),
    );
    out
}

#[test]
fn the_documented_examples_give_their_documented_answers() {
    let data = real_files();
    let write = std::env::var("RUNNER_WRITE_EXAMPLES").is_ok_and(|v| v == "1");
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "examples");
        run_ok(
            runner_for(Some(&db), None)
                .args(["migrate", "movies", "--movie-data-path"])
                .arg(data.path()),
        );
        let text = std::fs::read_to_string(EXAMPLES).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let found = examples(&lines);
        assert!(found.len() >= 12, "{kind:?}: {} examples", found.len());
        let mut conn = db.conn();
        if write && kind == MysqlKind::MariaDb {
            let mut out: Vec<String> = Vec::new();
            let mut next = 0;
            for example in &found {
                out.extend(
                    lines[next..example.after_fence]
                        .iter()
                        .map(|l| l.to_string()),
                );
                out.push(String::new());
                out.extend(answer(&mut conn, &example.sql));
                next = match example.answer {
                    Some((_, end)) => end,
                    None if lines.get(example.after_fence) == Some(&"") => example.after_fence + 1,
                    None => example.after_fence,
                };
                if lines.get(next).is_some_and(|l| !l.is_empty()) {
                    out.push(String::new());
                }
            }
            out.extend(lines[next..].iter().map(|l| l.to_string()));
            std::fs::write(EXAMPLES, out.join("\n") + "\n").unwrap();
            continue;
        }
        // one answer computed independently of the SQL, too
        let reasons = found
            .iter()
            .find(|e| e.sql.contains("title_missing_reason"))
            .expect("the title reasons example");
        let (start, end) = reasons.answer.expect("its answer table");
        assert_eq!(
            lines[start..end].join("\n"),
            title_reasons_from_the_files(data.path()).join("\n"),
            "{kind:?}: the documented reasons differ from the files'"
        );
        for example in &found {
            let got = answer(&mut conn, &example.sql);
            let (start, end) = example
                .answer
                .unwrap_or_else(|| panic!("{EXAMPLES}: no answer table under\n{}", example.sql));
            let want: Vec<String> = lines[start..end].iter().map(|l| l.to_string()).collect();
            assert_eq!(
                got.join("\n"),
                want.join("\n"),
                "{kind:?}: {EXAMPLES}, lines {}..{}: the answer changed; \
                 RUNNER_WRITE_EXAMPLES=1 writes the new one\n{}",
                start + 1,
                end,
                example.sql
            );
        }
    }
    assert!(Path::new(EXAMPLES).exists());
}
