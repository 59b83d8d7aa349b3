//! Bounded retries for connecting to a database that may still be starting (Compose starts the job
//! and the servers together). Only errors that can clear by themselves are retried; anything else
//! (wrong password, unknown host name, bad database) fails at once.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

/// Calls `attempt` until it succeeds, fails with an error `is_transient` rejects, or `timeout`
/// passes. `what` names the thing waited for in log lines and the final error (no secrets).
/// Each attempt runs on a thread of its own and gets what is left of `timeout` (at least a
/// second): one that has not answered by then (a port where something else listens and never
/// speaks the database's protocol) fails the wait instead of hanging it; its thread is left to
/// the socket's own timeout.
pub fn retry_connect<T, E>(
    what: &str,
    timeout: Duration,
    attempt: impl Fn(Duration) -> Result<T, E> + Send + Sync + 'static,
    is_transient: impl Fn(&E) -> bool,
) -> Result<T>
where
    T: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let attempt = std::sync::Arc::new(attempt);
    let started = Instant::now();
    let deadline = started + timeout;
    let mut delay = Duration::from_millis(100);
    let mut last_log: Option<Instant> = None;
    loop {
        // Each attempt may use what is left of the budget, at least one second.
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let this = std::sync::Arc::clone(&attempt);
        std::thread::Builder::new()
            .name("connect".to_owned())
            .spawn(move || {
                let _ = sender.send(this(left));
            })
            .map_err(|e| anyhow!("starting a thread to connect to {what}: {e}"))?;
        let outcome = match receiver.recv_timeout(left) {
            Ok(outcome) => outcome,
            Err(_) => {
                return Err(anyhow!(
                    "no answer in the database's protocol within {} s (--connect-timeout): is \
                     it the database's host and port, or does something else listen there?",
                    timeout.as_secs().max(1)
                )
                .context(format!("cannot connect to {what}")));
            }
        };
        match outcome {
            Ok(value) => {
                if last_log.is_some() {
                    tracing::info!(
                        "{what}: connected after {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                return Ok(value);
            }
            Err(err) if is_transient(&err) && Instant::now() < deadline => {
                // One line at the first failure, then one every 10 s.
                if last_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    let left = deadline.saturating_duration_since(Instant::now()).as_secs();
                    tracing::warn!("waiting for {what}: {err} (retrying for up to {left} s more)");
                    last_log = Some(Instant::now());
                }
                std::thread::sleep(delay.min(deadline.saturating_duration_since(Instant::now())));
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(err) if is_transient(&err) => {
                return Err(anyhow!(err).context(format!(
                    "gave up waiting for {what} after {} s (--connect-timeout)",
                    started.elapsed().as_secs()
                )));
            }
            Err(err) => return Err(anyhow!(err).context(format!("cannot connect to {what}"))),
        }
    }
}

/// True for I/O errors that a server coming up or restarting produces.
pub fn is_transient_io(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        err.kind(),
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | NotConnected
            | BrokenPipe
            | UnexpectedEof
            | TimedOut
    )
}

/// Walks an error's sources looking for a transient I/O error.
pub fn has_transient_io_source(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(is_transient_io)
        {
            return true;
        }
        current = e.source();
    }
    false
}
