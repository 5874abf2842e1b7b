//! Bad specs: every problem at once, each with file:line:col, key and what was expected.

use crate::common::*;

#[test]
fn check_accepts_the_demo_spec() {
    let r = run_in(&repo(), &["check", "specs/shop.toml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("6 tables"), "{}", r.stdout);
}

#[test]
fn a_typo_names_file_line_column_and_key() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(shop_spec())
        .unwrap()
        .replace("max_days = 30 }", "max_dyas = 30 }");
    let spec = w.write("typo.toml", &text);
    let line = text.lines().position(|l| l.contains("max_dyas")).unwrap() + 1;
    let r = w.run(&["check", spec.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(&format!("typo.toml:{line}:")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("max_dyas"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `max_days`?"),
        "{}",
        r.stderr
    );
}

/// A swapped pair of letters in a short key still gets its suggestion, and each problem shows
/// the offending line with a caret under the key.
#[test]
fn a_transposed_short_key_is_suggested_and_its_line_shown() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(shop_spec()).unwrap().replacen(
        "{ gen = \"sequence\"",
        "{ gne = \"sequence\"",
        1,
    );
    let spec = w.write("swap.toml", &text);
    let line = text.lines().find(|l| l.contains("gne =")).unwrap();
    let r = w.run(&["check", spec.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("did you mean `gen`?"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("| {line}")), "{}", r.stderr);
    let caret = format!("| {}^", " ".repeat(line.find("gne").unwrap()));
    assert!(r.stderr.contains(&caret), "{}", r.stderr);
}

#[test]
fn semantic_problems_are_all_reported() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(shop_spec())
        .unwrap()
        .replace("ref = \"customers.id\"", "ref = \"clients.id\"")
        .replace("mu = 3.0, sigma = 0.7", "mu = 3.0, sigma = -1")
        .replace("mask = \"hash_email\"", "mask = \"scramble\"");
    let spec = w.write("bad.toml", &text);
    let r = w.run(&["verify", spec.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("3 problems"), "{}", r.stderr);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, key, what) in [
        (
            "clients.id",
            "tables.orders.columns.customer_id.ref",
            "`clients.id` is not a column of this spec",
        ),
        (
            "sigma = -1",
            "tables.products.columns.price.sigma",
            "expected sigma > 0",
        ),
        (
            "scramble",
            "tables.customers.columns.email.mask",
            "unknown mask `scramble`",
        ),
    ] {
        let expect = format!("bad.toml:{}:", line_of(needle));
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(key))
            .unwrap_or_else(|| panic!("no error for {key}: {}", r.stderr));
        assert!(line.contains(&expect) && line.contains(what), "{line}");
    }
    assert!(!w.path("reports").exists(), "a bad spec writes nothing");
}

#[test]
fn reference_spec_documents_and_parses() {
    let r = run_in(&repo(), &["check", "specs/reference.toml"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// The spec shown in the README's spec section is a working spec: it passes `check`, and
/// `generate` makes data from it that obeys its rules.
#[test]
fn the_readme_spec_example_checks_and_generates() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = readme.split("## The spec format").nth(1).unwrap();
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let w = Workdir::new();
    let spec = w.write("readme.toml", example);
    let spec = spec.to_str().unwrap();
    let r = w.run(&["check", spec]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = w.run(&["generate", spec, "--out", "gen"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("scenario `late refund`"), "{}", r.stderr);
}

/// Two misspelt keys at two levels: both are reported at once, each at its line, each with the
/// key it was meant to be.
#[test]
fn every_misspelt_key_is_reported_at_once() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(shop_spec())
        .unwrap()
        .replace("max_days = 30 }", "max_dyas = 30 }")
        .replace("statement_timeout_s = 60", "statment_timeout_s = 60");
    let spec = w.write("typos.toml", &text);
    let r = w.run(&["check", spec.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.all());
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, meant) in [
        ("max_dyas", "max_days"),
        ("statment_timeout_s", "statement_timeout_s"),
    ] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&format!("`{needle}`")))
            .unwrap_or_else(|| panic!("{needle} not reported: {}", r.stderr));
        assert!(
            line.contains(&format!("typos.toml:{}:", line_of(needle)))
                && line.contains(&format!("did you mean `{meant}`?")),
            "{line}"
        );
    }
}
