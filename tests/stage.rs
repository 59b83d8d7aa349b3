//! Staging the movie files on MariaDB and MySQL 9.7: crafted fixtures with every awkward input
//! (tests/fixtures/movies/README.md lists them), damaged files that must fail before anything is
//! swapped in, the seed fallback, and re-runs that give the same tables.

mod common;

use std::path::Path;

use common::*;

fn migrate_movies(db: &MysqlDb, data: &Path) -> Ran {
    run(runner_for(Some(db), None)
        .args(["migrate", "movies", "--movie-data-path"])
        .arg(data))
}

/// (file_name, read, loaded, rejected) per staged file.
fn file_counts(db: &MysqlDb) -> Vec<(String, u64, u64, u64)> {
    db.query("select file_name, records_read, records_loaded, records_rejected from raw_files order by file_name")
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

const RAW_TABLES: &[&str] = &[
    "raw_movies_metadata",
    "raw_movie_genres",
    "raw_movie_production_companies",
    "raw_movie_production_countries",
    "raw_movie_spoken_languages",
    "raw_credits",
    "raw_credits_cast",
    "raw_credits_crew",
    "raw_keyword_sets",
    "raw_keywords",
    "raw_ratings",
    "raw_links",
    "raw_rejects",
];

/// Every raw table's rows, in key order, as text: equal snapshots mean equal tables.
fn snapshot(db: &MysqlDb) -> Vec<String> {
    use mysql::prelude::Queryable;
    let mut conn = db.conn();
    let mut out = Vec::new();
    for table in RAW_TABLES {
        let rows: Vec<mysql::Row> = conn
            .query(format!("select * from {table} order by 1, 2"))
            .unwrap();
        for row in rows {
            out.push(format!("{table}: {:?}", row.unwrap()));
        }
    }
    out
}

#[test]
fn awkward_fixture_every_record_loaded_or_rejected_with_reason() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "awkward");
        let r = migrate_movies(&db, &movie_fixture("awkward"));
        assert_eq!(r.code, 0, "{kind:?}: {r}");
        assert!(
            r.stderr
                .contains("movies_metadata.csv: read 7, loaded 4, rejected 3"),
            "{r}"
        );
        let expected = [
            ("credits.csv".to_owned(), 5, 3, 2),
            ("keywords.csv".to_owned(), 5, 4, 1),
            ("links_small.csv".to_owned(), 5, 5, 0),
            ("movies_metadata.csv".to_owned(), 7, 4, 3),
            ("ratings_small.csv".to_owned(), 12, 11, 1),
        ];
        assert_eq!(file_counts(&db), expected, "{kind:?}");
        let status = run_ok(runner_for(Some(&db), None).args(["status", "movies", "--json"]));
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        let files = &json["targets"][0]["details"]["staged_files"];
        assert_eq!(files[3]["file"], "movies_metadata.csv", "{json}");
        assert_eq!(
            (
                files[3]["read"].as_u64(),
                files[3]["loaded"].as_u64(),
                files[3]["rejected"].as_u64()
            ),
            (Some(7), Some(4), Some(3))
        );

        let rejects: Vec<(String, u64, Option<String>, String)> =
            db.query("select file_name, line_number, column_name, reason from raw_rejects order by file_name, line_number");
        let summary: Vec<String> = rejects
            .iter()
            .map(|(f, l, c, r)| format!("{f}:{l}:{}: {r}", c.as_deref().unwrap_or("-")))
            .collect();
        let expect_prefixes = [
            "credits.csv:5:cast: invalid UTF-8 at byte",
            "credits.csv:6:-: expected 3 fields, found 1",
            "keywords.csv:6:id: not a whole number: \"abc\"",
            "movies_metadata.csv:6:-: expected 24 fields, found 10",
            "movies_metadata.csv:7:id: not a whole number: \"1997-08-20\"",
            "movies_metadata.csv:8:genres: ",
            "ratings_small.csv:13:rating: \"x\" is not a rating: 0.5 to 5.0 stars in steps of 0.5",
        ];
        assert_eq!(summary.len(), expect_prefixes.len(), "{summary:#?}");
        for (got, want) in summary.iter().zip(expect_prefixes) {
            assert!(
                got.starts_with(want),
                "{kind:?}: {got:?} does not start with {want:?}"
            );
        }
        // The rejected record is kept: the truncated one holds what the file had.
        let raw: Vec<String> = db.query(
            "select raw_text from raw_rejects where file_name = 'credits.csv' and line_number = 6",
        );
        assert!(raw[0].contains("'character': 'Cut"), "{raw:?}");

        // Bytes arrive exactly: backslash, tab, emoji; a quoted CRLF line break stays CRLF.
        let title: Vec<String> =
            db.query("select hex(title) from raw_movies_metadata where id = 100");
        assert_eq!(title, [hex("Back\\slash\tTab \u{1F3AC}")]);
        let overview: Vec<String> =
            db.query("select hex(overview) from raw_movies_metadata where id = 100");
        assert_eq!(overview, [hex("Line one.\r\nLine two, quoted.")]);
        // Every escape decoded as Python does (checked against ast.literal_eval when the fixture was made).
        let name: Vec<String> =
            db.query("select hex(name) from raw_keywords where id = 3 and line_number = 2");
        assert_eq!(
            name,
            [hex(
                "q's \"dq\" \\ \t \n \r A \u{e9} \u{1F3AC} \u{7}\u{8}\u{c}\u{b} \0 A"
            )]
        );
        let nbsp: Vec<String> =
            db.query("select hex(name) from raw_keywords where id = 1 and line_number = 2");
        assert_eq!(nbsp, [hex("\u{a0}nightgown")]);
        let apostrophe: Vec<u64> =
            db.query("select count(*) from raw_keywords where name = 'based on children''s book'");
        assert_eq!(apostrophe, [2]);

        // Child rows: every element of every loaded record, with its position; counts match the parents.
        let children: Vec<(u64, u64, u64, u64)> = db.query(
            "select (select count(*) from raw_keywords), (select count(*) from raw_credits_cast), \
                    (select count(*) from raw_credits_crew), (select count(*) from raw_movie_genres)",
        );
        assert_eq!(children, [(12, 5, 1, 7)]);
        let mismatched: Vec<u64> = db.query(
            "select count(*) from raw_keyword_sets as s \
             where s.keywords_count <> (select count(*) from raw_keywords as k where k.line_number = s.line_number)",
        );
        assert_eq!(mismatched, [0]);
        let collection: Vec<(Option<String>, Option<String>)> = db.query(
            "select json_unquote(json_extract(belongs_to_collection, '$.name')), \
                    json_type(json_extract(belongs_to_collection, '$.poster_path')) \
             from raw_movies_metadata where line_number = 2",
        );
        assert_eq!(
            collection,
            [(Some("Toy Story Collection".into()), Some("NULL".into()))]
        );
        let links: Vec<(u64, Option<u64>)> =
            db.query("select movieId, tmdbId from raw_links order by movieId");
        assert_eq!(links[3], (4, None));
    }
}

#[test]
fn same_input_twice_gives_the_same_tables() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "rerun");
        assert_eq!(migrate_movies(&db, &movie_fixture("awkward")).code, 0);
        let first = snapshot(&db);
        let r = migrate_movies(&db, &movie_fixture("awkward"));
        assert_eq!(r.code, 0, "{r}");
        assert_eq!(snapshot(&db), first, "{kind:?}");
        let leftovers: Vec<String> = db.query(&format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and (table_name like '%\\_\\_new' or table_name like '%\\_\\_old')",
            db.name
        ));
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

/// A folder holding the awkward fixture with one file replaced.
fn awkward_with(file: &str, replacement: &Path) -> TempDir {
    let dir = copy_of(&movie_fixture("awkward"));
    std::fs::copy(replacement, dir.path().join(file)).unwrap();
    dir
}

#[test]
fn damaged_file_fails_before_swap_and_previous_tables_stay() {
    let cases = [
        (
            "credits.csv",
            "empty",
            "credits.csv: empty file: expected a header line with id,cast,crew",
        ),
        (
            "links_small.csv",
            "wrong_header",
            "links_small.csv:1: header lacks column tmdbId",
        ),
        (
            "ratings_small.csv",
            "binary",
            "ratings_small.csv:1: not a CSV file in the expected format",
        ),
    ];
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "damaged");
        assert_eq!(migrate_movies(&db, &movie_fixture("awkward")).code, 0);
        let before = snapshot(&db);
        let files_before = file_counts(&db);
        for (file, case, message) in cases {
            let data = awkward_with(file, &movie_fixture(case).join(file));
            let r = migrate_movies(&db, data.path());
            assert_eq!(r.code, 1, "{kind:?} {case}: {r}");
            assert!(r.stderr.contains(message), "{kind:?} {case}: {r}");
            assert_eq!(snapshot(&db), before, "{kind:?} {case}: tables changed");
            assert_eq!(file_counts(&db), files_before);
        }
        let outcomes: Vec<String> = db.query("select outcome from runner_runs order by run_id");
        assert_eq!(outcomes, ["succeeded", "failed", "failed", "failed"]);
    }
}

/// The seed sample is for a first run with nothing configured: no data folder set, and no
/// ./moviearchive holding files in the working directory. The run says so in its log and in
/// runner_run_steps.
#[test]
fn no_data_folder_set_stages_the_seed_sample_and_says_so() {
    let db = MysqlDb::new(MysqlKind::MariaDb, "seeds");
    let elsewhere = TempDir::new("nodata");
    let r = run(runner_for(Some(&db), None)
        .args(["migrate", "movies"])
        .current_dir(elsewhere.path()));
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stderr.contains(
            "no data folder set (MOVIE_DATA_PATH, --movie-data-path) and ./moviearchive holds \
             none of the movie files: staging the bundled seed sample"
        ),
        "{r}"
    );
    let expected = [
        ("credits.csv".to_owned(), 99, 99, 0),
        ("keywords.csv".to_owned(), 99, 99, 0),
        ("links_small.csv".to_owned(), 93, 93, 0),
        ("movies_metadata.csv".to_owned(), 99, 99, 0),
        ("ratings_small.csv".to_owned(), 3594, 3594, 0),
    ];
    assert_eq!(file_counts(&db), expected);
    let sources: Vec<String> =
        db.query("select distinct source from raw_files where source like 'seeds/movies/%'");
    assert_eq!(sources.len(), 5);
    let detail: Vec<String> =
        db.query("select detail from runner_run_steps where step_name = 'stage'");
    assert!(
        detail[0].starts_with("5 files from the built-in seed sample (no data folder set)"),
        "{detail:?}"
    );
}

#[test]
fn some_files_missing_is_an_error_listing_them() {
    let db = MysqlDb::new(MysqlKind::MariaDb, "missing");
    let dir = TempDir::new("partial");
    std::fs::copy(
        movie_fixture("awkward/credits.csv"),
        dir.path().join("credits.csv"),
    )
    .unwrap();
    let r = migrate_movies(&db, dir.path());
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("missing movies_metadata.csv, keywords.csv, ratings_small.csv, links_small.csv or links.csv"),
        "{r}"
    );
}

#[test]
fn ratings_file_option_and_links_fallback() {
    let db = MysqlDb::new(MysqlKind::MariaDb, "options");
    let dir = awkward_with("ratings.csv", &movie_fixture("awkward/ratings_small.csv"));
    std::fs::remove_file(dir.path().join("ratings_small.csv")).unwrap();
    std::fs::rename(
        dir.path().join("links_small.csv"),
        dir.path().join("links.csv"),
    )
    .unwrap();
    let r = run(runner_for(Some(&db), None)
        .args([
            "migrate",
            "movies",
            "--ratings-file",
            "ratings.csv",
            "--movie-data-path",
        ])
        .arg(dir.path()));
    assert_eq!(r.code, 0, "{r}");
    let files: Vec<String> = db.query("select file_name from raw_files order by file_name");
    assert_eq!(
        files,
        [
            "credits.csv",
            "keywords.csv",
            "links.csv",
            "movies_metadata.csv",
            "ratings.csv"
        ]
    );
}

/// Puts a server's global `net_read_timeout` back when the test ends, even on a panic.
struct GlobalNetReadTimeout(MysqlKind, u64);

impl Drop for GlobalNetReadTimeout {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        let _ = mysql_admin(self.0).query_drop(format!("set global net_read_timeout = {}", self.1));
    }
}

/// Every table's `LOAD DATA` stream stays open until its file is done, and raw_rejects' for the
/// whole stage, so a stream sits idle while other files are parsed. The server drops a stream
/// that sends nothing for `net_read_timeout` (30 s by default); the runner raises it for its load
/// sessions. Here the server's default is 2 s and the stage pauses 3 s after one file.
#[test]
fn load_streams_outlive_a_pause_longer_than_the_servers_net_read_timeout() {
    use mysql::prelude::Queryable;
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "idle");
        let mut admin = mysql_admin(kind);
        let default: u64 = admin
            .query_first("select @@global.net_read_timeout")
            .unwrap()
            .unwrap();
        let _restore = GlobalNetReadTimeout(kind, default);
        admin.query_drop("set global net_read_timeout = 2").unwrap();
        let ran = run(runner_for(Some(&db), None)
            .args(["migrate", "movies", "--movie-data-path"])
            .arg(movie_fixture("awkward"))
            .env("RUNNER_PAUSE_AT", "stage:after:movies_metadata.csv"));
        drop(_restore);
        assert!(ran.stderr.contains("drill: pausing at"), "{ran}");
        assert_eq!(ran.code, 0, "{kind:?}: {ran}");
        let counts = file_counts(&db);
        assert_eq!(counts.len(), 5, "{counts:?}");
        let rejected: u64 = counts.iter().map(|c| c.3).sum();
        let in_table: Vec<u64> = db.query("select count(*) from raw_rejects");
        assert!(rejected > 0, "the awkward fixture has rejects: {counts:?}");
        assert_eq!(in_table[0], rejected, "{kind:?}");
    }
}
