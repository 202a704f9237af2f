//! Golden files pin the JSON form of every persisted record: a change to these files is a change
//! to the wire format (and, for audit records, to every hash), and must be deliberate.
//!
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test -p mlops-registry
//! --test golden` and review the diff.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{Actor, ActorId, AliasName, Digest, ModelName, Role, Subject, VersionNumber};
use mlops_registry::audit::{self, AuditAction, AuditDraft, AuditRecord};
use mlops_registry::model::{
    DatasetRole, ModelAggregate, ModelVersion, Protection, RegisteredModel, StateName, VersionCore,
    VersionStatus,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    let p = path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &text).unwrap();
    }
    let golden = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", p.display()));
    assert_eq!(text, golden, "{name} changed its JSON form");
    let back: T = serde_json::from_str(&golden).unwrap();
    assert_eq!(&back, value, "{name} does not round-trip");
}

fn t(minutes: i64) -> mlops_core::chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

fn author() -> Actor {
    Actor::human("alice@example.com")
        .unwrap()
        .with_role(Role::data_scientist())
}

fn core() -> VersionCore {
    VersionCore::builder(author(), t(0))
        .artifact(
            "model",
            "s3://models/fraud/2/model.onnx",
            Digest::of(b"weights v2"),
            1_048_576,
        )
        .dataset(
            "transactions-2025q4",
            DatasetRole::Training,
            "s3://data/tx-2025q4.parquet",
            Digest::of(b"train"),
        )
        .dataset(
            "transactions-2026q1",
            DatasetRole::Validation,
            "s3://data/tx-2026q1.parquet",
            Digest::of(b"valid"),
        )
        .code(
            "https://git.example.com/ml/fraud",
            "9f8e7d6c",
            Some("train.py".into()),
        )
        .param("max_depth", "6")
        .param("learning_rate", "0.1")
        .metric("auc", 0.9125)
        .metric("logloss", 0.231)
        .parent("fraud@v1".parse().unwrap())
        .run_id("run-2026-02-01-001")
        .drift_profile("s3://profiles/fraud/2.json", Digest::of(b"profile"))
        .build()
        .unwrap()
}

fn aggregate() -> ModelAggregate {
    let mut model = RegisteredModel::new(
        ModelName::new("fraud").unwrap(),
        ActorId::new("alice@example.com").unwrap(),
        t(-60),
    );
    model.description = "Card fraud scorer".into();
    model.tags.insert("team", "risk").unwrap();
    model.risk_tier = mlops_core::RiskTier::High;
    model.updated_at = t(30);
    let mut agg = ModelAggregate::new(model);
    let v1 = VersionNumber::FIRST;
    let v2 = VersionNumber::new(2).unwrap();
    agg.insert_version(v1, StateName::development()).unwrap();
    agg.insert_version(v2, StateName::development()).unwrap();
    let by = ActorId::new("bob@example.com").unwrap();
    agg.set_alias(AliasName::champion(), v1, &by, t(10))
        .unwrap();
    agg.set_alias(AliasName::champion(), v2, &by, t(20))
        .unwrap();
    agg.set_state(v2, StateName::new("production").unwrap(), &by, t(20))
        .unwrap();
    agg.annotations_mut(v2).unwrap().description = "retrained on Q4".into();
    agg.annotations_mut(v2)
        .unwrap()
        .tags
        .insert("flavour", "gbm")
        .unwrap();
    agg.set_protected(AliasName::champion(), Protection::Protected);
    agg
}

#[test]
fn registered_model() {
    check("registered_model.json", aggregate().model());
}

#[test]
fn version_core() {
    check("version_core.json", &core());
}

#[test]
fn model_version() {
    let agg = aggregate();
    let v2 = VersionNumber::new(2).unwrap();
    let version = ModelVersion::new(
        agg.name().clone(),
        v2,
        core(),
        VersionStatus::clone(agg.version(v2).unwrap()),
    );
    check("model_version.json", &version);
}

#[test]
fn model_aggregate() {
    check("model_aggregate.json", &aggregate());
}

#[test]
fn audit_records() {
    let drafts = vec![
        AuditDraft::new(
            t(0),
            author(),
            AuditAction::model_registered(),
            Subject::Model {
                model: "fraud".parse().unwrap(),
            },
        ),
        AuditDraft::new(
            t(20),
            Actor::human("carol@example.com")
                .unwrap()
                .with_role(Role::risk_officer()),
            AuditAction::new("lifecycle.transition.applied").unwrap(),
            Subject::Version {
                version: "fraud@v2".parse().unwrap(),
            },
        )
        .with_states(
            Some(StateName::new("validation").unwrap()),
            Some(StateName::new("production").unwrap()),
        )
        .with_details(json!({"approvals": ["bob@example.com"], "guards_passed": 3}))
        .with_justification("validated on Q1 data"),
    ];
    let records: Vec<AuditRecord> = audit::seal_all(None, drafts).unwrap();
    check("audit_records.json", &records);
    // The pinned hashes still verify: the encoding has not drifted.
    let golden: Vec<AuditRecord> =
        serde_json::from_str(&std::fs::read_to_string(path("audit_records.json")).unwrap())
            .unwrap();
    audit::verify_chain(&golden).unwrap();
}

/// An aggregate written before protected states and governance records existed reads with the
/// baseline protected states and no records.
#[test]
fn model_aggregate_before_protected_states_reads_with_the_baseline() {
    let old: ModelAggregate =
        serde_json::from_str(&std::fs::read_to_string(path("model_aggregate_v1.json")).unwrap())
            .unwrap();
    assert!(old.is_protected_state(&StateName::new("production").unwrap()));
    assert!(old.is_protected_state(&StateName::new("pre_production").unwrap()));
    assert!(old.governance_records().is_empty());
}
