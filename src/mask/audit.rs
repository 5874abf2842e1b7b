//! The masking audit: what was read, how each column was masked, what the leak check found, and
//! the digests of every file written — for the people who sign off on privacy. It names the
//! key's fingerprint, never the key, and holds no value of any column.

use std::fmt::Write as _;

use serde::Serialize;

use crate::dataset::{Dataset, Extraction};
use crate::report::escape::{md_cell, md_code};

/// The audit's first line: what was read, what left the process and how, under which key, and
/// what the leak check and k-anonymity found.
fn verdict(
    spec: &crate::spec::Spec,
    key: &super::MaskKey,
    ex: &Extraction,
    columns: &[AuditColumn],
) -> String {
    let read: u64 = ex.tables.iter().map(|t| t.sampled_rows).sum();
    let source_rows: u64 = ex.tables.iter().map(|t| t.source_rows).sum();
    let pii = columns
        .iter()
        .filter(|c| c.classification != "non-pii" && c.classification != "unclassified")
        .count();
    let kept = columns.iter().filter(|c| c.method == "keep").count();
    let uncopied = columns
        .iter()
        .filter(|c| c.classification == "unclassified")
        .count();
    let leak = if columns.iter().any(|c| c.leak_check == "failed") {
        "FAILED"
    } else {
        "passed"
    };
    let kanon = if ex.k_anonymity.is_empty() {
        "k-anonymity not measured (no quasi-identifiers declared)".to_string()
    } else {
        let min = ex
            .k_anonymity
            .iter()
            .map(|k| k.min_group)
            .min()
            .unwrap_or(0);
        let below: u64 = ex.k_anonymity.iter().map(|k| k.rows_below_k).sum();
        format!(
            "k-anonymity {} (k = {}, smallest group {min}, {below} rows below k)",
            if below == 0 { "holds" } else { "does NOT hold" },
            spec.masking.k
        )
    };
    format!(
        "Read {read} of {source_rows} rows in {} tables from {} in a read-only session; \
         {pii} PII columns left the process masked, {kept} non-PII columns as they were, \
         {uncopied} unclassified columns not at all; key fingerprint {}{}; leak check {leak}; {kanon}.",
        ex.tables.len(),
        ex.source,
        key.fingerprint(),
        if key.ephemeral() { " (ephemeral)" } else { "" },
    )
}

pub const FORMAT: &str = "realitycheck.masking-audit/1";

#[derive(Debug, Serialize)]
pub struct MaskingAudit {
    pub format: String,
    pub tool_version: String,
    pub created_at: String,
    pub domain: String,
    pub spec_path: String,
    pub spec_digest: String,
    pub key: KeyInfo,
    pub source: String,
    pub dialect: String,
    pub sample: crate::spec::Sample,
    pub statements: Vec<String>,
    /// One sentence an auditor can sign: what was read, what left the process, how.
    pub verdict: String,
    pub columns: Vec<AuditColumn>,
    pub k_anonymity: Vec<crate::mask::kanon::KAnonymity>,
    /// Raw PII values of at least this many characters were looked for inside every output cell
    /// and text artifact; shorter ones were compared with the cells of their own row.
    pub leak_min_length: usize,
    pub files: Vec<AuditFile>,
}

#[derive(Debug, Serialize)]
pub struct KeyInfo {
    pub env: String,
    pub fingerprint: String,
    /// True when the key was made for this run because the variable was unset.
    pub ephemeral: bool,
}

#[derive(Debug, Serialize)]
pub struct AuditColumn {
    pub table: String,
    pub column: String,
    /// The PII class, `non-pii` when the spec declares none, `unclassified` when the spec does
    /// not name the column (nothing of it is copied).
    pub classification: String,
    pub method: String,
    pub rows: u64,
    /// `passed`, `failed`, or `not applicable` for non-PII columns.
    pub leak_check: String,
    pub type_errors: u64,
    /// Encoding anomalies measured on the raw values before masking.
    pub raw_encoding_anomalies: u64,
    /// Columns declared non-PII: rows that look like personal data, per kind.
    pub pii_scan_hits: std::collections::BTreeMap<String, u64>,
    /// Columns declared non-PII and copied: what a PII-scan hit leads to, and why if accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii_scan_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii_scan_reason: Option<String>,
    pub redacted_cells: u64,
    /// Values the PII scan left alone because they match a format the spec declares for the
    /// column (an ISBN, an order reference): the spec's author vouches for that format.
    pub declared_format_rows: u64,
    /// Masked columns: distinct raw values in, distinct masked values out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_inputs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_outputs: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct AuditFile {
    pub path: String,
    pub sha256: String,
}

impl MaskingAudit {
    pub fn new(
        spec: &crate::spec::Spec,
        key: &super::MaskKey,
        ds: &Dataset,
        ex: &Extraction,
    ) -> MaskingAudit {
        let columns = ex
            .columns
            .iter()
            .map(|c| AuditColumn {
                table: c.table.clone(),
                column: c.column.clone(),
                classification: c.pii.clone().unwrap_or_else(|| "non-pii".into()),
                method: if c.pii.as_deref() == Some("unclassified") {
                    "not copied".into()
                } else {
                    c.method.as_str().into()
                },
                rows: c.rows,
                leak_check: match c.leak_check_passed {
                    Some(true) => "passed".into(),
                    Some(false) => "failed".into(),
                    None => "not applicable".into(),
                },
                type_errors: c.type_errors,
                raw_encoding_anomalies: c
                    .raw_text
                    .as_ref()
                    .map_or(0, |t| t.anomalies.encoding_total()),
                pii_scan_hits: c.pii_scan.clone(),
                pii_scan_policy: c.pii_scan_policy.clone(),
                pii_scan_reason: c.pii_scan_reason.clone(),
                redacted_cells: c.redacted_cells,
                declared_format_rows: c.declared_format_rows,
                distinct_inputs: c.distinct_inputs,
                distinct_outputs: c.distinct_outputs,
            })
            .collect::<Vec<AuditColumn>>();
        let mut files: Vec<AuditFile> = ds
            .tables
            .iter()
            .map(|t| AuditFile {
                path: t.file.clone(),
                sha256: t.sha256.clone(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let verdict = verdict(spec, key, ex, &columns);
        MaskingAudit {
            format: FORMAT.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            created_at: ds.created_at.clone(),
            domain: spec.domain.clone(),
            spec_path: spec.path.display().to_string(),
            spec_digest: spec.digest.clone(),
            key: KeyInfo {
                env: key.env().into(),
                fingerprint: key.fingerprint(),
                ephemeral: key.ephemeral(),
            },
            source: ex.source.clone(),
            dialect: ex.dialect.clone(),
            sample: ex.sample,
            statements: ex.statements.clone(),
            verdict,
            columns,
            k_anonymity: ex.k_anonymity.clone(),
            leak_min_length: spec.masking.leak_min_length,
            files,
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Masking audit: {}\n", md_cell(&self.domain));
        let _ = writeln!(s, "**{}**\n", md_cell(&self.verdict));
        let _ = writeln!(s, "| | |\n|---|---|");
        let _ = writeln!(s, "| tool | realitycheck {} |", self.tool_version);
        let _ = writeln!(s, "| created | {} |", self.created_at);
        let _ = writeln!(
            s,
            "| spec | `{}` (sha256 `{}`) |",
            self.spec_path, self.spec_digest
        );
        let _ = writeln!(
            s,
            "| key | `${}`, fingerprint `{}`{} |",
            self.key.env,
            self.key.fingerprint,
            if self.key.ephemeral {
                " (ephemeral: the variable was unset)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            s,
            "| source | {} ({}) |",
            md_code(&self.source),
            self.dialect
        );
        let _ = writeln!(
            s,
            "| sample | {} |\n",
            match self.sample {
                crate::spec::Sample::Fraction(f) =>
                    format!("{}% of root rows, children follow", f * 100.0),
                crate::spec::Sample::Rows(n) => format!("about {n} root rows, children follow"),
            }
        );
        let _ = writeln!(s, "## Columns\n");
        let _ = writeln!(
            s,
            "| column | classification | method | rows | distinct in → out | leak check | PII scan | type errors | raw encoding anomalies |"
        );
        let _ = writeln!(s, "|---|---|---|---:|---:|---|---|---:|---:|");
        for c in &self.columns {
            let distinct = match (c.distinct_inputs, c.distinct_outputs) {
                (Some(i), Some(o)) if o < i => format!("{i} → {o} ({} collisions)", i - o),
                (Some(i), Some(o)) => format!("{i} → {o}"),
                _ => "-".into(),
            };
            let scan = match (&c.pii_scan_policy, &c.pii_scan_reason) {
                (Some(p), Some(r)) => format!(" (policy {p}: {})", md_cell(r)),
                (Some(p), None) if c.redacted_cells > 0 => {
                    format!(" (policy {p}: {} values nulled)", c.redacted_cells)
                }
                _ => String::new(),
            };
            let scan = if c.declared_format_rows > 0 {
                format!(
                    "{scan} ({} values of the spec's declared format not scanned)",
                    c.declared_format_rows
                )
            } else {
                scan
            };
            let _ = writeln!(
                s,
                "| {}.{} | {} | {} | {} | {} | {} | {}{} | {} | {} |",
                md_cell(&c.table),
                md_cell(&c.column),
                md_cell(&c.classification),
                c.method,
                c.rows,
                distinct,
                c.leak_check,
                if c.pii_scan_hits.is_empty() {
                    "none".to_string()
                } else {
                    c.pii_scan_hits
                        .iter()
                        .map(|(k, n)| format!("{k}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                scan,
                c.type_errors,
                c.raw_encoding_anomalies
            );
        }
        if !self.k_anonymity.is_empty() {
            let _ = writeln!(
                s,
                "\n## k-anonymity over quasi-identifiers (masked sample)\n\n| table | quasi-identifiers | k | rows | groups | smallest group | rows in groups below k |\n|---|---|---:|---:|---:|---:|---:|"
            );
            for k in &self.k_anonymity {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    md_cell(&k.table),
                    md_cell(&k.columns.join(", ")),
                    k.k,
                    k.rows,
                    k.groups,
                    k.min_group,
                    k.rows_below_k
                );
            }
        }
        let _ = writeln!(s, "\n## Statements run (read-only session)\n");
        for q in &self.statements {
            let _ = writeln!(s, "```sql\n{q}\n```");
        }
        let _ = writeln!(s, "\n## Files written\n\n| file | sha256 |\n|---|---|");
        for f in &self.files {
            let _ = writeln!(s, "| {} | `{}` |", f.path, f.sha256);
        }
        s
    }
}
