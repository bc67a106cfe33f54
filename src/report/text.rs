//! The report as text: sections of aligned counts, for a terminal or a daily mail. Log text
//! (addresses, replies) goes through [`Printable`], so it cannot drive a terminal.

use std::io::Write;

use anyhow::Result;

use super::{Report, Top};
use crate::output::terminal::Printable;

fn section(out: &mut dyn Write, title: &str, list: &[Top]) -> Result<()> {
    writeln!(out, "\n{title}")?;
    if list.is_empty() {
        writeln!(out, "  none")?;
    }
    for t in list {
        writeln!(out, "  {:>7}  {}", t.count, t.name)?;
    }
    Ok(())
}

/// Writes `r` as text.
pub fn write(r: &Report, out: &mut dyn Write) -> Result<()> {
    let out = &mut Printable::new(out);
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("…".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    writeln!(out, "Mail report, {} to {} (UTC)", when(r.since), when(r.until))?;
    writeln!(
        out,
        "\n  {:>7}  messages\n  {:>7}  recipients",
        r.messages, r.recipients
    )?;
    for s in &r.statuses {
        writeln!(out, "  {:>7}    {}", s.count, s.name)?;
    }
    writeln!(out, "\nMessages per hour")?;
    let most = r.per_hour.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    for (hour, n) in &r.per_hour {
        let bar = "#".repeat(((*n as f64 / most as f64) * 40.0).ceil() as usize);
        writeln!(out, "  {}  {n:>6}  {bar}", hour.format("%Y-%m-%d %H:00"))?;
    }
    if r.per_hour.is_empty() {
        writeln!(out, "  none")?;
    }
    match r.delivery_seconds {
        Some([p50, p90, p99, max]) => writeln!(
            out,
            "\nDelivery time (arrival to delivery): median {p50:.1} s, 90 % {p90:.1} s, 99 % {p99:.1} s, longest {max:.1} s"
        )?,
        None => writeln!(out, "\nDelivery time: nothing delivered")?,
    }
    section(out, "Top senders", &r.top_senders)?;
    section(out, "Top sender domains", &r.top_sender_domains)?;
    section(out, "Top recipients", &r.top_recipients)?;
    section(out, "Top recipient domains", &r.top_recipient_domains)?;
    section(out, "Rejects by reason", &r.rejects_by_reason)?;
    section(out, "Bounces (and expired) by reply", &r.bounce_replies)?;
    section(out, "Deferrals by reply", &r.deferral_replies)?;
    Ok(())
}
