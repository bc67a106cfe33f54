//! `mailtrace report`: the daily overview admins use pflogsumm for, from the rows of a search
//! (the store, or `--log`): volume per hour, statuses, top senders, recipients and their
//! domains, rejects by reason class, bounce and deferral replies, delivery times.
//! `text.rs` writes it for a terminal or a mail, `html.rs` as one page with inline SVG charts.

pub mod html;
pub mod text;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

use crate::output::Row;

/// One entry of a top list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Top {
    pub name: String,
    pub count: u64,
}

/// The overview of a window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Messages (distinct traces) and recipients (rows).
    pub messages: u64,
    pub recipients: u64,
    /// Recipients by status, in the order of the status words.
    pub statuses: Vec<Top>,
    /// Messages received per hour (UTC), oldest first: the hour's start and the count.
    pub per_hour: Vec<(DateTime<Utc>, u64)>,
    pub top_senders: Vec<Top>,
    pub top_sender_domains: Vec<Top>,
    pub top_recipients: Vec<Top>,
    pub top_recipient_domains: Vec<Top>,
    /// Rejected recipients by reason class (as `mailtrace_rejects_total`).
    pub rejects_by_reason: Vec<Top>,
    /// The commonest replies of bounced and of deferred recipients (ids and addresses masked).
    pub bounce_replies: Vec<Top>,
    pub deferral_replies: Vec<Top>,
    /// Seconds from arrival to delivery of delivered recipients: 50th, 90th, 99th percentile
    /// and the longest (`None` with no delivery).
    pub delivery_seconds: Option<[f64; 4]>,
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Html,
    Json,
}

impl Report {
    /// Writes the report as `format`.
    pub fn write(&self, format: Format, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
        match format {
            Format::Text => text::write(self, out),
            Format::Html => html::write(self, out),
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)?;
                Ok(())
            }
        }
    }

    /// The report over `rows`, with the `top` first of each list.
    pub fn from_rows(rows: &[Row], since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, top: usize) -> Report {
        let mut tally = Tally::default();
        tally.add(rows);
        tally.finish(since, until, top)
    }
}

/// A report's counts, added up a batch of rows at a time, so the rows of a search need not be
/// held all at once (`report` over a store: [`crate::store::backend::Backend::search_each`]).
/// It keeps a 128-bit hash per message (to count each once), a number per delivered row (for
/// the percentiles) and a count per distinct name of the top lists.
#[derive(Default)]
pub struct Tally {
    traces: HashSet<u128>,
    rows: u64,
    hours: BTreeMap<DateTime<Utc>, u64>,
    /// statuses, senders, sender domains, recipients, recipient domains, rejects, bounce and
    /// deferral replies
    counts: [HashMap<String, u64>; 8],
    delivery: Vec<f64>,
}

impl Tally {
    /// Counts `rows` in.
    pub fn add(&mut self, rows: &[Row]) {
        let time = |s: &str| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc));
        let [statuses, senders, sender_domains, recipients, recipient_domains, rejects, bounces, deferrals] =
            &mut self.counts;
        for r in rows {
            self.rows += 1;
            *statuses.entry(r.status.clone()).or_default() += 1;
            if self.traces.insert(xxhash_rust::xxh3::xxh3_128(r.trace_id.as_bytes())) {
                if let Some(t) = time(&r.time) {
                    let hour = t
                        .with_minute(0)
                        .and_then(|t| t.with_second(0))
                        .and_then(|t| t.with_nanosecond(0));
                    *self.hours.entry(hour.unwrap_or(t)).or_default() += 1;
                }
                let from = r.from.as_deref().filter(|f| !f.is_empty()).unwrap_or("<>");
                *senders.entry(from.to_ascii_lowercase()).or_default() += 1;
                *sender_domains.entry(domain(from)).or_default() += 1;
            }
            if let Some(to) = r.to.as_deref() {
                *recipients.entry(to.to_ascii_lowercase()).or_default() += 1;
                *recipient_domains.entry(domain(to)).or_default() += 1;
            }
            let reply = r.response.as_deref().unwrap_or("");
            match r.status.as_str() {
                "rejected" => {
                    let spam = r
                        .spam_verdict
                        .as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case("spam"));
                    let class = crate::metrics::reject::classify(reply, r.virus.is_some(), spam);
                    *rejects.entry(class.to_string()).or_default() += 1;
                }
                "bounced" | "expired" => *bounces.entry(masked(reply)).or_default() += 1,
                "deferred" => *deferrals.entry(masked(reply)).or_default() += 1,
                "delivered" => {
                    if let (Some(a), Some(b)) = (time(&r.time), time(&r.last_time)) {
                        self.delivery.push((b - a).num_milliseconds() as f64 / 1000.0);
                    }
                }
                _ => {}
            }
        }
    }

    /// How many rows were counted.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The report of the rows counted, over the window `since`…`until`, with the `top` first
    /// of each list.
    pub fn finish(self, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, top: usize) -> Report {
        let Tally {
            traces,
            rows,
            mut hours,
            counts,
            mut delivery,
        } = self;
        let [statuses, senders, sender_domains, recipients, recipient_domains, rejects, bounces, deferrals] = counts;
        fill_hours(&mut hours, since, until);
        let order = |s: &str| crate::trace::Status::parse(s).map_or(usize::MAX, |s| s as usize);
        let mut status_list = firsts(&statuses, usize::MAX);
        status_list.sort_by_key(|t| order(&t.name));
        delivery.sort_by(f64::total_cmp);
        let pct = |p: f64| delivery[((delivery.len() - 1) as f64 * p).round() as usize];
        Report {
            since,
            until,
            messages: traces.len() as u64,
            recipients: rows,
            statuses: status_list,
            per_hour: hours.into_iter().collect(),
            top_senders: firsts(&senders, top),
            top_sender_domains: firsts(&sender_domains, top),
            top_recipients: firsts(&recipients, top),
            top_recipient_domains: firsts(&recipient_domains, top),
            rejects_by_reason: firsts(&rejects, usize::MAX),
            bounce_replies: firsts(&bounces, top),
            deferral_replies: firsts(&deferrals, top),
            delivery_seconds: (!delivery.is_empty())
                .then(|| [pct(0.5), pct(0.9), pct(0.99), delivery[delivery.len() - 1]]),
        }
    }
}

/// Adds the hours without a message, between the window's bounds when it gives both (up to 31
/// days), else between the first and last hour with one, so a chart shows quiet hours.
fn fill_hours(hours: &mut BTreeMap<DateTime<Utc>, u64>, since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) {
    let floor = |t: DateTime<Utc>| {
        t - chrono::Duration::seconds(t.timestamp().rem_euclid(3600))
            - chrono::Duration::nanoseconds(t.timestamp_subsec_nanos().into())
    };
    let (first, last) = match (since, until) {
        (Some(a), Some(b)) if b > a && b - a <= chrono::Duration::days(31) => {
            (floor(a), floor(b - chrono::Duration::nanoseconds(1)))
        }
        _ => match (hours.keys().next(), hours.keys().next_back()) {
            (Some(a), Some(b)) => (*a, *b),
            _ => return,
        },
    };
    let mut h = first;
    while h <= last {
        hours.entry(h).or_insert(0);
        h += chrono::Duration::hours(1);
    }
}

/// The `n` largest counts, largest first (ties by name).
fn firsts(counts: &HashMap<String, u64>, n: usize) -> Vec<Top> {
    let mut all: Vec<Top> = counts
        .iter()
        .map(|(name, count)| Top {
            name: name.clone(),
            count: *count,
        })
        .collect();
    all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    all.truncate(n);
    all
}

/// An address's domain, lowercase (`<>` for the null sender).
fn domain(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((_, d)) => d.to_ascii_lowercase(),
        None => address.to_ascii_lowercase(),
    }
}

/// A reply with what differs between messages masked, so the same reason groups: addresses
/// in `<…>`, bracketed addresses `[…]`, and runs of digits and hex ids of 5 or more.
pub fn masked(reply: &str) -> String {
    let mut out = String::with_capacity(reply.len());
    let mut chars = reply.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' | '[' => {
                let close = if c == '<' { '>' } else { ']' };
                let inner: String = chars.by_ref().take_while(|&x| x != close).collect();
                out.push(c);
                out.push_str(if inner.is_empty() { "" } else { "…" });
                out.push(close);
            }
            c if c.is_ascii_alphanumeric() => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '.' || n == '-' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let digits = word.chars().filter(char::is_ascii_digit).count();
                if word.len() >= 5 && digits >= 3 && !word.contains('.') {
                    out.push('…');
                } else {
                    out.push_str(&word);
                }
            }
            c => out.push(c),
        }
    }
    out.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_group_with_their_ids_masked() {
        assert_eq!(
            masked("450 4.2.0 <marco.rossi@example.com>: Recipient address rejected: Greylisted"),
            "450 4.2.0 <…>: Recipient address rejected: Greylisted"
        );
        assert_eq!(
            masked("host mx.example.net[203.0.113.9] said: 452 4.2.2 Mailbox full id=A1B2C3D4E5"),
            "host mx.example.net[…] said: 452 4.2.2 Mailbox full id=…"
        );
        assert_eq!(
            masked("delivery temporarily suspended: connect to x.example[192.0.2.1]:25: Connection timed out"),
            "delivery temporarily suspended: connect to x.example[…]:25: Connection timed out"
        );
    }
}
