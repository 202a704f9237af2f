//! The governance template, as tests that read like it: classify use cases, give
//! responsibilities, compile the governance matrix into guards, document every model.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;
mod template_support;

use mlops_governance::lifecycle::names;
use std::collections::BTreeSet;

use mlops_core::chrono::TimeDelta;
use mlops_core::{Actor, RiskTier, Role};
use mlops_governance::GovernanceError;
use mlops_governance::audit::{self, AuditLogExt};
use mlops_governance::card::{CardInputs, ModelCard};
use mlops_governance::classification::{
    self, Availability, Classification, Consumers, ErrorImpact, Explainability, Lifetime,
    QualityDecay, Questionnaire, Regulation, ReleaseCadence, Scoring, Severity,
    default_tier_setters,
};
use mlops_governance::engine::PlanContext;
use mlops_governance::matrix::{Consideration, GovernanceMatrix};
use mlops_governance::policy::GuardKind;
use mlops_governance::raci::{Raci, Task};
use mlops_registry::audit::AuditAction;
use mlops_registry::store::ModelStore;
use support::{World, state};
use template_support::{Lineage, ad_hoc_analysis, credit_decision, register, scheduled_forecast};

fn classify(q: &Questionnaire) -> Classification {
    Scoring::default().classify(&q.complete().unwrap())
}

/// Step 1: three use cases land in three different tiers, for reasons a person
/// can read.
#[test]
fn three_use_cases_fall_into_three_tiers() {
    let ad_hoc = classify(&ad_hoc_analysis());
    let forecast = classify(&scheduled_forecast());
    let credit = classify(&credit_decision());

    // Internal ad-hoc analysis: one point for limited financial impact.
    assert_eq!((ad_hoc.score, ad_hoc.tier), (1, RiskTier::Low));
    // Internal scheduled model: batch 1 + significant financial 3 + monthly 1 + months 1 +
    // months 1 + moderate decay 1 + helpful explanations 1 = 9.
    assert_eq!((forecast.score, forecast.tier), (9, RiskTier::Medium));
    // Public-facing credit decision: regulated three ways (8), public (5), real time (3),
    // impacts 5+5+3+3, quarterly (1), years (2), decisions last years (3), moderate decay (1),
    // explanations required (3) = 42.
    assert_eq!((credit.score, credit.tier), (42, RiskTier::Critical));
    assert_eq!(credit.reasons[0].points, 5);
    assert!(
        credit
            .explain()
            .iter()
            .any(|r| r.contains("consumers at least `public`"))
    );
    assert!(credit.reasons.iter().any(|r| r.answer == "personal_data"));
}

/// Steps 3–4: the default matrix compiled into a policy gives each tier different guards.
#[test]
fn each_tier_faces_different_guards() {
    let raci = Raci::default_raci();
    let matrix = GovernanceMatrix::default_matrix();
    let kinds = |tier, st: &str| -> Vec<(Consideration, GuardKind)> {
        matrix
            .guards(tier, &raci)
            .unwrap()
            .into_iter()
            .filter(|g| g.state == state(st))
            .map(|g| (g.consideration, g.guard.kind()))
            .collect()
    };
    let low = kinds(classify(&ad_hoc_analysis()).tier, "production");
    let medium = kinds(classify(&scheduled_forecast()).tier, "production");
    let critical = kinds(classify(&credit_decision()).tier, "production");
    // The ad-hoc analysis only documents itself.
    assert!(low.iter().all(|(_, k)| *k == GuardKind::Documentation));
    assert_eq!(low.len(), 2);
    // The scheduled model also needs a validator's sign-off and drift monitoring.
    assert!(medium.contains(&(Consideration::HumanInTheLoopSignoff, GuardKind::Approvals)));
    assert!(medium.contains(&(Consideration::ProductionMonitoring, GuardKind::Evidence)));
    assert!(!medium.iter().any(|(_, k)| *k == GuardKind::TwoPersonRule));
    // The credit decision needs two sign-offs, the two-person rule, the accountable business
    // owner, a compliance officer, a trial period and every kind of documentation.
    for want in [
        (
            Consideration::HumanInTheLoopSignoff,
            GuardKind::TwoPersonRule,
        ),
        (Consideration::HumanInTheLoopSignoff, GuardKind::Approvals),
        (
            Consideration::DataQualityAndCompliance,
            GuardKind::Approvals,
        ),
        (
            Consideration::ProductionDeploymentMode,
            GuardKind::MinTimeInState,
        ),
        (
            Consideration::TransparencyAndExplainability,
            GuardKind::Documentation,
        ),
    ] {
        assert!(
            critical.contains(&want),
            "{want:?} missing from {critical:?}"
        );
    }
    assert!(critical.len() > medium.len() && medium.len() > low.len());
    // Bias testing is checked before pre-production, at high and critical only.
    assert!(
        kinds(RiskTier::Critical, "pre_production")
            .contains(&(Consideration::BiasAndHarmTesting, GuardKind::Evidence))
    );
    assert!(
        !kinds(RiskTier::Medium, "pre_production")
            .iter()
            .any(|(c, _)| *c == Consideration::BiasAndHarmTesting)
    );
}

/// The whole path for the low and the critical use case, through the engine: the ad-hoc
/// analysis reaches production with a model card; the credit decision is stopped by every
/// measure it lacks, and only the accountable risk officer can accept it.
#[test]
fn the_matrix_governs_real_transitions() {
    let raci = Raci::default_raci();
    let policy = GovernanceMatrix::default_matrix()
        .compile("bank", &raci)
        .unwrap();
    let w = World::new(policy);
    let c = &w.cast;
    let bob = Actor::human("bob")
        .unwrap()
        .with_role(Role::business_owner());
    w.gov.add_actor(bob.clone());

    // Tiers are assigned by classification, as a governed action.
    let analysis = register(&w, "basket-analysis", RiskTier::Medium, &Lineage::default());
    let credit = register(&w, "credit-limit", RiskTier::Medium, &Lineage::default());
    let low = classify(&ad_hoc_analysis());
    let critical = classify(&credit_decision());
    // Lowering a tier needs a justification.
    assert!(matches!(
        classification::assign_risk_tier(
            &w.gov,
            analysis.name(),
            &low,
            &c.rita.id,
            &default_tier_setters(),
            ""
        ),
        Err(GovernanceError::MissingJustification)
    ));
    classification::assign_risk_tier(
        &w.gov,
        analysis.name(),
        &low,
        &c.rita.id,
        &default_tier_setters(),
        "classified by questionnaire",
    )
    .unwrap();
    let before = classification::assign_risk_tier(
        &w.gov,
        credit.name(),
        &critical,
        &c.rita.id,
        &default_tier_setters(),
        "",
    )
    .unwrap();
    assert_eq!(before, RiskTier::Medium);
    // A data scientist may not set tiers (audited).
    assert!(matches!(
        classification::assign_risk_tier(
            &w.gov,
            credit.name(),
            &low,
            &c.alice.id,
            &default_tier_setters(),
            "mine is harmless"
        ),
        Err(GovernanceError::Unauthorized(_))
    ));
    assert_eq!(
        w.store.get_model(credit.name()).unwrap().model().risk_tier,
        RiskTier::Critical
    );
    let log = w.gov.audit_log();
    log.verify().unwrap();
    let tier_records: Vec<_> = log
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|r| r.draft.action.as_str() == AuditAction::RISK_TIER_CHANGED.as_str())
        .collect();
    assert_eq!(tier_records.len(), 2);
    assert_eq!(tier_records[1].draft.details["to"], "critical");
    assert_eq!(tier_records[1].draft.details["score"], 42);
    assert!(
        log.read_all()
            .unwrap()
            .iter()
            .any(
                |r| r.draft.action.as_str() == AuditAction::UNAUTHORIZED.as_str()
                    && r.draft.actor.id == c.alice.id
            )
    );

    // The ad-hoc analysis: a model card with its intended use is all production needs.
    let card = |v| {
        ModelCard::build(
            w.store.as_ref(),
            &w.gov.audit_log(),
            v,
            &CardInputs::default().intended_use("weekly basket analysis"),
        )
        .unwrap()
    };
    let ctx = card(&analysis).into_context(PlanContext::default());
    for e in [names::SUBMIT, names::VALIDATE, names::PROMOTE] {
        w.gov.transition(&analysis, &e, &c.eve.id, &ctx).unwrap();
    }
    assert_eq!(w.state_of(&analysis), "production");

    // The credit decision: entering pre-production is denied for every missing measure at once.
    w.gov
        .transition(&credit, &names::SUBMIT, &c.eve.id, &PlanContext::default())
        .unwrap();
    let Err(GovernanceError::Denied { verdict, .. }) = w.gov.transition(
        &credit,
        &names::VALIDATE,
        &c.eve.id,
        &PlanContext::default(),
    ) else {
        panic!("expected a denial");
    };
    let reasons = verdict.reasons().join(" | ");
    for needle in [
        "validation.auc",
        "fairness.parity_gap",
        "data_quality.checks",
        "two-person rule",
        "risk-officer",
    ] {
        assert!(reasons.contains(needle), "`{needle}` not in {reasons}");
    }

    // With the evidence, only sign-offs are missing: the RACI says the risk officer is
    // accountable for model acceptance, so a validator and a compliance officer are not enough.
    let ctx = template_support::evidence_context(
        &w,
        &credit,
        &[
            "validation.auc",
            "fairness.parity_gap",
            "data_quality.checks",
        ],
    );
    let Err(GovernanceError::Denied {
        approval: Some(req),
        verdict,
    }) = w.gov.transition(&credit, &names::VALIDATE, &c.eve.id, &ctx)
    else {
        panic!("expected a denial awaiting sign-offs");
    };
    assert!(verdict.awaits_only_signoffs());
    w.gov.approve(&req, &c.val.id, "validated").unwrap();
    let carl = c.carl.clone().with_role(Role::model_validator());
    w.gov.add_actor(carl.clone());
    w.gov.approve(&req, &carl.id, "second look").unwrap();
    let Err(GovernanceError::Denied { verdict, .. }) =
        w.gov.transition(&credit, &names::VALIDATE, &c.eve.id, &ctx)
    else {
        panic!("the accountable role has not signed");
    };
    assert_eq!(verdict.unmet().count(), 1);
    assert!(verdict.reasons()[0].contains("risk-officer"));
    w.gov
        .approve(&req, &c.rita.id, "accountable for acceptance")
        .unwrap();
    w.gov
        .transition(&credit, &names::VALIDATE, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&credit), "pre_production");
    assert_eq!(
        raci.accountable(&Task::model_acceptance()).unwrap(),
        &Role::risk_officer()
    );
}

/// Model cards know lineage, approvals and history; the documentation guard checks them.
#[test]
fn model_cards_document_what_the_system_knows() {
    let policy = GovernanceMatrix::default_matrix()
        .compile("bank", &Raci::default_raci())
        .unwrap();
    let w = World::new(policy);
    let c = &w.cast;
    let parent = register(&w, "churn", RiskTier::Medium, &Lineage::default());
    let v = register(
        &w,
        "churn",
        RiskTier::Medium,
        &Lineage {
            parent: Some(parent.clone()),
            data: b"2026q1".to_vec(),
            commit: "abc123".into(),
            params: vec![("depth", "6")],
            auc: 0.88,
        },
    );
    w.gov
        .transition(&v, &names::SUBMIT, &c.eve.id, &PlanContext::default())
        .unwrap();
    let ctx = template_support::evidence_context(&w, &v, &["validation.auc"]);
    w.gov
        .transition(&v, &names::VALIDATE, &c.eve.id, &ctx)
        .unwrap();

    let inputs = CardInputs::default().intended_use("predict churn for retention offers");
    let card = ModelCard::build(
        w.store.as_ref(),
        &w.gov.audit_log(),
        &v,
        &inputs
            .clone()
            .evidence(ctx.evidence[0].clone())
            .evidence(mlops_core::Evidence::new(
                "fairness.parity_gap".parse().unwrap(),
                mlops_core::Subject::Segment {
                    version: Some(v.clone()),
                    segment: "region=eu".into(),
                },
                0.03,
                0.05,
                mlops_core::Direction::AtMost,
                template_support::now(&w),
            ))
            // Evidence about another model is left out.
            .evidence(mlops_core::Evidence::new(
                "validation.auc".parse().unwrap(),
                mlops_core::Subject::Model {
                    model: "fraud".parse().unwrap(),
                },
                0.7,
                0.8,
                mlops_core::Direction::AtLeast,
                template_support::now(&w),
            )),
    )
    .unwrap();
    assert_eq!(card.risk_tier, RiskTier::Medium);
    assert_eq!(card.state.as_str(), "pre_production");
    assert_eq!(card.lineage.parent, Some(parent));
    assert_eq!(card.lineage.datasets.len(), 1);
    assert_eq!(
        card.lineage.datasets[0].digest,
        mlops_core::Digest::of(b"2026q1")
    );
    assert_eq!(
        card.history
            .iter()
            .map(|h| h.action.as_str())
            .collect::<Vec<_>>(),
        [
            "registry.version.created",
            AuditAction::TRANSITION_APPLIED.as_str(),
            AuditAction::TRANSITION_APPLIED.as_str()
        ]
    );
    assert_eq!(card.evidence.len(), 2);
    let md = card.to_markdown();
    let digest = mlops_core::Digest::of(b"2026q1").to_string();
    for needle in [
        digest.as_str(),
        "# Model card: churn@",
        "predict churn",
        "abc123",
        "param `depth` = 6",
        "parent: churn@",
        "`fairness.parity_gap` on segment `region=eu` of churn@v2: 0.03 <= 0.05",
    ] {
        assert!(md.contains(needle), "`{needle}` not in\n{md}");
    }
    let json: serde_json::Value = serde_json::from_str(&card.to_json().unwrap()).unwrap();
    assert_eq!(json["risk_tier"], "medium");
    assert_eq!(json["lineage"]["datasets"][0]["name"], "training");

    // The medium tier's production measures need `limitations`: the documentation guard finds
    // it missing until the host fills it.
    assert_eq!(
        card.missing(&["intended_use", "limitations", "lineage.datasets"]),
        ["limitations"]
    );
    w.clock.advance(TimeDelta::hours(1));
    let ctx = card.into_context(template_support::evidence_context(
        &w,
        &v,
        &["drift.monitoring"],
    ));
    let Err(GovernanceError::Denied {
        verdict,
        approval: None,
    }) = w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
    else {
        panic!("expected a documentation denial");
    };
    assert!(
        verdict
            .reasons()
            .iter()
            .any(|r| r.contains("`limitations`"))
    );
    let card = ModelCard::build(
        w.store.as_ref(),
        &w.gov.audit_log(),
        &v,
        &inputs.limitations("trained on EU customers only"),
    )
    .unwrap();
    assert!(card.missing(&["intended_use", "limitations"]).is_empty());
    let ctx = card.into_context(template_support::evidence_context(
        &w,
        &v,
        &["drift.monitoring"],
    ));
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
    else {
        panic!("expected only the sign-off to be missing");
    };
    w.gov.approve(&req, &c.val.id, "fine").unwrap();
    w.gov
        .transition(&v, &names::PROMOTE, &c.eve.id, &ctx)
        .unwrap();
    let card = ModelCard::build(
        w.store.as_ref(),
        &w.gov.audit_log(),
        &v,
        &CardInputs::default(),
    )
    .unwrap();
    assert!(card.champion);
    assert_eq!(card.approvals.len(), 1);
    assert_eq!(card.approvals[0].decisions[0].actor, c.val.id);
    assert_eq!(card.approvals[0].decisions[0].comment, "fine");
    audit::production_roster(&w.gov.audit_log(), &[state("production")]).unwrap();
}

/// Bad input: every gap and contradiction is a typed error naming the culprit.
#[test]
fn bad_template_input_is_a_typed_error() {
    let mut q = credit_decision();
    q.quality_decay = None;
    assert!(matches!(
        q.complete(),
        Err(mlops_governance::ClassificationError::Incomplete { missing }) if missing == ["quality_decay"]
    ));
    let q = Questionnaire {
        regulations: Some(BTreeSet::from([Regulation::PersonalData])),
        consumers: Some(Consumers::ExternalCustomers),
        availability: Some(Availability::RealTime),
        impact: Some(ErrorImpact {
            legal: Severity::Limited,
            ..ErrorImpact::none()
        }),
        release_cadence: Some(ReleaseCadence::Weekly),
        model_lifetime: Some(Lifetime::Months),
        decision_lifetime: Some(Lifetime::Days),
        quality_decay: Some(QualityDecay::Fast),
        explainability: Some(Explainability::Helpful),
    };
    // 3 + 3 + 3 + 1 + 2 + 1 + 0 + 2 + 1 = 16: high.
    assert_eq!(classify(&q).score, 16);
    assert_eq!(classify(&q).tier, RiskTier::High);
    let toml = "[tasks.deployments]\nml-engineer = \"A\"\nbusiness-owner = \"A\"\n";
    assert!(
        matches!(Raci::from_toml(toml), Err(mlops_governance::RaciError::SeveralAccountable { task, .. }) if task == "deployments")
    );
    let toml = "[tasks.deployments]\nml-engineer = \"R\"\n";
    assert!(
        matches!(Raci::from_toml(toml), Err(mlops_governance::RaciError::NoAccountable { task }) if task == "deployments")
    );
}

/// A change plan: a monthly retrain on fresh data with a tuned learning rate stays within plan
/// and inherits the approvals; new code is a material change that needs full re-approval.
#[test]
fn a_retrain_within_plan_inherits_approvals_and_a_material_change_does_not() {
    use mlops_core::Direction;
    use mlops_governance::change::{ChangeClass, ChangePlan, InheritingPolicy};
    use mlops_governance::policy::Threshold;
    use std::sync::Arc;

    let base = GovernanceMatrix::default_matrix()
        .compile("bank", &Raci::default_raci())
        .unwrap();
    let policy = Arc::new(InheritingPolicy::new(Arc::new(base)));
    let w = template_support::world_with_engine(policy.clone());
    let c = &w.cast;
    let pre = [
        "validation.auc",
        "fairness.parity_gap",
        "data_quality.checks",
    ];
    let lineage = |data: &[u8],
                   commit: &str,
                   lr: &'static str,
                   parent: Option<mlops_core::ModelRef>| Lineage {
        parent,
        data: data.to_vec(),
        commit: commit.into(),
        params: vec![("learning_rate", lr), ("depth", "6")],
        auc: 0.9,
    };

    // The baseline goes through full approval at the high tier: two sign-offs per move.
    let v1 = register(
        &w,
        "credit-limit",
        RiskTier::High,
        &lineage(b"jan", "abc123", "0.1", None),
    );
    w.gov
        .transition(&v1, &names::SUBMIT, &c.eve.id, &PlanContext::default())
        .unwrap();
    let ctx = template_support::evidence_context(&w, &v1, &pre);
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v1, &names::VALIDATE, &c.eve.id, &ctx)
    else {
        panic!("expected sign-offs to be missing");
    };
    w.gov.approve(&req, &c.val.id, "validated").unwrap();
    w.gov.approve(&req, &c.rita.id, "risk accepted").unwrap();
    w.gov
        .transition(&v1, &names::VALIDATE, &c.eve.id, &ctx)
        .unwrap();
    w.clock.advance(TimeDelta::days(7));
    let ctx = template_support::full_card_context(&w, &v1, &["drift.monitoring"]);
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v1, &names::PROMOTE, &c.eve.id, &ctx)
    else {
        panic!("expected sign-offs to be missing");
    };
    w.gov.approve(&req, &c.val.id, "go").unwrap();
    w.gov.approve(&req, &c.rita.id, "go").unwrap();
    w.gov
        .transition(&v1, &names::PROMOTE, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&v1), "production");

    let plan = ChangePlan::new("monthly-retrain", v1.clone())
        .retrain_on_new_data()
        .tunable("learning_rate")
        .bound(
            "auc",
            Threshold {
                direction: Direction::AtLeast,
                value: 0.85,
            },
        );

    // February's retrain: new data, a tuned learning rate, same code. Within plan.
    let v2 = register(
        &w,
        "credit-limit",
        RiskTier::High,
        &lineage(b"feb", "abc123", "0.05", Some(v1.clone())),
    );
    let inherited = policy.grant(&w.gov, &plan, &v2, &c.rita.id).unwrap();
    assert_eq!(inherited.signoffs[&state("pre_production")].len(), 2);
    assert_eq!(inherited.signoffs[&state("production")].len(), 2);
    w.gov
        .transition(&v2, &names::SUBMIT, &c.eve.id, &PlanContext::default())
        .unwrap();
    // Evidence is still required: inheriting approvals is not inheriting evidence.
    assert!(matches!(
        w.gov
            .transition(&v2, &names::VALIDATE, &c.eve.id, &PlanContext::default()),
        Err(GovernanceError::Denied { approval: None, .. })
    ));
    let ctx = template_support::evidence_context(&w, &v2, &pre);
    w.gov
        .transition(&v2, &names::VALIDATE, &c.eve.id, &ctx)
        .unwrap();
    w.clock.advance(TimeDelta::days(7));
    let ctx = template_support::full_card_context(&w, &v2, &["drift.monitoring"]);
    w.gov
        .transition(&v2, &names::PROMOTE, &c.eve.id, &ctx)
        .unwrap();
    assert_eq!(w.state_of(&v2), "production");
    assert_eq!(w.state_of(&v1), "retired");
    assert_eq!(
        w.gov
            .approvals()
            .unwrap()
            .iter()
            .filter(|r| r.version == v2)
            .count(),
        0,
        "no new sign-offs were asked for"
    );

    // March: new training code. Material: refused, audited, and the version needs sign-offs.
    let v3 = register(
        &w,
        "credit-limit",
        RiskTier::High,
        &lineage(b"mar", "def456", "0.05", Some(v2.clone())),
    );
    let Err(mlops_governance::ChangeError::Material { findings, .. }) =
        policy.grant(&w.gov, &plan, &v3, &c.rita.id)
    else {
        panic!("expected a material change");
    };
    assert_eq!(
        findings,
        ["code changed from `git://models@abc123` to `git://models@def456`"]
    );
    w.gov
        .transition(&v3, &names::SUBMIT, &c.eve.id, &PlanContext::default())
        .unwrap();
    let ctx = template_support::evidence_context(&w, &v3, &pre);
    assert!(matches!(
        w.gov.transition(&v3, &names::VALIDATE, &c.eve.id, &ctx),
        Err(GovernanceError::Denied {
            approval: Some(_),
            ..
        })
    ));

    // Both assessments are in the audit chain, with the inherited approvers.
    let log = w.gov.audit_log();
    log.verify().unwrap();
    let assessed: Vec<_> = log
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|r| r.draft.action.as_str() == AuditAction::CHANGE_ASSESSED.as_str())
        .collect();
    assert_eq!(assessed.len(), 2);
    assert_eq!(assessed[0].draft.details["class"], "within_plan");
    assert_eq!(
        assessed[0].draft.details["inherited"]["production"],
        serde_json::json!(["val", "rita"])
    );
    assert_eq!(assessed[1].draft.details["class"], "material");
    assert_eq!(policy.inheritance(&v2), Some(inherited));
    // The auditor sees whose sign-offs v2 entered production on.
    let period = mlops_governance::report::ReportingPeriod::new(
        support::start(),
        template_support::now(&w) + TimeDelta::days(1),
    )
    .unwrap();
    let report = mlops_governance::report::AuditReport::build(
        &log,
        period,
        &mlops_governance::report::ReportScope::default(),
    )
    .unwrap();
    let spell = report
        .in_production
        .iter()
        .find(|p| p.version == v2)
        .unwrap();
    assert!(spell.approved_by.is_empty());
    let inherited_by = spell.inherited.as_ref().unwrap();
    assert_eq!(
        (inherited_by.plan.as_str(), inherited_by.baseline.as_str()),
        ("monthly-retrain", "credit-limit@v1")
    );
    assert_eq!(
        inherited_by.approvers,
        [c.val.id.clone(), c.rita.id.clone()]
    );
    assert!(report.to_markdown().contains(
        "sign-offs inherited from credit-limit@v1 under change plan `monthly-retrain`: val, rita"
    ));
    let v1_spell = report
        .in_production
        .iter()
        .find(|p| p.version == v1)
        .unwrap();
    assert!(v1_spell.inherited.is_none() && v1_spell.left_at.is_some());
    assert!(policy.revoke(&v2).is_some());
    assert_eq!(policy.inheritance(&v2), None);
    assert_eq!(policy.inheritance(&v3), None);

    // The assessment itself, without the engine: an untunable parameter, a new dataset and a
    // missed metric bound are each material.
    let core = |l: &Lineage, extra_data: bool| {
        let mut b =
            mlops_registry::model::VersionCore::builder(c.alice.clone(), template_support::now(&w))
                .artifact("model", "mem://m", mlops_core::Digest::of(b"m"), 1)
                .dataset(
                    "training",
                    mlops_registry::model::DatasetRole::Training,
                    "mem://d",
                    mlops_core::Digest::of(&l.data),
                )
                .code("git://models", l.commit.clone(), Some("train.py".into()))
                .metric("auc", l.auc);
        for (k, v) in &l.params {
            b = b.param(*k, *v);
        }
        if extra_data {
            b = b.dataset(
                "bureau",
                mlops_registry::model::DatasetRole::Training,
                "mem://b",
                mlops_core::Digest::of(b"b"),
            );
        }
        b.build().unwrap()
    };
    let base_core = core(&lineage(b"jan", "abc123", "0.1", None), false);
    let next = v1.version().next().unwrap();
    let cand = mlops_core::ModelRef::new(v1.name().clone(), next);
    let mut l = lineage(b"feb", "abc123", "0.1", None);
    assert_eq!(
        plan.assess(&base_core, &cand, &core(&l, false)).class,
        ChangeClass::WithinPlan
    );
    l.params = vec![("learning_rate", "0.1"), ("depth", "8")];
    let a = plan.assess(&base_core, &cand, &core(&l, true));
    assert_eq!(a.class, ChangeClass::Material);
    assert_eq!(a.material().len(), 2, "{:?}", a.material());
    let mut l = lineage(b"feb", "abc123", "0.1", None);
    l.auc = 0.8;
    assert_eq!(
        plan.assess(&base_core, &cand, &core(&l, false)).material(),
        ["metric `auc` = 0.8 misses >= 0.85"]
    );
    // A frozen-data plan makes even a data refresh material.
    let frozen = ChangePlan::new("frozen", v1.clone());
    assert_eq!(
        frozen
            .assess(
                &base_core,
                &cand,
                &core(&lineage(b"feb", "abc123", "0.1", None), false)
            )
            .class,
        ChangeClass::Material
    );
    assert_eq!(
        frozen.assess(&base_core, &v1, &base_core).class,
        ChangeClass::Material,
        "not a successor"
    );
}

/// A seeded March: three models, sign-offs, a substantive denial, an override with its review,
/// an expired request and drift checks. The auditor's report, the inventory and the KPIs are
/// computed from it, with values known by construction.
#[test]
fn report_inventory_and_kpis_from_a_seeded_history() {
    use mlops_core::chrono::{TimeZone, Utc};
    use mlops_core::{Direction, Evidence, Subject};
    use mlops_governance::approval::RequestStatus;
    use mlops_governance::kpi::Kpis;
    use mlops_governance::report::{
        Alarm, AuditReport, ChainStatus, HowApplied, Inventory, ReportScope, ReportingPeriod,
    };
    use std::collections::BTreeMap;

    let w = World::new(support::bank_policy());
    let c = &w.cast;
    let none = PlanContext::default();
    let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
    let approval_of = |r: Result<_, GovernanceError>| match r {
        Err(GovernanceError::Denied {
            approval: Some(id), ..
        }) => id,
        other => panic!("expected a denial awaiting sign-offs, got {other:?}"),
    };

    // 03-02 09:00: the credit model is classified critical.
    let credit = register(&w, "credit", RiskTier::High, &Lineage::default());
    classification::assign_risk_tier(
        &w.gov,
        credit.name(),
        &classify(&credit_decision()),
        &c.rita.id,
        &default_tier_setters(),
        "",
    )
    .unwrap();
    w.gov
        .transition(&credit, &names::SUBMIT, &c.eve.id, &none)
        .unwrap();
    // churn@v1 (medium) reaches production after a validator's sign-off two hours later.
    let churn = register(&w, "churn", RiskTier::Medium, &Lineage::default());
    w.gov
        .transition(&churn, &names::SUBMIT, &c.eve.id, &none)
        .unwrap();
    w.gov
        .transition(&churn, &names::VALIDATE, &c.eve.id, &none)
        .unwrap();
    let req1 = approval_of(w.gov.transition(&churn, &names::PROMOTE, &c.eve.id, &none));
    w.clock.set(at(2, 11));
    w.gov.approve(&req1, &c.val.id, "ok").unwrap();
    w.gov
        .transition(&churn, &names::PROMOTE, &c.eve.id, &none)
        .unwrap();
    // fraud@v1 (high): validated after four hours, then a substantive denial (no documentation,
    // no week in pre-production).
    let fraud = register(&w, "fraud", RiskTier::High, &Lineage::default());
    w.gov
        .transition(&fraud, &names::SUBMIT, &c.eve.id, &none)
        .unwrap();
    let req2 = approval_of(w.gov.transition(
        &fraud,
        &names::VALIDATE,
        &c.eve.id,
        &w.ready_context(&fraud),
    ));
    w.clock.set(at(2, 15));
    w.gov.approve(&req2, &c.val.id, "validated").unwrap();
    w.gov
        .transition(
            &fraud,
            &names::VALIDATE,
            &c.eve.id,
            &w.ready_context(&fraud),
        )
        .unwrap();
    assert!(matches!(
        w.gov
            .transition(&fraud, &names::PROMOTE, &c.eve.id, &PlanContext::default()),
        Err(GovernanceError::Denied { approval: None, .. })
    ));
    // The credit model is pushed to pre-production by break-glass; a risk officer reviews it.
    let done = w
        .gov
        .break_glass(
            &credit,
            &names::VALIDATE,
            &c.ivan.id,
            "regulator deadline",
            &none,
        )
        .unwrap();
    w.clock.set(at(2, 16));
    w.gov
        .approve(&done.review.unwrap(), &c.rita.id, "deadline confirmed")
        .unwrap();
    // churn@v2 waits for a sign-off that never comes: its request expires.
    let churn2 = register(&w, "churn", RiskTier::Medium, &Lineage::default());
    w.gov
        .transition(&churn2, &names::SUBMIT, &c.eve.id, &none)
        .unwrap();
    w.gov
        .transition(&churn2, &names::VALIDATE, &c.eve.id, &none)
        .unwrap();
    let _req4 = approval_of(w.gov.transition(&churn2, &names::PROMOTE, &c.eve.id, &none));
    // 03-09 16:00: fraud asks again with everything but the sign-off, which comes a day later.
    w.clock.set(at(9, 16));
    assert_eq!(w.gov.expire_due().unwrap().len(), 1);
    let req5 =
        approval_of(
            w.gov
                .transition(&fraud, &names::PROMOTE, &c.eve.id, &w.ready_context(&fraud)),
        );
    w.clock.set(at(10, 16));
    w.gov.approve(&req5, &c.rita.id, "risk accepted").unwrap();
    w.gov
        .transition(&fraud, &names::PROMOTE, &c.eve.id, &w.ready_context(&fraud))
        .unwrap();
    // The credit model asks for production: it needs two people, so a request stays open.
    let req6 = approval_of(w.gov.transition(
        &credit,
        &names::PROMOTE,
        &c.eve.id,
        &w.ready_context(&credit),
    ));

    let drift = |v: &mlops_core::ModelRef, value: f64, when| {
        Evidence::new(
            "drift.psi".parse().unwrap(),
            Subject::Version { version: v.clone() },
            value,
            0.2,
            Direction::Below,
            when,
        )
    };
    let evidence = vec![
        drift(&churn, 0.05, at(10, 9)),
        drift(&churn, 0.04, at(28, 9)),
        drift(&fraud, 0.3, at(2, 16)),
    ];
    let scope = ReportScope::default();
    let march =
        ReportingPeriod::new(at(1, 0), Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()).unwrap();

    // The auditor's report.
    let log = w.gov.audit_log();
    let report = AuditReport::build(&log, march, &scope).unwrap();
    assert!(matches!(report.chain, ChainStatus::Verified { .. }));
    assert_eq!(report.in_production.len(), 2);
    let churn_spell = &report.in_production[0];
    assert_eq!(
        (
            &churn_spell.version,
            churn_spell.entered_at,
            &churn_spell.approved_by
        ),
        (&churn, at(2, 11), &vec![c.val.id.clone()])
    );
    let fraud_spell = &report.in_production[1];
    assert_eq!(
        (
            &fraud_spell.version,
            fraud_spell.entered_at,
            &fraud_spell.approved_by
        ),
        (&fraud, at(10, 16), &vec![c.rita.id.clone()])
    );
    assert_eq!(report.transitions.len(), 10);
    assert_eq!(report.denials, 6);
    assert_eq!(
        report
            .transitions
            .iter()
            .filter(|t| t.applied == HowApplied::Overridden)
            .count(),
        1
    );
    assert_eq!(report.overrides.len(), 1);
    let o = &report.overrides[0];
    assert_eq!(
        (o.actor.as_str(), o.justification.as_str()),
        ("ivan", "regulator deadline")
    );
    assert_eq!(o.review.status, Some(RequestStatus::Fulfilled));
    assert_eq!(o.review.decisions[0].reviewer, c.rita.id);
    assert_eq!(o.review.decisions[0].comment, "deadline confirmed");
    // Two models were registered at their tiers (recorded as tier changes from the default),
    // then one was reclassified.
    assert_eq!(report.tier_changes.len(), 3);
    assert_eq!(
        report
            .tier_changes
            .iter()
            .filter(|t| (t.from, t.to) == (Some(RiskTier::High), Some(RiskTier::Critical)))
            .count(),
        1
    );
    let md = report.to_markdown();
    for needle in [
        "**verified**",
        "churn@v1 in `production`",
        "approved by val",
        "\"regulator deadline\"",
        "Approve by rita: deadline confirmed",
        "high → critical",
    ] {
        assert!(md.contains(needle), "`{needle}` not in\n{md}");
    }
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["overrides"][0]["review"]["status"], "fulfilled");

    // An empty period is a documented empty result; a reversed one is an error. April has no
    // activity but two models still serve.
    let feb =
        ReportingPeriod::new(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(), at(1, 0)).unwrap();
    let empty = AuditReport::build(&log, feb, &scope).unwrap();
    assert!(empty.is_empty());
    assert!(empty.to_markdown().contains("No activity in this period"));
    let april = ReportingPeriod::new(
        march.end,
        Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap(),
    )
    .unwrap();
    let april_report = AuditReport::build(&log, april, &scope).unwrap();
    assert_eq!(
        (
            april_report.in_production.len(),
            april_report.transitions.len()
        ),
        (2, 0)
    );
    assert!(matches!(
        ReportingPeriod::new(march.end, march.start),
        Err(mlops_governance::ReportError::InvalidPeriod { .. })
    ));

    // A tampered copy of the log is reported broken, at the first bad record.
    let mut records = log.read_all().unwrap();
    records[5].draft.justification = Some("edited".into());
    let tampered = audit::MemoryAuditLog::from_records(records);
    let broken = AuditReport::build(&tampered, march, &scope).unwrap();
    assert!(
        matches!(broken.chain, ChainStatus::Broken { first_bad_seq, .. } if first_bad_seq == 6)
    );
    assert!(broken.to_markdown().contains("**BROKEN** at record 6"));

    // The inventory on 03-11.
    let inv = Inventory::build(w.store.as_ref(), &log, &evidence, &scope, at(11, 9)).unwrap();
    let names: Vec<&str> = inv.models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["churn", "credit", "fraud"]);
    let [churn_e, credit_e, fraud_e] = &inv.models[..] else {
        unreachable!()
    };
    assert_eq!(
        (churn_e.tier, churn_e.champion),
        (RiskTier::Medium, Some(churn.version()))
    );
    assert_eq!(
        churn_e
            .versions
            .values()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["production", "pre_production"]
    );
    assert!(
        churn_e.open_approvals.is_empty() && churn_e.alarms.is_empty(),
        "{churn_e:?}"
    );
    assert_eq!(
        (credit_e.tier, credit_e.champion),
        (RiskTier::Critical, None)
    );
    assert_eq!(
        credit_e
            .open_approvals
            .iter()
            .map(|a| a.id.clone())
            .collect::<Vec<_>>(),
        [req6]
    );
    assert!(credit_e.alarms.is_empty());
    assert_eq!(fraud_e.alarms.len(), 2);
    assert!(
        matches!(fraud_e.alarms[0], Alarm::NoRecentDriftCheck { last_checked: Some(t), .. } if t == at(2, 16))
    );
    assert!(
        matches!(&fraud_e.alarms[1], Alarm::FailingCheck { check, .. } if check == "drift.psi")
    );
    assert!(
        inv.to_markdown().contains("| fraud | high | alice | v1 |"),
        "{}",
        inv.to_markdown()
    );
    serde_json::from_str::<serde_json::Value>(&inv.to_json().unwrap()).unwrap();

    // The KPIs for March.
    let cards = BTreeMap::from([
        (
            churn.clone(),
            CardInputs::default()
                .intended_use("retention")
                .limitations("EU only"),
        ),
        (
            fraud.clone(),
            CardInputs::default().intended_use("card fraud"),
        ),
    ]);
    let k = Kpis::compute(w.store.as_ref(), &log, march, &scope, &evidence, &cards).unwrap();
    let medium = &k.time_to_approval[&RiskTier::Medium];
    assert_eq!((medium.count, medium.max_seconds), (1, 7_200));
    let high = &k.time_to_approval[&RiskTier::High];
    assert_eq!(
        (
            high.count,
            high.mean_seconds,
            high.median_seconds,
            high.max_seconds
        ),
        (2, 50_400.0, 50_400.0, 86_400)
    );
    assert!(!k.time_to_approval.contains_key(&RiskTier::Critical));
    assert_eq!((k.first_time_pass.count, k.first_time_pass.total), (8, 10));
    assert_eq!(k.first_time_pass.ratio, Some(0.8));
    assert_eq!(
        k.overrides_per_month,
        BTreeMap::from([("2026-03".to_owned(), 1)])
    );
    assert_eq!(k.approvals_expired, 1);
    assert_eq!(k.without_recent_drift_check, std::slice::from_ref(&fraud));
    assert_eq!(
        (
            k.documentation_complete.count,
            k.documentation_complete.total
        ),
        (1, 2)
    );
    let json: serde_json::Value = serde_json::from_str(&k.to_json().unwrap()).unwrap();
    assert_eq!(json["first_time_pass"]["ratio"], 0.8);
    let back: Kpis = serde_json::from_value(json).unwrap();
    assert_eq!(back, k);

    // February: nothing happened.
    let k = Kpis::compute(w.store.as_ref(), &log, feb, &scope, &evidence, &cards).unwrap();
    assert!(k.time_to_approval.is_empty() && k.overrides_per_month.is_empty());
    assert_eq!(
        (
            k.first_time_pass.total,
            k.first_time_pass.ratio,
            k.approvals_expired
        ),
        (0, None, 0)
    );
}

/// Tier assignments race with transitions on the same model from real threads: every
/// assignment that returns Ok is in the audit chain, none is lost, and the stored tier is the
/// last one recorded.
#[test]
fn tier_assignments_race_with_transitions_without_lost_updates() {
    use std::sync::Arc;
    let w = Arc::new(World::new(support::bank_policy()));
    let model = register(&w, "pricing", RiskTier::Medium, &Lineage::default());
    let tiers = [
        classify(&scheduled_forecast()),
        classify(&credit_decision()),
    ];
    let assigner = {
        let w = Arc::clone(&w);
        std::thread::spawn(move || {
            let mut ok = 0usize;
            for i in 0..20 {
                let c = &tiers[i % 2];
                match classification::assign_risk_tier(
                    &w.gov,
                    model.name(),
                    c,
                    &w.cast.rita.id,
                    &default_tier_setters(),
                    "re-classified",
                ) {
                    Ok(_) => ok += 1,
                    Err(GovernanceError::Conflict { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            ok
        })
    };
    let mover = {
        let w = Arc::clone(&w);
        std::thread::spawn(move || {
            for _ in 0..10 {
                let v = register(&w, "pricing", RiskTier::Medium, &Lineage::default());
                match w
                    .gov
                    .transition(&v, &names::SUBMIT, &w.cast.eve.id, &PlanContext::default())
                {
                    Ok(_) | Err(GovernanceError::Conflict { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        })
    };
    let ok = assigner.join().unwrap();
    mover.join().unwrap();
    let log = w.gov.audit_log();
    log.verify().unwrap();
    let records: Vec<_> = log
        .read_all()
        .unwrap()
        .into_iter()
        .filter(|r| r.draft.action.as_str() == AuditAction::RISK_TIER_CHANGED.as_str())
        .collect();
    assert_eq!(records.len(), ok);
    assert!(ok > 0);
    let last: RiskTier =
        serde_json::from_value(records.last().unwrap().draft.details["to"].clone()).unwrap();
    let stored = w
        .store
        .get_model(&"pricing".parse().unwrap())
        .unwrap()
        .model()
        .risk_tier;
    assert_eq!(stored, last);
    // Each record's `from` is the previous record's `to`: no assignment was overwritten unseen.
    for pair in records.windows(2) {
        assert_eq!(pair[1].draft.details["from"], pair[0].draft.details["to"]);
    }
}

/// An override nobody reviews raises an alarm (open, then expired); a rejected sign-off makes
/// the attempt fail its first pass even when it later succeeds.
#[test]
fn unreviewed_overrides_raise_alarms_and_rejections_fail_the_first_pass() {
    use mlops_core::chrono::{TimeZone, Utc};
    use mlops_governance::approval::{RequestKind, RequestStatus};
    use mlops_governance::kpi::Kpis;
    use mlops_governance::report::{Alarm, Inventory, ReportScope, ReportingPeriod};
    use std::collections::BTreeMap;

    let w = World::new(support::bank_policy());
    let c = &w.cast;
    let none = PlanContext::default();
    let scope = ReportScope::default();
    let v = register(&w, "pricing", RiskTier::Medium, &Lineage::default());
    let done = w
        .gov
        .break_glass(&v, &names::SUBMIT, &c.ivan.id, "hotfix", &none)
        .unwrap();
    let review = done.review.unwrap();
    let log = w.gov.audit_log();
    let inv = Inventory::build(
        w.store.as_ref(),
        &log,
        &[],
        &scope,
        template_support::now(&w),
    )
    .unwrap();
    let m = &inv.models[0];
    assert_eq!(m.open_approvals.len(), 1);
    assert_eq!(m.open_approvals[0].kind, RequestKind::PostHocReview);
    assert_eq!(
        m.alarms,
        [Alarm::UnreviewedOverride {
            version: v.version(),
            request: review.clone(),
            status: RequestStatus::Open
        }]
    );
    let later = template_support::now(&w) + TimeDelta::days(4);
    let inv = Inventory::build(w.store.as_ref(), &log, &[], &scope, later).unwrap();
    assert!(inv.models[0].open_approvals.is_empty());
    assert_eq!(
        inv.models[0].alarms,
        [Alarm::UnreviewedOverride {
            version: v.version(),
            request: review,
            status: RequestStatus::Expired
        }]
    );
    assert!(inv.to_markdown().contains("override not reviewed"));

    // validate (no guards at medium), then promote: rejected once, then approved.
    w.gov
        .transition(&v, &names::VALIDATE, &c.eve.id, &none)
        .unwrap();
    let Err(GovernanceError::Denied {
        approval: Some(req),
        ..
    }) = w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &none)
    else {
        panic!("expected a request");
    };
    w.gov.reject(&req, &c.val.id, "calibration off").unwrap();
    let v2 = register(&w, "pricing", RiskTier::Medium, &Lineage::default());
    // The rejection is sticky: asking again names it; a new request re-opens it on the record.
    assert!(matches!(
        w.gov.transition(&v, &names::PROMOTE, &c.eve.id, &none),
        Err(GovernanceError::Rejected { ref request }) if *request == req
    ));
    let req = w
        .gov
        .reopen(&req, &c.eve.id, "recalibrated on Q2 data")
        .unwrap()
        .id;
    let val2 = Actor::human("val2")
        .unwrap()
        .with_role(Role::model_validator());
    w.gov.add_actor(val2.clone());
    w.gov.approve(&req, &val2.id, "recalibrated").unwrap();
    w.gov
        .transition(&v, &names::PROMOTE, &c.eve.id, &none)
        .unwrap();
    w.gov
        .transition(&v2, &names::SUBMIT, &c.eve.id, &none)
        .unwrap();
    let period = ReportingPeriod::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
    )
    .unwrap();
    let k = Kpis::compute(
        w.store.as_ref(),
        &log,
        period,
        &scope,
        &[],
        &BTreeMap::new(),
    )
    .unwrap();
    // submit (override: failed), validate (passed), promote (rejected first: failed), v2 submit
    // (passed).
    assert_eq!((k.first_time_pass.count, k.first_time_pass.total), (2, 4));
    assert_eq!(k.overrides_per_month.values().sum::<usize>(), 1);
    assert_eq!(k.without_recent_drift_check, std::slice::from_ref(&v));
    assert_eq!(
        (
            k.documentation_complete.count,
            k.documentation_complete.total
        ),
        (0, 1)
    );
}
