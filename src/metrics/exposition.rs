//! The Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines, then
//! one sample per line. Label values come from the logs (host and program names), so they are
//! escaped as the format asks (backslash, double quote, newline); nothing else in them can
//! end a line.

use std::fmt::Write;

use super::{Counters, Histogram, DELAY_BUCKETS};

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value, escaped.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Writes metrics in the text format.
#[derive(Default)]
pub struct Text {
    out: String,
}

impl Text {
    /// Starts a family: its help and type.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample with its labels.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    /// A family whose samples are keyed by tab-joined label values ([`Counters`]' maps).
    fn keyed(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        names: &[&str],
        map: &std::collections::BTreeMap<String, u64>,
    ) {
        self.family(name, kind, help);
        for (k, v) in map {
            let values: Vec<&str> = k.split('\t').collect();
            let labels: Vec<(&str, &str)> = names.iter().copied().zip(values).collect();
            self.sample(name, &labels, *v as f64);
        }
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) {
        let mut cumulative = 0;
        for (i, bound) in DELAY_BUCKETS.iter().enumerate() {
            cumulative += h.buckets.get(i).copied().unwrap_or(0);
            let le = bound.to_string();
            let mut with = labels.to_vec();
            with.push(("le", &le));
            self.sample(&format!("{name}_bucket"), &with, cumulative as f64);
        }
        let mut with = labels.to_vec();
        with.push(("le", "+Inf"));
        self.sample(&format!("{name}_bucket"), &with, h.count as f64);
        self.sample(&format!("{name}_sum"), labels, h.sum);
        self.sample(&format!("{name}_count"), labels, h.count as f64);
    }

    /// The writers' counters (see [`Counters`]).
    pub fn counters(&mut self, c: &Counters) {
        self.keyed(
            "mailtrace_messages_total",
            "counter",
            "Messages finished, by host and direction.",
            &["host", "direction"],
            &c.messages,
        );
        self.keyed(
            "mailtrace_recipients_total",
            "counter",
            "Recipients of the messages finished, by host, direction and status.",
            &["host", "direction", "status"],
            &c.recipients,
        );
        self.keyed(
            "mailtrace_rejects_total",
            "counter",
            "Rejected recipients by host and reason class (rbl, unknown_user, relay_denied, greylist, policy, spam, virus, other).",
            &["host", "reason"],
            &c.rejects,
        );
        self.keyed(
            "mailtrace_in_flight_messages",
            "gauge",
            "Messages in flight at the last commit (queued, deferred), by host and direction.",
            &["host", "direction"],
            &c.in_flight_messages,
        );
        self.keyed(
            "mailtrace_in_flight_recipients",
            "gauge",
            "Recipients of the messages in flight at the last commit, by host, direction and status (deferred: deferred now).",
            &["host", "direction", "status"],
            &c.in_flight_recipients,
        );
        self.family(
            "mailtrace_delivery_delay_seconds",
            "histogram",
            "Postfix's delays= of each recipient's last attempt, by part (before_queue_manager, in_queue, connection_setup, transmission).",
        );
        for (part, h) in &c.delays {
            self.histogram("mailtrace_delivery_delay_seconds", &[("part", part)], h);
        }
        self.family("mailtrace_lines_total", "counter", "Log lines read.");
        self.sample("mailtrace_lines_total", &[], c.lines as f64);
        self.keyed(
            "mailtrace_unrecognised_lines_total",
            "counter",
            "Lines of the programs mailtrace reads that it did not understand, by program.",
            &["program"],
            &c.unrecognised,
        );
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_from_the_logs_are_escaped() {
        let mut t = Text::default();
        t.family("mailtrace_x", "gauge", "X.");
        t.sample("mailtrace_x", &[("host", "a\"b\\c\nd\re")], 1.0);
        assert_eq!(
            t.finish(),
            "# HELP mailtrace_x X.\n# TYPE mailtrace_x gauge\nmailtrace_x{host=\"a\\\"b\\\\c\\nd e\"} 1\n"
        );
    }

    #[test]
    fn histograms_are_cumulative_with_inf_sum_and_count() {
        let mut c = Counters::default();
        let mut h = Histogram::default();
        h.observe(0.05);
        h.observe(2.0);
        h.observe(100000.0);
        c.delays.insert("in_queue".into(), h);
        let mut t = Text::default();
        t.counters(&c);
        let text = t.finish();
        for line in [
            "mailtrace_delivery_delay_seconds_bucket{part=\"in_queue\",le=\"0.1\"} 1",
            "mailtrace_delivery_delay_seconds_bucket{part=\"in_queue\",le=\"1\"} 1",
            "mailtrace_delivery_delay_seconds_bucket{part=\"in_queue\",le=\"5\"} 2",
            "mailtrace_delivery_delay_seconds_bucket{part=\"in_queue\",le=\"86400\"} 2",
            "mailtrace_delivery_delay_seconds_bucket{part=\"in_queue\",le=\"+Inf\"} 3",
            "mailtrace_delivery_delay_seconds_sum{part=\"in_queue\"} 100002.05",
            "mailtrace_delivery_delay_seconds_count{part=\"in_queue\"} 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }
}
