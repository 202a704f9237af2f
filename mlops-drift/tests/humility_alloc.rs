//! Evaluating a compiled humility policy allocates nothing: a counting global allocator watches
//! every trigger kind firing and not firing, every verdict, long category values, short rows,
//! and the counters.
//!
//! The allocator is the hostile-input suites' (`mlops-core/tests/support/hostile.rs`), which
//! counts each thread's allocations. Implementing `GlobalAlloc` is an unsafe trait impl: the
//! workspace denies (rather than forbids) `unsafe_code` so that this test can allow it locally;
//! library code stays free of `unsafe`.
#![allow(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use mlops_drift::humility::{
    Action, BandSide, Combine, FeatureKind, FeatureSchema, FeatureValue, HumilityPolicy, Trigger,
    Verdict,
};

#[path = "../../mlops-core/tests/support/hostile.rs"]
mod hostile;
use hostile::allocations;

/// The only test in this binary, so no other test thread allocates while it counts.
#[test]
fn evaluation_allocates_nothing() {
    let mut features: Vec<(String, FeatureKind)> = (0..16)
        .map(|i| (format!("x{i}"), FeatureKind::Numeric))
        .collect();
    features.extend((0..4).map(|i| (format!("c{i}"), FeatureKind::Categorical)));
    let schema = FeatureSchema::new(features).unwrap();
    let known: Vec<String> = (0..200).map(|i| format!("cat-{i}")).collect();
    for combine in [Combine::MostSevere, Combine::FirstMatch] {
        let policy = HumilityPolicy::new(combine)
            .with(
                "band",
                Trigger::UncertainScore {
                    low: 0.4,
                    high: 0.6,
                    fires: BandSide::Inside,
                },
                Action::Override { value: 0.0 },
            )
            .with(
                "range",
                Trigger::UncertainScore {
                    low: -1.0,
                    high: 2.0,
                    fires: BandSide::Outside,
                },
                Action::NoOp,
            )
            .with(
                "outlier",
                Trigger::OutlyingInput {
                    feature: "x3".into(),
                    low: -3.0,
                    high: 3.0,
                },
                Action::Reject,
            )
            .with(
                "unseen",
                Trigger::UnseenCategory {
                    feature: "c1".into(),
                    known: known.clone(),
                },
                Action::NoOp,
            )
            .with(
                "rare",
                Trigger::RareCategory {
                    feature: "c2".into(),
                    counts: [("a".to_owned(), 99), ("b".to_owned(), 1)].into(),
                    min_share: 0.05,
                },
                Action::Override { value: 1.0 },
            )
            .with(
                "sparse",
                Trigger::SparseBin {
                    feature: "x7".into(),
                    edges: vec![-1.0, 0.0, 1.0],
                    counts: vec![2, 100, 100, 2],
                    min_rows: 5,
                },
                Action::NoOp,
            )
            .with(
                "missing",
                Trigger::MissingFeature {
                    feature: "x15".into(),
                },
                Action::Reject,
            )
            .compile(&schema)
            .unwrap();
        let long = "L".repeat(10_000);
        let rows: Vec<Vec<FeatureValue<'_>>> = (0..64)
            .map(|i| {
                let mut row: Vec<FeatureValue<'_>> = (0..16)
                    .map(|j| FeatureValue::Number(f64::from(i * 16 + j) / 100.0 - 5.0))
                    .collect();
                if i % 7 == 0 {
                    row[15] = FeatureValue::Number(f64::NAN);
                }
                row.push(FeatureValue::Category("a"));
                row.push(FeatureValue::Category(if i % 3 == 0 {
                    &known[i as usize]
                } else if i % 3 == 1 {
                    "never"
                } else {
                    &long
                }));
                row.push(FeatureValue::Category(if i % 2 == 0 { "a" } else { "b" }));
                row.push(FeatureValue::Missing);
                row
            })
            .collect();
        let short = [FeatureValue::Number(0.0)];

        // Warm up: the first evaluation on a thread sets up its counter slot.
        black_box(policy.evaluate(0.5, &rows[0]));

        let before = allocations();
        let mut verdicts = [0_u64; 3];
        for round in 0..200 {
            for row in &rows {
                let score = f64::from(round % 30) / 10.0 - 0.5;
                for d in [
                    policy.evaluate(score, row),
                    policy.evaluate(f64::NAN, row),
                    policy.evaluate(score, &short),
                    policy.decide(score, row),
                ] {
                    let d = black_box(d);
                    verdicts[match d.verdict {
                        Verdict::Accept => 0,
                        Verdict::Override(_) => 1,
                        Verdict::Reject => 2,
                    }] += 1;
                    black_box(d.fired.iter().count());
                    black_box(d.apply(score).is_ok());
                }
            }
        }
        let during = allocations() - before;
        assert_eq!(during, 0, "{during} allocations while evaluating");
        assert!(verdicts.iter().all(|&n| n > 0), "{verdicts:?}");
        let counts = policy.counters();
        assert!(counts.rules.iter().all(|r| r.fired > 0), "{counts:?}");
    }

    // The counter can see allocations at all (so the zeros above mean something).
    let before = allocations();
    black_box(vec![1_u8; 16]);
    assert!(allocations() > before);
}
