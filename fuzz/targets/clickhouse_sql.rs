//! Values written into ClickHouse SQL text (18.16 has no query parameters). Invariants: every
//! string becomes one literal that reads back as the same string and holds no control byte;
//! a name is accepted only when it needs no quoting; in a query built from criteria, log or
//! user text appears only inside literals.

use mailtrace::store::clickhouse::sql::{identifier, read_string, string};

/// Checks that `sql` is literals and SQL tokens only: every `'` opens a literal that
/// [`read_string`] reads whole, and outside literals stand only the characters mailtrace's
/// own SQL uses (no comment, no statement separator).
pub fn check_sql(sql: &str) {
    let mut outside = String::new();
    let mut rest = sql;
    while let Some(q) = rest.find('\'') {
        outside.push_str(&rest[..q]);
        let lit = &rest[q..];
        // the literal ends at the first quote not escaped by a backslash
        let mut end = None;
        let mut escaped = false;
        for (i, c) in lit.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '\'' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("an unterminated literal in {sql:?}"));
        assert!(
            read_string(&lit[..=end]).is_some(),
            "a literal that does not read: {sql:?}"
        );
        outside.push('?');
        rest = &lit[end + 1..];
    }
    outside.push_str(rest);
    assert!(
        outside
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _(),.=<>!*+-/%[]?".contains(c)),
        "text outside literals: {outside:?} in {sql:?}"
    );
    assert!(
        !outside.contains("--") && !outside.contains("/*"),
        "a comment in {sql:?}"
    );
}

pub fn run(data: &[u8]) {
    let value = String::from_utf8_lossy(data);
    let lit = string(&value);
    assert_eq!(read_string(&lit).as_deref(), Some(&*value), "{value:?} as {lit}");
    assert!(
        !lit.bytes().any(|b| b < 0x20 || b == 0x7f),
        "{lit:?} holds a control byte"
    );
    check_sql(&lit);
    if let Ok(name) = identifier(&value) {
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    }
}
