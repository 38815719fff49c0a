//! The component sub-protocol: the component library, and graphs' JSON source.

use imgflo_runtime::ops::ComponentSpec;
use imgflo_runtime::value::{PortSpec, PortType};
use serde_json::{json, Map, Value as Json};

use crate::messages::Request;
use crate::session::{Ctx, Handled};

/// A port definition as `component:component` and `runtime:ports` carry it (no
/// `minimum`/`maximum`: the schema forbids them).
pub fn port_definition(p: &PortSpec) -> Json {
    let mut o = Map::new();
    o.insert("id".into(), json!(p.name));
    o.insert("type".into(), json!(p.ty.as_str()));
    o.insert("description".into(), json!(p.description));
    o.insert("required".into(), json!(false));
    o.insert("addressable".into(), json!(false));
    if let Some(d) = p.default_json() {
        o.insert("default".into(), d);
    }
    if p.ty == PortType::Enum {
        o.insert("values".into(), json!(p.values));
    }
    Json::Object(o)
}

/// The `component:component` payload of a component.
pub fn component_payload(spec: &ComponentSpec) -> Json {
    json!({
        "name": spec.name,
        "description": spec.description,
        "icon": spec.icon,
        "subgraph": false,
        "inPorts": spec.inports.iter().map(port_definition).collect::<Vec<_>>(),
        "outPorts": spec.outports.iter().map(port_definition).collect::<Vec<_>>(),
    })
}

pub(crate) fn handle(ctx: &mut Ctx, req: &Request) -> Handled {
    match req.command.as_str() {
        "list" => {
            let mut n = 0;
            for spec in ctx.registry.specs() {
                ctx.reply("component", "component", component_payload(spec));
                n += 1;
            }
            ctx.reply("component", "componentsready", json!(n));
            Ok(())
        }
        "getsource" => {
            let name = req.payload.get("name").and_then(Json::as_str).ok_or("component:getsource needs a name")?;
            // A graph: by its full id, or by the name without the library prefix.
            let id = if ctx.state.graphs.contains_key(name) {
                Some(name)
            } else {
                name.split_once('/').map(|(_, n)| n).filter(|n| ctx.state.graphs.contains_key(*n))
            };
            if let Some(id) = id {
                let graph = &ctx.state.graphs[id].graph;
                let code = imgflo_runtime::graph::json::to_string_pretty(graph);
                let mut p = Map::new();
                match name.split_once('/') {
                    Some((library, short)) => {
                        p.insert("name".into(), json!(short));
                        p.insert("library".into(), json!(library));
                    }
                    None => {
                        p.insert("name".into(), json!(name));
                    }
                }
                p.insert("language".into(), json!("json"));
                p.insert("code".into(), json!(code));
                ctx.reply("component", "source", Json::Object(p));
                return Ok(());
            }
            if ctx.registry.get(name).is_some() {
                return Err(format!("Component {name} is built into imgflo and has no source to show"));
            }
            Err(format!("Component {name} not found"))
        }
        _ => Err(format!("{} is not supported by this runtime", req.topic())),
    }
}
