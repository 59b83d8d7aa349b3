//! The subcommands, one file each, and what they share: turning the command line into the
//! pipelines it names ([`pipeline`]), and running a command for each selected target in turn
//! ([`each_target`]). This is the only layer that names every pipeline.

pub mod check;
pub mod docs;
pub mod migrate;
pub mod stage;
pub mod status;

use anyhow::{Context, Result, bail};

use crate::cli::{ConnectionArgs, DataArgs, GuardArgs, RollupArgs, Target};
use crate::engine::db::settings::{MysqlSettings, PgSettings};
use crate::engine::db::{explain_lost_connection, message};
use crate::pipelines::movies::{Movies, inputs::DataSource};
use crate::pipelines::rollup::{RefreshOptions, Rollup};
use crate::pipelines::{Common, Guards, Pipeline};

/// A target's pipeline, set up from the command line. `data` and `rollup` are the options of the
/// commands that run data steps (migrate, stage); status and check give none.
pub fn pipeline(
    target: Target,
    connections: &ConnectionArgs,
    data: Option<&DataArgs>,
    rollup: Option<&RollupArgs>,
    guards: Option<&GuardArgs>,
) -> Result<Box<dyn Pipeline>> {
    let guards = guards.map(|g| Guards {
        max_shrink_percent: g.max_shrink_percent,
        allow_shrink: g.allow_shrink,
    });
    let common = Common {
        connect_timeout: connections.connect_timeout(),
        migrations_dir: connections.migrations_dir.clone(),
    };
    Ok(match target {
        Target::Movies => Box::new(Movies {
            database: mysql_settings(connections)?,
            common,
            guards,
            data: data.map(|d| DataSource {
                // an empty MOVIE_DATA_PATH is not set
                path: d
                    .movie_data_path
                    .clone()
                    .filter(|p| !p.as_os_str().is_empty()),
                ratings_file: d.ratings_file.clone(),
            }),
        }),
        Target::Rollup => Box::new(Rollup {
            database: PgSettings::from_url(
                &connections.rollup_database_url,
                "ROLLUP_DATABASE_URL (--rollup-database-url)",
            )?,
            source_url: connections.pagila_database_url.clone(),
            common,
            refresh: rollup.map(|r| RefreshOptions {
                full_refresh: r.full_refresh,
                lookback_seconds: r.lookback,
                full_path_percent: Some(r.full_path_percent),
                fail_before_commit: false,
                guards,
            }),
        }),
    })
}

/// The movies database: `MOVIES_DATABASE_URL` when set, else the `MYSQL_*` options.
fn mysql_settings(args: &ConnectionArgs) -> Result<MysqlSettings> {
    if let Some(url) = args
        .movies_database_url
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        return MysqlSettings::from_url(url).context("MOVIES_DATABASE_URL (--movies-database-url)");
    }
    if args.mysql_database.is_empty() {
        bail!("MYSQL_DATABASE is empty: name the database to build the movie tables in");
    }
    Ok(MysqlSettings {
        host: args.mysql_host.clone(),
        port: args.mysql_port,
        user: args.mysql_username.clone(),
        password: args.mysql_password.clone().filter(|p| !p.is_empty()),
        database: args.mysql_database.clone(),
    })
}

/// Runs `f` for each selected target in turn. A failing target does not stop the others, but
/// the command fails, naming every failed target.
pub fn each_target(targets: &[Target], mut f: impl FnMut(Target) -> Result<()>) -> Result<()> {
    let mut failed = Vec::new();
    for target in Target::selected(targets) {
        if let Err(err) = f(target).map_err(explain_lost_connection) {
            let message = message(&err);
            tracing::error!("{target}: {message}");
            failed.push(format!("{target}: {message}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", failed.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use super::*;
    use crate::engine::checks::Check;

    /// Every target's pipeline, with `--migrations-dir` when `dir` is given.
    fn pipelines(dir: Option<&Path>) -> Vec<Box<dyn Pipeline>> {
        let mut args = vec!["runner", "status"];
        if let Some(dir) = dir {
            args.extend(["--migrations-dir", dir.to_str().unwrap()]);
        }
        let crate::cli::Command::Status(status) = crate::cli::Cli::parse_from(args).command else {
            unreachable!()
        };
        Target::ALL
            .into_iter()
            .map(|target| pipeline(target, &status.connections, None, None, None).unwrap())
            .collect()
    }

    #[test]
    fn built_in_migrations_models_and_checks_are_every_sql_file_in_the_folders() {
        // refinery skips misnamed files silently; migrations::load_dir refuses them. Both must
        // agree, and so must the models and checks build.rs embeds.
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let key = |c: &Check| (c.name.clone(), c.severity, c.sql.clone());
        for (built_in, on_disk) in pipelines(None).iter().zip(pipelines(Some(&folder))) {
            let name = built_in.name();
            let migrations = built_in.migrations().unwrap();
            assert!(!migrations.is_empty(), "{name}: no migrations built in");
            assert_eq!(migrations, on_disk.migrations().unwrap(), "{name}");
            let checks: Vec<_> = built_in.checks().unwrap().iter().map(key).collect();
            assert!(!checks.is_empty(), "{name}: no checks built in");
            let files: Vec<_> = on_disk.checks().unwrap().iter().map(key).collect();
            assert_eq!(checks, files, "{name}");
            let model = |m: &crate::engine::models::Model| (m.name.clone(), m.checksum.clone());
            let models: Vec<_> = built_in.models().unwrap().iter().map(model).collect();
            assert!(!models.is_empty(), "{name}: no models built in");
            let files: Vec<_> = on_disk.models().unwrap().iter().map(model).collect();
            assert_eq!(models, files, "{name}");
        }
    }
}
