//! Traces and raw lines as the `JSONEachRow` rows of `traces_local`, `keys_local` and
//! `lines_local`.
//!
//! Every column is written (18.16 fills no default for a missing key in every case) and every
//! value is one ClickHouse reads back unchanged: times as microseconds, addresses
//! ASCII-lowercased as the criteria compare them, IP addresses as two 64-bit halves.

use std::net::IpAddr;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::query::{subject_texts, words};
use crate::store::schema::{json, timeline_text, TraceBody};
use crate::trace::Trace;

/// One row of `traces_local`.
#[derive(Serialize)]
struct TraceRow<'a> {
    day: String,
    trace_id: &'a str,
    version: u64,
    deleted: u8,
    first_time: i64,
    last_time: i64,
    host: String,
    has_from: u8,
    sender: String,
    sender_domain: String,
    has_message_id: u8,
    message_id: &'a str,
    queue_ids: &'a [String],
    direction: &'a str,
    ip_kind: u8,
    ip_hi: u64,
    ip_lo: u64,
    subject_words: String,
    virus: u8,
    spam: u8,
    auth_failed: Vec<&'static str>,
    rcpt: Vec<String>,
    rcpt_domain: Vec<String>,
    has_orig: Vec<u8>,
    orig: Vec<String>,
    orig_domain: Vec<String>,
    status: Vec<&'static str>,
    folder: Vec<String>,
    file_ids: Vec<u32>,
    file_keys: Vec<u64>,
    trace: String,
    timeline: String,
    lines: String,
}

/// The domain of an address as criteria see it: after the last `@`, lowercased.
pub fn domain(lower: &str) -> &str {
    lower.rsplit_once('@').map_or("", |(_, d)| d)
}

/// A folder as stored: `=` and the name lowercased, or empty for none (so an empty name is
/// still told from no folder).
pub fn folder(name: Option<&str>) -> String {
    name.map_or_else(String::new, |f| format!("={}", f.to_ascii_lowercase()))
}

/// The subject's words as `position()` searches them: each text (as logged, then decoded)
/// as ` w1 w2 … ` with the texts apart on lines, so ` order 12` finds the phrase "order 12…"
/// from a word's start, and never across two texts.
pub fn subject_words(subject: Option<&str>) -> String {
    let Some(subject) = subject else {
        return String::new();
    };
    subject_texts(subject)
        .iter()
        .map(|t| {
            let w = words(t);
            format!(" {} ", w.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An IP address as (kind, high 64 bits, low 64 bits): kind 4 (the address in the low bits),
/// 6, or 0 for none or text that is not an address.
pub fn ip_parts(ip: Option<&str>) -> (u8, u64, u64) {
    match ip.and_then(|a| a.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => (4, 0, u64::from(u32::from(v4))),
        Some(IpAddr::V6(v6)) => {
            let n = u128::from(v6);
            (6, (n >> 64) as u64, n as u64)
        }
        None => (0, 0, 0),
    }
}

/// Where the rows of a message go: its `traces_local` row and its `keys_local` rows.
pub struct TraceOut<'a> {
    pub traces: &'a mut Vec<u8>,
    pub keys: &'a mut Vec<u8>,
}

/// Appends the row of trace `t` (its lines from `files`, whose first-line keys are
/// `file_keys`) at `version`, and its look-up keys, each with a newline.
pub fn trace_row(
    out: TraceOut<'_>,
    t: Trace,
    files: &[(u32, String)],
    file_keys: &[(u32, u64)],
    version: u64,
) -> Result<()> {
    row(out.traces, Some(out.keys), t, files, file_keys, version, 0)
}

/// Appends the row that marks trace `trace_id` (received at `first_time`) deleted.
pub fn tombstone_row(out: &mut Vec<u8>, trace_id: &str, first_time: DateTime<Utc>, version: u64) -> Result<()> {
    let mut t = Trace::new(trace_id.to_string(), "", first_time);
    t.recipients.clear();
    row(out, None, t, &[], &[], version, 1)
}

/// One row of `keys_local`.
#[derive(Serialize)]
struct KeyRow<'a> {
    day: &'a str,
    key: &'a str,
    trace_id: &'a str,
}

fn row(
    out: &mut Vec<u8>,
    keys_out: Option<&mut Vec<u8>>,
    mut t: Trace,
    files: &[(u32, String)],
    file_keys: &[(u32, u64)],
    version: u64,
    deleted: u8,
) -> Result<()> {
    use crate::event::AuthMethod;
    let timeline = std::mem::take(&mut t.timeline);
    let (numbers, lines) = timeline_text(&timeline);
    let (ip_kind, ip_hi, ip_lo) = ip_parts(t.client.ip.as_deref());
    let lower = |a: &str| a.to_ascii_lowercase();
    let sender = t.from.as_deref().map(lower).unwrap_or_default();
    let rcpt: Vec<String> = t.recipients.iter().map(|r| lower(&r.address)).collect();
    let orig: Vec<String> = t
        .recipients
        .iter()
        .map(|r| r.orig_to.as_deref().map(lower).unwrap_or_default())
        .collect();
    let day = t.first_time.date_naive().format("%Y-%m-%d").to_string();
    if let Some(keys_out) = keys_out {
        let of = super::keys::Of {
            sender: t.from.is_some().then_some(sender.as_str()),
            recipients: rcpt
                .iter()
                .chain(
                    orig.iter()
                        .zip(&t.recipients)
                        .filter(|(_, r)| r.orig_to.is_some())
                        .map(|(o, _)| o),
                )
                .map(String::as_str)
                .collect(),
            queue_ids: &t.queue_ids,
            message_id: t.message_id.as_deref(),
            handed_to: crate::path::leg::handed_to(&t).collect(),
        };
        for key in of.keys() {
            serde_json::to_writer(
                &mut *keys_out,
                &KeyRow {
                    day: &day,
                    key: &key,
                    trace_id: &t.trace_id,
                },
            )?;
            keys_out.push(b'\n');
        }
    }
    let row = TraceRow {
        day,
        trace_id: &t.trace_id,
        version,
        deleted,
        first_time: t.first_time.timestamp_micros(),
        last_time: t.last_time.timestamp_micros(),
        host: t.host.to_ascii_lowercase(),
        has_from: u8::from(t.from.is_some()),
        sender_domain: domain(&sender).to_string(),
        sender,
        has_message_id: u8::from(t.message_id.is_some()),
        message_id: t.message_id.as_deref().unwrap_or(""),
        queue_ids: &t.queue_ids,
        direction: t.direction.map_or("", |d| d.as_str()),
        ip_kind,
        ip_hi,
        ip_lo,
        subject_words: subject_words(t.subject.as_deref()),
        virus: u8::from(t.virus.is_some()),
        spam: u8::from(t.spam_flagged()),
        auth_failed: [
            (AuthMethod::Spf, "spf"),
            (AuthMethod::Dkim, "dkim"),
            (AuthMethod::Dmarc, "dmarc"),
        ]
        .into_iter()
        .filter(|(m, _)| crate::query::auth_failed(&t, *m))
        .map(|(_, name)| name)
        .collect(),
        rcpt_domain: rcpt.iter().map(|a| domain(a).to_string()).collect(),
        rcpt,
        has_orig: t.recipients.iter().map(|r| u8::from(r.orig_to.is_some())).collect(),
        orig_domain: orig.iter().map(|a| domain(a).to_string()).collect(),
        orig,
        status: t.recipients.iter().map(|r| r.status.as_str()).collect(),
        folder: t.recipients.iter().map(|r| folder(r.folder.as_deref())).collect(),
        file_ids: file_keys.iter().map(|(id, _)| *id).collect(),
        file_keys: file_keys.iter().map(|(_, k)| *k).collect(),
        trace: json(&TraceBody { trace: &t, files }, 4096)?,
        timeline: numbers,
        lines,
    };
    serde_json::to_writer(&mut *out, &row)?;
    out.push(b'\n');
    Ok(())
}

/// One row of `lines_local`.
#[derive(Serialize)]
struct LineRow<'a> {
    day: &'a str,
    file_key: u64,
    file_start: i64,
    offset: u64,
    has_time: u8,
    time: i64,
    file: &'a str,
    line: &'a str,
    raw_hex: String,
}

/// Appends the row of one raw line (of day `day`, `YYYY-MM-DD`) to `out`.
#[allow(clippy::too_many_arguments)]
pub fn line_row(
    out: &mut Vec<u8>,
    day: &str,
    file_key: u64,
    file_start: i64,
    offset: u64,
    time: Option<DateTime<Utc>>,
    file: &str,
    bytes: &[u8],
) -> Result<()> {
    let line = String::from_utf8_lossy(bytes);
    // JSON carries text: a line that is not UTF-8 goes as text and as its bytes in hex
    let raw_hex = match line {
        std::borrow::Cow::Borrowed(_) => String::new(),
        std::borrow::Cow::Owned(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    };
    let row = LineRow {
        day,
        file_key,
        file_start,
        offset,
        has_time: u8::from(time.is_some()),
        time: time.map_or(0, |t| t.timestamp_micros()),
        file,
        line: &line,
        raw_hex,
    };
    serde_json::to_writer(&mut *out, &row)?;
    out.push(b'\n');
    Ok(())
}

/// The bytes of a line kept by [`line_row`]: `raw_hex` decoded when there is one.
pub fn line_bytes(line: String, raw_hex: &str) -> Vec<u8> {
    if raw_hex.is_empty() {
        return line.into_bytes();
    }
    (0..raw_hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(raw_hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_words_keep_phrases_inside_one_text() {
        assert_eq!(subject_words(Some("Your ORDER 12-X")), " your order 12 x ");
        assert_eq!(subject_words(None), "");
        let encoded = subject_words(Some("=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?="));
        assert_eq!(encoded, " utf 8 b r3ldvmofzsbhdxmgs8o2bg4 \n grüße aus köln ");
    }

    #[test]
    fn a_line_that_is_not_utf8_comes_back_byte_for_byte() {
        let bytes = b"Nov 24 mx1 \x00\xe3\x1f ok\r";
        let mut out = Vec::new();
        line_row(&mut out, "2026-11-24", 1, 0, 0, None, "f", bytes).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let (line, hex) = (v["line"].as_str().unwrap().to_string(), v["raw_hex"].as_str().unwrap());
        assert_eq!(line_bytes(line, hex), bytes);
        let mut out = Vec::new();
        line_row(&mut out, "2026-11-24", 1, 0, 0, None, "f", b"plain").unwrap();
        assert!(String::from_utf8(out).unwrap().contains("\"raw_hex\":\"\""));
    }

    #[test]
    fn ip_halves() {
        assert_eq!(ip_parts(Some("192.0.2.1")), (4, 0, 0xc000_0201));
        assert_eq!(ip_parts(Some("2001:db8::1")), (6, 0x2001_0db8_0000_0000, 1));
        assert_eq!(ip_parts(Some("unknown")), (0, 0, 0));
        assert_eq!(folder(Some("INBOX.Spam")), "=inbox.spam");
        assert_eq!(domain("a@b@Example.com"), "Example.com");
    }
}
