//! The contest: per-arm running moments per metric, looked at with always-valid statistics,
//! one latched outcome per challenger.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{
    CheckName, Clock, Direction, Evidence, ModelName, ModelRef, Subject, VersionNumber,
};
use mlops_registry::routing::{ArmRole, ConfigRevision, Decision, RouteTable, SRM_CHECK};
use serde::{Deserialize, Serialize};

use super::error::ContestError;
use super::spec::{ContestConfig, GuardrailProof, Method, MetricKind};
use super::stats::{Moments, msprt, z_test};

/// Why a challenger was stopped.
///
/// Exhaustive on purpose: reports explain each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Its improvement's upper confidence bound fell to the minimum improvement: not better.
    NotBetter,
    /// The maximum sample (or the fixed horizon) was reached without a promotion.
    Horizon,
    /// It was removed from the route table mid-contest.
    Removed,
}

/// The outcome for one challenger.
///
/// Exhaustive on purpose: automation must handle every outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChallengerOutcome {
    /// Not decided yet.
    KeepRunning,
    /// Better on the primary with the stated confidence, guardrails held, minimum sample and
    /// duration reached, data valid.
    Promote,
    /// Stopped without promotion.
    Stop {
        /// Why.
        reason: StopReason,
    },
    /// Significantly worse than tolerated on a guardrail: roll back now (does not wait for the
    /// minimum duration or sample).
    RollBackNow {
        /// The guardrail's metric index (1 is the first guardrail).
        metric: usize,
    },
    /// The contest's data is invalid (sample-ratio mismatch, table moved, too many rejected
    /// outcomes): it never promotes.
    Invalid,
}

impl ChallengerOutcome {
    /// A short name: `keep_running`, `promote`, `stop`, `rollback`, `invalid`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::KeepRunning => "keep_running",
            Self::Promote => "promote",
            Self::Stop { .. } => "stop",
            Self::RollBackNow { .. } => "rollback",
            Self::Invalid => "invalid",
        }
    }

    /// Whether the outcome is final (everything but [`ChallengerOutcome::KeepRunning`]).
    #[must_use]
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::KeepRunning)
    }
}

impl std::fmt::Display for ChallengerOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a metric is the primary or a guardrail.
///
/// Exhaustive on purpose: a metric is the one to improve or one not to degrade, and reports
/// handle each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricRole {
    /// The metric the challenger must improve.
    Primary,
    /// A metric it must not degrade beyond its tolerance.
    Guardrail,
}

/// One metric of one challenger against the champion, at one look. Improvements are in the
/// metric's better direction (`sign × (challenger − champion)`); bounds are the always-valid
/// confidence sequence (intersected over the looks after warm-up; if the intersection would be
/// empty, the current interval), or the fixed-horizon interval at the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricReport {
    /// The metric's name.
    pub name: String,
    /// Primary or guardrail.
    pub role: MetricRole,
    /// Champion outcomes.
    pub n_champion: u64,
    /// Challenger outcomes.
    pub n_challenger: u64,
    /// Champion mean.
    pub mean_champion: f64,
    /// Challenger mean.
    pub mean_challenger: f64,
    /// `sign × (challenger − champion)`.
    pub improvement: f64,
    /// Lower confidence bound of the improvement (NaN before warm-up).
    pub improvement_low: f64,
    /// Upper confidence bound of the improvement (NaN before warm-up).
    pub improvement_high: f64,
    /// The always-valid p-value against no difference (running minimum of `1/Λ`), or the
    /// fixed-horizon p-value.
    pub p_value: f64,
    /// The minimum improvement (primary) or the negated tolerance (guardrail).
    pub threshold: f64,
    /// The level used (after the split across challengers).
    pub alpha: f64,
}

/// One challenger at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengerReport {
    /// The challenger.
    pub version: ModelRef,
    /// The champion it is compared with.
    pub champion: ModelRef,
    /// Its outcome.
    pub outcome: ChallengerOutcome,
    /// The primary first, then the guardrails.
    pub metrics: Vec<MetricReport>,
    /// Outcomes rejected (NaN, infinite, out of range) for this arm.
    pub rejected: u64,
    /// The route table revision the contest runs on.
    pub revision: ConfigRevision,
    /// Time since the contest started.
    pub elapsed_seconds: i64,
    /// When the look was taken.
    pub at: DateTime<Utc>,
    /// Why the contest is invalid, if it is.
    pub invalid: Option<String>,
}

impl ChallengerReport {
    fn detail_pairs(&self) -> Vec<(String, f64)> {
        #[expect(clippy::cast_precision_loss, reason = "reporting only")]
        let mut v = vec![
            ("rejected".to_owned(), self.rejected as f64),
            ("elapsed_seconds".to_owned(), self.elapsed_seconds as f64),
            ("revision".to_owned(), self.revision.get() as f64),
            (
                "valid".to_owned(),
                if self.invalid.is_none() { 1.0 } else { 0.0 },
            ),
        ];
        for m in &self.metrics {
            #[expect(clippy::cast_precision_loss, reason = "reporting only")]
            let fields = [
                ("n_champion", m.n_champion as f64),
                ("n_challenger", m.n_challenger as f64),
                ("mean_champion", m.mean_champion),
                ("mean_challenger", m.mean_challenger),
                ("improvement", m.improvement),
                ("improvement_low", m.improvement_low),
                ("improvement_high", m.improvement_high),
                ("p_value", m.p_value),
                ("alpha", m.alpha),
            ];
            for (k, x) in fields {
                v.push((format!("{}.{k}", m.name), x));
            }
        }
        v
    }

    /// The outcome as evidence about the challenger: check `contest.<outcome>`
    /// (`contest.promote`, `contest.stop`, `contest.rollback`, `contest.keep_running`,
    /// `contest.invalid`), with every metric's numbers as details (`<metric>.p_value`, …).
    ///
    /// - promote: the primary's lower bound `>` the minimum improvement (passes);
    /// - stop: the primary's upper bound `<=` the minimum improvement (passes when not better);
    /// - rollback: the guardrail's degradation lower bound `>` its tolerance (passes);
    /// - keep running: as promote (fails until it would pass);
    /// - invalid: NaN against the minimum improvement (fails closed).
    #[must_use]
    pub fn to_evidence(&self) -> Evidence {
        let primary = self.metrics.first();
        let threshold = primary.map_or(0.0, |m| m.threshold);
        let (value, threshold, direction) = match self.outcome {
            ChallengerOutcome::Promote | ChallengerOutcome::KeepRunning => (
                primary.map_or(f64::NAN, |m| m.improvement_low),
                threshold,
                Direction::Above,
            ),
            ChallengerOutcome::Stop { .. } => (
                primary.map_or(f64::NAN, |m| m.improvement_high),
                threshold,
                Direction::AtMost,
            ),
            ChallengerOutcome::RollBackNow { metric } => {
                let g = self.metrics.get(metric);
                (
                    g.map_or(f64::NAN, |m| -m.improvement_high),
                    g.map_or(0.0, |m| -m.threshold),
                    Direction::Above,
                )
            }
            ChallengerOutcome::Invalid => (f64::NAN, threshold, Direction::Above),
        };
        let mut ev = Evidence::new(
            check_name(&format!("contest.{}", self.outcome.as_str())),
            Subject::Version {
                version: self.version.clone(),
            },
            value,
            threshold,
            direction,
            self.at,
        )
        .with_source("mlops-governance/contest");
        for (k, x) in self.detail_pairs() {
            ev = ev.with_detail(k, x);
        }
        if let ChallengerOutcome::Stop { reason } = self.outcome {
            let code = match reason {
                StopReason::NotBetter => 0.0,
                StopReason::Horizon => 1.0,
                StopReason::Removed => 2.0,
            };
            ev = ev.with_detail("stop_reason", code);
        }
        ev
    }

    /// One evidence per metric: `contest.primary.<name>` (improvement lower bound `>` minimum
    /// improvement) and `contest.guardrail.<name>` (degradation upper bound `<=` tolerance).
    #[must_use]
    pub fn metric_evidence(&self) -> Vec<Evidence> {
        self.metrics
            .iter()
            .map(|m| {
                let (check, value, threshold, direction) = match m.role {
                    MetricRole::Primary => (
                        format!("contest.primary.{}", m.name),
                        m.improvement_low,
                        m.threshold,
                        Direction::Above,
                    ),
                    MetricRole::Guardrail => (
                        format!("contest.guardrail.{}", m.name),
                        -m.improvement_low,
                        -m.threshold,
                        Direction::AtMost,
                    ),
                };
                #[expect(clippy::cast_precision_loss, reason = "reporting only")]
                Evidence::new(
                    check_name(&check),
                    Subject::Version {
                        version: self.version.clone(),
                    },
                    value,
                    threshold,
                    direction,
                    self.at,
                )
                .with_source("mlops-governance/contest")
                .with_detail("n_champion", m.n_champion as f64)
                .with_detail("n_challenger", m.n_challenger as f64)
                .with_detail("improvement", m.improvement)
                .with_detail("improvement_low", m.improvement_low)
                .with_detail("improvement_high", m.improvement_high)
                .with_detail("p_value", m.p_value)
                .with_detail("alpha", m.alpha)
            })
            .collect()
    }
}

fn check_name(s: &str) -> CheckName {
    // Metric names are validated at configuration, so these names are valid; the fallback is a
    // valid literal.
    CheckName::new(s).unwrap_or_else(|_| fallback_check())
}

fn fallback_check() -> CheckName {
    const { CheckName::from_static("contest") }
}

/// Every challenger at one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestReport {
    /// The route table revision the contest runs on.
    pub revision: ConfigRevision,
    /// When.
    pub at: DateTime<Utc>,
    /// Why the contest is invalid, if it is.
    pub invalid: Option<String>,
    /// One per challenger, in table order.
    pub challengers: Vec<ChallengerReport>,
}

impl ContestReport {
    /// The report of `version`.
    #[must_use]
    pub fn challenger(&self, version: VersionNumber) -> Option<&ChallengerReport> {
        self.challengers
            .iter()
            .find(|c| c.version.version() == version)
    }
}

/// For a proportion, the variance is at least the Laplace-smoothed Bernoulli variance
/// `p̃(1 − p̃)` with `p̃ = (Σx + 1)/(n + 2)`, so an arm whose outcomes are all 0 (or all 1) still
/// has a positive plug-in variance and a contest of 0 % against 100 % can decide.
fn laplace_floor(m: Moments) -> Moments {
    if m.n < 2 {
        return m;
    }
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let n = m.n as f64;
    let p = (m.mean * n + 1.0) / (n + 2.0);
    Moments {
        m2: m.m2.max(p * (1.0 - p) * (n - 1.0)),
        ..m
    }
}

#[derive(Debug, Clone)]
struct Arm {
    version: VersionNumber,
    /// Per metric.
    moments: Vec<Moments>,
    rejected: u64,
    removed: bool,
}

/// Per challenger and metric: the running minimum p-value and the intersected bounds (in the
/// `challenger − champion` scale).
#[derive(Debug, Clone, Copy)]
struct Track {
    p_min: f64,
    low: f64,
    high: f64,
}

impl Default for Track {
    fn default() -> Self {
        Self {
            p_min: 1.0,
            low: f64::NEG_INFINITY,
            high: f64::INFINITY,
        }
    }
}

/// A champion/challenger contest over one route table revision.
///
/// Feed outcomes with [`record`](Self::record) (O(1), no clock read, no allocation), look with
/// [`look`](Self::look) as often as wanted (the statistics are always valid), and act on the
/// outcomes (see [`super::automation`]). Outcomes latch: once final, a challenger's outcome only
/// changes from promote to invalid if the contest is invalidated later.
///
/// ```
/// use std::sync::Arc;
/// use mlops_core::ManualClock;
/// use mlops_core::chrono::TimeDelta;
/// use mlops_governance::contest::{Better, ChallengerOutcome, Contest, ContestConfig, MetricSpec};
/// use mlops_registry::routing::RouteTable;
///
/// let table = RouteTable::builder("ranker@v1".parse()?).challenger("ranker@v2".parse()?, 50.0).build()?;
/// let config = ContestConfig::builder(MetricSpec::proportion("conversion", Better::Higher))
///     .min_samples(500)
///     .min_duration(TimeDelta::days(1))
///     .build()?;
/// let clock = Arc::new(ManualClock::default());
/// let mut contest = Contest::new(config, &table, clock.clone())?;
/// let (v1, v2) = ("1".parse()?, "2".parse()?);
/// for i in 0..4_000_u32 {
///     contest.record(v1, 0, f64::from(u8::from(i % 10 == 0)))?; // 10 %
///     contest.record(v2, 0, f64::from(u8::from(i % 5 == 0)))?; // 20 %
/// }
/// assert_eq!(contest.look().challengers[0].outcome, ChallengerOutcome::KeepRunning, "too early");
/// clock.advance(TimeDelta::days(1));
/// assert_eq!(contest.look().challengers[0].outcome, ChallengerOutcome::Promote);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Contest {
    config: ContestConfig,
    clock: Arc<dyn Clock>,
    model: ModelName,
    revision: ConfigRevision,
    started_at: DateTime<Utc>,
    /// Champion first, then challengers in table order.
    arms: Vec<Arm>,
    /// Per challenger (arm index − 1), per metric.
    tracks: Vec<Vec<Track>>,
    outcomes: Vec<ChallengerOutcome>,
    invalid: Option<String>,
    offered: u64,
    rejected: u64,
    alpha_each: f64,
}

impl Contest {
    /// A contest between the champion and every challenger of `table`, starting now.
    ///
    /// # Errors
    /// [`ContestError::NoChallenger`] if the table has none (or is killed).
    pub fn new(
        config: ContestConfig,
        table: &RouteTable,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ContestError> {
        let metrics = 1 + config.guardrails.len();
        let arms: Vec<Arm> = table
            .arms()
            .iter()
            .filter(|a| a.role != ArmRole::Shadow)
            .map(|a| Arm {
                version: a.version,
                moments: vec![Moments::default(); metrics],
                rejected: 0,
                removed: false,
            })
            .collect();
        let challengers = arms.len().saturating_sub(1);
        if challengers == 0 || table.is_killed() {
            return Err(ContestError::NoChallenger {
                revision: table.revision(),
            });
        }
        #[expect(clippy::cast_precision_loss, reason = "at most 15 challengers")]
        let alpha_each = config.alpha / challengers as f64;
        let started_at = clock.now();
        tracing::info!(model = %table.model(), revision = table.revision().get(), challengers,
            primary = %config.primary.name, "contest started");
        Ok(Self {
            tracks: vec![vec![Track::default(); metrics]; challengers],
            outcomes: vec![ChallengerOutcome::KeepRunning; challengers],
            config,
            clock,
            model: table.model().clone(),
            revision: table.revision(),
            started_at,
            arms,
            invalid: None,
            offered: 0,
            rejected: 0,
            alpha_each,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ContestConfig {
        &self.config
    }

    /// The route table revision the contest runs on.
    #[must_use]
    pub fn revision(&self) -> ConfigRevision {
        self.revision
    }

    /// The model.
    #[must_use]
    pub fn model(&self) -> &ModelName {
        &self.model
    }

    /// The champion's version.
    #[must_use]
    pub fn champion(&self) -> VersionNumber {
        self.arms
            .first()
            .map_or(VersionNumber::FIRST, |a| a.version)
    }

    /// The challengers' versions, in table order.
    pub fn challengers(&self) -> impl Iterator<Item = VersionNumber> + '_ {
        self.arms.iter().skip(1).map(|a| a.version)
    }

    /// Why the contest is invalid, if it is.
    #[must_use]
    pub fn invalid_reason(&self) -> Option<&str> {
        self.invalid.as_deref()
    }

    /// Outcomes offered and rejected so far.
    #[must_use]
    pub fn rejected(&self) -> (u64, u64) {
        (self.offered, self.rejected)
    }

    /// The latched outcome of `version`.
    #[must_use]
    pub fn outcome(&self, version: VersionNumber) -> Option<ChallengerOutcome> {
        let i = self
            .arms
            .iter()
            .skip(1)
            .position(|a| a.version == version)?;
        self.outcomes.get(i).copied()
    }

    /// Records one outcome of `metric` (0 the primary, then the guardrails) for the arm serving
    /// `version`. O(1): no clock read, no allocation.
    ///
    /// # Errors
    /// [`ContestError::UnknownArm`], [`ContestError::ArmRemoved`], [`ContestError::UnknownMetric`];
    /// [`ContestError::NonFinite`] and, for a proportion, [`ContestError::OutOfRange`] — these two
    /// are counted as rejected (too many invalidate the contest at the next look).
    #[inline]
    pub fn record(
        &mut self,
        version: VersionNumber,
        metric: usize,
        value: f64,
    ) -> Result<(), ContestError> {
        let kind = match self.config.metric(metric) {
            Some(m) => m.kind,
            None => return Err(ContestError::UnknownMetric { index: metric }),
        };
        let Some(arm) = self.arms.iter_mut().find(|a| a.version == version) else {
            return Err(ContestError::UnknownArm { version });
        };
        if arm.removed {
            return Err(ContestError::ArmRemoved { version });
        }
        self.offered += 1;
        if !value.is_finite() {
            arm.rejected += 1;
            self.rejected += 1;
            return Err(ContestError::NonFinite { version, value });
        }
        if kind == MetricKind::Proportion && !(0.0..=1.0).contains(&value) {
            arm.rejected += 1;
            self.rejected += 1;
            return Err(ContestError::OutOfRange { version, value });
        }
        if let Some(m) = arm.moments.get_mut(metric) {
            m.push(value);
        }
        Ok(())
    }

    /// Records an outcome for the arm a router [`Decision`] named.
    ///
    /// # Errors
    /// As [`Contest::record`]; [`ContestError::RevisionMoved`] if the decision was made under
    /// another revision (the outcome is not counted).
    pub fn record_decision(
        &mut self,
        decision: &Decision,
        metric: usize,
        value: f64,
    ) -> Result<(), ContestError> {
        if decision.revision != self.revision {
            return Err(ContestError::RevisionMoved {
                expected: self.revision,
                found: decision.revision,
                removed: Vec::new(),
            });
        }
        self.record(decision.version, metric, value)
    }

    /// Marks the contest invalid: no challenger will be promoted (a latched promotion becomes
    /// [`ChallengerOutcome::Invalid`]); rollbacks still happen.
    pub fn invalidate(&mut self, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!(model = %self.model, revision = self.revision.get(), %reason, "contest invalidated");
        for o in &mut self.outcomes {
            if matches!(
                o,
                ChallengerOutcome::Promote | ChallengerOutcome::KeepRunning
            ) {
                *o = ChallengerOutcome::Invalid;
            }
        }
        if self.invalid.is_none() {
            self.invalid = Some(reason);
        }
    }

    /// Applies the router's sample-ratio-mismatch evidence (check `routing.sample_ratio`): a
    /// failed check for this contest's revision invalidates the contest. Returns whether it did.
    /// Evidence of another check or another revision is ignored.
    pub fn apply_srm(&mut self, srm: &Evidence) -> bool {
        let same_revision = srm
            .details
            .get("revision")
            .is_none_or(|r| (*r - self.revision.get() as f64).abs() < 0.5);
        if srm.check.as_str() == SRM_CHECK && same_revision && !srm.passed() {
            self.invalidate(format!(
                "sample ratio mismatch at {} (p = {:.3e})",
                self.revision, srm.value
            ));
            true
        } else {
            false
        }
    }

    /// Checks the serving table: if its revision moved (someone else published or killed), the
    /// contest is invalidated, challengers no longer in it are stopped as removed, and the error
    /// says so. Otherwise the table's SRM check is applied ([`Contest::apply_srm`]) and its
    /// evidence returned (`None` while there is nothing to test).
    ///
    /// # Errors
    /// [`ContestError::RevisionMoved`].
    pub fn check_table(&mut self, table: &RouteTable) -> Result<Option<Evidence>, ContestError> {
        if table.revision() != self.revision {
            let present: Vec<VersionNumber> = if table.is_killed() {
                vec![]
            } else {
                table.arms().iter().map(|a| a.version).collect()
            };
            let mut removed = Vec::new();
            for (i, arm) in self.arms.iter_mut().enumerate().skip(1) {
                if !present.contains(&arm.version) && !arm.removed {
                    arm.removed = true;
                    removed.push(arm.version);
                    if let Some(o) = self.outcomes.get_mut(i - 1)
                        && !matches!(o, ChallengerOutcome::RollBackNow { .. })
                    {
                        *o = ChallengerOutcome::Stop {
                            reason: StopReason::Removed,
                        };
                    }
                }
            }
            let err = ContestError::RevisionMoved {
                expected: self.revision,
                found: table.revision(),
                removed,
            };
            self.invalidate(err.to_string());
            return Err(err);
        }
        let now = self.clock.now();
        let ev = table
            .exposures()
            .sample_ratio_check()
            .map(|r| r.to_evidence(now));
        if let Some(e) = &ev {
            self.apply_srm(e);
        }
        Ok(ev)
    }

    /// Follows a route-table change the host made on purpose (a ramp step, a challenger taken
    /// out): the contest moves to `table`'s revision without being invalidated, and challengers
    /// no longer in it stop as [`StopReason::Removed`]. Call it right after publishing, before
    /// [`Contest::check_table`]. Outcomes from both revisions are pooled: a ramp that changes the
    /// shares over time is sound when the metric has no strong time trend; when it may, start a
    /// new contest instead. Returns the removed challengers.
    ///
    /// # Errors
    /// [`ContestError::UnknownArm`] (nothing changed) if `table` serves an arm that is not in the
    /// contest; [`ContestError::NoChallenger`] if it is killed or keeps no contested challenger;
    /// [`ContestError::RevisionMoved`] if its revision is not newer than the contest's.
    pub fn follow(&mut self, table: &RouteTable) -> Result<Vec<VersionNumber>, ContestError> {
        if table.revision() <= self.revision {
            return Err(ContestError::RevisionMoved {
                expected: self.revision,
                found: table.revision(),
                removed: Vec::new(),
            });
        }
        if let Some(a) = table.arms().iter().find(|a| {
            !self
                .arms
                .iter()
                .any(|m| m.version == a.version && !m.removed)
        }) {
            return Err(ContestError::UnknownArm { version: a.version });
        }
        if table.is_killed() || table.arms().len() < 2 {
            return Err(ContestError::NoChallenger {
                revision: table.revision(),
            });
        }
        let present: Vec<VersionNumber> = table.arms().iter().map(|a| a.version).collect();
        let mut removed = Vec::new();
        for (i, arm) in self.arms.iter_mut().enumerate().skip(1) {
            if !arm.removed && !present.contains(&arm.version) {
                arm.removed = true;
                removed.push(arm.version);
                if let Some(o) = self.outcomes.get_mut(i - 1)
                    && !matches!(o, ChallengerOutcome::RollBackNow { .. })
                {
                    *o = ChallengerOutcome::Stop {
                        reason: StopReason::Removed,
                    };
                }
            }
        }
        tracing::info!(model = %self.model, from = self.revision.get(), to = table.revision().get(),
            removed = removed.len(), "contest follows a route table change");
        self.revision = table.revision();
        Ok(removed)
    }

    /// Adopts a revision the contest itself published (a rollback or a bandit reweighting).
    pub(crate) fn adopt_revision(&mut self, revision: ConfigRevision) {
        self.revision = revision;
    }

    /// Whether `version` was removed from the contest (rolled back, or gone from the table).
    #[must_use]
    pub fn is_removed(&self, version: VersionNumber) -> bool {
        self.arms
            .iter()
            .skip(1)
            .any(|a| a.version == version && a.removed)
    }

    pub(crate) fn mark_removed(&mut self, version: VersionNumber) {
        if let Some(a) = self.arms.iter_mut().skip(1).find(|a| a.version == version) {
            a.removed = true;
        }
    }

    pub(crate) fn set_outcome(&mut self, version: VersionNumber, outcome: ChallengerOutcome) {
        if let Some(i) = self.arms.iter().skip(1).position(|a| a.version == version)
            && let Some(o) = self.outcomes.get_mut(i)
        {
            *o = outcome;
        }
    }

    /// Looks at every challenger now: evaluates the statistics, latches outcomes and returns the
    /// report.
    #[must_use]
    pub fn look(&mut self) -> ContestReport {
        let now = self.clock.now();
        self.look_at(now)
    }

    /// [`Contest::look`] at a given instant (for replay).
    pub fn look_at(&mut self, now: DateTime<Utc>) -> ContestReport {
        if self.invalid.is_none() && self.offered >= 100 {
            #[expect(clippy::cast_precision_loss, reason = "a ratio of counts")]
            let frac = self.rejected as f64 / self.offered as f64;
            if frac > self.config.max_rejected_fraction {
                self.invalidate(format!(
                    "{} of {} outcomes rejected (NaN, infinite or out of range), more than {}",
                    self.rejected, self.offered, self.config.max_rejected_fraction
                ));
            }
        }
        let elapsed = now.signed_duration_since(self.started_at);
        let challengers = (1..self.arms.len())
            .map(|i| self.evaluate(i, now, elapsed))
            .collect();
        ContestReport {
            revision: self.revision,
            at: now,
            invalid: self.invalid.clone(),
            challengers,
        }
    }

    fn metric_report(&mut self, arm: usize, metric: usize) -> Option<MetricReport> {
        let spec = self.config.metric(metric)?;
        let mut champ = *self.arms.first()?.moments.get(metric)?;
        let mut chal = *self.arms.get(arm)?.moments.get(metric)?;
        if spec.kind == MetricKind::Proportion {
            champ = laplace_floor(champ);
            chal = laplace_floor(chal);
        }
        let sign = spec.better.sign();
        let warm = champ.n >= self.config.warmup && chal.n >= self.config.warmup;
        let track = self.tracks.get_mut(arm - 1)?.get_mut(metric)?;
        let fixed = match self.config.method {
            Method::FixedHorizon { per_arm } if metric == 0 => Some(per_arm),
            _ => None,
        };
        let (low, high, p) = match fixed {
            Some(per_arm) => {
                if champ.n >= per_arm && chal.n >= per_arm {
                    match z_test(&champ, &chal, self.alpha_each) {
                        Some(t) => (t.low, t.high, t.p_value),
                        None => (f64::NAN, f64::NAN, 1.0),
                    }
                } else {
                    (f64::NAN, f64::NAN, 1.0)
                }
            }
            None => {
                if warm && let Some(s) = msprt(&champ, &chal, spec.mixing_sd, self.alpha_each) {
                    track.p_min = track.p_min.min(s.p_value);
                    track.low = track.low.max(s.low);
                    track.high = track.high.min(s.high);
                    if track.low > track.high {
                        // An empty intersection means the plug-in model is off (the variance
                        // moved); fall back to the current interval rather than claim both.
                        track.low = s.low;
                        track.high = s.high;
                    }
                }
                if warm && track.low.is_finite() {
                    (track.low, track.high, track.p_min)
                } else {
                    (f64::NAN, f64::NAN, track.p_min)
                }
            }
        };
        let (imp_low, imp_high) = if sign > 0.0 {
            (low, high)
        } else {
            (-high, -low)
        };
        let (role, threshold) = match metric {
            0 => (MetricRole::Primary, self.config.min_improvement),
            i => (
                MetricRole::Guardrail,
                -self
                    .config
                    .guardrails
                    .get(i - 1)
                    .map_or(0.0, |g| g.tolerance),
            ),
        };
        Some(MetricReport {
            name: spec.name.clone(),
            role,
            n_champion: champ.n,
            n_challenger: chal.n,
            mean_champion: champ.mean,
            mean_challenger: chal.mean,
            improvement: sign * (chal.mean - champ.mean),
            improvement_low: imp_low,
            improvement_high: imp_high,
            p_value: p,
            threshold,
            alpha: self.alpha_each,
        })
    }

    fn evaluate(&mut self, arm: usize, now: DateTime<Utc>, elapsed: TimeDelta) -> ChallengerReport {
        let metrics: Vec<MetricReport> = (0..=self.config.guardrails.len())
            .filter_map(|m| self.metric_report(arm, m))
            .collect();
        let latched = self
            .outcomes
            .get(arm - 1)
            .copied()
            .unwrap_or(ChallengerOutcome::Invalid);
        let outcome = if latched.is_final() {
            latched
        } else {
            self.decide(&metrics, elapsed)
        };
        if outcome != latched {
            tracing::info!(model = %self.model, challenger = %self.arms.get(arm).map_or(0, |a| a.version.get()),
                outcome = %outcome, "contest outcome");
            if let Some(o) = self.outcomes.get_mut(arm - 1) {
                *o = outcome;
            }
        }
        let version = self
            .arms
            .get(arm)
            .map_or(VersionNumber::FIRST, |a| a.version);
        ChallengerReport {
            version: ModelRef::new(self.model.clone(), version),
            champion: ModelRef::new(self.model.clone(), self.champion()),
            outcome,
            metrics,
            rejected: self.arms.get(arm).map_or(0, |a| a.rejected),
            revision: self.revision,
            elapsed_seconds: elapsed.num_seconds(),
            at: now,
            invalid: self.invalid.clone(),
        }
    }

    /// The decision rules, in order: a guardrail significantly degraded beyond its tolerance →
    /// roll back (no minimum sample or duration beyond the warm-up); invalid data → invalid;
    /// before the minimum sample and duration → keep running; the primary's lower bound above
    /// the minimum improvement with every guardrail held → promote; the primary's upper bound at
    /// or below the minimum improvement (or the horizon reached) → stop; else keep running.
    fn decide(&self, metrics: &[MetricReport], elapsed: TimeDelta) -> ChallengerOutcome {
        for (i, g) in metrics.iter().enumerate().skip(1) {
            // Degradation = −improvement; significantly harmful when its lower bound exceeds
            // the tolerance, i.e. the improvement's upper bound is below −tolerance.
            if g.improvement_high < g.threshold {
                return ChallengerOutcome::RollBackNow { metric: i };
            }
        }
        if self.invalid.is_some() {
            return ChallengerOutcome::Invalid;
        }
        let Some(p) = metrics.first() else {
            return ChallengerOutcome::Invalid;
        };
        let n = p.n_champion.min(p.n_challenger);
        if n < self.config.min_samples || elapsed < self.config.min_duration {
            return ChallengerOutcome::KeepRunning;
        }
        let guards_held = metrics
            .iter()
            .skip(1)
            .all(|g| match self.config.guardrail_proof {
                GuardrailProof::NonInferior => g.improvement_low >= g.threshold,
                GuardrailProof::NotHarmful => g.improvement_high >= g.threshold,
            });
        if p.improvement_low > p.threshold && guards_held {
            return ChallengerOutcome::Promote;
        }
        if p.improvement_high <= p.threshold {
            return ChallengerOutcome::Stop {
                reason: StopReason::NotBetter,
            };
        }
        let horizon = match self.config.method {
            Method::FixedHorizon { per_arm } => Some(per_arm),
            Method::Sequential => self.config.max_samples,
        };
        if horizon.is_some_and(|h| n >= h) {
            return ChallengerOutcome::Stop {
                reason: StopReason::Horizon,
            };
        }
        ChallengerOutcome::KeepRunning
    }
}
