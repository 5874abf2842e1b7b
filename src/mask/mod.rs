//! Turns raw production rows into masked tables that may be written: `RawTable -> DataFrame`.
//!
//! This module owns the unmasked rows ([`RawTable`]): extraction builds them and hands them over,
//! [`mask`] consumes them, and no other module can read a raw cell. Before masking, text columns
//! are measured on their raw values in memory (shapes, encoding anomalies, lengths), and only
//! those aggregates leave, with shapes seen fewer than `k` times withheld. Non-PII columns are
//! scanned for personal data, and a hit stops the run unless the spec says otherwise. After
//! masking, the [`leak`] check proves no raw PII value is in any output table, and
//! [`kanon`] measures k-anonymity over the declared quasi-identifiers. A problem is an error
//! raised before anything is written. The masking engine knows nothing about databases.
//!
//! Methods (the `mask = "..."` of a column) are in [`methods`]: `keep` (non-PII only), `hash`,
//! `hash_email`, `pseudonym`, `format_preserving` (FF1), `generalize`, `shift_dates`, `redact`.

pub mod audit;
pub mod kanon;
mod key;
pub mod leak;
pub mod methods;
mod raw;
pub mod scan;

use std::collections::HashSet;

use anyhow::bail;
use polars::prelude::DataFrame;

pub use key::MaskKey;
pub use leak::LeakGuard;
pub use raw::{RawColumn, RawTable};

use crate::dataset::ExtractedColumn;
use crate::frame::{self, Values};
use crate::profile::text::TextStats;
use crate::spec::{
    Column, ColumnType, LogicalType, MaskMethod, PiiScanPolicy, Spec, Table, parse_timestamp,
};
use kanon::KAnonymity;
use methods::{Ff1, FpeError};

/// Masked tables, ready to be written, what was done to each column, and the guard that checks
/// every artifact of the run before it is put in place.
pub struct Masked {
    pub tables: Vec<(String, DataFrame)>,
    pub columns: Vec<ExtractedColumn>,
    pub k_anonymity: Vec<KAnonymity>,
    pub guard: LeakGuard,
}

/// Masks every raw table (consuming them); `unclassified` columns are recorded by name only.
pub fn mask(
    spec: &Spec,
    tables: Vec<RawTable>,
    unclassified: &[(String, String)],
    key: &MaskKey,
) -> anyhow::Result<Masked> {
    let ff1 = Ff1::new(key);
    let mut guard = LeakGuard::new(spec.masking.leak_min_length);
    for raw in &tables {
        let t = spec_table(spec, raw)?;
        for rc in raw.columns() {
            if t.column(rc.name()).is_some_and(|c| c.pii.is_some()) {
                let texts: Vec<std::borrow::Cow<'_, str>> =
                    rc.cells().iter().flatten().map(|b| text(b)).collect();
                guard.add_column(
                    &format!("{}.{}", t.name, rc.name()),
                    texts.iter().map(|s| s.as_ref()),
                );
            }
        }
    }
    guard.build()?;

    let mut out_tables = Vec::new();
    let mut columns = Vec::new();
    let mut k_anonymity = Vec::new();
    let mut refused_scans: Vec<String> = Vec::new();
    let mut too_small: Vec<String> = Vec::new();
    for raw in tables {
        let t = spec_table(spec, &raw)?;
        let mut out: Vec<(String, Values)> = Vec::new();
        let mut meta = Vec::new();
        for rc in raw.columns() {
            let c = t.column(rc.name()).ok_or_else(|| {
                anyhow::anyhow!(
                    "extraction read {}.{}, which the spec does not name",
                    t.name,
                    rc.name()
                )
            })?;
            let ct = c
                .column_type(spec)
                .unwrap_or(ColumnType::of(LogicalType::Text));
            let ty = ct.logical;
            // The formats the spec declares for the column: what the text statistics count
            // undeclared rows against, and what the PII scan leaves to the column.
            let declared = scan::Declared::of(c);
            let raw_text = ty.is_textual().then(|| {
                let mut s = TextStats::default();
                if declared.is_empty() {
                    rc.cells().iter().flatten().for_each(|b| s.add_bytes(b));
                } else {
                    let of_one = |v: &str| declared.matches(v);
                    for b in rc.cells().iter().flatten() {
                        s.add_bytes_declared(b, &of_one);
                    }
                }
                s.suppress_rare(spec.masking.k);
                s
            });
            let entity = entity_cells(t, c, &raw)?;
            let mut m = mask_column(c, ct, rc, entity, key, &ff1);
            if m.too_small > 0 {
                too_small.push(format!(
                    "{}.{} ({} value{})",
                    t.name,
                    c.name,
                    m.too_small,
                    if m.too_small == 1 { "" } else { "s" }
                ));
            }
            // Columns declared non-PII and copied as they are are scanned for personal data.
            let scanned = c.pii.is_none() && c.mask == MaskMethod::Keep && ty.is_textual();
            let mut pii_scan = Default::default();
            let mut redacted_cells = 0;
            let mut declared_format_rows = 0u64;
            let policy = c.pii_scan.clone().unwrap_or(spec.masking.pii_scan.clone());
            if scanned {
                // A value of a format the spec declares for the column (an ISBN, an order
                // reference) is the column's own data, not personal data the spec missed.
                let hits: Vec<Vec<&'static str>> = rc
                    .cells()
                    .iter()
                    .map(|v| {
                        v.as_deref()
                            .map(|b| text(b))
                            .filter(|t| {
                                let own = declared.matches(t);
                                declared_format_rows += u64::from(own);
                                !own
                            })
                            .map(|t| scan::kinds(&t))
                            .unwrap_or_default()
                    })
                    .collect();
                pii_scan = scan::count(&hits);
                if !pii_scan.is_empty() {
                    let kinds: Vec<String> =
                        pii_scan.iter().map(|(k, n)| format!("{k}: {n}")).collect();
                    match &policy {
                        PiiScanPolicy::Refuse => refused_scans.push(format!(
                            "{}.{} ({})",
                            t.name,
                            c.name,
                            kinds.join(", ")
                        )),
                        PiiScanPolicy::Redact => {
                            if let Values::Text(cells) = &mut m.values {
                                for (cell, h) in cells.iter_mut().zip(&hits) {
                                    if !h.is_empty() && cell.is_some() {
                                        *cell = None;
                                        redacted_cells += 1;
                                    }
                                }
                            }
                            tracing::warn!(
                                "{}.{} is declared non-PII but {redacted_cells} of its values look like personal data ({}); they were redacted",
                                t.name,
                                c.name,
                                kinds.join(", ")
                            );
                        }
                        PiiScanPolicy::Accept { .. } => tracing::warn!(
                            "{}.{} is declared non-PII but some of its values look like personal data ({}); copied as the spec accepts",
                            t.name,
                            c.name,
                            kinds.join(", ")
                        ),
                    }
                }
            }
            meta.push(ExtractedColumn {
                table: t.name.clone(),
                column: c.name.clone(),
                pii: c.pii.clone(),
                method: c.mask,
                logical_type: if c.mask.keeps_type() {
                    ty
                } else {
                    m.values.logical_type()
                },
                rows: raw.rows() as u64,
                type_errors: m.type_errors,
                raw_text,
                leak_check_passed: None,
                pii_scan,
                pii_scan_policy: scanned.then(|| policy_name(&policy).to_string()),
                pii_scan_reason: match (&policy, scanned) {
                    (PiiScanPolicy::Accept { reason }, true) => Some(reason.clone()),
                    _ => None,
                },
                redacted_cells,
                declared_format_rows,
                distinct_inputs: m.distinct.map(|d| d.0),
                distinct_outputs: m.distinct.map(|d| d.1),
            });
            out.push((c.name.clone(), m.values));
        }
        same_row_check(t, &raw, &out, &mut meta)?;
        guard.check_table(&t.name, &out)?;
        for m in meta.iter_mut().filter(|m| m.pii.is_some()) {
            m.leak_check_passed = Some(true);
        }
        let qi: Vec<(&str, &Values)> = spec
            .masking
            .quasi_identifiers
            .iter()
            .filter(|(qt, _)| *qt == t.name)
            .filter_map(|(_, qc)| {
                out.iter()
                    .find(|(n, _)| n == qc)
                    .map(|(n, v)| (n.as_str(), v))
            })
            .collect();
        if !qi.is_empty() {
            k_anonymity.push(kanon::measure(&t.name, &qi, raw.rows(), spec.masking.k));
        }
        let mut df = frame::to_frame(raw.rows(), &out)?;
        for c in t.columns.iter().filter(|c| c.mask.keeps_type()) {
            if let Some(ct) = c.column_type(spec)
                && df.column(&c.name).is_ok()
            {
                frame::cast_declared(&mut df, &c.name, ct)?;
            }
        }
        out_tables.push((t.name.clone(), df));
        columns.extend(meta);
        // `raw` is dropped here: the table's unmasked rows are gone before the next is masked.
    }
    if !too_small.is_empty() {
        bail!(
            "format_preserving cannot hide these values: fewer than {} digits or {} letters is below \
             FF1's minimum domain of one million (NIST SP 800-38G Rev. 1): {}. Nothing was written. \
             Mask those columns with `hash`, `generalize` or `redact`",
            methods::MIN_DIGITS,
            methods::MIN_LETTERS,
            too_small.join(", ")
        );
    }
    if !refused_scans.is_empty() {
        bail!(
            "columns declared non-PII hold values that look like personal data (rows per kind): {}. \
             Nothing was written. Classify each with `pii` and a `mask`, or set `pii_scan = \"redact\"` \
             (null the matching values) or `pii_scan = \"accept\"` with a `pii_scan_reason` on the column \
             (or under `[masking]` for all columns)",
            refused_scans.join(", ")
        );
    }
    if spec.masking.enforce_k_anonymity {
        let broken: Vec<String> = k_anonymity
            .iter()
            .filter(|k| !k.holds())
            .map(|k| {
                format!(
                    "{} over ({}): smallest group {}, {} rows in groups below k = {}",
                    k.table,
                    k.columns.join(", "),
                    k.min_group,
                    k.rows_below_k,
                    k.k
                )
            })
            .collect();
        if !broken.is_empty() {
            bail!(
                "k-anonymity does not hold: {}. Nothing was written. Generalize the quasi-identifiers \
                 (`mask = \"generalize\"`), sample more rows, or lower `[masking] k`",
                broken.join("; ")
            );
        }
    }
    for (t, c) in unclassified {
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
            pii_scan_policy: None,
            pii_scan_reason: None,
            redacted_cells: 0,
            declared_format_rows: 0,
            distinct_inputs: None,
            distinct_outputs: None,
        });
    }
    Ok(Masked {
        tables: out_tables,
        columns,
        k_anonymity,
        guard,
    })
}

fn policy_name(p: &PiiScanPolicy) -> &'static str {
    match p {
        PiiScanPolicy::Refuse => "refuse",
        PiiScanPolicy::Redact => "redact",
        PiiScanPolicy::Accept { .. } => "accept",
    }
}

fn spec_table<'a>(spec: &'a Spec, raw: &RawTable) -> anyhow::Result<&'a Table> {
    spec.table(raw.name()).ok_or_else(|| {
        anyhow::anyhow!(
            "extraction read `{}`, which the spec does not name",
            raw.name()
        )
    })
}

/// The raw cells naming each row's entity, for `shift_dates`.
fn entity_cells<'a>(
    t: &Table,
    c: &Column,
    raw: &'a RawTable,
) -> anyhow::Result<Option<&'a [Option<Vec<u8>>]>> {
    if c.mask != MaskMethod::ShiftDates {
        return Ok(None);
    }
    let Some(name) = c.mask_options.entity.as_deref().or(t.key.as_deref()) else {
        bail!(
            "{}.{} uses shift_dates but names no entity and its table has no key; set `mask_entity`",
            t.name,
            c.name
        );
    };
    match raw.column_index(name) {
        Some(i) => Ok(Some(raw.columns()[i].cells())),
        None => bail!(
            "{}.{} shifts dates per `{name}`, which the source does not have; set `mask_entity` to a column it has",
            t.name,
            c.name
        ),
    }
}

fn text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// One masked column and what masking it measured.
struct MaskedColumn {
    values: Values,
    /// Raw values that did not parse as the column's type.
    type_errors: u64,
    /// Distinct raw inputs and distinct masked outputs (masked columns only).
    distinct: Option<(u64, u64)>,
    /// `format_preserving`: values whose domain is too small for FF1.
    too_small: u64,
}

fn mask_column(
    c: &Column,
    ct: ColumnType,
    rc: &RawColumn,
    entity: Option<&[Option<Vec<u8>>]>,
    key: &MaskKey,
    ff1: &Ff1,
) -> MaskedColumn {
    let cells = rc.cells();
    let mut errors = 0u64;
    let mut too_small = 0u64;
    let o = &c.mask_options;
    let values = match c.mask {
        MaskMethod::Keep => typed(ct, cells, &mut errors),
        MaskMethod::Redact => Values::Text(vec![None; cells.len()]),
        MaskMethod::Generalize => match typed(ct, cells, &mut errors) {
            Values::Timestamp(v) => Values::Timestamp(
                v.into_iter()
                    .map(|x| x.and_then(|x| methods::generalize_timestamp(x, o.to)))
                    .collect(),
            ),
            Values::TimestampTz(v) => Values::TimestampTz(
                v.into_iter()
                    .map(|x| x.and_then(|x| methods::generalize_timestamp(x, o.to)))
                    .collect(),
            ),
            Values::Date(v) => Values::Date(
                v.into_iter()
                    .map(|x| {
                        x.and_then(|d| methods::generalize_timestamp(i64::from(d) * DAY_US, o.to))
                            .map(|t| t.div_euclid(DAY_US) as i32)
                    })
                    .collect(),
            ),
            Values::Decimal {
                values,
                precision,
                scale,
            } => {
                let f = 10f64.powi(i32::from(scale));
                Values::Decimal {
                    values: values
                        .into_iter()
                        .map(|x| {
                            x.map(|x| {
                                (methods::generalize_number(x as f64 / f, o.bin) * f).round()
                                    as i128
                            })
                        })
                        .collect(),
                    precision,
                    scale,
                }
            }
            v @ Values::Bool(_) => v,
            Values::Int(v) => Values::Int(
                v.into_iter()
                    .map(|x| x.map(|x| methods::generalize_number(x as f64, o.bin) as i64))
                    .collect(),
            ),
            Values::Float(v) => Values::Float(
                v.into_iter()
                    .map(|x| x.map(|x| methods::generalize_number(x, o.bin)))
                    .collect(),
            ),
            Values::Text(v) => Values::Text(
                v.into_iter()
                    .map(|x| {
                        x.map(|s| {
                            let keep = o.keep.min(s.chars().count().saturating_sub(1));
                            methods::generalize_text(&s, keep)
                        })
                    })
                    .collect(),
            ),
        },
        MaskMethod::ShiftDates => {
            // A row without an entity gets an offset of its own (keyed by nothing shared), so
            // it still moves.
            let offset = |i: usize| {
                let e = entity
                    .and_then(|e| e.get(i))
                    .and_then(|e| e.as_deref())
                    .unwrap_or(b"\0no-entity");
                methods::date_offset(key, e, o.max_days)
            };
            let instant = if ct.logical.is_temporal() {
                ct
            } else {
                ColumnType::of(LogicalType::Timestamp)
            };
            match typed(instant, cells, &mut errors) {
                Values::Date(v) => Values::Date(
                    v.into_iter()
                        .enumerate()
                        .map(|(i, x)| x.map(|d| d + offset(i).div_euclid(DAY_US) as i32))
                        .collect(),
                ),
                Values::TimestampTz(v) => Values::TimestampTz(
                    v.into_iter()
                        .enumerate()
                        .map(|(i, x)| x.map(|t| t + offset(i)))
                        .collect(),
                ),
                Values::Timestamp(v) => Values::Timestamp(
                    v.into_iter()
                        .enumerate()
                        .map(|(i, x)| x.map(|t| t + offset(i)))
                        .collect(),
                ),
                other => other,
            }
        }
        MaskMethod::Pseudonym => {
            let avoid: HashSet<String> = cells
                .iter()
                .flatten()
                .map(|b| text(b).into_owned())
                .collect();
            Values::Text(
                cells
                    .iter()
                    .map(|v| v.as_deref().map(|b| methods::pseudonym(key, b, &avoid)))
                    .collect(),
            )
        }
        MaskMethod::FormatPreserving => Values::Text(
            cells
                .iter()
                .map(|v| {
                    let s = text(v.as_deref()?);
                    match ff1.encrypt(&s) {
                        Ok(x) => Some(x),
                        Err(FpeError::DomainTooSmall) => {
                            too_small += 1;
                            None
                        }
                    }
                })
                .collect(),
        ),
        MaskMethod::Hash => Values::Text(
            cells
                .iter()
                .map(|v| v.as_deref().map(|b| methods::hash(key, b)))
                .collect(),
        ),
        MaskMethod::HashEmail => Values::Text(
            cells
                .iter()
                .map(|v| v.as_deref().map(|b| methods::hash_email(key, b)))
                .collect(),
        ),
    };
    let distinct = (c.mask != MaskMethod::Keep).then(|| {
        let inputs: HashSet<&[u8]> = cells.iter().flatten().map(Vec::as_slice).collect();
        let outputs: HashSet<String> = (0..values.len()).filter_map(|i| values.key_at(i)).collect();
        (inputs.len() as u64, outputs.len() as u64)
    });
    MaskedColumn {
        values,
        type_errors: errors,
        distinct,
        too_small,
    }
}

/// Raw cells read as the column's type; a value that does not parse is null and counted.
/// Each engine's text form is accepted: booleans as `t`/`f`, `true`/`false`, `1`/`0`, `yes`/`no`;
/// decimals exactly at the declared scale; instants with an offset normalised to UTC.
fn typed(ct: ColumnType, cells: &[Option<Vec<u8>>], errors: &mut u64) -> Values {
    match ct.logical {
        LogicalType::Bool => Values::Bool(
            cells
                .iter()
                .map(|v| {
                    let parsed = parse_bool(&text(v.as_deref()?));
                    *errors += parsed.is_none() as u64;
                    parsed
                })
                .collect(),
        ),
        LogicalType::Int => {
            let lim = 1i128 << (ct.bits.clamp(8, 64) - 1);
            Values::Int(
                cells
                    .iter()
                    .map(|v| {
                        let parsed = parse_int(&text(v.as_deref()?))
                            .filter(|x| (-lim..lim).contains(&i128::from(*x)));
                        *errors += parsed.is_none() as u64;
                        parsed
                    })
                    .collect(),
            )
        }
        LogicalType::Float => Values::Float(
            cells
                .iter()
                .map(|v| {
                    let parsed = text(v.as_deref()?)
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite());
                    *errors += parsed.is_none() as u64;
                    parsed
                })
                .collect(),
        ),
        LogicalType::Decimal => {
            let limit = 10i128.pow(u32::from(ct.precision));
            Values::Decimal {
                values: cells
                    .iter()
                    .map(|v| {
                        let parsed = frame::parse_decimal(&text(v.as_deref()?), ct.scale)
                            .filter(|x| x.abs() < limit);
                        *errors += parsed.is_none() as u64;
                        parsed
                    })
                    .collect(),
                precision: ct.precision,
                scale: ct.scale,
            }
        }
        LogicalType::Date => Values::Date(
            cells
                .iter()
                .map(|v| {
                    // A date is a midnight; a time of day is not a date.
                    let parsed = parse_instant(&text(v.as_deref()?))
                        .filter(|t| t.rem_euclid(DAY_US) == 0)
                        .map(|t| t.div_euclid(DAY_US) as i32);
                    *errors += parsed.is_none() as u64;
                    parsed
                })
                .collect(),
        ),
        LogicalType::Timestamp | LogicalType::TimestampTz => {
            let v: Vec<Option<i64>> = cells
                .iter()
                .map(|v| {
                    let parsed = parse_instant(&text(v.as_deref()?));
                    *errors += parsed.is_none() as u64;
                    parsed
                })
                .collect();
            if ct.logical == LogicalType::Timestamp {
                Values::Timestamp(v)
            } else {
                Values::TimestampTz(v)
            }
        }
        LogicalType::Uuid => Values::Text(
            cells
                .iter()
                .map(|v| {
                    let parsed = parse_uuid(&text(v.as_deref()?));
                    *errors += parsed.is_none() as u64;
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
    }
}

const DAY_US: i64 = 86_400_000_000;

/// A boolean in any engine's text form.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "1" | "y" | "yes" | "on" => Some(true),
        "f" | "false" | "0" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Microseconds since the epoch (UTC) from a timestamp with or without an offset
/// (`2024-03-01 10:00:00+01`, `2024-03-01T09:00:00Z`, `2024-03-01 09:00:00`, `2024-03-01`).
/// Without an offset the value is taken as UTC.
pub(crate) fn parse_instant(s: &str) -> Option<i64> {
    let t = s.trim();
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(d) = chrono::DateTime::parse_from_str(t, fmt) {
            return Some(d.timestamp_micros());
        }
    }
    parse_timestamp(t)
}

#[cfg(test)]
pub(crate) fn parse_uuid_for_tests(s: &str) -> Option<String> {
    parse_uuid(s)
}

/// A UUID in canonical lower-case form (braces and upper case accepted).
fn parse_uuid(s: &str) -> Option<String> {
    let t = s.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    let dashes_ok = t.len() == 32
        || (t.len() == 36 && [8, 13, 18, 23].iter().all(|i| t.as_bytes()[*i] == b'-'));
    (hex.len() == 32 && dashes_ok && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| frame::uuid_text(&hex.to_ascii_lowercase()))
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

/// A short keyed hash that stands for a value in a report's examples.
pub fn example_hash(key: &MaskKey, value: &str) -> String {
    crate::spec::hex_digest_of(&methods::hmac(key, b"example", value.as_bytes())[..4])
}

/// A keyed 64-bit token of a value, for the distinct-count sketch of production data: the
/// sketch then tells nothing about whether a guessed value is present.
pub fn distinct_token(key: &MaskKey, value: &str) -> u64 {
    distinct_token_bytes(key, value.as_bytes())
}

/// [`distinct_token`] of raw bytes (a number's bits).
pub fn distinct_token_bytes(key: &MaskKey, value: &[u8]) -> u64 {
    let h = methods::hmac(key, b"distinct", value);
    u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// Applies a value-transforming method to one raw value (for tests and tools; the pipeline
/// masks whole columns).
pub fn apply(method: MaskMethod, key: &MaskKey, raw: &[u8]) -> Option<String> {
    Some(match method {
        MaskMethod::Hash => methods::hash(key, raw),
        MaskMethod::HashEmail => methods::hash_email(key, raw),
        MaskMethod::Pseudonym => methods::pseudonym(key, raw, &HashSet::new()),
        MaskMethod::FormatPreserving => Ff1::new(key).encrypt(&text(raw)).ok()?,
        _ => return None,
    })
}

/// Leak check rule 1 (see [`leak`]): no text cell of another output column equals its row's raw
/// PII value, whatever the value's length.
fn same_row_check(
    t: &Table,
    raw: &RawTable,
    out: &[(String, Values)],
    meta: &mut [ExtractedColumn],
) -> anyhow::Result<()> {
    for (rc, m) in raw.columns().iter().zip(meta.iter_mut()) {
        if t.column(rc.name()).is_none_or(|c| c.pii.is_none()) {
            continue;
        }
        let mut leaks = Vec::new();
        for (name, values) in out {
            let Values::Text(cells) = values else {
                continue;
            };
            if name == rc.name() {
                continue;
            }
            let n = rc
                .cells()
                .iter()
                .zip(cells)
                .filter(|(r, o)| match (r, o) {
                    (Some(r), Some(o)) => {
                        let r = text(r);
                        !r.trim().is_empty() && r.trim() == o.trim()
                    }
                    _ => false,
                })
                .count();
            if n > 0 {
                leaks.push(format!(
                    "{}.{name} ({n} row{})",
                    t.name,
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
        if !leaks.is_empty() {
            m.leak_check_passed = Some(false);
            bail!(
                "leak check failed: raw values of PII column {}.{} appear unmasked in {}. Nothing was written. \
                 Mask those columns too, or classify them as PII",
                t.name,
                rc.name(),
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
            apply(MaskMethod::Hash, &key(), b"alice").as_deref(),
            Some("952d0938f4e00ba8082f2d704001c638")
        );
        let other = MaskKey::from_bytes(b"other".to_vec(), "TEST", false);
        assert_ne!(
            apply(MaskMethod::Hash, &key(), b"alice"),
            apply(MaskMethod::Hash, &other, b"alice")
        );
    }
}
