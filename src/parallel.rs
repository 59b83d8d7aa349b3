//! A small work queue on scoped threads: staging files, building tables and running checks each
//! go a few at a time, every worker on its own database connection.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, anyhow};

/// Runs `work` on every item, `workers` at a time, taking items in the order of `order` (indices
/// into `items`). Each worker first makes its own state with `start` (a connection, say). Results
/// come back in the order of `items`; the first error stops the queue and is returned.
pub fn each<T: Sync, S, R: Send>(
    items: &[T],
    order: impl IntoIterator<Item = usize>,
    workers: usize,
    start: impl Fn() -> Result<S> + Sync,
    work: impl Fn(&mut S, &T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let queue = Mutex::new(order.into_iter().collect::<VecDeque<usize>>());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let failed = AtomicBool::new(false);
    // One worker: its state is made before its first item (none without items), and any error
    // tells the others to stop taking items.
    let worker = || -> Result<()> {
        let mut state = None;
        while !failed.load(Ordering::Relaxed) {
            let next = queue
                .lock()
                .map_err(|_| anyhow!("work queue poisoned"))?
                .pop_front();
            let Some(index) = next else { break };
            let state = match &mut state {
                Some(state) => state,
                None => state.insert(start()?),
            };
            let result = work(state, &items[index])?;
            results
                .lock()
                .map_err(|_| anyhow!("work results poisoned"))?[index] = Some(result);
        }
        Ok(())
    };
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..workers.clamp(1, items.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let outcome = worker();
                    if outcome.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    outcome
                })
            })
            .collect();
        let mut first_error = None;
        for handle in handles {
            let outcome = handle
                .join()
                .unwrap_or_else(|_| Err(anyhow!("a worker thread panicked")));
            if let Err(err) = outcome {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    })?;
    results
        .into_inner()
        .map_err(|_| anyhow!("work results poisoned"))?
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or_else(|| anyhow!("item {i} was not in the work order")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_item_order_whatever_the_work_order() {
        let items: Vec<u32> = (0..20).collect();
        let out = each(&items, (0..20).rev(), 3, || Ok(()), |(), i| Ok(i * 2)).unwrap();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn an_error_stops_the_queue_and_is_returned() {
        let items: Vec<u32> = (0..50).collect();
        let done = Mutex::new(0);
        let err = each(
            &items,
            0..50,
            2,
            || Ok(()),
            |(), &i| {
                *done.lock().unwrap() += 1;
                // The good items take a moment, as real work does: without it the other worker
                // can empty the whole queue before the failing one has returned its error.
                if i != 3 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                if i == 3 {
                    Err(anyhow!("item 3 is bad"))
                } else {
                    Ok(i)
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "item 3 is bad");
        assert!(
            *done.lock().unwrap() < 50,
            "the queue went on after the error"
        );
    }

    #[test]
    fn a_failing_start_is_returned() {
        let err = each(
            &[1],
            [0],
            2,
            || Err::<(), _>(anyhow!("no connection")),
            |(), i| Ok(*i),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "no connection");
    }

    #[test]
    fn nothing_to_do() {
        let out: Vec<u32> = each(&[] as &[u32], [], 2, || Ok(()), |(), i| Ok(*i)).unwrap();
        assert!(out.is_empty());
    }
}
