//! The wall screen and the rankings page in headless Chromium: the browser
//! tests in `tests/browser/` (Playwright, Node), run against this build's
//! `ioc`. They need Node.js, Debian's `chromium` and the test's npm
//! packages (installed here with `npm ci` when missing); without them the
//! test fails with what to install, unless `IOC_TEST_SKIP_BROWSER=1`
//! (ignored when `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;

const IOC: &str = env!("CARGO_BIN_EXE_ioc");

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("IOC_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn skipped() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    !ci && std::env::var("IOC_TEST_SKIP_BROWSER").is_ok_and(|v| v == "1")
}

fn run(dir: &Path, program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("IOC_BIN", IOC)
        .env("IOC_CHROMIUM", chromium())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (install Node.js: apt-get install nodejs npm): {e}")
        })
}

#[test]
fn wall_screen_and_rankings_page_in_chromium() {
    if skipped() {
        eprintln!("browser tests skipped (IOC_TEST_SKIP_BROWSER=1)");
        return;
    }
    assert!(
        chromium().exists(),
        "{} not found: install Debian's chromium (apt-get install chromium), or set IOC_CHROMIUM",
        chromium().display()
    );
    let dir = browser_dir();
    if !dir.join("node_modules/playwright-core").exists() {
        let installed = run(&dir, "npm", &["ci", "--no-audit", "--no-fund"]);
        assert!(
            installed.status.success(),
            "npm ci in tests/browser failed:\n{}",
            String::from_utf8_lossy(&installed.stderr)
        );
    }
    let tested = run(&dir, "node", &["--test", "pages.test.mjs"]);
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&tested.stdout),
        String::from_utf8_lossy(&tested.stderr)
    );
    assert!(tested.status.success(), "browser tests failed:\n{report}");
    eprintln!("{report}");
}
