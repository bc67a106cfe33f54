//! The one interface between the commands (and the web page, and `follow`) and a store.
//!
//! A store is either the embedded one (a directory: tantivy day indexes, archives, raw lines;
//! [`super::embedded`]) or a ClickHouse cluster ([`super::clickhouse`]). The commands open
//! whichever `--store` names with [`open`] and from then on only see [`Backend`] (read, keep,
//! drop days) and, when they write, a [`Sink`] (traces and lines in, commits). No command knows
//! which one it has.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::retention::{Report, Windows};
use super::schema::StoredTrace;
use super::state::IngestState;
use crate::event::LineRef;
use crate::output::Row;
use crate::query::Criteria;
use crate::trace::Trace;

/// What a search found: the rows (newest first, at most the limit asked for), how many rows
/// matched in all, and a hint for when nothing did (what the store holds, where else to look).
pub struct SearchResult {
    pub rows: Vec<Row>,
    pub total: usize,
    pub hint: String,
}

/// One raw line as `replay` gives it back.
pub struct ReplayLine {
    /// The file it was read from, as named then.
    pub file: String,
    pub offset: u64,
    pub time: Option<DateTime<Utc>>,
    pub bytes: Vec<u8>,
}

/// Where a writer keeps its reading state (file positions, messages in flight) and the lock
/// that lets one writer at a time use it.
pub struct WriterPlace {
    pub state_dir: PathBuf,
    pub lock: std::fs::File,
}

/// The days a store holds, in short: the `store` of `GET /api/stats`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Held {
    /// The store's name (directory or address).
    pub path: String,
    pub hot_first: Option<chrono::NaiveDate>,
    pub hot_last: Option<chrono::NaiveDate>,
    pub archive_days: usize,
    pub archive_first: Option<chrono::NaiveDate>,
}

/// What linking a message's legs across servers looks a store up by: messages whose trace id,
/// queue id or Message-ID is one of these, or one of whose recipients was handed to one of
/// `handed_to` (a queue id named in the reply), that arrived between `since` and `until`,
/// except the messages `except` names (trace ids: those already at hand).
#[derive(Debug, Clone, Default)]
pub struct LinkKeys {
    pub trace_ids: Vec<String>,
    pub except: Vec<String>,
    pub queue_ids: Vec<String>,
    pub message_ids: Vec<String>,
    pub handed_to: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl LinkKeys {
    pub fn is_empty(&self) -> bool {
        self.trace_ids.is_empty()
            && self.queue_ids.is_empty()
            && self.message_ids.is_empty()
            && self.handed_to.is_empty()
    }

    /// Whether a message that arrived at `t` is in the window.
    pub fn holds(&self, t: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }

    /// A check that a message is under the keys and in the window (a store's index may find
    /// more: hashes, keys of older states).
    pub fn matcher(&self) -> impl Fn(&Trace) -> bool + '_ {
        use std::collections::HashSet;
        fn set(v: &[String]) -> HashSet<&str> {
            v.iter().map(String::as_str).collect()
        }
        let (tids, qids, mids, handed, except) = (
            set(&self.trace_ids),
            set(&self.queue_ids),
            set(&self.message_ids),
            set(&self.handed_to),
            set(&self.except),
        );
        move |t: &Trace| {
            self.holds(t.first_time)
                && !except.contains(t.trace_id.as_str())
                && (tids.contains(t.trace_id.as_str())
                    || t.queue_ids.iter().any(|q| qids.contains(q.as_str()))
                    || t.message_id.as_deref().is_some_and(|m| mids.contains(m))
                    || crate::path::leg::handed_to(t).any(|q| handed.contains(q)))
        }
    }
}

/// A store, for reading and for keeping.
pub trait Backend {
    /// How the store is named in messages: its directory, or its `clickhouse://` address.
    fn name(&self) -> String;

    /// Rows matching `c`, newest first (time, trace id, recipient order), at most `limit`;
    /// `historical` also reads the archive tier where the store has one.
    fn search(&self, c: &Criteria, limit: Option<usize>, historical: bool) -> Result<SearchResult>;

    /// Every row matching `c`, newest first as [`Backend::search`] orders them, handed to
    /// `each` a batch at a time, so a caller writing them out holds one batch rather than all
    /// of them (`search --format ndjson|csv` without a limit); returns how many there were.
    /// This default reads them all first; the embedded store's hot tier reads batch by batch.
    fn search_each(
        &self,
        c: &Criteria,
        historical: bool,
        each: &mut dyn FnMut(Vec<Row>) -> Result<()>,
    ) -> Result<usize> {
        hand_out_whole(self.search(c, None, historical)?, each)
    }

    /// The traces whose queue id, Message-ID or trace id is `id` (unsorted).
    fn traces(&self, id: &str) -> Result<Vec<StoredTrace>>;

    /// The messages under `keys` (see [`LinkKeys`]), without their timelines: the legs that
    /// linking across servers reads.
    fn linked(&self, keys: &LinkKeys) -> Result<Vec<Trace>>;

    /// The hosts of the messages that arrived in the window (the days it touches, at least),
    /// lowercased, when the store knows them cheaply: linking skips a window of one host.
    fn hosts(
        &self,
        _since: Option<DateTime<Utc>>,
        _until: Option<DateTime<Utc>>,
    ) -> Result<Option<std::collections::BTreeSet<String>>> {
        Ok(None)
    }

    /// Hands the raw lines of the time window of `c` (or, when `c` asks for more than a time
    /// window, of the matching messages) to `each`, in the order they were read; returns how
    /// many were handed out.
    fn replay(&self, c: &Criteria, each: &mut dyn FnMut(&ReplayLine) -> Result<()>) -> Result<u64>;

    /// The days the store holds, in short (for the page).
    fn held(&self) -> Result<Held>;

    /// Writes what the store holds (days, rows, messages, size; files read) for a person, or
    /// as JSON.
    fn info(&self, json: bool, out: &mut dyn Write) -> Result<()>;

    /// Applies the retention windows at `now`.
    fn maintain(&self, now: DateTime<Utc>, windows: Windows) -> Result<Report>;

    /// The windows the last `maintain` used, if it ran: `index` and `follow` then keep them.
    fn windows(&self) -> Result<Option<Windows>>;

    /// What the writers have counted (for `/metrics`), as of their last commit; read without
    /// taking the writer's lock.
    fn counters(&self) -> Result<crate::metrics::Counters>;

    /// The reading state's place, locked for this writer (an error when another holds it).
    fn writer_place(&self) -> Result<WriterPlace>;

    /// A sink for one writer session. `recovered`: the last session was interrupted.
    fn sink(&self, state: &IngestState, recovered: bool) -> Result<Box<dyn Sink>>;
}

/// Traces and lines written by one session, counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub traces: u64,
    pub rows: u64,
}

/// Where one writer session puts what it reads. Nothing is durable before [`Sink::commit`];
/// after it, everything given before is.
pub trait Sink {
    /// Keeps trace `t` (its lines came from `files`); with `replace`, whatever is kept under
    /// its trace id goes.
    fn put(&mut self, t: Trace, files: Vec<(u32, String)>, replace: bool) -> Result<()>;

    /// Drops the trace `trace_id` received at `first_time` (merged into another since).
    fn delete(&mut self, trace_id: String, first_time: DateTime<Utc>) -> Result<()>;

    /// Tells the sink that lines of file number `id` (read from `path`) follow.
    fn file(&mut self, id: u32, path: &Path) -> Result<()>;

    /// Keeps a raw line as it was read.
    fn line(&mut self, bytes: &[u8], at: LineRef, time: Option<DateTime<Utc>>) -> Result<()>;

    /// Makes everything given so far durable; may record what it needs in `state` (saved
    /// right after).
    fn commit(&mut self, state: &mut IngestState) -> Result<()>;

    /// Ends the session (after a last commit); returns what was written.
    fn close(self: Box<Self>) -> Result<Written>;

    /// Ends the session after an error, committing nothing more; returns the sink's own
    /// error if it failed first (that is the one to report).
    fn abandon(self: Box<Self>) -> Option<anyhow::Error>;
}

/// Whether `place` is known to hold no store without connecting: a directory without the
/// embedded store's marker (a ClickHouse store that is not there says so when opened).
pub fn is_missing(place: &Path) -> bool {
    !is_clickhouse(place) && !super::Store::exists(place)
}

/// Whether `place` names a ClickHouse store.
pub fn is_clickhouse(place: &Path) -> bool {
    place.to_str().is_some_and(super::clickhouse::Location::is_clickhouse)
}

/// How to reach a store beyond its place: what only a ClickHouse store needs.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `--password-file` (else `$MAILTRACE_CLICKHOUSE_PASSWORD`).
    pub password_file: Option<PathBuf>,
    /// `--state DIR`: where a ClickHouse store's writers keep their reading state.
    pub state_dir: Option<PathBuf>,
    /// `--partial`: answer with the shards that answer, naming the others.
    pub partial: bool,
}

/// Opens the store at `place` for reading (it must exist).
pub fn open(place: &Path, access: &Access) -> Result<Box<dyn Backend>> {
    if is_clickhouse(place) {
        Ok(Box::new(super::clickhouse::ClickHouse::open(place, access)?))
    } else {
        Ok(Box::new(super::embedded::Embedded::open(place)?))
    }
}

/// Opens the store at `place` for writing, creating an embedded store if the directory is new
/// (a ClickHouse store is made with `mailtrace store init`).
pub fn create(place: &Path, access: &Access) -> Result<Box<dyn Backend>> {
    if is_clickhouse(place) {
        Ok(Box::new(super::clickhouse::ClickHouse::open(place, access)?))
    } else {
        Ok(Box::new(super::embedded::Embedded::create(place)?))
    }
}

/// [`Backend::search_each`] of rows read all at once: `found`'s rows handed to `each` as one
/// batch (none when there are none); how many.
pub fn hand_out_whole(found: SearchResult, each: &mut dyn FnMut(Vec<Row>) -> Result<()>) -> Result<usize> {
    let n = found.rows.len();
    if n > 0 {
        each(found.rows)?;
    }
    Ok(n)
}
