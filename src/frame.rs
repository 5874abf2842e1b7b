//! Plain typed columns, and the one place they become Polars frames and Parquet files.
//!
//! Generation and masking build [`Values`]; [`to_frame`] turns them into a `DataFrame` whose
//! columns have the Polars types of the spec's column types ([`dtype`]), so each is written as
//! the matching Parquet logical type (BOOLEAN, DATE, DECIMAL, TIMESTAMP with or without UTC
//! adjustment); [`RowGroupWriter`] (or [`BackgroundWriter`], on a thread of its own) writes
//! frames under a temporary name in row groups of a fixed size and renames the file into place,
//! so an interrupted run never leaves a file that looks complete.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use polars::prelude::*;

use crate::spec::{ColumnType, LogicalType};

const DAY_US: i64 = 86_400_000_000;

/// One column's values, typed. Timestamps are microseconds since the Unix epoch (UTC for
/// `TimestampTz`), dates days since it, decimals unscaled integers (`x / 10^scale`). UUIDs are
/// text in their canonical form.
#[derive(Clone, PartialEq)]
pub enum Values {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Decimal {
        values: Vec<Option<i128>>,
        precision: u8,
        scale: u8,
    },
    Date(Vec<Option<i32>>),
    Timestamp(Vec<Option<i64>>),
    TimestampTz(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
}

/// Applies `$f` to the vector inside any variant, giving the same variant back.
macro_rules! map_values {
    ($v:expr, $x:ident => $e:expr) => {
        match $v {
            Values::Bool($x) => Values::Bool($e),
            Values::Int($x) => Values::Int($e),
            Values::Float($x) => Values::Float($e),
            Values::Decimal {
                values: $x,
                precision,
                scale,
            } => Values::Decimal {
                values: $e,
                precision: *precision,
                scale: *scale,
            },
            Values::Date($x) => Values::Date($e),
            Values::Timestamp($x) => Values::Timestamp($e),
            Values::TimestampTz($x) => Values::TimestampTz($e),
            Values::Text($x) => Values::Text($e),
        }
    };
}

/// Runs `$e` on the vector inside any variant.
macro_rules! with_values {
    ($v:expr, $x:ident => $e:expr) => {
        match $v {
            Values::Bool($x) => $e,
            Values::Int($x) | Values::Timestamp($x) | Values::TimestampTz($x) => $e,
            Values::Float($x) => $e,
            Values::Decimal { values: $x, .. } => $e,
            Values::Date($x) => $e,
            Values::Text($x) => $e,
        }
    };
}

impl Values {
    pub fn len(&self) -> usize {
        with_values!(self, v => v.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many values are null.
    pub fn null_count(&self) -> usize {
        with_values!(self, v => v.iter().filter(|x| x.is_none()).count())
    }

    pub fn logical_type(&self) -> LogicalType {
        match self {
            Values::Bool(_) => LogicalType::Bool,
            Values::Int(_) => LogicalType::Int,
            Values::Float(_) => LogicalType::Float,
            Values::Decimal { .. } => LogicalType::Decimal,
            Values::Date(_) => LogicalType::Date,
            Values::Timestamp(_) => LogicalType::Timestamp,
            Values::TimestampTz(_) => LogicalType::TimestampTz,
            Values::Text(_) => LogicalType::Text,
        }
    }

    /// `n` nulls of a type.
    pub fn nulls(ty: LogicalType, n: usize) -> Values {
        match ty {
            LogicalType::Bool => Values::Bool(vec![None; n]),
            LogicalType::Int => Values::Int(vec![None; n]),
            LogicalType::Float => Values::Float(vec![None; n]),
            LogicalType::Decimal => Values::Decimal {
                values: vec![None; n],
                precision: 38,
                scale: 9,
            },
            LogicalType::Date => Values::Date(vec![None; n]),
            LogicalType::Timestamp => Values::Timestamp(vec![None; n]),
            LogicalType::TimestampTz => Values::TimestampTz(vec![None; n]),
            LogicalType::Text | LogicalType::Uuid => Values::Text(vec![None; n]),
        }
    }

    /// The value at `i` as text, the way keys are compared across tables and databases.
    pub fn key_at(&self, i: usize) -> Option<String> {
        match self {
            Values::Bool(v) => v[i].map(|b| b.to_string()),
            Values::Int(v) | Values::Timestamp(v) | Values::TimestampTz(v) => {
                v[i].map(|x| x.to_string())
            }
            Values::Float(v) => v[i].map(|x| x.to_string()),
            Values::Decimal { values, scale, .. } => values[i].map(|x| decimal_text(x, *scale)),
            Values::Date(v) => v[i].map(|x| x.to_string()),
            Values::Text(v) => v[i].clone(),
        }
    }

    /// The values at `rows` (`None`: a null).
    #[allow(clippy::clone_on_copy)] // one body for copied numbers and cloned strings
    pub fn pick(&self, rows: &[Option<usize>]) -> Values {
        map_values!(self, v => rows.iter().map(|r| r.and_then(|r| v[r].clone())).collect())
    }

    /// Appends `more`, a batch of the same column: same variant (and scale), or an error.
    pub fn append(&mut self, more: Values) -> anyhow::Result<()> {
        match (self, more) {
            (Values::Bool(d), Values::Bool(s)) => d.extend(s),
            (Values::Int(d), Values::Int(s))
            | (Values::Timestamp(d), Values::Timestamp(s))
            | (Values::TimestampTz(d), Values::TimestampTz(s)) => d.extend(s),
            (Values::Float(d), Values::Float(s)) => d.extend(s),
            (Values::Date(d), Values::Date(s)) => d.extend(s),
            (Values::Text(d), Values::Text(s)) => d.extend(s),
            (
                Values::Decimal {
                    values: d, scale, ..
                },
                Values::Decimal {
                    values: s,
                    scale: t,
                    ..
                },
            ) if *scale == t => d.extend(s),
            (d, s) => bail!(
                "a batch holds {:?} values where the column holds {:?}",
                s.logical_type(),
                d.logical_type()
            ),
        }
        Ok(())
    }

    /// Splits off the values from `at` on, leaving the first `at`.
    pub fn split_off(&mut self, at: usize) -> Values {
        map_values!(self, v => v.split_off(at))
    }

    /// Nulls every value whose `mask` entry is set.
    pub fn clear(&mut self, mask: &[bool]) {
        with_values!(self, v => {
            for (x, m) in v.iter_mut().zip(mask) {
                if *m {
                    *x = None;
                }
            }
        })
    }

    /// Writes `part`'s values at `rows` (a part of a mixture, a case of `cases`). Ints written
    /// into floats are widened; a part of another type is an error.
    pub fn put(&mut self, rows: &[usize], part: Values) -> anyhow::Result<()> {
        let part = match (&*self, part) {
            (Values::Float(_), Values::Int(p)) => {
                Values::Float(p.into_iter().map(|x| x.map(|x| x as f64)).collect())
            }
            (_, p) => p,
        };
        macro_rules! put {
            ($dst:expr, $src:expr) => {{
                for (r, x) in rows.iter().zip($src) {
                    $dst[*r] = x;
                }
                Ok(())
            }};
        }
        match (self, part) {
            (Values::Bool(d), Values::Bool(s)) => put!(d, s),
            (Values::Int(d), Values::Int(s)) => put!(d, s),
            (Values::Float(d), Values::Float(s)) => put!(d, s),
            (Values::Timestamp(d), Values::Timestamp(s)) => put!(d, s),
            (Values::Text(d), Values::Text(s)) => put!(d, s),
            (d, s) => bail!(
                "a part makes {:?} values where the column holds {:?}",
                s.logical_type(),
                d.logical_type()
            ),
        }
    }

    /// Generated values converted to the column's declared type: ints to floats or decimals,
    /// floats to decimals (rounded half away from zero at the scale), timestamps to dates
    /// (the day they fall on) or to UTC instants. A value the type cannot hold is an error.
    pub fn conform(self, ct: ColumnType) -> anyhow::Result<Values> {
        Ok(match (self, ct.logical) {
            (Values::Int(v), LogicalType::Int) => {
                if ct.bits < 64 {
                    let lim = 1i64 << (ct.bits - 1);
                    if let Some(x) = v.iter().flatten().find(|x| **x < -lim || **x >= lim) {
                        bail!("{x} does not fit `{ct}`");
                    }
                }
                Values::Int(v)
            }
            (Values::Int(v), LogicalType::Float) => {
                Values::Float(v.into_iter().map(|x| x.map(|x| x as f64)).collect())
            }
            (Values::Int(v), LogicalType::Decimal) => {
                decimal_from(v.into_iter().map(|x| x.map(|x| x as f64)).collect(), ct)?
            }
            (Values::Float(v), LogicalType::Decimal) => decimal_from(v, ct)?,
            (Values::Timestamp(v), LogicalType::Date) => Values::Date(
                v.into_iter()
                    .map(|x| x.map(|x| x.div_euclid(DAY_US) as i32))
                    .collect(),
            ),
            (Values::Timestamp(v), LogicalType::TimestampTz) => Values::TimestampTz(v),
            (Values::Text(v), LogicalType::Uuid) => Values::Text(v),
            (v, t) if v.logical_type() == t => v,
            (v, _) => bail!(
                "generated {:?} values cannot be stored as `{ct}`",
                v.logical_type()
            ),
        })
    }
}

fn decimal_from(v: Vec<Option<f64>>, ct: ColumnType) -> anyhow::Result<Values> {
    let factor = 10f64.powi(ct.scale as i32);
    let limit = 10f64.powi((ct.precision - ct.scale) as i32);
    let mut out = Vec::with_capacity(v.len());
    for x in v {
        out.push(match x {
            Some(x) if x.is_finite() && x.abs() < limit => Some((x * factor).round() as i128),
            Some(x) => bail!("{x} does not fit `{ct}`"),
            None => None,
        });
    }
    Ok(Values::Decimal {
        values: out,
        precision: ct.precision,
        scale: ct.scale,
    })
}

/// 32 lower-case hex digits in the canonical UUID form `8-4-4-4-12`.
pub fn uuid_text(hex: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An unscaled decimal as text: `1230` at scale 2 is `12.30`.
pub fn decimal_text(x: i128, scale: u8) -> String {
    if scale == 0 {
        return x.to_string();
    }
    let p = 10i128.pow(scale as u32);
    let sign = if x < 0 { "-" } else { "" };
    let a = x.unsigned_abs();
    let p = p as u128;
    format!("{sign}{}.{:0width$}", a / p, a % p, width = scale as usize)
}

/// Parses decimal text exactly at `scale` digits (`12.3` at scale 2 is `1230`); more digits
/// after the point are rounded half away from zero. `None` if it is not a decimal number.
pub fn parse_decimal(s: &str, scale: u8) -> Option<i128> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || int.len() > 38
    {
        return None;
    }
    let scale = scale as usize;
    let mut digits: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    for i in 0..scale {
        let d = frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as i128);
        digits = digits.checked_mul(10)?.checked_add(d)?;
    }
    if frac.as_bytes().get(scale).is_some_and(|b| *b >= b'5') {
        digits = digits.checked_add(1)?;
    }
    Some(if neg { -digits } else { digits })
}

// Values of generated or masked columns may be printed; raw production values never are,
// and they never live in this type (see `mask::raw::RawTable`).
impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Values::{:?}[{}]", self.logical_type(), self.len())
    }
}

/// The Polars type a column type is stored as. 8- and 16-bit integers are stored as 32-bit
/// (this build's Polars has no narrower types); the declared range is still checked.
pub fn dtype(ct: ColumnType) -> DataType {
    match ct.logical {
        LogicalType::Bool => DataType::Boolean,
        LogicalType::Int if ct.bits < 64 => DataType::Int32,
        LogicalType::Int => DataType::Int64,
        LogicalType::Float => DataType::Float64,
        LogicalType::Decimal => DataType::Decimal(ct.precision as usize, ct.scale as usize),
        LogicalType::Date => DataType::Date,
        LogicalType::Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
        LogicalType::TimestampTz => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        LogicalType::Text | LogicalType::Uuid => DataType::String,
    }
}

pub fn to_series(name: &str, values: &Values) -> PolarsResult<Series> {
    let name: PlSmallStr = name.into();
    Ok(match values {
        Values::Bool(v) => Series::new(name, v),
        Values::Int(v) => Series::new(name, v),
        Values::Float(v) => Series::new(name, v),
        Values::Decimal {
            values,
            precision,
            scale,
        } => Series::new(name, values.as_slice())
            .into_decimal(*precision as usize, *scale as usize)?,
        Values::Date(v) => Series::new(name, v).cast(&DataType::Date)?,
        Values::Timestamp(v) => {
            Series::new(name, v).cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
        }
        Values::TimestampTz(v) => Series::new(name, v).cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))?,
        Values::Text(v) => Series::new(name, v),
    })
}

pub fn to_frame(height: usize, columns: &[(String, Values)]) -> PolarsResult<DataFrame> {
    let cols = columns
        .iter()
        .map(|(n, v)| to_series(n, v).map(Column::from))
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, cols)
}

/// Casts a frame's column to the Polars type of a column type, strictly: a value the type
/// cannot hold is an error, never a silent null.
pub fn cast_declared(df: &mut DataFrame, name: &str, ct: ColumnType) -> anyhow::Result<()> {
    let want = dtype(ct);
    let c = df.column(name)?;
    if c.dtype() == &want {
        return Ok(());
    }
    let s = c.as_materialized_series().strict_cast(&want)?;
    df.with_column(Column::from(s))?;
    Ok(())
}

/// Queries under [`sql_collect`] right now, on any thread.
static CATCHING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a panic now comes from a query [`sql_collect`] turns into an error.
pub fn panics_are_caught() -> bool {
    CATCHING.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Runs a Polars SQL query and collects it. Polars panics on some odd input (a malformed
/// `INTERVAL`, for one); such a panic becomes an error naming the query, so a spec's SQL can
/// be refused, never crash the run.
pub fn sql_collect(ctx: &mut polars::sql::SQLContext, query: &str) -> PolarsResult<DataFrame> {
    use std::sync::atomic::Ordering;
    CATCHING.fetch_add(1, Ordering::SeqCst);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ctx.execute(query).and_then(|lf| lf.collect())
    }));
    CATCHING.fetch_sub(1, Ordering::SeqCst);
    out.unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(PolarsError::ComputeError(
            format!("Polars could not run this query ({why})").into(),
        ))
    })
}

/// The logical type of a Polars dtype, as profiles and comparisons see it.
pub fn logical_type(dtype: &DataType) -> LogicalType {
    match dtype {
        DataType::Boolean => LogicalType::Bool,
        d if d.is_integer() => LogicalType::Int,
        d if d.is_float() => LogicalType::Float,
        DataType::Decimal(..) => LogicalType::Decimal,
        DataType::Date => LogicalType::Date,
        DataType::Datetime(_, Some(_)) => LogicalType::TimestampTz,
        DataType::Datetime(..) => LogicalType::Timestamp,
        _ => LogicalType::Text,
    }
}

/// Zstandard at level 1: the files are artifacts between stages, read back at once; level 3
/// (Polars' default) took a fifth of generation's time for files a few percent smaller.
fn compression() -> ParquetCompression {
    ParquetCompression::Zstd(polars::polars_utils::compression::ZstdLevel::try_new(1).ok())
}

/// Writes bytes under a temporary name and renames them into place; returns their SHA-256.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<String> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    persist(tmp, path)?;
    Ok(crate::spec::hex_digest(bytes))
}

/// A temporary file in `path`'s folder (created if need be; stale ones of killed runs removed),
/// deleted if dropped before [`persist`].
fn temp_beside(path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    crate::output::remove_stale_temp_files(dir);
    tempfile::Builder::new()
        .prefix(".realitycheck-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))
}

/// Makes a written temporary file readable, syncs it and renames it to `path`.
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("setting permissions of {}", path.display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Rows per Parquet row group when a table is written in batches: a fixed number, so the bytes
/// of a file do not depend on the batch size it was produced in.
pub const ROW_GROUP_ROWS: usize = 65_536;

/// A Parquet file written a row group at a time, under a temporary name in its folder until
/// [`ParquetSink::finish`] renames it into place; the SHA-256 is taken of the bytes as they are
/// written. Dropped unfinished, the temporary file is removed: nothing that looks complete.
pub struct ParquetSink {
    path: std::path::PathBuf,
    tmp: tempfile::NamedTempFile,
    hash: std::sync::Arc<std::sync::Mutex<sha2::Sha256>>,
    writer: Option<polars::io::parquet::write::BatchedWriter<HashingFile>>,
    rows: u64,
}

/// The file's bytes go to disk and into the running SHA-256.
struct HashingFile {
    file: std::fs::File,
    hash: std::sync::Arc<std::sync::Mutex<sha2::Sha256>>,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.file.write(buf)?;
        if let Ok(mut h) = self.hash.lock() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl ParquetSink {
    pub fn create(path: &Path) -> anyhow::Result<ParquetSink> {
        Ok(ParquetSink {
            path: path.to_path_buf(),
            tmp: temp_beside(path)?,
            hash: Default::default(),
            writer: None,
            rows: 0,
        })
    }

    /// Writes `df` as one row group (none for an empty frame, whose schema still makes the
    /// file's). Every frame must have the first one's schema.
    pub fn write(&mut self, df: &mut DataFrame) -> anyhow::Result<()> {
        if self.writer.is_none() {
            let file = HashingFile {
                file: self
                    .tmp
                    .as_file()
                    .try_clone()
                    .with_context(|| format!("writing {}", self.path.display()))?,
                hash: self.hash.clone(),
            };
            self.writer = Some(
                ParquetWriter::new(file)
                    .with_compression(compression())
                    .batched(df.schema())?,
            );
        }
        df.rechunk_mut();
        if let Some(w) = &mut self.writer {
            w.write_batch(df)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("writing {}", self.path.display()))?;
        }
        self.rows += df.height() as u64;
        Ok(())
    }

    /// Whether a frame (and with it the schema) was written.
    pub fn started(&self) -> bool {
        self.writer.is_some()
    }

    /// Writes the footer, syncs and renames the file into place; gives its rows and SHA-256.
    pub fn finish(self) -> anyhow::Result<(u64, String)> {
        use sha2::Digest;
        let path = self.path;
        let w = self
            .writer
            .with_context(|| format!("{} was given no rows and no schema", path.display()))?;
        w.finish()
            .map_err(anyhow::Error::from)
            .with_context(|| format!("writing {}", path.display()))?;
        drop(w);
        persist(self.tmp, &path)?;
        let digest = self
            .hash
            .lock()
            .map_err(|_| anyhow::anyhow!("hashing {}", path.display()))?
            .clone()
            .finalize();
        Ok((self.rows, crate::spec::hex_digest_of(&digest)))
    }
}

/// A table's frames written to Parquet in row groups of exactly [`ROW_GROUP_ROWS`] (the last
/// one shorter), however the frames were cut: the same rows give the same bytes.
pub struct RowGroupWriter {
    sink: ParquetSink,
    buffer: Option<DataFrame>,
}

impl RowGroupWriter {
    pub fn create(path: &Path) -> anyhow::Result<RowGroupWriter> {
        Ok(RowGroupWriter {
            sink: ParquetSink::create(path)?,
            buffer: None,
        })
    }

    pub fn push(&mut self, df: DataFrame) -> anyhow::Result<()> {
        let mut buf = match self.buffer.take() {
            Some(mut b) => {
                b.vstack_mut_owned(df)?;
                b
            }
            None => df,
        };
        while buf.height() >= ROW_GROUP_ROWS {
            let rest = buf.slice(ROW_GROUP_ROWS as i64, buf.height() - ROW_GROUP_ROWS);
            let mut full = buf.slice(0, ROW_GROUP_ROWS);
            self.sink.write(&mut full)?;
            buf = rest;
        }
        self.buffer = Some(buf);
        Ok(())
    }

    /// Writes what is left and renames the file into place; gives its rows and SHA-256.
    pub fn finish(mut self) -> anyhow::Result<(u64, String)> {
        if let Some(mut rest) = self.buffer.take()
            && (rest.height() > 0 || !self.sink.started())
        {
            self.sink.write(&mut rest)?;
        }
        self.sink.finish()
    }
}

/// A [`RowGroupWriter`] on a thread of its own: frames are encoded and written while the caller
/// makes the next ones. Dropped without [`BackgroundWriter::finish`], the file is abandoned
/// (its temporary file removed), never put in place.
pub struct BackgroundWriter {
    path: std::path::PathBuf,
    tx: Option<std::sync::mpsc::SyncSender<Option<DataFrame>>>,
    handle: Option<std::thread::JoinHandle<anyhow::Result<(u64, String)>>>,
}

impl BackgroundWriter {
    pub fn create(path: &Path) -> anyhow::Result<BackgroundWriter> {
        let mut w = RowGroupWriter::create(path)?;
        // Two frames in flight: the writer's memory stays a few batches.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Option<DataFrame>>(2);
        let handle = std::thread::Builder::new()
            .name("parquet-writer".into())
            .spawn(move || {
                for msg in rx {
                    match msg {
                        Some(df) => w.push(df)?,
                        None => return w.finish(),
                    }
                }
                anyhow::bail!("the writer was abandoned before the table ended")
            })
            .context("starting the Parquet writer thread")?;
        Ok(BackgroundWriter {
            path: path.to_path_buf(),
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    pub fn push(&mut self, df: DataFrame) -> anyhow::Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send(Some(df)));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: its error says why.
            _ => Err(self
                .join()
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("writing {} stopped", self.path.display()))),
        }
    }

    /// Writes what is left and renames the file into place; gives its rows and SHA-256.
    pub fn finish(mut self) -> anyhow::Result<(u64, String)> {
        if let Some(tx) = self.tx.take() {
            // A failed send means the thread already stopped; joining gives its error.
            let _ = tx.send(None);
        }
        self.join()
    }

    fn join(&mut self) -> anyhow::Result<(u64, String)> {
        self.tx = None;
        let h = self
            .handle
            .take()
            .with_context(|| format!("writing {} already ended", self.path.display()))?;
        h.join()
            .map_err(|_| anyhow::anyhow!("the thread writing {} panicked", self.path.display()))?
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        // Closing the channel without the end marker abandons the file.
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn read_parquet(path: &Path) -> anyhow::Result<DataFrame> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("reading {} as Parquet", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(from: i64, n: i64) -> DataFrame {
        let ids: Vec<i64> = (from..from + n).collect();
        DataFrame::new_infer_height(vec![Column::new("id".into(), ids)]).expect("a frame")
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .expect("the folder")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }

    /// Frames cut anywhere give the bytes of the same rows written whole; a writer dropped
    /// before `finish` leaves nothing behind, not even its temporary file; a frame of another
    /// schema is an error, and nothing is put in place.
    #[test]
    fn background_writes_are_the_same_bytes_or_nothing() {
        let dir = tempfile::tempdir().expect("a folder");
        let n = ROW_GROUP_ROWS as i64 + 1000;
        let mut whole = BackgroundWriter::create(&dir.path().join("whole.parquet")).expect("w");
        whole.push(frame(0, n)).expect("push");
        let (rows, a) = whole.finish().expect("finish");
        assert_eq!(rows, n as u64);
        let mut cut = BackgroundWriter::create(&dir.path().join("cut.parquet")).expect("w");
        let mut at = 0;
        for len in [1, 7, 40_000, 30_000].into_iter().cycle() {
            let len = len.min(n - at);
            cut.push(frame(at, len)).expect("push");
            at += len;
            if at == n {
                break;
            }
        }
        let (_, b) = cut.finish().expect("finish");
        assert_eq!(a, b, "the same rows, the same bytes");

        let mut dropped = BackgroundWriter::create(&dir.path().join("dropped.parquet")).expect("w");
        dropped.push(frame(0, 10)).expect("push");
        drop(dropped);
        let mut bad = BackgroundWriter::create(&dir.path().join("bad.parquet")).expect("w");
        bad.push(frame(0, 10)).expect("push");
        let other = DataFrame::new_infer_height(vec![Column::new("x".into(), ["a"])]).expect("df");
        let failed = bad.push(other).and_then(|()| bad.finish().map(|_| ()));
        assert!(failed.is_err(), "a frame of another schema was written");
        assert_eq!(names(dir.path()), ["cut.parquet", "whole.parquet"]);
    }
}
