//! # mlops-governance
//!
//! No model reaches production without the right checks and sign-offs, and every step is
//! provable. This crate makes the model lifecycle a state machine defined as data, whose
//! transitions are gated by policies keyed on the model's risk tier (sign-offs with separation of
//! duties, evidence, documentation, freeze windows), with break-glass overrides that are always
//! audited, and a hash-chained audit log that an auditor can verify.
//!
//! Transitions are planned here and committed through `mlops-registry`'s `ModelStore`, atomically
//! with their audit records.
//!
//! - [`lifecycle`]: states and transitions as data, validated on load; the default lifecycle.
//! - [`policy`]: the [`PolicyEngine`](policy::PolicyEngine) trait (fails closed) and the
//!   declarative [`Policy`](policy::Policy) with approvals, evidence, documentation and time
//!   guards, enforcement modes and role permissions.
//! - [`approval`]: approval requests as objects: opened, signed, rejected, expired, cancelled.
//! - [`engine`]: [`Governance`] plans transitions (pure) and commits them through the store with
//!   their audit records; break-glass overrides; approvals; policy changes.
//! - [`contest`]: champion/challenger contests with always-valid sequential statistics,
//!   guardrails, automated promotion and rollback, and bandit allocation.
//! - [`audit`]: the [`AuditLog`](audit::AuditLog) trait, verification, checkpoints, queries.
//!
//! The seeds' governance template, as code built on the engine:
//!
//! - [`classification`]: the use-case questionnaire and a configurable scoring into a risk tier
//!   with its reasons; assigning a model's tier is an audited, permissioned action.
//! - [`raci`]: the RACI matrix (exactly one Accountable per task) and the guard requiring the
//!   Accountable role's sign-off.
//! - [`matrix`]: the governance matrix (tier × consideration → measures), compiled into policy
//!   guards; a default ships, hosts load their own from JSON or TOML.
//! - [`change`]: change classification against an approved change plan; within-plan versions
//!   inherit their baseline's approvals, material changes need full re-approval.
//! - [`card`]: model cards generated from registry and audit records (Markdown, JSON, the fields
//!   the documentation guard checks).
//! - [`report`]: the inventory of every model and the auditor's report for a period.
//! - [`kpi`]: governance KPIs computed from the audit log.

pub mod approval;
pub mod audit;
pub mod card;
pub mod change;
pub mod classification;
pub mod contest;
pub mod engine;
pub mod error;
pub mod kpi;
pub mod lifecycle;
pub mod matrix;
mod names;
pub mod policy;
pub mod raci;
pub mod report;

pub use engine::{Governance, GovernanceBuilder, Plan, PlanContext, Transitioned};
pub use error::{
    ApprovalError, AuditError, GovernanceError, LifecycleError, NameError, PolicyError,
};
pub use error::{ChangeError, ClassificationError, MatrixError, RaciError, ReportError};
pub use names::Period;

pub use mlops_core;
pub use mlops_registry;
