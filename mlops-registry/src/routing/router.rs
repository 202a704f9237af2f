//! The router: the serving route table behind an [`ArcSwap`], swapped atomically.

use std::sync::Arc;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use super::decision::{ConfigRevision, Decision};
use super::error::{Result, RoutingError};
use super::exposure::ExposureSnapshot;
use super::table::{Request, RouteTable};

/// Routes requests through the current [`RouteTable`] and swaps tables atomically.
///
/// - Readers never block: [`route`](Self::route) is an `ArcSwap` load (no lock, no allocation,
///   no system call once the thread has routed once), a hash and a table lookup.
/// - Writers ([`publish`](Self::publish), [`kill`](Self::kill)) serialize among themselves on a
///   mutex readers never touch. A replaced table is kept on a retire list and dropped by a later
///   writer once no reader holds it, so a table (and anything it owns) is never freed on the
///   request path.
///
/// ```
/// use mlops_registry::routing::{ConfigRevision, Reason, RouteTable, Router};
///
/// let router = Router::new(
///     RouteTable::builder("fraud@v3".parse()?)
///         .challenger("fraud@v4".parse()?, 25.0)
///         .build()?,
/// );
/// let d = router.route(b"user-17");
/// assert_eq!(d, router.route(b"user-17"), "sticky");
/// assert_eq!(d.reason, Reason::Hash);
///
/// let killed = router.kill();
/// let d = router.route(b"user-17");
/// assert!(d.is_champion());
/// assert_eq!((d.reason, d.revision), (Reason::KillSwitch, killed));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Router {
    current: Arc<ArcSwap<RouteTable>>,
    retired: Mutex<Vec<Arc<RouteTable>>>,
}

impl Router {
    /// A router serving `table`.
    #[must_use]
    pub fn new(table: RouteTable) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(table)),
            retired: Mutex::new(Vec::new()),
        }
    }

    /// Routes a unit id with no attributes. Never fails; allocates nothing.
    #[inline]
    pub fn route(&self, unit: &[u8]) -> Decision {
        self.current.load().route(&Request::new(unit))
    }

    /// Routes a request (unit id and attributes for segment rules). Never fails; allocates
    /// nothing.
    #[inline]
    pub fn route_request(&self, request: &Request<'_>) -> Decision {
        self.current.load().route(request)
    }

    /// The serving table.
    #[must_use]
    pub fn table(&self) -> Arc<RouteTable> {
        self.current.load_full()
    }

    /// The serving revision.
    #[must_use]
    pub fn revision(&self) -> ConfigRevision {
        self.current.load().revision()
    }

    /// The exposure counts of the serving revision.
    #[must_use]
    pub fn exposures(&self) -> ExposureSnapshot {
        self.current.load().exposures()
    }

    /// Makes `table` the serving table in one atomic step.
    ///
    /// # Errors
    /// [`RoutingError::StaleRevision`] unless its revision is newer than the serving one;
    /// [`RoutingError::WrongModel`] if it routes another model.
    pub fn publish(&self, table: RouteTable) -> Result<ConfigRevision> {
        let mut retired = self.retired.lock();
        let current = self.current.load();
        if table.model() != current.model() {
            return Err(RoutingError::WrongModel {
                expected: current.model().clone(),
                found: table.model().clone(),
            });
        }
        if table.revision() <= current.revision() {
            return Err(RoutingError::StaleRevision {
                current: current.revision().get(),
                proposed: table.revision().get(),
            });
        }
        drop(current);
        let revision = table.revision();
        let old = self.current.swap(Arc::new(table));
        tracing::info!(
            from = old.revision().get(),
            to = revision.get(),
            "route table published"
        );
        retired.push(old);
        Self::reclaim_locked(&mut retired);
        Ok(revision)
    }

    /// The kill switch: in one atomic step, every request goes to the champion (with
    /// [`Reason::KillSwitch`](super::Reason::KillSwitch)), at the next revision. Returns that
    /// revision. Publish a newer table to resume.
    pub fn kill(&self) -> ConfigRevision {
        let mut retired = self.retired.lock();
        let current = self.current.load_full();
        let revision = ConfigRevision::new(current.revision().get().saturating_add(1));
        let old = self.current.swap(Arc::new(current.killed(revision)));
        drop(current);
        tracing::warn!(revision = revision.get(), "routing kill switch engaged");
        retired.push(old);
        Self::reclaim_locked(&mut retired);
        revision
    }

    /// Drops retired tables no reader holds any more; returns how many are still held.
    pub fn reclaim(&self) -> usize {
        let mut retired = self.retired.lock();
        Self::reclaim_locked(&mut retired);
        retired.len()
    }

    fn reclaim_locked(retired: &mut Vec<Arc<RouteTable>>) {
        // `ArcSwap::swap` has already turned every reader's borrow of the old table into a real
        // reference, so a count of one means only this list holds it.
        retired.retain(|t| Arc::strong_count(t) > 1);
    }

    /// The shared cell, for components (the shadow runner) that read the serving table.
    pub(crate) fn cell(&self) -> Arc<ArcSwap<RouteTable>> {
        Arc::clone(&self.current)
    }
}
