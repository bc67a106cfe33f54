//! The page in a real headless browser (Debian's chromium, driven through chromedriver with
//! fantoccini): load it, search by recipient, open a message and see its raw lines, download
//! the CSV, and show hostile Subjects as text without running them.
//!
//! Skips (saying why) when chromedriver is missing, unless `CI=true`: then it fails.
//! `MAILTRACE_SCREENSHOTS=DIR` saves `results.png` and `detail.png` there (for the README).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::web::{cli, sample_store, serve, Running};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const TOKEN: &str = "browser-test-token-0123456789abcdef";
/// "Now" for the servers: the evening after the sample day.
const NOW: [&str; 2] = ["--now", "2026-11-25T20:00:00Z"];

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

async fn click(c: &Client, locator: Locator<'_>) {
    c.find(locator).await.unwrap().click().await.unwrap();
}

/// Waits until the row count says `n` rows.
async fn rows_shown(c: &Client, n: u64) {
    let words = if n == 1 {
        "1 row".to_string()
    } else {
        format!("{n} rows")
    };
    until(
        c,
        &format!("document.getElementById('row-count').textContent === '{words}'"),
        &words,
    )
    .await;
}

/// The open message's detail holds no element made from log text, the page runs only its own
/// script, and the global `marker` the log's script would set is not there.
async fn nothing_of_the_log_ran(c: &Client, marker: &str) {
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
        eval(c, &format!("typeof window.{marker}")).await,
        json!("undefined"),
        "no hostile code ran"
    );
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

/// Waits until `file` is downloaded, then reads it.
async fn downloaded(file: &Path) -> String {
    let start = Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} was not downloaded",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::read_to_string(file).unwrap()
}

/// The plain-language events of the message shown (the first one when several).
async fn events(c: &Client) -> Value {
    eval(
        c,
        "[...document.querySelectorAll('#detail-body article.trace:first-of-type ol.events li .what')].map(e => e.textContent)",
    )
    .await
}

fn cli_csv(store: &Path, to: &str) -> String {
    cli(store, &["search", "--to", to, "--format", "csv"])
}

#[tokio::test(flavor = "current_thread")]
#[cfg_attr(
    no_browser,
    ignore = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)]
async fn page_end_to_end() {
    if !browser_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = sample_store(dir.path());
    let (_server, base) = serve(&store, &NOW);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let (_guarded, guarded_base) = serve(&store, &[NOW[0], NOW[1], "--token-file", token_file.to_str().unwrap()]);
    // a store of two servers' logs, for the delivery path
    let two = dir.path().join("two-servers");
    common::web::index(
        &two,
        &[
            common::web::testdata("cases/path-edge-to-mailbox/mail.log"),
            common::web::testdata("cases/path-message-id-join/mail.log"),
        ],
    );
    let (_two_server, two_base) = serve(&two, &NOW);
    // the crafted hostile case: script, HTML, terminal escapes, NUL, invalid UTF-8
    let hostile_store = dir.path().join("hostile");
    common::web::index(&hostile_store, &[common::web::testdata("cases/hostile/mail.log")]);
    let (_hostile_server, hostile_base) = serve(&hostile_store, &NOW);
    let (_driver, port) = start_chromedriver();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let c = connect(port, &dir.path().join("profile"), &downloads).await;
    // the scenario runs as a task so that a failed assertion still closes the browser
    let session = c.clone();
    let scenario = async move {
        run(session.clone(), base.clone(), store.clone(), downloads.clone()).await;
        more(session.clone(), base.clone()).await;
        exchange_like(session.clone(), base, store, downloads.clone()).await;
        delivery_path(session.clone(), two_base).await;
        hostile(session.clone(), hostile_base).await;
        with_token(session, guarded_base, downloads).await;
    };
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
    click(c, Locator::Css("#search-button")).await;
    rows_shown(c, 4).await;
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
            "Ihre Rechnung für November\n(as logged: =?UTF-8?Q?Ihre_Rechnung_f=C3=BCr_November?=)"
        ])
    );

    // the query survives a reload (bookmarkable)
    c.refresh().await.unwrap();
    rows_shown(c, 4).await;
    assert_eq!(
        eval(c, "document.querySelector('input[name=to]').value").await,
        "accounts@example.com"
    );

    // sorting by a column
    click(c, Locator::Css("button.sort[data-key=status]")).await;
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
    // the report of the same criteria: the link carries the same query
    let report = eval(c, "document.getElementById('report-link').href").await;
    assert_eq!(
        report.as_str().unwrap(),
        href.as_str().unwrap().replace("/api/search.csv?", "/api/report?")
    );
    click(c, Locator::Css("#csv-link")).await;
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
    click(c, Locator::Css("tr[data-trace*='A3F1C2C801'] td.time a")).await;
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
    // the filters' facts, in words: the verdict and score, DKIM, the folder each copy went to
    assert!(detail.contains("CLEAN (score -0.912)"), "{detail}");
    assert!(
        detail.contains("amavis: passed — CLEAN") && detail.contains("Invoices"),
        "{detail}"
    );
    let events = eval(
        c,
        "document.querySelectorAll('#detail-body table.timeline tbody tr').length",
    )
    .await;
    // as many events as `show` gives (22: the MTA's lines and the filters' around it)
    assert_eq!(events, json!(22));
    screenshot(c, "detail.png").await;
    // back to the results, as they were
    click(c, Locator::Css("#back-link")).await;
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
    rows_shown(c, 2).await;
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
    nothing_of_the_log_ran(c, "__xss").await;
}

/// Time ranges, the time-zone selector, paging, a link to a related message, and fields the
/// page does not know yet (added by later versions) shown as they are.
async fn more(c: Client, base: String) {
    let c = &c;
    let api = |q: &str| -> Value {
        let mut res = ureq::get(&format!("{base}/api/search?{q}")).call().unwrap();
        serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap()
    };

    // the preset "last 24 hours" (now: 2026-11-25 20:00 UTC) asks for last=24h
    c.goto(&format!("{base}/?timezone=UTC")).await.unwrap();
    rows_shown(c, 48).await;
    c.execute("document.getElementById('range').value = '24h';", vec![])
        .await
        .unwrap();
    click(c, Locator::Css("#search-button")).await;
    let expected = api("last=24h")["total"].as_u64().unwrap();
    assert!(expected > 0 && expected < 48, "{expected}");
    rows_shown(c, expected).await;
    assert!(c.current_url().await.unwrap().as_str().contains("last=24h"));

    // a custom range, read in the zone chosen
    c.execute(
        "const f = document.getElementById('search-form');
         f.elements.range.value = 'custom'; f.elements.range.dispatchEvent(new Event('change'));
         f.elements.since.value = '2026-11-24T17:00'; f.elements.until.value = '2026-11-24T19:00';
         f.elements.timezone.value = 'Europe/Berlin';",
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Css("#search-button")).await;
    let expected = api("since=2026-11-24T17:00&until=2026-11-24T19:00&timezone=Europe/Berlin")["total"]
        .as_u64()
        .unwrap();
    assert_ne!(
        expected,
        api("since=2026-11-24T17:00&until=2026-11-24T19:00&timezone=UTC")["total"]
            .as_u64()
            .unwrap(),
        "the zone matters for this window"
    );
    rows_shown(c, expected).await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.as_str().contains("timezone=Europe%2FBerlin") && url.as_str().contains("since=2026-11-24T17%3A00"),
        "{url}"
    );

    // times are shown in the zone chosen
    c.goto(&format!("{base}/?timezone=UTC")).await.unwrap();
    rows_shown(c, 48).await;
    assert_eq!(text(c, "#results-body tr td.time").await, "2026-11-24 23:58:01");
    c.execute(
        "const z = document.getElementById('timezone'); z.value = 'Asia/Tokyo'; z.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    until(
        c,
        "document.querySelector('#results-body tr td.time').textContent === '2026-11-25 08:58:01'",
        "Tokyo time",
    )
    .await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("timezone=Asia%2FTokyo"));

    // several recipients: a comma list in the form, repeated in a link; the union of both
    let both = api("to=accounts%40example.com,marco.rossi%40example.com")["total"]
        .as_u64()
        .unwrap();
    assert_eq!(
        both,
        api("to=accounts%40example.com")["total"].as_u64().unwrap()
            + api("to=marco.rossi%40example.com")["total"].as_u64().unwrap()
    );
    c.goto(&format!(
        "{base}/?to=accounts%40example.com&to=marco.rossi%40example.com&timezone=UTC"
    ))
    .await
    .unwrap();
    rows_shown(c, both).await;
    assert_eq!(
        eval(c, "document.querySelector('input[name=to]').value").await,
        "accounts@example.com, marco.rossi@example.com"
    );
    click(c, Locator::Css("#search-button")).await;
    until(
        c,
        "location.search.includes('to=accounts%40example.com%2C+marco.rossi%40example.com')",
        "the list in the URL",
    )
    .await;
    c.refresh().await.unwrap();
    rows_shown(c, both).await;
    assert_eq!(
        eval(c, "document.querySelector('input[name=to]').value").await,
        "accounts@example.com, marco.rossi@example.com"
    );

    // paging: 48 rows, 25 a page
    c.goto(&format!("{base}/?timezone=UTC&per_page=25")).await.unwrap();
    until(
        c,
        "document.querySelectorAll('#results-body tr').length === 25",
        "a page of 25",
    )
    .await;
    assert_eq!(text(c, "#pager .page-no").await.trim(), "page 1 of 2");
    let first_page = eval(c, "document.querySelector('#results-body tr').dataset.trace").await;
    click(
        c,
        Locator::XPath("//div[@class='toolbar']//button[contains(., 'Next')]"),
    )
    .await;
    until(
        c,
        "document.querySelectorAll('#results-body tr').length === 23",
        "the second page",
    )
    .await;
    assert!(c.current_url().await.unwrap().as_str().contains("page=2"));
    assert_ne!(
        eval(c, "document.querySelector('#results-body tr').dataset.trace").await,
        first_page
    );

    // one click anywhere on a row opens the message
    let trace = eval(c, "document.querySelector('#results-body tr').dataset.trace").await;
    click(c, Locator::Css("#results-body tr td.status-cell")).await;
    until(
        c,
        "document.querySelector('#detail-body pre.raw')",
        "the message of the row clicked",
    )
    .await;
    let url = c.current_url().await.unwrap();
    let opened: String = url.query_pairs().find(|(k, _)| k == "trace").unwrap().1.into_owned();
    assert_eq!(Value::from(opened), trace);

    // a bounce links to its notice, and the notice back
    c.goto(&format!("{base}/?trace=61E0B2C712&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body pre.raw')",
        "the bounced message",
    )
    .await;
    assert!(text(c, "#detail-body")
        .await
        .contains("a notice to the sender (bounce, delay, success) was queued as 7E2D12C7A0"));
    click(c, Locator::LinkText("7E2D12C7A0")).await;
    until(c, "location.search.includes('trace=7E2D12C7A0') && document.querySelector('#detail-body pre.raw') && document.getElementById('detail-body').textContent.includes('this is a notice about')", "the notice").await;
    assert!(text(c, "#detail-body pre.raw").await.contains("7E2D12C7A0"));

    // the known facts in words, fields of later versions as they come; all as text
    c.execute(
        "const real = window.fetch;
         window.fetch = async (...args) => {
           const res = await real(...args);
           if (!String(args[0]).startsWith('api/trace/')) return res;
           const body = await res.json();
           for (const t of body) {
             t.trace.spam_verdict = '<b>ham</b> score=-2.1';
             t.trace.arc_result = '<b>none</b>';
             for (const r of t.rows) r.later_field = 'INBOX/<i>Invoices</i>';
           }
           return new Response(JSON.stringify(body), {status: res.status, headers: res.headers});
         };",
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::LinkText("61E0B2C712")).await;
    until(
        c,
        "document.getElementById('detail-body').textContent.includes('arc_result')",
        "the extra trace field",
    )
    .await;
    let detail = text(c, "#detail-body").await;
    assert!(
        detail.contains("Spam verdict") && detail.contains("<b>ham</b> score=-2.1"),
        "{detail}"
    );
    assert!(
        detail.contains("arc_result") && detail.contains("<b>none</b>"),
        "{detail}"
    );
    assert!(
        detail.contains("kai.schmitt@example.com · later_field") && detail.contains("INBOX/<i>Invoices</i>"),
        "{detail}"
    );
    assert_eq!(
        eval(c, "document.querySelectorAll('#detail-body b, #detail-body i').length").await,
        json!(0)
    );
}

/// A server with a token: the page asks for it once, keeps it for the tab, and sends it with
/// every call (the CSV download too).
/// A message of the mailbox server opened on the page shows the path from the edge: both
/// hops, the recipient's status and folder, and links to each hop.
async fn delivery_path(c: Client, base: String) {
    let c = &c;
    c.goto(&format!("{base}/?trace=8C3D42D1A7&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body section.path')",
        "the delivery path",
    )
    .await;
    let path = text(c, "#detail-body section.path").await;
    assert!(path.starts_with("Delivery path (2 hops)"), "{path}");
    assert!(
        path.contains("mx1 4F1A22C801 2026-11-24 09:10:02 → 2026-11-24 09:10:05"),
        "{path}"
    );
    assert!(
        path.contains("mbox1 8C3D42D1A7") && path.contains("from 4F1A22C801"),
        "{path}"
    );
    assert!(path.contains("accounts@example.com delivered (INBOX)"), "{path}");
    assert_eq!(
        eval(c, "document.querySelectorAll('#detail-body section.path a').length").await,
        json!(4),
        "each hop, the hop it came from and the hop it went to link to their messages"
    );
    assert_eq!(
        eval(c, "document.querySelectorAll('#detail-body article.trace').length").await,
        json!(2)
    );
    // a Message-ID two unrelated paths share: a block per path
    c.goto(&format!("{base}/?trace=newsletter-2026-11@lists.example&timezone=UTC"))
        .await
        .unwrap();
    until(
        c,
        "document.querySelectorAll('#detail-body section.path').length === 2",
        "two paths",
    )
    .await;
    let second = text(c, "#detail-body section.path:nth-of-type(2)").await;
    assert!(
        second.contains("2B3C4D5E6F") && !second.contains("1A2B3C4D5E"),
        "{second}"
    );
    // a message on no path (the bounce notice, sent to a server whose log is not held)
    c.goto(&format!("{base}/?trace=AE5F62D3C9&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body article.trace') && location.search.includes('AE5F62D3C9')",
        "the notice",
    )
    .await;
    assert_eq!(
        eval(c, "document.querySelectorAll('#detail-body section.path').length").await,
        json!(0)
    );
    // end to end: the check box gives a row per original message and final recipient, with
    // the servers each crossed
    c.goto(&format!("{base}/?timezone=UTC")).await.unwrap();
    rows_shown(c, 13).await;
    assert_eq!(
        eval(
            c,
            "document.querySelector('#results-head').textContent.includes('Path')"
        )
        .await,
        json!(false)
    );
    click(c, Locator::Css("input[name=end_to_end]")).await;
    click(c, Locator::Css("#search-button")).await;
    rows_shown(c, 8).await;
    assert!(c.current_url().await.unwrap().as_str().contains("end_to_end=1"));
    assert!(text(c, "#results-head").await.contains("Path"));
    let bounced = eval(
        c,
        "[...document.querySelectorAll('#results-body tr')].map((r) => r.textContent).filter((t) => t.includes('nobody.here@example.com'))",
    )
    .await;
    assert_eq!(bounced.as_array().map(Vec::len), Some(1), "{bounced}");
    let bounced = bounced[0].as_str().unwrap();
    assert!(
        bounced.contains("bounced") && bounced.contains("mx1 → mbox1"),
        "{bounced}"
    );
    // the client where it arrived and the status where it ended, from the URL
    c.goto(&format!(
        "{base}/?end_to_end=1&client_ip=203.0.113.150&status=bounced&timezone=UTC"
    ))
    .await
    .unwrap();
    rows_shown(c, 1).await;
    assert_eq!(
        eval(c, "document.querySelector('input[name=end_to_end]').checked").await,
        json!(true)
    );
}

async fn with_token(c: Client, base: String, downloads: PathBuf) {
    let c = &c;
    c.goto(&format!("{base}/?to=accounts%40example.com&timezone=UTC"))
        .await
        .unwrap();
    until(c, "!document.getElementById('token-panel').hidden", "the token form").await;
    assert!(text(c, "#error").await.contains("needs its token"));
    c.find(Locator::Css("#token-input"))
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    click(c, Locator::Css("#token-form button")).await;
    rows_shown(c, 4).await;
    assert!(
        !c.current_url().await.unwrap().as_str().contains(TOKEN),
        "the token stays out of the URL"
    );
    c.refresh().await.unwrap();
    rows_shown(c, 4).await;
    assert_eq!(
        eval(c, "document.getElementById('token-panel').hidden").await,
        json!(true)
    );
    // the CSV link cannot carry the header: the page fetches it and saves what came
    let file = downloads.join("mailtrace.csv");
    let _ = std::fs::remove_file(&file);
    click(c, Locator::Css("#csv-link")).await;
    let start = Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the CSV was not downloaded with the token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(
        csv.starts_with("time,last_time,host") && csv.lines().count() == 5,
        "{csv}"
    );
}

/// What happened to A3F1C2C801 (scanned by amavis, delivered to two folders), in words.
const EVENTS_AMAVIS: [&str; 5] = [
    "Received from smtp.woodgrove.example [192.0.2.120]",
    "Scanned by amavis: CLEAN",
    "Re-injected by the content filter as B7D2E2C9F0",
    "accounts@example.com: Delivered to INBOX",
    "jonas.berg@example.com: Delivered to Invoices",
];
/// 9A4E12C1F3: delivered, relayed, bounced, deferred then relayed.
const EVENTS_BOUNCED: [&str; 7] = [
    "Received from ws-114.office.example.com [10.20.1.114], authenticated as lena.hofmann",
    "A notice to the sender (bounce, delay, success) was queued as C1D7A2C204",
    "marco.rossi@example.com: Delivered to INBOX",
    "p.nguyen@contoso.example: Relayed to contoso-example.mail.protection.outlook.com [203.0.113.80]",
    "old.account@northwind.example: Bounced: 5.1.1 host mx.northwind.example[192.0.2.33] said: 550 5.1.1 \
     <old.account@northwind.example>: Recipient address rejected: User unknown in local recipient table \
     (in reply to RCPT TO command)",
    "ops@tailspin.example: Deferred ×1: connect to mx.tailspin.example[198.51.100.200]:25: Connection timed out",
    "ops@tailspin.example: Relayed to mx.tailspin.example [198.51.100.200]",
];
/// 2D8F12C011: greylisted twice, then relayed.
const EVENTS_DEFERRED: [&str; 3] = [
    "Submitted on the server itself",
    "Deferred ×2: host mx1.wingtip.example[192.0.2.71] said: 450 4.7.1 <orders@wingtip.example>: Recipient \
     address rejected: Greylisted, see https://postgrey.schweikert.ch/help/wingtip.example.html (in reply to \
     RCPT TO command)",
    "Relayed to mx1.wingtip.example [192.0.2.71]",
];
/// 2D8F12C011's `delays=1295/0.01/0.5/0.5`, named.
const DELAYS_DEFERRED: [&str; 1] =
    ["total 1296 s\nbefore queue manager 1295 s\nin queue 0.01 s\nconnection setup 0.5 s\ntransmission 0.5 s"];

/// The items modelled on Exchange's Message Trace (issue 19): the 48-hour default window, the
/// Search button always in sight, one-line rows with the whole text on hover, what happened in
/// plain words, the delays named, copy and download of one message, saved searches.
async fn exchange_like(c: Client, base: String, store: PathBuf, downloads: PathBuf) {
    let (c, store) = (&c, store.as_path());

    // no window in the URL: the last 48 hours, in the form and the URL
    c.goto(&format!("{base}/?timezone=UTC")).await.unwrap();
    rows_shown(c, 48).await;
    assert_eq!(eval(c, "document.getElementById('range').value").await, "48h");
    assert!(c.current_url().await.unwrap().as_str().contains("last=48h"));
    c.goto(&format!("{base}/?to=accounts%40example.com&timezone=UTC"))
        .await
        .unwrap();
    rows_shown(c, 4).await;
    assert_eq!(eval(c, "document.getElementById('range').value").await, "48h");
    // "any time" is asked for in so many words, and kept
    c.execute("document.getElementById('range').value = '';", vec![])
        .await
        .unwrap();
    click(c, Locator::Css("#search-button")).await;
    until(c, "location.search.includes('range=any')", "range=any in the URL").await;
    assert!(!c.current_url().await.unwrap().as_str().contains("last="));
    c.refresh().await.unwrap();
    rows_shown(c, 4).await;
    assert_eq!(eval(c, "document.getElementById('range').value").await, "");

    // the Search button stays in sight: a short window, scrolled down, then a narrow one
    let in_sight = "(() => { const b = document.getElementById('search-button').getBoundingClientRect();
        const x = b.left + b.width / 2, y = b.top + b.height / 2;
        return b.top >= 0 && b.bottom <= window.innerHeight && b.width > 0
          && document.elementFromPoint(x, y) === document.getElementById('search-button'); })()";
    let where_ = "(() => { const b = document.getElementById('search-button').getBoundingClientRect();
        const at = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
        return [b.top, b.bottom, window.innerHeight, window.innerWidth, at && at.outerHTML.slice(0, 80)]; })()";
    c.goto(&format!("{base}/?timezone=UTC")).await.unwrap();
    rows_shown(c, 48).await;
    c.set_window_size(1100, 480).await.unwrap();
    until(c, "window.innerHeight < 500", "the short window").await;
    assert!(
        eval(
            c,
            "document.getElementById('search-form').scrollHeight > window.innerHeight"
        )
        .await
            == json!(true),
        "the form is longer than the window"
    );
    assert_eq!(
        eval(c, in_sight).await,
        json!(true),
        "at the top: {}",
        eval(c, where_).await
    );
    c.execute("window.scrollTo(0, document.body.scrollHeight);", vec![])
        .await
        .unwrap();
    assert!(eval(c, "window.scrollY").await.as_f64().unwrap() > 100.0);
    assert_eq!(
        eval(c, in_sight).await,
        json!(true),
        "scrolled to the end of the rows: {}",
        eval(c, where_).await
    );
    c.set_window_size(700, 600).await.unwrap();
    until(c, "window.innerWidth < 800", "the narrow window").await;
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    assert_eq!(
        eval(c, in_sight).await,
        json!(true),
        "narrow, the form first: {}",
        eval(c, where_).await
    );
    c.set_window_size(1400, 1300).await.unwrap();
    until(c, "window.innerWidth > 1300", "the wide window again").await;

    // a row is one line high; a cell too long ends in "…" and has its whole text in its title
    let heights = eval(
        c,
        "[...document.querySelectorAll('#results-body tr')].map(r => r.getBoundingClientRect().height)",
    )
    .await;
    let line = eval(
        c,
        "parseFloat(getComputedStyle(document.querySelector('#results-body td.addr')).lineHeight)",
    )
    .await
    .as_f64()
    .unwrap();
    let heights: Vec<f64> = heights
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_f64().unwrap())
        .collect();
    assert_eq!(heights.len(), 48);
    assert!(
        heights.iter().all(|h| *h < line * 2.0),
        "a line is {line}px: {heights:?}"
    );
    let cut = eval(
        c,
        "[...document.querySelectorAll('#results-body td')].filter(td => td.scrollWidth > td.clientWidth + 1)
           .map(td => [td.className, td.textContent, td.title, getComputedStyle(td).textOverflow])",
    )
    .await;
    let cut = cut.as_array().unwrap();
    assert!(cut.iter().any(|x| x[0] == "response"), "a reply is cut: {cut:?}");
    for x in cut {
        assert_eq!(x[3], "ellipsis", "{x}");
        assert!(
            x[2].as_str().unwrap().starts_with(x[1].as_str().unwrap()),
            "the whole text in the title: {x}"
        );
    }

    // what happened, in plain words
    c.goto(&format!("{base}/?trace=A3F1C2C801&timezone=UTC")).await.unwrap();
    until(c, "document.querySelector('#detail-body ol.events li')", "the events").await;
    assert_eq!(events(c).await, json!(EVENTS_AMAVIS));
    c.goto(&format!("{base}/?trace=9A4E12C1F3&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body ol.events li') && location.search.includes('9A4E12C1F3')",
        "the events",
    )
    .await;
    assert_eq!(events(c).await, json!(EVENTS_BOUNCED));
    c.goto(&format!("{base}/?trace=2D8F12C011&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body ol.events li') && location.search.includes('2D8F12C011')",
        "the events",
    )
    .await;
    assert_eq!(events(c).await, json!(EVENTS_DEFERRED));
    // turned away before it was queued; held for review
    c.goto(&format!(
        "{base}/?trace=mx1%3ANOQUEUE%3A32d851d7254c6dee%3A1795555809&timezone=UTC"
    ))
    .await
    .unwrap();
    until(
        c,
        "document.querySelector('#detail-body ol.events li') && location.search.includes('NOQUEUE')",
        "the events",
    )
    .await;
    assert_eq!(
        events(c).await,
        json!([
            "Connection from unknown [203.0.113.67]",
            "Rejected: 5.7.1 554 5.7.1 <zhang.wei@relaytarget.example>: Relay access denied"
        ])
    );
    c.goto(&format!("{base}/?trace=1F7A32C3B5&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body ol.events li') && location.search.includes('1F7A32C3B5')",
        "the events",
    )
    .await;
    assert_eq!(
        events(c).await,
        json!([
            "Received from smtp.woodgrove.example [192.0.2.120]",
            "Quarantined: Message held for review"
        ])
    );
    c.goto(&format!("{base}/?trace=2D8F12C011&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body ol.events li') && location.search.includes('2D8F12C011')",
        "the events",
    )
    .await;
    // the delays, named
    assert_eq!(
        eval(
            c,
            "[...document.querySelectorAll('#detail-body table.recipients .delays')].map(d => d.innerText)"
        )
        .await,
        json!(DELAYS_DEFERRED)
    );

    // copy and download one message: the JSON and the text of `show`, byte for byte
    c.goto(&format!("{base}/?trace=61E0B2C712&timezone=UTC")).await.unwrap();
    until(
        c,
        "!document.getElementById('export').hidden",
        "the copy and download buttons",
    )
    .await;
    let json_cli = cli(store, &["show", "61E0B2C712", "--format", "json"]);
    let text_cli = cli(store, &["show", "61E0B2C712"]);
    assert!(text_cli.starts_with("Message 61E0B2C712 on mx1"), "{text_cli}");
    assert_eq!(
        eval(c, "document.getElementById('download-json').download").await,
        "mailtrace-61E0B2C712.json"
    );
    assert_eq!(
        eval(c, "document.getElementById('download-text').download").await,
        "mailtrace-61E0B2C712.txt"
    );
    // (the page's CSP keeps the test from fetching the blob: the downloads are read instead)
    for name in ["mailtrace-61E0B2C712.json", "mailtrace-61E0B2C712.txt"] {
        let _ = std::fs::remove_file(downloads.join(name));
    }
    click(c, Locator::Css("#download-json")).await;
    assert_eq!(downloaded(&downloads.join("mailtrace-61E0B2C712.json")).await, json_cli);
    click(c, Locator::Css("#download-text")).await;
    assert_eq!(downloaded(&downloads.join("mailtrace-61E0B2C712.txt")).await, text_cli);
    // the clipboard cannot be read headless: what the buttons hand to it is caught instead
    c.execute(
        "window.__copied = [];
         Object.defineProperty(navigator.clipboard, 'writeText', {configurable: true,
           value: async (t) => { window.__copied.push(t); }});",
        vec![],
    )
    .await
    .unwrap();
    click(c, Locator::Css("#copy-json")).await;
    until(
        c,
        "document.getElementById('export-status').textContent === 'Copied the JSON'",
        "the JSON copied",
    )
    .await;
    click(c, Locator::Css("#copy-text")).await;
    until(
        c,
        "document.getElementById('export-status').textContent === 'Copied the text'",
        "the text copied",
    )
    .await;
    assert_eq!(eval(c, "window.__copied").await, json!([json_cli, text_cli]));

    // saved searches: save the criteria (a list of recipients) under a name, reload, apply,
    // delete
    let both = "accounts@example.com, marco.rossi@example.com";
    c.goto(&format!(
        "{base}/?to=accounts%40example.com&to=marco.rossi%40example.com&last=48h&timezone=UTC"
    ))
    .await
    .unwrap();
    until(
        c,
        "/^\\d+ rows$/.test(document.getElementById('row-count').textContent)",
        "the rows",
    )
    .await;
    let rows_of = "[...document.querySelectorAll('#results-body tr')].map(r => r.dataset.trace)";
    let saved_rows = eval(c, rows_of).await;
    let count = saved_rows.as_array().unwrap().len() as u64;
    assert!(count > 4, "{saved_rows}");
    assert_eq!(text(c, "#saved-none").await, "None yet.");
    c.find(Locator::Css("#save-name"))
        .await
        .unwrap()
        .send_keys("Two inboxes")
        .await
        .unwrap();
    click(c, Locator::Css("#save-form button[type=submit]")).await;
    until(
        c,
        "document.querySelectorAll('#saved-list li').length === 1",
        "the saved search",
    )
    .await;
    c.goto(&format!("{base}/?status=bounced&timezone=UTC")).await.unwrap();
    until(c, "document.getElementById('row-count').textContent.endsWith('row') || document.getElementById('row-count').textContent.endsWith('rows')", "the bounces").await;
    assert_ne!(eval(c, rows_of).await, saved_rows);
    assert_eq!(
        eval(
            c,
            "[...document.querySelectorAll('#saved-list .apply')].map(b => b.textContent)"
        )
        .await,
        json!(["Two inboxes"])
    );
    assert!(eval(c, "document.getElementById('saved-none').hidden").await == json!(true));
    click(c, Locator::Css("#saved-list .apply")).await;
    rows_shown(c, count).await;
    assert_eq!(eval(c, rows_of).await, saved_rows);
    assert_eq!(eval(c, "document.querySelector('input[name=to]').value").await, both);
    assert_eq!(
        eval(c, "document.querySelector('input[name=status][value=bounced]').checked").await,
        json!(false)
    );
    click(c, Locator::Css("#saved-list .delete")).await;
    until(
        c,
        "document.querySelectorAll('#saved-list li').length === 0",
        "the search deleted",
    )
    .await;
    c.refresh().await.unwrap();
    rows_shown(c, count).await;
    assert_eq!(
        eval(c, "document.querySelectorAll('#saved-list li').length").await,
        json!(0)
    );
    assert_eq!(
        eval(c, "localStorage.getItem('mailtrace-saved-searches')").await,
        json!("[]")
    );
}

/// The `hostile` case (tests/hostile.rs holds the CLI to the same text): its subjects,
/// addresses and replies are shown as text, in the results and the message's detail, and
/// none of the scripts in them runs (each would set `window.__pwned` or the title).
async fn hostile(c: Client, base: String) {
    let c = &c;
    const SUBJECT_1: &str = "<script>window.__pwned=1</script>\u{1b}[2J\u{1b}]0;owned\u{7}\u{1b}[31mred\u{9b}31mC1\rover <img src=x onerror=\"document.title='pwned'\">";
    const SUBJECT_2: &str = "nul\0here \u{fffd}\u{fffd} latin1 caf\u{fffd} raw C1 \u{fffd} end";
    const SENDER_1: &str = "\"<img src=x onerror=window.__pwned=2>\"@attacker.example";
    c.goto(&format!("{base}/?to=victim%40example.com&timezone=UTC"))
        .await
        .unwrap();
    rows_shown(c, 2).await;
    let cells =
        |class: &str| format!("[...document.querySelectorAll('#results-body td.{class}')].map(td => td.textContent)");
    assert_eq!(eval(c, &cells("subject")).await, json!([SUBJECT_2, SUBJECT_1]));
    let senders = eval(
        c,
        "[...document.querySelectorAll('#results-body tr')].map(tr => tr.querySelector('td.addr').textContent)",
    )
    .await;
    assert_eq!(senders, json!(["bytes@badbytes.example", SENDER_1]), "{senders}");
    c.goto(&format!("{base}/?trace=1A2B3C4D5E&timezone=UTC")).await.unwrap();
    until(
        c,
        "document.querySelector('#detail-body pre.raw')",
        "the hostile message's lines",
    )
    .await;
    let raw = eval(c, "document.querySelector('#detail-body pre.raw').textContent").await;
    let raw = raw.as_str().unwrap();
    assert!(
        raw.contains(&format!("warning: header Subject: {SUBJECT_1} from attacker.example")),
        "{raw}"
    );
    assert!(
        raw.contains("said: 550 5.7.1 <script>window.__pwned=4</script> \u{1b}]0;gotcha\u{7}rejected\r (in reply"),
        "{raw}"
    );
    let detail = eval(c, "document.getElementById('detail-body').textContent").await;
    assert!(
        detail
            .as_str()
            .unwrap()
            .contains("Saved <b onmouseover=window.__pwned=3>x</b>"),
        "{detail}"
    );
    nothing_of_the_log_ran(c, "__pwned").await;
    assert!(
        !eval(c, "document.title").await.as_str().unwrap().contains("pwned"),
        "the title was changed"
    );
}
