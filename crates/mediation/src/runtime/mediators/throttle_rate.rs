//! The throttle mediator's state machines, free of I/O and clocks (time is passed in, in
//! milliseconds), so they are tested without sleeping:
//!
//! - [`CallerWindow`]: the access-rate window of one caller, as the throttle core's
//!   `CallerContext.canAccess` keeps it (`canAccessIfUnitTimeNotOver` / `canAccessIfUnitTimeOver`):
//!   the first access opens a window of `UnitTime`; up to `MaximumCount` messages pass in it; the
//!   next one is refused and starts a prohibition, until `first access + UnitTime` when
//!   `ProhibitTimePeriod` is 0, else `now + ProhibitTimePeriod`; a message after the window (or
//!   after the prohibition) starts a new window and counts as its first. `MaximumCount` 0 passes
//!   nothing.
//! - [`CallerTable`]: the windows of the callers one throttle tracks, at most
//!   [`MAX_TRACKED_CALLERS`]. MI's `ThrottleContext` keeps every caller until a cleanup pass
//!   (`CallerContext.cleanUpCallers`: window over and not prohibited); here a new caller that
//!   would pass the cap first drops the callers whose state no longer matters (as that cleanup),
//!   then, if still full, the one whose window ends first.
//! - [`ConcurrencyGate`]: `MaximumConcurrentAccess` as `ConcurrentAccessController`: a counter of
//!   free slots starting at the limit; a message takes one ([`ConcurrencyGate::try_acquire`]) and
//!   gives it back when its permit is dropped (MI increments it when the response goes back to
//!   the client, in `Axis2Sender.handleConcurrentThrottleCount`, on a fault, a timeout or an
//!   out-only send); the counter never passes the limit.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The most callers one throttle mediator tracks windows for. MI keys a window by the artifact
/// and the policy entry a caller matched, so a deployment needs few; the cap keeps memory
/// bounded whatever reaches it.
pub const MAX_TRACKED_CALLERS: usize = 10_000;

/// `Control`: at most `max_count` per `unit_time_ms`, then `prohibit_ms` (0: rest of the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateControl {
    pub max_count: u32,
    pub unit_time_ms: u64,
    pub prohibit_ms: u64,
}

/// One caller's window (CallerContext's firstAccessTime, nextTimeWindow, nextAccessTime and
/// count; `None` for a time MI keeps as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallerWindow {
    first_access: u64,
    window_end: u64,
    /// The end of a prohibition; None when the caller is not prohibited.
    prohibited_until: Option<u64>,
    count: u64,
    started: bool,
}

impl CallerWindow {
    /// Whether a message at `now` may pass; counts it when it does.
    pub fn can_access(&mut self, control: &RateControl, now: u64) -> bool {
        if !self.started {
            // initAccess: the first access opens the window (and is counted below).
            self.started = true;
            self.first_access = now;
            self.window_end = now.saturating_add(control.unit_time_ms);
        }
        if control.max_count == 0 {
            return false;
        }
        let max = u64::from(control.max_count);
        if self.window_end > now {
            // canAccessIfUnitTimeNotOver
            if self.count < max {
                self.count += 1;
                return true;
            }
            match self.prohibited_until {
                None => {
                    self.prohibited_until = Some(if control.prohibit_ms == 0 {
                        self.first_access.saturating_add(control.unit_time_ms)
                    } else {
                        now.saturating_add(control.prohibit_ms)
                    });
                    false
                }
                Some(until) if until <= now => {
                    self.restart(control, now);
                    true
                }
                Some(_) => false,
            }
        } else {
            // canAccessIfUnitTimeOver
            if self.count < max || self.prohibited_until.is_none_or(|until| until <= now) {
                self.restart(control, now);
                true
            } else {
                false
            }
        }
    }

    /// A new window whose first message is this one.
    fn restart(&mut self, control: &RateControl, now: u64) {
        self.prohibited_until = None;
        self.count = 1;
        self.first_access = now;
        self.window_end = now.saturating_add(control.unit_time_ms);
    }

    /// Whether forgetting this window changes nothing: it is over and the caller is not
    /// prohibited, so its next message would start a new window anyway.
    fn is_stale(&self, now: u64) -> bool {
        self.window_end <= now && self.prohibited_until.is_none_or(|until| until <= now)
    }
}

/// The windows of the callers one throttle tracks, bounded by a cap.
#[derive(Debug)]
pub struct CallerTable<K> {
    windows: HashMap<K, CallerWindow>,
    cap: usize,
}

impl<K: Eq + Hash + Clone> Default for CallerTable<K> {
    fn default() -> Self {
        CallerTable::with_cap(MAX_TRACKED_CALLERS)
    }
}

impl<K: Eq + Hash + Clone> CallerTable<K> {
    pub fn with_cap(cap: usize) -> Self {
        CallerTable {
            windows: HashMap::new(),
            cap: cap.max(1),
        }
    }

    /// Whether `caller`'s message at `now` may pass under `control`.
    pub fn can_access(&mut self, caller: &K, control: &RateControl, now: u64) -> bool {
        if let Some(window) = self.windows.get_mut(caller) {
            return window.can_access(control, now);
        }
        if self.windows.len() >= self.cap {
            self.make_room(now);
        }
        let mut window = CallerWindow::default();
        let allowed = window.can_access(control, now);
        self.windows.insert(caller.clone(), window);
        allowed
    }

    /// How many callers are tracked.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Drops the stale windows; when none is stale, the one that ends first.
    fn make_room(&mut self, now: u64) {
        self.windows.retain(|_, w| !w.is_stale(now));
        if self.windows.len() < self.cap {
            return;
        }
        if let Some(oldest) = self
            .windows
            .iter()
            .min_by_key(|(_, w)| w.prohibited_until.unwrap_or(0).max(w.window_end))
            .map(|(k, _)| k.clone())
        {
            self.windows.remove(&oldest);
        }
    }
}

/// `MaximumConcurrentAccess`: free slots, shared by the messages in flight through a throttle.
#[derive(Debug)]
pub struct ConcurrencyGate {
    limit: u32,
    free: AtomicU32,
}

/// A slot of a [`ConcurrencyGate`], given back when dropped.
#[derive(Debug)]
pub struct ConcurrencyPermit(Arc<ConcurrencyGate>);

impl ConcurrencyGate {
    pub fn new(limit: u32) -> Arc<ConcurrencyGate> {
        Arc::new(ConcurrencyGate {
            limit,
            free: AtomicU32::new(limit),
        })
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Free slots now.
    pub fn available(&self) -> u32 {
        self.free.load(Ordering::Acquire)
    }

    /// Takes a slot (`getAndDecrement`, which never goes below 0); None when none is free.
    pub fn try_acquire(self: &Arc<Self>) -> Option<ConcurrencyPermit> {
        self.free
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                free.checked_sub(1)
            })
            .ok()
            .map(|_| ConcurrencyPermit(self.clone()))
    }
}

impl Drop for ConcurrencyPermit {
    fn drop(&mut self) {
        // incrementAndGet: never above the limit.
        let gate = &self.0;
        let _ = gate
            .free
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                (free < gate.limit).then_some(free + 1)
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(max_count: u32, unit_time_ms: u64, prohibit_ms: u64) -> RateControl {
        RateControl {
            max_count,
            unit_time_ms,
            prohibit_ms,
        }
    }

    fn run(w: &mut CallerWindow, c: &RateControl, times: &[u64]) -> Vec<bool> {
        times.iter().map(|t| w.can_access(c, *t)).collect()
    }

    // CallerContext: MaximumCount per UnitTime from the first access; with no prohibit time the
    // caller waits for the window's end, and the next message opens a new window.
    #[test]
    fn a_window_passes_max_count_then_waits_for_its_end() {
        let c = control(2, 1000, 0);
        let mut w = CallerWindow::default();
        assert_eq!(
            run(&mut w, &c, &[100, 200, 300, 1099, 1100, 1101, 1102]),
            [true, true, false, false, true, true, false]
        );
    }

    // With ProhibitTimePeriod the refusal lasts that long from the first refused message, even
    // inside the window; then a new window starts.
    #[test]
    fn a_prohibit_period_starts_at_the_first_refusal() {
        let c = control(1, 10_000, 500);
        let mut w = CallerWindow::default();
        assert_eq!(
            run(&mut w, &c, &[0, 100, 599, 600, 601]),
            [true, false, false, true, false]
        );
        // A prohibition longer than the window outlasts it.
        let c = control(1, 100, 1000);
        let mut w = CallerWindow::default();
        assert_eq!(
            run(&mut w, &c, &[0, 50, 200, 1049, 1050]),
            [true, false, false, false, true]
        );
    }

    // Unit time over with the quota not used up: a new window (canAccessIfUnitTimeOver).
    #[test]
    fn an_unused_quota_is_not_carried_over() {
        let c = control(3, 100, 0);
        let mut w = CallerWindow::default();
        assert_eq!(
            run(&mut w, &c, &[0, 150, 160, 170, 180]),
            [true, true, true, true, false]
        );
    }

    #[test]
    fn max_count_zero_passes_nothing() {
        let c = control(0, 100, 0);
        let mut w = CallerWindow::default();
        assert_eq!(run(&mut w, &c, &[0, 1000, 5000]), [false, false, false]);
    }

    // The cap on tracked callers, at the limit and one past it.
    #[test]
    fn the_caller_table_is_bounded_at_the_cap() {
        let c = control(1, 1000, 0);
        let mut table = CallerTable::default();
        for caller in 0..MAX_TRACKED_CALLERS {
            assert!(table.can_access(&caller, &c, 0));
        }
        assert_eq!(table.len(), MAX_TRACKED_CALLERS);
        // Caller limit + 1 while every window is live: the window that ends first goes.
        assert!(table.can_access(&MAX_TRACKED_CALLERS, &c, 10));
        assert_eq!(table.len(), MAX_TRACKED_CALLERS);
        // The newest callers keep their state: the second message in the window is refused.
        assert!(!table.can_access(&MAX_TRACKED_CALLERS, &c, 20));
        // Once the windows are over, a new caller drops all the stale ones.
        assert!(table.can_access(&(MAX_TRACKED_CALLERS + 1), &c, 5000));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_prohibited_caller_is_not_stale() {
        let c = control(1, 100, 10_000);
        let mut table = CallerTable::with_cap(2);
        assert!(table.can_access(&"a", &c, 0));
        assert!(!table.can_access(&"a", &c, 1));
        assert!(table.can_access(&"b", &c, 0));
        // At 500 both windows are over; "a" is still prohibited, "b" is stale and goes.
        assert!(table.can_access(&"c", &c, 500));
        assert_eq!(table.len(), 2);
        assert!(!table.can_access(&"a", &c, 600));
    }

    // ConcurrentAccessController: the counter starts at the limit, a refused message takes
    // nothing, a returned slot never raises it past the limit.
    #[test]
    fn the_gate_gives_limit_slots_and_takes_them_back_on_drop() {
        let gate = ConcurrencyGate::new(2);
        let a = gate.try_acquire().unwrap();
        let b = gate.try_acquire().unwrap();
        assert!(gate.try_acquire().is_none());
        assert_eq!(gate.available(), 0);
        drop(a);
        assert_eq!(gate.available(), 1);
        let c = gate.try_acquire().unwrap();
        drop(b);
        drop(c);
        assert_eq!((gate.available(), gate.limit()), (2, 2));
    }
}
