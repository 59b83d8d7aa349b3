//! The rollup benchmark (bench/README.md has the numbers, bench/rollup/run the command): a Pagila
//! source grown to millions of rentals (tests/fixtures/pagila: the Pagila-shaped rows kept,
//! synthetic years added before them), then, each repeated and timed:
//!
//! * baseline: a binary `COPY` of the rental columns from the source into an unindexed table of
//!   the rollup server, streamed as the runner streams, plus one set-based query that computes
//!   weekly_rentals from it;
//! * full build: `runner migrate rollup` on a new rollup database (migrations, full load, both
//!   tables);
//! * anchor: one sequential scan of the source's rental table,
//!   `select count(*) from rental where last_update > now()`, just before each incremental run;
//! * incremental: after a full refresh, one batch at the source, then `runner migrate rollup`:
//!   one new week (bench/rollup/new_week.sql: 10,000 new rentals, 10,000 returns of old ones);
//!   one new week and 1,000 hidden updates (bench/rollup/hidden_updates.sql: behind the trigger,
//!   last_update kept); a far-reaching batch (bench/rollup/far_batch.sql: dates corrected in the
//!   oldest weeks), which the runner takes the full path for.
//!
//! At the end it checks that the incremental result equals a full refresh, table for table.
//!
//! `bench/rollup/run [--rentals N] [--repeat N] [--server URL] [--keep-source]` builds the runner and
//! runs this; the source is rebuilt unless --keep-source (then the weeks earlier runs added stay).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

struct Args {
    server: String,
    rentals: u64,
    repeat: usize,
    runner: PathBuf,
    /// Reuse bench_pagila_<rentals> as an earlier run left it (weeks added, rentals returned).
    keep_source: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        server: std::env::var("RUNNER_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned()),
        rentals: 5_000_000,
        repeat: 3,
        runner: std::env::current_exe()
            .expect("current exe")
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/examples")
            .join("runner"),
        keep_source: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => args.server = value(),
            "--rentals" => args.rentals = value().parse().expect("--rentals N"),
            "--repeat" => args.repeat = value().parse().expect("--repeat N"),
            "--runner" => args.runner = PathBuf::from(value()),
            "--keep-source" => args.keep_source = true,
            other => panic!(
                "unknown argument {other}: use --rentals N, --repeat N, --server URL, --runner PATH, \
                 --keep-source"
            ),
        }
    }
    args
}

fn repo_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn connect(server: &str, db: &str) -> Client {
    Client::connect(&format!("{}/{db}", server.trim_end_matches('/')), NoTls)
        .unwrap_or_else(|e| panic!("connecting to {db}: {e}"))
}

fn recreate_database(server: &str, db: &str) {
    let mut admin = connect(server, "postgres");
    admin
        .batch_execute(&format!("drop database if exists {db} with (force)"))
        .unwrap();
    admin
        .batch_execute(&format!("create database {db}"))
        .unwrap();
}

/// The source bench_pagila_<rentals>: built afresh, or with --keep-source as an earlier run
/// left it.
fn source_database(args: &Args) -> String {
    let db = format!("bench_pagila_{}", args.rentals);
    let mut admin = connect(&args.server, "postgres");
    let exists = admin
        .query_opt("select 1 from pg_database where datname = $1", &[&db])
        .unwrap()
        .is_some();
    if exists && args.keep_source {
        let mut c = connect(&args.server, &db);
        let ready = c
            .query_one(
                "select count(*) filter (where rental_date < '2022-02-14 15:16:03+00') > 0 \
                 from public.rental",
                &[],
            )
            .map(|r| r.get::<_, bool>(0))
            .unwrap_or(false);
        if ready {
            println!("source: {db} (kept from an earlier run)");
            return db;
        }
    }
    let started = Instant::now();
    recreate_database(&args.server, &db);
    let mut c = connect(&args.server, &db);
    c.batch_execute(&repo_file("tests/fixtures/pagila/schema.sql"))
        .unwrap();
    c.batch_execute(&repo_file("tests/fixtures/pagila/data.sql"))
        .unwrap();
    c.batch_execute(&format!(
        "set pagila_gen.rentals = '{}'; set pagila_gen.years = '10'; {}",
        args.rentals,
        repo_file("tests/fixtures/pagila/grow.sql")
    ))
    .unwrap();
    // As a long-running database would be: visibility map and hint bits set.
    c.batch_execute("vacuum analyze public.rental").unwrap();
    println!(
        "source: {db} built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    db
}

/// Flushes dirty buffers so one measurement does not pay for the previous one's writes.
fn checkpoint(server: &str) {
    connect(server, "postgres")
        .batch_execute("checkpoint")
        .unwrap();
}

const BASELINE_WEEKLY_RENTALS: &str = "
    create table baseline_weekly_rentals as
    with
    rental_weeks as (
        select
            date_trunc('week', rental_date at time zone 'UTC')::date as rental_week,
            date_trunc('week', return_date at time zone 'UTC')::date as return_week,
            count(*) as rentals
        from baseline_rental
        group by 1, 2
    ),
    bounds as (
        select min(rental_week) as first_week, max(greatest(rental_week, return_week)) as last_week
        from rental_weeks
    ),
    weeks as (
        select generate_series(first_week, last_week, interval '7 days')::date as week_beginning
        from bounds
    ),
    rented as (
        select rental_week as week_beginning, sum(rentals) as rentals
        from rental_weeks
        group by 1
    ),
    returned as (
        select return_week as week_beginning, sum(rentals) as rentals
        from rental_weeks
        where return_week is not null
        group by 1
    )
    select
        weeks.week_beginning,
        coalesce(rented.rentals, 0) as new_rentals,
        coalesce(returned.rentals, 0) as returned_rentals,
        sum(coalesce(rented.rentals, 0) - coalesce(returned.rentals, 0)) over running
            as outstanding_rentals,
        sum(coalesce(rented.rentals, 0) - coalesce(returned.rentals, 0)) over running
            + coalesce(returned.rentals, 0) as rentals_out_during_week
    from weeks
    left join rented using (week_beginning)
    left join returned using (week_beginning)
    window running as (order by weeks.week_beginning)";

/// COPY of the rental columns into an unindexed table, then one recompute query.
fn baseline(args: &Args, source_db: &str) -> (Duration, Duration) {
    recreate_database(&args.server, "bench_baseline");
    let mut src = connect(&args.server, source_db);
    let mut dst = connect(&args.server, "bench_baseline");
    dst.batch_execute(
        "create table baseline_rental ( \
             rental_id integer, rental_date timestamptz, inventory_id integer, \
             customer_id integer, return_date timestamptz, staff_id integer, \
             last_update timestamptz)",
    )
    .unwrap();
    checkpoint(&args.server);
    let started = Instant::now();
    let mut reader = src
        .copy_out(
            "copy (select rental_id::integer, rental_date, inventory_id::integer, \
                 customer_id::integer, return_date, staff_id::integer, last_update \
             from public.rental) to stdout (format binary)",
        )
        .unwrap();
    let mut writer = dst
        .copy_in("copy baseline_rental from stdin (format binary)")
        .unwrap();
    loop {
        let chunk = reader.fill_buf().unwrap();
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        writer.write_all(chunk).unwrap();
        reader.consume(n);
    }
    drop(reader);
    writer.finish().unwrap();
    let copy = started.elapsed();
    let started = Instant::now();
    dst.batch_execute(BASELINE_WEEKLY_RENTALS).unwrap();
    (copy, started.elapsed())
}

fn runner(args: &Args, source_db: &str, extra: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(&args.runner)
        .args(["migrate", "rollup"])
        .args(extra)
        .env(
            "PAGILA_DATABASE_URL",
            format!("{}/{source_db}", args.server.trim_end_matches('/')),
        )
        .env(
            "ROLLUP_DATABASE_URL",
            format!("{}/bench_rollup", args.server.trim_end_matches('/')),
        )
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", args.runner.display()));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "runner failed:\n{stderr}");
    if let Some(line) = stderr.lines().find(|l| l.contains("rollup: rollup:")) {
        println!("    {}", line.trim());
    }
    took
}

fn full_build(args: &Args, source_db: &str) -> Duration {
    let mut admin = connect(&args.server, "postgres");
    admin
        .batch_execute("drop database if exists bench_rollup with (force)")
        .unwrap();
    checkpoint(&args.server);
    runner(args, source_db, &[])
}

/// A full refresh (not timed), `batches` at the source, then the anchor scan and the timed
/// incremental run. The earlier repetitions' changes are dated a day back first (behind the
/// trigger), as a week's gap between runs would leave them: otherwise the lookback would read
/// them again. Returns (anchor, incremental run).
fn incremental(args: &Args, source_db: &str, batches: &[&str]) -> (Duration, Duration) {
    connect(&args.server, source_db)
        .batch_execute(
            "set session_replication_role = replica; \
             update public.rental set last_update = last_update - interval '1 day' \
             where last_update > now() - interval '1 day'; \
             set session_replication_role = origin",
        )
        .unwrap();
    runner(args, source_db, &["--full-refresh"]);
    let mut src = connect(&args.server, source_db);
    for batch in batches {
        src.batch_execute(&repo_file(batch)).unwrap();
    }
    checkpoint(&args.server);
    let started = Instant::now();
    src.query_one(
        "select count(*) from public.rental where last_update > now()",
        &[],
    )
    .unwrap();
    let anchor = started.elapsed();
    (anchor, runner(args, source_db, &[]))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn times(label: &str, times: &[Duration]) -> Duration {
    let m = median(times.to_vec());
    let all: Vec<String> = times.iter().map(|t| secs(*t)).collect();
    println!("  {label:<44} median {:>9}   ({})", secs(m), all.join(", "));
    m
}

/// Every table the runs keep (the weekly tables, and the per-store tables where the runner has
/// them) equals a full refresh after the incremental runs.
fn check_equal_to_full_refresh(args: &Args, source_db: &str) {
    let mut c = connect(&args.server, "bench_rollup");
    let tables: Vec<String> = c
        .query(
            "select name from unnest(array['weekly_rentals', 'weekly_film_demand', \
                 'weekly_film_store_demand', 'film_store_weekly_features']) as name \
             where to_regclass('rollup.' || name) is not null",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in &tables {
        c.batch_execute(&format!(
            "drop table if exists public.check_{table}; \
             create table public.check_{table} as select * from rollup.{table}"
        ))
        .unwrap();
    }
    runner(args, source_db, &["--full-refresh"]);
    let mut differing = 0i64;
    for table in &tables {
        let rows: i64 = c
            .query_one(
                &format!(
                    "select count(*) from ((table rollup.{table} except table public.check_{table}) \
                     union all (table public.check_{table} except table rollup.{table})) as a"
                ),
                &[],
            )
            .unwrap()
            .get(0);
        differing += rows;
    }
    println!(
        "check: after the incremental runs {} equal a full refresh: {}",
        tables.join(", "),
        if differing == 0 {
            "yes".to_owned()
        } else {
            format!("NO, {differing} rows differ")
        }
    );
    assert_eq!(differing, 0);
}

fn main() {
    let args = parse_args();
    assert!(
        args.runner.exists(),
        "{} not found: cargo build --release first, or pass --runner",
        args.runner.display()
    );
    let source_db = source_database(&args);
    let mut src = connect(&args.server, &source_db);
    let rentals: i64 = src
        .query_one("select count(*) from public.rental", &[])
        .unwrap()
        .get(0);
    println!(
        "{rentals} rentals; {} repetitions; PostgreSQL at {}",
        args.repeat, args.server
    );

    let (mut copies, mut queries, mut baselines, mut fulls) = (vec![], vec![], vec![], vec![]);
    for _ in 0..args.repeat {
        let (copy, query) = baseline(&args, &source_db);
        copies.push(copy);
        queries.push(query);
        baselines.push(copy + query);
        fulls.push(full_build(&args, &source_db));
    }
    let scenarios: [(&str, &[&str]); 3] = [
        ("one new week", &["bench/rollup/new_week.sql"]),
        (
            "one new week + 1,000 hidden updates",
            &[
                "bench/rollup/new_week.sql",
                "bench/rollup/hidden_updates.sql",
            ],
        ),
        ("far-reaching batch", &["bench/rollup/far_batch.sql"]),
    ];
    let mut measured = vec![];
    for (name, batches) in scenarios {
        let (mut anchors, mut runs) = (vec![], vec![]);
        for _ in 0..args.repeat {
            let (anchor, run) = incremental(&args, &source_db, batches);
            anchors.push(anchor);
            runs.push(run);
        }
        measured.push((name, anchors, runs));
    }
    check_equal_to_full_refresh(&args, &source_db);
    println!();
    times("baseline: COPY of the rental columns", &copies);
    times("baseline: one set-based recompute query", &queries);
    let base = times("baseline: total", &baselines);
    let full = times("full build (runner migrate rollup, new db)", &fulls);
    println!(
        "full build / baseline: {:.2} (target <= 1.5)",
        full.as_secs_f64() / base.as_secs_f64()
    );
    for (name, anchors, runs) in &measured {
        println!();
        let anchor = times(&format!("anchor scan before: {name}"), anchors);
        let run = times(&format!("incremental: {name}"), runs);
        println!(
            "  incremental / anchor scan: {:.1} (target <= 2); incremental / full build: {:.0} %",
            run.as_secs_f64() / anchor.as_secs_f64(),
            100.0 * run.as_secs_f64() / full.as_secs_f64()
        );
    }
}
