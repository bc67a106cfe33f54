//! The typed events that program parsers produce and the assembler consumes.
//!
//! Events borrow their text from the log line they came from; each carries a [`LineRef`] so a
//! trace can always point back at (and re-read) the exact line.

use chrono::{DateTime, Utc};

/// Where a line sits in its input: which file, the byte offset of its first byte, its 1-based
/// line number and its length in bytes (without the newline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct LineRef {
    pub file: u32,
    pub offset: u64,
    pub line: u64,
    pub len: u32,
}

/// One parsed log line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub time: DateTime<Utc>,
    pub host: &'a str,
    pub program: &'a str,
    pub pid: Option<u32>,
    pub line: LineRef,
    /// The whole raw line.
    pub raw: &'a str,
    pub kind: EventKind<'a>,
}

/// An SMTP peer as Postfix writes it: `name[addr]` (the port, when logged, is kept apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Peer<'a> {
    pub name: &'a str,
    pub addr: &'a str,
    pub port: Option<u16>,
}

/// What a delivery agent (smtp, lmtp, local, virtual, pipe, error, discard, retry) said about
/// one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Sent,
    Deferred,
    Bounced,
    Expired,
    /// `sendmail -bv` address verification results.
    Deliverable,
    Undeliverable,
}

/// `delay=` and `delays=a/b/c/d` of a delivery line, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Delays {
    pub total: f64,
    /// Before the queue manager (incl. message transmission time).
    pub before_qmgr: f64,
    /// In the queue manager.
    pub in_qmgr: f64,
    /// Connection set-up (DNS, HELO, TLS).
    pub conn_setup: f64,
    /// Message transmission.
    pub transmission: f64,
}

/// The policy action of an smtpd / cleanup / milter decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Reject,
    Discard,
    Hold,
    Warn,
    Info,
    Filter,
    Redirect,
    Prepend,
    Replace,
    Bcc,
}

impl Action {
    pub fn from_word(word: &str) -> Option<Action> {
        Some(match word {
            "reject" => Action::Reject,
            "discard" => Action::Discard,
            "hold" => Action::Hold,
            "warning" => Action::Warn,
            "info" => Action::Info,
            "filter" => Action::Filter,
            "redirect" => Action::Redirect,
            "prepend" => Action::Prepend,
            "replace" => Action::Replace,
            "bcc" => Action::Bcc,
            _ => return None,
        })
    }
}

/// The `from=<…> to=<…> proto=… helo=<…>` tail that smtpd and cleanup append to policy lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyTail<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub proto: Option<&'a str>,
    pub helo: Option<&'a str>,
}

/// Which kind of notice the bounce/defer/trace daemons created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    NonDelivery,
    Delay,
    DeliveryStatus,
}

/// What a postsuper command did to a queue file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    Hold,
    Released,
    Removed,
    Requeued,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind<'a> {
    /// A line of Exim's main log.
    Exim(crate::parse::exim::EximLine<'a>),
    /// smtpd / postscreen `connect from name[addr]`.
    Connect { peer: Peer<'a> },
    /// smtpd `disconnect from name[addr] ehlo=1 mail=1 … commands=N`.
    Disconnect { peer: Peer<'a>, commands: Option<&'a str> },
    /// smtpd `lost connection after CMD from …` / `timeout after …`.
    LostConnection { peer: Peer<'a>, after: &'a str },
    /// smtpd `QID: client=name[addr]`, with SASL fields when the client authenticated, and
    /// what a content filter passed on by XFORWARD (`orig_queue_id=QID0, orig_client=h[ip]`).
    Client {
        qid: &'a str,
        peer: Peer<'a>,
        sasl_method: Option<&'a str>,
        sasl_user: Option<&'a str>,
        /// The queue id of the message before the filter (`orig_queue_id=`).
        orig_queue_id: Option<&'a str>,
        /// The client the message came from before the filter (`orig_client=`).
        orig_client: Option<Peer<'a>>,
    },
    /// smtpd / cleanup / milter policy decision. `qid` is `None` for `NOQUEUE`.
    Policy {
        qid: Option<&'a str>,
        stage: PolicyStage<'a>,
        action: Action,
        peer: Option<Peer<'a>>,
        dsn: Option<&'a str>,
        /// The whole reply or reason text.
        text: &'a str,
        /// `header Subject: …` / `body …` text for header/body checks.
        header: Option<(&'a str, &'a str)>,
        tail: PolicyTail<'a>,
    },
    /// pickup `QID: uid=N from=<sender>`.
    Pickup {
        qid: &'a str,
        uid: Option<u32>,
        from: &'a str,
    },
    /// cleanup `QID: message-id=<…>` or `resent-message-id=<…>`.
    MessageId {
        qid: &'a str,
        message_id: &'a str,
        resent: bool,
    },
    /// qmgr `QID: from=<…>, size=N, nrcpt=N (queue active)`.
    Queued {
        qid: &'a str,
        from: &'a str,
        size: Option<u64>,
        nrcpt: Option<u32>,
    },
    /// qmgr `QID: removed`.
    Removed { qid: &'a str },
    /// qmgr `QID: from=<…>, status=expired, returned to sender`.
    Expired { qid: &'a str, from: &'a str },
    /// A delivery agent's per-recipient result.
    Delivery {
        qid: &'a str,
        to: &'a str,
        orig_to: Option<&'a str>,
        relay: Option<&'a str>,
        delays: Option<Delays>,
        dsn: Option<&'a str>,
        status: DeliveryStatus,
        response: &'a str,
        /// `queued as NEWQID` inside the response (next hop accepted it).
        queued_as: Option<&'a str>,
        /// local(8) `forwarded as NEWQID` (alias / .forward expansion into a new message).
        forwarded_as: Option<&'a str>,
    },
    /// bounce / defer / trace: `QID: sender non-delivery notification: NEWQID`.
    Notice {
        qid: &'a str,
        kind: NoticeKind,
        new_qid: &'a str,
    },
    /// postsuper `QID: placed on hold` / `released from hold` / `removed` / `requeued`.
    Admin { qid: &'a str, action: AdminAction },
    /// amavis `Passed …` / `Blocked …` verdict.
    ContentFilter {
        /// amavis's `(pid-n)` log id of the task, which its other lines of the message carry.
        task: Option<&'a str>,
        passed: bool,
        /// `CLEAN`, `SPAM`, `INFECTED`, `BANNED`, `SPAMMY`, `BAD-HEADER`, …
        category: &'a str,
        /// The queue id of the message on the way in (`Queue-ID:`).
        qid: Option<&'a str>,
        message_id: Option<&'a str>,
        /// `queued_as:` ids of the re-injected copies.
        queued_as: Vec<&'a str>,
        /// `quarantine: …` when the message was quarantined.
        quarantine: Option<&'a str>,
        /// `{RelayedInbound}`-style tags inside the braces.
        tags: &'a str,
        recipients: Vec<&'a str>,
        /// `Hits: 6.2` (the spam score; `-` when not scanned).
        hits: Option<f64>,
        /// The text in parentheses after the category: the virus name of `INFECTED
        /// (Eicar-Test-Signature)`, the parts of `BANNED (multipart/mixed | …)`.
        reason: Option<&'a str>,
    },
    /// rspamd's verdict (`rspamd_task_write_log`, or a milter reply naming its action).
    SpamCheck {
        qid: Option<&'a str>,
        message_id: Option<&'a str>,
        /// `no action`, `add header`, `rewrite subject`, `greylist`, `soft reject`, `reject`.
        action: &'a str,
        score: Option<f64>,
        /// The symbols list as logged (`SYM(1.00){…},…`).
        symbols: &'a str,
    },
    /// An SPF, DKIM or DMARC result (policyd-spf, OpenDKIM, OpenDMARC).
    Auth {
        /// The Postfix queue id (OpenDKIM, OpenDMARC); policyd-spf names none.
        qid: Option<&'a str>,
        method: AuthMethod,
        /// Lowercase result word: `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`,
        /// `permerror`.
        result: &'a str,
        domain: Option<&'a str>,
        /// policyd-spf: the SMTP client and envelope sender, to find the session.
        client_ip: Option<&'a str>,
        sender: Option<&'a str>,
    },
    /// A fact that only becomes a policy action of the message (OpenDKIM signing, …).
    Note {
        qid: &'a str,
        source: &'static str,
        action: &'static str,
        detail: &'a str,
    },
    /// Dovecot LDA/LMTP/Sieve: what became of one recipient's copy in the mailbox store.
    Mailbox {
        /// The Dovecot user (`lmtp(user)`), often the recipient address.
        user: &'a str,
        /// The LMTP session id (`lmtp(user)<pid><SESSION>`), also in Postfix's `250 … Saved`.
        session: Option<&'a str>,
        message_id: Option<&'a str>,
        outcome: MailboxOutcome,
        /// The mailbox for `Saved`; the address for `Forwarded`; the reason otherwise.
        detail: &'a str,
    },
    /// postscreen's verdict on a connection (`PREGREET`, `DNSBL rank N`, `COMMAND PIPELINING`,
    /// …), or the end of its screening (`PASS`, `DISCONNECT`: `end`).
    Screen {
        peer: Peer<'a>,
        /// `PREGREET`, `DNSBL`, `COMMAND PIPELINING`, `HANGUP`, …
        test: &'a str,
        /// The rest of the line (`rank 3`, `11 after 0.1 …: EHLO x`).
        detail: &'a str,
        end: bool,
    },
    /// smtpd `NOQUEUE: client=name[addr]`: a session whose message goes to a before-queue
    /// content filter (`smtpd_proxy_filter`), so it has no queue file of its own.
    SessionClient {
        peer: Peer<'a>,
        sasl_method: Option<&'a str>,
        sasl_user: Option<&'a str>,
    },
    /// smtpd `[QID: |NOQUEUE: ]proxy-accept: END-OF-MESSAGE: reply; from=<…> to=<…> …`: the
    /// before-queue content filter accepted the message.
    ProxyAccept {
        qid: Option<&'a str>,
        /// The filter's reply (`250 2.0.0 Ok: queued as QID2`, `250 2.5.0 OK (FILTERID)`).
        reply: &'a str,
        queued_as: Option<&'a str>,
        tail: PolicyTail<'a>,
    },
    /// A line of Proxmox Mail Gateway (`pmg-smtp-filter`, `pmgdaemon`).
    Pmg(crate::parse::pmg::PmgLine<'a>),
    /// A line we understood that does not change any trace (TLS, anvil, statistics, warnings).
    /// With a queue id (`QID: not authenticated`), it is still a line of that message's
    /// timeline.
    Info { qid: Option<&'a str> },
    /// A line of a content filter's task (amavis `(11412-17) Checking: …`, keyed by the
    /// `(pid-n)` log id): it joins the message of the task's verdict, which names the queue id.
    FilterTask {
        task: &'a str,
        /// Whether the line's text was understood (counted unrecognised otherwise).
        understood: bool,
    },
    /// A line of a program we read, about message `qid`, whose text we do not understand:
    /// counted as unrecognised, and still on that message's timeline.
    UnrecognisedFor { qid: &'a str },
    /// A line of a known program whose message we do not understand.
    Unrecognised,
}

/// Which sender authentication a result is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Spf,
    Dkim,
    Dmarc,
}

/// What Dovecot did with a recipient's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MailboxOutcome {
    /// Stored in the mailbox named by `detail` (`saved mail to INBOX`, `stored mail into mailbox 'Junk'`).
    Saved,
    /// Sieve `discard`.
    Discarded,
    /// Sieve `reject`, or the store refused it (quota).
    Rejected,
    /// Sieve `redirect` to the address in `detail`.
    Forwarded,
}

/// Where a policy decision was taken: the daemon (`smtpd`, `cleanup`) and SMTP stage
/// (`RCPT`, `END-OF-MESSAGE`, `header`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyStage<'a> {
    pub milter: bool,
    pub stage: &'a str,
}

impl EventKind<'_> {
    /// The queue id this event belongs to, if any.
    pub fn qid(&self) -> Option<&str> {
        match self {
            EventKind::Client { qid, .. }
            | EventKind::Pickup { qid, .. }
            | EventKind::MessageId { qid, .. }
            | EventKind::Queued { qid, .. }
            | EventKind::Removed { qid }
            | EventKind::Expired { qid, .. }
            | EventKind::Delivery { qid, .. }
            | EventKind::Notice { qid, .. }
            | EventKind::Admin { qid, .. } => Some(qid),
            EventKind::Policy { qid, .. } | EventKind::Info { qid } => *qid,
            EventKind::ContentFilter { qid, .. } | EventKind::SpamCheck { qid, .. } | EventKind::Auth { qid, .. } => {
                *qid
            }
            EventKind::Note { qid, .. } | EventKind::UnrecognisedFor { qid } => Some(qid),
            _ => None,
        }
    }

    /// Whether the line's text was not understood (what `stats` counts as unrecognised).
    pub fn is_unrecognised(&self) -> bool {
        match self {
            EventKind::Unrecognised
            | EventKind::UnrecognisedFor { .. }
            | EventKind::FilterTask { understood: false, .. } => true,
            EventKind::Exim(line) => !line.understood(),
            _ => false,
        }
    }
}
