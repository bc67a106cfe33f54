//! The two-shard ClickHouse cluster of the tests (`scripts/clickhouse-cluster.sh`): where it
//! is (`MAILTRACE_TEST_CLICKHOUSE`, required when `CI=true`) and a fresh database per test.
#![allow(dead_code)] // not every test binary uses every helper

use std::process::Command;

use mailtrace::store::clickhouse::{Client, Location};

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");

/// The two shards' `host:port`, when a cluster is there.
pub fn shards() -> Option<[String; 2]> {
    let url = match std::env::var("MAILTRACE_TEST_CLICKHOUSE") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("MAILTRACE_TEST_CLICKHOUSE is required when CI=true: scripts/clickhouse-cluster.sh start")
        }
        _ => {
            eprintln!("skipping: MAILTRACE_TEST_CLICKHOUSE is not set (scripts/clickhouse-cluster.sh start prints it)");
            return None;
        }
    };
    let first = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let (host, port) = first.rsplit_once(':').unwrap();
    let second = format!("{host}:{}", port.parse::<u16>().unwrap() + 1);
    Some([first, second])
}

/// A store of its own for one test: database `mt_<name>`, dropped first on both shards.
pub struct Cluster {
    pub shards: [String; 2],
    pub db: String,
}

impl Cluster {
    pub fn new(name: &str) -> Option<Cluster> {
        let shards = shards()?;
        let db = format!("mt_{name}");
        let c = Cluster { shards, db };
        for s in &c.shards {
            dropped(s, &c.db);
        }
        let out = c.mailtrace(
            &["store", "init", "--shard", &c.shard_url(0), "--shard", &c.shard_url(1)],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        Some(c)
    }

    pub fn url(&self) -> String {
        format!("clickhouse://{}/{}?cluster=mt_cluster", self.shards[0], self.db)
    }

    pub fn shard_url(&self, i: usize) -> String {
        format!("clickhouse://{}/{}", self.shards[i], self.db)
    }

    pub fn client(&self, shard: &str) -> Client {
        Client::new(
            &Location::parse(&format!("clickhouse://{shard}/{}", self.db)).unwrap(),
            None,
        )
    }

    /// `mailtrace ARGS --store URL EXTRA…`.
    pub fn mailtrace(&self, args: &[&str], extra: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .args(["--store", &self.url()])
            .args(extra)
            .output()
            .unwrap()
    }

    /// Rows (newest version, not deleted) and raw lines each shard holds.
    pub fn counts(&self) -> Vec<(u64, u64)> {
        self.shards
            .iter()
            .map(|s| {
                let n = |sql: &str| -> u64 { self.client(s).run(sql, true).unwrap().trim().parse().unwrap() };
                (
                    n("SELECT count() FROM traces_local FINAL WHERE deleted = 0"),
                    n("SELECT count() FROM lines_local FINAL"),
                )
            })
            .collect()
    }
}

/// A client of database `db` on `shard` (`host:port`), the database dropped first.
pub fn dropped(shard: &str, db: &str) -> Client {
    let client = Client::new(&Location::parse(&format!("clickhouse://{shard}/{db}")).unwrap(), None);
    client.run(&format!("DROP DATABASE IF EXISTS {db}"), false).unwrap();
    client
}
