//! Prometheus metrics: what the writers (`index`, `follow`) have seen, kept with the store.
//!
//! Counters grow as messages finish: a message is counted once, when the assembler hands it
//! out finished, never when a message in flight is written as it stands (that one is in the
//! in-flight gauges until it finishes). They live in the writer's state (`state.json`, saved
//! with the positions after each commit), so an interrupted run that is redone counts nothing
//! twice, and a restart goes on counting from where the store is. `follow --metrics ADDR`
//! serves them live; `serve` serves them from the store at `/metrics`. `exposition.rs` writes
//! the text format, `reject.rs` sorts rejects into reason classes.

pub mod exposition;
pub mod reject;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::trace::{Status, Trace};

/// Upper bounds (seconds) of the delay histograms' buckets.
pub const DELAY_BUCKETS: [f64; 12] = [
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0,
];

/// The parts of Postfix's `delays=a/b/c/d`, as labels.
pub const DELAY_PARTS: [&str; 4] = ["before_queue_manager", "in_queue", "connection_setup", "transmission"];

/// A histogram: counts per bucket of [`DELAY_BUCKETS`] (not cumulative), the sum and count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub buckets: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        if self.buckets.len() != DELAY_BUCKETS.len() {
            self.buckets.resize(DELAY_BUCKETS.len(), 0);
        }
        if let Some(i) = DELAY_BUCKETS.iter().position(|b| v <= *b) {
            self.buckets[i] += 1;
        }
        self.sum += v;
        self.count += 1;
    }
}

/// Labels joined by a tab (JSON maps need string keys; no label value holds a tab).
fn key(labels: &[&str]) -> String {
    labels
        .iter()
        .map(|l| l.replace('\t', " "))
        .collect::<Vec<_>>()
        .join("\t")
}

/// What the writers have counted (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Finished messages by `host\tdirection`.
    #[serde(default)]
    pub messages: BTreeMap<String, u64>,
    /// Their recipients by `host\tdirection\tstatus` (a message without one counts once as
    /// `in-progress`, as `stats` counts it).
    #[serde(default)]
    pub recipients: BTreeMap<String, u64>,
    /// Rejected recipients by `host\treason` ([`reject::reason`]).
    #[serde(default)]
    pub rejects: BTreeMap<String, u64>,
    /// Postfix's delays of the recipients' last attempts, by part ([`DELAY_PARTS`]).
    #[serde(default)]
    pub delays: BTreeMap<String, Histogram>,
    /// Log lines read, and those not understood, by program.
    #[serde(default)]
    pub lines: u64,
    #[serde(default)]
    pub unrecognised: BTreeMap<String, u64>,
    /// The messages in flight at the last commit, by `host\tdirection`, and their recipients
    /// by `host\tdirection\tstatus` (gauges: replaced at every commit).
    #[serde(default)]
    pub in_flight_messages: BTreeMap<String, u64>,
    #[serde(default)]
    pub in_flight_recipients: BTreeMap<String, u64>,
}

impl Counters {
    pub fn is_empty(&self) -> bool {
        *self == Counters::default()
    }

    /// Counts a finished message.
    pub fn add_finished(&mut self, t: &Trace) {
        count(t, &mut self.messages, &mut self.recipients);
        for r in &t.recipients {
            if r.status == Status::Rejected {
                *self.rejects.entry(key(&[&t.host, reject::reason(r, t)])).or_default() += 1;
            }
            if let Some(d) = &r.delays {
                let parts = [d.before_qmgr, d.in_qmgr, d.conn_setup, d.transmission];
                for (name, v) in DELAY_PARTS.iter().zip(parts) {
                    self.delays.entry((*name).to_string()).or_default().observe(v);
                }
            }
        }
    }

    /// Replaces the in-flight gauges with the messages in flight now.
    pub fn set_in_flight(&mut self, open: &[Trace]) {
        self.in_flight_messages.clear();
        self.in_flight_recipients.clear();
        for t in open {
            count(t, &mut self.in_flight_messages, &mut self.in_flight_recipients);
        }
    }

    /// Adds lines read and lines not understood, by program.
    pub fn add_lines(&mut self, lines: u64, unrecognised: impl IntoIterator<Item = (String, u64)>) {
        self.lines += lines;
        for (program, n) in unrecognised {
            if n > 0 {
                *self.unrecognised.entry(program).or_default() += n;
            }
        }
    }
}

fn count(t: &Trace, messages: &mut BTreeMap<String, u64>, recipients: &mut BTreeMap<String, u64>) {
    let direction = t.direction.map_or("unknown", |d| d.as_str());
    *messages.entry(key(&[&t.host, direction])).or_default() += 1;
    if t.recipients.is_empty() {
        *recipients
            .entry(key(&[&t.host, direction, Status::InProgress.as_str()]))
            .or_default() += 1;
    }
    for r in &t.recipients {
        *recipients
            .entry(key(&[&t.host, direction, r.status.as_str()]))
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Recipient;

    #[test]
    fn a_finished_message_is_counted_by_host_direction_status_and_reason() {
        let mut t = Trace::new("mx1:A:1".into(), "mx1", chrono::Utc::now());
        t.direction = Some(crate::trace::Direction::Inbound);
        let mut a = Recipient::new("a@example.com");
        a.status = Status::Rejected;
        a.response = Some("554 5.7.1 <a@example.com>: Relay access denied".into());
        let mut b = Recipient::new("b@example.com");
        b.status = Status::Delivered;
        b.delays = Some(crate::event::Delays {
            total: 1.5,
            before_qmgr: 0.2,
            in_qmgr: 0.05,
            conn_setup: 0.25,
            transmission: 1.0,
        });
        t.recipients = vec![a, b];
        let mut c = Counters::default();
        c.add_finished(&t);
        c.add_finished(&Trace::new("mx1:B:2".into(), "mx1", chrono::Utc::now()));
        assert_eq!(
            c.messages,
            BTreeMap::from([("mx1\tinbound".into(), 1), ("mx1\tunknown".into(), 1)])
        );
        assert_eq!(
            c.recipients,
            BTreeMap::from([
                ("mx1\tinbound\tdelivered".into(), 1),
                ("mx1\tinbound\trejected".into(), 1),
                ("mx1\tunknown\tin-progress".into(), 1),
            ])
        );
        assert_eq!(c.rejects, BTreeMap::from([("mx1\trelay_denied".into(), 1)]));
        let h = &c.delays["transmission"];
        assert_eq!((h.count, h.sum), (1, 1.0));
        assert_eq!(h.buckets[2], 1, "1.0 s falls in the bucket up to 1 s");
        assert_eq!(c.delays["before_queue_manager"].buckets[1], 1);
        // the gauges are replaced, not added to
        c.set_in_flight(std::slice::from_ref(&t));
        c.set_in_flight(std::slice::from_ref(&t));
        assert_eq!(c.in_flight_messages, BTreeMap::from([("mx1\tinbound".into(), 1)]));
    }
}
