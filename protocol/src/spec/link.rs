//! How the runner reaches a runtime: [`InProcess`] drives a [`Session`] of a
//! runtime in this process (renders run inline, so a test is deterministic and
//! needs no socket); [`WebSocketLink`] talks to a runtime at a `ws://` address as
//! fbp-spec does (subprotocol `noflo`, one request in flight, replies matched by
//! protocol and command, everything else kept as events).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::messages::Message;
use crate::session::{Runtime, Session};

/// A connection to a runtime.
pub trait Link {
    /// Sends a message and waits for its reply: the first message on the same
    /// protocol whose command is one of `replies` (its payload), or `<protocol>:error`
    /// (its message, as `Err`). Anything else that arrives meanwhile is kept as an event.
    fn request(
        &mut self,
        protocol: &str,
        command: &str,
        payload: Json,
        replies: &[&str],
    ) -> impl Future<Output = Result<Json, String>>;

    /// The next event, waiting at most `wait`; `None` when nothing came.
    fn next_event(&mut self, wait: Duration) -> impl Future<Output = Option<Message>>;

    /// Whether events can still arrive after the link is momentarily idle (false
    /// in-process, where everything a request causes is queued before it returns).
    fn asynchronous(&self) -> bool;

    /// Marks the start (`true`) and end (`false`) of sending one step's inputs.
    fn step_inputs(&mut self, _sending: bool, _graph: &str) {}
}

fn is_reply(m: &Message, protocol: &str, replies: &[&str]) -> bool {
    m.protocol == protocol && (m.command == "error" || replies.contains(&m.command.as_str()))
}

fn reply_result(m: Message) -> Result<Json, String> {
    if m.command == "error" {
        Err(m.payload.get("message").and_then(Json::as_str).unwrap_or("error").to_string())
    } else {
        Ok(m.payload)
    }
}

/// A session on a runtime in this process.
pub struct InProcess {
    runtime: Arc<Runtime>,
    session: Session,
    rx: mpsc::Receiver<Message>,
    pending: VecDeque<Message>,
}

impl InProcess {
    pub fn new(runtime: Arc<Runtime>) -> InProcess {
        let (session, rx) = Session::connect(runtime.clone(), 1 << 20);
        InProcess { runtime, session, rx, pending: VecDeque::new() }
    }
}

impl Link for InProcess {
    async fn request(
        &mut self,
        protocol: &str,
        command: &str,
        payload: Json,
        replies: &[&str],
    ) -> Result<Json, String> {
        let text = json!({"protocol": protocol, "command": command, "payload": payload}).to_string();
        self.session.handle_text(&text);
        let mut reply = None;
        while let Ok(m) = self.rx.try_recv() {
            if reply.is_none() && is_reply(&m, protocol, replies) {
                reply = Some(m);
            } else {
                self.pending.push_back(m);
            }
        }
        reply.map_or_else(|| Err(format!("no reply to {protocol}:{command}")), reply_result)
    }

    async fn next_event(&mut self, _wait: Duration) -> Option<Message> {
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        self.rx.try_recv().ok()
    }

    fn asynchronous(&self) -> bool {
        false
    }

    /// A step's packets render together, as they do over a socket (where the
    /// runtime lets a burst of packets settle before rendering).
    fn step_inputs(&mut self, sending: bool, graph: &str) {
        self.runtime.hold_renders(sending, graph);
        if !sending {
            while let Ok(m) = self.rx.try_recv() {
                self.pending.push_back(m);
            }
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A runtime at a WebSocket address.
pub struct WebSocketLink {
    ws: Ws,
    secret: Option<String>,
    pending: VecDeque<Message>,
    /// Longest wait for a reply.
    pub command_timeout: Duration,
}

impl WebSocketLink {
    pub async fn connect(address: &str, secret: Option<String>) -> Result<WebSocketLink, String> {
        let mut req = address.into_client_request().map_err(|e| format!("bad address {address}: {e}"))?;
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("noflo"));
        let (ws, _) = tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(req))
            .await
            .map_err(|_| format!("connecting to {address} timed out"))?
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        Ok(WebSocketLink { ws, secret, pending: VecDeque::new(), command_timeout: Duration::from_secs(10) })
    }

    async fn read(&mut self, wait: Duration) -> Result<Option<Message>, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err("the runtime closed the connection".into()),
                Ok(Some(Err(e))) => return Err(format!("connection failed: {e}")),
                Ok(Some(Ok(f))) => f,
            };
            match frame {
                Frame::Text(t) => {
                    let v: Json =
                        serde_json::from_str(t.as_str()).map_err(|e| format!("runtime sent bad JSON: {e}"))?;
                    let field = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_string();
                    let payload = v.get("payload").cloned().unwrap_or(Json::Null);
                    return Ok(Some(Message::new(&field("protocol"), &field("command"), payload)));
                }
                Frame::Binary(_) => return Err("the runtime sent a binary frame".into()),
                Frame::Close(_) => return Err("the runtime closed the connection".into()),
                _ => {}
            }
        }
    }
}

impl Link for WebSocketLink {
    async fn request(
        &mut self,
        protocol: &str,
        command: &str,
        payload: Json,
        replies: &[&str],
    ) -> Result<Json, String> {
        let mut payload = payload;
        if let (Some(s), Json::Object(m)) = (&self.secret, &mut payload) {
            m.insert("secret".into(), json!(s));
        }
        let text = json!({"protocol": protocol, "command": command, "payload": payload}).to_string();
        self.ws.send(Frame::text(text)).await.map_err(|e| format!("cannot send: {e}"))?;
        let deadline = tokio::time::Instant::now() + self.command_timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.read(left).await? {
                None => return Err(format!("{protocol}:{command} timed out")),
                Some(m) if is_reply(&m, protocol, replies) => return reply_result(m),
                Some(m) => self.pending.push_back(m),
            }
        }
    }

    async fn next_event(&mut self, wait: Duration) -> Option<Message> {
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        match self.read(wait).await {
            Ok(m) => m,
            Err(e) => Some(Message::new("network", "error", json!({"message": e}))),
        }
    }

    fn asynchronous(&self) -> bool {
        true
    }
}
