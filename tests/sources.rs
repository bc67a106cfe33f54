//! Compressed inputs: the same log plain, gzip (one and several members), zstd, bzip2 and xz
//! gives the same rows; a damaged or cut-short file is read up to the damage, named with the
//! place in a warning, and the other files are still read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn sample() -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Runs the binary; returns exit code, stdout, stderr.
fn mailtrace(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .args(["--year", "2026", "--timezone", "UTC"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the binary with `input` on its standard input; returns exit code, stdout, stderr.
fn piped(args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(args)
        .args(["--year", "2026", "--timezone", "UTC"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn search(path: &Path) -> String {
    let (code, out, err) = mailtrace(&["search", "--format", "ndjson", "--log", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{}: {err}", path.display());
    out
}

#[test]
fn every_compression_gives_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample();
    let half = log.len() / 2 + log[log.len() / 2..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut two_members = gzip(&log[..half]);
    two_members.extend(gzip(&log[half..]));
    let mut two_frames = zstd::encode_all(&log[..half], 3).unwrap();
    two_frames.extend(zstd::encode_all(&log[half..], 3).unwrap());
    let mut two_streams = bzip2(&log[..half]);
    two_streams.extend(bzip2(&log[half..]));
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("plain", log.clone()),
        // named as rotated logs are, and one misleadingly: the magic bytes decide
        ("mail.log.2.gz", gzip(&log)),
        ("members.gz", two_members),
        ("mail.log.3.zst", zstd::encode_all(&log[..], 19).unwrap()),
        ("frames.zst", two_frames),
        ("mail.log.4.bz2", bzip2(&log)),
        ("streams.bz2", two_streams),
        ("mail.log.5.xz", xz(&log)),
        ("not-really.txt", gzip(&log)),
    ];
    let expected = search(&{
        let p = dir.path().join("plain");
        std::fs::write(&p, &log).unwrap();
        p
    });
    assert!(expected.lines().count() > 10);
    for (name, bytes) in &files {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        assert_eq!(search(&p), expected, "{name}");
    }
}

#[test]
fn a_cut_short_or_corrupt_file_is_read_up_to_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample();
    let gz = gzip(&log);
    let cut = dir.path().join("cut.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    // zstd blocks hold up to 128 KiB of log: the damage must come after the first (lines made
    // distinct so that each block holds its own share of the compressed bytes)
    let mut long = Vec::new();
    let mut x: u64 = 1;
    for round in 0..8 {
        for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            long.extend_from_slice(line);
            long.extend_from_slice(format!(" r{round} {x:016x}\n").as_bytes());
        }
    }
    // with a checksum, as the zstd tool writes by default
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_checksum(true).unwrap();
    enc.write_all(&long).unwrap();
    let mut zst = enc.finish().unwrap();
    let late = zst.len() * 3 / 4;
    zst[late..late + 8].iter_mut().for_each(|b| *b ^= 0xff);
    let corrupt = dir.path().join("corrupt.zst");
    std::fs::write(&corrupt, &zst).unwrap();
    let plain = dir.path().join("mail.log");
    std::fs::write(&plain, &log).unwrap();

    for (damaged, whole) in [(&cut, &log), (&corrupt, &long)] {
        let (code, out, err) = mailtrace(&["stats", "--format", "json", "--log", damaged.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
        let lines = stats["lines"].as_u64().unwrap();
        let total = whole.iter().filter(|&&b| b == b'\n').count() as u64;
        // corrupt bytes may still decode (the frame's checksum then tells at its end)
        assert!(
            lines > 0 && lines <= total,
            "{lines} of {total} lines before the damage"
        );
        if damaged == &cut {
            assert!(lines < total, "{lines} of {total} lines before the cut");
        }
        let name = damaged.file_name().unwrap().to_str().unwrap();
        assert!(
            err.contains("warning") && err.contains(name) && err.contains("near compressed byte"),
            "{err}"
        );
        assert!(stats["files"][0]["damage"].as_str().unwrap().contains(name));
    }

    // the damaged file does not stop the others: the plain copy after it gives its rows
    let (code, out, err) = mailtrace(&[
        "search",
        "--format",
        "ndjson",
        "--log",
        cut.to_str().unwrap(),
        "--log",
        plain.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().count() >= search(&plain).lines().count());

    // the store: what came before the damage is indexed, the file is reported, exit 3
    let store = dir.path().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["index", "--store", store.to_str().unwrap(), "--format", "json"])
        .arg(&cut)
        .args(["--year", "2026", "--timezone", "UTC"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = summary["files"][0]["outcome"].as_str().unwrap();
    assert!(
        outcome.starts_with("damaged: ") && outcome.contains("cut.gz"),
        "{outcome}"
    );
    let (code, rows, _) = mailtrace(&["search", "--store", store.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(code, 0);
    assert!(rows.lines().count() > 0);
}

/// logrotate renames the log and compresses it: the store knows it by its decoded first KiB,
/// reads only what was added since, and later runs find it unchanged without decoding it.
#[test]
fn a_log_compressed_after_it_was_indexed_is_not_read_twice() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample();
    let cut = log.len() * 2 / 3 + log[log.len() * 2 / 3..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let live = dir.path().join("mail.log");
    std::fs::write(&live, &log[..cut]).unwrap();
    let store = dir.path().join("store");
    let index = |path: &Path| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
            .args(["index", "--store", store.to_str().unwrap(), "--format", "json"])
            .arg(path)
            .args(["--year", "2026", "--timezone", "UTC"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    index(&live);
    // the rest is written, then the file is rotated and compressed
    std::fs::remove_file(&live).unwrap();
    let rotated = dir.path().join("mail.log.1.gz");
    std::fs::write(&rotated, gzip(&log)).unwrap();
    let second = index(&rotated);
    assert_eq!(second["files"][0]["outcome"], "resumed", "{second}");
    assert_eq!(second["files"][0]["from"].as_u64(), Some(cut as u64));
    let third = index(&rotated);
    assert_eq!(third["files"][0]["outcome"], "unchanged", "{third}");

    let whole = dir.path().join("whole.log");
    std::fs::write(&whole, &log).unwrap();
    let (_, from_store, _) = mailtrace(&["search", "--store", store.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(from_store, search(&whole));
}

/// One log split into a rotated set (`mail.log.3.gz` … `mail.log`, compressed and not), given
/// as a directory, as a quoted glob, or as files in the shell's order: the same rows as the
/// whole log, in the store too.
#[test]
fn a_rotated_set_is_read_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = sample();
    let whole = dir.path().join("whole.log");
    std::fs::write(&whole, &log).unwrap();
    let expected = search(&whole);
    let set = dir.path().join("set");
    std::fs::create_dir(&set).unwrap();
    // four parts at line boundaries: mail.log.3.gz (oldest) … mail.log (newest)
    let mut cuts = vec![0];
    for q in 1..4 {
        let at = log.len() * q / 4;
        cuts.push(at + log[at..].iter().position(|&b| b == b'\n').unwrap() + 1);
    }
    cuts.push(log.len());
    let names = ["mail.log.3.gz", "mail.log.2.gz", "mail.log.1", "mail.log"];
    for (i, name) in names.iter().enumerate() {
        let part = &log[cuts[i]..cuts[i + 1]];
        let bytes = if name.ends_with(".gz") {
            gzip(part)
        } else {
            part.to_vec()
        };
        std::fs::write(set.join(name), bytes).unwrap();
    }
    let as_dir = search(&set);
    assert_eq!(as_dir, expected);
    let glob = set.join("mail.log*");
    assert_eq!(search(&glob), expected);
    let shell_order: Vec<String> = ["mail.log", "mail.log.1", "mail.log.2.gz", "mail.log.3.gz"]
        .iter()
        .flat_map(|n| ["--log".to_string(), set.join(n).to_string_lossy().into_owned()])
        .collect();
    let mut args = vec!["search", "--format", "ndjson"];
    args.extend(shell_order.iter().map(String::as_str));
    let (code, out, err) = mailtrace(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, expected);

    let store = dir.path().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["index", "--store", store.to_str().unwrap()])
        .arg(&set)
        .args(["--year", "2026", "--timezone", "UTC"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, from_store, _) = mailtrace(&["search", "--store", store.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(from_store, expected);
}

/// The sample log as journald would give it: one entry per line, with its time, host,
/// identifier, PID and message.
fn as_journal_entries() -> Vec<Vec<(&'static str, Vec<u8>)>> {
    let log = sample();
    let mut entries = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        // `Nov 24 00:00:14 mx1 postfix/anvil[1190]: message`, in 2026, UTC (the message may
        // hold bytes that are not UTF-8: the sample has such lines on purpose)
        // (its lines of garbage, which give no row, have no place in a journal)
        let Some(time) = std::str::from_utf8(&line[..15.min(line.len())]).ok().and_then(|stamp| {
            chrono::NaiveDateTime::parse_from_str(&format!("2026 {stamp}"), "%Y %b %e %H:%M:%S").ok()
        }) else {
            continue;
        };
        let rest = &line[16..];
        let sp = rest.iter().position(|&b| b == b' ').unwrap();
        let (host, rest) = (&rest[..sp], &rest[sp + 1..]);
        let colon = rest.windows(2).position(|w| w == b": ").unwrap();
        let (tag, message) = (std::str::from_utf8(&rest[..colon]).unwrap(), &rest[colon + 2..]);
        let (ident, pid) = match tag.split_once('[') {
            Some((i, p)) => (i, Some(p.trim_end_matches(']'))),
            None => (tag, None),
        };
        let mut e = vec![
            (
                "__REALTIME_TIMESTAMP",
                time.and_utc().timestamp_micros().to_string().into_bytes(),
            ),
            ("_HOSTNAME", host.to_vec()),
            ("SYSLOG_IDENTIFIER", ident.as_bytes().to_vec()),
            ("MESSAGE", message.to_vec()),
        ];
        if let Some(p) = pid {
            e.push(("_PID", p.as_bytes().to_vec()));
        }
        entries.push(e);
    }
    entries
}

/// `journalctl -o json` and `-o export` (with a binary MESSAGE field), from a file and piped
/// through standard input: the same rows as the syslog file, in the store too.
#[test]
fn journald_output_gives_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("mail.log");
    std::fs::write(&plain, sample()).unwrap();
    let expected = search(&plain);
    let entries = as_journal_entries();
    let mut json = Vec::new();
    let mut export = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let obj: serde_json::Map<String, serde_json::Value> = e
            .iter()
            .map(|(k, v)| {
                // journald writes a value that is not text as an array of bytes (and here
                // every other message too)
                let value = match String::from_utf8(v.clone()) {
                    Ok(text) if !(*k == "MESSAGE" && i % 2 == 1) => text.into(),
                    _ => serde_json::Value::Array(v.iter().map(|&b| b.into()).collect()),
                };
                (k.to_string(), value)
            })
            .collect();
        json.extend(serde_json::to_vec(&obj).unwrap());
        json.push(b'\n');
        export.extend_from_slice(format!("__CURSOR=s=x;i={i}\n").as_bytes());
        for (k, v) in e {
            if *k == "MESSAGE" && (i % 3 == 0 || v.contains(&b'\n') || std::str::from_utf8(v).is_err()) {
                export.extend_from_slice(format!("{k}\n").as_bytes());
                export.extend_from_slice(&(v.len() as u64).to_le_bytes());
                export.extend_from_slice(v);
                export.push(b'\n');
            } else {
                export.extend_from_slice(k.as_bytes());
                export.push(b'=');
                export.extend_from_slice(v);
                export.push(b'\n');
            }
        }
        export.push(b'\n');
    }
    let json_file = dir.path().join("journal.json");
    std::fs::write(&json_file, &json).unwrap();
    let export_file = dir.path().join("journal.export.zst");
    std::fs::write(&export_file, zstd::encode_all(&export[..], 3).unwrap()).unwrap();
    for f in [&json_file, &export_file] {
        let (code, out, err) = mailtrace(&["search", "--format", "ndjson", "--journal", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, expected, "{}", f.display());
    }
    // piped: `journalctl -o json | mailtrace search --journal -`
    let (_, out, _) = piped(&["search", "--format", "ndjson", "--journal", "-"], &json);
    assert_eq!(out, expected);
    // into the store, twice: the second run finds it unchanged
    let store = dir.path().join("store");
    for outcome in ["new", "unchanged"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
            .args([
                "index",
                "--store",
                store.to_str().unwrap(),
                "--format",
                "json",
                "--journal",
            ])
            .arg(&export_file)
            .args(["--year", "2026", "--timezone", "UTC"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["files"][0]["outcome"], outcome, "{summary}");
    }
    let (_, from_store, _) = mailtrace(&["search", "--store", store.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(from_store, expected);
}

/// `zcat mail.log.gz | mailtrace index -`: standard input, compressed or not, read whole.
#[test]
fn standard_input_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("mail.log");
    std::fs::write(&plain, sample()).unwrap();
    let expected = search(&plain);
    for bytes in [sample(), gzip(&sample())] {
        let (_, out, _) = piped(&["search", "--format", "ndjson", "--log", "-"], &bytes);
        assert_eq!(out, expected);
    }
    let store = dir.path().join("store");
    let (code, _, err) = piped(&["index", "--store", store.to_str().unwrap(), "-"], &gzip(&sample()));
    assert_eq!(code, 0, "{err}");
    let (_, from_store, _) = mailtrace(&["search", "--store", store.to_str().unwrap(), "--format", "ndjson"]);
    assert_eq!(from_store, expected);
    let (code, _, err) = mailtrace(&["search", "--log", "-", "--journal", "-"]);
    assert_eq!(code, 2);
    assert!(err.contains("only once"), "{err}");
}

/// A binary file and a "line" of several MiB: read without a panic, counted, and named in a
/// warning with the byte where the first one is; the log after them is still traced.
#[test]
fn binary_data_and_huge_lines_are_counted_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("core.bin");
    let bytes: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&binary, &bytes).unwrap();
    let (code, _, err) = mailtrace(&["stats", "--format", "json", "--log", binary.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("core.bin") && err.contains("not UTF-8") && err.contains("byte 0"),
        "{err}"
    );

    let huge = dir.path().join("huge.log");
    let mut content = vec![b'x'; 3 << 20];
    content.push(b'\n');
    let at = content.len();
    content.extend(sample());
    std::fs::write(&huge, &content).unwrap();
    let plain = dir.path().join("mail.log");
    std::fs::write(&plain, sample()).unwrap();
    let (code, out, err) = mailtrace(&["search", "--format", "ndjson", "--log", huge.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("huge.log") && err.contains("over 1 MiB") && err.contains("byte 0"),
        "{err}"
    );
    // the sample's own non-UTF-8 lines are named too, at their place after the long line
    assert!(
        err.contains("not UTF-8") && !err.contains(&format!("byte {at}")),
        "{err}"
    );
    assert_eq!(out, search(&plain));

    let store = dir.path().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_mailtrace"))
        .args(["index", "--store", store.to_str().unwrap(), "--format", "json"])
        .arg(&huge)
        .args(["--year", "2026", "--timezone", "UTC"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = summary["files"][0]["warnings"].to_string();
    assert!(warnings.contains("over 1 MiB"), "{summary}");
}
