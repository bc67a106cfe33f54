//! The files to read, in the order to read them. Arguments may be files, directories (every
//! log file in them) or glob patterns (for when the shell did not expand them). A message's
//! lines can span a rotation, so each rotated set is read oldest first, whatever order the
//! arguments came in: `mail.log.10.gz`, `mail.log.2.gz`, `mail.log.1`, `mail.log`; or
//! `mail.log-20261121.gz`, `mail.log-20261122`, `mail.log`. Sets are ordered by name.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Compression suffixes logrotate adds (the content decides how a file is read).
const COMPRESSED: [&str; 5] = [".gz", ".zst", ".bz2", ".xz", ".Z"];

/// Expands `args` into files and orders them oldest first within each rotated set.
pub fn expand(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let mut listed = Vec::new();
            for entry in std::fs::read_dir(arg).with_context(|| format!("cannot list {}", arg.display()))? {
                let path = entry.with_context(|| format!("cannot list {}", arg.display()))?.path();
                let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if path.is_file() && !hidden {
                    listed.push(path);
                }
            }
            listed.sort();
            files.extend(listed);
        } else if !arg.exists() && is_pattern(arg) {
            let pattern = arg.to_string_lossy();
            let matched: Vec<PathBuf> = glob::glob(&pattern)
                .with_context(|| format!("{pattern} is not a valid pattern"))?
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .collect();
            if matched.is_empty() {
                anyhow::bail!("no file matches {pattern}: check the pattern");
            }
            files.extend(matched);
        } else {
            files.push(arg.clone());
        }
    }
    let mut keyed: Vec<((PathBuf, String), u8, i64, PathBuf)> = files
        .into_iter()
        .map(|f| {
            let (set, class, age) = rotation_key(&f);
            (set, class, age, f)
        })
        .collect();
    // each set where it was first named, its files oldest first
    let mut sets: Vec<(PathBuf, String)> = Vec::new();
    for (set, ..) in &keyed {
        if !sets.contains(set) {
            sets.push(set.clone());
        }
    }
    keyed.sort_by_key(|(set, class, age, _)| (sets.iter().position(|s| s == set), *class, *age));
    let mut ordered: Vec<PathBuf> = keyed.into_iter().map(|(.., f)| f).collect();
    ordered.dedup();
    Ok(ordered)
}

fn is_pattern(p: &Path) -> bool {
    p.to_string_lossy().contains(['*', '?', '['])
}

/// A file's rotated set (directory and base name) and where it stands in it (age class, age),
/// where sorting ascending puts the oldest first.
fn rotation_key(path: &Path) -> ((PathBuf, String), u8, i64) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut stem = name.as_str();
    for suffix in COMPRESSED {
        if let Some(s) = stem.strip_suffix(suffix) {
            stem = s;
            break;
        }
    }
    // `mail.log.3`: the higher, the older
    if let Some((base, n)) = stem.rsplit_once('.') {
        if !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()) {
            return ((dir, base.to_string()), 0, -n.parse::<i64>().unwrap_or(0));
        }
    }
    // `mail.log-20261122` (logrotate's dateext, also with -%H or -%s): the lower, the older
    if let Some((base, date)) = stem.rsplit_once('-') {
        if date.len() >= 8 && date.bytes().all(|b| b.is_ascii_digit()) {
            return (
                (dir, base.to_string()),
                0,
                date[..date.len().min(18)].parse().unwrap_or(0),
            );
        }
    }
    // the live file comes last in its set
    ((dir, stem.to_string()), 1, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn rotated_sets_are_read_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "mail.log",
            "mail.log.1",
            "mail.log.2.gz",
            "mail.log.10.gz",
            "mail.err",
            "mail.err.1",
            "maillog-20261121.gz",
            "maillog-20261122",
            "maillog",
            ".hidden",
        ] {
            std::fs::write(dir.path().join(n), "x\n").unwrap();
        }
        let got = expand(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(
            names(&got),
            [
                "mail.err.1",
                "mail.err",
                "mail.log.10.gz",
                "mail.log.2.gz",
                "mail.log.1",
                "mail.log",
                "maillog-20261121.gz",
                "maillog-20261122",
                "maillog"
            ]
        );
        // arguments in the shell's order, and a quoted glob
        let args: Vec<PathBuf> = ["mail.log", "mail.log.1", "mail.log.10.gz", "mail.log.2.gz"]
            .iter()
            .map(|n| dir.path().join(n))
            .collect();
        assert_eq!(
            names(&expand(&args).unwrap()),
            ["mail.log.10.gz", "mail.log.2.gz", "mail.log.1", "mail.log"]
        );
        let glob = dir.path().join("maillog*");
        assert_eq!(
            names(&expand(&[glob]).unwrap()),
            ["maillog-20261121.gz", "maillog-20261122", "maillog"]
        );
        assert!(expand(&[dir.path().join("nothing*")]).is_err());
        // sets stay in the order they were named
        let args: Vec<PathBuf> = ["maillog", "mail.log", "maillog-20261122"]
            .iter()
            .map(|n| dir.path().join(n))
            .collect();
        assert_eq!(
            names(&expand(&args).unwrap()),
            ["maillog-20261122", "maillog", "mail.log"]
        );
    }
}
