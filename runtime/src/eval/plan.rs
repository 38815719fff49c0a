//! Compiling a graph against the component registry: every node resolved to an
//! operation, every connection checked, IIPs coerced to their port types.

use std::collections::HashMap;
use std::sync::Arc;

use crate::graph::{Connection, Graph};
use crate::ops::{Operation, Registry};
use crate::value::{CoerceError, PortType, Value};

/// Why a graph cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error("node {node:?} uses unknown component {component:?}")]
    UnknownComponent { node: String, component: String },
    #[error("connection names unknown node {0:?}")]
    UnknownNode(String),
    #[error("component {component} of node {node:?} has no {direction} {port:?}")]
    UnknownPort { node: String, component: String, port: String, direction: &'static str },
    #[error("cannot connect {src} ({src_type}) to {tgt} ({tgt_type})")]
    TypeMismatch { src: String, src_type: &'static str, tgt: String, tgt_type: &'static str },
    #[error("invalid initial value for {node}.{port}: {source}")]
    InvalidIip { node: String, port: String, source: CoerceError },
    #[error("the graph has a cycle through node {0:?}")]
    Cycle(String),
}

/// One node, resolved.
pub(crate) struct PlanNode {
    pub id: String,
    pub component: String,
    pub op: Arc<dyn Operation>,
    /// Constant values from IIPs (later IIPs to the same port win).
    pub iips: Vec<(&'static str, Value)>,
    /// Incoming edges. One per inport (a later edge to the same inport replaces the
    /// earlier, as in imgflo), except on array ports, which keep every edge.
    pub edges: Vec<PlanEdge>,
}

/// An edge into a node.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlanEdge {
    pub port: &'static str,
    pub src: usize,
    pub src_port: &'static str,
    /// The element of an array port this edge fills (its index, or the next free
    /// one in connection order, as NoFlo attaches sockets).
    pub slot: Option<u32>,
}

/// A graph resolved against a registry.
pub(crate) struct Plan {
    pub nodes: Vec<PlanNode>,
    pub index: HashMap<String, usize>,
    /// Problems that do not stop the graph from running (e.g. an IIP or export to a
    /// property the component does not have, which GEGL only warned about).
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn compile(graph: &Graph, registry: &Registry) -> Result<Plan, GraphError> {
        let mut nodes = Vec::with_capacity(graph.nodes.len());
        let mut index = HashMap::new();
        for (id, node) in &graph.nodes {
            let op = registry
                .get(&node.component)
                .ok_or_else(|| GraphError::UnknownComponent { node: id.clone(), component: node.component.clone() })?;
            index.insert(id.clone(), nodes.len());
            nodes.push(PlanNode {
                id: id.clone(),
                component: node.component.clone(),
                op: op.clone(),
                iips: Vec::new(),
                edges: Vec::new(),
            });
        }
        let mut warnings = Vec::new();
        let node_of = |name: &str| index.get(name).copied().ok_or_else(|| GraphError::UnknownNode(name.to_string()));
        for c in &graph.connections {
            match c {
                Connection::Edge { src, tgt, .. } => {
                    let (si, ti) = (node_of(&src.node)?, node_of(&tgt.node)?);
                    let sspec = nodes[si].op.spec();
                    let sport = sspec.outport(&src.port).ok_or_else(|| GraphError::UnknownPort {
                        node: src.node.clone(),
                        component: sspec.name.to_string(),
                        port: src.port.clone(),
                        direction: "outport",
                    })?;
                    let tspec = nodes[ti].op.spec();
                    let tport = tspec.inport(&tgt.port).ok_or_else(|| GraphError::UnknownPort {
                        node: tgt.node.clone(),
                        component: tspec.name.to_string(),
                        port: tgt.port.clone(),
                        direction: "inport",
                    })?;
                    let compatible = sport.ty == tport.ty
                        || sport.ty == PortType::All
                        || tport.ty == PortType::All
                        || (sport.ty != PortType::Buffer && tport.ty != PortType::Buffer);
                    if !compatible {
                        return Err(GraphError::TypeMismatch {
                            src: src.to_string(),
                            src_type: sport.ty.as_str(),
                            tgt: tgt.to_string(),
                            tgt_type: tport.ty.as_str(),
                        });
                    }
                    let (tname, sname, addressable) = (tport.name, sport.name, tport.addressable);
                    let edges = &mut nodes[ti].edges;
                    let slot = if addressable {
                        let next =
                            edges.iter().filter(|e| e.port == tname).filter_map(|e| e.slot).max().map_or(0, |m| m + 1);
                        let slot = tgt.index.unwrap_or(next);
                        edges.retain(|e| !(e.port == tname && e.slot == Some(slot)));
                        Some(slot)
                    } else {
                        edges.retain(|e| e.port != tname);
                        None
                    };
                    edges.push(PlanEdge { port: tname, src: si, src_port: sname, slot });
                }
                Connection::Iip { data, tgt, .. } => {
                    let ti = node_of(&tgt.node)?;
                    let spec = nodes[ti].op.spec();
                    let Some(port) = spec.inport(&tgt.port) else {
                        warnings.push(format!(
                            "initial value for {tgt} ignored: {} has no inport {:?}",
                            spec.name, tgt.port
                        ));
                        continue;
                    };
                    let value = port.coerce(data).map_err(|source| GraphError::InvalidIip {
                        node: tgt.node.clone(),
                        port: tgt.port.clone(),
                        source,
                    })?;
                    let name = port.name;
                    let iips = &mut nodes[ti].iips;
                    iips.retain(|(p, _)| *p != name);
                    iips.push((name, value));
                }
            }
        }
        for (public, p) in graph.inports.iter().chain(graph.outports.iter()) {
            let i = node_of(&p.node)?;
            let spec = nodes[i].op.spec();
            if spec.inport(&p.port).is_none() && spec.outport(&p.port).is_none() {
                warnings.push(format!(
                    "exported port {public:?} maps to {}.{}, which {} does not have: values sent to it are ignored",
                    p.node, p.port, spec.name
                ));
            }
        }
        let plan = Plan { nodes, index, warnings };
        plan.check_acyclic()?;
        Ok(plan)
    }

    fn check_acyclic(&self) -> Result<(), GraphError> {
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; self.nodes.len()];
        for start in 0..self.nodes.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some((n, i)) = stack.pop() {
                if let Some(&PlanEdge { src, .. }) = self.nodes[n].edges.get(i) {
                    stack.push((n, i + 1));
                    match state[src] {
                        0 => {
                            state[src] = 1;
                            stack.push((src, 0));
                        }
                        1 => return Err(GraphError::Cycle(self.nodes[src].id.clone())),
                        _ => {}
                    }
                } else {
                    state[n] = 2;
                }
            }
        }
        Ok(())
    }

    /// The nodes `targets` depend on, dependencies first.
    pub fn order_for(&self, targets: &[usize]) -> Vec<usize> {
        let mut order = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        for &t in targets {
            let mut stack = vec![(t, false)];
            while let Some((n, expanded)) = stack.pop() {
                if expanded {
                    order.push(n);
                    continue;
                }
                if seen[n] {
                    continue;
                }
                seen[n] = true;
                stack.push((n, true));
                for &PlanEdge { src, .. } in self.nodes[n].edges.iter().rev() {
                    if !seen[src] {
                        stack.push((src, false));
                    }
                }
            }
        }
        order
    }
}
