//! Audit records, hash-chained.
//!
//! A caller describes an event as an [`AuditDraft`]; a store seals it into an [`AuditRecord`] with
//! [`seal`] inside the same atomic commit as the state change it describes, giving it the next
//! global sequence number and chaining it to the previous record by SHA-256. [`verify_chain`]
//! recomputes every hash and names the first record that was modified, reordered or removed.
//!
//! # Canonical encoding
//!
//! The hash of record `seq` is `SHA-256(encoding)` where `encoding` is the concatenation of
//!
//! 1. the 15 ASCII bytes `mlops-audit-v1\n` (domain separation and format version),
//! 2. `seq` as 8 bytes, big-endian,
//! 3. the 32 raw bytes of `prev_hash` (all zero for the first record, seq 1: [`genesis_hash`]),
//! 4. the draft's *canonical JSON*: the draft's serde JSON form (as pinned by the golden files in
//!    `tests/golden/`) written with no whitespace, object keys sorted by their UTF-8 bytes at
//!    every level, strings escaped as `serde_json` escapes them (`"`, `\`, control characters;
//!    non-ASCII written as UTF-8), numbers as `serde_json` prints them.
//!
//! [`canonical_encoding`] returns these bytes, so an auditor's own tool can be checked against
//! this crate. They are produced by one streaming writer (a serde serializer that sorts the keys
//! of every object itself, so it assumes nothing about the order in which any type emits its
//! fields) used by every store, every in-memory log and every verifier: there is one encoding.
//!
//! # What the chain proves, and what needs a checkpoint
//!
//! [`verify_chain`] finds any record that was modified, reordered or removed *inside* a run.
//! Removing records at the end, or rewriting the tail and re-chaining it, leaves a valid chain:
//! that is caught by the [`ChainHead`] the store keeps with every append (see
//! [`ModelStore::audit_head`](crate::store::ModelStore::audit_head)). Whoever can rewrite the
//! whole store, the head included, can forge a consistent history; only a checkpoint (a head
//! exported earlier and kept outside the store) reveals that.
//!
//! # Actions
//!
//! Every action the SDK writes is in one catalogue, [`AuditAction::ALL`], prefixed by who
//! writes it ([`AuditNamespace`]).

use std::cell::RefCell;
use std::fmt;

use chrono::{DateTime, Utc};
use mlops_core::{Actor, Digest, Subject};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::error::{RegistryError, Result};
use crate::governed::{Authority, GovernanceSeal};
use crate::model::StateName;

mod canonical;

use canonical::Canonical;

/// The domain-separation prefix of the canonical encoding.
pub const DOMAIN: &[u8; 15] = b"mlops-audit-v1\n";
/// The namespace of audit actions only governance writes: a draft in it must carry the
/// [`GovernanceSeal`] ([`AuditDraft::authorize`]), in a commit or in a plain append.
pub const RESERVED_NAMESPACE: &str = AuditNamespace::Governance.prefix();
/// The longest justification, in characters.
pub const MAX_JUSTIFICATION_LEN: usize = 4096;
/// The largest `details` value, in bytes of canonical JSON.
pub const MAX_DETAILS_BYTES: usize = 64 * 1024;

/// The `prev_hash` of the first record: 32 zero bytes.
#[must_use]
pub fn genesis_hash() -> Digest {
    Digest::from_bytes([0; 32])
}

/// What happened (defined in `mlops-core` with its catalogue of the actions the SDK writes).
pub use mlops_core::{AuditAction, AuditNamespace};

/// An event to record, before the store gives it a sequence number and a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDraft {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub action: AuditAction,
    /// What it happened to.
    pub subject: Subject,
    /// The lifecycle state before, where relevant.
    pub state_before: Option<StateName>,
    /// The lifecycle state after, where relevant.
    pub state_after: Option<StateName>,
    /// Structured details (the verdict, the approvals, the alias move...).
    pub details: Value,
    /// Why, in the actor's words (required by some policies, such as overrides).
    pub justification: Option<String>,
    /// Whether governance sealed the draft (needed for the `governance.` namespace).
    #[serde(skip)]
    authority: Authority,
}

impl AuditDraft {
    /// A draft with no states, `null` details and no justification.
    #[must_use]
    pub fn new(at: DateTime<Utc>, actor: Actor, action: AuditAction, subject: Subject) -> Self {
        Self {
            at,
            actor,
            action,
            subject,
            state_before: None,
            state_after: None,
            details: Value::Null,
            justification: None,
            authority: Authority::default(),
        }
    }

    /// Seals the draft with governance's capability: only sealed drafts may use the reserved
    /// `governance.` namespace (see [`governed`](crate::governed)).
    #[must_use]
    pub fn authorize(mut self, seal: &'static GovernanceSeal) -> Self {
        self.authority = Authority::sealed(seal);
        self
    }

    /// Whether the draft carries governance's seal.
    #[must_use]
    pub fn is_sealed(&self) -> bool {
        self.authority.is_sealed()
    }

    /// Sets the states before and after.
    #[must_use]
    pub fn with_states(mut self, before: Option<StateName>, after: Option<StateName>) -> Self {
        self.state_before = before;
        self.state_after = after;
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Sets the justification.
    #[must_use]
    pub fn with_justification(mut self, justification: impl Into<String>) -> Self {
        self.justification = Some(justification.into());
        self
    }

    /// Checks the documented limits ([`MAX_JUSTIFICATION_LEN`], [`MAX_DETAILS_BYTES`]) and
    /// that an action in the reserved namespace ([`RESERVED_NAMESPACE`]) is sealed.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] naming the field; [`RegistryError::ReservedAction`].
    pub fn validate(&self) -> Result<()> {
        if self.action.namespace() == AuditNamespace::Governance && !self.is_sealed() {
            return Err(RegistryError::ReservedAction {
                action: self.action.to_string(),
            });
        }
        if let Some(j) = &self.justification {
            let n = j.chars().count();
            if n > MAX_JUSTIFICATION_LEN {
                return Err(RegistryError::invalid(
                    "justification",
                    j,
                    format!("{n} characters; at most {MAX_JUSTIFICATION_LEN} are allowed"),
                ));
            }
        }
        let len = with_encoder(|c| {
            c.out.clear();
            c.write(&self.details).map_err(encode_err)?;
            Ok(c.out.len())
        })?;
        if len > MAX_DETAILS_BYTES {
            return Err(RegistryError::invalid(
                "audit details",
                &self.details.to_string(),
                format!("{len} bytes; at most {MAX_DETAILS_BYTES} are allowed"),
            ));
        }
        Ok(())
    }
}

/// A sealed audit record: a draft with its global sequence number and hash chain links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The global sequence number: 1, 2, 3, … with no gaps.
    pub seq: u64,
    /// The event.
    pub draft: AuditDraft,
    /// The hash of the previous record ([`genesis_hash`] for seq 1).
    pub prev_hash: Digest,
    /// The hash of this record (see the [module docs](self)).
    pub hash: Digest,
}

/// The head of a chain: the sequence number and hash of its last record. A store keeps it in
/// the same transaction as every append ([`ModelStore::audit_head`](crate::store::ModelStore::audit_head)),
/// so a log cut short, or a tail rewritten and re-chained, no longer ends at its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainHead {
    /// The sequence number of the last record.
    pub seq: u64,
    /// Its hash.
    pub hash: Digest,
}

impl ChainHead {
    /// The head of a chain ending at `record`.
    #[must_use]
    pub fn of(record: &AuditRecord) -> Self {
        Self {
            seq: record.seq,
            hash: record.hash,
        }
    }
}

fn encode_err(e: canonical::CanonicalError) -> RegistryError {
    RegistryError::Storage {
        message: format!("cannot encode audit record: {e}"),
    }
}

thread_local! {
    static ENCODER: RefCell<Canonical> = RefCell::new(Canonical::default());
}

/// Runs `f` with this thread's reusable encoder (a fresh one if it is busy).
fn with_encoder<T>(f: impl FnOnce(&mut Canonical) -> Result<T>) -> Result<T> {
    ENCODER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut c) => {
            let r = f(&mut c);
            // Do not keep the buffers of an unusually large record.
            if c.out.capacity() > 4 * MAX_DETAILS_BYTES {
                *c = Canonical::default();
            }
            r
        }
        Err(_) => f(&mut Canonical::default()),
    })
}

/// Writes the documented encoding into `c.out` (cleared first).
fn encode_into(c: &mut Canonical, seq: u64, prev_hash: &Digest, draft: &AuditDraft) -> Result<()> {
    c.out.clear();
    c.out.extend_from_slice(DOMAIN);
    c.out.extend_from_slice(&seq.to_be_bytes());
    c.out.extend_from_slice(prev_hash.as_bytes());
    c.write(draft).map_err(encode_err)
}

/// The bytes hashed for a record (see the [module docs](self)).
///
/// # Errors
/// [`RegistryError::Storage`] if the draft cannot be encoded as JSON (not expected for valid
/// drafts).
pub fn canonical_encoding(seq: u64, prev_hash: &Digest, draft: &AuditDraft) -> Result<Vec<u8>> {
    let mut c = Canonical::default();
    encode_into(&mut c, seq, prev_hash, draft)?;
    Ok(c.out)
}

/// The hash of a record with these contents: SHA-256 of [`canonical_encoding`], computed with
/// a reusable per-thread buffer.
///
/// # Errors
/// As [`canonical_encoding`].
pub fn record_hash(seq: u64, prev_hash: &Digest, draft: &AuditDraft) -> Result<Digest> {
    with_encoder(|c| {
        encode_into(c, seq, prev_hash, draft)?;
        Ok(Digest::from_bytes(Sha256::digest(&c.out).into()))
    })
}

/// Seals `draft` as the record after `prev` (`None`: the first record of the log). Every store
/// calls this inside the atomic commit that writes the record.
///
/// ```
/// use mlops_core::{Actor, Subject};
/// use mlops_core::chrono::DateTime;
/// use mlops_registry::audit::{self, AuditAction, AuditDraft};
///
/// let draft = AuditDraft::new(
///     DateTime::UNIX_EPOCH,
///     Actor::human("alice")?,
///     AuditAction::model_registered(),
///     Subject::Model { model: "fraud".parse()? },
/// );
/// let first = audit::seal(None, draft.clone())?;
/// let second = audit::seal(Some(&first), draft)?;
/// assert_eq!((first.seq, second.seq), (1, 2));
/// assert_eq!(second.prev_hash, first.hash);
/// assert!(audit::verify_chain(&[first, second]).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`RegistryError::InvalidInput`] for a draft breaking a limit; [`RegistryError::Exhausted`]
/// after 2⁶⁴−1 records.
pub fn seal(prev: Option<&AuditRecord>, draft: AuditDraft) -> Result<AuditRecord> {
    draft.validate()?;
    // A stored record never carries the seal: re-appending a record read back is unsealed.
    let mut draft = draft;
    draft.authority = Authority::default();
    let (seq, prev_hash) = match prev {
        None => (1, genesis_hash()),
        Some(p) => (
            p.seq.checked_add(1).ok_or(RegistryError::Exhausted {
                what: "audit sequence numbers",
            })?,
            p.hash,
        ),
    };
    let hash = record_hash(seq, &prev_hash, &draft)?;
    Ok(AuditRecord {
        seq,
        draft,
        prev_hash,
        hash,
    })
}

/// Seals several drafts in order after `prev`.
///
/// # Errors
/// As [`seal`]; nothing is returned if any draft fails.
pub fn seal_all(prev: Option<&AuditRecord>, drafts: Vec<AuditDraft>) -> Result<Vec<AuditRecord>> {
    let mut out: Vec<AuditRecord> = Vec::with_capacity(drafts.len());
    for d in drafts {
        let rec = seal(out.last().or(prev), d)?;
        out.push(rec);
    }
    Ok(out)
}

/// Why [`verify_chain`] rejected a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainBreakReason {
    /// The record's contents do not match its hash (it was modified).
    HashMismatch,
    /// The record's `prev_hash` is not the previous record's hash (a record before it was
    /// removed, reordered or modified along with its hash).
    PrevHashMismatch,
    /// The sequence number is not the previous one plus one.
    SeqGap {
        /// The sequence number expected here.
        expected: u64,
    },
    /// The first record of the log (seq 1) does not start from [`genesis_hash`].
    BadGenesis,
    /// The record could not be encoded.
    Encoding,
}

impl fmt::Display for ChainBreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HashMismatch => f.write_str("its contents do not match its hash"),
            Self::PrevHashMismatch => {
                f.write_str("its prev_hash is not the previous record's hash")
            }
            Self::SeqGap { expected } => write!(f, "expected sequence number {expected}"),
            Self::BadGenesis => {
                f.write_str("the first record does not start from the genesis hash")
            }
            Self::Encoding => f.write_str("it cannot be encoded"),
        }
    }
}

/// The first bad record found by [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at record {seq}: {reason}")]
pub struct ChainBreak {
    /// The sequence number of the first bad record (as stored in it).
    pub seq: u64,
    /// What is wrong with it.
    pub reason: ChainBreakReason,
}

/// Verifies a contiguous run of records: each hash matches its contents, each `prev_hash` is
/// the previous record's hash, sequence numbers are consecutive, and a run starting at seq 1
/// starts from [`genesis_hash`]. A run starting later is anchored at its first record's
/// `prev_hash` (use [`verify_chain_after`] to check that against a trusted record or
/// checkpoint).
///
/// # Errors
/// [`ChainBreak`] naming the first bad record.
pub fn verify_chain(records: &[AuditRecord]) -> Result<(), ChainBreak> {
    verify_chain_after(None, records)
}

/// As [`verify_chain`], but the first record must follow `anchor` (a trusted earlier record).
///
/// # Errors
/// [`ChainBreak`] naming the first bad record.
pub fn verify_chain_after(
    anchor: Option<&AuditRecord>,
    records: &[AuditRecord],
) -> Result<(), ChainBreak> {
    let mut prev: Option<(u64, Digest)> = anchor.map(|a| (a.seq, a.hash));
    for r in records {
        let brk = |reason| ChainBreak { seq: r.seq, reason };
        match prev {
            Some((pseq, phash)) => {
                let expected = pseq.wrapping_add(1);
                if r.seq != expected {
                    return Err(brk(ChainBreakReason::SeqGap { expected }));
                }
                if r.prev_hash != phash {
                    return Err(brk(ChainBreakReason::PrevHashMismatch));
                }
            }
            None => {
                if r.seq == 0 {
                    return Err(brk(ChainBreakReason::SeqGap { expected: 1 }));
                }
                if r.seq == 1 && r.prev_hash != genesis_hash() {
                    return Err(brk(ChainBreakReason::BadGenesis));
                }
            }
        }
        let h = record_hash(r.seq, &r.prev_hash, &r.draft)
            .map_err(|_| brk(ChainBreakReason::Encoding))?;
        if h != r.hash {
            return Err(brk(ChainBreakReason::HashMismatch));
        }
        prev = Some((r.seq, r.hash));
    }
    Ok(())
}
