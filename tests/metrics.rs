//! `/metrics` agrees with `stats` on the same input: from `serve` over a store that `index`
//! filled (also after indexing the same file again, which must count nothing twice), and live
//! from `follow --metrics`. The example alerts and dashboard in docs/metrics/ use only metrics
//! that exist.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sample day, and two lines of a program mailtrace reads that it does not understand.
fn log(dir: &Path) -> PathBuf {
    let mut text = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")).unwrap();
    text.extend_from_slice(
        b"Nov 24 23:59:01 mx1 postfix/smtpd[4242]: zorgle frobnicated the widget\n\
          Nov 24 23:59:02 mx1 postfix/smtpd[4242]: zorgle frobnicated it again\n",
    );
    let path = dir.join("mail.log");
    std::fs::write(&path, text).unwrap();
    path
}

fn mailtrace(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailtrace"));
    c.args(args).args(["--timezone", "UTC"]).env("MAILTRACE_CONFIG", "");
    c
}

fn stats(log: &Path) -> serde_json::Value {
    let out = mailtrace(&[
        "stats",
        "--format",
        "json",
        "--year",
        "2026",
        "--log",
        log.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The samples of a text exposition: name{labels} → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// The sum of a family's samples whose labels include `label` (`""`: all).
fn sum(s: &BTreeMap<String, f64>, name: &str, label: &str) -> f64 {
    s.iter()
        .filter(|(k, _)| k.split('{').next() == Some(name) && k.contains(label))
        .map(|(_, v)| v)
        .sum()
}

/// Metrics and stats tell the same: recipients by status (finished and in flight), messages,
/// lines, unrecognised lines by program.
fn agree(s: &BTreeMap<String, f64>, stats: &serde_json::Value) {
    for (status, n) in stats["statuses"].as_object().unwrap() {
        let label = format!("status=\"{status}\"");
        let metrics = sum(s, "mailtrace_recipients_total", &label) + sum(s, "mailtrace_in_flight_recipients", &label);
        assert_eq!(metrics, n.as_f64().unwrap(), "{status}");
    }
    let messages = sum(s, "mailtrace_messages_total", "") + sum(s, "mailtrace_in_flight_messages", "");
    assert_eq!(messages, stats["traces"].as_f64().unwrap());
    assert_eq!(s["mailtrace_lines_total"], stats["lines"].as_f64().unwrap());
    let mut unrecognised = 0.0;
    for (program, p) in stats["programs"].as_object().unwrap() {
        let n = p["unrecognised"].as_f64().unwrap();
        if n > 0.0 {
            assert_eq!(
                sum(
                    s,
                    "mailtrace_unrecognised_lines_total",
                    &format!("program=\"{program}\"")
                ),
                n
            );
            unrecognised += n;
        }
    }
    assert_eq!(unrecognised, 2.0);
    assert_eq!(sum(s, "mailtrace_unrecognised_lines_total", ""), unrecognised);
}

fn get(url: &str) -> String {
    let out = Command::new("curl").args(["-sf", url]).output().unwrap();
    assert!(out.status.success(), "GET {url} failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `cmd` and waits for the line on stderr that starts with `prefix`; returns the rest.
fn started(mut cmd: Command, prefix: &str) -> (Child, String) {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            let rest = rest.to_string();
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return (child, rest);
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no line starting with {prefix}");
}

/// `/metrics` of `serve` over `store` after indexing `log` into it `runs` times.
fn served_metrics(log: &Path, store: &Path, runs: usize) -> String {
    for _ in 0..runs {
        let out = mailtrace(&[
            "index",
            "--year",
            "2026",
            "--store",
            store.to_str().unwrap(),
            log.to_str().unwrap(),
        ])
        .output()
        .unwrap();
        assert!(out.status.success());
    }
    let (mut server, url) = started(
        mailtrace(&["serve", "--listen", "127.0.0.1:0", "--store", store.to_str().unwrap()]),
        "listening on ",
    );
    let text = get(&format!("{url}metrics"));
    server.kill().unwrap();
    server.wait().unwrap();
    text
}

#[test]
fn serve_metrics_agree_with_stats_and_reindexing_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let stats = stats(&log);
    let text = served_metrics(&log, &dir.path().join("store"), 2);
    let s = samples(&text);
    agree(&s, &stats);
    assert_eq!(s["mailtrace_store_days{tier=\"hot\"}"], 1.0);
    // rejects by reason class: every rejected recipient, each in one class
    assert_eq!(
        sum(&s, "mailtrace_rejects_total", ""),
        stats["statuses"]["rejected"].as_f64().unwrap()
    );
    assert_eq!(s["mailtrace_rejects_total{host=\"mx1\",reason=\"relay_denied\"}"], 3.0);
    assert_eq!(s["mailtrace_rejects_total{host=\"mx1\",reason=\"greylist\"}"], 1.0);
    // a histogram per delay part, over the same recipients
    for part in ["before_queue_manager", "in_queue", "connection_setup", "transmission"] {
        let count = s[&format!("mailtrace_delivery_delay_seconds_count{{part=\"{part}\"}}")];
        assert_eq!(
            s[&format!("mailtrace_delivery_delay_seconds_bucket{{part=\"{part}\",le=\"+Inf\"}}")],
            count
        );
        assert_eq!(count, 34.0);
    }
    assert!(text.contains("# TYPE mailtrace_delivery_delay_seconds histogram\n"));
}

#[test]
fn follow_metrics_agree_with_stats() {
    let dir = tempfile::tempdir().unwrap();
    let (log, store) = (log(dir.path()), dir.path().join("store"));
    let stats = stats(&log);
    let (mut follower, url) = started(
        mailtrace(&[
            "follow",
            "--year",
            "2026",
            "--interval",
            "0.2",
            "--metrics",
            "127.0.0.1:0",
            "--store",
            store.to_str().unwrap(),
            log.to_str().unwrap(),
        ]),
        "Metrics at ",
    );
    let begun = Instant::now();
    let s = loop {
        let s = samples(&get(&url));
        if s.get("mailtrace_lines_total") == stats["lines"].as_f64().as_ref() {
            break s;
        }
        assert!(
            begun.elapsed() < Duration::from_secs(30),
            "the follower did not catch up"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    follower.kill().unwrap();
    follower.wait().unwrap();
    agree(&s, &stats);
    assert_eq!(s["mailtrace_follow_behind_bytes"], 0.0);
    let committed = s["mailtrace_follow_last_commit_timestamp_seconds"];
    assert!((chrono::Utc::now().timestamp() as f64 - committed).abs() < 60.0);
}

/// Every metric the example alerts and the dashboard query is one mailtrace exports.
#[test]
fn the_examples_in_docs_use_metrics_that_exist() {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/metrics");
    let dir = tempfile::tempdir().unwrap();
    let text = served_metrics(&log(dir.path()), &dir.path().join("store"), 1);
    let mut exported: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    for follower in [
        "mailtrace_follow_behind_bytes",
        "mailtrace_follow_last_commit_timestamp_seconds",
    ] {
        exported.push(follower.to_string());
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(docs.join("grafana-dashboard.json")).unwrap()).unwrap();
    let alerts = std::fs::read_to_string(docs.join("alerts.yml")).unwrap();
    let mut used = Vec::new();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["expr"].as_str().unwrap().to_string())
        })
        .collect();
    exprs.extend(
        alerts
            .lines()
            .filter_map(|l| l.trim().strip_prefix("expr:"))
            .map(str::to_string),
    );
    assert!(exprs.len() >= 6, "{exprs:?}");
    for e in &exprs {
        for word in e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if let Some(base) = word.strip_prefix("mailtrace_") {
                let name = format!("mailtrace_{base}");
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .unwrap_or(&name)
                    .to_string();
                assert!(exported.contains(&family), "{name} (in {e}) is not exported");
                used.push(family);
            }
        }
    }
    assert!(used.len() >= 6);
}
