//! The compiled form the request path evaluates: features addressed by index, category sets
//! pre-hashed, bins pre-marked, and a small `Copy` [`Decision`] per prediction, without
//! allocating.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::MAX_RULES;
use super::categories::CategorySet;
use super::counters::{CounterSnapshot, Counters, RuleCounts};
use super::error::{HumilityError, Rejected, Result};
use super::rules::{Action, Combine, HumilityPolicy};
use super::schema::{FeatureKind, FeatureSchema};
use super::triggers::{BandSide, Trigger, shorten};
use crate::stream::FeatureValue;

/// A rule's position in its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleId(u16);

impl RuleId {
    /// The id of the rule at `index` in its policy (`None` at or above [`MAX_RULES`]).
    #[must_use]
    pub fn from_index(index: usize) -> Option<Self> {
        u16::try_from(index)
            .ok()
            .filter(|_| index < MAX_RULES)
            .map(Self)
    }

    /// The rule's index in [`HumilityPolicy::rules`].
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

const FIRED_WORDS: usize = MAX_RULES.div_ceil(64);

/// The set of rules that fired on one prediction (a bit set of [`MAX_RULES`] bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FiredRules([u64; FIRED_WORDS]);

impl FiredRules {
    #[inline]
    fn set(&mut self, index: usize) {
        if let Some(w) = self.0.get_mut(index / 64) {
            *w |= 1 << (index % 64);
        }
    }

    /// Whether `rule` fired.
    #[must_use]
    pub fn contains(&self, rule: RuleId) -> bool {
        let i = rule.index();
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// How many rules fired.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether no rule fired.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The rules that fired, in the policy's order.
    pub fn iter(&self) -> impl Iterator<Item = RuleId> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                RuleId::from_index(i * 64 + bit as usize)
            })
        })
    }
}

/// What to do with one prediction.
///
/// Exhaustive on purpose: the caller must handle every verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// Serve the model's prediction.
    Accept,
    /// Serve this value instead.
    Override(f64),
    /// Do not serve: answer with an error (see [`Rejected`]).
    Reject,
}

/// The outcome of evaluating a policy on one prediction: the verdict, the rule that decided it
/// (`None` when no acting rule fired) and every rule that fired. Small and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// What to do.
    pub verdict: Verdict,
    /// The rule whose action is the verdict.
    pub rule: Option<RuleId>,
    /// Every rule that fired, no-op rules included.
    pub fired: FiredRules,
}

impl Decision {
    /// The value to serve for `prediction`, or the typed rejection.
    ///
    /// # Errors
    /// [`Rejected`] naming the deciding rule when the verdict is [`Verdict::Reject`].
    pub fn apply(self, prediction: f64) -> std::result::Result<f64, Rejected> {
        match (self.verdict, self.rule) {
            (Verdict::Accept, _) => Ok(prediction),
            (Verdict::Override(v), _) => Ok(v),
            (Verdict::Reject, rule) => Err(Rejected {
                rule: rule.unwrap_or(RuleId(0)),
            }),
        }
    }
}

#[derive(Debug)]
enum Check {
    Inside {
        low: f64,
        high: f64,
    },
    Outside {
        low: f64,
        high: f64,
    },
    Bounds {
        index: usize,
        low: f64,
        high: f64,
    },
    Category {
        index: usize,
        allowed: CategorySet,
    },
    Sparse {
        index: usize,
        edges: Box<[f64]>,
        sparse: Box<[bool]>,
    },
    Missing {
        index: usize,
        kind: FeatureKind,
    },
}

impl Check {
    #[inline]
    fn fires(&self, score: f64, row: &[FeatureValue<'_>]) -> bool {
        match self {
            // NaN fails both comparisons: an uncertain band fires on it either way.
            Self::Inside { low, high } => score.is_nan() || (score >= *low && score <= *high),
            Self::Outside { low, high } => !(score >= *low && score <= *high),
            Self::Bounds { index, low, high } => {
                matches!(row.get(*index), Some(FeatureValue::Number(x)) if *x < *low || *x > *high)
            }
            Self::Category { index, allowed } => {
                matches!(row.get(*index), Some(FeatureValue::Category(c)) if !allowed.contains(c))
            }
            Self::Sparse {
                index,
                edges,
                sparse,
            } => match row.get(*index) {
                Some(FeatureValue::Number(x)) if !x.is_nan() => {
                    let bin = edges.partition_point(|&e| e <= *x);
                    sparse.get(bin).copied().unwrap_or(false)
                }
                _ => false,
            },
            Self::Missing { index, kind } => match (row.get(*index), kind) {
                (Some(FeatureValue::Number(x)), FeatureKind::Numeric) => x.is_nan(),
                (Some(FeatureValue::Category(_)), FeatureKind::Categorical) => false,
                _ => true,
            },
        }
    }
}

#[derive(Debug)]
struct CompiledRule {
    check: Check,
    severity: u8,
    verdict: Verdict,
}

/// A validated policy compiled against a [`FeatureSchema`]: what a service keeps (in an `Arc`,
/// shared by every request thread) and evaluates per prediction. `Send + Sync`.
#[derive(Debug)]
pub struct CompiledPolicy {
    rules: Box<[CompiledRule]>,
    names: Box<[Box<str>]>,
    combine: Combine,
    width: usize,
    counters: Counters,
    policy: HumilityPolicy,
}

impl CompiledPolicy {
    pub(crate) fn new(policy: &HumilityPolicy, schema: &FeatureSchema) -> Result<Self> {
        policy.validate()?;
        let mut rules = Vec::with_capacity(policy.rules.len());
        for rule in &policy.rules {
            let name = || shorten(&rule.name);
            let index = match rule.trigger.feature() {
                None => 0,
                Some(f) => {
                    let index =
                        schema
                            .index_of(f)
                            .ok_or_else(|| HumilityError::UnknownFeature {
                                rule: name(),
                                feature: shorten(f),
                            })?;
                    if let (Some(expected), Some((_, found))) =
                        (rule.trigger.needs(), schema.feature(index))
                        && expected != found
                    {
                        return Err(HumilityError::FeatureKind {
                            rule: name(),
                            feature: shorten(f),
                            expected,
                            found,
                        });
                    }
                    index
                }
            };
            let check = compile_trigger(&rule.trigger, index, schema).map_err(|reason| {
                HumilityError::InvalidRule {
                    rule: name(),
                    reason,
                }
            })?;
            let verdict = match rule.action {
                Action::Override { value } => Verdict::Override(value),
                Action::Reject => Verdict::Reject,
                Action::NoOp => Verdict::Accept,
            };
            rules.push(CompiledRule {
                check,
                severity: rule.action.severity(),
                verdict,
            });
        }
        Ok(Self {
            names: policy.rules.iter().map(|r| Box::from(&*r.name)).collect(),
            counters: Counters::new(rules.len()),
            rules: rules.into_boxed_slice(),
            combine: policy.combine,
            width: schema.len(),
            policy: policy.clone(),
        })
    }

    /// Decides what to do with one prediction (`score`, the model's output on `row`) and counts
    /// it. `row` holds the features in schema order; a row shorter than the schema has its
    /// last features absent (they fire missing-feature rules), values beyond the schema are
    /// ignored. No allocation, no lock: a few comparisons per rule and one relaxed atomic
    /// increment per evaluation and per fired rule. Rules that fired are logged as one `debug`
    /// event (target `mlops_drift::humility`).
    #[inline]
    pub fn evaluate(&self, score: f64, row: &[FeatureValue<'_>]) -> Decision {
        let decision = self.decide(score, row);
        self.counters.record(&decision.fired, decision.rule);
        if !decision.fired.is_empty() {
            tracing::debug!(
                target: "mlops_drift::humility",
                fired = decision.fired.len(),
                rule = decision.rule.and_then(|r| self.rule_name(r)),
                verdict = ?decision.verdict,
                "humility rules fired"
            );
        }
        decision
    }

    /// As [`CompiledPolicy::evaluate`] without counting or logging: a what-if.
    #[must_use]
    pub fn decide(&self, score: f64, row: &[FeatureValue<'_>]) -> Decision {
        let mut fired = FiredRules::default();
        let mut chosen: Option<usize> = None;
        let mut best = 0_u8;
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.check.fires(score, row) {
                fired.set(i);
                let decides = match self.combine {
                    Combine::MostSevere => rule.severity > best,
                    Combine::FirstMatch => best == 0 && rule.severity > 0,
                };
                if decides {
                    best = rule.severity;
                    chosen = Some(i);
                }
            }
        }
        let verdict = chosen
            .and_then(|i| self.rules.get(i))
            .map_or(Verdict::Accept, |r| r.verdict);
        Decision {
            verdict,
            rule: chosen.and_then(RuleId::from_index),
            fired,
        }
    }

    /// The name of `rule`.
    #[must_use]
    pub fn rule_name(&self, rule: RuleId) -> Option<&str> {
        self.names.get(rule.index()).map(|n| &**n)
    }

    /// The id of the rule named `name`.
    #[must_use]
    pub fn rule_id(&self, name: &str) -> Option<RuleId> {
        self.names
            .iter()
            .position(|n| &**n == name)
            .and_then(RuleId::from_index)
    }

    /// The number of rules.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the policy has no rules (every prediction is accepted).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The width of the schema it was compiled against.
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// How fired rules combine.
    #[must_use]
    pub fn combine(&self) -> Combine {
        self.combine
    }

    /// The policy it was compiled from (to store it, or show it).
    #[must_use]
    pub fn policy(&self) -> &HumilityPolicy {
        &self.policy
    }

    /// The counters since compilation, summed over every thread.
    #[must_use]
    pub fn counters(&self) -> CounterSnapshot {
        let (evaluations, per_rule) = self.counters.totals(self.rules.len());
        let (mut overridden, mut rejected) = (0_u64, 0_u64);
        let rules = per_rule
            .into_iter()
            .zip(self.rules.iter().zip(self.names.iter()))
            .map(|((fired, decided), (rule, name))| {
                match rule.verdict {
                    Verdict::Override(_) => overridden = overridden.wrapping_add(decided),
                    Verdict::Reject => rejected = rejected.wrapping_add(decided),
                    Verdict::Accept => {}
                }
                RuleCounts {
                    name: name.to_string(),
                    fired,
                    decided,
                }
            })
            .collect();
        CounterSnapshot::new(evaluations, rules, overridden, rejected)
    }
}

fn compile_trigger(
    trigger: &Trigger,
    index: usize,
    schema: &FeatureSchema,
) -> std::result::Result<Check, String> {
    Ok(match trigger {
        Trigger::UncertainScore { low, high, fires } => match fires {
            BandSide::Inside => Check::Inside {
                low: *low,
                high: *high,
            },
            BandSide::Outside => Check::Outside {
                low: *low,
                high: *high,
            },
        },
        Trigger::OutlyingInput { low, high, .. } => Check::Bounds {
            index,
            low: *low,
            high: *high,
        },
        Trigger::UnseenCategory { known, .. } => Check::Category {
            index,
            allowed: CategorySet::new(known.iter().map(String::as_str))?,
        },
        Trigger::RareCategory {
            counts, min_share, ..
        } => {
            let total = counts.values().fold(0_u64, |a, &c| a.saturating_add(c));
            #[expect(
                clippy::cast_precision_loss,
                reason = "a share needs only f64 precision"
            )]
            let floor = min_share * total as f64;
            #[expect(clippy::cast_precision_loss, reason = "as above")]
            let allowed = counts
                .iter()
                .filter(|&(_, &c)| c > 0 && c as f64 >= floor)
                .map(|(k, _)| k.as_str());
            Check::Category {
                index,
                allowed: CategorySet::new(allowed)?,
            }
        }
        Trigger::SparseBin {
            edges,
            counts,
            min_rows,
            ..
        } => Check::Sparse {
            index,
            edges: edges.as_slice().into(),
            sparse: counts.iter().map(|&c| c < *min_rows).collect(),
        },
        Trigger::MissingFeature { .. } => Check::Missing {
            index,
            kind: schema
                .feature(index)
                .map_or(FeatureKind::Numeric, |(_, k)| k),
        },
    })
}
