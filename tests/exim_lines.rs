//! The Exim line reader over the generated Exim main log and the corpus's main and reject
//! logs: every line with a message id and a flag is read as that flag says, with the fields
//! the truth relies on; every reject and header-block line of a reject log is read.

mod common;

use mailtrace::parse::exim::{header_line, is_message_id, parse, stamp, EximLine};
use mailtrace::syslog::Zone;

/// The files of `dir` whose names start with `prefix`, sorted.
fn named(dir: &std::path::Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    files.sort();
    files
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn every_flagged_line_of_the_eval_mainlog_is_read() {
    let Some(dir) = common::shared("eval-sample/exim") else {
        return;
    };
    // the log holds a few lines that are not UTF-8 on purpose: read them as the scan does
    let text = String::from_utf8_lossy(&std::fs::read(dir.join("mainlog")).unwrap()).into_owned();
    let (mut flagged, mut read, mut rejects, mut unstamped) = (0, 0, 0, 0);
    for line in text.lines() {
        let Some(s) = stamp(line, &Zone::Utc) else {
            // only the garbage lines the sample holds on purpose lack the time stamp
            assert!(!line.trim_start().starts_with("20"), "unread stamp: {line}");
            unstamped += 1;
            continue;
        };
        let mut words = s.body.split(' ');
        let flag = match (words.next(), words.next()) {
            (Some(id), Some(f)) if is_message_id(id) => Some(f),
            _ => None,
        };
        let parsed = parse(s.body);
        if let Some(f) = flag.filter(|f| ["<=", "=>", "->", "==", "**", "Completed"].contains(f)) {
            flagged += 1;
            let ok = match (&parsed, f) {
                (EximLine::Arrival { arrival, .. }, "<=") => arrival.size.is_some() && arrival.protocol.is_some(),
                (EximLine::Delivery { attempt, .. }, "=>" | "->") => attempt.router.is_some(),
                (EximLine::Deferred { attempt, .. }, "==") | (EximLine::Failed { attempt, .. }, "**") => {
                    attempt.error.is_some() && !attempt.to.is_empty()
                }
                (EximLine::Completed { .. }, "Completed") => true,
                _ => false,
            };
            assert!(ok, "misread: {line}\n{parsed:?}");
            read += 1;
        }
        if let EximLine::Rejected(r) = &parsed {
            rejects += 1;
            assert!(r.host.is_some_and(|h| h.ip.is_some()), "{line}");
            if r.stage == "RCPT" {
                assert!(r.to.is_some_and(|t| t.contains('@')), "{line}");
            }
        }
    }
    assert!(unstamped < 10, "{unstamped} lines without a stamp");
    assert_eq!(read, flagged);
    assert!(
        flagged > 10_000 && rejects > 100,
        "{flagged} flagged, {rejects} rejects"
    );
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn every_flagged_line_of_the_corpus_mainlogs_is_read() {
    let Some(dir) = common::shared("corpus/exim") else {
        return;
    };
    let files = named(&dir, "mainlog");
    let (mut flagged, mut misread) = (0, Vec::new());
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for line in text.lines() {
            let Some(s) = stamp(line, &Zone::Utc) else { continue };
            let mut words = s.body.split(' ');
            let (Some(id), Some(flag)) = (words.next(), words.next()) else {
                continue;
            };
            if !is_message_id(id) || !["<=", "=>", "->", ">>", "*>", "==", "**", "Completed"].contains(&flag) {
                continue;
            }
            flagged += 1;
            let ok = match (parse(s.body), flag) {
                (EximLine::Arrival { arrival, .. }, "<=") => arrival.protocol.is_some() || arrival.bounce_of.is_some(),
                (EximLine::Delivery { attempt, .. }, "=>" | "->" | ">>" | "*>") => !attempt.to.is_empty(),
                // `=> blackhole (RCPT ACL discarded recipients)`: no address, every recipient dropped
                (EximLine::AclDiscard { text, .. }, "=>") => text.ends_with("discarded recipients"),
                (EximLine::Deferred { attempt, .. }, "==") | (EximLine::Failed { attempt, .. }, "**") => {
                    !attempt.to.is_empty()
                }
                (EximLine::Completed { .. }, "Completed") => true,
                _ => false,
            };
            if !ok {
                misread.push(line.to_string());
            }
        }
    }
    assert!(flagged > 1000, "{flagged} flagged lines in {} files", files.len());
    assert!(
        misread.is_empty(),
        "{} of {flagged} misread, e.g.\n{}",
        misread.len(),
        misread[..misread.len().min(10)].join("\n")
    );
}

/// The corpus's reject logs: every reject line is read as a reject (or as a known line about no
/// message), and every line of the header blocks after them as a header line.
#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn every_line_of_the_corpus_reject_logs_is_read() {
    let Some(dir) = common::shared("corpus/exim") else {
        return;
    };
    let files = named(&dir, "rejectlog");
    let (mut rejects, mut headers, mut unread) = (0, 0, Vec::new());
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for line in text.lines() {
            // the test harness's own separators
            if line.is_empty() || line.starts_with("******** ") {
                continue;
            }
            match stamp(line, &Zone::Utc) {
                Some(s) => match parse(s.body) {
                    EximLine::Rejected(_) => rejects += 1,
                    EximLine::Info => {}
                    other => unread.push(format!("{line}  → {other:?}")),
                },
                None if header_line(line).is_some() => headers += 1,
                None => unread.push(line.to_string()),
            }
        }
    }
    assert!(
        unread.is_empty(),
        "{} lines not read, e.g.\n{}",
        unread.len(),
        unread[..unread.len().min(10)].join("\n")
    );
    assert!(
        rejects > 30 && headers >= 15,
        "{rejects} rejects, {headers} header lines"
    );
}

/// Honest counts: text behind `exim[pid]:` that is none of Exim's lines is unrecognised; an
/// unknown line about a message is unrecognised yet on that message's timeline; a stamped
/// `CRIT: Banning …` line and a line that merely begins with whitespace (no reject before it)
/// are not Exim lines at all.
#[test]
fn garbage_is_counted_unrecognised() {
    use mailtrace::scan::{scan, ScanOptions};
    use mailtrace::source::Input;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/exim-garbage/mixed.log");
    let opts = ScanOptions {
        year: Some(2026),
        zone: Zone::Utc,
        ..ScanOptions::default()
    };
    let mut traces = Vec::new();
    let stats = scan(&[Input::open(&path, 0).unwrap()], &opts, |t| traces.push(t)).unwrap();
    let f = &stats.files[0];
    assert_eq!(
        (f.lines, f.exim_lines, f.exim_unrecognised, f.no_envelope),
        (9, 7, 3, 2)
    );
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].timeline.len(), 3, "the unknown line joins its message");
}
