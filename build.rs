//! Tells the tests what this machine lacks, so a test that needs it is reported as ignored,
//! with the reason, instead of passing without running. Under `CI=true` nothing is ignored:
//! such a test runs and fails, naming what is missing.
//!
//! After adding `../shared` or installing chromium, rebuild (`touch build.rs`) so the tests
//! see it.

use std::path::Path;

fn main() {
    // `fuzzing` is set by cargo-fuzz (fuzz/): the archive's checksums let mutations through
    for cfg in ["not_root", "no_shared", "no_clickhouse", "no_browser", "fuzzing"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=MAILTRACE_TEST_CLICKHOUSE");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    // changing user needs root (tests/system.rs); not required by CI, which may not be root
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        println!("cargo::rustc-cfg=not_root");
    }
    if ci {
        return;
    }
    // the real logs and the generated sample with its truth, beside the checkout
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if shared.is_dir() {
        println!("cargo::rerun-if-changed={}", shared.display());
    } else {
        println!("cargo::rustc-cfg=no_shared");
    }
    if !std::env::var("MAILTRACE_TEST_CLICKHOUSE").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=no_clickhouse");
    }
    if !(Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists()) {
        println!("cargo::rustc-cfg=no_browser");
    }
}
