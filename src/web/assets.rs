//! The page's files, compiled into the binary (`include_str!`): plain HTML, CSS and JavaScript
//! under `src/web/assets/`, no framework and no build step, so installing mailtrace installs
//! the page. Only the HTML is a document; the script and the style sheet are separate files
//! because the Content-Security-Policy allows no inline script or style.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");
const ICON: &str = include_str!("assets/favicon.svg");

fn file(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // small files, and a new binary may bring new ones: revalidate rather than cache
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `GET /`: the page (its state, the query, is in the URL).
pub async fn index() -> Response {
    file(INDEX, "text/html; charset=utf-8")
}

/// `GET /app.js`.
pub async fn script() -> Response {
    file(SCRIPT, "text/javascript; charset=utf-8")
}

/// `GET /style.css`.
pub async fn style() -> Response {
    file(STYLE, "text/css; charset=utf-8")
}

/// `GET /favicon.svg`.
pub async fn icon() -> Response {
    file(ICON, "image/svg+xml")
}
