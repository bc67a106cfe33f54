//! The ClickHouse store answers as the logs do, on a real two-shard cluster: a two-host log
//! indexed through the Distributed tables gives the rows of `search --log` for criteria drawn
//! from the data (with and without a limit), the same `show` timelines and the same `replay`;
//! both shards hold rows; indexing again adds nothing; `maintain` drops old days on every
//! shard; a run killed mid-file and run again loses and doubles nothing; a shard down is named.
//!
//! Runs when `MAILTRACE_TEST_CLICKHOUSE` names the first shard's HTTP interface
//! (`scripts/clickhouse-cluster.sh start` starts both and prints it; the second shard is the
//! next port); required when `CI=true`, skipped and saying so otherwise.

mod common;
#[path = "../examples/genpath.rs"]
mod genpath;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::clickhouse::{dropped, shards, Cluster};
use common::criteria::criteria_from;
use mailtrace::app::{search, show, Common};
use mailtrace::output::{Format, Row};
use mailtrace::query::Criteria;
use mailtrace::store::clickhouse::Location;

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

fn reading(logs: Vec<PathBuf>, store: &str, state: &Path) -> Common {
    let mut c = Common {
        logs,
        store: Some(PathBuf::from(store)),
        year: Some(2026),
        timezone: Some("UTC".into()),
        ..Common::default()
    };
    c.access.state_dir = Some(state.to_path_buf());
    c
}

fn ndjson(common: &Common, c: &Criteria, limit: Option<usize>) -> String {
    let mut out = Vec::new();
    search(common, c, Format::Ndjson, limit, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn index(cluster: &Cluster, state: &Path, logs: &[&Path], extra: &[&str]) -> String {
    let mut args = vec![
        "index",
        "--year",
        "2026",
        "--timezone",
        "UTC",
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend(extra);
    args.extend(logs.iter().map(|p| p.to_str().unwrap()));
    let out = cluster.mailtrace(&args, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    err
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn a_two_host_log_in_two_shards_answers_as_the_log_does() {
    let Some(cluster) = Cluster::new("two_hosts") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let log = testdata("clickhouse/two-hosts.log");
    // init again changes nothing
    let again = cluster.mailtrace(
        &[
            "store",
            "init",
            "--shard",
            &cluster.shard_url(0),
            "--shard",
            &cluster.shard_url(1),
        ],
        &[],
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    index(&cluster, &state, &[&log], &[]);
    let counts = cluster.counts();
    // messages spread by trace id; a file's lines live together on one shard
    assert!(
        counts.iter().all(|(rows, _)| *rows > 0),
        "both shards hold rows: {counts:?}"
    );
    let lines = std::fs::read(&log).unwrap().iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), lines, "every line kept once");
    let from_logs = reading(vec![log.clone()], &cluster.url(), &state);
    let from_store = reading(Vec::new(), &cluster.url(), &state);
    let everything = ndjson(&from_logs, &Criteria::default(), None);
    let all_rows: Vec<Row> = everything.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hosts: std::collections::BTreeSet<&str> = all_rows.iter().map(|r| r.host.as_str()).collect();
    assert_eq!(hosts.into_iter().collect::<Vec<_>>(), ["mx1", "mx2"]);
    let criteria = criteria_from(&all_rows);
    assert!(criteria.len() > 100, "{}", criteria.len());
    for c in &criteria {
        assert_eq!(
            ndjson(&from_store, c, None),
            ndjson(&from_logs, c, None),
            "criteria {c:?}"
        );
        assert_eq!(
            ndjson(&from_store, c, Some(3)),
            ndjson(&from_logs, c, Some(3)),
            "criteria {c:?}, limit 3"
        );
    }
    // the table's count of rows not shown comes from SQL, and agrees
    let mut table = Vec::new();
    search(&from_store, &Criteria::default(), Format::Table, Some(5), &mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains(&format!("5 rows shown, {} more not shown", all_rows.len() - 5)),
        "{table}"
    );
    // show: the same timelines, raw lines and all
    for r in all_rows.iter().step_by(7) {
        let id = r.queue_id.clone().unwrap_or_else(|| r.trace_id.clone());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        show(&from_logs, &id, true, &mut a).unwrap();
        show(&from_store, &id, true, &mut b).unwrap();
        assert_eq!(
            String::from_utf8(b).unwrap(),
            String::from_utf8(a).unwrap(),
            "show {id}"
        );
    }
    // replay gives the log back, line for line
    let replayed = cluster.mailtrace(&["replay"], &[]);
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&replayed.stdout),
        String::from_utf8_lossy(&std::fs::read(&log).unwrap()),
        "replay of every day"
    );
    // replay answers as the embedded store's does: a window, the lines of some messages
    let embedded = dir.path().join("embedded");
    let built = Command::new(BIN)
        .args(["index", "--year", "2026", "--timezone", "UTC", "--store"])
        .arg(&embedded)
        .arg(&log)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let queue_id = all_rows[0].queue_id.clone().unwrap();
    for args in [
        vec!["replay", "--queue-id", queue_id.as_str()],
        vec!["replay", "--to", "@example.com", "--format", "ndjson"],
        vec![
            "replay",
            "--since",
            "2026-11-24T08:00:00Z",
            "--until",
            "2026-11-24T12:00:00Z",
        ],
    ] {
        let want = Command::new(BIN)
            .args(&args)
            .arg("--store")
            .arg(&embedded)
            .output()
            .unwrap();
        let got = cluster.mailtrace(&args, &[]);
        assert!(!want.stdout.is_empty(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{args:?}"
        );
    }
    // indexing the same file again adds nothing; neither does a reader with a fresh state
    let second = index(&cluster, &state, &[&log], &[]);
    assert!(second.contains("unchanged"), "{second}");
    index(&cluster, &dir.path().join("fresh"), &[&log], &[]);
    assert_eq!(cluster.counts(), counts, "a second reading doubles nothing");
    assert_eq!(ndjson(&from_store, &Criteria::default(), None), everything);
    // maintain: 2026-11-23 is past a one-day window on 2026-11-24; both shards drop it
    let kept = cluster.mailtrace(
        &[
            "maintain",
            "--hot-days",
            "1",
            "--archive-days",
            "1",
            "--now",
            "2026-11-24T12:00:00Z",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(kept.status.code(), Some(0), "{}", String::from_utf8_lossy(&kept.stderr));
    let report: serde_json::Value = serde_json::from_slice(&kept.stdout).unwrap();
    assert_eq!(report["deleted"], serde_json::json!(["2026-11-23"]), "{report}");
    let left = ndjson(&from_store, &Criteria::default(), None);
    let expected: Vec<&str> = everything.lines().filter(|l| l.contains("\"host\":\"mx1\"")).collect();
    assert_eq!(left.lines().collect::<Vec<_>>(), expected, "only the day kept is left");
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn a_killed_index_run_into_clickhouse_loses_and_doubles_nothing() {
    let Some(cluster) = Cluster::new("killed") else { return };
    let Some(log) = common::shared("eval-sample/postfix/mail.log") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap().to_string();
    let args = [
        "--year",
        "2026",
        "--timezone",
        "UTC",
        "--state",
        &state_arg,
        "--commit-every",
        "1",
    ];
    let mut interrupted = 0;
    for wait_ms in [150, 400, 700] {
        let mut child = Command::new(BIN)
            .arg("index")
            .args(["--store", &cluster.url()])
            .args(args)
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if let Ok(bytes) = std::fs::read(state.join("state.json")) {
            let s: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            interrupted += usize::from(!s["interrupted_run"].is_null());
        }
    }
    assert!(interrupted > 0, "no kill landed while a run was writing");
    let done = Command::new(BIN)
        .arg("index")
        .args(["--store", &cluster.url()])
        .args(args)
        .arg(&log)
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let from_logs = reading(vec![log.clone()], &cluster.url(), &state);
    let from_store = reading(Vec::new(), &cluster.url(), &state);
    let (a, b) = (
        ndjson(&from_store, &Criteria::default(), None),
        ndjson(&from_logs, &Criteria::default(), None),
    );
    assert_eq!(a.lines().count(), b.lines().count(), "nothing lost or doubled");
    assert!(a == b, "the store after kills and a final run equals reading the log");
    let replayed = cluster.mailtrace(&["replay"], &[]);
    assert!(
        replayed.stdout == std::fs::read(&log).unwrap(),
        "every line kept once, in order"
    );
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn a_search_with_a_shard_down_names_it_or_answers_partially_when_asked() {
    let Some(shards) = shards() else { return };
    let db = "mt_shard_down";
    let client = dropped(&shards[0], db);
    // `mt_cluster_down` (scripts/clickhouse-cluster.sh): the first shard, and one nobody answers
    let down = format!("clickhouse://{}/{db}?cluster=mt_cluster_down", shards[0]);
    let local = format!("clickhouse://{}/{db}", shards[0]);
    let run = |store: &str, args: &[&str]| Command::new(BIN).args(args).args(["--store", store]).output().unwrap();
    let init = run(&down, &["store", "init", "--shard", &local]);
    assert_eq!(init.status.code(), Some(0), "{}", String::from_utf8_lossy(&init.stderr));
    // the rows go straight into the first shard's table
    let dir = tempfile::tempdir().unwrap();
    let log = testdata("clickhouse/two-hosts.log");
    let state = dir.path().join("state");
    let indexed = run(
        &local,
        &[
            "index",
            "--year",
            "2026",
            "--timezone",
            "UTC",
            "--state",
            state.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        indexed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&indexed.stderr)
    );
    let dead = "clickhouse://default@127.0.0.1:9/mt_shard_down";
    client
        .run(
            &format!(
                "INSERT INTO {db}.meta (key, value, version) VALUES ('shards', '[\"{}\",\"{dead}\"]', {})",
                Location::parse(&local).unwrap(),
                u64::MAX / 2
            ),
            false,
        )
        .unwrap();
    // without --partial: an error that names the shard and says what to do
    let failed = run(&down, &["search", "--format", "ndjson"]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{err}");
    assert!(err.contains(dead) && err.contains("--partial"), "{err}");
    // with it: the rows of the shard that answers, and a warning naming the other
    let partial = run(&down, &["search", "--format", "ndjson", "--partial"]);
    let warn = String::from_utf8_lossy(&partial.stderr);
    assert_eq!(partial.status.code(), Some(0), "{warn}");
    assert!(warn.contains(dead) && warn.contains("left out"), "{warn}");
    let all = Command::new(BIN)
        .args([
            "search",
            "--format",
            "ndjson",
            "--year",
            "2026",
            "--timezone",
            "UTC",
            "--log",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(partial.stdout, all.stdout, "the first shard holds every row here");
}

/// `GET url`: the status and the body.
fn http_get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut res = agent.get(url).call().unwrap();
    (res.status().as_u16(), res.body_mut().read_to_string().unwrap())
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn follow_writes_into_the_cluster_and_serve_answers_as_from_the_embedded_store() {
    let Some(cluster) = Cluster::new("follow_serve") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(testdata("clickhouse/two-hosts.log")).unwrap();
    let lines: Vec<&[u8]> = whole.split_inclusive(|&b| b == b'\n').collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let log = dir.path().join("mail.log");
    std::fs::write(&log, first.concat()).unwrap();
    let state = dir.path().join("state");
    let follower = common::web::Running(
        Command::new(BIN)
            .args(["follow", "--interval", "0.2", "--year", "2026", "--timezone", "UTC"])
            .args(["--store", &cluster.url(), "--state", state.to_str().unwrap()])
            .arg(&log)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // the follower catches up with the file as it grows: the store answers as the log does
    let search = |store: &[&str]| {
        let out = Command::new(BIN)
            .args(["search", "--format", "ndjson", "--year", "2026", "--timezone", "UTC"])
            .args(store)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let wait_for = |step: &str| {
        let expected = search(&["--log", log.to_str().unwrap()]);
        let started = std::time::Instant::now();
        loop {
            let got = search(&["--store", &cluster.url()]);
            if got == expected {
                return expected;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "{step}: the cluster did not catch up\nexpected:\n{expected}\ngot:\n{got}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    wait_for("first half");
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, &second.concat()).unwrap();
    drop(f);
    let everything = wait_for("whole file");
    drop(follower);
    // serve over the cluster answers as serve over an embedded store of the same log
    let embedded = dir.path().join("embedded");
    common::web::index(&embedded, std::slice::from_ref(&log));
    let (_a, from_cluster) = common::web::serve(Path::new(&cluster.url()), &[]);
    let (_b, from_embedded) = common::web::serve(&embedded, &[]);
    let rows: Vec<Row> = everything.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let delivered = rows
        .iter()
        .find(|r| r.status == "delivered" && r.queue_id.is_some())
        .unwrap();
    let to = delivered.to.clone().unwrap();
    let domain = to.rsplit_once('@').unwrap().1.to_string();
    let queue_id = delivered.queue_id.clone().unwrap();
    let mut paths = vec![
        "/api/search".to_string(),
        format!("/api/search?to={to}"),
        format!("/api/search?to=%40{domain}&limit=2"),
        format!("/api/search.csv?to=%40{domain}"),
        "/api/stats".to_string(),
        format!("/api/trace/{queue_id}"),
        "/api/trace/NOSUCHID".to_string(),
    ];
    paths.extend(rows.iter().step_by(9).map(|r| format!("/api/trace/{}", r.trace_id)));
    // the same answers, but for the store's name, and the hint of what the store holds, which
    // the cluster gives only when no row is found (it costs a scan there)
    let same = |(status, body): (u16, String), store: &str| {
        let body = body.replace(store, "STORE");
        match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(mut v) if v["rows"].as_array().is_some_and(|r| !r.is_empty()) => {
                v["hint"] = serde_json::Value::Null;
                (status, v.to_string())
            }
            _ => (status, body),
        }
    };
    let shown = Location::parse(&cluster.url()).unwrap().to_string();
    for path in &paths {
        let (a, b) = (
            same(http_get(&format!("{from_cluster}{path}")), &shown),
            same(http_get(&format!("{from_embedded}{path}")), embedded.to_str().unwrap()),
        );
        if a != b {
            let at = a.1.bytes().zip(b.1.bytes()).take_while(|(x, y)| x == y).count();
            let around = |t: &str| {
                t.get(at.saturating_sub(80)..(at + 200).min(t.len()))
                    .unwrap_or("")
                    .to_string()
            };
            panic!(
                "GET {path}: {} vs {}, from byte {at}:\ncluster:  {}\nembedded: {}",
                a.0,
                b.0,
                around(&a.1),
                around(&b.1)
            );
        }
    }
    let (status, page) = http_get(&format!("{from_cluster}/"));
    assert_eq!(status, 200);
    assert!(page.contains("<form"), "the page");
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn init_refuses_a_database_holding_another_store_format() {
    let Some(shards) = shards() else { return };
    let db = "mt_old_format";
    let client = dropped(&shards[0], db);
    client.run(&format!("CREATE DATABASE {db}"), false).unwrap();
    client
        .run(
            &format!(
                "CREATE TABLE {db}.meta (key String, value String, version UInt64) \
                 ENGINE = ReplacingMergeTree(version) ORDER BY key"
            ),
            false,
        )
        .unwrap();
    client
        .run(&format!("INSERT INTO {db}.meta VALUES ('format', '1', 1)"), false)
        .unwrap();
    let store = format!("clickhouse://{}/{db}", shards[0]);
    let init = Command::new(BIN)
        .args(["store", "init", "--store", &store])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&init.stderr);
    assert_eq!(init.status.code(), Some(2), "{err}");
    assert!(err.contains("format 1") && err.contains("another database"), "{err}");
    let search = Command::new(BIN).args(["search", "--store", &store]).output().unwrap();
    let err = String::from_utf8_lossy(&search.stderr);
    assert!(err.contains("has format 1"), "{err}");
}

/// Each server's log of the crafted path cases indexed into the cluster in a run of its own:
/// the rows link across servers as the central log's do.
#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn legs_indexed_server_by_server_link_in_the_cluster() {
    let Some(cluster) = Cluster::new("paths") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (mut expected, mut end_to_end) = (String::new(), String::new());
    for name in ["path-edge-to-mailbox", "path-outbound-and-exim", "path-message-id-join"] {
        let case = testdata(&format!("cases/{name}"));
        let split = dir.path().join(name);
        std::fs::create_dir(&split).unwrap();
        for file in common::by_host(&case.join("mail.log"), &split) {
            index(&cluster, &state, &[&file], &[]);
        }
        expected.push_str(&std::fs::read_to_string(case.join("expected.ndjson")).unwrap());
        end_to_end.push_str(&std::fs::read_to_string(case.join("end-to-end.ndjson")).unwrap());
    }
    let from_store = reading(Vec::new(), &cluster.url(), &state);
    assert_eq!(
        common::sorted_rows(&ndjson(&from_store, &Criteria::default(), None)),
        common::sorted_rows(&expected)
    );
    let whole = Criteria {
        end_to_end: true,
        ..Criteria::default()
    };
    assert_eq!(
        common::sorted_rows(&ndjson(&from_store, &whole, None)),
        common::sorted_rows(&end_to_end),
        "--end-to-end"
    );
    // the client where it arrived, the status where it ended
    let across = Criteria {
        client_ip: Some(mailtrace::query::IpFilter::parse("203.0.113.150").unwrap()),
        statuses: vec![mailtrace::trace::Status::Bounced],
        ..whole
    };
    let rows = ndjson(&from_store, &across, None);
    assert_eq!(rows.lines().count(), 1, "{rows}");
    assert!(
        rows.contains(r#""hops":["mx1:6D4E52CA12","mbox1:9D4E52D2B8"]"#),
        "{rows}"
    );
}

/// The generator's site (`examples/genpath.rs`), one server per `index` run into the cluster:
/// every path is rebuilt.
#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn every_generated_path_is_rebuilt_from_the_cluster() {
    let Some(cluster) = Cluster::new("genpath") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let truths = genpath::generate(&logs, 300, 11).unwrap();
    let files = genpath::logs(&logs).unwrap();
    for file in files.iter().rev() {
        index(&cluster, &state, &[file], &[]);
    }
    let from_store = reading(Vec::new(), &cluster.url(), &state);
    let rows = ndjson(&from_store, &Criteria::default(), None);
    let checked = genpath::check(&rows, &truths).unwrap_or_else(|e| panic!("{e}"));
    assert!(checked > 300, "{checked} paths");
    let whole = Criteria {
        end_to_end: true,
        ..Criteria::default()
    };
    let rows = ndjson(&from_store, &whole, None);
    genpath::check_end_to_end(&rows, &truths).unwrap_or_else(|e| panic!("--end-to-end: {e}"));
}
