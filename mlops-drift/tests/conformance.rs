//! Every case of `tests/data/drift_cases.json` (the project's copy of the team's conformance
//! file) is computed from its inputs and compared with SciPy's / Evidently's value under the
//! README's tolerance. A case that cannot be computed fails the test; all failing ids are
//! reported at once.
#![cfg(feature = "testkit")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use mlops_drift::conformance::{agrees, parse_file, run_case};

fn check_file(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let file = parse_file(&text).unwrap();
    assert!(!file.cases.is_empty());
    let mut failures = Vec::new();
    for case in &file.cases {
        let expected = case
            .expected
            .as_ref()
            .expect("the project's copy keeps `expected`");
        match run_case(case) {
            Err(e) => failures.push(format!("{}: error: {e}", case.id)),
            Ok(got) => {
                for (key, want) in expected {
                    match got.get(key) {
                        None => failures.push(format!("{}: `{key}` not computed", case.id)),
                        Some(g) if !agrees(g, want) => {
                            failures.push(format!("{}: `{key}` got {g}, want {want}", case.id));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_drift_case_agrees() {
    check_file("drift_cases.json");
}

/// The methods without a team case, against SciPy 1.17.1 values produced by the committed
/// `tests/data/gen_extra_scipy_cases.py` (each case names its SciPy call).
#[test]
fn every_extra_scipy_case_agrees() {
    check_file("extra_scipy_cases.json");
}

/// More Evidently-compatible-mode cases (discrete numeric columns, zero filling, outliers, new
/// and vanished categories), produced by the committed `tests/data/gen_extra_evidently_cases.py`.
#[test]
fn every_extra_evidently_case_agrees() {
    check_file("extra_evidently_cases.json");
}
