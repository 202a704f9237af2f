//! Fixtures for the template tests: three use cases (one per risk tier), versions with lineage, and
//! passing evidence.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;

use mlops_core::{Clock, Digest, Direction, Evidence, ModelName, ModelRef, RiskTier, Subject};
use mlops_governance::classification::{
    Availability, Consumers, ErrorImpact, Explainability, Lifetime, QualityDecay, Questionnaire,
    Regulation, ReleaseCadence, Severity,
};
use mlops_governance::engine::PlanContext;
use mlops_registry::model::{DatasetRole, StateName, VersionCore};
use mlops_registry::store::{ModelStore, NewVersion};

use super::support::World;

/// An internal ad-hoc analysis.
pub fn ad_hoc_analysis() -> Questionnaire {
    Questionnaire {
        regulations: Some(BTreeSet::new()),
        consumers: Some(Consumers::Internal),
        availability: Some(Availability::AdHoc),
        impact: Some(ErrorImpact {
            financial: Severity::Limited,
            ..ErrorImpact::none()
        }),
        release_cadence: Some(ReleaseCadence::Rarely),
        model_lifetime: Some(Lifetime::Days),
        decision_lifetime: Some(Lifetime::Days),
        quality_decay: Some(QualityDecay::Slow),
        explainability: Some(Explainability::NotNeeded),
    }
}

/// An internal scheduled model (a demand forecast run nightly).
pub fn scheduled_forecast() -> Questionnaire {
    Questionnaire {
        regulations: Some(BTreeSet::new()),
        consumers: Some(Consumers::Internal),
        availability: Some(Availability::ScheduledBatch),
        impact: Some(ErrorImpact {
            financial: Severity::Significant,
            ..ErrorImpact::none()
        }),
        release_cadence: Some(ReleaseCadence::Monthly),
        model_lifetime: Some(Lifetime::Months),
        decision_lifetime: Some(Lifetime::Months),
        quality_decay: Some(QualityDecay::Moderate),
        explainability: Some(Explainability::Helpful),
    }
}

/// A public-facing credit decision.
pub fn credit_decision() -> Questionnaire {
    Questionnaire {
        regulations: Some(BTreeSet::from([
            Regulation::Sector,
            Regulation::Regional,
            Regulation::PersonalData,
        ])),
        consumers: Some(Consumers::Public),
        availability: Some(Availability::RealTime),
        impact: Some(ErrorImpact {
            legal: Severity::Severe,
            financial: Severity::Severe,
            personal: Severity::Significant,
            public_trust: Severity::Significant,
        }),
        release_cadence: Some(ReleaseCadence::Quarterly),
        model_lifetime: Some(Lifetime::Years),
        decision_lifetime: Some(Lifetime::Years),
        quality_decay: Some(QualityDecay::Moderate),
        explainability: Some(Explainability::Required),
    }
}

/// What a version is built from.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub parent: Option<ModelRef>,
    pub data: Vec<u8>,
    pub commit: String,
    pub params: Vec<(&'static str, &'static str)>,
    pub auc: f64,
}

impl Default for Lineage {
    fn default() -> Self {
        Self {
            parent: None,
            data: b"default".to_vec(),
            commit: "main".into(),
            params: Vec::new(),
            auc: 0.9,
        }
    }
}

/// Registers `model` (if new, at `tier`) and a version authored by alice with `lineage`.
pub fn register(w: &World, model: &str, tier: RiskTier, lineage: &Lineage) -> ModelRef {
    let name = ModelName::new(model).unwrap();
    let now = w.clock.now();
    if w.store.get_model(&name).is_err() {
        w.gov
            .register_model_for_test(&name, &w.cast.alice, tier)
            .unwrap();
    }
    let mut b = VersionCore::builder(w.cast.alice.clone(), now)
        .artifact(
            "model",
            "mem://model",
            Digest::of(lineage.commit.as_bytes()),
            64,
        )
        .dataset(
            "training",
            DatasetRole::Training,
            "mem://data",
            Digest::of(&lineage.data),
        )
        .code(
            "git://models",
            lineage.commit.clone(),
            Some("train.py".into()),
        )
        .metric("auc", lineage.auc);
    for (k, v) in &lineage.params {
        b = b.param(*k, *v);
    }
    if let Some(p) = &lineage.parent {
        b = b.parent(p.clone());
    }
    w.store
        .create_version(
            NewVersion::new(name, b.build().unwrap()).with_initial_state(StateName::development()),
        )
        .unwrap()
        .version
        .model_ref()
}

/// A context in `prod` with passing evidence for each check, measured now.
pub fn evidence_context(w: &World, v: &ModelRef, checks: &[&str]) -> PlanContext {
    let mut ctx = PlanContext::default();
    for c in checks {
        ctx = ctx.with_evidence(Evidence::new(
            c.parse().unwrap(),
            Subject::Version { version: v.clone() },
            0.9,
            0.5,
            Direction::AtLeast,
            w.clock.now(),
        ));
    }
    ctx
}

/// A world whose engine uses `engine` (for wrapped policies).
pub fn world_with_engine(
    engine: std::sync::Arc<dyn mlops_governance::policy::PolicyEngine>,
) -> World {
    use std::sync::Arc;
    let clock = mlops_core::ManualClock::new(super::support::start());
    let store = Arc::new(mlops_registry::store::InMemoryStore::new());
    let cast = super::support::Cast::new();
    let gov = mlops_governance::Governance::builder(store.clone(), Arc::new(clock.clone()))
        .policy_engine(engine)
        .actors(cast.all())
        .approval_ttl("3d".parse().unwrap())
        .build();
    World {
        clock,
        store,
        gov,
        cast,
    }
}

/// Everything the default matrix's high tier documents, from the registry plus the host's
/// fields.
pub fn full_card_context(w: &World, v: &ModelRef, checks: &[&str]) -> PlanContext {
    use mlops_governance::card::{CardInputs, ModelCard};
    let inputs = CardInputs::default()
        .intended_use("credit limit decisions for retail customers")
        .limitations("not for business customers")
        .field("explainability", "SHAP reason codes per decision")
        .field(
            "lineage.columns",
            "income <- payroll.monthly_net; age <- crm.birth_date",
        );
    ModelCard::build(w.store.as_ref(), &w.gov.audit_log(), v, &inputs)
        .unwrap()
        .into_context(evidence_context(w, v, checks))
}

/// The world's current time.
pub fn now(w: &World) -> mlops_core::chrono::DateTime<mlops_core::chrono::Utc> {
    w.clock.now()
}
