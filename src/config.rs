//! The optional config file (TOML): settings that would otherwise be repeated on every call.
//!
//! ```toml
//! store = "/var/lib/mailtrace"
//! local_domains = ["example.com", "example.org"]
//! local_networks = ["10.0.0.0/8", "192.0.2.0/24"]
//! timezone = "Europe/Berlin"
//!
//! # other names and addresses of the hosts whose logs are read, by their log host name
//! [hosts]
//! mbox1 = ["mbox1.corp.example", "10.0.0.20"]
//!
//! [follow]
//! logs = ["/var/log/mail.log"]
//! metrics = "127.0.0.1:9425"
//!
//! [serve]
//! listen = "127.0.0.1:8025"
//!
//! [maintain]
//! hot_days = 10
//! archive_days = 90
//! ```
//!
//! The file is `--config`, else `$MAILTRACE_CONFIG` (empty: none), else the system's
//! [`SYSTEM_CONFIG`] when it exists (the Debian package installs it). Command-line flags add
//! to the lists and override the single values.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The config every user's commands read when no other is named.
pub const SYSTEM_CONFIG: &str = "/etc/mailtrace/config.toml";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The store: a directory or a `clickhouse://` address (after `--store` and
    /// `$MAILTRACE_STORE`).
    pub store: Option<PathBuf>,
    #[serde(default)]
    pub local_domains: Vec<String>,
    #[serde(default)]
    pub local_networks: Vec<String>,
    pub timezone: Option<String>,
    /// Log host name → its other names and addresses (for linking hops across servers).
    #[serde(default)]
    pub hosts: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub follow: FollowConfig,
    #[serde(default)]
    pub serve: ServeConfig,
    #[serde(default)]
    pub maintain: MaintainConfig,
}

/// What `mailtrace follow` reads when given no files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowConfig {
    #[serde(default)]
    pub logs: Vec<PathBuf>,
    /// journald output files (`journalctl -f -o json > FILE`).
    #[serde(default)]
    pub journals: Vec<PathBuf>,
    /// Seconds between reads.
    pub interval: Option<f64>,
    /// Where to serve the follower's metrics (`--metrics`).
    pub metrics: Option<String>,
}

/// `mailtrace serve` settings the command line does not give.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub listen: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// `mailtrace maintain` windows the command line does not give.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintainConfig {
    pub hot_days: Option<u32>,
    pub archive_days: Option<u32>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "config file {} is not valid: see docs/CLI.md for its keys",
                path.display()
            )
        })
    }

    /// The file to read: `explicit` (`--config`), else `$MAILTRACE_CONFIG` (set but empty:
    /// none), else [`SYSTEM_CONFIG`] when it exists.
    pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
        Self::locate_with(explicit, std::env::var_os("MAILTRACE_CONFIG"), Path::new(SYSTEM_CONFIG))
    }

    fn locate_with(explicit: Option<&Path>, env: Option<std::ffi::OsString>, system: &Path) -> Option<PathBuf> {
        if let Some(p) = explicit {
            return Some(p.to_path_buf());
        }
        match env {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(PathBuf::from(v)),
            None => system.is_file().then(|| system.to_path_buf()),
        }
    }

    /// Reads the file [`Config::locate`] names, or the defaults when there is none.
    pub fn find(explicit: Option<&Path>) -> Result<Config> {
        match Self::locate(explicit) {
            Some(p) => Config::load(&p),
            None => Ok(Config::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_then_the_environment_then_the_system_file() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("config.toml");
        let flag = Path::new("/x/flag.toml");
        assert_eq!(Config::locate_with(None, None, &system), None);
        std::fs::write(&system, "").unwrap();
        assert_eq!(Config::locate_with(None, None, &system), Some(system.clone()));
        assert_eq!(
            Config::locate_with(None, Some("/x/env.toml".into()), &system),
            Some(PathBuf::from("/x/env.toml"))
        );
        assert_eq!(Config::locate_with(None, Some("".into()), &system), None);
        assert_eq!(
            Config::locate_with(Some(flag), Some("/x/env.toml".into()), &system),
            Some(flag.to_path_buf())
        );
    }

    #[test]
    fn the_shipped_config_is_valid_and_names_every_key() {
        let text = include_str!("../pkg/config.toml");
        // as shipped: the system store, following the system's mail log
        let c: Config = toml::from_str(text).unwrap();
        assert_eq!(c.store.as_deref(), Some(Path::new("/var/lib/mailtrace")));
        assert_eq!(c.follow.logs, [PathBuf::from("/var/log/mail.log")]);
        assert!(c.timezone.is_none() && c.local_domains.is_empty() && c.hosts.is_empty());
        // every other key is there, commented out: uncommented, the file is valid and sets it
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|k| k.contains(" = ") || k.starts_with('['))
                    .unwrap_or(l)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let c: Config = toml::from_str(&uncommented).unwrap();
        assert_eq!(c.store.as_deref(), Some(Path::new("/var/lib/mailtrace")));
        assert_eq!(c.follow.logs, [PathBuf::from("/var/log/mail.log")]);
        assert!(c.timezone.is_some() && !c.local_domains.is_empty() && !c.local_networks.is_empty());
        assert!(!c.hosts.is_empty() && c.follow.interval.is_some() && !c.follow.journals.is_empty());
        assert!(c.follow.metrics.is_some());
        assert!(c.serve.listen.is_some() && c.serve.token_file.is_some());
        assert!(c.maintain.hot_days.is_some() && c.maintain.archive_days.is_some());
    }
}
