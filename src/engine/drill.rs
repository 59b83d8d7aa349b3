//! Failure drills: named points where a test can make the runner die (`RUNNER_CRASH_AT=<point>`,
//! the process aborts as if killed) or stall (`RUNNER_PAUSE_AT=<point>`, sleeps
//! `RUNNER_PAUSE_SECONDS`, 3 by default, so a test can cut its database connections). Both variables are for the failure-drill tests only; unset, a
//! point costs one environment lookup.

/// Marks a point in a run. `point` names it, e.g. `stage:after-swap`.
pub fn point(point: &str) {
    if std::env::var("RUNNER_CRASH_AT").is_ok_and(|p| p == point) {
        eprintln!("runner: drill: crashing at {point}");
        std::process::abort();
    }
    if std::env::var("RUNNER_PAUSE_AT").is_ok_and(|p| p == point) {
        let seconds = std::env::var("RUNNER_PAUSE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        eprintln!("runner: drill: pausing at {point}");
        std::thread::sleep(std::time::Duration::from_secs(seconds));
    }
}
