//! Guards: the requirements a transition must meet, and their evaluation.
//!
//! Their one home: a lifecycle's transitions carry guards that apply at every tier, and a policy
//! adds its own per tier (see [`crate::policy`], which re-exports these types).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use mlops_core::{
    Actor, ActorId, ActorKind, CheckName, Direction, Evidence, ModelRef, RiskTier, Role, Subject,
};
use serde::{Deserialize, Serialize};

use super::{EventName, StateDef};
use crate::names::Period;

/// A threshold a guard re-judges an evidence value against (instead of the one recorded in it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The side that passes.
    pub direction: Direction,
    /// The threshold.
    pub value: f64,
}

/// One requirement of a transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Guard {
    /// `count` sign-offs from distinct actors holding at least one of `roles`. Sign-offs by the
    /// version's author or the transition's requester never count (separation of duties).
    Approvals {
        /// How many distinct approvers.
        count: u32,
        /// The roles that may sign off (any one of them).
        roles: BTreeSet<Role>,
        /// Only people count, not services.
        #[serde(default)]
        humans_only: bool,
    },
    /// The named evidence check is present for the version (or its model), passed, is internally
    /// consistent, and was measured no longer than `max_age` ago and not in the future.
    Evidence {
        /// The check's name, such as `validation.auc`.
        check: CheckName,
        /// The oldest acceptable measurement.
        max_age: Period,
        /// Judge the value against this threshold instead of the recorded outcome.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<Threshold>,
    },
    /// The model card has non-empty values for these fields.
    Documentation {
        /// Required field names, such as `intended_use`.
        fields: Vec<String>,
    },
    /// No transition while `start <= now < end`.
    FreezeWindow {
        /// Start of the freeze (inclusive).
        start: DateTime<Utc>,
        /// End of the freeze (exclusive).
        end: DateTime<Utc>,
        /// Why (for people), such as `year-end close`.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    /// The version has been in its current state for at least `period`.
    MinTimeInState {
        /// The minimum stay.
        period: Period,
    },
    /// At least two distinct people other than the author and the requester signed off.
    TwoPersonRule,
}

/// The kind of a guard, for verdicts and audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GuardKind {
    /// [`Guard::Approvals`].
    Approvals,
    /// [`Guard::Evidence`].
    Evidence,
    /// [`Guard::Documentation`].
    Documentation,
    /// [`Guard::FreezeWindow`].
    FreezeWindow,
    /// [`Guard::MinTimeInState`].
    MinTimeInState,
    /// [`Guard::TwoPersonRule`].
    TwoPersonRule,
    /// The actor's permission to perform the action.
    Permission,
    /// The policy itself could not be evaluated (fail closed).
    Evaluation,
}

impl Guard {
    /// The guard's kind.
    #[must_use]
    pub fn kind(&self) -> GuardKind {
        match self {
            Self::Approvals { .. } => GuardKind::Approvals,
            Self::Evidence { .. } => GuardKind::Evidence,
            Self::Documentation { .. } => GuardKind::Documentation,
            Self::FreezeWindow { .. } => GuardKind::FreezeWindow,
            Self::MinTimeInState { .. } => GuardKind::MinTimeInState,
            Self::TwoPersonRule => GuardKind::TwoPersonRule,
        }
    }

    /// `count` sign-offs from people holding any of `roles`.
    #[must_use]
    pub fn approvals(count: u32, roles: impl IntoIterator<Item = Role>) -> Self {
        Self::Approvals {
            count,
            roles: roles.into_iter().collect(),
            humans_only: true,
        }
    }

    /// Passing evidence `check` no older than `max_age`.
    #[must_use]
    pub fn evidence(check: CheckName, max_age: Period) -> Self {
        Self::Evidence {
            check,
            max_age,
            threshold: None,
        }
    }

    /// Model-card `fields` present.
    #[must_use]
    pub fn documentation<S: Into<String>>(fields: impl IntoIterator<Item = S>) -> Self {
        Self::Documentation {
            fields: fields.into_iter().map(Into::into).collect(),
        }
    }

    /// At least `period` in the current state.
    #[must_use]
    pub fn min_time_in_state(period: Period) -> Self {
        Self::MinTimeInState { period }
    }

    /// Evaluates the guard.
    #[must_use]
    pub fn evaluate(&self, input: &GuardInput<'_>) -> GuardStatus {
        match self {
            Self::Approvals {
                count,
                roles,
                humans_only,
            } => {
                let got = input.count_signoffs(|s| {
                    (!humans_only || s.kind == ActorKind::Human)
                        && s.roles.iter().any(|r| roles.contains(r))
                });
                if got >= *count as usize {
                    GuardStatus::Met
                } else {
                    let roles: Vec<&str> = roles.iter().map(Role::as_str).collect();
                    GuardStatus::unmet(format!(
                        "{got} of {count} sign-offs from {}{} (author and requester excluded)",
                        roles.join(" / "),
                        if *humans_only { ", people only" } else { "" }
                    ))
                }
            }
            Self::TwoPersonRule => {
                let got = input.count_signoffs(|s| s.kind == ActorKind::Human);
                if got >= 2 {
                    GuardStatus::Met
                } else {
                    GuardStatus::unmet(format!(
                        "two-person rule: {got} of 2 distinct people signed off (author and requester excluded)"
                    ))
                }
            }
            Self::Evidence {
                check,
                max_age,
                threshold,
            } => evaluate_evidence(input, check, *max_age, *threshold),
            Self::Documentation { fields } => {
                let missing: Vec<&str> = fields
                    .iter()
                    .filter(|f| input.card.get(*f).is_none_or(|v| v.trim().is_empty()))
                    .map(String::as_str)
                    .collect();
                if missing.is_empty() {
                    GuardStatus::Met
                } else {
                    GuardStatus::unmet(format!(
                        "model card lacks {}",
                        missing
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Self::FreezeWindow { start, end, reason } => {
                if *start <= input.now && input.now < *end {
                    GuardStatus::unmet(format!(
                        "freeze window {start} – {end}{}{reason}",
                        if reason.is_empty() { "" } else { ": " }
                    ))
                } else {
                    GuardStatus::Met
                }
            }
            Self::MinTimeInState { period } => {
                let stayed = input.now.signed_duration_since(input.entered_at);
                if stayed >= period.as_delta() {
                    GuardStatus::Met
                } else {
                    GuardStatus::unmet(format!(
                        "{} in `{}` for {}s, at least {period} required",
                        input.version,
                        input.from.name,
                        stayed.num_seconds()
                    ))
                }
            }
        }
    }
}

fn evaluate_evidence(
    input: &GuardInput<'_>,
    check: &CheckName,
    max_age: Period,
    threshold: Option<Threshold>,
) -> GuardStatus {
    let about_this = |e: &&Evidence| match &e.subject {
        Subject::Version { version } => version == input.version,
        Subject::Model { model } => model == input.version.name(),
        Subject::Feature {
            version: Some(v), ..
        }
        | Subject::Segment {
            version: Some(v), ..
        } => v == input.version,
        _ => false,
    };
    let latest = input
        .evidence
        .iter()
        .filter(|e| &e.check == check)
        .filter(about_this)
        .filter(|e| e.measured_at <= input.now)
        .max_by_key(|e| e.measured_at);
    let Some(e) = latest else {
        return GuardStatus::unmet(format!("no evidence `{check}` for {}", input.version));
    };
    if !e.is_fresh(input.now, max_age.as_delta()) {
        return GuardStatus::unmet(format!(
            "evidence `{check}` measured at {} is older than {max_age}",
            e.measured_at
        ));
    }
    if !e.is_consistent() {
        return GuardStatus::unmet(format!(
            "evidence `{check}` is inconsistent: its outcome disagrees with its value"
        ));
    }
    match threshold {
        Some(t) if !t.direction.passes(e.value, t.value) => GuardStatus::unmet(format!(
            "evidence `{check}` = {} fails {} {}",
            e.value,
            t.direction.symbol(),
            t.value
        )),
        Some(_) => GuardStatus::Met,
        None if e.passed() => GuardStatus::Met,
        None => GuardStatus::unmet(format!(
            "evidence `{check}` = {} failed {} {}",
            e.value,
            e.direction.symbol(),
            e.threshold
        )),
    }
}

/// Whether a guard is met.
///
/// Exhaustive on purpose: a guard holds or it does not, and a caller must handle both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum GuardStatus {
    /// The requirement holds.
    Met,
    /// It does not, with the reason.
    Unmet {
        /// What is missing.
        reason: String,
    },
}

impl GuardStatus {
    fn unmet(reason: String) -> Self {
        Self::Unmet { reason }
    }

    /// Whether it is met.
    #[must_use]
    pub fn is_met(&self) -> bool {
        matches!(self, Self::Met)
    }
}

/// A sign-off given on an approval request, as the guards see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signoff {
    /// Who signed off.
    pub actor: ActorId,
    /// Person or service.
    pub kind: ActorKind,
    /// The roles they held when signing.
    pub roles: BTreeSet<Role>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Signoff {
    /// The sign-off of `actor` at `at`.
    #[must_use]
    pub fn of(actor: &Actor, at: DateTime<Utc>) -> Self {
        Self {
            actor: actor.id.clone(),
            kind: actor.kind,
            roles: actor.roles.clone(),
            at,
        }
    }
}

/// Everything a guard may look at. Built by the engine when it plans a transition.
#[derive(Debug, Clone, Copy)]
pub struct GuardInput<'a> {
    /// The version moving.
    pub version: &'a ModelRef,
    /// The model's risk tier.
    pub tier: RiskTier,
    /// Who registered the version, if known.
    pub author: Option<&'a ActorId>,
    /// Who requests the transition.
    pub requester: &'a Actor,
    /// The current state.
    pub from: &'a StateDef,
    /// The event.
    pub event: &'a EventName,
    /// The target state.
    pub to: &'a StateDef,
    /// When the version entered its current state.
    pub entered_at: DateTime<Utc>,
    /// The time of evaluation (from the injected clock).
    pub now: DateTime<Utc>,
    /// Sign-offs on the open approval request for this transition.
    pub signoffs: &'a [Signoff],
    /// Evidence supplied with the request.
    pub evidence: &'a [Evidence],
    /// The model card's fields.
    pub card: &'a BTreeMap<String, String>,
    /// The environment the transition happens in (selects the enforcement mode).
    pub environment: &'a str,
    /// The lifecycle transition's own guards (evaluated at every tier).
    pub transition_guards: &'a [Guard],
}

impl GuardInput<'_> {
    /// Whether `actor` is barred from signing off: the version's author or the requester.
    #[must_use]
    pub fn conflicted(&self, actor: &ActorId) -> bool {
        self.author == Some(actor) || &self.requester.id == actor
    }

    fn count_signoffs(&self, eligible: impl Fn(&Signoff) -> bool) -> usize {
        let mut seen: Vec<&ActorId> = Vec::new();
        for s in self.signoffs {
            if !self.conflicted(&s.actor) && eligible(s) && !seen.contains(&&s.actor) {
                seen.push(&s.actor);
            }
        }
        seen.len()
    }
}
