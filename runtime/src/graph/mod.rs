//! The FBP graph model: nodes, connections (edges and IIPs), exported ports, groups
//! and properties, as Flowhub and the noflo `fbp-graph` format know them.
//!
//! The model is format-neutral; [`json`] reads and writes the JSON form and [`fbp`]
//! parses the `.fbp` text DSL into it.

pub mod fbp;
pub mod file;
pub mod json;

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

/// A graph. Maps keep their insertion order, which is the order of the source file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// When false (the default) port names are lower-cased on load.
    pub case_sensitive: bool,
    /// Free-form properties: `name`, `environment` (`{type, content}`), `description`, ...
    pub properties: Map<String, Json>,
    pub nodes: IndexMap<String, Node>,
    /// Edges and IIPs, in file order (a later connection to the same port wins).
    pub connections: Vec<Connection>,
    pub inports: IndexMap<String, ExportedPort>,
    pub outports: IndexMap<String, ExportedPort>,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub component: String,
    pub metadata: Map<String, Json>,
}

/// One end of an edge: a node's port, with an index for array ports.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortRef {
    pub node: String,
    pub port: String,
    pub index: Option<u32>,
}

impl PortRef {
    pub fn new(node: impl Into<String>, port: impl Into<String>) -> PortRef {
        PortRef { node: node.into(), port: port.into(), index: None }
    }
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.node, self.port)?;
        if let Some(i) = self.index {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    Edge {
        src: PortRef,
        tgt: PortRef,
        metadata: Map<String, Json>,
    },
    /// An initial information packet: a constant sent to a port.
    Iip {
        data: Json,
        tgt: PortRef,
        metadata: Map<String, Json>,
    },
}

impl Connection {
    pub fn target(&self) -> &PortRef {
        match self {
            Connection::Edge { tgt, .. } | Connection::Iip { tgt, .. } => tgt,
        }
    }
}

/// A graph port exported under a public name, mapped to a node's port.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportedPort {
    pub node: String,
    pub port: String,
    pub metadata: Map<String, Json>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub name: String,
    pub nodes: Vec<String>,
    pub metadata: Map<String, Json>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// `properties.name`, if any.
    pub fn name(&self) -> Option<&str> {
        self.properties.get("name").and_then(Json::as_str)
    }

    /// `properties.environment.type`: the runtime the graph was made for.
    pub fn runtime_type(&self) -> Option<&str> {
        self.properties.get("environment").and_then(|e| e.get("type")).and_then(Json::as_str)
    }

    pub fn set_runtime_type(&mut self, ty: &str) {
        let env = self.properties.entry("environment").or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(env) = env {
            env.insert("type".into(), Json::String(ty.into()));
        }
    }

    pub fn edges(&self) -> impl Iterator<Item = (&PortRef, &PortRef)> {
        self.connections.iter().filter_map(|c| match c {
            Connection::Edge { src, tgt, .. } => Some((src, tgt)),
            Connection::Iip { .. } => None,
        })
    }

    pub fn iips(&self) -> impl Iterator<Item = (&Json, &PortRef)> {
        self.connections.iter().filter_map(|c| match c {
            Connection::Iip { data, tgt, .. } => Some((data, tgt)),
            Connection::Edge { .. } => None,
        })
    }

    /// Adds a node; false if one of that name exists already.
    pub fn add_node(&mut self, id: impl Into<String>, component: impl Into<String>) -> bool {
        let id = id.into();
        if self.nodes.contains_key(&id) {
            return false;
        }
        self.nodes.insert(id, Node { component: component.into(), metadata: Map::new() });
        true
    }

    /// Removes a node with every connection, export and group entry naming it.
    pub fn remove_node(&mut self, id: &str) -> Option<Node> {
        let node = self.nodes.shift_remove(id)?;
        self.connections.retain(|c| match c {
            Connection::Edge { src, tgt, .. } => src.node != id && tgt.node != id,
            Connection::Iip { tgt, .. } => tgt.node != id,
        });
        self.inports.retain(|_, p| p.node != id);
        self.outports.retain(|_, p| p.node != id);
        for g in &mut self.groups {
            g.nodes.retain(|n| n != id);
        }
        Some(node)
    }

    /// Renames a node everywhere it is referenced; false if `from` is missing or `to` taken.
    pub fn rename_node(&mut self, from: &str, to: &str) -> bool {
        if !self.nodes.contains_key(from) || self.nodes.contains_key(to) {
            return false;
        }
        let idx = self.nodes.get_index_of(from).expect("checked");
        let (_, node) = self.nodes.shift_remove_index(idx).expect("checked");
        self.nodes.shift_insert(idx, to.to_string(), node);
        let fix = |r: &mut PortRef| {
            if r.node == from {
                r.node = to.to_string();
            }
        };
        for c in &mut self.connections {
            match c {
                Connection::Edge { src, tgt, .. } => {
                    fix(src);
                    fix(tgt);
                }
                Connection::Iip { tgt, .. } => fix(tgt),
            }
        }
        for p in self.inports.values_mut().chain(self.outports.values_mut()) {
            if p.node == from {
                p.node = to.to_string();
            }
        }
        for g in &mut self.groups {
            for n in &mut g.nodes {
                if n == from {
                    *n = to.to_string();
                }
            }
        }
        true
    }

    pub fn add_edge(&mut self, src: PortRef, tgt: PortRef, metadata: Map<String, Json>) {
        self.connections.push(Connection::Edge { src, tgt, metadata });
    }

    /// Removes the edges from `src` to `tgt` (ports compared without index when the
    /// caller gives none); returns how many were removed.
    pub fn remove_edge(&mut self, src: &PortRef, tgt: &PortRef) -> usize {
        let before = self.connections.len();
        let same = |a: &PortRef, b: &PortRef| {
            a.node == b.node && a.port == b.port && (b.index.is_none() || a.index == b.index)
        };
        self.connections.retain(|c| match c {
            Connection::Edge { src: s, tgt: t, .. } => !(same(s, src) && same(t, tgt)),
            _ => true,
        });
        before - self.connections.len()
    }

    pub fn add_iip(&mut self, data: Json, tgt: PortRef, metadata: Map<String, Json>) {
        self.connections.push(Connection::Iip { data, tgt, metadata });
    }

    /// Removes the IIPs sent to `tgt`; returns how many were removed.
    pub fn remove_iip(&mut self, tgt: &PortRef) -> usize {
        let before = self.connections.len();
        self.connections.retain(|c| match c {
            Connection::Iip { tgt: t, .. } => {
                !(t.node == tgt.node && t.port == tgt.port && (tgt.index.is_none() || t.index == tgt.index))
            }
            _ => true,
        });
        before - self.connections.len()
    }

    /// Normalises a port name by the graph's case rule.
    pub fn port_name(&self, name: &str) -> String {
        if self.case_sensitive {
            name.to_string()
        } else {
            name.to_lowercase()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Graph {
        let mut g = Graph::new();
        g.add_node("a", "gegl/nop");
        g.add_node("b", "gegl/crop");
        g.add_edge(PortRef::new("a", "output"), PortRef::new("b", "input"), Map::new());
        g.add_iip(serde_json::json!(5), PortRef::new("b", "x"), Map::new());
        g.inports.insert("input".into(), ExportedPort { node: "a".into(), port: "input".into(), metadata: Map::new() });
        g
    }

    #[test]
    fn rename_updates_every_reference() {
        let mut g = sample();
        assert!(g.rename_node("a", "first"));
        assert!(g.nodes.get_index(0).is_some_and(|(k, _)| k == "first"));
        assert_eq!(g.edges().next().unwrap().0.node, "first");
        assert_eq!(g.inports["input"].node, "first");
        assert!(!g.rename_node("missing", "x"));
        assert!(!g.rename_node("first", "b"));
    }

    #[test]
    fn remove_node_drops_its_connections() {
        let mut g = sample();
        g.remove_node("b");
        assert!(g.connections.is_empty());
        g.remove_node("a");
        assert!(g.inports.is_empty());
    }

    #[test]
    fn remove_edge_and_iip() {
        let mut g = sample();
        assert_eq!(g.remove_iip(&PortRef::new("b", "x")), 1);
        assert_eq!(g.remove_edge(&PortRef::new("a", "output"), &PortRef::new("b", "input")), 1);
        assert!(g.connections.is_empty());
    }
}
