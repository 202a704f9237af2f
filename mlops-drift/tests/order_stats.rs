#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Order-based two-sample tests (KS, Cramér–von Mises, Anderson–Darling): every SciPy oracle case
//! in `tests/data/drift_cases.json`, the sorted entry points, and properties.

use mlops_drift::stats::Alternative;
use mlops_drift::stats::anderson::{anderson_2samp, anderson_ksamp};
use mlops_drift::stats::cvm::{CvmMethod, cramervonmises_2samp, cramervonmises_2samp_sorted};
use mlops_drift::stats::ks::{KsMethod, KsOptions, ks_2samp, ks_2samp_sorted};

use mlops_drift::{DriftError, Sample};
use proptest::prelude::*;
use serde_json::Value;

fn cases(test: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/drift_cases.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let all: Vec<Value> = file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["test"] == test)
        .cloned()
        .collect();
    assert!(!all.is_empty(), "no `{test}` cases");
    all
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("not a number: {other}"),
        },
        other => panic!("not a number: {other}"),
    }
}

fn sample(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

/// The README's agreement rule: |got − want| ≤ 1e-9·max(1, |want|); p-values below 1e-300 agree
/// when both are; NaN agrees with NaN.
fn agrees(got: f64, want: f64, is_p: bool) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if is_p && want < 1e-300 && got < 1e-300 {
        return true;
    }
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

fn check(failures: &mut Vec<String>, id: &str, key: &str, got: f64, want: f64, is_p: bool) {
    if !agrees(got, want, is_p) {
        failures.push(format!("{id}: {key} got {got:e}, want {want:e}"));
    }
}

fn ks_options(case: &Value) -> KsOptions {
    let params = &case["params"];
    let alternative = match params["alternative"].as_str().unwrap() {
        "two-sided" => Alternative::TwoSided,
        "less" => Alternative::Less,
        "greater" => Alternative::Greater,
        other => panic!("alternative {other}"),
    };
    let method = match params["method"].as_str().unwrap() {
        "auto" => KsMethod::Auto,
        "exact" => KsMethod::Exact,
        "asymp" => KsMethod::Asymptotic,
        other => panic!("method {other}"),
    };
    KsOptions {
        alternative,
        method,
    }
}

fn sorted(x: &[f64]) -> Vec<f64> {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

#[test]
fn ks_2samp_agrees_with_scipy_on_every_case() {
    let mut failures = Vec::new();
    let all = cases("ks_2samp");
    for case in &all {
        let id = case["id"].as_str().unwrap();
        let reference = sample(&case["reference"]);
        let current = sample(&case["current"]);
        let options = ks_options(case);
        let r = match ks_2samp(&reference, &current, options) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        let e = &case["expected"];
        check(
            &mut failures,
            id,
            "statistic",
            r.statistic,
            num(&e["statistic"]),
            false,
        );
        check(
            &mut failures,
            id,
            "p_value",
            r.p_value.p,
            num(&e["p_value"]),
            true,
        );
        check(
            &mut failures,
            id,
            "statistic_location",
            r.statistic_location,
            num(&e["statistic_location"]),
            false,
        );
        check(
            &mut failures,
            id,
            "statistic_sign",
            f64::from(r.statistic_sign),
            num(&e["statistic_sign"]),
            false,
        );
        let s = ks_2samp_sorted(&sorted(&reference), &sorted(&current), options).unwrap();
        if s != r && !(s.p_value.p.is_nan() && r.p_value.p.is_nan()) {
            failures.push(format!("{id}: sorted entry point differs: {s:?} vs {r:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} ks_2samp cases disagree:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn cramervonmises_2samp_agrees_with_scipy_on_every_case() {
    let mut failures = Vec::new();
    let all = cases("cramervonmises_2samp");
    for case in &all {
        let id = case["id"].as_str().unwrap();
        let reference = sample(&case["reference"]);
        let current = sample(&case["current"]);
        let r = match cramervonmises_2samp(&reference, &current, CvmMethod::Auto) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        let e = &case["expected"];
        check(
            &mut failures,
            id,
            "statistic",
            r.statistic,
            num(&e["statistic"]),
            false,
        );
        check(
            &mut failures,
            id,
            "p_value",
            r.p_value.p,
            num(&e["p_value"]),
            true,
        );
        let s =
            cramervonmises_2samp_sorted(&sorted(&reference), &sorted(&current), CvmMethod::Auto)
                .unwrap();
        if s != r {
            failures.push(format!("{id}: sorted entry point differs: {s:?} vs {r:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cramervonmises_2samp cases disagree:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn anderson_ksamp_agrees_with_scipy_on_every_case() {
    let mut failures = Vec::new();
    let all = cases("anderson_ksamp");
    for case in &all {
        let id = case["id"].as_str().unwrap();
        let reference = sample(&case["reference"]);
        let current = sample(&case["current"]);
        let r = match anderson_ksamp(&[&reference, &current]) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        let e = &case["expected"];
        check(
            &mut failures,
            id,
            "statistic",
            r.statistic,
            num(&e["statistic"]),
            false,
        );
        check(
            &mut failures,
            id,
            "p_value",
            r.p_value.p,
            num(&e["p_value"]),
            true,
        );
        let two = anderson_2samp(&reference, &current).unwrap();
        if two != r {
            failures.push(format!("{id}: anderson_2samp differs: {two:?} vs {r:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} anderson_ksamp cases disagree:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Edge cases and errors

#[test]
fn nan_and_empty_inputs_are_typed_errors() {
    let ok = [1.0, 2.0, 3.0];
    let o = KsOptions::default();
    assert!(matches!(
        ks_2samp(&[], &ok, o),
        Err(DriftError::EmptySample {
            which: Sample::Reference
        })
    ));
    assert!(matches!(
        ks_2samp(&ok, &[], o),
        Err(DriftError::EmptySample {
            which: Sample::Current
        })
    ));
    assert!(matches!(
        ks_2samp(&ok, &[0.0, f64::NAN], o),
        Err(DriftError::NonFinite {
            which: Sample::Current,
            index: 1,
            ..
        })
    ));
    assert!(matches!(
        ks_2samp_sorted(&[3.0, 1.0], &ok, o),
        Err(DriftError::InvalidParameter { .. })
    ));
    assert!(matches!(
        cramervonmises_2samp(&[f64::NAN, 1.0], &ok, CvmMethod::Auto),
        Err(DriftError::NonFinite {
            which: Sample::Reference,
            index: 0,
            ..
        })
    ));
    assert!(matches!(
        cramervonmises_2samp(&[1.0], &ok, CvmMethod::Auto),
        Err(DriftError::InvalidParameter { .. })
    ));
    assert!(matches!(
        anderson_2samp(&ok, &[]),
        Err(DriftError::EmptySample {
            which: Sample::Current
        })
    ));
    assert!(matches!(
        anderson_2samp(&[1.0, 1.0], &[1.0, 1.0]),
        Err(DriftError::InvalidParameter { .. })
    ));
    assert!(matches!(
        anderson_ksamp(&[&ok]),
        Err(DriftError::InvalidParameter { .. })
    ));
}

#[test]
fn anderson_smallest_sample_and_three_samples_match_scipy() {
    // scipy.stats.anderson_ksamp([[1., 2.], [3., 4.]])
    let r = anderson_2samp(&[1.0, 2.0], &[3.0, 4.0]).unwrap();
    assert!((r.statistic - 1.542_778_431_679_718_6).abs() < 1e-12);
    assert!((r.p_value.p - 0.075_025_591_421_974_61).abs() < 1e-12);
    assert_eq!(r.sample_sizes, vec![2, 2]);
    assert_eq!(r.significance_levels.len(), r.critical_values.len());
    // scipy.stats.anderson_ksamp([[1., 2., 5., 2., 3.5], [3., 4., 4.5, 6., 6.5],
    //                             [5.5, 6., 7., 8., 6.]])
    let r = anderson_ksamp(&[
        &[1.0, 2.0, 5.0, 2.0, 3.5],
        &[3.0, 4.0, 4.5, 6.0, 6.5],
        &[5.5, 6.0, 7.0, 8.0, 6.0],
    ])
    .unwrap();
    assert!((r.statistic - 3.745_680_129_579_961).abs() < 1e-12);
    assert!((r.p_value.p - 0.007_083_026_338_281_536_5).abs() < 1e-12);
    assert_eq!(r.sample_sizes, vec![5, 5, 5]);
}

#[test]
fn ks_handles_infinities_as_extreme_values() {
    let a = [f64::NEG_INFINITY, 0.0, 1.0, f64::INFINITY];
    let b = [f64::INFINITY, f64::INFINITY, 5.0];
    let r = ks_2samp(&a, &b, KsOptions::default()).unwrap();
    // ECDF of `a` reaches 3/4 at 1.0 while `b` is still 0.
    assert_eq!(r.statistic, 0.75);
    assert_eq!(r.statistic_location, 1.0);
    assert_eq!(r.statistic_sign, 1);
    assert!((0.0..=1.0).contains(&r.p_value.p));
}

#[test]
fn ks_large_shift_keeps_ln_p_finite_where_p_underflows() {
    let a: Vec<f64> = (0..20_000).map(|i| f64::from(i) / 20_000.0).collect();
    let b: Vec<f64> = a.iter().map(|x| x + 0.9).collect();
    let r = ks_2samp(&a, &b, KsOptions::default()).unwrap();
    assert_eq!(r.method_used, KsMethod::Asymptotic);
    assert!(r.p_value.p < 1e-300);
    assert!(
        r.p_value.ln_p.is_finite() && r.p_value.ln_p < -700.0,
        "{:?}",
        r.p_value
    );
    let greater = ks_2samp(
        &a,
        &b,
        KsOptions {
            alternative: Alternative::Greater,
            method: KsMethod::Asymptotic,
        },
    )
    .unwrap();
    assert!(greater.p_value.ln_p.is_finite() && greater.p_value.ln_p < -700.0);
}

#[test]
fn results_round_trip_through_json_including_non_finite_values() {
    // A location at +inf and SciPy's NaN p-value (one value per side, asymptotic two-sided).
    let r = ks_2samp(
        &[f64::INFINITY],
        &[0.0],
        KsOptions {
            alternative: Alternative::TwoSided,
            method: KsMethod::Asymptotic,
        },
    )
    .unwrap();
    assert!(r.p_value.p.is_nan());
    let json = serde_json::to_string(&r).unwrap();
    let back: mlops_drift::stats::ks::KsResult = serde_json::from_str(&json).unwrap();
    assert!(back.p_value.p.is_nan() && back.p_value.ln_p.is_nan());
    assert_eq!(back.statistic_location, r.statistic_location);
    assert_eq!(back.statistic, r.statistic);

    // serde_json (without its `float_roundtrip` feature) may parse the last bit differently,
    // so finite values are compared to a few ulps; non-finite ones exactly.
    let close =
        |x: f64, y: f64| x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs());
    let r = ks_2samp(
        &[0.0, 1.0, 2.0],
        &[0.5, 1.5, f64::INFINITY],
        KsOptions::default(),
    )
    .unwrap();
    let back: mlops_drift::stats::ks::KsResult =
        serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert!(close(back.statistic, r.statistic) && close(back.p_value.p, r.p_value.p));
    assert_eq!(
        (
            back.statistic_sign,
            back.method_used,
            back.n_reference,
            back.n_current
        ),
        (r.statistic_sign, r.method_used, r.n_reference, r.n_current)
    );
    let c = cramervonmises_2samp(&[1.0, 2.0, 3.0], &[7.0, 8.0, 9.0], CvmMethod::Auto).unwrap();
    let back: mlops_drift::stats::cvm::CvmResult =
        serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert!(close(back.statistic, c.statistic) && close(back.p_value.p, c.p_value.p));
    assert_eq!(back.method_used, c.method_used);
    let a = anderson_2samp(&[1.0, 2.0, 3.0], &[7.0, 8.0, 9.0]).unwrap();
    let back: mlops_drift::stats::anderson::AndersonResult =
        serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert!(close(back.statistic, a.statistic) && close(back.p_value.ln_p, a.p_value.ln_p));
    assert!(
        back.critical_values
            .iter()
            .zip(&a.critical_values)
            .all(|(x, y)| close(*x, *y))
    );
    assert_eq!(back.sample_sizes, a.sample_sizes);
}

#[test]
fn exact_p_underflow_still_gives_a_finite_ln_p() {
    // Complete separation of 3000 and 2500 values: SciPy's exact p underflows to 0.
    let a: Vec<f64> = (0..3000).map(f64::from).collect();
    let b: Vec<f64> = (0..2500).map(|i| 10_000.0 + f64::from(i)).collect();
    let r = ks_2samp(&a, &b, KsOptions::default()).unwrap();
    assert_eq!(r.method_used, KsMethod::Exact);
    assert_eq!(r.p_value.p, 0.0);
    // ln(2 / binom(5500, 2500)), from the log-gamma function.
    let ln_binom = (1..=2500)
        .map(|k| (f64::from(3000 + k) / f64::from(k)).ln())
        .sum::<f64>();
    let want = std::f64::consts::LN_2 - ln_binom;
    assert!(
        (r.p_value.ln_p - want).abs() < 1e-9 * want.abs(),
        "{} vs {want}",
        r.p_value.ln_p
    );
    // Nearly separated: ln p is finite, below ln(smallest double), and smaller for stronger drift.
    let mut b2 = b.clone();
    b2[..100].iter_mut().for_each(|v| *v = -1.0 - *v / 10_000.0);
    let r2 = ks_2samp(&a, &b2, KsOptions::default()).unwrap();
    assert!(r2.p_value.ln_p.is_finite() && r2.p_value.ln_p < -744.0);
    assert!(
        r2.p_value.ln_p > r.p_value.ln_p,
        "{:?} vs {:?}",
        r2,
        r.p_value
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

fn finite_sample(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            4 => -5.0_f64..5.0,
            2 => (-3_i32..4).prop_map(f64::from), // ties
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(f64::MIN_POSITIVE / 4.0), // subnormal
        ],
        1..max_len,
    )
}

fn any_alternative() -> impl Strategy<Value = Alternative> {
    prop_oneof![
        Just(Alternative::TwoSided),
        Just(Alternative::Less),
        Just(Alternative::Greater)
    ]
}

fn any_ks_method() -> impl Strategy<Value = KsMethod> {
    prop_oneof![
        Just(KsMethod::Auto),
        Just(KsMethod::Exact),
        Just(KsMethod::Asymptotic)
    ]
}

/// SciPy's one documented NaN: two single values, asymptotic two-sided (`kstwo` with n = 0).
fn ks_nan_expected(n1: usize, n2: usize, o: KsOptions) -> bool {
    n1 == 1 && n2 == 1 && o.alternative == Alternative::TwoSided && o.method == KsMethod::Asymptotic
}

fn assert_pvalue(p: mlops_drift::stats::PValue) {
    assert!((0.0..=1.0).contains(&p.p), "p = {}", p.p);
    assert!(p.ln_p <= 0.0, "ln p = {}", p.ln_p);
    if p.p > 1e-300 {
        assert!(
            (p.ln_p - p.p.ln()).abs() <= 1e-9 * p.p.ln().abs().max(1.0),
            "ln p {} vs ln({})",
            p.ln_p,
            p.p
        );
    } else {
        assert!(p.ln_p < -690.0, "p = {} but ln p = {}", p.p, p.ln_p);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn ks_p_is_a_probability_and_sorted_path_agrees(
        a in finite_sample(40), b in finite_sample(40),
        alternative in any_alternative(), method in any_ks_method(),
    ) {
        let o = KsOptions { alternative, method };
        let r = ks_2samp(&a, &b, o).unwrap();
        prop_assert!((0.0..=1.0).contains(&r.statistic) || r.statistic == 0.0);
        if ks_nan_expected(a.len(), b.len(), o) {
            prop_assert!(r.p_value.p.is_nan());
        } else {
            assert_pvalue(r.p_value);
        }
        prop_assert!(r.statistic_sign == 1 || r.statistic_sign == -1);
        prop_assert!(a.contains(&r.statistic_location) || b.contains(&r.statistic_location));
        let s = ks_2samp_sorted(&sorted(&a), &sorted(&b), o).unwrap();
        prop_assert_eq!(s.statistic.to_bits(), r.statistic.to_bits());
        prop_assert_eq!(s.p_value.p.to_bits(), r.p_value.p.to_bits());
    }

    #[test]
    fn ks_two_sided_is_symmetric_and_one_sided_mirror(
        a in finite_sample(40), b in finite_sample(40), method in any_ks_method(),
    ) {
        let two = KsOptions { alternative: Alternative::TwoSided, method };
        let ab = ks_2samp(&a, &b, two).unwrap();
        let ba = ks_2samp(&b, &a, two).unwrap();
        prop_assert_eq!(ab.statistic, ba.statistic);
        prop_assert!(ab.p_value.p == ba.p_value.p || (ab.p_value.p.is_nan() && ba.p_value.p.is_nan()));
        let less = ks_2samp(&a, &b, KsOptions { alternative: Alternative::Less, method }).unwrap();
        let greater = ks_2samp(&b, &a, KsOptions { alternative: Alternative::Greater, method }).unwrap();
        prop_assert_eq!(less.statistic.abs(), greater.statistic.abs());
        prop_assert_eq!(less.p_value.p, greater.p_value.p);
    }

    #[test]
    fn results_are_invariant_under_permutation(
        a in finite_sample(40), b in finite_sample(40), rot in 0_usize..40,
    ) {
        let mut a2 = a.clone();
        a2.reverse();
        let mut b2 = b.clone();
        let k = rot % b2.len();
        b2.rotate_left(k);
        let o = KsOptions::default();
        prop_assert_eq!(ks_2samp(&a, &b, o).unwrap(), ks_2samp(&a2, &b2, o).unwrap());
        let c1 = cramervonmises_2samp(&a, &b, CvmMethod::Asymptotic);
        let c2 = cramervonmises_2samp(&a2, &b2, CvmMethod::Asymptotic);
        prop_assert_eq!(c1, c2);
        prop_assert_eq!(anderson_2samp(&a, &b), anderson_2samp(&a2, &b2));
    }

    #[test]
    fn cvm_and_anderson_p_values_are_probabilities(
        a in finite_sample(16), b in finite_sample(16),
    ) {
        if a.len() >= 2 && b.len() >= 2 {
            let exact = cramervonmises_2samp(&a, &b, CvmMethod::Exact).unwrap();
            assert_pvalue(exact.p_value);
            let asym = cramervonmises_2samp(&a, &b, CvmMethod::Asymptotic).unwrap();
            assert_pvalue(asym.p_value);
            prop_assert_eq!(exact.statistic, asym.statistic);
            let s = cramervonmises_2samp_sorted(&sorted(&a), &sorted(&b), CvmMethod::Auto).unwrap();
            prop_assert_eq!(s, cramervonmises_2samp(&a, &b, CvmMethod::Auto).unwrap());
        }
        if let Ok(r) = anderson_2samp(&a, &b) {
            prop_assert!((0.001..=0.25).contains(&r.p_value.p), "p = {}", r.p_value.p);
            assert_pvalue(r.p_value);
        }
    }

    #[test]
    fn arbitrary_floats_never_panic(
        a in prop::collection::vec(any::<f64>(), 0..12),
        b in prop::collection::vec(any::<f64>(), 0..12),
        alternative in any_alternative(), method in any_ks_method(),
    ) {
        let o = KsOptions { alternative, method };
        let has_nan = a.iter().chain(&b).any(|v| v.is_nan());
        let r = ks_2samp(&a, &b, o);
        if a.is_empty() || b.is_empty() {
            prop_assert!(matches!(r, Err(DriftError::EmptySample { .. })), "{:?}", r);
        } else if has_nan {
            prop_assert!(matches!(r, Err(DriftError::NonFinite { .. })), "{:?}", r);
        } else {
            prop_assert!(r.is_ok());
        }
        let _ = ks_2samp_sorted(&a, &b, o);
        let _ = cramervonmises_2samp(&a, &b, CvmMethod::Auto);
        let _ = cramervonmises_2samp_sorted(&a, &b, CvmMethod::Exact);
        let _ = anderson_2samp(&a, &b);
        let _ = anderson_ksamp(&[&a, &b, &a]);
    }
}
