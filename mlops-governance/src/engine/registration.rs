//! Registering models the way governance does: with the lifecycle's protected names from
//! creation.

use mlops_core::{Actor, ModelName, RiskTier, Subject};
use mlops_registry::audit::{AuditAction, AuditDraft};
use mlops_registry::model::{ModelAggregate, Protection, RegisteredModel};
use serde_json::json;

use super::{Governance, Result};

impl Governance {
    /// Registers model `name` owned by `owner` at the default risk tier, protecting from its
    /// creation every state and alias this engine's lifecycle protects (see
    /// [`Governance::protected_names`]). Classify it with
    /// [`assign_risk_tier`](crate::classification::assign_risk_tier).
    ///
    /// # Errors
    /// [`GovernanceError::Registry`](crate::GovernanceError::Registry) for a bad description, a
    /// taken name or a store failure.
    pub fn register_model(
        &self,
        name: &ModelName,
        owner: &Actor,
        description: &str,
    ) -> Result<ModelAggregate> {
        self.create_model(name, owner, description, RiskTier::default())
    }

    fn create_model(
        &self,
        name: &ModelName,
        owner: &Actor,
        description: &str,
        tier: RiskTier,
    ) -> Result<ModelAggregate> {
        let seal = self.seal()?;
        let now = self.clock.now();
        let mut model = RegisteredModel::new(name.clone(), owner.id.clone(), now);
        model.description = description.to_owned();
        let before = model.risk_tier;
        model.risk_tier = tier;
        let mut agg = ModelAggregate::new(model);
        let (states, aliases) = self.protected_names();
        for s in states {
            agg.protect_state(s);
        }
        for a in aliases {
            agg.set_protected(a, Protection::Protected);
        }
        let subject = Subject::Model {
            model: name.clone(),
        };
        let mut drafts = vec![AuditDraft::new(
            now,
            owner.clone(),
            AuditAction::model_registered(),
            subject.clone(),
        )];
        if tier != before {
            drafts.push(
                AuditDraft::new(
                    now,
                    self.system.clone(),
                    AuditAction::RISK_TIER_CHANGED,
                    subject,
                )
                .with_details(
                    json!({ "from": before, "to": tier, "reason": "registered at this tier" }),
                ),
            );
        }
        let stored = agg.clone();
        agg.authorize(seal);
        let drafts = drafts.into_iter().map(|d| d.authorize(seal)).collect();
        self.store.create_model(agg, drafts)?;
        Ok(stored)
    }
}

/// Registration shortcuts for tests and benches (feature `testkit`): not for production, where
/// models are registered with [`Governance::register_model`], classified with
/// [`assign_risk_tier`](crate::classification::assign_risk_tier), and versions created through
/// the store.
#[cfg(feature = "testkit")]
impl Governance {
    /// Registers model `name` at `tier` as [`Governance::register_model`] does; for tests and
    /// benches (the tier is recorded as set by the engine itself, without the
    /// classification's permission check).
    ///
    /// # Errors
    /// As [`Governance::register_model`].
    pub fn register_model_for_test(
        &self,
        name: &ModelName,
        owner: &Actor,
        tier: RiskTier,
    ) -> Result<ModelAggregate> {
        self.create_model(name, owner, "", tier)
    }

    /// Registers model `name` (if new) at `tier` and a first-state version authored by
    /// `author`, with a placeholder artifact; for tests and benches (the tier is recorded as set
    /// by the engine itself, without the classification's permission check).
    ///
    /// # Errors
    /// [`GovernanceError::Registry`](crate::GovernanceError::Registry) on store failure.
    pub fn register_version_for_test(
        &self,
        name: &str,
        author: &Actor,
        tier: RiskTier,
    ) -> Result<mlops_core::ModelRef> {
        let now = self.clock.now();
        let name = ModelName::new(name).map_err(|e| {
            crate::GovernanceError::Registry(mlops_registry::RegistryError::invalid(
                "model name",
                name,
                e.to_string(),
            ))
        })?;
        if self.store.get_model(&name).is_err() {
            self.create_model(&name, author, "", tier)?;
        }
        let core = mlops_registry::model::VersionCore::builder(author.clone(), now)
            .artifact(
                "model.bin",
                "mem://model.bin",
                mlops_core::Digest::of(b"model"),
                5,
            )
            .build()?;
        let created = self.store.create_version(
            mlops_registry::store::NewVersion::new(name, core)
                .with_initial_state(self.lifecycle.initial().clone()),
        )?;
        Ok(created.version.model_ref())
    }
}
