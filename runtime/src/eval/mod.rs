//! The evaluator: runs a graph as a DAG, each needed node once, in dependency order.
//!
//! A node's output is a pure function of its input values, so every node result is
//! keyed by a hash of its component and input values (images by their id). A
//! [`Network`] keeps the results of its last evaluation: after an edit (an IIP, an
//! edge, a node) only the nodes whose key changed run again, and everything upstream
//! of them is reused. One-shot runs ([`Network::run_once`]) keep nothing and drop
//! each intermediate image as soon as its last consumer has run.

mod instance;
mod plan;
pub mod subgraph;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

pub use instance::{
    bind_params, decode_input, is_canvas_graph, request_param_specs, run_graph, GraphInput, PreparedGraph,
    RequestOptions, RunOutput, CANVAS_INPORT, RESIZE_PARAMS, VIDEO_PARAMS,
};
pub use plan::GraphError;
use plan::Plan;

/// Largest index of an array port element (a hostile `[4000000000]` index must not
/// allocate gigabytes).
const MAX_ARRAY_SLOTS: usize = 4096;

use crate::graph::Graph;
use crate::ops::{Inputs, OpError, Outputs, Registry, RunContext};
use crate::value::Value;

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("unknown node {0:?}")]
    UnknownNode(String),
    #[error("node {node:?} ({component}) failed: {source}")]
    Node { node: String, component: String, source: OpError },
    #[error("cancelled")]
    Cancelled,
    #[error("deadline exceeded")]
    DeadlineExceeded,
    #[error("unknown parameter {name:?}; valid parameters: {}", valid.join(", "))]
    UnknownParameter { name: String, valid: Vec<String> },
    #[error("invalid value for parameter {name:?}: {message}")]
    InvalidParameter { name: String, message: String },
    #[error("the graph has no outport {0:?}")]
    NoOutport(String),
    #[error("the graph produced no image on its outport {0:?}")]
    NoImage(String),
}

impl EvalError {
    pub(crate) fn from_op(node: &str, component: &str, e: OpError) -> EvalError {
        match e {
            OpError::Cancelled => EvalError::Cancelled,
            OpError::DeadlineExceeded => EvalError::DeadlineExceeded,
            source => EvalError::Node { node: node.to_string(), component: component.to_string(), source },
        }
    }
}

/// Values set on node ports from outside the graph (exported inports set by a
/// request, packets from a client). They win over edges and IIPs.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    values: HashMap<(String, String), Value>,
}

impl Overrides {
    pub fn new() -> Overrides {
        Overrides::default()
    }
    pub fn set(&mut self, node: impl Into<String>, port: impl Into<String>, value: Value) {
        self.values.insert((node.into(), port.into()), value);
    }
    pub fn remove(&mut self, node: &str, port: &str) -> Option<Value> {
        self.values.remove(&(node.to_string(), port.to_string()))
    }
    pub fn get(&self, node: &str, port: &str) -> Option<&Value> {
        self.values.get(&(node.to_string(), port.to_string()))
    }
}

/// How much work the last evaluation did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvalStats {
    /// Nodes whose operation ran.
    pub executed: usize,
    /// Nodes whose previous result was reused.
    pub reused: usize,
}

struct Memo {
    key: u64,
    outputs: Outputs,
}

/// A graph ready to evaluate, with the results of its last evaluation.
pub struct Network {
    graph: Graph,
    registry: Registry,
    plan: Plan,
    memo: HashMap<String, Memo>,
    stats: EvalStats,
}

impl Network {
    pub fn new(graph: Graph, registry: &Registry) -> Result<Network, GraphError> {
        let plan = Plan::compile(&graph, registry)?;
        Ok(Network { graph, registry: registry.clone(), plan, memo: HashMap::new(), stats: EvalStats::default() })
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Non-fatal problems found when the graph was compiled.
    pub fn warnings(&self) -> &[String] {
        &self.plan.warnings
    }

    /// Replaces the graph (after an edit). Results of nodes whose inputs are unchanged
    /// stay valid and are reused by the next evaluation; results of removed nodes go.
    pub fn set_graph(&mut self, graph: Graph) -> Result<(), GraphError> {
        self.plan = Plan::compile(&graph, &self.registry)?;
        self.memo.retain(|id, _| graph.nodes.contains_key(id));
        self.graph = graph;
        Ok(())
    }

    pub fn stats(&self) -> EvalStats {
        self.stats
    }

    /// The outputs a node produced in the last evaluation that reached it.
    pub fn node_outputs(&self, node: &str) -> Option<&Outputs> {
        self.memo.get(node).map(|m| &m.outputs)
    }

    /// Evaluates the given nodes and everything they depend on, reusing results whose
    /// inputs did not change, and keeps every result for later reuse and previews.
    pub fn evaluate(&mut self, targets: &[&str], overrides: &Overrides, ctx: &RunContext) -> Result<(), EvalError> {
        let targets = self.resolve(targets)?;
        let order = self.plan.order_for(&targets);
        self.stats = EvalStats::default();
        for &n in &order {
            ctx.cancel.check().map_err(|e| EvalError::from_op("", "", e))?;
            let node = &self.plan.nodes[n];
            let inputs = self.gather(n, overrides, |src| self.memo.get(&self.plan.nodes[src].id).map(|m| &m.outputs));
            let key = node_key(&node.component, &inputs);
            if self.memo.get(&node.id).is_some_and(|m| m.key == key) {
                self.stats.reused += 1;
                continue;
            }
            let outputs = node.op.run(&inputs, ctx).map_err(|e| EvalError::from_op(&node.id, &node.component, e))?;
            self.stats.executed += 1;
            self.memo.insert(node.id.clone(), Memo { key, outputs });
        }
        Ok(())
    }

    /// Drops a node's kept result (e.g. when its inputs are known to be bad), so the
    /// nodes after it have nothing to work on until it runs again.
    pub fn forget(&mut self, node: &str) {
        self.memo.remove(node);
    }

    /// Evaluates every node `include` accepts (by node id and component name), as a live network
    /// does after an edit: a node that fails is reported and leaves no result, so the
    /// nodes after it have nothing to work on; a node missing an input image (not
    /// connected yet) is idle, which is not an error. Results are kept as in
    /// [`Network::evaluate`]. Cancellation and deadlines end the whole evaluation.
    pub fn evaluate_all(
        &mut self,
        overrides: &Overrides,
        ctx: &RunContext,
        include: &dyn Fn(&str, &str) -> bool,
    ) -> Result<Vec<(String, EvalError)>, EvalError> {
        let included = |n: &plan::PlanNode| include(&n.id, &n.component);
        let all: Vec<usize> = (0..self.plan.nodes.len()).filter(|&n| included(&self.plan.nodes[n])).collect();
        let order = self.plan.order_for(&all);
        self.stats = EvalStats::default();
        let mut failures = Vec::new();
        for &n in &order {
            ctx.cancel.check().map_err(|e| EvalError::from_op("", "", e))?;
            let node = &self.plan.nodes[n];
            if !included(node) {
                continue;
            }
            let inputs = self.gather(n, overrides, |src| self.memo.get(&self.plan.nodes[src].id).map(|m| &m.outputs));
            let key = node_key(&node.component, &inputs);
            if self.memo.get(&node.id).is_some_and(|m| m.key == key) {
                self.stats.reused += 1;
                continue;
            }
            let id = node.id.clone();
            match node.op.run(&inputs, ctx) {
                Ok(outputs) => {
                    self.stats.executed += 1;
                    self.memo.insert(id, Memo { key, outputs });
                }
                Err(OpError::MissingInput(_)) => {
                    self.memo.remove(&id);
                }
                Err(e) => {
                    let e = EvalError::from_op(&node.id, &node.component, e);
                    if matches!(e, EvalError::Cancelled | EvalError::DeadlineExceeded) {
                        return Err(e);
                    }
                    self.memo.remove(&id);
                    failures.push((id, e));
                }
            }
        }
        Ok(failures)
    }

    /// Evaluates the nodes `targets` need once, keeping nothing: each intermediate
    /// result is dropped as soon as its last consumer has run. Returns the targets'
    /// outputs in the order given.
    pub fn run_once(
        &mut self,
        targets: &[&str],
        overrides: &Overrides,
        ctx: &RunContext,
    ) -> Result<Vec<Outputs>, EvalError> {
        let target_idx = self.resolve(targets)?;
        let order = self.plan.order_for(&target_idx);
        let mut consumers = vec![0usize; self.plan.nodes.len()];
        for &n in &order {
            for e in &self.plan.nodes[n].edges {
                consumers[e.src] += 1;
            }
        }
        for &t in &target_idx {
            consumers[t] += 1; // keep targets until the end
        }
        let mut results: Vec<Option<Outputs>> = (0..self.plan.nodes.len()).map(|_| None).collect();
        self.stats = EvalStats::default();
        for &n in &order {
            ctx.cancel.check().map_err(|e| EvalError::from_op("", "", e))?;
            let node = &self.plan.nodes[n];
            let inputs = self.gather(n, overrides, |src| results[src].as_ref());
            let outputs = node.op.run(&inputs, ctx).map_err(|e| EvalError::from_op(&node.id, &node.component, e))?;
            drop(inputs);
            self.stats.executed += 1;
            for e in &node.edges {
                consumers[e.src] -= 1;
                if consumers[e.src] == 0 {
                    results[e.src] = None;
                }
            }
            results[n] = Some(outputs);
        }
        Ok(target_idx.iter().map(|&t| results[t].clone().unwrap_or_default()).collect())
    }

    fn resolve(&self, targets: &[&str]) -> Result<Vec<usize>, EvalError> {
        targets
            .iter()
            .map(|t| self.plan.index.get(*t).copied().ok_or_else(|| EvalError::UnknownNode(t.to_string())))
            .collect()
    }

    /// A node's input values: defaults, then IIPs, then edges, then overrides.
    fn gather<'a>(
        &'a self,
        n: usize,
        overrides: &Overrides,
        upstream: impl Fn(usize) -> Option<&'a Outputs>,
    ) -> Inputs {
        let node = &self.plan.nodes[n];
        let spec = node.op.spec();
        let mut inputs = Inputs::defaults(spec);
        for (port, v) in &node.iips {
            inputs.set(port, v.clone());
        }
        let mut arrays: Vec<(&'static str, Vec<(u32, serde_json::Value)>)> = Vec::new();
        for e in &node.edges {
            let Some(v) = upstream(e.src).and_then(|o| o.get(e.src_port)) else { continue };
            match e.slot {
                None => inputs.set(e.port, v.clone()),
                Some(slot) => match arrays.iter_mut().find(|(p, _)| *p == e.port) {
                    Some((_, elements)) => elements.push((slot, v.to_json())),
                    None => arrays.push((e.port, vec![(slot, v.to_json())])),
                },
            }
        }
        // An array port's value: its elements by index, gaps as null.
        for (port, mut elements) in arrays {
            elements.sort_by_key(|(slot, _)| *slot);
            let len = elements.last().map_or(0, |(s, _)| *s as usize + 1).min(MAX_ARRAY_SLOTS);
            let mut array = vec![serde_json::Value::Null; len];
            for (slot, v) in elements.into_iter().filter(|(s, _)| (*s as usize) < len) {
                array[slot as usize] = v;
            }
            inputs.set(port, Value::Json(serde_json::Value::Array(array)));
        }
        for p in &spec.inports {
            if let Some(v) = overrides.get(&node.id, p.name) {
                inputs.set(p.name, v.clone());
            }
        }
        inputs
    }
}

/// The identity of a node's computation: its component and every input value.
fn node_key(component: &str, inputs: &Inputs) -> u64 {
    let mut h = DefaultHasher::new();
    component.hash(&mut h);
    let mut ports: Vec<_> = inputs.iter().collect();
    ports.sort_by_key(|(p, _)| **p);
    for (p, v) in ports {
        p.hash(&mut h);
        v.hash_into(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests;
