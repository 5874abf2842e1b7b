//! A fresh folder per test, the binary, and throw-away databases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The URL of the bundled demo production.
pub fn demo_prod_url() -> String {
    format!(
        "sqlite://{}",
        repo().join("specs/shop/prod.sqlite").display()
    )
}

pub fn shop_spec() -> PathBuf {
    repo().join("specs/shop.toml")
}

/// A temporary working folder and a way to run the binary in it.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args)
    }

    /// A SQLite database in the folder, made by running `sql`; returns its URL.
    pub fn sqlite(&self, name: &str, sql: &'static str) -> String {
        let url = format!("sqlite://{}", self.path(name).display());
        block_on(async {
            let (mut c, _) = realitycheck::db::connect(&url, false, 30).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        });
        url
    }

    /// `extract SPEC --source URL --out OUT`.
    pub fn extract(&self, spec: &Path, url: &str, out: &str) -> Run {
        self.run(&[
            "extract",
            spec.to_str().unwrap(),
            "--source",
            url,
            "--out",
            out,
        ])
    }

    /// `verify SPEC --source URL --report DIR`.
    pub fn verify(&self, spec: &Path, url: &str, report: &str) -> Run {
        self.run(&[
            "verify",
            spec.to_str().unwrap(),
            "--source",
            url,
            "--report",
            report,
        ])
    }

    /// A JSON file of the folder, parsed.
    pub fn json(&self, name: &str) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.path(name)).unwrap()).unwrap()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// Runs the binary in `w`'s folder with extra environment variables.
pub fn run_env(w: &Workdir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_realitycheck"));
    c.args(args)
        .current_dir(w.dir.path())
        .env("CI", "true")
        .env_remove("REALITYCHECK_MASK_KEY");
    for (k, v) in env {
        c.env(k, v);
    }
    Run::from(c.output().unwrap())
}

/// The non-null values of an integer column of a dataset folder's table.
pub fn keys(dir: &Path, table: &str, column: &str) -> Vec<i64> {
    let df = realitycheck::frame::read_parquet(&dir.join(format!("{table}.parquet"))).unwrap();
    let s = df.column(column).unwrap().as_materialized_series().clone();
    s.i64().unwrap().iter().flatten().collect()
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_realitycheck"))
        .args(args)
        .current_dir(dir)
        .env("CI", "true")
        .env_remove("REALITYCHECK_MASK_KEY")
        .output()
        .unwrap();
    Run::from(out)
}

/// Every file below `dir`.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The non-null values of a text column of a Parquet file.
pub fn text_column(parquet: &Path, column: &str) -> Vec<String> {
    let df = realitycheck::frame::read_parquet(parquet).unwrap();
    let s = df.column(column).unwrap().as_materialized_series().clone();
    s.str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

pub fn report_json(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Findings of the report at `dir` with this kind and severity, as `table.column` strings.
pub fn failing(report: &serde_json::Value, kind: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind && f["severity"] == "fail")
        .map(|f| match f["column"].as_str() {
            Some(c) => format!("{}.{c}", f["table"].as_str().unwrap()),
            None => f["table"].as_str().unwrap().to_string(),
        })
        .collect()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database created for one test and dropped when it goes out of scope.
pub struct TempDb {
    pub url: String,
    admin: String,
    name: String,
}

pub fn pg_base() -> String {
    std::env::var("REALITYCHECK_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn mysql_base() -> String {
    std::env::var("REALITYCHECK_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

impl TempDb {
    fn create(base: &str, admin_db: &str, tag: &str) -> TempDb {
        sqlx::any::install_default_drivers();
        let name = format!(
            "rc_{tag}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin = format!("{base}/{admin_db}");
        block_on(async {
            let mut c = AnyConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!("cannot reach the test server at {base}: {e}; run scripts/test.sh")
            });
            c.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .unwrap();
        });
        TempDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }

    pub fn postgres(tag: &str) -> TempDb {
        TempDb::create(&pg_base(), "postgres", tag)
    }

    pub fn mysql(tag: &str) -> TempDb {
        TempDb::create(&mysql_base(), "mysql", tag)
    }

    pub fn execute(&self, sql: &str) {
        let sql = sql.to_string();
        block_on(async {
            let mut c = AnyConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap();
        });
    }

    /// A fingerprint of the whole database's contents: row count and an order-independent hash
    /// of every table's rows as text.
    pub fn fingerprint(&self, tables: &[(&str, &str)]) -> Vec<(String, i64, String)> {
        let pg = self.url.starts_with("postgres");
        block_on(async {
            let mut c = AnyConnection::connect(&self.url).await.unwrap();
            let mut out = Vec::new();
            for (t, cols) in tables {
                let sql = if pg {
                    format!(
                        "SELECT COUNT(*), COALESCE(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '') FROM {t} x"
                    )
                } else {
                    format!(
                        "SELECT COUNT(*), CAST(COALESCE(SUM(CRC32(CONCAT_WS('|', {cols}))), 0) AS CHAR) FROM {t}"
                    )
                };
                let row: (i64, String) = sqlx::query_as(AssertSqlSafe(sql))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                out.push((t.to_string(), row.0, row.1));
            }
            out
        })
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        block_on(async {
            if let Ok(mut c) = AnyConnection::connect(&admin).await {
                let force = if admin.starts_with("postgres") {
                    " WITH (FORCE)"
                } else {
                    ""
                };
                let _ = c
                    .execute(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name}{force}"
                    )))
                    .await;
            }
        });
    }
}

/// Asserts that `doc` holds to the committed JSON Schema at `schema` (a path in the repo).
pub fn conforms(doc: &serde_json::Value, schema: &str) {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(schema)).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "does not conform to its schema: {errors:#?}"
    );
}

/// Runs the binary with `args` under a hard address-space limit (`ulimit -v`, in KiB); gives
/// its exit code and log.
pub fn run_limited(
    w: &Workdir,
    args: &[&str],
    env: &[(&str, &str)],
    limit_kib: u64,
) -> (i32, String) {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {limit_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_realitycheck"))
        .args(args)
        .current_dir(w.dir.path())
        .env("CI", "true")
        .env_remove("REALITYCHECK_MASK_KEY")
        // glibc reserves 64 MB of address space per thread arena; two are plenty.
        .env("MALLOC_ARENA_MAX", "2")
        .env("POLARS_MAX_THREADS", "2");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The peak resident memory a run logged, in MiB.
pub fn logged_peak_mib(log: &str) -> u64 {
    log.lines()
        .find_map(|l| l.split("peak memory ").nth(1))
        .and_then(|t| t.trim_end_matches(" MiB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in the log:\n{log}"))
}
