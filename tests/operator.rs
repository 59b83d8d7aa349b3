//! What an operator meets: a port where no database listens, database names the lock or the
//! server would mangle, errors in one readable line, the rollup's state in words, and a rollup
//! source that was emptied.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use mysql::prelude::Queryable;

/// A port that accepts connections and never says a word (a cache or broker on the port asked).
fn mute_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

#[test]
fn a_port_that_is_not_a_database_fails_within_the_connect_timeout() {
    let port = mute_port();
    let started = Instant::now();
    let r = run(runner()
        .args(["migrate", "movies", "--connect-timeout", "2"])
        .args(["--mysql-port", &port.to_string()]));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr.contains(&format!(
            "cannot connect to movies database mysql://root@127.0.0.1:{port}/analyticschallenge: \
             no answer in the database's protocol within 2 s (--connect-timeout)"
        )),
        "{r}"
    );
    let r = run(runner()
        .args(["status", "rollup", "--connect-timeout", "2"])
        .args([
            "--rollup-database-url",
            &format!("postgres://postgres@127.0.0.1:{port}/rollup"),
        ]));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout
            .contains("no answer in the database's protocol within 2 s"),
        "{r}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn any_database_name_gets_a_lock_of_its_own() {
    // A valid non-ASCII name whose lock name was cut at 64 bytes inside a character (a panic):
    // "runner.migrate.rt_x" is 19 bytes, so byte 64 falls in the middle of an é.
    for kind in MysqlKind::ALL {
        let name = format!("rt_x{}_{}", "é".repeat(25), std::process::id());
        assert!(!format!("runner.migrate.{name}").is_char_boundary(64));
        let mut admin = mysql_admin(kind);
        admin
            .query_drop(format!("drop database if exists `{name}`"))
            .unwrap();
        let url = format!("{}/{}", kind.server_url(), name);
        let r = run(runner()
            .env("MOVIES_DATABASE_URL", &url)
            .env("RUNNER_CONNECT_TIMEOUT", "10")
            .args(["migrate", "movies"]));
        admin
            .query_drop(format!("drop database if exists `{name}`"))
            .unwrap();
        assert_eq!(r.code, 0, "{kind:?}: {r}");
    }
    // Names that share their first 60 bytes had one lock (the name cut at 64).
    let long = "x".repeat(60);
    let locks: Vec<String> = ["a", "b", "ünï"]
        .iter()
        .map(|end| runner::engine::db::mysql::lock_name(&format!("{long}{end}")))
        .collect();
    assert!(locks[0] != locks[1] && locks[1] != locks[2] && locks[0] != locks[2]);
    assert!(
        locks.iter().all(|l| l.len() <= 64 && l.is_ascii()),
        "{locks:?}"
    );
}

#[test]
fn errors_and_state_read_as_sentences() {
    // a wrong password: the server's error, not the driver's debug form
    let db = MysqlDb::new(MysqlKind::MariaDb, "words");
    let url = mysql_user(
        MysqlKind::MariaDb,
        &db,
        &unique_name("u"),
        "Right-Password-1",
    )
    .replace("Right-Password-1", "Wrong-Password-1");
    let r = run(runner()
        .env("MOVIES_DATABASE_URL", &url)
        .args(["status", "movies"]));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stdout.contains("ERROR 1045 (28000): Access denied") && !r.all().contains("MySqlError {"),
        "{r}"
    );
    assert!(
        !r.all().contains("Wrong-Password-1"),
        "a password was printed: {r}"
    );

    // a PostgreSQL database name longer than the server keeps
    let long = format!("postgres://postgres@127.0.0.1/{}", "r".repeat(74));
    let r = run(runner().args(["migrate", "rollup", "--rollup-database-url", &long]));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("the database name is 74 bytes long; PostgreSQL keeps at most 63"),
        "{r}"
    );

    // the rollup: no server notices in the log, its state in words in `runner status`
    let source = pagila_fixture_source("words_src");
    let rollup = PgDb::unique("words_rollup");
    let both = || runner_with_source(None, &rollup, &source);
    let first = run_ok(both().args(["migrate", "rollup"]));
    let second = run_ok(both().args(["migrate", "rollup"]));
    assert!(
        !first.all().contains("NOTICE") && !second.all().contains("NOTICE"),
        "{first}\n{second}"
    );
    let status = run_ok(both().args(["status", "rollup"]));
    assert!(
        status.stdout.contains("  source: 1")
            && status.stdout.contains("  last run: incremental at ")
            && status.stdout.contains("  series: ")
            && !status.stdout.contains("details: {"),
        "{status}"
    );
}

/// A source emptied by accident (`truncate rental cascade`) would empty the rollup: the shrink
/// guard fails the run, nothing is committed; on purpose, --allow-shrink commits it.
#[test]
fn an_emptied_rollup_source_is_refused_unless_allowed() {
    let source = pagila_fixture_source("shrink_src");
    let rollup = PgDb::unique("shrink_rollup");
    let both = || runner_with_source(None, &rollup, &source);
    run_ok(both().args(["migrate", "rollup"]));
    let weeks = |rollup: &PgDb| -> i64 {
        rollup
            .client()
            .query_one("select count(*) from rollup.weekly_rentals", &[])
            .unwrap()
            .get(0)
    };
    let before = weeks(&rollup);
    assert!(before > 0);
    source
        .client()
        .batch_execute("truncate public.rental cascade")
        .unwrap();
    let r = run(both().args(["migrate", "rollup"]));
    assert_eq!(r.code, 1, "{r}");
    assert!(
        r.stderr
            .contains("data checks failed, nothing committed: no_unexpected_shrink")
            && r.stderr
                .contains("(the source's rentals (rollup.raw_rental): "),
        "{r}"
    );
    assert_eq!(weeks(&rollup), before);
    let r = run_ok(both().args(["migrate", "rollup", "--allow-shrink"]));
    assert!(r.stderr.contains("check warn  no_unexpected_shrink"), "{r}");
    assert_eq!(weeks(&rollup), 0);
}
