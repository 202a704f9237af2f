//! Per-rule counters: relaxed atomics, sharded per thread on their own cache lines so threads
//! evaluating one policy do not contend, summed into a [`CounterSnapshot`] off the request path
//! and carried to governance as `mlops_core::Evidence`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use mlops_core::{CheckName, Clock, Direction, Evidence, ModelRef, Subject};
use serde::{Deserialize, Serialize};

use super::error::{HumilityError, Result};
use super::evaluation::{FiredRules, RuleId};

/// Counters on one line: 128 bytes, the prefetch pair of x86 and the line of Apple silicon.
const PER_LINE: usize = 16;

/// The most counter shards of a policy.
const MAX_SHARDS: usize = 64;

#[derive(Debug, Default)]
#[repr(align(128))]
struct Line([AtomicU64; PER_LINE]);

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: usize = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
}

/// Shards of `1 + 2 × rules` counters: evaluations, then fired and decided per rule.
#[derive(Debug)]
pub(crate) struct Counters {
    lines: Box<[Line]>,
    lines_per_shard: usize,
    shard_mask: usize,
}

impl Counters {
    pub(crate) fn new(rules: usize) -> Self {
        let shards = std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_mul(2))
            .clamp(1, MAX_SHARDS)
            .next_power_of_two();
        let lines_per_shard = (1 + 2 * rules).div_ceil(PER_LINE);
        Self {
            lines: (0..shards * lines_per_shard)
                .map(|_| Line::default())
                .collect(),
            lines_per_shard,
            shard_mask: shards - 1,
        }
    }

    #[inline]
    fn add(&self, first_line: usize, slot: usize) {
        if let Some(c) = self
            .lines
            .get(first_line + slot / PER_LINE)
            .and_then(|l| l.0.get(slot % PER_LINE))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one evaluation: every fired rule, and the rule that decided.
    #[inline]
    pub(crate) fn record(&self, fired: &FiredRules, decided: Option<RuleId>) {
        let shard = SLOT.with(|s| *s) & self.shard_mask;
        let first = shard * self.lines_per_shard;
        self.add(first, 0);
        for rule in fired.iter() {
            self.add(first, 1 + 2 * rule.index());
        }
        if let Some(rule) = decided {
            self.add(first, 2 + 2 * rule.index());
        }
    }

    fn total(&self, slot: usize) -> u64 {
        let shards = self.shard_mask + 1;
        (0..shards)
            .filter_map(|s| {
                self.lines
                    .get(s * self.lines_per_shard + slot / PER_LINE)
                    .and_then(|l| l.0.get(slot % PER_LINE))
            })
            .map(|c| c.load(Ordering::Relaxed))
            .fold(0_u64, u64::wrapping_add)
    }

    /// The evaluations, and `(fired, decided)` of each of the first `rules` rules.
    pub(crate) fn totals(&self, rules: usize) -> (u64, Vec<(u64, u64)>) {
        // Rules first, evaluations last: each evaluation counts itself first, so a snapshot
        // taken under load sees at least as many evaluations as the decisions it counts.
        let per_rule = (0..rules)
            .map(|i| (self.total(1 + 2 * i), self.total(2 + 2 * i)))
            .collect();
        (self.total(0), per_rule)
    }
}

/// The counts of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounts {
    /// The rule's name.
    pub name: String,
    /// Evaluations in which it fired.
    pub fired: u64,
    /// Evaluations in which it decided the verdict.
    pub decided: u64,
}

/// The counters of a compiled policy since it was compiled: every count is exact, but a
/// snapshot taken while other threads evaluate is not one instant (each counter is read once,
/// rules before evaluations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterSnapshot {
    /// Evaluations counted.
    pub evaluations: u64,
    /// Predictions served unchanged.
    pub accepted: u64,
    /// Predictions replaced by an override.
    pub overridden: u64,
    /// Predictions rejected.
    pub rejected: u64,
    /// Per rule, in the policy's order.
    pub rules: Vec<RuleCounts>,
}

/// The thresholds of [`CounterSnapshot::to_evidence`]: the largest shares of rejected and of
/// overridden predictions that still pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvidenceThresholds {
    /// The largest passing share of rejected predictions (default 0.01).
    pub max_rejected_share: f64,
    /// The largest passing share of overridden predictions (default 0.05).
    pub max_overridden_share: f64,
}

impl Default for EvidenceThresholds {
    fn default() -> Self {
        Self {
            max_rejected_share: 0.01,
            max_overridden_share: 0.05,
        }
    }
}

impl CounterSnapshot {
    pub(crate) fn new(
        evaluations: u64,
        rules: Vec<RuleCounts>,
        overridden: u64,
        rejected: u64,
    ) -> Self {
        Self {
            evaluations,
            accepted: evaluations.saturating_sub(overridden.saturating_add(rejected)),
            overridden,
            rejected,
            rules,
        }
    }

    /// The counts of the rule named `name`.
    #[must_use]
    pub fn rule(&self, name: &str) -> Option<&RuleCounts> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Rejected predictions as a share of evaluations (NaN before the first evaluation).
    #[must_use]
    pub fn rejected_share(&self) -> f64 {
        share(self.rejected, self.evaluations)
    }

    /// Overridden predictions as a share of evaluations (NaN before the first evaluation).
    #[must_use]
    pub fn overridden_share(&self) -> f64 {
        share(self.overridden, self.evaluations)
    }

    /// The counters as evidence about `version`, measured at `clock.now()`:
    /// `humility.rejected_share` ([`Direction::AtMost`] `max_rejected_share`) and
    /// `humility.overridden_share` (`AtMost` `max_overridden_share`). With no evaluation the
    /// shares are NaN and fail (fail closed). Details: `evaluations`, `accepted`, `overridden`,
    /// `rejected`, and `fired.<rule>` per rule.
    ///
    /// # Errors
    /// [`HumilityError::InvalidParameter`] if a check name cannot be built (it always can).
    pub fn to_evidence(
        &self,
        version: &ModelRef,
        thresholds: &EvidenceThresholds,
        clock: &dyn Clock,
    ) -> Result<Vec<Evidence>> {
        let at = clock.now();
        let make = |check: &str, value: f64, threshold: f64| -> Result<Evidence> {
            let name = CheckName::new(check).map_err(|e| HumilityError::InvalidParameter {
                name: "check",
                reason: e.to_string(),
            })?;
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
            let ev = self.rules.iter().fold(
                Evidence::new(
                    name,
                    Subject::Version {
                        version: version.clone(),
                    },
                    value,
                    threshold,
                    Direction::AtMost,
                    at,
                )
                .with_source("mlops-drift/humility")
                .with_detail("evaluations", self.evaluations as f64)
                .with_detail("accepted", self.accepted as f64)
                .with_detail("overridden", self.overridden as f64)
                .with_detail("rejected", self.rejected as f64),
                |ev, r| ev.with_detail(format!("fired.{}", r.name), r.fired as f64),
            );
            Ok(ev)
        };
        Ok(vec![
            make(
                "humility.rejected_share",
                self.rejected_share(),
                thresholds.max_rejected_share,
            )?,
            make(
                "humility.overridden_share",
                self.overridden_share(),
                thresholds.max_overridden_share,
            )?,
        ])
    }
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^53")]
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}
