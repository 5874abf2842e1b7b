//! What the HTML report draws: per column, synthetic and production side by side, as shares
//! (histogram bins over a shared range, or category shares). Production bins and categories seen
//! fewer than `k` times are withheld, as everywhere else.

use serde::{Deserialize, Serialize};

use crate::profile::{Profile, Samples};
use crate::spec::Spec;

const BINS: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnView {
    pub table: String,
    pub column: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
    /// `(value, synthetic share, production share)`, by production share.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub categories: Vec<(String, f64, f64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Histogram {
    /// `BINS + 1` edges; microseconds since the epoch when `timestamp`.
    pub edges: Vec<f64>,
    pub timestamp: bool,
    pub synthetic: Vec<f64>,
    pub production: Vec<f64>,
    /// Production bins withheld because fewer than `k` rows fell in them.
    pub withheld_bins: usize,
    /// The spec's declared range, drawn on the axis: production bars beyond it are the values
    /// the spec does not allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<(Option<f64>, Option<f64>)>,
}

fn histogram(
    a: &[f64],
    b: &[f64],
    k: u64,
    timestamp: bool,
    declared: Option<(Option<f64>, Option<f64>)>,
) -> Option<Histogram> {
    // Production with fewer than 2k values has no k-safe range to draw.
    if a.is_empty() || (b.len() as u64) < 2 * k.max(1) {
        return None;
    }
    // The range: synthetic's extremes, and production's k-th smallest and largest values rather
    // than its extremes, which are single rows and would be printed on the axis. Values beyond
    // it count in the edge bins.
    let mut sorted = b.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let kk = (k.max(1) as usize).min(sorted.len());
    let (plo, phi) = (sorted[kk - 1], sorted[sorted.len() - kk]);
    let (plo, phi) = if plo <= phi { (plo, phi) } else { (phi, plo) };
    let mut lo = a.iter().copied().fold(plo, f64::min);
    let mut hi = a.iter().copied().fold(phi, f64::max);
    // The declared bounds are on the axis too, so what lies beyond them shows.
    if let Some((dlo, dhi)) = declared {
        lo = dlo.filter(|x| x.is_finite()).map_or(lo, |d| lo.min(d));
        hi = dhi.filter(|x| x.is_finite()).map_or(hi, |d| hi.max(d));
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let w = (hi - lo) / BINS as f64;
    let count = |xs: &[f64]| {
        let mut c = vec![0u64; BINS];
        for x in xs {
            c[(((x - lo) / w).max(0.0) as usize).min(BINS - 1)] += 1;
        }
        c
    };
    let (ca, cb) = (count(a), count(b));
    let withheld_bins = cb.iter().filter(|n| **n > 0 && **n < k).count();
    Some(Histogram {
        edges: (0..=BINS).map(|i| lo + w * i as f64).collect(),
        timestamp,
        synthetic: ca.iter().map(|n| *n as f64 / a.len() as f64).collect(),
        production: cb
            .iter()
            .map(|n| {
                if *n < k {
                    0.0
                } else {
                    *n as f64 / b.len() as f64
                }
            })
            .collect(),
        withheld_bins,
        declared,
    })
}

pub fn views(
    spec: &Spec,
    sp: &Profile,
    pp: &Profile,
    ss: &Samples,
    ps: &Samples,
) -> Vec<ColumnView> {
    let mut out = Vec::new();
    for t in &spec.tables {
        let (Some(st), Some(pt)) = (sp.table(&t.name), pp.table(&t.name)) else {
            continue;
        };
        for c in &t.columns {
            if c.is_identifier() {
                continue;
            }
            let key = (t.name.clone(), c.name.clone());
            let ts = c.logical_type(spec).is_some_and(|t| t.is_temporal());
            let histogram = match (ss.get(&key), ps.get(&key)) {
                (Some(a), Some(b)) => histogram(a, b, pp.disclosure_k, ts, c.declared_range()),
                _ => None,
            };
            let mut categories = Vec::new();
            if let (Some(_), Some(sc), Some(pc)) = (
                c.categories(),
                st.column(&c.name).and_then(|x| x.categories.as_ref()),
                pt.column(&c.name).and_then(|x| x.categories.as_ref()),
            ) {
                let (n, m) = (
                    sc.values.values().sum::<u64>() + sc.withheld_rows,
                    pc.values.values().sum::<u64>() + pc.withheld_rows,
                );
                let mut keys: Vec<&String> = sc.values.keys().chain(pc.values.keys()).collect();
                keys.sort();
                keys.dedup();
                for v in keys {
                    let s = *sc.values.get(v).unwrap_or(&0) as f64 / n.max(1) as f64;
                    let p = *pc.values.get(v).unwrap_or(&0) as f64 / m.max(1) as f64;
                    categories.push((v.clone(), s, p));
                }
                categories.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.total_cmp(&a.1)));
            }
            if histogram.is_some() || !categories.is_empty() {
                out.push(ColumnView {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    histogram,
                    categories,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_share_edges_and_withhold_rare_production_bins() {
        let a: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let mut b: Vec<f64> = (0..100).map(|i| i as f64 * 2.0).collect();
        b.push(100_000.0); // one extreme row: never an axis label
        let h = histogram(&a, &b, 5, false, None).expect("a histogram");
        assert_eq!(h.edges.len(), BINS + 1);
        assert_eq!(h.edges[0], 0.0);
        assert!(h.edges[BINS] < 1000.0, "{:?}", h.edges);
        assert!((h.synthetic.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut sparse: Vec<f64> = vec![0.0; 10];
        sparse.extend([50.0, 99.0]);
        let h = histogram(&a, &sparse, 5, false, None).expect("a histogram");
        assert_eq!(h.withheld_bins, 2, "{h:?}");
        // Fewer than 2k production values: no k-safe range, no histogram.
        assert!(histogram(&a, &sparse[..9], 5, false, None).is_none());
        // A declared range wider than the data widens the axis to show it.
        let h = histogram(&a, &b, 5, false, Some((Some(-50.0), Some(500.0)))).expect("a histogram");
        assert_eq!((h.edges[0], h.edges[BINS]), (-50.0, 500.0));
    }
}
