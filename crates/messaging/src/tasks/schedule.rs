//! When a task fires next, with time passed in (no clock, no sleeping), so the rules are tested
//! directly. A simple trigger fires at once and then on a grid of `interval` (MI's ntask
//! `AbstractQuartzTaskManager`: `startNow()`, `SimpleScheduleBuilder.withRepeatCount(count - 1)`,
//! `repeatForever()` for `count="-1"`); a cron trigger fires at the occurrences of its Quartz
//! expression in the server's local time zone (Quartz uses the JVM default zone).
//!
//! Neither catches up: a firing that could not start on time (every permit in use, the process
//! paused) happens once, late, and the slots it missed are dropped, never replayed in a burst.
//! After a late simple firing the grid restarts from it, so two firings are never planned closer
//! than `interval`.

use std::time::Duration;

use chrono::{DateTime, Local};
use conflux_artifacts::task::{Trigger, quartz_cron};

/// The times of one task's firings.
#[derive(Debug, Clone)]
pub enum Plan {
    Simple(SimplePlan),
    /// Boxed: a parsed cron expression is several hundred bytes.
    Cron(Box<CronPlan>),
}

/// What [`Plan`] needs to know about now: the time since the task was scheduled (monotonic) and
/// the wall clock (for cron).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub elapsed: Duration,
    pub wall: DateTime<Local>,
}

/// A cron expression that Quartz reads but the schedule cannot (refused at deploy already; kept
/// for a definition that reaches the scheduler another way).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression \"{expression}\": {why}")]
pub struct BadCron {
    pub expression: String,
    pub why: String,
}

impl Plan {
    /// The plan of `trigger`, starting `now`.
    ///
    /// # Errors
    /// A cron expression that does not parse.
    pub fn new(trigger: &Trigger, now: Now) -> Result<Plan, BadCron> {
        match trigger {
            Trigger::Simple { interval_ms, count } => Ok(Plan::Simple(SimplePlan::new(
                Duration::from_millis(*interval_ms),
                *count,
                now.elapsed,
            ))),
            Trigger::Cron(expression) => {
                let cron = quartz_cron(expression).map_err(|why| BadCron {
                    expression: expression.clone(),
                    why,
                })?;
                Ok(Plan::Cron(Box::new(CronPlan::new(cron, now.wall))))
            }
        }
    }

    /// How long until the next firing is due (zero when it is due or late); `None` when the
    /// trigger is exhausted.
    pub fn wait(&self, now: Now) -> Option<Duration> {
        match self {
            Plan::Simple(p) => p.wait(now.elapsed),
            Plan::Cron(p) => p.wait(now.wall),
        }
    }

    /// The due firing happened (`counted`) or was let go (another instance runs the task), at
    /// `now`: plan the next one.
    pub fn advance(&mut self, now: Now, counted: bool) {
        match self {
            Plan::Simple(p) => p.advance(now.elapsed, counted),
            Plan::Cron(p) => p.advance(now.wall),
        }
    }

    /// Firings that happened (for a simple trigger with a count, the count it is held to).
    pub fn fired(&self) -> u64 {
        match self {
            Plan::Simple(p) => p.fired,
            Plan::Cron(p) => p.fired,
        }
    }
}

/// `interval` and `count` firings (`None`: forever); the first at once.
#[derive(Debug, Clone)]
pub struct SimplePlan {
    interval: Duration,
    count: Option<u64>,
    fired: u64,
    /// When the next firing is planned, as time since the task was scheduled; `None` once the
    /// count is reached.
    next: Option<Duration>,
}

impl SimplePlan {
    pub fn new(interval: Duration, count: Option<u64>, start: Duration) -> SimplePlan {
        SimplePlan {
            interval,
            count,
            fired: 0,
            next: (count != Some(0)).then_some(start),
        }
    }

    fn wait(&self, elapsed: Duration) -> Option<Duration> {
        self.next.map(|next| next.saturating_sub(elapsed))
    }

    fn advance(&mut self, elapsed: Duration, counted: bool) {
        let Some(planned) = self.next else {
            return;
        };
        if counted {
            self.fired += 1;
        }
        if self.count.is_some_and(|c| self.fired >= c) {
            self.next = None;
            return;
        }
        let on_grid = planned.saturating_add(self.interval);
        // A firing that started after the slot following it missed that slot: restart the grid
        // from the late firing instead of firing again at once.
        self.next = Some(if on_grid > elapsed {
            on_grid
        } else {
            elapsed.saturating_add(self.interval)
        });
    }
}

/// The occurrences of a Quartz cron expression.
#[derive(Debug, Clone)]
pub struct CronPlan {
    cron: croner::Cron,
    fired: u64,
    /// The next occurrence; `None` when the expression has no more (a past year).
    next: Option<DateTime<Local>>,
}

impl CronPlan {
    pub fn new(cron: croner::Cron, wall: DateTime<Local>) -> CronPlan {
        let next = cron.find_next_occurrence(&wall, false).ok();
        CronPlan {
            cron,
            fired: 0,
            next,
        }
    }

    fn wait(&self, wall: DateTime<Local>) -> Option<Duration> {
        self.next
            .map(|next| (next - wall).to_std().unwrap_or(Duration::ZERO))
    }

    fn advance(&mut self, wall: DateTime<Local>) {
        let Some(planned) = self.next else {
            return;
        };
        self.fired += 1;
        // The occurrence after the firing: the ones it was late for are dropped.
        let from = planned.max(wall);
        self.next = self.cron.find_next_occurrence(&from, false).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn at(elapsed: Duration) -> Now {
        Now {
            elapsed,
            wall: Local::now(),
        }
    }

    #[test]
    fn a_simple_trigger_fires_at_once_then_count_times_on_its_grid() {
        let mut p = Plan::new(
            &Trigger::Simple {
                interval_ms: 1000,
                count: Some(3),
            },
            at(secs(10)),
        )
        .unwrap();
        assert_eq!(p.wait(at(secs(10))), Some(Duration::ZERO));
        p.advance(at(Duration::from_millis(10_020)), true);
        // On the grid: 11 s, not 11.02 s.
        assert_eq!(p.wait(at(secs(10))), Some(secs(1)));
        assert_eq!(
            p.wait(at(Duration::from_millis(10_500))),
            Some(Duration::from_millis(500))
        );
        p.advance(at(secs(11)), true);
        p.advance(at(secs(12)), true);
        assert_eq!(p.fired(), 3);
        assert_eq!(p.wait(at(secs(100))), None, "exhausted after count firings");
    }

    #[test]
    fn a_late_simple_firing_drops_missed_slots_and_restarts_the_grid() {
        let mut p = SimplePlan::new(secs(1), None, Duration::ZERO);
        p.advance(Duration::ZERO, true);
        // The 1 s firing only starts at 5.5 s (a pause): it fires once, then 6.5 s, not 2, 3, 4, 5.
        assert_eq!(p.wait(Duration::from_millis(5_500)), Some(Duration::ZERO));
        p.advance(Duration::from_millis(5_500), true);
        assert_eq!(
            p.wait(Duration::from_millis(5_500)),
            Some(secs(1)),
            "never two firings planned closer than the interval"
        );
        assert_eq!(p.fired, 2);
    }

    #[test]
    fn a_let_go_firing_is_not_counted_but_moves_on() {
        let mut p = SimplePlan::new(secs(1), Some(2), Duration::ZERO);
        p.advance(Duration::ZERO, false);
        p.advance(secs(1), true);
        assert_eq!(p.fired, 1);
        assert_eq!(p.wait(secs(1)), Some(secs(1)));
        p.advance(secs(2), true);
        assert_eq!(p.wait(secs(2)), None);
    }

    #[test]
    fn forever_never_ends_and_huge_intervals_do_not_overflow() {
        let mut p = SimplePlan::new(Duration::from_millis(u64::MAX), None, Duration::ZERO);
        p.advance(Duration::ZERO, true);
        assert!(p.wait(secs(1)).is_some());
        p.advance(Duration::MAX, true);
        assert!(p.wait(Duration::MAX).is_some());
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Local> {
        Local.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
    }

    fn cron(expression: &str, from: DateTime<Local>) -> CronPlan {
        CronPlan::new(quartz_cron(expression).unwrap(), from)
    }

    #[test]
    fn cron_every_two_seconds_in_quartz_syntax() {
        let start = local(2030, 3, 4, 10, 0, 1);
        let mut p = cron("0/2 * * * * ?", start);
        assert_eq!(p.next, Some(local(2030, 3, 4, 10, 0, 2)));
        assert_eq!(p.wait(start), Some(secs(1)));
        p.advance(local(2030, 3, 4, 10, 0, 2));
        assert_eq!(p.next, Some(local(2030, 3, 4, 10, 0, 4)));
    }

    #[test]
    fn a_late_cron_firing_skips_the_occurrences_it_missed() {
        let mut p = cron("* * * * * ?", local(2030, 3, 4, 10, 0, 0));
        // Fired 30 s late: the next occurrence is after the firing, not the 29 missed ones.
        p.advance(local(2030, 3, 4, 10, 0, 31));
        assert_eq!(p.next, Some(local(2030, 3, 4, 10, 0, 32)));
        assert_eq!(p.fired, 1);
    }

    #[test]
    fn quartz_weekdays_count_from_sunday_and_question_mark_means_no_day_of_month() {
        // Quartz: 2 is Monday. 2030-03-04 is a Monday.
        let mut p = cron("0 30 9 ? * 2", local(2030, 3, 1, 0, 0, 0));
        for _ in 0..3 {
            let next = p.next.unwrap();
            assert_eq!(next.weekday(), Weekday::Mon, "{next}");
            assert_eq!((next.hour(), next.minute(), next.second()), (9, 30, 0));
            p.advance(next);
        }
        let p = cron("0 0 12 ? * MON-FRI", local(2030, 3, 2, 0, 0, 0));
        assert_eq!(
            p.next,
            Some(local(2030, 3, 4, 12, 0, 0)),
            "Saturday 2nd: Monday next"
        );
        // Day of month with `?` in day of week.
        let p = cron("0 0 0 15 * ?", local(2030, 3, 16, 0, 0, 0));
        assert_eq!(p.next, Some(local(2030, 4, 15, 0, 0, 0)));
    }

    #[test]
    fn a_cron_with_no_future_occurrence_is_exhausted() {
        let p = cron("0 0 0 1 1 ? 2030", local(2031, 1, 1, 0, 0, 0));
        assert_eq!(p.wait(local(2031, 1, 1, 0, 0, 0)), None);
    }
}
