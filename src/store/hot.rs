//! The hot tier: one tantivy index per UTC day (`hot/YYYY-MM-DD/`), the day a message was
//! received. A message whose state changes later (deferred today, delivered tomorrow) is
//! replaced in its own day: delete by `trace_key`, add again.
//!
//! Writing: [`DayWriters`] keeps a few day writers open (each with its own memory budget) and
//! commits one when it makes room for another; the ingest run commits them all at each
//! checkpoint. Reading: [`HotReader`] opens the committed state of every day, so a search
//! while `index` runs sees the last commit and never waits for it.

use std::path::{Path, PathBuf};

use std::ops::Bound;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::schema::Value;
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy, Score, SegmentReader,
};
use tantivy::{TantivyDocument, Term};

use super::backend::LinkKeys;
use super::criteria::{first_rows, row_query, trace_query};
use super::schema::{handed_to_term, trace_key, trace_only, Fields, StoredTrace};
use crate::output::Row;
use crate::query::Criteria;
use crate::store::shared_dir::SharedDirectory;
use crate::trace::Trace;

/// Decompressed doc store blocks (64 KiB each) kept per segment. Rows are read in index
/// order, so a few suffice; tantivy's default (100) kept up to 6 MiB for each segment of every
/// day read: a month of days of a few segments each held a gigabyte after one broad search.
const DOC_STORE_CACHE_BLOCKS: usize = 4;

/// Memory budget of one day writer.
const WRITER_BUDGET: usize = 64 << 20;
/// Day writers open at once (a batch usually moves forward day by day; an update to an
/// older day reopens its writer).
const MAX_OPEN_WRITERS: usize = 3;

/// The directory name of a day.
pub fn day_name(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The day (UTC) a message arrived, as its trace id names it.
pub fn arrival_day(trace_id: &str) -> Option<NaiveDate> {
    Some(DateTime::from_timestamp(crate::trace::arrival_second(trace_id)?, 0)?.date_naive())
}

/// The day (UTC) a trace belongs to.
pub fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

/// Days held in `hot`, oldest first, with their directories. Directories without a committed
/// index (a run killed while creating one) are left out.
pub fn days(hot: &Path) -> Result<Vec<(NaiveDate, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(hot) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", hot.display())),
    };
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let Some(day) = name
            .to_str()
            .and_then(|n| NaiveDate::parse_from_str(n, "%Y-%m-%d").ok())
        else {
            continue;
        };
        if e.path().join("meta.json").exists() {
            out.push((day, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn create_day(dir: &Path) -> Result<Index> {
    if dir.join("meta.json").exists() {
        return open_day(dir).with_context(|| format!("cannot open the day index {}", dir.display()));
    }
    // a directory without meta.json holds nothing committed: start it afresh
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (schema, _) = Fields::schema();
    let settings = IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(1),
        }),
        docstore_blocksize: 64 << 10,
        ..IndexSettings::default()
    };
    Index::builder()
        .schema(schema)
        .settings(settings)
        .open_or_create(SharedDirectory::open(dir)?)
        .with_context(|| format!("cannot create the day index {}", dir.display()))
}

/// Opens a day's index through [`SharedDirectory`] (readable by the store's group).
fn open_day(dir: &Path) -> tantivy::Result<Index> {
    Index::open(SharedDirectory::open(dir)?)
}

struct OpenDay {
    day: NaiveDate,
    writer: IndexWriter,
    /// The day's committed documents, to find a content-named trace stored before.
    reader: IndexReader,
    fields: Fields,
    used: u64,
}

impl OpenDay {
    fn commit(&mut self) -> Result<()> {
        self.writer
            .commit()
            .with_context(|| format!("cannot commit the day index {}", day_name(self.day)))?;
        self.reader.reload()?;
        Ok(())
    }

    /// Whether a trace with this key was committed (a content-named trace is never deleted).
    fn holds(&self, key: u64) -> Result<bool> {
        let term = Term::from_field_u64(self.fields.trace_key, key);
        Ok(self.reader.searcher().doc_freq(&term)? > 0)
    }
}

/// Writers of the day indexes an ingest run touches.
pub struct DayWriters {
    hot: PathBuf,
    open: Vec<OpenDay>,
    tick: u64,
    /// Row documents added (replacements included).
    pub rows: u64,
    /// Traces added (replacements included).
    pub traces: u64,
}

impl DayWriters {
    pub fn new(hot: &Path) -> DayWriters {
        DayWriters {
            hot: hot.to_path_buf(),
            open: Vec::new(),
            tick: 0,
            rows: 0,
            traces: 0,
        }
    }

    fn writer(&mut self, day: NaiveDate, create: bool) -> Result<Option<&mut OpenDay>> {
        self.tick += 1;
        if let Some(i) = self.open.iter().position(|o| o.day == day) {
            let o = &mut self.open[i];
            o.used = self.tick;
            return Ok(Some(o));
        }
        let dir = self.hot.join(day_name(day));
        if !create && !dir.join("meta.json").exists() {
            return Ok(None);
        }
        if self.open.len() >= MAX_OPEN_WRITERS {
            let lru = (0..self.open.len())
                .min_by_key(|&i| self.open[i].used)
                .expect("writers open");
            let mut o = self.open.swap_remove(lru);
            o.commit()?;
            o.writer.wait_merging_threads()?;
        }
        let index = create_day(&dir)?;
        let fields = Fields::from_schema(&index.schema())?;
        let writer = index
            .writer_with_num_threads(1, WRITER_BUDGET)
            .with_context(|| format!("cannot write {}: is another `mailtrace index` running?", dir.display()))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()
            .with_context(|| format!("cannot read {}", dir.display()))?;
        self.open.push(OpenDay {
            day,
            writer,
            reader,
            fields,
            used: self.tick,
        });
        Ok(self.open.last_mut())
    }

    /// Adds a trace to the day it was received; with `replace`, whatever is stored under its
    /// trace id is deleted first. A content-named trace (a reject Exim logs in its main and
    /// reject logs) already stored is the same event read from another file: the first copy
    /// stays, as in a scan of the logs.
    pub fn put(&mut self, t: Trace, files: &[(u32, String)], replace: bool) -> Result<()> {
        let o = self.writer(day_of(t.first_time), true)?.expect("created");
        let key = trace_key(&t.trace_id);
        if t.content_id {
            if o.holds(key)? {
                return Ok(());
            }
        } else if replace {
            o.writer.delete_term(Term::from_field_u64(o.fields.trace_key, key));
        }
        let docs = o.fields.documents(t, files)?;
        let n = docs.len() as u64;
        // one at a time: the indexing thread's queue holds 10,000 items, so handing over
        // batches would let memory grow with the input
        for d in docs {
            o.writer.add_document(d)?;
        }
        self.rows += n;
        self.traces += 1;
        Ok(())
    }

    /// Deletes the trace `trace_id` received at `first_time`, if stored.
    pub fn delete(&mut self, trace_id: &str, first_time: DateTime<Utc>) -> Result<()> {
        if let Some(o) = self.writer(day_of(first_time), false)? {
            o.writer
                .delete_term(Term::from_field_u64(o.fields.trace_key, trace_key(trace_id)));
        }
        Ok(())
    }

    /// Commits every open writer.
    pub fn commit(&mut self) -> Result<()> {
        for o in &mut self.open {
            o.commit()?;
        }
        Ok(())
    }

    /// Commits and closes every writer, letting background merges finish.
    pub fn close(mut self) -> Result<()> {
        self.commit()?;
        for o in self.open.drain(..) {
            o.writer.wait_merging_threads()?;
        }
        Ok(())
    }
}

struct Day {
    day: NaiveDate,
    dir: PathBuf,
    reader: IndexReader,
    fields: Fields,
}

/// The committed state of the hot days, for searching.
pub struct HotReader {
    days: Vec<Day>,
}

/// What a day holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DayInfo {
    pub day: NaiveDate,
    pub rows: u64,
    pub traces: u64,
    pub bytes: u64,
}

/// Rows a search found: the rows to print, and how many matched in all.
pub struct Found {
    pub rows: Vec<Row>,
    pub total: usize,
}

impl HotReader {
    /// Opens every committed day (retrying once when a concurrent merge removed a file
    /// between listing and opening).
    pub fn open(hot: &Path) -> Result<HotReader> {
        let mut days = Vec::new();
        for (day, dir) in self::days(hot)? {
            let open = || -> tantivy::Result<(IndexReader, Fields)> {
                let index = open_day(&dir)?;
                let fields = Fields::from_schema(&index.schema())
                    .map_err(|e| tantivy::TantivyError::SchemaError(e.to_string()))?;
                let reader = index
                    .reader_builder()
                    .reload_policy(ReloadPolicy::Manual)
                    .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
                    .try_into()?;
                Ok((reader, fields))
            };
            let (reader, fields) = open()
                .or_else(|_| open())
                .with_context(|| format!("cannot open the day index {}", dir.display()))?;
            days.push(Day {
                day,
                dir,
                reader,
                fields,
            });
        }
        Ok(HotReader { days })
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The first and last day held.
    pub fn day_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        Some((self.days.first()?.day, self.days.last()?.day))
    }

    /// Rows matching `c`, newest first (time, then trace id, then recipient order), at most
    /// `limit` of them.
    pub fn search(&self, c: &Criteria, limit: Option<usize>) -> Result<Found> {
        let plans = self.plans(c)?;
        let (hits, total) = match limit {
            Some(n) if n > 0 && !plans.iter().any(|p| p.2) => self.newest(&plans, n)?,
            _ => self.every_hit(c, &plans, limit)?,
        };
        self.rows(hits, total, limit)
    }

    /// Every row matching `c`, in [`HotReader::search`]'s order, handed to `each` about
    /// `batch` at a time: only the hits (time and place, 24 bytes each) are all held at once,
    /// the rows a batch at a time. A batch ends between two times, since rows of the same
    /// time are ordered by trace id, which only reading them tells. Returns how many rows.
    pub fn search_each(
        &self,
        c: &Criteria,
        batch: usize,
        each: &mut dyn FnMut(Vec<Row>) -> Result<()>,
    ) -> Result<usize> {
        let plans = self.plans(c)?;
        let (hits, total) = self.every_hit(c, &plans, None)?;
        let mut start = 0;
        while start < hits.len() {
            let mut end = (start + batch.max(1)).min(hits.len());
            while end < hits.len() && hits[end].0 == hits[end - 1].0 {
                end += 1;
            }
            each(self.rows(hits[start..end].to_vec(), end - start, None)?.rows)?;
            start = end;
        }
        Ok(total)
    }

    /// The query of `c` for each day that may hold a match, and whether its subject phrases
    /// must be confirmed row by row.
    fn plans(&self, c: &Criteria) -> Result<Vec<Plan>> {
        let mut plans = Vec::new();
        for (i, d) in self.days.iter().enumerate() {
            // a message belongs to the day it arrived: later days cannot hold one that
            // arrived before `until`'s day ended
            if c.until.is_some_and(|u| d.day > day_of(u)) {
                continue;
            }
            let (q, check_subject) = row_query(&d.fields, c)?;
            plans.push((i, q, check_subject));
        }
        Ok(plans)
    }

    /// The newest `n` hits (and every hit tied with the n-th), and how many matched in all,
    /// without collecting every match: per day the top `n` by time, then the ties.
    fn newest(&self, plans: &[Plan], n: usize) -> Result<(Vec<Hit>, usize)> {
        let mut hits: Vec<Hit> = Vec::new();
        let mut total = 0;
        for (i, q, _) in plans {
            let searcher = self.days[*i].reader.searcher();
            let top = TopDocs::with_limit(n).order_by_fast_field::<tantivy::DateTime>("time", Order::Desc);
            let (found, count) = searcher.search(q.as_ref(), &(top, Count))?;
            total += count;
            hits.extend(
                found
                    .into_iter()
                    .map(|(t, a)| (t.map_or(i64::MIN, tantivy::DateTime::into_timestamp_micros), *i, a)),
            );
        }
        hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        if total > n && hits.len() >= n {
            // the rows tied with the n-th are ordered by trace id, which the top-n by time
            // alone does not see: fetch all of them
            let edge = hits[n - 1].0;
            hits.retain(|h| h.0 > edge);
            for (i, q, _) in plans {
                let d = &self.days[*i];
                let tie = RangeQuery::new(
                    Bound::Included(Term::from_field_date(
                        d.fields.time,
                        tantivy::DateTime::from_timestamp_micros(edge),
                    )),
                    Bound::Included(Term::from_field_date(
                        d.fields.time,
                        tantivy::DateTime::from_timestamp_micros(edge),
                    )),
                );
                let both = BooleanQuery::new(vec![(Occur::Must, q.box_clone()), (Occur::Must, Box::new(tie))]);
                let found = d.reader.searcher().search(&both, &TimeHits)?;
                hits.extend(found.into_iter().map(|(t, a)| (t, *i, a)));
            }
        }
        Ok((hits, total))
    }

    /// Every hit (confirming subject phrases row by row), cut to the newest `limit` with ties.
    fn every_hit(&self, c: &Criteria, plans: &[Plan], limit: Option<usize>) -> Result<(Vec<Hit>, usize)> {
        let mut hits: Vec<Hit> = Vec::new();
        for (i, q, check_subject) in plans {
            let d = &self.days[*i];
            let searcher = d.reader.searcher();
            for (t, a) in searcher.search(q.as_ref(), &TimeHits)? {
                if *check_subject {
                    let row = read_row(&searcher, &d.fields, a, &d.dir)?;
                    if !c.subject_matches(row.subject.as_deref()) {
                        continue;
                    }
                }
                hits.push((t, *i, a));
            }
        }
        let total = hits.len();
        hits.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        match limit {
            Some(0) | None => {}
            Some(n) if hits.len() > n => {
                // keep every hit tied with the last one: the final order breaks ties by trace id
                let edge = hits[n - 1].0;
                let keep = hits.partition_point(|h| h.0 >= edge);
                hits.truncate(keep);
            }
            Some(_) => {}
        }
        Ok((hits, total))
    }

    /// Reads the rows of `hits` and puts them in their final order.
    fn rows(&self, mut hits: Vec<Hit>, total: usize, limit: Option<usize>) -> Result<Found> {
        // read in index order, which is the doc store's order
        hits.sort_unstable_by_key(|h| (h.1, h.2));
        let mut rows: Vec<(i64, String, u64, Row)> = Vec::with_capacity(hits.len());
        let searchers = self.days.iter().map(|d| d.reader.searcher()).collect::<Vec<_>>();
        for (t, day, addr) in hits {
            let d = &self.days[day];
            let row = read_row(&searchers[day], &d.fields, addr, &d.dir)?;
            let rcpt = searchers[day]
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("rcpt")?
                .first(addr.doc_id)
                .unwrap_or(0);
            rows.push((t, row.trace_id.clone(), rcpt, row));
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut rows: Vec<Row> = rows.into_iter().map(|r| r.3).collect();
        if let Some(n) = limit.filter(|&n| n > 0) {
            rows.truncate(n);
        }
        Ok(Found { rows, total })
    }

    /// The stored traces whose queue id, Message-ID or trace id is `id`, oldest first.
    pub fn traces(&self, id: &str) -> Result<Vec<StoredTrace>> {
        let mut out = Vec::new();
        for d in &self.days {
            let searcher = d.reader.searcher();
            let q = trace_query(&d.fields, id);
            for (_, addr) in searcher.search(q.as_ref(), &TimeHits)? {
                let doc: TantivyDocument = searcher.doc(addr)?;
                let st = d
                    .fields
                    .stored_trace(&doc)
                    .with_context(|| format!("damaged trace in the day index {}", d.dir.display()))?;
                // a trace-key match must be the trace id itself (not a hash collision)
                let named = st.trace.trace_id == id
                    || st.trace.queue_ids.iter().any(|q| q == id)
                    || st.trace.message_id.as_deref() == Some(id);
                if named {
                    out.push(st);
                }
            }
        }
        out.sort_by(|a, b| (a.trace.first_time, &a.trace.trace_id).cmp(&(b.trace.first_time, &b.trace.trace_id)));
        Ok(out)
    }

    /// The traces under `keys` (see [`LinkKeys`]), without their timelines.
    pub fn linked(&self, keys: &LinkKeys) -> Result<Vec<Trace>> {
        let wanted = keys.matcher();
        let mut out = Vec::new();
        for d in &self.days {
            // a message is in the day it arrived
            if keys.since.is_some_and(|s| d.day < day_of(s)) || keys.until.is_some_and(|u| d.day > day_of(u)) {
                continue;
            }
            let f = &d.fields;
            // one set of terms per day (sets of thousands of ids are looked up as one
            // automaton over the term dictionary, not as a clause each)
            let key = |id: &str| Term::from_field_u64(f.trace_key, trace_key(id));
            let text = |field, t: &str| Term::from_field_text(field, t);
            // a trace id names the second its message arrived
            let mut terms: Vec<Term> = keys
                .trace_ids
                .iter()
                .filter(|id| arrival_day(id).is_none_or(|day| day == d.day))
                .map(|id| key(id))
                .collect();
            terms.extend(keys.queue_ids.iter().map(|q| text(f.queue_id, q)));
            terms.extend(keys.message_ids.iter().map(|m| text(f.message_id, m)));
            if let Some(facts) = f.facts {
                terms.extend(keys.handed_to.iter().map(|q| text(facts, &handed_to_term(q))));
            }
            if terms.is_empty() {
                continue;
            }
            let mut all: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, first_rows(f)), (Occur::Must, any_of(terms))];
            if !keys.except.is_empty() {
                all.push((Occur::MustNot, any_of(keys.except.iter().map(|id| key(id)).collect())));
            }
            let searcher = d.reader.searcher();
            for (_, addr) in searcher.search(&BooleanQuery::new(all), &TimeHits)? {
                let doc: TantivyDocument = searcher.doc(addr)?;
                let t = trace_only(f, &doc)
                    .with_context(|| format!("damaged trace in the day index {}", d.dir.display()))?;
                if wanted(&t) {
                    out.push(t);
                }
            }
        }
        out.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
        out.dedup_by(|a, b| a.trace_id == b.trace_id);
        Ok(out)
    }

    /// Every trace stored for `day` (none if the day is not held).
    pub fn day_traces(&self, day: NaiveDate) -> Result<Vec<StoredTrace>> {
        let Some(d) = self.days.iter().find(|d| d.day == day) else {
            return Ok(Vec::new());
        };
        let searcher = d.reader.searcher();
        let q = first_rows(&d.fields);
        let mut out = Vec::new();
        for (_, addr) in searcher.search(q.as_ref(), &TimeHits)? {
            let doc: TantivyDocument = searcher.doc(addr)?;
            out.push(
                d.fields
                    .stored_trace(&doc)
                    .with_context(|| format!("damaged trace in the day index {}", d.dir.display()))?,
            );
        }
        out.sort_by(|a, b| (a.trace.first_time, &a.trace.trace_id).cmp(&(b.trace.first_time, &b.trace.trace_id)));
        Ok(out)
    }

    /// The days held and their directories.
    pub fn day_dirs(&self) -> Vec<(NaiveDate, PathBuf)> {
        self.days.iter().map(|d| (d.day, d.dir.clone())).collect()
    }

    /// The hosts of the messages held in the days `near` accepts, lowercased.
    pub fn hosts(&self, near: &dyn Fn(NaiveDate) -> bool) -> Result<std::collections::BTreeSet<String>> {
        let mut out = std::collections::BTreeSet::new();
        for d in self.days.iter().filter(|d| near(d.day)) {
            for segment in d.reader.searcher().segment_readers() {
                let index = segment.inverted_index(d.fields.host)?;
                let mut terms = index.terms().stream()?;
                while terms.advance() {
                    out.insert(String::from_utf8_lossy(terms.key()).into_owned());
                }
            }
        }
        Ok(out)
    }

    /// Rows, traces and bytes on disk per day.
    pub fn info(&self) -> Result<Vec<DayInfo>> {
        let mut out = Vec::new();
        for d in &self.days {
            let searcher = d.reader.searcher();
            let traces: Box<dyn Query> = first_rows(&d.fields);
            out.push(DayInfo {
                day: d.day,
                rows: searcher.num_docs(),
                traces: searcher.search(traces.as_ref(), &Count)? as u64,
                bytes: dir_size(&d.dir),
            });
        }
        Ok(out)
    }
}

fn read_row(searcher: &tantivy::Searcher, fields: &Fields, addr: DocAddress, dir: &Path) -> Result<Row> {
    let doc: TantivyDocument = searcher.doc(addr)?;
    let body = doc.get_first(fields.body).and_then(|v| v.as_str()).unwrap_or("");
    serde_json::from_str(body).with_context(|| format!("damaged row in the day index {}", dir.display()))
}

/// Documents with any of `terms`: a clause per term for a few, else one automaton over the
/// term dictionary per field (thousands of clauses cost far more; an automaton walks the
/// dictionary, which costs more than a few look-ups).
fn any_of(terms: Vec<Term>) -> Box<dyn Query> {
    if terms.len() > 1024 {
        return Box::new(TermSetQuery::new(terms));
    }
    Box::new(BooleanQuery::new(
        terms
            .into_iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(t, IndexRecordOption::Basic));
                (Occur::Should, q)
            })
            .collect(),
    ))
}

/// Total size of the files in `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A matching row: its time, the day (index in `HotReader::days`) and where it is.
type Hit = (i64, usize, DocAddress);

/// A day's part of a search: the day's place, its query, and whether subject phrases must be
/// confirmed row by row.
type Plan = (usize, Box<dyn Query>, bool);

/// Collects every matching document with its `time` fast field.
struct TimeHits;

impl Collector for TimeHits {
    type Fruit = Vec<(i64, DocAddress)>;
    type Child = SegmentTimeHits;

    fn for_segment(&self, segment: u32, reader: &SegmentReader) -> tantivy::Result<SegmentTimeHits> {
        Ok(SegmentTimeHits {
            segment,
            time: reader.fast_fields().date("time")?,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(i64, DocAddress)>>) -> tantivy::Result<Vec<(i64, DocAddress)>> {
        Ok(fruits.concat())
    }
}

struct SegmentTimeHits {
    segment: u32,
    time: Column<tantivy::DateTime>,
    hits: Vec<(i64, DocAddress)>,
}

impl SegmentCollector for SegmentTimeHits {
    type Fruit = Vec<(i64, DocAddress)>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let t = self
            .time
            .first(doc)
            .map_or(i64::MIN, tantivy::DateTime::into_timestamp_micros);
        self.hits.push((t, DocAddress::new(self.segment, doc)));
    }

    fn harvest(self) -> Self::Fruit {
        self.hits
    }
}
