//! A block of the day's raw lines, stored column by column so that zstd sees like next to like.
//!
//! ```text
//! varint count, varint layout
//! times      per line: 0 (no time of its own) or zigzag(µs − the last time) + 1
//! files      per line: the file number
//! offsets    per line: zigzag(offset − where the line would start after the one before it
//!            in the same file), so 0 for a file read straight through
//! layout 0:  heads, then tails: each line split after its first ": " (the syslog envelope
//!            and program, then the message), each part ended by "\n"
//! layout 1:  (a line holds "\n") per line its length, then the bytes run together
//! ```
//!
//! Every column is preceded by its length in bytes. Splitting a line is only a way of
//! storing it: a line is its head and its tail joined, so it comes back byte for byte.

use anyhow::{bail, Result};

use super::varint::{read_varint, unzigzag, varint, zigzag};
use crate::store::raw::Record;

/// How far into a line its envelope may end (a head is at most this long).
const HEAD_MAX: usize = 160;

/// The block's records, uncompressed.
pub fn encode(records: &[Record]) -> Vec<u8> {
    let split = !records.iter().any(|r| memchr::memchr(b'\n', &r.bytes).is_some());
    let mut times = Vec::new();
    let mut files = Vec::new();
    let mut offsets = Vec::new();
    let mut last_time = 0i64;
    let mut next: Option<(u32, u64)> = None;
    for r in records {
        match r.time {
            Some(t) => {
                let us = t.timestamp_micros();
                varint(&mut times, zigzag(us.wrapping_sub(last_time)).wrapping_add(1));
                last_time = us;
            }
            None => varint(&mut times, 0),
        }
        varint(&mut files, u64::from(r.file));
        let expected = match next {
            Some((file, at)) if file == r.file => at,
            _ => 0,
        };
        varint(&mut offsets, zigzag(r.offset.wrapping_sub(expected) as i64));
        next = Some((r.file, r.offset + r.bytes.len() as u64 + 1));
    }
    let mut out = Vec::new();
    varint(&mut out, records.len() as u64);
    varint(&mut out, u64::from(!split));
    for column in [&times, &files, &offsets] {
        varint(&mut out, column.len() as u64);
        out.extend_from_slice(column);
    }
    if split {
        let mut heads = Vec::new();
        let mut tails = Vec::new();
        for r in records {
            let at = head_len(&r.bytes);
            heads.extend_from_slice(&r.bytes[..at]);
            heads.push(b'\n');
            tails.extend_from_slice(&r.bytes[at..]);
            tails.push(b'\n');
        }
        for column in [&heads, &tails] {
            varint(&mut out, column.len() as u64);
            out.extend_from_slice(column);
        }
    } else {
        let mut lens = Vec::new();
        let mut bytes = Vec::new();
        for r in records {
            varint(&mut lens, r.bytes.len() as u64);
            bytes.extend_from_slice(&r.bytes);
        }
        for column in [&lens, &bytes] {
            varint(&mut out, column.len() as u64);
            out.extend_from_slice(column);
        }
    }
    out
}

/// Where a line's head ends: after its first ": " near the start, else at 0.
fn head_len(line: &[u8]) -> usize {
    let window = &line[..line.len().min(HEAD_MAX)];
    memchr::memmem::find(window, b": ").map_or(0, |at| at + 2)
}

/// The records of a block written by [`encode`].
pub fn decode(bytes: &[u8]) -> Result<Vec<Record>> {
    let mut r = bytes;
    let count = read_varint(&mut r) as usize;
    let layout = read_varint(&mut r);
    let (mut times, mut files, mut offsets) = (column(&mut r)?, column(&mut r)?, column(&mut r)?);
    let (mut heads, mut tails) = (column(&mut r)?, column(&mut r)?);
    let mut out = Vec::with_capacity(count.min(1 << 20));
    let mut last_time = 0i64;
    let mut next: Option<(u32, u64)> = None;
    for _ in 0..count {
        if times.is_empty() {
            bail!("a block of lines is cut short");
        }
        let t = read_varint(&mut times);
        let time = if t == 0 {
            None
        } else {
            last_time = last_time.wrapping_add(unzigzag(t - 1));
            chrono::DateTime::from_timestamp_micros(last_time)
        };
        let file = read_varint(&mut files) as u32;
        let expected = match next {
            Some((f, at)) if f == file => at,
            _ => 0,
        };
        let offset = expected.wrapping_add(unzigzag(read_varint(&mut offsets)) as u64);
        let bytes = if layout == 0 {
            let mut line = take_line(&mut heads)?;
            line.extend_from_slice(&take_line(&mut tails)?);
            line
        } else {
            let len = read_varint(&mut heads) as usize;
            if len > tails.len() {
                bail!("a block of lines is cut short");
            }
            let (b, rest) = tails.split_at(len);
            tails = rest;
            b.to_vec()
        };
        // wrapping, as `offset` itself: a damaged offset must not overflow (a debug build panics)
        next = Some((file, offset.wrapping_add(bytes.len() as u64 + 1)));
        out.push(Record {
            time,
            file,
            offset,
            bytes,
        });
    }
    Ok(out)
}

/// The next column: its length, then its bytes (borrowed from the block).
fn column<'a>(r: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = read_varint(r) as usize;
    if len > r.len() {
        bail!("a block of lines is cut short");
    }
    let (c, rest) = r.split_at(len);
    *r = rest;
    Ok(c)
}

fn take_line(r: &mut &[u8]) -> Result<Vec<u8>> {
    let Some(end) = memchr::memchr(b'\n', r) else {
        bail!("a block of lines is cut short");
    };
    let line = r[..end].to_vec();
    *r = &r[end + 1..];
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(time: Option<i64>, file: u32, offset: u64, bytes: &[u8]) -> Record {
        Record {
            time: time.and_then(chrono::DateTime::from_timestamp_micros),
            file,
            offset,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn round_trip_both_layouts() {
        let lines = vec![
            rec(
                Some(1_794_268_800_000_000),
                0,
                0,
                b"Nov 10 00:00:00 mx1 postfix/smtpd[1]: connect from x[1.2.3.4]",
            ),
            rec(None, 0, 64, b"Subject: no time of its own"),
            rec(Some(1_794_268_799_000_000), 3, 10, b"no colon space here\r"),
            rec(Some(1_794_268_801_000_000), 0, 5000, b""),
            rec(Some(1_794_268_801_000_000), 3, 31, b"\xff\xfe: binary: yes"),
        ];
        assert_eq!(decode(&encode(&lines)).unwrap(), lines);
        let mut with_newline = lines.clone();
        with_newline.push(rec(Some(1), 1, 0, b"a\nb: c"));
        assert_eq!(decode(&encode(&with_newline)).unwrap(), with_newline);
    }

    #[test]
    fn cut_short_is_an_error_not_a_panic() {
        let lines = vec![rec(Some(1), 0, 0, b"a: b"), rec(Some(2), 0, 5, b"c: d")];
        let bytes = encode(&lines);
        for n in 0..bytes.len() {
            let _ = decode(&bytes[..n]);
        }
    }
}
