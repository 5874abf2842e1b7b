//! Compares a synthetic profile with a production profile and decides the gate.
//!
//! Takes two [`Profile`]s (plus exact numeric samples when both datasets are at hand) and the
//! spec; gives [`Finding`]s and a verdict. Plain types only, no Polars.
//!
//! The gate decides on effect sizes corrected for sample size: the part of a distance that
//! sampling noise alone would explain is subtracted (KS: D − c(α)·√((n+m)/(n·m)); JS and PSI:
//! their expected value under the null), so verdicts do not flip with sample size. P-values are
//! shown beside them. "Unseen" runs both ways: production having what the spec never produces
//! fails; the spec producing what production lacks warns.

pub mod findings;
pub mod relations;
pub mod stats;
pub mod views;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;

use findings::Measure;
pub use findings::{Finding, Kind, Severity, SpecChange};

use crate::profile::{ColumnProfile, Profile, Samples, TableProfile};
use crate::spec::{MaskMethod, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

/// Fails when any finding fails.
pub fn verdict(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| f.severity == Severity::Fail) {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// Below this many effective rows on a side, PSI can warn but not fail.
const PSI_MIN_SUPPORT: f64 = 100.0;

/// A text column whose synthetic values take more shapes than this is free text, not a format.
const MAX_FORMAT_SHAPES: usize = 100;

fn pct(x: f64) -> String {
    if x == 0.0 {
        "0%".into()
    } else if x < 0.001 {
        format!("{:.3}%", x * 100.0)
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

/// What the numeric comparisons rest on.
pub enum Evidence<'a> {
    /// Both datasets at hand: every non-null numeric value of both sides (`compare`, `verify`).
    Exact {
        synth: &'a Samples,
        prod: &'a Samples,
    },
    /// Profiles only (`drift`): samples spread inside each histogram bin (for PSI, Wasserstein
    /// and charts), KS bounded from the histograms, calendar, sentinel and children counts read
    /// from the profiles.
    Sketched {
        synth: &'a Samples,
        prod: &'a Samples,
    },
}

impl<'a> Evidence<'a> {
    fn samples(&self) -> (&'a Samples, &'a Samples) {
        match self {
            Evidence::Exact { synth, prod } | Evidence::Sketched { synth, prod } => (synth, prod),
        }
    }
}

/// Samples of `Evidence::Sketched` drawn from a profile's histograms: at most this many a column.
pub const SKETCH_SAMPLE_CAP: usize = 100_000;

/// Points spread inside each histogram bin of every numeric column of a profile.
pub fn sketch_samples(p: &Profile) -> Samples {
    let mut out = Samples::new();
    for t in &p.tables {
        for c in &t.columns {
            if let Some(h) = &c.histogram {
                out.insert(
                    (t.name.clone(), c.name.clone()),
                    h.quasi_sample(SKETCH_SAMPLE_CAP),
                );
            }
        }
    }
    out
}

pub fn compare(
    spec: &Spec,
    synth: &Profile,
    prod: &Profile,
    ss: &Samples,
    ps: &Samples,
) -> Vec<Finding> {
    compare_with(
        spec,
        synth,
        prod,
        &Evidence::Exact {
            synth: ss,
            prod: ps,
        },
    )
}

/// `compare` of two profiles with no data at hand (`drift`): `old` in the place of the expected
/// side, `new` in the place of production. Returns the findings and the samples drawn from the
/// histograms (for the report's charts).
///
/// Drift is change: a finding the baseline already has against the spec (an undeclared column,
/// a broken rule, withheld undeclared values, when `old` is itself a production profile) is shown
/// as `info`, with the baseline's value, unless its measure grew since.
pub fn drift(spec: &Spec, old: &Profile, new: &Profile) -> (Vec<Finding>, Samples, Samples) {
    let (so, sn) = (sketch_samples(old), sketch_samples(new));
    let mut findings = compare_with(
        spec,
        old,
        new,
        &Evidence::Sketched {
            synth: &so,
            prod: &sn,
        },
    );
    let baseline = compare_with(
        spec,
        old,
        old,
        &Evidence::Sketched {
            synth: &so,
            prod: &so,
        },
    );
    for f in findings.iter_mut().filter(|f| f.severity != Severity::Info) {
        let Some(b) = baseline
            .iter()
            .find(|b| b.id == f.id && b.severity != Severity::Info)
        else {
            continue;
        };
        f.details.insert("baseline_value".into(), json!(b.value));
        if f.value <= b.value + 1e-9 * b.value.abs().max(1.0) {
            f.severity = Severity::Info;
            f.message = format!(
                "{} (already in the baseline: {})",
                f.message,
                fmt_value(b.value)
            );
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.table.cmp(&b.table))
            .then(a.column.cmp(&b.column))
    });
    (findings, so, sn)
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

fn compare_with(spec: &Spec, synth: &Profile, prod: &Profile, ev: &Evidence) -> Vec<Finding> {
    let (ss, ps) = ev.samples();
    let mut out = Vec::new();
    // Every column is tested several times in one run; the noise allowance of each test is
    // taken at α divided by the number of columns (Bonferroni), so that the run as a whole, not
    // each test, fails on noise alone with probability at most α.
    let columns: usize = spec.tables.iter().map(|t| t.columns.len()).sum();
    let mut gate = spec.gate.clone();
    gate.alpha = spec.gate.alpha / columns.max(1) as f64;
    let g = &gate;
    for t in &spec.tables {
        let (Some(st), Some(pt)) = (synth.table(&t.name), prod.table(&t.name)) else {
            if prod.table(&t.name).is_none() {
                let mut f = Measure {
                    kind: Kind::SchemaDrift,
                    table: &t.name,
                    column: None,
                    metric: "missing_table",
                    value: 1.0,
                    threshold: 0.0,
                    // No silent pass: a table the spec describes and production lacks (an
                    // empty or wrong source) is a failure, not a note.
                    over: Severity::Fail,
                }
                .finding(format!(
                    "the spec's table `{}` is not in production (is the source the right database?)",
                    t.name
                ));
                f.suggestion = Some(format!(
                    "remove `tables.{}` from the spec, or check the source",
                    t.name
                ));
                out.push(f);
            }
            continue;
        };
        schema_drift(spec, t, pt, &mut out);
        if pt.rows == 0 && st.rows > 0 {
            // A sample can miss a small table that the source holds: that is the sample's
            // size, not a wrong source, so it warns; an empty source table fails.
            let sampled_out = pt.source_rows.is_some_and(|n| n > 0);
            let mut f = Measure {
                kind: Kind::SchemaDrift,
                table: &t.name,
                column: None,
                metric: if sampled_out {
                    "empty_sample"
                } else {
                    "empty_table"
                },
                value: st.rows as f64,
                threshold: 0.0,
                over: if sampled_out {
                    Severity::Warn
                } else {
                    Severity::Fail
                },
            }
            .finding(if sampled_out {
                format!(
                    "production's sample holds no rows of `{}` (the source has {}) where the spec expects {}: nothing of it could be compared",
                    t.name,
                    pt.source_rows.unwrap_or(0),
                    st.rows
                )
            } else {
                format!(
                    "production's `{}` has no rows in the sample where the spec expects {}",
                    t.name, st.rows
                )
            });
            f.suggestion = Some(if sampled_out {
                "sample more of the source (`[source] sample`) to compare this table".to_string()
            } else {
                format!(
                    "check the source, or give `tables.{}` no rows if it is empty by design",
                    t.name
                )
            });
            out.push(f);
            continue;
        }
        table_level(&t.name, st, pt, &mut out);
        // The table's own thresholds, then each column's (a tiny lookup table and a customer
        // table need not share one).
        let tg = g.with(&t.gate);
        let g = &tg;
        let support = Support::of(spec, t, synth, prod, st, pt, g);
        for c in &t.columns {
            let (Some(sc), Some(pc)) = (st.column(&c.name), pt.column(&c.name)) else {
                continue;
            };
            let cg = g.with(&c.gate);
            let column_support = Support {
                min_support: cg.min_support as f64,
                ..support.looked_up(&t.lookups(c), synth, prod, st, pt)
            };
            column_findings(&t.name, c, sc, pc, ev, &cg, &column_support, &mut out);
        }
        // Pairs and associations with the table's most clustered column: conservative.
        let mut pair_support = support;
        for c in &t.columns {
            let s = support.looked_up(&t.lookups(c), synth, prod, st, pt);
            pair_support.synth_factor = pair_support.synth_factor.min(s.synth_factor);
            pair_support.prod_factor = pair_support.prod_factor.min(s.prod_factor);
        }
        let support = pair_support;
        relations::compare_pairs(
            &t.name,
            &st.pairs,
            &pt.pairs,
            (support.synth_factor, support.prod_factor),
            g,
            &mut out,
        );
        relations::compare_associations(
            &t.name,
            &st.associations,
            &pt.associations,
            (support.synth_factor, support.prod_factor),
            g,
            &mut out,
        );
        // Children per parent, through the `rows_per` parent's key.
        if let crate::spec::RowCount::PerParent { parent, .. } = &t.rows
            && let Some((fk, _, pk)) = t.references().find(|(_, rt, _)| rt == parent)
        {
            let key = |tab: &str, col: &str| (tab.to_string(), col.to_string());
            let counts = match ev {
                Evidence::Exact { .. } => match (
                    ss.get(&key(parent, pk)),
                    ss.get(&key(&t.name, &fk.name)),
                    ps.get(&key(parent, pk)),
                    ps.get(&key(&t.name, &fk.name)),
                ) {
                    (Some(sp), Some(sf), Some(pp), Some(pf)) => Some((
                        crate::profile::sketch::children_per_parent(sp, sf),
                        crate::profile::sketch::children_per_parent(pp, pf),
                    )),
                    _ => None,
                },
                Evidence::Sketched { .. } => {
                    match (st.children.get(&fk.name), pt.children.get(&fk.name)) {
                        (Some(a), Some(b)) => Some(relations::comparable_bins(a, b)),
                        _ => None,
                    }
                }
            };
            if let Some((a, b)) = counts {
                relations::compare_children(
                    &t.name,
                    &fk.name,
                    parent,
                    (&a, &b),
                    g,
                    g.min_support as f64,
                    &mut out,
                );
            }
        }
    }
    for name in &prod.unknown_tables {
        let mut f = Measure {
            kind: Kind::SchemaDrift,
            table: name,
            column: None,
            metric: "unknown_table",
            value: 1.0,
            threshold: 0.0,
            over: Severity::Warn,
        }
        .finding(format!(
            "production has a table `{name}` the spec does not describe"
        ));
        f.suggestion = Some(format!(
            "describe `{name}` in the spec, or confirm it is out of scope"
        ));
        out.push(f);
    }
    rules(spec, synth, prod, &mut out);
    apply_waivers(spec, &mut out);
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.table.cmp(&b.table))
            .then(a.column.cmp(&b.column))
    });
    out
}

/// How many independent rows each side's distances rest on. Child rows of one parent are not
/// independent (an order's items share its customer), so a child table counts at most as many
/// rows as its parent table has: a conservative effective sample size that keeps the noise
/// allowance honest. Below `min_support` rows a distance can warn but never fail.
#[derive(Clone, Copy)]
struct Support {
    /// Effective rows / actual rows, per side.
    synth_factor: f64,
    prod_factor: f64,
    min_support: f64,
}

impl Support {
    fn of(
        spec: &Spec,
        t: &crate::spec::Table,
        synth: &Profile,
        prod: &Profile,
        st: &TableProfile,
        pt: &TableProfile,
        g: &crate::spec::Gate,
    ) -> Support {
        // The fewest rows along the chain of `rows_per` parents: grandchildren cluster by
        // their grandparent too (a payment follows its order, which follows its customer).
        let factor = |p: &Profile, rows: u64| -> f64 {
            let mut least = rows;
            let mut at = t;
            for _ in 0..spec.tables.len() {
                let crate::spec::RowCount::PerParent { parent, .. } = &at.rows else {
                    break;
                };
                if let Some(pt) = p.table(parent) {
                    least = least.min(pt.rows);
                }
                match spec.table(parent) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            // Fewer rows than clusters: each row nearly its own cluster, nothing to correct.
            if rows == 0 || std::ptr::eq(at, t) || least >= rows {
                return 1.0;
            }
            // Kish's design effect for clusters whose members move together (intraclass
            // correlation 1) and whose sizes vary like a Poisson count (CV² = 1 / mean size):
            // clusters / (1 + clusters / rows) independent rows.
            let clusters = least as f64;
            (clusters / (1.0 + clusters / rows as f64)) / rows as f64
        };
        Support {
            synth_factor: factor(synth, st.rows),
            prod_factor: factor(prod, pt.rows),
            min_support: g.min_support as f64,
        }
    }

    /// This support for a column whose values are looked up in `tables` (see
    /// `Table::lookups`): rows sharing a parent row share its value, so the column rests on at
    /// most as many independent values as the smallest of those tables has rows (Kish's design
    /// effect, as for child tables).
    fn looked_up(
        self,
        tables: &[String],
        synth: &Profile,
        prod: &Profile,
        st: &TableProfile,
        pt: &TableProfile,
    ) -> Support {
        if tables.is_empty() {
            return self;
        }
        let factor = |p: &Profile, rows: u64| -> f64 {
            let Some(clusters) = tables
                .iter()
                .filter_map(|l| p.table(l))
                .map(|x| x.rows)
                .min()
            else {
                return 1.0;
            };
            if rows == 0 || clusters >= rows {
                return 1.0;
            }
            let c = clusters as f64;
            (c / (1.0 + c / rows as f64)) / rows as f64
        };
        Support {
            synth_factor: self.synth_factor.min(factor(synth, st.rows)),
            prod_factor: self.prod_factor.min(factor(prod, pt.rows)),
            ..self
        }
    }

    /// Independent rows on both sides, with a floor of `min_support`.
    #[cfg(test)]
    fn independent(g: &crate::spec::Gate) -> Support {
        Support {
            synth_factor: 1.0,
            prod_factor: 1.0,
            min_support: g.min_support as f64,
        }
    }

    /// Effective sizes of two samples of these lengths.
    fn sizes(&self, n: usize, m: usize) -> (f64, f64) {
        (
            (n as f64 * self.synth_factor).max(1.0),
            (m as f64 * self.prod_factor).max(1.0),
        )
    }

    /// The severity a distance over its threshold gets: `fail`, or `warn` on too few rows.
    fn over(&self, n: f64, m: f64) -> Severity {
        if n.min(m) < self.min_support {
            Severity::Warn
        } else {
            Severity::Fail
        }
    }
}

/// `[[waivers]]`: a matching finding that would warn or fail is reported at `info`, with the
/// waiver's reason; a waiver whose `until` date has passed waives nothing.
fn apply_waivers(spec: &Spec, out: &mut [Finding]) {
    let today = chrono::Utc::now().date_naive();
    for f in out.iter_mut().filter(|f| f.severity != Severity::Info) {
        let w = spec.waivers.iter().find(|w| {
            w.table == f.table
                && w.column
                    .as_ref()
                    .is_none_or(|c| Some(c) == f.column.as_ref())
                && w.kind.as_deref().is_none_or(|k| k == f.kind.as_str())
                && w.metric.as_deref().is_none_or(|m| m == f.metric)
                && w.until.as_deref().is_none_or(|u| {
                    chrono::NaiveDate::parse_from_str(u, "%Y-%m-%d").is_ok_and(|d| d >= today)
                })
        });
        if let Some(w) = w {
            f.details
                .insert("waived_severity".into(), json!(f.severity.as_str()));
            f.details.insert("waiver_reason".into(), json!(w.reason));
            f.message = format!("{} (waived: {})", f.message, w.reason);
            f.severity = Severity::Info;
        }
    }
}

fn schema_drift(spec: &Spec, t: &crate::spec::Table, pt: &TableProfile, out: &mut Vec<Finding>) {
    let Some(source) = &pt.source_columns else {
        return;
    };
    for sc in source {
        if t.column(&sc.name).is_none() {
            let mut f = Measure {
                kind: Kind::SchemaDrift,
                table: &t.name,
                column: Some(&sc.name),
                metric: "extra_column",
                value: 1.0,
                threshold: 0.0,
                over: Severity::Fail,
            }
            .finding(format!(
                "production has a column `{}.{}` ({}) the spec does not name; none of its values were copied",
                t.name, sc.name, sc.db_type
            ));
            f.suggestion = Some(format!(
                "add `{}` to tables.{}.columns in {} (with `pii` and `mask` if it holds personal data)",
                sc.name,
                t.name,
                spec.path.display()
            ));
            f.spec_change = Some(SpecChange::AddColumn {
                table: t.name.clone(),
                column: sc.name.clone(),
                db_type: sc.db_type.clone(),
            });
            out.push(f);
        }
    }
    for c in &t.columns {
        if !source.iter().any(|s| s.name == c.name) {
            let mut f = Measure {
                kind: Kind::SchemaDrift,
                table: &t.name,
                column: Some(&c.name),
                metric: "missing_column",
                value: 1.0,
                threshold: 0.0,
                over: Severity::Warn,
            }
            .finding(format!(
                "the spec's column `{}.{}` is not in production",
                t.name, c.name
            ));
            f.suggestion = Some(format!(
                "remove `{}` from tables.{}.columns, or check the source",
                c.name, t.name
            ));
            out.push(f);
        }
    }
}

fn table_level(name: &str, st: &TableProfile, pt: &TableProfile, out: &mut Vec<Finding>) {
    for (col, n) in &pt.orphans {
        let synth = st.orphans.get(col).copied().unwrap_or(0);
        if *n > synth {
            let mut f = Measure {
                kind: Kind::OrphanKeys,
                table: name,
                column: Some(col),
                metric: "orphans",
                value: *n as f64,
                threshold: synth as f64,
                over: Severity::Fail,
            }
            .finding(format!(
                "{n} rows of `{name}` have a `{col}` with no parent row in the source"
            ));
            f.suggestion = Some(format!(
                "decide whether `{name}.{col}` may dangle; if so, generate orphans on purpose"
            ));
            out.push(f);
        }
    }
    if pt.duplicate_keys > st.duplicate_keys {
        out.push(
            Measure {
                kind: Kind::DuplicateKeys,
                table: name,
                column: pt.key.as_deref(),
                metric: "duplicate_keys",
                value: pt.duplicate_keys as f64,
                threshold: st.duplicate_keys as f64,
                over: Severity::Fail,
            }
            .finding(format!(
                "{} duplicate key values in the production sample of `{name}`",
                pt.duplicate_keys
            )),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn column_findings(
    table: &str,
    c: &crate::spec::Column,
    sc: &ColumnProfile,
    pc: &ColumnProfile,
    ev: &Evidence,
    g: &crate::spec::Gate,
    support: &Support,
    out: &mut Vec<Finding>,
) {
    let col = c.name.as_str();
    let loc = format!("{table}.{col}");
    let (ss, ps) = ev.samples();

    if pc.type_errors > 0 {
        out.push(
            Measure {
                kind: Kind::TypeMismatch,
                table,
                column: Some(col),
                metric: "type_errors",
                value: pc.type_errors as f64,
                threshold: 0.0,
                over: Severity::Fail,
            }
            .finding(format!(
                "{} production values of `{loc}` do not parse as {:?}",
                pc.type_errors, sc.logical_type
            )),
        );
    }

    // Null rate, with the difference two samples of one population would show subtracted. A
    // redacted column is null by design.
    if sc.rows > 0 && pc.rows > 0 && pc.mask != MaskMethod::Redact {
        let (n, m) = (sc.rows as f64, pc.rows as f64);
        let (a, b) = (sc.nulls as f64 / n, pc.nulls as f64 / m);
        let noise = proportion_noise((sc.nulls, sc.rows), (pc.nulls, pc.rows), g.alpha);
        let adj = ((b - a).abs() - noise).max(0.0);
        let mut f = Measure {
            kind: Kind::NullRate,
            table,
            column: Some(col),
            metric: "null_rate_delta_adjusted",
            value: adj,
            threshold: g.null_rate_delta,
            over: Severity::Fail,
        }
        .finding(format!(
            "`{loc}` is null in {} of production rows and {} of synthetic rows",
            pct(b),
            pct(a)
        ));
        f.details.insert("production_null_rate".into(), json!(b));
        f.details.insert("synthetic_null_rate".into(), json!(a));
        if f.severity == Severity::Fail {
            f.suggestion = Some(format!("set `null_rate = {:.3}` on {loc}", b));
            f.spec_change = Some(SpecChange::SetNullRate {
                table: table.to_string(),
                column: col.to_string(),
                rate: (b * 10_000.0).round() / 10_000.0,
            });
        }
        out.push(f);
    }

    // A column the spec never makes null fails on any null (parse failures are type errors,
    // counted apart; redacted columns are null by design).
    let prod_nulls = pc.nulls.saturating_sub(pc.type_errors);
    if c.null_rate == 0.0
        && sc.nulls == 0
        && prod_nulls > 0
        && pc.mask != MaskMethod::Redact
        && matches!(
            c.kind,
            crate::spec::ColumnKind::Gen(_) | crate::spec::ColumnKind::Ref { .. }
        )
    {
        let mut f = Measure {
            kind: Kind::NullRate,
            table,
            column: Some(col),
            metric: "unexpected_nulls",
            value: prod_nulls as f64,
            threshold: 0.0,
            over: Severity::Fail,
        }
        .finding(format!(
            "`{loc}` is never null in the spec, but {prod_nulls} production rows ({}) are",
            pct(prod_nulls as f64 / pc.rows.max(1) as f64)
        ));
        let rate = prod_nulls as f64 / pc.rows.max(1) as f64;
        f.suggestion = Some(format!(
            "set `null_rate = {rate:.4}` on {loc}, or fix the source"
        ));
        f.spec_change = Some(SpecChange::SetNullRate {
            table: table.to_string(),
            column: col.to_string(),
            rate: ((rate * 10_000.0).ceil() / 10_000.0).min(0.9999),
        });
        out.push(f);
    }
    // A column whose spec produces no values at all (a placeholder for an unreviewed column)
    // says nothing about its values' classes, lengths or formats.
    if let (Some(stx), Some(ptx)) = (&sc.text, &pc.text)
        && stx.count > 0
    {
        value_classes(table, c, stx, ptx, g, out);
        typed_as_text(table, col, stx, ptx, out);
        // Lengths are what a masked column keeps of its values (measured before masking); a
        // column copied as it is is compared on them too. Free-text columns included.
        lengths(table, col, stx, ptx, g, support, out);
    }

    if let Some(n) = pc.out_of_range {
        let total = pc.numeric.as_ref().map_or(0, |s| s.count);
        if n > 0 && total > 0 {
            let share = n as f64 / total as f64;
            let mut f = Measure {
                kind: Kind::OutOfRange,
                table,
                column: Some(col),
                metric: "out_of_range_share",
                value: share,
                threshold: g.range_share,
                over: Severity::Fail,
            }
            .finding(format!(
                "{n} production values of `{loc}` ({}) fall outside the spec's range",
                pct(share)
            ));
            f.suggestion = Some(format!(
                "widen `min`/`max` (or `from`/`to`) of {loc}, or treat these rows as bad data"
            ));
            let timestamp = sc.logical_type.is_temporal();
            if let (Some((lo, hi)), Some((dlo, dhi))) = (pc.range_hint, c.declared_range()) {
                let below = dlo.filter(|d| lo < *d);
                let above = dhi.filter(|d| hi > *d);
                f.spec_change = Some(if timestamp || c.tail.is_some() {
                    SpecChange::WidenRange {
                        table: table.to_string(),
                        column: col.to_string(),
                        min: below.map(|_| lo),
                        max: above.map(|_| hi),
                        timestamp,
                    }
                } else {
                    // Widening a uniform range would move its body; a tail keeps the body and
                    // adds the rare values where production has them.
                    SpecChange::AddTail {
                        table: table.to_string(),
                        column: col.to_string(),
                        share: ((share * 10_000.0).ceil() / 10_000.0).min(0.5),
                        min: if below.is_some() {
                            lo
                        } else {
                            dhi.unwrap_or(lo)
                        },
                        max: if above.is_some() {
                            hi
                        } else {
                            dlo.unwrap_or(hi)
                        },
                    }
                });
            }
            out.push(f);
        }
    }

    // Identifiers (sequences, foreign keys) are labels, not measurements.
    let identifier = c.is_identifier();
    if !identifier && pc.mask != MaskMethod::Redact {
        cardinality(table, col, sc, pc, out);
    }
    let keep = pc.mask == MaskMethod::Keep;
    if keep
        && !identifier
        && let (Some(a), Some(b)) = (
            ss.get(&(table.to_string(), col.to_string())),
            ps.get(&(table.to_string(), col.to_string())),
        )
    {
        let temporal = sc.logical_type.is_temporal();
        match ev {
            Evidence::Exact { .. } => {
                numeric_distribution(table, col, a, b, (a.len(), b.len()), None, g, support, out);
                let counts = crate::profile::sentinel_candidates(temporal)
                    .into_iter()
                    .map(|(v, label)| {
                        let n = |x: &[f64]| x.iter().filter(|y| **y == v).count() as u64;
                        (label, n(a), n(b))
                    })
                    .collect();
                sentinels(table, col, counts, out);
                if temporal {
                    let views =
                        |x: &[f64]| crate::profile::sketch::Calendar::ALL.map(|cal| cal.counts(x));
                    let sizes = support.sizes(a.len(), b.len());
                    relations::compare_calendar(table, col, &views(a), &views(b), sizes, g, out);
                }
            }
            Evidence::Sketched { .. } => {
                if let (Some(ha), Some(hb)) = (&sc.histogram, &pc.histogram) {
                    let (n, m) = (ha.total() as usize, hb.total() as usize);
                    let bounds = ha.ks_bounds(hb);
                    numeric_distribution(table, col, a, b, (n, m), Some(bounds), g, support, out);
                }
                let counts = crate::profile::sentinel_candidates(temporal)
                    .into_iter()
                    .map(|(_, label)| {
                        let n = |p: &ColumnProfile| *p.sentinels.get(&label).unwrap_or(&0);
                        let (x, y) = (n(sc), n(pc));
                        (label, x, y)
                    })
                    .collect();
                sentinels(table, col, counts, out);
                if let (Some(ca), Some(cb)) = (&sc.calendar, &pc.calendar) {
                    let (va, vb) = relations::comparable_calendars(ca, cb);
                    let n = va[0].iter().sum::<f64>() as usize;
                    let m = vb[0].iter().sum::<f64>() as usize;
                    relations::compare_calendar(table, col, &va, &vb, support.sizes(n, m), g, out);
                }
            }
        }
    }

    // Categories are compared where the spec declares a closed set (`choice`); every other
    // text column is compared by shape, when the spec produces few enough shapes to be a format.
    if let (Some(_), Some(scat), Some(pcat)) = (c.categories(), &sc.categories, &pc.categories) {
        categorical(table, col, c, scat, pcat, g, support, out);
    } else if let (Some(stx), Some(ptx)) = (&sc.text, &pc.text)
        && stx.count > 0
        && stx.shapes_overflow == 0
        && stx.shapes.len() <= MAX_FORMAT_SHAPES
    {
        unseen_shapes(table, c, stx, ptx, pc, g, out);
    }

    if let (Some(stx), Some(ptx)) = (&sc.text, &pc.text) {
        let (sa, pa) = (&stx.anomalies, &ptx.anomalies);
        // Kinds the spec's data has too, or a scenario plants (at a small scale it may plant
        // none), are intended; production rows with other kinds are the excess.
        let mut intended: Vec<&str> = sa
            .named()
            .iter()
            .filter(|(k, n)| *n > 0 && *k != "rows")
            .map(|(k, _)| *k)
            .collect();
        intended.extend(c.planted.iter().map(|a| a.measured_as()));
        let excess = if intended.is_empty() {
            pa.encoding_total()
        } else {
            pa.named()
                .iter()
                .filter(|(k, _)| *k != "rows" && *k != "edge_whitespace" && !intended.contains(k))
                .map(|(_, n)| *n)
                .sum::<u64>()
                .min(pa.encoding_total())
        };
        if pa.encoding_total() > 0 {
            let mut f = Measure {
                kind: Kind::EncodingAnomaly,
                table,
                column: Some(col),
                metric: "encoding_anomalies",
                value: excess as f64,
                threshold: g.encoding_anomalies as f64,
                over: Severity::Fail,
            }
            .finding({
                let kinds: Vec<String> = pa
                    .named()
                    .iter()
                    .filter(|(k, n)| *n > 0 && *k != "edge_whitespace" && *k != "rows")
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect();
                format!(
                    "`{loc}` has text-encoding anomalies in production ({}), measured before masking",
                    kinds.join(", ")
                )
            });
            for (k, n) in pa.named() {
                if n > 0 {
                    f.details.insert(k.into(), json!(n));
                }
            }
            f.suggestion = Some(format!(
                "repair the source encoding, or make the spec produce such values in {loc} so tests cover them"
            ));
            out.push(f);
        }
        if pa.edge_whitespace > sa.edge_whitespace {
            out.push(
                Measure {
                    kind: Kind::Whitespace,
                    table,
                    column: Some(col),
                    metric: "edge_whitespace",
                    value: pa.edge_whitespace as f64,
                    threshold: 0.0,
                    over: Severity::Warn,
                }
                .finding(format!(
                    "{} production values of `{loc}` start or end with white space",
                    pa.edge_whitespace
                )),
            );
        }
    }
}

/// Empty strings and placeholders (`N/A`, `-`, `unknown`): production has them where the
/// spec's data has none. Both are values a test suite seldom expects and a NULL check misses.
/// A column with a declared `empty_rate` makes empty strings by design, even when a small
/// sample drew none: its rate is compared instead.
fn value_classes(
    table: &str,
    c: &crate::spec::Column,
    s: &crate::profile::text::TextStats,
    p: &crate::profile::text::TextStats,
    g: &crate::spec::Gate,
    out: &mut Vec<Finding>,
) {
    let col = c.name.as_str();
    let loc = format!("{table}.{col}");
    // A declared empty-string rate is compared like a null rate: the difference beyond what two
    // samples of one population would show.
    if c.empty_rate > 0.0 && s.count > 0 && p.count > 0 {
        let (a, b) = (
            s.empty as f64 / s.count as f64,
            p.empty as f64 / p.count as f64,
        );
        let noise = proportion_noise((s.empty, s.count), (p.empty, p.count), g.alpha);
        let mut f = Measure {
            kind: Kind::NullRate,
            table,
            column: Some(col),
            metric: "empty_rate_delta_adjusted",
            value: ((b - a).abs() - noise).max(0.0),
            threshold: g.null_rate_delta,
            over: Severity::Fail,
        }
        .finding(format!(
            "`{loc}` is the empty string in {} of production's non-null values and {} of synthetic's",
            pct(b),
            pct(a)
        ));
        if f.severity == Severity::Fail {
            f.suggestion = Some(format!("set `empty_rate = {b:.3}` on {loc}"));
        }
        out.push(f);
    }
    for (metric, synth, prod, what, fix) in [
        (
            "empty_strings",
            s.empty,
            p.empty,
            "empty strings (apart from NULLs)",
            "give the column an empty-string rate, or normalise empty strings to NULL in the source",
        ),
        (
            "placeholders",
            s.placeholders,
            p.placeholders,
            "placeholders such as `N/A`, `-` or `unknown` standing in for a value",
            "generate such placeholders on purpose (a scenario), or clean them up in the source",
        ),
    ] {
        let declared = metric == "empty_strings" && c.empty_rate > 0.0;
        if prod > 0 && synth == 0 && !declared {
            let mut f = Measure {
                kind: Kind::UnseenCategory,
                table,
                column: Some(col),
                metric,
                value: prod as f64,
                threshold: 0.0,
                over: Severity::Fail,
            }
            .finding(format!(
                "`{loc}` has {prod} {what} in production ({}); the spec's data has none",
                pct(prod as f64 / p.count.max(1) as f64)
            ));
            f.suggestion = Some(format!("{loc}: {fix}"));
            out.push(f);
        }
    }
}

/// The length distribution of a text column, pooled like categories under disclosure control:
/// lengths production shows stay apart, everything else forms one bin.
fn lengths(
    table: &str,
    col: &str,
    s: &crate::profile::text::TextStats,
    p: &crate::profile::text::TextStats,
    g: &crate::spec::Gate,
    support: &Support,
    out: &mut Vec<Finding>,
) {
    let keys: Vec<&u64> = p.lengths.keys().collect();
    let mut a: Vec<f64> = keys
        .iter()
        .map(|k| *s.lengths.get(*k).unwrap_or(&0) as f64)
        .collect();
    let mut b: Vec<f64> = keys.iter().map(|k| p.lengths[*k] as f64).collect();
    let synth_total: u64 = s.lengths.values().sum::<u64>() + s.lengths_withheld;
    a.push(synth_total as f64 - a.iter().sum::<f64>());
    b.push(p.lengths_withheld as f64);
    let (n, m) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if n == 0.0 || m == 0.0 {
        return;
    }
    let k = a.iter().zip(&b).filter(|(x, y)| **x + **y > 0.0).count();
    if k < 2 {
        return;
    }
    let jsd = stats::js_divergence(&a, &b);
    let (n_eff, m_eff) = support.sizes(n as usize, m as usize);
    let noise = stats::js_noise(k, n_eff, m_eff, g.alpha);
    let adj = (jsd.sqrt() - noise.sqrt()).max(0.0);
    // Enough rows per length bin before it may fail, as for every binned distance.
    let enough = n_eff.min(m_eff) >= 5.0 * k as f64;
    let mut f = Measure {
        kind: Kind::Distribution,
        table,
        column: Some(col),
        metric: "length_js_adjusted",
        value: adj,
        threshold: g.js,
        over: if enough {
            support.over(n_eff, m_eff)
        } else {
            Severity::Warn
        },
    }
    .finding(format!(
        "value lengths of `{table}.{col}`: Jensen-Shannon distance {:.3} ({adj:.3} beyond sampling noise)",
        jsd.sqrt()
    ));
    f.details
        .insert("synthetic_mean_length".into(), json!(s.length_mean()));
    f.details
        .insert("production_mean_length".into(), json!(p.length_mean()));
    if f.severity == Severity::Fail {
        f.suggestion = Some(format!(
            "production's values of {table}.{col} are {} long on average against {} in the spec's data: \
             refit its generator",
            p.length_mean().map_or("-".into(), |x| format!("{x:.1}")),
            s.length_mean().map_or("-".into(), |x| format!("{x:.1}")),
        ));
    }
    out.push(f);
}

/// Cardinality: what masking keeps of a column's values besides their lengths and shapes
/// (hashes and pseudonyms are one-to-one). Production duplicates where every value the spec
/// makes is distinct (two customers sharing an e-mail), or production values nearly all distinct
/// where the spec repeats a few (free text where the spec has a code list), are named.
fn cardinality(
    table: &str,
    col: &str,
    sc: &ColumnProfile,
    pc: &ColumnProfile,
    out: &mut Vec<Finding>,
) {
    let (sn, pn) = (sc.rows - sc.nulls, pc.rows - pc.nulls.min(pc.rows));
    if sn < 30 || pn < 30 {
        return;
    }
    let (rs, rp) = (
        sc.distinct as f64 / sn as f64,
        pc.distinct as f64 / pn as f64,
    );
    let (metric, message) = if rs >= 1.0 && pc.distinct < pn {
        (
            "duplicate_values",
            format!(
                "{} production rows of `{table}.{col}` repeat another row's value; every value the spec makes is distinct",
                pn - pc.distinct
            ),
        )
    } else if rs < 0.5 && rp > 0.9 && pn >= 100 {
        (
            "cardinality_ratio",
            format!(
                "`{table}.{col}` has {} distinct values in production ({}) and {} in the spec's data ({}): free values where the spec repeats a few",
                pc.distinct,
                pct(rp),
                sc.distinct,
                pct(rs)
            ),
        )
    } else {
        return;
    };
    let mut f = Measure {
        kind: Kind::Distribution,
        table,
        column: Some(col),
        metric,
        value: rp,
        threshold: rs,
        over: Severity::Warn,
    }
    .finding(message);
    f.severity = Severity::Warn;
    f.details
        .insert("synthetic_distinct".into(), json!(sc.distinct));
    f.details
        .insert("production_distinct".into(), json!(pc.distinct));
    out.push(f);
}

/// Numbers or dates stored as text: nearly every production value of a text column reads as a
/// number (or a date) while the spec's values mostly do not. A warning: the column may be typed
/// wrongly in the source, or the spec may be describing it as the wrong thing.
fn typed_as_text(
    table: &str,
    col: &str,
    s: &crate::profile::text::TextStats,
    p: &crate::profile::text::TextStats,
    out: &mut Vec<Finding>,
) {
    if p.count < 20 || s.count == 0 {
        return;
    }
    for (metric, what, synth, prod) in [
        ("numbers_as_text", "numbers", s.number_like, p.number_like),
        ("dates_as_text", "dates", s.date_like, p.date_like),
    ] {
        let (ps, ss) = (prod as f64 / p.count as f64, synth as f64 / s.count as f64);
        if ps >= 0.95 && ss < 0.5 {
            let mut f = Measure {
                kind: Kind::TypeMismatch,
                table,
                column: Some(col),
                metric,
                value: ps,
                threshold: 0.95,
                over: Severity::Warn,
            }
            .finding(format!(
                "{} of production's `{table}.{col}` read as {what} stored as text ({} of the spec's)",
                pct(ps),
                pct(ss)
            ));
            f.severity = Severity::Warn;
            out.push(f);
        }
    }
}

/// Sentinel values production uses for "no value" in numbers and dates: -1, 0, 9999, 99999,
/// 1900-01-01, 1970-01-01, 9999-12-31 (timestamps in microseconds), counted where the spec's
/// data never holds them.
/// `counts`: per conventional sentinel, its label and the rows holding it on each side.
fn sentinels(table: &str, col: &str, counts: Vec<(String, u64, u64)>, out: &mut Vec<Finding>) {
    for (label, in_synth, in_prod) in counts {
        // Three rows make a habit, not an accident; the spec never producing the value makes
        // it worth a look (a warning: 0 may be a real quantity).
        if in_prod >= 3 && in_synth == 0 {
            let mut f = Measure {
                kind: Kind::OutOfRange,
                table,
                column: Some(col),
                metric: "sentinel_rows",
                value: in_prod as f64,
                threshold: 0.0,
                over: Severity::Warn,
            }
            .finding(format!(
                "`{table}.{col}` holds the sentinel-like value {label} in {in_prod} production rows; the spec's data never does"
            ));
            f.details.insert("sentinel".into(), json!(label));
            f.distinguish(&label);
            f.suggestion = Some(format!(
                "if {label} means \"no value\" in {table}.{col}, map it to NULL in the source or generate it on purpose"
            ));
            out.push(f);
        }
    }
}

/// The difference two shares (`hits` of `rows` on each side) of one population stay within
/// with probability 1 - α: the two-proportion normal bound at the pooled share.
fn proportion_noise((x, n): (u64, u64), (y, m): (u64, u64), alpha: f64) -> f64 {
    let (n, m) = (n as f64, m as f64);
    let pooled = (x + y) as f64 / (n + m);
    statrs_z(alpha) * (pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)).sqrt()
}

/// The two-sided normal quantile z(1 - α/2).
fn statrs_z(alpha: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(1.0 - alpha / 2.0)
}

/// `sizes`: the rows behind `a` and `b` (more than their lengths when they were drawn from
/// histograms); `ks_bounds`: the KS statistic's bounds from histograms, in place of the exact
/// statistic of `a` and `b` (the lower bound decides: a drift the histograms cannot prove is
/// not reported).
#[allow(clippy::too_many_arguments)]
fn numeric_distribution(
    table: &str,
    col: &str,
    a: &[f64],
    b: &[f64],
    sizes: (usize, usize),
    ks_bounds: Option<(f64, f64)>,
    g: &crate::spec::Gate,
    support: &Support,
    out: &mut Vec<Finding>,
) {
    let loc = format!("{table}.{col}");
    let (d, p) = match ks_bounds {
        None => match stats::ks_2samp(a, b) {
            Some(x) => x,
            None => return,
        },
        Some((lo, _)) => {
            let (n, m) = (sizes.0 as f64, sizes.1 as f64);
            if n == 0.0 || m == 0.0 {
                return;
            }
            (lo, stats::kolmogorov_sf(lo * (n * m / (n + m)).sqrt()))
        }
    };
    let (n_eff, m_eff) = support.sizes(sizes.0, sizes.1);
    let over = support.over(n_eff, m_eff);
    let noise = stats::ks_noise(g.alpha, n_eff.round() as usize, m_eff.round() as usize);
    let adj = (d - noise).max(0.0);
    let mut f = Measure {
        kind: Kind::Distribution,
        table,
        column: Some(col),
        metric: "ks_adjusted",
        value: adj,
        threshold: g.ks,
        over,
    }
    .finding(format!(
        "KS distance of `{loc}` is {d:.3} ({adj:.3} beyond sampling noise); p = {p:.2e}"
    ));
    f.details.insert("ks_statistic".into(), json!(d));
    f.details.insert("ks_pvalue".into(), json!(p));
    f.details.insert("ks_noise".into(), json!(noise));
    if let Some((lo, hi)) = ks_bounds {
        // The histograms bound the statistic; the gate uses the lower bound.
        f.details.insert("ks_lower_bound".into(), json!(lo));
        f.details.insert("ks_upper_bound".into(), json!(hi));
    }
    f.details.insert("n_synthetic".into(), json!(sizes.0));
    f.details.insert("n_production".into(), json!(sizes.1));
    f.details
        .insert("n_effective_synthetic".into(), json!(n_eff));
    f.details
        .insert("n_effective_production".into(), json!(m_eff));
    if let Some(w) = stats::wasserstein(a, b) {
        f.details.insert("wasserstein".into(), json!(w));
    }
    if f.severity == Severity::Fail {
        f.suggestion = Some(format!(
            "refit the generator of {loc} to production's distribution"
        ));
    }
    out.push(f);

    let edges = stats::quantile_edges(a, stats::psi_bins(n_eff, m_eff));
    if !edges.is_empty() {
        let (ea, eb) = (stats::bin_counts(&edges, a), stats::bin_counts(&edges, b));
        let psi = stats::psi(&ea, &eb);
        let noise = stats::psi_noise(ea.len(), n_eff, m_eff, g.alpha);
        let adj = (psi - noise).max(0.0);
        // PSI's chi-square bound is asymptotic; on small samples KS (whose p-value is exact)
        // decides, and PSI may only warn.
        let psi_over = if n_eff.min(m_eff) < PSI_MIN_SUPPORT {
            Severity::Warn
        } else {
            over
        };
        let mut f = Measure {
            kind: Kind::Distribution,
            table,
            column: Some(col),
            metric: "psi_adjusted",
            value: adj,
            threshold: g.psi,
            over: psi_over,
        }
        .finding(format!(
            "PSI of `{loc}` over {} synthetic quantile bins is {psi:.3} ({adj:.3} beyond sampling noise)",
            ea.len()
        ));
        f.details.insert("psi".into(), json!(psi));
        f.details.insert("psi_noise".into(), json!(noise));
        out.push(f);
    }
}

#[allow(clippy::too_many_arguments)]
fn categorical(
    table: &str,
    col: &str,
    c: &crate::spec::Column,
    s: &crate::profile::Categories,
    p: &crate::profile::Categories,
    g: &crate::spec::Gate,
    support: &Support,
    out: &mut Vec<Finding>,
) {
    let loc = format!("{table}.{col}");
    let declared: BTreeSet<&str> = c.categories().unwrap_or_default().into_iter().collect();
    let (a, b) = stats::pool_categories(&s.values, s.withheld_rows, &p.values, p.withheld_rows);
    let (n, m) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
    if n == 0.0 || m == 0.0 {
        return;
    }
    let k = a.iter().zip(&b).filter(|(x, y)| **x + **y > 0.0).count();
    let jsd = stats::js_divergence(&a, &b);
    let (n_eff, m_eff) = support.sizes(n as usize, m as usize);
    let noise = stats::js_noise(k, n_eff, m_eff, g.alpha);
    // In distance units, as KS: the distance beyond the distance noise alone reaches.
    let adj = (jsd.sqrt() - noise.sqrt()).max(0.0);
    let mut f = Measure {
        kind: Kind::Distribution,
        table,
        column: Some(col),
        metric: "js_adjusted",
        value: adj,
        threshold: g.js,
        over: support.over(n_eff, m_eff),
    }
    .finding(format!(
        "Jensen-Shannon distance of `{loc}` is {:.3} ({adj:.3} beyond sampling noise)",
        jsd.sqrt()
    ));
    f.details.insert("js_distance".into(), json!(jsd.sqrt()));
    if let Some((stat, dof, pval)) = stats::chi2_homogeneity(&a, &b) {
        f.details.insert("chi2".into(), json!(stat));
        f.details.insert("chi2_dof".into(), json!(dof));
        f.details.insert("chi2_pvalue".into(), json!(pval));
    }
    f.details.insert(
        "total_variation".into(),
        json!(
            a.iter()
                .zip(&b)
                .map(|(x, y)| (x / n - y / m).abs())
                .sum::<f64>()
                / 2.0
        ),
    );
    out.push(f);

    // Production categories the spec never produces.
    let unseen: Vec<(&String, u64)> = p
        .values
        .iter()
        .filter(|(v, _)| !s.values.contains_key(*v) && !declared.contains(v.as_str()))
        .map(|(v, n)| (v, *n))
        .collect();
    let visible_rows: u64 = unseen.iter().map(|(_, n)| n).sum();
    // Rows whose value the spec does not declare but that disclosure control withholds: still
    // counted, still failing.
    let hidden_rows = p
        .undeclared_rows
        .map_or(0, |u| u.saturating_sub(visible_rows));
    if !unseen.is_empty() || hidden_rows > 0 {
        let rows = visible_rows + hidden_rows;
        let share = rows as f64 / m;
        let mut names: Vec<String> = unseen.iter().map(|(v, n)| format!("`{v}` ({n})")).collect();
        if hidden_rows > 0 {
            names.push(format!(
                "{hidden_rows} rows of values seen fewer than k times (withheld)"
            ));
        }
        let mut f = Measure {
            kind: Kind::UnseenCategory,
            table,
            column: Some(col),
            metric: "unseen_share",
            value: share,
            threshold: g.unseen_share,
            over: Severity::Fail,
        }
        .finding(format!(
            "production has {} in `{loc}` ({} of rows); the spec never produces them",
            names.join(", "),
            pct(share)
        ));
        f.suggestion = Some(format!(
            "add {} to the `values` of {loc}",
            unseen
                .iter()
                .map(|(v, n)| format!("{v} = {:.3}", *n as f64 / m))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        f.details.insert(
            "categories".into(),
            json!(unseen.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>()),
        );
        f.details.insert("unseen_rows".into(), json!(rows));
        f.details
            .insert("withheld_unseen_rows".into(), json!(hidden_rows));
        if !unseen.is_empty() {
            f.spec_change = Some(SpecChange::AddCategories {
                table: table.to_string(),
                column: col.to_string(),
                values: unseen
                    .iter()
                    .map(|(v, n)| ((*v).clone(), (*n as f64 / m * 10_000.0).round() / 10_000.0))
                    .collect(),
            });
        }
        if unseen.is_empty() {
            f.suggestion = Some(format!(
                "production has values in {loc} the spec does not declare, each seen fewer than k times; \
                 review the source (the values cannot be shown) and add them to `values`"
            ));
        }
        out.push(f);
    }
    if p.withheld_values > 0 {
        out.push(
            Measure {
                kind: Kind::UnseenCategory,
                table,
                column: Some(col),
                metric: "withheld_rows",
                value: p.withheld_rows as f64,
                threshold: f64::INFINITY,
                over: Severity::Info,
            }
            .finding(format!(
                "{} rare production values of `{loc}` ({} rows) are withheld by disclosure control and not compared",
                p.withheld_values, p.withheld_rows
            )),
        );
    }
    // Categories the spec produces that the production sample lacks (where it should have them).
    for (v, sn) in &s.values {
        let expected = *sn as f64 / n * m;
        if !p.values.contains_key(v) && expected >= 5.0 && p.withheld_rows == 0 {
            let mut f = Measure {
                kind: Kind::MissingCategory,
                table,
                column: Some(col),
                metric: "expected_rows",
                value: expected,
                threshold: 5.0,
                over: Severity::Warn,
            }
            .finding(format!("the spec produces `{v}` in `{loc}` but the production sample has none (about {expected:.0} expected)"));
            f.suggestion = Some(format!(
                "remove `{v}` from {loc}, or declare it an intended edge case"
            ));
            out.push(f);
        }
    }
}

/// A pattern format that produces exactly the values of a shape (`(999) 999-9999` →
/// `(###) ###-####`): letter runs fold in shapes, so one letter of the case stands for a run.
/// `None` for shapes a pattern cannot write (control, invisible or non-ASCII characters).
pub fn shape_to_format(shape: &str) -> Option<String> {
    let mut out = String::new();
    for c in shape.chars() {
        match c {
            '9' => out.push('#'),
            'A' => out.push('?'),
            'a' => out.push('@'),
            // In a shape `?` marks a control or invisible character and `*` a non-ASCII symbol:
            // nothing a pattern should write.
            '?' | '*' => return None,
            '#' | '@' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

fn unseen_shapes(
    table: &str,
    c: &crate::spec::Column,
    s: &crate::profile::text::TextStats,
    p: &crate::profile::text::TextStats,
    pc: &ColumnProfile,
    g: &crate::spec::Gate,
    out: &mut Vec<Finding>,
) {
    if p.count == 0 {
        return;
    }
    let col = c.name.as_str();
    let loc = format!("{table}.{col}");
    // One cause, one finding: where production has encoding damage the spec's data lacks, the
    // shapes it makes (`?` marks a control or invisible character, `*` a stray symbol such as
    // mojibake's `©`) belong to the encoding finding, not to a format the spec should learn.
    let damaged = p.anomalies.rows > s.anomalies.rows;
    let from_damage = |sh: &str| damaged && sh.contains(['?', '*']);
    let mut attributed = 0u64;
    let unseen: BTreeMap<&String, u64> = p
        .shapes
        .iter()
        .filter(|(sh, _)| !s.shapes.contains_key(*sh))
        .filter(|(sh, n)| {
            let damage = from_damage(sh);
            attributed += if damage { **n } else { 0 };
            !damage
        })
        .map(|(sh, n)| (sh, *n))
        .collect();
    let rows: u64 = unseen.values().sum();
    let share = rows as f64 / p.count as f64;
    let mut top: Vec<(&String, u64)> = unseen.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = top
        .iter()
        .take(5)
        .map(|(sh, n)| format!("`{sh}` in {}", pct(*n as f64 / p.count as f64)))
        .collect();
    let mut f = Measure {
        kind: Kind::UnseenShape,
        table,
        column: Some(col),
        metric: "unseen_shape_share",
        value: share,
        threshold: g.unseen_shape_share,
        over: Severity::Fail,
    }
    .finding(if top.is_empty() {
        format!("every production shape of `{loc}` is one the spec produces")
    } else {
        format!(
            "`{loc}` has shapes the spec never produces: {}{}",
            shown.join(", "),
            if pc.mask != MaskMethod::Keep {
                " (measured before masking)"
            } else {
                ""
            }
        )
    });
    if let Some((sh, n)) = top.first() {
        f.suggestion = Some(format!(
            "{loc} also has shape `{sh}` in {} of rows: make its generator produce that format",
            pct(*n as f64 / p.count as f64)
        ));
    }
    let patterned = match &c.kind {
        crate::spec::ColumnKind::Gen(crate::spec::Generator::Pattern { .. }) => true,
        crate::spec::ColumnKind::Gen(crate::spec::Generator::Cases { cases, default, .. }) => cases
            .iter()
            .map(|(_, g)| g)
            .chain(default.as_deref())
            .any(|g| matches!(g, crate::spec::Generator::Pattern { .. })),
        _ => false,
    };
    if patterned {
        let formats: Vec<(String, f64)> = top
            .iter()
            .filter_map(|(sh, n)| {
                shape_to_format(sh).map(|fmt| {
                    (
                        fmt,
                        (*n as f64 / p.count as f64 * 10_000.0).round() / 10_000.0,
                    )
                })
            })
            .collect();
        if !formats.is_empty() {
            f.spec_change = Some(SpecChange::AddFormats {
                table: table.to_string(),
                column: col.to_string(),
                formats,
            });
        }
    }
    f.details.insert("unseen_rows".into(), json!(rows));
    f.details
        .insert("withheld_rows".into(), json!(p.shapes_overflow));
    f.details
        .insert("attributed_to_encoding_rows".into(), json!(attributed));
    let visible_failed = f.severity == Severity::Fail;
    out.push(f);
    // Rows of a format the spec never declares, however rare: counted against the declared
    // formats, so a format seen once fails without being shown.
    let undeclared = p.undeclared_format_rows.unwrap_or(0);
    if undeclared > 0 && s.undeclared_format_rows == Some(0) && !visible_failed {
        let mut f = Measure {
            kind: Kind::UnseenShape,
            table,
            column: Some(col),
            metric: "undeclared_format_rows",
            value: undeclared as f64,
            threshold: 0.0,
            over: Severity::Fail,
        }
        .finding(format!(
            "{undeclared} production rows of `{loc}` match none of the spec's formats{}",
            if undeclared <= p.shapes_overflow {
                " (their shapes are seen fewer than k times, so they are not shown)"
            } else {
                ""
            }
        ));
        f.suggestion = Some(format!(
            "review the rare formats of {loc} in the source and add the ones the domain allows to its `formats`"
        ));
        out.push(f);
    } else if p.shapes_overflow > 0 {
        let mut f = Measure {
            kind: Kind::UnseenShape,
            table,
            column: Some(col),
            metric: "withheld_shape_rows",
            value: p.shapes_overflow as f64,
            threshold: 0.0,
            over: Severity::Warn,
        }
        .finding(format!(
            "{} production rows of `{loc}` have shapes seen fewer than k times: withheld by disclosure \
             control, so they could not be compared with the spec's formats",
            p.shapes_overflow
        ));
        f.suggestion = Some(format!(
            "review the rare formats of {loc} in the source; lower `[masking] k` only if policy allows"
        ));
        out.push(f);
    }
}

fn rules(spec: &Spec, synth: &Profile, prod: &Profile, out: &mut Vec<Finding>) {
    for pr in &prod.rules {
        let sr = synth.rules.iter().find(|r| r.name == pr.name);
        let rule = spec.rules.iter().find(|r| r.name == pr.name);
        let table = rule.map_or("rules", |r| r.table.as_str());
        let column = rule.and_then(|r| r.column.as_deref());
        if let Some(e) = &pr.error {
            let mut f = Measure {
                kind: Kind::RuleViolation,
                table,
                column,
                metric: "rule_error",
                value: 1.0,
                threshold: 0.0,
                over: Severity::Warn,
            }
            .finding(format!("rule \"{}\": {e}", pr.name));
            f.distinguish(&pr.name);
            out.push(f);
            continue;
        }
        // A rule a scenario breaks on purpose: production rows breaking it are the case the
        // spec plants, reported for information.
        let on_purpose: Vec<&str> = spec
            .scenarios
            .iter()
            .filter(|s| s.breaks.iter().any(|b| b == &pr.name))
            .map(|s| s.name.as_str())
            .collect();
        let mut f = Measure {
            kind: Kind::RuleViolation,
            table,
            column,
            metric: "violations",
            value: pr.violations as f64,
            threshold: 0.0,
            over: if on_purpose.is_empty() {
                Severity::Fail
            } else {
                Severity::Info
            },
        }
        .finding(if on_purpose.is_empty() {
            format!(
                "rule \"{}\": {} violating rows in the production sample",
                pr.name, pr.violations
            )
        } else {
            format!(
                "rule \"{}\": {} production rows break it, as scenario `{}` plants on purpose",
                pr.name,
                pr.violations,
                on_purpose.join("`, `")
            )
        });
        f.details.insert("rule".into(), json!(pr.name));
        f.distinguish(&pr.name);
        if !pr.examples.is_empty() {
            f.details.insert("examples".into(), json!(pr.examples));
            f.suggestion = Some(format!(
                "production breaks \"{}\": fix the data, or relax the rule and generate such rows as a scenario",
                pr.name
            ));
        }
        out.push(f);
        if let Some(sr) = sr
            && sr.violations > 0
            && on_purpose.is_empty()
        {
            let mut f = Measure {
                kind: Kind::RuleViolation,
                table,
                column,
                metric: "synthetic_violations",
                value: sr.violations as f64,
                threshold: 0.0,
                over: Severity::Warn,
            }
            .finding(format!(
                "rule \"{}\": the spec's own synthetic data breaks it in {} rows",
                sr.name, sr.violations
            ));
            f.distinguish(&pr.name);
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(rows: u64, distinct: u64) -> ColumnProfile {
        ColumnProfile {
            name: "c".into(),
            logical_type: crate::spec::LogicalType::Text,
            mask: MaskMethod::Hash,
            rows,
            nulls: 0,
            distinct,
            type_errors: 0,
            numeric: None,
            categories: None,
            text: None,
            out_of_range: None,
            range_hint: None,
            histogram: None,
            distinct_sketch: None,
            calendar: None,
            sentinels: Default::default(),
        }
    }

    #[test]
    fn cardinality_is_compared_on_masked_columns() {
        let mut out = Vec::new();
        cardinality("t", "email", &column(500, 500), &column(400, 396), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric, "duplicate_values");
        assert!(
            out[0].message.starts_with("4 production rows"),
            "{}",
            out[0].message
        );
        cardinality("t", "code", &column(500, 12), &column(400, 390), &mut out);
        assert_eq!(out[1].metric, "cardinality_ratio");
        cardinality("t", "same", &column(500, 12), &column(400, 11), &mut out);
        assert_eq!(out.len(), 2, "like for like: nothing");
    }

    #[test]
    fn numbers_and_dates_stored_as_text_are_named() {
        use crate::profile::text::TextStats;
        let (mut s, mut p) = (TextStats::default(), TextStats::default());
        for i in 0..40 {
            s.add(&format!("item-{i}"));
            p.add(&format!("{}.50", i * 3));
        }
        p.add("2024-01-02");
        let mut out = Vec::new();
        typed_as_text("t", "c", &s, &p, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].metric, "numbers_as_text");
        assert_eq!(out[0].severity, Severity::Warn);
        assert_eq!(p.date_like, 1);
    }

    #[test]
    fn shapes_become_formats_that_produce_them() {
        assert_eq!(
            shape_to_format("(999) 999-9999").as_deref(),
            Some("(###) ###-####")
        );
        assert_eq!(shape_to_format("A-99999").as_deref(), Some("?-#####"));
        assert_eq!(shape_to_format("a#9").as_deref(), Some("@\\##"));
        assert_eq!(
            shape_to_format("Aa*a"),
            None,
            "non-ASCII symbols cannot be written"
        );
    }
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, Normal};

    fn sample(n: usize, mean: f64, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let d = Normal::new(mean, 1.0).expect("valid");
        (0..n)
            .map(|_| d.sample(&mut rng) + rng.random::<f64>() * 1e-9)
            .collect()
    }

    fn ks_verdict(n: usize, shift: f64) -> Severity {
        let mut out = Vec::new();
        let gate = crate::spec::Gate::default();
        numeric_distribution(
            "t",
            "c",
            &sample(n, 0.0, 1),
            &sample(n, shift, 2),
            (n, n),
            None,
            &gate,
            &Support::independent(&gate),
            &mut out,
        );
        out.iter()
            .find(|f| f.metric == "ks_adjusted")
            .expect("a KS finding")
            .severity
    }

    #[test]
    fn the_gate_does_not_flip_with_sample_size() {
        // Same population: small and large samples both pass, although at n = 100 000 the
        // raw p-value of even a negligible difference would be tiny.
        for n in [100, 1_000, 100_000] {
            assert_eq!(ks_verdict(n, 0.0), Severity::Info, "n = {n}, no shift");
            assert_eq!(
                ks_verdict(n, 0.02),
                Severity::Info,
                "n = {n}, negligible shift"
            );
        }
        // A real shift (KS distance about 0.38) fails at every size.
        for n in [200, 1_000, 100_000] {
            assert_eq!(
                ks_verdict(n, 1.0),
                Severity::Fail,
                "n = {n}, shift of one sd"
            );
        }
    }
}
