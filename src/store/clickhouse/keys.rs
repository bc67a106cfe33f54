//! Look-up keys: the inverted index of a ClickHouse store.
//!
//! `traces_local` is ordered by trace id, so a filter on an address or an id alone reads the
//! filter's columns of every message. `keys_local` holds, for every message, one row per
//! thing people look messages up by, ordered by that key: a search first takes the trace ids
//! under one key (a range of the key's index), then checks the whole filter on those messages
//! only (`trace_id IN (…)`, a range of the traces' index). Keys are a superset: a key row
//! left by an older state of a message only names a message the filter then checks again.
//!
//! A key is a kind, `:` and a value, the value written exactly as the filter compares it:
//!
//! | kind | value |
//! |---|---|
//! | `s` | the sender, lowercased (`s:` for the null sender) |
//! | `sd` | the sender's domain and each of its parent domains (`mx.example.com`, `example.com`, `com`) |
//! | `r` | each recipient, and each original recipient, lowercased |
//! | `rd` | their domains and parent domains |
//! | `q` | each queue id |
//! | `m` | the Message-ID |
//! | `n` | each queue id a recipient was handed to (named in the next server's reply) |

use crate::query::{AddressPattern, Criteria};

/// The keys of one message, from the values its `traces_local` row holds.
pub struct Of<'a> {
    /// The sender, lowercased, when the message has one (the null sender is `Some("")`).
    pub sender: Option<&'a str>,
    /// Recipients and original recipients, lowercased.
    pub recipients: Vec<&'a str>,
    pub queue_ids: &'a [String],
    pub message_id: Option<&'a str>,
    /// The queue ids named in the replies to its recipients.
    pub handed_to: Vec<&'a str>,
}

impl Of<'_> {
    /// Every key, deduplicated.
    pub fn keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = self.sender {
            out.push(format!("s:{s}"));
            out.extend(domains(super::encode::domain(s)).map(|d| format!("sd:{d}")));
        }
        for r in &self.recipients {
            out.push(format!("r:{r}"));
            out.extend(domains(super::encode::domain(r)).map(|d| format!("rd:{d}")));
        }
        out.extend(self.queue_ids.iter().map(|q| format!("q:{q}")));
        if let Some(m) = self.message_id {
            out.push(format!("m:{m}"));
        }
        out.extend(self.handed_to.iter().map(|q| format!("n:{q}")));
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A domain and every domain it ends in at a dot: what `@DOMAIN` matches (the domain itself
/// or one ending in `.DOMAIN`).
fn domains(d: &str) -> impl Iterator<Item = &str> {
    std::iter::once(d).chain(d.match_indices('.').map(move |(i, _)| &d[i + 1..]))
}

/// The keys one of `c`'s checks needs every matching message to have one of, choosing the
/// check likely to name the fewest messages; none when no check has keys (wildcards, times,
/// statuses …). A list of addresses has a key per pattern, or none if one pattern has none.
pub fn for_criteria(c: &Criteria) -> Vec<String> {
    if let Some(id) = &c.message_id {
        return vec![format!("m:{}", id.trim().trim_start_matches('<').trim_end_matches('>'))];
    }
    if let Some(q) = &c.queue_id {
        return vec![format!("q:{q}")];
    }
    // how broad a key is (exact, domain, null sender), and the key
    let address = |kind: &str, p: &AddressPattern| match p {
        AddressPattern::Exact(e) => Some((0, format!("{kind}:{e}"))),
        AddressPattern::Domain(d) => Some((1, format!("{kind}d:{d}"))),
        AddressPattern::NullSender if kind == "s" => Some((2, "s:".to_string())),
        _ => None,
    };
    // a list: its broadest pattern's rank and how many keys, then the keys
    let list = |kind: &str, ps: &[AddressPattern]| -> Option<((u8, usize), Vec<String>)> {
        let keyed: Vec<(u8, String)> = ps.iter().map(|p| address(kind, p)).collect::<Option<_>>()?;
        let rank = keyed.iter().map(|k| k.0).max()?;
        Some(((rank, keyed.len()), keyed.into_iter().map(|k| k.1).collect()))
    };
    let to = list("r", &c.to);
    let from = list("s", &c.from);
    // the narrower of the two; the recipients on a tie (senders repeat more)
    match (to, from) {
        (Some(t), Some(f)) if f.0 < t.0 => f.1,
        (Some(t), _) => t.1,
        (None, f) => f.map(|(_, k)| k).unwrap_or_default(),
    }
}

/// The keys under which linking across servers finds messages (see
/// [`crate::store::backend::LinkKeys`]), besides trace ids.
pub fn for_links(k: &crate::store::backend::LinkKeys) -> Vec<String> {
    let q = k.queue_ids.iter().map(|q| format!("q:{q}"));
    let m = k.message_ids.iter().map(|m| format!("m:{m}"));
    let n = k.handed_to.iter().map(|q| format!("n:{q}"));
    q.chain(m).chain(n).collect()
}

/// The keys under which `show ID` finds a message besides its trace id.
pub fn for_id(id: &str) -> [String; 2] {
    [format!("q:{id}"), format!("m:{id}")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_found_under_its_addresses_domains_and_ids() {
        let q = vec!["ABC123".to_string()];
        let keys = Of {
            sender: Some("a@mx.example.com"),
            recipients: vec!["b@example.org", "b@example.org", ""],
            queue_ids: &q,
            message_id: Some("x@y"),
            handed_to: vec!["DEF456"],
        }
        .keys();
        assert_eq!(
            keys,
            [
                "m:x@y",
                "n:DEF456",
                "q:ABC123",
                "r:",
                "r:b@example.org",
                "rd:",
                "rd:example.org",
                "rd:org",
                "s:a@mx.example.com",
                "sd:com",
                "sd:example.com",
                "sd:mx.example.com",
            ]
        );
        assert_eq!(
            domains("example.com.").collect::<Vec<_>>(),
            ["example.com.", "com.", ""]
        );
    }

    #[test]
    fn criteria_use_the_narrowest_key() {
        let list = |text: &str| text.split(',').map(AddressPattern::parse).collect::<Vec<_>>();
        let mut c = Criteria {
            to: list("@example.org"),
            from: list("a@example.com"),
            ..Criteria::default()
        };
        assert_eq!(for_criteria(&c), ["s:a@example.com"]);
        c.from = list("*@example.com");
        assert_eq!(for_criteria(&c), ["rd:example.org"]);
        // a list: a key per pattern, or none when a pattern has none
        c.from = list("a@example.com,<>");
        assert_eq!(for_criteria(&c), ["rd:example.org"]);
        c.to = list("b@example.org,c@example.org");
        assert_eq!(for_criteria(&c), ["r:b@example.org", "r:c@example.org"]);
        c.from = list("a@example.com,d@example.com");
        assert_eq!(
            for_criteria(&c),
            ["r:b@example.org", "r:c@example.org"],
            "a tie: the recipients"
        );
        c.to = list("b@example.org,*@example.org");
        assert_eq!(for_criteria(&c), ["s:a@example.com", "s:d@example.com"]);
        c.from = list("a@example.com,*@example.com");
        assert!(for_criteria(&c).is_empty());
        c.queue_id = Some("ABC".into());
        assert_eq!(for_criteria(&c), ["q:ABC"]);
        assert!(for_criteria(&Criteria::default()).is_empty());
    }
}
