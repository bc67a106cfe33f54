//! rspamd: the per-message verdict line `rspamd_task_write_log`, in syslog (`rspamd[pid]:`) or
//! in rspamd's own log file (`2026-11-23 10:00:00 #1234(normal) <tag>; task; …`).
//!
//! `rspamd_task_write_log: id: <MESSAGE-ID>, qid: <QID>, ip: IP, from: <S>, (default: F (no
//! action): [1.20/15.00] [SYM(1.00){…},…]), len: N, time: …, rcpts: <R>, …` gives the action
//! (`no action`, `add header`, `rewrite subject`, `greylist`, `soft reject`, `reject`), the score
//! and the symbols; `qid` links it to the Postfix message (the milter knows the queue id),
//! else the Message-ID. rspamd's many other lines are understood and change nothing.

use super::text::StrFind;
use chrono::NaiveDateTime;

use crate::event::EventKind;

/// Whether a syslog program name is rspamd.
pub fn is_rspamd(program: &str) -> bool {
    matches!(program, "rspamd" | "rspamd_proxy")
}

/// A line of rspamd's own log file: its local time and the text after `#PID(process) `.
pub fn own_log(line: &str) -> Option<(NaiveDateTime, &str)> {
    let b = line.as_bytes();
    if b.len() < 22 || !b[0].is_ascii_digit() || b[4] != b'-' || b[10] != b' ' {
        return None;
    }
    let (stamp, rest) = line.split_at(line.find_str(" #")?);
    let time = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let rest = &rest[2..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let body = rest[digits..].strip_prefix('(')?.split_once_str(") ")?.1;
    Some((time, body))
}

/// rspamd's other lines: `<tag>; module; function: text` (a task's, or `<>` for none),
/// `(module) function: text`, `module; function: text` and the start-up and shutdown notes.
fn is_note(message: &str) -> bool {
    let tagged = message.starts_with('<') && message.contains(">; ");
    let by_module = message.starts_with('(') && message.contains(") ");
    let head = message.split(": ").next().unwrap_or("");
    let module_function = head.split_once_str("; ").is_some_and(|(m, f)| is_word(m) && is_word(f));
    const NOTES: &[&str] = &["rspamd ", "Rspamd ", "starting", "stopping", "terminating", "reloading"];
    tagged || by_module || module_function || NOTES.iter().any(|n| message.starts_with(n))
}

fn is_word(w: &str) -> bool {
    !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// Parses an rspamd message (syslog text after `rspamd[pid]: `, or the body of its own log).
pub fn parse(message: &str) -> EventKind<'_> {
    let Some(at) = message.find_str("rspamd_task_write_log: ") else {
        return if is_note(message) {
            EventKind::Info { qid: None }
        } else {
            EventKind::Unrecognised
        };
    };
    let text = &message[at + "rspamd_task_write_log: ".len()..];
    // the metric: `(default: F (no action): [1.20/15.00] [SYMS])`
    let Some(m) = text.find_str(": [").and_then(|end| {
        let open = text[..end].rfind_str(" (")?;
        Some((&text[open + 2..end], &text[end + 3..]))
    }) else {
        return EventKind::Unrecognised;
    };
    let (action, scores) = m;
    let action = action.strip_suffix(')').unwrap_or(action);
    let score = scores
        .split_once_byte(b'/')
        .and_then(|(s, _)| s.trim().parse::<f64>().ok());
    let symbols = scores
        .split_once_str("] [")
        .map_or("", |(_, s)| s.split_once_str("]),").map_or(s, |(s, _)| s));
    EventKind::SpamCheck {
        qid: angle(text, "qid: <"),
        message_id: angle(text, "id: <").filter(|m| !m.is_empty() && *m != "undef"),
        action,
        score,
        symbols,
    }
}

/// The value of `key<value>` at the start of `text` or after `, `.
fn angle<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = if text.starts_with(key) {
        key.len()
    } else {
        text.find(&format!(", {key}"))? + key.len() + 2
    };
    let v = &text[at..];
    Some(&v[..v.find_byte(b'>')?]).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_log_line() {
        let ev = parse("<a1b2c3>; task; rspamd_task_write_log: id: <m1@example.net>, qid: <4B2A81C>, ip: 192.0.2.7, from: <a@example.net>, (default: F (add header): [7.20/15.00] [BAYES_SPAM(5.10){99.0%;},R_SPF_FAIL(1.00){-all;}]), len: 2345, time: 123.4ms, dns req: 12, digest: <0f>, rcpts: <b@example.com>, mime_rcpts: <b@example.com>");
        let EventKind::SpamCheck {
            qid,
            message_id,
            action,
            score,
            symbols,
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!(qid, Some("4B2A81C"));
        assert_eq!(message_id, Some("m1@example.net"));
        assert_eq!(action, "add header");
        assert_eq!(score, Some(7.2));
        assert_eq!(symbols, "BAYES_SPAM(5.10){99.0%;},R_SPF_FAIL(1.00){-all;}");
        assert!(matches!(
            parse("<a1b2c3>; lua; greylist.lua:123: greylisted until x"),
            EventKind::Info { qid: None }
        ));
        assert!(matches!(
            parse("main; rspamd_main_daemon: rspamd 3.7.4 is starting"),
            EventKind::Info { qid: None }
        ));
        assert!(matches!(parse("lorem ipsum dolor sit amet"), EventKind::Unrecognised));
    }

    #[test]
    fn own_log_lines() {
        let (t, body) =
            own_log("2026-11-23 10:00:00 #20593(normal) <4a7fd6>; task; rspamd_task_write_log: id: <x>").unwrap();
        assert_eq!(t.to_string(), "2026-11-23 10:00:00");
        assert!(body.starts_with("<4a7fd6>; task;"));
        assert!(own_log("2026-11-10 00:01:46 1rABCD-000123-AB <= a@b").is_none());
    }
}
