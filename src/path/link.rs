//! The joins over a set of legs: each leg's previous hop, each recipient's next hop, and where
//! each recipient's path ends.

use std::collections::{BTreeMap, HashMap};

use super::leg::{Leg, LegRecipient};
use super::Hosts;
use crate::trace::Status;

/// How long before the sending host logs its hand-off the next host may log the arrival
/// (the transfer of a large message, clocks apart), and how long after.
const BEFORE: i64 = 10 * 60;
const AFTER: i64 = 5 * 60;

/// The most hops a path is followed through (a loop stops there).
const MAX_HOPS: usize = 16;

/// Where one recipient's path ends inside the logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Final {
    pub address: String,
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
    legs: Vec<Leg>,
    by_trace: HashMap<String, usize>,
    /// Per leg, per recipient: the leg it was handed to.
    next: Vec<Vec<Option<usize>>>,
    prev: Vec<Option<usize>>,
}

impl Legs {
    /// Joins `legs`; `aliases` maps a log host name to its other names and addresses.
    pub fn new(legs: Vec<Leg>, aliases: &BTreeMap<String, Vec<String>>) -> Legs {
        let hosts = Hosts::new(legs.iter().map(|l| l.host.as_str()), aliases);
        let mut by_queue_id: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_message_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, l) in legs.iter().enumerate() {
            for q in &l.queue_ids {
                by_queue_id.entry(q.as_str()).or_default().push(i);
            }
            if let Some(m) = &l.message_id {
                by_message_id.entry(m.as_str()).or_default().push(i);
            }
        }
        let mut next: Vec<Vec<Option<usize>>> = legs.iter().map(|l| vec![None; l.recipients.len()]).collect();
        let mut prev: Vec<Option<usize>> = vec![None; legs.len()];
        for (a, leg) in legs.iter().enumerate() {
            for (ri, r) in leg.recipients.iter().enumerate() {
                if r.status != Status::Delivered {
                    continue;
                }
                let by_id = r
                    .reply_queue_id
                    .as_deref()
                    .and_then(|q| by_queue_id.get(q))
                    .map(|c| best(&legs, &hosts, leg, r, c, true));
                let found = match by_id.flatten() {
                    Some(b) => Some(b),
                    None => leg
                        .message_id
                        .as_deref()
                        .and_then(|m| by_message_id.get(m))
                        .and_then(|c| best(&legs, &hosts, leg, r, c, false)),
                };
                if let Some(b) = found {
                    next[a][ri] = Some(b);
                    prev[b].get_or_insert(a);
                }
            }
        }
        let by_trace = legs.iter().enumerate().map(|(i, l)| (l.trace_id.clone(), i)).collect();
        Legs {
            legs,
            by_trace,
            next,
            prev,
        }
    }

    /// The place on its path of the leg with this trace id (none for a leg not held).
    pub fn on_path(&self, trace_id: &str) -> Option<OnPath> {
        let &i = self.by_trace.get(trace_id)?;
        let leg = &self.legs[i];
        Some(OnPath {
            prev_hop: self.prev[i].map(|p| self.legs[p].hop()),
            next_hop: self.next[i].iter().map(|n| n.map(|b| self.legs[b].hop())).collect(),
            finals: (0..leg.recipients.len()).map(|r| self.finals(i, r, 0)).collect(),
        })
    }

    /// The trace ids of every leg on the paths through this one, in time order.
    pub fn path(&self, trace_id: &str) -> Vec<String> {
        let Some(&start) = self.by_trace.get(trace_id) else {
            return Vec::new();
        };
        // back to the first leg, then every leg reached from it
        let mut first = start;
        for _ in 0..MAX_HOPS {
            match self.prev[first] {
                Some(p) if p != start => first = p,
                _ => break,
            }
        }
        let mut seen = vec![first];
        let mut i = 0;
        while i < seen.len() && seen.len() < 1024 {
            for b in self.next[seen[i]].iter().flatten() {
                if !seen.contains(b) {
                    seen.push(*b);
                }
            }
            i += 1;
        }
        if !seen.contains(&start) {
            seen.push(start);
        }
        seen.sort_by(|a, b| {
            (self.legs[*a].first_time, &self.legs[*a].trace_id)
                .cmp(&(self.legs[*b].first_time, &self.legs[*b].trace_id))
        });
        seen.into_iter().map(|i| self.legs[i].trace_id.clone()).collect()
    }

    /// Where recipient `r` of leg `i` ends: itself, or the ends of the recipients it became on
    /// the next leg (the same address, or one expanded from it).
    fn finals(&self, i: usize, r: usize, depth: usize) -> Vec<Final> {
        let leg = &self.legs[i];
        let rcpt = &leg.recipients[r];
        let own = || {
            vec![Final {
                address: rcpt.address.clone(),
                status: rcpt.status,
                host: leg.host.clone(),
                folder: rcpt.folder.clone(),
            }]
        };
        let Some(b) = self.next[i][r].filter(|_| depth < MAX_HOPS) else {
            return own();
        };
        let next = &self.legs[b];
        let same = |a: &str| a.eq_ignore_ascii_case(&rcpt.address);
        let mut became: Vec<usize> = next
            .recipients
            .iter()
            .enumerate()
            .filter(|(_, x)| x.orig_to.as_deref().is_some_and(same))
            .map(|(k, _)| k)
            .collect();
        if became.is_empty() {
            became = next
                .recipients
                .iter()
                .enumerate()
                .filter(|(_, x)| same(&x.address))
                .map(|(k, _)| k)
                .collect();
        }
        if became.is_empty() && next.recipients.len() == 1 {
            became.push(0);
        }
        if became.is_empty() {
            return own();
        }
        became.into_iter().flat_map(|k| self.finals(b, k, depth + 1)).collect()
    }
}

/// The candidate `cands` that leg `a`'s recipient `r` was handed to, the nearest in time:
/// on another host, arriving within minutes, and (by queue id) named by the relay or naming
/// `a` as its client, or (by Message-ID) naming `a` as its client.
fn best(legs: &[Leg], hosts: &Hosts, a: &Leg, r: &LegRecipient, cands: &[usize], by_id: bool) -> Option<usize> {
    let at = r.time.unwrap_or(a.first_time);
    let target = hosts.resolve(r.relay_name.as_deref(), r.relay_ip.as_deref());
    let from_host = a.host.to_ascii_lowercase();
    cands
        .iter()
        .copied()
        .filter(|&b| {
            let leg = &legs[b];
            let host = leg.host.to_ascii_lowercase();
            if host == from_host {
                return false;
            }
            let delta = (leg.first_time - at).num_seconds();
            if !(-BEFORE..=AFTER).contains(&delta) {
                return false;
            }
            let from_a = hosts
                .resolve(leg.client_name.as_deref(), leg.client_ip.as_deref())
                .as_deref()
                == Some(from_host.as_str());
            let to_b = target.as_deref() == Some(host.as_str());
            if by_id {
                from_a || to_b
            } else {
                from_a && (target.is_none() || to_b)
            }
        })
        .min_by_key(|&b| ((legs[b].first_time - at).abs(), b))
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
