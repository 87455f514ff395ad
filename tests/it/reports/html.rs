//! `report.html` in a real browser (headless Chromium): it loads with no console message (a
//! script error, or a fetch the page's Content-Security-Policy blocked, would print one), its
//! charts and table are there, the filters a link or URL carries work, and a screenshot is
//! taken.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, tagtrail};

fn chromium() -> PathBuf {
    let path =
        PathBuf::from(std::env::var_os("TAGTRAIL_CHROMIUM").unwrap_or("/usr/bin/chromium".into()));
    crate::peer(
        "Chromium (Debian's `chromium`)",
        path.is_file().then_some(path),
    )
}

/// Loads `page#fragment` headless; returns (the DOM after the scripts ran, Chromium's stderr).
fn load(page: &Path, fragment: &str, profile: &Path, extra: &[&str]) -> (String, String) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}#{fragment}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::stderr(&out));
    (crate::stdout(&out), crate::stderr(&out))
}

fn shown(dom: &str) -> String {
    let start = dom
        .find("<span id=\"shown\">")
        .expect("the table's counter")
        + 17;
    dom[start..start + dom[start..].find('<').unwrap()].to_string()
}

#[test]
fn the_html_report_works_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = tagtrail(
        &root(),
        &[
            "scan",
            "--demo",
            "--format",
            "csv,html",
            "--fail-on",
            "never",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", crate::stderr(&run));
    let page = out.join("report.html");
    let rows = crate::finding_rows(&out);
    let mismatches = rows
        .iter()
        .filter(|r| r.contains(",product-mismatch,"))
        .count();
    assert!(mismatches > 0);
    let profile = dir.path().join("profile");

    let (dom, log) = load(&page, "", &profile, &[]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the page printed to the console: {console:#?}"
    );
    assert!(dom.matches("<svg").count() >= 3, "the charts are drawn");
    assert!(dom.contains("Product pairs") && dom.contains("<table class=\"matrix\">"));
    assert_eq!(
        shown(&dom),
        format!("showing 1-{n} of {n} ({n} in all)", n = rows.len())
    );

    let (dom, _) = load(&page, "kind=product-mismatch", &profile, &[]);
    assert_eq!(
        shown(&dom),
        format!(
            "showing 1-{mismatches} of {mismatches} ({} in all)",
            rows.len()
        )
    );
    let (dom, _) = load(&page, "kind=nothing-of-the-kind", &profile, &[]);
    assert_eq!(
        shown(&dom),
        format!("showing 0-0 of 0 ({} in all)", rows.len())
    );

    let shot = dir.path().join("report.png");
    load(
        &page,
        "",
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a screenshot"
    );
}
