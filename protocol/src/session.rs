//! The shared runtime state and the per-connection state machine.
//!
//! A [`Session`] takes a client message and produces the messages it causes: direct
//! replies go to the requester only; graph edits and network events go to every
//! authorised connection. All of it happens under one lock, so each connection's
//! queue sees events in the order they happened. Nothing here needs a socket: the
//! tests drive sessions with plain calls and read their queues.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use imgflo_runtime::ops::Fetch;
use imgflo_runtime::{Graph, Registry};
use serde_json::Value as Json;
use tokio::sync::mpsc;

use crate::messages::{Message, Request};
use crate::network::NetworkState;
use crate::render::LiveState;

/// Protocol version reported in `runtime:runtime`.
pub const PROTOCOL_VERSION: &str = "0.7";

/// Everything this runtime can do.
pub const CAPABILITIES: [&str; 8] = [
    "protocol:runtime",
    "protocol:graph",
    "protocol:component",
    "protocol:network",
    "network:status",
    "network:data",
    "network:control",
    "component:getsource",
];

/// Who this runtime is.
#[derive(Clone, Debug)]
pub struct RuntimeInfo {
    /// UUID, stable across restarts.
    pub id: String,
    pub label: String,
    /// When set, only clients presenting it may do more than `getruntime`.
    pub secret: Option<String>,
}

/// How the runtime works beyond the protocol: images, previews, persistence.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// Public base of preview URLs (`http://host:port`); default: the listening address.
    pub base_url: Option<String>,
    /// Fetcher for `http(s)` images (packets and `gegl/load` URIs); none: local files only.
    pub fetch: Option<Arc<dyn Fetch>>,
    /// Graphs edited here are written to this directory (none: read-only).
    pub persist_dir: Option<PathBuf>,
    /// Largest image loaded or produced, in pixels.
    pub max_pixels: u64,
    /// Longest side of the graph output's preview PNG.
    pub output_preview_cap: u32,
    /// Box other nodes' previews fit in.
    pub node_preview_box: u32,
    /// Render in the thread that handled the message, even inside a tokio runtime
    /// (in-process graph tests: everything a packet causes is queued before
    /// `handle` returns).
    pub inline_renders: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            base_url: None,
            fetch: None,
            persist_dir: None,
            max_pixels: 100_000_000,
            output_preview_cap: 2000,
            node_preview_box: 300,
            inline_renders: false,
        }
    }
}

/// A loaded graph and its live network.
#[derive(Debug, Default)]
pub struct GraphEntry {
    pub graph: Graph,
    pub network: NetworkState,
    pub live: LiveState,
}

/// State shared by every connection.
#[derive(Default)]
pub struct State {
    pub graphs: BTreeMap<String, GraphEntry>,
    /// The project's main graph (`runtime:runtime.graph`).
    pub main: Option<String>,
    /// The file each graph was loaded from (persistence writes beside it).
    pub sources: HashMap<String, PathBuf>,
    /// Graphs edited since they were last written.
    pub unsaved: BTreeSet<String>,
    /// A persistence task is waiting to write `unsaved`.
    pub saving: bool,
    clients: HashMap<u64, Client>,
    next_client: u64,
}

impl State {
    /// Sends events to every authorised client; a client whose queue is full is
    /// disconnected.
    pub fn broadcast(&mut self, messages: Vec<Message>) {
        for msg in messages {
            for client in self.clients.values_mut() {
                if client.authorized && !push(client, msg.clone()) && client.tx.take().is_some() {
                    tracing::warn!("outgoing queue full: disconnecting the client");
                }
            }
        }
    }
}

struct Client {
    tx: Option<mpsc::Sender<Message>>,
    authorized: bool,
}

/// The runtime: identity, component library and shared state.
pub struct Runtime {
    pub info: RuntimeInfo,
    pub registry: &'static Registry,
    pub options: RuntimeOptions,
    state: Mutex<State>,
    /// Base of preview URLs when no public one is configured.
    listen_base: Mutex<String>,
    /// Renders wait while this is set (in-process tests send a step's packets first).
    pub(crate) hold_renders: std::sync::atomic::AtomicBool,
}

impl Runtime {
    pub fn new(info: RuntimeInfo, registry: &'static Registry) -> Arc<Runtime> {
        Runtime::with_options(info, registry, RuntimeOptions::default())
    }

    pub fn with_options(info: RuntimeInfo, registry: &'static Registry, options: RuntimeOptions) -> Arc<Runtime> {
        Arc::new(Runtime {
            info,
            registry,
            options,
            state: Mutex::new(State::default()),
            listen_base: Mutex::new("http://localhost:3569".into()),
            hold_renders: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Holds renders back (`true`) or lets them go, rendering `graph` now (`false`):
    /// what a client's burst of packets does with [`crate::render::PACKET_SETTLE`],
    /// made deterministic for in-process graph tests.
    pub fn hold_renders(self: &Arc<Self>, hold: bool, graph: &str) {
        self.hold_renders.store(hold, std::sync::atomic::Ordering::SeqCst);
        if !hold {
            crate::render::schedule(self, graph);
        }
    }

    /// Records the listening address, the default base of preview URLs.
    pub fn set_listen_address(&self, addr: std::net::SocketAddr) {
        *self.listen_base.lock().unwrap_or_else(|e| e.into_inner()) = format!("http://{addr}");
    }

    /// The base of preview URLs, without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.options.base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => self.listen_base.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    /// Adds a graph (e.g. one loaded from the graphs directory).
    pub fn insert_graph(&self, id: &str, graph: Graph) {
        let mut entry = GraphEntry { graph, ..Default::default() };
        entry.live.edit_rev = 1; // never rendered
        self.lock().graphs.insert(id.to_string(), entry);
    }

    /// Adds a graph loaded from `path`; edits are saved back beside it.
    pub fn insert_graph_from(&self, id: &str, graph: Graph, path: PathBuf) {
        self.insert_graph(id, graph);
        self.lock().sources.insert(id.to_string(), path);
    }

    pub fn set_main_graph(&self, id: Option<String>) {
        self.lock().main = id;
    }

    pub fn graph_ids(&self) -> Vec<String> {
        self.lock().graphs.keys().cloned().collect()
    }

    /// A copy of a graph as it is now.
    pub fn graph(&self, id: &str) -> Option<Graph> {
        self.lock().graphs.get(id).map(|e| e.graph.clone())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn clients(&self) -> usize {
        self.lock().clients.len()
    }
}

/// Who gets a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The requester only (with `responseTo`).
    Reply,
    /// Everyone; the requester's copy carries `responseTo`.
    Echo,
    /// Everyone, as an event.
    Event,
}

/// What a handler works with.
pub(crate) struct Ctx<'a> {
    pub state: &'a mut State,
    pub info: &'a RuntimeInfo,
    pub registry: &'static Registry,
    pub capabilities: Vec<&'static str>,
    pub out: Vec<(Target, Message)>,
}

impl Ctx<'_> {
    pub fn reply(&mut self, protocol: &str, command: &str, payload: serde_json::Value) {
        self.out.push((Target::Reply, Message::new(protocol, command, payload)));
    }
    pub fn echo(&mut self, protocol: &str, command: &str, payload: serde_json::Value) {
        self.out.push((Target::Echo, Message::new(protocol, command, payload)));
    }
    pub fn event(&mut self, protocol: &str, command: &str, payload: serde_json::Value) {
        self.out.push((Target::Event, Message::new(protocol, command, payload)));
    }
}

/// The result of a handler: `Err(message)` becomes `<protocol>:error`.
pub(crate) type Handled = Result<(), String>;

/// One client connection.
pub struct Session {
    runtime: Arc<Runtime>,
    id: u64,
}

impl Session {
    /// Registers a connection whose outgoing queue holds `capacity` messages. A
    /// client that lets its queue fill up is disconnected (its receiver closes).
    pub fn connect(runtime: Arc<Runtime>, capacity: usize) -> (Session, mpsc::Receiver<Message>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let mut state = runtime.lock();
        let id = state.next_client;
        state.next_client += 1;
        let authorized = runtime.info.secret.is_none();
        state.clients.insert(id, Client { tx: Some(tx), authorized });
        drop(state);
        (Session { runtime, id }, rx)
    }

    /// Handles one text frame. Returns the messages sent to this client (they have
    /// also been queued, together with the broadcasts to the other clients).
    pub fn handle_text(&mut self, text: &str) -> Vec<Message> {
        match Request::parse(text) {
            Ok(req) => self.handle(req),
            Err(e) => {
                tracing::debug!(error = %e, "bad message");
                let mut state = self.runtime.lock();
                let msg = e.reply();
                self.dispatch(&mut state, vec![(Target::Reply, msg)], None)
            }
        }
    }

    /// Sends a message to this client only (e.g. an error about the transport).
    pub fn send(&mut self, msg: Message) {
        let runtime = self.runtime.clone();
        let mut state = runtime.lock();
        self.dispatch(&mut state, vec![(Target::Reply, msg)], None);
    }

    /// Handles one parsed message; see [`Session::handle_text`].
    pub fn handle(&mut self, req: Request) -> Vec<Message> {
        let runtime = self.runtime.clone();
        let mut state = runtime.lock();
        let capabilities = self.capabilities_for(&req);
        if !capabilities.is_empty() {
            if let Some(c) = state.clients.get_mut(&self.id) {
                c.authorized = true;
            }
        }
        let request_id = req.request_id.clone();
        let mut ctx =
            Ctx { state: &mut state, info: &runtime.info, registry: runtime.registry, capabilities, out: vec![] };
        let result = match crate::runtime::permission(&req, &ctx.capabilities) {
            Err(e) => Err(e),
            Ok(()) => match req.protocol.as_str() {
                "runtime" => crate::runtime::handle(&mut ctx, &req),
                "graph" => crate::graph::handle(&mut ctx, &req),
                "component" => crate::component::handle(&mut ctx, &req),
                "network" => crate::network::handle(&mut ctx, &req),
                _ => Err(format!("{} is not supported by this runtime", req.topic())),
            },
        };
        let mut out = ctx.out;
        let effects = match result {
            Ok(()) => effects(&mut state, &req),
            Err(message) => {
                tracing::debug!(topic = %req.topic(), %message, "request failed");
                out.push((Target::Reply, Message::error(&req.protocol, &message)));
                Effects::default()
            }
        };
        let mine = self.dispatch(&mut state, out, request_id);
        drop(state);
        if let Some(id) = &effects.save {
            crate::persist::schedule(&runtime, id);
        }
        if let Some(id) = &effects.render {
            crate::render::schedule(&runtime, id);
        }
        mine
    }

    /// What this message's secret allows.
    fn capabilities_for(&self, req: &Request) -> Vec<&'static str> {
        match &self.runtime.info.secret {
            None => CAPABILITIES.to_vec(),
            Some(s) if req.secret.as_deref().is_some_and(|given| constant_time_eq(given, s)) => CAPABILITIES.to_vec(),
            Some(_) => vec![],
        }
    }

    fn dispatch(&self, state: &mut State, out: Vec<(Target, Message)>, request_id: Option<String>) -> Vec<Message> {
        let mut mine = Vec::new();
        let mut dead = Vec::new();
        for (target, msg) in out {
            if target != Target::Reply {
                for (&id, client) in state.clients.iter_mut() {
                    if id != self.id && client.authorized && !push(client, msg.clone()) {
                        dead.push(id);
                    }
                }
            }
            let mut msg = msg;
            if target != Target::Event && msg.may_respond() {
                msg.response_to.clone_from(&request_id);
            }
            mine.push(msg);
        }
        if let Some(me) = state.clients.get_mut(&self.id) {
            for msg in &mine {
                if !push(me, msg.clone()) {
                    dead.push(self.id);
                    break;
                }
            }
        }
        for id in dead {
            if let Some(c) = state.clients.get_mut(&id) {
                if c.tx.take().is_some() {
                    tracing::warn!(client = id, "outgoing queue full: disconnecting the client");
                }
            }
        }
        mine
    }
}

/// What a handled request sets in motion once the state lock is released.
#[derive(Default)]
struct Effects {
    /// The graph to write to the graphs directory.
    save: Option<String>,
    /// The graph whose image network must re-render.
    render: Option<String>,
}

/// Records a successful request's consequences: graph edits and packets make the
/// graph's previews stale (and edits make it unsaved); starting a network renders it.
fn effects(state: &mut State, req: &Request) -> Effects {
    let graph = match (req.protocol.as_str(), req.command.as_str()) {
        ("graph", "clear") => req.payload.get("id"),
        ("graph", _) | ("network", "start") | ("runtime", "packet") => req.payload.get("graph"),
        _ => None,
    };
    let Some(id) = graph.and_then(Json::as_str).map(str::to_string) else { return Effects::default() };
    let Some(entry) = state.graphs.get_mut(&id) else { return Effects::default() };
    entry.live.edit_rev += 1;
    if req.protocol == "runtime" {
        entry.live.packet_pending = true;
        entry.live.last_packet = Some(std::time::Instant::now());
    }
    if req.protocol == "graph" && matches!(req.command.as_str(), "addinitial" | "removeinitial") {
        // The graph's new initial value wins over an earlier packet to that port.
        let tgt = req.payload.get("tgt");
        let field = |k: &str| tgt.and_then(|t| t.get(k)).and_then(Json::as_str).unwrap_or("").to_string();
        entry.network.port_values.remove(&(field("node"), field("port")));
    }
    let save = (req.protocol == "graph").then(|| id.clone());
    if save.is_some() {
        state.unsaved.insert(id.clone());
    }
    Effects { save, render: Some(id) }
}

/// Queues a message; false when the queue is full (the client is too slow).
fn push(client: &mut Client, msg: Message) -> bool {
    match &client.tx {
        Some(tx) => match tx.try_send(msg) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => true,
            Err(mpsc::error::TrySendError::Full(_)) => false,
        },
        None => true,
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.runtime.lock().clients.remove(&self.id);
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
