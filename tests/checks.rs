//! Data checks and write-audit-publish on MariaDB and MySQL 9.7: `runner check` passes on good
//! data and fails (exit 1, naming the check, showing rows) on bad data; a run whose new data fails
//! a `fail` check publishes nothing and records the failure.

mod common;

use common::*;
use mysql::prelude::Queryable;

/// Every raw and derived table's rows but their run_id, as text.
fn snapshot(db: &MysqlDb) -> Vec<String> {
    let mut conn = db.conn();
    let tables: Vec<String> = conn
        .query(format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and table_type = 'BASE TABLE' and table_name not like 'runner%' \
             and table_name not like 'refinery%' and table_name <> 'raw_files' order by table_name",
            db.name
        ))
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let columns = columns_but_run_id(&mut conn, &db.name, &table);
        let rows: Vec<mysql::Row> = conn
            .query(format!("select {columns} from `{table}` order by 1, 2"))
            .unwrap();
        out.extend(
            rows.into_iter()
                .map(|r| format!("{table}: {:?}", r.unwrap())),
        );
    }
    out
}

/// The checks read objects of this binary's migrations (since V14 `stg_movielens_ratings`): on a
/// database that has not applied them, `runner check` says what to do instead of failing on a
/// missing view.
#[test]
fn check_refuses_a_database_with_pending_migrations() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "check_pending");
        let r = run(runner_for(Some(&db), None).args(["check", "movies"]));
        assert_ne!(r.code, 0, "{r}");
        assert!(
            r.stderr.contains("the database is not up to date (")
                && r.stderr.contains("run `runner migrate movies` first"),
            "{r}"
        );
    }
}

/// `runner check` of both targets: a movies database that cannot be checked (here: not migrated)
/// does not hide the rollup's results; the run still fails and names the movies problem. (The
/// target loop is the CLI's, the same for both MySQL kinds: MariaDB only.)
#[test]
fn check_of_both_targets_reports_the_rollup_when_movies_cannot_be_checked() {
    let movies = MysqlDb::new(MysqlKind::MariaDb, "check_both");
    let rollup = PgDb::unique("check_both");
    let pagila = pagila_fixture_source("check_both_src");
    let both = || runner_with_source(Some(&movies), &rollup, &pagila);
    run_ok(both().args(["migrate", "rollup"]));
    let r = run(both().arg("check"));
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains("rollup: pass  "), "{r}");
    assert!(r.stdout.contains("rollup: 9 of 9 checks passed"), "{r}");
    assert!(!r.stdout.contains("movies: "), "{r}");
    assert!(
        r.stderr.contains("movies: ") && r.stderr.contains("run `runner migrate movies` first"),
        "{r}"
    );
}

#[test]
fn check_passes_on_good_data_and_fails_on_bad() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "check");
        run_ok(
            runner_for(Some(&db), None)
                .args(["migrate", "movies", "--movie-data-path"])
                .arg(movie_fixture("awkward")),
        );
        let r = run_ok(runner_for(Some(&db), None).args(["check", "movies"]));
        assert!(r.stdout.contains("movies: warn  staging_rejects"), "{r}");
        assert!(
            r.stdout.contains("movies: pass  percentiles_ordered"),
            "{r}"
        );
        assert!(r.stdout.contains("checks passed"), "{r}");

        db.conn()
            .query_drop(
                "update movie_rating_percentiles set p25_rating = 9 where movielens_movie_id = 2",
            )
            .unwrap();
        let r = run(runner_for(Some(&db), None).args(["check", "movies"]));
        assert_eq!(r.code, 1, "{r}");
        assert!(
            r.stdout.contains("movies: FAIL  percentiles_ordered"),
            "{r}"
        );
        assert!(
            r.stdout.contains("(2, 2.000, 9.000, 2.500, 2.750, 3.000)"),
            "{r}"
        );
        assert!(
            r.stderr
                .contains("failed checks: movies/percentiles_ordered"),
            "{r}"
        );
    }
}

/// Each check of the newer tables finds the damage it names (the awkward fixture holds a row of
/// every table), and a re-run repairs it.
#[test]
fn each_check_of_the_newer_tables_finds_its_damage() {
    let damages = [
        (
            "financials_cover_budgets",
            "update movie_financials set is_amount_suspect = not is_amount_suspect",
        ),
        (
            "directors_bounded",
            "update director_consistency set best_weighted_rating = best_weighted_rating + 0.0001",
        ),
        (
            "user_bias_covers_users",
            "update user_rating_bias set shrunk_offset = mean_offset where compared_count > 0",
        ),
        (
            "hidden_gems_cover_rated_movies",
            "update movie_hidden_gems set gem_score = gem_score + 0.01",
        ),
        (
            "percentiles_caveats",
            "update movie_rating_percentiles set title_missing_reason = 'movieId not in the links file' \
             where movielens_movie_id = 4",
        ),
        (
            "published_run_ids",
            "update keyword_aggregates set run_id = run_id + 1",
        ),
        (
            "collections_numbered",
            "update collection_decay set sequel_number = 5",
        ),
    ];
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "newchecks");
        let migrate = || {
            run_ok(
                runner_for(Some(&db), None)
                    .args(["migrate", "movies", "--movie-data-path"])
                    .arg(movie_fixture("awkward")),
            )
        };
        migrate();
        for (check, damage) in damages {
            let r = run_ok(runner_for(Some(&db), None).args(["check", "movies"]));
            assert!(
                r.stdout.contains(&format!("movies: pass  {check}")),
                "{kind:?}: {r}"
            );
            db.conn().query_drop(damage).unwrap();
            let r = run(runner_for(Some(&db), None).args(["check", "movies"]));
            assert_eq!(r.code, 1, "{kind:?} {check}: {r}");
            assert!(
                r.stdout.contains(&format!("movies: FAIL  {check}")),
                "{kind:?}: {r}"
            );
            migrate();
        }
    }
}

#[test]
fn failing_check_on_new_data_publishes_nothing() {
    // A check of our own that the new data fails: the loader accepts a rating by user 9 (it is a
    // valid record), the check refuses it.
    let dir = migrations_with(
        "movies",
        &[(
            "checks/no_rating_by_user_9.sql",
            "-- severity: fail\n-- description: user 9 has rated nothing\n\
             select raw_ratings.userId, raw_ratings.rating from raw_ratings \
             where raw_ratings.userId = 9\n",
        )],
    );
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "audit");
        let runner = || {
            let mut cmd = runner_for(Some(&db), None);
            cmd.env("RUNNER_MIGRATIONS_DIR", dir.path());
            cmd
        };
        run_ok(
            runner()
                .args(["migrate", "movies", "--movie-data-path"])
                .arg(movie_fixture("awkward")),
        );
        let before = snapshot(&db);

        let bad = copy_of(&movie_fixture("awkward"));
        let ratings = std::fs::read_to_string(movie_fixture("awkward/ratings_small.csv")).unwrap();
        std::fs::write(
            bad.path().join("ratings_small.csv"),
            ratings + "9,1,4.5,1260759999\r\n",
        )
        .unwrap();
        let r = run(runner()
            .args(["migrate", "movies", "--movie-data-path"])
            .arg(bad.path()));
        assert_eq!(r.code, 1, "{kind:?}: {r}");
        assert!(
            r.stderr
                .contains("data checks failed, nothing published: no_rating_by_user_9"),
            "{r}"
        );
        assert!(r.stderr.contains("(9, 4.5)"), "{r}");
        assert_eq!(
            snapshot(&db),
            before,
            "{kind:?}: tables changed after a failed check"
        );
        let leftovers: Vec<String> = db.query(&format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and (table_name like '%\\_\\_new' or table_name like '%\\_\\_old')",
            db.name
        ));
        assert!(leftovers.is_empty(), "{leftovers:?}");

        let runs: Vec<(String, Option<String>)> =
            db.query("select outcome, error_message from runner_runs order by run_id desc limit 1");
        assert_eq!(runs[0].0, "failed");
        assert!(
            runs[0]
                .1
                .as_deref()
                .unwrap_or("")
                .contains("no_rating_by_user_9"),
            "{runs:?}"
        );
        let steps: Vec<(String, Option<String>)> = db.query(
            "select step_name, detail from runner_run_steps where run_id = (select max(run_id) from runner_runs) \
             order by step_number",
        );
        let names: Vec<&str> = steps.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["migrations", "models", "stage", "refresh", "checks"],
            "{steps:?}"
        );

        // The previous tables still pass, and a good run publishes again.
        run_ok(runner().args(["check", "movies"]));
        run_ok(
            runner()
                .args(["migrate", "movies", "--movie-data-path"])
                .arg(movie_fixture("awkward")),
        );
        let last: Vec<String> = db.query("select detail from runner_run_steps where step_name = 'checks' order by run_id desc limit 1");
        assert!(last[0].contains("0 failed"), "{last:?}");
    }
}
