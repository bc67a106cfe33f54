//! A message across servers (issue 18), from `--log`: `show` of any leg's id gives the whole
//! path, a line per hop and then every hop's timeline with every line kept; rows name their
//! hops and where each recipient's path ends (`testdata/cases/path-*` pin the rows exactly).

mod common;
#[path = "../examples/genpath.rs"]
mod genpath;

use std::path::PathBuf;
use std::process::Command;

use common::{by_host, sorted_rows};

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/cases")
        .join(name)
        .join("mail.log")
}

fn show(log: &PathBuf, id: &str, json: bool) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["show", id, "--year", "2026", "--timezone", "UTC", "--log"])
        .arg(log);
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn show_of_any_legs_id_gives_the_whole_path_with_every_line() {
    let log = case("path-edge-to-mailbox");
    let text = std::fs::read_to_string(&log).unwrap();
    // the edge's two queue ids (amavis re-injection), the mailbox server's, the Message-ID;
    // also as people paste them (lower case, the header line)
    for id in [
        "4F1A22C801",
        "5B2C32C9F0",
        "8C3D42D1A7",
        "<20261124091001.7781@woodgrove.example>",
        " 8c3d42d1a7 ",
        "Message-ID: <20261124091001.7781@woodgrove.example>",
    ] {
        let shown = show(&log, id, false);
        assert!(shown.starts_with("Delivery path (2 hops)\n"), "{id}:\n{shown}");
        assert!(
            shown.contains("accounts@example.com: delivered → mbox1:8C3D42D1A7")
                && shown.contains("from mx1:4F1A22C801"),
            "{id}:\n{shown}"
        );
        let edge = shown
            .find("Message 4F1A22C801 on mx1")
            .unwrap_or_else(|| panic!("{id}:\n{shown}"));
        let mailbox = shown.find("Message 8C3D42D1A7 on mbox1").unwrap();
        assert!(edge < mailbox, "hops in time order");
        for line in text.lines().filter(|l| {
            ["4F1A22C801", "5B2C32C9F0", "8C3D42D1A7", "kLm2Ne7jImYEBwAAq3pWbA"]
                .iter()
                .any(|q| l.contains(q))
        }) {
            assert!(shown.contains(line), "{id}: line missing: {line}");
        }
        let json: serde_json::Value = serde_json::from_str(&show(&log, id, true)).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(2), "{id}: both legs");
        // the rows carry their places on the path
        assert_eq!(json[0]["rows"][0]["next_hop"], "mbox1:8C3D42D1A7", "{id}");
        assert_eq!(json[1]["rows"][0]["prev_hop"], "mx1:4F1A22C801", "{id}");
        assert_eq!(json[0]["rows"][0]["final_folder"], "INBOX", "{id}");
    }
}

#[test]
fn show_keeps_unrelated_arrivals_of_the_same_message_id_apart() {
    let log = case("path-message-id-join");
    let shown = show(&log, "1A2B3C4D5E", false);
    assert!(shown.starts_with("Delivery path (2 hops)\n"), "{shown}");
    assert!(shown.contains("Message 1yDbAa-0008Aa-M1 on mbox2"), "{shown}");
    for other in ["1yDbAb-0008Ab-M2", "2B3C4D5E6F", "1yDbDd-0008Dd-M4"] {
        assert!(!shown.contains(other), "{other} is not on this path:\n{shown}");
    }
    // by the Message-ID: both paths, each in a block of its own, and the leg on none
    let both = show(&log, "newsletter-2026-11@lists.example", false);
    assert_eq!(both.matches("Delivery path (2 hops)").count(), 2, "{both}");
    let second = both.rfind("Delivery path").unwrap();
    assert!(
        both[..second].contains("mx1    1A2B3C4D5E") && both[second..].contains("2B3C4D5E6F"),
        "{both}"
    );
    // a leg on no path shows alone, as before
    let alone = show(&log, "1yDbAb-0008Ab-M2", false);
    assert!(alone.starts_with("Message 1yDbAb-0008Ab-M2 on mbox2"), "{alone}");
}

/// `mailtrace search --log FILES…`, every row as ndjson.
fn search_logs(files: &[PathBuf]) -> String {
    search_logs_with(files, &[])
}

/// `mailtrace search --log FILES… EXTRA…`, every row as ndjson.
fn search_logs_with(files: &[PathBuf], extra: &[&str]) -> String {
    let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    run(&reading(&["search", "--format", "ndjson"], &files, extra))
}

/// `COMMAND… --year 2026 --timezone UTC --log LOGS… EXTRA…`: the arguments of a command that
/// reads logs as these tests write them.
fn reading<'a>(command: &[&'a str], logs: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = command.to_vec();
    args.extend(["--year", "2026", "--timezone", "UTC", "--log"]);
    args.extend(logs);
    args.extend(extra);
    args
}

/// `mailtrace index` of one file into the embedded store at `store`, a run of its own.
fn index_into(store: &str, file: &std::path::Path) {
    run(&[
        "index",
        "--year",
        "2026",
        "--timezone",
        "UTC",
        "--store",
        store,
        file.to_str().unwrap(),
    ]);
}

/// The binary with `args`, `input` on its standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each server's log indexed in a run of its own, in host name order and in reverse: the
/// store links the legs when it is read, and gives the rows the central log gives (every path
/// key included), and `show` of a leg gives every leg of its path. `--log` over the servers'
/// files, in either order, gives them too: each host's lines wait for their own host's time.
#[test]
fn a_store_fed_server_by_server_links_the_paths_as_the_central_log_does() {
    for name in [
        "path-edge-to-mailbox",
        "path-outbound-and-exim",
        "path-message-id-join",
        "multi-host",
    ] {
        let case = case(name);
        let expected = std::fs::read_to_string(case.with_file_name("expected.ndjson")).unwrap();
        let end_to_end = std::fs::read_to_string(case.with_file_name("end-to-end.ndjson")).unwrap();
        assert_eq!(
            sorted_rows(&search_logs_with(std::slice::from_ref(&case), &["--end-to-end"])),
            sorted_rows(&end_to_end),
            "{name}: --end-to-end, the central log"
        );
        for reverse in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let mut files = by_host(&case, dir.path());
            if reverse {
                files.reverse();
            }
            let from_logs = search_logs(&files);
            assert_eq!(
                sorted_rows(&from_logs),
                sorted_rows(&expected),
                "{name}: --log {files:?}"
            );
            let store = dir.path().join("store");
            let store = store.to_str().unwrap();
            for file in &files {
                index_into(store, file);
            }
            assert_eq!(
                sorted_rows(&search_logs_with(&files, &["--end-to-end"])),
                sorted_rows(&end_to_end),
                "{name}: --end-to-end --log {files:?}"
            );
            let got = run(&["search", "--store", store, "--format", "ndjson"]);
            assert_eq!(sorted_rows(&got), sorted_rows(&expected), "{name}: indexed {files:?}");
            assert_eq!(
                sorted_rows(&run(&[
                    "search",
                    "--store",
                    store,
                    "--format",
                    "ndjson",
                    "--end-to-end"
                ])),
                sorted_rows(&end_to_end),
                "{name}: --end-to-end, indexed {files:?}"
            );
            for row in got.lines() {
                let row: serde_json::Value = serde_json::from_str(row).unwrap();
                let Some(qid) = row["queue_id"].as_str() else { continue };
                let from_log: serde_json::Value = serde_json::from_str(&show(&case, qid, true)).unwrap();
                let from_store: serde_json::Value =
                    serde_json::from_str(&run(&["show", qid, "--store", store, "--format", "json"])).unwrap();
                let ids = |v: &serde_json::Value| -> Vec<String> {
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m["trace"]["trace_id"].to_string())
                        .collect()
                };
                assert_eq!(ids(&from_store), ids(&from_log), "{name}: show {qid}");
            }
        }
    }
}

/// The generator's site (`examples/genpath.rs`): every path it wrote is rebuilt from `--log`
/// over the servers' files, and from a store fed one server per run (in reverse name order,
/// the mailbox server before the edges).
#[test]
fn every_generated_path_is_rebuilt_from_the_logs_and_from_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let truths = genpath::generate(dir.path(), 600, 7).unwrap();
    let files = genpath::logs(dir.path()).unwrap();
    assert_eq!(files.len(), 5, "{files:?}");
    let from_logs = search_logs(&files);
    let checked = genpath::check(&from_logs, &truths).unwrap_or_else(|e| panic!("--log: {e}"));
    assert!(checked > 600, "{checked} paths");
    // the servers' files read one after the other hold no more messages open at once than
    // each file read alone (each server's messages are timed by its own clock)
    let peak = |files: &[PathBuf]| -> u64 {
        let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
        let args = reading(&["stats", "--format", "json"], &files, &[]);
        let stats: serde_json::Value = serde_json::from_str(&run(&args)).unwrap();
        stats["peak_open"].as_u64().unwrap()
    };
    let alone: u64 = files.iter().map(|f| peak(std::slice::from_ref(f))).sum();
    let together = peak(&files);
    assert!(
        together <= alone,
        "{together} open at once, {alone} reading each file alone"
    );
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    for file in files.iter().rev() {
        index_into(store, file);
    }
    let rows = run(&["search", "--store", store, "--format", "ndjson"]);
    genpath::check(&rows, &truths).unwrap_or_else(|e| panic!("store: {e}"));
    // end to end: a row per original message and final recipient, the same from both
    let from_logs = search_logs_with(&files, &["--end-to-end"]);
    let rows = genpath::check_end_to_end(&from_logs, &truths).unwrap_or_else(|e| panic!("--log --end-to-end: {e}"));
    assert!(rows > 600, "{rows} rows");
    let from_store = run(&["search", "--store", store, "--format", "ndjson", "--end-to-end"]);
    assert_eq!(sorted_rows(&from_store), sorted_rows(&from_logs), "store --end-to-end");
}

/// `--end-to-end`: the criteria apply to the whole path (the client where the message arrived,
/// the status where it ended, the host anywhere on the way), the same from the central log,
/// from standard input and from a store fed server by server. Without it, each leg is matched
/// on its own.
#[test]
fn end_to_end_criteria_apply_to_the_whole_path() {
    let log = case("path-edge-to-mailbox");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    for file in by_host(&log, dir.path()) {
        index_into(store, &file);
    }
    let picked = |ndjson: &str| -> Vec<String> {
        ndjson
            .lines()
            .map(|l| {
                let r: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{} {} {}",
                    r["queue_id"].as_str().unwrap(),
                    r["to"].as_str().unwrap(),
                    r["status"].as_str().unwrap()
                )
            })
            .collect()
    };
    let cases: [(&[&str], &[&str]); 9] = [
        (
            &["--client-ip", "203.0.113.150", "--status", "bounced"],
            &["6D4E52CA12 nobody.here@example.com bounced"],
        ),
        (
            &["--to", "team@example.com"],
            &[
                "7E5F62CB23 lena.hofmann@example.com delivered",
                "7E5F62CB23 marco.rossi@example.com deferred",
            ],
        ),
        (
            &["--to", "marco.rossi@example.com"],
            &["7E5F62CB23 marco.rossi@example.com deferred"],
        ),
        (
            &["--host", "mbox1", "--folder", "INBOX"],
            &[
                "7E5F62CB23 lena.hofmann@example.com delivered",
                "4F1A22C801 accounts@example.com delivered",
            ],
        ),
        (
            &["--from", "billing@woodgrove.example", "--host", "mbox1"],
            &["4F1A22C801 accounts@example.com delivered"],
        ),
        (
            &["--queue-id", "9D4E52D2B8"],
            &["6D4E52CA12 nobody.here@example.com bounced"],
        ),
        (
            &["--direction", "inbound", "--status", "deferred"],
            &["7E5F62CB23 marco.rossi@example.com deferred"],
        ),
        (&["--from", "<>"], &["AE5F62D3C9 procurement@adatum.example delivered"]),
        (
            &["--since", "2026-11-24T09:40:13Z", "--until", "2026-11-24T09:40:13Z"],
            &[
                "AE5F62D3C9 procurement@adatum.example delivered",
                "6D4E52CA12 nobody.here@example.com bounced",
            ],
        ),
    ];
    for (criteria, want) in cases {
        let mut args = vec!["--end-to-end"];
        args.extend(criteria);
        assert_eq!(
            picked(&search_logs_with(std::slice::from_ref(&log), &args)),
            want,
            "--log {criteria:?}"
        );
        let mut from_store = vec!["search", "--store", store, "--format", "ndjson"];
        from_store.extend(&args);
        assert_eq!(picked(&run(&from_store)), want, "store {criteria:?}");
    }
    // leg by leg, the edge delivered it and the mailbox server's client was the edge
    assert_eq!(
        search_logs_with(
            std::slice::from_ref(&log),
            &["--client-ip", "203.0.113.150", "--status", "bounced"]
        ),
        ""
    );
    // standard input is read once: the messages that may give a row are kept from it
    let out = with_stdin(
        &reading(
            &["search", "--format", "ndjson"],
            &["-"],
            &["--end-to-end", "--status", "deferred"],
        ),
        &std::fs::read(&log).unwrap(),
    );
    assert_eq!(
        picked(&String::from_utf8(out.stdout).unwrap()),
        ["7E5F62CB23 marco.rossi@example.com deferred"]
    );
    // the table names the servers each row crossed; CSV lists the hops
    let table = run(&[
        "search",
        "--store",
        store,
        "--end-to-end",
        "--format",
        "table",
        "--to",
        "team@example.com",
    ]);
    assert!(table.contains("Path") && table.contains("mx1 → mbox1"), "{table}");
    let csv = run(&[
        "search",
        "--store",
        store,
        "--end-to-end",
        "--format",
        "csv",
        "--queue-id",
        "9D4E52D2B8",
    ]);
    assert!(csv.lines().next().unwrap().ends_with(",hops"), "{csv}");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .ends_with(",mx1:6D4E52CA12 mbox1:9D4E52D2B8"),
        "{csv}"
    );
}

/// Legs archived by `maintain` still link, and an archive keeps the hosts of its messages (a
/// store of one server skips the look-ups: it answers the same rows).
#[test]
fn archived_legs_link_and_archives_name_their_hosts() {
    let case = case("path-edge-to-mailbox");
    let expected = std::fs::read_to_string(case.with_file_name("expected.ndjson")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    for file in by_host(&case, dir.path()) {
        index_into(store, &file);
    }
    run(&[
        "maintain",
        "--store",
        store,
        "--hot-days",
        "1",
        "--archive-days",
        "10000",
        "--now",
        "2027-01-01T00:00:00Z",
    ]);
    let got = run(&["search", "--store", store, "--historical", "--format", "ndjson"]);
    assert_eq!(sorted_rows(&got), sorted_rows(&expected));
    let opened = mailtrace::store::backend::open(std::path::Path::new(store), &Default::default()).unwrap();
    let hosts = opened
        .hosts(None, None)
        .unwrap()
        .expect("new archives keep their hosts");
    assert_eq!(hosts.into_iter().collect::<Vec<_>>(), ["mbox1", "mx1"]);
    // one server's store: the same rows as its own log gives
    let one = dir.path().join("one");
    let one = one.to_str().unwrap();
    let mbox1 = dir.path().join("mbox1.log");
    index_into(one, &mbox1);
    let from_log = search_logs(std::slice::from_ref(&mbox1));
    assert_eq!(
        sorted_rows(&run(&["search", "--store", one, "--format", "ndjson"])),
        sorted_rows(&from_log)
    );
}

/// `show --log -`: standard input is read once; the path's other legs read from it are left
/// out with a warning that says what to do, and the message itself is shown.
#[test]
fn show_from_standard_input_warns_of_the_legs_it_cannot_read_again() {
    let log = std::fs::read(case("path-edge-to-mailbox")).unwrap();
    let out = with_stdin(&reading(&["show", "8C3D42D1A7"], &["-"], &[]), &log);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("Message 8C3D42D1A7 on mbox1"), "{stdout}");
    assert!(stderr.contains("give the files instead of `-`"), "{stderr}");
}
