//! Direction of a message: inbound, outbound or internal.
//!
//! With `--local-domains` / `--local-networks` (or the same keys in the config file):
//! - the message *originates locally* when the envelope sender's domain is local, the client
//!   authenticated with SASL, the client address is in a local network (or loopback), or it
//!   was submitted on this host (pickup, no SMTP client);
//! - a recipient *is local* when its domain is local.
//!
//! Without local domains, recipients are judged by where they went: delivered by
//! `local`, `virtual`, `lmtp` (also to a remote mailbox store), `pipe` or to a unix socket
//! (`private/…`) is local; handed to a
//! remote SMTP relay is remote; anything else (rejected, deferred before a relay was chosen)
//! counts as local for a message that came from outside, remote for one that originated here.
//!
//! Then: not local origin → `inbound`; local origin and every recipient local → `internal`;
//! otherwise `outbound`.

use ipnet::IpNet;
use std::net::IpAddr;

use super::model::{Direction, Trace};

#[derive(Debug, Clone, Default)]
pub struct DirectionRules {
    pub local_domains: Vec<String>,
    pub local_networks: Vec<IpNet>,
}

impl DirectionRules {
    /// Whether `address`'s domain (or a parent domain) is one of the local domains.
    pub fn is_local_address(&self, address: &str) -> Option<bool> {
        if self.local_domains.is_empty() {
            return None;
        }
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        if domain.is_empty() {
            // bare local part (`root`): this host's own user
            return Some(true);
        }
        // bytes, not str slices: a domain in UTF-8 (SMTPUTF8) may not split where `d` starts
        let domain = domain.as_bytes();
        Some(self.local_domains.iter().map(|d| d.as_bytes()).any(|d| {
            domain.eq_ignore_ascii_case(d)
                || (domain.len() > d.len()
                    && domain[domain.len() - d.len()..].eq_ignore_ascii_case(d)
                    && domain[domain.len() - d.len() - 1] == b'.')
        }))
    }

    pub fn is_local_ip(&self, ip: &str) -> bool {
        match ip.parse::<IpAddr>() {
            Ok(addr) => addr.is_loopback() || self.local_networks.iter().any(|n| n.contains(&addr)),
            Err(_) => false,
        }
    }

    pub fn direction(&self, t: &Trace) -> Direction {
        let local_origin = t.client.sasl_user.is_some() || t.client.ip.as_deref().is_none_or(|ip| self.is_local_ip(ip));
        if !local_origin {
            return Direction::Inbound;
        }
        let all_local = t.recipients.iter().all(|r| match self.is_local_address(&r.address) {
            Some(local) => local,
            None => r.local_delivery || relay_is_local(r.relay.as_deref()).unwrap_or(false),
        });
        if all_local && !t.recipients.is_empty() {
            Direction::Internal
        } else {
            Direction::Outbound
        }
    }
}

/// Local if delivered on this host, remote if handed to an SMTP relay, `None` if unknown.
fn relay_is_local(relay: Option<&str>) -> Option<bool> {
    let relay = relay?;
    if relay == "none" {
        return None;
    }
    if matches!(
        relay,
        "local" | "virtual" | "dovecot" | "maildrop" | "cyrus" | "procmail"
    ) || relay.contains("[private/")
        || relay.contains("[/")
    {
        return Some(true);
    }
    let addr = relay.split('[').nth(1).and_then(|r| r.split(']').next());
    match addr {
        Some(a) => Some(a.starts_with("127.") || a == "::1"),
        None => Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_in_utf8_is_compared_by_bytes() {
        // found by fuzz/targets/lines.rs: slicing "éé.org" at "abc.org"'s length split a 'é'
        let rules = DirectionRules {
            local_domains: vec!["abc.org".into(), "example.com".into()],
            local_networks: Vec::new(),
        };
        assert_eq!(rules.is_local_address("u@éé.org"), Some(false));
        assert_eq!(rules.is_local_address("u@mx.example.com"), Some(true));
        assert_eq!(rules.is_local_address("u@ü.example.com"), Some(true));
        assert_eq!(rules.is_local_address("u@EXAMPLE.com"), Some(true));
        assert_eq!(rules.is_local_address("u@xexample.com"), Some(false));
    }
}
