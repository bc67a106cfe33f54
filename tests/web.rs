//! `mailtrace serve`'s API over a store built from testdata by the binary: the same rows, trace
//! and CSV as the CLI, errors as JSON with 4xx codes, the token and Host rules, ids that look
//! like paths refused, hostile log text returned as data, and results live while `index` adds.

mod common;

use std::path::Path;
use std::process::Command;

use common::web::{cli, index, sample_store, serve, testdata, BIN};
use serde_json::Value;

/// A running server: the process (stopped when dropped) and its base URL.
struct Server {
    _process: common::web::Running,
    base: String,
}

fn start(store: &Path, extra: &[&str]) -> Server {
    let (process, base) = serve(store, extra);
    Server {
        _process: process,
        base,
    }
}

/// A response: status, headers we look at, body.
struct Got {
    status: u16,
    content_type: String,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn get_with(url: &str, headers: &[(&str, &str)]) -> Got {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut res = req.call().unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let content_type = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = res.body_mut().read_to_string().unwrap();
    Got {
        status,
        content_type,
        headers,
        body,
    }
}

fn get(url: &str) -> Got {
    get_with(url, &[])
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn search_returns_the_cli_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);

    let got = get(&format!("{}/api/search?to=marco.rossi@example.com", s.base));
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "application/json");
    let answer = got.json();
    let expected = ndjson(&cli(
        &store,
        &["search", "--to", "marco.rossi@example.com", "--format", "ndjson"],
    ));
    assert_eq!(expected.len(), 8, "the sample has eight rows for Marco");
    assert_eq!(answer["rows"], Value::Array(expected));
    assert_eq!(answer["total"], 8);
    assert_eq!(answer["truncated"], false);
    assert_eq!(answer["limit"], 1000);

    // status as a comma list or repeated, like --status twice
    let expected = ndjson(&cli(
        &store,
        &[
            "search", "--status", "bounced", "--status", "deferred", "--format", "ndjson",
        ],
    ));
    assert!(!expected.is_empty());
    for q in [
        "status=bounced,deferred",
        "status=bounced&status=deferred",
        "status=Bounced&status=deferred",
    ] {
        let answer = get(&format!("{}/api/search?{q}", s.base)).json();
        assert_eq!(answer["rows"], Value::Array(expected.clone()), "{q}");
    }
    for row in answer_rows(&s, "status=bounced,deferred") {
        assert!(["bounced", "deferred"].contains(&row["status"].as_str().unwrap()));
    }

    // a limit cuts the newest rows and says so
    let answer = get(&format!("{}/api/search?to=marco.rossi@example.com&limit=3", s.base)).json();
    assert_eq!(answer["rows"].as_array().unwrap().len(), 3);
    assert_eq!(
        (answer["total"].clone(), answer["truncated"].clone()),
        (Value::from(8), Value::from(true))
    );

    // the other criteria, under the CLI's names
    let expected = ndjson(&cli(
        &store,
        &[
            "search",
            "--from",
            "@woodgrove.example",
            "--direction",
            "inbound",
            "--subject",
            "invoice",
            "--since",
            "2026-11-24 07:00",
            "--until",
            "2026-11-24T12:00:00Z",
            "--timezone",
            "UTC",
            "--format",
            "ndjson",
        ],
    ));
    assert!(!expected.is_empty());
    let answer = get(&format!(
        "{}/api/search?from=%40woodgrove.example&direction=inbound&subject=invoice&since=2026-11-24+07:00&until=2026-11-24T12:00:00Z",
        s.base
    ))
    .json();
    assert_eq!(answer["rows"], Value::Array(expected));
    // nothing matched: 200, no rows, a hint naming what the store holds
    let answer = get(&format!("{}/api/search?host=mx9", s.base)).json();
    assert_eq!(answer["rows"], Value::Array(vec![]));
    assert!(answer["hint"].as_str().unwrap().contains("2026-11-24"), "{answer}");
}

/// `to` and `from` repeat or take a comma list, like `--to` and `--from`: any of them.
#[test]
fn address_lists() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    let rows = |args: &[&str]| {
        let mut all = vec!["search", "--format", "ndjson"];
        all.extend(args);
        ndjson(&cli(&store, &all))
    };
    let expected = rows(&["--to", "marco.rossi@example.com,accounts@example.com"]);
    let (marco, accounts) = (
        rows(&["--to", "marco.rossi@example.com"]),
        rows(&["--to", "accounts@example.com"]),
    );
    assert_eq!((marco.len(), accounts.len(), expected.len()), (8, 4, 12));
    assert!(marco.iter().chain(&accounts).all(|r| expected.contains(r)));
    for q in [
        "to=marco.rossi%40example.com&to=accounts%40example.com",
        "to=marco.rossi%40example.com,accounts%40example.com",
        "to=+marco.rossi%40example.com+,+ACCOUNTS%40example.com,&to=",
    ] {
        assert_eq!(answer_rows(&s, q), expected, "{q}");
    }
    let expected = rows(&[
        "--from",
        "@cheap-pills.example",
        "--from",
        "<>",
        "--status",
        "rejected",
        "--status",
        "delivered",
    ]);
    assert_eq!(expected.len(), 8);
    for q in [
        "from=%40cheap-pills.example&from=%3C%3E&status=rejected,delivered",
        "from=%40cheap-pills.example,%3C%3E&status=rejected&status=delivered",
    ] {
        assert_eq!(answer_rows(&s, q), expected, "{q}");
    }
}

fn answer_rows(s: &Server, q: &str) -> Vec<Value> {
    get(&format!("{}/api/search?{q}", s.base)).json()["rows"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn trace_csv_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);

    // a trace is `show --format json`, found by any of its queue ids
    let got = get(&format!("{}/api/trace/B7D2E2C9F0", s.base));
    assert_eq!(got.status, 200);
    let expected: Value = serde_json::from_str(&cli(&store, &["show", "B7D2E2C9F0", "--format", "json"])).unwrap();
    assert_eq!(got.json(), expected);
    let lines = expected[0]["lines"].as_array().unwrap();
    assert!(lines.len() > 5 && lines.iter().all(|l| !l["text"].as_str().unwrap().is_empty()));
    // by Message-ID with <>, percent-encoded
    let by_mid = get(&format!(
        "{}/api/trace/%3C20261124074505.4410@woodgrove.example%3E",
        s.base
    ));
    assert_eq!(by_mid.json(), expected);
    let missing = get(&format!("{}/api/trace/NOSUCHID", s.base));
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].as_str().unwrap().contains("NOSUCHID"));

    // `?format=text` is what `show ID` prints, byte for byte; `format=json` the same as none
    for id in ["B7D2E2C9F0", "61E0B2C712", "7C1D2E3F40"] {
        let got = get(&format!("{}/api/trace/{id}?format=text", s.base));
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.content_type, "text/plain; charset=utf-8");
        let expected = cli(&store, &["show", id]);
        assert!(
            expected.starts_with("Message ") && expected.contains("Log lines ("),
            "{expected}"
        );
        assert_eq!(got.body, expected, "{id}");
    }
    let as_json = get(&format!("{}/api/trace/B7D2E2C9F0?format=json", s.base));
    assert_eq!(as_json.json(), get(&format!("{}/api/trace/B7D2E2C9F0", s.base)).json());
    for (q, param) in [("format=xml", "format"), ("fromat=text", "fromat")] {
        let bad = get(&format!("{}/api/trace/B7D2E2C9F0?{q}", s.base));
        assert_eq!(bad.status, 400, "{q}");
        assert_eq!(bad.json()["parameter"], param, "{q}");
    }
    let missing = get(&format!("{}/api/trace/NOSUCHID?format=text", s.base));
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].as_str().unwrap().contains("NOSUCHID"));

    // CSV is `search --format csv`
    let got = get(&format!("{}/api/search.csv?to=%40example.com&status=delivered", s.base));
    assert_eq!(got.status, 200);
    assert_eq!(got.content_type, "text/csv; charset=utf-8");
    assert!(got.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("mailtrace.csv"));
    let expected = cli(
        &store,
        &[
            "search",
            "--to",
            "@example.com",
            "--status",
            "delivered",
            "--format",
            "csv",
        ],
    );
    assert!(expected.lines().count() > 10);
    assert_eq!(got.body, expected);

    // stats: per-status counts of the same rows, and over time
    let stats = get(&format!("{}/api/stats?to=%40example.com", s.base)).json();
    let rows = answer_rows(&s, "to=%40example.com");
    assert_eq!(stats["total"], rows.len());
    assert_eq!(stats["counted"], rows.len());
    let delivered = rows.iter().filter(|r| r["status"] == "delivered").count();
    let counted: Vec<(String, u64)> = stats["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["status"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect();
    assert!(
        counted.contains(&("delivered".to_string(), delivered as u64)),
        "{counted:?}"
    );
    assert_eq!(counted.iter().map(|c| c.1).sum::<u64>(), rows.len() as u64);
    let in_buckets: u64 = stats["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            b["counts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["count"].as_u64().unwrap())
        })
        .sum();
    assert_eq!(in_buckets, rows.len() as u64);
    assert_eq!(stats["bucket_seconds"], 3600);
    assert_eq!(stats["store"]["hot_first"], "2026-11-24");
}

#[test]
fn bad_requests_are_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&sample_store(dir.path()), &[]);
    for (q, param, words) in [
        ("status=lost", "status", "'lost' is not one of delivered"),
        ("since=last+tuesday", "since", "is not a time"),
        ("since=today&until=yesterday", "until", "before it starts"),
        ("last=3y", "last", "unknown unit"),
        ("last=24", "last", "has no unit"),
        ("limit=0", "limit", "from 1 to 10000"),
        ("limit=20000", "limit", "from 1 to 10000"),
        ("sender=a%40b.c", "sender", "unknown parameter"),
        ("host=a&host=b", "host", "more than once"),
        ("to=a&to=%2C", "to", "',' names no address"),
        ("client_ip=not-an-ip", "client_ip", "not an IP address"),
        ("direction=sideways", "direction", "inbound, outbound, internal"),
        ("timezone=Mars%2FOlympus", "timezone", "Mars/Olympus"),
        ("since=2026-11-01&last=1h", "last", "either since or last"),
        ("subject=%2D%2D", "subject", "no word"),
    ] {
        for path in ["/api/search", "/api/search.csv", "/api/stats"] {
            let got = get(&format!("{}{path}?{q}", s.base));
            assert_eq!(got.status, 400, "{path}?{q}: {}", got.body);
            let e = got.json();
            assert_eq!(e["parameter"], param, "{q}");
            assert!(e["error"].as_str().unwrap().contains(words), "{q}: {e}");
        }
    }
    let got = get(&format!("{}/api/nope", s.base));
    assert_eq!(got.status, 404);
    assert!(got.json()["error"].as_str().unwrap().contains("/api/search"));
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut res = agent.post(&format!("{}/api/search", s.base)).send("to=a").unwrap();
    assert_eq!(res.status().as_u16(), 405);
    let e: Value = serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap();
    assert!(e["error"].as_str().unwrap().contains("use GET"), "{e}");
    let long = "a".repeat(9000);
    let got = get(&format!("{}/api/search?to={long}", s.base));
    assert_eq!(got.status, 414);
    assert!(got.json()["error"].as_str().unwrap().contains("longer than"));
}

#[test]
fn ids_that_look_like_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&sample_store(dir.path()), &[]);
    for id in [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        "%2Fetc%2Fpasswd",
        "a%5C..%5Cb",
        "B7D2E2C9F0%0A",
    ] {
        let got = get(&format!("{}/api/trace/{id}", s.base));
        assert_eq!(got.status, 400, "{id}: {}", got.body);
        assert!(got.json()["error"].is_string());
    }
    // a path the router itself would normalise never reaches the store either
    let got = get(&format!("{}/api/trace/../../mailtrace-store.json", s.base));
    assert!(got.status >= 400, "{}", got.status);
    assert!(!got.body.contains("\"format\""));
}

#[test]
fn hostile_subjects_are_returned_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    let got = get(&format!("{}/api/search?from=mallory%40attacker.example", s.base));
    assert_eq!(got.content_type, "application/json");
    assert_eq!(got.headers["x-content-type-options"], "nosniff");
    let rows = got.json()["rows"].as_array().unwrap().clone();
    let subjects: Vec<&str> = rows.iter().map(|r| r["subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        vec![
            "<img src=x onerror=\"window.__xss=2\"> invoice",
            "<script>window.__xss=1</script>"
        ]
    );
    let trace = get(&format!("{}/api/trace/7C1D2E3F40", s.base)).json();
    assert_eq!(trace[0]["trace"]["subject"], "<script>window.__xss=1</script>");
    assert!(trace[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["text"].as_str().unwrap().contains("<script>window.__xss=1</script>")));
    // the page itself may run only its own script
    let page = get(&format!("{}/", s.base));
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert!(!page.body.contains("<script>") && page.body.contains("<script src=\"app.js\""));
    let js = get(&format!("{}/app.js", s.base));
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    assert!(!js.body.contains(".innerHTML") && !js.body.contains("insertAdjacentHTML"));
}

#[test]
fn tokens_and_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    // any other address than loopback needs a token file: refused before listening
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--store")
        .arg(&store)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without --token-file"),
        "{err}"
    );

    // a token too short is refused
    let short = dir.path().join("short");
    std::fs::write(&short, "abc\n").unwrap();
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--store")
        .arg(&store)
        .arg("--token-file")
        .arg(&short)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 16 characters"));

    // with a token: every API call needs it; the page's files do not
    let token = "s3cret-t0ken-for-tests-0123456789";
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let s = start(&store, &["--token-file", file.to_str().unwrap()]);
    let url = format!("{}/api/search?to=marco.rossi%40example.com", s.base);
    let got = get(&url);
    assert_eq!(got.status, 401);
    assert_eq!(got.headers["www-authenticate"], "Bearer");
    assert!(got.json()["error"].as_str().unwrap().contains("Authorization: Bearer"));
    assert_eq!(
        get_with(&url, &[("Authorization", "Bearer wrong-token-wrong-token")]).status,
        401
    );
    assert_eq!(get_with(&url, &[("Authorization", token)]).status, 401);
    let ok = get_with(&url, &[("Authorization", &format!("Bearer {token}"))]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["total"], 8);
    let trace = get(&format!("{}/api/trace/B7D2E2C9F0", s.base));
    assert_eq!(trace.status, 401);
    assert_eq!(get(&format!("{}/", s.base)).status, 200);
    assert_eq!(get(&format!("{}/app.js", s.base)).status, 200);

    // without a token, only requests addressed to loopback (no DNS rebinding)
    let open = start(&store, &[]);
    let url = format!("{}/api/search?to=marco.rossi%40example.com", open.base);
    let got = get_with(&url, &[("Host", "rebind.attacker.example")]);
    assert_eq!(got.status, 403, "{}", got.body);
    assert!(got.json()["error"].as_str().unwrap().contains("--token-file"));
    assert_eq!(get_with(&url, &[("Host", "localhost")]).status, 200);
}

#[test]
fn missing_store_and_live_results() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let s = start(&store, &[]);
    let got = get(&format!("{}/api/search?to=victim%40example.com", s.base));
    assert_eq!(got.status, 404);
    let e = got.json()["error"].as_str().unwrap().to_string();
    assert!(
        e.contains("no mailtrace store at") && e.contains("mailtrace index"),
        "{e}"
    );

    // the server reads what `index` commits, without a restart
    index(&store, &[testdata("sample/mail.log")]);
    let url = format!("{}/api/search?to=victim%40example.com", s.base);
    assert_eq!(get(&url).json()["total"], 0);
    index(&store, &[testdata("web/xss.log")]);
    assert_eq!(get(&url).json()["total"], 2);
}

#[test]
fn the_archive_tier_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    // three days later, with one hot day, the sample day goes to the archive tier
    let out = Command::new(BIN)
        .args([
            "maintain",
            "--hot-days",
            "1",
            "--now",
            "2026-11-27T12:00:00Z",
            "--store",
        ])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = start(&store, &[]);

    let hot_only = get(&format!("{}/api/search?to=marco.rossi%40example.com", s.base)).json();
    assert_eq!(hot_only["rows"], Value::Array(vec![]));
    assert!(
        hot_only["hint"].as_str().unwrap().contains("archive tier"),
        "{hot_only}"
    );

    let expected = ndjson(&cli(
        &store,
        &[
            "search",
            "--historical",
            "--to",
            "marco.rossi@example.com",
            "--format",
            "ndjson",
        ],
    ));
    assert_eq!(expected.len(), 8);
    let answer = get(&format!(
        "{}/api/search?to=marco.rossi%40example.com&historical=true",
        s.base
    ))
    .json();
    assert_eq!(answer["rows"], Value::Array(expected));
    // a since before the hot days reaches the archive by itself, as on the command line
    let answer = get(&format!(
        "{}/api/search?to=marco.rossi%40example.com&since=2026-11-24",
        s.base
    ))
    .json();
    assert_eq!(answer["total"], 8);
    let stats = get(&format!("{}/api/stats?historical=1", s.base)).json();
    assert_eq!(stats["store"]["archive_days"], 1);
    assert_eq!(stats["counted"], 48);

    // an archived message opens as `show` prints it, raw lines included
    let expected: Value = serde_json::from_str(&cli(&store, &["show", "B7D2E2C9F0", "--format", "json"])).unwrap();
    let got = get(&format!("{}/api/trace/B7D2E2C9F0", s.base)).json();
    assert_eq!(got, expected);
    assert!(got[0]["lines"][0]["text"]
        .as_str()
        .unwrap()
        .contains("connect from smtp.woodgrove.example"));
}

#[test]
fn exim_messages_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    index(&store, &[testdata("exim/overview/mail.log")]);
    let s = start(&store, &[]);
    let expected = ndjson(&cli(&store, &["search", "--format", "ndjson"]));
    assert_eq!(expected.len(), 9);
    let answer = get(&format!("{}/api/search", s.base)).json();
    assert_eq!(answer["rows"], Value::Array(expected.clone()));
    assert!(expected.iter().all(|r| r["mta"] == "exim"));
    // an Exim trace id names no host (it starts with ':'): it opens all the same
    for row in &expected {
        let id = row["trace_id"].as_str().unwrap();
        let want: Value = serde_json::from_str(&cli(&store, &["show", id, "--format", "json"])).unwrap();
        let got = get(&format!("{}/api/trace/{}", s.base, id.replace(':', "%3A"))).json();
        assert_eq!(got, want, "{id}");
    }
    let quoted = answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["subject"].as_str())
        .any(|s| s.contains("\"Q4\""));
    assert!(quoted, "Exim's T=\"…\" subject, quotes and all");
}

/// The filters' facts (issue 8) through the API: `spam`, `virus`, `auth_fail` and `folder`
/// give the rows the CLI's `--spam`, `--virus`, `--auth-fail` and `--folder` give.
/// `end_to_end=1`: the rows of `search --end-to-end`, as JSON and as CSV.
#[test]
fn end_to_end_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    index(&store, &[testdata("cases/path-edge-to-mailbox/mail.log")]);
    let s = start(&store, &[]);
    for (query, args) in [
        ("end_to_end=1", &[][..]),
        (
            "end_to_end=true&client_ip=203.0.113.150&status=bounced",
            &["--client-ip", "203.0.113.150", "--status", "bounced"][..],
        ),
    ] {
        let mut cli_args = vec!["search", "--format", "ndjson", "--end-to-end"];
        cli_args.extend_from_slice(args);
        let expected = ndjson(&cli(&store, &cli_args));
        assert!(
            !expected.is_empty()
                && expected
                    .iter()
                    .all(|r| r["hops"].as_array().unwrap().len() == 2 || r["from"] == "")
        );
        let answer = get(&format!("{}/api/search?{query}", s.base)).json();
        assert_eq!(answer["rows"], Value::Array(expected), "{query}");
    }
    let csv = get(&format!(
        "{}/api/search.csv?end_to_end=1&client_ip=203.0.113.150&status=bounced",
        s.base
    ))
    .body;
    assert!(csv.contains(",mx1:6D4E52CA12 mbox1:9D4E52D2B8"), "{csv}");
    assert_eq!(get(&format!("{}/api/search?end_to_end=maybe", s.base)).status, 400);
}

#[test]
fn filter_and_mailbox_criteria() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    index(
        &store,
        &[
            testdata("cases/amavis-verdicts/mail.log"),
            testdata("cases/auth-results/mail.log"),
            testdata("cases/dovecot-sieve/mail.log"),
        ],
    );
    let s = start(&store, &[]);
    let pairs: [(&str, &[&str]); 5] = [
        ("spam=1", &["--spam"]),
        ("virus=true", &["--virus"]),
        ("auth_fail=spf,dkim", &["--auth-fail", "spf", "--auth-fail", "dkim"]),
        ("auth-fail=dmarc", &["--auth-fail", "dmarc"]),
        ("folder=junk", &["--folder", "junk"]),
    ];
    let mut found = 0;
    for (query, args) in pairs {
        let mut cli_args = vec!["search", "--format", "ndjson"];
        cli_args.extend_from_slice(args);
        let expected = ndjson(&cli(&store, &cli_args));
        found += expected.len();
        let answer = get(&format!("{}/api/search?{query}", s.base)).json();
        assert_eq!(answer["rows"], Value::Array(expected), "{query}");
    }
    assert!(found >= 5, "the cases have rows for these criteria ({found})");
    let bad = get(&format!("{}/api/search?auth_fail=arc", s.base));
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"].as_str().unwrap().contains("spf, dkim, dmarc"),
        "{}",
        bad.body
    );
}

/// `/api/report` is `mailtrace report` over the same criteria, in each format.
#[test]
fn the_report_is_the_cli_report() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    let window = ["--since", "2026-11-24T00:00:00Z", "--until", "2026-11-25T00:00:00Z"];
    for (format, content_type) in [
        ("json", "application/json"),
        ("html", "text/html; charset=utf-8"),
        ("text", "text/plain; charset=utf-8"),
    ] {
        let got = get(&format!(
            "{}/api/report?since=2026-11-24T00:00:00Z&until=2026-11-25T00:00:00Z&direction=inbound&top=3&format={format}",
            s.base
        ));
        assert_eq!((got.status, got.content_type.as_str()), (200, content_type));
        let mut args = vec!["report", "--direction", "inbound", "--top", "3", "--format", format];
        args.extend(window);
        assert_eq!(got.body, cli(&store, &args), "{format}");
        // the HTML report may style itself, and still run nothing
        let csp = got.headers["content-security-policy"].to_str().unwrap();
        assert_eq!(csp.contains("style-src 'unsafe-inline'"), format == "html", "{csp}");
        assert!(!csp.contains("script-src 'unsafe"), "{csp}");
    }
    let report: Value = serde_json::from_str(
        &get(&format!(
            "{}/api/report?since=2026-11-24T00:00:00Z&until=2026-11-25T00:00:00Z&format=json",
            s.base
        ))
        .body,
    )
    .unwrap();
    assert_eq!(
        report["messages"], 36,
        "the sample day and the two hostile messages of xss.log"
    );
    for bad in ["format=pdf", "top=0", "top=x", "nonsense=1"] {
        let got = get(&format!("{}/api/report?{bad}", s.base));
        assert_eq!(got.status, 400, "{bad}: {}", got.body);
    }
}

/// Found by `scripts/api-fuzz.sh` (schemathesis): a duration too long for chrono (`last=`,
/// `since=… ago`) panicked the handler, so the connection closed with no answer at all (the
/// CLI died with exit code 101). It is a 400 naming the parameter, and the CLI's exit code 2.
#[test]
fn fuzz_overlong_durations_are_400() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    for (q, body) in [
        (
            "last=99999999999999w",
            r#"{"error":"last: '99999999999999w' is longer than 100 years: use e.g. 30m, 24h, 7d","parameter":"last"}"#,
        ),
        (
            "last=9223372036854775807s",
            r#"{"error":"last: '9223372036854775807s' is longer than 100 years: use e.g. 30m, 24h, 7d","parameter":"last"}"#,
        ),
        (
            "since=99999999w+ago",
            r#"{"error":"since: '99999999w' is longer than 100 years: use e.g. 30m, 24h, 7d (in '99999999w ago')","parameter":"since"}"#,
        ),
        (
            "until=1000000000d+ago",
            r#"{"error":"until: '1000000000d' is longer than 100 years: use e.g. 30m, 24h, 7d (in '1000000000d ago')","parameter":"until"}"#,
        ),
    ] {
        for path in ["/api/search", "/api/search.csv", "/api/stats", "/api/report"] {
            let got = get(&format!("{}{path}?{q}", s.base));
            assert_eq!(
                (got.status, got.content_type.as_str(), got.body.as_str()),
                (400, "application/json", body),
                "{path}?{q}"
            );
        }
    }
    // a hundred years is still a window
    let all = ndjson(&cli(&store, &["search", "--format", "ndjson"])).len();
    let got = get(&format!("{}/api/search?last=5200w&limit=1", s.base));
    assert_eq!((got.status, got.json()["total"].clone()), (200, Value::from(all)));
    let out = Command::new(BIN)
        .args(["search", "--last", "99999999999999w", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "mailtrace: error: --last: '99999999999999w' is longer than 100 years: use e.g. 30m, 24h, 7d"
    );
}

/// Found by `scripts/api-fuzz.sh`: a time past 2262 or before 1677 wrapped around in the day
/// indexes (tantivy counts nanoseconds in an i64), so `until=2300-01-01` found nothing and
/// `since=3000-01-01` found every row. Such a bound now holds at the edge of what a store can
/// hold.
#[test]
fn fuzz_far_times_bound_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    let all = ndjson(&cli(&store, &["search", "--format", "ndjson"])).len();
    assert_eq!(get(&format!("{}/api/search?limit=1", s.base)).json()["total"], all);
    for (q, total) in [
        ("until=2300-01-01", all),
        ("until=9999-12-31T23:59:59Z", all),
        ("since=1600-01-01", all),
        ("since=0000-01-01&until=9999-01-01", all),
        ("since=3000-01-01", 0),
        ("since=9999-12-31T23:59:59-23:59", 0),
        ("until=1600-01-01", 0),
    ] {
        let got = get(&format!("{}/api/search?{q}&limit=1", s.base));
        assert_eq!(
            (got.status, got.json()["total"].clone()),
            (200, Value::from(total)),
            "{q}"
        );
        let mut args = vec!["search", "--format", "ndjson"];
        for pair in q.split('&') {
            let (k, v) = pair.split_once('=').unwrap();
            args.push(if k == "since" { "--since" } else { "--until" });
            args.push(v);
        }
        assert_eq!(ndjson(&cli(&store, &args)).len(), total, "{q}");
    }
}

/// Found by `scripts/api-fuzz.sh`: what the spec did not say. An empty value is no criterion
/// (`limit=` is the default limit), a trace id whose URI is over 8 KiB is a 414 (JSON), and
/// `/api/report` takes the criteria of `/api/search` (docs/openapi.yaml now says all three).
#[test]
fn fuzz_empty_values_long_ids_and_report_criteria() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    let got = get(&format!("{}/api/stats?limit=&direction=&last=", s.base));
    assert_eq!((got.status, got.json()["limit"].clone()), (200, Value::from(10_000)));
    let got = get(&format!("{}/api/search.csv?direction=&limit=", s.base));
    assert_eq!(got.status, 200);
    assert_eq!(got.body, cli(&store, &["search", "--format", "csv"]));
    let got = get(&format!("{}/api/trace/{}", s.base, "%F0%9F%8F%BB".repeat(700)));
    assert_eq!(
        (got.status, got.content_type.as_str(), got.body.as_str()),
        (
            414,
            "application/json",
            r#"{"error":"the request is longer than 8192 bytes: narrow the criteria"}"#
        )
    );
    // the report's criteria: those of a search
    let got = get(&format!(
        "{}/api/report?format=json&since=2026-11-24&until=2026-11-25&to=marco.rossi%40example.com&status=delivered,deferred&spam=&historical=false",
        s.base
    ));
    assert_eq!(got.status, 200, "{}", got.body);
    let cli_report = cli(
        &store,
        &[
            "report",
            "--format",
            "json",
            "--since",
            "2026-11-24",
            "--until",
            "2026-11-25",
            "--to",
            "marco.rossi@example.com",
            "--status",
            "delivered",
            "--status",
            "deferred",
        ],
    );
    assert_eq!(got.body, cli_report);
}

/// Found by `scripts/api-fuzz.sh` (a campaign of 500 cases per operation): the spec's word
/// lists were stricter than the server, which takes them in any case, with spaces, and as
/// comma lists on every search-like endpoint (`/api/report` too), and yes/no parameters as
/// true, 1, yes or on. The spec now says so; this holds the server to it.
#[test]
fn fuzz_word_lists_in_any_case_and_comma_lists() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let s = start(&store, &[]);
    let window = "since=2026-11-24&until=2026-11-25";
    let plain = get(&format!(
        "{}/api/report?format=json&{window}&status=delivered&status=deferred&direction=inbound&historical=false",
        s.base
    ));
    assert_eq!(plain.status, 200);
    for q in [
        "status=Delivered,+DEFERRED&direction=+Inbound+&historical=OFF",
        "status=%2Cdelivered%2C&status=deferred&direction=INBOUND&historical=0&auth_fail=",
    ] {
        let got = get(&format!("{}/api/report?format=json&{window}&{q}", s.base));
        assert_eq!((got.status, got.body.as_str()), (200, plain.body.as_str()), "{q}");
    }
    let got = get(&format!("{}/api/search?spam=YES&auth_fail=SPF,+dmarc&limit=1", s.base));
    let expected = ndjson(&cli(
        &store,
        &[
            "search",
            "--spam",
            "--auth-fail",
            "spf",
            "--auth-fail",
            "dmarc",
            "--format",
            "ndjson",
        ],
    ));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["total"], expected.len());
}
