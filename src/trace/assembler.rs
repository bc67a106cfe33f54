//! The assembler: a state machine keyed by (host, queue id) that folds events into traces.
//!
//! A trace opens with the first event of a queue id and closes when every queue id of the
//! message has been `removed` (or the message was rejected, discarded, or removed by the
//! admin). A closed trace waits a short grace period of log time, so that lines written a
//! moment after `removed` (amavis, for one) still join it, and is then handed out. Memory
//! therefore holds only messages still in flight, never the whole file.
//!
//! Log time is kept per host: a grace period, or a fact waiting for its message (a Dovecot
//! line, an SPF result), is timed by the clock of its own host. The logs of several servers
//! read one after the other (`--log mx1.log mbox1.log`, or indexed in separate runs) are
//! each in their own time, so a server read later is not judged by the end of another's log.
//!
//! Links:
//! - content-filter re-injection: a delivery `status=sent (… queued as NEWQID)` to a relay on
//!   this host (or to any relay when NEWQID is already open on this host), and amavis
//!   `queued_as:` — NEWQID's chain merges into the same trace;
//! - local(8) `forwarded as NEWQID` — also merged, the recipient becomes `expanded`;
//! - bounce/delay notices: the notice is a trace of its own, linked both ways;
//! - queue-id reuse: a new `client=`/`uid=` for a queue id already removed opens a new trace.

use crate::parse::text::StrFind;
use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Duration, Utc};

mod around;
mod exim;
mod pmg;
mod proxy;

use super::direction::DirectionRules;
use super::model::{FilterVerdict, Link, LinkKind, Mta, Recipient, Status, TimelineEntry, Trace};
use crate::event::{Action, AdminAction, DeliveryStatus, Event, EventKind, NoticeKind, PolicyTail};

/// How long (log time) a closed trace waits for late lines.
const GRACE_SECS: i64 = 120;
/// How long a message whose SMTP session ended is waited for by the queue manager before it
/// is taken as never queued (qmgr can lag behind smtpd on a loaded server; an hour is ample).
const UNQUEUED_WAIT_SECS: i64 = 3600;
/// The end of the action noted on a message whose session ended before it was queued.
const NOT_QUEUED: &str = " before the message was queued";
/// How long an expected re-injected queue id is waited for.
const LINK_WAIT_SECS: i64 = 600;
/// Waiting facts are forgotten every 10 s of log time, or at the latest every this many events.
const SWEEP_EVERY: u32 = 16_384;

/// An smtpd process's current SMTP session.
#[derive(Default, Serialize, Deserialize)]
struct Session {
    /// The queue id of the message being received, once `client=` was logged.
    qid: Option<String>,
    /// Session lines (connect, TLS) logged before the message had a queue id.
    pending: Vec<TimelineEntry>,
    /// The client of `NOQUEUE: client=` (a message for a before-queue content filter).
    #[serde(default)]
    client: Option<proxy::SessionPeer>,
}

/// Session lines kept while no message has a queue id yet (connect, TLS, a few warnings).
const SESSION_LINES: usize = 8;

/// A closed trace in its grace period; `deadline` is precomputed as it is checked per event.
#[derive(Serialize, Deserialize)]
struct Closing {
    slot: usize,
    /// Matches `Open::closed` while the entry is current; entries of slots merged away,
    /// reused or reopened since are skipped.
    ticket: u64,
    deadline: DateTime<Utc>,
    /// The host whose clock times it (the trace's); missing in checkpoints of older versions
    /// until [`Assembler::restore`] fills it in.
    host: String,
}

/// A [`Closing`] as a checkpoint holds it: older versions wrote no host.
#[derive(Deserialize)]
struct SavedClosing {
    slot: usize,
    ticket: u64,
    deadline: DateTime<Utc>,
    host: Option<String>,
}

/// Closed traces waiting out a period, a queue per host in the order they closed: each host's
/// are due by that host's clock, so a host whose log was read first (its clock ahead) never
/// holds up the messages of a host read after it. Checkpoints hold one list of every entry.
#[derive(Default)]
struct Waiting {
    queues: HashMap<String, VecDeque<Closing>>,
    /// Entries of an older checkpoint, which wrote no host, until [`Waiting::rehost`].
    unhosted: Vec<Closing>,
}

impl Waiting {
    fn push(&mut self, c: Closing) {
        self.queues.entry(c.host.clone()).or_default().push_back(c);
    }

    fn clear(&mut self) {
        self.queues.clear();
        self.unhosted.clear();
    }

    /// Files entries of older checkpoints (no host) under their trace's host. Only those: an
    /// entry whose host is written stays in that host's queue even when its slot now holds
    /// another host's message (a stale entry still holds its place at the head of its queue,
    /// as it would have in a run that never stopped; the lines fuzz target found a message
    /// split in two when such an entry moved to another host's queue on restore).
    fn rehost(&mut self, host_of: impl Fn(usize) -> Option<String>) {
        for mut c in std::mem::take(&mut self.unhosted) {
            c.host = host_of(c.slot).unwrap_or_default();
            self.push(c);
        }
    }
}

impl Serialize for Waiting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut hosts: Vec<&String> = self.queues.keys().collect();
        hosts.sort();
        s.collect_seq(hosts.into_iter().flat_map(|h| &self.queues[h]).chain(&self.unhosted))
    }
}

impl<'de> Deserialize<'de> for Waiting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut w = Waiting::default();
        for c in Vec::<SavedClosing>::deserialize(d)? {
            let hosted = c.host.is_some();
            let c = Closing {
                slot: c.slot,
                ticket: c.ticket,
                deadline: c.deadline,
                host: c.host.unwrap_or_default(),
            };
            if hosted {
                w.push(c);
            } else {
                w.unhosted.push(c);
            }
        }
        Ok(w)
    }
}

/// A queue id announced by `queued as` / `forwarded as` that has not been seen yet.
#[derive(Serialize, Deserialize)]
struct Awaited {
    parent: usize,
    kind: LinkKind,
    since: DateTime<Utc>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Open {
    trace: Trace,
    /// Queue ids of this trace not yet removed.
    live: Vec<String>,
    /// Queue ids removed (still mapped here during the grace period).
    removed: Vec<String>,
    /// Re-injected / forwarded queue ids announced but not yet seen.
    awaiting: usize,
    held: bool,
    /// qmgr (or pickup, or a delivery agent) has seen the message: it was accepted.
    queued: bool,
    /// The ticket of its entry in a closing queue, while closed.
    closed: Option<u64>,
    /// Exim: the host of the last failed connection (`ID host [ip] Connection timed out`),
    /// the relay of the deferral that follows it.
    #[serde(default)]
    exim_host: Option<String>,
    /// The re-injected copy that named this message by XFORWARD (`orig_queue_id=`): a
    /// hand-off to the filter that logs no `queued as` still leads to it.
    #[serde(default)]
    xforward_child: Option<String>,
    /// A line of the MTA itself named the message (not only a program around it: see
    /// `around::fact_slot`).
    #[serde(default = "yes")]
    mta_seen: bool,
}

/// Folds events into traces. Feed events with [`Assembler::push`], collect finished traces
/// from the `out` vector, and call [`Assembler::finish`] at the end of the input.
///
/// Its whole state serializes (serde), so the store can checkpoint the messages still in
/// flight at the end of one `index` run and resume them in the next.
#[derive(Serialize, Deserialize)]
pub struct Assembler {
    slots: Vec<Option<Open>>,
    free: Vec<usize>,
    by_qid: HashMap<String, HashMap<String, usize>>,
    /// Closed traces in their grace period, per host in log-time order. An entry whose slot
    /// was merged away or re-closed since is stale and skipped.
    closing: Waiting,
    /// Messages whose SMTP session ended before they were queued, waiting for a late qmgr line
    /// (queues of their own: their deadlines are longer, and each queue must stay in order).
    unqueued: Waiting,
    /// The last ticket handed to a closing-queue entry.
    tickets: u64,
    /// When `awaited` is next swept for ids that never showed up.
    next_sweep: Option<DateTime<Utc>>,
    /// Events until the next sweep regardless of log time: when the input's time goes back
    /// (logs given out of order), the clock stands still and facts would pile up unswept.
    /// Checkpointed with the rest: a run resumed sweeps when one never stopped would (the
    /// lines fuzz target found a filter line lost when a restored count of 0 swept early).
    #[serde(default)]
    sweep_countdown: u32,
    awaited: HashMap<String, HashMap<String, Awaited>>,
    /// Notice queue ids announced by bounce/defer/trace but not seen yet → (the queue id
    /// they report on, when announced).
    notices: HashMap<String, HashMap<String, (String, DateTime<Utc>)>>,
    /// The SMTP session each smtpd process (host → pid) is in, until it disconnects.
    sessions: HashMap<String, HashMap<u32, Session>>,
    clock: Option<DateTime<Utc>>,
    /// Per host, the latest log time seen: what waits for a host's lines (a grace period, a
    /// fact for its message) is timed by its host's clock, so the logs of several servers read
    /// one after the other are each in their own time.
    #[serde(default)]
    clocks: HashMap<String, DateTime<Utc>>,
    /// An Exim reject, held until the next line: the reject log follows it with its header
    /// block, and Exim's syslog copy of the main and reject logs repeats it.
    #[serde(default)]
    exim_pending: Option<exim::PendingReject>,
    /// The second of the last before-queue reject, and the lines seen in it (hash, count).
    #[serde(default)]
    noqueue_seen: (i64, Vec<(u64, u32)>),
    /// Facts of the programs around the MTA waiting for their message.
    #[serde(default)]
    around: around::Around,
    /// Proxmox Mail Gateway filter lines waiting for (or joined to) their message.
    #[serde(default)]
    pmg: pmg::Pmg,
    /// Trace ids merged into another trace since the last [`Assembler::take_retired`], with
    /// their first time: the store deletes what it may have written of them.
    retired: Vec<(String, DateTime<Utc>)>,
    /// Whether to keep [`Assembler::retired`] (a one-shot scan writes nothing to delete, and
    /// would keep them all).
    #[serde(skip, default = "yes")]
    track_retired: bool,
    #[serde(skip)]
    rules: DirectionRules,
    /// Keep each line's raw text in the timeline.
    #[serde(skip)]
    keep_text: bool,
}

fn yes() -> bool {
    true
}

impl Assembler {
    pub fn new(rules: DirectionRules) -> Self {
        Assembler {
            slots: Vec::new(),
            free: Vec::new(),
            by_qid: HashMap::default(),
            closing: Waiting::default(),
            unqueued: Waiting::default(),
            next_sweep: None,
            sweep_countdown: SWEEP_EVERY,
            tickets: 0,
            awaited: HashMap::default(),
            notices: HashMap::default(),
            sessions: HashMap::default(),
            clock: None,
            clocks: HashMap::default(),
            exim_pending: None,
            noqueue_seen: (0, Vec::new()),
            around: around::Around::default(),
            pmg: pmg::Pmg::default(),
            retired: Vec::new(),
            track_retired: true,
            rules,
            keep_text: false,
        }
    }

    /// Keep the raw text of every line in the timelines (for `show` and the store).
    pub fn keep_text(mut self, keep: bool) -> Self {
        self.keep_text = keep;
        self
    }

    /// Restores a checkpoint written by [`Assembler::checkpoint`].
    pub fn restore(bytes: &[u8], rules: DirectionRules, keep_text: bool) -> serde_json::Result<Self> {
        let mut a: Assembler = serde_json::from_slice(bytes)?;
        let slots = &a.slots;
        let host_of = |slot: usize| slots.get(slot)?.as_ref().map(|o| o.trace.host.clone());
        a.closing.rehost(host_of);
        a.unqueued.rehost(host_of);
        a.rules = rules;
        a.keep_text = keep_text;
        Ok(a)
    }

    /// The whole state, to resume later with [`Assembler::restore`].
    pub fn checkpoint(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }

    /// What every open message looks like now, as if the input ended here (the assembler
    /// itself is unchanged and goes on with the next line). An Exim reject waiting for its
    /// next line is left out: the store keeps the first copy of a reject it is given, so
    /// it is written once, whole, with the next line or at the end of the run
    /// ([`Assembler::release_idle`]).
    pub fn snapshot(&self) -> Vec<Trace> {
        self.slots
            .iter()
            .flatten()
            .map(|o| {
                let mut t = o.trace.clone();
                note_partial(&mut t, o.mta_seen);
                finalize(&mut t, o.held, &self.rules);
                t
            })
            .collect()
    }

    /// The latest log time seen.
    pub fn clock(&self) -> Option<DateTime<Utc>> {
        self.clock
    }

    /// The latest log time seen on `host` (the latest of all for a host not seen).
    fn now_on(&self, host: &str) -> DateTime<Utc> {
        self.clocks.get(host).copied().or(self.clock).unwrap_or_default()
    }

    /// The host clock of the message in `slot`.
    fn now_of(&self, slot: usize) -> DateTime<Utc> {
        match self.slots[slot].as_ref() {
            Some(o) => self.now_on(&o.trace.host),
            None => self.clock.unwrap_or_default(),
        }
    }

    /// Hands out every message with no line for `idle` of log time (its queue manager lines
    /// were lost, or it began before the logs did): a store that checkpoints its messages in
    /// flight run after run would otherwise carry them forever.
    ///
    /// The Exim reject waiting for its next line is handed out too: the run ends here, and a
    /// reject log writes a reject and its header block at once.
    pub fn release_idle(&mut self, idle: Duration, out: &mut Vec<Trace>) {
        out.extend(self.exim_take_pending());
        if self.clock.is_none() {
            return;
        }
        for i in 0..self.slots.len() {
            let now = self.now_of(i);
            if self.slots[i].as_ref().is_some_and(|o| now - o.trace.last_time > idle) {
                out.push(self.release(i));
            }
        }
    }

    /// Trace ids merged into other traces since the last call.
    pub fn take_retired(&mut self) -> Vec<(String, DateTime<Utc>)> {
        std::mem::take(&mut self.retired)
    }

    /// Stops keeping the ids of merged traces (for a scan that stores nothing).
    pub fn forget_retired(&mut self) {
        self.track_retired = false;
        self.retired = Vec::new();
    }

    fn entry(&self, ev: &Event<'_>) -> TimelineEntry {
        TimelineEntry {
            time: ev.time,
            line: ev.line,
            text: if self.keep_text { ev.raw.into() } else { Box::default() },
        }
    }

    /// Messages currently open (in flight or in their grace period).
    pub fn open_count(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Applies one event; traces that became complete are appended to `out`.
    pub fn push(&mut self, ev: &Event<'_>, out: &mut Vec<Trace>) {
        if self.clock.is_none_or(|c| ev.time > c) {
            self.clock = Some(ev.time);
        }
        match self.clocks.get_mut(ev.host) {
            Some(c) => *c = (*c).max(ev.time),
            None => {
                self.clocks.insert(ev.host.to_string(), ev.time);
            }
        }
        if self.exim_pending.is_some() {
            self.exim_flush(ev, out);
        }
        match &ev.kind {
            EventKind::Exim(line) => self.exim(ev, line, out),
            // a reject of a connection (postscreen `CONNECT … too many connections`) names no
            // message: only rejects with an envelope become pseudo-traces
            EventKind::Policy {
                qid: None,
                action: Action::Reject | Action::Discard,
                tail,
                ..
            } if tail.from.is_some() || tail.to.is_some() => {
                if let Some(t) = self.before_queue(ev) {
                    out.push(t);
                }
            }
            EventKind::ContentFilter {
                qid: Some(qid),
                queued_as,
                task,
                ..
            } => {
                let slot = self.slot_for(ev, qid, false);
                self.apply(slot, ev);
                if let Some(task) = task {
                    self.task_verdict(ev.host, task, qid, slot);
                }
                for child in queued_as {
                    self.link(ev.host, slot, child, LinkKind::Reinjected, ev.time);
                }
            }
            EventKind::SpamCheck { .. }
            | EventKind::Auth { .. }
            | EventKind::Note { .. }
            | EventKind::Mailbox { .. }
            | EventKind::Screen { .. }
            | EventKind::FilterTask { .. } => {
                self.around(ev);
            }
            // a note about a message from a program around the MTA (OpenDKIM's `QID: not
            // authenticated`) or from one mailtrace does not read: a line of its timeline
            EventKind::Info { qid: Some(qid) } | EventKind::UnrecognisedFor { qid }
                if !crate::parse::postfix::is_postfix(ev.program) =>
            {
                self.note_line(ev, qid);
            }
            EventKind::SessionClient { .. } => self.session_client(ev),
            EventKind::ProxyAccept { .. } => out.extend(self.proxy_accept(ev)),
            EventKind::Pmg(line) => self.pmg_line(ev, line),
            EventKind::Disconnect { .. } => self.session_end(ev, None),
            EventKind::LostConnection { after, .. } => self.session_end(ev, Some(after)),
            EventKind::Connect { .. } => self.session_line(ev, true),
            EventKind::Info { qid: None } => self.session_line(ev, false),
            EventKind::Unrecognised
            | EventKind::ContentFilter { qid: None, .. }
            | EventKind::Policy { qid: None, .. } => {}
            kind => {
                let Some(qid) = kind.qid() else { return };
                let start = matches!(kind, EventKind::Client { .. } | EventKind::Pickup { .. });
                let slot = self.slot_for(ev, qid, start);
                if let (EventKind::Client { .. }, Some(pid)) = (kind, ev.pid) {
                    let session = self.session_mut(ev.host, pid);
                    session.qid = Some(qid.to_string());
                    let pending = std::mem::take(&mut session.pending);
                    self.open_mut(slot).trace.timeline.extend(pending);
                }
                self.apply(slot, ev);
                match kind {
                    EventKind::Client {
                        orig_queue_id: Some(parent),
                        ..
                    } => self.xforward(ev.host, slot, qid, parent),
                    // the sender is known: the SPF results of the client for that sender (a
                    // message a milter or header check refuses never reaches qmgr)
                    EventKind::Queued { from, .. }
                    | EventKind::Policy {
                        tail: PolicyTail { from: Some(from), .. },
                        ..
                    } => self.join_spf_results(slot, from),
                    EventKind::Delivery { .. } => self.pmg_delivery(slot, ev),
                    _ => {}
                }
            }
        }
        self.expire(ev.host, out);
    }

    /// A content filter re-injected message `qid` (in `slot`) and named the message it came
    /// from by XFORWARD (`orig_queue_id=PARENT`): when that message is open on this host, the
    /// copy joins it as its re-injection, whether or not the hand-off logs `queued as`.
    fn xforward(&mut self, host: &str, slot: usize, qid: &str, parent: &str) {
        let Some(p) = self.open_slot(host, parent) else {
            return;
        };
        if p == slot {
            return;
        }
        self.open_mut(p).xforward_child = Some(qid.to_string());
        self.merge(host, p, slot, LinkKind::Reinjected);
    }

    /// Hands out every trace still open: the input ended.
    pub fn finish(&mut self, out: &mut Vec<Trace>) {
        out.extend(self.exim_take_pending());
        for i in 0..self.slots.len() {
            if self.slots[i].is_some() {
                out.push(self.release(i));
            }
        }
        self.closing.clear();
        self.unqueued.clear();
        self.sessions.clear();
        self.around = around::Around::default();
        self.pmg = pmg::Pmg::default();
        self.awaited.clear();
        self.notices.clear();
    }

    /// Hands out `host`'s messages whose period ended by its clock, then now and then forgets
    /// what waited too long.
    fn expire(&mut self, host: &str, out: &mut Vec<Trace>) {
        let Some(now) = self.clock else { return };
        let host_now = self.now_on(host);
        for unqueued in [false, true] {
            loop {
                let waiting = if unqueued {
                    &mut self.unqueued
                } else {
                    &mut self.closing
                };
                let Some(queue) = waiting.queues.get_mut(host) else {
                    break;
                };
                match queue.front() {
                    Some(c) if host_now > c.deadline => {}
                    _ => break,
                }
                let Some(c) = queue.pop_front() else { break };
                if self.slots[c.slot].as_ref().is_some_and(|o| o.closed == Some(c.ticket)) {
                    out.push(self.release(c.slot));
                }
            }
        }
        self.sweep_countdown = self.sweep_countdown.saturating_sub(1);
        if self.next_sweep.is_some_and(|t| now < t) && self.sweep_countdown > 0 {
            return;
        }
        self.sweep_countdown = SWEEP_EVERY;
        self.next_sweep = Some(now + Duration::seconds(10));
        let clocks = &self.clocks;
        let now_on = |host: &str| clocks.get(host).copied().unwrap_or(now);
        self.around.sweep(&now_on, now);
        self.pmg.sweep(&now_on);
        // forget re-injections and notices that never showed up (logged on another host, or
        // before this input began)
        let limit = Duration::seconds(LINK_WAIT_SECS);
        for (host, m) in self.notices.iter_mut() {
            let now = now_on(host);
            m.retain(|_, (_, since)| now - *since <= limit);
        }
        let mut dropped = Vec::new();
        for (host, m) in self.awaited.iter_mut() {
            let now = now_on(host);
            m.retain(|_, a| {
                let keep = now - a.since <= limit;
                if !keep {
                    dropped.push(a.parent);
                }
                keep
            });
        }
        for slot in dropped {
            if let Some(o) = self.slots[slot].as_mut() {
                o.awaiting = o.awaiting.saturating_sub(1);
            }
            let now = self.now_of(slot);
            self.maybe_close(slot, now);
        }
    }

    /// An smtpd session ended (`disconnect` / `lost connection after …`). A message it was
    /// receiving that does not reach the queue manager within [`UNQUEUED_WAIT_SECS`] will get
    /// no further lines: it is closed then, so it does not stay open (and in memory) until the
    /// end of the input. It stays a trace with the client's details and no recipient, marked
    /// in its actions. A later qmgr line reopens it.
    fn session_end(&mut self, ev: &Event<'_>, after: Option<&str>) {
        let Some(pid) = ev.pid else { return };
        let Some(qid) = self
            .sessions
            .get_mut(ev.host)
            .and_then(|m| m.remove(&pid))
            .and_then(|s| s.qid)
        else {
            return;
        };
        let Some(&slot) = self.by_qid.get(ev.host).and_then(|m| m.get(&qid)) else {
            return;
        };
        self.tickets += 1;
        let ticket = self.tickets;
        let entry = self.entry(ev);
        let o = self.open_mut(slot);
        o.trace.timeline.push(entry);
        if o.queued || o.closed.is_some() {
            return;
        }
        o.trace.actions.push(match after {
            Some(cmd) => format!("client lost connection after {cmd}{NOT_QUEUED}"),
            None => format!("client disconnected{NOT_QUEUED}"),
        });
        o.closed = Some(ticket);
        self.unqueued.push(Closing {
            slot,
            ticket,
            deadline: ev.time + Duration::seconds(UNQUEUED_WAIT_SECS),
            host: ev.host.to_string(),
        });
    }

    /// A line of an smtpd session that names no queue id (`connect from`, TLS, warnings): it
    /// joins the timeline of the message the session is receiving (or will receive next), so
    /// `show` has the whole SMTP conversation. First and last time stay the message's own.
    fn session_line(&mut self, ev: &Event<'_>, connect: bool) {
        let Some(pid) = ev.pid else { return };
        if crate::parse::postfix::daemon(ev.program) != "smtpd" {
            return;
        }
        let entry = self.entry(ev);
        if connect {
            let session = Session {
                qid: None,
                pending: vec![entry],
                client: None,
            };
            *self.session_mut(ev.host, pid) = session;
            return;
        }
        let Some(session) = self.sessions.get_mut(ev.host).and_then(|m| m.get_mut(&pid)) else {
            return;
        };
        let slot = session
            .qid
            .as_ref()
            .and_then(|q| self.by_qid.get(ev.host).and_then(|m| m.get(q)).copied());
        match slot {
            Some(slot) => self.open_mut(slot).trace.timeline.push(entry),
            None if session.pending.len() < SESSION_LINES => session.pending.push(entry),
            None => {}
        }
    }

    /// The session of smtpd process `pid` on `host`, created if new (the host name is copied
    /// only the first time the host is seen).
    fn session_mut(&mut self, host: &str, pid: u32) -> &mut Session {
        if !self.sessions.contains_key(host) {
            self.sessions.insert(host.to_string(), HashMap::default());
        }
        self.sessions
            .get_mut(host)
            .expect("inserted above")
            .entry(pid)
            .or_default()
    }

    fn new_slot(&mut self, ev: &Event<'_>, qid: &str) -> usize {
        let mut trace = Trace::new(trace_id(&[ev.host, qid], ev.time.timestamp(), None), ev.host, ev.time);
        trace.queue_ids.push(qid.to_string());
        let open = Open {
            trace,
            live: vec![qid.to_string()],
            removed: Vec::new(),
            awaiting: 0,
            held: false,
            queued: false,
            closed: None,
            exim_host: None,
            xforward_child: None,
            mta_seen: false,
        };
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(open);
                i
            }
            None => {
                self.slots.push(Some(open));
                self.slots.len() - 1
            }
        };
        if !self.by_qid.contains_key(ev.host) {
            self.by_qid.insert(ev.host.to_string(), HashMap::default());
        }
        self.by_qid
            .get_mut(ev.host)
            .expect("inserted above")
            .insert(qid.to_string(), slot);
        if let Some((of, _)) = self.notices.get_mut(ev.host).and_then(|m| m.remove(qid)) {
            self.open_mut(slot).trace.links.push(Link {
                kind: LinkKind::NotificationOf,
                queue_id: of,
            });
        }
        slot
    }

    fn open_mut(&mut self, slot: usize) -> &mut Open {
        self.slots[slot].as_mut().expect("slot in use")
    }

    /// The trace an event for `qid` belongs to, opening one if needed.
    fn slot_for(&mut self, ev: &Event<'_>, qid: &str, start: bool) -> usize {
        if let Some(&slot) = self.by_qid.get(ev.host).and_then(|m| m.get(qid)) {
            let reused = start
                && self.slots[slot]
                    .as_ref()
                    .is_some_and(|o| o.removed.iter().any(|q| q == qid));
            if !reused {
                return slot;
            }
            // queue-id reuse: the old trace keeps its lines, the id now names a new message
            self.by_qid.get_mut(ev.host).map(|m| m.remove(qid));
        }
        if let Some(Awaited { parent, kind, .. }) = self.awaited.get_mut(ev.host).and_then(|m| m.remove(qid)) {
            if self.slots[parent].is_some() {
                self.attach_qid(ev.host, parent, qid, kind);
                let o = self.open_mut(parent);
                o.awaiting = o.awaiting.saturating_sub(1);
                return parent;
            }
        }
        self.new_slot(ev, qid)
    }

    fn attach_qid(&mut self, host: &str, slot: usize, qid: &str, kind: LinkKind) {
        let o = self.open_mut(slot);
        if !o.trace.queue_ids.iter().any(|q| q == qid) {
            o.trace.queue_ids.push(qid.to_string());
            o.trace.links.push(Link {
                kind,
                queue_id: qid.to_string(),
            });
        }
        if !o.live.iter().any(|q| q == qid) {
            o.live.push(qid.to_string());
        }
        o.closed = None;
        self.by_qid
            .entry(host.to_string())
            .or_default()
            .insert(qid.to_string(), slot);
    }

    /// `child` (a queue id on `host`) continues the message of `parent`.
    fn link(&mut self, host: &str, parent: usize, child: &str, kind: LinkKind, now: DateTime<Utc>) {
        match self.by_qid.get(host).and_then(|m| m.get(child)).copied() {
            Some(c) if c == parent => {}
            Some(c) => self.merge(host, parent, c, kind),
            None => {
                let entry = self.awaited.entry(host.to_string()).or_default();
                if !entry.contains_key(child) {
                    entry.insert(
                        child.to_string(),
                        Awaited {
                            parent,
                            kind,
                            since: now,
                        },
                    );
                    self.open_mut(parent).awaiting += 1;
                }
            }
        }
    }

    /// Moves the trace in slot `child` into slot `parent`.
    fn merge(&mut self, host: &str, parent: usize, child: usize, kind: LinkKind) {
        let c = self.slots[child].take().expect("child slot in use");
        self.free.push(child);
        if self.track_retired {
            self.retired.push((c.trace.trace_id.clone(), c.trace.first_time));
        }
        for qid in c.live.iter().chain(c.removed.iter()) {
            if let Some(m) = self.by_qid.get_mut(host) {
                if m.get(qid) == Some(&child) {
                    m.insert(qid.clone(), parent);
                }
            }
        }
        for m in self.awaited.values_mut() {
            for a in m.values_mut() {
                if a.parent == child {
                    a.parent = parent;
                }
            }
        }
        let p = self.open_mut(parent);
        let t = &mut p.trace;
        for (i, qid) in c.trace.queue_ids.iter().enumerate() {
            if !t.queue_ids.contains(qid) {
                t.queue_ids.push(qid.clone());
                let k = if i == 0 { kind.clone() } else { LinkKind::Reinjected };
                t.links.push(Link {
                    kind: k,
                    queue_id: qid.clone(),
                });
            }
        }
        for l in c.trace.links {
            let redundant = matches!(l.kind, LinkKind::Reinjected | LinkKind::Forwarded)
                && t.links.iter().any(|x| x.queue_id == l.queue_id);
            if !t.links.contains(&l) && !redundant {
                t.links.push(l);
            }
        }
        t.message_id = t.message_id.take().or(c.trace.message_id);
        t.from = t.from.take().or(c.trace.from);
        t.header_from = t.header_from.take().or(c.trace.header_from);
        t.subject = t.subject.take().or(c.trace.subject);
        t.size = t.size.or(c.trace.size);
        t.first_time = t.first_time.min(c.trace.first_time);
        t.last_time = t.last_time.max(c.trace.last_time);
        if t.filter.is_none() {
            t.filter = c.trace.filter;
        }
        t.spam_verdict = t.spam_verdict.take().or(c.trace.spam_verdict);
        t.spam_score = t.spam_score.or(c.trace.spam_score);
        t.virus = t.virus.take().or(c.trace.virus);
        t.spf = t.spf.take().or(c.trace.spf);
        t.dkim = t.dkim.take().or(c.trace.dkim);
        t.dmarc = t.dmarc.take().or(c.trace.dmarc);
        for a in c.trace.policy_actions {
            t.add_action(&a.source, &a.action, &a.detail);
        }
        t.actions.extend(c.trace.actions);
        t.timeline.extend(c.trace.timeline);
        for r in c.trace.recipients {
            merge_recipient(t, r);
        }
        p.live.extend(c.live);
        p.removed.extend(c.removed);
        p.awaiting += c.awaiting;
        p.held |= c.held;
        p.closed = None;
    }

    fn maybe_close(&mut self, slot: usize, now: DateTime<Utc>) {
        let Some(o) = self.slots[slot].as_mut() else { return };
        if o.live.is_empty() && o.awaiting == 0 && o.closed.is_none() {
            self.tickets += 1;
            o.closed = Some(self.tickets);
            let host = o.trace.host.clone();
            self.closing.push(Closing {
                slot,
                ticket: self.tickets,
                deadline: now + Duration::seconds(GRACE_SECS),
                host,
            });
        }
    }

    fn mark_removed(&mut self, slot: usize, qid: &str, now: DateTime<Utc>) {
        let o = self.open_mut(slot);
        if let Some(i) = o.live.iter().position(|q| q == qid) {
            let q = o.live.remove(i);
            o.removed.push(q);
        }
        self.maybe_close(slot, now);
    }

    /// Ends every queue id of the trace at once (rejected or discarded before the queue).
    fn end_all(&mut self, slot: usize, now: DateTime<Utc>) {
        let o = self.open_mut(slot);
        let live = std::mem::take(&mut o.live);
        o.removed.extend(live);
        self.maybe_close(slot, now);
    }

    fn release(&mut self, slot: usize) -> Trace {
        let o = self.slots[slot].take().expect("slot in use");
        self.free.push(slot);
        let host = o.trace.host.clone();
        if let Some(m) = self.by_qid.get_mut(&host) {
            for qid in o.live.iter().chain(o.removed.iter()) {
                if m.get(qid) == Some(&slot) {
                    m.remove(qid);
                }
            }
        }
        for m in self.awaited.values_mut() {
            m.retain(|_, a| a.parent != slot);
        }
        let mut t = o.trace;
        note_partial(&mut t, o.mta_seen);
        finalize(&mut t, o.held, &self.rules);
        t
    }

    fn apply(&mut self, slot: usize, ev: &Event<'_>) {
        let now = ev.time;
        {
            let entry = self.entry(ev);
            let o = self.open_mut(slot);
            o.mta_seen |= !matches!(ev.kind, EventKind::ContentFilter { .. });
            let t = &mut o.trace;
            t.timeline.push(entry);
            t.first_time = t.first_time.min(ev.time);
            t.last_time = t.last_time.max(ev.time);
        }
        if matches!(
            ev.kind,
            EventKind::Queued { .. }
                | EventKind::Pickup { .. }
                | EventKind::Delivery { .. }
                | EventKind::Expired { .. }
        ) {
            let o = self.open_mut(slot);
            o.queued = true;
            // closed when its SMTP session ended early, but the message was queued after all
            if o.closed.is_some() && !o.live.is_empty() {
                o.closed = None;
                o.trace.actions.retain(|a| !a.ends_with(NOT_QUEUED));
            }
        }
        match &ev.kind {
            EventKind::Client {
                peer,
                sasl_method,
                sasl_user,
                orig_client,
                ..
            } => {
                let t = &mut self.open_mut(slot).trace;
                if t.client.ip.is_none() {
                    // a re-injected copy's client is the filter: XFORWARD names the real one
                    let peer = orig_client.as_ref().unwrap_or(peer);
                    t.client.ip = Some(peer.addr.to_string());
                    t.client.name = Some(peer.name.to_string());
                    t.client.sasl_user = sasl_user.map(str::to_string);
                    t.client.sasl_method = sasl_method.map(str::to_string);
                }
            }
            EventKind::Pickup { from, .. } => {
                let t = &mut self.open_mut(slot).trace;
                if t.from.is_none() {
                    t.from = Some(from.to_string());
                }
            }
            EventKind::MessageId { message_id, resent, .. } => {
                let t = &mut self.open_mut(slot).trace;
                if !resent && !message_id.is_empty() && t.message_id.is_none() {
                    t.message_id = Some(message_id.to_string());
                }
            }
            EventKind::Queued { from, size, .. } => {
                let t = &mut self.open_mut(slot).trace;
                let first_qid = t.queue_ids.first().map(String::as_str) == ev.kind.qid();
                if first_qid || t.from.is_none() {
                    t.from = Some(from.to_string());
                }
                if first_qid || t.size.is_none() {
                    t.size = *size;
                }
            }
            EventKind::Removed { qid } => self.mark_removed(slot, qid, now),
            EventKind::Expired { from, .. } => {
                let t = &mut self.open_mut(slot).trace;
                if t.from.is_none() {
                    t.from = Some(from.to_string());
                }
                for r in &mut t.recipients {
                    if matches!(r.status, Status::Deferred | Status::InProgress) && !r.in_filter {
                        r.status = Status::Expired;
                        r.time = Some(now);
                    }
                }
            }
            EventKind::Delivery { .. } => self.delivery(slot, ev),
            EventKind::Notice { qid, kind, new_qid } => {
                let host = ev.host.to_string();
                let t = &mut self.open_mut(slot).trace;
                t.links.push(Link {
                    kind: LinkKind::Notification,
                    queue_id: new_qid.to_string(),
                });
                t.actions
                    .push(format!("{} notice queued as {new_qid}", notice_word(*kind)));
                match self.by_qid.get(&host).and_then(|m| m.get(*new_qid)).copied() {
                    Some(s) if s != slot => self.open_mut(s).trace.links.push(Link {
                        kind: LinkKind::NotificationOf,
                        queue_id: qid.to_string(),
                    }),
                    _ => {
                        self.notices
                            .entry(host)
                            .or_default()
                            .insert(new_qid.to_string(), (qid.to_string(), now));
                    }
                }
            }
            EventKind::Admin { qid, action } => self.admin(slot, qid, *action, now),
            EventKind::Policy { .. } => self.policy(slot, ev),
            EventKind::ContentFilter {
                passed,
                category,
                quarantine,
                ..
            } => {
                let t = &mut self.open_mut(slot).trace;
                t.filter = Some(FilterVerdict {
                    passed: *passed,
                    category: category.to_string(),
                    quarantine: quarantine.map(str::to_string),
                });
                around::content_filter(t, ev);
                if !passed {
                    let status = if quarantine.is_some() {
                        Status::Quarantined
                    } else {
                        Status::Discarded
                    };
                    for r in &mut t.recipients {
                        if r.filter_discard {
                            r.status = status;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn delivery(&mut self, slot: usize, ev: &Event<'_>) {
        let EventKind::Delivery {
            to,
            orig_to,
            relay,
            delays,
            dsn,
            status,
            response,
            queued_as,
            forwarded_as,
            ..
        } = &ev.kind
        else {
            return;
        };
        let host = ev.host;
        let loopback_relay = relay.is_some_and(is_loopback_relay);
        let xforward_child = self.slots[slot].as_ref().and_then(|o| o.xforward_child.clone());
        let mut link: Option<(&str, LinkKind)> = None;
        let (new_status, in_filter, filter_discard) = match status {
            DeliveryStatus::Sent | DeliveryStatus::Deliverable => {
                if let Some(child) = forwarded_as {
                    link = Some((child, LinkKind::Forwarded));
                    (Status::Expanded, false, false)
                } else if let Some(child) = queued_as
                    .filter(|q| loopback_relay || self.by_qid.get(host).is_some_and(|m| m.contains_key(*q)))
                    .or(xforward_child.as_deref().filter(|_| loopback_relay))
                {
                    link = Some((child, LinkKind::Reinjected));
                    (Status::InProgress, true, false)
                } else if loopback_relay && response.contains("discarded") {
                    (Status::Discarded, false, true)
                } else {
                    (Status::Delivered, false, false)
                }
            }
            DeliveryStatus::Deferred => (Status::Deferred, false, false),
            DeliveryStatus::Bounced | DeliveryStatus::Undeliverable => (Status::Bounced, false, false),
            DeliveryStatus::Expired => (Status::Expired, false, false),
        };
        let child_merged = in_filter
            && link
                .as_ref()
                .is_some_and(|(child, _)| self.by_qid.get(host).and_then(|m| m.get(*child)) == Some(&slot));
        {
            let t = &mut self.open_mut(slot).trace;
            let verdict_quarantine = t.filter.as_ref().is_some_and(|f| !f.passed && f.quarantine.is_some());
            if t.recipient_mut(to).is_none() {
                t.recipients.push(Recipient::new(to));
            }
            let r = t.recipient_mut(to).expect("just added");
            if let Some(o) = orig_to {
                r.orig_to = Some(o.to_string());
            }
            // The re-injected copy may log this recipient's outcome before the filter
            // hand-off line is written: the hand-off does not undo it.
            let keep_child_outcome = child_merged && r.status != Status::InProgress;
            if keep_child_outcome {
                return;
            }
            r.status = if filter_discard && verdict_quarantine {
                Status::Quarantined
            } else {
                new_status
            };
            if new_status == Status::Deferred {
                r.attempts += 1;
            }
            r.in_filter = in_filter;
            r.filter_discard = filter_discard;
            r.local_delivery = matches!(
                crate::parse::postfix::daemon(ev.program),
                "local" | "virtual" | "lmtp" | "pipe"
            ) && !in_filter;
            r.dsn = dsn.map(str::to_string);
            r.relay = relay.map(str::to_string);
            r.response = Some(response.to_string());
            r.delays = *delays;
            r.time = Some(ev.time);
        }
        if let Some((child, kind)) = link {
            self.link(host, slot, child, kind, ev.time);
        }
        if new_status == Status::Delivered
            && matches!(
                crate::parse::postfix::daemon(ev.program),
                "local" | "virtual" | "lmtp" | "pipe"
            )
        {
            if let Some(qid) = ev.kind.qid() {
                self.local_delivered(slot, host, qid, to, response);
            }
        }
    }

    fn admin(&mut self, slot: usize, qid: &str, action: AdminAction, now: DateTime<Utc>) {
        let o = self.open_mut(slot);
        match action {
            AdminAction::Hold => {
                o.held = true;
                o.trace.actions.push("placed on hold by postsuper".into());
            }
            AdminAction::Released => {
                o.held = false;
                o.trace.actions.push("released from hold by postsuper".into());
                for r in &mut o.trace.recipients {
                    if r.status == Status::Quarantined && !r.filter_discard {
                        r.status = Status::InProgress;
                    }
                }
            }
            AdminAction::Requeued => o.trace.actions.push("requeued by postsuper".into()),
            AdminAction::Removed => {
                o.held = false;
                o.trace.actions.push("removed by postsuper".into());
                for r in &mut o.trace.recipients {
                    if matches!(r.status, Status::InProgress | Status::Deferred | Status::Quarantined)
                        && !r.filter_discard
                    {
                        r.status = Status::Discarded;
                        r.response = Some("removed from the queue by postsuper".into());
                        r.time = Some(now);
                    }
                }
                self.mark_removed(slot, qid, now);
            }
        }
    }

    fn policy(&mut self, slot: usize, ev: &Event<'_>) {
        let EventKind::Policy {
            stage,
            action,
            dsn,
            text,
            header,
            tail,
            ..
        } = &ev.kind
        else {
            return;
        };
        let now = ev.time;
        let o = self.open_mut(slot);
        let t = &mut o.trace;
        note_policy(t, ev, header.as_ref());
        around::policy_facts(t, ev);
        if let Some((name, value)) = header {
            if name.eq_ignore_ascii_case("subject") && t.subject.is_none() {
                t.subject = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("from") && t.header_from.is_none() {
                t.header_from = Some(value.to_string());
            }
        }
        let per_recipient = stage.stage == "RCPT" || stage.stage == "VRFY";
        let set = |t: &mut Trace, status: Status, only: Option<&str>| {
            let mut touched = false;
            for r in t.recipients.iter_mut() {
                if only.is_some_and(|a| !r.address.eq_ignore_ascii_case(a)) {
                    continue;
                }
                if only.is_none() && !matches!(r.status, Status::InProgress | Status::Deferred) {
                    continue;
                }
                r.status = status;
                r.dsn = dsn.map(str::to_string).or(r.dsn.take());
                if !text.is_empty() {
                    r.response = Some(text.to_string());
                }
                r.time = Some(now);
                touched = true;
            }
            if !touched {
                if let Some(to) = tail.to {
                    if only.is_some() || t.recipient_mut(to).is_none() {
                        let mut r = Recipient::new(to);
                        r.status = status;
                        r.dsn = dsn.map(str::to_string);
                        r.response = (!text.is_empty()).then(|| text.to_string());
                        r.time = Some(now);
                        t.recipients.push(r);
                    }
                }
            }
        };
        match action {
            Action::Reject if per_recipient => set(t, Status::Rejected, tail.to.or(Some(""))),
            Action::Reject => {
                set(t, Status::Rejected, None);
                self.end_all(slot, now);
            }
            Action::Discard => {
                set(t, Status::Discarded, None);
                self.end_all(slot, now);
            }
            Action::Hold => {
                o.held = true;
                o.queued = true; // in the hold queue: qmgr logs it only after a release
                set(&mut o.trace, Status::Quarantined, None);
            }
            _ => {}
        }
    }

    /// `host:NOQUEUE:hash:unix-seconds[:n]`: the hash of the line (from the program name on),
    /// and `n` when the same line came more than once in that second. Made from the line, not
    /// where it stands, so a log split into rotated files, or read from journald, gives the
    /// same ids as the whole log.
    fn noqueue_id(&mut self, ev: &Event<'_>) -> String {
        let secs = ev.time.timestamp();
        // from the program name on: the same line read from journald has another time stamp
        let tail = memchr::memmem::find(ev.raw.as_bytes(), ev.program.as_bytes()).map_or(ev.raw, |i| &ev.raw[i..]);
        let hash = xxhash_rust::xxh3::xxh3_64(tail.as_bytes());
        let (at, seen) = &mut self.noqueue_seen;
        if *at != secs {
            *at = secs;
            seen.clear();
        }
        let n = match seen.iter_mut().find(|(h, _)| *h == hash) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((hash, 1));
                1
            }
        };
        let hex = format!("{hash:016x}");
        trace_id(&[ev.host, "NOQUEUE", &hex], secs, (n > 1).then_some(u64::from(n)))
    }

    /// A before-queue reject or discard (`NOQUEUE:`): a one-line pseudo-trace.
    fn before_queue(&mut self, ev: &Event<'_>) -> Option<Trace> {
        let EventKind::Policy {
            action,
            dsn,
            text,
            tail,
            ..
        } = &ev.kind
        else {
            return None;
        };
        let status = if *action == Action::Discard {
            Status::Discarded
        } else {
            Status::Rejected
        };
        let mut t = Trace::new(self.noqueue_id(ev), ev.host, ev.time);
        t.timeline.push(self.entry(ev));
        note_policy(&mut t, ev, None);
        around::policy_facts(&mut t, ev);
        if let EventKind::Policy {
            peer: Some(p), tail, ..
        } = &ev.kind
        {
            let spf = self.take_spf(ev.host, p.addr, tail.from);
            around::join_spf(&mut t, spf);
            self.take_screening(ev.host, p.addr, p.port, &mut t);
        }
        let mut r = Recipient::new(tail.to.unwrap_or(""));
        r.status = status;
        r.dsn = dsn.map(str::to_string);
        r.response = Some(text.to_string());
        r.time = Some(ev.time);
        t.recipients.push(r);
        self.proxy_reject(ev, &mut t);
        finalize(&mut t, false, &self.rules);
        Some(t)
    }
}

/// The second a message arrived, as its trace id (see [`trace_id`]) names it.
pub fn arrival_second(trace_id: &str) -> Option<i64> {
    let mut parts = trace_id.split(':');
    let (_host, second) = (parts.next()?, parts.next()?);
    let seconds = match second {
        // a reject's trace id names its content's hash first
        "NOQUEUE" | "REJECT" => parts.nth(1)?,
        _ => parts.next()?,
    };
    seconds.parse().ok()
}

/// `host:qid:unix-seconds` (queued) or `host:NOQUEUE:hash:unix-seconds[:n]` (before-queue reject),
/// built without `format!`: one is made per message.
fn trace_id(parts: &[&str], secs: i64, n: Option<u64>) -> String {
    let mut id = String::with_capacity(48);
    for p in parts {
        id.push_str(p);
        id.push(':');
    }
    id.push_str(itoa::Buffer::new().format(secs));
    if let Some(l) = n {
        id.push(':');
        id.push_str(itoa::Buffer::new().format(l));
    }
    id
}

/// What every policy line (smtpd, postscreen, cleanup, milter) tells about the message: the
/// tail's sender and HELO, the client when not known yet, and the action as logged.
fn note_policy(t: &mut Trace, ev: &Event<'_>, header: Option<&(&str, &str)>) {
    let EventKind::Policy {
        stage,
        action,
        peer,
        text,
        tail,
        ..
    } = &ev.kind
    else {
        return;
    };
    note_tail(t, tail);
    if let (None, Some(p)) = (&t.client.ip, peer) {
        t.client.ip = Some(p.addr.to_string());
        t.client.name = Some(p.name.to_string()).filter(|n| !n.is_empty());
    }
    let what = match header {
        Some((n, v)) if *n == "body" => format!("body {v}"),
        Some((n, v)) => format!("header {n}: {v}"),
        None => stage.stage.to_string(),
    };
    let milter = if stage.milter { "milter-" } else { "" };
    let sep = if text.is_empty() { "" } else { ": " };
    t.actions
        .push(format!("{milter}{}: {what}{sep}{text}", action_word(*action)));
}

fn note_tail(t: &mut Trace, tail: &PolicyTail<'_>) {
    if t.from.is_none() {
        if let Some(f) = tail.from {
            t.from = Some(f.to_string());
        }
    }
    if t.client.helo.is_none() {
        t.client.helo = tail.helo.map(str::to_string);
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Reject => "reject",
        Action::Discard => "discard",
        Action::Hold => "hold",
        Action::Warn => "warning",
        Action::Info => "info",
        Action::Filter => "filter",
        Action::Redirect => "redirect",
        Action::Prepend => "prepend",
        Action::Replace => "replace",
        Action::Bcc => "bcc",
    }
}

fn notice_word(k: NoticeKind) -> &'static str {
    match k {
        NoticeKind::NonDelivery => "non-delivery",
        NoticeKind::Delay => "delay",
        NoticeKind::DeliveryStatus => "delivery status",
    }
}

/// A relay on this machine: loopback address or `localhost`.
fn is_loopback_relay(relay: &str) -> bool {
    // `name[addr]:port`: the address between the brackets
    let host = match relay.find_byte(b'[') {
        Some(open) => {
            let r = &relay[open + 1..];
            r.find_byte(b']').map_or(r, |close| &r[..close])
        }
        None => relay,
    };
    host.starts_with("127.")
        || host == "::1"
        || host.eq_ignore_ascii_case("localhost")
        || relay.starts_with("localhost")
}

/// A recipient seen in a merged (re-injected) chain: the later chain's outcome wins.
fn merge_recipient(t: &mut Trace, r: Recipient) {
    match t.recipient_mut(&r.address) {
        Some(existing) => {
            let orig = existing.orig_to.take();
            let attempts = existing.attempts;
            // decisions taken on the way in (a filter's, per recipient) stay
            let mut actions = std::mem::take(&mut existing.actions);
            *existing = r;
            existing.attempts += attempts;
            if existing.orig_to.is_none() {
                existing.orig_to = orig;
            }
            if !actions.is_empty() {
                actions.retain(|a| !existing.actions.contains(a));
                actions.append(&mut existing.actions);
                existing.actions = actions;
            }
        }
        None => t.recipients.push(r),
    }
}

/// A message known only from the programs around the MTA (OpenDKIM, OpenDMARC, rspamd, …):
/// its MTA lines are in another file (syslog's `mail.warn` beside `mail.log`) or before the
/// logs read. Said as a policy action, so its row explains why it has no recipient.
fn note_partial(t: &mut Trace, mta_seen: bool) {
    if !mta_seen {
        t.add_action(
            "mailtrace",
            "partial",
            "no line of the MTA names this message in the logs read, only programs around it",
        );
    }
}

/// Final touches when a trace leaves the assembler.
fn finalize(t: &mut Trace, held: bool, rules: &DirectionRules) {
    // Handed on with `250 … queued as X`: if X joined this trace, the copy is still in flight;
    // if X never appeared on this host, the next hop (a remote or unlogged filter) accepted it.
    let child_seen = t.queue_ids.len() > 1;
    // a recipient handed to the filter and expanded by the re-injected copy's virtual alias
    // lookup is represented by the expanded rows (their `orig_to` names it)
    let expanded: Vec<String> = t
        .recipients
        .iter()
        .filter_map(|r| r.orig_to.as_ref().map(|o| o.to_ascii_lowercase()))
        .collect();
    t.recipients
        .retain(|r| !(r.in_filter && expanded.contains(&r.address.to_ascii_lowercase())));
    for r in &mut t.recipients {
        if r.in_filter {
            r.status = if child_seen {
                Status::InProgress
            } else {
                Status::Delivered
            };
        }
        // a frozen Exim message waits for the admin whether or not it was tried before
        let waiting = r.status == Status::InProgress || (t.mta == Mta::Exim && r.status == Status::Deferred);
        if held && waiting {
            r.status = Status::Quarantined;
        }
    }
    t.timeline.sort_by_key(|e| e.line);
    t.timeline.dedup();
    t.direction = Some(rules.direction(t));
    around::spam_status(t);
}

#[cfg(test)]
mod tests {

    #[test]
    fn trace_ids_name_the_second_their_message_arrived() {
        assert_eq!(
            arrival_second(&trace_id(&["mx1", "4F1A22C801"], 1795514732, None)),
            Some(1795514732)
        );
        assert_eq!(
            arrival_second(&trace_id(&["mx1", "NOQUEUE", "9a3f"], 1795514732, Some(2))),
            Some(1795514732)
        );
        assert_eq!(
            arrival_second(&trace_id(&["", "REJECT", "9a3f"], 1795514732, None)),
            Some(1795514732)
        );
        assert_eq!(arrival_second("not-a-trace-id"), None);
    }

    use super::*;
    use crate::event::LineRef;
    use crate::parse::{parse_line, Parsed};
    use crate::syslog::{YearGuess, Zone};

    /// Pushes every line of `log` (year 2026, UTC) without finishing.
    fn feed(a: &mut Assembler, log: &str, out: &mut Vec<Trace>) {
        let mut years = YearGuess::given(2026);
        for (i, line) in log.lines().enumerate() {
            let at = LineRef {
                file: 0,
                offset: 0,
                line: i as u64 + 1,
                len: line.len() as u32,
            };
            if let Parsed::Event(ev, _) = parse_line(line, at, &mut years, &Zone::Utc) {
                a.push(&ev, out);
            }
        }
    }

    /// Feeds `before`, checkpoints and restores the assembler, feeds `after`: a run stopped and
    /// resumed between the two. Returns the restored assembler and every trace handed out.
    fn across_checkpoint(before: &str, after: &str) -> (Assembler, Vec<Trace>) {
        let mut a = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut a, before, &mut out);
        let mut b = Assembler::restore(&a.checkpoint().unwrap(), DirectionRules::default(), false).unwrap();
        feed(&mut b, after, &mut out);
        (b, out)
    }

    fn run(log: &str) -> Vec<Trace> {
        let mut a = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut a, log, &mut out);
        a.finish(&mut out);
        out
    }

    /// Exim lines held before `<=` wait in their trace; with no arrival they are handed out an
    /// hour of log time after their last line (memory holds only messages in flight), and a
    /// held trace survives a checkpoint.
    #[test]
    fn exim_lines_before_arrival_are_held_then_released() {
        let early = "\
2026-11-10 00:00:01 1yAaAa-0001Aa-A1 DKIM: d=a.example s=s [verification succeeded]
2026-11-10 00:00:01 1yAaBb-0001Ab-B2 PRDR R=<x@example.com> temporary refusal
";
        let mut a = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut a, early, &mut out);
        assert!(out.is_empty());
        assert_eq!(a.open_count(), 2);
        let mut a = Assembler::restore(&a.checkpoint().unwrap(), DirectionRules::default(), false).unwrap();
        feed(
            &mut a,
            "2026-11-10 00:00:02 1yAaAa-0001Aa-A1 <= s@a.example H=(a) [192.0.2.1] P=esmtp S=10 for r@example.com\n",
            &mut out,
        );
        assert!(out.is_empty());
        feed(&mut a, "2026-11-10 01:00:03 Start queue run: pid=1\n", &mut out);
        assert_eq!(out.len(), 1, "the message with no arrival is handed out");
        assert_eq!(out[0].queue_ids, vec!["1yAaBb-0001Ab-B2"]);
        assert_eq!(out[0].recipients[0].status, Status::Rejected);
        assert_eq!(a.open_count(), 1, "the arrived one stays until Completed");
        let traces = run(&format!(
            "{early}2026-11-10 00:00:02 1yAaAa-0001Aa-A1 <= s@a.example P=local S=10\n"
        ));
        let arrived = traces.iter().find(|t| t.queue_ids == ["1yAaAa-0001Aa-A1"]).unwrap();
        assert_eq!(arrived.timeline.len(), 2);
        assert_eq!(arrived.dkim.as_ref().map(|d| d.result.as_str()), Some("pass"));
    }

    /// Two servers' logs read one after the other: the second server's messages are handed out
    /// as its own clock passes their grace period, though the first server's clock is days
    /// ahead and its last message still waits (they were all held to the end before).
    #[test]
    fn a_server_read_after_another_hands_out_its_messages_by_its_own_clock() {
        let first = "\
Nov 28 10:00:00 mx2 postfix/qmgr[1]: 1111111111: from=<a@example.org>, size=1, nrcpt=1 (queue active)
Nov 28 10:00:01 mx2 postfix/local[2]: 1111111111: to=<b@example.org>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
Nov 28 10:00:01 mx2 postfix/qmgr[1]: 1111111111: removed
";
        let mut second = String::new();
        for i in 0..20 {
            let q = format!("2{i:09}");
            let t = format!("Nov 24 09:{i:02}:00");
            second.push_str(&format!(
                "{t} mx1 postfix/qmgr[1]: {q}: from=<a@example.org>, size=1, nrcpt=1 (queue active)\n\
                 {t} mx1 postfix/local[2]: {q}: to=<b@example.org>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)\n\
                 {t} mx1 postfix/qmgr[1]: {q}: removed\n"
            ));
        }
        let mut a = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut a, first, &mut out);
        feed(&mut a, &second, &mut out);
        assert!(a.open_count() <= 4, "{} messages still open", a.open_count());
        assert_eq!(out.len(), 21 - a.open_count());
        // a checkpoint of an older version: its waiting entries name no host
        let mut state: serde_json::Value = serde_json::from_slice(&a.checkpoint().unwrap()).unwrap();
        let closing = state["closing"].as_array_mut().unwrap();
        assert!(!closing.is_empty());
        for c in closing {
            c.as_object_mut().unwrap().remove("host").unwrap();
        }
        let old = serde_json::to_vec(&state).unwrap();
        let mut b = Assembler::restore(&old, DirectionRules::default(), false).unwrap();
        assert_eq!(b.open_count(), 4);
        let before = out.len();
        feed(
            &mut b,
            "Nov 24 10:00:00 mx1 postfix/smtpd[3]: connect from a.example[192.0.2.1]\n",
            &mut out,
        );
        assert_eq!(b.open_count(), 1, "mx1's are due by mx1's clock; mx2's waits");
        assert!(out[before..].iter().all(|t| t.host == "mx1"));
    }

    /// The re-injected chain is merged into the first: the store hears of the merged id, a scan
    /// that asked not to keep them holds none (it would hold every one of a long file).
    #[test]
    fn merged_ids_are_kept_only_when_asked() {
        let log = "\
Nov 10 00:07:32 mx1 postfix/smtpd[3]: BBBBB22222: client=localhost[127.0.0.1]
Nov 10 00:07:33 mx1 postfix/qmgr[2]: BBBBB22222: from=<s@a.example>, size=150, nrcpt=1 (queue active)
Nov 10 00:07:33 mx1 postfix/smtp[4]: AAAAA11111: to=<r@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=3.7, delays=0.09/0.01/0/3.6, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BBBBB22222)
";
        let head = "Nov 10 00:07:27 mx1 postfix/smtpd[1]: AAAAA11111: client=a.example[192.0.2.1]\n";
        let mut kept = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut kept, &format!("{head}{log}"), &mut out);
        assert_eq!(kept.take_retired().len(), 1);
        let mut scan = Assembler::new(DirectionRules::default());
        scan.forget_retired();
        feed(&mut scan, &format!("{head}{log}"), &mut out);
        assert!(scan.take_retired().is_empty());
    }

    #[test]
    fn reinjection_merges_both_chains() {
        let log = "\
Nov 10 00:07:27 mx1 postfix/smtpd[1]: AAAAA11111: client=a.example[192.0.2.1]
Nov 10 00:07:29 mx1 postfix/qmgr[2]: AAAAA11111: from=<s@a.example>, size=100, nrcpt=1 (queue active)
Nov 10 00:07:32 mx1 postfix/smtpd[3]: BBBBB22222: client=localhost[127.0.0.1]
Nov 10 00:07:33 mx1 postfix/qmgr[2]: BBBBB22222: from=<s@a.example>, size=150, nrcpt=1 (queue active)
Nov 10 00:07:33 mx1 postfix/smtp[4]: AAAAA11111: to=<r@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=3.7, delays=0.09/0.01/0/3.6, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as BBBBB22222)
Nov 10 00:07:33 mx1 postfix/qmgr[2]: AAAAA11111: removed
Nov 10 00:07:34 mx1 postfix/lmtp[5]: BBBBB22222: to=<r@example.com>, relay=mx1[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov 10 00:07:34 mx1 postfix/qmgr[2]: BBBBB22222: removed
";
        let traces = run(log);
        assert_eq!(traces.len(), 1);
        let t = &traces[0];
        assert_eq!(t.queue_ids, vec!["AAAAA11111", "BBBBB22222"]);
        assert_eq!(t.size, Some(100));
        assert_eq!(t.client.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(t.recipients.len(), 1);
        assert_eq!(t.recipients[0].status, Status::Delivered);
        assert_eq!(t.recipients[0].relay.as_deref(), Some("mx1[private/dovecot-lmtp]"));
        assert_eq!(t.timeline.len(), 8);
    }

    #[test]
    fn child_outcome_logged_before_the_hand_off_is_kept() {
        let log = "\
Nov 10 00:00:59 mx1 postfix/smtpd[1]: 44A3932570: client=unknown[175.179.92.183]
Nov 10 00:01:00 mx1 postfix/qmgr[2]: 44A3932570: from=<b@qq.com>, size=5459, nrcpt=1 (queue active)
Nov 10 00:01:03 mx1 postfix/smtpd[3]: 8ACD871D0B: client=localhost[127.0.0.1]
Nov 10 00:01:03 mx1 postfix/qmgr[2]: 8ACD871D0B: from=<b@qq.com>, size=6160, nrcpt=1 (queue active)
Nov 10 00:01:03 mx1 postfix/lmtp[4]: 8ACD871D0B: to=<bob@example.net>, relay=mx1[private/dovecot-lmtp], delay=0.14, delays=0.08/0.01/0.02/0.03, dsn=2.0.0, status=sent (250 2.0.0 Saved)
Nov 10 00:01:03 mx1 postfix/qmgr[2]: 8ACD871D0B: removed
Nov 10 00:01:03 mx1 amavis[5]: (29448-13) Passed CLEAN {RelayedInbound}, [175.179.92.183]:46932 [175.179.92.183] <b@qq.com> -> <bob@example.net>, Queue-ID: 44A3932570, Message-ID: <m@qq.com>, mail_id: x, Hits: 1, size: 5459, queued_as: 8ACD871D0B, 3000 ms
Nov 10 00:01:03 mx1 postfix/smtp[6]: 44A3932570: to=<bob@example.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=4.5, delays=1.2/0.01/0/3.3, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 8ACD871D0B)
Nov 10 00:01:03 mx1 postfix/qmgr[2]: 44A3932570: removed
";
        let traces = run(log);
        assert_eq!(traces.len(), 1);
        assert_eq!(traces[0].queue_ids, vec!["44A3932570", "8ACD871D0B"]);
        assert_eq!(traces[0].recipients.len(), 1);
        assert_eq!(traces[0].recipients[0].status, Status::Delivered);
        assert_eq!(
            traces[0].recipients[0].relay.as_deref(),
            Some("mx1[private/dovecot-lmtp]")
        );
    }

    #[test]
    fn a_message_never_queued_is_closed_an_hour_after_its_session_ends() {
        let log = "\
Nov 10 00:00:01 mx1 postfix/smtpd[7]: DDDDD44444: client=x.example[192.0.2.9]
Nov 10 00:00:09 mx1 postfix/smtpd[7]: lost connection after DATA (1024 bytes) from x.example[192.0.2.9]
Nov 10 00:00:10 mx1 postfix/smtpd[8]: EEEEE55555: client=y.example[192.0.2.10]
Nov 10 00:00:11 mx1 postfix/smtpd[8]: disconnect from y.example[192.0.2.10] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 10 00:00:12 mx1 postfix/qmgr[2]: EEEEE55555: from=<a@y.example>, size=1, nrcpt=1 (queue active)
Nov 10 02:00:00 mx1 postfix/pickup[1]: FFFFF66666: uid=0 from=<root>
";
        let mut a = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut a, log, &mut out);
        // handed out before the end of the input: memory does not hold it
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].queue_ids, vec!["DDDDD44444"]);
        assert!(out[0].recipients.is_empty());
        assert_eq!(
            out[0].actions,
            vec!["client lost connection after DATA (1024 bytes) before the message was queued"]
        );
        // the one queued after its session ended is still open
        a.finish(&mut out);
        let queued = out.iter().find(|t| t.queue_ids == ["EEEEE55555"]).unwrap();
        assert!(queued.actions.is_empty(), "{:?}", queued.actions);
        assert_eq!(queued.size, Some(1));
    }

    #[test]
    fn smtpd_session_lines_join_the_timeline_but_not_the_times() {
        let log = "\
Nov 10 00:00:00 mx1 postfix/smtpd[9]: connect from a.example[192.0.2.1]
Nov 10 00:00:01 mx1 postfix/smtpd[9]: Anonymous TLS connection established from a.example[192.0.2.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
Nov 10 00:00:02 mx1 postfix/smtpd[9]: ABCDE12345: client=a.example[192.0.2.1]
Nov 10 00:00:03 mx1 postfix/qmgr[2]: ABCDE12345: from=<s@a.example>, size=10, nrcpt=1 (queue active)
Nov 10 00:00:03 mx1 postfix/smtpd[9]: disconnect from a.example[192.0.2.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Nov 10 00:00:04 mx1 postfix/local[3]: ABCDE12345: to=<r@mx1>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
Nov 10 00:00:04 mx1 postfix/qmgr[2]: ABCDE12345: removed
";
        let traces = run(log);
        assert_eq!(traces.len(), 1);
        let lines: Vec<u64> = traces[0].timeline.iter().map(|e| e.line.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(traces[0].first_time.to_rfc3339(), "2026-11-10T00:00:02+00:00");
        assert!(traces[0].actions.is_empty());
    }

    #[test]
    fn facts_waiting_for_their_message_survive_a_checkpoint_and_expire() {
        let before = "\
Nov 10 00:00:00 mx1 postfix/smtpd[9]: connect from a.example[192.0.2.1]
Nov 10 00:00:01 mx1 policyd-spf[7]: prepend Received-SPF: Fail (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=a.example; envelope-from=s@a.example; receiver=r@example.com
Nov 10 00:00:02 mx1 postfix/smtpd[9]: ABCDE12345: client=a.example[192.0.2.1]
Nov 10 00:00:02 mx1 postfix/cleanup[4]: ABCDE12345: message-id=<m@a.example>
Nov 10 00:00:03 mx1 postfix/qmgr[2]: ABCDE12345: from=<s@a.example>, size=10, nrcpt=1 (queue active)
Nov 10 00:00:04 mx1 dovecot: lmtp(r@example.com)<5><SeSs1onX>: sieve: msgid=<m@a.example>: stored mail into mailbox 'Junk'
";
        let after = "\
Nov 10 00:00:04 mx1 postfix/lmtp[3]: ABCDE12345: to=<r@example.com>, relay=mx1[private/dovecot-lmtp], delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 <r@example.com> SeSs1onX Saved)
Nov 10 00:00:04 mx1 postfix/qmgr[2]: ABCDE12345: removed
Nov 10 00:00:05 mx1 policyd-spf[7]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.9; helo=b.example; envelope-from=s@b.example; receiver=r@example.com
Nov 10 00:20:00 mx1 postfix/smtpd[10]: BCDEF23456: client=b.example[192.0.2.9]
";
        let (mut b, mut out) = across_checkpoint(before, after);
        b.finish(&mut out);
        let t = out.iter().find(|t| t.queue_ids == ["ABCDE12345"]).unwrap();
        let spf = t.spf.as_ref().unwrap();
        assert_eq!(
            (spf.result.as_str(), spf.domain.as_deref()),
            ("fail", Some("a.example"))
        );
        assert_eq!(t.recipients[0].folder.as_deref(), Some("Junk"));
        assert_eq!(t.recipients[0].status, Status::Spam);
        assert_eq!(t.timeline.len(), 8, "the SPF and Dovecot lines are on the timeline");
        assert_eq!(t.first_time.to_rfc3339(), "2026-11-10T00:00:02+00:00");
        // a result nobody claimed for 20 minutes is not given to the next client from that IP
        let late = out.iter().find(|t| t.queue_ids == ["BCDEF23456"]).unwrap();
        assert!(late.spf.is_none());
    }

    /// When the input's time goes back (logs given out of order), the clock stands still: facts
    /// waiting for their message are still forgotten, by count of events.
    #[test]
    fn waiting_facts_are_forgotten_when_time_goes_back() {
        let mut log = String::from("Nov 11 00:00:00 mx1 postfix/qmgr[2]: ABCDE12345: removed\n");
        for i in 0..40_000 {
            log.push_str(&format!(
                "Nov 10 00:00:00 mx1 policyd-spf[7]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.{}; helo=h; envelope-from=s{i}@b.example; receiver=r@example.com\n",
                i % 250
            ));
        }
        let mut a = Assembler::new(DirectionRules::default());
        let mut out = Vec::new();
        feed(&mut a, &log, &mut out);
        let waiting = a.around.spf_waiting();
        assert!(waiting <= SWEEP_EVERY as usize, "{waiting} SPF results still waiting");
    }

    /// PMG's filter lines come before the hand-off naming their id, survive a checkpoint, and
    /// are forgotten when no Postfix line names them.
    #[test]
    fn pmg_filter_lines_wait_for_the_hand_off_across_a_checkpoint() {
        let before = "\
Nov 10 00:00:01 pmg postfix/smtpd[9]: ABCDE12345: client=a.example[192.0.2.1]
Nov 10 00:00:01 pmg postfix/qmgr[2]: ABCDE12345: from=<s@a.example>, size=10, nrcpt=2 (queue active)
Nov 10 00:00:02 pmg pmg-smtp-filter[7]: 5B7A0E655F3C1D8A2E: new mail message-id=<m@a.example>
Nov 10 00:00:02 pmg pmg-smtp-filter[7]: 5B7A0E655F3C1D8A2E: moved mail for <q@example.com> to spam quarantine - 5B7A0F0A5B8192A3B4 (rule: spam)
Nov 10 00:00:02 pmg pmg-smtp-filter[7]: 5B7A0E655F3C1D8A2E: block mail to <b@example.com> (rule: bl)
Nov 10 00:00:02 pmg pmg-smtp-filter[7]: 6C8B1F766A4D2E9B3F: new mail message-id=<lost@a.example>
";
        let after = "\
Nov 10 00:00:03 pmg postfix/lmtp[3]: ABCDE12345: to=<q@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.5.0, status=sent (250 2.5.0 OK (5B7A0E655F3C1D8A2E))
Nov 10 00:00:03 pmg postfix/lmtp[3]: ABCDE12345: to=<b@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.7.0, status=sent (250 2.7.0 BLOCKED (5B7A0E655F3C1D8A2E))
Nov 10 00:00:03 pmg postfix/qmgr[2]: ABCDE12345: removed
Nov 10 00:20:00 pmg postfix/pickup[1]: BCDEF23456: uid=0 from=<root>
";
        let (mut b, mut out) = across_checkpoint(before, after);
        assert_eq!(b.pmg.len(), 0, "nothing waits 20 minutes");
        b.finish(&mut out);
        let t = out.iter().find(|t| t.queue_ids == ["ABCDE12345"]).unwrap();
        assert_eq!(t.message_id.as_deref(), Some("m@a.example"));
        let st: Vec<Status> = t.recipients.iter().map(|r| r.status).collect();
        assert_eq!(st, vec![Status::Quarantined, Status::Discarded]);
        assert_eq!(t.timeline.len(), 8);
    }

    #[test]
    fn queue_id_reuse_starts_a_new_trace() {
        let log = "\
Nov 10 00:00:01 mx1 postfix/pickup[1]: CCCCC33333: uid=0 from=<root>
Nov 10 00:00:01 mx1 postfix/qmgr[2]: CCCCC33333: from=<root@mx1>, size=1, nrcpt=1 (queue active)
Nov 10 00:00:02 mx1 postfix/local[3]: CCCCC33333: to=<root@mx1>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)
Nov 10 00:00:02 mx1 postfix/qmgr[2]: CCCCC33333: removed
Nov 10 00:00:30 mx1 postfix/pickup[1]: CCCCC33333: uid=0 from=<root>
Nov 10 00:00:30 mx1 postfix/qmgr[2]: CCCCC33333: from=<root@mx1>, size=2, nrcpt=1 (queue active)
";
        let traces = run(log);
        assert_eq!(traces.len(), 2);
        assert_eq!(traces[0].recipients[0].status, Status::Delivered);
        assert_eq!(traces[1].size, Some(2));
        assert!(traces[1].recipients.is_empty());
    }

    #[test]
    fn checkpoint_restores_messages_in_flight_and_idle_ones_are_released() {
        let day1 = "\
Nov 10 23:50:01 mx1 postfix/pickup[1]: DDDDD44444: uid=0 from=<root>
Nov 10 23:50:01 mx1 postfix/qmgr[2]: DDDDD44444: from=<root@mx1>, size=1, nrcpt=1 (queue active)
Nov 10 23:50:02 mx1 postfix/smtp[3]: DDDDD44444: to=<a@remote.example>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to remote.example[192.0.2.1]:25: Connection timed out)
Nov 10 23:55:00 mx1 postfix/qmgr[2]: EEEEE55555: from=<lost@mx1>, size=1, nrcpt=1 (queue active)
";
        let day2 = "\
Nov 11 00:20:02 mx1 postfix/smtp[3]: DDDDD44444: to=<a@remote.example>, relay=remote.example[192.0.2.1]:25, delay=1801, delays=1800/0/1/0, dsn=2.0.0, status=sent (250 ok)
Nov 11 00:20:02 mx1 postfix/qmgr[2]: DDDDD44444: removed
Nov 20 00:00:00 mx1 postfix/qmgr[2]: FFFFF66666: from=<x@mx1>, size=1, nrcpt=1 (queue active)
";
        let mut a = Assembler::new(DirectionRules::default()).keep_text(true);
        let mut out = Vec::new();
        feed(&mut a, day1, &mut out);
        assert!(out.is_empty());
        let snapshot = a.snapshot();
        assert_eq!(snapshot.len(), 2);
        assert_eq!(snapshot[0].recipients[0].status, Status::Deferred);
        let bytes = a.checkpoint().unwrap();
        let mut b = Assembler::restore(&bytes, DirectionRules::default(), true).unwrap();
        feed(&mut b, day2, &mut out);
        assert_eq!(out.len(), 1, "the deferred message completes after the restore");
        assert_eq!(out[0].recipients[0].status, Status::Delivered);
        assert_eq!(out[0].recipients[0].attempts, 1);
        assert_eq!(out[0].timeline.len(), 5);
        assert!(
            out[0].timeline[0].text.contains("uid=0"),
            "raw lines survive the checkpoint"
        );
        b.release_idle(Duration::days(7), &mut out);
        assert_eq!(
            out.len(),
            2,
            "the message idle for 9 days is released, the fresh one kept"
        );
        assert_eq!(out[1].queue_ids, vec!["EEEEE55555"]);
        assert_eq!(b.open_count(), 1);
    }
}
