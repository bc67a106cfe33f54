//! The assembler's checkpoint (`open-N.ckpt.zst`, once unpacked: the messages in flight when a
//! run stopped), as the next `index` or `follow` run restores it. Invariants: one that does
//! not restore is an error, never a panic; one that restores goes on with more lines, then
//! finishes and checkpoints again, without panicking.

use mailtrace::event::LineRef;
use mailtrace::parse::{parse_line, Parsed};
use mailtrace::syslog::{YearGuess, Zone};
use mailtrace::trace::{Assembler, DirectionRules};

use super::MORE;

pub fn run(data: &[u8]) {
    let Ok(mut a) = Assembler::restore(data, DirectionRules::default(), true) else {
        return;
    };
    let mut years = YearGuess::given(2026);
    let mut out = Vec::new();
    for (i, l) in MORE.iter().enumerate() {
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
    let again = a.checkpoint().expect("an assembler always serializes");
    Assembler::restore(&again, DirectionRules::default(), true).expect("its own checkpoint restores");
    a.finish(&mut out);
}
