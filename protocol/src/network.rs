//! The network sub-protocol: start/stop/status, and the flow of message packets.
//!
//! Message components (every port typed `all`, such as `core/Repeat` and
//! `core/Drop`) run as soon as a packet reaches one of their inports, and their
//! outputs travel along the edges at once, each hop reported as `network:data`
//! with noflo's edge ids. Packets reaching image components are kept as the
//! port's latest value, which the live image network ([`crate::render`]) uses on
//! its next render. Outputs on exported outports leave the runtime as
//! `runtime:packet`.

use std::collections::{HashMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use imgflo_runtime::graph::{Connection, PortRef};
use imgflo_runtime::ops::{Inputs, RunContext};
use imgflo_runtime::value::Value;
use imgflo_runtime::Graph;
use serde_json::{json, Map, Value as Json};

use crate::graph::PortPayload;
use crate::messages::Request;
use crate::session::{Ctx, Handled};

/// Packets one delivery may cause before the runtime calls it a loop.
pub const MAX_HOPS: usize = 10_000;

/// The live state of one graph's network.
#[derive(Debug, Default)]
pub struct NetworkState {
    /// Started and not explicitly stopped.
    pub started: bool,
    /// Processing right now.
    pub running: bool,
    pub started_at: Option<Instant>,
    pub debug: bool,
    /// The latest packet on each inport of the non-message components.
    pub port_values: HashMap<(String, String), Json>,
}

/// RFC 3339 UTC time with milliseconds, e.g. `2026-12-03T16:23:09.986Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

fn now() -> String {
    rfc3339(SystemTime::now())
}

/// noflo's id of an edge: `Src() OUT -> IN Tgt()`.
pub fn edge_id(src: &PortRef, tgt: &PortRef) -> String {
    format!("{}() {} -> {} {}()", src.node, src.port.to_uppercase(), tgt.port.to_uppercase(), tgt.node)
}

/// noflo's id of an IIP: `DATA -> IN Tgt()`.
pub fn iip_id(tgt: &PortRef) -> String {
    format!("DATA -> {} {}()", tgt.port.to_uppercase(), tgt.node)
}

pub(crate) fn handle(ctx: &mut Ctx, req: &Request) -> Handled {
    let id = crate::graph::graph_id(ctx, req)?;
    match req.command.as_str() {
        "start" => start(ctx, &id),
        "stop" => {
            let net = &mut ctx.state.graphs.get_mut(&id).expect("checked").network;
            let uptime = net.started_at.take().map_or(0.0, |t| t.elapsed().as_secs_f64());
            net.started = false;
            net.running = false;
            net.port_values.clear();
            let uptime = (uptime * 1000.0).round() / 1000.0;
            ctx.echo(
                "network",
                "stopped",
                json!({"graph": id, "time": now(), "uptime": uptime, "started": false, "running": false}),
            );
            Ok(())
        }
        "getstatus" => {
            let net = &ctx.state.graphs[&id].network;
            let payload = json!({"graph": id, "running": net.running, "started": net.started});
            ctx.reply("network", "status", payload);
            Ok(())
        }
        "debug" => {
            let enable =
                req.payload.get("enable").and_then(Json::as_bool).ok_or("network:debug needs a boolean enable")?;
            ctx.state.graphs.get_mut(&id).expect("checked").network.debug = enable;
            Ok(())
        }
        "edges" => {
            // Every edge is reported; the selection is acknowledged only.
            ctx.reply("network", "edges", Json::Object(req.payload.clone()));
            Ok(())
        }
        _ => Err(format!("{} is not supported by this runtime", req.topic())),
    }
}

fn start(ctx: &mut Ctx, id: &str) -> Handled {
    let entry = ctx.state.graphs.get(id).expect("checked");
    if let Some(missing) = entry.graph.nodes.values().find(|n| ctx.registry.get(&n.component).is_none()) {
        return Err(format!("Component {} not available", missing.component));
    }
    let iips: Vec<(PortRef, Json)> = entry
        .graph
        .connections
        .iter()
        .filter_map(|c| match c {
            Connection::Iip { data, tgt, .. } => Some((tgt.clone(), data.clone())),
            Connection::Edge { .. } => None,
        })
        .collect();
    let entry = ctx.state.graphs.get_mut(id).expect("checked");
    entry.network =
        NetworkState { started: true, running: true, started_at: Some(Instant::now()), ..Default::default() };
    ctx.echo("network", "started", json!({"graph": id, "time": now(), "started": true, "running": true}));
    let mut queue = VecDeque::new();
    for (tgt, data) in iips {
        let payload = json!({"id": iip_id(&tgt), "graph": id, "tgt": PortPayload::from_ref(&tgt), "data": data});
        ctx.event("network", "data", payload);
        // Image nodes take their IIPs from the graph when the network renders.
        let component = ctx.state.graphs[id].graph.nodes.get(&tgt.node).map(|n| n.component.clone());
        if component.is_some_and(|c| is_message_component(ctx, &c)) {
            queue.push_back((tgt, data));
        }
    }
    flow(ctx, id, queue);
    Ok(())
}

/// `runtime:packet` from a client: into the internal port behind an exported inport.
pub(crate) fn receive_packet(ctx: &mut Ctx, req: &Request) -> Handled {
    let id = crate::graph::graph_id(ctx, req)?;
    let port = req.payload.get("port").and_then(Json::as_str).ok_or("runtime:packet needs a port")?;
    let event = req.payload.get("event").and_then(Json::as_str).ok_or("runtime:packet needs an event")?;
    let entry = &ctx.state.graphs[&id];
    let target = entry.graph.inports.get(port).ok_or_else(|| format!("Cannot find internal port for {port}"))?;
    let tgt = PortRef::new(target.node.clone(), target.port.clone());
    if !entry.network.started {
        return Err(format!("Network {id} is not running"));
    }
    let mut sent = Map::new();
    for key in ["graph", "port", "event", "payload", "type", "schema"] {
        if let Some(v) = req.payload.get(key) {
            sent.insert(key.into(), v.clone());
        }
    }
    ctx.reply("runtime", "packetsent", Json::Object(sent));
    if event == "data" {
        let data = req.payload.get("payload").cloned().unwrap_or(Json::Null);
        flow(ctx, &id, VecDeque::from([(tgt, data)]));
    }
    Ok(())
}

/// Whether a component is a message component (runs on every packet).
fn is_message_component(ctx: &Ctx, component: &str) -> bool {
    crate::render::is_message_component(ctx.registry, component)
}

/// Delivers packets until the network is idle again.
fn flow(ctx: &mut Ctx, id: &str, mut queue: VecDeque<(PortRef, Json)>) {
    set_running(ctx, id, true);
    let mut hops = 0;
    while let Some((tgt, data)) = queue.pop_front() {
        hops += 1;
        if hops > MAX_HOPS {
            ctx.event(
                "network",
                "error",
                json!({"message": format!("more than {MAX_HOPS} packets for one input: stopped (a loop?)"), "graph": id}),
            );
            break;
        }
        let Some(node) = ctx.state.graphs[id].graph.nodes.get(&tgt.node) else { continue };
        let component = node.component.clone();
        if !is_message_component(ctx, &component) {
            let net = &mut ctx.state.graphs.get_mut(id).expect("graph exists").network;
            net.port_values.insert((tgt.node.clone(), tgt.port.clone()), data);
            continue;
        }
        let op = ctx.registry.get(&component).expect("message components exist").clone();
        let Some(port) = op.spec().inport(&tgt.port) else {
            let error = format!("{component} has no inport {}", tgt.port);
            ctx.event("network", "processerror", json!({"id": tgt.node, "error": error, "graph": id}));
            continue;
        };
        let mut inputs = Inputs::new();
        inputs.set(port.name, Value::Json(data));
        let outputs = match op.run(&inputs, &RunContext::default()) {
            Ok(o) => o,
            Err(e) => {
                ctx.event("network", "processerror", json!({"id": tgt.node, "error": e.to_string(), "graph": id}));
                continue;
            }
        };
        for (out_port, value) in outputs.0 {
            let data = value.to_json();
            let src = PortRef::new(tgt.node.clone(), out_port);
            let (hops_out, exports) = routes(&ctx.state.graphs[id].graph, &src);
            for edge_tgt in hops_out {
                let payload = json!({
                    "id": edge_id(&src, &edge_tgt),
                    "graph": id,
                    "src": PortPayload::from_ref(&src),
                    "tgt": PortPayload::from_ref(&edge_tgt),
                    "data": data,
                });
                ctx.event("network", "data", payload);
                queue.push_back((edge_tgt, data.clone()));
            }
            for public in exports {
                ctx.event("runtime", "packet", json!({"graph": id, "port": public, "event": "data", "payload": data}));
            }
        }
    }
    set_running(ctx, id, false);
}

/// Where a packet leaving `src` goes: edge targets and exported outport names.
fn routes(g: &Graph, src: &PortRef) -> (Vec<PortRef>, Vec<String>) {
    let targets = g.edges().filter(|(s, _)| s.node == src.node && s.port == src.port).map(|(_, t)| t.clone()).collect();
    let exports =
        g.outports.iter().filter(|(_, p)| p.node == src.node && p.port == src.port).map(|(k, _)| k.clone()).collect();
    (targets, exports)
}

fn set_running(ctx: &mut Ctx, id: &str, running: bool) {
    if let Some(e) = ctx.state.graphs.get_mut(id) {
        e.network.running = running;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_796_315_389_986);
        assert_eq!(rfc3339(t), "2026-12-03T16:29:49.986Z");
        let leap = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn ids_follow_noflo() {
        let (a, b) = (PortRef::new("Hello", "out"), PortRef::new("World", "in"));
        assert_eq!(edge_id(&a, &b), "Hello() OUT -> IN World()");
        assert_eq!(iip_id(&a), "DATA -> OUT Hello()");
    }
}
