//! PostgreSQL and MariaDB: real servers, a fresh database per test.

use crate::common::*;

const TABLES: [(&str, &str); 5] = [
    (
        "customers",
        "id, email, full_name, phone, country, created_at",
    ),
    (
        "orders",
        "id, customer_id, status, total, coupon_code, placed_at, item_count",
    ),
    ("order_items", "id, order_id, sku, quantity, unit_price"),
    ("payments", "id, order_id, method, paid_at"),
    ("refunds", "id, order_id, amount, reason, created_at"),
];

/// Clean data passes; after the demo's quirks the gate fails on each; the source never changes.
fn clean_then_quirks(db: &TempDb) {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let g = w.run(&[
        "generate", spec, "--seed", "7", "--out", "gen", "--to", &db.url,
    ]);
    assert_eq!(g.code, 0, "{}", g.all());

    let before = db.fingerprint(&TABLES);
    let v = w.run(&["verify", spec, "--source", &db.url, "--report", "clean"]);
    assert_eq!(v.code, 0, "clean data must pass:\n{}", v.all());
    assert_eq!(
        db.fingerprint(&TABLES),
        before,
        "extraction changed the source"
    );
    sample_keeps_referential_integrity(&w.path("clean/production"));
    let audit = std::fs::read_to_string(w.path("clean/masking-audit.md")).unwrap();
    assert!(
        audit.contains(" WHERE "),
        "the sample is taken in the database:\n{audit}"
    );

    db.execute(&std::fs::read_to_string(repo().join("specs/shop/quirks.sql")).unwrap());
    let v = w.run(&["verify", spec, "--source", &db.url, "--report", "quirks"]);
    assert_eq!(v.code, 1, "{}", v.all());
    let report = report_json(&w.path("quirks"));
    for (kind, at) in [
        ("unseen_shape", "customers.phone"),
        ("encoding_anomaly", "customers.full_name"),
        ("unseen_category", "orders.status"),
        ("rule_violation", "refunds"),
        ("orphan_keys", "order_items.order_id"),
        ("null_rate", "orders.coupon_code"),
        ("schema_drift", "customers.loyalty_tier"),
    ] {
        assert!(
            failing(&report, kind).iter().any(|h| h == at),
            "no failing {kind} at {at}"
        );
    }
}

/// About 1500 of 2000 customers (the spec's `sample = { rows = 1500 }`), and every sampled child
/// row's parent in the sample.
fn sample_keeps_referential_integrity(dir: &std::path::Path) {
    let customers: std::collections::HashSet<i64> =
        keys(dir, "customers", "id").into_iter().collect();
    assert!(
        (1300..=1700).contains(&customers.len()),
        "{} customers sampled",
        customers.len()
    );
    let orders: std::collections::HashSet<i64> = keys(dir, "orders", "id").into_iter().collect();
    assert!(
        keys(dir, "orders", "customer_id")
            .iter()
            .all(|c| customers.contains(c))
    );
    for child in ["order_items", "payments", "refunds"] {
        let fks = keys(dir, child, "order_id");
        assert!(!fks.is_empty(), "{child} sampled");
        assert!(
            fks.iter().all(|o| orders.contains(o)),
            "{child} rows without their order"
        );
    }
}

/// The session extraction uses refuses writes, whatever SQL reaches it.
fn read_only_session_refuses_writes(db: &TempDb) {
    db.execute("CREATE TABLE t (id BIGINT)");
    let err = block_on(async {
        let (mut conn, _) = realitycheck::db::connect(&db.url, true, 30).await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut conn).await.unwrap();
        sqlx::Executor::execute(&mut *tx, "INSERT INTO t VALUES (1)")
            .await
            .err()
    });
    let err = err.expect("an INSERT in a read-only session must fail");
    assert!(err.to_string().to_lowercase().contains("read"), "{err}");
}

#[test]
fn postgres_clean_passes_quirks_fail_source_unchanged() {
    clean_then_quirks(&TempDb::postgres("pg"));
}

#[test]
fn postgres_extraction_session_is_read_only() {
    read_only_session_refuses_writes(&TempDb::postgres("pgro"));
}

#[test]
fn mariadb_clean_passes_quirks_fail_source_unchanged() {
    clean_then_quirks(&TempDb::mysql("my"));
}

#[test]
fn mariadb_extraction_session_is_read_only() {
    let db = TempDb::mysql("myro");
    read_only_session_refuses_writes(&db);
    let timeout: f64 = block_on(async {
        let (mut conn, _) = realitycheck::db::connect(&db.url, true, 30).await.unwrap();
        let row: (f64,) = sqlx::query_as("SELECT CAST(@@max_statement_time AS DOUBLE)")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        row.0
    });
    assert_eq!(
        timeout, 30.0,
        "the extraction session has a statement timeout"
    );
}

#[test]
fn sqlite_extraction_session_is_read_only() {
    let w = Workdir::new();
    let url = w.sqlite("ro.sqlite", "CREATE TABLE t (id BIGINT)");
    let err = block_on(async {
        let (mut conn, _) = realitycheck::db::connect(&url, true, 30).await.unwrap();
        sqlx::Executor::execute(&mut conn, "INSERT INTO t VALUES (1)")
            .await
            .err()
    });
    assert!(
        err.is_some(),
        "an INSERT through a read-only SQLite session must fail"
    );
}

#[test]
fn passwords_never_reach_error_messages() {
    let w = Workdir::new();
    let spec = shop_spec();
    let r = w.run(&[
        "verify",
        spec.to_str().unwrap(),
        "--source",
        "postgres://postgres:hunter2secret@127.0.0.1:1/nowhere",
        "--report",
        "out",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(!r.all().contains("hunter2secret"), "{}", r.all());
    assert!(
        r.stderr.contains("127.0.0.1:1"),
        "the error still says where: {}",
        r.stderr
    );
}

/// A source that cannot be reached fails before anything is generated, with what to try next,
/// and without the password.
#[test]
fn an_unreachable_source_fails_first_with_a_hint() {
    let w = Workdir::new();
    let spec = shop_spec();
    for (url, hint) in [
        (
            "postgres://reader:Sup3rS3cret@127.0.0.1:1/shop".to_string(),
            "Is the server running",
        ),
        (
            format!("{}/rc_no_such_database_here", pg_base()),
            "no such database",
        ),
    ] {
        let r = w.verify(&spec, &url, "out");
        assert_eq!(r.code, 2, "{}", r.all());
        assert!(r.stderr.contains(hint), "{}", r.stderr);
        assert!(!r.all().contains("Sup3rS3cret"), "{}", r.all());
        assert!(!w.path("out").exists(), "nothing was written");
        assert!(
            !r.stderr.contains("generated"),
            "nothing was generated: {}",
            r.stderr
        );
    }
}

/// PostgreSQL rows arrive through `COPY ... TO STDOUT`, whose text format escapes tabs, line
/// breaks and backslashes and writes NULL as `\N`: every such value is read back exactly, a
/// text `\N` stays text and an empty string stays apart from NULL, also in a sampled child
/// table (a union whose ordering columns ride along) and whatever the batch size.
#[test]
fn postgres_values_with_copy_escapes_are_read_back_exactly() {
    let db = TempDb::postgres("copyesc");
    db.execute(
        "CREATE TABLE t (id integer PRIMARY KEY, note text);
         INSERT INTO t VALUES (1, E'a\\tb'), (2, E'line1\\nline2'), (3, E'back\\\\slash'),
           (4, '\\N'), (5, ''), (6, NULL), (7, 'ünï ☃'), (8, E'cr\\r'), (9, E'\\\\\\\\N'),
           (10, E'bell\\x07\\x0b\\x0c\\x08');",
    );
    let w = Workdir::new();
    let spec = w.write(
        "t.toml",
        r#"[domain]
name = "t"
seed = 1
[tables.t]
rows = 10
[tables.t.columns]
id = { gen = "sequence" }
note = { gen = "words", null_rate = 0.1 }
"#,
    );
    let want: Vec<String> = [
        "a\tb",
        "line1\nline2",
        "back\\slash",
        "\\N",
        "",
        "ünï ☃",
        "cr\r",
        "\\\\N",
        "bell\u{7}\u{b}\u{c}\u{8}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for batch in ["1", "3", "1000"] {
        let out = format!("x{batch}");
        let r = w.run(&[
            "extract",
            spec.to_str().unwrap(),
            "--source",
            &db.url,
            "--out",
            &out,
            "--batch-rows",
            batch,
        ]);
        assert_eq!(r.code, 0, "{}", r.all());
        let file = w.path(&out).join("t.parquet");
        assert_eq!(text_column(&file, "note"), want, "batch {batch}");
        let df = realitycheck::frame::read_parquet(&file).unwrap();
        assert_eq!(df.column("note").unwrap().null_count(), 1, "batch {batch}");
        let audit = std::fs::read_to_string(w.path(&out).join("masking-audit.md")).unwrap();
        assert!(
            audit.contains("COPY (SELECT"),
            "the audit names the COPY run"
        );
    }
}
