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
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Delivered,
        Status::Deferred,
        Status::Bounced,
        Status::Expired,
        Status::Rejected,
        Status::Quarantined,
        Status::Discarded,
        Status::Expanded,
        Status::InProgress,
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
            timeline: Vec::new(),
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

    /// The recipient named `address` (case-insensitive).
    pub fn recipient_mut(&mut self, address: &str) -> Option<&mut Recipient> {
        self.recipients
            .iter_mut()
            .find(|r| r.address.eq_ignore_ascii_case(address))
    }
}
