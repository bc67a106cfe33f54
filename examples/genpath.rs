//! `genpath`: deterministic logs of several mail servers with known delivery paths, one log
//! file per server, and the paths they hold (`truth.jsonl`).
//!
//! ```text
//! cargo run --release --example genpath -- --messages 2000 --out /tmp/paths [--seed N]
//! ```
//!
//! The site: `mx1` (Postfix edge, amavis re-injecting through 10025) and `gw1` (Exim edge)
//! hand inbound mail to `mbox1` (Postfix, LMTP to Dovecot, which logs the folder); `sub1`
//! (Postfix submission) hands outbound mail to `relay1` (Postfix smarthost), which delivers
//! to the internet, and hands its non-delivery notices to `mbox1`. Per message, at random:
//! recipients delivered to INBOX or Junk (counted as spam), refused by the mailbox server (user unknown), held
//! by it (over quota, deferred), an alias expanded on `mbox1` into two mailboxes; outbound
//! recipients accepted, bounced or deferred by the remote server. Now and then a message
//! arrives again hours later with a Message-ID seen before: its path is its own.
//!
//! Each `truth.jsonl` line is one path: its hops (`host:queue_id`, in order) and, per
//! recipient of the first hop, where its path ends (status, host, folder; for an alias, the
//! end furthest from delivered, as rows give it). The test `tests/paths.rs` includes this file
//! (`#[path]`) and checks that every path is rebuilt from `--log`, from a store fed server by
//! server, and from ClickHouse.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

/// Where one recipient's path ends.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct End {
    pub address: String,
    pub final_status: String,
    pub final_host: String,
    pub final_folder: Option<String>,
}

/// One delivery path.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Truth {
    pub hops: Vec<String>,
    pub ends: Vec<End>,
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 0 ≤ n < below.
    fn below(&mut self, below: u64) -> u64 {
        self.next() % below
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const USERS: [&str; 8] = ["anna", "ben", "carla", "dev", "emil", "fatima", "gus", "hana"];
const SENDERS: [&str; 5] = [
    "news@woodgrove.example",
    "billing@northwind.example",
    "ana@partner.example",
    "alerts@monitor.example",
    "jobs@adatum.example",
];
const REMOTES: [(&str, &str); 3] = [
    ("mx.fabrikam.example", "203.0.113.25"),
    ("mx.contoso.example", "198.51.100.77"),
    ("mail.tailspin.example", "192.0.2.88"),
];

/// The lines of every host, with the time (seconds from the start) each was logged.
#[derive(Default)]
struct Logs {
    lines: BTreeMap<&'static str, Vec<(u64, u64, String)>>,
    seq: u64,
}

impl Logs {
    /// Appends a syslog line of `host` at `at`: `Nov 24 09:10:01 host text`.
    fn line(&mut self, host: &'static str, at: u64, text: String) {
        let line = format!("{} {host} {text}", stamp(at));
        self.put(host, at, line);
    }

    fn put(&mut self, host: &'static str, at: u64, text: String) {
        self.seq += 1;
        self.lines.entry(host).or_default().push((at, self.seq, text));
    }
}

/// The time `at` seconds after 2026-11-24 00:00:00.
fn time_at(at: u64) -> chrono::NaiveDateTime {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a date");
    start + chrono::Duration::seconds(at as i64)
}

/// `Nov 24 09:10:01` (syslog's BSD form, the day padded with a space) for `at` seconds after
/// Nov 24 00:00:00.
fn stamp(at: u64) -> String {
    time_at(at).format("%b %e %H:%M:%S").to_string()
}

/// The whole site's state while generating.
struct Site {
    rng: Rng,
    logs: Logs,
    ids: u64,
    truths: Vec<Truth>,
    /// Message-IDs used, for the repeats.
    message_ids: Vec<(String, &'static str)>,
}

impl Site {
    fn postfix_id(&mut self) -> String {
        self.ids += 1;
        let x = self.ids.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 24;
        format!("{:05X}{:05X}", x & 0xF_FFFF, self.ids & 0xF_FFFF)
    }

    fn exim_id(&mut self, at: u64) -> String {
        self.ids += 1;
        const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let enc = |mut n: u64, width: usize| {
            let mut s = vec![b'0'; width];
            for c in s.iter_mut().rev() {
                *c = B62[(n % 62) as usize];
                n /= 62;
            }
            String::from_utf8(s).unwrap()
        };
        format!(
            "{}-{}-{}",
            enc(1_795_000_000 + at, 6),
            enc(self.ids, 6),
            enc(self.ids % 3844, 2)
        )
    }

    /// Postfix receiving a message over SMTP: the lines up to `queue active`.
    fn postfix_in(
        &mut self,
        host: &'static str,
        at: u64,
        client: (&str, &str),
        from: &str,
        mid: &str,
        n: usize,
    ) -> String {
        let qid = self.postfix_id();
        let pid = 3000 + self.rng.below(900);
        let l = &mut self.logs;
        l.line(
            host,
            at,
            format!("postfix/smtpd[{pid}]: connect from {}[{}]", client.0, client.1),
        );
        l.line(
            host,
            at,
            format!("postfix/smtpd[{pid}]: {qid}: client={}[{}]", client.0, client.1),
        );
        l.line(
            host,
            at,
            format!("postfix/cleanup[{}]: {qid}: message-id=<{mid}>", pid + 1),
        );
        l.line(
            host,
            at,
            format!(
                "postfix/qmgr[1100]: {qid}: from=<{from}>, size={}, nrcpt={n} (queue active)",
                2000 + pid
            ),
        );
        l.line(
            host,
            at + 1,
            format!(
                "postfix/smtpd[{pid}]: disconnect from {}[{}] ehlo=2 mail=1 rcpt={n} data=1 quit=1 commands={}",
                client.0,
                client.1,
                n + 4
            ),
        );
        qid
    }

    /// A delivery line: `rcpt` is the recipient and its original address, `outcome` the DSN,
    /// status and reply.
    fn postfix_out(
        &mut self,
        host: &'static str,
        at: u64,
        qid: &str,
        rcpt: (&str, Option<&str>),
        relay: &str,
        outcome: (&str, &str, &str),
    ) {
        let ((to, orig), (dsn, status, reply)) = (rcpt, outcome);
        let orig = orig.map(|o| format!(" orig_to=<{o}>,")).unwrap_or_default();
        let daemon = if relay.contains("dovecot-lmtp") { "lmtp" } else { "smtp" };
        self.logs.line(host, at, format!("postfix/{daemon}[{}]: {qid}: to=<{to}>,{orig} relay={relay}, delay=1.2, delays=0.1/0.01/0.5/0.59, dsn={dsn}, status={status} ({reply})", 4000 + self.rng.below(900)));
    }

    fn removed(&mut self, host: &'static str, at: u64, qid: &str) {
        self.logs.line(host, at, format!("postfix/qmgr[1100]: {qid}: removed"));
    }

    /// `mbox1` takes a message from `client` for `rcpts` (address, expanded into): LMTP to
    /// Dovecot. Returns its queue id and each recipient's end.
    fn mailbox(
        &mut self,
        at: u64,
        client: (&str, &str),
        from: &str,
        mid: &str,
        rcpts: &[(String, Vec<String>)],
    ) -> (String, Vec<End>) {
        let n = rcpts.len();
        let qid = self.postfix_in("mbox1", at, client, from, mid, n);
        let mut ends = Vec::new();
        let mut deferred = false;
        for (address, into) in rcpts {
            let mut mine = Vec::new();
            for to in into {
                let orig = (into.len() > 1 || to != address).then_some(address.as_str());
                let t = at + 1;
                let roll = self.rng.below(100);
                let (status, folder) = if roll < 8 {
                    let reply = format!("host mbox1.example.com[private/dovecot-lmtp] said: 550 5.1.1 <{to}> User doesn't exist: {to} (in reply to RCPT TO command)");
                    self.postfix_out(
                        "mbox1",
                        t,
                        &qid,
                        (to, orig),
                        "mbox1.example.com[private/dovecot-lmtp]",
                        ("5.1.1", "bounced", &reply),
                    );
                    ("bounced", None)
                } else if roll < 14 {
                    let reply = format!("host mbox1.example.com[private/dovecot-lmtp] said: 452 4.2.2 <{to}> Mailbox is full / Quota exceeded (in reply to RCPT TO command)");
                    self.postfix_out(
                        "mbox1",
                        t,
                        &qid,
                        (to, orig),
                        "mbox1.example.com[private/dovecot-lmtp]",
                        ("4.2.2", "deferred", &reply),
                    );
                    deferred = true;
                    ("deferred", None)
                } else {
                    let folder = if roll < 24 { "Junk" } else { "INBOX" };
                    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                    let session: String = (0..22).map(|_| B64[self.rng.below(64) as usize] as char).collect();
                    let pid = 5000 + self.rng.below(900);
                    self.logs.line(
                        "mbox1",
                        t,
                        format!("dovecot: lmtp({to})<{pid}><{session}>: msgid=<{mid}>: saved mail to {folder}"),
                    );
                    let reply = format!("250 2.0.0 <{to}> {session} Saved");
                    self.postfix_out(
                        "mbox1",
                        t,
                        &qid,
                        (to, orig),
                        "mbox1.example.com[private/dovecot-lmtp]",
                        ("2.0.0", "sent", &reply),
                    );
                    // a copy filed into Junk is counted as spam
                    (
                        if folder == "Junk" { "spam" } else { "delivered" },
                        Some(folder.to_string()),
                    )
                };
                mine.push(End {
                    address: address.clone(),
                    final_status: status.into(),
                    final_host: "mbox1".into(),
                    final_folder: folder,
                });
            }
            ends.push(summary(mine));
        }
        if !deferred {
            self.removed("mbox1", at + 2, &qid);
        }
        (qid, ends)
    }

    /// Local recipients of one message, each user once: an alias (two users) now and then.
    fn local_recipients(&mut self) -> Vec<(String, Vec<String>)> {
        let start = self.rng.below(8) as usize;
        let mut users = (0..8).map(|i| format!("{}@example.com", USERS[(start + i * 3) % 8]));
        let mut out = Vec::new();
        if self.rng.chance(10) {
            let into: Vec<String> = users.by_ref().take(2).collect();
            out.push(("team@example.com".to_string(), into));
        }
        for u in users.take(1 + self.rng.below(2) as usize) {
            out.push((u.clone(), vec![u]));
        }
        out
    }

    /// Inbound through `mx1` and amavis to `mbox1`.
    fn inbound_postfix(&mut self, at: u64, mid: String, from: &str) {
        let rcpts = self.local_recipients();
        let n = rcpts.len();
        let remote = ("smtp.sender.example", "192.0.2.120");
        let first = self.postfix_in("mx1", at, remote, from, &mid, n);
        let child = self.postfix_in("mx1", at + 2, ("localhost", "127.0.0.1"), from, &mid, n);
        for (address, _) in &rcpts {
            let reply = format!("250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {child}");
            self.postfix_out(
                "mx1",
                at + 2,
                &first,
                (address, None),
                "127.0.0.1[127.0.0.1]:10024",
                ("2.0.0", "sent", &reply),
            );
        }
        self.logs.line("mx1", at + 2, format!("amavis[2130]: (02130-{:02}) Passed CLEAN {{RelayedInbound}}, [192.0.2.120]:40112 [192.0.2.120] <{from}> -> <{}>, Queue-ID: {first}, Message-ID: <{mid}>, mail_id: x{}, Hits: -0.9, size: 3000, queued_as: {child}, 2018 ms", self.ids % 100, rcpts[0].0, self.ids));
        self.removed("mx1", at + 2, &first);
        let (qid, ends) = self.mailbox(at + 3, ("mx1.example.com", "10.0.0.10"), from, &mid, &rcpts);
        for (address, _) in &rcpts {
            let reply = format!("250 2.0.0 Ok: queued as {qid}");
            self.postfix_out(
                "mx1",
                at + 3,
                &child,
                (address, None),
                "mbox1.example.com[10.0.0.20]:25",
                ("2.0.0", "sent", &reply),
            );
        }
        self.removed("mx1", at + 3, &child);
        self.truths.push(Truth {
            hops: vec![format!("mx1:{first}"), format!("mbox1:{qid}")],
            ends,
        });
        self.message_ids.push((mid, "mx1"));
    }

    /// Inbound through the Exim edge `gw1` to `mbox1`.
    fn inbound_exim(&mut self, at: u64, mid: String, from: &str) {
        let rcpts = self.local_recipients();
        let id = self.exim_id(at);
        let date = |t: u64| time_at(t).format("%Y-%m-%d %H:%M:%S").to_string();
        let list: Vec<&str> = rcpts.iter().map(|r| r.0.as_str()).collect();
        self.logs.line("gw1", at, format!("exim[7201]: {} {id} <= {from} H=mail.partner.example [198.51.100.40]:51300 I=[192.0.2.10]:25 P=esmtps S=3100 id={mid} for {}", date(at), list.join(" ")));
        let (qid, ends) = self.mailbox(at + 1, ("gw1.example.com", "10.0.0.11"), from, &mid, &rcpts);
        for (i, (address, _)) in rcpts.iter().enumerate() {
            let arrow = if i == 0 { "=>" } else { "->" };
            self.logs.line("gw1", at + 1, format!("exim[7202]: {} {id} {arrow} {address} R=internal_relay T=remote_smtp H=mbox1.example.com [10.0.0.20] C=\"250 2.0.0 Ok: queued as {qid}\"", date(at + 1)));
        }
        self.logs
            .line("gw1", at + 1, format!("exim[7202]: {} {id} Completed", date(at + 1)));
        self.truths.push(Truth {
            hops: vec![format!("gw1:{id}"), format!("mbox1:{qid}")],
            ends,
        });
        self.message_ids.push((mid, "gw1"));
    }

    /// Outbound: `sub1` → `relay1` → the internet; a bounce's notice goes to `mbox1`.
    fn outbound(&mut self, at: u64, mid: String) {
        let sender = format!("{}@example.com", USERS[self.rng.below(8) as usize]);
        let n = 1 + self.rng.below(2) as usize;
        let rcpts: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "user{}@{}",
                    self.rng.below(50),
                    REMOTES[i].0.trim_start_matches("mx.").trim_start_matches("mail.")
                )
            })
            .collect();
        let pid = 5100 + self.rng.below(800);
        let sub = self.postfix_id();
        let l = &mut self.logs;
        l.line(
            "sub1",
            at,
            format!("postfix/submission/smtpd[{pid}]: connect from unknown[198.51.100.23]"),
        );
        l.line("sub1", at, format!("postfix/submission/smtpd[{pid}]: {sub}: client=unknown[198.51.100.23], sasl_method=PLAIN, sasl_username={sender}"));
        l.line("sub1", at, format!("postfix/cleanup[5110]: {sub}: message-id=<{mid}>"));
        l.line(
            "sub1",
            at,
            format!("postfix/qmgr[5005]: {sub}: from=<{sender}>, size=3507, nrcpt={n} (queue active)"),
        );
        l.line("sub1", at + 1, format!("postfix/submission/smtpd[{pid}]: disconnect from unknown[198.51.100.23] ehlo=2 auth=1 mail=1 rcpt={n} data=1 quit=1 commands={}", n + 5));
        let relay = self.postfix_in("relay1", at + 1, ("sub1.example.com", "10.0.0.40"), &sender, &mid, n);
        for r in &rcpts {
            let reply = format!("250 2.0.0 Ok: queued as {relay}");
            self.postfix_out(
                "sub1",
                at + 1,
                &sub,
                (r, None),
                "relay1.example.com[10.0.0.30]:25",
                ("2.0.0", "sent", &reply),
            );
        }
        self.removed("sub1", at + 1, &sub);
        let mut ends = Vec::new();
        let mut bounced = false;
        let mut deferred = false;
        for (i, r) in rcpts.iter().enumerate() {
            let (name, ip) = REMOTES[i];
            let t = at + 3;
            let relay_field = format!("{name}[{ip}]:25");
            let roll = self.rng.below(100);
            let status = if roll < 10 {
                let reply = format!("host {name}[{ip}] said: 550 5.1.1 <{r}>: Recipient address rejected: User unknown (in reply to RCPT TO command)");
                self.postfix_out(
                    "relay1",
                    t,
                    &relay,
                    (r, None),
                    &relay_field,
                    ("5.1.1", "bounced", &reply),
                );
                bounced = true;
                "bounced"
            } else if roll < 15 {
                let reply =
                    format!("host {name}[{ip}] said: 451 4.7.1 Please try again later (in reply to RCPT TO command)");
                self.postfix_out(
                    "relay1",
                    t,
                    &relay,
                    (r, None),
                    &relay_field,
                    ("4.7.1", "deferred", &reply),
                );
                deferred = true;
                "deferred"
            } else {
                let reply = format!("250 2.0.0 Ok: queued as R{:09X}", self.rng.below(1 << 36));
                self.postfix_out("relay1", t, &relay, (r, None), &relay_field, ("2.0.0", "sent", &reply));
                "delivered"
            };
            ends.push(End {
                address: r.clone(),
                final_status: status.into(),
                final_host: "relay1".into(),
                final_folder: None,
            });
        }
        if bounced {
            // the notice to the sender, through the mailbox server
            let t = at + 4;
            let notice = self.postfix_id();
            let l = &mut self.logs;
            l.line(
                "relay1",
                t,
                format!(
                    "postfix/cleanup[6202]: {notice}: message-id=<{}.{notice}@relay1.example.com>",
                    20261124
                ),
            );
            l.line(
                "relay1",
                t,
                format!("postfix/bounce[6205]: {relay}: sender non-delivery notification: {notice}"),
            );
            l.line(
                "relay1",
                t,
                format!("postfix/qmgr[1100]: {notice}: from=<>, size=5210, nrcpt=1 (queue active)"),
            );
            let nmid = format!("20261124.{notice}@relay1.example.com");
            let (q, notice_ends) = self.mailbox(
                t + 1,
                ("relay1.example.com", "10.0.0.30"),
                "",
                &nmid,
                &[(sender.clone(), vec![sender.clone()])],
            );
            let reply = format!("250 2.0.0 Ok: queued as {q}");
            self.postfix_out(
                "relay1",
                t + 1,
                &notice,
                (&sender, None),
                "mbox1.example.com[10.0.0.20]:25",
                ("2.0.0", "sent", &reply),
            );
            self.removed("relay1", t + 1, &notice);
            self.truths.push(Truth {
                hops: vec![format!("relay1:{notice}"), format!("mbox1:{q}")],
                ends: notice_ends,
            });
        }
        if !deferred {
            self.removed("relay1", at + 5, &relay);
        }
        self.truths.push(Truth {
            hops: vec![format!("sub1:{sub}"), format!("relay1:{relay}")],
            ends,
        });
    }
}

/// The end furthest from delivered, as a row gives it for an expanded recipient.
fn summary(mut ends: Vec<End>) -> End {
    let rank = |s: &str| match s {
        "deferred" => 0,
        "bounced" => 1,
        "spam" => 2,
        _ => 3,
    };
    ends.sort_by_key(|e| rank(&e.final_status));
    ends.swap_remove(0)
}

/// Writes `messages` messages' logs into `dir` (`HOST.log` per server) and returns their paths.
pub fn generate(dir: &Path, messages: usize, seed: u64) -> io::Result<Vec<Truth>> {
    let mut site = Site {
        rng: Rng(seed),
        logs: Logs::default(),
        ids: seed % 7919,
        truths: Vec::new(),
        message_ids: Vec::new(),
    };
    let mut at = 0u64;
    for k in 0..messages {
        at += 10 + site.rng.below(40);
        let from = SENDERS[site.rng.below(5) as usize];
        let roll = site.rng.below(100);
        if roll < 5 && !site.message_ids.is_empty() {
            // a Message-ID seen hours before arrives again: a path of its own
            let i = site.rng.below(site.message_ids.len() as u64) as usize;
            let (mid, _) = site.message_ids[i].clone();
            site.inbound_postfix(at, mid, from);
        } else if roll < 55 {
            site.inbound_postfix(
                at,
                format!("{k}.{seed}@{}", from.split('@').nth(1).unwrap_or("example")),
                from,
            );
        } else if roll < 70 {
            site.inbound_exim(
                at,
                format!("e{k}.{seed}@{}", from.split('@').nth(1).unwrap_or("example")),
                from,
            );
        } else {
            site.outbound(at, format!("{k:08x}-{seed:x}@example.com"));
        }
    }
    for (host, mut lines) in site.logs.lines {
        lines.sort();
        let mut w = io::BufWriter::new(std::fs::File::create(dir.join(format!("{host}.log")))?);
        for (_, _, text) in lines {
            writeln!(w, "{text}")?;
        }
        w.flush()?;
    }
    let mut w = io::BufWriter::new(std::fs::File::create(dir.join("truth.jsonl"))?);
    for t in &site.truths {
        serde_json::to_writer(&mut w, t)?;
        writeln!(w)?;
    }
    w.flush()?;
    Ok(site.truths)
}

/// The servers' logs [`generate`] wrote into `dir`, in name order.
#[allow(dead_code)]
pub fn logs(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "log") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Checks rows (`search --format ndjson` over the generated logs) against `truths`: every row
/// is a hop of a path; each first hop's rows name the second hop as `next_hop` and end where
/// the path ends; each second hop's rows name the first as `prev_hop`. Returns the paths
/// checked, or what differs.
#[allow(dead_code)]
pub fn check(rows: &str, truths: &[Truth]) -> Result<usize, String> {
    let mut by_hop: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for line in rows.lines() {
        let r: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let hop = format!(
            "{}:{}",
            r["host"].as_str().unwrap_or(""),
            r["queue_id"].as_str().unwrap_or("")
        );
        by_hop.entry(hop).or_default().push(r);
    }
    let hops: std::collections::HashSet<&String> = truths.iter().flat_map(|t| &t.hops).collect();
    if let Some(stray) = by_hop.keys().find(|h| !hops.contains(h)) {
        return Err(format!("a row of {stray}, on no path"));
    }
    for t in truths {
        let first = by_hop.get(&t.hops[0]).ok_or(format!("no row of {}", t.hops[0]))?;
        for end in &t.ends {
            let row = first
                .iter()
                .find(|r| r["to"] == end.address.as_str())
                .ok_or(format!("{}: no row for {}", t.hops[0], end.address))?;
            let want = serde_json::json!({
                "next_hop": t.hops[1],
                "final_status": end.final_status,
                "final_host": end.final_host,
                "final_folder": end.final_folder,
            });
            let got = serde_json::json!({
                "next_hop": row["next_hop"],
                "final_status": row["final_status"],
                "final_host": row["final_host"],
                "final_folder": row["final_folder"],
            });
            if got != want {
                return Err(format!("{} → {}: {got} instead of {want}", t.hops[0], end.address));
            }
        }
        for r in by_hop.get(&t.hops[1]).ok_or(format!("no row of {}", t.hops[1]))? {
            if r["prev_hop"] != t.hops[0].as_str() {
                return Err(format!(
                    "{}: prev_hop {} instead of {}",
                    t.hops[1], r["prev_hop"], t.hops[0]
                ));
            }
        }
    }
    Ok(truths.len())
}

/// Checks `search --end-to-end` rows (ndjson) against the paths: per recipient of a path's
/// first hop, the rows its path ends in (an alias expanded further on ends in each member:
/// the one furthest from delivered is the path's end), each naming the hops it crossed; and
/// no row that starts anywhere but at a path's first hop. Returns the rows checked.
#[allow(dead_code)]
pub fn check_end_to_end(rows: &str, truths: &[Truth]) -> Result<usize, String> {
    const ORDER: [&str; 10] = [
        "in-progress",
        "deferred",
        "bounced",
        "expired",
        "rejected",
        "quarantined",
        "spam",
        "discarded",
        "expanded",
        "delivered",
    ];
    let mut by_first: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut count = 0;
    for line in rows.lines() {
        let r: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let first = r["hops"][0].as_str().ok_or(format!("a row without hops: {line}"))?;
        by_first.entry(first.to_string()).or_default().push(r);
        count += 1;
    }
    let starts: std::collections::HashSet<&String> = truths.iter().map(|t| &t.hops[0]).collect();
    if let Some(stray) = by_first.keys().find(|h| !starts.contains(h)) {
        return Err(format!("a row starting at {stray}, the start of no path"));
    }
    let mut used = 0;
    for t in truths {
        let rows = by_first
            .get(&t.hops[0])
            .ok_or(format!("no row starting at {}", t.hops[0]))?;
        for end in &t.ends {
            let mine: Vec<&serde_json::Value> = rows
                .iter()
                .filter(|r| {
                    r["orig_to"] == end.address.as_str() || (r["to"] == end.address.as_str() && r["orig_to"].is_null())
                })
                .collect();
            let name = format!("{} → {}", t.hops[0], end.address);
            let worst = mine
                .iter()
                .filter_map(|r| r["status"].as_str())
                .min_by_key(|s| ORDER.iter().position(|o| o == s).unwrap_or(0))
                .ok_or(format!("{name}: no row"))?;
            if worst != end.final_status {
                return Err(format!("{name}: {worst} instead of {}", end.final_status));
            }
            for r in &mine {
                let hops: Vec<&str> = r["hops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|h| h.as_str())
                    .collect();
                let host = hops.last().and_then(|h| h.split_once(':')).map(|h| h.0);
                if !t
                    .hops
                    .iter()
                    .map(String::as_str)
                    .take(hops.len())
                    .eq(hops.iter().copied())
                    || host != Some(end.final_host.as_str())
                    || r["final_host"] != end.final_host.as_str()
                {
                    return Err(format!(
                        "{name}: hops {hops:?}, path {:?} ending at {}",
                        t.hops, end.final_host
                    ));
                }
            }
            if mine.len() == 1 && mine[0]["folder"] != serde_json::json!(end.final_folder) {
                return Err(format!(
                    "{name}: folder {} instead of {:?}",
                    mine[0]["folder"], end.final_folder
                ));
            }
            used += mine.len();
        }
    }
    if used != count {
        return Err(format!("{count} rows, {used} of them ends of the paths"));
    }
    Ok(count)
}

#[allow(dead_code)]
fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut messages, mut out, mut seed) = (1000usize, None, 1u64);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match a.as_str() {
            "--messages" => messages = value().parse().expect("--messages N"),
            "--out" => out = Some(value()),
            "--seed" => seed = value().parse().expect("--seed N"),
            _ => {
                eprintln!("usage: genpath --messages N --out DIR [--seed N]");
                std::process::exit(2);
            }
        }
    }
    let Some(out) = out else {
        eprintln!("usage: genpath --messages N --out DIR [--seed N]");
        std::process::exit(2);
    };
    std::fs::create_dir_all(&out)?;
    let truths = generate(Path::new(&out), messages, seed)?;
    eprintln!("{} paths written to {out}", truths.len());
    Ok(())
}
