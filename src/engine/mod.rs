//! The engine: what every pipeline runs on, knowing none of them and no input file. Versioned
//! migrations ([`migrations`]), models ([`models`]), data checks and the publishing gate
//! ([`checks`]), the docs generated from the models ([`docs`]), the run history
//! ([`history`]), the database adapters ([`db`]), and three small support pieces: bounded connect
//! retries ([`retry`]), a work queue on threads ([`parallel`]) and named crash points for the
//! failure drills ([`drill`]). Nothing here imports `pipelines` or `commands`.

pub mod checks;
pub mod db;
pub mod docs;
pub mod drill;
pub mod history;
pub mod migrations;
pub mod models;
pub mod parallel;
pub mod retry;
