//! The JSON API's handlers. Each one reads its parameters ([`super::params`]), runs an app-layer
//! function on the blocking pool ([`crate::app::search_rows`], [`crate::app::show_traces`]) and
//! answers with the CLI's output contract:
//!
//! - `GET /api/search`: `{"rows": [Row…], "total", "truncated", "limit", "hint"}`, the rows
//!   exactly as `search --format ndjson` prints them;
//! - `GET /api/search.csv`: `search --format csv`;
//! - `GET /api/trace/{id}`: `show ID --format json` (an array: trace, rows, raw lines);
//!   `?format=text`: `show ID` as text;
//! - `GET /api/stats`: per-status counts and counts over time of a search's rows, and what the
//!   store holds.
//!
//! Errors are `{"error": "…"}` (with `"parameter"` when one parameter is at fault): 400 for a
//! bad parameter or id, 404 for an unknown id or a missing store, 500 when the store fails.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State as StateExtractor};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::params::{self, Search, DEFAULT_LIMIT, MAX_LIMIT};
use super::security::check_id;
use super::State;
use crate::app::{search_rows, show_traces, SearchResult};
use crate::output::{write_rows, Format, Row};
use crate::trace::Status;

/// An error answer: a status code and a message for people.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The query parameter at fault, if one is.
    pub parameter: Option<String>,
}

impl ApiError {
    /// An error answer with this code and message (no parameter named).
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            parameter: None,
        }
    }

    fn internal(e: anyhow::Error) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"))
    }
}

impl From<params::ParamError> for ApiError {
    fn from(e: params::ParamError) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: e.to_string(),
            parameter: Some(e.param),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some(p) = self.parameter {
            body["parameter"] = p.into();
        }
        json_response(self.status, body.to_string().into_bytes())
    }
}

/// A JSON body that no cache keeps (the store changes under it).
fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Runs `work` on the blocking pool, at most a few at a time, after checking the store exists.
async fn blocking<T: Send + 'static>(
    state: &Arc<State>,
    work: impl FnOnce(&State) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = state
        .reads
        .acquire()
        .await
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"))?;
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let dir = state
            .common
            .store_dir()
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?;
        if crate::store::backend::is_missing(&dir) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no mailtrace store at {}: fill it with `mailtrace index --store {} /var/log/mail.log` \
                     (or point `mailtrace serve --store DIR` at the store you index into)",
                    dir.display(),
                    dir.display()
                ),
            ));
        }
        work(&state)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("the request failed: {e}")))?
}

/// Runs the search a request asks for.
async fn run_search(
    state: &Arc<State>,
    query: Option<String>,
    default_limit: usize,
) -> Result<(Search, SearchResult), ApiError> {
    let search = params::parse(query.as_deref().unwrap_or(""), &state.common, default_limit)?;
    blocking(state, move |_| {
        let found = search_rows(&search.common, &search.criteria, Some(search.limit)).map_err(ApiError::internal)?;
        Ok((search, found))
    })
    .await
}

/// The body of `GET /api/search`.
#[derive(Serialize)]
struct SearchAnswer<'a> {
    rows: &'a [Row],
    /// Rows that matched in all (more than `rows` when truncated).
    total: usize,
    /// Whether `rows` stops at `limit` while more matched.
    truncated: bool,
    limit: usize,
    /// What the store holds and where else to look, for when nothing matched.
    hint: &'a str,
}

/// `GET /api/search?…`: the matching rows, newest first.
pub async fn search(
    StateExtractor(state): StateExtractor<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (search, found) = run_search(&state, query, DEFAULT_LIMIT).await?;
    let answer = SearchAnswer {
        rows: &found.rows,
        total: found.total.max(found.rows.len()),
        truncated: found.total > found.rows.len(),
        limit: search.limit,
        hint: &found.hint,
    };
    let body = serde_json::to_vec(&answer).map_err(|e| ApiError::internal(e.into()))?;
    Ok(json_response(StatusCode::OK, body))
}

/// `GET /api/search.csv?…`: the same rows as `search --format csv`, as a download.
pub async fn search_csv(
    StateExtractor(state): StateExtractor<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (_, found) = run_search(&state, query, DEFAULT_LIMIT).await?;
    let mut body = Vec::new();
    write_rows(&mut body, &found.rows, Format::Csv, None).map_err(ApiError::internal)?;
    let mut res = Response::new(Body::from(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"mailtrace.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /api/trace/{id}`: what `show ID --format json` prints; with `?format=text`, what
/// `show ID` prints (as `text/plain`); 404 when no message has the id.
pub async fn trace(
    StateExtractor(state): StateExtractor<Arc<State>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    check_id(&id).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e))?;
    let mut text = false;
    for (key, value) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("format", "json") => text = false,
            ("format", "text") => text = true,
            ("format", _) => {
                return Err(ApiError {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("format: '{value}' is neither json nor text"),
                    parameter: Some("format".into()),
                })
            }
            _ => {
                let shown: String = key.chars().take(40).collect();
                return Err(ApiError {
                    status: StatusCode::BAD_REQUEST,
                    message: format!("{shown}: unknown parameter; /api/trace/{{id}} takes format (json or text)"),
                    parameter: Some(shown),
                });
            }
        }
    }
    let body = blocking(&state, move |state| {
        let shown = show_traces(&state.common, &id).map_err(ApiError::internal)?;
        if shown.traces.is_empty() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no message with queue id, Message-ID or trace id '{id}' in the store"),
            ));
        }
        let mut body = Vec::new();
        if text {
            shown.write_text(&mut body).map_err(ApiError::internal)?;
        } else {
            shown.write_json(&mut body).map_err(ApiError::internal)?;
        }
        Ok(body)
    })
    .await?;
    if !text {
        return Ok(json_response(StatusCode::OK, body));
    }
    let mut res = Response::new(Body::from(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// How many rows have a status.
#[derive(Serialize)]
struct StatusCount {
    status: &'static str,
    count: usize,
}

/// Rows per status in one stretch of time.
#[derive(Serialize)]
struct Bucket {
    start: String,
    counts: Vec<StatusCount>,
}

/// `GET /api/stats?…`: per-status counts of the rows a search finds (up to `limit`, default
/// and at most 10 000, newest first), the same over time, and what the store holds.
pub async fn stats(
    StateExtractor(state): StateExtractor<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (search, found) = run_search(&state, query, MAX_LIMIT).await?;
    let store = blocking(&state, |state| store_summary(state).map_err(ApiError::internal)).await?;
    let times: Vec<(i64, Status)> = found
        .rows
        .iter()
        .filter_map(|r| {
            let t = chrono::DateTime::parse_from_rfc3339(&r.time).ok()?.timestamp();
            Some((t, Status::parse(&r.status).unwrap_or(Status::InProgress)))
        })
        .collect();
    let counts = |of: &mut dyn Iterator<Item = Status>| {
        let mut n = [0usize; Status::ALL.len()];
        for s in of {
            n[Status::ALL.iter().position(|x| *x == s).unwrap_or(0)] += 1;
        }
        Status::ALL
            .iter()
            .zip(n)
            .filter(|(_, c)| *c > 0)
            .map(|(s, count)| StatusCount {
                status: s.as_str(),
                count,
            })
            .collect::<Vec<_>>()
    };
    let statuses = counts(&mut times.iter().map(|t| t.1));
    let (width, buckets) = match (times.iter().map(|t| t.0).min(), times.iter().map(|t| t.0).max()) {
        (Some(first), Some(last)) => {
            let width = bucket_width(last - first);
            let start = first.div_euclid(width) * width;
            let n = ((last - start) / width + 1) as usize;
            let buckets = (0..n)
                .map(|i| {
                    let from = start + i as i64 * width;
                    Bucket {
                        start: chrono::DateTime::from_timestamp(from, 0)
                            .map(crate::output::rfc3339)
                            .unwrap_or_default(),
                        counts: counts(&mut times.iter().filter(|t| t.0 >= from && t.0 < from + width).map(|t| t.1)),
                    }
                })
                .collect();
            (width, buckets)
        }
        _ => (3600, Vec::new()),
    };
    let body = serde_json::json!({
        "total": found.total.max(found.rows.len()),
        "counted": found.rows.len(),
        "truncated": found.total > found.rows.len(),
        "limit": search.limit,
        "statuses": statuses,
        "bucket_seconds": width,
        "buckets": buckets,
        "store": store,
    });
    Ok(json_response(StatusCode::OK, body.to_string().into_bytes()))
}

/// A bucket width that cuts `span` seconds into at most 60 buckets.
fn bucket_width(span: i64) -> i64 {
    const WIDTHS: [i64; 9] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400];
    WIDTHS.into_iter().find(|w| span / w < 60).unwrap_or(30 * 86_400)
}

/// The store's path, its first and last hot day, and how many days are archived.
fn store_summary(state: &State) -> anyhow::Result<crate::store::backend::Held> {
    state.common.open_store()?.held()
}

/// `/api/report`'s own parameters (`format`, `top`), and the rest of the query (the criteria).
fn report_params(query: &str) -> Result<(crate::report::Format, usize, String), ApiError> {
    let (mut format, mut top) = (crate::report::Format::Html, 10usize);
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let bad = |message: String| ApiError {
            status: StatusCode::BAD_REQUEST,
            message,
            parameter: Some(key.to_string()),
        };
        match key.as_ref() {
            "format" => {
                format = match value.as_ref() {
                    "html" => crate::report::Format::Html,
                    "json" => crate::report::Format::Json,
                    "text" => crate::report::Format::Text,
                    v => return Err(bad(format!("format: '{v}' is none of html, json, text"))),
                }
            }
            "top" => {
                top = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| bad(format!("top: '{value}' is not a number from 1 to 1000")))?
            }
            _ => {
                rest.append_pair(&key, &value);
            }
        }
    }
    Ok((format, top, rest.finish()))
}

/// `GET /api/report`: `mailtrace report` over the criteria of a search, as `format` (`html`,
/// the default, `json` or `text`), with the `top` (default 10) first of each list.
pub async fn report(
    StateExtractor(state): StateExtractor<Arc<State>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (format, top, rest) = report_params(query.as_deref().unwrap_or(""))?;
    let search = params::parse(&rest, &state.common, MAX_LIMIT)?;
    let body = blocking(&state, move |_| {
        let (r, _) = crate::app::report_of(&search.common, &search.criteria, top).map_err(ApiError::internal)?;
        let mut body = Vec::new();
        r.write(format, &mut body).map_err(ApiError::internal)?;
        Ok(body)
    })
    .await?;
    let content_type = match format {
        crate::report::Format::Html => "text/html; charset=utf-8",
        crate::report::Format::Json => "application/json",
        crate::report::Format::Text => "text/plain; charset=utf-8",
    };
    let mut res = Response::new(Body::from(body));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if format == crate::report::Format::Html {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(super::security::REPORT_CSP),
        );
    }
    Ok(res)
}

/// `GET /metrics`: the store's metrics in the Prometheus text format.
pub async fn metrics(StateExtractor(state): StateExtractor<Arc<State>>) -> Result<Response, ApiError> {
    let text = blocking(&state, |state| {
        let store = state.common.open_store().map_err(ApiError::internal)?;
        super::metrics::store_text(&*store).map_err(ApiError::internal)
    })
    .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::exposition::CONTENT_TYPE,
        )],
        text,
    )
        .into_response())
}

/// Any other `/api/` path.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint: the API has /api/search, /api/search.csv, /api/trace/{id} and /api/stats, and /metrics (docs/API.md)",
    )
}

/// Anything but GET on an API path.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "the API only reads: use GET (parameters in the query string)",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn bucket_widths() {
        assert_eq!(super::bucket_width(0), 60);
        assert_eq!(super::bucket_width(3600), 300);
        assert_eq!(super::bucket_width(86_400), 3600);
        assert_eq!(super::bucket_width(10 * 86_400), 6 * 3600);
        assert_eq!(super::bucket_width(90 * 86_400), 7 * 86_400);
    }
}
