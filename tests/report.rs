//! `mailtrace report`: its counts agree with `stats` and `search` over the sample day, the
//! store and the log give the same report, and log text cannot become markup in the HTML.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")
}

fn mailtrace(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .args(["--timezone", "UTC"])
        .env("MAILTRACE_CONFIG", "")
        .output()
        .unwrap()
}

const DAY: [&str; 4] = ["--since", "2026-11-24", "--until", "2026-11-25"];

fn report(source: &[&str], extra: &[&str]) -> (i32, String) {
    let mut args = vec!["report"];
    args.extend(source);
    args.extend(DAY);
    args.extend(extra);
    let out = mailtrace(&args);
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

fn from_log(log: &Path) -> Vec<&str> {
    vec!["--year", "2026", "--log", log.to_str().unwrap()]
}

#[test]
fn the_report_of_the_sample_day_agrees_with_stats_and_search() {
    let log = sample();
    let (code, json) = report(&from_log(&log), &["--format", "json"]);
    assert_eq!(code, 0);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let stats: serde_json::Value = serde_json::from_slice(
        &mailtrace(&[
            "stats",
            "--format",
            "json",
            "--year",
            "2026",
            "--log",
            log.to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(r["messages"], stats["traces"]);
    assert_eq!(r["recipients"], 46);
    for s in r["statuses"].as_array().unwrap() {
        assert_eq!(s["count"], stats["statuses"][s["name"].as_str().unwrap()], "{s}");
    }
    // every hour of the day, quiet ones at 0, summing to the messages
    let hours = r["per_hour"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(hours[3], serde_json::json!(["2026-11-24T03:00:00Z", 0]));
    assert_eq!(hours.iter().map(|h| h[1].as_u64().unwrap()).sum::<u64>(), 34);
    // each rejected recipient in one reason class
    let rejects: u64 = r["rejects_by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["count"].as_u64().unwrap())
        .sum();
    assert_eq!(rejects, stats["statuses"]["rejected"].as_u64().unwrap());
    // the top recipient is the one `search` finds most often
    assert_eq!(
        r["top_recipients"][0],
        serde_json::json!({"name": "marco.rossi@example.com", "count": 8})
    );
    let rows = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--to",
        "marco.rossi@example.com",
        "--year",
        "2026",
        "--log",
        log.to_str().unwrap(),
    ]);
    assert_eq!(String::from_utf8_lossy(&rows.stdout).lines().count(), 8);

    let (_, text) = report(&from_log(&log), &["--top", "3"]);
    assert!(text.starts_with("Mail report, 2026-11-24 00:00 to 2026-11-25 00:00 (UTC)\n\n       34  messages\n       46  recipients\n       27    delivered\n"), "{text}");
    for section in [
        "Top recipients\n        8  marco.rossi@example.com\n        4  accounts@example.com\n        4  tomas.novak@example.com\n",
        "Rejects by reason\n        3  relay_denied\n        1  greylist\n        1  policy\n        1  rbl\n        1  spam\n        1  unknown_user\n",
        "Deferrals by reply\n        1  host mx.fourthcoffee.example[…] said: 421 4.7.0 Try again later, closing connection. (in reply to MAIL FROM command)\n",
        "  2026-11-24 03:00       0  \n",
    ] {
        assert!(text.contains(section), "{section} missing in\n{text}");
    }
}

#[test]
fn the_store_gives_the_report_the_log_gives() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = mailtrace(&[
        "index",
        "--year",
        "2026",
        "--store",
        store.to_str().unwrap(),
        sample().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let (_, from_store) = report(&["--store", store.to_str().unwrap()], &["--format", "json"]);
    let (_, from_log) = report(&from_log(&sample()), &["--format", "json"]);
    assert_eq!(from_store, from_log);
    // nothing in the window: exit 1, and a report of zeros
    let out = mailtrace(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--since",
        "2026-01-01",
        "--until",
        "2026-01-02",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("        0  messages"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no message in the window"));
}

#[test]
fn log_text_in_the_html_report_is_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    let mut f = std::fs::File::create(&log).unwrap();
    f.write_all(
        b"Nov 24 10:00:01 mx1 postfix/pickup[1]: 1A2B3C4D5E: uid=33 from=<x\"onmouseover=\"alert(1)@evil.example>\n\
          Nov 24 10:00:01 mx1 postfix/cleanup[2]: 1A2B3C4D5E: message-id=<m1@evil.example>\n\
          Nov 24 10:00:01 mx1 postfix/qmgr[3]: 1A2B3C4D5E: from=<x\"onmouseover=\"alert(1)@evil.example>, size=100, nrcpt=1 (queue active)\n\
          Nov 24 10:00:02 mx1 postfix/smtp[4]: 1A2B3C4D5E: to=<bob@victim.example>, relay=mx.victim.example[192.0.2.9]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=5.0.0, status=bounced (host mx.victim.example[192.0.2.9] said: 550 go away & <script>alert(1)</script> now (in reply to RCPT TO command))\n\
          Nov 24 10:00:02 mx1 postfix/qmgr[3]: 1A2B3C4D5E: removed\n",
    )
    .unwrap();
    let (code, html) = report(&from_log(&log), &["--format", "html"]);
    assert_eq!(code, 0);
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("\"onmouseover"), "{html}");
    assert!(
        html.contains("x&quot;onmouseover=&quot;alert(1)@evil.example"),
        "{html}"
    );
    assert!(
        html.contains("550 go away &amp; &lt;…&gt;alert(1)&lt;…&gt; now"),
        "{html}"
    );
}
