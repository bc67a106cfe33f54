//! A log file as `index` reads it: plain, or gzip/zstd/bzip2/xz (damaged ones included),
//! decoded on the read-ahead thread and cut into lines. Invariants: nothing panics or hangs;
//! every line handed out is the decoded stream's bytes at its offset (what a direct decode of
//! the same bytes gives, where both got that far); a damaged file reports its damage.

use std::io::Read;

use mailtrace::source::{decode, Compression, Input, Position};

/// Enough for any log line the fuzzer makes; bounds a decompression bomb.
const LIMIT: u64 = 8 << 20;

fn direct(data: &[u8], format: Compression) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(d) = decode::decoder(std::io::Cursor::new(data.to_vec()), format) {
        let _ = d.take(LIMIT + (2 << 20)).read_to_end(&mut out);
    }
    out
}

pub fn run(data: &[u8]) {
    let format = Compression::sniff(data);
    // the decoders alone, on bytes whatever their magic says
    for f in [
        Compression::Gzip,
        Compression::Zstd,
        Compression::Bzip2,
        Compression::Xz,
    ] {
        if Some(f) != format {
            direct(data, f);
        }
    }
    let path = super::scratch().join("log");
    std::fs::write(&path, data).unwrap();
    let input = Input::open(&path, 0).expect("a file just written opens");
    assert_eq!(input.compression, format);
    let whole = match format {
        Some(f) => direct(data, f),
        None => data.to_vec(),
    };
    // the next line starts after this one's newline, or right after a 1 MiB piece of one
    let (mut next, mut piece_end) = (0u64, 0u64);
    let end = input
        .for_each_raw_line_from(
            Position::default(),
            false,
            Some(LIMIT),
            |bytes, _text, at| {
                assert!(
                    at.offset == next || at.offset == piece_end,
                    "lines must follow one another"
                );
                // a line's length leaves out the `\r` of a CRLF ending; its bytes keep it
                assert_eq!(at.len as usize, bytes.strip_suffix(b"\r").unwrap_or(bytes).len());
                piece_end = at.offset + bytes.len() as u64;
                next = piece_end + 1;
                let (from, to) = (at.offset as usize, at.offset as usize + bytes.len());
                if to <= whole.len() {
                    assert_eq!(&whole[from..to], bytes, "line at {from} is not the decoded bytes");
                }
            },
            |_| {},
        )
        .expect("reading a file just written");
    if format.is_none() {
        assert!(end.damage.is_none(), "a plain file has no damage");
    }
}
