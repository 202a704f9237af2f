//! Model-based property test over the whole public API: arbitrary sequences of calls by
//! arbitrary actors through the governance engine, the `Registry` facade, aggregate methods
//! committed raw to the store, version creation, audit appends and the seal, with the clock and
//! the directory changing underneath. After every step:
//!
//! - no version is in a protected state without the governance record that put it there, and
//!   that record is either an override by an actor holding the override role, or a transition
//!   that a fresh evaluation of the policy, on the sign-offs of the request it fulfilled,
//!   allows;
//! - `champion` points exactly at the production version, if any;
//! - the risk tier is the one the model was registered with;
//! - the audit chain verifies and the consistency check passes;
//! - no code but the engine can claim the seal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use mlops_governance::lifecycle::EventName;
use std::collections::BTreeMap;
use std::sync::Arc;

use mlops_core::chrono::TimeDelta;
use mlops_core::{Actor, AliasName, Clock, ModelName, ModelRef, RiskTier, Role, Subject};
use mlops_governance::approval::ApprovalId;
use mlops_governance::audit::{AuditLog, AuditLogExt};
use mlops_governance::engine::PlanContext;
use mlops_governance::policy::{Guard, GuardInput, PolicySpec, TierRules};
use mlops_registry::Registry;
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::governed::GovernanceSeal;
use mlops_registry::model::{Protection, StateName};
use mlops_registry::store::{ModelStore, NewVersion};
use proptest::prelude::*;
use support::{World, state};

const EVENTS: [&str; 9] = [
    "submit",
    "validate",
    "promote",
    "retire",
    "rollback",
    "reject",
    "reinstate",
    "archive",
    "rework",
];
const STATES: [&str; 7] = [
    "development",
    "validation",
    "pre_production",
    "production",
    "retired",
    "rejected",
    "archived",
];
const ALIASES: [&str; 2] = ["champion", "challenger"];
const ACTIONS: [&str; 4] = [
    "governance.approval.approved",
    "governance.transition.applied",
    "governance.risk_tier.changed",
    "host.report.exported",
];
const TIER: RiskTier = RiskTier::Medium;

#[derive(Debug, Clone)]
enum Op {
    Transition { v: usize, event: usize, who: usize },
    Approve { v: usize, who: usize },
    Reject { v: usize, who: usize },
    Reopen { v: usize, who: usize },
    Cancel { v: usize, who: usize },
    BreakGlass { v: usize, event: usize, who: usize },
    FacadeSetAlias { alias: usize, v: usize },
    FacadeRemoveAlias { alias: usize },
    FacadeUpdateState { v: usize, state: usize },
    FacadeUpdateTier { tier: usize },
    FacadeUnprotect { alias: usize },
    RawCommitState { v: usize, state: usize },
    RawCommitAlias { alias: usize, v: usize },
    RawCreateVersion { state: usize },
    AuditAppend { action: usize, who: usize },
    ClaimSeal,
    Demote { who: usize },
    Restore { who: usize },
    Advance { hours: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    let v = 0..3usize;
    let who = 0..8usize;
    prop_oneof![
        8 => (v.clone(), 0..3usize, who.clone()).prop_map(|(v, event, who)| Op::Transition { v, event, who }),
        3 => (v.clone(), 0..EVENTS.len(), who.clone()).prop_map(|(v, event, who)| Op::Transition { v, event, who }),
        5 => (v.clone(), who.clone()).prop_map(|(v, who)| Op::Approve { v, who }),
        1 => (v.clone(), who.clone()).prop_map(|(v, who)| Op::Reject { v, who }),
        1 => (v.clone(), who.clone()).prop_map(|(v, who)| Op::Reopen { v, who }),
        1 => (v.clone(), who.clone()).prop_map(|(v, who)| Op::Cancel { v, who }),
        1 => (v.clone(), 0..EVENTS.len(), who.clone()).prop_map(|(v, event, who)| Op::BreakGlass { v, event, who }),
        2 => (0..2usize, v.clone()).prop_map(|(alias, v)| Op::FacadeSetAlias { alias, v }),
        1 => (0..2usize).prop_map(|alias| Op::FacadeRemoveAlias { alias }),
        2 => (v.clone(), 0..STATES.len()).prop_map(|(v, state)| Op::FacadeUpdateState { v, state }),
        1 => (0..4usize).prop_map(|tier| Op::FacadeUpdateTier { tier }),
        1 => (0..2usize).prop_map(|alias| Op::FacadeUnprotect { alias }),
        2 => (v.clone(), 0..STATES.len()).prop_map(|(v, state)| Op::RawCommitState { v, state }),
        1 => (0..2usize, v.clone()).prop_map(|(alias, v)| Op::RawCommitAlias { alias, v }),
        1 => (0..STATES.len()).prop_map(|state| Op::RawCreateVersion { state }),
        2 => (0..ACTIONS.len(), who.clone()).prop_map(|(action, who)| Op::AuditAppend { action, who }),
        1 => Just(Op::ClaimSeal),
        1 => who.clone().prop_map(|who| Op::Demote { who }),
        1 => who.prop_map(|who| Op::Restore { who }),
        1 => (1..30i64).prop_map(|hours| Op::Advance { hours }),
    ]
}

fn policy() -> mlops_governance::policy::Policy {
    PolicySpec::new("whole-api")
        .tier(
            TIER,
            TierRules::default()
                .entering(
                    state("pre_production"),
                    Guard::approvals(1, [Role::model_validator()]),
                )
                .entering(
                    state("production"),
                    Guard::approvals(1, [Role::risk_officer()]),
                ),
        )
        .validate()
        .unwrap()
}

struct Harness {
    w: World,
    registry: Registry<Arc<dyn ModelStore>>,
    versions: Vec<ModelRef>,
    actors: Vec<Actor>,
}

impl Harness {
    fn new() -> Self {
        let w = World::new(policy());
        let versions: Vec<ModelRef> = (0..3).map(|_| w.version("scorer", TIER)).collect();
        let registry = Registry::new(w.store_dyn(), Arc::new(w.clock.clone())).unwrap();
        let actors = w.cast.all();
        Self {
            w,
            registry,
            versions,
            actors,
        }
    }

    fn model(&self) -> ModelName {
        self.versions[0].name().clone()
    }

    fn open_request(&self, v: usize) -> Option<ApprovalId> {
        let book = self.w.gov.approvals().unwrap();
        book.iter()
            .filter(|r| r.version == self.versions[v])
            .map(|r| r.id.clone())
            .last()
    }

    /// Applies `op`; errors are expected outcomes (refusals), never panics.
    fn step(&self, op: &Op) {
        let w = &self.w;
        let ctx = PlanContext::default();
        let model = self.model();
        let now = w.clock.now();
        let by = &self.actors[0].id;
        match *op {
            Op::Transition { v, event, who } => {
                let _ = w.gov.transition(
                    &self.versions[v],
                    &ev(EVENTS[event]),
                    &self.actors[who].id,
                    &ctx,
                );
            }
            Op::Approve { v, who }
            | Op::Reject { v, who }
            | Op::Reopen { v, who }
            | Op::Cancel { v, who } => {
                if let Some(id) = self.open_request(v) {
                    let actor = &self.actors[who].id;
                    let _ = match op {
                        Op::Approve { .. } => w.gov.approve(&id, actor, "ok").map(|_| ()),
                        Op::Reject { .. } => w.gov.reject(&id, actor, "no").map(|_| ()),
                        Op::Reopen { .. } => w.gov.reopen(&id, actor, "try again").map(|_| ()),
                        _ => w.gov.cancel(&id, actor).map(|_| ()),
                    };
                }
            }
            Op::BreakGlass { v, event, who } => {
                let _ = w.gov.break_glass(
                    &self.versions[v],
                    &ev(EVENTS[event]),
                    &self.actors[who].id,
                    "incident",
                    &ctx,
                );
            }
            Op::FacadeSetAlias { alias, v } => {
                let alias = AliasName::new(ALIASES[alias]).unwrap();
                let _ = self.registry.set_alias(
                    &model,
                    &alias,
                    self.versions[v].version(),
                    &self.actors[0],
                );
            }
            Op::FacadeRemoveAlias { alias } => {
                let alias = AliasName::new(ALIASES[alias]).unwrap();
                let _ = self.registry.remove_alias(&model, &alias, &self.actors[0]);
            }
            Op::FacadeUpdateState { v, state: s } => {
                let _ = self.registry.update(&model, |agg| {
                    agg.set_state(self.versions[v].version(), state(STATES[s]), by, now)?;
                    Ok(((), vec![]))
                });
            }
            Op::FacadeUpdateTier { tier } => {
                let _ = self.registry.update(&model, |agg| {
                    agg.model_mut().risk_tier = RiskTier::ALL[tier];
                    Ok(((), vec![]))
                });
            }
            Op::FacadeUnprotect { alias } => {
                let _ = self.registry.update(&model, |agg| {
                    agg.set_protected(
                        AliasName::new(ALIASES[alias]).unwrap(),
                        Protection::Unprotected,
                    );
                    Ok(((), vec![]))
                });
            }
            Op::RawCommitState { v, state: s } => {
                let mut agg = w.store.get_model(&model).unwrap();
                let rev = agg.revision();
                if agg
                    .set_state(self.versions[v].version(), state(STATES[s]), by, now)
                    .is_ok()
                {
                    let _ = w.store.commit(&model, rev, agg, vec![]);
                }
            }
            Op::RawCommitAlias { alias, v } => {
                let mut agg = w.store.get_model(&model).unwrap();
                let rev = agg.revision();
                let alias = AliasName::new(ALIASES[alias]).unwrap();
                if agg
                    .set_alias(alias, self.versions[v].version(), by, now)
                    .is_ok()
                {
                    let _ = w.store.commit(&model, rev, agg, vec![]);
                }
            }
            Op::RawCreateVersion { state: s } => {
                let core = w
                    .store
                    .get_version(&self.versions[0])
                    .unwrap()
                    .core()
                    .clone();
                let _ = w.store.create_version(
                    NewVersion::new(model.clone(), core).with_initial_state(state(STATES[s])),
                );
            }
            Op::AuditAppend { action, who } => {
                let draft = AuditDraft::new(
                    now,
                    self.actors[who].clone(),
                    AuditAction::new(ACTIONS[action]).unwrap(),
                    Subject::Version {
                        version: self.versions[0].clone(),
                    },
                );
                let _ = w.gov.audit_log().append(vec![draft.clone()]);
                let _ = w.store.append_audit(vec![draft]);
            }
            Op::ClaimSeal => assert!(GovernanceSeal::claim().is_none()),
            Op::Demote { who } => {
                let a = &self.actors[who];
                w.gov.add_actor(Actor::new(a.id.clone(), a.kind));
            }
            Op::Restore { who } => w.gov.add_actor(self.actors[who].clone()),
            Op::Advance { hours } => w.clock.advance(TimeDelta::hours(hours)),
        }
    }

    /// The invariants of the module docs.
    fn check(&self) -> Result<(), TestCaseError> {
        let w = &self.w;
        w.gov.audit_log().verify().unwrap();
        if let Err(e) = w.gov.verify_consistency().unwrap() {
            return Err(TestCaseError::fail(e.to_string()));
        }
        prop_assert!(GovernanceSeal::claim().is_none());
        let agg = w.store.get_model(&self.model()).unwrap();
        prop_assert_eq!(agg.model().risk_tier, TIER);
        let production: Vec<_> = agg
            .versions()
            .iter()
            .filter(|(_, s)| s.state.as_str() == "production")
            .map(|(n, _)| *n)
            .collect();
        prop_assert!(production.len() <= 1);
        prop_assert_eq!(
            agg.alias(&AliasName::champion()),
            production.first().copied()
        );
        let records = w.gov.audit_log().read_all().unwrap();
        for (n, status) in agg.versions() {
            if !agg.is_protected_state(&status.state) {
                continue;
            }
            let v = ModelRef::new(self.model(), *n);
            let entry = records.iter().rev().find(|r| {
                matches!(&r.draft.subject, Subject::Version { version } if *version == v)
                    && r.draft.state_after.as_ref() == Some(&status.state)
                    && [
                        AuditAction::TRANSITION_APPLIED.as_str(),
                        AuditAction::TRANSITION_OVERRIDDEN.as_str(),
                        AuditAction::TRANSITION_EVICTED.as_str(),
                    ]
                    .contains(&r.draft.action.as_str())
            });
            let Some(entry) = entry else {
                return Err(TestCaseError::fail(format!(
                    "{v} in {} with no governance record",
                    status.state
                )));
            };
            match entry.draft.action.as_str() {
                a if a == AuditAction::TRANSITION_OVERRIDDEN.as_str() => {
                    prop_assert!(
                        entry.draft.actor.has_role(&Role::incident_responder()),
                        "{:?}",
                        entry
                    );
                }
                a if a == AuditAction::TRANSITION_APPLIED.as_str() => self.reevaluate(&v, entry)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Evaluates the policy afresh on what the record says: the transition and the sign-offs
    /// of the request it fulfilled.
    fn reevaluate(
        &self,
        v: &ModelRef,
        entry: &mlops_registry::audit::AuditRecord,
    ) -> Result<(), TestCaseError> {
        let gov = &self.w.gov;
        let from = entry.draft.state_before.clone().unwrap();
        let event = entry.draft.details["event"].as_str().unwrap();
        let transition = gov.lifecycle().transition(&from, &ev(event)).unwrap();
        let signoffs = match entry.draft.details["approval"].as_str() {
            Some(id) => gov.approval(&id.parse().unwrap()).unwrap().signoffs(),
            None => Vec::new(),
        };
        let author = gov
            .store()
            .get_version(v)
            .unwrap()
            .core()
            .created_by()
            .id
            .clone();
        let input = GuardInput {
            version: v,
            tier: TIER,
            author: Some(&author),
            requester: &entry.draft.actor,
            from: gov.lifecycle().state(&from).unwrap(),
            event: &transition.event,
            to: gov.lifecycle().state(&transition.to).unwrap(),
            entered_at: entry.draft.at,
            now: entry.draft.at,
            signoffs: &signoffs,
            evidence: &[],
            card: &BTreeMap::new(),
            environment: gov.environment(),
            transition_guards: &transition.guards,
        };
        let verdict = gov.policy().evaluate(&input).unwrap();
        prop_assert!(
            verdict.is_allowed(),
            "{} entered {} on a verdict the policy denies: {}",
            v,
            transition.to,
            verdict
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 1000, ..ProptestConfig::default() })]

    #[test]
    fn no_path_to_a_protected_state_outside_a_gated_transition(ops in proptest::collection::vec(op(), 1..50)) {
        let h = Harness::new();
        for op in &ops {
            h.step(op);
            h.check()?;
        }
    }
}

#[test]
fn the_harness_reaches_production_by_the_rules() {
    // The main path through the harness's own calls, so the property above is not vacuous.
    let h = Harness::new();
    let (eve, val, rita) = (1, 2, 3);
    for op in [
        Op::Transition {
            v: 0,
            event: 0,
            who: eve,
        },
        Op::Transition {
            v: 0,
            event: 1,
            who: eve,
        },
        Op::Approve { v: 0, who: val },
        Op::Transition {
            v: 0,
            event: 1,
            who: eve,
        },
        Op::Transition {
            v: 0,
            event: 2,
            who: eve,
        },
        Op::Approve { v: 0, who: rita },
        Op::Transition {
            v: 0,
            event: 2,
            who: eve,
        },
    ] {
        h.step(&op);
        h.check().unwrap();
    }
    assert_eq!(h.w.state_of(&h.versions[0]), "production");
    let _: StateName = state("production");
}

/// The model speaks in strings; the engine takes typed event names.
fn ev(name: &str) -> EventName {
    EventName::new(name).unwrap()
}
