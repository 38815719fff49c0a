//! The live image network: after each edit of a started graph (or a packet into
//! it), its image nodes are re-evaluated on the engine, off the async executor, and
//! every client hears about the result: `network:data` with a preview URL for each
//! edge whose image changed, `network:output` with the graph output's preview,
//! `runtime:packet` with an image description on each exported outport, and
//! `network:processerror` for each failing node.
//!
//! Edits that arrive while a render runs are coalesced: the render loop goes again
//! until the graph's edit revision has been rendered. The engine's memoised
//! [`Network`] keeps each node's result, so only nodes whose inputs changed run.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use imgflo_runtime::describe::describe_image;
use imgflo_runtime::eval::{Network, Overrides};
use imgflo_runtime::graph::{Connection, PortRef};
use imgflo_runtime::ops::{Cancel, FileAccess, Limits, RunContext};
use imgflo_runtime::value::{PortType, Value};
use imgflo_runtime::{Graph, Image, Registry};
use serde_json::{json, Value as Json};

use crate::graph::PortPayload;
use crate::messages::Message;
use crate::network::edge_id;
use crate::session::Runtime;

/// Longest one render may take before it is abandoned.
const RENDER_DEADLINE: Duration = Duration::from_secs(60);

/// How long packets must have stopped arriving before a render starts: longer than
/// a client such as fbp-spec takes to send the next packet of a step after
/// `packetsent` (edits through the graph protocol do not wait).
pub const PACKET_SETTLE: Duration = Duration::from_millis(100);

/// Render bookkeeping of one graph (kept in its entry, under the state lock).
#[derive(Default)]
pub struct LiveState {
    /// Bumped by every edit and packet; a render catches up with it.
    pub edit_rev: u64,
    /// The edit revision the previews show.
    pub rendered_rev: u64,
    /// A render loop is running (or queued) for this graph.
    pub rendering: bool,
    /// A `runtime:packet` arrived since the last render: the next one sends the
    /// exported outports' packets (renders after plain edits only show previews).
    pub packet_pending: bool,
    /// When the last packet arrived: renders wait until packets stop for
    /// [`PACKET_SETTLE`], so the inputs of one test step render together.
    pub last_packet: Option<Instant>,
    /// Each node's preview image from the last render.
    pub previews: HashMap<String, Arc<Image>>,
    /// The node whose image is the graph's output (full-size previews).
    pub output_node: Option<String>,
    pub(crate) cache: Arc<Mutex<RenderCache>>,
}

impl fmt::Debug for LiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveState")
            .field("edit_rev", &self.edit_rev)
            .field("rendered_rev", &self.rendered_rev)
            .field("rendering", &self.rendering)
            .field("previews", &self.previews.len())
            .finish()
    }
}

/// What survives between renders of a graph; only the render holding its lock
/// touches it.
#[derive(Default)]
pub(crate) struct RenderCache {
    network: Option<Network>,
    /// Images loaded for packets and their source (path or URL).
    loaded: HashMap<String, Arc<Image>>,
    /// The image (by id) last announced on each node's outport.
    announced: HashMap<(String, String), u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a component is a message component, run by the packet flow rather
/// than by the image evaluation.
pub(crate) fn is_message_component(registry: &Registry, component: &str) -> bool {
    registry
        .spec(component)
        .is_some_and(|s| !s.inports.is_empty() && s.inports.iter().chain(&s.outports).all(|p| p.ty == PortType::All))
}

/// Starts a render loop for `id` unless one runs or the previews are current. Inside
/// a tokio runtime the work goes to the blocking pool; elsewhere (tests) it runs here.
pub fn schedule(rt: &Arc<Runtime>, id: &str) {
    if rt.hold_renders.load(std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    {
        let mut state = rt.lock();
        let Some(entry) = state.graphs.get_mut(id) else { return };
        if entry.live.rendering || entry.live.rendered_rev == entry.live.edit_rev || !entry.network.started {
            return;
        }
        entry.live.rendering = true;
    }
    let (rt, id) = (rt.clone(), id.to_string());
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if !rt.options.inline_renders => {
            handle.spawn_blocking(move || render_loop(&rt, &id, true));
        }
        _ => render_loop(&rt, &id, false),
    }
}

/// Renders until the graph's latest edit is shown; `wait_for_packets` lets a burst
/// of packets settle first (on the blocking pool; inline renders never wait).
fn render_loop(rt: &Arc<Runtime>, id: &str, wait_for_packets: bool) {
    loop {
        if wait_for_packets {
            settle(rt, id);
        }
        render_once(rt, id);
        let mut state = rt.lock();
        let Some(entry) = state.graphs.get_mut(id) else { return };
        if entry.live.rendered_rev == entry.live.edit_rev || !entry.network.started {
            entry.live.rendering = false;
            return;
        }
    }
}

/// Waits until no packet has arrived for [`PACKET_SETTLE`] (blocking pool only).
fn settle(rt: &Runtime, id: &str) {
    loop {
        let last = rt.lock().graphs.get(id).and_then(|e| e.live.last_packet);
        let Some(wait) = last.and_then(|t| PACKET_SETTLE.checked_sub(t.elapsed())) else { return };
        std::thread::sleep(wait);
    }
}

/// Brings a graph's previews up to date (for `GET /process`): waits for a running
/// render, or renders now. Blocking.
pub fn ensure_fresh(rt: &Arc<Runtime>, id: &str) {
    let fresh = |rt: &Runtime| {
        rt.lock().graphs.get(id).is_none_or(|e| e.live.rendered_rev == e.live.edit_rev && e.live.edit_rev > 0)
    };
    if !fresh(rt) {
        render_once(rt, id);
    }
}

/// One evaluation of the graph as it is now; announces the results when its network
/// is started.
pub fn render_once(rt: &Arc<Runtime>, id: &str) {
    let snapshot = {
        let mut state = rt.lock();
        state.graphs.get_mut(id).map(|e| {
            let packets = std::mem::take(&mut e.live.packet_pending);
            let values = e.network.port_values.clone();
            (e.graph.clone(), values, e.live.edit_rev, e.live.cache.clone(), e.network.started, packets)
        })
    };
    let Some((graph, values, rev, cache_arc, started, packets)) = snapshot else { return };
    let mut cache = lock(&cache_arc);
    // Another render may have caught up while this one waited for the cache.
    if rt.lock().graphs.get(id).is_some_and(|e| e.live.rendered_rev >= rev && rev > 0) {
        return;
    }
    let started_at = Instant::now();
    let registry = rt.registry;
    let mut failures: Vec<(String, String)> = Vec::new();
    let overrides = packet_overrides(rt, &graph, &values, &mut cache, &mut failures);
    let ctx = RunContext {
        cancel: Cancel::with_deadline(Instant::now() + RENDER_DEADLINE),
        limits: Limits { max_pixels: rt.options.max_pixels },
        fetch: rt.options.fetch.clone(),
        files: FileAccess::ReadOnly,
    };
    let mut network_error = None;
    let compiled = match cache.network.as_mut() {
        Some(net) => net.set_graph(graph.clone()),
        None => Network::new(graph.clone(), registry).map(|net| cache.network = Some(net)),
    };
    if let Err(e) = compiled {
        network_error = Some(e.to_string());
    } else if let Some(net) = cache.network.as_mut() {
        // A node whose packet value was refused does not run (and shows nothing).
        let refused: Vec<String> = failures.iter().map(|(n, _)| n.clone()).collect();
        for node in &refused {
            net.forget(node);
        }
        let include = |node: &str, component: &str| {
            !is_message_component(registry, component) && !refused.iter().any(|r| r == node)
        };
        match net.evaluate_all(&overrides, &ctx, &include) {
            Ok(fails) => failures.extend(fails.into_iter().map(|(node, e)| (node, e.to_string()))),
            Err(e) => network_error = Some(format!("rendering stopped: {e}")),
        }
    }
    let outputs = node_images(&graph, cache.network.as_ref());
    let previews = preview_images(&graph, &outputs);
    let output_node = output_node(&graph);
    let base = rt.base_url();
    let url = |node: &str| preview_url(&base, id, node, rev);
    let mut messages = Vec::new();
    if started {
        if let Some(message) = &network_error {
            messages.push(Message::new("network", "error", json!({"message": message, "graph": id})));
        }
        for (node, error) in &failures {
            // A failing node whose `error` port is exported reports there, as noflo
            // components do (graph tests can expect it); otherwise as processerror.
            let export = graph.outports.iter().find(|(_, p)| p.node == *node && p.port == "error");
            match export {
                // Like the other exported outports, it answers packets in.
                Some((public, _)) if packets => messages.push(Message::new(
                    "runtime",
                    "packet",
                    json!({"graph": id, "port": public, "event": "data", "payload": {"message": error, "node": node}}),
                )),
                Some(_) => {}
                None => messages.push(Message::new(
                    "network",
                    "processerror",
                    json!({"id": node, "error": error, "graph": id}),
                )),
            }
        }
        messages.extend(announce(rt, &graph, id, &outputs, &mut cache, &url, packets));
        if let Some(node) = output_node.as_deref().filter(|n| previews.contains_key(*n)) {
            let u = url(node);
            messages.push(Message::new(
                "network",
                "output",
                json!({"message": u.clone(), "type": "previewurl", "url": u}),
            ));
        }
    }
    let stats = cache.network.as_ref().map(Network::stats).unwrap_or_default();
    tracing::debug!(
        graph = id,
        rev,
        executed = stats.executed,
        reused = stats.reused,
        failures = failures.len(),
        ms = started_at.elapsed().as_millis() as u64,
        "rendered"
    );
    drop(cache);
    let mut state = rt.lock();
    let Some(entry) = state.graphs.get_mut(id) else { return };
    if !Arc::ptr_eq(&entry.live.cache, &cache_arc) {
        return; // the graph was cleared and rebuilt meanwhile
    }
    entry.live.previews = previews;
    entry.live.output_node = output_node;
    entry.live.rendered_rev = entry.live.rendered_rev.max(rev);
    let still_started = entry.network.started;
    if still_started {
        state.broadcast(messages);
    }
}

/// Values that packets put on image nodes' ports, coerced to the ports' types; a
/// packet into an image port names a file or URL to load.
fn packet_overrides(
    rt: &Runtime,
    graph: &Graph,
    values: &HashMap<(String, String), Json>,
    cache: &mut RenderCache,
    failures: &mut Vec<(String, String)>,
) -> Overrides {
    let mut overrides = Overrides::new();
    let mut used = HashMap::new();
    for ((node, port), data) in values {
        let Some(spec) = graph.nodes.get(node).and_then(|n| rt.registry.spec(&n.component)) else { continue };
        let Some(pspec) = spec.inport(port) else { continue };
        if pspec.ty == PortType::Buffer {
            let Some(source) = image_source(data) else {
                failures.push((node.clone(), format!("a packet for image port {port} must name a file or URL")));
                continue;
            };
            let image = match cache.loaded.get(&source) {
                Some(img) => Ok(img.clone()),
                None => crate::load::load_image(&source, &rt.options).map(Arc::new),
            };
            match image {
                Ok(img) => {
                    used.insert(source, img.clone());
                    overrides.set(node.clone(), port.clone(), Value::Image(img));
                }
                Err(e) => failures.push((node.clone(), e)),
            }
            continue;
        }
        match pspec.coerce(data) {
            Ok(v) => overrides.set(node.clone(), port.clone(), v),
            Err(e) => failures.push((node.clone(), format!("{port}: {e}"))),
        }
    }
    cache.loaded = used;
    overrides
}

/// The file or URL a packet for an image port names: a string, or `{url}`/`{path}`.
fn image_source(data: &Json) -> Option<String> {
    let s = match data {
        Json::String(s) => s.as_str(),
        Json::Object(o) => o.get("url").or_else(|| o.get("path")).and_then(Json::as_str)?,
        _ => return None,
    };
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Every node's output values after the render, by node and port.
fn node_images(graph: &Graph, net: Option<&Network>) -> HashMap<String, Vec<(&'static str, Value)>> {
    let Some(net) = net else { return HashMap::new() };
    graph.nodes.keys().filter_map(|id| net.node_outputs(id).map(|o| (id.clone(), o.0.clone()))).collect()
}

/// The image to show for each node: its first image output or, for sinks (savers,
/// `Processor`), the image arriving on its `input`.
fn preview_images(graph: &Graph, outputs: &HashMap<String, Vec<(&'static str, Value)>>) -> HashMap<String, Arc<Image>> {
    let first_image = |node: &str| outputs.get(node).and_then(|o| o.iter().find_map(|(_, v)| v.as_image().cloned()));
    let mut previews = HashMap::new();
    for id in graph.nodes.keys() {
        if let Some(img) = first_image(id) {
            previews.insert(id.clone(), img);
            continue;
        }
        let incoming = graph.edges().find(|(_, t)| t.node == *id && t.port == "input").map(|(s, _)| s.clone());
        if let Some(img) = incoming.and_then(|src| {
            outputs
                .get(&src.node)
                .and_then(|o| o.iter().find(|(p, _)| *p == src.port))
                .and_then(|(_, v)| v.as_image().cloned())
        }) {
            previews.insert(id.clone(), img);
        }
    }
    previews
}

/// The graph's output node: behind the exported `output` outport, else the node a
/// `Processor` watches.
pub fn output_node(graph: &Graph) -> Option<String> {
    if let Some(p) = graph.outports.get("output") {
        return Some(p.node.clone());
    }
    graph
        .nodes
        .iter()
        .find(|(_, n)| n.component == "Processor")
        .and_then(|(id, _)| graph.edges().find(|(_, t)| t.node == *id).map(|(s, _)| s.node.clone()))
}

/// `network:data` for the edges whose source changed, `runtime:packet` for exports.
fn announce(
    rt: &Runtime,
    graph: &Graph,
    id: &str,
    outputs: &HashMap<String, Vec<(&'static str, Value)>>,
    cache: &mut RenderCache,
    url: &dyn Fn(&str) -> String,
    packets: bool,
) -> Vec<Message> {
    let value_of =
        |src: &PortRef| outputs.get(&src.node).and_then(|o| o.iter().find(|(p, _)| *p == src.port)).map(|(_, v)| v);
    let mut messages = Vec::new();
    let mut announced = HashMap::new();
    for c in &graph.connections {
        let Connection::Edge { src, tgt, .. } = c else { continue };
        let is_flow = graph.nodes.get(&src.node).is_some_and(|n| is_message_component(rt.registry, &n.component));
        let Some(value) = value_of(src).filter(|_| !is_flow) else { continue };
        let data = match value {
            Value::Image(img) => {
                let key = (src.node.clone(), src.port.clone());
                announced.insert(key.clone(), img.id());
                if cache.announced.get(&key) == Some(&img.id()) {
                    continue;
                }
                json!({"type": "previewurl", "url": url(&src.node)})
            }
            other => other.to_json(),
        };
        messages.push(Message::new(
            "network",
            "data",
            json!({
                "id": edge_id(src, tgt),
                "graph": id,
                "src": PortPayload::from_ref(src),
                "tgt": PortPayload::from_ref(tgt),
                "data": data,
            }),
        ));
    }
    cache.announced = announced;
    if !packets {
        return messages;
    }
    for (public, port) in &graph.outports {
        let Some(value) = value_of(&PortRef::new(port.node.clone(), port.port.clone())) else { continue };
        let payload = match value {
            Value::Image(img) => {
                let mut d = describe_image(img);
                d["url"] = json!(url(&port.node));
                d
            }
            other => other.to_json(),
        };
        messages.push(Message::new(
            "runtime",
            "packet",
            json!({"graph": id, "port": public, "event": "data", "payload": payload}),
        ));
    }
    messages
}

/// `<base>/process?graph=G&node=N&rev=R`: always with a `?` (Flowhub appends
/// `&timestamp=...`) and a revision that changes with every render.
pub fn preview_url(base: &str, graph: &str, node: &str, rev: u64) -> String {
    format!("{}/process?graph={}&node={}&rev={rev}", base.trim_end_matches('/'), encode(graph), encode(node))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_urls_are_encoded_and_carry_a_query() {
        assert_eq!(
            preview_url("http://h:1/", "a/b c", "n&1", 7),
            "http://h:1/process?graph=a%2Fb%20c&node=n%261&rev=7"
        );
    }

    #[test]
    fn image_sources_from_packets() {
        assert_eq!(image_source(&json!(" x.png ")).as_deref(), Some("x.png"));
        assert_eq!(image_source(&json!({"url": "http://e/x.jpg"})).as_deref(), Some("http://e/x.jpg"));
        assert_eq!(image_source(&json!("")), None);
        assert_eq!(image_source(&json!(3)), None);
    }
}
