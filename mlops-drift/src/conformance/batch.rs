//! Batch statistics cases (`drift_cases.json`): one arm per `test`, each computing the values
//! under the keys of that test's `expected` from `reference`, `current` and `params` only.

use serde_json::{Map, Value};

use super::{Case, float_value};
use crate::error::{DriftError, Result};
use crate::stats::{categorical, distance, evidently, psi};

/// Computes one batch case.
///
/// # Errors
/// [`DriftError::Unsupported`] for a test this runner does not know,
/// [`DriftError::Conformance`] for malformed inputs, or the statistic's own error.
pub fn run_case(case: &Case) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    match case.test.as_str() {
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
        _ => {
            return Err(DriftError::Unsupported {
                what: format!("conformance test `{}`", case.test),
            });
        }
    }
    Ok(out)
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

#[allow(dead_code)] // reason: used by the order-statistic arms once `drift-order` is merged
pub(crate) fn param_str<'a>(case: &'a Case, name: &str) -> Result<Option<&'a str>> {
    match case.params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(bad(case, format!("param `{name}` is not a string: {v}"))),
    }
}
