//! One pass over the inputs: lines → events → traces, with the counts `stats` reports.
//!
//! This is the only place that drives the pipeline; `search`, `show` and `stats` differ only
//! in what they do with the traces it hands out.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::{Event, EventKind, LineRef};
use crate::parse::exim::{EximLine, HeaderLine};
use crate::parse::{parse_line, Family, Parsed};
use crate::source::{Input, Position, ReadEnd};
use crate::syslog::{YearGuess, Zone};
use crate::trace::{Assembler, DirectionRules, Status, Trace};

mod parallel;
pub use parallel::Threads;

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The year of the first BSD timestamp of each file; default: from the file's mtime.
    pub year: Option<i32>,
    pub zone: Zone,
    pub rules: DirectionRules,
    /// Draw a progress bar on stderr (only shown when stderr is a terminal).
    pub progress: bool,
    /// Keep every line's raw text in the timelines (for `show` and the store).
    pub keep_text: bool,
    /// The host of lines that name none (Exim's own main log), instead of an empty one.
    pub default_host: Option<String>,
    /// Threads that parse while this one assembles: 0 for one per core, 1 to read on this
    /// thread alone.
    pub threads: usize,
    /// The size of the blocks handed to the parsing threads (0: 64 KiB); small ones only in
    /// tests, to cut small inputs into many blocks.
    pub block_bytes: usize,
}

/// The size of the blocks handed to the parsing threads: small enough that the blocks in
/// flight take a few MiB, large enough that handing one over costs little.
const BLOCK_BYTES: usize = 64 << 10;

impl ScanOptions {
    /// How to read `input` from `from`: on several threads, or (`None`) on this one.
    fn parallel_for(&self, input: &Input, from: Position) -> Option<Threads> {
        let workers = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let block = match self.block_bytes {
            0 => BLOCK_BYTES,
            n => n,
        };
        let left = if input.transformed() {
            u64::MAX
        } else {
            input.len.saturating_sub(from.offset)
        };
        // less than a few blocks to read (`follow` reads a few lines at a time): starting
        // threads would cost more than it gains
        (workers > 1 && left >= 4 * block as u64).then_some(Threads { workers, block })
    }
}

/// Counts for one program (syslog tag).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProgramStats {
    pub lines: u64,
    pub unrecognised: u64,
    /// Up to three unrecognised lines, as examples.
    pub examples: Vec<String>,
    /// Whether mailtrace reads this program (Postfix, Exim and the programs around them);
    /// the lines of others are counted apart, never as unrecognised.
    pub read: bool,
}

/// Counts for one input file.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileStats {
    pub path: String,
    pub lines: u64,
    pub bytes: u64,
    pub no_envelope: u64,
    pub postfix_lines: u64,
    pub postfix_unrecognised: u64,
    /// Exim lines (its own log, or `exim[pid]:` in syslog), reject-log header lines included.
    pub exim_lines: u64,
    pub exim_unrecognised: u64,
    /// Lines of programs mailtrace does not read (sshd, CRON, …).
    pub other_lines: u64,
    /// Where a compressed file's data was damaged or cut short (the lines before it were read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// Lines that were not text (not UTF-8, or over 1 MiB).
    pub oddities: crate::source::Oddities,
    /// The earliest and latest time of its lines (for "the files hold …" when nothing matched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_time: Option<DateTime<Utc>>,
}

impl FileStats {
    /// What to tell the user about this file: damage, binary data, over-long lines, no mail
    /// log line at all.
    pub fn warnings(&self) -> Vec<String> {
        self.damage
            .iter()
            .cloned()
            .chain(self.oddities.warnings(&self.path))
            .chain(self.no_mail_lines())
            .collect()
    }

    /// Lines of the programs mailtrace reads: Postfix, Exim and those around them.
    pub fn mail_lines(&self) -> u64 {
        self.lines.saturating_sub(self.no_envelope + self.other_lines)
    }

    /// What to say of a file with lines but none of a mail program (a wrong file given).
    pub fn no_mail_lines(&self) -> Option<String> {
        (self.lines > 0 && self.mail_lines() == 0).then(|| {
            let what = if self.other_lines == 0 {
                "none is a syslog line".to_string()
            } else {
                format!("{} are syslog lines of other programs", self.other_lines)
            };
            format!(
                "{}: no mail log line among its {} lines ({what}): is it the mail log \
                 (/var/log/mail.log, /var/log/maillog, Exim's mainlog)?",
                self.path, self.lines
            )
        })
    }
}

impl FileStats {
    /// Share of Postfix lines not understood, in percent (0 when there are none).
    pub fn postfix_unrecognised_pct(&self) -> f64 {
        if self.postfix_lines == 0 {
            0.0
        } else {
            100.0 * self.postfix_unrecognised as f64 / self.postfix_lines as f64
        }
    }
}

/// Everything counted during a scan.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ScanStats {
    pub lines: u64,
    pub bytes: u64,
    pub no_envelope: u64,
    pub no_envelope_examples: Vec<String>,
    pub programs: BTreeMap<String, ProgramStats>,
    pub files: Vec<FileStats>,
    pub traces: u64,
    /// Recipient rows per status.
    pub statuses: BTreeMap<Status, u64>,
    /// Most traces open at once: the assembler's memory high-water mark.
    pub peak_open: usize,
    /// Rejects read a second time (Exim's reject log repeats its main log) and not handed out
    /// again.
    pub repeated: u64,
}

impl ScanStats {
    /// The earliest and latest time of the lines read, over all files.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let first = self.files.iter().filter_map(|f| f.first_time).min()?;
        let last = self.files.iter().filter_map(|f| f.last_time).max()?;
        Some((first, last))
    }

    /// Lines that were not turned into an understood event.
    pub fn unrecognised(&self) -> u64 {
        self.no_envelope + self.programs.values().map(|p| p.unrecognised).sum::<u64>()
    }

    /// Lines of programs mailtrace does not read (not counted as unrecognised).
    pub fn other_programs(&self) -> u64 {
        self.programs.values().filter(|p| !p.read).map(|p| p.lines).sum()
    }
}

/// What receives each line as it was read: its bytes, its place, and its time (`None` for a
/// line without one).
pub type LineSink<'a> = dyn FnMut(&[u8], LineRef, Option<DateTime<Utc>>) + 'a;

/// Reads every input in order and hands each finished trace to `on_trace`.
pub fn scan(inputs: &[Input], opts: &ScanOptions, mut on_trace: impl FnMut(Trace)) -> Result<ScanStats> {
    let total: u64 = inputs.iter().map(|i| i.len).sum();
    let mut pipeline = Pipeline::new(opts, None, total);
    // nothing is stored: the ids of merged traces need not be kept for deleting
    pipeline.assembler.forget_retired();
    for input in inputs {
        pipeline.read(input, Position::default(), false, None, &mut on_trace)?;
    }
    // damage is reported by the caller from the file counts; the other files were read
    Ok(pipeline.finish(&mut on_trace))
}

/// The pipeline from lines to traces, fed one input (or the rest of one) at a time. The
/// store drives it directly: it resumes an assembler from a checkpoint, reads each file from
/// where the last run stopped, and suspends instead of finishing, so messages still in flight
/// carry over to the next run.
pub struct Pipeline {
    opts: ScanOptions,
    stats: ScanStats,
    // counted in a hash map while scanning (a lookup per line), sorted into `stats` at the end
    programs: Vec<(String, ProgramStats)>,
    program_index: rustc_hash::FxHashMap<String, usize>,
    last_program: Option<usize>,
    assembler: Assembler,
    done: Vec<Trace>,
    /// Hashes of the content-named traces handed out (see [`Trace::content_id`]): a copy read
    /// from another file is the same event and is handed out once.
    content_ids: rustc_hash::FxHashSet<u64>,
    bar: ProgressBar,
}

impl Pipeline {
    /// A pipeline over `total_bytes` of input (for the progress bar), with a fresh assembler
    /// or a restored one.
    pub fn new(opts: &ScanOptions, assembler: Option<Assembler>, total_bytes: u64) -> Pipeline {
        let bar = if opts.progress {
            let b = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b
        } else {
            ProgressBar::hidden()
        };
        Pipeline {
            assembler: assembler.unwrap_or_else(|| Assembler::new(opts.rules.clone()).keep_text(opts.keep_text)),
            opts: opts.clone(),
            stats: ScanStats::default(),
            programs: Vec::new(),
            program_index: Default::default(),
            last_program: None,
            done: Vec::new(),
            content_ids: Default::default(),
            bar,
        }
    }

    /// The assembler, e.g. to checkpoint it or snapshot the messages in flight.
    pub fn assembler(&self) -> &Assembler {
        &self.assembler
    }

    /// Trace ids merged into other traces since the last call (see [`Assembler::take_retired`]).
    pub fn take_retired(&mut self) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        self.assembler.take_retired()
    }

    /// Reads `input` from `from` to its end, or to the first line boundary after `stop_after`
    /// bytes (see [`Input::for_each_line_from`], also for `hold_partial` and damage); returns
    /// where it stopped. Damage in a compressed file is kept in the file's counts.
    pub fn read(
        &mut self,
        input: &Input,
        from: Position,
        hold_partial: bool,
        stop_after: Option<u64>,
        on_trace: &mut dyn FnMut(Trace),
    ) -> Result<ReadEnd> {
        self.read_raw(input, from, hold_partial, stop_after, on_trace, None)
    }

    /// Like [`Pipeline::read`], also handing every line's bytes, place and time (`None` for a
    /// line without one) to `on_line` before it is parsed further.
    pub fn read_raw(
        &mut self,
        input: &Input,
        from: Position,
        hold_partial: bool,
        stop_after: Option<u64>,
        on_trace: &mut dyn FnMut(Trace),
        on_line: Option<&mut LineSink<'_>>,
    ) -> Result<ReadEnd> {
        self.bar.set_message(input.path.display().to_string());
        let mut years = match (self.opts.year, input.modified) {
            (Some(y), _) => YearGuess::given(y),
            (None, Some(m)) => YearGuess::not_after(m),
            (None, None) => YearGuess::not_after(chrono::Utc::now()),
        };
        let mut fs = FileStats {
            path: if input.is_stdin() {
                "standard input".to_string()
            } else {
                input.path.display().to_string()
            },
            ..FileStats::default()
        };
        let threads = self.opts.parallel_for(input, from);
        let zone = self.opts.zone;
        let bar = self.bar.clone();
        let mut lines = Lines {
            p: self,
            fs: &mut fs,
            after_reject: false,
            on_trace,
            on_line,
        };
        let end = match threads {
            Some(threads) => parallel::read(
                input,
                from,
                hold_partial,
                stop_after,
                &mut years,
                &zone,
                threads,
                move |n| bar.inc(n),
                |bytes, line, at, parsed| lines.line(bytes, line, at, parsed),
            )?,
            None => input.for_each_raw_line_from(
                from,
                hold_partial,
                stop_after,
                |bytes, line, at| {
                    let mut parsed = parse_line(line, at, &mut years, &zone);
                    lines.line(bytes, line, at, &mut parsed)
                },
                |n| bar.inc(n),
            )?,
        };
        // the bytes read of the (decoded) log: CRs and a last line without a newline included
        fs.bytes = end.at.offset.saturating_sub(from.offset);
        self.stats.lines += fs.lines;
        self.stats.bytes += fs.bytes;
        self.stats.no_envelope += fs.no_envelope;
        fs.damage = end.damage.clone();
        fs.oddities = end.oddities;
        self.stats.files.push(fs);
        Ok(end)
    }

    /// Hands out the messages idle for longer than `idle` (see [`Assembler::release_idle`]).
    pub fn release_idle(&mut self, idle: chrono::Duration, on_trace: &mut dyn FnMut(Trace)) {
        self.assembler.release_idle(idle, &mut self.done);
        for t in self.done.drain(..) {
            emit(&mut self.stats, &mut self.content_ids, t, on_trace);
        }
    }

    /// Forgets what a long-lived reader no longer needs once its output is committed: the
    /// content-named traces handed out (a store finds a copy among what it holds) and the
    /// per-file counts (given back).
    pub fn committed(&mut self) -> Vec<FileStats> {
        self.content_ids.clear();
        std::mem::take(&mut self.stats.files)
    }

    /// The input ended: hands out every message still open and returns the counts.
    pub fn finish(mut self, on_trace: &mut dyn FnMut(Trace)) -> ScanStats {
        self.assembler.finish(&mut self.done);
        for t in self.done.drain(..) {
            emit(&mut self.stats, &mut self.content_ids, t, on_trace);
        }
        self.suspend().1
    }

    /// Lines read so far, and per program mailtrace reads the lines it did not understand.
    pub fn line_counts(&self) -> (u64, Vec<(&str, u64)>) {
        let programs = self
            .programs
            .iter()
            .filter(|(_, p)| p.read && p.unrecognised > 0)
            .map(|(name, p)| (name.as_str(), p.unrecognised))
            .collect();
        (self.stats.lines, programs)
    }

    /// Stops reading, keeping the messages in flight in the returned assembler.
    pub fn suspend(mut self) -> (Assembler, ScanStats) {
        self.bar.finish_and_clear();
        self.stats.programs.extend(std::mem::take(&mut self.programs));
        (self.assembler, self.stats)
    }
}

/// What happens to each parsed line, in order: it is counted, handed to the line sink, and
/// pushed into the assembler; finished traces go out.
struct Lines<'p, 'f, 's> {
    p: &'p mut Pipeline,
    fs: &'p mut FileStats,
    /// Whether the last line was an Exim reject or a line of its header block: only then is a
    /// line that merely begins with whitespace a folded header line.
    after_reject: bool,
    on_trace: &'f mut dyn FnMut(Trace),
    on_line: Option<&'f mut LineSink<'s>>,
}

impl Lines<'_, '_, '_> {
    /// Takes one parsed line (by reference: an event is large, and moving it costs a copy).
    fn line(&mut self, bytes: &[u8], line: &str, at: LineRef, parsed: &mut Parsed<'_>) {
        let Lines {
            p,
            fs,
            after_reject,
            on_trace,
            on_line,
        } = self;
        let Pipeline {
            opts,
            stats,
            programs,
            program_index,
            last_program,
            assembler,
            done,
            content_ids,
            ..
        } = &mut **p;
        fs.lines += 1;
        if let Some(sink) = on_line.as_mut() {
            let time = match &*parsed {
                // a reject log's header line has no time of its own
                Parsed::Event(ev, _) if ev.time != DateTime::UNIX_EPOCH => Some(ev.time),
                _ => None,
            };
            sink(bytes, at, time);
        }
        let stray = matches!(
            &*parsed,
            Parsed::Event(ev, _) if matches!(ev.kind, EventKind::Exim(EximLine::Header(HeaderLine::Continuation(_)))) && !*after_reject
        );
        *after_reject = matches!(&*parsed, Parsed::Event(ev, _) if matches!(ev.kind, EventKind::Exim(EximLine::Rejected(_) | EximLine::Header(_))));
        if stray {
            *parsed = Parsed::NoEnvelope;
        }
        match parsed {
            Parsed::NoEnvelope => {
                fs.no_envelope += 1;
                if stats.no_envelope_examples.len() < 3 && !line.trim().is_empty() {
                    stats.no_envelope_examples.push(line.to_string());
                }
            }
            Parsed::Event(ev, family) => {
                let family = *family;
                if ev.time != DateTime::UNIX_EPOCH {
                    if fs.first_time.is_none_or(|t| ev.time < t) {
                        fs.first_time = Some(ev.time);
                    }
                    if fs.last_time.is_none_or(|t| ev.time > t) {
                        fs.last_time = Some(ev.time);
                    }
                }
                // the host of lines that name none (Exim's own main log)
                let with_host;
                let ev = match opts.default_host.as_deref() {
                    Some(h) if ev.host.is_empty() => {
                        with_host = Event { host: h, ..ev.clone() };
                        &with_host
                    }
                    _ => &*ev,
                };
                // lines of programs mailtrace does not read are counted apart
                let other = family == Family::Other;
                let unrecognised = !other && ev.kind.is_unrecognised();
                // consecutive lines often share a program: check the last one first
                let idx = match *last_program {
                    Some(i) if programs[i].0 == ev.program => i,
                    _ => {
                        let i = match program_index.get(ev.program) {
                            Some(&i) => i,
                            None => {
                                programs.push((ev.program.to_string(), ProgramStats::default()));
                                program_index.insert(ev.program.to_string(), programs.len() - 1);
                                programs.len() - 1
                            }
                        };
                        *last_program = Some(i);
                        i
                    }
                };
                let p = &mut programs[idx].1;
                p.lines += 1;
                p.read = !other;
                fs.other_lines += u64::from(other);
                if unrecognised {
                    p.unrecognised += 1;
                    if p.examples.len() < 3 {
                        p.examples.push(line.to_string());
                    }
                }
                match family {
                    Family::Postfix => {
                        fs.postfix_lines += 1;
                        fs.postfix_unrecognised += u64::from(unrecognised);
                    }
                    Family::Exim => {
                        fs.exim_lines += 1;
                        fs.exim_unrecognised += u64::from(unrecognised);
                    }
                    _ => {}
                }
                // a line not understood but about a message still joins its timeline
                if !matches!(ev.kind, EventKind::Unrecognised) {
                    assembler.push(ev, done);
                    stats.peak_open = stats.peak_open.max(assembler.open_count());
                    for t in done.drain(..) {
                        emit(stats, content_ids, t, *on_trace);
                    }
                }
            }
        }
    }
}

/// Counts `t` and hands it out, unless it is a repeat of a content-named trace.
fn emit(
    stats: &mut ScanStats,
    content_ids: &mut rustc_hash::FxHashSet<u64>,
    t: Trace,
    on_trace: &mut dyn FnMut(Trace),
) {
    if t.content_id && !content_ids.insert(xxhash_rust::xxh3::xxh3_64(t.trace_id.as_bytes())) {
        stats.repeated += 1;
        return;
    }
    count(stats, &t);
    on_trace(t);
}

fn count(stats: &mut ScanStats, t: &Trace) {
    stats.traces += 1;
    if t.recipients.is_empty() {
        *stats.statuses.entry(Status::InProgress).or_default() += 1;
    }
    for r in &t.recipients {
        *stats.statuses.entry(r.status).or_default() += 1;
    }
}
