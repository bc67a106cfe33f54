//! The commands behind the CLI: `index`, `search`, `show`, `stats` and `store info`.
//! `main.rs` parses arguments into these option structs; everything here is callable from
//! tests. `search` and `show` read the log files given with `--log`, else the store.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::config::Config;
use crate::output::{timeline, write_rows, Format, Row};
use crate::query::Criteria;
use crate::scan::{scan, ScanOptions, ScanStats};
use crate::source::Input;
use crate::store::backend::Backend;
use crate::store::{ingest, Store};
use crate::syslog::Zone;
use crate::trace::{DirectionRules, Trace};

/// Exit codes (documented in docs/CLI.md).
pub mod exit {
    /// Something matched.
    pub const FOUND: u8 = 0;
    /// The search ran but nothing matched.
    pub const NOTHING: u8 = 1;
    /// Usage error or unreadable input.
    pub const ERROR: u8 = 2;
    /// `index`: what could be read was indexed, but some files were skipped, damaged or held
    /// no mail log line (listed).
    pub const PARTIAL: u8 = 3;
}

/// Options every command shares: where the logs are and how to read them.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub logs: Vec<PathBuf>,
    /// Also search the archive tier (`--historical`; implied by `--since` before the hot days).
    pub historical: bool,
    /// "Now" for the commands that depend on today's date (`--now`, `$MAILTRACE_NOW`).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// journald output to read (`journalctl -o json` / `-o export`; `-` is standard input).
    pub journals: Vec<PathBuf>,
    /// The store (`--store`); `None`: `$MAILTRACE_STORE` or the platform data directory.
    pub store: Option<PathBuf>,
    pub year: Option<i32>,
    pub timezone: Option<String>,
    pub local_domains: Vec<String>,
    pub local_networks: Vec<String>,
    pub config: Option<PathBuf>,
    /// The host of lines that name none (`--default-host`: Exim's own main log).
    pub default_host: Option<String>,
    /// Threads that parse (`--threads`; 0: one per core).
    pub threads: usize,
    /// How to reach a ClickHouse store (password file, state directory, `--partial`).
    pub access: crate::store::backend::Access,
}

impl Common {
    /// The zone for BSD timestamps and for `--since`/`--until` without an offset.
    pub fn zone(&self) -> Result<Zone> {
        self.zone_with(&self.load_config()?)
    }

    fn zone_with(&self, cfg: &Config) -> Result<Zone> {
        let name = self
            .timezone
            .clone()
            .or_else(|| cfg.timezone.clone())
            .unwrap_or_else(|| "local".into());
        Zone::parse(&name).map_err(anyhow::Error::msg)
    }

    /// The config file (`--config`, `$MAILTRACE_CONFIG`, the system's; see [`Config::find`]).
    pub fn load_config(&self) -> Result<Config> {
        Config::find(self.config.as_deref())
    }

    /// Opens the inputs and settles the scan options.
    pub fn prepare(&self) -> Result<(Vec<Input>, ScanOptions)> {
        if !self.reads_logs() {
            bail!("no log files given: pass --log /var/log/mail.log (repeat --log for more files)");
        }
        let opts = self.scan_options()?;
        let inputs = self
            .named_inputs()?
            .iter()
            .enumerate()
            .map(|(i, (p, journal))| Input::open_as(p, i as u32, *journal))
            .collect::<Result<Vec<_>>>()?;
        Ok((inputs, opts))
    }

    /// Whether logs were named (then they are read instead of the store).
    pub fn reads_logs(&self) -> bool {
        !self.logs.is_empty() || !self.journals.is_empty()
    }

    /// The files to read, with whether each is journald output: the logs (directories and
    /// globs expanded, rotated sets oldest first), then the journals.
    pub fn named_inputs(&self) -> Result<Vec<(PathBuf, bool)>> {
        let mut all: Vec<(PathBuf, bool)> = crate::source::set::expand(&self.logs)?
            .into_iter()
            .map(|p| (p, false))
            .collect();
        all.extend(self.journals.iter().map(|p| (p.clone(), true)));
        if all.iter().filter(|(p, _)| p.as_os_str() == "-").count() > 1 {
            bail!("standard input (`-`) can be named only once");
        }
        Ok(all)
    }

    /// How to read logs: the year, the zone and the direction rules.
    pub fn scan_options(&self) -> Result<ScanOptions> {
        let cfg = self.load_config()?;
        let mut rules = DirectionRules::default();
        for d in cfg.local_domains.iter().chain(&self.local_domains) {
            for part in d.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                rules
                    .local_domains
                    .push(part.trim_start_matches('@').to_ascii_lowercase());
            }
        }
        for n in cfg.local_networks.iter().chain(&self.local_networks) {
            for part in n.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let net = part
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .with_context(|| format!("'{part}' in local networks is not a network: use e.g. 10.0.0.0/8"))?;
                rules.local_networks.push(net);
            }
        }
        Ok(ScanOptions {
            year: self.year,
            zone: self.zone_with(&cfg)?,
            rules,
            progress: std::io::stderr().is_terminal(),
            keep_text: false,
            default_host: self.default_host.clone().filter(|h| !h.trim().is_empty()),
            threads: self.threads,
            block_bytes: 0,
        })
    }

    /// The store to read or write (see [`Store::locate`]): a directory or a `clickhouse://`
    /// address.
    pub fn store_dir(&self) -> Result<PathBuf> {
        let configured = match &self.store {
            Some(_) => None,
            None => self.load_config()?.store,
        };
        Ok(Store::locate(self.store.as_deref(), configured.as_deref()))
    }

    /// Opens the store for reading.
    pub fn open_store(&self) -> Result<Box<dyn Backend>> {
        crate::store::backend::open(&self.store_dir()?, &self.access)
    }

    /// Opens the store to change it: run as root on a store directory another user owns (the
    /// system store), the process first becomes that user, so what it writes stays theirs
    /// (see [`crate::store::owner`]).
    pub fn open_store_to_write(&self) -> Result<Box<dyn Backend>> {
        let dir = self.store_dir()?;
        crate::store::owner::act_as_owner(&dir)?;
        crate::store::backend::open(&dir, &self.access)
    }

    /// Joins the legs of messages across servers, with the config's host aliases.
    fn link(&self, legs: crate::path::LegSet) -> Result<crate::path::Legs> {
        Ok(crate::path::Legs::new(legs, &self.load_config()?.hosts))
    }

    /// Sets the path keys of rows read from `store`, from the legs around them.
    fn link_rows(&self, store: &dyn Backend, rows: &mut [Row]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let legs = crate::path::stored::around_rows(store, rows, &self.load_config()?.hosts)?.legs;
        // the recipient after the one of the trace's row before
        let mut next: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for row in rows {
            if let Some(p) = legs.on_path(&row.trace_id) {
                let from = next.get(&row.trace_id).copied().unwrap_or(0);
                let index = row
                    .to
                    .as_deref()
                    .and_then(|to| legs.recipient_of(&row.trace_id, (to, row.orig_to.as_deref(), &row.status), from));
                if let Some(i) = index {
                    next.insert(row.trace_id.clone(), i + 1);
                }
                row.on_path(&p, index);
            }
        }
        Ok(())
    }

    /// Opens the store for writing (an embedded one is created if new), as its owner (see
    /// [`Common::open_store_to_write`]).
    pub fn create_store(&self) -> Result<Box<dyn Backend>> {
        let dir = self.store_dir()?;
        crate::store::owner::act_as_owner(&dir)?;
        crate::store::backend::create(&dir, &self.access)
    }
}

/// A trace with its matching rows (recipient indexes; `None` for a recipient-less message)
/// and its place on the delivery path across servers.
pub struct Match {
    pub trace: Trace,
    pub rows: Vec<Option<usize>>,
    pub path: Option<crate::path::OnPath>,
}

impl Match {
    pub fn to_rows(&self) -> impl Iterator<Item = Row> + '_ {
        self.rows.iter().map(|i| {
            let mut row = Row::new(&self.trace, *i);
            if let Some(p) = &self.path {
                row.on_path(p, *i);
            }
            row
        })
    }
}

/// What a search found, with the inputs (for re-reading lines) and the scan's counts.
pub struct Found {
    pub inputs: Vec<Input>,
    pub matches: Vec<Match>,
    pub stats: ScanStats,
}

/// Tells on stderr which files were damaged (what came before the damage was read, and so
/// were the other files) or held lines that are not text.
fn warn_damage(stats: &ScanStats) {
    for w in stats.files.iter().flat_map(|f| f.warnings()) {
        eprintln!("mailtrace: warning: {w}");
    }
}

/// Collects every trace with at least one matching row, newest first (by the time the
/// message arrived, then trace id).
pub fn find(common: &Common, criteria: &Criteria) -> Result<Found> {
    let (inputs, opts) = common.prepare()?;
    let mut matches = Vec::new();
    let mut legs = crate::path::LegSet::default();
    let stats = scan(&inputs, &opts, |trace| {
        legs.add(&trace);
        let rows = criteria.rows(&trace);
        if !rows.is_empty() {
            matches.push(Match {
                trace,
                rows,
                path: None,
            });
        }
    })?;
    warn_damage(&stats);
    let legs = common.link(legs)?;
    for m in &mut matches {
        m.path = legs.on_path(&m.trace.trace_id);
    }
    matches.sort_by(|a, b| (b.trace.first_time, &b.trace.trace_id).cmp(&(a.trace.first_time, &a.trace.trace_id)));
    Ok(Found { inputs, matches, stats })
}

pub use crate::store::backend::SearchResult;

/// Runs a search over the logs named in `common`, else the store (and its archive tier when
/// `common.historical` or the time range asks for it); at most `limit` rows (`None`: all).
pub fn search_rows(common: &Common, criteria: &Criteria, limit: Option<usize>) -> Result<SearchResult> {
    let mut found = search_rows_as_asked(common, criteria, limit)?;
    // what in the criteria may be why nothing matched, first
    let mistakes = criteria.likely_mistakes();
    if found.rows.is_empty() && !mistakes.is_empty() {
        found.hint = format!("{} {}", mistakes.join(" "), found.hint);
    }
    Ok(found)
}

/// [`search_rows`] without the hints about the criteria.
fn search_rows_as_asked(common: &Common, criteria: &Criteria, limit: Option<usize>) -> Result<SearchResult> {
    if criteria.end_to_end {
        return search_end_to_end(common, criteria, limit);
    }
    if !common.reads_logs() {
        let store = common.open_store()?;
        let mut found = store.search(criteria, limit, common.historical)?;
        common.link_rows(&*store, &mut found.rows)?;
        if found.rows.is_empty() {
            if let Some(miss) = store_span(&store.held()?).and_then(|span| criteria.window_misses(span, "the store")) {
                found.hint = format!("{miss} {}", found.hint);
            }
        }
        return Ok(found);
    }
    let found = find(common, criteria)?;
    let rows: Vec<Row> = found.matches.iter().flat_map(Match::to_rows).collect();
    let generic = "Check the time range (BSD timestamps have no year: see --year) and the criteria.";
    let hint = match found
        .stats
        .span()
        .and_then(|span| criteria.window_misses(span, "the files read"))
    {
        Some(miss) => format!("{miss} {generic}"),
        None => generic.to_string(),
    };
    Ok(first_rows(rows, limit, &hint))
}

/// The first and last moment of the days a store holds, archives included.
fn store_span(
    held: &crate::store::backend::Held,
) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let first = held.archive_first.or(held.hot_first)?;
    let last = held.hot_last.or(held.archive_first)?;
    let start = first.and_hms_opt(0, 0, 0)?.and_utc();
    let end = last.and_hms_opt(23, 59, 59)?.and_utc();
    Some((start, end))
}

/// The first `limit` of `rows` (`None`: all), with how many there were and what to say when
/// there are none.
fn first_rows(mut rows: Vec<Row>, limit: Option<usize>, hint: &str) -> SearchResult {
    let total = rows.len();
    if let Some(n) = limit {
        rows.truncate(n);
    }
    SearchResult {
        rows,
        total,
        hint: hint.to_string(),
    }
}

/// End-to-end rows ([`crate::path::end_to_end`]): from the logs named in `common`, else the
/// store.
fn search_end_to_end(common: &Common, criteria: &Criteria, limit: Option<usize>) -> Result<SearchResult> {
    let aliases = common.load_config()?.hosts;
    let rows = if common.reads_logs() {
        end_to_end_from_logs(common, criteria, &aliases)?
    } else {
        let store = common.open_store()?;
        crate::path::end_to_end::from_store(&*store, criteria, common.historical, &aliases)?
    };
    Ok(first_rows(
        rows,
        limit,
        "End to end, --from, --subject, --client-ip and --direction apply to where a message \
         arrived, --status and --folder to where each recipient's path ends. Check the time range \
         and the criteria; without --end-to-end each server's leg is a row of its own.",
    ))
}

/// End-to-end rows from the logs: one reading decides which rows there are, a second reads
/// the messages they are made from (standard input cannot be read twice: then the messages
/// that may give a row are kept from the first reading).
fn end_to_end_from_logs(
    common: &Common,
    criteria: &Criteria,
    aliases: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<Vec<Row>> {
    use crate::path::end_to_end::{by_key, EndToEnd};
    let (inputs, opts) = common.prepare()?;
    let again = !inputs.iter().any(Input::is_stdin);
    let mut e = EndToEnd::new(criteria);
    let mut kept = Vec::new();
    let stats = scan(&inputs, &opts, |t| {
        e.add(&t);
        if !again && e.may_show(&t) {
            kept.push(t);
        }
    })?;
    warn_damage(&stats);
    let linked = e.link(aliases);
    let traces = if again {
        let wants = linked.wants();
        let mut traces = std::collections::HashMap::new();
        if !wants.is_empty() {
            scan(&inputs, &opts, |t| {
                let k = crate::path::key(&t.trace_id);
                if wants.contains(&k) {
                    traces.insert(k, t);
                }
            })?;
        }
        traces
    } else {
        by_key(kept)
    };
    Ok(linked.rows(&traces))
}

/// `mailtrace search`: prints matching rows; returns the exit code.
pub fn search(
    common: &Common,
    criteria: &Criteria,
    format: Format,
    limit: Option<usize>,
    out: &mut dyn Write,
) -> Result<u8> {
    let limit = match (limit, format) {
        (Some(0), _) => None,
        (Some(n), _) => Some(n),
        (None, f) if f.is_table() => Some(1000),
        (None, _) => None,
    };
    if limit.is_none()
        && matches!(format, Format::Ndjson | Format::Csv | Format::Json)
        && !criteria.end_to_end
        && !common.reads_logs()
    {
        return search_streamed(common, criteria, format, out);
    }
    let SearchResult { rows, total, hint } = search_rows(common, criteria, limit)?;
    let cut = (total > rows.len()).then(|| total - rows.len());
    if rows.is_empty() && format.is_table() {
        writeln!(out, "No messages matched. {hint}")?;
        return Ok(exit::NOTHING);
    }
    write_rows(out, &rows, format, cut)?;
    Ok(if rows.is_empty() { exit::NOTHING } else { exit::FOUND })
}

/// `search` of every row from a store as NDJSON, CSV or a JSON array: written a batch at a
/// time as the store reads them ([`crate::store::backend::Backend::search_each`]), so memory
/// holds one batch of rows however many match. The bytes are those of [`write_rows`] over all
/// of them.
fn search_streamed(common: &Common, criteria: &Criteria, format: Format, out: &mut dyn Write) -> Result<u8> {
    let store = common.open_store()?;
    let mut written = 0;
    store.search_each(criteria, common.historical, &mut |mut rows| {
        if rows.is_empty() {
            return Ok(());
        }
        common.link_rows(&*store, &mut rows)?;
        let first = written == 0;
        written += rows.len();
        match format {
            // the first batch as `write_rows` writes it (CSV: under its header)
            Format::Csv | Format::Ndjson if first => write_rows(out, &rows, format, None),
            _ => crate::output::write_more_rows(out, &rows, format, first),
        }
    })?;
    match format {
        Format::Json => crate::output::json_array_end(out, written > 0)?,
        _ if written == 0 => write_rows(out, &[], format, None)?,
        _ => {}
    }
    Ok(if written == 0 { exit::NOTHING } else { exit::FOUND })
}

/// The messages `show` found, oldest first, with the names of the files their lines came from.
pub struct Shown {
    pub traces: Vec<Trace>,
    /// File number (of [`crate::event::LineRef::file`]) → path.
    pub files: Vec<(u32, String)>,
    /// Trace id → its place on the delivery path across servers (when the legs were linked).
    pub paths: std::collections::HashMap<String, crate::path::OnPath>,
}

impl Shown {
    /// The path of file number `i` (empty when unknown).
    pub fn file_name(&self, i: u32) -> String {
        self.files
            .iter()
            .find(|(n, _)| *n == i)
            .map_or_else(String::new, |(_, p)| p.clone())
    }

    /// What `show --format json` prints: per message, the trace, its rows (path keys
    /// included) and its raw lines.
    pub fn write_json(&self, out: &mut dyn Write) -> Result<()> {
        timeline::write_json(out, &self.traces, &|i| self.file_name(i), &self.paths)
    }

    /// What `show` prints as text: the delivery paths across servers, then each message.
    pub fn write_text(&self, out: &mut dyn Write) -> Result<()> {
        let hops: Vec<(&Trace, crate::path::OnPath)> = self
            .traces
            .iter()
            .filter_map(|t| Some((t, self.paths.get(&t.trace_id)?.clone())))
            .filter(|(_, p)| p.prev_hop.is_some() || p.next_hop.iter().any(Option::is_some))
            .collect();
        // one block per path (two unrelated paths can share a Message-ID)
        for path in crate::output::path::separate(hops) {
            crate::output::path::write_text(out, &path)?;
        }
        for (i, t) in self.traces.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            timeline::write_text(out, t, &|i| self.file_name(i))?;
        }
        Ok(())
    }
}

/// The messages whose queue id, Message-ID (with or without `<>`) or trace id is `id`, from
/// the logs named in `common` (with every other leg of their delivery paths across servers),
/// else the store's hot and archive tiers.
pub fn show_traces(common: &Common, id: &str) -> Result<Shown> {
    let id = crate::query::clean_id(id);
    let shown = show_traces_of(common, &id)?;
    // a Postfix queue id typed or pasted in lower case
    match crate::query::upper_queue_id(&id) {
        Some(upper) if shown.traces.is_empty() => show_traces_of(common, &upper),
        _ => Ok(shown),
    }
}

/// [`show_traces`] of an id as it is.
fn show_traces_of(common: &Common, id: &str) -> Result<Shown> {
    let mut traces = Vec::new();
    let mut files: Vec<(u32, String)> = Vec::new();
    let paths;
    if !common.reads_logs() {
        let store = common.open_store()?;
        for st in store.traces(id)? {
            files.extend(st.files);
            traces.push(st.trace);
        }
        // the other legs of their paths
        let found = crate::path::stored::around_traces(&*store, &traces, &common.load_config()?.hosts)?;
        let held: std::collections::HashSet<u64> = traces.iter().map(|t| crate::path::key(&t.trace_id)).collect();
        let others: std::collections::BTreeSet<&String> = traces
            .iter()
            .flat_map(|t| found.legs.path(&t.trace_id))
            .filter(|k| !held.contains(k))
            .filter_map(|k| found.trace_ids.get(&k))
            .collect();
        for other in others {
            for st in store
                .traces(other)?
                .into_iter()
                .filter(|st| &st.trace.trace_id == other)
            {
                files.extend(st.files);
                traces.push(st.trace);
            }
        }
        paths = traces
            .iter()
            .filter_map(|t| Some((t.trace_id.clone(), found.legs.on_path(&t.trace_id)?)))
            .collect();
    } else {
        let (inputs, mut opts) = common.prepare()?;
        opts.keep_text = true;
        let is_it =
            |t: &Trace| t.queue_ids.iter().any(|q| q == id) || t.message_id.as_deref() == Some(id) || t.trace_id == id;
        let mut legs = crate::path::LegSet::default();
        let stats = scan(&inputs, &opts, |t| {
            legs.add(&t);
            if is_it(&t) {
                traces.push(t);
            }
        })?;
        warn_damage(&stats);
        // the other legs of their paths, read again
        let linked = common.link(legs)?;
        let held: std::collections::HashSet<u64> = traces.iter().map(|t| crate::path::key(&t.trace_id)).collect();
        let others: std::collections::HashSet<u64> = traces
            .iter()
            .flat_map(|t| linked.path(&t.trace_id))
            .filter(|t| !held.contains(t))
            .collect();
        // standard input cannot be read again: the legs read from it are left out, and said so
        let again: Vec<Input> = inputs.iter().filter(|i| !i.is_stdin()).cloned().collect();
        if !others.is_empty() && again.len() < inputs.len() {
            eprintln!(
                "mailtrace: warning: the delivery path has {} other leg(s); those read from standard input \
                 cannot be read a second time for their lines: give the files instead of `-`",
                others.len()
            );
        }
        if !others.is_empty() && !again.is_empty() {
            scan(&again, &opts, |t| {
                if others.contains(&crate::path::key(&t.trace_id)) {
                    traces.push(t);
                }
            })?;
        }
        paths = traces
            .iter()
            .filter_map(|t| Some((t.trace_id.clone(), linked.on_path(&t.trace_id)?)))
            .collect();
        files.extend(inputs.iter().map(|i| (i.index, i.path.display().to_string())));
    }
    traces.sort_by(|a, b| (a.first_time, &a.trace_id).cmp(&(b.first_time, &b.trace_id)));
    Ok(Shown { traces, files, paths })
}

/// `mailtrace show ID`: the whole timeline of the messages whose queue id or Message-ID is `id`.
pub fn show(common: &Common, id: &str, json: bool, out: &mut dyn Write) -> Result<u8> {
    let shown = show_traces(common, id)?;
    if json {
        shown.write_json(out)?;
    } else {
        if shown.traces.is_empty() {
            let id = crate::query::clean_id(id);
            // the id may have been pasted from a log line
            writeln!(
                crate::output::terminal::Printable::new(out),
                "No message with queue id, Message-ID or trace id '{id}'. Try `mailtrace search --subject …` or `--from …` to find it."
            )?;
        }
        shown.write_text(out)?;
    }
    Ok(if shown.traces.is_empty() {
        exit::NOTHING
    } else {
        exit::FOUND
    })
}

/// `mailtrace stats`: what was read and how much of it was understood.
pub fn stats(common: &Common, json: bool, out: &mut dyn Write) -> Result<u8> {
    let (inputs, opts) = common.prepare()?;
    let stats = scan(&inputs, &opts, |_| {})?;
    warn_damage(&stats);
    if json {
        serde_json::to_writer_pretty(&mut *out, &stats)?;
        writeln!(out)?;
        return Ok(exit::FOUND);
    }
    // the examples are log lines: no control codes to the terminal
    let out: &mut dyn Write = &mut crate::output::terminal::Printable::new(out);
    writeln!(out, "Lines read:        {} ({} bytes)", stats.lines, stats.bytes)?;
    writeln!(
        out,
        "Unrecognised:      {} (of which without a syslog envelope: {})",
        stats.unrecognised(),
        stats.no_envelope
    )?;
    writeln!(
        out,
        "Other programs:    {} lines (programs mailtrace does not read: not counted as unrecognised)",
        stats.other_programs()
    )?;
    writeln!(out, "Messages (traces): {}", stats.traces)?;
    if stats.repeated > 0 {
        writeln!(
            out,
            "Repeated rejects:  {} (a reject log repeating the main log)",
            stats.repeated
        )?;
    }
    writeln!(out, "Peak open traces:  {}", stats.peak_open)?;
    writeln!(out, "\nFiles")?;
    for f in &stats.files {
        writeln!(
            out,
            "  {}  lines={} postfix={} postfix-unrecognised={} ({:.2}%) exim={} exim-unrecognised={} no-envelope={} other-programs={}",
            f.path,
            f.lines,
            f.postfix_lines,
            f.postfix_unrecognised,
            f.postfix_unrecognised_pct(),
            f.exim_lines,
            f.exim_unrecognised,
            f.no_envelope,
            f.other_lines
        )?;
    }
    writeln!(out, "\nRecipient rows per status")?;
    for (s, n) in &stats.statuses {
        writeln!(out, "  {s:<12} {n}")?;
    }
    writeln!(out, "\nLines per program (unrecognised)")?;
    for (p, s) in &stats.programs {
        if !s.read {
            writeln!(out, "  {p:<32} {:>9} (not read)", s.lines)?;
            continue;
        }
        writeln!(out, "  {p:<32} {:>9} ({})", s.lines, s.unrecognised)?;
        for e in &s.examples {
            writeln!(out, "      e.g. {}", e.chars().take(160).collect::<String>())?;
        }
    }
    if !stats.no_envelope_examples.is_empty() {
        writeln!(out, "\nLines without a syslog envelope, e.g.")?;
        for e in &stats.no_envelope_examples {
            writeln!(out, "      {}", e.chars().take(160).collect::<String>())?;
        }
    }
    Ok(exit::FOUND)
}

/// `mailtrace index PATH…`: reads the files into the store and writes a summary to `out`
/// (text, or JSON with `json`; the CLI sends the text to stderr).
/// `chunk`: commit at least every so many bytes of input (`None`: at the end of each file).
pub fn index(common: &Common, chunk: Option<u64>, json: bool, out: &mut dyn Write) -> Result<u8> {
    let place = common.store_dir()?;
    // the summary names files and quotes their warnings: no control codes to the terminal
    crate::output::terminal::for_people(out, json, |out| index_into(common, chunk, json, out))
        .map_err(|e| crate::store::disk::explain(e, &place, "index"))
}

/// [`index`], its errors as they come.
fn index_into(common: &Common, chunk: Option<u64>, json: bool, out: &mut dyn Write) -> Result<u8> {
    if !common.reads_logs() {
        bail!("no log files given: mailtrace index /var/log/mail.log (or --journal FILE, - for standard input)");
    }
    let paths = common.named_inputs()?;
    let store = common.create_store()?;
    let opts = common.scan_options()?;
    let summary = ingest::run(store.as_ref(), &paths, &opts, chunk)?;
    // once `maintain` has run on the store, every run keeps its windows
    let maintained = match store.windows()? {
        Some(w) => Some(store.maintain(common.now.unwrap_or_else(chrono::Utc::now), w)?),
        None => None,
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &summary)?;
        writeln!(out)?;
    } else {
        if summary.recovered {
            writeln!(out, "The previous run was interrupted: its work was redone.")?;
        }
        for f in &summary.files {
            writeln!(out, "  {}  {} (bytes {}..{})", f.path, f.outcome, f.from, f.to)?;
            for w in &f.warnings {
                writeln!(out, "    warning: {w}")?;
            }
        }
        for w in summary
            .stats
            .files
            .iter()
            .filter_map(crate::scan::FileStats::no_mail_lines)
        {
            writeln!(out, "  warning: {w}")?;
        }
        use crate::output::count;
        let in_flight = match summary.open {
            0 => String::new(),
            n => format!("; {} in flight, kept for the next run", count(n as u64, "message")),
        };
        if summary.stats.lines == 0 {
            writeln!(
                out,
                "Nothing new to index into {}{in_flight}; {:.2} s",
                store.name(),
                summary.seconds
            )?;
        } else {
            writeln!(
                out,
                "Indexed {} ({:.1} MB) into {}: {} written, {}, {} unrecognised{in_flight}; {:.2} s, {:.1} MB/s",
                count(summary.stats.lines, "line"),
                summary.stats.bytes as f64 / 1e6,
                store.name(),
                count(summary.traces, "message"),
                count(summary.rows, "row"),
                count(summary.stats.unrecognised(), "line"),
                summary.seconds,
                summary.mb_per_sec()
            )?;
        }
    }
    if let Some(m) = maintained.filter(|m| !m.archived.is_empty() || !m.deleted.is_empty()) {
        if !json {
            writeln!(
                out,
                "Maintained: {} archived, {} deleted; {} hot, {} archived.",
                crate::output::count(m.archived.len() as u64, "day"),
                m.deleted.len(),
                crate::output::count(m.hot_days as u64, "day"),
                m.archive_days
            )?;
        }
    }
    let skipped = summary
        .files
        .iter()
        .any(|f| f.outcome.starts_with("skipped") || f.outcome.starts_with("damaged"));
    // a file with no mail log line (a wrong file given) is as good as skipped
    let useless = summary.stats.files.iter().any(|f| f.no_mail_lines().is_some());
    Ok(if skipped || useless { exit::PARTIAL } else { exit::FOUND })
}

/// `mailtrace follow PATH…`: tails the files into the store every `interval` until Ctrl-C or
/// SIGTERM, then commits and writes a summary to `out`.
/// With no files named, the config's `[follow]` logs and journals are followed; `interval`
/// `None` is the config's, else 2 s.
/// With `metrics` (an address), the follower's counters are served at `/metrics` there.
pub fn follow(common: &Common, interval: Option<f64>, metrics: Option<&str>, out: &mut dyn Write) -> Result<u8> {
    let configured = common.load_config()?.follow;
    let mut common = common.clone();
    if !common.reads_logs() {
        common.logs = configured.logs;
        common.journals = configured.journals;
    }
    if !common.reads_logs() {
        bail!("no log files given: mailtrace follow /var/log/mail.log (or name them in the config's [follow] logs)");
    }
    let interval = interval.or(configured.interval).unwrap_or(2.0);
    if !(interval > 0.0 && interval.is_finite()) {
        bail!("--interval (or the config's [follow] interval) must be a positive number of seconds");
    }
    let interval = std::time::Duration::from_secs_f64(interval);
    let common = &common;
    let paths = common.named_inputs()?;
    if paths.iter().any(|(p, _)| p.as_os_str() == "-") {
        bail!(
            "follow reads files as they grow, not standard input: to index a pipe once, use \
             `mailtrace index -`; to follow journald, let it write a file (or use rsyslog)"
        );
    }
    let store = common.create_store()?;
    let opts = common.scan_options()?;
    let metrics = metrics.map(str::to_string).or(configured.metrics);
    let exposed = match metrics.as_deref() {
        Some(addr) => {
            let shared = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
            let at = crate::web::metrics::serve_follower(addr, std::sync::Arc::clone(&shared))?;
            writeln!(out, "Metrics at http://{at}/metrics")?;
            Some(shared)
        }
        None => None,
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed))
        .context("cannot catch Ctrl-C")?;
    writeln!(
        out,
        "Following {} file(s) into {} every {:.0?}; Ctrl-C stops (after a last commit).",
        paths.len(),
        store.name(),
        interval
    )?;
    let summary = crate::store::follow::run(store.as_ref(), &paths, &opts, interval, common.now, &stop, |tick| {
        if let Some(shared) = &exposed {
            let text = crate::web::metrics::follower_text(tick, chrono::Utc::now());
            *shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = text;
        }
        if tick.lines == 0 && tick.rotated.is_empty() {
            return;
        }
        let mut line = format!(
            "{} +{} lines ({:.1} kB), {} messages in flight",
            chrono::Local::now().format("%H:%M:%S"),
            tick.lines,
            tick.bytes as f64 / 1e3,
            tick.open
        );
        for r in &tick.rotated {
            line.push_str(&format!("; read the rest of {r} after rotation"));
        }
        let _ = writeln!(out, "{line}");
    })?;
    writeln!(
        out,
        "Stopped: {} lines read, {} messages written, {} in flight kept for the next run.",
        summary.stats.lines, summary.traces, summary.open
    )?;
    Ok(exit::FOUND)
}

/// `mailtrace report`: the overview of the rows `criteria` find (by default the last 24
/// hours), as text, HTML or JSON, with the `top` first of each list.
pub fn report(
    common: &Common,
    criteria: &Criteria,
    format: ReportFormat,
    top: usize,
    out: &mut dyn Write,
) -> Result<u8> {
    let (r, nothing) = report_of(common, criteria, top)?;
    r.write(format, out)?;
    if let Some(hint) = nothing {
        eprintln!("mailtrace: report: no message in the window. {hint}");
        return Ok(exit::NOTHING);
    }
    Ok(exit::FOUND)
}

/// The report of what `criteria` find (the last 24 hours when they give no window), and, when
/// nothing matched, the search's hint. From a store the rows are counted a batch at a time
/// ([`crate::store::backend::Backend::search_each`]), so memory does not grow with them.
pub fn report_of(common: &Common, criteria: &Criteria, top: usize) -> Result<(crate::report::Report, Option<String>)> {
    let mut criteria = criteria.clone();
    if criteria.since.is_none() && criteria.until.is_none() {
        criteria.since = Some(common.now.unwrap_or_else(chrono::Utc::now) - chrono::Duration::hours(24));
    }
    let mut tally = crate::report::Tally::default();
    let mut hint = None;
    if !criteria.end_to_end && !common.reads_logs() {
        // the report reads no path keys: the rows need no linking
        let store = common.open_store()?;
        store.search_each(&criteria, common.historical, &mut |rows| {
            tally.add(&rows);
            Ok(())
        })?;
    } else {
        let found = search_rows(common, &criteria, None)?;
        tally.add(&found.rows);
        hint = Some(found.hint);
    }
    let nothing = if tally.rows() == 0 {
        Some(match hint {
            Some(h) => h,
            None => search_rows(common, &criteria, Some(1))?.hint,
        })
    } else {
        None
    };
    Ok((tally.finish(criteria.since, criteria.until, top), nothing))
}

pub use crate::report::Format as ReportFormat;

/// `mailtrace replay`: writes the raw lines the store keeps, byte for byte as they were read,
/// in the order they were read: those of the time window, or only the lines of the messages
/// matching the other criteria. With `ndjson`, one object per line with its source file and
/// byte offset. Returns 1 when no line was written.
pub fn replay(common: &Common, criteria: &Criteria, ndjson: bool, out: &mut dyn Write) -> Result<u8> {
    let store = common.open_store()?;
    let written = store.replay(criteria, &mut |r| {
        if ndjson {
            let line = serde_json::json!({
                "file": r.file,
                "offset": r.offset,
                "time": r.time.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                "line": String::from_utf8_lossy(r.bytes.strip_suffix(b"\r").unwrap_or(&r.bytes)),
            });
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        } else {
            out.write_all(&r.bytes)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    if written == 0 {
        // say why on stderr: the lines are the output, and scripts read it
        let mut why = criteria.likely_mistakes();
        why.push(store.search(criteria, Some(1), true)?.hint);
        eprintln!("mailtrace: replay: no log line matched. {}", why.join(" "));
    }
    Ok(if written > 0 { exit::FOUND } else { exit::NOTHING })
}

/// `mailtrace maintain`: moves days past the hot window into archives and deletes days past
/// the archive window.
pub fn maintain(
    common: &Common,
    windows: crate::store::retention::Windows,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8> {
    let place = common.store_dir()?;
    maintain_store(common, windows, json, out).map_err(|e| crate::store::disk::explain(e, &place, "maintain"))
}

/// [`maintain`], its errors as they come.
fn maintain_store(
    common: &Common,
    windows: crate::store::retention::Windows,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8> {
    if windows.archive_days < windows.hot_days {
        bail!(
            "--archive-days ({}) must be at least --hot-days ({})",
            windows.archive_days,
            windows.hot_days
        );
    }
    let store = common.open_store_to_write()?;
    let now = common.now.unwrap_or_else(chrono::Utc::now);
    let report = store.maintain(now, windows)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else if report.left_to_writer {
        writeln!(
            out,
            "Another writer (`mailtrace follow` or `index`) holds {}: the windows ({} hot, {} kept) are \
             saved, and it applies them (follow within the hour, index when it ends).",
            store.name(),
            crate::output::count(u64::from(windows.hot_days), "day"),
            crate::output::count(u64::from(windows.archive_days), "day")
        )?;
    } else {
        for a in &report.archived {
            writeln!(
                out,
                "  {}  archived: {} messages, {} rows, {}",
                a.day,
                a.traces,
                a.rows,
                crate::store::embedded::size(a.bytes)
            )?;
        }
        for d in &report.deleted {
            writeln!(out, "  {d}  deleted (older than {} days)", windows.archive_days)?;
        }
        writeln!(
            out,
            "Maintained {} as of {}: {} hot, {} archived.",
            store.name(),
            now.format("%Y-%m-%d %H:%M UTC"),
            crate::output::count(report.hot_days as u64, "day"),
            crate::output::count(report.archive_days as u64, "day")
        )?;
    }
    Ok(exit::FOUND)
}

/// `mailtrace export --day D`: writes the archive of day `day`, checked first, to `out`.
pub fn export(common: &Common, day: chrono::NaiveDate, out: &mut dyn Write) -> Result<u8> {
    let dir = common.store_dir()?;
    crate::store::embedded::only_embedded(&dir, "export")?;
    let store = Store::open(&dir)?;
    let path = crate::store::archive::path_of(&store.archive_dir(), day);
    if !path.exists() {
        bail!(
            "no archive for {day} in {}: `mailtrace store info` lists the days archived (run `mailtrace maintain` to archive the days past the hot window)",
            store.root.display()
        );
    }
    crate::store::archive::verify(&path)?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    out.write_all(&bytes)?;
    Ok(exit::FOUND)
}

/// `mailtrace import FILE…`: checks each archive and puts it in the store's archive tier
/// (refusing to replace a day held unless `replace`).
pub fn import(common: &Common, files: &[PathBuf], replace: bool, out: &mut dyn Write) -> Result<u8> {
    let dir = common.store_dir()?;
    crate::store::embedded::only_embedded(&dir, "import")?;
    crate::store::owner::act_as_owner(&dir)?;
    let store = Store::create(&dir)?;
    let _lock = store.lock()?;
    let dir = store.archive_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in files {
        let info = crate::store::archive::verify(f).with_context(|| format!("{} cannot be imported", f.display()))?;
        let target = crate::store::archive::path_of(&dir, info.day);
        if target.exists() && !replace {
            bail!(
                "the store already holds an archive of {}: pass --replace to put {} in its place",
                info.day,
                f.display()
            );
        }
        let tmp = target.with_extension("mtar.tmp");
        std::fs::copy(f, &tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::File::open(&tmp).and_then(|t| t.sync_all())?;
        std::fs::rename(&tmp, &target)?;
        writeln!(
            out,
            "  {}  imported from {} ({} messages)",
            info.day,
            f.display(),
            info.traces
        )?;
    }
    Ok(exit::FOUND)
}

/// `mailtrace verify`: checks every archive's checksums; exit 0 when all are whole, 1 when one
/// is damaged (each named with the place).
pub fn verify(common: &Common, out: &mut dyn Write) -> Result<u8> {
    let dir = common.store_dir()?;
    crate::store::embedded::only_embedded(&dir, "verify")?;
    let store = Store::open(&dir)?;
    let mut damaged = 0;
    let days = crate::store::archive::days(&store.archive_dir())?;
    for (day, path) in &days {
        match crate::store::archive::verify(path) {
            Ok(i) => writeln!(
                out,
                "  {day}  ok ({} messages, {})",
                i.traces,
                crate::store::embedded::size(i.bytes)
            )?,
            Err(e) => {
                damaged += 1;
                writeln!(out, "  {day}  DAMAGED: {e:#}")?;
            }
        }
    }
    writeln!(out, "{} archives checked, {damaged} damaged.", days.len())?;
    Ok(if damaged > 0 { exit::NOTHING } else { exit::FOUND })
}

/// `mailtrace store init`: creates a ClickHouse store's tables on each of `shards` (the
/// store's own server when none), or with `print` writes their DDL for a DBA.
pub fn store_init(common: &Common, shards: &[String], print: bool, out: &mut dyn Write) -> Result<u8> {
    use crate::store::clickhouse::{ClickHouse, Location};
    let place = common.store_dir()?;
    if !crate::store::backend::is_clickhouse(&place) {
        bail!(
            "`mailtrace store init` creates the tables of a ClickHouse store: give --store clickhouse://HOST:PORT/DB \
             (the embedded store needs no init: `mailtrace index` creates it)"
        );
    }
    let store = ClickHouse::connect(&place, &common.access)?;
    if print {
        for statement in store.init_sql() {
            writeln!(out, "{statement};")?;
        }
        return Ok(exit::FOUND);
    }
    let shards = shards
        .iter()
        .map(|s| Location::parse(s).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    store.init(&shards, out)?;
    Ok(exit::FOUND)
}

/// `mailtrace store info`: days, rows, traces and size, and the files read.
pub fn store_info(common: &Common, json: bool, out: &mut dyn Write) -> Result<u8> {
    // the files' names and the hosts are text from outside: no control codes to the terminal
    crate::output::terminal::for_people(out, json, |out| common.open_store()?.info(json, out))?;
    Ok(exit::FOUND)
}
