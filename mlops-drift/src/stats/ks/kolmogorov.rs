//! The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic `D_n` (SciPy's
//! `kstwo`) and of the one-sided statistic `D_n^+` (Smirnov's distribution, SciPy's
//! `special.smirnov`).
//!
//! The survival function follows the algorithm selection of Simard & L'Ecuyer (2011) exactly as
//! SciPy's `_kolmogn` does (Ruben–Gambino for the extreme ranges, the Durbin matrix algorithm
//! as evaluated by Marsaglia–Tsang–Wang, the Pomeranz recursion, Pelz–Good, and twice the
//! Smirnov tail), so that its values agree with SciPy's to far better than 1e-9. The Smirnov tail
//! is summed in log space, which makes `ln p` accurate even where `p` underflows, outward from
//! the peak of its terms.

use std::f64::consts::PI;

/// `2^128`, the rescaling step used by the matrix and Pomeranz algorithms.
const EP128: f64 = 3.402_823_669_209_385e38;
/// `2^-128`.
const EM128: f64 = 1.0 / EP128;
const E128: i32 = 128;

/// A survival probability with its natural log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tail {
    /// The probability, clipped into [0, 1].
    pub(crate) p: f64,
    /// Its natural log, accurate also where `p` underflows.
    pub(crate) ln_p: f64,
}

impl Tail {
    fn from_p(p: f64) -> Self {
        let p = p.clamp(0.0, 1.0);
        Self { p, ln_p: p.ln() }
    }

    fn from_ln_p(ln_p: f64) -> Self {
        let ln_p = ln_p.min(0.0);
        Self {
            p: ln_p.exp(),
            ln_p,
        }
    }
}

/// `x * 2^e` without intermediate overflow or underflow of the scale factor.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    // `e` is now within [-1000, 1000].
    x * 2f64.powi(i32::try_from(e).unwrap_or(0))
}

/// Survival function `P(D_n >= x)` of the two-sided statistic for a sample of size `n >= 1`
/// (SciPy's `kstwo.sf(x, n)`, including its support handling: 1 at or below `0.5/n`, 0 at 1).
pub(crate) fn kstwo_sf(n: u64, x: f64) -> Tail {
    let nf = n as f64;
    if x.is_nan() {
        return Tail {
            p: f64::NAN,
            ln_p: f64::NAN,
        };
    }
    if x >= 1.0 {
        return Tail::from_p(0.0);
    }
    if x <= 0.5 / nf {
        return Tail::from_p(1.0);
    }
    let t = nf * x;
    if t <= 1.0 {
        // Ruben–Gambino: 1/2n <= x <= 1/n.
        let cdf = if n <= 140 {
            let inv_n = 1.0 / nf;
            let base = 2.0 * t - 1.0;
            (1..=n).fold(1.0, |acc, i| acc * ((i as f64) * inv_n * base))
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return Tail::from_p(1.0 - cdf);
    }
    if t >= nf - 1.0 {
        // Ruben–Gambino: 2 (1 - x)^n.
        let ln_p = std::f64::consts::LN_2 + nf * (-x).ln_1p();
        return Tail::from_ln_p(ln_p);
    }
    if x >= 0.5 {
        return twice_smirnov(n, x);
    }
    let nxsquared = t * x;
    if n <= 140 {
        if nxsquared <= 0.754_693 {
            return Tail::from_p(1.0 - durbin_mtw_cdf(n, x));
        }
        if nxsquared <= 4.0 {
            return Tail::from_p(1.0 - pomeranz_cdf(n, x));
        }
        return twice_smirnov(n, x);
    }
    if nxsquared >= 2.2 {
        // SciPy returns exactly 0 from nxsquared >= 370 on; the log-space Smirnov tail is then
        // below e^-740 as well, so p agrees (both below 1e-300) and ln p stays informative.
        return twice_smirnov(n, x);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        durbin_mtw_cdf(n, x)
    } else {
        pelz_good_cdf(nf, x)
    };
    Tail::from_p(1.0 - cdf)
}

fn twice_smirnov(n: u64, x: f64) -> Tail {
    let ln_sf = smirnov_ln_sf(n, x);
    Tail::from_ln_p(std::f64::consts::LN_2 + ln_sf)
}

/// `ln(n! / n^n)` by Stirling's series (SciPy's `_log_nfactorial_div_n_pow_n`).
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    n.ln() / 2.0 - n + (2.0 * PI).ln() / 2.0 + stirling_correction(n)
}

/// `ln k! - (k ln k - k + ln(2πk) / 2)`, the remainder of Stirling's formula, by its asymptotic
/// series (error below 1e-16 from k = 16 on).
fn stirling_correction(k: f64) -> f64 {
    // B_{2j} / (2j) / (2j - 1) for j = 8, ..., 1 (highest power first).
    const STIRLING: [f64; 8] = [
        -3617.0 / 122_400.0,
        1.0 / 156.0,
        -691.0 / 360_360.0,
        1.0 / 1188.0,
        -1.0 / 1680.0,
        1.0 / 1260.0,
        -1.0 / 360.0,
        1.0 / 12.0,
    ];
    let rk = 1.0 / k;
    let z = rk * rk;
    rk * STIRLING.iter().fold(0.0, |acc, c| acc * z + c)
}

/// [`stirling_correction`] for an integer `k >= 1`; below 16, where the series is not yet
/// accurate, from `ln k!` summed directly.
fn stirling_correction_int(k: u64) -> f64 {
    if k >= 16 {
        return stirling_correction(k as f64);
    }
    let kf = k as f64;
    let ln_factorial: f64 = (2..=k).map(|i| (i as f64).ln()).sum();
    ln_factorial - (kf * kf.ln() - kf + (2.0 * PI * kf).ln() / 2.0)
}

/// SciPy computes Smirnov's tail exactly only up to this `n`; above it, it uses the
/// approximation `p ~ exp(-(6nx + 1)^2 / 18n)`, and so does [`smirnov_ln_sf`].
const SMIRNOV_MAX_COMPUTE_N: u64 = 1_000_000;

/// Natural log of Smirnov's one-sided survival function `P(D_n^+ >= x)`, by the
/// Smirnov/Birnbaum–Tingey lower sum `x Σ_v A_v`, whose terms are all positive, summed in log
/// space.
///
/// `ln A_v` is concave in `v` (its second difference is `-x² / (n p (p + x)²) - x² / (n q
/// (q - x)²)` to leading order, with `p = v/n`, `q = 1 - p`), so the terms rise to one peak and
/// fall away from it. The peak is found by bisection on the sign of the first difference, and
/// the sum runs outward from it until the rest is provably below `e^-40` of the peak: a few
/// thousand terms where summing from `v = 0` would take up to `n`.
pub(crate) fn smirnov_ln_sf(n: u64, x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return f64::NEG_INFINITY;
    }
    let nf = n as f64;
    if n == 1 {
        return (-x).ln_1p();
    }
    let nx = nf * x;
    if nx <= 1.0 {
        // cdf = x (1 + x)^(n-1)
        let cdf = x * ((nf - 1.0) * x.ln_1p()).exp();
        return (-cdf).ln_1p();
    }
    if nx >= nf - 1.0 {
        return nf * (-x).ln_1p();
    }
    if n > SMIRNOV_MAX_COMPUTE_N {
        return -(6.0 * nx + 1.0).powi(2) / 18.0 / nf;
    }
    // Terms v = 0 ..= floor(n (1 - x)), excluding a last term whose base 1 - x - v/n is 0.
    let last = (nf * (1.0 - x)).floor().max(0.0) as u64;
    let last = if x + last as f64 / nf < 1.0 {
        last
    } else {
        last.saturating_sub(1)
    };
    let ln_term = |v: u64| smirnov_ln_term(n, x, v);
    // The peak: the first v whose successor is not larger.
    let (mut lo, mut hi) = (0_u64, last);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ln_term(mid + 1) > ln_term(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let peak = lo;
    let max = ln_term(peak);
    let step = trapezoid_step(&ln_term, peak, max, last);
    // Σ exp(ln_term - max) over v = peak ± k·step, outward from the peak; past the peak the
    // terms only fall, so the rest of a side is below (terms left) × (current term).
    let negligible =
        |rel: f64, left: u64| rel < -40.0 && rel + ((left / step + 1) as f64).ln() < -40.0;
    let mut scaled_sum = 1.0_f64;
    let mut v = peak;
    while let Some(next) = v.checked_sub(step) {
        v = next;
        let rel = ln_term(v) - max;
        scaled_sum += rel.exp();
        if negligible(rel, v) {
            break;
        }
    }
    let mut v = peak;
    while let Some(next) = v.checked_add(step).filter(|&w| w <= last) {
        v = next;
        let rel = ln_term(v) - max;
        scaled_sum += rel.exp();
        if negligible(rel, last - v) {
            break;
        }
    }
    (x.ln() + max + (step as f64 * scaled_sum).ln()).min(0.0)
}

/// The spacing at which the terms around the peak may be sampled instead of summed one by one.
///
/// For large `n` the peak is a smooth bump thousands of terms wide (σ ≈ 7000 at n = 5e5 with
/// p ≈ 1e-282). Summing a smooth bump over a lattice is the trapezoidal rule, whose error for a
/// bump of width σ sampled every h falls like `exp(-2π² σ² / h²)`: every integer and every
/// (σ/8)-th integer give the same sum (times h) to far below 1e-16, as long as the bump is
/// negligible at both ends of the range (otherwise the ends would need Euler–Maclaurin
/// corrections, and the step stays 1). σ is measured as the distance at which the log-term
/// has fallen by 1/2 from the peak.
fn trapezoid_step(ln_term: &impl Fn(u64) -> f64, peak: u64, max: f64, last: u64) -> u64 {
    const ENDS_NEGLIGIBLE: f64 = -80.0;
    if ln_term(0) - max > ENDS_NEGLIGIBLE || ln_term(last) - max > ENDS_NEGLIGIBLE {
        return 1;
    }
    let mut width = 1_u64;
    while width < last {
        let below = peak.checked_sub(width).map_or(f64::NEG_INFINITY, &ln_term);
        let above = peak
            .checked_add(width)
            .filter(|&v| v <= last)
            .map_or(f64::NEG_INFINITY, &ln_term);
        if max - below.min(above) >= 0.5 {
            break;
        }
        width *= 2;
    }
    // The bump is skewed (steep towards v = 0, where the terms have a singularity), so the
    // step also stays far below the distance to either end.
    (width.min(peak).min(last - peak) / 64).max(1)
}

/// `ln A_v = ln binom(n, v) + (v - 1) ln(x + v/n) + (n - v) ln(1 - x - v/n)` for
/// `0 <= v < n (1 - x)`, evaluated directly at any `v` to about 1e-11 absolute: Stirling's
/// formula for the binomial folds its large parts together with the two powers into
/// `v ln(1 + x/p) + (n - v) ln(1 - x/q)` (`p = v/n`, `q = 1 - p`), which stays of the order of
/// `ln A_v` instead of `n`.
fn smirnov_ln_term(n: u64, x: f64, v: u64) -> f64 {
    let nf = n as f64;
    let a = x + v as f64 / nf;
    if v == 0 {
        return -x.ln() + nf * (-x).ln_1p();
    }
    let vf = v as f64;
    let rest = nf - vf;
    vf * (x * nf / vf).ln_1p() + rest * (-x * nf / rest).ln_1p() - a.ln()
        + (nf / (2.0 * PI * vf * rest)).ln() / 2.0
        + stirling_correction_int(n)
        - stirling_correction_int(v)
        - stirling_correction_int(n - v)
}

fn mat_mul(a: &[f64], b: &[f64], m: usize, out: &mut [f64]) {
    for (row_out, row_a) in out.chunks_exact_mut(m).zip(a.chunks_exact(m)) {
        row_out.iter_mut().for_each(|o| *o = 0.0);
        for (aik, row_b) in row_a.iter().zip(b.chunks_exact(m)) {
            for (o, bkj) in row_out.iter_mut().zip(row_b) {
                *o += aik * bkj;
            }
        }
    }
}

/// `P(D_n <= d)` by Durbin's matrix algorithm as evaluated by Marsaglia, Tsang & Wang.
#[expect(
    clippy::indexing_slicing,
    reason = "indices are bounded by the matrix order m = 2k - 1"
)]
fn durbin_mtw_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut hm = vec![0.0; m * m];
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut hpwr = vec![0.0; m * m];
    for i in 0..m {
        hpwr[i * m + i] = 1.0;
    }
    let mut scratch = vec![0.0; m * m];
    let mut nn = n;
    let mut expnt: i64 = 0;
    let mut hexpnt: i64 = 0;
    while nn > 0 {
        if nn % 2 == 1 {
            mat_mul(&hpwr, &hm, m, &mut scratch);
            std::mem::swap(&mut hpwr, &mut scratch);
            expnt += hexpnt;
        }
        mat_mul(&hm, &hm, m, &mut scratch);
        std::mem::swap(&mut hm, &mut scratch);
        hexpnt *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > EP128 {
            hm.iter_mut().for_each(|e| *e /= EP128);
            hexpnt += i64::from(E128);
        }
        nn /= 2;
    }
    let mut p = hpwr[(k - 1) * m + (k - 1)];
    for i in 1..=n {
        p = (i as f64) * p / nf;
        if p.abs() < EM128 {
            p *= EP128;
            expnt -= i64::from(E128);
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    p.clamp(0.0, 1.0)
}

fn pomeranz_j1j2(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let ip1div2 = (i + 1) / 2;
        if (i + 1) % 2 == 0 {
            if ip1div2 == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
            }
        } else {
            (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `P(D_n <= x)` by the Pomeranz recursion.
fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let ni = i64::try_from(n).unwrap_or(i64::MAX);
    let t = nf * x;
    let llf = t.floor();
    let ll = llf as i64;
    let f = t - llf;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npwrs = usize::try_from(2 * (ll + 1)).unwrap_or(0).max(1);
    let mut gpower = vec![1.0; npwrs];
    let mut twogpower = vec![1.0; npwrs];
    let mut onem2gpower = vec![1.0; npwrs];
    let (g_n, two_g_n, om2g_n) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npwrs {
        let mf = m as f64;
        let prev = (
            gpower.get(m - 1).copied().unwrap_or(0.0),
            twogpower.get(m - 1).copied().unwrap_or(0.0),
            onem2gpower.get(m - 1).copied().unwrap_or(0.0),
        );
        if let (Some(a), Some(b), Some(c)) = (
            gpower.get_mut(m),
            twogpower.get_mut(m),
            onem2gpower.get_mut(m),
        ) {
            *a = prev.0 * g_n / mf;
            *b = prev.1 * two_g_n / mf;
            *c = prev.2 * om2g_n / mf;
        }
    }
    let mut v0 = vec![0.0; npwrs];
    let mut v1 = vec![0.0; npwrs];
    if let Some(first) = v1.first_mut() {
        *first = 1.0;
    }
    let (mut v0s, mut v1s): (i64, i64) = (0, 0);
    let mut expnt: i64 = 0;
    let (mut j1, _) = pomeranz_j1j2(0, ni, ll, ceilf, roundf);
    let len = i64::try_from(npwrs).unwrap_or(i64::MAX);
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|e| *e = 0.0);
        let (nj1, nj2) = pomeranz_j1j2(i, ni, ll, ceilf, roundf);
        j1 = nj1;
        let pwrs = if i == 1 || i == 2 * ni + 1 {
            &gpower
        } else if i % 2 == 1 {
            &twogpower
        } else {
            &onem2gpower
        };
        let ln2 = nj2 - k1 + 1;
        if ln2 > 0 {
            // a = V0[k1 - V0s .. k1 - V0s + ln2], b = pwrs[..ln2] (both clipped like NumPy slices)
            let a_start = k1 - v0s;
            let a_len = (a_start + ln2).min(len) - a_start.max(0);
            let b_len = ln2.min(len);
            let conv_start = nj1 - k1;
            let conv_len = nj2 - nj1 + 1;
            for (idx, out) in v1
                .iter_mut()
                .enumerate()
                .take(usize::try_from(conv_len.max(0)).unwrap_or(0))
            {
                let kk = conv_start + idx as i64;
                let mut acc = 0.0;
                let lo = (kk - (b_len - 1)).max(0);
                let hi = kk.min(a_len - 1);
                let mut ia = lo;
                while ia <= hi {
                    let av = usize::try_from(a_start + ia)
                        .ok()
                        .and_then(|u| v0.get(u))
                        .copied()
                        .unwrap_or(0.0);
                    let bv = usize::try_from(kk - ia)
                        .ok()
                        .and_then(|u| pwrs.get(u))
                        .copied()
                        .unwrap_or(0.0);
                    acc += av * bv;
                    ia += 1;
                }
                *out = acc;
            }
            let maxv = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if maxv > 0.0 && maxv < EM128 {
                v1.iter_mut().for_each(|e| *e *= EP128);
                expnt -= i64::from(E128);
            }
            v1s = v0s + nj1 - k1;
        }
    }
    let mut ans = usize::try_from(ni - v1s)
        .ok()
        .and_then(|u| v1.get(u))
        .copied()
        .unwrap_or(0.0);
    for m in 1..=n {
        if ans.abs() > EP128 {
            ans *= EM128;
            expnt += i64::from(E128);
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    ans.clamp(0.0, 1.0)
}

/// The Pelz–Good approximation to `P(D_n <= x)`.
fn pelz_good_cdf(n: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let pi2 = PI * PI;
    let pi4 = pi2 * pi2;
    let pi6 = pi4 * pi2;
    let sqrt2pi = (2.0 * PI).sqrt();
    let z = n.sqrt() * x;
    let zsquared = z * z;
    let zthree = zsquared * z;
    let zfour = zsquared * zsquared;
    let zsix = zfour * zsquared;
    let qlog = -pi2 / 8.0 / zsquared;
    if qlog < -708.0 {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -zsquared;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * zsix + 2.0 * zfour;
    let k2b = (2.0 * zfour - 5.0 * zsquared) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * zsquared) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * zsquared) / 64.0;
    let k3c = pi4 * (-60.0 * zsquared + 212.0 * zfour) / 16.0;
    let k3b = pi2 * (135.0 * zfour - 96.0 * zsix) / 4.0;
    let k3a = -30.0 * zsix - 90.0 * z.powi(8);
    let mut k = [0.0_f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for kk in (1..=maxk).rev() {
        let m = (2 * kk - 1) as f64;
        let msq = m * m;
        let mfour = msq * msq;
        let msix = mfour * msq;
        let qpower = q.powf((8 * kk) as f64);
        let coeffs = [
            1.0,
            k1a + k1b * msq,
            k2a + k2b * msq + k2c * mfour,
            k3a + k3b * msq + k3c * mfour + k3d * msix,
        ];
        for (acc, c) in k.iter_mut().zip(coeffs) {
            *acc = *acc * qpower + c;
        }
    }
    let denominators = [z, 6.0 * zfour, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (acc, den) in k.iter_mut().zip(denominators) {
        *acc = *acc * q * sqrt2pi / den;
    }
    let q2 = (-pi2 / 2.0 / zsquared).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let mut k2extra = 0.0;
    let mut k3extra = 0.0;
    for kk in (1..=maxk).rev() {
        let kf = kk as f64;
        let ksq = kf * kf;
        let qp = q2.powf(ksq);
        let kspi = PI * kf;
        k2extra += ksq * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    let [k0, k1, k2, k3] = k;
    let k2 = k2 + k2extra * pi2 * sqrt2pi / (-36.0 * zthree);
    let k3 = k3 + k3extra * pi2 * sqrt2pi / (216.0 * zsix);
    k0 + k1 / n.sqrt() + k2 / n + k3 / n.powf(1.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smirnov_small_n_matches_the_closed_form() {
        // For n = 2 and 0.5 < x < 1 only the v = 0 term of the lower sum remains:
        // P(D_2^+ >= x) = x * x^-1 * (1 - x)^2 = (1 - x)^2.
        let x = 0.7;
        let got = smirnov_ln_sf(2, x).exp();
        assert!((got - (1.0 - x) * (1.0 - x)).abs() < 1e-15);
    }

    #[test]
    fn smirnov_matches_scipy_special_smirnov() {
        // scipy.special.smirnov(n, x), SciPy 1.17.1
        let cases = [
            (
                500_000_u64,
                0.005_404_999_999_999_993,
                2.045_825_071_242_887_2e-13,
            ),
            (1000, 0.05, 0.006_506_037_390_545_166),
            (20_000, 0.02, 1.109_063_503_502_487_2e-7),
            (140, 0.3, 5.685_125_855_368_654e-12),
            (5000, 0.1, 2.795_247_943_198_229_5e-44),
            (3, 0.4, 0.301_333_333_333_333_3),
        ];
        for (n, x, want) in cases {
            let got = smirnov_ln_sf(n, x).exp();
            assert!(
                (got - want).abs() <= 1e-11 * want,
                "n={n} x={x}: {got:e} vs {want:e}"
            );
        }
    }

    /// The lower sum from v = 0 to its end, term by term with the binomial by recurrence (with
    /// compensated summation): slow, and independent of the peak search and of Stirling.
    fn smirnov_ln_sf_full_sum(n: u64, x: f64) -> f64 {
        let nf = n as f64;
        let last = (nf * (1.0 - x)).floor() as u64;
        let (mut ln_c, mut comp) = (0.0_f64, 0.0_f64);
        let mut terms = Vec::new();
        for v in 0..=last {
            let vf = v as f64;
            let a = x + vf / nf;
            if a < 1.0 {
                terms.push((ln_c + comp) + (vf - 1.0) * a.ln() + (nf - vf) * (-a).ln_1p());
            }
            let step = ((nf - vf) / (vf + 1.0)).ln();
            let t = ln_c + step;
            comp += if ln_c.abs() >= step.abs() {
                (ln_c - t) + step
            } else {
                (step - t) + ln_c
            };
            ln_c = t;
        }
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = terms.iter().map(|t| (t - max).exp()).sum();
        (x.ln() + max + sum.ln()).min(0.0)
    }

    #[test]
    fn peak_sum_agrees_with_the_full_sum() {
        for n in [2_u64, 3, 7, 16, 17, 40, 141, 1000, 12_345, 60_000, 200_000] {
            let nf = n as f64;
            for i in 1..40 {
                // From just above 1/n to just below 1 - 1/n, denser where p is moderate.
                let x = (1.0 / nf) + (f64::from(i) / 40.0).powi(2) * (1.0 - 2.0 / nf);
                if nf * x <= 1.0 || nf * x >= nf - 1.0 {
                    continue;
                }
                let fast = smirnov_ln_sf(n, x);
                let full = smirnov_ln_sf_full_sum(n, x);
                let err = (fast - full).abs() / full.abs().max(1.0);
                assert!(err < 1e-11, "n={n} x={x}: {fast} vs {full}");
            }
        }
    }

    #[test]
    fn large_n_tails_match_scipy_including_its_approximation_above_1e6() {
        // scipy.special.smirnov(n, x), SciPy 1.17.1. Above n = 1e6 SciPy switches to
        // exp(-(6nx + 1)^2 / 18n); at and below it sums exactly.
        let cases = [
            (2_000_000_u64, 0.003, 2.314_888_356_235_142e-16),
            (1_000_000, 0.003, 1.519_906_375_969_634_6e-8),
            (999_999, 0.004, 1.262_949_621_054_493_9e-14),
            (500_000, 0.0255, 3.563_962_990_882_569_6e-283),
        ];
        for (n, x, want) in cases {
            let got = smirnov_ln_sf(n, x).exp();
            assert!(
                (got - want).abs() <= 1e-11 * want,
                "n={n} x={x}: {got:e} vs {want:e}"
            );
        }
    }

    #[test]
    fn kstwo_sf_is_monotone_and_bounded() {
        for n in [1_u64, 2, 5, 30, 141, 500, 5000] {
            let mut prev = 1.0;
            for i in 0..=200 {
                let x = f64::from(i) / 200.0;
                let t = kstwo_sf(n, x);
                assert!((0.0..=1.0).contains(&t.p), "n={n} x={x} p={}", t.p);
                assert!(t.p <= prev + 1e-9, "n={n} x={x}: {} > {prev}", t.p);
                prev = t.p;
            }
        }
    }
}
