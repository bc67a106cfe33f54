//! Agreement with `../shared/eval-sample/postfix/truth.jsonl`: every recipient's status, and
//! the message fields the truth records.

mod common;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use mailtrace::app::{find, Common};
use mailtrace::output::Row;
use mailtrace::query::Criteria;
use serde_json::Value;

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Times agree within a millisecond (the truth rounds microseconds differently).
fn close(a: &Value, b: &str) -> bool {
    match (time(a), DateTime::parse_from_rfc3339(b)) {
        (Some(a), Ok(b)) => (a - b.with_timezone(&Utc))
            .num_microseconds()
            .is_some_and(|d| d.abs() <= 1000),
        _ => false,
    }
}

#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn postfix_sample_agrees_with_truth() {
    let Some(dir) = common::shared("eval-sample/postfix") else {
        return;
    };
    let common = Common {
        logs: vec![dir.join("mail.log")],
        year: Some(2026),
        timezone: Some("UTC".into()),
        ..Common::default()
    };
    let found = find(&common, &Criteria::default()).unwrap();
    let stats = &found.stats;
    let rows: Vec<Row> = found.matches.iter().flat_map(|m| m.to_rows()).collect();

    // queued messages by (queue_id, recipient); before-queue rejects by (recipient, second)
    let mut by_key: HashMap<(String, String), &Row> = HashMap::new();
    for r in &rows {
        let to = r.to.clone().unwrap_or_default().to_lowercase();
        let key = match &r.queue_id {
            Some(q) => (q.clone(), to),
            None => (format!("NOQUEUE@{}", &r.time[..19]), to),
        };
        by_key.insert(key, r);
    }

    let truth = std::fs::read_to_string(dir.join("truth.jsonl")).unwrap();
    let (mut total, mut agree) = (0usize, 0usize);
    let mut field_errors: Vec<String> = Vec::new();
    let mut status_errors: Vec<String> = Vec::new();
    for line in truth.lines() {
        let m: Value = serde_json::from_str(line).unwrap();
        for rcpt in m["recipients"].as_array().unwrap() {
            total += 1;
            let addr = rcpt["address"].as_str().unwrap().to_lowercase();
            let key = match m["queue_id"].as_str() {
                Some(q) => (q.to_string(), addr.clone()),
                None => (
                    format!("NOQUEUE@{}", &m["first_time"].as_str().unwrap()[..19]),
                    addr.clone(),
                ),
            };
            let Some(row) = by_key.get(&key) else {
                status_errors.push(format!("{key:?}: no row (truth {})", rcpt["status"]));
                continue;
            };
            // the truth's vocabulary has no `spam`: a copy filed as spam was delivered
            let status = if row.status == "spam" {
                "delivered"
            } else {
                row.status.as_str()
            };
            if rcpt["status"].as_str() == Some(status) {
                agree += 1;
            } else {
                status_errors.push(format!("{key:?}: truth {} got {}", rcpt["status"], row.status));
            }
            let mut check = |name: &str, want: &Value, got: Option<&str>| {
                if want.as_str() != got {
                    field_errors.push(format!("{key:?} {name}: truth {want} got {got:?}"));
                }
            };
            check("dsn", &rcpt["dsn"], row.dsn.as_deref());
            check("relay", &rcpt["relay"], row.relay.as_deref());
            check(
                "orig_to",
                rcpt.get("orig_to").unwrap_or(&Value::Null),
                row.orig_to.as_deref(),
            );
            check("message_id", &m["message_id"], row.message_id.as_deref());
            check("from", &m["from"], row.from.as_deref());
            check("subject", &m["subject"], row.subject.as_deref());
            check("client_ip", &m["client_ip"], row.client_ip.as_deref());
            if let Some(sasl) = m.get("sasl_username") {
                check("sasl_user", sasl, row.sasl_user.as_deref());
            }
            if !close(&m["first_time"], &row.time) || !close(&m["last_time"], &row.last_time) {
                field_errors.push(format!(
                    "{key:?} times: truth {}..{} got {}..{}",
                    m["first_time"], m["last_time"], row.time, row.last_time
                ));
            }
            if let Some(re) = m["reinjected_queue_id"].as_str() {
                if !row.queue_ids.iter().any(|q| q == re) {
                    field_errors.push(format!("{key:?} re-injected id {re} not linked: {:?}", row.queue_ids));
                }
            }
        }
    }
    let pct = 100.0 * agree as f64 / total as f64;
    eprintln!("eval-sample/postfix: {agree}/{total} recipients agree ({pct:.3}%), {} field differences, {} unrecognised lines", field_errors.len(), stats.unrecognised());
    for e in status_errors.iter().take(20) {
        eprintln!("  status: {e}");
    }
    for e in field_errors.iter().take(20) {
        eprintln!("  field: {e}");
    }
    assert!(total > 3000, "truth has {total} recipients");
    assert!(pct >= 99.0, "status agreement {pct:.3}% < 99%");
    assert!(
        field_errors.len() * 100 <= total,
        "{} field differences",
        field_errors.len()
    );
    // every row the tool printed is a recipient the truth knows
    assert_eq!(rows.len(), total, "rows printed vs recipients in truth");

    // Dovecot: each `saved mail to` / `stored mail into` line names the folder of the one
    // recipient Postfix delivered over LMTP in that session; a copy is `spam` exactly when it
    // went to Junk or amavis passed it as SPAM
    let log = std::fs::read(dir.join("mail.log")).unwrap();
    let filed = String::from_utf8_lossy(&log)
        .lines()
        .filter(|l| {
            l.contains(" dovecot: lmtp(") && (l.contains(": saved mail to ") || l.contains(": stored mail into "))
        })
        .count();
    let lmtp: Vec<&Row> = rows
        .iter()
        .filter(|r| r.relay.as_deref().is_some_and(|x| x.contains("dovecot-lmtp")))
        .filter(|r| r.status == "delivered" || r.status == "spam")
        .collect();
    assert!(filed > 1000, "{filed} Dovecot lines");
    assert_eq!(lmtp.len(), filed, "LMTP deliveries vs Dovecot's lines");
    for r in &lmtp {
        let junk = r.folder.as_deref() == Some("Junk");
        assert!(r.folder.is_some(), "{:?} {:?}: no folder", r.queue_id, r.to);
        let tagged = r.spam_verdict.as_deref() == Some("SPAM");
        assert_eq!(r.status == "spam", junk || tagged, "{:?} {:?}", r.queue_id, r.to);
    }
}

/// Exim: every recipient's status, and the fields the truth records, from the main log alone.
#[test]
#[cfg_attr(
    no_shared,
    ignore = "needs ../shared (the corpus and eval-sample) beside the checkout"
)]
fn exim_sample_agrees_with_truth() {
    let Some(dir) = common::shared("eval-sample/exim") else {
        return;
    };
    // Exim's own main log names no host: the truth's host is given as the default
    let common = Common {
        logs: vec![dir.join("mainlog")],
        timezone: Some("UTC".into()),
        default_host: Some("mx1".into()),
        ..Common::default()
    };
    let found = find(&common, &Criteria::default()).unwrap();
    let rows: Vec<Row> = found.matches.iter().flat_map(|m| m.to_rows()).collect();
    let mut queued: HashMap<(String, String), &Row> = HashMap::new();
    let mut rejected: HashMap<(Option<String>, String, String), &Row> = HashMap::new();
    for r in &rows {
        let to = r.to.clone().unwrap_or_default().to_ascii_lowercase();
        match &r.queue_id {
            Some(q) => queued.insert((q.clone(), to), r),
            None => rejected.insert((r.from.clone(), to, r.time.clone()), r),
        };
    }
    let truth = std::fs::read_to_string(dir.join("truth.jsonl")).unwrap();
    let (mut total, mut agree) = (0, 0);
    let mut differences: HashMap<&str, usize> = HashMap::new();
    for line in truth.lines() {
        let t: Value = serde_json::from_str(line).unwrap();
        for rc in t["recipients"].as_array().unwrap() {
            total += 1;
            let address = rc["address"].as_str().unwrap().to_ascii_lowercase();
            let row = match t["queue_id"].as_str() {
                Some(q) => queued.get(&(q.to_string(), address)),
                None => rejected.get(&(
                    t["from"].as_str().map(str::to_string),
                    address,
                    t["first_time"].as_str().unwrap().to_string(),
                )),
            };
            let Some(r) = row else { continue };
            if r.status != rc["status"].as_str().unwrap() {
                continue;
            }
            agree += 1;
            let mut differ = |what: &'static str, ok: bool| {
                if !ok {
                    *differences.entry(what).or_default() += 1;
                }
            };
            differ("mta", r.mta == "exim");
            differ("host", Some(r.host.as_str()) == t["host"].as_str());
            differ("dsn", r.dsn.as_deref() == rc["dsn"].as_str());
            differ("relay", r.relay.as_deref() == rc["relay"].as_str());
            differ(
                "orig_to",
                r.orig_to.as_deref() == rc.get("orig_to").and_then(Value::as_str),
            );
            differ("from", r.from.as_deref() == t["from"].as_str());
            differ("message_id", r.message_id.as_deref() == t["message_id"].as_str());
            differ("subject", r.subject.as_deref() == t["subject"].as_str());
            differ("client_ip", r.client_ip.as_deref() == t["client_ip"].as_str());
        }
    }
    let pct = 100.0 * agree as f64 / total as f64;
    eprintln!("exim: {agree}/{total} recipients agree ({pct:.3} %); field differences: {differences:?}");
    assert!(pct >= 99.0, "{agree}/{total} = {pct:.2} %");
    assert!(differences.is_empty(), "{differences:?}");
}
