//! `init --update`: what is new in the schema added to an existing spec, without touching what
//! the team wrote.
//!
//! Takes the existing spec's text and a fresh draft's; gives the existing text with the draft's
//! new tables appended and the draft's new columns added to existing tables, each marked
//! `# review: new in the schema`. Comments, order, values and layout of the existing spec stay
//! as they are (toml_edit). Nothing is ever removed: a column gone from the database is the
//! comparison's schema-drift finding, for the team to decide on.

use toml_edit::{DocumentMut, Item};

const MARK: &str = "# review: new in the schema (init --update)\n";

/// The existing spec with what the draft has and it lacks; and how many tables and columns
/// were added.
pub fn merge(existing: &str, draft: &str) -> anyhow::Result<(String, usize, usize)> {
    let mut doc: DocumentMut = existing
        .parse()
        .map_err(|e| anyhow::anyhow!("the spec to update is not TOML: {e}"))?;
    let new: DocumentMut = draft
        .parse()
        .map_err(|e| anyhow::anyhow!("the draft is not TOML (please report this): {e}"))?;
    let Some(new_tables) = new.get("tables").and_then(Item::as_table) else {
        return Ok((existing.to_string(), 0, 0));
    };
    if doc.get("tables").is_none() {
        doc.insert("tables", Item::Table(toml_edit::Table::new()));
    }
    let tables = doc
        .get_mut("tables")
        .and_then(Item::as_table_mut)
        .ok_or_else(|| anyhow::anyhow!("`tables` of the spec to update is not a table"))?;
    tables.set_implicit(true);
    let (mut added_tables, mut added_columns) = (0, 0);
    for (name, item) in new_tables.iter() {
        match tables.get_mut(name) {
            None => {
                let mut t = item.clone();
                if let Some(tt) = t.as_table_mut() {
                    tt.set_position(None);
                    tt.decor_mut().set_prefix(format!("\n{MARK}"));
                    if let Some(cols) = tt.get_mut("columns").and_then(Item::as_table_mut) {
                        cols.set_position(None);
                    }
                }
                tables.insert(name, t);
                added_tables += 1;
            }
            Some(existing_table) => {
                let (Some(have), Some(want)) = (
                    existing_table
                        .get_mut("columns")
                        .and_then(Item::as_table_like_mut),
                    item.get("columns").and_then(Item::as_table_like),
                ) else {
                    continue;
                };
                for (col, value) in want.iter() {
                    if have.contains_key(col) {
                        continue;
                    }
                    have.insert(col, value.clone());
                    if let Some(mut k) = have.key_mut(col) {
                        k.leaf_decor_mut().set_prefix(MARK);
                    }
                    added_columns += 1;
                }
            }
        }
    }
    Ok((doc.to_string(), added_tables, added_columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New tables and columns are added and marked; what the team wrote stays byte for byte.
    #[test]
    fn updates_add_and_keep() {
        let existing = "# ours\n[domain]\nname = \"d\"\nseed = 1\n\n[tables.a]\nrows = 5 # keep me\n[tables.a.columns]\nid = { gen = \"sequence\" } # our id\nx = { gen = \"int\", min = 1, max = 2 }\n";
        let draft = "[domain]\nname = \"d\"\nseed = 1\n[tables.a]\nrows = 9\n[tables.a.columns]\nid = { gen = \"sequence\" }\nx = { gen = \"int\", min = 0, max = 9 }\ny = { gen = \"bool\", p = 0.5 }\n[tables.b]\nrows = 3\n[tables.b.columns]\nid = { gen = \"sequence\" }\n";
        let (out, t, c) = merge(existing, draft).expect("merges");
        assert_eq!((t, c), (1, 1));
        assert!(out.starts_with("# ours\n"), "{out}");
        assert!(out.contains("rows = 5 # keep me"), "{out}");
        assert!(
            out.contains("id = { gen = \"sequence\" } # our id"),
            "{out}"
        );
        assert!(
            out.contains("x = { gen = \"int\", min = 1, max = 2 }"),
            "{out}"
        );
        assert!(out.contains(&format!("{MARK}y = ")), "{out}");
        assert!(out.contains("[tables.b]"), "{out}");
        let spec = crate::spec::Spec::parse(std::path::Path::new("u.toml"), &out);
        assert!(spec.is_ok(), "{out}");
    }
}
