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
use std::hash::BuildHasher;

use anyhow::bail;
use polars::prelude::DataFrame;

pub use key::MaskKey;
pub use leak::LeakGuard;
pub use raw::{Cells, RawColumn, RawTable};

use crate::dataset::ExtractedColumn;
use crate::frame::{self, Values};
use crate::profile::text::TextAcc;
use crate::spec::{
    Column, ColumnType, LogicalType, MaskMethod, PiiScanPolicy, Spec, Table, parse_timestamp,
};
use kanon::KAnonymity;
use methods::{Ff1, FpeError};

/// What masking a whole run measured, once its last table is in: what was done to each
/// column, k-anonymity, and the guard that checks every artifact before it is put in place.
pub struct Masked {
    pub columns: Vec<ExtractedColumn>,
    pub k_anonymity: Vec<KAnonymity>,
    pub guard: LeakGuard,
}

/// Masks production one batch of rows at a time. The run's state lives here: the leak guard,
/// which grows with every batch's PII values, and the refusals that are raised once every
/// table is in (so one error lists them all). A table's state lives in [`TableMasker`].
///
/// Every batch's output is checked against the guard as it stands; a value the guard learns
/// later is looked for in what was already written by [`LeakGuard::check_parquet`], which the
/// caller runs on each file whose [`Masker::end`] size is below the guard's final size.
pub struct Masker<'a> {
    spec: &'a Spec,
    key: &'a MaskKey,
    ff1: Ff1,
    guard: LeakGuard,
    /// Hashes for the table-wide sets (in memory only, never written).
    hasher: std::hash::RandomState,
    columns: Vec<ExtractedColumn>,
    k_anonymity: Vec<KAnonymity>,
    refused_scans: Vec<String>,
    too_small: Vec<String>,
}

/// One table's masking state between batches: per column the counters the audit reports, and
/// the sets that must span the whole table (distinct inputs and outputs, the raw values a
/// pseudonym must not equal, which are the distinct inputs), held as keyed 64-bit hashes, never
/// as values.
pub struct TableMasker<'a> {
    table: &'a Table,
    rows: u64,
    columns: Vec<ColumnState<'a>>,
    groups: Option<(Vec<usize>, kanon::Groups)>,
    /// The guard's size when this table's first batch was checked.
    guard_at_start: Option<usize>,
}

struct ColumnState<'a> {
    c: &'a Column,
    ct: ColumnType,
    declared: scan::Declared,
    raw_text: Option<TextAcc>,
    /// The leak guard's index of this column, for a PII column.
    pii: Option<usize>,
    type_errors: u64,
    too_small: u64,
    scanned: bool,
    policy: PiiScanPolicy,
    pii_scan: std::collections::BTreeMap<String, u64>,
    redacted_cells: u64,
    declared_format_rows: u64,
    /// Masked columns: hashes of the distinct raw inputs (also what a pseudonym must not
    /// equal) and of the distinct masked outputs.
    distinct: Option<(HashSet<u64>, HashSet<u64>)>,
    output_type: Option<LogicalType>,
}

impl<'a> Masker<'a> {
    pub fn new(spec: &'a Spec, key: &'a MaskKey) -> Masker<'a> {
        Masker {
            spec,
            key,
            ff1: Ff1::new(key),
            guard: LeakGuard::new(spec.masking.leak_min_length),
            hasher: std::hash::RandomState::new(),
            columns: Vec::new(),
            k_anonymity: Vec::new(),
            refused_scans: Vec::new(),
            too_small: Vec::new(),
        }
    }

    /// Starts a table whose batches hold `columns` (spec names, in the batches' order).
    pub fn table(&mut self, name: &str, columns: &[&str]) -> anyhow::Result<TableMasker<'a>> {
        let spec = self.spec;
        let t = spec.table(name).ok_or_else(|| {
            anyhow::anyhow!("extraction read `{name}`, which the spec does not name")
        })?;
        let mut states = Vec::new();
        for name in columns {
            let c = t.column(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "extraction read {}.{name}, which the spec does not name",
                    t.name
                )
            })?;
            let ct = c
                .column_type(spec)
                .unwrap_or(ColumnType::of(LogicalType::Text));
            let pii = c
                .pii
                .is_some()
                .then(|| self.guard.column(&format!("{}.{}", t.name, c.name)));
            states.push(ColumnState {
                c,
                ct,
                // The formats the spec declares for the column: what the text statistics count
                // undeclared rows against, and what the PII scan leaves to the column.
                declared: scan::Declared::of(c),
                raw_text: ct.logical.is_textual().then(TextAcc::default),
                pii,
                type_errors: 0,
                too_small: 0,
                // Columns declared non-PII and copied as they are are scanned for personal data.
                scanned: c.pii.is_none() && c.mask == MaskMethod::Keep && ct.logical.is_textual(),
                policy: c.pii_scan.clone().unwrap_or(spec.masking.pii_scan.clone()),
                pii_scan: Default::default(),
                redacted_cells: 0,
                declared_format_rows: 0,
                distinct: (c.mask != MaskMethod::Keep).then(Default::default),
                output_type: None,
            });
        }
        let qi: Vec<(usize, &str)> = spec
            .masking
            .quasi_identifiers
            .iter()
            .filter(|(qt, _)| *qt == t.name)
            .filter_map(|(_, qc)| {
                columns
                    .iter()
                    .position(|c| c == qc)
                    .map(|i| (i, columns[i]))
            })
            .collect();
        let groups = (!qi.is_empty()).then(|| {
            let names: Vec<&str> = qi.iter().map(|(_, n)| *n).collect();
            (
                qi.iter().map(|(i, _)| *i).collect(),
                kanon::Groups::new(&t.name, &names, spec.masking.k),
            )
        });
        Ok(TableMasker {
            table: t,
            rows: 0,
            columns: states,
            groups,
            guard_at_start: None,
        })
    }

    /// Masks one batch of `tm`'s table (consuming it): gives the masked columns, in the
    /// batch's order, as the spec's types. The batch's raw PII values join the guard first, so
    /// the batch is checked against them too.
    pub fn batch(
        &mut self,
        tm: &mut TableMasker<'a>,
        raw: RawTable,
    ) -> anyhow::Result<Vec<(String, Values)>> {
        let t = tm.table;
        if raw.columns().len() != tm.columns.len() {
            bail!(
                "a batch of `{}` has {} columns where its first had {}",
                t.name,
                raw.columns().len(),
                tm.columns.len()
            );
        }
        for (rc, st) in raw.columns().iter().zip(&tm.columns) {
            if let Some(g) = st.pii {
                for b in rc.cells().iter().flatten() {
                    self.guard.add(g, &text(b));
                }
            }
        }
        let mut out: Vec<(String, Values)> = Vec::new();
        for (rc, st) in raw.columns().iter().zip(tm.columns.iter_mut()) {
            let c = st.c;
            if let Some(s) = &mut st.raw_text {
                if st.declared.is_empty() {
                    rc.cells().iter().flatten().for_each(|b| s.add_bytes(b));
                } else {
                    let d = &st.declared;
                    let of_one = |v: &str| d.matches(v);
                    for b in rc.cells().iter().flatten() {
                        s.add_bytes_declared(b, &of_one);
                    }
                }
            }
            let h = &self.hasher;
            // The batch's own inputs count before it is masked: a pseudonym avoids them too.
            if let Some((inputs, _)) = &mut st.distinct {
                inputs.extend(rc.cells().iter().flatten().map(|b| h.hash_one(b)));
            }
            let entity = entity_cells(t, c, &raw)?;
            let inputs = st.distinct.as_ref().map(|d| &d.0);
            let is_raw = |v: &str| inputs.is_some_and(|i| i.contains(&h.hash_one(v.as_bytes())));
            let mut m = mask_column(c, st.ct, rc, entity, self.key, &self.ff1, &is_raw);
            st.type_errors += m.type_errors;
            st.too_small += m.too_small;
            if let Some((_, outputs)) = &mut st.distinct {
                outputs.extend(
                    (0..m.values.len())
                        .filter_map(|i| m.values.key_at(i).map(|v| h.hash_one(v.as_bytes()))),
                );
            }
            if st.scanned {
                // A value of a format the spec declares for the column (an ISBN, an order
                // reference) is the column's own data, not personal data the spec missed.
                let hits: Vec<Vec<&'static str>> = rc
                    .cells()
                    .iter()
                    .map(|v| {
                        v.map(|b| text(b))
                            .filter(|t| {
                                let own = st.declared.matches(t);
                                st.declared_format_rows += u64::from(own);
                                !own
                            })
                            .map(|t| scan::kinds(&t))
                            .unwrap_or_default()
                    })
                    .collect();
                for (kind, n) in scan::count(&hits) {
                    *st.pii_scan.entry(kind).or_default() += n;
                }
                if matches!(st.policy, PiiScanPolicy::Redact)
                    && let Values::Text(cells) = &mut m.values
                {
                    for (cell, h) in cells.iter_mut().zip(&hits) {
                        if !h.is_empty() && cell.is_some() {
                            *cell = None;
                            st.redacted_cells += 1;
                        }
                    }
                }
            }
            st.output_type.get_or_insert(m.values.logical_type());
            out.push((c.name.clone(), m.values));
        }
        same_row_check(t, &raw, &out)?;
        tm.guard_at_start.get_or_insert(self.guard.len());
        self.guard.check_table(&t.name, &out)?;
        if let Some((at, groups)) = &mut tm.groups {
            let qi: Vec<&Values> = at.iter().map(|i| &out[*i].1).collect();
            groups.add(&qi, raw.rows());
        }
        tm.rows += raw.rows() as u64;
        Ok(out)
        // `raw` is dropped here: the batch's unmasked rows are gone before the next is read.
    }

    /// Ends a table: its columns' facts join the run's, and its deferred refusals are noted.
    /// Gives the guard's size when the table's first batch was checked: if the guard holds more
    /// values at the end of the run, the table's file must be read back with
    /// [`LeakGuard::check_parquet`].
    pub fn end(&mut self, tm: TableMasker<'a>) -> usize {
        let t = tm.table;
        for st in tm.columns {
            let c = st.c;
            if st.too_small > 0 {
                self.too_small.push(format!(
                    "{}.{} ({} value{})",
                    t.name,
                    c.name,
                    st.too_small,
                    if st.too_small == 1 { "" } else { "s" }
                ));
            }
            if !st.pii_scan.is_empty() {
                let kinds: Vec<String> = st
                    .pii_scan
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect();
                match &st.policy {
                    PiiScanPolicy::Refuse => self.refused_scans.push(format!(
                        "{}.{} ({})",
                        t.name,
                        c.name,
                        kinds.join(", ")
                    )),
                    PiiScanPolicy::Redact => tracing::warn!(
                        "{}.{} is declared non-PII but {} of its values look like personal data ({}); they were redacted",
                        t.name,
                        c.name,
                        st.redacted_cells,
                        kinds.join(", ")
                    ),
                    PiiScanPolicy::Accept { .. } => tracing::warn!(
                        "{}.{} is declared non-PII but some of its values look like personal data ({}); copied as the spec accepts",
                        t.name,
                        c.name,
                        kinds.join(", ")
                    ),
                }
            }
            let mut raw_text = st.raw_text.map(TextAcc::finish);
            if let Some(s) = &mut raw_text {
                s.suppress_rare(self.spec.masking.k);
            }
            self.columns.push(ExtractedColumn {
                table: t.name.clone(),
                column: c.name.clone(),
                pii: c.pii.clone(),
                method: c.mask,
                logical_type: if c.mask.keeps_type() {
                    st.ct.logical
                } else {
                    st.output_type.unwrap_or(LogicalType::Text)
                },
                rows: tm.rows,
                type_errors: st.type_errors,
                raw_text,
                // Every batch passed the same-row check and the guard (or the run stopped);
                // files read back at the end of the run are checked before anything is kept.
                leak_check_passed: c.pii.is_some().then_some(true),
                pii_scan: st.pii_scan,
                pii_scan_policy: st.scanned.then(|| policy_name(&st.policy).to_string()),
                pii_scan_reason: match (&st.policy, st.scanned) {
                    (PiiScanPolicy::Accept { reason }, true) => Some(reason.clone()),
                    _ => None,
                },
                redacted_cells: st.redacted_cells,
                declared_format_rows: st.declared_format_rows,
                distinct_inputs: st.distinct.as_ref().map(|d| d.0.len() as u64),
                distinct_outputs: st.distinct.as_ref().map(|d| d.1.len() as u64),
            });
        }
        if let Some((_, g)) = tm.groups {
            self.k_anonymity.push(g.finish());
        }
        tm.guard_at_start.unwrap_or(self.guard.len())
    }

    /// The run's refusals, now that every table is in; `unclassified` columns are recorded by
    /// name only.
    pub fn finish(self, unclassified: &[(String, String)]) -> anyhow::Result<Masked> {
        let Masker {
            spec,
            guard,
            mut columns,
            k_anonymity,
            refused_scans,
            too_small,
            ..
        } = self;
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
            columns,
            k_anonymity,
            guard,
        })
    }
}

/// Masked columns as a frame of the spec's types, ready for a Parquet row group.
pub fn to_frame(
    spec: &Spec,
    table: &str,
    rows: usize,
    out: &[(String, Values)],
) -> anyhow::Result<DataFrame> {
    let mut df = frame::to_frame(rows, out)?;
    if let Some(t) = spec.table(table) {
        for c in t.columns.iter().filter(|c| c.mask.keeps_type()) {
            if let Some(ct) = c.column_type(spec)
                && df.column(&c.name).is_ok()
            {
                frame::cast_declared(&mut df, &c.name, ct)?;
            }
        }
    }
    Ok(df)
}

fn policy_name(p: &PiiScanPolicy) -> &'static str {
    match p {
        PiiScanPolicy::Refuse => "refuse",
        PiiScanPolicy::Redact => "redact",
        PiiScanPolicy::Accept { .. } => "accept",
    }
}

/// The raw cells naming each row's entity, for `shift_dates`.
fn entity_cells<'a>(t: &Table, c: &Column, raw: &'a RawTable) -> anyhow::Result<Option<Cells<'a>>> {
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
    /// `format_preserving`: values whose domain is too small for FF1.
    too_small: u64,
}

fn mask_column(
    c: &Column,
    ct: ColumnType,
    rc: &RawColumn,
    entity: Option<Cells<'_>>,
    key: &MaskKey,
    ff1: &Ff1,
    avoid: &dyn Fn(&str) -> bool,
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
                let e = entity.and_then(|e| e.get(i)).unwrap_or(b"\0no-entity");
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
        MaskMethod::Pseudonym => Values::Text(
            cells
                .iter()
                .map(|v| v.map(|b| methods::pseudonym(key, b, avoid)))
                .collect(),
        ),
        MaskMethod::FormatPreserving => Values::Text(
            cells
                .iter()
                .map(|v| {
                    let s = text(v?);
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
                .map(|v| v.map(|b| methods::hash(key, b)))
                .collect(),
        ),
        MaskMethod::HashEmail => Values::Text(
            cells
                .iter()
                .map(|v| v.map(|b| methods::hash_email(key, b)))
                .collect(),
        ),
    };
    MaskedColumn {
        values,
        type_errors: errors,
        too_small,
    }
}

/// Raw cells read as the column's type; a value that does not parse is null and counted.
/// Each engine's text form is accepted: booleans as `t`/`f`, `true`/`false`, `1`/`0`, `yes`/`no`;
/// decimals exactly at the declared scale; instants with an offset normalised to UTC.
fn typed(ct: ColumnType, cells: Cells<'_>, errors: &mut u64) -> Values {
    match ct.logical {
        LogicalType::Bool => Values::Bool(
            cells
                .iter()
                .map(|v| {
                    let parsed = parse_bool(&text(v?));
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
                        let parsed =
                            parse_int(&text(v?)).filter(|x| (-lim..lim).contains(&i128::from(*x)));
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
                    let parsed = text(v?)
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
                        let parsed =
                            frame::parse_decimal(&text(v?), ct.scale).filter(|x| x.abs() < limit);
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
                    let parsed = parse_instant(&text(v?))
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
                    let parsed = parse_instant(&text(v?));
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
                    let parsed = parse_uuid(&text(v?));
                    *errors += parsed.is_none() as u64;
                    parsed
                })
                .collect(),
        ),
        LogicalType::Text => Values::Text(
            cells
                .iter()
                .map(|v| v.map(|b| text(b).into_owned()))
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
    if let Some((local, offset)) = crate::spec::parse_iso(t) {
        return Some(local - offset.unwrap_or(0) * 1_000_000);
    }
    parse_instant_by_format(t)
}

/// [`parse_instant`] by chrono's format interpreter: the reference the fast path must agree
/// with, and the judge of every other form.
fn parse_instant_by_format(s: &str) -> Option<i64> {
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
        MaskMethod::Pseudonym => methods::pseudonym(key, raw, &|_| false),
        MaskMethod::FormatPreserving => Ff1::new(key).encrypt(&text(raw)).ok()?,
        _ => return None,
    })
}

/// Leak check rule 1 (see [`leak`]): no text cell of another output column equals its row's raw
/// PII value, whatever the value's length.
fn same_row_check(t: &Table, raw: &RawTable, out: &[(String, Values)]) -> anyhow::Result<()> {
    for rc in raw.columns() {
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
    /// The fast reader of the forms databases print reads every value as chrono's format
    /// interpreter does, and leaves every other value to it.
    #[test]
    fn fast_timestamps_are_read_as_the_format_parser_reads_them() {
        let dates = [
            "2024-03-01",
            "1969-12-31",
            "0001-01-01",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-3-01",
        ];
        let times = [
            "",
            " 00:00:00",
            "T23:59:59",
            " 24:00:00",
            " 12:60:00",
            " 10:00:60",
            " 9:00:00",
            "T10:00",
        ];
        let fractions = [
            "",
            ".",
            ".5",
            ".123456",
            ".1234567",
            ".123456789",
            ".1234567891",
        ];
        let offsets = [
            "",
            "Z",
            "ZZ",
            "+01",
            "+0100",
            "+01:00",
            "-05:30",
            "+1",
            "+01:0",
            "+24:00",
            "-00",
            " ",
            "x",
            "+01:00:00",
        ];
        let mut n = 0;
        for d in dates {
            for t in times {
                for f in fractions {
                    for o in offsets {
                        let s = format!("{d}{t}{f}{o}");
                        assert_eq!(
                            super::parse_instant(&s),
                            super::parse_instant_by_format(&s),
                            "instant {s:?}"
                        );
                        assert_eq!(
                            crate::spec::parse_timestamp(&s),
                            crate::spec::parse_timestamp_by_format_for_tests(&s),
                            "timestamp {s:?}"
                        );
                        n += usize::from(crate::spec::parse_iso(&s).is_some());
                    }
                }
            }
        }
        assert!(n > 200, "the fast path took {n} values");
    }
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
