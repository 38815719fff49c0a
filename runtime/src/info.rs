//! What a graph offers its users: its public inports with type, default, range,
//! enum values and description, taken from the components' port specs (a default
//! from an IIP in the graph wins), as imgflo-graphinfo wrote them for `/graphs`.

use serde_json::{json, Map, Value as Json};

use crate::graph::{json as graph_json, Connection, Graph};
use crate::ops::Registry;
use crate::value::{PortSpec, PortType};

/// Ranges at least this wide are "unrestricted" and not advertised.
const UNBOUNDED: f64 = 1e9;

/// Metadata of one public inport.
#[derive(Clone, Debug, PartialEq)]
pub struct InportInfo {
    pub name: String,
    pub node: String,
    pub port: String,
    /// Port metadata as JSON: type, description, default, minimum, maximum, values.
    pub metadata: Map<String, Json>,
}

/// The metadata keys a port spec gives.
pub fn port_metadata(spec: &PortSpec) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("type".into(), json!(spec.ty.as_str()));
    m.insert("description".into(), json!(spec.description));
    if let Some(d) = spec.default_json() {
        m.insert("default".into(), d);
    }
    if let Some(v) = spec.minimum.filter(|v| v.abs() < UNBOUNDED) {
        m.insert("minimum".into(), json!(v));
    }
    if let Some(v) = spec.maximum.filter(|v| v.abs() < UNBOUNDED) {
        m.insert("maximum".into(), json!(v));
    }
    if spec.ty == PortType::Enum {
        m.insert("values".into(), json!(spec.values));
    }
    m
}

/// The width/height parameters the server adds to image graphs.
pub fn resize_inports() -> Vec<InportInfo> {
    ["width", "height"]
        .iter()
        .map(|name| {
            let mut metadata = Map::new();
            metadata.insert("type".into(), json!("int"));
            metadata.insert(
                "description".into(),
                json!(if *name == "width" { "Requested output width" } else { "Requested output height" }),
            );
            metadata.insert("minimum".into(), json!(0));
            metadata.insert("maximum".into(), json!(2000));
            InportInfo {
                name: name.to_string(),
                node: "rescale".into(),
                port: if *name == "width" { "x".into() } else { "y".into() },
                metadata,
            }
        })
        .collect()
}

/// The public inports of an image graph with their metadata (existing metadata
/// keys in the graph, such as Flowhub's layout, are kept and never overwritten).
pub fn inports(graph: &Graph, registry: &Registry) -> Vec<InportInfo> {
    let mut out = Vec::new();
    for (name, p) in &graph.inports {
        let mut metadata = p.metadata.clone();
        let spec = graph.nodes.get(&p.node).and_then(|n| registry.spec(&n.component)).and_then(|c| c.inport(&p.port));
        if let Some(spec) = spec {
            let iip_default = graph.connections.iter().rev().find_map(|c| match c {
                Connection::Iip { data, tgt, .. } if tgt.node == p.node && tgt.port == p.port => Some(data.clone()),
                _ => None,
            });
            let mut m = port_metadata(spec);
            if let Some(d) = iip_default.and_then(|raw| spec.coerce(&raw).ok()) {
                m.insert("default".into(), d.to_json());
            }
            for (k, v) in m {
                metadata.entry(k).or_insert(v);
            }
        }
        out.push(InportInfo { name: name.clone(), node: p.node.clone(), port: p.port.clone(), metadata });
    }
    out
}

/// The graph as `/graphs` shows it: its canonical JSON with inport and outport
/// metadata filled in, plus `width` and `height` for image graphs.
pub fn enriched_json(graph: &Graph, registry: &Registry) -> Json {
    let mut value = graph_json::to_value(graph);
    let is_image_graph = matches!(graph.runtime_type(), None | Some("imgflo"));
    if !is_image_graph {
        return value;
    }
    let mut ports = Map::new();
    for info in inports(graph, registry).into_iter().chain(resize_inports()) {
        ports.insert(
            info.name,
            json!({"process": info.node, "port": info.port, "metadata": Json::Object(info.metadata)}),
        );
    }
    value["inports"] = Json::Object(ports);
    if let Some(Json::Object(outs)) = value.get_mut("outports") {
        for (_, p) in outs.iter_mut() {
            let meta = p.as_object_mut().expect("outport object").entry("metadata").or_insert_with(|| json!({}));
            if let Json::Object(m) = meta {
                m.entry("type").or_insert(json!("buffer"));
                m.entry("description").or_insert(json!("Image buffer"));
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iip_defaults_win_and_ranges_are_listed() {
        let g = crate::graph::json::from_str(
            r#"{"properties": {"environment": {"type": "imgflo"}},
                "processes": {"blur": {"component": "gegl/gaussian-blur"}},
                "connections": [{"data": 3, "tgt": {"process": "blur", "port": "std-dev-x"}}],
                "inports": {"input": {"process": "blur", "port": "input"},
                            "sx": {"process": "blur", "port": "std-dev-x", "metadata": {"x": 10}},
                            "abyss": {"process": "blur", "port": "abyss-policy"}},
                "outports": {"output": {"process": "blur", "port": "output"}}}"#,
        )
        .unwrap();
        let infos = inports(&g, Registry::builtin());
        let sx = infos.iter().find(|i| i.name == "sx").unwrap();
        assert_eq!(sx.metadata["default"], json!(3.0));
        assert_eq!(sx.metadata["minimum"], json!(0.0));
        assert_eq!(sx.metadata["maximum"], json!(1500.0));
        assert_eq!(sx.metadata["x"], json!(10));
        let abyss = infos.iter().find(|i| i.name == "abyss").unwrap();
        assert_eq!(abyss.metadata["values"], json!(["none", "clamp", "black", "white"]));
        let input = infos.iter().find(|i| i.name == "input").unwrap();
        assert_eq!(input.metadata["type"], json!("buffer"));

        let v = enriched_json(&g, Registry::builtin());
        assert_eq!(v["inports"]["width"]["metadata"]["maximum"], json!(2000));
        assert_eq!(v["outports"]["output"]["metadata"]["type"], json!("buffer"));
    }
}
