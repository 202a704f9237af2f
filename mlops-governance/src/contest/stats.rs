//! The statistics of a contest: running moments, the always-valid mixture sequential
//! probability ratio test (mSPRT) with its confidence sequence, and the fixed-horizon two-sample
//! z test with its sample-size formula.
//!
//! # The mixture SPRT (Johari, Koomen, Pekelis & Walsh, "Always Valid Inference: Continuous
//! Monitoring of A/B Tests", *Operations Research* 70(3), 2022; arXiv:1512.04922)
//!
//! Let `Δ̂ = ȳ_B − ȳ_A` be the difference of the arms' sample means (challenger `B` minus
//! champion `A`) and `s² = σ̂²_A / n_A + σ̂²_B / n_B` its plug-in variance. Under `Δ̂ ~ N(θ, s²)`,
//! mixing the alternative `θ ~ N(θ₀, τ²)` gives the likelihood ratio against `H₀: θ = θ₀`
//!
//! ```text
//! Λ(θ₀) = sqrt(s² / (s² + τ²)) · exp( τ² (Δ̂ − θ₀)² / (2 s² (s² + τ²)) )
//! ```
//!
//! which with balanced arms (`n_A = n_B = n`, `s² = 2σ²/n`) is exactly the paper's
//! `sqrt(V/(V + nτ²)) · exp(n²τ²(Ȳ − X̄ − θ₀)² / (2V(V + nτ²)))` with `V = 2σ²`. `Λ` is a
//! nonnegative martingale under `H₀`, so by Ville's inequality `P(∃n: Λₙ ≥ 1/α) ≤ α`: the test
//! rejects the first time `Λ ≥ 1/α`, and may be looked at after every observation. The
//! always-valid p-value is `pₙ = min(pₙ₋₁, 1/Λₙ)`.
//!
//! Inverting the test gives the confidence sequence (valid simultaneously over all `n`):
//!
//! ```text
//! Δ̂ ± sqrt( (2 s² (s² + τ²) / τ²) · ( ln(1/α) + ½ ln((s² + τ²) / s²) ) )
//! ```
//!
//! For proportions the sample variance of the 0/1 outcomes is the Bernoulli plug-in `p̂(1 − p̂)`
//! the paper uses; validity with plug-in variances is asymptotic, which is why a contest waits
//! for a warm-up count per arm before any decision. A proportion's variance is floored at the
//! Laplace-smoothed `p̃(1 − p̃)`, `p̃ = (Σx + 1)/(n + 2)`, so all-0 or all-1 arms still decide; a
//! mean metric whose arms are both constant has zero variance and decides nothing.
//!
//! # The fixed-horizon test
//!
//! Per-arm sample size for a two-sided two-sample z test of level `α` and power `1 − β` that
//! detects a difference `δ` when the arms' variances are `σ²_A`, `σ²_B`:
//! `n = ⌈(z₁₋α/₂ + z₁₋β)² (σ²_A + σ²_B) / δ²⌉` (for proportions `σ² = p(1 − p)` at the baseline
//! `p` and at `p + δ`). At `n` per arm the test rejects when `|Δ̂| / s ≥ z₁₋α/₂`; it must not be
//! looked at earlier.

use statrs::distribution::{ContinuousCDF, Normal};

use super::error::ContestError;

/// Count, mean and sum of squared deviations of a stream (Welford), updated in O(1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Values seen.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    /// Adds a finite value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let n = self.n as f64;
        let d = x - self.mean;
        self.mean += d / n;
        self.m2 += d * (x - self.mean);
    }

    /// The unbiased sample variance (0 with fewer than two values).
    #[must_use]
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let d = (self.n - 1) as f64;
            (self.m2 / d).max(0.0)
        }
    }

    /// The variance of the mean, `σ̂² / n` (infinite with no value).
    #[must_use]
    pub fn variance_of_mean(&self) -> f64 {
        if self.n == 0 {
            f64::INFINITY
        } else {
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let n = self.n as f64;
            self.variance() / n
        }
    }
}

/// The mSPRT of one difference (challenger − champion) at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sequential {
    /// `Δ̂ = ȳ_B − ȳ_A`.
    pub difference: f64,
    /// Its plug-in standard error `s`.
    pub std_error: f64,
    /// `Λ(0)`, the mixture likelihood ratio against no difference.
    pub likelihood_ratio: f64,
    /// `min(1, 1/Λ(0))` (the running minimum is kept by the contest).
    pub p_value: f64,
    /// Lower end of the confidence sequence.
    pub low: f64,
    /// Upper end of the confidence sequence.
    pub high: f64,
}

/// `Λ(θ₀)` and the confidence sequence for `a` (champion) and `b` (challenger) with mixing
/// standard deviation `tau` and level `alpha`. `None` while either arm has fewer than two values
/// or the plug-in variance is zero (nothing can be concluded yet).
#[must_use]
pub fn msprt(a: &Moments, b: &Moments, tau: f64, alpha: f64) -> Option<Sequential> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let s2 = a.variance_of_mean() + b.variance_of_mean();
    if !(s2 > 0.0 && s2.is_finite()) {
        return None;
    }
    let t2 = tau * tau;
    let d = b.mean - a.mean;
    let sum = s2 + t2;
    let log_lr = 0.5 * (s2 / sum).ln() + t2 * d * d / (2.0 * s2 * sum);
    let likelihood_ratio = log_lr.exp();
    let radius = ((2.0 * s2 * sum / t2) * ((1.0 / alpha).ln() + 0.5 * (sum / s2).ln())).sqrt();
    Some(Sequential {
        difference: d,
        std_error: s2.sqrt(),
        likelihood_ratio,
        p_value: (-log_lr).exp().min(1.0),
        low: d - radius,
        high: d + radius,
    })
}

/// The fixed-horizon z test at its planned sample size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedTest {
    /// `Δ̂`.
    pub difference: f64,
    /// `s`.
    pub std_error: f64,
    /// `Δ̂ / s`.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower end of the `1 − α` confidence interval.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// The two-sided two-sample z test of `b − a` at level `alpha`. `None` as [`msprt`].
#[must_use]
pub fn z_test(a: &Moments, b: &Moments, alpha: f64) -> Option<FixedTest> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let s2 = a.variance_of_mean() + b.variance_of_mean();
    if !(s2 > 0.0 && s2.is_finite()) {
        return None;
    }
    let se = s2.sqrt();
    let d = b.mean - a.mean;
    let z = d / se;
    let n = Normal::standard();
    let p_value = (2.0 * n.sf(z.abs())).min(1.0);
    let crit = n.inverse_cdf(1.0 - alpha / 2.0);
    Some(FixedTest {
        difference: d,
        std_error: se,
        z,
        p_value,
        low: d - crit * se,
        high: d + crit * se,
    })
}

/// Per-arm sample size of a two-sided two-sample z test:
/// `⌈(z₁₋α/₂ + z_power)² (var_a + var_b) / δ²⌉`.
///
/// ```
/// use mlops_governance::contest::stats::sample_size;
/// // σ = 1 in both arms, δ = 0.1, α = 0.05, power 0.8: (1.95996 + 0.84162)² · 2 / 0.01 = 1569.8
/// assert_eq!(sample_size(1.0, 1.0, 0.1, 0.05, 0.8)?, 1570);
/// # Ok::<(), mlops_governance::contest::ContestError>(())
/// ```
///
/// # Errors
/// [`ContestError::InvalidParameter`] unless `0 < alpha < 1`, `0 < power < 1`, `delta ≠ 0`
/// finite and the variances finite and not both zero.
pub fn sample_size(
    var_a: f64,
    var_b: f64,
    delta: f64,
    alpha: f64,
    power: f64,
) -> Result<u64, ContestError> {
    check_probability("alpha", alpha)?;
    check_probability("power", power)?;
    if !(delta.is_finite() && delta != 0.0) {
        return Err(ContestError::invalid("delta", delta, "finite and non-zero"));
    }
    let v = var_a + var_b;
    if !(var_a >= 0.0 && var_b >= 0.0 && v > 0.0 && v.is_finite()) {
        return Err(ContestError::invalid(
            "variance",
            v,
            "finite, not negative, not both zero",
        ));
    }
    let n = Normal::standard();
    let z = n.inverse_cdf(1.0 - alpha / 2.0) + n.inverse_cdf(power);
    let size = (z * z * v / (delta * delta)).ceil();
    if size >= 9.0e15 {
        return Err(ContestError::invalid(
            "delta",
            delta,
            "large enough for a representable sample size",
        ));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked finite, positive and below 2^53 above"
    )]
    Ok(size as u64)
}

/// [`sample_size`] for proportions: baseline rate `p` and a change `delta`, with variances
/// `p(1 − p)` and `(p + δ)(1 − p − δ)`.
///
/// ```
/// use mlops_governance::contest::stats::proportion_sample_size;
/// // 10 % -> 12 %: (1.95996 + 0.84162)² (0.09 + 0.1056) / 0.0004 = 3838.1
/// assert_eq!(proportion_sample_size(0.10, 0.02, 0.05, 0.8)?, 3839);
/// # Ok::<(), mlops_governance::contest::ContestError>(())
/// ```
///
/// # Errors
/// As [`sample_size`]; also unless `p` and `p + delta` are in `(0, 1)`.
pub fn proportion_sample_size(
    p: f64,
    delta: f64,
    alpha: f64,
    power: f64,
) -> Result<u64, ContestError> {
    check_probability("baseline", p)?;
    check_probability("baseline + delta", p + delta)?;
    let q = p + delta;
    sample_size(p * (1.0 - p), q * (1.0 - q), delta, alpha, power)
}

pub(crate) fn check_probability(name: &'static str, v: f64) -> Result<(), ContestError> {
    if v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(ContestError::invalid(name, v, "strictly between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        for &x in xs {
            m.push(x);
        }
        m
    }

    #[test]
    fn welford_matches_two_pass() {
        let xs = [1.0, 4.0, 2.5, 7.0, -3.0];
        let m = moments(&xs);
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0;
        assert!((m.mean - mean).abs() < 1e-12);
        assert!((m.variance() - var).abs() < 1e-12);
    }

    #[test]
    fn msprt_balanced_matches_the_papers_formula() {
        let a = moments(&[0.0, 1.0, 0.5, 0.2, 0.9, 0.4]);
        let b = moments(&[1.0, 1.5, 0.7, 1.2, 0.8, 1.1]);
        let tau: f64 = 0.3;
        let s = msprt(&a, &b, tau, 0.05).unwrap();
        // Paper form with n per arm and V = σ²_A + σ²_B (plug-in, unequal variances).
        let n = 6.0;
        let v = a.variance() + b.variance();
        let t2 = tau * tau;
        let d = b.mean - a.mean;
        let lr = (v / (v + n * t2)).sqrt() * (n * n * t2 * d * d / (2.0 * v * (v + n * t2))).exp();
        assert!(
            (s.likelihood_ratio - lr).abs() < 1e-9 * lr,
            "{} vs {lr}",
            s.likelihood_ratio
        );
        // The confidence sequence's ends are exactly where Λ(θ₀) = 1/α.
        for end in [s.low, s.high] {
            let dd = d - end;
            let l =
                (v / (v + n * t2)).sqrt() * (n * n * t2 * dd * dd / (2.0 * v * (v + n * t2))).exp();
            assert!((l - 20.0).abs() < 1e-6, "{l}");
        }
    }

    #[test]
    fn msprt_needs_data_and_variance() {
        assert!(msprt(&moments(&[1.0]), &moments(&[1.0, 2.0]), 1.0, 0.05).is_none());
        assert!(msprt(&moments(&[1.0, 1.0]), &moments(&[0.0, 0.0]), 1.0, 0.05).is_none());
    }

    #[test]
    fn z_test_oracle() {
        // scipy: a = [1,2,3,4], b = [2,3,4,5,6]; d = 1.5, s² = 1.6667/4 + 2.5/5 = 0.916667
        let t = z_test(
            &moments(&[1.0, 2.0, 3.0, 4.0]),
            &moments(&[2.0, 3.0, 4.0, 5.0, 6.0]),
            0.05,
        )
        .unwrap();
        assert!((t.z - 1.5 / 0.916_666_666_7_f64.sqrt()).abs() < 1e-9);
        // scipy.stats.norm.sf(1.566699) * 2 = 0.117185
        assert!((t.p_value - 0.117_185).abs() < 1e-5, "{}", t.p_value);
    }

    #[test]
    fn sample_size_rejects_bad_parameters() {
        assert!(sample_size(1.0, 1.0, 0.0, 0.05, 0.8).is_err());
        assert!(sample_size(1.0, 1.0, 0.1, 1.0, 0.8).is_err());
        assert!(sample_size(0.0, 0.0, 0.1, 0.05, 0.8).is_err());
        assert!(sample_size(f64::NAN, 1.0, 0.1, 0.05, 0.8).is_err());
        assert!(proportion_sample_size(0.95, 0.1, 0.05, 0.8).is_err());
    }
}
