//! Routes: processing URLs, the cache, graph listing, example files, the UI,
//! version/health/metrics. One function per route; errors become JSON responses
//! in one place.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::cache::CacheKey;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::process::{self, Outcome};
use crate::request;
use crate::State;

pub type Body = Full<Bytes>;

fn response(status: u16, content_type: Option<&str>, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(ct) = content_type {
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).expect("static content type"));
    }
    r
}

fn json_response(status: u16, value: &serde_json::Value) -> Response<Body> {
    response(status, Some("application/json"), Bytes::from(value.to_string()))
}

fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.status(), &e.body());
    if let Some(secs) = e.retry_after() {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

fn redirect(status: u16, location: &str) -> Response<Body> {
    let mut r = response(status, None, Bytes::new());
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// What the request log line records.
pub struct Handled {
    pub route: &'static str,
    pub cache: Option<&'static str>,
    pub response: Response<Body>,
}

/// Dispatches one request.
pub async fn handle(state: Arc<State>, req: Request<hyper::body::Incoming>) -> Handled {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string);
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|h| h.to_str().ok()).map(str::to_string);
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.split(',').any(|t| t.trim().starts_with("application/json")));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let head = method == Method::HEAD;
    let (route, cache, result) = match (segments.first().copied(), &method) {
        (Some("graph"), &Method::GET | &Method::HEAD | &Method::POST) => {
            let post = method == Method::POST;
            let (cache, r) = graph(&state, &segments[1..], &query, post, host.as_deref(), wants_json).await;
            ("graph", cache, r)
        }
        (Some("cache"), &Method::GET | &Method::HEAD) if segments.len() == 2 => {
            ("cache", None, cache_file(&state, segments[1], if_none_match.as_deref()).await)
        }
        (Some("graphs"), &Method::GET | &Method::HEAD) if segments.len() == 1 => ("graphs", None, Ok(graphs(&state))),
        (Some("files"), &Method::GET | &Method::HEAD) if path == "/files/" || path == "/files" => {
            ("files", None, Ok(file_list(&state).await))
        }
        (Some("runtime"), &Method::GET | &Method::HEAD) if segments.len() == 1 => {
            let info = state.cfg.runtime_info.clone().unwrap_or_else(|| json!({"running": false}));
            ("runtime", None, Ok(json_response(200, &info)))
        }
        (Some("files"), &Method::GET | &Method::HEAD) => {
            ("files", None, files(&state, &path["/files/".len().min(path.len())..]).await)
        }
        (Some("version"), &Method::GET | &Method::HEAD) => ("version", None, Ok(version())),
        (Some("healthz"), &Method::GET | &Method::HEAD) => {
            ("healthz", None, Ok(json_response(200, &json!({"status": "ok"}))))
        }
        (Some("readyz"), &Method::GET | &Method::HEAD) => ("readyz", None, Ok(ready(&state))),
        (Some("metrics"), &Method::GET | &Method::HEAD) => {
            ("metrics", None, Ok(response(200, Some("text/plain; version=0.0.4"), Bytes::from(state.metrics.render()))))
        }
        (Some("") | Some("debug") | Some("index.html"), &Method::GET | &Method::HEAD) => ("ui", None, ui(&state).await),
        (
            Some(
                "graph" | "cache" | "graphs" | "files" | "runtime" | "version" | "healthz" | "readyz" | "metrics" | ""
                | "debug",
            ),
            _,
        ) => ("other", None, Err(ApiError::MethodNotAllowed(method.to_string()))),
        _ => ("other", None, Err(ApiError::NotFound(format!("no such route: {path}")))),
    };
    let mut response = result.unwrap_or_else(|e| error_response(&e));
    if head {
        *response.body_mut() = Full::new(Bytes::new());
    }
    Handled { route, cache, response }
}

fn base_url(state: &State, host: Option<&str>) -> String {
    match (&state.cfg.base_url, host) {
        (Some(b), _) => b.trim_end_matches('/').to_string(),
        (None, Some(h)) if h.bytes().all(|b| b.is_ascii_graphic()) && !h.contains('/') => format!("http://{h}"),
        _ => format!("http://localhost:{}", state.local_port),
    }
}

async fn graph(
    state: &Arc<State>,
    segments: &[&str],
    query: &str,
    post: bool,
    host: Option<&str>,
    wants_json: bool,
) -> (Option<&'static str>, Result<Response<Body>, ApiError>) {
    let url = match request::parse(segments, query) {
        Ok(u) => u,
        Err(e) => return (None, Err(e)),
    };
    if url.debug && !post {
        // Before auth, as the original: the UI shows the request; it does not process.
        let mut target = String::from("/debug/graph/");
        if let (Some(k), Some(t)) = (&url.key, &url.token) {
            target.push_str(&format!("{k}/{t}/"));
        }
        target.push_str(&url.graphspec);
        let rest: Vec<String> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "debug")
            .map(|(k, v)| form_urlencoded::Serializer::new(String::new()).append_pair(&k, &v).finish())
            .collect();
        if !rest.is_empty() {
            target.push('?');
            target.push_str(&rest.join("&"));
        }
        return (None, Ok(redirect(302, &target)));
    }
    let base = base_url(state, host);
    match process::resolve(state, &url, 0, post).await {
        Ok(Outcome::Ready { key, hit }) => {
            let outcome = if hit { "hit" } else { "miss" };
            let location = format!("{base}/cache/{}", key.as_str());
            let mut r = if wants_json && !post {
                // For pages that cannot see a redirect: the same answer as JSON.
                let mut r = json_response(200, &json!({"location": location, "cache": outcome}));
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            } else {
                redirect(301, &location)
            };
            r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
            (Some(outcome), Ok(r))
        }
        Ok(Outcome::Accepted { key }) => (Some("queued"), Ok(redirect(202, &format!("{base}/cache/{}", key.as_str())))),
        Err(e) => (None, Err(e)),
    }
}

async fn cache_file(state: &State, key: &str, if_none_match: Option<&str>) -> Result<Response<Body>, ApiError> {
    let not_found = || ApiError::NotFound("no such cache entry".into());
    let key = CacheKey::parse(key).ok_or_else(not_found)?;
    let file = state.cache.get(&key).ok_or_else(not_found)?;
    let etag = file.etag.clone();
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        let mut r = response(304, None, Bytes::new());
        r.headers_mut()
            .insert(header::ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.to_string()))?);
        return Ok(r);
    }
    let data = tokio::fs::read(&file.path).await.map_err(|_| not_found())?;
    Metrics::add(&state.metrics.bytes_out, data.len() as u64);
    let ct = match imgflo_runtime::codec::sniff(&data) {
        Some(f) => f.mime(),
        None if imgflo_runtime::video::is_video(&data) => "video/mp4",
        None => "application/octet-stream",
    };
    let mut r = response(200, Some(ct), Bytes::from(data));
    let h = r.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.to_string()))?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(r)
}

fn graphs(state: &State) -> Response<Body> {
    let mut all = serde_json::Map::new();
    for g in state.graphs.all() {
        all.insert(g.name.clone(), imgflo_runtime::info::enriched_json(&g.graph, state.registry));
    }
    json_response(200, &json!({ "graphs": all }))
}

async fn files(state: &State, rel: &str) -> Result<Response<Body>, ApiError> {
    let rel = request::percent_decode(rel).ok_or_else(|| ApiError::BadRequest("invalid percent-encoding".into()))?;
    let path = crate::fetch::resolve_in_dir(&state.cfg.files_dir, &rel)
        .map_err(|_| ApiError::NotFound(format!("no such file: {rel}")))?;
    let data = tokio::fs::read(&path).await.map_err(|_| ApiError::NotFound(format!("no such file: {rel}")))?;
    let ct = imgflo_runtime::codec::sniff(&data).map(|f| f.mime()).unwrap_or_else(|| content_type_for(&rel));
    Ok(response(200, Some(ct), Bytes::from(data)))
}

/// The example inputs (regular files at the top of the files directory), by name.
async fn file_list(state: &State) -> Response<Body> {
    let mut names = Vec::new();
    if let Ok(mut dir) = tokio::fs::read_dir(&state.cfg.files_dir).await {
        while let Ok(Some(entry)) = dir.next_entry().await {
            let is_file = entry.file_type().await.is_ok_and(|t| t.is_file());
            if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                if !name.starts_with('.') {
                    names.push(name.to_string());
                }
            }
        }
    }
    names.sort();
    json_response(200, &json!(names))
}

fn content_type_for(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

const FALLBACK_UI: &str = "<!doctype html><meta charset=utf-8><title>imgflo</title>\
<h1>imgflo</h1><p>Graphs: <a href=\"/graphs\">/graphs</a>. Process: <code>/graph/&lt;name&gt;.jpg?input=...</code></p>";

async fn ui(state: &State) -> Result<Response<Body>, ApiError> {
    let page = tokio::fs::read(state.cfg.ui_dir.join("index.html")).await.unwrap_or_else(|_| FALLBACK_UI.into());
    Ok(response(200, Some("text/html; charset=utf-8"), Bytes::from(page)))
}

fn version() -> Response<Body> {
    json_response(
        200,
        &json!({"version": env!("CARGO_PKG_VERSION"), "commit": option_env!("IMGFLO_COMMIT").unwrap_or("unknown")}),
    )
}

fn ready(state: &State) -> Response<Body> {
    let errors = state.graphs.errors();
    let status = if state.graphs.all().is_empty() { 503 } else { 200 };
    json_response(status, &json!({"graphs": state.graphs.all().len(), "graph_errors": errors}))
}

/// Logs the request line and records metrics.
pub fn log(route: &'static str, status: u16, cache: Option<&'static str>, started: Instant, metrics: &Metrics) {
    metrics.request(route, status);
    tracing::info!(
        route,
        status,
        cache = cache.unwrap_or("-"),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
}
