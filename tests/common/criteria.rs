//! Criteria drawn from rows, so every kind of query is checked where the data has answers:
//! shared by the tests that hold a store against `search --log`.
#![allow(dead_code)] // not every test binary uses every helper

use mailtrace::event::AuthMethod;
use mailtrace::output::Row;
use mailtrace::query::{AddressPattern, Criteria, IpFilter};
use mailtrace::trace::{Direction, Status};

/// Criteria drawn from the rows: each row's recipient, sender, domains, ids, status, client,
/// subject words and time window, and lists of addresses (with the next row's), so every kind
/// of query is checked where it has answers.
pub fn criteria_from(rows: &[Row]) -> Vec<Criteria> {
    let mut all = vec![Criteria::default()];
    all.extend(fact_criteria(rows));
    let step = (rows.len() / 25).max(1);
    for (i, r) in rows.iter().enumerate().step_by(step) {
        let next = &rows[(i + step) % rows.len()];
        all.extend(list_criteria(r, next));
        let mut add = |f: &dyn Fn(&mut Criteria)| {
            let mut c = Criteria::default();
            f(&mut c);
            all.push(c);
        };
        if let Some(to) = r.to.clone() {
            add(&|c| c.to = vec![AddressPattern::parse(&to.to_uppercase())]);
            if let Some((local, domain)) = to.rsplit_once('@') {
                let d = domain.to_string();
                add(&|c| c.to = vec![AddressPattern::parse(&format!("@{d}"))]);
                let parent = d.split_once('.').map(|x| x.1.to_string()).unwrap_or_default();
                add(&|c| c.to = vec![AddressPattern::parse(&format!("@{parent}"))]);
                let head: String = local.chars().take(2).collect();
                add(&|c| c.to = vec![AddressPattern::parse(&format!("{head}*@*"))]);
            }
        }
        if let Some(from) = r.from.clone() {
            add(&|c| c.from = vec![AddressPattern::parse(&from)]);
            let tail: String = from.chars().rev().take(4).collect::<String>().chars().rev().collect();
            add(&|c| c.from = vec![AddressPattern::parse(&format!("*{tail}"))]);
        }
        if let Some(m) = r.message_id.clone() {
            add(&|c| c.message_id = Some(format!("<{m}>")));
        }
        if let Some(q) = r.queue_ids.last().cloned() {
            add(&|c| c.queue_id = Some(q.clone()));
        }
        let status = Status::parse(&r.status).unwrap();
        add(&|c| c.statuses = vec![status, Status::Deferred]);
        if let Some(ip) = r.client_ip.clone() {
            add(&|c| c.client_ip = Some(IpFilter::parse(&ip).unwrap()));
            if ip.contains('.') {
                let net = format!("{}.0/24", ip.rsplit_once('.').unwrap().0);
                add(&|c| c.client_ip = Some(IpFilter::parse(&net).unwrap()));
            }
        }
        if let Some(s) = r.subject.clone() {
            let words = mailtrace::query::words(&s);
            if let Some(w) = words.first() {
                let prefix: String = w.chars().take(3).collect();
                add(&|c| c.subject = vec![prefix.clone()]);
            }
            if words.len() >= 2 {
                let phrase = format!("{} {}", words[0], &words[1][..words[1].len().min(2)]);
                add(&|c| c.subject = vec![phrase.clone()]);
            }
        }
        if let Some(d) = r.direction.as_deref().and_then(Direction::parse) {
            add(&|c| c.direction = Some(d));
        }
        let t = chrono::DateTime::parse_from_rfc3339(&r.time).unwrap().to_utc();
        add(&|c| {
            c.since = Some(t - chrono::Duration::minutes(30));
            c.until = Some(t + chrono::Duration::minutes(30));
        });
        // window edges to the microsecond: the store keeps the logs' fractions
        let last = chrono::DateTime::parse_from_rfc3339(&r.last_time).unwrap().to_utc();
        let micro = chrono::Duration::microseconds(1);
        add(&|c| c.since = Some(last));
        add(&|c| c.since = Some(last + micro));
        add(&|c| c.until = Some(t));
        add(&|c| c.until = Some(t - micro));
        add(&|c| c.host = Some(r.host.to_uppercase()));
    }
    all
}

/// Address lists over two rows, any of them to match: both recipients exact (or, when they
/// have the same one, one exact and a domain), a sender with a wildcard one (no look-up key),
/// and a recipient domain with a list of senders.
fn list_criteria(a: &Row, b: &Row) -> Vec<Criteria> {
    let p = |s: &str| AddressPattern::parse(s);
    let domain = |x: &str| x.rsplit_once('@').map(|(_, d)| format!("@{d}")).unwrap_or_default();
    let mut out = Vec::new();
    if let (Some(x), Some(y)) = (&a.to, &b.to) {
        let y = if x == y { domain(y) } else { y.to_uppercase() };
        out.push(Criteria {
            to: vec![p(x), p(&y)],
            ..Criteria::default()
        });
    }
    if let (Some(x), Some(y)) = (&a.from, &b.from) {
        let head: String = y.chars().take(3).collect();
        out.push(Criteria {
            from: vec![p(x), p(&format!("{head}*"))],
            ..Criteria::default()
        });
        if let Some(to) = a.to.as_deref().map(domain).filter(|d| !d.is_empty()) {
            out.push(Criteria {
                from: vec![p(x), p(y), p("<>")],
                to: vec![p(&to)],
                ..Criteria::default()
            });
        }
    }
    out
}

/// `--spam`, `--virus`, `--auth-fail` (each check, and all three), `--folder` (each folder of
/// the rows, in upper case: the match ignores case), `--status spam`, and some combined.
pub fn fact_criteria(rows: &[Row]) -> Vec<Criteria> {
    let mut all = vec![
        Criteria {
            spam: true,
            ..Criteria::default()
        },
        Criteria {
            virus: true,
            ..Criteria::default()
        },
        Criteria {
            auth_fail: vec![AuthMethod::Spf, AuthMethod::Dkim, AuthMethod::Dmarc],
            ..Criteria::default()
        },
        Criteria {
            statuses: vec![Status::Spam],
            ..Criteria::default()
        },
        Criteria {
            spam: true,
            statuses: vec![Status::Quarantined],
            ..Criteria::default()
        },
    ];
    for m in [AuthMethod::Spf, AuthMethod::Dkim, AuthMethod::Dmarc] {
        all.push(Criteria {
            auth_fail: vec![m],
            ..Criteria::default()
        });
    }
    let mut folders: Vec<String> = rows.iter().filter_map(|r| r.folder.clone()).collect();
    folders.sort();
    folders.dedup();
    for f in folders {
        all.push(Criteria {
            folder: Some(f.to_uppercase()),
            ..Criteria::default()
        });
    }
    all
}
