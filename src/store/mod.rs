//! The store: what `mailtrace index` writes and `search`/`show` read when no `--log` is given.
//!
//! ```text
//! STORE/
//!   mailtrace-store.json   marks the directory as a store (format version)
//!   lock                   held by the one `index` run allowed at a time
//!   state.json             files read and how far, the checkpoint in use (see `state`)
//!   open-N.ckpt.zst        messages still in flight at the last checkpoint (see `ingest`)
//!   hot/YYYY-MM-DD/        one tantivy index per UTC day (see `hot`)
//! ```
//!
//! Partitions are whole directories, so retention (a later tier) drops days, never rewrites.

pub mod archive;
pub mod backend;
pub mod clickhouse;
pub mod criteria;
pub mod disk;
pub mod embedded;
pub mod follow;
pub mod hot;
pub mod ingest;
pub mod owner;
pub mod raw;
pub mod retention;
pub mod schema;
pub mod shared_dir;
pub mod state;
pub mod writer_thread;

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The store format this version writes and reads.
pub const FORMAT: u32 = 1;
const MARKER: &str = "mailtrace-store.json";

/// The store the Debian package sets up, used by every user when it holds a store.
pub const SYSTEM_STORE: &str = "/var/lib/mailtrace";

/// A store directory.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: PathBuf,
}

impl Store {
    /// Where the store is: `--store`, else `$MAILTRACE_STORE`, else the config's `store`,
    /// else the system store [`SYSTEM_STORE`] when it holds one (the package's; readable by
    /// the group `adm`), else the user's data directory (`~/.local/share/mailtrace` on Linux).
    pub fn locate(explicit: Option<&Path>, configured: Option<&Path>) -> PathBuf {
        explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("MAILTRACE_STORE").map(PathBuf::from))
            .or_else(|| configured.map(Path::to_path_buf))
            .or_else(|| Store::exists(Path::new(SYSTEM_STORE)).then(|| PathBuf::from(SYSTEM_STORE)))
            .or_else(|| dirs::data_dir().map(|d| d.join("mailtrace")))
            .unwrap_or_else(|| PathBuf::from("mailtrace-store"))
    }

    /// Whether `root` holds a store (its marker file), without opening it.
    pub fn exists(root: &Path) -> bool {
        root.join(MARKER).is_file()
    }

    /// Opens an existing store.
    pub fn open(root: &Path) -> Result<Store> {
        let marker = root.join(MARKER);
        let text = match std::fs::read_to_string(&marker) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "no mailtrace store at {}: build one with `mailtrace index --store {} /var/log/mail.log`, \
                 or search the log files directly with --log",
                root.display(),
                root.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => bail!(
                "cannot read the store at {}: permission denied. The system store is readable by the \
                 group adm: ask for it (`sudo adduser $USER adm`, then log in again), or use sudo",
                root.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", marker.display())),
        };
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is damaged", marker.display()))?;
        let format = v.get("format").and_then(|f| f.as_u64()).unwrap_or(0);
        if format != u64::from(FORMAT) {
            bail!(
                "the store at {} has format {format}; this mailtrace reads format {FORMAT}: re-index into a new --store",
                root.display()
            );
        }
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    /// Opens the store at `root`, creating it if the directory is new or empty.
    pub fn create(root: &Path) -> Result<Store> {
        if root.join(MARKER).exists() {
            return Store::open(root);
        }
        std::fs::create_dir_all(root).with_context(|| format!("cannot create the store {}", root.display()))?;
        // what this function writes before the marker (an empty `hot/`, the marker's temporary
        // file) is a creation killed half way, not someone else's data: it is made again
        // (found by tests/crash.rs: an `index` killed in its first milliseconds left a
        // directory every later run refused)
        let half_made = |e: &std::fs::DirEntry| {
            let name = e.file_name();
            (name == "hot" && std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_none()))
                || name.to_str() == Some(&format!(".{MARKER}.tmp"))
        };
        let not_empty = std::fs::read_dir(root)?.any(|e| e.map_or(true, |e| !half_made(&e)));
        if not_empty {
            bail!(
                "{} is not empty and is not a mailtrace store: choose another --store directory",
                root.display()
            );
        }
        std::fs::create_dir_all(root.join("hot"))?;
        state::write_atomic(&root.join(MARKER), format!("{{\"format\": {FORMAT}}}\n").as_bytes())?;
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn hot_dir(&self) -> PathBuf {
        self.root.join("hot")
    }

    /// The archive tier: one `YYYY-MM-DD.mtar` file per day.
    pub fn archive_dir(&self) -> PathBuf {
        self.root.join("archive")
    }

    /// Takes the writer lock, held until the returned file is dropped (also when the process
    /// dies: the kernel releases it).
    pub fn lock(&self) -> Result<File> {
        match self.try_lock()? {
            Some(f) => Ok(f),
            None => bail!(
                "another `mailtrace index` or `mailtrace follow` is writing to {}: wait for it to finish, or stop it (searching works meanwhile)",
                self.root.display()
            ),
        }
    }

    /// The writer's lock, or `None` while another writer holds it.
    pub fn try_lock(&self) -> Result<Option<File>> {
        let path = self.root.join("lock");
        let f = match File::create(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => bail!(
                "the store at {} is not yours to write: run the command as its owner (`sudo mailtrace …` \
                 becomes it), or give your own --store DIR",
                self.root.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        };
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
    }
}
