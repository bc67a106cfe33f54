//! Small pieces that many Postfix messages share: queue ids, `name[addr]:port` peers,
//! `key=<value>` and `key=value,` fields, DSN codes.

use super::text::StrFind;
use memchr::memmem;

use crate::event::{Delays, Peer, PolicyTail};

/// Splits `QID: rest` when the first word is a Postfix queue id (see [`is_queue_id`]).
pub fn queue_id(input: &str) -> Option<(&str, &str)> {
    let (len, shaped) = leading_word(input.as_bytes());
    if len == 0 {
        return None;
    }
    let (id, rest) = input.split_at(len);
    let rest = rest
        .strip_prefix(": ")
        .or_else(|| rest.strip_prefix(':').filter(|r| r.is_empty()))?;
    shaped.then_some((id, rest))
}

/// Whether `word` has the shape of a Postfix queue id: short ids are 5 or more upper-case hex
/// digits; long ids (`enable_long_queue_ids`) are 10 to 24 letters and digits from Postfix's
/// base-52 alphabet, with a digit and a lower-case letter among them.
pub fn is_queue_id(word: &str) -> bool {
    let (len, shaped) = leading_word(word.as_bytes());
    len == word.len() && shaped
}

/// The length of the letters and digits `b` starts with, and whether they have the shape of
/// a queue id: one pass, as this runs for most lines.
fn leading_word(b: &[u8]) -> (usize, bool) {
    let (mut len, mut upper_hex, mut digit, mut lower) = (0, true, false, false);
    while let Some(&c) = b.get(len) {
        match c {
            b'0'..=b'9' => digit = true,
            b'A'..=b'F' => {}
            b'G'..=b'Z' => upper_hex = false,
            b'a'..=b'z' => {
                lower = true;
                upper_hex = false;
            }
            _ => break,
        }
        len += 1;
    }
    let shaped = (len >= 5 && upper_hex) || ((10..=24).contains(&len) && digit && lower);
    (len, shaped)
}

/// Parses `name[addr]` or `name[addr]:port`, returning the peer and the rest.
pub fn peer(input: &str) -> Option<(Peer<'_>, &str)> {
    let open = input.find_byte(b'[')?;
    let name = &input[..open];
    if name.contains(' ') {
        return None;
    }
    let close = open + input[open..].find_byte(b']')?;
    let addr = &input[open + 1..close];
    let mut rest = &input[close + 1..];
    let mut port = None;
    if let Some(after) = rest.strip_prefix(':') {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            port = after[..digits].parse().ok();
            rest = &after[digits..];
        }
    }
    Some((Peer { name, addr, port }, rest))
}

/// The value of `key=<value>` (angle brackets) anywhere in `text`. The value ends at the
/// first `>` that ends the text or is followed by a separator (`,`, space, `;`, CR), so a
/// quoted local part holding `>` (`from=<"<b>x"@example.com>`, as Postfix logs it) is kept
/// whole; failing that, at the first `>`.
pub fn angle_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let from = find_key(text, key, true)?;
    let bytes = text.as_bytes();
    let mut ends = memchr::memchr_iter(b'>', &bytes[from..]).map(|i| from + i);
    let first = ends.next()?;
    let end = std::iter::once(first)
        .chain(ends)
        .find(|&i| matches!(bytes.get(i + 1), None | Some(b',' | b' ' | b';' | b'\r')))
        .unwrap_or(first);
    Some(&text[from..end])
}

/// Finds `key=` (or `key=<` when `angle`) at the start of `text` or right after a space, comma
/// or `;`, and returns the offset of the value. Walks the `=` signs with `memchr` and compares
/// the bytes before each: no searcher to build and no allocation, as this runs for most lines.
fn find_key(text: &str, key: &str, angle: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let key = key.as_bytes();
    let k = key.len();
    for eq in memchr::memchr_iter(b'=', bytes) {
        if eq < k || &bytes[eq - k..eq] != key {
            continue;
        }
        let at = eq - k;
        if at != 0 && !matches!(bytes[at - 1], b' ' | b',' | b';') {
            continue;
        }
        if !angle {
            return Some(eq + 1);
        }
        if bytes.get(eq + 1) == Some(&b'<') {
            return Some(eq + 2);
        }
    }
    None
}

/// The value of `key=value` up to the next `,` or space, anywhere in `text`.
pub fn plain_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let from = find_key(text, key, false)?;
    let end = memchr::memchr2(b',', b' ', &text.as_bytes()[from..]).map_or(text.len(), |e| from + e);
    Some(&text[from..end])
}

/// An address written as `<addr>` or bare up to `,`: `to=<a@b>,` and local(8)'s `to=a@b,`.
pub fn address_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    angle_field(text, key).or_else(|| plain_field(text, key).filter(|v| !v.starts_with('<')))
}

/// The `; from=<…> to=<…> proto=… helo=<…>` tail of smtpd/cleanup/postscreen policy lines
/// (postscreen separates the fields with commas).
pub fn policy_tail(text: &str) -> PolicyTail<'_> {
    PolicyTail {
        from: angle_field(text, "from"),
        to: angle_field(text, "to"),
        proto: plain_field(text, "proto"),
        helo: angle_field(text, "helo"),
    }
}

/// Builds [`Delays`] from the values of `delay=` and `delays=a/b/c/d`.
pub fn delays_from(delay: &str, parts: Option<&str>) -> Option<Delays> {
    let mut d = Delays {
        total: decimal(delay)?,
        ..Delays::default()
    };
    if let Some(parts) = parts {
        let mut it = parts.split('/').map(|p| decimal(p).unwrap_or(0.0));
        d.before_qmgr = it.next().unwrap_or(0.0);
        d.in_qmgr = it.next().unwrap_or(0.0);
        d.conn_setup = it.next().unwrap_or(0.0);
        d.transmission = it.next().unwrap_or(0.0);
    }
    Some(d)
}

/// A number as `str::parse::<f64>` reads it. Postfix writes delays as `1.2` or `0.05`: with
/// at most 15 digits and no exponent, the digits as an integer divided by a power of ten is
/// exactly the correctly rounded value (both are exact doubles, and IEEE division rounds
/// correctly), without the general parser's work. Anything else goes to the general parser.
pub fn decimal(text: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let b = text.as_bytes();
    let (mut mantissa, mut digits, mut scale, mut dot) = (0u64, 0u32, 0i32, false);
    for &c in b {
        match c {
            b'0'..=b'9' if digits < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                scale += i32::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return text.parse().ok(),
        }
    }
    if digits == 0 {
        return text.parse().ok();
    }
    Some(mantissa as f64 / POW10[scale as usize])
}

/// The first enhanced status code (`5.7.1`) in `text`, as written.
pub fn dsn_in(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'2' | b'4' | b'5')
            && b.get(i + 1) == Some(&b'.')
            // not the tail of a dotted number (`212.2.127.169` holds no DSN)
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            let mut j = i + 2;
            let d1 = count_digits(b, j);
            if (1..=3).contains(&d1) && b.get(j + d1) == Some(&b'.') {
                j += d1 + 1;
                let d2 = count_digits(b, j);
                if (1..=3).contains(&d2) {
                    let end = j + d2;
                    let more = b[end..].starts_with(b".") && b.get(end + 1).is_some_and(u8::is_ascii_digit);
                    if end == b.len() || !(b[end].is_ascii_alphanumeric() || more) {
                        return Some(&text[i..end]);
                    }
                }
            }
        }
        i += 1;
    }
    None
}

fn count_digits(b: &[u8], from: usize) -> usize {
    b[from.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// `queued as QID` inside a response (the next hop's queue id), taken up to the closing text.
pub fn queued_as(text: &str) -> Option<&str> {
    let at = memmem::rfind(text.as_bytes(), b"queued as ")?;
    let from = at + "queued as ".len();
    let len = text[from..].bytes().take_while(|c| c.is_ascii_alphanumeric()).count();
    (len > 0).then(|| &text[from..from + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue id rule written plainly, as the reference the one-pass reading is held to.
    fn reference_shape(word: &str) -> bool {
        let b = word.as_bytes();
        (b.len() >= 5 && b.iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c)))
            || (b.len() >= 10
                && b.len() <= 24
                && b.iter().all(u8::is_ascii_alphanumeric)
                && b.iter().any(u8::is_ascii_digit)
                && b.iter().any(u8::is_ascii_lowercase))
    }

    #[test]
    fn queue_ids_follow_the_rule_in_one_pass() {
        let alphabet = b"0123456789ABCDEFGHXYZabcxyz";
        let mut seed = 7u64;
        for n in 0..20000 {
            let len = n % 27;
            let word: String = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    alphabet[(seed >> 33) as usize % alphabet.len()] as char
                })
                .collect();
            let line = format!("{word}: removed");
            let expected = (!word.is_empty() && reference_shape(&word)).then_some((word.as_str(), "removed"));
            assert_eq!(queue_id(&line), expected, "{line:?}");
            assert_eq!(is_queue_id(&word), reference_shape(&word), "{word:?}");
            assert!(!is_queue_id(&format!("{word}-")), "{word:?}-");
        }
        assert_eq!(queue_id("4D7F12A3B: "), Some(("4D7F12A3B", "")));
        assert_eq!(queue_id("4D7F12A3B:"), Some(("4D7F12A3B", "")));
        assert_eq!(queue_id("NOQUEUE: reject"), None);
    }

    #[test]
    fn decimal_reads_as_the_general_parser() {
        let mut texts: Vec<String> = [
            "0",
            "0.05",
            "1.2",
            "1.",
            ".5",
            ".",
            "",
            "-1",
            "1e5",
            "inf",
            "12345678901234.5",
            "1234567890123456",
            "0.000000000000001",
            "00.10",
            "3.3.3",
            "1,5",
            "999999999999999",
            "0.1",
            "0.7",
            "2.675",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for i in 0..20000u32 {
            let whole = i % 997;
            let frac = (i * 7919) % 1000;
            texts.push(format!("{whole}.{frac:03}"));
            texts.push(format!("{whole}.{}", frac % 100));
        }
        for t in &texts {
            assert_eq!(
                decimal(t).map(f64::to_bits),
                t.parse::<f64>().ok().map(f64::to_bits),
                "{t:?}"
            );
        }
    }

    #[test]
    fn queue_ids() {
        assert_eq!(queue_id("0BFED37D092: uid=34"), Some(("0BFED37D092", "uid=34")));
        assert_eq!(
            queue_id("48rT2v1hQrz1J0N: prepend: x"),
            Some(("48rT2v1hQrz1J0N", "prepend: x"))
        );
        assert_eq!(queue_id("warning: x"), None);
        assert_eq!(queue_id("NOQUEUE: reject"), None);
        assert_eq!(queue_id("connect from x"), None);
        assert_eq!(queue_id("ABCDE"), None);
    }

    #[test]
    fn peers() {
        let (p, rest) = peer("mx.example.com[192.0.2.1]:25, delay").unwrap();
        assert_eq!(
            (p.name, p.addr, p.port, rest),
            ("mx.example.com", "192.0.2.1", Some(25), ", delay")
        );
        let (p, _) = peer("unknown[2001:db8::1]").unwrap();
        assert_eq!(p.addr, "2001:db8::1");
    }

    #[test]
    fn fields() {
        let t = "to=<a@b>, orig_to=<c@d>, relay=local, delay=0.13, delays=0.02/0/0/0.11, dsn=2.0.0, status=sent (x)";
        assert_eq!(address_field(t, "to"), Some("a@b"));
        assert_eq!(address_field(t, "orig_to"), Some("c@d"));
        assert_eq!(plain_field(t, "relay"), Some("local"));
        let d = delays_from(plain_field(t, "delay").unwrap(), plain_field(t, "delays")).unwrap();
        assert_eq!((d.total, d.before_qmgr, d.transmission), (0.13, 0.02, 0.11));
        assert_eq!(address_field("to=user@host, relay=local", "to"), Some("user@host"));
        // a quoted local part holding `>`
        let t = "from=<\"<img src=x>\"@a.example>, size=1 to=<b@c> helo=<h>";
        assert_eq!(address_field(t, "from"), Some("\"<img src=x>\"@a.example"));
        assert_eq!(address_field(t, "to"), Some("b@c"));
        assert_eq!(angle_field(t, "helo"), Some("h"));
        assert_eq!(angle_field("to=<a>b", "to"), Some("a"));
        assert_eq!(dsn_in("550 5.1.1 <x@y>: no"), Some("5.1.1"));
        assert_eq!(dsn_in("version 1.2.3"), None);
        assert_eq!(queued_as("250 2.0.0 Ok: queued as 3CE6B37C010)"), Some("3CE6B37C010"));
    }
}
