//! The delivery path `show` prints above the timelines when a message crossed servers whose
//! logs were read: a line per hop (host, queue id, in → out, what became of each recipient).

use std::io::Write;

use anyhow::Result;

use crate::path::OnPath;
use crate::trace::Trace;

/// The legs of `hops` by path: legs joined by a hop (one's `prev_hop` or `next_hop` names
/// the other) are on one path; each path keeps the order of `hops`.
pub fn separate<'a>(hops: Vec<(&'a Trace, OnPath)>) -> Vec<Vec<(&'a Trace, OnPath)>> {
    let name = |t: &Trace| format!("{}:{}", t.host, t.queue_id().unwrap_or(&t.trace_id));
    let names: Vec<String> = hops.iter().map(|(t, _)| name(t)).collect();
    // each leg's path: the lowest index reached through hops, by repeated passes
    let mut group: Vec<usize> = (0..hops.len()).collect();
    loop {
        let mut changed = false;
        for (i, (_, p)) in hops.iter().enumerate() {
            let linked = p.prev_hop.iter().chain(p.next_hop.iter().flatten());
            for other in linked.filter_map(|h| names.iter().position(|n| n == h)) {
                let g = group[i].min(group[other]);
                if group[i] != g || group[other] != g {
                    group[i] = g;
                    group[other] = g;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut out: Vec<(usize, Vec<(&'a Trace, OnPath)>)> = Vec::new();
    for (g, hop) in group.into_iter().zip(hops) {
        match out.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(hop),
            None => out.push((g, vec![hop])),
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

/// Writes the path of `hops` (the legs of one path, in time order, each with its place on
/// the path), when there is more than one leg.
pub fn write_text(out: &mut dyn Write, hops: &[(&Trace, OnPath)]) -> Result<()> {
    if hops.len() < 2 {
        return Ok(());
    }
    // log text must not reach the terminal as control codes
    let out: &mut dyn Write = &mut super::terminal::Printable::new(out);
    writeln!(out, "Delivery path ({} hops)", hops.len())?;
    let host_width = hops.iter().map(|(t, _)| t.host.len()).max().unwrap_or(0);
    let qid_width = hops
        .iter()
        .map(|(t, _)| t.queue_id().map_or(0, str::len))
        .max()
        .unwrap_or(0);
    for (t, p) in hops {
        let qid = t.queue_id().unwrap_or("-");
        write!(
            out,
            "  {:<host_width$}  {:<qid_width$}  {} → {}",
            t.host,
            qid,
            t.first_time.format("%Y-%m-%d %H:%M:%S"),
            t.last_time.format("%H:%M:%S"),
        )?;
        if let Some(prev) = &p.prev_hop {
            write!(out, "  from {prev}")?;
        }
        writeln!(out)?;
        for (i, r) in t.recipients.iter().enumerate() {
            let folder = r.folder.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
            let next = match p.next_hop.get(i).cloned().flatten() {
                Some(n) => format!(" → {n}"),
                None => String::new(),
            };
            writeln!(out, "      {}: {}{folder}{next}", r.address, r.status.as_str())?;
        }
    }
    writeln!(out)?;
    Ok(())
}
