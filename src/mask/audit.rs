//! The masking audit: what was read, how each column was masked, what the leak check found, and
//! the digests of every file written — for the people who sign off on privacy. It names the
//! key's fingerprint, never the key, and holds no value of any column.

use std::fmt::Write as _;

use serde::Serialize;

use crate::dataset::{Dataset, Extraction};

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
    pub columns: Vec<AuditColumn>,
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
            })
            .collect();
        let mut files: Vec<AuditFile> = ds
            .tables
            .iter()
            .map(|t| AuditFile {
                path: t.file.clone(),
                sha256: t.sha256.clone(),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
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
            columns,
            files,
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Masking audit: {}\n", self.domain);
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
        let _ = writeln!(s, "| source | `{}` ({}) |", self.source, self.dialect);
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
            "| column | classification | method | rows | leak check | PII scan | type errors | raw encoding anomalies |"
        );
        let _ = writeln!(s, "|---|---|---|---:|---|---|---:|---:|");
        for c in &self.columns {
            let _ = writeln!(
                s,
                "| {}.{} | {} | {} | {} | {} | {} | {} | {} |",
                c.table,
                c.column,
                c.classification,
                c.method,
                c.rows,
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
                c.type_errors,
                c.raw_encoding_anomalies
            );
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
