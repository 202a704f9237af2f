#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Reference profiles: serialization, versioning, invariants, and "scoring against a profile gives
//! the same numbers as scoring from the raw reference" for every method.

#[path = "support/samples.rs"]
mod samples;
use samples::normal;

use mlops_drift::DriftError;
use mlops_drift::profile::{
    DatasetProfile, NumericProfile, PROFILE_FORMAT_VERSION, QuantileBinning,
};
use mlops_drift::report::{ColumnConfig, DriftReport, Method, ReportConfig, score_numeric};
use mlops_drift::stats::anderson::anderson_2samp;
use mlops_drift::stats::categorical::{
    CategoryTable, chi2_homogeneity_labels, two_proportion_z_test,
};
use mlops_drift::stats::cvm::{CvmMethod, cramervonmises_2samp};
use mlops_drift::stats::distance::{energy_distance, wasserstein_distance};
use mlops_drift::stats::divergence::{LogBase, jensen_shannon};
use mlops_drift::stats::ks::{KsOptions, ks_2samp};
use mlops_drift::stats::psi::{PsiOptions, psi};
use mlops_drift::table::Table;

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    s
}

#[test]
fn json_round_trip_and_version_refusal() {
    let x = normal(1, 300, 0.0, 1.0);
    let cats = ["a", "b", "a", "c"].repeat(75);
    let t = Table::new()
        .with_numeric("x", &x)
        .unwrap()
        .with_categorical("c", &cats)
        .unwrap();
    let p = DatasetProfile::fit(&t);
    assert_eq!(p.format_version, PROFILE_FORMAT_VERSION);
    let json = p.to_json().unwrap();
    assert_eq!(DatasetProfile::from_json(&json).unwrap(), p);

    let newer = json.replacen(
        &format!("\"format_version\":{PROFILE_FORMAT_VERSION}"),
        &format!("\"format_version\":{}", PROFILE_FORMAT_VERSION + 1),
        1,
    );
    assert_eq!(
        DatasetProfile::from_json(&newer).unwrap_err(),
        DriftError::FormatVersion {
            found: PROFILE_FORMAT_VERSION + 1,
            supported: PROFILE_FORMAT_VERSION
        }
    );
    assert!(matches!(
        DatasetProfile::from_json("{\"format_version\": 1}"),
        Err(DriftError::InvalidProfile { .. })
    ));
}

#[test]
fn corrupt_profiles_are_refused() {
    let x = [3.0, 1.0, 2.0];
    let t = Table::new().with_numeric("x", &x).unwrap();
    let json = DatasetProfile::fit(&t).to_json().unwrap();
    assert!(json.contains("\"sorted\":[1.0,2.0,3.0]"));
    let unsorted = json.replace("\"sorted\":[1.0,2.0,3.0]", "\"sorted\":[2.0,1.0,3.0]");
    assert!(matches!(
        DatasetProfile::from_json(&unsorted),
        Err(DriftError::InvalidProfile { column, .. }) if column == "x"
    ));
    let miscounted = json.replace("\"n_rows\":3", "\"n_rows\":4");
    assert!(matches!(
        DatasetProfile::from_json(&miscounted),
        Err(DriftError::InvalidProfile { .. })
    ));
}

#[test]
fn profile_scores_equal_raw_scores_for_order_based_methods() {
    for (n, m, shift) in [(40, 35, 0.3), (900, 1200, 0.1), (12_000, 11_000, 0.02)] {
        let r = normal(n as u64, n, 0.0, 1.0);
        let c = normal(m as u64 + 7, m, shift, 1.1);
        let profile = NumericProfile::fit(&r);

        let raw = ks_2samp(&r, &c, KsOptions::default()).unwrap();
        let got = score_numeric(&profile, &c, Method::Ks).unwrap();
        assert_eq!(got.statistic, raw.statistic);
        assert_eq!(got.p_value.unwrap(), raw.p_value);

        let raw = cramervonmises_2samp(&r, &c, CvmMethod::Auto).unwrap();
        let got = score_numeric(&profile, &c, Method::CramerVonMises).unwrap();
        assert_eq!(got.statistic, raw.statistic);
        assert_eq!(got.p_value.unwrap(), raw.p_value);

        let raw = wasserstein_distance(&r, &c).unwrap();
        let got = score_numeric(&profile, &c, Method::WassersteinNormed).unwrap();
        assert_eq!(got.statistic, raw.normed);

        let raw = energy_distance(&r, &c).unwrap();
        let got = score_numeric(&profile, &c, Method::Energy).unwrap();
        assert_eq!(got.statistic, raw.distance);

        let raw = psi(&r, &c, PsiOptions::default()).unwrap();
        let got = score_numeric(&profile, &c, Method::Psi).unwrap();
        assert_eq!(got.statistic, raw.psi);

        let raw = anderson_2samp(&r, &c).unwrap();
        let got = score_numeric(&profile, &c, Method::AndersonDarling).unwrap();
        assert_eq!(got.statistic, raw.statistic);
        assert_eq!(got.p_value.unwrap(), raw.p_value);
    }
}

/// Independent PSI: sort, NumPy linear quantiles, linear scan into bins.
fn naive_psi(r: &[f64], c: &[f64], bins: usize) -> f64 {
    let s = sorted(r);
    let q = |p: f64| {
        let h = (s.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(s.len() - 1);
        s[lo] + (h - lo as f64) * (s[hi] - s[lo])
    };
    // numpy.unique(numpy.quantile(r, numpy.linspace(0, 1, bins + 1))), outer edges dropped.
    let mut all: Vec<f64> = (0..=bins).map(|i| q(i as f64 / bins as f64)).collect();
    all.dedup();
    let edges: Vec<f64> = all[1..all.len().saturating_sub(1).max(1)].to_vec();
    let count = |xs: &[f64]| {
        let mut k = vec![0.0; edges.len() + 1];
        for &x in xs {
            let b = edges.iter().filter(|&&e| e <= x).count();
            k[b] += 1.0;
        }
        let n: f64 = k.iter().sum();
        let kk = k.len() as f64;
        k.iter()
            .map(|v| (v / n + 1e-4) / (1.0 + kk * 1e-4))
            .collect::<Vec<_>>()
    };
    let (pr, pc) = (count(r), count(c));
    pr.iter()
        .zip(&pc)
        .map(|(a, b)| (b - a) * (b / a).ln())
        .sum()
}

#[test]
fn profile_psi_equals_independent_psi() {
    for (n, m) in [(30, 30), (999, 1001), (5000, 4000)] {
        let r = normal(n as u64 + 3, n, 0.0, 1.0);
        let c = normal(m as u64 + 5, m, 0.25, 1.0);
        let profile = NumericProfile::fit(&r);
        let got = score_numeric(&profile, &c, Method::Psi).unwrap().statistic;
        let want = naive_psi(&r, &c, 10);
        assert!(
            (got - want).abs() <= 1e-12 * want.max(1.0),
            "{got} vs {want}"
        );
    }
    // Ties collapse duplicate edges.
    let r: Vec<f64> = (0..100).map(|i| (i / 40) as f64).collect();
    let b = QuantileBinning::fit_sorted(&sorted(&r), 10).unwrap();
    // numpy.quantile([i // 40 for i in range(100)], numpy.linspace(0, 1, 11))
    // = [0, 0, 0, 0, 0.6, 1, 1, 1, 1.2, 2, 2]: unique [0, 0.6, 1, 1.2, 2], interior cuts below.
    assert_eq!(b.edges().len(), 3);
    assert!((b.edges()[0] - 0.6).abs() < 1e-12 && b.edges()[1] == 1.0);
    let c = [0.0, 1.0, 1.0, 2.0, 2.0, 2.0];
    let got = score_numeric(&NumericProfile::fit(&r), &c, Method::Psi)
        .unwrap()
        .statistic;
    assert!((got - naive_psi(&r, &c, 10)).abs() < 1e-12);
}

/// Every method, through the whole report: a report from raw reference data equals a report from
/// a profile that went through JSON.
#[test]
fn reports_from_raw_and_from_stored_profile_are_identical_for_every_method() {
    let r = normal(11, 700, 10.0, 2.0);
    let c = normal(12, 650, 10.5, 2.0);
    let rc: Vec<&str> = r
        .iter()
        .map(|v| ["x", "y", "z", "w"][(v.abs() as usize) % 4])
        .collect();
    let cc: Vec<&str> = c
        .iter()
        .map(|v| ["x", "y", "z", "v"][(v.abs() as usize) % 4])
        .collect();
    let reference = Table::new()
        .with_numeric("n", &r)
        .unwrap()
        .with_categorical("k", &rc)
        .unwrap();
    let current = Table::new()
        .with_numeric("n", &c)
        .unwrap()
        .with_categorical("k", &cc)
        .unwrap();
    let stored =
        DatasetProfile::from_json(&DatasetProfile::fit(&reference).to_json().unwrap()).unwrap();
    let numeric_methods = [
        Method::Ks,
        Method::CramerVonMises,
        Method::AndersonDarling,
        Method::WassersteinNormed,
        Method::Energy,
        Method::Psi,
        Method::JensenShannon,
    ];
    let categorical_methods = [
        Method::ChiSquared,
        Method::ZTest,
        Method::JensenShannon,
        Method::Psi,
    ];
    for (i, &nm) in numeric_methods.iter().enumerate() {
        let km = categorical_methods[i % categorical_methods.len()];
        let cfg = ReportConfig::new()
            .column("n", ColumnConfig::new().method(nm))
            .column("k", ColumnConfig::new().method(km));
        let a = DriftReport::compute(&reference, &current, &cfg).unwrap();
        let b = DriftReport::from_profile(&stored, &current, &cfg).unwrap();
        assert_eq!(a, b, "{nm:?}/{km:?}");
        for col in &a.columns {
            assert!(col.is_tested(), "{col:?}");
            assert!(col.statistic.is_finite());
        }
    }
}

#[test]
fn categorical_profile_scores_equal_raw_scores() {
    // One category new in the current sample ("v"), so the pooled "other" bucket is the union.
    let r: Vec<&str> = (0..600).map(|i| ["a", "b", "c", "d"][i * 7 % 4]).collect();
    let c: Vec<&str> = (0..500)
        .map(|i| ["a", "b", "c", "v", "a"][i * 3 % 5])
        .collect();
    let reference = Table::new().with_categorical("k", &r).unwrap();
    let current = Table::new().with_categorical("k", &c).unwrap();
    let stored =
        DatasetProfile::from_json(&DatasetProfile::fit(&reference).to_json().unwrap()).unwrap();
    let run = |m: Method| {
        let cfg = ReportConfig::new().column("k", ColumnConfig::new().method(m));
        DriftReport::from_profile(&stored, &current, &cfg)
            .unwrap()
            .column("k")
            .unwrap()
            .clone()
    };
    let raw = chi2_homogeneity_labels(&r, &c).unwrap();
    let got = run(Method::ChiSquared);
    assert_eq!(got.statistic, raw.statistic);
    assert_eq!(got.p_value, Some(raw.p_value.p));

    let t = CategoryTable::from_labels(&r, &c);
    let w = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    let raw = jensen_shannon(&w(&t.reference), &w(&t.current), LogBase::E).unwrap();
    let got = run(Method::JensenShannon);
    assert!((got.statistic - raw.value).abs() < 1e-15);
    assert!(got.drifted);
    assert_eq!(got.explanation.new_categories, vec!["v".to_owned()]);
    assert_eq!(got.explanation.vanished_categories, vec!["d".to_owned()]);

    // Binary column: z-test on the share of the first category.
    let rb: Vec<&str> = (0..300)
        .map(|i| if i % 3 == 0 { "y" } else { "n" })
        .collect();
    let cb: Vec<&str> = (0..200)
        .map(|i| if i % 2 == 0 { "y" } else { "n" })
        .collect();
    let reference = Table::new().with_categorical("b", &rb).unwrap();
    let current = Table::new().with_categorical("b", &cb).unwrap();
    let rep = DriftReport::compute(&reference, &current, &ReportConfig::new()).unwrap();
    let col = rep.column("b").unwrap();
    assert_eq!(col.method, Some(Method::ZTest));
    let raw = two_proportion_z_test(200, 300, 100, 200).unwrap();
    assert_eq!(col.statistic, raw.statistic);
    assert_eq!(col.p_value, Some(raw.p_value.p));
}

/// The stored profile is a wire format (it lives with the model version): pinned by a golden
/// file. Regenerate with `UPDATE_GOLDEN=1 cargo test -p mlops-drift --test profile` after an
/// intended change, and raise `PROFILE_FORMAT_VERSION` when old files no longer read.
#[test]
fn profile_json_matches_golden_file() {
    let x = [2.5, f64::NAN, -1.0, 4.0, f64::INFINITY, 0.5, 0.5, 3.0];
    let k = [
        Some("b"),
        None,
        Some("a"),
        Some("b"),
        Some("c"),
        Some("b"),
        None,
        Some("a"),
    ];
    let t = Table::new()
        .with_numeric("x", &x)
        .unwrap()
        .with(mlops_drift::table::Column::new(
            "k",
            mlops_drift::table::ColumnData::OptStrs(&k),
        ))
        .unwrap();
    let json =
        serde_json::to_string_pretty(&DatasetProfile::fit_with_bins(&t, 4).unwrap()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/profile.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap();
    assert_eq!(json, golden.trim_end());
    let back = DatasetProfile::from_json(&golden).unwrap();
    assert_eq!(back, DatasetProfile::fit_with_bins(&t, 4).unwrap());
}
