//! Writers for generated tables: a Parquet dataset folder, or a database.

use std::path::Path;

use anyhow::Context;
use polars::prelude::*;
use sqlx::{AssertSqlSafe, Connection, Executor};

use super::{ChunkSink, Generated, Shard};
use crate::dataset::{Dataset, FORMAT, Origin, TableFile, now_rfc3339};
use crate::db::{self, Dialect};
use crate::frame;
use crate::spec::{ColumnType, LogicalType, Spec};

/// Writes one Parquet file per table and the dataset manifest into `dir`.
pub fn to_dir(
    spec: &Spec,
    generated: &mut Generated,
    dir: &Path,
    seed: u64,
    scale: f64,
) -> anyhow::Result<Dataset> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tables = Vec::new();
    for (name, df) in &generated.tables {
        let file = format!("{name}.parquet");
        // Row groups of a fixed size, as when tables stream: the same rows, the same bytes.
        let mut w = frame::RowGroupWriter::create(&dir.join(&file))?;
        w.push(df.clone())?;
        let (rows, sha256) = w.finish()?;
        tables.push(TableFile {
            name: name.clone(),
            file,
            rows,
            sha256,
        });
    }
    let ds = manifest(
        spec,
        seed,
        scale,
        tables,
        generated.scenarios.clone(),
        generated.shard.clone(),
    );
    ds.write(dir)?;
    Ok(ds)
}

/// The manifest of a generated dataset.
pub fn manifest(
    spec: &Spec,
    seed: u64,
    scale: f64,
    tables: Vec<TableFile>,
    scenarios: Vec<crate::dataset::ScenarioRows>,
    shard: Option<String>,
) -> Dataset {
    Dataset {
        format: FORMAT.into(),
        origin: Origin::Synthetic,
        domain: spec.domain.clone(),
        spec_digest: spec.digest.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_rfc3339(),
        seed: Some(seed),
        scale: Some(scale),
        tables,
        scenarios,
        shard,
        extraction: None,
    }
}

/// Writes generated chunks to one Parquet file per table in `dir`, in fixed row groups; with a
/// shard, only the rows of the shard's part of each table.
pub struct DirSink<'a> {
    dir: &'a Path,
    shard: Option<Shard>,
    table: Option<(String, frame::BackgroundWriter, (usize, usize))>,
    pub files: Vec<TableFile>,
}

impl<'a> DirSink<'a> {
    pub fn new(dir: &'a Path, shard: Option<Shard>) -> DirSink<'a> {
        DirSink {
            dir,
            shard,
            table: None,
            files: Vec::new(),
        }
    }
}

impl ChunkSink for DirSink<'_> {
    fn begin(&mut self, table: &str, rows: usize) -> anyhow::Result<()> {
        let file = self.dir.join(format!("{table}.parquet"));
        let range = self.shard.map_or((0, rows), |s| s.range(rows));
        self.table = Some((
            table.to_string(),
            frame::BackgroundWriter::create(&file)?,
            range,
        ));
        Ok(())
    }

    fn chunk(&mut self, _: &str, positions: &[usize], df: DataFrame) -> anyhow::Result<()> {
        let Some((_, w, (a, b))) = &mut self.table else {
            anyhow::bail!("a chunk before its table began");
        };
        // Positions rise, so the shard's rows of a chunk are one slice of it.
        let from = positions.partition_point(|p| *p < *a);
        let to = positions.partition_point(|p| *p < *b);
        let df = if from == 0 && to == df.height() {
            df
        } else {
            df.slice(from as i64, to - from)
        };
        w.push(df)
    }

    fn end(&mut self, _: &str) -> anyhow::Result<()> {
        let (name, w, _) = self.table.take().context("a table ended before it began")?;
        let (rows, sha256) = w.finish()?;
        self.files.push(TableFile {
            file: format!("{name}.parquet"),
            name,
            rows,
            sha256,
        });
        Ok(())
    }
}

/// Creates the spec's tables in a database and inserts the generated rows, all or nothing.
/// Existing tables are an error unless `replace` is set: this writer is for test databases,
/// never for production. Values travel as bound parameters, never as SQL literals.
///
/// PostgreSQL and SQLite run it as one transaction. MySQL commits each `CREATE TABLE` on its
/// own, so there the tables are created first, the rows inserted in one transaction, and the
/// created tables dropped again if anything fails.
pub async fn to_database(
    spec: &Spec,
    generated: &Generated,
    url: &str,
    replace: bool,
) -> anyhow::Result<()> {
    let (mut conn, dialect) = db::connect(url, false, 300).await?;
    let mut ddl = Vec::new();
    if let Some(schema) = &spec.source.schema {
        match dialect {
            Dialect::Sqlite => anyhow::bail!("`[source] schema` does not apply to SQLite"),
            Dialect::Postgres => ddl.push(format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                dialect.quote(schema)?
            )),
            Dialect::MySql => ddl.push(format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                dialect.quote(schema)?
            )),
        }
    }
    for (name, df) in &generated.tables {
        let table = db_table(spec, dialect, name)?;
        if replace {
            ddl.push(format!("DROP TABLE IF EXISTS {table}"));
        }
        let mut cols = Vec::new();
        for c in df.columns() {
            let ct = column_type(spec, name, c);
            cols.push(format!(
                "{} {}",
                dialect.quote(db_column(spec, name, c.name()))?,
                dialect.column_type(ct)
            ));
        }
        ddl.push(format!("CREATE TABLE {table} ({})", cols.join(", ")));
    }
    if dialect == Dialect::MySql {
        if !replace {
            for (name, _) in &generated.tables {
                let sql = format!("SELECT 1 FROM {} LIMIT 0", db_table(spec, dialect, name)?);
                if conn.execute(AssertSqlSafe(sql.as_str())).await.is_ok() {
                    anyhow::bail!(
                        "table `{name}` already exists in {}; nothing was written (use --replace to drop it)",
                        db::redact_url(url)
                    );
                }
            }
        }
        for s in &ddl {
            conn.execute(AssertSqlSafe(s.as_str()))
                .await
                .with_context(|| format!("running `{}`", db::truncate(s, 120)))?;
        }
        let mut tx = conn.begin().await.context("starting a transaction")?;
        let inserted = insert_all(&mut tx, dialect, spec, generated).await;
        let result = match inserted {
            Ok(()) => tx.commit().await.context("committing"),
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        };
        if let Err(e) = result {
            for (name, _) in &generated.tables {
                let drop = format!("DROP TABLE IF EXISTS {}", db_table(spec, dialect, name)?);
                let _ = conn.execute(AssertSqlSafe(drop.as_str())).await;
            }
            return Err(e.context("nothing was kept: the tables created by this run were dropped"));
        }
        return Ok(());
    }
    let mut tx = conn.begin().await.context("starting a transaction")?;
    for s in &ddl {
        tx.execute(AssertSqlSafe(s.as_str()))
            .await
            .with_context(|| {
                format!(
                    "running `{}` (use --replace to drop an existing table); nothing was written",
                    db::truncate(s, 120)
                )
            })?;
    }
    insert_all(&mut tx, dialect, spec, generated)
        .await
        .context("nothing was written: the transaction was rolled back")?;
    tx.commit().await.context("committing")?;
    Ok(())
}

/// A spec table as SQL: its database name, in `[source] schema` when the spec sets one.
fn db_table(spec: &Spec, dialect: Dialect, table: &str) -> anyhow::Result<String> {
    let db = spec.table(table).map_or(table, |t| t.db());
    dialect.table(spec.source.schema.as_deref(), db)
}

/// A spec column's database name.
fn db_column<'a>(spec: &'a Spec, table: &str, column: &'a str) -> &'a str {
    spec.table(table).map_or(column, |t| t.db_column(column))
}

/// A generated column's type: the spec's, else what its Polars type says.
fn column_type(spec: &Spec, table: &str, c: &Column) -> ColumnType {
    spec.table(table)
        .and_then(|t| t.column(c.name()))
        .and_then(|col| col.column_type(spec))
        .unwrap_or_else(|| match c.dtype() {
            DataType::Decimal(p, s) => ColumnType {
                precision: *p as u8,
                scale: *s as u8,
                ..ColumnType::of(LogicalType::Decimal)
            },
            d => ColumnType::of(frame::logical_type(d)),
        })
}

/// One column's values as bindable parameters.
enum Param {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    /// Text the database casts to the column's type (`CAST($1 AS DATE)`); no cast on SQLite.
    Cast(Vec<Option<String>>, String),
}

fn params(dialect: Dialect, ct: ColumnType, s: &Series) -> anyhow::Result<Param> {
    // Dates and timestamps as text, with a space between date and time (every engine's form).
    let texts = |s: &Series| -> anyhow::Result<Vec<Option<String>>> {
        Ok(s.cast(&DataType::String)?
            .str()?
            .iter()
            .map(|v| v.map(|v| v.replace('T', " ")))
            .collect())
    };
    let cast = |ty: &str| dialect != Dialect::Sqlite && !ty.is_empty();
    Ok(match ct.logical {
        LogicalType::Bool => Param::Bool(s.bool()?.iter().collect()),
        LogicalType::Int => Param::Int(s.cast(&DataType::Int64)?.i64()?.iter().collect()),
        LogicalType::Float => Param::Float(
            s.cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.filter(|v| v.is_finite()))
                .collect(),
        ),
        LogicalType::Text => Param::Text(s.str()?.iter().map(|v| v.map(str::to_string)).collect()),
        other => {
            let ty = match (other, dialect) {
                (LogicalType::Decimal, _) => format!("DECIMAL({}, {})", ct.precision, ct.scale),
                (LogicalType::Date, _) => "DATE".into(),
                (LogicalType::Timestamp | LogicalType::TimestampTz, Dialect::MySql) => {
                    "DATETIME(6)".into()
                }
                (LogicalType::TimestampTz, _) => "TIMESTAMPTZ".into(),
                (LogicalType::Timestamp, _) => "TIMESTAMP".into(),
                (LogicalType::Uuid, Dialect::Postgres) => "UUID".into(),
                _ => String::new(),
            };
            // Instants travel as UTC wall-clock text; PostgreSQL is told the offset.
            let mut v = texts(&s.cast(&match s.dtype() {
                DataType::Datetime(tu, Some(_)) => DataType::Datetime(*tu, None),
                d => d.clone(),
            })?)?;
            if other == LogicalType::TimestampTz && dialect == Dialect::Postgres {
                v = v.into_iter().map(|x| x.map(|x| x + "+00")).collect();
            }
            if cast(&ty) {
                Param::Cast(v, ty)
            } else {
                Param::Text(v)
            }
        }
    })
}

async fn insert_all(
    conn: &mut sqlx::AnyConnection,
    dialect: Dialect,
    spec: &Spec,
    generated: &Generated,
) -> anyhow::Result<()> {
    for (name, df) in &generated.tables {
        let cols: Vec<Param> = df
            .columns()
            .iter()
            .map(|c| {
                params(
                    dialect,
                    column_type(spec, name, c),
                    c.as_materialized_series(),
                )
            })
            .collect::<anyhow::Result<_>>()?;
        let names: Vec<String> = df
            .columns()
            .iter()
            .map(|c| dialect.quote(db_column(spec, name, c.name())))
            .collect::<Result<_, _>>()?;
        let ncols = cols.len().max(1);
        // PostgreSQL takes at most 65535 parameters a statement, SQLite 32766.
        let per_batch = (30_000 / ncols).clamp(1, 1000);
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            db_table(spec, dialect, name)?,
            names.join(", ")
        );
        for start in (0..df.height()).step_by(per_batch) {
            let end = (start + per_batch).min(df.height());
            let mut n = 0usize;
            let rows: Vec<String> = (start..end)
                .map(|_| {
                    let cells: Vec<String> = cols
                        .iter()
                        .map(|c| {
                            n += 1;
                            let p = match dialect {
                                Dialect::Postgres => format!("${n}"),
                                _ => "?".to_string(),
                            };
                            match c {
                                Param::Cast(_, ty) => format!("CAST({p} AS {ty})"),
                                _ => p,
                            }
                        })
                        .collect();
                    format!("({})", cells.join(", "))
                })
                .collect();
            let sql = format!("{head}{}", rows.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for i in start..end {
                for c in &cols {
                    q = match c {
                        Param::Bool(v) => q.bind(v[i]),
                        Param::Int(v) => q.bind(v[i]),
                        Param::Float(v) => q.bind(v[i]),
                        Param::Text(v) | Param::Cast(v, _) => q.bind(v[i].clone()),
                    };
                }
            }
            q.execute(&mut *conn)
                .await
                .with_context(|| format!("inserting into `{name}`"))?;
        }
    }
    Ok(())
}
