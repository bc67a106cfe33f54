//! Criteria as ClickHouse SQL over the columns of `traces_local`.
//!
//! [`Filter::of`] writes two expressions: `trace`, the checks that do not depend on a
//! recipient, and `rows`, how many of a message's rows match (the recipient checks, as a
//! lambda over the recipients' parallel arrays; one row for a message without recipients).
//! Both say exactly what [`Criteria::rows`] says of the stored trace, so SQL counts and
//! limits the rows and the trace read back gives the same rows as a scan of the logs. Every
//! value goes through [`string`]; numbers are formatted by Rust.

use crate::query::{words, AddressPattern, Criteria};
use crate::store::clickhouse::encode::folder;
use crate::store::clickhouse::sql::string;
use crate::trace::Status;

/// The SQL of a set of criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// A boolean expression over one message's row (`deleted = 0` included).
    pub trace: String,
    /// The number of the message's rows that match.
    pub rows: String,
    /// Look-up keys every matching message has one of (see [`super::keys`]); none when no
    /// key applies.
    pub keys: Vec<String>,
}

impl Filter {
    pub fn of(c: &Criteria) -> Filter {
        let mut all = vec!["deleted = 0".to_string()];
        if !c.from.is_empty() {
            all.push(format!(
                "has_from = 1 AND {}",
                addresses("sender", "sender_domain", &c.from)
            ));
        }
        for s in &c.subject {
            let phrase = format!(" {}", words(s).join(" "));
            all.push(format!("position(subject_words, {}) > 0", string(&phrase)));
        }
        if let Some(id) = &c.message_id {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>');
            all.push(format!("has_message_id = 1 AND message_id = {}", string(id)));
        }
        if let Some(q) = &c.queue_id {
            all.push(format!("has(queue_ids, {})", string(q)));
        }
        if let Some(d) = c.direction {
            all.push(format!("direction = {}", string(d.as_str())));
        }
        if let Some(ip) = &c.client_ip {
            all.push(network(ip.net()));
        }
        if let Some(h) = &c.host {
            all.push(format!("host = {}", string(&h.to_ascii_lowercase())));
        }
        if c.virus {
            all.push("virus = 1".into());
        }
        if !c.auth_fail.is_empty() {
            let any: Vec<String> = c
                .auth_fail
                .iter()
                .map(|m| {
                    let name = crate::store::schema::fail_term(*m).trim_start_matches("fail:");
                    format!("has(auth_failed, {})", string(name))
                })
                .collect();
            all.push(format!("({})", any.join(" OR ")));
        }
        // a message matches a time window when any of its activity falls inside it
        if let Some(s) = c.since {
            all.push(format!("last_time >= {}", s.timestamp_micros()));
        }
        if let Some(u) = c.until {
            // a message belongs to the day it arrived: the partitions after `until` hold none
            all.push(format!(
                "day <= toDate({}) AND first_time <= {}",
                string(&u.date_naive().format("%Y-%m-%d").to_string()),
                u.timestamp_micros()
            ));
        }
        let rows = rows(c);
        all.push(format!("({rows}) > 0"));
        Filter {
            trace: all.join(" AND "),
            rows,
            keys: super::keys::for_criteria(c),
        }
    }
}

/// How many rows of a message match the recipient checks.
fn rows(c: &Criteria) -> String {
    // a row with a recipient: r address, rd its domain, ho/o/od the original address, s the
    // status, f the folder
    let mut each: Vec<String> = Vec::new();
    // the row of a message with no recipient
    let mut none: Vec<String> = Vec::new();
    if !c.to.is_empty() {
        each.push(format!(
            "({} OR (ho = 1 AND {}))",
            addresses("r", "rd", &c.to),
            addresses("o", "od", &c.to)
        ));
        none.push("0".into());
    }
    if !c.statuses.is_empty() {
        let words: Vec<String> = c.statuses.iter().map(|s| string(s.as_str())).collect();
        each.push(format!("s IN ({})", words.join(", ")));
        none.push(
            if c.statuses.contains(&Status::InProgress) {
                "1"
            } else {
                "0"
            }
            .into(),
        );
    }
    if c.spam {
        each.push(format!("(spam = 1 OR s = {})", string(Status::Spam.as_str())));
        none.push("spam = 1".into());
    }
    if let Some(f) = &c.folder {
        each.push(format!("f = {}", string(&folder(Some(f)))));
        none.push("0".into());
    }
    let each = if each.is_empty() {
        "1".to_string()
    } else {
        each.join(" AND ")
    };
    let none = if none.is_empty() {
        "1".to_string()
    } else {
        none.join(" AND ")
    };
    format!(
        "if(length(rcpt) = 0, toUInt32({none}), \
         arrayCount((r, rd, ho, o, od, s, f) -> {each}, rcpt, rcpt_domain, has_orig, orig, orig_domain, status, folder))"
    )
}

/// Any of the address patterns `ps` (see [`address`]).
fn addresses(column: &str, domain: &str, ps: &[AddressPattern]) -> String {
    match ps {
        [p] => address(column, domain, p),
        _ => {
            let any: Vec<String> = ps.iter().map(|p| address(column, domain, p)).collect();
            format!("({})", any.join(" OR "))
        }
    }
}

/// An address pattern over an address column and its domain column (both lowercased).
fn address(column: &str, domain: &str, p: &AddressPattern) -> String {
    match p {
        AddressPattern::NullSender => format!("{column} = ''"),
        AddressPattern::Exact(e) => format!("{column} = {}", string(e)),
        AddressPattern::Domain(d) => format!(
            "({domain} = {} OR endsWith({domain}, {}))",
            string(d),
            string(&format!(".{d}"))
        ),
        AddressPattern::Wildcard(w) => format!("match({column}, {})", string(&wildcard_regex(w))),
    }
}

/// A `*` pattern as an RE2 regular expression over the whole text: `*` is any run of
/// characters (newlines too), everything else stands for itself.
pub fn wildcard_regex(pattern: &str) -> String {
    let mut re = String::from("^(?s)");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            c if c.is_ascii_alphanumeric() => re.push(c),
            c if c.is_ascii() => re.push_str(&format!("\\x{{{:02X}}}", c as u32)),
            c => re.push(c),
        }
    }
    re.push('$');
    re
}

/// A client network: the address kind and its range as two 64-bit halves.
fn network(net: ipnet::IpNet) -> String {
    match net {
        ipnet::IpNet::V4(n) => format!(
            "ip_kind = 4 AND ip_lo >= {} AND ip_lo <= {}",
            u32::from(n.network()),
            u32::from(n.broadcast())
        ),
        ipnet::IpNet::V6(n) => {
            let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
            let half = |x: u128| ((x >> 64) as u64, x as u64);
            let ((a, b), (c, d)) = (half(lo), half(hi));
            format!(
                "ip_kind = 6 AND (ip_hi > {a} OR (ip_hi = {a} AND ip_lo >= {b})) \
                 AND (ip_hi < {c} OR (ip_hi = {c} AND ip_lo <= {d}))"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_escape_everything_but_the_star() {
        assert_eq!(wildcard_regex("*invoice*@*.ru"), "^(?s).*invoice.*\\x{40}.*\\x{2E}ru$");
        assert_eq!(wildcard_regex("a(b) \\"), "^(?s)a\\x{28}b\\x{29}\\x{20}\\x{5C}$");
        assert_eq!(wildcard_regex("jörg*"), "^(?s)jörg.*$");
    }

    #[test]
    fn an_address_list_is_any_of_its_patterns() {
        let c = Criteria {
            from: vec![AddressPattern::parse("a'b@x.example"), AddressPattern::parse("<>")],
            to: vec![AddressPattern::parse("@y.org"), AddressPattern::parse("*@z")],
            ..Criteria::default()
        };
        let f = Filter::of(&c);
        assert!(
            f.trace
                .starts_with("deleted = 0 AND has_from = 1 AND (sender = 'a\\'b@x.example' OR sender = '') AND ("),
            "{}",
            f.trace
        );
        assert!(
            f.rows.contains(
                "((rd = 'y.org' OR endsWith(rd, '.y.org')) OR match(r, '^(?s).*\\\\x{40}z$')) OR (ho = 1 AND \
                 ((od = 'y.org' OR endsWith(od, '.y.org')) OR match(o, '^(?s).*\\\\x{40}z$')))"
            ),
            "{}",
            f.rows
        );
    }

    #[test]
    fn empty_criteria_count_every_row() {
        let f = Filter::of(&Criteria::default());
        assert!(f.trace.starts_with("deleted = 0 AND ("), "{}", f.trace);
        assert!(f.rows.contains("toUInt32(1)"));
    }
}
