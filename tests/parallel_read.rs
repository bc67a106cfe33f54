//! Reading on several threads gives exactly what reading on one gives: the same traces, in
//! the same order, and the same counts, on every real and crafted log, with blocks small
//! enough that every file is cut into many of them, and across a new year.

mod common;

use std::io::Write;
use std::path::PathBuf;

use mailtrace::scan::{scan, ScanOptions, ScanStats};
use mailtrace::source::Input;
use mailtrace::syslog::Zone;
use mailtrace::trace::Trace;

fn read(paths: &[PathBuf], year: Option<i32>, threads: usize, block_bytes: usize) -> (Vec<Trace>, String) {
    let inputs: Vec<Input> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| Input::open(p, i as u32).unwrap())
        .collect();
    let opts = ScanOptions {
        year,
        zone: Zone::Utc,
        keep_text: true,
        threads,
        block_bytes,
        ..ScanOptions::default()
    };
    let mut traces = Vec::new();
    let stats: ScanStats = scan(&inputs, &opts, |t| traces.push(t)).unwrap();
    (traces, serde_json::to_string(&stats).unwrap())
}

/// Compares one-thread and several-thread reads of `paths`; returns how many traces there were.
fn same_on_threads(paths: &[PathBuf], year: Option<i32>) -> usize {
    let (one, one_stats) = read(paths, year, 1, 0);
    for (threads, block) in [(2, 301), (3, 4096)] {
        let (many, many_stats) = read(paths, year, threads, block);
        assert_eq!(
            one_stats, many_stats,
            "{paths:?}: counts on {threads} threads, {block}-byte blocks"
        );
        assert_eq!(one.len(), many.len(), "{paths:?}: traces on {threads} threads");
        for (a, b) in one.iter().zip(&many) {
            assert_eq!(a, b, "{paths:?}: a trace on {threads} threads, {block}-byte blocks");
        }
    }
    one.len()
}

#[test]
fn crafted_cases_and_sample_read_the_same_on_threads() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut traces = 0;
    for case in common::crafted_cases() {
        traces += same_on_threads(&case.logs, Some(case.year));
    }
    let others: Vec<PathBuf> = ["sample", "garbage", "exim-garbage"]
        .iter()
        .flat_map(|dir| common::log_files(&root.join(dir)))
        .collect();
    for f in &others {
        traces += same_on_threads(std::slice::from_ref(f), Some(2026));
    }
    assert!(traces > 200, "{traces} traces compared");
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn corpus_and_eval_sample_read_the_same_on_threads() {
    let Some(corpus) = common::shared("corpus") else { return };
    let Some(eval) = common::shared("eval-sample") else {
        return;
    };
    let mut all = common::log_files(&corpus);
    all.extend(common::log_files(&eval));
    all.sort();
    let mut traces = 0;
    for f in &all {
        // without --year: the year comes from each file's modification time
        traces += same_on_threads(std::slice::from_ref(f), None);
    }
    assert!(traces > 10_000, "{traces} traces compared");
}

/// A log from Dec 31 to Jan 1, crossing in its first blocks: blocks parsed before the lines
/// before them guess the year, and the wrong guesses are read again.
#[test]
fn a_new_year_reads_the_same_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let start = chrono::NaiveDate::from_ymd_opt(2025, 12, 31)
        .unwrap()
        .and_hms_opt(23, 59, 57)
        .unwrap();
    for i in 0..3000u32 {
        let t = (start + chrono::Duration::seconds(i64::from(i) * 2)).format("%b %e %H:%M:%S");
        let qid = format!("1{i:09X}");
        writeln!(f, "{t} mx1 postfix/smtpd[100]: {qid}: client=a.example[192.0.2.1]").unwrap();
        writeln!(
            f,
            "{t} mx1 postfix/qmgr[101]: {qid}: from=<a@a.example>, size=100, nrcpt=1 (queue active)"
        )
        .unwrap();
        writeln!(
            f,
            "{t} mx1 postfix/smtp[102]: {qid}: to=<b@b.example>, relay=b.example[192.0.2.2]:25, delay=1, \
             delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)"
        )
        .unwrap();
        writeln!(f, "{t} mx1 postfix/qmgr[101]: {qid}: removed").unwrap();
    }
    drop(f);
    let paths = [path];
    for year in [Some(2025), None] {
        let n = same_on_threads(&paths, year);
        assert_eq!(n, 3000);
    }
    let (traces, _) = read(&paths, Some(2025), 2, 301);
    let last = traces.iter().map(|t| t.first_time).max().unwrap();
    let years: Vec<String> = [traces[0].first_time, traces[1].first_time, traces[2].first_time, last]
        .iter()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .collect();
    assert_eq!(
        years,
        [
            "2025-12-31 23:59:57",
            "2025-12-31 23:59:59",
            "2026-01-01 00:00:01",
            "2026-01-01 01:39:55"
        ]
    );
}
