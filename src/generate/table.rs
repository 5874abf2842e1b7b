//! One table generated a chunk of rows at a time.
//!
//! Takes the spec's table and what the tables generated before it left behind (only the
//! columns later tables read: referenced keys, `rows_per.by`, `after` and `within` columns);
//! gives the table's rows in chunks of any size. Every random stream lives as long as the
//! table and each row draws from each stream in row order, so the rows are the same whatever
//! the chunk size: one chunk of every row (`generate`) or many (streamed to Parquet). It must
//! never look at a row of its own table beyond the current chunk, except the keys a
//! self-reference points back at.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use anyhow::{Context, bail};
use rand::RngExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{
    Building, RowCx, case_of, children, gen_rows, generation_type, pick_index, stream, with_tail,
};
use crate::frame::Values;
use crate::spec::{
    Column, ColumnKind, Generator, LogicalType, RowCount, Scenario, ScenarioRows, Spec, Table, Tail,
};

/// The random streams of one generator, kept from chunk to chunk: its own, and one per part of
/// a mixture or case (seeded from its own before it draws anything else).
pub(super) struct Streams {
    pub(super) rng: ChaCha8Rng,
    pub(super) parts: Vec<Option<Streams>>,
    /// `sequence` with `per`: how many rows of each `per` value came before the current chunk's
    /// end, and the current chunk's numbers.
    pub(super) seq: Option<SeqCounts>,
}

#[derive(Default)]
pub(super) struct SeqCounts {
    pub(super) counts: HashMap<Option<String>, i64>,
    pub(super) end: usize,
    pub(super) chunk: Vec<Option<i64>>,
}

impl Streams {
    pub(super) fn new(g: &Generator, mut rng: ChaCha8Rng) -> Streams {
        let parts = match g {
            Generator::Mixture { parts } => parts
                .iter()
                .map(|(_, p)| Some(Streams::new(p, ChaCha8Rng::from_seed(rng.random()))))
                .collect(),
            Generator::Cases { cases, default, .. } => (0..=cases.len())
                .map(|c| {
                    let r = ChaCha8Rng::from_seed(rng.random());
                    match cases.get(c) {
                        Some((_, g)) => Some(Streams::new(g, r)),
                        None => default.as_deref().map(|d| Streams::new(d, r)),
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Streams {
            rng,
            parts,
            seq: None,
        }
    }
}

/// A generated chunk: `n` rows of every column generated so far, in generation order.
pub(super) struct Chunk {
    pub(super) n: usize,
    pub(super) columns: Vec<(String, Values)>,
    /// Each row's place among the table's drawn rows.
    pub(super) positions: Vec<usize>,
}

/// Children per parent of a `rows_per` table, drawn for every parent up front (4 bytes a
/// parent), handed out to rows in order.
struct ParentRows {
    parent: String,
    counts: Vec<u32>,
    open: usize,
    current: usize,
    left: u32,
    parents: usize,
    /// Parents of rows scenarios add, drawn uniformly.
    extra: ChaCha8Rng,
}

impl ParentRows {
    fn next(&mut self) -> Option<usize> {
        while self.left == 0 {
            self.current = self.open;
            self.left = *self.counts.get(self.open)?;
            self.open += 1;
        }
        self.left -= 1;
        Some(self.current)
    }
}

enum Picks {
    Share(f64, Box<ChaCha8Rng>),
    Added(usize, usize),
}

struct ScenarioGen<'a> {
    s: &'a Scenario,
    picks: Picks,
    sets: Vec<(&'a str, &'a Generator, Streams)>,
    rows: usize,
}

struct RefGen<'a> {
    col: &'a Column,
    target: &'a str,
    key: &'a str,
    rng: ChaCha8Rng,
    /// `within`: the target's rows by their value of that column.
    within: Option<(&'a str, HashMap<String, Vec<usize>>)>,
}

struct ColumnGen<'a> {
    col: &'a Column,
    g: &'a Generator,
    ty: LogicalType,
    streams: Streams,
    tail: Option<(Tail, ChaCha8Rng)>,
    unique: Option<(Streams, HashSet<u64>)>,
}

struct SelfRef<'a> {
    col: &'a Column,
    key: &'a str,
    rng: ChaCha8Rng,
    /// The referenced column's values of every row so far, as generated (before nulls).
    keys: Option<Values>,
}

pub(super) struct TableGen<'a> {
    table: &'a Table,
    done: &'a HashMap<String, Building>,
    n: usize,
    base: usize,
    next: usize,
    parent: Option<ParentRows>,
    scenarios: Vec<ScenarioGen<'a>>,
    refs: Vec<RefGen<'a>>,
    columns: Vec<ColumnGen<'a>>,
    self_refs: Vec<SelfRef<'a>>,
    nulls: Vec<(&'a Column, ChaCha8Rng)>,
    empties: Vec<(&'a Column, ChaCha8Rng)>,
    /// A composite key's hashes seen so far: a row repeating one is dropped.
    composite: Option<HashSet<u128>>,
}

impl<'a> TableGen<'a> {
    pub(super) fn new(
        spec: &'a Spec,
        table: &'a Table,
        seed: u64,
        scale: f64,
        done: &'a HashMap<String, Building>,
    ) -> anyhow::Result<TableGen<'a>> {
        let name = table.name.as_str();
        let scenarios: Vec<&Scenario> = spec.scenarios.iter().filter(|s| s.table == name).collect();
        // Rows added by scenarios, after the table's own; a rare case keeps at least one row.
        let added: Vec<usize> = scenarios
            .iter()
            .map(|s| match s.rows {
                ScenarioRows::Add(k) => ((k as f64 * scale).round() as usize).max(1),
                ScenarioRows::Share(_) => 0,
            })
            .collect();
        let extra: usize = added.iter().sum();
        let (n, parent) = match &table.rows {
            RowCount::Fixed(n) => ((*n as f64 * scale).round() as usize + extra, None),
            RowCount::PerParent {
                parent,
                dist,
                by,
                cases,
            } => {
                let p = done
                    .get(parent)
                    .with_context(|| format!("`{parent}` must be generated before `{name}`"))?;
                let by_values = match by {
                    Some(b) => Some(p.column(b).with_context(|| {
                        format!(
                            "`{parent}.{b}` is not a generated column, so `rows_per.by` cannot read it"
                        )
                    })?),
                    None => None,
                };
                let mut rng = stream(seed, name, "", "rows_per");
                let mut counts = Vec::with_capacity(p.n);
                let mut base = 0usize;
                for i in 0..p.n {
                    let key = by_values.and_then(|v| v.key_at(i));
                    let d = case_of(cases, key.as_deref()).map_or(dist, |c| &cases[c].1);
                    let k = children(d, &mut rng).min(u32::MAX as usize);
                    base += k;
                    counts.push(k as u32);
                }
                let rows = ParentRows {
                    parent: parent.clone(),
                    counts,
                    open: 0,
                    current: 0,
                    left: 0,
                    parents: p.n,
                    extra: stream(seed, name, "", "scenario_parents"),
                };
                (base + extra, Some(rows))
            }
        };
        if n > 2_000_000_000 {
            bail!("{n} rows is more than one table can hold here; lower `rows` or `--scale`");
        }
        let base = n - extra;
        let mut next = base;
        let scenarios = scenarios
            .into_iter()
            .zip(&added)
            .map(|(s, k)| {
                let picks = match s.rows {
                    ScenarioRows::Share(p) => {
                        Picks::Share(p, Box::new(stream(seed, name, &s.name, "scenario_rows")))
                    }
                    ScenarioRows::Add(_) => {
                        next += k;
                        Picks::Added(next - k, next)
                    }
                };
                let sets = s
                    .set
                    .iter()
                    .map(|(c, g)| {
                        let rng = stream(seed, name, c, &format!("scenario:{}", s.name));
                        (c.as_str(), g, Streams::new(g, rng))
                    })
                    .collect();
                ScenarioGen {
                    s,
                    picks,
                    sets,
                    rows: 0,
                }
            })
            .collect();

        // Refs first: `after` timestamps need to know which row of the other table they follow.
        // Refs limited `within` a column of the row come after the refs that set that column.
        let mut refs: Vec<_> = table
            .references()
            .filter(|(_, rt, _)| *rt != name)
            .collect();
        refs.sort_by_key(|(c, _, _)| c.ref_within.is_some());
        let refs = refs
            .into_iter()
            .map(|(col, rt, rc)| {
                let target = done
                    .get(rt)
                    .with_context(|| format!("`{rt}` must be generated before `{name}`"))?;
                target.column(rc).with_context(|| {
                    format!("`{rt}.{rc}` must be generated before `{name}` refers to it")
                })?;
                let within = match &col.ref_within {
                    Some(w) => {
                        let theirs = target
                            .column(w)
                            .with_context(|| format!("`{rt}.{w}` is not a generated column"))?;
                        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
                        for r in 0..target.n {
                            if let Some(k) = theirs.key_at(r) {
                                by_key.entry(k).or_default().push(r);
                            }
                        }
                        Some((w.as_str(), by_key))
                    }
                    None => None,
                };
                Ok(RefGen {
                    col,
                    target: rt,
                    key: rc,
                    rng: stream(seed, name, &col.name, "ref"),
                    within,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let order = crate::spec::row_order(table).map_err(|cycle| {
            anyhow::anyhow!(
                "columns depend on each other in a cycle: {}",
                cycle.join(", ")
            )
        })?;
        let columns = order
            .into_iter()
            .filter_map(|col| match &col.kind {
                ColumnKind::Gen(g) => Some((col, g)),
                _ => None,
            })
            .map(|(col, g)| ColumnGen {
                col,
                g,
                ty: generation_type(g, col.column_type(spec)),
                streams: Streams::new(g, stream(seed, name, &col.name, "values")),
                tail: col.tail.map(|t| (t, stream(seed, name, &col.name, "tail"))),
                // A sequence is distinct by construction.
                unique: (col.unique && !matches!(g, Generator::Sequence { per: None, .. })).then(
                    || {
                        (
                            Streams::new(g, stream(seed, name, &col.name, "unique")),
                            HashSet::new(),
                        )
                    },
                ),
            })
            .collect();
        let self_refs = table
            .references()
            .filter(|(_, rt, _)| *rt == name)
            .map(|(col, _, rc)| SelfRef {
                col,
                key: rc,
                rng: stream(seed, name, &col.name, "ref"),
                keys: None,
            })
            .collect();
        let nulls = table
            .columns
            .iter()
            .filter(|c| c.null_rate > 0.0 && !matches!(c.kind, ColumnKind::Derived { .. }))
            .map(|c| (c, stream(seed, name, &c.name, "nulls")))
            .collect();
        let empties = table
            .columns
            .iter()
            .filter(|c| c.empty_rate > 0.0)
            .map(|c| (c, stream(seed, name, &c.name, "empty")))
            .collect();
        Ok(TableGen {
            table,
            done,
            n,
            base,
            next: 0,
            parent,
            scenarios,
            refs,
            columns,
            self_refs,
            nulls,
            empties,
            composite: (table.key_columns.len() > 1).then(HashSet::new),
        })
    }

    /// Rows the table is drawn with (a composite key's repeats are dropped from these).
    pub(super) fn rows(&self) -> usize {
        self.n
    }

    pub(super) fn finished(&self) -> bool {
        self.next >= self.n
    }

    /// Rows each scenario of this table took so far.
    pub(super) fn scenario_rows(&self) -> Vec<(String, usize)> {
        self.scenarios
            .iter()
            .map(|s| (s.s.name.clone(), s.rows))
            .collect()
    }

    /// The next `max` rows (fewer at the end of the table).
    pub(super) fn chunk(&mut self, max: usize) -> anyhow::Result<Chunk> {
        let name = self.table.name.as_str();
        let offset = self.next;
        let len = max.min(self.n - offset);
        self.next += len;
        let done = self.done;
        let mut row_of: HashMap<String, Vec<Option<usize>>> = HashMap::new();
        if let Some(p) = &mut self.parent {
            let rows = (offset..offset + len)
                .map(|r| {
                    if r < self.base {
                        p.next()
                    } else {
                        (p.parents > 0).then(|| p.extra.random_range(0..p.parents))
                    }
                })
                .collect();
            row_of.insert(p.parent.clone(), rows);
        }
        // Each scenario's rows in this chunk: a share of the table's own rows, or the added ones.
        let picks: Vec<Vec<usize>> = self
            .scenarios
            .iter_mut()
            .map(|s| {
                let rows: Vec<usize> = match &mut s.picks {
                    Picks::Share(p, rng) => (0..len)
                        .filter(|i| offset + i < self.base && rng.random::<f64>() < *p)
                        .collect(),
                    Picks::Added(a, b) => (0..len)
                        .filter(|i| (*a..*b).contains(&(offset + i)))
                        .collect(),
                };
                s.rows += rows.len();
                rows
            })
            .collect();

        let mut columns: Vec<(String, Values)> = Vec::new();
        for r in &mut self.refs {
            let target = &done[r.target];
            let follows_parent = matches!(&self.table.rows, RowCount::PerParent { parent, .. } if parent == r.target);
            let rows: Vec<Option<usize>> = match row_of.get(r.target) {
                Some(rows) if follows_parent => rows.clone(),
                _ => {
                    let rows: Vec<Option<usize>> = match &r.within {
                        Some((w, by_key)) => {
                            let own = columns
                                .iter()
                                .find(|(n, _)| n == w)
                                .map(|(_, v)| v)
                                .with_context(|| {
                                    format!(
                                        "`{name}.{w}` must be a `ref` generated before `{}`",
                                        r.col.name
                                    )
                                })?;
                            (0..len)
                                .map(|i| {
                                    let cands = by_key.get(&own.key_at(i)?)?;
                                    Some(cands[pick_index(cands.len(), r.col.ref_skew, &mut r.rng)])
                                })
                                .collect()
                        }
                        None => (0..len)
                            .map(|_| {
                                (target.n > 0)
                                    .then(|| pick_index(target.n, r.col.ref_skew, &mut r.rng))
                            })
                            .collect(),
                    };
                    row_of
                        .entry(r.target.to_string())
                        .or_insert_with(|| rows.clone());
                    rows
                }
            };
            let key = target
                .column(r.key)
                .with_context(|| format!("`{}.{}` is not kept for `{name}`", r.target, r.key))?;
            columns.push((r.col.name.clone(), key.pick(&rows)));
        }
        let all: Vec<usize> = (0..len).collect();
        for c in &mut self.columns {
            let cx = RowCx {
                table: name,
                columns: &columns,
                row_of: &row_of,
                done,
                offset,
            };
            let mut values = gen_rows(c.g, &all, &mut c.streams, &cx, c.ty)
                .with_context(|| format!("column `{}`", c.col.name))?;
            if let Some((t, rng)) = &mut c.tail {
                values = with_tail(values, c.g, *t, rng);
            }
            if let Some((streams, seen)) = &mut c.unique {
                make_unique(
                    &mut values,
                    c.g,
                    &cx,
                    c.ty,
                    streams,
                    seen,
                    name,
                    &c.col.name,
                )?;
            }
            // Scenarios set their rows' values after the column's own, before the columns
            // that depend on it are generated.
            for (s, rows) in self.scenarios.iter_mut().zip(&picks) {
                for (_, sg, streams) in s.sets.iter_mut().filter(|(col, _, _)| *col == c.col.name) {
                    if rows.is_empty() {
                        continue;
                    }
                    let v = gen_rows(sg, rows, streams, &cx, c.ty).with_context(|| {
                        format!("scenario `{}`, column `{}`", s.s.name, c.col.name)
                    })?;
                    values.put(rows, v)?;
                }
            }
            columns.push((c.col.name.clone(), values));
        }
        // Self-references (an employee's manager): each row points at an earlier row of the
        // same table, so the references form a forest whose roots (the first row, and rows
        // made null by `null_rate`) point nowhere; never a cycle.
        for s in &mut self.self_refs {
            let now = columns
                .iter()
                .find(|(n, _)| n == s.key)
                .map(|(_, v)| v.clone())
                .with_context(|| {
                    format!(
                        "`{name}.{}` refers to `{}`, which is not a generated column of the same table",
                        s.col.name, s.key
                    )
                })?;
            match &mut s.keys {
                Some(keys) => keys.append(now)?,
                None => s.keys = Some(now),
            }
            let rows: Vec<Option<usize>> = (offset..offset + len)
                .map(|i| (i > 0).then(|| s.rng.random_range(0..i)))
                .collect();
            let keys = s.keys.as_ref().context("self-reference keys")?;
            columns.push((s.col.name.clone(), keys.pick(&rows)));
        }
        for (col, rng) in &mut self.nulls {
            let Some((_, v)) = columns.iter_mut().find(|(n, _)| n == &col.name) else {
                continue;
            };
            let mut mask: Vec<bool> = (0..len)
                .map(|_| rng.random::<f64>() < col.null_rate)
                .collect();
            // A scenario's rows keep the values it planted.
            for (s, rows) in self.scenarios.iter().zip(&picks) {
                let planted = s.s.set.iter().any(|(c, _)| c == &col.name)
                    || s.s.anomalies.iter().any(|(c, _)| c == &col.name);
                if planted {
                    for r in rows {
                        mask[*r] = false;
                    }
                }
            }
            v.clear(&mask);
        }
        for (col, rng) in &mut self.empties {
            if let Some((_, Values::Text(cells))) = columns.iter_mut().find(|(n, _)| n == &col.name)
            {
                for c in cells.iter_mut() {
                    if rng.random::<f64>() < col.empty_rate && c.is_some() {
                        *c = Some(String::new());
                    }
                }
            }
        }
        for (s, rows) in self.scenarios.iter().zip(&picks) {
            for (col, anomaly) in &s.s.anomalies {
                let Some((_, Values::Text(cells))) = columns.iter_mut().find(|(n, _)| n == col)
                else {
                    bail!(
                        "scenario `{}` plants text anomalies in `{name}.{col}`, which is not a generated text column",
                        s.s.name
                    );
                };
                for r in rows {
                    if let Some(v) = &cells[*r] {
                        cells[*r] = Some(anomaly.plant(v));
                    }
                }
            }
        }
        // A composite key (a link table's pair of parents) holds each combination once: rows
        // repeating an earlier row's key are dropped.
        if let Some(seen) = &mut self.composite {
            let parts: Vec<&Values> = self
                .table
                .key_columns
                .iter()
                .filter_map(|k| columns.iter().find(|(c, _)| c == k).map(|(_, v)| v))
                .collect();
            if parts.len() == self.table.key_columns.len() {
                let keep: Vec<Option<usize>> = (0..len)
                    .filter(|i| {
                        let k: Option<Vec<String>> = parts.iter().map(|v| v.key_at(*i)).collect();
                        k.is_none_or(|k| seen.insert(hash128(&k)))
                    })
                    .map(Some)
                    .collect();
                if keep.len() < len {
                    let n = keep.len();
                    let positions = keep.iter().flatten().map(|i| offset + i).collect();
                    let columns = columns
                        .into_iter()
                        .map(|(c, v)| (c, v.pick(&keep)))
                        .collect();
                    return Ok(Chunk {
                        n,
                        columns,
                        positions,
                    });
                }
            }
        }
        Ok(Chunk {
            n: len,
            columns,
            positions: (offset..offset + len).collect(),
        })
    }
}

/// 128 bits of a key: two independent SipHashes, so a collision (which would drop a row) is
/// out of reach at any row count.
fn hash128<T: Hash>(k: &T) -> u128 {
    let mut a = std::hash::DefaultHasher::new();
    let mut b = std::hash::DefaultHasher::new();
    0u8.hash(&mut a);
    1u8.hash(&mut b);
    k.hash(&mut a);
    k.hash(&mut b);
    ((a.finish() as u128) << 64) | b.finish() as u128
}

/// Redraws each value equal to an earlier row's (of this or an earlier chunk) until it is
/// new. Row by row, so the result does not depend on where chunks start.
#[allow(clippy::too_many_arguments)]
fn make_unique(
    values: &mut Values,
    g: &Generator,
    cx: &RowCx<'_>,
    ty: LogicalType,
    streams: &mut Streams,
    seen: &mut HashSet<u64>,
    table: &str,
    column: &str,
) -> anyhow::Result<()> {
    for i in 0..values.len() {
        let mut tries = 0;
        while let Some(k) = values.key_at(i) {
            let mut h = std::hash::DefaultHasher::new();
            k.hash(&mut h);
            if seen.insert(h.finish()) {
                break;
            }
            tries += 1;
            if tries > 1000 {
                bail!(
                    "cannot make `{table}.{column}` unique: its generator keeps repeating values \
                     at {} rows. Widen its range or pattern, or drop `unique`",
                    cx.offset + i
                );
            }
            let fresh = gen_rows(g, &[i], streams, cx, ty)?;
            values.put(&[i], fresh)?;
        }
    }
    Ok(())
}
