//! The raw tier: every line `index` and `follow` read, byte for byte, per UTC day, so that
//! `replay` can give the logs back as they were ingested.
//!
//! `raw/YYYY-MM-DD/<session>.zst` holds the lines a writer session read for that day, as zstd
//! frames of records (`time` µs or `i64::MIN`, file number, byte offset, length, bytes). A line
//! without a time of its own (a reject log's header line, garbage) goes with the line before
//! it. Each commit ends the frames and syncs the files; `state.json` records how long each file
//! was at the last commit, and a run that finds the last one interrupted cuts the files back to
//! those lengths (the lines after them are read again), so a line is never kept twice.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::event::LineRef;

/// Files open for writing at once (a log's lines are in time order: one day at a time).
const MAX_OPEN: usize = 3;
const LEVEL: i32 = 3;
const NO_TIME: i64 = i64::MIN;

/// A raw file and its length at the last commit (relative to the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub path: String,
    pub len: u64,
}

/// One line as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub time: Option<DateTime<Utc>>,
    pub file: u32,
    pub offset: u64,
    pub bytes: Vec<u8>,
}

impl Record {
    /// The record as stored.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode(out, self.time, self.file, self.offset, &self.bytes);
    }

    /// Reads one record; `None` at the end.
    pub fn decode(r: &mut impl Read) -> Result<Option<Record>> {
        let mut head = [0u8; 24];
        match r.read_exact(&mut head[..1]) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        r.read_exact(&mut head[1..]).context("a raw record is cut short")?;
        let time = i64::from_le_bytes(head[0..8].try_into().expect("8"));
        let file = u32::from_le_bytes(head[8..12].try_into().expect("4"));
        let offset = u64::from_le_bytes(head[12..20].try_into().expect("8"));
        let len = u32::from_le_bytes(head[20..24].try_into().expect("4"));
        let mut bytes = vec![0u8; len as usize];
        r.read_exact(&mut bytes).context("a raw record is cut short")?;
        Ok(Some(Record {
            time: (time != NO_TIME)
                .then(|| DateTime::from_timestamp_micros(time))
                .flatten(),
            file,
            offset,
            bytes,
        }))
    }
}

/// A record as stored, from its parts.
fn encode(out: &mut Vec<u8>, time: Option<DateTime<Utc>>, file: u32, offset: u64, bytes: &[u8]) {
    out.extend_from_slice(&time.map_or(NO_TIME, |t| t.timestamp_micros()).to_le_bytes());
    out.extend_from_slice(&file.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

struct Open {
    day: NaiveDate,
    rel: String,
    encoder: Option<zstd::Encoder<'static, File>>,
    used: u64,
}

/// The raw files one writer session appends to.
pub struct RawWriters {
    root: PathBuf,
    session: String,
    open: Vec<Open>,
    /// Files written since the last commit (closed ones included).
    touched: Vec<String>,
    tick: u64,
    last_day: Option<NaiveDate>,
    /// Lines without a time before any line with one.
    waiting: Vec<Record>,
    buf: Vec<u8>,
}

impl RawWriters {
    /// Writers under `root` (the store), for files named `session`.
    pub fn new(root: &Path, session: String) -> RawWriters {
        RawWriters {
            root: root.to_path_buf(),
            session,
            open: Vec::new(),
            touched: Vec::new(),
            tick: 0,
            last_day: None,
            waiting: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Keeps one line.
    pub fn push(&mut self, bytes: &[u8], at: LineRef, time: Option<DateTime<Utc>>) -> Result<()> {
        let day = match time {
            Some(t) => t.date_naive(),
            None => match self.last_day {
                Some(d) => d,
                None => {
                    // copied only while no line has told the day yet
                    self.waiting.push(Record {
                        time,
                        file: at.file,
                        offset: at.offset,
                        bytes: bytes.to_vec(),
                    });
                    return Ok(());
                }
            },
        };
        self.last_day = Some(day);
        for r in std::mem::take(&mut self.waiting) {
            self.write(day, r.time, r.file, r.offset, &r.bytes)?;
        }
        self.write(day, time, at.file, at.offset, bytes)
    }

    fn write(
        &mut self,
        day: NaiveDate,
        time: Option<DateTime<Utc>>,
        file: u32,
        offset: u64,
        bytes: &[u8],
    ) -> Result<()> {
        self.tick += 1;
        let i = match self.open.iter().position(|o| o.day == day) {
            Some(i) => i,
            None => {
                if self.open.len() >= MAX_OPEN {
                    let lru = (0..self.open.len())
                        .min_by_key(|&i| self.open[i].used)
                        .expect("writers open");
                    let mut o = self.open.swap_remove(lru);
                    finish(&self.root, &mut o)?;
                }
                let rel = format!("raw/{}/{}.zst", day.format("%Y-%m-%d"), self.session);
                self.open.push(Open {
                    day,
                    rel,
                    encoder: None,
                    used: 0,
                });
                self.open.len() - 1
            }
        };
        let o = &mut self.open[i];
        o.used = self.tick;
        if o.encoder.is_none() {
            let path = self.root.join(&o.rel);
            std::fs::create_dir_all(path.parent().expect("a day directory"))?;
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut encoder = zstd::Encoder::new(file, LEVEL)?;
            // compressed by a thread of libzstd's while this one reads on
            encoder.multithread(1)?;
            o.encoder = Some(encoder);
            if !self.touched.contains(&o.rel) {
                self.touched.push(o.rel.clone());
            }
        }
        self.buf.clear();
        encode(&mut self.buf, time, file, offset, bytes);
        o.encoder.as_mut().expect("opened above").write_all(&self.buf)?;
        Ok(())
    }

    /// Ends every frame and syncs the files; returns their lengths now, for the state.
    pub fn commit(&mut self) -> Result<Vec<Segment>> {
        if !self.waiting.is_empty() {
            // a file with no time at all: its lines go with the day it was read
            let day = self.last_day.unwrap_or_else(|| Utc::now().date_naive());
            for r in std::mem::take(&mut self.waiting) {
                self.write(day, r.time, r.file, r.offset, &r.bytes)?;
            }
        }
        for o in &mut self.open {
            finish(&self.root, o)?;
        }
        let mut out = Vec::new();
        for rel in std::mem::take(&mut self.touched) {
            let path = self.root.join(&rel);
            let len = std::fs::metadata(&path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .len();
            out.push(Segment { path: rel, len });
        }
        Ok(out)
    }
}

fn finish(root: &Path, o: &mut Open) -> Result<()> {
    if let Some(enc) = o.encoder.take() {
        let file = enc.finish()?;
        file.sync_all()
            .with_context(|| format!("cannot sync {}", root.join(&o.rel).display()))?;
    }
    Ok(())
}

/// After an interrupted run: cuts every raw file back to its committed length and removes the
/// ones no commit knows.
pub fn recover(root: &Path, committed: &[Segment]) -> Result<()> {
    for (_, dir) in days(root)? {
        for e in std::fs::read_dir(&dir)? {
            let path = e?.path();
            let rel = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            match committed.iter().find(|s| s.path == rel) {
                Some(s) => {
                    let f = OpenOptions::new().write(true).open(&path)?;
                    if f.metadata()?.len() > s.len {
                        f.set_len(s.len)?;
                        f.sync_all()?;
                    }
                }
                None => std::fs::remove_file(&path)?,
            }
        }
    }
    Ok(())
}

/// The days the raw tier holds, oldest first.
pub fn days(root: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    let mut out = Vec::new();
    let dir = root.join("raw");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for e in entries {
        let path = e?.path();
        if let Some(day) = path
            .file_name()
            .and_then(|n| NaiveDate::parse_from_str(&n.to_string_lossy(), "%Y-%m-%d").ok())
        {
            out.push((day, path));
        }
    }
    out.sort();
    Ok(out)
}

/// Every committed line of `day`, in the order it was read (session by session).
pub fn day_records(root: &Path, day: NaiveDate, committed: &[Segment]) -> Result<Vec<Record>> {
    let prefix = format!("raw/{}/", day.format("%Y-%m-%d"));
    let mut segments: Vec<&Segment> = committed.iter().filter(|s| s.path.starts_with(&prefix)).collect();
    segments.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = Vec::new();
    for s in segments {
        let path = root.join(&s.path);
        let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut r = zstd::stream::read::Decoder::new(BufReader::new(file.take(s.len)))?;
        while let Some(rec) = Record::decode(&mut r).with_context(|| format!("{} is damaged", path.display()))? {
            out.push(rec);
        }
    }
    Ok(out)
}
