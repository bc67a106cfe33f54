//! Reading one input on several threads: blocks of lines are parsed on worker threads while
//! the calling thread assembles the lines of earlier blocks, in order.
//!
//! ```text
//! reader thread ── Block ──▶ workers (parse_line on every line) ──▶ caller, in block order
//!               └─ the order of the blocks (one reply channel each) ─┘
//! ```
//!
//! A [`ParsedBlock`] owns its block's bytes and the events borrowed from them (`self_cell`), so
//! parsing allocates no copy of a line. Only two things about a line depend on the lines before
//! it, and both are settled on the calling thread: the line number (a block's lines are
//! numbered from 1 and shifted when the block is handed out) and the year of a BSD time stamp.
//! A worker guesses the year from the latest year already settled ([`YearGuess::fork`]); the
//! caller checks the guess against the true one ([`YearGuess::join`]) and parses the block
//! again on its own thread when it was wrong (only at a new year, and at the start of a file
//! whose first stamps are in another year than its modification time suggests). So the output
//! is exactly that of reading the input on one thread.

use std::sync::Mutex;

use anyhow::Result;
use crossbeam_channel::{bounded, Receiver, Sender};

use crate::event::LineRef;
use crate::parse::{parse_line, Parsed};
use crate::source::{Block, Input, NotText, Position, ReadEnd};
use crate::syslog::{YearGuess, Zone};

/// One parsed line of a block.
pub struct ParsedLine<'a> {
    /// The bytes as read (see [`crate::source::BlockLine`]).
    pub bytes: &'a [u8],
    pub text: &'a str,
    /// Its place; the line number counts from the block's first line.
    pub at: LineRef,
    pub parsed: Parsed<'a>,
}

type ParsedLines<'a> = Vec<ParsedLine<'a>>;

self_cell::self_cell!(
    /// A block and its parsed lines, which borrow from it.
    struct ParsedBlock {
        owner: Block,
        #[covariant]
        dependent: ParsedLines,
    }
);

/// What a worker hands back for one block.
struct WorkerReply {
    block: ParsedBlock,
    /// The year guess after the block's lines.
    years: YearGuess,
    not_text: NotText,
}

/// Parses every line of `block` (already checked for UTF-8), numbered from 1.
fn parse_lines<'a>(block: &'a Block, years: &mut YearGuess, zone: &Zone) -> ParsedLines<'a> {
    // room for lines of 100 bytes on average (mail logs: 150), so the vector of these large
    // items is seldom copied to grow
    let mut out = Vec::with_capacity(block.bytes().len() / 100 + 16);
    for l in block.lines(1) {
        out.push(ParsedLine {
            bytes: l.bytes,
            text: l.text,
            at: l.at,
            parsed: parse_line(l.text, l.at, years, zone),
        });
    }
    out
}

/// How a parallel read is set up.
#[derive(Debug, Clone, Copy)]
pub struct Threads {
    /// Threads that parse.
    pub workers: usize,
    /// The size of a block, in bytes.
    pub block: usize,
}

/// Reads `input` from `from` like [`Input::for_each_raw_line_from`] and hands every line,
/// parsed, to `on_line` in order, with `years` as the file's year guess (left as a one-thread
/// read would leave it).
#[allow(clippy::too_many_arguments)]
pub fn read(
    input: &Input,
    from: Position,
    hold_partial: bool,
    stop_after: Option<u64>,
    years: &mut YearGuess,
    zone: &Zone,
    threads: Threads,
    progress: impl FnMut(u64) + Send,
    mut on_line: impl FnMut(&[u8], &str, LineRef, &mut Parsed<'_>),
) -> Result<ReadEnd> {
    let in_flight = threads.workers * 2 + 2;
    let hint = Mutex::new(years.hint());
    let start = years.clone();
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = bounded::<(Block, YearGuess, Sender<WorkerReply>)>(in_flight);
        let (order_tx, order_rx) = bounded::<Receiver<WorkerReply>>(in_flight);
        for i in 0..threads.workers.max(1) {
            let work_rx = work_rx.clone();
            std::thread::Builder::new()
                .name(format!("mailtrace-parse-{i}"))
                .spawn_scoped(scope, move || {
                    for (mut block, mut years, reply) in work_rx {
                        let not_text = block.check_text();
                        let block = ParsedBlock::new(block, |b| parse_lines(b, &mut years, zone));
                        let _ = reply.send(WorkerReply { block, years, not_text });
                    }
                })
                .expect("a thread can be started");
        }
        drop(work_rx);
        let hint = &hint;
        let start = &start;
        let reader = std::thread::Builder::new()
            .name("mailtrace-read".to_string())
            .spawn_scoped(scope, move || {
                input.read_blocks_from(from, hold_partial, stop_after, threads.block, progress, |block| {
                    let years = start.fork(*hint.lock().expect("no panic while held"));
                    let (tx, rx) = bounded(1);
                    // the caller stopped taking blocks only when it failed: so does this read
                    if order_tx.send(rx).is_ok() {
                        let _ = work_tx.send((block, years, tx));
                    }
                })
            })
            .expect("a thread can be started");
        let mut line = from.line;
        let mut not_text = NotText::default();
        for reply in &order_rx {
            // a worker that panicked sends nothing: its panic ends the scope
            let Ok(done) = reply.recv() else { break };
            let WorkerReply {
                mut block,
                years: fork,
                not_text: found,
            } = done;
            if !years.join(&fork) {
                let owner = block.into_owner();
                block = ParsedBlock::new(owner, |b| parse_lines(b, years, zone));
            }
            *hint.lock().expect("no panic while held") = years.hint();
            not_text.lines += found.lines;
            not_text.first = not_text.first.or(found.first);
            let base = line;
            block.with_dependent_mut(|_, lines| {
                for l in lines.iter_mut() {
                    let mut at = l.at;
                    at.line += base;
                    if let Parsed::Event(ev, _) = &mut l.parsed {
                        ev.line = at;
                    }
                    line = at.line;
                    on_line(l.bytes, l.text, at, &mut l.parsed);
                }
            });
        }
        drop(order_rx);
        let end = reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok(end.with_lines(line, not_text))
    })
}
