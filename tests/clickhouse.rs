//! The ClickHouse store's pieces against a real server: the SQL literals of
//! `store::clickhouse::sql` read back as the values they were made of (hostile ones included),
//! and the client's answers and errors. Runs when `MAILTRACE_TEST_CLICKHOUSE` names a server's
//! HTTP interface (`scripts/clickhouse-cluster.sh start` starts two shards and prints it);
//! required when `CI=true`, skipped and saying so otherwise.

use mailtrace::store::clickhouse::sql::string;
use mailtrace::store::clickhouse::{Client, Location};

fn server() -> Option<String> {
    match std::env::var("MAILTRACE_TEST_CLICKHOUSE") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("MAILTRACE_TEST_CLICKHOUSE is required when CI=true: scripts/clickhouse-cluster.sh start")
        }
        _ => {
            eprintln!("skipping: MAILTRACE_TEST_CLICKHOUSE is not set (scripts/clickhouse-cluster.sh start prints it)");
            None
        }
    }
}

/// Runs `SELECT <literal> AS v` and returns `v` as the server read it.
fn select(url: &str, literal: &str) -> String {
    let query = format!("SELECT {literal} AS v FORMAT JSONEachRow");
    let body = ureq::post(url)
        .send(query.as_bytes())
        .unwrap_or_else(|e| panic!("{query:?}: {e}"))
        .into_body()
        .read_to_string()
        .unwrap();
    let row: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{body:?}: {e}"));
    row["v"].as_str().unwrap().to_string()
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn the_server_reads_every_literal_as_its_value() {
    let Some(url) = server() else { return };
    let mut values: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/clickhouse/hostile-values.json"
        ))
        .unwrap(),
    )
    .unwrap();
    values.extend((0u8..0x80).map(|b| format!("<{}>", char::from(b))));
    for v in &values {
        assert_eq!(&select(&url, &string(v)), v, "{v:?} as {}", string(v));
    }
}

/// The `clickhouse://` address of the server at `url` (`http://host:port/`), database `db`.
fn location(url: &str, db: &str) -> Location {
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    Location::parse(&format!("clickhouse://{hostport}/{db}")).unwrap()
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn the_client_answers_and_names_the_server_in_its_errors() {
    let Some(url) = server() else { return };
    let here = location(&url, "default");
    let client = Client::new(&here, None);
    let version = client.version().unwrap();
    assert!(version.chars().next().is_some_and(|c| c.is_ascii_digit()), "{version}");
    assert_eq!(client.run("SELECT 1 + 1", true).unwrap().trim(), "2");
    let name = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    // a query the server refuses: its own text, and which server said it
    let bad = client.run("SELEC 1", true).unwrap_err().to_string();
    assert!(
        bad.contains(&format!("ClickHouse at {name} answered")) && bad.contains("Syntax error"),
        "{bad}"
    );
    // a database that does not exist
    let nodb = Client::new(&location(&url, "no_such_db"), None)
        .run("SELECT 1", true)
        .unwrap_err()
        .to_string();
    assert!(nodb.contains("no_such_db"), "{nodb}");
    // a wrong password for a user without one
    let wrong = Client::new(&here, Some("x".into())).version().unwrap_err().to_string();
    assert!(
        wrong.contains(&name) && wrong.to_lowercase().contains("password"),
        "{wrong}"
    );
    // nobody listening
    let closed = Location::parse("clickhouse://127.0.0.1:1/default").unwrap();
    let down = Client::new(&closed, None).version().unwrap_err().to_string();
    assert!(down.contains("cannot reach ClickHouse at 127.0.0.1:1"), "{down}");
}
