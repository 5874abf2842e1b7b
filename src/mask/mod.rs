//! Turns raw production rows into masked tables that may be written: `RawTable -> DataFrame`.
//!
//! Before masking, text columns are measured on their raw values in memory (shapes, encoding
//! anomalies, lengths); only those aggregates leave. After masking, a leak check proves that no
//! raw value of a PII column appears anywhere in the table's output; a leak is an error and
//! nothing is written. The masking engine knows nothing about databases.
//!
//! Methods (the `mask = "..."` of a column):
//! - `keep`: the value as it is; only for columns the spec declares non-PII.
//! - `hash`: HMAC-SHA256 under the masking key, 32 hex digits. Deterministic, so keys hashed in
//!   two tables still join.
//! - `hash_email`: the hash as the local part of an address at `masked.invalid`.
//! - `pseudonym`: a consistent fake `First Last` chosen by the keyed hash.
//! - `format_preserving`: digits stay digits, letters letters (same case), the rest in place.
//! - `redact`: null.

pub mod audit;
mod key;
pub mod scan;

use std::collections::HashSet;

use anyhow::bail;
use hmac::{Hmac, KeyInit, Mac};
use polars::prelude::DataFrame;
use sha2::Sha256;

pub use key::MaskKey;

use crate::dataset::ExtractedColumn;
use crate::extract::{Extracted, RawColumn, RawTable};
use crate::frame::{self, Values};
use crate::profile::text::TextStats;
use crate::spec::{Column, LogicalType, MaskMethod, Spec, parse_timestamp};

/// Masked tables, ready to be written, and what was done to each column.
pub struct Masked {
    pub tables: Vec<(String, DataFrame)>,
    pub columns: Vec<ExtractedColumn>,
}

pub fn mask(spec: &Spec, extracted: &Extracted, key: &MaskKey) -> anyhow::Result<Masked> {
    let mut tables = Vec::new();
    let mut columns = Vec::new();
    for raw in &extracted.tables {
        let t = spec
            .table(raw.name())
            .expect("extract only reads spec tables");
        let mut out: Vec<(String, Values)> = Vec::new();
        let mut meta = Vec::new();
        for rc in raw.columns() {
            let c = t
                .column(rc.name())
                .expect("extract only reads spec columns");
            let ty = c.logical_type(spec).unwrap_or(LogicalType::Text);
            let raw_text = (ty == LogicalType::Text).then(|| {
                let mut s = TextStats::default();
                rc.cells().iter().flatten().for_each(|b| s.add_bytes(b));
                s
            });
            let (values, type_errors) = mask_column(c, ty, rc, key);
            // Columns declared non-PII are scanned for personal data all the same.
            let pii_scan = if c.pii.is_none() && ty == LogicalType::Text {
                let texts: Vec<std::borrow::Cow<'_, str>> =
                    rc.cells().iter().flatten().map(|b| text(b)).collect();
                scan::scan(texts.iter().map(|s| s.as_ref()))
            } else {
                Default::default()
            };
            for (kind, n) in &pii_scan {
                tracing::warn!(
                    "{}.{} is declared non-PII but {n} of its values look like {kind}; classify it with `pii` and a `mask`",
                    t.name,
                    c.name
                );
            }
            meta.push(ExtractedColumn {
                table: t.name.clone(),
                column: c.name.clone(),
                pii: c.pii.clone(),
                method: c.mask,
                logical_type: if c.mask == MaskMethod::Keep {
                    ty
                } else {
                    LogicalType::Text
                },
                rows: raw.rows() as u64,
                type_errors,
                raw_text,
                leak_check_passed: None,
                pii_scan,
            });
            out.push((c.name.clone(), values));
        }
        leak_check(spec, raw, &out, &mut meta)?;
        tables.push((t.name.clone(), frame::to_frame(raw.rows(), &out)?));
        columns.extend(meta);
    }
    for (t, c) in &extracted.unclassified {
        columns.push(ExtractedColumn {
            table: t.clone(),
            column: c.clone(),
            pii: Some("unclassified".into()),
            method: MaskMethod::Redact,
            logical_type: LogicalType::Text,
            rows: 0,
            type_errors: 0,
            raw_text: None,
            leak_check_passed: None,
            pii_scan: Default::default(),
        });
    }
    Ok(Masked { tables, columns })
}

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Masks one column; returns the values and how many raw values did not parse as `ty`.
fn mask_column(c: &Column, ty: LogicalType, rc: &RawColumn, key: &MaskKey) -> (Values, u64) {
    let cells = rc.cells();
    let mut errors = 0u64;
    let values = match c.mask {
        MaskMethod::Keep => match ty {
            LogicalType::Int => Values::Int(
                cells
                    .iter()
                    .map(|v| {
                        let v = v.as_deref()?;
                        let parsed = parse_int(&text(v));
                        errors += parsed.is_none() as u64;
                        parsed
                    })
                    .collect(),
            ),
            LogicalType::Float => Values::Float(
                cells
                    .iter()
                    .map(|v| {
                        let parsed = text(v.as_deref()?)
                            .trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite());
                        errors += parsed.is_none() as u64;
                        parsed
                    })
                    .collect(),
            ),
            LogicalType::Timestamp => Values::Timestamp(
                cells
                    .iter()
                    .map(|v| {
                        let parsed = parse_timestamp(&text(v.as_deref()?));
                        errors += parsed.is_none() as u64;
                        parsed
                    })
                    .collect(),
            ),
            LogicalType::Text => Values::Text(
                cells
                    .iter()
                    .map(|v| v.as_deref().map(|b| text(b).into_owned()))
                    .collect(),
            ),
        },
        MaskMethod::Redact => Values::Text(vec![None; cells.len()]),
        MaskMethod::Pseudonym => {
            let avoid: HashSet<String> = cells
                .iter()
                .flatten()
                .map(|b| text(b).into_owned())
                .collect();
            Values::Text(
                cells
                    .iter()
                    .map(|v| v.as_deref().map(|b| pseudonym(key, b, &avoid)))
                    .collect(),
            )
        }
        m => Values::Text(
            cells
                .iter()
                .map(|v| v.as_deref().map(|b| apply(m, key, b)))
                .collect(),
        ),
    };
    (values, errors)
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

/// HMAC-SHA256 of a value under the key, with a domain separator per purpose.
fn hmac(key: &MaskKey, purpose: &[u8], value: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key.bytes()).expect("HMAC takes any key length");
    mac.update(purpose);
    mac.update(&[0]);
    mac.update(value);
    mac.finalize().into_bytes().into()
}

/// Applies a value-transforming method to one raw value.
pub fn apply(method: MaskMethod, key: &MaskKey, raw: &[u8]) -> String {
    match method {
        MaskMethod::Hash => crate::spec::hex_digest_of(&hmac(key, b"hash", raw)[..16]),
        MaskMethod::HashEmail => {
            format!(
                "{}@masked.invalid",
                crate::spec::hex_digest_of(&hmac(key, b"email", raw)[..8])
            )
        }
        MaskMethod::Pseudonym => pseudonym(key, raw, &HashSet::new()),
        MaskMethod::FormatPreserving => {
            let s = text(raw);
            // A keystream long enough for the value: HMAC blocks under a counter.
            let mut stream = Vec::new();
            let mut i = 0u32;
            while stream.len() < s.chars().count() {
                let mut v = raw.to_vec();
                v.extend_from_slice(&i.to_le_bytes());
                stream.extend_from_slice(&hmac(key, b"fpe", &v));
                i += 1;
            }
            s.chars()
                .zip(stream)
                .map(|(c, k)| match c {
                    '0'..='9' => char::from(b'0' + k % 10),
                    'a'..='z' => char::from(b'a' + k % 26),
                    'A'..='Z' => char::from(b'A' + k % 26),
                    c if c.is_alphanumeric() => {
                        if c.is_uppercase() {
                            char::from(b'A' + k % 26)
                        } else {
                            char::from(b'a' + k % 26)
                        }
                    }
                    c => c,
                })
                .collect()
        }
        MaskMethod::Keep | MaskMethod::Redact => unreachable!("not a value transform"),
    }
}

/// A consistent fake `First Last` for a raw value, built from syllables chosen by the keyed hash
/// (`Bakemo Tirusa`): names no real list holds, so a pseudonym is never someone's real name by
/// accident. Candidates among the column's raw values (`avoid`) are skipped all the same.
pub fn pseudonym(key: &MaskKey, raw: &[u8], avoid: &HashSet<String>) -> String {
    const C: &[u8] = b"bdfgklmnprstvz";
    const V: &[u8] = b"aeiou";
    let word = |h: &[u8]| -> String {
        let syllables = 2 + (h[0] % 2) as usize;
        let mut w = String::new();
        for i in 0..syllables {
            w.push(char::from(C[h[1 + 2 * i] as usize % C.len()]));
            w.push(char::from(V[h[2 + 2 * i] as usize % V.len()]));
        }
        let mut cs = w.chars();
        cs.next()
            .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
            .unwrap_or_default()
    };
    let mut input = raw.to_vec();
    for _ in 0..64 {
        let h = hmac(key, b"pseudonym", &input);
        let candidate = format!("{} {}", word(&h[..8]), word(&h[8..16]));
        if candidate.as_bytes() != raw && !avoid.contains(&candidate) {
            return candidate;
        }
        input.push(0);
    }
    format!(
        "Person {}",
        crate::spec::hex_digest_of(&hmac(key, b"pseudonym-fallback", raw)[..4])
    )
}

/// Proves that no raw value of a PII column appears in any output column of its table.
fn leak_check(
    spec: &Spec,
    raw: &RawTable,
    out: &[(String, Values)],
    meta: &mut [ExtractedColumn],
) -> anyhow::Result<()> {
    let t = spec.table(raw.name()).expect("spec table");
    let rendered: Vec<(String, HashSet<String>)> = out
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                (0..v.len()).filter_map(|i| v.key_at(i)).collect(),
            )
        })
        .collect();
    for (rc, m) in raw.columns().iter().zip(meta.iter_mut()) {
        let c = t.column(rc.name()).expect("spec column");
        if c.pii.is_none() {
            continue;
        }
        let raw_values: HashSet<String> = rc
            .cells()
            .iter()
            .flatten()
            .map(|b| text(b).into_owned())
            .filter(|s| !s.trim().is_empty())
            .collect();
        let mut leaks = Vec::new();
        for (name, cells) in &rendered {
            let n = raw_values.iter().filter(|v| cells.contains(*v)).count();
            if n > 0 {
                leaks.push(format!(
                    "{}.{name} ({n} distinct value{})",
                    t.name,
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
        m.leak_check_passed = Some(leaks.is_empty());
        if !leaks.is_empty() {
            bail!(
                "leak check failed: raw values of PII column {}.{} appear unmasked in {}. Nothing was written. \
                 Mask those columns too, or classify them as PII",
                t.name,
                c.name,
                leaks.join(", ")
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MaskKey {
        MaskKey::from_bytes(b"test-key".to_vec(), "TEST", false)
    }

    #[test]
    fn hash_is_keyed_hmac_sha256() {
        // Reference: python3 -c "import hmac,hashlib;print(hmac.new(b'test-key', b'hash\0alice', hashlib.sha256).hexdigest()[:32])"
        assert_eq!(
            apply(MaskMethod::Hash, &key(), b"alice"),
            "952d0938f4e00ba8082f2d704001c638"
        );
        let other = MaskKey::from_bytes(b"other".to_vec(), "TEST", false);
        assert_ne!(
            apply(MaskMethod::Hash, &key(), b"alice"),
            apply(MaskMethod::Hash, &other, b"alice")
        );
        assert_eq!(apply(MaskMethod::Hash, &key(), b"alice").len(), 32);
    }

    #[test]
    fn format_preserving_keeps_shape_and_changes_digits() {
        let a = apply(MaskMethod::FormatPreserving, &key(), b"(555) 123-4567");
        assert_eq!(crate::profile::text::shape(&a), "(999) 999-9999");
        assert_ne!(a, "(555) 123-4567");
        assert_eq!(
            a,
            apply(MaskMethod::FormatPreserving, &key(), b"(555) 123-4567")
        );
    }
}
