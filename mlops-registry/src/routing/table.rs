//! Route tables: immutable, validated snapshots of a routing configuration, and their builder.
//!
//! # Bucket layout
//!
//! The 10 000 buckets are laid out from the top down. Challenger *i* (in the order added)
//! reserves a **lane** of the buckets below the lanes of the challengers before it, and serves
//! the top *wᵢ* buckets of its lane; every bucket not served by a challenger belongs to the
//! champion. A lane is as wide as the challenger's weight, unless it is ramped (the lane is the
//! ramp's last step) or given an explicit lane.
//!
//! This gives the ramp guarantees, both property-tested:
//!
//! - With the same salt and lanes (which a ramp keeps fixed), raising challenger shares moves
//!   units only from the champion to a raised challenger: none goes back to the champion and
//!   none moves between challengers.
//! - With tight lanes (no ramp, no explicit lane), the challengers together serve the top
//!   `Σ wᵢ` buckets, so raising any challenger's share never moves a unit back to the champion.
//!
//! A weight resolves to whole buckets (0.01 % of traffic): `round(w / total × 10 000)`.

use mlops_core::{ModelName, ModelRef, VersionNumber};
use serde::{Deserialize, Serialize};

use super::decision::{ArmRole, ConfigRevision, Decision, Reason, ShadowSet};
use super::error::{Result, RoutingError, shorten};
use super::exposure::{ArmExposure, ExposureCounters, ExposureSnapshot, MAX_ARMS};
use super::hash::{BUCKETS, Bucket, Salt, unit_hash};
use super::ramp::Ramp;

/// The most challengers a table can hold.
pub const MAX_CHALLENGERS: usize = MAX_ARMS - 1;
/// The most shadows a table can hold.
pub const MAX_SHADOWS: usize = 16;

/// A request to route: the unit id (user, account, request id — any bytes, possibly empty) and
/// optional attributes that segment rules match on. Borrowed, `Copy`, allocation-free.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    unit: &'a [u8],
    attributes: &'a [(&'a str, &'a str)],
}

impl<'a> Request<'a> {
    /// A request for `unit`, without attributes.
    #[must_use]
    pub fn new(unit: &'a [u8]) -> Self {
        Self {
            unit,
            attributes: &[],
        }
    }

    /// Adds attributes (`(name, value)` pairs) for segment rules.
    #[must_use]
    pub fn with_attributes(mut self, attributes: &'a [(&'a str, &'a str)]) -> Self {
        self.attributes = attributes;
        self
    }

    /// The unit id.
    #[must_use]
    pub fn unit(&self) -> &'a [u8] {
        self.unit
    }

    fn attribute(&self, name: &str) -> Option<&'a str> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == name)
            .map(|&(_, v)| v)
    }
}

/// One condition of a segment rule, on one request attribute. A missing attribute satisfies
/// no condition (not even [`Condition::NotOneOf`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Condition {
    /// The attribute equals the value.
    Equals {
        /// The attribute's name.
        attribute: String,
        /// The value.
        value: String,
    },
    /// The attribute equals one of the values.
    OneOf {
        /// The attribute's name.
        attribute: String,
        /// The values.
        values: Vec<String>,
    },
    /// The attribute is present and equals none of the values.
    NotOneOf {
        /// The attribute's name.
        attribute: String,
        /// The values.
        values: Vec<String>,
    },
}

impl Condition {
    fn matches(&self, req: &Request<'_>) -> bool {
        match self {
            Self::Equals { attribute, value } => req.attribute(attribute) == Some(value.as_str()),
            Self::OneOf { attribute, values } => req
                .attribute(attribute)
                .is_some_and(|v| values.iter().any(|x| x == v)),
            Self::NotOneOf { attribute, values } => req
                .attribute(attribute)
                .is_some_and(|v| values.iter().all(|x| x != v)),
        }
    }
}

/// A segment rule: when every condition holds, the request goes to `target` (the champion or a
/// challenger) with [`Reason::Segment`], before any hashing. Rules are tried in the order added;
/// the first match wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRule {
    /// A name for the rule, for explanations.
    pub name: String,
    /// The conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// The version that serves matching requests.
    pub target: VersionNumber,
}

impl SegmentRule {
    /// A rule with no conditions yet.
    #[must_use]
    pub fn new(name: impl Into<String>, target: VersionNumber) -> Self {
        Self {
            name: name.into(),
            conditions: Vec::new(),
            target,
        }
    }

    /// Adds the condition `attribute == value`.
    #[must_use]
    pub fn when_equals(mut self, attribute: impl Into<String>, value: impl Into<String>) -> Self {
        self.conditions.push(Condition::Equals {
            attribute: attribute.into(),
            value: value.into(),
        });
        self
    }

    /// Adds a condition.
    #[must_use]
    pub fn when(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }
}

/// How a challenger's weight is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ShareSpec {
    Fixed { weight: f64, lane: Option<f64> },
    Ramped { ramp: Ramp, step: usize },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ChallengerSpec {
    arm: ModelRef,
    share: ShareSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ShadowSpec {
    arm: ModelRef,
    mirror: f64,
}

/// Builds a [`RouteTable`]. Every check happens in [`build`](Self::build); the builder itself
/// never fails. Clone it (or take [`RouteTable::to_builder`]) to make the next revision.
///
/// ```
/// use mlops_registry::routing::{Ramp, RouteTable, SegmentRule, ConfigRevision};
///
/// let table = RouteTable::builder("fraud@v3".parse()?)
///     .salt("fraud-2026-q1".parse()?)
///     .revision(ConfigRevision::new(7))
///     .challenger("fraud@v4".parse()?, 10.0)
///     // 5 % now; the lane reserves the ramp's last step, 50 %.
///     .ramped_challenger("fraud@v5".parse()?, Ramp::new([1.0, 5.0, 10.0, 50.0])?, 1)
///     .shadow("fraud@v6".parse()?, 50.0)
///     .segment(SegmentRule::new("eu-stays-on-champion", "v3".parse()?).when_equals("region", "eu"))
///     .override_unit("qa-tester-1", "v5".parse()?)
///     .build()?;
/// assert_eq!(table.revision(), ConfigRevision::new(7));
/// assert_eq!(table.champion_share(), 0.85);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTableBuilder {
    champion: ModelRef,
    champion_weight: Option<f64>,
    total: f64,
    salt: Option<Salt>,
    revision: ConfigRevision,
    challengers: Vec<ChallengerSpec>,
    shadows: Vec<ShadowSpec>,
    segments: Vec<SegmentRule>,
    overrides: Vec<(Vec<u8>, VersionNumber)>,
}

impl RouteTableBuilder {
    /// A builder whose champion takes all traffic; weights total 100, revision 1, and the salt
    /// defaults to the model's name (when it is a valid salt; otherwise `default`).
    #[must_use]
    pub fn new(champion: ModelRef) -> Self {
        Self {
            champion,
            champion_weight: None,
            total: 100.0,
            salt: None,
            revision: ConfigRevision::new(1),
            challengers: Vec::new(),
            shadows: Vec::new(),
            segments: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// The experiment's salt. Changing it reshuffles every unit.
    #[must_use]
    pub fn salt(mut self, salt: Salt) -> Self {
        self.salt = Some(salt);
        self
    }

    /// The config revision the table will carry.
    #[must_use]
    pub fn revision(mut self, revision: ConfigRevision) -> Self {
        self.revision = revision;
        self
    }

    /// The total the weights are expressed against (default 100: percent).
    #[must_use]
    pub fn weights_total(mut self, total: f64) -> Self {
        self.total = total;
        self
    }

    /// An explicit champion weight: then champion and challenger weights must sum to the total.
    /// Without it the champion takes whatever the challengers leave.
    #[must_use]
    pub fn champion_weight(mut self, weight: f64) -> Self {
        self.champion_weight = Some(weight);
        self
    }

    /// Adds a challenger with a fixed weight and a lane as wide as the weight.
    #[must_use]
    pub fn challenger(mut self, arm: ModelRef, weight: f64) -> Self {
        self.challengers.push(ChallengerSpec {
            arm,
            share: ShareSpec::Fixed { weight, lane: None },
        });
        self
    }

    /// Adds a challenger with a fixed weight and an explicit, wider lane reserved for it, so
    /// later raising its weight up to `lane` moves units only from the champion to it.
    #[must_use]
    pub fn challenger_with_lane(mut self, arm: ModelRef, weight: f64, lane: f64) -> Self {
        self.challengers.push(ChallengerSpec {
            arm,
            share: ShareSpec::Fixed {
                weight,
                lane: Some(lane),
            },
        });
        self
    }

    /// Adds a ramped challenger at `step` of `ramp` (shares in percent of all traffic); its lane
    /// is the ramp's last step.
    #[must_use]
    pub fn ramped_challenger(mut self, arm: ModelRef, ramp: Ramp, step: usize) -> Self {
        self.challengers.push(ChallengerSpec {
            arm,
            share: ShareSpec::Ramped { ramp, step },
        });
        self
    }

    /// Moves the ramped challenger `version` to its next step and returns the new share in
    /// percent. Build the result with a higher revision and publish it.
    ///
    /// # Errors
    /// [`RoutingError::UnknownArm`] if `version` is not a ramped challenger;
    /// [`RoutingError::RampStepOutOfRange`] if it is already at its last step.
    pub fn advance_ramp(&mut self, version: VersionNumber) -> Result<f64> {
        let spec = self
            .challengers
            .iter_mut()
            .find(|c| c.arm.version() == version)
            .ok_or(RoutingError::UnknownArm { version })?;
        match &mut spec.share {
            ShareSpec::Ramped { ramp, step } => {
                let share = ramp.share(*step + 1)?;
                *step += 1;
                Ok(share)
            }
            ShareSpec::Fixed { .. } => Err(RoutingError::UnknownArm { version }),
        }
    }

    /// Removes the challenger `version`, with the segment rules and overrides that target it
    /// (its traffic goes back to the champion; an explicit champion weight is dropped so the
    /// champion takes what the remaining challengers leave). Build the result with a higher
    /// revision and publish it.
    ///
    /// # Errors
    /// [`RoutingError::UnknownArm`] if `version` is not a challenger.
    pub fn remove_challenger(&mut self, version: VersionNumber) -> Result<()> {
        let before = self.challengers.len();
        self.challengers.retain(|c| c.arm.version() != version);
        if self.challengers.len() == before {
            return Err(RoutingError::UnknownArm { version });
        }
        self.segments.retain(|r| r.target != version);
        self.overrides.retain(|(_, v)| *v != version);
        self.champion_weight = None;
        Ok(())
    }

    /// Adds a shadow, mirrored `mirror` percent of the requests the champion serves.
    #[must_use]
    pub fn shadow(mut self, arm: ModelRef, mirror: f64) -> Self {
        self.shadows.push(ShadowSpec { arm, mirror });
        self
    }

    /// Adds a segment rule (tried in the order added, before hashing).
    #[must_use]
    pub fn segment(mut self, rule: SegmentRule) -> Self {
        self.segments.push(rule);
        self
    }

    /// Forces `unit` onto the serving arm `version` (for QA). Overrides win over segments.
    #[must_use]
    pub fn override_unit(mut self, unit: impl AsRef<[u8]>, version: VersionNumber) -> Self {
        self.overrides.push((unit.as_ref().to_vec(), version));
        self
    }

    fn weight_of(&self, arm: &ModelRef, w: f64) -> Result<f64> {
        if w.is_finite() && w >= 0.0 {
            Ok(w)
        } else {
            Err(RoutingError::InvalidWeight {
                arm: arm.clone(),
                weight: w,
            })
        }
    }

    fn to_buckets(&self, w: f64) -> u32 {
        // w is finite, in [0, total]: the product is in [0, 10 000].
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "the value is a finite number in [0, 10 000]"
        )]
        let b = (w / self.total * f64::from(BUCKETS)).round() as u32;
        b
    }

    /// Validates and builds the table.
    ///
    /// # Errors
    /// Any [`RoutingError`] variant that describes a bad table: `InvalidTotal`, `InvalidWeight`,
    /// `WeightsDoNotSum`, `LaneTooSmall`, `LanesExceedBuckets`, `DuplicateArm`,
    /// `ChallengerIsChampion`, `ModelMismatch`, `TooManyArms`, `UnknownArm`,
    /// `DuplicateOverride`, `EmptySegment`, `RampStepOutOfRange`.
    pub fn build(&self) -> Result<RouteTable> {
        if !(self.total.is_finite() && self.total > 0.0) {
            return Err(RoutingError::InvalidTotal { total: self.total });
        }
        let model = self.champion.name().clone();
        if self.challengers.len() > MAX_CHALLENGERS {
            return Err(RoutingError::TooManyArms {
                what: "challengers",
                count: self.challengers.len(),
                max: MAX_CHALLENGERS,
            });
        }
        if self.shadows.len() > MAX_SHADOWS {
            return Err(RoutingError::TooManyArms {
                what: "shadows",
                count: self.shadows.len(),
                max: MAX_SHADOWS,
            });
        }
        // Identity checks: same model, no duplicates, no challenger equal to the champion.
        let mut seen: Vec<VersionNumber> = vec![self.champion.version()];
        let others = self
            .challengers
            .iter()
            .map(|c| (&c.arm, true))
            .chain(self.shadows.iter().map(|s| (&s.arm, false)));
        for (arm, is_challenger) in others {
            if arm.name() != &model {
                return Err(RoutingError::ModelMismatch {
                    model,
                    arm: arm.clone(),
                });
            }
            if is_challenger && arm.version() == self.champion.version() {
                return Err(RoutingError::ChallengerIsChampion { arm: arm.clone() });
            }
            if seen.contains(&arm.version()) {
                return Err(RoutingError::DuplicateArm { arm: arm.clone() });
            }
            seen.push(arm.version());
        }

        // Weights and lanes.
        let pct = self.total / 100.0;
        let mut resolved: Vec<(f64, f64)> = Vec::with_capacity(self.challengers.len());
        for c in &self.challengers {
            let (w, lane) = match &c.share {
                ShareSpec::Fixed { weight, lane } => {
                    let w = self.weight_of(&c.arm, *weight)?;
                    let lane = match lane {
                        Some(l) => self.weight_of(&c.arm, *l)?,
                        None => w,
                    };
                    (w, lane)
                }
                ShareSpec::Ramped { ramp, step } => (ramp.share(*step)? * pct, ramp.last() * pct),
            };
            // A lane wider than all traffic is meaningless, and its buckets would saturate.
            if lane > self.total * (1.0 + 1e-9) {
                return Err(RoutingError::InvalidWeight {
                    arm: c.arm.clone(),
                    weight: lane,
                });
            }
            if w > lane {
                return Err(RoutingError::LaneTooSmall {
                    arm: c.arm.clone(),
                    weight: w,
                    lane,
                });
            }
            resolved.push((w, lane));
        }
        let challenger_sum: f64 = resolved.iter().map(|(w, _)| w).sum();
        let tolerance = 1e-9 * self.total;
        match self.champion_weight {
            Some(cw) => {
                let cw = self.weight_of(&self.champion, cw)?;
                let sum = cw + challenger_sum;
                if (sum - self.total).abs() > tolerance {
                    return Err(RoutingError::WeightsDoNotSum {
                        sum,
                        total: self.total,
                    });
                }
            }
            None => {
                if challenger_sum > self.total + tolerance {
                    return Err(RoutingError::WeightsDoNotSum {
                        sum: challenger_sum,
                        total: self.total,
                    });
                }
            }
        }
        // Summed wide: each lane is at most the whole table, 10 000 buckets.
        let lanes_needed: u64 = resolved
            .iter()
            .map(|&(_, l)| u64::from(self.to_buckets(l)))
            .sum();
        if lanes_needed > u64::from(BUCKETS) {
            return Err(RoutingError::LanesExceedBuckets {
                needed: u32::try_from(lanes_needed).unwrap_or(u32::MAX),
            });
        }

        // Layout, from the top down.
        let mut lookup = vec![0_u8; usize::from(BUCKETS)].into_boxed_slice();
        let mut arms = vec![ArmInfo {
            version: self.champion.version(),
            role: ArmRole::Champion,
            buckets: 0,
            probability: 0.0,
        }];
        let mut lane_end = usize::from(BUCKETS);
        let mut served_by_challengers = 0_u32;
        for (i, (c, &(w, lane))) in self.challengers.iter().zip(&resolved).enumerate() {
            let wb = self.to_buckets(w);
            let lb = self.to_buckets(lane).max(wb);
            let start = lane_end.saturating_sub(wb as usize);
            #[expect(clippy::cast_possible_truncation, reason = "at most 15 challengers")]
            let arm_index = (i + 1) as u8;
            if let Some(slots) = lookup.get_mut(start..lane_end) {
                slots.fill(arm_index);
            }
            lane_end = lane_end.saturating_sub(lb as usize);
            served_by_challengers += wb;
            #[expect(clippy::cast_possible_truncation, reason = "at most 10 000")]
            arms.push(ArmInfo {
                version: c.arm.version(),
                role: ArmRole::Challenger,
                buckets: wb as u16,
                probability: f64::from(wb) / f64::from(BUCKETS),
            });
        }
        let champion_buckets = u32::from(BUCKETS).saturating_sub(served_by_challengers);
        if let Some(ch) = arms.first_mut() {
            #[expect(clippy::cast_possible_truncation, reason = "at most 10 000")]
            {
                ch.buckets = champion_buckets as u16;
            }
            ch.probability = f64::from(champion_buckets) / f64::from(BUCKETS);
        }

        let arm_of = |v: VersionNumber| -> Result<u8> {
            arms.iter()
                .position(|a| a.version == v)
                .and_then(|p| u8::try_from(p).ok())
                .ok_or(RoutingError::UnknownArm { version: v })
        };

        // Segments and overrides.
        let mut segments = Vec::with_capacity(self.segments.len());
        for rule in &self.segments {
            if rule.conditions.is_empty() {
                return Err(RoutingError::EmptySegment {
                    name: shorten(&rule.name),
                });
            }
            segments.push((rule.clone(), arm_of(rule.target)?));
        }
        let mut overrides: Vec<(Box<[u8]>, u8)> = Vec::with_capacity(self.overrides.len());
        for (unit, v) in &self.overrides {
            overrides.push((unit.clone().into_boxed_slice(), arm_of(*v)?));
        }
        overrides.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = overrides
            .windows(2)
            .find(|w| matches!(w, [a, b] if a.0 == b.0))
            && let Some((unit, _)) = w.first()
        {
            return Err(RoutingError::DuplicateOverride {
                unit: shorten(&String::from_utf8_lossy(unit)),
            });
        }

        let mut shadows = Vec::with_capacity(self.shadows.len());
        for s in &self.shadows {
            let m = self.weight_of(&s.arm, s.mirror)?;
            if m > 100.0 {
                return Err(RoutingError::InvalidWeight {
                    arm: s.arm.clone(),
                    weight: m,
                });
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "m is finite in [0, 100]"
            )]
            let mirror_buckets = (m / 100.0 * f64::from(BUCKETS)).round() as u16;
            shadows.push(ShadowInfo {
                version: s.arm.version(),
                mirror_buckets,
            });
        }

        let salt = match &self.salt {
            Some(s) => s.clone(),
            None => Salt::new(model.as_str()).or_else(|_| Salt::new("default"))?,
        };
        let table = RouteTable {
            inner: Layout {
                model,
                salt,
                arms,
                lookup,
                shadows,
                segments,
                overrides,
                spec: self.clone(),
            },
            revision: self.revision,
            killed: false,
            hash_decisions: [Decision::PLACEHOLDER; MAX_ARMS],
            exposures: ExposureCounters::new(),
        };
        let mut table = table;
        table.hash_decisions = hash_decisions(&table.inner.arms, table.revision);
        tracing::debug!(
            model = %table.model(),
            revision = table.revision.get(),
            challengers = table.inner.arms.len() - 1,
            shadows = table.inner.shadows.len(),
            "route table built"
        );
        Ok(table)
    }
}

/// A serving arm of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArmInfo {
    /// The version.
    pub version: VersionNumber,
    /// Champion or challenger.
    pub role: ArmRole,
    /// Buckets it serves by hash.
    pub buckets: u16,
    /// `buckets / 10 000`.
    pub probability: f64,
}

/// A shadow of a table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShadowInfo {
    /// The version.
    pub version: VersionNumber,
    /// Mirror buckets out of 10 000 (the share of champion-served requests mirrored).
    pub mirror_buckets: u16,
}

/// The immutable part of a table (cloned into its killed copy).
#[derive(Debug, Clone)]
struct Layout {
    model: ModelName,
    salt: Salt,
    arms: Vec<ArmInfo>,
    lookup: Box<[u8]>,
    shadows: Vec<ShadowInfo>,
    segments: Vec<(SegmentRule, u8)>,
    overrides: Vec<(Box<[u8]>, u8)>,
    spec: RouteTableBuilder,
}

/// An immutable, validated route table for one model: champion, challengers with their buckets,
/// shadows, segment rules, overrides, salt and config revision, plus the exposure counters of
/// this revision. Routing through it cannot fail and allocates nothing.
#[derive(Debug)]
pub struct RouteTable {
    inner: Layout,
    revision: ConfigRevision,
    killed: bool,
    /// The decision of each arm for [`Reason::Hash`], ready to copy (bucket and shadows unset).
    hash_decisions: [Decision; MAX_ARMS],
    exposures: ExposureCounters,
}

/// The hash decisions of `arms` at `revision` (unused slots hold the champion's).
fn hash_decisions(arms: &[ArmInfo], revision: ConfigRevision) -> [Decision; MAX_ARMS] {
    let make = |a: &ArmInfo, i: usize| Decision {
        version: a.version,
        revision,
        probability: a.probability,
        role: a.role,
        reason: Reason::Hash,
        arm: u8::try_from(i).unwrap_or(0),
        bucket: None,
        shadows: ShadowSet::EMPTY,
    };
    let fallback = ArmInfo {
        version: VersionNumber::FIRST,
        role: ArmRole::Champion,
        buckets: 0,
        probability: 0.0,
    };
    let champion = arms.first().unwrap_or(&fallback);
    std::array::from_fn(|i| match arms.get(i) {
        Some(a) => make(a, i),
        None => make(champion, 0),
    })
}

impl RouteTable {
    /// A builder with `champion` taking all traffic.
    #[must_use]
    pub fn builder(champion: ModelRef) -> RouteTableBuilder {
        RouteTableBuilder::new(champion)
    }

    /// The builder this table was built from, to make the next revision.
    #[must_use]
    pub fn to_builder(&self) -> RouteTableBuilder {
        self.inner.spec.clone()
    }

    /// The same table with the kill switch on, at `revision`: every request goes to the
    /// champion with [`Reason::KillSwitch`], nothing is mirrored, counters start at zero.
    #[must_use]
    pub fn killed(&self, revision: ConfigRevision) -> Self {
        Self {
            inner: self.inner.clone(),
            revision,
            killed: true,
            hash_decisions: hash_decisions(&self.inner.arms, revision),
            exposures: ExposureCounters::new(),
        }
    }

    /// The model routed.
    #[must_use]
    pub fn model(&self) -> &ModelName {
        &self.inner.model
    }

    /// The config revision.
    #[must_use]
    pub fn revision(&self) -> ConfigRevision {
        self.revision
    }

    /// The salt.
    #[must_use]
    pub fn salt(&self) -> &Salt {
        &self.inner.salt
    }

    /// Whether the kill switch is on.
    #[must_use]
    pub fn is_killed(&self) -> bool {
        self.killed
    }

    /// The serving arms: the champion, then the challengers in the order added.
    #[must_use]
    pub fn arms(&self) -> &[ArmInfo] {
        &self.inner.arms
    }

    /// The shadows, in the order added.
    #[must_use]
    pub fn shadows(&self) -> &[ShadowInfo] {
        &self.inner.shadows
    }

    /// The champion's share of hash-assigned traffic, in `[0, 1]` (1 when killed).
    #[must_use]
    pub fn champion_share(&self) -> f64 {
        if self.killed {
            1.0
        } else {
            self.inner.arms.first().map_or(1.0, |a| a.probability)
        }
    }

    /// The serving arm index of a bucket by the hash layout (ignoring kill, overrides and
    /// segments).
    #[must_use]
    pub fn arm_of_bucket(&self, bucket: Bucket) -> u8 {
        self.inner
            .lookup
            .get(usize::from(bucket.get()))
            .copied()
            .unwrap_or(0)
    }

    #[inline]
    fn decision(&self, arm: u8, reason: Reason, bucket: Option<Bucket>) -> Decision {
        let info = self.inner.arms.get(usize::from(arm));
        let (version, role, p) = match (info, reason) {
            (Some(a), Reason::Hash) => (a.version, a.role, a.probability),
            (Some(a), _) => (a.version, a.role, 1.0),
            (None, _) => (VersionNumber::FIRST, ArmRole::Champion, 1.0),
        };
        Decision {
            version,
            revision: self.revision,
            probability: p,
            role,
            reason,
            arm,
            bucket,
            shadows: ShadowSet::EMPTY,
        }
    }

    #[inline]
    fn mirror(&self, d: &mut Decision, h: Option<u64>, unit: &[u8]) {
        if self.inner.shadows.is_empty() || d.arm != 0 {
            return;
        }
        let h = h.unwrap_or_else(|| unit_hash(&self.inner.salt, unit));
        let m = Bucket::mirror_of_hash(h).get();
        let mut set = ShadowSet::EMPTY;
        for (i, s) in self.inner.shadows.iter().enumerate() {
            if m < s.mirror_buckets {
                set = set.with(i);
            }
        }
        d.shadows = set;
    }

    /// Routes a request: kill switch, then per-unit override, then the first matching segment
    /// rule, then the hash. Counts the exposure. Allocates nothing, takes no lock.
    #[inline]
    pub fn route(&self, req: &Request<'_>) -> Decision {
        if self.killed {
            self.exposures.record(0, false);
            return self.decision(0, Reason::KillSwitch, None);
        }
        let inner = &self.inner;
        if !inner.overrides.is_empty()
            && let Ok(i) = inner
                .overrides
                .binary_search_by(|(k, _)| k.as_ref().cmp(req.unit))
            && let Some(&(_, arm)) = inner.overrides.get(i)
        {
            self.exposures.record(arm, false);
            let mut d = self.decision(arm, Reason::Override, None);
            self.mirror(&mut d, None, req.unit);
            return d;
        }
        if !inner.segments.is_empty()
            && let Some(&(_, arm)) = inner
                .segments
                .iter()
                .find(|(rule, _)| rule.conditions.iter().all(|c| c.matches(req)))
        {
            self.exposures.record(arm, false);
            let mut d = self.decision(arm, Reason::Segment, None);
            self.mirror(&mut d, None, req.unit);
            return d;
        }
        let h = unit_hash(&inner.salt, req.unit);
        let bucket = Bucket::of_hash(h);
        let arm = inner
            .lookup
            .get(usize::from(bucket.get()))
            .copied()
            .unwrap_or(0);
        self.exposures.record(arm, true);
        // The mask keeps the index in bounds (the array has MAX_ARMS = 16 entries), so the
        // template is copied straight from the table without a fallback path.
        #[expect(clippy::indexing_slicing, reason = "index masked below MAX_ARMS")]
        let mut d = self.hash_decisions[usize::from(arm) & (MAX_ARMS - 1)];
        d.bucket = Some(bucket);
        if !inner.shadows.is_empty() {
            self.mirror(&mut d, Some(h), req.unit);
        }
        d
    }

    /// The decision a shadow call carries: the shadow's version, [`ArmRole::Shadow`],
    /// [`Reason::Mirror`], probability = its mirror share. `None` if `index` is not a shadow.
    #[must_use]
    pub fn shadow_decision(&self, index: usize) -> Option<Decision> {
        let s = self.inner.shadows.get(index)?;
        Some(Decision {
            version: s.version,
            revision: self.revision,
            probability: f64::from(s.mirror_buckets) / f64::from(BUCKETS),
            role: ArmRole::Shadow,
            reason: Reason::Mirror,
            arm: u8::try_from(index).unwrap_or(u8::MAX),
            bucket: None,
            shadows: ShadowSet::EMPTY,
        })
    }

    /// The exposure counts of this table (this revision).
    #[must_use]
    pub fn exposures(&self) -> ExposureSnapshot {
        let totals = self.exposures.totals(self.inner.arms.len());
        let arms = self
            .inner
            .arms
            .iter()
            .zip(totals)
            .map(|(a, (hashed, other))| ArmExposure {
                version: a.version,
                role: a.role,
                intended_share: if self.killed {
                    if a.role == ArmRole::Champion {
                        1.0
                    } else {
                        0.0
                    }
                } else {
                    a.probability
                },
                hashed,
                other,
            })
            .collect();
        ExposureSnapshot {
            model: self.inner.model.clone(),
            revision: self.revision,
            arms,
        }
    }
}
