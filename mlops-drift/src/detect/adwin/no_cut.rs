//! A proof, cheaper than River's scan, that the scan would find no cut.
//!
//! **The test.** River cuts at a split into the oldest `n0` values (total `u0`) and the `n1`
//! newest (total `u1`) when `|u0/n0 − u1/n1| > sqrt(2·m·v·δ′) + (2/3)·δ′·m`, where
//! `m = 1/(n0−ℓ+1) + 1/(n1−ℓ+1)`, ℓ is `min_window_length`, `v` the variance per value and
//! `δ′ = ln(2·ln(W)/δ)`. In exact arithmetic, with `W = n0 + n1`, `μ = total/W` and
//! `q = n0·n1/W`:
//! - `u0/n0 − u1/n1 = dev/q`, where `dev = u0 − μ·n0` is how far the oldest values' total is
//!   from their share of the window's;
//! - `m ≥ 1/n0 + 1/n1 = 1/q` (ℓ ≥ 1), and the second term is positive when `v, δ′ > 0`;
//! - so no cut is possible where `dev² ≤ 2·v·δ′·q`: a few multiplications, where River's scan
//!   does four divisions and a square root per split.
//!
//! Within a row each summary moves `dev` by `t − μ·size`, so `|dev at the row's start| +
//! Σ|t − μ·size|` bounds it at every split of the row, and `q` (concave in `n0`) is smallest at
//! an end of the row's range of tested splits: one test per row, and the row's splits one by
//! one only when that fails.
//!
//! **Carried to later scans.** Between scans, values join at the new end and merges only remove
//! splits, so every old split keeps its `n0` and (up to the rounding of merges) its `u0`. Its
//! `dev` moves by at most `|Δμ|·n0`, while `q` only grows with the width. So a full check also
//! works out how far the mean may move before some old split (one with at least
//! [`YOUNG_VALUES`] newer values) could fail, and later scans re-prove only the young splits
//! while the mean stays that close, `2·v·δ′` stays above 15/16 of its value then, no value
//! was dropped, and at most [`MAX_CARRIED_VALUES`] values came in. Young splits are walked
//! from the new end, with `dev = gap − (u1 − μ·n1)` where `gap = Σt − μ·W` (the summaries'
//! totals against River's total) is measured at the check: so a merge across the old part's
//! end, which removes the split there, does not end the proof.
//!
//! **Rounding.** The proof needs the counts exact (integers up to 2^50 that the rows add up
//! to) and at most 2^16 summaries: each full check checks them, and until the next one, values
//! join row 0 as the width grows by one each and merges keep the counts. Then every sum here
//! and in River's scan is within 2^-36·S of the exact one, where `S = Σ|t| + |total|`; River's
//! quotients add less than 2^-35·S/q; the merges since a full check move the summaries' totals
//! by less than 2^-46 of the absolute values involved; and while a proof is carried, `S` stays
//! below twice its value at the check.
//! The gap moves by less than 2^-35·(S + S_now) while a proof is carried: River adds at most
//! 2^12 values (each rounding by 2^-53·|total|), merges number fewer than 2^17 (each rounding
//! by 2^-53 of a total below `S_now`), and `μ·W` is within 2^-52·|total| of the total.
//! The young walk sums `t − μ·size` (`μ·size` is exact: `μ` times a power of two, or infinite,
//! and then nothing is proved): each of its fewer than 2^17 terms and partial sums rounds by
//! 2^-53 of at most `S_now + |μ|·W`, so it is within 2^-34·S_now of `u1 − μ·n1`.
//! Margins of 2^-33·S (a full check) and 2^-32·(S + S_now) (a carried proof) on `|dev|`, a
//! factor 1 − 2^-30 on the right side and 1 − 2^-40 on the room left for the mean cover all of
//! that and this module's own rounding. `δ′` is taken from below ([`DeltaPrimeFloor`]).
//!
//! **A variance from below.** Every step above holds with `v` replaced by a lower bound on
//! River's `v`, since the right side only grows with `v`. The first scan after a batch run
//! takes the variance without its last block's increments, which River's variance is at
//! least: each increment is `(w−1)·d²/w ≥ 0` (or `+∞`), and adding one never lowers a sum in
//! floating point. (A variance that is not positive, or not a number, makes the proof stand
//! aside.) Carried proofs compare `2·v·δ′` with a floor, so a smaller `v` only ends them
//! sooner.

use super::{Adwin, is_whole, power_of_two, row_size};

/// More summaries than this, and the rounding bounds above do not hold: River's scan decides.
/// (A full check allows [`MAX_CARRIED_VALUES`] fewer, for the values a carried proof takes in.)
const MAX_SUMMARIES: usize = 1 << 16;
/// Rows beyond this hold more than 2^50 values each.
const MAX_ROWS: usize = 50;
/// Splits with fewer newer values than this are re-proved at every scan.
const YOUNG_VALUES: f64 = 256.0;
/// A carried proof lapses after this many values.
const MAX_CARRIED_VALUES: u64 = 1 << 12;

/// What the scans keep between them. A cache: never serialized, never compared.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ScanCache {
    delta_prime: DeltaPrimeFloor,
    old_part: Option<OldPartProof>,
    /// The next proof's terms, computed ahead of a run's last divisions
    /// (`Adwin::take_in_last_block`); `Some(None)` where the proof stands aside.
    pub(super) terms_ahead: Option<Option<ScanTerms>>,
}

impl PartialEq for ScanCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ScanCache {
    /// `count` values came in, their magnitudes summing to `abs_sum`: they move the window mean
    /// and `S`, which a carried proof bounds.
    pub(super) fn took_in(&mut self, count: usize, abs_sum: f64) {
        if let Some(proof) = &mut self.old_part {
            proof.taken_abs += abs_sum;
            proof.taken = proof
                .taken
                .saturating_add(u64::try_from(count).unwrap_or(u64::MAX));
        }
    }

    /// Forgets terms computed ahead for a scan that did not come.
    pub(super) fn forget_terms_ahead(&mut self) {
        self.terms_ahead = None;
    }

    /// The oldest values were dropped: the old splits moved.
    pub(super) fn forget_old_part(&mut self) {
        self.old_part = None;
    }
}

/// What a full check proved about the old splits, for the scans after it.
#[derive(Debug, Clone, Copy)]
struct OldPartProof {
    /// The splits proved are those with at most this many values on the old side.
    old_end: f64,
    /// `|Σt − total|` at the check, as it summed the rows, plus a bound on that sum's rounding.
    gap: f64,
    width: f64,
    mean: f64,
    /// How far the window mean may move from `mean` before an old split could cut.
    max_shift: f64,
    /// The floor of `2·v·δ′` (with its rounding factor) the proof assumed.
    two_v_delta_floor: f64,
    /// `S` at the check.
    abs_sum: f64,
    /// Σ|x| of the values taken in since.
    taken_abs: f64,
    /// How many values were taken in since.
    taken: u64,
}

/// `δ′ = ln(2·ln(W)/δ)` computed for a width `W0`, to stand for `δ′` at widths from `W0` to
/// `2·W0`: it grows with the width, so it is a lower bound there (less the rounding of the two
/// logarithms, under 11 units in the last place for every `W ≥ 2`, and 2^-40 is taken off).
/// Saves the two logarithms per scan.
#[derive(Debug, Clone, Copy, Default)]
struct DeltaPrimeFloor {
    width: f64,
    delta_prime: f64,
}

impl DeltaPrimeFloor {
    fn at(&mut self, width: f64, delta: f64) -> f64 {
        if !(self.width <= width && width <= 2.0 * self.width) {
            *self = Self {
                width,
                delta_prime: (2.0 * width.ln() / delta).ln(),
            };
        }
        self.delta_prime * (1.0 - power_of_two(-40))
    }
}

/// The numbers every test of one scan shares.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScanTerms {
    width: f64,
    mean: f64,
    min_len: f64,
    /// `2·v·δ′` with `δ′` from below, times 1 − 2^-30.
    two_v_delta: f64,
    /// `two_v_delta / W`: a split is proved when `(|dev| + margin)² ≤ c·n0·n1`.
    c: f64,
}

impl ScanTerms {
    /// Whether a split with `n0` old values and `|dev|` at most `dev_bound` (before the margin)
    /// cannot cut. `c·n0·n1` is normal and finite for every tested split (`c` is checked).
    fn proved(&self, dev_bound: f64, margin: f64, n0: f64) -> bool {
        let lhs = dev_bound + margin;
        lhs * lhs <= self.c * (n0 * (self.width - n0))
    }

    /// Whether every tested split with `n0` from `first` to `last` is proved where `|dev|`
    /// is at most `dev_bound` (before the margin): `c·n0·n1` is concave in `n0`, so the ends
    /// of the range decide.
    fn range_proved(&self, dev_bound: f64, margin: f64, first: f64, last: f64) -> bool {
        let lo = if first > self.min_len {
            first
        } else {
            self.min_len
        };
        let hi = if last < self.width - self.min_len {
            last
        } else {
            self.width - self.min_len
        };
        lo > hi || (self.proved(dev_bound, margin, lo) && self.proved(dev_bound, margin, hi))
    }

    /// Whether River tests the split with `n0` old values.
    fn tested(&self, n0: f64) -> bool {
        (self.min_len..=self.width - self.min_len).contains(&n0)
    }
}

impl Adwin {
    /// A proof that River's scan would find no cut; false means "not proved", not "a cut".
    /// See the module's documentation.
    pub(super) fn no_cut_possible(&mut self) -> bool {
        let terms = match self.scan_cache.terms_ahead.take() {
            Some(ahead) => ahead,
            None => self.scan_terms(),
        };
        let Some(terms) = terms else {
            self.scan_cache.forget_old_part();
            return false;
        };
        self.young_part_proved(&terms) || self.full_check(&terms)
    }

    /// The scan's shared numbers, or `None` where the proof's rounding bounds do not hold.
    /// While a block's variance increments are pending, `v` is the variance without them: a
    /// lower bound (see the module's documentation).
    pub(super) fn scan_terms(&mut self) -> Option<ScanTerms> {
        let width = self.width;
        if !(2.0..=power_of_two(50)).contains(&width)
            || !is_whole(width)
            || self.rows.len() > MAX_ROWS
        {
            return None;
        }
        let delta_prime = self.scan_cache.delta_prime.at(width, self.params.delta);
        let variance_per_value = self.variance / width;
        if !(variance_per_value > 0.0 && delta_prime > 0.0) {
            return None;
        }
        let two_v_delta = 2.0 * variance_per_value * delta_prime * (1.0 - power_of_two(-30));
        let c = two_v_delta / width;
        // Tested splits have 1 ≤ n0·n1 ≤ 2^100, so `c·n0·n1` is then normal and finite.
        if !(power_of_two(-900)..=power_of_two(800)).contains(&c) {
            return None;
        }
        Some(ScanTerms {
            width,
            mean: self.total / width,
            min_len: f64::from(self.params.min_window_length),
            two_v_delta,
            c,
        })
    }

    /// Whether the rows hold `width` values (an integer up to 2^50) in few enough summaries
    /// that the rounding bounds hold, also after the values a carried proof may take in.
    /// Checked by each full check only: until the next one, values join row 0 as the width
    /// grows by 1 each, merges keep the count, and a drop ends the carried proof.
    fn counts_are_exact(&self, width: f64) -> bool {
        // Under 2^64 summaries of at most 2^49 values in at most 50 rows: the count fits in
        // a `u128`.
        let (mut summaries, mut held) = (0usize, 0u128);
        for (r, row) in self.rows.iter().enumerate() {
            summaries += row.len();
            held += (row.len() as u128) << r;
        }
        // `width` is an integer up to 2^50, so the cast is exact.
        summaries <= MAX_SUMMARIES - MAX_CARRIED_VALUES as usize && held == width as u128
    }

    /// Whether the proof carried from the last full check still covers the old splits and the
    /// young ones (re-proved one by one, newest first, up to the old part's end) pass.
    ///
    /// A young split's `dev` is taken from its newer side: `dev = gap − (u1 − μ·n1)`, where
    /// `gap = Σt − μ·W` is what the summaries' totals and River's total differ by, measured at
    /// the full check and moved since only by rounding. So the old part's end need not be a
    /// split any more: a merge across it leaves the old splits proved and the young ones are
    /// found from the new end.
    fn young_part_proved(&self, terms: &ScanTerms) -> bool {
        let Some(proof) = self.scan_cache.old_part else {
            return false;
        };
        let grown = (proof.abs_sum + 2.0 * proof.taken_abs * (1.0 + power_of_two(-39)))
            * (1.0 + power_of_two(-39));
        let still_holds = terms.width >= proof.width
            && proof.taken <= MAX_CARRIED_VALUES
            && terms.two_v_delta >= proof.two_v_delta_floor
            && grown <= 2.0 * proof.abs_sum
            && (terms.mean - proof.mean).abs() * (1.0 + power_of_two(-40)) <= proof.max_shift;
        if !still_holds {
            return false;
        }
        let margin = (proof.abs_sum + grown) * power_of_two(-32);
        // The gap at the check, plus what rounding (of River's total, of merges) and `μ·W`
        // may have added since.
        let gap = proof.gap + (proof.abs_sum + grown) * power_of_two(-34);
        let ScanTerms {
            width,
            mean,
            c,
            min_len,
            ..
        } = *terms;
        // Splits with at least `limit` newer values are the old part's (proved) or have fewer
        // than `min_len` older ones (not tested): the walk stops there.
        let limit = (width - proof.old_end).min(width - min_len + 1.0);
        // For `n1 < limit`, `c·n1·(W − n1) ≥ c·(W − limit)·n1`: one product per split, and the
        // exact right side only where that fails.
        let c_young = c * (width - limit);
        let slack = gap + margin;
        // `u1 − μ·n1`, summed as `Σ (t − μ·size)`: this loop is most of a carried proof's cost.
        let (mut n1, mut dev_new) = (0.0, 0.0);
        let mut size = 1.0;
        for row in &self.rows {
            let expected = mean * size;
            for summary in row.live().iter().rev() {
                n1 += size;
                if n1 >= limit {
                    return true;
                }
                dev_new += summary.total - expected;
                let lhs = slack + dev_new.abs();
                let lhs2 = lhs * lhs;
                // (NaN is not proved.)
                let proved = lhs2 <= c_young * n1 || lhs2 <= c * (n1 * (width - n1));
                if !proved && n1 >= min_len {
                    return false;
                }
            }
            size *= 2.0;
        }
        true
    }

    /// Every split of the window, oldest first, a row at a time where the row's bound holds.
    /// When all pass, also proves the old splits for the scans after this one.
    fn full_check(&mut self, terms: &ScanTerms) -> bool {
        self.scan_cache.forget_old_part();
        let (width, mean) = (terms.width, terms.mean);
        if !self.counts_are_exact(width) {
            return false;
        }

        // Per row: its total, Σ|t| and a bound on Σ|t − μ·size|. A row's sums are kept until it
        // changes; their spread about an older centre bounds the spread about μ by the
        // triangle inequality.
        let mut per_row = [(0.0, 0.0); MAX_ROWS];
        let mut abs_sum = self.total.abs();
        let mut summed = 0.0;
        for ((r, row), stats) in self.rows.iter_mut().enumerate().zip(&mut per_row) {
            let size = row_size(r);
            let sums = row.sums(mean, size);
            let moved = row.len() as f64 * size * (mean - sums.centre).abs();
            *stats = (sums.total, sums.spread + moved);
            abs_sum += sums.abs;
            summed += sums.total;
        }
        // Also false for NaN.
        if !(..=power_of_two(1000)).contains(&abs_sum) {
            return false;
        }
        let margin = abs_sum * power_of_two(-33);

        // What the old splits must leave for later scans: a floor under `2·v·δ′`, and room
        // for the rounding of a carried proof.
        let floor = terms.two_v_delta * (1.0 - 1.0 / 16.0);
        let carried_margin = abs_sum * power_of_two(-32);
        let young_from = width - YOUNG_VALUES.max(terms.min_len);
        let mut old = None;
        let mut max_shift = f64::INFINITY;

        // Oldest first: `n0` and `u0` before each row.
        let (mut n0, mut u0) = (0.0, 0.0);
        for ((r, row), &(total, spread)) in self.rows.iter_mut().enumerate().zip(&per_row).rev() {
            let size = row_size(r);
            let len = row.len() as f64;
            let end = n0 + len * size;
            if end <= young_from {
                // An old row: split by split, noting how far the mean may move.
                let (mut n0, mut u0) = (n0, u0);
                for summary in row.live() {
                    n0 += size;
                    u0 += summary.total;
                    if !terms.tested(n0) {
                        continue;
                    }
                    let dev = (u0 - mean * n0).abs();
                    if !terms.proved(dev, margin, n0) {
                        return false;
                    }
                    let room = (floor * (n0 * (width - n0) / width)).sqrt()
                        * (1.0 - power_of_two(-40))
                        - dev * (1.0 + power_of_two(-36))
                        - carried_margin;
                    // Any NaN stays (and then no proof is carried).
                    let shift = room / n0;
                    if shift < max_shift || shift.is_nan() {
                        max_shift = shift;
                    }
                }
                old = Some(end);
            } else {
                // The row's splits have `n0` from `n0 + size` to `end` (exact integers).
                let dev = (u0 - mean * n0).abs();
                let row_proved =
                    |spread: f64| terms.range_proved(dev + spread, margin, n0 + size, end);
                if !row_proved(spread) && !row_proved(row.fresh_spread(mean, size)) {
                    let (mut n0, mut u0) = (n0, u0);
                    for summary in row.live() {
                        n0 += size;
                        u0 += summary.total;
                        if terms.tested(n0) && !terms.proved((u0 - mean * n0).abs(), margin, n0) {
                            return false;
                        }
                    }
                }
            }
            n0 = end;
            u0 += total;
        }
        if let Some(old_end) = old
            && max_shift > 0.0
        {
            self.scan_cache.old_part = Some(OldPartProof {
                old_end,
                gap: (summed - self.total).abs() + abs_sum * power_of_two(-36),
                width,
                mean,
                max_shift,
                two_v_delta_floor: floor,
                abs_sum,
                taken_abs: 0.0,
                taken: 0,
            });
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::ChangeDetector;
    use crate::detect::adwin::AdwinParams;

    /// Streams that stay still for a long time and then move: by a step of a few sizes, or a
    /// slow ramp (the hardest case for a carried proof: the mean creeps).
    fn streams() -> Vec<(&'static str, Vec<f64>)> {
        let mut uniform = crate::test_support::uniform(0x5851_f42d_4c95_7f2d);
        let mut noise = move |n: usize| -> Vec<f64> { (0..n).map(|_| uniform() - 0.5).collect() };
        let mut out = Vec::new();
        for (name, step) in [("step 0.02", 0.02), ("step 0.1", 0.1), ("step 1", 1.0)] {
            let mut xs = noise(12_000);
            xs.iter_mut().skip(9_000).for_each(|x| *x += step);
            out.push((name, xs));
        }
        let mut ramp = noise(12_000);
        ramp.iter_mut()
            .enumerate()
            .skip(6_000)
            .for_each(|(i, x)| *x += (i - 6_000) as f64 * 1e-4);
        out.push(("ramp", ramp));
        let mut offset = noise(12_000);
        offset.iter_mut().enumerate().for_each(|(i, x)| {
            *x = 1e6 + *x + if i > 9_000 { 0.3 } else { 0.0 };
        });
        out.push(("offset 1e6", offset));
        // The ends of the range a detector accepts, where sums and squares come near overflow
        // and underflow.
        for (name, scale) in [("scale 1e98", 1e98), ("scale 1e-140", 1e-140)] {
            let stepped = out[1].1.iter().map(|x| x * scale).collect();
            out.push((name, stepped));
        }
        out
    }

    /// The proofs checked at every value (the detector itself scans every 32), so that
    /// carried proofs meet every window on the way to a cut: whenever the carried proof or a
    /// full check says "no cut", River's scan agrees.
    #[test]
    fn every_proof_agrees_with_rivers_scan() {
        for (name, xs) in streams() {
            let mut a = Adwin::new(AdwinParams {
                grace_period: 0,
                ..AdwinParams::default()
            })
            .unwrap();
            let (mut carried, mut full, mut cuts) = (0, 0, 0);
            for (i, &x) in xs.iter().enumerate() {
                if let Some(terms) = a.scan_terms() {
                    let river = a.river_cut_found();
                    cuts += usize::from(river);
                    if a.young_part_proved(&terms) {
                        assert!(!river, "{name}: a carried proof at {i} missed River's cut");
                        carried += 1;
                    }
                    // On a copy: the detector's own carried proof must live on, as it does
                    // between scans.
                    if a.clone().full_check(&terms) {
                        assert!(!river, "{name}: a full check at {i} missed River's cut");
                        full += 1;
                    }
                }
                a.update(x);
            }
            eprintln!("{name}: {carried} carried, {full} full checks, {cuts} cuts");
            if name == "scale 1e-140" {
                // `2·v·δ′/W` is below 2^-900 there: the proof stands aside, River's scan decides.
                assert_eq!((carried, full), (0, 0), "{name}");
                continue;
            }
            // The stream offset by 1e6 carries the fewest (about 3,000): margins scale with
            // `S`, which its offset makes 10^6 times the spread.
            assert!(
                carried > 2_500 && full > 5_000 && (cuts > 0 || name == "step 0.02"),
                "{name}: {carried} carried, {full} full checks, {cuts} cuts"
            );
        }
    }

    /// Long minimum windows: the young walk stops where splits are no longer tested (fewer
    /// than `min_window_length` older values), and a carried proof still agrees with River's
    /// scan at every value.
    #[test]
    fn proofs_agree_with_rivers_scan_for_long_minimum_windows() {
        let mut streams = streams();
        streams.retain(|(name, _)| ["step 0.1", "ramp"].contains(name));
        // Levels that alternate every 200 values: many fresh windows, whose oldest splits
        // (the ones the walk's end decides) are still young. (Stopping the walk `ℓ` splits
        // early is caught here, at ℓ = 128.)
        let mut uniform = crate::test_support::uniform(99);
        let alternating = (0..20_000)
            .map(|i| uniform() + if (i / 200) % 2 == 0 { 0.0 } else { 1.0 })
            .collect();
        streams.push(("alternating", alternating));
        for min_window_length in [128, 600] {
            for (name, xs) in &streams {
                let mut a = Adwin::new(AdwinParams {
                    grace_period: 0,
                    min_window_length,
                    ..AdwinParams::default()
                })
                .unwrap();
                let mut carried = 0;
                for (i, &x) in xs.iter().enumerate() {
                    if let Some(terms) = a.scan_terms()
                        && a.young_part_proved(&terms)
                    {
                        assert!(
                            !a.river_cut_found(),
                            "{name}, ℓ {min_window_length}: at {i}"
                        );
                        carried += 1;
                    }
                    a.update(x);
                }
                // (The alternating stream restarts every few hundred values: few carry.)
                let least = if *name == "alternating" { 20 } else { 1_000 };
                eprintln!("{name}, ℓ {min_window_length}: {carried} carried");
                assert!(
                    carried > least,
                    "{name}, ℓ {min_window_length}: {carried} carried"
                );
            }
        }
    }

    /// The first proof after a batch run takes the variance without the run's last block of
    /// increments (a lower bound). Whenever it says "no cut", River's scan on the whole
    /// variance agrees.
    #[test]
    fn a_proof_without_the_pending_increments_agrees_with_rivers_scan() {
        for (name, xs) in streams() {
            let mut a = Adwin::new(AdwinParams {
                grace_period: 0,
                ..AdwinParams::default()
            })
            .unwrap();
            let (mut pending, mut proved) = (0, 0);
            for run in xs.chunks_exact(32) {
                a.take_in(run, run.iter().map(|x| x.abs()).sum());
                let variance = a.variance;
                if a.pending.0.is_some() {
                    pending += 1;
                    let proof = a.no_cut_possible();
                    a.add_pending_increments();
                    assert!(a.variance >= variance, "{name}");
                    if proof {
                        assert!(!a.river_cut_found(), "{name}: at {pending}");
                        proved += 1;
                    }
                }
                // The run's own scan, as the batch loop ends it.
                if a.end_run(run.len(), true) {
                    a.start_fresh_window();
                }
            }
            eprintln!("{name}: {pending} runs with pending increments, {proved} proved");
            if name != "scale 1e-140" {
                assert!(pending > 300 && proved > 200, "{name}: {pending}, {proved}");
            }
        }
    }

    /// The detector with the proof drifts where River's scan alone drifts, on every stream.
    #[test]
    fn the_proof_changes_no_drift() {
        for (name, xs) in streams() {
            // (32 and 100: runs that end in a block whose variance waits for the proof.)
            for clock in [1, 32, 100] {
                let params = AdwinParams {
                    clock,
                    ..AdwinParams::default()
                };
                let mut with_proof = Adwin::new(params).unwrap();
                let mut river = Adwin::new(params).unwrap();
                let drifts = with_proof.update_many(&xs);
                let mut plain = Vec::new();
                for (i, &x) in xs.iter().enumerate() {
                    if river.run_segment_with_rivers_scan(x) {
                        plain.push(i);
                    }
                }
                assert_eq!(drifts, plain, "{name}, clock {clock}");
                assert_eq!(with_proof, river, "{name}, clock {clock}");
            }
        }
    }

    /// A merge across the old part's end removes the split there; the carried proof stands
    /// (the young splits are found from the new end), and still agrees with River's scan.
    #[test]
    fn a_carried_proof_outlives_a_merge_across_the_old_part_end() {
        let mut a = Adwin::default();
        let mut uniform = crate::test_support::uniform(7);
        let mut outlived = 0;
        for _ in 0..200_000 {
            a.update(uniform());
            let (Some(proof), Some(terms)) = (a.scan_cache.old_part, a.scan_terms()) else {
                continue;
            };
            // The splits now: how many values lie on the old side of each.
            let mut n0 = 0.0;
            let mut boundaries = Vec::new();
            for (r, row) in a.rows.iter().enumerate().rev() {
                for _ in row.live() {
                    n0 += row_size(r);
                    boundaries.push(n0);
                }
            }
            if !boundaries.contains(&proof.old_end) && a.young_part_proved(&terms) {
                assert!(!a.river_cut_found());
                outlived += 1;
            }
        }
        // About 110,000 here; none before the young walk started from the new end.
        assert!(
            outlived > 10_000,
            "{outlived} scans carried a proof past a merge"
        );
    }

    /// What lets a carried proof stand is checked: a big enough move of the mean, or a drop of
    /// the oldest values, ends it.
    #[test]
    fn a_carried_proof_lapses_when_the_mean_moves_or_values_are_dropped() {
        let mut a = Adwin::new(AdwinParams {
            clock: 1,
            ..AdwinParams::default()
        })
        .unwrap();
        let mut uniform = crate::test_support::uniform(11);
        for _ in 0..5_000 {
            a.update(uniform());
        }
        let terms = a.scan_terms().unwrap();
        assert!(a.full_check(&terms));
        let proof = a.scan_cache.old_part.unwrap();
        assert!(a.young_part_proved(&terms));
        // The mean moved by more than the proof allows.
        a.total += (proof.max_shift * 2.0) * a.width;
        let moved = a.scan_terms().unwrap();
        assert!(!a.young_part_proved(&moved));
        a.total -= (proof.max_shift * 2.0) * a.width;
        assert!(a.delete_oldest());
        assert!(a.scan_cache.old_part.is_none());
    }
}
