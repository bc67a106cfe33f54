//! Linking the legs a store holds, when it is read.
//!
//! A store keeps each server's leg as its own message, indexed in whatever order and run the
//! logs came in; the links are made when rows are read, so a leg indexed today links to one
//! stored last week. From the rows (or traces) at hand, the legs around them are looked up
//! round by round ([`Backend::linked`]): the messages handed to (the reply's queue id), those
//! that handed to them (a reply naming their queue id), and those with the same Message-ID,
//! within the days a message can stay queued. Each round asks only for keys not asked before,
//! and stops when nothing new comes back or the path is as long as linking follows. The legs
//! found are then joined exactly as the legs of `--log` are ([`Legs::new`]). A store that
//! knows it holds one server's messages ([`Backend::hosts`]) is not looked up at all.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, Duration, Utc};

use super::leg::{handed_to, key, LegSet};
use super::link::{Legs, MAX_HOPS};
use crate::output::Row;
use crate::store::backend::{Backend, LinkKeys};
use crate::trace::Trace;

/// How long before a leg the one that handed it on may have arrived (Postfix's default
/// `maximal_queue_lifetime`), and how long after a leg's last line the next may arrive.
const QUEUED: Duration = Duration::days(5);
const AFTER: Duration = Duration::minutes(15);

/// The legs found around some messages of a store, joined, and their trace ids.
pub struct Found {
    pub legs: Legs,
    /// [`key`] of a trace id → the trace id, for every leg found.
    pub trace_ids: HashMap<u64, String>,
}

/// What the look-ups start from: ids of messages and the window they arrived in.
#[derive(Default)]
struct Frontier {
    keys: LinkKeys,
    asked: HashSet<String>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

impl Frontier {
    fn ask(&mut self, kind: char, id: &str, list: fn(&mut LinkKeys) -> &mut Vec<String>) {
        if self.asked.insert(format!("{kind}:{id}")) {
            list(&mut self.keys).push(id.to_string());
        }
    }

    fn times(&mut self, first: DateTime<Utc>, last: DateTime<Utc>) {
        self.first = Some(self.first.map_or(first, |f| f.min(first)));
        self.last = Some(self.last.map_or(last, |l| l.max(last)));
    }

    /// The messages around a message with these ids.
    fn around<'a>(
        &mut self,
        message_id: Option<&str>,
        queue_ids: impl IntoIterator<Item = &'a str>,
        handed: impl IntoIterator<Item = &'a str>,
    ) {
        if let Some(m) = message_id {
            self.ask('m', m, |k| &mut k.message_ids);
        }
        // those that handed this one its queue id, and those it was handed to
        for q in queue_ids {
            self.ask('n', q, |k| &mut k.handed_to);
        }
        for q in handed {
            self.ask('q', q, |k| &mut k.queue_ids);
        }
    }

    fn trace(&mut self, t: &Trace) {
        self.asked.insert(format!("t:{}", t.trace_id));
        self.around(
            t.message_id.as_deref(),
            t.queue_ids.iter().map(String::as_str),
            handed_to(t),
        );
        self.times(t.first_time, t.last_time);
    }

    /// When the legs around the messages seen may have arrived.
    fn window(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (self.first.map(|f| f - QUEUED), self.last.map(|l| l + AFTER))
    }

    /// The keys of this round, in the window of the messages they came from.
    fn take(&mut self) -> LinkKeys {
        let mut keys = std::mem::take(&mut self.keys);
        (keys.since, keys.until) = self.window();
        keys
    }
}

/// The legs around the messages of `rows` (theirs included, when any other was found).
pub fn around_rows(store: &dyn Backend, rows: &[Row], aliases: &BTreeMap<String, Vec<String>>) -> Result<Found> {
    let mut f = Frontier::default();
    let mut ids: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for r in rows {
        if seen.insert(r.trace_id.as_str()) {
            ids.push(r.trace_id.clone());
        }
        let reply = r.response.as_deref().and_then(super::leg::reply_queue_id);
        f.around(r.message_id.as_deref(), r.queue_ids.iter().map(String::as_str), reply);
        if let (Ok(first), Ok(last)) = (r.time.parse(), r.last_time.parse()) {
            f.times(first, last);
        }
    }
    // legs of one host do not link to each other: rows of several are read at once
    let hosts: HashSet<&str> = rows.iter().map(|r| r.host.as_str()).collect();
    if hosts.len() > 1 {
        for id in std::mem::take(&mut ids) {
            f.ask('t', &id, |k| &mut k.trace_ids);
        }
    }
    gather(store, f, &[], ids, aliases)
}

/// Reads the messages of `rows` and every message around them, handing each to `each` once;
/// returns when the messages read arrived (the first and last), for reading some of them again.
/// For rows of several hosts' legs whose paths are followed whole.
pub fn read_around_rows(
    store: &dyn Backend,
    rows: &[Row],
    mut each: impl FnMut(&Trace),
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
    let mut f = Frontier::default();
    for r in rows {
        f.ask('t', &r.trace_id, |k| &mut k.trace_ids);
        if let (Ok(first), Ok(last)) = (r.time.parse(), r.last_time.parse()) {
            f.times(first, last);
        }
    }
    let mut held: HashSet<String> = HashSet::new();
    let mut arrived: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for _ in 0..=MAX_HOPS + 1 {
        let mut keys = f.take();
        if keys.is_empty() {
            break;
        }
        keys.except = held.iter().cloned().collect();
        for t in store.linked(&keys)? {
            if held.insert(t.trace_id.clone()) {
                f.trace(&t);
                arrived = Some(arrived.map_or((t.first_time, t.first_time), |(a, b)| {
                    (a.min(t.first_time), b.max(t.first_time))
                }));
                each(&t);
            }
        }
    }
    Ok(arrived)
}

/// The legs around `traces` (theirs included).
pub fn around_traces(store: &dyn Backend, traces: &[Trace], aliases: &BTreeMap<String, Vec<String>>) -> Result<Found> {
    let mut f = Frontier::default();
    for t in traces {
        f.trace(t);
    }
    gather(store, f, traces, Vec::new(), aliases)
}

/// Looks up round by round from `f`; `held` are the traces at hand, `unread` the trace ids of
/// messages at hand only as rows: those are read once another leg is found (a store of one
/// server finds none, and reads nothing more than its rows).
fn gather(
    store: &dyn Backend,
    mut f: Frontier,
    held: &[Trace],
    mut unread: Vec<String>,
    aliases: &BTreeMap<String, Vec<String>>,
) -> Result<Found> {
    // messages of one server in the window hold no path across servers
    let window = f.window();
    if store.hosts(window.0, window.1)?.is_some_and(|h| h.len() < 2) {
        f = Frontier::default();
    }
    let mut set = LegSet::default();
    let mut trace_ids: HashMap<u64, String> = HashMap::new();
    for t in held {
        if trace_ids.insert(key(&t.trace_id), t.trace_id.clone()).is_none() {
            set.add(t);
        }
    }
    let mut others = unread.is_empty();
    for _ in 0..=MAX_HOPS {
        let mut keys = f.take();
        if keys.is_empty() {
            break;
        }
        keys.except = trace_ids.values().chain(&unread).cloned().collect();
        for t in store.linked(&keys)? {
            if trace_ids.insert(key(&t.trace_id), t.trace_id.clone()).is_none() {
                others = true;
                set.add(&t);
                f.trace(&t);
            }
        }
        if !others {
            break;
        }
        for id in std::mem::take(&mut unread) {
            f.ask('t', &id, |k| &mut k.trace_ids);
        }
    }
    Ok(Found {
        legs: Legs::new(set, aliases),
        trace_ids,
    })
}
