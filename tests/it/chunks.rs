//! Streaming generation (issue 8): tables are generated and written a chunk of rows at a time,
//! the files do not depend on the chunk size (nor on whether the tables were generated whole),
//! and memory is bounded by the chunk, not by the data. Profiles do not depend on how many
//! threads made them.

use std::path::Path;

use crate::common::*;

/// Every feature that keeps state from row to row, beside the reference spec's: a
/// self-reference, a `unique` column whose generator repeats itself, `within` references, a
/// composite key whose repeats are dropped, and a derived column with `_rand` and `null_rate`.
const LINKS: &str = r#"
[domain]
name = "links"
seed = 5

[tables.teams]
rows = 6
[tables.teams.columns]
id = { gen = "sequence" }
name = { gen = "choice", values = { red = 0.5, blue = 0.5 } }

[tables.people]
rows = 300
[tables.people.columns]
id = { gen = "sequence" }
team_id = { ref = "teams.id" }
manager_id = { ref = "people.id" }
badge = { gen = "int", min = 1, max = 400, unique = true }
bonus = { sql = "badge * 2 + _rand", type = "float", null_rate = 0.3 }
team_name = { sql = "teams.name", type = "text" }

[tables.projects]
rows = 40
[tables.projects.columns]
id = { gen = "sequence" }
team_id = { ref = "teams.id" }

[tables.assignments]
rows = 900
key = ["person_id", "project_id"]
[tables.assignments.columns]
team_id = { ref = "teams.id" }
person_id = { ref = "people.id", within = "team_id" }
project_id = { ref = "projects.id", within = "team_id", skew = 1.1 }
hours = { gen = "mixture", of = [ { weight = 0.8, gen = "int", min = 1, max = 8 }, { weight = 0.2, gen = "poisson", mean = 30.0 } ] }
"#;

/// The manifest of a generated folder without its timestamp: every file's rows and SHA-256.
fn outcome(w: &Workdir, out: &str) -> serde_json::Value {
    let mut ds = w.json(&format!("{out}/_dataset.json"));
    ds.as_object_mut().unwrap().remove("created_at");
    ds
}

/// Chunks of 1, 7 and the default number of rows give byte-identical files, and the same
/// files as the tables generated whole (which `--to` does); with `--shard`, the parts of the
/// streamed tables put together are the whole, also where a composite key dropped rows.
#[test]
fn generation_is_the_same_for_any_batch_size() {
    let w = Workdir::new();
    let links = w.write("links.toml", LINKS);
    let specs = [
        (repo().join("specs/reference.toml"), "3"),
        (repo().join("specs/billing.toml"), "0.1"),
        (links, "1"),
    ];
    for (i, (spec, scale)) in specs.iter().enumerate() {
        let spec = spec.to_str().unwrap();
        let db = format!("sqlite://{}", w.path(&format!("whole{i}.sqlite")).display());
        let whole = format!("whole{i}");
        let r = w.run(&[
            "generate", spec, "--scale", scale, "--out", &whole, "--to", &db,
        ]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(
            r.stderr.contains("generating whole tables in memory"),
            "{}",
            r.stderr
        );
        let want = outcome(&w, &whole);
        let rows: u64 = want["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["rows"].as_u64().unwrap())
            .sum();
        assert!(rows >= 400, "{spec}: {rows} rows");
        for batch in ["1", "7", "65536"] {
            let out = format!("s{i}-{batch}");
            let r = w.run(&[
                "generate",
                spec,
                "--scale",
                scale,
                "--out",
                &out,
                "--batch-rows",
                batch,
            ]);
            assert_eq!(r.code, 0, "{spec} batch {batch}: {}", r.all());
            assert!(
                r.stderr.contains(&format!("{batch} rows at a time")),
                "{spec} batch {batch} did not stream: {}",
                r.stderr
            );
            assert_eq!(outcome(&w, &out), want, "{spec} at batch size {batch}");
        }
    }
    // Shards of the streamed links spec, put together in order, are the whole run.
    let links = w.path("links.toml");
    for table in ["people", "assignments"] {
        let mut parts: Option<polars::prelude::DataFrame> = None;
        for k in 1..=3 {
            let out = format!("shard{k}");
            let r = w.run(&[
                "generate",
                links.to_str().unwrap(),
                "--shard",
                &format!("{k}/3"),
                "--batch-rows",
                "50",
                "--out",
                &out,
            ]);
            assert_eq!(r.code, 0, "{}", r.all());
            let df = read(&w.path(&out), table);
            assert!(df.height() > 0, "shard {k} of {table} is empty");
            match &mut parts {
                Some(p) => {
                    p.vstack_mut(&df).unwrap();
                }
                None => parts = Some(df),
            }
        }
        let whole = read(&w.path("whole2"), table);
        assert!(
            parts.unwrap().equals_missing(&whole),
            "the shards of {table} differ from the whole"
        );
    }
    // Composite keys dropped rows: the link table holds fewer rows than it drew.
    assert!(read(&w.path("whole2"), "assignments").height() < 900);
    // A column aggregating over a child table needs that table whole: said, and still right.
    let r = w.run(&["generate", shop_spec().to_str().unwrap(), "--out", "shop"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains(
            "generating whole tables in memory: `orders.subtotal` aggregates over `order_items`"
        ),
        "{}",
        r.stderr
    );
}

fn read(dir: &Path, table: &str) -> polars::prelude::DataFrame {
    realitycheck::frame::read_parquet(&dir.join(format!("{table}.parquet"))).unwrap()
}

/// Three million orders (about 0.6 GB of values) generate under a hard 1 GB address-space
/// limit with a peak resident memory under half the data's size; the same limit stops a run
/// given the whole table as one chunk, which is what generation held before it streamed.
#[test]
fn generation_memory_is_bounded_by_the_batch_not_the_data() {
    let w = Workdir::new();
    let spec = w.write(
        "orders.toml",
        r#"
[domain]
name = "orders"
seed = 3
[tables.customers]
rows = 300000
[tables.customers.columns]
id = { gen = "sequence" }
country = { gen = "choice", values = { US = 0.5, DE = 0.3, JP = 0.2 } }
[tables.orders]
rows = 3000000
[tables.orders.columns]
id = { gen = "sequence" }
customer_id = { ref = "customers.id" }
placed_at = { gen = "timestamp", from = "2020-01-01", to = "2026-01-01" }
status = { gen = "choice", values = { PAID = 0.7, SHIPPED = 0.2, REFUNDED = 0.1 } }
amount = { gen = "lognormal", mu = 3.5, sigma = 0.8, min = 1.0, round = 2 }
email = { gen = "email", domain = "example.com", pii = "email", mask = "hash_email" }
name = { gen = "person_name", pii = "name", mask = "pseudonym" }
note = { gen = "words", min = 10, max = 30 }
"#,
    );
    const LIMIT_KIB: u64 = 1024 * 1024;
    let limited = |batch: &str, out: &str| {
        let args = [
            "generate",
            spec.to_str().unwrap(),
            "--out",
            out,
            "--batch-rows",
            batch,
        ];
        run_limited(&w, &args, &[], LIMIT_KIB)
    };
    let (code, err) = limited("65536", "out");
    assert_eq!(code, 0, "{err}");
    // The data's size: 8 bytes a number or timestamp, the bytes of each text value.
    let df = read(&w.path("out"), "orders");
    assert_eq!(df.height(), 3_000_000);
    let mut data_bytes = 0u64;
    for c in df.columns() {
        let s = c.as_materialized_series();
        data_bytes += match s.str() {
            Ok(t) => t.iter().flatten().map(|v| v.len() as u64).sum(),
            Err(_) => 8 * s.len() as u64,
        };
    }
    drop(df);
    assert!(data_bytes > 500_000_000, "{data_bytes} bytes of data");
    let peak_mib = logged_peak_mib(&err);
    assert!(
        peak_mib * 1024 * 1024 < data_bytes / 2,
        "peak {peak_mib} MiB for {data_bytes} bytes of data"
    );
    // The whole table as one chunk cannot fit under the same limit.
    let (code, _) = limited("3000000", "whole");
    assert_ne!(
        code, 0,
        "a whole-table chunk fit under the limit: the limit proves nothing"
    );
    assert!(!w.path("whole/_dataset.json").exists());
}

/// Columns are profiled in parallel: one thread or several, the profile is the same.
#[test]
fn profiles_are_the_same_for_any_thread_count() {
    let w = Workdir::new();
    let spec = repo().join("specs/reference.toml");
    let spec = spec.to_str().unwrap();
    let r = w.run(&["generate", spec, "--scale", "5", "--out", "d"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut seen = Vec::new();
    for threads in ["1", "2", "7"] {
        let out = format!("p{threads}.json");
        let r = run_env(
            &w,
            &["profile", "d", "--spec", spec, "--out", &out],
            &[("POLARS_MAX_THREADS", threads)],
        );
        assert_eq!(r.code, 0, "{}", r.all());
        let p = profile_json(&w, &out);
        assert!(p["tables"][0]["columns"].as_array().unwrap().len() > 30);
        seen.push(p);
    }
    assert_eq!(seen[0], seen[1], "1 and 2 threads");
    assert_eq!(seen[0], seen[2], "1 and 7 threads");
}

/// A profile without its timestamp.
fn profile_json(w: &Workdir, path: &str) -> serde_json::Value {
    let mut p = w.json(path);
    p.as_object_mut().unwrap().remove("created_at");
    p
}

/// Columns are fed to their accumulators a batch at a time: batches of 1, 7, the default and
/// one batch of every row give one profile, byte for byte (`drift.rs` checks the third way,
/// partitions profiled apart and merged).
#[test]
fn profiles_are_the_same_for_any_batch_size() {
    let w = Workdir::new();
    let links = w.write("links.toml", LINKS);
    let reference = repo().join("specs/reference.toml");
    // The reference spec at this scale has a table of more than one 65,536-row group, so
    // files are read a row group at a time and the default batch cuts it too.
    let specs = [
        ("links", links.as_path(), "1"),
        ("reference", reference.as_path(), "300"),
    ];
    for (name, spec, scale) in specs {
        let spec = spec.to_str().unwrap();
        let data = format!("{name}-data");
        let r = w.run(&["generate", spec, "--scale", scale, "--out", &data]);
        assert_eq!(r.code, 0, "{}", r.all());
        let profile = |batch: &str| {
            let out = format!("{name}-{batch}.json");
            let r = w.run(&[
                "profile",
                &data,
                "--spec",
                spec,
                "--out",
                &out,
                "--batch-rows",
                batch,
            ]);
            assert_eq!(r.code, 0, "{}", r.all());
            profile_json(&w, &out)
        };
        let whole = profile("1000000000");
        let tables = whole["tables"].as_array().unwrap();
        let most = tables.iter().map(|t| t["rows"].as_u64().unwrap()).max();
        assert!(
            most > Some(7 * 7),
            "{name}: batches of 7 must cut a table many times"
        );
        if name == "reference" {
            assert!(most > Some(65_536), "{name}: {most:?} rows");
        }
        // Every kind of accumulator is exercised: moments, categories with ranks, text.
        let columns = || tables.iter().flat_map(|t| t["columns"].as_array().unwrap());
        assert!(
            columns().any(|c| c["numeric"]["sums"]["sum"].is_array()),
            "{name}"
        );
        assert!(columns().any(|c| c["categories"].is_object()), "{name}");
        assert!(columns().any(|c| c["text"].is_object()), "{name}");
        for batch in ["1", "7", "65536"] {
            assert_eq!(profile(batch), whole, "{name}: batches of {batch} rows");
        }
    }
    let r = w.run(&[
        "profile",
        "links-data",
        "--spec",
        "links.toml",
        "--out",
        "x.json",
        "--batch-rows",
        "0",
    ]);
    assert_eq!(r.code, 2, "a batch of no rows is refused: {}", r.all());
}

/// Distinct counts of numeric columns come from their sorted values while every value is exact
/// as a double, and from exact integer keys once one is not: integers above 2^53 that one
/// double holds stay apart, whichever batch they arrive in.
#[test]
fn distinct_counts_stay_exact_beyond_double_precision() {
    let w = Workdir::new();
    // Rows 251..300 hold 2^60 + (i % 7): seven integers, one double (doubles there are 256
    // apart). Rows 1..250 hold i % 40. `x` has 13 values, and nulls.
    let spec = extracted_table(
        &w,
        300,
        "big = { gen = \"int\", min = 0, max = 40 }\nx = { gen = \"float\", min = 0, max = 6 }",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, big INTEGER, x REAL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
         INSERT INTO t SELECT i,
           CASE WHEN i > 250 THEN 1152921504606846976 + i % 7 ELSE i % 40 END,
           CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 13) * 0.5 END
         FROM n;",
    );
    for batch in ["7", "1000"] {
        let p = profile_at(&w, &spec, batch);
        let col = |name: &str| {
            p["tables"][0]["columns"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
                .unwrap_or_else(|| panic!("no column {name}"))
                .clone()
        };
        assert_eq!(col("id")["distinct"], 300, "batch {batch}");
        assert_eq!(col("big")["distinct"], 47, "batch {batch}");
        assert_eq!(col("x")["distinct"], 13, "batch {batch}");
        assert_eq!(col("x")["nulls"], 30, "batch {batch}");
    }
}

/// A one-table spec (`t`: an `id` sequence, then `columns`, given `rows`) and its production in
/// SQLite, made by `sql` and extracted to `prod`; the spec's path.
fn extracted_table(w: &Workdir, rows: u32, columns: &str, sql: &'static str) -> String {
    let spec = w.write(
        "t.toml",
        &format!(
            "[domain]\nname = \"t\"\nseed = 1\n[tables.t]\nrows = {rows}\n[tables.t.columns]\n\
             id = {{ gen = \"sequence\" }}\n{columns}\n"
        ),
    );
    let url = w.sqlite("t.sqlite", sql);
    let r = w.extract(&spec, &url, "prod");
    assert_eq!(r.code, 0, "{}", r.all());
    spec.to_str().unwrap().to_string()
}

/// The profile of `prod` at a batch size, written to `p{batch}.json`, without its timestamp.
fn profile_at(w: &Workdir, spec: &str, batch: &str) -> serde_json::Value {
    let out = format!("p{batch}.json");
    let r = w.run(&[
        "profile",
        "prod",
        "--spec",
        spec,
        "--out",
        &out,
        "--batch-rows",
        batch,
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    profile_json(w, &out)
}

/// Values whose squares are beyond the largest double (1e200) still give a finite mean and
/// deviation, the same for any batch size, in a profile that reads back (`drift`, `merge`):
/// JSON has no infinity, and a `null` deviation would make the profile unreadable.
#[test]
fn huge_values_give_profiles_that_read_back() {
    let w = Workdir::new();
    // x = (i % 5) * 1e200: mean 2e200, sample deviation about 1.43e200.
    let spec = extracted_table(
        &w,
        50,
        "x = { gen = \"float\", min = 0, max = 6 }",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
         INSERT INTO t SELECT i, (i % 5) * 1e200 FROM n;",
    );
    let mut seen = Vec::new();
    for batch in ["7", "1000"] {
        let p = profile_at(&w, &spec, batch);
        let x = &p["tables"][0]["columns"][1]["numeric"];
        let (mean, std) = (x["mean"].as_f64().unwrap(), x["std"].as_f64().unwrap());
        assert!((mean / 2e200 - 1.0).abs() < 1e-12, "mean {mean}");
        // statistics.stdev([k * 1e200 for k in [0, 1, 2, 3, 4] * 10]) = 1.4285714285714286e200
        assert!(
            (std / 1.4285714285714286e200 - 1.0).abs() < 1e-12,
            "std {std}"
        );
        // The numbers only: a production sketch is keyed by this run's ephemeral masking key.
        seen.push(x.clone());
        let out = format!("p{batch}.json");
        let r = w.run(&["drift", &out, &out, "--spec", &spec]);
        assert_eq!(r.code, 0, "the profile reads back: {}", r.all());
    }
    assert_eq!(seen[0], seen[1], "batches of 7 and of 1000 rows");
    let r = w.run(&["merge", "p7.json", "p1000.json", "--out", "m.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let m = w.json("m.json");
    assert!(m["tables"][0]["columns"][1]["numeric"]["std"].is_f64());
}
