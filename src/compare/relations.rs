//! Relationships the marginal distributions do not show: how many children each parent has
//! (per foreign key) and calendar patterns of timestamps (hour of day, weekday, day of month,
//! month). Both are compared as category distributions with the same noise allowance as every
//! other distance (the chi-square (1 - α) quantile at the effective sample size), and both need
//! enough rows per bin before they may fail.
//!
//! Takes counts per bin of both sides (from the exact samples, or from two profiles for
//! `drift`); gives findings. No Polars.

use serde_json::json;

use super::findings::{Finding, Kind, Measure, Severity};
use super::stats;
use crate::spec::Gate;

pub use crate::profile::sketch::{Calendar, children_per_parent};

/// Rows (effective) a bin must expect before a distance over these bins may fail.
const ROWS_PER_BIN: f64 = 5.0;

/// Bins two profiles' withheld counts alike: a bin withheld (shown as 0) on one side is left
/// out on both, so disclosure control on one side alone does not read as a difference.
pub fn comparable_bins(
    a: &crate::profile::WithheldCounts,
    b: &crate::profile::WithheldCounts,
) -> (Vec<f64>, Vec<f64>) {
    pair_bins(&a.bins, a.withheld > 0, &b.bins, b.withheld > 0)
}

fn pair_bins(a: &[u64], a_withholds: bool, b: &[u64], b_withholds: bool) -> (Vec<f64>, Vec<f64>) {
    let len = a.len().max(b.len());
    let get = |v: &[u64], i: usize| *v.get(i).unwrap_or(&0) as f64;
    (0..len)
        .map(|i| {
            let (x, y) = (get(a, i), get(b, i));
            if (a_withholds && x == 0.0) || (b_withholds && y == 0.0) {
                (0.0, 0.0)
            } else {
                (x, y)
            }
        })
        .unzip()
}

/// The four calendar views of two profiles, binned alike (see [`comparable_bins`]).
pub fn comparable_calendars(
    a: &crate::profile::sketch::CalendarCounts,
    b: &crate::profile::sketch::CalendarCounts,
) -> ([Vec<f64>; 4], [Vec<f64>; 4]) {
    let pairs =
        Calendar::ALL.map(|c| pair_bins(a.view(c), a.withheld > 0, b.view(c), b.withheld > 0));
    let [p0, p1, p2, p3] = pairs;
    ([p0.0, p1.0, p2.0, p3.0], [p0.1, p1.1, p2.1, p3.1])
}

/// A distance between two count vectors as a finding: JS distance beyond noise (in distance
/// units), failing only when both sides expect at least `ROWS_PER_BIN` rows per used bin.
#[allow(clippy::too_many_arguments)]
fn binned(
    kind: Kind,
    table: &str,
    col: &str,
    metric: &str,
    a: &[f64],
    b: &[f64],
    (n_eff, m_eff): (f64, f64),
    g: &Gate,
    what: String,
) -> Option<Finding> {
    let (n, m) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if n == 0.0 || m == 0.0 {
        return None;
    }
    let k = a.iter().zip(b).filter(|(x, y)| **x + **y > 0.0).count();
    let jsd = stats::js_divergence(a, b);
    let noise = stats::js_noise(k, n_eff, m_eff, g.alpha);
    let adj = (jsd.sqrt() - noise.sqrt()).max(0.0);
    let enough = n_eff.min(m_eff) >= ROWS_PER_BIN * k.max(2) as f64;
    let mut f = Measure {
        kind,
        table,
        column: Some(col),
        metric,
        value: adj,
        threshold: g.js,
        over: if enough {
            Severity::Fail
        } else {
            Severity::Warn
        },
    }
    .finding(format!(
        "{what}: Jensen-Shannon distance {:.3} ({adj:.3} beyond sampling noise)",
        jsd.sqrt()
    ));
    f.details.insert("js_distance".into(), json!(jsd.sqrt()));
    f.details.insert("js_noise".into(), json!(noise.sqrt()));
    f.details.insert("synthetic".into(), json!(a));
    f.details.insert("production".into(), json!(b));
    if let Some((stat, dof, p)) = stats::chi2_homogeneity(a, b) {
        f.details.insert("chi2".into(), json!(stat));
        f.details.insert("chi2_dof".into(), json!(dof));
        f.details.insert("chi2_pvalue".into(), json!(p));
    }
    Some(f)
}

/// The children-per-parent distribution of one foreign key, synthetic vs production. `a`, `b`:
/// parents per children count (see [`children_per_parent`]).
#[allow(clippy::too_many_arguments)]
pub fn compare_children(
    table: &str,
    col: &str,
    parent: &str,
    (a, b): (&[f64], &[f64]),
    g: &Gate,
    min_support: f64,
    out: &mut Vec<Finding>,
) {
    let (n, m) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if n.min(m) < min_support {
        return;
    }
    if let Some(mut f) = binned(
        Kind::Distribution,
        table,
        col,
        "children_per_parent_js",
        a,
        b,
        (n, m),
        g,
        format!("children per `{parent}` row through `{table}.{col}`"),
    ) {
        if f.severity == Severity::Fail {
            f.suggestion = Some(format!(
                "refit `tables.{table}.rows_per` to production's children per `{parent}` (see details)"
            ));
        }
        out.push(f);
    }
}

/// Share of all rows, beyond noise, by which one calendar bin of production exceeds (or falls
/// short of) synthetic: what a month-end surge or a nightly batch looks like, and what a JS
/// distance over 31 bins dilutes. The noise of one bin is the two-proportion bound at the
/// pooled share, with α split over the bins (Bonferroni).
const SPIKE_THRESHOLD: f64 = 0.02;

fn spike(
    table: &str,
    col: &str,
    cal: Calendar,
    a: &[f64],
    b: &[f64],
    (n_eff, m_eff): (f64, f64),
    g: &Gate,
) -> Option<Finding> {
    use statrs::distribution::{ContinuousCDF, Normal};
    let (n, m) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if n == 0.0 || m == 0.0 {
        return None;
    }
    let k = a.len() as f64;
    let z = Normal::standard().inverse_cdf(1.0 - g.alpha / (2.0 * k));
    let (mut best, mut at, mut raw) = (0.0f64, 0usize, 0.0f64);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let (p, q) = (x / n, y / m);
        let pooled = (x + y) / (n + m);
        let noise = z * (pooled * (1.0 - pooled) * (1.0 / n_eff + 1.0 / m_eff)).sqrt();
        let excess = ((q - p).abs() - noise).max(0.0);
        if excess > best {
            (best, at, raw) = (excess, i, q - p);
        }
    }
    let enough = n_eff.min(m_eff) >= ROWS_PER_BIN * k;
    let label = match cal {
        Calendar::Hour => format!("{at}:00"),
        Calendar::Weekday => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][at].to_string(),
        Calendar::DayOfMonth => format!("day {}", at + 1),
        Calendar::Month => format!("month {}", at + 1),
    };
    let metric = format!("{}_spike", cal.name());
    let mut f = Measure {
        kind: Kind::Calendar,
        table,
        column: Some(col),
        metric: &metric,
        value: best,
        threshold: SPIKE_THRESHOLD,
        over: if enough {
            Severity::Fail
        } else {
            Severity::Warn
        },
    }
    .finding(format!(
        "`{table}.{col}` at {label}: {:+.1} points of all rows against the spec's data \
         ({:.1} beyond sampling noise)",
        raw * 100.0,
        best * 100.0
    ));
    f.details.insert("bin".into(), json!(label));
    f.details.insert("share_difference".into(), json!(raw));
    if f.severity == Severity::Fail {
        f.suggestion = Some(format!(
            "production concentrates `{table}.{col}` at {label}: add a scenario for that surge, \
             or shape the generator's {}",
            cal.name().replace('_', " ")
        ));
    }
    Some(f)
}

/// Correlation differences of every pair both profiles carry: Fisher's z = atanh(r), whose
/// sampling error is about 1/sqrt(n - 3); the noise allowance is the two-sided normal
/// quantile at α times sqrt(1/(n_eff - 3) + 1/(m_eff - 3)), and the gate threshold applies to
/// |Δz| beyond it (0.10 in z is about 0.10 in r for weak correlations).
pub fn compare_pairs(
    table: &str,
    synth: &[crate::profile::pairs::PairStat],
    prod: &[crate::profile::pairs::PairStat],
    factors: (f64, f64),
    g: &Gate,
    out: &mut Vec<Finding>,
) {
    use statrs::distribution::{ContinuousCDF, Normal};
    let zcrit = Normal::standard().inverse_cdf(1.0 - g.alpha / 2.0);
    for s in synth {
        let Some(p) = prod.iter().find(|p| p.a == s.a && p.b == s.b) else {
            continue;
        };
        let (n_eff, m_eff) = (s.n as f64 * factors.0, p.n as f64 * factors.1);
        if n_eff < 4.0 || m_eff < 4.0 {
            continue;
        }
        for (metric, rs, rp) in [
            ("pearson_z_adjusted", s.pearson, p.pearson),
            ("spearman_z_adjusted", s.spearman, p.spearman),
        ] {
            let (Some(rs), Some(rp)) = (rs, rp) else {
                continue;
            };
            // Beyond |r| = 0.99 two columns move as one: there Fisher's z magnifies
            // differences in the third decimal that skewed data show by chance (a total that is
            // a subtotal plus a small fee: 0.998 against 1.000), so both sides are clamped.
            let z = |r: f64| r.clamp(-0.99, 0.99).atanh();
            let noise = zcrit * (1.0 / (n_eff - 3.0) + 1.0 / (m_eff - 3.0)).sqrt();
            let adj = ((z(rs) - z(rp)).abs() - noise).max(0.0);
            let col = format!("{}+{}", s.a, s.b);
            let mut f = relationship(
                table,
                &col,
                metric,
                adj,
                (n_eff, m_eff),
                g,
                format!(
                    "`{table}.{}` and `{table}.{}` correlate at {rp:+.3} in production and {rs:+.3} in the spec's data ({}; {adj:.3} beyond sampling noise in Fisher z)",
                    s.a,
                    s.b,
                    if metric.starts_with("pearson") {
                        "Pearson"
                    } else {
                        "Spearman"
                    }
                ),
                (rs, rp),
            );
            f.details.insert("n_synthetic".into(), json!(s.n));
            f.details.insert("n_production".into(), json!(p.n));
            if f.severity == Severity::Fail {
                f.suggestion = Some(format!(
                    "production ties {table}.{} to {table}.{}: derive one from the other (a `sql` column \
                     or a dependency) so the spec's data carries the relationship",
                    s.b, s.a
                ));
            }
            out.push(f);
        }
    }
}

/// Cramér's V and η differences: each side's noise is the value independence alone reaches at
/// the (1 - α) chi-square quantile, sqrt(χ²_dof / (n · scale)) (for η the group-means test's
/// chi-square limit); the gate threshold applies to |Δ| beyond both noises combined.
pub fn compare_associations(
    table: &str,
    synth: &[crate::profile::pairs::Association],
    prod: &[crate::profile::pairs::Association],
    factors: (f64, f64),
    g: &Gate,
    out: &mut Vec<Finding>,
) {
    for s in synth {
        let Some(p) = prod
            .iter()
            .find(|p| p.a == s.a && p.b == s.b && p.measure == s.measure)
        else {
            continue;
        };
        let (n_eff, m_eff) = (s.n as f64 * factors.0, p.n as f64 * factors.1);
        if n_eff < 2.0 || m_eff < 2.0 {
            continue;
        }
        let noise = |n: f64, dof: u64, scale: u64| {
            (stats::chi2_quantile(dof.max(1) as usize, g.alpha) / (n * scale.max(1) as f64)).sqrt()
        };
        let (ns, np) = (noise(n_eff, s.dof, s.scale), noise(m_eff, p.dof, p.scale));
        let adj = ((s.value - p.value).abs() - (ns * ns + np * np).sqrt()).max(0.0);
        let (metric, what) = if s.measure == "eta" {
            (
                "eta_adjusted",
                format!(
                    "`{table}.{}` by `{table}.{}` (correlation ratio η)",
                    s.b, s.a
                ),
            )
        } else {
            (
                "cramers_v_adjusted",
                format!("`{table}.{}` with `{table}.{}` (Cramér's V)", s.a, s.b),
            )
        };
        let col = format!("{}+{}", s.a, s.b);
        let mut f = relationship(
            table,
            &col,
            metric,
            adj,
            (n_eff, m_eff),
            g,
            format!(
                "{what}: {:.3} in production, {:.3} in the spec's data ({adj:.3} beyond sampling noise)",
                p.value, s.value
            ),
            (s.value, p.value),
        );
        if f.severity == Severity::Fail {
            f.suggestion = Some(format!(
                "production's {what} differs from the spec's: make the generator of {table}.{} depend on {table}.{}",
                s.b, s.a
            ));
        }
        out.push(f);
    }
}

/// A relationship finding: the difference beyond noise against the correlation threshold,
/// failing only on enough rows.
#[allow(clippy::too_many_arguments)]
fn relationship(
    table: &str,
    col: &str,
    metric: &str,
    adj: f64,
    (n_eff, m_eff): (f64, f64),
    g: &Gate,
    message: String,
    (synth, prod): (f64, f64),
) -> Finding {
    let mut f = Measure {
        kind: Kind::Relationship,
        table,
        column: Some(col),
        metric,
        value: adj,
        threshold: g.correlation,
        over: if n_eff.min(m_eff) < g.min_support as f64 {
            Severity::Warn
        } else {
            Severity::Fail
        },
    }
    .finding(message);
    f.details.insert("synthetic".into(), json!(synth));
    f.details.insert("production".into(), json!(prod));
    f
}

/// Calendar patterns of one timestamp column, synthetic vs production.
/// `a`, `b`: rows per bin of each view, in the order of [`Calendar::ALL`].
pub fn compare_calendar(
    table: &str,
    col: &str,
    a: &[Vec<f64>; 4],
    b: &[Vec<f64>; 4],
    sizes: (f64, f64),
    g: &Gate,
    out: &mut Vec<Finding>,
) {
    for (i, cal) in Calendar::ALL.into_iter().enumerate() {
        let (ca, cb) = (&a[i], &b[i]);
        out.extend(spike(table, col, cal, ca, cb, sizes, g));
        let metric = format!("{}_js", cal.name());
        if let Some(mut f) = binned(
            Kind::Calendar,
            table,
            col,
            &metric,
            ca,
            cb,
            sizes,
            g,
            format!("`{table}.{col}` by {}", cal.name().replace('_', " ")),
        ) {
            if f.severity == Severity::Fail {
                f.suggestion = Some(format!(
                    "production's `{table}.{col}` has a {} pattern the spec does not produce: \
                     shape the generator's calendar, or add a scenario for the surge",
                    cal.name().replace('_', " ")
                ));
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_counted_per_parent_with_zeros() {
        let parents = [1.0, 2.0, 3.0, 4.0];
        let children = [1.0, 1.0, 2.0, 9.0];
        let c = children_per_parent(&parents, &children);
        assert_eq!(
            &c[..3],
            &[2.0, 1.0, 1.0],
            "two childless, one with 1, one with 2"
        );
        assert_eq!(c.iter().sum::<f64>(), 4.0, "the orphan (9) counts nowhere");
    }

    #[test]
    fn calendar_bins_follow_utc() {
        let t = crate::spec::parse_timestamp("2024-03-31 23:30:00").expect("ts") as f64;
        assert_eq!(Calendar::Hour.counts(&[t])[23], 1.0);
        assert_eq!(Calendar::DayOfMonth.counts(&[t])[30], 1.0);
        assert_eq!(Calendar::Weekday.counts(&[t])[6], 1.0, "a Sunday");
        assert_eq!(Calendar::Month.counts(&[t])[2], 1.0);
    }
}
