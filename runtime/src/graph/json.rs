//! The JSON graph format (noflo / fbp-graph, what Flowhub exports): reading with
//! clear errors, and writing a canonical form that reads back to the same graph.

use serde_json::{json, Map, Value as Json};

use super::{Connection, ExportedPort, Graph, Group, Node, PortRef};

#[derive(Debug, thiserror::Error)]
pub enum JsonGraphError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    #[error("invalid graph: {path}: {message}")]
    Shape { path: String, message: String },
}

fn shape(path: impl Into<String>, message: impl Into<String>) -> JsonGraphError {
    JsonGraphError::Shape { path: path.into(), message: message.into() }
}

/// Parses a graph from JSON text.
pub fn from_str(text: &str) -> Result<Graph, JsonGraphError> {
    let value: Json = serde_json::from_str(text).map_err(|e| JsonGraphError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    from_value(&value)
}

/// Reads a graph from a parsed JSON value.
pub fn from_value(value: &Json) -> Result<Graph, JsonGraphError> {
    let top = value.as_object().ok_or_else(|| shape("$", "a graph is a JSON object"))?;
    let case_sensitive = match top.get("caseSensitive") {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(_) => return Err(shape("caseSensitive", "must be a boolean")),
    };
    let mut g = Graph { case_sensitive, ..Graph::default() };
    let port = |name: &str| {
        if case_sensitive {
            name.to_string()
        } else {
            name.to_lowercase()
        }
    };

    if let Some(props) = top.get("properties") {
        g.properties = object(props, "properties")?.clone();
    }

    if let Some(procs) = top.get("processes") {
        for (id, p) in object(procs, "processes")? {
            let path = format!("processes.{id}");
            let p = object(p, &path)?;
            let component = p
                .get("component")
                .and_then(Json::as_str)
                .ok_or_else(|| shape(&path, "missing string \"component\""))?;
            g.nodes.insert(
                id.clone(),
                Node { component: component.to_string(), metadata: metadata(p.get("metadata"), &path)? },
            );
        }
    }

    if let Some(conns) = top.get("connections") {
        let conns = conns.as_array().ok_or_else(|| shape("connections", "must be an array"))?;
        for (i, c) in conns.iter().enumerate() {
            let path = format!("connections[{i}]");
            let c = object(c, &path)?;
            let tgt = port_ref(c.get("tgt"), &format!("{path}.tgt"), &port)?;
            let meta = metadata(c.get("metadata"), &path)?;
            if let Some(src) = c.get("src") {
                let src = port_ref(Some(src), &format!("{path}.src"), &port)?;
                g.connections.push(Connection::Edge { src, tgt, metadata: meta });
            } else if let Some(data) = c.get("data") {
                g.connections.push(Connection::Iip { data: data.clone(), tgt, metadata: meta });
            } else {
                return Err(shape(path, "a connection needs \"src\" or \"data\""));
            }
        }
    }

    for (key, target) in [("inports", &mut g.inports), ("outports", &mut g.outports)] {
        if let Some(ports) = top.get(key) {
            for (name, p) in object(ports, key)? {
                let path = format!("{key}.{name}");
                let p = object(p, &path)?;
                // An exported port without a target (`"input": {}` in some noflo
                // graphs) is kept out of the model: it maps to nothing.
                let (Some(node), Some(pp)) =
                    (p.get("process").and_then(Json::as_str), p.get("port").and_then(Json::as_str))
                else {
                    if p.is_empty() {
                        continue;
                    }
                    return Err(shape(path, "needs string \"process\" and \"port\""));
                };
                target.insert(
                    port(name),
                    ExportedPort {
                        node: node.to_string(),
                        port: port(pp),
                        metadata: metadata(p.get("metadata"), &path)?,
                    },
                );
            }
        }
    }

    // Very old graphs: `exports: [{private: "node.port", public: "name"}]`.
    if let Some(exports) = top.get("exports").and_then(Json::as_array) {
        for (i, e) in exports.iter().enumerate() {
            let path = format!("exports[{i}]");
            let private = e.get("private").and_then(Json::as_str);
            let public = e.get("public").and_then(Json::as_str);
            let (Some(private), Some(public)) = (private, public) else {
                return Err(shape(path, "needs \"private\" and \"public\""));
            };
            let (node, p) = private.rsplit_once('.').ok_or_else(|| shape(&path, "private must be node.port"))?;
            g.inports
                .insert(port(public), ExportedPort { node: node.to_string(), port: port(p), metadata: Map::new() });
        }
    }

    if let Some(groups) = top.get("groups") {
        let groups = groups.as_array().ok_or_else(|| shape("groups", "must be an array"))?;
        for (i, gr) in groups.iter().enumerate() {
            let path = format!("groups[{i}]");
            let o = object(gr, &path)?;
            let name = o.get("name").and_then(Json::as_str).unwrap_or_default();
            let nodes = o
                .get("nodes")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(|n| n.as_str().map(String::from)).collect())
                .unwrap_or_default();
            g.groups.push(Group { name: name.to_string(), nodes, metadata: metadata(o.get("metadata"), &path)? });
        }
    }
    Ok(g)
}

fn object<'a>(v: &'a Json, path: &str) -> Result<&'a Map<String, Json>, JsonGraphError> {
    v.as_object().ok_or_else(|| shape(path, "must be an object"))
}

fn metadata(v: Option<&Json>, path: &str) -> Result<Map<String, Json>, JsonGraphError> {
    match v {
        None | Some(Json::Null) => Ok(Map::new()),
        Some(Json::Object(m)) => Ok(m.clone()),
        Some(_) => Err(shape(format!("{path}.metadata"), "must be an object")),
    }
}

fn port_ref(v: Option<&Json>, path: &str, port: &dyn Fn(&str) -> String) -> Result<PortRef, JsonGraphError> {
    let o = object(v.ok_or_else(|| shape(path, "missing"))?, path)?;
    let node = o.get("process").and_then(Json::as_str).ok_or_else(|| shape(path, "missing string \"process\""))?;
    let p = o.get("port").and_then(Json::as_str).ok_or_else(|| shape(path, "missing string \"port\""))?;
    let index = match o.get("index") {
        None | Some(Json::Null) => None,
        Some(i) => Some(
            i.as_u64()
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| shape(path, "index must be a non-negative integer"))?,
        ),
    };
    Ok(PortRef { node: node.to_string(), port: port(p), index })
}

fn port_ref_json(r: &PortRef) -> Json {
    let mut o = Map::new();
    o.insert("process".into(), json!(r.node));
    o.insert("port".into(), json!(r.port));
    if let Some(i) = r.index {
        o.insert("index".into(), json!(i));
    }
    Json::Object(o)
}

fn exported_json(p: &ExportedPort) -> Json {
    let mut o = Map::new();
    o.insert("process".into(), json!(p.node));
    o.insert("port".into(), json!(p.port));
    if !p.metadata.is_empty() {
        o.insert("metadata".into(), Json::Object(p.metadata.clone()));
    }
    Json::Object(o)
}

/// The canonical JSON form: keys in a fixed order, empty metadata left out.
pub fn to_value(g: &Graph) -> Json {
    let mut top = Map::new();
    top.insert("caseSensitive".into(), json!(g.case_sensitive));
    top.insert("properties".into(), Json::Object(g.properties.clone()));
    let ports = |m: &indexmap::IndexMap<String, ExportedPort>| {
        Json::Object(m.iter().map(|(k, p)| (k.clone(), exported_json(p))).collect())
    };
    top.insert("inports".into(), ports(&g.inports));
    top.insert("outports".into(), ports(&g.outports));
    top.insert(
        "groups".into(),
        Json::Array(
            g.groups
                .iter()
                .map(|gr| {
                    let mut o = Map::new();
                    o.insert("name".into(), json!(gr.name));
                    o.insert("nodes".into(), json!(gr.nodes));
                    if !gr.metadata.is_empty() {
                        o.insert("metadata".into(), Json::Object(gr.metadata.clone()));
                    }
                    Json::Object(o)
                })
                .collect(),
        ),
    );
    top.insert(
        "processes".into(),
        Json::Object(
            g.nodes
                .iter()
                .map(|(id, n)| {
                    let mut o = Map::new();
                    o.insert("component".into(), json!(n.component));
                    if !n.metadata.is_empty() {
                        o.insert("metadata".into(), Json::Object(n.metadata.clone()));
                    }
                    (id.clone(), Json::Object(o))
                })
                .collect(),
        ),
    );
    top.insert(
        "connections".into(),
        Json::Array(
            g.connections
                .iter()
                .map(|c| {
                    let mut o = Map::new();
                    let meta = match c {
                        Connection::Edge { src, tgt, metadata } => {
                            o.insert("src".into(), port_ref_json(src));
                            o.insert("tgt".into(), port_ref_json(tgt));
                            metadata
                        }
                        Connection::Iip { data, tgt, metadata } => {
                            o.insert("data".into(), data.clone());
                            o.insert("tgt".into(), port_ref_json(tgt));
                            metadata
                        }
                    };
                    if !meta.is_empty() {
                        o.insert("metadata".into(), Json::Object(meta.clone()));
                    }
                    Json::Object(o)
                })
                .collect(),
        ),
    );
    Json::Object(top)
}

/// Canonical JSON text, pretty-printed.
pub fn to_string_pretty(g: &Graph) -> String {
    serde_json::to_string_pretty(&to_value(g)).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_edges_iips_exports_and_lowercases_ports() {
        let g = from_str(
            r#"{"processes": {"Crop": {"component": "gegl/crop", "metadata": {"x": 1}}},
                "connections": [{"data": 5, "tgt": {"process": "Crop", "port": "X"}},
                                {"src": {"process": "Crop", "port": "OUTPUT", "index": 2},
                                 "tgt": {"process": "Crop", "port": "input"}}],
                "inports": {"X": {"process": "Crop", "port": "X"}, "canvas": {}},
                "outports": {"output": {"process": "Crop", "port": "output"}}}"#,
        )
        .unwrap();
        assert!(g.nodes.contains_key("Crop"));
        assert_eq!(g.inports["x"].port, "x");
        assert!(!g.inports.contains_key("canvas"));
        let (src, _) = g.edges().next().unwrap();
        assert_eq!((src.port.as_str(), src.index), ("output", Some(2)));
    }

    #[test]
    fn errors_name_the_place() {
        let err = from_str("{\"processes\": {\"a\": {}}}").unwrap_err();
        assert!(err.to_string().contains("processes.a"), "{err}");
        let err = from_str("{\n  \"processes\": [,\n}").unwrap_err();
        assert!(matches!(err, JsonGraphError::Syntax { line: 2, .. }), "{err}");
        let err = from_str(r#"{"connections": [{"tgt": {"process": "a", "port": "b"}}]}"#).unwrap_err();
        assert!(err.to_string().contains("connections[0]"), "{err}");
    }

    #[test]
    fn canonical_form_round_trips() {
        let text = r#"{"caseSensitive": true, "properties": {"name": "t", "environment": {"type": "imgflo"}},
            "processes": {"a": {"component": "gegl/nop"}, "B": {"component": "gegl/crop", "metadata": {"label": "c"}}},
            "connections": [{"src": {"process": "a", "port": "output"}, "tgt": {"process": "B", "port": "input"}, "metadata": {"route": 2}},
                            {"data": "10", "tgt": {"process": "B", "port": "Width"}}],
            "inports": {"In": {"process": "a", "port": "input", "metadata": {"x": 3}}},
            "outports": {"out": {"process": "B", "port": "output"}},
            "groups": [{"name": "g", "nodes": ["a"], "metadata": {"description": "d"}}]}"#;
        let g = from_str(text).unwrap();
        let again = from_value(&to_value(&g)).unwrap();
        assert_eq!(g, again);
        assert_eq!(to_string_pretty(&g), to_string_pretty(&again));
        assert_eq!(g.runtime_type(), Some("imgflo"));
    }
}
