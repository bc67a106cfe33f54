//! Reading log files as lines, each with its [`LineRef`] (file, byte offset, line number).
//!
//! Files are read in large blocks and split with `memchr`, so a line is handed out without a
//! copy unless it straddles two blocks. A line that is not UTF-8 is handed out lossily
//! converted: it is still parsed or counted, never dropped. A final line without a newline is
//! a line too. A "line" longer than the 1 MiB block (binary or corrupt input) is handed out in
//! 1 MiB pieces, each counted, so memory does not grow with the input.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::event::LineRef;

const BLOCK: usize = 1 << 20;

/// One input file.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub index: u32,
    pub len: u64,
    pub modified: Option<DateTime<Utc>>,
}

impl Input {
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
        if let Some(kind) = compression(path) {
            anyhow::bail!(
                "{} is {kind}-compressed, which this version does not read yet: decompress it first \
                 (e.g. zcat {} > /tmp/mail.log) and pass the plain file",
                path.display(),
                path.display()
            );
        }
        Ok(Input {
            path: path.to_path_buf(),
            index,
            len: meta.len(),
            modified: meta.modified().ok().map(DateTime::<Utc>::from),
        })
    }

    /// Calls `f` with every line of the file and its position. `progress` gets bytes read.
    pub fn for_each_line(&self, f: impl FnMut(&str, LineRef), progress: impl FnMut(u64)) -> Result<()> {
        self.for_each_line_from(Position::default(), false, None, f, progress)
            .map(|_| ())
    }

    /// Like [`Input::for_each_line`], from `start` (a position an earlier read returned).
    /// With `hold_partial`, a last line without its newline is not handed out (a writer may
    /// be in the middle of it) and the returned position is the start of that line; otherwise
    /// it is the end of the file. With `stop_after`, reading stops at the first line boundary
    /// after that many bytes. Returns where it stopped and whether that is the end of the file.
    pub fn for_each_line_from(
        &self,
        start: Position,
        hold_partial: bool,
        stop_after: Option<u64>,
        mut f: impl FnMut(&str, LineRef),
        mut progress: impl FnMut(u64),
    ) -> Result<(Position, bool)> {
        let first = start.offset;
        let mut file = File::open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        file.seek(SeekFrom::Start(start.offset))
            .with_context(|| format!("cannot seek to byte {} of {}", start.offset, self.path.display()))?;
        let mut buf = vec![0u8; BLOCK];
        let mut filled = 0usize;
        let mut base: u64 = start.offset; // file offset of buf[0]
        let mut line_no: u64 = start.line;
        loop {
            if filled == buf.len() {
                // no newline in a whole block (corrupt or binary input): hand the block out
                // as one line, so memory stays bounded whatever the input
                line_no += 1;
                emit(&buf[..filled], base, line_no, self.index, &mut f);
                base += filled as u64;
                filled = 0;
            }
            let n = read_some(&mut file, &mut buf[filled..])
                .with_context(|| format!("read error in {} at byte {}", self.path.display(), base + filled as u64))?;
            let eof = n == 0;
            filled += n;
            progress(n as u64);
            let mut start = 0usize;
            for nl in memchr::memchr_iter(b'\n', &buf[..filled]) {
                line_no += 1;
                emit(&buf[start..nl], base + start as u64, line_no, self.index, &mut f);
                start = nl + 1;
            }
            if eof {
                if start < filled && !hold_partial {
                    line_no += 1;
                    emit(&buf[start..filled], base + start as u64, line_no, self.index, &mut f);
                    start = filled;
                }
                let at = Position {
                    offset: base + start as u64,
                    line: line_no,
                };
                return Ok((at, true));
            }
            if stop_after.is_some_and(|n| base + start as u64 - first >= n) {
                let at = Position {
                    offset: base + start as u64,
                    line: line_no,
                };
                return Ok((at, false));
            }
            buf.copy_within(start..filled, 0);
            filled -= start;
            base += start as u64;
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

/// The compression format of `path`, by its magic bytes.
fn compression(path: &Path) -> Option<&'static str> {
    let mut magic = [0u8; 4];
    let n = File::open(path).and_then(|mut f| f.read(&mut magic)).ok()?;
    match &magic[..n] {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd] => Some("zstd"),
        [b'B', b'Z', b'h', _] => Some("bzip2"),
        [0xfd, b'7', b'z', b'X'] => Some("xz"),
        _ => None,
    }
}

fn read_some(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn emit(raw: &[u8], offset: u64, line: u64, file: u32, f: &mut impl FnMut(&str, LineRef)) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let at = LineRef {
        file,
        offset,
        line,
        len: raw.len() as u32,
    };
    match simdutf8::basic::from_utf8(raw) {
        Ok(s) => f(s, at),
        Err(_) => f(&String::from_utf8_lossy(raw), at),
    }
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
        let err = Input::open(gz.path(), 1).unwrap_err().to_string();
        assert!(err.contains("gzip-compressed"), "{err}");
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
        assert_eq!(end, (Position { offset: 15, line: 3 }, true));
        // stopping after a number of bytes, at a line boundary past it; each call goes on
        // where the last stopped, and together they hand out every line once
        let mut chunks = Vec::new();
        let mut at = Position::default();
        loop {
            let mut chunk = Vec::new();
            let (next, end) = input_long
                .for_each_line_from(at, false, Some(10), |l, r| chunk.push((l.len(), r.line)), |_| {})
                .unwrap();
            chunks.push(chunk);
            at = next;
            if end {
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
        assert_eq!(
            chunks,
            vec![vec![(BLOCK, 1)], vec![(BLOCK, 2), (10, 3), (5, 4)], vec![]]
        );
    }
}
