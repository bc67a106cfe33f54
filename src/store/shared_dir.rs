//! The day indexes' directory, as tantivy sees it, readable by the store's group.
//!
//! The system store is written by the `mailtrace` user and read by the members of `adm`
//! (see [`crate::store::owner`]). tantivy's own directory gets two things in the way of such
//! readers, and this wrapper around it mends them:
//!
//! - it writes `meta.json` and `.managed.json` through a temporary file created with mode
//!   0600, whatever the umask: here they are written with the umask's mode, like every other
//!   file of the store;
//! - a reader takes `.tantivy-meta.lock` (so a merge does not delete files it is opening) by
//!   opening it for writing, which a reader without write access cannot: here it opens it
//!   for reading then (also on a read-only file system, where no one may write it), which
//!   takes the same `flock`; where it cannot open it at all, it reads
//!   without it (a file removed meanwhile makes the open fail, and the store's reader
//!   retries).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};

/// [`MmapDirectory`] with group-readable atomic writes and read-only locking.
#[derive(Clone, Debug)]
pub struct SharedDirectory {
    inner: MmapDirectory,
    root: PathBuf,
}

impl SharedDirectory {
    pub fn open(root: &Path) -> Result<SharedDirectory, OpenDirectoryError> {
        Ok(SharedDirectory {
            inner: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
        })
    }
}

/// Holds a lock file's `flock` until dropped (nothing, when it could not be taken).
struct HeldLock(#[allow(dead_code)] Option<std::fs::File>);

impl Directory for SharedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.inner.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    /// Writes a temporary file beside `path` (mode 0666 less the umask), syncs it, renames it.
    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let target = self.root.join(path);
        let name = target.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let write = || -> io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            f.write_all(data)?;
            f.sync_data()?;
            std::fs::rename(&tmp, &target)
        };
        write().inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        match self.inner.acquire_lock(lock) {
            Err(LockError::IoError(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                ) => {}
            other => return other,
        }
        // a reader of a store it may not write, or on a read-only file system
        let file = match std::fs::File::open(self.root.join(&lock.filepath)) {
            Ok(f) => f,
            Err(_) => return Ok(DirectoryLock::from(Box::new(HeldLock(None)))),
        };
        if lock.is_blocking {
            file.lock().map_err(LockError::wrap_io_error)?;
        } else if file.try_lock().is_err() {
            return Err(LockError::LockBusy);
        }
        Ok(DirectoryLock::from(Box::new(HeldLock(Some(file)))))
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_writes_follow_the_umask_not_0600() {
        let dir = tempfile::tempdir().unwrap();
        let d = SharedDirectory::open(dir.path()).unwrap();
        d.atomic_write(Path::new("meta.json"), b"{}").unwrap();
        assert_eq!(std::fs::read(dir.path().join("meta.json")).unwrap(), b"{}");
        d.atomic_write(Path::new("meta.json"), b"{\"a\":1}").unwrap();
        assert_eq!(d.atomic_read(Path::new("meta.json")).unwrap(), b"{\"a\":1}");
        let mode = std::fs::metadata(dir.path().join("meta.json"))
            .unwrap()
            .permissions()
            .mode();
        // the test process's umask is 022 or 002: group and others may read
        assert_eq!(mode & 0o044, 0o044, "mode {mode:o}");
        // no temporary file is left
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_lock_file_that_cannot_be_written_is_locked_for_reading() {
        let dir = tempfile::tempdir().unwrap();
        let d = SharedDirectory::open(dir.path()).unwrap();
        let lock = Lock {
            filepath: PathBuf::from(".tantivy-meta.lock"),
            is_blocking: true,
        };
        drop(d.acquire_lock(&lock).unwrap());
        // read-only: the writer's way is refused (unless root, who may write anyway)
        std::fs::set_permissions(
            dir.path().join(".tantivy-meta.lock"),
            std::fs::Permissions::from_mode(0o444),
        )
        .unwrap();
        let held = d.acquire_lock(&lock).unwrap();
        // a second, non-blocking taker sees it busy
        let probe = Lock {
            filepath: PathBuf::from(".tantivy-meta.lock"),
            is_blocking: false,
        };
        assert!(matches!(d.acquire_lock(&probe), Err(LockError::LockBusy)));
        drop(held);
        drop(d.acquire_lock(&probe).unwrap());
    }
}
