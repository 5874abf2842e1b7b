//! `report.html`: one self-contained page (no scripts, no network) with the verdict, the
//! findings, and per column synthetic vs production: overlaid histograms and category bars.

use std::fmt::Write as _;

use super::{Report, fmt_num};
use crate::compare::views::{ColumnView, Histogram};
use crate::compare::{Severity, Verdict};

fn esc(s: &str) -> String {
    super::escape::visible(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
h1{font-size:1.5em}.pass{color:#176b2c}.fail{color:#b3261e}table{border-collapse:collapse;width:100%}\
td,th{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}td{overflow-wrap:anywhere}\
th{white-space:nowrap}td:nth-child(-n+2),td:nth-child(5),td:nth-child(6){overflow-wrap:normal;white-space:nowrap}\
th{background:#f4f4f4}.sev-fail{color:#b3261e;font-weight:600}.sev-warn{color:#8a5a00;font-weight:600}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}\
.card{border:1px solid #ddd;border-radius:6px;padding:8px}.card h3{font-size:1em;margin:0 0 4px}\
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}small{color:#666}\
code{background:#f4f4f4;padding:0 3px}.finding-card{border:1px solid #ddd;border-left:4px solid #b3261e;\
border-radius:6px;padding:8px 12px;margin:12px 0}.finding-card.card-warn{border-left-color:#c88a00}\
.finding-card h3{font-size:1.05em;margin:0 0 6px}.finding-card dl{display:grid;grid-template-columns:max-content 1fr;\
gap:2px 12px;margin:6px 0}.finding-card dt{color:#666}.evidence{max-width:420px}a{color:#1a56b0}";

const SYNTH: &str = "#3b6fd8";
const PROD: &str = "#e8710a";

fn axis_label(x: f64, timestamp: bool) -> String {
    if timestamp {
        chrono::DateTime::from_timestamp_micros(x as i64)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    } else {
        fmt_num(x)
    }
}

fn histogram_svg(h: &Histogram) -> String {
    let (w, ht, pad) = (320.0, 110.0, 16.0);
    let n = h.synthetic.len().max(1) as f64;
    let max = h
        .synthetic
        .iter()
        .chain(&h.production)
        .copied()
        .fold(0.0, f64::max)
        .max(1e-12);
    let bw = w / n;
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {}\" width=\"100%\" role=\"img\">",
        ht + pad
    );
    for (series, color) in [(&h.synthetic, SYNTH), (&h.production, PROD)] {
        for (i, v) in series.iter().enumerate() {
            let bh = v / max * ht;
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\" fill-opacity=\"0.5\"/>",
                i as f64 * bw,
                ht - bh,
                bw - 1.0,
                bh
            );
        }
    }
    let (lo, hi) = (
        h.edges.first().copied().unwrap_or(0.0),
        h.edges.last().copied().unwrap_or(0.0),
    );
    // The spec's bounds as dashed lines: production bars outside them are out of range.
    if let Some((dlo, dhi)) = h.declared
        && hi > lo
    {
        for (d, label) in [(dlo, "spec min"), (dhi, "spec max")] {
            if let Some(d) = d.filter(|d| (lo..=hi).contains(d)) {
                let x = (d - lo) / (hi - lo) * w;
                let _ = write!(
                    s,
                    "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"0\" y2=\"{ht}\" stroke=\"#222\" stroke-dasharray=\"3,2\"><title>{label}: {}</title></line>",
                    esc(&axis_label(d, h.timestamp))
                );
            }
        }
    }
    let _ = write!(
        s,
        "<text x=\"0\" y=\"{}\" font-size=\"10\">{}</text><text x=\"{w}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text></svg>",
        ht + 12.0,
        esc(&axis_label(lo, h.timestamp)),
        ht + 12.0,
        esc(&axis_label(hi, h.timestamp))
    );
    s
}

fn categories_svg(cats: &[(String, f64, f64)]) -> String {
    let shown = &cats[..cats.len().min(12)];
    let row = 18.0;
    let (label_w, bar_w) = (110.0, 200.0);
    let max = shown
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .fold(0.0, f64::max)
        .max(1e-12);
    let mut s = format!(
        "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\">",
        label_w + bar_w + 10.0,
        row * shown.len() as f64 + 4.0
    );
    for (i, (v, a, b)) in shown.iter().enumerate() {
        let y = i as f64 * row;
        let _ = write!(
            s,
            "<text x=\"{:.0}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"7\" fill=\"{SYNTH}\"/>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{:.1}\" height=\"7\" fill=\"{PROD}\"/>",
            label_w - 6.0,
            y + 12.0,
            esc(&crate::db::truncate(v, 16)),
            y + 2.0,
            a / max * bar_w,
            y + 9.0,
            b / max * bar_w,
        );
    }
    s.push_str("</svg>");
    s
}

/// Escaped text with its Markdown code spans (`name`) shown as code.
fn rich(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// A finding's supporting numbers as a definition list (scalars only; long lists are in
/// report.json).
fn details(f: &crate::compare::Finding) -> String {
    let mut s = String::from("<dl>");
    let _ = write!(
        s,
        "<dt>metric</dt><dd><code>{}</code></dd><dt>value</dt><dd>{}</dd><dt>threshold</dt><dd>{}</dd>",
        esc(&f.metric),
        fmt_num(f.value),
        fmt_num(f.threshold)
    );
    for (k, v) in &f.details {
        let shown = match v {
            serde_json::Value::Number(n) => n.as_f64().map(fmt_num),
            serde_json::Value::String(t) => Some(esc(t)),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Array(a) if a.len() <= 8 && a.iter().all(|x| !x.is_object()) => {
                Some(esc(&serde_json::to_string(a).unwrap_or_default()))
            }
            _ => None,
        };
        if let Some(shown) = shown {
            let _ = write!(s, "<dt>{}</dt><dd>{shown}</dd>", esc(k));
        }
    }
    s.push_str("</dl>");
    s
}

/// One card per failing or warning finding: what was measured, why it fails, what to change,
/// and the column's distributions side by side where the report has them.
fn finding_card(r: &Report, f: &crate::compare::Finding) -> String {
    let sev = f.severity.as_str();
    let mut s = format!(
        "<section class=\"finding-card card-{sev}\" id=\"f-{}\"><h3><span class=\"sev-{sev}\">{sev}</span> {} <code>{}</code></h3><p>{}</p>",
        esc(&f.id),
        f.kind.as_str(),
        esc(&f.location()),
        rich(&f.message)
    );
    if let Some(sugg) = &f.suggestion {
        let _ = write!(
            s,
            "<p><strong>Suggested change:</strong> {}</p>",
            rich(sugg)
        );
    }
    s.push_str(&details(f));
    let parts: Vec<&str> = f
        .column
        .as_deref()
        .map_or(Vec::new(), |c| c.split('+').collect());
    for part in parts {
        if let Some(v) = r
            .columns
            .iter()
            .find(|v| v.table == f.table && v.column == part)
        {
            let _ = write!(
                s,
                "<div class=\"evidence\"><small>{}</small>{}</div>",
                esc(part),
                card(v, false)
            );
        }
    }
    if f.kind.as_str() == "unseen_shape" {
        s.push_str(SHAPE_LEGEND);
    }
    s.push_str("</section>");
    s
}

const SHAPE_LEGEND: &str = "<p><small>Shapes: <code>9</code> a digit, <code>A</code> a run of upper-case letters, \
<code>a</code> a run of lower-case letters, <code>?</code> a control or invisible character, <code>*</code> any \
other non-ASCII symbol; everything else stands for itself.</small></p>";

fn card(v: &ColumnView, flagged: bool) -> String {
    let mut s = format!(
        "<div class=\"card\"><h3>{}<code>{}.{}</code></h3>",
        if flagged { "⚠ " } else { "" },
        esc(&v.table),
        esc(&v.column)
    );
    if let Some(h) = &v.histogram {
        s.push_str(&histogram_svg(h));
        if h.withheld_bins > 0 {
            let _ = write!(
                s,
                "<small>{} production bins withheld (fewer than k rows)</small>",
                h.withheld_bins
            );
        }
    }
    if !v.categories.is_empty() {
        s.push_str(&categories_svg(&v.categories));
    }
    s.push_str("</div>");
    s
}

pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let verdict = match r.verdict {
        Verdict::Pass => "<span class=\"pass\">PASS</span>",
        Verdict::Fail => "<span class=\"fail\">FAIL</span>",
    };
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>realitycheck: {d}</title>\
         <style>{STYLE}</style></head><body><h1>realitycheck: {d} — {verdict}</h1>\
         <p>{} failing, {} warning, {} passing checks · spec sha256 <code>{}</code> · realitycheck {} · {}</p>",
        r.counts.fail,
        r.counts.warn,
        r.counts.info,
        esc(&r.spec_digest[..12.min(r.spec_digest.len())]),
        esc(&r.tool_version),
        esc(&r.created_at),
        d = esc(&r.domain),
    );
    s.push_str("<h2>Findings</h2><table><tr><th>severity</th><th>kind</th><th>where</th><th>metric</th><th>value</th><th>threshold</th><th>finding</th><th>suggested change</th></tr>");
    let notable: Vec<&crate::compare::Finding> = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    for f in &notable {
        let _ = write!(
            s,
            "<tr><td class=\"sev-{sev}\">{sev}</td><td>{}</td><td><a href=\"#f-{}\"><code>{}</code></a></td><td><code>{}</code></td><td title=\"measured value\">{}</td><td title=\"fails above this\">{}</td><td>{}</td><td>{}</td></tr>",
            f.kind.as_str(),
            esc(&f.id),
            esc(&f.location()),
            esc(&f.metric),
            fmt_num(f.value),
            fmt_num(f.threshold),
            rich(&f.message),
            rich(f.suggestion.as_deref().unwrap_or("")),
            sev = f.severity.as_str(),
        );
    }
    s.push_str("</table>");
    if !notable.is_empty() {
        s.push_str("<h2>What failed, and why</h2>");
        for f in &notable {
            s.push_str(&finding_card(r, f));
        }
    }
    let _ = write!(
        s,
        "<h2>Columns</h2><p class=\"legend\"><span style=\"background:{SYNTH}\"></span>{}\
         <span style=\"background:{PROD}\"></span>{} (shares)</p><div class=\"grid\">",
        esc(&r.sides.expected),
        esc(&r.sides.observed)
    );
    for v in &r.columns {
        let flagged = r.findings.iter().any(|f| {
            f.severity == Severity::Fail
                && f.table == v.table
                && f.column.as_deref() == Some(v.column.as_str())
        });
        s.push_str(&card(v, flagged));
    }
    s.push_str("</div><h2>Passing checks</h2><table><tr><th>kind</th><th>where</th><th>metric</th><th>value</th><th>threshold</th></tr>");
    for f in r.findings.iter().filter(|f| f.severity == Severity::Info) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.kind.as_str(),
            esc(&f.location()),
            esc(&f.metric),
            fmt_num(f.value),
            fmt_num(f.threshold)
        );
    }
    s.push_str("</table></body></html>\n");
    s
}
