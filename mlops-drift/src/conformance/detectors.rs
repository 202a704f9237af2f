//! Online change detector cases (`stream_cases.json`). Filled in by the streaming work (issue 4).

use serde_json::{Map, Value};

use super::Case;
use crate::error::{DriftError, Result};

/// Computes one detector case.
///
/// # Errors
/// [`DriftError::Unsupported`] for a detector this runner does not know yet.
pub fn run_case(case: &Case) -> Result<Map<String, Value>> {
    Err(DriftError::Unsupported {
        what: format!("conformance test `{}`", case.test),
    })
}
