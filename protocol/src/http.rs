//! Plain HTTP on the runtime's port: `GET /process?graph=G&node=N` answers with a
//! PNG of the node's current image (imgflo's preview endpoint), `GET /` with what
//! this runtime is. Transport-free: [`crate::server`] maps these to responses.

use std::sync::Arc;

use imgflo_runtime::codec::{self, EncodeOptions, OutputFormat};
use imgflo_runtime::ops::{resize, RunContext};
use imgflo_runtime::Image;
use serde_json::{json, Value as Json};

use crate::session::{Runtime, CAPABILITIES, PROTOCOL_VERSION};

/// An HTTP answer: status, content type, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: u16, value: &Json) -> Answer {
        let mut body = serde_json::to_vec_pretty(value).expect("JSON serialises");
        body.push(b'\n');
        Answer { status, content_type: "application/json", body }
    }
    pub fn error(status: u16, message: &str) -> Answer {
        Answer::json(status, &json!({"error": message, "code": status}))
    }
}

/// `GET /process?graph=G&node=N`: the node's image as PNG, fit in the preview box
/// (the graph output: full size up to the cap). Blocking: it may render the graph.
pub fn process(rt: &Arc<Runtime>, query: &str) -> Answer {
    let mut graph = None;
    let mut node = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "graph" => graph = Some(v.into_owned()),
            "node" => node = Some(v.into_owned()),
            _ => {} // rev, timestamp: cache busters
        }
    }
    let (Some(graph), Some(node)) = (graph, node) else {
        return Answer::error(400, "give the graph and node to show: /process?graph=G&node=N");
    };
    let known = {
        let state = rt.lock();
        state.graphs.get(&graph).map(|e| e.graph.nodes.contains_key(&node))
    };
    match known {
        None => return Answer::error(400, &format!("no graph {graph:?}")),
        Some(false) => return Answer::error(400, &format!("graph {graph:?} has no node {node:?}")),
        Some(true) => {}
    }
    crate::render::ensure_fresh(rt, &graph);
    let (image, is_output) = {
        let state = rt.lock();
        let Some(entry) = state.graphs.get(&graph) else { return Answer::error(400, &format!("no graph {graph:?}")) };
        (entry.live.previews.get(&node).cloned(), entry.live.output_node.as_deref() == Some(node.as_str()))
    };
    let Some(image) = image else {
        return Answer::error(400, &format!("node {node:?} has no image to show (is its input connected?)"));
    };
    let limit = if is_output { rt.options.output_preview_cap } else { rt.options.node_preview_box };
    match preview_png(&image, limit) {
        Ok(body) => Answer { status: 200, content_type: "image/png", body },
        Err(e) => Answer::error(500, &format!("cannot encode the preview: {e}")),
    }
}

/// `image` shrunk to fit a `limit`x`limit` box (never enlarged), as PNG.
pub fn preview_png(image: &Arc<Image>, limit: u32) -> Result<Vec<u8>, String> {
    let (w, h) = image.dimensions();
    let scale = (f64::from(limit) / f64::from(w.max(h).max(1))).min(1.0);
    let resized;
    let shown: &Image = if scale < 1.0 {
        let (nw, nh) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
        resized = resize::resize(image, nw, nh, resize::sampler_alg("linear"), &RunContext::default())
            .map_err(|e| e.to_string())?;
        &resized
    } else {
        image
    };
    codec::encode(shown, &EncodeOptions::new(OutputFormat::Png)).map_err(|e| e.to_string())
}

/// `GET /`: this runtime's identity and graphs.
pub fn about(rt: &Runtime) -> Answer {
    let state = rt.lock();
    let graphs: Vec<&String> = state.graphs.keys().filter(|k| !k.starts_with("fixture.")).collect();
    Answer::json(
        200,
        &json!({
            "type": "imgflo",
            "protocol": "websocket",
            "version": PROTOCOL_VERSION,
            "id": rt.info.id,
            "label": rt.info.label,
            "capabilities": CAPABILITIES,
            "graphs": graphs,
            "preview": format!("{}/process?graph=<graph>&node=<node>", rt.base_url()),
        }),
    )
}
