//! A trace kept as the lines it was built from.
//!
//! A trace is a function of its log lines, and the archive holds the day's lines anyway. So a
//! trace is stored as the ordinals of its lines among the day's records (and their line
//! numbers, which records do not carry), and built again from them when read, by the same
//! parser and assembler that built it first. The direction is kept too: it depends on the
//! local domains and networks of the run that indexed the message, not on its lines.
//!
//! [`Recipe::of`] only hands out a recipe after building the trace from it and finding it
//! equal to the stored one; a trace that would come back different (its lines span days, its
//! id counts repeats among other messages' lines, …) is kept whole instead.

use std::collections::BTreeMap;

use chrono::Datelike;
use rustc_hash::FxHashMap;

use super::varint::{read_varint, unzigzag, varint, zigzag};
use crate::event::{EventKind, LineRef};
use crate::parse::{parse_line, Parsed};
use crate::store::raw::Record;
use crate::store::schema::StoredTrace;
use crate::syslog::{YearGuess, Zone};
use crate::trace::{Assembler, Direction, DirectionRules, Trace};

/// How to build a trace again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// The ordinals of its lines among the day's records, ascending.
    pub ordinals: Vec<u32>,
    /// The line number of each, in its file.
    pub lines: Vec<u64>,
    pub direction: Option<Direction>,
    /// The host given to lines that name none when they were indexed (`--default-host`).
    pub bare_host: Option<String>,
}

impl Recipe {
    /// The recipe of `st`, if building it again gives `st` back exactly.
    pub fn of(
        st: &StoredTrace,
        ordinal_of: &FxHashMap<(u32, u64), u32>,
        records: &[Record],
        names: &BTreeMap<u32, String>,
    ) -> Option<Recipe> {
        let mut pairs = Vec::with_capacity(st.trace.timeline.len());
        for e in &st.trace.timeline {
            pairs.push((*ordinal_of.get(&(e.line.file, e.line.offset))?, e.line.line));
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut recipe = Recipe {
            ordinals: pairs.iter().map(|p| p.0).collect(),
            lines: pairs.iter().map(|p| p.1).collect(),
            direction: st.trace.direction,
            bare_host: None,
        };
        let lines: Vec<&Record> = recipe.ordinals.iter().map(|&o| &records[o as usize]).collect();
        if recipe.builds(st, &lines, names) {
            return Some(recipe);
        }
        // lines without a host of their own (Exim's main log) indexed with `--default-host`
        if !st.trace.host.is_empty() {
            recipe.bare_host = Some(st.trace.host.clone());
            if recipe.builds(st, &lines, names) {
                return Some(recipe);
            }
        }
        None
    }

    /// Whether building from `lines` gives `st` back exactly (the lines' text aside).
    fn builds(&self, st: &StoredTrace, lines: &[&Record], names: &BTreeMap<u32, String>) -> bool {
        let mut built = self.assemble(lines);
        if built.len() != 1 {
            return false;
        }
        let Some(trace) = built.pop() else {
            return false;
        };
        let mut again = self.finish(trace, names);
        let mut want = st.trace.clone();
        for e in &mut want.timeline {
            e.text = Box::default();
        }
        for e in &mut again.trace.timeline {
            e.text = Box::default();
        }
        again.trace == want && again.files == st.files
    }

    /// Builds the trace from its lines (`lines[i]` is the record of `ordinals[i]`), with the
    /// text of every line in its timeline. (A later version of mailtrace may read the lines
    /// into more than one trace: the first is the one it was.)
    pub fn build(&self, lines: &[&Record], names: &BTreeMap<u32, String>) -> Option<StoredTrace> {
        let trace = self.assemble(lines).into_iter().next()?;
        Some(self.finish(trace, names))
    }

    /// The traces the parser and the assembler make of the lines.
    fn assemble(&self, lines: &[&Record]) -> Vec<Trace> {
        let zone = Zone::Utc;
        let mut assembler = Assembler::new(DirectionRules::default()).keep_text(true);
        let mut out = Vec::new();
        for (rec, &number) in lines.iter().zip(&self.lines) {
            let raw = rec.bytes.strip_suffix(b"\r").unwrap_or(&rec.bytes);
            let at = LineRef {
                file: rec.file,
                offset: rec.offset,
                line: number,
                len: raw.len() as u32,
            };
            let text = String::from_utf8_lossy(raw);
            // the time was read when the line was indexed (with that run's zone and year)
            let mut years = YearGuess::given(rec.time.map_or(1970, |t| t.year()));
            if let Parsed::Event(mut ev, _) = parse_line(&text, at, &mut years, &zone) {
                if matches!(ev.kind, EventKind::Unrecognised) {
                    continue;
                }
                if let Some(t) = rec.time {
                    ev.time = t;
                }
                if ev.host.is_empty() {
                    if let Some(h) = &self.bare_host {
                        ev.host = h;
                    }
                }
                assembler.push(&ev, &mut out);
            }
        }
        assembler.finish(&mut out);
        out
    }

    /// The trace as stored: its kept direction, and the names of its files.
    fn finish(&self, mut trace: Trace, names: &BTreeMap<u32, String>) -> StoredTrace {
        trace.direction = self.direction;
        let mut ids: Vec<u32> = trace.timeline.iter().map(|e| e.line.file).collect();
        ids.sort_unstable();
        ids.dedup();
        let files = ids
            .into_iter()
            .map(|id| (id, names.get(&id).cloned().unwrap_or_default()))
            .collect();
        StoredTrace { trace, files }
    }

    /// Appends the recipe; `last` carries what the one before it left (ordinal and line
    /// offsets are stored as differences, mostly 0 for a file read straight through).
    pub fn encode(&self, out: &mut Vec<u8>, last: &mut (u32, i64)) {
        out.push(direction_byte(self.direction));
        let host = self.bare_host.as_deref().unwrap_or("");
        varint(out, host.len() as u64);
        out.extend_from_slice(host.as_bytes());
        varint(out, self.ordinals.len() as u64);
        let (mut prev_ord, mut prev_shift) = *last;
        for (i, (&o, &l)) in self.ordinals.iter().zip(&self.lines).enumerate() {
            let shift = l as i64 - i64::from(o);
            if i == 0 {
                varint(out, zigzag(i64::from(o) - i64::from(last.0)));
                last.0 = o;
            } else {
                varint(out, u64::from(o - prev_ord));
            }
            varint(out, zigzag(shift - prev_shift));
            if i == 0 {
                last.1 = shift;
            }
            prev_ord = o;
            prev_shift = shift;
        }
    }

    /// Reads a recipe written by [`Recipe::encode`]; `None` when the bytes run out.
    pub fn decode(r: &mut &[u8], last: &mut (u32, i64)) -> Option<Recipe> {
        let (&d, rest) = r.split_first()?;
        *r = rest;
        let host_len = read_varint(r) as usize;
        if host_len > r.len() {
            return None;
        }
        let (host, rest) = r.split_at(host_len);
        *r = rest;
        let bare_host = (host_len > 0).then(|| String::from_utf8_lossy(host).into_owned());
        let n = read_varint(r) as usize;
        if n > r.len() {
            return None;
        }
        let mut recipe = Recipe {
            ordinals: Vec::with_capacity(n),
            lines: Vec::with_capacity(n),
            direction: direction_of(d),
            bare_host,
        };
        let (mut prev_ord, mut prev_shift) = *last;
        for i in 0..n {
            let o = if i == 0 {
                let o = (i64::from(last.0) + unzigzag(read_varint(r))) as u32;
                last.0 = o;
                o
            } else {
                prev_ord.checked_add(read_varint(r) as u32)?
            };
            let shift = prev_shift + unzigzag(read_varint(r));
            if i == 0 {
                last.1 = shift;
            }
            recipe.ordinals.push(o);
            recipe.lines.push((i64::from(o) + shift) as u64);
            prev_ord = o;
            prev_shift = shift;
        }
        Some(recipe)
    }
}

fn direction_byte(d: Option<Direction>) -> u8 {
    match d {
        None => 0,
        Some(Direction::Inbound) => 1,
        Some(Direction::Outbound) => 2,
        Some(Direction::Internal) => 3,
    }
}

fn direction_of(b: u8) -> Option<Direction> {
    match b {
        1 => Some(Direction::Inbound),
        2 => Some(Direction::Outbound),
        3 => Some(Direction::Internal),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trip() {
        let recipes = [
            Recipe {
                ordinals: vec![5, 9, 30],
                lines: vec![105, 109, 130],
                direction: Some(Direction::Inbound),
                bare_host: None,
            },
            Recipe {
                ordinals: vec![2, 3],
                lines: vec![7, 1],
                direction: None,
                bare_host: Some("mx1".into()),
            },
        ];
        let mut out = Vec::new();
        let mut last = (0, 0);
        for r in &recipes {
            r.encode(&mut out, &mut last);
        }
        let mut r = &out[..];
        let mut last = (0, 0);
        for want in &recipes {
            assert_eq!(Recipe::decode(&mut r, &mut last).as_ref(), Some(want));
        }
        assert!(r.is_empty());
    }
}
