//! The request path of a processing URL: auth → size rule → graph → output type →
//! parameters → cache key → cache hit, or single-flight job: fetch input (network
//! rules, byte cap) → decode (pixel limit) → evaluate on a worker lane (deadline) →
//! encode → atomic cache store.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use imgflo_runtime::codec::{EncodeOptions, OutputFormat};
use imgflo_runtime::eval::{self, EvalError};
use imgflo_runtime::ops::{Cancel, FileAccess, Limits, OpError, RunContext};
use imgflo_runtime::pipeline::{self, InputLimits, Output, PipelineError};
use serde_json::{json, Value};

use crate::auth::{AuthError, Scope};
use crate::cache::{compute_key, CacheKey};
use crate::error::ApiError;
use crate::graphs::StoredGraph;
use crate::jobs::{self, Urgency};
use crate::metrics::Metrics;
use crate::request::{self, ProcessingUrl};
use crate::State;

/// Chained `graph/...` inputs nest at most this deep.
pub const MAX_CHAIN_DEPTH: u8 = 3;

/// What became of a processing request.
#[derive(Debug)]
pub enum Outcome {
    /// The result is in the cache (a hit, or processed now).
    Ready { key: CacheKey, hit: bool },
    /// Queued on the background lane (POST).
    Accepted { key: CacheKey },
}

/// The output formats of image graphs (`mp4`: video, frame by frame).
pub const IMAGE_FORMATS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "gif", "mp4"];

fn auth(state: &State, url: &ProcessingUrl, scope: Scope) -> Result<(), ApiError> {
    let scope = if url.no_cache { Scope::Admin } else { scope };
    match state.auth.check(url.key.as_deref(), url.token.as_deref(), &url.graphspec, &url.search(), scope) {
        Ok(()) => Ok(()),
        Err(AuthError::Denied(reason)) => {
            tracing::info!(reason, "request denied");
            Err(ApiError::Forbidden)
        }
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// The valid parameters of a graph with their metadata (the 449 body).
pub fn parameter_list(state: &State, graph: &StoredGraph) -> Value {
    let mut out = serde_json::Map::new();
    for info in imgflo_runtime::info::inports(&graph.graph, state.registry)
        .into_iter()
        .chain(imgflo_runtime::info::request_inports(&graph.graph))
    {
        if info.name == "input" {
            continue;
        }
        let mut meta = info.metadata;
        // Flowhub layout keys are not parameter metadata.
        for layout in ["x", "y", "width", "height"] {
            meta.remove(layout);
        }
        out.insert(info.name, Value::Object(meta));
    }
    Value::Object(out)
}

fn map_eval_error(state: &State, graph: &StoredGraph, e: EvalError) -> ApiError {
    match e {
        EvalError::UnknownParameter { name, .. } => {
            ApiError::UnknownParameter { name, valid: parameter_list(state, graph) }
        }
        EvalError::InvalidParameter { name, message } => {
            let allowed = imgflo_runtime::info::inports(&graph.graph, state.registry)
                .into_iter()
                .find(|i| i.name == name)
                .map(|i| {
                    let m = i.metadata;
                    json!({"type": m.get("type"), "minimum": m.get("minimum"), "maximum": m.get("maximum"), "values": m.get("values")})
                });
            ApiError::InvalidParameter { name, message, allowed }
        }
        EvalError::DeadlineExceeded => ApiError::Deadline { secs: state.cfg.job_deadline.as_secs_f64() },
        EvalError::Node { source: OpError::TooLarge { .. }, .. } => {
            ApiError::InputImage { input: String::new(), reason: e.to_string() }
        }
        EvalError::Graph(g) => ApiError::Processing(format!("graph {} is invalid: {g}", graph.name)),
        other => ApiError::Processing(other.to_string()),
    }
}

/// Resolves a processing URL to a cache entry, processing it if needed.
pub fn resolve<'a>(
    state: &'a Arc<State>,
    url: &'a ProcessingUrl,
    depth: u8,
    background: bool,
) -> BoxFuture<'a, Result<Outcome, ApiError>> {
    Box::pin(async move {
        auth(state, url, Scope::Cache)?;
        let size_params: Vec<(String, String)> =
            url.params.iter().filter(|(k, _)| k == "width" || k == "height").cloned().collect();
        if !request::within_size_limit(&size_params, state.cfg.size_limit_megapixels) {
            return Err(ApiError::SizeLimit { limit_megapixels: state.cfg.size_limit_megapixels });
        }
        let graph = state.graphs.get(&url.graph).ok_or_else(|| ApiError::UnknownGraph(url.graph.clone()))?;
        let noop = graph.graph.runtime_type() == Some("noop");
        match graph.graph.runtime_type() {
            Some("noop") => {
                if let Some((name, _)) = url.params.first() {
                    return Err(ApiError::UnknownParameter { name: name.clone(), valid: json!({}) });
                }
            }
            None | Some("imgflo" | "noflo-browser" | "noflo-nodejs") => {
                if !IMAGE_FORMATS.contains(&url.ext.as_str()) {
                    return Err(ApiError::UnsupportedType {
                        ext: url.ext.clone(),
                        supported: IMAGE_FORMATS.iter().map(|s| s.to_string()).collect(),
                    });
                }
                let raw: Vec<(String, Value)> =
                    url.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                eval::bind_params(&graph.graph, state.registry, &raw).map_err(|e| map_eval_error(state, &graph, e))?;
            }
            Some(other) => {
                return Err(ApiError::NotImplemented(format!("graphs for the {other:?} runtime are not supported yet")))
            }
        }
        if noop && url.input.is_none() {
            return Err(ApiError::InvalidParameter {
                name: "input".into(),
                message: "the noop graph needs an input".into(),
                allowed: None,
            });
        }
        let key = compute_key(
            &graph.name,
            &graph.version,
            &url.canonical_params(),
            url.input.as_deref().unwrap_or(""),
            url.normalized_ext(),
        );
        if !url.no_cache && state.cache.contains(&key) {
            Metrics::add(&state.metrics.cache_hits, 1);
            return Ok(Outcome::Ready { key, hit: true });
        }
        auth(state, url, Scope::Processing)?;
        Metrics::add(&state.metrics.cache_misses, 1);
        let job_state = state.clone();
        let job_url = url.clone();
        let job_key = key.clone();
        // A pre-heat that could not even queue is refused now, not accepted and lost.
        if background && state.background.is_full() && !state.flights.contains(key.as_str()) {
            return Err(ApiError::QueueFull { retry_after_secs: 2 });
        }
        let (flight, joined) = state.flights.join(key.as_str(), !background, move |urgency| async move {
            run_job(&job_state, graph, job_url, job_key, depth, urgency).await.map_err(Arc::new)
        });
        if joined {
            Metrics::add(&state.metrics.coalesced, 1);
        }
        if background {
            return Ok(Outcome::Accepted { key });
        }
        match flight.await {
            Ok(()) => Ok(Outcome::Ready { key, hit: false }),
            Err(e) => Err(e.as_ref().clone()),
        }
    })
}

async fn run_job(
    state: &Arc<State>,
    graph: StoredGraph,
    url: ProcessingUrl,
    key: CacheKey,
    depth: u8,
    mut urgency: Urgency,
) -> Result<(), ApiError> {
    let started = Instant::now();
    let input = match &url.input {
        Some(src) => Some(fetch_input(state, src, depth).await?),
        None => None,
    };
    let bytes = if graph.graph.runtime_type() == Some("noop") {
        input.map(|b| b.to_vec()).unwrap_or_default()
    } else {
        // Video (in or out) has its own lane and deadline: it never takes a worker
        // image requests wait for.
        let video = url.ext == "mp4" || input.as_deref().is_some_and(imgflo_runtime::video::is_video);
        let deadline = if video { state.cfg.video_deadline } else { state.cfg.job_deadline };
        let st = state.clone();
        let g = graph.clone();
        let u = url.clone();
        state.metrics.queue_depth.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A pre-heat waits on the background lane until a GET joins it; then it
        // takes the urgent lane, so GET work never queues behind pre-heating.
        let permit = if video {
            state.video.acquire().await
        } else if urgency.is_urgent() {
            state.urgent.acquire().await
        } else {
            tokio::select! {
                permit = state.background.acquire() => permit,
                () = urgency.became_urgent() => state.urgent.acquire().await,
            }
        };
        let result = match permit {
            Ok(permit) => {
                jobs::run_blocking(permit, move || {
                    st.metrics.queue_depth.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    st.metrics.in_flight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let r = render(&st, &g, &u, input, deadline);
                    st.metrics.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    r
                })
                .await
            }
            Err(e) => Err(e),
        };
        if matches!(result, Err(ApiError::QueueFull { .. })) {
            state.metrics.queue_depth.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        match result.and_then(|r| r) {
            Ok(b) => b,
            Err(e) => {
                Metrics::add(&state.metrics.processing_errors, 1);
                return Err(e);
            }
        }
    };
    let cache = state.cache.clone();
    let k = key.clone();
    tokio::task::spawn_blocking(move || cache.put(&k, &bytes))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot store result: {e}")))?;
    Metrics::add(&state.metrics.processed, 1);
    state.metrics.processing_time(&graph.name, started.elapsed());
    tracing::debug!(graph = %graph.name, key = %key.as_str(), ms = started.elapsed().as_millis() as u64, "processed");
    Ok(())
}

/// Decode → evaluate (per frame for animations and video) → encode, on a worker
/// thread.
fn render(
    state: &State,
    graph: &StoredGraph,
    url: &ProcessingUrl,
    input: Option<Bytes>,
    deadline: std::time::Duration,
) -> Result<Vec<u8>, ApiError> {
    let input_name = url.input.clone().unwrap_or_default();
    let params: Vec<(String, Value)> = url.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let output = Output::from_extension(&url.ext).ok_or_else(|| ApiError::UnsupportedType {
        ext: url.ext.clone(),
        supported: IMAGE_FORMATS.iter().map(|s| s.to_string()).collect(),
    })?;
    let ctx = RunContext {
        cancel: Cancel::with_deadline(Instant::now() + deadline),
        limits: Limits { max_pixels: state.cfg.max_input_pixels },
        fetch: None,
        files: FileAccess::None,
    };
    let request = pipeline::Request {
        graph: &graph.graph,
        registry: state.registry,
        input: input.as_deref(),
        params: &params,
        output,
        quality: EncodeOptions::new(OutputFormat::Jpeg).quality,
        limits: InputLimits {
            max_pixels: state.cfg.max_input_pixels,
            animation: state.cfg.animation_limits,
            video: state.cfg.video_limits,
        },
    };
    let image_err = |reason: String| ApiError::InputImage { input: input_name.clone(), reason };
    pipeline::process(&request, &ctx).map_err(|e| match e {
        PipelineError::Input(e) => image_err(e.to_string()),
        PipelineError::InputVideo(e) => image_err(e.to_string()),
        PipelineError::NotAVideo => image_err(e.to_string()),
        PipelineError::Eval(EvalError::DeadlineExceeded) => ApiError::Deadline { secs: deadline.as_secs_f64() },
        PipelineError::Eval(e) => map_eval_error(state, graph, e),
        PipelineError::Encode(e) => ApiError::Processing(e.to_string()),
        PipelineError::EncodeVideo(e) => ApiError::Processing(e.to_string()),
    })
}

/// Reads an input: an http(s) URL (network rules apply), `files/...` from the files
/// directory, or `graph/...` processed in-process (a chained request).
async fn fetch_input(state: &Arc<State>, src: &str, depth: u8) -> Result<Bytes, ApiError> {
    let fetch_err = |reason: String| ApiError::InputFetch { input: src.to_string(), reason };
    let bytes = if src.starts_with("http://") || src.starts_with("https://") {
        state.fetcher.fetch(src).await.map_err(|e| fetch_err(e.to_string()))?
    } else {
        let rel = src.trim_start_matches('/');
        if let Some(file) = rel.strip_prefix("files/") {
            let path =
                crate::fetch::resolve_in_dir(&state.cfg.files_dir, file).map_err(|e| fetch_err(e.to_string()))?;
            let data = tokio::fs::read(&path).await.map_err(|_| fetch_err("not found".into()))?;
            Bytes::from(data)
        } else if let Some(chained) = rel.strip_prefix("graph/") {
            if depth >= MAX_CHAIN_DEPTH {
                return Err(fetch_err(format!("chained graph requests nest deeper than {MAX_CHAIN_DEPTH}")));
            }
            let (path, query) = chained.split_once('?').unwrap_or((chained, ""));
            let segments: Vec<&str> = path.split('/').collect();
            let inner = request::parse(&segments, query).map_err(|e| fetch_err(e.to_string()))?;
            let key = match resolve(state, &inner, depth + 1, false).await {
                Ok(Outcome::Ready { key, .. }) | Ok(Outcome::Accepted { key }) => key,
                Err(e) => return Err(fetch_err(format!("chained request failed: {e}"))),
            };
            let file = state.cache.get(&key).ok_or_else(|| fetch_err("chained result vanished".into()))?;
            Bytes::from(tokio::fs::read(&file.path).await.map_err(|e| fetch_err(e.to_string()))?)
        } else {
            return Err(fetch_err("input must be an http(s) URL, files/... or graph/...".into()));
        }
    };
    Metrics::add(&state.metrics.bytes_in, bytes.len() as u64);
    Ok(bytes)
}
