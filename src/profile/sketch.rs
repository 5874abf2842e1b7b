//! Mergeable summaries a profile carries so that two profiles can be compared with no data at
//! hand (`drift`) and partition profiles can be merged (`merge`).
//!
//! Takes plain values (`f64`s: numbers, and timestamps as microseconds since the epoch; strings
//! for distinct counts); gives serde types whose merge is defined here. No Polars.
//!
//! - [`Histogram`]: counts over bins of width `2^exp` aligned on multiples of the width, the
//!   smallest width that fits the data in [`MAX_BINS`] bins. Bin edges depend only on the data's
//!   range, so the histogram of a union equals the merge of its parts' histograms exactly. The
//!   CDF is exact at every bin edge; inside a bin it is only known to lie between the edges'
//!   values, which is the stated error ([`Histogram::ks_bounds`]).
//! - [`Distinct`]: an Apache DataSketches HyperLogLog (lg k = 12, relative standard error 1.6 %);
//!   registers hold hash-derived coupons (of keyed tokens, for production), never values.
//! - Calendar counts and children-per-parent counts: exact counts per fixed bin.
//!
//! Must never hold a production value seen fewer than `k` times: a histogram of production data
//! pools every bin under `k` rows into its neighbour ([`Histogram::pool`]) and records how many
//! rows moved, which widens the stated error by that share.

use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};

/// Bins a histogram may use; the width doubles until the data fits.
pub const MAX_BINS: i64 = 2048;
/// The finest width (2^-20 ≈ 1e-6): a constant column needs some width.
const MIN_EXP: i32 = -20;
/// The coarsest width any finite `f64` range needs.
const MAX_EXP: i32 = 1100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bins are `[i * 2^exp, (i + 1) * 2^exp)`.
    pub exp: i32,
    /// Index of the first bin in `counts`.
    pub first: i64,
    pub counts: Vec<u64>,
    /// Rows moved into a neighbouring bin by disclosure control (0 for synthetic data).
    #[serde(default)]
    pub pooled: u64,
}

fn width(exp: i32) -> f64 {
    2f64.powi(exp)
}

fn bin_of(x: f64, exp: i32) -> i64 {
    (x / width(exp)).floor() as i64
}

/// `i` at width `2^from` as a bin at the coarser width `2^to`.
fn rebin(i: i64, from: i32, to: i32) -> i64 {
    let shift = (to - from) as u32;
    if shift >= 63 {
        if i < 0 { -1 } else { 0 }
    } else {
        i.div_euclid(1i64 << shift)
    }
}

impl Histogram {
    /// The histogram of the finite values among `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Histogram> {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if lo > hi {
            return None;
        }
        let mut exp = MIN_EXP;
        if hi > lo {
            // Start just below the width that fits, then step up: the smallest width that fits
            // is a function of the range alone, which is what makes merges exact.
            let guess = ((hi - lo) / MAX_BINS as f64).log2().floor() as i32 - 1;
            exp = guess.clamp(MIN_EXP, MAX_EXP);
        }
        while exp < MAX_EXP && bin_of(hi, exp).saturating_sub(bin_of(lo, exp)) >= MAX_BINS {
            exp += 1;
        }
        let first = bin_of(lo, exp);
        let mut counts = vec![0u64; (bin_of(hi, exp) - first + 1) as usize];
        for v in values.iter().filter(|v| v.is_finite()) {
            counts[(bin_of(*v, exp) - first) as usize] += 1;
        }
        Some(Histogram {
            exp,
            first,
            counts,
            pooled: 0,
        })
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The lower edge of bin `i` (index into `counts`).
    pub fn edge(&self, i: usize) -> f64 {
        (self.first + i as i64) as f64 * width(self.exp)
    }

    /// This histogram at the coarser width `2^exp`.
    fn at(&self, exp: i32) -> Histogram {
        if exp == self.exp {
            return self.clone();
        }
        let first = rebin(self.first, self.exp, exp);
        let last = rebin(self.first + self.counts.len() as i64 - 1, self.exp, exp);
        let mut counts = vec![0u64; (last - first + 1) as usize];
        for (i, c) in self.counts.iter().enumerate() {
            counts[(rebin(self.first + i as i64, self.exp, exp) - first) as usize] += c;
        }
        Histogram {
            exp,
            first,
            counts,
            pooled: self.pooled,
        }
    }

    /// The histogram of both parts' rows: exactly the histogram of their union when neither
    /// was pooled.
    pub fn merge(&self, other: &Histogram) -> Histogram {
        let mut exp = self.exp.max(other.exp);
        loop {
            let (a, b) = (self.at(exp), other.at(exp));
            let first = a.first.min(b.first);
            let last = (a.first + a.counts.len() as i64).max(b.first + b.counts.len() as i64) - 1;
            if last - first >= MAX_BINS && exp < MAX_EXP {
                exp += 1;
                continue;
            }
            let mut counts = vec![0u64; (last - first + 1) as usize];
            for h in [&a, &b] {
                for (i, c) in h.counts.iter().enumerate() {
                    counts[(h.first - first) as usize + i] += c;
                }
            }
            return Histogram {
                exp,
                first,
                counts,
                pooled: self.pooled + other.pooled,
            };
        }
    }

    /// Disclosure control: every non-empty bin holds at least `k` rows. Bins under `k` are
    /// carried upward into the next bin until the carried rows reach `k`; a remainder at the top
    /// joins the highest kept bin. Every moved row is counted in `pooled`.
    pub fn pool(mut self, k: u64) -> Option<Histogram> {
        if k <= 1 {
            return Some(self);
        }
        if self.total() < k {
            return None;
        }
        let mut carry = 0u64;
        let mut carried_rows = 0u64;
        let mut last_kept = None;
        for i in 0..self.counts.len() {
            let c = self.counts[i];
            if carry + c >= k {
                self.counts[i] = carry + c;
                self.pooled += carried_rows;
                carry = 0;
                carried_rows = 0;
                last_kept = Some(i);
            } else {
                carry += c;
                carried_rows += c;
                self.counts[i] = 0;
            }
        }
        if carry > 0 {
            let i = last_kept?;
            self.counts[i] += carry;
            self.pooled += carried_rows;
        }
        // Trim empty bins at both ends, so the range shown starts and ends in a bin of k rows.
        let start = self.counts.iter().position(|c| *c > 0).unwrap_or(0);
        let end = self
            .counts
            .iter()
            .rposition(|c| *c > 0)
            .map_or(0, |e| e + 1);
        self.counts = self.counts[start..end].to_vec();
        self.first += start as i64;
        Some(self)
    }

    /// Points spread evenly inside each bin, as many per bin as its share of `cap` (largest
    /// remainders first, so the total is exact): a sample whose empirical CDF equals the
    /// histogram's at every edge, for the statistics written for exact samples.
    pub fn quasi_sample(&self, cap: usize) -> Vec<f64> {
        let n = self.total();
        if n == 0 {
            return vec![];
        }
        let target = (n as usize).min(cap.max(1));
        let scale = target as f64 / n as f64;
        let mut take: Vec<(usize, usize, f64)> = self
            .counts
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let exact = *c as f64 * scale;
                (i, exact.floor() as usize, exact - exact.floor())
            })
            .collect();
        let short = target - take.iter().map(|t| t.1).sum::<usize>();
        let mut order: Vec<usize> = (0..take.len()).collect();
        order.sort_by(|a, b| take[*b].2.total_cmp(&take[*a].2).then(a.cmp(b)));
        for i in order.into_iter().take(short) {
            take[i].1 += 1;
        }
        let w = width(self.exp);
        let mut out = Vec::with_capacity(target);
        for (i, m, _) in take {
            let lo = self.edge(i);
            for j in 0..m {
                out.push(lo + w * (j as f64 + 0.5) / m as f64);
            }
        }
        out
    }

    /// Cumulative shares at every edge of a common grid: `(edges, F(edge))` with `F` the share
    /// of rows below the edge.
    fn cdf_on(&self, exp: i32, first: i64, bins: usize) -> Vec<f64> {
        let h = self.at(exp);
        let n = h.total().max(1) as f64;
        let mut cdf = Vec::with_capacity(bins + 1);
        let mut acc = 0u64;
        for b in 0..=bins {
            cdf.push(acc as f64 / n);
            if b < bins {
                let i = first + b as i64 - h.first;
                if i >= 0 && (i as usize) < h.counts.len() {
                    acc += h.counts[i as usize];
                }
            }
        }
        cdf
    }

    /// Bounds on the two-sample KS statistic of the data behind two histograms: the lower bound
    /// is the largest CDF gap at a common bin edge (where both CDFs are exact), the upper bound
    /// the largest gap any placement of the rows inside their bins could make. Rows moved by
    /// disclosure control widen both by their share.
    pub fn ks_bounds(&self, other: &Histogram) -> (f64, f64) {
        let exp = self.exp.max(other.exp);
        let (a, b) = (self.at(exp), other.at(exp));
        let first = a.first.min(b.first);
        let last = (a.first + a.counts.len() as i64).max(b.first + b.counts.len() as i64);
        let bins = (last - first) as usize;
        let (fa, fb) = (a.cdf_on(exp, first, bins), b.cdf_on(exp, first, bins));
        let mut lower: f64 = 0.0;
        let mut upper: f64 = 0.0;
        for i in 0..=bins {
            lower = lower.max((fa[i] - fb[i]).abs());
            if i < bins {
                upper = upper
                    .max((fa[i + 1] - fb[i]).abs())
                    .max((fb[i + 1] - fa[i]).abs());
            }
        }
        let moved = self.pooled as f64 / self.total().max(1) as f64
            + other.pooled as f64 / other.total().max(1) as f64;
        ((lower - moved).max(0.0), (upper + moved).min(1.0))
    }
}

/// A distinct-count sketch (HyperLogLog, lg k = 12, 4-bit registers): its DataSketches serialization, one byte a
/// character as the Braille pattern U+2800 + byte. Compact in JSON, and no real value is spelled
/// in Braille patterns, so the leak check's search for raw values in every artifact never trips
/// on a sketch by coincidence (as digits inside a hex string could). For production data the sketch is fed keyed HMAC tokens of the values, never the values, and
/// records the key's fingerprint: only sketches made under one key merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distinct {
    pub hll: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
}

/// Relative standard error of [`Distinct`] at lg k = 12 (1.04 / sqrt(4096)).
pub const DISTINCT_RSE: f64 = 0.01625;
const LG_K: u8 = 12;

impl Distinct {
    /// The sketch of some text values at once (profiling feeds a [`DistinctBuilder`] batch by
    /// batch instead).
    #[cfg(test)]
    pub fn of<'a>(
        values: impl Iterator<Item = &'a str>,
        key: Option<&crate::mask::MaskKey>,
    ) -> Distinct {
        let mut b = DistinctBuilder::new(key);
        values.for_each(|v| b.add_text(v));
        b.finish()
    }

    fn empty() -> datasketches::hll::HllSketch {
        #[allow(clippy::expect_used)]
        datasketches::hll::HllSketch::new(LG_K, datasketches::hll::HllType::Hll4)
            .expect("lg k 12 is in the supported range")
    }

    fn encode(s: &datasketches::hll::HllSketch, key_fingerprint: Option<String>) -> Distinct {
        Distinct {
            hll: s
                .serialize()
                .iter()
                .filter_map(|b| char::from_u32(0x2800 + u32::from(*b)))
                .collect(),
            key_fingerprint,
        }
    }

    fn decode(&self) -> anyhow::Result<datasketches::hll::HllSketch> {
        let bytes = self
            .hll
            .chars()
            .map(|c| {
                u8::try_from(u32::from(c).wrapping_sub(0x2800)).map_err(|_| {
                    anyhow::anyhow!(
                        "a distinct-count sketch holds a character that is not a Braille pattern"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<u8>>>()?;
        datasketches::hll::HllSketch::deserialize(&bytes)
            .map_err(|e| anyhow::anyhow!("a distinct-count sketch does not decode: {e}"))
    }

    pub fn estimate(&self) -> anyhow::Result<f64> {
        Ok(self.decode()?.estimate())
    }

    /// The sketch of both parts' values; `None` when they were made under different keys
    /// (their tokens of one value differ, so a union would count it twice).
    pub fn merge(&self, other: &Distinct) -> anyhow::Result<Option<Distinct>> {
        if self.key_fingerprint != other.key_fingerprint {
            return Ok(None);
        }
        let mut u = datasketches::hll::HllUnion::new(LG_K)
            .map_err(|e| anyhow::anyhow!("distinct-count union: {e}"))?;
        u.update(&self.decode()?);
        u.update(&other.decode()?);
        Ok(Some(Self::encode(
            &u.to_sketch(datasketches::hll::HllType::Hll4),
            self.key_fingerprint.clone(),
        )))
    }
}

/// A [`Distinct`] fed value by value, batch after batch.
pub struct DistinctBuilder<'k> {
    sketch: datasketches::hll::HllSketch,
    key: Option<&'k crate::mask::MaskKey>,
}

impl<'k> DistinctBuilder<'k> {
    pub fn new(key: Option<&'k crate::mask::MaskKey>) -> Self {
        DistinctBuilder {
            sketch: Distinct::empty(),
            key,
        }
    }

    pub fn add_text(&mut self, v: &str) {
        match self.key {
            Some(k) => self.sketch.update(crate::mask::distinct_token(k, v)),
            None => self.sketch.update(v),
        }
    }

    pub fn add_number(&mut self, v: f64) {
        // One bit pattern for 0.0 and -0.0, as they are one value.
        let bits = if v == 0.0 { 0u64 } else { v.to_bits() };
        match self.key {
            Some(k) => self
                .sketch
                .update(crate::mask::distinct_token_bytes(k, &bits.to_le_bytes())),
            None => self.sketch.update(bits),
        }
    }

    pub fn finish(self) -> Distinct {
        Distinct::encode(&self.sketch, self.key.map(|k| k.fingerprint()))
    }
}

/// One calendar view of timestamps (microseconds since the epoch, UTC).
#[derive(Clone, Copy)]
pub enum Calendar {
    Hour,
    Weekday,
    DayOfMonth,
    Month,
}

impl Calendar {
    pub const ALL: [Calendar; 4] = [
        Calendar::Hour,
        Calendar::Weekday,
        Calendar::DayOfMonth,
        Calendar::Month,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Calendar::Hour => "hour_of_day",
            Calendar::Weekday => "weekday",
            Calendar::DayOfMonth => "day_of_month",
            Calendar::Month => "month",
        }
    }

    pub fn bins(self) -> usize {
        match self {
            Calendar::Hour => 24,
            Calendar::Weekday => 7,
            Calendar::DayOfMonth => 31,
            Calendar::Month => 12,
        }
    }

    pub fn counts(self, micros: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; self.bins()];
        for m in micros {
            let Some(t) = chrono::DateTime::from_timestamp_micros(*m as i64) else {
                continue;
            };
            let i = match self {
                Calendar::Hour => t.hour() as usize,
                Calendar::Weekday => t.weekday().num_days_from_monday() as usize,
                Calendar::DayOfMonth => t.day0() as usize,
                Calendar::Month => t.month0() as usize,
            };
            c[i] += 1.0;
        }
        c
    }
}

/// Rows per calendar bin of a timestamp column, in the order of [`Calendar::ALL`]; under
/// disclosure control a bin under `k` rows shows 0 and its rows are counted in `withheld`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CalendarCounts {
    pub hour_of_day: Vec<u64>,
    pub weekday: Vec<u64>,
    pub day_of_month: Vec<u64>,
    pub month: Vec<u64>,
    #[serde(default)]
    pub withheld: u64,
}

impl CalendarCounts {
    pub fn of(micros: &[f64], k: u64) -> CalendarCounts {
        let mut withheld = 0;
        let [hour_of_day, weekday, day_of_month, month] =
            Calendar::ALL.map(|c| withhold(&c.counts(micros), k, &mut withheld));
        CalendarCounts {
            hour_of_day,
            weekday,
            day_of_month,
            month,
            withheld,
        }
    }

    pub fn view(&self, c: Calendar) -> &[u64] {
        match c {
            Calendar::Hour => &self.hour_of_day,
            Calendar::Weekday => &self.weekday,
            Calendar::DayOfMonth => &self.day_of_month,
            Calendar::Month => &self.month,
        }
    }

    pub fn merge(&self, other: &CalendarCounts) -> CalendarCounts {
        let add = |a: &[u64], b: &[u64]| -> Vec<u64> {
            (0..a.len().max(b.len()))
                .map(|i| a.get(i).unwrap_or(&0) + b.get(i).unwrap_or(&0))
                .collect()
        };
        CalendarCounts {
            hour_of_day: add(&self.hour_of_day, &other.hour_of_day),
            weekday: add(&self.weekday, &other.weekday),
            day_of_month: add(&self.day_of_month, &other.day_of_month),
            month: add(&self.month, &other.month),
            withheld: self.withheld + other.withheld,
        }
    }
}

/// Disclosure control over counts per fixed bin: a bin under `k` rows shows 0, and its rows are
/// added to `withheld`.
pub fn withhold(counts: &[f64], k: u64, withheld: &mut u64) -> Vec<u64> {
    counts
        .iter()
        .map(|c| {
            let c = *c as u64;
            if c < k {
                *withheld += c;
                0
            } else {
                c
            }
        })
        .collect()
}

/// Children per parent at or above this count share one bin.
pub const MAX_CHILDREN_BIN: usize = 10;

/// Counts per bin, the last bin `>= MAX_CHILDREN_BIN`: how many parents have 0, 1, 2, ... children.
pub fn children_per_parent(parent_keys: &[f64], foreign_keys: &[f64]) -> Vec<f64> {
    let mut per: std::collections::HashMap<u64, usize> =
        parent_keys.iter().map(|k| (k.to_bits(), 0)).collect();
    for fk in foreign_keys {
        if let Some(n) = per.get_mut(&fk.to_bits()) {
            *n += 1;
        }
    }
    let mut bins = vec![0.0; MAX_CHILDREN_BIN + 1];
    for n in per.values() {
        bins[(*n).min(MAX_CHILDREN_BIN)] += 1.0;
    }
    bins
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64, n: usize) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // A skewed, partly discrete mix: what real columns look like.
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                if u < 0.2 {
                    (u * 50.0).floor()
                } else {
                    (u * 7.0).exp() * 13.0 - 400.0
                }
            })
            .collect()
    }

    #[test]
    fn merged_parts_equal_the_whole_exactly() {
        for seed in 1..40u64 {
            let all = lcg(seed, 500 + seed as usize * 37);
            let cut = (seed as usize * 101) % all.len();
            let whole = Histogram::of(&all).expect("values");
            let (a, b) = (&all[..cut], &all[cut..]);
            let merged = match (Histogram::of(a), Histogram::of(b)) {
                (Some(x), Some(y)) => x.merge(&y),
                (Some(x), None) | (None, Some(x)) => x,
                (None, None) => unreachable!(),
            };
            assert_eq!(merged, whole, "seed {seed}, cut {cut}");
            assert!(whole.counts.len() as i64 <= MAX_BINS);
        }
    }

    #[test]
    fn ks_bounds_hold_the_exact_statistic() {
        for seed in 1..30u64 {
            let a = lcg(seed, 400);
            let b: Vec<f64> = lcg(seed + 1000, 300)
                .iter()
                .map(|v| v * 1.1 + 3.0)
                .collect();
            let exact = crate::compare::stats::ks_2samp(&a, &b).expect("ks").0;
            let (lo, hi) = Histogram::of(&a)
                .expect("a")
                .ks_bounds(&Histogram::of(&b).expect("b"));
            assert!(
                lo <= exact + 1e-12 && exact <= hi + 1e-12,
                "{lo} <= {exact} <= {hi}"
            );
        }
    }

    #[test]
    fn pooled_bins_hold_k_rows_and_keep_the_bounds() {
        let a = lcg(7, 300);
        let b = lcg(8, 300);
        let k = 5;
        let pa = Histogram::of(&a).expect("a").pool(k).expect("enough rows");
        assert!(pa.counts.iter().all(|c| *c == 0 || *c >= k));
        assert_eq!(pa.total(), 300, "pooling moves rows, never drops them");
        assert!(pa.pooled > 0, "this data has sparse tails");
        let exact = crate::compare::stats::ks_2samp(&a, &b).expect("ks").0;
        let (lo, hi) = pa.ks_bounds(&Histogram::of(&b).expect("b"));
        assert!(lo <= exact && exact <= hi, "{lo} <= {exact} <= {hi}");
        assert!(Histogram::of(&a[..4]).expect("4").pool(5).is_none());
    }

    #[test]
    fn quasi_samples_match_the_histogram_at_every_edge() {
        let a = lcg(3, 1000);
        let h = Histogram::of(&a).expect("a");
        let q = h.quasi_sample(1000);
        assert_eq!(q.len(), 1000);
        assert_eq!(
            Histogram::of(&q).map(|x| x.at(h.exp)).map(|x| x.counts),
            Some(h.counts.clone())
        );
        assert_eq!(h.quasi_sample(100).len(), 100);
    }

    #[test]
    fn distinct_counts_merge_within_the_stated_error() {
        let words: Vec<String> = (0..20_000).map(|i| format!("v{i}")).collect();
        let key = crate::mask::MaskKey::from_bytes(b"0123456789abcdef".to_vec(), "K", false);
        for key in [None, Some(&key)] {
            let a = Distinct::of(words[..12_000].iter().map(String::as_str), key);
            let b = Distinct::of(words[8_000..].iter().map(String::as_str), key);
            let m = a.merge(&b).expect("merge").expect("one key");
            let m = m.estimate().expect("estimate");
            assert!((m - 20_000.0).abs() / 20_000.0 < 3.0 * DISTINCT_RSE, "{m}");
            let small = Distinct::of(["a", "b", "a"].into_iter(), key);
            assert!((small.estimate().expect("estimate") - 2.0).abs() < 0.01);
        }
        let other = crate::mask::MaskKey::from_bytes(b"fedcba9876543210".to_vec(), "K", false);
        let a = Distinct::of(["a"].into_iter(), Some(&other));
        let b = Distinct::of(["a"].into_iter(), None);
        assert_eq!(
            a.merge(&b).expect("merge"),
            None,
            "different keys never merge"
        );
    }
}
