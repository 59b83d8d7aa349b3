//! Failure drills on MariaDB and MySQL 9.7: the runner killed at many points, its database
//! connections cut mid-run, two runs at once, least privilege. After each, a normal run must give
//! exactly the tables of an uninterrupted run.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use common::*;
use mysql::prelude::Queryable;

fn fixture(name: &str) -> PathBuf {
    movie_fixture(name)
}

fn migrate(db: &MysqlDb) -> std::process::Command {
    let mut cmd = runner_for(Some(db), None);
    cmd.args(["migrate", "movies", "--movie-data-path"])
        .arg(fixture("awkward"));
    cmd
}

/// Every table but the run history, raw_files without its timestamps, and leftovers listed.
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
            format!("select * from `{table}`{order}")
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

fn reference(kind: MysqlKind) -> Vec<String> {
    let db = MysqlDb::new(kind, "reference");
    run_ok(&mut migrate(&db));
    snapshot(&db)
}

const CRASH_POINTS: &[&str] = &[
    "migrate:before:V3",
    "migrate:before-record",
    "stage:after:credits.csv",
    "stage:after-swap",
    "refresh:after-build",
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
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        ran(a.wait_with_output().unwrap()),
        ran(b.wait_with_output().unwrap()),
    );
    assert_eq!((a.code, b.code), (0, 0), "{a}\n{b}");
    let runs: Vec<(i64, String)> =
        db.query("select run_id, outcome from runner_runs order by run_id");
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|(_, o)| o == "succeeded"));
    let steps: Vec<(i64, u64)> =
        db.query("select run_id, count(*) from runner_run_steps group by run_id order by run_id");
    assert_eq!(
        steps.iter().map(|s| s.1).collect::<Vec<_>>(),
        [5, 5],
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
        first.arg(fixture("awkward"));
        run_ok(&mut first);
        run_ok(&mut with_user(&["check", "movies"]));
        run_ok(&mut with_user(&["status", "movies"]));
        admin.query_drop(format!("drop user '{user}'@'%'")).unwrap();
    }
}
