//! The store on a small tmpfs (issue 20): `index` and `maintain` that run out of space stop
//! with an error naming the store, leave it searchable and whole, and the next run with space
//! completes it exactly as a run that never stopped; a store mounted read-only is searched,
//! and `index`/`maintain` say why they cannot write it.
//!
//! Mounting needs root: as another user these tests are reported as ignored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../examples/genlog.rs"]
#[allow(dead_code)]
mod genlog;

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

/// A tmpfs mounted on a directory, unmounted when dropped (also when a test panics).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, kib: u64) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        mount(&["-t", "tmpfs", "-o", &format!("size={kib}k,mode=0755"), "tmpfs"], dir);
        Tmpfs { dir: dir.to_path_buf() }
    }

    fn remount(&self, options: &str) {
        mount(&["-o", &format!("remount,{options}")], &self.dir);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount").args(args).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "mount {args:?} {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The binary with `args`, then `--store STORE`.
fn run(store: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--store")
        .arg(store)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

fn ok(store: &Path, args: &[&str]) -> Vec<u8> {
    let out = run(store, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every row of the store, hot and archived, as NDJSON lines sorted.
fn rows(store: &Path) -> Vec<String> {
    let text = String::from_utf8(ok(
        store,
        &["search", "--historical", "--format", "ndjson", "--limit", "0"],
    ))
    .unwrap();
    let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
    rows.sort();
    rows
}

fn trace_id(row: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(row).unwrap();
    v["trace_id"].as_str().unwrap().to_string()
}

/// Asserts a refused run: exit 2, the store and `what` named on stderr, no panic.
fn assert_refused(out: &Output, store: &Path, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let named = format!("the store {} {what}", store.display());
    assert!(err.contains(&named), "expected «{named}» in: {err}");
    assert!(!err.contains("panicked at"), "{err}");
}

fn du(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        total += if m.is_dir() { du(&e.path()) } else { m.len() };
    }
    total
}

/// A generated log of `mb` MB in `dir`.
fn log(dir: &Path, mb: u64) -> PathBuf {
    let log = dir.join("mail.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    genlog::generate(&mut f, mb << 20, 11).unwrap();
    log
}

#[test]
#[cfg_attr(not_root, ignore = "needs root to mount a tmpfs")]
fn index_out_of_space_stops_cleanly_and_the_next_run_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path(), 12);
    let log = log.to_str().unwrap();
    // what a run with room gives
    let clean = dir.path().join("clean");
    ok(&clean, &["index", "--year", "2026", "--commit-every", "1", log]);
    let clean_rows = rows(&clean);
    let clean_replay = ok(&clean, &["replay"]);
    // room for about half of it: the run commits a few times, then the disk is full
    let size_kib = du(&clean) / 1024 / 2;
    let fs = Tmpfs::mount(&dir.path().join("fs"), size_kib);
    let store = fs.dir.join("store");
    let out = run(&store, &["index", "--year", "2026", "--commit-every", "1", log]);
    assert_refused(&out, &store, "is out of space");
    // the store answers with what was committed: messages of the log, none twice
    ok(&store, &["verify"]);
    let partial = rows(&store);
    assert!(!partial.is_empty(), "nothing was committed before the disk was full");
    assert!(partial.len() < clean_rows.len(), "the disk never filled up");
    let clean_ids: std::collections::HashSet<String> = clean_rows.iter().map(|r| trace_id(r)).collect();
    // a message in flight at the last commit is stored as it stood (a re-injected copy that
    // logged first is merged into its parent later, under the parent's id)
    for r in &partial {
        assert!(
            clean_ids.contains(&trace_id(r)) || r.contains("\"status\":\"in-progress\""),
            "a row of no message of the log: {r}"
        );
    }
    let mut unique = partial.clone();
    unique.dedup();
    assert_eq!(unique.len(), partial.len(), "a row stored twice");
    // with room, the next run completes it: the same rows and lines as the run with room
    fs.remount(&format!("size={}k", size_kib * 4));
    let out = run(&store, &["index", "--year", "2026", "--commit-every", "1", log]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("The previous run was interrupted: its work was redone."),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&store), clean_rows);
    assert!(
        ok(&store, &["replay"]) == clean_replay,
        "replay differs from the run with room"
    );
    ok(&store, &["verify"]);
}

/// The sample day and crafted cases: four days from Nov 24 to Nov 28, the first the largest.
fn days_of_logs() -> Vec<String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    [
        "sample/mail.log",
        "cases/spf-sessions/mail.log",
        "cases/dovecot-proxy-session/mail.log",
        "cases/neighbour-lines/mail.log",
    ]
    .iter()
    .map(|l| data.join(l).to_str().unwrap().to_string())
    .collect()
}

/// Fills the file system of `dir` up to `leave` bytes free with the file `filler`.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let filler = dir.join("filler");
    let st = free_bytes(dir);
    assert!(st > leave, "{st} bytes free");
    std::fs::write(&filler, vec![0u8; (st - leave) as usize]).unwrap();
    filler
}

/// Bytes free on the file system of `dir` (`df`'s answer).
fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().nth(1).unwrap().trim().parse().unwrap()
}

fn days(dir: &Path) -> Vec<String> {
    let mut d: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    d.sort();
    d
}

#[test]
#[cfg_attr(not_root, ignore = "needs root to mount a tmpfs")]
fn maintain_out_of_space_keeps_the_hot_days_until_their_archives_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(&dir.path().join("fs"), 16 * 1024);
    let store = fs.dir.join("store");
    let logs = days_of_logs();
    let mut index = vec!["index", "--year", "2026", "--timezone", "UTC"];
    index.extend(logs.iter().map(String::as_str));
    ok(&store, &index);
    let before = rows(&store);
    let replay = ok(&store, &["replay"]);
    let hot_before = days(&store.join("hot"));
    assert_eq!(hot_before, ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-28"]);
    // one page free: room for the windows file, not for the archive of the sample day
    let filler = fill(&fs.dir, 4 * 1024);
    let maintain = ["maintain", "--hot-days", "2", "--now", "2026-11-29T12:00:00Z"];
    let out = run(&store, &maintain);
    assert_refused(&out, &store, "is out of space");
    // every day still hot, none archived, nothing half-written left in the archive tier
    assert_eq!(days(&store.join("hot")), hot_before);
    assert_eq!(days(&store.join("archive")), Vec::<String>::new());
    ok(&store, &["verify"]);
    assert_eq!(rows(&store), before);
    // with room, maintain archives the days past the hot window and the store answers the same
    std::fs::remove_file(&filler).unwrap();
    let text = String::from_utf8(ok(&store, &maintain)).unwrap();
    assert!(text.contains(&format!("Maintained {}", store.display())), "{text}");
    assert_eq!(days(&store.join("hot")), ["2026-11-28"]);
    assert_eq!(
        days(&store.join("archive")),
        ["2026-11-24.mtar", "2026-11-25.mtar", "2026-11-26.mtar"]
    );
    ok(&store, &["verify"]);
    assert_eq!(rows(&store), before);
    assert!(ok(&store, &["replay"]) == replay, "replay differs after archiving");
}

#[test]
#[cfg_attr(not_root, ignore = "needs root to mount a tmpfs")]
fn a_read_only_store_is_searched_and_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path(), 2);
    let log = log.to_str().unwrap();
    let fs = Tmpfs::mount(&dir.path().join("fs"), 128 * 1024);
    let store = fs.dir.join("store");
    ok(&store, &["index", "--year", "2026", log]);
    let before = rows(&store);
    let replay = ok(&store, &["replay"]);
    let first = before.iter().find(|r| !r.contains("\"queue_id\":null")).unwrap();
    fs.remount("ro");
    let out = run(&store, &["index", "--year", "2026", log]);
    assert_refused(&out, &store, "is on a read-only file system");
    let out = run(
        &store,
        &["maintain", "--hot-days", "1", "--now", "2026-12-31T00:00:00Z"],
    );
    assert_refused(&out, &store, "is on a read-only file system");
    // reading works: search, show, replay, store info, verify
    assert_eq!(rows(&store), before);
    assert!(ok(&store, &["replay"]) == replay);
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    let qid = v["queue_id"].as_str().unwrap();
    let shown = String::from_utf8(ok(&store, &["show", qid])).unwrap();
    assert!(shown.contains(&format!("{qid}: ")), "{shown}");
    ok(&store, &["store", "info"]);
    ok(&store, &["verify"]);
    fs.remount("rw");
}
