//! Before-queue content filters (Postfix `smtpd_proxy_filter`).
//!
//! smtpd hands the message to the filter while the client waits, so it has no queue file of
//! its own: it logs `NOQUEUE: client=name[ip]`, then the filter's verdict, `proxy-accept:
//! END-OF-MESSAGE: 250 … queued as QID2; from=<…> to=<…> …` or `proxy-reject: END-OF-MESSAGE:
//! 554 …`. The accepted message lives on as the queue id the filter re-injected it under.
//!
//! - `NOQUEUE: client=` is kept on the smtpd session (with the session's earlier lines);
//! - `proxy-accept` joins the message it names (`queued as QID2`), or its own queue id, or the
//!   session's, or (Proxmox Mail Gateway, `250 2.5.0 OK (FILTERID)`) the queue id the filter
//!   re-injected it under; the session's lines and its real client go with it (the re-injected
//!   copy's client is the filter on the loopback). Found nowhere, it is a row of its own,
//!   `delivered` (the filter took it), so no accepted message is lost;
//! - `proxy-reject` is a before-queue reject (a row per line, for its `to=`) that gets the
//!   session's client and lines.

use serde::{Deserialize, Serialize};

use super::{finalize, note_tail, Assembler};
use crate::event::{Event, EventKind};
use crate::parse::fields::dsn_in;
use crate::parse::pmg::filter_id_in_reply;
use crate::trace::model::{Recipient, Status, Trace};

/// The client of `NOQUEUE: client=name[addr]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct SessionPeer {
    name: String,
    addr: String,
    sasl_user: Option<String>,
    sasl_method: Option<String>,
}

impl SessionPeer {
    /// The session's client becomes the message's, unless the message already names a client
    /// from outside (a re-injected copy's client is the filter on the loopback).
    /// Whether it did.
    fn give(&self, t: &mut Trace) -> bool {
        // a client on this machine is a filter re-injecting
        if t.client.ip.as_deref().is_some_and(|ip| !super::is_loopback_relay(ip)) {
            return false;
        }
        t.client.ip = Some(self.addr.clone());
        t.client.name = Some(self.name.clone());
        t.client.sasl_user = self.sasl_user.clone();
        t.client.sasl_method = self.sasl_method.clone();
        true
    }
}

impl Assembler {
    /// smtpd `NOQUEUE: client=…`: a new message of the session, for a before-queue filter.
    pub(super) fn session_client(&mut self, ev: &Event<'_>) {
        let (
            Some(pid),
            EventKind::SessionClient {
                peer,
                sasl_method,
                sasl_user,
            },
        ) = (ev.pid, &ev.kind)
        else {
            return;
        };
        let entry = self.entry(ev);
        let session = self.session_mut(ev.host, pid);
        session.qid = None;
        session.client = Some(SessionPeer {
            name: peer.name.to_string(),
            addr: peer.addr.to_string(),
            sasl_user: sasl_user.map(str::to_string),
            sasl_method: sasl_method.map(str::to_string),
        });
        if session.pending.len() <= super::SESSION_LINES {
            session.pending.push(entry);
        }
    }

    /// `proxy-accept`: see the module notes. Returns the row of its own when no message takes it.
    pub(super) fn proxy_accept(&mut self, ev: &Event<'_>) -> Option<Trace> {
        let EventKind::ProxyAccept {
            qid,
            reply,
            queued_as,
            tail,
        } = &ev.kind
        else {
            return None;
        };
        let host = ev.host;
        let filter_id = filter_id_in_reply(reply);
        let session_qid = ev.pid.and_then(|p| self.sessions.get(host)?.get(&p)?.qid.clone());
        let slot = queued_as
            .and_then(|q| self.open_slot(host, q))
            .or_else(|| qid.and_then(|q| self.open_slot(host, q)))
            .or_else(|| session_qid.and_then(|q| self.open_slot(host, &q)))
            .or_else(|| filter_id.and_then(|f| self.pmg_accepted_slot(host, f)));
        let entry = self.entry(ev);
        let (client, pending) = match ev.pid.and_then(|p| self.sessions.get_mut(host)?.get_mut(&p)) {
            Some(s) => (s.client.take(), std::mem::take(&mut s.pending)),
            None => (None, Vec::new()),
        };
        match slot {
            Some(slot) => {
                let t = &mut self.open_mut(slot).trace;
                t.timeline.push(entry);
                t.timeline.extend(pending);
                if client.as_ref().is_some_and(|c| c.give(t)) && tail.helo.is_some() {
                    t.client.helo = tail.helo.map(str::to_string);
                }
                note_tail(t, tail);
                let name = t.queue_ids.first().cloned();
                if let (Some(pid), Some(name)) = (ev.pid, name) {
                    // the session's last lines (`disconnect`) join the message too
                    self.session_mut(host, pid).qid = Some(name);
                }
                if let Some(f) = filter_id {
                    self.pmg_join(slot, host, f, None);
                }
                None
            }
            None => {
                let mut t = Trace::new(self.noqueue_id(ev), host, ev.time);
                t.timeline.push(entry);
                t.timeline.extend(pending);
                if let Some(c) = &client {
                    c.give(&mut t);
                }
                note_tail(&mut t, tail);
                if let Some(f) = filter_id {
                    self.pmg_join_trace(&mut t, host, f, None);
                }
                if let Some(to) = tail.to {
                    if t.recipient_mut(to).is_none() {
                        let mut r = Recipient::new(to);
                        r.status = Status::Delivered;
                        r.dsn = dsn_in(reply).map(str::to_string);
                        r.response = Some(reply.to_string());
                        r.time = Some(ev.time);
                        t.recipients.push(r);
                    }
                }
                finalize(&mut t, false, &self.rules);
                Some(t)
            }
        }
    }

    /// A before-queue reject (`trace`, not handed out yet): a `proxy-reject` takes the
    /// session's client and lines, and the filter's findings when it names its id.
    pub(super) fn proxy_reject(&mut self, ev: &Event<'_>, t: &mut Trace) {
        let EventKind::Policy { text, peer: None, .. } = &ev.kind else {
            return;
        };
        if !ev.raw.contains("proxy-reject: ") {
            return;
        }
        if let Some(s) = ev.pid.and_then(|p| self.sessions.get_mut(ev.host)?.get_mut(&p)) {
            if let Some(c) = s.client.take() {
                c.give(t);
            }
            t.timeline.extend(std::mem::take(&mut s.pending));
        }
        if let Some(f) = filter_id_in_reply(text) {
            self.pmg_join_trace(t, ev.host, f, Some(Status::Rejected));
        }
    }
}
