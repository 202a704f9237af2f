//! Batch statistics cases (`drift_cases.json`). Filled in by the batch statistics work (issue 3).

use serde_json::{Map, Value};

use super::Case;
use crate::error::{DriftError, Result};

/// Computes one batch case.
///
/// # Errors
/// [`DriftError::Unsupported`] for a test this runner does not know yet.
pub fn run_case(case: &Case) -> Result<Map<String, Value>> {
    Err(DriftError::Unsupported {
        what: format!("conformance test `{}`", case.test),
    })
}
