//! `runner` stages raw data and applies versioned SQL migrations that build analytics tables.
//! This file is the table of contents. The layers, each using only the ones below it:
//!
//! - [`cli`] and [`commands`]: the command line and one file per subcommand; the only layer
//!   that names every pipeline.
//! - [`pipelines`]: one folder per pipeline ([`pipelines::movies`], [`pipelines::rollup`]), each
//!   owning its input, its SQL folder and its tables, behind one interface.
//! - [`engine`]: migrations, checks, run history, database adapters; knows no pipeline.
//!
//! docs/architecture.md draws them and follows a run through them.

pub mod cli;
pub mod commands;
pub mod engine;
pub mod pipelines;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    init_logging(cli.verbose, cli.quiet);
    match cli.command {
        Command::Migrate(args) => commands::migrate::run(&args),
        Command::Stage(args) => commands::stage::run(&args),
        Command::Status(args) => commands::status::run(&args),
        Command::Check(args) => commands::check::run(&args),
        Command::Docs(args) => commands::docs::run(&args),
    }
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
