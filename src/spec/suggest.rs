//! `suggested-spec.toml`: the user's spec with every suggested change applied, comments and
//! layout kept (toml_edit), plus a line diff, so a spec gap found in production becomes a
//! reviewable edit of the spec. Takes the spec's text and the findings' [`SpecChange`]s; gives
//! text. It never writes the user's spec itself.

use toml_edit::{DocumentMut, InlineTable, Item, TableLike, Value};

use crate::compare::SpecChange;

/// The spec text with the changes applied; changes that do not fit the spec (a column that is
/// not a `choice`, say) are skipped and listed in the second value.
pub fn apply(text: &str, changes: &[SpecChange]) -> anyhow::Result<(String, Vec<String>)> {
    let mut doc: DocumentMut = text.parse()?;
    let mut skipped = Vec::new();
    for c in changes {
        if let Err(why) = apply_one(&mut doc, c) {
            skipped.push(why);
        }
    }
    Ok((doc.to_string(), skipped))
}

/// `tables.<table>.columns`, without creating anything on the way (indexing would).
fn columns<'a>(doc: &'a mut DocumentMut, table: &str) -> Option<&'a mut dyn TableLike> {
    doc.as_table_mut()
        .get_mut("tables")?
        .as_table_like_mut()?
        .get_mut(table)?
        .as_table_like_mut()?
        .get_mut("columns")?
        .as_table_like_mut()
}

fn column<'a>(
    doc: &'a mut DocumentMut,
    table: &str,
    column: &str,
) -> Result<&'a mut dyn TableLike, String> {
    columns(doc, table)
        .and_then(|c| c.get_mut(column))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("tables.{table}.columns.{column} is not a table in the spec"))
}

fn number(x: f64, integer: bool) -> Value {
    if integer && x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

/// Adds formats with their production shares to a pattern's `format`/`formats`.
fn add_formats(cell: &mut dyn TableLike, formats: &[(String, f64)]) -> Result<(), String> {
    let added: f64 = formats.iter().map(|(_, w)| w).sum::<f64>().min(0.99);
    let mut all = InlineTable::new();
    let existing_total = if let Some(f) = cell.get("format").and_then(Item::as_str) {
        all.insert(f, Value::from(1.0));
        1.0
    } else if let Some(fs) = cell.get("formats").and_then(Item::as_table_like) {
        let mut t = 0.0;
        for (k, v) in fs.iter() {
            let w = v
                .as_value()
                .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)));
            all.insert(k, Value::from(w.unwrap_or(1.0)));
            t += w.unwrap_or(1.0);
        }
        t
    } else {
        return Err("has no `format` or `formats`".into());
    };
    // Weights are relative: a new format gets its production share of the total.
    let scale = existing_total / (1.0 - added);
    for (f, share) in formats {
        all.insert(
            f,
            Value::from(((share * scale) * 10_000.0).round() / 10_000.0),
        );
    }
    cell.remove("format");
    all.fmt();
    cell.insert("formats", Item::Value(Value::InlineTable(all)));
    cell.fmt();
    Ok(())
}

fn apply_one(doc: &mut DocumentMut, c: &SpecChange) -> Result<(), String> {
    match c {
        SpecChange::AddCategories {
            table,
            column: col,
            values,
        } => {
            let cell = column(doc, table, col)?;
            let vals = cell
                .get_mut("values")
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| format!("{table}.{col} has no `values` to add to"))?;
            for (v, share) in values {
                vals.insert(v, Item::Value(Value::from(*share)));
            }
            vals.fmt();
        }
        SpecChange::SetNullRate {
            table,
            column: col,
            rate,
        } => {
            let cell = column(doc, table, col)?;
            cell.insert("null_rate", Item::Value(Value::from(*rate)));
            cell.fmt();
        }
        SpecChange::WidenRange {
            table,
            column: col,
            min,
            max,
            timestamp,
        } => {
            let cell = column(doc, table, col)?;
            let integer = cell
                .get("min")
                .and_then(Item::as_value)
                .is_some_and(|v| v.is_integer())
                || cell.get("gen").and_then(Item::as_str) == Some("int");
            let date = |x: f64| {
                chrono::DateTime::from_timestamp_micros(x as i64)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default()
            };
            if *timestamp {
                if cell.get("from").is_none() {
                    return Err(format!("{table}.{col} has no `from`/`to` to widen"));
                }
                if let Some(lo) = min {
                    cell.insert("from", Item::Value(Value::from(date(*lo))));
                }
                if let Some(hi) = max {
                    cell.insert("to", Item::Value(Value::from(date(*hi + 1.0))));
                }
            } else {
                if let Some(lo) = min {
                    cell.insert("min", Item::Value(number(*lo, integer)));
                }
                if let Some(hi) = max {
                    cell.insert("max", Item::Value(number(*hi, integer)));
                }
            }
            cell.fmt();
        }
        SpecChange::AddTail {
            table,
            column: col,
            share,
            min,
            max,
        } => {
            let cell = column(doc, table, col)?;
            let integer = cell.get("gen").and_then(Item::as_str) == Some("int");
            let mut t = InlineTable::new();
            t.insert("share", Value::from(*share));
            t.insert("min", number(*min, integer));
            t.insert("max", number(*max, integer));
            t.fmt();
            cell.insert("tail", Item::Value(Value::InlineTable(t)));
            cell.fmt();
        }
        SpecChange::AddFormats {
            table,
            column: col,
            formats,
        } => {
            let cell = column(doc, table, col)?;
            // A column whose format depends on another (`cases`): every pattern case gets the
            // new formats, for the team to move to the case where they belong.
            if let Some(cases) = cell.get_mut("cases").and_then(Item::as_table_like_mut) {
                let mut any = false;
                for (_, case) in cases.iter_mut() {
                    if let Some(t) = case.as_table_like_mut()
                        && (t.contains_key("format") || t.contains_key("formats"))
                    {
                        add_formats(t, formats)?;
                        any = true;
                    }
                }
                if !any {
                    return Err(format!("{table}.{col} has no pattern case"));
                }
            } else {
                add_formats(cell, formats).map_err(|e| format!("{table}.{col} {e}"))?;
            }
        }
        SpecChange::AddColumn {
            table,
            column: col,
            db_type,
        } => {
            let cols = columns(doc, table)
                .ok_or_else(|| format!("tables.{table}.columns is not in the spec"))?;
            let t = db_type.to_ascii_lowercase();
            let (sql, ty) = if t.contains("int") {
                ("CAST(NULL AS BIGINT)", "int")
            } else if ["real", "double", "float", "numeric", "decimal"]
                .iter()
                .any(|x| t.contains(x))
            {
                ("CAST(NULL AS DOUBLE)", "float")
            } else if t.contains("date") || t.contains("time") {
                ("CAST(NULL AS TIMESTAMP)", "timestamp")
            } else {
                ("CAST(NULL AS VARCHAR)", "text")
            };
            // Known to the spec, copied as nothing until the team describes it: a redacted
            // column generates nothing and leaves the process as nothing.
            let mut it = InlineTable::new();
            it.insert("sql", Value::from(sql));
            it.insert("type", Value::from(ty));
            it.insert("pii", Value::from("unreviewed"));
            it.insert("mask", Value::from("redact"));
            cols.insert(col, Item::Value(Value::InlineTable(it)));
        }
    }
    Ok(())
}

/// A line diff of two texts (`-` removed, `+` added, two lines of context around each change).
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // Longest common subsequence, row by row from the end.
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let near = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    let mut gap = false;
    for (k, (op, line)) in ops.iter().enumerate() {
        if *op != ' ' || near(k) {
            if gap {
                out.push_str("@@\n");
                gap = false;
            }
            out.push(*op);
            out.push_str(line);
            out.push('\n');
        } else {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "# the shop\n[tables.orders]\nrows = 3\n[tables.orders.columns]\n\
        status = { gen = \"choice\", values = { PAID = 0.7, SHIPPED = 0.3 } }   # keep me\n\
        total  = { gen = \"float\", min = 1.0, max = 50.0 }\n\
        qty    = { gen = \"int\", min = 1, max = 5 }\n\
        phone  = { gen = \"pattern\", format = \"+1-###-###-####\", pii = \"phone\", mask = \"format_preserving\" }\n";

    #[test]
    fn changes_apply_and_comments_stay() {
        let changes = vec![
            SpecChange::AddCategories {
                table: "orders".into(),
                column: "status".into(),
                values: vec![("PENDING_REVIEW".into(), 0.032)],
            },
            SpecChange::SetNullRate {
                table: "orders".into(),
                column: "total".into(),
                rate: 0.25,
            },
            SpecChange::WidenRange {
                table: "orders".into(),
                column: "qty".into(),
                min: None,
                max: Some(12.0),
                timestamp: false,
            },
            SpecChange::AddFormats {
                table: "orders".into(),
                column: "phone".into(),
                formats: vec![("(###) ###-####".into(), 0.1)],
            },
            SpecChange::AddColumn {
                table: "orders".into(),
                column: "loyalty_tier".into(),
                db_type: "TEXT".into(),
            },
            SpecChange::SetNullRate {
                table: "nope".into(),
                column: "x".into(),
                rate: 0.1,
            },
        ];
        let (out, skipped) = apply(SPEC, &changes).expect("applies");
        assert!(out.starts_with("# the shop\n"), "{out}");
        assert!(out.contains("# keep me"), "{out}");
        assert!(out.contains("PENDING_REVIEW = 0.032"), "{out}");
        assert!(out.contains("null_rate = 0.25"), "{out}");
        assert!(out.contains("max = 12 "), "{out}");
        assert!(
            out.contains("SHIPPED = 0.3, PENDING_REVIEW = 0.032 }"),
            "{out}"
        );
        assert!(
            out.contains("loyalty_tier = { sql = \"CAST(NULL AS VARCHAR)\""),
            "{out}"
        );
        assert!(
            out.contains("formats = { \"+1-###-###-####\" = 1.0, \"(###) ###-####\" = 0.1111 }"),
            "{out}"
        );
        assert!(
            crate::spec::Spec::parse(
                std::path::Path::new("s.toml"),
                &format!("[domain]\nname = \"d\"\nseed = 1\n{out}")
            )
            .is_ok(),
            "{out}"
        );
        assert_eq!(skipped.len(), 1);
        let d = diff(SPEC, &out, "a", "b");
        assert!(d.contains("\n-status") && d.contains("\n+status"), "{d}");
        assert!(
            d.find("\n-status") < d.find("\n+status"),
            "removed lines come first: {d}"
        );
        assert!(!d.contains("\n # the shop"), "far context is left out: {d}");
    }
}
