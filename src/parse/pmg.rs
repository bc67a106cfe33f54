//! Proxmox Mail Gateway: its content filter `pmg-smtp-filter` and the quarantine releases of
//! `pmgdaemon`.
//!
//! The filter sits beside Postfix (after the queue on `127.0.0.1:10024` inbound and `:10023`
//! outbound, or before it as Postfix's `smtpd_proxy_filter`) and names each message it
//! scans with an id of its own (hex digits, `611D85EAAD6477B053`). Its per-message lines start
//! with that id; Postfix's reply from the filter repeats it (`250 2.5.0 OK (ID)`, `250 2.7.0
//! BLOCKED (ID)`, `554 5.7.1 Rejected for policy reasons (ID)`), which is how the assembler
//! joins them (`trace/assembler/pmg.rs`). Every line that starts with a filter id is
//! understood (it goes on the timeline); the filter's process lines are understood and change
//! nothing; anything else is counted unrecognised.

use super::text::StrFind;
use crate::event::EventKind;

/// Whether a syslog program name belongs to the gateway.
pub fn is_pmg(program: &str) -> bool {
    matches!(program, "pmg-smtp-filter" | "pmgdaemon")
}

/// One line of the gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum PmgLine<'a> {
    /// `ID: …`: a line about the message the filter knows as `id`.
    Filter { id: &'a str, fact: FilterFact<'a> },
    /// pmgdaemon `delivered quarantined mail 'C1R2T3' (/var/spool/pmg/spam/5F/QUARANTINE-ID)`
    /// (`released`), or `marked quarantined mail 'C1R2T3' as deleted (…)`.
    Quarantine {
        /// The quarantine id the filter logged (`moved mail … quarantine - ID`): the file name.
        id: &'a str,
        released: bool,
    },
}

/// What a filter line says about its message.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterFact<'a> {
    /// `new mail message-id=<…>`.
    NewMail { message_id: &'a str },
    /// `SA score=N/M time=… hits=…`.
    Score { score: f64, required: Option<f64> },
    /// `virus detected: NAME (clamav)`.
    Virus { name: &'a str },
    /// `accept mail to <r> (QID) (rule: R)`: re-injected into Postfix as QID.
    Accept { to: &'a str, qid: &'a str, rule: &'a str },
    /// `moved mail for <r> to spam|virus|attachment quarantine - ID (rule: R)`.
    Quarantine {
        to: &'a str,
        kind: &'a str,
        id: &'a str,
        rule: &'a str,
    },
    /// `block mail to <r> (rule: R)`.
    Block { to: &'a str, rule: &'a str },
    /// `processing time: …` and any other line of the message: on its timeline only.
    Note,
}

/// Whether `word` has the shape of the filter's message id: 12 to 32 upper-case hex digits.
pub fn is_filter_id(word: &str) -> bool {
    (12..=32).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// The filter id in Postfix's reply from the filter: `250 2.5.0 OK (ID)`, `250 2.7.0 BLOCKED
/// (ID)`, `554 5.7.1 Rejected for policy reasons (ID)`, the last parenthesised word.
pub fn filter_id_in_reply(reply: &str) -> Option<&str> {
    let r = reply.trim_end().strip_suffix(')')?;
    let id = &r[r.rfind('(')? + 1..];
    is_filter_id(id).then_some(id)
}

/// Parses the message text of a gateway line.
pub fn parse<'a>(program: &str, message: &'a str) -> EventKind<'a> {
    if program == "pmgdaemon" {
        return daemon(message);
    }
    if let Some((id, rest)) = message.split_once_str(": ") {
        if is_filter_id(id) {
            return EventKind::Pmg(PmgLine::Filter { id, fact: fact(rest) });
        }
    }
    if is_process_line(message) {
        EventKind::Info { qid: None }
    } else {
        EventKind::Unrecognised
    }
}

fn fact(rest: &str) -> FilterFact<'_> {
    if let Some(r) = rest.strip_prefix("new mail message-id=") {
        let id = r
            .strip_prefix('<')
            .and_then(|r| r.split_once_byte(b'>'))
            .map_or(r, |(id, _)| id);
        return FilterFact::NewMail { message_id: id };
    }
    if let Some(r) = rest.strip_prefix("SA score=") {
        let word = r.split(' ').next().unwrap_or("");
        let (score, required) = word.split_once_byte(b'/').unwrap_or((word, ""));
        if let Ok(score) = score.parse() {
            return FilterFact::Score {
                score,
                required: required.parse().ok(),
            };
        }
        return FilterFact::Note;
    }
    if let Some(r) = rest.strip_prefix("virus detected: ") {
        let name = r.rsplit_once_str(" (").map_or(r, |(n, _)| n);
        return FilterFact::Virus { name };
    }
    if let Some(r) = rest.strip_prefix("accept mail to <") {
        // `x@y> (QID) (rule: R)`
        if let Some((to, r)) = r.split_once_str("> (") {
            if let Some((qid, r)) = r.split_once_byte(b')') {
                return FilterFact::Accept {
                    to,
                    qid,
                    rule: rule_of(r),
                };
            }
        }
        return FilterFact::Note;
    }
    if let Some(r) = rest.strip_prefix("moved mail for <") {
        // `x@y> to spam quarantine - ID (rule: R)`
        if let Some((to, r)) = r.split_once_str("> to ") {
            if let Some((kind, r)) = r.split_once_str(" quarantine - ") {
                let id = r.split(' ').next().unwrap_or(r);
                return FilterFact::Quarantine {
                    to,
                    kind,
                    id,
                    rule: rule_of(r),
                };
            }
        }
        return FilterFact::Note;
    }
    if let Some(r) = rest.strip_prefix("block mail to <") {
        if let Some((to, r)) = r.split_once_byte(b'>') {
            return FilterFact::Block { to, rule: rule_of(r) };
        }
    }
    FilterFact::Note
}

/// `… (rule: NAME)` → NAME.
fn rule_of(text: &str) -> &str {
    text.rsplit_once_str("(rule: ")
        .map_or("", |(_, r)| r.strip_suffix(')').unwrap_or(r))
}

/// The filter's lines about itself: Net::Server's (`2020/04/30-15:44:39 CONNECT TCP Peer: …`,
/// time-stamped), start-up, configuration reloads, database maintenance, memory notes.
fn is_process_line(message: &str) -> bool {
    const KNOWN: &[&str] = &[
        "reloading configuration",
        "starting database maint",
        "end database maint",
        "Filter daemon",
        "fast exit",
        "memory usage",
        "WARNING: ",
        "ERROR: ",
        "Cleanup failures",
        "using pre-fork",
        "demo mode",
        "Process Backgrounded",
        "Binding to ",
        "Setting gid",
        "Setting uid",
        "Server closing",
        "Starting \"",
        "Beginning prefork",
        "Received a SIG",
        "Sending children",
    ];
    let b = message.as_bytes();
    // `2020/04/30-15:44:39 …`
    let stamped =
        b.len() > 20 && b[4] == b'/' && b[7] == b'/' && b[10] == b'-' && b[..4].iter().all(u8::is_ascii_digit);
    stamped || KNOWN.iter().any(|p| message.starts_with(p))
}

/// pmgdaemon: quarantine releases and deletions; its other lines (API, cluster sync) are about
/// no message.
fn daemon(message: &str) -> EventKind<'_> {
    for (prefix, released) in [
        ("delivered quarantined mail ", true),
        ("marked quarantined mail ", false),
    ] {
        if let Some(r) = message.strip_prefix(prefix) {
            // `'C1R2T3' (/var/spool/pmg/spam/5F/ID)`, `'C1R2T3' as deleted (/…/ID)`
            if let Some(path) = r
                .rsplit_once_str(" (")
                .and_then(|(_, p)| p.strip_suffix(')'))
                .filter(|p| !p.contains(' '))
            {
                let id = path.rsplit('/').next().unwrap_or(path);
                return EventKind::Pmg(PmgLine::Quarantine { id, released });
            }
        }
    }
    EventKind::Info { qid: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(line: &str) -> FilterFact<'_> {
        match parse("pmg-smtp-filter", line) {
            EventKind::Pmg(PmgLine::Filter { fact, .. }) => fact,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn filter_lines() {
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: new mail message-id=<a.b@c.example>#012"),
            FilterFact::NewMail {
                message_id: "a.b@c.example"
            }
        );
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: SA score=7/5 time=1.204 bayes=undefined autolearn=disabled hits=BAYES_99(3.5)"),
            FilterFact::Score {
                score: 7.0,
                required: Some(5.0)
            }
        );
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: accept mail to <r@example.com> (4C2D1E0F9A) (rule: default-accept)"),
            FilterFact::Accept {
                to: "r@example.com",
                qid: "4C2D1E0F9A",
                rule: "default-accept"
            }
        );
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: moved mail for <r@example.com> to spam quarantine - 5E2A0B1C2D3E4F5061 (rule: Quarantine Spam (Level 5))"),
            FilterFact::Quarantine {
                to: "r@example.com",
                kind: "spam",
                id: "5E2A0B1C2D3E4F5061",
                rule: "Quarantine Spam (Level 5)"
            }
        );
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: block mail to <r@example.com> (rule: Blacklist)"),
            FilterFact::Block {
                to: "r@example.com",
                rule: "Blacklist"
            }
        );
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: virus detected: Win.Test.EICAR_HDB-1 (clamav)"),
            FilterFact::Virus {
                name: "Win.Test.EICAR_HDB-1"
            }
        );
        assert_eq!(
            filter("5E1F0A2B3C4D5E6F70: processing time: 1.61 seconds (0.95, 0.018, 0)"),
            FilterFact::Note
        );
    }

    #[test]
    fn process_lines_and_daemon() {
        for l in [
            "2026/11/23-10:00:00 CONNECT TCP Peer: \"[127.0.0.1]:35450\" Local: \"[127.0.0.1]:10024\"",
            "reloading configuration Proxmox_ruledb",
            "starting database maintainance",
            "end database maintainance (587 ms)",
        ] {
            assert!(
                matches!(parse("pmg-smtp-filter", l), EventKind::Info { qid: None }),
                "{l}"
            );
        }
        assert!(matches!(
            parse("pmg-smtp-filter", "something else"),
            EventKind::Unrecognised
        ));
        assert_eq!(
            parse(
                "pmgdaemon",
                "delivered quarantined mail 'C1R5T20' (/var/spool/pmg/spam/61/5E2A0B1C2D3E4F5061)"
            ),
            EventKind::Pmg(PmgLine::Quarantine {
                id: "5E2A0B1C2D3E4F5061",
                released: true
            })
        );
        assert_eq!(
            filter_id_in_reply("250 2.7.0 BLOCKED (5E1F0A2B3C4D5E6F70)"),
            Some("5E1F0A2B3C4D5E6F70")
        );
        assert_eq!(filter_id_in_reply("250 2.0.0 Ok: queued as 4C2D1E0F9A"), None);
    }
}
