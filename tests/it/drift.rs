//! `merge` and `drift`: profiles of partitions merge into the profile of the whole, and two
//! profiles compare with no data at hand, with the findings `compare` gives.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::*;

fn failing_kinds(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "fail")
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The demo run once: its two profiles are the inputs of the drift tests.
fn demo_profiles(w: &Workdir) {
    let run = w.verify(&shop_spec(), &demo_prod_url(), "run");
    assert_eq!(run.code, 1, "{}", run.all());
}

#[test]
fn drift_of_a_profile_against_itself_passes() {
    let w = Workdir::new();
    demo_profiles(&w);
    let spec = shop_spec();
    for side in ["synthetic", "production"] {
        let p = format!("run/profiles/{side}.json");
        let run = w.run(&[
            "drift",
            &p,
            &p,
            "--spec",
            spec.to_str().unwrap(),
            "--report",
            "same",
        ]);
        assert_eq!(run.code, 0, "{side} against itself:\n{}", run.all());
        let r = w.json("same/report.json");
        assert_eq!(r["verdict"], "pass");
        assert_eq!(r["counts"]["fail"], 0, "{side}");
    }
}

#[test]
fn drift_of_the_demo_fails_with_the_kinds_compare_gives() {
    let w = Workdir::new();
    demo_profiles(&w);
    let verify = w.json("run/report.json");
    let run = w.run(&[
        "drift",
        "run/profiles/synthetic.json",
        "run/profiles/production.json",
        "--spec",
        shop_spec().to_str().unwrap(),
        "--report",
        "drift",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    let drift = w.json("drift/report.json");
    assert_eq!(failing_kinds(&drift), failing_kinds(&verify));
    conforms(&drift, "reports/report.schema.json");
    assert_eq!(drift["sides"]["observed"], "run/profiles/production.json");
    for f in [
        "summary.md",
        "report.html",
        "junit.xml",
        "suggested-spec.toml",
    ] {
        assert!(w.path("drift").join(f).exists(), "{f}");
    }
    // Numeric distributions are compared through histograms: the KS bounds are shown, and
    // the gate's value is the lower bound beyond noise.
    let ks: Vec<&Value> = drift["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["metric"] == "ks_adjusted")
        .collect();
    assert!(!ks.is_empty());
    for f in ks {
        let (lo, hi) = (
            f["details"]["ks_lower_bound"].as_f64().unwrap(),
            f["details"]["ks_upper_bound"].as_f64().unwrap(),
        );
        assert!(
            lo <= hi && f["value"].as_f64().unwrap() <= lo + 1e-12,
            "{f}"
        );
    }
}

/// Disclosure control holds in what drift and merge read: every histogram bin of production
/// holds 0 or at least k rows, and distinct counts are sketched from keyed tokens.
#[test]
fn production_sketches_hold_no_rare_value() {
    let w = Workdir::new();
    demo_profiles(&w);
    let p = w.json("run/profiles/production.json");
    conforms(&p, "profiles/profile.schema.json");
    let k = p["disclosure_k"].as_u64().unwrap();
    assert!(k > 1);
    let mut histograms = 0;
    for t in p["tables"].as_array().unwrap() {
        for c in t["columns"].as_array().unwrap() {
            if let Some(h) = c.get("histogram") {
                histograms += 1;
                for n in h["counts"].as_array().unwrap() {
                    let n = n.as_u64().unwrap();
                    assert!(
                        n == 0 || n >= k,
                        "{}.{}: a bin of {n} rows",
                        t["name"],
                        c["name"]
                    );
                }
            }
            if let Some(d) = c.get("distinct_sketch") {
                assert!(
                    d["key_fingerprint"].is_string(),
                    "production sketches are keyed"
                );
            }
            if let Some(cal) = c.get("calendar") {
                for view in ["hour_of_day", "weekday", "day_of_month", "month"] {
                    for n in cal[view].as_array().unwrap() {
                        let n = n.as_u64().unwrap();
                        assert!(n == 0 || n >= k, "{}.{} {view}: {n}", t["name"], c["name"]);
                    }
                }
            }
        }
    }
    assert!(histograms > 5, "the demo has numeric and timestamp columns");
}

/// The merge property: for several seeds and partition counts, the profiles of `--shard i/n`
/// merged equal the profile of the whole run: exactly for counts, categories, shapes,
/// histograms and calendars; to the bit for count, extremes, mean and standard deviation (from
/// the parts' exact sums); quantiles (read from the merged histogram) within one bin; distinct
/// counts within 4 standard errors of the HyperLogLog (1.6 %). Correlations and associations
/// need the rows together and are left out. Synthetic data (k = 1): under disclosure control
/// a value under k in each part stays withheld, so a merged production profile shows less than
/// the whole by design.
#[test]
fn merged_shard_profiles_equal_the_profile_of_the_whole() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    for (seed, n) in [(11u64, 2usize), (12, 3)] {
        let seed_s = seed.to_string();
        let make = |out: &str, shard: Option<String>| {
            let mut args = vec![
                "generate", spec, "--seed", &seed_s, "--scale", "0.2", "--out", out,
            ];
            let s;
            if let Some(x) = shard {
                s = x;
                args.extend(["--shard", &s]);
            }
            let r = w.run(&args);
            assert_eq!(r.code, 0, "{}", r.all());
            let prof = format!("{out}.json");
            let r = w.run(&["profile", out, "--spec", spec, "--out", &prof]);
            assert_eq!(r.code, 0, "{}", r.all());
            prof
        };
        let whole = make(&format!("whole{seed}"), None);
        let parts: Vec<String> = (1..=n)
            .map(|i| make(&format!("part{seed}_{i}"), Some(format!("{i}/{n}"))))
            .collect();
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(String::as_str));
        let merged_path = format!("merged{seed}.json");
        args.extend(["--out", &merged_path]);
        let r = w.run(&args);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stdout.contains(&format!("({n} parts)")), "{}", r.stdout);

        let (m, x) = (w.json(&merged_path), w.json(&whole));
        assert_eq!(m["parts"], n as u64);
        for (mt, xt) in m["tables"]
            .as_array()
            .unwrap()
            .iter()
            .zip(x["tables"].as_array().unwrap())
        {
            let t = xt["name"].as_str().unwrap();
            assert_eq!(mt["name"], xt["name"]);
            assert_eq!(mt["rows"], xt["rows"], "{t}");
            for (mc, xc) in mt["columns"]
                .as_array()
                .unwrap()
                .iter()
                .zip(xt["columns"].as_array().unwrap())
            {
                let at = format!("{t}.{}", xc["name"].as_str().unwrap());
                for exact in [
                    "rows",
                    "nulls",
                    "type_errors",
                    "out_of_range",
                    "categories",
                    "text",
                    "histogram",
                    "calendar",
                    "sentinels",
                ] {
                    assert_eq!(mc.get(exact), xc.get(exact), "{at}: {exact}");
                }
                if let (Some(a), Some(b)) = (mc.get("numeric"), xc.get("numeric")) {
                    for f in ["count", "mean", "std", "min", "max", "sums"] {
                        assert_eq!(a[f], b[f], "{at}: {f}");
                    }
                    assert!(b["sums"]["sum"].is_array(), "{at}: no exact sums");
                    let width = 2f64.powi(xc["histogram"]["exp"].as_i64().unwrap() as i32);
                    for (q, mq) in b["quantiles"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .zip(a["quantiles"].as_array().unwrap())
                    {
                        let (e, got) = (q[1].as_f64().unwrap(), mq[1].as_f64().unwrap());
                        assert!(
                            (got - e).abs() <= width,
                            "{at}: quantile {} merged {got} whole {e}",
                            q[0]
                        );
                    }
                }
                let (a, b) = (
                    mc["distinct"].as_f64().unwrap(),
                    xc["distinct"].as_f64().unwrap(),
                );
                assert!(
                    (a - b).abs() <= (4.0 * 0.01625 * b).max(1.0),
                    "{at}: distinct merged {a} whole {b}"
                );
            }
        }
        // Pair statistics are not merged.
        assert!(
            m["tables"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t.get("pairs").is_none())
        );
        // Rules: violations add up.
        for (mr, xr) in m["rules"]
            .as_array()
            .unwrap()
            .iter()
            .zip(x["rules"].as_array().unwrap())
        {
            assert_eq!(mr["violations"], xr["violations"], "{}", xr["name"]);
        }
    }
    // Parts of different domains or origins are refused, with the reason.
    let r = w.run(&[
        "merge",
        "whole11.json",
        "run-does-not-exist.json",
        "--out",
        "x.json",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
}

/// The release workflow: a committed baseline production profile, then a new release's
/// production where orders got dearer and a status appeared. Drift names both; what the
/// baseline already had against the spec (an undeclared column, a broken rule) is shown as
/// `info`, not failed again.
#[test]
fn drift_between_releases_names_what_changed_and_only_that() {
    let w = Workdir::new();
    demo_profiles(&w);
    let db = w.path("next.sqlite");
    std::fs::copy(repo().join("specs/shop/prod.sqlite"), &db).unwrap();
    let url = format!("sqlite://{}", db.display());
    block_on(async {
        use sqlx::Executor;
        let (mut c, _) = realitycheck::db::connect(&url, false, 30).await.unwrap();
        c.execute("UPDATE orders SET total = total * 3 WHERE id % 2 = 0")
            .await
            .unwrap();
        c.execute("UPDATE orders SET status = 'ON_HOLD' WHERE id % 20 = 1")
            .await
            .unwrap();
    });
    let run = w.verify(&shop_spec(), &url, "next");
    assert_eq!(run.code, 1, "{}", run.all());
    let run = w.run(&[
        "drift",
        "run/profiles/production.json",
        "next/profiles/production.json",
        "--spec",
        shop_spec().to_str().unwrap(),
        "--report",
        "drift",
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    let r = w.json("drift/report.json");
    let failing: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "fail")
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                format!(
                    "{}.{}",
                    f["table"].as_str().unwrap(),
                    f["column"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    assert!(
        failing.contains(&("distribution".into(), "orders.total".into())),
        "{failing:?}"
    );
    assert!(
        failing
            .iter()
            .any(|(k, at)| k == "unseen_category" && at == "orders.status"),
        "{failing:?}"
    );
    // Tripling totals broke the rule that a payment equals its order's total: new, so named.
    assert!(
        failing.contains(&("rule_violation".into(), "payments.".into())),
        "{failing:?}"
    );
    for known in ["schema_drift", "orphan_keys", "encoding_anomaly"] {
        assert!(
            !failing.iter().any(|(k, _)| k == known),
            "{known} was in the baseline already: {failing:?}"
        );
    }
    assert!(
        !failing.contains(&("rule_violation".into(), "refunds.".into())),
        "refunds exceeding their order were in the baseline already: {failing:?}"
    );
    let known = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "schema_drift" && f["column"] == "loyalty_tier")
        .expect("the undeclared column is still named");
    assert_eq!(known["severity"], "info");
    assert!(
        known["message"]
            .as_str()
            .unwrap()
            .contains("already in the baseline")
    );
}

/// The committed baseline (`profiles/shop.prod.json`, the demo production's profile) still
/// reads, and a new run of the unchanged demo shows no drift from it.
#[test]
fn the_committed_baseline_shows_no_drift_on_the_unchanged_demo() {
    let w = Workdir::new();
    demo_profiles(&w);
    let baseline = repo().join("profiles/shop.prod.json");
    let run = w.run(&[
        "drift",
        baseline.to_str().unwrap(),
        "run/profiles/production.json",
        "--spec",
        shop_spec().to_str().unwrap(),
        "--report",
        "drift",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let r: Value = serde_json::from_str(&run.stdout).expect("--format json prints the report");
    assert_eq!(r["verdict"], "pass");
}

/// Profiling the same data twice gives the same profile, value for value (only `created_at`
/// differs): association measures sum in a fixed order, not a hash map's.
#[test]
fn a_profile_is_the_same_every_run() {
    let w = Workdir::new();
    let spec = shop_spec();
    let spec = spec.to_str().unwrap();
    let r = w.run(&["generate", spec, "--scale", "0.3", "--out", "g"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut profiles = Vec::new();
    for i in 0..3 {
        let out = format!("p{i}.json");
        let r = w.run(&["profile", "g", "--spec", spec, "--out", &out]);
        assert_eq!(r.code, 0, "{}", r.all());
        let mut p = w.json(&out);
        p.as_object_mut().unwrap().remove("created_at");
        profiles.push(p);
    }
    assert!(
        profiles[0]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.get("associations").is_some()),
        "the data has associations to compare"
    );
    assert_eq!(profiles[0], profiles[1]);
    assert_eq!(profiles[0], profiles[2]);
}
