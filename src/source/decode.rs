//! Compressed logs, recognised by their magic bytes (never by name): gzip (several members, as
//! `cat a.gz b.gz` or pigz write), zstd (several frames), bzip2 (several streams) and xz.
//! Each is decoded as a stream, block by block, by a well-kept crate; the compressed bytes
//! read so far are counted for the progress bar and for error messages.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A compression format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
        }
    }

    /// The format whose magic bytes `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        match head {
            [0x1f, 0x8b, ..] => Some(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Compression::Zstd),
            [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Compression::Bzip2),
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Compression::Xz),
            _ => None,
        }
    }
}

/// The compression of the file at `path`, if any.
pub fn detect(path: &Path) -> io::Result<Option<Compression>> {
    let mut head = [0u8; 6];
    let mut f = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Compression::sniff(&head[..n]))
}

/// A reader that counts the bytes read through it.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Counted<R> {
    /// `inner`, and the counter of the bytes read from it.
    pub fn new(inner: R) -> (Counted<R>, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Counted {
                inner,
                count: Arc::clone(&count),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The decoded stream of `raw`.
pub fn decoder(raw: impl Read + Send + 'static, format: Compression) -> io::Result<Box<dyn Read + Send>> {
    let buffered = io::BufReader::with_capacity(1 << 16, raw);
    Ok(match format {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buffered)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(buffered)),
    })
}

/// Bytes decoded per message from the read-ahead thread.
const AHEAD_CHUNK: usize = 256 << 10;
/// Messages the read-ahead thread may be ahead by.
const AHEAD_DEPTH: usize = 8;
/// Bytes asked of the inner reader at a time: a decoder that meets damage drops what it
/// decoded in the same call, so little is asked at once.
const AHEAD_STEP: usize = 32 << 10;

/// A reader that decodes on its own thread, a few chunks ahead of the one reading it, so that
/// decompression (or journald conversion) and parsing use two cores. What the inner reader
/// gave before an error is handed out before the error.
pub struct ReadAhead {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

impl ReadAhead {
    pub fn spawn(mut inner: Box<dyn Read + Send>) -> ReadAhead {
        let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD_DEPTH);
        std::thread::spawn(move || loop {
            let mut chunk = vec![0u8; AHEAD_CHUNK];
            let mut filled = 0;
            let mut failure = None;
            while filled < chunk.len() {
                let end = (filled + AHEAD_STEP).min(chunk.len());
                match inner.read(&mut chunk[filled..end]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            chunk.truncate(filled);
            let last = filled == 0 || failure.is_some();
            if filled > 0 && tx.send(Ok(chunk)).is_err() {
                return; // the reader is gone
            }
            if let Some(e) = failure {
                let _ = tx.send(Err(e));
            }
            if last {
                return;
            }
        });
        ReadAhead {
            chunks: rx,
            current: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // the thread ended: the end of the input
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Some(Compression::Gzip));
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::sniff(b"BZh91AY"), Some(Compression::Bzip2));
        assert_eq!(Compression::sniff(b"\xfd7zXZ\x00\x00"), Some(Compression::Xz));
        assert_eq!(Compression::sniff(b"BZh plain text"), None);
        assert_eq!(Compression::sniff(b"Nov 10 00:00:01 mx1"), None);
        assert_eq!(Compression::sniff(b""), None);
    }

    #[test]
    fn read_ahead_hands_out_everything_then_the_error() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        ReadAhead::spawn(Box::new(io::Cursor::new(data.clone())))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        // a reader that fails after 100 000 bytes: those come first, then the error
        let failing = io::Cursor::new(data[..100_000].to_vec()).chain(Failing);
        let mut r = ReadAhead::spawn(Box::new(failing));
        let mut got = Vec::new();
        let err = r.read_to_end(&mut got).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(got, data[..100_000]);
    }

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::InvalidData, "damaged"))
        }
    }
}
