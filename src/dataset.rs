//! A dataset folder: one Parquet file per table plus `_dataset.json`, which says where the data
//! came from (generated or extracted), the digests of its files, and — for extracted data —
//! what was measured on raw values before masking. Profiles read both.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::profile::text::TextStats;
use crate::spec::{LogicalType, MaskMethod, Sample};

pub const MANIFEST: &str = "_dataset.json";
pub const FORMAT: &str = "realitycheck.dataset/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Synthetic,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dataset {
    pub format: String,
    pub origin: Origin,
    pub domain: String,
    pub spec_digest: String,
    pub tool_version: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    pub tables: Vec<TableFile>,
    /// Generated data only: rows each `[[scenarios]]` entry planted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioRows>,
    /// Generated data only: `I/N` when the folder holds part I of N of every table's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Extracted data only: what the source held and how it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extraction: Option<Extraction>,
}

/// How many rows of a table a scenario planted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRows {
    pub name: String,
    pub table: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableFile {
    pub name: String,
    pub file: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extraction {
    /// The source URL without credentials.
    pub source: String,
    pub dialect: String,
    pub sample: Sample,
    /// Every table and column the source has, with its database type: schema drift is
    /// computed from this, including columns that were never copied.
    pub source_schema: Vec<SourceTable>,
    pub columns: Vec<ExtractedColumn>,
    /// Per table: rows in the source, rows sampled, foreign keys without a parent in the source.
    pub tables: Vec<ExtractedTable>,
    pub statements: Vec<String>,
    /// k-anonymity over the declared quasi-identifiers, per table (counts only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub k_anonymity: Vec<crate::mask::kanon::KAnonymity>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceTable {
    pub name: String,
    pub columns: Vec<SourceColumn>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceColumn {
    pub name: String,
    pub db_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractedColumn {
    pub table: String,
    pub column: String,
    /// `None`: declared non-PII by the spec; `Some("unclassified")` for columns the spec
    /// does not name.
    pub pii: Option<String>,
    pub method: MaskMethod,
    pub logical_type: LogicalType,
    pub rows: u64,
    /// Values that did not parse as the spec's type (counted before masking, never shown).
    pub type_errors: u64,
    /// Text measured on the raw values in memory, before masking: aggregates only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_text: Option<TextStats>,
    /// `Some(true)` when no raw value of this PII column appears anywhere in the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leak_check_passed: Option<bool>,
    /// Non-PII text columns: rows that look like personal data, per kind (email, phone, card,
    /// iban, national_id). Counts only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pii_scan: BTreeMap<String, u64>,
    /// Scanned columns: what a PII-scan hit leads to (`refuse`, `redact`, `accept`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii_scan_policy: Option<String>,
    /// `accept`: the reason the spec gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pii_scan_reason: Option<String>,
    /// `redact`: values nulled because PII was found in them.
    #[serde(default)]
    pub redacted_cells: u64,
    /// Values not scanned because they match a format the spec declares for the column.
    #[serde(default)]
    pub declared_format_rows: u64,
    /// Masked columns: distinct raw values in, distinct masked values out (fewer out than in
    /// means collisions: two people sharing one pseudonym).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_inputs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_outputs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractedTable {
    pub name: String,
    pub source_rows: u64,
    pub sampled_rows: u64,
    /// Per `ref` column: rows whose key has no parent row in the source.
    pub orphans: BTreeMap<String, u64>,
}

impl Dataset {
    pub fn read(dir: &Path) -> anyhow::Result<Dataset> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {}: is {} a folder written by `realitycheck generate` or `extract`?",
                path.display(),
                dir.display()
            )
        })?;
        let d: Dataset =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if d.format != FORMAT {
            anyhow::bail!(
                "{} has format `{}`; this version reads `{FORMAT}`",
                path.display(),
                d.format
            );
        }
        Ok(d)
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<String> {
        let json = serde_json::to_vec_pretty(self)?;
        crate::frame::write_atomic(&dir.join(MANIFEST), &json)
    }

    pub fn column(&self, table: &str, column: &str) -> Option<&ExtractedColumn> {
        self.extraction
            .as_ref()?
            .columns
            .iter()
            .find(|c| c.table == table && c.column == column)
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
