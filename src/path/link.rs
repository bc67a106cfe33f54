//! The joins over a set of legs: each leg's previous hop, each recipient's next hop, and where
//! each recipient's path ends.

use std::collections::BTreeMap;

use super::leg::{address_key, key, Leg, LegRecipient, LegSet};
use super::Hosts;
use crate::trace::Status;

/// How long before the sending host logs its hand-off the next host may log the arrival
/// (the transfer of a large message, clocks apart), and how long after.
/// In µs.
const BEFORE: i64 = 10 * 60 * 1_000_000;
const AFTER: i64 = 5 * 60 * 1_000_000;

/// The most hops a path is followed through (a loop stops there).
pub(crate) const MAX_HOPS: usize = 16;

/// Where one recipient's path ends inside the logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Final {
    pub status: Status,
    pub host: String,
    pub folder: Option<String>,
}

/// A leg's place on its path: the hop before it, and each recipient's next hop and ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnPath {
    pub prev_hop: Option<String>,
    /// Per recipient, in the trace's order.
    pub next_hop: Vec<Option<String>>,
    pub finals: Vec<Vec<Final>>,
}

/// A set of legs, indexed and joined.
pub struct Legs {
    set: LegSet,
    /// (trace key, leg), sorted.
    by_trace: Vec<(u64, u32)>,
    /// Per recipient (of every leg, as the set holds them): the leg it was handed to.
    next: Vec<u32>,
    /// Per leg: the leg it came from.
    prev: Vec<u32>,
}

/// No leg.
const NONE: u32 = u32::MAX;

fn some(i: u32) -> Option<usize> {
    (i != NONE).then_some(i as usize)
}

/// (key, leg) pairs sorted by key, and the legs under one key.
fn sorted(mut pairs: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    pairs.sort_unstable();
    pairs
}

fn under(pairs: &[(u64, u32)], k: u64) -> &[(u64, u32)] {
    let from = pairs.partition_point(|p| p.0 < k);
    let to = from + pairs[from..].partition_point(|p| p.0 == k);
    &pairs[from..to]
}

impl Legs {
    /// Joins `set`'s legs; `aliases` maps a log host name to its other names and addresses.
    /// The joins do not depend on the order the legs were added in.
    pub fn new(mut set: LegSet, aliases: &BTreeMap<String, Vec<String>>) -> Legs {
        set.legs.sort_unstable_by_key(|l| (l.first_time, l.trace));
        set.legs.dedup_by_key(|l| l.trace);
        let hosts = Hosts::new(set.legs.iter().filter_map(|l| set.names.get(l.host)), aliases);
        let index = |i: usize| u32::try_from(i).expect("fewer than 4 billion legs");
        let mut by_queue_id = Vec::new();
        let mut by_message_id = Vec::new();
        for (i, l) in set.legs.iter().enumerate() {
            by_queue_id.extend(set.queue_ids(l).iter().map(|&q| (q, index(i))));
            if l.message_id != 0 {
                by_message_id.push((l.message_id, index(i)));
            }
        }
        let by_queue_id = sorted(by_queue_id);
        let by_message_id = sorted(by_message_id);
        let joins = Joins {
            set: &set,
            hosts: &hosts,
        };
        let mut next = vec![NONE; set.recipient_count()];
        let mut prev = vec![NONE; set.legs.len()];
        for (a, leg) in set.legs.iter().enumerate() {
            let first = set.first_recipient(leg);
            for (ri, r) in set.recipients(leg).iter().enumerate() {
                if r.status != Status::Delivered {
                    continue;
                }
                let by_id = (r.reply_queue_id != 0)
                    .then(|| joins.best(leg, r, under(&by_queue_id, r.reply_queue_id), true))
                    .flatten();
                let found = by_id.or_else(|| {
                    (leg.message_id != 0)
                        .then(|| joins.best(leg, r, under(&by_message_id, leg.message_id), false))
                        .flatten()
                });
                if let Some(b) = found {
                    next[first + ri] = b;
                    if prev[b as usize] == NONE {
                        prev[b as usize] = index(a);
                    }
                }
            }
        }
        let by_trace = sorted(set.legs.iter().enumerate().map(|(i, l)| (l.trace, index(i))).collect());
        Legs {
            set,
            by_trace,
            next,
            prev,
        }
    }

    fn find(&self, trace_id: &str) -> Option<usize> {
        under(&self.by_trace, key(trace_id)).first().map(|p| p.1 as usize)
    }

    /// The legs that recipients of leg `i` were handed to, per recipient.
    fn next_of(&self, i: usize) -> &[u32] {
        let leg = &self.set.legs[i];
        let first = self.set.first_recipient(leg);
        &self.next[first..first + self.set.recipients(leg).len()]
    }

    /// The hop's name of leg `i`: `host:queue_id`.
    pub(super) fn hop(&self, i: usize) -> String {
        self.set.hop(&self.set.legs[i])
    }

    /// The place on its path of the leg with this trace id (none for a leg not held).
    pub fn on_path(&self, trace_id: &str) -> Option<OnPath> {
        let i = self.find(trace_id)?;
        Some(OnPath {
            prev_hop: some(self.prev[i]).map(|p| self.hop(p)),
            next_hop: self.next_of(i).iter().map(|&n| some(n).map(|b| self.hop(b))).collect(),
            finals: (0..self.next_of(i).len()).map(|r| self.finals(i, r)).collect(),
        })
    }

    /// Which recipient of the leg with this trace id a row is (its address, original address
    /// and status): the first that matches from recipient `from` on (a trace's rows come in
    /// its recipients' order, and an address can be delivered to more than once).
    pub fn recipient_of(&self, trace_id: &str, row: (&str, Option<&str>, &str), from: usize) -> Option<usize> {
        let leg = &self.set.legs[self.find(trace_id)?];
        let (address, orig_to, status) = row;
        let (a, o) = (address_key(address), orig_to.map_or(0, address_key));
        let rcpts = self.set.recipients(leg).get(from..)?;
        rcpts
            .iter()
            .position(|r| r.address == a && r.orig_to == o && r.status.as_str() == status)
            .map(|i| i + from)
    }

    /// The trace keys ([`key`] of the trace id) of every leg on the paths through this one,
    /// in time order.
    pub fn path(&self, trace_id: &str) -> Vec<u64> {
        let Some(start) = self.find(trace_id) else {
            return Vec::new();
        };
        // back to the first leg, then every leg reached from it
        let mut first = start;
        for _ in 0..MAX_HOPS {
            match some(self.prev[first]) {
                Some(p) if p != start => first = p,
                _ => break,
            }
        }
        let mut seen = vec![first];
        let mut i = 0;
        while i < seen.len() && seen.len() < 1024 {
            for b in self.next_of(seen[i]).iter().filter_map(|&n| some(n)) {
                if !seen.contains(&b) {
                    seen.push(b);
                }
            }
            i += 1;
        }
        if !seen.contains(&start) {
            seen.push(start);
        }
        // the legs are in time order
        seen.sort_unstable();
        seen.into_iter().map(|i| self.set.legs[i].trace).collect()
    }

    /// Where recipient `r` of leg `i` ends: itself, or the ends of the recipients it became on
    /// the next leg.
    fn finals(&self, i: usize, r: usize) -> Vec<Final> {
        let set = &self.set;
        self.walks(i, r)
            .into_iter()
            .map(|steps| {
                let (leg, k) = *steps.last().expect("a walk has its start");
                let leg = &set.legs[leg];
                Final {
                    status: set.recipients(leg)[k].status,
                    host: set.names.get(leg.host).unwrap_or_default().to_string(),
                    folder: set.names.get(set.recipients(leg)[k].folder).map(str::to_string),
                }
            })
            .collect()
    }

    /// Every way recipient `r` of leg `i` goes on to its ends: the (leg, recipient) steps from
    /// it to where it ends, one walk per end. A recipient handed to the next leg becomes the
    /// recipients there that it was expanded into (their original address is it), else that
    /// have its address, else the only one.
    pub(super) fn walks(&self, i: usize, r: usize) -> Vec<Vec<(usize, usize)>> {
        let mut out = Vec::new();
        self.walk(i, r, &mut Vec::new(), &mut out);
        out
    }

    fn walk(&self, i: usize, r: usize, steps: &mut Vec<(usize, usize)>, out: &mut Vec<Vec<(usize, usize)>>) {
        let set = &self.set;
        steps.push((i, r));
        let address = set.recipients(&set.legs[i])[r].address;
        let next = some(self.next_of(i)[r]).filter(|_| steps.len() < MAX_HOPS);
        let became: Vec<usize> = next.map_or_else(Vec::new, |b| {
            let next = set.recipients(&set.legs[b]);
            let mut became: Vec<usize> = (0..next.len()).filter(|&k| next[k].orig_to == address).collect();
            if became.is_empty() {
                became = (0..next.len()).filter(|&k| next[k].address == address).collect();
            }
            if became.is_empty() && next.len() == 1 {
                became.push(0);
            }
            became
        });
        match next {
            Some(b) if !became.is_empty() => {
                for k in became {
                    self.walk(b, k, steps, out);
                }
            }
            _ => out.push(steps.clone()),
        }
        steps.pop();
    }

    /// The legs, as joined (for reading their marks and names).
    pub(super) fn set(&self) -> &LegSet {
        &self.set
    }

    /// Leg `i`, and whether it is the first on its path (no leg handed it on).
    pub(super) fn leg(&self, i: usize) -> (&Leg, bool) {
        (&self.set.legs[i], self.prev[i] == NONE)
    }

    /// How many legs are held.
    pub(super) fn len(&self) -> usize {
        self.set.legs.len()
    }
}

/// What choosing a join looks at.
struct Joins<'a> {
    set: &'a LegSet,
    hosts: &'a Hosts,
}

impl Joins<'_> {
    /// The candidate `cands` that leg `a`'s recipient `r` was handed to, the nearest in time:
    /// on another host, arriving within minutes, and (by queue id) named by the relay or
    /// naming `a` as its client, or (by Message-ID) naming `a` as its client.
    fn best(&self, a: &Leg, r: &LegRecipient, cands: &[(u64, u32)], by_id: bool) -> Option<u32> {
        let name = |n| self.set.names.get(n);
        let target = self.hosts.resolve(&r.relay);
        let from_host = name(a.host).unwrap_or_default().to_ascii_lowercase();
        let legs = &self.set.legs;
        cands
            .iter()
            .map(|c| c.1)
            .filter(|&b| {
                let leg = &legs[b as usize];
                let host = name(leg.host).unwrap_or_default().to_ascii_lowercase();
                if host == from_host {
                    return false;
                }
                let delta = leg.first_time - r.time;
                if !(-BEFORE..=AFTER).contains(&delta) {
                    return false;
                }
                let from_a = self.hosts.resolve(&leg.client) == Some(from_host.as_str());
                let to_b = target == Some(host.as_str());
                if by_id {
                    from_a || to_b
                } else {
                    from_a && (target.is_none() || to_b)
                }
            })
            .min_by_key(|&b| ((legs[b as usize].first_time - r.time).abs(), b))
    }
}

impl Final {
    /// One end for a row: the only one, or, when a recipient ends in several (an expansion
    /// further on), the one furthest from delivered, so a row says where mail stopped.
    pub fn summary(finals: &[Final]) -> Option<&Final> {
        const ORDER: [Status; 10] = [
            Status::InProgress,
            Status::Deferred,
            Status::Bounced,
            Status::Expired,
            Status::Rejected,
            Status::Quarantined,
            Status::Spam,
            Status::Discarded,
            Status::Expanded,
            Status::Delivered,
        ];
        finals
            .iter()
            .min_by_key(|f| ORDER.iter().position(|s| *s == f.status).unwrap_or(0))
    }
}
