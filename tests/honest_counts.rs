//! `stats` is honest: every line of a program mailtrace reads that no parser understood is
//! counted as unrecognised (garbage after `opendkim[pid]:` too), lines of programs it does not
//! read are counted apart, and a garbage line that names a queue id is still on that message's
//! timeline. `testdata/garbage/mail.log` holds a garbage line under each family's name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mailtrace::scan::{scan, ScanOptions};
use mailtrace::source::Input;
use mailtrace::syslog::Zone;

fn garbage() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/garbage/mail.log")
}

#[test]
fn garbage_under_every_family_is_unrecognised_and_other_programs_apart() {
    let opts = ScanOptions {
        year: Some(2026),
        zone: Zone::Utc,
        keep_text: true,
        ..ScanOptions::default()
    };
    let mut traces = Vec::new();
    let stats = scan(&[Input::open(&garbage(), 0).unwrap()], &opts, |t| traces.push(t)).unwrap();
    let per_program: BTreeMap<&str, (u64, u64, bool)> = stats
        .programs
        .iter()
        .map(|(p, s)| (p.as_str(), (s.lines, s.unrecognised, s.read)))
        .collect();
    let expected: BTreeMap<&str, (u64, u64, bool)> = [
        ("postfix/smtpd", (1, 1, true)),
        ("postfix/qmgr", (2, 1, true)),
        ("postfix/cleanup", (1, 1, true)),
        ("amavis", (2, 2, true)),
        ("rspamd", (1, 1, true)),
        ("opendkim", (3, 2, true)),
        ("opendmarc", (2, 2, true)),
        ("policyd-spf", (1, 1, true)),
        ("dovecot", (3, 2, true)),
        ("pmg-smtp-filter", (1, 1, true)),
        ("sshd", (1, 0, false)),
        ("CRON", (1, 0, false)),
        ("fail2ban.actions", (1, 0, false)),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_program, expected);
    assert_eq!(stats.unrecognised(), 14);
    assert_eq!(stats.other_programs(), 3);
    assert_eq!(stats.files[0].other_lines, 3);
    assert_eq!(stats.lines, 20);
    assert_eq!(stats.bytes, std::fs::metadata(garbage()).unwrap().len());
    // the garbage lines naming 4B2A81C9F0 are on its timeline
    assert_eq!(traces.len(), 1);
    let texts: Vec<&str> = traces[0].timeline.iter().map(|e| &*e.text).collect();
    assert_eq!(texts.len(), 4, "{texts:#?}");
    assert!(texts.iter().all(|t| t.contains("4B2A81C9F0")));
}
