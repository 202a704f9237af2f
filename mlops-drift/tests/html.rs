//! The HTML report: structure pinned by a snapshot, hostile strings escaped, size bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]
#![cfg(feature = "html")]

use mlops_drift::report::{Contribution, DriftReport, ReportConfig};
use mlops_drift::table::Table;

fn golden_report() -> DriftReport {
    // The report's own golden JSON: the snapshot depends on the HTML writer only.
    let json = include_str!("golden/report.json");
    serde_json::from_str(json).unwrap()
}

/// The page for a report is pinned by a snapshot. Regenerate with
/// `UPDATE_GOLDEN=1 cargo test -p mlops-drift --features html --test html` after an intended
/// change, and look at the diff.
#[test]
fn html_matches_snapshot() {
    let html = golden_report().to_html();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/report.html");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &html).unwrap();
    }
    let golden = std::fs::read_to_string(path).unwrap();
    assert_eq!(html, golden);
}

#[test]
fn html_holds_every_column_drifted_first_with_svg_and_quantiles() {
    let report = golden_report();
    let html = report.to_html();
    assert_eq!(
        html.matches("<tr data-column=").count(),
        report.columns.len()
    );
    assert_eq!(
        html.matches("<section class=\"column").count(),
        report.columns.len()
    );
    assert!(html.matches("<svg ").count() >= 2);
    assert!(html.contains("<td>p5</td>") && html.contains("<td>p95</td>"));
    assert!(html.contains("New categories (1)") && html.contains("<li>violet</li>"));
    assert!(html.contains("Vanished categories (1)") && html.contains("<li>blue</li>"));
    // Drifted columns come first in the table.
    let rows: Vec<&str> = html.split("<tr data-column=").skip(1).collect();
    let first_clean = rows.iter().position(|r| !r.contains(">yes</td>"));
    let last_drifted = rows.iter().rposition(|r| r.contains(">yes</td>"));
    if let (Some(c), Some(d)) = (first_clean, last_drifted) {
        assert!(d < c, "drifted rows first");
    }
    assert!(report.n_drifted > 0);
    // Light, dark and print.
    assert!(html.contains("prefers-color-scheme:dark") && html.contains("@media print"));
}

fn assert_self_contained(html: &str) {
    for needle in [
        "http:", "https:", "//", "url(", "@import", "src=", "<link", "<img", "<iframe",
    ] {
        assert!(!html.contains(needle), "found {needle:?}");
    }
    for href in html.split("href=\"").skip(1) {
        assert!(href.starts_with("#col-"), "external href {href:.40}");
    }
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(html.contains("default-src 'none'"));
}

#[test]
fn hostile_names_and_categories_are_escaped() {
    let evil = [
        "</script><script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "'; url(http://evil.example/x) //",
        "&lt;already&gt;",
        "nul\u{0}bell\u{7}",
    ];
    let r: Vec<f64> = (0..300).map(|i| f64::from(i % 30)).collect();
    let c: Vec<f64> = r.iter().map(|x| x + 9.0).collect();
    let rc: Vec<&str> = (0..300).map(|i| evil[i % 3]).collect();
    let cc: Vec<&str> = (0..300).map(|i| evil[3 + i % 3]).collect();
    let mut rt = Table::new();
    let mut ct = Table::new();
    for name in evil {
        rt = rt.with_numeric(name, &r).unwrap();
        ct = ct.with_numeric(name, &c).unwrap();
    }
    rt = rt.with_categorical("<b>plan</b>", &rc).unwrap();
    ct = ct.with_categorical("<b>plan</b>", &cc).unwrap();
    let report = DriftReport::compute(&rt, &ct, &ReportConfig::default()).unwrap();
    let html = report.to_html();
    for e in evil {
        assert!(!html.contains(e), "raw {e:?}");
    }
    assert!(!html.contains("<b>plan</b>") && html.contains("&lt;b&gt;plan&lt;/b&gt;"));
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&amp;lt;already&amp;gt;"));
    assert!(!html.contains('\u{0}') && !html.contains('\u{7}'));
    assert!(!html.contains("<svg onload"));
    // The escaped forms still contain "src=" and "http:" as text; check the markup only.
    let markup: String = strip_text(&html);
    assert_self_contained(&markup);
}

/// The tags only (text between tags removed), to check what the browser would load.
fn strip_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut in_raw = false; // inside <style> or <script>: keep
    for (i, ch) in html.char_indices() {
        if ch == '<' {
            in_tag = true;
            in_raw = html[i..].starts_with("<style") || html[i..].starts_with("<script");
        }
        if in_tag || in_raw {
            out.push(ch);
        }
        if ch == '>' {
            in_tag = false;
        }
    }
    out
}

#[test]
fn plain_report_is_self_contained() {
    assert_self_contained(&golden_report().to_html());
}

#[test]
fn one_hundred_hostile_columns_stay_under_one_megabyte() {
    // The worst case the writer allows: long names made of characters that escape to 6 bytes,
    // hundreds of contributors and new and vanished categories per column.
    let base = golden_report();
    let template = base
        .columns
        .iter()
        .find(|c| c.kind == mlops_drift::report::ColumnKind::Categorical)
        .unwrap()
        .clone();
    let numeric = base
        .columns
        .iter()
        .find(|c| c.kind == mlops_drift::report::ColumnKind::Numeric)
        .unwrap()
        .clone();
    let long = "\"<>&'".repeat(300);
    let mut report = base.clone();
    report.columns = (0..100)
        .map(|i| {
            let mut c = if i % 2 == 0 {
                template.clone()
            } else {
                numeric.clone()
            };
            c.column = format!("{i}{long}");
            c.reason = Some(long.clone());
            c.explanation.top_contributors = (0..200)
                .map(|k| Contribution {
                    label: format!("{k}{long}"),
                    reference_share: 1.0 / 200.0,
                    current_share: 1.0 / 150.0,
                    contribution: 0.1,
                })
                .collect();
            c.explanation.new_categories = (0..500).map(|k| format!("{k}{long}")).collect();
            c.explanation.vanished_categories = c.explanation.new_categories.clone();
            c
        })
        .collect();
    let html = report.to_html();
    assert!(html.len() <= 1_000_000, "{} bytes", html.len());
    assert_eq!(html.matches("<tr data-column=").count(), 100);
    assert!(html.contains("… and 492 more"));
    assert!(!html.contains(&long[..10]));
}
