//! The embedded store behind [`Backend`]: a directory of tantivy day indexes (the hot tier),
//! day archives, raw lines and the reading state (see [`super`] for the layout).

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};

use super::archive;
use super::backend::{Backend, Held, LinkKeys, ReplayLine, SearchResult, Sink, WriterPlace, Written};
use super::hot::{DayWriters, HotReader};
use super::raw::{self, RawWriters};
use super::retention::{self, Report, Windows};
use super::schema::StoredTrace;
use super::state::IngestState;
use super::writer_thread::WriterThread;
use super::Store;
use crate::event::LineRef;
use crate::output::Row;
use crate::query::Criteria;
use crate::trace::Trace;

/// Rows read at a time when every match is written out (`search --format ndjson|csv` with no
/// limit): a few MB of rows, however many match.
const SEARCH_BATCH: usize = 2000;

/// An embedded store.
pub struct Embedded {
    store: Store,
    /// The hot tier as the reads of this opening see it (a search and the look-ups that link
    /// its rows open the day indexes once).
    hot: std::sync::OnceLock<HotReader>,
}

impl Embedded {
    /// Opens the store at `root` (it must exist).
    pub fn open(root: &Path) -> Result<Embedded> {
        Ok(Embedded {
            store: Store::open(root)?,
            hot: std::sync::OnceLock::new(),
        })
    }

    /// Opens the store at `root`, creating it if the directory is new or empty.
    pub fn create(root: &Path) -> Result<Embedded> {
        Ok(Embedded {
            store: Store::create(root)?,
            hot: std::sync::OnceLock::new(),
        })
    }

    /// The hot tier for reading, opened on first use.
    fn hot(&self) -> Result<&HotReader> {
        if let Some(h) = self.hot.get() {
            return Ok(h);
        }
        let h = HotReader::open(&self.store.hot_dir())?;
        Ok(self.hot.get_or_init(|| h))
    }
}

impl Backend for Embedded {
    fn name(&self) -> String {
        self.store.root.display().to_string()
    }

    fn held(&self) -> Result<Held> {
        let hot = HotReader::open(&self.store.hot_dir())?;
        let archived = crate::store::archive::days(&self.store.archive_dir())?;
        Ok(Held {
            path: self.name(),
            hot_first: hot.day_range().map(|d| d.0),
            hot_last: hot.day_range().map(|d| d.1),
            archive_days: archived.len(),
            archive_first: archived.first().map(|d| d.0),
        })
    }

    fn search(&self, criteria: &Criteria, limit: Option<usize>, historical: bool) -> Result<SearchResult> {
        let store = &self.store;
        let hot = self.hot()?;
        let mut hint = match hot.day_range() {
            Some((a, b)) => format!(
                "The store {} holds messages received {a} … {b} (UTC). Check the criteria; \
                 `mailtrace index` adds new log lines.",
                store.root.display()
            ),
            None => format!(
                "The store {} is empty: fill it with `mailtrace index /var/log/mail.log`.",
                store.root.display()
            ),
        };
        if !historical && !archive::days(&store.archive_dir())?.is_empty() {
            hint = if hot.is_empty() {
                "The hot tier is empty; older days are in the archive tier: add --historical.".to_string()
            } else {
                format!("{hint} Older days are in the archive tier: add --historical.")
            };
        }
        let found = hot.search(criteria, limit)?;
        // the archive tier, when asked for or when the time range reaches before the hot days
        let before_hot = match (criteria.since, hot.day_range()) {
            (Some(since), Some((first, _))) => since.date_naive() < first,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let (rows, total) = if historical || before_hot {
            let (rows, extra) = with_archives(self, criteria, found.rows, limit)?;
            (rows, found.total + extra)
        } else {
            (found.rows, found.total)
        };
        Ok(SearchResult { rows, total, hint })
    }

    fn search_each(
        &self,
        criteria: &Criteria,
        historical: bool,
        each: &mut dyn FnMut(Vec<Row>) -> Result<()>,
    ) -> Result<usize> {
        let hot = self.hot()?;
        let before_hot = match (criteria.since, hot.day_range()) {
            (Some(since), Some((first, _))) => since.date_naive() < first,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if (historical || before_hot) && !archive::days(&self.store.archive_dir())?.is_empty() {
            // the archive tier's rows merge with the hot tier's: read them all
            return super::backend::hand_out_whole(self.search(criteria, None, historical)?, each);
        }
        hot.search_each(criteria, SEARCH_BATCH, each)
    }

    fn traces(&self, id: &str) -> Result<Vec<StoredTrace>> {
        let store = &self.store;
        let mut found = self.hot()?.traces(id)?;
        for (_, path) in archive::days(&store.archive_dir())? {
            match archive::Archive::open(&path).and_then(|a| a.traces(id)) {
                Ok(t) => found.extend(t),
                Err(e) => eprintln!("mailtrace: warning: {e:#}; its day is left out"),
            }
        }
        if let Err(e) = archive::fill_texts_across_days(&store.archive_dir(), &mut found) {
            eprintln!("mailtrace: warning: {e:#}; some lines are shown without their text");
        }
        Ok(found)
    }

    fn hosts(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Option<std::collections::BTreeSet<String>>> {
        let near = near_days(since, until);
        let mut hosts = self.hot()?.hosts(&near)?;
        for (_, path) in archive::days(&self.store.archive_dir())?
            .into_iter()
            .filter(|(d, _)| near(*d))
        {
            if hosts.len() > 1 {
                break;
            }
            // an archive that cannot be read, or keeps no list, leaves the answer unknown
            let Ok(Some(h)) = archive::Archive::hosts_of(&path) else {
                return Ok(None);
            };
            hosts.extend(h);
        }
        Ok(Some(hosts))
    }

    fn linked(&self, keys: &LinkKeys) -> Result<Vec<Trace>> {
        let store = &self.store;
        let mut found = self.hot()?.linked(keys)?;
        let near = near_days(keys.since, keys.until);
        use rayon::prelude::*;
        let days: Vec<_> = archive::days(&store.archive_dir())?
            .into_iter()
            .filter(|(d, _)| near(*d))
            .collect();
        let results: Vec<Result<Vec<Trace>>> = days
            .par_iter()
            .map(|(_, path)| archive::Archive::open(path).and_then(|a| a.linked(keys)))
            .collect();
        for r in results {
            match r {
                Ok(t) => found.extend(t),
                Err(e) => eprintln!("mailtrace: warning: {e:#}; its day is left out"),
            }
        }
        Ok(found)
    }

    fn replay(&self, criteria: &Criteria, each: &mut dyn FnMut(&ReplayLine) -> Result<()>) -> Result<u64> {
        let store = &self.store;
        let state = IngestState::load(&store.root)?;
        let names: std::collections::HashMap<u32, String> =
            state.files.iter().map(|f| (f.id, f.path.clone())).collect();
        let (since, until) = (criteria.since, criteria.until);
        // with message criteria: the lines of the matching traces (their days, their places)
        let mut wanted: Option<std::collections::HashSet<(u32, u64)>> = None;
        let mut days: Vec<chrono::NaiveDate> = Vec::new();
        if !criteria.only_time() {
            let mut traces: Vec<Trace> = Vec::new();
            let hot = HotReader::open(&store.hot_dir())?;
            let found = hot.search(criteria, None)?;
            let mut ids: Vec<String> = found.rows.into_iter().map(|r| r.trace_id).collect();
            ids.dedup();
            for id in ids {
                traces.extend(hot.traces(&id)?.into_iter().map(|st| st.trace));
            }
            for (_, path) in archive::days(&store.archive_dir())? {
                let a = archive::Archive::open(&path)?;
                if a.overlaps(since, until) {
                    traces.extend(a.search(criteria)?.into_iter().map(|st| st.trace));
                }
            }
            let mut set = std::collections::HashSet::new();
            for t in &traces {
                for e in &t.timeline {
                    set.insert((e.line.file, e.line.offset));
                    days.push(e.time.date_naive());
                }
            }
            wanted = Some(set);
        } else {
            days.extend(raw::days(&store.root)?.into_iter().map(|(d, _)| d));
            days.extend(archive::days(&store.archive_dir())?.into_iter().map(|(d, _)| d));
        }
        days.sort();
        days.dedup();
        days.retain(|d| since.is_none_or(|s| *d >= s.date_naive()) && until.is_none_or(|u| *d <= u.date_naive()));
        let mut written = 0u64;
        let mut keep_previous = false;
        for day in days {
            let mut records = Vec::new();
            let archived = archive::path_of(&store.archive_dir(), day);
            if archived.exists() {
                records.extend(archive::Archive::open(&archived)?.raw_records()?);
            }
            records.extend(raw::day_records(&store.root, day, &state.raw)?);
            for r in records {
                let keep = match (&wanted, r.time) {
                    (Some(set), _) => set.contains(&(r.file, r.offset)),
                    // a line without a time goes with the one before it
                    (None, None) => keep_previous,
                    (None, Some(t)) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u),
                };
                keep_previous = keep;
                if !keep {
                    continue;
                }
                written += 1;
                each(&ReplayLine {
                    file: names.get(&r.file).cloned().unwrap_or_default(),
                    offset: r.offset,
                    time: r.time,
                    bytes: r.bytes,
                })?;
            }
        }
        Ok(written)
    }

    fn info(&self, json: bool, out: &mut dyn Write) -> Result<()> {
        let store = &self.store;
        let days = HotReader::open(&store.hot_dir())?.info()?;
        let state = IngestState::load(&store.root)?;
        // an archive that cannot be read is listed as such: the rest still is
        let archives: Vec<Result<archive::ArchiveInfo, String>> = archive::days(&store.archive_dir())?
            .iter()
            .map(|(_, p)| {
                archive::Archive::open(p)
                    .map(|a| a.info())
                    .map_err(|e| format!("{e:#}"))
            })
            .collect();
        if json {
            let archive_days: Vec<serde_json::Value> = archives
                .iter()
                .map(|a| match a {
                    Ok(i) => serde_json::to_value(i).unwrap_or_default(),
                    Err(e) => serde_json::json!({ "error": e }),
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({
                    "store": store.root,
                    "hot": { "days": days },
                    "archive": { "days": archive_days },
                    "files": files_json(&state),
                }),
            )?;
            writeln!(out)?;
            return Ok(());
        }
        writeln!(out, "Store {}", store.root.display())?;
        let hot: Vec<TierDay> = days.iter().map(|d| (d.day, d.rows, d.traces, d.bytes)).collect();
        write_tier(out, "Hot tier", &hot)?;
        let archived: Vec<TierDay> = archives
            .iter()
            .filter_map(|a| a.as_ref().ok())
            .map(|d| (d.day, d.rows, d.traces, d.bytes))
            .collect();
        write_tier(out, "Archive tier", &archived)?;
        for e in archives.iter().filter_map(|a| a.as_ref().err()) {
            writeln!(out, "  damaged: {e}")?;
        }
        write_files(out, &state)
    }

    fn maintain(&self, now: DateTime<Utc>, windows: Windows) -> Result<Report> {
        retention::maintain(&self.store, now, windows)
    }

    fn windows(&self) -> Result<Option<Windows>> {
        Windows::of(&self.store)
    }

    fn counters(&self) -> Result<crate::metrics::Counters> {
        Ok(IngestState::load(&self.store.root)?.metrics)
    }

    fn writer_place(&self) -> Result<WriterPlace> {
        Ok(WriterPlace {
            state_dir: self.store.root.clone(),
            lock: self.store.lock()?,
        })
    }

    fn sink(&self, state: &IngestState, recovered: bool) -> Result<Box<dyn Sink>> {
        if recovered {
            raw::recover(&self.store.root, &state.raw)?;
        }
        Ok(Box::new(EmbeddedSink {
            writers: Some(WriterThread::spawn(DayWriters::new(&self.store.hot_dir()))?),
            raw: RawWriters::new(
                &self.store.root,
                format!("{:020}", Utc::now().timestamp_nanos_opt().unwrap_or_default()),
            ),
        }))
    }
}

/// The embedded store's writer: day indexes on their own thread, raw lines per day.
struct EmbeddedSink {
    writers: Option<WriterThread>,
    raw: RawWriters,
}

impl EmbeddedSink {
    fn writers(&self) -> &WriterThread {
        self.writers.as_ref().expect("open until closed")
    }
}

impl Sink for EmbeddedSink {
    fn put(&mut self, t: Trace, files: Vec<(u32, String)>, replace: bool) -> Result<()> {
        self.writers().put(t, files, replace)
    }

    fn delete(&mut self, trace_id: String, first_time: DateTime<Utc>) -> Result<()> {
        self.writers().delete(trace_id, first_time)
    }

    fn file(&mut self, _id: u32, _path: &Path) -> Result<()> {
        Ok(())
    }

    fn line(&mut self, bytes: &[u8], at: LineRef, time: Option<DateTime<Utc>>) -> Result<()> {
        self.raw.push(bytes, at, time)
    }

    fn commit(&mut self, state: &mut IngestState) -> Result<()> {
        // the raw lines first: a crash before the state is saved cuts them back
        for seg in self.raw.commit()? {
            match state.raw.iter_mut().find(|s| s.path == seg.path) {
                Some(s) => s.len = seg.len,
                None => state.raw.push(seg),
            }
        }
        self.writers().commit()
    }

    fn close(mut self: Box<Self>) -> Result<Written> {
        let writers = self.writers.take().expect("closed once").close()?;
        let written = Written {
            traces: writers.traces,
            rows: writers.rows,
        };
        writers.close()?;
        Ok(written)
    }

    fn abandon(mut self: Box<Self>) -> Option<anyhow::Error> {
        self.writers.take().and_then(|w| w.close().err())
    }
}

impl Drop for EmbeddedSink {
    fn drop(&mut self) {
        // abandoned after an error: let the thread end (its error was reported already)
        if let Some(w) = self.writers.take() {
            let _ = w.close();
        }
    }
}

/// Adds the archive tier's rows matching `c` to the hot tier's `rows` (newest first, at most
/// `limit`); returns the rows and how many archived rows matched.
/// Whether a day may hold messages that arrived between `since` and `until` (a day either side:
/// an archive's day and a window's ends need not agree on the zone).
fn near_days(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> impl Fn(chrono::NaiveDate) -> bool {
    move |day| {
        since.is_none_or(|s| day >= s.date_naive().pred_opt().unwrap_or(day))
            && until.is_none_or(|u| day <= u.date_naive().succ_opt().unwrap_or(day))
    }
}

fn with_archives(e: &Embedded, c: &Criteria, rows: Vec<Row>, limit: Option<usize>) -> Result<(Vec<Row>, usize)> {
    use rayon::prelude::*;
    let mut archived: Vec<Trace> = Vec::new();
    // the days are searched side by side (a trace is built again from its lines when read)
    let days = archive::days(&e.store.archive_dir())?;
    let results: Vec<Result<Vec<StoredTrace>>> = days
        .par_iter()
        .map(|(_, path)| {
            archive::Archive::open(path).and_then(|a| {
                if a.overlaps(c.since, c.until) {
                    a.search(c)
                } else {
                    Ok(Vec::new())
                }
            })
        })
        .collect();
    for found in results {
        // a damaged archive is named, and the rest of the store still answers
        match found {
            Ok(traces) => archived.extend(traces.into_iter().map(|st| st.trace)),
            Err(e) => {
                eprintln!("mailtrace: warning: {e:#}; its day is left out (`mailtrace verify` checks every archive)")
            }
        }
    }
    archived.sort_by(|a, b| (b.first_time, &b.trace_id).cmp(&(a.first_time, &a.trace_id)));
    let old: Vec<Row> = archived
        .iter()
        .flat_map(|t| c.rows(t).into_iter().map(move |i| Row::new(t, i)))
        .collect();
    let extra = old.len();
    Ok((merge_newest_first(rows, old, limit), extra))
}

/// Merges two lists of rows that are both newest first, keeping at most `limit`.
fn merge_newest_first(a: Vec<Row>, b: Vec<Row>, limit: Option<usize>) -> Vec<Row> {
    let key = |r: &Row| {
        (
            chrono::DateTime::parse_from_rfc3339(&r.time).map(|t| t.to_utc()).ok(),
            r.trace_id.clone(),
        )
    };
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => key(x) >= key(y),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        merged.push(if take_a { a.next() } else { b.next() }.expect("peeked"));
        if limit.is_some_and(|n| merged.len() >= n) {
            break;
        }
    }
    merged
}

/// A day of a tier: the day, rows, messages, bytes on disk.
pub type TierDay = (chrono::NaiveDate, u64, u64, u64);

use crate::output::count;

/// A tier's totals, then a line per day.
pub fn write_tier(out: &mut dyn Write, name: &str, days: &[TierDay]) -> Result<()> {
    let (rows, traces, bytes) = days.iter().fold((0, 0, 0), |a, d| (a.0 + d.1, a.1 + d.2, a.2 + d.3));
    match (days.first(), days.last()) {
        (Some(a), Some(b)) => writeln!(
            out,
            "{name}: {} ({} … {}), {}, {}, {} on disk",
            count(days.len() as u64, "day"),
            a.0,
            b.0,
            count(rows, "row"),
            count(traces, "message"),
            size(bytes)
        )?,
        _ => writeln!(out, "{name}: empty")?,
    }
    for (day, rows, traces, bytes) in days {
        writeln!(
            out,
            "  {day}  {rows:>9} rows  {traces:>9} messages  {:>10}",
            size(*bytes)
        )?;
    }
    Ok(())
}

/// The files a writer has read, and how far, under their names now (after a rotation, the
/// name they had when read follows).
pub fn write_files(out: &mut dyn Write, state: &IngestState) -> Result<()> {
    writeln!(out, "Files read: {}", state.files.len())?;
    for f in &state.files {
        let name = match f.now_at() {
            Some(p) if p.to_string_lossy() == f.path => f.path.clone(),
            Some(p) => format!("{} (read as {})", p.display(), f.path),
            None => format!("{} (no longer there)", f.path),
        };
        writeln!(
            out,
            "  {name}  up to byte {} (line {}), last indexed {}",
            f.done.offset,
            f.done.line,
            crate::output::rfc3339(f.last_indexed)
        )?;
    }
    Ok(())
}

/// The files a writer has read, for JSON: each with `now_at`, its name now (`null`: gone).
pub fn files_json(state: &IngestState) -> serde_json::Value {
    state
        .files
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_default();
            v["now_at"] = serde_json::json!(f.now_at());
            v
        })
        .collect()
}

/// Bytes for people: `812 kB`, `361.0 MB`, `4.87 GB` (powers of 1000).
pub fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1e6 {
        format!("{:.0} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

/// Refuses a ClickHouse `place` for the commands only the embedded store has (`verify`,
/// `export`, `import`: they work on its archive files).
pub fn only_embedded(place: &Path, command: &str) -> Result<()> {
    if super::backend::is_clickhouse(place) {
        bail!(
            "`mailtrace {command}` works on the embedded store's archive tier; a ClickHouse store keeps \
             its days in partitions (back them up with ClickHouse's own tools)"
        );
    }
    Ok(())
}
