//! Fitting one column's generator from its values, k-safely: what `init` writes for a column.
//!
//! Takes a column's raw values (text, as read) and what the schema says of it; gives the spec's
//! inline table for the column and comments (why a line was proposed, which quirks were seen).
//! It never writes a value seen fewer than `k` times, nor any value of a column it proposes as
//! PII: numbers and instants appear only as quantile edges between the k-th smallest and
//! largest values, categories only when seen at least `k` times, text only as shapes.

use std::collections::{BTreeMap, HashMap};

use crate::spec::LogicalType;

/// What the schema and the values say a column is.
pub struct ColumnFacts<'a> {
    pub name: &'a str,
    pub db_type: &'a str,
    pub ty: LogicalType,
    /// Decimals: precision and scale.
    pub decimal: Option<(u8, u8)>,
    pub values: &'a [Option<String>],
    pub k: u64,
}

/// A drafted column: the inline table, and comments to write above it.
pub struct Fitted {
    pub line: String,
    pub comments: Vec<String>,
    /// Things production holds that the generator deliberately does not make.
    pub quirks: Vec<String>,
    /// Proposed as personal data.
    pub pii: bool,
}

/// A PII class and mask proposed from a column's name, and why.
pub fn pii_by_name(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    Some(if has(&["email", "e_mail", "mail"]) {
        ("email", "hash_email", "email")
    } else if has(&["phone", "mobile", "fax", "tel"]) {
        ("phone", "format_preserving", "phone")
    } else if has(&["first_name", "firstname", "given"]) {
        ("name", "pseudonym", "first_name")
    } else if has(&["last_name", "lastname", "surname", "family_name"]) {
        ("name", "pseudonym", "last_name")
    } else if has(&[
        "full_name",
        "fullname",
        "contact_name",
        "customer_name",
        "person",
    ]) || n == "name"
    {
        ("name", "pseudonym", "name")
    } else if has(&["street", "address", "addr"]) {
        ("address", "hash", "street_address")
    } else if has(&["postcode", "postal", "zip"]) {
        ("postcode", "generalize", "postcode")
    } else if has(&["birth", "dob"]) {
        ("birth_date", "generalize", "birth_date")
    } else if has(&[
        "ssn",
        "social_security",
        "national_id",
        "passport",
        "tax_id",
        "vat",
    ]) {
        ("national_id", "hash", "id_number")
    } else if has(&["card", "iban", "account_number", "bank"]) {
        ("financial", "hash", "account")
    } else if has(&["ip_address", "ip_addr", "user_agent"]) {
        ("online_id", "hash", "online_id")
    } else if has(&[
        "note",
        "comment",
        "message",
        "description",
        "remark",
        "free_text",
    ]) {
        ("free_text", "redact", "free_text")
    } else {
        return None;
    })
}

/// Quantiles of sorted values at `q`, linear between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    crate::profile::quantile_sorted(sorted, q)
}

/// Edges of `bins` equal-count pieces. Inner edges lie between the k-th smallest and largest
/// values, so no single value is written; the outer two are the extremes rounded outward (two
/// significant digits, whole days for instants), so the range holds every value without
/// printing any.
fn edges(sorted: &[f64], bins: usize, k: usize, instants: bool) -> Vec<f64> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    // Fewer than 2k values: every inner edge is the median.
    let (lo, hi) = if n >= 2 * k {
        (sorted[k - 1], sorted[n - k])
    } else {
        (sorted[n / 2], sorted[n / 2])
    };
    let mut out: Vec<f64> = (0..=bins)
        .map(|i| quantile(sorted, i as f64 / bins as f64).clamp(lo, hi))
        .collect();
    const DAY: f64 = 86_400e6;
    let (min, max) = (sorted[0], sorted[n - 1]);
    if instants {
        out[0] = (min / DAY).floor() * DAY;
        out[bins] = (max / DAY).floor() * DAY + DAY;
    } else {
        out[0] = crate::profile::bucket(min, true).min(min);
        out[bins] = crate::profile::bucket(max, false).max(max);
    }
    out.dedup();
    out
}

fn number(x: f64, decimals: u32) -> String {
    let p = 10f64.powi(decimals as i32);
    let r = (x * p).round() / p;
    if decimals == 0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn timestamp(us: f64) -> String {
    chrono::DateTime::from_timestamp_micros(us as i64)
        .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "1970-01-01".into())
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
pub fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        quote(s)
    }
}

/// A weight rounded for a spec: four decimals, never 0.
fn share(n: u64, total: u64) -> String {
    let s = n as f64 / total.max(1) as f64;
    format!("{}", ((s * 10_000.0).round() / 10_000.0).max(0.0001))
}

/// The k-safe categories of a column: values seen at least `k` times, with their counts, and
/// the rows of the rest.
fn categories(present: &[&str], k: u64) -> (Vec<(String, u64)>, u64, usize) {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for v in present {
        *counts.entry(v).or_default() += 1;
    }
    let mut kept: Vec<(String, u64)> = counts
        .iter()
        .filter(|(_, n)| **n >= k)
        .map(|(v, n)| (v.to_string(), *n))
        .collect();
    kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let kept_rows: u64 = kept.iter().map(|(_, n)| n).sum();
    let rare_values = counts.len() - kept.len();
    (kept, present.len() as u64 - kept_rows, rare_values)
}

/// `"a" = 0.6, "b" = 0.4` from k-safe categories; the withheld rest is listed as a quirk.
fn weighted_values(
    cats: &[(String, u64)],
    rare_rows: u64,
    rare_values: usize,
    k: u64,
    quirks: &mut Vec<String>,
) -> String {
    let total: u64 = cats.iter().map(|(_, n)| n).sum();
    if rare_rows > 0 {
        quirks.push(format!(
            "{rare_rows} rows hold {rare_values} values seen fewer than {k} times (withheld; production has them, the draft does not)"
        ));
    }
    cats.iter()
        .map(|(x, n)| format!("{} = {}", quote(x), share(*n, total)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value's shape without folding letter runs: `AB-12` is `AA-99`, so a pattern made from it
/// keeps the value's length.
fn exact_shape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_ascii_digit() => out.push('#'),
            c if c.is_ascii_uppercase() => out.push('?'),
            c if c.is_ascii_lowercase() => out.push('@'),
            // The pattern's own marks, written literally.
            '#' | '?' | '@' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `formats = { ... }` from the commonest exact shapes (each seen at least `k` times), when
/// they cover at least 95 % of the values: shapes carry a format, never a value.
/// Empty strings are left out (the draft states them as `empty_rate`): an empty pattern is no
/// format.
fn shape_formats(present: &[&str], k: u64) -> Option<String> {
    let mut shapes: HashMap<String, u64> = HashMap::new();
    let mut non_empty = 0u64;
    for v in present.iter().filter(|v| !v.is_empty()) {
        non_empty += 1;
        *shapes.entry(exact_shape(v)).or_default() += 1;
    }
    let mut top: Vec<(String, u64)> = shapes
        .into_iter()
        .filter(|(s, n)| *n >= k && !s.is_empty())
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(8);
    let covered: u64 = top.iter().map(|(_, n)| n).sum();
    if top.is_empty() || covered * 100 < non_empty * 95 {
        return None;
    }
    let fs: Vec<String> = top
        .iter()
        .map(|(s, n)| format!("{} = {}", quote(s), share(*n, covered)))
        .collect();
    Some(format!(
        "gen = \"pattern\", formats = {{ {} }}",
        fs.join(", ")
    ))
}

/// `, empty_rate = x` for a text column with empty strings (apart from NULLs).
fn empty_rate(empties: u64, present: usize) -> String {
    if empties == 0 || present == 0 {
        return String::new();
    }
    format!(
        ", empty_rate = {}",
        ((empties as f64 / present as f64) * 10_000.0).round() / 10_000.0
    )
}

/// Tokens, hashes and encoded bytes (`\x8f14e4…`, `a3F9…`, base64): one character class after
/// an optional literal prefix shared by every value (at most 4 characters, such as `tok_` or
/// `\x`), as a `regex` generator with the k-th shortest to k-th longest length. `None` unless
/// at least 95 % of the non-empty values fit and at least 2k of them are there. A class and a
/// length range are no value.
fn class_regex(present: &[&str], k: u64) -> Option<String> {
    let values: Vec<&str> = present.iter().copied().filter(|v| !v.is_empty()).collect();
    if (values.len() as u64) < 2 * k.max(1) {
        return None;
    }
    // The longest prefix (at most 4 characters) every value shares.
    let first = values[0];
    let mut prefix_len = 0;
    for (i, c) in first.char_indices().take(4) {
        let end = i + c.len_utf8();
        if values.iter().all(|v| v.get(..end) == Some(&first[..end])) {
            prefix_len = end;
        } else {
            break;
        }
    }
    let prefix = &first[..prefix_len];
    type Class = (&'static str, fn(char) -> bool);
    let classes: [Class; 6] = [
        ("[0-9]", |c| c.is_ascii_digit()),
        ("[0-9a-f]", |c| {
            c.is_ascii_digit() || ('a'..='f').contains(&c)
        }),
        ("[0-9A-F]", |c| {
            c.is_ascii_digit() || ('A'..='F').contains(&c)
        }),
        ("[A-Za-z0-9]", |c| c.is_ascii_alphanumeric()),
        ("[A-Za-z0-9_-]", |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == '-'
        }),
        ("[A-Za-z0-9+/=]", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
        }),
    ];
    for (class, fits) in classes {
        let mut lengths: Vec<usize> = values
            .iter()
            .filter_map(|v| v.strip_prefix(prefix))
            .filter(|rest| !rest.is_empty() && rest.chars().all(fits))
            .map(|rest| rest.chars().count())
            .collect();
        if lengths.len() * 100 < values.len() * 95 {
            continue;
        }
        // Digits alone and short values are numbers or codes, better left to shapes.
        lengths.sort_unstable();
        let kk = (k.max(1) as usize - 1).min(lengths.len() - 1);
        let (lo, hi) = (lengths[kk], lengths[lengths.len() - 1 - kk]);
        if hi < 8 {
            return None;
        }
        let count = if lo == hi {
            format!("{{{lo}}}")
        } else {
            format!("{{{lo},{hi}}}")
        };
        let mut escaped = String::new();
        for c in prefix.chars() {
            if "\\.+*?()|[]{}^$#&~".contains(c) {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        return Some(format!(
            "gen = \"regex\", regex = {}",
            quote(&format!("{escaped}{class}{count}"))
        ));
    }
    None
}

/// The k-th fewest and k-th most words of the non-empty values: a range no single value
/// sets by itself.
fn word_range(present: &[&str], k: u64) -> (u64, u64) {
    let mut words: Vec<u64> = present
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| v.split_whitespace().count() as u64)
        .collect();
    words.sort_unstable();
    let kk = (k as usize).min(words.len().max(1)) - 1;
    let lo = words.get(kk).copied().unwrap_or(1);
    let hi = words
        .get(words.len().saturating_sub(kk + 1))
        .copied()
        .unwrap_or(1);
    (lo, hi.max(lo))
}

/// Several formats in one column: kept in the draft (production has them), listed for review
/// because the rarer ones are often legacy.
fn mixed_formats(formats: &str, quirks: &mut Vec<String>) {
    // Entries of `formats = { "…" = share, … }`; a regex generator has none.
    let n = formats
        .split_once("formats = {")
        .map_or(0, |(_, entries)| entries.matches("\" = ").count());
    if n > 1 {
        quirks.push(format!(
            "{n} formats (see `formats`): the rarer ones may be legacy; keep those the domain allows"
        ));
    }
}

/// Instants that cluster on an hour of the day or a day of the month (business hours, month-end
/// close): the draft's pieces spread them evenly, so the clustering is listed for review.
fn calendar_quirks(v: &[f64], with_time: bool, quirks: &mut Vec<String>) {
    use chrono::{Datelike, Timelike};
    if v.len() < 300 {
        return;
    }
    let mut hours = [0u64; 24];
    let mut days = [0u64; 31];
    for x in v {
        if let Some(t) = chrono::DateTime::from_timestamp_micros(*x as i64) {
            hours[t.hour() as usize] += 1;
            days[t.day0() as usize] += 1;
        }
    }
    let n = v.len() as f64;
    let top = |c: &[u64]| {
        c.iter()
            .enumerate()
            .max_by_key(|(_, k)| **k)
            .map(|(i, k)| (i, *k as f64 / n))
    };
    if with_time && let Some((h, s)) = top(&hours).filter(|(_, s)| *s > 2.0 / 24.0) {
        quirks.push(format!(
            "{:.0} % of values fall in the hour {h:02}:00 (even spread: 4 %); the draft spreads them evenly: use `snap`, a scenario or leave it as a finding",
            s * 100.0
        ));
    }
    if let Some((d, s)) = top(&days).filter(|(_, s)| *s > 3.0 / 30.0) {
        quirks.push(format!(
            "{:.0} % of values fall on day {} of the month (even spread: 3 %); the draft spreads them evenly: use `snap = \"month_end\"`, a scenario or leave it as a finding",
            s * 100.0,
            d + 1
        ));
    }
}

/// Text anomalies and placeholders among the values, as quirks (counts only).
fn text_quirks(present: &[&str], quirks: &mut Vec<String>) -> u64 {
    let mut stats = crate::profile::text::TextStats::default();
    present.iter().for_each(|v| stats.add(v));
    let a = &stats.anomalies;
    if a.rows > 0 {
        let kinds: Vec<String> = a
            .named()
            .iter()
            .filter(|(k, n)| *n > 0 && *k != "rows")
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        quirks.push(format!(
            "text anomalies in {} rows ({})",
            a.rows,
            kinds.join(", ")
        ));
    }
    if stats.placeholders > 0 {
        quirks.push(format!(
            "{} placeholders such as `N/A` or `-` standing in for a value",
            stats.placeholders
        ));
    }
    stats.empty
}

/// The inline table and comments for one column.
pub fn fit(f: &ColumnFacts<'_>) -> Fitted {
    let k = f.k.max(1);
    let rows = f.values.len() as u64;
    let present: Vec<&str> = f.values.iter().flatten().map(String::as_str).collect();
    let nulls = rows - present.len() as u64;
    let mut comments = Vec::new();
    let mut quirks = Vec::new();
    let mut extra = String::new();
    if nulls > 0 && rows > 0 {
        let r = nulls as f64 / rows as f64;
        extra.push_str(&format!(
            ", null_rate = {}",
            ((r * 10_000.0).round() / 10_000.0).min(0.9999)
        ));
    }
    let pii = pii_by_name(f.name);
    // Values that look personal, whatever the name says (counts only).
    let scanned = if f.ty == LogicalType::Text {
        crate::mask::scan::scan(present.iter().copied())
    } else {
        BTreeMap::new()
    };
    let scan_hits: u64 = scanned.values().sum();
    let scan_pii = scan_hits * 2 > present.len() as u64 && !present.is_empty();
    let pii_tail = |class: &str, mask: &str, why: &str| {
        format!(
            ", pii = \"{class}\", mask = \"{mask}\" }}  # review: proposed as PII because {why}"
        )
    };
    let typed = |t: &str| format!(", type = \"{t}\"");

    if let Some((class, mask, what)) = pii.or_else(|| {
        scan_pii.then(|| {
            let kind = scanned
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(k, _)| k.as_str())
                .unwrap_or("email");
            match kind {
                "email" => ("email", "hash_email", "email"),
                "phone" => ("phone", "format_preserving", "phone"),
                _ => ("financial", "hash", "account"),
            }
        })
    }) {
        let why = if pii.is_some() {
            format!("of its name `{}`", f.name)
        } else {
            format!("{scan_hits} of its values look like {class}")
        };
        let empties = if f.ty.is_textual() {
            text_quirks(&present, &mut quirks)
        } else {
            0
        };
        // A generator of the same kind; no value of the column reaches the draft (formats are
        // made from shapes seen at least k times, character classes from every value's class).
        let formats = shape_formats(&present, k).or_else(|| class_regex(&present, k));
        let generator = match (what, f.ty) {
            // A column of a few formats (`user123@example.com`, `Emp 12`) keeps them, whatever
            // its class: a realistic generator would fail every shape.
            (_, LogicalType::Text) if formats.is_some() => {
                let f = formats.unwrap_or_default();
                mixed_formats(&f, &mut quirks);
                f
            }
            ("email", _) => {
                // The commonest domain, when at least k addresses share it: a domain names a
                // provider or a company, not a person.
                let mut domains: HashMap<&str, u64> = HashMap::new();
                for v in &present {
                    if let Some((_, d)) = v.rsplit_once('@') {
                        *domains.entry(d.trim()).or_default() += 1;
                    }
                }
                let domain = domains
                    .into_iter()
                    .filter(|(d, n)| *n >= k && !d.is_empty())
                    .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                    .map_or("example.com", |(d, _)| d);
                format!("gen = \"email\", domain = {}", quote(domain))
            }
            ("phone" | "postcode" | "id_number" | "account" | "free_text", LogicalType::Text)
                if formats.is_some() =>
            {
                let f = formats.unwrap_or_default();
                mixed_formats(&f, &mut quirks);
                f
            }
            ("phone", _) => "gen = \"phone\"".to_string(),
            ("first_name", _) => "gen = \"person_name\", part = \"first\"".to_string(),
            ("last_name", _) => "gen = \"person_name\", part = \"last\"".to_string(),
            ("name", _) => "gen = \"person_name\"".to_string(),
            ("street_address", _) => "gen = \"street_address\"".to_string(),
            ("free_text", LogicalType::Text) => {
                let (lo, hi) = word_range(&present, k);
                format!("gen = \"words\", min = {lo}, max = {hi}")
            }
            ("postcode", _) => "gen = \"postcode\"".to_string(),
            (_, t) if t.is_temporal() => {
                let mut v: Vec<f64> = present
                    .iter()
                    .filter_map(|s| crate::mask::parse_instant(s))
                    .map(|x| x as f64)
                    .collect();
                v.sort_unstable_by(f64::total_cmp);
                // Whole years: a personal date rounded to the day would still be the date.
                use chrono::Datelike;
                let year = |us: f64| {
                    chrono::DateTime::from_timestamp_micros(us as i64).map_or(1970, |t| t.year())
                };
                let start = |y: i32| {
                    chrono::NaiveDate::from_ymd_opt(y, 1, 1)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map_or(0.0, |t| t.and_utc().timestamp_micros() as f64)
                };
                let (a, b) = match (v.first(), v.last()) {
                    (Some(lo), Some(hi)) => (start(year(*lo)), start(year(*hi) + 1)),
                    _ => (0.0, start(1971)),
                };
                format!(
                    "gen = \"timestamp\", from = \"{}\", to = \"{}\"{}",
                    timestamp(a),
                    timestamp(b),
                    if f.ty == LogicalType::Date {
                        typed("date")
                    } else {
                        String::new()
                    }
                )
            }
            // Identifiers of other formats: their shapes as patterns, else free text.
            _ => formats.unwrap_or_else(|| "gen = \"words\", min = 1, max = 3".to_string()),
        };
        let mask = if mask == "format_preserving" && f.ty != LogicalType::Text {
            "hash"
        } else {
            mask
        };
        let empty_rate = empty_rate(empties, present.len());
        return Fitted {
            line: format!(
                "{{ {generator}{empty_rate}{extra}{}",
                pii_tail(class, mask, &why)
            ),
            comments,
            quirks,
            pii: true,
        };
    }

    let line = match f.ty {
        LogicalType::Bool => {
            let t = present
                .iter()
                .filter(|v| {
                    matches!(
                        v.trim().to_ascii_lowercase().as_str(),
                        "t" | "true" | "1" | "y" | "yes" | "on"
                    )
                })
                .count() as u64;
            let p = if present.is_empty() {
                "0.5".to_string()
            } else {
                format!(
                    "{}",
                    ((t as f64 / present.len() as f64) * 10_000.0).round() / 10_000.0
                )
            };
            format!("{{ gen = \"bool\", p = {p}{extra} }}")
        }
        LogicalType::Int | LogicalType::Float | LogicalType::Decimal => {
            let mut v: Vec<f64> = present
                .iter()
                .filter_map(|s| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect();
            let bad = present.len() - v.len();
            if bad > 0 {
                quirks.push(format!("{bad} values are not numbers"));
            }
            v.sort_unstable_by(f64::total_cmp);
            let integer = f.ty == LogicalType::Int;
            let decimals = match f.decimal {
                Some((_, s)) => u32::from(s),
                None if integer => 0,
                None => {
                    // The most digits after the point any value has, up to 6.
                    present
                        .iter()
                        .map(|s| {
                            s.split_once('.')
                                .map_or(0, |(_, d)| d.trim_end_matches('0').len())
                        })
                        .max()
                        .unwrap_or(0)
                        .min(6) as u32
                }
            };
            let ty = match (f.ty, f.decimal) {
                (LogicalType::Decimal, Some((p, s))) => typed(&format!("decimal({p}, {s})")),
                (LogicalType::Float, _) if decimals == 0 => typed("float"),
                _ => String::new(),
            };
            let strs: Vec<String> = v.iter().map(|x| number(*x, decimals)).collect();
            let as_str: Vec<&str> = strs.iter().map(String::as_str).collect();
            let (cats, rare_rows, rare_values) = categories(&as_str, k);
            let distinct = cats.len() + rare_values;
            if distinct <= 20 && !cats.is_empty() && rare_rows * 100 <= v.len() as u64 {
                // Few values: each with its share.
                let vs = weighted_values(&cats, rare_rows, rare_values, k, &mut quirks);
                format!("{{ gen = \"discrete\", values = {{ {vs} }}{ty}{extra} }}")
            } else if v.is_empty() {
                format!(
                    "{{ gen = \"null\"{}{extra} }}",
                    if ty.is_empty() {
                        typed(if integer { "int" } else { "float" })
                    } else {
                        ty
                    }
                )
            } else {
                // Many values: equal-count pieces between quantiles, each uniform.
                let e = edges(&v, 20, k as usize, false);
                if e.len() < 2 {
                    format!(
                        "{{ gen = \"constant\", value = {}{ty}{extra} }}",
                        number(e[0], decimals)
                    )
                } else {
                    let parts: Vec<String> = e
                        .windows(2)
                        .map(|w| {
                            if integer {
                                format!(
                                    "{{ weight = 1, gen = \"int\", min = {}, max = {} }}",
                                    number(w[0].ceil(), 0),
                                    number(w[1].floor().max(w[0].ceil()), 0)
                                )
                            } else {
                                format!(
                                    "{{ weight = 1, gen = \"float\", min = {}, max = {}, round = {decimals} }}",
                                    number(w[0], decimals.max(2) + 2),
                                    number(w[1], decimals.max(2) + 2)
                                )
                            }
                        })
                        .collect();
                    comments.push(format!(
                        "{} equal-count pieces between quantiles (the k-th smallest and largest values bound them)",
                        parts.len()
                    ));
                    format!(
                        "{{ gen = \"mixture\", of = [ {} ]{ty}{extra} }}",
                        parts.join(", ")
                    )
                }
            }
        }
        t if t.is_temporal() => {
            let mut v: Vec<f64> = present
                .iter()
                .filter_map(|s| crate::mask::parse_instant(s))
                .map(|x| x as f64)
                .collect();
            let bad = present.len() - v.len();
            if bad > 0 {
                quirks.push(format!("{bad} values do not read as dates or timestamps"));
            }
            calendar_quirks(&v, t != LogicalType::Date, &mut quirks);
            v.sort_unstable_by(f64::total_cmp);
            let ty = match t {
                LogicalType::Date => typed("date"),
                LogicalType::TimestampTz => typed("timestamptz"),
                _ => String::new(),
            };
            let e = edges(&v, 20, k as usize, true);
            if e.len() < 2 {
                let a = e.first().copied().unwrap_or(0.0);
                format!(
                    "{{ gen = \"timestamp\", from = \"{}\", to = \"{}\"{ty}{extra} }}",
                    timestamp(a),
                    timestamp(a + 86_400e6)
                )
            } else {
                // Whole days for dates, so pieces never end inside a day a date cannot hold.
                let day = if t == LogicalType::Date {
                    86_400e6
                } else {
                    1e6
                };
                let parts: Vec<String> = e
                    .windows(2)
                    .map(|w| {
                        let (a, b) = ((w[0] / day).floor() * day, (w[1] / day).floor() * day + day);
                        format!(
                            "{{ weight = 1, gen = \"timestamp\", from = \"{}\", to = \"{}\" }}",
                            timestamp(a),
                            timestamp(b)
                        )
                    })
                    .collect();
                format!(
                    "{{ gen = \"mixture\", of = [ {} ]{ty}{extra} }}",
                    parts.join(", ")
                )
            }
        }
        LogicalType::Uuid => format!("{{ gen = \"uuid\"{extra} }}"),
        _ => {
            // Text: a closed set of categories, else formats from shapes, else free text.
            let (cats, rare_rows, rare_values) = categories(&present, k);
            let empties = text_quirks(&present, &mut quirks);
            let distinct = cats.len() + rare_values;
            if !cats.is_empty() && distinct <= 100 && (rare_rows * 20 <= present.len() as u64) {
                let vs = weighted_values(&cats, rare_rows, rare_values, k, &mut quirks);
                format!("{{ gen = \"choice\", values = {{ {vs} }}{extra} }}")
            } else {
                let empty_rate = empty_rate(empties, present.len());
                if let Some(formats) =
                    shape_formats(&present, k).or_else(|| class_regex(&present, k))
                {
                    mixed_formats(&formats, &mut quirks);
                    format!("{{ {formats}{empty_rate}{extra} }}")
                } else {
                    let (lo, hi) = word_range(&present, k);
                    comments
                        .push("free text: its words are not production's, only their count".into());
                    format!(
                        "{{ gen = \"words\", min = {lo}, max = {}{empty_rate}{extra} }}",
                        hi.max(lo)
                    )
                }
            }
        }
    };
    if f.db_type.is_empty() {
        comments.push("type not reported by the database".into());
    }
    Fitted {
        line,
        comments,
        quirks,
        pii: false,
    }
}
