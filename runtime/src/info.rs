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
    size_inports("rescale", ["x", "y"])
}

fn size_inports(node: &str, ports: [&str; 2]) -> Vec<InportInfo> {
    ["width", "height"]
        .iter()
        .zip(ports)
        .map(|(name, port)| {
            let mut metadata = Map::new();
            metadata.insert("type".into(), json!("int"));
            metadata.insert(
                "description".into(),
                json!(if *name == "width" { "Requested output width" } else { "Requested output height" }),
            );
            metadata.insert("minimum".into(), json!(0));
            metadata.insert("maximum".into(), json!(2000));
            InportInfo { name: name.to_string(), node: node.into(), port: port.into(), metadata }
        })
        .collect()
}

/// The parameters a request may give besides the graph's own inports: for image
/// graphs `width`/`height` (resize the input) and the video settings; for
/// generative graphs `width`/`height` (the blank canvas, or a resize of the output
/// when there is an input).
pub fn request_inports(graph: &Graph) -> Vec<InportInfo> {
    if crate::eval::is_canvas_graph(graph) {
        return size_inports("canvas", ["width", "height"]);
    }
    let [_, bitrate, framerate] = crate::eval::request_param_specs();
    let mut out = resize_inports();
    let mut rate = port_metadata(&framerate);
    rate.insert("description".into(), json!("Frames per second in output video (default: the input's)"));
    out.push(InportInfo {
        name: "video_bitrate".into(),
        node: "save".into(),
        port: "video-bit-rate".into(),
        metadata: port_metadata(&bitrate),
    });
    out.push(InportInfo {
        name: "video_framerate".into(),
        node: "save".into(),
        port: "frame-rate".into(),
        metadata: rate,
    });
    out
}

/// The public inports of an image graph with their metadata (existing metadata
/// keys in the graph, such as Flowhub's layout, are kept and never overwritten).
pub fn inports(graph: &Graph, registry: &Registry) -> Vec<InportInfo> {
    let mut out = Vec::new();
    let canvas = crate::eval::is_canvas_graph(graph);
    for (name, p) in &graph.inports {
        // A generative graph's canvas is the server's to give, not a parameter.
        if canvas && name == crate::eval::CANVAS_INPORT {
            continue;
        }
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
/// metadata filled in, plus the request parameters (`width`, `height`, video
/// settings) of image and generative graphs.
pub fn enriched_json(graph: &Graph, registry: &Registry) -> Json {
    let mut value = graph_json::to_value(graph);
    let canvas = crate::eval::is_canvas_graph(graph);
    if !canvas && !matches!(graph.runtime_type(), None | Some("imgflo")) {
        return value;
    }
    let mut ports = Map::new();
    for info in inports(graph, registry).into_iter().chain(request_inports(graph)) {
        ports.insert(
            info.name,
            json!({"process": info.node, "port": info.port, "metadata": Json::Object(info.metadata)}),
        );
    }
    if canvas {
        // As the original listed it: an input image is optional (drawn on).
        ports.entry("input").or_insert(json!({"metadata": {
            "type": "buffer",
            "description": "Image to draw on; without one, a blank canvas of width x height (600x400)"
        }}));
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
        assert_eq!(v["inports"]["video_bitrate"]["metadata"]["default"], json!(128));
        assert_eq!(v["inports"]["video_framerate"]["metadata"]["maximum"], json!(100.0));
        assert_eq!(v["outports"]["output"]["metadata"]["type"], json!("buffer"));
    }
}

#[cfg(test)]
mod canvas_tests {
    use super::*;

    #[test]
    fn generative_graphs_list_size_on_the_canvas_and_hide_the_canvas_port() {
        let g = crate::graph::json::from_str(
            r##"{"properties": {"environment": {"type": "noflo-browser"}},
                "processes": {"split": {"component": "core/Split"}, "fill": {"component": "canvas/Fill"}},
                "connections": [{"data": "#ff00ff", "tgt": {"process": "fill", "port": "fillstyle"}}],
                "inports": {"canvas": {"process": "split", "port": "in"}, "color": {"process": "fill", "port": "fillstyle"}},
                "outports": {"output": {"process": "fill", "port": "fill"}}}"##,
        )
        .unwrap();
        let v = enriched_json(&g, Registry::builtin());
        let ports = v["inports"].as_object().unwrap();
        assert!(!ports.contains_key("canvas"));
        assert_eq!(v["inports"]["color"]["metadata"]["default"], json!("#ff00ff"));
        assert_eq!(v["inports"]["width"]["process"], json!("canvas"));
        assert_eq!(v["inports"]["input"]["metadata"]["type"], json!("buffer"));
        assert!(!ports.contains_key("video_bitrate"));
    }
}
