//! Every result of the distance, PSI, categorical, divergence, location and Evidently modules
//! survives a JSON round trip unchanged, including its non-finite values.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Debug;

use mlops_drift::stats::{
    Alternative, categorical, distance, divergence, evidently, location, psi,
};
use serde::{Serialize, de::DeserializeOwned};

fn round_trip<T: Serialize + DeserializeOwned + Debug>(value: &T) -> T {
    let json = serde_json::to_string(value).unwrap();
    assert!(!json.contains("null"), "a float was lost in {json}");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn results_round_trip_through_json() {
    let a = [0.1, 0.5, 0.9, 1.3, 2.0, 2.2, 3.5];
    let b = [1.0, 1.5, 2.5, 3.0, 4.5, 5.0];
    let w = distance::wasserstein_distance(&a, &b).unwrap();
    assert_eq!(round_trip(&w), w);
    let e = distance::energy_distance(&a, &b).unwrap();
    assert_eq!(round_trip(&e), e);
    let p = psi::psi(
        &a,
        &b,
        psi::PsiOptions {
            bins: 3,
            epsilon: 1e-4,
        },
    )
    .unwrap();
    assert_eq!(round_trip(&p), p);
    let bins = psi::QuantileBins::fit(&a, 4).unwrap();
    assert_eq!(round_trip(&bins), bins);
    let chi = categorical::chi2_homogeneity(&[10, 0, 5], &[3, 4, 5]).unwrap();
    assert_eq!(round_trip(&chi), chi);
    let g = categorical::g_test(&[10, 1], &[3, 4]).unwrap();
    assert_eq!(round_trip(&g), g);
    let z = categorical::two_proportion_z_test(3, 10, 7, 10).unwrap();
    assert_eq!(round_trip(&z), z);
    let f = categorical::fisher_exact([[3, 0], [0, 4]]).unwrap();
    assert_eq!(round_trip(&f).odds_ratio, f64::INFINITY);
    let f = categorical::fisher_exact([[0, 0], [1, 4]]).unwrap();
    assert!(round_trip(&f).odds_ratio.is_nan());
    let t = categorical::CategoryTable::from_labels(&["a", "b"], &["b", "c"]);
    let t = categorical::CategoryTable {
        categories: t.categories.iter().map(|s| (*s).to_owned()).collect(),
        reference: t.reference,
        current: t.current,
    };
    assert_eq!(round_trip(&t), t);
    for d in [
        divergence::jensen_shannon(&[1.0, 0.0], &[0.0, 1.0], divergence::LogBase::Two).unwrap(),
        divergence::kl_divergence(&[1.0, 1.0], &[1.0, 0.0], 0.0).unwrap(),
        divergence::hellinger(&[1.0, 2.0], &[2.0, 1.0]).unwrap(),
        divergence::total_variation(&[1.0, 2.0], &[2.0, 1.0]).unwrap(),
    ] {
        assert_eq!(round_trip(&d), d);
    }
    let welch = location::welch_t_test(&[1.0, 1.0], &[2.0, 2.0], Alternative::TwoSided).unwrap();
    assert_eq!(round_trip(&welch).statistic, f64::NEG_INFINITY);
    let mw = location::mann_whitney_u(&a, &b).unwrap();
    assert_eq!(round_trip(&mw), mw);
    let s = evidently::psi_numeric(&a, &b).unwrap();
    assert_eq!(round_trip(&s), s);
}
