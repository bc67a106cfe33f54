//! The archive tier: size of a day's archive against the raw log and `zstd -19` of it, and a
//! historical search over the archived days (by recipient, by Message-ID) against
//! `zstdcat | grep -F` over the same days' logs.
//!
//! ```text
//! cargo bench --bench archive -- [--days N] [--mb-per-day N] [--runs N]
//! ```
//!
//! Generates `--days` (default 90) days of Postfix syslog with `examples/genlog.rs`,
//! `--mb-per-day` MiB each (default 52: about 330,000 lines a day, 30 M lines over 90 days),
//! each day from its own seed with its dates moved to that day, ending on 2026-11-23. Indexes
//! them into a new store, runs `maintain --hot-days 10 --archive-days 90 --now
//! 2026-11-23T12:00:00Z` (80 days archived), then times, as child processes:
//!
//! - `mailtrace search --historical --to ADDR` and `--message-id ID` (an address and a
//!   Message-ID from the oldest archived day), `--format ndjson`;
//! - `zstdcat DAY.log.zst … | grep -F -c ADDR` (and the Message-ID) over the archived days'
//!   logs compressed with `zstd -3`.
//!
//! Sizes: the archive of one day against that day's log and `zstd -19` of it.

#[path = "common/mod.rs"]
mod common;

#[path = "../examples/genlog.rs"]
#[allow(dead_code)] // the example's `main` and argument parsing
mod genlog;

use std::io::Write;
use std::process::{Command, ExitCode};
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use common::{time_child, Series};

const USAGE: &str = "usage: cargo bench --bench archive -- [--days N] [--mb-per-day N] [--runs N]";

struct Args {
    days: u32,
    mb_per_day: u64,
    runs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        days: 90,
        mb_per_day: 52,
        runs: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--days" => args.days = value("--days")?.parse().map_err(|e| format!("--days: {e}"))?,
            "--mb-per-day" => args.mb_per_day = value("--mb-per-day")?.parse().map_err(|e| format!("{e}"))?,
            "--runs" => args.runs = value("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--bench" => {}
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.days <= 10 || args.runs == 0 {
        return Err("--days must be over 10 (10 stay hot) and --runs at least 1".to_string());
    }
    Ok(args)
}

fn main() -> ExitCode {
    common::main_with("archive", parse_args(), run)
}

/// `Nov 10 hh:mm:ss …` lines moved to `day` (genlog starts on Nov 10 and a day's worth of
/// `--mb-per-day` stays within it).
fn move_to(log: &[u8], day: NaiveDate) -> Vec<u8> {
    let prefix = day.format("%b %e").to_string();
    let mut out = Vec::with_capacity(log.len());
    for line in log.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"Nov 10 ") {
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(&line[6..]);
        } else if line.starts_with(b"Nov ") {
            // past midnight of the generated day: keep it on the next day
            out.extend_from_slice((day + Duration::days(1)).format("%b %e").to_string().as_bytes());
            out.extend_from_slice(&line[6..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

fn run(args: &Args) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let last = NaiveDate::from_ymd_opt(2026, 11, 23).expect("a date");
    let first = last - Duration::days(i64::from(args.days) - 1);
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).map_err(|e| e.to_string())?;
    eprintln!("generating {} days of {} MiB ...", args.days, args.mb_per_day);
    let mut total_bytes = 0u64;
    let mut total_lines = 0u64;
    let mut day_files = Vec::new();
    for i in 0..args.days {
        let day = first + Duration::days(i64::from(i));
        let mut raw = Vec::new();
        let sum = genlog::generate(&mut raw, args.mb_per_day << 20, u64::from(i) + 1).map_err(|e| e.to_string())?;
        let moved = move_to(&raw, day);
        total_bytes += moved.len() as u64;
        total_lines += sum.lines;
        let path = logs.join(format!("{day}.log"));
        std::fs::write(&path, &moved).map_err(|e| e.to_string())?;
        day_files.push((day, path));
    }
    let cli = env!("CARGO_BIN_EXE_mailtrace");
    let store = dir.path().join("store");
    eprintln!("indexing {:.1} GB ...", total_bytes as f64 / 1e9);
    let started = Instant::now();
    // the year of the first line of each file: they all are in 2026
    let year_zone = ["--year", "2026", "--timezone", "UTC"];
    let status = Command::new(cli)
        .arg("index")
        .arg("--store")
        .arg(&store)
        .args(year_zone)
        .args(day_files.iter().map(|(_, p)| p))
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("index failed: {status}"));
    }
    let index_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let status = Command::new(cli)
        .args([
            "maintain",
            "--hot-days",
            "10",
            "--archive-days",
            "90",
            "--now",
            "2026-11-23T12:00:00Z",
        ])
        .arg("--store")
        .arg(&store)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("maintain failed: {status}"));
    }
    let maintain_secs = started.elapsed().as_secs_f64();

    // sizes: the oldest archived day against its log and zstd -19 of it
    let (day0, log0) = &day_files[0];
    let archive0 = store.join(format!("archive/{day0}.mtar"));
    let log_size = std::fs::metadata(log0).map_err(|e| e.to_string())?.len();
    let archive_size = std::fs::metadata(&archive0).map_err(|e| e.to_string())?.len();
    let z19 = Command::new("zstd")
        .args(["-19", "-q", "-c"])
        .arg(log0)
        .output()
        .map_err(|e| format!("zstd: {e}"))?
        .stdout
        .len() as u64;
    // the archived days' logs, zstd -3, for the baseline
    let archived: Vec<&(NaiveDate, std::path::PathBuf)> = day_files[..day_files.len() - 10].iter().collect();
    let mut zst_files = Vec::new();
    for (_, p) in &archived {
        let z = p.with_extension("log.zst");
        let ok = Command::new("zstd")
            .args(["-3", "-q", "-f", "-o"])
            .arg(&z)
            .arg(p)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("zstd failed".into());
        }
        zst_files.push(z.to_string_lossy().into_owned());
    }
    // an address and a Message-ID of the oldest day
    let sample = std::fs::read_to_string(log0).map_err(|e| e.to_string())?;
    let to = sample
        .lines()
        .find_map(|l| l.split("to=<").nth(1).and_then(|r| r.split('>').next()))
        .ok_or("no recipient in the log")?
        .to_string();
    let mid = sample
        .lines()
        .find_map(|l| l.split("message-id=<").nth(1).and_then(|r| r.split('>').next()))
        .ok_or("no Message-ID in the log")?
        .to_string();
    let store_s = store.to_string_lossy().into_owned();
    let mut rows = Vec::new();
    for (what, flag, value) in [("recipient", "--to", &to), ("Message-ID", "--message-id", &mid)] {
        let (mut ours, mut grep) = (Series::default(), Series::default());
        let mut found = String::new();
        for _ in 0..args.runs {
            let (secs, out) = time_child(
                Command::new(cli).args([
                    "search",
                    "--historical",
                    "--store",
                    &store_s,
                    "--format",
                    "ndjson",
                    flag,
                    value,
                ]),
                &[0, 1],
            )?;
            ours.secs.push(secs);
            found = format!("{} rows", out.lines().count());
            let script = format!("zstdcat {} | grep -F -c '{}'", zst_files.join(" "), value);
            let (secs, _) = time_child(Command::new("sh").args(["-c", &script]), &[0, 1])?;
            grep.secs.push(secs);
        }
        rows.push((what, value.clone(), found, ours, grep));
    }
    println!(
        "{} days ({first} … {last}), {:.2} GB, {} lines; index {:.0} s ({:.0} MB/s), maintain {:.0} s",
        args.days,
        total_bytes as f64 / 1e9,
        total_lines,
        index_secs,
        total_bytes as f64 / 1e6 / index_secs,
        maintain_secs
    );
    println!();
    println!("| one day ({day0}) | bytes | ratio to the log |");
    println!("|---|---:|---:|");
    println!("| log | {log_size} | 1 |");
    println!("| `zstd -19` | {z19} | 1/{:.1} |", log_size as f64 / z19 as f64);
    println!(
        "| mailtrace archive | {archive_size} | 1/{:.1} |",
        log_size as f64 / archive_size as f64
    );
    println!();
    println!(
        "| search over {} archived days | found | median s | runs (s) |",
        archived.len()
    );
    println!("|---|---|---:|---|");
    for (what, value, found, ours, grep) in rows {
        println!(
            "| `mailtrace search --historical` by {what} (`{value}`) | {found} | {:.3} | {} |",
            ours.median(),
            ours.runs()
        );
        println!(
            "| `zstdcat … \\| grep -F -c` by {what} | | {:.3} | {} |",
            grep.median(),
            grep.runs()
        );
    }
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    Ok(())
}
