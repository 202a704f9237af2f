//! Hostile input for the lifecycle and policy file formats (issue 17): JSON and TOML mutated
//! from a full lifecycle and a policy using every guard kind, through the public parsers only
//! (`Lifecycle::from_json`/`from_toml`, `Policy::from_json`/`from_toml`). Every parse runs
//! under a wall-clock and a heap bound (the counting allocator of `support/hostile.rs`); what
//! parses round-trips through both formats.
#![allow(unsafe_code)] // reason: the counting allocator of `support/hostile.rs`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../mlops-core/tests/support/hostile.rs"]
mod hostile;

use std::time::Duration;

use hostile::{MIB, bounded};
use mlops_core::chrono::{TimeZone, Utc};
use mlops_core::{RiskTier, Role};
use mlops_governance::lifecycle::Lifecycle;
use mlops_governance::policy::{Guard, Policy, PolicySpec, TierRules};
use proptest::prelude::*;

const TIME: Duration = Duration::from_secs(5);
const HEAP: i64 = 128 * MIB;

fn seed_lifecycle() -> serde_json::Value {
    serde_json::from_str(&Lifecycle::default_lifecycle().to_json().unwrap()).unwrap()
}

fn seed_policy() -> serde_json::Value {
    let prod: mlops_governance::lifecycle::StateName = "production".parse().unwrap();
    let rules = TierRules::default()
        .entering(prod.clone(), Guard::approvals(2, [Role::model_validator()]))
        .entering(
            prod.clone(),
            Guard::evidence("validation.auc".parse().unwrap(), "30d".parse().unwrap()),
        )
        .entering(
            prod.clone(),
            Guard::documentation(["intended_use", "limitations"]),
        )
        .entering(
            prod.clone(),
            Guard::min_time_in_state("7d".parse().unwrap()),
        )
        .entering(
            prod,
            Guard::FreezeWindow {
                start: Utc.with_ymd_and_hms(2026, 12, 20, 0, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2027, 1, 3, 0, 0, 0).unwrap(),
                reason: "year-end".into(),
            },
        );
    let policy = PolicySpec::new("bank")
        .tier(RiskTier::High, rules.clone())
        .tier(RiskTier::Medium, rules)
        .validate()
        .unwrap();
    serde_json::from_str(&policy.to_json().unwrap()).unwrap()
}

fn check_lifecycle(lc: &Lifecycle) {
    let json = lc.to_json().unwrap();
    assert_eq!(&Lifecycle::from_json(&json).unwrap(), lc);
    if let Ok(toml) = lc.to_toml() {
        assert_eq!(&Lifecycle::from_toml(&toml).unwrap(), lc);
    }
}

fn check_policy(p: &Policy) {
    let json = p.to_json().unwrap();
    assert_eq!(Policy::from_json(&json).unwrap().to_json().unwrap(), json);
    if let Ok(toml) = p.to_toml() {
        assert_eq!(Policy::from_toml(&toml).unwrap().to_json().unwrap(), json);
    }
}

/// The mutated document as TOML text (when it has a TOML form), with the text mutations.
fn as_toml(
    seed: &serde_json::Value,
    m: &(Vec<hostile::Mutation>, Vec<hostile::TextMutation>),
) -> Option<String> {
    let doc = hostile::mutate(seed, &m.0);
    let text = toml::to_string(&doc).ok()?;
    Some(hostile::mutate_text(&text, &m.1))
}

#[test]
fn seeds_parse_in_both_formats() {
    let lc = Lifecycle::from_json(&seed_lifecycle().to_string()).unwrap();
    check_lifecycle(&lc);
    let p = Policy::from_json(&seed_policy().to_string()).unwrap();
    check_policy(&p);
    assert!(Policy::from_toml(&toml::to_string(&seed_policy()).unwrap()).is_ok());
}

#[test]
fn deeply_nested_and_huge_documents_are_typed_errors() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    bounded("deep json", TIME, HEAP, || {
        assert!(Lifecycle::from_json(&deep).is_err())
    });
    bounded("deep json", TIME, HEAP, || {
        assert!(Policy::from_json(&deep).is_err())
    });
    let deep_toml = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    bounded("deep toml", TIME, HEAP, || {
        assert!(Lifecycle::from_toml(&deep_toml).is_err())
    });
    bounded("deep toml", TIME, HEAP, || {
        assert!(Policy::from_toml(&deep_toml).is_err())
    });
}

proptest! {
    #![proptest_config(hostile::fuzz_config(384))]

    #[test]
    fn fuzz_lifecycle_json_and_toml(m in hostile::mutated_json()) {
        let seed = seed_lifecycle();
        let json = hostile::render(&seed, &m);
        if let Ok(lc) = bounded("lifecycle json", TIME, HEAP, || Lifecycle::from_json(&json)) {
            bounded("lifecycle use", TIME, HEAP, || check_lifecycle(&lc));
        }
        if let Some(toml) = as_toml(&seed, &m)
            && let Ok(lc) = bounded("lifecycle toml", TIME, HEAP, || Lifecycle::from_toml(&toml))
        {
            bounded("lifecycle use", TIME, HEAP, || check_lifecycle(&lc));
        }
    }

    #[test]
    fn fuzz_policy_json_and_toml(m in hostile::mutated_json()) {
        let seed = seed_policy();
        let json = hostile::render(&seed, &m);
        if let Ok(p) = bounded("policy json", TIME, HEAP, || Policy::from_json(&json)) {
            bounded("policy use", TIME, HEAP, || check_policy(&p));
        }
        if let Some(toml) = as_toml(&seed, &m)
            && let Ok(p) = bounded("policy toml", TIME, HEAP, || Policy::from_toml(&toml))
        {
            bounded("policy use", TIME, HEAP, || check_policy(&p));
        }
    }
}
