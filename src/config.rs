//! The optional config file (TOML): settings that would otherwise be repeated on every call.
//!
//! ```toml
//! local_domains = ["example.com", "example.org"]
//! local_networks = ["10.0.0.0/8", "192.0.2.0/24"]
//! timezone = "Europe/Berlin"
//!
//! # other names and addresses of the hosts whose logs are read, by their log host name
//! [hosts]
//! mbox1 = ["mbox1.corp.example", "10.0.0.20"]
//! ```
//!
//! Command-line flags add to the lists and override `timezone`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub local_domains: Vec<String>,
    #[serde(default)]
    pub local_networks: Vec<String>,
    pub timezone: Option<String>,
    /// Log host name → its other names and addresses (for linking hops across servers).
    #[serde(default)]
    pub hosts: std::collections::BTreeMap<String, Vec<String>>,
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
}
