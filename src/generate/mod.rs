//! Synthetic tables from a spec: deterministic, rule-based, any scale.
//!
//! Takes a [`Spec`], gives one Polars frame per table, each column of its declared type. Every
//! (table, column, purpose) draws from its own ChaCha stream seeded from the spec's seed and the
//! names, so adding a column never changes the values of another, and the same spec and seed
//! give the same bytes on any machine. Within a row, columns are generated after the columns
//! they depend on (`by`, `after`); derived columns (`sql = ...`) are Polars SQL over the table
//! generated so far.

#[cfg(test)]
mod checks;
mod derived;
pub mod estimate;
pub mod locale;
mod names;
mod table;
mod words;
pub mod write;

use std::collections::{HashMap, HashSet};

use anyhow::{Context, bail};
use polars::prelude::*;
use polars::sql::SQLContext;
use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Geometric, LogNormal, Normal, Poisson, Zipf};

use crate::frame::{self, Values};
use crate::spec::{
    ColumnKind, ColumnType, Constant, Generator, LogicalType, NamePart, PerParentDist, PlaceKind,
    RowCount, Spec, Table,
};

/// Generated tables, in the spec's generation order.
pub struct Generated {
    pub tables: Vec<(String, DataFrame)>,
    /// Rows each scenario planted.
    pub scenarios: Vec<crate::dataset::ScenarioRows>,
    /// `I/N` when these are part I of N of every table's rows.
    pub shard: Option<String>,
}

/// A seeded stream for one purpose of one column: independent of every other stream.
pub fn stream(seed: u64, table: &str, column: &str, purpose: &str) -> ChaCha8Rng {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"realitycheck/stream/v1\0");
    h.update(seed.to_le_bytes());
    for part in [table, column, purpose] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    ChaCha8Rng::from_seed(h.finalize().into())
}

/// A generated table before it becomes a frame: later tables look up keys and timestamps here.
struct Building {
    n: usize,
    columns: Vec<(String, Values)>,
    /// Rows each scenario of this table took.
    scenario_rows: Vec<(String, usize)>,
}

impl Building {
    fn column(&self, name: &str) -> Option<&Values> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Generates every table of `spec` with `seed`, `scale` times the declared row counts.
pub fn generate(spec: &Spec, seed: u64, scale: f64) -> anyhow::Result<Generated> {
    if !(scale > 0.0 && scale.is_finite()) {
        bail!("--scale must be a positive number (got {scale})");
    }
    let mut done: HashMap<String, Building> = HashMap::new();
    for table in &spec.tables {
        // The whole table as one chunk: the same rows as any number of smaller chunks.
        let b = table::TableGen::new(spec, table, seed, scale, &done)
            .and_then(|mut g| {
                let c = g.chunk(g.rows())?;
                Ok(Building {
                    n: c.n,
                    columns: c.columns,
                    scenario_rows: g.scenario_rows(),
                })
            })
            .with_context(|| format!("generating table `{}`", table.name))?;
        done.insert(table.name.clone(), b);
    }
    let finished = finish_all(spec, &mut done, seed, None)?;
    let scenarios =
        spec.tables
            .iter()
            .flat_map(|t| {
                done[&t.name].scenario_rows.iter().map(|(name, rows)| {
                    crate::dataset::ScenarioRows {
                        name: name.clone(),
                        table: t.name.clone(),
                        rows: *rows as u64,
                    }
                })
            })
            .collect();
    Ok(Generated {
        tables: spec
            .tables
            .iter()
            .filter_map(|t| finished.get(&t.name).map(|df| (t.name.clone(), df.clone())))
            .collect(),
        scenarios,
        shard: None,
    })
}

/// Part `index` (1-based) of `count` of every table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// `I/N`, as the manifest records it.
impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// `I/N` with 1 <= I <= N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("expected I/N with 1 <= I <= N, such as 2/4 (got `{s}`)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The rows `[start, end)` of `n` this shard holds: contiguous, so the parts in order are
    /// the whole.
    pub fn range(&self, n: usize) -> (usize, usize) {
        let at = |k: u32| (n as u128 * k as u128 / self.count as u128) as usize;
        (at(self.index - 1), at(self.index))
    }
}

/// Rows per chunk when generation streams: one Parquet row group.
pub const DEFAULT_CHUNK_ROWS: usize = frame::ROW_GROUP_ROWS;

/// Where [`generate_chunks`] hands the rows: each table's frames in order, a chunk at a time,
/// each of the declared types in declared column order.
pub trait ChunkSink {
    /// `rows`: how many rows the table is drawn with (a composite key's repeats are then
    /// dropped, so it may end up with fewer).
    fn begin(&mut self, table: &str, rows: usize) -> anyhow::Result<()>;
    /// `positions`: each row's place among the table's drawn rows.
    fn chunk(&mut self, table: &str, positions: &[usize], df: DataFrame) -> anyhow::Result<()>;
    fn end(&mut self, table: &str) -> anyhow::Result<()>;
}

/// Why this spec's tables must be generated whole, if they must: a derived column that
/// aggregates over a child table, or otherwise reads more than its own row and the rows it
/// references.
pub fn needs_whole_tables(spec: &Spec) -> Option<String> {
    spec.tables.iter().find_map(|t| derived::row_local(t).err())
}

/// The columns of each table that tables generated after it read: referenced keys, `within`
/// and `rows_per.by` columns, `after` timestamps. Only these are kept once a table is written.
pub(crate) fn kept_columns(spec: &Spec) -> HashMap<String, HashSet<String>> {
    let mut keep: HashMap<String, HashSet<String>> = HashMap::new();
    let mut add = |t: &str, c: &str| {
        keep.entry(t.to_string()).or_default().insert(c.to_string());
    };
    for t in &spec.tables {
        for (c, rt, rc) in t.references() {
            if rt != t.name {
                add(rt, rc);
                if let Some(w) = &c.ref_within {
                    add(rt, w);
                }
            }
        }
        if let RowCount::PerParent {
            parent,
            by: Some(b),
            ..
        } = &t.rows
        {
            add(parent, b);
        }
        let mut afters = Vec::new();
        for c in &t.columns {
            if let ColumnKind::Gen(g) = &c.kind {
                g.afters(&mut afters);
            }
        }
        for s in spec.scenarios.iter().filter(|s| s.table == t.name) {
            for (_, g) in &s.set {
                g.afters(&mut afters);
            }
        }
        for (table, column) in afters {
            if let Some(table) = table {
                add(table, column);
            }
        }
    }
    keep
}

/// Generates every table a chunk of at most `chunk_rows` rows at a time into `sink`, keeping
/// in memory only the columns later tables read. The rows are those [`generate`] makes, for
/// any chunk size. Gives the rows each scenario planted. Refused (see [`needs_whole_tables`])
/// for a spec whose derived columns read more than their own row.
pub fn generate_chunks(
    spec: &Spec,
    seed: u64,
    scale: f64,
    chunk_rows: usize,
    sink: &mut dyn ChunkSink,
) -> anyhow::Result<Vec<crate::dataset::ScenarioRows>> {
    if !(scale > 0.0 && scale.is_finite()) {
        bail!("--scale must be a positive number (got {scale})");
    }
    if let Some(why) = needs_whole_tables(spec) {
        bail!("this spec cannot be generated a chunk at a time: {why}");
    }
    let chunk_rows = chunk_rows.max(1);
    let keep = kept_columns(spec);
    // Finished columns that later derived columns join to, and those tables' frames of them.
    let joined = derived::joined_columns(spec);
    let mut finished: HashMap<String, DataFrame> = HashMap::new();
    let none = HashSet::new();
    let mut done: HashMap<String, Building> = HashMap::new();
    let mut scenarios = Vec::new();
    for table in &spec.tables {
        let want = keep.get(&table.name).unwrap_or(&none);
        let mut kept = Building {
            n: 0,
            columns: Vec::new(),
            scenario_rows: Vec::new(),
        };
        let planted = (|| {
            let mut g = table::TableGen::new(spec, table, seed, scale, &done)?;
            let mut fin = Finisher::new(table, seed);
            sink.begin(&table.name, g.rows())?;
            // At least one chunk, empty or not, so every file has its schema.
            loop {
                let c = g.chunk(chunk_rows)?;
                for (name, v) in c.columns.iter().filter(|(n, _)| want.contains(n)) {
                    match kept.columns.iter_mut().find(|(k, _)| k == name) {
                        Some((_, have)) => have.append(v.clone())?,
                        None => kept.columns.push((name.clone(), v.clone())),
                    }
                }
                kept.n += c.n;
                let df = finish_table(spec, table, c.n, c.columns, &mut fin, &finished, None)?;
                if let Some(cols) = joined.get(&table.name) {
                    let part = df.select(cols.iter().map(|c| PlSmallStr::from(c.as_str())))?;
                    match finished.get_mut(&table.name) {
                        Some(have) => {
                            have.vstack_mut_owned(part)?;
                        }
                        None => {
                            finished.insert(table.name.clone(), part);
                        }
                    }
                }
                sink.chunk(&table.name, &c.positions, df)?;
                if g.finished() {
                    break;
                }
            }
            sink.end(&table.name)?;
            if let Some(df) = finished.get_mut(&table.name) {
                df.rechunk_mut();
            }
            anyhow::Ok(g.scenario_rows())
        })()
        .with_context(|| format!("generating table `{}`", table.name))?;
        scenarios.extend(
            planted
                .into_iter()
                .map(|(name, rows)| crate::dataset::ScenarioRows {
                    name,
                    table: table.name.clone(),
                    rows: rows as u64,
                }),
        );
        done.insert(table.name.clone(), kept);
    }
    Ok(scenarios)
}

/// Problems found while finishing tables in `check` mode: (line, key, message).
type Problems = Vec<(usize, String, String)>;

/// Every table's frame, finished in the order derived columns need (see `derived`). With
/// `problems`, a derived column that fails is recorded there and left empty, so `check` sees
/// every problem at once; without, it is an error.
fn finish_all(
    spec: &Spec,
    done: &mut HashMap<String, Building>,
    seed: u64,
    mut problems: Option<&mut Problems>,
) -> anyhow::Result<HashMap<String, DataFrame>> {
    let order = match derived::finish_order(spec) {
        Ok(order) => order,
        Err(cycle) => {
            let msg = format!(
                "derived columns read each other's tables in a cycle: {}",
                cycle.join(", ")
            );
            match problems.as_deref_mut() {
                Some(p) => {
                    p.push((0, "tables".into(), msg));
                    return Ok(HashMap::new());
                }
                None => bail!(msg),
            }
        }
    };
    let mut finished: HashMap<String, DataFrame> = HashMap::new();
    for table in order {
        // The values move into the frame: they are not needed once it is built.
        let b = done
            .get_mut(&table.name)
            .with_context(|| format!("`{}` was not generated", table.name))?;
        let (n, columns) = (b.n, std::mem::take(&mut b.columns));
        let df = finish_table(
            spec,
            table,
            n,
            columns,
            &mut Finisher::new(table, seed),
            &finished,
            problems.as_deref_mut(),
        )
        .with_context(|| format!("generating table `{}`", table.name))?;
        finished.insert(table.name.clone(), df);
    }
    Ok(finished)
}

/// One draw from a children-per-parent distribution.
fn children(dist: &PerParentDist, rng: &mut ChaCha8Rng) -> usize {
    match dist {
        PerParentDist::Poisson { mean, max } => {
            let k = Poisson::new(*mean).map_or(0.0, |d| d.sample(rng)) as u64;
            max.map_or(k, |m| k.min(m)) as usize
        }
        PerParentDist::Uniform { min, max } => rng.random_range(*min..=*max) as usize,
        PerParentDist::Weighted { values } => *weighted(values, rng) as usize,
    }
}

/// An index in `0..n`: uniform, or with `skew` the k-th with probability proportional to
/// 1 / (k + 1)^skew.
fn pick_index(n: usize, skew: Option<f64>, rng: &mut ChaCha8Rng) -> usize {
    match skew.and_then(|s| Zipf::new(n as f64, s).ok()) {
        Some(z) => (z.sample(rng) as usize).clamp(1, n) - 1,
        None => rng.random_range(0..n),
    }
}

/// An item chosen by weight (weights need not sum to 1).
fn weighted<'a, T>(items: &'a [(T, f64)], rng: &mut ChaCha8Rng) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.random::<f64>() * total;
    for (v, w) in items {
        if u < *w {
            return v;
        }
        u -= w;
    }
    &items[items.len() - 1].0
}

/// The case a value falls in: the index of the first case listing it.
fn case_of<T>(cases: &[(Vec<String>, T)], value: Option<&str>) -> Option<usize> {
    let v = value?;
    cases
        .iter()
        .position(|(vals, _)| vals.iter().any(|x| x == v))
}

/// What a column's generator may look at: the table's columns generated so far, and for each
/// referenced table the row each of this table's rows points at.
struct RowCx<'a> {
    table: &'a str,
    /// The table's row the chunk starts at: `rows` and `columns` count from there.
    offset: usize,
    columns: &'a [(String, Values)],
    row_of: &'a HashMap<String, Vec<Option<usize>>>,
    done: &'a HashMap<String, Building>,
}

impl RowCx<'_> {
    fn own(&self, column: &str) -> anyhow::Result<&Values> {
        self.columns
            .iter()
            .find(|(n, _)| n == column)
            .map(|(_, v)| v)
            .with_context(|| format!("`{}.{column}` must be generated first", self.table))
    }
}

/// The type a generator's values have before they are stored as the declared type: its own,
/// or for a generator that only makes nulls, the type that converts to the declared one.
fn generation_type(g: &Generator, declared: Option<ColumnType>) -> LogicalType {
    g.natural_type()
        .unwrap_or(match declared.map(|t| t.logical) {
            Some(LogicalType::Date | LogicalType::TimestampTz) => LogicalType::Timestamp,
            Some(LogicalType::Decimal) => LogicalType::Float,
            Some(LogicalType::Uuid) | None => LogicalType::Text,
            Some(t) => t,
        })
}

/// Values of `g` for the table's `rows` (indices into the table), `ty` the column's type.
fn gen_rows(
    g: &Generator,
    rows: &[usize],
    st: &mut table::Streams,
    cx: &RowCx<'_>,
    ty: LogicalType,
) -> anyhow::Result<Values> {
    let n = rows.len();
    let rng = &mut st.rng;
    Ok(match g {
        Generator::Sequence {
            start,
            per: Some(per),
        } => {
            // The position of each row among the rows before it with the same `per` value: the
            // counts run on from chunk to chunk, and are taken once per chunk.
            let by = cx.own(per)?;
            let seq = st.seq.get_or_insert_with(Default::default);
            let end = cx.offset + by.len();
            if seq.end != end {
                let counts = &mut seq.counts;
                seq.chunk = (0..by.len())
                    .map(|i| {
                        let k = counts.entry(by.key_at(i)).or_insert(0);
                        let v = start.checked_add(*k);
                        *k += 1;
                        v
                    })
                    .collect();
                seq.end = end;
            }
            Values::Int(rows.iter().map(|r| seq.chunk[*r]).collect())
        }
        Generator::Sequence { start, per: None } => Values::Int(
            rows.iter()
                .map(|i| start.checked_add((cx.offset + *i) as i64))
                .collect(),
        ),
        Generator::TimestampAfter {
            table,
            column,
            min_us,
            max_us,
        } => {
            // The base timestamp of each row: its own row's, or the referenced row's.
            let base: Vec<Option<i64>> = match table {
                None => match cx.own(column)? {
                    Values::Timestamp(v) => rows.iter().map(|r| v[*r]).collect(),
                    _ => bail!("`{}.{column}` is not a generated timestamp", cx.table),
                },
                Some(t) => {
                    let link = cx
                        .row_of
                        .get(t)
                        .with_context(|| format!("`{}` has no row of `{t}` to follow", cx.table))?;
                    let Some(Values::Timestamp(v)) = cx.done.get(t).and_then(|b| b.column(column))
                    else {
                        bail!("`{t}.{column}` is not a generated timestamp");
                    };
                    rows.iter().map(|r| link[*r].and_then(|p| v[p])).collect()
                }
            };
            // Whole seconds, as before offsets had units: specs keep their bytes.
            let (lo, hi) = (
                min_us / 1_000_000,
                (max_us / 1_000_000).max(min_us / 1_000_000),
            );
            Values::Timestamp(
                base.into_iter()
                    .map(|b| {
                        let s = rng.random_range(lo..=hi);
                        b.map(|b| b.saturating_add(s * 1_000_000))
                    })
                    .collect(),
            )
        }
        Generator::Mixture { parts } => {
            let weights: Vec<(usize, f64)> = parts
                .iter()
                .enumerate()
                .map(|(i, (w, _))| (i, *w))
                .collect();
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); parts.len()];
            let mut at: Vec<Vec<usize>> = vec![Vec::new(); parts.len()];
            for (k, r) in rows.iter().enumerate() {
                let p = *weighted(&weights, rng);
                members[p].push(*r);
                at[p].push(k);
            }
            let mut out = Values::nulls(ty, n);
            for (p, (_, part)) in parts.iter().enumerate() {
                let Some(pst) = st.parts.get_mut(p).and_then(Option::as_mut) else {
                    continue;
                };
                if members[p].is_empty() {
                    continue;
                }
                let v = gen_rows(part, &members[p], pst, cx, ty)?;
                out.put(&at[p], v)?;
            }
            out
        }
        Generator::Cases { by, cases, default } => {
            let by_values = cx.own(by)?;
            let k = cases.len();
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); k + 1];
            let mut at: Vec<Vec<usize>> = vec![Vec::new(); k + 1];
            for (j, r) in rows.iter().enumerate() {
                let key = by_values.key_at(*r);
                let c = case_of(cases, key.as_deref()).unwrap_or(k);
                members[c].push(*r);
                at[c].push(j);
            }
            let mut out = Values::nulls(ty, n);
            for c in 0..=k {
                // One stream per case, so a case's values do not move when another case's rows do.
                let part = match cases.get(c) {
                    Some((_, g)) => g,
                    None => match default {
                        Some(d) => d.as_ref(),
                        None => continue,
                    },
                };
                let Some(cst) = st.parts.get_mut(c).and_then(Option::as_mut) else {
                    continue;
                };
                if members[c].is_empty() {
                    continue;
                }
                let v = gen_rows(part, &members[c], cst, cx, ty)?;
                out.put(&at[c], v)?;
            }
            out
        }
        Generator::Null => Values::nulls(ty, n),
        Generator::Email {
            domain,
            name_from: Some(from),
            formats,
        } => {
            let names: Vec<Option<String>> = match cx.own(from)? {
                Values::Text(v) => rows.iter().map(|r| v[*r].clone()).collect(),
                _ => bail!(
                    "`{}.{from}` is not a text column to make e-mail addresses from",
                    cx.table
                ),
            };
            emails_from_names(&names, domain, formats, rng)
        }
        Generator::List { items } => {
            let at = |r: &usize| &items[(cx.offset + r) % items.len()];
            match ty {
                LogicalType::Bool => Values::Bool(
                    rows.iter()
                        .map(|r| match at(r) {
                            Constant::Bool(b) => Some(*b),
                            _ => None,
                        })
                        .collect(),
                ),
                LogicalType::Int => Values::Int(
                    rows.iter()
                        .map(|r| match at(r) {
                            Constant::Int(i) => Some(*i),
                            _ => None,
                        })
                        .collect(),
                ),
                LogicalType::Float => Values::Float(
                    rows.iter()
                        .map(|r| match at(r) {
                            Constant::Int(i) => Some(*i as f64),
                            Constant::Float(f) => Some(*f),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => Values::Text(
                    rows.iter()
                        .map(|r| match at(r) {
                            Constant::Text(t) => Some(t.clone()),
                            _ => None,
                        })
                        .collect(),
                ),
            }
        }
        g => generate_values(g, n, rng),
    })
}

/// Replaces a `tail.share` of the values with draws uniform in `[tail.min, tail.max]`, rounded
/// the way the generator rounds.
fn with_tail(values: Values, g: &Generator, t: crate::spec::Tail, rng: &mut ChaCha8Rng) -> Values {
    let round = match g {
        Generator::Float { round, .. }
        | Generator::Normal { round, .. }
        | Generator::LogNormal { round, .. }
        | Generator::Exponential { round, .. } => *round,
        _ => None,
    };
    let draw = |rng: &mut ChaCha8Rng| -> Option<f64> {
        if rng.random::<f64>() < t.share {
            let x = uniform(t.min, t.max, rng);
            Some(round_to(x, round))
        } else {
            None
        }
    };
    match values {
        Values::Int(v) => Values::Int(
            v.into_iter()
                .map(|x| draw(rng).map(|d| d.round() as i64).or(x))
                .collect(),
        ),
        Values::Float(v) => Values::Float(v.into_iter().map(|x| draw(rng).or(x)).collect()),
        other => other,
    }
}

/// Uniform in `[min, max)`, also when `max - min` overflows (`-1e308..1e308`).
fn uniform(min: f64, max: f64, rng: &mut ChaCha8Rng) -> f64 {
    if (max - min).is_finite() {
        rng.random_range(min..max)
    } else {
        let u = rng.random::<f64>();
        (min * (1.0 - u) + max * u).clamp(min, max)
    }
}

fn round_to(x: f64, digits: Option<u32>) -> f64 {
    match digits {
        Some(d) => {
            let p = 10f64.powi(d as i32);
            (x * p).round() / p
        }
        None => x,
    }
}

/// Draws from `dist` until the value falls in `[min, max]`; after 1000 misses, clamps.
fn bounded(mut draw: impl FnMut() -> f64, min: Option<f64>, max: Option<f64>) -> f64 {
    let lo = min.unwrap_or(f64::NEG_INFINITY);
    let hi = max.unwrap_or(f64::INFINITY);
    for _ in 0..1000 {
        let x = draw();
        if x >= lo && x <= hi {
            return x;
        }
    }
    draw().clamp(lo, hi)
}

fn numeric(n: usize, round: Option<u32>, mut draw: impl FnMut() -> f64) -> Values {
    if round == Some(0) {
        Values::Int((0..n).map(|_| Some(draw().round() as i64)).collect())
    } else {
        Values::Float((0..n).map(|_| Some(round_to(draw(), round))).collect())
    }
}

fn ints(n: usize, mut draw: impl FnMut() -> f64) -> Values {
    Values::Int((0..n).map(|_| Some(draw() as i64)).collect())
}

/// A version-4 UUID in canonical form from 16 random bytes.
fn uuid(rng: &mut ChaCha8Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    frame::uuid_text(&crate::spec::hex_digest_of(&b))
}

/// Values of a generator that needs nothing but its own stream.
pub(crate) fn generate_values(g: &Generator, n: usize, rng: &mut ChaCha8Rng) -> Values {
    match g {
        Generator::Sequence { start, .. } => {
            Values::Int((0..n as i64).map(|i| start.checked_add(i)).collect())
        }
        Generator::Int { min, max } => Values::Int(
            (0..n)
                .map(|_| Some(rng.random_range(*min..=*max)))
                .collect(),
        ),
        Generator::Float { min, max, round } => numeric(n, *round, || uniform(*min, *max, rng)),
        Generator::Normal {
            mean,
            std,
            min,
            max,
            round,
        } => {
            let d = Normal::new(*mean, *std).expect("validated: std > 0");
            numeric(n, *round, || bounded(|| d.sample(rng), *min, *max))
        }
        Generator::LogNormal {
            mu,
            sigma,
            min,
            max,
            round,
        } => {
            let d = LogNormal::new(*mu, *sigma).expect("validated: sigma > 0");
            numeric(n, *round, || bounded(|| d.sample(rng), *min, *max))
        }
        Generator::Exponential {
            mean,
            min,
            max,
            round,
        } => {
            let d = Exp::new(1.0 / mean).expect("validated: mean > 0");
            numeric(n, *round, || bounded(|| d.sample(rng), *min, *max))
        }
        Generator::Poisson { mean, min, max } => {
            let d = Poisson::new(*mean).expect("validated: 0 < mean <= 1e9");
            ints(n, || bounded(|| d.sample(rng), *min, *max))
        }
        Generator::Geometric { p } => {
            let d = Geometric::new(*p).expect("validated: 0 < p <= 1");
            Values::Int(
                (0..n)
                    .map(|_| Some(d.sample(rng).saturating_add(1).min(i64::MAX as u64) as i64))
                    .collect(),
            )
        }
        Generator::Zipf { n: k, s } => {
            let d = Zipf::new(*k as f64, *s).expect("validated: n >= 1, s >= 0");
            ints(n, || d.sample(rng))
        }
        Generator::Discrete { values } => {
            if values.iter().all(|(v, _)| v.fract() == 0.0) {
                Values::Int(
                    (0..n)
                        .map(|_| Some(*weighted(values, rng) as i64))
                        .collect(),
                )
            } else {
                Values::Float((0..n).map(|_| Some(*weighted(values, rng))).collect())
            }
        }
        Generator::Bool { p } => {
            Values::Bool((0..n).map(|_| Some(rng.random::<f64>() < *p)).collect())
        }
        Generator::Uuid => Values::Text((0..n).map(|_| Some(uuid(rng))).collect()),
        Generator::Constant { value } => match value {
            Constant::Bool(b) => Values::Bool(vec![Some(*b); n]),
            Constant::Int(i) => Values::Int(vec![Some(*i); n]),
            Constant::Float(f) => Values::Float(vec![Some(*f); n]),
            Constant::Text(t) => Values::Text(vec![Some(t.clone()); n]),
        },
        Generator::Choice { values } => Values::Text(
            (0..n)
                .map(|_| Some(weighted(values, rng).clone()))
                .collect(),
        ),
        Generator::Timestamp { from, to, snap } => {
            let (a, b) = (from / 1_000_000, to / 1_000_000);
            Values::Timestamp(
                (0..n)
                    .map(|_| {
                        let t = rng.random_range(a..b) * 1_000_000;
                        Some(snap.map_or(t, |s| s.apply(t)))
                    })
                    .collect(),
            )
        }
        Generator::PersonName { locales, part } if locales.is_empty() => Values::Text(
            (0..n)
                .map(|_| {
                    let f = names::FIRST[rng.random_range(0..names::FIRST.len())];
                    let l = names::LAST[rng.random_range(0..names::LAST.len())];
                    Some(match part {
                        NamePart::Full => format!("{f} {l}"),
                        NamePart::First => f.to_string(),
                        NamePart::Last => l.to_string(),
                    })
                })
                .collect(),
        ),
        Generator::PersonName { locales, part } => Values::Text(
            (0..n)
                .map(|_| {
                    let loc = pick_locale(locales, rng);
                    let f = loc.first[rng.random_range(0..loc.first.len())].0;
                    let l = loc.last[rng.random_range(0..loc.last.len())].0;
                    let sep = if loc.spaced { " " } else { "" };
                    Some(match part {
                        NamePart::Full if loc.family_first => format!("{l}{sep}{f}"),
                        NamePart::Full => format!("{f}{sep}{l}"),
                        NamePart::First => f.to_string(),
                        NamePart::Last => l.to_string(),
                    })
                })
                .collect(),
        ),
        Generator::Phone { locales, e164 } => Values::Text(
            (0..n)
                .map(|_| {
                    let loc = pick_locale(locales, rng);
                    let f = if *e164 {
                        loc.phone_e164
                    } else {
                        loc.phone_national
                    };
                    Some(fill_pattern(f, rng))
                })
                .collect(),
        ),
        Generator::Place { kind, locales } => Values::Text(
            (0..n)
                .map(|_| {
                    let loc = pick_locale(locales, rng);
                    Some(match kind {
                        PlaceKind::City => loc.cities[rng.random_range(0..loc.cities.len())].into(),
                        PlaceKind::Postcode => fill_pattern(loc.postcode, rng),
                        PlaceKind::StreetAddress => {
                            let street = loc.streets[rng.random_range(0..loc.streets.len())];
                            let number = rng.random_range(1..200u32);
                            loc.street_format
                                .replace("{s}", street)
                                .replace("{n}", &number.to_string())
                        }
                        PlaceKind::Company => {
                            let l = loc.last[rng.random_range(0..loc.last.len())].0;
                            let suffix = loc.company_suffixes
                                [rng.random_range(0..loc.company_suffixes.len())];
                            if loc.spaced {
                                format!("{l} {suffix}")
                            } else {
                                format!("{l}{suffix}")
                            }
                        }
                    })
                })
                .collect(),
        ),
        Generator::Email { domain, .. } => Values::Text(
            (0..n)
                .map(|_| {
                    let f =
                        names::FIRST[rng.random_range(0..names::FIRST.len())].to_ascii_lowercase();
                    let l =
                        names::LAST[rng.random_range(0..names::LAST.len())].to_ascii_lowercase();
                    let k: u32 = rng.random_range(10..100);
                    Some(format!("{f}.{l}{k}@{domain}"))
                })
                .collect(),
        ),
        Generator::Pattern { formats } => Values::Text(
            (0..n)
                .map(|_| {
                    // One format needs no draw, so single-format specs keep their bytes.
                    let format = if formats.len() == 1 {
                        &formats[0].0
                    } else {
                        weighted(formats, rng)
                    };
                    Some(fill_pattern(format, &mut *rng))
                })
                .collect(),
        ),
        Generator::Regex { regex } => {
            let re = rand_regex::Regex::compile(regex, 32).expect("validated: the regex compiles");
            Values::Text((0..n).map(|_| Some(rng.sample::<String, _>(&re))).collect())
        }
        Generator::Words { min, max } => Values::Text(
            (0..n)
                .map(|_| {
                    let k = rng.random_range(*min..=*max) as usize;
                    let mut s = String::new();
                    for i in 0..k {
                        let w = words::WORDS[rng.random_range(0..words::WORDS.len())];
                        if i == 0 {
                            let mut c = w.chars();
                            if let Some(f) = c.next() {
                                s.extend(f.to_uppercase());
                                s.push_str(c.as_str());
                            }
                        } else {
                            s.push(' ');
                            s.push_str(w);
                        }
                    }
                    Some(s)
                })
                .collect(),
        ),
        Generator::TimestampAfter { .. }
        | Generator::Mixture { .. }
        | Generator::Cases { .. }
        | Generator::List { .. } => {
            unreachable!("gen_rows handles generators that read other columns")
        }
        Generator::Null => Values::Text(vec![None; n]),
    }
}

/// A locale chosen by weight.
fn pick_locale(locales: &[(String, f64)], rng: &mut ChaCha8Rng) -> &'static locale::Locale {
    let code = if locales.len() == 1 {
        &locales[0].0
    } else {
        weighted(locales, rng)
    };
    locale::get(code).unwrap_or(&locale::LOCALES[0])
}

/// E-mail addresses made from a name: `{first}`, `{last}` (Latin forms, lower case), `{f}`,
/// `{l}` (their initials), `{nn}`, `{nnnn}` (random digits), the template chosen by weight.
fn emails_from_names(
    names: &[Option<String>],
    domain: &str,
    formats: &[(String, f64)],
    rng: &mut ChaCha8Rng,
) -> Values {
    let default = [("{first}.{last}".to_string(), 1.0)];
    let formats = if formats.is_empty() {
        &default[..]
    } else {
        formats
    };
    Values::Text(
        names
            .iter()
            .map(|name| {
                let template = weighted(formats, rng).clone();
                let nn = rng.random_range(10..100u32);
                let nnnn = rng.random_range(1000..10_000u32);
                let (first, last) = locale::first_last(name.as_deref()?);
                let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
                let local = template
                    .replace("{first}", &first)
                    .replace("{last}", &last)
                    .replace("{f}", &initial(&first))
                    .replace("{l}", &initial(&last))
                    .replace("{nnnn}", &nnnn.to_string())
                    .replace("{nn}", &nn.to_string());
                Some(format!("{local}@{domain}"))
            })
            .collect(),
    )
}

/// One value of a pattern: `#` a digit, `?` an upper-case letter, `@` a lower-case letter,
/// `\\` the next character as it is.
fn fill_pattern(format: &str, rng: &mut ChaCha8Rng) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '#' => char::from(b'0' + rng.random_range(0..10u8)),
            '?' => char::from(b'A' + rng.random_range(0..26u8)),
            '@' => char::from(b'a' + rng.random_range(0..26u8)),
            '\\' => chars.next().unwrap_or('\\'),
            c => c,
        });
    }
    out
}

/// The streams a table's derived columns draw from (`_rand`, `null_rate`), kept from chunk to
/// chunk like the generated columns' streams.
struct Finisher {
    rand: HashMap<String, ChaCha8Rng>,
    nulls: HashMap<String, ChaCha8Rng>,
}

impl Finisher {
    fn new(table: &Table, seed: u64) -> Finisher {
        let derived = || {
            table
                .columns
                .iter()
                .filter(|c| matches!(c.kind, ColumnKind::Derived { .. }))
        };
        Finisher {
            rand: derived()
                .map(|c| (c.name.clone(), stream(seed, &table.name, &c.name, "rand")))
                .collect(),
            nulls: derived()
                .map(|c| (c.name.clone(), stream(seed, &table.name, &c.name, "nulls")))
                .collect(),
        }
    }
}

/// Builds the frame in declared column order, each column of its declared type, adding derived
/// (`sql`) columns with Polars SQL.
fn finish_table(
    spec: &Spec,
    table: &Table,
    n: usize,
    columns: Vec<(String, Values)>,
    fin: &mut Finisher,
    finished: &HashMap<String, DataFrame>,
    mut problems: Option<&mut Problems>,
) -> anyhow::Result<DataFrame> {
    let mut typed = Vec::with_capacity(columns.len());
    for (name, v) in columns {
        let ct = table.column(&name).and_then(|c| c.column_type(spec));
        let v = match ct {
            Some(ct) => v.conform(ct).with_context(|| format!("column `{name}`"))?,
            None => v,
        };
        typed.push((name, v));
    }
    let mut df = frame::to_frame(n, &typed)?;
    drop(typed);
    for col in &table.columns {
        if let ColumnKind::Derived { .. } = &col.kind {
            let rand = fin
                .rand
                .get_mut(&col.name)
                .context("a derived column's stream")?;
            df = match derived::derive_column(spec, table, col, df.clone(), finished, rand) {
                Ok(next) => next,
                Err(e) => match problems.as_deref_mut() {
                    Some(p) => {
                        p.push((
                            col.line,
                            format!("tables.{}.columns.{}.sql", table.name, col.name),
                            polars_message(&format!("{e:#}")),
                        ));
                        let dtype = col.column_type(spec).map_or(DataType::String, frame::dtype);
                        let mut df = df;
                        df.with_column(Column::from(Series::full_null(
                            col.name.as_str().into(),
                            df.height(),
                            &dtype,
                        )))?;
                        df
                    }
                    None => return Err(e),
                },
            };
            // `null_rate` holds for derived columns too: the same stream as any other column's.
            if col.null_rate > 0.0 {
                let rng = fin
                    .nulls
                    .get_mut(&col.name)
                    .context("a derived column's stream")?;
                let keep: Vec<bool> = (0..df.height())
                    .map(|_| rng.random::<f64>() >= col.null_rate)
                    .collect();
                let c = df.column(&col.name)?.as_materialized_series().clone();
                let mask = BooleanChunked::from_slice("keep".into(), &keep);
                let nulls = Series::full_null(c.name().clone(), c.len(), c.dtype());
                df.with_column(Column::from(c.zip_with(&mask, &nulls)?))?;
            }
        }
        if let Some(ct) = col.column_type(spec) {
            frame::cast_declared(&mut df, &col.name, ct)
                .with_context(|| format!("storing `{}.{}` as `{ct}`", table.name, col.name))?;
        }
    }
    let order: Vec<PlSmallStr> = table
        .columns
        .iter()
        .map(|c| c.name.as_str().into())
        .collect();
    Ok(df.select(order)?)
}

/// Every derived column and every rule run as Polars SQL over empty tables of the spec's schema,
/// so a misspelt column, a missing table or a syntax error is a spec error before anything is
/// generated or read. A rule must be one `SELECT`.
pub fn check_sql(spec: &Spec) -> Vec<crate::spec::SpecError> {
    let mut errors = Vec::new();
    let mut err = |line: usize, key: String, message: String| {
        errors.push(crate::spec::SpecError {
            path: spec.path.clone(),
            line,
            col: 1,
            key,
            message,
        });
    };
    // Empty tables of the spec's types, finished like generated ones.
    let done: HashMap<String, Building> = spec
        .tables
        .iter()
        .map(|t| {
            let columns = t
                .columns
                .iter()
                .filter_map(|c| {
                    let ty = match &c.kind {
                        ColumnKind::Gen(g) => generation_type(g, c.column_type(spec)),
                        ColumnKind::Ref { .. } => {
                            c.column_type(spec)
                                .map_or(LogicalType::Text, |t| match t.logical {
                                    LogicalType::Date | LogicalType::TimestampTz => {
                                        LogicalType::Timestamp
                                    }
                                    LogicalType::Decimal => LogicalType::Float,
                                    LogicalType::Uuid => LogicalType::Text,
                                    l => l,
                                })
                        }
                        ColumnKind::Derived { .. } => return None,
                    };
                    Some((c.name.clone(), Values::nulls(ty, 0)))
                })
                .collect();
            (
                t.name.clone(),
                Building {
                    n: 0,
                    columns,
                    scenario_rows: Vec::new(),
                },
            )
        })
        .collect();
    let mut problems = Problems::new();
    let mut done = done;
    let tables: Vec<(String, DataFrame)> = match finish_all(spec, &mut done, 0, Some(&mut problems))
    {
        Ok(f) => spec
            .tables
            .iter()
            .filter_map(|t| f.get(&t.name).map(|df| (t.name.clone(), df.clone())))
            .collect(),
        Err(e) => {
            problems.push((0, "tables".into(), polars_message(&format!("{e:#}"))));
            Vec::new()
        }
    };
    for (line, key, message) in problems {
        err(line, key, message);
    }
    for (i, r) in spec.rules.iter().enumerate() {
        let mut ctx = SQLContext::new();
        for (name, df) in &tables {
            ctx.register(name, df.clone().lazy());
        }
        if let Err(e) = frame::sql_collect(&mut ctx, &r.sql) {
            err(
                r.line,
                format!("rules[{i}].sql"),
                format!(
                    "rule `{}` does not run as Polars SQL over the spec's tables: {}",
                    r.name,
                    polars_message(&e.to_string())
                ),
            );
        }
    }
    errors
}

/// A Polars error on one line: its message and hint, without the query plan it prints.
fn polars_message(e: &str) -> String {
    let head = e.split("\n\nResolved plan").next().unwrap_or(e);
    head.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rules the generated tables break: `(rule, violations, first example)`. The spec's own
/// data must obey its rules, or every comparison would start from a broken baseline.
pub fn broken_rules(spec: &Spec, g: &Generated) -> Vec<(String, u64, String)> {
    broken_rules_in(spec, &crate::profile::lazy(&g.tables))
}

/// [`broken_rules`] over tables as lazy frames (scans of the files a streamed run wrote).
pub fn broken_rules_in(spec: &Spec, tables: &[(String, LazyFrame)]) -> Vec<(String, u64, String)> {
    // Rules a scenario breaks on purpose.
    let excused = |name: &str| {
        spec.scenarios
            .iter()
            .any(|s| s.breaks.iter().any(|b| b == name))
    };
    crate::profile::run_rules(spec, tables, None)
        .into_iter()
        .filter(|r| r.error.is_some() || (r.violations > 0 && !excused(&r.name)))
        .map(|r| {
            let example = match &r.error {
                Some(e) => e.clone(),
                None => r.examples.first().cloned().unwrap_or_default(),
            };
            (r.name, r.violations, example)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-referencing key (an employee's manager) generates a forest: every reference points
    /// at an earlier row, roots are null, and `null_rate` holds on a derived column too.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn self_references_and_derived_null_rates() {
        let spec = crate::spec::Spec::parse(
            std::path::Path::new("s.toml"),
            "[domain]\nname = \"e\"\nseed = 1\n[tables.e]\nrows = 10000\n[tables.e.columns]\n\
             id = { gen = \"sequence\" }\nmanager_id = { ref = \"e.id\" }\n\
             x = { sql = \"id * 2\", type = \"int\", null_rate = 0.3 }\n",
        )
        .expect("spec parses");
        let g = generate(&spec, 1, 1.0).expect("generates without a panic");
        let df = &g.tables[0].1;
        let ids: Vec<i64> = df
            .column("id")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        let managers: Vec<Option<i64>> = df
            .column("manager_id")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(managers[0], None, "the first row is a root");
        for (id, m) in ids.iter().zip(&managers) {
            if let Some(m) = m {
                assert!(m < id, "a manager comes before the employee: no cycle");
            }
        }
        let nulls = df.column("x").unwrap().null_count() as f64 / 10_000.0;
        assert!((nulls - 0.3).abs() < 0.02, "{nulls}");
    }

    /// A `tail`: its share of 100k rows lands in the tail's range, the rest in the body's.
    #[test]
    fn tails_take_their_share() {
        let spec = crate::spec::Spec::parse(
            std::path::Path::new("s.toml"),
            "[domain]\nname = \"t\"\nseed = 1\n[tables.t]\nrows = 100000\n[tables.t.columns]\n\
             x = { gen = \"float\", min = 0.5, max = 5.0, round = 2, tail = { share = 0.08, min = 5.0, max = 330.0 } }\n",
        )
        .expect("spec parses");
        let g = generate(&spec, 3, 1.0).expect("generates");
        let s = g.tables[0]
            .1
            .column("x")
            .expect("x")
            .f64()
            .expect("f64")
            .clone();
        let v: Vec<f64> = s.iter().flatten().collect();
        let tail = v.iter().filter(|x| **x > 5.0).count() as f64 / v.len() as f64;
        assert!((tail - 0.08).abs() < 0.004, "{tail}");
        assert!(v.iter().all(|x| (0.5..=330.0).contains(x)));
        assert_eq!(
            spec.tables[0].columns[0].declared_range(),
            Some((Some(0.5), Some(330.0)))
        );
    }

    /// 100k values of a two-format pattern at a fixed seed: each format's share within 0.5
    /// points of its weight, every value of one of the two shapes, classes and escapes kept.
    #[test]
    fn pattern_formats_follow_their_weights() {
        let g = Generator::Pattern {
            formats: vec![
                ("+1-###-###-####".into(), 0.9),
                ("(###) ###-@@\\#".into(), 0.1),
            ],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let Values::Text(v) = generate_values(&g, 100_000, &mut rng) else {
            panic!("text")
        };
        let legacy = v.iter().flatten().filter(|s| s.starts_with('(')).count();
        let share = legacy as f64 / 100_000.0;
        assert!((share - 0.1).abs() < 0.005, "{share}");
        for s in v.iter().flatten() {
            let shape = crate::profile::text::shape(s);
            assert!(
                shape == "+9-999-999-9999" || shape == "(999) 999-a#",
                "{s} -> {shape}"
            );
        }
    }
}
