//! The aligned table shown on a terminal: the columns an admin reads first.

use std::io::Write;

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};

use super::Row;

/// Writes `rows` as a table; `cut` is the number of rows left out by `--limit`.
pub fn write(out: &mut dyn Write, rows: &[Row], cut: Option<usize>) -> Result<()> {
    // log text (subjects, replies, addresses) must not reach the terminal as control codes
    let out = &mut super::terminal::Printable::new(out);
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    // end-to-end rows name the servers their paths crossed
    let paths = rows.iter().any(|r| r.hops.len() > 1);
    let mut header = vec!["Time (UTC)", "Sender", "Recipient", "Status", "Subject", "Queue ID"];
    if paths {
        header.push("Path");
    }
    header.push("Detail");
    table.set_header(header);
    for r in rows {
        let detail = match (&r.dsn, &r.response) {
            (Some(d), Some(resp)) if !resp.contains(d.as_str()) => format!("{d} {}", short(resp, 60)),
            (_, Some(resp)) => short(resp, 60),
            (Some(d), None) => d.clone(),
            (None, None) => String::new(),
        };
        let mut cells = vec![
            Cell::new(r.time.replace('T', " ").trim_end_matches('Z')),
            Cell::new(match r.from.as_deref() {
                Some("") => "<>",
                Some(f) => f,
                None => "",
            }),
            Cell::new(r.to.as_deref().unwrap_or("")),
            Cell::new(&r.status),
            Cell::new(short(r.subject.as_deref().unwrap_or(""), 40)),
            Cell::new(r.queue_id.as_deref().unwrap_or("NOQUEUE")),
        ];
        if paths {
            let hosts: Vec<&str> = r
                .hops
                .iter()
                .map(|h| h.split_once(':').map_or(h.as_str(), |x| x.0))
                .collect();
            cells.push(Cell::new(hosts.join(" → ")));
        }
        cells.push(Cell::new(detail));
        table.add_row(cells);
    }
    writeln!(out, "{table}")?;
    match cut {
        Some(n) if n > 0 => writeln!(
            out,
            "{} rows shown, {n} more not shown: narrow the search or raise --limit (0 = no limit)",
            rows.len()
        )?,
        _ => writeln!(out, "{} rows", rows.len())?,
    }
    Ok(())
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
