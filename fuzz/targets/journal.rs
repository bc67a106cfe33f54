//! journald's `-o json` and `-o export` output as `follow --journal` and `index --journal`
//! read it. Invariants: nothing panics, and no entry makes the reader hold much more than the
//! input (a binary field's length is read from the input: it must not be trusted for memory).

use std::io::Read;

use mailtrace::source::journal::{JournalFormat, JournalLines};

pub fn run(data: &[u8]) {
    for format in [JournalFormat::sniff(data), JournalFormat::Json, JournalFormat::Export] {
        let mut out = Vec::new();
        let reader = JournalLines::new(std::io::BufReader::new(data), format);
        // every entry renders to its fields' bytes and a short envelope
        let bound = 64 * (data.len() + 1) as u64;
        let _ = reader.take(bound + 1).read_to_end(&mut out);
        assert!(
            out.len() as u64 <= bound,
            "{} bytes from {} of input",
            out.len(),
            data.len()
        );
    }
}
