//! What a rollup run is asked to do and what it did: [`RefreshOptions`] in, [`RefreshReport`] out
//! (also the line in the log and in `runner_run_steps`), and the formats weeks and timestamps take
//! on their way to and from SQL.

use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use crate::pipelines::Guards;

/// `to_char` format of weeks passed to and from SQL: ISO, read back whatever the DateStyle.
pub const DATE_FORMAT: &str = "YYYY-MM-DD";

/// How a run brings the rollup up to date.
#[derive(Debug, Clone, Default)]
pub struct RefreshOptions {
    /// Rebuild the mirror and recompute every week (`--full-refresh`).
    pub full_refresh: bool,
    /// Seconds before the watermark whose changes are read again (`--lookback`).
    pub lookback_seconds: u64,
    /// An incremental run that would read again more than this percent of the mirror's rentals
    /// takes the full path instead (`--full-path-percent`); `None`: never.
    pub full_path_percent: Option<u8>,
    /// For tests: fail after all the work, just before the commit.
    #[doc(hidden)]
    pub fail_before_commit: bool,
    /// The guard against a source that shrank; `None`: no guard (`refresh_with`'s callers).
    pub guards: Option<Guards>,
}

/// Full load (first run, `--full-refresh`) or an incremental run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Full,
    Incremental,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }
}

/// What one run did. Weeks are `YYYY-MM-DD` (the Monday), timestamps ISO 8601 in UTC.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    pub mode: Mode,
    /// The source clock at the snapshot read: the next run reads from here minus the lookback.
    pub watermark: String,
    /// The lower bound on `last_update` of this run's copy; `None` for a full load.
    pub read_since: Option<String>,
    /// Rental rows copied from the source.
    pub rows_read: u64,
    /// Rentals new to the mirror (a full load counts every rental).
    pub rows_inserted: u64,
    /// Rentals whose rental_date, return_date or inventory_id changed.
    pub rows_updated: u64,
    /// Rentals gone from the source.
    pub rows_deleted: u64,
    /// Some blocks of rental ids differed from the mirror's beyond the rows read (a change the
    /// last_update window missed, a delete), so their rows were compared.
    pub checksum_mismatch: bool,
    /// How many blocks of 256 rental ids were compared row by row.
    pub blocks_compared: u64,
    /// The inventory or a stocked film's title changed: every week of weekly_film_demand recomputed.
    pub films_changed: bool,
    /// The rollup models changed since the tables were computed: every week recomputed.
    pub models_changed: bool,
    /// The first week any change touched (old and new dates).
    pub first_changed_week: Option<String>,
    /// The first week recomputed and merged into weekly_rentals; `None` when nothing was.
    pub first_recomputed_week: Option<String>,
    pub weeks_recomputed: u64,
    pub film_rows_recomputed: u64,
    /// Rows recomputed in weekly_film_store_demand (film_store_weekly_features follows it).
    pub store_rows_recomputed: u64,
    /// The series after the run: first and last week, number of weeks.
    pub first_week: Option<String>,
    pub last_week: Option<String>,
    pub weeks: u64,
    /// The first week the data checks examined (`rollup.check_from_week()`): the first week
    /// recomputed, at the latest the last week; `None` (every week) for a full load.
    pub check_from_week: Option<String>,
    /// Why a full load replaced an incremental run (its changes reached back so far that a full
    /// build cost less); `None` otherwise.
    pub full_path_reason: Option<String>,
}

impl RefreshReport {
    /// Rows the run changed in the mirror.
    pub fn changed_rows(&self) -> u64 {
        self.rows_inserted + self.rows_updated + self.rows_deleted
    }

    /// One line for the log and `runner_run_steps.detail`.
    pub fn summary(&self) -> String {
        let read = match &self.read_since {
            Some(since) => format!("read {} rows changed since {since}", self.rows_read),
            None => format!("read all {} rows", self.rows_read),
        };
        let recomputed = match &self.first_recomputed_week {
            Some(week) => format!(
                "recomputed {} weeks from {week} ({} film rows, {} film-store rows)",
                self.weeks_recomputed, self.film_rows_recomputed, self.store_rows_recomputed
            ),
            None => "recomputed no week".to_owned(),
        };
        let mut notes: Vec<&str> = Vec::new();
        let compared = format!(
            "{} blocks of rental ids differed: their rows compared",
            self.blocks_compared
        );
        if self.checksum_mismatch {
            notes.push(compared.as_str());
        }
        if self.films_changed {
            notes.push("inventory or films changed");
        }
        if let Some(reason) = &self.full_path_reason {
            notes.push(reason.as_str());
        }
        if self.models_changed {
            notes.push("models changed: every week recomputed");
        }
        let checks: String = notes.iter().map(|n| format!("; {n}")).collect();
        format!(
            "{}: {read}: {} inserted, {} updated, {} deleted; {recomputed}; {} weeks {}..{}; watermark {}{checks}",
            self.mode.name(),
            self.rows_inserted,
            self.rows_updated,
            self.rows_deleted,
            self.weeks,
            self.first_week.as_deref().unwrap_or("-"),
            self.last_week.as_deref().unwrap_or("-"),
            self.watermark,
        )
    }
}

/// Logs how long a phase took (`-v`).
pub fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let out = f()?;
    tracing::debug!("rollup: {what} ({} ms)", started.elapsed().as_millis());
    Ok(out)
}
