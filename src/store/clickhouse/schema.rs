//! The tables of a ClickHouse store, as DDL that ClickHouse 18.16 and current releases both
//! accept.
//!
//! - `traces_local`: one row per message (not per recipient): the fields criteria look at,
//!   the recipients' fields as parallel arrays, and the trace itself (JSON without its
//!   timeline, the timeline as numbers, the raw lines). `ReplacingMergeTree(version)` keyed by
//!   the trace id, partitioned by the UTC day the message arrived: a later state of a message
//!   (delivered after a deferral) is a new row with a higher version, and reads use `FINAL`, so
//!   a message is never counted twice. A message merged away is a row with `deleted = 1`.
//! - `lines_local`: every raw line read, keyed by its file (a hash of the file's first line,
//!   so the same file read again, renamed or compressed, has the same key) and byte offset,
//!   partitioned by day: reading a line twice keeps it once. A line that is not UTF-8 also
//!   keeps its bytes in hex (`raw_hex`), so `replay` gives it back byte for byte.
//! - `keys_local`: the look-up keys of every message (addresses, domains, queue ids,
//!   Message-ID; see [`super::keys`]), ordered by key, partitioned like the traces, so a
//!   search by address or id reads a range of keys instead of every message.
//! - `meta`: the store's format and the shards `store init` was given (for `maintain`, which
//!   drops partitions on each shard, and to name a shard that does not answer).
//! - With `?cluster=NAME`: `traces` and `lines`, Distributed tables over the local ones,
//!   sharded by trace id and by file, so a message's row and a file's lines each live on
//!   one shard; `keys` sharded by trace id too, so a shard's keys name its own messages
//!   and a search's key look-up runs on each shard's `keys_local`.

use super::sql::string;

/// The store format these tables hold.
pub const FORMAT: u32 = 2;

/// The columns of `traces_local`, in order, with their types.
pub const TRACE_COLUMNS: &[(&str, &str)] = &[
    ("day", "Date"),
    ("trace_id", "String"),
    ("version", "UInt64"),
    ("deleted", "UInt8"),
    ("first_time", "Int64"),
    ("last_time", "Int64"),
    ("host", "String"),
    ("has_from", "UInt8"),
    ("sender", "String"),
    ("sender_domain", "String"),
    ("has_message_id", "UInt8"),
    ("message_id", "String"),
    ("queue_ids", "Array(String)"),
    ("direction", "String"),
    ("ip_kind", "UInt8"),
    ("ip_hi", "UInt64"),
    ("ip_lo", "UInt64"),
    ("subject_words", "String"),
    ("virus", "UInt8"),
    ("spam", "UInt8"),
    ("auth_failed", "Array(String)"),
    ("rcpt", "Array(String)"),
    ("rcpt_domain", "Array(String)"),
    ("has_orig", "Array(UInt8)"),
    ("orig", "Array(String)"),
    ("orig_domain", "Array(String)"),
    ("status", "Array(String)"),
    ("folder", "Array(String)"),
    ("file_ids", "Array(UInt32)"),
    ("file_keys", "Array(UInt64)"),
    ("trace", "String"),
    ("timeline", "String"),
    ("lines", "String"),
];

/// Rows of `traces_local` per index mark. Messages are fetched by trace id, and a read takes
/// whole granules of every column named (a trace's JSON is a kilobyte or more): fetching the
/// 334 messages of one address on a shard of 2.6 M took 0.70 s with 1024 rows a granule,
/// 0.20 s with 256 (and a single message 60 ms with the default 8192). The cost is the
/// index held in memory: one trace id per 256 messages, about 170 MB per billion.
pub const TRACE_GRANULE: u32 = 256;

/// The columns of `lines_local`.
pub const LINE_COLUMNS: &[(&str, &str)] = &[
    ("day", "Date"),
    ("file_key", "UInt64"),
    ("file_start", "Int64"),
    ("offset", "UInt64"),
    ("has_time", "UInt8"),
    ("time", "Int64"),
    ("file", "String"),
    ("line", "String"),
    ("raw_hex", "String"),
];

/// The columns of `keys_local`.
pub const KEY_COLUMNS: &[(&str, &str)] = &[("day", "Date"), ("key", "String"), ("trace_id", "String")];

/// The tables mailtrace keeps per day, on every shard (`maintain` drops their partitions).
pub const DAY_TABLES: &[&str] = &["traces_local", "lines_local", "keys_local"];

/// What `store init` creates on one server.
pub struct Ddl {
    pub database: String,
    pub cluster: Option<String>,
}

impl Ddl {
    /// The statements for one shard (or the only server), in order; each is idempotent.
    pub fn shard(&self) -> Vec<String> {
        let db = &self.database;
        let mut out = vec![format!("CREATE DATABASE IF NOT EXISTS {db}")];
        out.extend(self.local_tables(""));
        out.extend(self.distributed_tables(""));
        out
    }

    /// The statements a DBA runs once on a cluster (`ON CLUSTER`, which needs ZooKeeper or
    /// Keeper); in production `ReplacingMergeTree` becomes `ReplicatedReplacingMergeTree`.
    pub fn on_cluster(&self) -> Vec<String> {
        let db = &self.database;
        let on = match &self.cluster {
            Some(c) => format!(" ON CLUSTER {c}"),
            None => String::new(),
        };
        let mut out = vec![format!("CREATE DATABASE IF NOT EXISTS {db}{on}")];
        out.extend(self.local_tables(&on));
        out.extend(self.distributed_tables(&on));
        out
    }

    fn local_tables(&self, on: &str) -> Vec<String> {
        let db = &self.database;
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.traces_local{on} ({}) ENGINE = ReplacingMergeTree(version) \
                 PARTITION BY day ORDER BY trace_id SETTINGS index_granularity = {TRACE_GRANULE}",
                columns(TRACE_COLUMNS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.lines_local{on} ({}) ENGINE = ReplacingMergeTree \
                 PARTITION BY day ORDER BY (file_key, offset)",
                columns(LINE_COLUMNS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.keys_local{on} ({}) ENGINE = ReplacingMergeTree \
                 PARTITION BY day ORDER BY (key, trace_id)",
                columns(KEY_COLUMNS)
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.meta{on} (key String, value String, version UInt64) \
                 ENGINE = ReplacingMergeTree(version) ORDER BY key"
            ),
        ]
    }

    fn distributed_tables(&self, on: &str) -> Vec<String> {
        let (db, Some(cluster)) = (&self.database, &self.cluster) else {
            return Vec::new();
        };
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.traces{on} AS {db}.traces_local \
                 ENGINE = Distributed({cluster}, {db}, traces_local, cityHash64(trace_id))"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.lines{on} AS {db}.lines_local \
                 ENGINE = Distributed({cluster}, {db}, lines_local, cityHash64(file_key))"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {db}.keys{on} AS {db}.keys_local \
                 ENGINE = Distributed({cluster}, {db}, keys_local, cityHash64(trace_id))"
            ),
        ]
    }

    /// The statement that records `key` = `value` in `meta`.
    pub fn meta(&self, key: &str, value: &str, version: u64) -> String {
        format!(
            "INSERT INTO {}.meta (key, value, version) VALUES ({}, {}, {version})",
            self.database,
            string(key),
            string(value)
        )
    }
}

fn columns(cols: &[(&str, &str)]) -> String {
    cols.iter()
        .map(|(n, t)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_form_names_the_cluster_and_the_shard_form_does_not() {
        let ddl = Ddl {
            database: "mail".into(),
            cluster: Some("logs".into()),
        };
        let shard = ddl.shard();
        assert!(shard.iter().all(|s| !s.contains("ON CLUSTER")));
        assert_eq!(shard.len(), 8);
        assert!(shard[5].contains("Distributed(logs, mail, traces_local, cityHash64(trace_id))"));
        let on = ddl.on_cluster();
        assert!(on.iter().all(|s| s.contains(" ON CLUSTER logs")), "{on:?}");
        let single = Ddl {
            database: "mail".into(),
            cluster: None,
        };
        assert_eq!(single.shard().len(), 5, "no Distributed tables without a cluster");
    }
}
