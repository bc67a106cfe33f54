//! Line coverage: every line that carries a message's id at the id's place must be on that
//! message's `show` timeline, and `show ID` must find every id. This is the measure of
//! `../shared/tools/line-coverage`, run in-process over every file of `../shared/corpus`, the
//! eval sample and every crafted case, with the table printed per file (`--nocapture`).
//!
//! The id's place: Postfix and the programs around it, `program[pid]: QID: ` right after the
//! syslog envelope (BSD or RFC 3339 time stamp); Exim, the message id right after the time
//! stamp (and optional zone and `[pid]`). Lines of other MTAs that share the shape (sendmail's
//! `sm-mta[pid]: QID: `) are not mailtrace's to read: docs/FORMATS.md says so.
//!
//! `show ID` keeps the traces whose queue ids, Message-ID or trace id is `ID`, built with
//! their lines' text; the test builds every trace of a file once the same way (the scan
//! `show` runs) and checks `show` itself for the first id of each file.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use mailtrace::app::{show_traces, Common};
use mailtrace::scan::scan;
use mailtrace::source::Input;
use mailtrace::trace::Trace;

/// Other MTAs whose lines have a queue id at the same place: sendmail logs as `sendmail` or
/// under its process titles (`sm-mta`, `sm-msp-queue`, `sm-acceptingconnections`).
fn not_read(program: &str) -> bool {
    program == "sendmail" || program.starts_with("sm-")
}

fn is_exim_id(w: &str) -> bool {
    let parts: Vec<&str> = w.split('-').collect();
    let alnum = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    parts.len() == 3
        && parts.iter().all(|p| alnum(p))
        && parts[0].len() == 6
        && ((parts[1].len() == 11 && parts[2].len() == 4) || (parts[1].len() == 6 && parts[2].len() == 2))
}

fn is_postfix_qid(w: &str) -> bool {
    let b = w.as_bytes();
    let short = (6..=12).contains(&b.len()) && b.iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
    // the long form: base 52 without vowels
    let long = (10..=16).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() && !b"AEIOUaeiou".contains(&c) && c.is_ascii());
    short || long
}

/// `YYYY-MM-DD HH:MM:SS[.fff] [+zzzz ][[pid] ]` → the rest.
fn after_exim_stamp(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !(digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && digits(8..10) && b.get(10) == Some(&b' ')) {
        return None;
    }
    if !(digits(11..13) && b.get(13) == Some(&b':') && digits(14..16) && b.get(16) == Some(&b':') && digits(17..19)) {
        return None;
    }
    let mut rest = &line[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    rest = rest.strip_prefix(' ')?;
    let zone = rest.as_bytes();
    if zone.len() > 5 && matches!(zone[0], b'+' | b'-') && zone[1..5].iter().all(u8::is_ascii_digit) && zone[5] == b' '
    {
        rest = &rest[6..];
    }
    if let Some(r) = rest.strip_prefix('[') {
        let (pid, r) = r.split_once("] ")?;
        if pid.bytes().all(|c| c.is_ascii_digit()) {
            rest = r;
        }
    }
    Some(rest)
}

/// The message id at the id's place of `line`, if any.
fn id_of(line: &str) -> Option<&str> {
    if let Some(rest) = after_exim_stamp(line) {
        let id = rest.split([' ', '\t']).next()?;
        if is_exim_id(id) && rest.len() > id.len() {
            return Some(id);
        }
    }
    // the syslog envelope: `Mon dd hh:mm:ss host ` or `RFC3339 host `
    let mut words = line.split(' ').filter(|w| !w.is_empty());
    let first = words.next()?;
    let tag = if first.len() >= 19 && first.as_bytes()[4] == b'-' && first.contains('T') {
        words.nth(1)?
    } else {
        words.nth(3)?
    };
    let (program, pid) = tag.strip_suffix(':')?.strip_suffix(']')?.split_once('[')?;
    if program.is_empty() || !pid.bytes().all(|c| c.is_ascii_digit()) || not_read(program) {
        return None;
    }
    let at = line.find(tag)? + tag.len();
    let rest = line[at..].strip_prefix(' ')?;
    let (id, _) = rest.split_once(": ")?;
    is_postfix_qid(id).then_some(id)
}

#[derive(Default)]
struct FileReport {
    ids: usize,
    lost_ids: Vec<String>,
    lines: usize,
    missing: Vec<String>,
}

fn common_for(file: &Path) -> Common {
    Common {
        logs: vec![file.to_path_buf()],
        year: Some(2024),
        timezone: Some("UTC".into()),
        default_host: Some("x".into()),
        ..Common::default()
    }
}

/// Counts one file's coverage.
fn measure(file: &Path, common: &Common) -> FileReport {
    // the file's lines as mailtrace reads them (compressed files decoded)
    let mut text: Vec<String> = Vec::new();
    Input::open(file, 0)
        .unwrap()
        .for_each_line(|l, _| text.push(l.strip_suffix('\r').unwrap_or(l).to_string()), |_| {})
        .unwrap();
    let mut order: Vec<&str> = Vec::new();
    let mut want: HashMap<&str, Vec<&str>> = HashMap::new();
    for line in &text {
        if let Some(id) = id_of(line) {
            let v = want.entry(id).or_default();
            if v.is_empty() {
                order.push(id);
            }
            v.push(line);
        }
    }
    let mut r = FileReport::default();
    if order.is_empty() {
        return r;
    }
    // every trace, built as `show` builds them
    let (inputs, mut opts) = common.prepare().unwrap();
    opts.keep_text = true;
    let mut traces: Vec<Trace> = Vec::new();
    scan(&inputs, &opts, |t| traces.push(t)).unwrap();
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in traces.iter().enumerate() {
        for q in &t.queue_ids {
            by_id.entry(q.as_str()).or_default().push(i);
        }
        for k in t.message_id.iter().chain([&t.trace_id]) {
            by_id.entry(k.as_str()).or_default().push(i);
        }
    }
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    // the scan above is `show`'s: check it against `show` itself once per file
    let first = order[0];
    let shown: Vec<String> = show_traces(common, first)
        .unwrap()
        .traces
        .iter()
        .map(|t| t.trace_id.clone())
        .collect();
    let mut idx: Vec<usize> = by_id.get(first).cloned().unwrap_or_default();
    idx.sort_unstable();
    idx.dedup();
    let mut mine: Vec<String> = idx.iter().map(|&i| traces[i].trace_id.clone()).collect();
    mine.sort();
    // and the other legs of their delivery paths across servers (issue 18)
    let mut set = mailtrace::path::LegSet::default();
    for t in &traces {
        set.add(t);
    }
    let linked = mailtrace::path::Legs::new(set, &Default::default());
    let on_paths: std::collections::HashSet<u64> = mine.iter().flat_map(|t| linked.path(t)).collect();
    let mut others: Vec<String> = traces
        .iter()
        .map(|t| t.trace_id.clone())
        .filter(|t| on_paths.contains(&mailtrace::path::key(t)) && !mine.contains(t))
        .collect();
    others.sort();
    others.dedup();
    let mut with_paths: Vec<String> = mine.iter().cloned().chain(others).collect();
    with_paths.sort();
    let mut shown_sorted = shown.clone();
    shown_sorted.sort();
    assert_eq!(
        with_paths, shown_sorted,
        "{name}: show {first} finds other traces than the scan"
    );
    for id in order {
        r.ids += 1;
        let lines = &want[id];
        r.lines += lines.len();
        let Some(found) = by_id.get(id) else {
            r.lost_ids.push(format!("{name}: {id}"));
            r.missing.extend(lines.iter().map(|l| format!("{name}: {l}")));
            continue;
        };
        let mut got: BTreeMap<&str, usize> = BTreeMap::new();
        let mut seen = found.clone();
        seen.sort_unstable();
        seen.dedup();
        for &i in &seen {
            for e in &traces[i].timeline {
                *got.entry(&e.text).or_default() += 1;
            }
        }
        for l in lines {
            match got.get_mut(l) {
                Some(n) if *n > 0 => *n -= 1,
                _ => r.missing.push(format!("{name}: {l}")),
            }
        }
    }
    r
}

/// Measures every file, prints the table, and fails on any line or id missing.
fn check(title: &str, root: &Path, files: &[PathBuf]) {
    let mut table = String::new();
    let (mut ids, mut lost, mut lines, mut missing) = (0, Vec::new(), 0, Vec::new());
    for f in files {
        let r = measure(f, &common_for(f));
        if r.ids > 0 {
            let rel = f.strip_prefix(root).unwrap_or(f).display();
            table.push_str(&format!(
                "  {rel}: ids {}, not found {}; lines {}, missing {} ({:.1}% covered)\n",
                r.ids,
                r.lost_ids.len(),
                r.lines,
                r.missing.len(),
                100.0 * (r.lines - r.missing.len()) as f64 / r.lines.max(1) as f64
            ));
        }
        ids += r.ids;
        lines += r.lines;
        lost.extend(r.lost_ids);
        missing.extend(r.missing);
    }
    eprintln!("{title}: line coverage per file\n{table}{title} total: ids {ids}, not found {}; lines with an id {lines}, missing from show {}", lost.len(), missing.len());
    for l in lost.iter().take(20) {
        eprintln!("  not found: {l}");
    }
    for m in missing.iter().take(40) {
        eprintln!("  missing: {}", m.chars().take(200).collect::<String>());
    }
    assert!(
        lost.is_empty() && missing.is_empty(),
        "{title}: {} ids not found, {} lines missing from show",
        lost.len(),
        missing.len()
    );
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn every_line_of_a_corpus_message_is_on_its_timeline() {
    let Some(root) = common::shared("corpus") else { return };
    let files = common::log_files(&root);
    check("corpus", &root, &files);
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn every_line_of_an_eval_sample_message_is_on_its_timeline() {
    let Some(root) = common::shared("eval-sample") else {
        return;
    };
    let files = common::log_files(&root);
    check("eval-sample", &root, &files);
}

#[test]
fn every_line_of_a_crafted_case_is_on_its_timeline() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let files: Vec<PathBuf> = common::crafted_cases().into_iter().flat_map(|c| c.logs).collect();
    assert!(files.len() > 40);
    check("crafted cases", &root, &files);
}

#[test]
fn the_id_at_the_id_place() {
    assert_eq!(
        id_of("Jan 27 07:00:04 mail opendkim[289]: 2AA0F3004142: not authenticated"),
        Some("2AA0F3004142")
    );
    assert_eq!(
        id_of("2026-11-10T00:01:46.123+00:00 mx1 postfix/qmgr[7]: 4B2A81C9F0: removed"),
        Some("4B2A81C9F0")
    );
    assert_eq!(
        id_of("1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@test.ex U=CALLER P=local S=sss"),
        Some("10HmaX-000000005vi-0000")
    );
    assert_eq!(
        id_of("2017-07-30 18:51:05.712 [1234] 10HmaY-0005vi-00 Completed"),
        Some("10HmaY-0005vi-00")
    );
    assert_eq!(
        id_of("Jan 27 07:00:04 mail sm-mta[289]: q1234ABCDE0012: from=<a@b>"),
        None
    );
    assert_eq!(
        id_of("Jan 27 07:00:04 mail postfix/smtpd[289]: connect from x[1.2.3.4]"),
        None
    );
}
