//! Printing results: rows (table, CSV, JSON, NDJSON) and timelines.
//!
//! [`Row`] is the output contract shared by every machine format: one object per
//! (message, recipient), always with the same keys in the same order, `null` where unknown.

pub mod path;
pub mod table;
pub mod terminal;
pub mod timeline;

use std::borrow::Cow;
use std::io::Write;

use anyhow::Result;

use serde::Serialize;

use crate::trace::model::{AuthResult, PolicyAction};
use crate::trace::Trace;

/// The formats `search` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A row a line, cells cut to fit the terminal.
    Table,
    /// Every cell whole (`--wide`).
    WideTable,
    Csv,
    Json,
    Ndjson,
}

/// One (message, recipient) row. The key names are a contract: add fields, never rename.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Row {
    pub time: String,
    pub last_time: String,
    pub host: String,
    pub mta: String,
    pub queue_id: Option<String>,
    pub queue_ids: Vec<String>,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub header_from: Option<String>,
    pub to: Option<String>,
    pub orig_to: Option<String>,
    pub status: String,
    pub dsn: Option<String>,
    pub relay: Option<String>,
    pub response: Option<String>,
    pub subject: Option<String>,
    pub client_ip: Option<String>,
    pub client_name: Option<String>,
    pub helo: Option<String>,
    pub sasl_user: Option<String>,
    pub direction: Option<String>,
    pub size: Option<u64>,
    pub attempts: u32,
    pub trace_id: String,
    /// The spam filter's verdict (amavis category, rspamd action).
    #[serde(default)]
    pub spam_verdict: Option<String>,
    #[serde(default)]
    pub spam_score: Option<f64>,
    #[serde(default)]
    pub virus: Option<String>,
    #[serde(default)]
    pub spf: Option<AuthResult>,
    #[serde(default)]
    pub dkim: Option<AuthResult>,
    #[serde(default)]
    pub dmarc: Option<AuthResult>,
    /// The mailbox this recipient's copy was filed into (Dovecot).
    #[serde(default)]
    pub folder: Option<String>,
    #[serde(default)]
    pub policy_actions: Vec<PolicyAction>,
    /// The hop the message came from, `host:queue_id`, when that server's log was read.
    #[serde(default)]
    pub prev_hop: Option<String>,
    /// The hop this recipient was handed to, `host:queue_id`, when that server's log was read.
    #[serde(default)]
    pub next_hop: Option<String>,
    /// Where this recipient's path ends inside the logs read: the status, host and folder of
    /// its last leg (this leg's own when it was handed to no server whose log was read).
    #[serde(default)]
    pub final_status: Option<String>,
    #[serde(default)]
    pub final_host: Option<String>,
    #[serde(default)]
    pub final_folder: Option<String>,
    /// An end-to-end row's path (`search --end-to-end`): its hops, `host:queue_id`, from the
    /// first leg to the one where this recipient ends; empty for a leg's own row.
    #[serde(default)]
    pub hops: Vec<String>,
}

/// `n` and the noun, plural unless `n` is 1: `1 message`, `3 messages`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// RFC 3339 in UTC with `Z`, seconds precision unless the log had a fraction.
pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

impl Row {
    /// The row for recipient `index` of `t` (`None`: the message has no known recipient).
    pub fn new(t: &Trace, index: Option<usize>) -> Row {
        let r = index.map(|i| &t.recipients[i]);
        let status = r.map_or("in-progress", |r| r.status.as_str()).to_string();
        let folder = r.and_then(|r| r.folder.clone());
        Row {
            time: rfc3339(t.first_time),
            last_time: rfc3339(t.last_time),
            host: t.host.clone(),
            mta: t.mta.as_str().to_string(),
            queue_id: t.queue_id().map(str::to_string),
            queue_ids: t.queue_ids.clone(),
            message_id: t.message_id.clone(),
            from: t.from.clone(),
            header_from: t.header_from.clone(),
            to: r.map(|r| r.address.clone()).filter(|a| !a.is_empty()),
            orig_to: r.and_then(|r| r.orig_to.clone()),
            final_status: Some(status.clone()),
            status,
            dsn: r.and_then(|r| r.dsn.clone()),
            relay: r.and_then(|r| r.relay.clone()),
            response: r.and_then(|r| r.response.clone()),
            subject: t.subject.clone(),
            client_ip: t.client.ip.clone(),
            client_name: t.client.name.clone(),
            helo: t.client.helo.clone(),
            sasl_user: t.client.sasl_user.clone(),
            direction: t.direction.map(|d| d.as_str().to_string()),
            size: t.size,
            attempts: r.map_or(0, |r| r.attempts),
            trace_id: t.trace_id.clone(),
            spam_verdict: t.spam_verdict.clone(),
            spam_score: t.spam_score,
            virus: t.virus.clone(),
            spf: t.spf.clone(),
            dkim: t.dkim.clone(),
            dmarc: t.dmarc.clone(),
            final_folder: folder.clone(),
            folder,
            policy_actions: t
                .policy_actions
                .iter()
                .chain(r.map_or(&[][..], |r| &r.actions[..]))
                .cloned()
                .collect(),
            prev_hop: None,
            next_hop: None,
            final_host: Some(t.host.clone()),
            hops: Vec::new(),
        }
    }

    /// Sets the path keys of the row of recipient `index` from its leg's place on the path.
    pub fn on_path(&mut self, p: &crate::path::OnPath, index: Option<usize>) {
        self.prev_hop.clone_from(&p.prev_hop);
        let Some(i) = index else { return };
        self.next_hop = p.next_hop.get(i).cloned().flatten();
        if let Some(f) = p.finals.get(i).and_then(|f| crate::path::Final::summary(f)) {
            self.final_status = Some(f.status.as_str().to_string());
            self.final_host = Some(f.host.clone());
            self.final_folder.clone_from(&f.folder);
        }
    }
}

impl Format {
    /// Whether this is one of the tables (for people, not scripts).
    pub fn is_table(self) -> bool {
        matches!(self, Format::Table | Format::WideTable)
    }
}

/// Writes rows in a machine format (or the table).
pub fn write_rows(out: &mut dyn Write, rows: &[Row], format: Format, cut: Option<usize>) -> Result<()> {
    match format {
        Format::Ndjson => {
            for r in rows {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Json => {
            json_array_items(out, rows, true)?;
            json_array_end(out, !rows.is_empty())?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            for r in rows {
                w.serialize(CsvRow::from(r))?;
            }
            if rows.is_empty() {
                w.write_record(CSV_HEADER)?;
            }
            w.flush()?;
        }
        Format::Table => table::write(out, rows, cut, false, None)?,
        Format::WideTable => table::write(out, rows, cut, true, None)?,
    }
    Ok(())
}

/// The items of a pretty JSON array, `first` ones opening it: the bytes `serde_json` writes
/// for the whole array, so an array written in parts ([`write_more_rows`],
/// [`json_array_end`]) is the same as one written at once. (Each item is written pretty and
/// indented a level: JSON strings hold no raw newline.)
fn json_array_items(out: &mut dyn Write, rows: &[Row], first: bool) -> Result<()> {
    for (i, r) in rows.iter().enumerate() {
        out.write_all(if first && i == 0 { b"[\n  " } else { b",\n  " })?;
        let item = serde_json::to_string_pretty(r)?;
        out.write_all(item.replace('\n', "\n  ").as_bytes())?;
    }
    Ok(())
}

/// Closes a JSON array written by [`write_rows`] and [`write_more_rows`]; `any`: it holds
/// at least one row.
pub fn json_array_end(out: &mut dyn Write, any: bool) -> Result<()> {
    out.write_all(if any { b"\n]\n" } else { b"[]\n" })?;
    Ok(())
}

/// Writes rows that follow rows already written in the same format: NDJSON as ever, CSV
/// without a second header, JSON as more items of the array (closed by [`json_array_end`];
/// its first rows written with `write_more_rows` too, `first` set). A table cannot be written
/// in parts.
pub fn write_more_rows(out: &mut dyn Write, rows: &[Row], format: Format, first: bool) -> Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(&mut *out);
            for r in rows {
                w.serialize(CsvRow::from(r))?;
            }
            w.flush()?;
        }
        Format::Ndjson => write_rows(out, rows, format, None)?,
        Format::Json => json_array_items(out, rows, first)?,
        Format::Table | Format::WideTable => {
            anyhow::bail!("rows in this format cannot be written in parts")
        }
    }
    Ok(())
}

const CSV_HEADER: [&str; 38] = [
    "time",
    "last_time",
    "host",
    "mta",
    "queue_id",
    "queue_ids",
    "message_id",
    "from",
    "header_from",
    "to",
    "orig_to",
    "status",
    "dsn",
    "relay",
    "response",
    "subject",
    "client_ip",
    "client_name",
    "helo",
    "sasl_user",
    "direction",
    "size",
    "attempts",
    "trace_id",
    "spam_verdict",
    "spam_score",
    "virus",
    "spf",
    "dkim",
    "dmarc",
    "folder",
    "policy_actions",
    "prev_hop",
    "next_hop",
    "final_status",
    "final_host",
    "final_folder",
    "hops",
];

/// An authentication result in one CSV cell: `pass example.com`.
fn auth_cell(a: &Option<AuthResult>) -> Option<String> {
    a.as_ref().map(|a| match &a.domain {
        Some(d) => format!("{} {d}", a.result),
        None => a.result.clone(),
    })
}

/// CSV has no lists: `queue_ids` and `hops` are written space-separated, `policy_actions` as
/// `source: action: detail` joined by ` | `, authentication results as `result domain`.
#[derive(Serialize)]
struct CsvRow<'a> {
    time: Cow<'a, str>,
    last_time: Cow<'a, str>,
    host: Cow<'a, str>,
    mta: Cow<'a, str>,
    queue_id: Option<Cow<'a, str>>,
    queue_ids: String,
    message_id: Option<Cow<'a, str>>,
    from: Option<Cow<'a, str>>,
    header_from: Option<Cow<'a, str>>,
    to: Option<Cow<'a, str>>,
    orig_to: Option<Cow<'a, str>>,
    status: Cow<'a, str>,
    dsn: Option<Cow<'a, str>>,
    relay: Option<Cow<'a, str>>,
    response: Option<Cow<'a, str>>,
    subject: Option<Cow<'a, str>>,
    client_ip: Option<Cow<'a, str>>,
    client_name: Option<Cow<'a, str>>,
    helo: Option<Cow<'a, str>>,
    sasl_user: Option<Cow<'a, str>>,
    direction: Option<Cow<'a, str>>,
    size: Option<u64>,
    attempts: u32,
    trace_id: Cow<'a, str>,
    spam_verdict: Option<Cow<'a, str>>,
    spam_score: Option<f64>,
    virus: Option<Cow<'a, str>>,
    spf: Option<String>,
    dkim: Option<String>,
    dmarc: Option<String>,
    folder: Option<Cow<'a, str>>,
    policy_actions: String,
    prev_hop: Option<Cow<'a, str>>,
    next_hop: Option<Cow<'a, str>>,
    final_status: Option<Cow<'a, str>>,
    final_host: Option<Cow<'a, str>>,
    final_folder: Option<Cow<'a, str>>,
    hops: String,
}

impl<'a> From<&'a Row> for CsvRow<'a> {
    fn from(r: &'a Row) -> Self {
        CsvRow {
            time: cell(&r.time),
            last_time: cell(&r.last_time),
            host: cell(&r.host),
            mta: cell(&r.mta),
            queue_id: r.queue_id.as_deref().map(cell),
            queue_ids: r.queue_ids.join(" "),
            message_id: r.message_id.as_deref().map(cell),
            from: r.from.as_deref().map(cell),
            header_from: r.header_from.as_deref().map(cell),
            to: r.to.as_deref().map(cell),
            orig_to: r.orig_to.as_deref().map(cell),
            status: cell(&r.status),
            dsn: r.dsn.as_deref().map(cell),
            relay: r.relay.as_deref().map(cell),
            response: r.response.as_deref().map(cell),
            subject: r.subject.as_deref().map(cell),
            client_ip: r.client_ip.as_deref().map(cell),
            client_name: r.client_name.as_deref().map(cell),
            helo: r.helo.as_deref().map(cell),
            sasl_user: r.sasl_user.as_deref().map(cell),
            direction: r.direction.as_deref().map(cell),
            size: r.size,
            attempts: r.attempts,
            trace_id: cell(&r.trace_id),
            spam_verdict: r.spam_verdict.as_deref().map(cell),
            spam_score: r.spam_score,
            virus: r.virus.as_deref().map(cell),
            spf: auth_cell(&r.spf).map(owned_cell),
            dkim: auth_cell(&r.dkim).map(owned_cell),
            dmarc: auth_cell(&r.dmarc).map(owned_cell),
            folder: r.folder.as_deref().map(cell),
            policy_actions: owned_cell(
                r.policy_actions
                    .iter()
                    .map(|a| format!("{}: {}: {}", a.source, a.action, a.detail))
                    .collect::<Vec<_>>()
                    .join(" | "),
            ),
            prev_hop: r.prev_hop.as_deref().map(cell),
            next_hop: r.next_hop.as_deref().map(cell),
            final_status: r.final_status.as_deref().map(cell),
            final_host: r.final_host.as_deref().map(cell),
            final_folder: r.final_folder.as_deref().map(cell),
            hops: r.hops.join(" "),
        }
    }
}

/// A cell of log text, safe to open in a spreadsheet (see [`CsvRow`]).
fn cell(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// [`cell`] of text made for the row.
fn owned_cell(text: String) -> String {
    match cell(&text) {
        Cow::Owned(t) => t,
        Cow::Borrowed(_) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_array_written_in_parts_is_serde_jsons_array() {
        let mut rows = [sample_row(), sample_row(), sample_row()];
        rows[1].subject = Some("line\nbreak \"quoted\" \u{1b}[2J é".into());
        rows[1].queue_ids = Vec::new();
        rows[2].policy_actions = vec![PolicyAction {
            source: "rspamd".into(),
            action: "reject".into(),
            detail: "score 15.2/15".into(),
        }];
        for n in 0..=3 {
            let want = serde_json::to_string_pretty(&rows[..n]).unwrap() + "\n";
            let mut at_once = Vec::new();
            write_rows(&mut at_once, &rows[..n], Format::Json, None).unwrap();
            assert_eq!(String::from_utf8(at_once).unwrap(), want, "{n} rows at once");
            for cut in 0..=n {
                let mut parts = Vec::new();
                write_more_rows(&mut parts, &rows[..cut], Format::Json, true).unwrap();
                write_more_rows(&mut parts, &rows[cut..n], Format::Json, cut == 0).unwrap();
                json_array_end(&mut parts, n > 0).unwrap();
                assert_eq!(String::from_utf8(parts).unwrap(), want, "{n} rows cut at {cut}");
            }
        }
    }

    fn sample_row() -> Row {
        Row {
            time: "t".into(),
            last_time: "t".into(),
            host: "h".into(),
            mta: "postfix".into(),
            queue_id: None,
            queue_ids: vec!["A".into(), "B".into()],
            message_id: None,
            from: Some(String::new()),
            header_from: None,
            to: None,
            orig_to: None,
            status: "rejected".into(),
            dsn: None,
            relay: None,
            response: None,
            subject: None,
            client_ip: None,
            client_name: None,
            helo: None,
            sasl_user: None,
            direction: None,
            size: None,
            attempts: 0,
            trace_id: "x".into(),
            spam_verdict: None,
            spam_score: None,
            virus: None,
            spf: None,
            dkim: None,
            dmarc: None,
            folder: None,
            policy_actions: Vec::new(),
            prev_hop: None,
            next_hop: Some("mx2:ABC123".into()),
            final_status: Some("delivered".into()),
            final_host: Some("mx2".into()),
            final_folder: None,
            hops: vec!["mx1:F00BA12345".into(), "mx2:ABC123".into()],
        }
    }

    #[test]
    fn csv_header_matches_row_keys() {
        let row = sample_row();
        let json: serde_json::Value = serde_json::to_value(&row).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted_header = CSV_HEADER.to_vec();
        sorted_header.sort();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        assert_eq!(sorted_keys, sorted_header);
        let mut buf = Vec::new();
        write_rows(&mut buf, &[row], Format::Csv, None).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().next().unwrap(), CSV_HEADER.join(","));
        assert!(text.contains(",A B,"));
        assert!(text.ends_with(",mx1:F00BA12345 mx2:ABC123\n"), "{text}");
    }

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_text() {
        for (logged, written) in [
            ("=HYPERLINK(\"http://x.example\")", "'=HYPERLINK(\"http://x.example\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("plain = text", "plain = text"),
            ("", ""),
        ] {
            assert_eq!(cell(logged), written);
            assert_eq!(owned_cell(logged.to_string()), written);
        }
    }
}
