//! Models on real servers: every object's live definition comes from its model file (the
//! recorded checksum is the file's), an edited model shows as changed in `runner status`, is
//! refused by `runner check` and `runner stage` until `runner migrate` applies it again and
//! rebuilds its table, a removed model's view is dropped, and a database migrated by the history
//! that the baseline replaced is refused with what to do.

mod common;

use std::path::Path;

use common::*;
use mysql::prelude::Queryable;
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// (model, checksum) of every `.sql` file of a models folder, computed here from the bytes.
fn file_checksums(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                sha256_hex(&std::fs::read(&p).unwrap()),
            )
        })
        .collect();
    out.sort();
    out
}

fn model_states(status: &Ran) -> Vec<(String, String)> {
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    json["targets"][0]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn an_edited_model_shows_as_changed_is_refused_then_applied_and_rebuilds_its_table() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "models");
        let dir = migrations_with("movies", &[]);
        let models = dir.path().join("movies/models");
        let model_count = sql_files(&models);
        let runner = || {
            let mut cmd = runner_for(Some(&db), None);
            cmd.env("RUNNER_MIGRATIONS_DIR", dir.path())
                .env("MOVIE_DATA_PATH", movie_fixture("awkward"));
            cmd
        };
        run_ok(runner().args(["migrate", "movies"]));

        // What the server holds comes from these very files.
        let recorded: Vec<(String, String)> =
            db.query("select model_name, checksum from runner_models order by model_name");
        assert_eq!(recorded, file_checksums(&models), "{kind:?}");
        let weighted_differs: Vec<u64> = db.query(
            "select count(*) from movie_genre_rankings where weighted_rating <> mean_rating",
        );
        assert!(
            weighted_differs[0] > 0,
            "{kind:?}: the prior moves no rating"
        );

        // The prior of 10 ratings becomes 0: the weighted rating is then the plain mean.
        // It is defined once, in int_movie_scores; movie_genre_rankings reads it.
        let file = models.join("int_movie_scores.sql");
        let text = std::fs::read_to_string(&file).unwrap();
        let edited = text
            .replace("10 as prior_rating_count", "0 as prior_rating_count")
            .replace(
                "--   weighted_rating  Bayesian mean, stars:",
                "--   weighted_rating  Bayesian mean with no prior, stars:",
            );
        assert_ne!(edited, text);
        std::fs::write(&file, edited).unwrap();

        let status = run_ok(runner().args(["status", "movies", "--json"]));
        let states = model_states(&status);
        assert_eq!(states.len(), model_count, "{states:?}");
        for (name, state) in &states {
            let want = if name == "int_movie_scores" {
                "changed"
            } else {
                "applied"
            };
            assert_eq!(state, want, "{kind:?} {name}");
        }
        let text_status = run_ok(runner().args(["status", "movies"]));
        assert!(
            text_status.stdout.contains(&format!(
                "models: {} applied, 1 changed, 0 new, 0 removed",
                model_count - 1
            )),
            "{text_status}"
        );
        for command in ["check", "stage"] {
            let refused = run(runner().args([command, "movies"]));
            assert_eq!(refused.code, 1, "{kind:?} {command}: {refused}");
            assert!(
                refused
                    .stderr
                    .contains("models are not current (int_movie_scores changed)"),
                "{refused}"
            );
        }

        let applied = run_ok(runner().args(["migrate", "movies"]));
        assert!(
            applied.stderr.contains(&format!(
                "models: 1 applied, 0 dropped, {} already current",
                model_count - 1
            )),
            "{applied}"
        );
        let weighted_differs: Vec<u64> = db.query(
            "select count(*) from movie_genre_rankings where weighted_rating <> mean_rating",
        );
        assert_eq!(weighted_differs, [0], "{kind:?}: the table was not rebuilt");
        let comment: Vec<String> = db.query(&format!(
            "select column_comment from information_schema.columns where table_schema = '{}' \
             and table_name = 'int_movie_scores' and column_name = 'weighted_rating'",
            db.name
        ));
        assert!(
            comment[0].starts_with("Bayesian mean with no prior, stars:"),
            "{comment:?}"
        );
        assert!(
            model_states(&run_ok(runner().args(["status", "movies", "--json"])))
                .iter()
                .all(|(_, state)| state == "applied")
        );
        run_ok(runner().args(["check", "movies"]));

        // A model whose file is gone: its view is dropped (no build reads stg_movie_cast).
        std::fs::remove_file(models.join("stg_movie_cast.sql")).unwrap();
        let status = run_ok(runner().args(["status", "movies", "--json"]));
        assert!(
            model_states(&status).contains(&("stg_movie_cast".into(), "removed".into())),
            "{status}"
        );
        let dropped = run_ok(runner().args(["migrate", "movies"]));
        assert!(
            dropped
                .stderr
                .contains("dropped removed model stg_movie_cast"),
            "{dropped}"
        );
        let left: Vec<u64> = db.query(&format!(
            "select count(*) from information_schema.views where table_schema = '{}' \
             and table_name = 'stg_movie_cast'",
            db.name
        ));
        assert_eq!(left, [0], "{kind:?}");
        let recorded: Vec<u64> =
            db.query("select count(*) from runner_models where model_name = 'stg_movie_cast'");
        assert_eq!(recorded, [0], "{kind:?}");
    }
}

#[test]
fn a_model_whose_header_lists_wrong_columns_is_refused() {
    let db = MysqlDb::new(MysqlKind::MariaDb, "badheader");
    let dir = migrations_with("movies", &[]);
    let file = dir.path().join("movies/models/keyword_aggregates.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "--   movie_count_rank  rank by movie_count, 1 = most common; ties share a rank\n",
            "",
        ),
    )
    .unwrap();
    let r = run(runner_for(Some(&db), None)
        .args(["migrate", "movies"])
        .env("RUNNER_MIGRATIONS_DIR", dir.path()));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains(
            "models/keyword_aggregates.sql: its columns list (keyword_id, keyword, movie_count, \
             run_id) is not the columns of table keyword_aggregates"
        ),
        "{r}"
    );
}

/// The history V1..V14 (movies) and V1..V5 (rollup) was squashed into one baseline before the
/// first release: a database it migrated is refused, saying what to do, and nothing is applied.
#[test]
fn a_database_migrated_by_the_squashed_history_is_refused() {
    let say = |r: &Ran, target: &str| {
        assert_eq!(r.code, 1, "{r}");
        let all = r.all();
        assert!(
            all.contains(
                "this database was migrated by another migration history (V1__runner_runs.sql .. "
            ) && all.contains(&format!(
                "Drop the database and run `runner migrate {target}` again"
            )),
            "{r}"
        );
    };
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "oldhistory");
        let mut conn = db.conn();
        conn.query_drop(
            "create table refinery_schema_history (version int primary key, name varchar(255), \
             applied_on varchar(255), checksum varchar(255))",
        )
        .unwrap();
        conn.query_drop(
            "insert into refinery_schema_history values \
             (1, 'runner_runs', '2026-11-01T00:00:00Z', '1'), \
             (14, 'stg_movielens_ratings', '2026-11-01T00:00:00Z', '14')",
        )
        .unwrap();
        let r = run(runner_for(Some(&db), None).args(["migrate", "movies"]));
        say(&r, "movies");
        assert!(r.stderr.contains("V14__stg_movielens_ratings.sql"), "{r}");
        let status = run(runner_for(Some(&db), None).args(["status", "movies"]));
        say(&status, "movies");
        let tables: Vec<u64> = db.query(&format!(
            "select count(*) from information_schema.tables where table_schema = '{}'",
            db.name
        ));
        assert_eq!(tables, [1], "{kind:?}: something was applied");
    }
    let rollup = PgDb::new("oldhistory");
    rollup
        .client()
        .batch_execute(
            "create table refinery_schema_history (version int4 primary key, name varchar(255), \
             applied_on varchar(255), checksum varchar(255)); \
             insert into refinery_schema_history values \
             (1, 'runner_runs', '2026-11-01T00:00:00Z', '1'), \
             (5, 'weekly_film_demand', '2026-11-01T00:00:00Z', '5')",
        )
        .unwrap();
    let r = run(runner_for(None, Some(&rollup)).args(["migrate", "rollup"]));
    say(&r, "rollup");
}
