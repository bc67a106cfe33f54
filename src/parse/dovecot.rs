//! Dovecot's delivery lines (LMTP, LDA, Sieve): where each recipient's copy was filed.
//!
//! `lmtp(user)<pid><session>: [sieve: ]msgid=<id>: [fileinto action: ]saved mail to INBOX` /
//! `stored mail into mailbox 'Junk'`, and Sieve's `forwarded to <addr>`, `marked message to be
//! discarded …`, `rejected message from <sender> …`. The LMTP session id is also in Postfix's
//! reply (`250 2.0.0 <user> <session> Saved`), which is how the assembler finds the recipient;
//! LDA lines (`lda(user)`, older `deliver(user)`) are matched by Message-ID and user (their
//! session id, if any, is not one Postfix knows). Every other Dovecot line (IMAP/POP3 logins, `Connect from local`, `master: …`) is
//! understood and changes nothing.

use super::text::StrFind;
use crate::event::{EventKind, MailboxOutcome};

/// Whether a syslog program name is Dovecot.
pub fn is_dovecot(program: &str) -> bool {
    matches!(program, "dovecot" | "dovecot-lda" | "deliver")
}

/// Dovecot's processes besides delivery (`imap-login`, `auth-worker`, `master`, …), and
/// services named after a protocol (`submission-login`, `quota-status`).
fn is_service(service: &str) -> bool {
    const SERVICES: &[&str] = &[
        "imap",
        "pop3",
        "auth",
        "master",
        "config",
        "log",
        "anvil",
        "indexer",
        "dict",
        "doveadm",
        "managesieve",
        "submission",
        "quota",
        "stats",
        "replicator",
        "aggregator",
        "director",
        "ssl",
        "dns",
        "lmtp",
        "lda",
        "sieve",
        "fts",
        "acl",
        "mail",
        "dsync",
        "old-stats",
        "health-check",
        "imap-hibernate",
        "imap-urlauth",
        "ipc",
        "tcpwrap",
        "userdb",
        "passdb",
        "lua",
        "auth-worker",
        "doveadm-server",
    ];
    let base = service.split('-').next().unwrap_or(service);
    SERVICES.contains(&service) || SERVICES.contains(&base)
}

/// Parses a Dovecot message (after `dovecot: `).
pub fn parse(message: &str) -> EventKind<'_> {
    // a level before the service: `Fatal: auth(default): …`, `Error: imap(u): …`; a nested
    // `dovecot: ` (a log relayed by the master)
    let mut message = message;
    for prefix in [
        "Fatal: ",
        "Panic: ",
        "Error: ",
        "Warning: ",
        "Info: ",
        "Debug: ",
        "dovecot: ",
    ] {
        if let Some(r) = message.strip_prefix(prefix) {
            message = r;
        }
    }
    // `service(args)<pid><session>: rest`, `service(args): rest` or `service: rest`
    let head_end = message.find([':', '(']).unwrap_or(message.len());
    let service = &message[..head_end];
    if service.is_empty() || service.contains(' ') || head_end == message.len() {
        // the master's own notes: `Dovecot v2.3.19 starting up …`, `Killed with signal 15 …`
        const MASTER: &[&str] = &[
            "Dovecot v",
            "Killed with signal",
            "Auth process died",
            "master process",
            "SIGHUP received",
            "Time moved",
        ];
        return if MASTER.iter().any(|m| message.starts_with(m)) {
            EventKind::Info { qid: None }
        } else {
            EventKind::Unrecognised
        };
    }
    if !matches!(service, "lmtp" | "lda" | "deliver") {
        return if is_service(service) {
            EventKind::Info { qid: None }
        } else {
            EventKind::Unrecognised
        };
    }
    let mut rest = &message[head_end..];
    let mut user = "";
    if let Some(r) = rest.strip_prefix('(') {
        let Some(end) = r.find_byte(b')') else {
            return EventKind::Unrecognised;
        };
        user = &r[..end];
        rest = &r[end + 1..];
    }
    // `<pid><session>` (Dovecot 2.3)
    let mut session = None;
    if let Some(r) = rest.strip_prefix('<') {
        if let Some((_pid, after)) = r.split_once_str("><") {
            if let Some((sess, after)) = after.split_once_byte(b'>') {
                session = Some(sess).filter(|s| !s.is_empty());
                rest = after;
            }
        }
    }
    // LDA's session ids never reach Postfix (pipe logs `delivered via dovecot service`): its
    // lines are matched by Message-ID and user
    if service != "lmtp" {
        session = None;
    }
    let Some(mut rest) = rest.strip_prefix(": ") else {
        return EventKind::Info { qid: None };
    };
    rest = rest.strip_prefix("sieve: ").unwrap_or(rest);
    let Some(after) = rest.strip_prefix("msgid=") else {
        // `Connect from local`, `Error: …`, `Debug: …`
        return EventKind::Info { qid: None };
    };
    let (message_id, text) = match after.strip_prefix('<') {
        Some(r) => match r.split_once_str(">: ") {
            Some((id, t)) => (Some(id).filter(|i| !i.is_empty()), t),
            None => return EventKind::Info { qid: None },
        },
        // `msgid=unspecified: …`
        None => match after.split_once_str(": ") {
            Some((_, t)) => (None, t),
            None => return EventKind::Info { qid: None },
        },
    };
    // Pigeonhole 0.5 names the action first: `fileinto action: stored mail into mailbox 'X'`
    let text = match text.split_once_str(" action: ") {
        Some((action, t)) if !action.contains(' ') => t,
        _ => text,
    };
    let (outcome, detail) = if let Some(f) = text.strip_prefix("saved mail to ") {
        (MailboxOutcome::Saved, unquote(f))
    } else if let Some(f) = text.strip_prefix("stored mail into mailbox ") {
        (MailboxOutcome::Saved, unquote(f))
    } else if let Some(to) = text.strip_prefix("forwarded to ") {
        let to = to.trim_start_matches('<');
        (MailboxOutcome::Forwarded, to.split('>').next().unwrap_or(to))
    } else if text.starts_with("marked message to be discarded") || text == "discarded" {
        (MailboxOutcome::Discarded, text)
    } else if text.starts_with("rejected") {
        (MailboxOutcome::Rejected, text)
    } else {
        // `sent vacation response to …`, `save failed to …` (Postfix logs the failure too)
        return EventKind::Info { qid: None };
    };
    EventKind::Mailbox {
        user,
        session,
        message_id,
        outcome,
        detail,
    }
}

/// `'Junk'` / `"Junk"` / `INBOX` → the mailbox name.
fn unquote(folder: &str) -> &str {
    let f = folder.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = f.strip_prefix(q).and_then(|f| f.strip_suffix(q)) {
            return inner;
        }
    }
    f
}

/// The LMTP session id in Postfix's reply from Dovecot: `250 2.0.0 <user> SESSION Saved`.
pub fn session_in_reply(response: &str) -> Option<&str> {
    let rest = response.strip_prefix("250 ")?;
    let rest = rest.split_once_str("> ")?.1;
    let (session, tail) = rest.split_once_byte(b' ')?;
    (tail.starts_with("Saved") && !session.is_empty()).then_some(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(line: &str) -> (&str, Option<&str>, Option<&str>, MailboxOutcome, &str) {
        match parse(line) {
            EventKind::Mailbox {
                user,
                session,
                message_id,
                outcome,
                detail,
            } => (user, session, message_id, outcome, detail),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn lmtp_and_sieve_lines() {
        assert_eq!(
            mailbox("lmtp(a@example.com)<1540><8v3nLe7jImYEBwAAq3pWbA>: msgid=<m@x>: saved mail to INBOX"),
            (
                "a@example.com",
                Some("8v3nLe7jImYEBwAAq3pWbA"),
                Some("m@x"),
                MailboxOutcome::Saved,
                "INBOX"
            )
        );
        assert_eq!(
            mailbox("lmtp(b@example.com)<1540><+Q/KLu7jImYEBwAAq3pWbA>: sieve: msgid=<m@x>: stored mail into mailbox 'Junk'").4,
            "Junk"
        );
        assert_eq!(
            mailbox("lmtp(b)<1><s>: sieve: msgid=<m@x>: fileinto action: stored mail into mailbox 'Lists/rust'").4,
            "Lists/rust"
        );
        let fwd = mailbox("lda(c): sieve: msgid=<m@x>: forwarded to <c@elsewhere.example>");
        assert_eq!(
            (fwd.1, fwd.3, fwd.4),
            (None, MailboxOutcome::Forwarded, "c@elsewhere.example")
        );
        assert_eq!(
            mailbox("lmtp(d)<1><s>: sieve: msgid=<m@x>: marked message to be discarded if not explicitly delivered (discard action)").3,
            MailboxOutcome::Discarded
        );
        assert_eq!(
            mailbox("lmtp(e)<1><s>: sieve: msgid=<m@x>: rejected message from <s@y> (reject)").3,
            MailboxOutcome::Rejected
        );
        assert_eq!(mailbox("deliver(f): msgid=unspecified: saved mail to INBOX").2, None);
        for info in [
            "lmtp(29197): Connect from local",
            "imap-login: Login: user=<a@b>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, mpid=1, TLS, session=<x>",
            "imap(a@b)<1><x>: Logged out in=1 out=2",
            "lmtp(a)<1><s>: msgid=<m@x>: save failed to INBOX: Quota exceeded (mailbox for user is full)",
            "master: Dovecot v2.3.19 (b3ad6004dc) starting up for imap, lmtp",
            "Dovecot v1.2.rc3 starting up (core dumps disabled)",
        ] {
            assert!(matches!(parse(info), EventKind::Info { qid: None }), "{info}");
        }
        assert!(matches!(parse("something odd"), EventKind::Unrecognised));
    }

    #[test]
    fn session_from_postfix_reply() {
        assert_eq!(
            session_in_reply("250 2.0.0 <a@example.com> 8v3nLe7jImYEBwAAq3pWbA Saved"),
            Some("8v3nLe7jImYEBwAAq3pWbA")
        );
        assert_eq!(session_in_reply("250 2.0.0 Ok: queued as ABC"), None);
    }
}
