//! The report as one HTML page with inline SVG bar charts: no script, no outside resource,
//! so it can be mailed or opened from disk. Every text from the logs is escaped.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;

use super::{Report, Top};

/// Text for HTML: `&`, `<`, `>`, quotes escaped; control characters dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Horizontal bars, one per entry, with its count and name.
fn bars(title: &str, list: &[Top]) -> String {
    let mut s = format!("<section><h2>{}</h2>", escape(title));
    if list.is_empty() {
        s.push_str("<p>none</p></section>");
        return s;
    }
    let most = list.iter().map(|t| t.count).max().unwrap_or(1).max(1) as f64;
    let h = 22 * list.len();
    let _ = write!(
        s,
        "<svg role=\"img\" width=\"760\" height=\"{h}\" viewBox=\"0 0 760 {h}\">"
    );
    for (i, t) in list.iter().enumerate() {
        let y = i * 22;
        let w = (t.count as f64 / most * 300.0).max(1.0);
        let _ = write!(
            s,
            "<rect x=\"0\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"#4a7bd0\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{} {}</text>",
            y + 2,
            w + 6.0,
            y + 14,
            t.count,
            escape(&t.name)
        );
    }
    s.push_str("</svg></section>");
    s
}

/// Vertical bars of messages per hour.
fn hours(r: &Report) -> String {
    let mut s = String::from("<section><h2>Messages per hour (UTC)</h2>");
    if r.per_hour.is_empty() {
        s.push_str("<p>none</p></section>");
        return s;
    }
    let most = r.per_hour.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f64;
    let step = (740 / r.per_hour.len()).clamp(4, 30);
    let width = step * r.per_hour.len() + 20;
    let _ = write!(
        s,
        "<svg role=\"img\" width=\"{width}\" height=\"160\" viewBox=\"0 0 {width} 160\">"
    );
    for (i, (hour, n)) in r.per_hour.iter().enumerate() {
        let h = (*n as f64 / most * 120.0).max(1.0);
        let x = i * step;
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"{}\" height=\"{h:.1}\" fill=\"#4a7bd0\"><title>{} {n}</title></rect>",
            130.0 - h,
            step.saturating_sub(2).max(1),
            hour.format("%Y-%m-%d %H:00"),
        );
        if i % 6 == 0 {
            let _ = write!(
                s,
                "<text x=\"{x}\" y=\"150\" font-size=\"10\">{}</text>",
                hour.format("%d %H:00")
            );
        }
    }
    s.push_str("</svg></section>");
    s
}

/// Writes `r` as an HTML page.
pub fn write(r: &Report, out: &mut dyn Write) -> Result<()> {
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("…".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    };
    let title = format!("Mail report, {} to {} (UTC)", when(r.since), when(r.until));
    let mut s = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:60em}}h2{{font-size:1.1em;margin-top:1.6em}}\
         td{{padding:0 1em 0 0}}td.n{{text-align:right}}</style></head><body><h1>{t}</h1>",
        t = escape(&title)
    );
    let _ = write!(
        s,
        "<table><tr><td class=\"n\">{}</td><td>messages</td></tr><tr><td class=\"n\">{}</td><td>recipients</td></tr>",
        r.messages, r.recipients
    );
    for st in &r.statuses {
        let _ = write!(
            s,
            "<tr><td class=\"n\">{}</td><td>{}</td></tr>",
            st.count,
            escape(&st.name)
        );
    }
    s.push_str("</table>");
    s.push_str(&hours(r));
    if let Some([p50, p90, p99, max]) = r.delivery_seconds {
        let _ = write!(
            s,
            "<section><h2>Delivery time</h2><p>median {p50:.1} s, 90 % {p90:.1} s, 99 % {p99:.1} s, longest {max:.1} s</p></section>"
        );
    }
    s.push_str(&bars("Recipients by status", &r.statuses));
    s.push_str(&bars("Top senders", &r.top_senders));
    s.push_str(&bars("Top sender domains", &r.top_sender_domains));
    s.push_str(&bars("Top recipients", &r.top_recipients));
    s.push_str(&bars("Top recipient domains", &r.top_recipient_domains));
    s.push_str(&bars("Rejects by reason", &r.rejects_by_reason));
    s.push_str(&bars("Bounces (and expired) by reply", &r.bounce_replies));
    s.push_str(&bars("Deferrals by reply", &r.deferral_replies));
    s.push_str("</body></html>\n");
    out.write_all(s.as_bytes())?;
    Ok(())
}
