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
