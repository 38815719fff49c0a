//! A graph used as a component (`graphs/<name>`): its exported inports and outports
//! become the component's ports, typed and defaulted from the nodes behind them
//! (an initial value in the graph is the port's default), and running it evaluates
//! the graph once. This is how the runtime lists the project's graphs beside the
//! GEGL components, and how graph tests reach a shipped graph by name.

use crate::graph::{Connection, Graph};
use crate::ops::{ComponentSpec, Inputs, OpError, Operation, Outputs, Registry, RunContext};
use crate::value::{PortSpec, PortType};

use super::{EvalError, GraphError, Network, Overrides};

/// A graph as an operation. Its inner components come from `registry` (graphs
/// inside graphs are not expanded).
pub struct SubgraphOp {
    spec: ComponentSpec,
    graph: Graph,
    registry: &'static Registry,
    /// Public inport → inner (node, port).
    inports: Vec<(&'static str, String, String)>,
    /// Public outport → inner (node, port).
    outports: Vec<(&'static str, String, String)>,
    /// A generative graph: without a canvas it draws on a blank one.
    canvas: bool,
}

/// Names live as long as the component library (built once at start).
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

impl SubgraphOp {
    pub fn new(name: &str, graph: &Graph, registry: &'static Registry) -> Result<SubgraphOp, GraphError> {
        Network::new(graph.clone(), registry)?; // the graph must compile
        let inner = |node: &str, port: &str, inport: bool| -> Option<PortSpec> {
            let spec = registry.spec(&graph.nodes.get(node)?.component)?;
            (if inport { spec.inport(port) } else { spec.outport(port) }).cloned()
        };
        let any = |name: &'static str| PortSpec {
            name,
            ty: PortType::All,
            description: "",
            default: None,
            minimum: None,
            maximum: None,
            values: &[],
            addressable: false,
        };
        let canvas = super::is_canvas_graph(graph);
        let mut spec_in = Vec::new();
        let mut inports = Vec::new();
        for (public, p) in &graph.inports {
            let public = leak(public);
            let mut port = inner(&p.node, &p.port, true).unwrap_or_else(|| any(public));
            port.name = public;
            if canvas && public == super::CANVAS_INPORT {
                // A generative graph draws on an image: offer the port as one.
                port = PortSpec { description: CANVAS_DESCRIPTION, ..PortSpec::buffer(public) };
            }
            let iip = graph.connections.iter().rev().find_map(|c| match c {
                Connection::Iip { data, tgt, .. } if tgt.node == p.node && tgt.port == p.port => Some(data),
                _ => None,
            });
            if let Some(v) = iip.and_then(|d| port.coerce(d).ok()) {
                port.default = Some(v);
            }
            spec_in.push(port);
            inports.push((public, p.node.clone(), p.port.clone()));
        }
        let mut spec_out = Vec::new();
        let mut outports = Vec::new();
        for (public, p) in &graph.outports {
            let public = leak(public);
            let mut port = inner(&p.node, &p.port, false).unwrap_or_else(|| any(public));
            port.name = public;
            spec_out.push(port);
            outports.push((public, p.node.clone(), p.port.clone()));
        }
        let description = graph
            .properties
            .get("description")
            .and_then(|d| d.as_str())
            .map_or_else(|| leak(&format!("The {name} graph")), leak);
        let spec =
            ComponentSpec { name: leak(name), description, icon: "sitemap", inports: spec_in, outports: spec_out };
        Ok(SubgraphOp { spec, graph: graph.clone(), registry, inports, outports, canvas })
    }
}

const CANVAS_DESCRIPTION: &str = "Image to draw on (a blank 600x400 canvas when none is sent)";

impl Operation for SubgraphOp {
    fn spec(&self) -> &ComponentSpec {
        &self.spec
    }

    fn run(&self, inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
        let mut overrides = Overrides::new();
        for (public, node, port) in &self.inports {
            match inputs.get(public) {
                Some(v) => overrides.set(node.clone(), port.clone(), v.clone()),
                None if self.canvas && *public == super::CANVAS_INPORT => {
                    let (w, h) = crate::ops::draw::DEFAULT_CANVAS;
                    let blank = crate::ops::draw::blank_canvas(w, h, ctx)?;
                    overrides.set(node.clone(), port.clone(), crate::value::Value::Image(std::sync::Arc::new(blank)));
                }
                None => {}
            }
        }
        let mut network =
            Network::new(self.graph.clone(), self.registry).map_err(|e| OpError::Invalid(e.to_string()))?;
        let targets: Vec<&str> = self.outports.iter().map(|(_, n, _)| n.as_str()).collect();
        let results = network.run_once(&targets, &overrides, ctx).map_err(|e| match e {
            EvalError::Node { source: OpError::MissingInput(_), .. } => OpError::MissingInput("input"),
            EvalError::Cancelled => OpError::Cancelled,
            EvalError::DeadlineExceeded => OpError::DeadlineExceeded,
            other => OpError::Invalid(other.to_string()),
        })?;
        let mut out = Outputs::none();
        for ((public, _, port), result) in self.outports.iter().zip(results) {
            if let Some(v) = result.get(port) {
                out.0.push((public, v.clone()));
            }
        }
        Ok(out)
    }
}

/// `base` plus every graph as the component `graphs/<name>`; graphs that do not
/// compile are left out and reported.
pub fn with_graphs(base: &'static Registry, graphs: &[(String, Graph)]) -> (&'static Registry, Vec<String>) {
    let mut reg = base.clone();
    let mut problems = Vec::new();
    for (name, g) in graphs {
        match SubgraphOp::new(&format!("graphs/{name}"), g, base) {
            Ok(op) => reg.add(op),
            Err(e) => problems.push(format!("graph {name} is not offered as a component: {e}")),
        }
    }
    (Box::leak(Box::new(reg)), problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Image;
    use crate::value::Value;
    use std::sync::Arc;

    #[test]
    fn a_graph_runs_as_a_component() {
        let g = crate::graph::fbp::parse(
            "INPORT=inv.INPUT:INPUT\nOUTPORT=op.OUTPUT:OUTPUT\nINPORT=op.VALUE:STRENGTH\n\
             inv(gegl/invert-gamma) OUTPUT -> INPUT op(gegl/opacity)\n'0.5' -> VALUE op\n",
        )
        .unwrap();
        let (reg, problems) = with_graphs(Registry::builtin(), &[("half".into(), g)]);
        assert!(problems.is_empty());
        let op = reg.get("graphs/half").unwrap();
        let spec = op.spec();
        assert_eq!(spec.inport("input").unwrap().ty, PortType::Buffer);
        let strength = spec.inport("strength").unwrap();
        assert_eq!(strength.ty, PortType::Number);
        assert!(matches!(strength.default, Some(Value::Number(v)) if v == 0.5), "the IIP is the default");
        let mut inputs = Inputs::defaults(spec);
        assert!(matches!(op.run(&inputs, &RunContext::default()), Err(OpError::MissingInput(_))));
        inputs.set("input", Value::Image(Arc::new(Image::from_rgb8(1, 1, vec![0, 0, 0]).unwrap())));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        let img = out.get("output").and_then(Value::as_image).unwrap();
        assert_eq!(img.to_rgba8()[3], 128, "inverted black at half opacity");
        let broken = crate::graph::fbp::parse("a(gegl/nope)\n").unwrap();
        let (_, problems) = with_graphs(Registry::builtin(), &[("broken".into(), broken)]);
        assert_eq!(problems.len(), 1);
    }
}
