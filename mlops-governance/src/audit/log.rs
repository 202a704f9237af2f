//! The [`AuditLog`] trait, its in-memory and store-backed implementations, verification and
//! checkpoints.

use std::fmt;
use std::sync::Arc;

use mlops_core::Digest;
use mlops_registry::audit::{self, AuditDraft, AuditRecord, ChainBreak, ChainHead};
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

    /// Up to `limit` records by position: the `from`-th record appended (1-based) and the
    /// ones after it, in append order; fewer than `limit` only at the end of the log. The
    /// position is the log's own, never the `seq` stored in a record (see
    /// [`ModelStore::read_audit`]).
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure or an undecodable record.
    fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError>;

    /// The head the log recorded with its last append (`None`: empty). Verification checks
    /// that the chain ends exactly there.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn head(&self) -> Result<Option<ChainHead>, AuditError>;
}

macro_rules! forward_log {
    ($($ty:ty),*) => {$(
        impl<T: AuditLog + ?Sized> AuditLog for $ty {
            fn append(&self, drafts: Vec<AuditDraft>) -> Result<Vec<u64>, AuditError> {
                (**self).append(drafts)
            }
            fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
                (**self).read(from, limit)
            }
            fn head(&self) -> Result<Option<ChainHead>, AuditError> {
                (**self).head()
            }
        }
    )*};
}

forward_log!(Box<T>, Arc<T>, &T);

/// A trusted (sequence number, head hash) pair exported from a log. A later log that does not
/// reach `seq`, or whose record `seq` has another hash, was truncated or rewritten.
///
/// The store's own [`ChainHead`] already reveals records cut off the end or a rewritten tail;
/// a checkpoint kept outside the store is what reveals a rewrite of the whole store, head
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The sequence number of the head record (0: empty log).
    pub seq: u64,
    /// Its hash ([`audit::genesis_hash`] for an empty log).
    pub head: Digest,
}

impl From<Option<ChainHead>> for Checkpoint {
    fn from(head: Option<ChainHead>) -> Self {
        head.map_or(
            Self {
                seq: 0,
                head: audit::genesis_hash(),
            },
            |h| Self {
                seq: h.seq,
                head: h.hash,
            },
        )
    }
}

/// Records read per page: what bounds the memory of verification and scans.
pub const PAGE: usize = 16_384;

/// Conveniences over [`AuditLog`]. Every reader pages by position up to the head read when it
/// starts, so it ends after at most `head / PAGE + 1` pages whatever the stored records say.
pub trait AuditLogExt: AuditLog {
    /// Calls `f` with every record up to the head, in order, one page in memory at a time. It
    /// stops early at the end of a log that is shorter than its head (use
    /// [`AuditLogExt::verify`] to know whether the log is complete and intact).
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn for_each_record(&self, mut f: impl FnMut(&AuditRecord)) -> Result<(), AuditError> {
        let end = self.head()?.map_or(0, |h| h.seq);
        let mut pos = 1;
        while pos <= end {
            let want = page_len(pos, end);
            let page = self.read(pos, want)?;
            for r in page.iter().take(want) {
                f(r);
            }
            if page.len() < want {
                break;
            }
            pos += want as u64;
        }
        Ok(())
    }

    /// Every record up to the head, in order.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn read_all(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let mut out = Vec::new();
        self.for_each_record(|r| out.push(r.clone()))?;
        Ok(out)
    }

    /// Verifies the whole chain from record 1, page by page (memory bounded by [`PAGE`]), and
    /// that it ends exactly at the log's head; returns the head.
    ///
    /// # Errors
    /// [`AuditError::Broken`] naming the first modified, reordered or removed record (a record
    /// whose stored sequence number is not its position is named with the one expected);
    /// [`AuditError::HeadTruncated`] if the log ends before its head (records cut off the end);
    /// [`AuditError::HeadMismatch`] if the record at the head's position is not the head (the
    /// tail was rewritten and re-chained); [`AuditError::BeyondHead`] if records follow the
    /// head; [`AuditError::Registry`] on backend failure.
    fn verify(&self) -> Result<Checkpoint, AuditError> {
        verify_log(self, None)
    }

    /// As [`AuditLogExt::verify`], then checks that the log still contains `checkpoint`
    /// unchanged: what reveals a rewrite of the whole store, head included.
    ///
    /// # Errors
    /// As [`AuditLogExt::verify`]; [`AuditError::Truncated`] if the log ends before the
    /// checkpoint; [`AuditError::CheckpointMismatch`] if the record there has another hash.
    fn verify_against(&self, checkpoint: &Checkpoint) -> Result<Checkpoint, AuditError> {
        verify_log(self, Some(checkpoint))
    }

    /// The current head, without verifying.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn checkpoint(&self) -> Result<Checkpoint, AuditError> {
        Ok(self.head()?.into())
    }

    /// The latest snapshot of every approval request recorded in the log.
    ///
    /// # Errors
    /// [`AuditError::Registry`] on backend failure.
    fn approval_snapshots(&self) -> Result<Vec<ApprovalRequest>, AuditError> {
        let mut latest = std::collections::BTreeMap::new();
        self.for_each_record(|r| {
            if r.draft.action.as_str().starts_with("governance.approval.")
                && let Some(req) = r.draft.details.get("request")
                && let Ok(req) = serde_json::from_value::<ApprovalRequest>(req.clone())
            {
                latest.insert(req.id.clone(), req);
            }
        })?;
        Ok(latest.into_values().collect())
    }
}

impl<T: AuditLog + ?Sized> AuditLogExt for T {}

/// The length of part `i` of a page of `want` records split across `threads` workers.
fn chunk_len(want: usize, threads: usize, i: usize) -> usize {
    if threads <= 1 || want < 4096 {
        return want;
    }
    let chunk = want.div_ceil(threads);
    chunk.min(want.saturating_sub(i * chunk))
}

/// The length of the page starting at position `pos` of a log ending at `end` (`pos <= end`).
fn page_len(pos: u64, end: u64) -> usize {
    usize::try_from(end.saturating_sub(pos).saturating_add(1)).map_or(PAGE, |n| n.min(PAGE))
}

/// Verifies a run on this thread; a run with no anchor is the start of the log (record 1).
fn verify_run(anchor: Option<&AuditRecord>, records: &[AuditRecord]) -> Result<(), AuditError> {
    if anchor.is_none()
        && let Some(first) = records.first()
        && first.seq != 1
    {
        return Err(AuditError::Broken(ChainBreak {
            seq: first.seq,
            reason: audit::ChainBreakReason::SeqGap { expected: 1 },
        }));
    }
    audit::verify_chain_after(anchor, records).map_err(AuditError::Broken)
}

/// What one worker found in its part of a page.
struct Part {
    /// Records read (fewer than asked: the log ended).
    len: usize,
    /// The record before the part, as the worker read it (parts after the first of a page).
    anchor: Option<ChainHead>,
    /// The part's last record.
    last: Option<AuditRecord>,
    /// The hash of the record at the checkpoint's position, if the part holds it.
    at_checkpoint: Option<Digest>,
    result: Result<(), AuditError>,
}

/// Reads and verifies positions `start..start + len`, after `anchor` (for the first part of a
/// page: the previous page's last record; otherwise the worker reads the record before).
fn verify_part<L: AuditLog + ?Sized>(
    log: &L,
    start: u64,
    len: usize,
    first_of_page: bool,
    anchor: Option<&AuditRecord>,
    wanted: u64,
) -> Result<Part, AuditError> {
    let (own_anchor, records) = if first_of_page {
        let mut r = log.read(start, len)?;
        r.truncate(len);
        (None, r)
    } else {
        let mut r = log.read(start - 1, len.saturating_add(1))?;
        r.truncate(len.saturating_add(1));
        let rest = if r.is_empty() {
            Vec::new()
        } else {
            r.split_off(1)
        };
        (r.pop(), rest)
    };
    let before = if first_of_page {
        anchor
    } else {
        own_anchor.as_ref()
    };
    let result = verify_run(before, &records);
    let at_checkpoint = wanted
        .checked_sub(start)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| records.get(i))
        .map(|r| r.hash);
    Ok(Part {
        len: records.len(),
        anchor: own_anchor.as_ref().map(ChainHead::of),
        last: records.last().cloned(),
        at_checkpoint,
        result,
    })
}

fn verify_log<L: AuditLog + ?Sized>(
    log: &L,
    checkpoint: Option<&Checkpoint>,
) -> Result<Checkpoint, AuditError> {
    let head = log.head()?;
    let end = head.map_or(0, |h| h.seq);
    let wanted = checkpoint.map_or(0, |c| c.seq);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    let mut at_checkpoint = None;
    let mut anchor: Option<AuditRecord> = None;
    let mut pos: u64 = 1;
    'pages: while pos <= end {
        let want = page_len(pos, end);
        // Each worker reads (copies) and hashes its own part of the page, so both scale with
        // the cores; memory stays one page.
        let parts = if threads <= 1 || want < 4096 {
            vec![verify_part(log, pos, want, true, anchor.as_ref(), wanted)]
        } else {
            let chunk = want.div_ceil(threads);
            let a = anchor.as_ref();
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .filter(|i| i * chunk < want)
                    .map(|i| {
                        let start = pos + (i * chunk) as u64;
                        let len = chunk.min(want - i * chunk);
                        s.spawn(move || verify_part(log, start, len, i == 0, a, wanted))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or(Err(AuditError::Broken(ChainBreak {
                            seq: 0,
                            reason: audit::ChainBreakReason::Encoding,
                        })))
                    })
                    .collect::<Vec<_>>()
            })
        };
        let mut read = 0usize;
        let mut prev_last: Option<ChainHead> = anchor.as_ref().map(ChainHead::of);
        for (i, part) in parts.into_iter().enumerate() {
            let part = part?;
            // Parts are in order: the first break is the earliest.
            part.result?;
            if i > 0 && part.len > 0 && part.anchor != prev_last {
                // The store changed between two workers' reads.
                return Err(AuditError::Broken(ChainBreak {
                    seq: part.anchor.map_or(0, |a| a.seq),
                    reason: audit::ChainBreakReason::HashMismatch,
                }));
            }
            at_checkpoint = at_checkpoint.or(part.at_checkpoint);
            read += part.len;
            if let Some(last) = part.last {
                prev_last = Some(ChainHead::of(&last));
                anchor = Some(last);
            }
            if read < want && part.len < chunk_len(want, threads, i) {
                break 'pages;
            }
        }
        pos += read as u64;
    }
    // Records 1..pos-1 verify, and record p carries seq p (the first is seq 1, each next +1).
    let last = anchor.as_ref().map(ChainHead::of);
    if let Some(h) = head {
        match last {
            Some(l) if l == h => {}
            Some(l) if l.seq == h.seq => return Err(AuditError::HeadMismatch { seq: h.seq }),
            other => {
                return Err(AuditError::HeadTruncated {
                    head_seq: h.seq,
                    last_seq: other.map_or(0, |l| l.seq),
                });
            }
        }
    }
    // A record after the head: an append racing with us moved the head on (fine: we verified
    // up to the head we read), or records were added without moving it.
    if !log.read(end.saturating_add(1), 1)?.is_empty() && log.head()? == head {
        return Err(AuditError::BeyondHead { head_seq: end });
    }
    if let Some(cp) = checkpoint
        && cp.seq > 0
    {
        if end < cp.seq {
            return Err(AuditError::Truncated {
                checkpoint_seq: cp.seq,
                head_seq: end,
            });
        }
        if at_checkpoint != Some(cp.head) {
            return Err(AuditError::CheckpointMismatch { seq: cp.seq });
        }
    }
    Ok(head.into())
}

/// Verifies a complete log (it must start at record 1), splitting the work across the
/// available cores: every record's hash is independent of the others once its predecessor's
/// stored hash is known, so chunks are checked in parallel against their stored anchors and the
/// earliest break wins.
///
/// # Errors
/// [`AuditError::Broken`] naming the first bad record.
pub fn verify_records(records: &[AuditRecord]) -> Result<(), AuditError> {
    verify_records_after(None, records)
}

/// As [`verify_records`], for a run of records following `anchor` (`None`: the run is the
/// start of the log, so it must begin at record 1).
///
/// # Errors
/// [`AuditError::Broken`] naming the first bad record.
pub fn verify_records_after(
    anchor: Option<&AuditRecord>,
    records: &[AuditRecord],
) -> Result<(), AuditError> {
    if anchor.is_none() {
        verify_run(None, records.get(..1).unwrap_or_default())?;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    if threads <= 1 || records.len() < 4096 {
        return verify_run(anchor, records);
    }
    let chunk = records.len().div_ceil(threads);
    let results: Vec<Result<(), ChainBreak>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let start = i * chunk;
                s.spawn(move || {
                    let end = (start + chunk).min(records.len());
                    let part = records.get(start..end).unwrap_or(&[]);
                    let before = match start.checked_sub(1) {
                        Some(p) => records.get(p),
                        None => anchor,
                    };
                    audit::verify_chain_after(before, part)
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
        let mut records = self.records.write();
        let sealed = audit::seal_all(records.last(), drafts)?;
        let seqs = sealed.iter().map(|r| r.seq).collect();
        records.extend(sealed);
        Ok(seqs)
    }

    fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        let records = self.records.read();
        // Position `p` (1-based) is index `p - 1`, whatever the records say.
        let start = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
        Ok(records.iter().skip(start).take(limit).cloned().collect())
    }

    /// The last record: an in-memory log (and an imported one) has no head apart from its
    /// records, so an import cut short verifies; check it against an exported [`Checkpoint`].
    fn head(&self) -> Result<Option<ChainHead>, AuditError> {
        Ok(self.records.read().last().map(ChainHead::of))
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

    fn read(&self, from: u64, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        Ok(self.store.read_audit(from, limit)?)
    }

    fn head(&self) -> Result<Option<ChainHead>, AuditError> {
        Ok(self.store.audit_head()?)
    }
}
