//! The two tiers: fifteen days indexed, `maintain` with a fixed clock keeps the newest days
//! hot, archives the next ones and deletes the oldest; a historical search gives exactly the
//! rows the store gave before the compaction (those of the days kept), `show` finds archived
//! messages, and a flipped byte in an archive is found by `verify` and named by a search
//! while the hot tier keeps answering.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    // `store info` and `verify` read no logs: they take no year or zone
    let reads = !matches!(args[0], "store" | "verify" | "export" | "import");
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .args(if reads {
            &["--year", "2026", "--timezone", "UTC"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The sample day (Nov 24) repeated on each of `days` days ending on `last`.
fn days_until(last: chrono::NaiveDate, days: u32) -> Vec<u8> {
    let sample = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")).unwrap();
    let mut out = Vec::new();
    for i in (0..days).rev() {
        let day = last - chrono::Duration::days(i64::from(i));
        let prefix = day.format("%b %e ").to_string();
        for line in sample.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"Nov 24 ") {
                out.extend_from_slice(prefix.as_bytes());
                out.extend_from_slice(&line[7..]);
            } else {
                out.extend_from_slice(line);
            }
        }
    }
    out
}

/// The sample day (Nov 24) repeated as Nov 1 … Nov `days`.
fn days_of_log(days: u32) -> Vec<u8> {
    let sample = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")).unwrap();
    let mut out = Vec::new();
    for d in 1..=days {
        for line in sample.split_inclusive(|&b| b == b'\n') {
            if line.starts_with(b"Nov 24 ") {
                out.extend_from_slice(format!("Nov {d:>2} ").as_bytes());
                out.extend_from_slice(&line[7..]);
            } else {
                out.extend_from_slice(line);
            }
        }
    }
    out
}

/// `replay` of a window: the bytes written (none when nothing is kept for it).
fn replay_window(store: &Path, since: &str, until: &str) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args([
            "replay",
            "--store",
            store_arg(store),
            "--since",
            since,
            "--until",
            until,
        ])
        .args(["--year", "2026", "--timezone", "UTC"])
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.stdout.is_empty(),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn rows(ndjson: &str) -> Vec<serde_json::Value> {
    ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn since(rows: &[serde_json::Value], day: &str) -> Vec<serde_json::Value> {
    rows.iter()
        .filter(|r| r["time"].as_str().unwrap() >= day)
        .cloned()
        .collect()
}

fn store_arg(store: &Path) -> &str {
    store.to_str().unwrap()
}

#[test]
fn maintain_moves_days_between_tiers_and_search_finds_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(&log, days_of_log(15)).unwrap();
    let store = dir.path().join("store");
    let (code, _, err) = run(&["index", "--store", store_arg(&store), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, before, _) = run(&["search", "--store", store_arg(&store), "--format", "ndjson"]);
    let before = rows(&before);
    assert!(before.len() > 15 * 30, "{} rows", before.len());
    let archived_id = before
        .iter()
        .find(|r| r["time"].as_str().unwrap().starts_with("2026-11-06") && r["message_id"].is_string())
        .map(|r| r["message_id"].as_str().unwrap().to_string())
        .unwrap();

    // replay gives back the window's lines byte for byte (a line without a time goes with the
    // one before it), before the compaction and after it
    let input = std::fs::read(&log).unwrap();
    let input_window = |first: u32, last: u32| -> Vec<u8> {
        let mut out = Vec::new();
        let mut keep = false;
        for line in input.split_inclusive(|&b| b == b'\n') {
            if let Some(day) = std::str::from_utf8(&line[..7.min(line.len())])
                .ok()
                .and_then(|p| p.strip_prefix("Nov "))
                .and_then(|d| d.trim().parse::<u32>().ok())
            {
                keep = (first..=last).contains(&day);
            }
            if keep {
                out.extend_from_slice(line);
            }
        }
        out
    };
    let replay = |since: &str, until: &str| replay_window(&store, since, until);
    let nov5_to_9 = input_window(5, 9);
    assert!(nov5_to_9.len() > 100_000);
    assert!(
        replay("2026-11-05 00:00", "2026-11-09 23:59:59") == nov5_to_9,
        "replay of Nov 5–9 differs"
    );

    // Nov 15 noon: Nov 11–15 stay hot, Nov 4–10 are archived, Nov 1–3 go
    let (code, out, err) = run(&[
        "maintain",
        "--store",
        store_arg(&store),
        "--hot-days",
        "5",
        "--archive-days",
        "12",
        "--now",
        "2026-11-15T12:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["hot_days"], 5, "{report}");
    assert_eq!(report["archive_days"], 7, "{report}");
    assert_eq!(report["deleted"].as_array().unwrap().len(), 3, "{report}");
    let (_, info, _) = run(&["store", "info", "--store", store_arg(&store), "--format", "json"]);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["hot"]["days"].as_array().unwrap().len(), 5);
    assert_eq!(info["archive"]["days"].as_array().unwrap().len(), 7);

    // the hot tier alone, then both tiers: the rows of the days kept, as before
    let (_, hot, _) = run(&["search", "--store", store_arg(&store), "--format", "ndjson"]);
    assert_eq!(rows(&hot), since(&before, "2026-11-11"));
    let (_, all, _) = run(&[
        "search",
        "--store",
        store_arg(&store),
        "--format",
        "ndjson",
        "--historical",
    ]);
    assert_eq!(rows(&all), since(&before, "2026-11-04"));
    // a --since before the hot days reaches the archives by itself; criteria and --limit hold
    let (_, window, _) = run(&[
        "search",
        "--store",
        store_arg(&store),
        "--format",
        "ndjson",
        "--since",
        "2026-11-08",
    ]);
    assert_eq!(rows(&window), since(&before, "2026-11-08"));
    let to = before[before.len() / 2]["to"].as_str().unwrap().to_string();
    let (_, by_to, _) = run(&[
        "search",
        "--store",
        store_arg(&store),
        "--format",
        "ndjson",
        "--historical",
        "--to",
        &to,
        "--limit",
        "4",
    ]);
    let expected: Vec<_> = since(&before, "2026-11-04")
        .into_iter()
        .filter(|r| r["to"].as_str() == Some(to.as_str()) || r["orig_to"].as_str() == Some(to.as_str()))
        .take(4)
        .collect();
    assert_eq!(rows(&by_to), expected);
    let (code, shown, _) = run(&["show", "--store", store_arg(&store), &archived_id]);
    assert_eq!(code, 0);
    assert!(shown.contains("Log lines"), "{shown}");

    // after the compaction: from the archives, and across both tiers
    assert!(
        replay("2026-11-05 00:00", "2026-11-09 23:59:59") == nov5_to_9,
        "replay from archives differs"
    );
    assert!(
        replay("2026-11-09 00:00", "2026-11-12 23:59:59") == input_window(9, 12),
        "replay across tiers differs"
    );
    assert!(
        replay("2026-11-01 00:00", "2026-11-03 23:59:59").is_empty(),
        "deleted days replayed"
    );
    // one message's lines, with their file and offset
    let (code, lines, err) = run(&[
        "replay",
        "--store",
        store_arg(&store),
        "--message-id",
        &archived_id,
        "--format",
        "ndjson",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines = rows(&lines);
    assert!(!lines.is_empty());
    for l in &lines {
        assert_eq!(l["file"].as_str(), log.to_str());
        let offset = l["offset"].as_u64().unwrap() as usize;
        let text = l["line"].as_str().unwrap();
        assert_eq!(&input[offset..offset + text.len()], text.as_bytes());
    }

    // a flipped byte: verify names the file, a historical search says which, hot still answers
    let (code, out, _) = run(&["verify", "--store", store_arg(&store)]);
    assert_eq!(code, 0, "{out}");
    let victim = store.join("archive/2026-11-06.mtar");
    let mut bytes = std::fs::read(&victim).unwrap();
    // inside the first block of traces (they come right after the 8-byte magic)
    bytes[20] ^= 0x40;
    std::fs::write(&victim, &bytes).unwrap();
    let (code, out, _) = run(&["verify", "--store", store_arg(&store)]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("2026-11-06") && out.contains("DAMAGED"), "{out}");
    let (code, rest, err) = run(&[
        "search",
        "--store",
        store_arg(&store),
        "--historical",
        "--format",
        "ndjson",
    ]);
    assert_eq!(code, 0);
    assert!(err.contains("2026-11-06.mtar") && err.contains("damaged"), "{err}");
    let expected: Vec<_> = since(&before, "2026-11-04")
        .into_iter()
        .filter(|r| !r["time"].as_str().unwrap().starts_with("2026-11-06"))
        .collect();
    assert_eq!(rows(&rest), expected, "the other days still answer");
    let (code, hot_again, _) = run(&["search", "--store", store_arg(&store), "--format", "ndjson"]);
    assert_eq!(code, 0);
    assert_eq!(hot_again, hot);

    // export a day, import it into another store: the same rows there
    let moved = dir.path().join("2026-11-07.mtar");
    let (code, _, err) = run(&[
        "export",
        "--store",
        store_arg(&store),
        "--day",
        "2026-11-07",
        "--out",
        moved.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(&["export", "--store", store_arg(&store), "--day", "2026-11-06"]);
    assert_eq!(code, 2, "a damaged archive is not exported");
    let other = dir.path().join("other");
    let (code, _, err) = run(&["import", "--store", store_arg(&other), moved.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["import", "--store", store_arg(&other), moved.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--replace"), "{err}");
    let (_, there, _) = run(&[
        "search",
        "--store",
        store_arg(&other),
        "--format",
        "ndjson",
        "--historical",
    ]);
    let nov7: Vec<_> = before
        .iter()
        .filter(|r| r["time"].as_str().unwrap().starts_with("2026-11-07"))
        .cloned()
        .collect();
    assert_eq!(rows(&there), nov7);

    // once maintained, `index` keeps the windows itself: a day later, Nov 11 is archived and
    // Nov 4 goes
    let next_day: Vec<u8> = days_of_log(16)
        .split_inclusive(|&b| b == b'\n')
        .skip_while(|l| !l.starts_with(b"Nov 16 "))
        .flatten()
        .copied()
        .collect();
    let log16 = dir.path().join("mail.log.16");
    std::fs::write(&log16, &next_day).unwrap();
    let (code, _, err) = run(&[
        "index",
        "--store",
        store_arg(&store),
        "--now",
        "2026-11-16T12:00:00Z",
        log16.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Maintained"), "{err}");
    let (_, info, _) = run(&["store", "info", "--store", store_arg(&store), "--format", "json"]);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    let days = |tier: &str| -> Vec<String> {
        info[tier]["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["day"].as_str().unwrap_or("damaged").to_string())
            .collect()
    };
    assert_eq!(
        days("hot"),
        ["2026-11-12", "2026-11-13", "2026-11-14", "2026-11-15", "2026-11-16"]
    );
    assert_eq!(days("archive").first().map(String::as_str), Some("2026-11-05"));
    assert_eq!(days("archive").last().map(String::as_str), Some("2026-11-11"));
}

/// A hundred days with the default windows and a fixed clock: exactly 10 days hot, 80
/// archived, the 10 oldest gone; the historical search equals the search before the
/// compaction for the days kept; an archived day replays byte for byte.
#[test]
fn a_hundred_days_with_the_default_windows() {
    let dir = tempfile::tempdir().unwrap();
    let last = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let log = dir.path().join("mail.log");
    let input = days_until(last, 100);
    std::fs::write(&log, &input).unwrap();
    let store = dir.path().join("store");
    let (code, _, err) = run(&["index", "--store", store_arg(&store), log.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, before, _) = run(&["search", "--store", store_arg(&store), "--format", "ndjson"]);
    let before = rows(&before);
    let (code, out, err) = run(&[
        "maintain",
        "--store",
        store_arg(&store),
        "--now",
        "2026-11-23T12:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["hot_days"].as_u64(), report["archive_days"].as_u64()),
        (Some(10), Some(80)),
        "{report}"
    );
    assert_eq!(report["deleted"].as_array().unwrap().len(), 10);
    let (_, all, _) = run(&[
        "search",
        "--store",
        store_arg(&store),
        "--format",
        "ndjson",
        "--historical",
    ]);
    assert_eq!(rows(&all), since(&before, "2026-08-26"));
    // Sep 30 as it was indexed
    let replayed = replay_window(&store, "2026-09-30 00:00", "2026-09-30 23:59:59");
    let mut expected = Vec::new();
    let mut keep = false;
    for line in input.split_inclusive(|&b| b == b'\n') {
        if line.len() > 7 && line[3] == b' ' && line[0].is_ascii_uppercase() && line[6] == b' ' {
            keep = line.starts_with(b"Sep 30 ");
        }
        if keep {
            expected.extend_from_slice(line);
        }
    }
    assert!(!expected.is_empty());
    assert!(replayed == expected, "the replay of Sep 30 differs");
}
