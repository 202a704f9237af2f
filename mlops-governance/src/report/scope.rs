//! What a report covers: the period and the scope (production states, drift checks, required
//! documentation).

use chrono::{DateTime, Utc};
use mlops_registry::model::StateName;
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::lifecycle::names;
use crate::names::Period;

/// A half-open span of time `[start, end)` that a report covers.
///
/// ```
/// use mlops_core::chrono::{TimeZone, Utc};
/// use mlops_governance::audit::MemoryAuditLog;
/// use mlops_governance::report::{AuditReport, ReportScope, ReportingPeriod};
///
/// let march = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
/// let april = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
/// assert!(ReportingPeriod::new(april, march).is_err());
/// // A period without activity is a documented empty result, not an error.
/// let report = AuditReport::build(&MemoryAuditLog::new(), ReportingPeriod::new(march, april)?, &ReportScope::default())?;
/// assert!(report.is_empty());
/// assert!(report.to_markdown().contains("No activity in this period"));
/// # Ok::<(), mlops_governance::ReportError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingPeriod {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl ReportingPeriod {
    /// The period `[start, end)`.
    ///
    /// # Errors
    /// [`ReportError::InvalidPeriod`] unless `start < end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ReportError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(ReportError::InvalidPeriod { start, end })
        }
    }

    /// Whether `at` falls in the period.
    #[must_use]
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// What the reports consider production, which checks are drift checks, and which model-card
/// fields make documentation complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportScope {
    /// The lifecycle states that count as production.
    pub production_states: Vec<StateName>,
    /// Evidence whose check name starts with this is a drift check.
    pub drift_prefix: String,
    /// A drift check older than this is not recent.
    pub drift_max_age: Period,
    /// The model-card fields complete documentation needs.
    pub required_fields: Vec<String>,
}

impl Default for ReportScope {
    /// `production`; checks named `drift.*`, at most 7 days old; `intended_use` and
    /// `limitations`.
    fn default() -> Self {
        Self {
            production_states: vec![names::PRODUCTION],
            drift_prefix: "drift.".into(),
            drift_max_age: const { Period::from_static_days(7) },
            required_fields: vec!["intended_use".into(), "limitations".into()],
        }
    }
}

impl ReportScope {
    pub(super) fn is_production(&self, state: &StateName) -> bool {
        self.production_states.contains(state)
    }
}
