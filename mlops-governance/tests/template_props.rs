//! Properties of the governance template: classification is monotone and explains itself,
//! RACI validation accepts exactly the matrices with one Accountable per task, matrices and
//! scorings survive their file formats, and an unchanged retrain is always within plan.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use mlops_core::chrono::{TimeZone, Utc};
use mlops_core::{Actor, Digest, ModelRef, RiskTier, Role};
use mlops_governance::RaciError;
use mlops_governance::change::{ChangeClass, ChangePlan};
use mlops_governance::classification::*;
use mlops_governance::matrix::{Consideration, GovernanceMatrix, Measure, MeasureEntry};
use mlops_governance::raci::{Raci, RaciSpec, Responsibility, Task};
use mlops_registry::model::{DatasetRole, VersionCore};
use proptest::prelude::*;
use proptest::sample::select;

fn use_case() -> impl Strategy<Value = UseCase> {
    (
        prop::collection::btree_set(select(Regulation::ALL), 0..=3),
        select(Consumers::ALL),
        select(Availability::ALL),
        prop::array::uniform4(select(Severity::ALL)),
        select(ReleaseCadence::ALL),
        select(Lifetime::ALL),
        select(Lifetime::ALL),
        select(QualityDecay::ALL),
        select(Explainability::ALL),
    )
        .prop_map(
            |(regulations, consumers, availability, [l, f, p, t], rc, ml, dl, qd, ex)| UseCase {
                regulations,
                consumers,
                availability,
                impact: ErrorImpact {
                    legal: l,
                    financial: f,
                    personal: p,
                    public_trust: t,
                },
                release_cadence: rc,
                model_lifetime: ml,
                decision_lifetime: dl,
                quality_decay: qd,
                explainability: ex,
            },
        )
}

fn raise<T: Copy + PartialEq>(all: &[T], v: T) -> T {
    let i = all.iter().position(|x| *x == v).unwrap();
    all.get(i + 1).copied().unwrap_or(v)
}

/// Raises the answer to question `q` by one step (when it can).
fn raised(u: &UseCase, q: usize) -> UseCase {
    let mut r = u.clone();
    match q {
        0 => {
            if let Some(x) = Regulation::ALL.iter().find(|x| !r.regulations.contains(x)) {
                r.regulations.insert(*x);
            }
        }
        1 => r.consumers = raise(Consumers::ALL, r.consumers),
        2 => r.availability = raise(Availability::ALL, r.availability),
        3 => r.impact.legal = raise(Severity::ALL, r.impact.legal),
        4 => r.impact.public_trust = raise(Severity::ALL, r.impact.public_trust),
        5 => r.release_cadence = raise(ReleaseCadence::ALL, r.release_cadence),
        6 => r.model_lifetime = raise(Lifetime::ALL, r.model_lifetime),
        7 => r.decision_lifetime = raise(Lifetime::ALL, r.decision_lifetime),
        8 => r.quality_decay = raise(QualityDecay::ALL, r.quality_decay),
        _ => r.explainability = raise(Explainability::ALL, r.explainability),
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// More risk in any answer never lowers the score or the tier.
    #[test]
    fn classification_is_monotone(u in use_case(), q in 0usize..10) {
        let s = Scoring::default();
        let (a, b) = (s.classify(&u), s.classify(&raised(&u, q)));
        prop_assert!(b.score >= a.score, "{} then {}", a.score, b.score);
        prop_assert!(b.tier >= a.tier);
    }

    /// The reasons add up to the score, and the tier is the score's tier raised by the floors.
    #[test]
    fn classification_explains_itself(u in use_case()) {
        let s = Scoring::default();
        let c = s.classify(&u);
        prop_assert_eq!(c.reasons.iter().map(|r| r.points).sum::<u32>(), c.score);
        prop_assert_eq!(c.score_tier, s.tier_of(c.score));
        let floor = c.floors.iter().map(|f| f.tier).max().unwrap_or(RiskTier::Low);
        prop_assert_eq!(c.tier, c.score_tier.max(floor));
        prop_assert!(c.reasons.windows(2).all(|w| w[0].points >= w[1].points));
        // A complete questionnaire round-trips through JSON and classifies the same.
        let q = Questionnaire::from(&u);
        let back = Questionnaire::from_json(&serde_json::to_string(&q).unwrap()).unwrap();
        prop_assert_eq!(s.classify(&back.complete().unwrap()), c);
    }

    /// Any single unanswered question is named.
    #[test]
    fn every_gap_is_named(u in use_case(), gap in 0usize..9) {
        let mut q = Questionnaire::from(&u);
        let name = match gap {
            0 => { q.regulations = None; "regulations" }
            1 => { q.consumers = None; "consumers" }
            2 => { q.availability = None; "availability" }
            3 => { q.impact = None; "impact" }
            4 => { q.release_cadence = None; "release_cadence" }
            5 => { q.model_lifetime = None; "model_lifetime" }
            6 => { q.decision_lifetime = None; "decision_lifetime" }
            7 => { q.quality_decay = None; "quality_decay" }
            _ => { q.explainability = None; "explainability" }
        };
        prop_assert_eq!(q.complete(), Err(mlops_governance::ClassificationError::Incomplete { missing: vec![name.to_owned()] }));
    }

    /// A RACI matrix validates exactly when every task has one Accountable role.
    #[test]
    fn raci_needs_exactly_one_accountable(
        rows in prop::collection::vec(prop::collection::vec(prop::option::of(0u8..4), 4), 1..6)
    ) {
        let roles = [Role::data_scientist(), Role::ml_engineer(), Role::risk_officer(), Role::business_owner()];
        let parts = [Responsibility::Responsible, Responsibility::Accountable, Responsibility::Consulted, Responsibility::Informed];
        let mut spec = RaciSpec::default();
        let mut expected_ok = true;
        let mut rows_used = 0;
        for (i, row) in rows.iter().enumerate() {
            if row.iter().all(Option::is_none) {
                continue;
            }
            rows_used += 1;
            let task = Task::new(format!("task-{i}")).unwrap();
            let accountable = row.iter().filter(|p| **p == Some(1)).count();
            expected_ok &= accountable == 1;
            for (role, p) in roles.iter().zip(row) {
                if let Some(p) = p {
                    spec = spec.assign(task.clone(), role.clone(), parts[usize::from(*p)]);
                }
            }
        }
        let result = Raci::new(spec);
        if rows_used == 0 {
            prop_assert_eq!(result, Err(RaciError::Empty));
        } else if expected_ok {
            let raci = result.unwrap();
            for t in raci.tasks() {
                prop_assert_eq!(raci.roles_with(t, Responsibility::Accountable).unwrap().len(), 1);
            }
        } else {
            let rejected = matches!(result, Err(RaciError::NoAccountable { .. } | RaciError::SeveralAccountable { .. }));
            prop_assert!(rejected, "{:?}", result);
        }
    }

    /// A matrix built from catalogue measures survives JSON and TOML, and compiles.
    #[test]
    fn matrices_round_trip(cells in prop::collection::vec((select(&RiskTier::ALL[..]), select(&Consideration::ALL[..]), 0usize..5, 1u32..4), 0..12)) {
        let mut m = GovernanceMatrix::empty();
        for (tier, consideration, which, n) in cells {
            let measure = match which {
                0 => Measure::DatasetLineage,
                1 => Measure::TwoPersonRule,
                2 => Measure::Signoffs { count: n, roles: BTreeSet::from([Role::model_validator()]) },
                3 => Measure::TrialPeriod { period: format!("{n}d").parse().unwrap() },
                _ => Measure::ModelCard { fields: vec![format!("field_{n}")] },
            };
            m = m.require(tier, consideration, MeasureEntry::new(measure));
        }
        prop_assert_eq!(&GovernanceMatrix::from_json(&m.to_json().unwrap()).unwrap(), &m);
        prop_assert_eq!(&GovernanceMatrix::from_toml(&m.to_toml().unwrap()).unwrap(), &m);
        let policy = m.compile("p", &Raci::default_raci()).unwrap();
        let total: usize = RiskTier::ALL.iter().map(|t| m.guards(*t, &Raci::default_raci()).unwrap().len()).sum();
        let compiled: usize = policy.spec().tiers.values().flat_map(|r| r.entering.values()).map(Vec::len).sum();
        prop_assert_eq!(total, compiled);
    }

    /// A successor with the baseline's content is within any plan; new code never is.
    #[test]
    fn unchanged_is_within_plan_and_new_code_is_material(params in prop::collection::btree_map("[a-z]{1,6}", "[0-9]{1,3}", 0..4), commit in "[0-9a-f]{7}") {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let core = |commit: &str| {
            let mut b = VersionCore::builder(Actor::human("alice").unwrap(), at)
                .artifact("model", "mem://m", Digest::of(b"m"), 1)
                .dataset("training", DatasetRole::Training, "mem://d", Digest::of(b"d"))
                .code("git://r", commit.to_owned(), None);
            for (k, v) in &params {
                b = b.param(k.clone(), v.clone());
            }
            b.build().unwrap()
        };
        let base: ModelRef = "m@v1".parse().unwrap();
        let next: ModelRef = "m@v2".parse().unwrap();
        let plan = ChangePlan::new("p", base);
        prop_assert_eq!(plan.assess(&core(&commit), &next, &core(&commit)).class, ChangeClass::WithinPlan);
        let other = format!("{commit}x");
        let a = plan.assess(&core(&commit), &next, &core(&other));
        prop_assert_eq!(a.class, ChangeClass::Material);
        prop_assert_eq!(a.material().len(), 1);
    }
}

/// The host-facing file formats of the shipped defaults are pinned: a change here is a change of
/// wire format (regenerate with `MLOPS_BLESS=1` after checking the diff).
#[test]
fn default_files_are_pinned() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let files = [
        (
            "default_matrix.json",
            GovernanceMatrix::default_matrix().to_json().unwrap(),
        ),
        (
            "default_scoring.json",
            serde_json::to_string_pretty(&Scoring::default()).unwrap(),
        ),
        (
            "default_raci.json",
            serde_json::to_string_pretty(Raci::default_raci().spec()).unwrap(),
        ),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        if std::env::var_os("MLOPS_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let pinned = std::fs::read_to_string(&path).unwrap();
        assert_eq!(pinned, text, "{name} changed");
    }
    // The pinned files load.
    GovernanceMatrix::from_json(&std::fs::read_to_string(dir.join("default_matrix.json")).unwrap())
        .unwrap();
    Scoring::from_json(&std::fs::read_to_string(dir.join("default_scoring.json")).unwrap())
        .unwrap();
    Raci::from_json(&std::fs::read_to_string(dir.join("default_raci.json")).unwrap()).unwrap();
}
