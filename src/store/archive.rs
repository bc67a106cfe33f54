//! The archive tier: one file per day, `archive/YYYY-MM-DD.mtar`, written once by `maintain`
//! when the day leaves the hot window, read by `search --historical` and `show`.
//!
//! ```text
//! "MTARCHV1"
//! block 0 … block n     zstd frames, each the JSON lines of up to 256 stored traces
//! index                 a zstd frame: the day, the blocks (offset, length, xxh3, ordinals)
//!                       and the terms (sender, recipient, domains, Message-ID, queue ids,
//!                       trace id, client IP, status, subject words, facts) → trace ordinals
//! trailer (40 bytes)    index offset, index length, xxh3 of the index, xxh3 of everything
//!                       before the trailer (all u64 LE), "MTAEND01"
//! ```
//!
//! A search reads the trailer and the index, looks the criteria's most selective term up and
//! decodes only the blocks that hold candidates; the criteria are then checked on each trace
//! exactly as a scan of the logs checks them, so both give the same rows. Every block and the
//! index carry their own checksum, checked when read: a damaged archive is named with the
//! offset of the damage, and the rest of the store keeps answering. `verify` checks the
//! checksum of the whole file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::raw::Record;
use super::schema::StoredTrace;
use crate::query::{words, AddressPattern, Criteria};

const MAGIC: &[u8; 8] = b"MTARCHV2";
const END: &[u8; 8] = b"MTAEND01";
const TRAILER: usize = 40;
/// Traces per block: a lookup decodes one block per candidate.
const BLOCK_TRACES: usize = 256;
const LEVEL: i32 = 9;

/// Where a block of traces lies in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Block {
    offset: u64,
    len: u64,
    xxh3: u64,
    /// The ordinal of its first trace.
    first: u32,
    count: u32,
}

/// What an archive's header holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Index {
    day: NaiveDate,
    traces: u32,
    rows: u64,
    first_time: Option<DateTime<Utc>>,
    last_time: Option<DateTime<Utc>>,
    blocks: Vec<Block>,
    /// The day's raw lines (records of [`super::raw::Record`]), in the order they were read.
    raw_blocks: Vec<Block>,
    postings: Block,
    terms: Block,
}

/// What an archive holds, for `store info`.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveInfo {
    pub day: NaiveDate,
    pub traces: u64,
    pub rows: u64,
    pub bytes: u64,
}

/// The archive file of `day` in `dir`.
pub fn path_of(dir: &Path, day: NaiveDate) -> PathBuf {
    dir.join(format!("{}.mtar", day.format("%Y-%m-%d")))
}

/// The days archived in `dir`, oldest first.
pub fn days(dir: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for e in entries {
        let path = e?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(day) = name
            .strip_suffix(".mtar")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            out.push((day, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The index terms of a trace.
fn terms(t: &crate::trace::Trace) -> Vec<String> {
    let mut out = Vec::new();
    let mut address = |kind: &str, a: &str| {
        let a = a.to_ascii_lowercase();
        if let Some((_, dom)) = a.rsplit_once('@') {
            out.push(format!("{kind}dom:{dom}"));
            for (i, _) in dom.match_indices('.') {
                out.push(format!("{kind}dom:{}", &dom[i + 1..]));
            }
        }
        out.push(format!("{kind}:{a}"));
    };
    if let Some(f) = &t.from {
        address("from", f);
    }
    for r in &t.recipients {
        address("to", &r.address);
        if let Some(o) = &r.orig_to {
            address("to", o);
        }
    }
    if let Some(m) = &t.message_id {
        out.push(format!("mid:{m}"));
    }
    for q in &t.queue_ids {
        out.push(format!("qid:{q}"));
    }
    out.push(format!("tid:{}", t.trace_id));
    if let Some(ip) = &t.client.ip {
        out.push(format!("ip:{ip}"));
    }
    for r in &t.recipients {
        out.push(format!("st:{}", r.status.as_str()));
    }
    if t.recipients.is_empty() {
        out.push("st:in-progress".to_string());
    }
    // `--spam`, `--virus`, `--auth-fail`, `--folder`: the facts of every row, prefixed
    let rows: Vec<Option<&crate::trace::Recipient>> = if t.recipients.is_empty() {
        vec![None]
    } else {
        t.recipients.iter().map(Some).collect()
    };
    for r in rows {
        out.extend(super::schema::facts(t, r).into_iter().map(|f| format!("fact:{f}")));
    }
    if let Some(s) = &t.subject {
        for text in crate::query::subject_texts(s) {
            out.extend(words(&text).into_iter().map(|w| format!("w:{w}")));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Raw bytes of records per raw block.
const RAW_BLOCK: usize = 4 << 20;

/// Writes the archive of `day` holding `traces` and the day's `raw` lines to `path` (through a
/// temporary file, synced, then renamed: a crash leaves the old file or the new one, never half
/// of one).
pub fn write(path: &Path, day: NaiveDate, traces: &[StoredTrace], raw: &[Record]) -> Result<ArchiveInfo> {
    let tmp = path.with_extension("mtar.tmp");
    let mut buf: Vec<u8> = MAGIC.to_vec();
    let empty = Block {
        offset: 0,
        len: 0,
        xxh3: 0,
        first: 0,
        count: 0,
    };
    let mut index = Index {
        day,
        traces: traces.len() as u32,
        rows: traces.iter().map(|t| t.trace.recipients.len().max(1) as u64).sum(),
        first_time: traces.iter().map(|t| t.trace.first_time).min(),
        last_time: traces.iter().map(|t| t.trace.last_time).max(),
        blocks: Vec::new(),
        raw_blocks: Vec::new(),
        postings: empty.clone(),
        terms: empty,
    };
    let mut postings: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (n, t) in traces.iter().enumerate() {
        for term in terms(&t.trace) {
            postings.entry(term).or_default().push(n as u32);
        }
    }
    for (b, chunk) in traces.chunks(BLOCK_TRACES).enumerate() {
        let mut lines = Vec::new();
        for t in chunk {
            // the raw lines are kept once, in the raw blocks: timelines point at them
            let mut bare = t.clone();
            for e in &mut bare.trace.timeline {
                e.text = Box::default();
            }
            serde_json::to_writer(&mut lines, &bare)?;
            lines.push(b'\n');
        }
        let z = zstd::encode_all(&lines[..], LEVEL)?;
        index.blocks.push(Block {
            offset: buf.len() as u64,
            len: z.len() as u64,
            xxh3: xxh3_64(&z),
            first: (b * BLOCK_TRACES) as u32,
            count: chunk.len() as u32,
        });
        buf.extend_from_slice(&z);
    }
    let mut pending = Vec::new();
    let mut first = 0u32;
    for (n, r) in raw.iter().enumerate() {
        r.encode(&mut pending);
        if pending.len() >= RAW_BLOCK || n + 1 == raw.len() {
            let z = zstd::encode_all(&pending[..], LEVEL)?;
            index.raw_blocks.push(Block {
                offset: buf.len() as u64,
                len: z.len() as u64,
                xxh3: xxh3_64(&z),
                first,
                count: n as u32 + 1 - first,
            });
            buf.extend_from_slice(&z);
            pending.clear();
            first = n as u32 + 1;
        }
    }
    // the postings, then the term map pointing into them
    let mut lists = Vec::new();
    let mut map = fst::MapBuilder::memory();
    for (term, ordinals) in &postings {
        map.insert(term, lists.len() as u64)?;
        varint(&mut lists, ordinals.len() as u64);
        let mut last = 0u32;
        for &o in ordinals {
            varint(&mut lists, u64::from(o - last));
            last = o;
        }
    }
    let section = |buf: &mut Vec<u8>, bytes: &[u8]| Block {
        offset: {
            let at = buf.len() as u64;
            buf.extend_from_slice(bytes);
            at
        },
        len: bytes.len() as u64,
        xxh3: xxh3_64(bytes),
        first: 0,
        count: 0,
    };
    index.postings = section(&mut buf, &lists);
    let fst_bytes = map.into_inner()?;
    index.terms = section(&mut buf, &fst_bytes);
    let index_bytes = zstd::encode_all(&serde_json::to_vec(&index)?[..], LEVEL)?;
    let index_offset = buf.len() as u64;
    buf.extend_from_slice(&index_bytes);
    let whole = xxh3_64(&buf);
    buf.extend_from_slice(&index_offset.to_le_bytes());
    buf.extend_from_slice(&(index_bytes.len() as u64).to_le_bytes());
    buf.extend_from_slice(&xxh3_64(&index_bytes).to_le_bytes());
    buf.extend_from_slice(&whole.to_le_bytes());
    buf.extend_from_slice(END);
    let mut f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(&buf)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(ArchiveInfo {
        day,
        traces: index.traces as u64,
        rows: index.rows,
        bytes: buf.len() as u64,
    })
}

/// An archive opened for reading: its index in memory, its blocks read when needed.
pub struct Archive {
    path: PathBuf,
    index: Index,
    len: u64,
    terms: fst::Map<Vec<u8>>,
    postings: Vec<u8>,
}

impl Archive {
    /// Reads the trailer and the index, checking the index's checksum.
    pub fn open(path: &Path) -> Result<Archive> {
        let shown = path.display();
        let mut f = File::open(path).with_context(|| format!("cannot open the archive {shown}"))?;
        let len = f.metadata()?.len();
        if len < (MAGIC.len() + TRAILER) as u64 {
            bail!("the archive {shown} is cut short ({len} bytes): restore it from a copy (`mailtrace import`) or delete it");
        }
        let mut magic = [0u8; 8];
        f.read_exact(&mut magic)?;
        let mut trailer = [0u8; TRAILER];
        f.seek(SeekFrom::Start(len - TRAILER as u64))?;
        f.read_exact(&mut trailer)?;
        if &magic != MAGIC || &trailer[32..] != END {
            bail!(
                "{shown} is not a mailtrace archive, or is cut short (no trailer at byte {}): restore it or delete it",
                len - TRAILER as u64
            );
        }
        let word = |i: usize| u64::from_le_bytes(trailer[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let (offset, size, sum) = (word(0), word(1), word(2));
        if offset.checked_add(size).is_none_or(|end| end > len - TRAILER as u64) {
            bail!("the archive {shown} is damaged: its index at byte {offset} runs past the end");
        }
        let mut raw = vec![0u8; size as usize];
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(&mut raw)?;
        if xxh3_64(&raw) != sum {
            bail!(
                "the archive {shown} is damaged in its index (bytes {offset}..{}): restore it from a copy or delete it",
                offset + size
            );
        }
        let index: Index = serde_json::from_slice(
            &zstd::decode_all(&raw[..]).with_context(|| format!("the archive {shown} is damaged at byte {offset}"))?,
        )
        .with_context(|| format!("the archive {shown} has an index this version cannot read"))?;
        let mut section = |b: &Block, what: &str| -> Result<Vec<u8>> {
            if b.offset.checked_add(b.len).is_none_or(|end| end > offset) {
                bail!("the archive {shown} is damaged: its {what} runs past its header");
            }
            let mut bytes = vec![0u8; b.len as usize];
            f.seek(SeekFrom::Start(b.offset))?;
            f.read_exact(&mut bytes)?;
            if xxh3_64(&bytes) != b.xxh3 {
                bail!(
                    "the archive {shown} is damaged in its {what} (bytes {}..{}): restore it from a copy or delete it",
                    b.offset,
                    b.offset + b.len
                );
            }
            Ok(bytes)
        };
        let postings = section(&index.postings, "postings")?;
        let terms = fst::Map::new(section(&index.terms, "terms")?)
            .with_context(|| format!("the archive {shown} has a damaged term map"))?;
        Ok(Archive {
            path: path.to_path_buf(),
            index,
            len,
            terms,
            postings,
        })
    }

    /// The ordinals of the traces holding `term`.
    fn term(&self, term: &str) -> Vec<u32> {
        let Some(at) = self.terms.get(term) else {
            return Vec::new();
        };
        let Some(mut r) = self.postings.get(at as usize..) else {
            return Vec::new();
        };
        // (checked at open; a list is never longer than the day's traces)
        let n = read_varint(&mut r).min(u64::from(self.index.traces));
        let mut last = 0u32;
        (0..n)
            .map(|_| {
                last = last.saturating_add(read_varint(&mut r) as u32);
                last
            })
            .filter(|&o| o < self.index.traces)
            .collect()
    }

    pub fn day(&self) -> NaiveDate {
        self.index.day
    }

    pub fn info(&self) -> ArchiveInfo {
        ArchiveInfo {
            day: self.index.day,
            traces: self.index.traces as u64,
            rows: self.index.rows,
            bytes: self.len,
        }
    }

    /// Whether traces of this day can fall in [since, until].
    pub fn overlaps(&self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> bool {
        let (Some(first), Some(last)) = (self.index.first_time, self.index.last_time) else {
            return false;
        };
        since.is_none_or(|s| last >= s) && until.is_none_or(|u| first <= u)
    }

    /// The ordinals that can match `c`: those under its most selective term, or all.
    fn candidates(&self, c: &Criteria) -> Vec<u32> {
        let term = |t: String| self.term(&t);
        let address = |kind: &str, p: &AddressPattern| match p {
            AddressPattern::Exact(a) => Some(term(format!("{kind}:{a}"))),
            AddressPattern::Domain(d) => Some(term(format!("{kind}dom:{d}"))),
            _ => None,
        };
        if let Some(m) = &c.message_id {
            return term(format!(
                "mid:{}",
                m.trim().trim_start_matches('<').trim_end_matches('>')
            ));
        }
        if let Some(q) = &c.queue_id {
            return term(format!("qid:{q}"));
        }
        if let Some(found) = c.to.as_ref().and_then(|p| address("to", p)) {
            return found;
        }
        if let Some(found) = c.from.as_ref().and_then(|p| address("from", p)) {
            return found;
        }
        // the words of a subject phrase but its last (a prefix): each must be there
        if let Some(phrase) = c.subject.first() {
            let ws = words(phrase);
            if ws.len() > 1 {
                return term(format!("w:{}", ws[0]));
            }
        }
        if c.statuses.len() == 1 {
            return term(format!("st:{}", c.statuses[0].as_str()));
        }
        if let Some(f) = &c.folder {
            return term(format!("fact:{}", super::schema::folder_term(f)));
        }
        if c.virus {
            return term("fact:virus".to_string());
        }
        if c.spam {
            return term("fact:spam".to_string());
        }
        if let [m] = c.auth_fail[..] {
            return term(format!("fact:{}", super::schema::fail_term(m)));
        }
        (0..self.index.traces).collect()
    }

    /// Reads the traces with these ordinals (sorted), block by block.
    fn load(&self, ordinals: &[u32]) -> Result<Vec<StoredTrace>> {
        let mut out = Vec::new();
        let mut f: Option<File> = None;
        let mut i = 0;
        while i < ordinals.len() {
            let b = &self.index.blocks[(ordinals[i] as usize) / BLOCK_TRACES];
            let traces = self.block(&mut f, b)?;
            while i < ordinals.len() && (ordinals[i] as usize) < (b.first + b.count) as usize {
                out.push(traces[(ordinals[i] - b.first) as usize].clone());
                i += 1;
            }
        }
        Ok(out)
    }

    fn block(&self, f: &mut Option<File>, b: &Block) -> Result<Vec<StoredTrace>> {
        let shown = self.path.display();
        if f.is_none() {
            *f = Some(File::open(&self.path).with_context(|| format!("cannot open the archive {shown}"))?);
        }
        let file = f.as_mut().expect("opened above");
        let mut raw = vec![0u8; b.len as usize];
        file.seek(SeekFrom::Start(b.offset))?;
        file.read_exact(&mut raw)
            .with_context(|| format!("the archive {shown} is cut short at byte {}", b.offset))?;
        if xxh3_64(&raw) != b.xxh3 {
            bail!(
                "the archive {shown} is damaged in bytes {}..{}: restore it from a copy (`mailtrace import`) or delete it",
                b.offset,
                b.offset + b.len
            );
        }
        let lines = zstd::decode_all(&raw[..])
            .with_context(|| format!("the archive {shown} is damaged at byte {}", b.offset))?;
        lines
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice(l)
                    .with_context(|| format!("the archive {shown} holds a trace this version cannot read"))
            })
            .collect()
    }

    /// The traces with a row matching `c`.
    pub fn search(&self, c: &Criteria) -> Result<Vec<StoredTrace>> {
        let mut ordinals = self.candidates(c);
        ordinals.sort_unstable();
        ordinals.dedup();
        Ok(self
            .load(&ordinals)?
            .into_iter()
            .filter(|st| !c.rows(&st.trace).is_empty())
            .collect())
    }

    /// The traces whose queue id, Message-ID or trace id is `id`, with the text of their lines
    /// (from the day's raw lines).
    pub fn traces(&self, id: &str) -> Result<Vec<StoredTrace>> {
        let mut ordinals: Vec<u32> = ["qid:", "mid:", "tid:"]
            .iter()
            .flat_map(|k| self.term(&format!("{k}{id}")))
            .collect();
        ordinals.sort_unstable();
        ordinals.dedup();
        let mut traces = self.load(&ordinals)?;
        if !traces.is_empty() {
            let lines: std::collections::HashMap<(u32, u64), Vec<u8>> = self
                .raw_records()?
                .into_iter()
                .map(|r| ((r.file, r.offset), r.bytes))
                .collect();
            for st in &mut traces {
                for e in &mut st.trace.timeline {
                    if let Some(bytes) = lines.get(&(e.line.file, e.line.offset)) {
                        let text = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                        e.text = String::from_utf8_lossy(text).into();
                    }
                }
            }
        }
        Ok(traces)
    }

    /// The day's raw lines, in the order they were read.
    pub fn raw_records(&self) -> Result<Vec<Record>> {
        let shown = self.path.display();
        let mut f = File::open(&self.path).with_context(|| format!("cannot open the archive {shown}"))?;
        let mut out = Vec::new();
        for b in &self.index.raw_blocks {
            let mut raw = vec![0u8; b.len as usize];
            f.seek(SeekFrom::Start(b.offset))?;
            f.read_exact(&mut raw)
                .with_context(|| format!("the archive {shown} is cut short at byte {}", b.offset))?;
            if xxh3_64(&raw) != b.xxh3 {
                bail!(
                    "the archive {shown} is damaged in bytes {}..{}: restore it from a copy or delete it",
                    b.offset,
                    b.offset + b.len
                );
            }
            let bytes = zstd::decode_all(&raw[..])
                .with_context(|| format!("the archive {shown} is damaged at byte {}", b.offset))?;
            let mut r = &bytes[..];
            while let Some(rec) = Record::decode(&mut r)? {
                out.push(rec);
            }
        }
        Ok(out)
    }

    /// Every trace, in the order they were archived.
    pub fn all(&self) -> Result<Vec<StoredTrace>> {
        self.load(&(0..self.index.traces).collect::<Vec<_>>())
    }
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a varint; 0 past the end (a damaged list reads as short, never as a panic).
fn read_varint(r: &mut &[u8]) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    while let Some((&b, rest)) = r.split_first() {
        *r = rest;
        if shift < 64 {
            n |= u64::from(b & 0x7f) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    n
}

/// Checks an archive's whole-file checksum and every block's; names the first damage.
pub fn verify(path: &Path) -> Result<ArchiveInfo> {
    let archive = Archive::open(path)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let body = &bytes[..bytes.len() - TRAILER];
    let whole = u64::from_le_bytes(bytes[bytes.len() - 16..bytes.len() - 8].try_into().expect("8 bytes"));
    for b in archive.index.blocks.iter().chain(&archive.index.raw_blocks) {
        let raw = &body[b.offset as usize..(b.offset + b.len) as usize];
        if xxh3_64(raw) != b.xxh3 {
            bail!(
                "the archive {} is damaged in bytes {}..{}",
                path.display(),
                b.offset,
                b.offset + b.len
            );
        }
    }
    if xxh3_64(body) != whole {
        bail!(
            "the archive {} is damaged outside its blocks and index (bytes 0..8, its header)",
            path.display()
        );
    }
    Ok(archive.info())
}
