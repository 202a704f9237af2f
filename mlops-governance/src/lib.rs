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
//! The capabilities land module by module; see the workspace README for what is available.

pub use mlops_core;
pub use mlops_registry;
