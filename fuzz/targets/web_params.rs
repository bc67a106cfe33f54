//! The web API's query string, as `serve` reads it for `/api/search`, `/api/report` and the
//! CSV download. Invariants: a bad parameter is an error naming it (never a panic, so never a
//! 500), and a search that is read has a limit within the documented bounds.

use mailtrace::app::Common;
use mailtrace::web::params::{parse, DEFAULT_LIMIT, MAX_LIMIT};

pub fn run(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    let common = Common {
        timezone: Some("UTC".into()),
        now: Some("2026-11-24T12:00:00Z".parse().unwrap()),
        ..Common::default()
    };
    match parse(&query, &common, DEFAULT_LIMIT) {
        Ok(s) => assert!((1..=MAX_LIMIT).contains(&s.limit), "limit {}", s.limit),
        Err(e) => {
            assert!(!e.message.is_empty(), "an error says why");
            assert!(e.param.chars().count() <= 40, "the parameter's name is cut short");
        }
    }
}
