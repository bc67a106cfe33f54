//! amavis (amavisd-new) verdict lines: `Passed CLEAN …` / `Blocked SPAM …`.
//!
//! Only what links the two sides of the content filter and gives the message's fate is read
//! here: category, `Queue-ID`, `Message-ID`, `queued_as`, `quarantine`, the `{…}` tags, the
//! recipients, `Hits` (the spam score) and the virus name of `INFECTED (name)`. Amavis's
//! per-task trace lines (`ESMTP`, `Checking`, `TIMING`, `p001 …`, `… FWD from …`) and its
//! process notes are understood and change nothing; anything else is counted unrecognised.

use super::text::StrFind;
use crate::event::EventKind;

/// Whether a syslog program name is amavis.
pub fn is_amavis(program: &str) -> bool {
    matches!(program, "amavis" | "amavisd" | "amavisd-new" | "/usr/sbin/amavisd")
}

/// Parses an amavis message: `(29309-01) Passed CLEAN {RelayedInbound}, [ip]:port [ip] <from> -> <a>,<b>, Queue-ID: …`.
pub fn parse(message: &str) -> EventKind<'_> {
    let rest = match message.strip_prefix('(') {
        Some(r) => r.split_once_str(") ").map_or(r, |(_, r)| r),
        None => message,
    };
    let task = task_id(message);
    let (passed, rest) = if let Some(r) = rest.strip_prefix("Passed ") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("Blocked ") {
        (false, r)
    } else {
        let understood = is_known_note(message, rest);
        return match task {
            Some(task) => EventKind::FilterTask { task, understood },
            None if understood => EventKind::Info { qid: None },
            None => EventKind::Unrecognised,
        };
    };
    let cat_end = rest.find([' ', ',']).unwrap_or(rest.len());
    let category = &rest[..cat_end];
    let mut after = rest[cat_end..].trim_start();
    // `INFECTED (Eicar-Test-Signature)`, `BANNED (multipart/mixed | application/x-msdownload,.exe)`
    let mut detail = None;
    if let Some(r) = after.strip_prefix('(') {
        if let Some(end) = r.find_str(") ").or_else(|| r.find_str("),")) {
            detail = Some(&r[..end]);
            after = r[end + 1..].trim_start();
        }
    }
    let tags = after
        .strip_prefix('{')
        .and_then(|t| t.split_once_byte(b'}'))
        .map_or("", |(t, _)| t);
    let recipients = rest
        .split_once_str(" -> ")
        .map(|(_, r)| {
            let mut list = Vec::new();
            let mut s = r;
            while let Some(after) = s.strip_prefix('<') {
                let Some(end) = after.find_byte(b'>') else { break };
                list.push(&after[..end]);
                s = &after[end + 1..];
                match s.strip_prefix(',') {
                    Some(n) => s = n,
                    None => break,
                }
            }
            list
        })
        .unwrap_or_default();
    EventKind::ContentFilter {
        task,
        passed,
        category,
        qid: field(rest, ", Queue-ID: "),
        message_id: angle_field_colon(rest, "Message-ID: "),
        queued_as: field_list(rest, ", queued_as: "),
        quarantine: field(rest, ", quarantine: "),
        tags,
        recipients,
        hits: field(rest, ", Hits: ").and_then(|h| h.parse().ok()),
        reason: detail,
    }
}

/// The `(pid-n)` log id a line of one amavis task starts with (`(11412-17)`, `(29309-01-2)`).
fn task_id(message: &str) -> Option<&str> {
    let (id, _) = message.strip_prefix('(')?.split_once_str(") ")?;
    let digits_and_dashes = id.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    (digits_and_dashes && id.contains('-') && id.as_bytes()[0].is_ascii_digit()).then_some(id)
}

/// Lines amavis writes beside its verdicts: per-task trace lines (`(29309-01) ESMTP …`,
/// `Checking: …`, `p001 1 Content-Type: …`, `size: N, TIMING …`, `MAILID FWD from …`) and
/// process notes (`sd_notify`, `starting.`, …). None of them changes a trace.
fn is_known_note(message: &str, rest: &str) -> bool {
    const TASK: &[&str] = &[
        "ESMTP",
        "LMTP",
        "SMTP",
        "Checking",
        "size: ",
        "Open relay?",
        "bounce ",
        "SA info",
        "SA dbg",
        "SA warn",
        "_WARN",
        "_DIE",
        "Requesting process rundown",
        "lookup",
        "spam-tag",
        "SPAM-TAG",
        "Not-Delivered",
        "DSN",
        "local delivery",
        "mail checking ended",
        "do_notify_and_quarantine",
        "TIMING",
        "RUSAGE",
        "(!)",
        "WARN",
        "INFO",
        "wbl",
        "penpals",
        "DKIM",
        "Tests",
        "truncating",
    ];
    const PROCESS: &[&str] = &[
        "sd_notify",
        "starting",
        "Module ",
        "Found ",
        "No ",
        "Using ",
        "extra modules",
        "initializing",
        "Net::Server",
        "(!)",
        "TROUBLE",
        "Deleting db files",
        "Creating db",
        "Found decoder",
        "Internal decoder",
        "SpamControl",
        "ANTI-VIRUS",
        "ANTI-SPAM",
        "Amavis::",
        "logging initialized",
        "user=",
        "socket module",
        "perl=",
        "config files",
        "Requesting process",
        "Process ",
        "Child process",
    ];
    if message.starts_with('(') {
        if TASK.iter().any(|p| rest.starts_with(p)) {
            return true;
        }
        // `p001 1/1 Content-Type: …` (MIME parts), `C8nxh_lSIJmK FWD from …` (forwarding)
        let (first, tail) = rest.split_once_byte(b' ').unwrap_or((rest, ""));
        let part = first.len() == 4 && first.starts_with('p') && first[1..].bytes().all(|b| b.is_ascii_digit());
        return part || tail.starts_with("FWD ") || tail.starts_with("RCPT ");
    }
    PROCESS.iter().any(|p| message.starts_with(p))
}

/// The value after `key` (which starts with `, `) up to the next comma.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find_str(key)? + key.len();
    let v = &text[at..];
    let end = v.find_byte(b',').unwrap_or(v.len());
    Some(v[..end].trim())
}

/// `, queued_as: A, B` may list several ids (one per re-injected copy); each is a queue id.
fn field_list<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    let Some(at) = text.find_str(key) else {
        return Vec::new();
    };
    text[at + key.len()..]
        .split(", ")
        .take_while(|w| crate::parse::fields::is_queue_id(w.trim()))
        .map(str::trim)
        .collect()
}

fn angle_field_colon<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find_str(key)? + key.len();
    let v = text[at..].strip_prefix('<')?;
    Some(&v[..v.find_byte(b'>')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_with_reinjection() {
        let ev = parse("(29309-01) Passed CLEAN {RelayedInbound}, [129.187.10.149]:48107 [129.187.10.149] <theo@uni-example.edu> -> <h@example.com>,<w@example.com>, Queue-ID: 0859737C64D, Message-ID: <2026@uni-example.edu>, mail_id: pBm2aAh2rAGV, Hits: 3.162, size: 2987, queued_as: 3CE6B37C010, 3635 ms");
        let EventKind::ContentFilter {
            passed,
            category,
            qid,
            message_id,
            queued_as,
            quarantine,
            tags,
            recipients,
            hits,
            reason,
            task,
        } = ev
        else {
            panic!()
        };
        assert_eq!(task, Some("29309-01"));
        assert!(passed);
        assert_eq!(category, "CLEAN");
        assert_eq!(qid, Some("0859737C64D"));
        assert_eq!(message_id, Some("2026@uni-example.edu"));
        assert_eq!(queued_as, vec!["3CE6B37C010"]);
        assert_eq!(quarantine, None);
        assert_eq!(tags, "RelayedInbound");
        assert_eq!(recipients, vec!["h@example.com", "w@example.com"]);
        assert_eq!(hits, Some(3.162));
        assert_eq!(reason, None);
    }

    #[test]
    fn infected_names_the_virus_and_notes_are_info() {
        let ev = parse("(01530-08) Blocked INFECTED (Eicar-Test-Signature) {DiscardedInbound}, [203.0.113.17]:3310 [203.0.113.17] <s@p.example> -> <a@example.com>, Queue-ID: D2C7A2CC05, Message-ID: <x@y>, mail_id: 5kWnR2xY0cBd, Hits: -, size: 68890, 861 ms");
        let EventKind::ContentFilter {
            category,
            tags,
            reason,
            hits,
            recipients,
            ..
        } = ev
        else {
            panic!()
        };
        assert_eq!(category, "INFECTED");
        assert_eq!(tags, "DiscardedInbound");
        assert_eq!(reason, Some("Eicar-Test-Signature"));
        assert_eq!(hits, None);
        assert_eq!(recipients, vec!["a@example.com"]);
        for note in [
            "(11412-17) C8nxh_lSIJmK FWD from <a@b> -> <c@d>, BODY=7BIT 250 2.0.0 Ok",
            "(11412-17) p001 1/1 Content-Type: multipart/alternative",
            "(11412-17) ESMTP :10024 /var/lib/amavis/tmp/amavis-x: <a@b> -> <c@d> SIZE=1358",
            "sd_notify (no socket): STATUS=Starting child process(es), ready for work.",
        ] {
            assert!(
                matches!(
                    parse(note),
                    EventKind::Info { qid: None }
                        | EventKind::FilterTask {
                            task: "11412-17",
                            understood: true
                        }
                ),
                "{note}"
            );
        }
        assert!(matches!(
            parse("(11412-17) something new"),
            EventKind::FilterTask {
                task: "11412-17",
                understood: false
            }
        ));
        assert!(matches!(parse("something new"), EventKind::Unrecognised));
    }

    #[test]
    fn blocked_with_quarantine() {
        let ev = parse("(29314-02) Blocked SPAM {DiscardedInbound,Quarantined}, [176.210.158.77]:33428 [176.210.158.77] <a@x.xyz> -> <r@example.net>, quarantine: spam-VmRn4Qa6Zucs.gz, Queue-ID: 2CB3D37D5AC, Message-ID: <m@x.xyz>, mail_id: VmRn4Qa6Zucs, Hits: 31.909, size: 30595, 3765 ms");
        let EventKind::ContentFilter {
            passed,
            quarantine,
            qid,
            ..
        } = ev
        else {
            panic!()
        };
        assert!(!passed);
        assert_eq!(quarantine, Some("spam-VmRn4Qa6Zucs.gz"));
        assert_eq!(qid, Some("2CB3D37D5AC"));
        assert!(matches!(
            parse("(11412-17) Checking: C8nxh_lSIJmK [1.2.3.4] <a@b> -> <c@d>"),
            EventKind::FilterTask {
                task: "11412-17",
                understood: true
            }
        ));
    }
}
