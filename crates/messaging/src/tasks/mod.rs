//! Scheduled tasks: every `<task>` of the live snapshot (`tasks/` and CApps' `synapse/task`) runs
//! on its trigger and injects its MessageInjector message ([`injector`]) into the snapshot that is
//! live when it fires. [`TasksComponent`] keeps the running tasks in step with each deployment,
//! as MI's `StartUpController` deploys and undeploys them: a new task is scheduled, a removed one
//! stops, a changed one restarts from its first firing, and an unchanged one carries on (its
//! count continues, a finished one stays finished).
//!
//! Nothing fires before the server has started serving ([`Component::started`]; MI's ntask
//! starts its tasks on `completedServerStartup`), so a server that fails to bind its ports has
//! injected nothing. A firing checks [`Leadership::may_run`] first, so coordination across
//! instances can decide where each task runs; a single instance ([`Standalone`]) runs them all.
//! Firings of one task overlap at most [`MAX_INFLIGHT_FIRINGS`] at a time (MI's injectAsync hands
//! each message to a worker; `sequential="true"` waits for each); a firing that has to wait is
//! late, and [`schedule`] drops the slots it missed rather than replaying them.

pub mod injector;
pub mod schedule;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Local;
use conflux_artifacts::task::Task;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::{Component, LiveSwap};
use schedule::{Now, Plan};

/// Log target of task scheduling and firing.
pub const LOG: &str = "conflux::tasks";

/// The most firings of one task in flight at once; the next firing waits for one to end.
pub const MAX_INFLIGHT_FIRINGS: usize = 16;

/// The longest a task sleeps before it looks at the clocks again: a cron trigger follows a
/// wall-clock change within this, and a very long interval is slept in pieces.
pub const MAX_SLEEP: Duration = Duration::from_secs(60);

/// MI's task type in its "Task scheduled: [ESB_TASK][name]." log lines (ntask
/// `AbstractQuartzTaskManager`).
const TASK_TYPE: &str = "ESB_TASK";

/// Whether this instance may run a task's firing now. Coordination across instances answers
/// for the task's owner; one instance alone runs everything.
pub trait Leadership: Send + Sync {
    fn may_run(&self, task: &str) -> bool;
}

/// One instance: every task runs here.
#[derive(Debug, Default, Clone, Copy)]
pub struct Standalone;

impl Leadership for Standalone {
    fn may_run(&self, _task: &str) -> bool {
        true
    }
}

/// A task that was scheduled: its definition (to tell a change) and the switch of its loop.
struct Scheduled {
    definition: Task,
    stop: CancellationToken,
}

/// The scheduled tasks of the live deployment.
pub struct TasksComponent {
    leadership: Arc<dyn Leadership>,
    /// By task name (names are unique in a deployment).
    scheduled: Mutex<HashMap<String, Scheduled>>,
    /// `true` once the server serves; every task loop waits for it before its first firing.
    serving: watch::Sender<bool>,
}

impl TasksComponent {
    pub fn new(leadership: Arc<dyn Leadership>) -> TasksComponent {
        TasksComponent {
            leadership,
            scheduled: Mutex::new(HashMap::new()),
            serving: watch::Sender::new(false),
        }
    }

    /// The names of the tasks scheduled now (finished ones included), sorted.
    pub fn scheduled(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .scheduled
            .lock()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Whether `a` and `b` schedule the same thing (where they were read from does not count).
fn same_definition(a: &Task, b: &Task) -> bool {
    let properties = |t: &Task| -> Vec<(String, String, bool)> {
        t.properties
            .iter()
            .map(|p| (p.name.clone(), p.value.clone(), p.inline_xml))
            .collect()
    };
    a.name == b.name
        && a.class == b.class
        && a.group == b.group
        && a.pinned_servers == b.pinned_servers
        && a.trigger == b.trigger
        && a.injector == b.injector
        && properties(a) == properties(b)
}

impl Component for TasksComponent {
    fn published(&self, live: &LiveSwap) {
        let current = live.load_full();
        let Ok(mut scheduled) = self.scheduled.lock() else {
            return;
        };
        scheduled.retain(|name, s| {
            let kept = current
                .artifacts
                .tasks
                .iter()
                .any(|t| same_definition(t, &s.definition));
            if !kept {
                s.stop.cancel();
                tracing::info!(target: LOG, "Task deleted: [{TASK_TYPE}][{name}]");
            }
            kept
        });
        let new: Vec<&Task> = current
            .artifacts
            .tasks
            .iter()
            .filter(|t| !scheduled.contains_key(&t.name))
            .collect();
        if new.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(target: LOG, "no async runtime: {} task(s) not scheduled", new.len());
            return;
        };
        for task in new {
            if let Err(e) = Plan::new(&task.trigger, start_now()) {
                tracing::error!(target: LOG, "Error in scheduling task [{}]: {e}", task.name);
                continue;
            }
            if task.injector.invoke_handlers {
                tracing::warn!(target: LOG, "task {}: invokeHandlers=true has no effect (Conflux has no Synapse handlers)", task.name);
            }
            let stop = CancellationToken::new();
            let definition = Arc::new(task.clone());
            let fire = {
                let live = live.clone();
                let task = definition.clone();
                move || {
                    let live = live.load_full();
                    let task = task.clone();
                    async move {
                        match injector::fire(&task, &live).await {
                            Ok(status) => {
                                tracing::debug!(target: LOG, "task {} fired: {status}", task.name)
                            }
                            Err(e) => tracing::error!(target: LOG, "{e} (task {})", task.name),
                        }
                    }
                }
            };
            let mut serving = self.serving.subscribe();
            let (name, trigger, sequential) = (
                task.name.clone(),
                task.trigger.clone(),
                task.injector.sequential,
            );
            let leadership = self.leadership.clone();
            let stop_waiting = stop.clone();
            runtime.spawn(async move {
                tokio::select! {
                    () = stop_waiting.cancelled() => return,
                    open = serving.wait_for(|serving| *serving) => if open.is_err() { return },
                }
                // The plan starts when the server serves (a cron's next occurrence from then).
                if let Ok(plan) = Plan::new(&trigger, start_now()) {
                    run(name, plan, sequential, stop_waiting, leadership, fire).await;
                }
            });
            tracing::info!(target: LOG, "Task scheduled: [{TASK_TYPE}][{}].", task.name);
            scheduled.insert(
                task.name.clone(),
                Scheduled {
                    definition: task.clone(),
                    stop,
                },
            );
        }
    }

    fn started(&self) {
        self.serving.send_replace(true);
    }

    fn shutdown(&self) {
        if let Ok(mut scheduled) = self.scheduled.lock() {
            for (_, s) in scheduled.drain() {
                s.stop.cancel();
            }
        }
    }
}

/// The start of a plan made now.
fn start_now() -> Now {
    Now {
        elapsed: Duration::ZERO,
        wall: Local::now(),
    }
}

/// Runs one task's schedule until it is exhausted or `stop` is cancelled: sleeps until a firing
/// is due, asks `leadership`, waits for a free firing slot, and starts `fire()` (awaited in place
/// when `sequential`).
pub async fn run<F, Fut>(
    name: String,
    mut plan: Plan,
    sequential: bool,
    stop: CancellationToken,
    leadership: Arc<dyn Leadership>,
    fire: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let started = Instant::now();
    let now = || Now {
        elapsed: started.elapsed(),
        wall: Local::now(),
    };
    let slots = Arc::new(Semaphore::new(MAX_INFLIGHT_FIRINGS));
    loop {
        let Some(wait) = plan.wait(now()) else {
            tracing::info!(target: LOG, "Task [{name}] completed: fired {} time(s)", plan.fired());
            return;
        };
        if !wait.is_zero() {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait.min(MAX_SLEEP)) => continue,
            }
        }
        if !leadership.may_run(&name) {
            plan.advance(now(), false);
            continue;
        }
        let slot = tokio::select! {
            () = stop.cancelled() => return,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else {
            return;
        };
        if stop.is_cancelled() {
            return;
        }
        plan.advance(now(), true);
        let firing = fire();
        if sequential {
            firing.await;
            drop(slot);
        } else {
            tokio::spawn(async move {
                firing.await;
                drop(slot);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use conflux_artifacts::task::Trigger;
    use tokio::sync::Notify;

    fn plan(interval_ms: u64, count: Option<u64>) -> Plan {
        Plan::new(
            &Trigger::Simple { interval_ms, count },
            Now {
                elapsed: Duration::ZERO,
                wall: Local::now(),
            },
        )
        .unwrap()
    }

    /// Counts firings; each blocks until `release` is notified.
    #[derive(Default)]
    struct Probe {
        started: AtomicUsize,
        running: AtomicUsize,
        most_running: AtomicUsize,
        release: Notify,
    }

    fn blocking_fire(
        probe: &Arc<Probe>,
    ) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + use<> {
        let probe = probe.clone();
        move || {
            let probe = probe.clone();
            probe.started.fetch_add(1, Ordering::SeqCst);
            let now = probe.running.fetch_add(1, Ordering::SeqCst) + 1;
            probe.most_running.fetch_max(now, Ordering::SeqCst);
            Box::pin(async move {
                probe.release.notified().await;
                probe.running.fetch_sub(1, Ordering::SeqCst);
            })
        }
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_count_of_three_fires_three_times_the_first_at_once() {
        let fired = Arc::new(AtomicUsize::new(0));
        let f = fired.clone();
        let handle = tokio::spawn(run(
            "T".into(),
            plan(1000, Some(3)),
            false,
            CancellationToken::new(),
            Arc::new(Standalone),
            move || {
                f.fetch_add(1, Ordering::SeqCst);
                async {}
            },
        ));
        settle().await;
        assert_eq!(fired.load(Ordering::SeqCst), 1, "fired at once");
        tokio::time::advance(Duration::from_millis(999)).await;
        settle().await;
        assert_eq!(fired.load(Ordering::SeqCst), 1, "not before the interval");
        tokio::time::advance(Duration::from_millis(1)).await;
        settle().await;
        assert_eq!(fired.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(60)).await;
        handle.await.unwrap();
        assert_eq!(fired.load(Ordering::SeqCst), 3, "exactly the count");
    }

    #[tokio::test(start_paused = true)]
    async fn firings_in_flight_stop_at_the_limit_and_missed_slots_are_not_replayed() {
        let probe = Arc::new(Probe::default());
        let stop = CancellationToken::new();
        let handle = tokio::spawn(run(
            "T".into(),
            plan(1000, None),
            false,
            stop.clone(),
            Arc::new(Standalone),
            blocking_fire(&probe),
        ));
        // Far more slots pass than firings may be in flight.
        for _ in 0..(MAX_INFLIGHT_FIRINGS + 10) {
            settle().await;
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        settle().await;
        assert_eq!(probe.started.load(Ordering::SeqCst), MAX_INFLIGHT_FIRINGS);
        assert_eq!(
            probe.most_running.load(Ordering::SeqCst),
            MAX_INFLIGHT_FIRINGS
        );
        // One ends: the waiting firing (limit + 1) starts, once, not the ten slots it missed.
        probe.release.notify_one();
        settle().await;
        assert_eq!(
            probe.started.load(Ordering::SeqCst),
            MAX_INFLIGHT_FIRINGS + 1
        );
        tokio::time::advance(Duration::from_millis(999)).await;
        settle().await;
        assert_eq!(
            probe.started.load(Ordering::SeqCst),
            MAX_INFLIGHT_FIRINGS + 1
        );
        stop.cancel();
        handle.await.unwrap();
        probe.release.notify_waiters();
    }

    #[tokio::test(start_paused = true)]
    async fn a_sequential_task_waits_for_each_firing() {
        let probe = Arc::new(Probe::default());
        let stop = CancellationToken::new();
        let handle = tokio::spawn(run(
            "T".into(),
            plan(1000, None),
            true,
            stop.clone(),
            Arc::new(Standalone),
            blocking_fire(&probe),
        ));
        for _ in 0..5 {
            settle().await;
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        settle().await;
        assert_eq!(probe.started.load(Ordering::SeqCst), 1);
        probe.release.notify_one();
        settle().await;
        assert_eq!(
            probe.started.load(Ordering::SeqCst),
            2,
            "late: fires once at once"
        );
        assert_eq!(probe.most_running.load(Ordering::SeqCst), 1);
        stop.cancel();
        probe.release.notify_waiters();
        handle.await.unwrap();
    }

    struct Never;
    impl Leadership for Never {
        fn may_run(&self, _task: &str) -> bool {
            false
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_another_instance_owns_does_not_fire_here_and_stop_ends_the_loop() {
        let fired = Arc::new(AtomicUsize::new(0));
        let f = fired.clone();
        let stop = CancellationToken::new();
        let handle = tokio::spawn(run(
            "T".into(),
            plan(1000, Some(2)),
            false,
            stop.clone(),
            Arc::new(Never),
            move || {
                f.fetch_add(1, Ordering::SeqCst);
                async {}
            },
        ));
        for _ in 0..5 {
            settle().await;
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        assert!(
            !handle.is_finished(),
            "a let-go firing does not use up the count"
        );
        stop.cancel();
        handle.await.unwrap();
    }

    fn task(name: &str, interval: u32) -> Task {
        conflux_artifacts::task::parse_task(
            &format!("tasks/{name}.xml"),
            &format!(
                r#"<task xmlns="http://ws.apache.org/ns/synapse" name="{name}" class="org.apache.synapse.startup.tasks.MessageInjector"><trigger interval="{interval}"/></task>"#
            ),
        )
        .unwrap()
    }

    #[test]
    fn a_definition_read_from_elsewhere_is_the_same_and_a_new_trigger_is_not() {
        let a = task("A", 5);
        let mut moved = a.clone();
        moved.span = conflux_artifacts::span::Span::whole_file("carbonapps/x.car");
        moved.source = format!("  {}", a.source);
        assert!(same_definition(&a, &moved));
        assert!(!same_definition(&a, &task("A", 6)));
    }
}
