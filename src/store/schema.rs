//! The documents of a day index: one per (message, recipient) row, plus one per message that
//! holds the whole trace with its raw lines.
//!
//! Row documents carry the output-contract row (stored, as JSON) and the fields criteria
//! search: addresses and their domains lowercased as single terms (so exact, domain and
//! wildcard lookups are term and regex queries), the subject as words with positions (for
//! phrases), the client IP as an IP field and both times as fast fields. The trace document is
//! stored once per message however many recipients it has; the doc store compresses it (zstd).

use std::net::{IpAddr, Ipv6Addr};

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::TantivyDocument;

use crate::output::Row;
use crate::query::{subject_texts, words};
use crate::trace::Trace;

/// `kind` of a row document.
pub const KIND_ROW: &str = "row";
/// `kind` of a trace document.
pub const KIND_TRACE: &str = "trace";

/// Position gap between the subject as logged and its decoded form, so no phrase spans both.
const TEXT_GAP: usize = 64;

/// The fields of a day index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub kind: Field,
    pub trace_id: Field,
    /// Recipient index within the trace (row order).
    pub rcpt: Field,
    /// First and last time, microseconds since the epoch.
    pub time: Field,
    pub last_time: Field,
    pub from: Field,
    pub from_domain: Field,
    /// The recipient and its original address.
    pub to: Field,
    pub to_domain: Field,
    pub message_id: Field,
    pub queue_id: Field,
    pub status: Field,
    pub direction: Field,
    pub client_ip: Field,
    pub host: Field,
    pub subject: Field,
    /// The row as JSON (row documents) or the [`StoredTrace`] as JSON (trace documents).
    pub body: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let subject_opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let f = Fields {
            kind: b.add_text_field("kind", STRING),
            trace_id: b.add_text_field("trace_id", STRING | STORED),
            rcpt: b.add_u64_field("rcpt", STORED),
            time: b.add_i64_field("time", FAST | STORED),
            last_time: b.add_i64_field("last_time", FAST),
            from: b.add_text_field("from", STRING),
            from_domain: b.add_text_field("from_domain", STRING),
            to: b.add_text_field("to", STRING),
            to_domain: b.add_text_field("to_domain", STRING),
            message_id: b.add_text_field("message_id", STRING),
            queue_id: b.add_text_field("queue_id", STRING),
            status: b.add_text_field("status", STRING),
            direction: b.add_text_field("direction", STRING),
            client_ip: b.add_ip_addr_field("client_ip", INDEXED | FAST),
            host: b.add_text_field("host", STRING),
            subject: b.add_text_field("subject", subject_opts),
            body: b.add_text_field("body", STORED),
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
            kind: get("kind")?,
            trace_id: get("trace_id")?,
            rcpt: get("rcpt")?,
            time: get("time")?,
            last_time: get("last_time")?,
            from: get("from")?,
            from_domain: get("from_domain")?,
            to: get("to")?,
            to_domain: get("to_domain")?,
            message_id: get("message_id")?,
            queue_id: get("queue_id")?,
            status: get("status")?,
            direction: get("direction")?,
            client_ip: get("client_ip")?,
            host: get("host")?,
            subject: get("subject")?,
            body: get("body")?,
        })
    }

    /// The documents of one trace: its rows, then the trace itself.
    pub fn documents(&self, t: &Trace, files: &[(u32, String)]) -> Result<Vec<TantivyDocument>> {
        let rows: Vec<Option<usize>> = if t.recipients.is_empty() {
            vec![None]
        } else {
            (0..t.recipients.len()).map(Some).collect()
        };
        let subject = t.subject.as_deref().map(subject_tokens);
        let ip = t.client.ip.as_deref().and_then(|a| a.parse::<IpAddr>().ok()).map(ipv6);
        let mut docs = Vec::with_capacity(rows.len() + 1);
        for (n, i) in rows.into_iter().enumerate() {
            let row = Row::new(t, i);
            let mut d = TantivyDocument::default();
            d.add_text(self.kind, KIND_ROW);
            d.add_text(self.trace_id, &t.trace_id);
            d.add_u64(self.rcpt, n as u64);
            d.add_i64(self.time, t.first_time.timestamp_micros());
            d.add_i64(self.last_time, t.last_time.timestamp_micros());
            if let Some(from) = &t.from {
                self.add_address(&mut d, self.from, self.from_domain, from);
            }
            if let Some(r) = i.map(|i| &t.recipients[i]) {
                self.add_address(&mut d, self.to, self.to_domain, &r.address);
                if let Some(o) = &r.orig_to {
                    self.add_address(&mut d, self.to, self.to_domain, o);
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
            d.add_text(self.host, t.host.to_ascii_lowercase());
            if let Some(s) = &subject {
                d.add_pre_tokenized_text(self.subject, s.clone());
            }
            d.add_text(self.body, serde_json::to_string(&row)?);
            docs.push(d);
        }
        let mut d = TantivyDocument::default();
        d.add_text(self.kind, KIND_TRACE);
        d.add_text(self.trace_id, &t.trace_id);
        d.add_i64(self.time, t.first_time.timestamp_micros());
        if let Some(m) = &t.message_id {
            d.add_text(self.message_id, m);
        }
        for q in &t.queue_ids {
            d.add_text(self.queue_id, q);
        }
        let stored = StoredTrace {
            trace: t.clone(),
            files: files.to_vec(),
        };
        d.add_text(self.body, serde_json::to_string(&stored)?);
        docs.push(d);
        Ok(docs)
    }

    fn add_address(&self, d: &mut TantivyDocument, field: Field, domain: Field, address: &str) {
        let lower = address.to_ascii_lowercase();
        let dom = lower.rsplit_once('@').map_or("", |(_, d)| d).to_string();
        d.add_text(field, lower);
        d.add_text(domain, dom);
    }
}

/// A trace as the store keeps it: with its raw lines, and the names of the files they came
/// from (by the file numbers in the timeline).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTrace {
    pub trace: Trace,
    pub files: Vec<(u32, String)>,
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

/// IPv4 addresses are stored IPv4-mapped, as tantivy's IP fields hold IPv6.
pub fn ipv6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}
