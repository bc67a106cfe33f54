//! Hostile log text (issue 20): `testdata/cases/hostile/mail.log` holds HTML and script in
//! a subject, a sender, a recipient and replies, terminal escapes (`ESC[2J`, `ESC]0;…BEL`,
//! `ESC[31m`), a C1 control (U+009B), carriage returns, NUL bytes and invalid UTF-8; a very
//! long line is made here. Each output is held to what docs/CLI.md ("Log text in the
//! outputs") promises: what a person reads (table, `show`, `stats`, `report`, `store info`,
//! errors) has every control character escaped, and keeps its columns; JSON, NDJSON and CSV
//! carry the text as logged (invalid UTF-8 as U+FFFD); HTML is escaped, controls dropped;
//! `replay` gives the bytes back. The page: `tests/web_browser.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

fn case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cases/hostile/mail.log")
}

/// `mailtrace ARGS --year 2026 --timezone UTC`, in the case's directory (so `show` names the
/// file `mail.log`).
fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(["--year", "2026", "--timezone", "UTC"])
        .current_dir(case().parent().unwrap())
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// stdout of a run that must exit 0, as text.
fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// No byte that could drive a terminal: C0 controls but newline, DEL, and C1 (U+0080–U+009F).
fn assert_inert(what: &str, text: &[u8]) {
    let s = String::from_utf8_lossy(text);
    let bad: Vec<char> = s.chars().filter(|&c| c.is_control() && c != '\n').collect();
    assert!(bad.is_empty(), "{what}: control characters {bad:?} in:\n{s}");
}

const SUBJECT_1: &str = "<script>window.__pwned=1</script>\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}[31mred\u{9b}31mC1\rover <img src=x onerror=\"document.title='pwned'\">";
const SUBJECT_2: &str = "nul\0here \u{fffd}\u{fffd} latin1 caf\u{fffd} raw C1 \u{fffd} end";
const SENDER_1: &str = "\"<img src=x onerror=window.__pwned=2>\"@attacker.example";
const BOUNCED_TO: &str = "\u{1b}[31mfw\u{1b}[0m@relay.example";
const BOUNCE: &str = "host mx.relay.example[192.0.2.40] said: 550 5.7.1 <script>window.__pwned=4</script> \u{1b}]0;gotcha\u{7}rejected\r (in reply to RCPT TO command)";

#[test]
fn the_table_escapes_control_characters_and_keeps_its_columns() {
    let text = stdout(&["search", "--log", "mail.log", "--format", "table"]);
    assert_inert("table", text.as_bytes());
    assert_eq!(text, TABLE);
    // every row's column rules at the same places as the header's
    let rules = |l: &str| -> Vec<usize> {
        l.chars()
            .enumerate()
            .filter(|(_, c)| matches!(c, '│' | '┆'))
            .map(|(i, _)| i)
            .collect()
    };
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('│')).collect();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        assert_eq!(rules(l), rules(lines[0]), "{l}");
    }
}

const TABLE: &str = r#"┌─────────────────────┬─────────────────────────────────────────────────────────┬─────────────────────────────────┬───────────┬────────────────────────────────────────────────┬────────────┬──────────────────────────────────────────────────────────────┐
│ Time (UTC)          ┆ Sender                                                  ┆ Recipient                       ┆ Status    ┆ Subject                                        ┆ Queue ID   ┆ Detail                                                       │
╞═════════════════════╪═════════════════════════════════════════════════════════╪═════════════════════════════════╪═══════════╪════════════════════════════════════════════════╪════════════╪══════════════════════════════════════════════════════════════╡
│ 2026-11-24 09:20:12 ┆ bytes@badbytes.example                                  ┆ victim@example.com              ┆ delivered ┆ nul\x00here �� latin1 caf� raw C1 � end        ┆ 2B3C4D5E6F ┆ 250 2.0.0 <victim@example.com> \x00\x00 Saved �              │
│ 2026-11-24 09:14:03 ┆ "<img src=x onerror=window.__pwned=2>"@attacker.example ┆ victim@example.com              ┆ delivered ┆ <script>window.__pwned=1</script>\x1b[2J\x1b]… ┆ 1A2B3C4D5E ┆ 250 2.0.0 <victim@example.com> Saved <b onmouseover=window.… │
│ 2026-11-24 09:14:03 ┆ "<img src=x onerror=window.__pwned=2>"@attacker.example ┆ \x1b[31mfw\x1b[0m@relay.example ┆ bounced   ┆ <script>window.__pwned=1</script>\x1b[2J\x1b]… ┆ 1A2B3C4D5E ┆ host mx.relay.example[192.0.2.40] said: 550 5.7.1 <script>w… │
└─────────────────────┴─────────────────────────────────────────────────────────┴─────────────────────────────────┴───────────┴────────────────────────────────────────────────┴────────────┴──────────────────────────────────────────────────────────────┘
3 rows
"#;

#[test]
fn show_escapes_control_characters() {
    let text = stdout(&["show", "1A2B3C4D5E", "--log", "mail.log"]);
    assert_inert("show", text.as_bytes());
    assert_eq!(text, SHOW);
    // NUL bytes: the line is read, counted and shown escaped
    let text = stdout(&["show", "2B3C4D5E6F", "--log", "mail.log"]);
    assert_inert("show", text.as_bytes());
    assert!(
        text.contains("\n  Subject:    nul\\x00here \u{fffd}\u{fffd} latin1 caf\u{fffd} raw C1 \u{fffd} end\n"),
        "{text}"
    );
    assert!(
        text.contains("\n      250 2.0.0 <victim@example.com> \\x00\\x00 Saved \u{fffd}\n"),
        "{text}"
    );
    assert!(text.contains("\nLog lines (8)\n"), "{text}");
    assert!(
        text.contains("\n  mail.log:16  Nov 24 09:20:13 mx1 postfix/lmtp[7104]: 2B3C4D5E6F: to=<victim@example.com>, relay=mx1.example.com[private/dovecot-lmtp], delay=0.9, delays=0.7/0.01/0.1/0.09, dsn=2.0.0, status=sent (250 2.0.0 <victim@example.com> \\x00\\x00 Saved \u{fffd})\n"),
        "{text}"
    );
}

const SHOW: &str = r#"Message 1A2B3C4D5E on mx1 (postfix), inbound
  Message-ID: <pwn-1@attacker.example>
  From:       "<img src=x onerror=window.__pwned=2>"@attacker.example
  Subject:    <script>window.__pwned=1</script>\x1b[2J\x1b]0;owned\x07\x1b[31mred\u{9b}31mC1\x0dover <img src=x onerror="document.title='pwned'">
  Size:       2210 bytes
  Client:     attacker.example[198.51.100.66] helo=attacker.example
  Time:       2026-11-24T09:14:03Z … 2026-11-24T09:14:05Z
  Action:     warning: header Subject: <script>window.__pwned=1</script>\x1b[2J\x1b]0;owned\x07\x1b[31mred\u{9b}31mC1\x0dover <img src=x onerror="document.title='pwned'">

Recipients
  victim@example.com  delivered  dsn=2.0.0  relay=mx1.example.com[private/dovecot-lmtp]
      250 2.0.0 <victim@example.com> Saved <b onmouseover=window.__pwned=3>x</b>\x1b[2K
      delay 1.1s = before queue manager 0.9s + in queue manager 0.01s + connection 0.1s + transmission 0.09s
  \x1b[31mfw\x1b[0m@relay.example  bounced  dsn=5.7.1  relay=mx.relay.example[192.0.2.40]:25
      host mx.relay.example[192.0.2.40] said: 550 5.7.1 <script>window.__pwned=4</script> \x1b]0;gotcha\x07rejected\x0d (in reply to RCPT TO command)
      delay 2.2s = before queue manager 0.9s + in queue manager 0.01s + connection 0.6s + transmission 0.7s

Log lines (9)
  mail.log:1  Nov 24 09:14:02 mx1 postfix/smtpd[7101]: connect from attacker.example[198.51.100.66]
  mail.log:2  Nov 24 09:14:03 mx1 postfix/smtpd[7101]: 1A2B3C4D5E: client=attacker.example[198.51.100.66]
  mail.log:3  Nov 24 09:14:03 mx1 postfix/cleanup[7102]: 1A2B3C4D5E: message-id=<pwn-1@attacker.example>
  mail.log:4  Nov 24 09:14:03 mx1 postfix/cleanup[7102]: 1A2B3C4D5E: warning: header Subject: <script>window.__pwned=1</script>\x1b[2J\x1b]0;owned\x07\x1b[31mred\u{9b}31mC1\x0dover <img src=x onerror="document.title='pwned'"> from attacker.example[198.51.100.66]; from=<"<img src=x onerror=window.__pwned=2>"@attacker.example> to=<victim@example.com> proto=ESMTP helo=<attacker.example>
  mail.log:5  Nov 24 09:14:03 mx1 postfix/qmgr[7103]: 1A2B3C4D5E: from=<"<img src=x onerror=window.__pwned=2>"@attacker.example>, size=2210, nrcpt=2 (queue active)
  mail.log:6  Nov 24 09:14:03 mx1 postfix/smtpd[7101]: disconnect from attacker.example[198.51.100.66] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6
  mail.log:7  Nov 24 09:14:04 mx1 postfix/lmtp[7104]: 1A2B3C4D5E: to=<victim@example.com>, relay=mx1.example.com[private/dovecot-lmtp], delay=1.1, delays=0.9/0.01/0.1/0.09, dsn=2.0.0, status=sent (250 2.0.0 <victim@example.com> Saved <b onmouseover=window.__pwned=3>x</b>\x1b[2K)
  mail.log:8  Nov 24 09:14:05 mx1 postfix/smtp[7105]: 1A2B3C4D5E: to=<\x1b[31mfw\x1b[0m@relay.example>, relay=mx.relay.example[192.0.2.40]:25, delay=2.2, delays=0.9/0.01/0.6/0.7, dsn=5.7.1, status=bounced (host mx.relay.example[192.0.2.40] said: 550 5.7.1 <script>window.__pwned=4</script> \x1b]0;gotcha\x07rejected\x0d (in reply to RCPT TO command))
  mail.log:9  Nov 24 09:14:05 mx1 postfix/qmgr[7103]: 1A2B3C4D5E: removed
"#;

#[test]
fn json_and_ndjson_keep_the_text_as_logged() {
    let ndjson = stdout(&["search", "--log", "mail.log", "--format", "ndjson"]);
    let rows: Vec<Value> = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let json: Value = serde_json::from_str(&stdout(&["search", "--log", "mail.log", "--format", "json"])).unwrap();
    assert_eq!(json, Value::Array(rows.clone()));
    let field = |i: usize, k: &str| rows[i][k].as_str().unwrap().to_string();
    assert_eq!(field(0, "subject"), SUBJECT_2);
    assert_eq!(
        field(0, "response"),
        "250 2.0.0 <victim@example.com> \0\0 Saved \u{fffd}"
    );
    assert_eq!(field(1, "subject"), SUBJECT_1);
    assert_eq!(field(1, "from"), SENDER_1);
    assert_eq!(
        field(1, "response"),
        "250 2.0.0 <victim@example.com> Saved <b onmouseover=window.__pwned=3>x</b>\u{1b}[2K"
    );
    assert_eq!(field(2, "to"), BOUNCED_TO);
    assert_eq!(field(2, "response"), BOUNCE);
    // JSON escapes the C0 controls: no raw ESC, CR or NUL on the line
    assert!(!ndjson.bytes().any(|b| b < 0x20 && b != b'\n'), "{ndjson}");
    // `show --format json`: the timeline's lines as logged
    let shown: Value = serde_json::from_str(&stdout(&[
        "show",
        "1A2B3C4D5E",
        "--log",
        "mail.log",
        "--format",
        "json",
    ]))
    .unwrap();
    let text = shown.to_string();
    let escaped = serde_json::to_string(SUBJECT_1).unwrap();
    assert!(text.contains(escaped.trim_matches('"')), "{text}");
}

#[test]
fn csv_is_valid_and_keeps_the_text_as_logged() {
    let text = stdout(&["search", "--log", "mail.log", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(&records[0][col("subject")], SUBJECT_2);
    assert_eq!(&records[1][col("subject")], SUBJECT_1);
    assert_eq!(&records[1][col("from")], SENDER_1);
    assert_eq!(&records[2][col("to")], BOUNCED_TO);
    // a reply holding a carriage return is quoted, so the CR stays inside its cell
    assert_eq!(&records[2][col("response")], BOUNCE);
}

#[test]
fn the_reports_escape_log_text() {
    let window = ["--since", "2026-11-24", "--until", "2026-11-25"];
    let mut args = vec!["report", "--log", "mail.log"];
    args.extend(window);
    let text = stdout(&args);
    assert_inert("report", text.as_bytes());
    assert!(
        text.contains("\n        1  \\x1b[31mfw\\x1b[0m@relay.example\n"),
        "{text}"
    );
    assert!(
        text.contains("\n        1  \"<img src=x onerror=window.__pwned=2>\"@attacker.example\n"),
        "{text}"
    );
    args.extend(["--format", "html"]);
    let html = stdout(&args);
    assert_inert("report --format html", html.as_bytes());
    for tag in ["<script", "<img", "<b "] {
        assert!(!html.contains(tag), "{tag} in the report:\n{html}");
    }
    // escaped, controls dropped
    assert!(
        html.contains(">1 &quot;&lt;img src=x onerror=window.__pwned=2&gt;&quot;@attacker.example</text>"),
        "{html}"
    );
    assert!(html.contains(">1 [31mfw[0m@relay.example</text>"), "{html}");
}

#[test]
fn stats_store_info_and_errors_escape_log_text() {
    let stats = stdout(&["stats", "--log", "mail.log"]);
    assert_inert("stats", stats.as_bytes());
    assert!(stats.starts_with("Lines read:        17 (2621 bytes)\n"), "{stats}");
    // an id pasted with its escapes
    let out = run(&["show", "\u{1b}[2J1A2B", "--log", "mail.log"]);
    assert_eq!(out.status.code(), Some(1));
    assert_inert("show's answer", &out.stdout);
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("No message with queue id, Message-ID or trace id '\\x1b[2J1A2B'."));
    // an error naming a file
    let out = run(&["search", "--log", "missing-\u{1b}]0;x\u{7}.log"]);
    assert_eq!(out.status.code(), Some(2));
    assert_inert("error", &out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing-\\x1b]0;x\\x07.log"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_store_answers_the_same_and_replays_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let out = run(&["index", "--store", store, "mail.log"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_inert("index's summary", &out.stderr);
    let from_log = stdout(&["search", "--log", "mail.log", "--format", "ndjson"]);
    assert_eq!(stdout(&["search", "--store", store, "--format", "ndjson"]), from_log);
    assert_eq!(stdout(&["search", "--store", store, "--format", "table"]), TABLE);
    // `replay` gives the bytes read back, NUL and invalid UTF-8 included
    let replay = Command::new(BIN).args(["replay", "--store", store]).output().unwrap();
    assert_eq!(replay.stdout, std::fs::read(case()).unwrap());
    let info = Command::new(BIN)
        .args(["store", "info", "--store", store])
        .output()
        .unwrap();
    assert_eq!(info.status.code(), Some(0));
    assert_inert("store info", &info.stdout);
}

/// A 190 kB subject and a 10 kB address: read whole (no quadratic cost: the test would time
/// out), the line on the message's timeline, the text intact in JSON, cut in the table.
#[test]
fn a_very_long_line_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let subject = "A\u{1b}[7m long subject ".repeat(10_000).trim_end().to_string();
    assert_eq!(subject.len(), 189_999);
    let local = "x".repeat(10_000);
    let addr = format!("{local}@long.example");
    let log = dir.path().join("mail.log");
    let lines = [
        "Nov 24 10:00:01 mx1 postfix/smtpd[7201]: 3C4D5E6F7A: client=long.example[192.0.2.77]".to_string(),
        format!("Nov 24 10:00:01 mx1 postfix/cleanup[7202]: 3C4D5E6F7A: warning: header Subject: {subject} from long.example[192.0.2.77]; from=<{addr}> to=<victim@example.com> proto=ESMTP helo=<long.example>"),
        format!("Nov 24 10:00:01 mx1 postfix/qmgr[7203]: 3C4D5E6F7A: from=<{addr}>, size=1000, nrcpt=1 (queue active)"),
        "Nov 24 10:00:02 mx1 postfix/lmtp[7204]: 3C4D5E6F7A: to=<victim@example.com>, relay=mx1.example.com[private/dovecot-lmtp], delay=0.5, delays=0.3/0.01/0.1/0.09, dsn=2.0.0, status=sent (250 2.0.0 Saved)".to_string(),
        "Nov 24 10:00:02 mx1 postfix/qmgr[7203]: 3C4D5E6F7A: removed".to_string(),
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let log = log.to_str().unwrap();
    let rows = stdout(&["search", "--log", log, "--format", "ndjson"]);
    let row: Value = serde_json::from_str(rows.trim_end()).unwrap();
    assert_eq!(row["subject"].as_str().unwrap(), subject);
    assert_eq!(row["from"].as_str().unwrap(), addr);
    assert_eq!(row["status"], "delivered");
    let shown = stdout(&["show", "3C4D5E6F7A", "--log", log]);
    assert_inert("show", shown.as_bytes());
    assert!(shown.contains("\nLog lines (5)\n"), "{}", &shown[..2000]);
    assert!(shown.contains(&format!(
        " 3C4D5E6F7A: warning: header Subject: {}",
        subject.replace('\u{1b}', "\\x1b")
    )));
    let table = stdout(&["search", "--log", log, "--format", "table"]);
    assert_inert("table", table.as_bytes());
    assert!(table.lines().all(|l| l.chars().count() < 11_000), "{table}");
}
