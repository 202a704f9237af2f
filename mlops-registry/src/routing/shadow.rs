//! Shadows: calling shadow models on mirrored traffic without delaying the primary response, and
//! comparing their outputs with the champion's.
//!
//! The host says how a shadow is called by implementing [`ShadowModel`]. After serving a request
//! with the champion, it hands the input, the champion's [`Prediction`] and latency to
//! [`ShadowRunner::submit`], which never blocks: a bounded queue, drop-on-full with a counter.
//! Worker threads owned by the runner call each shadow the decision names with a time budget; the
//! [`ShadowRecorder`] compares outputs per window (class agreement rate, mean absolute score
//! difference, mean latency difference).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{
    CheckName, Clock, Direction, Evidence, ModelName, ModelRef, Subject, VersionNumber,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::decision::Decision;
use super::error::{Result, RoutingError};
use super::router::Router;
use super::table::{MAX_SHADOWS, RouteTable};

/// A model's output, as far as the recorder compares it: a class label, a score, or both.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prediction {
    /// The predicted class, if the model classifies.
    pub class: Option<u64>,
    /// The score (probability, regression output), if any.
    pub score: Option<f64>,
}

impl Prediction {
    /// A class with a score.
    #[must_use]
    pub fn new(class: Option<u64>, score: Option<f64>) -> Self {
        Self { class, score }
    }
}

/// A shadow call failed on the host's side (the message is the host's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shadow call failed: {message}")]
pub struct ShadowError {
    /// What went wrong.
    pub message: String,
}

/// How the host calls a shadow model on an input. Called on the runner's worker threads, never
/// on the request path.
pub trait ShadowModel<I>: Send + Sync {
    /// Predicts with shadow `version` on `input`. `deadline` is the end of the call's time
    /// budget: an implementation should give up by then (a result arriving later is discarded
    /// and counted as a timeout).
    ///
    /// # Errors
    /// [`ShadowError`] when the call fails; it is counted, never retried.
    fn predict(
        &self,
        version: VersionNumber,
        input: &I,
        deadline: Instant,
    ) -> Result<Prediction, ShadowError>;
}

impl<I, T: ShadowModel<I> + ?Sized> ShadowModel<I> for Arc<T> {
    fn predict(
        &self,
        version: VersionNumber,
        input: &I,
        deadline: Instant,
    ) -> Result<Prediction, ShadowError> {
        (**self).predict(version, input, deadline)
    }
}

impl<I, T: ShadowModel<I> + ?Sized> ShadowModel<I> for Box<T> {
    fn predict(
        &self,
        version: VersionNumber,
        input: &I,
        deadline: Instant,
    ) -> Result<Prediction, ShadowError> {
        (**self).predict(version, input, deadline)
    }
}

/// Shadow runner settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowConfig {
    /// Jobs the queue holds before new ones are dropped (≥ 1).
    pub queue_capacity: usize,
    /// Worker threads (≥ 1).
    pub workers: usize,
    /// The time budget of one shadow call (> 0).
    pub budget: Duration,
    /// The recorder's window length (> 0).
    pub window: TimeDelta,
    /// Completed windows kept until taken (≥ 1); the oldest are dropped beyond it.
    pub max_windows: usize,
}

impl Default for ShadowConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            workers: 1,
            budget: Duration::from_millis(50),
            window: TimeDelta::minutes(1),
            max_windows: 64,
        }
    }
}

/// What [`ShadowRunner::submit`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Submitted {
    /// Queued for the shadows the decision names.
    Queued,
    /// The decision mirrors to no shadow.
    NotMirrored,
    /// The queue was full (or the runner is shutting down): dropped and counted.
    Dropped,
    /// The decision came from a table that is no longer serving: dropped and counted.
    Stale,
}

/// Counts of what happened to shadow work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ShadowCounters {
    /// Jobs queued.
    pub queued: u64,
    /// Jobs dropped because the queue was full.
    pub dropped_full: u64,
    /// Jobs dropped because their table was replaced before submission.
    pub stale: u64,
    /// Shadow calls that returned within budget.
    pub completed: u64,
    /// Shadow calls that exceeded their budget (result discarded).
    pub timed_out: u64,
    /// Shadow calls that failed.
    pub failed: u64,
}

#[derive(Debug, Default)]
struct AtomicCounters {
    queued: AtomicU64,
    dropped_full: AtomicU64,
    stale: AtomicU64,
    completed: AtomicU64,
    timed_out: AtomicU64,
    failed: AtomicU64,
}

struct Job<I> {
    input: I,
    shadows: [Option<VersionNumber>; MAX_SHADOWS],
    champion: Prediction,
    champion_latency: Duration,
}

/// Calls shadow models on worker threads it owns, off the request path.
///
/// Dropping it closes the queue, lets the workers finish the jobs already queued, and joins them.
#[derive(Debug)]
pub struct ShadowRunner<I: Send + 'static> {
    cell: Arc<ArcSwap<RouteTable>>,
    tx: Option<SyncSender<Job<I>>>,
    workers: Vec<JoinHandle<()>>,
    counters: Arc<AtomicCounters>,
    recorder: Arc<ShadowRecorder>,
}

impl<I: Send + 'static> std::fmt::Debug for Job<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl<I: Send + 'static> ShadowRunner<I> {
    /// Starts `config.workers` threads that call `model` for the shadows of `router`'s tables.
    ///
    /// # Errors
    /// [`RoutingError::InvalidShadowConfig`] for a zero capacity, worker count, budget, window or
    /// window count; [`RoutingError::WorkerSpawn`] if a thread cannot be started.
    pub fn start(
        router: &Router,
        model: Arc<dyn ShadowModel<I>>,
        config: &ShadowConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let bad = |setting, reason| RoutingError::InvalidShadowConfig { setting, reason };
        if config.queue_capacity == 0 {
            return Err(bad("queue_capacity", "must be at least 1"));
        }
        if config.workers == 0 {
            return Err(bad("workers", "must be at least 1"));
        }
        if config.budget.is_zero() {
            return Err(bad("budget", "must be positive"));
        }
        let recorder = Arc::new(ShadowRecorder::new(
            router.table().model().clone(),
            clock,
            config.window,
            config.max_windows,
        )?);
        let (tx, rx) = sync_channel::<Job<I>>(config.queue_capacity);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let counters = Arc::new(AtomicCounters::default());
        let mut workers = Vec::with_capacity(config.workers);
        for i in 0..config.workers {
            let rx = Arc::clone(&rx);
            let model = Arc::clone(&model);
            let counters = Arc::clone(&counters);
            let recorder = Arc::clone(&recorder);
            let budget = config.budget;
            let handle = std::thread::Builder::new()
                .name(format!("mlops-shadow-{i}"))
                .spawn(move || worker(&rx, &*model, budget, &counters, &recorder))
                .map_err(|e| RoutingError::WorkerSpawn {
                    reason: e.to_string(),
                })?;
            workers.push(handle);
        }
        Ok(Self {
            cell: router.cell(),
            tx: Some(tx),
            workers,
            counters,
            recorder,
        })
    }

    /// Queues shadow calls for a request the champion served, without blocking: `decision` is
    /// the primary decision (its shadow set says which shadows to call), `input` what the
    /// champion scored, `champion` its output and `champion_latency` how long it took.
    pub fn submit(
        &self,
        decision: &Decision,
        input: I,
        champion: Prediction,
        champion_latency: Duration,
    ) -> Submitted {
        if decision.shadows.is_empty() {
            return Submitted::NotMirrored;
        }
        let table = self.cell.load();
        if table.revision() != decision.revision {
            self.counters.stale.fetch_add(1, Ordering::Relaxed);
            return Submitted::Stale;
        }
        let mut shadows = [None; MAX_SHADOWS];
        for ((slot, info), i) in shadows.iter_mut().zip(table.shadows()).zip(0..) {
            if decision.shadows.contains(i) {
                *slot = Some(info.version);
            }
        }
        drop(table);
        let job = Job {
            input,
            shadows,
            champion,
            champion_latency,
        };
        let sent = match &self.tx {
            Some(tx) => tx.try_send(job).is_ok(),
            None => false,
        };
        if sent {
            self.counters.queued.fetch_add(1, Ordering::Relaxed);
            Submitted::Queued
        } else {
            self.counters.dropped_full.fetch_add(1, Ordering::Relaxed);
            Submitted::Dropped
        }
    }

    /// The counters.
    #[must_use]
    pub fn counters(&self) -> ShadowCounters {
        let c = &self.counters;
        ShadowCounters {
            queued: c.queued.load(Ordering::Relaxed),
            dropped_full: c.dropped_full.load(Ordering::Relaxed),
            stale: c.stale.load(Ordering::Relaxed),
            completed: c.completed.load(Ordering::Relaxed),
            timed_out: c.timed_out.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }

    /// The recorder comparing champion and shadow outputs (shared: it outlives the runner).
    #[must_use]
    pub fn recorder(&self) -> Arc<ShadowRecorder> {
        Arc::clone(&self.recorder)
    }

    /// Closes the queue, waits for the queued jobs to finish and joins the workers.
    pub fn shutdown(mut self) -> ShadowCounters {
        self.stop();
        self.counters()
    }

    fn stop(&mut self) {
        self.tx = None;
        for w in self.workers.drain(..) {
            if w.join().is_err() {
                tracing::error!("a shadow worker panicked");
            }
        }
    }
}

impl<I: Send + 'static> Drop for ShadowRunner<I> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn worker<I>(
    rx: &std::sync::Mutex<Receiver<Job<I>>>,
    model: &dyn ShadowModel<I>,
    budget: Duration,
    counters: &AtomicCounters,
    recorder: &ShadowRecorder,
) {
    loop {
        // Only the workers share this lock; the request path never touches it.
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        for version in job.shadows.iter().flatten() {
            let start = Instant::now();
            let result = model.predict(*version, &job.input, start + budget);
            let elapsed = start.elapsed();
            match result {
                _ if elapsed > budget => {
                    counters.timed_out.fetch_add(1, Ordering::Relaxed);
                    recorder.record_timeout(*version);
                }
                Ok(p) => {
                    counters.completed.fetch_add(1, Ordering::Relaxed);
                    recorder.record(*version, job.champion, p, job.champion_latency, elapsed);
                }
                Err(e) => {
                    counters.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(version = version.get(), error = %e, "shadow call failed");
                    recorder.record_error(*version);
                }
            }
        }
    }
}

/// The comparison of one shadow with the champion over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowWindow {
    /// The shadow's version.
    pub shadow: VersionNumber,
    /// The window's start (inclusive).
    pub start: DateTime<Utc>,
    /// The window's end (exclusive).
    pub end: DateTime<Utc>,
    /// Requests where both outputs were compared.
    pub compared: u64,
    /// Compared requests where both gave a class.
    pub class_pairs: u64,
    /// The share of class pairs that agree; `None` without class pairs.
    pub class_agreement: Option<f64>,
    /// Compared requests where both gave a finite score.
    pub score_pairs: u64,
    /// The mean of `|shadow score − champion score|`; `None` without score pairs.
    pub mean_abs_score_diff: Option<f64>,
    /// The mean of `shadow latency − champion latency`, in milliseconds; `None` if nothing was
    /// compared.
    pub mean_latency_diff_ms: Option<f64>,
    /// Shadow calls over budget.
    pub timeouts: u64,
    /// Shadow calls that failed.
    pub errors: u64,
}

impl ShadowWindow {
    /// The class agreement as evidence (check `routing.shadow.class_agreement`, about the shadow
    /// version of `model`, judged `>= threshold`), or `None` without class pairs.
    #[must_use]
    pub fn agreement_evidence(&self, model: &ModelName, threshold: f64) -> Option<Evidence> {
        let value = self.class_agreement?;
        let check = CheckName::new("routing.shadow.class_agreement").ok()?;
        #[expect(clippy::cast_precision_loss, reason = "reporting only")]
        let n = self.class_pairs as f64;
        Some(
            Evidence::new(
                check,
                Subject::Version {
                    version: ModelRef::new(model.clone(), self.shadow),
                },
                value,
                threshold,
                Direction::AtLeast,
                self.end,
            )
            .with_source("mlops-registry/routing/shadow")
            .with_detail("n", n),
        )
    }
}

#[derive(Debug, Clone, Default)]
struct Acc {
    compared: u64,
    class_pairs: u64,
    class_agree: u64,
    score_pairs: u64,
    abs_diff_sum: f64,
    latency_diff_sum_ms: f64,
    timeouts: u64,
    errors: u64,
}

#[derive(Debug)]
struct RecorderState {
    start: Option<DateTime<Utc>>,
    accs: Vec<(VersionNumber, Acc)>,
    completed: VecDeque<ShadowWindow>,
}

/// Compares champion and shadow outputs on the same inputs, per window of the injected clock.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use mlops_core::{ManualClock, chrono::{TimeDelta, DateTime}};
/// use mlops_registry::routing::{Prediction, ShadowRecorder};
///
/// let clock = Arc::new(ManualClock::new(DateTime::UNIX_EPOCH));
/// let rec = ShadowRecorder::new("fraud".parse()?, clock.clone(), TimeDelta::minutes(1), 8)?;
/// let v7 = "v7".parse()?;
/// let ms = Duration::from_millis;
/// rec.record(v7, Prediction::new(Some(1), Some(0.9)), Prediction::new(Some(1), Some(0.8)), ms(4), ms(6));
/// rec.record(v7, Prediction::new(Some(1), Some(0.9)), Prediction::new(Some(0), Some(0.4)), ms(4), ms(6));
/// clock.advance(TimeDelta::minutes(1));
/// rec.flush();
/// let w = &rec.take_completed()[0];
/// assert_eq!(w.class_agreement, Some(0.5));
/// assert!((w.mean_abs_score_diff.unwrap() - 0.3).abs() < 1e-12);
/// assert_eq!(w.mean_latency_diff_ms, Some(2.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ShadowRecorder {
    model: ModelName,
    clock: Arc<dyn Clock>,
    window_ms: i64,
    max_windows: usize,
    state: Mutex<RecorderState>,
}

impl ShadowRecorder {
    /// A recorder for shadows of `model`, with windows of `window` aligned to the Unix epoch,
    /// keeping at most `max_windows` completed windows.
    ///
    /// # Errors
    /// [`RoutingError::InvalidShadowConfig`] for a window under one millisecond or
    /// `max_windows == 0`.
    pub fn new(
        model: ModelName,
        clock: Arc<dyn Clock>,
        window: TimeDelta,
        max_windows: usize,
    ) -> Result<Self> {
        let window_ms = window.num_milliseconds();
        if window_ms <= 0 {
            return Err(RoutingError::InvalidShadowConfig {
                setting: "window",
                reason: "must be at least one millisecond",
            });
        }
        if max_windows == 0 {
            return Err(RoutingError::InvalidShadowConfig {
                setting: "max_windows",
                reason: "must be at least 1",
            });
        }
        Ok(Self {
            model,
            clock,
            window_ms,
            max_windows,
            state: Mutex::new(RecorderState {
                start: None,
                accs: Vec::new(),
                completed: VecDeque::new(),
            }),
        })
    }

    /// The model whose shadows are recorded.
    #[must_use]
    pub fn model(&self) -> &ModelName {
        &self.model
    }

    fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let ms = now.timestamp_millis();
        let start = ms.div_euclid(self.window_ms) * self.window_ms;
        DateTime::from_timestamp_millis(start).unwrap_or(now)
    }

    /// Runs `f` on the accumulator of `shadow` in the current window, closing the previous window
    /// first if the clock has moved past it.
    fn with_acc(&self, shadow: VersionNumber, f: impl FnOnce(&mut Acc)) {
        let start = self.window_start(self.clock.now());
        let mut st = self.state.lock();
        if st.start != Some(start) {
            self.close(&mut st);
            st.start = Some(start);
        }
        if let Some((_, acc)) = st.accs.iter_mut().find(|(v, _)| *v == shadow) {
            f(acc);
        } else {
            let mut acc = Acc::default();
            f(&mut acc);
            st.accs.push((shadow, acc));
        }
    }

    fn close(&self, st: &mut RecorderState) {
        let Some(start) = st.start.take() else {
            return;
        };
        let end = start + TimeDelta::milliseconds(self.window_ms);
        for (shadow, a) in st.accs.drain(..) {
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let mean = |sum: f64, n: u64| (n > 0).then(|| sum / n as f64);
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let agreement =
                (a.class_pairs > 0).then(|| a.class_agree as f64 / a.class_pairs as f64);
            st.completed.push_back(ShadowWindow {
                shadow,
                start,
                end,
                compared: a.compared,
                class_pairs: a.class_pairs,
                class_agreement: agreement,
                score_pairs: a.score_pairs,
                mean_abs_score_diff: mean(a.abs_diff_sum, a.score_pairs),
                mean_latency_diff_ms: mean(a.latency_diff_sum_ms, a.compared),
                timeouts: a.timeouts,
                errors: a.errors,
            });
        }
        while st.completed.len() > self.max_windows {
            st.completed.pop_front();
        }
    }

    /// Records one comparison of `shadow` with the champion on the same input.
    pub fn record(
        &self,
        shadow: VersionNumber,
        champion: Prediction,
        shadow_output: Prediction,
        champion_latency: Duration,
        shadow_latency: Duration,
    ) {
        self.with_acc(shadow, |a| {
            a.compared += 1;
            if let (Some(c), Some(s)) = (champion.class, shadow_output.class) {
                a.class_pairs += 1;
                a.class_agree += u64::from(c == s);
            }
            if let (Some(c), Some(s)) = (champion.score, shadow_output.score)
                && c.is_finite()
                && s.is_finite()
            {
                a.score_pairs += 1;
                a.abs_diff_sum += (s - c).abs();
            }
            a.latency_diff_sum_ms +=
                (shadow_latency.as_secs_f64() - champion_latency.as_secs_f64()) * 1e3;
        });
    }

    /// Records a shadow call that exceeded its budget.
    pub fn record_timeout(&self, shadow: VersionNumber) {
        self.with_acc(shadow, |a| a.timeouts += 1);
    }

    /// Records a shadow call that failed.
    pub fn record_error(&self, shadow: VersionNumber) {
        self.with_acc(shadow, |a| a.errors += 1);
    }

    /// Closes the current window if the clock has moved past it (windows otherwise close when the
    /// next record arrives).
    pub fn flush(&self) {
        let start = self.window_start(self.clock.now());
        let mut st = self.state.lock();
        if st.start.is_some() && st.start != Some(start) {
            self.close(&mut st);
        }
    }

    /// Takes the completed windows, oldest first.
    pub fn take_completed(&self) -> Vec<ShadowWindow> {
        self.state.lock().completed.drain(..).collect()
    }
}
