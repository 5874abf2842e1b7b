//! How much data a spec makes, before making it: rows per table (exact for fixed counts,
//! expected for children per parent), and bytes from the column types. `generate` refuses a
//! spec whose data would not fit in memory or on disk, and `check` prints the estimate.

use std::collections::HashMap;

use crate::spec::{
    ColumnKind, Generator, LogicalType, PerParentDist, RowCount, ScenarioRows, Spec,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub rows: f64,
    /// Bytes of the values themselves (what Parquet starts from before compression).
    pub bytes: f64,
    /// Bytes generation holds in memory at its peak (values, frames and copies) when tables
    /// are generated whole.
    pub memory: f64,
    /// The same when tables stream a chunk at a time: a chunk of each table, the columns later
    /// tables read, and what `unique` columns and self-references remember.
    pub streaming_memory: f64,
}

fn mean_children(d: &PerParentDist) -> f64 {
    match d {
        PerParentDist::Poisson { mean, max } => max.map_or(*mean, |m| mean.min(m as f64)),
        PerParentDist::Uniform { min, max } => (*min + *max) as f64 / 2.0,
        PerParentDist::Weighted { values } => {
            let total: f64 = values.iter().map(|(_, w)| w).sum();
            values.iter().map(|(k, w)| *k as f64 * w).sum::<f64>() / total.max(f64::MIN_POSITIVE)
        }
    }
}

/// Typical length in bytes of a text generator's values.
fn text_len(g: &Generator) -> f64 {
    match g {
        Generator::Pattern { formats } => {
            formats.iter().map(|(f, _)| f.len()).max().unwrap_or(8) as f64
        }
        Generator::Words { min, max } => (*min + *max) as f64 / 2.0 * 7.0,
        Generator::Choice { values } => {
            values.iter().map(|(v, _)| v.len()).max().unwrap_or(8) as f64
        }
        Generator::Email { domain, .. } => 20.0 + domain.len() as f64,
        Generator::PersonName { .. } => 14.0,
        Generator::Phone { .. } => 15.0,
        Generator::Place { .. } => 20.0,
        Generator::Uuid => 36.0,
        Generator::Regex { regex } => regex.len() as f64 * 2.0,
        Generator::Mixture { parts } => parts.iter().map(|(_, g)| text_len(g)).fold(0.0, f64::max),
        Generator::Cases { cases, default, .. } => cases
            .iter()
            .map(|(_, g)| g)
            .chain(default.as_deref())
            .map(text_len)
            .fold(0.0, f64::max),
        _ => 16.0,
    }
}

pub fn estimate(spec: &Spec, scale: f64) -> Estimate {
    let mut rows: HashMap<&str, f64> = HashMap::new();
    let mut out = Estimate {
        rows: 0.0,
        bytes: 0.0,
        memory: 0.0,
        streaming_memory: 0.0,
    };
    let kept = super::kept_columns(spec);
    let chunk = super::DEFAULT_CHUNK_ROWS as f64;
    let (mut peak_chunk, mut remembered_bytes) = (0.0f64, 0.0);
    for t in &spec.tables {
        let added: f64 = spec
            .scenarios
            .iter()
            .filter(|s| s.table == t.name)
            .map(|s| match s.rows {
                ScenarioRows::Add(k) => (k as f64 * scale).round().max(1.0),
                ScenarioRows::Share(_) => 0.0,
            })
            .sum();
        let n = match &t.rows {
            RowCount::Fixed(n) => (*n as f64 * scale).round(),
            RowCount::PerParent {
                parent,
                dist,
                cases,
                ..
            } => {
                let per = cases
                    .iter()
                    .map(|(_, d)| mean_children(d))
                    .fold(mean_children(dist), f64::max);
                rows.get(parent.as_str()).copied().unwrap_or(0.0) * per
            }
        } + added;
        rows.insert(t.name.as_str(), n);
        let mut per_row = 0.0;
        let mut heap = 0.0;
        for c in &t.columns {
            let ty = c.logical_type(spec).unwrap_or(LogicalType::Text);
            per_row += match ty {
                LogicalType::Bool => 1.0,
                LogicalType::Decimal => 16.0,
                LogicalType::Text | LogicalType::Uuid => {
                    heap += 24.0;
                    match &c.kind {
                        ColumnKind::Gen(g) => text_len(g),
                        _ => 16.0,
                    }
                }
                _ => 8.0,
            };
        }
        out.rows += n;
        out.bytes += n * per_row;
        // Values, the frame built from them and one copy while derived columns are added.
        out.memory += n * (per_row * 3.0 + heap);
        let remembered = kept.get(&t.name).map_or(0, |k| k.len())
            + t.columns.iter().filter(|c| c.unique).count()
            + t.references().filter(|(_, rt, _)| *rt == t.name).count();
        // One table's chunk at a time (and a row group buffered for Parquet).
        peak_chunk = peak_chunk.max(n.min(chunk) * (per_row * 3.0 + heap) * 2.0);
        remembered_bytes += n * 40.0 * remembered as f64;
    }
    out.streaming_memory = peak_chunk + remembered_bytes;
    out
}

/// Bytes this process may still allocate (Linux: `MemAvailable`); `None` where unknown.
pub fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// A size in the units people read.
pub fn human(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut x = bytes;
    let mut u = 0;
    while x >= 1000.0 && u < UNITS.len() - 1 {
        x /= 1000.0;
        u += 1;
    }
    format!("{x:.1} {}", UNITS[u])
}

/// Refuses, before anything is generated, a spec whose data would not fit in this machine's
/// memory or on the disk that will hold `out`.
pub fn check_fits(
    spec: &Spec,
    scale: f64,
    out: &std::path::Path,
    streaming: bool,
) -> anyhow::Result<Estimate> {
    let mut e = estimate(spec, scale);
    if streaming {
        e.memory = e.streaming_memory;
    }
    let what = format!(
        "at --scale {scale} this spec makes about {:.0} rows ({} of values, about {} in memory while generating)",
        e.rows,
        human(e.bytes),
        human(e.memory)
    );
    if let Some(free) = available_memory()
        && e.memory > free
    {
        anyhow::bail!(
            "{what}, more than the {} of memory available here; nothing was generated. Lower \
             --scale or the spec's row counts",
            human(free)
        );
    }
    let dir = out
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(std::path::Path::new("."));
    // Parquet with zstd rarely compresses generated values below a quarter.
    if let Ok(free) = fs4::available_space(dir)
        && e.bytes / 4.0 > free as f64
    {
        anyhow::bail!(
            "{what}, and even compressed it would not fit in the {} free on the disk of {}; \
             nothing was generated",
            human(free as f64),
            dir.display()
        );
    }
    Ok(e)
}
