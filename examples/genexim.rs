//! `genexim`: a fast, deterministic generator of a realistic Exim 4 main log, for benchmarks.
//!
//! ```text
//! cargo run --release --example genexim -- --size-mb 1024 --out /tmp/exim.log [--seed N]
//! ```
//!
//! The output is one Exim host (`mx1.example.com`, listening on `192.0.2.10`) writing its own
//! main-log format, not syslog: `2026-11-10 00:01:07 1xQZJ4-0004mR-FT <= …`, starting on
//! 2026-11-10 at midnight (UTC), with time never going backwards. The log selector is the one
//! of a typical Debian server with `+incoming_port +incoming_interface +subject
//! +received_recipients +smtp_confirmation +tls_cipher +tls_certificate_verified`. It is a
//! simulation, not a template: SMTP sessions start at random (exponential) intervals, each one
//! schedules all of its lines a few milliseconds to a few seconds ahead, and a priority queue
//! writes them out in time order, so several messages are always in flight and their lines
//! interleave as in a real log. Every message ends with `Completed` within a few seconds of log
//! time (a deferred recipient is retried a few seconds later), so a consumer that keeps only
//! open messages needs bounded memory.
//!
//! The mix, per session (roughly; see [`Gen::session`]):
//! - 39 % inbound from remote providers (`<=` with `H=name (helo) [ip]:port`, `P=esmtp(s)`,
//!   TLS cipher, `DKIM=`, `id=`, a `T="subject"` with `\"quotes\"` or octal-escaped UTF-8 now and
//!   then, `from <sender>` and `for` the recipients), delivered locally to dovecot LMTP
//!   (`R=dovecot_user T=dovecot_lmtp H=localhost [127.0.0.1]`, often with `C="250 2.0.0 … Saved"`),
//!   to the mail spool (`R=local_user T=mail_spool`), or through an alias expanded to several
//!   users (`=> tom <sales@example.com> R=system_aliases T=mail_spool`);
//! - 19 % outbound from authenticated users (`P=esmtpsa A=dovecot_plain:user`) to remote MXs
//!   (`R=dnslookup T=remote_smtp H=mx [ip] X=… CV=yes C="250 …"`, `->` for more addresses of the
//!   same domain in one transaction); about 3 % of addresses greylisted (`== … defer (-44)`), 1 in
//!   70 transactions timing out (`mx [ip] Connection timed out`, `== … defer (110)`), both
//!   retried and delivered a few seconds later; about 3 % failed (`** … 550 5.1.1`), followed
//!   by a bounce (`<= <> R=OLDID U=Debian-exim P=local`) delivered back to the sender;
//! - 25 % sessions refused at RCPT (`H=… F=<…> rejected RCPT <…>: Unknown user`, relay not
//!   permitted, greylisting (`temporarily rejected`), DNSBL, sender verify), one to three
//!   recipients each;
//! - 2.5 % cron mail to root (`U=root P=local`), delivered to an admin's mail spool;
//! - the rest noise without a message id: `no MAIL in SMTP connection`, `dovecot_login
//!   authenticator failed`, `TLS error on connection`, SMTP command timeouts and unexpected
//!   disconnections, synchronization errors; and a queue run (`Start queue run: pid=N` /
//!   `End queue run: pid=N`) every 5 minutes.
//!
//! Message ids are Exim's pre-4.97 form, `1xQZJ4-0004mR-FT`: the arrival second since the epoch,
//! the receiving process's pid and the half-millisecond, in base 62 (the 4.97 form is one
//! constant away, [`NEW_STYLE_IDS`]). Every process, a message's or not, takes a fresh pid
//! from a counter that wraps after 4 194 304, so no two ids share second and pid: all are
//! distinct.
//!
//! The generator is also compiled into `benches/throughput.rs` (via `#[path]`), which calls
//! [`generate`] when given `--exim`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub bytes: u64,
    pub lines: u64,
    /// SMTP sessions, queue runs and noise events simulated.
    pub sessions: u64,
    /// Message ids created (messages and bounces).
    pub queue_ids: u64,
    /// Log time covered, in seconds.
    pub seconds: u64,
}

/// Writes at least `size_bytes` (a few lines more, to let every message finish) of Exim main
/// log to `out`. The same `seed` always gives the same bytes.
pub fn generate(out: &mut impl Write, size_bytes: u64, seed: u64) -> io::Result<Summary> {
    let mut g = Gen::new(seed);
    let mut stamp = Stamp::default();
    let mut sum = Summary::default();
    // log time, ms since 2026-11-10 00:00:00
    let mut next_session: u64 = 0;
    let mut next_queue_run: u64 = g.rng.below(QUEUE_RUN_EVERY_MS);
    loop {
        let more = sum.bytes < size_bytes;
        let now = next_session.min(next_queue_run);
        // Everything scheduled up to the next event can be written: events come in time order
        // and only schedule lines at or after their own time.
        while let Some(Reverse((at, _, _))) = g.q.heap.peek() {
            if more && *at > now {
                break;
            }
            let Some(Reverse((at, _, line))) = g.q.heap.pop() else {
                break;
            };
            let prefix = stamp.prefix(at / 1000);
            out.write_all(prefix)?;
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            sum.bytes += (prefix.len() + line.len() + 1) as u64;
            sum.lines += 1;
            sum.seconds = at / 1000;
        }
        if !more {
            break;
        }
        if next_queue_run <= next_session {
            g.queue_run(next_queue_run);
            next_queue_run += QUEUE_RUN_EVERY_MS;
        } else {
            g.session(next_session);
            next_session += g.gap_ms();
        }
    }
    sum.sessions = g.sessions;
    sum.queue_ids = g.ids;
    Ok(sum)
}

/// 2026-11-10 00:00:00 UTC, in seconds since the epoch.
const START_EPOCH: u64 = 1_794_268_800;
const QUEUE_RUN_EVERY_MS: u64 = 5 * 60 * 1000;
/// Exim 4.97 and later write 23-character ids (6-11-4 base-62 digits); this log is older.
const NEW_STYLE_IDS: bool = false;
/// Linux's default `pid_max` on 64-bit systems.
const PID_MAX: u64 = 4_194_304;

const FQDN: &str = "mx1.example.com";
/// The incoming interface, as `I=` shows it without its port.
const IFACE: &str = "I=[192.0.2.10]";

/// The `YYYY-MM-DD HH:MM:SS ` prefix, rebuilt only when the second changes.
#[derive(Default)]
struct Stamp {
    sec: Option<u64>,
    buf: Vec<u8>,
}

impl Stamp {
    fn prefix(&mut self, sec: u64) -> &[u8] {
        if self.sec != Some(sec) {
            self.sec = Some(sec);
            let abs = START_EPOCH + sec;
            let (y, mo, d) = civil_from_days(abs / 86_400);
            let (h, mi, s) = (abs / 3600 % 24, abs / 60 % 60, abs % 60);
            self.buf.clear();
            write!(self.buf, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} ").expect("write to Vec");
        }
        &self.buf
    }
}

/// Year, month and day of `days` days after 1970-01-01 (the proleptic Gregorian calendar in
/// 400-year eras of 146 097 days, with years counted from March so that leap days come last).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153; // 0 = March … 11 = February
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

/// Exim's base-62 digits.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

/// Appends the last `width` base-62 digits of `n`.
fn push_base62(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [0u8; 16];
    for d in digits[..width].iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    for &d in &digits[..width] {
        out.push(d as char);
    }
}

/// splitmix64, written out: tiny, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` below 2^32).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// True with probability `per_mille`/1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const GIVEN: &[&str] = &[
    "anna", "ben", "clara", "dominik", "elif", "felix", "greta", "hannes", "ida", "jonas", "katrin", "lukas", "marta",
    "nils", "olga", "pavel", "rosa", "stefan", "tilda", "uwe", "vera", "wim", "yara", "zeno", "amelie", "bruno",
    "carla", "emil", "frieda", "gustav", "helena", "igor", "jana", "konrad", "leonie", "moritz",
];
const FAMILY: &[&str] = &[
    "albers", "brandt", "castro", "dietrich", "engel", "fischer", "graf", "horn", "iversen", "jung", "kraus", "lorenz",
    "moser", "neumann", "ortiz", "peters", "quast", "richter", "sommer", "thiel", "vogel", "winter", "zimmer",
];
const LOCAL_DOMAINS: &[&str] = &["example.com", "example.org", "lists.example.net"];
const ALIASES: &[&str] = &["sales", "info", "postmaster", "team", "billing", "support", "office"];

/// How a remote server words its answer to a successful DATA.
#[derive(Clone, Copy)]
enum Reply {
    Google,
    Microsoft,
    UnitedInternet,
    Yahoo,
    Postfix,
    Exim,
}

/// A remote mail provider: its domain, how its outbound relays are named (`{a}` a letter,
/// `{n}` a digit), their /16, its inbound MX and that MX's /16, whether it speaks TLS, and how
/// it answers.
#[derive(Clone, Copy)]
struct Provider {
    domain: &'static str,
    relay: &'static str,
    relay_net: (u8, u8),
    mx: &'static str,
    mx_net: (u8, u8),
    tls: bool,
    reply: Reply,
}

const PROVIDERS: &[Provider] = &[
    Provider {
        domain: "gmail.com",
        relay: "mail-{a}{a}1-f{n}{n}.google.com",
        relay_net: (209, 85),
        mx: "gmail-smtp-in.l.google.com",
        mx_net: (142, 250),
        tls: true,
        reply: Reply::Google,
    },
    Provider {
        domain: "googlemail.com",
        relay: "mail-{a}{a}1-f{n}{n}.google.com",
        relay_net: (209, 85),
        mx: "gmail-smtp-in.l.google.com",
        mx_net: (142, 251),
        tls: true,
        reply: Reply::Google,
    },
    Provider {
        domain: "outlook.com",
        relay: "mail-{a}{a}{n}eur0{n}olkn20{n}{n}.outbound.protection.outlook.com",
        relay_net: (40, 92),
        mx: "outlook-com.olc.protection.outlook.com",
        mx_net: (52, 101),
        tls: true,
        reply: Reply::Microsoft,
    },
    Provider {
        domain: "hotmail.de",
        relay: "mail-{a}{a}{n}eur0{n}olkn20{n}{n}.outbound.protection.outlook.com",
        relay_net: (40, 92),
        mx: "eur.olc.protection.outlook.com",
        mx_net: (52, 101),
        tls: true,
        reply: Reply::Microsoft,
    },
    Provider {
        domain: "gmx.net",
        relay: "mout.gmx.net",
        relay_net: (212, 227),
        mx: "mx01.emig.gmx.net",
        mx_net: (212, 227),
        tls: true,
        reply: Reply::UnitedInternet,
    },
    Provider {
        domain: "web.de",
        relay: "mout.web.de",
        relay_net: (217, 72),
        mx: "mx-ha02.web.de",
        mx_net: (212, 227),
        tls: true,
        reply: Reply::UnitedInternet,
    },
    Provider {
        domain: "yahoo.com",
        relay: "sonic{n}{n}{n}-{n}{n}.consmr.mail.ir2.yahoo.com",
        relay_net: (77, 238),
        mx: "mta6.am0.yahoodns.net",
        mx_net: (67, 195),
        tls: true,
        reply: Reply::Yahoo,
    },
    Provider {
        domain: "posteo.de",
        relay: "mout0{n}.posteo.de",
        relay_net: (185, 67),
        mx: "mx04.posteo.de",
        mx_net: (185, 67),
        tls: true,
        reply: Reply::Postfix,
    },
    Provider {
        domain: "uni-example.edu",
        relay: "mailout{n}.uni-example.edu",
        relay_net: (129, 187),
        mx: "mx{n}.uni-example.edu",
        mx_net: (129, 187),
        tls: true,
        reply: Reply::Exim,
    },
    Provider {
        domain: "tischlerei-example.de",
        relay: "mail.tischlerei-example.de",
        relay_net: (85, 13),
        mx: "mail.tischlerei-example.de",
        mx_net: (85, 13),
        tls: false,
        reply: Reply::Exim,
    },
    Provider {
        domain: "news.shop-example.com",
        relay: "mta{n}{n}.news.shop-example.com",
        relay_net: (198, 2),
        mx: "mx.shop-example.com",
        mx_net: (198, 2),
        tls: true,
        reply: Reply::Postfix,
    },
];

const SPAM_DOMAINS: &[&str] = &[
    "secure-invoice.example.ru",
    "crypto-gains.example.xyz",
    "pharma-best.example.top",
    "lucky-draw.example.info",
    "mail.example.cn",
];
const SPAM_LOCALS: &[&str] = &[
    "promo", "office", "info", "noreply", "service", "billing", "winner", "hr",
];
/// Subjects as Exim logs them in `T="…"`: `"` and `\` escaped, bytes outside ASCII in octal.
const SUBJECTS: &[&str] = &[
    "Re: Lunch tomorrow?",
    "Invoice 2026-1182",
    "Your order #48213 has shipped",
    "Fwd: \\\"Q4 planning\\\" notes",
    "Meeting notes \\342\\200\\223 Tuesday",
    "Caf\\303\\251 \\303\\240 10h ?",
    "Weekly report for week 45",
    "=?UTF-8?B?QW5nZWJvdCBmw7xyIElocmUgQW5mcmFnZQ==?=",
    "[dev] Re: [PATCH v2 3/7] parser: accept \\\"quoted\\\" fields",
    "Re: Re: contract draft (v3)",
    "Password reset for your account",
    "Termin am Donnerstag \\342\\200\\224 passt das?",
    "Newsletter November: 20% off everything",
    "Out of office: back on Monday",
];
const SPAM_SUBJECTS: &[&str] = &[
    "You have won! Claim your \\\"prize\\\" now",
    "Urgent: payment overdue",
    "RE: your parcel could not be delivered",
    "Cheap meds, no prescription",
];
const TLS_IN: &[&str] = &[
    "TLS1.3:TLS_AES_256_GCM_SHA384:256",
    "TLS1.3:TLS_AES_256_GCM_SHA384:256",
    "TLS1.3:TLS_AES_128_GCM_SHA256:128",
    "TLS1.3:TLS_CHACHA20_POLY1305_SHA256:256",
    "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256",
    "TLS1.2:ECDHE-ECDSA-AES128-GCM-SHA256:128",
];
const BOT_HELOS: &[&str] = &[
    "User",
    "WIN-3JQ7K2M1A0B",
    "ylmf-pc",
    "localhost",
    "example.com",
    "mail.example.com",
];

/// An SMTP peer as `H=` shows it: `name (helo) [ip]:port`, the name only when reverse DNS
/// gave one, the HELO only when it differs from the name.
struct Peer {
    name: Option<String>,
    helo: String,
    ip: String,
    port: u64,
}

impl Peer {
    fn h(&self) -> String {
        match &self.name {
            Some(n) if *n == self.helo => format!("{n} [{}]:{}", self.ip, self.port),
            Some(n) => format!("{n} ({}) [{}]:{}", self.helo, self.ip, self.port),
            None => format!("({}) [{}]:{}", self.helo, self.ip, self.port),
        }
    }
}

/// A local recipient of an inbound message.
enum Local {
    /// A mailbox: its local part and domain.
    User(String, &'static str),
    /// An alias and the users it expands to.
    Alias(&'static str, &'static str, Vec<String>),
}

impl Local {
    fn address(&self) -> String {
        match self {
            Local::User(l, d) => format!("{l}@{d}"),
            Local::Alias(a, d, _) => format!("{a}@{d}"),
        }
    }
}

/// Lines waiting to be written, in log time order.
#[derive(Default)]
struct Queue {
    /// (log time in ms, sequence number, the line after its time stamp)
    heap: BinaryHeap<Reverse<(u64, u64, String)>>,
    seq: u64,
}

impl Queue {
    fn put(&mut self, at: u64, line: String) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, line)));
    }
}

struct Gen {
    rng: Rng,
    q: Queue,
    ids: u64,
    sessions: u64,
    /// The last pid handed out.
    pid: u64,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = Rng(seed ^ 0x6578_696D_6C6F_6773);
        let pid = rng.range(20_000, 40_000);
        Gen {
            rng,
            q: Queue::default(),
            ids: 0,
            sessions: 0,
            pid,
        }
    }

    /// Time to the next session: exponential, 150 ms on average.
    fn gap_ms(&mut self) -> u64 {
        (-(1.0 - self.rng.unit()).ln() * 150.0) as u64
    }

    /// A fresh process id: the kernel hands them out in increasing order (other processes
    /// take some in between) and wraps at `pid_max`.
    fn new_pid(&mut self) -> u64 {
        self.pid += self.rng.range(1, 6);
        if self.pid >= PID_MAX {
            self.pid = 300 + self.rng.below(100);
        }
        self.pid
    }

    /// The id of a message received at `at` (ms) by process `pid`.
    fn message_id(&mut self, at: u64, pid: u64) -> String {
        self.ids += 1;
        let usec = (at % 1000) * 1000 + self.rng.below(1000);
        let mut id = String::with_capacity(23);
        push_base62(&mut id, START_EPOCH + at / 1000, 6);
        id.push('-');
        if NEW_STYLE_IDS {
            push_base62(&mut id, pid, 11);
            id.push('-');
            push_base62(&mut id, usec, 4);
        } else {
            push_base62(&mut id, pid, 6);
            id.push('-');
            push_base62(&mut id, usec / 500, 2);
        }
        id
    }

    fn token(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n)
            .map(|_| alphabet[self.rng.below(alphabet.len() as u64) as usize] as char)
            .collect()
    }

    fn ipv4(&mut self, net: (u8, u8)) -> String {
        format!("{}.{}.{}.{}", net.0, net.1, self.rng.below(256), self.rng.range(1, 255))
    }

    fn random_ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.rng.range(23, 223),
            self.rng.below(256),
            self.rng.below(256),
            self.rng.range(1, 255)
        )
    }

    fn port(&mut self) -> u64 {
        self.rng.range(1024, 65_535)
    }

    /// Expands `{a}` (a letter) and `{n}` (a digit) in a host name template.
    fn host_from(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 8);
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let c = if rest[i..].starts_with("{a}") {
                b'a' + self.rng.below(26) as u8
            } else {
                b'0' + self.rng.below(10) as u8
            };
            out.push(c as char);
            rest = &rest[i + 3..];
        }
        out.push_str(rest);
        out
    }

    fn local_part(&mut self) -> String {
        let g = self.rng.pick(GIVEN);
        match self.rng.below(4) {
            0 => format!("{g}.{}", self.rng.pick(FAMILY)),
            1 => format!("{}{}", &g[..1], self.rng.pick(FAMILY)),
            _ => g.to_string(),
        }
    }

    fn local_address(&mut self) -> String {
        let d = self.rng.pick(LOCAL_DOMAINS);
        format!("{}@{d}", self.local_part())
    }

    fn spam_address(&mut self) -> String {
        format!(
            "{}{}@{}",
            self.rng.pick(SPAM_LOCALS),
            self.rng.below(1000),
            self.rng.pick(SPAM_DOMAINS)
        )
    }

    /// Recipients per message: mostly one, sometimes a handful.
    fn rcpt_count(&mut self) -> usize {
        match self.rng.below(100) {
            0..=67 => 1,
            68..=84 => 2,
            85..=94 => 3,
            _ => self.rng.range(4, 7) as usize,
        }
    }

    fn subject(&mut self, spam: bool) -> &'static str {
        if spam {
            self.rng.pick(SPAM_SUBJECTS)
        } else {
            self.rng.pick(SUBJECTS)
        }
    }

    /// A Message-ID header (without its angle brackets, as `id=` logs it).
    fn header_id(&mut self, domain: &str, provider: Option<Reply>) -> String {
        match provider {
            Some(Reply::Google) => format!("CA+{}@mail.gmail.com", self.token(44, ALNUM)),
            Some(Reply::Microsoft) => format!(
                "AM{}PR0{}MB{}{}@AM{}PR0{}MB{}.eurprd0{}.prod.outlook.com",
                self.rng.below(10),
                self.rng.below(10),
                self.rng.range(1000, 9999),
                self.token(18, b"ABCDEF0123456789"),
                self.rng.below(10),
                self.rng.below(10),
                self.rng.range(1000, 9999),
                self.rng.below(10)
            ),
            _ => match self.rng.below(3) {
                0 => format!(
                    "{}-{}-{}-{}-{}@{domain}",
                    self.token(8, HEX),
                    self.token(4, HEX),
                    self.token(4, HEX),
                    self.token(4, HEX),
                    self.token(12, HEX)
                ),
                1 => format!(
                    "{}.{}@{domain}",
                    self.rng.range(1_700_000_000, 1_800_000_000),
                    self.token(12, ALNUM)
                ),
                _ => format!("{}${}@{domain}", self.token(16, HEX), self.token(8, HEX)),
            },
        }
    }

    /// A remote provider's relay connecting to us.
    fn provider_peer(&mut self, p: &Provider) -> Peer {
        let name = self.host_from(p.relay);
        let ip = self.ipv4(p.relay_net);
        let port = self.port();
        Peer {
            helo: name.clone(),
            name: Some(name),
            ip,
            port,
        }
    }

    /// A client of the kind that sends spam or guesses passwords.
    fn shady_peer(&mut self) -> Peer {
        let ip = self.random_ip();
        let port = self.port();
        let dashed = ip.replace('.', "-");
        let (name, helo) = match self.rng.below(5) {
            0 => (
                Some(format!("{dashed}.static.example-hosting.net")),
                self.rng.pick(BOT_HELOS).to_string(),
            ),
            1 => (Some(format!("host-{dashed}.dyn.example-isp.net")), format!("[{ip}]")),
            2 => (None, format!("[{ip}]")),
            _ => (None, self.rng.pick(BOT_HELOS).to_string()),
        };
        Peer { name, helo, ip, port }
    }

    /// One SMTP session, local submission or noise event starting at `t` (ms).
    fn session(&mut self, t: u64) {
        self.sessions += 1;
        match self.rng.below(1000) {
            0..=389 => self.inbound(t),
            390..=579 => self.outbound(t),
            580..=829 => self.rejected(t),
            830..=879 => self.no_mail(t),
            880..=919 => self.auth_failure(t),
            920..=944 => self.tls_error(t),
            945..=969 => self.cron_mail(t),
            _ => self.noise(t),
        }
    }

    /// A queue runner starting at `t`: nothing is due, since every message is delivered or
    /// retried within seconds.
    fn queue_run(&mut self, t: u64) {
        self.sessions += 1;
        let pid = self.new_pid();
        self.q.put(t, format!("Start queue run: pid={pid}"));
        self.q
            .put(t + self.rng.range(2, 400), format!("End queue run: pid={pid}"));
    }

    /// Delivery of one local recipient (a line per mailbox) from `t`; returns the time of the
    /// last line.
    fn deliver_local(&mut self, id: &str, rcpt: &Local, mut t: u64) -> u64 {
        match rcpt {
            Local::User(user, domain) => {
                t += self.rng.range(5, 250);
                let line = if self.rng.chance(550) {
                    let confirmation = if self.rng.chance(700) {
                        format!(" C=\"250 2.0.0 <{user}@{domain}> {} Saved\"", self.token(22, B64))
                    } else {
                        String::new()
                    };
                    format!(
                        "{id} => {user} <{user}@{domain}> R=dovecot_user T=dovecot_lmtp H=localhost [127.0.0.1]{confirmation}"
                    )
                } else {
                    format!("{id} => {user} <{user}@{domain}> R=local_user T=mail_spool")
                };
                self.q.put(t, line);
            }
            Local::Alias(alias, domain, users) => {
                for user in users {
                    t += self.rng.range(2, 60);
                    self.q.put(
                        t,
                        format!("{id} => {user} <{alias}@{domain}> R=system_aliases T=mail_spool"),
                    );
                }
            }
        }
        t
    }

    /// Mail from the Internet to local users.
    fn inbound(&mut self, t0: u64) {
        let pid = self.new_pid();
        let spam = self.rng.chance(80);
        let p = self.rng.pick(PROVIDERS);
        let (peer, sender) = if spam {
            (self.shady_peer(), self.spam_address())
        } else {
            let mut peer = self.provider_peer(&p);
            match self.rng.below(10) {
                // a HELO other than the reverse DNS name
                0 => peer.helo = format!("{}.{}", self.rng.pick(&["smtp", "mail", "out"]), p.domain),
                // no reverse DNS
                1 => peer.name = None,
                _ => {}
            }
            let sender = format!("{}@{}", self.local_part(), p.domain);
            (peer, sender)
        };
        let sender_domain = sender.rsplit('@').next().unwrap_or("example.net").to_string();
        let mut rcpts: Vec<Local> = Vec::new();
        let mut aliased = false;
        for _ in 0..self.rcpt_count() {
            let domain = self.rng.pick(LOCAL_DOMAINS);
            let r = if !aliased && self.rng.chance(150) {
                aliased = true;
                let alias = self.rng.pick(ALIASES);
                let mut users: Vec<String> = Vec::new();
                for _ in 0..self.rng.range(2, 4) {
                    let u = self.local_part();
                    if !users.contains(&u) {
                        users.push(u);
                    }
                }
                Local::Alias(alias, domain, users)
            } else {
                Local::User(self.local_part(), domain)
            };
            let address = r.address();
            if rcpts.iter().all(|x| x.address() != address) {
                rcpts.push(r);
            }
        }

        let arrive = t0 + self.rng.range(300, 2_500);
        let id_at = arrive - self.rng.range(0, 250);
        let id = self.message_id(id_at, pid);
        let tls = if spam {
            self.rng.chance(500)
        } else {
            p.tls && self.rng.chance(950)
        };
        let (proto, tls) = if tls {
            ("esmtps", format!(" X={} CV=no", self.rng.pick(TLS_IN)))
        } else {
            ("esmtp", String::new())
        };
        let size = self.rng.range(1_800, 80_000);
        let dkim = if !spam && self.rng.chance(700) {
            format!(" DKIM={sender_domain}")
        } else {
            String::new()
        };
        let reply = if spam { None } else { Some(p.reply) };
        let msgid = self.header_id(&sender_domain, reply);
        let subject = if self.rng.chance(30) {
            String::new()
        } else {
            format!(" T=\"{}\"", self.subject(spam))
        };
        let to_list = rcpts.iter().map(Local::address).collect::<Vec<_>>().join(" ");
        self.q.put(
            arrive,
            format!(
                "{id} <= {sender} H={h} {IFACE}:25 P={proto}{tls} S={size}{dkim} id={msgid}{subject} from <{sender}> for {to_list}",
                h = peer.h()
            ),
        );
        let mut t = arrive + self.rng.range(1, 80);
        for r in &rcpts {
            t = self.deliver_local(&id, r, t);
        }
        self.q.put(t + self.rng.range(0, 3), format!("{id} Completed"));
    }

    /// The remote server's answer to a successful DATA.
    fn reply(&mut self, reply: Reply, msgid: &str, size: u64) -> String {
        match reply {
            Reply::Google => format!(
                "250 2.0.0 OK  {} {}{}.{} - gsmtp",
                START_EPOCH + self.rng.below(200_000),
                self.token(13, b"abcdefghijklmnopqrstuvwxyz0123456789"),
                self.token(2, b"abcdefghijklmnopqrstuvwxyz"),
                self.rng.below(1000)
            ),
            Reply::Microsoft => format!(
                "250 2.6.0 <{msgid}> [InternalId={}, Hostname=AM{}PR0{}MB{}.eurprd0{}.prod.outlook.com] {size} bytes in 0.{:03}, {}.{:03} KB/sec Queued mail for delivery",
                self.rng.range(1_000_000_000, 9_999_999_999),
                self.rng.below(10),
                self.rng.below(10),
                self.rng.range(1000, 9999),
                self.rng.below(10),
                self.rng.below(1000),
                self.rng.range(10, 999),
                self.rng.below(1000)
            ),
            Reply::UnitedInternet => format!(
                "250 Requested mail action okay, completed: id=1M{}-1{}",
                self.token(6, ALNUM),
                self.token(6, ALNUM)
            ),
            Reply::Yahoo => "250 ok dirdel".to_string(),
            Reply::Postfix => format!("250 2.0.0 Ok: queued as 4{}", self.token(11, ALNUM)),
            Reply::Exim => {
                let pid = self.rng.range(1_000, 400_000);
                let mut remote = String::from("250 OK id=");
                push_base62(&mut remote, START_EPOCH + self.rng.below(200_000), 6);
                remote.push('-');
                push_base62(&mut remote, pid, 6);
                remote.push('-');
                push_base62(&mut remote, self.rng.below(2000), 2);
                remote
            }
        }
    }

    /// Mail submitted by a local user (SMTP AUTH on 587 or 465) to remote recipients.
    fn outbound(&mut self, t0: u64) {
        let pid = self.new_pid();
        let user = self.local_part();
        let domain = self.rng.pick(LOCAL_DOMAINS);
        let sender = format!("{user}@{domain}");
        // recipients, several of them often at one provider
        let mut rcpts: Vec<(String, Provider)> = Vec::new();
        let mut p = self.rng.pick(PROVIDERS);
        for _ in 0..self.rcpt_count() {
            if self.rng.chance(550) {
                p = self.rng.pick(PROVIDERS);
            }
            let r = format!("{}@{}", self.local_part(), p.domain);
            if rcpts.iter().all(|(x, _)| *x != r) {
                rcpts.push((r, p));
            }
        }
        let ip = if self.rng.chance(400) {
            format!("10.20.{}.{}", self.rng.below(256), self.rng.range(2, 255))
        } else {
            self.random_ip()
        };
        let helo = match self.rng.below(3) {
            0 => format!(
                "[{}]",
                if ip.starts_with("10.") {
                    ip.clone()
                } else {
                    "192.168.178.23".to_string()
                }
            ),
            1 => format!("DESKTOP-{}", self.token(7, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
            _ => "thinkpad.fritz.box".to_string(),
        };
        let name = if ip.starts_with("10.") || self.rng.chance(300) {
            None
        } else {
            Some(format!(
                "p{}.dip0.t-ipconnect.example",
                self.token(8, b"0123456789ABCDEF")
            ))
        };
        let port = self.port();
        let peer = Peer { name, helo, ip, port };
        let listen = if self.rng.chance(850) { 587 } else { 465 };
        let arrive = t0 + self.rng.range(400, 3_000);
        let id_at = arrive - self.rng.range(0, 250);
        let id = self.message_id(id_at, pid);
        let auth = if self.rng.chance(600) {
            "dovecot_plain"
        } else {
            "dovecot_login"
        };
        let size = self.rng.range(900, 150_000);
        let msgid = self.header_id(domain, None);
        let subject = self.subject(false);
        let to_list = rcpts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(" ");
        self.q.put(
            arrive,
            format!(
                "{id} <= {sender} H={h} {IFACE}:{listen} P=esmtpsa X={x} CV=no A={auth}:{sender} S={size} id={msgid} T=\"{subject}\" for {to_list}",
                h = peer.h(),
                x = self.rng.pick(TLS_IN)
            ),
        );

        // One transaction per domain, in the order of the recipients.
        let mut domains: Vec<&'static str> = Vec::new();
        for (_, p) in &rcpts {
            if !domains.contains(&p.domain) {
                domains.push(p.domain);
            }
        }
        let mut t = arrive + self.rng.range(5, 80);
        let mut failed = false;
        let mut deferred: Vec<(String, Provider)> = Vec::new();
        for d in domains {
            let group: Vec<&(String, Provider)> = rcpts.iter().filter(|(_, p)| p.domain == d).collect();
            let p = group[0].1;
            let mx = self.host_from(p.mx);
            let mx_ip = self.ipv4(p.mx_net);
            let x = if p.tls {
                format!(
                    " X={} CV=yes",
                    self.rng.pick(&[
                        "TLS1.3:TLS_AES_256_GCM_SHA384:256",
                        "TLS1.3:TLS_AES_128_GCM_SHA256:128",
                        "TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128"
                    ])
                )
            } else {
                String::new()
            };
            if self.rng.chance(15) {
                // the MX does not answer; Exim tries the next one later
                t += self.rng.range(1_500, 4_000);
                self.q.put(t, format!("{id} {mx} [{mx_ip}] Connection timed out"));
                for (r, p) in &group {
                    self.q.put(
                        t,
                        format!("{id} == {r} R=dnslookup T=remote_smtp defer (110): Connection timed out"),
                    );
                    deferred.push((r.clone(), *p));
                }
                continue;
            }
            t += self.rng.range(80, 1_500);
            let mut first = true;
            for (r, p) in &group {
                let line = match self.rng.below(1000) {
                    0..=29 => {
                        failed = true;
                        let why = match self.rng.below(3) {
                            0 => format!("550 5.1.1 <{r}>: Recipient address rejected: User unknown"),
                            1 => "550 5.1.1 User unknown".to_string(),
                            _ => format!(
                                "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"
                            ),
                        };
                        format!(
                            "{id} ** {r} R=dnslookup T=remote_smtp H={mx} [{mx_ip}]{x}: SMTP error from remote mail server after RCPT TO:<{r}>: {why}"
                        )
                    }
                    30..=59 => {
                        deferred.push((r.clone(), *p));
                        format!(
                            "{id} == {r} R=dnslookup T=remote_smtp defer (-44) H={mx} [{mx_ip}]: SMTP error from remote mail server after RCPT TO:<{r}>: 451 4.7.1 Greylisted, please try again later"
                        )
                    }
                    _ => {
                        let flag = if first { "=>" } else { "->" };
                        first = false;
                        let reply = self.reply(p.reply, &msgid, size);
                        format!("{id} {flag} {r} R=dnslookup T=remote_smtp H={mx} [{mx_ip}]{x} C=\"{reply}\"")
                    }
                };
                self.q.put(t, line);
            }
        }
        let mut end = t;
        if failed {
            // the bounce, created at the end of the delivery run and delivered at once
            let bt = end + self.rng.range(1, 30);
            let bpid = self.new_pid();
            let bid = self.message_id(bt, bpid);
            let bsize = size.min(100_000) + self.rng.range(1_500, 2_500);
            self.q.put(
                bt,
                format!(
                    "{bid} <= <> R={id} U=Debian-exim P=local S={bsize} id=E{bid}@{FQDN} T=\"Mail delivery failed: returning message to sender\" for {sender}"
                ),
            );
            let bend = self.deliver_local(&bid, &Local::User(user.clone(), domain), bt + 1);
            self.q.put(bend + self.rng.range(0, 3), format!("{bid} Completed"));
            end = bt;
        }
        if !deferred.is_empty() {
            // The retry: far sooner than Exim's retry rules, to keep every message short-lived
            // in log time.
            let mut t = end + self.rng.range(2_000, 6_000);
            let mut domains: Vec<&'static str> = Vec::new();
            for (_, p) in &deferred {
                if !domains.contains(&p.domain) {
                    domains.push(p.domain);
                }
            }
            for d in domains {
                let p = deferred
                    .iter()
                    .find(|(_, p)| p.domain == d)
                    .expect("a deferred address")
                    .1;
                let mx = self.host_from(p.mx);
                let mx_ip = self.ipv4(p.mx_net);
                let x = if p.tls {
                    " X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes"
                } else {
                    ""
                };
                t += self.rng.range(80, 1_500);
                let mut flag = "=>";
                for (r, _) in deferred.iter().filter(|(_, p)| p.domain == d) {
                    let reply = self.reply(p.reply, &msgid, size);
                    self.q.put(
                        t,
                        format!("{id} {flag} {r} R=dnslookup T=remote_smtp H={mx} [{mx_ip}]{x} C=\"{reply}\""),
                    );
                    flag = "->";
                }
            }
            end = t;
        }
        self.q.put(end + self.rng.range(0, 3), format!("{id} Completed"));
    }

    /// A client refused at RCPT, one to three times, before it gives up.
    fn rejected(&mut self, t0: u64) {
        let _pid = self.new_pid();
        let legit = self.rng.chance(250);
        let (peer, sender) = if legit {
            let p = self.rng.pick(PROVIDERS);
            let peer = self.provider_peer(&p);
            (peer, format!("{}@{}", self.local_part(), p.domain))
        } else {
            (self.shady_peer(), self.spam_address())
        };
        let h = peer.h();
        // $sender_fullhost, as an ACL message quotes it: the peer without its port
        let fullhost = h.rsplit_once(':').map_or(h.as_str(), |(host, _)| host).to_string();
        // a known sender is only refused for an unknown user or greylisted
        let kind = if legit {
            self.rng.pick(&[0, 550])
        } else {
            self.rng.below(1000)
        };
        let mut t = t0 + self.rng.range(200, 2_000);
        let mut tried: Vec<String> = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            let rcpt = if (400..550).contains(&kind) {
                format!("{}@{}", self.local_part(), self.rng.pick(SPAM_DOMAINS))
            } else {
                self.local_address()
            };
            if tried.contains(&rcpt) {
                continue;
            }
            t += self.rng.range(50, 900);
            let what = match kind {
                0..=399 => format!("rejected RCPT <{rcpt}>: Unknown user"),
                400..=549 => format!("rejected RCPT <{rcpt}>: relay not permitted"),
                550..=699 => format!("temporarily rejected RCPT <{rcpt}>: greylisted, retry in 5 minutes"),
                700..=899 => format!(
                    "rejected RCPT <{rcpt}>: JunkMail rejected - {fullhost} is in an RBL: https://www.spamhaus.org/query/ip/{}",
                    peer.ip
                ),
                _ => format!("rejected RCPT <{rcpt}>: Sender verify failed"),
            };
            self.q.put(t, format!("H={h} {IFACE}:25 F=<{sender}> {what}"));
            tried.push(rcpt);
        }
        if self.rng.chance(300) {
            t += self.rng.range(10, 3_000);
            self.q.put(
                t,
                format!(
                    "unexpected disconnection while reading SMTP command from {h} {IFACE}:25 D={}s",
                    (t - t0) / 1000
                ),
            );
        }
    }

    /// A client that says EHLO (perhaps STARTTLS) and leaves.
    fn no_mail(&mut self, t0: u64) {
        let _pid = self.new_pid();
        let peer = self.shady_peer();
        let d = self.rng.range(0, 30);
        let h = if self.rng.chance(500) {
            format!("[{}]:{}", peer.ip, peer.port)
        } else {
            peer.h()
        };
        let commands = self.rng.pick(&[
            "EHLO,STARTTLS",
            "EHLO,STARTTLS",
            "EHLO,STARTTLS,EHLO,QUIT",
            "EHLO,QUIT",
            "EHLO",
            "HELO",
            "EHLO,AUTH",
        ]);
        self.q.put(
            t0 + d * 1000 + self.rng.below(1000),
            format!("no MAIL in SMTP connection from {h} {IFACE}:25 D={d}s C={commands}"),
        );
    }

    /// A password-guessing bot on a submission port.
    fn auth_failure(&mut self, t0: u64) {
        let _pid = self.new_pid();
        let mut peer = self.shady_peer();
        if self.rng.chance(600) {
            peer.name = None;
            peer.helo = "User".to_string();
        }
        let h = peer.h();
        let listen = self.rng.pick(&[587u32, 587, 465, 25]);
        let auth = if self.rng.chance(700) {
            "dovecot_login"
        } else {
            "dovecot_plain"
        };
        let mut t = t0;
        for _ in 0..self.rng.range(1, 4) {
            t += self.rng.range(300, 2_500);
            let victim = match self.rng.below(3) {
                0 => format!(
                    "{}@{}",
                    self.rng.pick(&["admin", "info", "test", "contact"]),
                    self.rng.pick(LOCAL_DOMAINS)
                ),
                1 => self.local_address(),
                _ => self.local_part(),
            };
            self.q.put(
                t,
                format!(
                    "{auth} authenticator failed for {h} {IFACE}:{listen}: 535 Incorrect authentication data (set_id={victim})"
                ),
            );
        }
        if self.rng.chance(400) {
            t += self.rng.range(10, 2_000);
            self.q.put(
                t,
                format!(
                    "unexpected disconnection while reading SMTP command from {h} {IFACE}:{listen} D={}s",
                    (t - t0) / 1000
                ),
            );
        }
    }

    /// A handshake that fails.
    fn tls_error(&mut self, t0: u64) {
        let _pid = self.new_pid();
        let peer = self.shady_peer();
        let h = if self.rng.chance(400) {
            format!("[{}]:{}", peer.ip, peer.port)
        } else {
            peer.h()
        };
        let listen = if self.rng.chance(800) { 25 } else { 465 };
        let (func, err) = self.rng.pick(&[
            ("gnutls_handshake", "The TLS connection was non-properly terminated."),
            ("gnutls_handshake", "A TLS fatal alert has been received."),
            ("gnutls_handshake", "No supported cipher suites have been found."),
            ("gnutls_handshake", "Error in the pull function."),
            ("recv", "The TLS connection was non-properly terminated."),
            ("send", "Error in the push function."),
        ]);
        self.q.put(
            t0 + self.rng.range(50, 3_000),
            format!("TLS error on connection from {h} {IFACE}:{listen} ({func}): {err}"),
        );
    }

    /// A cron job's output mailed to root, aliased to an admin's mailbox.
    fn cron_mail(&mut self, t0: u64) {
        let pid = self.new_pid();
        let id = self.message_id(t0, pid);
        let job = self.rng.pick(&[
            "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }",
            "/usr/local/bin/backup-mail.sh",
            "[ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean",
            "certbot -q renew",
        ]);
        let size = self.rng.range(600, 9_000);
        self.q.put(
            t0,
            format!(
                "{id} <= root@{FQDN} U=root P=local S={size} id=E{id}@{FQDN} T=\"Cron <root@mx1> {job}\" for root@{FQDN}"
            ),
        );
        let t = t0 + self.rng.range(5, 120);
        self.q
            .put(t, format!("{id} => admin <root@{FQDN}> R=local_user T=mail_spool"));
        self.q.put(t + self.rng.range(0, 3), format!("{id} Completed"));
    }

    /// Other lines about connections.
    fn noise(&mut self, t0: u64) {
        let _pid = self.new_pid();
        let peer = self.shady_peer();
        let t = t0 + self.rng.range(1, 5_000);
        let line = match self.rng.below(5) {
            0 => format!("SMTP command timeout on connection from {} {IFACE}:25", peer.h()),
            1 => format!(
                "unexpected disconnection while reading SMTP command from {} {IFACE}:25 D={}s",
                peer.h(),
                self.rng.range(0, 20)
            ),
            2 => format!(
                "SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[{}]:{} {IFACE}:25 input=\"GET / HTTP/1.1\\r\\nHost: {FQDN}\\r\\n\"",
                peer.ip, peer.port
            ),
            3 => format!(
                "SMTP call from [{}]:{} {IFACE}:25 dropped: too many syntax or protocol errors (last command was \"\\026\\003\\001\\002\", C=NONE)",
                peer.ip, peer.port
            ),
            _ => format!("no host name found for IP address {}", peer.ip),
        };
        self.q.put(t, line);
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("genexim: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let usage = "usage: genexim --size-mb N --out PATH [--seed N]";
    let mut size_mb: Option<u64> = None;
    let mut out: Option<String> = None;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value; {usage}"));
        match a.as_str() {
            "--size-mb" => size_mb = Some(value("--size-mb")?.parse().map_err(|e| format!("--size-mb: {e}"))?),
            "--out" => out = Some(value("--out")?),
            "--seed" => seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => {
                println!("{usage}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}; {usage}")),
        }
    }
    let size_mb = size_mb.ok_or(usage)?;
    let out = out.ok_or(usage)?;
    let started = std::time::Instant::now();
    let file = std::fs::File::create(&out).map_err(|e| format!("cannot create {out}: {e}"))?;
    let mut w = io::BufWriter::with_capacity(1 << 20, file);
    let sum = generate(&mut w, size_mb << 20, seed).map_err(|e| format!("writing {out}: {e}"))?;
    w.flush().map_err(|e| format!("writing {out}: {e}"))?;
    eprintln!(
        "genexim: wrote {out}: {} bytes, {} lines, {} sessions, {} message ids, {:.1} h of log time, in {:.1} s",
        sum.bytes,
        sum.lines,
        sum.sessions,
        sum.queue_ids,
        sum.seconds as f64 / 3600.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
