//! `mailtrace maintain`: moves days out of the hot tier and drops them at the end.
//!
//! A day is kept hot for `hot_days` days (today included), then compacted into one archive
//! file (see [`super::archive`]), and deleted once older than `archive_days` days. Each step
//! works on whole partitions: an archive is written beside the hot day (temporary file, sync,
//! rename), read back and checked, and only then is the day's hot directory removed; retention
//! deletes files and directories, never rewrites them. A run stopped anywhere leaves every day
//! in one tier or the other, or in both (the next run finishes the move), and readers never see
//! a day missing.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::archive;
use super::hot::HotReader;
use super::raw;
use super::state::IngestState;
use super::Store;

/// How long each tier keeps a day.
#[derive(Debug, Clone, Copy)]
pub struct Windows {
    /// Days kept in the hot tier, today included.
    pub hot_days: u32,
    /// Days kept at all, today included; older ones are deleted.
    pub archive_days: u32,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            hot_days: 10,
            archive_days: 90,
        }
    }
}

impl Windows {
    /// The first day still hot at `now`.
    pub fn first_hot(&self, now: DateTime<Utc>) -> NaiveDate {
        now.date_naive() - Duration::days(i64::from(self.hot_days.max(1)) - 1)
    }

    /// The first day still kept at `now`.
    pub fn first_kept(&self, now: DateTime<Utc>) -> NaiveDate {
        now.date_naive() - Duration::days(i64::from(self.archive_days.max(1)) - 1)
    }
}

const WINDOWS_FILE: &str = "tiers.json";

impl Windows {
    /// The windows the last `maintain` used on `store`, if it ran: `index` and `follow` then
    /// keep them.
    pub fn of(store: &Store) -> Result<Option<Windows>> {
        let path = store.root.join(WINDOWS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(
                Windows::from_json(&bytes).with_context(|| format!("{} is damaged", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn save(&self, store: &Store) -> Result<()> {
        let text = format!("{}\n", self.to_json());
        super::state::write_atomic(&store.root.join(WINDOWS_FILE), text.as_bytes())
    }

    /// The windows as kept (the embedded store's `tiers.json`, a ClickHouse store's `meta`).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"hot_days\": {}, \"archive_days\": {}}}",
            self.hot_days, self.archive_days
        )
    }

    /// Reads what [`Windows::to_json`] wrote (a missing window takes its default).
    pub fn from_json(bytes: &[u8]) -> Result<Windows> {
        let v: serde_json::Value = serde_json::from_slice(bytes)?;
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).map(|x| x as u32);
        let d = Windows::default();
        Ok(Windows {
            hot_days: n("hot_days").unwrap_or(d.hot_days),
            archive_days: n("archive_days").unwrap_or(d.archive_days),
        })
    }
}

/// What a `maintain` run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub archived: Vec<archive::ArchiveInfo>,
    /// Days deleted (from either tier), past the archive window.
    pub deleted: Vec<NaiveDate>,
    pub hot_days: usize,
    pub archive_days: usize,
    /// Another writer (`follow`, `index`) held the store: the windows were saved for it to
    /// apply (`follow` within the hour, `index` when it ends), and nothing else was done.
    pub left_to_writer: bool,
}

/// Applies `windows` at `now` to `store`; while another writer holds the store, saves them for
/// that writer to apply (see [`Report::left_to_writer`]).
pub fn maintain(store: &Store, now: DateTime<Utc>, windows: Windows) -> Result<Report> {
    let Some(_lock) = store.try_lock()? else {
        windows.save(store)?;
        return Ok(Report {
            left_to_writer: true,
            ..Report::default()
        });
    };
    windows.save(store)?;
    let first_hot = windows.first_hot(now);
    let first_kept = windows.first_kept(now);
    let archive_dir = store.archive_dir();
    std::fs::create_dir_all(&archive_dir).with_context(|| format!("cannot create {}", archive_dir.display()))?;
    let mut report = Report::default();
    let mut state = IngestState::load(&store.root)?;
    let hot = HotReader::open(&store.hot_dir())?;
    // the days either hot part holds: traces by the day a message arrived, raw lines by their
    // own time
    let mut days: Vec<NaiveDate> = hot.day_dirs().into_iter().map(|(d, _)| d).collect();
    days.extend(raw::days(&store.root)?.into_iter().map(|(d, _)| d));
    days.sort();
    days.dedup();
    for day in days.into_iter().filter(|&d| d < first_hot) {
        if day >= first_kept {
            let path = archive::path_of(&archive_dir, day);
            let mut traces = hot.day_traces(day)?;
            let mut lines = raw::day_records(&store.root, day, &state.raw)?;
            if path.exists() {
                // the day was archived before (a late line, a message finished since): the
                // archive is rewritten with both, the hot copy of a message winning
                let old = archive::Archive::open(&path)
                    .with_context(|| format!("cannot add to the archive of {day}: restore or delete it first"))?;
                let mut merged: Vec<_> = old
                    .all()?
                    .into_iter()
                    .filter(|o| !traces.iter().any(|t| t.trace.trace_id == o.trace.trace_id))
                    .collect();
                merged.append(&mut traces);
                merged.sort_by(|a, b| {
                    (a.trace.first_time, &a.trace.trace_id).cmp(&(b.trace.first_time, &b.trace.trace_id))
                });
                traces = merged;
                let mut old_lines = old.raw_records()?;
                // a run killed after writing this archive and before the hot copy went leaves
                // lines in both: each line (file, offset) is kept once (found by
                // tests/crash.rs: the replay of such a day gave its lines twice)
                let archived: std::collections::HashSet<(u32, u64)> =
                    old_lines.iter().map(|r| (r.file, r.offset)).collect();
                lines.retain(|r| !archived.contains(&(r.file, r.offset)));
                old_lines.append(&mut lines);
                lines = old_lines;
            }
            let info = archive::write(&path, day, &traces, &lines)?;
            // read it back whole before the hot copy goes
            archive::verify(&path).with_context(|| format!("the archive just written for {day} does not read back"))?;
            report.archived.push(info);
        } else {
            report.deleted.push(day);
        }
        if let Some((_, dir)) = hot.day_dirs().into_iter().find(|(d, _)| *d == day) {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        // the raw files go from the state first: a crash leaves files no commit knows, which
        // the next recovery removes
        let prefix = format!("raw/{}/", day.format("%Y-%m-%d"));
        state.raw.retain(|s| !s.path.starts_with(&prefix));
        state.save(&store.root)?;
        let raw_dir = store.root.join(&prefix);
        if raw_dir.exists() {
            std::fs::remove_dir_all(&raw_dir).with_context(|| format!("cannot remove {}", raw_dir.display()))?;
        }
    }
    for (day, path) in archive::days(&archive_dir)? {
        if day < first_kept {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            report.deleted.push(day);
        }
    }
    report.deleted.sort();
    report.deleted.dedup();
    report.hot_days = super::hot::days(&store.hot_dir())?.len();
    report.archive_days = archive::days(&archive_dir)?.len();
    Ok(report)
}
