//! Reports: `report.json` (the versioned contract CI scripts build on), `summary.md` for CI
//! comments, and the terminal summary. Plain types in, text out.

use std::fmt::Write as _;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::{Deserialize, Serialize};

use crate::compare::{Finding, Severity, Verdict};

pub mod escape;
pub mod html;

use escape::{md_cell, md_code, visible};

pub const FORMAT: &str = "realitycheck.report/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub tool_version: String,
    pub created_at: String,
    pub domain: String,
    pub spec_digest: String,
    pub verdict: Verdict,
    pub counts: Counts,
    pub findings: Vec<Finding>,
    /// Synthetic and production side by side, per column, for charts.
    #[serde(default)]
    pub columns: Vec<crate::compare::views::ColumnView>,
    /// What was compared with what: synthetic and production for `compare` and `verify`, two
    /// profiles for `drift` (the older in the synthetic side's place).
    #[serde(default)]
    pub sides: Sides,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sides {
    pub expected: String,
    pub observed: String,
}

impl Default for Sides {
    fn default() -> Sides {
        Sides {
            expected: "synthetic".into(),
            observed: "production".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
}

impl Report {
    pub fn new(
        domain: &str,
        spec_digest: &str,
        findings: Vec<Finding>,
        columns: Vec<crate::compare::views::ColumnView>,
    ) -> Report {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        Report {
            format: FORMAT.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            created_at: crate::dataset::now_rfc3339(),
            domain: domain.into(),
            spec_digest: spec_digest.into(),
            verdict: crate::compare::verdict(&findings),
            counts: Counts {
                fail: count(Severity::Fail),
                warn: count(Severity::Warn),
                info: count(Severity::Info),
            },
            findings,
            columns,
            sides: Sides::default(),
        }
    }

    fn notable(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
    }

    fn verdict_line(&self) -> String {
        format!(
            "{}: {} failing, {} warning, {} passing checks",
            match self.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
            },
            self.counts.fail,
            self.counts.warn,
            self.counts.info
        )
    }

    /// The terminal summary: failing and warning findings, then the verdict. At `width` of 140
    /// columns or more, a table; narrower, or when the width is unknown (a log, a pseudo-terminal
    /// that reports 0), each finding stacked on its own lines, wrapped to the width (80 when
    /// unknown).
    pub fn to_terminal(&self, color: bool, width: Option<u16>) -> String {
        match width {
            Some(w) if w >= 140 => self.table(color, w),
            w => self.stacked(color, w.filter(|w| *w >= 20).unwrap_or(80) as usize),
        }
    }

    fn stacked(&self, color: bool, width: usize) -> String {
        let mut s = String::new();
        for f in self.notable() {
            let sev = match (f.severity, color) {
                (Severity::Fail, true) => "\u{1b}[31mFAIL\u{1b}[0m".to_string(),
                (Severity::Warn, true) => "\u{1b}[33mWARN\u{1b}[0m".to_string(),
                (sev, _) => sev.as_str().to_uppercase(),
            };
            let _ = writeln!(s, "{sev} {} {}", f.kind.as_str(), visible(&f.location()));
            let _ = writeln!(
                s,
                "  {} {} (threshold {})",
                visible(&f.metric),
                fmt_num(f.value),
                fmt_num(f.threshold)
            );
            for line in wrap(&visible(&f.message), width.saturating_sub(2).max(20)) {
                let _ = writeln!(s, "  {line}");
            }
            if let Some(sugg) = &f.suggestion {
                for (i, line) in wrap(&visible(sugg), width.saturating_sub(4).max(20))
                    .into_iter()
                    .enumerate()
                {
                    let _ = writeln!(s, "  {} {line}", if i == 0 { "→" } else { " " });
                }
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "{}", self.verdict_line());
        s
    }

    fn table(&self, color: bool, width: u16) -> String {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        t.set_width(width);
        if !color {
            t.force_no_tty();
        }
        t.set_header(vec![
            "severity",
            "kind",
            "where",
            "metric",
            "value",
            "threshold",
            "what",
        ]);
        for f in self.notable() {
            let sev = Cell::new(f.severity.as_str());
            let sev = if color {
                sev.fg(if f.severity == Severity::Fail {
                    Color::Red
                } else {
                    Color::Yellow
                })
            } else {
                sev
            };
            t.add_row(vec![
                sev,
                Cell::new(f.kind.as_str()),
                Cell::new(visible(&f.location())),
                Cell::new(visible(&f.metric)),
                Cell::new(fmt_num(f.value)),
                Cell::new(fmt_num(f.threshold)),
                Cell::new(visible(&f.message)),
            ]);
        }
        let mut s = String::new();
        if self.notable().next().is_some() {
            let _ = writeln!(s, "{t}");
        }
        let _ = writeln!(s, "{}", self.verdict_line());
        s
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# realitycheck: {}\n", md_cell(&self.domain));
        let _ = writeln!(s, "**{}**\n", self.verdict_line());
        if self.sides != Sides::default() {
            let _ = writeln!(
                s,
                "Drift: {} (in the place of synthetic data) against {} (in the place of production).\n",
                md_code(&self.sides.expected),
                md_code(&self.sides.observed)
            );
        }
        let notable: Vec<&Finding> = self.notable().collect();
        // A pull-request comment stays readable and under the hosts' size limits: the top
        // findings in the table, the rest folded away (and all of them in report.html).
        let (top, rest) = notable.split_at(notable.len().min(SUMMARY_TOP));
        let table = |s: &mut String, rows: &[&Finding]| {
            let _ = writeln!(
                s,
                "| severity | kind | where | metric | value | threshold | finding | suggested change |"
            );
            let _ = writeln!(s, "|---|---|---|---|---:|---:|---|---|");
            for f in rows {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    f.severity.as_str(),
                    f.kind.as_str(),
                    md_code(&f.location()),
                    md_cell(&f.metric),
                    fmt_num(f.value),
                    fmt_num(f.threshold),
                    md_escape(&truncate(&f.message, 400)),
                    md_escape(&truncate(f.suggestion.as_deref().unwrap_or(""), 300))
                );
            }
        };
        if !top.is_empty() {
            table(&mut s, top);
        }
        if !rest.is_empty() {
            let shown = &rest[..rest.len().min(SUMMARY_MORE)];
            let _ = writeln!(
                s,
                "\n<details><summary>{} more findings</summary>\n",
                rest.len()
            );
            table(&mut s, shown);
            if rest.len() > shown.len() {
                let _ = writeln!(
                    s,
                    "\n… and {} more in report.html and report.json.",
                    rest.len() - shown.len()
                );
            }
            let _ = writeln!(s, "\n</details>");
        }
        let _ = writeln!(
            s,
            "\nThe full report: `report.html` (every finding with its evidence) and `report.json`."
        );
        let _ = writeln!(
            s,
            "\nrealitycheck {} · spec sha256 `{}` · {}",
            self.tool_version,
            &self.spec_digest[..12.min(self.spec_digest.len())],
            self.created_at
        );
        s
    }
}

/// Finding messages carry their own Markdown (backticks around names): kept, but nothing in
/// them can end the cell or reach the reader as a control character.
/// Findings in the summary's table; the next `SUMMARY_MORE` are folded in a `<details>`.
const SUMMARY_TOP: usize = 20;
const SUMMARY_MORE: usize = 200;

/// At most `max` characters, with an ellipsis when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Words of `text` in lines of at most `width` characters (a longer word has a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn md_escape(s: &str) -> String {
    visible(&s.replace('\n', " "))
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn fmt_num(x: f64) -> String {
    if x.is_infinite() {
        "-".into()
    } else if x == x.trunc() && x.abs() < 1e12 {
        format!("{x:.0}")
    } else if x.abs() >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.2e}")
    }
}

fn xml_escape(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

impl Report {
    /// JUnit XML for CI test tabs: one uniquely named test case per check (the finding's stable
    /// id keeps two checks of one place apart), a `failure` for each failing one, `skipped`
    /// with its message for each warning, and `time` set on every element (checks are not
    /// timed one by one: 0).
    /// `junit.xml` (quick-junit, the writer cargo-nextest uses): one suite, one uniquely named
    /// case per check (kind, location, metric and the finding's stable id); a failing finding is
    /// a failure, a warning a skipped case with its message, the rest pass. Times are set (to 0:
    /// checks are not timed one by one).
    pub fn to_junit(&self) -> String {
        use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};
        let zero = std::time::Duration::ZERO;
        let mut suite = TestSuite::new(visible(&self.domain));
        suite.set_time(zero);
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&self.created_at) {
            suite.set_timestamp(t);
        }
        for f in &self.findings {
            let name = format!(
                "{} {} {} [{}]",
                f.kind.as_str(),
                visible(&f.location()),
                visible(&f.metric),
                f.id
            );
            let status = match f.severity {
                Severity::Fail => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(visible(&f.message))
                        .set_type(f.kind.as_str())
                        .set_description(format!(
                            "value {} > threshold {}{}",
                            fmt_num(f.value),
                            fmt_num(f.threshold),
                            f.suggestion
                                .as_deref()
                                .map(|x| format!("\nsuggestion: {}", visible(x)))
                                .unwrap_or_default()
                        ));
                    st
                }
                Severity::Warn => {
                    let mut st = TestCaseStatus::skipped();
                    st.set_message(format!("warning: {}", visible(&f.message)));
                    st
                }
                Severity::Info => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("{}.{}", visible(&self.domain), visible(&f.table)))
                .set_time(zero);
            suite.add_test_case(case);
        }
        let mut report = JReport::new("realitycheck");
        report.set_time(zero).add_test_suite(suite);
        // Serializing plain strings into memory cannot fail; should it, the report says so
        // rather than leaving an empty file that reads as "no tests".
        report.to_string().unwrap_or_else(|e| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"realitycheck\" tests=\"1\" failures=\"0\" errors=\"1\"><testsuite name=\"junit\" tests=\"1\" failures=\"0\" errors=\"1\"><testcase name=\"junit.xml\"><error message=\"{}\"/></testcase></testsuite></testsuites>\n",
                xml_escape(&e.to_string())
            )
        })
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;
    use crate::compare::Kind;

    fn finding(i: usize) -> Finding {
        Finding {
            id: format!("id{i}"),
            kind: Kind::Distribution,
            table: "t".into(),
            column: Some(format!("c{i}")),
            metric: "ks_adjusted".into(),
            value: 0.5,
            threshold: 0.1,
            severity: Severity::Fail,
            message: "x".repeat(1000),
            suggestion: None,
            spec_change: None,
            details: Default::default(),
        }
    }

    /// 300 failing findings: the summary's table holds the top 20, 200 more are folded away,
    /// the rest are counted, and no cell carries a whole 1,000-character message.
    #[test]
    fn the_summary_is_capped() {
        let r = Report::new("d", "abc", (0..300).map(finding).collect(), Vec::new());
        let md = r.to_markdown();
        let (head, folded) = md.split_once("<details>").expect("folded findings");
        assert_eq!(head.matches("| fail |").count(), 20);
        assert_eq!(folded.matches("| fail |").count(), 200);
        assert!(folded.contains("280 more findings"), "{folded}");
        assert!(md.contains("… and 80 more in report.html"));
        assert!(!md.contains(&"x".repeat(401)));
        assert!(md.len() < 200_000, "{}", md.len());
    }
}
