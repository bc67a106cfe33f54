//! Searches in a line's text without building a searcher per call.
//!
//! `str::find` with a `char` or `&str` pattern sets up a general searcher (a Two-Way searcher
//! for strings) on every call; parsers call it several times per line on short texts, where
//! the set-up costs more than the search. These do the same searches with `memchr`: the first
//! byte of the pattern is found vectorised, the rest compared in place. Results are those of
//! the `str` methods (byte offsets at character boundaries, since a valid UTF-8 pattern only
//! matches at one).

/// The searches, on `str`.
pub trait StrFind {
    /// `str::find` of an ASCII byte.
    fn find_byte(&self, b: u8) -> Option<usize>;
    /// `str::find` of a string.
    fn find_str(&self, pat: &str) -> Option<usize>;
    /// `str::rfind` of a string.
    fn rfind_str(&self, pat: &str) -> Option<usize>;
    /// `str::split_once` at an ASCII byte.
    fn split_once_byte(&self, b: u8) -> Option<(&str, &str)>;
    /// `str::split_once` at a string.
    fn split_once_str(&self, pat: &str) -> Option<(&str, &str)>;
    /// `str::rsplit_once` at a string.
    fn rsplit_once_str(&self, pat: &str) -> Option<(&str, &str)>;
}

impl StrFind for str {
    #[inline]
    fn find_byte(&self, b: u8) -> Option<usize> {
        debug_assert!(b.is_ascii());
        memchr::memchr(b, self.as_bytes())
    }

    #[inline]
    fn find_str(&self, pat: &str) -> Option<usize> {
        let (hay, p) = (self.as_bytes(), pat.as_bytes());
        let Some((&first, rest)) = p.split_first() else {
            return Some(0);
        };
        memchr::memchr_iter(first, hay).find(|&i| hay[i + 1..].starts_with(rest))
    }

    #[inline]
    fn rfind_str(&self, pat: &str) -> Option<usize> {
        let (hay, p) = (self.as_bytes(), pat.as_bytes());
        let Some((&first, rest)) = p.split_first() else {
            return Some(hay.len());
        };
        memchr::memrchr_iter(first, hay).find(|&i| hay[i + 1..].starts_with(rest))
    }

    #[inline]
    fn split_once_byte(&self, b: u8) -> Option<(&str, &str)> {
        let i = self.find_byte(b)?;
        Some((&self[..i], &self[i + 1..]))
    }

    #[inline]
    fn split_once_str(&self, pat: &str) -> Option<(&str, &str)> {
        let i = self.find_str(pat)?;
        Some((&self[..i], &self[i + pat.len()..]))
    }

    #[inline]
    fn rsplit_once_str(&self, pat: &str) -> Option<(&str, &str)> {
        let i = self.rfind_str(pat)?;
        Some((&self[..i], &self[i + pat.len()..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_as_the_str_methods() {
        let texts = [
            "",
            "a",
            "to=<a@b>, relay=x[1.2.3.4]:25",
            "x: y: z",
            "é: ü; from=<é>",
            "::",
            ": ",
        ];
        let pats = ["", ":", ": ", "; from=<", "é", "y: z", "zz"];
        for t in texts {
            for p in pats {
                assert_eq!(t.find_str(p), t.find(p), "{t:?} find {p:?}");
                assert_eq!(t.rfind_str(p), t.rfind(p), "{t:?} rfind {p:?}");
                assert_eq!(t.split_once_str(p), t.split_once(p), "{t:?} split_once {p:?}");
                assert_eq!(t.rsplit_once_str(p), t.rsplit_once(p), "{t:?} rsplit_once {p:?}");
            }
            for b in [b':', b'[', b'<', b' '] {
                assert_eq!(t.find_byte(b), t.find(b as char));
                assert_eq!(t.split_once_byte(b), t.split_once(b as char));
            }
        }
    }
}
