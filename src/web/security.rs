//! The server's guards: who may call the API, how big a request may be, which ids are
//! acceptable, and the headers that keep the browser strict.
//!
//! - With a token (`--token-file`), every `/api/` call needs `Authorization: Bearer TOKEN`
//!   (compared in constant time); the page asks for it once and keeps it in sessionStorage.
//! - Without one (loopback only), a call must be addressed to a loopback name (`localhost`,
//!   `127.0.0.1`, `[::1]`): a web site that rebinds its own name to 127.0.0.1 gets nothing.
//! - Request URIs are at most [`MAX_URI`] bytes and bodies at most [`MAX_BODY`].
//! - Every response says `Content-Security-Policy` (scripts and styles from this server only,
//!   no inline script, no frames), `X-Content-Type-Options: nosniff`, no referrer.

use std::sync::Arc;

use axum::extract::{Request, State as StateExtractor};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::api::ApiError;
use super::State;

/// The longest request URI accepted, in bytes.
pub const MAX_URI: usize = 8 * 1024;
/// The largest request body accepted, in bytes (the API reads none).
pub const MAX_BODY: usize = 1024;
/// The longest id `GET /api/trace/{id}` accepts (a Message-ID is at most 998 bytes).
pub const MAX_ID: usize = 998;

/// The policy of every response: nothing runs or loads but this server's own files.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The policy of the HTML report (`/api/report`): its own inline styles, nothing else; no
/// script at all.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                              form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Adds the security headers to every response (a handler may have set a stricter or
/// narrower policy of its own: [`REPORT_CSP`]).
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

/// Checks size, token and Host of every `/api/` request.
pub async fn api_guard(StateExtractor(state): StateExtractor<Arc<State>>, req: Request, next: Next) -> Response {
    if req.uri().to_string().len() > MAX_URI {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!("the request is longer than {MAX_URI} bytes: narrow the criteria"),
        )
        .into_response();
    }
    match &state.token {
        Some(token) => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            if !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
                let mut res = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "this server needs its token: send `Authorization: Bearer TOKEN` (the secret in the server's --token-file)",
                )
                .into_response();
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return res;
            }
        }
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !loopback_host(host) {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "requests must be addressed to localhost or 127.0.0.1 (Host was '{}'); to serve other \
                         names, run `mailtrace serve --token-file FILE`",
                        host.chars().take(100).collect::<String>()
                    ),
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// Whether a Host header names this machine's loopback (any port).
pub fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:8025
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(n, _)| n)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Compares two secrets in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks an id of `GET /api/trace/{id}`: a queue id, a Message-ID (with or without `<>`) or a
/// trace id. It is only ever looked up as an index term, never used as a path; still, ids
/// that look like paths out (`..` segments, backslashes), control characters and overlong ids
/// are refused.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("the id is empty: give a queue id, a Message-ID or a trace_id".into());
    }
    if id.len() > MAX_ID {
        return Err(format!("the id is longer than {MAX_ID} bytes"));
    }
    if id.chars().any(|c| c.is_control()) {
        return Err("the id holds control characters".into());
    }
    if id.contains('\\') || id.starts_with('/') || id.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err("the id looks like a file path: give a queue id, a Message-ID or a trace_id".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(check_id("4dHkTq1wXbz7Jpm").is_ok());
        assert!(check_id("<20261110000728.00Vz5f2e29@uni-example.edu>").is_ok());
        assert!(check_id("a/b@example.com").is_ok(), "a Message-ID may hold a slash");
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "a/../b",
            "..",
            "a\\b",
            "a\nb",
            "",
            " ",
        ] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_id(&"x".repeat(MAX_ID + 1)).is_err());
    }

    #[test]
    fn hosts() {
        for ok in [
            "localhost:8025",
            "127.0.0.1:8025",
            "127.0.0.1",
            "[::1]:8025",
            "LOCALHOST",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in ["evil.example:8025", "10.0.0.1:8025", "", "localhost.evil.example"] {
            assert!(!loopback_host(bad), "{bad}");
        }
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
    }
}
