//! Injected time. Library code never calls `Utc::now()` directly: it asks a [`Clock`], so tests
//! can replay any decision at any instant.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use parking_lot::Mutex;

/// A source of the current time (UTC).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move; for tests. Clones share the same time.
///
/// ```
/// use mlops_core::{Clock, ManualClock};
/// use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// clock.advance(TimeDelta::days(7));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 1, 8, 0, 0, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Sets the time, forwards or backwards.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock() = to;
    }

    /// Moves the time by `by` (which may be negative), saturating at chrono's range.
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.now.lock();
        *now = now.checked_add_signed(by).unwrap_or(*now);
    }
}

impl Default for ManualClock {
    /// A clock at the Unix epoch.
    fn default() -> Self {
        Self::new(DateTime::<Utc>::UNIX_EPOCH)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock()
    }
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<T: Clock + ?Sized> Clock for Box<T> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_by_clones_and_usable_as_dyn() {
        let c = ManualClock::default();
        let shared: Arc<dyn Clock> = Arc::new(c.clone());
        c.advance(TimeDelta::seconds(90));
        assert_eq!(shared.now().timestamp(), 90);
        c.set(DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(shared.now().timestamp(), 0);
        c.advance(TimeDelta::MAX);
        assert_eq!(
            shared.now().timestamp(),
            0,
            "overflow saturates instead of panicking"
        );
    }

    #[test]
    fn system_clock_moves_forward() {
        let a = SystemClock.now();
        let by_ref: &dyn Clock = &SystemClock;
        let b = by_ref.now();
        assert!(b >= a);
    }
}
