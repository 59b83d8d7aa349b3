//! Failure drills on MariaDB and MySQL 9.7: the runner killed at many points, its database
//! connections cut mid-run, two runs at once, least privilege. After each, a normal run must give
//! exactly the tables of an uninterrupted run.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use common::*;
use mysql::prelude::Queryable;

fn migrate(db: &MysqlDb) -> std::process::Command {
    let mut cmd = runner_for(Some(db), None);
    cmd.args(["migrate", "movies", "--movie-data-path"])
        .arg(movie_fixture("awkward"));
    cmd
}

/// Every table but the run history, raw_files without its timestamps, no table's run_id, and
/// leftovers listed.
fn snapshot(db: &MysqlDb) -> Vec<String> {
    let mut conn = db.conn();
    let tables: Vec<String> = conn
        .query(format!(
            "select table_name from information_schema.tables where table_schema = '{}' \
             and table_name not like 'runner%' and table_name <> 'raw_files' order by table_name",
            db.name
        ))
        .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let order = if table.starts_with("build_") || table.starts_with("stg_") {
            ""
        } else {
            " order by 1, 2"
        };
        let sql = if table == "refinery_schema_history" {
            "select version, name, checksum from refinery_schema_history order by version"
                .to_owned()
        } else {
            let columns = columns_but_run_id(&mut conn, &db.name, &table);
            format!("select {columns} from `{table}`{order}")
        };
        let rows: Vec<mysql::Row> = conn.query(sql).unwrap();
        let mut rows: Vec<String> = rows
            .into_iter()
            .map(|r| format!("{table}: {:?}", r.unwrap()))
            .collect();
        rows.sort();
        out.extend(rows);
    }
    let files: Vec<(String, u64, u64, u64)> = conn
        .query("select file_name, records_read, records_loaded, records_rejected from raw_files order by 1")
        .unwrap();
    out.extend(files.into_iter().map(|f| format!("raw_files: {f:?}")));
    out
}

/// The snapshot without what a run that died leaves beside the live tables (copies and staged
/// views): what readers and `runner check` see.
fn live_snapshot(db: &MysqlDb) -> Vec<String> {
    snapshot(db)
        .into_iter()
        .filter(|row| {
            let table = row.split(':').next().unwrap_or("");
            !(table.ends_with("__new") || table.ends_with("__old") || table.ends_with("__staged"))
        })
        .collect()
}

/// Killed anywhere between loading the new files and publishing what was built from them, the
/// runner leaves the live tables exactly as the last published run left them (no new raw tables
/// beside old derived ones), and `runner check` on them passes.
#[test]
fn killed_before_the_publish_the_live_tables_stay_the_previous_published_set() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "consistent");
        run_ok(&mut migrate(&db));
        let published = live_snapshot(&db);
        for point in [
            "stage:after:ratings_small.csv",
            "stage:after-load",
            "refresh:after-build",
            "checks:after-audit",
        ] {
            // Other data: the seed sample (no data folder given).
            let crashed = run(runner_for(Some(&db), None)
                .args(["migrate", "movies"])
                .env("RUNNER_CRASH_AT", point));
            assert!(
                crashed.code != 0 && crashed.stderr.contains(&format!("crashing at {point}")),
                "{kind:?} {point}: {crashed}"
            );
            assert_eq!(
                live_snapshot(&db),
                published,
                "{kind:?} {point}: the live tables changed"
            );
            run_ok(runner_for(Some(&db), None).args(["check", "movies"]));
        }
    }
}

fn reference(kind: MysqlKind) -> Vec<String> {
    let db = MysqlDb::new(kind, "reference");
    run_ok(&mut migrate(&db));
    snapshot(&db)
}

const CRASH_POINTS: &[&str] = &[
    "migrate:before:V1",
    "migrate:before-record",
    "models:before-record:keyword_aggregates",
    "stage:after:credits.csv",
    "stage:after-load",
    "refresh:after-build",
    "checks:after-audit",
    "publish:after-swap",
];

#[test]
fn killed_at_any_point_then_rerun_equals_an_uninterrupted_run() {
    for kind in MysqlKind::ALL {
        let want = reference(kind);
        for point in CRASH_POINTS {
            let db = MysqlDb::new(kind, "crash");
            if point.starts_with("stage")
                || point.starts_with("refresh")
                || point.starts_with("checks")
                || point.starts_with("publish")
            {
                run_ok(&mut migrate(&db)); // a published state to crash on top of
            }
            let crashed = run(migrate(&db).env("RUNNER_CRASH_AT", point));
            assert_ne!(
                crashed.code, 0,
                "{kind:?} {point}: did not crash\n{crashed}"
            );
            assert!(
                crashed.stderr.contains(&format!("crashing at {point}")),
                "{crashed}"
            );
            let rerun = run_ok(&mut migrate(&db));
            assert_eq!(
                snapshot(&db),
                want,
                "{kind:?} {point}: differs from an uninterrupted run\n{rerun}"
            );
            let outcomes: Vec<String> = db.query("select outcome from runner_runs order by run_id");
            assert_eq!(outcomes.last().map(String::as_str), Some("succeeded"));
            if outcomes.len() > 1 {
                assert_eq!(
                    outcomes[outcomes.len() - 2],
                    "abandoned",
                    "{kind:?} {point}: {outcomes:?}"
                );
            }
        }
    }
}

#[test]
fn kill_9_at_timed_moments_then_rerun_equals_an_uninterrupted_run() {
    let kind = MysqlKind::MariaDb;
    let want = reference(kind);
    let db = MysqlDb::new(kind, "timed");
    let started = Instant::now();
    run_ok(&mut migrate(&db));
    let full = started.elapsed();
    for step in 1..=8u32 {
        let mut child = migrate(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full * step / 8);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        run_ok(&mut migrate(&db));
        assert_eq!(snapshot(&db), want, "killed after {:?}", full * step / 8);
    }
    let duplicates: Vec<(i64, u64)> =
        db.query("select run_id, count(*) from runner_runs group by run_id having count(*) > 1");
    assert!(duplicates.is_empty());
}

/// What a server restart looks like to the runner: every connection drops mid-run.
#[test]
fn connections_cut_mid_run_fail_clearly_and_the_next_run_recovers() {
    for kind in MysqlKind::ALL {
        let want = reference(kind);
        let db = MysqlDb::new(kind, "cut");
        run_ok(&mut migrate(&db));
        let mut child = migrate(&db)
            .env("RUNNER_PAUSE_AT", "refresh:after-build")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "the run ended before pausing: {seen}"
            );
            seen.push_str(&line);
            if line.contains("pausing at refresh:after-build") {
                break;
            }
        }
        let mut admin = mysql_admin(kind);
        let ids: Vec<u64> = admin
            .query(format!(
                "select id from information_schema.processlist where db = '{}'",
                db.name
            ))
            .unwrap();
        assert!(!ids.is_empty());
        for id in ids {
            let _ = admin.query_drop(format!("kill {id}"));
        }
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{seen}{rest}");
        assert!(rest.contains("runner: error: movies:"), "{rest}");
        assert!(
            rest.contains("lost the database connection mid-run"),
            "not a clear error: {rest}"
        );
        run_ok(&mut migrate(&db));
        assert_eq!(snapshot(&db), want, "{kind:?}");
    }
}

#[test]
fn two_migrates_at_once_both_succeed_without_duplicate_history() {
    let db = MysqlDb::new(MysqlKind::Mysql, "twice");
    let spawn = || {
        migrate(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = run_two_at_once(spawn);
    assert_eq!((a.code, b.code), (0, 0), "{a}\n{b}");
    let runs: Vec<(i64, String)> =
        db.query("select run_id, outcome from runner_runs order by run_id");
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|(_, o)| o == "succeeded"));
    let steps: Vec<(i64, u64)> =
        db.query("select run_id, count(*) from runner_run_steps group by run_id order by run_id");
    assert_eq!(
        steps.iter().map(|s| s.1).collect::<Vec<_>>(),
        [6, 6],
        "{steps:?}"
    );
    assert_eq!(snapshot(&db), reference(MysqlKind::Mysql));
}

/// The Compose job's rights: everything on its own database, nothing else (no FILE, no global grants).
#[test]
fn least_privilege_user_runs_migrate_check_and_status() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "leastpriv");
        let user = format!("rt_lp_{}", std::process::id());
        let url = mysql_user(kind, &db, &user, "Lp-Pass-1");
        let mut admin = mysql_admin(kind);
        let grants: Vec<String> = admin
            .query(format!("show grants for '{user}'@'%'"))
            .unwrap();
        assert_eq!(grants.len(), 2, "{grants:?}"); // USAGE on *.* and ALL on the database
        let with_user = |args: &[&str]| {
            let mut cmd = runner();
            cmd.env("MOVIES_DATABASE_URL", &url).args(args);
            cmd
        };
        let mut first = with_user(&["migrate", "movies", "--movie-data-path"]);
        first.arg(movie_fixture("awkward"));
        run_ok(&mut first);
        run_ok(&mut with_user(&["check", "movies"]));
        run_ok(&mut with_user(&["status", "movies"]));
        admin.query_drop(format!("drop user '{user}'@'%'")).unwrap();
    }
}

/// The rollup's rows as text (weekly tables and the mirror), for comparing runs.
fn rollup_snapshot(rollup: &PgDb) -> Vec<String> {
    let mut client = rollup.client();
    let mut out = Vec::new();
    for table in [
        "rollup.weekly_rentals",
        "rollup.weekly_film_demand",
        "rollup.raw_rental",
    ] {
        let rows = client
            .simple_query(&format!("select * from {table} order by 1, 2"))
            .unwrap();
        for message in rows {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                let cells: Vec<&str> = (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL"))
                    .collect();
                out.push(format!("{table}: {}", cells.join(",")));
            }
        }
    }
    out
}

#[test]
fn rollup_killed_inside_its_transaction_then_rerun_equals_an_uninterrupted_run() {
    let source = pagila_fixture_source("drill_src");
    let reference = PgDb::unique("drill_ref");
    let rollup = PgDb::unique("drill_rollup");
    let runner_with = |db: &PgDb| {
        let mut cmd = runner_with_source(None, db, &source);
        cmd.args(["migrate", "rollup"]);
        cmd
    };
    run_ok(&mut runner_with(&reference));
    let want = rollup_snapshot(&reference);
    assert!(!want.is_empty());

    // First run (full load) dies just before its commit: nothing of it may remain.
    let crashed = run(runner_with(&rollup).env("RUNNER_CRASH_AT", "rollup:before-commit"));
    assert_ne!(crashed.code, 0, "{crashed}");
    assert!(
        rollup_snapshot(&rollup).is_empty(),
        "a crashed run left rows behind"
    );
    run_ok(&mut runner_with(&rollup));
    assert_eq!(rollup_snapshot(&rollup), want);

    // An incremental run dies the same way after a source change; the rerun catches up exactly.
    source
        .client()
        .batch_execute("update rental set return_date = rental_date + interval '3 days' where rental_id in (select rental_id from rental where return_date is null order by rental_id limit 5)")
        .unwrap();
    let crashed = run(runner_with(&rollup).env("RUNNER_CRASH_AT", "rollup:before-commit"));
    assert_ne!(crashed.code, 0, "{crashed}");
    assert_eq!(
        rollup_snapshot(&rollup),
        want,
        "the crashed incremental run changed the tables"
    );
    run_ok(&mut runner_with(&rollup));
    run_ok(&mut runner_with(&reference));
    assert_eq!(rollup_snapshot(&rollup), rollup_snapshot(&reference));
    let outcomes: Vec<String> = rollup
        .client()
        .query("select outcome from runner_runs order by run_id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        outcomes,
        ["abandoned", "succeeded", "abandoned", "succeeded"]
    );
}

#[test]
fn rollup_failing_check_commits_nothing() {
    let source = pagila_fixture_source("audit_src");
    let rollup = PgDb::unique("audit_rollup");
    let dir = migrations_with("rollup", &[]);
    let checks = dir.path().join("rollup/checks");
    std::fs::create_dir_all(&checks).unwrap();
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/rollup/checks");
    for entry in std::fs::read_dir(real).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, checks.join(path.file_name().unwrap())).unwrap();
    }
    let runner_with_dir = || {
        let mut cmd = runner_with_source(None, &rollup, &source);
        cmd.env("RUNNER_MIGRATIONS_DIR", dir.path())
            .args(["migrate", "rollup"]);
        cmd
    };
    let good = run_ok(&mut runner_with_dir());
    assert!(
        good.stderr.contains("data checks passed before the commit"),
        "{good}"
    );
    let before = rollup_snapshot(&rollup);

    // A check that the new data breaks: no week may have more than 100 new rentals.
    std::fs::write(
        checks.join("at_most_100_new.sql"),
        "-- severity: fail\n-- description: test only\nselect week_beginning, new_rentals from rollup.weekly_rentals where new_rentals > 100\n",
    )
    .unwrap();
    source
        .client()
        .batch_execute("update rental set return_date = null where rental_id in (select rental_id from rental order by rental_id limit 3)")
        .unwrap();
    let r = run(&mut runner_with_dir());
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("data checks failed, nothing committed: at_most_100_new"),
        "{r}"
    );
    assert_eq!(
        rollup_snapshot(&rollup),
        before,
        "a failed check changed the tables"
    );
}

/// Regression: a rental returned before it was rented (bad but real-world source data) made the
/// rollup's recurrence and totals checks fail every run, although the tables were right.
#[test]
fn rollup_checks_accept_rentals_returned_before_they_were_rented() {
    let source = pagila_fixture_source("backwards_src");
    let rollup = PgDb::unique("backwards_rollup");
    source
        .client()
        .batch_execute(
            "update rental set return_date = rental_date - interval '10 days' where rental_id = 1157; \
             update rental set return_date = rental_date - interval '1 hour' \
                 where rental_id = (select max(rental_id) from rental); \
             update rental set return_date = rental_date - interval '20 days' where rental_id = 5000",
        )
        .unwrap();
    let r = run_ok(runner_with_source(None, &rollup, &source).args(["migrate", "rollup"]));
    assert!(
        r.stderr.contains("9 data checks passed before the commit"),
        "{r}"
    );
}

/// A run started paused at a drill point: the process, and a thread reading the rest of its
/// stderr (what it wrote before pausing is in `seen`).
struct Paused {
    child: std::process::Child,
    seen: String,
    rest: std::thread::JoinHandle<String>,
}

impl Paused {
    /// Starts `cmd`, waiting until it pauses at `point` (for `seconds`).
    fn start(mut cmd: std::process::Command, point: &str, seconds: u32) -> Self {
        let mut child = cmd
            .env("RUNNER_PAUSE_AT", point)
            .env("RUNNER_PAUSE_SECONDS", seconds.to_string())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "the run ended before pausing: {seen}"
            );
            seen.push_str(&line);
            if line.contains(&format!("pausing at {point}")) {
                break;
            }
        }
        let rest = std::thread::spawn(move || {
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
            rest
        });
        Self { child, seen, rest }
    }

    /// Waits for the end: the exit code and all of stderr.
    fn finish(mut self) -> (i32, String) {
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        (code, self.seen + &self.rest.join().unwrap())
    }
}

/// The migration lock dies with its connection. A run whose lock connection is killed mid-run
/// must not go on beside a second run that takes the lock: it checks the lock before it changes
/// what readers see, and stops; the second run publishes; the first is recorded as failed.
#[test]
fn a_run_that_lost_its_lock_stops_before_publishing_and_the_other_run_goes_on() {
    for kind in MysqlKind::ALL {
        let db = MysqlDb::new(kind, "lostlock");
        run_ok(&mut migrate(&db));
        let first = Paused::start(migrate(&db), "publish:before-swap", 6);
        // kill the connection holding the migration lock
        let mut admin = mysql_admin(kind);
        let holder: Vec<Option<u64>> = admin
            .query(format!(
                "select is_used_lock('{}')",
                runner::engine::db::mysql::lock_name(&db.name)
            ))
            .unwrap();
        let holder = holder[0].expect("the first run holds the lock");
        admin.query_drop(format!("kill {holder}")).unwrap();
        // a second run takes the lock and publishes while the first is paused
        let second = run(&mut migrate(&db));
        assert_eq!(second.code, 0, "{kind:?}: {second}");
        let (code, stderr) = first.finish();
        assert_eq!(code, 1, "{kind:?}: {stderr}");
        assert!(
            stderr.contains("lost the migration lock")
                && stderr.contains("stopping before changing what readers see"),
            "{kind:?}: {stderr}"
        );
        let outcomes: Vec<String> = db.query("select outcome from runner_runs order by run_id");
        assert_eq!(outcomes, ["succeeded", "failed", "succeeded"], "{kind:?}");
        assert_eq!(snapshot(&db), reference(kind), "{kind:?}");
    }
    // PostgreSQL: the first rollup run loses its advisory lock while paused before its commit
    let source = pagila_fixture_source("lock_src");
    let rollup = PgDb::unique("lock_rollup");
    let migrate_rollup = || {
        let mut cmd = runner_with_source(None, &rollup, &source);
        cmd.args(["migrate", "rollup"]);
        cmd
    };
    run_ok(&mut migrate_rollup());
    let want = rollup_snapshot(&rollup);
    let first = Paused::start(migrate_rollup(), "rollup:before-commit", 6);
    let killed: bool = pg_admin()
        .query_one(
            "select bool_or(pg_terminate_backend(pid)) from pg_locks \
             where locktype = 'advisory' and database = (select oid from pg_database where datname = $1)",
            &[&rollup.name],
        )
        .unwrap()
        .get(0);
    assert!(killed, "no advisory lock holder to kill");
    let second = run(&mut migrate_rollup());
    assert_eq!(second.code, 0, "{second}");
    let (code, stderr) = first.finish();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("lost the migration lock"), "{stderr}");
    assert_eq!(rollup_snapshot(&rollup), want);
}
