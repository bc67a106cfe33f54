//! OpenDMARC: the DMARC result of each message, by Postfix queue id.
//!
//! `QID: DOMAIN RESULT` (`example.com pass`, `… fail`, `… none`) is the DMARC result for the
//! RFC5322.From domain; `QID: SPF(mailfrom): DOMAIN RESULT` is the SPF check OpenDMARC made
//! itself (used when no SPF policy server reported). Other lines (`opendmarc_policy_query_dmarc(…)
//! returned status N`, `ignoring connection from …`, start-up) are understood and change nothing.

use super::fields::{is_queue_id, queue_id};
use super::text::StrFind;
use crate::event::{AuthMethod, EventKind};

/// The result words DMARC and SPF checks log.
fn is_result(word: &str) -> bool {
    matches!(
        word,
        "pass"
            | "fail"
            | "none"
            | "softfail"
            | "neutral"
            | "temperror"
            | "permerror"
            | "bestguesspass"
            | "reject"
            | "quarantine"
    )
}

/// Parses an OpenDMARC message (after `opendmarc[pid]: `).
pub fn parse(message: &str) -> EventKind<'_> {
    let Some((qid, text)) = queue_id(message) else {
        // `QID ignoring Authentication-Results at 6 from host` (no colon after the id)
        if let Some((qid, rest)) = message.split_once_byte(b' ') {
            if is_queue_id(qid) && rest.starts_with("ignoring ") {
                return EventKind::Info { qid: Some(qid) };
            }
        }
        return if PROCESS_NOTES.iter().any(|p| message.starts_with(p)) {
            EventKind::Info { qid: None }
        } else {
            EventKind::Unrecognised
        };
    };
    let (method, text) = match text.strip_prefix("SPF(") {
        Some(r) => (AuthMethod::Spf, r.split_once_str("): ").map_or("", |(_, t)| t)),
        None => (AuthMethod::Dmarc, text),
    };
    match text.split_once_byte(b' ') {
        Some((domain, result)) if is_result(result) && !domain.contains(['(', '=']) => EventKind::Auth {
            qid: Some(qid),
            method,
            result,
            domain: Some(domain),
            client_ip: None,
            sender: None,
        },
        _ if MESSAGE_NOTES.iter().any(|p| text.starts_with(p)) => EventKind::Info { qid: Some(qid) },
        _ => EventKind::UnrecognisedFor { qid },
    }
}

/// Notes about one message that set nothing (its policy query, headers it skipped).
const MESSAGE_NOTES: &[&str] = &[
    "opendmarc_policy_query_dmarc(",
    "opendmarc_policy_",
    "ignoring ",
    "unable to ",
    "can't ",
    "failed to ",
    "RFC5322 ",
    "multiple ",
    "no From",
    "SPF(",
    "ARC",
];

/// Notes of the filter process itself (start-up, reload, connections it ignores).
const PROCESS_NOTES: &[&str] = &[
    "OpenDMARC Filter v",
    "OpenDMARC ",
    "ignoring connection from",
    "terminating",
    "reloading",
    "configuration ",
    "Ignoring ",
    "mi_",
    "smfi_",
    "milter ",
    "can't ",
    "unable to ",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results() {
        assert!(matches!(
            parse("0859737C64D: uni-example.edu pass"),
            EventKind::Auth {
                method: AuthMethod::Dmarc,
                result: "pass",
                domain: Some("uni-example.edu"),
                qid: Some("0859737C64D"),
                ..
            }
        ));
        assert!(matches!(
            parse("4B2A81C: example.net fail"),
            EventKind::Auth { result: "fail", .. }
        ));
        assert!(matches!(
            parse("4B2A81C: SPF(mailfrom): example.net softfail"),
            EventKind::Auth {
                method: AuthMethod::Spf,
                result: "softfail",
                domain: Some("example.net"),
                ..
            }
        ));
        assert!(matches!(
            parse("F3F1A: opendmarc_policy_query_dmarc(example.org) returned status 2"),
            EventKind::Info { qid: Some("F3F1A") }
        ));
        assert!(matches!(
            parse("AED441541AFC ignoring Authentication-Results at 6 from mx.example.net"),
            EventKind::Info {
                qid: Some("AED441541AFC")
            }
        ));
        assert!(matches!(
            parse("F3F1A: something new"),
            EventKind::UnrecognisedFor { qid: "F3F1A" }
        ));
        assert!(matches!(parse("lorem ipsum"), EventKind::Unrecognised));
        assert!(matches!(
            parse("OpenDMARC Filter v1.4.2 starting (args: -f)"),
            EventKind::Info { qid: None }
        ));
    }
}
