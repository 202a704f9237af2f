#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Dataset drift reports: automatic methods, thresholds, the dataset decision, corrections,
//! messy data, explanations, evidence, the JSON wire format and "no input panics".

#[path = "support/samples.rs"]
mod samples;
use samples::normal;

use mlops_core::chrono::{TimeZone, Utc};
use mlops_core::{Direction, ManualClock, ModelRef, Subject};
use mlops_drift::correction::Correction;
use mlops_drift::policy::{InfPolicy, NanPolicy, OTHER_CATEGORY};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::report::{
    ColumnConfig, ColumnReport, ColumnStatus, DriftReport, Method, ReportConfig,
};
use mlops_drift::table::{Column, ColumnData, Table};
use proptest::prelude::*;

fn one(reference: &[f64], current: &[f64], cfg: ColumnConfig) -> ColumnReport {
    let r = Table::new().with_numeric("x", reference).unwrap();
    let c = Table::new().with_numeric("x", current).unwrap();
    let rep = DriftReport::compute(&r, &c, &ReportConfig::new().column("x", cfg)).unwrap();
    rep.column("x").unwrap().clone()
}

fn one_cat(reference: &[&str], current: &[&str], cfg: ColumnConfig) -> ColumnReport {
    let r = Table::new().with_categorical("k", reference).unwrap();
    let c = Table::new().with_categorical("k", current).unwrap();
    let rep = DriftReport::compute(&r, &c, &ReportConfig::new().column("k", cfg)).unwrap();
    rep.column("k").unwrap().clone()
}

#[test]
fn automatic_methods_follow_evidentlys_rule() {
    let small = normal(1, 1000, 0.0, 1.0);
    let large = normal(2, 1001, 0.0, 1.0);
    let cur = normal(3, 500, 0.0, 1.0);
    assert_eq!(
        one(&small, &cur, ColumnConfig::new()).method,
        Some(Method::Ks)
    );
    assert_eq!(
        one(&large, &cur, ColumnConfig::new()).method,
        Some(Method::WassersteinNormed)
    );
    // Numeric with at most 5 distinct values: categorical methods.
    let d3: Vec<f64> = (0..900).map(|i| (i % 3) as f64).collect();
    let d2: Vec<f64> = (0..900).map(|i| (i % 2) as f64).collect();
    let d3l: Vec<f64> = (0..2000).map(|i| (i % 3) as f64).collect();
    assert_eq!(
        one(&d3, &d3, ColumnConfig::new()).method,
        Some(Method::ChiSquared)
    );
    assert_eq!(
        one(&d2, &d2, ColumnConfig::new()).method,
        Some(Method::ZTest)
    );
    assert_eq!(
        one(&d3l, &d3l, ColumnConfig::new()).method,
        Some(Method::JensenShannon)
    );
    // ...unless the current sample brings the union above 5 distinct values.
    let d6: Vec<f64> = (0..900).map(|i| (i % 6) as f64).collect();
    assert_eq!(one(&d3, &d6, ColumnConfig::new()).method, Some(Method::Ks));

    let c3 = ["a", "b", "c"].repeat(100);
    let c2 = ["a", "b"].repeat(150);
    let c3l = ["a", "b", "c"].repeat(400);
    assert_eq!(
        one_cat(&c3, &c3, ColumnConfig::new()).method,
        Some(Method::ChiSquared)
    );
    assert_eq!(
        one_cat(&c2, &c2, ColumnConfig::new()).method,
        Some(Method::ZTest)
    );
    assert_eq!(
        one_cat(&c3l, &c3l, ColumnConfig::new()).method,
        Some(Method::JensenShannon)
    );
}

#[test]
fn thresholds_default_and_per_column() {
    let r = normal(4, 2000, 0.0, 1.0);
    let c = normal(5, 2000, 0.15, 1.0);
    let auto = one(&r, &c, ColumnConfig::new());
    assert_eq!(auto.method, Some(Method::WassersteinNormed));
    assert_eq!(auto.threshold, 0.1);
    assert!(auto.statistic > 0.1 && auto.drifted, "{auto:?}");
    let strict = one(&r, &c, ColumnConfig::new().threshold(0.5));
    assert_eq!(strict.statistic, auto.statistic);
    assert!(!strict.drifted);
    let ks = one(&r, &c, ColumnConfig::new().method(Method::Ks));
    assert_eq!(ks.threshold, 0.05);
    assert!(ks.p_value.unwrap() < 0.05 && ks.drifted);
    let psi = one(&r, &c, ColumnConfig::new().method(Method::Psi));
    assert_eq!(psi.threshold, 0.1);
    assert_eq!(psi.drifted, psi.statistic >= 0.1);
}

fn share_table<'a>(cols: &'a [(String, Vec<f64>)]) -> Table<'a> {
    let mut t = Table::new();
    for (n, v) in cols {
        t.push(Column::new(
            n.clone(),
            ColumnData::Numeric(v.as_slice().into()),
        ))
        .unwrap();
    }
    t
}

#[test]
fn drift_share_and_dataset_decision() {
    // 4 columns, 2 shifted.
    let r: Vec<(String, Vec<f64>)> = (0..4)
        .map(|i| (format!("c{i}"), normal(10 + i, 500, 0.0, 1.0)))
        .collect();
    // Two shifted columns; two unchanged (the reference values themselves, reversed).
    let c: Vec<(String, Vec<f64>)> = (0..4)
        .map(|i| {
            let v = if i < 2 {
                normal(20 + i, 500, 1.0, 1.0)
            } else {
                r[i as usize].1.iter().rev().copied().collect()
            };
            (format!("c{i}"), v)
        })
        .collect();
    let (rt, ct) = (share_table(&r), share_table(&c));
    let rep = DriftReport::compute(&rt, &ct, &ReportConfig::new()).unwrap();
    assert_eq!((rep.n_tested, rep.n_drifted), (4, 2));
    assert_eq!(rep.drift_share, 0.5);
    assert!(rep.dataset_drifted);
    let rep = DriftReport::compute(&rt, &ct, &ReportConfig::new().drift_share(0.75)).unwrap();
    assert!(!rep.dataset_drifted);
    // Ranked by effect size: the shifted columns first.
    assert!(rep.ranking[..2].iter().all(|n| n == "c0" || n == "c1"));
    assert!(
        rep.columns
            .iter()
            .all(|c| (0.0..=1.0).contains(&c.effect_size))
    );
    assert!(ReportConfig::new().drift_share(1.5).validate().is_err());
}

#[test]
fn correction_changes_the_decision() {
    // Find a column whose KS p-value is between 0.05/3 and 0.05: with two null columns beside
    // it, Bonferroni (×3) takes it above α.
    let r = normal(30, 400, 0.0, 1.0);
    let mut found = None;
    for seed in 0..200 {
        let c = normal(1000 + seed, 400, 0.12, 1.0);
        let col = one(&r, &c, ColumnConfig::new());
        let p = col.p_value.unwrap();
        if p < 0.05 && p > 0.05 / 3.0 {
            found = Some(c);
            break;
        }
    }
    let c = found.expect("a borderline sample");
    let n1 = normal(31, 400, 0.0, 1.0);
    let n2 = normal(32, 400, 0.0, 1.0);
    let m1 = normal(33, 400, 0.0, 1.0);
    let m2 = normal(34, 400, 0.0, 1.0);
    let rt = Table::new()
        .with_numeric("x", &r)
        .unwrap()
        .with_numeric("n1", &n1)
        .unwrap()
        .with_numeric("n2", &n2)
        .unwrap();
    let ct = Table::new()
        .with_numeric("x", &c)
        .unwrap()
        .with_numeric("n1", &m1)
        .unwrap()
        .with_numeric("n2", &m2)
        .unwrap();
    let plain = DriftReport::compute(&rt, &ct, &ReportConfig::new()).unwrap();
    assert!(plain.column("x").unwrap().drifted);
    let bonf = DriftReport::compute(
        &rt,
        &ct,
        &ReportConfig::new().correction(Correction::Bonferroni),
    )
    .unwrap();
    let x = bonf.column("x").unwrap();
    assert!(!x.drifted);
    assert_eq!(
        x.adjusted_p_value.unwrap(),
        (x.p_value.unwrap() * 3.0).min(1.0)
    );
    assert_eq!(bonf.correction, Correction::Bonferroni);
}

#[test]
fn nan_policies() {
    let mut r = normal(40, 300, 0.0, 1.0);
    let mut c = normal(41, 300, 0.0, 1.0);
    for i in (0..300).step_by(10) {
        r[i] = f64::NAN;
    }
    for i in (0..300).step_by(3) {
        c[i] = f64::NAN;
    }
    let omit = one(&r, &c, ColumnConfig::new());
    assert!(omit.is_tested());
    assert_eq!((omit.n_reference, omit.n_current), (270, 200));
    let m = omit.missing.as_ref().unwrap();
    assert_eq!((m.reference_missing, m.current_missing), (30, 100));
    assert!(m.drifted && m.p_value < 1e-6);
    assert!(!omit.drifted, "{omit:?}");

    let err = one(&r, &c, ColumnConfig::new().nan_policy(NanPolicy::Error));
    assert!(matches!(err.status, ColumnStatus::Failed { .. }));
    assert!(!err.drifted);

    let cat = one(
        &r,
        &c,
        ColumnConfig::new().nan_policy(NanPolicy::AsCategory),
    );
    assert!(cat.drifted);
    assert!(cat.reason.unwrap().contains("missing share"));

    // Categorical: missing as its own category.
    let rr: Vec<Option<&str>> = (0..300)
        .map(|i| if i % 10 == 0 { None } else { Some("a") })
        .collect();
    let cc: Vec<Option<&str>> = (0..300)
        .map(|i| if i % 2 == 0 { None } else { Some("a") })
        .collect();
    let rt = Table::new()
        .with(Column::new("k", ColumnData::OptStrs(&rr)))
        .unwrap();
    let ct = Table::new()
        .with(Column::new("k", ColumnData::OptStrs(&cc)))
        .unwrap();
    let cfg =
        ReportConfig::new().column("k", ColumnConfig::new().nan_policy(NanPolicy::AsCategory));
    let rep = DriftReport::compute(&rt, &ct, &cfg).unwrap();
    let k = rep.column("k").unwrap();
    assert_eq!(k.method, Some(Method::ZTest));
    assert!(k.drifted);
    let omit = DriftReport::compute(&rt, &ct, &ReportConfig::new()).unwrap();
    let k = omit.column("k").unwrap();
    assert!(!k.drifted, "one category on both sides: {k:?}");
    assert_eq!(k.statistic, 0.0);
    assert_eq!(k.p_value, Some(1.0));
    assert!(k.missing.as_ref().unwrap().drifted);
}

#[test]
fn infinity_policies() {
    let mut r = normal(50, 200, 0.0, 1.0);
    let c = normal(51, 200, 0.0, 1.0);
    r[0] = f64::INFINITY;
    r[1] = f64::NEG_INFINITY;
    let omit = one(&r, &c, ColumnConfig::new());
    assert!(omit.is_tested());
    assert_eq!(omit.n_reference, 198);
    assert_eq!(omit.missing.as_ref().unwrap().reference_missing, 0);
    let as_missing = one(&r, &c, ColumnConfig::new().inf_policy(InfPolicy::AsMissing));
    assert_eq!(as_missing.missing.as_ref().unwrap().reference_missing, 2);
    assert_eq!(as_missing.statistic, omit.statistic);
    let err = one(&r, &c, ColumnConfig::new().inf_policy(InfPolicy::Error));
    assert!(matches!(err.status, ColumnStatus::Failed { reason } if reason.contains("infinite")));
}

#[test]
fn empty_and_all_missing_columns_are_skipped_not_fatal() {
    let good_r = normal(60, 100, 0.0, 1.0);
    let good_c = normal(61, 100, 0.0, 1.0);
    let nan_r = vec![f64::NAN; 100];
    let rt = Table::new()
        .with_numeric("good", &good_r)
        .unwrap()
        .with_numeric("gone", &nan_r)
        .unwrap();
    let ct = Table::new()
        .with_numeric("good", &good_c)
        .unwrap()
        .with_numeric("gone", &good_c)
        .unwrap();
    let rep = DriftReport::compute(&rt, &ct, &ReportConfig::new()).unwrap();
    assert!(rep.column("good").unwrap().is_tested());
    let gone = rep.column("gone").unwrap();
    assert!(
        matches!(&gone.status, ColumnStatus::Skipped { reason } if reason.contains("reference"))
    );
    assert_eq!(rep.n_tested, 1);

    let empty: [f64; 0] = [];
    let e = one(&empty, &empty, ColumnConfig::new());
    assert!(matches!(e.status, ColumnStatus::Skipped { .. }));

    // A column on one side only.
    let ct = Table::new().with_numeric("other", &good_c).unwrap();
    let rep = DriftReport::compute(&rt, &ct, &ReportConfig::new()).unwrap();
    assert_eq!(rep.n_tested, 0);
    assert!(!rep.dataset_drifted);
    assert!(
        rep.columns
            .iter()
            .all(|c| matches!(c.status, ColumnStatus::Skipped { .. }))
    );
    assert_eq!(rep.columns.len(), 3);
}

#[test]
fn constant_columns() {
    let k = vec![3.0; 50];
    for m in [
        Method::Ks,
        Method::CramerVonMises,
        Method::AndersonDarling,
        Method::WassersteinNormed,
        Method::Energy,
        Method::Psi,
        Method::ChiSquared,
        Method::ZTest,
        Method::JensenShannon,
    ] {
        let both = one(&k, &k, ColumnConfig::new().method(m));
        assert!(both.is_tested(), "{m:?}: {both:?}");
        assert_eq!(both.statistic, 0.0, "{m:?}");
        if m.is_p_value_test() {
            assert_eq!(both.p_value, Some(1.0));
        }
        assert!(!both.drifted);
    }
    let varying: Vec<f64> = (0..50).map(|i| 3.0 + (i % 2) as f64 * 1e-3).collect();
    let c = one(&k, &varying, ColumnConfig::new().method(Method::Psi));
    assert!(c.drifted);
    assert!(c.reason.unwrap().contains("reference is constant"));
    let c = one(&k, &varying, ColumnConfig::new().threshold(0.999));
    assert!(c.drifted, "forced even when the method would not: {c:?}");

    let one_cat_both = one_cat(&["a"; 30], &["a"; 20], ColumnConfig::new());
    assert_eq!(one_cat_both.statistic, 0.0);
    assert!(!one_cat_both.drifted);
    let c = one_cat(&["a"; 30], &["a", "b"].repeat(10), ColumnConfig::new());
    assert!(c.drifted && c.reason.is_some());
}

#[test]
fn unseen_categories_go_to_other_with_finite_statistics() {
    let r = ["a", "b", "c"].repeat(500);
    let c: Vec<&str> = ["a", "b", "x", "y"].repeat(300);
    for m in [
        Method::ChiSquared,
        Method::JensenShannon,
        Method::Psi,
        Method::ZTest,
    ] {
        let col = one_cat(&r, &c, ColumnConfig::new().method(m));
        assert!(col.statistic.is_finite(), "{m:?}");
        if let Some(p) = col.p_value {
            assert!(p > 0.0 || col.ln_p.unwrap().is_finite());
        }
        assert_eq!(col.explanation.new_categories, vec!["x", "y"]);
        assert_eq!(col.explanation.vanished_categories, vec!["c"]);
    }
    let col = one_cat(&r, &c, ColumnConfig::new());
    let top = &col.explanation.top_contributors;
    assert!(
        top.iter()
            .any(|t| t.label == OTHER_CATEGORY && t.reference_share == 0.0)
    );
    assert!(
        top.windows(2)
            .all(|w| w[0].contribution >= w[1].contribution)
    );
}

#[test]
fn numeric_explanation_has_quantiles_and_bins() {
    let r: Vec<f64> = (0..1000).map(f64::from).collect();
    let c: Vec<f64> = (0..1000).map(|i| f64::from(i) + 250.0).collect();
    let col = one(&r, &c, ColumnConfig::new());
    let q = &col.explanation.quantiles;
    assert_eq!(
        q.iter().map(|r| r.q).collect::<Vec<_>>(),
        vec![0.05, 0.25, 0.5, 0.75, 0.95]
    );
    // numpy.quantile(range(1000), 0.5) == 499.5
    assert_eq!(q[2].reference, 499.5);
    assert_eq!(q[2].current, 749.5);
    let top = &col.explanation.top_contributors;
    assert_eq!(top.len(), 5);
    assert!(
        top.windows(2)
            .all(|w| w[0].contribution >= w[1].contribution)
    );
    // The shift empties the lowest bins and fills the top one.
    let last = top.iter().find(|t| t.label.ends_with(", inf)")).unwrap();
    assert!((last.current_share - 0.35).abs() < 1e-12, "{last:?}");
    assert!(
        top.iter()
            .any(|t| t.label.starts_with("[-inf,") && t.current_share == 0.0)
    );
}

#[test]
fn evidence_names_directions_and_outcomes() {
    let r = normal(70, 500, 0.0, 1.0);
    let c = normal(71, 500, 1.0, 1.0);
    let big_r = normal(72, 500, 0.0, 1.0);
    let big_c: Vec<f64> = big_r.iter().map(|v| v * 1.01).collect();
    let rt = Table::new()
        .with_numeric("age", &r)
        .unwrap()
        .with_numeric("income (eur)", &big_r)
        .unwrap();
    let ct = Table::new()
        .with_numeric("age", &c)
        .unwrap()
        .with_numeric("income (eur)", &big_c)
        .unwrap();
    let cfg = ReportConfig::new().column(
        "income (eur)",
        ColumnConfig::new().method(Method::WassersteinNormed),
    );
    let rep = DriftReport::compute(&rt, &ct, &cfg).unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    let v: ModelRef = "fraud@v3".parse().unwrap();
    let ev = rep.to_evidence(&v, &clock).unwrap();
    let by = |n: &str| ev.iter().find(|e| e.check.as_str() == n).unwrap();
    let ks = by("drift.ks.age");
    assert_eq!(ks.direction, Direction::AtLeast);
    assert_eq!(ks.threshold, 0.05);
    assert!(!ks.passed());
    assert!(matches!(&ks.subject, Subject::Feature { feature, .. } if feature == "age"));
    let w = by("drift.wasserstein_normed.income__eur_");
    assert_eq!(w.direction, Direction::Below);
    assert!(w.passed());
    assert!(by("drift.missing_share.age").passed());
    let ds = by("drift.dataset.share");
    assert_eq!(ds.value, 0.5);
    assert!(!ds.passed());
    assert!(ev.iter().all(|e| e.is_consistent()));
    for col in rep.columns.iter() {
        let e = ev
            .iter()
            .find(|e| {
                e.check
                    .as_str()
                    .starts_with(&format!("drift.{}.", col.method.unwrap().name()))
            })
            .unwrap();
        assert_eq!(e.passed(), !col.drifted);
    }
}

/// The JSON form of a report is a wire format: pinned by a golden file. Regenerate with
/// `UPDATE_GOLDEN=1 cargo test -p mlops-drift --test report` after an intended change.
#[test]
fn report_json_matches_golden_file() {
    let r: Vec<f64> = (0..40).map(|i| f64::from(i % 13) * 0.5).collect();
    let mut c: Vec<f64> = (0..40).map(|i| f64::from(i % 11) * 0.6 + 0.3).collect();
    c[5] = f64::NAN;
    let rk: Vec<&str> = (0..40).map(|i| ["red", "green", "blue"][i % 3]).collect();
    let ck: Vec<&str> = (0..40).map(|i| ["red", "green", "violet"][i % 3]).collect();
    let codes_r: Vec<i64> = (0..40).map(|i| i % 2).collect();
    let codes_c: Vec<i64> = (0..40).map(|i| i64::from(i % 5 == 0)).collect();
    let rt = Table::new()
        .with_numeric("num", &r)
        .unwrap()
        .with_categorical("color", &rk)
        .unwrap()
        .with_codes("flag", &codes_r)
        .unwrap();
    let ct = Table::new()
        .with_numeric("num", &c)
        .unwrap()
        .with_categorical("color", &ck)
        .unwrap()
        .with_codes("flag", &codes_c)
        .unwrap();
    let cfg = ReportConfig::new().correction(Correction::Holm);
    let json = DriftReport::compute(&rt, &ct, &cfg)
        .unwrap()
        .to_json()
        .unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/report.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap();
    assert_eq!(json, golden.trim_end());
    // And it reads back.
    let back: DriftReport = serde_json::from_str(&golden).unwrap();
    assert_eq!(back.to_json().unwrap(), json);
}

#[test]
fn stored_profile_scores_like_raw_reference() {
    let r = normal(80, 800, 0.0, 1.0);
    let c = normal(81, 700, 0.2, 1.0);
    let rt = Table::new().with_numeric("x", &r).unwrap();
    let ct = Table::new().with_numeric("x", &c).unwrap();
    let profile = DatasetProfile::from_json(&DatasetProfile::fit(&rt).to_json().unwrap()).unwrap();
    let cfg = ReportConfig::new();
    assert_eq!(
        DriftReport::from_profile(&profile, &ct, &cfg).unwrap(),
        DriftReport::compute(&rt, &ct, &cfg).unwrap()
    );
}

fn messy_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6..1e6_f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(5e-324_f64),
        1 => Just(-0.0_f64),
        1 => Just(1.0_f64),
        1 => any::<f64>(),
    ]
}

fn any_method() -> impl Strategy<Value = Option<Method>> {
    prop_oneof![
        Just(None),
        Just(Some(Method::Ks)),
        Just(Some(Method::CramerVonMises)),
        Just(Some(Method::AndersonDarling)),
        Just(Some(Method::WassersteinNormed)),
        Just(Some(Method::Energy)),
        Just(Some(Method::Psi)),
        Just(Some(Method::ChiSquared)),
        Just(Some(Method::ZTest)),
        Just(Some(Method::JensenShannon)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_input_panics_and_results_are_sane(
        r in proptest::collection::vec(messy_float(), 0..40),
        c in proptest::collection::vec(messy_float(), 0..40),
        rk in proptest::collection::vec(proptest::option::of("[a-c]{0,2}"), 0..30),
        ck in proptest::collection::vec(proptest::option::of("[a-d]{0,2}"), 0..30),
        method in any_method(),
        nan in prop_oneof![Just(NanPolicy::Omit), Just(NanPolicy::Error), Just(NanPolicy::AsCategory)],
        inf in prop_oneof![Just(InfPolicy::Omit), Just(InfPolicy::AsMissing), Just(InfPolicy::Error)],
        correction in prop_oneof![Just(Correction::None), Just(Correction::Holm), Just(Correction::BenjaminiYekutieli)],
    ) {
        let rks: Vec<Option<&str>> = rk.iter().map(|s| s.as_deref()).collect();
        let cks: Vec<Option<&str>> = ck.iter().map(|s| s.as_deref()).collect();
        let rt = Table::new().with_numeric("x", &r).unwrap();
        let ct = Table::new().with_numeric("x", &c).unwrap();
        let rkt = Table::new().with(Column::new("k", ColumnData::OptStrs(&rks))).unwrap();
        let ckt = Table::new().with(Column::new("k", ColumnData::OptStrs(&cks))).unwrap();
        let mut col = ColumnConfig::new().nan_policy(nan).inf_policy(inf);
        col.method = method;
        let cfg = ReportConfig::new().default_column(col).correction(correction);
        for (a, b) in [(&rt, &ct), (&rkt, &ckt)] {
            let rep = DriftReport::compute(a, b, &cfg).unwrap();
            prop_assert!((0.0..=1.0).contains(&rep.drift_share));
            for col in &rep.columns {
                if let Some(p) = col.p_value {
                    prop_assert!((0.0..=1.0).contains(&p), "{col:?}");
                }
                if let Some(p) = col.adjusted_p_value {
                    prop_assert!((0.0..=1.0).contains(&p));
                }
                if col.is_tested() {
                    prop_assert!(!col.statistic.is_nan(), "{col:?}");
                    prop_assert!(col.statistic.is_finite() || col.method == Some(Method::ZTest), "{col:?}");
                    prop_assert!((0.0..=1.0).contains(&col.effect_size));
                }
                if let Some(m) = &col.missing {
                    prop_assert!((0.0..=1.0).contains(&m.p_value));
                }
            }
            let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
            let ev = rep.to_evidence(&"m@v1".parse().unwrap(), &clock).unwrap();
            prop_assert!(ev.iter().all(|e| e.is_consistent()));
            let json = rep.to_json().unwrap();
            let back: DriftReport = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.to_json().unwrap(), json);
        }
    }
}

/// Columns of every kind, with messy values, large enough that the report goes parallel.
type MixedTables = (
    Vec<Vec<f64>>,
    Vec<Vec<f64>>,
    Vec<&'static str>,
    Vec<&'static str>,
);

fn mixed_tables() -> MixedTables {
    let rows = 6_000;
    let mut reference = Vec::new();
    let mut current = Vec::new();
    for i in 0..10_u64 {
        let mut r = normal(10 + i, rows, i as f64, 1.0);
        let mut c = normal(50 + i, rows, i as f64 + (i % 3) as f64 * 0.1, 1.0);
        if i == 3 {
            r[7] = f64::NAN;
            c[9] = f64::INFINITY;
            c[11] = f64::NAN;
        }
        if i == 5 {
            r = vec![2.0; rows];
        }
        if i == 7 {
            c = c.iter().map(|v| v.round()).collect();
        }
        reference.push(r);
        current.push(c);
    }
    let plans = ["basic", "pro", "team"];
    let rcat = (0..rows).map(|i| plans[i % 3]).collect();
    let ccat = (0..rows).map(|i| plans[(i * 7 / 5) % 3]).collect();
    (reference, current, rcat, ccat)
}

#[test]
fn parallel_reports_equal_the_serial_one() {
    let (r, c, rcat, ccat) = mixed_tables();
    let names: Vec<String> = (0..r.len()).map(|i| format!("f{i}")).collect();
    let mut rt = Table::new().with_categorical("plan", &rcat).unwrap();
    let mut ct = Table::new().with_categorical("plan", &ccat).unwrap();
    for ((name, rv), cv) in names.iter().zip(&r).zip(&c) {
        rt = rt.with_numeric(name.clone(), rv).unwrap();
        ct = ct.with_numeric(name.clone(), cv).unwrap();
    }
    let one = std::num::NonZeroUsize::new(1).unwrap();
    let two = std::num::NonZeroUsize::new(2).unwrap();
    let base = ReportConfig::default()
        .correction(Correction::BenjaminiHochberg)
        .column("f2", ColumnConfig::new().method(Method::Psi))
        .column("f4", ColumnConfig::new().method(Method::Ks))
        .column("f6", ColumnConfig::new().method(Method::AndersonDarling));
    let serial = DriftReport::compute(&rt, &ct, &base.clone().max_threads(one)).unwrap();
    let serial_json = serde_json::to_string(&serial).unwrap();
    assert_eq!(serial.columns.len(), 11);
    assert!(serial.n_drifted > 0 && serial.n_drifted < serial.n_tested);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    for cfg in [base.clone(), base.clone().max_threads(two)] {
        let parallel = pool
            .install(|| DriftReport::compute(&rt, &ct, &cfg))
            .unwrap();
        assert_eq!(serde_json::to_string(&parallel).unwrap(), serial_json);
        let parallel = DriftReport::compute(&rt, &ct, &cfg).unwrap();
        assert_eq!(serde_json::to_string(&parallel).unwrap(), serial_json);
    }
    let profile = DatasetProfile::fit_with_threads(&rt, 10, Some(one)).unwrap();
    let in_pool = pool
        .install(|| DatasetProfile::fit_with_threads(&rt, 10, None))
        .unwrap();
    assert_eq!(profile.to_json().unwrap(), in_pool.to_json().unwrap());
    let from_profile = pool
        .install(|| DriftReport::from_profile(&in_pool, &ct, &base))
        .unwrap();
    assert_eq!(serde_json::to_string(&from_profile).unwrap(), serial_json);
}
