//! Values and names in ClickHouse SQL text.
//!
//! ClickHouse 18.16, the oldest release mailtrace talks to, has no query parameters, so every
//! value from a user or a log is written into the query text as a literal. [`string`] is the one
//! function that does it, for every value: a single-quoted literal in which a backslash, a quote
//! and every control byte are escaped, so the value cannot end the literal early. Names
//! (database, cluster) are never escaped: [`identifier`] accepts only letters, digits and `_`.

use std::fmt::Write as _;

/// `value` as a ClickHouse string literal: `'…'`, with `\` and `'` escaped by a backslash and
/// every control byte (NUL, newline, DEL, …) written as `\xHH`. Other bytes, UTF-8 included,
/// stand as they are.
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Reads a string literal back as ClickHouse's lexer does (the escapes [`string`] writes);
/// `None` when it is not one whole literal. The tests and the fuzz target check that every
/// value [`string`] writes reads back unchanged.
pub fn read_string(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            // an unescaped quote would end the literal inside it
            '\'' => return None,
            '\\' => match chars.next()? {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                'x' => {
                    let hex: String = chars.by_ref().take(2).collect();
                    out.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// `name` when it can stand in SQL text as a database, table or cluster name without quoting:
/// a letter or `_`, then letters, digits and `_`, at most 64 bytes.
pub fn identifier(name: &str) -> Result<&str, String> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "name '{name}' is not one mailtrace accepts: a letter or '_', then letters, digits and '_'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_inside_their_literal() {
        // quotes, backslashes, control bytes, SQL, Unicode (shared with tests/clickhouse.rs)
        let hostile: Vec<String> =
            serde_json::from_str(include_str!("../../../testdata/clickhouse/hostile-values.json")).unwrap();
        assert!(hostile.len() >= 14);
        for v in &hostile {
            let lit = string(v);
            assert_eq!(read_string(&lit).as_ref(), Some(v), "{v:?} as {lit}");
            assert!(
                !lit.bytes().any(|b| b < 0x20 || b == 0x7f),
                "{lit:?} holds a control byte"
            );
        }
        assert_eq!(string("O'Brien\n"), "'O\\'Brien\\x0A'");
    }

    #[test]
    fn every_string_round_trips() {
        // every byte value as a character, alone and in pairs with the dangerous ones
        for b in 0u32..=0x7f {
            let c = char::from_u32(b).unwrap();
            for v in [c.to_string(), format!("{c}'"), format!("\\{c}"), format!("{c}\\'")] {
                assert_eq!(read_string(&string(&v)).as_deref(), Some(v.as_str()), "{v:?}");
            }
        }
    }

    #[test]
    fn identifiers() {
        assert_eq!(identifier("mail"), Ok("mail"));
        assert_eq!(identifier("_mail_2"), Ok("_mail_2"));
        for bad in ["", "2mail", "ma-il", "mail;", "a b", "mail`", "é", &"x".repeat(65)] {
            assert!(identifier(bad).is_err(), "{bad:?}");
        }
    }
}
