//! The audit hash chain: sealing, canonical encoding, and verification that names the first
//! modified, reordered or removed record.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mlops_core::chrono::{DateTime, TimeDelta};
use mlops_core::{Actor, Digest, Subject};
use mlops_registry::audit::{
    self, AuditAction, AuditDraft, AuditRecord, ChainBreak, ChainBreakReason, genesis_hash,
};
use mlops_registry::model::StateName;
use proptest::prelude::*;
use serde_json::json;
use sha2::{Digest as _, Sha256};

fn draft(i: u64) -> AuditDraft {
    AuditDraft::new(
        DateTime::UNIX_EPOCH + TimeDelta::seconds(i64::try_from(i).unwrap()),
        Actor::human(format!("user{}", i % 3)).unwrap(),
        AuditAction::new("lifecycle.transition.applied").unwrap(),
        Subject::Version {
            version: format!("m@v{}", i + 1).parse().unwrap(),
        },
    )
    .with_states(
        Some(StateName::development()),
        Some(StateName::new("validation").unwrap()),
    )
    .with_details(json!({"z": i, "a": [1, 2.5, "x"], "m": {"b": null, "a": true}}))
}

fn chain(n: u64) -> Vec<AuditRecord> {
    audit::seal_all(None, (0..n).map(draft).collect()).unwrap()
}

#[test]
fn a_sealed_chain_verifies_and_links() {
    let c = chain(10);
    audit::verify_chain(&c).unwrap();
    assert_eq!(c[0].seq, 1);
    assert_eq!(c[0].prev_hash, genesis_hash());
    for w in c.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1);
        assert_eq!(w[1].prev_hash, w[0].hash);
    }
    // A suffix verifies on its own, and after its anchor.
    audit::verify_chain(&c[4..]).unwrap();
    audit::verify_chain_after(Some(&c[3]), &c[4..]).unwrap();
    audit::verify_chain(&[]).unwrap();
}

#[test]
fn the_hash_is_sha256_of_the_documented_encoding() {
    // An independent re-implementation of the documented encoding for one fixed record.
    let d = AuditDraft::new(
        DateTime::UNIX_EPOCH,
        Actor::human("alice").unwrap(),
        AuditAction::model_registered(),
        Subject::Model {
            model: "fraud".parse().unwrap(),
        },
    )
    .with_details(json!({"b": 1, "a": "é\"\n"}));
    let rec = audit::seal(None, d).unwrap();
    let json = concat!(
        r#"{"action":"registry.model.registered","#,
        r#""actor":{"id":"alice","kind":"human","roles":[]},"#,
        r#""at":"1970-01-01T00:00:00Z","#,
        r#""details":{"a":"é\"\n","b":1},"#,
        r#""justification":null,"#,
        r#""state_after":null,"state_before":null,"#,
        r#""subject":{"kind":"model","model":"fraud"}}"#
    );
    let mut bytes = b"mlops-audit-v1\n".to_vec();
    bytes.extend_from_slice(&1_u64.to_be_bytes());
    bytes.extend_from_slice(&[0_u8; 32]);
    bytes.extend_from_slice(json.as_bytes());
    assert_eq!(
        audit::canonical_encoding(rec.seq, &rec.prev_hash, &rec.draft).unwrap(),
        bytes
    );
    assert_eq!(rec.hash, Digest::from_bytes(Sha256::digest(&bytes).into()));
}

#[test]
fn a_modified_record_is_named() {
    let mut c = chain(8);
    c[5].draft.justification = Some("edited later".into());
    assert_eq!(
        audit::verify_chain(&c),
        Err(ChainBreak {
            seq: 6,
            reason: ChainBreakReason::HashMismatch
        })
    );
}

#[test]
fn a_modified_record_with_recomputed_hash_breaks_the_next_link() {
    let mut c = chain(8);
    c[2].draft.details = json!({"forged": true});
    c[2].hash = audit::record_hash(c[2].seq, &c[2].prev_hash, &c[2].draft).unwrap();
    assert_eq!(
        audit::verify_chain(&c),
        Err(ChainBreak {
            seq: 4,
            reason: ChainBreakReason::PrevHashMismatch
        })
    );
}

#[test]
fn a_removed_record_is_named() {
    let mut c = chain(8);
    c.remove(3);
    assert_eq!(
        audit::verify_chain(&c),
        Err(ChainBreak {
            seq: 5,
            reason: ChainBreakReason::SeqGap { expected: 4 }
        })
    );
}

#[test]
fn reordered_records_are_named() {
    let mut c = chain(8);
    c.swap(2, 3);
    assert_eq!(
        audit::verify_chain(&c),
        Err(ChainBreak {
            seq: 4,
            reason: ChainBreakReason::SeqGap { expected: 3 }
        })
    );
}

#[test]
fn a_forged_genesis_is_named() {
    let mut c = chain(2);
    c[0].prev_hash = Digest::of(b"not genesis");
    c[0].hash = audit::record_hash(1, &c[0].prev_hash, &c[0].draft).unwrap();
    assert_eq!(
        audit::verify_chain(&c[..1]),
        Err(ChainBreak {
            seq: 1,
            reason: ChainBreakReason::BadGenesis
        })
    );
}

#[test]
fn drafts_over_the_limits_are_rejected() {
    let long = "j".repeat(audit::MAX_JUSTIFICATION_LEN + 1);
    assert!(matches!(
        audit::seal(None, draft(0).with_justification(long)),
        Err(mlops_registry::RegistryError::InvalidInput {
            field: "justification",
            ..
        })
    ));
    let big = json!({"blob": "x".repeat(audit::MAX_DETAILS_BYTES)});
    assert!(matches!(
        audit::seal(None, draft(0).with_details(big)),
        Err(mlops_registry::RegistryError::InvalidInput {
            field: "audit details",
            ..
        })
    ));
    assert!(AuditAction::new("Bad Action").is_err());
    assert!(AuditAction::new("").is_err());
}

#[test]
fn records_round_trip_through_json_and_still_verify() {
    let c = chain(5);
    let text = serde_json::to_string(&c).unwrap();
    let back: Vec<AuditRecord> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, c);
    audit::verify_chain(&back).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Flipping any byte of any string field in any record is detected at that record.
    #[test]
    fn any_single_edit_is_detected_at_its_record(n in 2_u64..12, pick in 0_usize..100, text in "[a-z]{1,8}") {
        let mut c = chain(n);
        let i = pick % c.len();
        c[i].draft.justification = Some(text);
        let err = audit::verify_chain(&c).unwrap_err();
        prop_assert_eq!(err.seq, c[i].seq);
        prop_assert_eq!(err.reason, ChainBreakReason::HashMismatch);
    }

    /// Removing any record but the last is detected at the record after it.
    #[test]
    fn any_removal_is_detected(n in 3_u64..12, pick in 0_usize..100) {
        let mut c = chain(n);
        let i = 1 + pick % (c.len() - 2);
        let next_seq = c[i + 1].seq;
        c.remove(i);
        let err = audit::verify_chain(&c).unwrap_err();
        prop_assert_eq!(err.seq, next_seq);
    }

    /// Key order in details never changes the hash (the encoding sorts keys).
    #[test]
    fn key_order_does_not_matter(keys in proptest::collection::btree_set("[a-z]{1,6}", 1..8)) {
        let forward: serde_json::Map<String, serde_json::Value> =
            keys.iter().map(|k| (k.clone(), json!(k.len()))).collect();
        let mut reversed = serde_json::Map::new();
        for k in keys.iter().rev() {
            reversed.insert(k.clone(), json!(k.len()));
        }
        let a = audit::seal(None, draft(1).with_details(serde_json::Value::Object(forward))).unwrap();
        let b = audit::seal(None, draft(1).with_details(serde_json::Value::Object(reversed))).unwrap();
        prop_assert_eq!(a.hash, b.hash);
    }
}

/// An independent statement of the documented encoding: the draft's `serde_json::Value`,
/// printed by `serde_json` (whose maps, without its `preserve_order` feature, are ordered by key
/// bytes at every level).
fn reference_encoding(seq: u64, prev: &Digest, d: &AuditDraft) -> Vec<u8> {
    let mut out = b"mlops-audit-v1\n".to_vec();
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(prev.as_bytes());
    serde_json::to_writer(&mut out, &serde_json::to_value(d).unwrap()).unwrap();
    out
}

fn any_subject(i: u8, text: &str) -> Subject {
    let v: mlops_core::ModelRef = "fraud.gbm@v12".parse().unwrap();
    match i % 6 {
        0 => Subject::Version { version: v },
        1 => Subject::Model {
            model: v.name().clone(),
        },
        2 => Subject::Feature {
            version: Some(v),
            feature: text.to_owned(),
        },
        3 => Subject::Segment {
            version: None,
            segment: text.to_owned(),
        },
        4 => Subject::Dataset {
            digest: Digest::of(text.as_bytes()),
        },
        _ => Subject::Policy {
            identity: Digest::of(text.as_bytes()),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    /// The streaming canonical writer produces the documented bytes for every shape of draft
    /// (every subject kind, states or none, nested details with unsorted and escaped keys).
    #[test]
    fn the_encoding_is_the_documented_one_for_any_draft(
        seq in 1u64..u64::MAX,
        secs in -1_000_000_000i64..4_000_000_000,
        nanos in 0u32..1_000_000_000,
        text in "\\PC{0,24}",
        kind in 0u8..6,
        with_states in any::<bool>(),
        number in any::<f64>(),
        int in any::<i64>(),
    ) {
        let at = DateTime::UNIX_EPOCH + TimeDelta::seconds(secs) + TimeDelta::nanoseconds(i64::from(nanos));
        let actor = Actor::human("ëve \"q\"").unwrap()
            .with_role(mlops_core::Role::ml_engineer())
            .with_role(mlops_core::Role::auditor());
        let mut d = AuditDraft::new(at, actor, AuditAction::TRANSITION_APPLIED, any_subject(kind, &text))
            .with_details(json!({
                "z": [1, {"b": text, "a": null}], "a": number.is_finite().then_some(number),
                "é": int, "nested": {"y": [true, false], "x": {"k": text}}, "": "empty key",
                "\u{1}": 1, "\n": 2,
            }));
        if with_states {
            d = d.with_states(Some("pre_production".parse().unwrap()), None).with_justification(text.clone());
        }
        let prev = Digest::of(text.as_bytes());
        let want = reference_encoding(seq, &prev, &d);
        prop_assert_eq!(audit::canonical_encoding(seq, &prev, &d).unwrap(), want.clone());
        prop_assert_eq!(
            audit::record_hash(seq, &prev, &d).unwrap(),
            Digest::from_bytes(Sha256::digest(&want).into())
        );
    }
}

#[test]
fn the_action_catalogue_is_valid_unique_and_namespaced() {
    use audit::AuditNamespace;
    let mut seen = std::collections::BTreeSet::new();
    for a in AuditAction::ALL {
        assert_eq!(
            &AuditAction::new(a.as_str()).unwrap(),
            a,
            "{a} is a valid action"
        );
        assert!(seen.insert(a.as_str()), "{a} is listed twice");
        assert_ne!(a.namespace(), AuditNamespace::Host, "{a} has an SDK prefix");
        assert!(a.as_str().starts_with(a.namespace().prefix()));
        assert!(a.is_catalogued());
        // Round-trips through its wire form.
        let json = serde_json::to_string(a).unwrap();
        assert_eq!(&serde_json::from_str::<AuditAction>(&json).unwrap(), a);
    }
    assert!(AuditAction::ALL.contains(&AuditAction::VERSION_CREATED));
    assert!(AuditAction::ALL.contains(&AuditAction::POLICY_CHANGED));
    let host = AuditAction::new("billing.invoice.sent").unwrap();
    assert_eq!(host.namespace(), AuditNamespace::Host);
    assert!(!host.is_catalogued());
    assert_eq!(
        AuditAction::new("registry.alias.moved").unwrap(),
        AuditAction::ALIAS_MOVED
    );
}
