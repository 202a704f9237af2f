//! # mlops-registry
//!
//! Which model versions exist, what each was built from, and which one serves. This crate holds
//! the `ModelStore` trait that hosts wire to their own storage (every mutation a compare-and-swap
//! commit on a per-model revision, so concurrent writers never lose updates), versions with an
//! immutable core and lineage, aliases with history and rollback, in-memory and SQLite stores, a
//! conformance test kit, and an in-process champion/challenger router with sticky assignment,
//! shadows and lock-free hot swap.
//!
//! - [`model`]: registered models, versions ([`model::VersionCore`] is immutable), aliases,
//!   lifecycle state names, history, and the per-model [`model::ModelAggregate`].
//! - [`store`]: the [`store::ModelStore`] trait, its query types, [`store::InMemoryStore`] and
//!   (feature `sqlite`) the durable `SqliteStore`.
//! - `testkit` (feature `testkit`): the conformance test kit any `ModelStore` runs.
//! - [`Registry`]: the facade (register, add version, set alias with retry, tag, search,
//!   lineage, history).
//! - [`audit`]: hash-chained audit records shared with governance.

pub mod audit;
pub mod error;
pub mod model;
pub mod registry;
pub mod store;

pub use error::{EntityKind, RegistryError, Result};
pub use mlops_core;
pub use registry::{Registry, RetryPolicy};
pub use serde_json;
#[cfg(feature = "testkit")]
pub mod testkit;

pub mod routing;
