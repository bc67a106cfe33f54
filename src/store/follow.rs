//! `mailtrace follow`: tails live logs into the store.
//!
//! One ingest [`Session`] stays open. Every interval each followed path is read on from where
//! it was left (a last line without its newline waits: the writer may be in the middle of it),
//! and whatever was read is committed, with the positions and the messages in flight, so a
//! search sees today's mail seconds after it is logged and a restart loses or doubles nothing.
//!
//! Rotation is noticed when a path no longer continues the file that was being read (its first
//! KiB differs, or it is shorter than what was read: logrotate's rename-and-create, or
//! copytruncate). The lines written to the old file since the last read are then in a sibling
//! (`mail.log.1`, `mail.log-20261123`, also compressed): the sibling that is the old file (by
//! its first KiB) is read to its end first, then the new file from its start. A path that does
//! not exist yet is waited for.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::backend::Backend;
use super::ingest::{Session, Summary};
use super::state::Resume;
use crate::scan::ScanOptions;

/// What one commit of the follower took in.
#[derive(Debug, Clone, Default)]
pub struct Tick {
    pub lines: u64,
    pub bytes: u64,
    /// Messages in flight after the commit.
    pub open: usize,
    /// Files read to their end after a rotation.
    pub rotated: Vec<String>,
    /// Bytes written to the followed files and not read yet (plain files).
    pub behind_bytes: u64,
    /// What the writers have counted, this commit included (for `--metrics`).
    pub counters: crate::metrics::Counters,
}

/// Follows `paths` (each with whether it is journald output) into `store` every `interval`
/// until `stop` is set, then commits and returns what the session did. `on_tick` hears of
/// every commit. The hourly maintenance takes `now` as today when given
/// (`--now`), else the clock.
pub fn run(
    store: &dyn Backend,
    paths: &[(PathBuf, bool)],
    opts: &ScanOptions,
    interval: Duration,
    now: Option<chrono::DateTime<chrono::Utc>>,
    stop: &AtomicBool,
    mut on_tick: impl FnMut(&Tick),
) -> Result<Summary> {
    let mut opts = opts.clone();
    opts.progress = false;
    let mut session = Session::begin(store, &opts, &[])?;
    let mut maintained = Instant::now();
    let mut totals = (0u64, 0u64);
    // the record of the file each path was showing when last read. A path that shows a file
    // the store does not know may have been rotated while no follower ran (killed, stopped,
    // restarted by logrotate): the file last read there is then taken as the one it showed, so
    // the first round reads the rest of it from its sibling before the new file, as for a
    // rotation seen live (without this, the lines written to it after the last commit were lost)
    let mut following: Vec<Option<usize>> = paths
        .iter()
        .map(|(p, journal)| {
            session
                .known(p, *journal)
                .map(|(i, _)| i)
                .or_else(|| session.last_read_at(p))
        })
        .collect();
    loop {
        let started = Instant::now();
        let mut tick = Tick::default();
        for ((path, journal), last) in paths.iter().zip(following.iter_mut()) {
            // the file is opened once, then told apart and read: a rotation between the two
            // cannot make the new file read as the old one, nor the old one's rest lost. A
            // path not there (yet) is waited for.
            let input = if path.exists() {
                session.open(path, *journal)
            } else {
                None
            };
            let now = input.as_ref().and_then(|i| match session.identify(i) {
                Ok(Resume::Known { index, .. }) => Some(index),
                _ => None,
            });
            if let Some(prev) = *last {
                if now != Some(prev) {
                    // rotated: first the rest of the old file, wherever it went
                    if let Some(old) = rotated_to(&session, path, *journal, prev) {
                        if let Err(e) = session.read(&old, *journal, None, false) {
                            return Err(session.abandon(e.context(format!("while reading {}", old.display()))));
                        }
                        tick.rotated.push(old.display().to_string());
                    }
                    *last = None;
                }
            }
            let Some(input) = input else { continue };
            match session.read_input(input, None, true) {
                Ok(index) => *last = index,
                Err(e) => return Err(session.abandon(e.context(format!("while reading {}", path.display())))),
            }
        }
        session.take_reports();
        let (open, files) = match session.commit_live() {
            Ok(c) => c,
            Err(e) => return Err(session.abandon(e)),
        };
        tick.open = open;
        tick.lines = files.iter().map(|f| f.lines).sum();
        tick.bytes = files.iter().map(|f| f.bytes).sum();
        tick.behind_bytes = paths
            .iter()
            .zip(&following)
            .filter_map(|((p, _), last)| {
                let k = session.file((*last)?);
                let len = std::fs::metadata(p).ok()?.len();
                (k.compressed_len.is_none()).then(|| len.saturating_sub(k.done.offset))
            })
            .sum();
        tick.counters = session.counters().clone();
        on_tick(&tick);
        // sleep the rest of the interval, a little at a time, to stop soon when asked
        while started.elapsed() < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // once `maintain` has run on the store, keep its windows every hour: the session ends
        // (all committed, the lock let go), maintain runs, a new session goes on
        if maintained.elapsed() >= MAINTAIN_EVERY {
            if let Some(w) = store.windows()? {
                let done = session.finish()?;
                totals = (totals.0 + done.stats.lines, totals.1 + done.traces);
                store.maintain(now.unwrap_or_else(chrono::Utc::now), w)?;
                session = Session::begin(store, &opts, &[])?;
            }
            maintained = Instant::now();
        }
    }
    let mut summary = session.finish()?;
    summary.stats.lines += totals.0;
    summary.traces += totals.1;
    Ok(summary)
}

/// How often a follower applies the tiers' windows.
const MAINTAIN_EVERY: Duration = Duration::from_secs(3600);

/// The sibling of `path` that is the file record `prev` (the file `path` showed before it was
/// rotated), if it is still there: `mail.log.1`, `mail.log-20261123`, `mail.log.1.gz`….
fn rotated_to(session: &Session, path: &Path, journal: bool, prev: usize) -> Option<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name()?.to_string_lossy().into_owned();
    let mut siblings: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() > name.len() && n.starts_with(&name) && matches!(n.as_bytes()[name.len()], b'.' | b'-'))
        .map(|n| path.with_file_name(n))
        .collect();
    // the newest rotation first: it is the likeliest
    siblings.sort_by_key(|p| std::cmp::Reverse(p.metadata().and_then(|m| m.modified()).ok()));
    siblings
        .into_iter()
        .find(|s| session.known(s, journal).is_some_and(|(i, _)| i == prev))
        .or_else(|| {
            let old = session.file(prev);
            // the record's own path, if the file was renamed there earlier
            let p = PathBuf::from(&old.path);
            (p != path && session.known(&p, journal).is_some_and(|(i, _)| i == prev)).then_some(p)
        })
}
