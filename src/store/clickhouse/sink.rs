//! A writer session's [`Sink`] into ClickHouse.
//!
//! Traces (with their look-up keys) and lines are buffered as `JSONEachRow` text and
//! inserted in batches (at each commit, and whenever a buffer passes a few megabytes)
//! through the Distributed tables with `insert_distributed_sync=1`, so an insert returns only
//! once every shard holds its rows.
//! The reading state is saved after the commit's inserts, so a run killed anywhere re-reads
//! from the last commit and inserts some rows again: a trace comes back as the same trace
//! under a higher version (reads keep the highest), a line under the same key (kept once).
//!
//! Versions are the wall clock in nanoseconds, kept increasing within a run, so a later run
//! always writes later versions. A content-named trace (an Exim reject logged in two files)
//! is written under a *decreasing* version instead: the first copy written stays, as in a scan.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::encode;
use super::store::Tables;
use super::Client;
use crate::event::LineRef;
use crate::store::backend::{Sink, Written};
use crate::store::state::{FileKey, IngestState};
use crate::trace::Trace;

/// A buffer is inserted once it holds this much.
const BATCH_BYTES: usize = 8 << 20;

/// A line waiting for the day of a line with a time.
struct Waiting {
    bytes: Vec<u8>,
    at: LineRef,
}

pub struct ClickHouseSink {
    client: Client,
    tables: Tables,
    traces: Vec<u8>,
    /// The look-up keys of the traces in `traces`, inserted just before them.
    trace_keys: Vec<u8>,
    lines: Vec<u8>,
    file_keys: HashMap<u32, FileKey>,
    names: HashMap<u32, String>,
    last_version: u64,
    last_day: Option<NaiveDate>,
    waiting: Vec<Waiting>,
    written: Written,
}

impl ClickHouseSink {
    pub fn new(client: Client, tables: Tables, state: &IngestState) -> ClickHouseSink {
        ClickHouseSink {
            client,
            tables,
            traces: Vec::new(),
            trace_keys: Vec::new(),
            lines: Vec::new(),
            file_keys: state.file_keys.iter().map(|k| (k.id, *k)).collect(),
            names: state.files.iter().map(|f| (f.id, f.path.clone())).collect(),
            last_version: 0,
            last_day: None,
            waiting: Vec::new(),
            written: Written::default(),
        }
    }

    fn version(&mut self) -> u64 {
        self.last_version = clock().max(self.last_version + 1);
        self.last_version
    }

    /// The keys first: a message is never stored where a search by key cannot find it.
    fn insert_traces(&mut self) -> Result<()> {
        insert(&self.client, &self.tables.keys, &mut self.trace_keys)?;
        insert(&self.client, &self.tables.traces, &mut self.traces)
    }

    fn insert_lines(&mut self) -> Result<()> {
        insert(&self.client, &self.tables.lines, &mut self.lines)
    }

    fn push_line(&mut self, day: NaiveDate, bytes: &[u8], at: LineRef, time: Option<DateTime<Utc>>) -> Result<()> {
        let key = match self.file_keys.get(&at.file) {
            Some(k) => *k,
            None if at.offset == 0 => {
                let k = FileKey {
                    id: at.file,
                    key: xxhash_rust::xxh3::xxh3_64(bytes),
                    start: time.map_or(0, |t| t.timestamp_micros()),
                };
                self.file_keys.insert(at.file, k);
                k
            }
            None => anyhow::bail!(
                "file {} is read on from byte {} but its first line was never seen: index it into a new --state directory",
                self.names.get(&at.file).map_or("?", String::as_str),
                at.offset
            ),
        };
        let name = self.names.get(&at.file).map_or("", String::as_str);
        let day = day.format("%Y-%m-%d").to_string();
        encode::line_row(&mut self.lines, &day, key.key, key.start, at.offset, time, name, bytes)?;
        if self.lines.len() >= BATCH_BYTES {
            self.insert_lines()?;
        }
        Ok(())
    }
}

/// The clock in nanoseconds since the epoch: what versions are made of.
pub fn clock() -> u64 {
    Utc::now().timestamp_nanos_opt().unwrap_or_default().max(0) as u64
}

/// Inserts the rows in `buf` (JSONEachRow) into `table`, then empties it.
fn insert(client: &Client, table: &str, buf: &mut Vec<u8>) -> Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let mut body = format!("INSERT INTO {table} FORMAT JSONEachRow\n").into_bytes();
    body.append(buf);
    client.query(&body, true, &[("insert_distributed_sync", "1")])?;
    Ok(())
}

impl Sink for ClickHouseSink {
    fn put(&mut self, t: Trace, files: Vec<(u32, String)>, _replace: bool) -> Result<()> {
        let version = if t.content_id {
            u64::MAX - self.version()
        } else {
            self.version()
        };
        let keys: Vec<(u32, u64)> = files
            .iter()
            .filter_map(|(id, _)| self.file_keys.get(id).map(|k| (*id, k.key)))
            .collect();
        self.written.traces += 1;
        self.written.rows += t.recipients.len().max(1) as u64;
        let out = encode::TraceOut {
            traces: &mut self.traces,
            keys: &mut self.trace_keys,
        };
        encode::trace_row(out, t, &files, &keys, version)?;
        if self.traces.len() >= BATCH_BYTES {
            self.insert_traces()?;
        }
        Ok(())
    }

    fn delete(&mut self, trace_id: String, first_time: DateTime<Utc>) -> Result<()> {
        let version = self.version();
        encode::tombstone_row(&mut self.traces, &trace_id, first_time, version)
    }

    fn file(&mut self, id: u32, path: &Path) -> Result<()> {
        self.names.insert(id, path.display().to_string());
        Ok(())
    }

    fn line(&mut self, bytes: &[u8], at: LineRef, time: Option<DateTime<Utc>>) -> Result<()> {
        // a line without a time goes with the day of the line before it
        let day = match time.map(|t| t.date_naive()).or(self.last_day) {
            Some(d) => d,
            None => {
                self.waiting.push(Waiting {
                    bytes: bytes.to_vec(),
                    at,
                });
                return Ok(());
            }
        };
        self.last_day = Some(day);
        for w in std::mem::take(&mut self.waiting) {
            self.push_line(day, &w.bytes, w.at, None)?;
        }
        self.push_line(day, bytes, at, time)
    }

    fn commit(&mut self, state: &mut IngestState) -> Result<()> {
        if !self.waiting.is_empty() {
            // no line has told a day yet: the lines go with the day they were read
            let day = Utc::now().date_naive();
            for w in std::mem::take(&mut self.waiting) {
                self.push_line(day, &w.bytes, w.at, None)?;
            }
        }
        // the lines first, then the traces that point at them
        self.insert_lines()?;
        self.insert_traces()?;
        let mut keys: Vec<FileKey> = self.file_keys.values().copied().collect();
        keys.sort_by_key(|k| k.id);
        state.file_keys = keys;
        Ok(())
    }

    fn close(self: Box<Self>) -> Result<Written> {
        Ok(self.written)
    }

    fn abandon(self: Box<Self>) -> Option<anyhow::Error> {
        None
    }
}
