//! `show`: one message's whole story, with every raw log line that proves it.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use super::{rfc3339, Row};
use crate::trace::Trace;

/// Names the file a timeline line came from, by [`crate::event::LineRef::file`].
pub type FileNames<'a> = &'a dyn Fn(u32) -> String;

/// One raw line of the timeline.
#[derive(Debug, Serialize)]
pub struct LogLine {
    pub time: String,
    pub file: String,
    pub line: u64,
    pub offset: u64,
    pub text: String,
}

/// The raw lines of `t`, in log order (the trace was assembled keeping the lines' text).
pub fn log_lines(t: &Trace, files: FileNames) -> Vec<LogLine> {
    t.timeline
        .iter()
        .map(|e| LogLine {
            time: rfc3339(e.time),
            file: files(e.line.file),
            line: e.line.line,
            offset: e.line.offset,
            text: e.text.to_string(),
        })
        .collect()
}

/// `show --format json`: the trace, its rows and its raw lines.
#[derive(Serialize)]
struct ShowJson<'a> {
    trace: &'a Trace,
    rows: Vec<Row>,
    lines: Vec<LogLine>,
}

/// `show --format json`: per message, the trace, its rows (with their places on the delivery
/// path, from `paths` by trace id) and its raw lines.
pub fn write_json(
    out: &mut dyn Write,
    traces: &[Trace],
    files: FileNames,
    paths: &std::collections::HashMap<String, crate::path::OnPath>,
) -> Result<()> {
    let mut all = Vec::new();
    for t in traces {
        let indexes: Vec<Option<usize>> = if t.recipients.is_empty() {
            vec![None]
        } else {
            (0..t.recipients.len()).map(Some).collect()
        };
        let rows = indexes
            .into_iter()
            .map(|i| {
                let mut row = Row::new(t, i);
                if let Some(p) = paths.get(&t.trace_id) {
                    row.on_path(p, i);
                }
                row
            })
            .collect();
        all.push(ShowJson {
            trace: t,
            rows,
            lines: log_lines(t, files),
        });
    }
    serde_json::to_writer_pretty(&mut *out, &all)?;
    writeln!(out)?;
    Ok(())
}

pub fn write_text(out: &mut dyn Write, t: &Trace, files: FileNames) -> Result<()> {
    // log text must not reach the terminal as control codes
    let out: &mut dyn Write = &mut super::terminal::Printable::new(out);
    let qid = t.queue_id().unwrap_or("NOQUEUE (rejected before queueing)");
    let dir = t.direction.map_or("", |d| d.as_str());
    // an Exim main log names no host
    let host = if t.host.is_empty() {
        String::new()
    } else {
        format!(" on {}", t.host)
    };
    writeln!(out, "Message {qid}{host} ({}), {dir}", t.mta.as_str())?;
    let field = |out: &mut dyn Write, name: &str, value: Option<&str>| -> Result<()> {
        if let Some(v) = value {
            writeln!(out, "  {name:<11} {v}")?;
        }
        Ok(())
    };
    field(
        out,
        "Message-ID:",
        t.message_id.as_deref().map(|m| format!("<{m}>")).as_deref(),
    )?;
    field(
        out,
        "From:",
        t.from
            .as_deref()
            .map(|f| if f.is_empty() { "<> (null sender)" } else { f }),
    )?;
    field(out, "Header-From:", t.header_from.as_deref())?;
    field(out, "Subject:", t.subject.as_deref())?;
    field(out, "Size:", t.size.map(|s| format!("{s} bytes")).as_deref())?;
    if let Some(ip) = &t.client.ip {
        let mut c = format!("{}[{ip}]", t.client.name.as_deref().unwrap_or(""));
        if let Some(h) = &t.client.helo {
            c.push_str(&format!(" helo={h}"));
        }
        if let Some(u) = &t.client.sasl_user {
            c.push_str(&format!(" sasl_user={u}"));
        }
        field(out, "Client:", Some(&c))?;
    } else if !t.queue_ids.is_empty() {
        field(out, "Client:", Some("local submission"))?;
    }
    field(
        out,
        "Time:",
        Some(&format!("{} … {}", rfc3339(t.first_time), rfc3339(t.last_time))),
    )?;
    if t.queue_ids.len() > 1 {
        field(out, "Queue IDs:", Some(&t.queue_ids.join(" → ")))?;
    }
    for l in &t.links {
        let what = match l.kind {
            crate::trace::model::LinkKind::Reinjected => "re-injected by the content filter as",
            crate::trace::model::LinkKind::Forwarded => "forwarded (alias/.forward) as",
            crate::trace::model::LinkKind::Notification => "notice to the sender queued as",
            crate::trace::model::LinkKind::NotificationOf => "this is a notice about",
        };
        field(out, "Link:", Some(&format!("{what} {}", l.queue_id)))?;
    }
    if let Some(f) = &t.filter {
        let q = f
            .quarantine
            .as_deref()
            .map(|q| format!(", quarantine {q}"))
            .unwrap_or_default();
        field(
            out,
            "Filter:",
            Some(&format!(
                "{} {}{q}",
                if f.passed { "Passed" } else { "Blocked" },
                f.category
            )),
        )?;
    }
    if let Some(v) = &t.spam_verdict {
        let score = t.spam_score.map(|s| format!(", score {s}")).unwrap_or_default();
        field(out, "Spam:", Some(&format!("{v}{score}")))?;
    }
    field(out, "Virus:", t.virus.as_deref())?;
    for (name, a) in [("SPF:", &t.spf), ("DKIM:", &t.dkim), ("DMARC:", &t.dmarc)] {
        if let Some(a) = a {
            let domain = a.domain.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            field(out, name, Some(&format!("{}{domain}", a.result)))?;
        }
    }
    for a in &t.actions {
        field(out, "Action:", Some(a))?;
    }
    for a in &t.policy_actions {
        let sep = if a.detail.is_empty() { "" } else { ": " };
        field(
            out,
            "Policy:",
            Some(&format!("{} {}{sep}{}", a.source, a.action, a.detail)),
        )?;
    }
    writeln!(out, "\nRecipients")?;
    if t.recipients.is_empty() {
        writeln!(out, "  (none logged yet)  in-progress")?;
    }
    for r in &t.recipients {
        let orig = r.orig_to.as_deref().map(|o| format!(" (was {o})")).unwrap_or_default();
        let mut line = format!(
            "  {}{orig}  {}",
            if r.address.is_empty() { "-" } else { &r.address },
            r.status
        );
        if let Some(d) = &r.dsn {
            line.push_str(&format!("  dsn={d}"));
        }
        if let Some(rel) = &r.relay {
            line.push_str(&format!("  relay={rel}"));
        }
        if r.attempts > 0 {
            line.push_str(&format!("  deferred attempts={}", r.attempts));
        }
        if let Some(f) = &r.folder {
            line.push_str(&format!("  folder={f}"));
        }
        for a in &r.actions {
            line.push_str(&format!("  {} {}: {}", a.source, a.action, a.detail));
        }
        writeln!(out, "{line}")?;
        if let Some(resp) = &r.response {
            writeln!(out, "      {resp}")?;
        }
        if let Some(d) = &r.delays {
            writeln!(
                out,
                "      delay {}s = before queue manager {}s + in queue manager {}s + connection {}s + transmission {}s",
                d.total, d.before_qmgr, d.in_qmgr, d.conn_setup, d.transmission
            )?;
        }
    }
    let lines = log_lines(t, files);
    writeln!(out, "\nLog lines ({})", lines.len())?;
    for l in lines {
        let name = std::path::Path::new(&l.file)
            .file_name()
            .map_or(l.file.clone(), |n| n.to_string_lossy().into_owned());
        writeln!(out, "  {name}:{}  {}", l.line, l.text.trim_end_matches('\r'))?;
    }
    Ok(())
}
