//! Reads a sample of production through sqlx, read-only, and hands it to `mask` as [`RawTable`]s.
//!
//! Takes a spec and a source URL; gives raw rows that cannot be written, printed or serialized
//! (the type belongs to `mask`, which consumes it; extraction can read back only key columns,
//! to sample), plus what the source looks like (its schema, row counts, orphan keys) and the SQL
//! that was run. It never writes to the source: the session is read-only before the first
//! query, and every statement is a `SELECT`. An object the session cannot read is an error,
//! never skipped.
//!
//! Sampling keeps a root row when a seeded hash of its key falls under the sample rate, so the
//! sample is the same on every run; child rows follow their parent's key, so a sampled order
//! keeps its items. Rows whose parent does not exist at all (orphans) are sampled at the same
//! rate, so they reach the comparison. PostgreSQL and MySQL sample in the database (a hash
//! predicate on roots, `fk IN (parent's sampled keys)` on children, a semi-join), so only
//! sampled rows cross the network; SQLite, a local file with no hash function, is streamed
//! whole and sampled as it arrives, keeping only keys.
//!
//! Rows reach the [`Sink`] in batches of a bounded size, never as whole tables.

mod copy;
mod files;

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::mask::RawTable;

use crate::dataset::{ExtractedTable, SourceColumn, SourceTable};
use crate::db::{self, Dialect};
use crate::spec::{Sample, Spec, Unclassified};

/// Rows per batch unless the caller says otherwise: small enough that a batch of wide rows
/// stays in a few megabytes, large enough that per-batch work is noise.
pub const DEFAULT_BATCH_ROWS: usize = 10_000;

/// Where extraction hands each table's sampled rows, a batch at a time, in the spec's table
/// order. A batch is dropped by the sink before the next is read, so memory is bounded by the
/// batch size, not the table's.
pub trait Sink {
    /// A table starts; its batches hold `columns` (spec names, in this order).
    fn begin(&mut self, table: &str, columns: &[&str]) -> anyhow::Result<()>;
    /// The table's next batch of sampled rows; every table gets at least one (maybe empty).
    fn rows(&mut self, batch: RawTable) -> anyhow::Result<()>;
    /// The table's last batch was handed over.
    fn end(&mut self) -> anyhow::Result<()>;
}

/// What extraction read about the source (the rows went to the [`Sink`]).
pub struct Extracted {
    pub dialect: Dialect,
    pub source: String,
    pub schema: Vec<SourceTable>,
    pub table_stats: Vec<ExtractedTable>,
    /// Every statement sent, in order (for the masking audit).
    pub statements: Vec<String>,
    /// Source columns the spec does not name (copied as nothing; listed in the audit).
    pub unclassified: Vec<(String, String)>,
}

/// The production columns the spec does not classify, as `table.column`.
pub fn unclassified_columns(spec: &Spec, schema: &[SourceTable]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for st in schema {
        let Some(t) = spec.table(&st.name) else {
            continue;
        };
        for c in &st.columns {
            if t.column(&c.name).is_none() {
                out.push((st.name.clone(), c.name.clone()));
            }
        }
    }
    out
}

/// Whether a source is a folder of files rather than a database.
pub fn is_files(source: &str) -> bool {
    files::dir_of(source).is_some()
}

/// Where raw rows come from: a database session, or files read whole.
enum Reader {
    /// The session everything runs on, and for PostgreSQL a second one rows are copied through.
    Db(AnyConnection, Option<sqlx::postgres::PgConnection>),
    Files(HashMap<String, files::FileTable>),
}

/// Reads the spec's tables from `url`, sampled, `batch_rows` rows at a time into `sink`.
pub async fn extract(
    spec: &Spec,
    url: &str,
    batch_rows: usize,
    sink: &mut (dyn Sink + Send),
) -> anyhow::Result<Extracted> {
    let batch_rows = batch_rows.max(1);
    let mut statements = Vec::new();
    let db_schema = spec.source.schema.as_deref();
    let (mut reader, dialect, schema) = match files::dir_of(url) {
        Some(dir) => {
            let (tables, read) = files::read_dir(&dir)?;
            statements.extend(read);
            let schema = files::schema(&tables);
            (
                Reader::Files(tables.into_iter().collect()),
                Dialect::Sqlite,
                schema,
            )
        }
        None => {
            let (mut conn, dialect) =
                db::connect(url, true, spec.source.statement_timeout_s).await?;
            let schema = introspect(&mut conn, dialect, db_schema, &mut statements)
                .await
                .with_context(|| format!("reading the schema of {}", db::redact_url(url)))?;
            let copy = match dialect {
                Dialect::Postgres => {
                    Some(db::connect_copy(url, spec.source.statement_timeout_s).await?)
                }
                _ => None,
            };
            (Reader::Db(conn, copy), dialect, schema)
        }
    };
    // From here on tables and columns go by their spec names; only SQL uses database names.
    let schema = to_spec_names(spec, schema);

    let blind = unreadable(spec, &schema);
    if !blind.is_empty() {
        bail!(
            "the source has {} but this read-only session cannot see their columns (no privilege, \
             or a view whose definition is broken): nothing was extracted. Grant SELECT on them to \
             the user in the source URL, or fix the views",
            blind.join(", ")
        );
    }
    for t in schema.iter().filter(|t| t.columns.is_empty()) {
        tracing::warn!(
            "the source object `{}` lists no readable columns; it is not in the spec and is reported as schema drift",
            t.name
        );
    }
    let unclassified = unclassified_columns(spec, &schema);
    if !unclassified.is_empty() && spec.masking.unclassified == Unclassified::Refuse {
        let list: Vec<String> = unclassified
            .iter()
            .map(|(t, c)| format!("{t}.{c}"))
            .collect();
        bail!(
            "production has {} column{} the spec does not classify: {}\n\
             nothing was extracted. Add each to the spec (with `pii` and `mask` if it holds personal data), \
             or set `[masking] unclassified = \"redact\"` to record them without copying any value",
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            list.join(", ")
        );
    }

    let mut table_stats = Vec::new();
    let mut state = SampleState::default();

    for t in &spec.tables {
        let Some(st) = schema.iter().find(|s| s.name == t.name) else {
            continue;
        };
        let present: Vec<&str> = t
            .columns
            .iter()
            .filter(|c| st.columns.iter().any(|sc| sc.name == c.name))
            .map(|c| c.name.as_str())
            .collect();
        if present.is_empty() {
            continue;
        }
        // The parent this table follows: its `rows_per` parent, else its first reference to a
        // table already sampled.
        let follow = t
            .references()
            .filter(|(c, rt, rc)| {
                present.contains(&c.name.as_str())
                    && state.sampled.contains(*rt)
                    && spec.table(rt).and_then(|p| p.key.as_deref()) == Some(*rc)
            })
            .min_by_key(|(_, rt, _)| match &t.rows {
                crate::spec::RowCount::PerParent { parent, .. } if parent == rt => 0,
                _ => 1,
            })
            .map(|(c, rt, rc)| Follow {
                column: c.name.clone(),
                parent: rt.to_string(),
                parent_key: rc.to_string(),
            });
        let types = present
            .iter()
            .map(|c| {
                st.columns
                    .iter()
                    .find(|sc| sc.name == *c)
                    .map_or("", |sc| sc.db_type.as_str())
            })
            .collect();
        let job = TableJob {
            spec,
            table: t,
            present: &present,
            types,
            follow,
            dialect,
            schema: db_schema,
            batch_rows,
        };
        sink.begin(&t.name, &present)?;
        let (sampled_rows, source_rows, orphans) = match &mut reader {
            Reader::Files(files) => {
                let db_cols: Vec<&str> = present.iter().map(|c| t.db_column(c)).collect();
                files::take(files, t.db(), &db_cols)
                    .and_then(|cols| sample_file(&job, cols, &mut state, sink))
            }
            Reader::Db(conn, _) if dialect == Dialect::Sqlite => {
                sample_in_memory(conn, &job, &mut state, &mut statements, sink).await
            }
            Reader::Db(conn, copy) => {
                let copy = copy.as_mut();
                sample_in_database(conn, copy, &job, &mut state, &mut statements, sink).await
            }
        }
        .with_context(|| format!("reading table `{}` from {}", t.name, db::redact_url(url)))?;
        sink.end()?;
        state.sampled.insert(t.name.clone());
        table_stats.push(ExtractedTable {
            name: t.name.clone(),
            source_rows,
            sampled_rows,
            orphans,
        });
    }
    Ok(Extracted {
        dialect,
        source: db::redact_url(url),
        schema,
        table_stats,
        statements,
        unclassified,
    })
}

/// The parent a table's rows follow, through one of its `ref` columns.
struct Follow {
    column: String,
    parent: String,
    /// The parent's key column, which `column` references.
    parent_key: String,
}

/// A table's sampled row count, its row count in the source, and its orphans per `ref` column.
type Sampled = (u64, u64, BTreeMap<String, u64>);

struct TableJob<'a> {
    spec: &'a Spec,
    table: &'a crate::spec::Table,
    present: &'a [&'a str],
    /// The database type of each present column, as introspected.
    types: Vec<&'a str>,
    follow: Option<Follow>,
    dialect: Dialect,
    /// `[source] schema`, when the tables are not in the connection's default one.
    schema: Option<&'a str>,
    batch_rows: usize,
}

impl TableJob<'_> {
    /// A spec table as SQL: its database name, quoted, in the source's schema.
    fn sql_table(&self, table: &str) -> anyhow::Result<String> {
        let db = self.spec.table(table).map_or(table, |t| t.db());
        self.dialect.table(self.schema, db)
    }

    /// A spec column of a spec table as SQL: `"schema"."Table"."Column"`.
    fn column_of(&self, table: &str, column: &str) -> anyhow::Result<String> {
        let db = self
            .spec
            .table(table)
            .map_or(column, |t| t.db_column(column));
        Ok(format!(
            "{}.{}",
            self.sql_table(table)?,
            self.dialect.quote(db)?
        ))
    }

    /// The present columns as the text the database prints them in.
    fn select_list(&self) -> anyhow::Result<String> {
        let cols: Vec<String> = self
            .present
            .iter()
            .zip(&self.types)
            .map(|(c, ty)| self.dialect.select_as_text(self.table.db_column(c), ty))
            .collect::<Result<_, _>>()?;
        Ok(cols.join(", "))
    }

    fn select(&self) -> anyhow::Result<String> {
        Ok(format!(
            "SELECT {} FROM {}",
            self.select_list()?,
            self.sql_table(&self.table.name)?
        ))
    }

    /// The table's own key columns, qualified, when all are present: what rows are ordered by.
    fn order_columns(&self) -> anyhow::Result<Vec<String>> {
        let keys = &self.table.key_columns;
        if keys.is_empty() || !keys.iter().all(|k| self.present.contains(&k.as_str())) {
            return Ok(Vec::new());
        }
        keys.iter()
            .map(|k| self.column_of(&self.table.name, k))
            .collect()
    }

    /// Ordered by the table's own key column, qualified: a bare name would bind to the
    /// text-cast output column of the same name, sorting numbers as text (and on disk).
    fn order_by(&self) -> anyhow::Result<String> {
        let cols = self.order_columns()?;
        if cols.is_empty() {
            return Ok(String::new());
        }
        Ok(format!(" ORDER BY {}", cols.join(", ")))
    }

    /// An empty batch of this table's columns.
    fn batch(&self) -> RawTable {
        RawTable::new(&self.table.name, self.present, &self.key_columns())
    }

    /// The columns sampling may read back: the key and the foreign keys.
    fn key_columns(&self) -> Vec<&str> {
        self.table
            .key
            .iter()
            .map(String::as_str)
            .chain(self.table.references().map(|(c, _, _)| c.name.as_str()))
            .collect()
    }

    fn key(&self) -> Option<&str> {
        self.table
            .key
            .as_deref()
            .filter(|k| self.present.contains(k))
    }

    fn rate(&self, source_rows: u64) -> f64 {
        match self.spec.source.sample {
            Sample::Fraction(f) => f,
            Sample::Rows(n) => (n as f64 / source_rows.max(1) as f64).min(1.0),
        }
    }
}

/// What later tables need to know about the tables sampled before them.
#[derive(Default)]
struct SampleState {
    sampled: HashSet<String>,
    /// In memory: per table, every key in the source, and the keys kept in the sample.
    all_keys: HashMap<String, HashSet<Vec<u8>>>,
    kept_keys: HashMap<String, HashSet<Vec<u8>>>,
    /// In the database: per table, a query giving the keys of its sampled rows (`None`: the
    /// table was read whole).
    sample_keys: HashMap<String, Option<String>>,
}

/// Streams the whole table and samples it as it arrives, with a SHA-256 of (seed, table, key).
/// For SQLite, which has no hash function and whose data is a local file anyway; the row count
/// comes first, since a sample of `rows = N` needs the rate before the first row.
async fn sample_in_memory(
    conn: &mut AnyConnection,
    job: &TableJob<'_>,
    state: &mut SampleState,
    statements: &mut Vec<String>,
    sink: &mut (dyn Sink + Send),
) -> anyhow::Result<Sampled> {
    let count_sql = format!("SELECT COUNT(*) FROM {}", job.sql_table(&job.table.name)?);
    let source_rows = count(conn, &count_sql).await?;
    statements.push(count_sql);
    let sql = format!("{}{}", job.select()?, job.order_by()?);
    let mut sampler = Sampler::new(job, state, source_rows);
    fetch(conn, job, &sql, &mut |batch| {
        sink.rows(sampler.filter(job, state, batch))
    })
    .await?;
    statements.push(sql);
    Ok(sampler.finish(job, state))
}

/// Samples the columns of a file table (read whole by `files`), a batch at a time.
fn sample_file(
    job: &TableJob<'_>,
    cols: Vec<Vec<Option<Vec<u8>>>>,
    state: &mut SampleState,
    sink: &mut (dyn Sink + Send),
) -> anyhow::Result<Sampled> {
    let n = cols.first().map_or(0, Vec::len);
    let mut sampler = Sampler::new(job, state, n as u64);
    let mut cols: Vec<std::vec::IntoIter<Option<Vec<u8>>>> =
        cols.into_iter().map(Vec::into_iter).collect();
    let mut at = 0;
    loop {
        let mut raw = job.batch();
        for _ in at..(at + job.batch_rows).min(n) {
            raw.push_row(cols.iter_mut().map(|c| c.next().flatten()).collect());
        }
        at += raw.rows();
        sink.rows(sampler.filter(job, state, raw))?;
        if at >= n {
            break;
        }
    }
    Ok(sampler.finish(job, state))
}

/// Samples a table in memory as its rows stream past: roots by a SHA-256 of (seed, table,
/// key), children by their parent's sampled keys, orphans at the root rate; counts orphans per
/// `ref` column. What it keeps between batches is keys only: every key of the table and the
/// sampled ones, for the tables that follow it.
struct Sampler {
    rate: f64,
    source_rows: u64,
    /// Rows seen so far: a row without a key is sampled by its position.
    seen: usize,
    sampled: u64,
    all_keys: HashSet<Vec<u8>>,
    kept_keys: HashSet<Vec<u8>>,
    orphans: BTreeMap<String, u64>,
}

impl Sampler {
    fn new(job: &TableJob<'_>, state: &SampleState, source_rows: u64) -> Sampler {
        let orphans = job
            .table
            .references()
            .filter(|(c, rt, _)| {
                job.present.contains(&c.name.as_str()) && state.all_keys.contains_key(*rt)
            })
            .map(|(c, _, _)| (c.name.clone(), 0))
            .collect();
        Sampler {
            rate: job.rate(source_rows),
            source_rows,
            seen: 0,
            sampled: 0,
            all_keys: HashSet::new(),
            kept_keys: HashSet::new(),
            orphans,
        }
    }

    /// The batch's sampled rows.
    fn filter(&mut self, job: &TableJob<'_>, state: &SampleState, raw: RawTable) -> RawTable {
        let t = job.table;
        let key_cells = job
            .key()
            .and_then(|k| raw.column_index(k))
            .and_then(|k| raw.key_cells(k));
        let follow = job.follow.as_ref().and_then(|f| {
            raw.column_index(&f.column)
                .and_then(|c| raw.key_cells(c))
                .map(|c| (c, f.parent.as_str()))
        });
        let mut keep = Vec::with_capacity(raw.rows());
        for i in 0..raw.rows() {
            let key = key_cells.and_then(|c| c.get(i));
            let position = (self.seen + i).to_le_bytes();
            let sampled = sample_hash(job.spec.seed, &t.name, key.unwrap_or(&position)) < self.rate;
            let k = match follow {
                None => sampled,
                Some((cells, parent)) => match cells.get(i) {
                    Some(fk) if state.kept_keys[parent].contains(fk) => true,
                    Some(fk) if !state.all_keys[parent].contains(fk) => sampled,
                    Some(_) => false,
                    None => sampled,
                },
            };
            if let Some(key) = key {
                self.all_keys.insert(key.to_vec());
                if k {
                    self.kept_keys.insert(key.to_vec());
                }
            }
            keep.push(k);
        }
        for (c, rt, _) in t.references() {
            let cells = raw.column_index(&c.name).and_then(|ci| raw.key_cells(ci));
            if let (Some(cells), Some(parent_keys), Some(n)) =
                (cells, state.all_keys.get(rt), self.orphans.get_mut(&c.name))
            {
                *n += cells
                    .iter()
                    .flatten()
                    .filter(|fk| !parent_keys.contains(*fk))
                    .count() as u64;
            }
        }
        self.seen += raw.rows();
        let kept = raw.filter(&keep);
        self.sampled += kept.rows() as u64;
        kept
    }

    fn finish(self, job: &TableJob<'_>, state: &mut SampleState) -> Sampled {
        let name = job.table.name.clone();
        state.all_keys.insert(name.clone(), self.all_keys);
        state.kept_keys.insert(name, self.kept_keys);
        (self.sampled, self.source_rows, self.orphans)
    }
}

/// Samples in the database: a keyed-hash predicate on root tables' keys, and children selected by
/// their parent's sampled keys, so only sampled rows cross the network. Counts (rows, orphans) are
/// aggregates computed by the database.
async fn sample_in_database(
    conn: &mut AnyConnection,
    copy: Option<&mut sqlx::postgres::PgConnection>,
    job: &TableJob<'_>,
    state: &mut SampleState,
    statements: &mut Vec<String>,
    sink: &mut (dyn Sink + Send),
) -> anyhow::Result<Sampled> {
    let (t, d) = (job.table, job.dialect);
    let table = job.sql_table(&t.name)?;
    let count_sql = format!("SELECT COUNT(*) FROM {table}");
    let source_rows = count(conn, &count_sql).await?;
    statements.push(count_sql);

    let rate = job.rate(source_rows);
    // The table's own hash predicate: roots are sampled by it, and so are rows that follow no
    // parent (orphans, null keys). Without a key there is nothing to hash: all rows are read.
    let own = match job.key() {
        Some(k) if rate < 1.0 => Some(hash_predicate(
            d,
            job.spec.seed,
            &job.column_of(&t.name, k)?,
            rate,
        )?),
        _ => None,
    };
    // The sampled rows as one or two plain conditions: rows that follow a sampled parent
    // (`fk IN (parent's sampled keys)`, a hash semi-join), and rows with no parent at all
    // sampled at the table's own rate (an anti-join). One WHERE with `IN (...) OR NOT EXISTS
    // (...)` defeats both plans: on 1.5M customers and 3M orders it ran over 120 s against
    // 3.2 s as two branches of a UNION ALL. The branches are disjoint: a row with a parent is
    // not an orphan.
    let branches: Option<Vec<String>> = match &job.follow {
        None => own.map(|o| vec![o]),
        Some(f) => match state.sample_keys.get(&f.parent).cloned().flatten() {
            // The parent was read whole, so every child follows.
            None => None,
            Some(parent_keys) => {
                let (ptable, pkey, fk) = (
                    job.sql_table(&f.parent)?,
                    job.column_of(&f.parent, &f.parent_key)?,
                    job.column_of(&t.name, &f.column)?,
                );
                let orphan = format!(
                    "({fk} IS NULL OR NOT EXISTS (SELECT 1 FROM {ptable} WHERE {pkey} = {fk}))"
                );
                Some(vec![
                    format!("{fk} IN ({parent_keys})"),
                    match own {
                        Some(own) => format!("{orphan} AND {own}"),
                        None => orphan,
                    },
                ])
            }
        },
    };
    // MariaDB does the opposite: it cannot run `IN (... UNION ALL ...)` as a semi-join and
    // evaluates it per row (the demo's grandchildren took minutes), while the single WHERE
    // runs fine there.
    let branches = match branches {
        Some(b) if d == Dialect::MySql && b.len() > 1 => {
            Some(vec![format!("(({}))", b.join(") OR ("))])
        }
        b => b,
    };
    let sql = match branches.as_deref() {
        None => format!("{}{}", job.select()?, job.order_by()?),
        Some([one]) => format!("{} WHERE {one}{}", job.select()?, job.order_by()?),
        Some(many) => {
            // The key columns ride along under names of their own to order the union by.
            let order = job.order_columns()?;
            let extra: String = order
                .iter()
                .enumerate()
                .map(|(i, c)| format!(", {c} AS realitycheck_order_{i}"))
                .collect();
            let list = job.select_list()?;
            let parts: Vec<String> = many
                .iter()
                .map(|w| format!("SELECT {list}{extra} FROM {table} WHERE {w}"))
                .collect();
            let by: Vec<String> = (0..order.len())
                .map(|i| format!("realitycheck_order_{i}"))
                .collect();
            format!(
                "SELECT * FROM ({}) AS realitycheck_sample{}",
                parts.join(" UNION ALL "),
                if by.is_empty() {
                    String::new()
                } else {
                    format!(" ORDER BY {}", by.join(", "))
                }
            )
        }
    };
    // This table's sampled keys, for the tables that follow it.
    let keys = match (&branches, job.key()) {
        (Some(b), Some(k)) => {
            let kc = job.column_of(&t.name, k)?;
            let parts: Vec<String> = b
                .iter()
                .map(|w| format!("SELECT {kc} FROM {table} WHERE {w}"))
                .collect();
            Some(parts.join(" UNION ALL "))
        }
        _ => None,
    };
    let sampled = match copy {
        Some(pg) => {
            let batch = || job.batch();
            let (n, copy_sql) =
                copy::fetch(pg, &sql, batch, job.batch_rows, &mut |b| sink.rows(b)).await?;
            statements.push(copy_sql);
            n
        }
        None => {
            let n = fetch(conn, job, &sql, &mut |batch| sink.rows(batch)).await?;
            statements.push(sql);
            n
        }
    };

    let mut orphans = BTreeMap::new();
    for (c, rt, rc) in t.references() {
        if !job.present.contains(&c.name.as_str()) || !state.sampled.contains(rt) {
            continue;
        }
        let (ptable, pkey, fk) = (
            job.sql_table(rt)?,
            job.column_of(rt, rc)?,
            job.column_of(&t.name, &c.name)?,
        );
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE {fk} IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM {ptable} WHERE {pkey} = {fk})"
        );
        orphans.insert(c.name.clone(), count(conn, &sql).await?);
        statements.push(sql);
    }
    state.sample_keys.insert(t.name.clone(), keys);
    Ok((sampled, source_rows, orphans))
}

/// Keeps a row when a seeded hash of its key column (`col`, as SQL), mod one million, falls
/// under `rate` × 1e6.
fn hash_predicate(d: Dialect, seed: u64, col: &str, rate: f64) -> anyhow::Result<String> {
    let threshold = (rate * 1_000_000.0).round() as u64;
    Ok(match d {
        Dialect::Postgres => format!(
            "((hashtextextended(CAST({col} AS text), {}) & 9223372036854775807) % 1000000) < {threshold}",
            seed as i64
        ),
        Dialect::MySql => {
            format!("(CRC32(CONCAT('{seed}:', CAST({col} AS CHAR))) % 1000000) < {threshold}")
        }
        Dialect::Sqlite => bail!("SQLite is sampled in memory"),
    })
}

async fn count(conn: &mut AnyConnection, sql: &str) -> anyhow::Result<u64> {
    let row = sqlx::query(AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await?;
    let n: i64 = row.try_get(0)?;
    Ok(n.max(0) as u64)
}

/// A uniform number in [0, 1) from (seed, table, key): the sampling decision for one row.
fn sample_hash(seed: u64, table: &str, key: &[u8]) -> f64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"realitycheck/sample/v1\0");
    h.update(seed.to_le_bytes());
    h.update(table.as_bytes());
    h.update([0]);
    h.update(key);
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs `sql` and hands its rows to `each` in batches of `job.batch_rows`: the first batch even
/// when there are no rows, so the sink sees the table's columns. Gives the rows read.
async fn fetch(
    conn: &mut AnyConnection,
    job: &TableJob<'_>,
    sql: &str,
    each: &mut (dyn FnMut(RawTable) -> anyhow::Result<()> + Send),
) -> anyhow::Result<u64> {
    let (dialect, columns) = (job.dialect, job.present);
    let mut raw = job.batch();
    let (mut read, mut handed) = (0u64, false);
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let mut cells = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            let cell: Option<Vec<u8>> = match dialect {
                Dialect::Sqlite => row.try_get(i)?,
                _ => match row.try_get::<Option<String>, _>(i) {
                    Ok(s) => s.map(String::into_bytes),
                    Err(_) => row.try_get::<Option<Vec<u8>>, _>(i)?,
                },
            };
            cells.push(cell);
        }
        raw.push_row(cells);
        read += 1;
        if raw.rows() >= job.batch_rows {
            each(std::mem::replace(&mut raw, job.batch()))?;
            handed = true;
        }
    }
    if raw.rows() > 0 || !handed {
        each(raw)?;
    }
    Ok(read)
}

/// Every table and view of the source's schema (the `[source] schema`, else the connection's
/// default) with its columns and their database types, by database name.
async fn introspect(
    conn: &mut AnyConnection,
    dialect: Dialect,
    schema: Option<&str>,
    statements: &mut Vec<String>,
) -> anyhow::Result<Vec<SourceTable>> {
    let (columns_sql, objects_sql): (&'static str, &'static str) = match (dialect, schema) {
        (Dialect::Sqlite, None) => (
            "SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ),
        (Dialect::Sqlite, Some(_)) => bail!(
            "`[source] schema` does not apply to SQLite (a file is one schema); remove it or point \
             the source at PostgreSQL or MySQL"
        ),
        (Dialect::Postgres, None) => (
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
            "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY 1",
        ),
        (Dialect::Postgres, Some(_)) => (
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
            "SELECT c.relname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY 1",
        ),
        (Dialect::MySql, None) => (
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(data_type AS CHAR) \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             ORDER BY table_name, ordinal_position",
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
        ),
        (Dialect::MySql, Some(_)) => (
            "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(data_type AS CHAR) \
             FROM information_schema.columns WHERE table_schema = ? \
             ORDER BY table_name, ordinal_position",
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
        ),
    };
    let bound = |sql: &str| match schema {
        Some(s) => format!("{sql} -- schema: {s:?}"),
        None => sql.to_string(),
    };
    let query = |sql: &'static str| {
        let q = sqlx::query(sql);
        match schema {
            Some(s) => q.bind(s.to_string()),
            None => q,
        }
    };
    statements.push(bound(columns_sql));
    let rows = query(columns_sql).fetch_all(&mut *conn).await?;
    // Every table and view, whether or not its columns can be read: a view whose definer is
    // gone, or a table this user may not read, lists no columns above and must not vanish.
    statements.push(bound(objects_sql));
    let objects: Vec<String> = query(objects_sql)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
    let mut out: Vec<SourceTable> = Vec::new();
    for row in rows {
        let t: String = row.try_get(0)?;
        let c: String = row.try_get(1)?;
        let ty: String = row.try_get::<Option<String>, _>(2)?.unwrap_or_default();
        match out.last_mut() {
            Some(last) if last.name == t => last.columns.push(SourceColumn {
                name: c,
                db_type: ty,
            }),
            _ => out.push(SourceTable {
                name: t,
                columns: vec![SourceColumn {
                    name: c,
                    db_type: ty,
                }],
            }),
        }
    }
    for o in objects {
        if !out.iter().any(|t| t.name == o) {
            out.push(SourceTable {
                name: o,
                columns: Vec::new(),
            });
        }
    }
    if out.is_empty()
        && let Some(s) = schema
    {
        tracing::warn!("the source's schema `{s}` holds no table this session can see");
    }
    Ok(out)
}

/// The source's tables and columns under their spec names where the spec gives them another
/// database name (`db_name`); objects the spec does not name keep theirs.
fn to_spec_names(spec: &Spec, schema: Vec<SourceTable>) -> Vec<SourceTable> {
    schema
        .into_iter()
        .map(|mut st| {
            if let Some(t) = spec.tables.iter().find(|t| t.db() == st.name) {
                st.name = t.name.clone();
                for c in &mut st.columns {
                    if let Some(sc) = t.columns.iter().find(|x| x.db() == c.name) {
                        c.name = sc.name.clone();
                    }
                }
            }
            st
        })
        .collect()
}

/// Source objects the spec names whose columns this session cannot see.
fn unreadable<'a>(spec: &Spec, schema: &'a [SourceTable]) -> Vec<&'a str> {
    schema
        .iter()
        .filter(|t| t.columns.is_empty() && spec.table(&t.name).is_some())
        .map(|t| t.name.as_str())
        .collect()
}
