//! Log text is data: what is printed for a person (the table, `show`'s timeline, `stats`)
//! goes through [`Printable`], which writes control characters as visible escapes, so a log
//! line holding `ESC[2J` or a carriage return cannot move the cursor, recolour or clear the
//! terminal. Machine formats (JSON, NDJSON, CSV) carry the text as it was logged.
//!
//! A table lays its cells out by their width, so its cells are escaped with [`escaped`]
//! before the layout (an escape written only on the way out would widen a cell after its
//! column was measured); a cell is one line, so there tab and newline are escaped too.

use std::io::{self, Write};

/// A writer that escapes C0 control characters (but newline and tab), DEL and the C1 controls
/// (U+0080–U+009F) as `\xNN` / `\u{NN}`.
pub struct Printable<'a> {
    inner: &'a mut dyn Write,
}

impl<'a> Printable<'a> {
    pub fn new(inner: &'a mut dyn Write) -> Self {
        Printable { inner }
    }
}

/// Runs `f` on `out` as written for a person (through [`Printable`]), or as it is when the
/// output is for a machine (`machine`: JSON).
pub fn for_people<T>(out: &mut dyn Write, machine: bool, f: impl FnOnce(&mut dyn Write) -> T) -> T {
    if machine {
        f(out)
    } else {
        f(&mut Printable::new(out))
    }
}

impl Write for Printable<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            let c1 = b == 0xC2 && buf.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n));
            let c0 = (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7F;
            if c0 || c1 {
                self.inner.write_all(&buf[start..i])?;
                if c1 {
                    write!(self.inner, "\\u{{{:x}}}", buf[i + 1])?;
                    i += 2;
                } else {
                    write!(self.inner, "\\x{b:02x}")?;
                    i += 1;
                }
                start = i;
            } else {
                i += 1;
            }
        }
        self.inner.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `text` with every control character (C0 including tab and newline, DEL, C1) written as
/// [`Printable`] writes it: the text of one table cell, measured after escaping.
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control();
    if !text.contains(control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            n @ (0..=0x1F | 0x7F) => out.push_str(&format!("\\x{n:02x}")),
            n @ 0x80..=0x9F => out.push_str(&format!("\\u{{{n:x}}}")),
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printable(s: &str) -> String {
        let mut out = Vec::new();
        Printable::new(&mut out).write_all(s.as_bytes()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn controls_are_escaped_text_is_not() {
        assert_eq!(printable("Subject: \u{1b}[2Jhi\r\n"), "Subject: \\x1b[2Jhi\\x0d\n");
        assert_eq!(printable("a\tb\u{7f}c\u{9b}31m é €"), "a\tb\\x7fc\\u{9b}31m é €");
        assert_eq!(printable("plain text"), "plain text");
    }

    #[test]
    fn cells_are_escaped_as_printable_writes_them_and_tabs_too() {
        let text = "Subject: \u{1b}[2Jhi\r\0 b\u{7f}c\u{9b}31m é €";
        assert_eq!(escaped(text), printable(text));
        assert_eq!(escaped("a\tb\nc"), "a\\x09b\\x0ac");
        assert!(matches!(escaped("plain é"), std::borrow::Cow::Borrowed("plain é")));
    }
}
