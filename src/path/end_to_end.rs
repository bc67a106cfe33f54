//! End-to-end rows (`search --end-to-end`): one row per original message and final
//! recipient, Exchange style, with the criteria applied to the whole delivery path.
//!
//! A path starts at a leg no other leg handed on; each of its recipients is followed through
//! the legs it was handed to until it ends ([`Legs::walks`]: an alias expanded on a later
//! server ends several times). The row takes the first leg's time, sender, client, subject
//! and ids, and the last leg's recipient, status, DSN, reply and folder; `hops` lists the legs
//! in between.
//!
//! Which criteria apply where:
//! - `from`, `subject`, `direction`, `client_ip`: the first leg (how the message arrived);
//! - `to`: the recipient anywhere along its walk (as sent, as expanded, as delivered);
//! - `status`, `folder`: where the recipient ends;
//! - `message_id`, `queue_id`, `host`, `virus`, `auth_fail` and the time window: some leg of
//!   the walk; `spam`: some leg judged it spam, or it ends filed as spam.
//!
//! A path of one leg gives exactly that leg's own rows. Deciding needs only a few bits per
//! leg and per recipient ([`Marker`]), kept on the compact legs, so `--log` reads the files
//! once to decide and once more for the few messages whose rows are printed.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::leg::{key, LegSet};
use super::link::Legs;
use crate::output::Row;
use crate::query::Criteria;
use crate::trace::{Status, Trace};

/// Leg marks: the first leg's checks pass.
const ARRIVAL: u16 = 1;
/// Leg marks: the checks any leg of the walk may pass.
const MESSAGE_ID: u16 = 1 << 1;
const QUEUE_ID: u16 = 1 << 2;
const HOST: u16 = 1 << 3;
const VIRUS: u16 = 1 << 4;
const AUTH: u16 = 1 << 5;
const WINDOW: u16 = 1 << 6;
/// A spam filter judged the message spam (or `spam` was not asked for).
const SPAM_FLAG: u16 = 1 << 7;
/// A leg with no recipient whose own row matches.
const ALONE: u16 = 1 << 8;
const ANY_LEG: u16 = MESSAGE_ID | QUEUE_ID | HOST | VIRUS | AUTH | WINDOW;

/// Recipient marks: the address matches `to`.
const TO: u8 = 1;
/// Recipient marks: the status and folder match, were the path to end here.
const END: u8 = 1 << 1;
/// Recipient marks: filed as spam.
const SPAM_STATUS: u8 = 1 << 2;

/// How long a message may stay queued on one server: the legs of a path lie within this of
/// each other (Postfix's default `maximal_queue_lifetime`).
pub const QUEUED: chrono::Duration = chrono::Duration::days(5);

/// Reads the criteria's checks off one leg as bits.
pub struct Marker {
    criteria: Criteria,
    message_id: Criteria,
    queue_id: Criteria,
}

impl Marker {
    pub fn new(criteria: &Criteria) -> Marker {
        Marker {
            criteria: criteria.clone(),
            message_id: Criteria {
                message_id: criteria.message_id.clone(),
                ..Criteria::default()
            },
            queue_id: Criteria {
                queue_id: criteria.queue_id.clone(),
                ..Criteria::default()
            },
        }
    }

    /// The leg's marks and its recipients'.
    pub fn marks(&self, t: &Trace) -> (u16, Vec<u8>) {
        let c = &self.criteria;
        let bit = |b: u16, on: bool| if on { b } else { 0 };
        let leg = bit(ARRIVAL, c.matches_arrival(t))
            | bit(MESSAGE_ID, self.message_id.matches_ids(t))
            | bit(QUEUE_ID, self.queue_id.matches_ids(t))
            | bit(HOST, c.matches_host(t))
            | bit(VIRUS, c.matches_virus(t))
            | bit(AUTH, c.matches_auth(t))
            | bit(WINDOW, c.matches_window(t))
            | bit(SPAM_FLAG, !c.spam || t.spam_flagged())
            | bit(ALONE, t.recipients.is_empty() && c.rows(t) == [None]);
        let recipients = t
            .recipients
            .iter()
            .map(|r| {
                let bit = |b: u8, on: bool| if on { b } else { 0 };
                bit(TO, c.matches_to(Some(r)))
                    | bit(END, c.matches_status(Some(r)) && c.matches_folder(Some(r)))
                    | bit(SPAM_STATUS, r.status == Status::Spam)
            })
            .collect();
        (leg, recipients)
    }
}

/// One end-to-end row to make: recipient `first.1` of the path's first leg, ending as
/// recipient `last.1` of leg `last.0` (trace keys; no recipient for a message with none).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub first: (u64, Option<usize>),
    pub last: (u64, Option<usize>),
    pub hops: Vec<String>,
}

/// The walks of `legs` that match, from every path's first leg.
pub fn chains(legs: &Legs) -> Vec<Chain> {
    let set: &LegSet = legs.set();
    let mut out = Vec::new();
    for i in 0..legs.len() {
        let (leg, first) = legs.leg(i);
        if !first || leg.marks & ARRIVAL == 0 {
            continue;
        }
        if set.recipients(leg).is_empty() {
            if leg.marks & ALONE != 0 {
                out.push(Chain {
                    first: (leg.trace, None),
                    last: (leg.trace, None),
                    hops: vec![legs.hop(i)],
                });
            }
            continue;
        }
        for r in 0..set.recipients(leg).len() {
            for walk in legs.walks(i, r) {
                let (mut leg_marks, mut to) = (0, 0);
                for &(l, k) in &walk {
                    let l = &set.legs[l];
                    leg_marks |= l.marks;
                    to |= set.recipients(l)[k].marks;
                }
                let (end_leg, end_rcpt) = *walk.last().expect("a walk has its start");
                let end_marks = set.recipients(&set.legs[end_leg])[end_rcpt].marks;
                let matches = leg_marks & ANY_LEG == ANY_LEG
                    && to & TO != 0
                    && end_marks & END != 0
                    && (leg_marks & SPAM_FLAG != 0 || end_marks & SPAM_STATUS != 0);
                if matches {
                    let mut hops: Vec<String> = Vec::new();
                    for &(l, _) in &walk {
                        let hop = legs.hop(l);
                        if hops.last() != Some(&hop) {
                            hops.push(hop);
                        }
                    }
                    out.push(Chain {
                        first: (leg.trace, Some(r)),
                        last: (set.legs[end_leg].trace, Some(end_rcpt)),
                        hops,
                    });
                }
            }
        }
    }
    out
}

/// The end-to-end row of recipient `first_rcpt` of `first` (the path's first leg), ending as
/// recipient `last_rcpt` of `last`.
pub fn row(first: &Trace, first_rcpt: Option<usize>, last: &Trace, last_rcpt: Option<usize>, hops: Vec<String>) -> Row {
    let mut row = Row::new(first, first_rcpt);
    let end = Row::new(last, last_rcpt);
    if hops.len() > 1 {
        // the address the sender sent to, when it is not the one the path ends at
        let sent = first_rcpt
            .map(|i| &first.recipients[i])
            .map(|r| r.orig_to.as_ref().unwrap_or(&r.address));
        row.orig_to = sent
            .filter(|s| !end.to.as_ref().is_some_and(|to| to.eq_ignore_ascii_case(s)))
            .cloned();
    }
    row.next_hop = hops.get(1).cloned();
    row.last_time = crate::output::rfc3339(first.last_time.max(last.last_time));
    row.to = end.to;
    row.status = end.status;
    row.dsn = end.dsn;
    row.relay = end.relay;
    row.response = end.response;
    row.attempts = end.attempts;
    row.folder = end.folder;
    // the filters' verdicts, where the first leg had no filter
    row.spam_verdict = row.spam_verdict.or(end.spam_verdict);
    row.spam_score = row.spam_score.or(end.spam_score);
    row.virus = row.virus.or(end.virus);
    row.spf = row.spf.or(end.spf);
    row.dkim = row.dkim.or(end.dkim);
    row.dmarc = row.dmarc.or(end.dmarc);
    for a in end.policy_actions {
        if !row.policy_actions.contains(&a) {
            row.policy_actions.push(a);
        }
    }
    row.final_status = Some(row.status.clone());
    row.final_host = Some(last.host.clone());
    row.final_folder.clone_from(&row.folder);
    row.prev_hop = None;
    row.hops = hops;
    row
}

/// The end-to-end rows of some traces: every leg goes through [`EndToEnd::add`], then
/// [`EndToEnd::link`] decides which rows there are, and [`Linked::rows`] makes them from the
/// traces of the legs it [`Linked::wants`].
pub struct EndToEnd {
    marker: Marker,
    criteria: Criteria,
    legs: LegSet,
    /// Rows of messages without a queue id (each a path of its own), with their sort keys.
    alone: Vec<Sorted>,
}

/// A row with what orders it: newest first (the first leg's arrival), then trace id.
struct Sorted {
    time: DateTime<Utc>,
    trace_id: String,
    row: Row,
}

impl EndToEnd {
    pub fn new(criteria: &Criteria) -> EndToEnd {
        EndToEnd {
            marker: Marker::new(criteria),
            criteria: criteria.clone(),
            legs: LegSet::default(),
            alone: Vec::new(),
        }
    }

    /// Takes in one leg.
    pub fn add(&mut self, t: &Trace) {
        if t.queue_ids.is_empty() {
            for i in self.criteria.rows(t) {
                self.alone.push(Sorted {
                    time: t.first_time,
                    trace_id: t.trace_id.clone(),
                    row: Row::new(t, i),
                });
            }
            return;
        }
        let (marks, recipient_marks) = self.marker.marks(t);
        self.legs.add_marked(t, marks, &recipient_marks);
    }

    /// Whether the leg of `t` may give a row: as a path's first leg, or where a recipient
    /// ends (what to keep when the traces cannot be read again).
    pub fn may_show(&self, t: &Trace) -> bool {
        let (marks, recipient_marks) = self.marker.marks(t);
        marks & ARRIVAL != 0 || recipient_marks.iter().any(|m| m & END != 0)
    }

    /// Joins the legs taken in and finds the rows.
    pub fn link(self, aliases: &BTreeMap<String, Vec<String>>) -> Linked {
        let legs = Legs::new(self.legs, aliases);
        Linked {
            chains: chains(&legs),
            alone: self.alone,
        }
    }
}

/// The rows decided, to be made from their legs' traces.
pub struct Linked {
    chains: Vec<Chain>,
    alone: Vec<Sorted>,
}

impl Linked {
    /// The [`key`]s of the trace ids whose traces the rows are made from.
    pub fn wants(&self) -> HashSet<u64> {
        self.chains.iter().flat_map(|c| [c.first.0, c.last.0]).collect()
    }

    /// The rows, newest first; `traces` holds (at least) the traces [`Linked::wants`], by
    /// [`key`] of their trace id.
    pub fn rows(self, traces: &HashMap<u64, Trace>) -> Vec<Row> {
        let mut rows = self.alone;
        for c in self.chains {
            let (Some(first), Some(last)) = (traces.get(&c.first.0), traces.get(&c.last.0)) else {
                continue;
            };
            rows.push(Sorted {
                time: first.first_time,
                trace_id: first.trace_id.clone(),
                row: row(first, c.first.1, last, c.last.1, c.hops),
            });
        }
        // stable: a message's rows stay in its recipients' order
        rows.sort_by(|a, b| (b.time, &b.trace_id).cmp(&(a.time, &a.trace_id)));
        rows.into_iter().map(|s| s.row).collect()
    }
}

/// Traces by [`key`] of their trace id.
pub fn by_key(traces: impl IntoIterator<Item = Trace>) -> HashMap<u64, Trace> {
    traces.into_iter().map(|t| (key(&t.trace_id), t)).collect()
}

/// The criteria a store is first searched with: one group of the end-to-end criteria that
/// every matching path has a leg to match, the most selective given; the window widened by
/// [`QUEUED`] when that leg may lie outside it.
pub fn candidates(c: &Criteria) -> Criteria {
    let mut k = Criteria::default();
    if c.message_id.is_some() {
        k.message_id.clone_from(&c.message_id);
    } else if c.queue_id.is_some() {
        k.queue_id.clone_from(&c.queue_id);
    } else if !c.from.is_empty() || !c.subject.is_empty() || c.client_ip.is_some() {
        k.from.clone_from(&c.from);
        k.subject.clone_from(&c.subject);
        k.client_ip.clone_from(&c.client_ip);
        k.direction = c.direction;
    } else if !c.to.is_empty() {
        k.to.clone_from(&c.to);
    } else if !c.statuses.is_empty() || c.folder.is_some() {
        k.statuses.clone_from(&c.statuses);
        k.folder.clone_from(&c.folder);
    } else if c.virus {
        k.virus = true;
    } else if !c.auth_fail.is_empty() {
        k.auth_fail.clone_from(&c.auth_fail);
    } else if c.spam {
        k.spam = true;
    } else if c.host.is_some() {
        k.host.clone_from(&c.host);
    } else if c.direction.is_some() {
        k.direction = c.direction;
    } else {
        // the window alone: every path with a leg in it has that leg in it
        k.since = c.since;
        k.until = c.until;
        return k;
    }
    k.since = c.since.map(|s| s - QUEUED);
    k.until = c.until.map(|u| u + QUEUED);
    k
}

/// The end-to-end rows of a store. A store that holds one server's messages in the window
/// gives its legs' own rows; otherwise the legs matching [`candidates`] are read with every
/// leg around them, and their paths decided as with `--log`.
pub fn from_store(
    store: &dyn crate::store::backend::Backend,
    criteria: &Criteria,
    historical: bool,
    aliases: &BTreeMap<String, Vec<String>>,
) -> anyhow::Result<Vec<Row>> {
    let plain = Criteria {
        end_to_end: false,
        ..criteria.clone()
    };
    let (since, until) = (criteria.since.map(|s| s - QUEUED), criteria.until.map(|u| u + QUEUED));
    if store.hosts(since, until)?.is_some_and(|h| h.len() < 2) {
        let mut rows = store.search(&plain, None, historical)?.rows;
        for r in &mut rows {
            r.hops = r.queue_id.iter().map(|q| format!("{}:{q}", r.host)).collect();
        }
        return Ok(rows);
    }
    let found = store.search(&candidates(criteria), None, historical)?.rows;
    // every leg around them decides the rows; only the legs the rows are made of are read
    // again (holding every leg read would hold a leg of every message of a broad search)
    let mut e = EndToEnd::new(criteria);
    let mut ids: HashMap<u64, String> = HashMap::new();
    let arrived = super::stored::read_around_rows(store, &found, |t| {
        ids.insert(key(&t.trace_id), t.trace_id.clone());
        e.add(t);
    })?;
    drop(found);
    let linked = e.link(aliases);
    let keys = crate::store::backend::LinkKeys {
        trace_ids: linked.wants().iter().filter_map(|k| ids.get(k).cloned()).collect(),
        since: arrived.map(|a| a.0),
        until: arrived.map(|a| a.1),
        ..Default::default()
    };
    let traces = if keys.is_empty() {
        Vec::new()
    } else {
        store.linked(&keys)?
    };
    Ok(linked.rows(&by_key(traces)))
}
