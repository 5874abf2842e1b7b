//! The stages wired to their artifacts: each function reads what the previous stage wrote and
//! writes what the next one reads. The CLI is a thin layer over these.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use crate::compare;
use crate::dataset::{Dataset, Extraction, FORMAT, Origin, TableFile, now_rfc3339};
use crate::extract;
use crate::frame;
use crate::generate;
use crate::mask::{self, MaskKey, audit::MaskingAudit};
use crate::output::Staging;
use crate::profile::{self, Profile, Samples};
use crate::report::Report;
use crate::spec::Spec;

pub use crate::generate::Shard;

/// Generates synthetic data into a dataset folder (replaced whole, or left as it was on
/// failure) and, optionally, into a database.
#[allow(clippy::too_many_arguments)]
pub async fn generate(
    spec: &Spec,
    out: &Path,
    seed: Option<u64>,
    scale: f64,
    to: Option<&str>,
    replace: bool,
    shard: Option<Shard>,
    chunk_rows: usize,
) -> anyhow::Result<Stored> {
    let staging = Staging::new(out)?;
    let stored = generate_into(
        spec,
        staging.path(),
        seed,
        scale,
        to,
        replace,
        shard,
        chunk_rows,
    )
    .await?;
    staging.commit()?;
    Ok(stored)
}

/// What a generation made: each scenario's rows, then the tables, rows and time.
fn log_generated(
    scenarios: &[crate::dataset::ScenarioRows],
    tables: usize,
    rows: u64,
    t0: Instant,
    how: &str,
) {
    for s in scenarios {
        tracing::info!("scenario `{}`: {} rows of `{}`", s.name, s.rows, s.table);
    }
    tracing::info!(
        "generated {tables} tables, {rows} rows in {:.2} s{how}",
        t0.elapsed().as_secs_f64()
    );
}

/// Refuses data made from the spec that breaks the spec's own rules.
fn refuse_broken(broken: &[(String, u64, String)]) -> anyhow::Result<()> {
    if broken.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = broken
        .iter()
        .map(|(name, n, example)| format!("`{name}`: {n} rows, e.g. {example}"))
        .collect();
    anyhow::bail!(
        "the spec's own data breaks its rules, so nothing was written: {}. Fix the generators \
         (or the rule) so that data made from the spec obeys it",
        list.join("; ")
    )
}

#[allow(clippy::too_many_arguments)]
async fn generate_into(
    spec: &Spec,
    out: &Path,
    seed: Option<u64>,
    scale: f64,
    to: Option<&str>,
    replace: bool,
    shard: Option<Shard>,
    chunk_rows: usize,
) -> anyhow::Result<Stored> {
    let seed = seed.unwrap_or(spec.seed);
    let t0 = Instant::now();
    let whole = match to {
        Some(_) => Some("--to loads the tables into a database whole".to_string()),
        None => generate::needs_whole_tables(spec),
    };
    generate::estimate::check_fits(spec, scale, out, whole.is_none())?;
    let Some(why) = whole else {
        // Tables stream to their files a chunk at a time; only the columns later tables read
        // stay in memory. The rules then run over the files (of this shard, with --shard).
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        let mut sink = generate::write::DirSink::new(out, shard);
        let scenarios = generate::generate_chunks(spec, seed, scale, chunk_rows, &mut sink)?;
        let shard_name = shard.map(|sh| sh.to_string());
        let dataset =
            generate::write::manifest(spec, seed, scale, sink.files, scenarios, shard_name);
        refuse_broken(&generate::broken_rules_in(
            spec,
            &profile::scan_tables(out, &dataset)?,
        ))?;
        let rows: u64 = dataset.tables.iter().map(|t| t.rows).sum();
        let how = format!(", {chunk_rows} rows at a time");
        log_generated(&dataset.scenarios, dataset.tables.len(), rows, t0, &how);
        dataset.write(out)?;
        return Ok(Stored {
            dataset,
            tables: None,
        });
    };
    tracing::info!("generating whole tables in memory: {why}");
    let mut g = generate::generate(spec, seed, scale)?;
    refuse_broken(&generate::broken_rules(spec, &g))?;
    // A shard is cut from the whole run, after its rules were checked on the whole.
    if let Some(sh) = shard {
        g.shard = Some(sh.to_string());
        for (_, df) in g.tables.iter_mut() {
            let (a, b) = sh.range(df.height());
            *df = df.slice(a as i64, b - a);
        }
    }
    let rows = g.tables.iter().map(|(_, df)| df.height() as u64).sum();
    log_generated(&g.scenarios, g.tables.len(), rows, t0, "");
    if let Some(url) = to {
        generate::write::to_database(spec, &g, url, replace).await?;
        tracing::info!("wrote them to {}", crate::db::redact_url(url));
    }
    let dataset = generate::write::to_dir(spec, &mut g, out, seed, scale)?;
    Ok(Stored {
        dataset,
        tables: Some(g.tables),
    })
}

/// A dataset as written, with its tables still in memory when they were generated whole, so
/// `verify` profiles them without reading the files back.
pub struct Stored {
    pub dataset: Dataset,
    /// `None` when the tables streamed to their files.
    pub tables: Option<Vec<(String, polars::prelude::DataFrame)>>,
}

/// The source URL: `--source` wins over the spec's. A relative SQLite path that does not
/// exist from the working folder is looked up beside the spec.
pub fn source_url(spec: &Spec, cli: Option<&str>) -> anyhow::Result<String> {
    let url = cli
        .map(str::to_string)
        .or_else(|| spec.source.url.clone())
        .with_context(|| {
            format!(
                "no source: pass --source URL or set `[source] url` in {}",
                spec.path.display()
            )
        })?;
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let (path, query) = rest
            .split_once('?')
            .map_or((rest, None), |(p, q)| (p, Some(q)));
        let p = Path::new(path);
        if p.is_relative() && !p.exists() {
            let beside = spec.path.parent().unwrap_or(Path::new(".")).join(p);
            if beside.exists() {
                let q = query.map(|q| format!("?{q}")).unwrap_or_default();
                return Ok(format!("sqlite://{}{q}", beside.display()));
            }
        }
    }
    Ok(url)
}

/// Extracts, masks and writes production data into `out` with the masking audit beside it.
/// The folder is replaced whole only when every check passed, the leak check of every file
/// included; otherwise it is left as it was.
pub async fn extract(
    spec: &Spec,
    url: &str,
    out: &Path,
    batch_rows: usize,
) -> anyhow::Result<Dataset> {
    let staging = Staging::new(out)?;
    let (dataset, _, guard) =
        extract_into(spec, url, staging.path(), staging.path(), batch_rows).await?;
    guard.check_dir(staging.path(), &[])?;
    staging.commit()?;
    Ok(dataset)
}

/// Masks each batch extraction hands over and writes it to its table's Parquet file, a row
/// group at a time: rows go from the source to disk without a table ever being whole in memory.
struct MaskingSink<'a> {
    spec: &'a Spec,
    out: &'a Path,
    masker: mask::Masker<'a>,
    table: Option<(mask::TableMasker<'a>, TableWriter)>,
    /// Per file written: the table, its file, and the leak guard's size when its first batch
    /// was checked.
    written: Vec<(TableFile, usize)>,
}

/// One table's masked rows on their way to Parquet: each batch a frame, encoded on the
/// writer's thread in row groups of a fixed size while the next batch is read and masked.
struct TableWriter {
    name: String,
    file: String,
    writer: frame::BackgroundWriter,
}

impl TableWriter {
    fn push(&mut self, spec: &Spec, batch: Vec<(String, frame::Values)>) -> anyhow::Result<()> {
        let n = batch.first().map_or(0, |(_, v)| v.len());
        let df = mask::to_frame(spec, &self.name, n, &batch)?;
        drop(batch);
        self.writer.push(df)
    }

    fn finish(self) -> anyhow::Result<TableFile> {
        let (rows, sha256) = self.writer.finish()?;
        Ok(TableFile {
            name: self.name,
            file: self.file,
            rows,
            sha256,
        })
    }
}

impl<'a> extract::Sink for MaskingSink<'a> {
    fn begin(&mut self, table: &str, columns: &[&str]) -> anyhow::Result<()> {
        let tm = self.masker.table(table, columns)?;
        let file = format!("{table}.parquet");
        let writer = frame::BackgroundWriter::create(&self.out.join(&file))?;
        self.table = Some((
            tm,
            TableWriter {
                name: table.to_string(),
                file,
                writer,
            },
        ));
        Ok(())
    }

    fn rows(&mut self, batch: mask::RawTable) -> anyhow::Result<()> {
        let (tm, w) = self
            .table
            .as_mut()
            .context("extraction handed rows before naming their table")?;
        let masked = self.masker.batch(tm, batch)?;
        w.push(self.spec, masked)
    }

    fn end(&mut self) -> anyhow::Result<()> {
        let (tm, w) = self
            .table
            .take()
            .context("extraction ended a table it had not started")?;
        let guard_at_start = self.masker.end(tm);
        let file = w.finish()?;
        self.written.push((file, guard_at_start));
        Ok(())
    }
}

/// Extracts, masks and writes production data into `out` and the audit into `audit_dir`, both
/// inside a staging folder; gives what was written and the guard that checks the artifacts.
async fn extract_into(
    spec: &Spec,
    url: &str,
    out: &Path,
    audit_dir: &Path,
    batch_rows: usize,
) -> anyhow::Result<(Dataset, Vec<(PathBuf, String)>, mask::LeakGuard)> {
    let key = MaskKey::from_env(&spec.masking.key_env)?;
    let t0 = Instant::now();
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut sink = MaskingSink {
        spec,
        out,
        masker: mask::Masker::new(spec, &key),
        table: None,
        written: Vec::new(),
    };
    let ex = extract::extract(spec, url, batch_rows, &mut sink).await?;
    let MaskingSink {
        masker,
        written: files,
        ..
    } = sink;
    tracing::info!(
        "read, masked and wrote {} tables from {} ({} rows sampled) in {:.2} s",
        files.len(),
        ex.source,
        files.iter().map(|(t, _)| t.rows).sum::<u64>(),
        t0.elapsed().as_secs_f64()
    );
    let extract::Extracted {
        dialect,
        source,
        schema,
        table_stats,
        statements,
        unclassified,
    } = ex;
    let masked = masker.finish(&unclassified)?;
    // Values the guard learnt after a file's first rows were checked are looked for in it now.
    for (t, guard_at_start) in &files {
        if *guard_at_start < masked.guard.len() {
            masked.guard.check_parquet(&out.join(&t.file), &t.name)?;
        }
    }
    let tables: Vec<TableFile> = files.into_iter().map(|(t, _)| t).collect();
    let extraction = Extraction {
        source,
        dialect: if extract::is_files(url) {
            "files".into()
        } else {
            dialect.name().into()
        },
        sample: spec.source.sample,
        source_schema: schema,
        columns: masked.columns,
        tables: table_stats,
        statements,
        k_anonymity: masked.k_anonymity,
    };
    let ds = Dataset {
        format: FORMAT.into(),
        origin: Origin::Production,
        domain: spec.domain.clone(),
        spec_digest: spec.digest.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_rfc3339(),
        seed: None,
        scale: None,
        tables,
        scenarios: Vec::new(),
        shard: None,
        extraction: Some(extraction),
    };
    let mut written: Vec<(PathBuf, String)> = ds
        .tables
        .iter()
        .map(|t| (out.join(&t.file), t.sha256.clone()))
        .collect();
    written.push((out.join(crate::dataset::MANIFEST), ds.write(out)?));
    let audit = MaskingAudit::new(spec, &key, &ds, ds.extraction.as_ref().expect("set above"));
    let json_path = audit_dir.join("masking-audit.json");
    let md_path = audit_dir.join("masking-audit.md");
    written.push((
        json_path.clone(),
        frame::write_atomic(&json_path, &serde_json::to_vec_pretty(&audit)?)?,
    ));
    written.push((
        md_path.clone(),
        frame::write_atomic(&md_path, audit.to_markdown().as_bytes())?,
    ));
    Ok((ds, written, masked.guard))
}

pub fn profile(dir: &Path, spec: &Spec) -> anyhow::Result<(Profile, Samples)> {
    profile_in_batches(dir, spec, profile::DEFAULT_BATCH_ROWS)
}

pub fn profile_in_batches(
    dir: &Path,
    spec: &Spec,
    batch_rows: usize,
) -> anyhow::Result<(Profile, Samples)> {
    profile::profile_dir(dir, spec, batch_rows)
        .with_context(|| format!("profiling {}", dir.display()))
}

pub fn compare(spec: &Spec, synth: &Path, prod: &Path) -> anyhow::Result<Report> {
    let (sp, ss) = profile(synth, spec)?;
    let (pp, ps) = profile(prod, spec)?;
    Ok(report(spec, &sp, &pp, &ss, &ps))
}

pub fn report(spec: &Spec, sp: &Profile, pp: &Profile, ss: &Samples, ps: &Samples) -> Report {
    let findings = compare::compare(spec, sp, pp, ss, ps);
    let views = compare::views::views(spec, sp, pp, ss, ps);
    Report::new(&spec.domain, &spec.digest, findings, views)
}

/// Drift between two profiles (a committed baseline and a new release's), with no data at hand:
/// the same findings, gate and report as `compare`, with statistics read from the profiles'
/// sketches (see `compare::drift`). Writes the report into `dir` (replaced whole).
pub fn drift_into(spec: &Spec, old: &Path, new: &Path, dir: &Path) -> anyhow::Result<Report> {
    let (po, pn) = (Profile::read(old)?, Profile::read(new)?);
    for (p, path) in [(&po, old), (&pn, new)] {
        if p.domain != spec.domain {
            anyhow::bail!(
                "{} is a profile of domain `{}`, and {} describes `{}`; pass the spec of that domain with --spec",
                path.display(),
                p.domain,
                spec.path.display(),
                spec.domain
            );
        }
        if p.spec_digest != spec.digest {
            tracing::warn!(
                "{} was profiled with another version of the spec (sha256 {}…); comparing against {}",
                path.display(),
                &p.spec_digest[..12.min(p.spec_digest.len())],
                spec.path.display()
            );
        }
        // A column with numeric statistics has a histogram too (both need rows), unless the
        // profile predates histograms.
        let unsketched = p
            .tables
            .iter()
            .flat_map(|t| &t.columns)
            .any(|c| c.numeric.is_some() && c.histogram.is_none());
        if unsketched {
            anyhow::bail!(
                "{} has no histograms (it was written by an older realitycheck); profile the data again",
                path.display()
            );
        }
    }
    let (findings, so, sn) = compare::drift(spec, &po, &pn);
    let views = compare::views::views(spec, &po, &pn, &so, &sn);
    let mut r = Report::new(&spec.domain, &spec.digest, findings, views);
    r.sides = crate::report::Sides {
        expected: old.display().to_string(),
        observed: new.display().to_string(),
    };
    let staging = Staging::new(dir)?;
    write_report(&r, staging.path())?;
    write_suggestions(spec, &r, staging.path())?;
    staging.commit()?;
    Ok(r)
}

/// Merges partition profiles into the profile of their union and writes it to `out`.
pub fn merge_into(parts: &[PathBuf], out: &Path) -> anyhow::Result<Profile> {
    let profiles = parts
        .iter()
        .map(|p| Profile::read(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = profile::merge::merge_all(&profiles)?;
    merged.write(out)?;
    Ok(merged)
}

/// Writes `report.json`, `summary.md` and `junit.xml`; returns what was written with digests.
pub fn write_report(report: &Report, dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut written = Vec::new();
    for (name, bytes) in [
        ("report.json", serde_json::to_vec_pretty(report)?),
        ("summary.md", report.to_markdown().into_bytes()),
        ("junit.xml", report.to_junit().into_bytes()),
        (
            "report.html",
            crate::report::html::render(report).into_bytes(),
        ),
    ] {
        let path = dir.join(name);
        written.push((path.clone(), frame::write_atomic(&path, &bytes)?));
    }
    Ok(written)
}

/// Writes `suggested-spec.toml` (the spec with every suggested change of a warning or failing
/// finding applied, comments kept) and `suggested-spec.diff`; returns what was written.
pub fn write_suggestions(
    spec: &Spec,
    report: &Report,
    dir: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let text = std::fs::read_to_string(&spec.path)
        .with_context(|| format!("reading {} again", spec.path.display()))?;
    let changes: Vec<compare::SpecChange> = report
        .findings
        .iter()
        .filter(|f| f.severity != compare::Severity::Info)
        .filter_map(|f| f.spec_change.clone())
        .collect();
    let (suggested, skipped) = crate::spec::suggest::apply(&text, &changes)?;
    for s in skipped {
        tracing::debug!("a suggested change does not fit the spec: {s}");
    }
    let name = spec
        .path
        .file_name()
        .map_or("spec.toml".into(), |n| n.to_string_lossy().into_owned());
    let diff = crate::spec::suggest::diff(&text, &suggested, &name, "suggested-spec.toml");
    let mut written = Vec::new();
    for (file, bytes) in [
        ("suggested-spec.toml", suggested.into_bytes()),
        ("suggested-spec.diff", diff.into_bytes()),
    ] {
        let path = dir.join(file);
        written.push((path.clone(), frame::write_atomic(&path, &bytes)?));
    }
    Ok(written)
}

/// The run manifest of `verify`: inputs, versions, time per stage, every artifact's digest.
#[derive(Debug, Serialize)]
pub struct RunManifest {
    pub format: &'static str,
    pub tool_version: &'static str,
    pub created_at: String,
    pub domain: String,
    pub spec_path: String,
    pub spec_digest: String,
    pub seed: u64,
    pub scale: f64,
    pub source: String,
    pub verdict: compare::Verdict,
    pub stages: Vec<Stage>,
    pub artifacts: Vec<Artifact>,
}

#[derive(Debug, Serialize)]
pub struct Stage {
    pub name: &'static str,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct Artifact {
    pub path: String,
    pub sha256: String,
}

/// Compares two dataset folders and writes the report into `dir` (replaced whole).
pub fn compare_into(spec: &Spec, synth: &Path, prod: &Path, dir: &Path) -> anyhow::Result<Report> {
    let r = compare(spec, synth, prod)?;
    let staging = Staging::new(dir)?;
    write_report(&r, staging.path())?;
    write_suggestions(spec, &r, staging.path())?;
    staging.commit()?;
    Ok(r)
}

/// Everything: extract and mask, generate, profile both, compare, report. Writes every artifact
/// under `dir`, which is replaced whole only when the run completes (a failing gate completes;
/// an error does not) and every text artifact passed the leak check; returns the report.
pub async fn verify(
    spec: &Spec,
    source: &str,
    dir: &Path,
    scale: f64,
    batch_rows: usize,
) -> anyhow::Result<Report> {
    let staging = Staging::new(dir)?;
    let report = verify_into(spec, source, staging.path(), scale, batch_rows).await?;
    staging.commit()?;
    Ok(report)
}

async fn verify_into(
    spec: &Spec,
    source: &str,
    dir: &Path,
    scale: f64,
    batch_rows: usize,
) -> anyhow::Result<Report> {
    // The source is tried before anything is generated: a wrong URL fails in a second.
    if !extract::is_files(source) {
        let (conn, _) = crate::db::connect(source, true, spec.source.statement_timeout_s).await?;
        drop(conn);
    }
    let mut stages = Vec::new();
    let mut written: Vec<(PathBuf, String)> = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, stages: &mut Vec<Stage>| {
        stages.push(Stage {
            name,
            seconds: clock.elapsed().as_secs_f64(),
        });
        clock = Instant::now();
    };

    let synth_dir = dir.join("synthetic");
    let prod_dir = dir.join("production");
    let spinner = crate::progress::Spinner::start("reading and masking production");
    // Production first: a source that cannot be read fails before any work is done.
    let (prod, w, guard) = extract_into(spec, source, &prod_dir, dir, batch_rows).await?;
    written.extend(w);
    lap("extract_mask", &mut stages);
    spinner.stage("generating synthetic data");

    let synth = generate_into(
        spec,
        &synth_dir,
        None,
        scale,
        None,
        false,
        None,
        generate::DEFAULT_CHUNK_ROWS,
    )
    .await?;
    written.extend(
        synth
            .dataset
            .tables
            .iter()
            .map(|t| (synth_dir.join(&t.file), t.sha256.clone())),
    );
    lap("generate", &mut stages);
    spinner.stage("profiling both sides");

    // Frames generated whole are still in memory: profile them rather than read them back.
    // Files (streamed generation, and production) are read a column at a time.
    let synth_source = match &synth.tables {
        Some(t) => profile::Tables::Frames(t),
        None => profile::Tables::Files {
            dir: &synth_dir,
            ds: &synth.dataset,
        },
    };
    let batch = profile::DEFAULT_BATCH_ROWS;
    let (sp, ss) = profile::profile_tables(spec, &synth.dataset, synth_source, batch)?;
    drop(synth.tables);
    let (pp, ps) = profile::profile_tables(
        spec,
        &prod,
        profile::Tables::Files {
            dir: &prod_dir,
            ds: &prod,
        },
        batch,
    )?;
    let profiles = dir.join("profiles");
    for (p, name) in [(&sp, "synthetic.json"), (&pp, "production.json")] {
        let path = profiles.join(name);
        written.push((path.clone(), p.write(&path)?));
    }
    lap("profile", &mut stages);
    spinner.stage("comparing and writing the report");

    let report = report(spec, &sp, &pp, &ss, &ps);
    lap("compare", &mut stages);
    written.extend(write_report(&report, dir)?);
    written.extend(write_suggestions(spec, &report, dir)?);
    lap("report", &mut stages);

    let manifest = RunManifest {
        format: "realitycheck.run/1",
        tool_version: env!("CARGO_PKG_VERSION"),
        created_at: now_rfc3339(),
        domain: spec.domain.clone(),
        spec_path: spec.path.display().to_string(),
        spec_digest: spec.digest.clone(),
        seed: spec.seed,
        scale,
        source: crate::db::redact_url(source),
        verdict: report.verdict,
        stages,
        artifacts: written
            .into_iter()
            .map(|(p, sha256)| Artifact {
                path: p.strip_prefix(dir).unwrap_or(&p).display().to_string(),
                sha256,
            })
            .collect(),
    };
    frame::write_atomic(
        &dir.join("run.json"),
        &serde_json::to_vec_pretty(&manifest)?,
    )?;
    // Last: every text artifact of the run, checked for raw PII before the folder is put in place.
    guard.check_dir(dir, &["synthetic", "profiles/synthetic.json"])?;
    Ok(report)
}
