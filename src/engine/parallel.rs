//! A small work queue on scoped threads: staging files, building tables and running checks each
//! go a few at a time, every worker on its own database connection.

use std::sync::{Condvar, Mutex};

use anyhow::{Result, anyhow, bail};

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
    each_after(
        items,
        order,
        &vec![Vec::new(); items.len()],
        workers,
        start,
        work,
    )
}

/// The queue of [`each_after`]: items not yet taken, in work order, and which are done.
struct Queue {
    waiting: Vec<usize>,
    done: Vec<bool>,
    running: usize,
    failed: bool,
}

impl Queue {
    /// The next item, in work order, whose prerequisites are all done.
    fn take_ready(&mut self, after: &[Vec<usize>]) -> Option<usize> {
        let at = self
            .waiting
            .iter()
            .position(|&i| after[i].iter().all(|&p| self.done[p]))?;
        Some(self.waiting.remove(at))
    }
}

/// Like [`each`], but item `i` starts only when every item of `after[i]` is done: a worker with
/// nothing ready waits for the running items. `order` must list every item once and `after` have
/// one entry per item (checked before anything runs); items that can never start (a cycle) are
/// an error.
pub fn each_after<T: Sync, S, R: Send>(
    items: &[T],
    order: impl IntoIterator<Item = usize>,
    after: &[Vec<usize>],
    workers: usize,
    start: impl Fn() -> Result<S> + Sync,
    work: impl Fn(&mut S, &T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let waiting: Vec<usize> = order.into_iter().collect();
    let mut listed = vec![false; items.len()];
    for &i in &waiting {
        if i >= items.len() || std::mem::replace(&mut listed[i], true) {
            bail!("the work order lists item {i} twice or out of range");
        }
    }
    if listed.contains(&false) || after.len() != items.len() {
        bail!("the work order or the prerequisites do not cover every item once");
    }
    if let Some(p) = after.iter().flatten().find(|&&p| p >= items.len()) {
        bail!("prerequisite {p} is out of range");
    }
    let queue = Mutex::new(Queue {
        waiting,
        done: vec![false; items.len()],
        running: 0,
        failed: false,
    });
    let changed = Condvar::new();
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let poisoned = || anyhow!("work queue poisoned");
    // The next item for a worker; None when the queue is finished or stopped by an error.
    let next = || -> Result<Option<usize>> {
        let mut queue = queue.lock().map_err(|_| poisoned())?;
        loop {
            if queue.failed || queue.waiting.is_empty() {
                return Ok(None);
            }
            if let Some(index) = queue.take_ready(after) {
                queue.running += 1;
                return Ok(Some(index));
            }
            if queue.running == 0 {
                queue.failed = true;
                changed.notify_all();
                bail!(
                    "items {:?} wait for prerequisites that never run (a cycle?)",
                    queue.waiting
                );
            }
            queue = changed.wait(queue).map_err(|_| poisoned())?;
        }
    };
    // Always records the item and wakes the waiting workers, even on a poisoned lock.
    let finish = |index: usize, ok: bool| {
        let mut queue = queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.running -= 1;
        queue.done[index] = ok;
        queue.failed |= !ok;
        changed.notify_all();
    };
    // One worker: its state is made before its first item (none without items), and any error
    // tells the others to stop taking items.
    let worker = || -> Result<()> {
        let mut state = None;
        while let Some(index) = next()? {
            // A panic is an error like any other: the item must be finished, or the workers
            // waiting for it would wait forever.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match &mut state {
                    Some(state) => Ok(state),
                    None => start().map(|s| state.insert(s)),
                }
                .and_then(|state| work(state, &items[index]))
            }))
            .unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(anyhow!("a worker panicked on item {index}: {message}"))
            });
            finish(index, result.is_ok());
            results.lock().map_err(|_| poisoned())?[index] = Some(result?);
        }
        Ok(())
    };
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..workers.clamp(1, items.len().max(1)))
            .map(|_| scope.spawn(worker))
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
        .map_err(|_| poisoned())?
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
        // One worker: exactly the items before the bad one run. (With more workers, how many
        // others run meanwhile depends on the scheduler: a worker may be descheduled between
        // its failing item and reporting it. The error comes back either way.)
        for workers in [1, 2] {
            let items: Vec<u32> = (0..50).collect();
            let done = Mutex::new(0);
            let err = each(
                &items,
                0..50,
                workers,
                || Ok(()),
                |(), &i| {
                    *done.lock().unwrap() += 1;
                    if i == 3 {
                        Err(anyhow!("item 3 is bad"))
                    } else {
                        Ok(i)
                    }
                },
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "item 3 is bad");
            if workers == 1 {
                assert_eq!(
                    *done.lock().unwrap(),
                    4,
                    "the queue went on after the error"
                );
            }
        }
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
    fn an_item_starts_only_after_its_prerequisites_are_done() {
        // 0 <- 1 <- 3, 0 <- 2 <- 3, 4 alone, 5 <- 4; listed in an order that ignores them
        let after = vec![vec![], vec![0], vec![0], vec![1, 2], vec![], vec![4]];
        let items: Vec<usize> = (0..after.len()).collect();
        for workers in [1, 2, 4] {
            let events = Mutex::new(Vec::new());
            each_after(
                &items,
                [3, 5, 1, 2, 0, 4],
                &after,
                workers,
                || Ok(()),
                |(), &i| {
                    events.lock().unwrap().push(("start", i));
                    std::thread::sleep(std::time::Duration::from_millis(3));
                    events.lock().unwrap().push(("done", i));
                    Ok(())
                },
            )
            .unwrap();
            let events = events.into_inner().unwrap();
            let at = |event| events.iter().position(|e| *e == event).unwrap();
            for (item, prerequisites) in after.iter().enumerate() {
                for &p in prerequisites {
                    assert!(
                        at(("done", p)) < at(("start", item)),
                        "{workers} workers: {item} started before {p} was done: {events:?}"
                    );
                }
            }
            assert_eq!(events.len(), 2 * items.len());
        }
    }

    #[test]
    fn a_cycle_is_an_error_not_a_hang() {
        let after = vec![vec![], vec![2], vec![1]];
        let err = each_after(&[0, 1, 2], 0..3, &after, 2, || Ok(()), |(), i| Ok(*i)).unwrap_err();
        assert!(err.to_string().contains("never run"), "{err}");
    }

    #[test]
    fn a_failed_item_keeps_its_dependents_from_running() {
        let after = vec![vec![], vec![0], vec![1]];
        let ran = Mutex::new(Vec::new());
        let err = each_after(
            &[0, 1, 2],
            0..3,
            &after,
            2,
            || Ok(()),
            |(), &i| {
                ran.lock().unwrap().push(i);
                if i == 1 {
                    Err(anyhow!("item 1 is bad"))
                } else {
                    Ok(i)
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "item 1 is bad");
        assert_eq!(ran.into_inner().unwrap(), vec![0, 1]);
    }

    #[test]
    fn a_panic_is_returned_and_wakes_the_waiting_workers() {
        let after = vec![vec![], vec![0]];
        let err = each_after(
            &[0, 1],
            0..2,
            &after,
            2,
            || Ok(()),
            |(), &i| -> Result<usize> {
                if i == 0 {
                    panic!("boom");
                }
                Ok(i)
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "a worker panicked on item 0: boom");
    }

    #[test]
    fn an_order_that_misses_or_repeats_an_item_is_refused_before_any_work() {
        let ran = Mutex::new(0);
        let work = |(): &mut (), _: &u32| -> Result<()> {
            *ran.lock().unwrap() += 1;
            Ok(())
        };
        let none = vec![vec![]; 3];
        assert!(each_after(&[0, 1, 2], [0, 1], &none, 2, || Ok(()), work).is_err());
        assert!(each_after(&[0, 1, 2], [0, 1, 1], &none, 2, || Ok(()), work).is_err());
        assert!(each_after(&[0, 1, 2], [0, 1, 5], &none, 2, || Ok(()), work).is_err());
        assert!(
            each_after(
                &[0, 1, 2],
                0..3,
                &[vec![7], vec![], vec![]],
                2,
                || Ok(()),
                work
            )
            .is_err()
        );
        assert_eq!(*ran.lock().unwrap(), 0);
    }

    #[test]
    fn nothing_to_do() {
        let out: Vec<u32> = each(&[] as &[u32], [], 2, || Ok(()), |(), i| Ok(*i)).unwrap();
        assert!(out.is_empty());
    }
}
