//! Running a graph as a request does: an input image and parameters by public name
//! in, the image on the `output` outport out.
//!
//! Image graphs (imgflo's runtime): as imgflo-server did, `width` and `height` are
//! not graph ports: they insert a `gegl/scale-size-keepaspect` node between the
//! input image and the graph's `input` inport, so the graph works on the resized
//! input. Generative graphs (NoFlo's runtimes, `noflo-browser`/`noflo-nodejs`):
//! the graph's `canvas` inport gets the input image, or a blank canvas of
//! `width` x `height` (600x400 by default) when there is no input; with an input,
//! `width`/`height` resize the output instead.
//!
//! A [`PreparedGraph`] binds the parameters once and runs on frame after frame
//! (animations, video).

use std::sync::Arc;

use serde_json::Value as Json;

use super::{EvalError, Network, Overrides};
use crate::graph::{Connection, ExportedPort, Graph, PortRef};
use crate::ops::{draw, Inputs, Registry, RunContext};
use crate::pixels::Image;
use crate::value::{PortSpec, Value};

/// The parameters the server adds to every image graph (they resize the input).
pub const RESIZE_PARAMS: [&str; 2] = ["width", "height"];
/// The video parameters every image graph takes (used when the output is a video).
pub const VIDEO_PARAMS: [&str; 2] = ["video_bitrate", "video_framerate"];
const RESCALE_NODE: &str = "_imgflo_rescale";
/// The inport of a generative graph that receives the canvas.
pub const CANVAS_INPORT: &str = "canvas";

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

/// Request parameters that are not graph ports.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RequestOptions {
    /// `width`/`height` (−1 where not given).
    pub resize: Option<(f64, f64)>,
    /// `video_bitrate` in kb/s.
    pub video_bitrate: Option<u32>,
    /// `video_framerate` in frames per second.
    pub video_framerate: Option<f64>,
}

/// Whether a graph is generative (made for NoFlo's canvas runtimes).
pub fn is_canvas_graph(graph: &Graph) -> bool {
    matches!(graph.runtime_type(), Some("noflo-browser" | "noflo-nodejs"))
}

fn number_param(name: &str, raw: &Json, spec: &PortSpec) -> Result<f64, EvalError> {
    match spec.coerce(raw) {
        Ok(Value::Number(v)) => Ok(v),
        Ok(Value::Int(v)) => Ok(v as f64),
        Ok(_) => unreachable!("number port"),
        Err(e) => Err(EvalError::InvalidParameter { name: name.to_string(), message: e.to_string() }),
    }
}

/// The specs of the request parameters every image graph takes besides its inports.
pub fn request_param_specs() -> [PortSpec; 3] {
    [
        PortSpec::number("size", -1.0, -1e9, 1e9, "Requested size"),
        PortSpec::int("video_bitrate", 128, 100, 10_000, "Bitrate of output video (kb/s)"),
        PortSpec { default: None, ..PortSpec::number("video_framerate", 25.0, 1.0, 100.0, "Frames per second") },
    ]
}

/// Checks request parameters against the graph's exported inports and turns them
/// into port overrides; returns the overrides and the parameters that are not
/// graph ports.
pub fn bind_params(
    graph: &Graph,
    registry: &Registry,
    params: &[(String, Json)],
) -> Result<(Overrides, RequestOptions), EvalError> {
    let mut overrides = Overrides::new();
    let mut opts = RequestOptions::default();
    let (mut width, mut height) = (None, None);
    let [size_spec, bitrate_spec, rate_spec] = request_param_specs();
    let canvas = is_canvas_graph(graph);
    for (name, raw) in params {
        match name.as_str() {
            "width" => width = Some(number_param(name, raw, &size_spec)?),
            "height" => height = Some(number_param(name, raw, &size_spec)?),
            "video_bitrate" => opts.video_bitrate = Some(number_param(name, raw, &bitrate_spec)? as u32),
            "video_framerate" => opts.video_framerate = Some(number_param(name, raw, &rate_spec)?),
            _ => {
                let port = graph.inports.get(name.as_str()).filter(|_| !(canvas && name == CANVAS_INPORT));
                let Some(port) = port else {
                    let mut valid: Vec<String> = graph
                        .inports
                        .keys()
                        .filter(|k| *k != "input" && !(canvas && *k == CANVAS_INPORT))
                        .cloned()
                        .collect();
                    valid.extend(RESIZE_PARAMS.iter().chain(&VIDEO_PARAMS).map(|s| s.to_string()));
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
                // An export to a property the component lacks (passthrough's `ignored`)
                // takes any value and does nothing, as it did in imgflo.
                let Some(pspec) = spec.inport(&port.port) else { continue };
                let value = pspec
                    .coerce(raw)
                    .map_err(|e| EvalError::InvalidParameter { name: name.clone(), message: e.to_string() })?;
                overrides.set(port.node.clone(), port.port.clone(), value);
            }
        }
    }
    opts.resize = match (width, height) {
        (None, None) => None,
        (w, h) => Some((w.unwrap_or(-1.0), h.unwrap_or(-1.0))),
    };
    Ok((overrides, opts))
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

/// Where a run puts its input image.
enum Feed {
    /// An image graph: this node's port (the graph's `input`, or the rescale node).
    Image(Option<(String, String)>),
    /// A generative graph: its canvas inport, and the size of a blank canvas and
    /// the resize of the output (with an input).
    Canvas { port: Option<(String, String)>, blank: (u32, u32), resize: Option<(f64, f64)> },
}

/// A graph with its parameters bound, ready to run on one input after another.
pub struct PreparedGraph {
    network: Network,
    overrides: Overrides,
    feed: Feed,
    output: ExportedPort,
    options: RequestOptions,
}

impl PreparedGraph {
    pub fn new(graph: &Graph, registry: &Registry, params: &[(String, Json)]) -> Result<PreparedGraph, EvalError> {
        let (mut overrides, options) = bind_params(graph, registry, params)?;
        let output = graph.outports.get("output").ok_or_else(|| EvalError::NoOutport("output".into()))?.clone();
        let mut graph = graph.clone();
        let feed = if is_canvas_graph(&graph) {
            let port = graph.inports.get(CANVAS_INPORT).map(|p| (p.node.clone(), p.port.clone()));
            let given = |v: f64, default: u32| if v >= 1.0 { v.min(f64::from(u32::MAX)) as u32 } else { default };
            let (w, h) = options.resize.unwrap_or((-1.0, -1.0));
            let blank = (given(w, draw::DEFAULT_CANVAS.0), given(h, draw::DEFAULT_CANVAS.1));
            Feed::Canvas { port, blank, resize: options.resize }
        } else {
            let port = graph.inports.get("input").cloned().map(|inport| match options.resize {
                None => {
                    // The request's image replaces whatever else feeds that port (a
                    // leftover `gegl/load` of a Flowhub export), as imgflo's appended
                    // load -> input link did.
                    graph.connections.retain(
                        |c| !matches!(c, Connection::Edge { tgt, .. } if tgt.node == inport.node && tgt.port == inport.port),
                    );
                    (inport.node, inport.port)
                }
                Some((w, h)) => {
                    graph.add_node(RESCALE_NODE, "gegl/scale-size-keepaspect");
                    // Appended last, this edge replaces any leftover loader edge.
                    graph.add_edge(
                        PortRef::new(RESCALE_NODE, "output"),
                        PortRef::new(inport.node, inport.port),
                        Default::default(),
                    );
                    overrides.set(RESCALE_NODE, "x", Value::Number(w));
                    overrides.set(RESCALE_NODE, "y", Value::Number(h));
                    (RESCALE_NODE.to_string(), "input".to_string())
                }
            });
            Feed::Image(port)
        };
        let network = Network::new(graph, registry)?;
        Ok(PreparedGraph { network, overrides, feed, output, options })
    }

    /// The parameters that are not graph ports.
    pub fn options(&self) -> RequestOptions {
        self.options
    }

    /// Runs the graph once on `image`.
    pub fn run(&mut self, image: Option<Arc<Image>>, ctx: &RunContext) -> Result<RunOutput, EvalError> {
        let mut resize_after = None;
        match (&self.feed, image) {
            (Feed::Image(Some((node, port))), Some(img)) => self.overrides.set(node, port, Value::Image(img)),
            (Feed::Image(_), _) => {}
            (Feed::Canvas { port, blank, resize }, img) => {
                let canvas = match img {
                    Some(img) => {
                        resize_after = *resize;
                        img
                    }
                    None => Arc::new(draw::blank_canvas(blank.0, blank.1, ctx).map_err(|e| EvalError::Node {
                        node: CANVAS_INPORT.into(),
                        component: "canvas".into(),
                        source: e,
                    })?),
                };
                if let Some((node, port)) = port {
                    self.overrides.set(node, port, Value::Image(canvas));
                }
            }
        }
        let outputs = self.network.run_once(&[self.output.node.as_str()], &self.overrides, ctx)?;
        let mut image = outputs
            .into_iter()
            .next()
            .and_then(|o| o.get(&self.output.port).and_then(Value::as_image).cloned())
            .ok_or_else(|| EvalError::NoImage("output".into()))?;
        if let Some((w, h)) = resize_after {
            image = resize_output(&image, w, h, ctx)?;
        }
        Ok(RunOutput { image, executed: self.network.stats().executed })
    }
}

/// `gegl/scale-size-keepaspect` on a generative graph's output.
fn resize_output(image: &Arc<Image>, w: f64, h: f64, ctx: &RunContext) -> Result<Arc<Image>, EvalError> {
    let name = "gegl/scale-size-keepaspect";
    let op = Registry::builtin().get(name).expect("built-in resize");
    let mut inputs = Inputs::defaults(op.spec());
    inputs.set("input", Value::Image(image.clone()));
    inputs.set("x", Value::Number(w));
    inputs.set("y", Value::Number(h));
    let out = op.run(&inputs, ctx).map_err(|source| EvalError::Node {
        node: "resize".into(),
        component: name.into(),
        source,
    })?;
    out.get("output").and_then(Value::as_image).cloned().ok_or_else(|| EvalError::NoImage("output".into()))
}

/// Runs `graph` once on `input`, returning the image on its `output` outport.
pub fn run_graph(
    graph: &Graph,
    registry: &Registry,
    input: &GraphInput,
    ctx: &RunContext,
) -> Result<RunOutput, EvalError> {
    PreparedGraph::new(graph, registry, &input.params)?.run(input.image.clone(), ctx)
}
