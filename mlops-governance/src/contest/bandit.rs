//! Bandit allocation: Thompson sampling (Beta for rewards in `[0, 1]`, Gaussian for means) and
//! epsilon-greedy, with weights recomputed off the hot path on a cadence and published as new
//! route-table revisions, so routing stays a hash and every decision carries its selection
//! probability (the arm's share of buckets in the revision that decided).
//!
//! - Thompson sampling estimates each arm's probability of being best by `draws` joint samples
//!   from the posteriors: `Beta(1 + Σr, 1 + Σ(1 − r))` for rewards in `[0, 1]` (uniform prior;
//!   exact Marsaglia–Tsang gamma sampling, or the moment-matched normal once both parameters
//!   exceed 50), `N(x̄, s²/n)` for means (flat prior, plug-in variance).
//! - Epsilon-greedy gives `ε/k` to every arm and `1 − ε` to the best mean.
//! - Every arm keeps at least `floor`: the published weight is `floor + (1 − k·floor)·p`.
//! - No weights are published before every arm has `min_units` rewards, nor more often than the
//!   cadence.
//! - Randomness is a ChaCha8 generator seeded from the configuration: the same rewards give the
//!   same weights on every machine.

use chrono::{DateTime, TimeDelta, Utc};
use mlops_core::{ModelName, ModelRef, VersionNumber};
use mlops_registry::routing::{ArmRole, ConfigRevision, Decision, RouteTable, Router, Salt};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::error::ContestError;
use super::stats::Moments;

/// The reward model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reward {
    /// Rewards in `[0, 1]` (conversions; fractional rewards count as partial successes).
    Bernoulli,
    /// Any finite reward (a negated loss, revenue).
    Gaussian,
}

/// How weights are computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BanditPolicy {
    /// Thompson sampling: weight = estimated probability of being the best arm.
    Thompson {
        /// Joint posterior draws per recomputation (at least 1).
        draws: u32,
    },
    /// `ε/k` to every arm, `1 − ε` to the best mean.
    EpsilonGreedy {
        /// `ε` in `[0, 1]`.
        epsilon: f64,
    },
}

/// A bandit's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BanditConfig {
    /// The reward model.
    pub reward: Reward,
    /// The policy.
    pub policy: BanditPolicy,
    /// The minimum share of every arm, in `[0, 1/k]`.
    pub floor: f64,
    /// Rewards every arm needs before the first reweighting (at least 2 for Gaussian).
    pub min_units: u64,
    /// The least time between two reweightings.
    pub cadence: TimeDelta,
    /// The generator's seed.
    pub seed: u64,
}

impl BanditConfig {
    /// Thompson sampling with 256 draws, a 1 % floor, 100 units per arm before the first update,
    /// a one-minute cadence and seed 0.
    #[must_use]
    pub fn thompson(reward: Reward) -> Self {
        Self {
            reward,
            policy: BanditPolicy::Thompson { draws: 256 },
            floor: 0.01,
            min_units: 100,
            cadence: TimeDelta::minutes(1),
            seed: 0,
        }
    }

    /// Epsilon-greedy with `epsilon`, otherwise as [`BanditConfig::thompson`].
    #[must_use]
    pub fn epsilon_greedy(reward: Reward, epsilon: f64) -> Self {
        Self {
            policy: BanditPolicy::EpsilonGreedy { epsilon },
            ..Self::thompson(reward)
        }
    }
}

#[derive(Debug, Clone)]
struct Arm {
    version: VersionNumber,
    moments: Moments,
    sum: f64,
}

/// A multi-armed bandit over the champion and challengers of a route table.
///
/// ```
/// use mlops_core::chrono::{DateTime, TimeDelta, Utc};
/// use mlops_governance::contest::{Bandit, BanditConfig, Reward};
/// use mlops_registry::routing::{RouteTable, Router};
///
/// let router = Router::new(
///     RouteTable::builder("ads@v1".parse()?).challenger("ads@v2".parse()?, 50.0).build()?,
/// );
/// let mut bandit = Bandit::new(BanditConfig::thompson(Reward::Bernoulli), &router.table())?;
/// for i in 0..200_u32 {
///     bandit.record("1".parse()?, f64::from(u8::from(i % 10 == 0)))?; // 10 %
///     bandit.record("2".parse()?, f64::from(u8::from(i % 3 == 0)))?; // 33 %
/// }
/// let now = DateTime::<Utc>::UNIX_EPOCH;
/// let revision = bandit.step(&router, now)?.expect("due and every arm has 100 units");
/// assert_eq!(router.revision(), revision);
/// assert!(router.table().arms()[1].probability > 0.9, "traffic moved to v2");
/// assert!(router.table().arms()[0].probability >= 0.01, "floor kept");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Bandit {
    config: BanditConfig,
    model: ModelName,
    salt: Salt,
    revision: ConfigRevision,
    arms: Vec<Arm>,
    weights: Vec<f64>,
    rng: Gauss,
    last_update: Option<DateTime<Utc>>,
    wins: Vec<u32>,
    draws_buf: Vec<f64>,
}

impl Bandit {
    /// A bandit over the serving arms of `table` (champion first), starting from its weights.
    ///
    /// # Errors
    /// [`ContestError::NoChallenger`] for a table without challengers or killed;
    /// [`ContestError::InvalidParameter`] for a floor outside `[0, 1/k]`, `ε` outside `[0, 1]`,
    /// zero draws, or `min_units < 2` with Gaussian rewards.
    pub fn new(config: BanditConfig, table: &RouteTable) -> Result<Self, ContestError> {
        let arms: Vec<Arm> = table
            .arms()
            .iter()
            .filter(|a| a.role != ArmRole::Shadow)
            .map(|a| Arm {
                version: a.version,
                moments: Moments::default(),
                sum: 0.0,
            })
            .collect();
        let k = arms.len();
        if k < 2 || table.is_killed() {
            return Err(ContestError::NoChallenger {
                revision: table.revision(),
            });
        }
        #[expect(clippy::cast_precision_loss, reason = "at most 16 arms")]
        let kf = k as f64;
        if !(config.floor >= 0.0 && config.floor * kf <= 1.0) {
            return Err(ContestError::invalid(
                "floor",
                config.floor,
                "in [0, 1/arms]",
            ));
        }
        match config.policy {
            BanditPolicy::Thompson { draws: 0 } => {
                return Err(ContestError::invalid("draws", 0.0, "at least 1"));
            }
            BanditPolicy::EpsilonGreedy { epsilon } if !(0.0..=1.0).contains(&epsilon) => {
                return Err(ContestError::invalid("epsilon", epsilon, "in [0, 1]"));
            }
            _ => {}
        }
        if config.reward == Reward::Gaussian && config.min_units < 2 {
            #[expect(clippy::cast_precision_loss, reason = "reporting only")]
            return Err(ContestError::invalid(
                "min_units",
                config.min_units as f64,
                "at least 2 for Gaussian rewards",
            ));
        }
        Ok(Self {
            rng: Gauss::new(ChaCha8Rng::seed_from_u64(config.seed)),
            weights: table.arms().iter().map(|a| a.probability).collect(),
            config,
            model: table.model().clone(),
            salt: table.salt().clone(),
            revision: table.revision(),
            wins: vec![0; k],
            draws_buf: vec![0.0; k],
            arms,
            last_update: None,
        })
    }

    /// The revision the bandit last published (or started from).
    #[must_use]
    pub fn revision(&self) -> ConfigRevision {
        self.revision
    }

    /// The weights of the current revision, champion first (they sum to 1).
    #[must_use]
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Rewards recorded per arm, champion first.
    #[must_use]
    pub fn counts(&self) -> Vec<(VersionNumber, u64)> {
        self.arms.iter().map(|a| (a.version, a.moments.n)).collect()
    }

    /// Records one reward for `version`. O(1).
    ///
    /// # Errors
    /// [`ContestError::UnknownArm`]; [`ContestError::NonFinite`]; [`ContestError::OutOfRange`]
    /// for a Bernoulli reward outside `[0, 1]`.
    #[inline]
    pub fn record(&mut self, version: VersionNumber, reward: f64) -> Result<(), ContestError> {
        let Some(arm) = self.arms.iter_mut().find(|a| a.version == version) else {
            return Err(ContestError::UnknownArm { version });
        };
        if !reward.is_finite() {
            return Err(ContestError::NonFinite {
                version,
                value: reward,
            });
        }
        if self.config.reward == Reward::Bernoulli && !(0.0..=1.0).contains(&reward) {
            return Err(ContestError::OutOfRange {
                version,
                value: reward,
            });
        }
        arm.moments.push(reward);
        arm.sum += reward;
        Ok(())
    }

    /// Records the reward of a routed request. Rewards of decisions made under an older
    /// revision still count (they are rewards of that arm); the decision's probability is the
    /// arm's share in the revision that decided.
    ///
    /// # Errors
    /// As [`Bandit::record`].
    pub fn record_decision(
        &mut self,
        decision: &Decision,
        reward: f64,
    ) -> Result<(), ContestError> {
        self.record(decision.version, reward)
    }

    /// Whether every arm has `min_units` rewards.
    #[must_use]
    pub fn warmed_up(&self) -> bool {
        self.arms
            .iter()
            .all(|a| a.moments.n >= self.config.min_units)
    }

    /// Computes new weights (champion first, summing to 1, each at least the floor) from the
    /// rewards so far. Advances the seeded generator (Thompson). Allocates nothing.
    pub fn compute_weights(&mut self) -> &[f64] {
        let k = self.arms.len();
        #[expect(clippy::cast_precision_loss, reason = "at most 16 arms")]
        let kf = k as f64;
        match self.config.policy {
            BanditPolicy::Thompson { draws } => {
                self.wins.iter_mut().for_each(|w| *w = 0);
                for _ in 0..draws {
                    for (slot, arm) in self.draws_buf.iter_mut().zip(&self.arms) {
                        *slot = match self.config.reward {
                            Reward::Bernoulli => {
                                #[expect(clippy::cast_precision_loss, reason = "counts < 2^52")]
                                let n = arm.moments.n as f64;
                                sample_beta(&mut self.rng, 1.0 + arm.sum, 1.0 + n - arm.sum)
                            }
                            Reward::Gaussian => {
                                let sd = arm.moments.variance_of_mean().sqrt();
                                let sd = if sd.is_finite() { sd } else { 1e12 };
                                arm.moments.mean + sd * self.rng.next()
                            }
                        };
                    }
                    if let Some(w) = argmax(&self.draws_buf).and_then(|i| self.wins.get_mut(i)) {
                        *w += 1;
                    }
                }
                for (w, wins) in self.weights.iter_mut().zip(&self.wins) {
                    *w = f64::from(*wins) / f64::from(draws);
                }
            }
            BanditPolicy::EpsilonGreedy { epsilon } => {
                for (slot, arm) in self.draws_buf.iter_mut().zip(&self.arms) {
                    *slot = arm.moments.mean;
                }
                let best = argmax(&self.draws_buf);
                for (i, w) in self.weights.iter_mut().enumerate() {
                    *w = epsilon / kf + if Some(i) == best { 1.0 - epsilon } else { 0.0 };
                }
            }
        }
        let floor = self.config.floor;
        for w in &mut self.weights {
            *w = floor + (1.0 - kf * floor) * *w;
        }
        &self.weights
    }

    /// The route table for the current weights at `revision`: the same model, champion and
    /// salt, challengers with the weights in percent (the champion takes the rest). Segment
    /// rules, overrides and shadows of the original table are not carried over.
    ///
    /// # Errors
    /// [`ContestError::Routing`] if the table cannot be built.
    pub fn table(&self, revision: ConfigRevision) -> Result<RouteTable, ContestError> {
        let mut arms = self.arms.iter().zip(&self.weights);
        let Some((champion, _)) = arms.next() else {
            return Err(ContestError::NoChallenger { revision });
        };
        let mut b = RouteTable::builder(ModelRef::new(self.model.clone(), champion.version))
            .salt(self.salt.clone())
            .revision(revision);
        for (arm, w) in arms {
            // Truncated to 1/100 of a percent (one bucket) so the sum never exceeds 100.
            let pct = (w * 10_000.0).floor() / 100.0;
            b = b.challenger(ModelRef::new(self.model.clone(), arm.version), pct);
        }
        Ok(b.build()?)
    }

    /// Off the hot path, on the cadence: if every arm is warmed up and the cadence has passed
    /// since the last update, computes new weights and publishes them to `router` as the next
    /// revision. Returns the published revision, or `None` when not due.
    ///
    /// # Errors
    /// [`ContestError::RevisionMoved`] if the router serves a revision the bandit did not
    /// publish (someone else changed the table; nothing is published);
    /// [`ContestError::Routing`] if publishing fails.
    pub fn step(
        &mut self,
        router: &Router,
        now: DateTime<Utc>,
    ) -> Result<Option<ConfigRevision>, ContestError> {
        let serving = router.revision();
        if serving != self.revision {
            return Err(ContestError::RevisionMoved {
                expected: self.revision,
                found: serving,
                removed: Vec::new(),
            });
        }
        let due = self
            .last_update
            .is_none_or(|t| now.signed_duration_since(t) >= self.config.cadence);
        if !due || !self.warmed_up() {
            return Ok(None);
        }
        self.compute_weights();
        let next = ConfigRevision::new(serving.get().saturating_add(1));
        let table = self.table(next)?;
        let revision = router.publish(table)?;
        self.weights = router
            .table()
            .arms()
            .iter()
            .map(|a| a.probability)
            .collect();
        self.revision = revision;
        self.last_update = Some(now);
        tracing::info!(model = %self.model, revision = revision.get(), weights = ?self.weights,
            "bandit weights published");
        Ok(Some(revision))
    }
}

fn argmax(xs: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &x) in xs.iter().enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

/// Standard normal draws by Box–Muller from a seeded ChaCha8 generator, both of each pair used.
#[derive(Debug, Clone)]
struct Gauss {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl Gauss {
    fn new(rng: ChaCha8Rng) -> Self {
        Self { rng, spare: None }
    }

    fn uniform(&mut self) -> f64 {
        // In (0, 1]: safe for ln.
        1.0 - self.rng.random::<f64>()
    }

    fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * self.rng.random::<f64>()).sin_cos();
        self.spare = Some(r * sin);
        r * cos
    }
}

/// Gamma(shape, 1) by Marsaglia & Tsang (2000); shapes below 1 by `Gamma(a + 1) · U^{1/a}`.
fn sample_gamma(rng: &mut Gauss, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = rng.uniform();
        return sample_gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = rng.next();
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.uniform();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Beta(a, b): exact through two gammas, or the moment-matched normal when both exceed 50.
fn sample_beta(rng: &mut Gauss, a: f64, b: f64) -> f64 {
    if a > 50.0 && b > 50.0 {
        let s = a + b;
        let mean = a / s;
        let sd = (a * b / (s * s * (s + 1.0))).sqrt();
        return mean + sd * rng.next();
    }
    let x = sample_gamma(rng, a);
    let y = sample_gamma(rng, b);
    x / (x + y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_sampler_matches_moments() {
        let mut rng = Gauss::new(ChaCha8Rng::seed_from_u64(7));
        for (a, b) in [(0.5, 0.5), (2.0, 5.0), (80.0, 120.0)] {
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| sample_beta(&mut rng, a, b)).collect();
            let mean = xs.iter().sum::<f64>() / f64::from(n);
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(n - 1);
            let (m, v) = (a / (a + b), a * b / ((a + b).powi(2) * (a + b + 1.0)));
            assert!(
                (mean - m).abs() < 4.0 * (v / f64::from(n)).sqrt() + 1e-9,
                "{a},{b}: {mean} vs {m}"
            );
            assert!((var - v).abs() < 0.1 * v, "{a},{b}: {var} vs {v}");
        }
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[]), None);
    }
}
