//! A folder of CSV or Parquet files as production (`--source file://DIR` or a folder path):
//! one file a table, named after the table (`orders.csv`, `orders.parquet`).
//!
//! Takes the folder; gives the same raw tables as a database would, so the same classification
//! (unclassified columns refused by default), sampling, masking, leak check and audit apply.
//! CSV cells are read as bytes: invalid UTF-8 reaches the text measures as it is and is
//! counted, never repaired. An empty CSV field is a null (CSV has no other way to write one).
//! It only reads: nothing is written beside the files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use polars::prelude::*;

use crate::dataset::{SourceColumn, SourceTable};

/// The folder a source names, when it names one (`file://DIR`, or an existing folder).
pub fn dir_of(source: &str) -> Option<PathBuf> {
    if let Some(rest) = source.strip_prefix("file://") {
        return Some(PathBuf::from(rest));
    }
    let p = Path::new(source);
    (!source.contains("://") && p.is_dir()).then(|| p.to_path_buf())
}

/// One file's header and cells, column by column. Raw values: never printed.
pub(super) struct FileTable {
    pub columns: Vec<String>,
    pub cells: Vec<Vec<Option<Vec<u8>>>>,
    pub db_type: &'static str,
}

/// Table files by table name, and a line per file read (for the audit's list of reads).
pub(super) type Read = (Vec<(String, FileTable)>, Vec<String>);

/// Every table file of a folder, read whole.
pub(super) fn read_dir(dir: &Path) -> anyhow::Result<Read> {
    if !dir.is_dir() {
        bail!(
            "the source folder {} does not exist or is not a folder",
            dir.display()
        );
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("csv") || x.eq_ignore_ascii_case("parquet")
                })
        })
        .collect();
    entries.sort();
    let mut out: Vec<(String, FileTable)> = Vec::new();
    let mut read = Vec::new();
    for path in entries {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        if out.iter().any(|(n, _)| n == &name) {
            bail!(
                "{} holds two files for table `{name}` (a .csv and a .parquet); keep one",
                dir.display()
            );
        }
        let is_csv = path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
        let table = if is_csv {
            read_csv(&path)
        } else {
            read_parquet(&path)
        }
        .with_context(|| format!("reading {}", path.display()))?;
        read.push(format!(
            "read {} ({} rows)",
            path.display(),
            table.cells.first().map_or(0, Vec::len)
        ));
        out.push((name, table));
    }
    if out.is_empty() {
        bail!(
            "{} holds no .csv or .parquet file: one file a table, named after the table",
            dir.display()
        );
    }
    Ok((out, read))
}

fn read_csv(path: &Path) -> anyhow::Result<FileTable> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)?;
    let columns: Vec<String> = rdr
        .byte_headers()?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let mut cells: Vec<Vec<Option<Vec<u8>>>> = vec![Vec::new(); columns.len()];
    let mut record = csv::ByteRecord::new();
    let mut line = 1u64;
    while rdr.read_byte_record(&mut record)? {
        line += 1;
        if record.len() != columns.len() {
            bail!(
                "line {line} has {} fields, the header {}",
                record.len(),
                columns.len()
            );
        }
        for (col, field) in cells.iter_mut().zip(record.iter()) {
            col.push((!field.is_empty()).then(|| field.to_vec()));
        }
    }
    Ok(FileTable {
        columns,
        cells,
        db_type: "csv",
    })
}

fn read_parquet(path: &Path) -> anyhow::Result<FileTable> {
    let df = crate::frame::read_parquet(path)?;
    let mut columns = Vec::new();
    let mut cells = Vec::new();
    for c in df.columns() {
        columns.push(c.name().to_string());
        let s = c.as_materialized_series();
        // Text as it is; other types in the text form extraction parses by type.
        let text = match s.dtype() {
            DataType::Datetime(tu, _) => s
                .cast(&DataType::Datetime(*tu, None))?
                .cast(&DataType::String)?,
            _ => s.cast(&DataType::String)?,
        };
        cells.push(
            text.str()?
                .iter()
                .map(|v| v.map(|v| v.replace('T', " ").into_bytes()))
                .collect(),
        );
    }
    Ok(FileTable {
        columns,
        cells,
        db_type: "parquet",
    })
}

/// What the folder holds, as a schema: every table file and its columns.
pub(super) fn schema(tables: &[(String, FileTable)]) -> Vec<SourceTable> {
    tables
        .iter()
        .map(|(name, t)| SourceTable {
            name: name.clone(),
            columns: t
                .columns
                .iter()
                .map(|c| SourceColumn {
                    name: c.clone(),
                    db_type: t.db_type.into(),
                })
                .collect(),
        })
        .collect()
}

/// The cells of one table's columns, by database name, taken out of the read files.
pub(super) fn take(
    tables: &mut HashMap<String, FileTable>,
    db_table: &str,
    db_columns: &[&str],
) -> anyhow::Result<Vec<Vec<Option<Vec<u8>>>>> {
    let t = tables
        .get_mut(db_table)
        .with_context(|| format!("no file for table `{db_table}`"))?;
    db_columns
        .iter()
        .map(|c| {
            let i = t
                .columns
                .iter()
                .position(|x| x == c)
                .with_context(|| format!("no column `{c}` in the file of `{db_table}`"))?;
            Ok(std::mem::take(&mut t.cells[i]))
        })
        .collect()
}
