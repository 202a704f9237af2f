//! Shared fixtures: a bank-like policy, a cast of actors, a manual clock and an in-memory store.
#![allow(dead_code, unreachable_pub)]

pub mod race;

use std::sync::Arc;

use mlops_core::chrono::{DateTime, TimeZone, Utc};
use mlops_core::{Actor, Direction, Evidence, ManualClock, ModelRef, RiskTier, Role, Subject};
use mlops_governance::engine::{Governance, PlanContext};
use mlops_governance::lifecycle::StateName;
use mlops_governance::policy::{Guard, Policy, PolicySpec, TierRules};
use mlops_registry::store::{InMemoryStore, ModelStore};

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn state(s: &str) -> StateName {
    s.parse().unwrap()
}

pub struct Cast {
    pub alice: Actor,
    pub eve: Actor,
    pub val: Actor,
    pub rita: Actor,
    pub carl: Actor,
    pub ivan: Actor,
    pub gina: Actor,
    pub aud: Actor,
}

impl Cast {
    pub fn new() -> Self {
        let h = |id: &str, r: Role| Actor::human(id).unwrap().with_role(r);
        Self {
            // The author also validates other teams' models; the requester is also a risk
            // officer: separation of duties must stop both from signing off here.
            alice: h("alice", Role::data_scientist()).with_role(Role::model_validator()),
            eve: h("eve", Role::ml_engineer()).with_role(Role::risk_officer()),
            val: h("val", Role::model_validator()),
            rita: h("rita", Role::risk_officer()),
            carl: h("carl", Role::compliance_officer()),
            ivan: h("ivan", Role::incident_responder()),
            gina: h("gina", Role::governance_admin()),
            aud: h("aud", Role::auditor()),
        }
    }

    pub fn all(&self) -> Vec<Actor> {
        vec![
            self.alice.clone(),
            self.eve.clone(),
            self.val.clone(),
            self.rita.clone(),
            self.carl.clone(),
            self.ivan.clone(),
            self.gina.clone(),
            self.aud.clone(),
        ]
    }
}

/// The bank template: low tier free, medium needs a validator for production, high and critical
/// need validation evidence, a validator for pre-production, a risk officer, documentation and a
/// week in pre-production for production (critical adds the built-in two-person rule).
pub fn bank_policy() -> Policy {
    let auc = || Guard::evidence("validation.auc".parse().unwrap(), "30d".parse().unwrap());
    let strict = TierRules::default()
        .entering(
            state("pre_production"),
            Guard::approvals(1, [Role::model_validator()]),
        )
        .entering(state("pre_production"), auc())
        .entering(
            state("production"),
            Guard::approvals(1, [Role::risk_officer()]),
        )
        .entering(
            state("production"),
            Guard::documentation(["intended_use", "limitations"]),
        )
        .entering(
            state("production"),
            Guard::min_time_in_state("7d".parse().unwrap()),
        );
    PolicySpec::new("bank")
        .tier(
            RiskTier::Medium,
            TierRules::default().entering(
                state("production"),
                Guard::approvals(1, [Role::model_validator()]),
            ),
        )
        .tier(RiskTier::High, strict.clone())
        .tier(RiskTier::Critical, strict)
        .validate()
        .unwrap()
}

pub struct World {
    pub clock: ManualClock,
    pub store: Arc<InMemoryStore>,
    pub gov: Governance,
    pub cast: Cast,
}

impl World {
    pub fn new(policy: Policy) -> Self {
        Self::in_environment(policy, "prod")
    }

    /// A world whose engine serves `environment` (which selects the enforcement mode).
    pub fn in_environment(policy: Policy, environment: &str) -> Self {
        let clock = ManualClock::new(start());
        let store = Arc::new(InMemoryStore::new());
        let cast = Cast::new();
        let gov = Governance::builder(store.clone(), Arc::new(clock.clone()))
            .policy(policy)
            .unwrap()
            .actors(cast.all())
            .approval_ttl("3d".parse().unwrap())
            .environment(environment)
            .build();
        Self {
            clock,
            store,
            gov,
            cast,
        }
    }

    pub fn store_dyn(&self) -> Arc<dyn ModelStore> {
        self.store.clone()
    }

    pub fn version(&self, model: &str, tier: RiskTier) -> ModelRef {
        self.gov
            .register_version_for_test(model, &self.cast.alice, tier)
            .unwrap()
    }

    pub fn state_of(&self, v: &ModelRef) -> String {
        self.store.get_version(v).unwrap().state().to_string()
    }

    /// Evidence and documentation that satisfy the bank policy now.
    pub fn ready_context(&self, v: &ModelRef) -> PlanContext {
        use mlops_core::Clock;
        PlanContext::default()
            .with_evidence(Evidence::new(
                "validation.auc".parse().unwrap(),
                Subject::Version { version: v.clone() },
                0.91,
                0.85,
                Direction::AtLeast,
                self.clock.now(),
            ))
            .with_card_field("intended_use", "card-fraud scoring")
            .with_card_field("limitations", "EU cardholders only")
    }
}
