//! Batch statistics cases (`drift_cases.json`): one arm per `test`, each computing the values
//! under the keys of that test's `expected` from `reference`, `current` and `params` only.

use serde_json::{Map, Value};

use super::{Case, float_value};
use crate::error::{DriftError, Result};
use crate::stats::{
    Alternative, anderson, categorical, cvm, distance, divergence, evidently, ks, location, psi,
};

/// Computes one batch case.
///
/// # Errors
/// [`DriftError::Unsupported`] for a test this runner does not know,
/// [`DriftError::Conformance`] for malformed inputs, or the statistic's own error.
pub fn run_case(case: &Case) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    match case.test.as_str() {
        "ks_2samp" => {
            let alternative = alternative(case)?;
            let method = match param_str(case, "method")? {
                None | Some("auto") => ks::KsMethod::Auto,
                Some("exact") => ks::KsMethod::Exact,
                Some("asymp") => ks::KsMethod::Asymptotic,
                Some(other) => return Err(bad(case, format!("unknown method `{other}`"))),
            };
            let r = ks::ks_2samp(
                &numbers(case, "reference")?,
                &numbers(case, "current")?,
                ks::KsOptions {
                    alternative,
                    method,
                },
            )?;
            out.insert("statistic".into(), float_value(r.statistic));
            out.insert("p_value".into(), float_value(r.p_value.p));
            out.insert(
                "statistic_location".into(),
                float_value(r.statistic_location),
            );
            out.insert("statistic_sign".into(), Value::from(r.statistic_sign));
        }
        "cramervonmises_2samp" => {
            let method = match param_str(case, "method")? {
                None | Some("auto") => cvm::CvmMethod::Auto,
                Some("exact") => cvm::CvmMethod::Exact,
                Some("asymptotic") => cvm::CvmMethod::Asymptotic,
                Some(other) => return Err(bad(case, format!("unknown method `{other}`"))),
            };
            let r = cvm::cramervonmises_2samp(
                &numbers(case, "reference")?,
                &numbers(case, "current")?,
                method,
            )?;
            out.insert("statistic".into(), float_value(r.statistic));
            out.insert("p_value".into(), float_value(r.p_value.p));
        }
        "anderson_ksamp" => {
            let (r, c) = (numbers(case, "reference")?, numbers(case, "current")?);
            let res = anderson::anderson_ksamp(&[&r, &c])?;
            out.insert("statistic".into(), float_value(res.statistic));
            out.insert("p_value".into(), float_value(res.p_value.p));
        }
        "wasserstein" => {
            let r = distance::wasserstein_distance(
                &numbers(case, "reference")?,
                &numbers(case, "current")?,
            )?;
            out.insert("distance".into(), float_value(r.distance));
            out.insert("normed".into(), float_value(r.normed));
        }
        "energy_distance" => {
            let r = distance::energy_distance(
                &numbers(case, "reference")?,
                &numbers(case, "current")?,
            )?;
            out.insert("distance".into(), float_value(r.distance));
        }
        "psi" => {
            let options = psi::PsiOptions {
                bins: param_usize(case, "bins")?.unwrap_or(psi::DEFAULT_BINS),
                epsilon: param_f64(case, "epsilon")?.unwrap_or(psi::DEFAULT_EPSILON),
            };
            let r = psi::psi(
                &numbers(case, "reference")?,
                &numbers(case, "current")?,
                options,
            )?;
            out.insert("psi".into(), float_value(r.psi));
            out.insert("bins".into(), Value::from(r.bins));
        }
        "chi2_homogeneity" => {
            let r = categorical::chi2_homogeneity_labels(
                &labels(case, "reference")?,
                &labels(case, "current")?,
            )?;
            out.insert("statistic".into(), float_value(r.statistic));
            out.insert("p_value".into(), float_value(r.p_value.p));
            out.insert("dof".into(), Value::from(r.dof));
        }
        "evidently_psi" | "evidently_wasserstein" | "evidently_jensenshannon" => {
            let (r, c) = (numbers(case, "reference")?, numbers(case, "current")?);
            let score = match case.test.as_str() {
                "evidently_psi" => evidently::psi_numeric(&r, &c)?,
                "evidently_wasserstein" => evidently::wasserstein_normed(&r, &c)?,
                _ => evidently::jensenshannon_numeric(&r, &c)?,
            };
            insert_score(&mut out, &score);
        }
        "evidently_chisquare"
        | "evidently_psi_categorical"
        | "evidently_jensenshannon_categorical" => {
            let (r, c) = (labels(case, "reference")?, labels(case, "current")?);
            let score = match case.test.as_str() {
                "evidently_chisquare" => evidently::chisquare(&r, &c)?,
                "evidently_psi_categorical" => evidently::psi_categorical(&r, &c)?,
                _ => evidently::jensenshannon_categorical(&r, &c)?,
            };
            insert_score(&mut out, &score);
        }
        "jensenshannon" | "kl_divergence" | "hellinger" | "total_variation" => {
            let (r, c) = (numbers(case, "reference")?, numbers(case, "current")?);
            let res = match case.test.as_str() {
                "jensenshannon" => {
                    let base = match param_f64(case, "base")? {
                        None => divergence::LogBase::E,
                        Some(2.0) => divergence::LogBase::Two,
                        Some(b) => divergence::LogBase::Other(b),
                    };
                    divergence::jensen_shannon(&r, &c, base)?
                }
                "kl_divergence" => {
                    divergence::kl_divergence(&r, &c, param_f64(case, "epsilon")?.unwrap_or(0.0))?
                }
                "hellinger" => divergence::hellinger(&r, &c)?,
                _ => divergence::total_variation(&r, &c)?,
            };
            out.insert("value".into(), float_value(res.value));
        }
        "g_test" => {
            let r =
                categorical::g_test_labels(&labels(case, "reference")?, &labels(case, "current")?)?;
            out.insert("statistic".into(), float_value(r.statistic));
            out.insert("p_value".into(), float_value(r.p_value.p));
            out.insert("dof".into(), Value::from(r.dof));
        }
        "fisher_exact" => {
            let r = categorical::fisher_exact_labels(
                &labels(case, "reference")?,
                &labels(case, "current")?,
            )?;
            out.insert("odds_ratio".into(), float_value(r.odds_ratio));
            out.insert("p_value".into(), float_value(r.p_value.p));
        }
        "two_proportion_ztest" => {
            let (r, c) = (numbers(case, "reference")?, numbers(case, "current")?);
            let ones = |v: &[f64]| v.iter().filter(|&&x| x == 1.0).count() as u64;
            let res = categorical::two_proportion_z_test(
                ones(&r),
                r.len() as u64,
                ones(&c),
                c.len() as u64,
            )?;
            out.insert("statistic".into(), float_value(res.statistic));
            out.insert("p_value".into(), float_value(res.p_value.p));
        }
        "welch_ttest" => {
            let r = location::welch_t_test(
                &numbers(case, "reference")?,
                &numbers(case, "current")?,
                alternative(case)?,
            )?;
            out.insert("statistic".into(), float_value(r.statistic));
            out.insert("p_value".into(), float_value(r.p_value.p));
            out.insert("df".into(), float_value(r.df));
        }
        "mannwhitneyu" => {
            let r =
                location::mann_whitney_u(&numbers(case, "reference")?, &numbers(case, "current")?)?;
            out.insert("statistic".into(), float_value(r.statistic));
            out.insert("p_value".into(), float_value(r.p_value.p));
        }
        _ => {
            return Err(DriftError::Unsupported {
                what: format!("conformance test `{}`", case.test),
            });
        }
    }
    Ok(out)
}

fn alternative(case: &Case) -> Result<Alternative> {
    match param_str(case, "alternative")? {
        None | Some("two-sided") => Ok(Alternative::TwoSided),
        Some("less") => Ok(Alternative::Less),
        Some("greater") => Ok(Alternative::Greater),
        Some(other) => Err(bad(case, format!("unknown alternative `{other}`"))),
    }
}

fn insert_score(out: &mut Map<String, Value>, score: &evidently::EvidentlyScore) {
    out.insert("score".into(), float_value(score.score));
    out.insert("drifted".into(), Value::Bool(score.drifted));
    out.insert("threshold".into(), float_value(score.threshold));
}

fn bad(case: &Case, reason: String) -> DriftError {
    DriftError::Conformance {
        id: case.id.clone(),
        reason,
    }
}

fn field<'a>(case: &'a Case, name: &str) -> &'a Value {
    match name {
        "reference" => &case.reference,
        _ => &case.current,
    }
}

/// A numeric sample; the strings `"inf"`, `"-inf"` and `"nan"` stand for non-finite values.
pub(crate) fn numbers(case: &Case, name: &str) -> Result<Vec<f64>> {
    let Value::Array(items) = field(case, name) else {
        return Err(bad(case, format!("`{name}` is not a list")));
    };
    items
        .iter()
        .map(|v| match v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| bad(case, format!("`{name}` holds {n}"))),
            Value::String(s) if s == "inf" => Ok(f64::INFINITY),
            Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
            Value::String(s) if s == "nan" => Ok(f64::NAN),
            other => Err(bad(case, format!("`{name}` holds non-number {other}"))),
        })
        .collect()
}

/// A categorical sample: strings as they are, numbers and booleans by their JSON text.
pub(crate) fn labels(case: &Case, name: &str) -> Result<Vec<String>> {
    let Value::Array(items) = field(case, name) else {
        return Err(bad(case, format!("`{name}` is not a list")));
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
            other => Err(bad(case, format!("`{name}` holds non-label {other}"))),
        })
        .collect()
}

pub(crate) fn param_usize(case: &Case, name: &str) -> Result<Option<usize>> {
    match case.params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(case, format!("param `{name}` is not a count: {v}"))),
    }
}

pub(crate) fn param_f64(case: &Case, name: &str) -> Result<Option<f64>> {
    match case.params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| bad(case, format!("param `{name}` is not a number: {v}"))),
    }
}

pub(crate) fn param_str<'a>(case: &'a Case, name: &str) -> Result<Option<&'a str>> {
    match case.params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(bad(case, format!("param `{name}` is not a string: {v}"))),
    }
}
