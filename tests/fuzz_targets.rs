//! The fuzz targets of `fuzz/` on stable Rust: each target's body runs over its corpus
//! (`fuzz/corpus/<target>/`, minimised by the campaign), every crash the campaign found
//! (`fuzz/regressions/<target>/`, each a regression test), and a fixed number of seeded
//! mutations of them, so that CI runs every target for a short, fixed number of executions.
//! `MAILTRACE_FUZZ_RUNS` sets the mutations per target (default 1000), `MAILTRACE_FUZZ_SEED`
//! the seed. The long campaign is libFuzzer's (`scripts/fuzz.sh`, docs/RELIABILITY.md).

#[path = "../examples/genlog.rs"]
#[allow(dead_code)] // the example's `main` and generator; only its SplitMix64 is used
mod genlog;
#[path = "../fuzz/targets/mod.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use genlog::Rng;

/// Uniform in `0..n` (0 when `n` is 0), from genlog's SplitMix64, so a failing run can be run again.
fn below(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

/// Bytes that often matter to a parser.
const INTERESTING: &[u8] = b"\0\n\r\t <>[]{}\":=,;@\\'%\x1b\x7f\xff\xc3\x80";

/// One to four edits: a bit flipped, a byte set, bytes put in or taken out, a piece repeated,
/// the input cut short, or another input's piece spliced in (libFuzzer's kinds of mutation).
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = input.to_vec();
    for _ in 0..1 + below(rng, 4) {
        let at = below(rng, d.len() + 1);
        match below(rng, 7) {
            0 if !d.is_empty() => {
                let i = at.min(d.len() - 1);
                d[i] ^= 1 << below(rng, 8);
            }
            1 if !d.is_empty() => {
                let i = at.min(d.len() - 1);
                d[i] = INTERESTING[below(rng, INTERESTING.len())];
            }
            2 => {
                let n = 1 + below(rng, 8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(at..at, bytes);
            }
            3 => {
                let end = (at + 1 + below(rng, 16)).min(d.len());
                d.drain(at.min(end)..end);
            }
            4 => {
                let end = (at + 1 + below(rng, 64)).min(d.len());
                let piece = d[at.min(end)..end].to_vec();
                d.splice(at..at, piece);
            }
            5 => d.truncate(at),
            _ => {
                let from = below(rng, other.len() + 1);
                let end = (from + below(rng, 256)).min(other.len());
                d.splice(at..at, other[from..end].iter().copied());
            }
        }
    }
    d
}

fn inputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

/// Runs `target` on `data`; on a panic, keeps the input in `target/fuzz-failures/` and
/// returns where.
fn run_one(target: &str, data: &[u8]) -> Result<(), String> {
    let result = catch_unwind(AssertUnwindSafe(|| targets::run(target, data)));
    result.map_err(|_| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{target}-{:016x}", xxhash(data)));
        std::fs::write(&path, data).unwrap();
        format!("{target} panicked on {} ({} bytes)", path.display(), data.len())
    })
}

fn xxhash(data: &[u8]) -> u64 {
    // FNV-1a: only a name for the kept input
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn campaign(target: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = inputs(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target} is empty: run scripts/fuzz.sh seed"
    );
    let regressions = inputs(&root.join("regressions").join(target));
    let mut failures = Vec::new();
    for (path, data) in corpus.iter().chain(&regressions) {
        if let Err(e) = run_one(target, data) {
            failures.push(format!("{e} (from {})", path.display()));
        }
    }
    let runs = env_number("MAILTRACE_FUZZ_RUNS", 1000);
    let seed = env_number("MAILTRACE_FUZZ_SEED", 20_261_206);
    let mut rng = Rng(seed ^ xxhash(target.as_bytes()));
    for _ in 0..runs {
        let input = &corpus[below(&mut rng, corpus.len())].1;
        let other = &corpus[below(&mut rng, corpus.len())].1;
        let data = mutate(&mut rng, input, other);
        if let Err(e) = run_one(target, &data) {
            failures.push(e);
        }
    }
    eprintln!(
        "{target}: {} corpus inputs, {} regressions, {runs} mutations (seed {seed})",
        corpus.len(),
        regressions.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_target_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut named: Vec<String> = targets::NAMES.iter().map(|s| s.to_string()).collect();
    named.sort();
    assert_eq!(found, named);
}

macro_rules! target_tests {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            campaign(stringify!($name));
        }
    )*};
}

target_tests!(
    lines,
    journal,
    decode,
    archive,
    state,
    checkpoint,
    criteria,
    web_params,
    clickhouse_sql
);
