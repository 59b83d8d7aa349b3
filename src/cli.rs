//! The command line: subcommands, their flags, and the environment variables every connection
//! option falls back to. Doc comments here are the `--help` text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Stages raw data and applies versioned SQL migrations that build analytics tables:
/// Kaggle movies into MySQL, a weekly Pagila rental rollup into PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "runner", version, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only warnings and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Wait for each database, take its lock, apply pending migrations, then run its data steps
    Migrate(MigrateArgs),
    /// Run only the data-loading step of each target
    Stage(StageArgs),
    /// Show per target: connection, applied and pending migrations, drift, table row counts, last runs
    Status(StatusArgs),
    /// Run the data checks of each target against its live tables; exit 1 if a `fail` check fails
    Check(CheckArgs),
    /// Write the table docs (docs/tables.md, docs/tables/*.md) from the models' headers and SQL
    Docs(DocsArgs),
}

/// A target: one of the pipelines, as named on the command line (each owns one database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Kaggle movies into MySQL (or MariaDB)
    Movies,
    /// Pagila weekly rental rollup into PostgreSQL
    Rollup,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Movies, Target::Rollup];

    pub fn name(self) -> &'static str {
        match self {
            Target::Movies => "movies",
            Target::Rollup => "rollup",
        }
    }

    /// The targets named on the command line, in a fixed order, each once; all when none is named.
    pub fn selected(named: &[Target]) -> Vec<Target> {
        let mut targets = if named.is_empty() {
            Self::ALL.to_vec()
        } else {
            named.to_vec()
        };
        targets.sort();
        targets.dedup();
        targets
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Targets to migrate (default: all)
    #[arg(value_enum)]
    pub targets: Vec<Target>,

    #[command(flatten)]
    pub connections: ConnectionArgs,

    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub guards: GuardArgs,

    #[command(flatten)]
    pub rollup: RollupArgs,
}

#[derive(Debug, Args)]
pub struct StageArgs {
    /// Targets to stage (default: all)
    #[arg(value_enum)]
    pub targets: Vec<Target>,

    #[command(flatten)]
    pub connections: ConnectionArgs,

    #[command(flatten)]
    pub data: DataArgs,

    #[command(flatten)]
    pub guards: GuardArgs,

    #[command(flatten)]
    pub rollup: RollupArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Targets to check (default: all)
    #[arg(value_enum)]
    pub targets: Vec<Target>,

    #[command(flatten)]
    pub connections: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Targets to report (default: all)
    #[arg(value_enum)]
    pub targets: Vec<Target>,

    /// Print one JSON document instead of text
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub connections: ConnectionArgs,
}

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// The SQL folder the docs are made from (its <target>/models/ and <target>/checks/)
    #[arg(long, value_name = "DIR", default_value = "migrations")]
    pub migrations_dir: PathBuf,

    /// The docs folder written: tables.md and tables/<table>.md
    #[arg(long, value_name = "DIR", default_value = "docs")]
    pub out: PathBuf,

    /// Write nothing; exit 1 if the docs in --out differ from what would be written
    #[arg(long)]
    pub check: bool,
}

/// Where the input data lives.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Folder holding the Kaggle movie CSV files; it must exist and hold them all. Not set:
    /// ./moviearchive when it holds them, else the bundled seed sample
    #[arg(long, env = "MOVIE_DATA_PATH", value_name = "DIR")]
    pub movie_data_path: Option<PathBuf>,

    /// Ratings file to stage from the data folder instead of ratings_small.csv (e.g. ratings.csv)
    #[arg(long, value_name = "NAME")]
    pub ratings_file: Option<String>,
}

/// What a run refuses to publish unless told to.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// Publish even if an input file or a published table shrank by more than --max-shrink-percent
    /// against the last published run (for an input that is smaller on purpose; this run only)
    #[arg(long)]
    pub allow_shrink: bool,

    /// How much an input file or published table may shrink against the last published run
    #[arg(
        long,
        env = "RUNNER_MAX_SHRINK_PERCENT",
        default_value_t = 25,
        value_name = "PERCENT",
        value_parser = clap::value_parser!(u8).range(0..=100)
    )]
    pub max_shrink_percent: u8,
}

/// How the rollup is brought up to date.
#[derive(Debug, Args)]
pub struct RollupArgs {
    /// Rebuild the rollup (mirror and tables) from scratch instead of merging what changed
    #[arg(long)]
    pub full_refresh: bool,

    /// Seconds of source changes to re-read before the watermark, for rows committed late
    #[arg(
        long,
        env = "RUNNER_LOOKBACK",
        default_value_t = 3600,
        value_name = "SECONDS"
    )]
    pub lookback: u64,

    /// Take the full path (copy the source again) when an incremental run would read again more
    /// than this percent of the mirror's rentals (changes far back); 100, the default: never
    /// (recomputing from the mirror costs less: bench/README.md)
    #[arg(
        long,
        env = "RUNNER_FULL_PATH_PERCENT",
        default_value_t = 100,
        value_parser = clap::value_parser!(u8).range(1..=100),
        value_name = "PERCENT"
    )]
    pub full_path_percent: u8,
}

/// How to reach the databases. Every option also reads an environment variable.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Movies: full MySQL URL mysql://user:password@host:port/database (wins over the MYSQL_* options)
    #[arg(long, env = "MOVIES_DATABASE_URL", hide_env_values = true)]
    pub movies_database_url: Option<String>,

    /// Movies: MySQL host
    #[arg(long, env = "MYSQL_URL", default_value = "127.0.0.1")]
    pub mysql_host: String,

    /// Movies: MySQL port
    #[arg(long, env = "MYSQL_PORT", default_value_t = 3306)]
    pub mysql_port: u16,

    /// Movies: MySQL user
    #[arg(long, env = "MYSQL_USERNAME", default_value = "root")]
    pub mysql_username: String,

    /// Movies: MySQL password (default: empty)
    #[arg(long, env = "MYSQL_PASSWORD", hide_env_values = true)]
    pub mysql_password: Option<String>,

    /// Movies: MySQL database, created when missing
    #[arg(long, env = "MYSQL_DATABASE", default_value = "analyticschallenge")]
    pub mysql_database: String,

    /// Rollup source: the Pagila database, read only
    #[arg(
        long,
        env = "PAGILA_DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:5432/pagila"
    )]
    pub pagila_database_url: String,

    /// Rollup: the PostgreSQL database that receives the rollup, created when missing
    #[arg(
        long,
        env = "ROLLUP_DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:5432/rollup"
    )]
    pub rollup_database_url: String,

    /// Seconds to keep retrying a database that refuses connections or is still starting
    #[arg(
        long,
        env = "RUNNER_CONNECT_TIMEOUT",
        default_value_t = 60,
        value_name = "SECONDS"
    )]
    pub connect_timeout: u64,

    /// Seconds to wait for another runner holding the migration lock of a database
    #[arg(
        long,
        env = "RUNNER_LOCK_TIMEOUT",
        default_value_t = 3600,
        value_name = "SECONDS"
    )]
    pub lock_timeout: u64,

    /// Read migrations from DIR/<target>/ instead of the ones built into the binary (development)
    #[arg(long, env = "RUNNER_MIGRATIONS_DIR", value_name = "DIR")]
    pub migrations_dir: Option<PathBuf>,
}

impl ConnectionArgs {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    pub fn lock_timeout(&self) -> Duration {
        Duration::from_secs(self.lock_timeout)
    }
}
