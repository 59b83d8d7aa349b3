//! The backbone on real servers: migrate twice, status, refinery's gaps closed (swallowed errors,
//! no lock, drift), connection failures, and secrets kept out of every output.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mysql::prelude::Queryable;

fn migrations_applied_mysql(db: &MysqlDb) -> Vec<(i32, String)> {
    db.query("select version, name from refinery_schema_history order by version")
}

#[test]
fn migrate_twice_applies_once_and_status_shows_both_targets() {
    for kind in MysqlKind::ALL {
        let movies = MysqlDb::new(kind, "twice");
        let rollup = PgDb::unique("twice");
        let pagila = pagila_fixture_source("twice_src");
        let both = || runner_with_source(Some(&movies), &rollup, &pagila);
        let first = run_ok(both().arg("migrate"));
        assert!(first.stderr.contains("applied V1__baseline.sql"), "{first}");
        let second = run_ok(both().arg("migrate"));
        assert!(
            !second.stderr.contains("applied V") && !second.stderr.contains("applied model"),
            "second run applied something:\n{second}"
        );

        let status = run_ok(both().args(["status", "--json"]));
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        let targets = json["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 2);
        for t in targets {
            assert!(t["error"].is_null(), "{t}");
            assert_eq!(t["pending"].as_array().unwrap().len(), 0, "{t}");
            assert_eq!(t["drift"].as_array().unwrap().len(), 0, "{t}");
            assert!(!t["applied"].as_array().unwrap().is_empty(), "{t}");
            let runs = t["runs"].as_array().unwrap();
            assert_eq!(runs.len(), 2, "{t}");
            assert!(runs.iter().all(|r| r["outcome"] == "succeeded"), "{t}");
            assert_eq!(runs[1]["steps"][0]["step_name"], "migrations");
        }
        assert_eq!(targets[0]["target"], "movies");
        assert_eq!(targets[0]["connection"], movies.url());
        assert_eq!(targets[1]["target"], "rollup");
    }
}

/// Rule 3 of migrations/README.md: MySQL commits DDL implicitly, so a crash between applying a
/// migration and recording it makes the next run apply it again, over what it created (tables
/// holding data by then); likewise a model applied but not recorded in runner_models. Here the
/// versioned migrations' history rows (the baseline, and V2's column changes to a table holding
/// data) and then every model's row are deleted after a data run: the next run applies them
/// again, and the tables, the views and the build views come out the same.
#[test]
fn the_baseline_and_the_models_reapply_over_themselves() {
    let tables = |db: &MysqlDb| -> Vec<(String, u64)> {
        let names: Vec<String> = db.query(&format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and table_type = 'BASE TABLE' and table_name not like 'runner%' \
             and table_name not in ('refinery_schema_history', 'raw_files') order by 1",
            db.name
        ));
        names
            .into_iter()
            .map(|t| {
                let n: Vec<u64> = db.query(&format!("select count(*) from `{t}`"));
                (t, n[0])
            })
            .collect()
    };
    // every column of every table (raw_files too: V4 alters it), in order, with type and nullability
    let columns = |db: &MysqlDb| -> Vec<(String, String, String, String)> {
        db.query(&format!(
            "select table_name, column_name, column_type, is_nullable from information_schema.columns \
             where table_schema = '{}' order by table_name, ordinal_position",
            db.name
        ))
    };
    let views = |db: &MysqlDb| -> Vec<(String, String)> {
        db.query(&format!(
            "select table_name, view_definition from information_schema.views \
             where table_schema = '{}' order by 1",
            db.name
        ))
    };
    // one view per model file (a table model's is its build view)
    let models = sql_files("migrations/movies/models");
    let migrations = sql_files("migrations/movies");
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "reapply");
        let migrate = || run_ok(runner_for(Some(&db), None).args(["migrate", "movies"]));
        migrate();
        let (before, before_views, before_columns) = (tables(&db), views(&db), columns(&db));
        assert!(
            before.iter().any(|(t, n)| t == "stg_movies" && *n > 0),
            "{kind:?}: the run built nothing"
        );
        assert_eq!(before_views.len(), models, "{kind:?}: a view per model");
        db.conn()
            .query_drop("delete from refinery_schema_history")
            .unwrap();
        let again = migrate();
        assert!(
            again.stderr.contains(&format!(
                "migrations: {migrations} applied, 0 already up to date"
            )),
            "{again}"
        );
        assert!(
            again
                .stderr
                .contains(&format!("0 applied, 0 dropped, {models} already current")),
            "{again}"
        );
        assert_eq!(
            tables(&db),
            before,
            "{kind:?}: the migrations applied twice"
        );
        assert_eq!(
            columns(&db),
            before_columns,
            "{kind:?}: a column changed when the migrations applied twice"
        );
        db.conn().query_drop("delete from runner_models").unwrap();
        let again = migrate();
        assert!(
            again
                .stderr
                .contains(&format!("{models} applied, 0 dropped, 0 already current")),
            "{again}"
        );
        assert_eq!(tables(&db), before, "{kind:?}: the models applied twice");
        assert_eq!(
            views(&db),
            before_views,
            "{kind:?}: a view changed when applied again"
        );
    }
}

/// refinery issue #343: the sync mysql driver swallowed an error in the 2nd statement of a file.
#[test]
fn error_in_second_statement_fails_the_run_and_stays_unrecorded() {
    for kind in MysqlKind::ALL {
        let movies = MysqlDb::new(kind, "swallow");
        let bad =
            "create table if not exists t_first (id int);\ninsert into no_such_table values (1);\n";
        let dir = migrations_with("movies", &[("V900__broken.sql", bad)]);
        let r = run(runner_for(Some(&movies), None)
            .args(["migrate", "movies", "--migrations-dir"])
            .arg(dir.path()));
        assert_eq!(r.code, 1, "{kind:?}: {r}");
        assert!(r.stderr.contains("V900__broken.sql"), "{r}");
        assert!(r.stderr.contains("no_such_table"), "{r}");
        let applied = migrations_applied_mysql(&movies);
        assert!(
            applied.iter().all(|(v, _)| *v != 900),
            "{kind:?}: recorded as applied: {applied:?}"
        );
        let runs: Vec<(String, Option<String>)> =
            movies.query("select outcome, error_message from runner_runs order by run_id");
        assert_eq!(runs.last().unwrap().0, "failed", "{runs:?}");

        // Fixed in place (it never applied), a re-run completes it: `if not exists` makes it re-runnable.
        let fixed = "create table if not exists t_first (id int);\ncreate table if not exists t_second (id int);\n";
        std::fs::write(dir.path().join("movies/V900__broken.sql"), fixed).unwrap();
        run_ok(
            runner_for(Some(&movies), None)
                .args(["migrate", "movies", "--migrations-dir"])
                .arg(dir.path()),
        );
        assert!(
            migrations_applied_mysql(&movies)
                .iter()
                .any(|(v, _)| *v == 900)
        );
    }
}

#[test]
fn error_in_postgres_migration_rolls_back_the_whole_file() {
    let rollup = PgDb::unique("pgerr");
    let bad = "create table t_first (id int);\ninsert into no_such_table values (1);\n";
    let dir = migrations_with("rollup", &[("V900__broken.sql", bad)]);
    let r = run(runner_for(None, Some(&rollup))
        .args(["migrate", "rollup", "--migrations-dir"])
        .arg(dir.path()));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("V900__broken.sql") && r.stderr.contains("no_such_table"),
        "{r}"
    );
    let mut c = rollup.client();
    let t_first: bool = c
        .query_one("select to_regclass('t_first') is not null", &[])
        .unwrap()
        .get(0);
    assert!(
        !t_first,
        "the failed migration's first statement was committed"
    );
    let n: i64 = c
        .query_one(
            "select count(*) from refinery_schema_history where version = 900",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[test]
fn two_concurrent_migrates_both_succeed_one_after_the_other() {
    for kind in MysqlKind::ALL {
        let movies = MysqlDb::new(kind, "concurrent");
        let rollup = PgDb::new("concurrent");
        let pagila = pagila_fixture_source("concurrent_src");
        // A slow migration makes the overlap certain.
        let dir = migrations_with("movies", &[("V900__slow.sql", "do sleep(1.5);\n")]);
        let pg_dir = migrations_with("rollup", &[("V900__slow.sql", "select pg_sleep(1.5);\n")]);
        std::fs::rename(pg_dir.path().join("rollup"), dir.path().join("rollup")).unwrap();
        let spawn = || {
            runner_with_source(Some(&movies), &rollup, &pagila)
                .args(["migrate", "--migrations-dir"])
                .arg(dir.path())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = run_two_at_once(spawn);
        assert_eq!((a.code, b.code), (0, 0), "{a}\n{b}");
        let waited = format!("{}{}", a.stderr, b.stderr);
        assert!(
            waited.contains("waiting for lock")
                || waited.contains("waiting for the migration lock"),
            "{a}\n{b}"
        );
        let sql_files = |target: &str| sql_files(dir.path().join(target)) as i64;
        assert_eq!(
            migrations_applied_mysql(&movies).len() as i64,
            sql_files("movies")
        );
        let runs: Vec<(i64, String)> =
            movies.query("select run_id, outcome from runner_runs order by run_id");
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert!(runs.iter().all(|(_, o)| o == "succeeded"), "{runs:?}");
        let mut c = rollup.client();
        let n: i64 = c
            .query_one("select count(*) from refinery_schema_history", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, sql_files("rollup"));
        let ok: i64 = c
            .query_one(
                "select count(*) from runner_runs where outcome = 'succeeded'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(ok, 2);
    }
}

#[test]
fn drift_aborts_naming_the_changed_file() {
    for kind in MysqlKind::ALL {
        let movies = MysqlDb::new(kind, "drift");
        let dir = migrations_with(
            "movies",
            &[(
                "V900__extra.sql",
                "create table if not exists t_x (id int);\n",
            )],
        );
        let runner_with_dir = || {
            let mut cmd = runner_for(Some(&movies), None);
            cmd.env("RUNNER_MIGRATIONS_DIR", dir.path());
            cmd
        };
        run_ok(runner_with_dir().args(["migrate", "movies"]));
        // Only a comment changes: still drift.
        std::fs::write(
            dir.path().join("movies/V900__extra.sql"),
            "-- reworded\ncreate table if not exists t_x (id int);\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("movies/V901__later.sql"),
            "create table if not exists t_y (id int);\n",
        )
        .unwrap();
        let r = run(runner_with_dir().args(["migrate", "movies"]));
        assert_eq!(r.code, 1, "{r}");
        assert!(
            r.stderr
                .contains("V900__extra.sql changed after it was applied"),
            "{r}"
        );
        assert!(
            migrations_applied_mysql(&movies)
                .iter()
                .all(|(v, _)| *v != 901),
            "a migration was applied despite drift"
        );
        let status = run_ok(runner_with_dir().args(["status", "movies", "--json"]));
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(json["targets"][0]["drift"][0]["file"], "V900__extra.sql");
        assert_eq!(json["targets"][0]["drift"][0]["kind"], "changed");

        std::fs::remove_file(dir.path().join("movies/V900__extra.sql")).unwrap();
        let r = run(runner_with_dir().args(["migrate", "movies"]));
        assert_eq!(r.code, 1, "{r}");
        assert!(
            r.stderr
                .contains("V900__extra.sql was applied but its file is gone"),
            "{r}"
        );
    }
}

#[test]
fn misnamed_migration_file_is_an_error_not_skipped() {
    let movies = MysqlDb::new(MysqlKind::MariaDb, "misnamed");
    let dir = migrations_with("movies", &[("V2__bad-name.sql", "select 1;\n")]);
    let r = run(runner_for(Some(&movies), None)
        .args(["migrate", "movies", "--migrations-dir"])
        .arg(dir.path()));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains("V2__bad-name.sql: not a migration name"),
        "{r}"
    );
}

#[test]
fn closed_port_exits_1_within_the_timeout() {
    // Nothing listens on port 1 of the loopback.
    let started = Instant::now();
    let r = run(runner()
        .args([
            "migrate",
            "movies",
            "--mysql-port",
            "1",
            "--connect-timeout",
            "3",
        ])
        .env("MYSQL_PASSWORD", "pw-closed-port"));
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{r}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "took {took:?}"
    );
    assert!(
        r.stderr
            .contains("gave up waiting for movies database mysql://root:***@127.0.0.1:1/"),
        "{r}"
    );
    assert!(!r.all().contains("pw-closed-port"), "{r}");

    let r = run(runner()
        .args(["migrate", "rollup", "--connect-timeout", "2"])
        .env(
            "ROLLUP_DATABASE_URL",
            "postgres://postgres:pw-closed-pg@127.0.0.1:1/rollup",
        ));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains(
            "gave up waiting for rollup database postgres://postgres:***@127.0.0.1:1/rollup"
        ),
        "{r}"
    );
    assert!(!r.all().contains("pw-closed-pg"), "{r}");
}

#[test]
fn usage_error_exits_2() {
    let r = run(runner().args(["migrate", "nonsense"]));
    assert_eq!(r.code, 2, "{r}");
    let r = run(runner().arg("frobnicate"));
    assert_eq!(r.code, 2, "{r}");
    let r = run(runner().arg("--help"));
    assert_eq!(r.code, 0, "{r}");
}

#[test]
fn password_connections_work_and_wrong_password_is_clear() {
    for kind in MysqlKind::ALL {
        let movies = MysqlDb::new(kind, "pw");
        let user = format!("rt_pw_{}", std::process::id());
        let url = mysql_user(kind, &movies, &user, "Right-Pass-42");
        if kind == MysqlKind::Mysql {
            let plugin: Vec<String> = movies.query(&format!(
                "select plugin from mysql.user where user = '{user}'"
            ));
            assert_eq!(plugin, ["caching_sha2_password"]);
        }
        let r = run_ok(
            runner()
                .args(["migrate", "movies"])
                .env("MOVIES_DATABASE_URL", &url),
        );
        assert!(!r.all().contains("Right-Pass-42"), "{r}");

        // The same through the MYSQL_* variables, with a wrong password: fails at once, clearly.
        let host_port = kind.server_url().rsplit('@').next().unwrap().to_owned();
        let (host, port) = host_port.split_once(':').unwrap();
        let started = Instant::now();
        let r = run(runner()
            .args(["status", "movies"])
            .env("MYSQL_URL", host)
            .env("MYSQL_PORT", port)
            .env("MYSQL_USERNAME", &user)
            .env("MYSQL_PASSWORD", "Wrong-Pass-17")
            .env("MYSQL_DATABASE", &movies.name));
        assert_eq!(r.code, 1, "{r}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a wrong password must not be retried"
        );
        assert!(r.all().contains("Access denied"), "{r}");
        assert!(
            r.all()
                .contains(&format!("mysql://{user}:***@{host}:{port}/")),
            "{r}"
        );
        assert!(!r.all().contains("Wrong-Pass-17"), "{r}");
        mysql_admin(kind)
            .query_drop(format!("drop user '{user}'@'%'"))
            .unwrap();
    }
}

#[test]
fn no_command_prints_the_password() {
    let secret = "S3cret-Never-Shown";
    let movies = MysqlDb::new(MysqlKind::MariaDb, "secret");
    let user = format!("rt_sec_{}", std::process::id());
    let url = mysql_user(MysqlKind::MariaDb, &movies, &user, secret);
    let pg_url = format!("postgres://postgres:{secret}@127.0.0.1:5432/rt_secret_missing_db");
    let with_secrets = || {
        let mut cmd = runner();
        cmd.env("MOVIES_DATABASE_URL", &url)
            .env("MYSQL_PASSWORD", secret)
            .env("PAGILA_DATABASE_URL", &pg_url)
            .env("ROLLUP_DATABASE_URL", &pg_url)
            .env("RUNNER_CONNECT_TIMEOUT", "2");
        cmd
    };
    let outputs = [
        run(with_secrets().arg("--help")),
        run(with_secrets().args(["migrate", "--help"])),
        run(with_secrets().args(["status", "--help"])),
        run(with_secrets().args(["-vv", "migrate", "movies"])),
        run(with_secrets().args(["-vv", "status"])),
        run(with_secrets().args(["status", "--json"])),
        // Fails: the rollup server refuses a password it does not need? No: trust auth accepts it,
        // so point it at a closed port to force an error that names the target.
        run(with_secrets()
            .env(
                "ROLLUP_DATABASE_URL",
                format!("postgres://u:{secret}@127.0.0.1:1/x"),
            )
            .args(["-vv", "migrate", "rollup"])),
        run(with_secrets()
            .env("MOVIES_DATABASE_URL", format!("mysql://u:{secret}@[::1/x"))
            .args(["migrate", "movies"])),
    ];
    for out in &outputs {
        assert!(!out.all().contains(secret), "password printed:\n{out}");
    }
    assert_eq!(outputs[6].code, 1);
    assert_eq!(outputs[7].code, 1);
    mysql_admin(MysqlKind::MariaDb)
        .query_drop(format!("drop user '{user}'@'%'"))
        .unwrap();
}
