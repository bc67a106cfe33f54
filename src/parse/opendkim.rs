//! OpenDKIM: DKIM verification results and signing, by Postfix queue id.
//!
//! `QID: DKIM verification successful`, `QID: s=SEL d=DOMAIN SSL` (a good signature, with its
//! domain), `QID: s=SEL d=DOMAIN SSL error:…bad signature`, `QID: bad signature data`,
//! `QID: no signature data`, `QID: key retrieval failed (s=SEL, d=DOMAIN)…` and, for mail it
//! signs, `QID: DKIM-Signature field added (s=SEL, d=DOMAIN)`. Its other notes about a message (`not
//! authenticated`, `… not internal`, `no signing table match …`) change nothing but are lines
//! of that message's timeline; start-up lines are understood; anything else is unrecognised
//! (still on the timeline when it names a queue id).

use super::fields::queue_id;
use super::text::StrFind;
use crate::event::{AuthMethod, EventKind};

/// Parses an OpenDKIM message (after `opendkim[pid]: `).
pub fn parse(message: &str) -> EventKind<'_> {
    let Some((qid, text)) = queue_id(message) else {
        return if PROCESS_NOTES.iter().any(|p| message.starts_with(p)) {
            EventKind::Info { qid: None }
        } else {
            EventKind::Unrecognised
        };
    };
    let auth = |result, domain| EventKind::Auth {
        qid: Some(qid),
        method: AuthMethod::Dkim,
        result,
        domain,
        client_ip: None,
        sender: None,
    };
    if text == "DKIM verification successful" {
        return auth("pass", None);
    }
    if let Some(r) = text.strip_prefix("DKIM-Signature field added ") {
        return EventKind::Note {
            qid,
            source: "opendkim",
            action: "signed",
            detail: r.trim_start_matches('(').trim_end_matches(')'),
        };
    }
    if text.starts_with("s=") {
        // `s=SEL d=DOMAIN SSL` (good) / `s=SEL d=DOMAIN SSL error:…` (bad)
        let domain = text
            .split(' ')
            .find_map(|w| w.strip_prefix("d="))
            .map(|d| d.trim_end_matches(','));
        let bad = text.contains(" error") || text.contains("bad signature");
        return auth(if bad { "fail" } else { "pass" }, domain);
    }
    if text == "bad signature data" || text.starts_with("bad signature") {
        return auth("fail", None);
    }
    if text == "no signature data" {
        return auth("none", None);
    }
    if let Some(r) = text.strip_prefix("key retrieval failed") {
        let domain = r
            .split_once_str("d=")
            .map(|(_, d)| d.split([')', ',', ' ']).next().unwrap_or(d));
        return auth("temperror", domain);
    }
    if MESSAGE_NOTES.iter().any(|p| text.starts_with(p)) || text.ends_with(" not internal") {
        return EventKind::Info { qid: Some(qid) };
    }
    EventKind::UnrecognisedFor { qid }
}

/// Notes about one message that set nothing: the client is not one it signs for (`h [ip] not
/// internal`, `not authenticated`), nothing to sign, verification details, header parsing.
const MESSAGE_NOTES: &[&str] = &[
    "not authenticated",
    "no signing table match",
    "message has signatures from",
    "failed to parse",
    "can't parse",
    "can't determine",
    "no MTA name match",
    "external host ",
    "signing table references",
    "error loading key",
    "can't load key",
    "no sender header found",
    "ADSP ",
    "SSL ",
    "dkim_",
    "DKIM ",
    "unable to ",
    "header field ",
    "signature ",
    "resigning",
    "discarding",
    "rejecting",
    "missing header",
    "oversized signature",
];

/// Notes of the filter process itself (start-up, reload, configuration).
const PROCESS_NOTES: &[&str] = &[
    "OpenDKIM Filter v",
    "Sendmail DKIM Filter",
    "Ignoring ",
    "terminating",
    "reloading",
    "configuration ",
    "exiting",
    "dkimf_",
    "[",
    "can't ",
    "mi_",
    "smfi_",
    "milter ",
    "key ",
    "dkim_",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn result(line: &str) -> (&str, Option<&str>) {
        match parse(line) {
            EventKind::Auth {
                method: AuthMethod::Dkim,
                result,
                domain,
                ..
            } => (result, domain),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn results() {
        assert_eq!(result("4B2A81C: DKIM verification successful"), ("pass", None));
        assert_eq!(
            result("4B2A81C: s=mailo d=example.com SSL"),
            ("pass", Some("example.com"))
        );
        assert_eq!(
            result("4B2A81C: s=dkimxy d=example.net SSL error:04091068:rsa routines:int_rsa_verify:bad signature"),
            ("fail", Some("example.net"))
        );
        assert_eq!(result("4B2A81C: bad signature data"), ("fail", None));
        assert_eq!(
            result("4B2A81C: key retrieval failed (s=default, d=example.org)"),
            ("temperror", Some("example.org"))
        );
        assert!(matches!(
            parse("4B2A81C: DKIM-Signature field added (s=mail1, d=example.com)"),
            EventKind::Note {
                action: "signed",
                detail: "s=mail1, d=example.com",
                ..
            }
        ));
        assert!(matches!(
            parse("4B2A81C: not authenticated"),
            EventKind::Info { qid: Some("4B2A81C") }
        ));
        assert!(matches!(
            parse("4B2A81C: h-083963ec00313e9 [147.53.75.90] not internal"),
            EventKind::Info { qid: Some("4B2A81C") }
        ));
        assert!(matches!(
            parse("4B2A81C: something new"),
            EventKind::UnrecognisedFor { qid: "4B2A81C" }
        ));
        assert!(matches!(parse("lorem ipsum dolor"), EventKind::Unrecognised));
        assert!(matches!(
            parse("OpenDKIM Filter v2.11.0 starting (args: -x /etc/opendkim.conf)"),
            EventKind::Info { qid: None }
        ));
    }
}
