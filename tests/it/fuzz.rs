//! Seeded fuzzers for the URL redaction and the masking functions, over a committed corpus
//! (`tests/fixtures/fuzz/`). Each input of the corpus is tried as it is and then mutated (random
//! bytes, unicode, control characters, separators that confuse URL parsers), and every result
//! must hold the property stated beside it.
//!
//! `cargo test` runs a bounded number of iterations (seconds); a longer run is
//! `REALITYCHECK_FUZZ_ITERS=20000 cargo test --test it fuzz` (the seed is printed on failure:
//! `REALITYCHECK_FUZZ_SEED=N` repeats it). Why not cargo-fuzz or proptest: cargo-fuzz needs a
//! nightly toolchain this project does not pin, and proptest's `std` feature turns on features of
//! crates Polars shares, which would make `cargo test` rebuild Polars after `cargo run`.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use realitycheck::mask::MaskKey;
use realitycheck::mask::methods::{self, Ff1, FpeError};
use realitycheck::secret::{SourceUrl, scrub};

fn iterations() -> usize {
    std::env::var("REALITYCHECK_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

fn seed() -> u64 {
    std::env::var("REALITYCHECK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed)
}

fn corpus(name: &str) -> Vec<String> {
    let path = crate::common::repo().join("tests/fixtures/fuzz").join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

const TRICKY: &[char] = &[
    '@', ':', '/', '?', '#', '&', '=', '%', ' ', '\'', '"', '\\', '[', ']', '+', ';', '\0', '\n',
    '\u{1b}', '\u{202e}', '\u{200b}', 'é', '東', '🙂',
];

/// A secret that cannot occur in a template by chance: a marker, then random characters.
fn secret(rng: &mut ChaCha8Rng) -> String {
    let mut s = String::from("Qz");
    for _ in 0..rng.random_range(4..24) {
        if rng.random_bool(0.3) {
            s.push(TRICKY[rng.random_range(0..TRICKY.len())]);
        } else {
            s.push(char::from(rng.random_range(b'!'..=b'~')));
        }
    }
    s
}

fn mutate(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..rng.random_range(1..4) {
        let at = rng.random_range(0..=chars.len());
        match rng.random_range(0..3) {
            0 => chars.insert(at, TRICKY[rng.random_range(0..TRICKY.len())]),
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.insert(at, char::from(rng.random_range(b'0'..=b'z'))),
        }
    }
    chars.into_iter().collect()
}

/// The redacted form, the Debug form and a scrubbed message never hold the whole secret, and
/// redaction never panics, whatever the URL.
#[test]
fn fuzz_url_redaction() {
    let templates = corpus("urls.txt");
    assert!(templates.len() >= 15);
    let seed = seed();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in 0..iterations() {
        let t = &templates[i % templates.len()];
        let s = secret(&mut rng);
        // Mutations go after the secret's place: before it they could turn `password=` into a
        // key no driver reads, and then showing the value would be right.
        let t = match t.split_once("{S}") {
            Some((head, tail)) if i >= templates.len() && rng.random_bool(0.5) => {
                format!("{head}{{S}}{}", mutate(&mut rng, tail))
            }
            _ => t.clone(),
        };
        let url = t.replace("{S}", &s);
        let u = SourceUrl::new(&url);
        let shown = format!("{u} | {u:?} | {}", u.redacted());
        assert!(
            !shown.contains(&s),
            "seed {seed}, iteration {i}: the secret survived redaction of {url:?}: {shown}"
        );
        let msg = scrub(&format!("error: cannot connect to {url}"));
        assert!(
            !msg.contains(&s),
            "seed {seed}, iteration {i}: scrub kept the secret: {msg}"
        );
    }
}

/// Every masking function, on every corpus value and its mutations: no panic; deterministic
/// per key; format-preserving output keeps each character's class; hashes are 32 hex digits;
/// generalized text keeps its length; shifted dates stay within their bound and are never 0.
#[test]
fn fuzz_masking_functions() {
    let values = corpus("values.txt");
    let key = MaskKey::from_bytes(b"fuzz-key-0123456789".to_vec(), "FUZZ", false);
    let other = MaskKey::from_bytes(b"fuzz-key-other-key".to_vec(), "FUZZ", false);
    let ff1 = Ff1::new(&key);
    let seed = seed();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xfeed);
    for i in 0..iterations() {
        let base = &values[i % values.len()];
        let v = if i >= values.len() {
            mutate(&mut rng, base)
        } else {
            base.clone()
        };
        let b = v.as_bytes();

        let h = methods::hash(&key, b);
        assert!(h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(h, methods::hash(&key, b), "hash is deterministic");
        assert_ne!(h, methods::hash(&other, b), "hash is keyed");
        assert!(methods::hash_email(&key, b).ends_with("@masked.invalid"));

        let p = methods::pseudonym(&key, b, &|_| false);
        assert_ne!(p.as_bytes(), b);
        assert_eq!(p, methods::pseudonym(&key, b, &|_| false));

        match ff1.encrypt(&v) {
            Ok(x) => {
                let (a, z): (Vec<char>, Vec<char>) = (v.chars().collect(), x.chars().collect());
                assert_eq!(a.len(), z.len(), "seed {seed}, iteration {i}: {v:?}");
                for (c, d) in a.iter().zip(&z) {
                    if c.is_ascii_digit() {
                        assert!(d.is_ascii_digit());
                    } else if c.is_alphanumeric() {
                        assert!(d.is_ascii_alphabetic() && c.is_uppercase() == d.is_uppercase());
                    } else {
                        assert_eq!(c, d, "separators stay in place");
                    }
                }
                assert_eq!(ff1.encrypt(&v), Ok(x));
            }
            Err(FpeError::DomainTooSmall) => {
                let digits = v.chars().filter(char::is_ascii_digit).count();
                let letters = v
                    .chars()
                    .filter(|c| c.is_alphanumeric() && !c.is_ascii_digit())
                    .count();
                assert!(
                    (digits > 0 && digits < methods::MIN_DIGITS)
                        || (letters > 0 && letters < methods::MIN_LETTERS),
                    "seed {seed}, iteration {i}: refused {v:?}"
                );
            }
        }

        let keep = rng.random_range(0..6);
        let g = methods::generalize_text(&v, keep);
        assert_eq!(g.chars().count(), v.chars().count());
        let max_days = rng.random_range(1..400u32);
        let off = methods::date_offset(&key, b, max_days);
        assert!(off != 0 && off.abs() <= i64::from(max_days) * 86_400_000_000);
        let t = rng.random_range(-2_000_000_000_000_000i64..4_000_000_000_000_000);
        if let Some(m) = methods::generalize_timestamp(t, realitycheck::spec::Granularity::Month) {
            assert!(m <= t);
        }
    }
}

/// Values a mutated spec gets in place of one of its numbers.
const ODD_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.5",
    "2",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "1e-300",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1000000000",
    "3.7",
];

/// Values a mutated spec gets in place of one of its strings.
const ODD_STRINGS: &[&str] = &[
    "",
    "x",
    "id",
    "orders.id",
    "customers.created_at",
    "sequence",
    "choice",
    "timestamp",
    "null",
    "mixture",
    "2024-01-01",
    "31 days",
    "0",
    "decimal(38, 38)",
    "int8",
    "bool",
    "date",
    "uuid",
    "[a-z]{2}",
    "(",
    "SELECT 1",
    "*",
    "true|false",
    "\u{202e}",
    "東京",
];

/// A spec text changed in a few places: a number or a string replaced, a line dropped,
/// doubled or moved.
fn mutate_spec(rng: &mut ChaCha8Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..rng.random_range(1..4) {
        if lines.is_empty() {
            break;
        }
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..5) {
            0 => {
                // Replace the first number after a random `=` on the line.
                let l = &lines[i];
                if let Some(eq) = l.find(" = ") {
                    let rest = &l[eq + 3..];
                    let start = rest.find(|c: char| c.is_ascii_digit() || c == '-');
                    if let Some(s0) = start {
                        let tail = &rest[s0..];
                        let len = tail
                            .find(|c: char| !(c.is_ascii_alphanumeric() || "-+.".contains(c)))
                            .unwrap_or(tail.len());
                        let new = ODD_NUMBERS[rng.random_range(0..ODD_NUMBERS.len())];
                        lines[i] =
                            format!("{}{}{}{}", &l[..eq + 3], &rest[..s0], new, &tail[len..]);
                    }
                }
            }
            1 => {
                // Replace one quoted string.
                let l = lines[i].clone();
                let quotes: Vec<usize> = l.match_indices('"').map(|(j, _)| j).collect();
                if quotes.len() >= 2 {
                    let k = rng.random_range(0..quotes.len() / 2) * 2;
                    let new = ODD_STRINGS[rng.random_range(0..ODD_STRINGS.len())];
                    lines[i] = format!("{}\"{}\"{}", &l[..quotes[k]], new, &l[quotes[k + 1] + 1..]);
                }
            }
            2 => {
                lines.remove(i);
            }
            3 => {
                let l = lines[i].clone();
                lines.insert(rng.random_range(0..=lines.len()), l);
            }
            _ => {
                let j = rng.random_range(0..lines.len());
                lines.swap(i, j);
            }
        }
    }
    lines.join("\n")
}

/// Whatever `check` accepts, `generate` runs without a panic: every bundled spec and the odd
/// corpus (`tests/fixtures/specs-odd/`: numbers at their types' edges, self-references, empty
/// child tables, a spec too big for any machine), as they are and mutated. A spec `check`
/// refuses is refused with its file named, never with a panic.
#[test]
fn fuzz_specs_never_panic() {
    let root = crate::common::repo();
    let mut corpus: Vec<(std::path::PathBuf, String)> = Vec::new();
    for dir in ["specs", "tests/fixtures/specs-odd"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            corpus.push((f, text));
        }
    }
    let seed = seed();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let runs = (iterations() / 10).max(corpus.len());
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..runs {
        let (path, base) = &corpus[i % corpus.len()];
        let text = if i < corpus.len() {
            base.clone()
        } else {
            mutate_spec(&mut rng, base)
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let spec = match realitycheck::spec::Spec::parse(path, &text) {
                Ok(s) => s,
                Err(e) => {
                    assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
                    return false;
                }
            };
            if !realitycheck::generate::check_sql(&spec).is_empty() {
                return false;
            }
            // What generate would refuse up front; the rest is generated small.
            let e = realitycheck::generate::estimate::estimate(&spec, 1.0);
            if e.rows > 1e9 {
                return true;
            }
            let scale = (5_000.0 / e.rows.max(1.0)).min(1.0);
            let _ = realitycheck::generate::generate(&spec, 7, scale);
            true
        }));
        match outcome {
            Ok(true) => accepted += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!(
                "seed {seed}, run {i}: a spec panicked (REALITYCHECK_FUZZ_SEED={seed} repeats it):\n{text}"
            ),
        }
    }
    assert!(
        accepted > runs / 10,
        "{accepted} accepted of {runs}: the mutations are too harsh"
    );
    assert!(
        refused > 0,
        "no mutated spec was refused: the mutations are too mild"
    );
}
