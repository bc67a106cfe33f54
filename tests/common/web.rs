//! Helpers of the web tests: a store built from testdata by the binary, and `mailtrace serve`
//! on a free loopback port.
#![allow(dead_code)] // not every test binary uses every helper

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

/// The CLI's stdout for `args` over `store`.
pub fn cli(store: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .arg("--store")
        .arg(store)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// A child process, killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

/// Indexes `logs` into `store` with the binary (year 2026, UTC).
pub fn index(store: &Path, logs: &[PathBuf]) {
    let out = Command::new(BIN)
        .arg("index")
        .arg("--store")
        .arg(store)
        .args(["--year", "2026", "--timezone", "UTC"])
        .args(logs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `DIR/store` holding the sample day and the hostile subjects of `testdata/web/xss.log`.
pub fn sample_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    index(&store, &[testdata("sample/mail.log"), testdata("web/xss.log")]);
    store
}

/// Starts `mailtrace serve --store STORE --listen 127.0.0.1:0 --timezone UTC EXTRA…` and reads
/// the address from the line it prints; returns the process and `http://127.0.0.1:PORT`.
pub fn serve(store: &Path, extra: &[&str]) -> (Running, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--store")
        .arg(store)
        .args(["--listen", "127.0.0.1:0", "--timezone", "UTC"])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    (Running(child), base)
}
