//! Every unknown key of a spec at once. Serde stops at the first unknown field; when it does,
//! this walks the whole document and names each key no level of the spec knows, with its place
//! and the closest known key. The known keys of each level come from the serde model itself
//! (`raw`), so the two cannot drift apart.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml_edit::{Item, TableLike, Value};

use super::raw::*;

/// The field names a serde struct accepts, read from the error it gives for an unknown one.
fn fields<T: DeserializeOwned>() -> Vec<String> {
    match toml::from_str::<T>("__realitycheck_probe__ = 0") {
        Ok(_) => Vec::new(),
        Err(e) => {
            let msg = e.message().to_string();
            let expected = msg.split("expected").nth(1).unwrap_or("");
            expected
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        }
    }
}

/// An unknown key: where it is, its dotted path, and the message.
pub struct Unknown {
    pub span: Range<usize>,
    pub key: String,
    pub message: String,
}

#[derive(Clone, Copy)]
enum Level {
    Root,
    Domain,
    Source,
    Sample,
    Masking,
    Table,
    RowsPer,
    Column,
    Tail,
    GateOverride,
    Rule,
    Gate,
    NumericGate,
    CategoricalGate,
    TextGate,
    Waiver,
    Scenario,
}

impl Level {
    fn known(self) -> Vec<String> {
        match self {
            Level::Root => fields::<RawSpec>(),
            Level::Domain => fields::<RawDomain>(),
            Level::Source => fields::<RawSource>(),
            Level::Sample => fields::<RawSample>(),
            Level::Masking => fields::<RawMasking>(),
            Level::Table => fields::<RawTable>(),
            Level::RowsPer => fields::<RawRowsPer>(),
            Level::Column => fields::<RawColumn>(),
            Level::Tail => fields::<RawTail>(),
            Level::GateOverride => fields::<RawGateOverride>(),
            Level::Rule => fields::<RawRule>(),
            Level::Gate => fields::<RawGate>(),
            Level::NumericGate => fields::<RawNumericGate>(),
            Level::CategoricalGate => fields::<RawCategoricalGate>(),
            Level::TextGate => fields::<RawTextGate>(),
            Level::Waiver => fields::<RawWaiver>(),
            Level::Scenario => fields::<RawScenario>(),
        }
    }

    /// The level of a key's value, for keys whose value is itself a level.
    fn child(self, key: &str) -> Option<Child> {
        use Child::*;
        use Level::*;
        Some(match (self, key) {
            (Root, "domain") => One(Domain),
            (Root, "source") => One(Source),
            (Root, "masking") => One(Masking),
            (Root, "tables") => Map(Table),
            (Root, "rules") => List(Rule),
            (Root, "gate") => One(Gate),
            (Root, "waivers") => List(Waiver),
            (Root, "scenarios") => List(Scenario),
            (Source, "sample") => One(Sample),
            (Table, "rows_per") => One(RowsPer),
            (Table, "gate") => One(GateOverride),
            (Table, "columns") => Map(Column),
            (RowsPer, "cases") => Map(RowsPer),
            (Column, "tail") => One(Tail),
            (Column, "gate") => One(GateOverride),
            (Column, "of") => List(Column),
            (Column, "cases") => Map(Column),
            (Gate, "numeric") => One(NumericGate),
            (Gate, "categorical") => One(CategoricalGate),
            (Gate, "text") => One(TextGate),
            (Scenario, "set") => Map(Column),
            _ => return None,
        })
    }
}

enum Child {
    One(Level),
    /// A table whose every value is of the level (`tables.<name>`).
    Map(Level),
    /// An array of the level (`[[rules]]`, `of = [...]`).
    List(Level),
}

fn table_like(item: &Item) -> Option<&dyn TableLike> {
    item.as_table_like()
}

fn value_table(v: &Value) -> Option<&dyn TableLike> {
    v.as_inline_table().map(|t| t as &dyn TableLike)
}

fn walk(t: &dyn TableLike, level: Level, path: &str, out: &mut Vec<Unknown>) {
    let known = level.known();
    for (name, item) in t.iter() {
        let here = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        if !known.is_empty() && !known.iter().any(|k| k == name) {
            let span = t
                .get_key_value(name)
                .and_then(|(k, _)| k.span())
                .unwrap_or(0..0);
            let hint = super::validate::did_you_mean(name, known.iter().map(String::as_str));
            out.push(Unknown {
                span,
                key: here,
                message: format!(
                    "unknown key `{name}`{hint}; specs/reference.toml documents every key"
                ),
            });
            continue;
        }
        match level.child(name) {
            Some(Child::One(l)) => {
                if let Some(inner) = table_like(item) {
                    walk(inner, l, &here, out);
                }
            }
            Some(Child::Map(l)) => {
                if let Some(map) = table_like(item) {
                    for (k, v) in map.iter() {
                        if let Some(inner) = table_like(v) {
                            walk(inner, l, &format!("{here}.{k}"), out);
                        }
                    }
                }
            }
            Some(Child::List(l)) => {
                if let Some(aot) = item.as_array_of_tables() {
                    for (i, inner) in aot.iter().enumerate() {
                        walk(inner, l, &format!("{here}[{i}]"), out);
                    }
                } else if let Some(arr) = item.as_array() {
                    for (i, v) in arr.iter().enumerate() {
                        if let Some(inner) = value_table(v) {
                            walk(inner, l, &format!("{here}[{i}]"), out);
                        }
                    }
                }
            }
            None => {}
        }
    }
}

/// Every key no level of the spec knows; empty when the text does not parse as TOML.
pub fn unknown_keys(text: &str) -> Vec<Unknown> {
    let Ok(doc) = toml_edit::Document::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(root) = doc.as_item().as_table_like() {
        walk(root, Level::Root, "", &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two typos at two levels are both reported, each at its own place, each with the key it
    /// was meant to be.
    #[test]
    fn every_unknown_key_is_found() {
        let text = "[domain]\nname = \"d\"\nseeed = 1\n[tables.t]\nrows = 1\n[tables.t.columns]\n\
                    id = { gen = \"sequence\", strat = 1 }\nx = { gen = \"mixture\", of = [ { weihgt = 1, gen = \"null\" } ] }\n";
        let u = unknown_keys(text);
        let keys: Vec<&str> = u.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "domain.seeed",
                "tables.t.columns.id.strat",
                "tables.t.columns.x.of[0].weihgt"
            ]
        );
        assert!(
            u[0].message.contains("did you mean `seed`?"),
            "{}",
            u[0].message
        );
        assert!(
            u[1].message.contains("did you mean `start`?"),
            "{}",
            u[1].message
        );
        assert!(
            u[2].message.contains("did you mean `weight`?"),
            "{}",
            u[2].message
        );
        assert_eq!(&text[u[0].span.clone()], "seeed");
        assert!(fields::<RawColumn>().contains(&"gen".to_string()));
    }
}
