//! The only place that knows clap, the terminal, exit codes and the tokio runtime.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::compare::Verdict;
use crate::pipeline;
use crate::report::Report;
use crate::spec::Spec;

/// How a run ended; the discriminant is the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    /// Ran fine; the gate passed (or there was no gate to pass).
    Pass = 0,
    /// Ran fine; findings at or over the fail threshold.
    GateFailed = 1,
    /// Usage, input or connection error.
    Error = 2,
}

/// Does production hold anything your synthetic-data spec missed?
///
/// Generates synthetic data from a domain spec, extracts a read-only masked sample of
/// production, profiles both and reports divergences and unseen patterns. Exit codes: 0 the
/// gate passed, 1 the gate failed, 2 an error.
#[derive(Debug, Parser)]
#[command(name = "realitycheck", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail on stderr (`-vv` for everything).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a spec; report every problem with file:line:col.
    Check { spec: PathBuf },
    /// Generate synthetic tables from a spec into a Parquet folder (and optionally a database).
    ///
    /// Deterministic: the same spec, seed and scale give the same Parquet bytes. Holds all
    /// tables in memory.
    Generate {
        spec: PathBuf,
        /// Output folder for `<table>.parquet` and `_dataset.json`.
        #[arg(long, default_value = "data/synthetic")]
        out: PathBuf,
        /// Multiplies the spec's row counts.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Overrides the spec's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Also create the tables in this database (sqlite://, postgres://, mysql://).
        #[arg(long)]
        to: Option<String>,
        /// With --to: drop tables that already exist.
        #[arg(long)]
        replace: bool,
        /// Write only part I of N of every table's rows (`--shard 2/4`): the parts of one seed
        /// and scale, put together in order, are the whole run.
        #[arg(long, value_parser = pipeline::Shard::parse)]
        shard: Option<pipeline::Shard>,
        /// Rows generated and written at a time: memory holds one batch of each table, plus the
        /// columns later tables read (keys they reference). The files are the same for any size.
        #[arg(long, default_value_t = crate::generate::DEFAULT_CHUNK_ROWS, value_parser = clap::value_parser!(usize))]
        batch_rows: usize,
    },
    /// Draft a spec from an existing database (read-only), for the team to review.
    ///
    /// Tables, columns, types, keys and references, row counts and children per parent, and a
    /// generator per column fitted from k-safe aggregates; columns that look personal are
    /// proposed as PII. Values seen fewer than k times, and every value of a proposed-PII
    /// column, are left out.
    Init {
        /// The database to draft from (sqlite://, postgres://, mysql://).
        #[arg(long)]
        source: String,
        /// Where to write the draft; an existing file is not overwritten without --force.
        #[arg(long, required_unless_present = "update")]
        out: Option<PathBuf>,
        /// Add what is new in the schema (tables, columns) to this existing spec, each marked
        /// for review; nothing the team wrote is changed.
        #[arg(long, conflicts_with = "out")]
        update: Option<PathBuf>,
        /// Only these tables (comma-separated).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Leave out these tables (comma-separated).
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Read at most this many rows of each table.
        #[arg(long)]
        sample: Option<u64>,
        /// The schema to draft (PostgreSQL schema, MySQL database); default the connection's.
        #[arg(long)]
        schema: Option<String>,
        /// Values seen fewer than this many times are never written.
        #[arg(long, default_value_t = 5)]
        k: u64,
        /// Overwrite an existing --out file.
        #[arg(long)]
        force: bool,
    },
    /// Extract a masked sample of production (read-only) and write the masking audit.
    ///
    /// Reads through one read-only session; raw values are masked in memory and never written.
    Extract {
        spec: PathBuf,
        /// The source database; overrides `[source] url`.
        #[arg(long)]
        source: Option<String>,
        /// Output folder for the masked tables; the masking audit goes beside them.
        #[arg(long, default_value = "data/production")]
        out: PathBuf,
        /// Rows read, masked and written at a time: memory grows with this, not with the data.
        #[arg(long, default_value_t = crate::extract::DEFAULT_BATCH_ROWS)]
        batch_rows: usize,
    },
    /// Profile a dataset folder into a profile JSON.
    Profile {
        data: PathBuf,
        #[arg(long)]
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Rows of a column profiled at a time (the profile is the same for any size).
        #[arg(long, default_value_t = crate::profile::DEFAULT_BATCH_ROWS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        batch_rows: usize,
    },
    /// Compare a synthetic and a production dataset folder; exit 1 when the gate fails.
    Compare {
        synthetic: PathBuf,
        production: PathBuf,
        #[arg(long)]
        spec: PathBuf,
        /// Folder for report.json and summary.md.
        #[arg(long, default_value = "reports/compare")]
        report: PathBuf,
        #[command(flatten)]
        output: GateOutput,
    },
    /// Drift between two profiles (a baseline and a new release's): no data needed; exit 1 when
    /// the gate fails.
    ///
    /// Reads only the two profile JSON files: the same findings, gate and report as `compare`,
    /// with numeric distributions compared through the profiles' histograms (KS bounded from
    /// them; the lower bound decides), distinct counts from HyperLogLog sketches.
    Drift {
        /// The baseline profile (e.g. committed under profiles/), in the expected side's place.
        old: PathBuf,
        /// The new profile, in production's place.
        new: PathBuf,
        /// The spec; default `specs/<domain>.toml` of the profiles' domain.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Folder for the report.
        #[arg(long, default_value = "reports/drift")]
        report: PathBuf,
        #[command(flatten)]
        output: GateOutput,
    },
    /// Merge profiles of partitions of one dataset into the profile of their union.
    ///
    /// Counts, moments and histograms merge exactly; distinct counts within the HyperLogLog's
    /// 1.6 % standard error; correlations are left out (they need the rows together).
    Merge {
        /// Two or more profiles of one domain, origin and spec version.
        #[arg(required = true, num_args = 2..)]
        profiles: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Everything: generate, extract and mask, profile, compare, report. The pre-release gate.
    Verify {
        spec: PathBuf,
        /// The source database; overrides `[source] url`.
        #[arg(long)]
        source: Option<String>,
        /// Folder for every artifact; default `reports/<domain>`.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Multiplies the spec's row counts for the synthetic side.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Production rows read, masked and written at a time.
        #[arg(long, default_value_t = crate::extract::DEFAULT_BATCH_ROWS)]
        batch_rows: usize,
        #[command(flatten)]
        output: GateOutput,
    },
}

/// How a gate's result is shown and which findings fail it.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct GateOutput {
    /// The lowest severity that fails the gate (exit code 1): `fail` (default) or `warn`.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub fail_on: FailOn,
    /// `table` (default) for people; `json` prints report.json on stdout (logs stay on stderr).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Warn,
    Fail,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}

/// A spec parsed and validated, its derived columns and rules parsed as Polars SQL: every
/// problem at once.
fn load(path: &Path) -> anyhow::Result<Spec> {
    let spec = Spec::load(path)?;
    let errors = crate::generate::check_sql(&spec);
    if !errors.is_empty() {
        return Err(crate::spec::SpecErrors { errors }.into());
    }
    Ok(spec)
}

/// stderr, with every registered secret removed from each line on its way out.
struct ScrubbedStderr;

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::secret::scrub(&String::from_utf8_lossy(buf));
        // A log line is written with the spinner cleared, then the spinner redrawn below it.
        crate::progress::suspend(|| std::io::stderr().write_all(text.as_bytes()))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn init_logging(quiet: bool, verbose: u8) {
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && std::env::var_os("NO_COLOR").is_none();
    // RUST_LOG wins; then -q / -v.
    let level = match (quiet, verbose) {
        (true, _) => "realitycheck=warn",
        (_, 0) => "realitycheck=info",
        (_, 1) => "realitycheck=debug",
        _ => "realitycheck=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // A panic message never carries a raw value by design; it cannot carry a secret either.
    std::panic::set_hook(Box::new(|info| {
        // A panic inside Polars that `frame::sql_collect` turns into an error is not shown.
        if crate::frame::panics_are_caught() {
            return;
        }
        let msg = crate::secret::scrub(&info.to_string());
        for line in msg.lines() {
            eprintln!("{}", crate::report::escape::visible(line));
        }
    }));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubbedStderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

/// The terminal's width: `COLUMNS` when set, else what the terminal reports; `None` for a log
/// or a terminal that reports nothing useful.
fn terminal_width() -> Option<u16> {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
    {
        return (c > 0).then_some(c);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    comfy_table::Table::new().width().filter(|w| *w > 0)
}

fn gate(report: &Report, fail_on: FailOn) -> Outcome {
    match (report.verdict, fail_on) {
        (Verdict::Fail, _) => Outcome::GateFailed,
        (Verdict::Pass, FailOn::Warn) if report.counts.warn > 0 => Outcome::GateFailed,
        (Verdict::Pass, _) => Outcome::Pass,
    }
}

fn print_report(report: &Report, dir: &Path, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            println!("{}", serde_json::to_string_pretty(report)?);
        }
        Format::Table => {
            // Colour only on a terminal, never under CI or NO_COLOR.
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
                && std::env::var_os("CI").is_none();
            print!("{}", report.to_terminal(color, terminal_width()));
            println!("report: {}", dir.join("report.json").display());
            for (what, file) in [
                ("summary", "summary.md"),
                ("html", "report.html"),
                ("suggested spec", "suggested-spec.toml"),
            ] {
                if dir.join(file).exists() {
                    println!("{what}: {}", dir.join(file).display());
                }
            }
        }
    }
    Ok(())
}

pub fn main() -> anyhow::Result<Outcome> {
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.verbose);
    crate::progress::enable(
        !cli.quiet
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none()
            && std::env::var_os("NO_COLOR").is_none(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // Ctrl-C: the run stops, its staging folders go, the previous outputs stay as they were.
    rt.block_on(async {
        let work = tokio::spawn(run(cli));
        tokio::select! {
            r = work => {
                // What a security team sizing the machine asks first; read from the kernel.
                if let Some(kib) = crate::output::peak_memory_kib() {
                    tracing::info!("peak memory {} MiB", kib / 1024);
                }
                r.context("the run stopped unexpectedly")?
            }
            _ = tokio::signal::ctrl_c() => {
                // The run's task may sit in synchronous work that cannot be cancelled: forbid
                // every commit, remove the staging folders, and leave at once.
                crate::output::interrupt();
                eprintln!("error: interrupted: nothing was replaced, earlier outputs are as they were");
                std::process::exit(Outcome::Error as i32);
            }
        }
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Check { spec } => {
            let s = load(&spec)?;
            let e = crate::generate::estimate::estimate(&s, 1.0);
            println!(
                "{}: ok ({} tables, {} columns, {} rules; about {:.0} rows, {} of values at --scale 1)",
                spec.display(),
                s.tables.len(),
                s.tables.iter().map(|t| t.columns.len()).sum::<usize>(),
                s.rules.len(),
                e.rows,
                crate::generate::estimate::human(e.bytes)
            );
            Ok(Outcome::Pass)
        }
        Command::Generate {
            spec,
            out,
            scale,
            seed,
            to,
            replace,
            shard,
            batch_rows,
        } => {
            let s = load(&spec)?;
            if shard.is_some() && to.is_some() {
                anyhow::bail!(
                    "--shard writes part of each table to a folder; load the parts into a database \
                     after putting them together (or generate without --shard for --to)"
                );
            }
            let stored = pipeline::generate(
                &s,
                &out,
                seed,
                scale,
                to.as_deref(),
                replace,
                shard,
                batch_rows,
            )
            .await?;
            println!(
                "wrote {} tables to {}",
                stored.dataset.tables.len(),
                out.display()
            );
            Ok(Outcome::Pass)
        }
        Command::Init {
            source,
            out,
            update,
            tables,
            exclude,
            sample,
            schema,
            k,
            force,
        } => {
            let out = match (out, &update) {
                (Some(o), _) => o,
                (None, Some(u)) => u.clone(),
                (None, None) => anyhow::bail!("init needs --out or --update"),
            };
            if update.is_none() && out.exists() && !force {
                anyhow::bail!(
                    "{} exists; nothing was written. Choose another --out, or --force to replace it",
                    out.display()
                );
            }
            if k == 0 {
                anyhow::bail!("--k must be at least 1");
            }
            let domain = out
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .filter(|s| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                })
                .unwrap_or_else(|| "draft".into());
            let draft = crate::init::draft(&crate::init::Options {
                url: source,
                tables,
                exclude,
                sample,
                k,
                domain,
                schema,
            })
            .await?;
            let (text, added) = match &update {
                Some(path) => {
                    let existing = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let (text, t, c) = crate::init::update::merge(&existing, &draft)?;
                    (text, Some((t, c)))
                }
                None => (draft, None),
            };
            // The draft must pass `check`: a draft that does not is a bug here, not the user's.
            let spec = Spec::parse(&out, &text).map_err(|e| {
                anyhow::anyhow!("the draft does not pass check (please report this): {e}")
            })?;
            let sql = crate::generate::check_sql(&spec);
            if !sql.is_empty() {
                anyhow::bail!(
                    "the draft does not pass check (please report this): {}",
                    crate::spec::SpecErrors { errors: sql }
                );
            }
            crate::frame::write_atomic(&out, text.as_bytes())?;
            match added {
                Some((t, c)) => println!(
                    "added {t} tables and {c} columns new in the schema to {}, each marked `# review: new in the schema`",
                    out.display()
                ),
                None => println!(
                    "wrote a draft of {} tables and {} columns to {}: review every `# review` line and the quirks before use",
                    spec.tables.len(),
                    spec.tables.iter().map(|t| t.columns.len()).sum::<usize>(),
                    out.display()
                ),
            }
            Ok(Outcome::Pass)
        }
        Command::Extract {
            spec,
            source,
            out,
            batch_rows,
        } => {
            let s = load(&spec)?;
            let url = pipeline::source_url(&s, source.as_deref())?;
            let ds = pipeline::extract(&s, &url, &out, batch_rows).await?;
            println!(
                "wrote {} masked tables and the masking audit to {}",
                ds.tables.len(),
                out.display()
            );
            Ok(Outcome::Pass)
        }
        Command::Profile {
            data,
            spec,
            out,
            batch_rows,
        } => {
            let s = load(&spec)?;
            let (p, _) = pipeline::profile_in_batches(&data, &s, batch_rows)?;
            p.write(&out)?;
            println!("wrote {}", out.display());
            Ok(Outcome::Pass)
        }
        Command::Compare {
            synthetic,
            production,
            spec,
            report,
            output,
        } => {
            let s = load(&spec)?;
            let r = pipeline::compare_into(&s, &synthetic, &production, &report)?;
            print_report(&r, &report, output.format)?;
            Ok(gate(&r, output.fail_on))
        }
        Command::Drift {
            old,
            new,
            spec,
            report,
            output,
        } => {
            let spec = match spec {
                Some(s) => s,
                None => {
                    let domain = crate::profile::Profile::read(&old)?.domain;
                    let guess = PathBuf::from("specs").join(format!("{domain}.toml"));
                    if !guess.exists() {
                        anyhow::bail!(
                            "{} is a profile of domain `{domain}` and {} does not exist; pass the spec with --spec",
                            old.display(),
                            guess.display()
                        );
                    }
                    guess
                }
            };
            let s = load(&spec)?;
            let r = pipeline::drift_into(&s, &old, &new, &report)?;
            print_report(&r, &report, output.format)?;
            Ok(gate(&r, output.fail_on))
        }
        Command::Merge { profiles, out } => {
            let p = pipeline::merge_into(&profiles, &out)?;
            println!(
                "merged {} profiles ({} parts) into {}",
                profiles.len(),
                p.parts,
                out.display()
            );
            Ok(Outcome::Pass)
        }
        Command::Verify {
            spec,
            source,
            report,
            scale,
            batch_rows,
            output,
        } => {
            let s = load(&spec)?;
            let url = pipeline::source_url(&s, source.as_deref())?;
            let dir = report.unwrap_or_else(|| PathBuf::from("reports").join(&s.domain));
            let r = pipeline::verify(&s, &url, &dir, scale, batch_rows).await?;
            print_report(&r, &dir, output.format)?;
            Ok(gate(&r, output.fail_on))
        }
    }
}
