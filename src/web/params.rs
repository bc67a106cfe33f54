//! Query parameters of the API: the CLI's criteria under the CLI's names (`message_id` or
//! `message-id`, …), plus `historical`, `limit` and `timezone`. Criteria are handed to
//! [`CriteriaText::parse`], the parser the CLI uses too; this module only collects the text.
//!
//! Rules: an empty value counts as not given (`from=<>` asks for the null sender); `subject`
//! repeats, and `from`, `to`, `status` and `auth_fail` repeat or take a comma list (any of
//! them); any other name given twice, or a name the API does not know, is an error (a typo
//! must not widen a search silently).

use crate::app::Common;
use crate::query::{Criteria, CriteriaText};

/// Rows a search returns unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 1000;
/// The most rows one request may ask for.
pub const MAX_LIMIT: usize = 10_000;

/// The parameters every search-like endpoint takes (the names, for error messages and docs).
pub const NAMES: [&str; 20] = [
    "from",
    "to",
    "subject",
    "message_id",
    "queue_id",
    "status",
    "direction",
    "client_ip",
    "host",
    "since",
    "until",
    "last",
    "spam",
    "virus",
    "auth_fail",
    "folder",
    "historical",
    "limit",
    "timezone",
    "end_to_end",
];

/// A request's search: the criteria, the options and the `Common` to read with.
pub struct Search {
    /// The server's options, with the request's `historical` and `timezone`.
    pub common: Common,
    pub criteria: Criteria,
    /// Rows to return at most.
    pub limit: usize,
}

/// A parameter that cannot be read: which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.param, self.message)
    }
}

fn error(param: &str, message: impl Into<String>) -> ParamError {
    ParamError {
        param: param.to_string(),
        message: message.into(),
    }
}

/// A yes/no parameter.
fn flag(param: &str, value: &str) -> Result<bool, ParamError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(error(param, format!("'{value}' is not true or false"))),
    }
}

/// Reads a query string (`to=a%40b.com&status=bounced,deferred`) against the server's
/// `common`; `default_limit` when `limit` is not given.
pub fn parse(query: &str, common: &Common, default_limit: usize) -> Result<Search, ParamError> {
    let mut text = CriteriaText::default();
    let mut common = common.clone();
    let mut limit = default_limit;
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let key = key.replace('-', "_");
        let value = value.into_owned();
        if !NAMES.contains(&key.as_str()) {
            let shown: String = key.chars().take(40).collect();
            return Err(error(
                &shown,
                format!("unknown parameter; the API takes {}", NAMES.join(", ")),
            ));
        }
        let repeats = matches!(key.as_str(), "from" | "to" | "subject" | "status" | "auth_fail");
        if !repeats && seen.contains(&key) {
            return Err(error(&key, "given more than once"));
        }
        seen.push(key.clone());
        if value.trim().is_empty() {
            continue;
        }
        let slot = match key.as_str() {
            "from" => {
                text.from.push(value);
                continue;
            }
            "to" => {
                text.to.push(value);
                continue;
            }
            "subject" => {
                text.subject.push(value);
                continue;
            }
            "status" => {
                text.status.push(value);
                continue;
            }
            "auth_fail" => {
                text.auth_fail.push(value);
                continue;
            }
            "historical" => {
                common.historical = flag("historical", &value)?;
                continue;
            }
            "spam" => {
                text.spam = flag("spam", &value)?;
                continue;
            }
            "virus" => {
                text.virus = flag("virus", &value)?;
                continue;
            }
            "end_to_end" => {
                text.end_to_end = flag("end_to_end", &value)?;
                continue;
            }
            "limit" => {
                limit = match value.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                    _ => {
                        return Err(error(
                            "limit",
                            format!("'{value}' is not a number of rows from 1 to {MAX_LIMIT}"),
                        ))
                    }
                };
                continue;
            }
            "timezone" => {
                crate::syslog::Zone::parse(value.trim()).map_err(|e| error("timezone", e))?;
                common.timezone = Some(value.trim().to_string());
                continue;
            }
            "message_id" => &mut text.message_id,
            "queue_id" => &mut text.queue_id,
            "direction" => &mut text.direction,
            "client_ip" => &mut text.client_ip,
            "host" => &mut text.host,
            "since" => &mut text.since,
            "until" => &mut text.until,
            "last" => &mut text.last,
            "folder" => &mut text.folder,
            _ => unreachable!("every name of NAMES is handled"),
        };
        *slot = Some(value);
    }
    let zone = common.zone().map_err(|e| error("timezone", format!("{e:#}")))?;
    let now = common.now.unwrap_or_else(chrono::Utc::now);
    let criteria = text.parse(&zone, now).map_err(|e| error(e.field, e.message))?;
    Ok(Search {
        common,
        criteria,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Status;

    fn common() -> Common {
        Common {
            timezone: Some("UTC".into()),
            ..Common::default()
        }
    }

    #[test]
    fn names_and_values() {
        let s = parse(
            "to=bob%40example.com&status=bounced,deferred&status=expired&subject=order+12&subject=x&message-id=&historical=1&limit=5",
            &common(),
            DEFAULT_LIMIT,
        )
        .unwrap();
        assert_eq!(
            s.criteria.statuses,
            vec![Status::Bounced, Status::Deferred, Status::Expired]
        );
        assert_eq!(s.criteria.subject, vec!["order 12", "x"]);
        assert_eq!(s.criteria.message_id, None);
        assert!(s.common.historical);
        assert_eq!(s.limit, 5);
        let s = parse("since=2026-11-24+10:00&timezone=Europe/Berlin", &common(), 7).unwrap();
        assert_eq!(s.criteria.since.unwrap().to_rfc3339(), "2026-11-24T09:00:00+00:00");
        assert_eq!(s.limit, 7);
    }

    #[test]
    fn addresses_repeat_and_take_comma_lists() {
        use crate::query::AddressPattern;
        let s = parse(
            "to=a%40x.example,+%40y.org&to=&to=b%40z.example&from=%3C%3E&from=c%40x.example",
            &common(),
            DEFAULT_LIMIT,
        )
        .unwrap();
        assert_eq!(
            s.criteria.to,
            [
                AddressPattern::Exact("a@x.example".into()),
                AddressPattern::Domain("y.org".into()),
                AddressPattern::Exact("b@z.example".into()),
            ]
        );
        assert_eq!(
            s.criteria.from,
            [AddressPattern::NullSender, AddressPattern::Exact("c@x.example".into())]
        );
    }

    #[test]
    fn errors_name_the_parameter() {
        let e = |q: &str| parse(q, &common(), DEFAULT_LIMIT).err().unwrap();
        assert_eq!(e("sender=a").param, "sender");
        assert_eq!(e("host=a&host=b").param, "host");
        assert_eq!(e("to=a&to=%2C").param, "to");
        assert_eq!(e("limit=0").param, "limit");
        assert_eq!(e("limit=10001").param, "limit");
        assert_eq!(e("status=lost").param, "status");
        assert_eq!(e("since=last+tuesday").param, "since");
        assert_eq!(e("since=today&until=yesterday").param, "until");
        assert_eq!(e("end_to_end=maybe").param, "end_to_end");
        assert_eq!(e("timezone=Mars/Olympus").param, "timezone");
        assert_eq!(e("historical=maybe").param, "historical");
    }
}
