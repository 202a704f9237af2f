//! Two-sample statistics, univariate. Each function takes the reference and the current sample
//! and returns a result with the statistic, the p-value where the method has one, its natural
//! log (so tiny p-values stay comparable), the sample sizes and the details that explain it.
//!
//! Numeric inputs are `&[f64]`; order-based methods also have entry points taking already sorted
//! slices, which is how [`crate::profile`] scores against a fitted reference without re-sorting.
//!
//! | module | methods | entry points for fitted profiles |
//! |---|---|---|
//! | [`distance`] | Wasserstein-1 (raw, normed), energy distance | `wasserstein_distance_sorted`, `energy_distance_sorted` |
//! | [`psi`] | PSI on reference-quantile bins | `QuantileBins::fit` + `bin_counts`, `psi_from_counts` |
//! | [`categorical`] | chi-squared and G homogeneity (2×K), two-proportion z, Fisher 2×2 | `chi2_homogeneity(ref_counts, cur_counts)`, `g_test`, `two_proportion_z_test`, `fisher_exact` |
//! | [`divergence`] | Jensen–Shannon, KL, Hellinger, total variation | all take aligned weights |
//! | [`location`] | Welch t, Mann–Whitney U | — |
//! | [`evidently`] | Evidently 0.7.23 PSI, Wasserstein, Jensen–Shannon, chi-square | — |

use serde::{Deserialize, Serialize};

pub mod anderson;
pub(crate) mod binning;
pub mod categorical;
pub mod cvm;
pub mod distance;
pub mod divergence;
pub mod evidently;
mod input;
pub(crate) use input::mean_and_population_std;

/// The greatest common divisor of two sample sizes, at least 1 (so it can always divide): the
/// exact KS and Cramér–von Mises distributions walk the lattice of steps `1/m`, `1/n`.
pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a.max(1)
}
pub mod ks;
pub mod location;
pub mod psi;

/// The alternative hypothesis of a one- or two-sided test, in SciPy's terms: `Less` means the
/// CDF of the reference is less than that of the current sample (SciPy's `alternative='less'`).
///
/// Exhaustive on purpose: the three hypotheses of a two-sample test; every caller must know
/// which one it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    /// The distributions differ.
    #[default]
    TwoSided,
    /// SciPy's `less`.
    Less,
    /// SciPy's `greater`.
    Greater,
}

/// A p-value together with its natural logarithm. Below about 1e-308 `p` underflows to 0 while
/// `ln_p` stays finite, so very strong drift signals can still be ranked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PValue {
    /// The p-value, in [0, 1].
    #[serde(with = "mlops_core::float_serde")]
    pub p: f64,
    /// Its natural log, in [-inf, 0].
    #[serde(with = "mlops_core::float_serde")]
    pub ln_p: f64,
}

impl PValue {
    /// From a p-value; the log is computed and the value clamped into [0, 1].
    #[must_use]
    pub fn from_p(p: f64) -> Self {
        let p = if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) };
        Self { p, ln_p: p.ln() }
    }

    /// From a log p-value (computed in log space to avoid underflow).
    #[must_use]
    pub fn from_ln_p(ln_p: f64) -> Self {
        let ln_p = if ln_p.is_nan() { 0.0 } else { ln_p.min(0.0) };
        Self {
            p: ln_p.exp(),
            ln_p,
        }
    }
}
