//! `runner` stages raw data and applies versioned SQL migrations that build analytics tables.
//! This file is the table of contents: the modules, and [`run`] with one `match` over subcommands.

pub mod bulk;
pub mod check;
pub mod cli;
pub mod config;
pub mod contract;
pub mod db;
pub mod drill;
pub mod history;
pub mod lines;
pub mod migrate;
pub mod mysql_conn;
pub mod parallel;
pub mod pg_conn;
pub mod pipeline;
pub mod pyliteral;
pub mod refresh;
pub mod retry;
pub mod rollup;
pub mod stage;
pub mod status;
pub mod swap;

use anyhow::Result;

use crate::cli::{Cli, Command, ConnectionArgs, Target};
use crate::config::{MysqlTarget, PgTarget};
use crate::db::Database;

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    init_logging(cli.verbose, cli.quiet);
    match cli.command {
        Command::Migrate(args) => migrate::run(&args),
        Command::Stage(args) => pipeline::stage(&args),
        Command::Status(args) => status::run(&args),
        Command::Check(args) => check::run(&args),
    }
}

/// Runs `f` for each selected target in turn. A failing target does not stop the others, but
/// the command fails, naming every failed target.
pub fn each_target(targets: &[Target], mut f: impl FnMut(Target) -> Result<()>) -> Result<()> {
    let mut failed = Vec::new();
    for target in Target::selected(targets) {
        if let Err(err) = f(target).map_err(migrate::explain_lost_connection) {
            tracing::error!("{target}: {err:#}");
            failed.push(format!("{target}: {err:#}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", failed.join("; "))
    }
}

/// Connects to a target's database, waiting for it within `--connect-timeout`.
/// With `create`, a missing database is created (migrate and stage do; status never does).
pub fn connect(target: Target, args: &ConnectionArgs, create: bool) -> Result<Box<dyn Database>> {
    Ok(match target {
        Target::Movies => {
            let t = MysqlTarget::from_args(args)?;
            Box::new(mysql_conn::MysqlConn::connect(
                &t,
                args.connect_timeout(),
                create,
            )?)
        }
        Target::Rollup => {
            let t = PgTarget::from_url(
                &args.rollup_database_url,
                "ROLLUP_DATABASE_URL (--rollup-database-url)",
            )?;
            Box::new(pg_conn::PgConn::connect(
                &t,
                "rollup database",
                args.connect_timeout(),
                create,
            )?)
        }
    })
}

/// One human-readable line per event on stderr; `-v` adds debug lines, `-q` keeps warnings only.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => tracing::Level::WARN,
        (false, 0) => tracing::Level::INFO,
        (false, 1) => tracing::Level::DEBUG,
        (false, _) => tracing::Level::TRACE,
    };
    // refinery logs every migration at info through `log`; our own line per migration says it.
    let filter = tracing_subscriber::EnvFilter::new(format!("{level},refinery_core=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
