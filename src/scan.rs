//! One pass over the inputs: lines → events → traces, with the counts `stats` reports.
//!
//! This is the only place that drives the pipeline; `search`, `show` and `stats` differ only
//! in what they do with the traces it hands out.

use std::collections::BTreeMap;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::EventKind;
use crate::parse::{parse_line, Family, Parsed};
use crate::source::Input;
use crate::syslog::{YearGuess, Zone};
use crate::trace::{Assembler, DirectionRules, Status, Trace};

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// The year of the first BSD timestamp of each file; default: from the file's mtime.
    pub year: Option<i32>,
    pub zone: Zone,
    pub rules: DirectionRules,
    /// Draw a progress bar on stderr (only shown when stderr is a terminal).
    pub progress: bool,
}

/// Counts for one program (syslog tag).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProgramStats {
    pub lines: u64,
    pub unrecognised: u64,
    /// Up to three unrecognised lines, as examples.
    pub examples: Vec<String>,
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
}

impl ScanStats {
    /// Lines that were not turned into an understood event.
    pub fn unrecognised(&self) -> u64 {
        self.no_envelope + self.programs.values().map(|p| p.unrecognised).sum::<u64>()
    }
}

/// Reads every input in order and hands each finished trace to `on_trace`.
pub fn scan(inputs: &[Input], opts: &ScanOptions, mut on_trace: impl FnMut(Trace)) -> Result<ScanStats> {
    let mut stats = ScanStats::default();
    // counted in a hash map while scanning (a lookup per line), sorted into `stats` at the end
    let mut programs: Vec<(String, ProgramStats)> = Vec::new();
    let mut program_index: rustc_hash::FxHashMap<String, usize> = Default::default();
    let mut last_program: Option<usize> = None;
    let mut assembler = Assembler::new(opts.rules.clone());
    let mut done: Vec<Trace> = Vec::new();
    let total: u64 = inputs.iter().map(|i| i.len).sum();
    let bar = if opts.progress {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    for input in inputs {
        bar.set_message(input.path.display().to_string());
        let mut years = match (opts.year, input.modified) {
            (Some(y), _) => YearGuess::given(y),
            (None, Some(m)) => YearGuess::not_after(m),
            (None, None) => YearGuess::not_after(chrono::Utc::now()),
        };
        let mut fs = FileStats {
            path: input.path.display().to_string(),
            ..FileStats::default()
        };
        input.for_each_line(
            |line, at| {
                fs.lines += 1;
                fs.bytes += line.len() as u64 + 1;
                match parse_line(line, at, &mut years, &opts.zone) {
                    Parsed::NoEnvelope => {
                        fs.no_envelope += 1;
                        if stats.no_envelope_examples.len() < 3 && !line.trim().is_empty() {
                            stats.no_envelope_examples.push(line.to_string());
                        }
                    }
                    Parsed::Event(ev, family) => {
                        let unrecognised = matches!(ev.kind, EventKind::Unrecognised);
                        // consecutive lines often share a program: check the last one first
                        let idx = match last_program {
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
                                last_program = Some(i);
                                i
                            }
                        };
                        let p = &mut programs[idx].1;
                        p.lines += 1;
                        if unrecognised {
                            p.unrecognised += 1;
                            if p.examples.len() < 3 {
                                p.examples.push(line.to_string());
                            }
                        }
                        if family == Family::Postfix {
                            fs.postfix_lines += 1;
                            fs.postfix_unrecognised += u64::from(unrecognised);
                        }
                        if !unrecognised {
                            assembler.push(&ev, &mut done);
                            stats.peak_open = stats.peak_open.max(assembler.open_count());
                            for t in done.drain(..) {
                                count(&mut stats, &t);
                                on_trace(t);
                            }
                        }
                    }
                }
            },
            |n| bar.inc(n),
        )?;
        stats.lines += fs.lines;
        stats.bytes += fs.bytes;
        stats.no_envelope += fs.no_envelope;
        stats.files.push(fs);
    }
    stats.programs.extend(programs);
    assembler.finish(&mut done);
    for t in done.drain(..) {
        count(&mut stats, &t);
        on_trace(t);
    }
    bar.finish_and_clear();
    Ok(stats)
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
