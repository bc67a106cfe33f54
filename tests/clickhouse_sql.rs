//! The SQL literals of `store::clickhouse::sql` read back by a real ClickHouse server as the
//! values they were made of, hostile ones included. Runs when `MAILTRACE_TEST_CLICKHOUSE` names
//! a server's HTTP interface (`scripts/clickhouse-cluster.sh start` starts two shards and
//! prints it); required when `CI=true`, skipped and saying so otherwise.

use mailtrace::store::clickhouse::sql::string;

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
fn the_server_reads_every_literal_as_its_value() {
    let Some(url) = server() else { return };
    let mut values: Vec<String> = [
        "",
        "plain@example.com",
        "O'Brien",
        "'); DROP TABLE rows; --",
        "\\",
        "a\\' OR 1=1 --",
        "nul\0byte",
        "line\nbreak\r\n",
        "tab\tesc\x1b[31mred\x7f",
        "ünïcödé ✓ 日本",
        "%' AND '1'='1",
        "\\\\'\\",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.extend((0u8..0x80).map(|b| format!("<{}>", char::from(b))));
    for v in &values {
        assert_eq!(&select(&url, &string(v)), v, "{v:?} as {}", string(v));
    }
}
