//! Property tests: no byte sequence makes the parser or the assembler panic, and every line
//! is accounted for.

use std::io::Write;

use mailtrace::event::LineRef;
use mailtrace::parse::{parse_line, Parsed};
use mailtrace::scan::{scan, ScanOptions};
use mailtrace::source::Input;
use mailtrace::syslog::{YearGuess, Zone};
use mailtrace::trace::{Assembler, DirectionRules};
use proptest::prelude::*;

/// Realistic prefixes, so random tails reach deep into the Postfix parser.
const PREFIXES: &[&str] = &[
    "Nov 10 00:07:33 mx1 postfix/smtp[28717]: 0859737C64D: ",
    "Nov 10 00:07:33 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from ",
    "Nov 10 00:07:33 mx1 postfix/cleanup[1]: 0859737C64D: hold: header Subject: ",
    "Nov 10 00:07:33 mx1 postfix/qmgr[1]: 0859737C64D: from=<",
    "Nov 10 00:07:33 mx1 amavis[1]: (1-01) Blocked SPAM {",
    "2026-11-10T00:07:33.5+01:00 mx1 postfix/bounce[1]: 0859737C64D: sender ",
    "Nov 10 00:07:33 mx1 postfix/smtp[1]: 0859737C64D: to=<a@b>, relay=127.0.0.1[127.0.0.1]:10024, status=sent (250 queued as ",
    "Nov 10 00:07:33 mx1 postsuper[1]: 0859737C64D: ",
    "",
];

fn feed(lines: &[String]) {
    let mut years = YearGuess::given(2026);
    let mut a = Assembler::new(DirectionRules::default());
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let at = LineRef {
            file: 0,
            offset: 0,
            line: i as u64 + 1,
            len: l.len() as u32,
        };
        if let Parsed::Event(ev, _) = parse_line(l, at, &mut years, &Zone::Utc) {
            a.push(&ev, &mut out);
        }
    }
    a.finish(&mut out);
}

proptest! {
    // PROPTEST_CASES overrides the default of 2000 (`just fuzz` runs 100000)
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
    ))]

    #[test]
    fn arbitrary_text_never_panics(prefix in 0..PREFIXES.len(), tail in any::<String>()) {
        feed(&[format!("{}{}", PREFIXES[prefix], tail)]);
    }

    #[test]
    fn arbitrary_line_sequences_never_panic(lines in proptest::collection::vec((0..PREFIXES.len(), "[ -~]{0,80}"), 1..40)) {
        let lines: Vec<String> = lines.into_iter().map(|(p, t)| format!("{}{}", PREFIXES[p], t)).collect();
        feed(&lines);
    }

    #[test]
    fn arbitrary_bytes_are_all_counted(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        let input = Input::open(f.path(), 0).unwrap();
        // bytes that start like a compressed file are decoded (tests/sources.rs covers damage)
        prop_assume!(input.compression.is_none());
        let opts = ScanOptions { year: Some(2026), zone: Zone::Utc, ..ScanOptions::default() };
        let stats = scan(&[input], &opts, |_| {}).unwrap();
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let expected = newlines + u64::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
        prop_assert_eq!(stats.lines, expected);
        let accounted = stats.no_envelope + stats.programs.values().map(|p| p.lines).sum::<u64>();
        prop_assert_eq!(accounted, stats.lines);
    }
}
