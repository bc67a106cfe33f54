//! A leg: what linking needs of one trace, kept small.
//!
//! Linking reads every leg of the logs at hand, so a leg holds numbers, not text: the ids it is
//! joined by are 64-bit hashes ([`key`]), so are its client's and relays' names and addresses
//! (see [`Peer`]), and the few names it prints (its host, a folder) are numbers into a table of
//! the distinct names ([`Names`]). Only
//! its first queue id is kept as text, for the hop's name. The legs, their recipients and
//! their ids sit in one array each ([`LegSet`]), not in an allocation per leg. A leg without a
//! queue id is not kept: it neither handed mail on nor took it in.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::hosts::Peer;
use crate::trace::{Status, Trace};

/// The hash an id is joined by (a queue id, a Message-ID, a trace id). 0 stands for none.
pub fn key(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes()).max(1)
}

/// The hash of an address as compared (case-insensitively).
pub(crate) fn address_key(a: &str) -> u64 {
    key(&a.to_ascii_lowercase())
}

/// A name in [`Names`]; [`Name::NONE`] for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Name(u32);

impl Name {
    pub const NONE: Name = Name(0);
}

/// The distinct names the legs hold, each once.
#[derive(Debug, Default)]
pub struct Names {
    text: Vec<Box<str>>,
    index: FxHashMap<Box<str>, u32>,
}

impl Names {
    /// The number of `s` (none for none).
    pub fn add(&mut self, s: Option<&str>) -> Name {
        let Some(s) = s else { return Name::NONE };
        if self.text.is_empty() {
            self.text.push("".into());
        }
        if let Some(&n) = self.index.get(s) {
            return Name(n);
        }
        let n = u32::try_from(self.text.len()).expect("fewer than 4 billion names");
        self.text.push(s.into());
        self.index.insert(s.into(), n);
        Name(n)
    }

    /// The text of `n` (none for [`Name::NONE`]).
    pub fn get(&self, n: Name) -> Option<&str> {
        (n != Name::NONE).then(|| &*self.text[n.0 as usize])
    }
}

/// One recipient of a leg.
#[derive(Debug, Clone, PartialEq)]
pub struct LegRecipient {
    /// [`key`] of the address, lowercased; of the original address (0: none).
    pub address: u64,
    pub orig_to: u64,
    pub status: Status,
    pub folder: Name,
    /// The relay (`mx1.example.com[10.0.0.5]:25`, `H=name [ip]` as logged), as compared.
    pub relay: Peer,
    /// [`key`] of the queue id the next server named in its reply (0: none).
    pub reply_queue_id: u64,
    /// When the recipient's status was logged, µs since the epoch (the leg's first time when
    /// not known).
    pub time: i64,
    /// What an end-to-end search asks of the recipient ([`crate::path::end_to_end`]).
    pub marks: u8,
}

/// What linking needs of one trace. Its queue ids, recipients and name are held by its
/// [`LegSet`], one array each for every leg.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// [`key`] of the trace id.
    pub trace: u64,
    /// [`key`] of the Message-ID (0: none).
    pub message_id: u64,
    /// µs since the epoch.
    pub first_time: i64,
    /// The host as the log names it.
    pub host: Name,
    /// The client, as compared.
    pub client: Peer,
    /// What an end-to-end search asks of the leg ([`crate::path::end_to_end`]).
    pub marks: u16,
    /// Where its first queue id's text, its queue ids' keys and its recipients start in the
    /// set's arrays, and how many there are.
    text: u32,
    text_len: u32,
    queue_ids: u32,
    queue_ids_len: u32,
    recipients: u32,
    recipients_len: u32,
}

/// The legs of the traces at hand, and the names they use.
#[derive(Debug, Default)]
pub struct LegSet {
    pub legs: Vec<Leg>,
    pub names: Names,
    recipients: Vec<LegRecipient>,
    queue_ids: Vec<u64>,
    text: String,
}

/// A position in one of a set's arrays.
fn at(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 4 billion legs")
}

impl LegSet {
    /// Keeps the leg of `t`, when it has a queue id.
    pub fn add(&mut self, t: &Trace) {
        self.add_marked(t, 0, &[]);
    }

    /// Keeps the leg of `t`, when it has a queue id, with the marks of an end-to-end search:
    /// the leg's, and its recipients' in their order (0 for those not given).
    pub fn add_marked(&mut self, t: &Trace, marks: u16, recipient_marks: &[u8]) {
        let Some(queue_id) = t.queue_ids.first() else {
            return;
        };
        let names = &mut self.names;
        let first_time = micros(t.first_time);
        let recipients = at(self.recipients.len());
        self.recipients.extend(t.recipients.iter().enumerate().map(|(i, r)| {
            let (relay_name, relay_ip) = r.relay.as_deref().map(relay_parts).unwrap_or_default();
            LegRecipient {
                address: address_key(&r.address),
                orig_to: r.orig_to.as_deref().map_or(0, address_key),
                status: r.status,
                folder: names.add(r.folder.as_deref()),
                relay: Peer::new(relay_name.as_deref(), relay_ip.as_deref()),
                reply_queue_id: r.response.as_deref().and_then(reply_queue_id).map_or(0, key),
                time: r.time.map_or(first_time, micros),
                marks: recipient_marks.get(i).copied().unwrap_or(0),
            }
        }));
        let queue_ids = at(self.queue_ids.len());
        self.queue_ids.extend(t.queue_ids.iter().map(|q| key(q)));
        let text = at(self.text.len());
        self.text.push_str(queue_id);
        self.legs.push(Leg {
            trace: key(&t.trace_id),
            message_id: t.message_id.as_deref().map_or(0, key),
            first_time,
            host: names.add(Some(&t.host)),
            client: Peer::new(t.client.name.as_deref(), t.client.ip.as_deref()),
            marks,
            text,
            text_len: at(queue_id.len()),
            queue_ids,
            queue_ids_len: at(t.queue_ids.len()),
            recipients,
            recipients_len: at(t.recipients.len()),
        });
    }

    /// The recipients of `leg`, in its trace's order.
    pub fn recipients(&self, leg: &Leg) -> &[LegRecipient] {
        &self.recipients[leg.recipients as usize..(leg.recipients + leg.recipients_len) as usize]
    }

    /// Where `leg`'s recipients start among every leg's recipients.
    pub fn first_recipient(&self, leg: &Leg) -> usize {
        leg.recipients as usize
    }

    /// Every leg's recipients, one after the other.
    pub fn recipient_count(&self) -> usize {
        self.recipients.len()
    }

    /// The [`key`]s of `leg`'s queue ids.
    pub fn queue_ids(&self, leg: &Leg) -> &[u64] {
        &self.queue_ids[leg.queue_ids as usize..(leg.queue_ids + leg.queue_ids_len) as usize]
    }

    /// The hop's name: `host:queue_id`.
    pub fn hop(&self, leg: &Leg) -> String {
        let qid = &self.text[leg.text as usize..(leg.text + leg.text_len) as usize];
        format!("{}:{qid}", self.names.get(leg.host).unwrap_or_default())
    }
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The queue ids the next servers named in their replies to `t`'s recipients.
pub fn handed_to(t: &Trace) -> impl Iterator<Item = &str> {
    t.recipients
        .iter()
        .filter_map(|r| r.response.as_deref().and_then(reply_queue_id))
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

    #[test]
    fn names_are_kept_once() {
        let mut n = Names::default();
        let a = n.add(Some("mx1"));
        let b = n.add(Some("mbox1"));
        assert_eq!(n.add(Some("mx1")), a);
        assert_ne!(a, b);
        assert_eq!(n.add(None), Name::NONE);
        assert_eq!(n.get(a), Some("mx1"));
        assert_eq!(n.get(Name::NONE), None);
    }
}
