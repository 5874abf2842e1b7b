//! One column profiled batch by batch: [`ColumnAcc`] is fed the column's rows in slices of any
//! size and gives the same [`ColumnProfile`] (and the same pair, association and comparison
//! inputs) for one slice of every row as for slices of one row.
//!
//! Takes Polars series (one batch each); gives plain profile types. What it holds between
//! batches is bounded by the column's distinct values (category counts, shapes, the distinct
//! set) plus, for measured columns only, the values themselves (exact quantiles, the pair
//! statistics and the exact two-sample tests need them); a text column is never held whole.
//! Must never hold a raw value of a masked column beyond its batch.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::acc::{DistinctSet, Moments};
use super::order;
use super::sketch::{self, DistinctBuilder};
use super::text::{self, TextStats};
use super::{Categories, ColumnProfile, MAX_CATEGORIES, MAX_CATEGORY_VALUES, NumericStats};
use crate::dataset::{Dataset, ExtractedColumn};
use crate::frame;
use crate::mask::scan::Declared;
use crate::spec::{LogicalType, MaskMethod, Spec};

/// What profiling one column gives: its profile, and what the table-level statistics and the
/// exact comparisons need of it.
#[derive(Default)]
pub struct ColumnOut {
    pub profile: Option<ColumnProfile>,
    /// Every row's value as `f64` (NaN for null), for the pair statistics.
    pub aligned: Option<Vec<f64>>,
    /// Every row's category (its rank among the column's), for the associations.
    pub categorical: Option<Vec<Option<u32>>>,
    /// The finite values, sorted, for the exact comparisons.
    pub sample: Option<Vec<f64>>,
}

/// A measured (numeric or timestamp) column's values and what is counted as they arrive.
struct Measured {
    /// Row-aligned values for the pairs; `None` for identifiers.
    aligned: Option<Vec<f64>>,
    values: Vec<f64>,
    moments: Moments,
    range: Option<(f64, f64)>,
    outside: u64,
}

/// Categories counted while the column has few enough values (or declares them).
struct Counted {
    /// Count and first-seen id per value.
    counts: HashMap<String, (u64, u32)>,
    /// Each row's first-seen id, for the associations (columns declaring categories only).
    rows: Option<Vec<Option<u32>>>,
}

pub struct ColumnAcc<'a> {
    name: String,
    ty: LogicalType,
    mask: MaskMethod,
    meta: Option<&'a ExtractedColumn>,
    spec_col: Option<&'a crate::spec::Column>,
    k: u64,
    rows: u64,
    nulls: u64,
    distinct: DistinctSet,
    /// Distinct values are counted from the sorted values at the end rather than hashed as
    /// they come (measured columns, whose values are kept and sorted anyway), while every
    /// value is exact as a double; the kinds of non-finite value seen (NaN, +inf, -inf).
    by_sort: Option<[bool; 3]>,
    sketch: DistinctBuilder<'a>,
    measured: Option<Measured>,
    text: Option<(text::TextAcc, Option<Declared>)>,
    counted: Option<Counted>,
    declared: Option<Vec<&'a str>>,
}

impl<'a> ColumnAcc<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        spec: &'a Spec,
        ds: &'a Dataset,
        st: Option<&'a crate::spec::Table>,
        table: &str,
        name: &str,
        dtype: &DataType,
        k: u64,
        mask_key: Option<&'a crate::mask::MaskKey>,
    ) -> ColumnAcc<'a> {
        let meta = ds.column(table, name);
        let mask = meta.map_or(MaskMethod::Keep, |m| m.method);
        let spec_col = st.and_then(|t| t.column(name));
        // The spec's type where masking kept it (a UUID is text to Polars), else the data's.
        let ty = match spec_col {
            Some(c) if mask.keeps_type() => c
                .logical_type(spec)
                .unwrap_or_else(|| frame::logical_type(dtype)),
            _ => frame::logical_type(dtype),
        };
        let declared = spec_col.and_then(|c| c.categories());
        let measured = (mask == MaskMethod::Keep && ty.is_measured()).then(|| Measured {
            aligned: (!spec_col.is_some_and(|c| c.is_identifier())).then(Vec::new),
            values: Vec::new(),
            moments: Moments::default(),
            range: spec_col
                .and_then(|c| c.declared_range())
                .map(|(lo, hi)| (lo.unwrap_or(f64::NEG_INFINITY), hi.unwrap_or(f64::INFINITY))),
            outside: 0,
        });
        let raw_text = meta.is_some_and(|m| m.raw_text.is_some());
        let text = (ty.is_textual() && !raw_text).then(|| {
            let d = spec_col.map(Declared::of).filter(|d| !d.is_empty());
            (text::TextAcc::default(), d)
        });
        // A PII column shows no values on either side: synthetic names or e-mails can equal
        // real ones, and the leak check would rightly stop the run.
        let pii = spec_col.is_some_and(|c| c.pii.is_some());
        let textual = ty == LogicalType::Text || ty == LogicalType::Bool;
        let counted =
            (mask == MaskMethod::Keep && textual && (!pii || declared.is_some())).then(|| {
                Counted {
                    counts: HashMap::new(),
                    rows: declared.is_some().then(Vec::new),
                }
            });
        ColumnAcc {
            name: name.to_string(),
            ty,
            mask,
            meta,
            spec_col,
            k,
            rows: 0,
            nulls: 0,
            distinct: DistinctSet::default(),
            by_sort: (measured.is_some() && exact_key(dtype).is_some()).then_some([false; 3]),
            sketch: DistinctBuilder::new(mask_key),
            measured,
            text,
            counted,
            declared,
        }
    }

    /// Adds the next rows of the column.
    pub fn feed(&mut self, batch: &Series) -> anyhow::Result<()> {
        // Booleans are profiled as the categories `false` and `true`.
        let as_text;
        let s = if self.ty == LogicalType::Bool {
            as_text = batch.cast(&DataType::String)?;
            &as_text
        } else {
            batch
        };
        self.rows += s.len() as u64;
        self.nulls += s.null_count() as u64;
        let numeric_like = s.dtype().is_primitive_numeric()
            || matches!(
                s.dtype(),
                DataType::Date | DataType::Datetime(..) | DataType::Decimal(..)
            );
        if numeric_like {
            let f = as_f64(s)?;
            self.count_distinct_numbers(s, &f)?;
            f.iter().flatten().for_each(|v| self.sketch.add_number(v));
            if let Some(m) = &mut self.measured {
                m.add(f.iter().map(|v| v.unwrap_or(f64::NAN)));
            }
        }
        let as_str;
        let text = match s.dtype() {
            DataType::String => Some(s.str()?),
            _ if !numeric_like || self.counted.is_some() => {
                as_str = s.cast(&DataType::String)?;
                Some(as_str.str()?)
            }
            _ => None,
        };
        let Some(ca) = text else { return Ok(()) };
        if !numeric_like {
            for v in ca.iter().flatten() {
                self.distinct.add_text(v);
                self.sketch.add_text(v);
            }
        }
        // Text statistics are of text as stored: a column the spec calls text that holds numbers
        // has no shapes to show.
        if let Some((acc, declared)) = &mut self.text
            && s.dtype() == &DataType::String
        {
            match declared {
                Some(d) => {
                    let of_one = |v: &str| d.matches(v);
                    ca.iter()
                        .flatten()
                        .for_each(|v| acc.add_declared(v, &of_one));
                }
                None => ca.iter().flatten().for_each(|v| acc.add(v)),
            }
        }
        if let Some(c) = &mut self.counted {
            for v in ca.iter() {
                let id = v.map(|v| match c.counts.get_mut(v) {
                    Some(e) => {
                        e.0 += 1;
                        e.1
                    }
                    None => {
                        let id = c.counts.len() as u32;
                        c.counts.insert(v.to_string(), (1, id));
                        id
                    }
                });
                if let Some(rows) = &mut c.rows {
                    rows.push(id);
                }
            }
            // Past this many values an undeclared column is not categorical: stop counting,
            // as the whole column would not have been counted.
            if self.declared.is_none() && c.counts.len() > MAX_CATEGORIES {
                self.counted = None;
            }
        }
        Ok(())
    }

    /// Counts a numeric batch's distinct values: exactly, by keys that never round (integers
    /// and instants as integers, floats by their bits), or from the sorted values at the end
    /// while they are all exact as doubles.
    fn count_distinct_numbers(&mut self, s: &Series, f: &Float64Chunked) -> anyhow::Result<()> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        let key = exact_key(s.dtype());
        if let (Some(kinds), Some(key)) = (&mut self.by_sort, key) {
            if key == Key::Float {
                for v in f.iter().flatten().filter(|v| !v.is_finite()) {
                    kinds[if v.is_nan() {
                        0
                    } else if v > 0.0 {
                        1
                    } else {
                        2
                    }] = true;
                }
                return Ok(());
            }
            if f.iter().flatten().all(|v| v.abs() < EXACT) {
                return Ok(());
            }
            // A value no double holds exactly: hash from here on. Every value kept so far was
            // exact, so the kept values are the keys of the rows before this batch.
            self.by_sort = None;
            if let Some(m) = &self.measured {
                m.values
                    .iter()
                    .for_each(|v| self.distinct.add_i128(*v as i128));
            }
        }
        match (key, s.dtype()) {
            (Some(Key::Float), _) => f.iter().flatten().for_each(|v| self.distinct.add_f64(v)),
            (Some(Key::Int), DataType::UInt64) => s
                .u64()?
                .iter()
                .flatten()
                .for_each(|v| self.distinct.add_i128(i128::from(v))),
            (Some(Key::Int), _) => s
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .flatten()
                .for_each(|v| self.distinct.add_i128(i128::from(v))),
            (Some(Key::Micros), _) => s
                .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .flatten()
                .for_each(|v| self.distinct.add_i128(i128::from(v))),
            (None, DataType::Decimal(..)) => {
                let t = s.cast(&DataType::String)?;
                t.str()?
                    .iter()
                    .flatten()
                    .for_each(|v| self.distinct.add_text(v));
            }
            (None, _) => s
                .to_physical_repr()
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .flatten()
                .for_each(|v| self.distinct.add_i128(i128::from(v))),
        }
        Ok(())
    }

    pub fn finish(mut self) -> anyhow::Result<ColumnOut> {
        let mut out = ColumnOut::default();
        let k = self.k;
        // Sorted once here, in parallel across columns: distinct counts, quantiles and extremes
        // read it, and every statistic comparisons take of a sample is of its values as a
        // multiset.
        let measured = self.measured.take().map(|mut m| {
            m.values = order::sort_f64(std::mem::take(&mut m.values));
            m
        });
        let distinct = match (self.by_sort, &measured) {
            (Some(kinds), Some(m)) => {
                let finite = m.values.windows(2).filter(|w| w[0] != w[1]).count() as u64
                    + u64::from(!m.values.is_empty());
                finite + kinds.iter().filter(|k| **k).count() as u64
            }
            _ => self.distinct.len(),
        };
        let mut cp = ColumnProfile {
            name: self.name,
            logical_type: self.meta.map_or(self.ty, |m| m.logical_type),
            mask: self.mask,
            rows: self.rows,
            nulls: self.nulls,
            distinct,
            type_errors: self.meta.map_or(0, |m| m.type_errors),
            numeric: None,
            categories: None,
            text: None,
            out_of_range: None,
            range_hint: None,
            histogram: None,
            distinct_sketch: (distinct > 0).then(|| self.sketch.finish()),
            calendar: None,
            sentinels: BTreeMap::new(),
        };
        if let Some(m) = measured {
            let temporal = self.ty.is_temporal();
            let values = m.values;
            if m.range.is_some() {
                cp.out_of_range = Some(m.outside);
                if let (true, Some(min), Some(max)) = (m.outside > 0, values.first(), values.last())
                {
                    cp.range_hint = Some(super::range_hint(*min, *max, temporal));
                }
            }
            out.aligned = m.aligned;
            cp.histogram = sketch::Histogram::of(&values).and_then(|h| h.pool(k));
            if temporal {
                cp.calendar = Some(sketch::CalendarCounts::of(&values, k));
            }
            for (v, label) in super::sentinel_candidates(temporal) {
                // The values are sorted: a candidate's rows are one run, found by two searches.
                let n = (values.partition_point(|x| *x <= v) - values.partition_point(|x| *x < v))
                    as u64;
                if n > 0 && n >= k {
                    cp.sentinels.insert(label, n);
                }
            }
            cp.numeric = stats_of_sorted(&values, &m.moments, k);
            out.sample = Some(values);
        }
        if let Some(raw) = self.meta.and_then(|m| m.raw_text.clone()) {
            let mut t: TextStats = raw;
            t.suppress_rare(k);
            cp.text = Some(t);
        } else if let Some((acc, _)) = self.text {
            let mut t = acc.finish();
            t.suppress_rare(k);
            cp.text = Some(t);
        }
        if let Some(c) = self.counted {
            let pii = self.spec_col.is_some_and(|c| c.pii.is_some());
            let mut ranked: Vec<(String, u64, u32)> = c
                .counts
                .into_iter()
                .map(|(v, (n, id))| (v, n, id))
                .collect();
            if let Some(rows) = c.rows {
                // Each row's rank among the column's sorted categories: a number a row, not a
                // string, and the associations sum in the categories' order.
                ranked.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                let mut rank_of = vec![0u32; ranked.len()];
                for (rank, (_, _, id)) in ranked.iter().enumerate() {
                    rank_of[*id as usize] = rank as u32;
                }
                out.categorical = Some(
                    rows.into_iter()
                        .map(|id| id.map(|i| rank_of[i as usize]))
                        .collect(),
                );
            }
            if !pii {
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut cats = Categories::default();
                if let Some(d) = &self.declared {
                    cats.undeclared_rows = Some(
                        ranked
                            .iter()
                            .filter(|(v, _, _)| !d.contains(&v.as_str()))
                            .map(|(_, n, _)| n)
                            .sum(),
                    );
                }
                for (v, n, _) in ranked {
                    if n >= k && cats.values.len() < MAX_CATEGORY_VALUES {
                        cats.values.insert(v, n);
                    } else {
                        cats.withheld_rows += n;
                        cats.withheld_values += 1;
                    }
                }
                cp.categories = Some(cats);
            }
        }
        out.profile = Some(cp);
        Ok(out)
    }
}

impl Measured {
    fn add(&mut self, aligned: impl Iterator<Item = f64>) {
        for v in aligned {
            if let Some(a) = &mut self.aligned {
                a.push(v);
            }
            if !v.is_finite() {
                continue;
            }
            self.values.push(v);
            self.moments.add(v);
            if let Some((lo, hi)) = self.range
                && (v < lo || v > hi)
            {
                self.outside += 1;
            }
        }
    }
}

/// How a numeric column's values are keyed for exact distinct counting.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    /// By their bits (one key for 0.0 and -0.0, and for every NaN).
    Float,
    /// As integers.
    Int,
    /// As microseconds since the epoch, the unit `as_f64` gives them in.
    Micros,
}

/// The key of a column whose `as_f64` values are exact while below 2^53; `None` for the rest
/// (decimals, nanosecond instants), keyed by text or physical value.
fn exact_key(d: &DataType) -> Option<Key> {
    use DataType as D;
    match d {
        D::Float32 | D::Float64 => Some(Key::Float),
        D::Int8 | D::Int16 | D::Int32 | D::Int64 => Some(Key::Int),
        D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => Some(Key::Int),
        D::Date | D::Datetime(TimeUnit::Microseconds | TimeUnit::Milliseconds, _) => {
            Some(Key::Micros)
        }
        _ => None,
    }
}

/// A numeric or timestamp column's values as `f64` (timestamps as microseconds since the epoch).
fn as_f64(s: &Series) -> anyhow::Result<Float64Chunked> {
    let s = match s.dtype() {
        DataType::Datetime(..) | DataType::Date => s
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
            .cast(&DataType::Int64)?,
        _ => s.clone(),
    };
    Ok(s.cast(&DataType::Float64)?.f64()?.clone())
}

/// Count, extremes, exact mean and deviation, and quantiles of sorted finite values. Under
/// disclosure control (`k > 1`) the extremes are the k-th smallest and largest values (a single
/// row's value is never printed), quantiles are clamped between them, and a column with fewer
/// than `2k` values shows no statistics at all.
pub fn stats_of_sorted(sorted: &[f64], moments: &Moments, k: u64) -> Option<NumericStats> {
    let k = k.max(1) as usize;
    if sorted.is_empty() || sorted.len() < 2 * k && k > 1 {
        return None;
    }
    let (lo, hi) = (sorted[k - 1], sorted[sorted.len() - k]);
    let (mean, std) = if moments.exact() {
        (moments.mean(), moments.std())
    } else {
        // Squares (or the sum) beyond the largest double: the same exact sums over the values
        // scaled by a power of two (exact, but for values below about 1e-143, whose share of
        // such a column's moments is nil), in sorted order, so still the same for any batches.
        const SCALE: i32 = 600;
        let mut m = Moments::default();
        let down = 2f64.powi(-SCALE);
        sorted.iter().for_each(|v| m.add(v * down));
        let up = 2f64.powi(SCALE);
        (m.mean() * up, (m.std() * up).min(f64::MAX))
    };
    Some(NumericStats {
        count: sorted.len() as u64,
        min: lo,
        max: hi,
        mean,
        std,
        quantiles: super::QUANTILES
            .iter()
            .map(|q| (*q, super::quantile_sorted(sorted, *q).clamp(lo, hi)))
            .collect(),
        sums: Some(moments.sums()),
    })
}
