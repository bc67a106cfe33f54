//! The `mailtrace` command line: argument parsing only; the work is in `mailtrace::app`.

/// mimalloc: the pipeline allocates small strings on one thread and frees them on another
/// (traces are taken on their own thread); glibc's allocator locks arenas for that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use mailtrace::app::{self, exit, Common};
use mailtrace::output::Format;
use mailtrace::query::{self, Criteria};

#[derive(Parser)]
#[command(
    name = "mailtrace",
    version,
    about = "Message Trace for Postfix and Exim: did the mail from X to Y arrive, and if not, why?",
    after_help = "\
Examples:
  mailtrace index /var/log/mail.log.1 /var/log/mail.log     (once, then as often as you like)
  mailtrace search --to alice@example.com --last 24h
  mailtrace search --from @partner.example --status bounced --status deferred
  mailtrace show 3CE6B37C010
  mailtrace show '<20261110000728.00Vz5f2e29@uni-example.edu>'
  mailtrace search --log /var/log/mail.log --to alice@example.com    (no store: read the file)
  mailtrace stats --log mail.log
  mailtrace serve                      (the web page, at http://127.0.0.1:8025/)

The store is --store DIR, else $MAILTRACE_STORE, else ~/.local/share/mailtrace; or a ClickHouse
cluster: --store 'clickhouse://mt@ch1:8123/mail?cluster=logs' (see `mailtrace store init --help`).
Exit codes: 0 found, 1 nothing matched, 2 usage or input error, 3 index skipped some files
(or found no mail log line in one)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
enum Command {
    /// Find messages by sender, recipient, subject, status… (one row per recipient)
    #[command(after_help = "\
Examples (from the store that `mailtrace index` fills):
  mailtrace search --to alice@example.com
  mailtrace search --from '*@*.ru' --status rejected --format csv > rejects.csv
  mailtrace search --subject invoice --subject 'order 12' --since '2026-11-10 08:00'
  mailtrace search --client-ip 203.0.113.0/24 --direction inbound --format ndjson
Without a store, straight from the files (a full read per question):
  mailtrace search --log /var/log/mail.log.1 --log /var/log/mail.log --to bob@example.com --last 24h

Across servers (several servers' logs in one store, or --log with each server's file):
  mailtrace search --end-to-end --client-ip 192.0.2.0/24 --status bounced
      (arrived at the edge from that network, bounced further on, e.g. at the mailbox server)
  mailtrace search --end-to-end --to alice@example.com --last 24h

Address patterns: exact (a@b.com), domain (@b.com, includes subdomains), wildcard (*invoice*@*),
and <> for the null sender. Matching is case-insensitive. --to also matches the original
recipient before alias expansion. Several patterns, comma-separated or the option repeated,
match any of them:
  mailtrace search --to alice@example.com,bob@example.com --from @partner.example --from '<>'

--end-to-end prints one row per original message and final recipient: the first server's time,
sender, client and subject; the last server's recipient, status, reply and folder; `hops` lists
the servers' legs. --from, --subject, --client-ip and --direction then apply to the first leg,
--status and --folder to where the recipient ends, --to, --host, --queue-id, --message-id, the
checks and the time window to any leg on the way.")]
    Search {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        criteria: CriteriaArgs,
        /// Output format (default: table on a terminal, ndjson otherwise)
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Most rows to print (default 1000 for the table, no limit otherwise; 0 = no limit)
        #[arg(long)]
        limit: Option<usize>,
        /// Also search the archive tier (days past the hot window); implied by --since before
        /// the first hot day
        #[arg(long)]
        historical: bool,
        /// One row per original message and final recipient, across servers, with the
        /// criteria over the whole delivery path
        #[arg(long)]
        end_to_end: bool,
        /// The table with every cell whole, wrapped (by default a row takes one line, its
        /// cells cut with … to fit the terminal)
        #[arg(long)]
        wide: bool,
    },
    /// Show one message's whole timeline, with every log line, by queue id, Message-ID or trace id
    #[command(after_help = "\
Examples:
  mailtrace show 0859737C64D
  mailtrace show 20261110000728.00Vz5f2e29@uni-example.edu --format json
  mailtrace show 0859737C64D --log mail.log        (no store: read the file)")]
    Show {
        /// A queue id (any of the message's, e.g. before or after the content filter), a Message-ID or a trace_id
        id: String,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
    },
    /// Read log files into the store, once: later searches answer in milliseconds
    #[command(after_help = "\
Examples:
  mailtrace index /var/log/mail.log
  mailtrace index --store /var/lib/mailtrace /var/log/mail.log*     (a rotated set, .gz too)
  mailtrace index /var/log/exim4/                                   (every file in it)
  zcat old/mail.log.*.gz | mailtrace index -                        (standard input)
  journalctl -o json | mailtrace index --journal -                  (journald)
  mailtrace search --to alice@example.com --last 24h        (reads the store)

Run it as often as you like (e.g. every few minutes from cron or a systemd timer): files are
recognised by their first KiB, so a file read before, renamed by logrotate (mail.log →
mail.log.1) or grown since, is read on from where the last run stopped. Messages still in
flight at the end are kept and completed by the next run. A rotated set (mail.log.3.gz …
mail.log.1, mail.log; or mail.log-20261122.gz …) is read oldest first whatever the order given;
gzip, zstd, bzip2 and xz files are read as they are.

Exit codes: 0 done, 2 error (nothing new committed; the next run redoes it),
3 done but some files were skipped or damaged (listed in the summary).")]
    Index {
        /// Log files, directories or quoted globs (plain or compressed; rotated sets are
        /// read oldest first); `-` for standard input
        #[arg(value_name = "PATH", required_unless_present = "journals")]
        paths: Vec<PathBuf>,
        /// journald output to read: `journalctl -o json` or `-o export`, saved to FILE or
        /// piped (`-`)
        #[arg(long = "journal", value_name = "FILE")]
        journals: Vec<PathBuf>,
        /// Store directory (default: $MAILTRACE_STORE, else ~/.local/share/mailtrace; for a
        /// service, /var/lib/mailtrace)
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
        /// Summary format: text on stderr, or JSON on stdout
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
        /// Commit at least every N MB of input, so an interrupted run keeps what it did
        /// (0: only at the end of each file)
        #[arg(long, value_name = "MB", default_value_t = 256)]
        commit_every: u64,
    },
    /// Tail live logs into the store, committing every few seconds
    #[command(after_help = "\
Examples:
  mailtrace follow /var/log/mail.log
  mailtrace follow --store /var/lib/mailtrace /var/log/mail.log /var/log/exim4/mainlog

Every --interval seconds the files are read on from where they were left and what was read is
committed: a search sees a message seconds after it is logged. Rotation is followed, both
rename-and-create and copytruncate: the rest of the old file is read from where logrotate put
it (mail.log.1, also compressed), then the new file. A file that does not exist yet is waited
for. A restart goes on where the last run stopped (nothing lost or read twice). Ctrl-C or
SIGTERM commits and exits. One writer at a time: do not run `index` on the same store
meanwhile. docs/CLI.md has a systemd unit.

Exit codes: 0 stopped cleanly, 2 error.")]
    Follow {
        /// Log files to follow (plain or compressed, as they grow); default: the config's
        /// [follow] logs
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// journald output written to a file as it comes (`journalctl -f -o json > FILE`)
        #[arg(long = "journal", value_name = "FILE")]
        journals: Vec<PathBuf>,
        /// Store directory (default: $MAILTRACE_STORE, else ~/.local/share/mailtrace; for a
        /// service, /var/lib/mailtrace)
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        /// Seconds between reads (and commits) (default: the config's [follow] interval, else 2)
        #[arg(long, value_name = "SECS")]
        interval: Option<f64>,
        /// Serve the follower's metrics (Prometheus text format) at http://ADDR/metrics
        #[arg(long, value_name = "ADDR:PORT")]
        metrics: Option<String>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Write the raw log lines the store keeps, byte for byte, for forensics or other tools
    #[command(after_help = "\
Examples:
  mailtrace replay --since '2026-11-20 00:00' --until '2026-11-21 00:00' > nov20.log
  mailtrace replay --to bob@example.com --since 2026-10-01        (the lines of his messages)
  mailtrace replay --last 1h --format ndjson | jq .file

Lines come in the order they were read, exactly as they were (invalid UTF-8 and all), from
the hot tier and the archives alike. With only --since/--until (or --last), every line of the
window; with other criteria, the lines of the matching messages. --format ndjson adds the
source file and byte offset of each line.

Exit codes: 0 lines written, 1 none, 2 error.")]
    Replay {
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        #[command(flatten)]
        criteria: CriteriaArgs,
        #[command(flatten)]
        read: ReadArgs,
        /// raw: the lines as they were; ndjson: with their file and offset
        #[arg(long, value_enum, default_value = "raw")]
        format: ReplayFormat,
    },
    /// Move days past the hot window into zstd archives; delete days past the archive window
    #[command(after_help = "\
Examples:
  mailtrace maintain --store /var/lib/mailtrace
  mailtrace maintain --hot-days 10 --archive-days 90 --now 2026-11-23T00:00:00Z

A day stays hot (searched by default) for --hot-days days, today included; then it is
compacted into one archive file (searched with `search --historical`, or a --since before the
hot days; `show` finds archived messages too), written and checked before the hot day is
removed. Days older than --archive-days are deleted. Run it daily (cron or a systemd timer).

Exit codes: 0 done, 2 error (every day is still in one tier or both; run it again).")]
    Maintain {
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        /// Days kept in the hot tier, today included (default: the config's [maintain]
        /// hot_days, else 10)
        #[arg(long)]
        hot_days: Option<u32>,
        /// Days kept at all, today included (hot + archive) (default: the config's
        /// [maintain] archive_days, else 90)
        #[arg(long)]
        archive_days: Option<u32>,
        #[command(flatten)]
        read: ReadArgs,
        /// Report format: text, or JSON for scripts
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
    },
    /// Write one day's archive (checked first), to move it to another machine
    #[command(
        after_help = "Example:\n  mailtrace export --day 2026-10-02 > 2026-10-02.mtar\n  mailtrace export --day 2026-10-02 --out /backup/2026-10-02.mtar"
    )]
    Export {
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        /// The day (UTC), YYYY-MM-DD
        #[arg(long)]
        day: chrono::NaiveDate,
        /// Write here instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Put exported archives into the store's archive tier (each checked first)
    #[command(after_help = "Example:\n  mailtrace import --store /var/lib/mailtrace /backup/2026-10-*.mtar")]
    Import {
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        /// Replace an archive of the same day
        #[arg(long)]
        replace: bool,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Check every archive's checksums; name the damaged ones and where
    #[command(
        after_help = "Example:\n  mailtrace verify --store /var/lib/mailtrace\n\nExit codes: 0 all whole, 1 some damaged, 2 error."
    )]
    Verify {
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
    },
    /// What the store holds
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Serve the trace as a web page (search form, results, message timelines, CSV) and a JSON API
    #[command(after_help = "\
Examples:
  mailtrace serve                                   (then open http://127.0.0.1:8025/)
  mailtrace serve --store /var/lib/mailtrace --listen 127.0.0.1:9000
  ssh -L 8025:127.0.0.1:8025 mailhost               (from your desktop: the page of a server)
  mailtrace serve --listen 0.0.0.0:8025 --token-file /etc/mailtrace/token
  curl -s 'http://127.0.0.1:8025/api/search?to=alice@example.com&last=24h' | jq '.rows[].status'

The page reads the same store as the CLI, afresh for every request, so what `index` or
`follow` commits shows up at the next search. The API takes the criteria of `search` under
the same names (from, to, subject, message_id, queue_id, status, direction, client_ip, host,
since, until, last, historical) and answers with the same rows (docs/API.md).

It listens on loopback only unless given --token-file: on any other address it refuses to
start without one. With a token, every API call needs `Authorization: Bearer TOKEN` (the
page asks for it once per browser tab). Ctrl-C or SIGTERM stops it.

Exit codes: 0 stopped cleanly, 2 error (e.g. address in use, no token for a public address).")]
    Serve {
        /// Store directory to read (default: $MAILTRACE_STORE, else ~/.local/share/mailtrace)
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        /// Address and port to listen on; anything but loopback needs --token-file (default:
        /// the config's [serve] listen, else 127.0.0.1:8025)
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
        /// File whose first line is the secret every API call must send as a bearer token
        /// (default: the config's [serve] token_file)
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Zone of since/until without an offset when a request names none: IANA name, UTC or
        /// local (default: local)
        #[arg(long)]
        timezone: Option<String>,
        /// Take this as the current time for `last` (RFC 3339); default: $MAILTRACE_NOW, else
        /// the clock
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// Config file (TOML: timezone); default: $MAILTRACE_CONFIG
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// A day's overview, as pflogsumm gives: volume per hour, top senders and recipients,
    /// rejects by reason, bounce and deferral replies, delivery times
    #[command(after_help = "\
Examples:
  mailtrace report                                   (the last 24 hours, from the store)
  mailtrace report --since yesterday --until today --format html > report.html
  mailtrace report --log /var/log/mail.log --direction inbound --top 20
  mailtrace report --last 7d --format json | jq .rejects_by_reason

Takes the criteria of `search` (a report of what they find); without --since/--until/--last,
the last 24 hours. HTML is one page with inline charts, no script, to mail or open from disk.

Exit codes: 0 done, 1 nothing in the window (the report says zero), 2 error.")]
    Report {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        criteria: CriteriaArgs,
        /// text, html (one page with charts) or json
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormatArg,
        /// How many entries each top list holds
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Also read the archive tier
        #[arg(long)]
        historical: bool,
    },
    /// Shell completions (bash, zsh, fish, elvish, powershell), written to standard output
    #[command(after_help = "\
Examples:
  mailtrace completions bash > ~/.local/share/bash-completion/completions/mailtrace
  mailtrace completions zsh > ~/.zfunc/_mailtrace        (with fpath+=~/.zfunc in .zshrc)
  mailtrace completions fish > ~/.config/fish/completions/mailtrace.fish
The Debian package installs them for every user.")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (mailtrace.1 and one per command) into a directory
    #[command(after_help = "\
Example:
  mailtrace man --out ~/.local/share/man/man1 && man mailtrace-search
The Debian package installs them (man mailtrace).")]
    Man {
        /// Directory to write the pages into (created if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Count lines, events per program, unrecognised lines (with examples) and statuses
    #[command(after_help = "Example:\n  mailtrace stats --log /var/log/mail.log --log /var/log/mail.log.1")]
    Stats {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
    },
}

#[derive(Args)]
struct CommonArgs {
    /// Log file, directory or quoted glob to read instead of the store (repeatable; plain or
    /// compressed; rotated sets are read oldest first)
    #[arg(long = "log", value_name = "PATH", num_args = 1..)]
    logs: Vec<PathBuf>,
    /// journald output to read instead of the store: `journalctl -o json` or `-o export`,
    /// saved to FILE or piped (`-`) (repeatable)
    #[arg(long = "journal", value_name = "FILE")]
    journals: Vec<PathBuf>,
    /// Store to read: a directory, or clickhouse://[USER@]HOST:PORT/DB[?cluster=NAME]
    /// (default: $MAILTRACE_STORE, else ~/.local/share/mailtrace)
    #[arg(long, value_name = "DIR|URL")]
    store: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

/// How to read log lines.
#[derive(Args, Default)]
struct ReadArgs {
    /// Year of the first line of each file with BSD timestamps (default: from the file's modification time)
    #[arg(long)]
    year: Option<i32>,
    /// Zone of BSD timestamps and of --since/--until without an offset: IANA name, UTC or local (default: local)
    #[arg(long)]
    timezone: Option<String>,
    /// Domains that are yours, for direction (comma-separated, repeatable)
    #[arg(long, value_name = "DOMAINS")]
    local_domains: Vec<String>,
    /// Networks that are yours, for direction (CIDR, comma-separated, repeatable)
    #[arg(long, value_name = "CIDRS")]
    local_networks: Vec<String>,
    /// Take this as the current time (RFC 3339, or `YYYY-MM-DD HH:MM` in --timezone) for what
    /// depends on today's date (--last, the tiers); default: $MAILTRACE_NOW, else the clock
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Config file (TOML: local_domains, local_networks, timezone); default: $MAILTRACE_CONFIG
    #[arg(long)]
    config: Option<PathBuf>,
    /// Host name for lines that carry none (Exim's own main log, which names no host): it
    /// goes in the `host` column and the trace ids
    #[arg(long, value_name = "NAME")]
    default_host: Option<String>,
    /// Threads that parse log lines while one more assembles messages (default: one per
    /// core; 1 reads on one thread)
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    #[command(flatten)]
    access: AccessArgs,
}

/// How to reach a ClickHouse store (`--store clickhouse://…`).
#[derive(Args, Default, Clone)]
struct AccessArgs {
    /// ClickHouse store: file whose first line is the user's password (default:
    /// $MAILTRACE_CLICKHOUSE_PASSWORD; never put it in the address)
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// ClickHouse store: where `index`/`follow` keep their reading state on this machine
    /// (default: ~/.local/state/mailtrace/clickhouse-HOST-PORT-DB)
    #[arg(long = "state", value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// ClickHouse store: when a shard does not answer, answer from the others (and say which
    /// is missing) instead of failing
    #[arg(long)]
    partial: bool,
}

impl AccessArgs {
    fn into_access(self) -> mailtrace::store::backend::Access {
        mailtrace::store::backend::Access {
            password_file: self.password_file,
            state_dir: self.state_dir,
            partial: self.partial,
        }
    }
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Days held, rows, messages and size on disk per tier, and the files read
    #[command(after_help = "Examples:\n  mailtrace store info --store /var/lib/mailtrace\n  \
mailtrace store info --store 'clickhouse://mt@ch1:8123/mail?cluster=logs'")]
    Info {
        #[arg(long, value_name = "DIR|URL")]
        store: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: ShowFormat,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// Create the tables of a ClickHouse store (on every shard), or print their DDL
    #[command(after_help = "\
Examples:
  mailtrace store init --store clickhouse://mt@ch1:8123/mail              (one server)
  mailtrace store init --store 'clickhouse://mt@ch1:8123/mail?cluster=logs' \\
      --shard clickhouse://mt@ch1:8123/mail --shard clickhouse://mt@ch2:8123/mail
  mailtrace store init --store 'clickhouse://ch1:8123/mail?cluster=logs' --print   (DDL for a DBA)

Each shard gets the database, the local tables (traces_local, lines_local, meta) and, with
?cluster=NAME, the Distributed tables (traces, lines) over that remote_servers cluster. Running
it again changes nothing. --print writes the ON CLUSTER form instead (it needs ZooKeeper or
ClickHouse Keeper; docs/FLEET.md has the replicated form). The embedded store needs no init.

Exit codes: 0 done, 2 error.")]
    Init {
        /// The store's address: clickhouse://[USER@]HOST:HTTP_PORT/DATABASE[?cluster=NAME]
        #[arg(long, value_name = "URL")]
        store: Option<PathBuf>,
        /// A shard's own address (repeatable; default: the store's server alone)
        #[arg(long, value_name = "URL")]
        shard: Vec<String>,
        /// Print the DDL (ON CLUSTER form) instead of running it
        #[arg(long)]
        print: bool,
        #[command(flatten)]
        access: AccessArgs,
    },
}

#[derive(Args)]
struct CriteriaArgs {
    /// Envelope sender (exact, @domain, * wildcards, <> for bounces); a comma list or repeated:
    /// any of them
    #[arg(long)]
    from: Vec<String>,
    /// Recipient (exact, @domain, * wildcards); a comma list or repeated: any of them
    #[arg(long)]
    to: Vec<String>,
    /// Words of the subject, each matching the start of a word; quote a phrase ("order 12")
    /// to keep words together (the subject is only logged by header_checks WARN/INFO/HOLD…)
    #[arg(long, num_args = 1..)]
    subject: Vec<String>,
    /// Message-ID header, with or without <>
    #[arg(long)]
    message_id: Option<String>,
    /// Any queue id of the message
    #[arg(long)]
    queue_id: Option<String>,
    /// Recipient status (repeatable)
    #[arg(long, value_enum)]
    status: Vec<StatusArg>,
    /// Direction seen from this server (from --local-domains/--local-networks, else heuristics)
    #[arg(long, value_enum)]
    direction: Option<DirectionArg>,
    /// SMTP client address or network (CIDR)
    #[arg(long, value_name = "IP|CIDR")]
    client_ip: Option<String>,
    /// Syslog host name of the mail server
    #[arg(long)]
    host: Option<String>,
    /// Start of the time window (RFC 3339, or '2026-11-23 10:00' in --timezone)
    #[arg(long)]
    since: Option<String>,
    /// End of the time window
    #[arg(long)]
    until: Option<String>,
    /// Only the last duration before now: 30m, 24h, 7d
    #[arg(long, conflicts_with = "since")]
    last: Option<String>,
    /// Judged spam: amavis SPAM/SPAMMY, an rspamd action other than no action/greylist, or
    /// the recipient's copy filed as spam (status spam)
    #[arg(long)]
    spam: bool,
    /// The content filter found a virus (amavis INFECTED)
    #[arg(long)]
    virus: bool,
    /// The sender authentication check failed (fail, softfail or permerror; repeatable: any)
    #[arg(long, value_enum, value_name = "CHECK")]
    auth_fail: Vec<AuthArg>,
    /// The mailbox Dovecot filed the recipient's copy into (INBOX, Junk, …; case-insensitive)
    #[arg(long)]
    folder: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuthArg {
    Spf,
    Dkim,
    Dmarc,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Csv,
    Json,
    Ndjson,
}

#[derive(Clone, Copy, ValueEnum)]
enum ShowFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    Delivered,
    Deferred,
    Bounced,
    Expired,
    Rejected,
    Quarantined,
    Discarded,
    Expanded,
    InProgress,
    Spam,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReplayFormat {
    Raw,
    Ndjson,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormatArg {
    Text,
    Html,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum DirectionArg {
    Inbound,
    Outbound,
    Internal,
}

impl CommonArgs {
    fn into_common(self) -> anyhow::Result<Common> {
        let mut c = self.read.into_common(self.store)?;
        c.logs = self.logs;
        c.journals = self.journals;
        Ok(c)
    }
}

impl ReadArgs {
    fn into_common(self, store: Option<PathBuf>) -> anyhow::Result<Common> {
        let now_text = self
            .now
            .or_else(|| std::env::var("MAILTRACE_NOW").ok().filter(|v| !v.is_empty()));
        let mut c = Common {
            logs: Vec::new(),
            journals: Vec::new(),
            store,
            year: self.year,
            timezone: self.timezone,
            local_domains: self.local_domains,
            local_networks: self.local_networks,
            config: self.config,
            historical: false,
            now: None,
            default_host: self.default_host,
            threads: self.threads.unwrap_or(0),
            access: self.access.into_access(),
        };
        if let Some(text) = now_text {
            let zone = c.zone()?;
            c.now = Some(query::parse_time(&text, &zone).map_err(|e| anyhow::anyhow!("--now / MAILTRACE_NOW: {e}"))?);
        }
        Ok(c)
    }
}

impl CriteriaArgs {
    /// The criteria, read by the one parser the web API shares ([`query::CriteriaText`]).
    fn into_criteria(self, common: &Common) -> anyhow::Result<Criteria> {
        let text = query::CriteriaText {
            from: self.from,
            to: self.to,
            subject: self.subject,
            message_id: self.message_id,
            queue_id: self.queue_id,
            status: self.status.iter().map(ValueEnumName::name).collect(),
            direction: self.direction.as_ref().map(ValueEnumName::name),
            client_ip: self.client_ip,
            host: self.host,
            since: self.since,
            until: self.until,
            last: self.last,
            spam: self.spam,
            virus: self.virus,
            auth_fail: self.auth_fail.iter().map(ValueEnumName::name).collect(),
            folder: self.folder,
            end_to_end: false,
        };
        let now = common.now.unwrap_or_else(chrono::Utc::now);
        text.parse(&common.zone()?, now)
            .map_err(|e| anyhow::anyhow!("--{}: {}", e.field.replace('_', "-"), e.message))
    }
}

/// The word clap shows for a value (`in-progress`), which is the word the criteria parser reads.
trait ValueEnumName {
    fn name(&self) -> String;
}

impl<T: ValueEnum> ValueEnumName for T {
    fn name(&self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Search {
            common,
            criteria,
            format,
            limit,
            historical,
            end_to_end,
            wide,
        } => {
            let mut common = common.into_common()?;
            common.historical = historical;
            let mut criteria = criteria.into_criteria(&common)?;
            criteria.end_to_end = end_to_end;
            let format = match format {
                Some(FormatArg::Table) => Format::Table,
                Some(FormatArg::Csv) => Format::Csv,
                Some(FormatArg::Json) => Format::Json,
                Some(FormatArg::Ndjson) => Format::Ndjson,
                None if std::io::IsTerminal::is_terminal(&std::io::stdout()) => Format::Table,
                None => Format::Ndjson,
            };
            let format = if wide && format == Format::Table {
                Format::WideTable
            } else {
                format
            };
            app::search(&common, &criteria, format, limit, &mut out)
        }
        Command::Show { id, common, format } => app::show(
            &common.into_common()?,
            &id,
            matches!(format, ShowFormat::Json),
            &mut out,
        ),
        Command::Stats { common, format } => {
            app::stats(&common.into_common()?, matches!(format, ShowFormat::Json), &mut out)
        }
        Command::Index {
            paths,
            journals,
            store,
            read,
            format,
            commit_every,
        } => {
            let json = matches!(format, ShowFormat::Json);
            let mut common = read.into_common(store)?;
            common.logs = paths;
            common.journals = journals;
            let chunk = (commit_every > 0).then(|| commit_every * 1_000_000);
            if json {
                app::index(&common, chunk, true, &mut out)
            } else {
                app::index(&common, chunk, false, &mut std::io::stderr())
            }
        }
        Command::Follow {
            paths,
            journals,
            store,
            interval,
            metrics,
            read,
        } => {
            let mut common = read.into_common(store)?;
            common.logs = paths;
            common.journals = journals;
            app::follow(&common, interval, metrics.as_deref(), &mut std::io::stderr())
        }
        Command::Maintain {
            store,
            hot_days,
            archive_days,
            read,
            format,
        } => {
            let common = read.into_common(store)?;
            let configured = common.load_config()?.maintain;
            let windows = mailtrace::store::retention::Windows {
                hot_days: hot_days.or(configured.hot_days).unwrap_or(10),
                archive_days: archive_days.or(configured.archive_days).unwrap_or(90),
            };
            app::maintain(&common, windows, matches!(format, ShowFormat::Json), &mut out)
        }
        Command::Replay {
            store,
            criteria,
            read,
            format,
        } => {
            let common = read.into_common(store)?;
            let criteria = criteria.into_criteria(&common)?;
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            let code = app::replay(&common, &criteria, matches!(format, ReplayFormat::Ndjson), &mut lock)?;
            std::io::Write::flush(&mut lock)?;
            Ok(code)
        }
        Command::Export { store, day, out: file } => {
            let common = ReadArgs::default().into_common(store)?;
            match file {
                Some(path) => {
                    let tmp = path.with_extension("part");
                    let mut f = std::fs::File::create(&tmp)?;
                    let code = app::export(&common, day, &mut f)?;
                    f.sync_all()?;
                    std::fs::rename(&tmp, &path)?;
                    Ok(code)
                }
                None => app::export(&common, day, &mut out),
            }
        }
        Command::Import { store, replace, files } => {
            let common = ReadArgs::default().into_common(store)?;
            app::import(&common, &files, replace, &mut std::io::stderr())
        }
        Command::Verify { store } => {
            let common = ReadArgs::default().into_common(store)?;
            app::verify(&common, &mut out)
        }
        Command::Serve {
            store,
            listen,
            token_file,
            timezone,
            now,
            config,
            access,
        } => {
            let read = ReadArgs {
                timezone,
                now,
                config,
                access,
                ..ReadArgs::default()
            };
            let common = read.into_common(store)?;
            mailtrace::web::serve(common, listen, token_file, &mut std::io::stderr())
        }
        Command::Report {
            common,
            criteria,
            format,
            top,
            historical,
        } => {
            let mut common = common.into_common()?;
            common.historical = historical;
            let criteria = criteria.into_criteria(&common)?;
            let format = match format {
                ReportFormatArg::Text => app::ReportFormat::Text,
                ReportFormatArg::Html => app::ReportFormat::Html,
                ReportFormatArg::Json => app::ReportFormat::Json,
            };
            app::report(&common, &criteria, format, top, &mut out)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "mailtrace", &mut out);
            Ok(exit::FOUND)
        }
        Command::Man { out: dir } => {
            use clap::CommandFactory;
            std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .map_err(|e| anyhow::anyhow!("cannot write the manual pages into {}: {e}", dir.display()))?;
            Ok(exit::FOUND)
        }
        Command::Store {
            command: StoreCommand::Info { store, format, access },
        } => {
            let common = ReadArgs {
                access,
                ..ReadArgs::default()
            }
            .into_common(store)?;
            app::store_info(&common, matches!(format, ShowFormat::Json), &mut out)
        }
        Command::Store {
            command:
                StoreCommand::Init {
                    store,
                    shard,
                    print,
                    access,
                },
        } => {
            let common = ReadArgs {
                access,
                ..ReadArgs::default()
            }
            .into_common(store)?;
            app::store_init(&common, &shard, print, &mut out)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A closed pipe (`| head`) is not an error worth reporting.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::from(exit::FOUND);
            }
            // an error may quote log text or a file name: no control codes to the terminal
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(
                mailtrace::output::terminal::Printable::new(&mut stderr),
                "mailtrace: error: {e:#}"
            );
            ExitCode::from(exit::ERROR)
        }
    }
}
