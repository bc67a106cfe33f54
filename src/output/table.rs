//! The aligned table shown on a terminal: the columns an admin reads first.

use std::io::Write;

use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ColumnConstraint, ContentArrangement, Table};

use super::terminal::escaped;
use super::Row;

/// Writes `rows` as a table; `cut` is the number of rows left out by `--limit`. A row takes
/// one line, its cells cut with `…` to fit the terminal (`width`: the terminal's when `None`);
/// `wide` shows every cell whole, wrapped.
pub fn write(out: &mut dyn Write, rows: &[Row], cut: Option<usize>, wide: bool, width: Option<u16>) -> Result<()> {
    // log text (subjects, replies, addresses) must not reach the terminal as control codes:
    // the cells are escaped (below), and what is written goes through `Printable` all the same
    let out = &mut super::terminal::Printable::new(out);
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_truncation_indicator("…");
    if let Some(w) = width {
        table.set_width(w);
    }
    // end-to-end rows name the servers their paths crossed
    let paths = rows.iter().any(|r| r.hops.len() > 1);
    let mut header = vec!["Time (UTC)", "Sender", "Recipient", "Status", "Subject", "Queue ID"];
    if paths {
        header.push("Path");
    }
    header.push("Detail");
    let mut header = comfy_table::Row::from(header);
    if !wide {
        header.max_height(1);
    }
    table.set_header(header);
    // the time, the status and the queue id are never cut; the text columns give way
    for i in [0, 3, 5] {
        if let Some(c) = table.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    // in the wide table, texts are whole
    let cap = |n: usize| if wide { usize::MAX } else { n };
    for r in rows {
        let detail = match (&r.dsn, &r.response) {
            (Some(d), Some(resp)) if !resp.contains(d.as_str()) => format!("{d} {}", short(resp, cap(60))),
            (_, Some(resp)) => short(resp, cap(60)),
            (Some(d), None) => d.clone(),
            (None, None) => String::new(),
        };
        // log text escaped before the layout measures it
        let text = |s: &str| Cell::new(escaped(s));
        let mut cells = vec![
            Cell::new(r.time.replace('T', " ").trim_end_matches('Z')),
            text(match r.from.as_deref() {
                Some("") => "<>",
                Some(f) => f,
                None => "",
            }),
            text(r.to.as_deref().unwrap_or("")),
            Cell::new(&r.status),
            text(&short(r.subject.as_deref().unwrap_or(""), cap(40))),
            text(r.queue_id.as_deref().unwrap_or("NOQUEUE")),
        ];
        if paths {
            let hosts: Vec<&str> = r
                .hops
                .iter()
                .map(|h| h.split_once(':').map_or(h.as_str(), |x| x.0))
                .collect();
            cells.push(text(&hosts.join(" → ")));
        }
        cells.push(text(&detail));
        let mut row = comfy_table::Row::from(cells);
        if !wide {
            row.max_height(1);
        }
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    match cut {
        Some(n) if n > 0 => writeln!(
            out,
            "{} rows shown, {n} more not shown: narrow the search or raise --limit (0 = no limit)",
            rows.len()
        )?,
        _ => writeln!(out, "{}", super::count(rows.len() as u64, "row"))?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(subject: &str) -> Row {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:10:02Z").unwrap();
        let t = crate::trace::Trace::new("t1".into(), "mx1", at.with_timezone(&chrono::Utc));
        let mut r = Row::new(&t, None);
        r.subject = Some(subject.to_string());
        r.response = Some("250 2.0.0 Ok: queued as 3B9D1A04F2 after a rather long reply from the far end".into());
        r
    }

    /// A row takes one line, cut to the width with `…`; `wide` shows it whole.
    #[test]
    fn rows_fit_the_width_unless_wide() {
        let rows = [row(
            "Quarterly report for the board of directors, third quarter, with appendices",
        )];
        let text = |wide, width| {
            let mut out = Vec::new();
            write(&mut out, &rows, None, wide, width).unwrap();
            String::from_utf8(out).unwrap()
        };
        let narrow = text(false, Some(80));
        // the top border, the header, the rule under it, the row, the bottom border, the count
        assert_eq!(narrow.lines().count(), 6, "{narrow}");
        assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
        assert!(narrow.contains('…'), "{narrow}");
        assert!(
            narrow.contains("2026-11-24 09:10:02"),
            "the time is never cut: {narrow}"
        );
        assert!(narrow.ends_with("\n1 row\n"), "{narrow}");
        // wide: every text whole (wrapped on a terminal; here, with no width, on one line)
        let wide = text(true, None);
        assert!(wide.contains("third quarter, with appendices"), "{wide}");
        assert!(wide.contains("after a rather long reply from the far end"), "{wide}");
        assert!(text(true, Some(80)).lines().count() > 6);
    }
}
