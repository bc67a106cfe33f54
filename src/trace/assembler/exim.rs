//! Exim main-log lines in the assembler. Exim names each message by one id on every line, so a
//! trace opens at `<=`, takes each delivery, deferral and failure as its recipient's status,
//! and closes at `Completed`. A frozen message's recipients still open become `quarantined`;
//! a bounce (`<= <> R=id`) is linked both ways to the message it reports on; a refused
//! recipient (`rejected RCPT`) is a pseudo-trace, like Postfix's `NOQUEUE`.
//!
//! A reject waits for the next line before it is handed out: the reject log follows it with
//! the message's header block (whose `Envelope-to:` names the recipients of a message refused
//! after DATA), and an identical reject right after it (Exim's syslog copy of its main and
//! reject logs) is the same event. Its trace id is made from what it says, so a copy read from
//! another file names the same trace.

use crate::parse::text::StrFind;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use chrono::Duration;

use super::{finalize, trace_id, Assembler, Closing};
use crate::event::Event;
use crate::parse::exim::{Arrival, Attempt, DeliveryKind, EximLine, HeaderLine, Host, Reject};
use crate::parse::fields::dsn_in;
use crate::trace::model::{AuthResult, Link, LinkKind, Mta, Recipient, Status, Trace};

/// How long (log time) the lines of a message whose arrival is not logged wait for it: Exim
/// logs them while it receives the message's data, moments before `<=`.
const EXIM_HOLD_SECS: i64 = 3600;

/// A reject waiting for its header block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PendingReject {
    pub(super) trace: Trace,
    /// The last header line was `Envelope-to:` (or its continuation).
    in_envelope_to: bool,
}

/// How a recipient's line ends its attempt.
#[derive(Clone, Copy)]
enum Outcome {
    Delivered,
    /// `*>`: delivery bypassed by `-N` (testing): nothing was delivered.
    Suppressed,
    Deferred,
    Failed,
}

impl Assembler {
    pub(super) fn exim(&mut self, ev: &Event<'_>, line: &EximLine<'_>, out: &mut Vec<Trace>) {
        match line {
            EximLine::Rejected(r) => self.exim_reject(ev, r, out),
            EximLine::Header(h) => self.exim_header(ev, h),
            EximLine::Removed { id, by } => {
                self.exim_give_up(ev, id, Status::Discarded, &format!("removed by {by}"));
            }
            EximLine::Cancelled { id, text } => self.exim_give_up(ev, id, Status::Expired, text),
            EximLine::Note { id, text } => {
                let slot = self.exim_line(ev, id);
                self.open_mut(slot).trace.actions.push((*text).to_string());
            }
            EximLine::Arrival { id, arrival } => self.exim_arrival(ev, id, arrival),
            EximLine::Delivery { id, attempt, kind } => {
                let outcome = match kind {
                    DeliveryKind::Suppressed => Outcome::Suppressed,
                    _ => Outcome::Delivered,
                };
                self.exim_attempt(ev, id, attempt, outcome)
            }
            EximLine::Deferred { id, attempt } => self.exim_attempt(ev, id, attempt, Outcome::Deferred),
            EximLine::Failed { id, attempt } => self.exim_attempt(ev, id, attempt, Outcome::Failed),
            EximLine::Completed { id } => {
                let slot = self.exim_line(ev, id);
                let t = &mut self.open_mut(slot).trace;
                // sa-exim's `silently tossed message`: accepted, then dropped undelivered
                if let Some(toss) = t.actions.iter().find(|a| a.starts_with("SA: Action: silently tossed")) {
                    let toss = toss.clone();
                    for r in &mut t.recipients {
                        if r.status == Status::InProgress {
                            r.status = Status::Discarded;
                            r.response = Some(toss.clone());
                            r.time = Some(ev.time);
                        }
                    }
                }
                if !self.open_mut(slot).queued && t_is_bare(&self.open_mut(slot).trace) {
                    let t = &mut self.open_mut(slot).trace;
                    t.add_action("exim", "completed", "no arrival logged (it came before the log began)");
                }
                self.end_all(slot, ev.time);
            }
            EximLine::Frozen { id } => {
                let slot = self.exim_line(ev, id);
                self.open_mut(slot).held = true;
            }
            EximLine::Unfrozen { id } => {
                let slot = self.exim_line(ev, id);
                self.open_mut(slot).held = false;
            }
            EximLine::HostError { id, name, ip } => {
                // `host [ip] Connection timed out`: the host the next deferral is about
                let slot = self.exim_line(ev, id);
                self.open_mut(slot).exim_host = Some(format!("{name} [{ip}]"));
            }
            EximLine::Dkim { id, result, domain } => {
                let slot = self.exim_line(ev, id);
                let t = &mut self.open_mut(slot).trace;
                // one line per signature: a signature that verified stands
                if t.dkim.as_ref().is_none_or(|d| d.result != "pass") {
                    t.dkim = Some(AuthResult {
                        result: (*result).to_string(),
                        domain: domain.map(str::to_string),
                    });
                }
            }
            EximLine::Prdr {
                id,
                to,
                accepted,
                temporary,
            } => {
                let slot = self.exim_line(ev, id);
                let t = &mut self.open_mut(slot).trace;
                let i = match t.recipients.iter().position(|r| r.address.eq_ignore_ascii_case(to)) {
                    Some(i) => i,
                    None => {
                        t.recipients.push(Recipient::new(to));
                        t.recipients.len() - 1
                    }
                };
                if !accepted {
                    let r = &mut t.recipients[i];
                    r.status = Status::Rejected;
                    r.time = Some(ev.time);
                    r.response = Some(if *temporary {
                        "PRDR temporary refusal".to_string()
                    } else {
                        "PRDR refusal".to_string()
                    });
                }
            }
            EximLine::Abandoned { id, host, from, text } => {
                let slot = self.exim_line(ev, id);
                let t = &mut self.open_mut(slot).trace;
                if t.from.is_none() {
                    t.from = from.map(str::to_string);
                }
                if let (Some(h), None) = (host, &t.client.ip) {
                    set_client(t, *h);
                }
                t.actions.push((*text).to_string());
                t.add_action("exim", "abandoned", text);
                self.end_all(slot, ev.time);
            }
            EximLine::AclDiscard { id, text } => {
                let slot = self.exim_line(ev, id);
                let t = &mut self.open_mut(slot).trace;
                if !t.recipients.iter().any(|r| r.status == Status::InProgress) {
                    t.recipients.push(Recipient::new(""));
                }
                for r in &mut t.recipients {
                    if r.status == Status::InProgress {
                        r.status = Status::Discarded;
                        r.response = Some((*text).to_string());
                        r.time = Some(ev.time);
                    }
                }
                t.add_action("exim", "discard", text);
            }
            EximLine::Logged { id, .. } | EximLine::Other { id, .. } => {
                self.exim_line(ev, id);
            }
            EximLine::Info | EximLine::Unknown => {}
        }
        if let Some(id) = line.id().filter(|_| !matches!(line, EximLine::Rejected(_))) {
            self.exim_hold(ev, id);
        }
    }

    /// A message whose arrival is not logged yet (DKIM, ACL, PRDR lines come before `<=`):
    /// its lines wait, in its trace, for the arrival or an ending. Without either, it is
    /// handed out [`EXIM_HOLD_SECS`] of log time after its last line (or at the end of the
    /// input), so memory holds only messages in flight.
    fn exim_hold(&mut self, ev: &Event<'_>, id: &str) {
        let Some(&slot) = self.by_qid.get(ev.host).and_then(|m| m.get(id)) else {
            return;
        };
        self.tickets += 1;
        let ticket = self.tickets;
        let Some(o) = self.slots[slot].as_mut() else { return };
        if o.queued || o.live.is_empty() {
            return;
        }
        o.closed = Some(ticket);
        self.unqueued.push(Closing {
            slot,
            ticket,
            deadline: ev.time + Duration::seconds(EXIM_HOLD_SECS),
            host: ev.host.to_string(),
        });
    }

    /// The message left the queue undelivered (removed by the admin, or frozen too long): its
    /// recipients still waiting end as `status`, with `why` as their response and an action.
    fn exim_give_up(&mut self, ev: &Event<'_>, id: &str, status: Status, why: &str) {
        let slot = self.exim_line(ev, id);
        let o = self.open_mut(slot);
        o.held = false;
        o.trace.actions.push(why.to_string());
        let action = if status == Status::Expired {
            "cancelled"
        } else {
            "removed"
        };
        o.trace.add_action("exim", action, why);
        // a message whose arrival was not logged (it came before the log began)
        if o.trace.recipients.is_empty() {
            o.trace.recipients.push(Recipient::new(""));
        }
        for r in &mut o.trace.recipients {
            if matches!(r.status, Status::InProgress | Status::Deferred | Status::Quarantined) {
                r.status = status;
                r.response = Some(why.to_string());
                r.time = Some(ev.time);
            }
        }
    }

    /// Hands out the waiting reject unless `ev` is a copy of it or a line of its header block.
    pub(super) fn exim_flush(&mut self, ev: &Event<'_>, out: &mut Vec<Trace>) {
        if let crate::event::EventKind::Exim(EximLine::Header(_) | EximLine::Rejected(_)) = ev.kind {
            return;
        }
        out.extend(self.exim_take_pending());
    }

    /// The waiting reject, finished.
    pub(super) fn exim_take_pending(&mut self) -> Option<Trace> {
        let mut t = self.exim_pending.take()?.trace;
        finalize(&mut t, false, &self.rules);
        Some(t)
    }

    /// A line of the header block after a reject: on its timeline, and `Envelope-to:` names
    /// the recipients of a message refused after DATA.
    fn exim_header(&mut self, ev: &Event<'_>, h: &HeaderLine<'_>) {
        let entry = self.entry(ev);
        let Some(p) = self.exim_pending.as_mut() else {
            return;
        };
        let t = &mut p.trace;
        t.timeline.push(crate::trace::model::TimelineEntry {
            // a line of the reject log's header block has no time of its own
            time: t.last_time,
            ..entry
        });
        let addresses = match h {
            HeaderLine::EnvelopeTo(a) => {
                p.in_envelope_to = true;
                a
            }
            HeaderLine::Continuation(a) if p.in_envelope_to => a,
            HeaderLine::MessageId(m) => {
                t.message_id = Some((*m).to_string());
                p.in_envelope_to = false;
                return;
            }
            HeaderLine::Subject(s) => {
                t.subject = Some((*s).to_string());
                p.in_envelope_to = false;
                return;
            }
            HeaderLine::From(f) => {
                t.header_from = Some((*f).to_string());
                p.in_envelope_to = false;
                return;
            }
            _ => {
                p.in_envelope_to = false;
                return;
            }
        };
        for a in addresses {
            if t.recipient_mut(a).is_some() {
                continue;
            }
            let Some(first) = t.recipients.first() else { continue };
            let mut r = first.clone();
            r.address = (*a).to_string();
            match t.recipients.iter_mut().find(|r| r.address.is_empty()) {
                Some(unnamed) => *unnamed = r,
                None => t.recipients.push(r),
            }
        }
    }

    /// The trace of message `id` (opened if new), with this line on its timeline. Exim logs
    /// nothing about a message after `Completed`: a line after it (of another log of the same
    /// id, or the id used again) begins a new trace.
    fn exim_line(&mut self, ev: &Event<'_>, id: &str) -> usize {
        let slot = self.slot_for(ev, id, true);
        let entry = self.entry(ev);
        let o = self.open_mut(slot);
        o.mta_seen = true;
        // the line ends the wait of a message not arrived yet ([`Assembler::exim_hold`])
        if !o.queued && !o.live.is_empty() {
            o.closed = None;
        }
        o.trace.mta = Mta::Exim;
        o.trace.timeline.push(entry);
        o.trace.first_time = o.trace.first_time.min(ev.time);
        o.trace.last_time = o.trace.last_time.max(ev.time);
        slot
    }

    fn exim_arrival(&mut self, ev: &Event<'_>, id: &str, a: &Arrival<'_>) {
        let slot = self.exim_line(ev, id);
        let o = self.open_mut(slot);
        o.queued = true;
        let t = &mut o.trace;
        t.from = Some(a.from.to_string());
        t.size = a.size.or(t.size);
        if let Some(m) = a.message_id {
            t.message_id = Some(m.to_string());
        }
        if let Some(s) = &a.subject {
            t.subject = Some(s.clone());
        }
        if let Some(h) = a.host {
            set_client(t, h);
        }
        // `DKIM=domain`: a signature of that domain verified
        if let Some(d) = a.dkim {
            if t.dkim.as_ref().is_none_or(|x| x.result != "pass") {
                t.dkim = Some(AuthResult {
                    result: "pass".into(),
                    domain: Some(d.to_string()),
                });
            }
        }
        if let Some(auth) = a.auth {
            let (method, user) = auth.split_once_byte(b':').unwrap_or((auth, ""));
            t.client.sasl_method = Some(method.to_string());
            if !user.is_empty() {
                t.client.sasl_user = Some(user.to_string());
            }
        }
        for r in &a.recipients {
            if t.recipient_mut(r).is_none() {
                t.recipients.push(Recipient::new(r));
            }
        }
        if let Some(parent) = a.bounce_of {
            t.links.push(Link {
                kind: LinkKind::NotificationOf,
                queue_id: parent.to_string(),
            });
            let child = id.to_string();
            if let Some(&p) = self.by_qid.get(ev.host).and_then(|m| m.get(parent)) {
                if let Some(po) = self.slots[p].as_mut() {
                    po.trace.links.push(Link {
                        kind: LinkKind::Notification,
                        queue_id: child,
                    });
                }
            }
        }
    }

    fn exim_attempt(&mut self, ev: &Event<'_>, id: &str, a: &Attempt<'_>, outcome: Outcome) {
        let slot = self.exim_line(ev, id);
        let address = self.exim_delivery(ev, slot, a, outcome);
        // Dovecot's line about the copy (LMTP session in the reply, LDA by Message-ID and user)
        let to_dovecot = a.host.is_none()
            || a.transport.is_some_and(|t| t.to_ascii_lowercase().contains("lmtp"))
            || a.confirmation.as_deref().is_some_and(|c| c.ends_with("Saved"));
        if matches!(outcome, Outcome::Delivered) && a.to != ":blackhole:" && to_dovecot {
            let reply = a.confirmation.clone().unwrap_or_default();
            self.local_delivered(slot, ev.host, id, &address, &reply);
        }
    }

    /// What one delivery attempt did to its recipient; returns the recipient's address.
    fn exim_delivery(&mut self, ev: &Event<'_>, slot: usize, a: &Attempt<'_>, outcome: Outcome) -> String {
        // `=> marc <marc@example.com>`: a local delivery names the local part, then the address
        // it came as; `=> tdubois <sales@example.org>`: an alias expanded to a local user (of
        // the alias's domain); `=> bob@x <alias@y>`: the final address, then the original
        let blackhole = a.to == ":blackhole:";
        let address = match a.orig_to {
            // a pipe or file: `to` is already the address it was made for
            _ if a.target.is_some() => a.to.to_string(),
            Some(o) if blackhole => o.to_string(),
            Some(o) if !a.to.contains('@') => match o.rsplit_once('@') {
                Some((_, domain)) => format!("{}@{domain}", a.to),
                None => a.to.to_string(),
            },
            _ => a.to.to_string(),
        };
        let orig = a.orig_to.filter(|o| !o.eq_ignore_ascii_case(&address));
        let o = self.open_mut(slot);
        let tried = o.exim_host.clone();
        let t = &mut o.trace;
        if let Some(o) = orig {
            // the address announced at arrival (`for …`) is now its expansions
            t.recipients.retain(|r| {
                !(r.status == Status::InProgress && r.orig_to.is_none() && r.address.eq_ignore_ascii_case(o))
            });
        }
        let i = recipient_row(t, &address, a.target);
        let r = &mut t.recipients[i];
        if let Some(o) = orig {
            r.orig_to = Some(o.to_string());
        }
        r.time = Some(ev.time);
        // a deferral without `H=` is about the host of the connection that failed just
        // before; a failure without a host (`retry timeout exceeded`) keeps the last relay
        match (a.host, outcome) {
            _ if a.target.is_some() => r.relay = a.target.map(str::to_string),
            (Some(h), _) => r.relay = Some(relay(h)),
            (None, Outcome::Delivered | Outcome::Suppressed) => r.relay = None,
            (None, Outcome::Deferred) => r.relay = tried.or(r.relay.take()),
            (None, Outcome::Failed) => {}
        }
        match outcome {
            Outcome::Delivered => {
                r.status = if blackhole {
                    Status::Discarded
                } else {
                    Status::Delivered
                };
                // Exim logs no DSN for a delivery (the reply, when logged, is the response)
                r.response = a.confirmation.clone();
                r.dsn = None;
                r.local_delivery = a.host.is_none();
            }
            // a queue run that skipped the address tried nothing: the last attempt's reason
            // stands
            Outcome::Suppressed => {
                r.status = Status::Discarded;
                r.response = Some(
                    a.confirmation
                        .clone()
                        .unwrap_or_else(|| "delivery suppressed (-N)".into()),
                );
                r.dsn = None;
            }
            Outcome::Deferred if a.error.is_some_and(|e| e.contains("retry time not reached")) => {
                r.status = Status::Deferred;
                if r.response.is_none() {
                    r.response = a.error.map(str::to_string);
                }
            }
            Outcome::Deferred => {
                r.status = Status::Deferred;
                r.attempts += 1;
                r.response = a.error.map(str::to_string);
                r.dsn = a.error.and_then(dsn_in).map(str::to_string);
            }
            Outcome::Failed => {
                let expired = a.error.is_some_and(|e| e.contains("retry timeout exceeded"));
                r.status = if expired { Status::Expired } else { Status::Bounced };
                r.response = a.error.map(str::to_string);
                // `retry timeout exceeded` names no code: the last deferral's stands
                if let Some(d) = a.error.and_then(dsn_in) {
                    r.dsn = Some(d.to_string());
                }
            }
        }
        address
    }

    fn exim_reject(&mut self, ev: &Event<'_>, r: &Reject<'_>, out: &mut Vec<Trace>) {
        let id = reject_id(ev, r);
        let entry = self.entry(ev);
        if let Some(p) = self.exim_pending.as_mut() {
            if p.trace.trace_id == id {
                // the same reject again (syslog's copy of the reject log): one event
                p.trace.timeline.push(entry);
                p.in_envelope_to = false;
                return;
            }
        }
        out.extend(self.exim_take_pending());
        let mut t = Trace::new(id, ev.host, ev.time);
        let mut early_recipients = Vec::new();
        // lines logged under the message id before it was refused (sa-exim's verdict, DKIM,
        // PRDR answers, ACL lines)
        if let Some(slot) = r.id.and_then(|i| self.by_qid.get(ev.host)?.get(i).copied()) {
            let early = self.release(slot);
            t.timeline = early.timeline;
            t.actions = early.actions;
            t.policy_actions = early.policy_actions;
            t.dkim = early.dkim;
            t.first_time = early.first_time.min(ev.time);
            early_recipients = early.recipients;
        }
        t.mta = Mta::Exim;
        t.content_id = true;
        t.queue_ids.extend(r.id.map(str::to_string));
        t.timeline.push(entry);
        t.from = r.from.map(str::to_string);
        if let Some(h) = r.host {
            set_client(&mut t, h);
        }
        let mut rcpt = Recipient::new(r.to.unwrap_or(""));
        rcpt.status = if r.discarded {
            Status::Discarded
        } else {
            Status::Rejected
        };
        rcpt.response = Some(r.reason).filter(|x| !x.is_empty()).map(str::to_string);
        rcpt.dsn = dsn_in(r.reason).map(str::to_string);
        rcpt.time = Some(ev.time);
        // recipients named before the refusal (PRDR): each refused by it, unless PRDR
        // refused it already
        if early_recipients.is_empty() || r.to.is_some() {
            t.recipients.push(rcpt.clone());
        }
        for mut e in early_recipients {
            if e.status == Status::InProgress {
                e.status = rcpt.status;
                e.response.clone_from(&rcpt.response);
                e.dsn.clone_from(&rcpt.dsn);
                e.time = rcpt.time;
            }
            if t.recipient_mut(&e.address).is_none() {
                t.recipients.push(e);
            }
        }
        self.exim_pending = Some(PendingReject {
            trace: t,
            in_envelope_to: false,
        });
    }
}

/// Whether a trace holds nothing but its lines (no recipient, no action).
fn t_is_bare(t: &Trace) -> bool {
    t.recipients.is_empty() && t.actions.is_empty() && t.policy_actions.is_empty()
}

/// The row of `address` a delivery line is about: a pipe or file delivery has a row of its
/// own (by its target), and so has a copy delivered after the address already ended (an
/// `unseen` router's second delivery); the row announced at arrival, or still waiting, is
/// taken first. A new row is added when none fits.
fn recipient_row(t: &mut Trace, address: &str, target: Option<&str>) -> usize {
    let is_target = |r: &Recipient| {
        r.relay
            .as_deref()
            .is_some_and(|x| x.starts_with('|') || x.starts_with('/'))
    };
    let ended = |r: &Recipient| {
        matches!(
            r.status,
            Status::Delivered | Status::Bounced | Status::Discarded | Status::Expired | Status::Rejected
        )
    };
    let same = |r: &Recipient| r.address.eq_ignore_ascii_case(address);
    let found = match target {
        Some(tg) => t
            .recipients
            .iter()
            .position(|r| same(r) && r.relay.as_deref() == Some(tg))
            .or_else(|| t.recipients.iter().position(|r| same(r) && !ended(r) && !is_target(r))),
        None => t.recipients.iter().position(|r| same(r) && !ended(r) && !is_target(r)),
    };
    found.unwrap_or_else(|| {
        t.recipients.push(Recipient::new(address));
        t.recipients.len() - 1
    })
}

/// A reject's trace id: its message id when refused after DATA, else a hash of what it says
/// (stage, client, sender, recipient, reason), the same wherever the line is read.
fn reject_id(ev: &Event<'_>, r: &Reject<'_>) -> String {
    let secs = ev.time.timestamp();
    if let Some(id) = r.id {
        return trace_id(&[ev.host, id], secs, None);
    }
    let ip = r.host.and_then(|h| h.ip).unwrap_or("");
    let what = [r.stage, ip, r.from.unwrap_or(""), r.to.unwrap_or(""), r.reason].join("\n");
    let hash = format!("{:016x}", xxh3_64(what.as_bytes()));
    trace_id(&[ev.host, "REJECT", &hash], secs, None)
}

/// The SMTP client of an arrival or a reject.
fn set_client(t: &mut Trace, h: Host<'_>) {
    t.client.ip = h.ip.map(str::to_string);
    t.client.name = h.name.map(str::to_string);
    t.client.helo = h.helo.map(str::to_string);
}

/// `H=name [ip]` as the truth and Exim's own tools write a relay.
fn relay(h: Host<'_>) -> String {
    match (h.name, h.ip) {
        (Some(n), Some(ip)) => format!("{n} [{ip}]"),
        (Some(n), None) => n.to_string(),
        (None, Some(ip)) => format!("[{ip}]"),
        (None, None) => String::new(),
    }
}
