//! Postfix messages, all daemons.
//!
//! Postfix writes one fact per line, mostly as `QID: key=value, …` or `QID: action: …`. The
//! parser reads the message by its shape rather than by daemon name alone, because the same
//! shapes come from renamed services (`postfix/submission/smtpd`, `postfix/smtp-amavis`,
//! `postfix-10.0.0.1/cleanup`). The daemon name (the last path part of the syslog tag) decides
//! only where shapes would be ambiguous.
//!
//! Every function returns [`EventKind::Unrecognised`] rather than failing: no line is dropped.

use super::fields::{address_field, delays_from, dsn_in, peer, plain_field, policy_tail, queue_id, queued_as};
use super::text::StrFind;
use crate::event::{Action, AdminAction, DeliveryStatus, EventKind, NoticeKind, PolicyStage};

/// Whether a syslog program name belongs to Postfix.
pub fn is_postfix(program: &str) -> bool {
    program.starts_with("postfix") || matches!(program, "postsuper" | "postqueue" | "postdrop" | "postmap" | "postlog")
}

/// The daemon name: the last part of `postfix/submission/smtpd` → `smtpd`.
pub fn daemon(program: &str) -> &str {
    memchr::memrchr(b'/', program.as_bytes()).map_or(program, |i| &program[i + 1..])
}

/// Daemons whose lines never concern a single message: all of their lines are informational.
fn is_service_daemon(daemon: &str) -> bool {
    matches!(
        daemon,
        "anvil"
            | "scache"
            | "tlsmgr"
            | "master"
            | "postfix-script"
            | "verify"
            | "dnsblog"
            | "trivial-rewrite"
            | "postmap"
            | "tlsproxy"
            | "postlog"
            | "proxymap"
            | "flush"
            | "showq"
            | "spawn"
            | "postconf"
            | "postqueue"
            | "script"
    )
}

/// Parses the message text of one Postfix line.
pub fn parse<'a>(program: &str, message: &'a str) -> EventKind<'a> {
    let daemon = daemon(program);
    let message = message.trim_end_matches(['\r', '\n']);
    if is_diagnostic(message) {
        return EventKind::Info { qid: None };
    }
    if is_service_daemon(daemon) {
        return EventKind::Info { qid: None };
    }
    if let Some(rest) = message.strip_prefix("NOQUEUE: ") {
        if let Some(r) = rest.strip_prefix("client=") {
            return session_client(r);
        }
        if rest.starts_with("proxy-accept: ") {
            return proxy_accept(None, rest);
        }
        return match policy(None, rest) {
            EventKind::Unrecognised => without_qid(daemon, rest),
            ev => ev,
        };
    }
    if let Some((qid, rest)) = queue_id(message) {
        // a line about a message stays on its timeline even when its text is not understood
        return match with_qid(daemon, qid, rest) {
            EventKind::Unrecognised => EventKind::UnrecognisedFor { qid },
            ev => ev,
        };
    }
    // a before-queue filter's verdict with neither queue id nor `NOQUEUE` (Postfix 3.x)
    if message.starts_with("proxy-accept: ") {
        return proxy_accept(None, message);
    }
    if message.starts_with("proxy-reject: ") {
        return policy(None, message);
    }
    without_qid(daemon, message)
}

/// `NOQUEUE: client=name[addr][, sasl_method=M, sasl_username=U]`: smtpd receives a message
/// for a before-queue content filter (no queue file of its own).
fn session_client(rest: &str) -> EventKind<'_> {
    match peer(rest) {
        Some((peer, _)) => EventKind::SessionClient {
            peer,
            sasl_method: plain_field(rest, "sasl_method"),
            sasl_user: plain_field(rest, "sasl_username"),
        },
        None => EventKind::Unrecognised,
    }
}

/// `proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as QID2; from=<…> to=<…> proto=… helo=<…>`.
fn proxy_accept<'a>(qid: Option<&'a str>, rest: &'a str) -> EventKind<'a> {
    let body = rest.strip_prefix("proxy-accept: ").unwrap_or(rest);
    // the SMTP stage, then the filter's reply
    let body = body.split_once_str(": ").map_or(body, |(_, r)| r);
    let (reply, tail) = match body.find_str("; from=<").or_else(|| body.find_str("; to=<")) {
        Some(at) => (&body[..at], policy_tail(&body[at + 2..])),
        None => (body, crate::event::PolicyTail::default()),
    };
    EventKind::ProxyAccept {
        qid,
        reply,
        queued_as: queued_as(reply),
        tail,
    }
}

fn is_diagnostic(message: &str) -> bool {
    ["warning: ", "error: ", "fatal: ", "panic: ", "statistics: "]
        .iter()
        .any(|p| message.starts_with(p))
}

fn with_qid<'a>(daemon: &str, qid: &'a str, rest: &'a str) -> EventKind<'a> {
    if rest.starts_with("to=") {
        return delivery(qid, rest);
    }
    if let Some(r) = rest.strip_prefix("client=") {
        return client(qid, r);
    }
    if let Some(r) = rest.strip_prefix("message-id=") {
        return EventKind::MessageId {
            qid,
            message_id: strip_angles(r),
            resent: false,
        };
    }
    if let Some(r) = rest.strip_prefix("resent-message-id=") {
        return EventKind::MessageId {
            qid,
            message_id: strip_angles(r),
            resent: true,
        };
    }
    if rest.starts_with("from=") {
        let from = address_field(rest, "from").unwrap_or("");
        if rest.contains("status=expired") {
            return EventKind::Expired { qid, from };
        }
        return EventKind::Queued {
            qid,
            from,
            size: plain_field(rest, "size").and_then(|s| s.parse().ok()),
            nrcpt: plain_field(rest, "nrcpt").and_then(|s| s.parse().ok()),
        };
    }
    if rest.starts_with("uid=") {
        let uid = plain_field(rest, "uid").and_then(|u| u.parse().ok());
        return EventKind::Pickup {
            qid,
            uid,
            from: address_field(rest, "from").unwrap_or(""),
        };
    }
    if rest == "removed" {
        return if daemon == "postsuper" {
            EventKind::Admin {
                qid,
                action: AdminAction::Removed,
            }
        } else {
            EventKind::Removed { qid }
        };
    }
    match rest {
        "placed on hold" => {
            return EventKind::Admin {
                qid,
                action: AdminAction::Hold,
            }
        }
        "released from hold" => {
            return EventKind::Admin {
                qid,
                action: AdminAction::Released,
            }
        }
        "requeued" => {
            return EventKind::Admin {
                qid,
                action: AdminAction::Requeued,
            }
        }
        _ => {}
    }
    if let Some(ev) = notice(qid, rest) {
        return ev;
    }
    if rest.starts_with("proxy-accept: ") {
        return proxy_accept(Some(qid), rest);
    }
    if let Some((word, _)) = rest.split_once_str(": ") {
        let action_word = word.strip_prefix("milter-").unwrap_or(word);
        if Action::from_word(action_word).is_some()
            || word == "reject_warning"
            || word.starts_with("milter-")
            || word == "proxy-reject"
        {
            return policy(Some(qid), rest);
        }
    }
    if is_diagnostic(rest) || is_known_qid_info(rest) {
        return EventKind::Info { qid: Some(qid) };
    }
    EventKind::Unrecognised
}

/// Per-message lines that carry no state: smtp(8) session details, cleanup notes.
fn is_known_qid_info(rest: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "host ",
        "lost connection with ",
        "conversation with ",
        "enabling PIX workarounds",
        "SASL authentication failed",
        "skipped, still being delivered",
        "proxy-accept: ",
        "Cannot start TLS",
        "TLS is required",
        "server certificate verification failed",
        "sender non-delivery",
        "replace: ",
        "redirect: ",
        "filter: ",
        "prepend: ",
        "bcc: ",
        "discard: ",
        "info: ",
    ];
    PREFIXES.iter().any(|p| rest.starts_with(p))
}

fn strip_angles(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('<').and_then(|v| v.strip_suffix('>')).unwrap_or(v)
}

fn client<'a>(qid: &'a str, rest: &'a str) -> EventKind<'a> {
    let Some((client, _)) = peer(rest) else {
        return EventKind::Unrecognised;
    };
    // the fields after the client (SASL, XFORWARD's `orig_*`), if any: most lines have none
    let xforward = rest
        .find_byte(b',')
        .and_then(|c| rest[c..].find_str(", orig_").map(|at| &rest[c + at..]));
    EventKind::Client {
        qid,
        peer: client,
        sasl_method: plain_field(rest, "sasl_method"),
        sasl_user: plain_field(rest, "sasl_username"),
        orig_queue_id: xforward
            .and_then(|x| plain_field(x, "orig_queue_id"))
            .filter(|q| super::fields::is_queue_id(q)),
        orig_client: xforward
            .and_then(|x| x.find_str("orig_client=").map(|at| &x[at + "orig_client=".len()..]))
            .and_then(|c| peer(c))
            .map(|(p, _)| p)
            .filter(|p| !p.addr.is_empty() && p.addr != "unknown"),
    }
}

/// `to=<r>, orig_to=<o>, relay=R, conn_use=N, delay=D, delays=a/b/c/d, dsn=X.Y.Z, status=S (response)`,
/// read in one pass from left to right (a quarter of all lines are delivery lines).
fn delivery<'a>(qid: &'a str, rest: &'a str) -> EventKind<'a> {
    let (mut to, mut orig_to, mut relay, mut delay, mut delays_v, mut dsn) = (None, None, None, None, None, None);
    let mut status_word = None;
    let mut response = "";
    let mut s = rest;
    while let Some(eq) = s.find_byte(b'=') {
        let (key, v) = (&s[..eq], &s[eq + 1..]);
        if key == "status" {
            let end = v.find_byte(b' ').unwrap_or(v.len());
            status_word = Some(&v[..end]);
            let r = v[end..].trim_start();
            response = r.strip_prefix('(').map_or("", |r| r.strip_suffix(')').unwrap_or(r));
            break;
        }
        let (value, next) = match v.strip_prefix('<') {
            Some(inner) => match inner.find_byte(b'>') {
                Some(e) => (&inner[..e], &inner[e + 1..]),
                None => return EventKind::Unrecognised,
            },
            None => match v.find_str(", ") {
                Some(e) => (&v[..e], &v[e..]),
                None => (v, ""),
            },
        };
        match key {
            "to" => to = Some(value),
            "orig_to" => orig_to = Some(value),
            "relay" => relay = Some(value),
            "delay" => delay = Some(value),
            "delays" => delays_v = Some(value),
            "dsn" => dsn = Some(value),
            _ => {}
        }
        match next.strip_prefix(", ") {
            Some(n) => s = n,
            None => break,
        }
    }
    let (Some(to), Some(status_word)) = (to, status_word) else {
        return EventKind::Unrecognised;
    };
    let status = match status_word {
        "sent" => DeliveryStatus::Sent,
        "deferred" => DeliveryStatus::Deferred,
        "bounced" => DeliveryStatus::Bounced,
        "expired" => DeliveryStatus::Expired,
        "deliverable" => DeliveryStatus::Deliverable,
        s if s.starts_with("undeliverable") => DeliveryStatus::Undeliverable,
        _ => return EventKind::Unrecognised,
    };
    let forwarded_as = response.strip_prefix("forwarded as ").map(|q| q.trim_end_matches(')'));
    EventKind::Delivery {
        qid,
        to,
        orig_to,
        relay,
        delays: delay.and_then(|d| delays_from(d, delays_v)),
        dsn,
        status,
        response,
        queued_as: if forwarded_as.is_none() {
            queued_as(response)
        } else {
            None
        },
        forwarded_as,
    }
}

fn notice<'a>(qid: &'a str, rest: &'a str) -> Option<EventKind<'a>> {
    let (what, new_qid) = rest.rsplit_once_str(": ")?;
    let kind = match what {
        "sender non-delivery notification" | "postmaster non-delivery notification" => NoticeKind::NonDelivery,
        "sender delay notification" | "postmaster delay notification" => NoticeKind::Delay,
        "sender delivery status notification" | "postmaster delivery status notification" => NoticeKind::DeliveryStatus,
        _ => return None,
    };
    Some(EventKind::Notice { qid, kind, new_qid })
}

/// `reject: RCPT from name[addr]: 550 5.1.1 <x>: text; from=<…> to=<…> proto=… helo=<…>`,
/// `hold: header Subject: … from name[addr]; from=<…> …: text`, `milter-reject: END-OF-MESSAGE …`.
fn policy<'a>(qid: Option<&'a str>, rest: &'a str) -> EventKind<'a> {
    let Some((word, body)) = rest.split_once_str(": ") else {
        return info_or_unknown(qid, rest);
    };
    let milter = word.starts_with("milter-");
    let action = match word
        .strip_prefix("milter-")
        .unwrap_or(word)
        .trim_start_matches("header-")
    {
        "reject_warning" | "warning" => Some(Action::Warn),
        "proxy-reject" => Some(Action::Reject),
        w => Action::from_word(w),
    };
    let Some(action) = action else {
        return info_or_unknown(qid, rest);
    };
    // the tail starts at `; from=<` (`; to=<` on VRFY rejects, which have no sender)
    let tail_at = body.find_str("; from=<").or_else(|| body.find_str("; to=<"));
    let (head, tail_text) = match tail_at {
        Some(at) => (&body[..at], &body[at + 2..]),
        None => (body, ""),
    };
    let tail = policy_tail(tail_text);

    // header/body checks: `header Name: value from peer` / `body text from peer`
    if let Some(h) = head
        .strip_prefix("header ")
        .or_else(|| head.strip_prefix("body ").map(|_| head))
    {
        let is_body = head.starts_with("body ");
        let (content, peer_text) = match h.rfind_str(" from ") {
            Some(at) => (&h[..at], &h[at + 6..]),
            None => (h, ""),
        };
        let header = if is_body {
            Some(("body", content.strip_prefix("body ").unwrap_or(content)))
        } else {
            content
                .split_once_str(": ")
                .or(Some((content.trim_end_matches(':'), "")))
        };
        let reason = tail_text.rsplit_once_str(">: ").map(|(_, r)| r).unwrap_or("");
        return EventKind::Policy {
            qid,
            stage: PolicyStage {
                milter,
                stage: if is_body { "body" } else { "header" },
            },
            action,
            peer: peer(peer_text).map(|(p, _)| p),
            dsn: dsn_in(reason),
            text: reason,
            header,
            tail,
        };
    }

    // smtpd / postscreen / milter: `STAGE from name[addr]: text`
    let (stage, after) = head.split_once_byte(b' ').unwrap_or((head, ""));
    let (peer_v, text) = match after.strip_prefix("from ").and_then(peer) {
        Some((p, r)) => (
            Some(p),
            r.strip_prefix(": ")
                .or_else(|| r.strip_prefix(':'))
                .unwrap_or(r)
                .trim_start(),
        ),
        None => (None, after.trim_start_matches(": ")),
    };
    // `proxy-reject: END-OF-MESSAGE: 554 …` has no peer: the text follows the stage's colon
    let text = if stage.ends_with(':') && peer_v.is_none() {
        head.split_once_str(": ").map_or(after, |(_, t)| t)
    } else {
        text
    };
    EventKind::Policy {
        qid,
        stage: PolicyStage {
            milter,
            stage: stage.trim_end_matches(':'),
        },
        action,
        peer: peer_v,
        dsn: dsn_in(text),
        text,
        header: None,
        tail,
    }
}

fn info_or_unknown<'a>(qid: Option<&'a str>, rest: &str) -> EventKind<'a> {
    if is_known_qid_info(rest) {
        EventKind::Info { qid }
    } else {
        EventKind::Unrecognised
    }
}

fn without_qid<'a>(daemon: &str, message: &'a str) -> EventKind<'a> {
    if let Some(r) = message.strip_prefix("connect from ") {
        return match peer(r) {
            Some((peer, _)) => EventKind::Connect { peer },
            None => EventKind::Unrecognised,
        };
    }
    if let Some(r) = message.strip_prefix("disconnect from ") {
        return match peer(r) {
            Some((peer, rest)) => EventKind::Disconnect {
                peer,
                commands: Some(rest.trim()).filter(|c| !c.is_empty()),
            },
            None => EventKind::Unrecognised,
        };
    }
    for prefix in ["lost connection after ", "timeout after "] {
        if let Some(r) = message.strip_prefix(prefix) {
            if let Some(at) = r.find_str(" from ") {
                if let Some((peer, _)) = peer(&r[at + 6..]) {
                    return EventKind::LostConnection { peer, after: &r[..at] };
                }
            }
            return EventKind::Unrecognised;
        }
    }
    if daemon == "postscreen" {
        return postscreen(message);
    }
    if daemon == "postsuper" && is_postsuper_summary(message) {
        return EventKind::Info { qid: None };
    }
    const INFO: &[&str] = &[
        "Anonymous TLS connection established",
        "Untrusted TLS connection established",
        "Trusted TLS connection established",
        "Verified TLS connection established",
        "SSL_accept error",
        "SSL_connect error",
        "improper command pipelining",
        "too many errors after",
        "discarding EHLO keywords",
        "bare <LF> received",
        "connect to ",
        "certificate verification failed",
        "setting up TLS connection",
        "TLS library problem",
        "proxy-accept: ",
        "proxy-reject: ",
        "reject: ",
        "daemon started",
        "reload",
        "terminating on signal",
        "refreshing the Postfix mail system",
        "starting the Postfix mail system",
        "stopping the Postfix mail system",
        "Postfix is running",
        "host ",
        "warning:",
        "sender non-delivery",
        "NOQUEUE: ",
        "AUTH command failed",
        "non-SMTP command from",
        "SMTPUTF8 ",
    ];
    if INFO.iter().any(|p| message.starts_with(p)) {
        return EventKind::Info { qid: None };
    }
    EventKind::Unrecognised
}

/// postscreen's test results and the end of a screening, by client `[ip]:port`.
fn screen(message: &str) -> Option<EventKind<'_>> {
    for (prefix, test) in [
        ("PASS NEW ", "PASS"),
        ("PASS OLD ", "PASS"),
        ("DISCONNECT ", "DISCONNECT"),
    ] {
        if let Some(r) = message.strip_prefix(prefix) {
            let (peer, _) = peer(r)?;
            return Some(EventKind::Screen {
                peer,
                test,
                detail: "",
                end: true,
            });
        }
    }
    // `DNSBL rank 3 for [ip]:port`
    if let Some(r) = message.strip_prefix("DNSBL ") {
        let (rank, at) = r.split_once_str(" for ")?;
        let (peer, _) = peer(at)?;
        return Some(EventKind::Screen {
            peer,
            test: "DNSBL",
            detail: rank,
            end: false,
        });
    }
    // `DENYLISTED [ip]:port` (`BLACKLISTED` before Postfix 3.6)
    for test in ["DENYLISTED ", "BLACKLISTED "] {
        if let Some(r) = message.strip_prefix(test) {
            let (peer, _) = peer(r)?;
            return Some(EventKind::Screen {
                peer,
                test: test.trim_end(),
                detail: "",
                end: false,
            });
        }
    }
    // `TEST … from [ip]:port[ after CMD][: text]`
    const TESTS: [&str; 8] = [
        "PREGREET",
        "COMMAND PIPELINING",
        "NON-SMTP COMMAND",
        "BARE NEWLINE",
        "HANGUP",
        "COMMAND TIME LIMIT",
        "COMMAND COUNT LIMIT",
        "COMMAND LENGTH LIMIT",
    ];
    let test = TESTS
        .iter()
        .find(|t| message.strip_prefix(**t).is_some_and(|r| r.starts_with(' ')))?;
    let detail = message[test.len()..].trim();
    let at = detail.find_str("from [").or_else(|| detail.find_str("from "))?;
    let (peer, _) = peer(&detail[at + 5..])?;
    Some(EventKind::Screen {
        peer,
        test,
        detail: detail.trim_end_matches("\\r\\n"),
        end: false,
    })
}

fn is_postsuper_summary(message: &str) -> bool {
    ["Deleted: ", "Requeued: ", "Placed on hold: ", "Released from hold: "]
        .iter()
        .any(|p| message.starts_with(p))
}

/// postscreen: connection screening. Its `NOQUEUE: reject: RCPT` lines are handled by
/// [`policy`]; its test results (`PREGREET`, `DNSBL rank N`, `COMMAND PIPELINING`, …) and the
/// end of a screening (`PASS NEW|OLD`, `DISCONNECT`) are [`EventKind::Screen`] events, kept by
/// the assembler for the reject of that connection; the rest is about connections only.
fn postscreen(message: &str) -> EventKind<'_> {
    if let Some(r) = message.strip_prefix("CONNECT from ") {
        return match peer(r) {
            Some((peer, _)) => EventKind::Connect { peer },
            None => EventKind::Unrecognised,
        };
    }
    if let Some(ev) = screen(message) {
        return ev;
    }
    const KNOWN: &[&str] = &[
        "PASS NEW ",
        "PASS OLD ",
        "DISCONNECT ",
        "PREGREET ",
        "DNSBL rank ",
        "HANGUP after ",
        "COMMAND ",
        "NON-SMTP COMMAND",
        "BARE NEWLINE",
        "WHITELISTED ",
        "WHITELIST VETO ",
        "ALLOWLISTED ",
        "ALLOWLIST VETO ",
        "BLACKLISTED ",
        "DENYLISTED ",
        "cache ",
        "BDAT ",
        "reject: ",
        "NOQUEUE: ",
        "warning:",
    ];
    if KNOWN.iter().any(|p| message.starts_with(p)) {
        EventKind::Info { qid: None }
    } else {
        EventKind::Unrecognised
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Peer;

    #[test]
    fn smtp_delivery_with_reinjection() {
        let ev = parse("postfix/smtp", "0859737C64D: to=<hferrari@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=3.7, delays=0.09/0.01/0/3.6, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 3CE6B37C010)");
        let EventKind::Delivery {
            qid,
            to,
            relay,
            dsn,
            status,
            response,
            queued_as,
            delays,
            ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(qid, "0859737C64D");
        assert_eq!(to, "hferrari@example.com");
        assert_eq!(relay, Some("127.0.0.1[127.0.0.1]:10024"));
        assert_eq!(dsn, Some("2.0.0"));
        assert_eq!(status, DeliveryStatus::Sent);
        assert_eq!(queued_as, Some("3CE6B37C010"));
        assert!(response.starts_with("250 2.0.0 from MTA"));
        assert_eq!(delays.unwrap().transmission, 3.6);
    }

    #[test]
    fn noqueue_reject() {
        let ev = parse("postfix/smtpd", "NOQUEUE: reject: RCPT from unknown[91.104.101.16]: 554 5.7.1 <oscar@qq.com>: Relay access denied; from=<promo545@invoice-secure.ru> to=<oscar@qq.com> proto=ESMTP helo=<x.ru>");
        let EventKind::Policy {
            qid,
            stage,
            action,
            peer,
            dsn,
            text,
            tail,
            ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(qid, None);
        assert_eq!(stage.stage, "RCPT");
        assert_eq!(action, Action::Reject);
        assert_eq!(
            peer,
            Some(Peer {
                name: "unknown",
                addr: "91.104.101.16",
                port: None
            })
        );
        assert_eq!(dsn, Some("5.7.1"));
        assert_eq!(text, "554 5.7.1 <oscar@qq.com>: Relay access denied");
        assert_eq!(tail.from, Some("promo545@invoice-secure.ru"));
        assert_eq!(tail.to, Some("oscar@qq.com"));
        assert_eq!(tail.helo, Some("x.ru"));
    }

    #[test]
    fn header_hold_with_subject() {
        let ev = parse("postfix/cleanup", "D91E937F12D: hold: header Subject: Re: from the boss from mout.gmx.net[212.227.17.62]; from=<a@gmx.de> to=<b@example.com> proto=ESMTP helo=<mout.gmx.net>: Message held for review");
        let EventKind::Policy {
            qid,
            action,
            header,
            text,
            peer,
            ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(qid, Some("D91E937F12D"));
        assert_eq!(action, Action::Hold);
        assert_eq!(header, Some(("Subject", "Re: from the boss")));
        assert_eq!(text, "Message held for review");
        assert_eq!(peer.unwrap().addr, "212.227.17.62");
    }

    #[test]
    fn local_submission_warning() {
        let ev = parse(
            "postfix/cleanup",
            "AB12CD34EF: warning: header Subject: Cron <root@mx1> test from local; from=<root@mx1> to=<root@mx1>",
        );
        let EventKind::Policy {
            action, header, peer, ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(action, Action::Warn);
        assert_eq!(header, Some(("Subject", "Cron <root@mx1> test")));
        assert_eq!(peer, None);
    }

    #[test]
    fn milter_reject() {
        let ev = parse("postfix/cleanup", "4104E3D: milter-reject: END-OF-MESSAGE from x.com[61.238.241.86]: 5.7.1 Blocked by SpamAssassin; from=<w@c.com> to=<v@example.com> proto=ESMTP helo=<e.com>");
        let EventKind::Policy {
            action,
            stage,
            dsn,
            text,
            ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(action, Action::Reject);
        assert!(stage.milter);
        assert_eq!(stage.stage, "END-OF-MESSAGE");
        assert_eq!(dsn, Some("5.7.1"));
        assert_eq!(text, "5.7.1 Blocked by SpamAssassin");
    }

    #[test]
    fn postscreen_tests() {
        let ev = parse("postfix/postscreen", "DNSBL rank 3 for [192.0.2.55]:44321");
        assert!(
            matches!(
                ev,
                EventKind::Screen {
                    test: "DNSBL",
                    detail: "rank 3",
                    end: false,
                    peer: Peer {
                        addr: "192.0.2.55",
                        port: Some(44321),
                        ..
                    },
                }
            ),
            "{ev:?}"
        );
        let ev = parse(
            "postfix/postscreen",
            "PREGREET 11 after 0.1 from [192.0.2.8]:5500: EHLO User\\r\\n",
        );
        assert!(
            matches!(
                ev,
                EventKind::Screen {
                    test: "PREGREET",
                    detail: "11 after 0.1 from [192.0.2.8]:5500: EHLO User",
                    ..
                }
            ),
            "{ev:?}"
        );
        assert!(matches!(
            parse(
                "postfix/postscreen",
                "COMMAND PIPELINING from [192.0.2.8]:5500 after EHLO: MAIL FROM:<a@b>"
            ),
            EventKind::Screen {
                test: "COMMAND PIPELINING",
                ..
            }
        ));
        assert!(matches!(
            parse(
                "postfix/postscreen",
                "HANGUP after 0.5 from [192.0.2.8]:5500 in tests before SMTP handshake"
            ),
            EventKind::Screen { test: "HANGUP", .. }
        ));
        assert!(matches!(
            parse("postfix/postscreen", "PASS NEW [192.0.2.8]:5500"),
            EventKind::Screen { end: true, .. }
        ));
        assert!(matches!(
            parse("postfix/postscreen", "DISCONNECT [192.0.2.8]:5500"),
            EventKind::Screen { end: true, .. }
        ));
    }

    #[test]
    fn before_queue_proxy_filter() {
        let ev = parse(
            "postfix/smtpd",
            "NOQUEUE: client=mail.example[192.0.2.7], sasl_method=PLAIN, sasl_username=u@example.com",
        );
        assert!(
            matches!(
                ev,
                EventKind::SessionClient {
                    peer: Peer { addr: "192.0.2.7", .. },
                    sasl_user: Some("u@example.com"),
                    ..
                }
            ),
            "{ev:?}"
        );
        for (line, qid) in [
            ("proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as 4C2D1E0F9A; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<b.example>", None),
            ("NOQUEUE: proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as 4C2D1E0F9A; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<b.example>", None),
            ("3A2B1C0D9E: proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as 4C2D1E0F9A; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<b.example>", Some("3A2B1C0D9E")),
        ] {
            let ev = parse("postfix/smtpd", line);
            let EventKind::ProxyAccept { qid: q, reply, queued_as, tail } = ev else {
                panic!("{ev:?}")
            };
            assert_eq!(q, qid);
            assert_eq!(reply, "250 2.0.0 Ok: queued as 4C2D1E0F9A");
            assert_eq!(queued_as, Some("4C2D1E0F9A"));
            assert_eq!(tail.to, Some("c@d.example"));
            assert_eq!(tail.helo, Some("b.example"));
        }
        let ev = parse("postfix/smtpd", "proxy-reject: END-OF-MESSAGE: 554 5.7.1 Rejected for policy reasons (5B7A7A2B3C4D5E6F80); from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<b.example>");
        let EventKind::Policy {
            qid: None,
            action: Action::Reject,
            text,
            dsn,
            tail,
            ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(text, "554 5.7.1 Rejected for policy reasons (5B7A7A2B3C4D5E6F80)");
        assert_eq!(dsn, Some("5.7.1"));
        assert_eq!(tail.to, Some("c@d.example"));
    }

    #[test]
    fn shapes() {
        assert!(matches!(
            parse("postfix/qmgr", "0F5383D: from=<a@b>, size=5360, nrcpt=1 (queue active)"),
            EventKind::Queued {
                size: Some(5360),
                nrcpt: Some(1),
                ..
            }
        ));
        assert!(matches!(
            parse("postfix/qmgr", "585BC3F: from=<>, status=expired, returned to sender"),
            EventKind::Expired { from: "", .. }
        ));
        assert!(matches!(
            parse("postfix/qmgr", "0F5383D: removed"),
            EventKind::Removed { .. }
        ));
        assert!(matches!(
            parse("postsuper", "D4F2023DB: removed"),
            EventKind::Admin {
                action: AdminAction::Removed,
                ..
            }
        ));
        assert!(matches!(
            parse(
                "postfix/bounce",
                "17CCA8044: sender non-delivery notification: ADD2F8052"
            ),
            EventKind::Notice {
                new_qid: "ADD2F8052",
                kind: NoticeKind::NonDelivery,
                ..
            }
        ));
        assert!(matches!(
            parse("postfix/pickup", "D2FAE20586: uid=0 from=<fail2ban>"),
            EventKind::Pickup {
                uid: Some(0),
                from: "fail2ban",
                ..
            }
        ));
        assert!(matches!(parse("postfix/local", "892A0205B6: to=ghd@localhost, relay=local, delay=0.05, delays=0.02/0/0/0.02, dsn=5.1.1, status=bounced (unknown user: \"ghd\")"), EventKind::Delivery { to: "ghd@localhost", status: DeliveryStatus::Bounced, .. }));
        assert!(matches!(
            parse(
                "postfix/smtpd",
                "disconnect from unknown[72.10.165.66] ehlo=2 starttls=1 mail=1 rcpt=0/1 data=0/1 quit=1 commands=5/7"
            ),
            EventKind::Disconnect {
                commands: Some("ehlo=2 starttls=1 mail=1 rcpt=0/1 data=0/1 quit=1 commands=5/7"),
                ..
            }
        ));
        assert!(matches!(
            parse("postfix/anvil", "statistics: max connection rate 1/60s"),
            EventKind::Info { .. }
        ));
        assert!(matches!(
            parse("postfix/smtpd", "something new entirely"),
            EventKind::Unrecognised
        ));
    }
}
