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

/// Every line of the crafted cases and the shipped sample: real shapes of every family, to
/// mutate.
fn real_lines() -> &'static [String] {
    static LINES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut files = vec![root.join("sample/mail.log")];
        for group in ["cases", "exim"] {
            for e in std::fs::read_dir(root.join(group)).unwrap() {
                let dir = e.unwrap().path();
                if let Ok(inner) = std::fs::read_dir(&dir) {
                    files.extend(
                        inner
                            .map(|f| f.unwrap().path())
                            .filter(|p| p.extension().is_none_or(|x| x == "log")),
                    );
                }
            }
        }
        files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .flat_map(|b| {
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// A real line cut, or with a character put in, or with another real line's tail spliced in,
/// at the `at`-th character.
fn mutate(line: &str, at: usize, c: char, how: u8, other: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let at = at % (chars.len() + 1);
    let head: String = chars[..at].iter().collect();
    let tail: String = chars[at..].iter().collect();
    match how {
        0 => head,
        1 => format!("{head}{c}{tail}"),
        _ => {
            let o: Vec<char> = other.chars().collect();
            let from = at % (o.len() + 1);
            format!("{head}{}", o[from..].iter().collect::<String>())
        }
    }
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

    /// Real lines of every family, damaged: cut short, a character put in (multi-byte ones
    /// too), another line's tail spliced in.
    #[test]
    fn damaged_real_lines_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..400usize, any::<char>(), 0..3u8, any::<prop::sample::Index>()), 1..60)) {
        let pool = real_lines();
        let lines: Vec<String> = edits
            .iter()
            .map(|(i, at, c, how, j)| mutate(i.get::<String>(pool), *at, *c, *how, j.get::<String>(pool)))
            .collect();
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
