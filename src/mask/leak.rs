//! The leak check: proof that no raw value of a PII column left the process.
//!
//! Takes the raw values of every PII column of the run (held in memory as keyed hashes, never
//! shown) and the masked output; gives an error naming the PII column and the place a value was
//! found in (never the value). The rule, stated so an auditor can check it:
//!
//! 1. **Same row**: every text cell of every output column is compared with the raw PII values
//!    of its own row, whatever their length (a `notes` column that copies the row's e-mail).
//! 2. **Anywhere**: every raw PII value of at least `leak_min_length` characters (default 8) is
//!    looked for *inside* every text cell of every output table, across tables (an e-mail of
//!    `customers` copied into `orders.contact`), and inside every text artifact of the run
//!    (reports, profiles, manifests, the audit) before any of them is renamed into place.
//!
//! Extraction streams, so the guard grows batch by batch: each batch is checked against every
//! value seen so far, and once the last batch is in, every Parquet file written before the
//! guard stopped growing is read back and checked again ([`LeakGuard::check_parquet`]). A value
//! found only in a later table is therefore still found in an earlier table's output.
//!
//! The guard keeps no raw value: for each long value, a hash of its first `leak_min_length`
//! bytes (the window a rolling hash finds in any text), its length and a keyed 64-bit hash of
//! the whole value, plus that hash in a set that finds repeats, about 70 bytes a distinct value.
//! A text matches when a window's hash, the length and the keyed hash all agree (a false alarm
//! needs a 64-bit collision).
//!
//! Numeric and timestamp output columns are not compared: an id or an amount that equals some
//! postcode is a coincidence of numbers, not a copy (this is what lets a 5-digit postcode or a
//! card's last four digits be declared PII). Shorter values are protected by rule 1 and by
//! construction: a PII column's values never reach a profile or report.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::Path;

use anyhow::{Context, bail};

use crate::frame::Values;

/// One long raw value: its byte length, keyed hash, PII column, and the next value whose first
/// window hashes the same (`NONE` ends the chain).
struct Entry {
    len: u32,
    full: u64,
    column: u32,
    next: u32,
}

const NONE: u32 = u32::MAX;

/// Raw PII values of the run, as hashes; no `Debug` of values, no `Clone`, no serialization.
pub struct LeakGuard {
    /// `table.column` per PII column.
    columns: Vec<String>,
    /// Window length in bytes: `leak_min_length` (a value of that many characters has at least
    /// that many bytes).
    window: usize,
    min_chars: usize,
    /// The rolling hash's multiplier (random, odd) and its power `window - 1`.
    base: u64,
    top: u64,
    /// Window hash -> the first entry of its chain.
    heads: HashMap<u64, u32>,
    entries: Vec<Entry>,
    /// One bit per window-hash bucket: most windows of a text are rejected here without a map
    /// lookup. Kept at most 1/8 full.
    bits: Vec<u64>,
    keyed: RandomState,
    /// (keyed hash, column) of every value held: a repeat is found here, not by walking its
    /// window's chain (values that share their first bytes, as e-mails and names of one list
    /// do, make chains thousands long).
    held: HashSet<(u64, u32)>,
}

impl std::fmt::Debug for LeakGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LeakGuard({} PII columns, {} long values, values withheld)",
            self.columns.len(),
            self.entries.len()
        )
    }
}

/// Spreads a window hash over the bits the filter and the map use.
fn mix(h: u64) -> u64 {
    let h = (h ^ (h >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

impl LeakGuard {
    pub(super) fn new(min_len: usize) -> LeakGuard {
        let window = min_len.max(1);
        let base = RandomState::new().hash_one(0u64) | 1;
        let top = (1..window).fold(1u64, |p, _| p.wrapping_mul(base));
        LeakGuard {
            columns: Vec::new(),
            window,
            min_chars: min_len,
            base,
            top,
            heads: HashMap::new(),
            entries: Vec::new(),
            bits: vec![0; 1024],
            keyed: RandomState::new(),
            held: HashSet::new(),
        }
    }

    /// Registers a PII column; gives the index [`LeakGuard::add`] takes.
    pub(super) fn column(&mut self, name: &str) -> usize {
        match self.columns.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                self.columns.push(name.to_string());
                self.columns.len() - 1
            }
        }
    }

    /// Long values held (distinct per column).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn window_hash(&self, w: &[u8]) -> u64 {
        w.iter().fold(0u64, |h, b| {
            h.wrapping_mul(self.base).wrapping_add(u64::from(*b))
        })
    }

    fn bit(&self, m: u64) -> (usize, u64) {
        let slot = (m as usize) & (self.bits.len() * 64 - 1);
        (slot / 64, 1u64 << (slot % 64))
    }

    /// Adds one raw value of PII column `column` (blank and short values are row-checked only).
    pub(super) fn add(&mut self, column: usize, value: &str) {
        let v = value.trim();
        if v.len() < self.window || v.chars().count() < self.min_chars {
            return;
        }
        let b = v.as_bytes();
        let m = mix(self.window_hash(&b[..self.window]));
        let full = self.keyed.hash_one(b);
        let len = b.len() as u32;
        if !self.held.insert((full, column as u32)) {
            return;
        }
        let head = self.heads.get(&m).copied().unwrap_or(NONE);
        self.entries.push(Entry {
            len,
            full,
            column: column as u32,
            next: head,
        });
        self.heads.insert(m, (self.entries.len() - 1) as u32);
        if head == NONE {
            if self.heads.len() * 8 > self.bits.len() * 64 && self.bits.len() < (1 << 24) {
                self.grow();
            } else {
                let (w, bit) = self.bit(m);
                self.bits[w] |= bit;
            }
        }
    }

    fn grow(&mut self) {
        self.bits = vec![0; self.bits.len() * 2];
        let keys: Vec<u64> = self.heads.keys().copied().collect();
        for m in keys {
            let (w, bit) = self.bit(m);
            self.bits[w] |= bit;
        }
    }

    /// The PII column whose long raw value occurs in `text`, if any.
    fn find(&self, text: &str) -> Option<&str> {
        let b = text.as_bytes();
        let w = self.window;
        if self.entries.is_empty() || b.len() < w {
            return None;
        }
        let mut h = self.window_hash(&b[..w]);
        let mut hashed: Vec<(u32, u64)> = Vec::new();
        for i in 0..=b.len() - w {
            if i > 0 {
                h = h
                    .wrapping_sub(u64::from(b[i - 1]).wrapping_mul(self.top))
                    .wrapping_mul(self.base)
                    .wrapping_add(u64::from(b[i + w - 1]));
            }
            let m = mix(h);
            let (word, bit) = self.bit(m);
            if self.bits[word] & bit == 0 {
                continue;
            }
            let mut at = self.heads.get(&m).copied().unwrap_or(NONE);
            // A chain's entries have few distinct lengths: each is hashed once here.
            hashed.clear();
            while at != NONE {
                let e = &self.entries[at as usize];
                let end = i + e.len as usize;
                if end <= b.len() {
                    let h = match hashed.iter().find(|(l, _)| *l == e.len) {
                        Some((_, h)) => *h,
                        None => {
                            let h = self.keyed.hash_one(&b[i..end]);
                            hashed.push((e.len, h));
                            h
                        }
                    };
                    if h == e.full {
                        return Some(&self.columns[e.column as usize]);
                    }
                }
                at = e.next;
            }
        }
        None
    }

    /// Rule 2 over one output table: no long raw value inside any text cell.
    pub(super) fn check_table(
        &self,
        table: &str,
        columns: &[(String, Values)],
    ) -> anyhow::Result<()> {
        for (name, v) in columns {
            let Values::Text(cells) = v else { continue };
            if let Some(src) = cells.iter().flatten().find_map(|c| self.find(c)) {
                return Err(found_in_output(src, table, name));
            }
        }
        Ok(())
    }

    /// Rule 2 over every text column of a Parquet file `table` wrote, read back a slice of rows
    /// at a time: for the values the guard learnt after the file's first rows were checked.
    pub fn check_parquet(&self, path: &Path, table: &str) -> anyhow::Result<()> {
        use polars::prelude::*;
        if self.is_empty() {
            return Ok(());
        }
        const SLICE: usize = 65_536;
        let open =
            || std::fs::File::open(path).with_context(|| format!("opening {}", path.display()));
        let mut reader = ParquetReader::new(open()?);
        let schema = reader.schema()?;
        let rows = reader.num_rows()?;
        let text: Vec<String> = schema
            .iter()
            .filter(|(_, f)| {
                matches!(
                    f.dtype(),
                    ArrowDataType::Utf8View | ArrowDataType::LargeUtf8 | ArrowDataType::Utf8
                )
            })
            .map(|(n, _)| n.to_string())
            .collect();
        if text.is_empty() {
            return Ok(());
        }
        let mut at = 0;
        while at < rows {
            let df = ParquetReader::new(open()?)
                .with_columns(Some(text.clone()))
                .with_slice(Some((at, SLICE)))
                .finish()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("reading {} back for the leak check", path.display()))?;
            for c in df.columns() {
                let ca = c.as_materialized_series().str()?.clone();
                if let Some(src) = ca.iter().flatten().find_map(|v| self.find(v)) {
                    return Err(found_in_output(src, table, c.name()));
                }
            }
            at += SLICE;
        }
        Ok(())
    }

    /// Rule 2 over every text file under `dir` (not `.parquet`, whose cells were checked before
    /// encoding, and not the `skip` paths, which hold generated data only: a generated name may
    /// equal a real one without anything having leaked).
    pub fn check_dir(&self, dir: &Path, skip: &[&str]) -> anyhow::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        for path in files(dir)? {
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            if skip.iter().any(|s| rel.starts_with(s))
                || path.extension().is_some_and(|e| e == "parquet")
            {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let text = String::from_utf8_lossy(&bytes);
            if let Some(src) = self.find(&text) {
                bail!(
                    "leak check failed: a raw value of PII column {src} appears in {}. Nothing was \
                     written and the previous output is untouched. This is a bug or a synthetic value \
                     that equals a real one; please report it without attaching the file",
                    rel.display()
                );
            }
        }
        Ok(())
    }
}

fn found_in_output(src: &str, table: &str, column: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "leak check failed: a raw value of PII column {src} appears in the output column \
         {table}.{column}. Nothing was written. Mask {table}.{column} (classify it with `pii` and a \
         `mask`), or stop copying the value there"
    )
}

fn files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            out.extend(files(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_found_anywhere_short_ones_are_not() {
        let mut g = LeakGuard::new(8);
        let c = g.column("customers.email");
        for v in ["alice@corp.example", "12345", " alice@corp.example "] {
            g.add(c, v);
        }
        assert_eq!(g.len(), 1, "short values are not held, repeats once");
        let ok = vec![(
            "note".to_string(),
            Values::Text(vec![Some("order 12345 shipped".into())]),
        )];
        assert!(
            g.check_table("orders", &ok).is_ok(),
            "short values are row-checked only"
        );
        let bad = vec![(
            "contact".to_string(),
            Values::Text(vec![Some("mail alice@corp.example".into())]),
        )];
        let e = g
            .check_table("orders", &bad)
            .expect_err("a leak")
            .to_string();
        assert!(
            e.contains("customers.email") && e.contains("orders.contact"),
            "{e}"
        );
        assert!(!e.contains("alice"), "{e}");
        assert!(!format!("{g:?}").contains("alice"));
    }
}
