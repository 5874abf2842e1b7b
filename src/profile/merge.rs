//! Merges profiles of partitions of one dataset (rows split across files, shards or workers)
//! into the profile of their union. No Polars: plain profile types in, one out.
//!
//! What is exact and what is not, in the merged profile:
//! - exact: row, null, type-error, out-of-range, empty and anomaly counts; categories and shapes
//!   seen at least `k` times in each part; moments (count, and mean and standard deviation to
//!   the bit from the parts' exact sums; by Chan's parallel formula for profiles without them);
//!   histograms (the same bins the union would get); calendar and sentinel
//!   counts; rule violations;
//! - within a stated error: distinct counts (HyperLogLog, relative standard error
//!   [`super::sketch::DISTINCT_RSE`]; the larger part's count when the parts were sketched under
//!   different masking keys), quantiles (read from the merged histogram, exact at bin edges);
//! - per part, so exact only when parts split along parents: duplicate keys across parts,
//!   orphans and children per parent;
//! - not mergeable, so left out: correlations and associations between columns (they need the
//!   rows together; profile the union for them).
//!
//! Must never undo disclosure control: a value withheld in a part stays withheld (its rows are
//! added to the withheld counts), and merged histogram bins are sums of bins that each held at
//! least `k` rows.

use std::collections::BTreeMap;

use anyhow::bail;

use super::acc::Moments;
use super::sketch::Histogram;
use super::{
    Categories, ColumnProfile, MAX_CATEGORY_VALUES, NumericStats, Profile, RuleResult,
    TableProfile, WithheldCounts,
};

/// The profile of the union of the parts `a` and `b` (see the module docs for what is exact).
pub fn merge(a: &Profile, b: &Profile) -> anyhow::Result<Profile> {
    if a.domain != b.domain {
        bail!(
            "the profiles are of different domains (`{}` and `{}`); only partitions of one dataset merge",
            a.domain,
            b.domain
        );
    }
    if a.origin != b.origin {
        bail!(
            "one profile is of synthetic data and the other of production; only partitions of one dataset merge"
        );
    }
    if a.spec_digest != b.spec_digest {
        bail!(
            "the profiles were made with different versions of the spec (sha256 {}… and {}…); profile both parts with one spec",
            &a.spec_digest[..12.min(a.spec_digest.len())],
            &b.spec_digest[..12.min(b.spec_digest.len())]
        );
    }
    if a.disclosure_k != b.disclosure_k {
        bail!(
            "the profiles withheld values under different k ({} and {}); profile both parts with one k",
            a.disclosure_k,
            b.disclosure_k
        );
    }
    let mut tables: Vec<TableProfile> = Vec::new();
    for t in &a.tables {
        tables.push(match b.table(&t.name) {
            Some(u) => merge_table(t, u, a.disclosure_k)?,
            None => t.clone(),
        });
    }
    for u in &b.tables {
        if a.table(&u.name).is_none() {
            tables.push(u.clone());
        }
    }
    let mut unknown_tables = a.unknown_tables.clone();
    for t in &b.unknown_tables {
        if !unknown_tables.contains(t) {
            unknown_tables.push(t.clone());
        }
    }
    Ok(Profile {
        format: a.format.clone(),
        domain: a.domain.clone(),
        origin: a.origin,
        spec_digest: a.spec_digest.clone(),
        created_at: crate::dataset::now_rfc3339(),
        disclosure_k: a.disclosure_k,
        tables,
        unknown_tables,
        rules: merge_rules(&a.rules, &b.rules),
        parts: a.parts + b.parts,
    })
}

fn merge_table(a: &TableProfile, b: &TableProfile, k: u64) -> anyhow::Result<TableProfile> {
    let mut columns = Vec::new();
    for c in &a.columns {
        columns.push(match b.column(&c.name) {
            Some(d) => merge_column(c, d, k)?,
            None => c.clone(),
        });
    }
    for d in &b.columns {
        if a.column(&d.name).is_none() {
            columns.push(d.clone());
        }
    }
    let mut orphans = a.orphans.clone();
    for (c, n) in &b.orphans {
        *orphans.entry(c.clone()).or_default() += n;
    }
    let mut children = a.children.clone();
    for (c, w) in &b.children {
        let e = children.entry(c.clone()).or_default();
        *e = add_withheld(e, w);
    }
    Ok(TableProfile {
        name: a.name.clone(),
        rows: a.rows + b.rows,
        key: a.key.clone(),
        // Parts of one extraction read one source.
        source_rows: a.source_rows.or(b.source_rows),
        duplicate_keys: a.duplicate_keys + b.duplicate_keys,
        orphans,
        columns,
        source_columns: a
            .source_columns
            .clone()
            .or_else(|| b.source_columns.clone()),
        pairs: vec![],
        associations: vec![],
        children,
    })
}

fn add_withheld(a: &WithheldCounts, b: &WithheldCounts) -> WithheldCounts {
    WithheldCounts {
        bins: (0..a.bins.len().max(b.bins.len()))
            .map(|i| a.bins.get(i).unwrap_or(&0) + b.bins.get(i).unwrap_or(&0))
            .collect(),
        withheld: a.withheld + b.withheld,
    }
}

fn merge_column(a: &ColumnProfile, b: &ColumnProfile, k: u64) -> anyhow::Result<ColumnProfile> {
    let histogram = match (&a.histogram, &b.histogram) {
        (Some(x), Some(y)) => Some(x.merge(y)),
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    let distinct_sketch = match (&a.distinct_sketch, &b.distinct_sketch) {
        (Some(x), Some(y)) => x.merge(y)?,
        _ => None,
    };
    let distinct = match &distinct_sketch {
        Some(s) => s.estimate()?.round() as u64,
        // Without a common sketch only a lower bound is known.
        None => a.distinct.max(b.distinct),
    };
    let mut sentinels = a.sentinels.clone();
    for (v, n) in &b.sentinels {
        *sentinels.entry(v.clone()).or_default() += n;
    }
    let text = match (&a.text, &b.text) {
        (Some(x), Some(y)) => {
            let mut t = x.clone();
            t.merge(y);
            Some(t)
        }
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    Ok(ColumnProfile {
        name: a.name.clone(),
        logical_type: a.logical_type,
        mask: a.mask,
        rows: a.rows + b.rows,
        nulls: a.nulls + b.nulls,
        distinct,
        type_errors: a.type_errors + b.type_errors,
        numeric: merge_numeric(a.numeric.as_ref(), b.numeric.as_ref(), histogram.as_ref()),
        categories: merge_categories(a.categories.as_ref(), b.categories.as_ref(), k),
        text,
        out_of_range: match (a.out_of_range, b.out_of_range) {
            (Some(x), Some(y)) => Some(x + y),
            (x, y) => x.or(y),
        },
        range_hint: merge_range_hint(a, b),
        histogram,
        distinct_sketch,
        calendar: match (&a.calendar, &b.calendar) {
            (Some(x), Some(y)) => Some(x.merge(y)),
            (x, y) => x.clone().or_else(|| y.clone()),
        },
        sentinels,
    })
}

/// The range every value falls in: a part without values outside the declared range has no
/// hint, but its extremes still widen the other part's (the whole's hint spans all values).
fn merge_range_hint(a: &ColumnProfile, b: &ColumnProfile) -> Option<(f64, f64)> {
    let widen = |h: (f64, f64), other: &ColumnProfile| match &other.numeric {
        Some(n) => {
            let (lo, hi) = super::range_hint(n.min, n.max, other.logical_type.is_temporal());
            (h.0.min(lo), h.1.max(hi))
        }
        None => h,
    };
    match (a.range_hint, b.range_hint) {
        (Some(x), Some(y)) => Some((x.0.min(y.0), x.1.max(y.1))),
        (Some(x), None) => Some(widen(x, b)),
        (None, Some(y)) => Some(widen(y, a)),
        (None, None) => None,
    }
}

/// Moments from the parts' exact sums (Chan et al.'s parallel formula without them); extremes
/// are the parts' extremes (for production, each part's k-th order statistic, so the merged
/// extreme still has k rows beyond it); quantiles from the merged histogram, clamped between
/// the extremes.
fn merge_numeric(
    a: Option<&NumericStats>,
    b: Option<&NumericStats>,
    h: Option<&Histogram>,
) -> Option<NumericStats> {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (x, y) => return x.or(y).cloned(),
    };
    // Exact sums in both parts give the whole's mean and deviation to the bit; older profiles
    // merge by Chan et al.'s formula.
    let exact = match (&a.sums, &b.sums) {
        (Some(x), Some(y)) if !x.overflow && !y.overflow => {
            let mut m = Moments::from_sums(a.count, x);
            m.merge(&Moments::from_sums(b.count, y));
            Some(m)
        }
        _ => None,
    };
    let (na, nb) = (a.count as f64, b.count as f64);
    let n = na + nb;
    // Figures beyond about 1e150 are scaled down first, so that their squares stay doubles.
    let big = [a.mean.abs(), b.mean.abs(), a.std, b.std]
        .into_iter()
        .fold(0.0, f64::max);
    let s = if big > 1e150 { big } else { 1.0 };
    let (ma, mb, sa, sb) = (a.mean / s, b.mean / s, a.std / s, b.std / s);
    let delta = mb - ma;
    let mean = (ma + delta * nb / n) * s;
    let m2 = sa.powi(2) * (na - 1.0).max(0.0)
        + sb.powi(2) * (nb - 1.0).max(0.0)
        + delta * delta * na * nb / n;
    let (min, max) = (a.min.min(b.min), a.max.max(b.max));
    let quantiles = a
        .quantiles
        .iter()
        .map(|(q, v)| {
            let from_sketch = h.map(|h| histogram_quantile(h, *q));
            (*q, from_sketch.unwrap_or(*v).clamp(min, max))
        })
        .collect();
    Some(NumericStats {
        count: a.count + b.count,
        min,
        max,
        mean: exact.as_ref().map_or(mean, Moments::mean),
        std: match &exact {
            Some(m) => m.std(),
            None if n > 1.0 => ((m2 / (n - 1.0)).sqrt() * s).min(f64::MAX),
            None => 0.0,
        },
        quantiles,
        sums: exact.as_ref().map(Moments::sums),
    })
}

/// The `q` quantile of the rows behind a histogram, by numpy's convention (rank `q·(n − 1)`,
/// interpolated between the two order statistics around it). Each order statistic is placed
/// inside the bin that holds it, spread evenly over the bin's rows, so the result is within one
/// bin width of the exact quantile.
pub fn histogram_quantile(h: &Histogram, q: f64) -> f64 {
    let n = h.total();
    if n == 0 {
        return f64::NAN;
    }
    let w = h.edge(1) - h.edge(0);
    // The value of 0-based rank `r`.
    let at = |r: u64| -> f64 {
        let mut before = 0u64;
        for (i, c) in h.counts.iter().enumerate() {
            if *c > 0 && before + c > r {
                return h.edge(i) + w * ((r - before) as f64 + 0.5) / *c as f64;
            }
            before += c;
        }
        h.edge(h.counts.len())
    };
    let rank = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let (lo, hi) = (rank.floor() as u64, rank.ceil() as u64);
    let (a, b) = (at(lo), at(hi));
    a + (rank - lo as f64) * (b - a)
}

fn merge_categories(a: Option<&Categories>, b: Option<&Categories>, k: u64) -> Option<Categories> {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        // An undeclared column is profiled as categories only while it has few values: a part
        // without them means the union has too many.
        (Some(x), None) | (None, Some(x)) if x.undeclared_rows.is_none() => return None,
        (x, y) => return x.or(y).cloned(),
    };
    let mut values: BTreeMap<String, u64> = a.values.clone();
    for (v, n) in &b.values {
        *values.entry(v.clone()).or_default() += n;
    }
    let mut out = Categories {
        values: BTreeMap::new(),
        withheld_rows: a.withheld_rows + b.withheld_rows,
        // A value withheld in both parts is counted twice: an upper bound.
        withheld_values: a.withheld_values + b.withheld_values,
        undeclared_rows: match (a.undeclared_rows, b.undeclared_rows) {
            (Some(x), Some(y)) => Some(x + y),
            (x, y) => x.or(y),
        },
    };
    let mut ranked: Vec<(String, u64)> = values.into_iter().collect();
    ranked.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    for (v, n) in ranked {
        if n >= k && out.values.len() < MAX_CATEGORY_VALUES {
            out.values.insert(v, n);
        } else {
            out.withheld_rows += n;
            out.withheld_values += 1;
        }
    }
    if out.undeclared_rows.is_none()
        && out.values.len() as u64 + out.withheld_values > super::MAX_CATEGORIES as u64
    {
        return None;
    }
    Some(out)
}

fn merge_rules(a: &[RuleResult], b: &[RuleResult]) -> Vec<RuleResult> {
    let mut out: Vec<RuleResult> = a.to_vec();
    for r in b {
        match out.iter_mut().find(|x| x.name == r.name) {
            Some(x) => {
                x.violations += r.violations;
                for e in &r.examples {
                    if x.examples.len() < 5 {
                        x.examples.push(e.clone());
                    }
                }
                if x.error.is_none() {
                    x.error = r.error.clone();
                }
            }
            None => out.push(r.clone()),
        }
    }
    out
}

/// Merges any number of profiles, in order.
pub fn merge_all(parts: &[Profile]) -> anyhow::Result<Profile> {
    let Some((first, rest)) = parts.split_first() else {
        bail!("no profiles to merge");
    };
    rest.iter().try_fold(first.clone(), |acc, p| merge(&acc, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_merge_exactly() {
        let all: Vec<f64> = (0..1000)
            .map(|i| ((i * 37) % 101) as f64 * 1.5 - 20.0)
            .collect();
        let (x, y) = all.split_at(377);
        let s = |v: &[f64]| super::super::numeric_stats(v).expect("values");
        let merged = merge_numeric(Some(&s(x)), Some(&s(y)), None).expect("merged");
        let whole = s(&all);
        assert_eq!(merged.count, whole.count);
        assert_eq!(merged.mean.to_bits(), whole.mean.to_bits());
        assert_eq!(merged.std.to_bits(), whole.std.to_bits());
        let chan = |mut s: NumericStats| {
            s.sums = None;
            s
        };
        let old = merge_numeric(Some(&chan(s(x))), Some(&chan(s(y))), None).expect("merged");
        assert!((old.mean - whole.mean).abs() < 1e-9);
        assert!((old.std - whole.std).abs() < 1e-9);
        assert_eq!((merged.min, merged.max), (whole.min, whole.max));
    }

    #[test]
    fn histogram_quantiles_stay_inside_their_bin() {
        let v: Vec<f64> = (0..10_000).map(|i| (i as f64).sqrt()).collect();
        let h = Histogram::of(&v).expect("values");
        let w = h.edge(1) - h.edge(0);
        let mut sorted = v.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        for q in [0.01, 0.25, 0.5, 0.9, 0.99] {
            let exact = super::super::quantile_sorted(&sorted, q);
            assert!((histogram_quantile(&h, q) - exact).abs() <= w, "q {q}");
        }
    }

    #[test]
    fn withheld_values_stay_withheld() {
        let part = |n: u64| Categories {
            values: [("A".to_string(), 10)].into(),
            withheld_rows: n,
            withheld_values: 1,
            undeclared_rows: None,
        };
        let m = merge_categories(Some(&part(3)), Some(&part(4)), 5).expect("merged");
        assert_eq!(m.values.get("A"), Some(&20));
        assert_eq!(
            m.withheld_rows, 7,
            "a value withheld in each part is not revealed"
        );
    }
}
