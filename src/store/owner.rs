//! Writing a store that belongs to another user, as root: become that user first.
//!
//! The package's store, `/var/lib/mailtrace`, belongs to the `mailtrace` user, whose services
//! (`follow`, `maintain`) write it. An admin's `sudo mailtrace index …` must not leave files
//! in it that those services cannot replace, so a process running as root that is about to
//! write a store directory owned by another user takes that user's identity (its uid, its
//! primary group and its other groups, e.g. `adm`, which reads `/var/log/mail.log`) for the
//! rest of the run. Reading needs no change: the store is readable by its group.

use std::path::Path;

use anyhow::Result;

/// Becomes the owner of the store directory `dir` when running as root and `dir` exists and
/// belongs to another user; otherwise does nothing. Returns the user name taken, if any.
#[cfg(unix)]
pub fn act_as_owner(dir: &Path) -> Result<Option<String>> {
    use anyhow::{bail, Context};
    use std::ffi::CStr;
    use std::os::unix::fs::MetadataExt;

    // SAFETY: geteuid has no preconditions.
    if crate::store::backend::is_clickhouse(dir) || unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let Ok(meta) = std::fs::metadata(dir) else {
        return Ok(None); // a new store: root's own
    };
    let uid = meta.uid();
    if uid == 0 {
        return Ok(None);
    }
    // the owner's passwd entry: its name and primary group
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: the pointers are to live, correctly sized buffers; `found` is set to `&entry`
    // or null.
    let rc = unsafe { libc::getpwuid_r(uid, &mut entry, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() {
        bail!(
            "{} belongs to user id {uid}, which has no account: run mailtrace as that user, or give the store to one (chown)",
            dir.display()
        );
    }
    // SAFETY: getpwuid_r succeeded, so pw_name points to a NUL-terminated string in `buf`.
    let name = unsafe { CStr::from_ptr(entry.pw_name) };
    let gid = entry.pw_gid;
    let user = name.to_string_lossy().into_owned();
    let context = || format!("cannot become {user}, the owner of {}", dir.display());
    // SAFETY: plain system calls on values read above; order matters (groups before the uid).
    unsafe {
        if libc::initgroups(name.as_ptr(), gid) != 0 {
            return Err(std::io::Error::last_os_error()).with_context(context);
        }
        if libc::setgid(gid) != 0 {
            return Err(std::io::Error::last_os_error()).with_context(context);
        }
        if libc::setuid(uid) != 0 {
            return Err(std::io::Error::last_os_error()).with_context(context);
        }
    }
    Ok(Some(user))
}

/// Elsewhere the store is written as whoever runs the command.
#[cfg(not(unix))]
pub fn act_as_owner(_dir: &Path) -> Result<Option<String>> {
    Ok(None)
}
