//! Which log host a relay or a client is.
//!
//! A host is named as its log names it (`mx1`, or `mx1.example.com` when syslog writes the
//! full name). A relay or a client (`mbox1.example.com`, `10.0.0.20`) is that host when the
//! config maps the name or address to it (`[hosts] mbox1 = ["mbox1.example.com", "10.0.0.20"]`),
//! when the name is the log host's name, or when the name's first label is. Loopback never is.

use std::collections::{BTreeMap, HashMap};

use super::leg::key;

/// A relay or a client as it is compared with the hosts: the hashes ([`key`]) of its address,
/// its name and its name's first label, each as compared (0: none). Loopback and the names
/// that say nothing (`localhost`, `unknown`) are none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Peer {
    ip: u64,
    name: u64,
    label: u64,
}

impl Peer {
    pub fn new(name: Option<&str>, ip: Option<&str>) -> Peer {
        if ip.is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())) {
            return Peer::default();
        }
        let ip = ip.map_or(0, |ip| key(&normal(ip)));
        let Some(name) = name
            .map(normal)
            .filter(|n| !n.is_empty() && n != "localhost" && n != "unknown")
        else {
            return Peer { ip, name: 0, label: 0 };
        };
        let label = name.split('.').next().unwrap_or_default();
        Peer {
            ip,
            name: key(&name),
            label: key(label),
        }
    }
}

/// The hosts whose logs are read, and the other names and addresses of each.
#[derive(Debug, Clone, Default)]
pub struct Hosts {
    /// [`key`] of a lowercased log host name → the name, lowercased.
    known: HashMap<u64, String>,
    /// [`key`] of a name or address as compared → its log host name, lowercased.
    aliases: HashMap<u64, String>,
}

impl Hosts {
    /// `aliases`: log host name → its other names and addresses (the config's `[hosts]`).
    pub fn new<'a>(log_hosts: impl IntoIterator<Item = &'a str>, aliases: &BTreeMap<String, Vec<String>>) -> Hosts {
        let mut h = Hosts::default();
        for n in log_hosts {
            let n = n.to_ascii_lowercase();
            h.known.insert(key(&n), n);
        }
        for (host, names) in aliases {
            for n in names {
                h.aliases.insert(key(&normal(n)), host.to_ascii_lowercase());
            }
        }
        h
    }

    /// The log host (lowercased) a relay or client is, if any.
    pub fn resolve(&self, p: &Peer) -> Option<&str> {
        fn get(map: &HashMap<u64, String>, k: u64) -> Option<&String> {
            (k != 0).then(|| map.get(&k)).flatten()
        }
        get(&self.aliases, p.ip)
            .or_else(|| get(&self.aliases, p.name))
            .or_else(|| get(&self.known, p.name))
            .or_else(|| get(&self.known, p.label))
            .map(String::as_str)
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
        let at = |name, ip| h.resolve(&Peer::new(name, ip)).map(str::to_string);
        assert_eq!(at(Some("mx1.example.com"), Some("198.51.100.10")), Some("mx1".into()));
        assert_eq!(at(Some("unknown"), Some("10.0.0.20")), Some("mbox1".into()));
        assert_eq!(at(Some("Store.Corp.Example."), None), Some("mbox1".into()));
        assert_eq!(at(Some("relay.example.com"), None), Some("relay.example.com".into()));
        assert_eq!(at(Some("mx.fabrikam.example"), Some("203.0.113.25")), None);
        assert_eq!(at(Some("mx1"), Some("127.0.0.1")), None);
        assert_eq!(at(Some("localhost"), None), None);
    }
}
