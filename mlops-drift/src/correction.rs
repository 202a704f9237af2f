//! Multiple-testing correction of p-values.
//!
//! A dataset report runs one test per column; with twenty columns and α = 0.05 one column in
//! twenty drifts by chance alone. [`Correction`] adjusts the p-values of the p-value tests so the
//! decision controls the family-wise error rate (Bonferroni, Holm) or the false discovery rate
//! (Benjamini–Hochberg, Benjamini–Yekutieli).
//!
//! The adjusted p-values are those of `statsmodels.stats.multitest.multipletests(p,
//! method=...)[1]` for `bonferroni`, `holm`, `fdr_bh` and `fdr_by`: each is capped at 1 and the
//! step-wise methods are made monotone in the same way (running maximum for Holm, running minimum
//! from the largest p-value down for the Benjamini methods). A hypothesis is rejected when its
//! adjusted p-value is at most α, which is `multipletests`' `reject`.
//!
//! ```
//! use mlops_drift::correction::Correction;
//!
//! let adjusted = Correction::BenjaminiHochberg.adjust(&[0.01, 0.04, 0.03, 0.5])?;
//! // statsmodels: multipletests([0.01, 0.04, 0.03, 0.5], method="fdr_bh")[1]
//! assert!((adjusted[0] - 0.04).abs() < 1e-12);
//! assert!((adjusted[1] - 0.0533333333333333).abs() < 1e-12);
//! # Ok::<(), mlops_drift::DriftError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{DriftError, Result};

/// A multiple-testing correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Correction {
    /// No correction: adjusted p-values are the raw ones.
    #[default]
    None,
    /// Bonferroni: `min(1, m·p)` (family-wise error rate).
    Bonferroni,
    /// Holm's step-down method (family-wise error rate, uniformly more powerful than Bonferroni).
    Holm,
    /// Benjamini–Hochberg step-up (false discovery rate, independent or positively dependent
    /// tests). statsmodels' `fdr_bh`.
    BenjaminiHochberg,
    /// Benjamini–Yekutieli (false discovery rate under any dependence). statsmodels' `fdr_by`.
    BenjaminiYekutieli,
}

impl Correction {
    /// The statsmodels name of the method (`none` for no correction).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Bonferroni => "bonferroni",
            Self::Holm => "holm",
            Self::BenjaminiHochberg => "fdr_bh",
            Self::BenjaminiYekutieli => "fdr_by",
        }
    }

    /// Adjusts `p_values` (in the given order; the result has the same order and length).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] when a p-value is NaN or outside [0, 1].
    pub fn adjust(self, p_values: &[f64]) -> Result<Vec<f64>> {
        if let Some((index, p)) = p_values
            .iter()
            .enumerate()
            .find(|(_, p)| !(0.0..=1.0).contains(*p))
        {
            return Err(DriftError::InvalidParameter {
                name: "p_values",
                reason: format!("p-value at index {index} is `{p}`, outside [0, 1]"),
            });
        }
        Ok(self.adjust_valid(p_values))
    }

    /// Adjusts and decides: `(adjusted p-values, rejected)` where a hypothesis is rejected when
    /// its adjusted p-value is at most `alpha` (statsmodels' `reject`).
    ///
    /// # Errors
    /// [`DriftError::InvalidParameter`] when a p-value or `alpha` is NaN or outside [0, 1].
    pub fn adjust_and_reject(self, p_values: &[f64], alpha: f64) -> Result<(Vec<f64>, Vec<bool>)> {
        if !(0.0..=1.0).contains(&alpha) {
            return Err(DriftError::InvalidParameter {
                name: "alpha",
                reason: format!("`{alpha}` is outside [0, 1]"),
            });
        }
        let adjusted = self.adjust(p_values)?;
        let reject = adjusted.iter().map(|&p| p <= alpha).collect();
        Ok((adjusted, reject))
    }

    /// The adjustment itself; inputs are known to be in [0, 1].
    fn adjust_valid(self, p_values: &[f64]) -> Vec<f64> {
        let m = p_values.len();
        if m == 0 {
            return Vec::new();
        }
        let mf = m as f64;
        match self {
            Self::None => p_values.to_vec(),
            Self::Bonferroni => p_values.iter().map(|&p| (p * mf).min(1.0)).collect(),
            Self::Holm => {
                let order = ascending_order(p_values);
                let mut out = vec![0.0; m];
                let mut running = 0.0_f64;
                for (rank, &i) in order.iter().enumerate() {
                    let p = p_values.get(i).copied().unwrap_or(1.0);
                    running = running.max(p * (m - rank) as f64);
                    if let Some(slot) = out.get_mut(i) {
                        *slot = running.min(1.0);
                    }
                }
                out
            }
            Self::BenjaminiHochberg | Self::BenjaminiYekutieli => {
                let cm = if self == Self::BenjaminiYekutieli {
                    (1..=m).map(|k| 1.0 / k as f64).sum::<f64>()
                } else {
                    1.0
                };
                let order = ascending_order(p_values);
                let mut out = vec![0.0; m];
                let mut running = f64::INFINITY;
                for (rank, &i) in order.iter().enumerate().rev() {
                    let p = p_values.get(i).copied().unwrap_or(1.0);
                    // statsmodels: p / (rank / m), with the factor divided by cm for fdr_by.
                    let ecdf = (rank + 1) as f64 / mf / cm;
                    running = running.min(p / ecdf);
                    if let Some(slot) = out.get_mut(i) {
                        *slot = running.min(1.0);
                    }
                }
                out
            }
        }
    }
}

/// Indices that sort `p` ascending (ties keep input order; tied p-values get equal adjusted
/// values in every method, so the tie order does not matter).
fn ascending_order(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| {
        let pa = p.get(a).copied().unwrap_or(1.0);
        let pb = p.get(b).copied().unwrap_or(1.0);
        pa.total_cmp(&pb)
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: [f64; 8] = [0.01, 0.04, 0.03, 0.5, 0.001, 0.2, 0.04, 0.9];

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{a:?} vs {b:?}");
        }
    }

    // Oracle values: statsmodels.stats.multitest.multipletests(P, method=...)[1] with
    // P = [0.01, 0.04, 0.03, 0.5, 0.001, 0.2, 0.04, 0.9] (statsmodels 0.15.0).
    #[test]
    fn bonferroni_matches_statsmodels() {
        close(
            &Correction::Bonferroni.adjust(&P).unwrap(),
            &[0.08, 0.32, 0.24, 1.0, 0.008, 1.0, 0.32, 1.0],
        );
    }

    #[test]
    fn holm_matches_statsmodels() {
        close(
            &Correction::Holm.adjust(&P).unwrap(),
            &[0.07, 0.2, 0.18, 1.0, 0.008, 0.6, 0.2, 1.0],
        );
    }

    #[test]
    fn bh_matches_statsmodels() {
        close(
            &Correction::BenjaminiHochberg.adjust(&P).unwrap(),
            &[
                0.04,
                0.064,
                0.064,
                0.5714285714285714,
                0.008,
                0.26666666666666666,
                0.064,
                0.9,
            ],
        );
    }

    #[test]
    fn by_matches_statsmodels() {
        close(
            &Correction::BenjaminiYekutieli.adjust(&P).unwrap(),
            &[
                0.10871428571428571,
                0.17394285714285715,
                0.17394285714285715,
                1.0,
                0.02174285714285714,
                0.7247619047619048,
                0.17394285714285715,
                1.0,
            ],
        );
    }

    #[test]
    fn rejects_invalid_and_handles_empty() {
        assert!(Correction::Holm.adjust(&[0.1, f64::NAN]).is_err());
        assert!(Correction::Holm.adjust(&[1.5]).is_err());
        assert!(Correction::Holm.adjust(&[]).unwrap().is_empty());
        let (adj, rej) = Correction::Bonferroni
            .adjust_and_reject(&[0.01, 0.03], 0.05)
            .unwrap();
        assert_eq!(adj, vec![0.02, 0.06]);
        assert_eq!(rej, vec![true, false]);
        assert!(
            Correction::Bonferroni
                .adjust_and_reject(&[0.01], f64::NAN)
                .is_err()
        );
    }
}
