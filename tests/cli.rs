//! The binary as a script sees it: formats, criteria, exit codes.

use std::io::Write;
use std::process::Command;

const LOG: &str = "\
Nov 10 00:04:42 mx1 postfix/smtpd[1]: B50A137CE74: client=mout.gmx.net[212.227.17.229]
Nov 10 00:04:44 mx1 postfix/cleanup[2]: B50A137CE74: message-id=<m1@gmx.de>
Nov 10 00:04:44 mx1 postfix/cleanup[2]: B50A137CE74: warning: header Subject: Quarterly report Q3 from mout.gmx.net[212.227.17.229]; from=<clara@gmx.de> to=<ines@example.com> proto=ESMTP helo=<mout.gmx.net>
Nov 10 00:04:44 mx1 postfix/qmgr[3]: B50A137CE74: from=<clara@gmx.de>, size=9304, nrcpt=2 (queue active)
Nov 10 00:04:45 mx1 postfix/lmtp[4]: B50A137CE74: to=<ines@example.com>, relay=mx1[private/dovecot-lmtp], delay=0.11, delays=0.05/0.01/0/0.05, dsn=2.0.0, status=sent (250 2.0.0 <ines@example.com> Saved)
Nov 10 00:04:45 mx1 postfix/lmtp[4]: B50A137CE74: to=<bob@example.com>, relay=mx1[private/dovecot-lmtp], delay=0.11, delays=0.05/0.01/0/0.05, dsn=5.2.2, status=bounced (host mx1[private/dovecot-lmtp] said: 552 5.2.2 <bob@example.com> Quota exceeded (in reply to end of DATA command))
Nov 10 00:04:45 mx1 postfix/qmgr[3]: B50A137CE74: removed
Nov 10 00:08:21 mx1 postfix/smtpd[5]: NOQUEUE: reject: RCPT from unknown[91.104.101.16]: 554 5.7.1 <oscar@qq.com>: Relay access denied; from=<promo@spam.ru> to=<oscar@qq.com> proto=ESMTP helo=<spam.ru>
";

fn mailtrace(args: &[&str]) -> (i32, String, String) {
    let out = mailtrace_on(LOG, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The binary with `args`, reading `log` (year 2026, UTC).
fn mailtrace_on(log: &str, args: &[&str]) -> std::process::Output {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(log.as_bytes()).unwrap();
    let path = f.path().to_str().unwrap().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--log", &path, "--year", "2026", "--timezone", "UTC"]);
    Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(&all)
        .output()
        .unwrap()
}

/// The binary with `args` on the store `store`.
fn in_store(store: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .args(["--store", store.to_str().unwrap()])
        .output()
        .unwrap()
}

#[test]
fn search_criteria_and_exit_codes() {
    let (code, out, _) = mailtrace(&["search", "--format", "ndjson"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3);

    let (code, out, _) = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--to",
        "@example.com",
        "--status",
        "bounced",
    ]);
    assert_eq!(code, 0);
    let row: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(row["to"], "bob@example.com");
    assert_eq!(row["dsn"], "5.2.2");
    assert_eq!(row["subject"], "Quarterly report Q3");
    assert_eq!(row["direction"], "inbound");

    let (code, out, _) = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--subject",
        "quarterly",
        "q3",
        "--from",
        "*@GMX.de",
    ]);
    assert_eq!((code, out.lines().count()), (0, 2));
    let (code, out, _) = mailtrace(&["search", "--format", "ndjson", "--client-ip", "91.104.0.0/16"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"status\":\"rejected\"") && out.contains("\"queue_id\":null"));
    let (code, out, _) = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--message-id",
        "<m1@gmx.de>",
        "--since",
        "2026-11-10 00:00",
        "--until",
        "2026-11-10T00:05:00Z",
    ]);
    assert_eq!((code, out.lines().count()), (0, 2));

    let (code, out, _) = mailtrace(&["search", "--format", "ndjson", "--to", "nobody@example.com"]);
    assert_eq!((code, out.as_str()), (1, ""));
    let (code, _, err) = mailtrace(&["search", "--client-ip", "not-an-ip"]);
    assert_eq!(code, 2);
    assert!(err.contains("not an IP address"), "{err}");
    // times as people say them; a window that ends before it starts; a duration with no unit
    let (code, out, _) = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--now",
        "2026-11-10T02:00:00Z",
        "--since",
        "2 hours ago",
        "--until",
        "now",
    ]);
    assert_eq!((code, out.lines().count()), (0, 3), "{out}");
    let (code, out, _) = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--now",
        "2026-11-11T02:00:00Z",
        "--since",
        "today",
    ]);
    assert_eq!((code, out.lines().count()), (1, 0), "{out}");
    let (code, _, err) = mailtrace(&["search", "--since", "2026-11-11", "--until", "2026-11-10"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--until: the window ends (2026-11-10T00:00:00Z) before it starts"),
        "{err}"
    );
    let (code, out, _) = mailtrace(&["search", "--format", "table", "--to", "example.com"]);
    assert_eq!(code, 1);
    assert!(out.contains("give --to @example.com"), "{out}");
    let (code, _, err) = mailtrace(&["search", "--last", "24"]);
    assert_eq!(code, 2);
    assert!(err.contains("'24' has no unit: say 24h"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["search", "--log", "/nonexistent/mail.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/mail.log"));
}

#[test]
fn formats() {
    let (code, out, _) = mailtrace(&["search", "--format", "csv"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("time,last_time,host,mta,queue_id,queue_ids,message_id,from,header_from,to,orig_to,status,")
    );
    assert_eq!(out.lines().count(), 4);
    let (_, out, _) = mailtrace(&["search", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 3);
    let (_, out, _) = mailtrace(&["search", "--format", "table", "--limit", "1"]);
    assert!(out.contains("1 rows shown, 2 more not shown"), "{out}");
    let (code, out, _) = mailtrace(&["show", "B50A137CE74"]);
    assert_eq!(code, 0);
    assert!(out.contains("Message B50A137CE74 on mx1"));
    assert!(out.contains("Log lines (7)"));
    assert!(out.contains("status=bounced (host mx1[private/dovecot-lmtp] said"));
    let (code, _, _) = mailtrace(&["show", "NOPE12345"]);
    assert_eq!(code, 1);
    let (code, out, _) = mailtrace(&["stats"]);
    assert_eq!(code, 0);
    assert!(out.contains("Lines read:        8"), "{out}");
}

#[test]
fn config_file_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, LOG).unwrap();
    let cfg = dir.path().join("mailtrace.toml");
    std::fs::write(&cfg, "timezone = \"Europe/Berlin\"\nlocal_domains = [\"gmx.de\"]\n").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "search",
            "--format",
            "ndjson",
            "--year",
            "2026",
            "--log",
            log.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_mailtrace"))
            .args(&args)
            .output()
            .unwrap()
    };
    let out = run(&["--config", cfg.to_str().unwrap(), "--to", "ines@example.com"]);
    assert_eq!(out.status.code(), Some(0));
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 00:04:42 in Berlin (CET) is 23:04:42 UTC the day before
    assert_eq!(row["time"], "2026-11-09T23:04:42Z");
    // the flag overrides the file's zone
    let out = run(&[
        "--config",
        cfg.to_str().unwrap(),
        "--timezone",
        "UTC",
        "--to",
        "ines@example.com",
    ]);
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["time"], "2026-11-10T00:04:42Z");

    std::fs::write(&cfg, "local_domain = [\"typo\"]\n").unwrap();
    let out = run(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not valid"));
}

#[test]
fn index_then_search_the_store_with_its_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, LOG).unwrap();
    let gz = dir.path().join("mail.log.2.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let store = dir.path().join("store");
    let run = |args: &[&str]| {
        let out = in_store(&store, args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&["search", "--to", "bob@example.com"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no mailtrace store") && err.contains("mailtrace index"),
        "{err}"
    );

    let (code, _, err) = run(&[
        "index",
        "--year",
        "2026",
        "--timezone",
        "UTC",
        gz.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "a damaged file: {err}");
    assert!(err.contains("damaged") && err.contains("gzip"), "{err}");
    assert!(err.contains("Indexed 8 lines"), "{err}");

    let (code, out, _) = run(&["search", "--format", "ndjson"]);
    assert_eq!((code, out.lines().count()), (0, 3));
    let (code, out, _) = run(&["search", "--format", "ndjson", "--subject", "quarterly report"]);
    assert_eq!((code, out.lines().count()), (0, 2));
    let (code, out, _) = run(&["show", "B50A137CE74"]);
    assert_eq!(code, 0);
    assert!(out.contains("Log lines (7)") && out.contains("mail.log:"), "{out}");
    let (code, out, _) = run(&["store", "info"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Hot tier: 1 day (2026-11-10 … 2026-11-10), 3 rows, 2 messages"),
        "{out}"
    );

    // indexing again reads nothing new; the JSON summary says so
    let (code, out, _) = run(&["index", "--format", "json", "--year", "2026", log.to_str().unwrap()]);
    assert_eq!(code, 0);
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["files"][0]["outcome"], "unchanged");

    // a replay that prints nothing says why on stderr
    let (code, out, err) = run(&["replay", "--since", "2020-01-01", "--until", "2020-01-02"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("replay: no log line matched.") && err.contains("holds messages received 2026-11-10"),
        "{err}"
    );

    // a file that is no mail log (the wrong file given) is said so, and the run is partial
    let passwd = dir.path().join("passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/bin/false\n",
    )
    .unwrap();
    let (code, _, err) = run(&["index", passwd.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("passwd: no mail log line among its 2 lines (none is a syslog line)"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["search", "--to", "a@b.example", "--log", passwd.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is it the mail log"));

    // one writer at a time
    let lock = std::fs::File::open(store.join("lock")).unwrap();
    lock.lock().unwrap();
    let (code, _, err) = run(&["index", log.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("another `mailtrace index`"), "{err}");
    // `maintain` beside a writer leaves its windows for the writer to apply
    let (code, out, err) = run(&[
        "maintain",
        "--hot-days",
        "4",
        "--archive-days",
        "40",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["left_to_writer"], true);
    assert_eq!(report["archived"], serde_json::json!([]));
    assert_eq!(
        std::fs::read_to_string(store.join("tiers.json")).unwrap(),
        "{\"hot_days\": 4, \"archive_days\": 40}\n"
    );
    let (code, text, err) = run(&["maintain"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("the windows (10 days hot, 90 days kept) are saved"),
        "{text}"
    );
    drop(lock);

    // a directory that is not a store is not written into
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["index", "--store", other.to_str().unwrap(), log.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a mailtrace store"));
}

/// Exim's own main log names no host: `--default-host` gives its messages one (the `host`
/// column and the trace ids); lines that name their host keep it.
#[test]
fn default_host_for_a_main_log() {
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/exim/overview/mail.log");
    let rows = |extra: &[&str]| -> Vec<serde_json::Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
            .args(["search", "--format", "ndjson", "--timezone", "UTC", "--log", log])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let bare = rows(&[]);
    assert!(
        !bare.is_empty()
            && bare
                .iter()
                .all(|r| r["host"] == "" && r["trace_id"].as_str().unwrap().starts_with(':'))
    );
    let named = rows(&["--default-host", "mx9"]);
    assert_eq!(named.len(), bare.len());
    assert!(named
        .iter()
        .all(|r| r["host"] == "mx9" && r["trace_id"].as_str().unwrap().starts_with("mx9:")));
    // a syslog line names its host: the default does not replace it
    let (_, out, _) = mailtrace(&["search", "--format", "ndjson", "--default-host", "mx9"]);
    assert!(out.lines().all(|l| l.contains("\"host\":\"mx1\"")), "{out}");
}

/// Log text is data: a subject or line holding terminal escapes reaches the table, `show` and
/// `stats` as visible `\x1b`, never as the control code; JSON keeps the text as logged.
#[test]
fn terminal_escapes_in_log_text_are_neutralised() {
    let log = "\
Nov 10 00:04:42 mx1 postfix/smtpd[1]: C60B248DF85: client=evil.example[192.0.2.66]
Nov 10 00:04:44 mx1 postfix/cleanup[2]: C60B248DF85: warning: header Subject: \u{1b}[2J\u{1b}]0;owned\u{7}hi\r from evil.example[192.0.2.66]; from=<a@evil.example> to=<ines@example.com> proto=ESMTP helo=<evil.example>
Nov 10 00:04:44 mx1 postfix/qmgr[3]: C60B248DF85: from=<a@evil.example>, size=100, nrcpt=1 (queue active)
Nov 10 00:04:45 mx1 postfix/qmgr[3]: C60B248DF85: \u{1b}[31mnot a postfix shape\u{9b}0m
";
    let run = |args: &[&str]| mailtrace_on(log, args).stdout;
    for args in [&["search"][..], &["show", "C60B248DF85"], &["stats"]] {
        let out = run(args);
        let text = String::from_utf8_lossy(&out);
        assert!(
            !out.iter().any(|&b| b == 0x1b || b == 0x07 || b == b'\r') && !text.contains('\u{9b}'),
            "{args:?} printed a control code:\n{text}"
        );
    }
    let shown = String::from_utf8(run(&["show", "C60B248DF85"])).unwrap();
    assert!(shown.contains("\\x1b[2J\\x1b]0;owned\\x07hi\\x0d"), "{shown}");
    let json = run(&["search", "--format", "ndjson"]);
    let row: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(row["subject"], "\u{1b}[2J\u{1b}]0;owned\u{7}hi\r");
}

/// `store info` names each file read as it is called now: renamed by a rotation (and read
/// again under that name, or not), compressed, or gone.
#[test]
fn store_info_names_the_files_as_they_are_now() {
    let dir = tempfile::tempdir().unwrap();
    let (store, log) = (dir.path().join("store"), dir.path().join("mail.log"));
    let run = |args: &[&str]| {
        let out = in_store(&store, args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let files = || -> Vec<String> {
        run(&["store", "info"])
            .lines()
            .skip_while(|l| !l.starts_with("Files read"))
            .skip(1)
            .map(|l| {
                l.split("  up to")
                    .next()
                    .unwrap()
                    .trim()
                    .replace(dir.path().to_str().unwrap(), "")
            })
            .collect()
    };
    let (first, second) = LOG.split_at(LOG.find("Nov 10 00:08:21").unwrap());
    std::fs::write(&log, first).unwrap();
    run(&["index", "--year", "2026", log.to_str().unwrap()]);
    assert_eq!(files(), ["/mail.log"]);
    let rotated = dir.path().join("mail.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    std::fs::write(&log, second).unwrap();
    assert_eq!(files(), ["/mail.log.1 (read as /mail.log)"]);
    run(&[
        "index",
        "--year",
        "2026",
        rotated.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(files(), ["/mail.log.1", "/mail.log"]);
    let status = Command::new("gzip").arg(&rotated).status().unwrap();
    assert!(status.success());
    assert_eq!(files(), ["/mail.log.1.gz (read as /mail.log.1)", "/mail.log"]);
    let json: serde_json::Value = serde_json::from_str(&run(&["store", "info", "--format", "json"])).unwrap();
    assert_eq!(
        json["files"][0]["now_at"].as_str().unwrap(),
        dir.path().join("mail.log.1.gz").to_str().unwrap()
    );
    std::fs::remove_file(dir.path().join("mail.log.1.gz")).unwrap();
    assert_eq!(files(), ["/mail.log.1 (no longer there)", "/mail.log"]);
    let json: serde_json::Value = serde_json::from_str(&run(&["store", "info", "--format", "json"])).unwrap();
    assert_eq!(json["files"][0]["now_at"], serde_json::Value::Null);
}

/// A time window that misses everything read says what was there, from the files and from
/// the store.
#[test]
fn a_window_outside_what_is_held_says_so() {
    let out = mailtrace_on(LOG, &["search", "--format", "table", "--since", "2026-12-01"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "No messages matched. The window asked, 2026-12-01 00:00 to … (UTC), is after anything in the files read: \
         2026-11-10 00:04 to 2026-11-10 00:08. Check the time range (BSD timestamps have no year: see --year) and the criteria."
    );
    let dir = tempfile::tempdir().unwrap();
    let (store, log) = (dir.path().join("store"), dir.path().join("mail.log"));
    std::fs::write(&log, LOG).unwrap();
    let mailtrace = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mailtrace"))
            .args(args)
            .args(["--store", store.to_str().unwrap(), "--timezone", "UTC"])
            .output()
            .unwrap()
    };
    assert!(mailtrace(&["index", "--year", "2026", log.to_str().unwrap()])
        .status
        .success());
    let out = mailtrace(&["search", "--format", "table", "--until", "2026-11-01"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "No messages matched. The window asked, … to 2026-11-01 00:00 (UTC), is before anything in the store: \
             2026-11-10 00:00 to 2026-11-10 23:59."
        ),
        "{text}"
    );
}

/// CSV is for spreadsheets: log text that a spreadsheet would run as a formula is written as
/// text (a leading `'`); ndjson keeps it as logged.
#[test]
fn csv_cells_cannot_be_formulas() {
    let log = "\
Nov 10 09:00:01 mx1 postfix/smtpd[1]: 1A2B3C4D5E: client=evil.example[192.0.2.66]
Nov 10 09:00:02 mx1 postfix/cleanup[2]: 1A2B3C4D5E: warning: header Subject: =HYPERLINK(\"http://evil.example\",\"open\") from evil.example[192.0.2.66]; from=<@x@evil.example> to=<bob@example.com> proto=ESMTP helo=<evil.example>
Nov 10 09:00:02 mx1 postfix/qmgr[3]: 1A2B3C4D5E: from=<-cmd@evil.example>, size=100, nrcpt=1 (queue active)
Nov 10 09:00:03 mx1 postfix/lmtp[4]: 1A2B3C4D5E: to=<bob@example.com>, relay=mx1[private/dovecot-lmtp], delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov 10 09:00:03 mx1 postfix/qmgr[3]: 1A2B3C4D5E: removed
";
    let csv = String::from_utf8(mailtrace_on(log, &["search", "--format", "csv"]).stdout).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let field = |name: &str| {
        row.get(headers.iter().position(|h| h == name).unwrap())
            .unwrap()
            .to_string()
    };
    assert_eq!(field("subject"), "'=HYPERLINK(\"http://evil.example\",\"open\")");
    assert_eq!(field("from"), "'-cmd@evil.example");
    assert_eq!(field("to"), "bob@example.com");
    let ndjson = String::from_utf8(mailtrace_on(log, &["search", "--format", "ndjson"]).stdout).unwrap();
    let row: serde_json::Value = serde_json::from_str(ndjson.trim()).unwrap();
    assert_eq!(row["subject"], "=HYPERLINK(\"http://evil.example\",\"open\")");
    assert_eq!(row["from"], "-cmd@evil.example");
}
