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
    /// Empty strings (apart from NULLs, which are not counted here at all).
    #[serde(default)]
    pub empty: u64,
    /// Placeholders standing in for a missing value: `N/A`, `-`, `unknown`, `null`, `none`, ...
    /// (case and surrounding white space ignored).
    #[serde(default)]
    pub placeholders: u64,
    /// Values per length in characters (lengths above `MAX_LENGTH_BIN` share the last bin).
    /// Measured before masking, so a hashed or pseudonymised column is still compared on it.
    #[serde(default)]
    pub lengths: BTreeMap<u64, u64>,
    /// Rows whose length bin was withheld (seen fewer than `k` times in production).
    #[serde(default)]
    pub lengths_withheld: u64,
    /// Values that read as a number (`12.50`, `-3`, `1e6`), and as a date or timestamp.
    #[serde(default)]
    pub number_like: u64,
    #[serde(default)]
    pub date_like: u64,
    /// Columns whose spec declares formats (`pattern`, `regex`): non-empty values, clean of
    /// encoding anomalies and edge white space (those have findings of their own), that match
    /// none of them. A count, so a format seen once still fails without being shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undeclared_format_rows: Option<u64>,
}

/// Accumulates a column's [`TextStats`] value by value, faster than adding to them: shapes are
/// counted in a hash map (a shape is a key of up to 64 characters, and the ordered map's
/// comparisons were the profile's hottest path) and moved into the ordered map at the end.
/// The same values give the same stats either way: a shape is kept while fewer than
/// `MAX_SHAPES` are, whatever the map.
#[derive(Debug, Default)]
pub struct TextAcc {
    stats: TextStats,
    shapes: std::collections::HashMap<String, u64>,
    buf: String,
}

impl TextAcc {
    pub fn add(&mut self, s: &str) {
        self.add_measured(s, false);
    }

    /// [`TextStats::add_bytes`].
    pub fn add_bytes(&mut self, b: &[u8]) {
        match std::str::from_utf8(b) {
            Ok(s) => self.add(s),
            Err(_) => {
                self.add_measured(&String::from_utf8_lossy(b), true);
            }
        }
    }

    /// [`TextStats::add_declared`].
    pub fn add_declared(&mut self, s: &str, declared: &dyn Fn(&str) -> bool) {
        let clean = self.add_measured(s, false);
        self.stats.count_undeclared(s, clean, declared);
    }

    /// [`TextStats::add_bytes_declared`].
    pub fn add_bytes_declared(&mut self, b: &[u8], declared: &dyn Fn(&str) -> bool) {
        let (text, invalid) = match std::str::from_utf8(b) {
            Ok(s) => (std::borrow::Cow::Borrowed(s), false),
            Err(_) => (String::from_utf8_lossy(b), true),
        };
        let clean = self.add_measured(&text, invalid);
        self.stats.count_undeclared(&text, clean, declared);
    }

    fn add_measured(&mut self, s: &str, invalid_utf8: bool) -> bool {
        let clean = self.stats.add_counts(s, invalid_utf8);
        shape_into(s, &mut self.buf);
        if let Some(n) = self.shapes.get_mut(self.buf.as_str()) {
            *n += 1;
        } else if self.shapes.len() < MAX_SHAPES {
            self.shapes.insert(self.buf.clone(), 1);
        } else {
            self.stats.shapes_overflow += 1;
        }
        clean
    }

    pub fn finish(self) -> TextStats {
        let mut stats = self.stats;
        stats.shapes = self.shapes.into_iter().collect();
        stats
    }
}

/// Lengths at or above this share one bin.
pub const MAX_LENGTH_BIN: u64 = 64;

/// What people type when they have no value (compared lower-case, trimmed).
pub const PLACEHOLDERS: &[&str] = &[
    "n/a",
    "na",
    "n.a.",
    "-",
    "--",
    "?",
    "unknown",
    "null",
    "nil",
    "none",
    "tbd",
    "xxx",
    "test",
    "#n/a",
    "undefined",
    "missing",
    "not available",
    ".",
];

fn is_placeholder(s: &str) -> bool {
    // Lower-casing never makes fewer characters, so a value longer than every placeholder
    // is none of them: most values are decided without the allocation below.
    const LONGEST: usize = 13; // "not available"
    let t = s.trim();
    if t.len() > 4 * LONGEST || t.chars().count() > LONGEST {
        return false;
    }
    if t.is_ascii() {
        // Every placeholder is ASCII: compare without lower-casing into a new string.
        return PLACEHOLDERS
            .iter()
            .any(|p| p.len() == t.len() && p.eq_ignore_ascii_case(t));
    }
    PLACEHOLDERS.contains(&t.to_lowercase().as_str())
}

/// Rows with each kind of anomaly (a row may count under several; `rows` counts each row with
/// any encoding anomaly once). Clean text in any script counts under none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Anomalies {
    /// Rows with at least one of the encoding anomalies below (all but edge white space).
    pub rows: u64,
    /// UTF-8 decoded as Latin-1/Windows-1252 and encoded again: `JosÃ©` for `José`.
    pub mojibake: u64,
    /// U+FFFD, the mark of an earlier failed decode (in valid UTF-8 only: invalid bytes count
    /// as `invalid_utf8`, not again here).
    pub replacement_char: u64,
    /// Bytes that are not UTF-8 at all (seen only where the database stores raw bytes).
    pub invalid_utf8: u64,
    /// C0 and C1 control characters other than tab and line breaks, and DEL.
    pub control: u64,
    /// Line feeds, carriage returns, U+0085, U+2028, U+2029 and tabs inside a value.
    pub line_break_or_tab: u64,
    /// No-break and other non-ASCII spaces (U+00A0, U+2000-U+200A, U+202F, U+205F, U+3000, ...).
    pub unusual_space: u64,
    /// Zero-width and other invisible characters (U+200B-U+200D, U+2060-U+2064, soft hyphen).
    pub zero_width: u64,
    /// Bidirectional controls (U+200E, U+200F, U+061C, U+202A-U+202E, U+2066-U+2069).
    pub bidi_control: u64,
    /// Variation selectors, the combining grapheme joiner and Hangul fillers.
    pub variation_or_filler: u64,
    /// A byte-order mark at the start of the value.
    pub bom: u64,
    /// Text not in Unicode normalization form C.
    pub non_nfc: u64,
    /// A word mixing scripts (UTS #39 mixed-script detection, per word: `Pаypal` with a
    /// Cyrillic `а`); `Tokyo 東京` or `東京タワー` is not.
    pub mixed_scripts: u64,
    /// Leading or trailing white space.
    pub edge_whitespace: u64,
}

impl Anomalies {
    /// Rows whose bytes themselves are wrong (any anomaly but edge white space), each once.
    pub fn encoding_total(&self) -> u64 {
        self.rows
    }

    pub fn named(&self) -> [(&'static str, u64); 14] {
        [
            ("mojibake", self.mojibake),
            ("replacement_char", self.replacement_char),
            ("invalid_utf8", self.invalid_utf8),
            ("control", self.control),
            ("line_break_or_tab", self.line_break_or_tab),
            ("unusual_space", self.unusual_space),
            ("zero_width", self.zero_width),
            ("bidi_control", self.bidi_control),
            ("variation_or_filler", self.variation_or_filler),
            ("bom", self.bom),
            ("non_nfc", self.non_nfc),
            ("mixed_scripts", self.mixed_scripts),
            ("edge_whitespace", self.edge_whitespace),
            ("rows", self.rows),
        ]
    }

    fn merge(&mut self, o: &Anomalies) {
        self.rows += o.rows;
        self.mojibake += o.mojibake;
        self.replacement_char += o.replacement_char;
        self.invalid_utf8 += o.invalid_utf8;
        self.control += o.control;
        self.line_break_or_tab += o.line_break_or_tab;
        self.unusual_space += o.unusual_space;
        self.zero_width += o.zero_width;
        self.bidi_control += o.bidi_control;
        self.variation_or_filler += o.variation_or_filler;
        self.bom += o.bom;
        self.non_nfc += o.non_nfc;
        self.mixed_scripts += o.mixed_scripts;
        self.edge_whitespace += o.edge_whitespace;
    }
}

fn is_line_break_or_tab(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn is_unusual_space(c: char) -> bool {
    matches!(
        c,
        '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{AD}' | '\u{180E}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{61C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_variation_or_filler(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{34F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{180B}'..='\u{180D}')
}

impl TextStats {
    /// Adds one value given as bytes: invalid UTF-8 is counted, then measured lossily.
    pub fn add_bytes(&mut self, b: &[u8]) {
        match std::str::from_utf8(b) {
            Ok(s) => self.add(s),
            Err(_) => {
                self.add_measured(&String::from_utf8_lossy(b), true);
            }
        }
    }

    pub fn add(&mut self, s: &str) {
        self.add_measured(s, false);
    }

    /// [`TextStats::add_bytes`], and a value of none of the declared formats (`declared`
    /// tells whether a value is of one) is counted in `undeclared_format_rows`.
    pub fn add_bytes_declared(&mut self, b: &[u8], declared: &dyn Fn(&str) -> bool) {
        let (text, invalid) = match std::str::from_utf8(b) {
            Ok(s) => (std::borrow::Cow::Borrowed(s), false),
            Err(_) => (String::from_utf8_lossy(b), true),
        };
        let clean = self.add_measured(&text, invalid);
        self.count_undeclared(&text, clean, declared);
    }

    /// [`TextStats::add`] with the declared formats (see [`TextStats::add_bytes_declared`]).
    pub fn add_declared(&mut self, s: &str, declared: &dyn Fn(&str) -> bool) {
        let clean = self.add_measured(s, false);
        self.count_undeclared(s, clean, declared);
    }

    fn count_undeclared(&mut self, s: &str, clean: bool, declared: &dyn Fn(&str) -> bool) {
        let n = self.undeclared_format_rows.get_or_insert(0);
        if clean && !s.is_empty() && !declared(s) {
            *n += 1;
        }
    }

    /// Returns whether the value is clean: no encoding anomaly and no edge white space.
    fn add_measured(&mut self, s: &str, invalid_utf8: bool) -> bool {
        let clean = self.add_counts(s, invalid_utf8);
        let shape = shape(s);
        if let Some(n) = self.shapes.get_mut(&shape) {
            *n += 1;
        } else if self.shapes.len() < MAX_SHAPES {
            self.shapes.insert(shape, 1);
        } else {
            self.shapes_overflow += 1;
        }
        clean
    }

    /// Everything [`TextStats::add_measured`] counts but the shape.
    fn add_counts(&mut self, s: &str, invalid_utf8: bool) -> bool {
        self.empty += s.is_empty() as u64;
        self.placeholders += is_placeholder(s) as u64;
        let t = s.trim();
        self.number_like += (!t.is_empty() && t.parse::<f64>().is_ok_and(f64::is_finite)) as u64;
        self.date_like += (t.len() >= 8
            && t.as_bytes()[0].is_ascii_digit()
            && crate::spec::parse_timestamp(t).is_some()) as u64;
        self.count += 1;
        let len = if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        } as u64;
        *self.lengths.entry(len.min(MAX_LENGTH_BIN)).or_default() += 1;
        self.length_min = Some(self.length_min.map_or(len, |m| m.min(len)));
        self.length_max = Some(self.length_max.map_or(len, |m| m.max(len)));
        self.length_sum += len;
        let ascii = s.is_ascii();
        let bom = s.starts_with('\u{FEFF}');
        let body = if bom { &s['\u{FEFF}'.len_utf8()..] } else { s };
        // Every class but control characters and line breaks needs a character beyond ASCII:
        // plain ASCII text (most of any table) is checked in one pass over its bytes.
        let has = |f: fn(char) -> bool| !ascii && body.chars().any(f);
        let (ascii_control, ascii_break) = if ascii {
            body.bytes().fold((false, false), |(c, b), x| {
                let brk = matches!(x, b'\n' | b'\r' | b'\t' | 0x0B | 0x0C);
                (c || ((x < 0x20 || x == 0x7F) && !brk), b || brk)
            })
        } else {
            (false, false)
        };
        let found = [
            !ascii && is_mojibake(s),
            !ascii && !invalid_utf8 && s.contains('\u{FFFD}'),
            invalid_utf8,
            ascii_control || has(|c| c.is_control() && !is_line_break_or_tab(c)),
            ascii_break || has(is_line_break_or_tab),
            has(is_unusual_space),
            has(|c| is_zero_width(c) || c == '\u{FEFF}'),
            has(is_bidi_control),
            has(is_variation_or_filler),
            bom,
            !ascii && !is_nfc(s),
            has_mixed_scripts(s),
        ];
        let a = &mut self.anomalies;
        let slots = [
            &mut a.mojibake,
            &mut a.replacement_char,
            &mut a.invalid_utf8,
            &mut a.control,
            &mut a.line_break_or_tab,
            &mut a.unusual_space,
            &mut a.zero_width,
            &mut a.bidi_control,
            &mut a.variation_or_filler,
            &mut a.bom,
            &mut a.non_nfc,
            &mut a.mixed_scripts,
        ];
        for (slot, hit) in slots.into_iter().zip(found) {
            *slot += hit as u64;
        }
        let damaged = found.iter().any(|x| *x);
        a.rows += damaged as u64;
        let edges = s.trim() != s;
        a.edge_whitespace += edges as u64;
        !damaged && !edges
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
        self.empty += o.empty;
        self.placeholders += o.placeholders;
        for (k, v) in &o.lengths {
            *self.lengths.entry(*k).or_default() += v;
        }
        self.lengths_withheld += o.lengths_withheld;
        self.number_like += o.number_like;
        self.date_like += o.date_like;
        self.undeclared_format_rows = match (self.undeclared_format_rows, o.undeclared_format_rows)
        {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
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
        let rare: Vec<u64> = self
            .lengths
            .iter()
            .filter(|(_, n)| **n < k)
            .map(|(l, _)| *l)
            .collect();
        for l in rare {
            self.lengths_withheld += self.lengths.remove(&l).unwrap_or(0);
        }
    }
}

/// The shape of a value: upper-case letters `A`, lower-case `a`, digits `9`, anything else
/// itself (ASCII) or `*` (other symbols). A run of letters of one case folds to one letter (`John Smith` → `Aa Aa`), digits
/// do not (`(555) 123-4567` → `(999) 999-9999`), since digit counts are what formats differ in.
pub fn shape(s: &str) -> String {
    let mut out = String::new();
    shape_into(s, &mut out);
    out
}

/// [`shape`] into a buffer (cleared first), to spare an allocation per value.
fn shape_into(s: &str, out: &mut String) {
    out.clear();
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
}

fn is_invisible(c: char) -> bool {
    is_zero_width(c) || is_bidi_control(c) || is_variation_or_filler(c) || c == '\u{FEFF}'
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

/// A word (split at white space and punctuation) that is not single-script in the sense of
/// UTS #39 (augmented script sets, so Japanese kana with kanji, or Korean hangul with hanja,
/// count as one script).
fn has_mixed_scripts(s: &str) -> bool {
    use unicode_security::MixedScript;
    // ASCII letters are all Latin: nothing to mix (and the script tables are the profile's
    // hottest path on ordinary text).
    if s.is_ascii() {
        return false;
    }
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().any(char::is_alphabetic))
        .any(|w| !w.is_single_script())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The accumulator gives the stats adding gives, past the shape cap and with invalid bytes.
    #[test]
    fn the_accumulator_counts_what_adding_counts() {
        let mut acc = TextAcc::default();
        let mut stats = TextStats::default();
        let of_one = |v: &str| v.starts_with('x');
        for i in 0..5000u32 {
            // Five thousand shapes: `1` and `-` keep their places (`9-99-`), letters fold.
            let bits = format!("{i:b}").replace('0', "-");
            let v = format!(
                "{}{bits} {}",
                "x".repeat((i % 7) as usize),
                "Ab".repeat((i % 3) as usize)
            );
            acc.add_declared(&v, &of_one);
            stats.add_declared(&v, &of_one);
            let bytes = [b'a', 0xff, (i % 200) as u8];
            acc.add_bytes(&bytes);
            stats.add_bytes(&bytes);
        }
        let acc = acc.finish();
        assert!(acc.shapes_overflow > 0, "the cap was not reached");
        assert_eq!(acc, stats);
    }

    #[test]
    fn placeholders_are_found_at_any_length_they_have() {
        let longest = PLACEHOLDERS.iter().map(|p| p.chars().count()).max();
        assert_eq!(longest, Some(13), "is_placeholder's LONGEST");
        assert!(
            PLACEHOLDERS.iter().all(|p| p.is_ascii()),
            "is_placeholder's ASCII path"
        );
        for p in PLACEHOLDERS {
            assert!(is_placeholder(&format!("  {}\t", p.to_uppercase())), "{p}");
        }
        assert!(!is_placeholder("unknown value here"));
        // The Kelvin sign (three bytes) lower-cases to `k` (one).
        assert!(is_placeholder("UN\u{212A}NOWN"));
    }

    #[test]
    fn undeclared_formats_are_counted_on_clean_values_only() {
        let of_one = |v: &str| v.len() == 7 && v.starts_with("AB-");
        let mut t = TextStats::default();
        for v in [
            "AB-1234",
            "AB-9999",
            "XY:9876",
            "",
            " AB-1234",
            "AB-12\u{200B}4",
            "ZZ",
        ] {
            t.add_declared(v, &of_one);
        }
        // `XY:9876` and `ZZ`; the empty string, the padded value and the one with a zero-width
        // space have findings of their own.
        assert_eq!(t.undeclared_format_rows, Some(2));
        let mut u = TextStats::default();
        u.add_bytes_declared(b"\xffAB", &of_one);
        u.add_bytes_declared(b"Q", &of_one);
        assert_eq!(
            u.undeclared_format_rows,
            Some(1),
            "invalid UTF-8 is an anomaly, not a format"
        );
        t.merge(&u);
        assert_eq!(t.undeclared_format_rows, Some(3));
        assert_eq!(TextStats::default().undeclared_format_rows, None);
    }

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
                a.zero_width,
                a.bom,
                a.non_nfc,
                a.line_break_or_tab,
                a.mixed_scripts,
                a.invalid_utf8
            ),
            (1, 1, 1, 1, 1, 1, 1)
        );
        // The invalid byte is counted once, as invalid UTF-8, not again as U+FFFD.
        assert_eq!(a.replacement_char, 1);
        assert_eq!(t.count, 9);
        // Rows with any encoding anomaly, each once: all but "ok" and " padded".
        assert_eq!(a.rows, 7);
    }

    #[test]
    fn each_class_has_its_own_kind() {
        let one = |s: &str| {
            let mut t = TextStats::default();
            t.add(s);
            t.anomalies
        };
        assert_eq!(one("a\u{A0}b").unusual_space, 1);
        assert_eq!(one("a\u{202F}b").unusual_space, 1);
        assert_eq!(one("line\nbreak").line_break_or_tab, 1);
        assert_eq!(
            one("line\nbreak").control,
            0,
            "a line break is not a C0 control here"
        );
        assert_eq!(one("bell\u{7}").control, 1);
        assert_eq!(one("c1\u{85}").line_break_or_tab, 1);
        assert_eq!(one("c1\u{9B}x").control, 1);
        assert_eq!(one("x\u{2066}y\u{2069}").bidi_control, 1);
        assert_eq!(one("x\u{202E}y").bidi_control, 1);
        assert_eq!(one("x\u{FE0F}").variation_or_filler, 1);
        assert_eq!(one("x\u{3164}").variation_or_filler, 1);
        assert_eq!(one("a\u{200B}b").zero_width, 1);
        // Clean text in any script, and scripts mixed across words, is never flagged.
        for clean in [
            "José García",
            "Müller-Lüdenscheidt",
            "東京タワー",
            "서울 한국",
            "Москва",
            "Αθήνα",
            "Tokyo 東京",
            "iPhone 15 Pro",
            "مرحبا",
            "नमस्ते",
        ] {
            assert_eq!(one(clean).rows, 0, "{clean} flagged: {:?}", one(clean));
        }
        assert_eq!(one("Pаypal").mixed_scripts, 1, "Latin with a Cyrillic а");
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
