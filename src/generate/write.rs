//! Writers for generated tables: a Parquet dataset folder, or a database.

use std::path::Path;

use anyhow::Context;
use polars::prelude::*;

use super::Generated;
use crate::dataset::{Dataset, FORMAT, Origin, TableFile, now_rfc3339};
use crate::db::{self, Dialect};
use crate::frame;
use crate::spec::Spec;

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
    for (name, df) in &mut generated.tables {
        let file = format!("{name}.parquet");
        let sha256 = frame::write_parquet(df, &dir.join(&file))?;
        tables.push(TableFile {
            name: name.clone(),
            file,
            rows: df.height() as u64,
            sha256,
        });
    }
    let ds = Dataset {
        format: FORMAT.into(),
        origin: Origin::Synthetic,
        domain: spec.domain.clone(),
        spec_digest: spec.digest.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_rfc3339(),
        seed: Some(seed),
        scale: Some(scale),
        tables,
        extraction: None,
    };
    ds.write(dir)?;
    Ok(ds)
}

/// Creates the spec's tables in a database and inserts the generated rows. Existing tables are
/// an error unless `replace` is set: this writer is for test databases, never for production.
pub async fn to_database(generated: &Generated, url: &str, replace: bool) -> anyhow::Result<()> {
    let (mut conn, dialect) = db::connect(url, false, 300).await?;
    for (name, df) in &generated.tables {
        let table = dialect.quote(name)?;
        let mut statements = Vec::new();
        if replace {
            statements.push(format!("DROP TABLE IF EXISTS {table}"));
        }
        let mut cols = Vec::new();
        for c in df.columns() {
            let ty = frame::logical_type(c.dtype());
            cols.push(format!(
                "{} {}",
                dialect.quote(c.name())?,
                dialect.column_type(ty)
            ));
        }
        statements.push(format!("CREATE TABLE {table} ({})", cols.join(", ")));
        db::execute_all(&mut conn, &statements)
            .await
            .with_context(|| {
                format!("creating table `{name}` (use --replace to drop an existing one)")
            })?;
        let names: Vec<String> = df
            .columns()
            .iter()
            .map(|c| dialect.quote(c.name()))
            .collect::<Result<_, _>>()?;
        let head = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
        let rendered: Vec<Vec<String>> = df
            .columns()
            .iter()
            .map(|c| render_literals(dialect, c.as_materialized_series()))
            .collect::<anyhow::Result<_>>()?;
        let mut batch = Vec::new();
        for chunk_start in (0..df.height()).step_by(500) {
            let end = (chunk_start + 500).min(df.height());
            let rows: Vec<String> = (chunk_start..end)
                .map(|i| {
                    format!(
                        "({})",
                        rendered
                            .iter()
                            .map(|c| c[i].as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            batch.push(format!("{head}{}", rows.join(", ")));
        }
        db::execute_all(&mut conn, &batch)
            .await
            .with_context(|| format!("inserting into `{name}`"))?;
    }
    Ok(())
}

/// SQL literals for every value of a column.
fn render_literals(dialect: Dialect, s: &Series) -> anyhow::Result<Vec<String>> {
    let null = || "NULL".to_string();
    Ok(match s.dtype() {
        DataType::Datetime(..) => {
            let text = s.cast(&DataType::String)?;
            text.str()?
                .iter()
                .map(|v| v.map_or_else(null, |v| dialect.literal(&v.replace('T', " "))))
                .collect()
        }
        DataType::String => s
            .str()?
            .iter()
            .map(|v| v.map_or_else(null, |v| dialect.literal(v)))
            .collect(),
        d if d.is_float() => s
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|v| {
                v.filter(|v| v.is_finite())
                    .map_or_else(null, |v| format!("{v:?}"))
            })
            .collect(),
        d if d.is_integer() || d.is_bool() => s
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| v.map_or_else(null, |v| v.to_string()))
            .collect(),
        other => anyhow::bail!("cannot write a column of type {other} to a database"),
    })
}
