//! Inventory and audit reports.
//!
//! - [`Inventory`]: a single view of every model: its risk tier, the state of each version, its
//!   champion, its open approval requests and its alarms (an override awaiting its post-hoc
//!   review, a production version without a recent drift check, a failing latest check).
//! - [`AuditReport`]: an auditor's report for a [`ReportingPeriod`]: every version that was in
//!   production at any time in the period, who requested and who approved each transition,
//!   every break-glass override with its justification and the outcome of its review, every
//!   risk-tier change, and the audit chain's verification result.
//!
//! Both render as Markdown and JSON. A period that ends before it starts is a
//! [`ReportError::InvalidPeriod`](crate::ReportError::InvalidPeriod); a valid period without
//! activity gives a report whose lists are empty ([`AuditReport::is_empty`]) and whose Markdown
//! says so — that is the documented empty result, not an error.
//!
//! One idea per file: `scope.rs` (what a report covers: [`ReportingPeriod`], [`ReportScope`]),
//! `inventory.rs`, `audit_report.rs`, and `sources.rs` (what both read from the registry and
//! the audit log).

mod audit_report;
mod inventory;
mod scope;
mod sources;
pub(crate) use sources::evidence_about;

pub use audit_report::{
    AuditReport, ChainStatus, HowApplied, InheritedApprovals, OverrideEntry, ProductionSpell,
    ReviewDecision, ReviewOutcome, TierChangeEntry, TransitionEntry,
};
pub use inventory::{Alarm, Inventory, InventoryEntry, OpenApproval};
pub use scope::{ReportScope, ReportingPeriod};
pub(crate) use sources::{all_models, last_drift_check, verdict_of, version_of};
