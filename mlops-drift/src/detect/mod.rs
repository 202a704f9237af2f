//! Online change detectors: feed one value at a time, learn whether the stream has changed.
//!
//! Every detector implements [`ChangeDetector`]: [`ChangeDetector::update`] takes one value and
//! returns a [`DetectorState`]; [`ChangeDetector::reset`] forgets everything. Detectors follow
//! River 0.26.1 exactly (same defaults, same arithmetic, same indices of drift and warning on the
//! conformance cases), including River's convention that a detector which reported drift starts
//! afresh on its next update.
//!
//! | detector | input | warning zone | River class |
//! |---|---|---|---|
//! | [`Adwin`] | real values | no | `drift.ADWIN` |
//! | [`PageHinkley`] | real values | no | `drift.PageHinkley` |
//! | [`Cusum`] | real values | no | `drift.CUSUM` (later River releases) |
//! | [`Ddm`] | 0/1 errors | yes | `drift.binary.DDM` |
//! | [`Eddm`] | 0/1 errors | yes | `drift.binary.EDDM` |
//! | [`HddmA`] | 0/1 errors | yes | `drift.binary.HDDM_A` |
//! | [`HddmW`] | 0/1 errors | yes | `drift.binary.HDDM_W` |
//!
//! Values a detector cannot use (NaN, infinities, and for binary detectors anything other than
//! 0 or 1) leave its state untouched and are counted ([`ChangeDetector::ignored`]): a messy stream
//! never panics a detector and never silently corrupts it.
//!
//! Huge finite values: the real-valued detectors (ADWIN, Page–Hinkley, CUSUM) keep running
//! sums and squared deviations, which a few values near ±`f64::MAX` would turn into `inf` and
//! then NaN, blinding the detector to every later change until [`ChangeDetector::reset`]. They
//! count values with `|x| >` [`MAX_DETECTOR_MAGNITUDE`] as out of range: ignored and counted
//! like NaN ([`ChangeDetector::ignored`]), so the state stays finite and a later shift is seen.
//! Scale a metric whose legitimate values reach that far before feeding it.
//!
//! Every detector's full state is `serde`-serializable, so a detector can be checkpointed and
//! restored; [`Detector`] wraps all of them in one serializable enum.
//!
//! ```
//! use mlops_drift::detect::{ChangeDetector, DetectorState, PageHinkley};
//!
//! let mut ph = PageHinkley::default();
//! let mut first_drift = None;
//! for i in 0..2_000 {
//!     let x = if i < 1_000 { 0.0 } else { 5.0 };
//!     if ph.update(x) == DetectorState::Drift && first_drift.is_none() {
//!         first_drift = Some(i);
//!     }
//! }
//! assert!(matches!(first_drift, Some(i) if i >= 1_000));
//! ```

use serde::{Deserialize, Serialize};

mod adwin;
mod binary;
mod cusum;
mod hddm;
mod page_hinkley;
mod running;

pub use adwin::{Adwin, AdwinParams};
pub use binary::{Ddm, DdmParams, Eddm, EddmParams};
pub use cusum::{Cusum, CusumParams};
pub use hddm::{HddmA, HddmAParams, HddmW, HddmWParams};
pub use page_hinkley::{PageHinkley, PageHinkleyParams, Tail};

/// The largest magnitude a real-valued detector (ADWIN, Page–Hinkley, CUSUM) uses: beyond it a
/// value is ignored and counted ([`ChangeDetector::ignored`]). At 1e100 every sum and squared
/// deviation over up to 2^53 values stays finite.
pub const MAX_DETECTOR_MAGNITUDE: f64 = 1e100;

/// Whether a real-valued detector can use `x`: finite and within [`MAX_DETECTOR_MAGNITUDE`].
fn usable(x: f64) -> bool {
    x.abs() <= MAX_DETECTOR_MAGNITUDE
}

/// What a detector concluded after its latest update.
///
/// Exhaustive on purpose: callers must handle every state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DetectorState {
    /// No change.
    #[default]
    Stable,
    /// The stream may be changing (only detectors with a warning zone report it).
    Warning,
    /// The stream has changed; the detector starts afresh on its next update.
    Drift,
}

/// An online change detector. Object-safe: detectors can be kept as `Box<dyn ChangeDetector>`.
pub trait ChangeDetector: Send + Sync + std::fmt::Debug {
    /// Feeds one value and returns the state after it.
    fn update(&mut self, x: f64) -> DetectorState;

    /// Forgets everything seen so far (the parameters stay).
    fn reset(&mut self);

    /// Whether the latest update reported drift.
    fn drift_detected(&self) -> bool;

    /// Whether the latest update left the detector in its warning zone. River keeps this flag
    /// separately from drift, and for EDDM both can be set at once; [`ChangeDetector::state`]
    /// then says [`DetectorState::Drift`].
    fn warning_detected(&self) -> bool;

    /// How many values were ignored because the detector cannot use them.
    fn ignored(&self) -> u64;

    /// A short name, such as `adwin`.
    fn name(&self) -> &'static str;

    /// Feeds every value of `xs` in order, exactly as calling [`ChangeDetector::update`] on each
    /// one would, and returns the positions in `xs` of the values that reported drift (no
    /// allocation when there are none). [`ChangeDetector::state`] then describes the last value.
    ///
    /// The crate's detectors implement it with a loop that keeps their state in registers, which
    /// is faster per value than calling `update` one value at a time.
    ///
    /// ```
    /// use mlops_drift::detect::{ChangeDetector, PageHinkley};
    ///
    /// let stream: Vec<f64> = (0..2_000).map(|i| if i < 1_000 { 0.0 } else { 5.0 }).collect();
    /// let drifts = PageHinkley::default().update_many(&stream);
    /// assert!(matches!(drifts.first(), Some(&i) if i >= 1_000));
    /// ```
    fn update_many(&mut self, xs: &[f64]) -> Vec<usize> {
        let mut drifts = Vec::new();
        for (i, &x) in xs.iter().enumerate() {
            if self.update(x) == DetectorState::Drift {
                drifts.push(i);
            }
        }
        drifts
    }

    /// The state after the latest update: drift before warning before stable.
    fn state(&self) -> DetectorState {
        if self.drift_detected() {
            DetectorState::Drift
        } else if self.warning_detected() {
            DetectorState::Warning
        } else {
            DetectorState::Stable
        }
    }
}

impl<T: ChangeDetector + ?Sized> ChangeDetector for Box<T> {
    fn update(&mut self, x: f64) -> DetectorState {
        (**self).update(x)
    }
    fn reset(&mut self) {
        (**self).reset();
    }
    fn drift_detected(&self) -> bool {
        (**self).drift_detected()
    }
    fn warning_detected(&self) -> bool {
        (**self).warning_detected()
    }
    fn ignored(&self) -> u64 {
        (**self).ignored()
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn update_many(&mut self, xs: &[f64]) -> Vec<usize> {
        (**self).update_many(xs)
    }
}

/// Any of the crate's detectors, as one serializable value (`{"kind": "adwin", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "detectors live long and update in place; a box per variant adds an indirection per update \
              (`allow`: whether the lint fires depends on the variants' sizes)"
)]
pub enum Detector {
    /// ADWIN.
    Adwin(Adwin),
    /// Page–Hinkley.
    PageHinkley(PageHinkley),
    /// Tabular CUSUM.
    Cusum(Cusum),
    /// DDM.
    Ddm(Ddm),
    /// EDDM.
    Eddm(Eddm),
    /// HDDM with averages.
    HddmA(HddmA),
    /// HDDM with weighted averages.
    HddmW(HddmW),
}

impl Detector {
    /// One of each of the crate's detectors, with River's default parameters: what a test that
    /// must hold for every detector runs over.
    #[cfg(any(test, feature = "testkit"))]
    #[must_use]
    pub fn every_default() -> [Detector; 7] {
        [
            Detector::Adwin(Adwin::default()),
            Detector::PageHinkley(PageHinkley::default()),
            Detector::Cusum(Cusum::default()),
            Detector::Ddm(Ddm::default()),
            Detector::Eddm(Eddm::default()),
            Detector::HddmA(HddmA::default()),
            Detector::HddmW(HddmW::default()),
        ]
    }
}

macro_rules! each_detector {
    ($self:expr, $d:ident => $body:expr) => {
        match $self {
            Detector::Adwin($d) => $body,
            Detector::PageHinkley($d) => $body,
            Detector::Cusum($d) => $body,
            Detector::Ddm($d) => $body,
            Detector::Eddm($d) => $body,
            Detector::HddmA($d) => $body,
            Detector::HddmW($d) => $body,
        }
    };
}

impl ChangeDetector for Detector {
    fn update(&mut self, x: f64) -> DetectorState {
        each_detector!(self, d => d.update(x))
    }
    fn reset(&mut self) {
        each_detector!(self, d => d.reset());
    }
    fn drift_detected(&self) -> bool {
        each_detector!(self, d => d.drift_detected())
    }
    fn warning_detected(&self) -> bool {
        each_detector!(self, d => d.warning_detected())
    }
    fn ignored(&self) -> u64 {
        each_detector!(self, d => d.ignored())
    }
    fn name(&self) -> &'static str {
        each_detector!(self, d => d.name())
    }
    fn update_many(&mut self, xs: &[f64]) -> Vec<usize> {
        each_detector!(self, d => d.update_many(xs))
    }
}

/// The drift/warning flags and the ignored-value counter every detector carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
struct Flags {
    drift: bool,
    warning: bool,
    ignored: u64,
}

impl Flags {
    /// Counts a value the detector cannot use (saturating: a restored detector may hold any
    /// count).
    fn count_ignored(&mut self) {
        self.ignored = self.ignored.saturating_add(1);
    }

    fn state(self) -> DetectorState {
        if self.drift {
            DetectorState::Drift
        } else if self.warning {
            DetectorState::Warning
        } else {
            DetectorState::Stable
        }
    }

    /// Clears the flags, keeping the ignored count (it describes the input, not the state).
    fn clear(&mut self) {
        self.drift = false;
        self.warning = false;
    }
}

/// Detector parameters, checked when a detector is built and checked the same way when a
/// checkpoint is read: a restored detector never runs on parameters `new` refuses.
trait CheckedParams: Sized {
    fn check(&self) -> crate::Result<()>;
}

/// `deserialize_with` for a detector's `params`: reads them, then checks them.
fn checked_params<'de, D, P>(deserializer: D) -> std::result::Result<P, D::Error>
where
    D: serde::Deserializer<'de>,
    P: Deserialize<'de> + CheckedParams,
{
    let params = P::deserialize(deserializer)?;
    params.check().map_err(serde::de::Error::custom)?;
    Ok(params)
}

/// Implements [`CheckedParams`] for each `(params, detector)` pair by calling the detector's
/// `new`, so there is one list of rules per detector.
macro_rules! params_checked_by_new {
    ($($params:ty => $detector:ty),* $(,)?) => {
        $(impl CheckedParams for $params {
            fn check(&self) -> crate::Result<()> {
                <$detector>::new(*self).map(drop)
            }
        })*
    };
}

params_checked_by_new!(
    AdwinParams => Adwin,
    PageHinkleyParams => PageHinkley,
    CusumParams => Cusum,
    DdmParams => Ddm,
    EddmParams => Eddm,
    HddmAParams => HddmA,
    HddmWParams => HddmW,
);

/// Whether `x` is an admissible 0/1 error indicator.
fn is_binary(x: f64) -> bool {
    x == 0.0 || x == 1.0
}

fn check_unit_open(name: &'static str, v: f64) -> crate::Result<()> {
    if v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(crate::DriftError::InvalidParameter {
            name,
            reason: format!("must be in (0, 1), got `{v}`"),
        })
    }
}

/// A parameter in [0, [`MAX_DETECTOR_MAGNITUDE`]]: larger ones would overflow the sums they
/// enter.
fn check_finite_non_negative(name: &'static str, v: f64) -> crate::Result<()> {
    if (0.0..=MAX_DETECTOR_MAGNITUDE).contains(&v) {
        Ok(())
    } else {
        Err(crate::DriftError::InvalidParameter {
            name,
            reason: format!("must be in [0, {MAX_DETECTOR_MAGNITUDE:e}], got `{v}`"),
        })
    }
}

macro_rules! impl_detector_via_flags {
    // Detectors whose state is a few plain numbers: each segment of the batch loop runs on a
    // local copy, so the compiler keeps the state in registers instead of storing and reloading
    // it on every value.
    ($ty:ty, $name:literal) => {
        $crate::detect::impl_detector_via_flags!($ty, $name, |this, xs| {
            let mut local = this.clone();
            let at = xs.iter().position(|&x| {
                local.step(x);
                local.flags.drift
            });
            *this = local;
            at
        });
    };
    // Detectors with a batch loop of their own (`run_segment`), run on a local copy.
    ($ty:ty, $name:literal, own_segment) => {
        $crate::detect::impl_detector_via_flags!($ty, $name, |this, xs| {
            let mut local = this.clone();
            let at = local.run_segment(xs);
            *this = local;
            at
        });
    };
    // Detectors with heap state (ADWIN) run their own batch loop in place.
    ($ty:ty, $name:literal, own_segment_in_place) => {
        $crate::detect::impl_detector_via_flags!($ty, $name, |this, xs| this.run_segment(xs));
    };
    ($ty:ty, $name:literal, |$this:ident, $xs:ident| $segment:expr) => {
        impl $ty {
            /// The batch loop behind `update_many`: `step` on every value, noting drifts.
            ///
            /// The values run in segments that each end at a drift, and a segment's loop is a
            /// function of its own with no call in it. A call (`Vec::push` may allocate)
            /// clobbers every vector register, so with one in the loop the compiler kept the
            /// state in memory, and each running sum waited on a store and a reload per value
            /// (per value: Page–Hinkley 5.9 → 3.7 ns, DDM 7.5 → 5.9 ns, EDDM 4.8 → 3.9 ns).
            fn step_many(&mut self, xs: &[f64]) -> Vec<usize> {
                let mut drifts = Vec::new();
                let mut done = 0;
                while let Some(at) = xs.get(done..).and_then(|rest| self.step_until_drift(rest)) {
                    drifts.push(done + at);
                    done += at + 1;
                }
                drifts
            }

            /// `step` on each value until one reports drift; returns its position. Never
            /// inlined, so that its loop is compiled apart from the `push` in `step_many`.
            #[inline(never)]
            fn step_until_drift(&mut self, xs: &[f64]) -> Option<usize> {
                let ($this, $xs) = (self, xs);
                $segment
            }
        }

        impl $crate::detect::ChangeDetector for $ty {
            fn update_many(&mut self, xs: &[f64]) -> Vec<usize> {
                self.step_many(xs)
            }
            fn update(&mut self, x: f64) -> $crate::detect::DetectorState {
                self.step(x);
                self.flags.state()
            }
            fn reset(&mut self) {
                self.restart();
                self.flags.clear();
            }
            fn drift_detected(&self) -> bool {
                self.flags.drift
            }
            fn warning_detected(&self) -> bool {
                self.flags.warning
            }
            fn ignored(&self) -> u64 {
                self.flags.ignored
            }
            fn name(&self) -> &'static str {
                $name
            }
        }
    };
}
use impl_detector_via_flags;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_enum_round_trips_through_json_mid_stream() {
        let mut a = Detector::Adwin(Adwin::default());
        for i in 0..500 {
            a.update(f64::from(i % 7));
        }
        let json = serde_json::to_string(&a).unwrap();
        let mut b: Detector = serde_json::from_str(&json).unwrap();
        assert_eq!(a, b);
        for i in 0..700 {
            let x = if i < 300 { 1.0 } else { 9.0 };
            assert_eq!(a.update(x), b.update(x));
        }
    }

    fn all_detectors() -> Vec<Detector> {
        let mut all = Detector::every_default().to_vec();
        all.extend([
            Detector::HddmA(
                HddmA::new(HddmAParams {
                    two_sided_test: true,
                    ..HddmAParams::default()
                })
                .unwrap(),
            ),
            Detector::HddmW(
                HddmW::new(HddmWParams {
                    two_sided_test: true,
                    ..HddmWParams::default()
                })
                .unwrap(),
            ),
        ]);
        all
    }

    /// A 0/1 stream whose error rate steps from 10 % to 50 % and back: drifts and warnings for
    /// every detector (binary values are valid input for the real-valued ones too).
    fn stepped_errors(n: u32) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let period = if (i / 1_500) % 2 == 0 { 10 } else { 2 };
                f64::from(u8::from(i.wrapping_mul(2_654_435_761) % 97 % period == 0))
            })
            .collect()
    }

    #[test]
    fn every_detector_round_trips_through_json_mid_stream() {
        // Deserializing recomputes the values some detectors keep alongside their state; the
        // restored detector must equal the original and continue identically.
        let stream = stepped_errors(6_000);
        for mut a in all_detectors() {
            for (i, &x) in stream.iter().enumerate() {
                a.update(x);
                if i % 997 == 0 {
                    let json = serde_json::to_string(&a).unwrap();
                    let b: Detector = serde_json::from_str(&json).unwrap();
                    assert_eq!(a, b, "{} after {i}", a.name());
                }
            }
        }
    }

    /// Error rates that change every 700 values, so the error detectors drift and restart
    /// often, at every offset within the 64-value blocks of their batch loops; some blocks hold
    /// values to ignore.
    fn changing_errors() -> Vec<f64> {
        let mut uniform = crate::test_support::uniform(0x5eed_eddb);
        let mut stream: Vec<f64> = (0..40_000)
            .map(|i| {
                let rate = [0.05, 0.4, 0.1, 0.7, 0.01][(i / 700) % 5];
                f64::from(u8::from(uniform() < rate))
            })
            .collect();
        for at in [5, 64, 127, 9_000, 9_001, 31_999] {
            stream[at] = [f64::NAN, 0.5, 2.0][at % 3];
        }
        stream
    }

    /// Feeds `stream` one value at a time, then in batches of several sizes (through the enum
    /// and through a box): the same drifts, and after every batch the same detector. Returns
    /// how many drifts there were.
    fn assert_batches_equal_single_updates(fresh: &Detector, stream: &[f64]) -> usize {
        let mut one = fresh.clone();
        let mut want = Vec::new();
        let mut states = Vec::new();
        for (i, &x) in stream.iter().enumerate() {
            if one.update(x) == DetectorState::Drift {
                want.push(i);
            }
            states.push(one.clone());
        }
        for batch in [1, 7, 63, 64, 65, 1_000, stream.len()] {
            let mut many = fresh.clone();
            let mut boxed: Box<dyn ChangeDetector> = Box::new(fresh.clone());
            let (mut got, mut got_boxed) = (Vec::new(), Vec::new());
            for (k, chunk) in stream.chunks(batch).enumerate() {
                let start = k * batch;
                got.extend(many.update_many(chunk).into_iter().map(|i| i + start));
                got_boxed.extend(boxed.update_many(chunk).into_iter().map(|i| i + start));
                let last = start + chunk.len() - 1;
                assert_eq!(many, states[last], "{} batch {batch}", fresh.name());
                assert_eq!(boxed.state(), states[last].state());
            }
            assert_eq!(got, want, "{} batch {batch}", fresh.name());
            assert_eq!(got_boxed, want, "{} boxed batch {batch}", fresh.name());
            assert_eq!(many.ignored(), one.ignored());
        }
        want.len()
    }

    #[test]
    fn update_many_matches_update_one_by_one() {
        let mut stepped = stepped_errors(9_000);
        // Unusable values in the middle: counted, never fed.
        stepped.splice(100..100, [f64::NAN, 2.0, f64::INFINITY, 1e300]);
        let changing = changing_errors();
        for fresh in all_detectors() {
            let drifts = assert_batches_equal_single_updates(&fresh, &stepped);
            assert!(drifts > 0, "{} never drifted", fresh.name());
            let drifts = assert_batches_equal_single_updates(&fresh, &changing);
            // DDM and EDDM have batch loops of their own; they must restart many times here.
            if matches!(fresh, Detector::Ddm(_) | Detector::Eddm(_)) {
                assert!(drifts > 20, "{}: only {drifts} drifts", fresh.name());
            }
        }
    }

    #[test]
    fn fresh_detectors_round_trip_through_json() {
        for d in all_detectors() {
            let json = serde_json::to_string(&d).unwrap();
            let back: Detector = serde_json::from_str(&json).unwrap();
            assert_eq!(back, d, "{json}");
        }
    }

    #[test]
    fn boxed_dyn_detectors_work() {
        let mut all: Vec<Box<dyn ChangeDetector>> = vec![
            Box::new(Adwin::default()),
            Box::new(PageHinkley::default()),
            Box::new(Cusum::default()),
            Box::new(Ddm::default()),
            Box::new(Eddm::default()),
            Box::new(HddmA::default()),
            Box::new(HddmW::default()),
        ];
        for d in &mut all {
            for x in [f64::NAN, f64::INFINITY, -3.0, 0.5] {
                d.update(x);
            }
            let name = d.name();
            // Real-valued detectors accept -3 and 0.5; binary ones ignore them.
            let expect = if matches!(name, "adwin" | "page_hinkley" | "cusum") {
                2
            } else {
                4
            };
            assert_eq!(d.ignored(), expect, "{name}");
            d.reset();
            assert_eq!(d.state(), DetectorState::Stable);
        }
    }
}
