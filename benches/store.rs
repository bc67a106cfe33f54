//! The store (issue 4): `mailtrace index` throughput, query latency on a 10-million-row store,
//! and size on disk, each beside a `grep` baseline measured in the same run.
//!
//! ```text
//! cargo bench --bench store -- [--file PATH] [--size-mb N] [--runs N] [--seed N]
//!                               [--rows N] [--store-dir PATH] [--queries N] [--skip-ingest]
//! ```
//!
//! 1. **Ingest.** Without `--file`, a log of `--size-mb` MiB (default 1024) is generated into a
//!    temporary directory with `examples/genlog.rs`, then read once so that it is in the page
//!    cache. Each run, in turn: `grep -c status=sent FILE`, `grep -F -c ADDRESS FILE` (an
//!    address from the log; the baseline of a lookup) and the release binary `mailtrace index
//!    --store DIR --year 2026 --timezone UTC --format json FILE` into a fresh, empty temporary
//!    store. `grep` runs with `LC_ALL=C` and stdout through a pipe (GNU grep stops at the first
//!    match when stdout is /dev/null). The index process's `/proc/PID/status` is polled every
//!    5 ms for `VmHWM` (peak RSS) and the peak of `RssAnon` (heap, without the mapped index
//!    files).
//! 2. **Query latency.** A store of `--rows` rows (default 10 million) is written directly from
//!    synthetic traces (varied senders, recipients, domains, subjects, statuses, 1–3
//!    recipients, a timeline of raw Postfix lines each, spread over 10 UTC days) through
//!    `DayWriters`, as `index` writes it. With `--store-dir`, the store is kept there and
//!    reused by later invocations (with the same `--rows` and `--seed`). Then
//!    `HotReader::open` and `HotReader::search(criteria, Some(1000))` (the table's default
//!    limit) are timed for exact recipients, Message-IDs, `@domain`, `*@domain` and subject
//!    words, `--queries` values each (default 20), each value `--runs` times, and the first
//!    query after opening, with the page cache warm and with the store's files evicted from it
//!    (`dd iflag=nocache count=0` per file). The release binary's `mailtrace search --store DIR
//!    --to ADDRESS` (table, default limit) is timed end to end as well.
//! 3. **Size on disk** of both stores, per million rows and (ingest store) against the log.
//!
//! Results are printed as Markdown tables.

mod common;

#[path = "../examples/genlog.rs"]
#[allow(dead_code)] // the example's `main` and argument parsing
mod genlog;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use common::{status_kib, time_child, warm_page_cache, Series};
use mailtrace::event::{Delays, LineRef};
use mailtrace::query::{AddressPattern, Criteria};
use mailtrace::store::hot::{DayWriters, HotReader};
use mailtrace::store::Store;
use mailtrace::trace::model::TimelineEntry;
use mailtrace::trace::{Direction, Recipient, Status, Trace};

const USAGE: &str = "usage: cargo bench --bench store -- [--file PATH] [--size-mb N] [--runs N] [--seed N] \
                     [--rows N] [--store-dir PATH] [--queries N] [--skip-ingest]";

struct Args {
    file: Option<PathBuf>,
    size_mb: u64,
    runs: usize,
    seed: u64,
    rows: u64,
    store_dir: Option<PathBuf>,
    queries: usize,
    skip_ingest: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        file: None,
        size_mb: 1024,
        runs: 3,
        seed: 1,
        rows: 10_000_000,
        store_dir: None,
        queries: 20,
        skip_ingest: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--file" => args.file = Some(PathBuf::from(value("--file")?)),
            "--size-mb" => args.size_mb = value("--size-mb")?.parse().map_err(|e| format!("--size-mb: {e}"))?,
            "--runs" => args.runs = value("--runs")?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--seed" => args.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--rows" => args.rows = value("--rows")?.parse().map_err(|e| format!("--rows: {e}"))?,
            "--store-dir" => args.store_dir = Some(PathBuf::from(value("--store-dir")?)),
            "--queries" => args.queries = value("--queries")?.parse().map_err(|e| format!("--queries: {e}"))?,
            "--skip-ingest" => args.skip_ingest = true,
            // cargo bench passes --bench to harness = false targets
            "--bench" => {}
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.runs == 0 || args.queries == 0 || args.rows == 0 {
        return Err("--runs, --queries and --rows must be at least 1".to_string());
    }
    Ok(args)
}

fn main() -> ExitCode {
    common::main_with("store", parse_args(), run)
}

type Res<T> = Result<T, String>;

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e:#}")
}

/// What one `mailtrace index` run reported and how much memory it took.
#[derive(Default, Clone, Copy)]
struct IngestRun {
    rows: u64,
    traces: u64,
    hwm_kib: u64,
    anon_kib: u64,
}

/// Size of a store as `store info` / `HotReader::info` count it.
#[derive(Default, Clone, Copy)]
struct Size {
    days: usize,
    rows: u64,
    traces: u64,
    /// The hot tier's day indexes.
    bytes: u64,
    /// The whole store directory (checkpoint and state included).
    total: u64,
}

struct IngestResult {
    file_bytes: u64,
    grep_sent: Series,
    grep_addr: Series,
    address: String,
    index: Series,
    last: IngestRun,
    hwm_kib: u64,
    anon_kib: u64,
    size: Size,
}

fn run(args: &Args) -> Res<()> {
    let _tmp; // keeps the generated file until the end
    let path = match &args.file {
        Some(p) => p.clone(),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("mailtrace-bench")
                .tempdir()
                .map_err(err("cannot create a temporary directory"))?;
            let path = dir.path().join("gen.log");
            generate_log(&path, args.size_mb, args.seed)?;
            _tmp = dir;
            path
        }
    };
    let file_bytes = std::fs::metadata(&path)
        .map_err(err(&path.display().to_string()))?
        .len();
    warm_page_cache(&path)?;
    let address = address_in(&path)?;
    let cli = env!("CARGO_BIN_EXE_mailtrace");

    // 1. ingest, round-robin with the grep baselines
    let ingest = ingest(args, &path, file_bytes, &address, cli)?;

    // 2. the synthetic store
    let _store_tmp;
    let store_dir = match &args.store_dir {
        Some(d) => d.clone(),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("mailtrace-bench-store")
                .tempdir()
                .map_err(err("cannot create a temporary directory"))?;
            let d = dir.path().join("store");
            _store_tmp = dir;
            d
        }
    };
    let built = synthetic_store(&store_dir, args.rows, args.seed)?;
    let queries = query_latency(args, &store_dir, &built.samples, cli)?;

    report(args, &path, &ingest, &built, &queries);
    Ok(())
}

fn generate_log(path: &Path, size_mb: u64, seed: u64) -> Res<()> {
    eprintln!("generating {size_mb} MiB (seed {seed}) into {} ...", path.display());
    let started = Instant::now();
    let file = File::create(path).map_err(err(&format!("cannot create {}", path.display())))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let sum = genlog::generate(&mut w, size_mb << 20, seed)
        .and_then(|s| w.flush().map(|()| s))
        .map_err(err(&format!("writing {}", path.display())))?;
    eprintln!(
        "generated {} bytes, {} lines in {:.1} s",
        sum.bytes,
        sum.lines,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The first delivery address (`to=<…>`) in the first MiB of the log: what the lookup
/// baseline greps for.
fn address_in(path: &Path) -> Res<String> {
    let mut buf = vec![0u8; 1 << 20];
    let mut f = File::open(path).map_err(err(&path.display().to_string()))?;
    let n = f.read(&mut buf).map_err(err(&path.display().to_string()))?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split(" to=<")
        .skip(1)
        .filter_map(|s| s.split_once('>').map(|(a, _)| a))
        .find(|a| a.contains('@'))
        .map(str::to_string)
        .ok_or_else(|| format!("no to=<address> in the first MiB of {}", path.display()))
}

fn ingest(args: &Args, path: &Path, file_bytes: u64, address: &str, cli: &str) -> Res<IngestResult> {
    let file = path.to_str().ok_or("the file name is not UTF-8")?;
    let mut r = IngestResult {
        file_bytes,
        grep_sent: Series::default(),
        grep_addr: Series::default(),
        address: address.to_string(),
        index: Series::default(),
        last: IngestRun::default(),
        hwm_kib: 0,
        anon_kib: 0,
        size: Size::default(),
    };
    for run in 1..=args.runs {
        eprintln!("ingest run {run}/{}", args.runs);
        let (secs, _) = time_child(Command::new("grep").args(["-c", "status=sent", file]), &[0, 1])?;
        r.grep_sent.secs.push(secs);
        let (secs, _) = time_child(Command::new("grep").args(["-F", "-c", address, file]), &[0])?;
        r.grep_addr.secs.push(secs);
        if args.skip_ingest {
            continue;
        }
        let dir = tempfile::Builder::new()
            .prefix("mailtrace-bench-ingest")
            .tempdir()
            .map_err(err("cannot create a temporary directory"))?;
        let store = dir.path().join("store");
        let store_arg = store.to_str().ok_or("the temporary directory is not UTF-8")?;
        let mut cmd = Command::new(cli);
        cmd.args([
            "index",
            "--store",
            store_arg,
            "--year",
            "2026",
            "--timezone",
            "UTC",
            "--format",
            "json",
            file,
        ]);
        let (secs, run_result) = time_index(cmd)?;
        r.index.secs.push(secs);
        r.hwm_kib = r.hwm_kib.max(run_result.hwm_kib);
        r.anon_kib = r.anon_kib.max(run_result.anon_kib);
        r.last = run_result;
        if run == args.runs {
            r.size = store_info(cli, &store)?;
        }
    }
    Ok(r)
}

/// Runs `mailtrace index --format json`, polling its memory; returns wall time and what it
/// reported.
fn time_index(mut cmd: Command) -> Res<(f64, IngestRun)> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(err(&format!("cannot run {cmd:?}")))?;
    let pid = child.id().to_string();
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let mut stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (mut hwm, mut anon) = (0, 0);
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            hwm = hwm.max(status_kib(&s, "VmHWM:").unwrap_or(0));
            anon = anon.max(status_kib(&s, "RssAnon:").unwrap_or(0));
        }
        match child.try_wait().map_err(err("waiting for mailtrace index"))? {
            Some(status) => break status,
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let out = reader.join().unwrap_or_default();
    let errors = err_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}\n{errors}"));
    }
    let v: serde_json::Value = serde_json::from_str(&out).map_err(err("mailtrace index --format json"))?;
    Ok((
        secs,
        IngestRun {
            rows: v["rows"].as_u64().unwrap_or(0),
            traces: v["traces"].as_u64().unwrap_or(0),
            hwm_kib: hwm,
            anon_kib: anon,
        },
    ))
}

/// `mailtrace store info --format json`, summed over the days.
fn store_info(cli: &str, store: &Path) -> Res<Size> {
    let out = Command::new(cli)
        .args(["store", "info", "--format", "json", "--store"])
        .arg(store)
        .output()
        .map_err(err("mailtrace store info"))?;
    if !out.status.success() {
        return Err(format!(
            "mailtrace store info failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(err("mailtrace store info"))?;
    let days = v["hot"]["days"].as_array().cloned().unwrap_or_default();
    let sum = |k: &str| days.iter().map(|d| d[k].as_u64().unwrap_or(0)).sum::<u64>();
    Ok(Size {
        days: days.len(),
        rows: sum("rows"),
        traces: sum("traces"),
        bytes: sum("bytes"),
        total: tree_size(store),
    })
}

fn tree_size(dir: &Path) -> u64 {
    mailtrace::store::hot::dir_size(dir)
}

// ---------------------------------------------------------------------------------------------
// The synthetic store

/// Query values known to exist in the synthetic store.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Samples {
    rows: u64,
    seed: u64,
    traces: u64,
    build_secs: Option<f64>,
    recipients: Vec<String>,
    message_ids: Vec<String>,
    domains: Vec<String>,
    words: Vec<String>,
}

struct Built {
    samples: Samples,
    reused: bool,
    size: Size,
}

const SAMPLES_FILE: &str = "bench-samples.json";
/// Query values sampled while writing (more than `--queries` needs).
const SAMPLED: u64 = 200;
const DAYS: i64 = 10;

fn synthetic_store(dir: &Path, rows: u64, seed: u64) -> Res<Built> {
    let samples_path = dir.join(SAMPLES_FILE);
    if let Ok(text) = std::fs::read_to_string(&samples_path) {
        let s: Samples = serde_json::from_str(&text).map_err(err(&samples_path.display().to_string()))?;
        if s.rows == rows && s.seed == seed {
            eprintln!("reusing the store in {} ({} rows)", dir.display(), rows);
            let size = hot_size(dir)?;
            return Ok(Built {
                samples: s,
                reused: true,
                size,
            });
        }
        return Err(format!(
            "{} holds a store of {} rows (seed {}): remove it or pass --rows {} --seed {}",
            dir.display(),
            s.rows,
            s.seed,
            s.rows,
            s.seed
        ));
    }
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false) {
        return Err(format!(
            "{} exists, is not empty and holds no {SAMPLES_FILE}: choose another --store-dir",
            dir.display()
        ));
    }
    eprintln!("writing {rows} synthetic rows into {} ...", dir.display());
    let store = Store::create(dir).map_err(err("cannot create the store"))?;
    let gen = Synth::new(seed, rows);
    let sample_every = (gen.traces / SAMPLED).max(1);
    let mut s = Samples {
        rows,
        seed,
        ..Samples::default()
    };
    let started = Instant::now();
    // Two threads, each making and writing the traces of its own days (five each) through its
    // own `DayWriters`, as `index` does for one: a day index is written by one writer either
    // way, so the store is the same as one thread would write, in about half the time.
    let parts: Vec<Result<Part, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WRITER_THREADS)
            .map(|w| {
                let (gen, hot) = (&gen, store.hot_dir());
                scope.spawn(move || write_days(gen, &hot, w, sample_every))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a writer thread panicked".to_string())))
            .collect()
    });
    let (mut written, mut picked) = (0u64, Vec::new());
    for p in parts {
        let p = p?;
        written += p.rows;
        picked.extend(p.samples);
    }
    picked.sort_by_key(|p| p.0);
    for (_, recipient, domain, message_id) in picked {
        s.recipients.extend(recipient);
        s.domains.extend(domain);
        s.message_ids.extend(message_id);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {written} rows, {} traces in {secs:.1} s ({:.0} rows/s)",
        gen.traces,
        written as f64 / secs
    );
    let k = gen.traces;
    s.traces = k;
    s.build_secs = Some(secs);
    // subject words across the frequency ranks of the word list
    s.words = (0..SAMPLED as usize)
        .map(|i| WORDS[i * WORDS.len() / SAMPLED as usize].to_string())
        .collect();
    s.words.dedup();
    let json = serde_json::to_string_pretty(&s).map_err(err("samples"))?;
    std::fs::write(&samples_path, json).map_err(err(&samples_path.display().to_string()))?;
    let size = hot_size(dir)?;
    Ok(Built {
        samples: s,
        reused: false,
        size,
    })
}

/// Threads writing the synthetic store.
const WRITER_THREADS: i64 = 2;

/// (trace number, recipient, remote recipient domain, Message-ID)
type Sample = (u64, Option<String>, Option<String>, Option<String>);

/// What one writer thread wrote.
struct Part {
    rows: u64,
    samples: Vec<Sample>,
}

/// Makes and writes the traces whose day falls in writer `w`'s share of the days.
fn write_days(gen: &Synth, hot: &Path, w: i64, sample_every: u64) -> Res<Part> {
    let (first_day, end_day) = (w * DAYS / WRITER_THREADS, (w + 1) * DAYS / WRITER_THREADS);
    let day_us = 86_400_000_000i64;
    // traces are in time order but for up to a second of jitter: a margin covers it
    let margin = (1_000_000 / gen.step_us) as u64 + 2;
    let lo = ((first_day * day_us / gen.step_us) as u64).saturating_sub(margin);
    let hi = (((end_day * day_us / gen.step_us) as u64) + margin).min(gen.traces);
    let mut writers = DayWriters::new(hot);
    let files = [(0u32, "mail.log".to_string())];
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut last_report = Instant::now();
    for k in lo..hi {
        let t = gen.trace(k);
        let day = (t.first_time - gen.start).num_days();
        if day < first_day || day >= end_day {
            continue;
        }
        if k % sample_every == sample_every / 2 {
            let r = t.recipients.first();
            samples.push((
                k,
                r.map(|r| r.address.clone()),
                // remote domains only: a local one holds a tenth of the store
                r.filter(|_| t.direction == Some(Direction::Outbound))
                    .map(|r| domain_of(&r.address).to_string()),
                t.message_id.clone(),
            ));
        }
        writers
            .put(t, &files, false)
            .map_err(err("writing the synthetic store"))?;
        if w == 0 && last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  writer 0: {} of ~{} rows in {secs:.0} s ({:.0} rows/s)",
                writers.rows,
                gen.rows / WRITER_THREADS as u64,
                writers.rows as f64 / secs
            );
        }
    }
    let rows = writers.rows;
    writers.close().map_err(err("closing the synthetic store"))?;
    Ok(Part { rows, samples })
}

fn hot_size(dir: &Path) -> Res<Size> {
    let store = Store::open(dir).map_err(err("cannot open the store"))?;
    let days = HotReader::open(&store.hot_dir())
        .and_then(|r| r.info())
        .map_err(err("store info"))?;
    Ok(Size {
        days: days.len(),
        rows: days.iter().map(|d| d.rows).sum(),
        traces: days.iter().map(|d| d.traces).sum(),
        bytes: days.iter().map(|d| d.bytes).sum(),
        total: tree_size(dir),
    })
}

/// splitmix64: a small, fast, deterministic generator.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, k: u64) -> Rng {
        let mut r = Rng(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Per mille.
    fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }

    /// Skewed towards 0: P(i < k) = sqrt(k / n), so the first few values are popular (role
    /// mailboxes, big providers, common words) and most are rare.
    fn skewed(&mut self, n: u64) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((u * u * n as f64) as u64).min(n - 1)
    }
}

const FIRST: [&str; 40] = [
    "anna", "ben", "clara", "david", "emma", "felix", "greta", "hans", "ida", "jonas", "karin", "lukas", "marie",
    "nils", "olga", "paul", "quentin", "rosa", "sven", "tina", "ute", "victor", "wanda", "xaver", "yusuf", "zoe",
    "alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy",
    "trent",
];
const LAST: [&str; 40] = [
    "schmidt",
    "mueller",
    "meyer",
    "schulz",
    "wagner",
    "becker",
    "hoffmann",
    "koch",
    "richter",
    "klein",
    "wolf",
    "neumann",
    "schwarz",
    "braun",
    "zimmermann",
    "krueger",
    "hartmann",
    "lange",
    "werner",
    "krause",
    "smith",
    "johnson",
    "brown",
    "garcia",
    "miller",
    "davis",
    "lopez",
    "wilson",
    "martin",
    "lee",
    "thompson",
    "white",
    "harris",
    "clark",
    "lewis",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
];
const SYLLABLES: [&str; 30] = [
    "nord", "sud", "west", "ost", "berg", "tal", "wald", "feld", "haus", "hof", "stein", "bach", "see", "burg", "mark",
    "lux", "tek", "net", "soft", "data", "med", "bau", "log", "trans", "fin", "agro", "chem", "opti", "pro", "vita",
];
const TLDS: [&str; 8] = ["com", "de", "net", "org", "eu", "co.uk", "fr", "io"];
const LOCAL_DOMAINS: [&str; 12] = [
    "example.com",
    "example.org",
    "example.net",
    "uni-example.edu",
    "mail.example.com",
    "shop-example.de",
    "example-hosting.net",
    "lists.example.org",
    "example-law.de",
    "example-clinic.org",
    "example-school.eu",
    "example-city.de",
];
/// Subject words, the most frequent first (see [`Rng::skewed`]).
const WORDS: [&str; 120] = [
    "your",
    "invoice",
    "order",
    "meeting",
    "update",
    "re",
    "report",
    "account",
    "new",
    "payment",
    "project",
    "request",
    "delivery",
    "confirmation",
    "newsletter",
    "reminder",
    "weekly",
    "password",
    "schedule",
    "offer",
    "contract",
    "review",
    "team",
    "monthly",
    "quote",
    "shipping",
    "status",
    "welcome",
    "agenda",
    "notice",
    "budget",
    "draft",
    "feedback",
    "renewal",
    "security",
    "alert",
    "invitation",
    "summary",
    "ticket",
    "support",
    "question",
    "documents",
    "approval",
    "minutes",
    "training",
    "holiday",
    "planning",
    "release",
    "maintenance",
    "backup",
    "subscription",
    "receipt",
    "statement",
    "tax",
    "insurance",
    "appointment",
    "interview",
    "application",
    "proposal",
    "presentation",
    "webinar",
    "conference",
    "workshop",
    "survey",
    "results",
    "quarterly",
    "annual",
    "customer",
    "supplier",
    "warehouse",
    "inventory",
    "price",
    "discount",
    "sale",
    "catalogue",
    "brochure",
    "parcel",
    "tracking",
    "return",
    "refund",
    "complaint",
    "warranty",
    "service",
    "repair",
    "installation",
    "server",
    "outage",
    "incident",
    "migration",
    "upgrade",
    "license",
    "audit",
    "compliance",
    "policy",
    "handbook",
    "onboarding",
    "payroll",
    "expenses",
    "travel",
    "booking",
    "hotel",
    "flight",
    "visa",
    "lunch",
    "birthday",
    "party",
    "photos",
    "family",
    "weekend",
    "garden",
    "concert",
    "tickets",
    "football",
    "marathon",
    "volunteer",
    "donation",
    "charity",
    "kindergarten",
    "semester",
    "thesis",
];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Local parts: 40 × 40 names in 5 forms, then numbered.
const LOCALPARTS: u64 = 400_000;
const EXTERNAL_DOMAINS: u64 = 50_000;
const MAILBOXES: u64 = 60_000;

fn localpart(i: u64, out: &mut String) {
    let f = FIRST[(i % 40) as usize];
    let l = LAST[(i / 40 % 40) as usize];
    match i / 1600 % 5 {
        0 => write!(out, "{f}.{l}"),
        1 => write!(out, "{}.{l}", &f[..1]),
        2 => write!(out, "{f}{l}"),
        3 => write!(out, "{f}_{l}"),
        _ => write!(out, "{l}.{f}"),
    }
    .expect("write to String");
    let n = i / 8000;
    if n > 0 {
        write!(out, "{n}").expect("write to String");
    }
}

fn external_domain(j: u64, out: &mut String) {
    let s = |n: u64| SYLLABLES[(n % 30) as usize];
    write!(out, "{}{}", s(j), s(j / 30)).expect("write to String");
    if j >= 900 {
        write!(out, "-{}", s(j / 900)).expect("write to String");
    }
    write!(out, ".{}", TLDS[(j / 27_000 % 8) as usize]).expect("write to String");
}

fn external_address(r: &mut Rng) -> String {
    let mut a = String::with_capacity(40);
    localpart(r.skewed(LOCALPARTS), &mut a);
    a.push('@');
    external_domain(r.skewed(EXTERNAL_DOMAINS), &mut a);
    a
}

fn local_address(r: &mut Rng) -> String {
    let i = r.skewed(MAILBOXES);
    let mut a = String::with_capacity(40);
    match i {
        0 => a.push_str("info"),
        1 => a.push_str("support"),
        2 => a.push_str("sales"),
        _ => localpart(i, &mut a),
    }
    a.push('@');
    a.push_str(LOCAL_DOMAINS[(i % LOCAL_DOMAINS.len() as u64) as usize]);
    a
}

fn external_ip(r: &mut Rng) -> String {
    let n = r.skewed(1 << 22);
    format!(
        "{}.{}.{}.{}",
        23 + (n >> 16) % 180,
        (n >> 8) & 255,
        n & 255,
        1 + r.below(254)
    )
}

/// `Nov 10 00:01:07 mx1 ` for `t`.
fn syslog_prefix(t: DateTime<Utc>, host: &str, out: &mut String) {
    use chrono::{Datelike, Timelike};
    write!(
        out,
        "{} {:>2} {:02}:{:02}:{:02} {host} ",
        MONTH_NAMES[t.month0() as usize],
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
    .expect("write to String");
}

/// Builds traces `0, 1, 2, …`, each from its own number (so any one can be remade).
struct Synth {
    seed: u64,
    start: DateTime<Utc>,
    /// Microseconds between traces.
    step_us: i64,
    /// Traces and rows in all.
    traces: u64,
    rows: u64,
}

impl Synth {
    fn new(seed: u64, rows: u64) -> Synth {
        // as many traces as it takes to reach `rows` (rows_of makes the same draws as trace)
        let (mut traces, mut n) = (0u64, 0u64);
        while n < rows {
            n += Synth::rows_of(seed, traces);
            traces += 1;
        }
        let span = DAYS * 86_400_000_000 - 60_000_000; // the last minute left for the lines
        Synth {
            seed,
            start: Utc
                .with_ymd_and_hms(2026, 11, 10, 0, 0, 0)
                .single()
                .expect("valid date"),
            step_us: (span / traces as i64).max(1),
            rows: n,
            traces,
        }
    }

    /// The rows of trace `k`: its first draws decide the kind and the recipient count.
    fn rows_of(seed: u64, k: u64) -> u64 {
        let mut r = Rng::new(seed, k);
        r.chance(700);
        r.below(1_000_000);
        r.below(0xFFFFF);
        r.below(60_000);
        let kind = r.below(100);
        if !(15..90).contains(&kind) {
            return 1;
        }
        match r.below(10) {
            0..=5 => 1,
            6..=8 => 2,
            _ => 3,
        }
    }

    fn trace(&self, k: u64) -> Trace {
        let mut r = Rng::new(self.seed, k);
        let host = if r.chance(700) { "mx1" } else { "mx2" };
        let span = DAYS * 86_400_000_000 - 60_000_000;
        let at = (k as i64 * self.step_us + r.below(1_000_000) as i64).min(span);
        let t0 = self.start + chrono::Duration::microseconds(at);
        let qid = format!("{:05X}{:06X}", r.below(0xFFFFF), k & 0xFF_FFFF);
        let mut t = Trace::new(format!("{host}:{qid}:{}", t0.timestamp()), host, t0);
        let mut lines = Lines {
            host,
            pid_smtpd: 1000 + r.below(60_000),
            time: t0,
            offset: k * 1800,
            line: k * 12,
            entries: Vec::with_capacity(10),
        };
        let kind = r.below(100);
        if kind < 15 {
            // rejected before the queue: no queue id, no Message-ID
            t.queue_ids.clear();
            t.trace_id = format!("{host}:NOQUEUE:{}:{}", t0.timestamp(), k * 12);
            let ip = external_ip(&mut r);
            let name = if r.chance(600) {
                "unknown".to_string()
            } else {
                format!("mail{}.{}", r.below(9), domain_of(&external_address(&mut r)))
            };
            let from = external_address(&mut r);
            let to = if r.chance(700) {
                local_address(&mut r)
            } else {
                external_address(&mut r)
            };
            let (code, dsn, why) = match r.below(4) {
                0 => ("554", "5.7.1", format!("<{to}>: Relay access denied")),
                1 => ("550", "5.1.1", format!("<{to}>: Recipient address rejected: User unknown in virtual mailbox table")),
                2 => ("450", "4.7.1", format!("<{to}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{}.html", domain_of(&to))),
                _ => ("554", "5.7.1", format!("Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org")),
            };
            lines.add(0, "postfix/smtpd", lines.pid_smtpd, |s| {
                write!(s, "connect from {name}[{ip}]")
            });
            let helo = name.clone();
            lines.add(300, "postfix/smtpd", lines.pid_smtpd, |s| {
                write!(s, "NOQUEUE: reject: RCPT from {name}[{ip}]: {code} {dsn} {why}; from=<{from}> to=<{to}> proto=ESMTP helo=<{helo}>")
            });
            lines.add(200, "postfix/smtpd", lines.pid_smtpd, |s| {
                write!(
                    s,
                    "disconnect from {name}[{ip}] ehlo=1 mail=1 rcpt=0/1 data=0 quit=1 commands=3/4"
                )
            });
            let mut rc = Recipient::new(&to);
            rc.status = Status::Rejected;
            rc.dsn = Some(dsn.into());
            rc.response = Some(format!("{code} {dsn} {why}"));
            rc.time = Some(lines.time);
            t.recipients.push(rc);
            t.from = Some(from);
            t.client.ip = Some(ip);
            t.client.name = Some(name);
            t.client.helo = Some(helo);
            t.direction = Some(Direction::Inbound);
            t.actions.push(format!("reject: RCPT {code} {dsn} {why}"));
        } else {
            t.queue_ids.push(qid.clone());
            let nrcpt = match r.below(10) {
                0..=5 => 1,
                6..=8 => 2,
                _ => 3,
            };
            let (direction, from, rcpts, ip, name, sasl) = if kind < 60 {
                // inbound to local mailboxes
                let from = external_address(&mut r);
                let ip = external_ip(&mut r);
                let name = format!("mail{}.{}", r.below(9), domain_of(&from));
                let rc: Vec<String> = (0..nrcpt).map(|_| local_address(&mut r)).collect();
                (Direction::Inbound, from, rc, ip, name, None)
            } else if kind < 90 {
                // outbound, authenticated submission
                let from = local_address(&mut r);
                let ip = format!("10.{}.{}.{}", r.below(4), r.below(256), 1 + r.below(254));
                let rc: Vec<String> = (0..nrcpt).map(|_| external_address(&mut r)).collect();
                let user = from.clone();
                (Direction::Outbound, from, rc, ip, "unknown".to_string(), Some(user))
            } else {
                // internal (cron, local users)
                let from = local_address(&mut r);
                let to = local_address(&mut r);
                (
                    Direction::Internal,
                    from,
                    vec![to],
                    "127.0.0.1".to_string(),
                    "localhost".to_string(),
                    None,
                )
            };
            let subject = subject(&mut r);
            let message_id = format!(
                "{}.{:010X}@{}",
                t0.format("%Y%m%d%H%M%S"),
                r.next() & 0xFF_FFFF_FFFF,
                domain_of(&from)
            );
            let size = 1_500 + r.skewed(4_000_000);
            let smtpd = if direction == Direction::Outbound {
                "postfix/submission/smtpd"
            } else {
                "postfix/smtpd"
            };
            let pid = lines.pid_smtpd;
            if direction == Direction::Internal {
                lines.add(0, "postfix/pickup", 900, |s| write!(s, "{qid}: uid=0 from=<root>"));
            } else {
                lines.add(0, smtpd, pid, |s| write!(s, "connect from {name}[{ip}]"));
                lines.add(150, smtpd, pid, |s| match &sasl {
                    Some(u) => write!(s, "{qid}: client={name}[{ip}], sasl_method=PLAIN, sasl_username={u}"),
                    None => write!(s, "{qid}: client={name}[{ip}]"),
                });
            }
            let cleanup = 2000 + r.below(30_000);
            lines.add(100, "postfix/cleanup", cleanup, |s| {
                write!(s, "{qid}: message-id=<{message_id}>")
            });
            lines.add(2, "postfix/cleanup", cleanup, |s| {
                write!(s, "{qid}: info: header Subject: {subject} from {name}[{ip}]; from=<{from}> to=<{}> proto=ESMTP helo=<{name}>", rcpts[0])
            });
            lines.add(5, "postfix/qmgr", 880, |s| {
                write!(s, "{qid}: from=<{from}>, size={size}, nrcpt={nrcpt} (queue active)")
            });
            for to in &rcpts {
                let mut rc = Recipient::new(to);
                let roll = r.below(1000);
                let (status, dsn, relay, response, agent, pid) = if direction == Direction::Outbound {
                    let mx = format!("mx{}.{}", r.below(3), domain_of(to));
                    let mxip = external_ip(&mut r);
                    let relay = format!("{mx}[{mxip}]:25");
                    if roll < 900 {
                        (
                            Status::Delivered,
                            "2.0.0",
                            relay,
                            format!("250 2.0.0 Ok: queued as {:X}", r.next() & 0xFFF_FFFF_FFFF),
                            "postfix/smtp",
                            5000,
                        )
                    } else if roll < 960 {
                        (
                            Status::Deferred,
                            "4.4.1",
                            relay,
                            format!("connect to {mx}[{mxip}]:25: Connection timed out"),
                            "postfix/smtp",
                            5000,
                        )
                    } else {
                        (Status::Bounced, "5.1.1", relay, format!("host {mx}[{mxip}] said: 550 5.1.1 <{to}>: Recipient address rejected: User unknown (in reply to RCPT TO command)"), "postfix/smtp", 5000)
                    }
                } else if direction == Direction::Internal {
                    (
                        Status::Delivered,
                        "2.0.0",
                        "local".to_string(),
                        "delivered to mailbox".to_string(),
                        "postfix/local",
                        7000,
                    )
                } else if roll < 970 {
                    (
                        Status::Delivered,
                        "2.0.0",
                        "mail.example.com[private/dovecot-lmtp]".to_string(),
                        format!("250 2.0.0 <{to}> {} Saved", base64ish(&mut r)),
                        "postfix/lmtp",
                        6000,
                    )
                } else if roll < 990 {
                    (
                        Status::Deferred,
                        "4.2.2",
                        "mail.example.com[private/dovecot-lmtp]".to_string(),
                        format!("452 4.2.2 <{to}> Mailbox is full"),
                        "postfix/lmtp",
                        6000,
                    )
                } else {
                    (
                        Status::Bounced,
                        "5.2.2",
                        "mail.example.com[private/dovecot-lmtp]".to_string(),
                        format!("552 5.2.2 <{to}> Quota exceeded (mailbox for user is full)"),
                        "postfix/lmtp",
                        6000,
                    )
                };
                let d = Delays {
                    total: 0.1 + r.below(3000) as f64 / 1000.0,
                    before_qmgr: 0.05,
                    in_qmgr: 0.01,
                    conn_setup: 0.02,
                    transmission: 0.1,
                };
                let word = match status {
                    Status::Delivered => "sent",
                    Status::Deferred => "deferred",
                    _ => "bounced",
                };
                lines.add(200 + r.below(2000), agent, pid, |s| {
                    write!(
                        s,
                        "{qid}: to=<{to}>, relay={relay}, delay={:.2}, delays={}/{}/{}/{}, dsn={dsn}, status={word} ({response})",
                        d.total, d.before_qmgr, d.in_qmgr, d.conn_setup, d.transmission
                    )
                });
                rc.status = status;
                rc.dsn = Some(dsn.into());
                rc.relay = Some(relay);
                rc.response = Some(response);
                rc.attempts = u32::from(status == Status::Deferred);
                rc.delays = Some(d);
                rc.time = Some(lines.time);
                rc.local_delivery = direction != Direction::Outbound;
                t.recipients.push(rc);
            }
            if t.recipients.iter().all(|rc| rc.status != Status::Deferred) {
                lines.add(3, "postfix/qmgr", 880, |s| write!(s, "{qid}: removed"));
            }
            if direction != Direction::Internal {
                lines.add(50, smtpd, pid, |s| {
                    write!(
                        s,
                        "disconnect from {name}[{ip}] ehlo=2 starttls=1 mail=1 rcpt={nrcpt} data=1 quit=1 commands={}",
                        6 + nrcpt
                    )
                });
            }
            t.message_id = Some(message_id);
            t.header_from = Some(from.clone());
            t.from = Some(from);
            t.subject = Some(subject);
            t.size = Some(size);
            t.client.ip = Some(ip);
            t.client.name = Some(name.clone());
            t.client.helo = Some(name);
            if let Some(u) = sasl {
                t.client.sasl_user = Some(u);
                t.client.sasl_method = Some("PLAIN".into());
            }
            t.direction = Some(direction);
        }
        t.last_time = lines.time;
        t.timeline = lines.entries;
        t
    }
}

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

fn subject(r: &mut Rng) -> String {
    let mut s = String::with_capacity(48);
    if r.chance(200) {
        s.push_str("Re: ");
    } else if r.chance(50) {
        s.push_str("Fwd: ");
    }
    let n = 2 + r.below(5);
    for i in 0..n {
        let w = WORDS[r.skewed(WORDS.len() as u64) as usize];
        if i > 0 {
            s.push(' ');
            s.push_str(w);
        } else {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        }
    }
    if r.chance(300) {
        write!(s, " #{}", 10_000 + r.below(90_000)).expect("write to String");
    }
    s
}

fn base64ish(r: &mut Rng) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..22).map(|_| B64[r.below(64) as usize] as char).collect()
}

/// The timeline being written: raw lines with their times and (made-up) positions.
struct Lines {
    host: &'static str,
    pid_smtpd: u64,
    time: DateTime<Utc>,
    offset: u64,
    line: u64,
    entries: Vec<TimelineEntry>,
}

impl Lines {
    /// A line `after_ms` after the previous one.
    fn add(&mut self, after_ms: u64, program: &str, pid: u64, msg: impl FnOnce(&mut String) -> std::fmt::Result) {
        self.time += chrono::Duration::milliseconds(after_ms as i64);
        let mut text = String::with_capacity(200);
        syslog_prefix(self.time, self.host, &mut text);
        write!(text, "{program}[{pid}]: ").expect("write to String");
        msg(&mut text).expect("write to String");
        let len = text.len() as u32;
        self.entries.push(TimelineEntry {
            time: self.time,
            line: LineRef {
                file: 0,
                offset: self.offset,
                line: self.line,
                len,
            },
            text: text.into_boxed_str(),
        });
        self.offset += u64::from(len) + 1;
        self.line += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Query latency

struct QueryRow {
    name: String,
    values: usize,
    times: Series,
    matched: Vec<usize>,
    returned: Vec<usize>,
}

struct Queries {
    open: Series,
    first_warm: Series,
    first_cold: Option<Series>,
    cold_note: String,
    rows: Vec<QueryRow>,
    cli: QueryRow,
}

fn query_latency(args: &Args, dir: &Path, s: &Samples, cli: &str) -> Res<Queries> {
    let hot = dir.join("hot");
    let n = args.queries;
    let take = |v: &[String]| -> Vec<String> {
        // spread over the sampled values (which come in time order)
        let step = (v.len() / n).max(1);
        v.iter().step_by(step).take(n).cloned().collect()
    };
    let recipients = take(&s.recipients);
    let message_ids = take(&s.message_ids);
    let domains = take(&s.domains);
    let words = take(&s.words);
    let mut kinds: Vec<(String, Vec<Criteria>)> = vec![
        (
            "exact recipient (`--to alice@example.com`)".into(),
            recipients
                .iter()
                .map(|a| Criteria {
                    to: vec![AddressPattern::parse(a)],
                    ..Criteria::default()
                })
                .collect(),
        ),
        (
            "Message-ID (`--message-id`)".into(),
            message_ids
                .iter()
                .map(|m| Criteria {
                    message_id: Some(m.clone()),
                    ..Criteria::default()
                })
                .collect(),
        ),
        (
            "recipient domain (`--to @example.com`)".into(),
            domains
                .iter()
                .map(|d| Criteria {
                    to: vec![AddressPattern::parse(&format!("@{d}"))],
                    ..Criteria::default()
                })
                .collect(),
        ),
        (
            "recipient wildcard (`--to '*@example.com'`)".into(),
            domains
                .iter()
                .map(|d| Criteria {
                    to: vec![AddressPattern::parse(&format!("*@{d}"))],
                    ..Criteria::default()
                })
                .collect(),
        ),
        (
            "subject word (`--subject invoice`)".into(),
            words
                .iter()
                .map(|w| Criteria {
                    subject: vec![w.clone()],
                    ..Criteria::default()
                })
                .collect(),
        ),
    ];

    // opening, and the first query after it
    let first = kinds[0].1[0].clone();
    let mut open = Series::default();
    let mut first_warm = Series::default();
    for _ in 0..args.runs {
        let started = Instant::now();
        let reader = HotReader::open(&hot).map_err(err("HotReader::open"))?;
        open.secs.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        reader.search(&first, Some(1000)).map_err(err("search"))?;
        first_warm.secs.push(started.elapsed().as_secs_f64());
    }
    let (first_cold, cold_note) = match evict(dir) {
        Ok(files) => {
            let mut cold = Series::default();
            for run in 0..args.runs {
                if run > 0 {
                    evict(dir)?;
                }
                let started = Instant::now();
                let reader = HotReader::open(&hot).map_err(err("HotReader::open"))?;
                reader.search(&first, Some(1000)).map_err(err("search"))?;
                cold.secs.push(started.elapsed().as_secs_f64());
            }
            (
                Some(cold),
                format!(
                    "{files} store files evicted from the page cache with `dd iflag=nocache count=0` before each run"
                ),
            )
        }
        Err(e) => (None, format!("could not evict the store from the page cache: {e}")),
    };
    // warm the page cache again before the warm measurements
    warm_dir(dir)?;

    let reader = HotReader::open(&hot).map_err(err("HotReader::open"))?;
    let mut rows: Vec<QueryRow> = kinds
        .iter()
        .map(|(name, cs)| QueryRow {
            name: name.clone(),
            values: cs.len(),
            times: Series::default(),
            matched: Vec::new(),
            returned: Vec::new(),
        })
        .collect();
    for run in 0..args.runs {
        eprintln!("query run {}/{}", run + 1, args.runs);
        for (row, (_, cs)) in rows.iter_mut().zip(kinds.iter_mut()) {
            for c in cs.iter() {
                let started = Instant::now();
                let found = reader.search(c, Some(1000)).map_err(err("search"))?;
                row.times.secs.push(started.elapsed().as_secs_f64());
                if run == 0 {
                    row.matched.push(found.total);
                    row.returned.push(found.rows.len());
                }
            }
        }
    }

    // the CLI, end to end: process start, open, search, print the table
    let mut cli_row = QueryRow {
        name: "`mailtrace search --store DIR --to ADDRESS` (CLI, table)".into(),
        values: recipients.len().min(5),
        times: Series::default(),
        matched: Vec::new(),
        returned: Vec::new(),
    };
    for _ in 0..args.runs {
        for a in recipients.iter().take(5) {
            let (secs, out) = time_child(
                Command::new(cli)
                    .arg("search")
                    .arg("--store")
                    .arg(dir)
                    .args(["--to", a]),
                &[0],
            )?;
            cli_row.times.secs.push(secs);
            cli_row.returned.push(out.lines().count());
        }
    }
    Ok(Queries {
        open,
        first_warm,
        first_cold,
        cold_note,
        rows,
        cli: cli_row,
    })
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// Drops the store's files from the page cache (after writing back any dirty pages).
fn evict(dir: &Path) -> Res<usize> {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    let status = Command::new("sync").args(&files).status().map_err(err("sync"))?;
    if !status.success() {
        return Err(format!("sync failed: {status}"));
    }
    for f in &files {
        let status = Command::new("dd")
            .arg(format!("if={}", f.display()))
            .args(["iflag=nocache", "count=0", "status=none"])
            .status()
            .map_err(err("dd"))?;
        if !status.success() {
            return Err(format!("dd iflag=nocache failed on {}", f.display()));
        }
    }
    Ok(files.len())
}

fn warm_dir(dir: &Path) -> Res<()> {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    files.iter().try_for_each(|f| warm_page_cache(f))
}

// ---------------------------------------------------------------------------------------------
// The report

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn report(args: &Args, path: &Path, ing: &IngestResult, built: &Built, q: &Queries) {
    let mb = ing.file_bytes as f64 / 1e6;
    let g = ing.grep_sent.median();
    println!();
    println!("## Ingest");
    println!();
    println!(
        "file: {} ({mb:.1} MB); runs: {}; medians; MB = 10^6 bytes; ratio = throughput / throughput of grep -c",
        path.display(),
        args.runs
    );
    println!();
    println!("| what | median s | MB/s | vs grep -c | peak RSS | peak RssAnon | runs (s) |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let row = |name: &str, s: &Series, rss: &str, anon: &str| {
        let m = s.median();
        println!(
            "| {name} | {m:.3} | {:.0} | {:.1}% | {rss} | {anon} | {} |",
            mb / m,
            100.0 * g / m,
            s.runs()
        );
    };
    row("`grep -c status=sent`", &ing.grep_sent, "-", "-");
    row(&format!("`grep -F -c {}`", ing.address), &ing.grep_addr, "-", "-");
    let rows_per_mb = if ing.index.secs.is_empty() {
        None
    } else {
        row(
            "`mailtrace index` (CLI, fresh store)",
            &ing.index,
            &mib(ing.hwm_kib),
            &mib(ing.anon_kib),
        );
        let m = ing.index.median();
        println!();
        println!(
            "indexed: {} traces, {} rows; {:.0} rows/s; {:.1} rows per MB of log",
            ing.last.traces,
            ing.last.rows,
            ing.last.rows as f64 / m,
            ing.last.rows as f64 / mb
        );
        Some(ing.last.rows as f64 / mb)
    };

    println!();
    println!("## Synthetic store");
    println!();
    match built.samples.build_secs {
        Some(secs) if !built.reused => println!(
            "built: {} rows, {} traces, {} days in {secs:.1} s ({:.0} rows/s)",
            built.size.rows,
            built.size.traces,
            built.size.days,
            built.size.rows as f64 / secs
        ),
        Some(secs) => println!(
            "reused from --store-dir (built earlier: {} rows, {} traces, {} days in {secs:.1} s, {:.0} rows/s)",
            built.size.rows,
            built.size.traces,
            built.size.days,
            built.size.rows as f64 / secs
        ),
        None => println!("reused from --store-dir"),
    }

    println!();
    println!("## Size on disk");
    println!();
    println!(
        "| store | rows | traces | days | day indexes | MB per million rows | bytes per row | whole dir | vs raw log |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let size_row = |name: &str, s: &Size, raw: Option<u64>| {
        println!(
            "| {name} | {} | {} | {} | {:.1} MB | {:.1} | {:.0} | {:.1} MB | {} |",
            s.rows,
            s.traces,
            s.days,
            s.bytes as f64 / 1e6,
            s.bytes as f64 / 1e6 / (s.rows as f64 / 1e6),
            s.bytes as f64 / s.rows as f64,
            s.total as f64 / 1e6,
            raw.map_or("-".to_string(), |r| format!(
                "{:.1}%",
                100.0 * s.bytes as f64 / r as f64
            ))
        );
    };
    if ing.size.rows > 0 {
        size_row("ingest (generated log)", &ing.size, Some(ing.file_bytes));
    }
    size_row("synthetic", &built.size, None);

    println!();
    println!("## Query latency");
    println!();
    println!(
        "store: {} rows in {} days; HotReader::search(criteria, Some(1000)); {} values per kind, each {} times; ms",
        built.size.rows, built.size.days, args.queries, args.runs
    );
    println!();
    println!(
        "| what | values | matched rows (median; min–max) | rows returned (median) | median ms | p90 ms | max ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let ms = |s: f64| format!("{:.1}", s * 1e3);
    let stat = |v: &[usize]| -> String {
        if v.is_empty() {
            return "-".into();
        }
        let mut v = v.to_vec();
        v.sort_unstable();
        format!("{}; {}–{}", v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let median_of = |v: &[usize]| -> String {
        let mut v = v.to_vec();
        v.sort_unstable();
        v.get(v.len() / 2).map_or("-".into(), |x| x.to_string())
    };
    let simple = |name: &str, s: &Series| {
        println!(
            "| {name} | 1 | - | - | {} | {} | {} |",
            ms(s.median()),
            ms(s.pct(90.0)),
            ms(s.max())
        );
    };
    simple("`HotReader::open`", &q.open);
    simple("first query after open (page cache warm)", &q.first_warm);
    if let Some(c) = &q.first_cold {
        simple("open + first query, store evicted from the page cache", c);
    }
    for r in &q.rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.values,
            stat(&r.matched),
            median_of(&r.returned),
            ms(r.times.median()),
            ms(r.times.pct(90.0)),
            ms(r.times.max())
        );
    }
    println!(
        "| {} | {} | - | {} lines | {} | {} | {} |",
        q.cli.name,
        q.cli.values,
        median_of(&q.cli.returned),
        ms(q.cli.times.median()),
        ms(q.cli.times.pct(90.0)),
        ms(q.cli.times.max())
    );
    println!();
    println!("cold runs: {}", q.cold_note);
    let grep = ing.grep_addr.median();
    println!(
        "baseline: `grep -F -c {}` over {mb:.1} MB: {:.3} s (median of {})",
        ing.address,
        grep,
        ing.grep_addr.secs.len()
    );
    match rows_per_mb {
        Some(rpm) => {
            let log_mb = built.size.rows as f64 / rpm;
            let secs = grep * log_mb / mb;
            let exact = q.rows[0].times.median();
            println!(
                "extrapolated linearly to the log {} rows would come from at {rpm:.1} rows/MB ({:.1} GB): {secs:.1} s, \
                 {:.0}x the median exact-recipient lookup",
                built.size.rows,
                log_mb / 1e3,
                secs / exact
            );
        }
        None => println!("(no extrapolation: --skip-ingest gave no rows-per-MB figure)"),
    }
    println!("target: each lookup's median < 50 ms");
}
