//! Accumulators a column's values are fed into batch by batch, whose result does not depend on
//! how the rows were cut: the same for one batch of every row, for batches of 7 rows, and (for
//! the exact sums) for partitions profiled apart and merged afterwards.
//!
//! Takes plain `f64`s; gives exact sums, moments and a distinct-value set. No Polars.
//!
//! - [`ExactSum`]: the exact sum of any number of doubles, kept as non-overlapping partials
//!   (Shewchuk's algorithm, as Python's `math.fsum`), rounded once when read. Its value does not
//!   depend on the order of the additions, so a mean computed from it is the same bits however
//!   the rows were split or merged.
//! - [`Moments`]: count, exact sum and exact sum of squares (each square split into its rounded
//!   product and the product's exact error by a fused multiply-add); the variance is read from
//!   `n·Σx² − (Σx)²` computed exactly, so it is correctly rounded before the one division.
//! - [`DistinctSet`]: exact distinct counting by 128-bit keys (numbers by their bits, text by a
//!   128-bit hash: a collision needs about 2^64 distinct values).
//!
//! Checked against Python's `math.fsum` and exact rational arithmetic in
//! `tests/fixtures/moments.json` (made by `tests/fixtures/make_moments_fixtures.py`).
//!
//! Must never hold a value in anything it serializes beyond what a mean already reveals: the
//! serialized sums are of every row, never of one.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// The exact sum of the doubles added, as non-overlapping partials in increasing magnitude.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactSum {
    partials: Vec<f64>,
}

impl ExactSum {
    /// Adds a finite `x` exactly (a non-finite `x` is the caller's to keep out).
    pub fn add(&mut self, mut x: f64) {
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    pub fn add_sum(&mut self, other: &ExactSum) {
        for p in &other.partials {
            self.add(*p);
        }
    }

    /// The exact sum rounded once to the nearest double (ties to even), as `math.fsum` does.
    pub fn value(&self) -> f64 {
        let p = &self.partials;
        let Some(mut n) = p.len().checked_sub(1) else {
            return 0.0;
        };
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // Round half-even correctly when the rest of the partials push a tie one way.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }

    /// The sum as the shortest list of doubles that adds up to it exactly, largest first, each
    /// the rounded value of what the earlier ones leave: one list per exact value, whatever
    /// order the additions came in, so a serialized sum is the same for any split of the rows.
    pub fn canonical(&self) -> Vec<f64> {
        let mut rest = self.clone();
        let mut out = Vec::new();
        // A double's exponent range bounds the list (about 40 terms); the cap is a backstop.
        while out.len() < 64 {
            let v = rest.value();
            // A sum beyond the largest double has no list of doubles (see `Moments::exact`).
            if v == 0.0 || !v.is_finite() {
                break;
            }
            out.push(v);
            rest.add(-v);
        }
        out
    }

    pub fn from_terms(terms: &[f64]) -> ExactSum {
        let mut s = ExactSum::default();
        for t in terms.iter().filter(|t| t.is_finite()) {
            s.add(*t);
        }
        s
    }
}

/// `a * b` as a rounded product and its exact error (`a * b == p + e` exactly, barring overflow).
fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// Count, exact sum and exact sum of squares of finite values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    sum: ExactSum,
    sum_sq: ExactSum,
    /// A square overflowed (|x| above about 1.3e154): the variance is then infinite.
    overflow: bool,
}

/// The exact sums behind a column's mean and standard deviation, as a profile carries them so
/// that merged partitions give the same mean and deviation as the whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sums {
    /// Σx as [`ExactSum::canonical`] terms.
    pub sum: Vec<f64>,
    /// Σx² likewise; empty with `overflow`.
    pub sum_sq: Vec<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overflow: bool,
}

impl Moments {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum.add(x);
        let (p, e) = two_product(x, x);
        if !p.is_finite() {
            self.overflow = true;
            return;
        }
        self.sum_sq.add(p);
        if e != 0.0 {
            self.sum_sq.add(e);
        }
    }

    pub fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum.add_sum(&other.sum);
        self.sum_sq.add_sum(&other.sum_sq);
        self.overflow |= other.overflow;
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        self.sum.value() / self.n as f64
    }

    /// The sample variance (n - 1), from `n·Σx² − (Σx)²` computed exactly and rounded once.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        if self.overflow {
            return f64::INFINITY;
        }
        let n = self.n as f64;
        let mut d = ExactSum::default();
        for c in &self.sum_sq.partials {
            let (p, e) = two_product(n, *c);
            d.add(p);
            d.add(e);
        }
        for a in &self.sum.partials {
            for b in &self.sum.partials {
                let (p, e) = two_product(*a, *b);
                d.add(-p);
                d.add(-e);
            }
        }
        let v = d.value() / (n * (n - 1.0));
        if v.is_finite() { v.max(0.0) } else { v }
    }

    pub fn std(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Whether the mean and deviation can be read from the sums: no square overflowed and the
    /// sum itself is a double (values beyond about 1.3e154 break one or the other; their
    /// statistics are then taken from scaled values, see `column::stats_of_sorted`).
    pub fn exact(&self) -> bool {
        !self.overflow && self.sum.value().is_finite()
    }

    pub fn sums(&self) -> Sums {
        if !self.exact() {
            return Sums {
                sum: vec![],
                sum_sq: vec![],
                overflow: true,
            };
        }
        Sums {
            sum: self.sum.canonical(),
            sum_sq: self.sum_sq.canonical(),
            overflow: false,
        }
    }

    pub fn from_sums(n: u64, s: &Sums) -> Moments {
        Moments {
            n,
            sum: ExactSum::from_terms(&s.sum),
            sum_sq: ExactSum::from_terms(&s.sum_sq),
            overflow: s.overflow,
        }
    }
}

/// Hashes a 128-bit key with the splitmix64 finalizer: the keys are already hashes (text) or
/// bit patterns (numbers), so a few multiplications mix them well enough for a hash table, at a
/// fraction of SipHash's cost.
#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = mix(self.0 ^ u64::from(*b));
        }
    }

    fn write_u128(&mut self, k: u128) {
        self.0 = mix(mix(self.0 ^ k as u64) ^ (k >> 64) as u64);
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Exact distinct counting by 128-bit keys.
#[derive(Debug, Default)]
pub struct DistinctSet {
    keys: HashSet<u128, std::hash::BuildHasherDefault<KeyHasher>>,
}

impl DistinctSet {
    pub fn add_text(&mut self, v: &str) {
        self.keys.insert(xxhash_rust::xxh3::xxh3_128(v.as_bytes()));
    }

    /// A number by its bits: `0.0` and `-0.0` are one value, as are all NaNs.
    pub fn add_f64(&mut self, v: f64) {
        let bits = if v == 0.0 {
            0
        } else if v.is_nan() {
            f64::NAN.to_bits()
        } else {
            v.to_bits()
        };
        self.keys.insert(u128::from(bits));
    }

    /// An integer (or an instant's ticks) exactly, above 2^53 too.
    pub fn add_i128(&mut self, v: i128) {
        // Tagged so that an integer and a float with the same bits stay apart (a column has
        // one type, so this only guards against misuse).
        self.keys.insert((v as u128) ^ (1u128 << 127));
    }

    pub fn len(&self) -> u64 {
        self.keys.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_where_naive_sums_are_not() {
        // math.fsum([1e100, 1.0, -1e100, 1e-100]) == 1.0; sum(...) == 0.0 in Python.
        let mut s = ExactSum::default();
        for x in [1e100, 1.0, -1e100, 1e-100] {
            s.add(x);
        }
        assert_eq!(s.value(), 1.0);
        assert_eq!(s.canonical(), vec![1.0, 1e-100]);
        // math.fsum([0.1] * 10) == 1.0; a naive sum gives 0.9999999999999999.
        let mut t = ExactSum::default();
        (0..10).for_each(|_| t.add(0.1));
        assert_eq!(t.value(), 1.0);
        assert_ne!((0..10).map(|_| 0.1).sum::<f64>(), 1.0);
    }

    #[test]
    fn moments_do_not_depend_on_order_or_split() {
        let v: Vec<f64> = (0..5000)
            .map(|i| {
                ((i * 7919) % 10007) as f64 * 0.37 + 1.7e9 + if i % 3 == 0 { 1e-3 } else { 0.0 }
            })
            .collect();
        let whole = v.iter().fold(Moments::default(), |mut m, x| {
            m.add(*x);
            m
        });
        let reversed = v.iter().rev().fold(Moments::default(), |mut m, x| {
            m.add(*x);
            m
        });
        let mut merged = Moments::default();
        for part in v.chunks(7) {
            let mut m = Moments::default();
            part.iter().for_each(|x| m.add(*x));
            merged.merge(&m);
        }
        let via_sums = Moments::from_sums(whole.n, &merged.sums());
        for m in [&reversed, &merged, &via_sums] {
            assert_eq!(m.mean().to_bits(), whole.mean().to_bits());
            assert_eq!(m.std().to_bits(), whole.std().to_bits());
            assert_eq!(m.sums(), whole.sums());
        }
    }

    #[test]
    fn variance_is_right_where_the_textbook_formula_cancels() {
        // Values 1e9 + {4, 7, 13, 16}: variance 30 exactly (n - 1). A float Σx² − (Σx)²/n
        // loses every digit at this offset; the exact one does not.
        let mut m = Moments::default();
        for x in [4.0, 7.0, 13.0, 16.0] {
            m.add(1e9 + x);
        }
        assert_eq!(m.variance(), 30.0);
        assert_eq!(m.mean(), 1e9 + 10.0);
    }

    /// Within `ulps` units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn moments_match_pythons_exact_arithmetic() {
        #[derive(serde::Deserialize)]
        struct Case {
            name: String,
            values: Vec<f64>,
            sum: f64,
            mean: f64,
            variance: f64,
            std: f64,
        }
        #[derive(serde::Deserialize)]
        struct Fixture {
            cases: Vec<Case>,
        }
        let f: Fixture =
            serde_json::from_str(include_str!("../../tests/fixtures/moments.json")).expect("json");
        assert_eq!(f.cases.len(), 5);
        for c in &f.cases {
            let mut m = Moments::default();
            c.values.iter().for_each(|v| m.add(*v));
            assert_eq!(m.sum.value(), c.sum, "{}: sum", c.name);
            assert_eq!(m.mean(), c.mean, "{}: mean", c.name);
            assert!(
                ulps(m.variance(), c.variance) <= 1,
                "{}: variance {} against {}",
                c.name,
                m.variance(),
                c.variance
            );
            assert!(
                ulps(m.std(), c.std) <= 1,
                "{}: std {} against {}",
                c.name,
                m.std(),
                c.std
            );
        }
    }

    #[test]
    fn distinct_set_counts_integers_beyond_float_precision() {
        let mut d = DistinctSet::default();
        // 2^53 and 2^53 + 1 are one f64 but two integers.
        d.add_i128(1 << 53);
        d.add_i128((1 << 53) + 1);
        d.add_f64(0.0);
        d.add_f64(-0.0);
        d.add_f64(f64::NAN);
        d.add_f64(-f64::NAN);
        assert_eq!(d.len(), 4);
    }
}
