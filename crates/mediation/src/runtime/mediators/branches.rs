//! Runs the branches one message splits into (the parts of `<iterate>`, the copies of `<clone>`,
//! the branches of `<scatter-gather>`, the iterations of a parallel `<foreach>`) with at most a
//! bounded number in flight at once ([`crate::runtime::limits::DEFAULT_MAX_INFLIGHT_BRANCHES`],
//! `[mediation] max_inflight_branches`), as a semaphore per message would: the others wait, and
//! one starts each time a running one ends. A waiting branch is not even built yet: its future
//! (and the copy of the message it runs on) comes from the iterator when its turn comes, so a
//! split into 10,000 parts holds the running ones' messages, not 10,000 copies.
//!
//! Branches run in the message's own task (polled together, not spawned), and their outputs come
//! back in the order they finish, which is the arrival order MI's aggregation sees for branches it
//! hands to its worker pool (SYN `mediators/eip/Target.java`, `injectAsync`). A limit of 1 runs
//! them one after the other, in the iterator's order (`sequential="true"`).
//!
//! Dropping a [`Bounded`] drops the running branches (their backend calls are abandoned and their
//! messages freed) and the waiting ones, which never start: an aggregation that completes by its
//! timeout releases everything its split still held.

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

/// One branch's run.
pub(crate) type Branch<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The branches of one message, at most `limit` of them running.
pub(crate) struct Bounded<'a, T, I> {
    waiting: I,
    running: FuturesUnordered<Branch<'a, T>>,
    limit: usize,
}

impl<'a, T, I: Iterator<Item = Branch<'a, T>>> Bounded<'a, T, I> {
    /// `waiting` yields the branches in the order they start; a limit of 0 is taken as 1.
    pub(crate) fn new(limit: usize, waiting: I) -> Self {
        Bounded {
            waiting,
            running: FuturesUnordered::new(),
            limit: limit.max(1),
        }
    }

    /// The output of the next branch to finish; `None` once every branch has finished. Starts
    /// waiting branches up to the limit first. Cancel-safe: a `next` dropped before it finishes
    /// loses no output (the branches stay where they are).
    pub(crate) async fn next(&mut self) -> Option<T> {
        while self.running.len() < self.limit
            && let Some(branch) = self.waiting.next()
        {
            self.running.push(branch);
        }
        self.running.next().await
    }

    /// [`Bounded::next`], giving up at `deadline` (`Err(())` then; the branches stay as they are).
    pub(crate) async fn next_before(
        &mut self,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Option<T>, ()> {
        match deadline {
            Some(at) => tokio::time::timeout_at(at, self.next())
                .await
                .map_err(|_| ()),
            None => Ok(self.next().await),
        }
    }
}

/// Runs the branches with at most `limit` at once until every one has finished, `done` says the
/// gathering is complete (given each output as it arrives), or `timeout` has passed since the
/// start. The outputs in arrival order; the branches still running or waiting are dropped.
pub(crate) async fn gather<'a, T>(
    limit: usize,
    branches: impl Iterator<Item = Branch<'a, T>>,
    timeout: Option<std::time::Duration>,
    mut done: impl FnMut(&T) -> bool,
) -> Vec<T> {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut bounded = Bounded::new(limit, branches);
    let mut arrived = Vec::new();
    while let Ok(Some(output)) = bounded.next_before(deadline).await {
        let complete = done(&output);
        arrived.push(output);
        if complete {
            break;
        }
    }
    arrived
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Branches that count how many of them run at once (the most seen goes to `max`): each
    /// yields a few times while counted, so every started branch is running together.
    fn counted<'a>(
        n: usize,
        running: &'a Arc<AtomicUsize>,
        max: &'a Arc<AtomicUsize>,
        started: &'a Arc<AtomicUsize>,
    ) -> impl Iterator<Item = Branch<'a, usize>> + 'a {
        (0..n).map(move |i| {
            // Built when it starts, not before.
            started.fetch_add(1, Ordering::SeqCst);
            let (running, max) = (running.clone(), max.clone());
            Box::pin(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(now, Ordering::SeqCst);
                // Later branches hold on longer: they finish out of start order.
                for _ in 0..(10 - i % 10) {
                    tokio::task::yield_now().await;
                }
                running.fetch_sub(1, Ordering::SeqCst);
                i
            }) as Branch<'a, usize>
        })
    }

    fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        Default::default()
    }

    #[tokio::test]
    async fn at_most_the_limit_run_at_once_and_every_branch_finishes() {
        let limit = 4;
        let (running, max, started) = counters();
        let outputs = gather(limit, counted(50, &running, &max, &started), None, |_| {
            false
        })
        .await;
        assert_eq!(max.load(Ordering::SeqCst), limit);
        let mut sorted = outputs.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        // Completion order, not start order.
        assert_ne!(outputs, sorted);
    }

    #[tokio::test]
    async fn limit_plus_one_branches_run_limit_at_once() {
        let limit = 4;
        let (running, max, started) = counters();
        let outputs = gather(
            limit,
            counted(limit + 1, &running, &max, &started),
            None,
            |_| false,
        )
        .await;
        assert_eq!(max.load(Ordering::SeqCst), limit);
        assert_eq!(outputs.len(), limit + 1);
        // Without a bound all limit + 1 would have run together.
        let (running, max, started) = counters();
        gather(
            usize::MAX,
            counted(limit + 1, &running, &max, &started),
            None,
            |_| false,
        )
        .await;
        assert_eq!(max.load(Ordering::SeqCst), limit + 1);
    }

    #[tokio::test]
    async fn a_limit_of_one_runs_in_order() {
        let (running, max, started) = counters();
        let outputs = gather(1, counted(12, &running, &max, &started), None, |_| false).await;
        assert_eq!(max.load(Ordering::SeqCst), 1);
        assert_eq!(outputs, (0..12).collect::<Vec<_>>());
        // 0 is read as 1.
        let (running, max, started) = counters();
        gather(0, counted(3, &running, &max, &started), None, |_| false).await;
        assert_eq!(max.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_complete_gathering_never_builds_the_branches_left() {
        let (running, max, started) = counters();
        let outputs = gather(2, counted(100, &running, &max, &started), None, |_| true).await;
        assert_eq!(outputs.len(), 1);
        // The two running when the first finished; the other 98 were never built.
        assert_eq!(started.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_timeout_ends_the_gathering_and_drops_what_is_left() {
        let held = Arc::new(());
        let branches = (0..10usize).map(|i| {
            let held = held.clone();
            Box::pin(async move {
                if i % 2 == 1 {
                    // A reply that never comes.
                    std::future::pending::<()>().await;
                }
                drop(held);
                i
            }) as Branch<'_, usize>
        });
        let outputs = gather(
            3,
            branches,
            Some(std::time::Duration::from_millis(50)),
            |_| false,
        )
        .await;
        // Branch 0 finishes, 1 hangs, 2 finishes, 3 hangs, 4 finishes, 5 hangs: three stuck
        // branches fill the limit and the rest wait until the timeout.
        assert_eq!(outputs, vec![0, 2, 4]);
        // Everything the branches held was dropped with them.
        assert_eq!(Arc::strong_count(&held), 1);
    }
}
