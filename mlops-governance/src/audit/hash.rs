//! A fast path for the registry's record hash: the same bytes as
//! [`mlops_registry::audit::canonical_encoding`], streamed into SHA-256 without building a JSON
//! tree for the fixed-shape parts of a draft. Tests pin the equality on every shape of draft.

use mlops_core::{Digest, Subject};
use mlops_registry::audit::{self, AuditDraft, AuditRecord, ChainBreak, ChainBreakReason};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::error::AuditError;

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> serde_json::Result<()> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k)?;
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

/// Writes the draft's canonical JSON (keys sorted at every level, no whitespace).
fn write_draft(d: &AuditDraft, out: &mut Vec<u8>) -> serde_json::Result<()> {
    // Top-level keys in byte order: action, actor, at, details, justification, state_after,
    // state_before, subject.
    out.extend_from_slice(b"{\"action\":");
    serde_json::to_writer(&mut *out, &d.action)?;
    // An actor serializes as {"id","kind","roles"}: already in key order, roles an array.
    out.extend_from_slice(b",\"actor\":");
    serde_json::to_writer(&mut *out, &d.actor)?;
    out.extend_from_slice(b",\"at\":");
    serde_json::to_writer(&mut *out, &d.at)?;
    out.extend_from_slice(b",\"details\":");
    write_canonical(&d.details, out)?;
    out.extend_from_slice(b",\"justification\":");
    serde_json::to_writer(&mut *out, &d.justification)?;
    out.extend_from_slice(b",\"state_after\":");
    serde_json::to_writer(&mut *out, &d.state_after)?;
    out.extend_from_slice(b",\"state_before\":");
    serde_json::to_writer(&mut *out, &d.state_before)?;
    out.extend_from_slice(b",\"subject\":");
    match &d.subject {
        // `{"kind":…,"version":…}` and `{"kind":…,"model":…}` are already in key order.
        Subject::Version { .. } | Subject::Model { .. } => {
            serde_json::to_writer(&mut *out, &d.subject)?;
        }
        other => write_canonical(&serde_json::to_value(other)?, out)?,
    }
    out.push(b'}');
    Ok(())
}

/// The hash of a record, equal to [`mlops_registry::audit::record_hash`], reusing `buf`.
///
/// # Errors
/// [`AuditError::Broken`] with [`ChainBreakReason::Encoding`] if the draft cannot be encoded.
pub fn fast_record_hash(
    seq: u64,
    prev_hash: &Digest,
    draft: &AuditDraft,
    buf: &mut Vec<u8>,
) -> Result<Digest, AuditError> {
    buf.clear();
    write_draft(draft, buf).map_err(|_| {
        AuditError::Broken(ChainBreak {
            seq,
            reason: ChainBreakReason::Encoding,
        })
    })?;
    let mut h = Sha256::new();
    h.update(audit::DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(prev_hash.as_bytes());
    h.update(&*buf);
    Ok(Digest::from_bytes(h.finalize().into()))
}

/// Seals `draft` after `prev`, as [`mlops_registry::audit::seal`] does (same checks, same hash).
///
/// # Errors
/// [`AuditError::Registry`] for a draft breaking a limit or an exhausted sequence.
pub fn fast_seal(
    prev: Option<&AuditRecord>,
    draft: AuditDraft,
    buf: &mut Vec<u8>,
) -> Result<AuditRecord, AuditError> {
    draft.validate()?;
    let (seq, prev_hash) = match prev {
        None => (1, audit::genesis_hash()),
        Some(p) => (
            p.seq
                .checked_add(1)
                .ok_or(mlops_registry::RegistryError::Exhausted {
                    what: "audit sequence numbers",
                })?,
            p.hash,
        ),
    };
    let hash = fast_record_hash(seq, &prev_hash, &draft, buf)?;
    Ok(AuditRecord {
        seq,
        draft,
        prev_hash,
        hash,
    })
}

/// [`mlops_registry::audit::verify_chain_after`] with the fast hash.
pub(crate) fn verify_after(
    anchor: Option<&AuditRecord>,
    records: &[AuditRecord],
) -> Result<(), ChainBreak> {
    let mut buf = Vec::with_capacity(1024);
    audit::verify_chain_after_with(anchor, records, |r| {
        fast_record_hash(r.seq, &r.prev_hash, &r.draft, &mut buf).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeDelta, Utc};
    use mlops_core::{Actor, Role};
    use mlops_registry::audit::AuditAction;
    use proptest::prelude::*;
    use serde_json::json;

    fn subject(i: u8, text: &str) -> Subject {
        let v: mlops_core::ModelRef = "fraud.gbm@v12".parse().unwrap();
        match i % 5 {
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
            _ => Subject::Dataset {
                digest: Digest::of(text.as_bytes()),
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn fast_hash_equals_the_registry_hash(
            seq in 1u64..u64::MAX,
            secs in -1_000_000_000i64..4_000_000_000,
            nanos in 0u32..1_000_000_000,
            text in "\\PC{0,24}",
            kind in 0u8..5,
            with_states in any::<bool>(),
            number in any::<f64>(),
            int in any::<i64>(),
        ) {
            let at = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(secs) + TimeDelta::nanoseconds(i64::from(nanos));
            let actor = Actor::human("ëve \"q\"").unwrap().with_role(Role::ml_engineer()).with_role(Role::auditor());
            let mut d = AuditDraft::new(at, actor, AuditAction::new("governance.transition.applied").unwrap(), subject(kind, &text))
                .with_details(json!({
                    "z": [1, {"b": text, "a": null}], "a": number.is_finite().then_some(number),
                    "é": int, "nested": {"y": [true, false], "x": {"k": text}}, "": "empty key",
                }));
            if with_states {
                d = d.with_states(Some("pre_production".parse().unwrap()), None).with_justification(text.clone());
            }
            let prev = Digest::of(text.as_bytes());
            let mut buf = Vec::new();
            prop_assert_eq!(
                fast_record_hash(seq, &prev, &d, &mut buf).unwrap(),
                audit::record_hash(seq, &prev, &d).unwrap()
            );
        }
    }
}
