//! The [`AuditLog`] trait, its in-memory and store-backed implementations, verification and
//! checkpoints.

use std::fmt;
use std::sync::Arc;

use mlops_core::Digest;
use mlops_registry::audit::{self, AuditDraft, AuditRecord, ChainBreak};
use mlops_registry::store::ModelStore;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::approval::ApprovalRequest;
use crate::error::AuditError;

/// An append-only, hash-chained log of audit records.
pub trait AuditLog: Send + Sync + fmt::Debug {
    /// Seals and appends `drafts` atomically; returns their sequence numbers.
    ///
    /// # Errors
    /// [`AuditError::Registry`] for a draft breaking a limit or a backend failure; nothing is
    /// appended on error.
    fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>, AuditError>;

    /// Up to `limit` records with `seq >= from_seq`, in order.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError>;
}

macro_rules! forward_log {
    ($($ty:ty),*) => {$(
        impl<T: AuditLog + ?Sized> AuditLog for $ty {
            fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>, AuditError> {
                (**self).append(drafts)
            }
            fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
                (**self).read(from_seq, limit)
            }
        }
    )*};
}

forward_log!(Box<T>, Arc<T>, &T);

/// A trusted (sequence number, head hash) pair exported from a log. A later log that does not
/// reach `seq`, or whose record `seq` has another hash, was truncated or rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The sequence number of the head record (0: empty log).
    pub seq: u64,
    /// Its hash ([`audit::genesis_hash`] for an empty log).
    pub head: Digest,
}

const PAGE: usize = 65_536;

/// Conveniences over [`AuditLog`].
pub trait AuditLogExt: AuditLog {
    /// Every record, in order.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn read_all(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let mut out: Vec<AuditRecord> = Vec::new();
        loop {
            let from = out.last().map_or(1, |r| r.seq.saturating_add(1));
            let page = self.read(from, PAGE)?;
            let done = page.len() < PAGE;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    /// Verifies the whole chain from record 1 and returns its head.
    ///
    /// # Errors
    /// [`AuditError::Broken`] naming the first modified, reordered or removed record.
    fn verify(&self) -> Result<Checkpoint, AuditError> {
        let records = self.read_all()?;
        verify_records(&records)?;
        Ok(head_of(&records))
    }

    /// Verifies the chain, then that it still contains `checkpoint` unchanged.
    ///
    /// # Errors
    /// As [`AuditLogExt::verify`]; [`AuditError::Truncated`] if the log ends before the
    /// checkpoint; [`AuditError::CheckpointMismatch`] if the record there has another hash.
    fn verify_against(&self, checkpoint: &Checkpoint) -> Result<Checkpoint, AuditError> {
        let records = self.read_all()?;
        verify_records(&records)?;
        let head = head_of(&records);
        if checkpoint.seq == 0 {
            return Ok(head);
        }
        if head.seq < checkpoint.seq {
            return Err(AuditError::Truncated {
                checkpoint_seq: checkpoint.seq,
                head_seq: head.seq,
            });
        }
        let at = records.iter().find(|r| r.seq == checkpoint.seq);
        match at {
            Some(r) if r.hash == checkpoint.head => Ok(head),
            _ => Err(AuditError::CheckpointMismatch {
                seq: checkpoint.seq,
            }),
        }
    }

    /// The current head, without verifying.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn checkpoint(&self) -> Result<Checkpoint, AuditError> {
        Ok(head_of(&self.read_all()?))
    }

    /// The latest snapshot of every approval request recorded in the log.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn approval_snapshots(&self) -> Result<Vec<ApprovalRequest>, AuditError> {
        let mut latest = std::collections::BTreeMap::new();
        for r in self.read_all()? {
            if r.draft.action.as_str().starts_with("governance.approval.")
                && let Some(req) = r.draft.details.get("request")
                && let Ok(req) = serde_json::from_value::<ApprovalRequest>(req.clone())
            {
                latest.insert(req.id.clone(), req);
            }
        }
        Ok(latest.into_values().collect())
    }
}

impl<T: AuditLog + ?Sized> AuditLogExt for T {}

fn head_of(records: &[AuditRecord]) -> Checkpoint {
    records.last().map_or(
        Checkpoint {
            seq: 0,
            head: audit::genesis_hash(),
        },
        |r| Checkpoint {
            seq: r.seq,
            head: r.hash,
        },
    )
}

/// Verifies a complete log (it must start at record 1), splitting the work across the
/// available cores: every record's hash is independent of the others once its predecessor's
/// stored hash is known, so chunks are checked in parallel against their stored anchors and the
/// earliest break wins.
///
/// # Errors
/// [`AuditError::Broken`] naming the first bad record.
pub fn verify_records(records: &[AuditRecord]) -> Result<(), AuditError> {
    if let Some(first) = records.first()
        && first.seq != 1
    {
        return Err(AuditError::Broken(ChainBreak {
            seq: first.seq,
            reason: audit::ChainBreakReason::SeqGap { expected: 1 },
        }));
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    if threads <= 1 || records.len() < 4096 {
        return super::hash::verify_after(None, records).map_err(AuditError::Broken);
    }
    let chunk = records.len().div_ceil(threads);
    let results: Vec<Result<(), ChainBreak>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let start = i * chunk;
                s.spawn(move || {
                    let end = (start + chunk).min(records.len());
                    let part = records.get(start..end).unwrap_or(&[]);
                    let anchor = start.checked_sub(1).and_then(|p| records.get(p));
                    super::hash::verify_after(anchor, part)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or(Err(ChainBreak {
                    seq: 0,
                    reason: audit::ChainBreakReason::Encoding,
                }))
            })
            .collect()
    });
    // Chunks are in order, so the first error is the earliest break.
    results
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(()), |b| Err(AuditError::Broken(b)))
}

/// An in-memory audit log.
///
/// ```
/// use mlops_core::{Actor, Subject};
/// use mlops_core::chrono::DateTime;
/// use mlops_governance::audit::{AuditLog, AuditLogExt, MemoryAuditLog};
/// use mlops_registry::audit::{AuditAction, AuditDraft};
///
/// let log = MemoryAuditLog::new();
/// let draft = AuditDraft::new(DateTime::UNIX_EPOCH, Actor::human("a")?, AuditAction::model_updated(),
///     Subject::Model { model: "m".parse()? });
/// log.append(vec![draft.clone(), draft])?;
/// let cp = log.verify()?;
/// assert_eq!(cp.seq, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    records: RwLock<Vec<AuditRecord>>,
}

impl MemoryAuditLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A log holding `records` as given, unverified (for importing an exported log; call
    /// [`AuditLogExt::verify`] to check it).
    #[must_use]
    pub fn from_records(records: Vec<AuditRecord>) -> Self {
        Self {
            records: RwLock::new(records),
        }
    }

    /// A copy of every record.
    #[must_use]
    pub fn export(&self) -> Vec<AuditRecord> {
        self.records.read().clone()
    }

    /// The number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.read().len()
    }

    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.read().is_empty()
    }
}

impl AuditLog for MemoryAuditLog {
    fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>, AuditError> {
        let mut buf = Vec::with_capacity(1024);
        let mut sealed: Vec<AuditRecord> = Vec::with_capacity(drafts.len());
        let mut records = self.records.write();
        for d in drafts {
            let r = super::hash::fast_seal(sealed.last().or(records.last()), d, &mut buf)?;
            sealed.push(r);
        }
        let seqs = sealed.iter().map(|r| r.seq).collect();
        records.extend(sealed);
        Ok(seqs)
    }

    fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        let records = self.records.read();
        let start = records.partition_point(|r| r.seq < from_seq);
        Ok(records.iter().skip(start).take(limit).cloned().collect())
    }
}

/// The audit log of a registry [`ModelStore`]: the records its commits sealed (governance writes
/// through the store, so state and audit are committed together).
#[derive(Clone)]
pub struct StoreAuditLog {
    store: Arc<dyn ModelStore>,
}

impl fmt::Debug for StoreAuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreAuditLog")
            .field("store", &self.store.name())
            .finish()
    }
}

impl StoreAuditLog {
    /// The log of `store`.
    #[must_use]
    pub fn new(store: Arc<dyn ModelStore>) -> Self {
        Self { store }
    }
}

impl AuditLog for StoreAuditLog {
    fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>, AuditError> {
        Ok(self.store.append_audit(drafts)?)
    }

    fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        Ok(self.store.read_audit(from_seq, limit)?)
    }
}
