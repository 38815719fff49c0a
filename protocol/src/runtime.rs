//! The runtime sub-protocol (`getruntime`, `packet`, `ports`) and permissions.

use serde_json::{json, Map, Value as Json};

use crate::messages::Request;
use crate::session::{Ctx, Handled, CAPABILITIES, PROTOCOL_VERSION};

/// The capabilities of which a client needs one to send this message (none for
/// `getruntime`).
pub fn required_capabilities(protocol: &str, command: &str) -> &'static [&'static str] {
    match (protocol, command) {
        ("runtime", "getruntime") => &[],
        ("runtime", _) => &["protocol:runtime"],
        ("graph", _) => &["protocol:graph"],
        ("component", "list") => &["protocol:component"],
        ("component", "getsource") => &["component:getsource"],
        ("component", "source") => &["component:setsource"],
        ("component", _) => &["protocol:component"],
        ("network", "persist") => &["network:persist"],
        ("network", "getstatus") => &["network:status", "network:control", "protocol:network"],
        ("network", "edges") => &["network:data", "protocol:network"],
        ("network", _) => &["network:control", "protocol:network"],
        ("trace", _) => &["protocol:trace"],
        _ => &["unknown"],
    }
}

/// Refuses a message the runtime cannot do, or this client may not do.
pub(crate) fn permission(req: &Request, granted: &[&str]) -> Handled {
    let needed = required_capabilities(&req.protocol, &req.command);
    if needed.is_empty() || needed.iter().any(|c| granted.contains(c)) {
        return Ok(());
    }
    if needed.iter().any(|c| CAPABILITIES.contains(c)) {
        Err(format!("{} is not permitted", req.topic()))
    } else {
        Err(format!("{} is not supported by this runtime", req.topic()))
    }
}

pub(crate) fn handle(ctx: &mut Ctx, req: &Request) -> Handled {
    match req.command.as_str() {
        "getruntime" => {
            let mut p = Map::new();
            p.insert("type".into(), json!("imgflo"));
            p.insert("version".into(), json!(PROTOCOL_VERSION));
            p.insert("capabilities".into(), json!(ctx.capabilities));
            p.insert("allCapabilities".into(), json!(CAPABILITIES));
            p.insert("id".into(), json!(ctx.info.id));
            p.insert("label".into(), json!(ctx.info.label));
            let main = ctx.state.main.clone().filter(|m| ctx.state.graphs.contains_key(m));
            if let Some(main) = &main {
                p.insert("graph".into(), json!(main));
            }
            ctx.reply("runtime", "runtime", Json::Object(p));
            if let (Some(main), false) = (main, ctx.capabilities.is_empty()) {
                let ports = ports_payload(ctx, &main);
                ctx.reply("runtime", "ports", ports);
            }
            Ok(())
        }
        "packet" => crate::network::receive_packet(ctx, req),
        _ => Err(format!("{} is not supported by this runtime", req.topic())),
    }
}

/// `runtime:ports` of a graph: its exported ports, typed from the components.
pub(crate) fn ports_payload(ctx: &Ctx, graph_id: &str) -> Json {
    let Some(entry) = ctx.state.graphs.get(graph_id) else {
        return json!({"graph": graph_id, "inPorts": [], "outPorts": []});
    };
    let g = &entry.graph;
    let describe = |public: &str, node: &str, port: &str, inport: bool| {
        let spec = g.nodes.get(node).and_then(|n| ctx.registry.spec(&n.component));
        let port_spec = spec.and_then(|s| if inport { s.inport(port) } else { s.outport(port) });
        let mut p = Map::new();
        p.insert("id".into(), json!(public));
        p.insert("type".into(), json!(port_spec.map_or("all", |s| s.ty.as_str())));
        if let Some(s) = port_spec {
            p.insert("description".into(), json!(s.description));
        }
        p.insert("addressable".into(), json!(false));
        p.insert("required".into(), json!(false));
        Json::Object(p)
    };
    let inports: Vec<Json> = g.inports.iter().map(|(k, p)| describe(k, &p.node, &p.port, true)).collect();
    let outports: Vec<Json> = g.outports.iter().map(|(k, p)| describe(k, &p.node, &p.port, false)).collect();
    json!({"graph": graph_id, "inPorts": inports, "outPorts": outports})
}
