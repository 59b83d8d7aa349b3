//! What a run must refuse to publish, on MariaDB and MySQL 9.7: a data folder set but wrong, a
//! file that arrived empty or cut short, values its columns cannot hold (quarantined with their
//! line instead of failing the load), a repeated rating, and a binary file (a short message, the
//! run recorded as failed). In every case either the run fails and the published tables stay as
//! they were, or the good rows are published and the bad ones are in raw_rejects, and
//! read = loaded + rejected.

mod common;

use std::path::Path;

use common::*;

fn migrate(db: &MysqlDb, data: &Path, extra: &[&str]) -> Ran {
    run(runner_for(Some(db), None)
        .args(["migrate", "movies"])
        .args(extra)
        .arg("--movie-data-path")
        .arg(data))
}

/// Every published and raw table's rows, and the staged files' counts.
fn published(db: &MysqlDb) -> Vec<String> {
    use mysql::prelude::Queryable;
    let mut conn = db.conn();
    let tables: Vec<String> = conn
        .query(format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and table_type = 'BASE TABLE' and table_name not like 'runner%' \
             and table_name not like 'refinery%' order by table_name",
            db.name
        ))
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let sql = if table == "raw_files" {
            "select file_name, records_read, records_loaded, records_rejected from raw_files \
             order by 1"
                .to_owned()
        } else {
            format!("select * from `{table}` order by 1, 2")
        };
        let rows: Vec<mysql::Row> = conn.query(sql).unwrap();
        out.extend(
            rows.into_iter()
                .map(|r| format!("{table}: {:?}", r.unwrap())),
        );
    }
    out
}

fn last_outcome(db: &MysqlDb) -> (String, Option<String>) {
    let runs: Vec<(String, Option<String>)> =
        db.query("select outcome, error_message from runner_runs order by run_id desc limit 1");
    runs[0].clone()
}

/// A copy of the awkward fixture with `file` rewritten by `edit`.
fn awkward_with_edit(file: &str, edit: impl FnOnce(String) -> String) -> TempDir {
    let dir = copy_of(&movie_fixture("awkward"));
    let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
    std::fs::write(dir.path().join(file), edit(text)).unwrap();
    dir
}

#[test]
fn a_data_folder_set_but_wrong_publishes_nothing() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "wrongpath");
        assert_eq!(migrate(&db, &movie_fixture("awkward"), &[]).code, 0);
        let before = published(&db);
        let scratch = TempDir::new("paths");
        let a_file = scratch.path().join("a_file.csv");
        std::fs::write(&a_file, "id\n1\n").unwrap();
        let empty = scratch.path().join("unmounted");
        std::fs::create_dir(&empty).unwrap();
        let looped = scratch.path().join("loop");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        for (path, message) in [
            (scratch.path().join("typo"), "no such folder"),
            (a_file, "is a file, not a folder"),
            (looped, "cannot be read"),
            (
                empty,
                "holds none of the movie files (movies_metadata.csv, credits.csv",
            ),
        ] {
            let r = migrate(&db, &path, &[]);
            assert_eq!(r.code, 1, "{kind:?} {}: {r}", path.display());
            assert!(
                r.stderr.contains(&format!(
                    "{} (MOVIE_DATA_PATH, --movie-data-path): {message}",
                    path.display()
                )),
                "{kind:?}: {r}"
            );
            assert!(!r.stderr.contains("seed sample (seeds/movies)"), "{r}");
            assert_eq!(published(&db), before, "{kind:?} {}", path.display());
            assert_eq!(last_outcome(&db).0, "failed");
        }
    }
}

#[test]
fn a_file_that_arrived_empty_or_cut_short_publishes_nothing() {
    let header_only = awkward_with_edit("ratings_small.csv", |text| {
        text.lines().next().unwrap().to_owned() + "\r\n"
    });
    // the first half of the ratings (the fixture's 12 records: 6 kept)
    let half = awkward_with_edit("ratings_small.csv", |text| {
        text.lines().take(7).map(|l| format!("{l}\n")).collect()
    });
    // the first two of the five keyword records
    let third = awkward_with_edit("keywords.csv", |text| {
        text.lines().take(3).map(|l| format!("{l}\n")).collect()
    });
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "shrink");
        assert_eq!(migrate(&db, &movie_fixture("awkward"), &[]).code, 0);
        let before = published(&db);

        let r = migrate(&db, header_only.path(), &[]);
        assert_eq!(r.code, 1, "{kind:?}: {r}");
        assert!(
            r.stderr.contains(
                "ratings_small.csv: no records after the header: the file arrived empty or cut short"
            ),
            "{kind:?}: {r}"
        );
        assert_eq!(
            published(&db),
            before,
            "{kind:?}: an empty file was published"
        );

        for (data, shrunk) in [
            (
                half.path(),
                "(ratings_small.csv (raw_ratings): 11 at the last publish, 6 now: -45.5%)",
            ),
            (
                third.path(),
                "(keywords.csv (raw_keyword_sets): 4 at the last publish, 2 now: -50.0%)",
            ),
        ] {
            let r = migrate(&db, data, &[]);
            assert_eq!(r.code, 1, "{kind:?}: {r}");
            assert!(
                r.stderr
                    .contains("data checks failed, nothing published: no_unexpected_shrink")
                    && r.stderr.contains(shrunk),
                "{kind:?}: {r}"
            );
            assert_eq!(published(&db), before, "{kind:?}: a cut file was published");
        }

        // On purpose: --allow-shrink publishes, the shrink reported as a warning.
        let r = migrate(&db, half.path(), &["--allow-shrink"]);
        assert_eq!(r.code, 0, "{kind:?}: {r}");
        assert!(r.stderr.contains("check warn  no_unexpected_shrink"), "{r}");
        let ratings: Vec<u64> = db.query("select count(*) from raw_ratings");
        assert_eq!(ratings, [6], "{kind:?}");
    }
}

#[test]
fn values_a_column_cannot_hold_are_set_aside_with_their_line() {
    // The fixture's 12 ratings, then one record per bad value (lines 14 to 22) and a good one.
    let ratings = awkward_with_edit("ratings_small.csv", |text| {
        text + "5,1,2.25,1260759144\r\n\
                5,2,123.45,1260759144\r\n\
                -5,3,4.0,1260759144\r\n\
                5,9223372036854775808,4.0,1260759144\r\n\
                5,0,4.0,1260759144\r\n\
                5,4,4.0,32503680000\r\n\
                ,5,4.0,1260759144\r\n\
                5,6,,1260759144\r\n\
                1,1,5.0,1260759144\r\n\
                7,1,1.5,1260759144\r\n"
    });
    // a links record whose imdbId is 17 MiB, more than a mediumtext holds
    let field = "1".repeat(17 * 1024 * 1024);
    let links = ratings.path().join("links_small.csv");
    let text = std::fs::read_to_string(&links).unwrap();
    std::fs::write(&links, text + &format!("7,{field},999\r\n")).unwrap();
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "values");
        let r = migrate(&db, ratings.path(), &[]);
        assert_eq!(r.code, 0, "{kind:?}: {r}");
        let rejects: Vec<(String, u64, Option<String>, String)> = db.query(
            "select file_name, line_number, column_name, reason from raw_rejects \
             where file_name in ('ratings_small.csv', 'links_small.csv') and line_number <> 13 \
             order by file_name, line_number",
        );
        let got: Vec<String> = rejects
            .iter()
            .map(|(f, l, c, r)| format!("{f}:{l}:{}: {r}", c.as_deref().unwrap_or("-")))
            .collect();
        let want = [
            "links_small.csv:7:imdbId: a field of 17825792 bytes is longer than the 16777215 bytes a text column holds",
            "ratings_small.csv:14:rating: \"2.25\" is not a rating: 0.5 to 5.0 stars in steps of 0.5",
            "ratings_small.csv:15:rating: \"123.45\" is not a rating: 0.5 to 5.0 stars in steps of 0.5",
            "ratings_small.csv:16:userId: an id is a positive whole number, not \"-5\"",
            "ratings_small.csv:17:movieId: out of range: \"9223372036854775808\" is beyond the largest whole number a bigint column holds (9223372036854775807)",
            "ratings_small.csv:18:movieId: an id is a positive whole number, not \"0\"",
            "ratings_small.csv:19:timestamp: \"32503680000\" is not a Unix time from 1970 to 2099 (seconds since 1970-01-01)",
            "ratings_small.csv:20:userId: empty: an id is required",
            "ratings_small.csv:21:rating: \"\" is not a rating: 0.5 to 5.0 stars in steps of 0.5",
            "ratings_small.csv:22:userId: repeats line 2: the same userId 1 and movieId 1 (one record per pair: the first is kept)",
        ];
        assert_eq!(got, want, "{kind:?}");
        // The good rows are published, and every record is loaded or rejected.
        let files: Vec<(String, u64, u64, u64)> = db.query(
            "select file_name, records_read, records_loaded, records_rejected from raw_files \
             order by file_name",
        );
        for (file, read, loaded, rejected) in &files {
            assert_eq!(read, &(loaded + rejected), "{kind:?} {file}");
        }
        let ratings_file = files.iter().find(|f| f.0 == "ratings_small.csv").unwrap();
        assert_eq!((ratings_file.1, ratings_file.2), (22, 12), "{kind:?}");
        let user_7: Vec<(u64, String)> = db.query(
            "select rating_count, cast(mean_rating as char) from user_rating_bias where user_id = 7",
        );
        assert_eq!(user_7, [(1, "1.5000".to_owned())], "{kind:?}");
        // the repeated (1, 1) rating counts once: movie 1 keeps its 4 ratings
        let movie_1: Vec<u64> = db.query(
            "select rating_count from movie_rating_percentiles where movielens_movie_id = 1",
        );
        assert_eq!(movie_1, [5], "{kind:?}: user 7's rating is the fifth");
    }
}

#[test]
fn a_binary_file_fails_with_a_short_message_and_the_run_is_recorded_as_failed() {
    // 200 KB of printable noise with no line break: one enormous "header"
    let noise: String = (0..200_000u32)
        .map(|i| char::from(b'A' + (i * 7 % 26) as u8))
        .collect();
    let data = awkward_with_edit("ratings_small.csv", |_| noise);
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "binary");
        assert_eq!(migrate(&db, &movie_fixture("awkward"), &[]).code, 0);
        let before = published(&db);
        let r = migrate(&db, data.path(), &[]);
        assert_eq!(r.code, 1, "{kind:?}: {r}");
        assert!(
            r.stderr
                .contains("ratings_small.csv:1: header lacks column")
                && r.stderr
                    .contains("(200000 bytes in all): is it the right file?"),
            "{kind:?}: {r}"
        );
        assert!(
            r.stderr.len() < 4_000,
            "{kind:?}: {} bytes on stderr",
            r.stderr.len()
        );
        let (outcome, message) = last_outcome(&db);
        assert_eq!(outcome, "failed", "{kind:?}");
        assert!(
            message.unwrap_or_default().contains("header lacks column"),
            "{kind:?}"
        );
        assert_eq!(published(&db), before, "{kind:?}");
    }
}
