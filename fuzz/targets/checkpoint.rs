//! The assembler's checkpoint (`open-N.ckpt.zst`, once unpacked: the messages in flight when a
//! run stopped), as the next `index` or `follow` run restores it. Invariants: one that does
//! not restore is an error, never a panic; one that restores goes on with more lines, then
//! finishes and checkpoints again, without panicking.

use mailtrace::trace::{Assembler, DirectionRules};

use super::MORE;

pub fn run(data: &[u8]) {
    let Ok(mut a) = Assembler::restore(data, DirectionRules::default(), true) else {
        return;
    };
    let mut out = Vec::new();
    super::feed(&mut a, MORE, &mut out);
    let again = a.checkpoint().expect("an assembler always serializes");
    Assembler::restore(&again, DirectionRules::default(), true).expect("its own checkpoint restores");
    a.finish(&mut out);
}
