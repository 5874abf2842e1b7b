//! Pair statistics of a table: how its numeric columns move together (Pearson and Spearman
//! correlation over rows where both are present), how its categorical columns go together
//! (Cramér's V), and how a numeric column depends on a categorical one (the correlation ratio
//! η: "amount by status"). Plain Rust over aligned columns; aggregates only, so they are safe
//! in a production profile.
//!
//! Budget: the first [`MAX_PAIR_COLUMNS`] eligible numeric columns of a table (numeric or
//! timestamp, copied as they are, not identifiers) and the first [`MAX_CATEGORICAL_COLUMNS`]
//! declared-category columns: at most 45 + 15 + 60 pairs a table.

use serde::{Deserialize, Serialize};

pub const MAX_PAIR_COLUMNS: usize = 10;
pub const MAX_CATEGORICAL_COLUMNS: usize = 6;

/// How two categorical columns go together, or a numeric column depends on a categorical one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Association {
    /// The categorical column.
    pub a: String,
    /// The other column (categorical for `cramers_v`, numeric for `eta`).
    pub b: String,
    /// `cramers_v` or `eta`.
    pub measure: String,
    pub value: f64,
    /// Rows where both are present.
    pub n: u64,
    /// Degrees of freedom of the statistic's chi-square approximation under independence.
    pub dof: u64,
    /// `min(rows, columns) - 1` of the contingency table (Cramér's V), or 1 (η).
    pub scale: u64,
}

/// Cramér's V of two aligned categorical columns (`None` = missing): sqrt(χ² / (n (min(r, c) - 1))).
/// Categories are any ordered values: the category strings, or their ranks among the column's
/// sorted categories (what profiles hold: a number a row, not a string), which sum alike.
pub fn cramers_v<T: Ord + std::hash::Hash>(
    x: &[Option<T>],
    y: &[Option<T>],
) -> Option<(f64, u64, u64, u64)> {
    use std::collections::{BTreeMap, HashMap};
    let mut cells: HashMap<(&T, &T), f64> = HashMap::new();
    // Ordered, so the chi-square sums in one order every run: profiles are byte-identical.
    let (mut rows, mut cols): (BTreeMap<&T, f64>, BTreeMap<&T, f64>) = Default::default();
    let mut n = 0.0;
    for (a, b) in x.iter().zip(y) {
        if let (Some(a), Some(b)) = (a, b) {
            *cells.entry((a, b)).or_default() += 1.0;
            *rows.entry(a).or_default() += 1.0;
            *cols.entry(b).or_default() += 1.0;
            n += 1.0;
        }
    }
    let (r, c) = (rows.len(), cols.len());
    if r < 2 || c < 2 {
        return None;
    }
    let mut chi2 = 0.0;
    for (a, ra) in &rows {
        for (b, cb) in &cols {
            let e = ra * cb / n;
            let o = cells.get(&(*a, *b)).copied().unwrap_or(0.0);
            chi2 += (o - e).powi(2) / e;
        }
    }
    let k = (r.min(c) - 1) as f64;
    Some((
        (chi2 / (n * k)).sqrt().min(1.0),
        n as u64,
        ((r - 1) * (c - 1)) as u64,
        k as u64,
    ))
}

/// The correlation ratio η of a numeric column by a categorical one: sqrt(between-group sum of
/// squares / total sum of squares), over rows where both are present.
pub fn eta<T: Ord>(groups: &[Option<T>], x: &[f64]) -> Option<(f64, u64, u64)> {
    // Ordered, so the between-group sum adds in one order every run.
    let mut by: std::collections::BTreeMap<&T, (f64, f64)> = Default::default();
    let mut all = Vec::new();
    for (g, v) in groups.iter().zip(x) {
        if let (Some(g), true) = (g, v.is_finite()) {
            let e = by.entry(g).or_default();
            e.0 += v;
            e.1 += 1.0;
            all.push(*v);
        }
    }
    if by.len() < 2 || all.len() < 3 {
        return None;
    }
    let n = all.len() as f64;
    let mean = all.iter().sum::<f64>() / n;
    let total: f64 = all.iter().map(|v| (v - mean).powi(2)).sum();
    if total <= 0.0 {
        return None;
    }
    let between: f64 = by.values().map(|(s, c)| c * (s / c - mean).powi(2)).sum();
    Some((
        (between / total).sqrt().min(1.0),
        all.len() as u64,
        (by.len() - 1) as u64,
    ))
}

/// Cramér's V of every categorical pair and η of every (categorical, numeric) pair.
pub fn associations<T: Ord + std::hash::Hash>(
    categorical: &[(String, Vec<Option<T>>)],
    numeric: &[(String, Vec<f64>)],
) -> Vec<Association> {
    let mut out = Vec::new();
    for i in 0..categorical.len() {
        for j in i + 1..categorical.len() {
            let ((a, x), (b, y)) = (&categorical[i], &categorical[j]);
            if let Some((v, n, dof, scale)) = cramers_v(x, y) {
                out.push(Association {
                    a: a.clone(),
                    b: b.clone(),
                    measure: "cramers_v".into(),
                    value: v,
                    n,
                    dof,
                    scale,
                });
            }
        }
        for (b, x) in numeric {
            let (a, g) = &categorical[i];
            if let Some((v, n, dof)) = eta(g, x) {
                out.push(Association {
                    a: a.clone(),
                    b: b.clone(),
                    measure: "eta".into(),
                    value: v,
                    n,
                    dof,
                    scale: 1,
                });
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairStat {
    pub a: String,
    pub b: String,
    /// Rows where both values are present.
    pub n: u64,
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
}

/// Pearson correlation; `None` when either side is constant or fewer than 3 rows.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 3 || y.len() != n {
        return None;
    }
    let (mx, my) = (
        x.iter().sum::<f64>() / n as f64,
        y.iter().sum::<f64>() / n as f64,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Ranks with ties given their average rank (1-based), as `scipy.stats.rankdata`.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let idx = super::order::order(x);
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            r[*k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation (Pearson over average ranks), as `scipy.stats.spearmanr`.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// Every pair of the given aligned columns (NaN marks a missing value).
pub fn pairs(columns: &[(String, Vec<f64>)]) -> Vec<PairStat> {
    // A column with no missing value is ranked once, on as many threads as there are columns to
    // rank: every pair of two such columns ranks exactly these values.
    let ranked: Vec<Option<Vec<f64>>> = super::in_parallel(columns, |(_, v)| {
        Ok(v.iter().all(|x| x.is_finite()).then(|| ranks(v)))
    })
    .unwrap_or_else(|_| vec![None; columns.len()]);
    let mut out = Vec::new();
    for i in 0..columns.len() {
        for j in i + 1..columns.len() {
            let (a, x) = &columns[i];
            let (b, y) = &columns[j];
            if let (Some(rx), Some(ry)) = (&ranked[i], &ranked[j]) {
                out.push(PairStat {
                    a: a.clone(),
                    b: b.clone(),
                    n: x.len() as u64,
                    pearson: pearson(x, y),
                    spearman: pearson(rx, ry),
                });
                continue;
            }
            let (xs, ys): (Vec<f64>, Vec<f64>) = x
                .iter()
                .zip(y)
                .filter(|(p, q)| p.is_finite() && q.is_finite())
                .map(|(p, q)| (*p, *q))
                .unzip();
            out.push(PairStat {
                a: a.clone(),
                b: b.clone(),
                n: xs.len() as u64,
                pearson: pearson(&xs, &ys),
                spearman: spearman(&xs, &ys),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Case {
        x: Vec<f64>,
        y: Vec<f64>,
        pearson: f64,
        spearman: f64,
    }

    /// Against `scipy.stats.pearsonr` and `spearmanr` (tests/fixtures/stats.json).
    #[test]
    fn correlations_match_scipy() {
        #[derive(Deserialize)]
        struct F {
            correlation: Vec<Case>,
        }
        let f: F = serde_json::from_str(include_str!("../../tests/fixtures/stats.json"))
            .expect("fixture parses");
        assert!(f.correlation.len() >= 3);
        for (i, c) in f.correlation.iter().enumerate() {
            let p = pearson(&c.x, &c.y).expect("not constant");
            let s = spearman(&c.x, &c.y).expect("not constant");
            assert!(
                (p - c.pearson).abs() < 1e-9,
                "pearson[{i}]: {p} vs {}",
                c.pearson
            );
            assert!(
                (s - c.spearman).abs() < 1e-9,
                "spearman[{i}]: {s} vs {}",
                c.spearman
            );
        }
    }

    /// Hand-checked: a 2x2 table [[10, 0], [0, 10]] has V = 1; independent halves have V = 0.
    /// η of (a: 1, 1; b: 3, 3) is 1; of identical group means, 0.
    #[test]
    fn associations_on_hand_counted_tables() {
        let s = |v: &[&str]| v.iter().map(|x| Some(x.to_string())).collect::<Vec<_>>();
        let (v, n, dof, _) =
            cramers_v(&s(&["a", "a", "b", "b"]), &s(&["x", "x", "y", "y"])).expect("v");
        assert!((v - 1.0).abs() < 1e-12 && n == 4 && dof == 1);
        let (v, ..) = cramers_v(&s(&["a", "a", "b", "b"]), &s(&["x", "y", "x", "y"])).expect("v");
        assert!(v.abs() < 1e-12);
        let (e, ..) = eta(&s(&["a", "a", "b", "b"]), &[1.0, 1.0, 3.0, 3.0]).expect("eta");
        assert!((e - 1.0).abs() < 1e-12);
        let (e, ..) = eta(&s(&["a", "a", "b", "b"]), &[1.0, 3.0, 1.0, 3.0]).expect("eta");
        assert!(e.abs() < 1e-12);
    }

    /// Against `scipy.stats.contingency.association(method="cramer", correction=False)`.
    #[test]
    fn cramers_v_matches_scipy() {
        #[derive(Deserialize)]
        struct C {
            x: Vec<String>,
            y: Vec<String>,
            v: f64,
        }
        #[derive(Deserialize)]
        struct F {
            cramer: Vec<C>,
        }
        let f: F = serde_json::from_str(include_str!("../../tests/fixtures/stats.json"))
            .expect("fixture parses");
        assert_eq!(f.cramer.len(), 3);
        for (i, c) in f.cramer.iter().enumerate() {
            let wrap = |v: &[String]| v.iter().cloned().map(Some).collect::<Vec<_>>();
            let (v, ..) = cramers_v(&wrap(&c.x), &wrap(&c.y)).expect("v");
            assert!((v - c.v).abs() < 1e-9, "cramer[{i}]: {v} vs {}", c.v);
        }
    }

    #[test]
    fn missing_values_are_left_out_pairwise() {
        let cols = vec![
            ("a".to_string(), vec![1.0, 2.0, 3.0, f64::NAN, 5.0]),
            ("b".to_string(), vec![2.0, 4.0, 6.0, 8.0, f64::NAN]),
        ];
        let p = &pairs(&cols)[0];
        assert_eq!(p.n, 3);
        assert!((p.pearson.expect("r") - 1.0).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
