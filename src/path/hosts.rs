//! Which log host a relay or a client is.
//!
//! A host is named as its log names it (`mx1`, or `mx1.example.com` when syslog writes the
//! full name). A relay or a client (`mbox1.example.com`, `10.0.0.20`) is that host when the
//! config maps the name or address to it (`[hosts] mbox1 = ["mbox1.example.com", "10.0.0.20"]`),
//! when the name is the log host's name, or when the name's first label is. Loopback never is.

use std::collections::{HashMap, HashSet};

/// The hosts whose logs are read, and the other names and addresses of each.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    /// Lowercased log host names.
    known: HashSet<String>,
    /// Lowercased name or address → log host name (as logged).
    aliases: HashMap<String, String>,
}

impl Hosts {
    /// `aliases`: log host name → its other names and addresses (the config's `[hosts]`).
    pub fn new<'a>(
        log_hosts: impl IntoIterator<Item = &'a str>,
        aliases: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Hosts {
        let mut h = Hosts::default();
        for n in log_hosts {
            h.known.insert(n.to_ascii_lowercase());
        }
        for (host, names) in aliases {
            for n in names {
                h.aliases.insert(normal(n), host.clone());
            }
        }
        h
    }

    /// The log host (lowercased) a relay or client with this name and address is, if any.
    pub fn resolve(&self, name: Option<&str>, ip: Option<&str>) -> Option<String> {
        if let Some(ip) = ip {
            if ip.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback()) {
                return None;
            }
            if let Some(h) = self.aliases.get(&normal(ip)) {
                return Some(h.to_ascii_lowercase());
            }
        }
        let name = normal(name?);
        if name.is_empty() || name == "localhost" || name == "unknown" {
            return None;
        }
        if let Some(h) = self.aliases.get(&name) {
            return Some(h.to_ascii_lowercase());
        }
        if self.known.contains(&name) {
            return Some(name);
        }
        let first = name.split('.').next().unwrap_or_default();
        self.known.contains(first).then(|| first.to_string())
    }
}

/// A name or address as compared: lowercased, without a trailing dot; an IP address in its
/// canonical form.
fn normal(s: &str) -> String {
    let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    s.parse::<std::net::IpAddr>().map_or(s, |a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_first_labels_and_aliases() {
        let mut aliases = std::collections::BTreeMap::new();
        aliases.insert(
            "mbox1".to_string(),
            vec!["10.0.0.20".to_string(), "store.corp.example".to_string()],
        );
        let h = Hosts::new(["mx1", "mbox1", "relay.example.com"], &aliases);
        assert_eq!(
            h.resolve(Some("mx1.example.com"), Some("198.51.100.10")),
            Some("mx1".into())
        );
        assert_eq!(h.resolve(Some("unknown"), Some("10.0.0.20")), Some("mbox1".into()));
        assert_eq!(h.resolve(Some("Store.Corp.Example."), None), Some("mbox1".into()));
        assert_eq!(
            h.resolve(Some("relay.example.com"), None),
            Some("relay.example.com".into())
        );
        assert_eq!(h.resolve(Some("mx.fabrikam.example"), Some("203.0.113.25")), None);
        assert_eq!(h.resolve(Some("mx1"), Some("127.0.0.1")), None);
        assert_eq!(h.resolve(Some("localhost"), None), None);
    }
}
