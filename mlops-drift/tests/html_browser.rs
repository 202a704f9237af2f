//! The HTML report in a real browser: headless Chromium renders the table rows and SVG charts,
//! runs the sorting script (allowed by its CSP hash) and attempts no network request, even for
//! column names crafted to load something.
//!
//! Skips with a message when no Chromium is installed, unless `MLOPS_REQUIRE_CHROMIUM=1` (set by
//! `.ci/run`, which installs Debian's `chromium`): then a missing browser fails the test.
//! `MLOPS_SCREENSHOT_OUT=path` copies the screenshot there (the README's image comes from
//! `MLOPS_SCREENSHOT_OUT=$PWD/docs/drift_report.png cargo test -p mlops-drift --features html --test html_browser`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]
#![cfg(feature = "html")]

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mlops_drift::report::{DriftReport, ReportConfig};
use mlops_drift::table::Table;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MLOPS_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn require() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var("MLOPS_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "MLOPS_REQUIRE_CHROMIUM=1 but no chromium found (install Debian's `chromium`)"
        );
        eprintln!("SKIPPED: no chromium on PATH (apt-get install chromium, or set MLOPS_CHROMIUM)");
    }
    found
}

/// Runs headless Chromium with the project's flags plus `extra` on `page`; returns stdout.
fn run(chrome: &Path, work: &Path, extra: &[String], page: &Path) -> String {
    let profile = tempfile::tempdir_in(work).unwrap();
    let out_path = work.join(format!(
        "stdout-{}.txt",
        profile.path().file_name().unwrap().to_string_lossy()
    ));
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(out_path).unwrap()
}

/// URLs of requests the page itself started (browser-internal requests have the initiator
/// "not an origin"; a `file://` page's requests have the opaque initiator "null").
fn page_requests(net_log: &Path) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(net_log).unwrap()).unwrap();
    let mut out = Vec::new();
    for e in log["events"].as_array().unwrap() {
        let p = &e["params"];
        if let (Some(url), Some(initiator)) = (p["url"].as_str(), p["initiator"].as_str())
            && initiator != "not an origin"
            && !url.starts_with("file:")
        {
            out.push(url.to_owned());
        }
    }
    out
}

fn hostile_report(port: u16) -> DriftReport {
    let lure = [
        format!("\"><img src=\"http://127.0.0.1:{port}/img\">"),
        format!("<link rel=stylesheet href=http://127.0.0.1:{port}/css>"),
        format!("</style><style>@import url(http://127.0.0.1:{port}/imp);</style>"),
        format!("<script src=\"http://127.0.0.1:{port}/js\"></script>"),
    ];
    let r: Vec<f64> = (0..400).map(|i| f64::from(i % 40)).collect();
    let c: Vec<f64> = r.iter().map(|x| x * 1.2 + 4.0).collect();
    let rc: Vec<&str> = (0..400).map(|i| lure[i % 2].as_str()).collect();
    let cc: Vec<&str> = (0..400).map(|i| lure[2 + i % 2].as_str()).collect();
    let mut rt = Table::new().with_categorical(lure[3].clone(), &rc).unwrap();
    let mut ct = Table::new().with_categorical(lure[3].clone(), &cc).unwrap();
    for name in &lure[..3] {
        rt = rt.with_numeric(name.clone(), &r).unwrap();
        ct = ct.with_numeric(name.clone(), &c).unwrap();
    }
    DriftReport::compute(&rt, &ct, &ReportConfig::default()).unwrap()
}

/// A report that reads like a real one (the README's screenshot).
fn showcase_report() -> DriftReport {
    let n = 5_000;
    let wave = |i: usize, k: f64| ((i as f64 * k).sin() + 1.0) / 2.0;
    let age_r: Vec<f64> = (0..n)
        .map(|i| 22.0 + 40.0 * wave(i, 0.37) * wave(i, 0.011))
        .collect();
    let age_c: Vec<f64> = (0..n)
        .map(|i| 30.0 + 40.0 * wave(i, 0.37) * wave(i, 0.013))
        .collect();
    let inc_r: Vec<f64> = (0..n)
        .map(|i| 20_000.0 + 60_000.0 * wave(i, 0.71))
        .collect();
    let inc_c: Vec<f64> = (0..n)
        .map(|i| 20_000.0 + 60_000.0 * wave(i + 3, 0.71))
        .collect();
    let plans = ["basic", "pro", "team", "enterprise"];
    let plan_r: Vec<&str> = (0..n).map(|i| plans[(i * 7 % 10).min(3)]).collect();
    let plan_c: Vec<&str> = (0..n)
        .map(|i| {
            if i % 9 == 0 {
                "trial"
            } else {
                plans[(i * 3 % 10).min(3)]
            }
        })
        .collect();
    let reference = Table::new()
        .with_numeric("age", &age_r)
        .unwrap()
        .with_numeric("income", &inc_r)
        .unwrap()
        .with_categorical("plan", &plan_r)
        .unwrap();
    let current = Table::new()
        .with_numeric("age", &age_c)
        .unwrap()
        .with_numeric("income", &inc_c)
        .unwrap()
        .with_categorical("plan", &plan_c)
        .unwrap();
    let mut config = ReportConfig::default();
    config.top_contributors = 10;
    DriftReport::compute(&reference, &current, &config).unwrap()
}

#[test]
fn chromium_renders_the_report_and_attempts_no_request() {
    let Some(chrome) = require() else { return };
    let work = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    // 1. The hostile report: DOM and network log.
    let report = hostile_report(port);
    let page = work.path().join("report.html");
    std::fs::write(&page, report.to_html()).unwrap();
    let net_log = work.path().join("net.json");
    let dom = run(
        &chrome,
        work.path(),
        &[
            "--dump-dom".to_owned(),
            format!("--log-net-log={}", net_log.display()),
        ],
        &page,
    );
    assert!(
        dom.contains("<table id=\"columns\" data-sort-ready=\"1\">"),
        "the script ran"
    );
    assert_eq!(
        dom.matches("<tr data-column=").count(),
        report.columns.len()
    );
    assert!(dom.matches("<svg ").count() >= report.columns.len());
    assert!(dom.matches("<rect class=\"cur\"").count() >= 4);
    assert!(!dom.contains("<img") && !dom.contains("<link") && dom.matches("<script").count() == 1);
    assert_eq!(page_requests(&net_log), Vec::<String>::new());
    assert_eq!(
        listener.accept().map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::WouldBlock),
        "something connected to the lure's port"
    );

    // 2. The control: the same detector sees a page that does load something (from a closed
    // port, so the request fails at once instead of waiting for an answer).
    drop(listener);
    let control = work.path().join("control.html");
    std::fs::write(
        &control,
        format!("<!DOCTYPE html><img src=\"http://127.0.0.1:{port}/control.png\">"),
    )
    .unwrap();
    let control_log = work.path().join("control.json");
    run(
        &chrome,
        work.path(),
        &[
            "--dump-dom".to_owned(),
            format!("--log-net-log={}", control_log.display()),
        ],
        &control,
    );
    let seen = page_requests(&control_log);
    assert!(
        seen.iter().any(|u| u.contains("/control.png")),
        "the net-log check must see a real request: {seen:?}"
    );
}

#[test]
fn chromium_screenshot_of_the_report() {
    let Some(chrome) = require() else { return };
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("drift_report.html");
    std::fs::write(&page, showcase_report().to_html()).unwrap();
    let png = work.path().join("drift_report.png");
    run(
        &chrome,
        work.path(),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1100,1500".to_owned(),
        ],
        &page,
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1100, 1500));
    assert!(
        bytes.len() > 20_000,
        "a rendered page, not a blank one: {} bytes",
        bytes.len()
    );
    if let Some(out) = std::env::var_os("MLOPS_SCREENSHOT_OUT") {
        std::fs::write(out, &bytes).unwrap();
    }
}
