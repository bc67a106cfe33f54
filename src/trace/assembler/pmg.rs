//! Proxmox Mail Gateway in the assembler: `pmg-smtp-filter`'s lines join the message Postfix
//! handed it, and its decisions become the recipients' statuses.
//!
//! The filter logs under an id of its own (`FILTERID: …`) and before Postfix's line that
//! repeats it, so its lines wait, per host and filter id, for that line (at most
//! [`FACT_WAIT_SECS`] of log time after the filter's last line):
//! - after the queue, the hand-off to `127.0.0.1:10024` (or `:10023`) over LMTP/SMTP, one line
//!   per recipient: `status=sent (250 2.5.0 OK (FILTERID))` or `(250 2.7.0 BLOCKED
//!   (FILTERID))`. Per recipient, the filter said `accept mail to <r> (QID2)` (re-injected
//!   through port 10025 as QID2: QID2's chain joins the message, like amavis's `queued_as`, and
//!   the recipient's fate is its delivery there), `moved mail for <r> to spam|virus
//!   quarantine - ID` (`quarantined`) or `block mail to <r>` (`discarded`);
//! - before the queue (Postfix's `smtpd_proxy_filter`), smtpd's `proxy-accept: … 250 2.5.0 OK
//!   (FILTERID)` or `proxy-reject: … 554 5.7.1 … (FILTERID)` (see `proxy.rs`): the message is
//!   the re-injected QID2, and the filter's quarantined and blocked recipients join it.
//!
//! `SA score=N/M` gives `spam_score` N and `spam_verdict` `SPAM` (N ≥ M) or `CLEAN`; `virus
//! detected: NAME` gives `virus` and `spam_verdict` `INFECTED`. Each recipient's decision is
//! one of its `policy_actions` (`{"source": "pmg", "action": "accept"|"quarantine"|"block",
//! …}`). pmgdaemon's `delivered quarantined mail '…' (/…/ID)` joins the quarantined message
//! while it is still open, and the released copy (re-sent by `postmaster` through the
//! loopback a moment before).

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use super::around::{host_entry, FACT_WAIT_SECS};
use super::Assembler;
use crate::event::{Event, EventKind};
use crate::parse::pmg::{filter_id_in_reply, FilterFact, PmgLine};
use crate::trace::model::{LinkKind, PolicyAction, Recipient, Status, TimelineEntry, Trace};

/// What the filter decided for one recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Decision {
    /// Re-injected into Postfix under this queue id.
    Accept(String),
    /// Moved to a quarantine.
    Quarantine,
    Block,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    to: String,
    decision: Decision,
    /// The policy action's detail (`queued as QID (rule: R)`, `spam quarantine ID (rule: R)`).
    detail: String,
}

/// One message as the filter saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Filter {
    /// Lines not yet on a timeline.
    entries: Vec<TimelineEntry>,
    message_id: Option<String>,
    score: Option<(f64, Option<f64>)>,
    virus: Option<String>,
    outcomes: Vec<Outcome>,
    /// The queue id of the message it joined.
    joined: Option<String>,
    /// The filter's last line (or the join).
    last: DateTime<Utc>,
}

/// Filter lines per host and filter id, kept [`FACT_WAIT_SECS`] after the last of them.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Pmg {
    filters: HashMap<String, HashMap<String, Filter>>,
}

impl Pmg {
    pub(super) fn sweep(&mut self, now_on: &dyn Fn(&str) -> DateTime<Utc>) {
        for (host, m) in self.filters.iter_mut() {
            let now = now_on(host);
            m.retain(|_, f| now - f.last <= Duration::seconds(FACT_WAIT_SECS));
        }
        self.filters.retain(|_, m| !m.is_empty());
    }

    /// Filter ids waiting or joined, on every host.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.filters.values().map(HashMap::len).sum()
    }

    fn get(&mut self, host: &str, id: &str) -> Option<&mut Filter> {
        self.filters.get_mut(host)?.get_mut(id)
    }
}

/// How a filter's decisions apply to the trace it joins.
#[derive(Clone, Copy, PartialEq)]
enum Mode<'a> {
    /// After the queue: the hand-off of this recipient to the filter.
    Handoff(&'a str),
    /// Before the queue, accepted: every recipient the filter named is one of the message's.
    Accepted,
    /// Before the queue, rejected: every recipient is refused with the message.
    Rejected,
}

/// The message's own facts (once, at the join).
fn message_facts(t: &mut Trace, f: &mut Filter) {
    t.timeline.append(&mut f.entries);
    if t.message_id.is_none() {
        t.message_id.clone_from(&f.message_id);
    }
    if let Some((score, required)) = f.score {
        t.spam_score = Some(score);
        if t.spam_verdict.as_deref() != Some("INFECTED") {
            let spam = required.is_some_and(|r| score >= r);
            t.spam_verdict = Some(if spam { "SPAM" } else { "CLEAN" }.to_string());
        }
        let detail = match required {
            Some(r) => format!("SA score={score}/{r}"),
            None => format!("SA score={score}"),
        };
        t.add_action("pmg", "scored", &detail);
    }
    if let Some(v) = &f.virus {
        t.virus = Some(v.clone());
        t.spam_verdict = Some("INFECTED".to_string());
        t.add_action("pmg", "virus", v);
    }
}

fn action_word(d: &Decision) -> &'static str {
    match d {
        Decision::Accept(_) => "accept",
        Decision::Quarantine => "quarantine",
        Decision::Block => "block",
    }
}

/// Applies one recipient's decision; returns the queue id to link when it was re-injected.
fn decide(t: &mut Trace, o: &Outcome, mode: Mode<'_>, time: DateTime<Utc>) -> Option<String> {
    if let Mode::Handoff(to) = mode {
        if !o.to.eq_ignore_ascii_case(to) {
            return None;
        }
    }
    let reject = t.recipients.first().filter(|_| mode == Mode::Rejected).cloned();
    let r = match t.recipients.iter().position(|r| r.address.eq_ignore_ascii_case(&o.to)) {
        Some(i) => &mut t.recipients[i],
        None if matches!(mode, Mode::Handoff(_)) => return None,
        None => {
            t.recipients.push(Recipient::new(&o.to));
            t.recipients.last_mut().expect("just added")
        }
    };
    let action = PolicyAction {
        source: "pmg".to_string(),
        action: action_word(&o.decision).to_string(),
        detail: o.detail.clone(),
    };
    if !r.actions.contains(&action) {
        r.actions.push(action);
    }
    let fresh = r.time.is_none();
    match (&o.decision, mode) {
        (_, Mode::Rejected) => {
            if let Some(rej) = reject {
                r.status = Status::Rejected;
                r.dsn.clone_from(&rej.dsn);
                r.response.clone_from(&rej.response);
                r.time = rej.time;
            }
            None
        }
        (Decision::Accept(qid), Mode::Handoff(_)) => {
            r.status = Status::InProgress;
            r.in_filter = true;
            Some(qid.clone())
        }
        (Decision::Accept(qid), _) => Some(qid.clone()),
        (d, _) => {
            r.status = if matches!(d, Decision::Block) {
                Status::Discarded
            } else {
                Status::Quarantined
            };
            r.filter_discard = true;
            if fresh {
                r.response = Some(match d {
                    Decision::Block => format!("blocked ({})", o.detail),
                    _ => format!("moved to {}", o.detail),
                });
                r.time = Some(time);
            }
            None
        }
    }
}

impl Assembler {
    /// A line of `pmg-smtp-filter` or `pmgdaemon`.
    pub(super) fn pmg_line(&mut self, ev: &Event<'_>, line: &PmgLine<'_>) {
        match line {
            PmgLine::Filter { id, fact } => self.filter_line(ev, id, fact),
            PmgLine::Quarantine { id, released } => self.quarantine_line(ev, id, *released),
        }
    }

    fn filter_line(&mut self, ev: &Event<'_>, id: &str, fact: &FilterFact<'_>) {
        let entry = self.entry(ev);
        let f = host_entry(&mut self.pmg.filters, ev.host)
            .entry(id.to_string())
            .or_insert_with(|| Filter {
                entries: Vec::new(),
                message_id: None,
                score: None,
                virus: None,
                outcomes: Vec::new(),
                joined: None,
                last: ev.time,
            });
        f.last = ev.time;
        f.entries.push(entry);
        match fact {
            FilterFact::NewMail { message_id } => f.message_id = Some(message_id.to_string()),
            FilterFact::Score { score, required } => f.score = Some((*score, *required)),
            FilterFact::Virus { name } => f.virus = Some(name.to_string()),
            FilterFact::Accept { to, qid, rule } => f.outcomes.push(Outcome {
                to: to.to_string(),
                decision: Decision::Accept(qid.to_string()),
                detail: format!("queued as {qid} (rule: {rule})"),
            }),
            FilterFact::Quarantine { to, kind, id, rule } => f.outcomes.push(Outcome {
                to: to.to_string(),
                decision: Decision::Quarantine,
                detail: format!("{kind} quarantine {id} (rule: {rule})"),
            }),
            FilterFact::Block { to, rule } => f.outcomes.push(Outcome {
                to: to.to_string(),
                decision: Decision::Block,
                detail: format!("rule: {rule}"),
            }),
            FilterFact::Note => {}
        }
        // a line after Postfix named the filter id: straight to the message
        let Some(qid) = f.joined.clone() else { return };
        let mut f = f.clone();
        let Some(slot) = self.open_slot(ev.host, &qid) else {
            return;
        };
        let last = f.outcomes.last().cloned().filter(|_| {
            matches!(
                fact,
                FilterFact::Accept { .. } | FilterFact::Quarantine { .. } | FilterFact::Block { .. }
            )
        });
        if let Some(g) = self.pmg.get(ev.host, id) {
            g.entries.clear();
        }
        let t = &mut self.open_mut(slot).trace;
        message_facts(t, &mut f);
        if let Some(o) = last {
            if t.recipient_mut(&o.to).is_some() {
                if let Some(child) = decide(t, &o, Mode::Accepted, ev.time) {
                    self.link(ev.host, slot, &child, LinkKind::Reinjected, ev.time);
                }
            }
        }
    }

    /// The open message the filter re-injected (before the queue: the message itself).
    pub(super) fn pmg_accepted_slot(&self, host: &str, id: &str) -> Option<usize> {
        let f = self.pmg.filters.get(host)?.get(id)?;
        f.outcomes.iter().find_map(|o| match &o.decision {
            Decision::Accept(q) => self.open_slot(host, q),
            _ => None,
        })
    }

    /// A Postfix delivery line: a hand-off to the filter names its id in the reply.
    pub(super) fn pmg_delivery(&mut self, slot: usize, ev: &Event<'_>) {
        let EventKind::Delivery {
            to,
            response,
            relay: Some(relay),
            ..
        } = &ev.kind
        else {
            return;
        };
        // the reply names the filter id: most do not, and that is the cheaper test
        let Some(id) = filter_id_in_reply(response) else { return };
        if !super::is_loopback_relay(relay) {
            return;
        }
        let decided = self
            .pmg
            .get(ev.host, id)
            .map(|f| f.outcomes.iter().any(|o| o.to.eq_ignore_ascii_case(to)));
        if decided.is_some() {
            self.pmg_join(slot, ev.host, id, Some(to));
        }
        if decided != Some(true) && response.contains(" BLOCKED ") {
            // no decision logged for it (or the filter's lines are lost): the reply tells
            if let Some(r) = self.open_mut(slot).trace.recipient_mut(to) {
                r.status = Status::Discarded;
                r.filter_discard = true;
            }
        }
    }

    /// Postfix named filter `id` for the message in `slot`: the filter's lines join it. `to`:
    /// the recipient handed to the filter after the queue; `None` before the queue.
    pub(super) fn pmg_join(&mut self, slot: usize, host: &str, id: &str, to: Option<&str>) {
        let name = self.slots[slot]
            .as_ref()
            .and_then(|o| o.trace.queue_ids.first().cloned());
        let time = self.now_on(host);
        let Some(f) = self.pmg.get(host, id) else { return };
        let mut taken = f.clone();
        f.entries.clear();
        f.joined = name;
        f.last = time;
        let t = &mut self.open_mut(slot).trace;
        message_facts(t, &mut taken);
        let mode = to.map_or(Mode::Accepted, Mode::Handoff);
        let mut links = Vec::new();
        for o in &taken.outcomes {
            links.extend(decide(t, o, mode, time));
        }
        for child in links {
            self.link(host, slot, &child, LinkKind::Reinjected, time);
        }
    }

    /// Filter `id`'s lines join a trace that is not open (a before-queue reject, or an accepted
    /// message no queue id took); `status` `Rejected` refuses every recipient with it.
    pub(super) fn pmg_join_trace(&mut self, t: &mut Trace, host: &str, id: &str, status: Option<Status>) {
        let time = self.now_on(host);
        let Some(mut f) = self.pmg.filters.get_mut(host).and_then(|m| m.remove(id)) else {
            return;
        };
        message_facts(t, &mut f);
        let mode = if status == Some(Status::Rejected) {
            Mode::Rejected
        } else {
            Mode::Accepted
        };
        for o in &f.outcomes {
            decide(t, o, mode, time);
        }
    }

    /// pmgdaemon released (or deleted) a quarantined copy.
    fn quarantine_line(&mut self, ev: &Event<'_>, id: &str, released: bool) {
        let entry = self.entry(ev);
        let word = if released { "released" } else { "deleted" };
        let detail = format!("quarantine {id}");
        let marker = format!(" quarantine {id} ");
        for o in self.slots.iter_mut().flatten() {
            if o.trace.host != ev.host {
                continue;
            }
            let mut hit = false;
            for r in &mut o.trace.recipients {
                if r.actions
                    .iter()
                    .any(|a| a.source == "pmg" && a.detail.contains(&marker))
                {
                    let a = PolicyAction {
                        source: "pmg".to_string(),
                        action: word.to_string(),
                        detail: detail.clone(),
                    };
                    if !r.actions.contains(&a) {
                        r.actions.push(a);
                    }
                    hit = true;
                }
            }
            if hit {
                o.trace.timeline.push(entry.clone());
            }
        }
        if !released {
            return;
        }
        // the copy pmgdaemon just re-sent through the loopback as `postmaster`
        let recent = Duration::seconds(60);
        let copy = self
            .slots
            .iter_mut()
            .flatten()
            .filter(|o| {
                let t = &o.trace;
                t.host == ev.host
                    && t.client.ip.as_deref().is_some_and(super::is_loopback_relay)
                    && ev.time >= t.first_time
                    && ev.time - t.first_time <= recent
                    && t.from.as_deref().is_none_or(|f| f.starts_with("postmaster"))
                    && !t
                        .policy_actions
                        .iter()
                        .any(|a| a.source == "pmg" && a.action == "released")
            })
            .max_by_key(|o| o.trace.first_time);
        if let Some(o) = copy {
            o.trace.timeline.push(entry);
            o.trace.add_action("pmg", "released", &detail);
        }
    }
}
