//! Lists of senders and recipients (`--from a,b`, `--to x --to y`): a list gives exactly the
//! union of the rows of its patterns searched one by one, each row once, from `--log`, from an
//! embedded store, and from a ClickHouse cluster when `MAILTRACE_TEST_CLICKHOUSE` names one
//! (required when `CI=true`, as in tests/clickhouse_store.rs).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")
}

/// A search: each option's patterns (any of them), and other arguments.
struct Case {
    from: &'static [&'static str],
    to: &'static [&'static str],
    extra: &'static [&'static str],
    /// The rows the list gives.
    rows: usize,
}

const CASES: [Case; 4] = [
    // exact recipients (look-up keys), the second in other case
    Case {
        from: &[],
        to: &["marco.rossi@example.com", "ACCOUNTS@example.com"],
        extra: &[],
        rows: 12,
    },
    // a domain, a wildcard and the null sender (no look-up key for the list)
    Case {
        from: &["@cheap-pills.example", "*@*woodgrove*", "<>"],
        to: &[],
        extra: &[],
        rows: 12,
    },
    // patterns that overlap (Marco's rows are in both), with another criterion
    Case {
        from: &[],
        to: &["@example.com", "marco.rossi@example.com", "@litware.example"],
        extra: &["--status", "delivered"],
        rows: 21,
    },
    // two lists: any sender of one and any recipient of the other
    Case {
        from: &["tomas.novak@example.com", "@northwind.example"],
        to: &["@litware.example", "sales@example.com", "@mx1.example.com"],
        extra: &[],
        rows: 4,
    },
];

/// The args of a search with `from` and `to` as the CLI takes them: the first option a comma
/// list with spaces and an empty item, the second repeated.
fn list_args(c: &Case) -> Vec<String> {
    let mut args = Vec::new();
    if !c.from.is_empty() {
        args.extend(["--from".to_string(), format!(" {} ,", c.from.join(" , "))]);
    }
    for t in c.to {
        args.extend(["--to".to_string(), t.to_string()]);
    }
    args.extend(c.extra.iter().map(|s| s.to_string()));
    args
}

/// The args of each search of one sender and one recipient of the lists.
fn single_args(c: &Case) -> Vec<Vec<String>> {
    let one = |name: &str, v: Option<&&str>| v.map(|v| vec![format!("--{name}"), v.to_string()]).unwrap_or_default();
    let froms: Vec<Option<&&str>> = if c.from.is_empty() {
        vec![None]
    } else {
        c.from.iter().map(Some).collect()
    };
    let tos: Vec<Option<&&str>> = if c.to.is_empty() {
        vec![None]
    } else {
        c.to.iter().map(Some).collect()
    };
    let mut out = Vec::new();
    for f in &froms {
        for t in &tos {
            let mut args = one("from", *f);
            args.extend(one("to", *t));
            args.extend(c.extra.iter().map(|s| s.to_string()));
            out.push(args);
        }
    }
    out
}

/// The ndjson rows of `mailtrace search ARGS SOURCE` (exit 0 or 1).
fn search(args: &[String], source: &[String]) -> Vec<String> {
    let out = Command::new(BIN)
        .arg("search")
        .args(args)
        .args(["--format", "ndjson"])
        .args(source)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {err}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Every case from `source`: the list's rows are the union of the single searches' rows.
fn lists_are_unions(source: &[String]) {
    for c in &CASES {
        let list = list_args(c);
        let got = search(&list, source);
        let distinct: BTreeSet<&String> = got.iter().collect();
        assert_eq!(distinct.len(), got.len(), "each row once: {list:?}");
        let mut union = BTreeSet::new();
        for single in single_args(c) {
            union.extend(search(&single, source));
        }
        assert_eq!(distinct, union.iter().collect(), "{list:?} from {source:?}");
        assert_eq!(got.len(), c.rows, "{list:?} from {source:?}");
    }
}

fn year_and_zone() -> Vec<String> {
    ["--year", "2026", "--timezone", "UTC"].map(String::from).to_vec()
}

/// The sample indexed into a store under `dir`.
fn indexed_sample(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let out = Command::new(BIN)
        .arg("index")
        .arg("--store")
        .arg(&store)
        .args(year_and_zone())
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    store
}

#[test]
fn a_list_is_the_union_of_its_patterns_from_logs_and_an_embedded_store() {
    let mut from_log = vec!["--log".to_string(), sample().display().to_string()];
    from_log.extend(year_and_zone());
    lists_are_unions(&from_log);

    let dir = tempfile::tempdir().unwrap();
    let store = indexed_sample(dir.path());
    let from_store = vec!["--store".to_string(), store.display().to_string()];
    lists_are_unions(&from_store);
    // the same rows as from the log, in the same order
    for c in &CASES {
        let mut log = vec!["--log".to_string(), sample().display().to_string()];
        log.extend(year_and_zone());
        assert_eq!(search(&list_args(c), &from_store), search(&list_args(c), &log));
    }
}

#[test]
fn a_list_with_no_pattern_is_an_error() {
    let out = Command::new(BIN)
        .args(["search", "--from", " , ", "--log"])
        .arg(sample())
        .args(year_and_zone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "mailtrace: error: --from: ' , ' names no address (the null sender is <>)"
    );
}

#[test]
fn a_pattern_with_too_many_wildcards_is_an_error_that_says_what_to_do() {
    let search = |pattern: &str, source: &[&std::ffi::OsStr]| {
        Command::new(BIN)
            .args(["search", "--from", pattern])
            .args(source)
            .args(year_and_zone())
            .output()
            .unwrap()
    };
    let log_file = sample();
    let log = [std::ffi::OsStr::new("--log"), log_file.as_os_str()];
    let many = format!("*{}", "ab*".repeat(17));
    let out = search(&many, &log);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "mailtrace: error: --from: '{many}' holds 18 wildcards (*), more than the 16 a pattern \
             may hold: keep the parts that tell the address apart and join them with fewer *"
        )
    );
    // within the count, but too large an automaton for the index: said as plainly
    let dir = tempfile::tempdir().unwrap();
    let store = indexed_sample(dir.path());
    let long = format!("*{}", "日本語の文字列です日本語の文字列です*".repeat(15));
    let out = search(&long, &[std::ffi::OsStr::new("--store"), store.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "mailtrace: error: the pattern '{long}' is too complex for the index to look up"
        )),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with("use fewer * or shorter parts between them"),
        "{err}"
    );
    // the same pattern read from the log is matched without an automaton
    assert_eq!(search(&long, &log).status.code(), Some(1));
}

/// The first shard's `host:port` from `MAILTRACE_TEST_CLICKHOUSE`, when set.
fn clickhouse() -> Option<String> {
    match std::env::var("MAILTRACE_TEST_CLICKHOUSE") {
        Ok(url) if !url.is_empty() => Some(url.trim_start_matches("http://").trim_end_matches('/').to_string()),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("MAILTRACE_TEST_CLICKHOUSE is required when CI=true: scripts/clickhouse-cluster.sh start")
        }
        _ => {
            eprintln!("skipping: MAILTRACE_TEST_CLICKHOUSE is not set (scripts/clickhouse-cluster.sh start prints it)");
            None
        }
    }
}

fn run(args: &[&str], state: &Path) {
    let out = Command::new(BIN).args(args).arg("--state").arg(state).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[cfg_attr(
    no_clickhouse,
    ignore = "needs a ClickHouse cluster: scripts/clickhouse-cluster.sh start, then export MAILTRACE_TEST_CLICKHOUSE=…"
)]
fn a_list_is_the_union_of_its_patterns_from_clickhouse() {
    let Some(first) = clickhouse() else {
        return;
    };
    let (host, port) = first.rsplit_once(':').unwrap();
    let second = format!("{host}:{}", port.parse::<u16>().unwrap() + 1);
    let db = "mt_lists";
    for shard in [&first, &second] {
        let location = mailtrace::store::clickhouse::Location::parse(&format!("clickhouse://{shard}/{db}")).unwrap();
        let client = mailtrace::store::clickhouse::Client::new(&location, None);
        client.run(&format!("DROP DATABASE IF EXISTS {db}"), false).unwrap();
    }
    let url = format!("clickhouse://{first}/{db}?cluster=mt_cluster");
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let shard = |s: &str| format!("clickhouse://{s}/{db}");
    let (one, two) = (shard(&first), shard(&second));
    run(
        &["store", "init", "--store", &url, "--shard", &one, "--shard", &two],
        &state,
    );
    let log = sample().display().to_string();
    let mut index = vec!["index", "--store", &url, "--year", "2026", "--timezone", "UTC"];
    index.push(&log);
    run(&index, &state);
    lists_are_unions(&[
        "--store".to_string(),
        url.clone(),
        "--state".to_string(),
        state.display().to_string(),
    ]);
}
