//! Exim's main log, line by line: its own format
//! `YYYY-MM-DD HH:MM:SS[.mmm] [±hhmm] [[pid]] [ID] …` (any `log_selector`), and the same
//! text behind a syslog envelope (`exim[123]: …`, parsed from the message on).
//!
//! A line is either about one message (it names its message id, then a flag: `<=` arrival,
//! `=>` delivery, `->` another address of the same delivery, `>>` cutthrough, `*>`
//! suppressed, `==` deferral, `**` failure, or a word: `Completed`, `Message is frozen`…) or
//! about a connection (`H=… rejected RCPT <…>: reason`). Fields are `K=value` words; a value
//! may be quoted (`T="…"`, `C="…"`), and `H=` spans the host name, its HELO in parentheses and
//! the address in brackets.
//!
//! This module only reads lines into [`EximLine`] (and a reject log's header lines into
//! [`HeaderLine`]); `trace::assembler` folds them into traces.

use super::text::StrFind;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::syslog::Zone;

/// Whether `word` is an Exim message id: `1rABCD-000123-AB` (6-6-2, before 4.97) or the
/// 23-character form of Exim 4.97 and later (6-11-4), in base 62.
pub fn is_message_id(word: &str) -> bool {
    let b = word.as_bytes();
    let base62 = |s: &[u8]| s.iter().all(u8::is_ascii_alphanumeric);
    match b.len() {
        16 => b[6] == b'-' && b[13] == b'-' && base62(&b[..6]) && base62(&b[7..13]) && base62(&b[14..]),
        23 => b[6] == b'-' && b[18] == b'-' && base62(&b[..6]) && base62(&b[7..18]) && base62(&b[19..]),
        _ => false,
    }
}

/// The time and process of a main-log line, and the rest of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp<'a> {
    pub time: DateTime<Utc>,
    pub pid: Option<u32>,
    pub body: &'a str,
}

/// Reads `YYYY-MM-DD HH:MM:SS[.fff] [±hhmm] [[pid]] `; a time without an offset is in `zone`.
pub fn stamp<'a>(line: &'a str, zone: &Zone) -> Option<Stamp<'a>> {
    let b = line.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| line.get(r)?.parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let mut micros = 0u32;
    let mut rest = line.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 6 {
            return None;
        }
        micros = frac[..digits].parse::<u32>().ok()? * 10u32.pow(6 - digits as u32);
        rest = &frac[digits..];
    }
    let time = NaiveTime::from_hms_micro_opt(num(11..13)?, num(14..16)?, num(17..19)?, micros)?;
    let local = NaiveDateTime::new(date, time);
    rest = rest.strip_prefix(' ')?;
    // +tz_offset: `+0100` / `-0500`
    let mut offset = None;
    if let [sign @ (b'+' | b'-'), d @ ..] = rest.as_bytes() {
        if d.len() >= 5 && d[..4].iter().all(u8::is_ascii_digit) && d[4] == b' ' {
            let hhmm: i32 = rest[1..5].parse().ok()?;
            let secs = (hhmm / 100) * 3600 + (hhmm % 100) * 60;
            offset = FixedOffset::east_opt(if *sign == b'-' { -secs } else { secs });
            rest = &rest[6..];
        }
    }
    let utc = match offset {
        Some(o) => o.from_local_datetime(&local).single()?.with_timezone(&Utc),
        None => zone.to_utc(local),
    };
    // +pid: `[1234] `
    let mut pid = None;
    if let Some(p) = rest.strip_prefix('[') {
        if let Some(end) = p.find_str("] ") {
            if let Ok(n) = p[..end].parse() {
                pid = Some(n);
                rest = &p[end + 2..];
            }
        }
    }
    Some(Stamp {
        time: utc,
        pid,
        body: rest,
    })
}

/// The SMTP peer of `H=`: `name (helo) [ip]:port`, any part missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Host<'a> {
    pub name: Option<&'a str>,
    pub helo: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub port: Option<u16>,
}

/// A message's arrival (`<=`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arrival<'a> {
    /// Envelope sender; empty for the null sender `<>`.
    pub from: &'a str,
    pub host: Option<Host<'a>>,
    /// `P=`: esmtp, esmtps, esmtpsa, local…
    pub protocol: Option<&'a str>,
    /// `A=`: the authenticator and, after `:`, the user.
    pub auth: Option<&'a str>,
    /// `U=`: the local user that submitted it.
    pub user: Option<&'a str>,
    pub size: Option<u64>,
    /// `id=`: the Message-ID header.
    pub message_id: Option<&'a str>,
    /// `T=`: the subject, with its quoting undone.
    pub subject: Option<String>,
    /// `R=`: on a bounce, the message id it reports on.
    pub bounce_of: Option<&'a str>,
    /// `for a b c` (`+received_recipients`).
    pub recipients: Vec<&'a str>,
    /// `DKIM=domain`: the domain of a signature that verified.
    pub dkim: Option<&'a str>,
}

/// Which kind of delivery line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// `=>`: the first address of a delivery.
    First,
    /// `->`: another address delivered in the same transaction.
    Another,
    /// `>>`: delivered during reception (cutthrough).
    Cutthrough,
    /// `*>`: suppressed by `-N`.
    Suppressed,
}

/// A delivery (`=>`, `->`, `>>`, `*>`), deferral (`==`) or failure (`**`) of one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// The address as delivered (`:blackhole:` for a blackhole router).
    pub to: &'a str,
    /// The address before routing (`final <original>`), when logged.
    pub orig_to: Option<&'a str>,
    pub router: Option<&'a str>,
    pub transport: Option<&'a str>,
    pub host: Option<Host<'a>>,
    /// `C="…"`: the remote server's reply (`+smtp_confirmation`).
    pub confirmation: Option<String>,
    /// After `: ` on a deferral or failure: why.
    pub error: Option<&'a str>,
    /// A pipe (`|/usr/bin/x`) or file (`/home/u/mbox`, `save mbox`) a filter or alias
    /// delivered to; `to` is then the address it was made for.
    pub target: Option<&'a str>,
}

/// A connection, sender or recipient refused during the SMTP dialogue (a message id only when
/// refused after DATA), or a recipient dropped by a `discard` ACL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reject<'a> {
    /// The message id, when refused after DATA.
    pub id: Option<&'a str>,
    /// `RCPT`, `MAIL`, `DATA` (after DATA), `EHLO`/`HELO` or `connection`.
    pub stage: &'a str,
    /// `temporarily rejected` (a 4xx reply).
    pub temporary: bool,
    /// `RCPT <…>: discarded by RCPT ACL`: accepted and dropped, not refused.
    pub discarded: bool,
    pub host: Option<Host<'a>>,
    /// `F=<…>`.
    pub from: Option<&'a str>,
    /// The refused recipient (`rejected RCPT <…>`).
    pub to: Option<&'a str>,
    pub reason: &'a str,
}

/// One main-log line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EximLine<'a> {
    Arrival {
        id: &'a str,
        arrival: Arrival<'a>,
    },
    Delivery {
        id: &'a str,
        kind: DeliveryKind,
        attempt: Attempt<'a>,
    },
    Deferred {
        id: &'a str,
        attempt: Attempt<'a>,
    },
    Failed {
        id: &'a str,
        attempt: Attempt<'a>,
    },
    Completed {
        id: &'a str,
    },
    Frozen {
        id: &'a str,
    },
    Unfrozen {
        id: &'a str,
    },
    Rejected(Reject<'a>),
    /// `cancelled by timeout_frozen_after`: a frozen message given up.
    Cancelled {
        id: &'a str,
        text: &'a str,
    },
    /// `removed by USER` (`exim -Mrm`).
    Removed {
        id: &'a str,
        by: &'a str,
    },
    /// A line worth showing among the message's actions: `SA: Action: …` (sa-exim),
    /// `Warning: …` (an ACL `warn`), `SMTP data timeout (message abandoned) …`.
    Note {
        id: &'a str,
        text: &'a str,
    },
    /// `host [ip] Connection timed out` (or another error of that connection): the host the
    /// next deferral is about.
    HostError {
        id: &'a str,
        name: &'a str,
        ip: &'a str,
    },
    /// `DKIM: d=… s=… […]`: one signature's verification.
    Dkim {
        id: &'a str,
        /// `pass`, `fail`, `temperror`, `permerror` or `none`.
        result: &'static str,
        domain: Option<&'a str>,
    },
    /// `PRDR R=<to> acceptance|refusal|temporary refusal`: one recipient's answer after DATA.
    Prdr {
        id: &'a str,
        to: &'a str,
        accepted: bool,
        temporary: bool,
    },
    /// The message was never accepted, and nothing was refused: `SMTP data timeout (message
    /// abandoned) on connection from …`, `SMTP connection from … lost while reading message
    /// data`.
    Abandoned {
        id: &'a str,
        host: Option<Host<'a>>,
        from: Option<&'a str>,
        text: &'a str,
    },
    /// `=> blackhole (RCPT ACL discarded recipients)`: every recipient was dropped by a
    /// `discard` ACL; the text in parentheses.
    AclDiscard {
        id: &'a str,
        text: &'a str,
    },
    /// A known line about a message that changes nothing in it (on its timeline): OCSP,
    /// `event …`, `Accept non-SMTP`, `NOTQUIT reason:`, TLS and authenticator failures of a
    /// delivery, `sender address changed`, `Spool file is locked`…
    Logged {
        id: &'a str,
        text: &'a str,
    },
    /// A line about a message that is not understood (an ACL `logwrite`, or a shape this
    /// reader does not know): on the message's timeline, counted as unrecognised.
    Other {
        id: &'a str,
        text: &'a str,
    },
    /// A line of the header block the reject log writes after a reject (`Envelope-from:`,
    /// `Envelope-to:`, flagged header lines, folded continuations), alone in the reject log or
    /// as part `[n\m]` > 1 of a line split for syslog.
    Header(HeaderLine<'a>),
    /// About no message: queue runs, connections, TLS errors, daemon start, ACL warnings
    /// during the dialogue, VRFY/ETRN refusals, the paniclog's errors.
    Info,
    /// Text with no message id that is none of Exim's known lines (garbage behind
    /// `exim[pid]:`, an ACL `logwrite` outside a message): unrecognised.
    Unknown,
}

impl EximLine<'_> {
    /// Whether anything in the line was understood (an [`EximLine::Other`] or
    /// [`EximLine::Unknown`] line counts as unrecognised, though `Other` still joins its
    /// message's timeline).
    pub fn understood(&self) -> bool {
        !matches!(self, EximLine::Other { .. } | EximLine::Unknown)
    }

    /// The message id the line names, if any.
    pub fn id(&self) -> Option<&str> {
        match self {
            EximLine::Arrival { id, .. }
            | EximLine::Delivery { id, .. }
            | EximLine::Deferred { id, .. }
            | EximLine::Failed { id, .. }
            | EximLine::Completed { id }
            | EximLine::Frozen { id }
            | EximLine::Unfrozen { id }
            | EximLine::Cancelled { id, .. }
            | EximLine::Removed { id, .. }
            | EximLine::Note { id, .. }
            | EximLine::HostError { id, .. }
            | EximLine::Dkim { id, .. }
            | EximLine::Prdr { id, .. }
            | EximLine::Abandoned { id, .. }
            | EximLine::AclDiscard { id, .. }
            | EximLine::Logged { id, .. }
            | EximLine::Other { id, .. } => Some(id),
            EximLine::Rejected(r) => r.id,
            EximLine::Header(_) | EximLine::Info | EximLine::Unknown => None,
        }
    }
}

/// One line of a reject log's header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderLine<'a> {
    /// `Envelope-to: <a>` (more addresses may follow on folded lines).
    EnvelopeTo(Vec<&'a str>),
    /// A folded line: its `<address>`es when it continues `Envelope-to:`.
    Continuation(Vec<&'a str>),
    /// `I Message-ID: <…>`.
    MessageId(&'a str),
    /// `  Subject: …` (its first line).
    Subject(&'a str),
    /// `F From: …` (its first line).
    From(&'a str),
    /// `Envelope-from:` or a header line (`P Received: …`, `  Subject: …`).
    Other,
}

/// Reads a line of a reject log's header block, if `line` is one.
pub fn header_line(line: &str) -> Option<HeaderLine<'_>> {
    let b = line.as_bytes();
    if let Some(rest) = line.strip_prefix("Envelope-to:") {
        return Some(HeaderLine::EnvelopeTo(addresses(rest)));
    }
    if line.starts_with("Envelope-from:") {
        return Some(HeaderLine::Other);
    }
    // a header as the spool writes it: a flag (` ` or one of `*BCFIPRST`), a space, `Name:`
    if b.len() > 3 && b"*BCFIPRST ".contains(&b[0]) && b[1] == b' ' {
        let header = &line[2..];
        if let Some(end) = header.find_byte(b':') {
            let (name, value) = (&header[..end], header[end + 1..].trim());
            if end > 0 && name.bytes().all(|c| c.is_ascii_graphic()) {
                return Some(if name.eq_ignore_ascii_case("Message-ID") {
                    HeaderLine::MessageId(bare(value))
                } else if name.eq_ignore_ascii_case("Subject") {
                    HeaderLine::Subject(value)
                } else if name.eq_ignore_ascii_case("From") {
                    HeaderLine::From(value)
                } else {
                    HeaderLine::Other
                });
            }
        }
    }
    if b.first().is_some_and(|&c| c == b' ' || c == b'\t') && !line.trim().is_empty() {
        return Some(HeaderLine::Continuation(addresses(line)));
    }
    None
}

/// The `<address>`es of an `Envelope-to:` line.
fn addresses(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|w| w.starts_with('<') && w.ends_with('>'))
        .map(bare)
        .collect()
}

/// Reads the body of a main-log line (after [`stamp`], or a syslog envelope's message).
pub fn parse(body: &str) -> EximLine<'_> {
    let (first, rest) = body.split_once_byte(b' ').unwrap_or((body, ""));
    if !is_message_id(first) {
        if let Some(r) = rejection(body) {
            return EximLine::Rejected(r);
        }
        // everything else Exim writes without a message id is about no message: queue runs,
        // connections, `H=… Warning: …`, and the paniclog's errors (`failed to open …`)
        return if about_no_message(body) {
            EximLine::Info
        } else {
            EximLine::Unknown
        };
    }
    let id = first;
    if rest.starts_with("H=") || rest.starts_with("U=") || rest.starts_with("F=") || rest.starts_with("rejected from <")
    {
        if let Some(r) = rejection(rest) {
            return EximLine::Rejected(Reject { id: Some(id), ..r });
        }
    }
    let (flag, tail) = rest.split_once_byte(b' ').unwrap_or((rest, ""));
    match flag {
        "<=" => EximLine::Arrival {
            id,
            arrival: arrival(tail),
        },
        // `=> blackhole (RCPT ACL discarded recipients)` (or DATA ACL): no address at all
        "=>" if tail.starts_with("blackhole (") && tail.ends_with("discarded recipients)") => EximLine::AclDiscard {
            id,
            text: &tail["blackhole (".len()..tail.len() - 1],
        },
        "=>" | "->" | ">>" | "*>" => EximLine::Delivery {
            id,
            kind: match flag {
                "=>" => DeliveryKind::First,
                "->" => DeliveryKind::Another,
                ">>" => DeliveryKind::Cutthrough,
                _ => DeliveryKind::Suppressed,
            },
            attempt: attempt(tail),
        },
        "==" => EximLine::Deferred {
            id,
            attempt: attempt(tail),
        },
        "**" => EximLine::Failed {
            id,
            attempt: attempt(tail),
        },
        "Completed" => EximLine::Completed { id },
        "DKIM:" => dkim(id, tail),
        "PRDR" if tail.starts_with("R=<") => {
            let (to, verdict) = tail[2..].split_once_byte(b' ').unwrap_or((&tail[2..], ""));
            EximLine::Prdr {
                id,
                to: bare(to),
                accepted: verdict == "acceptance",
                temporary: verdict.starts_with("temporary"),
            }
        }
        // `Message is frozen`, `frozen by root` (-Mf), `Frozen (delivery error message)`
        _ if rest.starts_with("Message is frozen")
            || rest == "frozen"
            || rest.starts_with("frozen ")
            || rest.starts_with("Frozen ") =>
        {
            EximLine::Frozen { id }
        }
        // `unfrozen by root` (-Mt), `Unfrozen by forced delivery` (-M), `Unfrozen by errmsg timer`
        _ if rest.starts_with("unfrozen") || rest.starts_with("Unfrozen") => EximLine::Unfrozen { id },
        _ if rest.starts_with("cancelled by timeout_frozen_after") => EximLine::Cancelled { id, text: rest },
        _ if rest.starts_with("removed by ") => EximLine::Removed {
            id,
            by: rest["removed by ".len()..].trim_end(),
        },
        // `local_scan() function timed out - message temporarily rejected (size N)`, and its
        // `crashed with signal N` sibling: refused (4xx) after DATA
        _ if rest.starts_with("local_scan() function ") => EximLine::Rejected(Reject {
            id: Some(id),
            stage: "DATA",
            temporary: true,
            reason: rest,
            ..Reject::default()
        }),
        _ if rest.starts_with("SMTP data timeout (message abandoned)")
            || (rest.starts_with("SMTP connection from ") && rest.contains(" lost while reading message data")) =>
        {
            abandoned(id, rest)
        }
        _ if rest.starts_with("SA: ")
            || rest.starts_with("Warning: ")
            || (rest.starts_with("H=") && rest.contains(" Warning: ")) =>
        {
            EximLine::Note { id, text: rest }
        }
        _ if known_message_line(rest) => EximLine::Logged { id, text: rest },
        _ => match host_error(rest) {
            Some((name, ip)) => EximLine::HostError { id, name, ip },
            None => EximLine::Other { id, text: rest },
        },
    }
}

/// `host [ip] …`: an error of the connection to that host.
fn host_error(text: &str) -> Option<(&str, &str)> {
    let (name, rest) = text.split_once_str(" [")?;
    let (ip, _) = rest.split_once_byte(b']')?;
    (!name.is_empty() && !name.contains(' ') && !name.contains('=') && ip.parse::<std::net::IpAddr>().is_ok())
        .then_some((name, ip))
}

/// Lines Exim writes about a message that change nothing in its trace.
fn known_message_line(text: &str) -> bool {
    const PREFIXES: [&str; 11] = [
        "client claims: ",
        "event ",
        "Accept non-SMTP",
        "NOTQUIT reason: ",
        "sender address changed",
        "Spool file is locked",
        "Spool file for ",
        "Message is locked",
        "no immediate delivery",
        "SMTP connection from ",
        "SMTP error from remote mail server",
    ];
    PREFIXES.iter().any(|p| text.starts_with(p))
        || text
            .get(.."client claims: ocsp".len())
            .is_some_and(|p| p.eq_ignore_ascii_case("client claims: ocsp"))
        || text.contains(" authenticator failed ")
        || text.contains("a TLS session is required")
        || text.contains("TLS error on connection")
        || text.contains(" transport output: ")
}

/// Exim's lines about no message (everything else without an id is unrecognised).
fn about_no_message(body: &str) -> bool {
    const PREFIXES: [&str; 40] = [
        "Start queue run",
        "End queue run",
        "Start ODMR",
        "exim ",
        "daemon ",
        "Daemon ",
        "SMTP connection from ",
        "SMTP call from ",
        "SMTP protocol ",
        "SMTP command timeout",
        "SMTP data timeout",
        "SMTP syntax error",
        "SMTP connection lost",
        "no MAIL in SMTP connection",
        "no host name found for IP address",
        "no IP address found for host",
        "unexpected disconnection while reading SMTP command",
        "TLS error on connection",
        "TLS recv error",
        "TLS send error",
        "TLS client disconnected",
        "failed to ",
        "Failed to ",
        "Connection from ",
        "Connection refused",
        "refused connection from ",
        "rejected connection from ",
        "too many connections",
        "expansion of ",
        "Exim configuration error",
        "cannot ",
        "Cannot ",
        "spam acl condition:",
        "malware acl condition:",
        "lowest numbered MX record points to local host",
        "ETRN ",
        "ATRN ",
        "DKIM: ",
        "DNS list ",
        "Warning: ",
    ];
    let b = body.trim_start();
    PREFIXES.iter().any(|p| b.starts_with(p))
        || b.contains(" authenticator failed for ")
        || b.contains(" authenticator failed H=")
        || (b.starts_with("H=") || b.starts_with("U=") || b.starts_with("F="))
        || b.starts_with("ALERT: ")
        || b.starts_with("LOG: ")
        || b.starts_with("PANIC")
        || b.contains("retry database")
        || b.contains(" DB file ")
}

/// `DKIM: d=dom s=sel c=… a=… b=… [verification succeeded]` and its failures.
fn dkim<'a>(id: &'a str, tail: &'a str) -> EximLine<'a> {
    let domain = tail
        .split(' ')
        .find_map(|w| w.strip_prefix("d="))
        .filter(|d| !d.is_empty());
    let verdict = tail
        .rfind('[')
        .map(|i| tail[i + 1..].trim_end_matches(']'))
        .unwrap_or("");
    let result = if verdict.starts_with("verification succeeded") {
        "pass"
    } else if verdict.starts_with("verification failed") {
        "fail"
    } else if verdict.starts_with("invalid - public key record (currently?) unavailable") {
        "temperror"
    } else if verdict.starts_with("invalid") || verdict.starts_with("failed key import") {
        "permerror"
    } else {
        "none"
    };
    EximLine::Dkim { id, result, domain }
}

/// `SMTP data timeout (message abandoned) on connection from H [F=<s>] …` and `SMTP
/// connection from H lost while reading message data`.
fn abandoned<'a>(id: &'a str, text: &'a str) -> EximLine<'a> {
    let peer = text.split_once_str("connection from ").map_or("", |(_, p)| p);
    let peer = peer.split(" lost while reading").next().unwrap_or(peer);
    let mut words = Words::new(peer).peekable();
    let mut host_found = None;
    if let Some(first) = words.next() {
        if !first.contains('=') {
            host_found = Some(host(first, &mut words));
        }
    }
    let mut from = None;
    each_field(&mut words, None, |k, v| {
        if k == "F" {
            from = Some(bare(v));
        }
    });
    EximLine::Abandoned {
        id,
        host: host_found.filter(|h| h.ip.is_some()),
        from,
        text,
    }
}

/// The words of a field list, a quoted value kept whole (`T="a b"` is one word), read
/// without allocating.
#[derive(Clone)]
struct Words<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        Words { text, at: 0 }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        let mut i = self.at;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let start = i;
        let mut quoted = false;
        while i < b.len() && (quoted || b[i] != b' ') {
            if b[i] == b'\\' && quoted {
                i += 1;
            } else if b[i] == b'"' {
                quoted = !quoted;
            }
            i += 1;
        }
        let end = i.min(b.len());
        self.at = end;
        (end > start).then(|| &self.text[start..end])
    }
}

/// Where `needle` first stands outside double quotes (a `C="250 Ok: queued as …"` value holds
/// `: ` too).
fn find_unquoted(text: &str, needle: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            _ if !quoted && b[i..].starts_with(needle.as_bytes()) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A quoted value with its escapes undone (`"a \"b\""` → `a "b"`, and Exim's octal escapes of
/// bytes outside ASCII, `Caf\303\251` → `Café`); unquoted values as they are.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"') else {
        return value.to_string();
    };
    let inner = inner.strip_suffix('"').unwrap_or(inner).as_bytes();
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' if i + 3 < inner.len() && inner[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) => {
                let n = inner[i + 1..i + 4]
                    .iter()
                    .fold(0u32, |n, c| n * 8 + u32::from(c - b'0'));
                out.push(n as u8);
                i += 4;
            }
            b'\\' if i + 1 < inner.len() => {
                out.push(inner[i + 1]);
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The rest of `H=` after its first word (without `H=`): the HELO in parentheses and the
/// address in brackets, when the next words are those.
fn host<'a>(first: &'a str, more: &mut std::iter::Peekable<Words<'a>>) -> Host<'a> {
    let mut h = Host::default();
    let mut word = Some(first);
    if let Some(w) = word {
        if !w.starts_with('(') && !w.starts_with('[') {
            h.name = Some(w);
            word = more
                .peek()
                .copied()
                .filter(|n| n.starts_with('(') || n.starts_with('['));
            if word.is_some() {
                more.next();
            }
        }
    }
    if let Some(w) = word {
        if let Some(helo) = w.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
            h.helo = Some(helo);
            word = more.peek().copied().filter(|n| n.starts_with('['));
            if word.is_some() {
                more.next();
            }
        }
    }
    if let Some(w) = word {
        if let Some(addr) = w.strip_prefix('[') {
            if let Some((ip, port)) = addr.split_once_byte(b']') {
                h.ip = Some(ip);
                h.port = port
                    .strip_prefix(':')
                    .and_then(|p| p.trim_end_matches(':').parse().ok());
            }
        }
    }
    h
}

/// Walks the `K=v` fields of `words` up to a bare `stop` word (which is consumed), handing
/// each to `field`; returns the `H=` host, which takes the words of its HELO and address with
/// it.
fn each_field<'a>(
    words: &mut std::iter::Peekable<Words<'a>>,
    stop: Option<&str>,
    mut field: impl FnMut(&'a str, &'a str),
) -> Option<Host<'a>> {
    let mut found = None;
    while let Some(word) = words.next() {
        match word.split_once_byte(b'=') {
            Some(("H", v)) => found = Some(host(v, words)),
            Some((k, v)) => field(k, v),
            None if Some(word) == stop => break,
            None => {}
        }
    }
    found
}

/// `<a@b>` or `a@b` → `a@b`.
fn bare(address: &str) -> &str {
    address.trim_start_matches('<').trim_end_matches('>')
}

fn arrival(tail: &str) -> Arrival<'_> {
    let mut w = Words::new(tail).peekable();
    let mut a = Arrival::default();
    let Some(sender) = w.next() else {
        return a;
    };
    a.from = bare(sender);
    // `for a b c` ends the line (a quoted `T=` holding " for " is one word)
    a.host = each_field(&mut w, Some("for"), |k, v| match k {
        "P" => a.protocol = Some(v),
        "A" => a.auth = Some(v),
        "U" => a.user = Some(v),
        "S" => a.size = v.parse().ok(),
        "id" => a.message_id = Some(bare(v)),
        "T" => a.subject = Some(unquote(v)),
        "R" => a.bounce_of = Some(v),
        "DKIM" => a.dkim = Some(v),
        _ => {}
    });
    a.recipients = w.map(bare).collect();
    a
}

fn attempt(tail: &str) -> Attempt<'_> {
    // `address [<original>] K=v … [: error]`; the address may itself hold `: ` (`:blackhole:`),
    // so the error is looked for after it
    let mut a = Attempt::default();
    if let Some((target, to, orig, rest)) = pipe_or_file(tail) {
        a.target = Some(target);
        a.to = to;
        a.orig_to = orig;
        attempt_fields(&mut a, rest);
        return a;
    }
    let (to, mut rest) = tail.split_once_byte(b' ').unwrap_or((tail, ""));
    // `** a@b: retry timeout exceeded`: the error right after the address
    if let Some(address) = to.strip_suffix(':').filter(|t| !t.starts_with(':')) {
        a.to = bare(address);
        a.error = Some(rest);
        return a;
    }
    a.to = bare(to);
    if let Some(inner) = rest.strip_prefix('<') {
        if let Some(end) = inner.find_byte(b'>') {
            a.orig_to = Some(&inner[..end]);
            rest = inner[end + 1..].trim_start();
        }
    }
    attempt_fields(&mut a, rest);
    a
}

/// The `K=v` fields of a delivery line and the error after `: `.
fn attempt_fields<'a>(a: &mut Attempt<'a>, rest: &'a str) {
    let fields = match find_unquoted(rest, ": ") {
        Some(p) => {
            a.error = Some(&rest[p + 2..]);
            &rest[..p]
        }
        None => rest.strip_suffix(':').unwrap_or(rest),
    };
    a.host = each_field(&mut Words::new(fields).peekable(), None, |k, v| match k {
        "R" => a.router = Some(v),
        "T" => a.transport = Some(v),
        "C" => a.confirmation = Some(unquote(v)),
        _ => {}
    });
}

/// A delivery to a pipe or a file: `|/usr/bin/cmd args [(parent)] <top> …`, `/home/u/mbox
/// <top> …`, `save mbox <top>` (a path the transport completes). Returns the target, the
/// address it was made for (the parent, else the top address), the top address when a parent
/// is named, and the rest of the line. The command may hold spaces: the target ends at the
/// first `<address>` word followed by a field, `:` or the end.
fn pipe_or_file(tail: &str) -> Option<(&str, &str, Option<&str>, &str)> {
    if !(tail.starts_with('|') || tail.starts_with('/') || tail.starts_with("save ")) {
        return None;
    }
    let mut from = 0;
    while let Some(i) = tail[from..].find_str(" <").map(|i| i + from) {
        from = i + 2;
        let Some(end) = tail[i + 2..].find_byte(b'>').map(|e| e + i + 2) else {
            break;
        };
        let after = &tail[end + 1..];
        if !(after.is_empty() || after.starts_with(' ') || after.starts_with(':')) {
            continue;
        }
        let top = &tail[i + 2..end];
        if top.contains(' ') {
            continue;
        }
        let mut target = &tail[..i];
        let mut parent = None;
        if target.ends_with(')') {
            if let Some(p) = target.rfind_str(" (") {
                parent = Some(&target[p + 2..target.len() - 1]);
                target = &target[..p];
            }
        }
        let rest = after.trim_start();
        return Some(match parent {
            Some(p) => (target, p, Some(top), rest),
            None => (target, top, None, rest),
        });
    }
    None
}

/// `H=… [F=<…>] rejected RCPT <to>: reason`, its `temporarily rejected`, MAIL, after-DATA,
/// EHLO and connection forms, and `H=… RCPT <to>: discarded by RCPT ACL`.
fn rejection(body: &str) -> Option<Reject<'_>> {
    let mut r = Reject::default();
    // `rejected from <sender> H=… U=…: message too large: …` / `: Non-CRLF-terminated
    // header, under CHUNKING: message abandoned`: the message refused while it was received
    if let Some(rest) = body.strip_prefix("rejected from <") {
        let (from, rest) = rest.split_once_byte(b'>')?;
        let (fields, reason) = rest.split_once_str(": ").unwrap_or((rest, ""));
        r.stage = "DATA";
        r.from = Some(from);
        r.reason = reason;
        r.host = each_field(&mut Words::new(fields.trim()).peekable(), None, |_, _| {});
        return Some(r);
    }
    // every shape below says `reject` or `discarded by`: most lines are ruled out by one
    // vectorised search
    let bytes = body.as_bytes();
    if memchr::memmem::find(bytes, b"reject").is_none() && memchr::memmem::find(bytes, b"discarded by ").is_none() {
        return None;
    }
    let cutthrough = body.find_str(" tmp-reject from cutthrough after DATA");
    let stage_tmp_cutthrough = cutthrough.is_some();
    let (head, tail) = if let Some(at) = cutthrough {
        // a cutthrough delivery's 4xx after DATA, given to the client: `H=… addr F=<s>
        // tmp-reject from cutthrough after DATA: R=… T=… H=… C="…"`
        r.temporary = true;
        (&body[..at], &body[at + " tmp-reject from cutthrough ".len()..])
    } else if let Some(at) = body.find_str(" temporarily rejected ") {
        r.temporary = true;
        (&body[..at], &body[at + " temporarily rejected ".len()..])
    } else if let Some(at) = body.find_str(" rejected ") {
        (&body[..at], &body[at + " rejected ".len()..])
    } else {
        let at = body.find_str(" RCPT <")?;
        let tail = &body[at + 1..];
        if !tail.contains(">: discarded by ") {
            return None;
        }
        r.discarded = true;
        (&body[..at], tail)
    };
    if !head.starts_with("H=") && !head.starts_with("U=") && !head.starts_with("F=") {
        return None;
    }
    let (stage, after) = tail.split_once_byte(b' ').unwrap_or((tail, ""));
    r.stage = match stage {
        "RCPT" | "MAIL" | "EHLO" | "HELO" => stage,
        "after" if after.starts_with("DATA") => "DATA",
        // sa-exim and other local_scan() functions refusing the message after DATA
        "by" if after.starts_with("local_scan()") => "DATA",
        "connection" => "connection",
        // VRFY, EXPN, ETRN, ATRN, a bare `rejected after DATA` without text…: no message
        _ => return None,
    };
    let after = match after
        .strip_prefix("DATA")
        .or_else(|| after.strip_prefix("local_scan()"))
    {
        Some(rest) if r.stage == "DATA" => rest,
        _ => after,
    };
    r.host = each_field(&mut Words::new(head).peekable(), None, |k, v| {
        if k == "F" {
            r.from = Some(bare(v));
        }
    });
    // `RCPT <x>: why`; `RCPT <x>` when the ACL gave no text; `connection in "connect" ACL`
    let (target, reason) = match after.split_once_str(": ") {
        Some((t, reason)) => (t, reason),
        None if matches!(r.stage, "RCPT" | "MAIL") => (after, ""),
        None => ("", after.trim_start_matches(':').trim()),
    };
    match r.stage {
        "RCPT" => r.to = target.split_whitespace().next().map(bare),
        // `rejected MAIL <sender>`: no `F=` before the sender is accepted
        "MAIL" if r.from.is_none() => r.from = target.split_whitespace().next().map(bare),
        _ => {}
    }
    r.reason = reason;
    if stage_tmp_cutthrough {
        // the recipient is the word of the head that is an address; the reason the `C=` reply
        r.to = head
            .split(' ')
            .find(|w| w.contains('@') && !w.contains('=') && !w.starts_with('(') && !w.starts_with('['));
        if let Some(c) = reason.find_str("C=\"") {
            r.reason = reason[c + 3..].trim_end().trim_end_matches('"');
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(line: &str) -> EximLine<'_> {
        parse(stamp(line, &Zone::Utc).expect("a main-log line").body)
    }

    /// A time stamp cut by a multi-byte character is no stamp (it was a panic: found by
    /// mutating corpus lines).
    #[test]
    fn a_stamp_cut_by_a_multibyte_character_is_none() {
        assert_eq!(stamp("1999-03-02 09:44:3é3 bits\t256", &Zone::Utc), None);
        assert_eq!(stamp("2026-11-10 07:56:€40 1xQgie-0007LN-83 ", &Zone::Utc), None);
    }

    #[test]
    fn message_ids_old_and_new() {
        assert!(is_message_id("1xQZJ4-0004mR-FT"));
        assert!(is_message_id("1rABCD-00000000Ab1-0aZz"));
        assert!(!is_message_id("1xQZJ4-0004mR-F"));
        assert!(!is_message_id("H=(mail.example)"));
    }

    #[test]
    fn stamps_with_and_without_log_selector_extras() {
        let s = stamp("2026-11-10 00:01:46 1xQZJ4-0004mR-FT Completed", &Zone::Utc).unwrap();
        assert_eq!(s.time.to_rfc3339(), "2026-11-10T00:01:46+00:00");
        assert_eq!((s.pid, s.body), (None, "1xQZJ4-0004mR-FT Completed"));
        let s = stamp(
            "2026-11-10 01:01:46.250 +0100 [4711] 1xQZJ4-0004mR-FT Completed",
            &Zone::Utc,
        )
        .unwrap();
        assert_eq!(s.time.to_rfc3339(), "2026-11-10T00:01:46.250+00:00");
        assert_eq!(s.pid, Some(4711));
        assert!(stamp("Nov 10 00:01:46 mx1 exim[1]: x", &Zone::Utc).is_none());
    }

    #[test]
    fn arrival_with_every_field() {
        let l = "2026-11-10 00:01:46 1xQZJ4-0004mR-FT <= trent@gmail.com H=mail-m7-f95.google.com [209.85.104.238]:6281 I=[198.51.100.20]:25 P=esmtp S=40448 id=CA3AOh@mail.gmail.com T=\"Re: Ticket [#83250] \\\"printer\\\" on floor 2\" from <trent@gmail.com> for marc@example.com anna@example.com";
        let EximLine::Arrival { id, arrival } = body(l) else {
            panic!()
        };
        assert_eq!(id, "1xQZJ4-0004mR-FT");
        assert_eq!(arrival.from, "trent@gmail.com");
        let h = arrival.host.unwrap();
        assert_eq!(
            (h.name, h.helo, h.ip, h.port),
            (Some("mail-m7-f95.google.com"), None, Some("209.85.104.238"), Some(6281))
        );
        assert_eq!(arrival.protocol, Some("esmtp"));
        assert_eq!(arrival.size, Some(40448));
        assert_eq!(arrival.message_id, Some("CA3AOh@mail.gmail.com"));
        assert_eq!(
            arrival.subject.as_deref(),
            Some("Re: Ticket [#83250] \"printer\" on floor 2")
        );
        assert_eq!(unquote(r#""Caf\303\251 \303\240 10h ?""#), "Café à 10h ?");
        assert_eq!(arrival.recipients, vec!["marc@example.com", "anna@example.com"]);
        let EximLine::Arrival { arrival, .. } =
            body("2026-11-10 00:41:00 1xQZv2-0004w0-JC <= <> R=1xQZv1-0004vj-5x U=Debian-exim P=local S=5397")
        else {
            panic!()
        };
        assert_eq!(
            (arrival.from, arrival.bounce_of, arrival.user),
            ("", Some("1xQZv1-0004vj-5x"), Some("Debian-exim"))
        );
    }

    #[test]
    fn deliveries_deferrals_and_failures() {
        let EximLine::Delivery { kind, attempt, .. } =
            body("2026-11-10 00:01:46 1xQZJ4-0004mR-FT => marc <marc@example.com> R=local_user T=mail_spool")
        else {
            panic!()
        };
        assert_eq!(kind, DeliveryKind::First);
        assert_eq!((attempt.to, attempt.orig_to), ("marc", Some("marc@example.com")));
        assert_eq!(
            (attempt.router, attempt.transport),
            (Some("local_user"), Some("mail_spool"))
        );
        let EximLine::Delivery { kind, attempt, .. } = body("2026-11-10 00:51:20 1xQa51-0004y3-Iw -> ines@gmail.com R=dnslookup T=remote_smtp H=gmail-smtp-in.l.google.com [142.250.27.211] X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=yes C=\"250 2.0.0 OK  1794271880 - gsmtp\"") else {
            panic!()
        };
        assert_eq!(kind, DeliveryKind::Another);
        assert_eq!(attempt.host.unwrap().ip, Some("142.250.27.211"));
        assert_eq!(
            attempt.confirmation.as_deref(),
            Some("250 2.0.0 OK  1794271880 - gsmtp")
        );
        let EximLine::Delivery { attempt, .. } = body("2026-11-10 01:06:30 1xQaJg-00050I-7U -> trent@outlook.com R=dnslookup T=remote_smtp H=outlook-com.olc.protection.outlook.com [52.101.68.133] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C=\"250 2.0.0 Ok: queued as EC38C1E80A\"") else {
            panic!()
        };
        assert_eq!(
            attempt.confirmation.as_deref(),
            Some("250 2.0.0 Ok: queued as EC38C1E80A")
        );
        assert_eq!(attempt.error, None);
        let EximLine::Deferred { attempt, .. } = body("2026-11-10 00:51:21 1xQa51-0004y3-Iw == sophie@outlook.com R=dnslookup T=remote_smtp defer (-44) H=outlook-com.olc.protection.outlook.com [52.101.68.24]: SMTP error from remote mail server after RCPT TO:<sophie@outlook.com>: 451 4.7.1 Greylisted, please try again later") else {
            panic!()
        };
        assert_eq!(attempt.to, "sophie@outlook.com");
        assert_eq!(
            attempt.host.unwrap().name,
            Some("outlook-com.olc.protection.outlook.com")
        );
        assert!(attempt
            .error
            .unwrap()
            .ends_with("451 4.7.1 Greylisted, please try again later"));
        let EximLine::Failed { attempt, .. } = body("2026-11-10 03:22:34 1xQcRN-0005bz-Bj ** eva3@example.com R=local_user T=mail_spool: mailbox is full (MTA-imposed quota exceeded while writing to /var/mail/eva3)") else {
            panic!()
        };
        assert_eq!(
            (attempt.to, attempt.transport),
            ("eva3@example.com", Some("mail_spool"))
        );
        assert!(attempt.error.unwrap().starts_with("mailbox is full"));
        let EximLine::Failed { attempt, .. } =
            body("2026-11-11 02:07:34 1xQb9D-0005Ed-Bm ** heidi@gmx.de: retry timeout exceeded")
        else {
            panic!()
        };
        assert_eq!(
            (attempt.to, attempt.error),
            ("heidi@gmx.de", Some("retry timeout exceeded"))
        );
        let EximLine::Delivery { attempt, .. } =
            body("2026-11-10 00:26:51 1xQZhL-0004rg-N5 => :blackhole: <ohoffmann@corp.example.net> R=blackhole_router")
        else {
            panic!()
        };
        assert_eq!(
            (attempt.to, attempt.orig_to),
            (":blackhole:", Some("ohoffmann@corp.example.net"))
        );
        assert_eq!(
            body("2026-11-10 00:01:46 1xQZJ4-0004mR-FT Completed"),
            EximLine::Completed { id: "1xQZJ4-0004mR-FT" }
        );
        assert_eq!(
            body("2026-11-10 00:01:46 1xQZJ4-0004mR-FT Message is frozen"),
            EximLine::Frozen { id: "1xQZJ4-0004mR-FT" }
        );
    }

    #[test]
    fn rejects_and_noise() {
        let EximLine::Rejected(r) = body("2026-11-10 00:03:19 H=(mail.cheap-pills.biz) [45.110.170.98]:31169 I=[198.51.100.20]:25 F=<admin467@hot-singles.info> rejected RCPT <noah@example.org>: Unknown user") else {
            panic!()
        };
        assert_eq!(r.stage, "RCPT");
        let h = r.host.unwrap();
        assert_eq!(
            (h.name, h.helo, h.ip),
            (None, Some("mail.cheap-pills.biz"), Some("45.110.170.98"))
        );
        assert_eq!(
            (r.from, r.to, r.reason),
            (
                Some("admin467@hot-singles.info"),
                Some("noah@example.org"),
                "Unknown user"
            )
        );
        assert_eq!(body("2026-11-10 00:00:37 Start queue run: pid=18354"), EximLine::Info);
        assert_eq!(
            body("2026-11-10 00:03:22 unexpected disconnection while reading SMTP command from H=(x) [45.110.170.98]:31169 D=2s"),
            EximLine::Info
        );
        assert_eq!(
            body("2026-11-10 00:03:22 H=[127.0.0.1] rejected VRFY foo@bar"),
            EximLine::Info
        );
        assert_eq!(
            body("2026-11-10 00:03:22 failed to open DB file /var/spool/exim4/db/retry: Permission denied"),
            EximLine::Info
        );
    }

    #[test]
    fn reject_forms() {
        let r = |l| match body(l) {
            EximLine::Rejected(r) => r,
            other => panic!("{other:?}"),
        };
        let t = r("2026-11-10 00:03:19 H=(test) [192.0.2.7] U=CALLER F=<a@test.example> temporarily rejected RCPT <b@test.example>: greylisted");
        assert_eq!(
            (t.stage, t.temporary, t.to, t.reason),
            ("RCPT", true, Some("b@test.example"), "greylisted")
        );
        let t = r("2026-11-10 00:03:19 H=(test) [192.0.2.7] F=<a@test.example> rejected RCPT <bad1@test.example>");
        assert_eq!((t.to, t.reason), (Some("bad1@test.example"), ""));
        let t = r("2026-11-10 00:03:19 1yAbCd-0001Xy-Q1 H=(abcd) [127.0.0.1] F=<u@test.example> rejected after DATA: spam score 15.2");
        assert_eq!(
            (t.id, t.stage, t.reason),
            (Some("1yAbCd-0001Xy-Q1"), "DATA", "spam score 15.2")
        );
        let t = r("2026-11-10 00:03:19 1yAbCd-0001Xy-Q1 H=(abcd) [127.0.0.1] F=<u@test.example> rejected after DATA");
        assert_eq!((t.stage, t.reason), ("DATA", ""));
        let t = r("2026-11-10 00:03:19 H=localhost (primary.test.example) [127.0.0.1] F=<c@test.example> RCPT <x@domA.example>: discarded by RCPT ACL");
        assert_eq!(
            (t.discarded, t.to, t.reason),
            (true, Some("x@domA.example"), "discarded by RCPT ACL")
        );
        let t = r("2026-11-10 00:03:19 H=[192.0.2.9] temporarily rejected connection in \"connect\" ACL");
        assert_eq!((t.stage, t.reason), ("connection", "in \"connect\" ACL"));
        let t = r("2026-11-10 00:03:19 H=(bad helo) [192.0.2.9] rejected EHLO from (bad helo) [192.0.2.9]: syntactically invalid argument(s): bad helo");
        assert_eq!(t.stage, "EHLO");
    }

    #[test]
    fn actions_and_header_block() {
        assert_eq!(
            body("2026-11-10 00:03:19 1yAbCd-0001Xy-Q1 removed by root"),
            EximLine::Removed {
                id: "1yAbCd-0001Xy-Q1",
                by: "root"
            }
        );
        assert!(matches!(
            body(
                "2026-11-10 00:03:19 1yAbCd-0001Xy-Q1 SA: Action: flagged as Spam but accepted: score=8.2 required=5.0"
            ),
            EximLine::Note { .. }
        ));
        let EximLine::Abandoned { host, from, .. } = body("2026-11-10 00:03:19 1yAbCd-0001Xy-Q1 SMTP data timeout (message abandoned) on connection from (t) [192.0.2.1] F=<a@b.example> D=5m")
        else {
            panic!()
        };
        assert_eq!((host.unwrap().ip, from), (Some("192.0.2.1"), Some("a@b.example")));
        assert_eq!(
            header_line("Envelope-to: <a@test.example>"),
            Some(HeaderLine::EnvelopeTo(vec!["a@test.example"]))
        );
        assert_eq!(
            header_line("    <b@test.example>"),
            Some(HeaderLine::Continuation(vec!["b@test.example"]))
        );
        assert_eq!(header_line("P Received: from [127.0.0.1]"), Some(HeaderLine::Other));
        assert_eq!(header_line("  Subject: hello"), Some(HeaderLine::Subject("hello")));
        assert_eq!(
            header_line("I Message-ID: <m-1@test.example>"),
            Some(HeaderLine::MessageId("m-1@test.example"))
        );
        assert_eq!(header_line("T To: a@test.example"), Some(HeaderLine::Other));
        assert_eq!(header_line("<<< RCPT TO:<x@y>"), None);
        assert_eq!(header_line(""), None);
    }
}
