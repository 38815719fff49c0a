//! The graph sub-protocol: edits of the shared graphs, each echoed to every client
//! with exactly the fields the request gave (minus unknown keys such as `baseDir`).

use imgflo_runtime::graph::{Connection, ExportedPort, Group, PortRef};
use imgflo_runtime::{Graph, Registry};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::messages::Request;
use crate::session::{Ctx, GraphEntry, Handled};

type Meta = Map<String, Json>;

/// A node's port as the protocol names it: `{node, port, index?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortPayload {
    pub node: String,
    pub port: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Json>,
}

impl PortPayload {
    pub fn to_ref(&self) -> Result<PortRef, String> {
        let index = match &self.index {
            None | Some(Json::Null) => None,
            Some(Json::Number(n)) => Some(n.as_u64().and_then(|i| u32::try_from(i).ok())),
            Some(Json::String(s)) => Some(s.parse().ok()),
            Some(_) => Some(None),
        };
        let index = match index {
            None => None,
            Some(Some(i)) => Some(i),
            Some(None) => return Err(format!("invalid port index on {}.{}", self.node, self.port)),
        };
        Ok(PortRef { node: self.node.clone(), port: self.port.clone(), index })
    }

    pub fn from_ref(r: &PortRef) -> PortPayload {
        PortPayload { node: r.node.clone(), port: r.port.clone(), index: r.index.map(|i| json!(i)) }
    }
}

#[derive(Serialize, Deserialize)]
struct Clear {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    library: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    main: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct AddNode {
    id: String,
    component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Meta>,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct IdOnly {
    id: String,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct Rename {
    from: String,
    to: String,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct ChangeNode {
    id: String,
    metadata: Meta,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct Edge {
    src: PortPayload,
    tgt: PortPayload,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Meta>,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct IipSrc {
    data: Json,
}

#[derive(Serialize, Deserialize)]
struct AddInitial {
    src: IipSrc,
    tgt: PortPayload,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Meta>,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct RemoveInitial {
    tgt: PortPayload,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct AddPort {
    public: String,
    node: String,
    port: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Meta>,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct RemovePort {
    public: String,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct AddGroup {
    name: String,
    nodes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Meta>,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct RemoveGroup {
    name: String,
    graph: String,
}

#[derive(Serialize, Deserialize)]
struct ChangeGroup {
    name: String,
    metadata: Meta,
    graph: String,
}

fn parse<T: DeserializeOwned>(req: &Request) -> Result<T, String> {
    serde_json::from_value(Json::Object(req.payload.clone())).map_err(|e| format!("{}: {e}", req.topic()))
}

fn to_json<T: Serialize>(v: &T) -> Json {
    serde_json::to_value(v).expect("payloads serialise")
}

/// Merges metadata: a `null` value deletes the key.
pub fn merge_metadata(into: &mut Meta, changes: &Meta) {
    for (k, v) in changes {
        if v.is_null() {
            into.shift_remove(k);
        } else {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// Node and port metadata `x`/`y` must be integers in the schema: round others.
fn integer_xy(meta: &mut Meta) {
    for key in ["x", "y"] {
        if let Some(v) = meta.get_mut(key) {
            if let Some(f) = v.as_f64().filter(|_| !v.is_i64() && !v.is_u64()) {
                *v = json!(f.round() as i64);
            }
        }
    }
}

/// The graph named by the request, or the protocol's error strings.
pub(crate) fn graph_id(ctx: &Ctx, req: &Request) -> Result<String, String> {
    let id = req.graph().ok_or("No graph specified")?;
    if !ctx.state.graphs.contains_key(id) {
        return Err("Requested graph not found".into());
    }
    Ok(id.to_string())
}

fn entry<'a>(ctx: &'a mut Ctx, id: &str) -> &'a mut GraphEntry {
    ctx.state.graphs.get_mut(id).expect("graph checked by graph_id")
}

fn need_node(g: &Graph, id: &str) -> Handled {
    if g.nodes.contains_key(id) {
        Ok(())
    } else {
        Err(format!("Node {id} not found"))
    }
}

/// Refuses a port that the node's component does not have. Every node has an
/// `error` outport (its failures go out there when connected or exported).
/// Components the registry does not know (graphs used as components) are not
/// checked here; the engine reports their ports when the graph runs.
fn need_port(registry: &Registry, g: &Graph, node: &str, port: &str, inport: bool) -> Handled {
    need_node(g, node)?;
    let component = &g.nodes[node].component;
    let Some(spec) = registry.spec(component) else { return Ok(()) };
    if !inport && port.eq_ignore_ascii_case("error") {
        return Ok(());
    }
    let ports = if inport { &spec.inports } else { &spec.outports };
    if ports.iter().any(|p| p.name.eq_ignore_ascii_case(port)) {
        return Ok(());
    }
    let kind = if inport { "inport" } else { "outport" };
    Err(format!("Component {component} of node {node} has no {kind} {port}"))
}

pub(crate) fn handle(ctx: &mut Ctx, req: &Request) -> Handled {
    if req.command == "clear" {
        return clear(ctx, req);
    }
    let id = graph_id(ctx, req)?;
    match req.command.as_str() {
        "addnode" => {
            let mut p: AddNode = parse(req)?;
            if let Some(m) = &mut p.metadata {
                integer_xy(m);
            }
            let g = &mut entry(ctx, &id).graph;
            if !g.add_node(&p.id, &p.component) {
                return Err(format!("Node {} already exists", p.id));
            }
            g.nodes[&p.id].metadata = p.metadata.clone().unwrap_or_default();
            ctx.echo("graph", "addnode", to_json(&p));
        }
        "removenode" => {
            let p: IdOnly = parse(req)?;
            need_node(&entry(ctx, &id).graph, &p.id)?;
            remove_node(ctx, &id, &p.id);
            ctx.echo("graph", "removenode", to_json(&p));
        }
        "renamenode" => {
            let p: Rename = parse(req)?;
            let g = &mut entry(ctx, &id).graph;
            need_node(g, &p.from)?;
            if !g.rename_node(&p.from, &p.to) {
                return Err(format!("Node {} already exists", p.to));
            }
            ctx.echo("graph", "renamenode", to_json(&p));
        }
        "changenode" => {
            let mut p: ChangeNode = parse(req)?;
            let g = &mut entry(ctx, &id).graph;
            let node = g.nodes.get_mut(&p.id).ok_or_else(|| format!("Node {} not found", p.id))?;
            merge_metadata(&mut node.metadata, &p.metadata);
            integer_xy(&mut node.metadata);
            p.metadata = node.metadata.clone();
            ctx.echo("graph", "changenode", to_json(&p));
        }
        "addedge" => {
            let p: Edge = parse(req)?;
            let (src, tgt) = (p.src.to_ref()?, p.tgt.to_ref()?);
            let registry = ctx.registry;
            let g = &mut entry(ctx, &id).graph;
            need_port(registry, g, &src.node, &src.port, false)?;
            need_port(registry, g, &tgt.node, &tgt.port, true)?;
            let exists = g
                .connections
                .iter()
                .any(|c| matches!(c, Connection::Edge { src: s, tgt: t, .. } if *s == src && *t == tgt));
            if !exists {
                g.add_edge(src, tgt, p.metadata.clone().unwrap_or_default());
            }
            ctx.echo("graph", "addedge", to_json(&p));
        }
        "removeedge" => {
            let mut p: Edge = parse(req)?;
            let (src, tgt) = (p.src.to_ref()?, p.tgt.to_ref()?);
            // Idempotent, as in noflo: removing an absent edge is not an error.
            entry(ctx, &id).graph.remove_edge(&src, &tgt);
            p.metadata = None;
            ctx.echo("graph", "removeedge", to_json(&p));
        }
        "changeedge" => {
            let mut p: Edge = parse(req)?;
            let (src, tgt) = (p.src.to_ref()?, p.tgt.to_ref()?);
            let g = &mut entry(ctx, &id).graph;
            let meta = g
                .connections
                .iter_mut()
                .find_map(|c| match c {
                    Connection::Edge { src: s, tgt: t, metadata } if *s == src && *t == tgt => Some(metadata),
                    _ => None,
                })
                .ok_or_else(|| format!("Edge {src} -> {tgt} not found"))?;
            merge_metadata(meta, p.metadata.as_ref().unwrap_or(&Meta::new()));
            p.metadata = Some(meta.clone());
            ctx.echo("graph", "changeedge", to_json(&p));
        }
        "addinitial" => {
            let p: AddInitial = parse(req)?;
            let tgt = p.tgt.to_ref()?;
            let registry = ctx.registry;
            let g = &mut entry(ctx, &id).graph;
            need_port(registry, g, &tgt.node, &tgt.port, true)?;
            g.add_iip(p.src.data.clone(), tgt, p.metadata.clone().unwrap_or_default());
            ctx.echo("graph", "addinitial", to_json(&p));
        }
        "removeinitial" => {
            let p: RemoveInitial = parse(req)?;
            let tgt = p.tgt.to_ref()?;
            let g = &mut entry(ctx, &id).graph;
            let data = g.connections.iter().rev().find_map(|c| match c {
                Connection::Iip { data, tgt: t, .. }
                    if t.node == tgt.node && t.port == tgt.port && (tgt.index.is_none() || t.index == tgt.index) =>
                {
                    Some(data.clone())
                }
                _ => None,
            });
            let data = data.ok_or_else(|| format!("No initial packet to {tgt}"))?;
            g.remove_iip(&tgt);
            ctx.echo("graph", "removeinitial", json!({"src": {"data": data}, "tgt": to_json(&p.tgt), "graph": id}));
        }
        "addinport" | "addoutport" => {
            let mut p: AddPort = parse(req)?;
            if let Some(m) = &mut p.metadata {
                integer_xy(m);
            }
            let inport = req.command == "addinport";
            let registry = ctx.registry;
            let g = &mut entry(ctx, &id).graph;
            need_port(registry, g, &p.node, &p.port, inport)?;
            let port = ExportedPort {
                node: p.node.clone(),
                port: p.port.clone(),
                metadata: p.metadata.clone().unwrap_or_default(),
            };
            let ports = if inport { &mut g.inports } else { &mut g.outports };
            ports.insert(p.public.clone(), port);
            ctx.echo("graph", &req.command, to_json(&p));
            send_ports(ctx, &id);
        }
        "removeinport" | "removeoutport" => {
            let p: RemovePort = parse(req)?;
            let inport = req.command == "removeinport";
            let g = &mut entry(ctx, &id).graph;
            let ports = if inport { &mut g.inports } else { &mut g.outports };
            if ports.shift_remove(&p.public).is_none() {
                return Err(format!("{} {} not found", if inport { "Inport" } else { "Outport" }, p.public));
            }
            ctx.echo("graph", &req.command, to_json(&p));
            send_ports(ctx, &id);
        }
        "renameinport" | "renameoutport" => {
            let p: Rename = parse(req)?;
            let inport = req.command == "renameinport";
            let g = &mut entry(ctx, &id).graph;
            let ports = if inport { &mut g.inports } else { &mut g.outports };
            let what = if inport { "Inport" } else { "Outport" };
            if ports.contains_key(&p.to) && p.to != p.from {
                return Err(format!("{what} {} already exists", p.to));
            }
            let idx = ports.get_index_of(&p.from).ok_or_else(|| format!("{what} {} not found", p.from))?;
            let (_, port) = ports.shift_remove_index(idx).expect("index found");
            ports.shift_insert(idx, p.to.clone(), port);
            ctx.echo("graph", &req.command, to_json(&p));
            send_ports(ctx, &id);
        }
        "addgroup" => {
            let p: AddGroup = parse(req)?;
            let g = &mut entry(ctx, &id).graph;
            if g.groups.iter().any(|gr| gr.name == p.name) {
                return Err(format!("Group {} already exists", p.name));
            }
            g.groups.push(Group {
                name: p.name.clone(),
                nodes: p.nodes.clone(),
                metadata: p.metadata.clone().unwrap_or_default(),
            });
            ctx.echo("graph", "addgroup", to_json(&p));
        }
        "removegroup" => {
            let p: RemoveGroup = parse(req)?;
            let g = &mut entry(ctx, &id).graph;
            let before = g.groups.len();
            g.groups.retain(|gr| gr.name != p.name);
            if g.groups.len() == before {
                return Err(format!("Group {} not found", p.name));
            }
            ctx.echo("graph", "removegroup", to_json(&p));
        }
        "renamegroup" => {
            let p: Rename = parse(req)?;
            let g = &mut entry(ctx, &id).graph;
            if g.groups.iter().any(|gr| gr.name == p.to) {
                return Err(format!("Group {} already exists", p.to));
            }
            let group = g
                .groups
                .iter_mut()
                .find(|gr| gr.name == p.from)
                .ok_or_else(|| format!("Group {} not found", p.from))?;
            group.name = p.to.clone();
            ctx.echo("graph", "renamegroup", to_json(&p));
        }
        "changegroup" => {
            let mut p: ChangeGroup = parse(req)?;
            let g = &mut entry(ctx, &id).graph;
            let group = g
                .groups
                .iter_mut()
                .find(|gr| gr.name == p.name)
                .ok_or_else(|| format!("Group {} not found", p.name))?;
            merge_metadata(&mut group.metadata, &p.metadata);
            p.metadata = group.metadata.clone();
            ctx.echo("graph", "changegroup", to_json(&p));
        }
        _ => return Err(format!("{} not supported", req.topic())),
    }
    Ok(())
}

fn clear(ctx: &mut Ctx, req: &Request) -> Handled {
    let p: Clear = parse(req)?;
    if p.id.is_empty() {
        return Err("No graph ID provided".into());
    }
    let mut graph = Graph::new();
    for (key, value) in [
        ("name", p.name.as_ref()),
        ("library", p.library.as_ref()),
        ("icon", p.icon.as_ref()),
        ("description", p.description.as_ref()),
    ] {
        if let Some(v) = value {
            graph.properties.insert(key.into(), json!(v));
        }
    }
    if let Some(main) = p.main {
        graph.properties.insert("main".into(), json!(main));
    }
    graph.properties.insert("id".into(), json!(p.id));
    graph.set_runtime_type("imgflo");
    ctx.state.graphs.insert(p.id.clone(), GraphEntry { graph, ..Default::default() });
    if p.main == Some(true) {
        ctx.state.main = Some(p.id.clone());
    }
    ctx.echo("graph", "clear", to_json(&p));
    Ok(())
}

/// Removes a node, first announcing the removal of its edges, IIPs and exports.
fn remove_node(ctx: &mut Ctx, graph: &str, node: &str) {
    let g = &entry(ctx, graph).graph;
    let mut events = Vec::new();
    for c in &g.connections {
        match c {
            Connection::Edge { src, tgt, .. } if src.node == node || tgt.node == node => events.push((
                "removeedge",
                json!({"src": PortPayload::from_ref(src), "tgt": PortPayload::from_ref(tgt), "graph": graph}),
            )),
            Connection::Iip { data, tgt, .. } if tgt.node == node => events.push((
                "removeinitial",
                json!({"src": {"data": data}, "tgt": PortPayload::from_ref(tgt), "graph": graph}),
            )),
            _ => {}
        }
    }
    let exports_changed = g.inports.values().chain(g.outports.values()).any(|p| p.node == node);
    for (cmd, ports) in [("removeinport", &g.inports), ("removeoutport", &g.outports)] {
        for (public, p) in ports {
            if p.node == node {
                events.push((cmd, json!({"public": public, "graph": graph})));
            }
        }
    }
    entry(ctx, graph).graph.remove_node(node);
    for (cmd, payload) in events {
        ctx.echo("graph", cmd, payload);
    }
    if exports_changed {
        send_ports(ctx, graph);
    }
}

fn send_ports(ctx: &mut Ctx, graph: &str) {
    let payload = crate::runtime::ports_payload(ctx, graph);
    ctx.event("runtime", "ports", payload);
}
