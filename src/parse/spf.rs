//! SPF policy servers: policyd-spf (python, `postfix-policyd-spf-python`) and the perl
//! `postfix-policyd-spf-perl` (`postfix/policy-spf`).
//!
//! python: `prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=IP; helo=H;
//! envelope-from=S; receiver=R` (also the debug form `Pass; identity=…`, and rejects
//! `550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see
//! http://www.openspf.net/Why?s=mfrom;id=S;ip=IP;r=R`). perl: `Policy action=PREPEND
//! Received-SPF: pass (…) receiver=R; identity=mailfrom; envelope-from="S"; helo=H;
//! client-ip=IP`, `Policy action=550 Please see …?s=mfrom;id=S;ip=IP;…`.
//!
//! The lines name no queue id: the assembler finds the message by client IP and sender (see
//! `Assembler::auth`). The domain is the envelope sender's (the HELO name for `identity=helo`
//! or the null sender).

use super::text::StrFind;
use crate::event::{AuthMethod, EventKind};

/// Whether a syslog program name is an SPF policy server.
pub fn is_spf(program: &str) -> bool {
    matches!(
        program,
        "policyd-spf" | "policy-spf" | "postfix/policy-spf" | "postfix/policyd-spf" | "postfix-policyd-spf-perl"
    )
}

/// Parses a policy server's message.
pub fn parse(message: &str) -> EventKind<'_> {
    let text = message.strip_prefix("Policy action=").unwrap_or(message);
    let text = text
        .strip_prefix("prepend ")
        .or_else(|| text.strip_prefix("PREPEND "))
        .unwrap_or(text);
    if let Some(r) = text.strip_prefix("Received-SPF: ") {
        let word_end = r.find([' ', ';']).unwrap_or(r.len());
        return auth(&r[..word_end], r);
    }
    // debug form: `Pass; identity=mailfrom; client-ip=…`
    if let Some((word, _)) = text.split_once_str("; identity=") {
        if !word.contains(' ') {
            return auth(word, text);
        }
    }
    // rejects: the explanation URL carries the sender and client
    if let Some(at) = text.find_str("Why?s=").or_else(|| text.find_str("why.html?sender=")) {
        let q = &text[at..];
        let ip = url_field(q, "ip=");
        let sender = url_field(q, "id=").or_else(|| url_field(q, "sender="));
        return EventKind::Auth {
            qid: None,
            method: AuthMethod::Spf,
            result: "fail",
            domain: sender
                .and_then(|s| s.rsplit_once('@').or_else(|| s.rsplit_once_str("%40")))
                .map(|(_, d)| d),
            client_ip: ip,
            sender,
        };
    }
    if NOTES.iter().any(|n| text.starts_with(n)) {
        return EventKind::Info { qid: None };
    }
    EventKind::Unrecognised
}

/// The policy servers' other lines: actions that carry no result (`DUNNO`), start-up,
/// configuration and debug notes, checks they skipped.
const NOTES: &[&str] = &[
    "DUNNO",
    "dunno",
    "action=",
    "defer_if_permit",
    "Starting",
    "starting",
    "Config",
    "Read line",
    "Found the end of entry",
    "Cached data",
    "Not processing",
    "SPF ",
    "spfcheck",
    "Exiting",
    "Hello",
    "handler ",
    "Received-SPF",
    "550 ",
    "450 ",
    "451 ",
    "554 ",
];

fn auth<'a>(word: &'a str, fields: &'a str) -> EventKind<'a> {
    if word.is_empty() {
        return EventKind::Unrecognised;
    }
    let sender = field(fields, "envelope-from=").filter(|s| !s.is_empty());
    let helo = field(fields, "helo=");
    let domain = match field(fields, "identity=") {
        Some("helo") => helo,
        _ => sender.and_then(|s| s.rsplit_once('@').map(|(_, d)| d)).or(helo),
    };
    EventKind::Auth {
        qid: None,
        method: AuthMethod::Spf,
        result: word,
        domain,
        client_ip: field(fields, "client-ip="),
        sender,
    }
}

/// `key=value` in a `; `-separated list; quotes removed.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = text[from..].find(key) {
        let at = from + at;
        if at == 0 || matches!(text.as_bytes()[at - 1], b' ' | b';' | b'(') {
            let v = &text[at + key.len()..];
            let end = v.find([';', ' ']).unwrap_or(v.len());
            return Some(v[..end].trim_matches('"'));
        }
        from = at + key.len();
    }
    None
}

/// `key=value` in a URL query (`;` or `&` separated).
fn url_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(key)? + key.len();
    let v = &text[at..];
    let end = v.find([';', '&', ' ']).unwrap_or(v.len());
    Some(&v[..end]).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spf(line: &str) -> (&str, Option<&str>, Option<&str>, Option<&str>) {
        match parse(line) {
            EventKind::Auth {
                method: AuthMethod::Spf,
                result,
                domain,
                client_ip,
                sender,
                ..
            } => (result, domain, client_ip, sender),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn python_and_perl() {
        assert_eq!(
            spf("prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=129.187.10.149; helo=mailout.uni-example.edu; envelope-from=theo@uni-example.edu; receiver=w@example.com "),
            ("Pass", Some("uni-example.edu"), Some("129.187.10.149"), Some("theo@uni-example.edu"))
        );
        assert_eq!(
            spf("prepend Received-SPF: Softfail (mailfrom) identity=mailfrom; client-ip=192.0.2.9; helo=x.example; envelope-from=<>; receiver=r@example.com").0,
            "Softfail"
        );
        assert_eq!(
            spf("Fail; identity=helo; client-ip=192.0.2.9; helo=bad.example; envelope-from=a@b.example; receiver=r@example.com"),
            ("Fail", Some("bad.example"), Some("192.0.2.9"), Some("a@b.example"))
        );
        assert_eq!(
            spf("550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=spam@forged.example;ip=192.0.2.66;r=<UNKNOWN>"),
            ("fail", Some("forged.example"), Some("192.0.2.66"), Some("spam@forged.example"))
        );
        assert_eq!(
            spf("Policy action=PREPEND Received-SPF: pass (example.com: 192.0.2.1 is authorized to use 'a@example.com' in 'mfrom' identity (mechanism 'ip4:192.0.2.0/24' matched)) receiver=mx.example.net; identity=mailfrom; envelope-from=\"a@example.com\"; helo=mail.example.com; client-ip=192.0.2.1"),
            ("pass", Some("example.com"), Some("192.0.2.1"), Some("a@example.com"))
        );
        assert!(matches!(parse("Policy action=DUNNO"), EventKind::Info { qid: None }));
        assert!(matches!(
            parse("Policy action=550 Please see http://www.openspf.net/Why?s=mfrom;id=x%40forged.example;ip=192.0.2.7;r=mx"),
            EventKind::Auth { result: "fail", client_ip: Some("192.0.2.7"), .. }
        ));
    }
}
