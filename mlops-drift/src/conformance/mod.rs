//! The conformance runner: reads case files in the format of the team's `shared/conformance/`
//! (see its README), computes every case from its inputs only (never from `expected`), and
//! compares with the stated tolerance.
//!
//! [`run_case`] dispatches on the case's `test` field: batch statistics to [`batch`], online
//! change detectors to [`detectors`].

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{DriftError, Result};

pub mod batch;
pub mod detectors;

/// A case file: `{"generated_by", "note", "cases": [...]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseFile {
    /// The tool and versions that produced `expected`.
    #[serde(default)]
    pub generated_by: String,
    /// Free text.
    #[serde(default)]
    pub note: String,
    /// The cases.
    pub cases: Vec<Case>,
}

/// One case. Inputs are kept as JSON values because their shape depends on `test`.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// Unique id, such as `ks_2samp-017`.
    pub id: String,
    /// Which statistic or detector.
    pub test: String,
    /// The call that produced `expected` (documentation only).
    #[serde(default)]
    pub call: String,
    /// Parameters of the call.
    #[serde(default)]
    pub params: Value,
    /// The reference sample (batch cases).
    #[serde(default)]
    pub reference: Value,
    /// The current sample (batch cases).
    #[serde(default)]
    pub current: Value,
    /// `real` or `binary` (detector cases).
    #[serde(default)]
    pub kind: String,
    /// The values fed one at a time (detector cases).
    #[serde(default)]
    pub stream: Value,
    /// The expected values; absent in files given to the runner.
    #[serde(default)]
    pub expected: Option<Map<String, Value>>,
}

/// Reads a case file.
///
/// # Errors
/// [`DriftError::Conformance`] if the text is not a case file.
pub fn parse_file(text: &str) -> Result<CaseFile> {
    serde_json::from_str(text).map_err(|e| DriftError::Conformance {
        id: String::new(),
        reason: e.to_string(),
    })
}

/// Computes one case from its inputs, returning the values under the same keys as `expected`.
///
/// # Errors
/// [`DriftError::Conformance`] or the statistic's own error when the case cannot be computed;
/// an unknown `test` is [`DriftError::Unsupported`].
pub fn run_case(case: &Case) -> Result<Map<String, Value>> {
    match case.test.as_str() {
        "adwin" | "page_hinkley" | "cusum" | "ddm" | "eddm" | "hddm_a" | "hddm_w" => {
            detectors::run_case(case)
        }
        _ => batch::run_case(case),
    }
}

/// Whether a computed value agrees with an expected one under the README's rule: floats within
/// `1e-9 · max(1, |want|)`, p-values below 1e-300 agree when both are; integers, booleans,
/// strings and lists exactly (lists element-wise by the same rule); `"inf"`/`"-inf"`/`"nan"`
/// strings stand for the non-finite floats.
#[must_use]
pub fn agrees(got: &Value, want: &Value) -> bool {
    match (as_float(got), as_float(want)) {
        (Some(g), Some(w)) => floats_agree(g, w),
        _ => match (got, want) {
            (Value::Array(g), Value::Array(w)) => {
                g.len() == w.len() && g.iter().zip(w).all(|(g, w)| agrees(g, w))
            }
            _ => got == want,
        },
    }
}

fn floats_agree(got: f64, want: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    if want.abs() < 1e-300 && got.abs() < 1e-300 {
        return true;
    }
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

/// Floats (JSON numbers written with a fraction or exponent, or the non-finite strings); JSON
/// integers are not floats, so integer fields such as `dof` compare exactly.
fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            "nan" => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}

/// Encodes a float the way the case files do: non-finite values as strings.
#[must_use]
pub fn float_value(x: f64) -> Value {
    if x.is_nan() {
        Value::String("nan".into())
    } else if x.is_infinite() {
        Value::String(if x > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}
