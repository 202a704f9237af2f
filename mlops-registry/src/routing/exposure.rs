//! Exposure counters and the live sample-ratio-mismatch (SRM) check.
//!
//! Every route table owns its counters, so they reset by construction when a new config revision
//! is published. Each thread counts into its own cache-line-aligned shard with a plain relaxed
//! load and store: threads routing through the same table do not share a cache line and take no
//! locked instruction.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use mlops_core::{CheckName, Direction, Evidence, ModelName, Subject, VersionNumber};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::decision::{ArmRole, ConfigRevision};

/// The most arms (champion + challengers) a table can hold.
pub(crate) const MAX_ARMS: usize = 16;

/// The significance level below which the SRM check alarms.
pub const SRM_ALPHA: f64 = 0.001;

/// The evidence check name of the SRM check.
pub const SRM_CHECK: &str = "routing.sample_ratio";

/// One thread's slice of the counters: hash-assigned and otherwise-assigned exposures per arm.
#[repr(align(128))]
#[derive(Default)]
struct Shard {
    hashed: [AtomicU64; MAX_ARMS],
    other: [AtomicU64; MAX_ARMS],
}

/// Sharded per-arm exposure counters of one route table.
///
/// Each thread leases one of [`LEASED_SHARDS`] slots for its lifetime (process-wide, the same
/// slot in every table) and is the only writer of that slot's shard, so counting is a relaxed
/// load and store, without a locked instruction. Threads beyond the leased slots share one
/// overflow shard and count with `fetch_add`. Counts are exact either way.
pub(crate) struct ExposureCounters {
    shards: Box<[Shard]>,
}

impl std::fmt::Debug for ExposureCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExposureCounters")
            .field("shards", &self.shards.len())
            .finish()
    }
}

/// Slots leased to threads; slot `LEASED_SHARDS` is the shared overflow shard.
const LEASED_SHARDS: usize = 64;
/// Bit `i` set: slot `i` is leased.
static LEASES: AtomicU64 = AtomicU64::new(0);

/// A thread's lease on a shard slot, given back when the thread exits.
struct Lease(Option<usize>);

impl Lease {
    fn acquire() -> Self {
        let mut cur = LEASES.load(Ordering::Relaxed);
        loop {
            let free = (!cur).trailing_zeros() as usize;
            if free >= LEASED_SHARDS {
                return Self(None);
            }
            let bit = 1_u64 << free;
            // Acquire: see every count the slot's previous owner wrote before releasing it.
            match LEASES.compare_exchange_weak(cur, cur | bit, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Self(Some(free)),
                Err(now) => cur = now,
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            // Release: the next owner sees this thread's counts.
            LEASES.fetch_and(!(1_u64 << i), Ordering::Release);
        }
    }
}

thread_local! {
    /// This thread's lease, taken on its first decision.
    static LEASE: Lease = Lease::acquire();
}

impl ExposureCounters {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..=LEASED_SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    /// Counts one exposure of `arm`.
    #[inline]
    pub(crate) fn record(&self, arm: u8, hashed: bool) {
        let slot = LEASE.try_with(|l| l.0).ok().flatten();
        let shard = self.shards.get(slot.unwrap_or(LEASED_SHARDS));
        if let Some(shard) = shard {
            let row = if hashed { &shard.hashed } else { &shard.other };
            if let Some(c) = row.get(usize::from(arm)) {
                if slot.is_some() {
                    // This thread is the slot's only writer: no read-modify-write needed.
                    c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                } else {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Sums the shards: (hashed, other) per arm.
    pub(crate) fn totals(&self, arms: usize) -> Vec<(u64, u64)> {
        (0..arms.min(MAX_ARMS))
            .map(|a| {
                self.shards.iter().fold((0, 0), |(h, o), s| {
                    let hh = s.hashed.get(a).map_or(0, |c| c.load(Ordering::Relaxed));
                    let oo = s.other.get(a).map_or(0, |c| c.load(Ordering::Relaxed));
                    (h + hh, o + oo)
                })
            })
            .collect()
    }
}

/// Exposures of one arm under one config revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmExposure {
    /// The arm's version.
    pub version: VersionNumber,
    /// Champion or challenger.
    pub role: ArmRole,
    /// The arm's intended share of hash-assigned traffic, in `[0, 1]`.
    pub intended_share: f64,
    /// Units assigned by hash.
    pub hashed: u64,
    /// Units assigned by an override, a segment rule or the kill switch.
    pub other: u64,
}

impl ArmExposure {
    /// All exposures of the arm.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.hashed + self.other
    }
}

/// The exposure counts of one route table (one config revision), read at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExposureSnapshot {
    /// The model routed.
    pub model: ModelName,
    /// The table's revision.
    pub revision: ConfigRevision,
    /// Per arm, champion first, then challengers in table order.
    pub arms: Vec<ArmExposure>,
}

impl ExposureSnapshot {
    /// The sample-ratio-mismatch check: Pearson's chi-squared test of the hash-assigned counts
    /// against the intended shares (arms with a zero intended share are left out; a count on one
    /// of them is impossible by construction). `None` when fewer than two arms have a positive
    /// share or nothing was hash-assigned yet: there is nothing to test.
    ///
    /// ```
    /// use mlops_registry::routing::{RouteTable, Router};
    ///
    /// let table = RouteTable::builder("fraud@v1".parse()?)
    ///     .challenger("fraud@v2".parse()?, 20.0)
    ///     .build()?;
    /// let router = Router::new(table);
    /// for i in 0..10_000 {
    ///     router.route(format!("user-{i}").as_bytes());
    /// }
    /// let srm = router.exposures().sample_ratio_check().expect("two arms, traffic seen");
    /// assert!(!srm.alarm, "hash assignment matches its intended shares");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn sample_ratio_check(&self) -> Option<SrmReport> {
        let tested: Vec<&ArmExposure> = self
            .arms
            .iter()
            .filter(|a| a.intended_share > 0.0)
            .collect();
        let n: u64 = tested.iter().map(|a| a.hashed).sum();
        if tested.len() < 2 || n == 0 {
            return None;
        }
        let share_sum: f64 = tested.iter().map(|a| a.intended_share).sum();
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let nf = n as f64;
        let chi_squared: f64 = tested
            .iter()
            .map(|a| {
                let expected = nf * a.intended_share / share_sum;
                #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
                let d = a.hashed as f64 - expected;
                d * d / expected
            })
            .sum();
        #[expect(clippy::cast_precision_loss, reason = "at most 16 arms")]
        let df = (tested.len() - 1) as f64;
        let p_value = ChiSquared::new(df).map_or(f64::NAN, |d| d.sf(chi_squared));
        Some(SrmReport {
            model: self.model.clone(),
            revision: self.revision,
            n,
            chi_squared,
            degrees_of_freedom: tested.len() - 1,
            p_value,
            // NaN p-value fails closed: it alarms.
            alarm: p_value.is_nan() || p_value < SRM_ALPHA,
        })
    }
}

/// The result of a sample-ratio-mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrmReport {
    /// The model routed.
    pub model: ModelName,
    /// The table's revision.
    pub revision: ConfigRevision,
    /// Hash-assigned units counted.
    pub n: u64,
    /// Pearson's chi-squared statistic.
    pub chi_squared: f64,
    /// Degrees of freedom (arms tested − 1).
    pub degrees_of_freedom: usize,
    /// The upper-tail p-value.
    pub p_value: f64,
    /// Whether `p_value < 0.001` (a mismatch: the assignment is not doing what it should, or
    /// exposures are lost or duplicated somewhere).
    pub alarm: bool,
}

impl SrmReport {
    /// The check as evidence: check `routing.sample_ratio`, the p-value judged `>= 0.001`, about
    /// the routed model, with `n`, `chi_squared`, `df` and `revision` as details.
    #[must_use]
    pub fn to_evidence(&self, measured_at: DateTime<Utc>) -> Evidence {
        let check = const { CheckName::from_static(SRM_CHECK) };
        let mut ev = Evidence::new(
            check,
            Subject::Model {
                model: self.model.clone(),
            },
            self.p_value,
            SRM_ALPHA,
            Direction::AtLeast,
            measured_at,
        )
        .with_source("mlops-registry/routing");
        #[expect(clippy::cast_precision_loss, reason = "reporting only")]
        let details = [
            ("n", self.n as f64),
            ("chi_squared", self.chi_squared),
            ("df", self.degrees_of_freedom as f64),
            ("revision", self.revision.get() as f64),
        ];
        for (k, v) in details {
            ev = ev.with_detail(k, v);
        }
        ev
    }
}
