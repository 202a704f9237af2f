//! Humility rules: every trigger at its boundaries, the combination order, compile and load
//! errors for hostile rule files, the JSON and TOML wire formats (golden files), recommended
//! rules from a profile, counters across real threads and their evidence, and property tests
//! (outliers always fire, combination matches a plain model, round trips, no panic).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use mlops_core::chrono::DateTime;
use mlops_core::{Direction, ManualClock, Outcome};
use mlops_drift::humility::{
    Action, BandSide, CategoryRecommendation, Combine, CompiledPolicy, EvidenceThresholds,
    FeatureKind, FeatureSchema, FeatureValue, HumilityError, HumilityPolicy, MAX_CATEGORIES,
    MAX_POLICY_BYTES, MAX_RULES, MissingRecommendation, RecommendOptions, Rejected, Rule, RuleId,
    Trigger, Verdict,
};
use mlops_drift::profile::DatasetProfile;
use mlops_drift::table::Table;
use proptest::prelude::*;

use FeatureValue::{Category as C, Missing as M, Number as N};

fn schema() -> FeatureSchema {
    FeatureSchema::new([
        ("f0", FeatureKind::Numeric),
        ("f1", FeatureKind::Numeric),
        ("f2", FeatureKind::Numeric),
        ("c0", FeatureKind::Categorical),
        ("c1", FeatureKind::Categorical),
    ])
    .unwrap()
}

fn one(trigger: Trigger) -> CompiledPolicy {
    HumilityPolicy::default()
        .with("r", trigger, Action::Reject)
        .compile(&schema())
        .unwrap()
}

fn fires(p: &CompiledPolicy, score: f64, row: &[FeatureValue<'_>]) -> bool {
    p.decide(score, row).fired.contains(rid(0))
}

fn rid(i: usize) -> RuleId {
    RuleId::from_index(i).unwrap()
}

const ROW: [FeatureValue<'static>; 5] = [N(1.0), N(2.0), N(3.0), C("a"), C("x")];

#[test]
fn score_bands_are_inclusive_and_nan_always_fires() {
    let inside = one(Trigger::UncertainScore {
        low: 0.4,
        high: 0.6,
        fires: BandSide::Inside,
    });
    for (s, want) in [
        (0.4, true),
        (0.5, true),
        (0.6, true),
        (0.39, false),
        (0.61, false),
        (f64::NAN, true),
    ] {
        assert_eq!(fires(&inside, s, &ROW), want, "inside {s}");
    }
    let outside = one(Trigger::UncertainScore {
        low: 10.0,
        high: 20.0,
        fires: BandSide::Outside,
    });
    for (s, want) in [
        (10.0, false),
        (20.0, false),
        (9.9, true),
        (20.1, true),
        (f64::INFINITY, true),
        (f64::NAN, true),
    ] {
        assert_eq!(fires(&outside, s, &ROW), want, "outside {s}");
    }
}

#[test]
fn outlying_input_bounds() {
    let p = one(Trigger::OutlyingInput {
        feature: "f1".into(),
        low: -1.0,
        high: 1.0,
    });
    let row = |v| [N(0.0), v, N(0.0), C("a"), C("b")];
    for (v, want) in [
        (N(-1.0), false),
        (N(1.0), false),
        (N(0.0), false),
        (N(1.000_001), true),
        (N(-7.0), true),
        (N(f64::INFINITY), true),
        (N(f64::NEG_INFINITY), true),
        (N(f64::NAN), false), // missing: the missing rule's business
        (M, false),
        (C("1e9"), false), // wrong kind: counts as missing
    ] {
        assert_eq!(fires(&p, 0.5, &row(v)), want, "{v:?}");
    }
    // A row too short to hold the feature: absent, not outlying.
    assert!(!fires(&p, 0.5, &[N(100.0)]));
    // One-sided bounds.
    let p = one(Trigger::OutlyingInput {
        feature: "f0".into(),
        low: f64::NEG_INFINITY,
        high: 5.0,
    });
    assert!(!fires(&p, 0.0, &[N(-1e300)]));
    assert!(!fires(&p, 0.0, &[N(f64::NEG_INFINITY)]));
    assert!(fires(&p, 0.0, &[N(5.5)]));
}

#[test]
fn unseen_and_rare_categories() {
    let p = one(Trigger::UnseenCategory {
        feature: "c0".into(),
        known: vec!["a".into(), "b".into(), String::new()],
    });
    let row = |v| [N(0.0), N(0.0), N(0.0), v, C("z")];
    for (v, want) in [
        (C("a"), false),
        (C("b"), false),
        (C(""), false),
        (C("c"), true),
        (C("A"), true),
        (C("a "), true),
        (M, false),
        (N(1.0), false),
    ] {
        assert_eq!(fires(&p, 0.5, &row(v)), want, "{v:?}");
    }
    let counts: BTreeMap<String, u64> = [("common", 90), ("rare", 9), ("edge", 1), ("zero", 0)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    // Total 100: `edge` is exactly 1 %, `rare` 9 %.
    let p = one(Trigger::RareCategory {
        feature: "c0".into(),
        counts: counts.clone(),
        min_share: 0.01,
    });
    for (v, want) in [
        ("common", false),
        ("rare", false),
        ("edge", false),
        ("zero", true),
        ("never", true),
    ] {
        assert_eq!(fires(&p, 0.5, &row(C(v))), want, "{v}");
    }
    let p = one(Trigger::RareCategory {
        feature: "c0".into(),
        counts,
        min_share: 0.1,
    });
    assert!(fires(&p, 0.5, &row(C("rare"))));
    assert!(!fires(&p, 0.5, &row(C("common"))));
}

#[test]
fn sparse_bins_fire_only_in_thin_bins() {
    // Bins: (-inf, 0), [0, 1), [1, 2), [2, +inf)
    let p = one(Trigger::SparseBin {
        feature: "f2".into(),
        edges: vec![0.0, 1.0, 2.0],
        counts: vec![3, 50, 4, 60],
        min_rows: 5,
    });
    let row = |v| [N(0.0), N(0.0), v, C("a"), C("b")];
    for (v, want) in [
        (-0.5, true),
        (f64::NEG_INFINITY, true),
        (0.0, false),
        (0.99, false),
        (1.0, true),
        (1.99, true),
        (2.0, false),
        (f64::INFINITY, false),
    ] {
        assert_eq!(fires(&p, 0.5, &row(N(v))), want, "{v}");
    }
    assert!(!fires(&p, 0.5, &row(N(f64::NAN))));
    assert!(!fires(&p, 0.5, &row(M)));
}

#[test]
fn missing_feature_covers_absent_missing_nan_and_wrong_kind() {
    let num = one(Trigger::MissingFeature {
        feature: "f2".into(),
    });
    let cat = one(Trigger::MissingFeature {
        feature: "c1".into(),
    });
    assert!(!fires(&num, 0.5, &ROW));
    assert!(!fires(&cat, 0.5, &ROW));
    for v in [M, N(f64::NAN), C("3.0")] {
        assert!(
            fires(&num, 0.5, &[N(0.0), N(0.0), v, C("a"), C("b")]),
            "{v:?}"
        );
    }
    assert!(!fires(&num, 0.5, &[N(0.0), N(0.0), N(f64::INFINITY)]));
    for v in [M, N(1.0), N(f64::NAN)] {
        assert!(
            fires(&cat, 0.5, &[N(0.0), N(0.0), N(0.0), C("a"), v]),
            "{v:?}"
        );
    }
    // Absent: the row stops before the feature.
    assert!(fires(&num, 0.5, &[N(0.0), N(0.0)]));
    assert!(fires(&cat, 0.5, &[]));
    // Longer rows: extra values are ignored.
    let long = [N(0.0), N(0.0), N(0.0), C("a"), C("b"), M, M];
    assert!(!fires(&num, 0.5, &long) && !fires(&cat, 0.5, &long));
}

/// Three rules that all fire on `ROW` with score 0.5: no-op, override 7, override 9, reject.
fn layered(combine: Combine, order: &[usize]) -> CompiledPolicy {
    let band = || Trigger::UncertainScore {
        low: 0.0,
        high: 1.0,
        fires: BandSide::Inside,
    };
    let rules = [
        Rule::new("log", band(), Action::NoOp),
        Rule::new("seven", band(), Action::Override { value: 7.0 }),
        Rule::new("nine", band(), Action::Override { value: 9.0 }),
        Rule::new("reject", band(), Action::Reject),
    ];
    let mut p = HumilityPolicy::new(combine);
    for &i in order {
        p = p.rule(rules[i].clone());
    }
    p.compile(&schema()).unwrap()
}

fn decided_by(p: &CompiledPolicy, score: f64) -> Option<&str> {
    p.decide(score, &ROW).rule.and_then(|r| p.rule_name(r))
}

#[test]
fn most_severe_wins_and_the_earlier_rule_breaks_ties() {
    let p = layered(Combine::MostSevere, &[0, 1, 2, 3]);
    let d = p.decide(0.5, &ROW);
    assert_eq!(d.verdict, Verdict::Reject);
    assert_eq!(decided_by(&p, 0.5), Some("reject"));
    assert_eq!(d.fired.len(), 4);
    let p = layered(Combine::MostSevere, &[0, 2, 1]);
    assert_eq!(p.decide(0.5, &ROW).verdict, Verdict::Override(9.0));
    let p = layered(Combine::MostSevere, &[0, 1, 2]);
    assert_eq!(p.decide(0.5, &ROW).verdict, Verdict::Override(7.0));
    // Only no-op fired: accept, no deciding rule, but the fired set says so.
    let p = layered(Combine::MostSevere, &[0]);
    let d = p.decide(0.5, &ROW);
    assert_eq!(
        (d.verdict, d.rule, d.fired.len()),
        (Verdict::Accept, None, 1)
    );
    // Nothing fired.
    let d = p.decide(2.0, &ROW);
    assert_eq!(
        (d.verdict, d.rule, d.fired.is_empty()),
        (Verdict::Accept, None, true)
    );
}

#[test]
fn first_match_takes_the_first_acting_rule() {
    let p = layered(Combine::FirstMatch, &[0, 1, 3, 2]);
    assert_eq!(p.decide(0.5, &ROW).verdict, Verdict::Override(7.0));
    assert_eq!(decided_by(&p, 0.5), Some("seven"));
    let p = layered(Combine::FirstMatch, &[0, 3, 1]);
    assert_eq!(p.decide(0.5, &ROW).verdict, Verdict::Reject);
    // A leading no-op does not stop the chain, and every rule is still reported.
    let d = p.decide(0.5, &ROW);
    assert_eq!(
        d.fired.iter().collect::<Vec<_>>(),
        vec![rid(0), rid(1), rid(2)]
    );
}

#[test]
fn apply_serves_overrides_and_types_rejections() {
    let p = layered(Combine::MostSevere, &[0, 1]);
    assert_eq!(p.decide(0.5, &ROW).apply(0.5), Ok(7.0));
    assert_eq!(p.decide(3.0, &ROW).apply(3.0), Ok(3.0));
    let p = layered(Combine::MostSevere, &[3, 1]);
    let err = p.decide(0.5, &ROW).apply(0.5).unwrap_err();
    assert_eq!(err, Rejected { rule: rid(0) });
    assert_eq!(p.rule_name(err.rule), Some("reject"));
    assert_eq!(
        err.to_string(),
        "the prediction was rejected by humility rule #0"
    );
    assert_eq!(p.rule_id("seven"), Some(rid(1)));
    assert_eq!(p.rule_id("nope"), None);
}

#[test]
fn compile_resolves_features_and_kinds() {
    let err = HumilityPolicy::default()
        .with(
            "r",
            Trigger::MissingFeature {
                feature: "ghost".into(),
            },
            Action::NoOp,
        )
        .compile(&schema())
        .unwrap_err();
    assert!(
        matches!(&err, HumilityError::UnknownFeature { rule, feature } if rule == "r" && feature == "ghost"),
        "{err}"
    );
    let err = HumilityPolicy::default()
        .with(
            "bounds-on-category",
            Trigger::OutlyingInput {
                feature: "c0".into(),
                low: 0.0,
                high: 1.0,
            },
            Action::NoOp,
        )
        .compile(&schema())
        .unwrap_err();
    assert!(matches!(
        err,
        HumilityError::FeatureKind {
            expected: FeatureKind::Numeric,
            found: FeatureKind::Categorical,
            ..
        }
    ));
    let err = HumilityPolicy::default()
        .with(
            "categories-on-number",
            Trigger::UnseenCategory {
                feature: "f0".into(),
                known: vec![],
            },
            Action::NoOp,
        )
        .compile(&schema())
        .unwrap_err();
    assert!(matches!(
        err,
        HumilityError::FeatureKind {
            expected: FeatureKind::Categorical,
            ..
        }
    ));
}

fn invalid(policy: HumilityPolicy) -> HumilityError {
    let err = policy.validate().unwrap_err();
    assert_eq!(policy.compile(&schema()).unwrap_err(), err);
    err
}

fn with(trigger: Trigger) -> HumilityPolicy {
    HumilityPolicy::default().with("r", trigger, Action::NoOp)
}

#[test]
fn malformed_rules_are_typed_errors() {
    let bad_rule = |p: HumilityPolicy, needle: &str| {
        let err = invalid(p);
        assert!(
            matches!(&err, HumilityError::InvalidRule { reason, .. } if reason.contains(needle)),
            "{err} should mention {needle}"
        );
    };
    let band = |low, high| Trigger::UncertainScore {
        low,
        high,
        fires: BandSide::Inside,
    };
    bad_rule(with(band(f64::NAN, 1.0)), "NaN");
    bad_rule(with(band(0.7, 0.3)), "inverted");
    bad_rule(
        with(Trigger::OutlyingInput {
            feature: "f0".into(),
            low: 0.0,
            high: f64::NAN,
        }),
        "NaN",
    );
    let sparse = |edges: Vec<f64>, counts: Vec<u64>| Trigger::SparseBin {
        feature: "f0".into(),
        edges,
        counts,
        min_rows: 1,
    };
    bad_rule(with(sparse(vec![1.0, 1.0], vec![1, 1, 1])), "increasing");
    bad_rule(with(sparse(vec![2.0, 1.0], vec![1, 1, 1])), "increasing");
    bad_rule(with(sparse(vec![f64::INFINITY], vec![1, 1])), "finite");
    bad_rule(with(sparse(vec![1.0], vec![1])), "counts");
    bad_rule(with(sparse(vec![0.0; 5_000], vec![0; 5_001])), "limit");
    let rare = |counts: BTreeMap<String, u64>, min_share| Trigger::RareCategory {
        feature: "c0".into(),
        counts,
        min_share,
    };
    bad_rule(with(rare(BTreeMap::new(), 1.5)), "min_share");
    bad_rule(with(rare(BTreeMap::new(), f64::NAN)), "min_share");
    bad_rule(
        with(rare(
            [("a".to_owned(), u64::MAX), ("b".to_owned(), 1)].into(),
            0.0,
        )),
        "overflow",
    );
    bad_rule(
        with(Trigger::UnseenCategory {
            feature: "c0".into(),
            known: vec!["a".into(), "a".into()],
        }),
        "twice",
    );
    bad_rule(
        with(Trigger::UnseenCategory {
            feature: "c0".into(),
            known: vec!["x".repeat(5_000)],
        }),
        "bytes",
    );
    bad_rule(
        with(Trigger::UnseenCategory {
            feature: "c0".into(),
            known: (0..=MAX_CATEGORIES).map(|i| i.to_string()).collect(),
        }),
        "categories",
    );
    bad_rule(
        with(Trigger::MissingFeature {
            feature: String::new(),
        }),
        "feature name",
    );
    bad_rule(
        HumilityPolicy::default().with(
            "o",
            Trigger::MissingFeature {
                feature: "f0".into(),
            },
            Action::Override { value: f64::NAN },
        ),
        "finite",
    );
    for name in ["", "   ", "tab\there", &"n".repeat(513)] {
        bad_rule(
            HumilityPolicy::default().with(
                name,
                Trigger::MissingFeature {
                    feature: "f0".into(),
                },
                Action::NoOp,
            ),
            "rule name",
        );
    }
    let twice = HumilityPolicy::default()
        .with(
            "r",
            Trigger::MissingFeature {
                feature: "f0".into(),
            },
            Action::NoOp,
        )
        .with(
            "r",
            Trigger::MissingFeature {
                feature: "f1".into(),
            },
            Action::NoOp,
        );
    assert_eq!(
        invalid(twice),
        HumilityError::DuplicateRule { name: "r".into() }
    );
    let mut many = HumilityPolicy::default();
    for i in 0..=MAX_RULES {
        many = many.with(
            format!("r{i}"),
            Trigger::MissingFeature {
                feature: "f0".into(),
            },
            Action::NoOp,
        );
    }
    assert!(matches!(
        invalid(many),
        HumilityError::Limit { limit: MAX_RULES, found, .. } if found == MAX_RULES + 1
    ));
    let newer = HumilityPolicy {
        format_version: 99,
        ..HumilityPolicy::default()
    };
    assert!(matches!(
        invalid(newer),
        HumilityError::FormatVersion { found: 99, .. }
    ));
}

#[test]
fn a_policy_of_max_rules_compiles_and_reports_every_fired_rule() {
    let mut p = HumilityPolicy::new(Combine::FirstMatch);
    for i in 0..MAX_RULES {
        let action = if i == MAX_RULES - 1 {
            Action::Reject
        } else {
            Action::NoOp
        };
        p = p.with(
            format!("r{i}"),
            Trigger::MissingFeature {
                feature: "f0".into(),
            },
            action,
        );
    }
    let c = p.compile(&schema()).unwrap();
    let d = c.evaluate(0.5, &[M]);
    assert_eq!(d.fired.len(), MAX_RULES);
    assert_eq!(d.rule, Some(rid(255)));
    assert_eq!(d.verdict, Verdict::Reject);
    assert_eq!(c.counters().rules[255].decided, 1);
    assert_eq!(c.counters().rejected, 1);
}

const GOLDEN_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/humility_policy.json"
);
const GOLDEN_TOML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/humility_policy.toml"
);

/// One rule of every trigger and action, one-sided bounds included.
fn every_kind() -> HumilityPolicy {
    HumilityPolicy::new(Combine::FirstMatch)
        .with(
            "uncertain",
            Trigger::UncertainScore {
                low: 0.45,
                high: 0.55,
                fires: BandSide::Inside,
            },
            Action::Override { value: 0.0 },
        )
        .with(
            "off-range-score",
            Trigger::UncertainScore {
                low: -3.5,
                high: 120.25,
                fires: BandSide::Outside,
            },
            Action::NoOp,
        )
        .with(
            "age-outlier",
            Trigger::OutlyingInput {
                feature: "f0".into(),
                low: 18.0,
                high: f64::INFINITY,
            },
            Action::Reject,
        )
        .with(
            "unseen-plan",
            Trigger::UnseenCategory {
                feature: "c0".into(),
                known: vec!["basic".into(), "pro".into()],
            },
            Action::NoOp,
        )
        .with(
            "rare-region",
            Trigger::RareCategory {
                feature: "c1".into(),
                counts: [
                    ("eu".to_owned(), 900),
                    ("us".to_owned(), 95),
                    ("nz".to_owned(), 5),
                ]
                .into(),
                min_share: 0.01,
            },
            Action::Override { value: 0.125 },
        )
        .with(
            "thin-income",
            Trigger::SparseBin {
                feature: "f1".into(),
                edges: vec![10.0, 20.5, 40.0],
                counts: vec![120, 3, 80, 0],
                min_rows: 10,
            },
            Action::NoOp,
        )
        .with(
            "missing-f2",
            Trigger::MissingFeature {
                feature: "f2".into(),
            },
            Action::Reject,
        )
}

/// The rule file is a wire format (it is stored with the model version): pinned by golden
/// files. Regenerate with `UPDATE_GOLDEN=1 cargo test -p mlops-drift --test humility` after an
/// intended change, and raise `HUMILITY_FORMAT_VERSION` when old files no longer read.
#[test]
fn rule_files_match_the_golden_files() {
    let p = every_kind();
    let json = p.to_json().unwrap();
    let toml = p.to_toml().unwrap();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN_JSON, &json).unwrap();
        std::fs::write(GOLDEN_TOML, &toml).unwrap();
    }
    let golden_json = std::fs::read_to_string(GOLDEN_JSON).unwrap();
    let golden_toml = std::fs::read_to_string(GOLDEN_TOML).unwrap();
    assert_eq!(json.trim_end(), golden_json.trim_end());
    assert_eq!(toml.trim_end(), golden_toml.trim_end());
    assert_eq!(HumilityPolicy::from_json(&golden_json).unwrap(), p);
    assert_eq!(HumilityPolicy::from_toml(&golden_toml).unwrap(), p);
    // The golden policy compiles against the test schema and decides like the original.
    let a = p.compile(&schema()).unwrap();
    let b = HumilityPolicy::from_toml(&golden_toml)
        .unwrap()
        .compile(&schema())
        .unwrap();
    for score in [0.5, 0.9, 200.0] {
        for row in [
            ROW,
            [N(10.0), N(15.0), M, C("gold"), C("nz")],
            [N(30.0), N(25.0), N(1.0), C("pro"), C("eu")],
        ] {
            assert_eq!(a.decide(score, &row), b.decide(score, &row));
        }
    }
}

#[test]
fn hostile_rule_files_are_typed_errors() {
    let malformed = |r: Result<HumilityPolicy, HumilityError>, format: &str| {
        let err = r.unwrap_err();
        assert!(
            matches!(&err, HumilityError::Malformed { format: f, .. } if *f == format),
            "{err}"
        );
    };
    malformed(HumilityPolicy::from_json(""), "json");
    malformed(HumilityPolicy::from_json("{"), "json");
    malformed(HumilityPolicy::from_json("[]"), "json");
    malformed(
        HumilityPolicy::from_json(r#"{"format_version":1,"rules":[],"extra":1}"#),
        "json",
    );
    malformed(
        HumilityPolicy::from_json(
            r#"{"format_version":1,"rules":[{"name":"r","trigger":{"kind":"telepathy"},"action":{"kind":"reject"}}]}"#,
        ),
        "json",
    );
    malformed(
        HumilityPolicy::from_json(
            r#"{"format_version":1,"rules":[{"name":"r","trigger":{"kind":"missing_feature","feature":"f0","typo":1},"action":{"kind":"reject"}}]}"#,
        ),
        "json",
    );
    malformed(
        HumilityPolicy::from_json(
            r#"{"format_version":1,"rules":[{"name":"r","trigger":{"kind":"uncertain_score","low":"banana","high":1},"action":{"kind":"no_op"}}]}"#,
        ),
        "json",
    );
    malformed(HumilityPolicy::from_json(&"[".repeat(100_000)), "json");
    malformed(HumilityPolicy::from_toml("rules = ["), "toml");
    malformed(
        HumilityPolicy::from_toml("format_version = -1\nrules = []"),
        "toml",
    );
    malformed(
        HumilityPolicy::from_toml(&format!("x = {}{}", "[".repeat(50_000), "]".repeat(50_000))),
        "toml",
    );
    malformed(
        HumilityPolicy::from_toml(&format!(
            "x = {}1{}",
            "{a=".repeat(20_000),
            "}".repeat(20_000)
        )),
        "toml",
    );
    // NaN bounds and inverted bands are refused after parsing, with the rule named.
    let nan = r#"{"format_version":1,"rules":[{"name":"band","trigger":{"kind":"uncertain_score","low":"nan","high":1},"action":{"kind":"no_op"}}]}"#;
    assert!(matches!(
        HumilityPolicy::from_json(nan).unwrap_err(),
        HumilityError::InvalidRule { rule, .. } if rule == "band"
    ));
    let inverted = "format_version = 1\n[[rules]]\nname = \"band\"\ntrigger = { kind = \"uncertain_score\", low = 0.9, high = 0.1 }\naction = { kind = \"reject\" }\n";
    assert!(matches!(
        HumilityPolicy::from_toml(inverted).unwrap_err(),
        HumilityError::InvalidRule { .. }
    ));
    let nan_toml = "format_version = 1\n[[rules]]\nname = \"o\"\ntrigger = { kind = \"outlying_input\", feature = \"f0\", low = nan, high = 1.0 }\naction = { kind = \"reject\" }\n";
    assert!(matches!(
        HumilityPolicy::from_toml(nan_toml).unwrap_err(),
        HumilityError::InvalidRule { .. }
    ));
    // Natively written TOML infinities read as one-sided bounds.
    let inf_toml = "format_version = 1\n[[rules]]\nname = \"o\"\ntrigger = { kind = \"outlying_input\", feature = \"f0\", low = -inf, high = 1.0 }\naction = { kind = \"reject\" }\n";
    let p = HumilityPolicy::from_toml(inf_toml).unwrap();
    assert!(matches!(
        p.rules[0].trigger,
        Trigger::OutlyingInput { low, .. } if low == f64::NEG_INFINITY
    ));
    // A newer format is refused as such.
    assert!(matches!(
        HumilityPolicy::from_json(r#"{"format_version":2,"rules":[]}"#).unwrap_err(),
        HumilityError::FormatVersion {
            found: 2,
            supported: 1
        }
    ));
    // Huge inputs are refused before parsing.
    let huge = " ".repeat(MAX_POLICY_BYTES + 1);
    for r in [
        HumilityPolicy::from_json(&huge),
        HumilityPolicy::from_toml(&huge),
    ] {
        assert!(matches!(
            r.unwrap_err(),
            HumilityError::Limit {
                limit: MAX_POLICY_BYTES,
                ..
            }
        ));
    }
    // A long list just under the byte limit but above the category limit: typed.
    let cats: Vec<String> = (0..=MAX_CATEGORIES).map(|i| format!("\"{i}\"")).collect();
    let big = format!(
        r#"{{"format_version":1,"rules":[{{"name":"u","trigger":{{"kind":"unseen_category","feature":"c0","known":[{}]}},"action":{{"kind":"no_op"}}}}]}}"#,
        cats.join(",")
    );
    assert!(big.len() < MAX_POLICY_BYTES);
    assert!(matches!(
        HumilityPolicy::from_json(&big).unwrap_err(),
        HumilityError::InvalidRule { .. }
    ));
}

#[test]
fn schema_from_a_profile_and_a_feature_list() {
    let ages = [30.0, 40.0, 50.0];
    let plans = ["a", "b", "a"];
    let profile = DatasetProfile::fit(
        &Table::new()
            .with_numeric("age", &ages)
            .unwrap()
            .with_categorical("plan", &plans)
            .unwrap(),
    );
    let s = FeatureSchema::from_profile(&profile).unwrap();
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        vec![
            ("age", FeatureKind::Numeric),
            ("plan", FeatureKind::Categorical)
        ]
    );
    let s = FeatureSchema::from_profile_features(&profile, &["plan", "age"]).unwrap();
    assert_eq!(s.index_of("age"), Some(1));
    assert_eq!(s.feature(0), Some(("plan", FeatureKind::Categorical)));
    assert!(matches!(
        FeatureSchema::from_profile_features(&profile, &["ghost"]).unwrap_err(),
        HumilityError::InvalidSchema { .. }
    ));
    assert!(FeatureSchema::new([("", FeatureKind::Numeric)]).is_err());
    assert!(FeatureSchema::new([("x".repeat(300), FeatureKind::Numeric)]).is_err());
    assert!(matches!(
        FeatureSchema::new((0..=65_536).map(|i| (i.to_string(), FeatureKind::Numeric)))
            .unwrap_err(),
        HumilityError::Limit { .. }
    ));
}

fn training_profile(rows: usize) -> DatasetProfile {
    let age: Vec<f64> = (0..rows).map(|i| (i % 1_000) as f64 / 10.0).collect();
    let income: Vec<f64> = (0..rows)
        .map(|i| if i % 10 == 0 { f64::NAN } else { i as f64 })
        .collect();
    let plan: Vec<&str> = (0..rows)
        .map(|i| match i % 100 {
            0 => "gold",
            1..=30 => "pro",
            _ => "basic",
        })
        .collect();
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
fn recommended_rules_follow_the_profile() {
    let profile = training_profile(10_000);
    let p = HumilityPolicy::recommended(&profile, &RecommendOptions::default()).unwrap();
    let names: Vec<&str> = p.rules.iter().map(|r| r.name.as_str()).collect();
    // income had missing values in training, so no missing rule for it; 10 000 rows in 10
    // bins leave no bin under 30 rows.
    assert_eq!(
        names,
        [
            "missing:age",
            "outlier:age",
            "outlier:income",
            "missing:plan",
            "unseen:plan"
        ]
    );
    assert!(p.rules.iter().all(|r| r.action == Action::NoOp));
    let age = profile.get("age").unwrap().as_numeric().unwrap();
    assert_eq!(
        p.rules[1].trigger,
        Trigger::OutlyingInput {
            feature: "age".into(),
            low: age.quantile(0.005),
            high: age.quantile(0.995),
        }
    );
    assert_eq!(
        p.rules[4].trigger,
        Trigger::UnseenCategory {
            feature: "plan".into(),
            known: vec!["basic".into(), "gold".into(), "pro".into()],
        }
    );
    let c = p
        .compile(&FeatureSchema::from_profile(&profile).unwrap())
        .unwrap();
    let d = c.evaluate(0.5, &[N(150.0), N(5_000.0), C("platinum")]);
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(
        d.fired
            .iter()
            .filter_map(|r| c.rule_name(r))
            .collect::<Vec<_>>(),
        ["outlier:age", "unseen:plan"]
    );

    // Options: quantiles, rare categories, every missing rule, actions, sparse bins.
    let options = RecommendOptions {
        lower_quantile: 0.0,
        upper_quantile: 1.0,
        outlier_action: Action::Reject,
        categories: CategoryRecommendation::Rare { min_share: 0.05 },
        category_action: Action::Override { value: 0.0 },
        min_bin_rows: Some(1_000_000),
        missing: MissingRecommendation::Every,
        ..RecommendOptions::default()
    };
    let p = HumilityPolicy::recommended(&profile, &options).unwrap();
    let names: Vec<&str> = p.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "missing:age",
            "outlier:age",
            "sparse_bin:age",
            "missing:income",
            "outlier:income",
            "sparse_bin:income",
            "missing:plan",
            "rare:plan"
        ]
    );
    let c = p
        .compile(&FeatureSchema::from_profile(&profile).unwrap())
        .unwrap();
    // Every bin is sparse at a million rows, but sparse-bin rules are no-ops.
    let d = c.decide(0.5, &[N(99.9), N(5.0), C("pro")]);
    assert_eq!(d.verdict, Verdict::Accept);
    assert_eq!(d.fired.len(), 2);
    // gold is 1 % of the reference: rare at 5 %.
    assert_eq!(
        c.decide(0.5, &[N(50.0), N(5.0), C("gold")]).verdict,
        Verdict::Override(0.0)
    );
    assert_eq!(
        c.decide(0.5, &[N(100.0), N(5.0), C("pro")]).verdict,
        Verdict::Reject
    );

    // A small reference gets sparse-bin rules with the default threshold.
    let small = training_profile(200);
    let p = HumilityPolicy::recommended(&small, &RecommendOptions::default()).unwrap();
    assert!(p.rules.iter().any(|r| r.name == "sparse_bin:age"));

    let bad = RecommendOptions {
        lower_quantile: 0.9,
        upper_quantile: 0.1,
        ..RecommendOptions::default()
    };
    assert!(matches!(
        HumilityPolicy::recommended(&profile, &bad).unwrap_err(),
        HumilityError::InvalidParameter { .. }
    ));
}

#[test]
fn recommended_refuses_more_than_max_rules() {
    let cols: Vec<Vec<f64>> = (0..100).map(|i| vec![f64::from(i), 1.0, 2.0]).collect();
    let mut t = Table::new();
    for (i, c) in cols.iter().enumerate() {
        t = t.with_numeric(format!("x{i}"), c).unwrap();
    }
    let profile = DatasetProfile::fit(&t);
    let err = HumilityPolicy::recommended(&profile, &RecommendOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            HumilityError::Limit {
                limit: MAX_RULES,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn derivations_from_a_holdout_and_a_profile() {
    let scores: Vec<f64> = (0..=100)
        .map(f64::from)
        .chain([f64::NAN, f64::INFINITY])
        .collect();
    let t = Trigger::uncertain_from_holdout(&scores, 0.05, 0.95, BandSide::Outside).unwrap();
    assert_eq!(
        t,
        Trigger::UncertainScore {
            low: 5.0,
            high: 95.0,
            fires: BandSide::Outside
        }
    );
    assert!(matches!(
        Trigger::uncertain_from_holdout(&[f64::NAN], 0.1, 0.9, BandSide::Inside).unwrap_err(),
        HumilityError::Derive { .. }
    ));
    assert!(matches!(
        Trigger::uncertain_from_holdout(&scores, -0.1, 0.9, BandSide::Inside).unwrap_err(),
        HumilityError::InvalidParameter {
            name: "lower_quantile",
            ..
        }
    ));
    let profile = training_profile(1_000);
    assert!(matches!(
        Trigger::outlier_from_profile(&profile, "plan", 0.0, 1.0).unwrap_err(),
        HumilityError::Derive { .. }
    ));
    assert!(matches!(
        Trigger::unseen_from_profile(&profile, "age").unwrap_err(),
        HumilityError::Derive { .. }
    ));
    assert!(matches!(
        Trigger::sparse_bins_from_profile(&profile, "ghost", 3).unwrap_err(),
        HumilityError::Derive { .. }
    ));
    assert!(Trigger::rare_from_profile(&profile, "plan", 2.0).is_err());
    let Trigger::SparseBin { edges, counts, .. } =
        Trigger::sparse_bins_from_profile(&profile, "income", 3).unwrap()
    else {
        panic!()
    };
    let bins = profile
        .get("income")
        .unwrap()
        .as_numeric()
        .unwrap()
        .psi_bins();
    assert_eq!(
        (edges.as_slice(), counts.as_slice()),
        (bins.edges(), bins.reference_counts())
    );
}

#[test]
fn counters_are_exact_across_threads_and_become_evidence() {
    let p = HumilityPolicy::new(Combine::MostSevere)
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
            "big",
            Trigger::OutlyingInput {
                feature: "f0".into(),
                low: 0.0,
                high: 10.0,
            },
            Action::Reject,
        )
        .with(
            "missing",
            Trigger::MissingFeature {
                feature: "c0".into(),
            },
            Action::NoOp,
        )
        .compile(&schema())
        .unwrap();
    assert!(p.counters().rejected_share().is_nan());
    let threads = 4;
    let per = 10_000_u64;
    std::thread::scope(|s| {
        for t in 0..threads {
            let p = &p;
            s.spawn(move || {
                for i in 0..per {
                    // i % 10 == 0: reject (and band when i % 20 == 0); i % 10 == 5: band only.
                    let score = if i % 5 == 0 && i % 20 != 10 { 0.5 } else { 0.9 };
                    let x = if i % 10 == 0 { 50.0 } else { 5.0 };
                    let c = if t == 0 { M } else { C("a") };
                    p.evaluate(score, &[N(x), N(0.0), N(0.0), c]);
                }
            });
        }
    });
    let n = threads * per;
    let snap = p.counters();
    let reject = n / 10;
    // score 0.5 when i % 5 == 0 except i % 20 == 10: 3 in 20.
    let band = n * 3 / 20;
    let band_decided = band - n / 20; // i % 20 == 0 rows are rejected
    assert_eq!(snap.evaluations, n);
    assert_eq!(snap.rejected, reject);
    assert_eq!(snap.overridden, band_decided);
    assert_eq!(snap.accepted, n - reject - band_decided);
    assert_eq!(snap.rule("band").unwrap().fired, band);
    assert_eq!(snap.rule("band").unwrap().decided, band_decided);
    assert_eq!(snap.rule("big").unwrap().fired, reject);
    assert_eq!(snap.rule("missing").unwrap().fired, per);
    assert_eq!(snap.rule("missing").unwrap().decided, 0);
    // decide() is a what-if: not counted.
    assert_eq!(p.decide(0.5, &ROW).verdict, Verdict::Override(0.0));
    assert_eq!(p.counters(), snap);

    let clock = ManualClock::new(DateTime::UNIX_EPOCH);
    let version = "scorer@v3".parse().unwrap();
    let ev = snap
        .to_evidence(&version, &EvidenceThresholds::default(), &clock)
        .unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].check.as_str(), "humility.rejected_share");
    assert!((ev[0].value - 0.1).abs() < 1e-12);
    assert_eq!(ev[0].direction, Direction::AtMost);
    assert_eq!(ev[0].outcome, Outcome::Fail); // 10 % > 1 %
    assert_eq!(ev[1].check.as_str(), "humility.overridden_share");
    assert!((ev[1].value - 0.1).abs() < 1e-12);
    assert_eq!(ev[0].details["fired.missing"], per as f64);
    assert!(ev.iter().all(|e| e.is_consistent()));
    let lenient = EvidenceThresholds {
        max_rejected_share: 0.2,
        max_overridden_share: 0.2,
    };
    assert!(
        snap.to_evidence(&version, &lenient, &clock)
            .unwrap()
            .iter()
            .all(|e| e.passed())
    );
    // No evaluation: NaN shares fail closed.
    let fresh = every_kind().compile(&schema()).unwrap().counters();
    assert!(
        fresh
            .to_evidence(&version, &lenient, &clock)
            .unwrap()
            .iter()
            .all(|e| !e.passed())
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

fn arb_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::NoOp),
        Just(Action::Reject),
        (-10.0..10.0_f64).prop_map(|value| Action::Override { value }),
    ]
}

fn arb_bound() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -5.0..5.0_f64,
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

fn arb_bounds() -> impl Strategy<Value = (f64, f64)> {
    (arb_bound(), arb_bound()).prop_map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
}

const CATS: [&str; 6] = ["a", "b", "c", "d", "é", ""];

fn arb_trigger() -> impl Strategy<Value = Trigger> {
    let num = prop::sample::select(vec!["f0", "f1", "f2"]);
    let cat = prop::sample::select(vec!["c0", "c1"]);
    let feature = prop::sample::select(vec!["f0", "f1", "f2", "c0", "c1"]);
    prop_oneof![
        (arb_bounds(), any::<bool>()).prop_map(|((low, high), out)| Trigger::UncertainScore {
            low,
            high,
            fires: if out {
                BandSide::Outside
            } else {
                BandSide::Inside
            },
        }),
        (num.clone(), arb_bounds()).prop_map(|(f, (low, high))| Trigger::OutlyingInput {
            feature: f.into(),
            low,
            high,
        }),
        (cat.clone(), prop::sample::subsequence(CATS.to_vec(), 0..=6)).prop_map(|(f, k)| {
            Trigger::UnseenCategory {
                feature: f.into(),
                known: k.into_iter().map(String::from).collect(),
            }
        }),
        (
            cat,
            prop::collection::btree_map(prop::sample::select(CATS.to_vec()), 0..50_u64, 0..6),
            0.0..=1.0_f64
        )
            .prop_map(|(f, counts, min_share)| Trigger::RareCategory {
                feature: f.into(),
                counts: counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                min_share,
            }),
        (
            num,
            prop::collection::btree_set(-50_i32..50, 0..6),
            prop::collection::vec(0..20_u64, 7),
            0..20_u64
        )
            .prop_map(|(f, edges, counts, min_rows)| {
                let edges: Vec<f64> = edges.into_iter().map(|e| f64::from(e) / 10.0).collect();
                Trigger::SparseBin {
                    feature: f.into(),
                    counts: counts[..=edges.len()].to_vec(),
                    edges,
                    min_rows,
                }
            }),
        feature.prop_map(|f| Trigger::MissingFeature { feature: f.into() }),
    ]
}

fn arb_policy() -> impl Strategy<Value = HumilityPolicy> {
    (
        any::<bool>(),
        prop::collection::vec((arb_trigger(), arb_action()), 0..12),
    )
        .prop_map(|(first, rules)| {
            let mut p = HumilityPolicy::new(if first {
                Combine::FirstMatch
            } else {
                Combine::MostSevere
            });
            for (i, (t, a)) in rules.into_iter().enumerate() {
                p = p.with(format!("rule-{i}"), t, a);
            }
            p
        })
}

#[derive(Debug, Clone)]
enum Val {
    Num(f64),
    Cat(&'static str),
    Missing,
}

fn arb_val() -> impl Strategy<Value = Val> {
    prop_oneof![
        6 => (-6.0..6.0_f64).prop_map(Val::Num),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, 5.0])
            .prop_map(Val::Num),
        3 => prop::sample::select(vec!["a", "b", "c", "d", "é", "", "zz"]).prop_map(Val::Cat),
        1 => Just(Val::Missing),
    ]
}

fn row_of(vals: &[Val]) -> Vec<FeatureValue<'static>> {
    vals.iter()
        .map(|v| match v {
            Val::Num(x) => N(*x),
            Val::Cat(c) => C(c),
            Val::Missing => M,
        })
        .collect()
}

/// A plain re-implementation of every trigger, to check the compiled form against.
fn model_fires(t: &Trigger, score: f64, row: &[FeatureValue<'_>]) -> bool {
    let s = schema();
    let value = |f: &str| row.get(s.index_of(f).unwrap()).copied();
    let number = |f: &str| match value(f) {
        Some(N(x)) if !x.is_nan() => Some(x),
        _ => None,
    };
    let category = |f: &str| match value(f) {
        Some(C(c)) => Some(c),
        _ => None,
    };
    match t {
        Trigger::UncertainScore { low, high, fires } => {
            let inside = *low <= score && score <= *high;
            score.is_nan()
                || match fires {
                    BandSide::Inside => inside,
                    BandSide::Outside => !inside,
                }
        }
        Trigger::OutlyingInput { feature, low, high } => {
            number(feature).is_some_and(|x| x < *low || x > *high)
        }
        Trigger::UnseenCategory { feature, known } => {
            category(feature).is_some_and(|c| !known.iter().any(|k| k == c))
        }
        Trigger::RareCategory {
            feature,
            counts,
            min_share,
        } => category(feature).is_some_and(|c| {
            let total: u64 = counts.values().sum();
            let n = counts.get(c).copied().unwrap_or(0);
            n == 0 || (n as f64) < min_share * total as f64
        }),
        Trigger::SparseBin {
            feature,
            edges,
            counts,
            min_rows,
        } => number(feature).is_some_and(|x| {
            let bin = edges.iter().filter(|&&e| e <= x).count();
            counts[bin] < *min_rows
        }),
        Trigger::MissingFeature { feature } => {
            let kind = s.feature(s.index_of(feature).unwrap()).unwrap().1;
            !matches!(
                (value(feature), kind),
                (Some(N(x)), FeatureKind::Numeric) if !x.is_nan()
            ) && !matches!(
                (value(feature), kind),
                (Some(C(_)), FeatureKind::Categorical)
            )
        }
        _ => unreachable!("a new trigger needs a model"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn an_outlying_value_always_fires_the_outlier_rule(
        (low, high) in (-1e6..1e6_f64, 0.0..1e6_f64).prop_map(|(l, w)| (l, l + w)),
        beyond in prop_oneof![1e-9..1e9_f64, Just(f64::INFINITY)],
        below in any::<bool>(),
        feature in 0..3_usize,
        others in prop::collection::vec(arb_val(), 5),
        score in -1.0..2.0_f64,
    ) {
        let name = format!("f{feature}");
        let p = HumilityPolicy::new(Combine::FirstMatch)
            .with("log", Trigger::MissingFeature { feature: "c0".into() }, Action::NoOp)
            .with("outlier", Trigger::OutlyingInput { feature: name, low, high }, Action::Reject)
            .compile(&schema())
            .unwrap();
        let x = if below { low - beyond.max(low.abs() * 1e-12) } else { high + beyond.max(high.abs() * 1e-12) };
        prop_assume!(x < low || x > high);
        let mut row = row_of(&others);
        row[feature] = N(x);
        let d = p.evaluate(score, &row);
        prop_assert!(d.fired.contains(rid(1)));
        prop_assert_eq!(d.verdict, Verdict::Reject);
        prop_assert_eq!(d.rule, Some(rid(1)));
        // Inside the bounds it never fires.
        let inside = low + (high - low) / 2.0;
        row[feature] = N(inside);
        prop_assert!(!p.decide(score, &row).fired.contains(rid(1)));
    }

    #[test]
    fn evaluation_matches_a_plain_model_and_is_deterministic(
        policy in arb_policy(),
        rows in prop::collection::vec((prop::collection::vec(arb_val(), 0..7), -0.5..1.5_f64), 1..20),
    ) {
        let compiled = policy.compile(&schema()).unwrap();
        let again = policy.compile(&schema()).unwrap();
        for (vals, score) in &rows {
            let row = row_of(vals);
            let d = compiled.evaluate(*score, &row);
            prop_assert_eq!(d, again.decide(*score, &row));
            let fired: Vec<usize> = policy.rules.iter().enumerate()
                .filter(|(_, r)| model_fires(&r.trigger, *score, &row))
                .map(|(i, _)| i)
                .collect();
            prop_assert_eq!(d.fired.iter().map(RuleId::index).collect::<Vec<_>>(), fired.clone());
            let acting = fired.iter().copied().filter(|&i| policy.rules[i].action.severity() > 0);
            let want = match policy.combine {
                Combine::FirstMatch => acting.clone().next(),
                // max_by_key keeps the last maximum: reverse to keep the first.
                Combine::MostSevere => acting.clone().rev().max_by_key(|&i| policy.rules[i].action.severity()),
            };
            prop_assert_eq!(d.rule.map(RuleId::index), want);
            let verdict = match want.map(|i| policy.rules[i].action) {
                None => Verdict::Accept,
                Some(Action::Override { value }) => Verdict::Override(value),
                Some(Action::Reject) => Verdict::Reject,
                Some(other) => panic!("a deciding {other:?}"),
            };
            prop_assert_eq!(d.verdict, verdict);
        }
        let snap = compiled.counters();
        prop_assert_eq!(snap.evaluations, rows.len() as u64);
        prop_assert_eq!(snap.accepted + snap.overridden + snap.rejected, snap.evaluations);
    }

    #[test]
    fn json_and_toml_round_trip(policy in arb_policy()) {
        let json = policy.to_json().unwrap();
        prop_assert_eq!(&HumilityPolicy::from_json(&json).unwrap(), &policy);
        let toml = policy.to_toml().unwrap();
        prop_assert_eq!(&HumilityPolicy::from_toml(&toml).unwrap(), &policy);
    }

    #[test]
    fn mangled_rule_files_never_panic(
        policy in arb_policy(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        toml in any::<bool>(),
    ) {
        let text = if toml { policy.to_toml().unwrap() } else { policy.to_json().unwrap() };
        let mut bytes = text.into_bytes();
        for (at, b) in cuts {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            let alphabet = b" {}[]\",:=0123456789.-enaif\n";
            bytes[i] = alphabet[usize::from(b) % alphabet.len()];
        }
        let text = String::from_utf8_lossy(&bytes);
        let read = if toml { HumilityPolicy::from_toml(&text) } else { HumilityPolicy::from_json(&text) };
        if let Ok(p) = read {
            // Whatever reads is valid, and compiles or fails with a typed error.
            prop_assert!(p.validate().is_ok());
            if let Ok(c) = p.compile(&schema()) {
                c.evaluate(0.5, &ROW);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = HumilityPolicy::from_json(&text);
        let _ = HumilityPolicy::from_toml(&text);
    }
}
