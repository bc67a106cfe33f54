//! The documents of a day index: one per (message, recipient) row; the first row of each
//! message also holds the whole trace with its raw lines.
//!
//! Row documents carry the output-contract row (stored, as JSON) and the fields criteria
//! search: addresses and their domains lowercased as single terms (so exact, domain and
//! wildcard lookups are term and regex queries), the subject as words with positions (for
//! phrases), the client IP and both times as fast fields. The trace is stored once per message
//! however many recipients it has (in row 0), and the doc store compresses it (zstd). A
//! message's documents share `trace_key`, a 64-bit hash of its trace id: a short term to
//! delete and replace them by.

use std::net::{IpAddr, Ipv6Addr};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tantivy::schema::Value;
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED,
    STORED,
};
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::TantivyDocument;

use crate::event::LineRef;
use crate::output::Row;
use crate::query::{subject_texts, words};
use crate::trace::model::TimelineEntry;
use crate::trace::Trace;

/// Position gap between the subject as logged and its decoded form, so no phrase spans both.
const TEXT_GAP: usize = 64;

/// The fields of a day index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// [`trace_key`] of the trace id.
    pub trace_key: Field,
    /// Recipient index within the trace (row order); row 0 holds the trace.
    pub rcpt: Field,
    /// First and last time, microseconds since the epoch.
    pub time: Field,
    pub last_time: Field,
    pub from: Field,
    /// Every suffix of the sender's domain at a dot (see `add_address`).
    pub from_domain: Field,
    /// The sender reversed.
    pub from_rev: Field,
    /// The recipient and its original address.
    pub to: Field,
    pub to_domain: Field,
    pub to_rev: Field,
    pub message_id: Field,
    pub queue_id: Field,
    pub status: Field,
    pub direction: Field,
    pub client_ip: Field,
    pub host: Field,
    pub subject: Field,
    /// What `--spam`, `--virus`, `--auth-fail` and `--folder` look for, as terms (see
    /// [`facts`]). `None` in a day index written before this field existed: those rows have
    /// no such facts.
    pub facts: Option<Field>,
    /// The row as JSON.
    pub body: Field,
    /// Row 0: the trace as JSON, without its timeline.
    pub trace: Field,
    /// Row 0: the timeline as numbers (time µs, file, offset, line, length).
    pub timeline: Field,
    /// Row 0: the raw lines, one per timeline entry, joined by newlines.
    pub lines: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let subject_opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_fieldnorms(false)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        // single terms, no scoring: no field norms
        let exact = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_fieldnorms(false)
                .set_index_option(IndexRecordOption::Basic),
        );
        // log times carry microseconds: keep them all (tantivy's default is seconds)
        let time_opts = DateOptions::from(FAST).set_precision(DateTimePrecision::Microseconds);
        let f = Fields {
            trace_key: b.add_u64_field("trace_key", INDEXED),
            rcpt: b.add_u64_field("rcpt", FAST),
            time: b.add_date_field("time", time_opts.clone()),
            last_time: b.add_date_field("last_time", time_opts),
            from: b.add_text_field("from", exact.clone()),
            from_domain: b.add_text_field("from_domain", exact.clone()),
            from_rev: b.add_text_field("from_rev", exact.clone()),
            to: b.add_text_field("to", exact.clone()),
            to_domain: b.add_text_field("to_domain", exact.clone()),
            to_rev: b.add_text_field("to_rev", exact.clone()),
            message_id: b.add_text_field("message_id", exact.clone()),
            queue_id: b.add_text_field("queue_id", exact.clone()),
            status: b.add_text_field("status", exact.clone()),
            direction: b.add_text_field("direction", exact.clone()),
            client_ip: b.add_ip_addr_field("client_ip", FAST),
            host: b.add_text_field("host", exact.clone()),
            subject: b.add_text_field("subject", subject_opts),
            facts: Some(b.add_text_field("facts", exact.clone())),
            body: b.add_text_field("body", STORED),
            trace: b.add_text_field("trace", STORED),
            timeline: b.add_text_field("timeline", STORED),
            lines: b.add_text_field("lines", STORED),
        };
        (b.build(), f)
    }

    /// Resolves the fields of an index's schema (an index built by this version).
    pub fn from_schema(schema: &Schema) -> Result<Fields> {
        let get = |name: &str| {
            schema
                .get_field(name)
                .map_err(|_| anyhow::anyhow!("the store was written by another version (no field '{name}')"))
        };
        Ok(Fields {
            trace_key: get("trace_key")?,
            rcpt: get("rcpt")?,
            time: get("time")?,
            last_time: get("last_time")?,
            from: get("from")?,
            from_domain: get("from_domain")?,
            from_rev: get("from_rev")?,
            to: get("to")?,
            to_domain: get("to_domain")?,
            to_rev: get("to_rev")?,
            message_id: get("message_id")?,
            queue_id: get("queue_id")?,
            status: get("status")?,
            direction: get("direction")?,
            client_ip: get("client_ip")?,
            host: get("host")?,
            subject: get("subject")?,
            facts: schema.get_field("facts").ok(),
            body: get("body")?,
            trace: get("trace")?,
            timeline: get("timeline")?,
            lines: get("lines")?,
        })
    }

    /// The documents of one trace, one per row; the first also holds the trace.
    pub fn documents(&self, mut t: Trace, files: &[(u32, String)]) -> Result<Vec<TantivyDocument>> {
        let t = &mut t;
        let rows: Vec<Option<usize>> = if t.recipients.is_empty() {
            vec![None]
        } else {
            (0..t.recipients.len()).map(Some).collect()
        };
        let key = trace_key(&t.trace_id);
        let subject = t.subject.as_deref().map(subject_tokens);
        let ip = t.client.ip.as_deref().and_then(|a| a.parse::<IpAddr>().ok()).map(ipv6);
        let host = t.host.to_ascii_lowercase();
        let mut docs = Vec::with_capacity(rows.len());
        for (n, i) in rows.into_iter().enumerate() {
            let row = Row::new(t, i);
            let mut d = TantivyDocument::default();
            d.add_u64(self.trace_key, key);
            d.add_u64(self.rcpt, n as u64);
            d.add_date(self.time, date(t.first_time));
            d.add_date(self.last_time, date(t.last_time));
            if let Some(from) = &t.from {
                self.add_address(&mut d, [self.from, self.from_rev, self.from_domain], from);
            }
            if let Some(r) = i.map(|i| &t.recipients[i]) {
                self.add_address(&mut d, [self.to, self.to_rev, self.to_domain], &r.address);
                if let Some(o) = &r.orig_to {
                    self.add_address(&mut d, [self.to, self.to_rev, self.to_domain], o);
                }
            }
            if let Some(m) = &t.message_id {
                d.add_text(self.message_id, m);
            }
            for q in &t.queue_ids {
                d.add_text(self.queue_id, q);
            }
            d.add_text(self.status, &row.status);
            if let Some(dir) = t.direction {
                d.add_text(self.direction, dir.as_str());
            }
            if let Some(ip) = ip {
                d.add_ip_addr(self.client_ip, ip);
            }
            d.add_text(self.host, &host);
            if let Some(s) = &subject {
                d.add_pre_tokenized_text(self.subject, s.clone());
            }
            if let Some(f) = self.facts {
                for fact in facts(t, i.map(|i| &t.recipients[i])) {
                    d.add_text(f, fact);
                }
            }
            d.add_text(self.body, json(&row, 1024)?);
            docs.push(d);
        }
        // the timeline goes apart from the JSON: as numbers, and the raw lines as they are
        // (escaping megabytes of log text into JSON would cost more than parsing it)
        let timeline = std::mem::take(&mut t.timeline);
        let (numbers, lines) = timeline_text(&timeline);
        let first = &mut docs[0];
        if let Some(f) = self.facts {
            // what linking across servers finds a message's previous leg by
            for q in crate::path::leg::handed_to(t) {
                first.add_text(f, handed_to_term(q));
            }
        }
        first.add_text(self.trace, json(&TraceBody { trace: t, files }, 4096)?);
        first.add_text(self.timeline, numbers);
        first.add_text(self.lines, lines);
        Ok(docs)
    }

    /// Reads the trace back from a row-0 document.
    pub fn stored_trace(&self, doc: &TantivyDocument) -> Result<StoredTrace> {
        let text = |f: Field| doc.get_first(f).and_then(|v| v.as_str()).unwrap_or("");
        let mut st: StoredTrace = serde_json::from_str(text(self.trace))?;
        read_timeline(text(self.timeline), text(self.lines), &mut st.trace.timeline)?;
        Ok(st)
    }

    /// An address as three kinds of terms: itself (lowercased), itself reversed (so a wildcard
    /// with a literal end, `*@example.com`, is a prefix walk of the term dictionary), and every
    /// suffix of its domain at a dot (`mail.example.com`, `example.com`, `com`: `@example.com`
    /// is one term, subdomains included).
    fn add_address(&self, d: &mut TantivyDocument, [field, reversed, domain]: [Field; 3], address: &str) {
        let lower = address.to_ascii_lowercase();
        let dom = lower.rsplit_once('@').map_or("", |(_, d)| d);
        d.add_text(domain, dom);
        for (i, _) in dom.match_indices('.') {
            d.add_text(domain, &dom[i + 1..]);
        }
        d.add_text(reversed, lower.chars().rev().collect::<String>());
        d.add_text(field, lower);
    }
}

/// The facts terms of one row: `spam` (the filter's verdict, or this copy filed as spam),
/// `virus`, `fail:spf` / `fail:dkim` / `fail:dmarc`, `folder:NAME` (ASCII-lowercased).
pub fn facts(t: &Trace, r: Option<&crate::trace::Recipient>) -> Vec<String> {
    use crate::event::AuthMethod;
    let mut out = Vec::new();
    if t.spam_flagged() || r.is_some_and(|r| r.status == crate::trace::Status::Spam) {
        out.push("spam".to_string());
    }
    if t.virus.is_some() {
        out.push("virus".to_string());
    }
    for m in [AuthMethod::Spf, AuthMethod::Dkim, AuthMethod::Dmarc] {
        if crate::query::auth_failed(t, m) {
            out.push(fail_term(m).to_string());
        }
    }
    if let Some(f) = r.and_then(|r| r.folder.as_deref()) {
        out.push(folder_term(f));
    }
    out
}

/// The facts term of a failed check.
pub fn fail_term(m: crate::event::AuthMethod) -> &'static str {
    match m {
        crate::event::AuthMethod::Spf => "fail:spf",
        crate::event::AuthMethod::Dkim => "fail:dkim",
        crate::event::AuthMethod::Dmarc => "fail:dmarc",
    }
}

/// The term (of row 0's facts) of a queue id a recipient was handed to.
pub fn handed_to_term(queue_id: &str) -> String {
    format!("next:{queue_id}")
}

/// Reads the trace back from a row-0 document, without its timeline.
pub fn trace_only(fields: &Fields, doc: &TantivyDocument) -> Result<Trace> {
    let text = doc.get_first(fields.trace).and_then(|v| v.as_str()).unwrap_or("");
    Ok(serde_json::from_str::<StoredTrace>(text)?.trace)
}

/// The facts term of a folder.
pub fn folder_term(folder: &str) -> String {
    format!("folder:{}", folder.to_ascii_lowercase())
}

/// A trace as the store gives it back: with its raw lines, and the names of the files they
/// came from (by the file numbers in the timeline).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTrace {
    pub trace: Trace,
    pub files: Vec<(u32, String)>,
}

/// `value` as JSON, into a buffer sized up front (growing it step by step from empty costs
/// more than writing the JSON).
pub fn json(value: &impl Serialize, capacity: usize) -> Result<String> {
    let mut buf = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut buf, value)?;
    Ok(String::from_utf8(buf).expect("serde_json writes UTF-8"))
}

/// The key a trace's documents share: the first 64 bits of xxh3 of its trace id.
pub fn trace_key(trace_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(trace_id.as_bytes())
}

/// What the `trace` field of row 0 holds (the timeline is stored apart).
#[derive(Serialize)]
pub struct TraceBody<'a> {
    pub trace: &'a Trace,
    pub files: &'a [(u32, String)],
}

/// A timeline as two texts: its entries as numbers (time µs, file, offset, line, length; one
/// entry per space-separated group) and the raw lines joined by newlines (a line holds none).
pub fn timeline_text(timeline: &[TimelineEntry]) -> (String, String) {
    let mut numbers = String::with_capacity(timeline.len() * 40);
    let mut lines = String::with_capacity(timeline.iter().map(|e| e.text.len() + 1).sum());
    for (i, e) in timeline.iter().enumerate() {
        if i > 0 {
            numbers.push(' ');
            lines.push('\n');
        }
        let mut b = itoa::Buffer::new();
        numbers.push_str(b.format(e.time.timestamp_micros()));
        for n in [
            u64::from(e.line.file),
            e.line.offset,
            e.line.line,
            u64::from(e.line.len),
        ] {
            numbers.push(',');
            numbers.push_str(b.format(n));
        }
        lines.push_str(&e.text);
    }
    (numbers, lines)
}

/// Reads back what [`timeline_text`] wrote, appending the entries to `out`.
pub fn read_timeline(numbers: &str, lines: &str, out: &mut Vec<TimelineEntry>) -> Result<()> {
    let mut lines = lines.split('\n');
    for entry in numbers.split(' ').filter(|e| !e.is_empty()) {
        let mut n = entry.split(',').map(str::parse::<i64>);
        let mut next = || -> Result<i64> { Ok(n.next().context("short timeline entry")??) };
        let time = chrono::DateTime::from_timestamp_micros(next()?).context("bad timeline time")?;
        let line = LineRef {
            file: next()? as u32,
            offset: next()? as u64,
            line: next()? as u64,
            len: next()? as u32,
        };
        out.push(TimelineEntry {
            time,
            line,
            text: lines.next().unwrap_or("").into(),
        });
    }
    Ok(())
}

/// The subject's words (as logged, then decoded) with positions, tokenized exactly as
/// [`crate::query::words`] does for `search --log`.
fn subject_tokens(subject: &str) -> PreTokenizedString {
    let texts = subject_texts(subject);
    let mut tokens = Vec::new();
    let mut position = 0;
    for text in &texts {
        for w in words(text) {
            tokens.push(Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text: w,
                position_length: 1,
            });
            position += 1;
        }
        position += TEXT_GAP;
    }
    PreTokenizedString {
        text: subject.to_string(),
        tokens,
    }
}

/// A time as tantivy's date, to the microsecond. Tantivy counts nanoseconds in an `i64`
/// (1677-09-21 … 2262-04-11): a time outside (a search's `since=3000-01-01`) is held at that
/// edge, where it still bounds every stored time the same way, rather than wrapping around.
pub fn date(t: chrono::DateTime<chrono::Utc>) -> tantivy::DateTime {
    const EDGE: i64 = i64::MAX / 1000;
    tantivy::DateTime::from_timestamp_micros(t.timestamp_micros().clamp(-EDGE, EDGE))
}

/// IPv4 addresses are stored IPv4-mapped, as tantivy's IP fields hold IPv6.
pub fn ipv6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}
