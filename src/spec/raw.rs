//! What users write: the serde model of a spec file, checked for unknown keys and types only.
//!
//! Every struct denies unknown fields, so a typo is an error that names the key and its place.
//! Meaning (does the referenced table exist? does `mu` apply to `gen = "int"`?) is checked in
//! `validate`, which collects every problem before reporting.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub domain: Spanned<RawDomain>,
    pub source: Option<Spanned<RawSource>>,
    pub masking: Option<Spanned<RawMasking>>,
    #[serde(default)]
    pub tables: IndexMap<String, Spanned<RawTable>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
    pub gate: Option<Spanned<RawGate>>,
    #[serde(default)]
    pub waivers: Vec<Spanned<RawWaiver>>,
    #[serde(default)]
    pub scenarios: Vec<Spanned<RawScenario>>,
}

/// `[[scenarios]]`: a named rare case planted on purpose, on a share of a table's rows or on
/// rows added for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    pub table: String,
    pub share: Option<f64>,
    pub rows: Option<u64>,
    /// Columns whose values the scenario draws from its own generators.
    #[serde(default)]
    pub set: IndexMap<String, Spanned<RawColumn>>,
    /// Text anomalies planted in columns: `{ full_name = "mojibake" }`.
    #[serde(default)]
    pub anomalies: IndexMap<String, String>,
    /// Rules the scenario's rows break on purpose.
    #[serde(default)]
    pub breaks: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaiver {
    pub table: String,
    pub column: Option<String>,
    pub kind: Option<String>,
    pub metric: Option<String>,
    pub reason: String,
    pub until: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDomain {
    pub name: String,
    pub seed: u64,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub url: Option<String>,
    pub sample: Option<Spanned<RawSample>>,
    pub statement_timeout_s: Option<u64>,
    pub schema: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSample {
    pub percent: Option<f64>,
    pub rows: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMasking {
    pub key_env: Option<String>,
    pub unclassified: Option<String>,
    pub k: Option<u64>,
    pub quasi_identifiers: Option<Vec<String>>,
    pub enforce_k_anonymity: Option<bool>,
    pub pii_scan: Option<String>,
    pub pii_scan_reason: Option<String>,
    pub leak_min_length: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    pub rows: Option<u64>,
    pub rows_per: Option<Spanned<RawRowsPer>>,
    pub key: Option<RawKey>,
    pub gate: Option<RawGateOverride>,
    /// The table's name in the database, when it differs.
    pub db_name: Option<String>,
    #[serde(default)]
    pub columns: IndexMap<String, Spanned<RawColumn>>,
}

/// `key = "id"` or a composite `key = ["order_id", "line_no"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawKey {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRowsPer {
    pub parent: Option<String>,
    pub dist: Option<String>,
    pub mean: Option<f64>,
    pub min: Option<u64>,
    pub max: Option<u64>,
    /// `dist = "weighted"`: children per parent with their probabilities (`{ 0 = 0.1, 1 = 0.6 }`).
    pub values: Option<IndexMap<String, f64>>,
    /// Counts that depend on a column of the parent: `by = "status"`, `cases = { cancelled =
    /// { dist = "uniform", min = 0, max = 0 } }`; parents matching no case use this table's own
    /// `dist`.
    pub by: Option<String>,
    pub cases: Option<IndexMap<String, Spanned<RawRowsPer>>>,
}

/// One column: exactly one of `gen`, `ref` or `sql`, plus the generator's parameters and the
/// column's privacy classification. Flat on purpose: the error for a misspelt key lists every key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    pub r#gen: Option<String>,
    pub r#ref: Option<String>,
    pub sql: Option<String>,
    pub r#type: Option<String>,
    pub pii: Option<String>,
    pub mask: Option<String>,
    pub mask_to: Option<String>,
    pub mask_bin: Option<f64>,
    pub mask_keep: Option<usize>,
    pub mask_entity: Option<String>,
    pub mask_max_days: Option<u32>,
    pub pii_scan: Option<String>,
    pub pii_scan_reason: Option<String>,
    pub gate: Option<RawGateOverride>,
    pub tail: Option<RawTail>,
    pub null_rate: Option<f64>,
    pub start: Option<i64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    pub round: Option<u32>,
    pub values: Option<IndexMap<String, f64>>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub after: Option<String>,
    pub max_days: Option<f64>,
    pub domain: Option<String>,
    pub format: Option<String>,
    pub formats: Option<IndexMap<String, f64>>,
    pub empty_rate: Option<f64>,
    pub unique: Option<bool>,
    pub p: Option<f64>,
    pub n: Option<u64>,
    pub s: Option<f64>,
    pub value: Option<toml::Value>,
    pub items: Option<Vec<toml::Value>>,
    /// `gen = "sequence"`: counted again within each value of this column.
    pub per: Option<String>,
    /// Locale generators: one locale, or several with weights.
    pub locale: Option<String>,
    pub locales: Option<IndexMap<String, f64>>,
    /// `person_name`: "full" (default), "first" or "last".
    pub part: Option<String>,
    /// `email`: the same row's name column the address is made from.
    pub name_from: Option<String>,
    /// `phone`: "national" (default) or "e164".
    pub style: Option<String>,
    /// `timestamp`: a calendar day each value is moved onto.
    pub snap: Option<String>,
    pub regex: Option<String>,
    pub min_after: Option<String>,
    pub max_after: Option<String>,
    /// `gen = "mixture"`: the parts, each a generator with a `weight`.
    pub of: Option<Vec<Spanned<RawColumn>>>,
    pub weight: Option<f64>,
    /// `by = "country"` with `cases = { US = { gen = ... }, "GB|IE" = { ... }, "*" = { ... } }`.
    pub by: Option<String>,
    pub cases: Option<IndexMap<String, Spanned<RawColumn>>>,
    /// With `sql`: a child table whose rows pointing at this row the SQL aggregates.
    pub over: Option<String>,
    /// With `ref`: Zipf-like popularity of parents.
    pub skew: Option<f64>,
    /// With `ref`: parents that share this column's value with the row.
    pub within: Option<String>,
    /// The column's name in the database, when it differs.
    pub db_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub name: String,
    pub sql: String,
    pub table: Option<String>,
    pub column: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    pub numeric: Option<RawNumericGate>,
    pub categorical: Option<RawCategoricalGate>,
    pub text: Option<RawTextGate>,
    pub null_rate_delta: Option<f64>,
    pub range_share: Option<f64>,
    pub alpha: Option<f64>,
    pub min_support: Option<u64>,
    pub correlation: Option<f64>,
}

/// `tail = { share = 0.05, min = 5, max = 330 }`: a share of a numeric column's rows drawn
/// uniformly from another range (the rare large refunds beside the common small ones).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTail {
    pub share: f64,
    pub min: f64,
    pub max: f64,
}

/// A table's or a column's own thresholds, over the spec's `[gate]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGateOverride {
    pub ks: Option<f64>,
    pub psi: Option<f64>,
    pub js: Option<f64>,
    pub unseen_share: Option<f64>,
    pub unseen_shape_share: Option<f64>,
    pub encoding_anomalies: Option<u64>,
    pub null_rate_delta: Option<f64>,
    pub range_share: Option<f64>,
    pub correlation: Option<f64>,
    pub min_support: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNumericGate {
    pub ks: Option<f64>,
    pub psi: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategoricalGate {
    pub js: Option<f64>,
    pub unseen_share: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTextGate {
    pub unseen_shape_share: Option<f64>,
    pub encoding_anomalies: Option<u64>,
}
