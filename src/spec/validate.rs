//! From the serde model to the typed [`Spec`], collecting every problem with its place.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use sha2::{Digest, Sha256};
use toml::Spanned;

use super::raw::{RawColumn, RawSpec};
use super::*;

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.ffffff]` or the same with `T`, into microseconds
/// since the Unix epoch (UTC, no time zone handling: the spec describes wall-clock values).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    // No offset is read here: a trailing `Z` is dropped, any other offset is not this form.
    match parse_iso(s) {
        Some((t, None)) => Some(t),
        Some((t, Some(0))) if s.ends_with('Z') => Some(t),
        _ => parse_timestamp_by_format(s),
    }
}

#[cfg(test)]
pub(crate) fn parse_timestamp_by_format_for_tests(s: &str) -> Option<i64> {
    parse_timestamp_by_format(s)
}

/// [`parse_timestamp`] by chrono's format interpreter: the reference [`parse_iso`] must agree
/// with, and the judge of every form `parse_iso` does not take.
fn parse_timestamp_by_format(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_micros());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    None
}

/// The forms databases print, read without chrono's format interpreter (which parses its format
/// string again for every value: a tenth of an extraction's time): `YYYY-MM-DD`, optionally
/// followed by ` HH:MM:SS` or `THH:MM:SS` with an optional `.` and 1 to 9 digits, then optionally
/// `Z` or, after a time, an offset `±HH`, `±HHMM` or `±HH:MM`. Gives the wall-clock instant in
/// microseconds since the epoch (sub-microsecond digits truncated, as chrono's are) and the
/// offset in seconds. `None` for anything else, invalid dates and times included, which the
/// format-based parsers then judge, so a value is never read differently than before.
pub(crate) fn parse_iso(s: &str) -> Option<(i64, Option<i64>)> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| -> Option<u32> {
        let mut v = 0u32;
        for i in from..to {
            let d = b.get(i)?.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + u32::from(d);
        }
        Some(v)
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let mut i = 10;
    let (mut hms, mut nanos, mut timed) = ((0, 0, 0), 0u32, false);
    if matches!(b.get(i), Some(b' ' | b'T')) {
        if b.len() < i + 9 || b[i + 3] != b':' || b[i + 6] != b':' {
            return None;
        }
        hms = (num(i + 1, i + 3)?, num(i + 4, i + 6)?, num(i + 7, i + 9)?);
        i += 9;
        timed = true;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            if end == start || end - start > 9 {
                return None;
            }
            nanos = num(start, end)? * 10u32.pow(9 - (end - start) as u32);
            i = end;
        }
    }
    let offset = match b.get(i) {
        None => None,
        Some(b'Z') if i + 1 == b.len() => Some(0),
        Some(sign @ (b'+' | b'-')) if timed => {
            let h = num(i + 1, i + 3)?;
            let m = match &b[i + 3..] {
                [] => 0,
                [_, _] => num(i + 3, i + 5)?,
                [b':', _, _] => num(i + 4, i + 6)?,
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => return None,
    };
    // No leap seconds here (chrono takes them as nanoseconds past 1e9, not as second 60).
    let t = date.and_hms_nano_opt(hms.0, hms.1, hms.2, nanos)?;
    Some((t.and_utc().timestamp_micros(), offset))
}

const GENERATORS: &str = "sequence, int, float, normal, lognormal, exponential, poisson, geometric, \
     zipf, discrete, bool, uuid, constant, null, list, choice, timestamp, person_name, email, pattern, \
     regex, words, mixture, phone, city, street_address, postcode, company";

/// The generator parameters a column sets, by key name.
fn params(c: &RawColumn) -> Vec<&'static str> {
    let mut p = Vec::new();
    let mut add = |name, set: bool| {
        if set {
            p.push(name)
        }
    };
    add("start", c.start.is_some());
    add("min", c.min.is_some());
    add("max", c.max.is_some());
    add("mean", c.mean.is_some());
    add("std", c.std.is_some());
    add("mu", c.mu.is_some());
    add("sigma", c.sigma.is_some());
    add("round", c.round.is_some());
    add("values", c.values.is_some());
    add("from", c.from.is_some());
    add("to", c.to.is_some());
    add("after", c.after.is_some());
    add("max_days", c.max_days.is_some());
    add("domain", c.domain.is_some());
    add("format", c.format.is_some());
    add("formats", c.formats.is_some());
    add("p", c.p.is_some());
    add("n", c.n.is_some());
    add("s", c.s.is_some());
    add("value", c.value.is_some());
    add("items", c.items.is_some());
    add("per", c.per.is_some());
    add("locale", c.locale.is_some());
    add("locales", c.locales.is_some());
    add("part", c.part.is_some());
    add("name_from", c.name_from.is_some());
    add("style", c.style.is_some());
    add("snap", c.snap.is_some());
    add("regex", c.regex.is_some());
    add("min_after", c.min_after.is_some());
    add("max_after", c.max_after.is_some());
    add("of", c.of.is_some());
    p
}

/// Keys that belong to a whole column, never to a part of `mixture` or a case of `cases`.
fn column_level_keys(c: &RawColumn) -> Vec<&'static str> {
    let mut p = Vec::new();
    let mut add = |name, set: bool| {
        if set {
            p.push(name)
        }
    };
    add("ref", c.r#ref.is_some());
    add("sql", c.sql.is_some());
    add("type", c.r#type.is_some());
    add("pii", c.pii.is_some());
    add("mask", c.mask.is_some());
    add("pii_scan", c.pii_scan.is_some());
    add("gate", c.gate.is_some());
    add("tail", c.tail.is_some());
    add("null_rate", c.null_rate.is_some());
    add("empty_rate", c.empty_rate.is_some());
    add("unique", c.unique.is_some());
    add("by", c.by.is_some());
    add("cases", c.cases.is_some());
    add("over", c.over.is_some());
    add("skew", c.skew.is_some());
    add("within", c.within.is_some());
    add("db_name", c.db_name.is_some());
    p
}

/// Parses a duration such as `90 minutes`, `1h`, `2.5 days`, `3w` or `0` into microseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let x: f64 = num.parse().ok()?;
    let unit_us: f64 = match unit.trim() {
        "" if x == 0.0 => 0.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1e6,
        "m" | "min" | "mins" | "minute" | "minutes" => 60e6,
        "h" | "hour" | "hours" => 3_600e6,
        "d" | "day" | "days" => 86_400e6,
        "w" | "week" | "weeks" => 604_800e6,
        _ => return None,
    };
    let us = x * unit_us;
    (us.is_finite() && us < 1e17).then_some(us.round() as i64)
}

/// (allowed, required) parameters of each generator.
fn generator_params(name: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match name {
        "sequence" => (&["start", "per"], &[]),
        "int" => (&["min", "max"], &["min", "max"]),
        "float" => (&["min", "max", "round"], &["min", "max"]),
        "normal" => (&["mean", "std", "min", "max", "round"], &["mean", "std"]),
        "lognormal" => (&["mu", "sigma", "min", "max", "round"], &["mu", "sigma"]),
        "choice" => (&["values"], &["values"]),
        "timestamp" => (
            &[
                "from",
                "to",
                "after",
                "max_days",
                "min_after",
                "max_after",
                "snap",
            ],
            &[],
        ),
        "person_name" => (&["locale", "locales", "part"], &[]),
        "email" => (&["domain", "name_from", "formats"], &[]),
        "phone" => (&["locale", "locales", "style"], &[]),
        "city" | "street_address" | "postcode" | "company" => (&["locale", "locales"], &[]),
        "pattern" => (&["format", "formats"], &[]),
        "exponential" => (&["mean", "min", "max", "round"], &["mean"]),
        "poisson" => (&["mean", "min", "max"], &["mean"]),
        "geometric" => (&["p"], &["p"]),
        "zipf" => (&["n", "s"], &["n"]),
        "discrete" => (&["values"], &["values"]),
        "bool" => (&["p"], &[]),
        "uuid" => (&[], &[]),
        "constant" => (&["value"], &["value"]),
        "null" => (&[], &[]),
        "list" => (&["items"], &["items"]),
        "regex" => (&["regex"], &["regex"]),
        "words" => (&["min", "max"], &[]),
        "mixture" => (&["of"], &["of"]),
        _ => return None,
    })
}

struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<SpecError>,
}

impl Ctx<'_> {
    fn err(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let (line, col) = line_col(self.text, span.start);
        self.errors.push(SpecError {
            path: self.path.to_path_buf(),
            line,
            col,
            key: key.into(),
            message: message.into(),
        });
    }
}

/// `; did you mean `x`?` for the candidate closest to `word`, when one is close enough.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    // Jaro-Winkler ranks long names well; an edit distance that counts a swap of two letters as
    // one edit catches short ones (`gne` for `gen`), where Jaro's match window is too narrow.
    let close = |c: &str| {
        let edits = strsim::osa_distance(word, c);
        let jw = strsim::jaro_winkler(word, c);
        (jw >= 0.8 || edits <= (word.chars().count() / 4).max(1)).then_some((edits, jw))
    };
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .filter_map(|c| close(c).map(|(edits, jw)| (edits, jw, c)))
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// For serde's "unknown field `x`, expected one of `a`, `b`, ...": a shorter message naming
/// the closest expected key, when one is close.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let hint = did_you_mean(field, names);
    (!hint.is_empty())
        .then(|| format!("unknown key `{field}`{hint}; specs/reference.toml documents every key"))
}

/// "no column `c` in `t`", with the closest column of `t` when one is close.
fn no_column(names: &BTreeMap<String, BTreeSet<String>>, table: &str, column: &str) -> String {
    let hint = names
        .get(table)
        .map(|cols| did_you_mean(column, cols.iter().map(String::as_str)))
        .unwrap_or_default();
    format!("no column `{column}` in `{table}`{hint}")
}

/// "no table `t` in this spec", with the closest table when one is close.
fn no_table(names: &BTreeMap<String, BTreeSet<String>>, table: &str) -> String {
    format!(
        "no table `{table}` in this spec{}",
        did_you_mean(table, names.keys().map(String::as_str))
    )
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Spec, SpecErrors> {
    let mut cx = Ctx {
        path,
        text,
        errors: Vec::new(),
    };
    let raw: RawSpec = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            // Serde stops at the first unknown key; every one of them is reported at once.
            let unknown = super::keys::unknown_keys(text);
            if e.message().starts_with("unknown field") && !unknown.is_empty() {
                for u in unknown {
                    cx.err(u.span, u.key, u.message);
                }
            } else {
                let span = e.span().unwrap_or(0..0);
                let msg = e.message().trim().to_string();
                cx.err(span, "", unknown_field_hint(&msg).unwrap_or(msg));
            }
            return Err(SpecErrors { errors: cx.errors });
        }
    };
    let spec = build(&mut cx, raw);
    if cx.errors.is_empty() {
        Ok(spec)
    } else {
        Err(SpecErrors { errors: cx.errors })
    }
}

fn build(cx: &mut Ctx<'_>, raw: RawSpec) -> Spec {
    let digest = hex(&Sha256::digest(cx.text.as_bytes()));
    let dspan = raw.domain.span();
    let domain = raw.domain.into_inner();
    if domain.name.is_empty()
        || !domain
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        cx.err(
            dspan.clone(),
            "domain.name",
            "expected a non-empty name of letters, digits, `_` or `-` (it names the report folder)",
        );
    }

    let source = match raw.source {
        None => Source {
            url: None,
            sample: Sample::Fraction(1.0),
            statement_timeout_s: 300,
            schema: None,
        },
        Some(s) => {
            let span = s.span();
            let s = s.into_inner();
            let sample = match s.sample {
                None => Sample::Fraction(1.0),
                Some(sm) => {
                    let sspan = sm.span();
                    match (sm.get_ref().percent, sm.get_ref().rows) {
                        (Some(p), None) if p > 0.0 && p <= 100.0 => Sample::Fraction(p / 100.0),
                        (None, Some(r)) if r > 0 => Sample::Rows(r),
                        _ => {
                            cx.err(
                                sspan,
                                "source.sample",
                                "expected exactly one of `percent` (0 < p <= 100) or `rows` (> 0)",
                            );
                            Sample::Fraction(1.0)
                        }
                    }
                }
            };
            if s.statement_timeout_s.is_some_and(|t| t == 0 || t > 86_400) {
                cx.err(
                    span.clone(),
                    "source.statement_timeout_s",
                    "expected a number of seconds between 1 and 86400",
                );
            }
            if let Some(sc) = &s.schema
                && let Err(e) = db_identifier(sc)
            {
                cx.err(span, "source.schema", e);
            }
            Source {
                url: s.url,
                sample,
                statement_timeout_s: s.statement_timeout_s.unwrap_or(300),
                schema: s.schema,
            }
        }
    };

    // Column names per table first, so references can be checked in any order.
    let names: BTreeMap<String, BTreeSet<String>> = raw
        .tables
        .iter()
        .map(|(t, spec)| (t.clone(), spec.get_ref().columns.keys().cloned().collect()))
        .collect();
    let masking = build_masking(cx, raw.masking, &names);

    let mut tables = Vec::new();
    for (tname, traw) in raw.tables {
        let tspan = traw.span();
        let traw = traw.into_inner();
        let tkey = format!("tables.{tname}");
        if !is_identifier(&tname) {
            cx.err(
                tspan.clone(),
                &tkey,
                "expected a table name of letters, digits and `_`",
            );
        }
        let rows = match (traw.rows, traw.rows_per) {
            (Some(n), None) => RowCount::Fixed(n),
            (None, Some(rp)) => build_rows_per(cx, &names, &tkey, rp),
            _ => {
                cx.err(
                    tspan.clone(),
                    &tkey,
                    "expected exactly one of `rows` or `rows_per`",
                );
                RowCount::Fixed(0)
            }
        };
        if traw.columns.is_empty() {
            cx.err(
                tspan.clone(),
                format!("{tkey}.columns"),
                "a table needs at least one column",
            );
        }
        let mut columns = Vec::new();
        for (cname, craw) in traw.columns {
            let ckey = format!("{tkey}.columns.{cname}");
            if !is_identifier(&cname) {
                cx.err(
                    craw.span(),
                    &ckey,
                    "expected a column name of letters, digits and `_`",
                );
            }
            columns.push(build_column(cx, &names, &tname, cname, &ckey, craw));
        }
        let key_columns: Vec<String> = match traw.key {
            Some(super::raw::RawKey::One(k)) => vec![k],
            Some(super::raw::RawKey::Many(ks)) => {
                if ks.is_empty() {
                    cx.err(
                        tspan.clone(),
                        format!("{tkey}.key"),
                        "expected a column or a list of columns",
                    );
                }
                ks
            }
            None if columns.iter().any(|c| c.name == "id") => vec!["id".to_string()],
            None => Vec::new(),
        };
        for k in &key_columns {
            if !columns.iter().any(|c| &c.name == k) {
                cx.err(
                    tspan.clone(),
                    format!("{tkey}.key"),
                    no_column(&names, &tname, k),
                );
            }
        }
        let key = match key_columns.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        let gate = gate_override(cx, &tspan, &format!("{tkey}.gate"), traw.gate.as_ref());
        if let Some(d) = &traw.db_name
            && let Err(e) = db_identifier(d)
        {
            cx.err(tspan.clone(), format!("{tkey}.db_name"), e);
        }
        let mut db_names: BTreeSet<&str> = BTreeSet::new();
        for c in &columns {
            if !db_names.insert(c.db()) {
                cx.err(
                    tspan.clone(),
                    format!("{tkey}.columns.{}.db_name", c.name),
                    format!(
                        "two columns of `{tname}` have the database name `{}`",
                        c.db()
                    ),
                );
            }
        }
        tables.push((
            tspan,
            Table {
                name: tname,
                rows,
                key,
                key_columns,
                columns,
                gate,
                db_name: traw.db_name,
            },
        ));
    }

    check_after_links(cx, &tables);
    let tables = order_tables(cx, tables);

    let mut rules = Vec::new();
    for (i, r) in raw.rules.into_iter().enumerate() {
        let span = r.span();
        let line = line_col(cx.text, span.start).0;
        let r = r.into_inner();
        if r.name.trim().is_empty() {
            cx.err(
                span.clone(),
                format!("rules[{i}].name"),
                "a rule needs a name",
            );
        }
        if !r.sql.trim().to_ascii_uppercase().starts_with("SELECT") {
            cx.err(
                span.clone(),
                format!("rules[{i}].sql"),
                "expected a Polars SQL `SELECT` that returns the violating rows",
            );
        }
        let table = match &r.table {
            Some(t) if names.contains_key(t) => t.clone(),
            Some(t) => {
                cx.err(
                    span.clone(),
                    format!("rules[{i}].table"),
                    format!("no table `{t}` in this spec"),
                );
                t.clone()
            }
            None => match first_table(&r.sql).filter(|t| names.contains_key(t)) {
                Some(t) => t,
                None => {
                    cx.err(
                        span.clone(),
                        format!("rules[{i}].table"),
                        "cannot tell which table the rule is about from its SQL; add `table = \"...\"`",
                    );
                    String::new()
                }
            },
        };
        if let Some(c) = &r.column
            && !names.get(&table).is_some_and(|cols| cols.contains(c))
        {
            cx.err(
                span,
                format!("rules[{i}].column"),
                no_column(&names, &table, c),
            );
        }
        rules.push(Rule {
            name: r.name,
            sql: r.sql,
            table,
            column: r.column,
            line,
        });
    }

    let gate = build_gate(cx, raw.gate);

    let mut waivers = Vec::new();
    for (i, w) in raw.waivers.into_iter().enumerate() {
        let span = w.span();
        let w = w.into_inner();
        let key = format!("waivers[{i}]");
        if !names.contains_key(&w.table) {
            cx.err(
                span.clone(),
                format!("{key}.table"),
                no_table(&names, &w.table),
            );
        }
        if w.reason.trim().is_empty() {
            cx.err(
                span.clone(),
                format!("{key}.reason"),
                "a waiver needs a reason (it is printed beside every finding it waives)",
            );
        }
        if let Some(u) = &w.until
            && chrono::NaiveDate::parse_from_str(u, "%Y-%m-%d").is_err()
        {
            cx.err(
                span.clone(),
                format!("{key}.until"),
                "expected a date `YYYY-MM-DD`",
            );
        }
        if let Some(k) = &w.kind
            && !crate::compare::Kind::ALL.iter().any(|x| x.as_str() == k)
        {
            cx.err(
                span,
                format!("{key}.kind"),
                format!(
                    "unknown finding kind `{k}`; expected one of {}",
                    crate::compare::Kind::ALL
                        .iter()
                        .map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        waivers.push(Waiver {
            table: w.table,
            column: w.column,
            kind: w.kind,
            metric: w.metric,
            reason: w.reason,
            until: w.until,
        });
    }

    let mut tables = tables;
    let scenarios = build_scenarios(cx, &names, &mut tables, &rules, raw.scenarios);

    Spec {
        path: cx.path.to_path_buf(),
        digest,
        domain: domain.name,
        description: domain.description,
        seed: domain.seed,
        source,
        masking,
        tables,
        rules,
        gate,
        waivers,
        scenarios,
    }
}

/// `[[scenarios]]`, each checked against the tables and rules it names. The generators a
/// scenario sets are recorded on their columns: their values are intended, so production
/// values in their range or categories are not spec gaps.
fn build_scenarios(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    tables: &mut [Table],
    rules: &[Rule],
    raw: Vec<Spanned<super::raw::RawScenario>>,
) -> Vec<Scenario> {
    let mut out: Vec<Scenario> = Vec::new();
    for (i, sc) in raw.into_iter().enumerate() {
        let span = sc.span();
        let sc = sc.into_inner();
        let key = format!("scenarios[{i}]");
        if sc.name.trim().is_empty() || out.iter().any(|o| o.name == sc.name) {
            cx.err(
                span.clone(),
                format!("{key}.name"),
                "a scenario needs a name of its own",
            );
        }
        let Some(t) = tables.iter_mut().find(|t| t.name == sc.table) else {
            cx.err(
                span.clone(),
                format!("{key}.table"),
                no_table(names, &sc.table),
            );
            continue;
        };
        let rows = match (sc.share, sc.rows) {
            (Some(p), None) if p > 0.0 && p <= 1.0 => ScenarioRows::Share(p),
            (None, Some(n)) if (1..=1_000_000_000).contains(&n) => ScenarioRows::Add(n),
            _ => {
                cx.err(
                    span.clone(),
                    format!("{key}.share"),
                    "expected exactly one of `share` (0 < share <= 1: that share of the table's rows becomes the case) or `rows` (rows added for it, 1..=1e9)",
                );
                ScenarioRows::Share(0.0)
            }
        };
        if sc.set.is_empty() && sc.anomalies.is_empty() {
            cx.err(
                span.clone(),
                key.clone(),
                "a scenario needs `set = { column = { gen = ... } }` or `anomalies = { column = \"mojibake\" }`",
            );
        }
        let mut set = Vec::new();
        for (col, part) in &sc.set {
            let ckey = format!("{key}.set.{col}");
            let Some(c) = t.columns.iter_mut().find(|c| &c.name == col) else {
                cx.err(part.span(), ckey, no_column(names, &sc.table, col));
                continue;
            };
            let g = build_part(cx, names, &sc.table, &ckey, part);
            match (&c.kind, g.natural_type()) {
                (ColumnKind::Gen(own), Some(ty)) => {
                    if let Some(own_ty) = own.natural_type()
                        && !types_agree(own_ty, ty)
                    {
                        cx.err(
                            part.span(),
                            ckey.clone(),
                            format!(
                                "the column makes {} values, this generator {}",
                                type_name(own_ty),
                                type_name(ty)
                            ),
                        );
                    }
                }
                (ColumnKind::Gen(_), None) => {}
                _ => cx.err(
                    part.span(),
                    ckey.clone(),
                    "a scenario sets generated columns only (not `ref` or `sql` ones)",
                ),
            }
            c.scenario_gens.push(g.clone());
            set.push((col.clone(), g));
        }
        let mut anomalies = Vec::new();
        for (col, kind) in &sc.anomalies {
            let ckey = format!("{key}.anomalies.{col}");
            if !names.get(&sc.table).is_some_and(|cols| cols.contains(col)) {
                cx.err(span.clone(), ckey, no_column(names, &sc.table, col));
                continue;
            }
            match Anomaly::parse(kind) {
                Some(a) => {
                    if let Some(c) = t.columns.iter_mut().find(|c| &c.name == col) {
                        c.planted.push(a);
                    }
                    anomalies.push((col.clone(), a));
                }
                None => cx.err(
                    span.clone(),
                    ckey,
                    format!(
                        "unknown anomaly `{kind}`; expected one of {}",
                        Anomaly::NAMES
                    ),
                ),
            }
        }
        for b in &sc.breaks {
            if !rules.iter().any(|r| &r.name == b) {
                cx.err(
                    span.clone(),
                    format!("{key}.breaks"),
                    format!("no rule named `{b}`"),
                );
            }
        }
        out.push(Scenario {
            name: sc.name,
            table: sc.table,
            rows,
            set,
            anomalies,
            breaks: sc.breaks,
        });
    }
    out
}

fn default_masking() -> Masking {
    Masking {
        key_env: "REALITYCHECK_MASK_KEY".into(),
        unclassified: Unclassified::Refuse,
        k: 5,
        pii_scan: PiiScanPolicy::Refuse,
        quasi_identifiers: Vec::new(),
        enforce_k_anonymity: false,
        leak_min_length: 8,
    }
}

fn build_masking(
    cx: &mut Ctx<'_>,
    raw: Option<Spanned<super::raw::RawMasking>>,
    names: &BTreeMap<String, BTreeSet<String>>,
) -> Masking {
    let mut out = default_masking();
    let Some(m) = raw else { return out };
    let span = m.span();
    let m = m.into_inner();
    out.unclassified = match m.unclassified.as_deref() {
        None | Some("refuse") => Unclassified::Refuse,
        Some("redact") => Unclassified::Redact,
        Some(other) => {
            cx.err(
                span.clone(),
                "masking.unclassified",
                format!("unknown policy `{other}`; expected `refuse` or `redact`"),
            );
            Unclassified::Refuse
        }
    };
    if m.k == Some(0) {
        cx.err(span.clone(), "masking.k", "expected k >= 1");
    }
    out.k = m.k.unwrap_or(5).max(1);
    if let Some(p) = parse_pii_scan(
        cx,
        &span,
        "masking",
        m.pii_scan.as_deref(),
        m.pii_scan_reason.as_deref(),
    ) {
        out.pii_scan = p;
    }
    for q in m.quasi_identifiers.unwrap_or_default() {
        match q.split_once('.') {
            Some((t, c)) if names.get(t).is_some_and(|cols| cols.contains(c)) => {
                out.quasi_identifiers.push((t.to_string(), c.to_string()))
            }
            _ => cx.err(
                span.clone(),
                "masking.quasi_identifiers",
                format!("`{q}` is not a `table.column` of this spec"),
            ),
        }
    }
    out.enforce_k_anonymity = m.enforce_k_anonymity.unwrap_or(false);
    if out.enforce_k_anonymity && out.quasi_identifiers.is_empty() {
        cx.err(
            span.clone(),
            "masking.enforce_k_anonymity",
            "needs `quasi_identifiers` to measure k-anonymity over",
        );
    }
    match m.leak_min_length {
        Some(n) if !(1..=64).contains(&n) => cx.err(
            span.clone(),
            "masking.leak_min_length",
            "expected a number of characters between 1 and 64",
        ),
        Some(n) => out.leak_min_length = n,
        None => {}
    }
    if let Some(k) = m.key_env {
        out.key_env = k;
    }
    out
}

/// `pii_scan = "refuse" | "redact" | "accept"` (+ `pii_scan_reason`, required with `accept`).
fn parse_pii_scan(
    cx: &mut Ctx<'_>,
    span: &Range<usize>,
    key: &str,
    policy: Option<&str>,
    reason: Option<&str>,
) -> Option<PiiScanPolicy> {
    let p = match policy {
        None => {
            if reason.is_some() {
                cx.err(
                    span.clone(),
                    format!("{key}.pii_scan_reason"),
                    "goes with `pii_scan = \"accept\"`",
                );
            }
            return None;
        }
        Some("refuse") => PiiScanPolicy::Refuse,
        Some("redact") => PiiScanPolicy::Redact,
        Some("accept") => match reason.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => PiiScanPolicy::Accept {
                reason: r.to_string(),
            },
            None => {
                cx.err(
                    span.clone(),
                    format!("{key}.pii_scan_reason"),
                    "`pii_scan = \"accept\"` needs a `pii_scan_reason` for the masking audit",
                );
                PiiScanPolicy::Refuse
            }
        },
        Some(other) => {
            cx.err(
                span.clone(),
                format!("{key}.pii_scan"),
                format!("unknown policy `{other}`; expected `refuse`, `redact` or `accept`"),
            );
            PiiScanPolicy::Refuse
        }
    };
    Some(p)
}

/// The parameters of `generalize` and `shift_dates`; each only with its own method.
fn build_mask_options(
    cx: &mut Ctx<'_>,
    span: &Range<usize>,
    key: &str,
    mask: MaskMethod,
    c: &RawColumn,
) -> MaskOptions {
    let mut o = MaskOptions {
        to: Granularity::Month,
        bin: 10.0,
        keep: 3,
        entity: None,
        max_days: 30,
    };
    let gen_keys = [
        ("mask_to", c.mask_to.is_some()),
        ("mask_bin", c.mask_bin.is_some()),
        ("mask_keep", c.mask_keep.is_some()),
    ];
    let shift_keys = [
        ("mask_entity", c.mask_entity.is_some()),
        ("mask_max_days", c.mask_max_days.is_some()),
    ];
    for (name, set) in gen_keys {
        if set && mask != MaskMethod::Generalize {
            cx.err(
                span.clone(),
                format!("{key}.{name}"),
                format!("`{name}` goes with `mask = \"generalize\"`"),
            );
        }
    }
    for (name, set) in shift_keys {
        if set && mask != MaskMethod::ShiftDates {
            cx.err(
                span.clone(),
                format!("{key}.{name}"),
                format!("`{name}` goes with `mask = \"shift_dates\"`"),
            );
        }
    }
    if let Some(t) = &c.mask_to {
        o.to = match t.as_str() {
            "day" => Granularity::Day,
            "month" => Granularity::Month,
            "year" => Granularity::Year,
            other => {
                cx.err(
                    span.clone(),
                    format!("{key}.mask_to"),
                    format!("unknown unit `{other}`; expected `day`, `month` or `year`"),
                );
                Granularity::Month
            }
        };
    }
    if let Some(b) = c.mask_bin {
        if b > 0.0 && b.is_finite() {
            o.bin = b;
        } else {
            cx.err(
                span.clone(),
                format!("{key}.mask_bin"),
                "expected a bin width > 0",
            );
        }
    }
    if let Some(k) = c.mask_keep {
        o.keep = k;
    }
    o.entity = c.mask_entity.clone();
    if let Some(d) = c.mask_max_days {
        if (1..=36_500).contains(&d) {
            o.max_days = d;
        } else {
            cx.err(
                span.clone(),
                format!("{key}.mask_max_days"),
                "expected whole days between 1 and 36500",
            );
        }
    }
    o
}

fn build_column(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    table: &str,
    name: String,
    key: &str,
    craw: Spanned<RawColumn>,
) -> Column {
    let span = craw.span();
    let c = craw.into_inner();
    let set = params(&c);
    let null_rate = match c.null_rate {
        Some(r) if (0.0..1.0).contains(&r) => r,
        Some(_) => {
            cx.err(
                span.clone(),
                format!("{key}.null_rate"),
                "expected 0 <= null_rate < 1",
            );
            0.0
        }
        None => 0.0,
    };
    let mask = match (c.mask.as_deref(), &c.pii) {
        (None, None) => MaskMethod::Keep,
        (None, Some(_)) => {
            cx.err(
                span.clone(),
                format!("{key}.mask"),
                format!(
                    "a column with `pii` needs a `mask`; expected one of {}",
                    MaskMethod::NAMES
                ),
            );
            MaskMethod::Redact
        }
        (Some(m), pii) => match parse_mask(m) {
            Some(MaskMethod::Keep) if pii.is_some() => {
                cx.err(
                    span.clone(),
                    format!("{key}.mask"),
                    "a PII column cannot be kept unmasked; choose hash, hash_email, pseudonym, format_preserving, generalize, shift_dates or redact",
                );
                MaskMethod::Redact
            }
            Some(m) => m,
            None => {
                cx.err(
                    span.clone(),
                    format!("{key}.mask"),
                    format!("unknown mask `{m}`; expected one of {}", MaskMethod::NAMES),
                );
                MaskMethod::Redact
            }
        },
    };

    let kinds = [
        c.r#gen.is_some(),
        c.r#ref.is_some(),
        c.sql.is_some(),
        c.cases.is_some(),
    ];
    let declared_type = c
        .r#type
        .as_deref()
        .and_then(|t| match ColumnType::parse(t) {
            Ok(t) => Some(t),
            Err(e) => {
                cx.err(span.clone(), format!("{key}.type"), e);
                None
            }
        });
    let kind = if kinds.iter().filter(|k| **k).count() != 1 {
        cx.err(
            span.clone(),
            key,
            "expected exactly one of `gen`, `ref`, `sql` or `by` with `cases`",
        );
        ColumnKind::Gen(Generator::Sequence {
            start: 1,
            per: None,
        })
    } else if let Some(r) = &c.r#ref {
        if !set.is_empty() {
            cx.err(
                span.clone(),
                key,
                format!(
                    "`ref` takes no generator parameters (found {})",
                    set.join(", ")
                ),
            );
        }
        match r.split_once('.') {
            Some((t, col)) if names.get(t).is_some_and(|cols| cols.contains(col)) => {
                ColumnKind::Ref {
                    table: t.into(),
                    column: col.into(),
                }
            }
            _ => {
                let all: Vec<String> = names
                    .iter()
                    .flat_map(|(t, cols)| cols.iter().map(move |c| format!("{t}.{c}")))
                    .collect();
                cx.err(
                    span.clone(),
                    format!("{key}.ref"),
                    format!(
                        "`{r}` is not a column of this spec{}; expected `table.column`",
                        did_you_mean(r, all.iter().map(String::as_str))
                    ),
                );
                ColumnKind::Ref {
                    table: String::new(),
                    column: String::new(),
                }
            }
        }
    } else if let Some(sql) = c.sql.clone() {
        if !set.is_empty() {
            cx.err(
                span.clone(),
                key,
                format!(
                    "`sql` takes no generator parameters (found {})",
                    set.join(", ")
                ),
            );
        }
        if c.r#type.is_none() {
            cx.err(
                span.clone(),
                format!("{key}.type"),
                format!(
                    "a `sql` column needs `type` (one of {}) so production values can be read as that type",
                    ColumnType::NAMES
                ),
            );
        }
        if let Some(child) = &c.over {
            let ok = names.contains_key(child) && child != table;
            if !ok {
                cx.err(
                    span.clone(),
                    format!("{key}.over"),
                    format!("expected a child table of `{table}` (one with a `ref` to it); no table `{child}` here"),
                );
            }
        }
        ColumnKind::Derived {
            sql,
            over: c.over.clone(),
        }
    } else if let Some(cases) = &c.cases {
        if !set.is_empty() {
            cx.err(
                span.clone(),
                key,
                format!(
                    "`cases` takes its generators inside each case (found {} beside it)",
                    set.join(", ")
                ),
            );
        }
        ColumnKind::Gen(build_cases(
            cx,
            names,
            table,
            &name,
            key,
            &span,
            c.by.as_deref(),
            cases,
        ))
    } else {
        if c.by.is_some() {
            cx.err(
                span.clone(),
                format!("{key}.by"),
                "`by` goes with `cases = { VALUE = { gen = ... }, ... }`",
            );
        }
        ColumnKind::Gen(build_gen(cx, names, table, key, &span, &c))
    };
    let mask_options = build_mask_options(cx, &span, key, mask, &c);
    if let Some(e) = &mask_options.entity
        && mask == MaskMethod::ShiftDates
        && !names.get(table).is_some_and(|cols| cols.contains(e))
    {
        cx.err(
            span.clone(),
            format!("{key}.mask_entity"),
            no_column(names, table, e),
        );
    }
    let pii_scan = parse_pii_scan(
        cx,
        &span,
        key,
        c.pii_scan.as_deref(),
        c.pii_scan_reason.as_deref(),
    );
    if pii_scan.is_some() && c.pii.is_some() {
        cx.err(
            span.clone(),
            format!("{key}.pii_scan"),
            "applies to columns declared non-PII; this one has `pii`, so it is masked",
        );
    }
    let gate = gate_override(cx, &span, &format!("{key}.gate"), c.gate.as_ref());
    let tail = c.tail.as_ref().and_then(|t| {
        let numeric = matches!(
            kind,
            ColumnKind::Gen(
                Generator::Int { .. }
                    | Generator::Float { .. }
                    | Generator::Normal { .. }
                    | Generator::LogNormal { .. }
                    | Generator::Exponential { .. }
                    | Generator::Poisson { .. }
            )
        );
        let ok = numeric
            && t.share > 0.0
            && t.share < 1.0
            && t.min.is_finite()
            && t.max.is_finite()
            && t.min < t.max;
        if !ok {
            cx.err(
                span.clone(),
                format!("{key}.tail"),
                "expected `tail = { share = S, min = A, max = B }` with 0 < S < 1 and A < B, on an int, float, normal, lognormal, exponential or poisson column",
            );
            return None;
        }
        Some(Tail {
            share: t.share,
            min: t.min,
            max: t.max,
        })
    });
    if c.over.is_some() && c.sql.is_none() {
        cx.err(
            span.clone(),
            format!("{key}.over"),
            "`over` goes with `sql`: an aggregate such as `sql = \"SUM(line_total)\", over = \"order_items\"`",
        );
    }
    if c.weight.is_some() {
        cx.err(
            span.clone(),
            format!("{key}.weight"),
            "`weight` belongs to a part of `gen = \"mixture\"`",
        );
    }
    if let (Some(t), ColumnKind::Gen(g)) = (declared_type, &kind)
        && let Some(natural) = g.natural_type()
        && !type_fits(natural, t.logical)
    {
        cx.err(
            span.clone(),
            format!("{key}.type"),
            format!(
                "this generator makes {} values, which cannot be stored as `{t}`",
                type_name(natural)
            ),
        );
    }
    let text_like = match (&kind, declared_type) {
        (_, Some(t)) => t.logical.is_textual(),
        (ColumnKind::Gen(g), None) => g.natural_type().is_some_and(|t| t.is_textual()),
        _ => true,
    };
    let empty_rate = match c.empty_rate {
        None => 0.0,
        Some(r) if (0.0..1.0).contains(&r) && text_like => r,
        Some(_) => {
            cx.err(
                span.clone(),
                format!("{key}.empty_rate"),
                "expected 0 <= empty_rate < 1 on a text column",
            );
            0.0
        }
    };
    let (ref_skew, ref_within) = match &kind {
        ColumnKind::Ref { table: rt, .. } => {
            let skew = c.skew.filter(|s| {
                let ok = *s > 0.0 && *s <= 10.0;
                if !ok {
                    cx.err(
                        span.clone(),
                        format!("{key}.skew"),
                        "expected 0 < skew <= 10",
                    );
                }
                ok
            });
            if let Some(w) = &c.within {
                let here = names.get(table).is_some_and(|cols| cols.contains(w));
                let there = names.get(rt).is_some_and(|cols| cols.contains(w));
                if !here || !there || rt == table {
                    cx.err(
                        span.clone(),
                        format!("{key}.within"),
                        format!("expected a column both `{table}` and `{rt}` have (`within = \"customer_id\"`), on a ref to another table"),
                    );
                }
            }
            if rt == table && skew.is_some() {
                cx.err(
                    span.clone(),
                    format!("{key}.skew"),
                    "a self-reference is always to an earlier row; `skew` does not apply",
                );
            }
            (skew, c.within.clone())
        }
        _ => {
            for (k, set) in [("skew", c.skew.is_some()), ("within", c.within.is_some())] {
                if set {
                    cx.err(
                        span.clone(),
                        format!("{key}.{k}"),
                        format!("`{k}` goes with `ref`"),
                    );
                }
            }
            (None, None)
        }
    };
    let db_name = c.db_name.clone();
    if let Some(d) = &db_name
        && let Err(e) = db_identifier(d)
    {
        cx.err(span.clone(), format!("{key}.db_name"), e);
    }
    let unique = c.unique.unwrap_or(false);
    if unique
        && let ColumnKind::Gen(g) = &kind
        && let Some(why) = cannot_be_unique(g)
    {
        cx.err(span.clone(), format!("{key}.unique"), why);
    }
    if unique && !matches!(kind, ColumnKind::Gen(_)) {
        cx.err(
            span.clone(),
            format!("{key}.unique"),
            "`unique` applies to generated columns; a link table's pair of `ref`s is kept distinct by `key = [\"a_id\", \"b_id\"]`",
        );
    }
    Column {
        line: line_col(cx.text, span.start).0,
        name,
        kind,
        pii: c.pii,
        mask,
        mask_options,
        pii_scan,
        gate,
        tail,
        null_rate,
        empty_rate,
        unique,
        declared_type,
        scenario_gens: Vec::new(),
        planted: Vec::new(),
        ref_skew,
        ref_within,
        db_name,
    }
}

/// Whether values a generator makes as `natural` can be stored as `declared`.
fn type_fits(natural: LogicalType, declared: LogicalType) -> bool {
    use LogicalType::*;
    natural == declared
        || matches!(
            (natural, declared),
            (Int, Float | Decimal)
                | (Float, Decimal)
                | (Timestamp, TimestampTz | Date)
                | (Uuid, Text)
        )
}

fn type_name(t: LogicalType) -> &'static str {
    match t {
        LogicalType::Bool => "boolean",
        LogicalType::Int => "integer",
        LogicalType::Float => "floating-point",
        LogicalType::Decimal => "decimal",
        LogicalType::Date => "date",
        LogicalType::Timestamp | LogicalType::TimestampTz => "timestamp",
        LogicalType::Text => "text",
        LogicalType::Uuid => "uuid",
    }
}

/// Why a generator cannot give every row a different value, if it cannot.
fn cannot_be_unique(g: &Generator) -> Option<String> {
    match g {
        Generator::Choice { values } => Some(format!(
            "gen = \"choice\" has {} values, so its rows repeat them; drop `unique`",
            values.len()
        )),
        Generator::Bool { .. }
        | Generator::Constant { .. }
        | Generator::Null
        | Generator::Discrete { .. }
        | Generator::Cases { .. }
        | Generator::Mixture { .. } => {
            Some("this generator repeats its values by design; drop `unique`".into())
        }
        _ => None,
    }
}

/// A generator from a column or a part: `gen` with the parameters it allows.
fn build_gen(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    table: &str,
    key: &str,
    span: &Range<usize>,
    c: &RawColumn,
) -> Generator {
    let set = params(c);
    let g = c.r#gen.clone().unwrap_or_default();
    // TOML allows inf and nan; no generator does.
    for (name, v) in [
        ("min", c.min),
        ("max", c.max),
        ("mean", c.mean),
        ("std", c.std),
        ("mu", c.mu),
        ("sigma", c.sigma),
        ("p", c.p),
        ("s", c.s),
        ("max_days", c.max_days),
    ] {
        if v.is_some_and(|x| !x.is_finite()) {
            cx.err(
                span.clone(),
                format!("{key}.{name}"),
                "expected a finite number (not inf or nan)",
            );
        }
    }
    match generator_params(&g) {
        None => {
            cx.err(
                span.clone(),
                format!("{key}.gen"),
                if g.is_empty() {
                    format!("expected `gen`, one of {GENERATORS}")
                } else {
                    format!(
                        "unknown generator `{g}`{}; expected one of {GENERATORS}",
                        did_you_mean(&g, GENERATORS.split(", ").map(str::trim))
                    )
                },
            );
            Generator::Sequence {
                start: 1,
                per: None,
            }
        }
        Some((allowed, required)) => {
            for p in &set {
                if !allowed.contains(p) {
                    let takes = if allowed.is_empty() {
                        "nothing".to_string()
                    } else {
                        allowed.join(", ")
                    };
                    cx.err(
                        span.clone(),
                        format!("{key}.{p}"),
                        format!("`{p}` does not apply to gen = \"{g}\"; it takes {takes}"),
                    );
                }
            }
            for p in required.iter() {
                if !set.contains(p) {
                    cx.err(
                        span.clone(),
                        format!("{key}.{p}"),
                        format!("gen = \"{g}\" needs `{p}`"),
                    );
                }
            }
            build_generator(cx, names, table, &g, key, span, c)
        }
    }
}

/// A part of a mixture or a case: a generator and nothing that belongs to the whole column.
fn build_part(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    table: &str,
    key: &str,
    part: &Spanned<RawColumn>,
) -> Generator {
    let span = part.span();
    let c = part.get_ref();
    for k in column_level_keys(c) {
        cx.err(
            span.clone(),
            format!("{key}.{k}"),
            format!("`{k}` belongs to the whole column, not to one part of it"),
        );
    }
    build_gen(cx, names, table, key, &span, c)
}

/// `by = "country"`, `cases = { US = { ... }, "GB|IE" = { ... }, "*" = { ... } }`.
#[allow(clippy::too_many_arguments)]
fn build_cases(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    table: &str,
    column: &str,
    key: &str,
    span: &Range<usize>,
    by: Option<&str>,
    raw: &indexmap::IndexMap<String, Spanned<RawColumn>>,
) -> Generator {
    let by = match by {
        Some(b) if b == column => {
            cx.err(
                span.clone(),
                format!("{key}.by"),
                "a column cannot depend on itself",
            );
            String::new()
        }
        Some(b) if names.get(table).is_some_and(|cols| cols.contains(b)) => b.to_string(),
        Some(b) => {
            cx.err(
                span.clone(),
                format!("{key}.by"),
                no_column(names, table, b),
            );
            String::new()
        }
        None => {
            cx.err(
                span.clone(),
                format!("{key}.by"),
                "`cases` needs `by = \"<column of the same table>\"`",
            );
            String::new()
        }
    };
    if raw.is_empty() {
        cx.err(
            span.clone(),
            format!("{key}.cases"),
            "expected at least one case",
        );
    }
    let mut cases = Vec::new();
    let mut default = None;
    for (values, part) in raw {
        let pkey = format!("{key}.cases.{values}");
        let g = build_part(cx, names, table, &pkey, part);
        if matches!(g, Generator::Cases { .. }) {
            cx.err(part.span(), pkey.clone(), "cases cannot nest");
        }
        if values == "*" {
            default = Some(Box::new(g));
        } else {
            cases.push((values.split('|').map(str::to_string).collect(), g));
        }
    }
    let g = Generator::Cases { by, cases, default };
    if let Generator::Cases { cases, default, .. } = &g {
        let mut parts = cases.iter().map(|(_, g)| g).chain(default.as_deref());
        if let Some(first) = parts.by_ref().find_map(|g| g.natural_type())
            && parts.any(|g| g.natural_type().is_some_and(|t| !types_agree(first, t)))
        {
            cx.err(
                span.clone(),
                format!("{key}.cases"),
                "every case must make values of one type (null adapts)",
            );
        }
    }
    g
}

/// `gate = { ... }` on a table or a column: shares between 0 and 1, counts as they are.
fn gate_override(
    cx: &mut Ctx<'_>,
    span: &Range<usize>,
    key: &str,
    raw: Option<&super::raw::RawGateOverride>,
) -> GateOverride {
    let Some(r) = raw else {
        return GateOverride::default();
    };
    let mut share = |name: &str, v: Option<f64>| -> Option<f64> {
        let v = v?;
        if (0.0..=1.0).contains(&v) || (name == "psi" && v >= 0.0 && v.is_finite()) {
            Some(v)
        } else {
            cx.err(
                span.clone(),
                format!("{key}.{name}"),
                "expected a share between 0 and 1",
            );
            None
        }
    };
    GateOverride {
        ks: share("ks", r.ks),
        psi: share("psi", r.psi),
        js: share("js", r.js),
        unseen_share: share("unseen_share", r.unseen_share),
        unseen_shape_share: share("unseen_shape_share", r.unseen_shape_share),
        encoding_anomalies: r.encoding_anomalies,
        null_rate_delta: share("null_rate_delta", r.null_rate_delta),
        range_share: share("range_share", r.range_share),
        correlation: share("correlation", r.correlation),
        min_support: r.min_support,
    }
}

fn build_generator(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    table: &str,
    g: &str,
    key: &str,
    span: &Range<usize>,
    c: &RawColumn,
) -> Generator {
    let mut check = |ok: bool, what: &str, msg: &str| {
        if !ok {
            cx.err(span.clone(), format!("{key}.{what}"), msg.to_string());
        }
    };
    match g {
        "sequence" => {
            if let Some(p) = &c.per
                && !names.get(table).is_some_and(|cols| cols.contains(p))
            {
                cx.err(
                    span.clone(),
                    format!("{key}.per"),
                    no_column(names, table, p),
                );
            }
            Generator::Sequence {
                start: c.start.unwrap_or(1),
                per: c.per.clone(),
            }
        }
        "int" => {
            let (min, max) = (c.min.unwrap_or(0.0), c.max.unwrap_or(0.0));
            check(
                min.fract() == 0.0 && max.fract() == 0.0,
                "min",
                "gen = \"int\" needs whole numbers",
            );
            check(
                c.min.is_none() || c.max.is_none() || min <= max,
                "max",
                "expected min <= max",
            );
            Generator::Int {
                min: min as i64,
                max: max as i64,
            }
        }
        "float" => {
            let (min, max) = (c.min.unwrap_or(0.0), c.max.unwrap_or(1.0));
            check(min < max, "max", "expected min < max");
            Generator::Float {
                min,
                max,
                round: c.round,
            }
        }
        "normal" => {
            let std = c.std.unwrap_or(1.0);
            check(std > 0.0, "std", "expected std > 0");
            check_bounds(cx, key, span, c.min, c.max);
            Generator::Normal {
                mean: c.mean.unwrap_or(0.0),
                std,
                min: c.min,
                max: c.max,
                round: c.round,
            }
        }
        "lognormal" => {
            let sigma = c.sigma.unwrap_or(1.0);
            check(sigma > 0.0, "sigma", "expected sigma > 0");
            check_bounds(cx, key, span, c.min, c.max);
            Generator::LogNormal {
                mu: c.mu.unwrap_or(0.0),
                sigma,
                min: c.min,
                max: c.max,
                round: c.round,
            }
        }
        "choice" => {
            let values: Vec<(String, f64)> =
                c.values.clone().unwrap_or_default().into_iter().collect();
            check(!values.is_empty(), "values", "expected at least one value");
            check(
                values.iter().all(|(_, w)| *w > 0.0 && w.is_finite()),
                "values",
                "expected every weight > 0",
            );
            Generator::Choice { values }
        }
        "timestamp" => match (&c.from, &c.to, &c.after) {
            (Some(from), Some(to), None) => {
                let (f, t) = (parse_timestamp(from), parse_timestamp(to));
                check(
                    f.is_some(),
                    "from",
                    "expected a date `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`",
                );
                check(
                    t.is_some(),
                    "to",
                    "expected a date `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`",
                );
                let (f, t) = (f.unwrap_or(0), t.unwrap_or(1));
                check(f < t, "to", "expected from < to");
                check(
                    c.max_days.is_none() && c.min_after.is_none() && c.max_after.is_none(),
                    "max_days",
                    "`max_days`, `min_after` and `max_after` go with `after`, not with `from`/`to`",
                );
                let snap = c.snap.as_deref().and_then(|sn| {
                    let parsed = Snap::parse(sn);
                    check(
                        parsed.is_some(),
                        "snap",
                        &format!("unknown snap `{sn}`; expected one of {}", Snap::NAMES),
                    );
                    parsed
                });
                Generator::Timestamp {
                    from: f,
                    to: t,
                    snap,
                }
            }
            (None, None, Some(after)) => {
                let offset = |cx: &mut Ctx<'_>, name: &str, v: &Option<String>| {
                    v.as_deref().and_then(|d| {
                        let us = parse_duration(d);
                        if us.is_none() {
                            cx.err(
                                span.clone(),
                                format!("{key}.{name}"),
                                format!("expected a duration such as \"90 minutes\", \"12h\", \"2 days\" or \"1w\" (got `{d}`)"),
                            );
                        }
                        us
                    })
                };
                let min_us = offset(cx, "min_after", &c.min_after).unwrap_or(0);
                let max_us = match (c.max_days, offset(cx, "max_after", &c.max_after)) {
                    (Some(d), None) if d > 0.0 && d < 1e6 => (d * 86_400e6) as i64,
                    (None, Some(us)) if us > 0 => us,
                    _ => {
                        cx.err(
                            span.clone(),
                            format!("{key}.max_after"),
                            "`after` needs exactly one of `max_after = \"<duration>\"` or `max_days` > 0",
                        );
                        1
                    }
                };
                if min_us > max_us {
                    cx.err(
                        span.clone(),
                        format!("{key}.min_after"),
                        "expected min_after <= max_after",
                    );
                }
                let (t, col) = match after.split_once('.') {
                    Some((t, col)) => (Some(t.to_string()), col),
                    None => (None, after.as_str()),
                };
                let ok = match &t {
                    Some(t) => names.get(t).is_some_and(|cols| cols.contains(col)) && t != table,
                    None => names.get(table).is_some_and(|cols| cols.contains(col)),
                };
                if !ok {
                    cx.err(
                        span.clone(),
                        format!("{key}.after"),
                        "expected a column of the same table (`placed_at`) or `table.column` of a table this one references",
                    );
                }
                Generator::TimestampAfter {
                    table: t,
                    column: col.into(),
                    min_us,
                    max_us,
                }
            }
            _ => {
                check(
                    false,
                    "from",
                    "gen = \"timestamp\" needs `from` and `to`, or `after` with `max_after` (or `max_days`)",
                );
                Generator::Timestamp {
                    from: 0,
                    to: 1,
                    snap: None,
                }
            }
        },
        "person_name" => Generator::PersonName {
            locales: locales(cx, key, span, c, false),
            part: match c.part.as_deref() {
                None | Some("full") => NamePart::Full,
                Some("first") => NamePart::First,
                Some("last") => NamePart::Last,
                Some(other) => {
                    cx.err(
                        span.clone(),
                        format!("{key}.part"),
                        format!("unknown part `{other}`; expected full, first or last"),
                    );
                    NamePart::Full
                }
            },
        },
        "email" => {
            if let Some(n) = &c.name_from
                && !names.get(table).is_some_and(|cols| cols.contains(n))
            {
                cx.err(
                    span.clone(),
                    format!("{key}.name_from"),
                    no_column(names, table, n),
                );
            }
            let formats: Vec<(String, f64)> = c
                .formats
                .iter()
                .flatten()
                .map(|(f, w)| (f.clone(), *w))
                .collect();
            let ok = formats.iter().all(|(f, w)| {
                *w > 0.0
                    && w.is_finite()
                    && f.replace("{first}", "")
                        .replace("{last}", "")
                        .replace("{f}", "")
                        .replace("{l}", "")
                        .replace("{nn}", "")
                        .replace("{nnnn}", "")
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "._-+".contains(ch))
            });
            if !ok {
                cx.err(
                    span.clone(),
                    format!("{key}.formats"),
                    "expected e-mail local parts from {first}, {last}, {f}, {l}, {nn}, {nnnn} and . _ - + (`{ \"{first}.{last}\" = 0.7, \"{f}{last}{nn}\" = 0.3 }`), weights > 0",
                );
            }
            if !formats.is_empty() && c.name_from.is_none() {
                cx.err(
                    span.clone(),
                    format!("{key}.formats"),
                    "`formats` of an e-mail needs `name_from`, the name column the address is made from",
                );
            }
            Generator::Email {
                domain: c.domain.clone().unwrap_or_else(|| "example.com".into()),
                name_from: c.name_from.clone(),
                formats,
            }
        }
        "phone" => Generator::Phone {
            locales: locales(cx, key, span, c, true),
            e164: match c.style.as_deref() {
                None | Some("national") => false,
                Some("e164") => true,
                Some(other) => {
                    cx.err(
                        span.clone(),
                        format!("{key}.style"),
                        format!("unknown style `{other}`; expected national or e164"),
                    );
                    false
                }
            },
        },
        "city" | "street_address" | "postcode" | "company" => Generator::Place {
            kind: match g {
                "city" => PlaceKind::City,
                "street_address" => PlaceKind::StreetAddress,
                "postcode" => PlaceKind::Postcode,
                _ => PlaceKind::Company,
            },
            locales: locales(cx, key, span, c, true),
        },
        "pattern" => {
            let formats: Vec<(String, f64)> = match (&c.format, &c.formats) {
                (Some(f), None) => vec![(f.clone(), 1.0)],
                (None, Some(fs)) => fs.iter().map(|(f, w)| (f.clone(), *w)).collect(),
                _ => {
                    check(
                        false,
                        "format",
                        "gen = \"pattern\" needs exactly one of `format = \"...\"` or `formats = { \"...\" = weight, ... }`",
                    );
                    vec![("#".into(), 1.0)]
                }
            };
            check(
                !formats.is_empty() && formats.iter().all(|(f, _)| !f.is_empty()),
                "format",
                "expected a non-empty pattern such as \"+1-###-###-####\"",
            );
            check(
                formats.iter().all(|(_, w)| *w > 0.0 && w.is_finite()),
                "formats",
                "expected every weight > 0",
            );
            check(
                formats
                    .iter()
                    .all(|(f, _)| !f.ends_with('\\') || f.ends_with("\\\\")),
                "format",
                "a trailing `\\` escapes nothing; write `\\\\` for a literal backslash",
            );
            Generator::Pattern { formats }
        }
        "exponential" => {
            let mean = c.mean.unwrap_or(1.0);
            check(mean > 0.0 && mean.is_finite(), "mean", "expected mean > 0");
            check_bounds(cx, key, span, c.min, c.max);
            Generator::Exponential {
                mean,
                min: c.min,
                max: c.max,
                round: c.round,
            }
        }
        "poisson" => {
            let mean = c.mean.unwrap_or(1.0);
            check(
                mean > 0.0 && mean <= 1e9,
                "mean",
                "expected 0 < mean <= 1e9",
            );
            check_bounds(cx, key, span, c.min, c.max);
            Generator::Poisson {
                mean,
                min: c.min,
                max: c.max,
            }
        }
        "geometric" => {
            let p = c.p.unwrap_or(0.5);
            check(p > 0.0 && p <= 1.0, "p", "expected 0 < p <= 1");
            Generator::Geometric { p }
        }
        "zipf" => {
            let n = c.n.unwrap_or(1);
            let s = c.s.unwrap_or(1.0);
            check((1..=1 << 40).contains(&n), "n", "expected 1 <= n <= 2^40");
            check(s >= 0.0 && s.is_finite(), "s", "expected s >= 0");
            Generator::Zipf { n, s }
        }
        "discrete" => {
            let mut values = Vec::new();
            for (v, w) in c.values.clone().unwrap_or_default() {
                match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => values.push((x, w)),
                    _ => check(
                        false,
                        "values",
                        &format!(
                            "`{v}` is not a number; gen = \"discrete\" takes numbers with weights (`{{ 1 = 0.5, 2 = 0.5 }}`; use gen = \"choice\" for text)"
                        ),
                    ),
                }
            }
            check(!values.is_empty(), "values", "expected at least one value");
            check(
                values.iter().all(|(_, w)| *w > 0.0 && w.is_finite()),
                "values",
                "expected every weight > 0",
            );
            Generator::Discrete { values }
        }
        "bool" => {
            let p = c.p.unwrap_or(0.5);
            check(
                (0.0..=1.0).contains(&p),
                "p",
                "expected the share of `true`, 0 <= p <= 1",
            );
            Generator::Bool { p }
        }
        "uuid" => Generator::Uuid,
        "null" => Generator::Null,
        "constant" => {
            let value = c.value.as_ref().and_then(constant);
            check(
                value.is_some(),
                "value",
                "expected a boolean, a number or a string",
            );
            Generator::Constant {
                value: value.unwrap_or(Constant::Int(0)),
            }
        }
        "list" => {
            let items: Vec<Option<Constant>> = c.items.iter().flatten().map(constant).collect();
            check(
                !items.is_empty() && items.iter().all(Option::is_some),
                "items",
                "expected a non-empty list of booleans, numbers or strings",
            );
            let items: Vec<Constant> = items.into_iter().flatten().collect();
            let kinds = |c: &Constant| match c {
                Constant::Bool(_) => 0,
                Constant::Int(_) | Constant::Float(_) => 1,
                Constant::Text(_) => 2,
            };
            check(
                items.windows(2).all(|w| kinds(&w[0]) == kinds(&w[1])),
                "items",
                "expected items of one kind: all booleans, all numbers or all strings",
            );
            Generator::List { items }
        }
        "regex" => {
            let regex = c.regex.clone().unwrap_or_default();
            if let Err(e) = regex_error(&regex) {
                check(false, "regex", &e);
            }
            Generator::Regex { regex }
        }
        "words" => {
            let (min, max) = (c.min.unwrap_or(1.0), c.max.unwrap_or(12.0));
            check(
                min.fract() == 0.0
                    && max.fract() == 0.0
                    && min >= 0.0
                    && min <= max
                    && max <= 10_000.0,
                "min",
                "expected whole numbers of words 0 <= min <= max <= 10000",
            );
            Generator::Words {
                min: min as u32,
                max: max as u32,
            }
        }
        "mixture" => {
            let parts_raw = c.of.as_deref().unwrap_or_default();
            check(
                !parts_raw.is_empty(),
                "of",
                "expected `of = [ { weight = W, gen = ... }, ... ]`",
            );
            let mut parts = Vec::new();
            for (i, part) in parts_raw.iter().enumerate() {
                let pkey = format!("{key}.of[{i}]");
                let w = part.get_ref().weight;
                if !w.is_some_and(|w| w > 0.0 && w.is_finite()) {
                    cx.err(
                        part.span(),
                        format!("{pkey}.weight"),
                        "each part needs `weight` > 0",
                    );
                }
                let g = build_part(cx, names, table, &pkey, part);
                if matches!(g, Generator::Mixture { .. }) {
                    cx.err(
                        part.span(),
                        pkey,
                        "mixtures cannot nest; list every part in one `of`",
                    );
                }
                parts.push((w.unwrap_or(1.0), g));
            }
            let g = Generator::Mixture { parts };
            if let Generator::Mixture { parts } = &g {
                let mut types = parts.iter().filter_map(|(_, g)| g.natural_type());
                if let Some(first) = types.next()
                    && types.any(|t| !types_agree(first, t))
                {
                    cx.err(
                        span.clone(),
                        format!("{key}.of"),
                        "every part must make values of one type (ints and floats mix; null adapts)",
                    );
                }
            }
            g
        }
        _ => unreachable!("generator_params knows every name"),
    }
}

/// `locale = "de_DE"` or `locales = { de_DE = 0.6, fr_FR = 0.4 }`; `needed`: en_US when
/// neither is given (`person_name` keeps its built-in lists then).
fn locales(
    cx: &mut Ctx<'_>,
    key: &str,
    span: &Range<usize>,
    c: &RawColumn,
    needed: bool,
) -> Vec<(String, f64)> {
    let list: Vec<(String, f64)> = match (&c.locale, &c.locales) {
        (Some(l), None) => vec![(l.clone(), 1.0)],
        (None, Some(ls)) => ls.iter().map(|(l, w)| (l.clone(), *w)).collect(),
        (None, None) if needed => vec![("en_US".into(), 1.0)],
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => {
            cx.err(
                span.clone(),
                format!("{key}.locale"),
                "expected one of `locale` or `locales`",
            );
            Vec::new()
        }
    };
    for (l, w) in &list {
        if crate::generate::locale::get(l).is_none() {
            cx.err(
                span.clone(),
                format!("{key}.locales"),
                format!(
                    "unknown locale `{l}`{}; expected one of {}",
                    did_you_mean(l, crate::generate::locale::CODES.split(", ")),
                    crate::generate::locale::CODES
                ),
            );
        }
        if !(*w > 0.0 && w.is_finite()) {
            cx.err(
                span.clone(),
                format!("{key}.locales"),
                "expected every weight > 0",
            );
        }
    }
    list
}

/// A TOML value as a constant: a boolean, a finite number or a string.
fn constant(v: &toml::Value) -> Option<Constant> {
    Some(match v {
        toml::Value::Boolean(b) => Constant::Bool(*b),
        toml::Value::Integer(i) => Constant::Int(*i),
        toml::Value::Float(f) if f.is_finite() => Constant::Float(*f),
        toml::Value::String(t) => Constant::Text(t.clone()),
        _ => return None,
    })
}

/// Why `rand_regex` cannot generate from a regular expression, if it cannot.
fn regex_error(regex: &str) -> Result<(), String> {
    if regex.is_empty() {
        return Err("expected a regular expression such as \"(ORD|INV)-[0-9]{6}\"".into());
    }
    if regex.len() > 1000 {
        return Err("expected a regular expression of at most 1000 characters".into());
    }
    let re = rand_regex::Regex::compile(regex, 32).map_err(|e| {
        format!("cannot generate from this regular expression: {e} (anchors, look-arounds and back-references are not supported)")
    })?;
    // A bounded repetition can still ask for huge values: try a few.
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for _ in 0..8 {
        if rng.sample::<String, _>(&re).len() > 10_000 {
            return Err("this regular expression makes values longer than 10000 characters".into());
        }
    }
    Ok(())
}

fn check_bounds(
    cx: &mut Ctx<'_>,
    key: &str,
    span: &Range<usize>,
    min: Option<f64>,
    max: Option<f64>,
) {
    if let (Some(a), Some(b)) = (min, max)
        && a >= b
    {
        cx.err(span.clone(), format!("{key}.max"), "expected min < max");
    }
}

/// `after = "orders.placed_at"` needs a path to a row of `orders`: the table's `rows_per` parent
/// or one of its `ref` columns; `after = "placed_at"` a timestamp column of the same table.
/// Columns that depend on columns of their own row (`after`, `by`) must not form a cycle.
fn check_after_links(cx: &mut Ctx<'_>, tables: &[(Range<usize>, Table)]) {
    let mut problems = Vec::new();
    let is_timestamp = |c: &Column| matches!(&c.kind, ColumnKind::Gen(g) if g.natural_type() == Some(LogicalType::Timestamp));
    for (span, t) in tables {
        for c in &t.columns {
            let ColumnKind::Gen(g) = &c.kind else {
                continue;
            };
            let key = format!("tables.{}.columns.{}", t.name, c.name);
            for part in g.walk() {
                let Generator::TimestampAfter { table, column, .. } = part else {
                    continue;
                };
                let target = match table {
                    Some(table) => {
                        let via_parent = matches!(&t.rows, RowCount::PerParent { parent, .. } if parent == table);
                        let via_ref = t.references().any(|(_, rt, _)| rt == table);
                        if !via_parent && !via_ref && !table.is_empty() {
                            problems.push((
                                span.clone(),
                                format!("{key}.after"),
                                format!(
                                    "`{}` has no `ref` to `{table}`, so no row of it to be after",
                                    t.name
                                ),
                            ));
                        }
                        tables
                            .iter()
                            .find(|(_, x)| &x.name == table)
                            .and_then(|(_, x)| x.column(column))
                    }
                    None => t.column(column),
                };
                if let Some(target) = target
                    && !is_timestamp(target)
                {
                    problems.push((
                        span.clone(),
                        format!("{key}.after"),
                        format!("`{column}` is not a generated timestamp column"),
                    ));
                }
            }
            if let Generator::Cases { by, .. } = g
                && let Some(b) = t.column(by)
                && matches!(b.kind, ColumnKind::Derived { .. })
            {
                problems.push((
                    span.clone(),
                    format!("{key}.by"),
                    format!("`{by}` is a `sql` column, computed after generation; `by` needs a generated or `ref` column"),
                ));
            }
        }
        if let Err(cycle) = row_order(t) {
            problems.push((
                span.clone(),
                format!("tables.{}", t.name),
                format!(
                    "columns depend on each other in a cycle (through `after` or `by`): {}",
                    cycle.join(", ")
                ),
            ));
        }
    }
    for (s, k, m) in problems {
        cx.err(s, k, m);
    }
}

/// The columns of a row a generated column needs first: `by` and same-row `after`.
pub fn row_dependencies(g: &Generator) -> Vec<&str> {
    let mut out = Vec::new();
    for part in g.walk() {
        match part {
            Generator::Cases { by, .. } => out.push(by.as_str()),
            Generator::Email {
                name_from: Some(n), ..
            } => out.push(n.as_str()),
            Generator::Sequence { per: Some(p), .. } => out.push(p.as_str()),
            Generator::TimestampAfter {
                table: None,
                column,
                ..
            } => out.push(column.as_str()),
            _ => {}
        }
    }
    out
}

/// Generated columns of a table in an order where each comes after the columns of its row it
/// depends on; the columns of a cycle otherwise.
pub fn row_order(t: &Table) -> Result<Vec<&Column>, Vec<String>> {
    let gens: Vec<&Column> = t
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnKind::Gen(_)))
        .collect();
    let deps = |c: &Column| -> Vec<String> {
        match &c.kind {
            ColumnKind::Gen(g) => row_dependencies(g)
                .into_iter()
                .filter(|d| gens.iter().any(|x| x.name == *d))
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    };
    let mut done: Vec<&Column> = Vec::new();
    let mut pending = gens.clone();
    while !pending.is_empty() {
        match pending
            .iter()
            .position(|c| deps(c).iter().all(|d| done.iter().any(|x| &x.name == d)))
        {
            Some(i) => done.push(pending.remove(i)),
            None => return Err(pending.iter().map(|c| c.name.clone()).collect()),
        }
    }
    Ok(done)
}

/// `rows_per = { parent = "orders", dist = ..., by = "status", cases = { ... } }`.
fn build_rows_per(
    cx: &mut Ctx<'_>,
    names: &BTreeMap<String, BTreeSet<String>>,
    tkey: &str,
    rp: Spanned<super::raw::RawRowsPer>,
) -> RowCount {
    let span = rp.span();
    let rp = rp.into_inner();
    let key = format!("{tkey}.rows_per");
    let parent = rp.parent.clone().unwrap_or_default();
    if format!("tables.{parent}") == tkey {
        cx.err(
            span.clone(),
            format!("{key}.parent"),
            "a table cannot be its own `rows_per` parent; a `ref` to itself makes a hierarchy",
        );
    }
    if rp.parent.is_none() {
        cx.err(
            span.clone(),
            format!("{key}.parent"),
            "expected `parent = \"<table>\"`",
        );
    } else if !names.contains_key(&parent) {
        cx.err(
            span.clone(),
            format!("{key}.parent"),
            format!("no table `{parent}` in this spec"),
        );
    }
    let dist = per_parent_dist(cx, &span, &key, &rp);
    let mut cases = Vec::new();
    match (&rp.by, &rp.cases) {
        (None, None) => {}
        (Some(by), Some(raw)) => {
            if names.get(&parent).is_some_and(|cols| !cols.contains(by)) {
                cx.err(
                    span.clone(),
                    format!("{key}.by"),
                    no_column(names, &parent, by),
                );
            }
            for (values, case) in raw {
                let ckey = format!("{key}.cases.{values}");
                let cspan = case.span();
                let c = case.get_ref();
                if c.parent.is_some() || c.by.is_some() || c.cases.is_some() {
                    cx.err(
                        cspan.clone(),
                        ckey.clone(),
                        "a case takes a distribution only (`dist` and its parameters)",
                    );
                }
                let d = per_parent_dist(cx, &cspan, &ckey, c);
                cases.push((values.split('|').map(str::to_string).collect(), d));
            }
        }
        _ => cx.err(
            span.clone(),
            format!("{key}.cases"),
            "`by` and `cases` go together: `by = \"<parent column>\", cases = { VALUE = { dist = ... } }`",
        ),
    }
    RowCount::PerParent {
        parent,
        dist,
        by: rp.by,
        cases,
    }
}

fn per_parent_dist(
    cx: &mut Ctx<'_>,
    span: &Range<usize>,
    key: &str,
    rp: &super::raw::RawRowsPer,
) -> PerParentDist {
    let mut err = |k: &str, m: &str| cx.err(span.clone(), format!("{key}.{k}"), m.to_string());
    match rp.dist.as_deref().unwrap_or("") {
        "poisson" => match rp.mean {
            Some(m) if m > 0.0 && m <= 1e6 => {
                if rp.min.is_some() {
                    err(
                        "min",
                        "dist = \"poisson\" takes `mean` and an optional cap `max`",
                    );
                }
                PerParentDist::Poisson {
                    mean: m,
                    max: rp.max,
                }
            }
            _ => {
                err("mean", "dist = \"poisson\" needs 0 < `mean` <= 1e6");
                PerParentDist::Poisson {
                    mean: 1.0,
                    max: None,
                }
            }
        },
        "uniform" => match (rp.min, rp.max) {
            (Some(a), Some(b)) if a <= b && b <= 1_000_000 => {
                PerParentDist::Uniform { min: a, max: b }
            }
            _ => {
                err(
                    "max",
                    "dist = \"uniform\" needs integers 0 <= `min` <= `max` <= 1000000",
                );
                PerParentDist::Uniform { min: 0, max: 0 }
            }
        },
        "weighted" => {
            let mut values = Vec::new();
            for (k, w) in rp.values.clone().unwrap_or_default() {
                match k.trim().parse::<u64>() {
                    Ok(n) if n <= 1_000_000 && w > 0.0 && w.is_finite() => values.push((n, w)),
                    _ => err(
                        "values",
                        &format!(
                            "expected whole counts (<= 1000000) with weights > 0 (`{{ 0 = 0.1, 1 = 0.6, 2 = 0.3 }}`), got `{k}`"
                        ),
                    ),
                }
            }
            if values.is_empty() {
                err(
                    "values",
                    "dist = \"weighted\" needs `values = { COUNT = weight, ... }`",
                );
                values.push((0, 1.0));
            }
            PerParentDist::Weighted { values }
        }
        other => {
            err(
                "dist",
                &format!(
                    "unknown distribution `{other}`; expected `poisson`, `uniform` or `weighted`"
                ),
            );
            PerParentDist::Poisson {
                mean: 1.0,
                max: None,
            }
        }
    }
}

/// Orders tables so each comes after every table it references; a cycle is an error.
fn order_tables(cx: &mut Ctx<'_>, tables: Vec<(Range<usize>, Table)>) -> Vec<Table> {
    let deps = |t: &Table| -> BTreeSet<String> {
        let mut d: BTreeSet<String> = t.references().map(|(_, rt, _)| rt.to_string()).collect();
        if let RowCount::PerParent { parent, .. } = &t.rows {
            d.insert(parent.clone());
        }
        d.remove(&t.name);
        d
    };
    let mut pending = tables;
    let mut done: Vec<Table> = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|(_, t)| {
            deps(t).iter().all(|d| {
                done.iter().any(|x| &x.name == d) || !pending.iter().any(|(_, p)| &p.name == d)
            })
        });
        match ready {
            Some(i) => done.push(pending.remove(i).1),
            None => {
                let names: Vec<_> = pending.iter().map(|(_, t)| t.name.as_str()).collect();
                let span = pending[0].0.clone();
                cx.err(
                    span,
                    "tables",
                    format!(
                        "tables reference each other in a cycle: {}",
                        names.join(", ")
                    ),
                );
                done.extend(pending.drain(..).map(|(_, t)| t));
            }
        }
    }
    done
}

fn build_gate(cx: &mut Ctx<'_>, raw: Option<Spanned<super::raw::RawGate>>) -> Gate {
    let mut g = Gate::default();
    let Some(raw) = raw else { return g };
    let span = raw.span();
    let raw = raw.into_inner();
    let mut share = |name: &str, v: Option<f64>, slot: &mut f64| {
        if let Some(v) = v {
            if (0.0..=1.0).contains(&v) {
                *slot = v;
            } else {
                cx.err(
                    span.clone(),
                    format!("gate.{name}"),
                    "expected a share between 0 and 1",
                );
            }
        }
    };
    if let Some(n) = raw.numeric {
        share("numeric.ks", n.ks, &mut g.ks);
        if let Some(p) = n.psi {
            g.psi = p.max(0.0);
        }
    }
    if let Some(c) = raw.categorical {
        share("categorical.js", c.js, &mut g.js);
        share(
            "categorical.unseen_share",
            c.unseen_share,
            &mut g.unseen_share,
        );
    }
    if let Some(t) = raw.text {
        share(
            "text.unseen_shape_share",
            t.unseen_shape_share,
            &mut g.unseen_shape_share,
        );
        if let Some(n) = t.encoding_anomalies {
            g.encoding_anomalies = n;
        }
    }
    share(
        "null_rate_delta",
        raw.null_rate_delta,
        &mut g.null_rate_delta,
    );
    share("range_share", raw.range_share, &mut g.range_share);
    if let Some(n) = raw.min_support {
        g.min_support = n;
    }
    share("correlation", raw.correlation, &mut g.correlation);
    let mut alpha = g.alpha;
    share("alpha", raw.alpha, &mut alpha);
    if alpha <= 0.0 || alpha >= 1.0 {
        cx.err(span, "gate.alpha", "expected 0 < alpha < 1");
    } else {
        g.alpha = alpha;
    }
    g
}

/// The first table named after `FROM` in a query (quotes stripped), if any.
fn first_table(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let mut words = lower.split_whitespace().zip(sql.split_whitespace());
    words.find(|(w, _)| *w == "from")?;
    let (_, t) = words.next()?;
    let t = t.trim_matches(|c: char| c == '"' || c == '`' || c == '(' || c == ')' || c == ',');
    (!t.is_empty()).then(|| t.to_string())
}

fn parse_mask(m: &str) -> Option<MaskMethod> {
    Some(match m {
        "keep" => MaskMethod::Keep,
        "hash" => MaskMethod::Hash,
        "hash_email" => MaskMethod::HashEmail,
        "pseudonym" => MaskMethod::Pseudonym,
        "format_preserving" => MaskMethod::FormatPreserving,
        "generalize" => MaskMethod::Generalize,
        "shift_dates" => MaskMethod::ShiftDates,
        "redact" | "null" => MaskMethod::Redact,
        _ => return None,
    })
}

/// Table and column names go into SQL for three databases: letters, digits and `_` only.
/// Any name a database allows, as long as it can be quoted: not empty, no NUL, at most 128
/// characters.
pub(crate) fn db_identifier(s: &str) -> Result<(), String> {
    if s.is_empty() || s.contains('\0') || s.chars().count() > 128 {
        Err("expected a database name of 1 to 128 characters without NUL".into())
    } else {
        Ok(())
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match Spec::parse(Path::new("t.toml"), text) {
            Ok(_) => vec![],
            Err(e) => e.errors.iter().map(|e| e.to_string()).collect(),
        }
    }

    const BASE: &str = "[domain]\nname = \"d\"\nseed = 1\n[tables.a]\nrows = 3\n[tables.a.columns]\nid = { gen = \"sequence\" }\n";

    #[test]
    fn base_parses() {
        assert!(errors(BASE).is_empty());
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let e = errors(&format!(
            "{BASE}x = {{ gen = \"int\", min = 1, max = 2, bogus = 3 }}\n"
        ));
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("t.toml:8:"), "{e:?}");
        assert!(e[0].contains("bogus"), "{e:?}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = format!(
            "{BASE}x = {{ gen = \"int\", min = 1 }}\ny = {{ gen = \"choice\", values = {{ A = 1 }}, mu = 2 }}\nz = {{ ref = \"nope.id\" }}\nw = {{ gen = \"email\", pii = \"email\" }}\n"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 4, "{e:#?}");
        assert!(
            e[0].contains("t.toml:8:")
                && e[0].contains("columns.x.max")
                && e[0].contains("needs `max`")
        );
        assert!(
            e[1].contains("t.toml:9:") && e[1].contains("`mu` does not apply to gen = \"choice\"")
        );
        assert!(e[2].contains("t.toml:10:") && e[2].contains("nope.id"));
        assert!(e[3].contains("t.toml:11:") && e[3].contains("needs a `mask`"));
    }

    #[test]
    fn cycles_and_bad_after_are_errors() {
        let text = "[domain]\nname = \"d\"\nseed = 1\n[tables.a]\nrows = 1\n[tables.a.columns]\nid = { gen = \"sequence\" }\nb = { ref = \"b.id\" }\n[tables.b]\nrows = 1\n[tables.b.columns]\nid = { gen = \"sequence\" }\na = { ref = \"a.id\" }\nt = { gen = \"timestamp\", after = \"a.id\", max_days = 3 }\n";
        let e = errors(text);
        assert!(e.iter().any(|e| e.contains("cycle")), "{e:#?}");
        assert!(
            e.iter()
                .any(|e| e.contains("not a generated timestamp column")),
            "{e:#?}"
        );
    }

    #[test]
    fn rules_know_their_table() {
        assert_eq!(
            first_table("SELECT r.id FROM refunds r JOIN orders o ON r.order_id = o.id"),
            Some("refunds".into())
        );
        assert_eq!(
            first_table("select id from \"a\" where x"),
            Some("a".into())
        );
        assert_eq!(first_table("SELECT 1"), None);
        let e = errors(&format!(
            "{BASE}[[rules]]\nname = \"r\"\nsql = \"SELECT 1\"\n"
        ));
        assert!(e.iter().any(|e| e.contains("rules[0].table")), "{e:?}");
    }

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_timestamp("1970-01-02"), Some(86_400_000_000));
        assert_eq!(parse_timestamp("1970-01-01 00:00:01.5"), Some(1_500_000));
        assert_eq!(parse_timestamp("1970-01-01T00:01:00Z"), Some(60_000_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    }
}
