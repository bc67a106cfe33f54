//! The archive tier: one file per day, `archive/YYYY-MM-DD.mtar`, written once by `maintain`
//! when the day leaves the hot window, read by `search --historical`, `show` and `replay`.
//!
//! ```text
//! "MTARCHV3"
//! trace blocks     zstd frames of up to 512 traces each: a trace is a recipe (the ordinals
//!                  of its lines among the day's lines, see [`recipe`]) or, when it cannot be
//!                  built again from them, its JSON
//! line blocks      zstd frames of the day's raw lines in the order they were read, column by
//!                  column (see [`lines`])
//! postings         varint lists of trace ordinals
//! terms            an fst map: term (sender, recipient, their domains, Message-ID, queue ids,
//!                  trace id, client IP, status, subject words, facts) → its postings
//! index            a zstd frame: the day, the blocks (offset, length, xxh3, first ordinal),
//!                  the files' names
//! trailer (40 B)   index offset, index length, xxh3 of the index, xxh3 of everything before
//!                  the trailer (all u64 LE), "MTAEND01"
//! ```
//!
//! The day's lines are kept once: a trace is built again from them when it is read, which is
//! what keeps an archive small. A search reads the trailer and the index, looks the criteria's
//! most selective term up, and builds only the traces under it (decoding the line blocks they
//! need); the criteria are then checked on each trace exactly as a scan of the logs checks
//! them, so both give the same rows. Every block and section carries its own checksum, checked
//! when read: a damaged archive is named with the offset of the damage, and the rest of the
//! store keeps answering. `verify` checks the checksum of the whole file.

mod lines;
mod recipe;
mod varint;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

/// Whether `bytes` have the checksum `sum`. Under `cfg(fuzzing)` (cargo-fuzz) every checksum
/// passes, so that the fuzzer's mutations reach the readers behind them (fuzz/targets/archive.rs).
fn sum_matches(bytes: &[u8], sum: u64) -> bool {
    cfg!(fuzzing) || xxh3_64(bytes) == sum
}

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use self::recipe::Recipe;
use self::varint::{read_varint, varint};
use super::backend::LinkKeys;
use super::raw::Record;
use super::schema::StoredTrace;
use crate::query::{words, AddressPattern, Criteria};
use crate::trace::Trace;

const MAGIC: &[u8; 8] = b"MTARCHV3";
const END: &[u8; 8] = b"MTAEND01";
const TRAILER: usize = 40;
/// Traces per block: a lookup decodes one block per candidate.
const BLOCK_TRACES: usize = 512;
/// zstd level of the trace blocks and the index.
const LEVEL: i32 = 9;
/// zstd level of the line blocks, most of an archive: written once, read rarely.
const LINE_LEVEL: i32 = 15;

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
    /// The day's raw lines (see [`lines`]), in the order they were read.
    raw_blocks: Vec<Block>,
    /// The names of the files the lines came from, by file number.
    files: BTreeMap<u32, String>,
    /// How many traces are kept as recipes (the others whole).
    recipes: u32,
    postings: Block,
    terms: Block,
    /// The hosts of its messages, lowercased (`None`: an archive written before they were
    /// kept).
    #[serde(default)]
    hosts: Option<Vec<String>>,
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

/// The queue id inside a trace id of the form `host:QUEUEID:…`.
fn queue_id_in(trace_id: &str) -> Option<&str> {
    let mut parts = trace_id.split(':');
    let (_, q) = (parts.next()?, parts.next()?);
    parts.next().map(|_| q)
}

/// A term as the term map keeps it: identifiers (one per message and random: they share no
/// prefixes, and were most of the map as text; `next` is the queue id a reply named) by 40
/// bits of their hash, the rest as text. A
/// hash can meet another one, so what is found under it is checked, as every candidate is.
fn key(term: &str) -> Vec<u8> {
    match term.split_once(':') {
        Some((kind @ ("mid" | "qid" | "tid" | "next"), value)) => {
            let mut k = vec![0x01, kind.as_bytes()[0]];
            k.extend_from_slice(&xxh3_64(value.as_bytes()).to_le_bytes()[..5]);
            k
        }
        _ => term.as_bytes().to_vec(),
    }
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
    for q in crate::path::leg::handed_to(t) {
        out.push(format!("next:{q}"));
    }
    // a trace id `host:QUEUEID:…` is found under its queue id
    if !queue_id_in(&t.trace_id).is_some_and(|q| t.queue_ids.iter().any(|x| x == q)) {
        out.push(format!("tid:{}", t.trace_id));
    }
    if let Some(ip) = &t.client.ip {
        // as a search names it: `--client-ip` is parsed, so is the term
        match ip.parse::<std::net::IpAddr>() {
            Ok(a) => out.push(format!("ip:{a}")),
            Err(_) => out.push(format!("ip:{ip}")),
        }
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

/// Bytes of lines per line block.
const RAW_BLOCK: usize = 4 << 20;
/// The tag of a trace kept as a [`Recipe`].
const KEPT_RECIPE: u8 = 0;
/// The tag of a trace kept whole, as JSON.
const KEPT_WHOLE: u8 = 1;

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
    let files: BTreeMap<u32, String> = traces.iter().flat_map(|t| t.files.iter().cloned()).collect();
    let mut index = Index {
        day,
        traces: traces.len() as u32,
        rows: traces.iter().map(|t| t.trace.recipients.len().max(1) as u64).sum(),
        first_time: traces.iter().map(|t| t.trace.first_time).min(),
        last_time: traces.iter().map(|t| t.trace.last_time).max(),
        blocks: Vec::new(),
        raw_blocks: Vec::new(),
        files,
        recipes: 0,
        postings: empty.clone(),
        terms: empty,
        hosts: Some(
            traces
                .iter()
                .map(|t| t.trace.host.to_ascii_lowercase())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        ),
    };
    let mut postings: BTreeMap<Vec<u8>, Vec<u32>> = BTreeMap::new();
    for (n, t) in traces.iter().enumerate() {
        for term in terms(&t.trace) {
            postings.entry(key(&term)).or_default().push(n as u32);
        }
    }
    let ordinal_of: FxHashMap<(u32, u64), u32> = raw
        .iter()
        .enumerate()
        .map(|(n, r)| ((r.file, r.offset), n as u32))
        .collect();
    let recipes: Vec<Option<Recipe>> = traces
        .par_iter()
        .map(|t| Recipe::of(t, &ordinal_of, raw, &index.files))
        .collect();
    index.recipes = recipes.iter().filter(|r| r.is_some()).count() as u32;
    let mut trace_frames = Vec::new();
    for (chunk, kept) in traces.chunks(BLOCK_TRACES).zip(recipes.chunks(BLOCK_TRACES)) {
        let mut payload = Vec::new();
        let mut last = (0u32, 0i64);
        for (t, recipe) in chunk.iter().zip(kept) {
            match recipe {
                Some(r) => {
                    payload.push(KEPT_RECIPE);
                    r.encode(&mut payload, &mut last);
                }
                None => {
                    // the raw lines are kept once, in the line blocks: timelines point at them
                    let mut bare = t.clone();
                    for e in &mut bare.trace.timeline {
                        e.text = Box::default();
                    }
                    let json = serde_json::to_vec(&bare)?;
                    payload.push(KEPT_WHOLE);
                    varint(&mut payload, json.len() as u64);
                    payload.extend_from_slice(&json);
                }
            }
        }
        trace_frames.push((chunk.len() as u32, payload));
    }
    let mut line_frames = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (n, r) in raw.iter().enumerate() {
        bytes += r.bytes.len() + 1;
        if bytes >= RAW_BLOCK || n + 1 == raw.len() {
            line_frames.push((start as u32, &raw[start..=n]));
            start = n + 1;
            bytes = 0;
        }
    }
    let compressed: Vec<std::io::Result<Vec<u8>>> = trace_frames
        .par_iter()
        .map(|(_, payload)| zstd::encode_all(&payload[..], LEVEL))
        .collect();
    let mut first = 0u32;
    for ((count, _), z) in trace_frames.iter().zip(compressed) {
        let z = z?;
        index.blocks.push(Block {
            offset: buf.len() as u64,
            len: z.len() as u64,
            xxh3: xxh3_64(&z),
            first,
            count: *count,
        });
        buf.extend_from_slice(&z);
        first += count;
    }
    let compressed: Vec<std::io::Result<Vec<u8>>> = line_frames
        .par_iter()
        .map(|(_, records)| zstd::encode_all(&lines::encode(records)[..], LINE_LEVEL))
        .collect();
    for ((first, records), z) in line_frames.iter().zip(compressed) {
        let z = z?;
        index.raw_blocks.push(Block {
            offset: buf.len() as u64,
            len: z.len() as u64,
            xxh3: xxh3_64(&z),
            first: *first,
            count: records.len() as u32,
        });
        buf.extend_from_slice(&z);
    }
    // the postings, then the term map pointing into them
    let mut lists = Vec::new();
    let mut map = fst::MapBuilder::memory();
    for (term, ordinals) in &postings {
        if let [only] = ordinals[..] {
            // a term of one trace holds its ordinal itself
            map.insert(term, (u64::from(only) << 1) | 1)?;
            continue;
        }
        map.insert(term, (lists.len() as u64) << 1)?;
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
    index.postings = section(&mut buf, &zstd::encode_all(&lists[..], LEVEL)?);
    let fst_bytes = map.into_inner()?;
    index.terms = section(&mut buf, &zstd::encode_all(&fst_bytes[..], LEVEL)?);
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
    if let Err(e) = f.write_all(&buf).and_then(|_| f.sync_all()) {
        // a half-written archive (the disk full) would only hold the space the next run needs
        drop(f);
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
    }
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

/// A trace as an archive keeps it.
enum Kept {
    Recipe(Recipe),
    Whole(Box<StoredTrace>),
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
    /// Reads the trailer and the index, checking the index's checksum: the open file, its
    /// length, where the index starts, and the index.
    fn read_index(path: &Path) -> Result<(File, u64, u64, Index)> {
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
        if magic.starts_with(b"MTARCHV") && &magic != MAGIC {
            bail!(
                "{shown} is an archive of another mailtrace version (format {}; this one reads format {}): read it with the version that wrote it",
                magic[7] as char,
                MAGIC[7] as char
            );
        }
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
        if !sum_matches(&raw, sum) {
            bail!(
                "the archive {shown} is damaged in its index (bytes {offset}..{}): restore it from a copy or delete it",
                offset + size
            );
        }
        let index: Index = serde_json::from_slice(
            &zstd::decode_all(&raw[..]).with_context(|| format!("the archive {shown} is damaged at byte {offset}"))?,
        )
        .with_context(|| format!("the archive {shown} has an index this version cannot read"))?;
        Ok((f, len, offset, index))
    }

    /// The hosts of an archive's messages, lowercased, from its index alone (`None` for an
    /// archive written before they were kept).
    pub fn hosts_of(path: &Path) -> Result<Option<Vec<String>>> {
        Ok(Self::read_index(path)?.3.hosts)
    }

    /// Reads the trailer and the index, checking the index's checksum, and the term map.
    pub fn open(path: &Path) -> Result<Archive> {
        let shown = path.display();
        let (mut f, len, offset, index) = Self::read_index(path)?;
        let mut section = |b: &Block, what: &str| -> Result<Vec<u8>> {
            if b.offset.checked_add(b.len).is_none_or(|end| end > offset) {
                bail!("the archive {shown} is damaged: its {what} runs past its header");
            }
            let mut bytes = vec![0u8; b.len as usize];
            f.seek(SeekFrom::Start(b.offset))?;
            f.read_exact(&mut bytes)?;
            if !sum_matches(&bytes, b.xxh3) {
                bail!(
                    "the archive {shown} is damaged in its {what} (bytes {}..{}): restore it from a copy or delete it",
                    b.offset,
                    b.offset + b.len
                );
            }
            Ok(bytes)
        };
        let unpack = |bytes: Vec<u8>, b: &Block| {
            zstd::decode_all(&bytes[..]).with_context(|| format!("the archive {shown} is damaged at byte {}", b.offset))
        };
        let postings = unpack(section(&index.postings, "postings")?, &index.postings)?;
        let terms = fst::Map::new(unpack(section(&index.terms, "terms")?, &index.terms)?)
            .with_context(|| format!("the archive {shown} has a damaged term map"))?;
        // the map's own checksum too: `fst` trusts its bytes and panics on a damaged map, so
        // one must not get past a section checksum forged over it (or past cargo-fuzz, under
        // which section checksums pass)
        terms
            .as_fst()
            .verify()
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
        let Some(value) = self.terms.get(key(term)) else {
            return Vec::new();
        };
        if value & 1 == 1 {
            return Vec::from_iter(u32::try_from(value >> 1).ok().filter(|&o| o < self.index.traces));
        }
        let Some(mut r) = self.postings.get((value >> 1) as usize..) else {
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
        // a list: the union of its patterns' ordinals, when each pattern has a term
        let addresses = |kind: &str, ps: &[AddressPattern]| -> Option<Vec<u32>> {
            let mut all: Vec<u32> = Vec::new();
            for p in ps {
                all.extend(address(kind, p)?);
            }
            all.sort_unstable();
            all.dedup();
            (!ps.is_empty()).then_some(all)
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
        if let Some(found) = addresses("to", &c.to) {
            return found;
        }
        if let Some(found) = addresses("from", &c.from) {
            return found;
        }
        if let Some(ip) = c.client_ip.as_ref().and_then(|f| f.single()) {
            return term(format!("ip:{ip}"));
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

    /// Reads the traces with these ordinals (sorted), block by block, building the ones kept
    /// as recipes from their lines.
    fn load(&self, ordinals: &[u32]) -> Result<Vec<StoredTrace>> {
        let mut kept = Vec::with_capacity(ordinals.len());
        let mut f: Option<File> = None;
        let mut i = 0;
        while i < ordinals.len() {
            let at = self.index.blocks.partition_point(|b| b.first + b.count <= ordinals[i]);
            let Some(b) = self.index.blocks.get(at) else {
                break;
            };
            let mut block: Vec<Option<Kept>> = self.trace_block(&mut f, b)?.into_iter().map(Some).collect();
            while i < ordinals.len() && ordinals[i] < b.first + b.count {
                kept.extend(block.get_mut((ordinals[i] - b.first) as usize).and_then(Option::take));
                i += 1;
            }
        }
        // the blocks of lines the recipes name, then the traces, each decoded side by side
        let mut need: Vec<usize> = kept
            .iter()
            .filter_map(|k| match k {
                Kept::Recipe(r) => Some(r),
                Kept::Whole(_) => None,
            })
            .flat_map(|r| r.ordinals.iter().map(|&o| self.line_block_of(o)))
            .collect();
        need.sort_unstable();
        need.dedup();
        let shown = self.path.display();
        let blocks: FxHashMap<usize, Vec<Record>> = need
            .par_iter()
            .filter_map(|&at| self.index.raw_blocks.get(at).map(|b| (at, b)))
            .map(|(at, b)| {
                let bytes = self.frame(&mut None, b)?;
                let records = lines::decode(&bytes)
                    .with_context(|| format!("the archive {shown} is damaged at byte {}", b.offset))?;
                Ok((at, records))
            })
            .collect::<Result<_>>()?;
        kept.into_par_iter()
            .map(|k| match k {
                Kept::Whole(st) => Ok(*st),
                Kept::Recipe(r) => self.build(&blocks, &r),
            })
            .collect()
    }

    /// The line block that holds line `o` of the day (past the last one if none does).
    fn line_block_of(&self, o: u32) -> usize {
        self.index.raw_blocks.partition_point(|b| b.first + b.count <= o)
    }

    /// Builds a trace kept as a recipe from the lines it names (in `blocks`, decoded).
    fn build(&self, blocks: &FxHashMap<usize, Vec<Record>>, recipe: &Recipe) -> Result<StoredTrace> {
        let shown = self.path.display();
        let mut records = Vec::with_capacity(recipe.ordinals.len());
        for &o in &recipe.ordinals {
            let at = self.line_block_of(o);
            let (Some(b), Some(block)) = (self.index.raw_blocks.get(at).filter(|b| b.first <= o), blocks.get(&at))
            else {
                bail!("the archive {shown} is damaged: a trace names line {o}, which it does not hold");
            };
            let Some(r) = block.get((o - b.first) as usize) else {
                bail!(
                    "the archive {shown} is damaged at byte {}: a block of lines is short",
                    b.offset
                );
            };
            records.push(r);
        }
        recipe
            .build(&records, &self.index.files)
            .with_context(|| format!("a trace of the archive {shown} no longer builds from its lines"))
    }

    /// A block's bytes, checked and decompressed.
    fn frame(&self, f: &mut Option<File>, b: &Block) -> Result<Vec<u8>> {
        let shown = self.path.display();
        if f.is_none() {
            *f = Some(File::open(&self.path).with_context(|| format!("cannot open the archive {shown}"))?);
        }
        let file = f.as_mut().expect("opened above");
        let mut raw = vec![0u8; b.len as usize];
        file.seek(SeekFrom::Start(b.offset))?;
        file.read_exact(&mut raw)
            .with_context(|| format!("the archive {shown} is cut short at byte {}", b.offset))?;
        if !sum_matches(&raw, b.xxh3) {
            bail!(
                "the archive {shown} is damaged in bytes {}..{}: restore it from a copy (`mailtrace import`) or delete it",
                b.offset,
                b.offset + b.len
            );
        }
        zstd::decode_all(&raw[..]).with_context(|| format!("the archive {shown} is damaged at byte {}", b.offset))
    }

    /// The traces of a trace block, as kept.
    fn trace_block(&self, f: &mut Option<File>, b: &Block) -> Result<Vec<Kept>> {
        let shown = self.path.display();
        let bytes = self.frame(f, b)?;
        let damaged = || anyhow::anyhow!("the archive {shown} is damaged in the trace block at byte {}", b.offset);
        let mut r = &bytes[..];
        let mut last = (0u32, 0i64);
        let mut out = Vec::with_capacity(b.count as usize);
        while let Some((&tag, rest)) = r.split_first() {
            r = rest;
            match tag {
                KEPT_RECIPE => out.push(Kept::Recipe(Recipe::decode(&mut r, &mut last).ok_or_else(damaged)?)),
                KEPT_WHOLE => {
                    let len = read_varint(&mut r) as usize;
                    if len > r.len() {
                        return Err(damaged());
                    }
                    let (json, rest) = r.split_at(len);
                    r = rest;
                    out.push(Kept::Whole(Box::new(serde_json::from_slice(json).with_context(
                        || format!("the archive {shown} holds a trace this version cannot read"),
                    )?)));
                }
                _ => return Err(damaged()),
            }
        }
        Ok(out)
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
            .chain(queue_id_in(id).into_iter().flat_map(|q| self.term(&format!("qid:{q}"))))
            .collect();
        ordinals.sort_unstable();
        ordinals.dedup();
        let mut traces = self.load(&ordinals)?;
        traces.retain(|st| {
            let t = &st.trace;
            t.trace_id == id || t.message_id.as_deref() == Some(id) || t.queue_ids.iter().any(|q| q == id)
        });
        // traces built from their lines have their text; those kept whole get it here
        self.fill_texts(&mut traces)?;
        Ok(traces)
    }

    /// The traces under `keys` (see [`LinkKeys`]), built from their lines.
    pub fn linked(&self, keys: &LinkKeys) -> Result<Vec<Trace>> {
        if !self.overlaps(keys.since, keys.until) {
            return Ok(Vec::new());
        }
        let mut terms: Vec<String> = Vec::new();
        for id in &keys.trace_ids {
            terms.push(format!("tid:{id}"));
            terms.extend(queue_id_in(id).map(|q| format!("qid:{q}")));
        }
        terms.extend(keys.queue_ids.iter().map(|q| format!("qid:{q}")));
        terms.extend(keys.message_ids.iter().map(|m| format!("mid:{m}")));
        terms.extend(keys.handed_to.iter().map(|q| format!("next:{q}")));
        let mut ordinals: Vec<u32> = terms.iter().flat_map(|t| self.term(t)).collect();
        ordinals.sort_unstable();
        ordinals.dedup();
        // the messages at hand are not built again: under their own id, or under their queue
        // id when it names one message of this day and the trace id says it arrived this day;
        // anything else is built and left out after
        let mut except: Vec<u32> = keys
            .except
            .iter()
            .flat_map(|id| self.term(&format!("tid:{id}")))
            .collect();
        for id in &keys.except {
            let day = super::hot::arrival_day(id);
            if let (Some(q), true) = (queue_id_in(id), day == Some(self.index.day)) {
                let only = self.term(&format!("qid:{q}"));
                if only.len() == 1 {
                    except.extend(only);
                }
            }
        }
        except.sort_unstable();
        ordinals.retain(|o| except.binary_search(o).is_err());
        let wanted = keys.matcher();
        Ok(self
            .load(&ordinals)?
            .into_iter()
            .map(|st| st.trace)
            .filter(|t| wanted(t))
            .collect())
    }

    /// Fills the timeline lines without text that this day holds.
    pub fn fill_texts(&self, traces: &mut [StoredTrace]) -> Result<()> {
        if !traces
            .iter()
            .any(|st| st.trace.timeline.iter().any(|e| e.text.is_empty()))
        {
            return Ok(());
        }
        let lines: FxHashMap<(u32, u64), Vec<u8>> = self
            .raw_records()?
            .into_iter()
            .map(|r| ((r.file, r.offset), r.bytes))
            .collect();
        for st in traces {
            for e in &mut st.trace.timeline {
                if e.text.is_empty() {
                    if let Some(bytes) = lines.get(&(e.line.file, e.line.offset)) {
                        let text = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                        e.text = String::from_utf8_lossy(text).into();
                    }
                }
            }
        }
        Ok(())
    }

    /// The day's raw lines, in the order they were read.
    pub fn raw_records(&self) -> Result<Vec<Record>> {
        let mut f = None;
        let mut out = Vec::new();
        for b in &self.index.raw_blocks {
            let bytes = self.frame(&mut f, b)?;
            out.extend(
                lines::decode(&bytes)
                    .with_context(|| format!("the archive {} is damaged at byte {}", self.path.display(), b.offset))?,
            );
        }
        Ok(out)
    }

    /// Every trace, in the order they were archived.
    pub fn all(&self) -> Result<Vec<StoredTrace>> {
        self.load(&(0..self.index.traces).collect::<Vec<_>>())
    }
}

/// Fills the timeline lines without text from the archives of the days they were logged on (a
/// message's lines after midnight are kept with the next day's lines).
pub fn fill_texts_across_days(dir: &Path, traces: &mut [StoredTrace]) -> Result<()> {
    let mut days: Vec<NaiveDate> = traces
        .iter()
        .flat_map(|st| &st.trace.timeline)
        .filter(|e| e.text.is_empty())
        .map(|e| e.time.date_naive())
        .collect();
    days.sort_unstable();
    days.dedup();
    for day in days {
        let path = path_of(dir, day);
        if path.exists() {
            Archive::open(&path)?.fill_texts(traces)?;
        }
    }
    Ok(())
}

/// Checks an archive's whole-file checksum and every block's; names the first damage.
pub fn verify(path: &Path) -> Result<ArchiveInfo> {
    let archive = Archive::open(path)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let body = &bytes[..bytes.len() - TRAILER];
    let whole = u64::from_le_bytes(bytes[bytes.len() - 16..bytes.len() - 8].try_into().expect("8 bytes"));
    for b in archive.index.blocks.iter().chain(&archive.index.raw_blocks) {
        let raw = &body[b.offset as usize..(b.offset + b.len) as usize];
        if !sum_matches(raw, b.xxh3) {
            bail!(
                "the archive {} is damaged in bytes {}..{}",
                path.display(),
                b.offset,
                b.offset + b.len
            );
        }
    }
    if !sum_matches(body, whole) {
        bail!(
            "the archive {} is damaged outside its blocks and index (bytes 0..8, its header)",
            path.display()
        );
    }
    Ok(archive.info())
}
