//! Reading log files as lines, each with its [`LineRef`] (file, byte offset, line number).
//!
//! Files are read in large blocks and split with `memchr`, so a line is handed out without a
//! copy unless it straddles two blocks. A line that is not UTF-8 is handed out lossily
//! converted: it is still parsed or counted, never dropped. A final line without a newline is
//! a line too. A "line" longer than the 1 MiB block (binary or corrupt input) is handed out in
//! 1 MiB pieces, each counted, so memory does not grow with the input.
//!
//! A compressed file (see [`decode`]) is read through its decoder: offsets and line numbers are
//! those of the decoded log, progress counts compressed bytes. Where the compressed data is
//! damaged or cut short, every line before it has been handed out and the read ends with a
//! [`ReadEnd::damage`] naming the place, not an error: the rest of the input is still read.

pub mod block;
pub mod decode;
pub mod journal;
pub mod set;

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::event::LineRef;
pub use block::{Block, BlockLine, NotText};
pub use decode::Compression;

const BLOCK: usize = 1 << 20;

/// One input: a file, or standard input (`-`).
#[derive(Debug, Clone)]
pub struct Input {
    /// The file; `-` for standard input.
    pub path: PathBuf,
    pub index: u32,
    /// Bytes on disk (compressed, for a compressed file); 0 for standard input.
    pub len: u64,
    pub modified: Option<DateTime<Utc>>,
    pub compression: Option<Compression>,
    /// journald's output (`journalctl -o json` or `-o export`), read as syslog lines.
    pub journal: bool,
    /// Standard input's first bytes, read to recognise its compression.
    stdin_head: Option<Vec<u8>>,
    /// The file opened once and read by position from then on ([`Input::open_pinned`]).
    pinned: Option<Arc<File>>,
}

/// A file's device and inode: what stays the same across a rename.
pub fn dev_ino(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// A file read by position (`pread`): clones of one open file share no offset, and the file
/// stays the one opened when its path is renamed or replaced.
struct PinnedReader {
    file: Arc<File>,
    pos: u64,
}

impl Read for PinnedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Bytes read from the file or standard input, when they are not the log's own.
type RawCount = Arc<AtomicU64>;

/// Standard input is read once, by the first input that names it.
static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Where a read stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEnd {
    pub at: Position,
    /// The end of the file (or of what could be decoded of it) was reached.
    pub eof: bool,
    /// Why decoding stopped before the end of a compressed file, naming the place.
    pub damage: Option<String>,
    /// The log's first [`HEAD_BYTES`], when the read began at its start.
    pub head: Vec<u8>,
    /// Lines that were not text.
    pub oddities: Oddities,
}

/// Lines that were read but were not what a log holds: counted, and where the first was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Oddities {
    /// Lines that are not UTF-8 (handed out with U+FFFD in place of the bad bytes): a few in
    /// a log, all of them in a binary file.
    pub not_utf8: u64,
    pub first_not_utf8: Option<u64>,
    /// "Lines" without a newline in a whole 1 MiB block, handed out in 1 MiB pieces.
    pub too_long: u64,
    pub first_too_long: Option<u64>,
}

impl Oddities {
    /// Adds the counts of a later read of the same file.
    pub fn merge(&mut self, later: Oddities) {
        self.not_utf8 += later.not_utf8;
        self.first_not_utf8 = self.first_not_utf8.or(later.first_not_utf8);
        self.too_long += later.too_long;
        self.first_too_long = self.first_too_long.or(later.first_too_long);
    }

    /// What to tell the user about `path`, if anything.
    pub fn warnings(&self, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(at) = self.first_not_utf8 {
            out.push(format!(
                "{path}: {} line(s) are not UTF-8 text, the first at byte {at} (binary data?); \
                 they were read with the bad bytes replaced",
                self.not_utf8
            ));
        }
        if let Some(at) = self.first_too_long {
            out.push(format!(
                "{path}: {} piece(s) of over 1 MiB without a line end, the first at byte {at}; \
                 each was counted as one line",
                self.too_long
            ));
        }
        out
    }
}

/// How many of a log's first bytes identify it.
pub const HEAD_BYTES: usize = 1024;

impl Input {
    /// `path` (`-` for standard input), read as journald output with `journal`.
    pub fn open_as(path: &Path, index: u32, journal: bool) -> Result<Input> {
        if path.as_os_str() == "-" {
            let mut head = Vec::new();
            io::stdin()
                .take(8)
                .read_to_end(&mut head)
                .context("cannot read standard input")?;
            return Ok(Input {
                path: path.to_path_buf(),
                index,
                len: 0,
                modified: None,
                compression: Compression::sniff(&head),
                journal,
                stdin_head: Some(head),
                pinned: None,
            });
        }
        let input = Input::open(path, index)?;
        Ok(Input { journal, ..input })
    }

    /// Whether offsets are those of a decoded or converted stream, not of the file on disk
    /// (which then cannot be seeked to a line, nor its size compared with an offset).
    pub fn transformed(&self) -> bool {
        self.compression.is_some() || self.journal || self.stdin_head.is_some()
    }

    /// Whether this is standard input (read once, as a whole).
    pub fn is_stdin(&self) -> bool {
        self.stdin_head.is_some()
    }

    /// The bytes of the log as lines are read from it, from `start`: decoded, converted from
    /// journald's form; with a counter of the bytes read from the file or standard input
    /// when those are not the log's own bytes.
    fn stream(&self, start: Position) -> Result<(Box<dyn Read + Send>, Option<RawCount>)> {
        let path = self.path.display();
        let raw: Box<dyn Read + Send> = match (&self.stdin_head, &self.pinned) {
            (Some(head), _) => {
                if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
                    anyhow::bail!("standard input can be read only once: name `-` once");
                }
                Box::new(io::Cursor::new(head.clone()).chain(io::stdin()))
            }
            (None, Some(file)) => {
                let file = Arc::clone(file);
                let pos = if self.transformed() { 0 } else { start.offset };
                let reader = PinnedReader { file, pos };
                if !self.transformed() {
                    return Ok((Box::new(reader), None));
                }
                Box::new(reader)
            }
            (None, None) => {
                let mut file = File::open(&self.path).with_context(|| format!("cannot open {path}"))?;
                if !self.transformed() {
                    file.seek(SeekFrom::Start(start.offset))
                        .with_context(|| format!("cannot seek to byte {} of {path}", start.offset))?;
                    return Ok((Box::new(file), None));
                }
                Box::new(file)
            }
        };
        let (counted, count) = decode::Counted::new(raw);
        let mut reader: Box<dyn Read + Send> = match self.compression {
            Some(format) => decode::decoder(counted, format).with_context(|| format!("cannot read {path}"))?,
            None => Box::new(counted),
        };
        if self.journal {
            let mut buffered = io::BufReader::with_capacity(1 << 16, reader);
            let format = journal::JournalFormat::sniff(buffered.fill_buf().unwrap_or_default());
            reader = Box::new(journal::JournalLines::new(buffered, format));
        }
        if self.compression.is_some() || self.journal {
            // decoding on a second core while this one parses
            reader = Box::new(decode::ReadAhead::spawn(reader));
        }
        // no seeking: read up to where the last read stopped
        let skipped = io::copy(&mut (&mut reader).take(start.offset), &mut io::sink());
        if !skipped.is_ok_and(|n| n == start.offset) {
            anyhow::bail!(
                "{path} reads to less than the {} bytes read from it before: it changed since \
                 (re-create the store, or index it under another name)",
                start.offset
            );
        }
        Ok((reader, Some(count)))
    }

    pub fn open(path: &Path, index: u32) -> Result<Input> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}: check the path and permissions", path.display()))?;
        if meta.is_dir() {
            anyhow::bail!(
                "{} is a directory: pass the log files in it (e.g. {}/mail.log)",
                path.display(),
                path.display()
            );
        }
        let compression = decode::detect(path)
            .with_context(|| format!("cannot read {}: check the path and permissions", path.display()))?;
        Ok(Input {
            path: path.to_path_buf(),
            index,
            len: meta.len(),
            modified: meta.modified().ok().map(DateTime::<Utc>::from),
            compression,
            journal: false,
            stdin_head: None,
            pinned: None,
        })
    }

    /// `path` opened now and read from this open file from then on: its lines, its head and
    /// its inode are those of the file the path showed when it was opened, even if a rotation
    /// renames or replaces it meanwhile (a follower reading while logrotate runs).
    pub fn open_pinned(path: &Path, index: u32, journal: bool) -> Result<Input> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let meta = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.is_file() {
            anyhow::bail!("{} is not a regular file", path.display());
        }
        let file = Arc::new(file);
        let mut magic = Vec::with_capacity(6);
        PinnedReader {
            file: Arc::clone(&file),
            pos: 0,
        }
        .take(6)
        .read_to_end(&mut magic)
        .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Input {
            path: path.to_path_buf(),
            index,
            len: meta.len(),
            modified: meta.modified().ok().map(DateTime::<Utc>::from),
            compression: Compression::sniff(&magic),
            journal,
            stdin_head: None,
            pinned: Some(file),
        })
    }

    /// The log's first `n` bytes as they are now (decoded, for a compressed file), of the
    /// pinned file; `None` for an input not opened by [`Input::open_pinned`].
    pub fn pinned_head(&self, n: usize) -> Option<Result<Vec<u8>>> {
        let file = self.pinned.as_ref()?;
        let raw = PinnedReader {
            file: Arc::clone(file),
            pos: 0,
        };
        let mut head = Vec::with_capacity(n);
        Some(match self.compression {
            None => raw
                .take(n as u64)
                .read_to_end(&mut head)
                .map(|_| head)
                .with_context(|| format!("cannot read {}", self.path.display())),
            Some(format) => decode::decoder(raw, format)
                .map(|decoded| {
                    // a file damaged within its head is known by what decodes
                    let _ = decoded.take(n as u64).read_to_end(&mut head);
                    head
                })
                .with_context(|| format!("cannot read {}", self.path.display())),
        })
    }

    /// The device and inode of the pinned file.
    pub fn pinned_inode(&self) -> Option<(u64, u64)> {
        Some(dev_ino(&self.pinned.as_ref()?.metadata().ok()?))
    }

    /// Calls `f` with every line of the file and its position. `progress` gets bytes read.
    pub fn for_each_line(&self, f: impl FnMut(&str, LineRef), progress: impl FnMut(u64)) -> Result<ReadEnd> {
        self.for_each_line_from(Position::default(), false, None, f, progress)
    }

    /// Like [`Input::for_each_line`], from `start` (a position an earlier read returned).
    /// With `hold_partial`, a last line without its newline is not handed out (a writer may
    /// be in the middle of it) and the returned position is the start of that line; otherwise
    /// it is the end of the file. With `stop_after`, reading stops at the first line boundary
    /// after that many bytes (of the decoded log). Returns where it stopped, whether that is
    /// the end of the file, and the damage that stopped the decoding of a compressed file.
    pub fn for_each_line_from(
        &self,
        start: Position,
        hold_partial: bool,
        stop_after: Option<u64>,
        mut f: impl FnMut(&str, LineRef),
        progress: impl FnMut(u64),
    ) -> Result<ReadEnd> {
        self.for_each_raw_line_from(start, hold_partial, stop_after, |_, line, at| f(line, at), progress)
    }

    /// Like [`Input::for_each_line_from`], also handing out each line's bytes as they were
    /// (with a `\r` before the newline, and bytes that are not UTF-8).
    pub fn for_each_raw_line_from(
        &self,
        start: Position,
        hold_partial: bool,
        stop_after: Option<u64>,
        mut f: impl FnMut(&[u8], &str, LineRef),
        progress: impl FnMut(u64),
    ) -> Result<ReadEnd> {
        let mut line_no = start.line;
        let mut not_text = NotText::default();
        let end = self.read_blocks_from(start, hold_partial, stop_after, BLOCK, progress, |mut block| {
            let found = block.check_text();
            not_text.lines += found.lines;
            not_text.first = not_text.first.or(found.first);
            for l in block.lines(line_no + 1) {
                line_no = l.at.line;
                f(l.bytes, l.text, l.at);
            }
        })?;
        Ok(end.with_lines(line_no, not_text))
    }

    /// Reads the log from `start` in [`Block`]s of whole lines of about `target` bytes (at most
    /// 1 MiB; a "line" without a newline in 1 MiB is handed out in 1 MiB pieces, each a block of
    /// its own), handing each to `on_block` in order. `hold_partial` and `stop_after` are as in
    /// [`Input::for_each_line_from`]; the returned end knows no line numbers (see
    /// [`BlocksEnd::with_lines`]).
    pub fn read_blocks_from(
        &self,
        start: Position,
        hold_partial: bool,
        stop_after: Option<u64>,
        target: usize,
        mut progress: impl FnMut(u64),
        mut on_block: impl FnMut(Block),
    ) -> Result<BlocksEnd> {
        let target = target.clamp(1, BLOCK);
        let first = start.offset;
        let path = self.path.display();
        let (mut reader, compressed) = self.stream(start)?;
        let mut counted = compressed.as_ref().map_or(0, |c| c.load(Ordering::Relaxed));
        progress(counted);
        let mut buf: Vec<u8> = Vec::with_capacity(target);
        let mut head = Vec::new();
        let mut oddities = Oddities::default();
        let mut base: u64 = start.offset; // log offset of buf[0]
        loop {
            if buf.len() == BLOCK {
                // no newline in a whole block (corrupt or binary input): hand the block out
                // as one line, so memory stays bounded whatever the input
                oddities.too_long += 1;
                oddities.first_too_long.get_or_insert(base);
                let piece = std::mem::replace(&mut buf, Vec::with_capacity(target));
                on_block(Block::new(piece, base, self.index));
                base += BLOCK as u64;
            }
            // fill up to the target, or on to the 1 MiB limit when a line is longer than that
            let filled_before = buf.len();
            let goal = if buf.len() < target { target } else { BLOCK };
            // (a decoder is read a little at a time by its read-ahead thread, which hands out
            // what it decoded before damage)
            let (eof, damage) = match fill(&mut reader, &mut buf, goal) {
                Ok(eof) => (eof, None),
                // the data of a compressed file or a journal export damaged: what came before
                // it is read, and so is the rest of the input
                Err(e) if self.compression.is_some() || (self.journal && e.kind() == io::ErrorKind::UnexpectedEof) => {
                    let c = compressed.as_ref().map_or(0, |c| c.load(Ordering::Relaxed));
                    let what = self.compression.map_or("journal", Compression::name);
                    (
                        true,
                        Some(format!(
                            "{path}: the {what} data is damaged or cut short near {}byte {c} (log byte {}): \
                             {e}; the lines before it were read",
                            if self.compression.is_some() { "compressed " } else { "" },
                            base + buf.len() as u64
                        )),
                    )
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("read error in {path} at byte {}", base + buf.len() as u64))
                }
            };
            // the log's first bytes, by which the store knows standard input again
            let at = base + filled_before as u64;
            if first == 0 && at < HEAD_BYTES as u64 {
                let take = (buf.len() - filled_before).min(HEAD_BYTES - at as usize);
                head.extend_from_slice(&buf[filled_before..filled_before + take]);
            }
            match &compressed {
                Some(c) => {
                    let now = c.load(Ordering::Relaxed);
                    progress(now - counted);
                    counted = now;
                }
                None => progress((buf.len() - filled_before) as u64),
            }
            // hand out the whole lines; a last line without its newline too at the end
            let cut = if eof && !hold_partial {
                buf.len()
            } else {
                memchr::memrchr(b'\n', &buf).map_or(0, |nl| nl + 1)
            };
            if cut > 0 {
                let mut rest = Vec::with_capacity(target.max(buf.len() - cut));
                rest.extend_from_slice(&buf[cut..]);
                let mut lines = std::mem::replace(&mut buf, rest);
                lines.truncate(cut);
                on_block(Block::new(lines, base, self.index));
                base += cut as u64;
            }
            if eof {
                return Ok(BlocksEnd {
                    offset: base,
                    eof: true,
                    damage,
                    head,
                    oddities,
                });
            }
            if stop_after.is_some_and(|n| base - first >= n) {
                return Ok(BlocksEnd {
                    offset: base,
                    eof: false,
                    damage: None,
                    head,
                    oddities,
                });
            }
        }
    }
}

/// Where [`Input::read_blocks_from`] stopped: a [`ReadEnd`] without the line count, which
/// only the one who split the blocks into lines knows.
#[derive(Debug, Clone)]
pub struct BlocksEnd {
    pub offset: u64,
    pub eof: bool,
    pub damage: Option<String>,
    pub head: Vec<u8>,
    /// The over-long pieces (lines that are not UTF-8 are found in the blocks).
    pub oddities: Oddities,
}

impl BlocksEnd {
    /// The end of a read that handed out lines up to number `line`, `not_text` of them not
    /// UTF-8.
    pub fn with_lines(self, line: u64, not_text: NotText) -> ReadEnd {
        let mut oddities = self.oddities;
        oddities.not_utf8 += not_text.lines;
        oddities.first_not_utf8 = oddities.first_not_utf8.or(not_text.first);
        ReadEnd {
            at: Position {
                offset: self.offset,
                line,
            },
            eof: self.eof,
            damage: self.damage,
            head: self.head,
            oddities,
        }
    }
}

/// A place in a file between two lines: the byte offset of the next line and the number of
/// lines before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub offset: u64,
    pub line: u64,
}

/// Reads into `buf` until it holds `goal` bytes or the input ends; returns whether it ended.
/// (`read_to_end` reads into the spare capacity: a file's bytes are not zeroed first.)
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, goal: usize) -> io::Result<bool> {
    let want = goal.saturating_sub(buf.len());
    if want == 0 {
        return Ok(false);
    }
    buf.reserve_exact(want);
    let got = reader.take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lines_offsets_and_last_line_without_newline() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"one\r\ntwo\n\xff bad\nlast").unwrap();
        let input = Input::open(f.path(), 0).unwrap();
        let mut seen = Vec::new();
        input
            .for_each_line(|l, at| seen.push((l.to_string(), at.offset, at.line)), |_| {})
            .unwrap();
        assert_eq!(
            seen,
            vec![
                ("one".to_string(), 0, 1),
                ("two".to_string(), 5, 2),
                ("\u{fffd} bad".to_string(), 9, 3),
                ("last".to_string(), 15, 4)
            ]
        );
        let mut gz = tempfile::NamedTempFile::new().unwrap();
        gz.write_all(&[0x1f, 0x8b, 8, 0, 0, 0]).unwrap();
        let cut = Input::open(gz.path(), 1).unwrap();
        assert_eq!(cut.compression, Some(Compression::Gzip));
        let end = cut.for_each_line(|_, _| panic!("no line"), |_| {}).unwrap();
        assert!(end.damage.is_some_and(|d| d.contains("gzip data is damaged")));
        let mut long = tempfile::NamedTempFile::new().unwrap();
        long.write_all(&vec![b'x'; BLOCK * 2 + 10]).unwrap();
        long.write_all(b"\nshort\n").unwrap();
        let input_long = Input::open(long.path(), 2).unwrap();
        let mut lens = Vec::new();
        input_long
            .for_each_line(|l, at| lens.push((l.len(), at.offset)), |_| {})
            .unwrap();
        assert_eq!(
            lens,
            vec![
                (BLOCK, 0),
                (BLOCK, BLOCK as u64),
                (10, 2 * BLOCK as u64),
                (5, 2 * BLOCK as u64 + 11)
            ]
        );
        let mut resumed = Vec::new();
        let end = input
            .for_each_line_from(
                Position { offset: 5, line: 1 },
                true,
                None,
                |l, at| resumed.push((l.to_string(), at.line)),
                |_| {},
            )
            .unwrap();
        assert_eq!(resumed, vec![("two".to_string(), 2), ("\u{fffd} bad".to_string(), 3)]);
        assert_eq!(
            end,
            ReadEnd {
                at: Position { offset: 15, line: 3 },
                eof: true,
                damage: None,
                head: Vec::new(),
                oddities: Oddities {
                    not_utf8: 1,
                    first_not_utf8: Some(9),
                    ..Oddities::default()
                }
            }
        );
        // stopping after a number of bytes, at a line boundary past it; each call goes on
        // where the last stopped, and together they hand out every line once
        let mut chunks = Vec::new();
        let mut at = Position::default();
        loop {
            let mut chunk = Vec::new();
            let end = input_long
                .for_each_line_from(at, false, Some(10), |l, r| chunk.push((l.len(), r.line)), |_| {})
                .unwrap();
            chunks.push(chunk);
            at = end.at;
            if end.eof {
                break;
            }
        }
        assert_eq!(
            at,
            Position {
                offset: 2 * BLOCK as u64 + 17,
                line: 4
            }
        );
        assert_eq!(chunks, vec![vec![(BLOCK, 1)], vec![(BLOCK, 2), (10, 3), (5, 4)]]);
    }
}
