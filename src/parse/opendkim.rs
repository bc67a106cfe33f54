//! OpenDKIM: DKIM verification results and signing, by Postfix queue id.
//!
//! `QID: DKIM verification successful`, `QID: s=SEL d=DOMAIN SSL` (a good signature, with its
//! domain), `QID: s=SEL d=DOMAIN SSL error:…bad signature`, `QID: bad signature data`,
//! `QID: no signature data`, `QID: key retrieval failed (s=SEL, d=DOMAIN)…` and, for mail it
//! signs, `QID: DKIM-Signature field added (s=SEL, d=DOMAIN)`. Its other notes (`not
//! authenticated`, `… not internal`, start-up lines) are understood and change nothing.

use super::fields::queue_id;
use crate::event::{AuthMethod, EventKind};

/// Parses an OpenDKIM message (after `opendkim[pid]: `).
pub fn parse(message: &str) -> EventKind<'_> {
    let Some((qid, text)) = queue_id(message) else {
        return EventKind::Info { qid: None };
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
            .split_once("d=")
            .map(|(_, d)| d.split([')', ',', ' ']).next().unwrap_or(d));
        return auth("temperror", domain);
    }
    EventKind::Info { qid: None }
}

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
            EventKind::Info { qid: None }
        ));
        assert!(matches!(
            parse("OpenDKIM Filter v2.11.0 starting (args: -x /etc/opendkim.conf)"),
            EventKind::Info { qid: None }
        ));
    }
}
