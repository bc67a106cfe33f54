//! `mailtrace serve`: the trace as a local web page, served by mailtrace itself.
//!
//! The page is a static HTML/CSS/JS bundle embedded in the binary ([`assets`]); it talks to a
//! small JSON API ([`api`]) that answers with the CLI's own output contract: search rows are
//! the `Row`s `search --format ndjson` prints, a trace is what `show --format json` prints,
//! CSV is `search --format csv`. Criteria come in under the CLI's names and are read by the
//! one parser both front ends share ([`crate::query::CriteriaText`], via [`params`]).
//!
//! Each request opens the store afresh (opening is a directory listing and a few mmaps), so
//! the page sees what `index`/`follow` committed a moment ago. The store's calls block, so
//! they run on tokio's blocking pool, a few at a time (a semaphore caps them).
//!
//! Security ([`security`]): loopback by default; any other address needs `--token-file`, and a
//! token, when given, is required as `Authorization: Bearer …` on every API call. Without a
//! token the API answers only requests addressed to a loopback host name (no DNS rebinding).
//! Every response carries a strict Content-Security-Policy (no inline script, nothing from
//! elsewhere) and `nosniff`; the page builds its DOM with `textContent` only, so log-derived
//! text (attacker-controlled) is never markup. Requests are small (URI and body capped), and
//! results are capped (`limit`, at most [`params::MAX_LIMIT`] rows).

pub mod api;
pub mod assets;
pub mod metrics;
pub mod params;
pub mod security;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use axum::routing::get;
use axum::Router;

use crate::app::{exit, Common};

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8025";

/// How many store reads run at once; more requests wait their turn.
const CONCURRENT_READS: usize = 4;

/// What every request handler shares.
pub struct State {
    /// Where and how to read (the store, the zone for times without an offset, "now").
    pub common: Common,
    /// The bearer token required on API calls, if any.
    pub token: Option<String>,
    /// Admits a few store reads at a time.
    reads: tokio::sync::Semaphore,
}

impl State {
    /// The state of a server reading with `common`, requiring `token` when given.
    pub fn new(common: Common, token: Option<String>) -> State {
        State {
            common,
            token,
            reads: tokio::sync::Semaphore::new(CONCURRENT_READS),
        }
    }
}

/// The routes: the page's files at `/`, the API under `/api/`, with the security layers.
pub fn router(state: Arc<State>) -> Router {
    let api = Router::new()
        .route("/api/search", get(api::search))
        .route("/api/search.csv", get(api::search_csv))
        .route("/api/trace/{id}", get(api::trace))
        .route("/api/stats", get(api::stats))
        .route("/api/report", get(api::report))
        .route("/metrics", get(api::metrics))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            security::api_guard,
        ));
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/style.css", get(assets::style))
        .route("/favicon.svg", get(assets::icon))
        .merge(api)
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::extract::DefaultBodyLimit::max(security::MAX_BODY))
        .with_state(state)
}

/// Reads the bearer token from `path`: its first line, trimmed; at least 16 characters.
pub fn read_token(path: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or("").trim().to_string();
    if token.chars().count() < 16 {
        bail!(
            "the token file {} must hold a secret of at least 16 characters on its first line \
             (e.g. `head -c 32 /dev/urandom | base64 > {}`)",
            path.display(),
            path.display()
        );
    }
    Ok(token)
}

/// `mailtrace serve`: serves the page and the API on `listen` until Ctrl-C or SIGTERM. Refuses a
/// non-loopback address without `token_file`. Says where it listens on `out` (one line).
pub fn serve(
    mut common: Common,
    listen: Option<String>,
    token_file: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<u8> {
    // the config's [serve] keys stand in for the flags not given; the store is settled once
    let configured = common.load_config()?.serve;
    let listen = listen.or(configured.listen).unwrap_or_else(|| DEFAULT_LISTEN.into());
    let token_file = token_file.or(configured.token_file);
    common.store = Some(common.store_dir()?);
    let addr = listen_address(&listen)?;
    let token = token_file.as_deref().map(read_token).transpose()?;
    if !addr.ip().is_loopback() && token.is_none() {
        bail!(
            "refusing to listen on {addr} without --token-file: anyone who reaches it could read your \
             mail logs. Put a secret in a file (`head -c 32 /dev/urandom | base64 > /etc/mailtrace/token; \
             chmod 600 /etc/mailtrace/token`) and pass --token-file /etc/mailtrace/token, or keep the \
             default 127.0.0.1:8025 and reach it through an SSH tunnel (ssh -L 8025:127.0.0.1:8025 host)"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()
        .context("cannot start the web server's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let bound = listener.local_addr()?;
        let host = match bound {
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
            SocketAddr::V4(a) => a.to_string(),
        };
        let auth = if token.is_some() {
            " (bearer token required)"
        } else {
            ""
        };
        writeln!(out, "listening on http://{host}/{auth}")?;
        out.flush()?;
        let state = Arc::new(State::new(common, token));
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown())
            .await
            .context("the web server stopped")?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(exit::FOUND)
}

/// Reads `--listen`: `ADDR:PORT` (`127.0.0.1:8025`, `[::1]:8025`, `0.0.0.0:8025`), or
/// `localhost:PORT` for loopback.
pub fn listen_address(text: &str) -> Result<SocketAddr> {
    if let Some(port) = text.strip_prefix("localhost:") {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    text.parse().with_context(|| {
        format!("--listen '{text}' is not an address:port such as 127.0.0.1:8025, localhost:8025 or [::1]:8025")
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn listen_addresses() {
        use super::listen_address;
        assert_eq!(listen_address("127.0.0.1:8025").unwrap().to_string(), "127.0.0.1:8025");
        assert_eq!(listen_address("localhost:9000").unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(listen_address("[::1]:8025").unwrap().to_string(), "[::1]:8025");
        assert!(listen_address("0.0.0.0:8025").unwrap().ip().is_unspecified());
        assert!(listen_address("mailhost:8025").is_err());
        assert!(listen_address("127.0.0.1").is_err());
    }
}
