//! Building route tables from the registry's aliases (`champion`, `challenger…`).

use std::collections::BTreeMap;

use mlops_core::{AliasName, ModelName, ModelRef, VersionNumber};

use super::decision::ConfigRevision;
use super::error::{Result, RoutingError};
use super::table::{RouteTable, RouteTableBuilder};
use crate::model::ModelAggregate;
use crate::store::ModelStore;

/// A snapshot of one model's aliases, read from a [`ModelStore`] once, that resolves alias names
/// to versions for building a route table. Its builders carry the model's registry revision as
/// the table's config revision, so every replica that reads the same registry state builds the
/// same table with the same revision.
///
/// ```
/// # use mlops_registry::routing::AliasRoutes;
/// # fn demo(store: &dyn mlops_registry::store::ModelStore) -> Result<(), Box<dyn std::error::Error>> {
/// let routes = AliasRoutes::load(store, &"fraud".parse()?)?;
/// let table = routes
///     .builder()? // champion = the `champion` alias, revision = the model's revision
///     .challenger(routes.resolve(&"challenger".parse()?)?, 10.0)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRoutes {
    model: ModelName,
    revision: ConfigRevision,
    aliases: BTreeMap<AliasName, VersionNumber>,
}

impl AliasRoutes {
    /// Reads `model`'s aliases from `store`.
    ///
    /// # Errors
    /// [`RoutingError::Store`] when the store cannot read the model (for example it does not
    /// exist).
    pub fn load(store: &dyn ModelStore, model: &ModelName) -> Result<Self> {
        Ok(Self::from_aggregate(&store.get_model(model)?))
    }

    /// Takes the aliases of an aggregate already read.
    #[must_use]
    pub fn from_aggregate(aggregate: &ModelAggregate) -> Self {
        Self {
            model: aggregate.name().clone(),
            revision: ConfigRevision::new(aggregate.revision().as_u64()),
            aliases: aggregate
                .aliases()
                .iter()
                .map(|(a, t)| (a.clone(), t.version))
                .collect(),
        }
    }

    /// The model.
    #[must_use]
    pub fn model(&self) -> &ModelName {
        &self.model
    }

    /// The model's registry revision, used as the config revision.
    #[must_use]
    pub fn revision(&self) -> ConfigRevision {
        self.revision
    }

    /// The version `alias` points at.
    ///
    /// # Errors
    /// [`RoutingError::AliasNotFound`] if the alias does not exist.
    pub fn resolve(&self, alias: &AliasName) -> Result<ModelRef> {
        self.aliases
            .get(alias)
            .map(|&v| ModelRef::new(self.model.clone(), v))
            .ok_or_else(|| RoutingError::AliasNotFound {
                model: self.model.clone(),
                alias: alias.clone(),
            })
    }

    /// Whether `other` is the same model with every alias on the same version (the revisions
    /// may differ): a table built from either is the same table.
    #[must_use]
    pub fn same_targets(&self, other: &Self) -> bool {
        self.model == other.model && self.aliases == other.aliases
    }

    /// The aliases whose name starts with `challenger` (`challenger`, `challenger-2`, …), in
    /// name order.
    #[must_use]
    pub fn challenger_aliases(&self) -> Vec<AliasName> {
        self.aliases
            .keys()
            .filter(|a| a.as_str().starts_with("challenger"))
            .cloned()
            .collect()
    }

    /// A builder whose champion is the `champion` alias and whose revision is the model's.
    ///
    /// # Errors
    /// [`RoutingError::AliasNotFound`] if there is no `champion` alias.
    pub fn builder(&self) -> Result<RouteTableBuilder> {
        Ok(RouteTable::builder(self.resolve(&AliasName::champion())?).revision(self.revision))
    }

    /// A builder with the `champion` alias as champion and each `(alias, weight)` as a
    /// challenger (tight lanes).
    ///
    /// # Errors
    /// [`RoutingError::AliasNotFound`] for any alias that does not resolve.
    pub fn builder_with(&self, challengers: &[(AliasName, f64)]) -> Result<RouteTableBuilder> {
        challengers
            .iter()
            .try_fold(self.builder()?, |b, (alias, w)| {
                Ok(b.challenger(self.resolve(alias)?, *w))
            })
    }
}
