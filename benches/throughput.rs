//! Throughput of mailtrace's parse + assemble pass against `wc -l` and `grep -c` on one file.
//!
//! ```text
//! cargo bench --bench throughput -- [--file PATH] [--exim] [--size-mb N] [--runs N] [--seed N]
//! ```
//!
//! Without `--file`, a log of `--size-mb` MiB (default 1024) is generated into a temporary
//! directory with the generator of `examples/genlog.rs` (Postfix syslog), or with `--exim` with
//! that of `examples/genexim.rs` (an Exim main log in Exim's own format). The file is read once
//! first so that every contender reads it from the page cache; then each run times, in turn:
//!
//! - `wc -l FILE` and `grep -c PATTERN FILE` as child processes, the pattern matching one
//!   delivery line each (`status=sent` for Postfix, ` => ` with `--exim`) (`LC_ALL=C`; stdout read
//!   through a pipe, since GNU grep stops at the first match when stdout is /dev/null): the
//!   floor of "read every byte and look at it";
//! - `mailtrace::scan::scan` in this process, on one thread (parse every line, assemble every
//!   trace, count recipients); its peak RSS is this process's `VmHWM`, reset just before the
//!   scan through `/proc/self/clear_refs`;
//! - the release binary, `mailtrace stats --log FILE --year 2026 --timezone UTC --format json`
//!   (the same pass plus option handling and output), with its peak RSS from GNU
//!   `/usr/bin/time -v` when installed (Debian: `apt-get install time`), otherwise from polling
//!   `VmHWM` in `/proc/PID/status` while it runs (forced with `MAILTRACE_BENCH_NO_GNU_TIME=1`).
//!
//! Medians over the runs are printed as a Markdown table.

mod common;

#[path = "../examples/genlog.rs"]
#[allow(dead_code)] // the example's `main` and argument parsing
mod genlog;

#[path = "../examples/genexim.rs"]
#[allow(dead_code)] // the example's `main` and argument parsing
mod genexim;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use common::{gnu_time_available, proc_status_kib, time_child, time_with_rss, warm_page_cache, Series};
use mailtrace::scan::{scan, ScanOptions};
use mailtrace::source::Input;
use mailtrace::syslog::Zone;

const USAGE: &str =
    "usage: cargo bench --bench throughput -- [--file PATH] [--exim] [--size-mb N] [--runs N] [--seed N]";

struct Args {
    file: Option<PathBuf>,
    /// Generate an Exim main log instead of Postfix syslog.
    exim: bool,
    size_mb: u64,
    runs: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: None,
        exim: false,
        size_mb: 1024,
        runs: 3,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--file" => args.file = Some(PathBuf::from(value("--file")?)),
            "--exim" => args.exim = true,
            "--size-mb" => args.size_mb = value("--size-mb")?.parse().map_err(|e| format!("--size-mb: {e}"))?,
            "--runs" => args.runs = value("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--seed" => args.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            // cargo bench passes --bench to harness = false targets
            "--bench" => {}
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".to_string());
    }
    Ok(args)
}

fn main() -> ExitCode {
    common::main_with("throughput", parse_args(), run)
}

/// What one in-process scan saw.
#[derive(Clone, Copy, Default)]
struct ScanResult {
    lines: u64,
    traces: u64,
    recipients: u64,
    peak_open: usize,
}

fn run(args: &Args) -> Result<(), String> {
    let _tmp; // keeps the generated file until the end
    let path = match &args.file {
        Some(p) => p.clone(),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("mailtrace-bench")
                .tempdir()
                .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
            let path = dir.path().join("gen.log");
            eprintln!(
                "generating {} MiB of {} (seed {}) into {} ...",
                args.size_mb,
                if args.exim { "Exim main log" } else { "Postfix syslog" },
                args.seed,
                path.display()
            );
            let started = Instant::now();
            let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let size = args.size_mb << 20;
            let generated = if args.exim {
                genexim::generate(&mut w, size, args.seed).map(|s| genlog::Summary {
                    bytes: s.bytes,
                    lines: s.lines,
                    sessions: s.sessions,
                    queue_ids: s.queue_ids,
                    seconds: s.seconds,
                })
            } else {
                genlog::generate(&mut w, size, args.seed)
            };
            let sum = generated
                .and_then(|s| w.flush().map(|()| s))
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            eprintln!(
                "generated {} bytes, {} lines, {} queue ids, {:.1} h of log time in {:.1} s",
                sum.bytes,
                sum.lines,
                sum.queue_ids,
                sum.seconds as f64 / 3600.0,
                started.elapsed().as_secs_f64()
            );
            _tmp = dir;
            path
        }
    };
    let bytes = std::fs::metadata(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    warm_page_cache(&path)?;

    let cli = env!("CARGO_BIN_EXE_mailtrace");
    let gnu_time = std::env::var_os("MAILTRACE_BENCH_NO_GNU_TIME").is_none() && gnu_time_available();
    let file = path.to_str().ok_or("the file name is not UTF-8")?;
    let mut wc = Series::default();
    let mut grep = Series::default();
    let mut inproc = Series::default();
    let mut stats = Series::default();
    let mut seen = ScanResult::default();
    let (mut wc_out, mut grep_out) = (String::new(), String::new());
    // a pattern that matches the delivery lines, as a user's grep for delivered mail would
    let pattern = if args.exim { " => " } else { "status=sent" };
    for run in 1..=args.runs {
        eprintln!("run {run}/{}", args.runs);
        let (secs, out) = time_child(Command::new("wc").args(["-l", file]), &[0])?;
        wc.secs.push(secs);
        wc_out = out;
        let (secs, out) = time_child(Command::new("grep").args(["-c", pattern, file]), &[0, 1])?;
        grep.secs.push(secs);
        grep_out = out;
        let (secs, result, rss) = time_scan(&path)?;
        inproc.secs.push(secs);
        inproc.add_rss(rss);
        seen = result;
        let mut cmd = Command::new(cli);
        cmd.args([
            "stats",
            "--log",
            file,
            "--year",
            "2026",
            "--timezone",
            "UTC",
            "--format",
            "json",
        ]);
        let (secs, rss) = time_with_rss(cmd, gnu_time)?;
        stats.secs.push(secs);
        stats.add_rss(rss);
    }

    let mb = bytes as f64 / 1e6;
    let lines = seen.lines as f64;
    let grep_median = grep.median();
    println!();
    println!("file: {} ({:.1} MB, {} lines)", path.display(), mb, seen.lines);
    println!(
        "runs: {}; medians; MB = 10^6 bytes; ratio = throughput / throughput of grep -c",
        args.runs
    );
    println!();
    println!("| what | median s | MB/s | lines/s | vs grep -c | peak RSS | runs (s) |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let rows: [(&str, &Series); 4] = [
        ("`wc -l`", &wc),
        (&format!("`grep -c '{pattern}'`"), &grep),
        ("mailtrace scan, in-process (1 thread)", &inproc),
        ("`mailtrace stats --format json` (CLI)", &stats),
    ];
    for (name, s) in rows {
        let m = s.median();
        let runs: Vec<String> = s.secs.iter().map(|t| format!("{t:.3}")).collect();
        println!(
            "| {name} | {m:.3} | {:.0} | {:.2}M | {:.0}% | {} | {} |",
            mb / m,
            lines / m / 1e6,
            100.0 * grep_median / m,
            s.rss_kib
                .map_or("-".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            runs.join(", ")
        );
    }
    println!();
    println!(
        "traces: {}; recipient rows: {}; peak open traces: {}",
        seen.traces, seen.recipients, seen.peak_open
    );
    println!("wc -l printed: {wc_out}; grep -c '{pattern}' printed: {grep_out}");
    println!(
        "CLI peak RSS measured with {}",
        if gnu_time {
            "/usr/bin/time -v"
        } else {
            "VmHWM polled from /proc/PID/status every 5 ms (install GNU time for an exact figure)"
        }
    );
    println!(
        "mailtrace scan / grep -c throughput: {:.0}% in-process, {:.0}% CLI (target: >= 40%)",
        100.0 * grep_median / inproc.median(),
        100.0 * grep_median / stats.median()
    );
    Ok(())
}

/// One in-process scan: wall time, what it saw, and the peak RSS (KiB) during it.
fn time_scan(path: &Path) -> Result<(f64, ScanResult, Option<u64>), String> {
    let input = Input::open(path, 0).map_err(|e| format!("{e:#}"))?;
    let opts = ScanOptions {
        year: Some(2026),
        zone: Zone::Utc,
        // one thread, as this row always measured (`benches/speed.sh` has both)
        threads: 1,
        ..Default::default()
    };
    // Resets VmHWM to the current RSS (Linux >= 4.0), so the figure is the scan's own peak.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let mut recipients: u64 = 0;
    let started = Instant::now();
    let stats = scan(&[input], &opts, |t| recipients += t.recipients.len() as u64).map_err(|e| format!("{e:#}"))?;
    let secs = started.elapsed().as_secs_f64();
    let rss = if reset { proc_status_kib("self", "VmHWM:") } else { None };
    Ok((
        secs,
        ScanResult {
            lines: stats.lines,
            traces: stats.traces,
            recipients,
            peak_open: stats.peak_open,
        },
        rss,
    ))
}
