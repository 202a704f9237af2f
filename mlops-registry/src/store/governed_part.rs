//! The aggregate's governed part as SQL stores persist it: one JSON column holding the
//! protected states and the governance records (`{}` reads as the baseline protection and no
//! records, for rows written before the column existed).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{RegistryError, Result};
use crate::governed::GovernanceRecords;
use crate::model::{ModelAggregate, StateName};

/// The `governed` column.
#[derive(Serialize, Deserialize)]
pub(crate) struct GovernedPart {
    #[serde(default = "baseline_states")]
    pub(crate) protected_states: BTreeSet<StateName>,
    #[serde(default)]
    pub(crate) records: GovernanceRecords,
}

fn baseline_states() -> BTreeSet<StateName> {
    crate::governed::baseline_states().collect()
}

/// The column's JSON for `aggregate`.
pub(crate) fn to_column(aggregate: &ModelAggregate) -> Result<String> {
    serde_json::to_string(&GovernedPart {
        protected_states: aggregate.protected_states().clone(),
        records: aggregate.governance_records().clone(),
    })
    .map_err(|e| RegistryError::Storage {
        message: format!("cannot encode record: {e}"),
    })
}

/// Reads the column.
pub(crate) fn from_column(text: &str) -> Result<GovernedPart> {
    serde_json::from_str(text).map_err(|e| RegistryError::Corrupt {
        detail: format!("bad governed part record: {e}"),
    })
}
