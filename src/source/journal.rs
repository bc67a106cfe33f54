//! journald's output as syslog lines: `journalctl -o json` (one JSON object per line) and
//! `journalctl -o export` (`KEY=value` lines, binary fields as `KEY`, a little-endian 64-bit
//! length and the bytes; a blank line ends an entry). Each entry becomes
//! `2026-11-23T20:08:02.123456+00:00 HOST IDENT[PID]: MESSAGE`, the RFC 3339 form the syslog
//! reader knows, from `__REALTIME_TIMESTAMP`, `_HOSTNAME`, `SYSLOG_IDENTIFIER` (else `_COMM`),
//! `_PID` (else `SYSLOG_PID`) and `MESSAGE` (text, or an array of bytes). The lines after the
//! first of a multi-line message follow bare, as a log file holds them (Exim's reject log). An
//! entry that cannot be read is passed on as it is, to be counted as not understood.

use std::io::{self, BufRead, Read};

use chrono::{DateTime, Utc};

/// How journald wrote the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalFormat {
    Json,
    Export,
}

impl JournalFormat {
    /// `-o json` starts with `{`; `-o export` with a field name.
    pub fn sniff(head: &[u8]) -> JournalFormat {
        match head.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => JournalFormat::Json,
            _ => JournalFormat::Export,
        }
    }
}

/// A reader of journal entries that reads as syslog text.
pub struct JournalLines<R> {
    inner: R,
    format: JournalFormat,
    out: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: BufRead> JournalLines<R> {
    pub fn new(inner: R, format: JournalFormat) -> Self {
        JournalLines {
            inner,
            format,
            out: Vec::new(),
            at: 0,
            done: false,
        }
    }

    /// Renders the next entry into `out`; false at the end.
    fn next_entry(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.at = 0;
        match self.format {
            JournalFormat::Json => {
                let mut line = Vec::new();
                loop {
                    line.clear();
                    if self.inner.read_until(b'\n', &mut line)? == 0 {
                        return Ok(false);
                    }
                    if !line.iter().all(u8::is_ascii_whitespace) {
                        break;
                    }
                }
                match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&line) {
                    Ok(obj) => {
                        let field = |k: &str| obj.get(k).and_then(json_bytes);
                        render(&mut self.out, &field);
                    }
                    Err(_) => self.out.extend_from_slice(&line),
                }
            }
            JournalFormat::Export => {
                let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
                let mut line = Vec::new();
                loop {
                    line.clear();
                    if self.inner.read_until(b'\n', &mut line)? == 0 {
                        if fields.is_empty() {
                            return Ok(false);
                        }
                        break;
                    }
                    let text = line.strip_suffix(b"\n").unwrap_or(&line);
                    if text.is_empty() {
                        if fields.is_empty() {
                            continue;
                        }
                        break;
                    }
                    match text.iter().position(|&b| b == b'=') {
                        Some(eq) => fields.push((text[..eq].to_vec(), text[eq + 1..].to_vec())),
                        None => {
                            // a binary field: the name, then the length and the bytes
                            let mut len = [0u8; 8];
                            self.inner.read_exact(&mut len)?;
                            let n = u64::from_le_bytes(len);
                            let mut value = Vec::new();
                            (&mut self.inner).take(n).read_to_end(&mut value)?;
                            let mut nl = [0u8; 1];
                            self.inner.read_exact(&mut nl)?;
                            fields.push((text.to_vec(), value));
                        }
                    }
                }
                let field = |k: &str| {
                    fields
                        .iter()
                        .find(|(name, _)| name == k.as_bytes())
                        .map(|(_, v)| v.clone())
                };
                render(&mut self.out, &field);
            }
        }
        if self.out.last() != Some(&b'\n') {
            self.out.push(b'\n');
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for JournalLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            if self.done || !self.next_entry()? {
                self.done = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A JSON field's bytes: a string, a number, or an array of bytes (journald's form of a
/// value that is not UTF-8).
fn json_bytes(v: &serde_json::Value) -> Option<Vec<u8>> {
    match v {
        serde_json::Value::String(s) => Some(s.as_bytes().to_vec()),
        serde_json::Value::Number(n) => Some(n.to_string().into_bytes()),
        serde_json::Value::Array(a) => a.iter().map(|b| b.as_u64().map(|b| b as u8)).collect(),
        _ => None,
    }
}

/// Writes one entry as a syslog line (and the further lines of its message bare).
fn render(out: &mut Vec<u8>, field: &dyn Fn(&str) -> Option<Vec<u8>>) {
    let micros = field("__REALTIME_TIMESTAMP")
        .and_then(|t| String::from_utf8(t).ok())
        .and_then(|t| t.trim().parse::<i64>().ok());
    let time = micros.and_then(DateTime::<Utc>::from_timestamp_micros);
    let Some(time) = time else {
        // no time: the message alone, which the syslog reader will count as not understood
        out.extend(field("MESSAGE").unwrap_or_default());
        return;
    };
    out.extend_from_slice(time.format("%Y-%m-%dT%H:%M:%S%.6f+00:00 ").to_string().as_bytes());
    let host = field("_HOSTNAME").unwrap_or_else(|| b"localhost".to_vec());
    out.extend(host.into_iter().filter(|b| !b.is_ascii_whitespace()));
    out.push(b' ');
    let ident = field("SYSLOG_IDENTIFIER")
        .or_else(|| field("_COMM"))
        .unwrap_or_else(|| b"unknown".to_vec());
    out.extend(ident.into_iter().filter(|b| !b.is_ascii_whitespace()));
    if let Some(pid) = field("_PID").or_else(|| field("SYSLOG_PID")) {
        out.push(b'[');
        out.extend(pid);
        out.push(b']');
    }
    out.extend_from_slice(b": ");
    out.extend(field("MESSAGE").unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], format: JournalFormat) -> Vec<u8> {
        let mut out = Vec::new();
        JournalLines::new(input, format).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn json_entries_become_syslog_lines() {
        let input = br#"{"__REALTIME_TIMESTAMP":"1795464482123456","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"postfix/qmgr","_PID":"812","MESSAGE":"4XcA1b2C3d: removed"}
{"__REALTIME_TIMESTAMP":"1795464483000000","_HOSTNAME":"mx1","SYSLOG_IDENTIFIER":"postfix/smtpd","_PID":"900","MESSAGE":[99,111,110,110,101,99,116,32,255]}

not json at all
"#;
        let expected: &[u8] = b"2026-11-23T20:08:02.123456+00:00 mx1 postfix/qmgr[812]: 4XcA1b2C3d: removed\n\
            2026-11-23T20:08:03.000000+00:00 mx1 postfix/smtpd[900]: connect \xff\n\
            not json at all\n";
        assert_eq!(
            String::from_utf8_lossy(&read_all(input, JournalFormat::Json)),
            String::from_utf8_lossy(expected)
        );
    }

    #[test]
    fn export_entries_with_a_binary_field() {
        let mut input = Vec::new();
        input.extend_from_slice(b"__CURSOR=s=1\n__REALTIME_TIMESTAMP=1795464482000000\n_HOSTNAME=mx1\nSYSLOG_IDENTIFIER=exim\n_PID=77\nMESSAGE\n");
        let msg = b"1yBjBb-0009Ab-X4 H=(b) [203.0.113.9] F=<a@b.example> rejected after DATA: spam\nEnvelope-to: <lena@example.com>";
        input.extend_from_slice(&(msg.len() as u64).to_le_bytes());
        input.extend_from_slice(msg);
        input.extend_from_slice(b"\n\n__REALTIME_TIMESTAMP=1795464483000000\n_HOSTNAME=mx1\nSYSLOG_IDENTIFIER=postfix/qmgr\n_PID=812\nMESSAGE=4XcA1b2C3d: removed\n\n");
        assert_eq!(
            String::from_utf8(read_all(&input, JournalFormat::Export)).unwrap(),
            "2026-11-23T20:08:02.000000+00:00 mx1 exim[77]: 1yBjBb-0009Ab-X4 H=(b) [203.0.113.9] F=<a@b.example> rejected after DATA: spam\n\
             Envelope-to: <lena@example.com>\n\
             2026-11-23T20:08:03.000000+00:00 mx1 postfix/qmgr[812]: 4XcA1b2C3d: removed\n"
        );
        assert_eq!(JournalFormat::sniff(b"  {\"a\":1}"), JournalFormat::Json);
        assert_eq!(JournalFormat::sniff(b"__CURSOR=x"), JournalFormat::Export);
    }
}
