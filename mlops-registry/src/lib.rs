//! # mlops-registry
//!
//! Which model versions exist, what each was built from, and which one serves. This crate holds
//! the `ModelStore` trait that hosts wire to their own storage (every mutation a compare-and-swap
//! commit on a per-model revision, so concurrent writers never lose updates), versions with an
//! immutable core and lineage, aliases with history and rollback, in-memory and SQLite stores, a
//! conformance test kit, and an in-process champion/challenger router with sticky assignment,
//! shadows and lock-free hot swap.
//!
//! The capabilities land module by module; see the workspace README for what is available.

pub use mlops_core;

pub mod routing;
