//! The syslog envelope, every program family's parser and the assembler, fed the lines of the
//! input. Invariants: nothing panics; a run checkpointed and restored halfway gives the same
//! traces as one run straight through (what `follow` and `index` rely on between runs).

use mailtrace::event::LineRef;
use mailtrace::parse::{parse_line, Parsed};
use mailtrace::syslog::{YearGuess, Zone};
use mailtrace::trace::{Assembler, DirectionRules, Trace};

fn feed(a: &mut Assembler, lines: &[&[u8]], first: u64, years: &mut YearGuess, out: &mut Vec<Trace>) {
    for (i, raw) in lines.iter().enumerate() {
        let text = String::from_utf8_lossy(raw);
        let at = LineRef {
            file: 0,
            offset: 0,
            line: first + i as u64 + 1,
            len: raw.len() as u32,
        };
        if let Parsed::Event(ev, _) = parse_line(&text, at, years, &Zone::Utc) {
            a.push(&ev, out);
        }
    }
}

fn rules() -> DirectionRules {
    DirectionRules {
        local_domains: vec!["example.com".into()],
        local_networks: vec!["10.0.0.0/8".parse().unwrap()],
    }
}

pub fn run(data: &[u8]) {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let half = lines.len() / 2;

    let mut straight = Vec::new();
    let mut years = YearGuess::given(2026);
    let mut a = Assembler::new(rules());
    feed(&mut a, &lines, 0, &mut years, &mut straight);
    a.finish(&mut straight);

    let mut resumed = Vec::new();
    let mut years = YearGuess::given(2026);
    let mut a = Assembler::new(rules());
    feed(&mut a, &lines[..half], 0, &mut years, &mut resumed);
    let saved = a.checkpoint().expect("an assembler always serializes");
    let mut b = Assembler::restore(&saved, rules(), false).expect("a checkpoint just written restores");
    feed(&mut b, &lines[half..], half as u64, &mut years, &mut resumed);
    b.finish(&mut resumed);

    let key = |t: &Trace| serde_json::to_string(t).unwrap();
    let mut s: Vec<String> = straight.iter().map(key).collect();
    let mut r: Vec<String> = resumed.iter().map(key).collect();
    s.sort();
    r.sort();
    assert_eq!(s, r, "a checkpoint halfway changed the traces");
}
