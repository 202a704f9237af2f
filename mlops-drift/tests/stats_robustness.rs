//! No input makes the statistics panic: arbitrary floats (NaN, ±inf, subnormals, huge values),
//! empty slices, constant samples and arbitrary counts give a result or a typed error, and
//! every p-value that comes back lies in [0, 1].

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mlops_drift::DriftError;
use mlops_drift::stats::{
    Alternative, categorical, distance, divergence, evidently, location, psi,
};
use proptest::prelude::*;

fn messy_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -100.0f64..100.0,
        1 => any::<f64>(),
        1 => Just(0.0),
        1 => Just(f64::MIN_POSITIVE / 4.0),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308]),
    ]
}

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(messy_f64(), 0..40)
}

fn expected_error(e: &DriftError) -> bool {
    matches!(
        e,
        DriftError::EmptySample { .. }
            | DriftError::NonFinite { .. }
            | DriftError::InvalidParameter { .. }
            | DriftError::Shape { .. }
            | DriftError::Unsupported { .. }
    )
}

fn p_ok(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn numeric_statistics_never_panic(a in sample(), b in sample()) {
        let clean = a.iter().chain(&b).all(|x| x.is_finite());
        let nonempty = !a.is_empty() && !b.is_empty();
        match distance::wasserstein_distance(&a, &b) {
            Ok(r) => prop_assert!(r.distance >= 0.0 || r.distance.is_nan()),
            Err(e) => prop_assert!(expected_error(&e) && !(clean && nonempty)),
        }
        match distance::energy_distance(&a, &b) {
            Ok(r) => prop_assert!(r.distance >= 0.0 || r.distance.is_nan()),
            Err(e) => prop_assert!(expected_error(&e) && !(clean && nonempty)),
        }
        match psi::psi(&a, &b, psi::PsiOptions::default()) {
            Ok(r) => prop_assert!(r.bins >= 1 && r.reference_counts.iter().sum::<u64>() == a.len() as u64),
            Err(e) => prop_assert!(expected_error(&e) && !(clean && nonempty)),
        }
        for method in [evidently::EvidentlyMethod::Psi, evidently::EvidentlyMethod::JensenShannon, evidently::EvidentlyMethod::Wasserstein] {
            if let Err(e) = evidently::score_numeric(method, &a, &b, None) {
                prop_assert!(expected_error(&e) && !(clean && nonempty));
            }
        }
        match location::mann_whitney_u(&a, &b) {
            Ok(r) => prop_assert!(p_ok(r.p_value.p)),
            Err(e) => prop_assert!(expected_error(&e) && !(clean && nonempty)),
        }
        for alt in [Alternative::TwoSided, Alternative::Less, Alternative::Greater] {
            match location::welch_t_test(&a, &b, alt) {
                Ok(r) => prop_assert!(p_ok(r.p_value.p)),
                Err(e) => {
                    let numerical = matches!(e, DriftError::Numerical { .. });
                    prop_assert!(expected_error(&e) || numerical);
                }
            }
        }
    }

    #[test]
    fn moderate_finite_samples_give_finite_scores(
        a in prop::collection::vec(-1e6f64..1e6, 2..60),
        b in prop::collection::vec(-1e6f64..1e6, 2..60),
    ) {
        let w = distance::wasserstein_distance(&a, &b).unwrap();
        prop_assert!(w.distance.is_finite() && w.normed.is_finite());
        prop_assert!(distance::energy_distance(&a, &b).unwrap().distance.is_finite());
        let p = psi::psi(&a, &b, psi::PsiOptions::default()).unwrap();
        prop_assert!(p.psi.is_finite() && p.psi >= 0.0);
        for method in [evidently::EvidentlyMethod::Psi, evidently::EvidentlyMethod::JensenShannon, evidently::EvidentlyMethod::Wasserstein] {
            let s = evidently::score_numeric(method, &a, &b, None).unwrap();
            prop_assert!(s.score.is_finite() && s.score >= 0.0);
        }
        prop_assert!(p_ok(location::mann_whitney_u(&a, &b).unwrap().p_value.p));
        prop_assert!(p_ok(location::welch_t_test(&a, &b, Alternative::TwoSided).unwrap().p_value.p));
        // Scoring from fitted bins equals scoring from raw data.
        let bins = psi::QuantileBins::fit(&a, 10).unwrap();
        let from_counts = psi::psi_from_counts(&bins.bin_counts(&a).unwrap(), &bins.bin_counts(&b).unwrap(), 1e-4).unwrap();
        prop_assert_eq!(from_counts.psi, p.psi);
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_by(f64::total_cmp);
        sb.sort_by(f64::total_cmp);
        prop_assert_eq!(distance::wasserstein_distance_sorted(&sa, &sb).unwrap(), w);
    }

    #[test]
    fn categorical_statistics_never_panic(
        r in prop::collection::vec(0u64..1_000_000_000_000, 0..6),
        c in prop::collection::vec(0u64..1_000_000_000_000, 0..6),
        table in prop::array::uniform4(prop_oneof![4 => 0u64..100, 1 => 0u64..100_000_000]),
    ) {
        for res in [categorical::chi2_homogeneity(&r, &c), categorical::g_test(&r, &c)] {
            match res {
                Ok(x) => prop_assert!(p_ok(x.p_value.p) && x.statistic >= 0.0),
                Err(e) => prop_assert!(expected_error(&e)),
            }
        }
        if let Err(e) = psi::psi_from_counts(&r, &c, 1e-4) {
            prop_assert!(expected_error(&e));
        }
        let (rw, cw) = (divergence::counts_to_weights(&r), divergence::counts_to_weights(&c));
        for res in [
            divergence::jensen_shannon(&rw, &cw, divergence::LogBase::Two),
            divergence::kl_divergence(&rw, &cw, 1e-4),
            divergence::hellinger(&rw, &cw),
            divergence::total_variation(&rw, &cw),
        ] {
            match res {
                Ok(x) => prop_assert!(x.value.is_finite() && x.value >= -1e-12),
                Err(e) => prop_assert!(expected_error(&e)),
            }
        }
        let f = categorical::fisher_exact([[table[0], table[1]], [table[2], table[3]]]).unwrap();
        prop_assert!(p_ok(f.p_value.p));
        match categorical::two_proportion_z_test(table[0].min(table[1]), table[1], table[2].min(table[3]), table[3]) {
            Ok(z) => prop_assert!(p_ok(z.p_value.p)),
            Err(e) => prop_assert!(expected_error(&e)),
        }
    }

    #[test]
    fn categorical_labels_with_unseen_categories_stay_finite(
        r in prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..50),
        c in prop::collection::vec(prop::sample::select(vec!["a", "b", "new", "other"]), 1..50),
    ) {
        let chi = categorical::chi2_homogeneity_labels(&r, &c).unwrap();
        prop_assert!(chi.statistic.is_finite() && p_ok(chi.p_value.p));
        let one_category = r.iter().chain(&c).all(|l| *l == r[0]);
        for s in [
            evidently::psi_categorical(&r, &c).unwrap(),
            evidently::jensenshannon_categorical(&r, &c).unwrap(),
            evidently::chisquare(&r, &c).unwrap(),
        ] {
            // Evidently's chisquare is NaN (never drift) with a single category.
            prop_assert!(s.score.is_finite() || (one_category && s.score.is_nan() && !s.drifted));
        }
    }
}
