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
//! - [`audit`]: the [`AuditLog`](audit::AuditLog) trait, verification, checkpoints, queries.

pub mod approval;
pub mod audit;
pub mod engine;
pub mod error;
pub mod lifecycle;
mod names;
pub mod policy;

pub use engine::{Governance, GovernanceBuilder, Plan, PlanContext, Transitioned};
pub use error::{
    ApprovalError, AuditError, GovernanceError, LifecycleError, NameError, PolicyError,
};
pub use names::Period;

pub use mlops_core;
pub use mlops_registry;
