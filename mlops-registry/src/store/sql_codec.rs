//! How the SQL stores (SQLite, PostgreSQL) encode what they keep: records as JSON text, counts
//! as 64-bit integers, and the aggregate's governed part as one JSON column holding the
//! protected states and the governance records (`{}` reads as the baseline protection and no
//! records, for rows written before the column existed).

use std::collections::BTreeSet;

use mlops_core::VersionNumber;
use serde::de::DeserializeOwned;
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

/// A record as JSON text.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| RegistryError::Storage {
        message: format!("cannot encode record: {e}"),
    })
}

/// A record from JSON text; anything that does not parse is corruption.
pub(crate) fn from_json<T: DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| RegistryError::Corrupt {
        detail: format!("bad {what} record: {e}"),
    })
}

/// A count as the SQL 64-bit integer.
pub(crate) fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| RegistryError::Exhausted {
        what: "SQL 64-bit integer range",
    })
}

/// A stored integer as a count; a negative one is corruption.
pub(crate) fn to_u64(what: &str, n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| RegistryError::Corrupt {
        detail: format!("negative {what} {n}"),
    })
}

/// A stored version number.
pub(crate) fn version_number(n: i64) -> Result<VersionNumber> {
    VersionNumber::new(to_u64("version number", n)?).map_err(|_| RegistryError::Corrupt {
        detail: "version number 0".to_owned(),
    })
}
