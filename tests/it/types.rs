//! One spec, three engines: every column type written natively (PostgreSQL boolean, MariaDB
//! tinyint(1), SQLite 0/1; DECIMAL; DATE; TIMESTAMPTZ), read back type-aware as the same values
//! the generator wrote, and every bundled spec verified against its own data passing everywhere.

use polars::prelude::*;

use crate::common::*;

/// A SQLite file in the folder, a PostgreSQL and a MariaDB database: `(engine, url, guard)`.
fn engines(w: &Workdir, tag: &str) -> Vec<(&'static str, String, Option<TempDb>)> {
    let pg = TempDb::postgres(tag);
    let my = TempDb::mysql(tag);
    vec![
        (
            "sqlite",
            format!("sqlite://{}", w.path(&format!("{tag}.sqlite")).display()),
            None,
        ),
        ("postgres", pg.url.clone(), Some(pg)),
        ("mariadb", my.url.clone(), Some(my)),
    ]
}

#[test]
fn every_bundled_spec_passes_against_its_own_data_on_every_engine() {
    let mut specs: Vec<std::path::PathBuf> = std::fs::read_dir(repo().join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 3, "{specs:?}");
    for spec in specs {
        let spec = spec.to_str().unwrap();
        let w = Workdir::new();
        for (engine, url, _db) in engines(&w, "own") {
            let g = w.run(&[
                "generate", spec, "--seed", "7", "--out", "gen", "--to", &url,
            ]);
            assert_eq!(g.code, 0, "{spec} on {engine}: {}", g.all());
            let report = format!("out-{engine}");
            let v = w.run(&["verify", spec, "--source", &url, "--report", &report]);
            assert_eq!(
                v.code,
                0,
                "{spec} verified against its own data on {engine} must pass:\n{}",
                v.all()
            );
        }
    }
}

fn frame(dir: &std::path::Path, table: &str) -> DataFrame {
    realitycheck::frame::read_parquet(&dir.join(format!("{table}.parquet"))).unwrap()
}

#[test]
fn every_type_is_read_back_as_written_from_every_engine() {
    let w = Workdir::new();
    // The whole of every table, so the three engines' samples are the same rows.
    let text = std::fs::read_to_string(repo().join("specs/reference.toml"))
        .unwrap()
        .replace("sample = { percent = 10 }", "sample = { percent = 100 }");
    let spec = w.write("reference.toml", &text);
    let spec_s = spec.to_str().unwrap();
    let g = w.run(&["generate", spec_s, "--seed", "7", "--out", "gen"]);
    assert_eq!(g.code, 0, "{}", g.all());
    let generated = frame(&w.path("gen"), "accounts");
    let dtype = |df: &DataFrame, c: &str| df.column(c).unwrap().dtype().clone();
    assert_eq!(dtype(&generated, "verified"), DataType::Boolean);
    assert_eq!(dtype(&generated, "balance"), DataType::Decimal(12, 2));
    assert_eq!(dtype(&generated, "birthday"), DataType::Date);
    assert_eq!(
        dtype(&generated, "last_seen"),
        DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    );
    assert_eq!(
        dtype(&generated, "opened"),
        DataType::Datetime(TimeUnit::Microseconds, None)
    );
    assert_eq!(dtype(&generated, "shard"), DataType::Int32);

    // Columns copied as they are (no `pii`), each compared value for value.
    let kept = [
        "id",
        "tier",
        "level",
        "score",
        "height",
        "spend",
        "refund",
        "opened",
        "country",
        "verified",
        "balance",
        "last_seen",
        "external_id",
        "shard",
        "visits",
        "retries",
        "wait_s",
        "rank",
        "seats",
        "plan_code",
        "bio",
        "source",
        "discount",
        "closed",
    ];
    for (engine, url, _db) in engines(&w, "types") {
        let g = w.run(&[
            "generate", spec_s, "--seed", "7", "--out", "g2", "--to", &url,
        ]);
        assert_eq!(g.code, 0, "{engine}: {}", g.all());
        let out = format!("prod-{engine}");
        let x = w.extract(&spec, &url, &out);
        assert_eq!(x.code, 0, "{engine}: {}", x.all());
        let prod = frame(&w.path(&out), "accounts");
        assert_eq!(prod.height(), generated.height(), "{engine}");
        for c in kept {
            let (a, b) = (generated.column(c).unwrap(), prod.column(c).unwrap());
            assert_eq!(a.dtype(), b.dtype(), "{engine}: {c}");
            assert!(
                a.as_materialized_series()
                    .equals_missing(b.as_materialized_series()),
                "{engine}: `{c}` read back differs:\n{:?}\n{:?}",
                a.head(Some(5)),
                b.head(Some(5))
            );
        }
        let ds = w.json(&format!("{out}/_dataset.json"));
        let errors: i64 = ds["extraction"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type_errors"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(errors, 0, "{engine}: no value fails to parse as its type");
    }
}

/// A production value that is not of the column's type is a type error, counted and failing:
/// a boolean column holding 'maybe', a decimal holding text, a date with a time of day.
#[test]
fn values_of_another_type_fail_as_type_errors() {
    let w = Workdir::new();
    let spec = w.write(
        "t.toml",
        r#"[domain]
name = "t"
seed = 1
[tables.t]
rows = 200
[tables.t.columns]
id = { gen = "sequence" }
ok = { gen = "bool", p = 0.5 }
price = { gen = "float", min = 1, max = 9, round = 2, type = "decimal(6, 2)" }
day = { gen = "timestamp", from = "2024-01-01", to = "2024-12-31", type = "date" }
"#,
    );
    let url = w.sqlite(
        "odd.sqlite",
        "CREATE TABLE t (id INTEGER, ok TEXT, price TEXT, day TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO t SELECT i, CASE WHEN i % 50 = 0 THEN 'maybe' WHEN i % 2 = 0 THEN 'true' ELSE '0' END,
           CASE WHEN i % 40 = 0 THEN 'n/a' ELSE printf('%d.%02d', 1 + i % 8, i % 100) END,
           CASE WHEN i % 25 = 0 THEN '2024-03-01 10:30:00' ELSE date('2024-01-01', '+' || (i % 300) || ' days') END
         FROM n;",
    );
    let v = w.verify(&spec, &url, "out");
    assert_eq!(v.code, 1, "{}", v.all());
    let report = report_json(&w.path("out"));
    for at in ["t.ok", "t.price", "t.day"] {
        assert!(
            failing(&report, "type_mismatch").iter().any(|h| h == at),
            "no failing type_mismatch at {at}: {report:#}"
        );
    }
}

/// A spec whose tables and columns have other names in the database (spaces, quotes, mixed
/// case, non-ASCII, a backtick), in a schema other than the default: generated there, sampled in
/// the database through its keys, verified clean, and an orphan planted through the database
/// names is found under the spec's names.
#[test]
fn database_names_and_schemas_are_quoted_not_refused() {
    let spec_text = |schema: &str| {
        format!(
            r#"[domain]
name = "named"
seed = 1
[source]
sample = {{ percent = 60 }}
{schema}
[masking]
unclassified = "refuse"
[tables.order_items]
db_name = "Order Items"
rows = 400
[tables.order_items.columns]
id = {{ gen = "sequence", db_name = "ID" }}
unit_price = {{ gen = "float", min = 1, max = 9, round = 2, db_name = 'Unit "Price"' }}
note = {{ gen = "choice", values = {{ a = 0.5, b = 0.5 }}, db_name = "Nöte`x" }}
[tables.refunds]
db_name = "Refunds"
rows_per = {{ parent = "order_items", dist = "poisson", mean = 1.0 }}
[tables.refunds.columns]
id = {{ gen = "sequence" }}
item_id = {{ ref = "order_items.id", db_name = "ItemId" }}
"#
        )
    };
    let w = Workdir::new();
    for (engine, url, db) in engines(&w, "names") {
        // Unique per run: on MariaDB a schema is a database of its own, dropped at the end.
        let schema_name = format!("Sales {}", url.rsplit('/').next().unwrap());
        let schema = if engine == "sqlite" {
            String::new()
        } else {
            format!("schema = \"{schema_name}\"")
        };
        let spec = w.write(&format!("named-{engine}.toml"), &spec_text(&schema));
        let spec_s = spec.to_str().unwrap();
        let g = w.run(&[
            "generate", spec_s, "--seed", "3", "--out", "g", "--to", &url,
        ]);
        assert_eq!(g.code, 0, "{engine}: {}", g.all());
        let v = w.verify(&spec, &url, &format!("clean-{engine}"));
        assert_eq!(v.code, 0, "{engine}: {}", v.all());
        let table = match engine {
            "sqlite" => "\"Refunds\"".to_string(),
            "postgres" => format!("\"{schema_name}\".\"Refunds\""),
            _ => format!("`{schema_name}`.`Refunds`"),
        };
        let (id, item) = match engine {
            "mariadb" => ("`id`", "`ItemId`"),
            _ => ("\"id\"", "\"ItemId\""),
        };
        let plant = format!("INSERT INTO {table} ({id}, {item}) VALUES (900001, 777777)");
        match &db {
            Some(db) => db.execute(&plant),
            None => block_on(async {
                let (mut c, _) = realitycheck::db::connect(&url, false, 30).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(plant))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }),
        }
        let out = format!("orphan-{engine}");
        let v = w.verify(&spec, &url, &out);
        assert_eq!(v.code, 1, "{engine}: {}", v.all());
        let report = report_json(&w.path(&out));
        assert!(
            failing(&report, "orphan_keys")
                .iter()
                .any(|h| h == "refunds.item_id"),
            "{engine}: {report:#}"
        );
        if let (Some(db), "mariadb") = (&db, engine) {
            db.execute(&format!("DROP DATABASE `{schema_name}`"));
        }
    }
}
