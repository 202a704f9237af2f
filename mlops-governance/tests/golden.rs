//! The JSON forms of governance's persisted values are a wire format: pinned here by golden
//! files (`tests/golden/*.json`). A change to them is a format change and must be deliberate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Actor, ActorId, Digest, Role};
use mlops_governance::approval::{ApprovalId, ApprovalRequest, RequestKind, Vote};
use mlops_governance::lifecycle::Lifecycle;
use mlops_governance::policy::{
    EnforcementMode, GuardKind, GuardOutcome, GuardSource, GuardStatus, Verdict,
};

/// The golden value `name`. With `GOLDEN_BLESS=1` in the environment, `actual` is written as the
/// new golden file first (a deliberate format change; review the diff).
fn golden(name: &str, actual: &serde_json::Value) -> serde_json::Value {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("GOLDEN_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn default_lifecycle_wire_format() {
    let lc = Lifecycle::default_lifecycle();
    let actual = serde_json::to_value(&lc).unwrap();
    let expected = golden("default_lifecycle.json", &actual);
    assert_eq!(actual, expected);
    let back: Lifecycle = serde_json::from_value(expected).unwrap();
    assert_eq!(back, lc);
}

#[test]
fn verdict_wire_format() {
    let v = Verdict::from_outcomes(
        Digest::of(b"policy"),
        EnforcementMode::Warn,
        vec![
            GuardOutcome {
                source: GuardSource::Builtin,
                index: 0,
                kind: GuardKind::Permission,
                status: GuardStatus::Met,
            },
            GuardOutcome {
                source: GuardSource::Policy,
                index: 2,
                kind: GuardKind::Approvals,
                status: GuardStatus::Unmet {
                    reason: "0 of 1 sign-offs".into(),
                },
            },
        ],
    );
    let actual = serde_json::to_value(&v).unwrap();
    let expected = golden("verdict.json", &actual);
    assert_eq!(actual, expected);
    assert_eq!(serde_json::from_value::<Verdict>(expected).unwrap(), v);
}

#[test]
fn approval_request_wire_format() {
    let t = DateTime::UNIX_EPOCH + TimeDelta::days(20_000);
    let eve = Actor::human("eve").unwrap().with_role(Role::ml_engineer());
    let rita = Actor::human("rita")
        .unwrap()
        .with_role(Role::risk_officer());
    let mut req = ApprovalRequest::open(
        ApprovalId::new("fraud".parse().unwrap(), 7),
        RequestKind::Transition,
        "fraud@v3".parse().unwrap(),
        "pre_production".parse().unwrap(),
        "promote".parse().unwrap(),
        "production".parse().unwrap(),
        &eve,
        Some(ActorId::new("alice").unwrap()),
        t,
        Some("3d".parse().unwrap()),
    );
    req.decide(
        &rita,
        Vote::Approve,
        "risk accepted",
        t + TimeDelta::hours(2),
    )
    .unwrap();
    let actual = serde_json::to_value(&req).unwrap();
    let expected = golden("approval_request.json", &actual);
    assert_eq!(actual, expected);
    assert_eq!(
        serde_json::from_value::<ApprovalRequest>(expected).unwrap(),
        req
    );
}
