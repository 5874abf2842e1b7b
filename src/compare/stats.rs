//! Two-sample statistics on plain slices. Checked against SciPy in `tests/fixtures/stats.json`
//! (made by `tests/fixtures/make_stats_fixtures.py`) to 1e-9.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Both samples sorted, missing values (NaN) left out as SciPy's `nan_policy="omit"` does;
/// `None` when either is empty.
fn sorted_pair(a: &[f64], b: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut x: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    let mut y: Vec<f64> = b.iter().copied().filter(|v| !v.is_nan()).collect();
    if x.is_empty() || y.is_empty() {
        return None;
    }
    x.sort_unstable_by(f64::total_cmp);
    y.sort_unstable_by(f64::total_cmp);
    Some((x, y))
}

/// Up to this many lattice cells (`n·m`) the KS p-value is exact; beyond, asymptotic. SciPy's
/// `method="auto"` switches at `max(n, m) > 10 000`; a bound on `n·m` bounds the cost instead
/// (10^7 cells: well under a second).
pub const KS_EXACT_MAX_CELLS: u64 = 10_000_000;

/// Two-sample Kolmogorov–Smirnov: the statistic D (as `scipy.stats.ks_2samp`) and the
/// two-sided p-value: exact (`method="exact"`) when `n·m <= KS_EXACT_MAX_CELLS`, otherwise the
/// asymptotic `kstwobign.sf(D * sqrt(n*m/(n+m)))`.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let (d, p_asymp) = ks_2samp_asymp(a, b)?;
    let present = |v: &[f64]| v.iter().filter(|x| !x.is_nan()).count();
    let (n, m) = (present(a), present(b));
    if (n as u64) * (m as u64) <= KS_EXACT_MAX_CELLS {
        Some((d, ks_pvalue_exact(n, m, d)))
    } else {
        Some((d, p_asymp))
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The exact two-sided p-value P(D >= d) of the two-sample KS statistic under the null, for
/// sample sizes n and m, as `scipy.stats.ks_2samp(method="exact")`: d is first rounded to the
/// lattice (`h = round(d · lcm(n, m))`), then the share of the C(n+m, n) equally likely
/// lattice paths from (0, 0) to (n, m) that ever reach |i·m − j·n| >= h·g is computed. The
/// recursion carries probabilities, not counts (the chance that a random path reaches (i, j)
/// without leaving the band), so nothing overflows.
pub fn ks_pvalue_exact(n: usize, m: usize, d: f64) -> f64 {
    let (nn, mm) = (n as u64, m as u64);
    if nn == 0 || mm == 0 {
        return 1.0;
    }
    let g = gcd(nn, mm);
    let lcm = nn / g * mm;
    let h = (d * lcm as f64).round() as u64;
    if h == 0 {
        return 1.0;
    }
    let limit = (h * g) as i128;
    let inside =
        |i: usize, j: usize| ((i as i128) * (m as i128) - (j as i128) * (n as i128)).abs() < limit;
    let total = (n + m) as f64;
    // row[j]: probability of being at (i, j) having stayed inside so far.
    let mut row = vec![0.0f64; m + 1];
    row[0] = 1.0;
    for j in 1..=m {
        // From (0, j-1) a step in j has probability (m - (j-1)) / (n + m - (j-1)).
        row[j] = if inside(0, j) {
            row[j - 1] * (m - (j - 1)) as f64 / (total - (j - 1) as f64)
        } else {
            0.0
        };
    }
    for i in 1..=n {
        let mut next = vec![0.0f64; m + 1];
        for j in 0..=m {
            if !(inside(i, j) || (i == n && j == m)) {
                continue;
            }
            let left = (i - 1) + j;
            // From (i-1, j): a step in i with probability (n - (i-1)) / (n + m - (i-1) - j).
            let mut p = row[j] * (n - (i - 1)) as f64 / (total - left as f64);
            if j > 0 {
                let from = i + (j - 1);
                p += next[j - 1] * (m - (j - 1)) as f64 / (total - from as f64);
            }
            next[j] = p;
        }
        row = next;
    }
    (1.0 - row[m]).clamp(0.0, 1.0)
}

/// The KS statistic with the asymptotic p-value only.
pub fn ks_2samp_asymp(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let (x, y) = sorted_pair(a, b)?;
    let (n, m) = (x.len(), y.len());
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < n && j < m {
        let v = if x[i] <= y[j] { x[i] } else { y[j] };
        while i < n && x[i] <= v {
            i += 1;
        }
        while j < m && y[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n as f64 - j as f64 / m as f64).abs());
    }
    let en = (n as f64 * m as f64) / (n + m) as f64;
    Some((d, kolmogorov_sf(en.sqrt() * d)))
}

/// The Kolmogorov distribution's survival function Q(λ) = 2 Σ (-1)^(k-1) exp(-2 k² λ²),
/// with the Jacobi-theta form for small λ where that series converges slowly.
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.0 {
        // 1 - sqrt(2π)/λ Σ exp(-(2k-1)² π² / (8 λ²))
        let mut s = 0.0;
        for k in 1..=50 {
            let t = (2 * k - 1) as f64;
            let term = (-(t * t) * std::f64::consts::PI.powi(2) / (8.0 * lambda * lambda)).exp();
            s += term;
            if term < 1e-300 {
                break;
            }
        }
        (1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * s).clamp(0.0, 1.0)
    } else {
        let mut s = 0.0;
        for k in 1..=100 {
            let kf = k as f64;
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            s += if k % 2 == 1 { term } else { -term };
            if term < 1e-300 {
                break;
            }
        }
        (2.0 * s).clamp(0.0, 1.0)
    }
}

/// Critical value c(α) of the two-sample KS test: D above c(α)·sqrt((n+m)/(n·m)) is what
/// sampling noise alone explains at level α. The gate subtracts it (as Deequ does).
pub fn ks_noise(alpha: f64, n: usize, m: usize) -> f64 {
    let c = (-(alpha / 2.0).ln() / 2.0).sqrt();
    c * ((n + m) as f64 / (n as f64 * m as f64)).sqrt()
}

/// Pearson's chi-square test of homogeneity on a 2×k table of counts (no continuity
/// correction): statistic, degrees of freedom, p-value. Categories empty on both sides are dropped.
pub fn chi2_homogeneity(a: &[f64], b: &[f64]) -> Option<(f64, f64, f64)> {
    let cols: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x, *y))
        .filter(|(x, y)| x + y > 0.0)
        .collect();
    let (ra, rb): (f64, f64) = (
        cols.iter().map(|c| c.0).sum(),
        cols.iter().map(|c| c.1).sum(),
    );
    if cols.len() < 2 || ra == 0.0 || rb == 0.0 {
        return None;
    }
    let total = ra + rb;
    let mut stat = 0.0;
    for (x, y) in &cols {
        let col = x + y;
        let (ea, eb) = (ra * col / total, rb * col / total);
        stat += (x - ea).powi(2) / ea + (y - eb).powi(2) / eb;
    }
    let dof = (cols.len() - 1) as f64;
    let p = ChiSquared::new(dof).ok()?.sf(stat);
    Some((stat, dof, p))
}

fn normalized(v: &[f64]) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    v.iter()
        .map(|x| if s > 0.0 { x / s } else { 0.0 })
        .collect()
}

/// Category counts of both sides, pooled the same way under disclosure control: the
/// categories production shows (each seen at least k times) stay apart, in key order, and
/// everything else on either side (production's withheld rows, synthetic values production does
/// not show) forms one last bin. Merging only production's rare values would make two samples
/// of one distribution differ.
pub fn pool_categories(
    synth: &std::collections::BTreeMap<String, u64>,
    synth_withheld: u64,
    prod: &std::collections::BTreeMap<String, u64>,
    prod_withheld: u64,
) -> (Vec<f64>, Vec<f64>) {
    let mut a: Vec<f64> = prod
        .keys()
        .map(|k| *synth.get(k).unwrap_or(&0) as f64)
        .collect();
    let mut b: Vec<f64> = prod.values().map(|n| *n as f64).collect();
    let synth_total = synth.values().sum::<u64>() + synth_withheld;
    a.push(synth_total as f64 - a.iter().sum::<f64>());
    b.push(prod_withheld as f64);
    (a, b)
}

/// Jensen–Shannon divergence in bits between two count vectors (normalized first).
pub fn js_divergence(a: &[f64], b: &[f64]) -> f64 {
    let (p, q) = (normalized(a), normalized(b));
    let kl = |x: &[f64], m: &[f64]| -> f64 {
        x.iter()
            .zip(m)
            .filter(|(xi, _)| **xi > 0.0)
            .map(|(xi, mi)| xi * (xi / mi).ln())
            .sum()
    };
    let m: Vec<f64> = p.iter().zip(&q).map(|(x, y)| (x + y) / 2.0).collect();
    ((kl(&p, &m) + kl(&q, &m)) / 2.0 / std::f64::consts::LN_2).max(0.0)
}

/// Jensen–Shannon distance (base 2), as `scipy.spatial.distance.jensenshannon(p, q, base=2)`.
pub fn js_distance(a: &[f64], b: &[f64]) -> f64 {
    js_divergence(a, b).sqrt()
}

/// The (1 - α) quantile of the chi-square distribution with `dof` degrees of freedom.
pub fn chi2_quantile(dof: usize, alpha: f64) -> f64 {
    ChiSquared::new(dof.max(1) as f64)
        .map(|c| c.inverse_cdf(1.0 - alpha))
        .unwrap_or(f64::INFINITY)
}

/// The JS divergence (bits) that two samples of sizes n and m from one distribution over k
/// categories stay below with probability 1 - α: under the null, 8 ln 2 · JSD / (1/n + 1/m)
/// is asymptotically chi-square with k - 1 degrees of freedom, so the bound is its (1 - α)
/// quantile times (1/n + 1/m) / (8 ln 2). A high quantile, not the mean: the gate must not
/// fail on noise.
pub fn js_noise(k: usize, n: f64, m: f64, alpha: f64) -> f64 {
    if k < 2 || n <= 0.0 || m <= 0.0 {
        return 0.0;
    }
    chi2_quantile(k - 1, alpha) * (1.0 / n + 1.0 / m) / (8.0 * std::f64::consts::LN_2)
}

/// Pseudo-count added to every bin before PSI is computed (Jeffreys' prior): an empty bin on
/// one side then weighs as half a row, not as a share of 1e-6 whose logarithm explodes.
pub const PSI_PSEUDO_COUNT: f64 = 0.5;

/// Population stability index Σ (q - p) ln(q / p) over bins of counts, each count smoothed by
/// [`PSI_PSEUDO_COUNT`] before the shares are taken.
pub fn psi(expected: &[f64], actual: &[f64]) -> f64 {
    let smooth =
        |v: &[f64]| normalized(&v.iter().map(|x| x + PSI_PSEUDO_COUNT).collect::<Vec<_>>());
    let (p, q) = (smooth(expected), smooth(actual));
    p.iter().zip(&q).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}

/// The PSI that two samples of sizes n and m from one distribution over k bins stay below with
/// probability 1 - α: PSI is the symmetric (Jeffreys) divergence, and PSI / (1/n + 1/m) is
/// asymptotically chi-square with k - 1 degrees of freedom under the null.
pub fn psi_noise(k: usize, n: f64, m: f64, alpha: f64) -> f64 {
    if k < 2 || n <= 0.0 || m <= 0.0 {
        return 0.0;
    }
    chi2_quantile(k - 1, alpha) * (1.0 / n + 1.0 / m)
}

/// Counts of `values` in the bins cut by sorted `edges`: bin i holds edges[i-1] < x <= edges[i]
/// (NumPy's `searchsorted(edges, x, side="left")`).
pub fn bin_counts(edges: &[f64], values: &[f64]) -> Vec<f64> {
    let mut counts = vec![0.0; edges.len() + 1];
    for v in values {
        let i = edges.partition_point(|e| e < v);
        counts[i] += 1.0;
    }
    counts
}

/// Decile edges of a sample (linear interpolation), duplicates removed.
pub fn decile_edges(values: &[f64]) -> Vec<f64> {
    quantile_edges(values, 10)
}

/// The edges of `bins` equal-frequency bins of a sample (linear interpolation), duplicates
/// removed.
pub fn quantile_edges(values: &[f64], bins: usize) -> Vec<f64> {
    let mut s = values.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..bins)
        .map(|i| crate::profile::quantile_sorted(&s, i as f64 / bins as f64))
        .collect();
    edges.dedup();
    edges
}

/// PSI bins for samples of (effective) sizes n and m: deciles, or fewer so that each bin
/// expects at least 10 rows of the smaller sample (the chi-square bound needs that), at least 2.
pub fn psi_bins(n: f64, m: f64) -> usize {
    ((n.min(m) / 10.0).floor() as usize).clamp(2, 10)
}

/// First Wasserstein distance between two samples (`scipy.stats.wasserstein_distance`): the
/// area between the two empirical CDFs, summed over the gaps between consecutive distinct
/// values of both samples in ascending order, in one merge walk over the sorted samples.
pub fn wasserstein(a: &[f64], b: &[f64]) -> Option<f64> {
    let (x, y) = sorted_pair(a, b)?;
    let (n, m) = (x.len() as f64, y.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut total = 0.0;
    let mut lo = x[0].min(y[0]);
    loop {
        // The CDFs at `lo`: how many values of each sample are at most `lo`.
        while i < x.len() && x[i] <= lo {
            i += 1;
        }
        while j < y.len() && y[j] <= lo {
            j += 1;
        }
        let hi = match (x.get(i), y.get(j)) {
            (Some(p), Some(q)) => p.min(*q),
            (Some(p), None) => *p,
            (None, Some(q)) => *q,
            (None, None) => break,
        };
        total += (i as f64 / n - j as f64 / m).abs() * (hi - lo);
        lo = hi;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Fixtures {
        ks: Vec<KsCase>,
        chi2: Vec<Chi2Case>,
        js: Vec<JsCase>,
        psi: Vec<PsiCase>,
        wasserstein: Vec<WCase>,
        kolmogorov: Vec<(f64, f64)>,
    }
    #[derive(Deserialize)]
    struct KsCase {
        a: Vec<f64>,
        b: Vec<f64>,
        statistic: f64,
        pvalue_asymp: f64,
    }
    #[derive(Deserialize)]
    struct Chi2Case {
        a: Vec<f64>,
        b: Vec<f64>,
        statistic: f64,
        dof: f64,
        pvalue: f64,
    }
    #[derive(Deserialize)]
    struct JsCase {
        a: Vec<f64>,
        b: Vec<f64>,
        distance: f64,
    }
    #[derive(Deserialize)]
    struct PsiCase {
        expected: Vec<f64>,
        actual: Vec<f64>,
        edges: Vec<f64>,
        psi: f64,
    }
    #[derive(Deserialize)]
    struct WCase {
        a: Vec<f64>,
        b: Vec<f64>,
        distance: f64,
    }

    fn fixtures() -> Fixtures {
        serde_json::from_str(include_str!("../../tests/fixtures/stats.json"))
            .expect("fixture parses")
    }

    fn close(a: f64, b: f64, what: &str) {
        assert!(
            (a - b).abs() <= 1e-9 + 1e-9 * b.abs(),
            "{what}: ours {a}, scipy {b}"
        );
    }

    #[test]
    fn ks_matches_scipy() {
        for (i, c) in fixtures().ks.iter().enumerate() {
            let (d, p) = ks_2samp_asymp(&c.a, &c.b).expect("non-empty");
            close(d, c.statistic, &format!("ks[{i}].statistic"));
            close(p, c.pvalue_asymp, &format!("ks[{i}].pvalue"));
        }
    }

    #[test]
    fn kolmogorov_matches_scipy_kstwobign() {
        for (x, sf) in fixtures().kolmogorov {
            close(kolmogorov_sf(x), sf, &format!("kstwobign.sf({x})"));
        }
    }

    #[test]
    fn chi2_matches_scipy() {
        for (i, c) in fixtures().chi2.iter().enumerate() {
            let (s, dof, p) = chi2_homogeneity(&c.a, &c.b).expect("valid table");
            close(s, c.statistic, &format!("chi2[{i}].statistic"));
            assert_eq!(dof, c.dof);
            close(p, c.pvalue, &format!("chi2[{i}].pvalue"));
        }
    }

    #[test]
    fn js_matches_scipy() {
        for (i, c) in fixtures().js.iter().enumerate() {
            close(js_distance(&c.a, &c.b), c.distance, &format!("js[{i}]"));
        }
    }

    #[test]
    fn psi_and_bins_match_numpy() {
        for (i, c) in fixtures().psi.iter().enumerate() {
            let edges = decile_edges(&c.expected);
            assert_eq!(edges.len(), c.edges.len());
            for (a, b) in edges.iter().zip(&c.edges) {
                close(*a, *b, &format!("psi[{i}].edge"));
            }
            let got = psi(
                &bin_counts(&edges, &c.expected),
                &bin_counts(&edges, &c.actual),
            );
            close(got, c.psi, &format!("psi[{i}]"));
        }
    }

    #[test]
    fn wasserstein_matches_scipy() {
        for (i, c) in fixtures().wasserstein.iter().enumerate() {
            close(
                wasserstein(&c.a, &c.b).expect("non-empty"),
                c.distance,
                &format!("wasserstein[{i}]"),
            );
        }
    }

    #[test]
    fn noise_floors_shrink_with_sample_size() {
        assert!(ks_noise(0.05, 100, 100) > ks_noise(0.05, 10_000, 10_000));
        // c(0.05) = 1.3581
        assert!((ks_noise(0.05, 1, 1) / 2f64.sqrt() - 1.358_101).abs() < 1e-5);
        assert!(js_noise(5, 100.0, 100.0, 0.05) > js_noise(5, 1e4, 1e4, 0.05));
    }

    #[derive(Deserialize)]
    struct KsExactCase {
        /// `null` for a missing value (JSON has no NaN).
        a: Vec<Option<f64>>,
        b: Vec<Option<f64>>,
        statistic: f64,
        pvalue: f64,
    }

    /// Rare categories under disclosure control: production values seen fewer than k times are
    /// withheld, both sides pooled alike, then JS and chi-square match SciPy on the pooled table.
    #[test]
    fn pooled_categories_match_scipy() {
        #[derive(Deserialize)]
        struct P {
            synth: std::collections::BTreeMap<String, u64>,
            prod: std::collections::BTreeMap<String, u64>,
            k: u64,
            js: f64,
            chi2: f64,
            chi2_pvalue: f64,
        }
        #[derive(Deserialize)]
        struct F {
            pooled: Vec<P>,
        }
        let f: F = serde_json::from_str(include_str!("../../tests/fixtures/stats.json"))
            .expect("fixture parses");
        assert!(!f.pooled.is_empty());
        for (i, c) in f.pooled.iter().enumerate() {
            let shown: std::collections::BTreeMap<String, u64> = c
                .prod
                .iter()
                .filter(|(_, n)| **n >= c.k)
                .map(|(v, n)| (v.clone(), *n))
                .collect();
            let withheld: u64 = c.prod.values().filter(|n| **n < c.k).sum();
            let (a, b) = pool_categories(&c.synth, 0, &shown, withheld);
            close(js_distance(&a, &b), c.js, &format!("pooled[{i}].js"));
            let (stat, _, p) = chi2_homogeneity(&a, &b).expect("table");
            close(stat, c.chi2, &format!("pooled[{i}].chi2"));
            close(p, c.chi2_pvalue, &format!("pooled[{i}].p"));
        }
    }

    #[test]
    fn exact_ks_matches_scipy() {
        #[derive(Deserialize)]
        struct F {
            ks_exact: Vec<KsExactCase>,
        }
        let f: F = serde_json::from_str(include_str!("../../tests/fixtures/stats.json"))
            .expect("fixture parses");
        assert!(f.ks_exact.len() >= 6);
        for (i, c) in f.ks_exact.iter().enumerate() {
            let nan =
                |v: &[Option<f64>]| v.iter().map(|x| x.unwrap_or(f64::NAN)).collect::<Vec<_>>();
            let (d, p) = ks_2samp(&nan(&c.a), &nan(&c.b)).expect("non-empty");
            close(d, c.statistic, &format!("ks_exact[{i}].statistic"));
            close(p, c.pvalue, &format!("ks_exact[{i}].pvalue"));
        }
    }

    /// Same-population samples: the chi-square bound is exceeded about α of the time, not half
    /// of it (as the mean was).
    #[test]
    fn noise_bounds_hold_under_the_null() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let probs = [0.5, 0.3, 0.15, 0.05];
        let draw = |rng: &mut rand_chacha::ChaCha8Rng, n: usize| {
            let mut c = vec![0.0; probs.len()];
            for _ in 0..n {
                let u: f64 = rng.random();
                let mut acc = 0.0;
                for (i, p) in probs.iter().enumerate() {
                    acc += p;
                    if u < acc || i == probs.len() - 1 {
                        c[i] += 1.0;
                        break;
                    }
                }
            }
            c
        };
        let (mut js_over, mut psi_over) = (0, 0);
        let trials = 2000;
        for _ in 0..trials {
            let (a, b) = (draw(&mut rng, 400), draw(&mut rng, 300));
            js_over += (js_divergence(&a, &b) > js_noise(4, 400.0, 300.0, 0.05)) as usize;
            psi_over += (psi(&a, &b) > psi_noise(4, 400.0, 300.0, 0.05)) as usize;
        }
        let (js_rate, psi_rate) = (
            js_over as f64 / trials as f64,
            psi_over as f64 / trials as f64,
        );
        assert!(js_rate < 0.08, "JS exceeded its 95% bound in {js_rate}");
        assert!(psi_rate < 0.08, "PSI exceeded its 95% bound in {psi_rate}");
    }
}
