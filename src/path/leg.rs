//! A leg: what linking needs of one trace.

use chrono::{DateTime, Utc};

use crate::trace::{Status, Trace};

/// One recipient of a leg.
#[derive(Debug, Clone, PartialEq)]
pub struct LegRecipient {
    pub address: String,
    pub orig_to: Option<String>,
    pub status: Status,
    pub folder: Option<String>,
    /// The relay's name and address, as logged (`mx1.example.com[10.0.0.5]:25`, `H=name [ip]`).
    pub relay_name: Option<String>,
    pub relay_ip: Option<String>,
    /// The queue id the next server named in its reply.
    pub reply_queue_id: Option<String>,
    /// When the recipient's status was logged.
    pub time: Option<DateTime<Utc>>,
}

/// What linking needs of one trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    pub trace_id: String,
    /// The host as the log names it.
    pub host: String,
    pub queue_ids: Vec<String>,
    pub message_id: Option<String>,
    pub client_name: Option<String>,
    pub client_ip: Option<String>,
    pub first_time: DateTime<Utc>,
    pub recipients: Vec<LegRecipient>,
}

impl Leg {
    pub fn of(t: &Trace) -> Leg {
        Leg {
            trace_id: t.trace_id.clone(),
            host: t.host.clone(),
            queue_ids: t.queue_ids.clone(),
            message_id: t.message_id.clone(),
            client_name: t.client.name.clone(),
            client_ip: t.client.ip.clone(),
            first_time: t.first_time,
            recipients: t
                .recipients
                .iter()
                .map(|r| {
                    let (relay_name, relay_ip) = r.relay.as_deref().map(relay_parts).unwrap_or_default();
                    LegRecipient {
                        address: r.address.clone(),
                        orig_to: r.orig_to.clone(),
                        status: r.status,
                        folder: r.folder.clone(),
                        relay_name,
                        relay_ip,
                        reply_queue_id: r.response.as_deref().and_then(reply_queue_id).map(str::to_string),
                        time: r.time,
                    }
                })
                .collect(),
        }
    }

    /// `host:queue_id`, the name of a hop (`host:trace_id` for a message without a queue id).
    pub fn hop(&self) -> String {
        format!("{}:{}", self.host, self.queue_ids.first().unwrap_or(&self.trace_id))
    }
}

/// A relay as Postfix (`name[ip]:port`, `name[private/socket]`) or Exim (`name [ip]`, `[ip]`)
/// logs it: its name and its IP address (none for a socket).
pub fn relay_parts(relay: &str) -> (Option<String>, Option<String>) {
    let relay = relay.trim();
    let Some((name, rest)) = relay.split_once('[') else {
        return (
            Some(relay.to_string()).filter(|n| !n.is_empty() && n != "none" && n != "local"),
            None,
        );
    };
    let inside = rest.split_once(']').map_or(rest, |(i, _)| i);
    let ip = inside.parse::<std::net::IpAddr>().ok().map(|a| a.to_string());
    let name = name.trim();
    ((!name.is_empty()).then(|| name.to_string()), ip)
}

/// The queue id a receiving MTA named in its reply: Postfix's `queued as ID`, Exim's `id=ID`
/// (the last one named: a content filter's reply quotes the MTA behind it).
pub fn reply_queue_id(response: &str) -> Option<&str> {
    let after = [
        ("queued as ", response.rfind("queued as ")),
        ("id=", response.rfind(" id=")),
    ]
    .into_iter()
    .filter_map(|(marker, at)| at.map(|a| a + marker.len() + usize::from(marker == "id=")))
    .max()?;
    let id: &str = response[after..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .next()?;
    (id.len() >= 5).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_name_the_next_queue_id() {
        assert_eq!(reply_queue_id("250 2.0.0 Ok: queued as 6D7E8F9011"), Some("6D7E8F9011"));
        assert_eq!(
            reply_queue_id("250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as B7D2E2C9F0"),
            Some("B7D2E2C9F0")
        );
        assert_eq!(reply_queue_id("250 OK id=1yBeCd-000abc-Zz"), Some("1yBeCd-000abc-Zz"));
        assert_eq!(
            reply_queue_id("250 2.0.0 Ok: queued as 4dHrZq5GkWz1Mnb)"),
            Some("4dHrZq5GkWz1Mnb")
        );
        assert_eq!(reply_queue_id("250 2.0.0 <a@b> 8v3nLe7jImYEBwAAq3pWbA Saved"), None);
        assert_eq!(reply_queue_id("delivered to mailbox"), None);
    }

    #[test]
    fn relays_as_both_mtas_log_them() {
        let p = |s| relay_parts(s);
        assert_eq!(
            p("mbox1.example.com[10.0.0.20]:25"),
            (Some("mbox1.example.com".into()), Some("10.0.0.20".into()))
        );
        assert_eq!(
            p("mx1.example.com[private/dovecot-lmtp]"),
            (Some("mx1.example.com".into()), None)
        );
        assert_eq!(
            p("mbox1.example.com [10.0.0.20]"),
            (Some("mbox1.example.com".into()), Some("10.0.0.20".into()))
        );
        assert_eq!(p("[2001:db8::5]"), (None, Some("2001:db8::5".into())));
        assert_eq!(p("none"), (None, None));
        assert_eq!(p("local"), (None, None));
    }
}
