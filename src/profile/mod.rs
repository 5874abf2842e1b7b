//! Profiles a dataset folder with Polars: per-column statistics, categories, shapes and text
//! anomalies; per-table keys and orphans; and the spec's rules, run as Polars SQL.
//!
//! Takes a dataset folder (Parquet + `_dataset.json`) and the spec; gives a [`Profile`] (plain
//! serde data, versioned JSON) and the numeric [`Samples`] that exact comparisons need. Polars
//! stops here. For production data, a value, category or shape seen fewer than `k` times is
//! never put into the profile, and masked columns are profiled on what masking keeps (nulls,
//! cardinality) plus the text measured on raw values before masking.

pub mod acc;
mod column;
pub mod merge;
pub mod order;
pub mod pairs;
pub mod sketch;
pub mod text;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use polars::prelude::*;
use polars::sql::SQLContext;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Origin, SourceColumn};
use crate::frame;
use crate::spec::{LogicalType, MaskMethod, Spec};
use text::TextStats;

pub const FORMAT: &str = "realitycheck.profile/1";
/// Text columns with at most this many distinct values are profiled as categories.
pub const MAX_CATEGORIES: usize = 200;
const QUANTILES: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub format: String,
    pub domain: String,
    pub origin: Origin,
    pub spec_digest: String,
    pub created_at: String,
    /// Entries seen fewer than this many times are withheld (1 for synthetic data).
    pub disclosure_k: u64,
    pub tables: Vec<TableProfile>,
    /// Tables the source has and the spec does not name (production only).
    #[serde(default)]
    pub unknown_tables: Vec<String>,
    pub rules: Vec<RuleResult>,
    /// Profiles merged into this one (`realitycheck merge`); 1 for a profile of one dataset.
    #[serde(default = "one")]
    pub parts: u64,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableProfile {
    pub name: String,
    pub rows: u64,
    pub key: Option<String>,
    /// Production only: rows the source table holds (the profile's `rows` are the sample's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_rows: Option<u64>,
    pub duplicate_keys: u64,
    /// Per `ref` column: non-null keys with no row in the referenced table.
    pub orphans: BTreeMap<String, u64>,
    pub columns: Vec<ColumnProfile>,
    /// Every column of the source table, copied or not (production only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_columns: Option<Vec<SourceColumn>>,
    /// How the table's numeric columns move together (see `pairs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<pairs::PairStat>,
    /// Cramér's V of categorical pairs and η of numeric-by-categorical pairs (see `pairs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub associations: Vec<pairs::Association>,
    /// Per `rows_per` foreign key: how many parents have 0, 1, 2, ... children (the last bin
    /// counts `MAX_CHILDREN_BIN` or more). Kept for `drift`; `compare` counts from the keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub children: BTreeMap<String, WithheldCounts>,
}

/// Counts per fixed bin; under disclosure control a bin under `k` shows 0 and its rows are
/// counted in `withheld`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WithheldCounts {
    pub bins: Vec<u64>,
    #[serde(default)]
    pub withheld: u64,
}

impl WithheldCounts {
    pub fn of(counts: &[f64], k: u64) -> WithheldCounts {
        let mut withheld = 0;
        let bins = sketch::withhold(counts, k, &mut withheld);
        WithheldCounts { bins, withheld }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub logical_type: LogicalType,
    /// How the column was masked; `keep` for generated and unmasked data.
    pub mask: MaskMethod,
    pub rows: u64,
    pub nulls: u64,
    pub distinct: u64,
    /// Values that did not parse as the spec's type (extracted data only).
    pub type_errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numeric: Option<NumericStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Categories>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<TextStats>,
    /// Non-null values outside the spec's declared range (`min`/`max`, `from`/`to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_range: Option<u64>,
    /// Where values fall outside the declared range: a range that holds them all, bucketed
    /// outward (two significant digits; whole days for timestamps) so no single value is
    /// printed. What `suggested-spec.toml` widens the range to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_hint: Option<(f64, f64)>,
    /// Numeric and timestamp values binned for `drift` and `merge` (see `sketch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<sketch::Histogram>,
    /// A HyperLogLog of the non-null values as written (masked values for masked columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_sketch: Option<sketch::Distinct>,
    /// Timestamp columns: rows per hour, weekday, day of month and month (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<sketch::CalendarCounts>,
    /// Rows holding a conventional sentinel (`-1`, `9999`, `1970-01-01`, ...), by its label;
    /// for production only where at least `k` rows hold it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sentinels: BTreeMap<String, u64>,
}

/// The values that stand in for "unknown" by convention, with the label a report shows.
pub fn sentinel_candidates(temporal: bool) -> Vec<(f64, String)> {
    if temporal {
        ["1900-01-01", "1970-01-01", "9999-12-31", "2999-12-31"]
            .iter()
            .map(|d| {
                let t = crate::spec::parse_timestamp(d).map_or(f64::NAN, |t| t as f64);
                (t, d.to_string())
            })
            .collect()
    } else {
        [-1.0, 0.0, 9999.0, 99999.0, 999999.0, -9999.0]
            .iter()
            .map(|v| (*v, format!("{v}")))
            .collect()
    }
}

/// The range a column's values fall in, rounded outward so that no single value shows: to two
/// significant digits, or to whole days for timestamps.
pub fn range_hint(min: f64, max: f64, temporal: bool) -> (f64, f64) {
    if temporal {
        const DAY: f64 = 86_400_000_000.0;
        ((min / DAY).floor() * DAY, (max / DAY).ceil() * DAY)
    } else {
        (bucket(min, true), bucket(max, false))
    }
}

/// `x` rounded away from the middle to two significant digits (`down` for a lower bound).
pub fn bucket(x: f64, down: bool) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let step = 10f64.powf(x.abs().log10().floor() - 1.0);
    if down {
        (x / step).floor() * step
    } else {
        (x / step).ceil() * step
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NumericStats {
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Sample standard deviation (n - 1).
    pub std: f64,
    /// `(q, value)` with linear interpolation between order statistics.
    pub quantiles: Vec<(f64, f64)>,
    /// The exact sums behind `mean` and `std`, so merged partitions give the same figures as
    /// the whole (absent in profiles from before they were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sums: Option<acc::Sums>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Categories {
    pub values: BTreeMap<String, u64>,
    /// Rows whose value was withheld (seen fewer than `k` times, or beyond the cap).
    pub withheld_rows: u64,
    pub withheld_values: u64,
    /// Columns whose spec declares the categories (`choice`): rows whose value is not one of
    /// them, withheld rows included. A count, so it is safe to print; it makes a rare new
    /// value fail even when the value itself cannot be shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undeclared_rows: Option<u64>,
}

/// At most this many category values are kept in a profile; the rest are withheld.
pub const MAX_CATEGORY_VALUES: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleResult {
    pub name: String,
    pub violations: u64,
    /// Up to five violating rows as `column=value` (from masked data for production).
    pub examples: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Non-null numeric values per `table.column`, for exact two-sample statistics.
pub type Samples = HashMap<(String, String), Vec<f64>>;

impl Profile {
    pub fn table(&self, name: &str) -> Option<&TableProfile> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn read(path: &Path) -> anyhow::Result<Profile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let p: Profile = serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as a profile", path.display()))?;
        if p.format != FORMAT {
            anyhow::bail!(
                "{} has format `{}`; this version reads `{FORMAT}`",
                path.display(),
                p.format
            );
        }
        Ok(p)
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<String> {
        let text = String::from_utf8(serde_json::to_vec_pretty(self)?)?;
        frame::write_atomic(path, inline_number_arrays(&text).as_bytes())
    }
}

/// Pretty JSON with every array of plain numbers on one line: a histogram's counts take one
/// line, not two thousand, so a committed baseline profile stays small and diffable.
fn inline_number_arrays(pretty: &str) -> String {
    let lines: Vec<&str> = pretty.lines().collect();
    let mut out = String::with_capacity(pretty.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.ends_with('[') {
            let mut j = i + 1;
            let mut items = Vec::new();
            while j < lines.len() {
                let t = lines[j].trim();
                let item = t.strip_suffix(',').unwrap_or(t);
                if item.parse::<f64>().is_ok() && !item.is_empty() {
                    items.push(item);
                    j += 1;
                } else {
                    break;
                }
            }
            if !items.is_empty() && j < lines.len() && lines[j].trim_start().starts_with(']') {
                out.push_str(line);
                out.push_str(&items.join(", "));
                out.push_str(lines[j].trim_start());
                out.push('\n');
                i = j + 1;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        i += 1;
    }
    out
}

impl TableProfile {
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Frames as lazy frames, for SQL.
pub fn lazy(tables: &[(String, DataFrame)]) -> Vec<(String, LazyFrame)> {
    tables
        .iter()
        .map(|(n, df)| (n.clone(), df.clone().lazy()))
        .collect()
}

/// Every table of a dataset folder as a lazy scan: SQL over it reads only what it needs.
pub fn scan_tables(dir: &Path, ds: &Dataset) -> anyhow::Result<Vec<(String, LazyFrame)>> {
    ds.tables
        .iter()
        .map(|t| {
            let path = dir.join(&t.file);
            let lf = LazyFrame::scan_parquet(
                PlRefPath::new(path.to_string_lossy().into_owned()),
                ScanArgsParquet::default(),
            )
            .map_err(anyhow::Error::from)
            .with_context(|| format!("reading {}", path.display()))?;
            Ok((t.name.clone(), lf))
        })
        .collect()
}

/// The tables a profile reads: frames already in memory, or a dataset folder's Parquet files,
/// read a column at a time so a table is never whole in memory.
#[derive(Clone, Copy)]
pub enum Tables<'a> {
    Frames(&'a [(String, DataFrame)]),
    Files { dir: &'a Path, ds: &'a Dataset },
}

impl Tables<'_> {
    fn names(&self) -> Vec<String> {
        match self {
            Tables::Frames(t) => t.iter().map(|(n, _)| n.clone()).collect(),
            Tables::Files { ds, .. } => ds.tables.iter().map(|t| t.name.clone()).collect(),
        }
    }

    fn frame(&self, table: &str) -> Option<&DataFrame> {
        match self {
            Tables::Frames(t) => t.iter().find(|(n, _)| n == table).map(|(_, df)| df),
            Tables::Files { .. } => None,
        }
    }

    fn path(&self, table: &str) -> anyhow::Result<std::path::PathBuf> {
        match self {
            Tables::Files { dir, ds } => ds
                .tables
                .iter()
                .find(|t| t.name == table)
                .map(|t| dir.join(&t.file))
                .with_context(|| format!("no table `{table}` in {}", dir.display())),
            Tables::Frames(_) => anyhow::bail!("no table `{table}`"),
        }
    }

    fn reader(
        &self,
        table: &str,
    ) -> anyhow::Result<(std::path::PathBuf, ParquetReader<std::fs::File>)> {
        let path = self.path(table)?;
        let file =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        Ok((path, ParquetReader::new(file)))
    }

    /// The table's columns, in order.
    fn columns(&self, table: &str) -> anyhow::Result<Vec<String>> {
        if let Some(df) = self.frame(table) {
            return Ok(df.columns().iter().map(|c| c.name().to_string()).collect());
        }
        let (_, mut r) = self.reader(table)?;
        Ok(r.schema()?.iter_names().map(|n| n.to_string()).collect())
    }

    fn height(&self, table: &str) -> anyhow::Result<usize> {
        if let Some(df) = self.frame(table) {
            return Ok(df.height());
        }
        let (_, mut r) = self.reader(table)?;
        Ok(r.num_rows()?)
    }

    /// Some columns of a table (a missing one is an error).
    fn select(&self, table: &str, columns: &[String]) -> anyhow::Result<DataFrame> {
        if let Some(df) = self.frame(table) {
            return Ok(df.select(columns.iter().map(|c| PlSmallStr::from(c.as_str())))?);
        }
        let (path, r) = self.reader(table)?;
        r.with_columns(Some(columns.to_vec()))
            .finish()
            .map_err(anyhow::Error::from)
            .with_context(|| format!("reading {}", path.display()))
    }

    fn column(&self, table: &str, column: &str) -> anyhow::Result<Series> {
        let df = self.select(table, &[column.to_string()])?;
        Ok(df.column(column)?.as_materialized_series().clone())
    }

    /// Calls `f` with the column's rows in order, `batch_rows` at a time (at least once, with an
    /// empty batch for an empty table). From files, a row group's worth is read at a time.
    fn for_each_batch(
        &self,
        table: &str,
        column: &str,
        batch_rows: usize,
        mut f: impl FnMut(&Series) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut slices = |s: &Series| -> anyhow::Result<()> {
            if s.is_empty() {
                return f(s);
            }
            let mut off = 0;
            while off < s.len() {
                f(&s.slice(off as i64, batch_rows.min(s.len() - off)))?;
                off += batch_rows;
            }
            Ok(())
        };
        let Tables::Files { .. } = self else {
            return slices(&self.column(table, column)?);
        };
        let (path, mut r) = self.reader(table)?;
        let metadata = r
            .get_metadata()
            .map_err(anyhow::Error::from)
            .with_context(|| format!("reading {}", path.display()))?
            .clone();
        let total = metadata.num_rows;
        let mut off = 0;
        loop {
            let len = frame::ROW_GROUP_ROWS.min(total - off);
            let file = std::fs::File::open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            let mut rd = ParquetReader::new(file);
            rd.set_metadata(metadata.clone());
            let df = rd
                .with_columns(Some(vec![column.to_string()]))
                .with_slice(Some((off, len)))
                .finish()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("reading {}", path.display()))?;
            slices(df.column(column)?.as_materialized_series())?;
            off += len;
            if off >= total {
                break;
            }
        }
        Ok(())
    }

    /// Every table as a lazy frame, for SQL.
    fn lazy(&self) -> anyhow::Result<Vec<(String, LazyFrame)>> {
        match self {
            Tables::Frames(t) => Ok(lazy(t)),
            Tables::Files { dir, ds } => scan_tables(dir, ds),
        }
    }
}

/// Rows a column is profiled in at a time when no batch size is given.
pub const DEFAULT_BATCH_ROWS: usize = frame::ROW_GROUP_ROWS;

pub fn profile_dir(
    dir: &Path,
    spec: &Spec,
    batch_rows: usize,
) -> anyhow::Result<(Profile, Samples)> {
    let ds = Dataset::read(dir)?;
    if ds.spec_digest != spec.digest {
        tracing::warn!(
            "{} was made from another version of the spec (sha256 {}…); profiling against {}",
            dir.display(),
            &ds.spec_digest[..12.min(ds.spec_digest.len())],
            spec.path.display()
        );
    }
    profile_tables(spec, &ds, Tables::Files { dir, ds: &ds }, batch_rows)
}

/// The profile of every table, each column fed in batches of `batch_rows` (the same profile
/// for any batch size).
pub fn profile_tables(
    spec: &Spec,
    ds: &Dataset,
    tables: Tables<'_>,
    batch_rows: usize,
) -> anyhow::Result<(Profile, Samples)> {
    let k = match ds.origin {
        Origin::Production => spec.masking.k,
        Origin::Synthetic => 1,
    };
    // Production: example values in rule results and distinct-count sketches go through the
    // masking key (keyed hashes), never as values.
    let key = match ds.origin {
        Origin::Production => Some(crate::mask::MaskKey::from_env_quiet(&spec.masking.key_env)?),
        Origin::Synthetic => None,
    };
    let mut samples = Samples::new();
    let mut out = Vec::new();
    for name in tables.names() {
        let tp = profile_table(
            spec,
            ds,
            &name,
            tables,
            k,
            key.as_ref(),
            batch_rows.max(1),
            &mut samples,
        )
        .with_context(|| format!("profiling table `{name}`"))?;
        out.push(tp);
    }
    children(spec, &samples, k, &mut out);
    let unknown_tables = ds
        .extraction
        .as_ref()
        .map(|e| {
            e.source_schema
                .iter()
                .filter(|t| spec.table(&t.name).is_none())
                .map(|t| t.name.clone())
                .collect()
        })
        .unwrap_or_default();
    // Production examples show keyed hashes, never values (a violating row is rare by nature).
    let rules = run_rules(spec, &tables.lazy()?, key.as_ref());
    Ok((
        Profile {
            format: FORMAT.into(),
            domain: spec.domain.clone(),
            origin: ds.origin,
            spec_digest: ds.spec_digest.clone(),
            created_at: crate::dataset::now_rfc3339(),
            disclosure_k: k,
            tables: out,
            unknown_tables,
            rules,
            parts: 1,
        },
        samples,
    ))
}

#[allow(clippy::too_many_arguments)]
fn profile_table(
    spec: &Spec,
    ds: &Dataset,
    name: &str,
    tables: Tables<'_>,
    k: u64,
    mask_key: Option<&crate::mask::MaskKey>,
    batch_rows: usize,
    samples: &mut Samples,
) -> anyhow::Result<TableProfile> {
    let st = spec.table(name);
    let key_columns: Vec<String> = st.map(|t| t.key_columns.clone()).unwrap_or_default();
    // A composite key is named by its columns joined with `+`, like a column pair.
    let key = (!key_columns.is_empty()).then(|| key_columns.join("+"));
    let mut columns = Vec::new();
    let mut aligned: Vec<(String, Vec<f64>)> = Vec::new();
    let mut categorical: Vec<(String, Vec<Option<u32>>)> = Vec::new();
    // Columns are profiled in parallel (each on its own), then put back in the table's order:
    // the same profile for any number of threads.
    // From files, each thread reads its own column a batch at a time: a table is never whole
    // in memory, nor is a text column.
    let names = tables.columns(name)?;
    let results = in_parallel(&names, |col| {
        let mut acc: Option<column::ColumnAcc> = None;
        tables
            .for_each_batch(name, col, batch_rows, |b| {
                let acc = match &mut acc {
                    Some(a) => a,
                    None => acc.insert(column::ColumnAcc::new(
                        spec,
                        ds,
                        st,
                        name,
                        col,
                        b.dtype(),
                        k,
                        mask_key,
                    )),
                };
                acc.feed(b)
            })
            .and_then(|()| acc.context("the column gave no batch")?.finish())
            .with_context(|| format!("column `{col}`"))
    })?;
    for (cname, out) in names.into_iter().zip(results) {
        if let Some(a) = out.aligned
            && aligned.len() < pairs::MAX_PAIR_COLUMNS
        {
            aligned.push((cname.clone(), a));
        }
        if let Some(c) = out.categorical
            && categorical.len() < pairs::MAX_CATEGORICAL_COLUMNS
        {
            categorical.push((cname.clone(), c));
        }
        if let Some(v) = out.sample {
            samples.insert((name.to_string(), cname), v);
        }
        columns.extend(out.profile);
    }

    let height = tables.height(name)?;
    // Only the key's columns, where the table has them all.
    let have = tables.columns(name)?;
    let keys = if !key_columns.is_empty() && key_columns.iter().all(|k| have.contains(k)) {
        Some(tables.select(name, &key_columns)?)
    } else {
        None
    };
    let duplicate_keys = match (key_columns.as_slice(), &keys) {
        (_, None) | ([], _) => 0,
        ([one], Some(df)) => {
            let s = df.column(one)?.as_materialized_series().drop_nulls();
            (s.len() - s.n_unique()?) as u64
        }
        (many, Some(df)) => {
            // Rows whose whole key repeats an earlier row's (rows with a null part left out).
            let cols: Vec<&Column> = many.iter().filter_map(|k| df.column(k).ok()).collect();
            let mut seen = HashSet::with_capacity(df.height());
            let mut dups = 0u64;
            for i in 0..df.height() {
                let parts: Option<Vec<String>> = cols
                    .iter()
                    .map(|c| {
                        let v = c.get(i).ok()?;
                        (!v.is_null()).then(|| v.to_string())
                    })
                    .collect();
                if let Some(p) = parts
                    && !seen.insert(p.join("\u{1f}"))
                {
                    dups += 1;
                }
            }
            dups
        }
    };
    let extracted = ds
        .extraction
        .as_ref()
        .and_then(|e| e.tables.iter().find(|t| t.name == name));
    let orphans = match extracted {
        Some(et) => et.orphans.clone(),
        None => orphans_in_data(spec, name, tables)?,
    };
    let source_columns = ds
        .extraction
        .as_ref()
        .and_then(|e| e.source_schema.iter().find(|t| t.name == name))
        .map(|t| t.columns.clone());
    Ok(TableProfile {
        name: name.to_string(),
        rows: height as u64,
        key,
        source_rows: extracted.map(|et| et.source_rows),
        duplicate_keys,
        orphans,
        columns,
        source_columns,
        pairs: pairs::pairs(&aligned),
        associations: pairs::associations(&categorical, &aligned),
        children: BTreeMap::new(),
    })
}

/// `f` of every item, on as many threads as the machine has cores or `POLARS_MAX_THREADS`
/// says (at most one per item), in the items' order; the first error stops the rest.
pub(crate) fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> anyhow::Result<Vec<R>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let threads = std::env::var("POLARS_MAX_THREADS")
        .ok()
        .and_then(|t| t.trim().parse::<usize>().ok())
        .filter(|t| *t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut done: Vec<(usize, anyhow::Result<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let r = f(item);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        mine.push((i, r));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    if done.len() < items.len() && !failed.load(Ordering::Relaxed) {
        anyhow::bail!("a profiling thread stopped without a result");
    }
    done.into_iter().map(|(_, r)| r).collect()
}

/// Children per parent of every `rows_per` table, from the keys in `samples` (numeric keys only,
/// as `compare` counts them).
fn children(spec: &Spec, samples: &Samples, k: u64, out: &mut [TableProfile]) {
    for t in &spec.tables {
        let crate::spec::RowCount::PerParent { parent, .. } = &t.rows else {
            continue;
        };
        let Some((fk, _, pk)) = t.references().find(|(_, rt, _)| rt == parent) else {
            continue;
        };
        let key = |tab: &str, col: &str| (tab.to_string(), col.to_string());
        let (Some(pks), Some(fks)) = (
            samples.get(&key(parent, pk)),
            samples.get(&key(&t.name, &fk.name)),
        ) else {
            continue;
        };
        let counts = sketch::children_per_parent(pks, fks);
        if let Some(tp) = out.iter_mut().find(|p| p.name == t.name) {
            tp.children
                .insert(fk.name.clone(), WithheldCounts::of(&counts, k));
        }
    }
}

/// Statistics of finite values (see [`column::stats_of_sorted`]), for one batch of values.
#[cfg(test)]
pub(crate) fn numeric_stats(values: &[f64]) -> Option<NumericStats> {
    let mut m = acc::Moments::default();
    values.iter().for_each(|v| m.add(*v));
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    column::stats_of_sorted(&sorted, &m, 1)
}

/// Linear interpolation between order statistics (numpy's default, `method="linear"`).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Orphans counted in the data itself (synthetic data, or data without extraction facts).
fn orphans_in_data(
    spec: &Spec,
    name: &str,
    tables: Tables<'_>,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let Some(t) = spec.table(name) else {
        return Ok(out);
    };
    let have = tables.columns(name)?;
    let all = tables.names();
    for (c, rt, rc) in t.references() {
        if !have.contains(&c.name) || !all.iter().any(|n| n == rt) {
            continue;
        }
        if !tables.columns(rt)?.iter().any(|n| n == rc) {
            continue;
        }
        let child = tables.column(name, &c.name)?;
        let pk = tables.column(rt, rc)?;
        // Integer keys are compared as integers (UInt64 can exceed Int64); anything else as text.
        let int = |s: &Series| s.dtype().is_integer() && s.dtype() != &DataType::UInt64;
        let n = if int(&child) && int(&pk) {
            let as_i64 = |s: &Series| -> anyhow::Result<Vec<Option<i64>>> {
                Ok(s.cast(&DataType::Int64)?.i64()?.iter().collect())
            };
            missing(as_i64(&pk)?, as_i64(&child)?)
        } else {
            missing(as_text(&pk)?, as_text(&child)?)
        };
        out.insert(c.name.clone(), n as u64);
    }
    Ok(out)
}

/// How many non-null `values` are none of the non-null `keys`.
fn missing<T: Eq + std::hash::Hash>(keys: Vec<Option<T>>, values: Vec<Option<T>>) -> usize {
    let keys: HashSet<T> = keys.into_iter().flatten().collect();
    values
        .into_iter()
        .flatten()
        .filter(|v| !keys.contains(v))
        .count()
}

fn as_text(s: &Series) -> anyhow::Result<Vec<Option<String>>> {
    let t = s.cast(&DataType::String)?;
    Ok(t.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Runs each `[[rules]]` query over the tables; a rule that fails to run is reported, not fatal.
/// With a key, example values are shown as keyed hashes (`#3fa2c1d0`): whoever holds the masking
/// key can find the row, nobody else can read it.
pub fn run_rules(
    spec: &Spec,
    tables: &[(String, LazyFrame)],
    key: Option<&crate::mask::MaskKey>,
) -> Vec<RuleResult> {
    spec.rules
        .iter()
        .map(|r| {
            let mut ctx = SQLContext::new();
            for (name, lf) in tables {
                ctx.register(name, lf.clone());
            }
            match crate::frame::sql_collect(&mut ctx, &r.sql) {
                Ok(df) => RuleResult {
                    name: r.name.clone(),
                    violations: df.height() as u64,
                    examples: examples(&df, 5, key),
                    error: None,
                },
                Err(e) => RuleResult {
                    name: r.name.clone(),
                    violations: 0,
                    examples: vec![],
                    error: Some(format!("the rule's SQL did not run on this data: {e}")),
                },
            }
        })
        .collect()
}

fn examples(df: &DataFrame, n: usize, key: Option<&crate::mask::MaskKey>) -> Vec<String> {
    let head = df.head(Some(n));
    (0..head.height())
        .map(|i| {
            head.columns()
                .iter()
                .map(|c| {
                    let v = c.get(i).map(|v| v.to_string()).unwrap_or_default();
                    let v = v.trim_matches('"');
                    match key {
                        Some(k) => format!("{}=#{}", c.name(), crate::mask::example_hash(k, v)),
                        None => format!("{}={v}", c.name()),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_arrays_are_inlined_and_stay_json() {
        let v = serde_json::json!({"a": [1, 2.5, -3e-7], "b": ["x", 1], "c": [[1, 2], []], "d": 4});
        let text = inline_number_arrays(&serde_json::to_string_pretty(&v).expect("json"));
        assert!(text.contains("\"a\": [1, 2.5, -3e-7]"), "{text}");
        assert!(text.contains("[1, 2]"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // numpy.quantile([1, 2, 4, 8], [0.5, 0.9]) == [3.0, 6.8]
        let s = [1.0, 2.0, 4.0, 8.0];
        assert!((quantile_sorted(&s, 0.5) - 3.0).abs() < 1e-12);
        assert!((quantile_sorted(&s, 0.9) - 6.8).abs() < 1e-12);
    }
}
