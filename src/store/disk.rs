//! A write into the store that the file system refuses as a whole — the disk (or the user's
//! quota) is full, or the store is mounted read-only — is not a fault of the store: `index`
//! and `maintain` stop with an error that names the store and says what to do, and what was
//! committed before stays as it was (see the crash-safety notes in docs/ARCHITECTURE.md: the
//! next run with space redoes the interrupted one).
//!
//! The refusal reaches the command through several layers (std, tantivy's own error types,
//! the writer thread), so it is recognised anywhere in the error's chain: as an
//! [`io::Error`] (also behind tantivy's `Arc`), or by the OS error number std writes into
//! every OS error's text, `(os error N)`, where a layer kept only the text. tantivy keeps not
//! even that when one of its indexing threads fails (the writer is "killed", the cause only
//! logged): then the store's file system itself is asked (`statvfs`) whether it is mounted
//! read-only or nearly full ([`NEARLY_FULL`]), and the error says what it found.

use std::io;
use std::path::Path;
use std::sync::Arc;

/// Why the file system refused a write, when it refused the whole store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// ENOSPC, EDQUOT
    Full,
    /// EROFS
    ReadOnly,
}

fn of_errno(n: i32) -> Option<Refusal> {
    match n {
        libc::ENOSPC | libc::EDQUOT => Some(Refusal::Full),
        libc::EROFS => Some(Refusal::ReadOnly),
        _ => None,
    }
}

/// The refusal somewhere in `err`'s chain, if any.
pub fn refusal(err: &anyhow::Error) -> Option<Refusal> {
    err.chain().find_map(|cause| {
        let io = cause
            .downcast_ref::<io::Error>()
            .or_else(|| cause.downcast_ref::<Arc<io::Error>>().map(|a| a.as_ref()));
        if let Some(n) = io.and_then(io::Error::raw_os_error) {
            return of_errno(n);
        }
        let text = cause.to_string();
        let n = text.split("(os error ").nth(1)?.split(')').next()?.parse().ok()?;
        of_errno(n)
    })
}

/// Free space under which a failed write is taken for a full disk when the error does not
/// say why (tantivy's writes are segments of up to tens of MB).
pub const NEARLY_FULL: u64 = 64 << 20;

/// What the file system holding `path` (or its nearest existing parent) says: mounted
/// read-only, or less than [`NEARLY_FULL`] free (with the bytes free).
fn file_system(path: &Path) -> Option<(Refusal, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let existing = path.ancestors().find(|p| p.exists())?;
    let name = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a NUL-terminated path and `st` a statvfs the call fills
    if unsafe { libc::statvfs(name.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let free = st.f_bavail as u64 * st.f_frsize as u64;
    if st.f_flag & libc::ST_RDONLY != 0 {
        Some((Refusal::ReadOnly, free))
    } else if free < NEARLY_FULL {
        Some((Refusal::Full, free))
    } else {
        None
    }
}

/// `err` with the store `root` named and the way out, when the disk was full or the store
/// read-only; `err` as it was otherwise. `command` is the one that failed (`index`, …).
pub fn explain(err: anyhow::Error, root: &Path, command: &str) -> anyhow::Error {
    let (why, free) = match refusal(&err) {
        Some(r) => (Some(r), None),
        None => match file_system(root) {
            Some((r, free)) => (Some(r), Some(free)),
            None => (None, None),
        },
    };
    let free = free.map_or(String::new(), |f| format!(" ({} KiB free)", f / 1024));
    match why {
        Some(Refusal::Full) => err.context(format!(
            "the store {} is out of space{free}: `mailtrace {command}` stopped, and what it had \
             committed stays searchable; free space and run `mailtrace {command}` again, it goes on \
             from there",
            root.display()
        )),
        Some(Refusal::ReadOnly) => err.context(format!(
            "the store {} is on a read-only file system: `mailtrace {command}` writes into it; \
             searching it works, writing needs it mounted read-write",
            root.display()
        )),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn full_and_read_only_are_found_anywhere_in_the_chain() {
        let full = anyhow::Error::from(io::Error::from_raw_os_error(libc::ENOSPC)).context("cannot write x");
        assert_eq!(refusal(&full), Some(Refusal::Full));
        let ro: Result<(), _> = Err(Arc::new(io::Error::from_raw_os_error(libc::EROFS)));
        let ro = ro
            .map_err(|e: Arc<io::Error>| anyhow::Error::new(ArcIo(e)))
            .context("commit");
        assert_eq!(refusal(&ro.unwrap_err()), Some(Refusal::ReadOnly));
        // only the text was kept by a layer
        let text = anyhow::anyhow!("writer thread: No space left on device (os error 28)");
        assert_eq!(refusal(&text), Some(Refusal::Full));
        let other = anyhow::Error::from(io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(refusal(&other), None);
        let explained = explain(full, Path::new("/s"), "index");
        assert_eq!(
            format!("{explained:#}"),
            "the store /s is out of space: `mailtrace index` stopped, and what it had committed stays \
             searchable; free space and run `mailtrace index` again, it goes on from there: \
             cannot write x: No space left on device (os error 28)"
        );
        // an error that does not say, on a file system with room: left as it is
        let dir = tempfile::tempdir().unwrap();
        if file_system(dir.path()).is_none() {
            let killed = explain(anyhow::anyhow!("An index writer was killed"), dir.path(), "index");
            assert_eq!(format!("{killed:#}"), "An index writer was killed");
        }
    }

    /// An error whose source is an `Arc<io::Error>`, as tantivy's are.
    #[derive(Debug)]
    struct ArcIo(Arc<io::Error>);
    impl std::fmt::Display for ArcIo {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "an IO error occurred")
        }
    }
    impl std::error::Error for ArcIo {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
