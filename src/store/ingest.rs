//! `mailtrace index`: reads log files into the store, once.
//!
//! A run resumes where the last one stopped: each file is recognised by its fingerprint and
//! read on from its committed position, and the assembler is restored from the checkpoint of
//! the messages that were still in flight, so a message deferred before midnight and
//! delivered after is completed by the next run. At the end the messages still in flight are
//! written as they stand (their rows say `deferred` or `in-progress`) and checkpointed.
//!
//! Crash safety: the state (positions + checkpoint) is replaced atomically only after the day
//! indexes are committed. A run killed before that leaves the previous state, and a flag that
//! tells the next run to replace (delete by trace id, then add) every trace it writes, so
//! re-reading the same lines doubles nothing. In a normal run only traces that began before
//! the checkpoint can already be stored, and only those are replaced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::Utc;

use super::backend::{Backend, Sink};
use super::state::{Fingerprint, IngestState, KnownFile, Resume, FINGERPRINT_BYTES};
use crate::scan::{Pipeline, ScanOptions, ScanStats};
use crate::source::{Input, Position};
use crate::trace::{Assembler, Trace};

/// A file modified this recently may be in the middle of a line at its end: that line waits
/// for the next run.
const ACTIVE_SECS: i64 = 600;
/// A message in flight with no line for this long (log time) is written as it stands and no
/// longer carried: Postfix retries a deferred message at least every 4000 s and gives up after
/// 5 days; only a message held by the admin may be quiet for long.
const IDLE_DAYS: i64 = 7;

/// What one file contributed to a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    pub path: String,
    pub from: u64,
    pub to: u64,
    /// `new`, `resumed`, `unchanged`, `skipped: why`, or `damaged: where` (a compressed file
    /// read up to its damage).
    pub outcome: String,
    /// Lines that were not text (not UTF-8, or over 1 MiB), where the first was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// What an `index` run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub files: Vec<FileReport>,
    pub stats: ScanStats,
    /// Traces written (finished ones, and the ones in flight as they stand).
    pub traces: u64,
    pub rows: u64,
    /// Messages in flight, checkpointed for the next run.
    pub open: usize,
    pub seconds: f64,
    /// Whether the previous run had been interrupted (its work is redone).
    pub recovered: bool,
}

impl Summary {
    /// Raw log bytes read per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.stats.bytes as f64 / 1e6 / self.seconds.max(1e-9)
    }
}

/// Indexes `paths` (each with whether it is journald output; `-` is standard input) into
/// `store`, committing at least every `chunk` bytes of input (`None`: at the end of each
/// file).
pub fn run(store: &dyn Backend, paths: &[(PathBuf, bool)], opts: &ScanOptions, chunk: Option<u64>) -> Result<Summary> {
    let mut session = Session::begin(store, opts, paths)?;
    for (path, journal) in paths {
        if let Err(e) = session.read(path, *journal, chunk, false) {
            // nothing is committed: the store keeps its last state and the next run redoes this
            return Err(session.abandon(e.context(format!("while indexing {}", path.display()))));
        }
    }
    session.finish()
}

/// One writer's time with the store: the state and checkpoint loaded, the assembler restored,
/// files read one after the other, commits (with the state saved after them) when asked.
/// `index` is one session over its files; `follow` keeps one open and reads again and again.
pub struct Session {
    /// Where the reading state is kept (the store's directory, or `--state`).
    dir: PathBuf,
    _lock: std::fs::File,
    state: IngestState,
    pipeline: Pipeline,
    sink: Box<dyn Sink>,
    names: BTreeMap<u32, String>,
    /// Traces that began up to this log time may be stored already and are replaced.
    resume_clock: Option<chrono::DateTime<Utc>>,
    /// The last run was interrupted: replace everything written.
    replace_all: bool,
    reports: Vec<FileReport>,
    started: Instant,
    counted: Counted,
}

/// The pipeline's line counts already added to the store's counters this session.
#[derive(Default)]
struct Counted {
    lines: u64,
    unrecognised: BTreeMap<String, u64>,
}

impl Counted {
    /// Adds to `to` what `pipeline` counted since the last call.
    fn add_new(&mut self, pipeline: &Pipeline, to: &mut crate::metrics::Counters) {
        let (lines, programs) = pipeline.line_counts();
        let mut fresh = Vec::new();
        for (program, n) in programs {
            let before = self.unrecognised.insert(program.to_string(), n).unwrap_or(0);
            if n > before {
                fresh.push((program.to_string(), n - before));
            }
        }
        to.add_lines(lines.saturating_sub(self.lines), fresh);
        self.lines = lines;
    }
}

impl Session {
    /// Locks `store`, loads its state and checkpoint, and marks a run in progress. `paths` only
    /// size the progress bar.
    pub fn begin(store: &dyn Backend, opts: &ScanOptions, paths: &[(PathBuf, bool)]) -> Result<Session> {
        let started = Instant::now();
        let place = store.writer_place()?;
        let dir = place.state_dir;
        let mut state = IngestState::load(&dir)?;
        let recovered = state.interrupted_run.is_some();
        let mut opts = opts.clone();
        opts.keep_text = true;
        let assembler = match &state.checkpoint {
            Some(name) => {
                let path = dir.join(name);
                let bytes = std::fs::read(&path)
                    .ok()
                    .and_then(|z| zstd::decode_all(&z[..]).ok())
                    .with_context(|| {
                        format!(
                            "the checkpoint {} is missing or damaged: to go on without the messages that were in \
                             flight at the last run (they stay searchable as stored), set \"checkpoint\" to null in {}",
                            path.display(),
                            dir.join(IngestState::FILE).display()
                        )
                    })?;
                Some(
                    Assembler::restore(&bytes, opts.rules.clone(), true)
                        .with_context(|| format!("the checkpoint {} is damaged", path.display()))?,
                )
            }
            None => None,
        };
        // traces that began after the checkpoint's last line cannot be stored yet
        let resume_clock = assembler.as_ref().and_then(Assembler::clock);
        let sink = store.sink(&state, recovered)?;
        state.interrupted_run = Some(Utc::now());
        state.save(&dir)?;
        let names: BTreeMap<u32, String> = state.files.iter().map(|f| (f.id, f.path.clone())).collect();
        // what is left to read, for the progress bar
        let total: u64 = paths
            .iter()
            .filter_map(|(p, journal)| {
                let len = std::fs::metadata(p).ok()?.len();
                let transformed = *journal || crate::source::decode::detect(p).ok()?.is_some();
                Some(match state.resume(p, len, transformed).ok()? {
                    Resume::Known { index, .. } if state.files[index].compressed_len == Some(len) => 0,
                    // a compressed file's offsets are in its decoded log: it is decoded whole
                    Resume::Known { .. } if transformed => len,
                    Resume::Known { from, .. } => len.saturating_sub(from.offset),
                    Resume::New => len,
                })
            })
            .sum();
        let pipeline = Pipeline::new(&opts, assembler, total);
        Ok(Session {
            dir,
            _lock: place.lock,
            state,
            pipeline,
            sink,
            names,
            resume_clock,
            replace_all: recovered,
            reports: Vec::new(),
            started,
            counted: Counted::default(),
        })
    }

    /// The known file `path` continues (by fingerprint), if any, and how far it was read.
    pub fn known(&self, path: &Path, journal: bool) -> Option<(usize, Position)> {
        let len = std::fs::metadata(path).ok()?.len();
        let transformed = journal || crate::source::decode::detect(path).ok()?.is_some();
        match self.state.resume(path, len, transformed).ok()? {
            Resume::Known { index, from } => Some((index, from)),
            Resume::New => None,
        }
    }

    /// `path` opened for reading ([`Input::open_pinned`]), or `None` with the reason reported
    /// (missing, not a regular file, unreadable: the store is not harmed).
    pub fn open(&mut self, path: &Path, journal: bool) -> Option<Input> {
        let shown = path.display().to_string();
        // a FIFO or a device would block or never end: not opened at all
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                self.reports.push(skipped(&shown, "not a regular file"));
                return None;
            }
            Err(e) => {
                self.reports.push(skipped(&shown, &e.to_string()));
                return None;
            }
        }
        match Input::open_pinned(path, self.state.next_file_id, journal) {
            Ok(input) => Some(input),
            Err(e) => {
                self.reports.push(skipped(&shown, &format!("{e:#}")));
                None
            }
        }
    }

    /// The known file an opened `input` continues (by fingerprint), if any, and how far it
    /// was read.
    pub fn identify(&self, input: &Input) -> Result<Resume> {
        let head = input
            .pinned_head(FINGERPRINT_BYTES)
            .context("a file is identified once opened")??;
        Ok(self
            .state
            .resume_head(&head, input.len, input.pinned_inode(), input.transformed()))
    }

    /// The record of the file last read at `path` (by its name, whatever it shows now): the
    /// newest of those that name it.
    pub fn last_read_at(&self, path: &Path) -> Option<usize> {
        let shown = path.display().to_string();
        (0..self.state.files.len())
            .filter(|&i| self.state.files[i].path == shown)
            .max_by_key(|&i| self.state.files[i].id)
    }

    /// The state's record of file `index`.
    pub fn file(&self, index: usize) -> &KnownFile {
        &self.state.files[index]
    }

    /// Reads `path` from where it was left (or whole, if new), committing at least every
    /// `chunk` bytes; with `live`, a last line without its newline always waits (the writer may
    /// be in the middle of it). Returns the index of the file's record, if it has one. What
    /// stops the read of this file without harming the store (missing, unreadable) is
    /// reported, not returned as an error.
    pub fn read(&mut self, path: &Path, journal: bool, chunk: Option<u64>, live: bool) -> Result<Option<usize>> {
        if path.as_os_str() == "-" {
            // standard input: read whole, once, as new
            return match Input::open_as(path, self.state.next_file_id, journal) {
                Ok(input) => self.read_input(input, chunk, live),
                Err(e) => {
                    self.reports.push(skipped("-", &format!("{e:#}")));
                    Ok(None)
                }
            };
        }
        // one open file from here on: a rotation while it is read (rename and create) cannot
        // mix the new file's bytes or name into the old one's record
        match self.open(path, journal) {
            Some(input) => self.read_input(input, chunk, live),
            None => Ok(None),
        }
    }

    /// [`Session::read`] of a file opened by [`Session::open`] (or of standard input).
    pub fn read_input(&mut self, mut input: Input, chunk: Option<u64>, live: bool) -> Result<Option<usize>> {
        let path = input.path.clone();
        let path = path.as_path();
        let shown = path.display().to_string();
        let stdin = input.is_stdin();
        let (input, id, from, known, len) = if stdin {
            (input, self.state.next_file_id, Position::default(), None, 0)
        } else {
            let len = input.len;
            let (id, from, known) = match self.identify(&input) {
                Ok(Resume::Known { index, from }) => (self.state.files[index].id, from, Some(index)),
                Ok(Resume::New) => (self.state.next_file_id, Position::default(), None),
                Err(e) => {
                    self.reports.push(skipped(&shown, &format!("{e:#}")));
                    return Ok(None);
                }
            };
            let nothing_new = known.is_some_and(|i| {
                let k = &self.state.files[i];
                k.compressed_len == Some(len) || (k.compressed_len.is_none() && from.offset == len)
            });
            if len == 0 || nothing_new {
                // a file read before under another name (rotated): known by its name now
                if let Some(i) = known.filter(|&i| self.state.files[i].path != shown) {
                    self.state.files[i].path = shown.clone();
                }
                self.reports.push(FileReport {
                    path: shown,
                    from: from.offset,
                    to: from.offset,
                    outcome: "unchanged".into(),
                    warnings: Vec::new(),
                });
                return Ok(known);
            }
            input.index = id;
            (input, id, from, known, len)
        };
        self.names.insert(id, shown.clone());
        self.sink.file(id, path)?;
        let active = !stdin
            && (live
                || input
                    .modified
                    .is_none_or(|m| (Utc::now() - m).num_seconds() < ACTIVE_SECS));
        let chunk = if stdin { None } else { chunk };
        // read in chunks, committing after each one that does not end the file, so a long
        // first run keeps what it did if it is interrupted
        let mut at = from;
        let mut index = known;
        let mut damage = None;
        let mut oddities = crate::source::Oddities::default();
        let end = loop {
            let mut write_error: Option<anyhow::Error> = None;
            let mut raw_error: Option<anyhow::Error> = None;
            let (names, replace_all, resume_clock) = (&self.names, self.replace_all, self.resume_clock);
            let metrics = &mut self.state.metrics;
            // traces and lines go to the one sink, never both at once
            let sink = std::cell::RefCell::new(&mut self.sink);
            let read = self.pipeline.read_raw(
                &input,
                at,
                active,
                chunk,
                &mut |t: Trace| {
                    if write_error.is_none() {
                        metrics.add_finished(&t);
                        let replace = replace_all || resume_clock.is_some_and(|c| t.first_time <= c);
                        let files = files_of(&t, names);
                        if let Err(e) = sink.borrow_mut().put(t, files, replace) {
                            write_error = Some(e);
                        }
                    }
                },
                Some(&mut |bytes: &[u8], at: crate::event::LineRef, time| {
                    if raw_error.is_none() {
                        if let Err(e) = sink.borrow_mut().line(bytes, at, time) {
                            raw_error = Some(e);
                        }
                    }
                }),
            );
            let write_error = write_error.or(raw_error);
            let (stop, done, head) = match (read, write_error) {
                (Ok(r), None) => {
                    damage = damage.or(r.damage);
                    oddities.merge(r.oddities);
                    (r.at, r.eof, r.head)
                }
                (Err(e), _) | (_, Some(e)) => return Err(e),
            };
            let of_head = |head: Vec<u8>| (!head.is_empty()).then(|| Fingerprint::of_bytes(&head));
            // the file as it was opened (by its path only if it was not opened pinned)
            let fingerprint = match if stdin {
                Ok(of_head(head))
            } else {
                match input.pinned_head(FINGERPRINT_BYTES) {
                    Some(head) => head.map(of_head),
                    None => Fingerprint::of(path),
                }
            } {
                Ok(Some(f)) => f,
                // a compressed file damaged before anything decodes: nothing to remember
                Ok(None) if damage.is_some() || stdin => break stop,
                Ok(None) => anyhow::bail!("file emptied while it was read"),
                Err(e) => return Err(e),
            };
            let now = Utc::now();
            let inode = input.pinned_inode();
            // a damaged file is read again next time, up to its damage
            let compressed_len = (input.transformed() && done && damage.is_none()).then_some(len);
            match index {
                Some(i) => {
                    let k = &mut self.state.files[i];
                    k.path = shown.clone();
                    k.fingerprint = fingerprint;
                    k.done = stop;
                    k.last_indexed = now;
                    k.compressed_len = compressed_len;
                    k.inode = inode;
                }
                None => {
                    self.state.next_file_id += 1;
                    self.state.files.push(KnownFile {
                        id,
                        path: shown.clone(),
                        fingerprint,
                        done: stop,
                        last_indexed: now,
                        compressed_len,
                        inode,
                    });
                    index = Some(self.state.files.len() - 1);
                }
            }
            if done || stop == at {
                break stop;
            }
            self.commit()?;
            at = stop;
        };
        let warnings = oddities.warnings(&shown);
        self.reports.push(FileReport {
            path: shown,
            from: from.offset,
            to: end.offset,
            outcome: match damage {
                Some(d) => format!("damaged: {d}"),
                None => if known.is_some() { "resumed" } else { "new" }.into(),
            },
            warnings,
        });
        Ok(index)
    }

    /// Writes the messages in flight as they stand, commits, and saves the checkpoint and the
    /// positions: a run stopped after this redoes nothing before it. Returns the messages in
    /// flight.
    pub fn commit(&mut self) -> Result<usize> {
        self.counted.add_new(&self.pipeline, &mut self.state.metrics);
        let open = checkpoint(
            &self.dir,
            &mut self.state,
            &mut self.pipeline,
            self.sink.as_mut(),
            &self.names,
        )?;
        // what was just written in flight is stored now: replace it when it finishes
        self.resume_clock = self.pipeline.assembler().clock();
        Ok(open)
    }

    /// Like [`Session::commit`], for a reader that never ends: also forgets what it no longer
    /// needs, so memory does not grow with time. Returns the files' counts since the last one.
    pub fn commit_live(&mut self) -> Result<(usize, Vec<crate::scan::FileStats>)> {
        let open = self.commit()?;
        Ok((open, self.pipeline.committed()))
    }

    /// What the writers have counted, this session's commits included.
    pub fn counters(&self) -> &crate::metrics::Counters {
        &self.state.metrics
    }

    /// The files read since the last call.
    pub fn take_reports(&mut self) -> Vec<FileReport> {
        std::mem::take(&mut self.reports)
    }

    /// Ends the session after an error: nothing more is committed, and the next run redoes
    /// what was not. Returns the error to report (the writer thread's own, if it failed).
    pub fn abandon(self, e: anyhow::Error) -> anyhow::Error {
        self.sink.abandon().unwrap_or(e)
    }

    /// Ends the session: messages idle for long are written and dropped, the rest
    /// checkpointed, everything committed, and the run marked finished.
    pub fn finish(mut self) -> Result<Summary> {
        let mut write_error: Option<anyhow::Error> = None;
        let (names, sink, metrics) = (&self.names, &mut self.sink, &mut self.state.metrics);
        self.pipeline
            .release_idle(chrono::Duration::days(IDLE_DAYS), &mut |t: Trace| {
                metrics.add_finished(&t);
                let files = files_of(&t, names);
                if let Err(e) = sink.put(t, files, true) {
                    write_error.get_or_insert(e);
                }
            });
        if let Some(e) = write_error {
            return Err(self.abandon(e));
        }
        let open = match self.commit() {
            Ok(open) => open,
            Err(e) => return Err(self.abandon(e)),
        };
        let Session {
            dir,
            mut state,
            pipeline,
            sink,
            reports,
            started,
            replace_all,
            ..
        } = self;
        let (_, stats) = pipeline.suspend();
        let crate::store::backend::Written { traces, rows } = sink.close()?;
        state.interrupted_run = None;
        state.save(&dir)?;
        Ok(Summary {
            files: reports,
            stats,
            traces,
            rows,
            open,
            seconds: started.elapsed().as_secs_f64(),
            recovered: replace_all,
        })
    }
}

fn skipped(path: &str, why: &str) -> FileReport {
    FileReport {
        path: path.to_string(),
        from: 0,
        to: 0,
        outcome: format!("skipped: {why}"),
        warnings: Vec::new(),
    }
}

/// The names of the files `t`'s lines came from.
fn files_of(t: &Trace, names: &BTreeMap<u32, String>) -> Vec<(u32, String)> {
    let mut ids: Vec<u32> = t.timeline.iter().map(|e| e.line.file).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| (id, names.get(&id).cloned().unwrap_or_default()))
        .collect()
}

/// Writes the messages in flight as they stand, deletes traces merged away, commits every
/// day, then saves the checkpoint and the state (in that order). Returns how many messages
/// are in flight.
fn checkpoint(
    dir: &Path,
    state: &mut IngestState,
    pipeline: &mut Pipeline,
    sink: &mut dyn Sink,
    names: &BTreeMap<u32, String>,
) -> Result<usize> {
    let open = pipeline.assembler().snapshot();
    let n = open.len();
    state.metrics.set_in_flight(&open);
    for t in open {
        let files = files_of(&t, names);
        sink.put(t, files, true)?;
    }
    for (id, first) in pipeline.take_retired() {
        sink.delete(id, first)?;
    }
    sink.commit(state)?;
    state.generation += 1;
    let name = format!("open-{}.ckpt.zst", state.generation);
    let bytes = pipeline.assembler().checkpoint()?;
    let z = zstd::encode_all(&bytes[..], 3)?;
    super::state::write_atomic(&dir.join(&name), &z)?;
    let old = state.checkpoint.replace(name);
    state.save(dir)?;
    if let Some(old) = old {
        let _ = std::fs::remove_file(dir.join(old));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::Embedded;

    fn lines(host: &str, n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| {
                format!(
                    "Nov 10 00:00:{:02} {host} postfix/smtpd[1]: connect from a.example[192.0.2.{i}]\n",
                    i % 60
                )
            })
            .collect::<String>()
            .into_bytes()
    }

    /// A rotation (rename and create) after the file was opened and before it was read: the
    /// record is the opened file's, by its first KiB and inode, never the new file's (a
    /// follower that took the new file's fingerprint read on in it from the old file's offset
    /// and lost the old file's rest: crash harness, follow trial 13 of seed 20).
    #[test]
    fn a_file_renamed_and_replaced_while_read_is_recorded_as_the_file_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Embedded::create(&dir.path().join("store")).unwrap();
        let opts = ScanOptions {
            year: Some(2026),
            threads: 1,
            ..ScanOptions::default()
        };
        let mut session = Session::begin(&store, &opts, &[]).unwrap();
        let (log, old) = (dir.path().join("mail.log"), dir.path().join("mail.log.1"));
        let (a, b) = (lines("mx1", 40), lines("mx2", 30));
        std::fs::write(&log, &a).unwrap();
        let input = session.open(&log, false).unwrap();
        std::fs::rename(&log, &old).unwrap();
        std::fs::write(&log, &b).unwrap();
        let i = session.read_input(input, None, true).unwrap().unwrap();
        let k = session.file(i);
        assert_eq!(k.done.offset, a.len() as u64);
        assert_eq!(k.done.line, 40);
        assert_eq!(Some(k.fingerprint), Fingerprint::of(&old).unwrap());
        assert_eq!(k.inode, crate::store::state::inode_of(&old));
        // the path now shows a file the store does not know; the old one is known where it went
        assert_eq!(session.known(&log, false), None);
        assert_eq!(session.known(&old, false).map(|(j, _)| j), Some(i));
        let input = session.open(&log, false).unwrap();
        assert_eq!(session.identify(&input).unwrap(), Resume::New);
        drop(session.finish().unwrap());
    }
}
