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
    use mlops_drift::detect::{ChangeDetector, Detector, DetectorState};
    use proptest::prelude::*;

    fn all() -> Vec<Box<dyn ChangeDetector>> {
        Detector::every_default()
            .into_iter()
            .map(|d| Box::new(d) as Box<dyn ChangeDetector>)
            .collect()
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

mod restored_checkpoints {
    use mlops_drift::detect::{
        Adwin, ChangeDetector, Cusum, Ddm, Detector, Eddm, HddmA, HddmW, PageHinkley,
    };
    use serde_json::Value;

    /// Sets the `target`-th number of a checkpoint (depth first) to `replace(number)`;
    /// returns how many numbers there are.
    fn set_number(v: &mut Value, target: usize, seen: &mut usize, new: &Value) {
        match v {
            Value::Number(_) => {
                if *seen == target {
                    *v = new.clone();
                }
                *seen += 1;
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|x| set_number(x, target, seen, new)),
            Value::Object(fields) => fields
                .values_mut()
                .for_each(|x| set_number(x, target, seen, new)),
            _ => {}
        }
    }

    /// A checkpoint holding parameters that the detector's `new` refuses is refused too, with
    /// the parameter's name; the checkpoint as written loads.
    #[test]
    fn a_checkpoint_with_parameters_new_refuses_is_refused() {
        let cases = [
            (Detector::Adwin(Adwin::default()), "delta", Value::from(1.5)),
            (Detector::Adwin(Adwin::default()), "clock", Value::from(0)),
            (
                Detector::PageHinkley(PageHinkley::default()),
                "alpha",
                Value::from(-1.0),
            ),
            (
                Detector::Cusum(Cusum::default()),
                "threshold",
                Value::from(0.0),
            ),
            (
                Detector::Ddm(Ddm::default()),
                "warning_threshold",
                Value::from(5.0),
            ),
            (Detector::Eddm(Eddm::default()), "alpha", Value::from(0.5)),
            (
                Detector::HddmA(HddmA::default()),
                "drift_confidence",
                Value::from(2.0),
            ),
            (
                Detector::HddmW(HddmW::default()),
                "lambda_val",
                Value::from(1.5),
            ),
        ];
        for (detector, name, bad) in cases {
            let checkpoint = serde_json::to_value(&detector).unwrap();
            let back: Detector = serde_json::from_value(checkpoint.clone()).unwrap();
            assert_eq!(back, detector);
            let mut changed = checkpoint;
            *changed
                .pointer_mut(&format!("/params/{name}"))
                .unwrap_or_else(|| panic!("{} has no {name}", detector.name())) = bad;
            let err = serde_json::from_value::<Detector>(changed).unwrap_err();
            assert!(err.to_string().contains(name), "{}: {err}", detector.name());
        }
    }

    /// A checkpoint is data from outside: every count and sum in it may be anything JSON
    /// holds. A detector restored from one (one number changed at a time to an extreme) never
    /// panics, and its batch loop agrees with single updates.
    #[test]
    fn extreme_numbers_in_a_checkpoint_never_panic_and_batch_like_single_updates() {
        let stream: Vec<f64> = (0..2_000)
            .map(|i| match (i >= 200, i % 97) {
                // The first blocks hold nothing to ignore, so batch loops take their fast path
                // straight from the restored state.
                (true, 0) => f64::NAN,
                (true, 1) => 2.0,
                _ => f64::from(u8::from(i % 3 == 0 || (i > 1_000 && i % 2 == 0))),
            })
            .collect();
        let extremes = [
            Value::from(u64::MAX),
            Value::from(u64::MAX - 3),
            Value::from(0u64),
            Value::from(1e300),
            Value::from(-1e300),
            Value::from(-1.0),
            Value::from(0.5),
            // 2^53, and 2^52 - 1/2: counting on from it by ones rounds differently from
            // adding a whole block's count at once.
            Value::from(9_007_199_254_740_992.0),
            Value::from(4_503_599_627_370_495.5),
        ];
        let mut restored_count = 0;
        for mut warm in Detector::every_default() {
            warm.update_many(&stream[..500]);
            let checkpoint = serde_json::to_value(&warm).unwrap();
            let mut numbers = 0;
            set_number(
                &mut checkpoint.clone(),
                usize::MAX,
                &mut numbers,
                &Value::Null,
            );
            for target in 0..numbers {
                for new in &extremes {
                    let mut changed = checkpoint.clone();
                    set_number(&mut changed, target, &mut 0, new);
                    let Ok(restored) = serde_json::from_value::<Detector>(changed) else {
                        continue;
                    };
                    restored_count += 1;
                    let mut one = restored.clone();
                    let want: Vec<usize> = (0..stream.len())
                        .filter(|&i| {
                            one.update(stream[i]);
                            one.drift_detected()
                        })
                        .collect();
                    let mut many = restored;
                    assert_eq!(
                        many.update_many(&stream),
                        want,
                        "{} number {target}",
                        one.name()
                    );
                    // As JSON: a hostile state may hold NaN, which `==` never equals.
                    assert_eq!(
                        serde_json::to_string(&many).unwrap(),
                        serde_json::to_string(&one).unwrap(),
                        "{} number {target} set to {new}",
                        one.name()
                    );
                }
            }
        }
        assert!(
            restored_count > 200,
            "only {restored_count} checkpoints restored"
        );
    }
}
