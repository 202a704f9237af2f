//! [`RouteWatcher`]: keeps a [`Router`] on the registry's current aliases, across processes.
//!
//! A background thread follows the store's change feed (see [`crate::store::feed`]); when the
//! model it watches changes, it re-reads the aliases ([`AliasRoutes`]), and if the aliases the
//! table is built from moved (the champion was promoted or rolled back in any replica), builds
//! the new table with the host's function and publishes it: one atomic swap, so every request
//! is routed by the old table or by the new one, never by a mix. Unrelated commits (a tag, a new
//! version) publish nothing, so exposure counters are not reset by them.
//!
//! A store without a feed is polled instead. When the store is unreachable the router keeps
//! serving its last table; the watcher records the error in its [`WatchStatus`], retries, and
//! reloads once the store answers again (it also reloads every
//! [`resync_every`](RouteWatcherBuilder::resync_every) as a safety net).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mlops_core::ModelName;
use parking_lot::Mutex;

use super::aliases::AliasRoutes;
use super::decision::ConfigRevision;
use super::error::{Result, RoutingError};
use super::router::Router;
use super::table::RouteTable;
use crate::model::Revision;
use crate::store::{Capability, ChangeEvent, ChangeFeed, ModelStore};

/// Builds the route table from the model's aliases (the host's routing policy).
pub type TableFn = dyn Fn(&AliasRoutes) -> Result<RouteTable> + Send + Sync;

/// How the watcher learns of changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Following {
    /// The store's change feed.
    Feed,
    /// Polling (the store has no feed, or it could not be started yet).
    Polling,
}

/// What a [`RouteWatcher`] has done so far.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WatchStatus {
    /// The revision the router serves.
    pub serving: ConfigRevision,
    /// The newest model revision the watcher has read.
    pub seen: Option<Revision>,
    /// Reads of the model's aliases.
    pub reloads: u64,
    /// Tables published.
    pub published: u64,
    /// Failed reads, builds or feed waits.
    pub failures: u64,
    /// The last failure, cleared by the next successful reload.
    pub last_error: Option<RoutingError>,
    /// Feed or polling.
    pub following: Following,
}

/// Builds a [`RouteWatcher`]: the store, the model and the router up front.
pub struct RouteWatcherBuilder {
    store: Arc<dyn ModelStore>,
    model: ModelName,
    router: Arc<Router>,
    table: Arc<TableFn>,
    resync_every: Duration,
    retry_after: Duration,
    poll_every: Duration,
}

impl std::fmt::Debug for RouteWatcherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteWatcherBuilder")
            .field("model", &self.model)
            .field("resync_every", &self.resync_every)
            .finish_non_exhaustive()
    }
}

impl RouteWatcherBuilder {
    /// How the table is built from the aliases (default: the `champion` alias alone,
    /// [`AliasRoutes::builder`]).
    #[must_use]
    pub fn table(
        mut self,
        build: impl Fn(&AliasRoutes) -> Result<RouteTable> + Send + Sync + 'static,
    ) -> Self {
        self.table = Arc::new(build);
        self
    }

    /// How often the aliases are re-read even without a notification (default 30 s).
    #[must_use]
    pub fn resync_every(mut self, every: Duration) -> Self {
        self.resync_every = every.max(Duration::from_millis(10));
        self
    }

    /// How long to wait before retrying after a failure (default 250 ms).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after.max(Duration::from_millis(1));
        self
    }

    /// How often a store without a change feed is polled (default 1 s).
    #[must_use]
    pub fn poll_every(mut self, every: Duration) -> Self {
        self.poll_every = every.max(Duration::from_millis(1));
        self
    }

    /// Starts the watcher thread. It subscribes to the feed before its first read, so no
    /// change falls in between.
    ///
    /// # Errors
    /// [`RoutingError::WorkerSpawn`] if the thread cannot be started.
    pub fn spawn(self) -> Result<RouteWatcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let status = Arc::new(Mutex::new(WatchStatus {
            serving: self.router.revision(),
            seen: None,
            reloads: 0,
            published: 0,
            failures: 0,
            last_error: None,
            following: Following::Polling,
        }));
        let mut worker = Worker {
            feed: None,
            last: None,
            status: Arc::clone(&status),
            stop: Arc::clone(&stop),
            b: self,
        };
        let thread = std::thread::Builder::new()
            .name("mlops-route-watcher".to_owned())
            .spawn(move || worker.run())
            .map_err(|e| RoutingError::WorkerSpawn {
                reason: e.to_string(),
            })?;
        Ok(RouteWatcher {
            stop,
            status,
            thread: Some(thread),
        })
    }
}

/// Keeps a [`Router`] on the registry's aliases (see the [module docs](self)). Stops (and
/// joins its thread, within about 100 ms) when dropped.
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
/// use mlops_core::{ActorId, AliasName, ModelName};
/// use mlops_core::chrono::DateTime;
/// use mlops_registry::Registry;
/// use mlops_registry::routing::{AliasRoutes, RouteWatcher, Router};
/// use mlops_registry::store::{InMemoryStore, ModelStore};
/// # use mlops_registry::model::VersionCore;
///
/// let store: Arc<dyn ModelStore> = Arc::new(InMemoryStore::new());
/// let registry = Registry::new(Arc::clone(&store), Arc::new(mlops_core::ManualClock::new(DateTime::UNIX_EPOCH)))?;
/// let alice = mlops_core::Actor::human("alice")?;
/// let fraud = ModelName::new("fraud")?;
/// registry.register_model(&fraud, &alice, "")?;
/// # let core = || VersionCore::builder(alice.clone(), DateTime::UNIX_EPOCH)
/// #     .artifact("m", "s3://m", mlops_core::Digest::of(b"w"), 1).build();
/// let v1 = registry.add_version(&fraud, core()?, None)?.version.number();
/// let v2 = registry.add_version(&fraud, core()?, None)?.version.number();
/// // `champion` moves only through governance, which holds the process's seal; this example
/// // stands in for it.
/// let seal = mlops_registry::governed::GovernanceSeal::claim().ok_or("seal taken")?;
/// let promote = |v| -> Result<(), Box<dyn std::error::Error>> {
///     let mut agg = store.get_model(&fraud)?;
///     let read = agg.revision();
///     agg.set_alias(AliasName::champion(), v, &alice.id, DateTime::UNIX_EPOCH)?;
///     agg.authorize(seal);
///     store.commit(&fraud, read, agg, vec![])?;
///     Ok(())
/// };
/// promote(v1)?;
///
/// let router = Arc::new(Router::new(AliasRoutes::load(&*store, &fraud)?.builder()?.build()?));
/// let watcher = RouteWatcher::builder(Arc::clone(&store), fraud.clone(), Arc::clone(&router)).spawn()?;
///
/// // Another replica promotes v2: this router follows.
/// promote(v2)?;
/// let deadline = Instant::now() + Duration::from_secs(5);
/// while router.route(b"user-1").version != v2 && Instant::now() < deadline {
///     std::thread::sleep(Duration::from_millis(1));
/// }
/// assert_eq!(router.route(b"user-1").version, v2);
/// assert!(watcher.status().published >= 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RouteWatcher {
    stop: Arc<AtomicBool>,
    status: Arc<Mutex<WatchStatus>>,
    thread: Option<JoinHandle<()>>,
}

impl RouteWatcher {
    /// A builder; by default the table is the `champion` alias alone.
    #[must_use]
    pub fn builder(
        store: Arc<dyn ModelStore>,
        model: ModelName,
        router: Arc<Router>,
    ) -> RouteWatcherBuilder {
        RouteWatcherBuilder {
            store,
            model,
            router,
            table: Arc::new(|routes: &AliasRoutes| routes.builder()?.build()),
            resync_every: Duration::from_secs(30),
            retry_after: Duration::from_millis(250),
            poll_every: Duration::from_secs(1),
        }
    }

    /// What the watcher has done so far.
    #[must_use]
    pub fn status(&self) -> WatchStatus {
        self.status.lock().clone()
    }

    /// Stops the watcher and waits for its thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RouteWatcher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The longest a wait lasts, so a stop request is seen promptly.
const TICK: Duration = Duration::from_millis(100);

struct Worker {
    b: RouteWatcherBuilder,
    feed: Option<Box<dyn ChangeFeed>>,
    last: Option<AliasRoutes>,
    status: Arc<Mutex<WatchStatus>>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn fail(&self, e: RoutingError) {
        tracing::warn!(model = %self.b.model, error = %e, "route watcher: keeping the serving table");
        let mut s = self.status.lock();
        s.failures += 1;
        s.last_error = Some(e);
    }

    fn subscribe(&mut self) {
        if self.feed.is_some() || !self.b.store.capabilities().contains(Capability::ChangeFeed) {
            return;
        }
        match self.b.store.subscribe() {
            Ok(f) => {
                self.feed = Some(f);
                self.status.lock().following = Following::Feed;
            }
            Err(e) => self.fail(e.into()),
        }
    }

    /// Re-reads the aliases and publishes a new table if they moved. Returns whether the
    /// read succeeded.
    fn reload(&mut self) -> bool {
        let routes = match AliasRoutes::load(&*self.b.store, &self.b.model) {
            Ok(r) => r,
            Err(e) => {
                self.fail(e);
                return false;
            }
        };
        let seen = Revision::from_u64(routes.revision().get());
        let moved = self.last.as_ref().is_none_or(|l| !l.same_targets(&routes));
        let mut published = false;
        if moved && routes.revision() > self.b.router.revision() {
            match (self.b.table)(&routes).and_then(|t| self.b.router.publish(t)) {
                Ok(_) => published = true,
                Err(e) => {
                    self.fail(e);
                    return false;
                }
            }
        }
        self.last = Some(routes);
        let mut s = self.status.lock();
        s.reloads += 1;
        s.published += u64::from(published);
        s.seen = Some(seen);
        s.serving = self.b.router.revision();
        s.last_error = None;
        true
    }

    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.stopped() {
            let now = Instant::now();
            if now >= end {
                return;
            }
            std::thread::sleep((end - now).min(TICK));
        }
    }

    fn run(&mut self) {
        self.subscribe();
        let mut dirty = !self.reload();
        let mut next_resync = Instant::now() + self.b.resync_every;
        let mut next_poll = Instant::now() + self.b.poll_every;
        while !self.stopped() {
            if dirty {
                self.sleep(self.b.retry_after);
                self.subscribe();
                dirty = !self.reload();
                continue;
            }
            let now = Instant::now();
            if now >= next_resync {
                dirty = !self.reload();
                next_resync = now + self.b.resync_every;
                continue;
            }
            let wait = (next_resync - now).min(TICK);
            let seen = self.status.lock().seen;
            let event = match self.feed.as_mut() {
                Some(feed) => feed.next(wait),
                None => {
                    // Without a feed, poll.
                    if now < next_poll {
                        self.sleep(wait.min(next_poll - now));
                        continue;
                    }
                    next_poll = now + self.b.poll_every;
                    self.subscribe();
                    Ok(Some(ChangeEvent::Lagged))
                }
            };
            match event {
                Ok(Some(ChangeEvent::Changed(c)))
                    if c.model == self.b.model && seen.is_none_or(|s| c.revision > s) =>
                {
                    dirty = !self.reload();
                }
                Ok(Some(ChangeEvent::Lagged)) => dirty = !self.reload(),
                Ok(_) => {}
                Err(e) => {
                    self.fail(e.into());
                    self.sleep(self.b.retry_after);
                    // The feed reconnects on its next call and reports `Lagged`.
                }
            }
        }
    }
}
