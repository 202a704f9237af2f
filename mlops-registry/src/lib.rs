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
//! - [`governed`]: what only governance may change (protected states and aliases, risk tiers,
//!   approval requests), refused at the commit boundary without the [`governed::GovernanceSeal`].
//! - [`consistency`]: the check that every protected state, alias and tier is explained by a
//!   governance record in the audit chain.
//! - [`routing`]: the champion/challenger [`Router`](routing::Router): route tables built from
//!   aliases, sticky assignment by a stable hash, ramps, segments, shadows, the sample-ratio
//!   check and the kill switch.
//!
//! ## Versions, lineage and aliases
//!
//! A registered model has numbered versions. Each version's [`VersionCore`](model::VersionCore)
//! (its artifacts with digests, and its lineage: datasets with digests, code reference,
//! parameters, training metrics, parent version, drift profile) is fixed at creation and never
//! changes; what may change (state, tags, description) lives beside it. Version numbers are never
//! reused, even under concurrent creation. Aliases such as `champion` and `challenger` name the
//! version that plays a role; every move is kept in the alias history, so "which version served
//! at 14:00 last Tuesday" and a rollback are one call each.
//!
//! ## Revisions: no lost updates
//!
//! Everything about one model (its versions' states, aliases, tags, histories) is one
//! [`ModelAggregate`](model::ModelAggregate) carrying a [`Revision`](model::Revision). Every
//! change is a compare-and-swap: read the aggregate, change it, and
//! [`commit`](store::ModelStore::commit) it with the revision you read and the audit records
//! describing the change. If anyone committed in between, the store refuses with
//! [`RegistryError::Conflict`] and writes nothing; [`Registry::update`] re-reads and retries for
//! you. Two writers racing get one success and one conflict, never a silent overwrite, and the
//! audit records are written in the same atomic commit as the change they describe.
//!
//! ```
//! use mlops_core::chrono::DateTime;
//! use mlops_core::{ActorId, ModelName};
//! use mlops_registry::RegistryError;
//! use mlops_registry::model::{ModelAggregate, RegisteredModel};
//! use mlops_registry::store::{InMemoryStore, ModelStore};
//!
//! let store = InMemoryStore::new();
//! let name = ModelName::new("churn")?;
//! let owner = ActorId::new("alice")?;
//! let model = RegisteredModel::new(name.clone(), owner, DateTime::UNIX_EPOCH);
//! store.create_model(ModelAggregate::new(model), vec![])?;
//!
//! // Two writers read the same revision.
//! let mut first = store.get_model(&name)?;
//! let mut second = store.get_model(&name)?;
//! let read = first.revision();
//! first.model_mut().description = "monthly churn".into();
//! second.model_mut().description = "weekly churn".into();
//! store.commit(&name, read, first, vec![])?;
//! assert!(matches!(
//!     store.commit(&name, read, second, vec![]),
//!     Err(RegistryError::Conflict { .. })
//! ));
//! assert_eq!(store.get_model(&name)?.model().description, "monthly churn");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Storage
//!
//! [`ModelStore`](store::ModelStore) is synchronous, object-safe and `Send + Sync`. The crate
//! ships [`InMemoryStore`](store::InMemoryStore) (tests, the quickstart), `SqliteStore` (feature
//! `sqlite`: one process that must survive restarts) and the conformance kit (feature
//! `testkit`) that any host implementation runs in its own tests; see the workspace README and
//! `examples/examples/custom_store.rs`.

pub mod audit;
pub mod consistency;
pub mod error;
pub mod governed;
#[cfg(feature = "metrics")]
pub mod metrics;
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
