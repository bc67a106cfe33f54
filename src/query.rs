//! Search criteria and the rows they select: one row per (message, recipient).
//!
//! Address patterns are case-insensitive and take three forms: an exact address
//! (`alice@example.com`), a domain (`@example.com`, which also matches subdomains), or a
//! pattern with `*` wildcards (`*invoice*@*.example.com`). `<>` matches the null sender.
//! A criterion may list several patterns (`a@x.com, @y.org`): an address matches any of them.

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use std::net::IpAddr;

use crate::event::AuthMethod;
use crate::trace::{Direction, Recipient, Status, Trace};

/// An address pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressPattern {
    Exact(String),
    Domain(String),
    Wildcard(String),
    NullSender,
}

impl AddressPattern {
    pub fn parse(text: &str) -> AddressPattern {
        let t = text
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_ascii_lowercase();
        if t.is_empty() {
            AddressPattern::NullSender
        } else if t.contains('*') {
            // `**` matches what `*` does; one star keeps the index's automaton small
            let mut w = String::with_capacity(t.len());
            for c in t.chars() {
                if !(c == '*' && w.ends_with('*')) {
                    w.push(c);
                }
            }
            AddressPattern::Wildcard(w)
        } else if let Some(d) = t.strip_prefix('@') {
            AddressPattern::Domain(d.to_string())
        } else {
            AddressPattern::Exact(t)
        }
    }

    pub fn matches(&self, address: &str) -> bool {
        match self {
            AddressPattern::NullSender => address.is_empty(),
            AddressPattern::Exact(e) => address.eq_ignore_ascii_case(e),
            AddressPattern::Domain(d) => {
                let domain = address.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
                domain == *d || domain.ends_with(&format!(".{d}"))
            }
            AddressPattern::Wildcard(p) => wildcard(p.as_bytes(), address.to_ascii_lowercase().as_bytes()),
        }
    }

    /// Whether `address` matches any of `patterns`.
    pub fn any(patterns: &[AddressPattern], address: &str) -> bool {
        patterns.iter().any(|p| p.matches(address))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// An IP address or network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpFilter(IpNet);

impl IpFilter {
    pub fn parse(text: &str) -> Result<IpFilter, String> {
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(IpFilter(net));
        }
        text.parse::<IpAddr>()
            .map(|a| IpFilter(IpNet::from(a)))
            .map_err(|_| format!("'{text}' is not an IP address or network (e.g. 192.0.2.7 or 192.0.2.0/24)"))
    }

    pub fn matches(&self, ip: &str) -> bool {
        ip.parse::<IpAddr>().is_ok_and(|a| self.0.contains(&a))
    }

    pub fn net(&self) -> IpNet {
        self.0
    }

    /// The address, when the filter is one address rather than a network.
    pub fn single(&self) -> Option<String> {
        (self.0.prefix_len() == self.0.max_prefix_len()).then(|| self.0.addr().to_string())
    }
}

/// What to look for. Empty criteria match everything.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// The envelope sender matches any of these (none: any sender).
    pub from: Vec<AddressPattern>,
    /// The recipient matches any of these (none: any recipient).
    pub to: Vec<AddressPattern>,
    /// Each entry must match the subject: its words in this order, the last one as a prefix
    /// (`invoice` finds "Invoices"; `"order 12"` finds "Your order 1234"); case-insensitive.
    pub subject: Vec<String>,
    pub message_id: Option<String>,
    pub queue_id: Option<String>,
    pub statuses: Vec<Status>,
    pub direction: Option<Direction>,
    pub client_ip: Option<IpFilter>,
    pub host: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Judged spam: the spam filter's verdict says so, or the recipient's copy was filed as
    /// spam (status `spam`).
    pub spam: bool,
    /// The content filter found a virus.
    pub virus: bool,
    /// Any of these checks failed (`fail`, `softfail`, `permerror`).
    pub auth_fail: Vec<AuthMethod>,
    /// The mailbox the recipient's copy was filed into (case-insensitive).
    pub folder: Option<String>,
    /// Rows are whole delivery paths across servers, one per original message and final
    /// recipient, and the criteria apply to the path (see [`crate::path::end_to_end`]).
    pub end_to_end: bool,
}

impl Criteria {
    /// Whether only a time window is asked for (every message in it matches).
    pub fn only_time(&self) -> bool {
        self.from.is_empty()
            && self.to.is_empty()
            && self.subject.is_empty()
            && self.message_id.is_none()
            && self.queue_id.is_none()
            && self.statuses.is_empty()
            && self.direction.is_none()
            && self.client_ip.is_none()
            && self.host.is_none()
            && !self.spam
            && !self.virus
            && self.auth_fail.is_empty()
            && self.folder.is_none()
    }

    /// When the time window asked lies wholly outside `held`, the first and last time of what
    /// was searched (`what`: "the store", "the files read"), says so: the usual reason a window
    /// finds nothing.
    pub fn window_misses(&self, held: (DateTime<Utc>, DateTime<Utc>), what: &str) -> Option<String> {
        let (first, last) = held;
        let side = if self.until.is_some_and(|u| u < first) {
            "before"
        } else if self.since.is_some_and(|s| s > last) {
            "after"
        } else {
            return None;
        };
        let t = |d: DateTime<Utc>| d.format("%Y-%m-%d %H:%M").to_string();
        let asked = |d: Option<DateTime<Utc>>| d.map_or_else(|| "…".to_string(), t);
        Some(format!(
            "The window asked, {} to {} (UTC), is {side} anything in {what}: {} to {}.",
            asked(self.since),
            asked(self.until),
            t(first),
            t(last)
        ))
    }

    /// What in these criteria is likely not what was meant, said as a suggestion (for a
    /// search that found nothing): an address pattern with no `@` matches a whole address,
    /// not a domain (said of each such pattern of a list).
    pub fn likely_mistakes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (option, list) in [("from", &self.from), ("to", &self.to)] {
            for p in list {
                if let AddressPattern::Exact(e) = p {
                    if !e.contains('@') && e.contains('.') {
                        out.push(format!(
                            "--{option} {e} matches the whole address '{e}': for its domain, give --{option} @{e}."
                        ));
                    }
                }
            }
        }
        out
    }

    /// Whether the message as a whole can match (checks that do not depend on the recipient).
    pub fn matches_trace(&self, t: &Trace) -> bool {
        self.matches_arrival(t)
            && self.matches_ids(t)
            && self.matches_host(t)
            && self.matches_verdicts(t)
            && self.matches_window(t)
    }

    /// The checks on how the message arrived: `from`, `subject`, `direction`, `client_ip`
    /// (end to end, those of a path's first leg).
    pub fn matches_arrival(&self, t: &Trace) -> bool {
        if !self.from.is_empty() && !t.from.as_deref().is_some_and(|f| AddressPattern::any(&self.from, f)) {
            return false;
        }
        if !self.subject_matches(t.subject.as_deref()) {
            return false;
        }
        if let Some(d) = self.direction {
            if t.direction != Some(d) {
                return false;
            }
        }
        if let Some(ip) = &self.client_ip {
            if !t.client.ip.as_deref().is_some_and(|a| ip.matches(a)) {
                return false;
            }
        }
        true
    }

    /// The checks on the message's ids: `message_id`, `queue_id`.
    pub fn matches_ids(&self, t: &Trace) -> bool {
        if let Some(id) = &self.message_id {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>');
            if t.message_id.as_deref() != Some(id) {
                return false;
            }
        }
        if let Some(q) = &self.queue_id {
            if !t.queue_ids.iter().any(|x| x == q) {
                return false;
            }
        }
        true
    }

    /// The check on the host that logged the message.
    pub fn matches_host(&self, t: &Trace) -> bool {
        self.host.as_ref().is_none_or(|h| t.host.eq_ignore_ascii_case(h))
    }

    /// The checks on the filters' verdicts on the message: `virus`, `auth_fail`.
    pub fn matches_verdicts(&self, t: &Trace) -> bool {
        self.matches_virus(t) && self.matches_auth(t)
    }

    /// The check that a virus scanner found the message infected.
    pub fn matches_virus(&self, t: &Trace) -> bool {
        !self.virus || t.virus.is_some()
    }

    /// The check that one of the asked authentication checks failed.
    pub fn matches_auth(&self, t: &Trace) -> bool {
        self.auth_fail.is_empty() || self.auth_fail.iter().any(|m| auth_failed(t, *m))
    }

    /// Whether any of the message's activity falls inside the time window.
    pub fn matches_window(&self, t: &Trace) -> bool {
        !(self.since.is_some_and(|s| t.last_time < s) || self.until.is_some_and(|u| t.first_time > u))
    }

    /// Whether a message with this subject passes the subject criteria.
    pub fn subject_matches(&self, subject: Option<&str>) -> bool {
        if self.subject.is_empty() {
            return true;
        }
        let Some(subject) = subject else {
            return false;
        };
        let texts: Vec<Vec<String>> = subject_texts(subject).iter().map(|t| words(t)).collect();
        self.subject
            .iter()
            .all(|c| texts.iter().any(|text| phrase_prefix(text, &words(c))))
    }

    /// Whether one recipient row matches (`None`: the message has no known recipient).
    pub fn matches_recipient(&self, r: Option<&Recipient>) -> bool {
        self.matches_to(r) && self.matches_status(r)
    }

    /// The check on the recipient's address (or the address it was sent to, before aliases).
    pub fn matches_to(&self, r: Option<&Recipient>) -> bool {
        if self.to.is_empty() {
            return true;
        }
        let any = |a: &str| AddressPattern::any(&self.to, a);
        r.is_some_and(|r| any(&r.address) || r.orig_to.as_deref().is_some_and(any))
    }

    /// The check on the recipient's status (`in-progress` for a message with none).
    pub fn matches_status(&self, r: Option<&Recipient>) -> bool {
        self.statuses.is_empty() || self.statuses.contains(&r.map_or(Status::InProgress, |r| r.status))
    }

    /// Whether one recipient row passes `--spam` and `--folder` (they depend on the message
    /// and the recipient both).
    pub fn matches_filing(&self, t: &Trace, r: Option<&Recipient>) -> bool {
        (!self.spam || t.spam_flagged() || r.is_some_and(|r| r.status == Status::Spam)) && self.matches_folder(r)
    }

    /// The check on the mailbox the recipient's copy was filed into.
    pub fn matches_folder(&self, r: Option<&Recipient>) -> bool {
        let Some(f) = &self.folder else { return true };
        r.and_then(|r| r.folder.as_deref())
            .is_some_and(|x| x.eq_ignore_ascii_case(f))
    }

    /// The rows of `t` that match, as recipient indexes (`None` for a recipient-less message).
    pub fn rows(&self, t: &Trace) -> Vec<Option<usize>> {
        if !self.matches_trace(t) {
            return Vec::new();
        }
        if t.recipients.is_empty() {
            return if self.matches_recipient(None) && self.matches_filing(t, None) {
                vec![None]
            } else {
                Vec::new()
            };
        }
        (0..t.recipients.len())
            .filter(|&i| {
                let r = Some(&t.recipients[i]);
                self.matches_recipient(r) && self.matches_filing(t, r)
            })
            .map(Some)
            .collect()
    }
}

/// Whether the message's `method` check failed.
pub fn auth_failed(t: &Trace, method: AuthMethod) -> bool {
    let a = match method {
        AuthMethod::Spf => &t.spf,
        AuthMethod::Dkim => &t.dkim,
        AuthMethod::Dmarc => &t.dmarc,
    };
    a.as_ref().is_some_and(|a| a.failed())
}

/// Search criteria as text, under the CLI's names: what `mailtrace search` options and the
/// web API's query parameters both hold. [`CriteriaText::parse`] is the one place criteria are
/// read from text, for every front end.
#[derive(Debug, Clone, Default)]
pub struct CriteriaText {
    /// Sender patterns, any of them; each entry may be a comma-separated list.
    pub from: Vec<String>,
    /// Recipient patterns, any of them; each entry may be a comma-separated list.
    pub to: Vec<String>,
    /// Subject words or phrases, each one criterion.
    pub subject: Vec<String>,
    pub message_id: Option<String>,
    pub queue_id: Option<String>,
    /// Status words (`delivered`, `in-progress`…); each entry may be a comma-separated list.
    pub status: Vec<String>,
    /// `inbound`, `outbound` or `internal`.
    pub direction: Option<String>,
    /// An IP address or CIDR network.
    pub client_ip: Option<String>,
    pub host: Option<String>,
    /// RFC 3339, or `YYYY-MM-DD[ HH:MM[:SS]]` in the zone given to `parse`.
    pub since: Option<String>,
    pub until: Option<String>,
    /// A duration before `now`: `30m`, `24h`, `7d` (instead of `since`).
    pub last: Option<String>,
    /// Only messages a filter judged spam.
    pub spam: bool,
    /// Only messages a virus scanner found infected.
    pub virus: bool,
    /// `spf`, `dkim` or `dmarc`: only messages that failed that check (any of those given);
    /// each entry may be a comma-separated list.
    pub auth_fail: Vec<String>,
    /// The mailbox the recipient's copy was filed into.
    pub folder: Option<String>,
    /// One row per original message and final recipient, criteria over the whole path.
    pub end_to_end: bool,
}

impl CriteriaText {
    /// Reads the criteria: times without an offset in `zone`, `last` counted back from `now`.
    /// The error names the criterion that is wrong and says what would do.
    pub fn parse(&self, zone: &crate::syslog::Zone, now: DateTime<Utc>) -> Result<Criteria, CriteriaError> {
        let err = |field: &'static str| move |message: String| CriteriaError { field, message };
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let mut statuses = Vec::new();
        for word in self.status.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if word.is_empty() {
                continue;
            }
            let s = Status::parse(word).ok_or_else(|| {
                let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                err("status")(format!("'{word}' is not one of {}", all.join(", ")))
            })?;
            if !statuses.contains(&s) {
                statuses.push(s);
            }
        }
        let direction = given(&self.direction)
            .map(|d| {
                Direction::parse(d)
                    .ok_or_else(|| err("direction")(format!("'{d}' is not one of inbound, outbound, internal")))
            })
            .transpose()?;
        let time = |name: &'static str, v: &Option<String>| {
            given(v)
                .map(|t| parse_when(t, zone, now).map_err(err(name)))
                .transpose()
        };
        let mut since = time("since", &self.since)?;
        if let Some(last) = given(&self.last) {
            if since.is_some() {
                return Err(err("last")("give either since or last, not both".into()));
            }
            since = Some(now - parse_last(last).map_err(err("last"))?);
        }
        let until = time("until", &self.until)?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(err("until")(format!(
                    "the window ends ({}) before it starts ({}): swap the two times",
                    crate::output::rfc3339(u),
                    crate::output::rfc3339(s)
                )));
            }
        }
        let mut auth_fail = Vec::new();
        for word in self.auth_fail.iter().flat_map(|s| s.split(',')).map(str::trim) {
            let m = match word.to_ascii_lowercase().as_str() {
                "" => continue,
                "spf" => AuthMethod::Spf,
                "dkim" => AuthMethod::Dkim,
                "dmarc" => AuthMethod::Dmarc,
                _ => return Err(err("auth_fail")(format!("'{word}' is not one of spf, dkim, dmarc"))),
            };
            if !auth_fail.contains(&m) {
                auth_fail.push(m);
            }
        }
        // an id as pasted; one that is only brackets or a header name names nothing
        let id = |field: &'static str, v: &Option<String>| -> Result<Option<String>, CriteriaError> {
            let Some(text) = given(v) else { return Ok(None) };
            let id = clean_id(text);
            if id.is_empty() {
                return Err(err(field)(format!("'{text}' names no id")));
            }
            Ok(Some(id))
        };
        let mut subject = Vec::new();
        for s in &self.subject {
            if words(s).is_empty() {
                return Err(err("subject")(format!(
                    "'{s}' has no word to look for: give letters or digits"
                )));
            }
            subject.push(s.clone());
        }
        Ok(Criteria {
            from: address_list("from", &self.from)?,
            to: address_list("to", &self.to)?,
            subject,
            message_id: id("message_id", &self.message_id)?,
            queue_id: id("queue_id", &self.queue_id)?.map(|q| upper_queue_id(&q).unwrap_or(q)),
            statuses,
            direction,
            client_ip: given(&self.client_ip)
                .map(IpFilter::parse)
                .transpose()
                .map_err(err("client_ip"))?,
            host: given(&self.host).map(str::to_string),
            since,
            until,
            spam: self.spam,
            virus: self.virus,
            auth_fail,
            folder: given(&self.folder).map(str::to_string),
            end_to_end: self.end_to_end,
        })
    }
}

/// The most `*` an address pattern may hold. The index looks a pattern up with an automaton
/// whose size grows with its wildcards (tantivy gives up at 1,000 states, about 40 of them);
/// 16 keep the look-up well under a tenth of a second.
pub const MAX_WILDCARDS: usize = 16;

/// The patterns of `entries`, each a comma-separated list: items trimmed, empty ones skipped,
/// repeats dropped. An entry with no item at all is an error (the null sender is `<>`).
fn address_list(field: &'static str, entries: &[String]) -> Result<Vec<AddressPattern>, CriteriaError> {
    let mut out = Vec::new();
    for entry in entries {
        let mut items = entry.split(',').map(str::trim).filter(|i| !i.is_empty()).peekable();
        if items.peek().is_none() {
            let message = match field {
                "from" => format!("'{entry}' names no address (the null sender is <>)"),
                _ => format!("'{entry}' names no address"),
            };
            return Err(CriteriaError { field, message });
        }
        for p in items.map(AddressPattern::parse) {
            if let AddressPattern::Wildcard(w) = &p {
                let stars = w.matches('*').count();
                if stars > MAX_WILDCARDS {
                    let message = format!(
                        "'{w}' holds {stars} wildcards (*), more than the {MAX_WILDCARDS} a pattern may hold: \
                         keep the parts that tell the address apart and join them with fewer *"
                    );
                    return Err(CriteriaError { field, message });
                }
            }
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// An id as people paste it, as it is logged: without surrounding spaces, a `Message-ID:`
/// (or `Queue-ID:`) header name, or angle brackets (`Message-ID: <a@b>` is `a@b`).
pub fn clean_id(text: &str) -> String {
    let mut t = text.trim();
    for name in ["message-id:", "queue-id:", "queue id:"] {
        if t.len() >= name.len() && t.is_char_boundary(name.len()) && t[..name.len()].eq_ignore_ascii_case(name) {
            t = t[name.len()..].trim();
        }
    }
    let t = t.strip_prefix('<').map_or(t, |r| r.strip_suffix('>').unwrap_or(r));
    t.trim().to_string()
}

/// The upper-case form of a Postfix queue id typed in lower case (`3ce6b37c010`): only ids of
/// hexadecimal digits with a letter, which is what Postfix's short queue ids are (its long
/// ones, and Exim's, mix cases and are left alone).
pub fn upper_queue_id(id: &str) -> Option<String> {
    let hex = id.len() >= 5 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && id.bytes().any(|b| b.is_ascii_lowercase())).then(|| id.to_ascii_uppercase())
}

/// A criterion that cannot be read: which one (its CLI name with `_`, as the web API spells
/// it) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriteriaError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for CriteriaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for CriteriaError {}

/// Tokens longer than this are not words (base64 runs, hashes): the index skips them too.
pub const MAX_WORD_BYTES: usize = 255;

/// The words of a text as subjects are searched: runs of letters and digits, lowercased.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= MAX_WORD_BYTES)
        .map(|w| {
            if w.is_ascii() {
                w.to_ascii_lowercase()
            } else {
                w.chars().flat_map(char::to_lowercase).collect()
            }
        })
        .collect()
}

/// The texts a subject is searched in: as logged and, for an RFC 2047 encoded subject
/// (`=?UTF-8?B?…?=`), decoded.
pub fn subject_texts(subject: &str) -> Vec<String> {
    let mut texts = vec![subject.to_string()];
    if subject.contains("=?") {
        if let Ok(decoded) = rfc2047_decoder::decode(subject.as_bytes()) {
            if decoded != subject {
                texts.push(decoded);
            }
        }
    }
    texts
}

/// Whether `phrase` occurs in `text` as consecutive words, the last one as a prefix.
pub fn phrase_prefix(text: &[String], phrase: &[String]) -> bool {
    let Some((last, head)) = phrase.split_last() else {
        return true;
    };
    text.windows(phrase.len())
        .any(|w| w[..head.len()] == *head && w[head.len()].starts_with(last.as_str()))
}

/// Parses a duration: a number and its unit, `30m`, `24h`, `7d`, `2w`, `90s`, also written
/// out (`2 hours`, `3 days`, `90 min`). A number alone is refused: its unit is not obvious.
pub fn parse_last(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: use e.g. 30m, 24h, 7d"))?;
    let seconds: i64 = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        "" => {
            return Err(format!(
                "'{text}' has no unit: say {n}h for hours, {n}d for days, {n}m for minutes"
            ))
        }
        _ => return Err(format!("unknown unit in '{text}': use s, m, h, d or w")),
    };
    // a duration beyond any log (and beyond chrono's range) is a mistake, not a window
    n.checked_mul(seconds)
        .filter(|&s| s <= MAX_DURATION_SECONDS)
        .map(chrono::Duration::seconds)
        .ok_or_else(|| format!("'{text}' is longer than 100 years: use e.g. 30m, 24h, 7d"))
}

/// The longest duration `last` and `ago` take: 100 years.
const MAX_DURATION_SECONDS: i64 = 100 * 366 * 86_400;

/// Parses a time as `--since` and `--until` take it: what [`parse_time`] reads, or a time
/// relative to `now`: `now`, `today` and `yesterday` (their midnight in `zone`), or a duration
/// ago (`2h ago`, `2 hours ago`, `3 days ago`).
pub fn parse_when(text: &str, zone: &crate::syslog::Zone, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim().to_ascii_lowercase();
    let midnight = |days_back: i64| {
        let date = zone.to_local(now).date() - chrono::Duration::days(days_back);
        zone.to_utc(date.and_hms_opt(0, 0, 0).expect("midnight"))
    };
    match t.as_str() {
        "now" => return Ok(now),
        "today" => return Ok(midnight(0)),
        "yesterday" => return Ok(midnight(1)),
        _ => {}
    }
    if let Some(d) = t.strip_suffix("ago") {
        return parse_last(d).map(|d| now - d).map_err(|e| format!("{e} (in '{text}')"));
    }
    parse_time(text, zone).map_err(|_| {
        format!(
            "'{}' is not a time: use 2026-11-23T10:00:00Z, '2026-11-23 10:00', 2026-11-23, today, \
             yesterday or '2h ago'",
            text.trim()
        )
    })
}

/// Parses RFC 3339 (`2026-11-23T10:00:00Z`) or `2026-11-23 10:00[:ss]` / `2026-11-23` read in
/// `zone`.
pub fn parse_time(text: &str, zone: &crate::syslog::Zone) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(text, fmt) {
            return Ok(zone.to_utc(n));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(zone.to_utc(d.and_hms_opt(0, 0, 0).expect("midnight")));
    }
    Err(format!(
        "'{text}' is not a time: use 2026-11-23T10:00:00Z, '2026-11-23 10:00' or 2026-11-23"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_patterns() {
        assert!(AddressPattern::parse("Alice@Example.com").matches("alice@example.COM"));
        assert!(AddressPattern::parse("@example.com").matches("bob@mail.example.com"));
        assert!(!AddressPattern::parse("@example.com").matches("bob@badexample.com"));
        assert!(AddressPattern::parse("*invoice*@*.ru").matches("noreply-invoice7@x.ru"));
        assert!(!AddressPattern::parse("a*c").matches("abd"));
        assert!(AddressPattern::parse("<>").matches(""));
        assert!(!AddressPattern::parse("<>").matches("a@b"));
    }

    #[test]
    fn subject_words_and_phrases() {
        let mut c = Criteria {
            subject: vec!["invoice".into()],
            ..Criteria::default()
        };
        let mut t = Trace::new("t".into(), "h", chrono::Utc::now());
        t.subject = Some("Your INVOICES for order 1234-X".into());
        assert!(c.matches_trace(&t));
        c.subject = vec!["order 12".into(), "your".into()];
        assert!(c.matches_trace(&t));
        c.subject = vec!["voice".into()];
        assert!(!c.matches_trace(&t), "words match from their start");
        c.subject = vec!["for your".into()];
        assert!(!c.matches_trace(&t), "a phrase keeps its order");
        t.subject = Some("=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=".into());
        c.subject = vec!["grüße aus".into()];
        assert!(c.matches_trace(&t), "encoded subjects are searched decoded");
        assert_eq!(words("Straße-ÄRGER x"), vec!["straße", "ärger", "x"]);
    }

    #[test]
    fn criteria_from_text() {
        let z = crate::syslog::Zone::Utc;
        let now = parse_time("2026-11-24T12:00:00Z", &z).unwrap();
        let text = CriteriaText {
            to: vec!["@Example.com".into()],
            status: vec!["bounced,deferred".into(), "in-progress".into(), "bounced".into()],
            direction: Some("inbound".into()),
            last: Some("24h".into()),
            client_ip: Some("192.0.2.0/24".into()),
            ..CriteriaText::default()
        };
        let c = text.parse(&z, now).unwrap();
        assert_eq!(c.statuses, vec![Status::Bounced, Status::Deferred, Status::InProgress]);
        assert_eq!(c.to, [AddressPattern::Domain("example.com".into())]);
        assert!(c.from.is_empty());
        assert_eq!(c.direction, Some(Direction::Inbound));
        assert_eq!(c.since.unwrap().to_rfc3339(), "2026-11-23T12:00:00+00:00");
        let bad = |t: CriteriaText| t.parse(&z, now).unwrap_err();
        let e = bad(CriteriaText {
            status: vec!["lost".into()],
            ..CriteriaText::default()
        });
        assert_eq!(e.field, "status");
        assert!(e.message.contains("'lost' is not one of delivered"), "{e}");
        assert_eq!(
            bad(CriteriaText {
                since: Some("2026-11-01".into()),
                last: Some("1h".into()),
                ..CriteriaText::default()
            })
            .field,
            "last"
        );
        assert_eq!(
            bad(CriteriaText {
                subject: vec!["--".into()],
                ..CriteriaText::default()
            })
            .to_string(),
            "subject: '--' has no word to look for: give letters or digits"
        );
        assert_eq!(
            bad(CriteriaText {
                client_ip: Some("x".into()),
                ..CriteriaText::default()
            })
            .field,
            "client_ip"
        );
    }

    #[test]
    fn address_lists_from_text() {
        let parse = |from: &[&str]| {
            CriteriaText {
                from: from.iter().map(|s| s.to_string()).collect(),
                ..CriteriaText::default()
            }
            .parse(&crate::syslog::Zone::Utc, Utc::now())
        };
        let c = parse(&["a@x.example, @Y.org", " <>,, ", "*@*.ru,a@x.example,"]).unwrap();
        assert_eq!(
            c.from,
            [
                AddressPattern::Exact("a@x.example".into()),
                AddressPattern::Domain("y.org".into()),
                AddressPattern::NullSender,
                AddressPattern::Wildcard("*@*.ru".into()),
            ]
        );
        assert_eq!(
            parse(&["a@x.example", " , "]).unwrap_err().to_string(),
            "from: ' , ' names no address (the null sender is <>)"
        );
        assert_eq!(
            parse(&[""]).unwrap_err().to_string(),
            "from: '' names no address (the null sender is <>)"
        );
    }

    #[test]
    fn wildcards_run_together_are_one_and_a_pattern_holds_at_most_sixteen() {
        let parse = |from: &str| {
            CriteriaText {
                from: vec![from.to_string()],
                ..CriteriaText::default()
            }
            .parse(&crate::syslog::Zone::Utc, Utc::now())
        };
        assert_eq!(
            parse("**a***@*.ru").unwrap().from,
            [AddressPattern::Wildcard("*a*@*.ru".into())]
        );
        let sixteen = "*a".repeat(16);
        assert_eq!(
            parse(&sixteen).unwrap().from,
            [AddressPattern::Wildcard(sixteen.clone())]
        );
        assert_eq!(
            parse(&format!("{sixteen}*")).unwrap_err().to_string(),
            format!(
                "from: '{sixteen}*' holds 17 wildcards (*), more than the 16 a pattern may hold: \
                 keep the parts that tell the address apart and join them with fewer *"
            )
        );
    }

    #[test]
    fn an_address_list_matches_any_of_its_patterns() {
        let mut t = Trace::new("t".into(), "h", chrono::Utc::now());
        t.from = Some("carol@mail.y.org".into());
        t.recipients = vec![Recipient::new("ann@example.com"), Recipient::new("bob@example.com")];
        t.recipients[1].orig_to = Some("sales@example.com".into());
        let list = |text: &str| text.split(',').map(AddressPattern::parse).collect::<Vec<_>>();
        let mut c = Criteria {
            from: list("a@x.example,@y.org"),
            ..Criteria::default()
        };
        assert!(c.matches_trace(&t));
        c.from = list("a@x.example,*@y.org");
        assert!(!c.matches_trace(&t), "no pattern of the list matches");
        c.from = Vec::new();
        c.to = list("nobody@example.com,ANN@example.com");
        assert_eq!(c.rows(&t), [Some(0)]);
        c.to = list("ann@example.com,sales@example.com");
        assert_eq!(c.rows(&t), [Some(0), Some(1)], "the original recipient too");
        c.to = list("x@example.com,y@example.com");
        assert!(c.rows(&t).is_empty());
        assert!(!c.only_time());
    }

    #[test]
    fn times_relative_to_now() {
        let berlin = crate::syslog::Zone::parse("Europe/Berlin").unwrap();
        let now = parse_time("2026-11-24T00:30:00Z", &crate::syslog::Zone::Utc).unwrap();
        let at = |t: &str, z: &crate::syslog::Zone| parse_when(t, z, now).map(|t| t.to_rfc3339());
        let utc = crate::syslog::Zone::Utc;
        assert_eq!(at("today", &utc).unwrap(), "2026-11-24T00:00:00+00:00");
        assert_eq!(at("Yesterday", &utc).unwrap(), "2026-11-23T00:00:00+00:00");
        // 01:30 in Berlin: today began at 23:00 UTC
        assert_eq!(at("today", &berlin).unwrap(), "2026-11-23T23:00:00+00:00");
        assert_eq!(at("2h ago", &utc).unwrap(), "2026-11-23T22:30:00+00:00");
        assert_eq!(at("2 hours ago", &utc).unwrap(), "2026-11-23T22:30:00+00:00");
        assert_eq!(at("3 days ago", &utc).unwrap(), "2026-11-21T00:30:00+00:00");
        assert_eq!(at("now", &utc).unwrap(), "2026-11-24T00:30:00+00:00");
        assert_eq!(at("2026-11-20", &utc).unwrap(), "2026-11-20T00:00:00+00:00");
        assert!(at("2 ago", &utc).unwrap_err().contains("has no unit"));
        assert!(at("last tuesday", &utc)
            .unwrap_err()
            .contains("today, yesterday or '2h ago'"));
        // an inverted window is refused, naming --until
        let text = CriteriaText {
            since: Some("today".into()),
            until: Some("yesterday".into()),
            ..CriteriaText::default()
        };
        let e = text.parse(&utc, now).unwrap_err();
        assert_eq!(e.field, "until");
        assert!(e.message.contains("before it starts"), "{e}");
        let last = CriteriaText {
            last: Some("48".into()),
            ..CriteriaText::default()
        };
        assert_eq!(last.parse(&utc, now).unwrap_err().field, "last");
    }

    #[test]
    fn a_bare_domain_is_pointed_out() {
        let c = Criteria {
            to: vec![AddressPattern::parse("example.com")],
            from: vec![AddressPattern::parse("@example.org"), AddressPattern::parse("y.org")],
            ..Criteria::default()
        };
        assert_eq!(
            c.likely_mistakes(),
            [
                "--from y.org matches the whole address 'y.org': for its domain, give --from @y.org.",
                "--to example.com matches the whole address 'example.com': for its domain, give --to @example.com."
            ]
        );
        let fine = Criteria {
            to: vec![AddressPattern::parse("bob@example.com")],
            from: vec![AddressPattern::parse("postmaster")],
            ..Criteria::default()
        };
        assert!(fine.likely_mistakes().is_empty());
    }

    #[test]
    fn a_window_outside_what_was_searched_is_pointed_out() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let held = (t("2026-11-24T00:00:00Z"), t("2026-11-24T23:58:00Z"));
        let window = |since: Option<&str>, until: Option<&str>| Criteria {
            since: since.map(t),
            until: until.map(t),
            ..Criteria::default()
        };
        assert_eq!(
            window(Some("2026-01-01T00:00:00Z"), Some("2026-01-02T00:00:00Z")).window_misses(held, "the store"),
            Some(
                "The window asked, 2026-01-01 00:00 to 2026-01-02 00:00 (UTC), is before anything in the store: \
                 2026-11-24 00:00 to 2026-11-24 23:58."
                    .into()
            )
        );
        assert_eq!(
            window(Some("2026-12-01T00:00:00Z"), None).window_misses(held, "the files read"),
            Some(
                "The window asked, 2026-12-01 00:00 to … (UTC), is after anything in the files read: \
                 2026-11-24 00:00 to 2026-11-24 23:58."
                    .into()
            )
        );
        // overlapping, or no window: nothing to say
        assert_eq!(
            window(Some("2026-11-24T12:00:00Z"), Some("2026-12-24T00:00:00Z")).window_misses(held, "x"),
            None
        );
        assert_eq!(
            window(None, Some("2026-11-24T00:00:00Z")).window_misses(held, "x"),
            None
        );
        assert_eq!(window(None, None).window_misses(held, "x"), None);
    }

    #[test]
    fn ids_as_people_paste_them() {
        assert_eq!(
            clean_id("  Message-ID: <20261124.7781@woodgrove.example> "),
            "20261124.7781@woodgrove.example"
        );
        assert_eq!(clean_id("message-id:<a@b>"), "a@b");
        assert_eq!(clean_id("<a@b>"), "a@b");
        assert_eq!(clean_id(" 3CE6B37C010\n"), "3CE6B37C010");
        assert_eq!(clean_id("Queue-ID: 3CE6B37C010"), "3CE6B37C010");
        assert_eq!(clean_id("<>"), "");
        assert_eq!(upper_queue_id("3ce6b37c010"), Some("3CE6B37C010".into()));
        assert_eq!(upper_queue_id("3CE6B37C010"), None);
        assert_eq!(
            upper_queue_id("4dHrZq5GkWz1Mnb"),
            None,
            "a long queue id keeps its case"
        );
        assert_eq!(upper_queue_id("1yBeCd-000abc-Zz"), None);
        assert_eq!(upper_queue_id("12345"), None);
        let c = CriteriaText {
            queue_id: Some(" 3ce6b37c010 ".into()),
            message_id: Some("Message-ID: <x@y>".into()),
            ..CriteriaText::default()
        }
        .parse(&crate::syslog::Zone::Utc, Utc::now())
        .unwrap();
        assert_eq!(
            (c.queue_id.as_deref(), c.message_id.as_deref()),
            (Some("3CE6B37C010"), Some("x@y"))
        );
        let e = CriteriaText {
            message_id: Some("<>".into()),
            ..CriteriaText::default()
        }
        .parse(&crate::syslog::Zone::Utc, Utc::now())
        .unwrap_err();
        assert_eq!(e.to_string(), "message_id: '<>' names no id");
    }

    #[test]
    fn ip_and_time() {
        assert!(IpFilter::parse("192.0.2.0/24").unwrap().matches("192.0.2.9"));
        assert!(!IpFilter::parse("192.0.2.1").unwrap().matches("192.0.2.9"));
        assert!(IpFilter::parse("nope").is_err());
        assert_eq!(parse_last("24h").unwrap(), chrono::Duration::hours(24));
        assert_eq!(parse_last("2 hours").unwrap(), chrono::Duration::hours(2));
        assert_eq!(parse_last("90 Min").unwrap(), chrono::Duration::minutes(90));
        assert!(parse_last("3y").is_err());
        assert_eq!(
            parse_last("24").unwrap_err(),
            "'24' has no unit: say 24h for hours, 24d for days, 24m for minutes"
        );
        let z = crate::syslog::Zone::Utc;
        assert_eq!(
            parse_time("2026-11-23 10:00", &z).unwrap().to_rfc3339(),
            "2026-11-23T10:00:00+00:00"
        );
    }
}
