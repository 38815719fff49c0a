//! Running a graph as a request does: an input image and parameters by public name
//! in, the image on the `output` outport out.
//!
//! As imgflo-server did, `width` and `height` are not graph ports: they insert a
//! `gegl/scale-size-keepaspect` node between the input image and the graph's
//! `input` inport, so the graph works on the resized input.

use std::sync::Arc;

use serde_json::Value as Json;

use super::{EvalError, Network, Overrides};
use crate::graph::{Graph, PortRef};
use crate::ops::{Registry, RunContext};
use crate::pixels::Image;
use crate::value::Value;

/// The parameters the server adds to every image graph (they resize the input).
pub const RESIZE_PARAMS: [&str; 2] = ["width", "height"];
const RESCALE_NODE: &str = "_imgflo_rescale";

/// What a request gives a graph.
#[derive(Clone, Debug, Default)]
pub struct GraphInput {
    /// The image for the `input` inport, if any.
    pub image: Option<Arc<Image>>,
    /// Parameters by public inport name, raw (strings from a URL, or JSON).
    pub params: Vec<(String, Json)>,
}

/// The result of a run.
#[derive(Debug)]
pub struct RunOutput {
    pub image: Arc<Image>,
    /// Nodes whose operation ran.
    pub executed: usize,
}

/// Checks request parameters against the graph's exported inports and turns them
/// into port overrides; returns the overrides and the resize request, if any.
pub fn bind_params(
    graph: &Graph,
    registry: &Registry,
    params: &[(String, Json)],
) -> Result<(Overrides, Option<(f64, f64)>), EvalError> {
    let mut overrides = Overrides::new();
    let (mut width, mut height) = (None, None);
    let size_spec = crate::value::PortSpec::number("size", -1.0, -1e9, 1e9, "size");
    for (name, raw) in params {
        if RESIZE_PARAMS.contains(&name.as_str()) {
            let v = match size_spec.coerce(raw) {
                Ok(Value::Number(v)) => v,
                Ok(_) => unreachable!("number port"),
                Err(e) => return Err(EvalError::InvalidParameter { name: name.clone(), message: e.to_string() }),
            };
            if name == "width" {
                width = Some(v);
            } else {
                height = Some(v);
            }
            continue;
        }
        let Some(port) = graph.inports.get(name.as_str()) else {
            let mut valid: Vec<String> = graph.inports.keys().filter(|k| *k != "input").cloned().collect();
            valid.extend(RESIZE_PARAMS.iter().map(|s| s.to_string()));
            return Err(EvalError::UnknownParameter { name: name.clone(), valid });
        };
        let component = graph
            .nodes
            .get(&port.node)
            .map(|n| n.component.as_str())
            .ok_or_else(|| EvalError::UnknownNode(port.node.clone()))?;
        let spec = registry.spec(component).ok_or_else(|| {
            EvalError::Graph(super::GraphError::UnknownComponent {
                node: port.node.clone(),
                component: component.to_string(),
            })
        })?;
        // An export to a property the component lacks (passthrough's `ignored`) takes
        // any value and does nothing, as it did in imgflo.
        let Some(pspec) = spec.inport(&port.port) else { continue };
        let value = pspec
            .coerce(raw)
            .map_err(|e| EvalError::InvalidParameter { name: name.clone(), message: e.to_string() })?;
        overrides.set(port.node.clone(), port.port.clone(), value);
    }
    let resize = match (width, height) {
        (None, None) => None,
        (w, h) => Some((w.unwrap_or(-1.0), h.unwrap_or(-1.0))),
    };
    Ok((overrides, resize))
}

/// Decodes a request's input image: the header is probed first (an image over
/// `max_pixels` is refused before decoding), and when `width`/`height` will resize it,
/// JPEGs are decoded at the smallest DCT scale that still covers that size.
pub fn decode_input(
    bytes: &[u8],
    params: &[(String, Json)],
    max_pixels: u64,
) -> Result<Image, crate::codec::CodecError> {
    let probe = crate::codec::probe(bytes)?;
    let size = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| match v {
                Json::String(s) => s.trim().parse::<f64>().ok(),
                other => other.as_f64(),
            })
            .unwrap_or(-1.0)
    };
    let opts = crate::codec::DecodeOptions {
        max_pixels,
        target: crate::ops::resize::keepaspect_size((probe.width, probe.height), size("width"), size("height")),
        auto_orient: true,
    };
    Ok(crate::codec::decode(bytes, &opts)?.image)
}

/// Runs `graph` once on `input`, returning the image on its `output` outport.
pub fn run_graph(
    graph: &Graph,
    registry: &Registry,
    input: &GraphInput,
    ctx: &RunContext,
) -> Result<RunOutput, EvalError> {
    let (mut overrides, resize) = bind_params(graph, registry, &input.params)?;
    let out = graph.outports.get("output").ok_or_else(|| EvalError::NoOutport("output".into()))?.clone();
    let mut graph = graph.clone();
    if let Some(image) = &input.image {
        if let Some(inport) = graph.inports.get("input").cloned() {
            match resize {
                None => overrides.set(inport.node, inport.port, Value::Image(image.clone())),
                Some((w, h)) => {
                    graph.add_node(RESCALE_NODE, "gegl/scale-size-keepaspect");
                    // Appended last, this edge replaces any leftover loader edge.
                    graph.add_edge(
                        PortRef::new(RESCALE_NODE, "output"),
                        PortRef::new(inport.node, inport.port),
                        Default::default(),
                    );
                    overrides.set(RESCALE_NODE, "input", Value::Image(image.clone()));
                    overrides.set(RESCALE_NODE, "x", Value::Number(w));
                    overrides.set(RESCALE_NODE, "y", Value::Number(h));
                }
            }
        }
    }
    let mut network = Network::new(graph, registry)?;
    let outputs = network.run_once(&[out.node.as_str()], &overrides, ctx)?;
    let image = outputs
        .into_iter()
        .next()
        .and_then(|o| o.get(&out.port).and_then(Value::as_image).cloned())
        .ok_or_else(|| EvalError::NoImage("output".into()))?;
    Ok(RunOutput { image, executed: network.stats().executed })
}
