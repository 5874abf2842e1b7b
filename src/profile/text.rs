//! Shapes and text anomalies of string values: plain Rust, no Polars, so extraction can measure
//! raw values in memory before masking and keep only these aggregates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::is_nfc;

/// Distinct shapes kept per column; rarer shapes beyond this are only counted.
const MAX_SHAPES: usize = 1000;
const MAX_SHAPE_LEN: usize = 64;

/// Aggregates of a text column. Mergeable: `a.merge(&b)` equals the stats of both inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextStats {
    /// Non-null values seen.
    pub count: u64,
    pub shapes: BTreeMap<String, u64>,
    /// Values whose shape did not fit in `shapes` (more than 1000 distinct shapes).
    pub shapes_overflow: u64,
    pub length_min: Option<u64>,
    pub length_max: Option<u64>,
    pub length_sum: u64,
    pub anomalies: Anomalies,
}

/// Rows with each kind of anomaly (a row may count under several).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Anomalies {
    /// UTF-8 decoded as Latin-1/Windows-1252 and encoded again: `JosÃ©` for `José`.
    pub mojibake: u64,
    /// U+FFFD, the mark of an earlier failed decode.
    pub replacement_char: u64,
    /// Bytes that are not UTF-8 at all (seen only where the database stores raw bytes).
    pub invalid_utf8: u64,
    /// C0/C1 control characters, tab and newline included.
    pub control: u64,
    /// Zero-width and other invisible format characters.
    pub invisible: u64,
    /// A byte-order mark at the start of the value.
    pub bom: u64,
    /// Text not in Unicode normalization form C.
    pub non_nfc: u64,
    /// Latin letters mixed with Cyrillic or Greek ones in one value (homoglyphs).
    pub mixed_scripts: u64,
    /// Leading or trailing white space.
    pub edge_whitespace: u64,
}

impl Anomalies {
    /// The anomalies that say the bytes themselves are wrong (all but white space).
    pub fn encoding_total(&self) -> u64 {
        self.mojibake
            + self.replacement_char
            + self.invalid_utf8
            + self.control
            + self.invisible
            + self.bom
            + self.non_nfc
            + self.mixed_scripts
    }

    pub fn named(&self) -> [(&'static str, u64); 9] {
        [
            ("mojibake", self.mojibake),
            ("replacement_char", self.replacement_char),
            ("invalid_utf8", self.invalid_utf8),
            ("control", self.control),
            ("invisible", self.invisible),
            ("bom", self.bom),
            ("non_nfc", self.non_nfc),
            ("mixed_scripts", self.mixed_scripts),
            ("edge_whitespace", self.edge_whitespace),
        ]
    }

    fn merge(&mut self, o: &Anomalies) {
        self.mojibake += o.mojibake;
        self.replacement_char += o.replacement_char;
        self.invalid_utf8 += o.invalid_utf8;
        self.control += o.control;
        self.invisible += o.invisible;
        self.bom += o.bom;
        self.non_nfc += o.non_nfc;
        self.mixed_scripts += o.mixed_scripts;
        self.edge_whitespace += o.edge_whitespace;
    }
}

impl TextStats {
    /// Adds one value given as bytes: invalid UTF-8 is counted, then measured lossily.
    pub fn add_bytes(&mut self, b: &[u8]) {
        match std::str::from_utf8(b) {
            Ok(s) => self.add(s),
            Err(_) => {
                self.anomalies.invalid_utf8 += 1;
                self.add(&String::from_utf8_lossy(b));
            }
        }
    }

    pub fn add(&mut self, s: &str) {
        self.count += 1;
        let shape = shape(s);
        if let Some(n) = self.shapes.get_mut(&shape) {
            *n += 1;
        } else if self.shapes.len() < MAX_SHAPES {
            self.shapes.insert(shape, 1);
        } else {
            self.shapes_overflow += 1;
        }
        let len = s.chars().count() as u64;
        self.length_min = Some(self.length_min.map_or(len, |m| m.min(len)));
        self.length_max = Some(self.length_max.map_or(len, |m| m.max(len)));
        self.length_sum += len;
        let a = &mut self.anomalies;
        a.mojibake += is_mojibake(s) as u64;
        a.replacement_char += s.contains('\u{FFFD}') as u64;
        a.control += s.chars().any(char::is_control) as u64;
        a.bom += s.starts_with('\u{FEFF}') as u64;
        a.invisible += s
            .chars()
            .skip(s.starts_with('\u{FEFF}') as usize)
            .any(is_invisible) as u64;
        a.non_nfc += !is_nfc(s) as u64;
        a.mixed_scripts += has_mixed_scripts(s) as u64;
        a.edge_whitespace += (s.trim() != s) as u64;
    }

    pub fn merge(&mut self, o: &TextStats) {
        self.count += o.count;
        for (k, v) in &o.shapes {
            if let Some(n) = self.shapes.get_mut(k) {
                *n += v;
            } else if self.shapes.len() < MAX_SHAPES {
                self.shapes.insert(k.clone(), *v);
            } else {
                self.shapes_overflow += v;
            }
        }
        self.shapes_overflow += o.shapes_overflow;
        self.length_min = match (self.length_min, o.length_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.length_max = match (self.length_max, o.length_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.length_sum += o.length_sum;
        self.anomalies.merge(&o.anomalies);
    }

    pub fn length_mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.length_sum as f64 / self.count as f64)
    }

    /// Drops shapes seen fewer than `k` times (disclosure control for production data),
    /// keeping their rows in `shapes_overflow`.
    pub fn suppress_rare(&mut self, k: u64) {
        let rare: Vec<String> = self
            .shapes
            .iter()
            .filter(|(_, n)| **n < k)
            .map(|(s, _)| s.clone())
            .collect();
        for s in rare {
            self.shapes_overflow += self.shapes.remove(&s).unwrap_or(0);
        }
    }
}

/// The shape of a value: upper-case letters `A`, lower-case `a`, digits `9`, anything else
/// itself (ASCII) or `*` (other symbols). A run of letters of one case folds to one letter (`John Smith` → `Aa Aa`), digits
/// do not (`(555) 123-4567` → `(999) 999-9999`), since digit counts are what formats differ in.
pub fn shape(s: &str) -> String {
    let mut out = String::new();
    let mut last: Option<char> = None;
    for c in s.chars() {
        let m = if c.is_ascii_digit() {
            '9'
        } else if c.is_uppercase() {
            'A'
        } else if c.is_alphabetic() {
            'a'
        } else if c.is_whitespace() {
            ' '
        } else if c.is_control() || is_invisible(c) {
            '?'
        } else if c.is_ascii() {
            c
        } else {
            // Non-ASCII symbols say little about a format and may say something about a value.
            '*'
        };
        if (m == 'A' || m == 'a') && last == Some(m) {
            continue;
        }
        out.push(m);
        last = Some(m);
        if out.len() >= MAX_SHAPE_LEN {
            out.push('…');
            break;
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}' | '\u{202A}'..='\u{202E}')
}

/// The Windows-1252 byte for a character, where it has one.
fn cp1252_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u < 0x80 || (0xA0..=0xFF).contains(&u) {
        return Some(u as u8);
    }
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    if (0x80..0xA0).contains(&u) {
        // C1 controls: Latin-1 decoding leaves them as they are.
        return Some(u as u8);
    }
    HIGH.iter().find(|(h, _)| *h == c).map(|(_, b)| *b)
}

/// True when the text, encoded back to Windows-1252, is valid UTF-8 with multi-byte
/// characters: the signature of UTF-8 that was decoded as Latin-1 and stored again.
pub fn is_mojibake(s: &str) -> bool {
    if s.is_ascii() {
        return false;
    }
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        match cp1252_byte(c) {
            Some(b) => bytes.push(b),
            None => return false,
        }
    }
    std::str::from_utf8(&bytes).is_ok_and(|t| !t.is_ascii())
}

fn has_mixed_scripts(s: &str) -> bool {
    let (mut latin, mut other) = (false, false);
    for c in s.chars().filter(|c| c.is_alphabetic()) {
        match c as u32 {
            0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F => latin = true,
            0x370..=0x4FF => other = true,
            _ => {}
        }
    }
    latin && other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_fold_letters_not_digits() {
        assert_eq!(shape("John Smith"), "Aa Aa");
        assert_eq!(shape("(555) 123-4567"), "(999) 999-9999");
        assert_eq!(shape("+1-555-123-4567"), "+9-999-999-9999");
        assert_eq!(shape("john.smith42@example.com"), "a.a99@a.a");
        assert_eq!(shape("PAID"), "A");
    }

    #[test]
    fn mojibake_is_found_and_clean_text_is_not() {
        assert!(is_mojibake("JosÃ© GarcÃ\u{AD}a"));
        assert!(is_mojibake("MÃ¼ller"));
        assert!(is_mojibake("donâ€™t"));
        assert!(!is_mojibake("José García"));
        assert!(!is_mojibake("Müller"));
        assert!(!is_mojibake("plain"));
        assert!(!is_mojibake("東京"));
    }

    #[test]
    fn anomalies_are_counted_per_row() {
        let mut t = TextStats::default();
        for s in [
            "ok",
            " padded",
            "zero\u{200B}width",
            "\u{FEFF}bom",
            "e\u{301}",
            "tab\there",
            "Pаypal",
            "bad\u{FFFD}",
        ] {
            t.add(s);
        }
        t.add_bytes(b"caf\xe9");
        let a = &t.anomalies;
        assert_eq!(
            (
                a.edge_whitespace,
                a.invisible,
                a.bom,
                a.non_nfc,
                a.control,
                a.mixed_scripts,
                a.invalid_utf8
            ),
            (1, 1, 1, 1, 1, 1, 1)
        );
        // The invalid byte is decoded lossily, so it also counts as a replacement character.
        assert_eq!(a.replacement_char, 2);
        assert_eq!(t.count, 9);
    }

    #[test]
    fn merge_equals_stats_of_the_union() {
        let (xs, ys) = (["a", "Bb", "  c"], ["Ã©", "99", "a"]);
        let (mut a, mut b, mut all) = (
            TextStats::default(),
            TextStats::default(),
            TextStats::default(),
        );
        xs.iter().for_each(|s| a.add(s));
        ys.iter().for_each(|s| b.add(s));
        xs.iter().chain(ys.iter()).for_each(|s| all.add(s));
        a.merge(&b);
        assert_eq!(a, all);
    }
}
