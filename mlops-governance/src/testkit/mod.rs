//! Conformance test kits for the traits hosts implement (feature `testkit`): [`audit_log`] for
//! [`AuditLog`](crate::audit::AuditLog) and [`policy_engine`] for
//! [`PolicyEngine`](crate::policy::PolicyEngine).
//!
//! Each kit has one public function per behaviour, taking the trait object and panicking with a
//! clear message when the implementation breaks the contract, and a `run_all`. The functions
//! work relative to what is already there (an audit log that holds records, any policy), so
//! they run in any order and more than once.
//!
//! A host implementing one of the traits adds `mlops-governance = { features = ["testkit"] }`
//! to its dev-dependencies and calls, in a test:
//!
//! ```
//! use mlops_governance::audit::MemoryAuditLog;
//! use mlops_governance::policy::Policy;
//! use mlops_governance::testkit;
//!
//! testkit::audit_log::run_all(&MemoryAuditLog::new());
//! testkit::policy_engine::run_all(&Policy::permissive("anything-goes"));
//! ```
//!
//! The feature also enables the registration shortcuts tests and benches use
//! ([`Governance::register_version_for_test`](crate::Governance::register_version_for_test)).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test kit asserts: panicking with a message is how it reports a failure"
)]

pub mod audit_log;
pub mod policy_engine;
