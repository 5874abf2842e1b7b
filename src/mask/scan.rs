//! The PII scan: looks for personal data in columns the spec declares non-PII — e-mail addresses,
//! phone numbers, payment card numbers (Luhn), IBANs (mod 97) and US social security numbers.
//! It counts; it never keeps or prints what it found.

use std::collections::BTreeMap;

/// The formats a spec declares for a column, matched whole: values of those formats are the
/// column's own data and are not scanned.
pub struct Declared(Option<regex::RegexSet>);

impl Declared {
    pub fn of(c: &crate::spec::Column) -> Declared {
        let formats: Vec<String> = c
            .declared_formats()
            .into_iter()
            .map(|f| format!("^(?:{f})$"))
            .collect();
        // A format the regex engine cannot compile is simply not exempt (check validated it).
        Declared(
            (!formats.is_empty())
                .then(|| regex::RegexSet::new(&formats).ok())
                .flatten(),
        )
    }

    pub fn matches(&self, v: &str) -> bool {
        self.0.as_ref().is_some_and(|s| s.is_match(v))
    }

    /// No format declared (or none the regex engine takes): nothing to match against.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

/// Rows of a column in which each kind of PII was seen.
pub fn scan<'a>(values: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut hits: BTreeMap<String, u64> = BTreeMap::new();
    for v in values {
        for kind in kinds(v) {
            *hits.entry(kind.to_string()).or_default() += 1;
        }
    }
    hits
}

/// Rows per kind, from the kinds found in each row.
pub fn count(hits: &[Vec<&'static str>]) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for kinds in hits {
        for kind in kinds {
            *out.entry(kind.to_string()).or_default() += 1;
        }
    }
    out
}

/// The kinds of PII one value seems to hold.
pub fn kinds(v: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    // One pass for what each kind cannot do without, so most values skip the tests: no `@`, no
    // e-mail; an IBAN has 15 or more capitals and digits, two of them digits; a UUID has
    // dashes; a phone, card or national id number has at least 9 digits.
    let (mut at, mut dash, mut digits, mut upper) = (false, false, 0usize, 0usize);
    for b in v.bytes() {
        match b {
            b'@' => at = true,
            b'-' => dash = true,
            b'0'..=b'9' => digits += 1,
            b'A'..=b'Z' => upper += 1,
            _ => {}
        }
    }
    if at && v.split_whitespace().any(is_email) {
        out.push("email");
    }
    let iban = digits >= 2
        && digits + upper >= 15
        && (v.split_whitespace().any(is_iban) || is_iban(&v.replace(' ', "")));
    if digits < 9 {
        if iban {
            out.push("iban");
        }
        return out;
    }
    let (mut phone, mut card, mut ssn) = (false, false, false);
    // The digits of a UUID are its own: `…-4483-8721-…` is no phone number.
    let without_uuids;
    let v = if dash && v.split_whitespace().any(is_uuid) {
        without_uuids = v
            .split_whitespace()
            .filter(|t| !is_uuid(t))
            .collect::<Vec<_>>()
            .join(" ");
        without_uuids.as_str()
    } else {
        v
    };
    // The digits of an IBAN are its own, not a phone or card number.
    for run in digit_runs(v).into_iter().filter(|_| !iban) {
        if looks_like_date(run.trim()) {
            continue;
        }
        let digits: String = run.chars().filter(char::is_ascii_digit).collect();
        if is_ssn(run.trim()) {
            ssn = true;
        } else if (13..=19).contains(&digits.len())
            && luhn(&digits)
            && !run.contains(['(', ')', '+'])
        {
            card = true;
        } else if (10..=15).contains(&digits.len()) {
            phone = true;
        }
    }
    if phone {
        out.push("phone");
    }
    if card {
        out.push("card");
    }
    if ssn {
        out.push("national_id");
    }
    if iban {
        out.push("iban");
    }
    out
}

/// `8-4-4-4-12` hexadecimal digits, braces or punctuation around allowed.
fn is_uuid(t: &str) -> bool {
    let t = t.trim_matches(|c: char| !c.is_ascii_hexdigit());
    let groups: Vec<&str> = t.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_email(t: &str) -> bool {
    let t = t.trim_matches(|c: char| matches!(c, '<' | '>' | ',' | ';' | '(' | ')' | '"' | '\''));
    let Some((local, domain)) = t.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-".contains(c))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

/// Maximal runs of digits and the separators phone and card numbers use, not glued to letters
/// (`WEST1234...` is part of an account number, not a phone).
fn digit_runs(v: &str) -> Vec<&str> {
    let mut runs = Vec::new();
    let mut start = None;
    let mut glued = false;
    let mut prev_alpha = false;
    for (i, c) in v.char_indices() {
        let part = c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+' | '.');
        match (part, start) {
            (true, None) => {
                start = Some(i);
                glued = prev_alpha && c.is_ascii_digit();
            }
            (false, Some(s)) => {
                let run = &v[s..i];
                let ends_in_digit = run.ends_with(|d: char| d.is_ascii_digit());
                let glued_after = c.is_alphabetic() && ends_in_digit;
                if !glued && !glued_after {
                    runs.push(run);
                }
                start = None;
            }
            _ => {}
        }
        prev_alpha = c.is_alphabetic();
    }
    if let (Some(s), false) = (start, glued) {
        runs.push(&v[s..]);
    }
    runs.into_iter()
        .filter(|r| r.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let Some(mut d) = c.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// `2024-01-02...`: dates and timestamps carry as many digits as a phone number.
fn looks_like_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

fn is_ssn(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 11
        && b[3] == b'-'
        && b[6] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 3 || i == 6 || c.is_ascii_digit())
}

/// Two letters, two check digits, 11 to 30 letters or digits, and ISO 7064 mod 97 == 1.
pub fn is_iban(t: &str) -> bool {
    let b = t.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rem: u64 = 0;
    for c in b[4..].iter().chain(&b[..4]) {
        let v = if c.is_ascii_digit() {
            (c - b'0') as u64
        } else {
            (c - b'A') as u64 + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind() {
        assert_eq!(kinds("write to jane.doe@example.org today"), ["email"]);
        assert_eq!(kinds("call (555) 123-4567"), ["phone"]);
        assert_eq!(kinds("+49 30 1234567"), ["phone"]);
        assert_eq!(kinds("card 4111 1111 1111 1111"), ["card"]);
        assert_eq!(kinds("ssn 123-45-6789"), ["national_id"]);
        assert_eq!(kinds("GB82 WEST 1234 5698 7654 32"), ["iban"]);
        assert_eq!(kinds("DE89370400440532013000"), ["iban"]);
    }

    #[test]
    fn ordinary_values_are_not_pii() {
        for v in [
            "PAID",
            "SKU-12345",
            "2024-01-02 03:04:05",
            "ABC-1234",
            "42.50",
            "order 1234567",
            "GB82WEST12345698765433",
        ] {
            assert!(kinds(v).is_empty(), "{v}: {:?}", kinds(v));
        }
        assert!(!luhn("4111111111111112"));
    }

    #[test]
    fn values_of_a_declared_format_are_the_column_s_own() {
        let spec = crate::spec::Spec::parse(
            std::path::Path::new("t.toml"),
            r####"[domain]
name = "t"
seed = 1
[tables.books]
rows = 10
[tables.books.columns]
isbn = { gen = "regex", regex = "97[89]-[0-9]-[0-9]{4}-[0-9]{4}-[0-9]" }
ref = { gen = "pattern", formats = { "###-###-####" = 1 } }
"####,
        )
        .expect("spec");
        let t = spec.table("books").expect("table");
        let isbn = Declared::of(t.column("isbn").expect("isbn"));
        assert!(isbn.matches("978-3-1234-5678-9"));
        assert!(
            !isbn.matches("call 978-3-1234-5678-9"),
            "matched whole, not inside"
        );
        let r = Declared::of(t.column("ref").expect("ref"));
        assert!(r.matches("555-123-4567") && !r.matches("(555) 123-4567"));
    }

    #[test]
    fn uuids_are_not_phone_numbers() {
        // Version-4 style and digit-heavy UUIDs; a regression from a draft whose uuid column
        // failed the scan as phones.
        for v in [
            "12345678-1234-5678-1234-567812345678",
            "{00000000-0000-4000-8000-000000000000}",
            "c4ca4238-a0b9-3382-8dcc-509a6f75849b",
            "98765432-1098-7654-3210-987654321098 ok",
        ] {
            assert!(kinds(v).is_empty(), "{v}: {:?}", kinds(v));
        }
        assert_eq!(
            kinds("12345678-1234-5678-1234-567812345678 call 555-123-4567"),
            ["phone"]
        );
    }

    #[test]
    fn counts_rows_per_kind() {
        let hits = scan(["a@b.co", "nothing", "x@y.io and 4111-1111-1111-1111"].into_iter());
        assert_eq!(hits.get("email"), Some(&2));
        assert_eq!(hits.get("card"), Some(&1));
    }
}
