//! Rate-limited log lines: where input can repeat an event (a bad
//! entitlement per record, a broker that keeps failing), at most one line
//! per kind per interval, carrying the count of the lines suppressed since.
//! The metric of such an event still counts every occurrence.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default interval between two lines of one kind.
pub const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Where the limiter reads the time (a fake one in tests).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

#[derive(Debug, Default)]
struct Slot {
    last: Option<Instant>,
    suppressed: u64,
}

/// One slot per kind of line.
pub struct RateLimiter {
    interval: Duration,
    clock: Clock,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(LOG_INTERVAL, Arc::new(Instant::now))
    }
}

impl RateLimiter {
    pub fn new(interval: Duration, clock: Clock) -> RateLimiter {
        RateLimiter { interval, clock, slots: Mutex::new(HashMap::new()) }
    }

    /// `Some(suppressed)` when a line of `kind` may be written now, with the
    /// number of lines of that kind suppressed since the last one; else None
    /// (and this one is counted as suppressed).
    pub fn check(&self, kind: &str) -> Option<u64> {
        let now = (self.clock)();
        let Ok(mut slots) = self.slots.lock() else { return Some(0) };
        let slot = match slots.get_mut(kind) {
            Some(s) => s,
            None => slots.entry(kind.to_string()).or_default(),
        };
        match slot.last {
            Some(last) if now.saturating_duration_since(last) < self.interval => {
                slot.suppressed += 1;
                None
            }
            _ => {
                slot.last = Some(now);
                Some(std::mem::take(&mut slot.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock that moves only when told.
    pub(crate) fn fake_clock() -> (Clock, Arc<Mutex<Instant>>) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let n = now.clone();
        (Arc::new(move || *n.lock().unwrap()), now)
    }

    #[test]
    fn one_line_per_kind_per_interval_with_the_count_suppressed() {
        let (clock, now) = fake_clock();
        let limiter = RateLimiter::new(Duration::from_secs(5), clock);
        assert_eq!(limiter.check("a"), Some(0));
        assert_eq!(limiter.check("a"), None);
        assert_eq!(limiter.check("a"), None);
        assert_eq!(limiter.check("b"), Some(0), "kinds are limited on their own");
        *now.lock().unwrap() += Duration::from_secs(4);
        assert_eq!(limiter.check("a"), None);
        *now.lock().unwrap() += Duration::from_secs(1);
        assert_eq!(limiter.check("a"), Some(3), "three lines were suppressed since the last");
        assert_eq!(limiter.check("a"), None);
    }
}
