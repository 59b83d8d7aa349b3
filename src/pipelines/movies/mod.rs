//! The movies pipeline: Kaggle's "The Movies Dataset" CSV files into MySQL (or MariaDB).
//!
//! Read bottom-up: [`contract`] declares the files, their columns and their list columns;
//! [`pyliteral`] parses the Python literals those hold and [`lines`] numbers the records' lines;
//! [`records`] checks one record against the contract; [`inputs`] finds the files (or the seed
//! sample); [`bulk`] streams rows into a table with `LOAD DATA`; [`load`] puts it together into
//! the `raw_` tables; [`rebuild`] fills copies of the derived tables from their `build_` views;
//! [`publish`] runs the steps in order: stage, rebuild, check, publish. The SQL lives in
//! `migrations/movies/`.

pub mod bulk;
pub mod contract;
pub mod inputs;
pub mod lines;
pub mod load;
pub mod publish;
pub mod pyliteral;
pub mod rebuild;
pub mod records;

use anyhow::{Context, Result};
use refinery::Migration;

use super::{Common, Guards, Pipeline, StatusDetails};
use crate::engine::checks::Check;
use crate::engine::db::mysql::MysqlConn;
use crate::engine::db::settings::MysqlSettings;
use crate::engine::db::{Cell, Database};
use crate::engine::history::Run;
use crate::engine::models::Model;
use inputs::DataSource;

mod embedded {
    refinery::embed_migrations!("migrations/movies");
    include!(concat!(env!("OUT_DIR"), "/sql_movies.rs"));
}

pub const NAME: &str = "movies";

/// What it builds, in one line (the docs' index).
pub const SUMMARY: &str = "Kaggle's \"The Movies Dataset\" CSV files into MySQL (or MariaDB)";

/// Its models, in the order they apply: built in, or from `--migrations-dir`.
pub fn models(common: &Common) -> Result<Vec<Model>> {
    common.models(NAME, embedded::MODELS)
}

/// Its data checks: built in, or from `--migrations-dir`.
pub fn checks(common: &Common) -> Result<Vec<Check>> {
    common.checks(NAME, embedded::CHECKS)
}

/// The movies pipeline, with where its database is and where its files are.
pub struct Movies {
    pub database: MysqlSettings,
    pub common: Common,
    /// The input files; `None` for the commands that read no file (status, check).
    pub data: Option<DataSource>,
    /// What a run refuses to publish; `None` for status and check.
    pub guards: Option<Guards>,
}

impl Movies {
    fn data(&self) -> Result<&DataSource> {
        self.data
            .as_ref()
            .context("no movie data folder was given to this command")
    }
}

impl Pipeline for Movies {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display(&self) -> String {
        self.database.display()
    }

    fn connect(&self, create: bool) -> Result<Box<dyn Database>> {
        Ok(Box::new(MysqlConn::connect(
            &self.database,
            self.common.connect_timeout,
            create,
        )?))
    }

    fn migrations(&self) -> Result<Vec<Migration>> {
        self.common.migrations(NAME, embedded::migrations::runner())
    }

    fn checks(&self) -> Result<Vec<Check>> {
        checks(&self.common)
    }

    fn models(&self) -> Result<Vec<Model>> {
        models(&self.common)
    }

    fn schema(&self) -> Option<&'static str> {
        None
    }

    fn data_steps(&self, run: &mut Run) -> Result<()> {
        publish::write_audit_publish(
            run,
            &self.database,
            self.common.connect_timeout,
            self.data()?,
            &self.models()?,
            &self.checks()?,
            self.guards
                .context("no guards were given to this command")?,
        )
    }

    /// The same steps: loading alone would publish new raw tables beside the tables built from
    /// the previous ones.
    fn stage_steps(&self, run: &mut Run) -> Result<()> {
        self.data_steps(run)
    }

    /// The last staging's counts per file (read = loaded + rejected), from `raw_files`.
    fn status_details(&self, db: &mut dyn Database) -> Result<Option<StatusDetails>> {
        if !db.table_exists(contract::FILES_TABLE)? {
            return Ok(None);
        }
        let rows = db.query(
            "select file_name, records_read, records_loaded, records_rejected, source \
             from raw_files order by file_name",
            &[],
        )?;
        let mut files = Vec::with_capacity(rows.len());
        let mut text = vec!["staged files (read = loaded + rejected):".to_owned()];
        for row in &rows {
            let name = row[0].text().unwrap_or("?");
            let count = |cell: &Cell| cell.int().unwrap_or(0);
            let (read, loaded, rejected) = (count(&row[1]), count(&row[2]), count(&row[3]));
            let source = row[4].text().unwrap_or("?");
            files.push(serde_json::json!({
                "file": name, "read": read, "loaded": loaded, "rejected": rejected, "source": source
            }));
            text.push(format!(
                "  {name:<24} read {read:>10}  loaded {loaded:>10}  rejected {rejected:>6}  from {source}"
            ));
        }
        Ok(Some(StatusDetails {
            json: serde_json::json!({ "staged_files": files }),
            text,
        }))
    }
}
