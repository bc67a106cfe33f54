//! What the benchmarks share: timing series, child processes, the page cache, `/proc` reads.
//! Each bench target compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Runs a bench's `main`: usage errors exit 2, failures 1, each printed with the bench's name.
pub fn main_with<A>(name: &str, args: Result<A, String>, run: impl FnOnce(&A) -> Result<(), String>) -> ExitCode {
    let args = match args {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Timings (seconds) of one contender over all runs, and the peak RSS (KiB) seen, if measured.
#[derive(Default, Clone)]
pub struct Series {
    pub secs: Vec<f64>,
    pub rss_kib: Option<u64>,
}

impl Series {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.secs.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub fn median(&self) -> f64 {
        let v = self.sorted();
        let n = v.len();
        if n == 0 {
            return f64::NAN;
        }
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }

    /// Nearest-rank percentile.
    pub fn pct(&self, p: f64) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// Every run, in order: `0.513, 0.515, 0.517`.
    pub fn runs(&self) -> String {
        self.secs
            .iter()
            .map(|t| format!("{t:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn add_rss(&mut self, kib: Option<u64>) {
        if let Some(k) = kib {
            self.rss_kib = Some(self.rss_kib.map_or(k, |r| r.max(k)));
        }
    }
}

/// Reads the whole file once, so that every contender finds it in the page cache.
pub fn warm_page_cache(path: &Path) -> Result<(), String> {
    let mut f = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        }
    }
}

/// Wall time of a child process and its stdout (trimmed); `ok` lists the acceptable exit codes.
///
/// stdout is a pipe, not /dev/null: GNU grep notices /dev/null and stops at the first match.
pub fn time_child(cmd: &mut Command, ok: &[i32]) -> Result<(f64, String), String> {
    let started = Instant::now();
    let out = cmd
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    match out.status.code() {
        Some(c) if ok.contains(&c) => Ok((secs, String::from_utf8_lossy(&out.stdout).trim().to_string())),
        _ => Err(format!("{cmd:?} failed: {}", out.status)),
    }
}

/// A `kB` field (`VmHWM:`, `RssAnon:`…) of a `/proc/PID/status` text.
pub fn status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// A `kB` field of `/proc/PID/status` (`pid` may be `self`).
pub fn proc_status_kib(pid: &str, field: &str) -> Option<u64> {
    status_kib(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?, field)
}

/// Whether `/usr/bin/time` is GNU time (which reports the maximum resident set size).
pub fn gnu_time_available() -> bool {
    Command::new("/usr/bin/time")
        .args(["-v", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stderr).contains("Maximum resident set size"))
}

/// Wall time and peak RSS (KiB) of a child process, stdout discarded.
pub fn time_with_rss(cmd: Command, gnu_time: bool) -> Result<(f64, Option<u64>), String> {
    if gnu_time {
        let mut wrapped = Command::new("/usr/bin/time");
        wrapped.arg("-v").arg(cmd.get_program()).args(cmd.get_args());
        let started = Instant::now();
        let out = wrapped
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run {wrapped:?}: {e}"))?;
        let secs = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("{cmd:?} failed: {}\n{stderr}", out.status));
        }
        let rss = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
            .and_then(|v| v.trim().parse().ok());
        return Ok((secs, rss));
    }
    // No GNU time: poll the child's high-water mark while it runs. VmHWM only grows, so the
    // last reading is at most a few milliseconds of growth short of the true peak.
    let mut cmd = cmd;
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let pid = child.id().to_string();
    let mut peak: Option<u64> = None;
    let status = loop {
        if let Some(k) = proc_status_kib(&pid, "VmHWM:") {
            peak = Some(peak.map_or(k, |p| p.max(k)));
        }
        match child.try_wait().map_err(|e| format!("waiting for {cmd:?}: {e}"))? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}"));
    }
    Ok((secs, peak))
}
