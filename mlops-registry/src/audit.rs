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

use std::borrow::Cow;
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

/// What happened, such as `registry.version.created` or `governance.transition.applied`: 1–128
/// characters of `[a-z0-9._-]`.
///
/// Every action the SDK itself writes is an associated constant listed in [`AuditAction::ALL`]
/// (the catalogue), named `<namespace>.<object>.<event>` with the namespace `registry` (written
/// by the registry and its stores), `governance` (written by the governance engine only: the
/// namespace is reserved, see [`RESERVED_NAMESPACE`]) or `contest` (the contest automation). A
/// host may record its own actions under any other first segment ([`AuditNamespace::Host`]).
///
/// ```
/// use mlops_registry::audit::{AuditAction, AuditNamespace};
/// assert_eq!(AuditAction::ALIAS_MOVED.as_str(), "registry.alias.moved");
/// assert_eq!(AuditAction::TRANSITION_APPLIED.namespace(), AuditNamespace::Governance);
/// assert!(AuditAction::ALL.contains(&"governance.policy.changed".parse()?));
/// assert_eq!(AuditAction::new("billing.invoice.sent")?.namespace(), AuditNamespace::Host);
/// # Ok::<(), mlops_registry::RegistryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AuditAction(Cow<'static, str>);

/// Who writes an [`AuditAction`]: the first segment of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AuditNamespace {
    /// `registry.*`: the registry and its stores.
    Registry,
    /// `governance.*`: the governance engine (reserved: only drafts carrying governance's
    /// seal may use it).
    Governance,
    /// `contest.*`: the champion/challenger contest automation.
    Contest,
    /// Anything else: an action a host records itself.
    Host,
}

impl AuditNamespace {
    /// The prefix of the namespace's actions (`registry.`, `governance.`; empty for a host).
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Registry => "registry.",
            Self::Governance => "governance.",
            Self::Contest => "contest.",
            Self::Host => "",
        }
    }
}

/// The catalogue: one line per action the SDK writes. Add an action by adding a line (the
/// constant, its name and its doc); [`AuditAction::ALL`] follows.
macro_rules! catalogue {
    ($( $(#[$doc:meta])* $konst:ident = $name:literal; )*) => {
        impl AuditAction {
            $( $(#[$doc])* #[doc = concat!("\n\n`", $name, "`")]
            pub const $konst: AuditAction = AuditAction::known($name); )*

            /// Every action the SDK writes, in catalogue order.
            pub const ALL: &'static [AuditAction] = &[$(Self::$konst),*];
        }
    };
}

catalogue! {
    /// A model was registered.
    MODEL_REGISTERED = "registry.model.registered";
    /// A model's record (description, tags, owner…) was updated.
    MODEL_UPDATED = "registry.model.updated";
    /// A version was created (written by every store when it creates a version).
    VERSION_CREATED = "registry.version.created";
    /// A version's annotations (tags, description) changed.
    VERSION_ANNOTATED = "registry.version.annotated";
    /// An alias was moved through the registry.
    ALIAS_MOVED = "registry.alias.moved";
    /// An alias was removed through the registry.
    ALIAS_REMOVED = "registry.alias.removed";
    /// A transition was committed (allowed, or denied but not enforced in this environment).
    TRANSITION_APPLIED = "governance.transition.applied";
    /// A transition was denied.
    TRANSITION_DENIED = "governance.transition.denied";
    /// A break-glass override was applied.
    TRANSITION_OVERRIDDEN = "governance.transition.overridden";
    /// A version was evicted from an exclusive state by another's entry.
    TRANSITION_EVICTED = "governance.transition.evicted";
    /// An approval request was opened.
    APPROVAL_OPENED = "governance.approval.opened";
    /// An approver signed off.
    APPROVAL_APPROVED = "governance.approval.approved";
    /// An approver rejected.
    APPROVAL_REJECTED = "governance.approval.rejected";
    /// An approval request expired.
    APPROVAL_EXPIRED = "governance.approval.expired";
    /// An approval request was cancelled.
    APPROVAL_CANCELLED = "governance.approval.cancelled";
    /// An approval request's transition was committed.
    APPROVAL_FULFILLED = "governance.approval.fulfilled";
    /// An actor attempted something it may not do.
    UNAUTHORIZED = "governance.action.unauthorized";
    /// The policy was replaced.
    POLICY_CHANGED = "governance.policy.changed";
    /// A model's risk tier was assigned or changed through the classification path.
    RISK_TIER_CHANGED = "governance.risk_tier.changed";
    /// A change to a version was assessed against its baseline (material or within plan).
    CHANGE_ASSESSED = "governance.change.assessed";
    /// A request lapsed because its version left the state it was for.
    APPROVAL_SUPERSEDED = "governance.approval.superseded";
    /// A rejected request was re-opened as a new request.
    APPROVAL_REOPENED = "governance.approval.reopened";
    /// A governed transition moved a protected alias.
    GOVERNANCE_ALIAS_MOVED = "governance.alias.moved";
    /// A governed transition removed a protected alias.
    GOVERNANCE_ALIAS_REMOVED = "governance.alias.removed";
    /// Evidence was recorded against a version.
    EVIDENCE_RECORDED = "governance.evidence.recorded";
    /// An alarm on a serving version was answered (recorded, review opened, rolled back).
    ALARM_ANSWERED = "governance.alarm.answered";
    /// A champion/challenger contest rolled a challenger back (written by the contest
    /// automation through the host's log, so outside the reserved `governance.` namespace).
    CONTEST_ROLLBACK = "contest.rollback";
}

impl AuditAction {
    /// The longest action, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates `action`.
    ///
    /// # Errors
    /// [`RegistryError::InvalidInput`] for an empty or too long action or a character outside
    /// `[a-z0-9._-]`.
    pub fn new(action: impl Into<String>) -> Result<Self> {
        let action = action.into();
        if action.is_empty() || action.chars().count() > Self::MAX_LEN {
            return Err(RegistryError::invalid(
                "audit action",
                &action,
                "must be 1 to 128 characters",
            ));
        }
        if let Some(c) = action.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        }) {
            return Err(RegistryError::invalid(
                "audit action",
                &action,
                format!("contains {c:?}; allowed: lowercase ASCII letters, digits, `.`, `_`, `-`"),
            ));
        }
        Ok(Self(Cow::Owned(action)))
    }

    const fn known(s: &'static str) -> Self {
        Self(Cow::Borrowed(s))
    }

    /// `registry.model.registered` ([`AuditAction::MODEL_REGISTERED`]).
    #[must_use]
    pub fn model_registered() -> Self {
        Self::MODEL_REGISTERED
    }
    /// `registry.model.updated` ([`AuditAction::MODEL_UPDATED`]).
    #[must_use]
    pub fn model_updated() -> Self {
        Self::MODEL_UPDATED
    }
    /// `registry.version.created` ([`AuditAction::VERSION_CREATED`]).
    #[must_use]
    pub fn version_created() -> Self {
        Self::VERSION_CREATED
    }
    /// `registry.version.annotated` ([`AuditAction::VERSION_ANNOTATED`]).
    #[must_use]
    pub fn version_annotated() -> Self {
        Self::VERSION_ANNOTATED
    }
    /// `registry.alias.moved` ([`AuditAction::ALIAS_MOVED`]).
    #[must_use]
    pub fn alias_moved() -> Self {
        Self::ALIAS_MOVED
    }
    /// `registry.alias.removed` ([`AuditAction::ALIAS_REMOVED`]).
    #[must_use]
    pub fn alias_removed() -> Self {
        Self::ALIAS_REMOVED
    }

    /// The action as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Who writes it, by its first segment.
    #[must_use]
    pub fn namespace(&self) -> AuditNamespace {
        [
            AuditNamespace::Registry,
            AuditNamespace::Governance,
            AuditNamespace::Contest,
        ]
        .into_iter()
        .find(|n| self.0.starts_with(n.prefix()))
        .unwrap_or(AuditNamespace::Host)
    }

    /// Whether it is in the SDK's catalogue ([`AuditAction::ALL`]).
    #[must_use]
    pub fn is_catalogued(&self) -> bool {
        Self::ALL.contains(self)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AuditAction {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for AuditAction {
    type Error = RegistryError;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<AuditAction> for String {
    fn from(a: AuditAction) -> String {
        a.0.into_owned()
    }
}

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
