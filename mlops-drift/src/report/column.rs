//! Scoring one column against its reference profile.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::config::{ColumnConfig, Method, ReportConfig};
use super::{
    ColumnKind, ColumnReport, ColumnStatus, Contribution, Explanation, MissingShare, PSI_EPSILON,
    QuantileRow,
};
use crate::error::{DriftError, Result, Sample};
use crate::parallel::Threads;
use crate::policy::{InfPolicy, MISSING_CATEGORY, NanPolicy, OTHER_CATEGORY};
use crate::profile::{
    CategoricalProfile, NumericProfile, QuantileBinning, ReferenceProfile, SMALL_SUPPORT,
    counts_sorted, quantile_sorted,
};
use crate::sort::{recycle, sort_f64, sorted_finite_split};
use crate::stats::PValue;
use crate::stats::binning::{COMPARE_ALL_MAX_CUTS, count_finite};
use crate::stats::categorical::{chi2_homogeneity, two_proportion_z_test};
use crate::stats::distance::{cdf_integral_scaled, energy_from_scaled, normed_in_scale};
use crate::stats::divergence::{LogBase, jensen_shannon};
use crate::stats::psi::{psi_from_counts, psi_value};
use crate::table::ColumnData;

/// Distinct values above which a categorical method refuses a numeric column.
const MAX_NUMERIC_CATEGORIES: usize = 10_000;

/// The quantiles of the explanation's table.
const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// A method's result on one column, without explanation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MethodScore {
    /// The method.
    pub method: Method,
    /// The test statistic or the score.
    pub statistic: f64,
    /// The p-value of a p-value test.
    pub p_value: Option<PValue>,
}

/// Scores the finite values of `current` against a numeric profile with `method`, omitting NaN
/// and infinities: the fast path with no explanation, missing-share test or policy handling
/// (what [`score_column`] adds). The current sample is sorted once (radix sort) when the method
/// needs order; PSI only bins it, and from 2^18 values on counts the two halves of the sample
/// on two threads of the current rayon pool (the global one, or the host's own inside
/// `ThreadPool::install`; a pool of one thread keeps it on the caller's thread).
///
/// # Errors
/// [`DriftError::EmptySample`] when either side has no finite value,
/// [`DriftError::Unsupported`] for a method this build cannot run, and the errors of the
/// statistic itself.
pub fn score_numeric(
    profile: &NumericProfile,
    current: &[f64],
    method: Method,
) -> Result<MethodScore> {
    // PSI only bins the values (in place, see `psi_score`); every other method walks them in
    // order.
    if matches!(method, Method::Psi) {
        return psi_score(profile.psi_bins(), current, Threads::UpToTwo).map(|psi| MethodScore {
            method,
            statistic: psi,
            p_value: None,
        });
    }
    let mut cur = Current::presorted(sorted_finite_split(current));
    let score = numeric_method(
        profile,
        profile.sorted(),
        &mut cur,
        method,
        profile.psi_bins(),
        Threads::UpToTwo,
    );
    recycle(cur.values);
    score
}

/// Bins at most this many are counted on the stack.
const STACK_BINS: usize = COMPARE_ALL_MAX_CUTS + 1;

/// From this many values on, [`score_numeric`]'s PSI counts the two halves of the sample on two
/// threads of the current rayon pool (a report does not: it already scores its columns in
/// parallel, under its own thread cap).
const SPLIT_VALUES: usize = 1 << 18;

/// Counts per bin: on the stack for up to [`STACK_BINS`] bins, so PSI allocates nothing itself
/// (handing the second half to a pool thread is rayon's business).
struct BinCounts {
    on_stack: [u64; STACK_BINS],
    on_heap: Vec<u64>,
    len: usize,
}

impl BinCounts {
    fn new(len: usize) -> Self {
        Self {
            on_stack: [0; STACK_BINS],
            on_heap: if len > STACK_BINS {
                vec![0; len]
            } else {
                Vec::new()
            },
            len,
        }
    }

    fn as_mut(&mut self) -> &mut [u64] {
        match self.on_stack.get_mut(..self.len) {
            Some(counts) => counts,
            None => &mut self.on_heap,
        }
    }
}

/// PSI of the finite values of `current` against the fitted bins: one branch-free pass over
/// the values (see [`crate::stats::binning`]), no copy, and no allocation of its own for up to
/// [`STACK_BINS`] bins. The counts, hence the score, are the same however the work is split.
fn psi_score(bins: &QuantileBinning, current: &[f64], threads: Threads) -> Result<f64> {
    if bins.reference_counts().iter().all(|&c| c == 0) {
        return Err(DriftError::EmptySample {
            which: Sample::Reference,
        });
    }
    let mut counts = BinCounts::new(bins.n_bins());
    let finite = if threads.split(current.len(), SPLIT_VALUES) {
        let (first, second) = current.split_at(current.len() / 2);
        let mut second_counts = BinCounts::new(bins.n_bins());
        let (a, b) = rayon::join(
            || count_finite(bins.edges(), first, counts.as_mut()),
            || count_finite(bins.edges(), second, second_counts.as_mut()),
        );
        for (total, part) in counts.as_mut().iter_mut().zip(second_counts.as_mut()) {
            *total += *part;
        }
        a + b
    } else {
        count_finite(bins.edges(), current, counts.as_mut())
    };
    if finite == 0 {
        return Err(DriftError::EmptySample {
            which: Sample::Current,
        });
    }
    psi_value(bins.reference_counts(), counts.as_mut(), PSI_EPSILON)
}

/// The current sample of a numeric column, sorted on first need.
struct Current {
    values: Vec<f64>,
    sorted: bool,
}

impl Current {
    fn new(values: Vec<f64>) -> Self {
        Self {
            values,
            sorted: false,
        }
    }

    fn presorted(values: Vec<f64>) -> Self {
        Self {
            values,
            sorted: true,
        }
    }

    fn sorted(&mut self) -> &[f64] {
        if !self.sorted {
            sort_f64(&mut self.values);
            self.sorted = true;
        }
        &self.values
    }
}

fn numeric_method(
    profile: &NumericProfile,
    reference: &[f64],
    cur: &mut Current,
    method: Method,
    bins: &QuantileBinning,
    threads: Threads,
) -> Result<MethodScore> {
    if reference.is_empty() {
        return Err(DriftError::EmptySample {
            which: Sample::Reference,
        });
    }
    if cur.values.is_empty() {
        return Err(DriftError::EmptySample {
            which: Sample::Current,
        });
    }
    let score = |statistic: f64, p_value: Option<PValue>| MethodScore {
        method,
        statistic,
        p_value,
    };
    Ok(match method {
        Method::Ks => {
            let (d, p) = super::calls::ks(reference, cur.sorted(), threads)?;
            score(d, Some(p))
        }
        Method::CramerVonMises => {
            let (t, p) = super::calls::cvm(reference, cur.sorted())?;
            score(t, Some(p))
        }
        Method::AndersonDarling => {
            let (a, p) = super::calls::anderson(reference, cur.sorted())?;
            score(a, Some(p))
        }
        Method::WassersteinNormed => {
            // SciPy's `_cdf_distance` with p = 1, normed by the profile's σ (no pass over the
            // reference for it).
            // Formed in scaled units when the direct sum overflows (huge finite values).
            let (w, scale) = cdf_integral_scaled(reference, cur.sorted(), f64::abs);
            score(normed_in_scale(w, scale, profile.std()), None)
        }
        Method::Energy => {
            let (e2, scale) = cdf_integral_scaled(reference, cur.sorted(), |d| d * d);
            score(energy_from_scaled(e2, scale), None)
        }
        Method::Psi => score(psi_score(bins, &cur.values, Threads::One)?, None),
        Method::ChiSquared | Method::ZTest | Method::JensenShannon => {
            let table = value_table(reference, cur.sorted())?;
            let (r, c): (Vec<u64>, Vec<u64>) = table.iter().map(|(_, r, c)| (*r, *c)).unzip();
            categorical_method(method, &r, &c)?
        }
    })
}

/// (value, reference count, current count) over the union of two ascending samples.
fn value_table(reference: &[f64], current: &[f64]) -> Result<Vec<(f64, u64, u64)>> {
    let mut out = Vec::new();
    let (mut r, mut c) = (reference, current);
    loop {
        let x = match (r.first(), c.first()) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        let nr = r.partition_point(|&v| v <= x);
        let nc = c.partition_point(|&v| v <= x);
        out.push((x, nr as u64, nc as u64));
        if out.len() > MAX_NUMERIC_CATEGORIES {
            return Err(DriftError::Unsupported {
                what: format!(
                    "a categorical method on a numeric column with more than \
                     {MAX_NUMERIC_CATEGORIES} distinct values"
                ),
            });
        }
        r = r.get(nr..).unwrap_or_default();
        c = c.get(nc..).unwrap_or_default();
    }
    Ok(out)
}

fn weights(counts: &[u64]) -> Vec<f64> {
    counts.iter().map(|&c| c as f64).collect()
}

/// A categorical method on counts over the same buckets.
fn categorical_method(method: Method, reference: &[u64], current: &[u64]) -> Result<MethodScore> {
    let score = |statistic: f64, p_value: Option<PValue>| MethodScore {
        method,
        statistic,
        p_value,
    };
    Ok(match method {
        Method::ChiSquared => {
            let r = chi2_homogeneity(reference, current)?;
            score(r.statistic, Some(r.p_value))
        }
        Method::ZTest => {
            // The share of the first bucket (for a binary column the test is symmetric).
            let n1: u64 = reference.iter().sum();
            let n2: u64 = current.iter().sum();
            let k1 = reference.first().copied().unwrap_or(0);
            let k2 = current.first().copied().unwrap_or(0);
            let r = two_proportion_z_test(k1, n1, k2, n2)?;
            score(r.statistic, Some(r.p_value))
        }
        Method::JensenShannon => {
            let r = jensen_shannon(&weights(reference), &weights(current), LogBase::E)?;
            score(r.value, None)
        }
        _ => score(psi_from_counts(reference, current, PSI_EPSILON)?.psi, None),
    })
}

/// Jensen–Shannon distance in bits (0 when it cannot be computed).
fn effect_size(reference: &[u64], current: &[u64]) -> f64 {
    jensen_shannon(&weights(reference), &weights(current), LogBase::Two).map_or(0.0, |r| r.value)
}

pub(crate) fn skipped(name: &str, kind: ColumnKind, reason: String) -> ColumnReport {
    blank(name, kind, ColumnStatus::Skipped { reason })
}

/// The failed column report when the NaN policy is `Error` and either side has missing values.
fn refuse_missing(
    config: &ColumnConfig,
    name: &str,
    kind: ColumnKind,
    ref_missing: u64,
    cur_missing: u64,
) -> Option<ColumnReport> {
    (config.nan_policy == NanPolicy::Error && (ref_missing > 0 || cur_missing > 0)).then(|| {
        failed(
            name,
            kind,
            format!(
                "missing values are refused by the policy (reference {ref_missing}, \
                 current {cur_missing})"
            ),
        )
    })
}

fn failed(name: &str, kind: ColumnKind, reason: String) -> ColumnReport {
    blank(name, kind, ColumnStatus::Failed { reason })
}

fn blank(name: &str, kind: ColumnKind, status: ColumnStatus) -> ColumnReport {
    ColumnReport {
        column: name.to_owned(),
        kind,
        status,
        method: None,
        statistic: f64::NAN,
        p_value: None,
        ln_p: None,
        adjusted_p_value: None,
        threshold: f64::NAN,
        drifted: false,
        effect_size: 0.0,
        n_reference: 0,
        n_current: 0,
        reason: None,
        missing: None,
        explanation: Explanation::default(),
    }
}

fn missing_share(
    ref_missing: u64,
    ref_rows: u64,
    cur_missing: u64,
    cur_rows: u64,
    alpha: f64,
) -> MissingShare {
    let share = |k: u64, n: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let (z, p) = two_proportion_z_test(ref_missing, ref_rows, cur_missing, cur_rows)
        .map_or((0.0, PValue::from_p(1.0)), |r| (r.statistic, r.p_value));
    MissingShare {
        reference_missing: ref_missing,
        reference_rows: ref_rows,
        current_missing: cur_missing,
        current_rows: cur_rows,
        reference_share: share(ref_missing, ref_rows),
        current_share: share(cur_missing, cur_rows),
        z,
        p_value: p.p,
        ln_p: p.ln_p,
        drifted: p.p < alpha,
    }
}

/// Scores one column of the current table against its reference profile, with the column's
/// policies, method and threshold and the report's settings. Never fails: problems become the
/// column's status. Returns the column report, decided without a multiple-testing correction
/// ([`DriftReport`](super::DriftReport) decides again with the adjusted p-value), and whether a
/// rule (constant reference, missing share under `AsCategory`) forces drift.
#[must_use]
pub fn score_column(
    name: &str,
    profile: &ReferenceProfile,
    current: Option<&ColumnData<'_>>,
    config: &ColumnConfig,
    report: &ReportConfig,
) -> (ColumnReport, bool) {
    let kind = match profile {
        ReferenceProfile::Numeric(_) => ColumnKind::Numeric,
        ReferenceProfile::Categorical(_) => ColumnKind::Categorical,
    };
    let Some(current) = current else {
        return (
            skipped(
                name,
                kind,
                "the column is absent from the current table".to_owned(),
            ),
            false,
        );
    };
    let (mut col, forced) = match (profile, current) {
        (ReferenceProfile::Numeric(p), ColumnData::Numeric(v)) => {
            numeric_column(name, p, v.view(), config, report)
        }
        (ReferenceProfile::Categorical(p), data) if !data.is_numeric() => {
            categorical_column(name, p, data, config, report)
        }
        _ => (
            failed(
                name,
                kind,
                format!(
                    "the column is {} in the reference profile but not in the current table",
                    if kind == ColumnKind::Numeric {
                        "numeric"
                    } else {
                        "categorical"
                    }
                ),
            ),
            false,
        ),
    };
    col.decide(forced);
    (col, forced)
}

/// The automatic method for a numeric column (Evidently's rule, which counts the reference rows
/// left after dropping missing and infinite values).
fn auto_numeric(profile: &NumericProfile, cur_sorted: &[f64], small_reference: u64) -> Method {
    let n_unique = profile
        .small_support()
        .map_or(SMALL_SUPPORT + 1, |support| {
            let mut all: Vec<f64> = support.to_vec();
            let mut rest = cur_sorted;
            while let Some(&v) = rest.first() {
                if all.len() > SMALL_SUPPORT {
                    break;
                }
                if !all.contains(&v) {
                    all.push(v);
                }
                rest = rest
                    .get(rest.partition_point(|&x| x <= v)..)
                    .unwrap_or_default();
            }
            all.len()
        });
    let small = profile.sorted().len() as u64 <= small_reference;
    match (small, n_unique <= SMALL_SUPPORT) {
        (true, true) if n_unique > 2 => Method::ChiSquared,
        (true, true) => Method::ZTest,
        (true, false) => Method::Ks,
        (false, true) => Method::JensenShannon,
        (false, false) => Method::WassersteinNormed,
    }
}

fn numeric_column(
    name: &str,
    profile: &NumericProfile,
    values: ndarray::ArrayView1<'_, f64>,
    config: &ColumnConfig,
    report: &ReportConfig,
) -> (ColumnReport, bool) {
    let kind = ColumnKind::Numeric;
    let (mut n_nan, mut n_pos, mut n_neg) = (0_u64, 0_u64, 0_u64);
    let mut finite = Vec::with_capacity(values.len());
    for &v in &values {
        if v.is_nan() {
            n_nan += 1;
        } else if v == f64::INFINITY {
            n_pos += 1;
        } else if v == f64::NEG_INFINITY {
            n_neg += 1;
        } else {
            finite.push(v);
        }
    }
    let ref_inf = profile.n_pos_inf() + profile.n_neg_inf();
    let cur_inf = n_pos + n_neg;
    if config.inf_policy == InfPolicy::Error && (ref_inf > 0 || cur_inf > 0) {
        return (
            failed(
                name,
                kind,
                format!(
                    "infinite values are refused by the policy (reference {ref_inf}, \
                     current {cur_inf})"
                ),
            ),
            false,
        );
    }
    let (ref_missing, cur_missing) = if config.inf_policy == InfPolicy::AsMissing {
        (profile.n_nan() + ref_inf, n_nan + cur_inf)
    } else {
        (profile.n_nan(), n_nan)
    };
    if let Some(refused) = refuse_missing(config, name, kind, ref_missing, cur_missing) {
        return (refused, false);
    }
    let missing = missing_share(
        ref_missing,
        profile.n_rows(),
        cur_missing,
        values.len() as u64,
        report.missing_alpha,
    );
    let reference = profile.sorted();
    let mut cur = Current::new(finite);
    let empty = if reference.is_empty() {
        Some("the reference has no values after the missing and infinity policies")
    } else if cur.values.is_empty() {
        Some("the current sample has no values after the missing and infinity policies")
    } else {
        None
    };
    if let Some(reason) = empty {
        let mut col = skipped(name, kind, reason.to_owned());
        col.missing = Some(missing);
        return (col, false);
    }

    let method = config
        .method
        .unwrap_or_else(|| auto_numeric(profile, cur.sorted(), report.small_reference));
    let bins_owned;
    let bins = if report.psi_bins == profile.psi_bins().requested_bins() {
        profile.psi_bins()
    } else {
        bins_owned = match QuantileBinning::fit_sorted(reference, report.psi_bins) {
            Ok(b) => b,
            Err(e) => {
                let mut f = failed(name, kind, e.to_string());
                f.missing = Some(missing);
                return (f, false);
            }
        };
        &bins_owned
    };
    let threshold = config.threshold.unwrap_or(method.default_threshold());
    let mut col = blank(name, kind, ColumnStatus::Tested);
    col.method = Some(method);
    col.threshold = threshold;
    col.missing = Some(missing.clone());
    col.n_reference = reference.len() as u64;
    col.n_current = cur.values.len() as u64;
    // Constant samples.
    let (r0, r1) = (profile.min(), profile.max());
    let (c0, c1) = {
        let s = cur.sorted();
        (
            s.first().copied().unwrap_or(f64::NAN),
            s.last().copied().unwrap_or(f64::NAN),
        )
    };
    let mut forced = false;
    if r0 == r1 && c0 == c1 && r0 == c0 {
        col.statistic = 0.0;
        if method.is_p_value_test() {
            col.p_value = Some(1.0);
            col.ln_p = Some(0.0);
        }
        col.reason = Some(format!("both samples are constant at {r0}"));
    } else {
        let score = match numeric_method(profile, reference, &mut cur, method, bins, Threads::One) {
            Ok(s) => s,
            Err(e) => {
                let mut f = failed(name, kind, e.to_string());
                f.method = Some(method);
                f.missing = Some(missing);
                return (f, false);
            }
        };
        col.statistic = score.statistic;
        col.p_value = score.p_value.map(|p| p.p);
        col.ln_p = score.p_value.map(|p| p.ln_p);
        if r0 == r1 && c0 != c1 {
            forced = true;
            col.reason = Some(format!(
                "the reference is constant at {r0} while the current sample varies"
            ));
        } else if r0 == r1 && c0 == c1 {
            // A constant reference and a current sample constant elsewhere: drift, whatever
            // a binned score says (one bin of an old profile sees no difference).
            forced = true;
            col.reason = Some(format!(
                "both samples are constant, at different values ({r0} and {c0})"
            ));
        }
    }
    if config.nan_policy == NanPolicy::AsCategory && missing.drifted {
        forced = true;
        let note = format!(
            "the missing share changed from {:.4} to {:.4}",
            missing.reference_share, missing.current_share
        );
        col.reason = Some(match col.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note,
        });
    }

    // Explanation over the profile's PSI bins.
    let cur_sorted = cur.sorted();
    let cur_counts = counts_sorted(cur_sorted, bins.edges());
    let ref_counts = bins.reference_counts();
    col.effect_size = effect_size(ref_counts, &cur_counts);
    let labels: Vec<String> = (0..bins.n_bins())
        .map(|i| {
            let lo = if i == 0 {
                f64::NEG_INFINITY
            } else {
                bins.edges().get(i - 1).copied().unwrap_or(f64::NAN)
            };
            let hi = bins.edges().get(i).copied().unwrap_or(f64::INFINITY);
            format!("[{lo}, {hi})")
        })
        .collect();
    col.explanation.top_contributors =
        contributions(&labels, ref_counts, &cur_counts, report.top_contributors);
    col.explanation.quantiles = QUANTILES
        .iter()
        .map(|&q| QuantileRow {
            q,
            reference: quantile_sorted(reference, q),
            current: quantile_sorted(cur_sorted, q),
        })
        .collect();
    (col, forced)
}

fn contributions(labels: &[String], r: &[u64], c: &[u64], top: usize) -> Vec<Contribution> {
    let Ok(psi) = psi_from_counts(r, c, PSI_EPSILON) else {
        return Vec::new();
    };
    let rs = shares(r);
    let cs = shares(c);
    let mut all: Vec<Contribution> = labels
        .iter()
        .zip(&psi.contributions)
        .zip(rs.iter().zip(&cs))
        .map(|((label, &t), (&r, &c))| Contribution {
            label: label.clone(),
            reference_share: r,
            current_share: c,
            contribution: t,
        })
        .collect();
    all.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then_with(|| a.label.cmp(&b.label))
    });
    all.truncate(top);
    all
}

fn shares(counts: &[u64]) -> Vec<f64> {
    let total: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if total == 0 {
                0.0
            } else {
                c as f64 / total as f64
            }
        })
        .collect()
}

fn categorical_column(
    name: &str,
    profile: &CategoricalProfile,
    data: &ColumnData<'_>,
    config: &ColumnConfig,
    report: &ReportConfig,
) -> (ColumnReport, bool) {
    let kind = ColumnKind::Categorical;
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut cur_missing = 0_u64;
    let mut cur_rows = 0_u64;
    data.for_each_category(|v| {
        cur_rows += 1;
        match v {
            Some(s) => match counts.get_mut(s) {
                Some(c) => *c += 1,
                None => {
                    counts.insert(s.to_owned(), 1);
                }
            },
            None => cur_missing += 1,
        }
    });
    let ref_missing = profile.n_missing();
    if let Some(refused) = refuse_missing(config, name, kind, ref_missing, cur_missing) {
        return (refused, false);
    }
    let missing = missing_share(
        ref_missing,
        profile.n_rows(),
        cur_missing,
        cur_rows,
        report.missing_alpha,
    );

    // Buckets: reference categories (sorted), then the missing category, then "other".
    let mut ref_table: BTreeMap<&str, u64> = profile
        .counts()
        .iter()
        .map(|(k, &v)| (k.as_str(), v))
        .collect();
    let mut cur_table: BTreeMap<&str, u64> = BTreeMap::new();
    let mut new_categories: Vec<String> = Vec::new();
    let mut other = 0_u64;
    for (k, &v) in &counts {
        if ref_table.contains_key(k.as_str()) {
            cur_table.insert(k.as_str(), v);
        } else {
            new_categories.push(k.clone());
            other += v;
        }
    }
    new_categories.sort();
    if config.nan_policy == NanPolicy::AsCategory {
        if ref_missing > 0 {
            ref_table.insert(MISSING_CATEGORY, ref_missing);
        }
        if cur_missing > 0 {
            if ref_missing > 0 {
                cur_table.insert(MISSING_CATEGORY, cur_missing);
            } else {
                new_categories.push(MISSING_CATEGORY.to_owned());
                other += cur_missing;
            }
        }
    }
    let mut labels: Vec<String> = Vec::with_capacity(ref_table.len() + 1);
    let mut r: Vec<u64> = Vec::with_capacity(ref_table.len() + 1);
    let mut c: Vec<u64> = Vec::with_capacity(ref_table.len() + 1);
    let mut vanished = Vec::new();
    for (&k, &v) in &ref_table {
        let cv = cur_table.get(k).copied().unwrap_or(0);
        if cv == 0 && k != MISSING_CATEGORY {
            vanished.push(k.to_owned());
        }
        labels.push(k.to_owned());
        r.push(v);
        c.push(cv);
    }
    if other > 0 {
        labels.push(OTHER_CATEGORY.to_owned());
        r.push(0);
        c.push(other);
    }
    let n_ref: u64 = r.iter().sum();
    let n_cur: u64 = c.iter().sum();
    let empty = if n_ref == 0 {
        Some("the reference has no values after the missing-value policy")
    } else if n_cur == 0 {
        Some("the current sample has no values after the missing-value policy")
    } else {
        None
    };
    if let Some(reason) = empty {
        let mut col = skipped(name, kind, reason.to_owned());
        col.missing = Some(missing);
        return (col, false);
    }
    let method = match config.method {
        Some(m) => m,
        None => {
            let n_unique = ref_table.len() + new_categories.len();
            if n_ref <= report.small_reference {
                if n_unique > 2 {
                    Method::ChiSquared
                } else {
                    Method::ZTest
                }
            } else {
                Method::JensenShannon
            }
        }
    };
    if method.needs_numeric() {
        let mut f = failed(
            name,
            kind,
            format!(
                "method `{}` needs a numeric column; `{name}` is categorical",
                method.name()
            ),
        );
        f.missing = Some(missing);
        return (f, false);
    }
    let score = match categorical_method(method, &r, &c) {
        Ok(s) => s,
        Err(e) => {
            let mut f = failed(name, kind, e.to_string());
            f.method = Some(method);
            f.missing = Some(missing);
            return (f, false);
        }
    };
    let mut col = blank(name, kind, ColumnStatus::Tested);
    col.method = Some(method);
    col.threshold = config.threshold.unwrap_or(method.default_threshold());
    col.statistic = score.statistic;
    col.p_value = score.p_value.map(|p| p.p);
    col.ln_p = score.p_value.map(|p| p.ln_p);
    col.n_reference = n_ref;
    col.n_current = n_cur;
    col.effect_size = effect_size(&r, &c);
    let ref_nonzero = r.iter().filter(|&&v| v > 0).count();
    let cur_nonzero = c.iter().filter(|&&v| v > 0).count();
    let mut forced = false;
    if ref_nonzero == 1 && cur_nonzero == 1 && r.iter().zip(&c).any(|(&a, &b)| a > 0 && b > 0) {
        col.statistic = 0.0;
        if method.is_p_value_test() {
            col.p_value = Some(1.0);
            col.ln_p = Some(0.0);
        }
        col.reason = Some("both samples hold a single, identical category".to_owned());
    } else if ref_nonzero == 1 && cur_nonzero > 1 {
        forced = true;
        col.reason =
            Some("the reference holds a single category while the current sample varies".into());
    }
    if config.nan_policy == NanPolicy::AsCategory && missing.drifted && !forced {
        col.reason = Some(format!(
            "the missing share changed from {:.4} to {:.4}",
            missing.reference_share, missing.current_share
        ));
    }
    col.missing = Some(missing);
    col.explanation.top_contributors = contributions(&labels, &r, &c, report.top_contributors);
    col.explanation.new_categories = new_categories;
    col.explanation.vanished_categories = vanished;
    (col, forced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_split_over_two_threads_is_the_serial_score_bit_for_bit() {
        let reference: Vec<f64> = (0..50_000).map(|i| f64::from(i % 977) * 0.37).collect();
        let profile = NumericProfile::fit(&reference);
        // Odd length, non-finite values in both halves, a shifted tail.
        let mut current: Vec<f64> = (0..SPLIT_VALUES as u32 + 12_345)
            .map(|i| f64::from(i % 1_013) * 0.41)
            .collect();
        for i in (0..current.len()).step_by(4_999) {
            current[i] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][i % 3];
        }
        let serial = psi_score(profile.psi_bins(), &current, Threads::One).unwrap();
        let split = crate::test_support::pool(2)
            .install(|| score_numeric(&profile, &current, Method::Psi).unwrap());
        assert_eq!(split.statistic.to_bits(), serial.to_bits());
        // A pool of one thread keeps the work on one thread; same score.
        let single = crate::test_support::pool(1)
            .install(|| score_numeric(&profile, &current, Method::Psi).unwrap());
        assert_eq!(single.statistic.to_bits(), serial.to_bits());
    }
}
