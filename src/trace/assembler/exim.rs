//! Exim main-log lines in the assembler. Exim names each message by one id on every line, so a
//! trace opens at `<=`, takes each delivery, deferral and failure as its recipient's status,
//! and closes at `Completed`. A frozen message's recipients still open become `quarantined`;
//! a bounce (`<= <> R=id`) is linked both ways to the message it reports on; a refused
//! recipient (`rejected RCPT`) is a one-line pseudo-trace, like Postfix's `NOQUEUE`.

use super::{finalize, trace_id, Assembler};
use crate::event::Event;
use crate::parse::exim::{Arrival, Attempt, EximLine, Host, Reject};
use crate::parse::fields::dsn_in;
use crate::trace::model::{Link, LinkKind, Mta, Recipient, Status, Trace};

/// How a recipient's line ends its attempt.
#[derive(Clone, Copy)]
enum Outcome {
    Delivered,
    Deferred,
    Failed,
}

impl Assembler {
    pub(super) fn exim(&mut self, ev: &Event<'_>, line: &EximLine<'_>, out: &mut Vec<Trace>) {
        match line {
            EximLine::Rejected(r) => out.push(self.exim_reject(ev, r)),
            EximLine::Arrival { id, arrival } => self.exim_arrival(ev, id, arrival),
            EximLine::Delivery { id, attempt, .. } => self.exim_attempt(ev, id, attempt, Outcome::Delivered),
            EximLine::Deferred { id, attempt } => self.exim_attempt(ev, id, attempt, Outcome::Deferred),
            EximLine::Failed { id, attempt } => self.exim_attempt(ev, id, attempt, Outcome::Failed),
            EximLine::Completed { id } => {
                let slot = self.exim_line(ev, id, false);
                self.end_all(slot, ev.time);
            }
            EximLine::Frozen { id } => {
                let slot = self.exim_line(ev, id, false);
                self.open_mut(slot).held = true;
            }
            EximLine::Unfrozen { id } => {
                let slot = self.exim_line(ev, id, false);
                self.open_mut(slot).held = false;
            }
            EximLine::Other { id, text } => {
                if self.by_qid.get(ev.host).is_some_and(|m| m.contains_key(*id)) {
                    let slot = self.exim_line(ev, id, false);
                    // `host [ip] Connection timed out`: the host the next deferral is about
                    if let Some((name, rest)) = text.split_once(" [") {
                        if let Some((ip, _)) = rest.split_once(']') {
                            if !name.contains(' ') && ip.parse::<std::net::IpAddr>().is_ok() {
                                self.open_mut(slot).exim_host = Some(format!("{name} [{ip}]"));
                            }
                        }
                    }
                }
            }
            EximLine::Unrecognised => {}
        }
    }

    /// The trace of message `id` (opened if new; with `arrival`, a new one if the id was used
    /// before), with this line on its timeline.
    fn exim_line(&mut self, ev: &Event<'_>, id: &str, arrival: bool) -> usize {
        let slot = self.slot_for(ev, id, arrival);
        let entry = self.entry(ev);
        let o = self.open_mut(slot);
        o.trace.mta = Mta::Exim;
        o.trace.timeline.push(entry);
        o.trace.first_time = o.trace.first_time.min(ev.time);
        o.trace.last_time = o.trace.last_time.max(ev.time);
        slot
    }

    fn exim_arrival(&mut self, ev: &Event<'_>, id: &str, a: &Arrival<'_>) {
        let slot = self.exim_line(ev, id, true);
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
        if let Some(auth) = a.auth {
            let (method, user) = auth.split_once(':').unwrap_or((auth, ""));
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
        let slot = self.exim_line(ev, id, false);
        // `=> marc <marc@example.com>`: a local delivery names the local part, then the address
        // it came as; `=> tdubois <sales@example.org>`: an alias expanded to a local user (of
        // the alias's domain); `=> bob@x <alias@y>`: the final address, then the original
        let blackhole = a.to == ":blackhole:";
        let address = match a.orig_to {
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
        if t.recipient_mut(&address).is_none() {
            t.recipients.push(Recipient::new(&address));
        }
        let r = t.recipient_mut(&address).expect("added above");
        if let Some(o) = orig {
            r.orig_to = Some(o.to_string());
        }
        r.time = Some(ev.time);
        // a deferral without `H=` is about the host of the connection that failed just
        // before; a failure without a host (`retry timeout exceeded`) keeps the last relay
        match (a.host, outcome) {
            (Some(h), _) => r.relay = Some(relay(h)),
            (None, Outcome::Delivered) => r.relay = None,
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
    }

    fn exim_reject(&mut self, ev: &Event<'_>, r: &Reject<'_>) -> Trace {
        let mut t = Trace::new(
            trace_id(&[ev.host, "NOQUEUE"], ev.time.timestamp(), Some(ev.line.line)),
            ev.host,
            ev.time,
        );
        t.mta = Mta::Exim;
        t.timeline.push(self.entry(ev));
        t.from = r.from.map(str::to_string);
        if let Some(h) = r.host {
            set_client(&mut t, h);
        }
        let mut rcpt = Recipient::new(r.to.unwrap_or(""));
        rcpt.status = Status::Rejected;
        rcpt.response = Some(r.reason.to_string());
        rcpt.dsn = dsn_in(r.reason).map(str::to_string);
        rcpt.time = Some(ev.time);
        t.recipients.push(rcpt);
        finalize(&mut t, false, &self.rules);
        t
    }
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
