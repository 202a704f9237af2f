//! The conformance kit for [`PolicyEngine`] implementations.
//!
//! The kit asks about every transition of the default lifecycle at every risk tier, by an
//! actor without roles and by one holding every built-in role, without sign-offs or evidence.
//! What an engine decides is its own business; the kit checks what every engine owes its
//! caller: a stable identity, verdicts that name it and agree with their outcomes, answers that
//! depend only on the input, evaluation errors that deny, and refusals of the documented kinds.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, ModelRef, RiskTier, Role};

use crate::error::AuthorizationError;
use crate::lifecycle::Lifecycle;
use crate::policy::{Action, Decision, EnforcementMode, GuardInput, PolicyEngine, PolicyEngineExt};

const ACTIONS: [Action; 6] = [
    Action::Request,
    Action::Approve,
    Action::Override,
    Action::ChangePolicy,
    Action::Cancel,
    Action::RecordEvidence,
];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// The actors the kit asks about: one without roles, one with every built-in role.
fn actors() -> Vec<Actor> {
    let everything = Role::built_in()
        .into_iter()
        .fold(Actor::human("tk-all-roles").unwrap(), Actor::with_role);
    vec![Actor::human("tk-no-roles").unwrap(), everything]
}

/// Calls `f` with a guard input for every transition of the default lifecycle, at every tier,
/// requested by every kit actor.
fn for_each_input(mut f: impl FnMut(&GuardInput<'_>)) {
    let lifecycle = Lifecycle::default_lifecycle();
    let version: ModelRef = "tk-model@v1".parse().unwrap();
    let card = BTreeMap::new();
    for requester in actors() {
        for transition in lifecycle.transitions() {
            let from = lifecycle.state(&transition.from).unwrap();
            let to = lifecycle.state(&transition.to).unwrap();
            for tier in RiskTier::ALL {
                f(&GuardInput {
                    version: &version,
                    tier,
                    author: None,
                    requester: &requester,
                    from,
                    event: &transition.event,
                    to,
                    entered_at: now() - TimeDelta::days(400),
                    now: now(),
                    signoffs: &[],
                    evidence: &[],
                    card: &card,
                    environment: "production",
                    transition_guards: &transition.guards,
                });
            }
        }
    }
}

/// The identity does not change between calls.
pub fn identity_is_stable(engine: &dyn PolicyEngine) {
    let first = engine.identity();
    for _ in 0..3 {
        assert_eq!(
            engine.identity(),
            first,
            "an engine's identity must be stable"
        );
    }
}

/// Every verdict names the engine's identity and allows exactly when every guard is met.
pub fn verdicts_name_the_policy_and_agree_with_their_outcomes(engine: &dyn PolicyEngine) {
    for_each_input(|input| {
        if let Ok(verdict) = engine.evaluate(input) {
            assert_eq!(
                verdict.policy,
                engine.identity(),
                "a verdict must name the policy that decided"
            );
            let all_met = verdict.outcomes.iter().all(|o| o.status.is_met());
            assert_eq!(
                verdict.decision == Decision::Allow,
                all_met,
                "a verdict allows exactly when every guard is met: {verdict}"
            );
            assert_eq!(verdict.unmet().count() == 0, verdict.is_allowed());
        }
    });
}

/// Evaluating the same input twice gives the same answer (time comes from the input).
pub fn evaluation_depends_only_on_the_input(engine: &dyn PolicyEngine) {
    for_each_input(|input| {
        assert_eq!(
            engine.evaluate(input),
            engine.evaluate(input),
            "evaluation must depend only on its input"
        );
    });
}

/// [`PolicyEngineExt::evaluate_or_deny`] is the verdict when evaluation succeeds, and an
/// enforced denial naming the error when it fails (fail closed).
pub fn evaluation_errors_deny(engine: &dyn PolicyEngine) {
    for_each_input(|input| {
        let verdict = engine.evaluate_or_deny(input);
        match engine.evaluate(input) {
            Ok(v) => assert_eq!(verdict, v, "a successful evaluation is the verdict"),
            Err(e) => {
                assert_eq!(verdict.decision, Decision::Deny, "an error must deny");
                assert_eq!(verdict.mode, EnforcementMode::Enforce, "and be enforced");
                assert!(!verdict.proceeds());
                assert!(
                    verdict.reasons().iter().any(|r| r.contains(&e.to_string())),
                    "the denial must give the error as its reason"
                );
            }
        }
    });
}

/// Authorizing the same actor for the same action twice gives the same answer.
pub fn authorization_depends_only_on_the_input(engine: &dyn PolicyEngine) {
    for actor in actors() {
        for action in ACTIONS {
            assert_eq!(
                engine.authorize(&actor, action, None),
                engine.authorize(&actor, action, None),
                "authorization must depend only on its input"
            );
        }
    }
    for_each_input(|input| {
        assert_eq!(
            engine.authorize(input.requester, Action::Approve, Some(input)),
            engine.authorize(input.requester, Action::Approve, Some(input)),
        );
    });
}

/// A refusal is one of the documented kinds and names the actor refused; a wrong-role refusal
/// only answers whether someone may sign off on a given transition.
pub fn refusals_name_the_actor(engine: &dyn PolicyEngine) {
    for actor in actors() {
        for action in ACTIONS {
            match engine.authorize(&actor, action, None) {
                Ok(()) | Err(AuthorizationError::Evaluation { .. }) => {}
                Err(AuthorizationError::MissingRole {
                    actor: who,
                    action: refused,
                    ..
                }) => {
                    assert_eq!(who, actor.id.as_str(), "a refusal names the actor");
                    assert_eq!(refused, action, "a refusal names the action");
                }
                Err(e @ AuthorizationError::WrongRole { .. }) => {
                    panic!("a wrong-role refusal without a transition to sign off on: {e}")
                }
            }
        }
    }
    for_each_input(
        |input| match engine.authorize(input.requester, Action::Approve, Some(input)) {
            Ok(()) | Err(AuthorizationError::Evaluation { .. }) => {}
            Err(
                AuthorizationError::MissingRole { actor: who, .. }
                | AuthorizationError::WrongRole { actor: who, .. },
            ) => assert_eq!(
                who,
                input.requester.id.as_str(),
                "a refusal names the actor"
            ),
        },
    );
}

/// Runs every behaviour above.
pub fn run_all(engine: &dyn PolicyEngine) {
    identity_is_stable(engine);
    verdicts_name_the_policy_and_agree_with_their_outcomes(engine);
    evaluation_depends_only_on_the_input(engine);
    evaluation_errors_deny(engine);
    authorization_depends_only_on_the_input(engine);
    refusals_name_the_actor(engine);
}
