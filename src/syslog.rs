//! The syslog envelope: timestamp, host, program and pid in front of every mail log line.
//!
//! Three timestamp shapes are read:
//! - BSD syslog, `Nov 23 02:56:39` (also `Nov  3`, `Nov 3`, and an optional `.123456` fraction
//!   as Postfix's own `maillog_file` writes it). It has no year and no zone: the year comes from
//!   a [`YearGuess`] kept per file, the zone from [`Zone`].
//! - RFC 3339 with fraction and offset, `2026-11-23T02:56:39.123456+01:00` (rsyslog's default
//!   on Debian).
//!
//! After the timestamp come the host and the tag `program[pid]:`; the program may contain
//! slashes and dashes (`postfix/smtpd`, `postfix-submission/smtpd`,
//! `postfix/submission/smtpd`) and the pid is optional (`dovecot:`).
//!
//! Every time leaves this module as UTC.

use chrono::{DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use nom::bytes::complete::{tag, take_while1, take_while_m_n};
use nom::character::complete::char;
use nom::combinator::{map_res, opt};
use nom::sequence::preceded;
use nom::IResult;

/// The parts of one syslog line before the program's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub time: DateTime<Utc>,
    pub host: &'a str,
    /// The syslog tag without pid, e.g. `postfix/smtpd` or `amavis`.
    pub program: &'a str,
    pub pid: Option<u32>,
    /// The text after `program[pid]: `.
    pub message: &'a str,
}

/// The zone in which year-less BSD timestamps were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// The machine's local zone (the default).
    #[default]
    Local,
    Utc,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses `local`, `UTC` or an IANA name such as `Europe/Berlin`.
    pub fn parse(name: &str) -> Result<Zone, String> {
        match name {
            "local" | "Local" => Ok(Zone::Local),
            "UTC" | "utc" | "Z" => Ok(Zone::Utc),
            other => other
                .parse::<chrono_tz::Tz>()
                .map(Zone::Named)
                .map_err(|_| format!("unknown time zone '{other}': use an IANA name such as Europe/Berlin, or UTC")),
        }
    }

    /// The wall-clock time in this zone of `t`.
    pub fn to_local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Zone::Local => t.with_timezone(&chrono::Local).naive_local(),
            Zone::Utc => t.naive_utc(),
            Zone::Named(tz) => t.with_timezone(tz).naive_local(),
        }
    }

    /// Converts a wall-clock time in this zone to UTC. In a DST gap the time is read as if the
    /// clock had not jumped; when ambiguous, the earlier instant is taken.
    pub fn to_utc(&self, naive: NaiveDateTime) -> DateTime<Utc> {
        fn pick<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> DateTime<Utc> {
            match tz.from_local_datetime(&naive) {
                LocalResult::Single(t) => t.with_timezone(&Utc),
                LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
                LocalResult::None => {
                    let shifted = naive + chrono::Duration::hours(1);
                    match tz.from_local_datetime(&shifted) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                            (t - chrono::Duration::hours(1)).with_timezone(&Utc)
                        }
                        LocalResult::None => Utc.from_utc_datetime(&naive),
                    }
                }
            }
        }
        match self {
            Zone::Local => pick(&chrono::Local, naive),
            Zone::Utc => Utc.from_utc_datetime(&naive),
            Zone::Named(tz) => pick(tz, naive),
        }
    }
}

/// Infers the missing year of BSD timestamps within one file.
///
/// The first timestamp's year is either given (`--year`) or taken from the file's modification
/// time, on the rule that a log line is never later than the file that holds it: a `Dec 31`
/// line in a file last written on `Jan 2, 2027` is from 2026. After that, a jump backwards of
/// six months or more (`Dec` → `Jan`) moves to the next year, so a file that spans New Year
/// reads right.
#[derive(Debug, Clone)]
pub struct YearGuess {
    first: FirstYear,
    current: Option<(i32, u32)>,
    /// The last whole-second BSD stamp and its UTC time: most lines share their second with
    /// the line before, and zone conversion is the costly part.
    last: Option<(u64, DateTime<Utc>)>,
    /// The month, day and year of the first BSD stamp read, for [`YearGuess::join`].
    first_seen: Option<(u32, u32, i32)>,
}

#[derive(Debug, Clone, Copy)]
enum FirstYear {
    Given(i32),
    /// The file's modification time (year, month, day).
    NotAfter(i32, u32, u32),
}

impl YearGuess {
    /// The first line is in `year`.
    pub fn given(year: i32) -> Self {
        YearGuess {
            first: FirstYear::Given(year),
            current: None,
            last: None,
            first_seen: None,
        }
    }

    /// The file was last written at `mtime`: its first line is no later than that.
    pub fn not_after(mtime: DateTime<Utc>) -> Self {
        YearGuess {
            first: FirstYear::NotAfter(mtime.year(), mtime.month(), mtime.day()),
            current: None,
            last: None,
            first_seen: None,
        }
    }

    /// A guess for a later part of the same file, read on another thread before the lines
    /// before it: it starts from `hint`, the year and month of some earlier line (or from the
    /// file's first year without one). [`YearGuess::join`] tells whether it guessed right.
    pub fn fork(&self, hint: Option<(i32, u32)>) -> YearGuess {
        YearGuess {
            first: self.first,
            current: hint.or(self.current),
            last: None,
            first_seen: None,
        }
    }

    /// The year and month of the last BSD stamp read, a hint for [`YearGuess::fork`].
    pub fn hint(&self) -> Option<(i32, u32)> {
        self.current
    }

    /// Takes on the state of `fork` after it read the lines that follow this guess's, when it
    /// gave their first BSD stamp the year this guess would have given it (then it gave every
    /// later one the same year too); otherwise returns false and stays as it is, and those
    /// lines must be read again with this guess.
    pub fn join(&mut self, fork: &YearGuess) -> bool {
        if let Some((month, day, year)) = fork.first_seen {
            if self.clone().year_for(month, day) != year {
                return false;
            }
            self.current = fork.current;
            self.last = fork.last;
        }
        true
    }

    /// The year of a line dated `month`/`day`.
    pub fn year_for(&mut self, month: u32, day: u32) -> i32 {
        let year = match self.current {
            None => match self.first {
                FirstYear::Given(y) => y,
                FirstYear::NotAfter(y, m, d) => {
                    if (month, day) > (m, d) {
                        y - 1
                    } else {
                        y
                    }
                }
            },
            Some((year, last_month)) => {
                if month + 6 <= last_month {
                    year + 1
                } else {
                    year
                }
            }
        };
        self.current = Some((year, month));
        self.first_seen.get_or_insert((month, day, year));
        year
    }
}

/// How a line's timestamp was written; tells whether [`YearGuess`] and [`Zone`] were used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Bsd,
    Rfc3339,
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A month name: three letters, any case.
fn month(name: &[u8]) -> Option<u32> {
    let exact = match name {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => 0,
    };
    if exact > 0 {
        return Some(exact);
    }
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as u32 + 1)
}

fn digit(b: Option<&u8>) -> Option<u32> {
    b.filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'))
}

fn two_digits(input: &[u8]) -> IResult<&[u8], u32> {
    match input {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', rest @ ..] => Ok((rest, u32::from(a - b'0') * 10 + u32::from(b - b'0'))),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Digit,
        ))),
    }
}

/// Fractional seconds as nanoseconds, from the digits after the dot.
fn fraction(input: &[u8]) -> IResult<&[u8], u32> {
    let (rest, digits) = preceded(char('.'), take_while1(|c: u8| c.is_ascii_digit()))(input)?;
    let mut nanos: u64 = 0;
    for (i, d) in digits.iter().take(9).enumerate() {
        nanos += u64::from(d - b'0') * 10u64.pow(8 - i as u32);
    }
    Ok((rest, nanos as u32))
}

/// `hh:mm:ss`, two digits each.
fn hms(input: &[u8]) -> IResult<&[u8], (u32, u32, u32)> {
    let two = |a: u8, b: u8| {
        (a.is_ascii_digit() && b.is_ascii_digit()).then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    };
    match input {
        [h1, h2, b':', m1, m2, b':', s1, s2, rest @ ..] => match (two(*h1, *h2), two(*m1, *m2), two(*s1, *s2)) {
            (Some(h), Some(m), Some(s)) => Ok((rest, (h, m, s))),
            _ => Err(nom::Err::Error(nom::error::Error::new(
                input,
                nom::error::ErrorKind::Digit,
            ))),
        },
        _ => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Char,
        ))),
    }
}

/// `Nov 23 02:56:39[.ffffff]` → (month, day, h, m, s, nanos): the month, one or more spaces,
/// a day of one or two digits, a space, `hh:mm:ss` and an optional fraction. Read byte by
/// byte: it is in front of every line.
#[allow(clippy::type_complexity)]
fn bsd_stamp(input: &[u8]) -> Option<(&[u8], (u32, u32, u32, u32, u32, u32))> {
    let mon = month(input.get(..3)?)?;
    let spaces = input[3..].iter().take_while(|&&c| c == b' ').count();
    if spaces == 0 {
        return None;
    }
    let mut i = 3 + spaces;
    let mut day = digit(input.get(i))?;
    i += 1;
    if let Some(d) = digit(input.get(i)) {
        day = day * 10 + d;
        i += 1;
    }
    if input.get(i) != Some(&b' ') {
        return None;
    }
    let (rest, (h, m, s)) = hms(&input[i + 1..]).ok()?;
    let (rest, frac) = match fraction(rest) {
        Ok((rest, f)) => (rest, f),
        Err(_) => (rest, 0),
    };
    Some((rest, (mon, day, h, m, s, frac)))
}

/// `2026-11-23T02:56:39.123456+01:00` (or `Z`).
fn rfc3339_stamp(input: &[u8]) -> IResult<&[u8], DateTime<FixedOffset>> {
    let (input, y) = map_res(take_while_m_n(4, 4, |c: u8| c.is_ascii_digit()), |d: &[u8]| {
        std::str::from_utf8(d).unwrap_or("x").parse::<i32>()
    })(input)?;
    let (input, _) = char('-')(input)?;
    let (input, mo) = two_digits(input)?;
    let (input, _) = char('-')(input)?;
    let (input, d) = two_digits(input)?;
    let (input, _) = nom::character::complete::one_of("T ")(input)?;
    let (input, (h, mi, s)) = hms(input)?;
    let (input, frac) = opt(fraction)(input)?;
    let (input, offset_secs) = zone_offset(input)?;
    let fail = || nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Verify));
    let date = NaiveDate::from_ymd_opt(y, mo, d).ok_or_else(fail)?;
    let naive = date
        .and_hms_nano_opt(h, mi, s.min(59), frac.unwrap_or(0))
        .ok_or_else(fail)?;
    let offset = FixedOffset::east_opt(offset_secs).ok_or_else(fail)?;
    match offset.from_local_datetime(&naive) {
        LocalResult::Single(t) => Ok((input, t)),
        _ => Err(fail()),
    }
}

fn zone_offset(input: &[u8]) -> IResult<&[u8], i32> {
    if let Ok((rest, _)) = tag::<_, _, nom::error::Error<&[u8]>>("Z")(input) {
        return Ok((rest, 0));
    }
    let (input, sign) = nom::character::complete::one_of("+-")(input)?;
    let (input, h) = two_digits(input)?;
    let (input, _) = opt(char(':'))(input)?;
    let (input, m) = two_digits(input)?;
    let secs = (h * 3600 + m * 60) as i32;
    Ok((input, if sign == '-' { -secs } else { secs }))
}

/// A pid: decimal digits (an optional `+` first), as `str::parse::<u32>` reads them.
fn pid(text: &[u8]) -> Option<u32> {
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(n)
}

/// The tag: `program[pid]:` or `program:`. Programs are printable without spaces, `[` or `:`.
fn tag_part(input: &str) -> Option<(&str, Option<u32>, &str)> {
    let end = input.bytes().position(|b| matches!(b, b' ' | b'[' | b':'))?;
    if end == 0 {
        return None;
    }
    let program = &input[..end];
    let rest = &input[end..];
    if let Some(after) = rest.strip_prefix('[') {
        let close = after.bytes().position(|b| b == b']')?;
        let pid = pid(&after.as_bytes()[..close]);
        let rest = after[close + 1..].strip_prefix(':')?;
        Some((program, pid, rest.strip_prefix(' ').unwrap_or(rest)))
    } else if let Some(rest) = rest.strip_prefix(':') {
        Some((program, None, rest.strip_prefix(' ').unwrap_or(rest)))
    } else {
        None
    }
}

/// Reads the envelope of one line, or `None` when the line has no syslog envelope.
pub fn parse_envelope<'a>(line: &'a str, years: &mut YearGuess, zone: &Zone) -> Option<(Envelope<'a>, Stamp)> {
    let bytes = line.as_bytes();
    let (time, rest, stamp) = if bytes.first().is_some_and(|c| c.is_ascii_digit()) {
        let (rest, t) = rfc3339_stamp(bytes).ok()?;
        (t.with_timezone(&Utc), rest, Stamp::Rfc3339)
    } else {
        let (rest, (mon, day, h, m, s, nanos)) = bsd_stamp(bytes)?;
        let key =
            (u64::from(mon) << 32) | (u64::from(day) << 24) | (u64::from(h) << 16) | (u64::from(m) << 8) | u64::from(s);
        let whole = match years.last {
            Some((k, t)) if k == key => t,
            _ => {
                let year = years.year_for(mon, day);
                let date = NaiveDate::from_ymd_opt(year, mon, day)
                    // Feb 29 in a guessed non-leap year: keep the line, at Feb 28.
                    .or_else(|| NaiveDate::from_ymd_opt(year, mon, day.min(28)))?;
                let t = zone.to_utc(date.and_hms_opt(h, m, s.min(59))?);
                years.last = Some((key, t));
                t
            }
        };
        let time = if nanos == 0 {
            whole
        } else {
            whole + chrono::Duration::nanoseconds(i64::from(nanos))
        };
        (time, rest, Stamp::Bsd)
    };
    // `rest` is a suffix of `line`; slice the str so we keep UTF-8 boundaries.
    let rest = &line[line.len() - rest.len()..];
    let rest = rest.strip_prefix(' ')?;
    // (host names are short: a plain loop beats a vectorised search here)
    let host_end = rest.bytes().position(|b| b == b' ')?;
    let host = &rest[..host_end];
    let (program, pid, message) = tag_part(&rest[host_end + 1..])?;
    Some((
        Envelope {
            time,
            host,
            program,
            pid,
            message,
        },
        stamp,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_fork_joins_only_when_it_guessed_the_year() {
        // the reader forks every block from the file's first state; the lines are read in order
        let start = YearGuess::given(2025);
        let mut truth = start.clone();
        // a fork of the first lines: December, then January
        let mut dec = start.fork(None);
        assert_eq!(dec.year_for(12, 31), 2025);
        assert_eq!(dec.year_for(1, 1), 2026);
        // a fork of the lines after them, without a hint, guessed 2025 for January: wrong
        let mut jan = start.fork(None);
        assert_eq!(jan.year_for(1, 1), 2025);
        assert!(truth.join(&dec));
        assert_eq!(truth.hint(), Some((2026, 1)));
        assert!(!truth.join(&jan));
        assert_eq!(truth.hint(), Some((2026, 1)), "a wrong fork changes nothing");
        // with the hint of the lines before, the guess is right
        let mut hinted = start.fork(truth.hint());
        assert_eq!(hinted.year_for(1, 2), 2026);
        assert!(truth.join(&hinted));
        // a fork that read no BSD stamp joins and changes nothing
        assert!(truth.join(&start.fork(None)));
        assert_eq!(truth.hint(), Some((2026, 1)));
    }

    #[test]
    fn bsd_line() {
        let mut y = YearGuess::given(2026);
        let (e, stamp) = parse_envelope(
            "Nov 10 00:01:07 mx1 postfix/pickup[28148]: 0BFED37D092: uid=34 from=<backup>",
            &mut y,
            &Zone::Utc,
        )
        .unwrap();
        assert_eq!(stamp, Stamp::Bsd);
        assert_eq!(e.time, utc("2026-11-10T00:01:07Z"));
        assert_eq!(e.host, "mx1");
        assert_eq!(e.program, "postfix/pickup");
        assert_eq!(e.pid, Some(28148));
        assert_eq!(e.message, "0BFED37D092: uid=34 from=<backup>");
    }

    #[test]
    fn single_digit_day_and_zone() {
        let mut y = YearGuess::given(2026);
        let zone = Zone::parse("Europe/Berlin").unwrap();
        let (e, _) = parse_envelope("Jul 1 12:00:00 h postfix-10.0.0.1/smtpd[1]: x", &mut y, &zone).unwrap();
        assert_eq!(e.time, utc("2026-07-01T10:00:00Z"));
        assert_eq!(e.program, "postfix-10.0.0.1/smtpd");
        let (e, _) = parse_envelope("Jul  2 12:00:00.250000 h dovecot: lmtp(1): x", &mut y, &zone).unwrap();
        assert_eq!(e.time, utc("2026-07-02T10:00:00.25Z"));
        assert_eq!(e.program, "dovecot");
        assert_eq!(e.pid, None);
        assert_eq!(e.message, "lmtp(1): x");
    }

    #[test]
    fn rfc3339_line() {
        let mut y = YearGuess::given(1999);
        let (e, stamp) = parse_envelope(
            "2026-11-23T10:56:39.123456+01:00 mx postfix/submission/smtpd[7]: connect from x[1.2.3.4]",
            &mut y,
            &Zone::Utc,
        )
        .unwrap();
        assert_eq!(stamp, Stamp::Rfc3339);
        assert_eq!(e.time, utc("2026-11-23T09:56:39.123456Z"));
        assert_eq!(e.program, "postfix/submission/smtpd");
    }

    #[test]
    fn new_year_inside_a_file() {
        let mut y = YearGuess::given(2025);
        assert_eq!(y.year_for(12, 31), 2025);
        assert_eq!(y.year_for(12, 31), 2025);
        assert_eq!(y.year_for(1, 1), 2026);
        assert_eq!(y.year_for(1, 2), 2026);
        assert_eq!(y.year_for(2, 1), 2026);
    }

    #[test]
    fn year_from_mtime_is_never_in_the_future() {
        let mut y = YearGuess::not_after(utc("2027-01-02T08:00:00Z"));
        assert_eq!(y.year_for(12, 30), 2026);
        assert_eq!(y.year_for(1, 1), 2027);
        let mut y = YearGuess::not_after(utc("2027-03-02T08:00:00Z"));
        assert_eq!(y.year_for(2, 28), 2027);
    }

    #[test]
    fn not_a_syslog_line() {
        let mut y = YearGuess::given(2026);
        assert!(parse_envelope("", &mut y, &Zone::Utc).is_none());
        assert!(parse_envelope("warning: header Subject: x", &mut y, &Zone::Utc).is_none());
        assert!(parse_envelope("Nov 10 00:01:07 mx1", &mut y, &Zone::Utc).is_none());
        assert!(parse_envelope("Foo 10 00:01:07 mx1 a: b", &mut y, &Zone::Utc).is_none());
    }
}
