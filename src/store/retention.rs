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

/// What a `maintain` run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub archived: Vec<archive::ArchiveInfo>,
    /// Days deleted (from either tier), past the archive window.
    pub deleted: Vec<NaiveDate>,
    pub hot_days: usize,
    pub archive_days: usize,
}

/// Applies `windows` at `now` to `store`.
pub fn maintain(store: &Store, now: DateTime<Utc>, windows: Windows) -> Result<Report> {
    let _lock = store.lock()?;
    let first_hot = windows.first_hot(now);
    let first_kept = windows.first_kept(now);
    let archive_dir = store.archive_dir();
    std::fs::create_dir_all(&archive_dir).with_context(|| format!("cannot create {}", archive_dir.display()))?;
    let mut report = Report::default();
    let hot = HotReader::open(&store.hot_dir())?;
    for (day, dir) in hot.day_dirs() {
        if day >= first_hot {
            continue;
        }
        if day >= first_kept {
            let path = archive::path_of(&archive_dir, day);
            let traces = hot.day_traces(day)?;
            let info = archive::write(&path, day, &traces)?;
            // read it back whole before the hot copy goes
            archive::verify(&path).with_context(|| format!("the archive just written for {day} does not read back"))?;
            report.archived.push(info);
        } else {
            report.deleted.push(day);
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
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
