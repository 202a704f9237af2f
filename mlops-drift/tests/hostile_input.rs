//! Hostile input (issue 17): one named regression test per reported defect (each failed before
//! the fix), a property suite over hostile floats, counts and sizes, and proptest-driven
//! mutation fuzzing of the wire formats (profile JSON, window-summary JSON, KLL wire sketches)
//! seeded from the golden files. Every call runs under a wall-clock and a heap bound
//! (`support/hostile.rs`: a counting global allocator) and either returns a typed error or a
//! result that passes the invariants of the oracle tests.
#![allow(unsafe_code)] // reason: the counting allocator of `support/hostile.rs`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../mlops-core/tests/support/hostile.rs"]
mod hostile;

use std::sync::Arc;
use std::time::Duration;

use hostile::{MIB, bounded, hostile_f64, hostile_u64};
use mlops_core::ManualClock;
use mlops_drift::detect::{Adwin, ChangeDetector, Cusum, DetectorState, PageHinkley};
use mlops_drift::profile::{DatasetProfile, ReferenceProfile};
use mlops_drift::report::{ColumnConfig, DriftReport, Method, ReportConfig};
use mlops_drift::stats::categorical::{
    FisherMethod, chi2_homogeneity, fisher_exact, g_test, two_proportion_z_test,
};
use mlops_drift::stats::psi::{PsiOptions, psi, psi_from_counts};
use mlops_drift::stats::{
    anderson, cvm, distance, divergence, evidently, ks, location, psi as psi_mod,
};
use mlops_drift::stream::{
    DriftMonitor, FeatureSummary, FeatureValue, KllSketch, MonitorConfig, ValueRetention, Values,
    WindowReport, WindowSpec, WindowSummary,
};
use mlops_drift::table::Table;
use mlops_drift::{DriftError, MAX_COUNT};
use proptest::prelude::*;

/// Generous per-call bounds: they catch hangs and allocations sized by a hostile number.
const TIME: Duration = Duration::from_secs(5);
const HEAP: i64 = 256 * MIB;

fn is_limit(e: &DriftError) -> bool {
    matches!(e, DriftError::LimitExceeded { .. })
}

// --- integer overflow on caller-supplied counts ---------------------------------------------

#[test]
fn psi_chi2_and_g_test_refuse_counts_that_overflow() {
    let huge = [u64::MAX, 1];
    assert!(is_limit(
        &psi_from_counts(&huge, &[1, 1], 1e-4).unwrap_err()
    ));
    assert!(is_limit(
        &psi_from_counts(&[1, 1], &huge, 1e-4).unwrap_err()
    ));
    assert!(is_limit(&chi2_homogeneity(&huge, &[1, 1]).unwrap_err()));
    assert!(is_limit(&g_test(&[1, 1], &huge).unwrap_err()));
    // Up to MAX_COUNT in all is accepted, and exact.
    let r = chi2_homogeneity(&[MAX_COUNT / 2, MAX_COUNT / 2], &[1, 1]).unwrap();
    assert!((0.0..=1.0).contains(&r.p_value.p));
}

#[test]
fn fisher_refuses_a_table_whose_total_overflows() {
    // Returned p = 1.0 before.
    assert!(is_limit(
        &fisher_exact([[u64::MAX, 1], [1, 1]]).unwrap_err()
    ));
    assert!(is_limit(
        &fisher_exact([[1 << 62, 1 << 62], [1, 1]]).unwrap_err()
    ));
    assert!(fisher_exact([[1 << 60, 1 << 60], [1, 1]]).is_ok());
}

fn golden_profile() -> serde_json::Value {
    serde_json::from_str(include_str!("golden/profile.json")).unwrap()
}

#[test]
fn profile_json_with_overflowing_counts_is_refused() {
    let mut p = golden_profile();
    p["columns"][0]["profile"]["n_nan"] = u64::MAX.into();
    let err = DatasetProfile::from_json(&p.to_string()).unwrap_err();
    assert!(matches!(err, DriftError::InvalidProfile { .. }), "{err}");

    let mut p = golden_profile();
    let cat = &mut p["columns"][1]["profile"];
    cat["n_rows"] = 0.into();
    cat["n_missing"] = 0.into();
    cat["counts"] = serde_json::json!({"a": 1_u64 << 63, "b": 1_u64 << 63});
    let err = DatasetProfile::from_json(&p.to_string()).unwrap_err();
    assert!(matches!(err, DriftError::InvalidProfile { .. }), "{err}");
}

const PLANS: [&str; 3] = ["basic", "plus", "pro"];

fn stream_profile(features: usize) -> (DatasetProfile, Vec<String>) {
    let x: Vec<f64> = (0..500).map(|i| f64::from(i % 97)).collect();
    let plan: Vec<&str> = (0..500).map(|i| PLANS[i % 3]).collect();
    let names: Vec<String> = (0..features).map(|i| format!("f{i}")).collect();
    let mut t = Table::new();
    for n in &names {
        t = t.with_numeric(n.clone(), &x).unwrap();
    }
    let t = t.with_categorical("plan", &plan).unwrap();
    (DatasetProfile::fit(&t), names)
}

fn summary(
    retention: ValueRetention,
    features: usize,
    rows: usize,
) -> (DatasetProfile, WindowSummary) {
    let (profile, names) = stream_profile(features);
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    all.push("plan");
    let m = DriftMonitor::new(
        profile.clone(),
        &all,
        MonitorConfig {
            retention,
            shards: 1,
            exact_budget: 64,
            sketch_k: 8,
            window: WindowSpec::Count { rows: u64::MAX },
            ..MonitorConfig::default()
        },
        Arc::new(ManualClock::default()),
    )
    .unwrap();
    for i in 0..rows {
        let mut row: Vec<FeatureValue<'_>> = (0..features)
            .map(|f| FeatureValue::Number((i * 7 + f) as f64 % 97.0))
            .collect();
        row.push(FeatureValue::Category(PLANS[i % 3]));
        m.observe(&row).unwrap();
    }
    (profile, m.snapshot())
}

#[test]
fn merges_with_crafted_counts_are_refused_not_wrapped() {
    let (profile, s) = summary(ValueRetention::BinsOnly, 1, 10);
    let mut a = s.clone();
    a.rows = u64::MAX - 10;
    // Merged rows came out as 499 (wrapped) before.
    let mut b = s.clone();
    b.rows = 510;
    assert!(a.merge(&b).is_err());
    assert!(WindowSummary::merge_all([&a, &b]).is_err());
    let before = a.clone();
    assert!(a.merge_from(&b).is_err());
    assert_eq!(a, before, "a refused merge leaves the summary unchanged");
    // A summary whose counts disagree is refused on load and when scored.
    assert!(WindowSummary::from_json(&a.to_json().unwrap()).is_err());
    assert!(WindowReport::from_summary(&profile, a, &ReportConfig::default()).is_err());
    // Counts that are each valid but whose sum exceeds MAX_COUNT.
    let mut big = s.clone();
    scale_counts(&mut big, (MAX_COUNT / 2) / s.rows);
    assert!(big.validate().is_ok(), "{:?}", big.validate());
    let two = big.merge(&big).unwrap();
    assert_eq!(two.rows, 2 * big.rows);
    assert!(two.merge(&big).is_err());
}

/// Multiplies every count of a bins-only summary by `factor` (keeping it consistent).
fn scale_counts(s: &mut WindowSummary, factor: u64) {
    s.rows *= factor;
    for (_, f) in &mut s.features {
        match f {
            FeatureSummary::Numeric(n) => {
                n.count *= factor;
                n.missing *= factor;
                n.infinite *= factor;
                n.wrong_type *= factor;
                n.below_range *= factor;
                n.above_range *= factor;
                n.bin_counts.iter_mut().for_each(|c| *c *= factor);
                if let Values::BinsOnly { n: v } = &mut n.values {
                    *v *= factor;
                }
            }
            FeatureSummary::Categorical(c) => {
                c.count *= factor;
                c.missing *= factor;
                c.wrong_type *= factor;
                c.unseen *= factor;
                c.counts.values_mut().for_each(|v| *v *= factor);
            }
            other => panic!("a summary kind this test does not know: {other:?}"),
        }
    }
}

fn wire_sketch(level: usize, n: u64) -> String {
    let mut levels = vec![Vec::<f64>::new(); level + 1];
    levels[level].push(1.0);
    serde_json::json!({
        "k": 8, "n": n, "min": 1.0, "max": 1.0, "error_variance": 0.0, "rng": 1,
        "levels": levels,
    })
    .to_string()
}

#[test]
fn kll_merge_of_huge_sketches_is_refused() {
    // Two 2^63-weight sketches merged to a length of 0 before; they are refused on load now.
    assert!(serde_json::from_str::<KllSketch>(&wire_sketch(63, 1 << 63)).is_err());
    let mut a: KllSketch = serde_json::from_str(&wire_sketch(52, 1 << 52)).unwrap();
    let b = a.clone();
    a.merge(&b).unwrap();
    assert_eq!(a.len(), 1 << 53);
    let before = a.clone();
    assert!(is_limit(&a.merge(&b).unwrap_err()));
    assert_eq!(a, before);
    assert!(is_limit(&KllSketch::merge_many([&a, &b]).unwrap_err()));
}

// --- allocation from a parameter --------------------------------------------------------------

#[test]
fn bins_and_monitor_sizes_are_capped_before_allocating() {
    let x: Vec<f64> = (0..100).map(f64::from).collect();
    for bins in [1_usize << 40, usize::MAX] {
        let err = bounded("psi bins", TIME, MIB, || {
            psi(
                &x,
                &x,
                PsiOptions {
                    bins,
                    epsilon: 1e-4,
                },
            )
        })
        .unwrap_err();
        assert!(is_limit(&err), "{err}");
        let t = Table::new().with_numeric("x", &x).unwrap();
        let err = bounded("fit_with_bins", TIME, MIB, || {
            DatasetProfile::fit_with_bins(&t, bins)
        })
        .unwrap_err();
        assert!(is_limit(&err), "{err}");
        let mut config = ReportConfig::default();
        config.psi_bins = bins;
        assert!(is_limit(&config.validate().unwrap_err()));
    }
    assert!(
        psi(
            &x,
            &x,
            PsiOptions {
                bins: psi_mod::MAX_PSI_BINS,
                epsilon: 1e-4
            }
        )
        .is_ok()
    );

    let mut huge_bins = ReportConfig::default();
    huge_bins.psi_bins = 1 << 40;
    let (profile, names) = stream_profile(1);
    let monitor = |config: MonitorConfig| {
        DriftMonitor::new(
            profile.clone(),
            &[names[0].as_str()],
            config,
            Arc::new(ManualClock::default()),
        )
    };
    // shards: usize::MAX panicked with an index out of bounds in release.
    for config in [
        MonitorConfig {
            shards: usize::MAX,
            ..MonitorConfig::default()
        },
        MonitorConfig {
            panes: usize::MAX,
            ..MonitorConfig::default()
        },
        MonitorConfig {
            exact_budget: usize::MAX,
            ..MonitorConfig::default()
        },
        MonitorConfig {
            max_pending_reports: usize::MAX,
            ..MonitorConfig::default()
        },
        MonitorConfig {
            report: huge_bins.clone(),
            ..MonitorConfig::default()
        },
    ] {
        let err = bounded("monitor config", TIME, MIB, || monitor(config)).unwrap_err();
        assert!(is_limit(&err), "{err}");
    }
    let m = monitor(MonitorConfig {
        shards: mlops_drift::stream::MAX_SHARDS,
        ..MonitorConfig::default()
    })
    .unwrap();
    m.observe(&[FeatureValue::Number(1.0)]).unwrap();
}

// --- memory amplification ----------------------------------------------------------------------

#[test]
fn scoring_a_small_summary_that_claims_many_rows_is_bounded() {
    // 200 bins-only features claiming 2^20 rows: a ~30 KB summary peaked at 1.6 GB before.
    let (profile, mut s) = summary(ValueRetention::BinsOnly, 200, 16);
    scale_counts(&mut s, 1 << 16);
    assert_eq!(s.rows, 1 << 20);
    let json = s.to_json().unwrap();
    assert!(json.len() < 64 * 1024, "{}", json.len());
    let s = WindowSummary::from_json(&json).unwrap();
    let (report, cost) =
        hostile::measure(|| WindowReport::from_summary(&profile, s, &ReportConfig::default()));
    println!(
        "from_summary of a {} byte summary claiming 2^20 rows: {cost:?}",
        json.len()
    );
    assert!(cost.peak_bytes <= 64 * MIB, "{cost:?}");
    let report = report.unwrap();
    assert_eq!(report.features.len(), 201);
    assert!(report.report.columns.iter().all(|c| c.is_tested()));
}

// --- CPU -------------------------------------------------------------------------------------

#[test]
fn fisher_on_a_huge_balanced_table_is_fast() {
    // Took 19 s before (the exact walk grows as √N).
    let n = 1_u64 << 52;
    let f = bounded("fisher", Duration::from_secs(2), MIB, || {
        fisher_exact([[n, n], [n, n + 7]])
    })
    .unwrap();
    assert_eq!(f.method, FisherMethod::NormalApproximation);
    assert!(f.p_value.p > 0.99, "{}", f.p_value.p);
    // Below the cut-over the exact walk runs, and both agree near it.
    let exact = fisher_exact([[20_000, 20_500], [20_000, 20_000]]).unwrap();
    assert_eq!(exact.method, FisherMethod::Exact);
    // Balanced tables of n per cell have a variance of about n / 4: the cut-over is near
    // n = 4e8. Shift the first cell by 4σ on both sides of it.
    let shifted = |n: u64| {
        let sigma = (n as f64 / 4.0).sqrt();
        fisher_exact([[n + (4.0 * sigma) as u64, n], [n, n]]).unwrap()
    };
    let (e, a) = (shifted(390_000_000), shifted(410_000_000));
    assert_eq!(
        (e.method, a.method),
        (FisherMethod::Exact, FisherMethod::NormalApproximation)
    );
    let (le, la) = (e.p_value.p.ln(), a.p_value.p.ln());
    assert!(
        (le - la).abs() < 0.05,
        "exact {} approx {}",
        e.p_value.p,
        a.p_value.p
    );
}

// --- profile summary fields --------------------------------------------------------------------

#[test]
fn a_profile_with_tampered_summary_fields_is_refused() {
    for (field, value) in [
        ("std", serde_json::json!(1e300)),
        ("mean", serde_json::json!(-7.5)),
        ("min", serde_json::json!(42.0)),
        ("max", serde_json::json!(42.0)),
        ("small_support", serde_json::json!([1.0])),
    ] {
        let mut p = golden_profile();
        p["columns"][0]["profile"][field] = value;
        let err = DatasetProfile::from_json(&p.to_string()).unwrap_err();
        assert!(
            matches!(err, DriftError::InvalidProfile { .. }),
            "{field}: {err}"
        );
    }
    // min = max = 42 together (forced "constant, no drift" before).
    let mut p = golden_profile();
    p["columns"][0]["profile"]["min"] = 42.0.into();
    p["columns"][0]["profile"]["max"] = 42.0.into();
    assert!(DatasetProfile::from_json(&p.to_string()).is_err());
    assert!(DatasetProfile::from_json(&golden_profile().to_string()).is_ok());
}

#[test]
fn a_profile_with_an_empty_column_name_is_refused() {
    // Found by `fuzz_profile_json`: the profile loaded, then no table could be built to score it.
    let mut p = golden_profile();
    p["columns"][0]["name"] = "".into();
    let err = DatasetProfile::from_json(&p.to_string()).unwrap_err();
    assert!(matches!(err, DriftError::InvalidProfile { .. }), "{err}");
}

#[test]
fn duplicate_column_check_is_linear() {
    // 50 000 columns: the pairwise duplicate check was quadratic.
    let mut p = golden_profile();
    let col = p["columns"][1].clone();
    let cols: Vec<serde_json::Value> = (0..50_000)
        .map(|i| {
            let mut c = col.clone();
            c["name"] = format!("c{i}").into();
            c
        })
        .collect();
    p["columns"] = cols.into();
    let text = p.to_string();
    bounded("50k columns", Duration::from_secs(20), HEAP, || {
        DatasetProfile::from_json(&text).unwrap();
    });
}

// --- huge finite values ----------------------------------------------------------------------

fn first_drift(d: &mut dyn ChangeDetector, stream: &[f64]) -> Option<usize> {
    stream
        .iter()
        .position(|&x| d.update(x) == DetectorState::Drift)
}

#[test]
fn detectors_are_not_blinded_by_huge_finite_values() {
    let mut stream = vec![1e308, -1e308, 1e308, -1e308];
    stream.extend(std::iter::repeat_n(0.0, 1_000));
    stream.extend(std::iter::repeat_n(100.0, 1_000));
    let detectors: Vec<Box<dyn ChangeDetector>> = vec![
        Box::new(Adwin::default()),
        Box::new(PageHinkley::default()),
        Box::new(Cusum::default()),
    ];
    for mut d in detectors {
        let at = first_drift(d.as_mut(), &stream);
        assert!(matches!(at, Some(i) if i >= 1_004), "{}: {at:?}", d.name());
        assert_eq!(d.ignored(), 4, "{}", d.name());
    }
}

#[test]
fn wasserstein_with_huge_values_is_finite_and_exact() {
    // Evidently-style Wasserstein returned 0.0 here and NaN for [MAX, MIN] vs [MAX].
    let r = [1e308, -1e308, 1e308, -1e308];
    let c = [1e308; 4];
    let w = evidently::wasserstein_normed(&r, &c).unwrap();
    // W1 = 0.5 · 2e308 = 1e308; σ_ref = 1e308; normed = 1.
    assert!((w.score - 1.0).abs() < 1e-12, "{}", w.score);
    assert!(w.drifted);
    let w = distance::wasserstein_distance(&[f64::MAX, f64::MIN], &[f64::MAX]).unwrap();
    assert!((w.normed - 1.0).abs() < 1e-12, "{w:?}");
    assert!(w.distance == f64::MAX, "{w:?}");
    let e = distance::energy_distance(&[f64::MAX, f64::MIN], &[f64::MAX]).unwrap();
    assert!(e.distance.is_finite() && e.distance > 1e150, "{e:?}");
    // Small values are computed exactly as before.
    let w = distance::wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]).unwrap();
    assert_eq!(w.distance, 5.0);
}

#[test]
fn report_scores_huge_values_without_nan() {
    let r: Vec<f64> = (0..2000)
        .map(|i| if i % 2 == 0 { 1e308 } else { -1e308 })
        .collect();
    let c = vec![1e308; 2000];
    let report = DriftReport::compute(
        &Table::new().with_numeric("x", &r).unwrap(),
        &Table::new().with_numeric("x", &c).unwrap(),
        &ReportConfig::default()
            .default_column(ColumnConfig::new().method(Method::WassersteinNormed)),
    )
    .unwrap();
    let col = report.column("x").unwrap();
    assert!(col.statistic.is_finite() && col.drifted, "{col:?}");
}

// --- PSI and a constant shift --------------------------------------------------------------

#[test]
fn psi_catches_a_constant_shift() {
    let reference = vec![3.0; 500];
    let current = vec![4.0; 500];
    let config = ReportConfig::default().default_column(ColumnConfig::new().method(Method::Psi));
    let report = DriftReport::compute(
        &Table::new().with_numeric("x", &reference).unwrap(),
        &Table::new().with_numeric("x", &current).unwrap(),
        &config,
    )
    .unwrap();
    let col = report.column("x").unwrap();
    assert!(col.drifted, "{col:?}");
    assert!(
        col.statistic > 1.0,
        "PSI itself sees the shift: {}",
        col.statistic
    );
    let same = DriftReport::compute(
        &Table::new().with_numeric("x", &reference).unwrap(),
        &Table::new().with_numeric("x", &reference).unwrap(),
        &config,
    )
    .unwrap();
    assert!(!same.column("x").unwrap().drifted);
    let direct = psi(&reference, &current, PsiOptions::default()).unwrap();
    assert!(direct.drifted(psi_mod::DEFAULT_THRESHOLD));
}

// --- the property suite ------------------------------------------------------------------------

fn check_p(p: f64, what: &str) {
    assert!((0.0..=1.0).contains(&p), "{what}: p = {p}");
}

fn samples() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (
        prop::collection::vec(hostile_f64(), 0..40),
        prop::collection::vec(hostile_f64(), 0..40),
    )
}

fn finite_only(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| x.is_finite()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn numeric_statistics_on_hostile_floats((r, c) in samples()) {
        for (r, c) in [(r.clone(), c.clone()), (finite_only(&r), finite_only(&c))] {
            // The exact Cramér–von Mises distribution (both samples ≤ 20) peaks near 30 MB.
            bounded("numeric stats", TIME, 64 * MIB, || {
                if let Ok(k) = ks::ks_2samp(&r, &c, ks::KsOptions::default()) {
                    check_p(k.p_value.p, "ks");
                    assert!((0.0..=1.0).contains(&k.statistic));
                }
                if let Ok(t) = cvm::cramervonmises_2samp(&r, &c, cvm::CvmMethod::Auto) {
                    check_p(t.p_value.p, "cvm");
                    assert!(!t.statistic.is_nan());
                }
                if let Ok(a) = anderson::anderson_2samp(&r, &c) {
                    check_p(a.p_value.p, "anderson");
                }
                if let Ok(w) = distance::wasserstein_distance(&r, &c) {
                    assert!(w.distance >= 0.0 && w.normed >= 0.0, "{w:?}");
                    // +inf only where the true value exceeds f64::MAX.
                    assert!(
                        w.normed.is_finite() || w.reference_std < 1e-3 && w.distance > 1e300,
                        "normed Wasserstein: {w:?}"
                    );
                }
                if let Ok(e) = distance::energy_distance(&r, &c) {
                    assert!(e.distance >= 0.0, "{e:?}");
                }
                if let Ok(p) = psi(&r, &c, PsiOptions::default()) {
                    assert!(p.psi >= 0.0 && p.psi.is_finite(), "{p:?}");
                }
                if let Ok(m) = location::mann_whitney_u(&r, &c) {
                    check_p(m.p_value.p, "mann-whitney");
                }
                if let Ok(t) = location::welch_t_test(&r, &c, mlops_drift::stats::Alternative::TwoSided) {
                    check_p(t.p_value.p, "welch");
                }
                for s in [
                    evidently::psi_numeric(&r, &c),
                    evidently::wasserstein_normed(&r, &c),
                    evidently::jensenshannon_numeric(&r, &c),
                ]
                .into_iter()
                .flatten()
                {
                    assert!(!s.score.is_nan(), "{s:?}");
                }
            });
        }
    }

    #[test]
    fn count_statistics_on_hostile_counts(
        r in prop::collection::vec(hostile_u64(), 0..8),
        c in prop::collection::vec(hostile_u64(), 0..8),
        t in prop::array::uniform4(hostile_u64()),
    ) {
        let k = r.len().min(c.len());
        let (r, c) = (&r[..k], &c[..k]);
        bounded("count stats", TIME, MIB, || {
            for res in [chi2_homogeneity(r, c), g_test(r, c)].into_iter().flatten() {
                check_p(res.p_value.p, "contingency");
                assert!(res.statistic >= 0.0 && res.statistic.is_finite(), "{res:?}");
            }
            if let Ok(p) = psi_from_counts(r, c, 1e-4) {
                assert!(p.psi >= 0.0 && p.psi.is_finite(), "{p:?}");
            }
            match fisher_exact([[t[0], t[1]], [t[2], t[3]]]) {
                Ok(f) => check_p(f.p_value.p, "fisher"),
                Err(e) => assert!(is_limit(&e), "{e}"),
            }
            if let Ok(z) = two_proportion_z_test(t[0], t[1], t[2], t[3]) {
                check_p(z.p_value.p, "z");
            }
            let (rw, cw): (Vec<f64>, Vec<f64>) =
                (r.iter().map(|&x| x as f64).collect(), c.iter().map(|&x| x as f64).collect());
            for d in [
                divergence::hellinger(&rw, &cw),
                divergence::total_variation(&rw, &cw),
                divergence::kl_divergence(&rw, &cw, 1e-4),
            ]
            .into_iter()
            .flatten()
            {
                assert!(d.value >= 0.0 && d.value.is_finite(), "{d:?}");
            }
        });
    }

    #[test]
    fn size_parameters_are_bounded(bins in any::<usize>(), shards in any::<usize>(), panes in any::<usize>()) {
        let x = [1.0, 2.0, 3.0, 4.0];
        bounded("sizes", TIME, 8 * MIB, || {
            match psi(&x, &x, PsiOptions { bins, epsilon: 1e-4 }) {
                Ok(r) => assert!(r.bins <= bins.max(3)),
                Err(e) => assert!(bins == 0 || is_limit(&e), "{e}"),
            }
            let config = MonitorConfig { shards, panes, ..MonitorConfig::default() };
            let (profile, names) = stream_profile(1);
            let _ = DriftMonitor::new(profile, &[names[0].as_str()], config, Arc::new(ManualClock::default()));
        });
    }
}

// --- fuzzing the wire formats ------------------------------------------------------------------

/// Scores a small table against a profile that loaded; the report must satisfy its invariants.
fn score_against(profile: &DatasetProfile) {
    let numbers = [1.0, 2.0, 2.5, f64::NAN, 1e308, -3.0];
    let labels = ["a", "b", "a", "zz", "b", "a"];
    let mut t = Table::new();
    for c in profile.columns() {
        t = match c.profile {
            ReferenceProfile::Numeric(_) => t.with_numeric(c.name.clone(), &numbers).unwrap(),
            _ => t.with_categorical(c.name.clone(), &labels).unwrap(),
        };
    }
    for method in [
        None,
        Some(Method::Psi),
        Some(Method::Ks),
        Some(Method::WassersteinNormed),
    ] {
        let mut column = ColumnConfig::new();
        column.method = method;
        let config = ReportConfig::default().default_column(column);
        let report = DriftReport::from_profile(profile, &t, &config).unwrap();
        for col in &report.columns {
            if let Some(p) = col.p_value {
                check_p(p, &col.column);
            }
            assert!((0.0..=1.0).contains(&col.effect_size) || col.effect_size.is_nan());
            if col.is_tested() {
                assert!(!col.statistic.is_nan(), "{col:?}");
            }
        }
    }
}

fn golden_summaries() -> serde_json::Value {
    serde_json::from_str(include_str!("golden/window_summary.json")).unwrap()
}

fn golden_sketch() -> serde_json::Value {
    golden_summaries()[0]["features"][0][1]["values"]["sketch"].clone()
}

proptest! {
    #![proptest_config(hostile::fuzz_config(384))]

    #[test]
    fn fuzz_profile_json(m in hostile::mutated_json()) {
        let text = hostile::render(&golden_profile(), &m);
        let loaded = bounded("profile json", TIME, HEAP, || DatasetProfile::from_json(&text));
        if let Ok(profile) = loaded {
            bounded("profile use", TIME, HEAP, || {
                profile.validate().unwrap();
                let again = DatasetProfile::from_json(&profile.to_json().unwrap()).unwrap();
                assert_eq!(again, profile);
                score_against(&profile);
            });
        }
    }

    #[test]
    fn fuzz_window_summary_json(m in hostile::mutated_json(), which in 0usize..3) {
        let seed = golden_summaries()[which].clone();
        let text = hostile::render(&seed, &m);
        let loaded = bounded("summary json", TIME, HEAP, || WindowSummary::from_json(&text));
        if let Ok(s) = loaded {
            bounded("summary use", Duration::from_secs(30), HEAP, || {
                s.validate().unwrap();
                if let Ok(two) = s.merge(&s) {
                    two.validate().unwrap();
                    assert_eq!(two.rows, 2 * s.rows);
                }
                let _ = s.compacted(8).validate();
                let profile = stream_golden_profile();
                if let Ok(report) = WindowReport::from_summary(&profile, s.clone(), &ReportConfig::default()) {
                    for col in &report.report.columns {
                        if let Some(p) = col.p_value {
                            check_p(p, &col.column);
                        }
                    }
                }
            });
        }
    }

    #[test]
    fn fuzz_kll_wire_sketch(m in hostile::mutated_json()) {
        let text = hostile::render(&golden_sketch(), &m);
        let loaded = bounded("kll json", TIME, HEAP, || serde_json::from_str::<KllSketch>(&text));
        if let Ok(s) = loaded {
            bounded("kll use", TIME, HEAP, || {
                assert!(s.len() <= MAX_COUNT);
                let mut last = None;
                for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
                    if let Some(v) = s.quantile(q) {
                        assert!(s.min() <= v && v <= s.max(), "{v} outside [{}, {}]", s.min(), s.max());
                        assert!(last.is_none_or(|l| l <= v));
                        last = Some(v);
                    }
                }
                let weight: u128 = s.weighted_items().iter().map(|&(_, w)| u128::from(w)).sum();
                assert_eq!(weight, u128::from(s.len()));
                let mut twice = s.clone();
                if twice.merge(&s).is_ok() {
                    assert_eq!(twice.len(), 2 * s.len());
                }
                let back: KllSketch = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
                assert_eq!(back.len(), s.len());
            });
        }
    }
}

/// The profile the golden window summaries were recorded against (`tests/stream.rs`).
fn stream_golden_profile() -> DatasetProfile {
    let age: Vec<f64> = (0..2_000).map(|i| 20.0 + f64::from(i % 40)).collect();
    let income: Vec<f64> = (0..2_000).map(|i| f64::from(i % 1000)).collect();
    let plan: Vec<&str> = (0..2_000).map(|i| PLANS[i % 3]).collect();
    DatasetProfile::fit(
        &Table::new()
            .with_numeric("age", &age)
            .unwrap()
            .with_numeric("income", &income)
            .unwrap()
            .with_categorical("plan", &plan)
            .unwrap(),
    )
}

#[test]
fn golden_summaries_pass_validation() {
    let all: Vec<WindowSummary> = serde_json::from_value(golden_summaries()).unwrap();
    for s in &all {
        s.validate().unwrap();
        WindowSummary::from_json(&s.to_json().unwrap()).unwrap();
    }
}
