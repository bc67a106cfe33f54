//! The fuzz targets' bodies: each takes bytes, drives one reader of outside input the way
//! mailtrace drives it, and panics only when an invariant breaks (a panic inside mailtrace is
//! itself the finding). Shared by `fuzz_targets/` (libFuzzer) and the main crate's
//! `tests/fuzz_targets.rs` (stable, seeded mutations), so both run the same code.
#![allow(dead_code)]

pub mod archive;
pub mod checkpoint;
pub mod clickhouse_sql;
pub mod criteria;
pub mod decode;
pub mod journal;
pub mod lines;
pub mod state;
pub mod web_params;

use std::path::PathBuf;

/// The names of the targets, as `fuzz_targets/` and `corpus/` call them.
pub const NAMES: &[&str] = &[
    "lines",
    "journal",
    "decode",
    "archive",
    "state",
    "checkpoint",
    "criteria",
    "web_params",
    "clickhouse_sql",
];

/// Runs the target called `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "lines" => lines::run(data),
        "journal" => journal::run(data),
        "decode" => decode::run(data),
        "archive" => archive::run(data),
        "state" => state::run(data),
        "checkpoint" => checkpoint::run(data),
        "criteria" => criteria::run(data),
        "web_params" => web_params::run(data),
        "clickhouse_sql" => clickhouse_sql::run(data),
        _ => panic!("no fuzz target {name}"),
    }
}

/// A scratch directory of this process and thread (the readers under test take paths).
pub fn scratch() -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!(
            "mailtrace-fuzz-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ))
        .to_string_lossy()
        .replace(['(', ')'], "")
        .into();
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Lines that touch what a checkpoint holds: queue ids, filters, sessions, bounces.
pub const MORE: &[&str] = &[
    "Nov 24 10:00:01 mx1 postfix/smtpd[100]: connect from mail.example.org[192.0.2.1]",
    "Nov 24 10:00:01 mx1 postfix/smtpd[100]: 4B7F31C0A2: client=mail.example.org[192.0.2.1]",
    "Nov 24 10:00:01 mx1 postfix/cleanup[101]: 4B7F31C0A2: message-id=<a@example.org>",
    "Nov 24 10:00:01 mx1 postfix/qmgr[102]: 4B7F31C0A2: from=<a@example.org>, size=100, nrcpt=1 (queue active)",
    "Nov 24 10:00:02 mx1 postfix/smtp[103]: 4B7F31C0A2: to=<b@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 9C1D21C0A3)",
    "Nov 24 10:00:02 mx1 postfix/qmgr[102]: 4B7F31C0A2: removed",
    "Nov 24 10:00:02 mx1 postfix/local[104]: 9C1D21C0A3: to=<b@example.com>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)",
    "Nov 24 10:00:02 mx1 postfix/qmgr[102]: 9C1D21C0A3: removed",
    "Nov 24 10:00:03 mx1 postfix/smtpd[100]: disconnect from mail.example.org[192.0.2.1]",
];

/// Splits `data` into at most `n` fields at NUL bytes, as text (invalid UTF-8 replaced).
pub fn fields(data: &[u8], n: usize) -> Vec<String> {
    data.splitn(n, |&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// Feeds `lines` (numbered from 1) to `a` as one file read in 2026.
pub fn feed(a: &mut mailtrace::trace::Assembler, lines: &[&str], out: &mut Vec<mailtrace::trace::Trace>) {
    use mailtrace::event::LineRef;
    use mailtrace::parse::{parse_line, Parsed};
    use mailtrace::syslog::{YearGuess, Zone};
    let mut years = YearGuess::given(2026);
    for (i, l) in lines.iter().enumerate() {
        let at = LineRef {
            file: 0,
            offset: 0,
            line: i as u64 + 1,
            len: l.len() as u32,
        };
        if let Parsed::Event(ev, _) = parse_line(l, at, &mut years, &Zone::Utc) {
            a.push(&ev, out);
        }
    }
}

/// The traces of [`MORE`]: one message, relayed through a content filter and delivered.
pub fn sample_traces() -> Vec<mailtrace::trace::Trace> {
    let mut a = mailtrace::trace::Assembler::new(mailtrace::trace::DirectionRules::default());
    let mut out = Vec::new();
    feed(&mut a, MORE, &mut out);
    a.finish(&mut out);
    out
}
