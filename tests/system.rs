//! Running as a system tool: the config's `store`, `[follow]`, `[serve]` and `[maintain]` keys
//! standing in for flags, the manual pages and completions, and root writing a store another
//! user owns as that user (what the Debian package relies on; `scripts/check-deb.sh` checks
//! the package itself).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/sample/mail.log")
}

/// The binary with `config` as its config file (none: `MAILTRACE_CONFIG` empty) and no
/// `$MAILTRACE_STORE`.
fn mailtrace(config: Option<&Path>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailtrace"));
    c.args(args).env_remove("MAILTRACE_STORE");
    match config {
        Some(p) => c.env("MAILTRACE_CONFIG", p),
        None => c.env("MAILTRACE_CONFIG", ""),
    };
    c
}

fn run(mut c: Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{c:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn rows(out: &Output) -> usize {
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn index(store: &Path) {
    let out = mailtrace(None, &["index", "--year", "2026", "--timezone", "UTC", "--store"])
        .arg(store)
        .arg(sample())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_configured_store_is_used_without_store_and_loses_to_the_flag_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let (store, other) = (dir.path().join("store"), dir.path().join("empty"));
    index(&store);
    std::fs::create_dir(&other).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("store = {:?}\ntimezone = \"UTC\"\n", store.to_str().unwrap()),
    )
    .unwrap();
    let search = ["search", "--format", "ndjson", "--to", "marco.rossi@example.com"];

    let found = run(mailtrace(Some(&config), &search));
    assert_eq!(rows(&found), 8);
    // the flag and the environment win over the config
    let mut c = mailtrace(Some(&config), &search);
    c.env("MAILTRACE_STORE", &other);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no mailtrace store at"));
    let mut c = mailtrace(Some(&config), &search);
    c.arg("--store").arg(&other);
    assert_eq!(c.output().unwrap().status.code(), Some(2));
    // `store info` and `show` read it too
    let info = run(mailtrace(Some(&config), &["store", "info"]));
    assert!(String::from_utf8_lossy(&info.stdout).contains(store.to_str().unwrap()));
    assert_eq!(
        run(mailtrace(Some(&config), &["show", "B7D2E2C9F0"])).status.code(),
        Some(0)
    );
}

#[test]
fn follow_reads_the_configured_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (store, log) = (dir.path().join("store"), dir.path().join("mail.log"));
    std::fs::copy(sample(), &log).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "store = {:?}\ntimezone = \"UTC\"\n[follow]\nlogs = [{:?}]\ninterval = 0.2\n",
            store.to_str().unwrap(),
            log.to_str().unwrap()
        ),
    )
    .unwrap();
    let expected = rows(&run(mailtrace(
        None,
        &[
            "search",
            "--format",
            "ndjson",
            "--year",
            "2026",
            "--timezone",
            "UTC",
            "--log",
            log.to_str().unwrap(),
        ],
    )));
    assert!(expected > 10);
    let mut follower = mailtrace(Some(&config), &["follow", "--year", "2026"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let got = mailtrace(Some(&config), &["search", "--format", "ndjson"])
            .output()
            .unwrap();
        if rows(&got) == expected {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the follower did not fill the configured store"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    follower.kill().unwrap();
    follower.wait().unwrap();

    // no files and none configured: the error says where to name them
    let out = mailtrace(None, &["follow", "--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[follow] logs"));
}

#[test]
fn serve_listens_where_the_config_says() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    index(&store);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "store = {:?}\n[serve]\nlisten = \"127.0.0.1:{port}\"\n",
            store.to_str().unwrap()
        ),
    )
    .unwrap();
    let mut server = mailtrace(Some(&config), &["serve"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stderr.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(first.trim(), format!("listening on http://127.0.0.1:{port}/"));
}

#[test]
fn maintain_takes_the_configured_windows() {
    // the sample's day is 2026-11-24: seven days before "now"
    let maintain = |windows: &str, flags: &[&str]| -> (usize, usize) {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        index(&store);
        let config = dir.path().join("config.toml");
        std::fs::write(&config, format!("[maintain]\n{windows}\n")).unwrap();
        let mut c = mailtrace(
            Some(&config),
            &["maintain", "--format", "json", "--now", "2026-12-01T00:00:00Z"],
        );
        c.arg("--store").arg(&store).args(flags);
        let report: serde_json::Value = serde_json::from_slice(&run(c).stdout).unwrap();
        let n = |k: &str| report[k].as_array().unwrap().len();
        (n("archived"), n("deleted"))
    };
    assert_eq!(maintain("", &[]), (0, 0)); // 10 and 90 days
    assert_eq!(maintain("hot_days = 3\narchive_days = 30", &[]), (1, 0));
    assert_eq!(maintain("hot_days = 3\narchive_days = 5", &[]), (0, 1));
    // the flags win
    assert_eq!(
        maintain("hot_days = 3\narchive_days = 30", &["--hot-days", "10"]),
        (0, 0)
    );
    assert_eq!(
        maintain("hot_days = 3\narchive_days = 5", &["--archive-days", "30"]),
        (1, 0)
    );
}

#[test]
fn a_manual_page_per_command_and_completions_for_three_shells() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = mailtrace(None, &["man", "--out"]);
    c.arg(dir.path());
    let out = run(c);
    assert!(out.stdout.is_empty());
    let help = String::from_utf8(run(mailtrace(None, &["--help"])).stdout).unwrap();
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        // a command's line, not its wrapped description
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 14, "{commands:?}");
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for c in &commands {
        assert!(
            pages.contains(&format!("mailtrace-{c}.1")),
            "no page for {c}: {pages:?}"
        );
    }
    assert!(pages.contains(&"mailtrace.1".to_string()) && pages.contains(&"mailtrace-store-info.1".to_string()));
    let search = std::fs::read_to_string(dir.path().join("mailtrace-search.1")).unwrap();
    assert!(
        search.starts_with(".ie \\n(.g .ds Aq") || search.contains(".TH mailtrace-search 1"),
        "{}",
        &search[..200]
    );
    assert!(search.contains("end\\-to\\-end"));

    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef mailtrace"),
        ("fish", "complete -c mailtrace"),
    ] {
        let out = String::from_utf8(run(mailtrace(None, &["completions", shell])).stdout).unwrap();
        assert!(out.contains(mark), "{shell}: {}", &out[..200.min(out.len())]);
        assert!(out.contains("end-to-end"), "{shell} completions lack --end-to-end");
    }
}

/// Root writing a store directory that another user owns becomes that user first: every file
/// it leaves belongs to the owner (the package's `sudo mailtrace index`).
#[test]
#[cfg_attr(not_root, ignore = "needs root: it changes user (run the tests as root, as CI does)")]
fn root_writes_another_users_store_as_that_user() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (store, log) = (dir.path().join("store"), dir.path().join("mail.log"));
    std::fs::copy(sample(), &log).unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir(&store).unwrap();
    // nobody: uid 65534 on Debian
    let status = Command::new("chown").arg("nobody").arg(&store).status().unwrap();
    assert!(status.success());
    let owner = std::fs::metadata(&store).unwrap().uid();
    assert_ne!(owner, 0);
    index(&store);
    let mut foreign = Vec::new();
    let mut stack = vec![store.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.uid() != owner {
                foreign.push(e.path());
            }
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    assert!(foreign.is_empty(), "files not owned by the store's owner: {foreign:?}");
    let mut c = mailtrace(
        None,
        &[
            "search",
            "--format",
            "ndjson",
            "--to",
            "marco.rossi@example.com",
            "--store",
        ],
    );
    c.arg(&store);
    let out = run(c);
    assert_eq!(rows(&out), 8);
}
