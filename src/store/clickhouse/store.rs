//! The ClickHouse store behind [`Backend`].
//!
//! Reads go to the server of the store's address, through the Distributed tables when the
//! address names a cluster, always with `FINAL` (the newest version of each message) and
//! `deleted = 0`. A search asks SQL for the newest messages with a matching row and for the
//! number of matching rows, then makes the rows from the traces read back with the same code
//! a scan of the logs uses, so both answer alike. When a shard does not answer, a search
//! fails naming it, or with `--partial` answers from the others and says which is missing.
//!
//! Writers keep their reading state on their own machine (`--state`, by default under
//! `~/.local/state/mailtrace/`), one directory per store address.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::filter::Filter;
use super::schema::{Ddl, FORMAT};
use super::sink::ClickHouseSink;
use super::sql::string;
use super::{Client, Location};
use crate::output::Row;
use crate::query::Criteria;
use crate::store::backend::{Access, Backend, Held, LinkKeys, ReplayLine, SearchResult, Sink, WriterPlace};
use crate::store::retention::{Report, Windows};
use crate::store::schema::{read_timeline, StoredTrace};
use crate::store::state::IngestState;
use crate::trace::Trace;

/// A condition on messages: the part on their trace ids (a look-up, read first), and the rest.
struct Where {
    ids: Option<String>,
    rest: String,
}

/// The tables reads and inserts go to: the Distributed ones with a cluster, else the local.
#[derive(Debug, Clone)]
pub struct Tables {
    pub traces: String,
    pub lines: String,
    /// Where look-up keys are inserted.
    pub keys: String,
    /// Where a query's key look-up reads: each shard's own keys (they name its messages).
    pub keys_local: String,
}

/// A ClickHouse store.
pub struct ClickHouse {
    location: Location,
    password: Option<String>,
    client: Client,
    tables: Tables,
    access: Access,
}

impl ClickHouse {
    /// Connects to the store at `place` (a `clickhouse://` address) and checks that
    /// `store init` made it.
    pub fn open(place: &Path, access: &Access) -> Result<ClickHouse> {
        let store = ClickHouse::connect(place, access)?;
        let format = store.meta("format").with_context(|| {
            format!(
                "{} is not a mailtrace store yet: create its tables with `mailtrace store init --store '{}'`",
                store.location, store.location
            )
        })?;
        match format.as_deref() {
            Some(f) if f == FORMAT.to_string() => Ok(store),
            Some(f) => bail!(
                "the ClickHouse store {} has format {f}; this mailtrace reads format {FORMAT}",
                store.location
            ),
            None => bail!(
                "{} is not a mailtrace store yet: create its tables with `mailtrace store init --store '{}'`",
                store.location,
                store.location
            ),
        }
    }

    /// Connects without checking the tables (for `store init`).
    pub fn connect(place: &Path, access: &Access) -> Result<ClickHouse> {
        let text = place.to_str().context("a ClickHouse address is text")?;
        let location = Location::parse(text).map_err(anyhow::Error::msg)?;
        let password = Client::password(access.password_file.as_deref())?;
        let client = Client::new(&location, password.clone());
        let db = &location.database;
        let tables = match &location.cluster {
            Some(_) => Tables {
                traces: format!("{db}.traces"),
                lines: format!("{db}.lines"),
                keys: format!("{db}.keys"),
                keys_local: format!("{db}.keys_local"),
            },
            None => Tables {
                traces: format!("{db}.traces_local"),
                lines: format!("{db}.lines_local"),
                keys: format!("{db}.keys_local"),
                keys_local: format!("{db}.keys_local"),
            },
        };
        Ok(ClickHouse {
            location,
            password,
            client,
            tables,
            access: access.clone(),
        })
    }

    fn ddl(&self) -> Ddl {
        Ddl {
            database: self.location.database.clone(),
            cluster: self.location.cluster.clone(),
        }
    }

    /// `mailtrace store init`: creates the database and tables on every shard (`shards`, or
    /// the store's own server when none is given) and records the shards. Idempotent.
    pub fn init(&self, shards: &[Location], out: &mut dyn Write) -> Result<()> {
        let servers: Vec<Location> = if shards.is_empty() {
            vec![self.location.clone()]
        } else {
            shards.to_vec()
        };
        let ddl = self.ddl();
        let names: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
        for s in &servers {
            let client = Client::new(s, self.password.clone());
            if let Some(f) = self.format_on(&client)? {
                if f != FORMAT.to_string() {
                    bail!(
                        "{s} holds a mailtrace store of format {f}; this mailtrace writes format {FORMAT}: \
                         use another database, or drop this one and index the logs again"
                    );
                }
            }
            for statement in ddl.shard() {
                client.run(&statement, false)?;
            }
            let version = super::sink::clock();
            client.run(&ddl.meta("format", &FORMAT.to_string(), version), false)?;
            client.run(&ddl.meta("shards", &serde_json::to_string(&names)?, version), false)?;
            writeln!(out, "  {s}  tables ready (ClickHouse {})", client.version()?)?;
        }
        writeln!(
            out,
            "Store {} is ready: index into it with `mailtrace index --store '{}' /var/log/mail.log`.",
            self.location, self.location
        )?;
        Ok(())
    }

    /// The format of the store already on `client`'s server, if there is one.
    fn format_on(&self, client: &Client) -> Result<Option<String>> {
        let db = &self.location.database;
        if client.run(&format!("EXISTS TABLE {db}.meta"), false)?.trim() != "1" {
            return Ok(None);
        }
        let sql = format!("SELECT value FROM {db}.meta FINAL WHERE key = 'format' FORMAT TSV");
        Ok(client.run(&sql, false)?.lines().next().map(str::to_string))
    }

    /// The statements `store init --print` shows a DBA.
    pub fn init_sql(&self) -> Vec<String> {
        self.ddl().on_cluster()
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        let sql = format!(
            "SELECT value FROM {}.meta FINAL WHERE key = {} FORMAT JSONEachRow",
            self.location.database,
            string(key)
        );
        let text = self.client.run(&sql, false)?;
        #[derive(Deserialize)]
        struct V {
            value: String,
        }
        match text.lines().next() {
            Some(l) => Ok(Some(serde_json::from_str::<V>(l)?.value)),
            None => Ok(None),
        }
    }

    /// The shards `store init` was given (the store's own server when none were).
    fn shards(&self) -> Result<Vec<Location>> {
        let names: Vec<String> = match self.meta("shards")? {
            Some(v) => serde_json::from_str(&v).context("the store's list of shards is damaged")?,
            None => Vec::new(),
        };
        if names.is_empty() {
            return Ok(vec![self.location.clone()]);
        }
        names
            .iter()
            .map(|n| Location::parse(n).map_err(anyhow::Error::msg))
            .collect()
    }

    /// The shards that do not answer now.
    fn down_shards(&self) -> Vec<String> {
        self.shards()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| Client::new(s, self.password.clone()).run("SELECT 1", false).is_err())
            .map(|s| s.to_string())
            .collect()
    }

    /// Runs a read through the Distributed tables, handing each line of the answer to `each`.
    /// A shard that does not answer fails the read, naming it, unless `--partial` was given.
    fn read(&self, sql: &str, each: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
        let settings: &[(&str, &str)] = if self.access.partial {
            &[("skip_unavailable_shards", "1")]
        } else {
            &[]
        };
        match self.client.each_line(sql.as_bytes(), true, settings, each) {
            Ok(()) => Ok(()),
            Err(e) if self.location.cluster.is_some() => {
                let down = self.down_shards();
                if down.is_empty() {
                    return Err(e);
                }
                Err(e.context(format!(
                    "shard {} does not answer: the answer would be partial; pass --partial to answer from the \
                     other shards",
                    down.join(", ")
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// With `--partial`, tells on stderr which shards are left out.
    fn warn_partial(&self) {
        if self.access.partial && self.location.cluster.is_some() {
            for s in self.down_shards() {
                eprintln!("mailtrace: warning: shard {s} does not answer: its messages are left out (--partial)");
            }
        }
    }

    /// What a read of messages selects: `FINAL` (the newest version of each), the part of the
    /// condition on the trace id as `PREWHERE` (ClickHouse reads the other columns only where
    /// it holds: a look-up reads kilobytes, not whole granules; safe with `FINAL` because
    /// every version of a message has its id), then the rest.
    fn messages_where(&self, w: &Where) -> String {
        let prewhere = w.ids.as_deref().map(|p| format!(" PREWHERE {p}")).unwrap_or_default();
        format!("FROM {} FINAL{prewhere} WHERE {}", self.tables.traces, w.rest)
    }

    /// `columns` (the trace id first) of the messages `w` selects, in the answer's order
    /// (`tail` is SQL after the condition: an `ORDER BY` and `LIMIT`).
    fn select<T: serde::de::DeserializeOwned>(&self, columns: &str, w: &Where, tail: &str) -> Result<Vec<(String, T)>> {
        // 18.16 wants the sorting columns selected with Distributed + FINAL + ORDER BY
        let sql = format!(
            "SELECT trace_id, {columns} {}{tail} FORMAT JSONEachRow",
            self.messages_where(w)
        );
        #[derive(Deserialize)]
        struct Keyed<T> {
            trace_id: String,
            #[serde(flatten)]
            rest: T,
        }
        let mut out = Vec::new();
        self.read(&sql, &mut |l| {
            let k: Keyed<T> = serde_json::from_str(l).with_context(|| answer_error(l))?;
            out.push((k.trace_id, k.rest));
            Ok(())
        })?;
        Ok(out)
    }

    /// The trace ids of the messages `w` selects. Only the filter's columns are read: with
    /// `FINAL`, every column a query names is read for every row the `WHERE` looks at, so
    /// without a look-up key the traces come after, by id.
    fn ids(&self, w: &Where, tail: &str) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Nothing {}
        Ok(self
            .select::<Nothing>("first_time", w, tail)?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// `columns` of the messages `ids` (their newest state), by trace id, a thousand at a
    /// time.
    fn fetch<T: serde::de::DeserializeOwned>(
        &self,
        ids: &[String],
        columns: &str,
    ) -> Result<std::collections::HashMap<String, T>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for batch in ids.chunks(1000) {
            let list: Vec<String> = batch.iter().map(|i| string(i)).collect();
            let w = Where {
                ids: Some(format!("trace_id IN ({})", list.join(", "))),
                rest: "deleted = 0".into(),
            };
            out.extend(self.select::<T>(columns, &w, "")?);
        }
        Ok(out)
    }

    /// The condition on messages that have one of `keys`: a range of each shard's keys.
    fn under_keys(&self, keys: &[String]) -> String {
        let list: Vec<String> = keys.iter().map(|k| string(k)).collect();
        format!(
            "trace_id IN (SELECT trace_id FROM {} WHERE key IN ({}))",
            self.tables.keys_local,
            list.join(", ")
        )
    }

    /// The whole condition of a filter: its key look-up, when it has keys, then its checks.
    fn matching(&self, f: &Filter) -> Where {
        Where {
            ids: (!f.keys.is_empty()).then(|| self.under_keys(&f.keys)),
            rest: f.trace.clone(),
        }
    }

    /// The days held, oldest first.
    fn days(&self) -> Result<Vec<DayCount>> {
        let sql = format!(
            "SELECT toString(day) AS day, count() AS traces, sum(if(length(rcpt) = 0, 1, length(rcpt))) AS rows \
             FROM {} FINAL WHERE deleted = 0 GROUP BY day ORDER BY day FORMAT JSONEachRow",
            self.tables.traces
        );
        let mut out = Vec::new();
        self.read(&sql, &mut |l| {
            out.push(serde_json::from_str::<DayCount>(l).with_context(|| answer_error(l))?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Bytes on disk per day, over every shard.
    fn day_bytes(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        let mut out = std::collections::BTreeMap::new();
        for s in self.shards()? {
            let sql = format!(
                "SELECT partition, sum(bytes) AS bytes FROM system.parts WHERE active AND database = {} \
                 AND table IN ({}) GROUP BY partition FORMAT JSONEachRow",
                string(&self.location.database),
                super::schema::DAY_TABLES
                    .iter()
                    .map(|t| string(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            #[derive(Deserialize)]
            struct P {
                partition: String,
                bytes: Number,
            }
            let text = Client::new(&s, self.password.clone()).run(&sql, false)?;
            for l in text.lines() {
                let p: P = serde_json::from_str(l).with_context(|| answer_error(l))?;
                *out.entry(p.partition.trim_matches('\'').to_string()).or_insert(0) += p.bytes.0;
            }
        }
        Ok(out)
    }

    /// Where the reading state of writers to this store is kept on this machine.
    fn state_dir(&self) -> PathBuf {
        if let Some(d) = &self.access.state_dir {
            return d.clone();
        }
        let name: String = format!(
            "clickhouse-{}-{}-{}",
            self.location.host, self.location.port, self.location.database
        )
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
        dirs::state_dir()
            .or_else(dirs::data_dir)
            .unwrap_or_else(|| PathBuf::from("."))
            .join("mailtrace")
            .join(name)
    }
}

/// An answer line that is not the JSON asked for: ClickHouse's own error text, shown.
fn answer_error(line: &str) -> String {
    format!(
        "ClickHouse answered something else than rows: {}",
        line.chars().take(300).collect::<String>()
    )
}

/// A 64-bit number as ClickHouse writes it in JSON: 18.16 quotes them, current releases may
/// not.
#[derive(Debug, Clone, Copy)]
struct Number<T = u64>(T);

impl<'de, T> Deserialize<'de> for Number<T>
where
    T: Deserialize<'de> + std::str::FromStr,
    T::Err: std::fmt::Display,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Number<T>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N<T> {
            Int(T),
            Text(String),
        }
        match N::<T>::deserialize(d)? {
            N::Int(n) => Ok(Number(n)),
            N::Text(t) => t.parse().map(Number).map_err(serde::de::Error::custom),
        }
    }
}

#[derive(Deserialize)]
struct DayCount {
    day: String,
    traces: Number,
    rows: Number,
}

#[derive(Deserialize)]
struct TraceAnswer {
    trace: String,
    #[serde(default)]
    timeline: String,
    #[serde(default)]
    lines: String,
}

impl TraceAnswer {
    fn stored(self) -> Result<StoredTrace> {
        let mut st: StoredTrace = serde_json::from_str(&self.trace).context("a damaged trace in ClickHouse")?;
        read_timeline(&self.timeline, &self.lines, &mut st.trace.timeline)?;
        Ok(st)
    }
}

impl Backend for ClickHouse {
    fn name(&self) -> String {
        self.location.to_string()
    }

    fn search(&self, c: &Criteria, limit: Option<usize>, _historical: bool) -> Result<SearchResult> {
        self.warn_partial();
        let f = Filter::of(c);
        let cap = match limit {
            Some(n) if n > 0 => format!(" LIMIT {n}"),
            _ => String::new(),
        };
        // the newest messages with a matching row: each gives at least one row, so `limit`
        // messages give at least `limit` rows
        let w = self.matching(&f);
        let tail = format!(" ORDER BY first_time DESC, trace_id DESC{cap}");
        let found: Vec<(String, TraceAnswer)> = if w.ids.is_some() {
            // a look-up key: the traces in the same read
            self.select("first_time, trace", &w, &tail)?
        } else {
            let ids = self.ids(&w, &tail)?;
            let mut by_id = self.fetch::<TraceAnswer>(&ids, "trace")?;
            ids.into_iter()
                .filter_map(|id| by_id.remove(&id).map(|a| (id, a)))
                .collect()
        };
        let messages = found.len();
        let mut rows: Vec<Row> = Vec::new();
        for (_, a) in found {
            let st = a.stored()?;
            rows.extend(c.rows(&st.trace).into_iter().map(|i| Row::new(&st.trace, i)));
        }
        let total = match limit {
            Some(n) if n > 0 && messages >= n => {
                let sql = format!(
                    "SELECT sum({}) AS n {} FORMAT JSONEachRow",
                    f.rows,
                    self.messages_where(&w)
                );
                let mut n = rows.len();
                self.read(&sql, &mut |l| {
                    #[derive(Deserialize)]
                    struct N {
                        n: Number,
                    }
                    n = serde_json::from_str::<N>(l).with_context(|| answer_error(l))?.n.0 as usize;
                    Ok(())
                })?;
                n
            }
            _ => rows.len(),
        };
        if let Some(n) = limit.filter(|&n| n > 0) {
            rows.truncate(n);
        }
        // what the store holds, for an empty answer only (it costs a query)
        let hint = if !rows.is_empty() {
            String::new()
        } else {
            match self.held() {
                Ok(held) => match (held.hot_first, held.hot_last) {
                    (Some(a), Some(b)) => format!(
                        "The store {} holds messages received {a} … {b} (UTC). Check the criteria; `mailtrace \
                         index` adds new log lines.",
                        self.location
                    ),
                    _ => format!(
                        "The store {} is empty: fill it with `mailtrace index --store '{}' /var/log/mail.log`.",
                        self.location, self.location
                    ),
                },
                Err(_) => "Check the criteria.".to_string(),
            }
        };
        Ok(SearchResult { rows, total, hint })
    }

    fn traces(&self, id: &str) -> Result<Vec<StoredTrace>> {
        self.warn_partial();
        let v = string(id);
        let w = Where {
            ids: Some(format!(
                "trace_id = {v} OR {}",
                self.under_keys(&super::keys::for_id(id))
            )),
            rest: format!(
                "deleted = 0 AND (trace_id = {v} OR has(queue_ids, {v}) OR (has_message_id = 1 AND message_id = {v}))"
            ),
        };
        self.select::<TraceAnswer>("trace, timeline, lines", &w, "")?
            .into_iter()
            .map(|(_, a)| a.stored())
            .collect()
    }

    fn linked(&self, keys: &LinkKeys) -> Result<Vec<Trace>> {
        let wanted = keys.matcher();
        let mut window = vec!["deleted = 0".to_string()];
        if let Some(s) = keys.since {
            window.push(format!("first_time >= {}", s.timestamp_micros()));
        }
        if let Some(u) = keys.until {
            window.push(format!("first_time <= {}", u.timestamp_micros()));
        }
        if !keys.except.is_empty() && keys.except.len() <= 10_000 {
            let list: Vec<String> = keys.except.iter().map(|i| string(i)).collect();
            window.push(format!("trace_id NOT IN ({})", list.join(", ")));
        }
        let mut out = Vec::new();
        let mut each = |w: Where| -> Result<()> {
            for (_, a) in self.select::<TraceAnswer>("trace", &w, "")? {
                let t = a.stored()?.trace;
                if wanted(&t) {
                    out.push(t);
                }
            }
            Ok(())
        };
        for batch in keys.trace_ids.chunks(1000) {
            let list: Vec<String> = batch.iter().map(|i| string(i)).collect();
            each(Where {
                ids: Some(format!("trace_id IN ({})", list.join(", "))),
                rest: window.join(" AND "),
            })?;
        }
        for batch in super::keys::for_links(keys).chunks(1000) {
            each(Where {
                ids: Some(self.under_keys(batch)),
                rest: window.join(" AND "),
            })?;
        }
        out.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
        out.dedup_by(|a, b| a.trace_id == b.trace_id);
        Ok(out)
    }

    fn replay(&self, c: &Criteria, each: &mut dyn FnMut(&ReplayLine) -> Result<()>) -> Result<u64> {
        self.warn_partial();
        let (since, until) = (c.since, c.until);
        let mut days = Vec::new();
        if let Some(s) = since {
            days.push(format!(
                "day >= toDate({})",
                string(&s.date_naive().format("%Y-%m-%d").to_string())
            ));
        }
        if let Some(u) = until {
            days.push(format!(
                "day <= toDate({})",
                string(&u.date_naive().format("%Y-%m-%d").to_string())
            ));
        }
        // with message criteria: the lines of the matching messages, by file key and offset
        let mut wanted: Option<std::collections::HashSet<(u64, u64)>> = None;
        if !c.only_time() {
            let ids = self.ids(&self.matching(&Filter::of(c)), "")?;
            #[derive(Deserialize)]
            struct A {
                trace: String,
                timeline: String,
                file_ids: Vec<u32>,
                file_keys: Vec<Number>,
            }
            let mut set = std::collections::HashSet::new();
            for a in self
                .fetch::<A>(&ids, "trace, timeline, file_ids, file_keys")?
                .into_values()
            {
                let mut st: StoredTrace = serde_json::from_str(&a.trace).context("a damaged trace in ClickHouse")?;
                read_timeline(&a.timeline, "", &mut st.trace.timeline)?;
                if c.rows(&st.trace).is_empty() {
                    continue;
                }
                for e in &st.trace.timeline {
                    if let Some(i) = a.file_ids.iter().position(|f| *f == e.line.file) {
                        set.insert((a.file_keys[i].0, e.line.offset));
                    }
                }
            }
            if set.is_empty() {
                return Ok(0);
            }
            wanted = Some(set);
        }
        let mut filter = days.join(" AND ");
        if let Some(set) = &wanted {
            let mut keys: Vec<u64> = set.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            keys.dedup();
            let keys: Vec<String> = keys.iter().map(u64::to_string).collect();
            if !filter.is_empty() {
                filter.push_str(" AND ");
            }
            filter.push_str(&format!("file_key IN ({})", keys.join(", ")));
        }
        let filter = if filter.is_empty() { "1".to_string() } else { filter };
        let sql = format!(
            "SELECT file_key, offset, has_time, time, file, line, raw_hex FROM {} FINAL WHERE {filter} \
             ORDER BY day, file_start, file_key, offset FORMAT JSONEachRow",
            self.tables.lines
        );
        #[derive(Deserialize)]
        struct L {
            file_key: Number,
            offset: Number,
            has_time: u8,
            time: Number<i64>,
            file: String,
            line: String,
            raw_hex: String,
        }
        let mut written = 0u64;
        let mut keep_previous = false;
        self.read(&sql, &mut |l| {
            let r: L = serde_json::from_str(l).with_context(|| answer_error(l))?;
            let time = (r.has_time == 1)
                .then(|| DateTime::from_timestamp_micros(r.time.0))
                .flatten();
            let keep = match (&wanted, time) {
                (Some(set), _) => set.contains(&(r.file_key.0, r.offset.0)),
                // a line without a time goes with the one before it
                (None, None) => keep_previous,
                (None, Some(t)) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u),
            };
            keep_previous = keep;
            if keep {
                written += 1;
                each(&ReplayLine {
                    file: r.file,
                    offset: r.offset.0,
                    time,
                    bytes: super::encode::line_bytes(r.line, &r.raw_hex),
                })?;
            }
            Ok(())
        })?;
        Ok(written)
    }

    fn held(&self) -> Result<Held> {
        // the day partitions on the shards: no scan of the messages
        let days: Vec<NaiveDate> = self
            .day_bytes()?
            .keys()
            .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .collect();
        Ok(Held {
            path: self.name(),
            hot_first: days.first().copied(),
            hot_last: days.last().copied(),
            archive_days: 0,
            archive_first: None,
        })
    }

    fn info(&self, json: bool, out: &mut dyn Write) -> Result<()> {
        let days = self.days()?;
        let bytes = self.day_bytes()?;
        let state = IngestState::load(&self.state_dir())?;
        let shards: Vec<String> = self.shards()?.iter().map(|s| s.to_string()).collect();
        let day_bytes = |d: &str| bytes.get(d).copied().unwrap_or(0);
        if json {
            let list: Vec<serde_json::Value> = days
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "day": d.day, "rows": d.rows.0, "traces": d.traces.0, "bytes": day_bytes(&d.day),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({
                    "store": self.location.to_string(),
                    "shards": shards,
                    "hot": { "days": list },
                    "archive": { "days": [] },
                    "files": crate::store::embedded::files_json(&state),
                }),
            )?;
            writeln!(out)?;
            return Ok(());
        }
        writeln!(
            out,
            "Store {} ({} shard(s): {})",
            self.location,
            shards.len(),
            shards.join(", ")
        )?;
        let tier: Vec<crate::store::embedded::TierDay> = days
            .iter()
            .filter_map(|d| {
                let day = NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok()?;
                Some((day, d.rows.0, d.traces.0, day_bytes(&d.day)))
            })
            .collect();
        crate::store::embedded::write_tier(out, "Days", &tier)?;
        writeln!(out, "Reading state on this machine: {}", self.state_dir().display())?;
        crate::store::embedded::write_files(out, &state)
    }

    fn maintain(&self, now: DateTime<Utc>, windows: Windows) -> Result<Report> {
        let first_kept = windows.first_kept(now);
        let version = super::sink::clock();
        let text = windows.to_json();
        let mut report = Report::default();
        for s in self.shards()? {
            let client = Client::new(&s, self.password.clone());
            client.run(&self.ddl().meta("windows", &text, version), false)?;
            for table in super::schema::DAY_TABLES {
                let sql = format!(
                    "SELECT DISTINCT partition FROM system.parts WHERE active AND database = {} AND table = {} \
                     FORMAT JSONEachRow",
                    string(&self.location.database),
                    string(table)
                );
                #[derive(Deserialize)]
                struct P {
                    partition: String,
                }
                for l in client.run(&sql, false)?.lines() {
                    let p: P = serde_json::from_str(l).with_context(|| answer_error(l))?;
                    let name = p.partition.trim_matches('\'');
                    let Ok(day) = NaiveDate::parse_from_str(name, "%Y-%m-%d") else {
                        continue;
                    };
                    if day < first_kept {
                        client.run(
                            &format!(
                                "ALTER TABLE {}.{table} DROP PARTITION {}",
                                self.location.database,
                                string(name)
                            ),
                            false,
                        )?;
                        report.deleted.push(day);
                    }
                }
            }
        }
        report.deleted.sort();
        report.deleted.dedup();
        report.hot_days = self.days()?.len();
        Ok(report)
    }

    fn windows(&self) -> Result<Option<Windows>> {
        let Some(text) = self.meta("windows")? else {
            return Ok(None);
        };
        Windows::from_json(text.as_bytes())
            .map(Some)
            .context("the store's retention windows are damaged")
    }

    /// The counters of the writers on this machine (their state is local).
    fn counters(&self) -> Result<crate::metrics::Counters> {
        Ok(IngestState::load(&self.state_dir())?.metrics)
    }

    fn writer_place(&self) -> Result<WriterPlace> {
        let dir = self.state_dir();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
        let path = dir.join("lock");
        let f = std::fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(WriterPlace {
                state_dir: dir,
                lock: f,
            }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another `mailtrace index` or `mailtrace follow` on this machine is writing with the state {}: \
                 wait for it, or give this one its own --state",
                dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
    }

    fn sink(&self, state: &IngestState, _recovered: bool) -> Result<Box<dyn Sink>> {
        Ok(Box::new(ClickHouseSink::new(
            Client::new(&self.location, self.password.clone()),
            self.tables.clone(),
            state,
        )))
    }
}
