//! From one raw log line to one [`Event`]: the syslog envelope first, then the parser of the
//! program family that wrote the line.
//!
//! Parsers borrow from the line and never fail: a line they do not understand becomes
//! [`EventKind::Unrecognised`], and a line without a syslog envelope is reported as
//! [`Parsed::NoEnvelope`], so the caller can count every line.

pub mod amavis;
pub mod dovecot;
pub mod exim;
pub mod fields;
pub mod opendkim;
pub mod opendmarc;
pub mod pmg;
pub mod postfix;
pub mod rspamd;
pub mod spf;
pub mod text;

use crate::event::{Event, EventKind, LineRef};
use crate::syslog::{parse_envelope, YearGuess, Zone};
use text::StrFind;

/// The program families mailtrace knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Postfix,
    Amavis,
    Exim,
    Rspamd,
    OpenDkim,
    OpenDmarc,
    Spf,
    Dovecot,
    Pmg,
    Other,
}

/// The result of parsing one line.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived, on the stack: boxing would cost an allocation per line
pub enum Parsed<'a> {
    Event(Event<'a>, Family),
    /// The line has no syslog envelope we can read.
    NoEnvelope,
}

/// Which family a syslog program name belongs to.
pub fn family(program: &str) -> Family {
    // the perl SPF policy server logs as `postfix/policy-spf`: before the Postfix check
    if spf::is_spf(program) {
        Family::Spf
    } else if postfix::is_postfix(program) {
        Family::Postfix
    } else if dovecot::is_dovecot(program) {
        Family::Dovecot
    } else if program == "opendkim" {
        Family::OpenDkim
    } else if program == "opendmarc" {
        Family::OpenDmarc
    } else if rspamd::is_rspamd(program) {
        Family::Rspamd
    } else if amavis::is_amavis(program) {
        Family::Amavis
    } else if pmg::is_pmg(program) {
        Family::Pmg
    } else if program == "exim" || program == "exim4" {
        Family::Exim
    } else {
        Family::Other
    }
}

/// Parses one line (without its newline).
pub fn parse_line<'a>(line: &'a str, at: LineRef, years: &mut YearGuess, zone: &Zone) -> Parsed<'a> {
    let Some((env, _stamp)) = parse_envelope(line, years, zone) else {
        // rspamd's own log: `2026-11-23 10:00:00 #1234(normal) <tag>; task; …` (no host)
        if let Some((local, body)) = rspamd::own_log(line) {
            return Parsed::Event(
                Event {
                    time: zone.to_utc(local),
                    host: "",
                    program: "rspamd",
                    pid: None,
                    line: at,
                    raw: line,
                    kind: rspamd::parse(body),
                },
                Family::Rspamd,
            );
        }
        // Exim's own main log: `2026-11-10 00:01:46 ID …`
        let Some(s) = exim::stamp(line, zone) else {
            // the header block Exim's reject log writes after a reject: no time of its own
            return match exim::header_line(line) {
                Some(h) => Parsed::Event(
                    Event {
                        time: chrono::DateTime::UNIX_EPOCH,
                        host: "",
                        program: "exim",
                        pid: None,
                        line: at,
                        raw: line,
                        kind: EventKind::Exim(exim::EximLine::Header(h)),
                    },
                    Family::Exim,
                ),
                None => Parsed::NoEnvelope,
            };
        };
        // a stamped line with no message id that is none of Exim's known lines (`CRIT:
        // Banning …` of another program) cannot be told to be Exim's
        let kind = exim_kind(s.body);
        if matches!(kind, EventKind::Unrecognised) {
            return Parsed::NoEnvelope;
        }
        return Parsed::Event(
            Event {
                time: s.time,
                host: "",
                program: "exim",
                pid: s.pid,
                line: at,
                raw: line,
                kind,
            },
            Family::Exim,
        );
    };
    let fam = family(env.program);
    let kind = match fam {
        Family::Postfix => postfix::parse(env.program, env.message),
        Family::Amavis => amavis::parse(env.message),
        Family::Spf => spf::parse(env.message),
        Family::Dovecot => dovecot::parse(env.message),
        Family::OpenDkim => opendkim::parse(env.message),
        Family::OpenDmarc => opendmarc::parse(env.message),
        Family::Rspamd => rspamd::parse(env.message),
        Family::Exim => exim_syslog_kind(env.message),
        Family::Pmg => pmg::parse(env.program, env.message),
        // a program mailtrace does not read: its line may still name a message
        // (`QID: header …`), and joins that message's timeline when it is open
        Family::Other => match fields::queue_id(env.message) {
            Some((qid, _)) => EventKind::Info { qid: Some(qid) },
            None => EventKind::Unrecognised,
        },
    };
    Parsed::Event(
        Event {
            time: env.time,
            host: env.host,
            program: env.program,
            pid: env.pid,
            line: at,
            raw: line,
            kind,
        },
        fam,
    )
}

/// An Exim line sent to syslog. A line of several lines (a reject with its header block) is
/// sent as parts, each prefixed `[n\\m] `: the first is the line, the rest its header block.
fn exim_syslog_kind(message: &str) -> EventKind<'_> {
    if let Some((part, rest)) = message
        .strip_prefix('[')
        .and_then(|m| m.split_once_str("] "))
        .and_then(|(nm, rest)| Some((nm.split_once('\\')?.0.parse::<u32>().ok()?, rest)))
    {
        if part > 1 {
            let header = exim::header_line(rest).unwrap_or(exim::HeaderLine::Other);
            return EventKind::Exim(exim::EximLine::Header(header));
        }
        return exim_kind(without_stamp(rest));
    }
    exim_kind(without_stamp(message))
}

/// Exim's own time stamp, which it also sends to syslog unless `syslog_timestamp` is false:
/// the envelope's time is used.
fn without_stamp(message: &str) -> &str {
    match exim::stamp(message, &Zone::Utc) {
        Some(s) => s.body,
        None => message,
    }
}

/// An Exim line as an event; one about no message is an `Info`.
fn exim_kind(body: &str) -> EventKind<'_> {
    match exim::parse(body) {
        exim::EximLine::Info => EventKind::Info { qid: None },
        exim::EximLine::Unknown => EventKind::Unrecognised,
        line => EventKind::Exim(line),
    }
}
