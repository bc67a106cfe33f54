//! A block of whole lines cut from one input: the unit that is handed to another thread.
//!
//! The reader cuts its buffer after the last newline it holds and hands the lines before it
//! out as one [`Block`]; the rest starts the next block. A block owns its bytes, so it can be
//! parsed on any thread while the next one is read. Its text is checked for UTF-8 once, as a
//! whole (almost always valid); only a block that is not is checked line by line, and its bad
//! lines are converted lossily once and kept in the block, so every line can be borrowed as
//! `&str` for as long as the block lives.

use crate::event::LineRef;

/// Whole lines of one input, with the offset of the first in the (decoded) log.
#[derive(Debug)]
pub struct Block {
    data: Vec<u8>,
    /// The offset of `data[0]` in the log.
    pub base: u64,
    /// The input's index (the `file` of every [`LineRef`]).
    pub file: u32,
    /// The lossy text of every line that is not UTF-8, by its index in the block, in order;
    /// filled by [`Block::check_text`].
    lossy: Vec<(u32, String)>,
    checked: bool,
}

/// What [`Block::check_text`] found: lines that are not UTF-8.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotText {
    pub lines: u64,
    /// The log offset of the first.
    pub first: Option<u64>,
}

/// One line of a block.
#[derive(Debug, Clone, Copy)]
pub struct BlockLine<'a> {
    /// The bytes as read (a `\r` before the newline kept, bytes that are not UTF-8 too).
    pub bytes: &'a [u8],
    /// The text, without the `\r`, lossily converted where it was not UTF-8.
    pub text: &'a str,
    /// Its place; `line` counts from the `first_line` given to [`Block::lines`].
    pub at: LineRef,
}

impl Block {
    /// Lines at log offset `base`: every `\n` ends one, and bytes after the last `\n` (the end
    /// of the input, or a piece of an over-long line) are one more.
    pub fn new(data: Vec<u8>, base: u64, file: u32) -> Block {
        Block {
            data,
            base,
            file,
            lossy: Vec::new(),
            checked: false,
        }
    }

    /// The bytes of the block.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Checks the text of the block for UTF-8 once, converting lossily each line that is not
    /// (it is still parsed and counted, never dropped). Must run before [`Block::lines`].
    pub fn check_text(&mut self) -> NotText {
        self.checked = true;
        let mut found = NotText::default();
        if simdutf8::basic::from_utf8(&self.data).is_ok() {
            return found;
        }
        let mut offset = self.base;
        for (i, bytes) in split(&self.data).enumerate() {
            let raw = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            if simdutf8::basic::from_utf8(raw).is_err() {
                found.lines += 1;
                found.first.get_or_insert(offset);
                self.lossy.push((i as u32, String::from_utf8_lossy(raw).into_owned()));
            }
            offset += bytes.len() as u64 + 1;
        }
        found
    }

    /// The lines in order, numbered from `first_line`.
    pub fn lines(&self, first_line: u64) -> impl Iterator<Item = BlockLine<'_>> {
        debug_assert!(self.checked, "Block::check_text before Block::lines");
        let mut lossy = self.lossy.iter().peekable();
        let mut offset = self.base;
        split(&self.data).enumerate().map(move |(i, bytes)| {
            let raw = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            let text = match lossy.peek() {
                Some((at, s)) if *at as usize == i => {
                    lossy.next();
                    s.as_str()
                }
                // SAFETY: the block was checked by `check_text`: it is UTF-8 as a whole, and a
                // cut before a `\n` or `\r` (ASCII) cannot split a character; or this line was
                // checked on its own and is not among the lossy ones
                _ => unsafe { std::str::from_utf8_unchecked(raw) },
            };
            let at = LineRef {
                file: self.file,
                offset,
                line: first_line + i as u64,
                len: raw.len() as u32,
            };
            offset += bytes.len() as u64 + 1;
            BlockLine { bytes, text, at }
        })
    }
}

/// The lines of `data`: split at `\n`, the bytes after the last one a line too when not empty.
fn split(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0usize;
    let mut ends = memchr::memchr_iter(b'\n', data);
    std::iter::from_fn(move || match ends.next() {
        Some(nl) => {
            let line = &data[start..nl];
            start = nl + 1;
            Some(line)
        }
        None if start < data.len() => {
            let line = &data[start..];
            start = data.len();
            Some(line)
        }
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_places_and_lossy_text() {
        let mut b = Block::new(b"one\r\ntwo\n\xff bad\nlast".to_vec(), 100, 3);
        assert_eq!(
            b.check_text(),
            NotText {
                lines: 1,
                first: Some(109)
            }
        );
        let got: Vec<_> = b
            .lines(7)
            .map(|l| {
                (
                    l.bytes.to_vec(),
                    l.text.to_string(),
                    l.at.offset,
                    l.at.line,
                    l.at.len,
                    l.at.file,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (b"one\r".to_vec(), "one".to_string(), 100, 7, 3, 3),
                (b"two".to_vec(), "two".to_string(), 105, 8, 3, 3),
                (b"\xff bad".to_vec(), "\u{fffd} bad".to_string(), 109, 9, 5, 3),
                (b"last".to_vec(), "last".to_string(), 115, 10, 4, 3),
            ]
        );
        let mut whole = Block::new(b"a\nb\n".to_vec(), 0, 0);
        assert_eq!(whole.check_text(), NotText::default());
        assert_eq!(whole.lines(1).map(|l| l.text).collect::<Vec<_>>(), vec!["a", "b"]);
    }
}
