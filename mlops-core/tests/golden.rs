//! The JSON form of each core record is a wire format: pinned here against files in
//! `tests/golden/`. Run with `UPDATE_GOLDEN=1` to rewrite the files after a deliberate change.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers outside #[test] fns

use std::path::PathBuf;

use mlops_core::chrono::{TimeZone, Utc};
use mlops_core::{
    Actor, AliasName, Digest, Direction, Evidence, ModelName, ModelRef, RiskTier, Role, Subject,
    VersionNumber,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.json"));
    let json = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &json).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert_eq!(json, pinned, "wire format of {name} changed");
    let back: T = serde_json::from_str(&pinned).unwrap();
    assert_eq!(&back, value);
}

#[test]
fn identifiers() {
    check(
        "identifiers",
        &(
            ModelName::new("credit-risk").unwrap(),
            VersionNumber::new(3).unwrap(),
            "credit-risk@v3".parse::<ModelRef>().unwrap(),
            AliasName::champion(),
            RiskTier::Critical,
        ),
    );
}

#[test]
fn actor() {
    check(
        "actor",
        &Actor::human("alice@example.com")
            .unwrap()
            .with_role(Role::risk_officer())
            .with_role(Role::data_scientist()),
    );
}

#[test]
fn digest() {
    check("digest", &Digest::of(b"training.parquet"));
}

#[test]
fn evidence() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 30, 0).unwrap();
    let version: ModelRef = "credit-risk@v3".parse().unwrap();
    let records = vec![
        Evidence::new(
            "validation.auc".parse().unwrap(),
            Subject::Version {
                version: version.clone(),
            },
            0.91,
            0.85,
            Direction::AtLeast,
            at,
        )
        .with_source("offline-validation")
        .with_detail("n", 25_000.0),
        Evidence::new(
            "drift.psi".parse().unwrap(),
            Subject::Feature {
                version: Some(version),
                feature: "income".into(),
            },
            f64::INFINITY,
            0.1,
            Direction::Below,
            at,
        )
        .with_detail("p_value", 0.0),
        Evidence::new(
            "data.quality".parse().unwrap(),
            Subject::Dataset {
                digest: Digest::of(b"training.parquet"),
            },
            0.5,
            0.5,
            Direction::AtMost,
            at,
        ),
    ];
    check("evidence", &records);
}

#[test]
fn subjects() {
    let version: ModelRef = "credit-risk@v3".parse().unwrap();
    let subjects = vec![
        Subject::Model {
            model: ModelName::new("credit-risk").unwrap(),
        },
        Subject::Version {
            version: version.clone(),
        },
        Subject::Feature {
            version: Some(version),
            feature: "income".into(),
        },
        Subject::Segment {
            version: None,
            segment: "region=eu".into(),
        },
        Subject::Dataset {
            digest: Digest::of(b"training.parquet"),
        },
        Subject::Policy {
            identity: Digest::of(b"policy v7"),
        },
    ];
    check("subjects", &subjects);
    let shown: Vec<String> = subjects.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown.last().unwrap(),
        &format!("policy {}", Digest::of(b"policy v7"))
    );
    assert_eq!(shown[0], "model credit-risk");
}
