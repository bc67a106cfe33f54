//! The store answers exactly as reading the logs does: for every crafted case, the shipped
//! sample and the eval sample, `search` from the store equals `search --log` (all rows, and
//! rows under criteria drawn from the data); re-indexing adds nothing twice; a grown file, a
//! rotated copy and a message completed after midnight come out whole; a killed `index` run
//! leaves a store that answers, and the next run finishes the job.

mod common;

use common::criteria::{criteria_from, fact_criteria};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mailtrace::app::{index, maintain, search, show, Common};
use mailtrace::output::{Format, Row};
use mailtrace::query::Criteria;

fn reading(logs: Vec<PathBuf>, store: &Path, year: i32, timezone: &str) -> Common {
    Common {
        logs,
        store: Some(store.to_path_buf()),
        year: Some(year),
        timezone: Some(timezone.into()),
        ..Common::default()
    }
}

fn ndjson(common: &Common, c: &Criteria, limit: Option<usize>) -> String {
    let mut out = Vec::new();
    search(common, c, Format::Ndjson, limit, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn rows(text: &str) -> Vec<Row> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn index_files(common: &Common, paths: &[PathBuf]) -> serde_json::Value {
    let mut out = Vec::new();
    let common = Common {
        logs: paths.to_vec(),
        ..common.clone()
    };
    index(&common, None, true, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// Indexes `logs` and checks the store against `--log` for every criterion drawn from the data,
/// first in the hot tier, then with every day moved to the archive tier.
fn store_equals_logs(logs: Vec<PathBuf>, year: i32, timezone: &str) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let from_logs = reading(logs.clone(), &store, year, timezone);
    let from_store = reading(Vec::new(), &store, year, timezone);
    index_files(&from_store, &logs);
    let everything = ndjson(&from_logs, &Criteria::default(), None);
    let all_rows = rows(&everything);
    let criteria = criteria_from(&all_rows);
    for c in &criteria {
        let expected = ndjson(&from_logs, c, None);
        let got = ndjson(&from_store, c, None);
        assert_eq!(got, expected, "criteria {c:?} on {logs:?}");
        // the limit keeps the newest rows, in the same order
        let expected = ndjson(&from_logs, c, Some(3));
        let got = ndjson(&from_store, c, Some(3));
        assert_eq!(got, expected, "criteria {c:?} with --limit 3 on {logs:?}");
    }
    same_shows(&from_logs, &from_store, &all_rows);
    // every day archived: the archives answer as the logs do
    let now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let archived = Common {
        historical: true,
        now: Some(now),
        ..from_store.clone()
    };
    let windows = mailtrace::store::retention::Windows {
        hot_days: 1,
        archive_days: 10_000,
    };
    maintain(&archived, windows, true, &mut Vec::new()).unwrap();
    for c in &criteria {
        let expected = ndjson(&from_logs, c, None);
        let got = ndjson(&archived, c, None);
        assert_eq!(got, expected, "archived, criteria {c:?} on {logs:?}");
    }
    same_shows(&from_logs, &archived, &all_rows);
    criteria.len()
}

/// `show` gives the same timeline, raw lines and all, from both.
fn same_shows(from_logs: &Common, other: &Common, all_rows: &[Row]) {
    for r in all_rows.iter().step_by((all_rows.len() / 10).max(1)) {
        let id = r.queue_id.clone().unwrap_or_else(|| r.trace_id.clone());
        let mut a = Vec::new();
        let mut b = Vec::new();
        show(from_logs, &id, true, &mut a).unwrap();
        show(other, &id, true, &mut b).unwrap();
        // both as JSON values, every leg of the path across servers included
        let a: serde_json::Value = serde_json::from_slice(&a).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(b, a, "show {id}");
    }
}

#[test]
fn store_answers_as_the_logs_do_for_every_crafted_case() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut checked = 0;
    for case in common::crafted_cases() {
        if !case.local_domains.is_empty() || !case.local_networks.is_empty() {
            continue; // direction rules are given per run; covered by the other cases
        }
        checked += store_equals_logs(case.logs, case.year, &case.timezone);
    }
    checked += store_equals_logs(vec![root.join("sample/mail.log")], 2026, "UTC");
    assert!(checked > 300, "{checked} criteria checked");
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn store_answers_as_the_logs_do_for_the_eval_sample() {
    let Some(dir) = common::shared("eval-sample/postfix") else {
        return;
    };
    let n = store_equals_logs(vec![dir.join("mail.log")], 2026, "UTC");
    assert!(n > 100);
}

/// The facts of the filters around the MTA (`--spam`, `--virus`, `--auth-fail`, `--folder`)
/// give the same rows from the logs, the hot tier, and the archives once every day is archived.
#[test]
fn facts_answer_the_same_from_logs_hot_tier_and_archives() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/cases");
    let logs: Vec<PathBuf> = [
        "amavis-verdicts",
        "amavis-reinjection",
        "auth-results",
        "dovecot-sieve",
        "rspamd-milter",
    ]
    .iter()
    .map(|c| root.join(c).join("mail.log"))
    .collect();
    let mut checked = 0;
    for log in logs {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let from_logs = reading(vec![log.clone()], &store, 2026, "UTC");
        let from_store = reading(Vec::new(), &store, 2026, "UTC");
        index_files(&from_store, std::slice::from_ref(&log));
        let all_rows = rows(&ndjson(&from_logs, &Criteria::default(), None));
        let criteria = fact_criteria(&all_rows);
        let expected: Vec<String> = criteria.iter().map(|c| ndjson(&from_logs, c, None)).collect();
        assert!(
            expected.iter().filter(|e| !e.is_empty()).count() >= 2,
            "{log:?}: the facts criteria find nothing"
        );
        for (c, e) in criteria.iter().zip(&expected) {
            assert_eq!(&ndjson(&from_store, c, None), e, "hot tier, criteria {c:?} on {log:?}");
        }
        // every day into the archive tier
        let later = Common {
            now: Some("2027-06-01T00:00:00Z".parse().unwrap()),
            ..from_store.clone()
        };
        let windows = mailtrace::store::retention::Windows {
            hot_days: 1,
            archive_days: 3650,
        };
        mailtrace::app::maintain(&later, windows, false, &mut Vec::new()).unwrap();
        let historical = Common {
            historical: true,
            ..from_store.clone()
        };
        for (c, e) in criteria.iter().zip(&expected) {
            assert_eq!(&ndjson(&historical, c, None), e, "archives, criteria {c:?} on {log:?}");
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} criteria checked");
}

/// `lines` as one file.
fn write<L: AsRef<[u8]>>(path: &Path, lines: &[L]) {
    std::fs::File::create(path).unwrap();
    append(path, lines);
}

fn append<L: AsRef<[u8]>>(path: &Path, lines: &[L]) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    for l in lines {
        f.write_all(l.as_ref()).unwrap();
        f.write_all(b"\n").unwrap();
    }
}

/// The shipped sample's lines (as bytes: it holds a line that is not UTF-8 on purpose).
fn sample_lines() -> Vec<Vec<u8>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log");
    std::fs::read(p)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn store_rows(common: &Common) -> String {
    ndjson(common, &Criteria::default(), None)
}

#[test]
fn reindexing_the_same_file_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    write(&log, &sample_lines());
    let store = dir.path().join("store");
    let c = reading(Vec::new(), &store, 2026, "UTC");
    index_files(&c, std::slice::from_ref(&log));
    let first = store_rows(&c);
    let again = index_files(&c, &[log.clone(), log.clone()]);
    assert_eq!(again["stats"]["lines"], 0, "nothing read twice: {again}");
    assert_eq!(store_rows(&c), first);
    let expected = ndjson(&reading(vec![log], &store, 2026, "UTC"), &Criteria::default(), None);
    assert_eq!(first, expected);
}

#[test]
fn a_grown_file_and_a_rotated_copy_are_read_on_where_they_stopped() {
    let lines = sample_lines();
    let (a, rest) = lines.split_at(100);
    let (b, c) = rest.split_at(120);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let rotated = dir.path().join("mail.log.1");
    let store = dir.path().join("store");
    let st = reading(Vec::new(), &store, 2026, "UTC");
    // run 1: the first part; run 2: the file grew; run 3: it was rotated and a new one started
    write(&log, a);
    index_files(&st, std::slice::from_ref(&log));
    append(&log, b);
    let second = index_files(&st, std::slice::from_ref(&log));
    assert_eq!(second["files"][0]["outcome"], "resumed");
    std::fs::rename(&log, &rotated).unwrap();
    write(&log, c);
    let third = index_files(&st, &[rotated.clone(), log.clone()]);
    assert_eq!(third["files"][0]["outcome"], "unchanged", "{third}");
    assert_eq!(third["files"][1]["outcome"], "new", "{third}");
    // the same as reading the two files (each numbers its own lines, which NOQUEUE trace ids use)
    let expected = ndjson(
        &reading(vec![rotated, log], &store, 2026, "UTC"),
        &Criteria::default(),
        None,
    );
    let got = store_rows(&st);
    for (g, e) in got.lines().zip(expected.lines()) {
        assert_eq!(g, e);
    }
    assert_eq!(got.lines().count(), expected.lines().count());
}

const DAY1: &[&str] = &[
    "Nov 10 23:50:01 mx1 postfix/pickup[10]: 4AAA111111: uid=1000 from=<alice@example.com>",
    "Nov 10 23:50:01 mx1 postfix/cleanup[11]: 4AAA111111: message-id=<late@example.com>",
    "Nov 10 23:50:01 mx1 postfix/qmgr[12]: 4AAA111111: from=<alice@example.com>, size=900, nrcpt=1 (queue active)",
    "Nov 10 23:50:31 mx1 postfix/smtp[13]: 4AAA111111: to=<bob@remote.example>, relay=none, delay=30, delays=0.01/0/30/0, dsn=4.4.1, status=deferred (connect to mx.remote.example[198.51.100.7]:25: Connection timed out)",
];
const DAY2: &[&str] = &[
    "Nov 11 00:10:01 mx1 postfix/qmgr[12]: 4AAA111111: from=<alice@example.com>, size=900, nrcpt=1 (queue active)",
    "Nov 11 00:10:02 mx1 postfix/smtp[14]: 4AAA111111: to=<bob@remote.example>, relay=mx.remote.example[198.51.100.7]:25, delay=1201, delays=1200/0.01/0.5/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9F9F)",
    "Nov 11 00:10:02 mx1 postfix/qmgr[12]: 4AAA111111: removed",
];

#[test]
fn a_message_deferred_before_midnight_is_completed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let store = dir.path().join("store");
    let st = reading(Vec::new(), &store, 2026, "UTC");
    write(&log, DAY1);
    let first = index_files(&st, std::slice::from_ref(&log));
    assert_eq!(first["open"], 1, "{first}");
    let r = rows(&store_rows(&st));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, "deferred");
    assert_eq!(r[0].attempts, 1);
    append(&log, DAY2);
    index_files(&st, std::slice::from_ref(&log));
    let r = rows(&store_rows(&st));
    assert_eq!(r.len(), 1, "replaced, not added: {r:?}");
    assert_eq!(r[0].status, "delivered");
    assert_eq!(r[0].attempts, 1);
    assert_eq!(r[0].time, "2026-11-10T23:50:01Z");
    assert_eq!(r[0].last_time, "2026-11-11T00:10:02Z");
    // the row lives in the day the message was received
    assert!(store.join("hot/2026-11-10/meta.json").exists());
    assert!(!store.join("hot/2026-11-11").exists());
    let mut out = Vec::new();
    show(&st, "late@example.com", false, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text.matches("mx1 postfix/").count(),
        7,
        "every line, from both runs:\n{text}"
    );
}

#[path = "../examples/genlog.rs"]
#[allow(dead_code)]
mod genlog;

#[test]
fn a_killed_index_run_leaves_a_store_that_answers_and_the_next_run_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
        genlog::generate(&mut f, 40 << 20, 7).unwrap();
    }
    let store = dir.path().join("store");
    let bin = env!("CARGO_BIN_EXE_mailtrace");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        a.extend(
            [
                "--store",
                store.to_str().unwrap(),
                "--year",
                "2026",
                "--timezone",
                "UTC",
            ]
            .map(String::from),
        );
        a
    };
    // one complete run of the first half, so the kill lands on a store with committed data
    let half = dir.path().join("half.log");
    {
        let text = std::fs::read(&log).unwrap();
        let cut = text[..text.len() / 2].iter().rposition(|&b| b == b'\n').unwrap() + 1;
        std::fs::write(&half, &text[..cut]).unwrap();
    }
    let ok = Command::new(bin)
        .args(args(&["index", half.to_str().unwrap()]))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    // the file grows to the whole log; kill runs at several moments
    std::fs::copy(&log, &half).unwrap();
    let mut interrupted = 0;
    for wait_ms in [50, 300, 900] {
        // commits every 2 MB: a kill lands between commits inside the file
        let mut child = Command::new(bin)
            .args(args(&["index", "--commit-every", "2", half.to_str().unwrap()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        // searching while a run writes sees the last committed state
        let during = Command::new(bin)
            .args(args(&["search", "--from", "@*", "--limit", "5", "--format", "ndjson"]))
            .output()
            .unwrap();
        assert!(
            matches!(during.status.code(), Some(0 | 1)),
            "a search while index runs: {}",
            String::from_utf8_lossy(&during.stderr)
        );
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(store.join("state.json")).unwrap()).unwrap();
        interrupted += usize::from(!state["interrupted_run"].is_null());
        // the store opens and answers whatever moment the run died at
        let out = Command::new(bin)
            .args(args(&[
                "search",
                "--status",
                "delivered",
                "--limit",
                "5",
                "--format",
                "ndjson",
            ]))
            .output()
            .unwrap();
        assert!(
            out.status.code() == Some(0),
            "after a kill at {wait_ms} ms: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(interrupted > 0, "no kill landed while a run was writing");
    let done = Command::new(bin)
        .args(args(&["index", half.to_str().unwrap()]))
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let from_store = Command::new(bin)
        .args(args(&["search", "--format", "ndjson"]))
        .output()
        .unwrap();
    let from_logs = Command::new(bin)
        .args(args(&["search", "--format", "ndjson", "--log", log.to_str().unwrap()]))
        .output()
        .unwrap();
    let (a, b) = (
        String::from_utf8(from_store.stdout).unwrap(),
        String::from_utf8(from_logs.stdout).unwrap(),
    );
    assert_eq!(a.lines().count(), b.lines().count(), "nothing lost or doubled");
    assert!(a == b, "the store after kills and a final run equals reading the log");
}

#[test]
fn a_log_spanning_more_days_than_open_writers_lands_each_message_in_its_day() {
    // one message a day for six days, each deferred at 23:59 and delivered the next morning,
    // so every day's writer is reopened after others were closed to make room
    let mut lines = Vec::new();
    for d in 10..16 {
        let q = format!("{d}AB00000{d}");
        lines.push(format!(
            "Nov {d} 23:59:00 mx1 postfix/pickup[1]: {q}: uid=0 from=<cron@example.com>"
        ));
        lines.push(format!(
            "Nov {d} 23:59:00 mx1 postfix/qmgr[2]: {q}: from=<cron@example.com>, size=10, nrcpt=1 (queue active)"
        ));
        lines.push(format!("Nov {d} 23:59:30 mx1 postfix/smtp[3]: {q}: to=<ops@remote.example>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to remote.example[192.0.2.9]:25: Connection timed out)"));
        let n = d + 1;
        lines.push(format!(
            "Nov {n} 08:00:00 mx1 postfix/qmgr[2]: {q}: from=<cron@example.com>, size=10, nrcpt=1 (queue active)"
        ));
        lines.push(format!("Nov {n} 08:00:01 mx1 postfix/smtp[3]: {q}: to=<ops@remote.example>, relay=remote.example[192.0.2.9]:25, delay=29000, delays=29000/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)"));
        lines.push(format!("Nov {n} 08:00:01 mx1 postfix/qmgr[2]: {q}: removed"));
    }
    // logged in time order, as syslog writes it
    lines.sort_by_key(|l| (l[4..6].to_string(), l[7..15].to_string()));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    write(&log, &lines);
    let store = dir.path().join("store");
    let st = reading(Vec::new(), &store, 2026, "UTC");
    index_files(&st, std::slice::from_ref(&log));
    let got = store_rows(&st);
    assert_eq!(
        got,
        ndjson(&reading(vec![log], &store, 2026, "UTC"), &Criteria::default(), None)
    );
    let r = rows(&got);
    assert_eq!(r.len(), 6);
    assert!(r.iter().all(|r| r.status == "delivered" && r.attempts == 1), "{got}");
    for d in 10..16 {
        assert!(store.join(format!("hot/2026-11-{d}/meta.json")).exists(), "day {d}");
    }
    assert!(
        !store.join("hot/2026-11-16").exists(),
        "delivered the next day, kept in the day received"
    );
}

#[test]
fn committing_every_few_bytes_gives_the_same_rows() {
    let (log, year) = match common::shared("eval-sample/postfix") {
        Some(dir) => (dir.join("mail.log"), 2026),
        None => (
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log"),
            2026,
        ),
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let st = reading(Vec::new(), &store, year, "UTC");
    let mut out = Vec::new();
    // the smallest chunks there are (files are read in 1 MiB blocks): a commit after each
    let with_log = Common {
        logs: vec![log.clone()],
        ..st.clone()
    };
    index(&with_log, Some(1), true, &mut out).unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["files"][0]["outcome"], "new");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(store.join("state.json")).unwrap()).unwrap();
    let size = std::fs::metadata(&log).unwrap().len();
    assert!(
        state["generation"].as_u64().unwrap() >= size >> 20,
        "a commit per MiB: {state}"
    );
    let expected = ndjson(&reading(vec![log], &store, year, "UTC"), &Criteria::default(), None);
    assert_eq!(store_rows(&st), expected);
}

#[test]
fn a_damaged_store_says_what_is_wrong_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    write(&log, DAY1);
    let store = dir.path().join("store");
    let st = reading(Vec::new(), &store, 2026, "UTC");
    index_files(&st, std::slice::from_ref(&log));
    // a damaged checkpoint: the next run stops before writing anything, naming the file
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(store.join("state.json")).unwrap()).unwrap();
    let ckpt = store.join(state["checkpoint"].as_str().unwrap());
    std::fs::write(&ckpt, b"not zstd").unwrap();
    append(&log, DAY2);
    let with_log = Common {
        logs: vec![log.clone()],
        ..st.clone()
    };
    let err = index(&with_log, None, true, &mut Vec::new()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("checkpoint") && msg.contains(ckpt.to_str().unwrap()),
        "{msg}"
    );
    // searching still works: the store is as the last good run left it
    assert_eq!(rows(&store_rows(&st))[0].status, "deferred");
    // a store of another format is refused with what to do
    std::fs::write(store.join("mailtrace-store.json"), "{\"format\": 99}").unwrap();
    let err = search(&st, &Criteria::default(), Format::Ndjson, None, &mut Vec::new()).unwrap_err();
    assert!(format!("{err:#}").contains("format 99"), "{err:#}");
}

/// Exim writes each reject to its main and its reject log: indexed in two runs, the main log
/// first, the reject log's copies are not stored again (the first copy stays, as in a scan).
#[test]
fn a_reject_log_indexed_after_its_main_log_adds_no_rows() {
    let case = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/exim/rejectlog-with-mainlog");
    let (main, reject) = (case.join("mainlog"), case.join("rejectlog"));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let from_store = reading(Vec::new(), &store, 2026, "UTC");
    index_files(&from_store, std::slice::from_ref(&main));
    let after_main = ndjson(&from_store, &Criteria::default(), None);
    index_files(&from_store, std::slice::from_ref(&reject));
    let after_both = ndjson(&from_store, &Criteria::default(), None);
    assert_eq!(after_both, after_main);
    assert_eq!(after_both.lines().count(), 4, "{after_both}");
    let from_logs = reading(vec![main, reject], &store, 2026, "UTC");
    assert_eq!(after_both, ndjson(&from_logs, &Criteria::default(), None));
}

/// Exim's own main log indexed with `--default-host`: the hot store and the archives give the
/// rows a scan with the same host gives (the archive builds its traces again from lines that
/// name no host).
#[test]
fn a_main_log_with_a_default_host_through_both_tiers() {
    let log = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/exim/overview/mail.log");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let with_host = |c: Common| Common {
        default_host: Some("mx9".into()),
        ..c
    };
    let from_logs = with_host(reading(vec![log.clone()], &store, 2026, "UTC"));
    let from_store = with_host(reading(Vec::new(), &store, 2026, "UTC"));
    index_files(&from_store, std::slice::from_ref(&log));
    let expected = ndjson(&from_logs, &Criteria::default(), None);
    assert!(expected.contains("\"host\":\"mx9\""));
    assert_eq!(ndjson(&from_store, &Criteria::default(), None), expected);
    let archived = Common {
        historical: true,
        now: Some(
            chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
                .unwrap()
                .to_utc(),
        ),
        ..from_store.clone()
    };
    let windows = mailtrace::store::retention::Windows {
        hot_days: 1,
        archive_days: 10_000,
    };
    maintain(&archived, windows, true, &mut Vec::new()).unwrap();
    assert_eq!(ndjson(&archived, &Criteria::default(), None), expected);
    let rows = rows(&expected);
    same_shows(&from_logs, &archived, &rows);
}

/// `search --format ndjson|csv` without a limit reads the hot tier a batch at a time (issue 20:
/// memory must not grow with the matches): batches of any size hand out exactly the rows of
/// one whole search, in its order, ties of one time never split; and the CLI's streamed NDJSON
/// and CSV are the bytes of the same rows written at once.
#[test]
fn every_row_a_batch_at_a_time_is_the_whole_search() {
    use mailtrace::store::hot::HotReader;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let logs = vec![
        root.join("sample/mail.log"),
        root.join("cases/multi-recipient-mixed/mail.log"),
    ];
    let from_store = reading(Vec::new(), &store, 2026, "UTC");
    index_files(&from_store, &logs);
    let hot = HotReader::open(&store.join("hot")).unwrap();
    let by_status = Criteria {
        statuses: vec![mailtrace::trace::Status::Delivered],
        ..Criteria::default()
    };
    for c in [Criteria::default(), by_status] {
        let whole = hot.search(&c, None).unwrap();
        assert!(whole.rows.len() > 20, "{}", whole.rows.len());
        for batch in [1, 2, 3, 7, 1000] {
            let mut got: Vec<Row> = Vec::new();
            let mut sizes = Vec::new();
            let n = hot
                .search_each(&c, batch, &mut |rows| {
                    sizes.push(rows.len());
                    got.extend(rows);
                    Ok(())
                })
                .unwrap();
            assert_eq!(n, whole.total);
            let (a, b) = (
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&whole.rows).unwrap(),
            );
            assert_eq!(a, b, "batches of {batch}");
            // a batch is cut only between two times, so ties stay together
            let mut at = 0;
            for s in &sizes {
                assert!(*s >= batch.min(whole.rows.len() - at), "{sizes:?}");
                if at + s < got.len() {
                    assert_ne!(got[at + s - 1].time, got[at + s].time, "batches of {batch}: {sizes:?}");
                }
                at += s;
            }
        }
    }
    // the CLI's streamed output (no limit) is that of the rows read at once (a limit above them)
    for format in [Format::Ndjson, Format::Csv, Format::Json] {
        let (mut streamed, mut at_once) = (Vec::new(), Vec::new());
        search(&from_store, &Criteria::default(), format, None, &mut streamed).unwrap();
        search(&from_store, &Criteria::default(), format, Some(1_000_000), &mut at_once).unwrap();
        assert!(streamed.len() > 1000);
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(at_once).unwrap()
        );
    }
}
