//! Reading rotated, compressed sets: mailtrace's scan and index of a set of `.gz` and of `.zst`
//! files beside `zgrep -c` and `zstdcat | grep -c` on the same files (and the plain set beside
//! `grep -c`).
//!
//! ```text
//! cargo bench --bench sources -- [--file PATH] [--size-mb N] [--parts N] [--runs N]
//! ```
//!
//! Without `--file`, a Postfix log of `--size-mb` MiB (default 256) is generated with
//! `examples/genlog.rs`. It is split at line boundaries into a rotated set of `--parts` files
//! (`mail.log.3 … mail.log.1, mail.log`), written plain, gzip-compressed (level 6, logrotate's)
//! and zstd-compressed (level 3, the zstd tool's). Each run times, per set, as child processes
//! with the page cache warm:
//!
//! - the baseline: `grep -c status=sent FILES`, `zgrep -c status=sent FILES`,
//!   `sh -c 'zstdcat FILES | grep -c status=sent'`;
//! - `mailtrace stats --log DIR --format json`: the parse + assemble pass, given the directory
//!   (so the set is ordered by mailtrace);
//! - `mailtrace index --store NEW DIR`: the whole ingest into a new store.
//!
//! MB/s are of the log's decoded bytes; the ratio is mailtrace's throughput over the baseline's.

#[path = "common/mod.rs"]
mod common;

#[path = "../examples/genlog.rs"]
#[allow(dead_code)] // the example's `main` and argument parsing
mod genlog;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use common::{gnu_time_available, time_child, time_with_rss, warm_page_cache, Series};

const USAGE: &str = "usage: cargo bench --bench sources -- [--file PATH] [--size-mb N] [--parts N] [--runs N]";

struct Args {
    file: Option<PathBuf>,
    size_mb: u64,
    parts: usize,
    runs: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: None,
        size_mb: 256,
        parts: 4,
        runs: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--file" => args.file = Some(PathBuf::from(value("--file")?)),
            "--size-mb" => args.size_mb = value("--size-mb")?.parse().map_err(|e| format!("--size-mb: {e}"))?,
            "--parts" => args.parts = value("--parts")?.parse().map_err(|e| format!("--parts: {e}"))?,
            "--runs" => args.runs = value("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--bench" => {}
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.runs == 0 || args.parts == 0 {
        return Err("--runs and --parts must be at least 1".to_string());
    }
    Ok(args)
}

fn main() -> ExitCode {
    common::main_with("sources", parse_args(), run)
}

/// The file names of a rotated set of `n`, oldest first.
fn names(n: usize) -> Vec<String> {
    (1..n)
        .rev()
        .map(|i| format!("mail.log.{i}"))
        .chain(std::iter::once("mail.log".to_string()))
        .collect()
}

fn run(args: &Args) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let log = match &args.file {
        Some(f) => std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?,
        None => {
            eprintln!("generating {} MiB of Postfix syslog ...", args.size_mb);
            let mut out = Vec::new();
            genlog::generate(&mut out, args.size_mb << 20, 1).map_err(|e| e.to_string())?;
            out
        }
    };
    // split at line boundaries into the rotated set, in each form
    let mut cuts = vec![0];
    for i in 1..args.parts {
        let at = log.len() * i / args.parts;
        let nl = log[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(log.len(), |p| at + p + 1);
        cuts.push(nl);
    }
    cuts.push(log.len());
    let sets: Vec<(&str, PathBuf)> = ["plain", "gz", "zst"]
        .iter()
        .map(|k| (*k, dir.path().join(k)))
        .collect();
    for (kind, set) in &sets {
        std::fs::create_dir(set).map_err(|e| e.to_string())?;
        for (i, name) in names(args.parts).iter().enumerate() {
            let part = &log[cuts[i]..cuts[i + 1]];
            let (file, bytes) = match *kind {
                "gz" => {
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
                    e.write_all(part).map_err(|e| e.to_string())?;
                    (format!("{name}.gz"), e.finish().map_err(|e| e.to_string())?)
                }
                "zst" => (
                    format!("{name}.zst"),
                    zstd::encode_all(part, 3).map_err(|e| e.to_string())?,
                ),
                _ => (name.clone(), part.to_vec()),
            };
            let path = set.join(file);
            let mut w = BufWriter::new(std::fs::File::create(&path).map_err(|e| e.to_string())?);
            w.write_all(&bytes).map_err(|e| e.to_string())?;
            w.flush().map_err(|e| e.to_string())?;
        }
    }
    let cli = env!("CARGO_BIN_EXE_mailtrace");
    let gnu_time = gnu_time_available();
    let files = |set: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(set)
            .unwrap()
            .map(|e| e.unwrap().path().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let mb = log.len() as f64 / 1e6;
    println!(
        "log: {:.1} MB in {} parts; runs: {}; medians; MB/s of the decoded log",
        mb, args.parts, args.runs
    );
    println!();
    println!("| set | on disk | contender | median s | MB/s | vs baseline | peak RSS | runs (s) |");
    println!("|---|---:|---|---:|---:|---:|---:|---|");
    for (kind, set) in &sets {
        let on_disk: u64 = files(set)
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .sum();
        for f in files(set) {
            warm_page_cache(Path::new(&f))?;
        }
        let list = files(set).join(" ");
        let baseline_name = match *kind {
            "gz" => "`zgrep -c status=sent`",
            "zst" => "`zstdcat | grep -c status=sent`",
            _ => "`grep -c status=sent`",
        };
        let (mut base, mut scan, mut index) = (Series::default(), Series::default(), Series::default());
        for run in 1..=args.runs {
            eprintln!("{kind}: run {run}/{}", args.runs);
            let script = match *kind {
                "gz" => format!("zgrep -c status=sent {list}"),
                "zst" => format!("zstdcat {list} | grep -c status=sent"),
                _ => format!("grep -c status=sent {list}"),
            };
            let (secs, _) = time_child(Command::new("sh").args(["-c", &script]), &[0, 1])?;
            base.secs.push(secs);
            let mut stats = Command::new(cli);
            stats.args([
                "stats",
                "--format",
                "json",
                "--year",
                "2026",
                "--timezone",
                "UTC",
                "--log",
            ]);
            stats.arg(set);
            let (secs, rss) = time_with_rss(stats, gnu_time)?;
            scan.secs.push(secs);
            scan.add_rss(rss);
            let store = dir.path().join(format!("store-{kind}-{run}"));
            let mut idx = Command::new(cli);
            idx.args(["index", "--year", "2026", "--timezone", "UTC", "--store"]);
            idx.arg(&store).arg(set);
            let (secs, rss) = time_with_rss(idx, gnu_time)?;
            index.secs.push(secs);
            index.add_rss(rss);
            let _ = std::fs::remove_dir_all(&store);
        }
        let rss = |s: &Series| {
            s.rss_kib
                .map_or("-".to_string(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        };
        for (name, s) in [
            (baseline_name.to_string(), &base),
            ("`mailtrace stats` (scan)".to_string(), &scan),
            ("`mailtrace index` (new store)".to_string(), &index),
        ] {
            println!(
                "| {kind} | {:.1} MB | {name} | {:.3} | {:.0} | {:.0}% | {} | {} |",
                on_disk as f64 / 1e6,
                s.median(),
                mb / s.median(),
                100.0 * base.median() / s.median(),
                rss(s),
                s.runs()
            );
        }
    }
    Ok(())
}
