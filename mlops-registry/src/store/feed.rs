//! The change feed: how a process learns that a model changed in the store without polling
//! every aggregate (capability [`Capability::ChangeFeed`](super::Capability::ChangeFeed)).
//!
//! [`ModelStore::subscribe`](super::ModelStore::subscribe) returns a [`ChangeFeed`]; each
//! [`ChangeFeed::next`] waits (up to a timeout) for a [`ChangeEvent`]:
//!
//! - [`ChangeEvent::Changed`]: `model` reached `revision` (or a later one) in the store. A
//!   feed may coalesce several commits of one model into one notification and may repeat one;
//!   it never reports a revision the store does not hold. Notifications arrive in commit order
//!   per model.
//! - [`ChangeEvent::Lagged`]: the feed may have missed notifications (a bounded buffer
//!   overflowed, the connection to the server was re-established): re-read what you follow.
//!
//! Subscribe first, then read the state you follow, so no change falls between the two.
//! [`InMemoryStore`](super::InMemoryStore) delivers directly, `SqliteStore` (feature `sqlite`)
//! by polling SQLite's `data_version`, `PostgresStore` (feature `postgres`) through
//! `LISTEN`/`NOTIFY`; the route watcher ([`RouteWatcher`](crate::routing::RouteWatcher))
//! follows it to hot-swap routers in every replica.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mlops_core::ModelName;
use parking_lot::{Condvar, Mutex};

use crate::error::Result;
use crate::model::Revision;

/// One change: `model` is at `revision` (or later) in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Change {
    /// The model that changed.
    pub model: ModelName,
    /// Its revision after the change.
    pub revision: Revision,
}

/// What a [`ChangeFeed`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeEvent {
    /// A model changed.
    Changed(Change),
    /// Notifications may have been missed: re-read everything you follow.
    Lagged,
}

/// A subscription to a store's changes (see the [module docs](self)).
pub trait ChangeFeed: Send {
    /// Waits up to `timeout` for the next event; `Ok(None)` when none came in time.
    ///
    /// # Errors
    /// [`RegistryError::Unavailable`](crate::RegistryError::Unavailable) or
    /// [`RegistryError::Storage`](crate::RegistryError::Storage) when the backend cannot be
    /// reached; the next call tries again (and reports [`ChangeEvent::Lagged`] once it
    /// succeeds, since changes may have been missed meanwhile).
    fn next(&mut self, timeout: Duration) -> Result<Option<ChangeEvent>>;
}

impl<F: ChangeFeed + ?Sized> ChangeFeed for Box<F> {
    fn next(&mut self, timeout: Duration) -> Result<Option<ChangeEvent>> {
        (**self).next(timeout)
    }
}

/// How many changes an in-process hub keeps for slow subscribers before they lag.
pub(crate) const HUB_CAPACITY: usize = 1024;

#[derive(Debug, Default)]
struct HubState {
    /// The sequence number the next published change gets.
    next: u64,
    /// The last changes, oldest first; the front has sequence `next - ring.len()`.
    ring: VecDeque<Change>,
}

/// A bounded in-process broadcast of changes: publishers never block or allocate beyond the
/// ring; a subscriber that falls more than [`HUB_CAPACITY`] changes behind gets
/// [`ChangeEvent::Lagged`].
#[derive(Debug, Default)]
pub(crate) struct ChangeHub {
    state: Mutex<HubState>,
    cond: Condvar,
}

impl ChangeHub {
    pub(crate) fn publish(&self, change: Change) {
        let mut s = self.state.lock();
        if s.ring.len() >= HUB_CAPACITY {
            s.ring.pop_front();
        }
        s.ring.push_back(change);
        s.next += 1;
        drop(s);
        self.cond.notify_all();
    }

    /// A cursor at the current end: it sees changes published from now on.
    pub(crate) fn cursor(&self) -> u64 {
        self.state.lock().next
    }

    /// The event at `cursor` (advancing it), waiting up to `timeout`.
    pub(crate) fn next(&self, cursor: &mut u64, timeout: Duration) -> Option<ChangeEvent> {
        let deadline = Instant::now() + timeout;
        let mut s = self.state.lock();
        loop {
            let oldest = s.next - s.ring.len() as u64;
            if *cursor < oldest {
                *cursor = s.next;
                return Some(ChangeEvent::Lagged);
            }
            if *cursor < s.next {
                let idx = usize::try_from(*cursor - oldest).unwrap_or(usize::MAX);
                let change = s.ring.get(idx).cloned();
                *cursor += 1;
                if let Some(c) = change {
                    return Some(ChangeEvent::Changed(c));
                }
                continue;
            }
            if self.cond.wait_until(&mut s, deadline).timed_out() && *cursor >= s.next {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: u64) -> Change {
        Change {
            model: ModelName::new("m").unwrap(),
            revision: Revision::from_u64(n),
        }
    }

    #[test]
    fn hub_delivers_in_order_and_reports_lag() {
        let hub = ChangeHub::default();
        let mut c = hub.cursor();
        assert_eq!(hub.next(&mut c, Duration::from_millis(1)), None);
        hub.publish(change(1));
        hub.publish(change(2));
        assert_eq!(
            hub.next(&mut c, Duration::ZERO),
            Some(ChangeEvent::Changed(change(1)))
        );
        assert_eq!(
            hub.next(&mut c, Duration::ZERO),
            Some(ChangeEvent::Changed(change(2)))
        );
        for i in 0..(HUB_CAPACITY as u64 + 5) {
            hub.publish(change(i));
        }
        assert_eq!(hub.next(&mut c, Duration::ZERO), Some(ChangeEvent::Lagged));
        assert_eq!(hub.next(&mut c, Duration::ZERO), None);
    }

    #[test]
    fn hub_wakes_a_waiting_subscriber() {
        let hub = std::sync::Arc::new(ChangeHub::default());
        let mut c = hub.cursor();
        let h = std::sync::Arc::clone(&hub);
        let t = std::thread::spawn(move || h.next(&mut c, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        hub.publish(change(7));
        assert_eq!(t.join().unwrap(), Some(ChangeEvent::Changed(change(7))));
    }
}
