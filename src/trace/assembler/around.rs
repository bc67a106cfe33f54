//! The programs around the MTA in the assembler: spam and virus verdicts (amavis, rspamd),
//! sender authentication (policyd-spf, OpenDKIM, OpenDMARC), the mailbox each copy was filed
//! into (Dovecot LDA/LMTP/Sieve) and postscreen's findings on a rejected connection.
//!
//! Their lines join the timeline of the message they are about, not its first and last times
//! (those stay the MTA's own). How each finds its message:
//! - OpenDKIM, OpenDMARC, rspamd: the Postfix queue id they log (an rspamd line without one,
//!   by Message-ID); a message not open on that host is not opened for them.
//! - policyd-spf (no queue id): the open smtpd session whose client has that IP and whose
//!   sender, if known, is the envelope sender; else the next `QID: client=` or before-queue
//!   reject from that IP on that host within [`FACT_WAIT_SECS`] (the policy check runs at RCPT
//!   time, which Postfix logs before `client=` when it delays opening the queue file).
//! - Dovecot: the LMTP session id, which Postfix's reply repeats (`250 2.0.0 <user> SESSION
//!   Saved`), in either order; LDA lines (no session) by Message-ID and user, before the pipe
//!   delivery line (LDA logs before it exits).
//! - postscreen: its tests per client `[ip]:port` until `PASS`/`DISCONNECT`; a before-queue
//!   reject from that `[ip]:port` gets them as policy actions.

use crate::parse::text::StrFind;
use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use super::Assembler;
use crate::event::{AuthMethod, Event, EventKind, MailboxOutcome};
use crate::trace::model::{is_spam_verdict, AuthResult, PolicyAction, Status, TimelineEntry, Trace};

/// How long a fact waits for its message (log time).
pub(super) const FACT_WAIT_SECS: i64 = 300;

/// A Dovecot outcome waiting for Postfix's delivery line.
#[derive(Serialize, Deserialize)]
struct PendingMailbox {
    outcome: MailboxOutcome,
    detail: String,
    entry: TimelineEntry,
    /// An LMTP line's Message-ID and user as [`message_user_hash`] (0: no Message-ID), to find
    /// it when Postfix's reply names another session.
    #[serde(default)]
    by_message: u64,
}

/// Message-ID and user (lowercased) as a number, without a copy of either.
fn message_user_hash(message_id: &str, user: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(message_id.as_bytes());
    h.write_u8(0);
    for b in user.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    h.finish() | 1
}

/// An SPF result waiting for its message.
#[derive(Serialize, Deserialize)]
struct PendingSpf {
    client_ip: String,
    /// The envelope sender checked, lowercased (`None`: not logged, or the null sender).
    #[serde(default)]
    sender: Option<String>,
    result: AuthResult,
    entry: TimelineEntry,
}

/// postscreen's findings on one connection.
#[derive(Default, Serialize, Deserialize)]
struct Screening {
    findings: Vec<String>,
    entries: Vec<TimelineEntry>,
}

/// Per host, per key: a fact and when it was seen.
type PerHost<T, K = String> = HashMap<String, HashMap<K, (T, DateTime<Utc>)>>;

/// The map of `host`, created the first time the host is seen (the name is copied only then).
pub(super) fn host_entry<'m, V: Default>(map: &'m mut HashMap<String, V>, host: &str) -> &'m mut V {
    if !map.contains_key(host) {
        map.insert(host.to_string(), V::default());
    }
    map.get_mut(host).expect("inserted above")
}

/// A postscreen connection `[addr]:port` as a number (a hash: no allocation per line).
fn connection_key(addr: &str, port: Option<u16>) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(addr.as_bytes(), u64::from(port.unwrap_or(0)))
}

/// An amavis task of a host as a number (a hash: no allocation per verdict).
fn task_key(host: &str, task: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(task.as_bytes(), xxhash_rust::xxh3::xxh3_64(host.as_bytes()))
}

/// An LMTP delivery whose Dovecot line has not come yet.
#[derive(Serialize, Deserialize)]
struct Delivered {
    qid: String,
    recipient: String,
    /// The message's Message-ID with the recipient, and with its local part, as
    /// [`message_user_hash`] (0: no Message-ID), for a Dovecot line of another session id.
    #[serde(default)]
    by_message: [u64; 2],
}

/// The lines of one amavis task (`(11412-17)`): held until its verdict names the queue id,
/// then the queue id, for the lines after it (`TIMING`).
#[derive(Default, Serialize, Deserialize)]
struct Task {
    entries: Vec<TimelineEntry>,
    qid: Option<String>,
}

/// Lines of one amavis task kept while its verdict has not come (a task logs a dozen or so).
const TASK_LINES: usize = 64;

/// Facts waiting for their message, per host. Each entry carries when it was seen, and is
/// dropped [`FACT_WAIT_SECS`] later.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct Around {
    /// amavis task (host and task id, as [`task_key`]) → its lines or its message, and since
    /// when.
    #[serde(default)]
    tasks: HashMap<u64, (Task, DateTime<Utc>)>,
    /// The tasks in the order they were last touched, to forget them without a scan of all
    /// (a checkpoint of an older version: swept by the clock of every host).
    #[serde(default)]
    task_order: std::collections::VecDeque<(u64, DateTime<Utc>)>,
    /// Per host, the tasks in the order they were last touched.
    #[serde(default)]
    task_orders: HashMap<String, std::collections::VecDeque<(u64, DateTime<Utc>)>>,
    /// LMTP session (or LDA Message-ID and user) → Dovecot's outcome.
    mailbox: PerHost<PendingMailbox>,
    /// LMTP session → the delivery Postfix logged first.
    delivered: PerHost<Delivered>,
    spf: HashMap<String, Vec<(PendingSpf, DateTime<Utc>)>>,
    /// [`connection_key`] → findings.
    screens: PerHost<Screening, u64>,
}

impl Around {
    /// SPF results waiting for their message, on every host.
    #[cfg(test)]
    pub(super) fn spf_waiting(&self) -> usize {
        self.spf.values().map(Vec::len).sum()
    }

    /// Drops facts older than [`FACT_WAIT_SECS`] by their host's clock (`now_on`; logs of
    /// several servers read one after the other are each in their own time), or by `now` for
    /// those of a checkpoint that did not keep their host.
    pub(super) fn sweep(&mut self, now_on: &dyn Fn(&str) -> DateTime<Utc>, now: DateTime<Utc>) {
        let fresh = |now: DateTime<Utc>, since: &DateTime<Utc>| now - *since <= Duration::seconds(FACT_WAIT_SECS);
        for (host, m) in self.mailbox.iter_mut() {
            let now = now_on(host);
            m.retain(|_, (_, t)| fresh(now, t));
        }
        for (host, m) in self.delivered.iter_mut() {
            let now = now_on(host);
            m.retain(|_, (_, t)| fresh(now, t));
        }
        for (host, v) in self.spf.iter_mut() {
            let now = now_on(host);
            v.retain(|(_, t)| fresh(now, t));
        }
        for (host, m) in self.screens.iter_mut() {
            let now = now_on(host);
            m.retain(|_, (_, t)| fresh(now, t));
        }
        let tasks = &mut self.tasks;
        let mut forget = |order: &mut std::collections::VecDeque<(u64, DateTime<Utc>)>, now: DateTime<Utc>| {
            while let Some(&(key, since)) = order.front() {
                if fresh(now, &since) {
                    break;
                }
                order.pop_front();
                // touched again since: a later entry of the queue stands for it
                if tasks.get(&key).is_some_and(|(_, t)| *t == since) {
                    tasks.remove(&key);
                }
            }
        };
        forget(&mut self.task_order, now);
        for (host, order) in self.task_orders.iter_mut() {
            forget(order, now_on(host));
        }
    }
}

/// The key of an LDA outcome (no session): Message-ID and user, lowercased.
fn lda_key(message_id: &str, user: &str) -> String {
    let mut k = String::with_capacity(message_id.len() + user.len() + 1);
    k.push_str(message_id);
    k.push('\0');
    k.push_str(&user.to_ascii_lowercase());
    k
}

fn auth_result(result: &str, domain: Option<&str>) -> AuthResult {
    AuthResult {
        result: result.to_ascii_lowercase(),
        domain: domain.map(|d| d.to_ascii_lowercase()),
    }
}

/// Sets an authentication result: the later line wins, but a result repeated without a domain
/// keeps the domain known (OpenDKIM logs `s= d= SSL`, then `DKIM verification successful`).
fn set_auth(slot: &mut Option<AuthResult>, new: AuthResult) {
    match slot {
        Some(old) if old.result == new.result && new.domain.is_none() => {}
        _ => *slot = Some(new),
    }
}

/// Applies a Dovecot outcome to recipient `i`.
fn apply_mailbox(t: &mut Trace, i: usize, outcome: MailboxOutcome, detail: &str, entry: TimelineEntry) {
    t.timeline.push(entry);
    let r = &mut t.recipients[i];
    let action = |r: &mut crate::trace::Recipient, action: &str| {
        r.actions.push(PolicyAction {
            source: "sieve".to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
        })
    };
    match outcome {
        MailboxOutcome::Saved => r.folder = Some(detail.to_string()),
        MailboxOutcome::Discarded => {
            r.status = Status::Discarded;
            action(r, "discard");
        }
        MailboxOutcome::Rejected => {
            r.status = Status::Rejected;
            action(r, "reject");
        }
        MailboxOutcome::Forwarded => action(r, "forward"),
    }
}

impl Assembler {
    /// The open trace of `qid` on `host` (any host for a line without one: rspamd's own log).
    pub(super) fn open_slot(&self, host: &str, qid: &str) -> Option<usize> {
        if host.is_empty() {
            return self.by_qid.values().find_map(|m| m.get(qid).copied());
        }
        self.by_qid.get(host).and_then(|m| m.get(qid)).copied()
    }

    /// Applies a line of a program around the MTA; `false` when it is not one.
    pub(super) fn around(&mut self, ev: &Event<'_>) -> bool {
        match &ev.kind {
            EventKind::SpamCheck {
                qid,
                message_id,
                action,
                score,
                ..
            } => {
                let slot = match qid {
                    Some(q) => self.fact_slot(ev, q),
                    None => message_id.and_then(|m| {
                        self.slots.iter().position(|o| {
                            o.as_ref().is_some_and(|o| {
                                o.trace.message_id.as_deref() == Some(m)
                                    && (ev.host.is_empty() || o.trace.host == ev.host)
                            })
                        })
                    }),
                };
                if let Some(slot) = slot {
                    let entry = self.entry(ev);
                    let t = &mut self.open_mut(slot).trace;
                    t.timeline.push(entry);
                    t.spam_verdict = Some(action.to_string());
                    t.spam_score = *score;
                    let detail = score.map(|s| format!("score {s}")).unwrap_or_default();
                    t.add_action("rspamd", action, &detail);
                }
            }
            EventKind::Auth {
                qid: Some(qid),
                method,
                result,
                domain,
                ..
            } => {
                if let Some(slot) = self.fact_slot(ev, qid) {
                    let entry = self.entry(ev);
                    let t = &mut self.open_mut(slot).trace;
                    t.timeline.push(entry);
                    let new = auth_result(result, *domain);
                    match method {
                        AuthMethod::Dkim => set_auth(&mut t.dkim, new),
                        AuthMethod::Dmarc => set_auth(&mut t.dmarc, new),
                        // OpenDMARC's own SPF check: only when no policy server reported
                        AuthMethod::Spf => {
                            if t.spf.is_none() {
                                t.spf = Some(new);
                            }
                        }
                    }
                }
            }
            EventKind::Auth { qid: None, .. } => self.spf_line(ev),
            EventKind::Note {
                qid,
                source,
                action,
                detail,
            } => {
                if let Some(slot) = self.fact_slot(ev, qid) {
                    let entry = self.entry(ev);
                    let t = &mut self.open_mut(slot).trace;
                    t.timeline.push(entry);
                    t.add_action(source, action, detail);
                }
            }
            EventKind::FilterTask { task, .. } => self.task_line(ev, task),
            EventKind::Mailbox { .. } => self.mailbox_line(ev),
            EventKind::Screen {
                peer,
                test,
                detail,
                end,
            } => {
                // PASS and DISCONNECT end most screenings that found nothing: no allocation
                let key = connection_key(peer.addr, peer.port);
                if *end {
                    if let Some(m) = self.around.screens.get_mut(ev.host) {
                        m.remove(&key);
                    }
                } else {
                    let entry = self.entry(ev);
                    let (s, _) = host_entry(&mut self.around.screens, ev.host)
                        .entry(key)
                        .or_insert_with(|| (Screening::default(), ev.time));
                    s.findings.push(if detail.is_empty() {
                        test.to_string()
                    } else {
                        format!("{test} {detail}")
                    });
                    s.entries.push(entry);
                }
            }
            _ => return false,
        }
        true
    }

    /// The open trace of `qid`, or, for a program mailtrace reads whose line names a message
    /// not open (its MTA lines are in another file, as with syslog's `mail.warn`, or were
    /// never logged), a new trace of its own: a line about a message is never dropped. Its
    /// first and last times are those of the line; later MTA lines of the id join it.
    fn fact_slot(&mut self, ev: &Event<'_>, qid: &str) -> Option<usize> {
        if let Some(slot) = self.open_slot(ev.host, qid) {
            return Some(slot);
        }
        if crate::parse::family(ev.program) == crate::parse::Family::Other {
            return None;
        }
        Some(self.slot_for(ev, qid, false))
    }

    /// A line about message `qid` that sets nothing (see [`Assembler::fact_slot`]).
    pub(super) fn note_line(&mut self, ev: &Event<'_>, qid: &str) {
        if let Some(slot) = self.fact_slot(ev, qid) {
            let entry = self.entry(ev);
            self.open_mut(slot).trace.timeline.push(entry);
        }
    }

    /// A line of an amavis task: on the timeline of the task's message once its verdict named
    /// it, held until then.
    fn task_line(&mut self, ev: &Event<'_>, task: &str) {
        let entry = self.entry(ev);
        let key = task_key(ev.host, task);
        let slot = self
            .around
            .tasks
            .get(&key)
            .and_then(|(t, _)| t.qid.as_deref())
            .and_then(|q| self.open_slot(ev.host, q));
        if let Some(slot) = slot {
            self.open_mut(slot).trace.timeline.push(entry);
            return;
        }
        let around = &mut self.around;
        let (t, _) = around.tasks.entry(key).or_insert_with(|| {
            host_entry(&mut around.task_orders, ev.host).push_back((key, ev.time));
            (Task::default(), ev.time)
        });
        if t.entries.len() < TASK_LINES {
            t.entries.push(entry);
        }
    }

    /// amavis's verdict for `task` named its message (`slot`): the task's lines so far join it,
    /// and later ones will.
    pub(super) fn task_verdict(&mut self, host: &str, task: &str, qid: &str, slot: usize) {
        let now = self.now_on(host);
        let key = task_key(host, task);
        let (t, since) = self.around.tasks.entry(key).or_insert_with(|| (Task::default(), now));
        *since = now;
        host_entry(&mut self.around.task_orders, host).push_back((key, now));
        t.qid = Some(qid.to_string());
        let entries = std::mem::take(&mut t.entries);
        self.open_mut(slot).trace.timeline.extend(entries);
    }

    /// policyd-spf: no queue id (see the module notes). The result waits for the message of
    /// that client and envelope sender: the check runs at RCPT time, before the queue manager
    /// logs the sender (`from=`), which is when it joins ([`Assembler::join_spf_results`]), or
    /// before a before-queue reject of that sender. Keyed by sender, a result never joins
    /// another message of the same session, nor a message of another session from the same
    /// address with another sender.
    fn spf_line(&mut self, ev: &Event<'_>) {
        let EventKind::Auth {
            result,
            domain,
            client_ip: Some(ip),
            sender,
            ..
        } = &ev.kind
        else {
            return;
        };
        let entry = self.entry(ev);
        host_entry(&mut self.around.spf, ev.host).push((
            PendingSpf {
                client_ip: ip.to_string(),
                sender: sender
                    .filter(|s| !s.is_empty() && *s != "<>")
                    .map(str::to_ascii_lowercase),
                result: auth_result(result, *domain),
                entry,
            },
            ev.time,
        ));
    }

    /// The queue manager named the sender of `slot`'s message: the SPF results logged for its
    /// client and that sender join it.
    pub(super) fn join_spf_results(&mut self, slot: usize, from: &str) {
        let Some(o) = self.slots[slot].as_ref() else { return };
        // most messages have no result waiting: no allocation for them
        if o.trace.client.ip.is_none() || self.around.spf.get(&o.trace.host).is_none_or(Vec::is_empty) {
            return;
        }
        let (Some(ip), host) = (o.trace.client.ip.clone(), o.trace.host.clone()) else {
            return;
        };
        let found = self.take_spf(&host, &ip, Some(from));
        join_spf(&mut self.open_mut(slot).trace, found);
    }

    /// The SPF results waiting on `host` for client `ip` and envelope sender `from`, in the
    /// order they were logged (one per recipient checked). A result that names no sender
    /// matches any.
    pub(super) fn take_spf(&mut self, host: &str, ip: &str, from: Option<&str>) -> Vec<(AuthResult, TimelineEntry)> {
        let now = self.now_on(host);
        let Some(pending) = self.around.spf.get_mut(host) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut i = 0;
        while i < pending.len() {
            let (p, _) = &pending[i];
            let same_sender = match (&p.sender, from) {
                (Some(s), Some(f)) => s.eq_ignore_ascii_case(f),
                _ => true,
            };
            if p.client_ip != ip || !same_sender {
                i += 1;
                continue;
            }
            let (p, since) = pending.remove(i);
            // the sweep runs every few seconds: a stale one may still be here
            if now - since <= Duration::seconds(FACT_WAIT_SECS) {
                found.push((p.result, p.entry));
            }
        }
        found
    }

    /// postscreen's findings on the connection `addr:port` join a before-queue reject from it.
    pub(super) fn take_screening(&mut self, host: &str, addr: &str, port: Option<u16>, t: &mut Trace) {
        let key = connection_key(addr, port);
        let now = self.now_on(host);
        let Some((s, since)) = self.around.screens.get(host).and_then(|m| m.get(&key)) else {
            return;
        };
        if now - *since > Duration::seconds(FACT_WAIT_SECS) {
            return;
        }
        for f in &s.findings {
            t.add_action("postscreen", "reject", f);
        }
        t.timeline.extend(s.entries.iter().cloned());
    }

    /// A Dovecot delivery line.
    fn mailbox_line(&mut self, ev: &Event<'_>) {
        let EventKind::Mailbox {
            user,
            session,
            message_id,
            outcome,
            detail,
        } = &ev.kind
        else {
            return;
        };
        let entry = self.entry(ev);
        let key = match session {
            Some(s) => {
                // Postfix logged the delivery first
                let done = self
                    .around
                    .delivered
                    .get_mut(ev.host)
                    .and_then(|m| m.remove(*s))
                    .filter(|(_, since)| ev.time - *since <= Duration::seconds(FACT_WAIT_SECS));
                if let Some((d, _)) = done {
                    if let Some(slot) = self.open_slot(ev.host, &d.qid) {
                        let t = &mut self.open_mut(slot).trace;
                        if let Some(i) = t
                            .recipients
                            .iter()
                            .position(|r| r.address.eq_ignore_ascii_case(&d.recipient))
                        {
                            apply_mailbox(t, i, *outcome, detail, entry);
                        }
                    }
                    return;
                }
                // or under another session id: by Message-ID and user
                if let Some((slot, i)) = message_id.and_then(|m| self.delivered_by_message(ev.host, m, user)) {
                    apply_mailbox(&mut self.open_mut(slot).trace, i, *outcome, detail, entry);
                    return;
                }
                s.to_string()
            }
            None => match message_id {
                Some(m) => lda_key(m, user),
                None => return,
            },
        };
        let pending = PendingMailbox {
            outcome: *outcome,
            detail: detail.to_string(),
            entry,
            by_message: match (session, message_id) {
                (Some(_), Some(m)) => message_user_hash(m, user),
                _ => 0,
            },
        };
        host_entry(&mut self.around.mailbox, ev.host).insert(key, (pending, ev.time));
    }

    /// An LMTP delivery Postfix logged first whose session is not Dovecot's: the one of the
    /// message with that Message-ID to that user (slot, recipient index), taken off the list.
    fn delivered_by_message(&mut self, host: &str, message_id: &str, user: &str) -> Option<(usize, usize)> {
        let wanted = message_user_hash(message_id, user);
        let delivered = self.around.delivered.get_mut(host)?;
        let key = delivered
            .iter()
            .find(|(_, (d, _))| d.by_message.contains(&wanted))
            .map(|(k, _)| k.clone())?;
        let (d, _) = delivered.remove(&key)?;
        let slot = *self.by_qid.get(host)?.get(&d.qid)?;
        let t = &self.slots[slot].as_ref()?.trace;
        let i = t
            .recipients
            .iter()
            .position(|r| r.address.eq_ignore_ascii_case(&d.recipient))?;
        Some((slot, i))
    }

    /// Postfix delivered recipient `to` of `slot` to a local agent: Dovecot's outcome for it,
    /// logged before, joins it; an LMTP session not seen yet is remembered for Dovecot's line.
    pub(super) fn local_delivered(&mut self, slot: usize, host: &str, qid: &str, to: &str, response: &str) {
        let session = crate::parse::dovecot::session_in_reply(response);
        let mid = self.slots[slot].as_ref().and_then(|o| o.trace.message_id.as_deref());
        let pending = self.around.mailbox.get_mut(host).and_then(|m| {
            let local = to.split('@').next().unwrap_or(to);
            // by the session Postfix's reply names; else an LDA line by Message-ID and user;
            // else an LMTP line of another session id (a proxy's) with that Message-ID and user
            match session {
                Some(s) => m.remove(s).or_else(|| {
                    let wanted = [message_user_hash(mid?, to), message_user_hash(mid?, local)];
                    let key = m
                        .iter()
                        .find(|(_, (p, _))| wanted.contains(&p.by_message))
                        .map(|(k, _)| k.clone())?;
                    m.remove(&key)
                }),
                None => {
                    let mid = mid?;
                    m.remove(&lda_key(mid, to)).or_else(|| m.remove(&lda_key(mid, local)))
                }
            }
        });
        let now = self.now_on(host);
        let fresh = |since: DateTime<Utc>| now - since <= Duration::seconds(FACT_WAIT_SECS);
        match (pending.filter(|(_, since)| fresh(*since)), session) {
            (Some((p, _)), _) => {
                let t = &mut self.open_mut(slot).trace;
                if let Some(i) = t.recipients.iter().position(|r| r.address.eq_ignore_ascii_case(to)) {
                    apply_mailbox(t, i, p.outcome, &p.detail, p.entry);
                }
            }
            (None, Some(s)) => {
                host_entry(&mut self.around.delivered, host).insert(
                    s.to_string(),
                    (
                        Delivered {
                            qid: qid.to_string(),
                            recipient: to.to_string(),
                            by_message: mid.map_or([0; 2], |m| {
                                let local = to.split('@').next().unwrap_or(to);
                                [message_user_hash(m, to), message_user_hash(m, local)]
                            }),
                        },
                        now,
                    ),
                );
            }
            (None, None) => {}
        }
    }
}

/// SPF results taken by [`Assembler::take_spf`] join `t`.
pub(super) fn join_spf(t: &mut Trace, found: Vec<(AuthResult, TimelineEntry)>) {
    for (result, entry) in found {
        t.timeline.push(entry);
        t.spf = Some(result);
    }
}

/// amavis's verdict as the trace's spam facts and a policy action.
pub(super) fn content_filter(t: &mut Trace, ev: &Event<'_>) {
    let EventKind::ContentFilter {
        passed,
        category,
        quarantine,
        hits,
        reason,
        ..
    } = &ev.kind
    else {
        return;
    };
    let virus = reason.filter(|_| category.starts_with("INFECTED"));
    t.spam_verdict = Some(category.to_string());
    if hits.is_some() {
        t.spam_score = *hits;
    }
    if let Some(v) = virus {
        t.virus = Some(v.to_string());
    }
    let mut detail = category.to_string();
    if let Some(r) = reason {
        detail.push_str(&format!(" ({r})"));
    }
    if let Some(q) = quarantine {
        detail.push_str(&format!(", quarantine {q}"));
    }
    t.add_action("amavis", if *passed { "passed" } else { "blocked" }, &detail);
}

/// What a milter's or smtpd's policy line tells beyond the status: the milter's decision as a
/// policy action (rspamd's when it is its reply), SPF and DMARC failures named in the reply.
pub(super) fn policy_facts(t: &mut Trace, ev: &Event<'_>) {
    let EventKind::Policy {
        stage,
        action,
        text,
        tail,
        ..
    } = &ev.kind
    else {
        return;
    };
    let word = super::action_word(*action);
    if stage.milter {
        // rspamd's milter replies: `5.7.1 Spam message rejected`, `4.7.1 Try again later`
        let rspamd = text.contains("Spam message rejected");
        t.add_action(if rspamd { "rspamd" } else { "milter" }, word, text);
        if rspamd && t.spam_verdict.is_none() {
            t.spam_verdict = Some("reject".to_string());
        }
    }
    let sender_domain = tail.from.and_then(|f| f.rsplit_once('@')).map(|(_, d)| d);
    if text.contains("SPF fail") || text.contains("SPF Fail") || text.contains("openspf.") {
        t.spf = Some(auth_result("fail", sender_domain));
    }
    if stage.milter && text.contains("DMARC") && *action == crate::event::Action::Reject {
        let domain = text
            .split_once_str("DMARC policy for ")
            .map(|(_, d)| d.trim_end_matches(['.', ')']));
        t.dmarc = Some(auth_result("fail", domain.or(sender_domain)));
    }
}

/// Delivered copies filed as spam: into a junk folder, or tagged by the spam filter.
pub(super) fn spam_status(t: &mut Trace) {
    let tagged = t.spam_verdict.as_deref().is_some_and(is_spam_verdict);
    for r in &mut t.recipients {
        if r.status == Status::Delivered
            && (tagged || r.folder.as_deref().is_some_and(crate::trace::model::is_junk_folder))
        {
            r.status = Status::Spam;
        }
    }
}
