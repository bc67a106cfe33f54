//! A message across servers (issue 18), from `--log`: `show` of any leg's id gives the whole
//! path, a line per hop and then every hop's timeline with every line kept; rows name their
//! hops and where each recipient's path ends (`testdata/cases/path-*` pin the rows exactly).

use std::path::PathBuf;
use std::process::Command;

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
    // the edge's two queue ids (amavis re-injection), the mailbox server's, the Message-ID
    for id in [
        "4F1A22C801",
        "5B2C32C9F0",
        "8C3D42D1A7",
        "<20261124091001.7781@woodgrove.example>",
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
    // a leg on no path shows alone, as before
    let alone = show(&log, "1yDbAb-0008Ab-M2", false);
    assert!(alone.starts_with("Message 1yDbAb-0008Ab-M2 on mbox2"), "{alone}");
}
