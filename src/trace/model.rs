//! The trace: one message's story on one host, with one status per recipient.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Delays, LineRef};

/// A recipient's fate. The words are part of the output contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Delivered,
    Deferred,
    Bounced,
    Expired,
    Rejected,
    Quarantined,
    Discarded,
    Expanded,
    InProgress,
    /// Delivered, but filed as spam: into a junk folder, or tagged as spam by the filter.
    Spam,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Delivered,
        Status::Deferred,
        Status::Bounced,
        Status::Expired,
        Status::Rejected,
        Status::Quarantined,
        Status::Discarded,
        Status::Expanded,
        Status::InProgress,
        Status::Spam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Deferred => "deferred",
            Status::Bounced => "bounced",
            Status::Expired => "expired",
            Status::Rejected => "rejected",
            Status::Quarantined => "quarantined",
            Status::Discarded => "discarded",
            Status::Expanded => "expanded",
            Status::InProgress => "in-progress",
            Status::Spam => "spam",
        }
    }

    pub fn parse(word: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(word))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way the message went, seen from the logging server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
    }

    pub fn parse(word: &str) -> Option<Direction> {
        [Direction::Inbound, Direction::Outbound, Direction::Internal]
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(word))
    }
}

/// One recipient of a message and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipient {
    pub address: String,
    pub orig_to: Option<String>,
    pub status: Status,
    pub dsn: Option<String>,
    pub relay: Option<String>,
    pub response: Option<String>,
    /// Delivery attempts that ended in a deferral.
    pub attempts: u32,
    pub delays: Option<Delays>,
    /// When the status was last set.
    pub time: Option<DateTime<Utc>>,
    /// Internal: handed to a content filter, waiting for the re-injected copy (kept in the
    /// store's checkpoint of messages in flight; not printed when false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) in_filter: bool,
    /// Internal: the status came from a content filter's discard reply.
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) filter_discard: bool,
    /// Delivered by a final-delivery agent on this host (local, virtual, lmtp, pipe).
    pub local_delivery: bool,
    /// The mailbox Dovecot filed this copy into (`INBOX`, `Junk`, a Sieve `fileinto` folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// Decisions about this recipient's copy alone (Sieve `discard`, `reject`, `redirect`);
    /// its row lists them after the message's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<PolicyAction>,
}

impl Recipient {
    pub fn new(address: &str) -> Self {
        Recipient {
            address: address.to_string(),
            orig_to: None,
            status: Status::InProgress,
            dsn: None,
            relay: None,
            response: None,
            attempts: 0,
            delays: None,
            time: None,
            in_filter: false,
            filter_discard: false,
            local_delivery: false,
            folder: None,
            actions: Vec::new(),
        }
    }
}

/// The SMTP client that handed the message to this host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub ip: Option<String>,
    pub name: Option<String>,
    pub helo: Option<String>,
    pub sasl_user: Option<String>,
    pub sasl_method: Option<String>,
}

/// How another trace or queue id relates to this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// The content filter re-injected the message under this queue id (same trace).
    Reinjected,
    /// local(8) forwarded the message (alias or .forward) under this queue id (same trace).
    Forwarded,
    /// A bounce, delay or success notice about this message was queued under this id.
    Notification,
    /// This message is a notice about the message with this queue id.
    NotificationOf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    pub queue_id: String,
}

/// A content filter's verdict (amavis).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterVerdict {
    pub passed: bool,
    pub category: String,
    pub quarantine: Option<String>,
}

/// An SPF, DKIM or DMARC result: `{"result": "pass", "domain": "example.com"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResult {
    /// Lowercase: `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, `permerror`.
    pub result: String,
    pub domain: Option<String>,
}

impl AuthResult {
    /// Whether the result is a failure (`fail`, `softfail`, `permerror`), as `--auth-fail` means it.
    pub fn failed(&self) -> bool {
        matches!(self.result.as_str(), "fail" | "softfail" | "permerror")
    }
}

/// A decision a filter or screen around the MTA took on the message:
/// `{"source": "amavis", "action": "blocked", "detail": "SPAM, quarantine spam-AbC.gz"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyAction {
    /// `amavis`, `rspamd`, `postscreen`, `opendkim`, `sieve`, `milter`, …
    pub source: String,
    pub action: String,
    pub detail: String,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub time: DateTime<Utc>,
    pub line: LineRef,
    /// The raw line, when the assembler was asked to keep it (`show`, the store); empty
    /// otherwise, so a plain search allocates nothing per line.
    #[serde(default, skip_serializing_if = "str::is_empty")]
    pub text: Box<str>,
}

/// Which MTA logged the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mta {
    Postfix,
    Exim,
}

impl Mta {
    pub fn as_str(self) -> &'static str {
        match self {
            Mta::Postfix => "postfix",
            Mta::Exim => "exim",
        }
    }
}

/// Whether a spam filter verdict means spam (see [`Trace::spam_flagged`]).
pub fn is_spam_verdict(v: &str) -> bool {
    matches!(
        v,
        "SPAM" | "SPAMMY" | "add header" | "rewrite subject" | "soft reject" | "reject" | "discard"
    )
}

/// Whether a mailbox is a junk folder (`Junk`, `Spam`, `INBOX.Junk`, `Junk E-mail`, …).
pub fn is_junk_folder(folder: &str) -> bool {
    let leaf = folder.rsplit(['/', '.']).next().unwrap_or(folder).to_ascii_lowercase();
    leaf.starts_with("junk") || leaf.starts_with("spam") || leaf == "bulk mail"
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One message on one host, across all its queue ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub trace_id: String,
    pub host: String,
    pub mta: Mta,
    /// The queue ids in the order they joined the trace; empty for a before-queue reject.
    pub queue_ids: Vec<String>,
    pub message_id: Option<String>,
    /// Envelope sender; `Some("")` is the null sender.
    pub from: Option<String>,
    pub header_from: Option<String>,
    pub subject: Option<String>,
    pub client: Client,
    pub size: Option<u64>,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    pub recipients: Vec<Recipient>,
    pub direction: Option<Direction>,
    pub links: Vec<Link>,
    pub filter: Option<FilterVerdict>,
    /// Policy actions taken on the message (header checks, milters, rejects), as logged.
    pub actions: Vec<String>,
    /// The spam filter's verdict: amavis's category (`CLEAN`, `SPAM`, `INFECTED`, …) or
    /// rspamd's action (`no action`, `add header`, `reject`, …).
    #[serde(default)]
    pub spam_verdict: Option<String>,
    /// The spam filter's score (amavis `Hits`, rspamd's score).
    #[serde(default)]
    pub spam_score: Option<f64>,
    /// The virus the content filter found (amavis `INFECTED (name)`).
    #[serde(default)]
    pub virus: Option<String>,
    #[serde(default)]
    pub spf: Option<AuthResult>,
    #[serde(default)]
    pub dkim: Option<AuthResult>,
    #[serde(default)]
    pub dmarc: Option<AuthResult>,
    /// What the filters and screens around the MTA decided, in log order.
    #[serde(default)]
    pub policy_actions: Vec<PolicyAction>,
    pub timeline: Vec<TimelineEntry>,
    /// The trace id is made from what the line says, not where it stands: the same reject read
    /// again (Exim's reject log, and its syslog copy, repeat the main log's) names the same
    /// trace and replaces it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub content_id: bool,
}

impl Trace {
    /// An empty Postfix trace that starts at `time`.
    pub fn new(trace_id: String, host: &str, time: DateTime<Utc>) -> Trace {
        Trace {
            trace_id,
            host: host.to_string(),
            mta: Mta::Postfix,
            queue_ids: Vec::new(),
            message_id: None,
            from: None,
            header_from: None,
            subject: None,
            client: Client::default(),
            size: None,
            first_time: time,
            last_time: time,
            recipients: Vec::new(),
            direction: None,
            links: Vec::new(),
            filter: None,
            actions: Vec::new(),
            spam_verdict: None,
            spam_score: None,
            virus: None,
            spf: None,
            dkim: None,
            dmarc: None,
            policy_actions: Vec::new(),
            // most messages have a dozen lines or more: fewer regrowths of the timeline
            timeline: Vec::with_capacity(16),
            content_id: false,
        }
    }

    /// The first queue id, the message's name on this host.
    pub fn queue_id(&self) -> Option<&str> {
        self.queue_ids.first().map(String::as_str)
    }

    /// The queue id of the message this one is a bounce/delay notice about.
    pub fn notice_of(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.kind == LinkKind::NotificationOf)
            .map(|l| l.queue_id.as_str())
    }

    /// Whether the spam filter judged the message spam: amavis `SPAM`/`SPAMMY`, or an rspamd
    /// action other than `no action` and `greylist`.
    pub fn spam_flagged(&self) -> bool {
        self.spam_verdict.as_deref().is_some_and(is_spam_verdict)
    }

    /// Adds a policy action (the same one twice is kept once).
    pub fn add_action(&mut self, source: &str, action: &str, detail: &str) {
        if !self
            .policy_actions
            .iter()
            .any(|a| a.source == source && a.action == action && a.detail == detail)
        {
            self.policy_actions.push(PolicyAction {
                source: source.to_string(),
                action: action.to_string(),
                detail: detail.to_string(),
            });
        }
    }

    /// The recipient named `address` (case-insensitive).
    pub fn recipient_mut(&mut self, address: &str) -> Option<&mut Recipient> {
        self.recipients
            .iter_mut()
            .find(|r| r.address.eq_ignore_ascii_case(address))
    }
}
