//! The embedded demo: the README's main command, the planted quirks, a clean variant, and
//! determinism.

use std::process::Command;

use crate::common::*;

/// The README's main command, the line as written.
fn readme_main_command() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    readme
        .lines()
        .find(|l| l.trim_start().starts_with("cargo run") && l.contains(" verify "))
        .expect("the README shows the demo command")
        .trim()
        .to_string()
}

#[test]
fn readme_main_command_finds_every_planted_quirk() {
    let line = readme_main_command();
    assert!(
        line.ends_with("-- verify specs/shop.toml"),
        "the README's demo command changed: {line}"
    );
    // `cargo run -q --` is the binary this test suite built (a nested cargo would resolve
    // features without dev-dependencies and rebuild Polars); the arguments are the README's.
    let (_, args) = line.split_once(" -- ").unwrap();
    let args: Vec<&str> = args.split_whitespace().collect();
    let run = run_in(&repo(), &args);
    assert_eq!(run.code, 1, "the demo's gate must fail:\n{}", run.all());
    assert!(run.stdout.contains("FAIL:"), "{}", run.stdout);

    let dir = repo().join("reports/shop");
    let report = report_json(&dir);
    assert_eq!(report["format"], "realitycheck.report/1");
    assert_eq!(report["verdict"], "fail");
    for f in report["findings"].as_array().unwrap() {
        for key in [
            "kind",
            "table",
            "column",
            "metric",
            "value",
            "threshold",
            "severity",
        ] {
            assert!(f.get(key).is_some(), "finding without `{key}`: {f}");
        }
    }
    // Each quirk of specs/shop/quirks.sql, as a finding of the right kind at the right place.
    let expect = [
        ("unseen_shape", "customers.phone"),
        ("encoding_anomaly", "customers.full_name"),
        ("unseen_category", "orders.status"),
        ("rule_violation", "refunds"),
        ("orphan_keys", "order_items.order_id"),
        ("null_rate", "orders.coupon_code"),
        ("schema_drift", "customers.loyalty_tier"),
    ];
    for (kind, at) in expect {
        let hits = failing(&report, kind);
        assert!(
            hits.iter().any(|h| h == at),
            "no failing {kind} at {at}; got {hits:?}"
        );
    }
    // One cause, one finding: the mangled names fail as encoding damage, not again as formats.
    assert!(
        !failing(&report, "unseen_shape").contains(&"customers.full_name".to_string()),
        "{report:#}"
    );
    // One per planted quirk: a refund's amount is derived from its order's total, so a refund
    // larger than its order breaks the rule and nothing else.
    assert_eq!(report["counts"]["fail"], 7, "{report:#}");
    let unseen = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unseen_category")
        .unwrap();
    assert!(
        unseen["suggestion"]
            .as_str()
            .unwrap()
            .contains("PENDING_REVIEW"),
        "{unseen}"
    );
    let rule = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "rule_violation")
        .unwrap();
    assert!(
        rule["message"]
            .as_str()
            .unwrap()
            .contains("a refund never exceeds its order")
    );

    // The report and both profiles hold to their committed JSON Schemas.
    conforms(&report, "reports/report.schema.json");
    for p in ["profiles/synthetic.json", "profiles/production.json"] {
        let profile: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(p)).unwrap()).unwrap();
        conforms(&profile, "profiles/profile.schema.json");
    }
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(
        junit.matches("<failure ").count() as u64,
        report["counts"]["fail"].as_u64().unwrap()
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("FAIL") && html.contains("<svg") && !html.contains("<script"),
        "a self-contained page"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network"
    );
    // A card for each failing finding, each reached from the findings table.
    for f in report["findings"].as_array().unwrap() {
        if f["severity"] != "fail" {
            continue;
        }
        let id = f["id"].as_str().unwrap();
        assert!(
            html.contains(&format!("class=\"finding-card card-fail\" id=\"f-{id}\"")),
            "no card for {f}"
        );
        assert!(
            html.contains(&format!("href=\"#f-{id}\"")),
            "no link to {id}"
        );
    }
    assert_eq!(
        html.matches("class=\"finding-card card-fail\"").count() as u64,
        report["counts"]["fail"].as_u64().unwrap()
    );
    assert!(
        html.contains("Shapes: <code>9</code> a digit"),
        "shape notation explained"
    );
    assert!(
        !html.contains('`'),
        "Markdown code spans are rendered, not shown"
    );

    // Every artifact, and the run manifest with a time for each stage.
    for f in [
        "report.json",
        "report.html",
        "junit.xml",
        "summary.md",
        "masking-audit.md",
        "masking-audit.json",
        "run.json",
        "profiles/synthetic.json",
        "profiles/production.json",
        "synthetic/_dataset.json",
        "production/_dataset.json",
        "production/customers.parquet",
    ] {
        assert!(dir.join(f).is_file(), "missing artifact {f}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let stages: Vec<&str> = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["extract_mask", "generate", "profile", "compare", "report"]
    );
    let total: f64 = manifest["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seconds"].as_f64().unwrap())
        .sum();
    assert!(total > 0.0);
    assert_eq!(manifest["spec_digest"].as_str().unwrap().len(), 64);
    let artifacts = manifest["artifacts"].as_array().unwrap();
    assert!(artifacts.iter().any(|a| a["path"] == "report.json"));
    assert!(
        artifacts
            .iter()
            .all(|a| a["sha256"].as_str().unwrap().len() == 64)
    );
}

#[test]
fn production_generated_from_the_spec_passes_the_gate() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let url = format!("sqlite://{}", w.path("clean.sqlite").display());
    let g = w.run(&[
        "generate", spec, "--seed", "7", "--out", "gen", "--to", &url,
    ]);
    assert_eq!(g.code, 0, "{}", g.all());
    let v = w.run(&["verify", spec, "--source", &url, "--report", "out"]);
    assert_eq!(v.code, 0, "a clean production must pass:\n{}", v.all());
    let report = report_json(&w.path("out"));
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["counts"]["fail"], 0);
    assert!(
        report["counts"]["info"].as_u64().unwrap() > 20,
        "the checks ran"
    );
}

#[test]
fn generation_is_deterministic_and_seeded() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    for (out, seed) in [("a", "42"), ("b", "42"), ("c", "43")] {
        let r = w.run(&["generate", spec, "--seed", seed, "--out", out]);
        assert_eq!(r.code, 0, "{}", r.all());
    }
    for t in [
        "customers",
        "products",
        "orders",
        "order_items",
        "payments",
        "refunds",
    ] {
        let f = format!("{t}.parquet");
        let a = std::fs::read(w.path("a").join(&f)).unwrap();
        let b = std::fs::read(w.path("b").join(&f)).unwrap();
        let c = std::fs::read(w.path("c").join(&f)).unwrap();
        assert_eq!(a, b, "{t}: same seed, different bytes");
        assert_ne!(a, c, "{t}: another seed, same bytes");
    }
}

#[test]
fn unclassified_production_columns_are_refused_by_default() {
    let w = Workdir::new();
    let text = std::fs::read_to_string(shop_spec())
        .unwrap()
        .replace("unclassified = \"redact\"", "unclassified = \"refuse\"");
    let spec = w.write("shop.toml", &text);
    let url = demo_prod_url();
    let r = w.run(&[
        "extract",
        spec.to_str().unwrap(),
        "--source",
        &url,
        "--out",
        "prod",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("customers.loyalty_tier"), "{}", r.stderr);
    assert!(
        r.stderr.contains("unclassified = \"redact\""),
        "the error says what to do next: {}",
        r.stderr
    );
    assert!(!w.path("prod").exists(), "nothing may be written");
}

#[test]
fn compare_and_profile_work_from_folders() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let prod = demo_prod_url();
    assert_eq!(w.run(&["generate", spec, "--out", "synth"]).code, 0);
    let e = w.run(&["extract", spec, "--source", &prod, "--out", "prod"]);
    assert_eq!(e.code, 0, "{}", e.all());
    assert!(w.path("prod/masking-audit.md").is_file());
    let p = w.run(&["profile", "prod", "--spec", spec, "--out", "prod.json"]);
    assert_eq!(p.code, 0, "{}", p.all());
    let profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("prod.json")).unwrap()).unwrap();
    assert_eq!(profile["format"], "realitycheck.profile/1");
    assert_eq!(profile["origin"], "production");
    let c = w.run(&[
        "compare", "synth", "prod", "--spec", spec, "--report", "rep",
    ]);
    assert_eq!(c.code, 1, "{}", c.all());
    assert_eq!(report_json(&w.path("rep"))["verdict"], "fail");
}

#[test]
fn a_missing_source_is_a_clear_error() {
    let w = Workdir::new();
    let spec = shop_spec();
    let r = w.run(&[
        "verify",
        spec.to_str().unwrap(),
        "--source",
        "sqlite:///nonexistent/prod.sqlite",
        "--report",
        "out",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("error:") && r.stderr.contains("nonexistent/prod.sqlite"),
        "{}",
        r.stderr
    );
}

/// The second worked domain: each quirk of specs/billing/quirks.sql is a failing finding of the
/// right kind at the right place, and a production generated from the spec (scenarios and all)
/// passes.
#[test]
fn billing_demo_finds_every_planted_quirk() {
    let w = Workdir::new();
    let spec = repo().join("specs/billing.toml");
    let url = format!(
        "sqlite://{}",
        repo().join("specs/billing/prod.sqlite").display()
    );
    let r = w.verify(&spec, &url, "quirks");
    assert_eq!(r.code, 1, "{}", r.all());
    let report = report_json(&w.path("quirks"));
    for (kind, at) in [
        ("unseen_shape", "accounts.vat_id"),
        ("unseen_category", "plans.code"),
        ("rule_violation", "invoices"),
        ("calendar", "invoices.issued_at"),
        ("rule_violation", "payments"),
        ("schema_drift", "accounts.crm_id"),
    ] {
        assert!(
            failing(&report, kind).iter().any(|h| h == at),
            "no failing {kind} at {at}; got {:?}",
            failing(&report, kind)
        );
    }
    let ds = w.json("quirks/synthetic/_dataset.json");
    let planted: Vec<&str> = ds["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        planted,
        [
            "reactivated account",
            "fiscal-year rollover",
            "month-end close"
        ]
    );
}

/// `--shard I/N`: the parts of one seed and scale, put together in order, are the whole run,
/// table by table, value by value; an out-of-range shard is refused.
#[test]
fn shards_put_together_equal_the_whole_run() {
    let w = Workdir::new();
    let spec = repo().join("specs/billing.toml");
    let spec = spec.to_str().unwrap();
    let r = w.run(&["generate", spec, "--seed", "5", "--out", "whole"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for i in 1..=3 {
        let (part, out) = (format!("{i}/3"), format!("part{i}"));
        let r = w.run(&[
            "generate", spec, "--seed", "5", "--shard", &part, "--out", &out,
        ]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(
            w.json(&format!("{out}/_dataset.json"))["shard"],
            part.as_str()
        );
    }
    for table in ["plans", "accounts", "subscriptions", "invoices", "payments"] {
        let read = |dir: &str| {
            realitycheck::frame::read_parquet(&w.path(&format!("{dir}/{table}.parquet"))).unwrap()
        };
        let mut joined = read("part1");
        joined.vstack_mut(&read("part2")).unwrap();
        joined.vstack_mut(&read("part3")).unwrap();
        assert!(joined.equals_missing(&read("whole")), "{table}");
    }
    for bad in ["0/3", "4/3", "x"] {
        let r = w.run(&["generate", spec, "--shard", bad, "--out", "bad"]);
        assert_eq!(r.code, 2, "{bad}: {}", r.all());
    }
}

/// The surfaces CI reads: `--format json` prints the report on stdout (and only it), `CI=true`
/// leaves no colour or carriage-return codes in the output, junit.xml names each check once and
/// parses as XML, and `--fail-on warn` fails a gate that only warns.
#[test]
fn ci_surfaces_json_junit_and_fail_on() {
    let w = Workdir::new();
    let spec = shop_spec();
    let r = w.run(&[
        "verify",
        spec.to_str().unwrap(),
        "--source",
        &demo_prod_url(),
        "--report",
        "out",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("stdout is the report");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json, report_json(&w.path("out")));
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text}");
    }
    // junit.xml read back by a JUnit reader (quick-junit's): one case per finding, each name
    // once, failures and skips as the report counts them, times set.
    let junit = std::fs::read_to_string(w.path("out/junit.xml")).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&junit).expect("a JUnit report");
    assert_eq!(parsed.test_suites.len(), 1);
    let suite = &parsed.test_suites[0];
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(suite.test_cases.len(), findings.len());
    let names: std::collections::HashSet<&str> =
        suite.test_cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), suite.test_cases.len(), "every check once");
    assert_eq!(
        suite.failures as u64,
        json["counts"]["fail"].as_u64().unwrap()
    );
    assert_eq!(
        suite.skipped as u64,
        json["counts"]["warn"].as_u64().unwrap()
    );
    assert!(suite.time.is_some() && suite.test_cases.iter().all(|c| c.time.is_some()));
    // A gate that only warns passes, unless warnings fail it.
    let url = format!("sqlite://{}", w.path("clean.sqlite").display());
    let spec_s = spec.to_str().unwrap();
    let g = w.run(&[
        "generate", spec_s, "--seed", "7", "--out", "gen", "--to", &url,
    ]);
    assert_eq!(g.code, 0, "{}", g.all());
    // A synthetic side 20 times smaller than production: a few distances rest on too few rows
    // to fail, so they warn.
    let small = ["--scale", "0.05"];
    let pass = w.run(
        &[
            &["verify", spec_s, "--source", &url, "--report", "p"][..],
            &small,
        ]
        .concat(),
    );
    assert_eq!(pass.code, 0, "{}", pass.all());
    let warns = report_json(&w.path("p"))["counts"]["warn"]
        .as_u64()
        .unwrap();
    assert!(warns > 0, "the run warns");
    let strict = w.run(
        &[
            &[
                "verify",
                spec_s,
                "--source",
                &url,
                "--report",
                "s",
                "--fail-on",
                "warn",
            ][..],
            &small,
        ]
        .concat(),
    );
    assert_eq!(strict.code, 1, "{}", strict.all());
}

/// The terminal at 80 columns and on a pseudo-terminal that reports width 0: every finding
/// stacked, no line wider than the terminal, words whole.
#[test]
fn the_terminal_fits_narrow_and_unknown_widths() {
    let spec = shop_spec();
    for (columns, width) in [("80", 80), ("0", 80)] {
        let w = Workdir::new();
        let out = Command::new(env!("CARGO_BIN_EXE_realitycheck"))
            .args([
                "verify",
                spec.to_str().unwrap(),
                "--source",
                &demo_prod_url(),
            ])
            .args(["--report", "out"])
            .current_dir(w.path(""))
            .env("CI", "true")
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        let widest = stdout.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(
            widest <= width,
            "COLUMNS={columns}: a line of {widest}:\n{stdout}"
        );
        assert!(
            stdout.contains("FAIL unseen_category orders.status"),
            "{stdout}"
        );
        assert!(
            stdout.contains("→ "),
            "suggestions reach the terminal:\n{stdout}"
        );
        assert!(
            stdout
                .lines()
                .last()
                .unwrap_or("")
                .contains("suggested-spec.toml")
        );
    }
}

/// A CSV export of the demo production (one file a table, NULL as an empty field) verifies with
/// the same failing findings, at the same places, as the SQLite file it came from; a folder of
/// CSV files is classified, masked and leak-checked like a database.
#[test]
fn a_csv_export_verifies_like_the_database() {
    use sqlx::Row;
    let w = Workdir::new();
    let dir = w.path("export");
    std::fs::create_dir_all(&dir).unwrap();
    block_on(async {
        let (mut c, _) = realitycheck::db::connect(&demo_prod_url(), true, 30)
            .await
            .unwrap();
        let tables: Vec<String> =
            sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        for t in tables {
            let cols: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{t}') ORDER BY cid"
            )))
            .fetch_all(&mut c)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
            let select = cols
                .iter()
                .map(|c| format!("CAST(\"{c}\" AS BLOB)"))
                .collect::<Vec<_>>()
                .join(", ");
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {select} FROM \"{t}\"")))
                .fetch_all(&mut c)
                .await
                .unwrap();
            let mut out = csv::Writer::from_path(dir.join(format!("{t}.csv"))).unwrap();
            out.write_record(&cols).unwrap();
            for r in rows {
                let fields: Vec<Vec<u8>> = (0..cols.len())
                    .map(|i| r.get::<Option<Vec<u8>>, _>(i).unwrap_or_default())
                    .collect();
                out.write_record(&fields).unwrap();
            }
            out.flush().unwrap();
        }
    });
    let spec = shop_spec();
    let fails = |report: &str| -> Vec<String> {
        let mut f: Vec<String> = report_json(&w.path(report))["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "fail")
            .map(|f| format!("{} {}.{}", f["kind"], f["table"], f["column"]))
            .collect();
        f.sort();
        f
    };
    let db = w.verify(&spec, &demo_prod_url(), "db");
    assert_eq!(db.code, 1, "{}", db.all());
    let source = format!("file://{}", dir.display());
    let files = w.verify(&spec, &source, "files");
    assert_eq!(files.code, 1, "{}", files.all());
    assert_eq!(fails("db"), fails("files"));
    assert_eq!(w.json("files/masking-audit.json")["dialect"], "files");
}

/// Invalid UTF-8 in a CSV file is read as bytes, counted as an encoding anomaly, and never
/// repaired on the way.
#[test]
fn invalid_utf8_in_csv_is_counted() {
    let w = Workdir::new();
    let spec = w.write(
        "notes.toml",
        "[domain]\nname = \"notes\"\nseed = 1\n[tables.notes]\nrows = 50\n[tables.notes.columns]\n\
         id = { gen = \"sequence\" }\nbody = { gen = \"choice\", values = { ok = 1 } }\n",
    );
    std::fs::create_dir_all(w.path("csv")).unwrap();
    let mut bytes = b"id,body\n".to_vec();
    for i in 1..=50 {
        bytes.extend_from_slice(format!("{i},").as_bytes());
        if i % 10 == 0 {
            bytes.extend_from_slice(b"o\xffk\n");
        } else {
            bytes.extend_from_slice(b"ok\n");
        }
    }
    std::fs::write(w.path("csv/notes.csv"), bytes).unwrap();
    let source = format!("file://{}", w.path("csv").display());
    let r = w.verify(&spec, &source, "out");
    assert_eq!(r.code, 1, "{}", r.all());
    let report = report_json(&w.path("out"));
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "encoding_anomaly")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(f["details"]["invalid_utf8"], 5, "{f}");
}

/// report.html in a real browser (headless Chromium, installed by scripts/services.sh where
/// missing): it loads, every failing finding has its card in the rendered page, no console error
/// and no network request (every host name fails to resolve, so a request would be an error);
/// a screenshot is written to the test's temporary folder.
#[test]
fn the_html_report_loads_in_a_browser() {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        eprintln!(
            "SKIPPED the_html_report_loads_in_a_browser: no Chromium here (scripts/services.sh installs it with apt-get)"
        );
        return;
    };
    let w = Workdir::new();
    let r = w.verify(&shop_spec(), &demo_prod_url(), "out");
    assert_eq!(r.code, 1, "{}", r.all());
    let page = format!("file://{}", w.path("out/report.html").display());
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-html.png");
    let _ = std::fs::remove_file(&shot);
    let common = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let net = w.path("net.json");
    // Never let a browser hang the suite: `timeout` stops it after a minute.
    let run = |extra: &[String]| {
        Command::new("timeout")
            .arg("60")
            .arg(browser)
            .args(common)
            .args(extra)
            .output()
            .unwrap()
    };
    let dom = Command::new("timeout")
        .arg("60")
        .arg(browser)
        .args(common)
        .arg(format!("--log-net-log={}", net.display()))
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let fails = report_json(&w.path("out"))["counts"]["fail"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(
        rendered.matches("class=\"finding-card card-fail\"").count(),
        fails
    );
    // The page has no script: any console message at all is a fault.
    let log = String::from_utf8_lossy(&dom.stderr);
    for line in log.lines() {
        assert!(!line.contains(":CONSOLE"), "{line}");
    }
    // The page asks for nothing over the network. The browser's own services (updates, time,
    // accounts) are not the page's.
    let netlog = std::fs::read_to_string(&net).unwrap_or_default();
    let browser_own = ["google.com", "googleapis.com", "gvt1.com", "gstatic.com"];
    for url in netlog
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|x| x.split('"').next())
    {
        let Some(rest) = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
        else {
            continue;
        };
        let host = rest.split(['/', ':', '?']).next().unwrap_or("");
        assert!(
            browser_own
                .iter()
                .any(|b| host == *b || host.ends_with(&format!(".{b}"))),
            "the page requested {url}"
        );
    }
    let screenshot = run(&[
        "--window-size=1280,2400".to_string(),
        format!("--screenshot={}", shot.display()),
        page.clone(),
    ]);
    assert!(screenshot.status.success());
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot at {}",
        shot.display()
    );
}
