//! River 0.26.1 conformance: every online change detector case of `stream_cases.json` must give
//! exactly River's drift (and warning) indices. All failing ids are reported at once.
#![cfg(feature = "testkit")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use mlops_drift::conformance::{agrees, parse_file, run_case};
use mlops_drift::detect::{ChangeDetector, Detector};

fn cases() -> mlops_drift::conformance::CaseFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stream_cases.json");
    parse_file(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_stream_case_reproduces_river_indices_exactly() {
    let file = cases();
    assert!(file.cases.len() >= 30, "case file unexpectedly small");
    let mut failures = Vec::new();
    for case in &file.cases {
        let want = case.expected.as_ref().expect("expected values");
        match run_case(case) {
            Err(e) => failures.push(format!("{}: error {e}", case.id)),
            Ok(got) => {
                for (key, w) in want {
                    match got.get(key) {
                        None => failures.push(format!("{}: missing `{key}`", case.id)),
                        Some(g) if !agrees(g, w) => {
                            failures.push(format!("{}: `{key}` got {g} want {w}", case.id));
                        }
                        Some(_) => {}
                    }
                }
                if got.len() != want.len() {
                    failures.push(format!("{}: keys {:?}", case.id, got.keys()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn runner_never_reads_expected() {
    let file = cases();
    for mut case in file.cases.into_iter().take(6) {
        let with = run_case(&case).unwrap();
        case.expected = None;
        assert_eq!(run_case(&case).unwrap(), with, "{}", case.id);
    }
}

#[test]
fn checkpoint_and_restore_mid_stream_gives_the_same_indices() {
    let file = cases();
    for case in &file.cases {
        let stream: Vec<f64> = case
            .stream
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mut whole = mlops_drift::conformance::detectors::detector_for(case).unwrap();
        let mut split = whole.clone();
        let half = stream.len() / 2;
        for &x in &stream[..half] {
            whole.update(x);
            split.update(x);
        }
        let json = serde_json::to_string(&split).unwrap();
        let mut restored: Detector = serde_json::from_str(&json).unwrap();
        for &x in &stream[half..] {
            assert_eq!(whole.update(x), restored.update(x), "{}", case.id);
        }
    }
}

#[test]
fn reset_equals_a_fresh_detector() {
    let file = cases();
    for case in file.cases.iter().step_by(3) {
        let stream: Vec<f64> = case
            .stream
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let fresh = mlops_drift::conformance::detectors::detector_for(case).unwrap();
        let mut used = fresh.clone();
        for &x in &stream {
            used.update(x);
        }
        used.reset();
        let mut fresh = fresh;
        for &x in &stream {
            assert_eq!(used.update(x), fresh.update(x), "{}", case.id);
        }
    }
}

mod arbitrary_input {
    use mlops_drift::detect::{
        Adwin, ChangeDetector, Cusum, Ddm, DetectorState, Eddm, HddmA, HddmW, PageHinkley,
    };
    use proptest::prelude::*;

    fn all() -> Vec<Box<dyn ChangeDetector>> {
        vec![
            Box::new(Adwin::default()),
            Box::new(PageHinkley::default()),
            Box::new(Cusum::default()),
            Box::new(Ddm::default()),
            Box::new(Eddm::default()),
            Box::new(HddmA::default()),
            Box::new(HddmW::default()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn no_input_panics_and_unusable_values_are_counted(
            stream in prop::collection::vec(
                prop_oneof![
                    3 => Just(0.0),
                    3 => Just(1.0),
                    2 => -1e300f64..1e300,
                    1 => Just(f64::NAN),
                    1 => Just(f64::INFINITY),
                    1 => Just(f64::NEG_INFINITY),
                ],
                0..400,
            )
        ) {
            // Values beyond MAX_DETECTOR_MAGNITUDE are out of range for the real-valued
            // detectors (issue 17): ignored and counted like non-finite ones.
            let unusable = stream
                .iter()
                .filter(|x| x.is_nan() || x.abs() > mlops_drift::detect::MAX_DETECTOR_MAGNITUDE)
                .count() as u64;
            let non_binary = stream.iter().filter(|&&x| x != 0.0 && x != 1.0).count() as u64;
            for mut d in all() {
                for &x in &stream {
                    let s = d.update(x);
                    prop_assert_eq!(s, d.state());
                    prop_assert_eq!(s == DetectorState::Drift, d.drift_detected());
                }
                let want = if matches!(d.name(), "adwin" | "page_hinkley" | "cusum") {
                    unusable
                } else {
                    non_binary
                };
                prop_assert_eq!(d.ignored(), want, "{}", d.name());
            }
        }
    }
}
