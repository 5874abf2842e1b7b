//! The domain spec: one TOML file that says what valid data looks like, how production is
//! sampled and masked, and where the gate stands.
//!
//! `Spec::load` parses (unknown keys are errors), then validates and collects *every* problem
//! before returning, each with `file:line:col`, the key, and what was expected. Everything after
//! this module works on the typed [`Spec`] and never sees TOML.

mod keys;
mod raw;
pub mod suggest;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub(crate) use validate::parse_iso;
#[cfg(test)]
pub(crate) use validate::parse_timestamp_by_format_for_tests;
pub use validate::{parse_duration, parse_timestamp, row_order};

/// A validated domain spec.
#[derive(Debug, Clone)]
pub struct Spec {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex: what reports and audits cite.
    pub digest: String,
    pub domain: String,
    pub description: Option<String>,
    pub seed: u64,
    pub source: Source,
    pub masking: Masking,
    /// Tables in generation order: every table after the tables it references.
    pub tables: Vec<Table>,
    pub rules: Vec<Rule>,
    pub gate: Gate,
    /// Findings the team has decided to accept, each with its reason.
    pub waivers: Vec<Waiver>,
    /// Rare cases planted on purpose in the synthetic data.
    pub scenarios: Vec<Scenario>,
}

/// `[[scenarios]]`: a rare case the team wants its tests to meet, planted on purpose.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub table: String,
    pub rows: ScenarioRows,
    /// Columns the scenario's rows draw from these generators instead of their own.
    pub set: Vec<(String, Generator)>,
    /// Text anomalies planted in the scenario's rows.
    pub anomalies: Vec<(String, Anomaly)>,
    /// Rules these rows break on purpose: `generate` does not fail on them.
    pub breaks: Vec<String>,
}

/// Which rows a scenario takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScenarioRows {
    /// Each generated row with this probability.
    Share(f64),
    /// This many rows added to the table (times `--scale`).
    Add(u64),
}

/// A text anomaly a scenario plants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// UTF-8 read as Windows-1252: `é` becomes `Ã©`.
    Mojibake,
    /// U+FFFD where a decode failed.
    ReplacementChar,
    /// A zero-width space inside the value.
    ZeroWidth,
    /// A right-to-left override inside the value.
    Bidi,
    /// A decomposed accent (`e` + U+0301): not NFC.
    NonNfc,
    /// A no-break space instead of a space (or appended).
    Nbsp,
    /// Leading and trailing spaces.
    Whitespace,
}

impl Anomaly {
    /// The text-anomaly class a profile counts this planted anomaly under.
    pub fn measured_as(self) -> &'static str {
        match self {
            Anomaly::Mojibake => "mojibake",
            Anomaly::ReplacementChar => "replacement_char",
            Anomaly::ZeroWidth => "zero_width",
            Anomaly::Bidi => "bidi_control",
            Anomaly::NonNfc => "non_nfc",
            Anomaly::Nbsp => "unusual_space",
            Anomaly::Whitespace => "edge_whitespace",
        }
    }

    pub const NAMES: &'static str =
        "mojibake, replacement_char, zero_width, bidi, non_nfc, nbsp, whitespace";

    pub fn parse(s: &str) -> Option<Anomaly> {
        Some(match s {
            "mojibake" => Anomaly::Mojibake,
            "replacement_char" => Anomaly::ReplacementChar,
            "zero_width" => Anomaly::ZeroWidth,
            "bidi" => Anomaly::Bidi,
            "non_nfc" => Anomaly::NonNfc,
            "nbsp" => Anomaly::Nbsp,
            "whitespace" => Anomaly::Whitespace,
            _ => return None,
        })
    }

    /// `value` with the anomaly planted.
    pub fn plant(self, value: &str) -> String {
        let mid = value
            .char_indices()
            .nth(value.chars().count() / 2)
            .map_or(value.len(), |(i, _)| i);
        let (a, b) = value.split_at(mid);
        match self {
            Anomaly::Mojibake => format!("{a}Ã©{b}"),
            Anomaly::ReplacementChar => format!("{a}\u{FFFD}{b}"),
            Anomaly::ZeroWidth => format!("{a}\u{200B}{b}"),
            Anomaly::Bidi => format!("{a}\u{202E}{b}"),
            Anomaly::NonNfc => format!("{a}e\u{301}{b}"),
            Anomaly::Nbsp => match value.find(' ') {
                Some(i) => format!("{}\u{A0}{}", &value[..i], &value[i + 1..]),
                None => format!("{value}\u{A0}"),
            },
            Anomaly::Whitespace => format!("  {value} "),
        }
    }
}

/// `[[waivers]]`: findings at a place (and of a kind or metric) that may not fail the gate.
/// They are still reported, at `info`, with the reason; a waiver past its `until` date no
/// longer applies.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub table: String,
    pub column: Option<String>,
    pub kind: Option<String>,
    pub metric: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`: the waiver lapses after this day.
    pub until: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub url: Option<String>,
    pub sample: Sample,
    pub statement_timeout_s: u64,
    /// The database schema the tables live in (PostgreSQL schema, MySQL database); `None`:
    /// the connection's default.
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sample {
    /// Keep each root row with this probability (0, 1].
    Fraction(f64),
    /// Keep about this many root rows.
    Rows(u64),
}

#[derive(Debug, Clone)]
pub struct Masking {
    pub key_env: String,
    pub unclassified: Unclassified,
    /// Disclosure control: values seen fewer than `k` times in production are never printed.
    pub k: u64,
    /// What happens to a non-PII column whose values look like personal data (the default for
    /// columns that set no `pii_scan` of their own).
    pub pii_scan: PiiScanPolicy,
    /// Quasi-identifiers as `(table, column)`: k-anonymity is measured over each table's set.
    pub quasi_identifiers: Vec<(String, String)>,
    /// Stop the run (nothing written) when a table's quasi-identifiers leave a group smaller
    /// than `k`; otherwise the audit reports it.
    pub enforce_k_anonymity: bool,
    /// Raw PII values of at least this many characters are looked for *inside* every output
    /// cell and artifact; shorter ones are compared with whole cells of their own row.
    pub leak_min_length: usize,
}

/// What extraction does when the PII scan finds personal data in a column declared non-PII.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiScanPolicy {
    /// Stop the run, naming the columns and the kinds found (counts only). The default.
    Refuse,
    /// Replace each value in which PII was found with null, and count them in the audit.
    Redact,
    /// Copy the column as it is; the reason is recorded in the audit.
    Accept { reason: String },
}

/// What extraction does with a production column the spec does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unclassified {
    /// Stop with an error listing every such column (the default).
    Refuse,
    /// Record the column's existence and type, copy no value.
    Redact,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub rows: RowCount,
    /// The column that identifies a row (for sampling, uniqueness and foreign keys); `None`
    /// for a composite key.
    pub key: Option<String>,
    /// Every column of the key: one, or several for a composite key (`key = ["order_id",
    /// "line_no"]`), whose combination identifies a row.
    pub key_columns: Vec<String>,
    pub columns: Vec<Column>,
    /// The table's own thresholds over `[gate]` (`gate = { js = 0.3 }` on a tiny lookup table).
    pub gate: GateOverride,
    /// The table's name in the database, when it differs from the spec's (`"OrderItems"`).
    pub db_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tail {
    pub share: f64,
    pub min: f64,
    pub max: f64,
}

/// Thresholds a table or a column sets for itself; `None` keeps the one above it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateOverride {
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

impl Gate {
    /// This gate with a table's or column's own thresholds applied.
    pub fn with(&self, o: &GateOverride) -> Gate {
        let mut g = self.clone();
        let set = |slot: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut g.ks, o.ks);
        set(&mut g.psi, o.psi);
        set(&mut g.js, o.js);
        set(&mut g.unseen_share, o.unseen_share);
        set(&mut g.unseen_shape_share, o.unseen_shape_share);
        set(&mut g.null_rate_delta, o.null_rate_delta);
        set(&mut g.range_share, o.range_share);
        set(&mut g.correlation, o.correlation);
        if let Some(n) = o.encoding_anomalies {
            g.encoding_anomalies = n;
        }
        if let Some(n) = o.min_support {
            g.min_support = n;
        }
        g
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RowCount {
    Fixed(u64),
    PerParent {
        parent: String,
        dist: PerParentDist,
        /// A column of the parent whose value picks the distribution from `cases`.
        by: Option<String>,
        cases: Vec<(Vec<String>, PerParentDist)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PerParentDist {
    /// Poisson with this mean, capped at `max` when set.
    Poisson {
        mean: f64,
        max: Option<u64>,
    },
    Uniform {
        min: u64,
        max: u64,
    },
    /// Counts with given probabilities: `{ 0 = 0.1, 1 = 0.6, 2 = 0.3 }`.
    Weighted {
        values: Vec<(u64, f64)>,
    },
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// Where the column is written in the spec file (1-based), for errors found after parsing.
    pub line: usize,
    pub kind: ColumnKind,
    /// The PII class (`email`, `name`, `phone`, ...); `None` declares the column non-PII.
    pub pii: Option<String>,
    pub mask: MaskMethod,
    /// Parameters of `generalize` and `shift_dates`.
    pub mask_options: MaskOptions,
    /// Overrides `[masking] pii_scan` for this column.
    pub pii_scan: Option<PiiScanPolicy>,
    /// The column's own thresholds, over its table's and the spec's.
    pub gate: GateOverride,
    /// A share of rows drawn uniformly from another range (numeric generators only): a mixture
    /// of the generator's body and a uniform tail.
    pub tail: Option<Tail>,
    pub null_rate: f64,
    /// Share of non-null text values that are the empty string (apart from nulls).
    pub empty_rate: f64,
    /// Every non-null value differs from every other.
    pub unique: bool,
    /// The declared storage type; `None` keeps the generator's own (or the referenced column's).
    pub declared_type: Option<ColumnType>,
    /// Generators scenarios use for this column: their values are intended too.
    pub scenario_gens: Vec<Generator>,
    /// Text anomalies scenarios plant in this column: those kinds are intended too.
    pub planted: Vec<Anomaly>,
    /// `ref` only: parents chosen with Zipf-like popularity (`skew = s`: the k-th parent row
    /// with probability proportional to 1 / k^s) instead of uniformly.
    pub ref_skew: Option<f64>,
    /// `ref` only: parents limited to those whose column of this name equals this row's
    /// (`within = "customer_id"`: an order's address belongs to its customer).
    pub ref_within: Option<String>,
    /// The column's name in the database, when it differs from the spec's (`"UnitPrice"`).
    pub db_name: Option<String>,
}

/// Parameters of the masks that take any (`mask_to`, `mask_bin`, `mask_keep`, `mask_entity`,
/// `mask_max_days` in the spec).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaskOptions {
    /// `generalize` on timestamps: truncate to this unit.
    pub to: Granularity,
    /// `generalize` on numbers: bins of this width (`floor(x / w) * w`).
    pub bin: f64,
    /// `generalize` on text: keep this many leading characters, the rest become `*`.
    pub keep: usize,
    /// `shift_dates`: the column whose value names the entity (default: the table's key).
    pub entity: Option<String>,
    /// `shift_dates`: offsets are whole days in `[-max_days, max_days]`, never 0.
    pub max_days: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Granularity {
    Day,
    #[default]
    Month,
    Year,
}

#[derive(Debug, Clone)]
pub enum ColumnKind {
    Gen(Generator),
    Ref {
        table: String,
        column: String,
    },
    Derived {
        sql: String,
        /// A child table whose rows referencing this row the SQL aggregates (`SUM(line_total)`).
        over: Option<String>,
    },
}

/// A calendar day a timestamp is moved onto (`snap = "month_end"`): surges at month-end close,
/// the first of the month, year end, weekdays only, weekends only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snap {
    MonthStart,
    MonthEnd,
    YearEnd,
    Weekday,
    Weekend,
}

impl Snap {
    pub const NAMES: &'static str = "month_start, month_end, year_end, weekday, weekend";

    pub fn parse(s: &str) -> Option<Snap> {
        Some(match s {
            "month_start" => Snap::MonthStart,
            "month_end" => Snap::MonthEnd,
            "year_end" => Snap::YearEnd,
            "weekday" => Snap::Weekday,
            "weekend" => Snap::Weekend,
            _ => return None,
        })
    }

    /// `micros` moved onto the snapped day of its month, year or week (same time of day).
    pub fn apply(self, micros: i64) -> i64 {
        use chrono::{Datelike, NaiveDate, Weekday};
        const DAY: i64 = 86_400_000_000;
        let (day, time) = (micros.div_euclid(DAY), micros.rem_euclid(DAY));
        let Some(date) = NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32) else {
            return micros;
        };
        let snapped = match self {
            Snap::MonthStart => date.with_day(1),
            Snap::MonthEnd => (28..=31).rev().find_map(|d| date.with_day(d)),
            Snap::YearEnd => NaiveDate::from_ymd_opt(date.year(), 12, 31),
            Snap::Weekday => Some(match date.weekday() {
                Weekday::Sat => date - chrono::Days::new(1),
                Weekday::Sun => date - chrono::Days::new(2),
                _ => date,
            }),
            Snap::Weekend => Some(match date.weekday().num_days_from_monday() {
                d @ 0..=4 => date + chrono::Days::new(5 - u64::from(d)),
                _ => date,
            }),
        };
        snapped.map_or(micros, |d| {
            (i64::from(d.num_days_from_ce()) - 719_163) * DAY + time
        })
    }
}

/// Which part of a person's name `person_name` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    Full,
    First,
    Last,
}

/// The locale values besides names and phones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    City,
    StreetAddress,
    Postcode,
    Company,
}

/// A constant value, typed by how the spec writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Generator {
    /// start, start + 1, ... in row order; with `per`, counted again from `start` within each
    /// value of that column (line numbers 1, 2, 3 of each order).
    Sequence {
        start: i64,
        per: Option<String>,
    },
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
        round: Option<u32>,
    },
    Normal {
        mean: f64,
        std: f64,
        min: Option<f64>,
        max: Option<f64>,
        round: Option<u32>,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
        min: Option<f64>,
        max: Option<f64>,
        round: Option<u32>,
    },
    /// Exponential with the given mean (rate = 1 / mean), optionally bounded and rounded.
    Exponential {
        mean: f64,
        min: Option<f64>,
        max: Option<f64>,
        round: Option<u32>,
    },
    /// Poisson counts with the given mean, optionally bounded.
    Poisson {
        mean: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// The number of trials up to and including the first success: 1, 2, 3, ...
    Geometric {
        p: f64,
    },
    /// Ranks 1..=n with probability proportional to 1 / k^s.
    Zipf {
        n: u64,
        s: f64,
    },
    /// Numbers with given weights (`values = { 1 = 0.5, 2 = 0.3, 5 = 0.2 }`).
    Discrete {
        values: Vec<(f64, f64)>,
    },
    Bool {
        p: f64,
    },
    Uuid,
    Constant {
        value: Constant,
    },
    /// Every value null: a case of `cases` that has no value (`shipped_at` before shipping).
    Null,
    /// A fixed list, in order: row i takes item i (cycling when the table has more rows), so
    /// a table with as many rows as items has each exactly once.
    List {
        items: Vec<Constant>,
    },
    Choice {
        values: Vec<(String, f64)>,
    },
    /// Microseconds since the Unix epoch, uniform in `[from, to)`.
    Timestamp {
        from: i64,
        to: i64,
        /// Moves each drawn timestamp onto a calendar day, keeping its time of day.
        snap: Option<Snap>,
    },
    /// A timestamp between `min_us` and `max_us` after a timestamp of a referenced row
    /// (`table = Some`) or of the same row (`table = None`).
    TimestampAfter {
        table: Option<String>,
        column: String,
        min_us: i64,
        max_us: i64,
    },
    /// A person's name. Without locales, from built-in ASCII lists (`First Last`); with
    /// `locales = { de_DE = 0.5, ja_JP = 0.1 }`, in each locale's script and order.
    PersonName {
        locales: Vec<(String, f64)>,
        part: NamePart,
    },
    /// An e-mail address; with `name_from`, made from that column's name in the same row
    /// (`{first}.{last}`, `{f}{last}{nn}`, ... chosen by weight from `formats`).
    Email {
        domain: String,
        name_from: Option<String>,
        formats: Vec<(String, f64)>,
    },
    /// A phone number of the locale's country, national form or E.164.
    Phone {
        locales: Vec<(String, f64)>,
        e164: bool,
    },
    /// Place and company values of a locale.
    Place {
        kind: PlaceKind,
        locales: Vec<(String, f64)>,
    },
    /// `#` a digit, `?` an upper-case letter, `@` a lower-case letter, `\\` makes the next
    /// character literal, anything else itself: `+1-###-###-####`. Several formats are chosen
    /// per row by weight (`formats = { "+1-###-###-####" = 0.9, "(###) ###-####" = 0.1 }`).
    Pattern {
        formats: Vec<(String, f64)>,
    },
    /// Strings matching a regular expression (`(ORD|INV)-[0-9]{6}`).
    Regex {
        regex: String,
    },
    /// Free text: between `min` and `max` words from a bundled list, the first capitalised.
    Words {
        min: u32,
        max: u32,
    },
    /// Each row drawn from one of several generators, chosen by weight.
    Mixture {
        parts: Vec<(f64, Generator)>,
    },
    /// The generator chosen by the value of another column of the same row. A case matches
    /// any of its values; rows matching no case take `default` (null if there is none).
    Cases {
        by: String,
        cases: Vec<(Vec<String>, Generator)>,
        default: Option<Box<Generator>>,
    },
}

impl Generator {
    /// The type this generator produces on its own (`None`: it adapts, like `null`).
    pub fn natural_type(&self) -> Option<LogicalType> {
        Some(match self {
            Generator::Sequence { .. }
            | Generator::Int { .. }
            | Generator::Poisson { .. }
            | Generator::Geometric { .. }
            | Generator::Zipf { .. } => LogicalType::Int,
            Generator::Float { round: Some(0), .. }
            | Generator::Normal { round: Some(0), .. }
            | Generator::LogNormal { round: Some(0), .. }
            | Generator::Exponential { round: Some(0), .. } => LogicalType::Int,
            Generator::Float { .. }
            | Generator::Normal { .. }
            | Generator::LogNormal { .. }
            | Generator::Exponential { .. } => LogicalType::Float,
            Generator::Discrete { values } => {
                if values.iter().all(|(v, _)| v.fract() == 0.0) {
                    LogicalType::Int
                } else {
                    LogicalType::Float
                }
            }
            Generator::Bool { .. } => LogicalType::Bool,
            Generator::Uuid => LogicalType::Uuid,
            Generator::Constant { value } => match value {
                Constant::Bool(_) => LogicalType::Bool,
                Constant::Int(_) => LogicalType::Int,
                Constant::Float(_) => LogicalType::Float,
                Constant::Text(_) => LogicalType::Text,
            },
            Generator::Null => return None,
            Generator::List { items } => {
                let ints = items.iter().all(|c| matches!(c, Constant::Int(_)));
                let numbers = items
                    .iter()
                    .all(|c| matches!(c, Constant::Int(_) | Constant::Float(_)));
                match items.first() {
                    Some(Constant::Bool(_)) => LogicalType::Bool,
                    _ if ints => LogicalType::Int,
                    _ if numbers => LogicalType::Float,
                    _ => LogicalType::Text,
                }
            }
            Generator::Choice { .. }
            | Generator::PersonName { .. }
            | Generator::Email { .. }
            | Generator::Phone { .. }
            | Generator::Place { .. }
            | Generator::Pattern { .. }
            | Generator::Regex { .. }
            | Generator::Words { .. } => LogicalType::Text,
            Generator::Timestamp { .. } | Generator::TimestampAfter { .. } => {
                LogicalType::Timestamp
            }
            Generator::Mixture { parts } => {
                return unify(parts.iter().map(|(_, g)| g));
            }
            Generator::Cases { cases, default, .. } => {
                return unify(cases.iter().map(|(_, g)| g).chain(default.as_deref()));
            }
        })
    }

    /// The generators this one is made of, itself included.
    pub fn walk(&self) -> Vec<&Generator> {
        let mut out = vec![self];
        match self {
            Generator::Mixture { parts } => {
                for (_, g) in parts {
                    out.extend(g.walk());
                }
            }
            Generator::Cases { cases, default, .. } => {
                for (_, g) in cases {
                    out.extend(g.walk());
                }
                if let Some(d) = default {
                    out.extend(d.walk());
                }
            }
            _ => {}
        }
        out
    }

    /// The numeric range the generator keeps to, where it has one.
    pub fn range(&self) -> Option<(Option<f64>, Option<f64>)> {
        match self {
            Generator::Int { min, max } => Some((Some(*min as f64), Some(*max as f64))),
            Generator::Float { min, max, .. } => Some((Some(*min), Some(*max))),
            Generator::Normal { min, max, .. } => {
                (min.is_some() || max.is_some()).then_some((*min, *max))
            }
            Generator::LogNormal { min, max, .. } | Generator::Exponential { min, max, .. } => {
                Some((Some(min.unwrap_or(0.0)), *max))
            }
            Generator::Poisson { min, max, .. } => Some((Some(min.unwrap_or(0.0)), *max)),
            Generator::Geometric { .. } => Some((Some(1.0), None)),
            Generator::Zipf { n, .. } => Some((Some(1.0), Some(*n as f64))),
            Generator::Discrete { values } => Some((
                values.iter().map(|(v, _)| *v).reduce(f64::min),
                values.iter().map(|(v, _)| *v).reduce(f64::max),
            )),
            Generator::Timestamp { from, to, snap } => {
                // Snapping moves a value at most onto the snapped day of `from`'s or `to`'s
                // month, year or week.
                const DAY: i64 = 86_400_000_000;
                let (lo, hi) = match snap {
                    None => (*from, *to),
                    Some(Snap::MonthStart) => (Snap::MonthStart.apply(*from).min(*from), *to),
                    Some(Snap::Weekday) => (from - 2 * DAY, *to),
                    Some(Snap::Weekend) => (*from, to + 5 * DAY),
                    Some(sn) => (*from, sn.apply(*to).max(*to) + DAY),
                };
                Some((Some(lo as f64), Some(hi as f64)))
            }
            Generator::Constant {
                value: Constant::Int(v),
            } => Some((Some(*v as f64), Some(*v as f64))),
            Generator::Constant {
                value: Constant::Float(v),
            } => Some((Some(*v), Some(*v))),
            Generator::List { items } => {
                let v: Vec<f64> = items
                    .iter()
                    .filter_map(|c| match c {
                        Constant::Int(i) => Some(*i as f64),
                        Constant::Float(f) => Some(*f),
                        _ => None,
                    })
                    .collect();
                (!v.is_empty() && v.len() == items.len()).then(|| {
                    (
                        v.iter().copied().reduce(f64::min),
                        v.iter().copied().reduce(f64::max),
                    )
                })
            }
            Generator::Mixture { parts } => union_ranges(parts.iter().map(|(_, g)| g)),
            Generator::Cases { cases, default, .. } => {
                union_ranges(cases.iter().map(|(_, g)| g).chain(default.as_deref()))
            }
            _ => None,
        }
    }
}

impl Generator {
    /// Every `after` this generator reads (through mixtures and cases): `(table, column)`, the
    /// table `None` for a column of the same row.
    pub fn afters<'a>(&'a self, out: &mut Vec<(Option<&'a str>, &'a str)>) {
        match self {
            Generator::TimestampAfter { table, column, .. } => {
                out.push((table.as_deref(), column.as_str()));
            }
            Generator::Mixture { parts } => parts.iter().for_each(|(_, g)| g.afters(out)),
            Generator::Cases { cases, default, .. } => {
                for g in cases.iter().map(|(_, g)| g).chain(default.as_deref()) {
                    g.afters(out);
                }
            }
            _ => {}
        }
    }

    /// Regular expressions (unanchored) for the text formats this generator declares: each
    /// `pattern` format (`#` a digit, `?` an upper-case letter, `@` a lower-case one) and each
    /// `regex`, through mixtures and cases.
    pub fn declared_formats(&self, out: &mut Vec<String>) {
        match self {
            Generator::Pattern { formats } => {
                out.extend(formats.iter().map(|(f, _)| pattern_regex(f)));
            }
            Generator::Regex { regex } => out.push(regex.clone()),
            Generator::Mixture { parts } => {
                parts.iter().for_each(|(_, g)| g.declared_formats(out));
            }
            Generator::Cases { cases, default, .. } => {
                for g in cases.iter().map(|(_, g)| g).chain(default.as_deref()) {
                    g.declared_formats(out);
                }
            }
            _ => {}
        }
    }
}

/// A `pattern` format as a regular expression: `#` `[0-9]`, `?` `[A-Z]`, `@` `[a-z]`, `\x` and
/// every other character literal.
pub fn pattern_regex(format: &str) -> String {
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => out.push_str("[0-9]"),
            '?' => out.push_str("[A-Z]"),
            '@' => out.push_str("[a-z]"),
            '\\' => {
                if let Some(n) = chars.next() {
                    push_literal(&mut out, n);
                }
            }
            c => push_literal(&mut out, c),
        }
    }
    out
}

fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation() || c == ' ' {
        out.push('\\');
    }
    out.push(c);
}

/// The one type a set of generators shares (ints widen to floats; `null` adapts).
fn unify<'a>(gens: impl Iterator<Item = &'a Generator>) -> Option<LogicalType> {
    let mut ty = None;
    for g in gens {
        ty = match (ty, g.natural_type()) {
            (t, None) => t,
            (None, t) => t,
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(LogicalType::Int), Some(LogicalType::Float))
            | (Some(LogicalType::Float), Some(LogicalType::Int)) => Some(LogicalType::Float),
            (Some(LogicalType::Text), Some(LogicalType::Uuid))
            | (Some(LogicalType::Uuid), Some(LogicalType::Text)) => Some(LogicalType::Text),
            (Some(a), Some(_)) => Some(a),
        };
    }
    ty
}

/// Whether generators of these types can share one column (see [`unify`]).
pub fn types_agree(a: LogicalType, b: LogicalType) -> bool {
    use LogicalType::*;
    a == b
        || matches!(
            (a, b),
            (Int, Float) | (Float, Int) | (Text, Uuid) | (Uuid, Text)
        )
}

/// The smallest range holding every part's range; `None` if a part is unbounded on both sides
/// or has no range. Parts that are always null do not count.
fn union_ranges<'a>(
    gens: impl Iterator<Item = &'a Generator>,
) -> Option<(Option<f64>, Option<f64>)> {
    let mut acc: Option<(Option<f64>, Option<f64>)> = None;
    for g in gens {
        if matches!(g, Generator::Null) {
            continue;
        }
        let (a, b) = g.range()?;
        acc = Some(match acc {
            None => (a, b),
            Some((lo, hi)) => (
                lo.zip(a).map(|(x, y)| x.min(y)),
                hi.zip(b).map(|(x, y)| x.max(y)),
            ),
        });
    }
    acc.filter(|(lo, hi)| lo.is_some() || hi.is_some())
}

/// What a column holds, after generation or extraction. Profiles and comparisons work on this
/// class; the exact storage (bits, precision) is in [`ColumnType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogicalType {
    Bool,
    Int,
    Float,
    Decimal,
    Date,
    Timestamp,
    /// An instant: read from any engine normalised to UTC.
    #[serde(rename = "timestamptz")]
    TimestampTz,
    Text,
    Uuid,
}

impl LogicalType {
    /// Numbers and instants: profiled with moments, quantiles and ranges.
    pub fn is_measured(self) -> bool {
        matches!(
            self,
            LogicalType::Int
                | LogicalType::Float
                | LogicalType::Decimal
                | LogicalType::Date
                | LogicalType::Timestamp
                | LogicalType::TimestampTz
        )
    }

    /// Dates and timestamps: measured in microseconds since the Unix epoch.
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            LogicalType::Date | LogicalType::Timestamp | LogicalType::TimestampTz
        )
    }

    /// Strings whose shapes and characters are profiled.
    pub fn is_textual(self) -> bool {
        matches!(self, LogicalType::Text | LogicalType::Uuid)
    }
}

/// A column's declared storage type: `type = "decimal(12, 2)"`, `"int16"`, `"timestamptz"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnType {
    pub logical: LogicalType,
    /// Integers: 8, 16, 32 or 64.
    pub bits: u8,
    /// Decimals: total digits (1..=38) and digits after the point.
    pub precision: u8,
    pub scale: u8,
}

impl ColumnType {
    pub const NAMES: &'static str = "bool, int, int8, int16, int32, int64, float, decimal(p, s), date, timestamp, timestamptz, text, uuid";

    pub fn of(logical: LogicalType) -> ColumnType {
        ColumnType {
            logical,
            bits: 64,
            precision: 38,
            scale: 9,
        }
    }

    /// Parses a type name as the spec writes it.
    pub fn parse(s: &str) -> Result<ColumnType, String> {
        let t = s.trim().to_ascii_lowercase();
        let simple = |l| Ok(ColumnType::of(l));
        match t.as_str() {
            "bool" | "boolean" => simple(LogicalType::Bool),
            "int" | "int64" | "bigint" => simple(LogicalType::Int),
            "int8" | "int16" | "smallint" | "int32" | "integer" => Ok(ColumnType {
                bits: match t.as_str() {
                    "int8" => 8,
                    "int16" | "smallint" => 16,
                    _ => 32,
                },
                ..ColumnType::of(LogicalType::Int)
            }),
            "float" | "double" | "float64" => simple(LogicalType::Float),
            "date" => simple(LogicalType::Date),
            "timestamp" => simple(LogicalType::Timestamp),
            "timestamptz" => simple(LogicalType::TimestampTz),
            "text" | "string" => simple(LogicalType::Text),
            "uuid" => simple(LogicalType::Uuid),
            d if d.starts_with("decimal") || d.starts_with("numeric") => {
                let args = d
                    .trim_start_matches("decimal")
                    .trim_start_matches("numeric")
                    .trim();
                let bad = || {
                    format!(
                        "expected `decimal(p, s)` with 1 <= p <= 38 and 0 <= s <= p, e.g. `decimal(12, 2)` (got `{s}`)"
                    )
                };
                let inner = args
                    .strip_prefix('(')
                    .and_then(|a| a.strip_suffix(')'))
                    .ok_or_else(bad)?;
                let nums: Vec<Option<u8>> = inner
                    .split(',')
                    .map(|x| x.trim().parse::<u8>().ok())
                    .collect();
                match nums.as_slice() {
                    [Some(p), Some(sc)] if (1..=38).contains(p) && sc <= p => Ok(ColumnType {
                        precision: *p,
                        scale: *sc,
                        ..ColumnType::of(LogicalType::Decimal)
                    }),
                    _ => Err(bad()),
                }
            }
            _ => Err(format!(
                "unknown type `{s}`; expected one of {}",
                ColumnType::NAMES
            )),
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.logical {
            LogicalType::Bool => write!(f, "bool"),
            LogicalType::Int if self.bits == 64 => write!(f, "int"),
            LogicalType::Int => write!(f, "int{}", self.bits),
            LogicalType::Float => write!(f, "float"),
            LogicalType::Decimal => write!(f, "decimal({}, {})", self.precision, self.scale),
            LogicalType::Date => write!(f, "date"),
            LogicalType::Timestamp => write!(f, "timestamp"),
            LogicalType::TimestampTz => write!(f, "timestamptz"),
            LogicalType::Text => write!(f, "text"),
            LogicalType::Uuid => write!(f, "uuid"),
        }
    }
}

/// How a column is masked on extraction. See `mask` for what each one keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskMethod {
    Keep,
    Hash,
    HashEmail,
    Pseudonym,
    FormatPreserving,
    Generalize,
    ShiftDates,
    Redact,
}

impl MaskMethod {
    pub const NAMES: &'static str =
        "keep, hash, hash_email, pseudonym, format_preserving, generalize, shift_dates, redact";

    pub fn as_str(self) -> &'static str {
        match self {
            MaskMethod::Keep => "keep",
            MaskMethod::Hash => "hash",
            MaskMethod::HashEmail => "hash_email",
            MaskMethod::Pseudonym => "pseudonym",
            MaskMethod::FormatPreserving => "format_preserving",
            MaskMethod::Generalize => "generalize",
            MaskMethod::ShiftDates => "shift_dates",
            MaskMethod::Redact => "redact",
        }
    }

    /// Methods that keep each character's class in place, so shapes survive masking.
    pub fn keeps_shape(self) -> bool {
        matches!(self, MaskMethod::Keep | MaskMethod::FormatPreserving)
    }

    /// Methods whose output keeps the column's type (dates stay dates, numbers numbers).
    pub fn keeps_type(self) -> bool {
        matches!(
            self,
            MaskMethod::Keep | MaskMethod::Generalize | MaskMethod::ShiftDates
        )
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub sql: String,
    /// The table the rule is about: its `table` key, else the first table after `FROM`.
    pub table: String,
    /// The column it is about, when the spec names one.
    pub column: Option<String>,
    /// Where the rule is written in the spec file (1-based).
    pub line: usize,
}

/// Thresholds on effect sizes already corrected for sample size (see `compare`).
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub ks: f64,
    pub psi: f64,
    pub js: f64,
    pub unseen_share: f64,
    pub unseen_shape_share: f64,
    pub encoding_anomalies: u64,
    pub null_rate_delta: f64,
    /// Share of production values outside the spec's declared range that fails the gate.
    pub range_share: f64,
    /// Significance level behind the sample-size correction.
    pub alpha: f64,
    /// Fewer rows than this on either side (after the effective-size correction for child
    /// tables): a distance may warn, never fail.
    pub min_support: u64,
    /// Correlation difference (Fisher z, beyond noise) of a column pair that fails.
    pub correlation: f64,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            ks: 0.10,
            psi: 0.20,
            js: 0.10,
            // A value or format production has and the spec never produces is a spec gap however
            // rare it is: rare events are what a snapshot misses and what causes incidents.
            unseen_share: 0.0,
            unseen_shape_share: 0.0,
            encoding_anomalies: 0,
            null_rate_delta: 0.05,
            range_share: 0.0,
            alpha: 0.05,
            min_support: 30,
            correlation: 0.10,
        }
    }
}

impl Spec {
    /// Reads, parses and validates a spec file; on failure every problem is reported at once.
    pub fn load(path: &Path) -> Result<Spec, SpecErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| SpecErrors {
            errors: vec![SpecError {
                path: path.to_path_buf(),
                line: 0,
                col: 0,
                key: String::new(),
                message: format!("cannot read the spec: {e}"),
            }],
        })?;
        Self::parse(path, &text)
    }

    /// Parses spec text; `path` is only used to say where a problem is.
    pub fn parse(path: &Path, text: &str) -> Result<Spec, SpecErrors> {
        validate::parse(path, text)
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// Whether `sql` mentions `table.` as a qualifier (not as the end of a longer name).
pub fn sql_mentions_table(sql: &str, table: &str) -> bool {
    sql.contains(&format!("\"{table}\"."))
        || sql.match_indices(&format!("{table}.")).any(|(i, _)| {
            sql[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
}

/// Whether `sql` mentions `name` as a whole word.
fn sql_mentions_word(sql: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    sql.match_indices(name).any(|(i, _)| {
        sql[..i].chars().next_back().is_none_or(|c| !ident(c))
            && sql[i + name.len()..]
                .chars()
                .next()
                .is_none_or(|c| !ident(c))
    })
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The table's name in the database.
    pub fn db(&self) -> &str {
        self.db_name.as_deref().unwrap_or(&self.name)
    }

    /// The database name of one of its columns (the spec's name if the spec has no such column).
    pub fn db_column<'a>(&'a self, column: &'a str) -> &'a str {
        self.column(column).map_or(column, |c| c.db())
    }

    /// The tables a column's values are looked up in: the parents a derived column reads
    /// (`products.price`), directly or through other derived columns of its row. Rows that
    /// look up one parent row share its value, so they are as many independent values as the
    /// parent has rows.
    pub fn lookups(&self, col: &Column) -> Vec<String> {
        let mut out = Vec::new();
        self.lookups_into(col, 0, &mut out);
        out.sort();
        out.dedup();
        out
    }

    fn lookups_into(&self, col: &Column, depth: usize, out: &mut Vec<String>) {
        if depth > self.columns.len() {
            return;
        }
        match &col.kind {
            ColumnKind::Derived { sql, over: None } => {
                for (_, rt, _) in self.references() {
                    if rt != self.name && sql_mentions_table(sql, rt) {
                        out.push(rt.to_string());
                    }
                }
                for other in &self.columns {
                    if other.name != col.name && sql_mentions_word(sql, &other.name) {
                        self.lookups_into(other, depth + 1, out);
                    }
                }
            }
            // A timestamp `after` a referenced row's timestamp rests on that table's rows; one
            // `after` a column of its own row, on whatever that column rests on.
            ColumnKind::Gen(g) => {
                let mut afters = Vec::new();
                g.afters(&mut afters);
                for (table, column) in afters {
                    match table {
                        Some(t) if t != self.name => out.push(t.to_string()),
                        _ => {
                            if let Some(other) = self.column(column)
                                && other.name != col.name
                            {
                                self.lookups_into(other, depth + 1, out);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The tables this one references through `ref` columns, in column order.
    pub fn references(&self) -> impl Iterator<Item = (&Column, &str, &str)> {
        self.columns.iter().filter_map(|c| match &c.kind {
            ColumnKind::Ref { table, column } => Some((c, table.as_str(), column.as_str())),
            _ => None,
        })
    }
}

impl Column {
    /// The column's name in the database.
    pub fn db(&self) -> &str {
        self.db_name.as_deref().unwrap_or(&self.name)
    }

    /// The logical type of the column's values (`None` only for a spec that failed validation).
    pub fn logical_type(&self, spec: &Spec) -> Option<LogicalType> {
        self.column_type(spec).map(|t| t.logical)
    }

    /// The column's storage type: declared, else the generator's own, else the referenced
    /// column's.
    pub fn column_type(&self, spec: &Spec) -> Option<ColumnType> {
        self.column_type_depth(spec, 0)
    }

    fn column_type_depth(&self, spec: &Spec, depth: usize) -> Option<ColumnType> {
        if let Some(t) = self.declared_type {
            return Some(t);
        }
        match &self.kind {
            ColumnKind::Gen(g) => g.natural_type().map(ColumnType::of),
            // A chain of references ends at a generated column; the depth bound only guards a
            // spec that failed validation.
            ColumnKind::Ref { table, column } if depth < 64 => spec
                .table(table)
                .and_then(|t| t.column(column))
                .and_then(|c| c.column_type_depth(spec, depth + 1)),
            _ => None,
        }
    }

    /// Sequences and foreign keys: labels, not measurements. Their distribution says how many
    /// rows a table has had, not whether the spec is right.
    pub fn is_identifier(&self) -> bool {
        matches!(
            self.kind,
            ColumnKind::Ref { .. } | ColumnKind::Gen(Generator::Sequence { .. })
        )
    }

    /// The declared range of values, where the generator has one: production values outside it
    /// are findings.
    pub fn declared_range(&self) -> Option<(Option<f64>, Option<f64>)> {
        let mut base = self.base_range();
        for g in &self.scenario_gens {
            base = match (base, g.range()) {
                (Some((a, b)), Some((c, d))) => Some((
                    a.zip(c).map(|(x, y)| x.min(y)),
                    b.zip(d).map(|(x, y)| x.max(y)),
                )),
                _ => None,
            };
        }
        match (base, self.tail) {
            (Some((lo, hi)), Some(t)) => {
                Some((lo.map(|lo| lo.min(t.min)), hi.map(|hi| hi.max(t.max))))
            }
            (base, _) => base,
        }
    }

    /// The generator's own range, without a `tail`.
    fn base_range(&self) -> Option<(Option<f64>, Option<f64>)> {
        let ColumnKind::Gen(g) = &self.kind else {
            return None;
        };
        let r = g.range()?;
        // Dates are measured in microseconds like timestamps; a `date` column generated from
        // timestamps is truncated to the day, so its range starts and ends at a midnight.
        if self.declared_type.map(|t| t.logical) == Some(LogicalType::Date) {
            const DAY: f64 = 86_400_000_000.0;
            let day = |x: f64| (x / DAY).floor() * DAY;
            return Some((r.0.map(day), r.1.map(day)));
        }
        Some(r)
    }

    /// The categories a `choice` column may take.
    /// The text formats the spec declares for this column (its generator's and its
    /// scenarios'), as unanchored regular expressions.
    pub fn declared_formats(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let ColumnKind::Gen(g) = &self.kind {
            g.declared_formats(&mut out);
        }
        for g in &self.scenario_gens {
            g.declared_formats(&mut out);
        }
        out
    }

    pub fn categories(&self) -> Option<Vec<&str>> {
        if self.declared_type.map(|t| t.logical) == Some(LogicalType::Bool) {
            return Some(vec!["false", "true"]);
        }
        match &self.kind {
            ColumnKind::Gen(Generator::List { items })
                if items.iter().all(|c| matches!(c, Constant::Text(_))) =>
            {
                Some(
                    items
                        .iter()
                        .filter_map(|c| match c {
                            Constant::Text(t) => Some(t.as_str()),
                            _ => None,
                        })
                        .collect(),
                )
            }
            ColumnKind::Gen(Generator::Choice { values }) => {
                let mut all: Vec<&str> = values.iter().map(|(v, _)| v.as_str()).collect();
                for g in &self.scenario_gens {
                    match g {
                        Generator::Choice { values } => {
                            all.extend(values.iter().map(|(v, _)| v.as_str()))
                        }
                        Generator::Constant {
                            value: Constant::Text(t),
                        } => all.push(t),
                        _ => {}
                    }
                }
                Some(all)
            }
            ColumnKind::Gen(g) if g.natural_type() == Some(LogicalType::Bool) => {
                Some(vec!["false", "true"])
            }
            _ => None,
        }
    }
}

/// One problem in a spec, located.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no place in the file (it cannot be read).
    pub line: usize,
    pub col: usize,
    /// The dotted key the problem is about, e.g. `tables.orders.columns.total`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.col)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecErrors {
    pub errors: Vec<SpecError>,
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(
            f,
            "the spec has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        // The offending line under each problem, with a caret at its column (the spec is the
        // user's own file; read again only to show it).
        let mut files: std::collections::HashMap<&Path, Option<String>> = Default::default();
        for e in &self.errors {
            writeln!(f, "  {e}")?;
            if e.line == 0 {
                continue;
            }
            let text = files
                .entry(e.path.as_path())
                .or_insert_with(|| std::fs::read_to_string(&e.path).ok());
            if let Some(line) = text.as_deref().and_then(|t| t.lines().nth(e.line - 1)) {
                let shown: String = line.chars().take(160).collect();
                let shown = crate::report::escape::visible(&shown);
                writeln!(f, "     | {shown}")?;
                let col = e.col.saturating_sub(1).min(shown.chars().count());
                writeln!(f, "     | {}^", " ".repeat(col))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// SHA-256 of some bytes, as lower-case hex.
pub fn hex_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    validate::hex(&Sha256::digest(bytes))
}

pub(crate) use validate::{db_identifier, did_you_mean};

/// Bytes as lower-case hex.
pub fn hex_digest_of(bytes: &[u8]) -> String {
    validate::hex(bytes)
}
