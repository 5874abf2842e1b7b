//! Every generator's output checked against the distribution it promises, at n = 100k with a
//! fixed seed: a one-sample KS test for continuous generators, a chi-square goodness-of-fit
//! test for discrete ones (both must not reject at α = 0.001), exact checks for formats, and
//! dependencies checked row by row. The seed is fixed, so these are deterministic.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use polars::prelude::*;
use statrs::distribution::{
    ChiSquared, Continuous as _, ContinuousCDF, Discrete as _, Exp as SExp,
    LogNormal as SLogNormal, Normal as SNormal, Poisson as SPoisson,
};

use super::*;
use crate::compare::stats::kolmogorov_sf;

const N: usize = 100_000;
const ALPHA: f64 = 0.001;

fn values(g: Generator, seed: u64) -> Values {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    generate_values(&g, N, &mut rng)
}

fn floats(v: &Values) -> Vec<f64> {
    match v {
        Values::Int(x) => x.iter().flatten().map(|x| *x as f64).collect(),
        Values::Float(x) => x.iter().flatten().copied().collect(),
        other => panic!("not numeric: {other:?}"),
    }
}

/// One-sample KS: the p-value of the largest gap between the sample's CDF and `cdf`.
fn ks_p(sample: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut x = sample.to_vec();
    x.sort_unstable_by(f64::total_cmp);
    let n = x.len() as f64;
    let mut d: f64 = 0.0;
    for (i, v) in x.iter().enumerate() {
        let f = cdf(*v);
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
    }
    let sqrt_n = n.sqrt();
    kolmogorov_sf((sqrt_n + 0.12 + 0.11 / sqrt_n) * d)
}

/// Chi-square goodness of fit of observed counts per category against expected shares (the
/// rest of the probability mass pooled into one more cell).
fn chi2_p(counts: &BTreeMap<i64, u64>, expected: &BTreeMap<i64, f64>) -> f64 {
    let n: f64 = counts.values().sum::<u64>() as f64;
    let mut stat = 0.0;
    let mut cells = 0;
    let mut rest_obs = n;
    let mut rest_exp = 1.0;
    for (k, p) in expected {
        let o = *counts.get(k).unwrap_or(&0) as f64;
        let e = p * n;
        rest_obs -= o;
        rest_exp -= p;
        if e > 0.0 {
            stat += (o - e).powi(2) / e;
            cells += 1;
        }
    }
    if rest_exp * n > 5.0 {
        stat += (rest_obs - rest_exp * n).powi(2) / (rest_exp * n);
        cells += 1;
    } else {
        assert!(
            rest_obs <= 5.0 + 10.0 * rest_exp * n,
            "values outside the support: {rest_obs}"
        );
    }
    1.0 - ChiSquared::new((cells - 1) as f64).unwrap().cdf(stat)
}

fn counts(v: &[f64]) -> BTreeMap<i64, u64> {
    let mut c = BTreeMap::new();
    for x in v {
        *c.entry(*x as i64).or_default() += 1;
    }
    c
}

#[test]
fn continuous_generators_follow_their_distributions() {
    type Cdf = Box<dyn Fn(f64) -> f64>;
    let cases: Vec<(Generator, Cdf)> = vec![
        (
            Generator::Float {
                min: 2.0,
                max: 7.0,
                round: None,
            },
            Box::new(|x| ((x - 2.0) / 5.0).clamp(0.0, 1.0)),
        ),
        (
            Generator::Normal {
                mean: 50.0,
                std: 8.0,
                min: None,
                max: None,
                round: None,
            },
            Box::new(|x| SNormal::new(50.0, 8.0).unwrap().cdf(x)),
        ),
        (
            Generator::LogNormal {
                mu: 3.0,
                sigma: 0.6,
                min: None,
                max: None,
                round: None,
            },
            Box::new(|x| SLogNormal::new(3.0, 0.6).unwrap().cdf(x)),
        ),
        (
            Generator::Exponential {
                mean: 4.0,
                min: None,
                max: None,
                round: None,
            },
            Box::new(|x| SExp::new(0.25).unwrap().cdf(x)),
        ),
    ];
    for (i, (g, cdf)) in cases.into_iter().enumerate() {
        let v = floats(&values(g.clone(), 100 + i as u64));
        assert_eq!(v.len(), N);
        let p = ks_p(&v, cdf);
        assert!(p > ALPHA, "{g:?}: KS p = {p}");
    }
    // A bounded normal is the normal truncated to its bounds (rejection sampling).
    let v = floats(&values(
        Generator::Normal {
            mean: 0.0,
            std: 1.0,
            min: Some(-1.0),
            max: Some(2.0),
            round: None,
        },
        7,
    ));
    let d = SNormal::new(0.0, 1.0).unwrap();
    let (a, b) = (d.cdf(-1.0), d.cdf(2.0));
    assert!(v.iter().all(|x| (-1.0..=2.0).contains(x)));
    let p = ks_p(&v, |x| ((d.cdf(x) - a) / (b - a)).clamp(0.0, 1.0));
    assert!(p > ALPHA, "truncated normal: KS p = {p}");
    // The density check is not vacuous: a shifted normal is rejected.
    let v = floats(&values(
        Generator::Normal {
            mean: 50.3,
            std: 8.0,
            min: None,
            max: None,
            round: None,
        },
        1,
    ));
    assert!(ks_p(&v, |x| SNormal::new(50.0, 8.0).unwrap().cdf(x)) < ALPHA);
    let _ = d.pdf(0.0);
}

#[test]
fn discrete_generators_follow_their_distributions() {
    // int: uniform on min..=max.
    let v = floats(&values(Generator::Int { min: -3, max: 6 }, 1));
    let e: BTreeMap<i64, f64> = (-3..=6).map(|k| (k, 0.1)).collect();
    assert!(chi2_p(&counts(&v), &e) > ALPHA);
    // poisson.
    let v = floats(&values(
        Generator::Poisson {
            mean: 3.5,
            min: None,
            max: None,
        },
        2,
    ));
    let d = SPoisson::new(3.5).unwrap();
    let e: BTreeMap<i64, f64> = (0..=14).map(|k| (k, d.pmf(k as u64))).collect();
    let p = chi2_p(&counts(&v), &e);
    assert!(p > ALPHA, "poisson p = {p}");
    // geometric: trials to the first success, from 1.
    let v = floats(&values(Generator::Geometric { p: 0.3 }, 3));
    assert!(v.iter().all(|x| *x >= 1.0));
    let e: BTreeMap<i64, f64> = (1..=25)
        .map(|k| (k, 0.7f64.powi(k as i32 - 1) * 0.3))
        .collect();
    let p = chi2_p(&counts(&v), &e);
    assert!(p > ALPHA, "geometric p = {p}");
    // zipf: P(k) = k^-s / H(n, s).
    let v = floats(&values(Generator::Zipf { n: 50, s: 1.2 }, 4));
    let h: f64 = (1..=50).map(|k| (k as f64).powf(-1.2)).sum();
    let e: BTreeMap<i64, f64> = (1..=50).map(|k| (k, (k as f64).powf(-1.2) / h)).collect();
    let p = chi2_p(&counts(&v), &e);
    assert!(p > ALPHA, "zipf p = {p}");
    assert!(v.iter().all(|x| (1.0..=50.0).contains(x)));
    // discrete: the given values with their weights (weights need not sum to one).
    let g = Generator::Discrete {
        values: vec![(1.0, 5.0), (2.0, 3.0), (5.0, 2.0)],
    };
    let v = floats(&values(g, 5));
    let e: BTreeMap<i64, f64> = [(1, 0.5), (2, 0.3), (5, 0.2)].into_iter().collect();
    assert!(chi2_p(&counts(&v), &e) > ALPHA);
    // The test is not vacuous: the same sample against other weights is rejected.
    let wrong: BTreeMap<i64, f64> = [(1, 0.48), (2, 0.32), (5, 0.2)].into_iter().collect();
    assert!(chi2_p(&counts(&v), &wrong) < ALPHA);
}

#[test]
fn bool_uuid_regex_and_words_keep_their_promises() {
    let Values::Bool(b) = values(Generator::Bool { p: 0.3 }, 1) else {
        panic!()
    };
    let share = b.iter().flatten().filter(|x| **x).count() as f64 / N as f64;
    // Four standard errors.
    assert!(
        (share - 0.3).abs() < 4.0 * (0.3f64 * 0.7 / N as f64).sqrt(),
        "{share}"
    );

    let Values::Text(u) = values(Generator::Uuid, 2) else {
        panic!()
    };
    let distinct: std::collections::HashSet<&String> = u.iter().flatten().collect();
    assert_eq!(distinct.len(), N);
    for s in u.iter().flatten().take(1000) {
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4", "version 4: {s}");
        assert!("89ab".contains(&s[19..20]), "RFC 4122 variant: {s}");
        assert_eq!(
            crate::mask::parse_uuid_for_tests(s).as_deref(),
            Some(s.as_str())
        );
    }

    let g = Generator::Regex {
        regex: "(ORD|INV)-[0-9]{6}[a-c]?".into(),
    };
    let Values::Text(r) = values(g, 3) else {
        panic!()
    };
    let mut ord = 0;
    for s in r.iter().flatten() {
        let (head, tail) = s.split_at(4);
        assert!(head == "ORD-" || head == "INV-", "{s}");
        ord += (head == "ORD-") as usize;
        let digits: String = tail.chars().take(6).collect();
        assert!(
            digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()),
            "{s}"
        );
        assert!(
            tail.len() == 6 || (tail.len() == 7 && "abc".contains(&tail[6..])),
            "{s}"
        );
    }
    let share = ord as f64 / N as f64;
    assert!(
        (share - 0.5).abs() < 0.01,
        "alternatives are equally likely: {share}"
    );

    let Values::Text(w) = values(Generator::Words { min: 2, max: 5 }, 4) else {
        panic!()
    };
    let wc: Vec<f64> = w
        .iter()
        .flatten()
        .map(|s| s.split(' ').count() as f64)
        .collect();
    let e: BTreeMap<i64, f64> = (2..=5).map(|k| (k, 0.25)).collect();
    assert!(chi2_p(&counts(&wc), &e) > ALPHA);
    assert!(
        w.iter()
            .flatten()
            .all(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
    );
}

fn spec(text: &str) -> Spec {
    Spec::parse(std::path::Path::new("s.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn table<'a>(g: &'a Generated, name: &str) -> &'a DataFrame {
    &g.tables.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn mixtures_take_their_shares_and_keep_each_parts_distribution() {
    let s = spec(
        "[domain]\nname = \"m\"\nseed = 1\n[tables.t]\nrows = 100000\n[tables.t.columns]\n\
         discount = { gen = \"mixture\", of = [ { weight = 0.7, gen = \"constant\", value = 0 }, \
         { weight = 0.3, gen = \"float\", min = 5, max = 20 } ] }\n",
    );
    let g = generate(&s, 9, 1.0).unwrap();
    let v: Vec<f64> = table(&g, "t")
        .column("discount")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let zeros = v.iter().filter(|x| **x == 0.0).count() as f64 / N as f64;
    assert!(
        (zeros - 0.7).abs() < 4.0 * (0.21f64 / N as f64).sqrt(),
        "{zeros}"
    );
    let rest: Vec<f64> = v.iter().copied().filter(|x| *x != 0.0).collect();
    let p = ks_p(&rest, |x| ((x - 5.0) / 15.0).clamp(0.0, 1.0));
    assert!(p > ALPHA, "the uniform part: KS p = {p}");
    assert_eq!(
        s.tables[0].columns[0].declared_range(),
        Some((Some(0.0), Some(20.0)))
    );
}

#[test]
fn cases_and_offsets_hold_row_by_row() {
    let s = spec(
        r#"[domain]
name = "c"
seed = 1
[tables.orders]
rows = 100000
[tables.orders.columns]
id = { gen = "sequence" }
country = { gen = "choice", values = { US = 0.6, GB = 0.3, DE = 0.1 } }
status = { gen = "choice", values = { placed = 0.5, shipped = 0.3, delivered = 0.2 } }
placed_at = { gen = "timestamp", from = "2024-01-01", to = "2025-01-01" }
shipped_at = { by = "status", cases = { "shipped|delivered" = { gen = "timestamp", after = "placed_at", min_after = "2h", max_after = "3 days" } } }
delivered_at = { by = "status", cases = { delivered = { gen = "timestamp", after = "shipped_at", min_after = "1d", max_after = "1w" }, "*" = { gen = "null" } } }
phone = { by = "country", cases = { US = { gen = "pattern", format = "+1-###-###-####" }, GB = { gen = "pattern", format = "+44 #### ######" }, "*" = { gen = "regex", regex = "\\+49 [0-9]{3} [0-9]{7}" } } }
paid = { gen = "bool", p = 0.9 }
"#,
    );
    let g = generate(&s, 5, 1.0).unwrap();
    let df = table(&g, "orders");
    let text = |c: &str| -> Vec<Option<String>> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    };
    let ts = |c: &str| -> Vec<Option<i64>> {
        let s = df
            .column(c)
            .unwrap()
            .as_materialized_series()
            .cast(&DataType::Int64)
            .unwrap();
        s.i64().unwrap().iter().collect()
    };
    let (country, status, phone) = (text("country"), text("status"), text("phone"));
    let (placed, shipped, delivered) = (ts("placed_at"), ts("shipped_at"), ts("delivered_at"));
    let h = 3_600_000_000i64;
    let mut gaps = Vec::new();
    for i in 0..N {
        let shape = crate::profile::text::shape(phone[i].as_deref().unwrap());
        let want = match country[i].as_deref().unwrap() {
            "US" => "+9-999-999-9999",
            "GB" => "+99 9999 999999",
            _ => "+99 999 9999999",
        };
        assert_eq!(shape, want, "row {i}");
        let st = status[i].as_deref().unwrap();
        match st {
            "placed" => assert!(shipped[i].is_none() && delivered[i].is_none(), "row {i}"),
            _ => {
                let gap = shipped[i].unwrap() - placed[i].unwrap();
                assert!((2 * h..=72 * h).contains(&gap), "row {i}: {gap}");
                gaps.push(gap as f64);
                if st == "delivered" {
                    let d = delivered[i].unwrap() - shipped[i].unwrap();
                    assert!((24 * h..=168 * h).contains(&d), "row {i}: {d}");
                } else {
                    assert!(delivered[i].is_none(), "row {i}");
                }
            }
        }
    }
    let p = ks_p(&gaps, |x| {
        ((x - 2.0 * h as f64) / (70.0 * h as f64)).clamp(0.0, 1.0)
    });
    assert!(
        p > ALPHA,
        "offsets are uniform between min and max: KS p = {p}"
    );
    assert_eq!(df.column("paid").unwrap().dtype(), &DataType::Boolean);
}

#[test]
fn child_counts_follow_weights_caps_and_parent_columns() {
    let s = spec(
        r#"[domain]
name = "k"
seed = 1
[tables.orders]
rows = 20000
[tables.orders.columns]
id = { gen = "sequence" }
status = { gen = "choice", values = { open = 0.8, cancelled = 0.2 } }
[tables.items]
rows_per = { parent = "orders", dist = "weighted", values = { 1 = 0.5, 2 = 0.3, 4 = 0.2 }, by = "status", cases = { cancelled = { dist = "uniform", min = 0, max = 0 } } }
[tables.items.columns]
order_id = { ref = "orders.id" }
[tables.notes]
rows_per = { parent = "orders", dist = "poisson", mean = 3, max = 4 }
[tables.notes.columns]
order_id = { ref = "orders.id" }
"#,
    );
    let g = generate(&s, 2, 1.0).unwrap();
    let status: Vec<String> = table(&g, "orders")
        .column("status")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect();
    let per = |t: &str| -> Vec<u64> {
        let mut c = vec![0u64; status.len()];
        for id in table(&g, t)
            .column("order_id")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .flatten()
        {
            c[id as usize - 1] += 1;
        }
        c
    };
    let items = per("items");
    let mut open = BTreeMap::new();
    for (st, k) in status.iter().zip(&items) {
        if st == "cancelled" {
            assert_eq!(*k, 0, "a cancelled order has no items");
        } else {
            *open.entry(*k as i64).or_insert(0u64) += 1;
        }
    }
    let e: BTreeMap<i64, f64> = [(1, 0.5), (2, 0.3), (4, 0.2)].into_iter().collect();
    assert!(chi2_p(&open, &e) > ALPHA, "{open:?}");
    let notes = per("notes");
    assert!(notes.iter().all(|k| *k <= 4), "capped at 4");
    // Poisson(3) capped at 4: P(4) takes the whole upper tail.
    let d = SPoisson::new(3.0).unwrap();
    let mut e: BTreeMap<i64, f64> = (0..4).map(|k| (k, d.pmf(k as u64))).collect();
    e.insert(4, 1.0 - (0..4).map(|k| d.pmf(k)).sum::<f64>());
    let c: BTreeMap<i64, u64> = notes.iter().fold(BTreeMap::new(), |mut m, k| {
        *m.entry(*k as i64).or_insert(0) += 1;
        m
    });
    assert!(chi2_p(&c, &e) > ALPHA, "{c:?}");
}

#[test]
fn types_are_stored_as_declared_and_values_stay_exact() {
    let s = spec(
        r#"[domain]
name = "ty"
seed = 1
[tables.t]
rows = 100000
[tables.t.columns]
id = { gen = "sequence", type = "int32" }
price = { gen = "float", min = 1, max = 100, round = 2, type = "decimal(8, 2)" }
born = { gen = "timestamp", from = "1950-01-01", to = "2005-01-01", type = "date" }
seen = { gen = "timestamp", from = "2024-01-01", to = "2024-02-01", type = "timestamptz" }
active = { gen = "bool", p = 0.25 }
ref_no = { gen = "uuid", unique = true }
code = { gen = "pattern", format = "??###", unique = true }
note = { gen = "words", min = 1, max = 3, empty_rate = 0.1, null_rate = 0.1 }
"#,
    );
    let g = generate(&s, 3, 1.0).unwrap();
    let df = table(&g, "t");
    let dt = |c: &str| df.column(c).unwrap().dtype().clone();
    assert_eq!(dt("id"), DataType::Int32);
    assert_eq!(dt("price"), DataType::Decimal(8, 2));
    assert_eq!(dt("born"), DataType::Date);
    assert_eq!(
        dt("seen"),
        DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    );
    assert_eq!(dt("active"), DataType::Boolean);
    // Decimals are the generated floats rounded to cents, exactly.
    let cents = df
        .column("price")
        .unwrap()
        .as_materialized_series()
        .decimal()
        .unwrap()
        .physical()
        .clone();
    assert!(cents.iter().flatten().all(|c| (100..=10_000).contains(&c)));
    for c in ["code", "ref_no"] {
        assert_eq!(
            df.column(c).unwrap().n_unique().unwrap(),
            N,
            "{c} is unique"
        );
    }
    let note = df.column("note").unwrap().str().unwrap().clone();
    let nulls = note.null_count() as f64 / N as f64;
    let empty = note.iter().flatten().filter(|s| s.is_empty()).count() as f64
        / (N as f64 - note.null_count() as f64);
    assert!(
        (nulls - 0.1).abs() < 0.004 && (empty - 0.1).abs() < 0.004,
        "{nulls} {empty}"
    );
    // The same spec and seed give the same bytes.
    let again = generate(&s, 3, 1.0).unwrap();
    assert!(table(&again, "t").equals_missing(df));
}

#[test]
fn values_derive_from_parents_and_aggregate_children_row_by_row() {
    let s = spec(
        r#"[domain]
name = "x"
seed = 1
[tables.products]
rows = 50
[tables.products.columns]
id = { gen = "sequence" }
price = { gen = "float", min = 1, max = 100, round = 2, type = "decimal(10, 2)" }
[tables.orders]
rows = 2000
[tables.orders.columns]
id = { gen = "sequence" }
shipping = { gen = "discrete", values = { 0 = 0.5, 5 = 0.5 } }
subtotal = { sql = "SUM(line_total)", over = "order_items", type = "decimal(12, 2)" }
total = { sql = "COALESCE(subtotal, 0) + shipping", type = "decimal(12, 2)" }
[tables.order_items]
rows_per = { parent = "orders", dist = "uniform", min = 0, max = 4 }
[tables.order_items.columns]
id = { gen = "sequence" }
order_id = { ref = "orders.id" }
product_id = { ref = "products.id", }
quantity = { gen = "int", min = 1, max = 3 }
unit_price = { sql = "products.price", type = "decimal(10, 2)" }
line_total = { sql = "quantity * unit_price", type = "decimal(12, 2)" }
[tables.refunds]
rows_per = { parent = "orders", dist = "poisson", mean = 0.3 }
[tables.refunds.columns]
id = { gen = "sequence" }
order_id = { ref = "orders.id" }
share = { gen = "float", min = 0.1, max = 1.0, round = 2 }
amount = { sql = "ROUND(CAST(orders.total AS DOUBLE) * share, 2)", type = "decimal(12, 2)" }
[[rules]]
name = "a refund never exceeds its order"
sql = "SELECT r.id FROM refunds r JOIN orders o ON r.order_id = o.id WHERE r.amount > o.total"
"#,
    );
    let g = generate(&s, 4, 1.0).unwrap();
    assert!(
        broken_rules(&s, &g).is_empty(),
        "{:?}",
        broken_rules(&s, &g)
    );
    let cents = |t: &str, c: &str| -> Vec<Option<i128>> {
        table(&g, t)
            .column(c)
            .unwrap()
            .as_materialized_series()
            .decimal()
            .unwrap()
            .physical()
            .iter()
            .collect()
    };
    let ints = |t: &str, c: &str| -> Vec<i64> {
        table(&g, t)
            .column(c)
            .unwrap()
            .as_materialized_series()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect()
    };
    let price = cents("products", "price");
    let (item_order, item_product, qty) = (
        ints("order_items", "order_id"),
        ints("order_items", "product_id"),
        ints("order_items", "quantity"),
    );
    let (unit, line) = (
        cents("order_items", "unit_price"),
        cents("order_items", "line_total"),
    );
    let mut sums = vec![0i128; 2000];
    let mut has = vec![false; 2000];
    for i in 0..item_order.len() {
        assert_eq!(
            unit[i],
            price[item_product[i] as usize - 1],
            "item {i}: the product's price"
        );
        assert_eq!(line[i], unit[i].map(|u| u * qty[i] as i128), "item {i}");
        sums[item_order[i] as usize - 1] += line[i].unwrap();
        has[item_order[i] as usize - 1] = true;
    }
    let (subtotal, total, shipping) = (
        cents("orders", "subtotal"),
        cents("orders", "total"),
        ints("orders", "shipping"),
    );
    for o in 0..2000 {
        assert_eq!(
            subtotal[o],
            has[o].then_some(sums[o]),
            "order {o}: the sum of its items"
        );
        assert_eq!(
            total[o],
            Some(sums[o] + shipping[o] as i128 * 100),
            "order {o}"
        );
    }
    let (r_order, amount) = (ints("refunds", "order_id"), cents("refunds", "amount"));
    assert!(!r_order.is_empty());
    for i in 0..r_order.len() {
        assert!(
            amount[i].unwrap() <= total[r_order[i] as usize - 1].unwrap(),
            "refund {i}"
        );
    }
}

#[test]
fn scenarios_plant_their_cases_and_count_their_rows() {
    let text = r#"[domain]
name = "s"
seed = 1
[tables.orders]
rows = 20000
[tables.orders.columns]
id = { gen = "sequence" }
placed_at = { gen = "timestamp", from = "2024-01-01", to = "2025-01-01" }
name = { gen = "person_name" }
status = { gen = "choice", values = { PAID = 0.9, SHIPPED = 0.1 } }
[tables.refunds]
rows_per = { parent = "orders", dist = "poisson", mean = 0.5 }
[tables.refunds.columns]
id = { gen = "sequence" }
order_id = { ref = "orders.id" }
created_at = { gen = "timestamp", after = "orders.placed_at", max_days = 30 }
[[rules]]
name = "refunds within 30 days"
sql = "SELECT r.id FROM refunds r JOIN orders o ON r.order_id = o.id WHERE r.created_at > o.placed_at + INTERVAL '30 days'"
[[scenarios]]
name = "late refund"
table = "refunds"
share = 0.02
set = { created_at = { gen = "timestamp", after = "orders.placed_at", min_after = "31 days", max_after = "90 days" } }
breaks = ["refunds within 30 days"]
[[scenarios]]
name = "legacy status"
table = "orders"
rows = 40
set = { status = { gen = "constant", value = "LEGACY" } }
[[scenarios]]
name = "mangled names"
table = "orders"
share = 0.01
anomalies = { name = "mojibake" }
"#;
    let s = spec(text);
    let g = generate(&s, 8, 1.0).unwrap();
    let count = |name: &str| g.scenarios.iter().find(|x| x.name == name).unwrap().rows as f64;
    // The rule is broken on purpose, by exactly the scenario's rows.
    let rules = crate::profile::run_rules(&s, &crate::profile::lazy(&g.tables), None);
    assert_eq!(rules[0].violations as f64, count("late refund"));
    assert!(broken_rules(&s, &g).is_empty());
    let refunds = table(&g, "refunds").height() as f64;
    let share = count("late refund") / refunds;
    assert!(
        (share - 0.02).abs() < 4.0 * (0.02f64 * 0.98 / refunds).sqrt(),
        "{share}"
    );
    // 40 rows added, each with the planted status, after the table's own 20000.
    let orders = table(&g, "orders");
    assert_eq!(orders.height(), 20_040);
    assert_eq!(count("legacy status"), 40.0);
    let legacy = orders
        .column("status")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .skip(20_000)
        .filter(|v| *v == Some("LEGACY"))
        .count();
    assert_eq!(legacy, 40);
    // Every planted name reads as mojibake to the profiler, and no other name does.
    let mut stats = crate::profile::text::TextStats::default();
    orders
        .column("name")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .for_each(|v| stats.add(v));
    assert_eq!(stats.anomalies.mojibake as f64, count("mangled names"));
    assert!(count("mangled names") > 100.0);
    // The scenario's value is declared: a production `LEGACY` is no spec gap.
    let status = s.table("orders").unwrap().column("status").unwrap();
    assert!(status.categories().unwrap().contains(&"LEGACY"));
    // Without `breaks`, the spec's own data breaking the rule is refused.
    let strict = spec(&text.replace("breaks = [\"refunds within 30 days\"]", ""));
    let g = generate(&strict, 8, 1.0).unwrap();
    assert_eq!(broken_rules(&strict, &g).len(), 1);
}

#[test]
fn references_can_be_skewed_and_kept_within_an_ancestor() {
    let s = spec(
        r#"[domain]
name = "r"
seed = 1
[tables.customers]
rows = 3000
[tables.customers.columns]
id = { gen = "sequence" }
[tables.addresses]
rows_per = { parent = "customers", dist = "uniform", min = 1, max = 3 }
[tables.addresses.columns]
id = { gen = "sequence" }
customer_id = { ref = "customers.id" }
[tables.products]
rows = 30
[tables.products.columns]
id = { gen = "sequence" }
[tables.orders]
rows_per = { parent = "customers", dist = "poisson", mean = 3 }
[tables.orders.columns]
id = { gen = "sequence" }
customer_id = { ref = "customers.id" }
ship_to = { ref = "addresses.id", within = "customer_id" }
product_id = { ref = "products.id", skew = 1.1 }
"#,
    );
    let g = generate(&s, 6, 1.0).unwrap();
    let ints = |t: &str, c: &str| -> Vec<Option<i64>> {
        table(&g, t)
            .column(c)
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect()
    };
    let owner = ints("addresses", "customer_id");
    let (cust, ship) = (ints("orders", "customer_id"), ints("orders", "ship_to"));
    for i in 0..cust.len() {
        let a = ship[i].expect("every customer has an address") as usize - 1;
        assert_eq!(
            owner[a], cust[i],
            "order {i} ships to an address of its own customer"
        );
    }
    let p: Vec<f64> = ints("orders", "product_id")
        .into_iter()
        .map(|x| x.unwrap() as f64)
        .collect();
    let h: f64 = (1..=30).map(|k| (k as f64).powf(-1.1)).sum();
    let e: BTreeMap<i64, f64> = (1..=30).map(|k| (k, (k as f64).powf(-1.1) / h)).collect();
    let pv = chi2_p(&counts(&p), &e);
    assert!(pv > ALPHA, "skewed references follow Zipf: p = {pv}");
}

#[test]
fn composite_keys_and_line_numbers_per_parent() {
    let s = spec(
        r#"[domain]
name = "k"
seed = 1
[tables.orders]
rows = 3000
[tables.orders.columns]
id = { gen = "sequence" }
[tables.order_lines]
rows_per = { parent = "orders", dist = "uniform", min = 1, max = 6 }
key = ["order_id", "line_no"]
[tables.order_lines.columns]
order_id = { ref = "orders.id" }
line_no = { gen = "sequence", per = "order_id" }
"#,
    );
    assert_eq!(s.tables[1].key, None);
    assert_eq!(s.tables[1].key_columns, ["order_id", "line_no"]);
    let g = generate(&s, 1, 1.0).unwrap();
    let df = table(&g, "order_lines");
    let order: Vec<i64> = df
        .column("order_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let line: Vec<i64> = df
        .column("line_no")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let mut last: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for (o, l) in order.iter().zip(&line) {
        let prev = last.insert(*o, *l).unwrap_or(0);
        assert_eq!(*l, prev + 1, "lines of order {o} count 1, 2, 3, ...");
    }
    assert!(last.values().all(|l| (1..=6).contains(l)));
}

#[test]
fn locale_values_names_emails_phones_and_places() {
    use super::locale::{first_last, get, latin};
    assert_eq!(latin("山田 太郎"), "yamada taro");
    assert_eq!(first_last("山田 太郎"), ("taro".into(), "yamada".into()));
    assert_eq!(first_last("欧阳伟"), ("wei".into(), "ouyang".into()));
    assert_eq!(
        first_last("Jürgen Müller"),
        ("juergen".into(), "mueller".into())
    );
    assert_eq!(
        first_last("Siobhan O'Brien"),
        ("siobhan".into(), "obrien".into())
    );
    let s = spec(
        r#"[domain]
name = "l"
seed = 1
[tables.people]
rows = 100000
[tables.people.columns]
name = { gen = "person_name", locales = { en_US = 0.5, de_DE = 0.2, ja_JP = 0.2, zh_CN = 0.1 } }
email = { gen = "email", name_from = "name", domain = "example.org", formats = { "{first}.{last}" = 0.7, "{f}{last}{nn}" = 0.3 } }
phone = { gen = "phone", locale = "de_DE", style = "e164" }
city = { gen = "city", locale = "fr_FR" }
postcode = { gen = "postcode", locale = "en_GB" }
street = { gen = "street_address", locale = "ja_JP" }
company = { gen = "company", locale = "de_DE" }
"#,
    );
    let g = generate(&s, 2, 1.0).unwrap();
    let df = table(&g, "people");
    let col = |c: &str| -> Vec<String> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect()
    };
    let (names, emails) = (col("name"), col("email"));
    let locale_of = |n: &str| -> &str {
        for code in ["ja_JP", "zh_CN", "de_DE", "en_US"] {
            let l = get(code).unwrap();
            let last_ok = l.last.iter().any(|(x, _)| n.contains(x));
            let first_ok = l.first.iter().any(|(x, _)| n.contains(x));
            if last_ok && first_ok && (code != "en_US" || n.is_ascii()) {
                return code;
            }
        }
        "?"
    };
    let mut by_locale: BTreeMap<&str, u64> = BTreeMap::new();
    let mut dotted = 0;
    for (n, e) in names.iter().zip(&emails) {
        *by_locale.entry(locale_of(n)).or_default() += 1;
        let (first, last) = first_last(n);
        let local = e.strip_suffix("@example.org").unwrap();
        assert!(local.is_ascii(), "{n} -> {e}");
        if local == format!("{first}.{last}") {
            dotted += 1;
        } else {
            let tail = local
                .strip_prefix(&first[..1])
                .and_then(|x| x.strip_prefix(&last));
            assert!(tail.is_some_and(|d| d.len() == 2), "{n} -> {e}");
        }
    }
    // de_DE names share no name with the others here except by chance; the shares hold.
    let share = |code: &str| *by_locale.get(code).unwrap_or(&0) as f64 / N as f64;
    for (code, w) in [("en_US", 0.5), ("ja_JP", 0.2), ("zh_CN", 0.1)] {
        assert!((share(code) - w).abs() < 0.01, "{code}: {by_locale:?}");
    }
    assert!((dotted as f64 / N as f64 - 0.7).abs() < 0.01);
    assert!(
        names.iter().any(|n| n.contains(' ') && !n.is_ascii()),
        "Japanese, spaced"
    );
    assert!(
        col("phone")
            .iter()
            .all(|p| p.starts_with("+49") && p.len() == 13)
    );
    let fr = get("fr_FR").unwrap();
    assert!(col("city").iter().all(|c| fr.cities.contains(&c.as_str())));
    assert!(
        col("postcode")
            .iter()
            .all(|p| crate::profile::text::shape(p) == "A9 9A")
    );
    assert!(col("street").iter().all(|x| x.ends_with("丁目")));
    assert!(
        col("company")
            .iter()
            .all(|x| ["GmbH", "AG", "KG"].iter().any(|s| x.contains(s)))
    );
}

#[test]
fn timestamps_choices_lists_and_calendar_snaps() {
    use chrono::{Datelike, Weekday};
    let day = 86_400_000_000i64;
    let (from, to) = (
        crate::spec::parse_timestamp("2024-01-01").unwrap(),
        crate::spec::parse_timestamp("2025-01-01").unwrap(),
    );
    // Uniform in [from, to): one-sample KS.
    let Values::Timestamp(t) = values(
        Generator::Timestamp {
            from,
            to,
            snap: None,
        },
        1,
    ) else {
        panic!()
    };
    let t: Vec<f64> = t.iter().flatten().map(|x| *x as f64).collect();
    let p = ks_p(&t, |x| {
        ((x - from as f64) / (to - from) as f64).clamp(0.0, 1.0)
    });
    assert!(p > ALPHA, "timestamp KS p = {p}");
    // Choice: chi-square against the weights.
    let g = Generator::Choice {
        values: vec![("a".into(), 6.0), ("b".into(), 3.0), ("c".into(), 1.0)],
    };
    let Values::Text(c) = values(g, 2) else {
        panic!()
    };
    let idx: Vec<f64> = c
        .iter()
        .flatten()
        .map(|v| (v.as_bytes()[0] - b'a') as f64)
        .collect();
    let e: BTreeMap<i64, f64> = [(0, 0.6), (1, 0.3), (2, 0.1)].into_iter().collect();
    assert!(chi2_p(&counts(&idx), &e) > ALPHA);
    // Snaps: every value on its day, the time of day kept and still uniform.
    for (snap, holds) in [
        (
            crate::spec::Snap::MonthEnd,
            (|d: chrono::NaiveDate| (d + chrono::Days::new(1)).day() == 1)
                as fn(chrono::NaiveDate) -> bool,
        ),
        (crate::spec::Snap::MonthStart, |d| d.day() == 1),
        (crate::spec::Snap::YearEnd, |d| {
            d.month() == 12 && d.day() == 31
        }),
        (crate::spec::Snap::Weekday, |d| {
            !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        }),
        (crate::spec::Snap::Weekend, |d| {
            matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        }),
    ] {
        let g = Generator::Timestamp {
            from,
            to,
            snap: Some(snap),
        };
        let range = g.range().unwrap();
        let Values::Timestamp(t) = values(g, 3) else {
            panic!()
        };
        let mut tod = Vec::new();
        for x in t.iter().flatten() {
            let d = chrono::DateTime::from_timestamp_micros(*x)
                .unwrap()
                .date_naive();
            assert!(holds(d), "{snap:?}: {d}");
            assert!(
                range.0.unwrap() <= *x as f64 && *x as f64 <= range.1.unwrap(),
                "{snap:?}"
            );
            tod.push(x.rem_euclid(day) as f64);
        }
        let p = ks_p(&tod, |x| (x / day as f64).clamp(0.0, 1.0));
        assert!(p > ALPHA, "{snap:?}: time of day KS p = {p}");
    }
}

#[test]
fn link_tables_hold_each_pair_once() {
    let s = spec(
        r#"[domain]
name = "m2m"
seed = 1
[tables.students]
rows = 30
[tables.students.columns]
id = { gen = "sequence" }
[tables.courses]
rows = 10
[tables.courses.columns]
id = { gen = "sequence" }
[tables.enrolments]
rows = 500
key = ["student_id", "course_id"]
[tables.enrolments.columns]
student_id = { ref = "students.id" }
course_id = { ref = "courses.id", skew = 0.8 }
"#,
    );
    let g = generate(&s, 3, 1.0).unwrap();
    let df = table(&g, "enrolments");
    let pairs: std::collections::HashSet<(i64, i64)> = df
        .column("student_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .zip(
            df.column("course_id")
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .flatten(),
        )
        .collect();
    assert_eq!(pairs.len(), df.height(), "every (student, course) once");
    assert!(df.height() > 200 && df.height() < 300, "{}", df.height());
}

/// No word of `gen = "words"` reads as a placeholder for a missing value.
#[test]
fn words_are_never_placeholders() {
    for w in super::words::WORDS {
        assert!(
            !crate::profile::text::PLACEHOLDERS.contains(w),
            "`{w}` would read as a missing value"
        );
    }
}
