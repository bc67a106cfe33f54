//! Search criteria as text, as `search`'s options and the API's parameters give them: the
//! input is the fields, NUL-separated (from, to, subject, message_id, queue_id, status,
//! direction, client_ip, host, since, until, last, auth_fail, folder, timezone, flags).
//! Invariants: text that cannot be read is an error naming the criterion, never a panic; read
//! criteria build the store's query, the ClickHouse filter and the checks on a trace, and a
//! window never ends before it starts.

use chrono::{TimeZone, Utc};
use mailtrace::query::{AddressPattern, CriteriaText};
use mailtrace::store::clickhouse::filter::Filter;
use mailtrace::store::criteria::row_query;
use mailtrace::store::schema::Fields;
use mailtrace::syslog::Zone;

const NAMES: &[&str] = &[
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
    "auth_fail",
    "folder",
];

pub fn run(data: &[u8]) {
    let f = super::fields(data, 16);
    let get = |i: usize| f.get(i).cloned();
    let list = |i: usize| get(i).into_iter().collect::<Vec<_>>();
    let flags = f.get(15).and_then(|s| s.bytes().next()).unwrap_or(0);
    let text = CriteriaText {
        from: list(0),
        to: list(1),
        subject: list(2),
        message_id: get(3),
        queue_id: get(4),
        status: list(5),
        direction: get(6),
        client_ip: get(7),
        host: get(8),
        since: get(9),
        until: get(10),
        last: get(11),
        auth_fail: list(12),
        folder: get(13),
        spam: flags & 1 != 0,
        virus: flags & 2 != 0,
        end_to_end: flags & 4 != 0,
    };
    let zone = get(14).and_then(|z| Zone::parse(&z).ok()).unwrap_or(Zone::Utc);
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
    let c = match text.parse(&zone, now) {
        Ok(c) => c,
        Err(e) => {
            assert!(NAMES.contains(&e.field), "error for an unknown criterion {:?}", e.field);
            assert!(!e.message.is_empty());
            return;
        }
    };
    if let (Some(s), Some(u)) = (c.since, c.until) {
        assert!(s <= u, "the window ends before it starts");
    }
    let _ = c.likely_mistakes();
    let _ = c.window_misses((now - chrono::Duration::days(1), now), "the store");
    static SAMPLE: std::sync::OnceLock<(Vec<mailtrace::trace::Trace>, Fields)> = std::sync::OnceLock::new();
    let (traces, fields) = SAMPLE.get_or_init(|| (super::sample_traces(), Fields::schema().1));
    for t in traces {
        if c.matches_trace(t) {
            let _ = c.rows(t);
        }
    }
    for p in c.from.iter().chain(&c.to) {
        let _ = p.matches("b@example.com");
        let _ = AddressPattern::any(std::slice::from_ref(p), "<>");
    }
    let _ = row_query(fields, &c);
    super::clickhouse_sql::check_sql(&Filter::of(&c).trace);
    super::clickhouse_sql::check_sql(&Filter::of(&c).rows);
}
