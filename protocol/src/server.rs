//! The transport: one port for WebSocket (the protocol, echoing the `noflo`
//! subprotocol) and plain HTTP (`GET /process` previews, `GET /`), on hyper. Each
//! WebSocket's text frames go to a [`Session`]; its bounded outgoing queue is
//! written back as text frames.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, CONNECTION, CONTENT_TYPE, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::WebSocketStream;

use crate::http::Answer;
use crate::messages::Message;
use crate::session::{Runtime, Session};

/// Transport limits.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Largest accepted message (and frame), in bytes.
    pub max_message_bytes: usize,
    /// Messages that may wait in one connection's outgoing queue; a client that
    /// lets it fill up is disconnected.
    pub queue_capacity: usize,
    /// Time allowed for reading a request head (and so the WebSocket handshake).
    pub handshake_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { max_message_bytes: 8 << 20, queue_capacity: 4096, handshake_timeout: Duration::from_secs(10) }
    }
}

/// What every connection shares.
struct Shared {
    runtime: Arc<Runtime>,
    config: ServerConfig,
    stop: watch::Receiver<bool>,
    /// Open WebSocket sessions (they outlive their HTTP connection task).
    sessions: AtomicUsize,
}

/// Serves connections from `listener` until `shutdown` resolves; then closes every
/// WebSocket (with a close frame) and returns.
pub async fn serve(
    listener: TcpListener,
    runtime: Arc<Runtime>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        if runtime.options.base_url.is_none() {
            runtime.set_listen_address(addr);
        }
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared { runtime, config, stop: stop_rx, sessions: AtomicUsize::new(0) });
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                tasks.spawn(async move {
                    let service = hyper::service::service_fn(|req| route(req, shared.clone()));
                    let conn = hyper::server::conn::http1::Builder::new()
                        .header_read_timeout(shared.config.handshake_timeout)
                        .timer(hyper_util::rt::TokioTimer::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades();
                    let mut stop = shared.stop.clone();
                    tokio::pin!(conn);
                    tokio::select! {
                        r = conn.as_mut() => if let Err(e) = r { tracing::debug!(%peer, error = %e, "connection ended with an error") },
                        _ = stop.changed() => conn.as_mut().graceful_shutdown(),
                    }
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    let _ = stop_tx.send(true);
    let drain = async {
        while tasks.join_next().await.is_some() {}
        while shared.sessions.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(2), drain).await.is_err() {
        tasks.abort_all();
    }
    Ok(())
}

fn respond(answer: Answer) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(answer.body)));
    *resp.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    resp.headers_mut().insert(hyper::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Whether a header's comma-separated list holds `token` (case-insensitive).
fn header_has(req: &Request<Incoming>, name: hyper::header::HeaderName, token: &str) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(token))
}

async fn route(mut req: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Full<Bytes>>, Infallible> {
    if header_has(&req, UPGRADE, "websocket") {
        return Ok(upgrade(&mut req, shared));
    }
    let rt = shared.runtime.clone();
    let answer = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/process") => {
            let query = req.uri().query().unwrap_or("").to_string();
            let task = tokio::task::spawn_blocking(move || crate::http::process(&rt, &query));
            task.await.unwrap_or_else(|_| Answer::error(500, "the preview failed"))
        }
        (&Method::GET | &Method::HEAD, "/") => crate::http::about(&rt),
        (_, "/process" | "/") => Answer::error(405, "only GET is supported here"),
        (_, path) => Answer::error(
            404,
            &format!("nothing at {path}: WebSocket clients connect to any path; previews are at /process"),
        ),
    };
    let head = req.method() == Method::HEAD;
    let mut resp = respond(answer);
    if head {
        *resp.body_mut() = Full::new(Bytes::new());
    }
    Ok(resp)
}

/// Answers a WebSocket handshake (101) and runs the session once upgraded.
fn upgrade(req: &mut Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
    let key = req.headers().get(SEC_WEBSOCKET_KEY).map(|k| k.as_bytes().to_vec());
    let version_ok = req.headers().get("sec-websocket-version").is_some_and(|v| v.as_bytes() == b"13");
    let Some(key) = key.filter(|_| version_ok && req.method() == Method::GET) else {
        return respond(Answer::error(400, "bad WebSocket handshake: GET with Sec-WebSocket-Key and version 13"));
    };
    let noflo = header_has(req, SEC_WEBSOCKET_PROTOCOL, "noflo");
    let on_upgrade = hyper::upgrade::on(req);
    static SESSIONS: AtomicUsize = AtomicUsize::new(1);
    let span = tracing::info_span!("session", id = SESSIONS.fetch_add(1, Ordering::Relaxed));
    let task = async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                // Messages up to 8x the cap are read whole and answered with an error,
                // so the connection stays usable; beyond that it is closed.
                let hard_cap = shared.config.max_message_bytes.saturating_mul(8);
                let ws_config =
                    WebSocketConfig::default().max_message_size(Some(hard_cap)).max_frame_size(Some(hard_cap));
                let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config)).await;
                shared.sessions.fetch_add(1, Ordering::SeqCst);
                if let Err(e) = session(ws, &shared).await {
                    tracing::debug!(error = %e, "session ended with an error");
                }
                shared.sessions.fetch_sub(1, Ordering::SeqCst);
            }
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    };
    tokio::spawn(tracing::Instrument::instrument(task, span));
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(SEC_WEBSOCKET_ACCEPT, HeaderValue::from_str(&derive_accept_key(&key)).expect("base64 is a valid header"));
    if noflo {
        h.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("noflo"));
    }
    resp
}

async fn session<S>(ws: WebSocketStream<S>, shared: &Shared) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut stop = shared.stop.clone();
    let (mut sink, mut source) = ws.split();
    let (mut session, mut rx) = Session::connect(shared.runtime.clone(), shared.config.queue_capacity);

    let mut writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            sink.send(Frame::text(msg.to_text())).await?;
        }
        // The queue closed: the session ended, or the client fell too far behind.
        let _ = sink.close().await;
        Ok::<(), tokio_tungstenite::tungstenite::Error>(())
    });

    let result = loop {
        tokio::select! {
            frame = source.next() => match frame {
                None | Some(Ok(Frame::Close(_))) => break Ok(()),
                Some(Err(e)) => {
                    if let tokio_tungstenite::tungstenite::Error::Capacity(cap) = &e {
                        session.send(Message::error("runtime", &format!("{cap}: closing the connection")));
                    }
                    break Err(e);
                }
                Some(Ok(Frame::Text(text))) if text.len() > shared.config.max_message_bytes => {
                    let limit = shared.config.max_message_bytes;
                    let message = format!("message of {} bytes is over the limit of {limit} bytes: ignored", text.len());
                    session.send(Message::error("runtime", &message));
                }
                Some(Ok(Frame::Text(text))) => {
                    session.handle_text(text.as_str());
                }
                Some(Ok(Frame::Binary(_))) => {
                    session.send(Message::error("runtime", "binary frames are not supported: send JSON text frames"));
                }
                Some(Ok(_)) => {} // ping/pong: tungstenite answers pings itself
            },
            _ = &mut writer => return Ok(()),
            _ = stop.changed() => break Ok(()),
        }
    };
    drop(session); // closes the queue; the writer flushes it and closes the socket
    if tokio::time::timeout(Duration::from_secs(1), &mut writer).await.is_err() {
        writer.abort();
    }
    result
}
