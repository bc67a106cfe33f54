//! The ingest state: which files were read how far, and where the checkpoint of the messages
//! still in flight is. One small JSON file, replaced atomically (write, fsync, rename, fsync
//! the directory), so a run killed at any moment leaves either the old state or the new one.
//!
//! Files are known by content, not by name: the fingerprint is a hash of their first KiB, so
//! `mail.log` renamed to `mail.log.1` by logrotate is recognised and read on from where the
//! last run stopped, and a file that grew is read from its old end.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::source::Position;

/// Bytes of a file's start that identify it.
pub const FINGERPRINT_BYTES: usize = crate::source::HEAD_BYTES;

/// What identifies a file: the hash of its first `len` bytes (`len` < 1 KiB only while the
/// file is shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub len: u32,
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of the first KiB of `path`'s log (decoded, for a compressed file: a log
    /// compressed by logrotate is the log read before); `None` for an empty file.
    pub fn of(path: &Path) -> Result<Option<Fingerprint>> {
        let head = read_head(path, FINGERPRINT_BYTES)?;
        Ok((!head.is_empty()).then(|| Fingerprint::of_bytes(&head)))
    }

    pub fn of_bytes(head: &[u8]) -> Fingerprint {
        Fingerprint {
            len: head.len() as u32,
            hash: xxhash_rust::xxh3::xxh3_64(head),
        }
    }
}

fn read_head(path: &Path, n: usize) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    let mut read = || -> std::io::Result<()> {
        let file = File::open(path)?;
        match crate::source::decode::detect(path)? {
            None => file.take(n as u64).read_to_end(&mut head).map(drop),
            Some(format) => {
                let decoded = crate::source::decode::decoder(file, format)?;
                // a file damaged within its first KiB is known by what decodes
                // (nothing decodes: no fingerprint, as for an empty file)
                let _ = decoded.take(n as u64).read_to_end(&mut head);
                Ok(())
            }
        }
    };
    read().with_context(|| format!("cannot read {}", path.display()))?;
    Ok(head)
}

/// One log file the store has read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnownFile {
    /// The file's number in the store: timeline lines point at it.
    pub id: u32,
    /// Where it was last read from.
    pub path: String,
    pub fingerprint: Fingerprint,
    /// How far it has been read and committed (in the decoded log, for a compressed file).
    pub done: Position,
    pub last_indexed: DateTime<Utc>,
    /// For a compressed file read to its end: its size on disk then. The same size later
    /// means there is nothing new, without decoding it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_len: Option<u64>,
    /// The file's device and inode when last read. A fingerprint of fewer than
    /// [`FINGERPRINT_BYTES`] (a file read when it was that short) is weak: a new log may start
    /// with the same few bytes (`Nov 10`), so such a record is the file at a path only when the
    /// inode is the same too (a rename keeps it). None in stores of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode: Option<(u64, u64)>,
}

/// The device and inode of the file at `path`.
pub fn inode_of(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| crate::source::dev_ino(&m))
}

impl KnownFile {
    /// Where the file is now: at its path, else the sibling whose name starts with its name
    /// and whose log starts the same (`mail.log` → `mail.log.1`, `mail.log.1.gz`,
    /// `mail.log-20261123`), else nowhere (`None`).
    pub fn now_at(&self) -> Option<std::path::PathBuf> {
        let path = Path::new(&self.path);
        let same = |p: &Path| {
            read_head(p, self.fingerprint.len as usize).is_ok_and(|h| {
                h.len() == self.fingerprint.len as usize && Fingerprint::of_bytes(&h) == self.fingerprint
            })
        };
        if same(path) {
            return Some(path.to_path_buf());
        }
        let (dir, name) = (path.parent()?, path.file_name()?.to_str()?);
        let mut siblings: Vec<_> = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.len() > name.len() && n.starts_with(name))
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
        siblings.sort();
        siblings.into_iter().find(|p| same(p))
    }
}

/// The store's ingest state (`state.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestState {
    pub files: Vec<KnownFile>,
    pub next_file_id: u32,
    /// The checkpoint file of the messages in flight (`open-N.ckpt.zst`), if any.
    pub checkpoint: Option<String>,
    /// Set while an `index` run is writing: if a run finds it set, the last one was
    /// interrupted and every trace it writes replaces whatever may already be stored.
    pub interrupted_run: Option<DateTime<Utc>>,
    /// How many checkpoints were written (names the next one).
    pub generation: u64,
    /// The raw tier's files and their lengths at the last commit.
    #[serde(default)]
    pub raw: Vec<super::raw::Segment>,
    /// A ClickHouse store's key of each file read (see [`FileKey`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_keys: Vec<FileKey>,
    /// What the writers have counted, for `/metrics` (saved with the positions).
    #[serde(default, skip_serializing_if = "crate::metrics::Counters::is_empty")]
    pub metrics: crate::metrics::Counters,
}

/// What names a file's lines in a ClickHouse store, whoever reads it: a hash of its first
/// line (the same file renamed, compressed or read by another machine has the same key), and
/// that line's time (µs; files are replayed in that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileKey {
    pub id: u32,
    pub key: u64,
    pub start: i64,
}

/// How a file given to `index` relates to what the store has read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Never seen: read it all.
    New,
    /// Seen (perhaps under another name): read on from `from`.
    Known { index: usize, from: Position },
}

impl IngestState {
    pub const FILE: &'static str = "state.json";

    pub fn load(dir: &Path) -> Result<IngestState> {
        let path = dir.join(Self::FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is damaged: move it away to re-index from scratch (the indexed days stay)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(IngestState::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        write_atomic(&dir.join(Self::FILE), &serde_json::to_vec_pretty(self)?)
    }

    /// Finds `path` among the known files by its fingerprint. A known file that is now shorter
    /// than what was read of it was truncated (copytruncate) and counts as new (not told for a
    /// `transformed` file, compressed or converted: its size is not its log's).
    pub fn resume(&self, path: &Path, len: u64, transformed: bool) -> Result<Resume> {
        let head = read_head(path, FINGERPRINT_BYTES)?;
        Ok(self.resume_head(&head, len, inode_of(path), transformed))
    }

    /// [`IngestState::resume`] for a file whose first KiB (`head`), length and inode were read
    /// already, from the file as it was opened.
    pub fn resume_head(&self, head: &[u8], len: u64, inode: Option<(u64, u64)>, transformed: bool) -> Resume {
        let mut best: Option<(usize, Position)> = None;
        for (i, k) in self.files.iter().enumerate() {
            let n = k.fingerprint.len as usize;
            let weak = n < FINGERPRINT_BYTES && !transformed;
            if head.len() < n
                || Fingerprint::of_bytes(&head[..n]) != k.fingerprint
                || (!transformed && len < k.done.offset)
                || (weak && k.inode.is_some() && inode.is_some() && k.inode != inode)
            {
                continue;
            }
            if best.is_none_or(|(_, p)| k.done.offset > p.offset) {
                best = Some((i, k.done));
            }
        }
        match best {
            Some((index, from)) => Resume::Known { index, from },
            None => Resume::New,
        }
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("path without a directory")?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().map_or("state".into(), |n| n.to_string_lossy())
    ));
    let mut f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_or_grown_file_is_known_by_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("mail.log");
        std::fs::write(&a, "line one\nline two\n").unwrap();
        let mut st = IngestState::default();
        st.files.push(KnownFile {
            id: 0,
            path: a.display().to_string(),
            fingerprint: Fingerprint::of(&a).unwrap().unwrap(),
            done: Position { offset: 18, line: 2 },
            last_indexed: Utc::now(),
            compressed_len: None,
            inode: None,
        });
        std::fs::write(&a, "line one\nline two\nline three\n").unwrap();
        let b = dir.path().join("mail.log.1");
        std::fs::rename(&a, &b).unwrap();
        assert_eq!(
            st.resume(&b, 29, false).unwrap(),
            Resume::Known {
                index: 0,
                from: Position { offset: 18, line: 2 }
            }
        );
        std::fs::write(&a, "line one\n").unwrap();
        assert_eq!(
            st.resume(&a, 9, false).unwrap(),
            Resume::New,
            "shorter than what was read: new"
        );
        std::fs::write(&a, "other\n").unwrap();
        assert_eq!(st.resume(&a, 6, false).unwrap(), Resume::New);
        st.save(dir.path()).unwrap();
        assert_eq!(IngestState::load(dir.path()).unwrap().files.len(), 1);
    }

    #[test]
    fn a_file_read_while_short_is_also_known_by_its_inode() {
        // found by tests/crash.rs: a follower that read "Nov 10" and was down across a
        // rotation took the new log, which starts the same, for the old one (whose rest it
        // then never read)
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("mail.log");
        std::fs::write(&a, "Nov 10").unwrap();
        let mut st = IngestState::default();
        st.files.push(KnownFile {
            id: 0,
            path: a.display().to_string(),
            fingerprint: Fingerprint::of(&a).unwrap().unwrap(),
            done: Position { offset: 6, line: 0 },
            last_indexed: Utc::now(),
            compressed_len: None,
            inode: inode_of(&a),
        });
        let b = dir.path().join("mail.log.1");
        std::fs::rename(&a, &b).unwrap();
        std::fs::write(&a, "Nov 10 00:00:01 mx1 postfix/qmgr[1]: 4B7F31C0A2: removed\n").unwrap();
        assert_eq!(st.resume(&a, 58, false).unwrap(), Resume::New, "a new file at the path");
        assert_eq!(
            st.resume(&b, 6, false).unwrap(),
            Resume::Known {
                index: 0,
                from: Position { offset: 6, line: 0 }
            },
            "the renamed file"
        );
    }
}
