//! The delivery path `show` prints above the timelines when a message crossed servers whose
//! logs were read: a line per hop (host, queue id, in → out, what became of each recipient).

use std::io::Write;

use anyhow::Result;

use crate::path::OnPath;
use crate::trace::Trace;

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
