//! Shared helpers for the integration tests: the three real servers (MariaDB, MySQL 9.7,
//! PostgreSQL), a fresh database per test, and running the real `runner` binary with a clean
//! environment.
//!
//! Servers come from `RUNNER_TEST_MARIADB_URL`, `RUNNER_TEST_MYSQL_URL` and
//! `RUNNER_TEST_POSTGRES_URL` (defaults: the local MariaDB on 3306, `scripts/mysql97` on 3307,
//! the local PostgreSQL on 5432). A missing server fails the test with how to start it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use mysql::prelude::Queryable;

pub const BIN: &str = env!("CARGO_BIN_EXE_runner");

/// A MySQL-compatible server under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MysqlKind {
    MariaDb,
    Mysql,
}

impl MysqlKind {
    pub const ALL: [MysqlKind; 2] = [MysqlKind::MariaDb, MysqlKind::Mysql];

    pub fn server_url(self) -> String {
        match self {
            MysqlKind::MariaDb => env_or("RUNNER_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306"),
            MysqlKind::Mysql => env_or("RUNNER_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3307"),
        }
    }

    fn how_to_start(self) -> &'static str {
        match self {
            MysqlKind::MariaDb => {
                "start MariaDB 10.11 (`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`) \
                 or set RUNNER_TEST_MARIADB_URL"
            }
            MysqlKind::Mysql => {
                "start MySQL 9.7 with `scripts/mysql97 start` or set RUNNER_TEST_MYSQL_URL"
            }
        }
    }
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// The PostgreSQL server the test's databases go to: RUNNER_TEST_POSTGRES_URL, or inside
/// [`on_citus`] the Citus coordinator of RUNNER_TEST_CITUS_URL.
pub fn postgres_server_url() -> String {
    CITUS
        .with(|citus| citus.borrow().clone())
        .unwrap_or_else(|| {
            env_or(
                "RUNNER_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432",
            )
        })
}

thread_local! {
    /// Inside [`on_citus`]: the coordinator's URL.
    static CITUS: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Why the Citus twins of the rollup tests are ignored, and how to run them.
pub const CITUS_ONLY: &str = "needs a Citus cluster: set RUNNER_TEST_CITUS_URL to its coordinator \
    (docs/operations.md, \"The rollup on Citus\") and run `cargo test --test rollup -- --ignored`";

/// Runs a test with every PostgreSQL database it makes (source and rollup) on the Citus
/// coordinator of RUNNER_TEST_CITUS_URL (postgres://user@host:port), each created with the citus
/// extension on the coordinator and on every worker the coordinator's `postgres` database lists
/// (`pg_dist_node`), the workers added: so the rollup's first migrate distributes the mirror.
pub fn on_citus(test: impl FnOnce()) {
    let url = std::env::var("RUNNER_TEST_CITUS_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{CITUS_ONLY}"));
    CITUS.with(|citus| *citus.borrow_mut() = Some(url.trim_end_matches('/').to_owned()));
    test();
    CITUS.with(|citus| *citus.borrow_mut() = None);
}

/// The Citus workers (postgres://user@host:port) when the tests run on Citus, else none.
fn citus_workers(server: &str) -> Vec<String> {
    if CITUS.with(|citus| citus.borrow().is_none()) {
        return Vec::new();
    }
    let mut c = pg_connect(server, "postgres")
        .unwrap_or_else(|e| panic!("the Citus coordinator {server}: {e}"));
    let user: String = c
        .query_one("select current_user::text", &[])
        .unwrap()
        .get(0);
    c.query(
        "select nodename::text, nodeport from pg_dist_node \
         where noderole = 'primary' and groupid <> 0 order by nodeid",
        &[],
    )
    .unwrap_or_else(|e| panic!("listing the workers of {server} (pg_dist_node): {e}"))
    .iter()
    .map(|row| {
        let (host, port): (String, i32) = (row.get(0), row.get(1));
        format!("postgres://{user}@{host}:{port}")
    })
    .collect()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database name unique to this test process and call.
pub fn unique_name(label: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("rt_{label}_{}_{n}", std::process::id())
}

/// A fresh MySQL/MariaDB database, dropped at the end of the test.
pub struct MysqlDb {
    pub kind: MysqlKind,
    pub name: String,
    server: String,
}

impl MysqlDb {
    pub fn new(kind: MysqlKind, label: &str) -> Self {
        let name = unique_name(label);
        let server = kind.server_url();
        let mut conn = mysql_admin(kind);
        conn.query_drop(format!("drop database if exists `{name}`"))
            .unwrap();
        conn.query_drop(format!("create database `{name}` character set utf8mb4"))
            .unwrap();
        Self { kind, name, server }
    }

    /// `mysql://user@host:port/db` for `MOVIES_DATABASE_URL`.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server.trim_end_matches('/'), self.name)
    }

    pub fn conn(&self) -> mysql::Conn {
        let opts = mysql::Opts::from_url(&self.url()).unwrap();
        mysql::Conn::new(mysql::OptsBuilder::from_opts(opts).prefer_socket(false)).unwrap()
    }

    pub fn query<T: mysql::prelude::FromRow>(&self, sql: &str) -> Vec<T> {
        self.conn()
            .query(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

impl Drop for MysqlDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = try_mysql_admin(self.kind) {
            let _ = conn.query_drop(format!("drop database if exists `{}`", self.name));
        }
    }
}

fn try_mysql_admin(kind: MysqlKind) -> Result<mysql::Conn, mysql::Error> {
    let opts = mysql::Opts::from_url(&kind.server_url()).expect("bad test server URL");
    mysql::Conn::new(mysql::OptsBuilder::from_opts(opts).prefer_socket(false))
}

/// A root connection to the server, or a panic that says how to start it.
pub fn mysql_admin(kind: MysqlKind) -> mysql::Conn {
    try_mysql_admin(kind).unwrap_or_else(|e| {
        panic!(
            "{kind:?} is not reachable at {}: {e}\n{}",
            kind.server_url(),
            kind.how_to_start()
        )
    })
}

/// A fresh PostgreSQL database, dropped at the end of the test.
pub struct PgDb {
    pub name: String,
    /// The server it is on (postgres://user@host:port).
    server: String,
    /// On Citus: the workers it is on too.
    workers: Vec<String>,
}

impl PgDb {
    /// A name only: the runner must create it (the rollup database is created on demand). On
    /// Citus the database is made here, with the extension, as an operator would.
    pub fn unique(label: &str) -> Self {
        let db = Self::named(label);
        if !db.workers.is_empty() {
            db.create();
        }
        db
    }

    pub fn new(label: &str) -> Self {
        let db = Self::named(label);
        db.create();
        db
    }

    /// A fresh name on the test's server, nothing created yet.
    fn named(label: &str) -> Self {
        let server = postgres_server_url();
        let workers = citus_workers(&server);
        Self {
            name: unique_name(label),
            server,
            workers,
        }
    }

    /// Creates the database; on Citus on every node, with the extension, the workers added.
    fn create(&self) {
        for node in std::iter::once(&self.server).chain(&self.workers) {
            let mut admin = pg_connect(node, "postgres").unwrap_or_else(|e| panic!("{node}: {e}"));
            admin
                .batch_execute(&format!("create database \"{}\"", self.name))
                .unwrap();
            if !self.workers.is_empty() {
                let mut c = pg_connect(node, &self.name).unwrap();
                c.batch_execute("set client_min_messages = warning; create extension citus")
                    .unwrap_or_else(|e| panic!("create extension citus on {node}: {e}"));
            }
        }
        if !self.workers.is_empty() {
            let mut c = self.client();
            let host_port = |url: &str| {
                let (host, port) = url.rsplit('@').next().unwrap().rsplit_once(':').unwrap();
                (host.to_owned(), port.parse::<i32>().unwrap())
            };
            let (host, port) = host_port(&self.server);
            c.execute("select citus_set_coordinator_host($1, $2)", &[&host, &port])
                .unwrap();
            for worker in &self.workers {
                let (host, port) = host_port(worker);
                c.execute("select citus_add_node($1, $2)", &[&host, &port])
                    .unwrap_or_else(|e| panic!("citus_add_node {worker}: {e}"));
            }
        }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server.trim_end_matches('/'), self.name)
    }

    pub fn client(&self) -> postgres::Client {
        pg_connect(&self.server, &self.name).unwrap()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        for node in std::iter::once(&self.server).chain(&self.workers) {
            if let Ok(mut c) = pg_connect(node, "postgres") {
                let _ = c.batch_execute(&format!(
                    "drop database if exists \"{}\" with (force)",
                    self.name
                ));
            }
        }
    }
}

/// A connection to database `db` of `server` (postgres://user@host:port).
fn pg_connect(server: &str, db: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Client::connect(
        &format!("{}/{db}", server.trim_end_matches('/')),
        postgres::NoTls,
    )
}

fn try_pg_admin() -> Result<postgres::Client, postgres::Error> {
    pg_connect(&postgres_server_url(), "postgres")
}

pub fn pg_admin() -> postgres::Client {
    try_pg_admin().unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {}: {e}\nstart it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set RUNNER_TEST_POSTGRES_URL",
            postgres_server_url()
        )
    })
}

/// The runner binary with an empty environment (but PATH), so the developer's variables never leak in.
pub fn runner() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// Runner pointed at a movies database and a rollup database.
pub fn runner_for(movies: Option<&MysqlDb>, rollup: Option<&PgDb>) -> Command {
    let mut cmd = runner();
    if let Some(m) = movies {
        cmd.env("MOVIES_DATABASE_URL", m.url());
    }
    if let Some(r) = rollup {
        cmd.env("ROLLUP_DATABASE_URL", r.url());
    }
    cmd.env("RUNNER_CONNECT_TIMEOUT", "10");
    cmd
}

/// Runner pointed at a movies database (or none) and a rollup database that reads `pagila`.
pub fn runner_with_source(movies: Option<&MysqlDb>, rollup: &PgDb, pagila: &PgDb) -> Command {
    let mut cmd = runner_for(movies, Some(rollup));
    cmd.env("PAGILA_DATABASE_URL", pagila.url());
    cmd
}

pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn ran(out: Output) -> Ran {
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts two runs at once and waits for both.
pub fn run_two_at_once(spawn: impl Fn() -> std::process::Child) -> (Ran, Ran) {
    let (a, b) = (spawn(), spawn());
    (
        ran(a.wait_with_output().unwrap()),
        ran(b.wait_with_output().unwrap()),
    )
}

pub fn run(cmd: &mut Command) -> Ran {
    ran(cmd.output().expect("running the runner binary"))
}

/// Runs and asserts exit 0.
pub fn run_ok(cmd: &mut Command) -> Ran {
    let r = run(cmd);
    assert_eq!(r.code, 0, "{r}");
    r
}

/// A temporary folder removed at the end of the test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(unique_name(label));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrations folder for `--migrations-dir`: the project's real migrations of `target` (with
/// its models and checks), plus extras (paths relative to the target's folder).
pub fn migrations_with(target: &str, extra: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new("migrations");
    let dest = dir.path().join(target);
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(target);
    copy_tree(&src, &dest);
    for (name, sql) in extra {
        std::fs::write(dest.join(name), sql).unwrap();
    }
    dir
}

fn copy_tree(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let to = dest.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &to);
        } else {
            std::fs::copy(&path, to).unwrap();
        }
    }
}

/// A movie fixture folder (tests/fixtures/movies/NAME).
pub fn movie_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/movies")
        .join(name)
}

/// A temporary copy of a folder's files, to change some of them.
pub fn copy_of(src: &Path) -> TempDir {
    let dir = TempDir::new("data");
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// A user with a password holding all privileges on `db` and nothing else (on MySQL 9 it
/// authenticates with caching_sha2_password). Returns its `MOVIES_DATABASE_URL`.
pub fn mysql_user(kind: MysqlKind, db: &MysqlDb, user: &str, password: &str) -> String {
    let mut admin = mysql_admin(kind);
    admin
        .query_drop(format!("drop user if exists '{user}'@'%'"))
        .unwrap();
    admin
        .query_drop(format!(
            "create user '{user}'@'%' identified by '{password}'"
        ))
        .unwrap();
    admin
        .query_drop(format!(
            "grant all privileges on `{}`.* to '{user}'@'%'",
            db.name
        ))
        .unwrap();
    let server = kind.server_url();
    let host = server.rsplit('@').next().unwrap();
    format!("mysql://{user}:{password}@{host}/{}", db.name)
}

/// A fresh Pagila-shaped source database (tests/fixtures/pagila: the three tables as Pagila
/// defines them and the real-shaped data), for tests that run both targets.
pub fn pagila_fixture_source(label: &str) -> PgDb {
    let db = PgDb::new(label);
    let mut client = db.client();
    for file in ["schema.sql", "data.sql"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pagila")
            .join(file);
        let sql = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    db
}

/// A small deterministic generator (xorshift64*) for generated test data.
pub struct Rng(pub u64);

impl Rng {
    /// Mixes the seed so that nearby seeds start far apart.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.below(items.len() as u64) as usize])
        }
    }
}

/// The `select` list of a table's or view's columns but `run_id`, which names the run that built
/// a published table (stg_staging_run) and so differs between runs of the same input.
pub fn columns_but_run_id(conn: &mut mysql::Conn, schema: &str, table: &str) -> String {
    let names: Vec<String> = conn
        .query(format!(
            "select column_name from information_schema.columns where table_schema = '{schema}' \
             and table_name = '{table}' and column_name <> 'run_id' order by ordinal_position"
        ))
        .unwrap();
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many `.sql` files a folder holds (migrations, models or checks).
pub fn sql_files(dir: impl AsRef<Path>) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}

/// A number the server printed as text is within `tolerance` of `want`.
pub fn close(text: &str, want: f64, tolerance: f64) -> bool {
    (text.parse::<f64>().unwrap() - want).abs() <= tolerance
}

/// percent_rank as SQL computes it: rows strictly below / (rows - 1), 0 for a single row.
pub fn percent_rank(values: &[f64], value: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    values.iter().filter(|v| **v < value).count() as f64 / (values.len() - 1) as f64
}
