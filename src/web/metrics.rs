//! `/metrics` in the Prometheus text format: `serve`'s, from the store (the counters its
//! writers keep with it, and the days it holds), and a follower's own (`follow --metrics
//! ADDR`), live, with how far behind the logs it is.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use crate::metrics::exposition::{Text, CONTENT_TYPE};
use crate::store::backend::Backend;
use crate::store::follow::Tick;

/// The store's metrics: its writers' counters and the days each tier holds.
pub fn store_text(store: &dyn Backend) -> Result<String> {
    let mut t = Text::default();
    t.counters(&store.counters()?);
    let held = store.held()?;
    let hot_days = match (held.hot_first, held.hot_last) {
        (Some(a), Some(b)) => (b - a).num_days() + 1,
        _ => 0,
    };
    t.family(
        "mailtrace_store_days",
        "gauge",
        "Days the store holds, by tier (hot, archive).",
    );
    t.sample("mailtrace_store_days", &[("tier", "hot")], hot_days as f64);
    t.sample("mailtrace_store_days", &[("tier", "archive")], held.archive_days as f64);
    Ok(t.finish())
}

/// A follower's metrics after a commit at `now`.
pub fn follower_text(tick: &Tick, now: DateTime<Utc>) -> String {
    let mut t = Text::default();
    t.counters(&tick.counters);
    t.family(
        "mailtrace_follow_behind_bytes",
        "gauge",
        "Bytes written to the followed files and not read yet, at the last commit.",
    );
    t.sample("mailtrace_follow_behind_bytes", &[], tick.behind_bytes as f64);
    t.family(
        "mailtrace_follow_last_commit_timestamp_seconds",
        "gauge",
        "When the follower last committed (Unix time).",
    );
    t.sample(
        "mailtrace_follow_last_commit_timestamp_seconds",
        &[],
        now.timestamp_millis() as f64 / 1000.0,
    );
    t.finish()
}

/// Serves `text` at `http://addr/metrics` on a thread of its own; returns the address bound.
pub fn serve_follower(addr: &str, text: Arc<Mutex<String>>) -> Result<SocketAddr> {
    let addr = super::listen_address(addr)?;
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr} for --metrics"))?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("cannot start the metrics server's runtime")?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = Router::new().route(
                    "/metrics",
                    get(move || {
                        let body = text.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                        async move { ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response() }
                    }),
                );
                let _ = axum::serve(listener, app).await;
            });
        })
        .context("cannot start the metrics thread")?;
    Ok(bound)
}
