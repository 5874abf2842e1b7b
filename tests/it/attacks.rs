//! Privacy under attack (issue 7): each test tries to make one guarantee fail, the way an
//! attacker or a careless user would, and asserts that it holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::*;

/// Every file under `dir` as bytes, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Every decoded cell of every Parquet file and every byte of every other file under `dir`, as
/// one text to search (synthetic data excluded: it is generated, not production).
fn everything_written(dir: &Path) -> String {
    let mut all = String::new();
    for f in files(dir) {
        if f.components().any(|c| c.as_os_str() == "synthetic") {
            continue;
        }
        if f.extension().is_some_and(|e| e == "parquet") {
            let df = realitycheck::frame::read_parquet(&f).unwrap();
            for col in df.columns() {
                let s = col
                    .as_materialized_series()
                    .cast(&polars::prelude::DataType::String)
                    .unwrap();
                for v in s.str().unwrap().iter().flatten() {
                    all.push_str(v);
                    all.push('\n');
                }
            }
        } else {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&f).unwrap()));
        }
    }
    all
}

const SECRET: &str = "Hunter2-Sup3rSecret";

/// Every form a password can take in a connection string, against a real PostgreSQL (trust
/// auth ignores the password, so the run succeeds and writes every artifact) and a real
/// MariaDB (root has no password, so a wrong one fails): the secret is in no artifact and not
/// in stderr at trace level.
#[test]
fn no_url_form_leaks_its_password() {
    let db = TempDb::postgres("secret");
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let g = w.run(&[
        "generate", spec, "--seed", "7", "--out", "gen", "--to", &db.url,
    ]);
    assert_eq!(g.code, 0, "{}", g.all());
    let base = db.url.strip_prefix("postgres://").unwrap();
    let (hostport, dbname) = base.rsplit_once('/').unwrap();
    let hostport = hostport.rsplit('@').next().unwrap();
    let ok_forms = [
        format!("postgres://postgres:{SECRET}@{hostport}/{dbname}"),
        format!("postgres://{hostport}/{dbname}?user=postgres&password={SECRET}"),
        format!("postgresql://postgres@{hostport}/{dbname}?sslmode=disable&password={SECRET}"),
        // sqlx ignores `sslpassword` (and says so in a log line, which must not show it).
        format!("postgres://postgres@{hostport}/{dbname}?sslmode=prefer&sslpassword={SECRET}"),
    ];
    for (i, url) in ok_forms.iter().enumerate() {
        let out = format!("out{i}");
        let r = run_env(
            &w,
            &["verify", spec, "--source", url, "--report", &out],
            &[("RUST_LOG", "trace")],
        );
        assert!(r.code == 0 || r.code == 1, "{url}: {}", r.all());
        assert!(
            !r.all().contains(SECRET),
            "stderr/stdout of {i} holds the secret"
        );
        assert!(
            !everything_written(&w.path(&out)).contains(SECRET),
            "an artifact of form {i} holds the secret"
        );
        assert!(w.path(&out).join("run.json").exists());
    }
    let my = mysql_base();
    let my_hostport = my
        .strip_prefix("mysql://")
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap();
    let failing_forms = [
        format!("postgres:postgres:{SECRET}@{hostport}/{dbname}"),
        format!("host={hostport} user=postgres password={SECRET}"),
        format!("mysql://root:{SECRET}@{my_hostport}/mysql"),
        format!("postgres://postgres@{hostport}/no_such_db_{dbname}?password={SECRET}"),
    ];
    for url in &failing_forms {
        let r = run_env(
            &w,
            &["verify", spec, "--source", url, "--report", "bad"],
            &[("RUST_LOG", "trace")],
        );
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(
            !r.all().contains(SECRET),
            "an error printed the secret: {}",
            r.all()
        );
        assert!(
            !r.all().contains("Sup3r"),
            "a fragment of the secret: {}",
            r.all()
        );
        assert!(
            !w.path("bad").exists(),
            "a failed run leaves no report folder"
        );
    }
}

const ADDRESSES: &str = "
[domain]
name = \"addr\"
seed = 1
[masking]
k = 2
[tables.addresses]
rows = 50
[tables.addresses.columns]
address_id  = { gen = \"sequence\", start = 10001 }
postal_code = { gen = \"pattern\", format = \"#####\", pii = \"postcode\", mask = \"hash\" }
last4       = { gen = \"pattern\", format = \"####\", pii = \"card_last4\", mask = \"generalize\", mask_keep = 1 }
";

/// A 5-digit postcode and a card's last four digits can be declared PII and masked even when
/// they equal the ids of other rows (no false alarm from numbers), and neither leaks.
#[test]
fn short_pii_is_masked_beside_coinciding_ids() {
    let w = Workdir::new();
    let url = w.sqlite(
        "addr.sqlite",
        "CREATE TABLE addresses (address_id BIGINT PRIMARY KEY, postal_code TEXT, last4 TEXT);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49)
         INSERT INTO addresses SELECT 10001 + i, CAST(10001 + ((i + 7) % 50) AS TEXT),
                                      substr('0000' || (1000 + i * 3), -4) FROM n;",
    );
    let spec = w.write("addr.toml", ADDRESSES);
    let r = w.extract(&spec, &url, "out");
    assert_eq!(r.code, 0, "{}", r.all());
    let postal = text_column(&w.path("out/addresses.parquet"), "postal_code");
    assert_eq!(postal.len(), 50);
    assert!(postal.iter().all(|p| p.len() == 32), "postcodes are hashed");
    for v in text_column(&w.path("out/addresses.parquet"), "last4") {
        assert!(v.ends_with("***") && v.chars().count() == 4, "{v}");
    }
    let audit = w.json("out/masking-audit.json");
    let cols = audit["columns"].as_array().unwrap();
    assert!(
        cols.iter()
            .filter(|c| c["classification"] != "non-pii")
            .all(|c| c["leak_check"] == "passed"),
        "{audit}"
    );
    let postal_col = cols.iter().find(|c| c["column"] == "postal_code").unwrap();
    assert_eq!(postal_col["distinct_inputs"], 50);
    assert_eq!(postal_col["distinct_outputs"], 50);
}

/// A raw name of `customers.full_name` (PII) copied into `orders.recipient` (declared non-PII,
/// and not something the PII scan recognises): the cross-table leak check stops the run and
/// names both columns, not the value.
#[test]
fn a_cross_table_copy_of_a_raw_value_is_caught() {
    let w = Workdir::new();
    let url = w.sqlite(
        "x.sqlite",
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, full_name TEXT);
         CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, recipient TEXT);
         INSERT INTO customers VALUES (1, 'Wilhelmina Castellanos'), (2, 'Bartholomew Okonkwo');
         INSERT INTO orders VALUES (1, 2, 'front desk'), (2, 1, 'Bartholomew Okonkwo');",
    );
    let spec = w.write(
        "x.toml",
        r#"
[domain]
name = "x"
seed = 1
[tables.customers]
rows = 2
[tables.customers.columns]
id        = { gen = "sequence" }
full_name = { gen = "person_name", pii = "name", mask = "pseudonym" }
[tables.orders]
rows = 2
[tables.orders.columns]
id          = { gen = "sequence" }
customer_id = { ref = "customers.id" }
recipient   = { gen = "pattern", format = "????" }
"#,
    );
    let r = w.verify(&spec, &url, "out");
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("customers.full_name") && r.stderr.contains("orders.recipient"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("Bartholomew"), "{}", r.all());
    assert!(!w.path("out").exists(), "nothing may be written");
}

const TICKETS_DB: &str = "CREATE TABLE tickets (id BIGINT, notes TEXT);
     INSERT INTO tickets VALUES (1, 'customer asked for a refund'),
                                (2, 'reach me at carol.private@mail.example'),
                                (3, 'paid with 4111 1111 1111 1111'),
                                (4, 'call +1 (212) 555-0199 after 5');";

fn tickets_spec(extra: &str) -> String {
    format!(
        "[domain]\nname = \"tickets\"\nseed = 1\n[tables.tickets]\nrows = 5\n[tables.tickets.columns]\n\
         id = {{ gen = \"sequence\" }}\nnotes = {{ gen = \"pattern\", format = \"????\"{extra} }}\n"
    )
}

/// Personal data in a column declared non-PII stops the run by default, naming the column and
/// the kinds found with counts, never a value; `redact` nulls those values; `accept` copies them
/// with the reason in the audit.
#[test]
fn a_pii_looking_non_pii_column_is_refused_unless_the_spec_says_otherwise() {
    let w = Workdir::new();
    let url = w.sqlite("notes.sqlite", TICKETS_DB);
    let spec = w.write("refuse.toml", &tickets_spec(""));
    let r = w.extract(&spec, &url, "out");
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("tickets.notes (card: 1, email: 1, phone: 1)"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("carol.private") && !r.all().contains("555-0199"));
    assert!(!w.path("out").exists());

    let spec = w.write("redact.toml", &tickets_spec(", pii_scan = \"redact\""));
    let r = w.extract(&spec, &url, "out");
    assert_eq!(r.code, 0, "{}", r.all());
    let written = everything_written(&w.path("out"));
    assert!(
        written.contains("customer asked for a refund"),
        "clean values are kept"
    );
    assert!(!written.contains("carol.private") && !written.contains("4111 1111"));
    let audit = std::fs::read_to_string(w.path("out/masking-audit.md")).unwrap();
    assert!(audit.contains("3 values nulled"), "{audit}");

    let spec = w.write(
        "accept.toml",
        &tickets_spec(", pii_scan = \"accept\", pii_scan_reason = \"support notes, ticket 123\""),
    );
    let r = w.extract(&spec, &url, "acc");
    assert_eq!(r.code, 0, "{}", r.all());
    let audit = w.json("acc/masking-audit.json");
    let notes = audit["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "notes")
        .unwrap();
    assert_eq!(notes["pii_scan_policy"], "accept");
    assert_eq!(notes["pii_scan_reason"], "support notes, ticket 123");
    assert_eq!(notes["pii_scan_hits"]["email"], 1);
}

/// A column whose declared format looks like a phone or card number (ISBNs, references) is the
/// column's own data: a production made from the spec verifies, and the audit counts the values
/// left unscanned. A value of any other form in it (an e-mail, a phone in another layout) is
/// still caught: the exemption is the declared format, matched whole, nothing more.
#[test]
fn a_declared_format_is_not_pii_but_anything_else_in_the_column_is() {
    let w = Workdir::new();
    let spec = w.write(
        "books.toml",
        "[domain]\nname = \"books\"\nseed = 3\n[tables.books]\nrows = 400\n[tables.books.columns]\n\
         id = { gen = \"sequence\" }\n\
         isbn = { gen = \"regex\", regex = \"97[89]-[0-9]-[0-9]{4}-[0-9]{4}-[0-9]\" }\n\
         shelf = { gen = \"pattern\", formats = { \"###-###-####\" = 1 } }\n",
    );
    let db = w.path("books.sqlite");
    let url = format!("sqlite://{}", db.display());
    let spec_s = spec.to_str().unwrap();
    let r = w.run(&[
        "generate", spec_s, "--seed", "9", "--out", "g", "--to", &url,
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = w.verify(&spec, &url, "ok");
    assert_eq!(
        r.code,
        0,
        "a production made from the spec verifies: {}",
        r.all()
    );
    let audit = w.json("ok/masking-audit.json");
    let isbn = audit["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "isbn")
        .unwrap();
    assert_eq!(isbn["declared_format_rows"], 400);
    assert_eq!(isbn["pii_scan_hits"], serde_json::json!({}));

    block_on(async {
        use sqlx::Executor;
        let (mut c, _) = realitycheck::db::connect(&url, false, 30).await.unwrap();
        c.execute("UPDATE books SET isbn = 'ann.other@mail.example' WHERE id = 3")
            .await
            .unwrap();
        c.execute("UPDATE books SET shelf = '(555) 014-2233' WHERE id = 4")
            .await
            .unwrap();
    });
    let r = w.verify(&spec, &url, "bad");
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("books.isbn (email: 1)") && r.stderr.contains("books.shelf (phone: 1)"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("ann.other") && !r.all().contains("014-2233"));
}

/// A category value seen twice, a numeric extreme seen once and a rule-violating row: none of
/// them is printed in any report, profile, manifest or audit of production.
#[test]
fn a_value_seen_twice_reaches_no_artifact() {
    let w = Workdir::new();
    let url = w.sqlite(
        "rare.sqlite",
        "CREATE TABLE items (id BIGINT PRIMARY KEY, kind TEXT, price DOUBLE PRECISION);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
         INSERT INTO items SELECT i, CASE WHEN i % 2 = 0 THEN 'basic' ELSE 'plus' END, 10 + (i % 50) FROM n;
         UPDATE items SET kind = 'Zyxwvut' WHERE id IN (7, 8);
         UPDATE items SET price = 98765.4321 WHERE id = 9;",
    );
    let spec = w.write(
        "rare.toml",
        r#"
[domain]
name = "rare"
seed = 1
[masking]
k = 5
[tables.items]
rows = 300
[tables.items.columns]
id    = { gen = "sequence" }
kind  = { gen = "choice", values = { basic = 0.5, plus = 0.5 } }
price = { gen = "float", min = 10, max = 60, round = 2 }
[[rules]]
name = "prices stay below 1000"
sql  = "SELECT id, kind, price FROM items WHERE price > 1000"
"#,
    );
    let r = w.verify(&spec, &url, "out");
    assert_eq!(
        r.code,
        1,
        "the extreme breaks the rule and the range:\n{}",
        r.all()
    );
    let mut text = String::new();
    for f in files(&w.path("out")) {
        if f.extension().is_some_and(|e| e == "parquet") {
            continue; // the masked sample itself keeps non-PII values, as the spec declares
        }
        text.push_str(&String::from_utf8_lossy(&std::fs::read(&f).unwrap()));
    }
    text.push_str(&r.all());
    assert!(!text.contains("Zyxwvut"), "a value seen twice was printed");
    assert!(
        !text.contains("98765"),
        "a single row's extreme was printed"
    );
    let report = report_json(&w.path("out"));
    let rule = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "rule_violation")
        .expect("the rule fails");
    let ex = rule["details"]["examples"][0].as_str().unwrap();
    assert!(ex.starts_with("id=#") && !ex.contains("id=9"), "{ex}");
}

/// k-anonymity over declared quasi-identifiers, in the audit, against a hand count; and
/// enforced, it stops the run.
#[test]
fn k_anonymity_is_measured_and_can_be_enforced() {
    let w = Workdir::new();
    // (US, 1980) x3, (US, 1990) x2, (DE, 1980) x1.
    let url = w.sqlite(
        "people.sqlite",
        "CREATE TABLE people (id BIGINT PRIMARY KEY, country TEXT, born TEXT);
         INSERT INTO people VALUES (1, 'US', '1980-03-04'), (2, 'US', '1980-07-01'),
           (3, 'US', '1980-12-31'), (4, 'US', '1990-01-02'), (5, 'US', '1990-05-06'),
           (6, 'DE', '1980-02-02');",
    );
    let spec_text = |enforce: bool| {
        format!(
            r#"
[domain]
name = "people"
seed = 1
[masking]
k = 2
quasi_identifiers = ["people.country", "people.born"]
enforce_k_anonymity = {enforce}
[tables.people]
rows = 6
[tables.people.columns]
id      = {{ gen = "sequence" }}
country = {{ gen = "choice", values = {{ US = 0.8, DE = 0.2 }} }}
born    = {{ gen = "timestamp", from = "1950-01-01", to = "2000-01-01", pii = "birth_date", mask = "generalize", mask_to = "year" }}
"#
        )
    };
    let spec = w.write("p.toml", &spec_text(false));
    let r = w.extract(&spec, &url, "out");
    assert_eq!(r.code, 0, "{}", r.all());
    let audit = w.json("out/masking-audit.json");
    let k = &audit["k_anonymity"][0];
    assert_eq!(k["groups"], 3, "{k}");
    assert_eq!(k["min_group"], 1);
    assert_eq!(k["rows_below_k"], 1);
    assert!(
        audit["verdict"]
            .as_str()
            .unwrap()
            .contains("k-anonymity does NOT hold")
    );

    let spec = w.write("p2.toml", &spec_text(true));
    let r = w.extract(&spec, &url, "out2");
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("k-anonymity does not hold"),
        "{}",
        r.stderr
    );
    assert!(!w.path("out2").exists());
}

/// `shift_dates` moves every date of one entity by the same offset (intervals survive) and
/// different entities by different offsets.
#[test]
fn shifted_dates_keep_intervals_inside_an_entity() {
    let w = Workdir::new();
    let url = w.sqlite(
        "visits.sqlite",
        "CREATE TABLE visits (id BIGINT PRIMARY KEY, patient TEXT, seen_at TEXT);
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99)
         INSERT INTO visits SELECT i, 'p' || (i % 10), datetime('2024-01-01', '+' || i || ' days') FROM n;",
    );
    let spec = w.write(
        "v.toml",
        r#"
[domain]
name = "visits"
seed = 1
[tables.visits]
rows = 100
[tables.visits.columns]
id      = { gen = "sequence" }
patient = { gen = "pattern", format = "p#", pii = "patient_id", mask = "hash" }
seen_at = { gen = "timestamp", from = "2024-01-01", to = "2025-01-01", pii = "visit_date", mask = "shift_dates", mask_entity = "patient", mask_max_days = 60 }
"#,
    );
    let r = w.extract(&spec, &url, "out");
    assert_eq!(r.code, 0, "{}", r.all());
    let df = realitycheck::frame::read_parquet(&w.path("out/visits.parquet")).unwrap();
    let ids: Vec<i64> = df
        .column("id")
        .unwrap()
        .as_materialized_series()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let seen = df
        .column("seen_at")
        .unwrap()
        .as_materialized_series()
        .cast(&polars::prelude::DataType::Int64)
        .unwrap();
    let seen: Vec<i64> = seen.i64().unwrap().iter().flatten().collect();
    let day = 86_400_000_000i64;
    let base = realitycheck::spec::parse_timestamp("2024-01-01").unwrap();
    let mut offsets = std::collections::BTreeMap::new();
    for (id, t) in ids.iter().zip(&seen) {
        let offset = t - (base + id * day);
        assert!(offset != 0 && offset.abs() <= 60 * day && offset % day == 0);
        let prev = offsets.insert(id % 10, offset);
        assert!(prev.is_none_or(|p| p == offset), "one offset per patient");
    }
    let distinct: std::collections::BTreeSet<i64> = offsets.values().copied().collect();
    assert!(
        distinct.len() > 3,
        "patients get different offsets: {distinct:?}"
    );
}

/// A run that fails leaves the previous report folder byte-identical and no staging folder.
#[test]
fn a_failed_rerun_leaves_the_earlier_folder_untouched() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let url = demo_prod_url();
    let r = w.run(&["verify", spec, "--source", &url, "--report", "out"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let before = snapshot(&w.path("out"));
    assert!(before.len() > 10);
    let missing = format!("sqlite://{}", w.path("gone.sqlite").display());
    let r = w.run(&["verify", spec, "--source", &missing, "--report", "out"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    assert_eq!(
        snapshot(&w.path("out")),
        before,
        "the earlier run's files changed"
    );
    let left: Vec<String> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("staging") || n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Extraction from SQLite changes nothing about the file and creates nothing beside it.
#[test]
fn a_sqlite_source_is_left_exactly_as_it_was() {
    let w = Workdir::new();
    let src = w.path("prod.sqlite");
    std::fs::copy(repo().join("specs/shop/prod.sqlite"), &src).unwrap();
    let before = std::fs::read(&src).unwrap();
    let url = format!("sqlite://{}", src.display());
    let r = w.run(&[
        "extract",
        shop_spec().to_str().unwrap(),
        "--source",
        &url,
        "--out",
        "out",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read(&src).unwrap(),
        before,
        "the source file changed"
    );
    for side in ["prod.sqlite-wal", "prod.sqlite-shm", "prod.sqlite-journal"] {
        assert!(
            !w.path(side).exists(),
            "{side} was created beside the source"
        );
    }
}

/// Production text with an ESC sequence, a bidi override and a `|` reaches the terminal,
/// `summary.md`, `junit.xml` and `report.html` only as visible escapes.
#[test]
fn control_characters_never_reach_terminal_or_reports_raw() {
    let w = Workdir::new();
    let url = w.sqlite(
        "ctl.sqlite",
        "CREATE TABLE t (id BIGINT PRIMARY KEY, status TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO t SELECT i, CASE WHEN i <= 10 THEN char(27) || '[2J|evil' || char(8238) ELSE 'ok' END FROM n;",
    );
    let spec = w.write(
        "ctl.toml",
        "[domain]\nname = \"ctl\"\nseed = 1\n[tables.t]\nrows = 200\n[tables.t.columns]\n\
         id = { gen = \"sequence\" }\nstatus = { gen = \"choice\", values = { ok = 1.0 } }\n",
    );
    let r = w.verify(&spec, &url, "out");
    assert_eq!(r.code, 1, "{}", r.all());
    for f in ["summary.md", "junit.xml", "report.html", "report.json"] {
        let text = std::fs::read_to_string(w.path("out").join(f)).unwrap();
        if f != "report.json" {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                "raw control in {f}"
            );
        }
    }
    assert!(!r.all().contains('\u{1b}'), "raw ESC on the terminal");
    let md = std::fs::read_to_string(w.path("out/summary.md")).unwrap();
    assert!(
        md.contains("\\u{1b}[2J"),
        "the value is shown, escaped:\n{md}"
    );
    for line in md.lines().filter(|l| l.contains("unseen_category")) {
        assert_eq!(
            line.matches(" | ").count(),
            7,
            "a `|` broke the table: {line}"
        );
    }
}

/// `generate --to` is all or nothing: when the last table already exists, PostgreSQL rolls the
/// whole run back and MariaDB refuses before creating anything.
#[test]
fn generate_to_a_database_is_all_or_nothing() {
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    for db in [TempDb::postgres("atomic"), TempDb::mysql("atomic")] {
        db.execute("CREATE TABLE refunds (id BIGINT)");
        let w = Workdir::new();
        let r = w.run(&["generate", spec, "--out", "gen", "--to", &db.url]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains("refunds"), "{}", r.stderr);
        let tables = block_on(async {
            let (mut c, _) = realitycheck::db::connect(&db.url, true, 30).await.unwrap();
            let sql = if db.url.starts_with("postgres") {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
            } else {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()"
            };
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut c).await.unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
        });
        assert_eq!(
            tables,
            vec!["refunds".to_string()],
            "{}: partial output",
            db.url
        );
        assert!(
            !w.path("gen").exists(),
            "the dataset folder is not left half-made"
        );
    }
}

/// A view the spec names whose columns the read-only session cannot see (its table was
/// dropped), or that cannot be read (its definer is gone), is an error, never skipped.
#[test]
fn an_unreadable_source_object_is_an_error() {
    let spec = "[domain]\nname = \"v\"\nseed = 1\n[tables.v]\nrows = 3\n[tables.v.columns]\nid = { gen = \"sequence\" }\n";
    for setup in [
        "CREATE TABLE t (id BIGINT); CREATE VIEW v AS SELECT id FROM t; DROP TABLE t;",
        "CREATE TABLE t (id BIGINT); CREATE DEFINER='nobody'@'localhost' SQL SECURITY DEFINER VIEW v AS SELECT id FROM t;",
    ] {
        let db = TempDb::mysql("view");
        db.execute(setup);
        let w = Workdir::new();
        let s = w.write("v.toml", spec);
        let r = w.run(&[
            "extract",
            s.to_str().unwrap(),
            "--source",
            &db.url,
            "--out",
            "out",
        ]);
        assert_eq!(r.code, 2, "{setup}: {}", r.all());
        assert!(r.stderr.contains('v'), "{}", r.stderr);
        assert!(!w.path("out").exists());
    }
}

/// Ctrl-C during a run: the process exits with an error, removes its staging folder, and the
/// previous report folder is as it was.
#[cfg(unix)]
#[test]
fn ctrl_c_leaves_no_partial_output() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let url = demo_prod_url();
    let r = w.run(&["verify", spec, "--source", &url, "--report", "out"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let before = snapshot(&w.path("out"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_realitycheck"))
        .args([
            "verify", spec, "--source", &url, "--report", "out", "--scale", "40",
        ])
        .current_dir(w.dir.path())
        .env("CI", "true")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert_eq!(snapshot(&w.path("out")), before);
    let left: Vec<String> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("staging"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
