//! Performance monitoring with late ground truth.
//!
//! Record each prediction when it is made ([`PerformanceMonitor::record_prediction`]), attach the
//! outcome whenever it arrives ([`PerformanceMonitor::record_outcome`]); matched pairs feed the
//! current window, whose metrics are computed overall and per segment when it closes. Windows
//! close after a number of outcomes, by hand, or on tumbling time boundaries of the injected
//! clock ([`PerformanceConfig::window_length`], by outcome arrival time).
//!
//! Pending predictions use bounded memory: a time to live and a capacity. Nothing is dropped
//! silently: expired and evicted predictions, outcomes matching no prediction, duplicate ids,
//! out-of-order prediction times and low-confidence scores are all counted and reported.
//!
//! ```
//! use std::sync::Arc;
//! use mlops_drift::monitor::performance::{GroundTruth, PerformanceConfig, PerformanceMonitor, Prediction};
//! use mlops_drift::mlops_core::{Clock, ManualClock};
//!
//! let clock = Arc::new(ManualClock::default());
//! let monitor = PerformanceMonitor::new(PerformanceConfig::default(), clock.clone())?;
//! let now = clock.now();
//! monitor.record_prediction("req-1", now, Prediction::Score(0.9), Some("eu"))?;
//! monitor.record_prediction("req-2", now, Prediction::Score(0.2), Some("us"))?;
//! monitor.record_outcome("req-1", GroundTruth::Class(true))?;
//! monitor.record_outcome("req-2", GroundTruth::Class(true))?;
//! let report = monitor.close_window();
//! let overall = report.overall.classification.unwrap();
//! assert_eq!(overall.accuracy, 0.5);
//! assert_eq!(report.segments["eu"].classification.unwrap().accuracy, 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use mlops_core::chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{CheckName, Clock, Direction, Evidence, ModelRef, Subject};

use crate::error::PerformanceError;

/// What the model predicted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Prediction {
    /// A binary classifier's probability of the positive class, in [0, 1]; the predicted class
    /// is `score >= decision_threshold`.
    Score(f64),
    /// A binary classifier's hard decision, without a score (no AUC, log loss or Brier).
    Class(bool),
    /// A regression value.
    Value(f64),
}

/// The ground truth, when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroundTruth {
    /// The true class (true is positive).
    Class(bool),
    /// The true value.
    Value(f64),
}

/// Settings of a [`PerformanceMonitor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceConfig {
    /// Pending predictions older than this (by their prediction time, on the monitor's clock)
    /// expire.
    pub ttl: TimeDelta,
    /// At most this many predictions wait for their outcome; the oldest is evicted beyond it.
    pub capacity: usize,
    /// A window closes after this many matched outcomes (or when closed by hand).
    pub window_outcomes: u64,
    /// Tumbling time windows, when set: a window also closes when this much time has passed
    /// on the monitor's clock, at boundaries `created + i · length` (a window closed early by
    /// `window_outcomes` or by hand is followed by one that runs to the same boundary).
    ///
    /// Windows are cut by the time an outcome **arrives** (the clock when
    /// [`PerformanceMonitor::record_outcome`] is called), not by the time of its prediction:
    /// ground truth comes late, so a window keyed by prediction time could only close once
    /// the last of its outcomes could still arrive (the TTL later), and its report would
    /// keep changing until then. By arrival time a closed window is final the moment it
    /// closes. Each prediction's own time is kept for the TTL.
    ///
    /// Windows close when the monitor notices the time: on any call (`record_*`, `poll`,
    /// `pending`, `close_window`). A window is reported with its boundary as its end; spans
    /// in which the monitor saw no call at all hold nothing and produce no report.
    pub window_length: Option<TimeDelta>,
    /// Scores at or above this are the positive class.
    pub decision_threshold: f64,
    /// Scores inside `[low, high]` are low-confidence (the model saying it should not be
    /// trusted on this input); counted per window.
    pub low_confidence_band: Option<(f64, f64)>,
    /// Closed windows kept for [`PerformanceMonitor::poll`]; older ones are dropped and counted.
    pub max_pending_reports: usize,
}

impl Default for PerformanceConfig {
    fn default() -> Self {
        Self {
            ttl: TimeDelta::days(7),
            capacity: 1_000_000,
            window_outcomes: 10_000,
            window_length: None,
            decision_threshold: 0.5,
            low_confidence_band: Some((0.4, 0.6)),
            max_pending_reports: 64,
        }
    }
}

/// Counters over a window: nothing is dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PerformanceCounters {
    /// Predictions recorded.
    pub predictions: u64,
    /// Outcomes matched to a pending prediction.
    pub matched: u64,
    /// Pending predictions dropped because their time to live passed.
    pub expired: u64,
    /// Pending predictions dropped because the capacity was reached.
    pub evicted: u64,
    /// Outcomes for ids with no pending prediction.
    pub unmatched_outcomes: u64,
    /// Predictions rejected because their id was already pending.
    pub duplicate_ids: u64,
    /// Predictions or outcomes rejected for a non-finite or out-of-range value, or a kind
    /// mismatch.
    pub invalid: u64,
    /// Predictions whose time was earlier than the previous prediction's (accepted).
    pub out_of_order: u64,
    /// Scores inside the low-confidence band.
    pub low_confidence: u64,
    /// Reports dropped because nobody polled them in time (monitor lifetime).
    pub reports_dropped: u64,
}

/// Classification metrics of one window (binary, positive class = true).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Matched pairs.
    pub n: u64,
    /// Positives among the outcomes.
    pub positives: u64,
    /// (TP + TN) / n.
    #[serde(with = "mlops_core::float_serde")]
    pub accuracy: f64,
    /// TP / (TP + FP); NaN with no predicted positive.
    #[serde(with = "mlops_core::float_serde")]
    pub precision: f64,
    /// TP / (TP + FN); NaN with no actual positive.
    #[serde(with = "mlops_core::float_serde")]
    pub recall: f64,
    /// Harmonic mean of precision and recall; NaN when either is NaN, 0 when both are 0.
    #[serde(with = "mlops_core::float_serde")]
    pub f1: f64,
    /// Area under the ROC curve (ties count one half, as scikit-learn); NaN without scores or
    /// with one class only.
    #[serde(with = "mlops_core::float_serde")]
    pub roc_auc: f64,
    /// Mean log loss, scores clipped to [1e-15, 1 − 1e-15]; NaN without scores.
    #[serde(with = "mlops_core::float_serde")]
    pub log_loss: f64,
    /// Mean squared difference between score and outcome; NaN without scores.
    #[serde(with = "mlops_core::float_serde")]
    pub brier: f64,
}

/// Regression metrics of one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Matched pairs.
    pub n: u64,
    /// Mean absolute error.
    #[serde(with = "mlops_core::float_serde")]
    pub mae: f64,
    /// Root mean squared error.
    #[serde(with = "mlops_core::float_serde")]
    pub rmse: f64,
    /// Mean absolute percentage error as scikit-learn: `|y − ŷ| / max(|y|, ε)`, a fraction.
    #[serde(with = "mlops_core::float_serde")]
    pub mape: f64,
}

/// The metrics of one population (overall or a segment) in a window.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// Classification metrics, when classification pairs were matched.
    pub classification: Option<ClassificationMetrics>,
    /// Regression metrics, when regression pairs were matched.
    pub regression: Option<RegressionMetrics>,
}

/// A metric that can be judged against a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Metric {
    /// Accuracy.
    Accuracy,
    /// Precision.
    Precision,
    /// Recall.
    Recall,
    /// F1.
    F1,
    /// ROC AUC.
    RocAuc,
    /// Log loss.
    LogLoss,
    /// Brier score.
    Brier,
    /// Mean absolute error.
    Mae,
    /// Root mean squared error.
    Rmse,
    /// Mean absolute percentage error.
    Mape,
}

impl Metric {
    /// The metric's name in check names (`accuracy`, `roc_auc`, …).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Accuracy => "accuracy",
            Self::Precision => "precision",
            Self::Recall => "recall",
            Self::F1 => "f1",
            Self::RocAuc => "roc_auc",
            Self::LogLoss => "log_loss",
            Self::Brier => "brier",
            Self::Mae => "mae",
            Self::Rmse => "rmse",
            Self::Mape => "mape",
        }
    }
}

impl Metrics {
    /// The value of `metric`, if this population has it.
    #[must_use]
    pub fn get(&self, metric: Metric) -> Option<f64> {
        let c = self.classification;
        let r = self.regression;
        match metric {
            Metric::Accuracy => c.map(|m| m.accuracy),
            Metric::Precision => c.map(|m| m.precision),
            Metric::Recall => c.map(|m| m.recall),
            Metric::F1 => c.map(|m| m.f1),
            Metric::RocAuc => c.map(|m| m.roc_auc),
            Metric::LogLoss => c.map(|m| m.log_loss),
            Metric::Brier => c.map(|m| m.brier),
            Metric::Mae => r.map(|m| m.mae),
            Metric::Rmse => r.map(|m| m.rmse),
            Metric::Mape => r.map(|m| m.mape),
        }
    }
}

/// A threshold on a metric, such as "accuracy at least 0.9".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricThreshold {
    /// The metric.
    pub metric: Metric,
    /// The side that passes.
    pub direction: Direction,
    /// The threshold (a reference value, such as the validation metric minus a tolerance).
    pub threshold: f64,
}

/// The result of one closed window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceReport {
    /// When the window opened.
    pub start: DateTime<Utc>,
    /// When it closed.
    pub end: DateTime<Utc>,
    /// Metrics over every matched pair.
    pub overall: Metrics,
    /// Metrics per segment (pairs whose prediction named a segment).
    pub segments: BTreeMap<String, Metrics>,
    /// The window's counters.
    pub counters: PerformanceCounters,
    /// Predictions still waiting for their outcome when the window closed.
    pub pending: usize,
}

impl PerformanceReport {
    /// Judges every threshold overall (`performance.<metric>`, about `version`) and per segment
    /// (`performance.<metric>.<segment>`, a [`Subject::Segment`]), measured at the window's end.
    /// A metric the population lacks is skipped; a NaN metric fails (fail closed).
    ///
    /// # Errors
    /// [`PerformanceError::InvalidParameter`] if a check name cannot be built.
    pub fn to_evidence(
        &self,
        version: &ModelRef,
        thresholds: &[MetricThreshold],
    ) -> Result<Vec<Evidence>, PerformanceError> {
        let mut out = Vec::new();
        let name = |s: String| {
            let clean: String = s
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .take(CheckName::MAX_LEN)
                .collect();
            CheckName::new(clean).map_err(|e| PerformanceError::InvalidParameter {
                name: "check",
                reason: e.to_string(),
            })
        };
        let mut push = |check: CheckName, subject: Subject, m: &Metrics, t: &MetricThreshold| {
            if let Some(v) = m.get(t.metric) {
                let n = m
                    .classification
                    .map(|c| c.n)
                    .or(m.regression.map(|r| r.n))
                    .unwrap_or(0);
                #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
                out.push(
                    Evidence::new(check, subject, v, t.threshold, t.direction, self.end)
                        .with_source("mlops-drift/performance")
                        .with_detail("n", n as f64),
                );
            }
        };
        for t in thresholds {
            let check = name(format!("performance.{}", t.metric.name()))?;
            push(
                check,
                Subject::Version {
                    version: version.clone(),
                },
                &self.overall,
                t,
            );
            for (segment, m) in &self.segments {
                let check = name(format!("performance.{}.{segment}", t.metric.name()))?;
                push(
                    check,
                    Subject::Segment {
                        version: Some(version.clone()),
                        segment: segment.clone(),
                    },
                    m,
                    t,
                );
            }
        }
        Ok(out)
    }
}

/// Flags of one recorded prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PredictionFlags {
    /// The score was inside the low-confidence band.
    pub low_confidence: bool,
    /// The prediction's time was earlier than the previous one's.
    pub out_of_order: bool,
}

#[derive(Debug, Clone)]
struct Pending {
    seq: u64,
    at: DateTime<Utc>,
    prediction: Prediction,
    segment: Option<Arc<str>>,
}

#[derive(Debug, Default, Clone)]
struct Accumulator {
    // classification
    tp: u64,
    fp: u64,
    tn: u64,
    fn_: u64,
    scored: Vec<(f64, bool)>,
    // regression
    reg_n: u64,
    abs_sum: f64,
    sq_sum: f64,
    ape_sum: f64,
}

impl Accumulator {
    fn add(&mut self, prediction: Prediction, truth: GroundTruth, threshold: f64) {
        match (prediction, truth) {
            (Prediction::Score(s), GroundTruth::Class(y)) => {
                self.add_class(s >= threshold, y);
                self.scored.push((s, y));
            }
            (Prediction::Class(p), GroundTruth::Class(y)) => self.add_class(p, y),
            (Prediction::Value(p), GroundTruth::Value(y)) => {
                let e = (y - p).abs();
                self.reg_n += 1;
                self.abs_sum += e;
                self.sq_sum += e * e;
                self.ape_sum += e / y.abs().max(f64::EPSILON);
            }
            _ => {}
        }
    }

    fn add_class(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, false) => self.tn += 1,
            (false, true) => self.fn_ += 1,
        }
    }

    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
    fn metrics(&self) -> Metrics {
        let n = self.tp + self.fp + self.tn + self.fn_;
        let classification = (n > 0).then(|| {
            let ratio = |a: u64, b: u64| {
                if b == 0 {
                    f64::NAN
                } else {
                    a as f64 / b as f64
                }
            };
            let precision = ratio(self.tp, self.tp + self.fp);
            let recall = ratio(self.tp, self.tp + self.fn_);
            let f1 = if precision.is_nan() || recall.is_nan() {
                f64::NAN
            } else if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            let (log_loss, brier) = if self.scored.is_empty() {
                (f64::NAN, f64::NAN)
            } else {
                let m = self.scored.len() as f64;
                let ll: f64 = self
                    .scored
                    .iter()
                    .map(|&(s, y)| {
                        let p = s.clamp(1e-15, 1.0 - 1e-15);
                        -(if y { p.ln() } else { (1.0 - p).ln() })
                    })
                    .sum();
                let b: f64 = self
                    .scored
                    .iter()
                    .map(|&(s, y)| (s - f64::from(u8::from(y))).powi(2))
                    .sum();
                (ll / m, b / m)
            };
            ClassificationMetrics {
                n,
                positives: self.tp + self.fn_,
                accuracy: ratio(self.tp + self.tn, n),
                precision,
                recall,
                f1,
                roc_auc: roc_auc(&self.scored),
                log_loss,
                brier,
            }
        });
        let regression = (self.reg_n > 0).then(|| {
            let m = self.reg_n as f64;
            RegressionMetrics {
                n: self.reg_n,
                mae: self.abs_sum / m,
                rmse: (self.sq_sum / m).sqrt(),
                mape: self.ape_sum / m,
            }
        });
        Metrics {
            classification,
            regression,
        }
    }
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula with midranks for ties.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
fn roc_auc(scored: &[(f64, bool)]) -> f64 {
    let pos = scored.iter().filter(|p| p.1).count();
    let neg = scored.len() - pos;
    if pos == 0 || neg == 0 {
        return f64::NAN;
    }
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let score = sorted.get(i).map_or(0.0, |p| p.0);
        let j = sorted.get(i..).map_or(i, |rest| {
            i + rest.iter().take_while(|p| p.0 == score).count()
        });
        let midrank = (i + 1 + j) as f64 / 2.0;
        let positives = sorted
            .get(i..j)
            .map_or(0, |g| g.iter().filter(|p| p.1).count());
        rank_sum += midrank * positives as f64;
        i = j.max(i + 1);
    }
    let p = pos as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * neg as f64)
}

#[derive(Debug)]
struct State {
    pending: HashMap<Arc<str>, Pending>,
    order: VecDeque<(Arc<str>, u64)>,
    seq: u64,
    last_at: Option<DateTime<Utc>>,
    start: DateTime<Utc>,
    /// The current time window's boundary (time windows only).
    window_end: Option<DateTime<Utc>>,
    overall: Accumulator,
    segments: BTreeMap<Arc<str>, Accumulator>,
    counters: PerformanceCounters,
    closed: VecDeque<PerformanceReport>,
    reports_dropped: u64,
}

/// Performance monitoring with late ground truth; `&self` methods, shareable across threads.
#[derive(Debug)]
pub struct PerformanceMonitor {
    config: PerformanceConfig,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl PerformanceMonitor {
    /// A monitor with `config`, reading time from `clock`.
    ///
    /// # Errors
    /// [`PerformanceError::InvalidParameter`] for a non-positive TTL, a zero capacity or window,
    /// a decision threshold outside [0, 1], a band that is not inside [0, 1] or is reversed, or a
    /// window length that is not positive.
    pub fn new(config: PerformanceConfig, clock: Arc<dyn Clock>) -> Result<Self, PerformanceError> {
        let bad = |name: &'static str, reason: String| PerformanceError::InvalidParameter {
            name,
            reason,
        };
        if config.ttl <= TimeDelta::zero() {
            return Err(bad("ttl", "must be positive".into()));
        }
        if config.capacity == 0 || config.window_outcomes == 0 {
            return Err(bad(
                "capacity",
                "capacity and window_outcomes must be at least 1".into(),
            ));
        }
        if !(0.0..=1.0).contains(&config.decision_threshold) {
            return Err(bad(
                "decision_threshold",
                format!("`{}` is not in [0, 1]", config.decision_threshold),
            ));
        }
        if let Some((lo, hi)) = config.low_confidence_band
            && !(0.0 <= lo && lo <= hi && hi <= 1.0)
        {
            return Err(bad(
                "low_confidence_band",
                format!("`[{lo}, {hi}]` is not inside [0, 1]"),
            ));
        }
        if let Some(length) = config.window_length
            && length <= TimeDelta::zero()
        {
            return Err(bad("window_length", format!("`{length}` is not positive")));
        }
        let start = clock.now();
        let window_end = config.window_length.map(|l| start + l);
        Ok(Self {
            config,
            clock,
            state: Mutex::new(State {
                pending: HashMap::new(),
                order: VecDeque::new(),
                seq: 0,
                last_at: None,
                start,
                window_end,
                overall: Accumulator::default(),
                segments: BTreeMap::new(),
                counters: PerformanceCounters::default(),
                closed: VecDeque::new(),
                reports_dropped: 0,
            }),
        })
    }

    /// Records a prediction made at `at`, for an outcome to be attached later by `id`.
    ///
    /// # Errors
    /// [`PerformanceError::DuplicatePrediction`] if `id` is pending already;
    /// [`PerformanceError::InvalidValue`] for a non-finite value or a score outside [0, 1].
    /// Both are counted; the monitor keeps working.
    pub fn record_prediction(
        &self,
        id: &str,
        at: DateTime<Utc>,
        prediction: Prediction,
        segment: Option<&str>,
    ) -> Result<PredictionFlags, PerformanceError> {
        let now = self.clock.now();
        let mut st = self.state.lock();
        self.roll_time(&mut st, now);
        self.expire(&mut st, now);
        let invalid = match prediction {
            Prediction::Score(s) => !(0.0..=1.0).contains(&s),
            Prediction::Value(v) => !v.is_finite(),
            Prediction::Class(_) => false,
        };
        if invalid {
            st.counters.invalid += 1;
            let value = match prediction {
                Prediction::Score(v) | Prediction::Value(v) => v,
                Prediction::Class(_) => 0.0,
            };
            return Err(PerformanceError::InvalidValue {
                id: id.to_owned(),
                what: "prediction",
                value,
            });
        }
        if st.pending.contains_key(id) {
            st.counters.duplicate_ids += 1;
            return Err(PerformanceError::DuplicatePrediction { id: id.to_owned() });
        }
        let mut flags = PredictionFlags::default();
        if st.last_at.is_some_and(|last| at < last) {
            st.counters.out_of_order += 1;
            flags.out_of_order = true;
        } else {
            st.last_at = Some(at);
        }
        if let (Prediction::Score(s), Some((lo, hi))) =
            (prediction, self.config.low_confidence_band)
            && (lo..=hi).contains(&s)
        {
            st.counters.low_confidence += 1;
            flags.low_confidence = true;
        }
        while st.pending.len() >= self.config.capacity {
            let Some((old, seq)) = st.order.pop_front() else {
                break;
            };
            if st.pending.get(&old).is_some_and(|p| p.seq == seq) {
                st.pending.remove(&old);
                st.counters.evicted += 1;
            }
        }
        st.seq += 1;
        let seq = st.seq;
        let key: Arc<str> = Arc::from(id);
        st.order.push_back((Arc::clone(&key), seq));
        st.pending.insert(
            key,
            Pending {
                seq,
                at,
                prediction,
                segment: segment.map(Arc::from),
            },
        );
        st.counters.predictions += 1;
        Ok(flags)
    }

    /// Attaches the outcome of prediction `id`: the pair joins the current window (overall and
    /// in its segment). Returns whether this outcome closed the window.
    ///
    /// # Errors
    /// [`PerformanceError::UnknownPrediction`] for an id with no pending prediction (counted in
    /// `unmatched_outcomes`); [`PerformanceError::InvalidValue`] for a non-finite value and
    /// [`PerformanceError::KindMismatch`] for a class outcome of a regression prediction or the
    /// reverse (counted in `invalid`; the prediction stays pending).
    pub fn record_outcome(&self, id: &str, truth: GroundTruth) -> Result<bool, PerformanceError> {
        let now = self.clock.now();
        let mut st = self.state.lock();
        self.roll_time(&mut st, now);
        self.expire(&mut st, now);
        if let GroundTruth::Value(v) = truth
            && !v.is_finite()
        {
            st.counters.invalid += 1;
            return Err(PerformanceError::InvalidValue {
                id: id.to_owned(),
                what: "outcome",
                value: v,
            });
        }
        let Some(p) = st.pending.get(id) else {
            st.counters.unmatched_outcomes += 1;
            return Err(PerformanceError::UnknownPrediction { id: id.to_owned() });
        };
        let kinds_match = matches!(
            (p.prediction, truth),
            (
                Prediction::Score(_) | Prediction::Class(_),
                GroundTruth::Class(_)
            ) | (Prediction::Value(_), GroundTruth::Value(_))
        );
        if !kinds_match {
            st.counters.invalid += 1;
            return Err(PerformanceError::KindMismatch { id: id.to_owned() });
        }
        let Some(p) = st.pending.remove(id) else {
            return Ok(false);
        };
        let threshold = self.config.decision_threshold;
        st.overall.add(p.prediction, truth, threshold);
        if let Some(seg) = p.segment {
            st.segments
                .entry(seg)
                .or_default()
                .add(p.prediction, truth, threshold);
        }
        st.counters.matched += 1;
        if st.counters.matched >= self.config.window_outcomes {
            self.close_locked(&mut st, now);
            return Ok(true);
        }
        Ok(false)
    }

    /// Closes the current time window if `now` is at or past its boundary: expirations up to
    /// the boundary count in it, and the next window is the one holding `now`.
    fn roll_time(&self, st: &mut State, now: DateTime<Utc>) {
        let (Some(length), Some(end)) = (self.config.window_length, st.window_end) else {
            return;
        };
        if now < end {
            return;
        }
        self.expire(st, end);
        self.close_locked(st, end);
        // Skip whole windows in which nothing happened (nothing was called).
        let idle = now - end;
        let skipped = match (idle.num_nanoseconds(), length.num_nanoseconds()) {
            (Some(i), Some(l)) if l > 0 => TimeDelta::nanoseconds(i / l * l),
            // Spans beyond ±292 years: whole milliseconds are precise enough.
            _ => {
                let l = length.num_milliseconds().max(1);
                TimeDelta::milliseconds(idle.num_milliseconds() / l * l)
            }
        };
        let start = end.checked_add_signed(skipped).unwrap_or(now);
        st.start = start;
        st.window_end = Some(start.checked_add_signed(length).unwrap_or(now));
    }

    fn expire(&self, st: &mut State, now: DateTime<Utc>) {
        while let Some((id, seq)) = st.order.front().cloned() {
            match st.pending.get(&id) {
                Some(p) if p.seq == seq => {
                    if p.at + self.config.ttl <= now {
                        st.pending.remove(&id);
                        st.counters.expired += 1;
                    } else {
                        break;
                    }
                }
                // Matched or replaced: a stale entry.
                _ => {}
            }
            st.order.pop_front();
        }
        // Keep the order queue bounded by stale entries too.
        if st.order.len() > 2 * st.pending.len() + 1024 {
            let live: Vec<(Arc<str>, u64)> = st
                .order
                .iter()
                .filter(|(id, seq)| st.pending.get(id).is_some_and(|p| p.seq == *seq))
                .cloned()
                .collect();
            st.order = live.into();
        }
    }

    fn close_locked(&self, st: &mut State, now: DateTime<Utc>) {
        let report = PerformanceReport {
            start: st.start,
            end: now,
            overall: st.overall.metrics(),
            segments: st
                .segments
                .iter()
                .map(|(k, a)| (k.to_string(), a.metrics()))
                .collect(),
            counters: PerformanceCounters {
                reports_dropped: st.reports_dropped,
                ..st.counters
            },
            pending: st.pending.len(),
        };
        if let Some(c) = report.overall.classification {
            tracing::info!(
                target: "mlops_drift::performance",
                n = c.n,
                accuracy = c.accuracy,
                roc_auc = c.roc_auc,
                expired = report.counters.expired,
                evicted = report.counters.evicted,
                unmatched = report.counters.unmatched_outcomes,
                "performance window closed"
            );
        }
        st.start = now;
        st.overall = Accumulator::default();
        st.segments.clear();
        st.counters = PerformanceCounters::default();
        st.closed.push_back(report);
        while st.closed.len() > self.config.max_pending_reports.max(1) {
            st.closed.pop_front();
            st.reports_dropped += 1;
        }
    }

    /// Closes the current window now and returns its report (not queued for `poll`). With
    /// time windows, a window whose boundary has passed is closed (and queued) first; the
    /// next window runs to the current boundary.
    pub fn close_window(&self) -> PerformanceReport {
        let now = self.clock.now();
        let mut st = self.state.lock();
        self.roll_time(&mut st, now);
        self.expire(&mut st, now);
        self.close_locked(&mut st, now);
        st.closed.pop_back().unwrap_or_else(|| PerformanceReport {
            start: now,
            end: now,
            overall: Metrics::default(),
            segments: BTreeMap::new(),
            counters: PerformanceCounters::default(),
            pending: st.pending.len(),
        })
    }

    /// The reports of windows closed since the last poll (by reaching `window_outcomes`, or a
    /// time boundary of [`PerformanceConfig::window_length`], which this call also checks).
    pub fn poll(&self) -> Vec<PerformanceReport> {
        let now = self.clock.now();
        let mut st = self.state.lock();
        self.roll_time(&mut st, now);
        self.expire(&mut st, now);
        st.closed.drain(..).collect()
    }

    /// Predictions waiting for their outcome.
    pub fn pending(&self) -> usize {
        let now = self.clock.now();
        let mut st = self.state.lock();
        self.roll_time(&mut st, now);
        self.expire(&mut st, now);
        st.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_auc_matches_scikit_learn_examples() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        let s = [(0.1, false), (0.4, false), (0.35, true), (0.8, true)];
        assert!((roc_auc(&s) - 0.75).abs() < 1e-15);
        // Ties count one half: roc_auc_score([0, 1], [0.5, 0.5]) == 0.5
        assert_eq!(roc_auc(&[(0.5, false), (0.5, true)]), 0.5);
        assert!(roc_auc(&[(0.5, true)]).is_nan());
    }
}
