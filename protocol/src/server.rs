//! The WebSocket transport: accepts connections (echoing the `noflo` subprotocol),
//! reads text frames into a [`Session`], and writes each connection's bounded
//! outgoing queue back as text frames.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as Frame;

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
    /// Time allowed for the WebSocket handshake.
    pub handshake_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { max_message_bytes: 8 << 20, queue_capacity: 4096, handshake_timeout: Duration::from_secs(10) }
    }
}

/// Serves connections from `listener` until `shutdown` resolves; then closes every
/// connection (with a close frame) and returns.
pub async fn serve(
    listener: TcpListener,
    runtime: Arc<Runtime>,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
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
                let (runtime, config, stop) = (runtime.clone(), config.clone(), stop_rx.clone());
                tasks.spawn(async move {
                    if let Err(e) = connection(stream, runtime, config, stop).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    let _ = stop_tx.send(true);
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(2), drain).await.is_err() {
        tasks.abort_all();
    }
    Ok(())
}

/// Whether a `Sec-WebSocket-Protocol` request header list names `noflo`.
fn asks_for_noflo(req: &Request) -> bool {
    req.headers()
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "noflo")
}

// tungstenite's handshake callback type fixes the (large) error response.
#[allow(clippy::result_large_err)]
async fn connection(
    stream: TcpStream,
    runtime: Arc<Runtime>,
    config: ServerConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let _ = stream.set_nodelay(true);
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        if asks_for_noflo(req) {
            resp.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("noflo"));
        }
        Ok(resp)
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_bytes))
        .max_frame_size(Some(config.max_message_bytes));
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config));
    let ws = match tokio::time::timeout(config.handshake_timeout, handshake).await {
        Ok(ws) => ws?,
        Err(_) => return Ok(()),
    };
    let (mut sink, mut source) = ws.split();
    let (mut session, mut rx) = Session::connect(runtime, config.queue_capacity);

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
                Some(Err(e)) => break Err(e),
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
