//! The page in a real headless browser (Debian's chromium, driven through chromedriver with
//! fantoccini): load it, search by recipient, open a message and see its raw lines, download
//! the CSV, and show hostile Subjects as text without running them.
//!
//! Skips (saying why) when chromedriver is missing, unless `CI=true`: then it fails.
//! `MAILTRACE_SCREENSHOTS=DIR` saves `results.png` and `detail.png` there (for the README).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_mailtrace");
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(rel)
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether the browser is here; when not, skipping is allowed only outside CI.
fn browser_present() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{CHROMEDRIVER} and {CHROMIUM} are required when CI=true (apt-get install chromium chromium-driver)");
    }
    eprintln!(
        "skipping the browser test: {CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    );
    false
}

/// Builds a store from the sample day and the hostile subjects, and serves it on a free port.
fn start_server(dir: &Path) -> (Running, String, PathBuf) {
    let store = dir.join("store");
    let out = Command::new(BIN)
        .arg("index")
        .arg("--store")
        .arg(&store)
        .args(["--year", "2026", "--timezone", "UTC"])
        .arg(testdata("sample/mail.log"))
        .arg(testdata("web/xss.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--store")
        .arg(&store)
        .args(["--listen", "127.0.0.1:0", "--timezone", "UTC"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .trim_end_matches('/')
        .to_string();
    (Running(child), base, store)
}

/// Starts chromedriver on a free port and waits until it answers.
fn start_chromedriver() -> (Running, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (running, port)
}

async fn connect(port: u16, profile: &Path, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1300",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("cannot start a chromium session through chromedriver")
}

/// Evaluates `expr` in the page until it is true (10 s at most); panics with `what` otherwise.
async fn until(c: &Client, expr: &str, what: &str) {
    let start = Instant::now();
    loop {
        let v = c.execute(&format!("return !!({expr});"), vec![]).await.unwrap();
        if v == Value::Bool(true) {
            return;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let text = c
                .execute("return document.body.innerText;", vec![])
                .await
                .unwrap_or_default();
            panic!("timed out waiting for {what} ({expr}); the page says:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

async fn eval(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return ({expr});"), vec![]).await.unwrap()
}

async fn screenshot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("MAILTRACE_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
        std::fs::write(dir.join(name), c.screenshot().await.unwrap()).unwrap();
    }
}

fn cli_csv(store: &Path, to: &str) -> String {
    let out = Command::new(BIN)
        .args(["search", "--to", to, "--format", "csv", "--store"])
        .arg(store)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn page_end_to_end() {
    if !browser_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_server, base, store) = start_server(dir.path());
    let (_driver, port) = start_chromedriver();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let c = connect(port, &dir.path().join("profile"), &downloads).await;
    // the scenario runs as a task so that a failed assertion still closes the browser
    let scenario = run(c.clone(), base, store, downloads);
    let outcome = tokio::task::LocalSet::new()
        .run_until(async move { tokio::task::spawn_local(scenario).await })
        .await;
    let _ = c.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn run(c: Client, base: String, store: PathBuf, downloads: PathBuf) {
    let (c, store, downloads) = (&c, store.as_path(), downloads.as_path());
    // the page loads and lists the newest rows of the store
    c.goto(&format!("{base}/?timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelectorAll('#results-body tr').length > 0",
        "the first rows",
    )
    .await;
    assert_eq!(text(c, "#row-count").await, "48 rows");
    until(
        c,
        "!document.getElementById('summary').hidden",
        "the per-status summary",
    )
    .await;
    screenshot(c, "results.png").await;

    // search by recipient, from the form
    let to = c.find(Locator::Css("input[name=to]")).await.unwrap();
    to.send_keys("accounts@example.com").await.unwrap();
    c.find(Locator::Css("#search-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        c,
        "document.getElementById('row-count').textContent === '4 rows'",
        "4 rows for accounts@",
    )
    .await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.as_str().contains("to=accounts%40example.com"),
        "the query is in the URL: {url}"
    );
    let recipients = eval(
        c,
        "[...document.querySelectorAll('#results-body tr td:nth-child(3)')].map(td => td.textContent)",
    )
    .await;
    assert!(
        recipients
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r == "accounts@example.com"),
        "{recipients}"
    );
    until(
        c,
        "!document.getElementById('summary').hidden",
        "the per-status summary",
    )
    .await;
    let summary = text(c, "#status-counts").await;
    assert!(
        summary.contains("delivered 3") && summary.contains("discarded 1"),
        "{summary}"
    );
    // an encoded subject is shown decoded, the logged form in its title
    let decoded = eval(
        c,
        "[...document.querySelectorAll('#results-body td.subject')].map(td => [td.textContent, td.title])",
    )
    .await;
    assert_eq!(
        decoded[0],
        json!([
            "Ihre Rechnung für November",
            "=?UTF-8?Q?Ihre_Rechnung_f=C3=BCr_November?="
        ])
    );

    // the query survives a reload (bookmarkable)
    c.refresh().await.unwrap();
    until(
        c,
        "document.getElementById('row-count').textContent === '4 rows'",
        "the same rows after a reload",
    )
    .await;
    assert_eq!(
        eval(c, "document.querySelector('input[name=to]').value").await,
        "accounts@example.com"
    );

    // sorting by a column
    c.find(Locator::Css("button.sort[data-key=status]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(c, "location.search.includes('sort=status')", "the sort in the URL").await;
    let statuses = eval(
        c,
        "[...document.querySelectorAll('#results-body .status')].map(s => s.textContent)",
    )
    .await;
    assert_eq!(statuses, json!(["delivered", "delivered", "delivered", "discarded"]));

    // CSV: the link carries the query; the download is the CLI's CSV
    let href = eval(c, "document.getElementById('csv-link').href").await;
    assert!(
        href.as_str()
            .unwrap()
            .contains("/api/search.csv?to=accounts%40example.com"),
        "{href}"
    );
    c.find(Locator::Css("#csv-link")).await.unwrap().click().await.unwrap();
    let file = downloads.join("mailtrace.csv");
    let start = Instant::now();
    while !file.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "the CSV was not downloaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        cli_csv(store, "accounts@example.com")
    );

    // open a message: its recipients, timeline and raw lines
    c.find(Locator::Css("tr[data-trace*='A3F1C2C801'] td.time a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(c, "document.querySelector('#detail-body pre.raw')", "the raw lines").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("trace=mx1%3AA3F1C2C801"));
    let raw = text(c, "#detail-body pre.raw").await;
    assert!(
        raw.contains("A3F1C2C801: client=smtp.woodgrove.example[192.0.2.120]"),
        "{raw}"
    );
    assert!(
        raw.contains("B7D2E2C9F0: client=localhost[127.0.0.1]"),
        "the re-injected copy: {raw}"
    );
    let detail = text(c, "#detail-body").await;
    assert!(detail.contains("Invoice INV-2026-1187 for November"));
    assert!(detail.contains("jonas.berg@example.com") && detail.contains("Passed CLEAN"));
    let events = eval(
        c,
        "document.querySelectorAll('#detail-body table.timeline tbody tr').length",
    )
    .await;
    assert_eq!(events, json!(19));
    screenshot(c, "detail.png").await;
    // back to the results, as they were
    c.find(Locator::Css("#back-link")).await.unwrap().click().await.unwrap();
    until(
        c,
        "!document.getElementById('results').hidden && document.getElementById('detail').hidden",
        "the results again",
    )
    .await;
    assert_eq!(text(c, "#row-count").await, "4 rows");

    // hostile subjects are text, and nothing of them runs
    c.goto(&format!("{base}/?from=mallory%40attacker.example&timezone=UTC"))
        .await
        .unwrap();
    until(
        c,
        "document.getElementById('row-count').textContent === '2 rows'",
        "the two hostile rows",
    )
    .await;
    let subjects = eval(
        c,
        "[...document.querySelectorAll('#results-body td.subject')].map(td => td.textContent)",
    )
    .await;
    assert_eq!(
        subjects,
        json!([
            "<img src=x onerror=\"window.__xss=2\"> invoice",
            "<script>window.__xss=1</script>"
        ])
    );
    assert_eq!(
        eval(
            c,
            "document.querySelectorAll('#results-body img, #results-body script').length"
        )
        .await,
        json!(0)
    );
    c.goto(&format!("{base}/?trace=7C1D2E3F40&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body pre.raw')",
        "the hostile message's lines",
    )
    .await;
    let raw = text(c, "#detail-body pre.raw").await;
    assert!(raw.contains("warning: header Subject: <script>window.__xss=1</script> from attacker.example"));
    assert!(text(c, "#detail-body")
        .await
        .contains("Saved <b onmouseover=alert(1)>x</b>"));
    assert_eq!(
        eval(
            c,
            "document.querySelectorAll('#detail-body script, #detail-body img, #detail-body b').length"
        )
        .await,
        json!(0)
    );
    assert_eq!(
        eval(c, "document.scripts.length").await,
        json!(1),
        "only the page's own script"
    );
    assert_eq!(
        eval(c, "typeof window.__xss").await,
        json!("undefined"),
        "no hostile code ran"
    );
}
