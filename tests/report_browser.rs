//! The demo's report opened in a real browser: headless Chromium (Debian's
//! `chromium`, installed by scripts/test.sh) parses the page, its DOM holds
//! the charts (SVG with drawn lines) and the tables, and a screenshot of it
//! is kept as a test artifact (target/artifacts/report.png).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_bursar");

fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI runs need chromium: run scripts/test.sh (it installs Debian's chromium)");
        eprintln!("skipping: chromium is not installed (scripts/test.sh installs Debian's chromium)");
    }
    found
}

/// Chromium headless with no network, sync or first-run work, and its own profile.
fn browser(chromium: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_demo_report_renders_its_charts_and_tables_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).args(["demo", "--out"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = dir.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().unwrap();

    let dom = browser(&chromium, profile.path(), &["--dump-dom", &url]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    let svgs = dom.matches("<svg").count();
    assert!(svgs >= 3 && svgs == html.matches("<svg").count(), "every chart is in the DOM: {svgs}");
    assert!(dom.matches("<polyline").count() >= svgs, "every chart has drawn lines");
    assert!(dom.contains("id=\"look-first-table\""), "the keys-to-look-at-first table");
    assert!(dom.matches("<table class=\"grants\"").count() >= 3, "grant tables of the keys");
    assert!(dom.contains("Entitlement review"));

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let taken = browser(&chromium, profile.path(), &[&format!("--screenshot={}", shot.display()), "--window-size=1200,1800", &url]);
    assert!(taken.status.success(), "{}", String::from_utf8_lossy(&taken.stderr));
    let png = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank page compresses to a few KiB; drawn charts and tables do not.
    assert!(png.len() > 40_000, "the screenshot looks empty: {} bytes", png.len());
}
