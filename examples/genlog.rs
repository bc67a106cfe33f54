//! `genlog`: a fast, deterministic generator of realistic Postfix syslog, for benchmarks.
//!
//! ```text
//! cargo run --release --example genlog -- --size-mb 1024 --out /tmp/gen.log [--seed N]
//! ```
//!
//! The output is one host (`mx1`) writing BSD-timestamped syslog (`Nov 10 00:01:07 mx1
//! postfix/smtpd[28385]: …`) starting on Nov 10 at midnight, with time never going backwards.
//! It is a simulation, not a template: SMTP sessions start at random (exponential) intervals,
//! each one schedules all of its lines a few milliseconds to a few seconds ahead, and a
//! priority queue writes them out in time order, so several messages are always in flight and
//! their lines interleave as in a real log. Every message finishes (`removed`) within a few
//! seconds of log time (a deferred recipient is retried a few seconds later), so a consumer
//! that keeps only open messages needs bounded memory.
//!
//! The mix, per SMTP session (roughly; see [`Gen::session`]):
//! - inbound through postscreen → smtpd → cleanup → qmgr → amavis (127.0.0.1:10024, re-injected
//!   via 10025 as a child queue id with `client=localhost[127.0.0.1]`) → dovecot LMTP, with the
//!   amavis `Passed CLEAN`/`Passed SPAM` line; or `Blocked SPAM` (discarded);
//! - inbound delivered straight to LMTP;
//! - outbound from `submission/smtpd` (SASL) → smtp to remote MXs: `status=sent` (`250 … queued
//!   as …` and other replies), `deferred` then retried, or `bounced` with a `sender
//!   non-delivery notification` child delivered back to the sender;
//! - `NOQUEUE: reject: RCPT` sessions (relay denied, unknown user, greylisting, DNSBL);
//! - postscreen drops (PREGREET, DNSBL), SASL failures / lost connections, cron mail via
//!   pickup → local;
//! - non-mail noise: kernel UFW, CRON, sshd, systemd; milter and policy lines (opendkim,
//!   opendmarc, policyd-spf) and dovecot LMTP lines around deliveries.
//!
//! Queue ids are Postfix short ids: 5 hex digits of microseconds and the queue file's inode
//! in hex, 10–11 uppercase hex characters, all distinct within ~7.8 million messages.
//!
//! The generator is also compiled into `benches/throughput.rs` (via `#[path]`), which calls
//! [`generate`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub bytes: u64,
    pub lines: u64,
    /// SMTP sessions and noise events simulated.
    pub sessions: u64,
    /// Queue ids created (messages, re-injected children and bounce notices).
    pub queue_ids: u64,
    /// Log time covered, in seconds.
    pub seconds: u64,
}

/// Writes at least `size_bytes` (a few lines more, to let every message finish) of Postfix
/// syslog to `out`. The same `seed` always gives the same bytes.
pub fn generate(out: &mut impl Write, size_bytes: u64, seed: u64) -> io::Result<Summary> {
    let mut g = Gen::new(seed);
    let mut stamp = Stamp::default();
    let mut sum = Summary::default();
    let mut next_session: u64 = 0; // log time, ms since Nov 10 00:00:00
    loop {
        let more = sum.bytes < size_bytes;
        // Everything scheduled before the next session starts can be written: later sessions
        // only schedule lines at or after their own start.
        while let Some(Reverse((at, _, _))) = g.q.heap.peek() {
            if more && *at > next_session {
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
        g.session(next_session);
        next_session += g.gap_ms();
    }
    sum.sessions = g.sessions;
    sum.queue_ids = g.qids;
    Ok(sum)
}

/// The `Mmm dd hh:mm:ss mx1 ` prefix, rebuilt only when the second changes.
#[derive(Default)]
struct Stamp {
    sec: Option<u64>,
    buf: Vec<u8>,
}

impl Stamp {
    fn prefix(&mut self, sec: u64) -> &[u8] {
        if self.sec != Some(sec) {
            self.sec = Some(sec);
            let (mon, day) = month_day(sec);
            self.buf.clear();
            let (h, m, s) = (sec / 3600 % 24, sec / 60 % 60, sec % 60);
            write!(self.buf, "{mon} {day:>2} {h:02}:{m:02}:{s:02} {HOST} ").expect("write to Vec");
        }
        &self.buf
    }
}

const HOST: &str = "mx1";
const FQDN: &str = "mx1.example.com";
const MONTHS: [(&str, u64); 12] = [
    ("Jan", 31),
    ("Feb", 28),
    ("Mar", 31),
    ("Apr", 30),
    ("May", 31),
    ("Jun", 30),
    ("Jul", 31),
    ("Aug", 31),
    ("Sep", 30),
    ("Oct", 31),
    ("Nov", 30),
    ("Dec", 31),
];
/// Nov 10 is day 313 (from 0) of 2026; 2026 and 2027 are not leap years.
const START_DAY_OF_YEAR: u64 = 313;

/// Month name and day of month, `sec` seconds after Nov 10 00:00:00 2026.
fn month_day(sec: u64) -> (&'static str, u64) {
    let mut day = (START_DAY_OF_YEAR + sec / 86_400) % 365;
    for (name, len) in MONTHS {
        if day < len {
            return (name, day + 1);
        }
        day -= len;
    }
    unreachable!("day of year below 365")
}

/// `20261110040845`, as Postfix writes into its own Message-IDs (assumes 2026 for brevity).
fn compact_time(ms: u64) -> String {
    let sec = ms / 1000;
    let (mon, day) = month_day(sec);
    let m = MONTHS.iter().position(|(n, _)| *n == mon).expect("known month") + 1;
    format!(
        "2026{m:02}{day:02}{:02}{:02}{:02}",
        sec / 3600 % 24,
        sec / 60 % 60,
        sec % 60
    )
}

/// Postfix's rendering of a delay in seconds: `0`, `0.05`, `3.7`, `35`.
fn secs(ms: u64) -> String {
    if ms < 5 {
        "0".to_string()
    } else if ms < 1000 {
        let s = format!("{:.2}", ms as f64 / 1000.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else if ms < 10_000 {
        let s = format!("{:.1}", ms as f64 / 1000.0);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        (ms / 1000).to_string()
    }
}

/// `delay=…, delays=a/b/c/d` for a delivery at `done` of a message that arrived at `arrival`
/// and was last made active by qmgr at `active`; `conn` is the connection setup time.
fn delays(arrival: u64, active: u64, done: u64, conn: u64) -> String {
    let total = done.saturating_sub(arrival);
    let a = active.saturating_sub(arrival);
    let b = 10.min(total.saturating_sub(a));
    let c = conn.min(total.saturating_sub(a + b));
    let d = total.saturating_sub(a + b + c);
    format!(
        "delay={}, delays={}/{}/{}/{}",
        secs(total),
        secs(a),
        secs(b),
        secs(c),
        secs(d)
    )
}

/// splitmix64: tiny, fast and good enough for synthetic data. Public for the tests that
/// include this file (`tests/crash.rs` draws its kill moments from it).
pub struct Rng(pub u64);

impl Rng {
    #[allow(clippy::should_implement_trait)] // the next draw, not an iterator
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` below 2^32).
    pub fn below(&mut self, n: u64) -> u64 {
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

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const FIRST: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ines", "jules", "karl", "lena", "max", "nina",
    "oscar", "peggy", "quentin", "rupert", "sybil", "theo", "ursula", "victor", "walter", "xena", "yusuf", "zoe",
    "clara", "emma", "hugo", "mila", "noah", "paul", "sofia", "tom", "anna", "ben", "chloe", "david",
];
const LAST: &[&str] = &[
    "schulz", "becker", "bernard", "ferrari", "simon", "kowalski", "weber", "meyer", "nielsen", "dubois", "garcia",
    "rossi", "hansen", "wagner", "jensen", "hoffmann", "nowak", "lefevre", "perez", "martin", "novak", "smith",
];
const LOCAL_DOMAINS: &[&str] = &["example.com", "example.org", "corp.example.net"];

/// A remote mail provider: its domain, how its outbound servers are named, their /16 network,
/// its inbound MX, that MX's /16 network, and how it answers a successful RCPT/DATA.
#[derive(Clone, Copy)]
struct Provider {
    domain: &'static str,
    out_host: &'static str,
    out_net: (u8, u8),
    mx: &'static str,
    mx_net: (u8, u8),
    reply: Reply,
}

#[derive(Clone, Copy)]
enum Reply {
    Gmail,
    Outlook,
    Gmx,
    Yahoo,
    /// `250 2.0.0 Ok: queued as <long Postfix queue id>`
    PostfixLong,
    /// `250 2.0.0 Ok: queued as <short hex queue id>`
    PostfixShort,
}

const PROVIDERS: &[Provider] = &[
    Provider {
        domain: "gmail.com",
        out_host: "mail-{a}{n}-f{n}.google.com",
        out_net: (209, 85),
        mx: "gmail-smtp-in.l.google.com",
        mx_net: (142, 250),
        reply: Reply::Gmail,
    },
    Provider {
        domain: "outlook.com",
        out_host: "mail-{a}{a}{n}eur0{n}olkn20{n}.outbound.protection.outlook.com",
        out_net: (40, 92),
        mx: "outlook-com.olc.protection.outlook.com",
        mx_net: (52, 101),
        reply: Reply::Outlook,
    },
    Provider {
        domain: "hotmail.com",
        out_host: "mail-{a}{a}{n}eur0{n}olkn20{n}.outbound.protection.outlook.com",
        out_net: (40, 92),
        mx: "hotmail-com.olc.protection.outlook.com",
        mx_net: (52, 101),
        reply: Reply::Outlook,
    },
    Provider {
        domain: "gmx.de",
        out_host: "mout.gmx.net",
        out_net: (212, 227),
        mx: "mx00.emig.gmx.net",
        mx_net: (212, 227),
        reply: Reply::Gmx,
    },
    Provider {
        domain: "web.de",
        out_host: "mout.web.de",
        out_net: (217, 72),
        mx: "mx-ha03.web.de",
        mx_net: (212, 227),
        reply: Reply::Gmx,
    },
    Provider {
        domain: "yahoo.com",
        out_host: "sonic{n}-{n}.consmr.mail.ir2.yahoo.com",
        out_net: (77, 238),
        mx: "mta7.am0.yahoodns.net",
        mx_net: (67, 195),
        reply: Reply::Yahoo,
    },
    Provider {
        domain: "proton.me",
        out_host: "mail-{n}{n}.protonmail.ch",
        out_net: (185, 70),
        mx: "mail.protonmail.ch",
        mx_net: (185, 70),
        reply: Reply::PostfixLong,
    },
    Provider {
        domain: "uni-example.edu",
        out_host: "mailout.uni-example.edu",
        out_net: (129, 187),
        mx: "mx.uni-example.edu",
        mx_net: (129, 187),
        reply: Reply::PostfixShort,
    },
    Provider {
        domain: "partner-gmbh.de",
        out_host: "mail.partner-gmbh.de",
        out_net: (85, 13),
        mx: "mail.partner-gmbh.de",
        mx_net: (85, 13),
        reply: Reply::PostfixShort,
    },
    Provider {
        domain: "newsletter.shop-deals.com",
        out_host: "mail{n}.suw{n}.mcdlv.net",
        out_net: (198, 2),
        mx: "mx.shop-deals.com",
        mx_net: (198, 2),
        reply: Reply::PostfixLong,
    },
];
const SPAM_DOMAINS: &[&str] = &[
    "invoice-secure.ru",
    "crypto-gains.xyz",
    "best-pharma.top",
    "lottery-win.info",
    "qq.com",
    "mail.ru",
];
const SPAM_LOCALS: &[&str] = &["promo", "admin", "info", "noreply", "support", "billing", "winner"];
const SUBJECTS: &[&str] = &[
    "Lunch tomorrow?",
    "Holiday schedule",
    "Invoice 2026-1182",
    "Re: project update",
    "Meeting notes",
    "Your order has shipped",
];
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";

/// An amavis child process: its pid and how many messages it has handled.
struct AmavisChild {
    pid: u32,
    served: u32,
}

/// A remote SMTP client.
struct Remote {
    host: String,
    ip: String,
}

/// Lines waiting to be written, in log time order.
#[derive(Default)]
struct Queue {
    /// (log time in ms, sequence number, `program[pid]: message`)
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
    qids: u64,
    sessions: u64,
    amavis: Vec<AmavisChild>,
    next_pid: u32,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = Rng(seed ^ 0x6D61_696C_7472_6163);
        let amavis = (0..4)
            .map(|i| AmavisChild {
                pid: 29300 + i * 5 + rng.below(5) as u32,
                served: rng.below(10) as u32,
            })
            .collect();
        Gen {
            rng,
            q: Queue::default(),
            qids: 0,
            sessions: 0,
            amavis,
            next_pid: 29400,
        }
    }

    /// Time to the next session: exponential, 140 ms on average (about 7 sessions a second).
    fn gap_ms(&mut self) -> u64 {
        (-(1.0 - self.rng.unit()).ln() * 140.0) as u64
    }

    /// A pid out of a pool of `n` long-lived processes of one service.
    fn pid(&mut self, base: u32, n: u64) -> u32 {
        base + 7 * self.rng.below(n) as u32
    }

    /// A fresh Postfix short queue id for a queue file created at `at`.
    fn qid(&mut self, at: u64) -> String {
        self.qids += 1;
        let usec = (at % 1000) * 1000 + self.rng.below(1000);
        // A bijection of the counter onto 0x80000..0x800000 (the multiplier is prime to
        // 0x780000), so inodes never repeat within 7.8 million queue ids.
        let inode = 0x80000 + self.qids.wrapping_mul(2_654_435_761) % 0x78_0000;
        format!("{usec:05X}{inode:X}")
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

    /// Expands `{a}` (a letter) and `{n}` (a digit) in a host name template.
    fn host_from(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 8);
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            match &rest[i..i + 3] {
                "{a}" => out.push((b'a' + self.rng.below(26) as u8) as char),
                _ => out.push((b'0' + self.rng.below(10) as u8) as char),
            }
            rest = &rest[i + 3..];
        }
        out.push_str(rest);
        out
    }

    fn local_part(&mut self) -> String {
        let f = self.rng.pick(FIRST);
        let l = self.rng.pick(LAST);
        match self.rng.below(5) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}_{l}"),
            2 => format!("{}{l}", &f[..1]),
            3 => format!("{f}{}", self.rng.below(100)),
            _ => f.to_string(),
        }
    }

    fn local_address(&mut self) -> String {
        let d = self.rng.pick(LOCAL_DOMAINS);
        format!("{}@{d}", self.local_part())
    }

    fn remote_address(&mut self, p: &Provider) -> String {
        format!("{}@{}", self.local_part(), p.domain)
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
            0..=69 => 1,
            70..=84 => 2,
            85..=94 => 3,
            _ => self.rng.range(4, 7) as usize,
        }
    }

    fn remote_client(&mut self, p: &Provider) -> Remote {
        Remote {
            host: self.host_from(p.out_host),
            ip: self.ipv4(p.out_net),
        }
    }

    /// A client of the kind that sends spam: no reverse DNS, or a generic hosting name.
    fn shady_client(&mut self) -> Remote {
        let ip = self.random_ip();
        let host = match self.rng.below(3) {
            0 => format!("{}.static.ovh.net", ip.replace('.', "-")),
            1 => format!("host-{}.dynamic.example-isp.net", ip.replace('.', "-")),
            _ => "unknown".to_string(),
        };
        Remote { host, ip }
    }

    fn message_id(&mut self, at: u64, domain: &str) -> String {
        match self.rng.below(4) {
            0 => format!("<CA{}@mail.gmail.com>", self.token(40, ALNUM)),
            1 => format!(
                "<{}-{}-{}-{}-{}@{domain}>",
                self.token(8, HEX),
                self.token(4, HEX),
                self.token(4, HEX),
                self.token(4, HEX),
                self.token(12, HEX)
            ),
            _ => format!("<{}.{}@{domain}>", compact_time(at), self.token(10, ALNUM)),
        }
    }

    fn amavis_id(&mut self) -> String {
        let i = self.rng.below(self.amavis.len() as u64) as usize;
        let child = &mut self.amavis[i];
        child.served += 1;
        if child.served > 20 {
            // amavis children exit after max_requests and are replaced
            child.pid = self.next_pid;
            child.served = 1;
            self.next_pid += self.rng.range(3, 40) as u32;
            if self.next_pid > 32_000 {
                self.next_pid = 29_400;
            }
        }
        format!("{}-{:02}", child.pid, child.served)
    }

    /// One SMTP session, cron job or noise event starting at `t` (ms).
    fn session(&mut self, t: u64) {
        self.sessions += 1;
        match self.rng.below(1000) {
            0..=299 => self.inbound(t, Filter::Clean),
            300..=349 => self.inbound(t, Filter::Spam),
            350..=439 => self.inbound(t, Filter::None),
            440..=599 => self.outbound(t),
            600..=829 => self.rejected(t),
            830..=874 => self.postscreen_drop(t),
            875..=904 => self.auth_failure(t),
            905..=924 => self.cron_mail(t),
            _ => self.noise(t),
        }
    }

    /// `postscreen` admitting a client: returns when smtpd gets the connection.
    fn postscreen_pass(&mut self, t: u64, ip: &str) -> u64 {
        let port = self.rng.range(1024, 65_535);
        self.q.put(
            t,
            format!("postfix/postscreen[28197]: CONNECT from [{ip}]:{port} to [198.51.100.10]:25"),
        );
        if self.rng.chance(900) {
            self.q
                .put(t, format!("postfix/postscreen[28197]: PASS OLD [{ip}]:{port}"));
            t + self.rng.range(1, 30)
        } else {
            let t = t + self.rng.range(5_000, 6_500);
            self.q
                .put(t, format!("postfix/postscreen[28197]: PASS NEW [{ip}]:{port}"));
            t + self.rng.range(1, 30)
        }
    }

    fn tls_line(&mut self, t: u64, tag: &str, c: &Remote) {
        let line = if self.rng.chance(700) {
            format!(
                "{tag}: Anonymous TLS connection established from {}[{}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
                c.host, c.ip
            )
        } else {
            format!(
                "{tag}: Anonymous TLS connection established from {}[{}]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
                c.host, c.ip
            )
        };
        self.q.put(t, line);
    }

    /// Mail from the Internet to local users.
    fn inbound(&mut self, t0: u64, filter: Filter) {
        let spam = matches!(filter, Filter::Spam);
        let p = self.rng.pick(PROVIDERS);
        let (client, sender) = if spam || self.rng.chance(100) {
            (self.shady_client(), self.spam_address())
        } else {
            let c = self.remote_client(&p);
            (c, self.remote_address(&p))
        };
        let sender_domain = sender.rsplit('@').next().unwrap_or("example.net").to_string();
        let rcpts: Vec<String> = (0..self.rcpt_count()).map(|_| self.local_address()).collect();
        let n = rcpts.len();

        let mut t = self.postscreen_pass(t0, &client.ip);
        let spid = self.pid(28235, 12);
        let smtpd = format!("postfix/smtpd[{spid}]");
        self.q
            .put(t, format!("{smtpd}: connect from {}[{}]", client.host, client.ip));
        let tls = self.rng.chance(750);
        if tls {
            t += self.rng.range(20, 200);
            self.tls_line(t, &smtpd, &client);
        }
        t += self.rng.range(200, 1200);
        let qid = self.qid(t);
        let arrival = t;
        self.q
            .put(t, format!("{smtpd}: {qid}: client={}[{}]", client.host, client.ip));
        if self.rng.chance(500) {
            let spf = self.pid(29091, 4);
            let helo = if client.host == "unknown" {
                client.ip.clone()
            } else {
                client.host.clone()
            };
            self.q.put(
                t + self.rng.range(50, 400),
                format!(
                    "policyd-spf[{spf}]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip={}; helo={helo}; envelope-from={sender}; receiver={} ",
                    client.ip, rcpts[0]
                ),
            );
        }
        t += self.rng.range(500, 1500);
        let cleanup = format!("postfix/cleanup[{}]", self.pid(28602, 3));
        let msgid = self.message_id(t, &sender_domain);
        self.q.put(t, format!("{cleanup}: {qid}: message-id={msgid}"));
        if self.rng.chance(80) {
            let subject = self.rng.pick(SUBJECTS);
            let helo = if client.host == "unknown" {
                format!("[{}]", client.ip)
            } else {
                client.host.clone()
            };
            self.q.put(
                t,
                format!(
                    "{cleanup}: {qid}: warning: header Subject: {subject} from {}[{}]; from=<{sender}> to=<{}> proto=ESMTP helo=<{helo}>",
                    client.host, client.ip, rcpts[0]
                ),
            );
        }
        if !spam && self.rng.chance(600) {
            self.q
                .put(t, format!("opendkim[29023]: {qid}: DKIM verification successful"));
            self.q.put(t, format!("opendmarc[29052]: {qid}: {sender_domain} pass"));
        }
        t += self.rng.range(1, 40);
        let active = t;
        let size = self.rng.range(1_500, 60_000);
        self.q.put(
            t,
            format!("postfix/qmgr[28119]: {qid}: from=<{sender}>, size={size}, nrcpt={n} (queue active)"),
        );
        let starttls = if tls { "starttls=1 " } else { "" };
        self.q.put(
            t + self.rng.range(1, 30),
            format!(
                "{smtpd}: disconnect from {}[{}] ehlo=1 {starttls}mail=1 rcpt={n} data=1 quit=1 commands={}",
                client.host,
                client.ip,
                4 + n + usize::from(tls)
            ),
        );

        match filter {
            Filter::None => {
                let start = t + self.rng.range(5, 60);
                let end = self.lmtp(&qid, &rcpts, &msgid, arrival, active, start);
                self.q.put(end + 1, format!("postfix/qmgr[28119]: {qid}: removed"));
            }
            Filter::Clean | Filter::Spam => {
                let scan_ms = self.rng.range(1_200, 4_500);
                let done = active + scan_ms;
                let amavis_id = self.amavis_id();
                let amavis_pid = amavis_id.split('-').next().unwrap_or("29300").to_string();
                let hits_spam = spam || self.rng.chance(50);
                let hits = if hits_spam {
                    self.rng.range(6_000, 35_000)
                } else {
                    self.rng.range(0, 4_500)
                };
                let hits = format!("{}.{:03}", hits / 1000, hits % 1000);
                let mail_id = self.token(12, ALNUM);
                let to_list = rcpts.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(",");
                let cport = self.rng.range(32_768, 61_000);
                let smtp = format!("postfix/smtp[{}]", self.pid(28717, 10));
                if spam {
                    let (verdict, quarantine) = if self.rng.chance(500) {
                        ("{DiscardedInbound}", String::new())
                    } else {
                        (
                            "{DiscardedInbound,Quarantined}",
                            format!("quarantine: spam-{mail_id}.gz, "),
                        )
                    };
                    self.q.put(
                        done,
                        format!(
                            "amavis[{amavis_pid}]: ({amavis_id}) Blocked SPAM {verdict}, [{ip}]:{cport} [{ip}] <{sender}> -> {to_list}, {quarantine}Queue-ID: {qid}, Message-ID: {msgid}, mail_id: {mail_id}, Hits: {hits}, size: {size}, {scan_ms} ms",
                            ip = client.ip
                        ),
                    );
                    let d = delays(arrival, active, done, 0);
                    for r in &rcpts {
                        self.q.put(
                            done,
                            format!(
                                "{smtp}: {qid}: to=<{r}>, relay=127.0.0.1[127.0.0.1]:10024, {d}, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id={amavis_id} - spam)"
                            ),
                        );
                    }
                    self.q.put(done + 1, format!("postfix/qmgr[28119]: {qid}: removed"));
                } else {
                    // amavis re-injects through 127.0.0.1:10025 just before it answers
                    let ct = done - self.rng.range(150, 400);
                    let lpid = self.pid(28262, 4);
                    let local_smtpd = format!("postfix/smtpd[{lpid}]");
                    self.q
                        .put(ct, format!("{local_smtpd}: connect from localhost[127.0.0.1]"));
                    let ct = ct + self.rng.range(1, 10);
                    let child = self.qid(ct);
                    self.q
                        .put(ct, format!("{local_smtpd}: {child}: client=localhost[127.0.0.1]"));
                    let ct = ct + self.rng.range(10, 80);
                    self.q.put(ct, format!("{cleanup}: {child}: message-id={msgid}"));
                    let child_active = ct + self.rng.range(20, 100);
                    let child_size = size + self.rng.range(600, 1_100);
                    self.q.put(
                        child_active,
                        format!(
                            "postfix/qmgr[28119]: {child}: from=<{sender}>, size={child_size}, nrcpt={n} (queue active)"
                        ),
                    );
                    self.q.put(
                        child_active + 1,
                        format!(
                            "{local_smtpd}: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                            4 + n
                        ),
                    );
                    let done = done.max(child_active + 2);
                    let verdict = if hits_spam {
                        "Passed SPAM {RelayedTaggedInbound}"
                    } else {
                        "Passed CLEAN {RelayedInbound}"
                    };
                    self.q.put(
                        done,
                        format!(
                            "amavis[{amavis_pid}]: ({amavis_id}) {verdict}, [{ip}]:{cport} [{ip}] <{sender}> -> {to_list}, Queue-ID: {qid}, Message-ID: {msgid}, mail_id: {mail_id}, Hits: {hits}, size: {size}, queued_as: {child}, {scan_ms} ms",
                            ip = client.ip
                        ),
                    );
                    let d = delays(arrival, active, done, 0);
                    for r in &rcpts {
                        self.q.put(
                            done,
                            format!(
                                "{smtp}: {qid}: to=<{r}>, relay=127.0.0.1[127.0.0.1]:10024, {d}, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {child})"
                            ),
                        );
                    }
                    self.q.put(done + 1, format!("postfix/qmgr[28119]: {qid}: removed"));
                    // qmgr hands the child to LMTP at once, but the delivery is normally logged
                    // after amavis has answered the parent's smtp client (in the eval sample,
                    // 1 child in 600 is delivered first).
                    let start = if self.rng.chance(3) { child_active + 2 } else { done + 2 };
                    let end = self.lmtp(&child, &rcpts, &msgid, ct, child_active, start);
                    self.q.put(end + 1, format!("postfix/qmgr[28119]: {child}: removed"));
                }
            }
        }
    }

    /// Delivers `qid` to local mailboxes through dovecot LMTP from `t`; returns the time of the
    /// last line.
    fn lmtp(&mut self, qid: &str, rcpts: &[String], msgid: &str, arrival: u64, active: u64, mut t: u64) -> u64 {
        let lmtp = format!("postfix/lmtp[{}]", self.pid(28849, 4));
        for r in rcpts {
            let dpid = self.pid(29197, 6);
            t += self.rng.range(2, 40);
            self.q.put(t, format!("dovecot: lmtp({dpid}): Connect from local"));
            let sess = self.token(22, B64);
            let folder = if self.rng.chance(100) {
                "stored mail into mailbox 'Junk'"
            } else {
                "saved mail to INBOX"
            };
            t += self.rng.range(20, 200);
            self.q.put(
                t,
                format!("dovecot: lmtp({r})<{dpid}><{sess}>: msgid={msgid}: {folder}"),
            );
            let d = delays(arrival, active, t, self.rng.below(20));
            self.q.put(
                t,
                format!(
                    "{lmtp}: {qid}: to=<{r}>, relay={FQDN}[private/dovecot-lmtp], {d}, dsn=2.0.0, status=sent (250 2.0.0 <{r}> {sess} Saved)"
                ),
            );
            self.q.put(
                t,
                format!("dovecot: lmtp({dpid}): Disconnect from local: Client has quit the connection (state=READY)"),
            );
        }
        t
    }

    /// Mail submitted by a local user (SASL on port 587) to remote recipients.
    fn outbound(&mut self, t0: u64) {
        let sender = self.local_address();
        let sender_domain = sender.rsplit('@').next().unwrap_or("example.com").to_string();
        let n = self.rcpt_count();
        let rcpts: Vec<(String, Provider)> = (0..n)
            .map(|_| {
                let p = self.rng.pick(PROVIDERS);
                (self.remote_address(&p), p)
            })
            .collect();
        let ip = if self.rng.chance(500) {
            format!("10.3.{}.{}", self.rng.below(256), self.rng.range(1, 255))
        } else {
            self.random_ip()
        };
        let client = Remote {
            host: if self.rng.chance(300) {
                "unknown".to_string()
            } else {
                format!("host-{}.dynamic.example-isp.net", ip.replace('.', "-"))
            },
            ip,
        };
        let sub = format!("postfix/submission/smtpd[{}]", self.pid(28435, 6));
        let mut t = t0;
        self.q
            .put(t, format!("{sub}: connect from {}[{}]", client.host, client.ip));
        t += self.rng.range(30, 150);
        self.tls_line(t, &sub, &client);
        t += self.rng.range(200, 900);
        let qid = self.qid(t);
        let arrival = t;
        let method = if self.rng.chance(500) { "PLAIN" } else { "LOGIN" };
        self.q.put(
            t,
            format!(
                "{sub}: {qid}: client={}[{}], sasl_method={method}, sasl_username={sender}",
                client.host, client.ip
            ),
        );
        t += self.rng.range(100, 900);
        let cleanup = format!("postfix/cleanup[{}]", self.pid(28602, 3));
        let msgid = self.message_id(t, &sender_domain);
        self.q.put(t, format!("{cleanup}: {qid}: message-id={msgid}"));
        self.q.put(
            t,
            format!("opendkim[29023]: {qid}: DKIM-Signature field added (s=mail2026, d={sender_domain})"),
        );
        t += self.rng.range(1, 40);
        let mut active = t;
        let size = self.rng.range(800, 120_000);
        let qmgr_line = format!("postfix/qmgr[28119]: {qid}: from=<{sender}>, size={size}, nrcpt={n} (queue active)");
        self.q.put(t, qmgr_line.clone());
        self.q.put(
            t + self.rng.range(1, 30),
            format!(
                "{sub}: disconnect from {}[{}] ehlo=1 starttls=1 auth=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                client.host,
                client.ip,
                6 + n
            ),
        );

        let mut bounced: Vec<String> = Vec::new();
        let mut deferred: Vec<(String, Provider)> = Vec::new();
        let mut end = t;
        for (r, p) in &rcpts {
            let smtp = format!("postfix/smtp[{}]", self.pid(28717, 10));
            let mx_ip = self.ipv4(p.mx_net);
            let conn = self.rng.range(30, 400);
            let dt = t + conn + self.rng.range(50, 1_500);
            end = end.max(dt);
            let d = delays(arrival, active, dt, conn);
            let line = match self.rng.below(1000) {
                0..=39 => {
                    bounced.push(r.clone());
                    format!(
                        "{smtp}: {qid}: to=<{r}>, relay={mx}[{mx_ip}]:25, {d}, dsn=5.1.1, status=bounced (host {mx}[{mx_ip}] said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
                        mx = p.mx
                    )
                }
                40..=69 => {
                    deferred.push((r.clone(), *p));
                    let d = delays(arrival, active, dt, 0);
                    format!(
                        "{smtp}: {qid}: to=<{r}>, relay=none, {d}, dsn=4.4.1, status=deferred (connect to {mx}[{mx_ip}]:25: Connection timed out)",
                        mx = p.mx
                    )
                }
                70..=89 => {
                    deferred.push((r.clone(), *p));
                    format!(
                        "{smtp}: {qid}: to=<{r}>, relay={mx}[{mx_ip}]:25, {d}, dsn=4.7.0, status=deferred (host {mx}[{mx_ip}] said: 421 4.7.0 Try again later, closing connection. (in reply to MAIL FROM command))",
                        mx = p.mx
                    )
                }
                _ => {
                    let reply = self.reply(p.reply, &msgid);
                    format!(
                        "{smtp}: {qid}: to=<{r}>, relay={mx}[{mx_ip}]:25, {d}, dsn=2.0.0, status=sent ({reply})",
                        mx = p.mx
                    )
                }
            };
            self.q.put(dt, line);
        }
        if !deferred.is_empty() {
            // The retry: far sooner than Postfix's minimal_backoff_time, to keep every message
            // short-lived in log time.
            active = end + self.rng.range(2_000, 6_000);
            self.q.put(active, qmgr_line);
            for (r, p) in &deferred {
                let smtp = format!("postfix/smtp[{}]", self.pid(28717, 10));
                let mx_ip = self.ipv4(p.mx_net);
                let conn = self.rng.range(30, 400);
                let dt = active + conn + self.rng.range(50, 1_500);
                end = end.max(dt);
                let d = delays(arrival, active, dt, conn);
                let reply = self.reply(p.reply, &msgid);
                self.q.put(
                    dt,
                    format!(
                        "{smtp}: {qid}: to=<{r}>, relay={mx}[{mx_ip}]:25, {d}, dsn=2.0.0, status=sent ({reply})",
                        mx = p.mx
                    ),
                );
            }
        }
        if !bounced.is_empty() {
            let bt = end + self.rng.range(1, 20);
            let notice = self.qid(bt);
            let bpid = self.pid(28974, 2);
            self.q.put(
                bt,
                format!("postfix/bounce[{bpid}]: {qid}: sender non-delivery notification: {notice}"),
            );
            self.q.put(
                bt,
                format!("{cleanup}: {notice}: message-id=<{}.{notice}@{FQDN}>", compact_time(bt)),
            );
            let nactive = bt + self.rng.range(1, 20);
            let nsize = self.rng.range(2_500, 6_000);
            self.q.put(
                nactive,
                format!("postfix/qmgr[28119]: {notice}: from=<>, size={nsize}, nrcpt=1 (queue active)"),
            );
            let nmsgid = format!("<{}.{notice}@{FQDN}>", compact_time(bt));
            let nend = self.lmtp(&notice, &[sender], &nmsgid, bt, nactive, nactive + 2);
            self.q.put(nend + 1, format!("postfix/qmgr[28119]: {notice}: removed"));
        }
        self.q.put(end + 1, format!("postfix/qmgr[28119]: {qid}: removed"));
    }

    /// The remote server's answer to a successful delivery.
    fn reply(&mut self, reply: Reply, msgid: &str) -> String {
        match reply {
            Reply::Gmail => format!(
                "250 2.0.0 OK  17{} {}{}.{} - gsmtp",
                self.rng.range(10_000_000, 99_999_999),
                self.token(2, b"abcdefghijklmnopqrstuvwxyz"),
                self.rng.range(100_000_000, 999_999_999),
                self.rng.below(1000)
            ),
            Reply::Outlook => format!(
                "250 2.6.0 {msgid} [InternalId={}, Hostname=AM0PR0{}MB{}.eurprd0{}.prod.outlook.com] {} bytes in 0.{:03}, {}.{:03} KB/sec Queued mail for delivery",
                self.rng.range(1_000_000_000, 9_999_999_999),
                self.rng.below(10),
                self.rng.range(1000, 9999),
                self.rng.below(10),
                self.rng.range(900, 120_000),
                self.rng.below(1000),
                self.rng.range(10, 999),
                self.rng.below(1000)
            ),
            Reply::Gmx => format!("250 Requested mail action okay, completed: id={}", self.token(24, ALNUM)),
            Reply::Yahoo => "250 ok dirdel".to_string(),
            Reply::PostfixLong => format!("250 2.0.0 Ok: queued as 4{}", self.token(13, ALNUM)),
            Reply::PostfixShort => format!("250 2.0.0 Ok: queued as {}", self.token(11, b"0123456789ABCDEF")),
        }
    }

    /// A client that postscreen or smtpd turns away before any message is queued.
    fn rejected(&mut self, t0: u64) {
        let client = self.shady_client();
        let mut t = self.postscreen_pass(t0, &client.ip);
        let spid = self.pid(28235, 12);
        let smtpd = format!("postfix/smtpd[{spid}]");
        self.q
            .put(t, format!("{smtpd}: connect from {}[{}]", client.host, client.ip));
        let tls = self.rng.chance(400);
        if tls {
            t += self.rng.range(20, 200);
            self.tls_line(t, &smtpd, &client);
        }
        let helo = if client.host == "unknown" {
            format!("[{}]", client.ip)
        } else {
            client.host.clone()
        };
        let legit = self.rng.chance(300);
        let sender = if legit {
            let p = self.rng.pick(PROVIDERS);
            self.remote_address(&p)
        } else {
            self.spam_address()
        };
        let kind = self.rng.below(4);
        let tries = self.rng.range(1, 4);
        for _ in 0..tries {
            t += self.rng.range(150, 1_200);
            let reason = match kind {
                0 => {
                    let r = format!("{}@{}", self.local_part(), self.rng.pick(SPAM_DOMAINS));
                    (format!("554 5.7.1 <{r}>: Relay access denied"), r)
                }
                1 => {
                    let r = self.local_address();
                    (
                        format!("550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
                        r,
                    )
                }
                2 => {
                    let r = self.local_address();
                    let d = r.rsplit('@').next().unwrap_or("example.com").to_string();
                    (
                        format!(
                            "450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{d}.html"
                        ),
                        r,
                    )
                }
                _ => {
                    let r = self.local_address();
                    (
                        format!(
                            "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}",
                            ip = client.ip
                        ),
                        r,
                    )
                }
            };
            let (text, rcpt) = reason;
            self.q.put(
                t,
                format!(
                    "{smtpd}: NOQUEUE: reject: RCPT from {}[{}]: {text}; from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{helo}>",
                    client.host, client.ip
                ),
            );
        }
        t += self.rng.range(10, 500);
        let starttls = if tls { "starttls=1 " } else { "" };
        let ok = 3 + u64::from(tls);
        self.q.put(
            t,
            format!(
                "{smtpd}: disconnect from {}[{}] ehlo=1 {starttls}mail=1 rcpt=0/{tries} data=0/1 quit=1 commands={ok}/{}",
                client.host,
                client.ip,
                ok + tries + 1
            ),
        );
    }

    /// postscreen hangs up on a bot: pregreeting, or a DNSBL hit with its own reject.
    fn postscreen_drop(&mut self, t: u64) {
        let ip = self.random_ip();
        let port = self.rng.range(1024, 65_535);
        let ps = "postfix/postscreen[28197]";
        self.q
            .put(t, format!("{ps}: CONNECT from [{ip}]:{port} to [198.51.100.10]:25"));
        if self.rng.chance(500) {
            let t = t + self.rng.range(50, 300);
            self.q.put(
                t,
                format!(
                    "{ps}: PREGREET 11 after 0.{:02} from [{ip}]:{port}: EHLO User\\r\\n",
                    self.rng.below(100)
                ),
            );
            self.q.put(t + 1, format!("{ps}: DISCONNECT [{ip}]:{port}"));
        } else {
            let t = t + self.rng.range(1_000, 6_000);
            self.q.put(
                t,
                format!("{ps}: DNSBL rank {} for [{ip}]:{port}", self.rng.range(1, 6)),
            );
            let t = t + self.rng.range(100, 2_000);
            let sender = self.spam_address();
            let rcpt = self.local_address();
            self.q.put(
                t,
                format!(
                    "{ps}: NOQUEUE: reject: RCPT from [{ip}]:{port}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{sender}>, to=<{rcpt}>, proto=ESMTP, helo=<[{ip}]>"
                ),
            );
            self.q
                .put(t + self.rng.range(1, 200), format!("{ps}: DISCONNECT [{ip}]:{port}"));
        }
    }

    /// A password-guessing bot on the submission port, or a client that drops the connection.
    fn auth_failure(&mut self, mut t: u64) {
        let client = self.shady_client();
        let (tag, after) = if self.rng.chance(600) {
            (format!("postfix/submission/smtpd[{}]", self.pid(28435, 6)), "AUTH")
        } else {
            (format!("postfix/smtpd[{}]", self.pid(28235, 12)), "RCPT")
        };
        self.q
            .put(t, format!("{tag}: connect from {}[{}]", client.host, client.ip));
        t += self.rng.range(100, 2_000);
        let cmds = if after == "AUTH" {
            self.q.put(
                t,
                format!(
                    "{tag}: warning: {}[{}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                    client.host, client.ip
                ),
            );
            "ehlo=1 auth=0/1 commands=1/2"
        } else {
            "ehlo=1 mail=1 rcpt=0/1 commands=2/3"
        };
        t += self.rng.range(10, 3_000);
        self.q.put(
            t,
            format!(
                "{tag}: lost connection after {after} from {}[{}]",
                client.host, client.ip
            ),
        );
        self.q.put(
            t,
            format!("{tag}: disconnect from {}[{}] {cmds}", client.host, client.ip),
        );
    }

    /// A cron job's output mailed to root: pickup → local delivery.
    fn cron_mail(&mut self, mut t: u64) {
        let (uid, user) = self.rng.pick(&[(34u32, "backup"), (33, "www-data"), (0, "root")]);
        let qid = self.qid(t);
        let arrival = t;
        self.q
            .put(t, format!("postfix/pickup[28148]: {qid}: uid={uid} from=<{user}>"));
        t += self.rng.range(1, 30);
        let cleanup = format!("postfix/cleanup[{}]", self.pid(28602, 3));
        let token = self.token(10, ALNUM);
        self.q.put(
            t,
            format!("{cleanup}: {qid}: message-id=<{}.{token}@{FQDN}>", compact_time(t)),
        );
        t += self.rng.range(1, 30);
        let active = t;
        self.q.put(
            t,
            format!(
                "postfix/qmgr[28119]: {qid}: from=<{user}@{FQDN}>, size={}, nrcpt=1 (queue active)",
                self.rng.range(400, 9_000)
            ),
        );
        t += self.rng.range(20, 150);
        let d = delays(arrival, active, t, 0);
        let local = self.pid(28889, 2);
        self.q.put(
            t,
            format!(
                "postfix/local[{local}]: {qid}: to=<root@{FQDN}>, orig_to=<root>, relay=local, {d}, dsn=2.0.0, status=sent (delivered to mailbox)"
            ),
        );
        self.q.put(t + 1, format!("postfix/qmgr[28119]: {qid}: removed"));
    }

    /// Lines from other programs that share the mail log.
    fn noise(&mut self, t: u64) {
        let line = match self.rng.below(10) {
            0..=3 => format!(
                "kernel: [{}.{:06}] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:fe:ff:ff:ff:ff:ff:08:00 SRC={} DST=198.51.100.10 LEN=44 TOS=0x00 PREC=0x00 TTL=242 ID=54321 PROTO=TCP SPT={} DPT={} WINDOW=1024 RES=0x00 SYN URGP=0 ",
                8_000_000 + t / 1000,
                self.rng.below(1_000_000),
                self.random_ip(),
                self.rng.range(1024, 65_535),
                self.rng.pick(&[22u32, 23, 3389, 445, 8080])
            ),
            4..=5 => {
                let pid = self.rng.range(30_000, 32_000);
                self.q.put(
                    t,
                    format!("CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
                );
                self.q.put(
                    t + 2,
                    format!("CRON[{pid}]: pam_unix(cron:session): session closed for user root"),
                );
                format!("CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)")
            }
            6..=8 => format!(
                "sshd[{}]: Invalid user {} from {} port {}",
                self.rng.range(29_000, 32_000),
                self.rng.pick(&["admin", "test", "oracle", "ubuntu", "git"]),
                self.random_ip(),
                self.rng.range(1024, 65_535)
            ),
            _ => format!(
                "systemd[1]: {}",
                self.rng.pick(&[
                    "Starting Cleanup of Temporary Directories...",
                    "Starting Rotate log files...",
                    "Started Session 4711 of User deploy."
                ])
            ),
        };
        self.q.put(t + 1, line);
    }
}

#[derive(Clone, Copy)]
enum Filter {
    /// Delivered without a content filter.
    None,
    /// Through amavis, passed and re-injected.
    Clean,
    /// Through amavis, blocked and discarded.
    Spam,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("genlog: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let usage = "usage: genlog --size-mb N --out PATH [--seed N]";
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
        "genlog: wrote {out}: {} bytes, {} lines, {} sessions, {} queue ids, {:.1} h of log time, in {:.1} s",
        sum.bytes,
        sum.lines,
        sum.sessions,
        sum.queue_ids,
        sum.seconds as f64 / 3600.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
