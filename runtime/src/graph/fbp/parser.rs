//! Builds a [`Graph`] from the token stream, one statement at a time.
//!
//! Statements: `INPORT=node.PORT:PUBLIC`, `OUTPORT=...`, `DEFAULT_INPORT=PORT`,
//! `DEFAULT_OUTPORT=PORT`, annotations, a lone node declaration `name(comp)`,
//! and connections: a source (initial data, or a node with an optional
//! out-port) followed by one or more `-> [PORT] node [PORT]` steps.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::lexer::{is_word_start, ComponentSpec, Tok, Token};
use super::FbpError;
use crate::graph::{Connection, ExportedPort, Graph, Node, PortRef};

/// A port written next to a node: name, optional `[index]`, and the token.
struct PortTok {
    name: String,
    index: Option<u32>,
    at: Token,
}

impl PortTok {
    /// The port as written, with its index.
    fn shown(&self) -> String {
        match self.index {
            Some(i) => format!("{}[{i}]", self.name),
            None => self.name.clone(),
        }
    }
}

/// What feeds the next `->`.
enum Source {
    Data(Json),
    Port(PortRef),
}

struct ExportRef {
    outport: bool,
    public: String,
    node: String,
    at: Token,
}

pub(super) struct Parser {
    toks: Vec<Token>,
    i: usize,
    graph: Graph,
    default_inport: String,
    default_outport: String,
    /// Where each node was first named, for "has no component" errors.
    first_use: HashMap<String, Token>,
    /// Per component, how many anonymous nodes were made.
    anonymous: HashMap<String, u32>,
    exports: Vec<ExportRef>,
}

fn valid_node_name(s: &str) -> bool {
    s.starts_with(is_word_start) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

fn valid_port_name(s: &str) -> bool {
    s.starts_with(is_word_start) && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
}

impl Parser {
    pub fn new(toks: Vec<Token>, case_sensitive: bool) -> Parser {
        Parser {
            toks,
            i: 0,
            graph: Graph { case_sensitive, ..Graph::default() },
            default_inport: "IN".into(),
            default_outport: "OUT".into(),
            first_use: HashMap::new(),
            anonymous: HashMap::new(),
            exports: Vec::new(),
        }
    }

    fn peek(&self) -> &Token {
        &self.toks[self.i]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.toks[(self.i + ahead).min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.i].clone();
        if !matches!(t.tok, Tok::Eof) {
            self.i += 1;
        }
        t
    }

    fn at_statement_end(&self) -> bool {
        matches!(self.peek().tok, Tok::Newline | Tok::Comma | Tok::Eof)
    }

    fn port_name(&self, name: &str) -> String {
        self.graph.port_name(name)
    }

    pub fn parse(mut self) -> Result<Graph, FbpError> {
        loop {
            match self.peek().tok.clone() {
                Tok::Eof => break,
                Tok::Newline | Tok::Comma => {
                    self.next();
                }
                Tok::Annotation { key, value } => {
                    if key == "runtime" {
                        self.graph.set_runtime_type(&value);
                    } else {
                        self.graph.properties.insert(key, Json::String(value));
                    }
                    self.next();
                }
                _ => {
                    self.statement()?;
                    if !self.at_statement_end() {
                        let t = self.peek();
                        return Err(t.error(format!("unexpected {} after the statement", t.describe())));
                    }
                }
            }
        }
        self.finish()
    }

    /// Checks that need the whole file: every node has a component, every
    /// export names a node. The first problem in the file is reported.
    fn finish(self) -> Result<Graph, FbpError> {
        let mut problems: Vec<FbpError> = Vec::new();
        for (name, node) in &self.graph.nodes {
            if node.component.is_empty() {
                let at = &self.first_use[name];
                problems.push(at.error(format!("node '{name}' has no component")));
            }
        }
        for e in &self.exports {
            if !self.graph.nodes.contains_key(&e.node) {
                let kind = if e.outport { "outport" } else { "inport" };
                problems.push(
                    e.at.error(format!("{kind} '{}' refers to node '{}', which is never declared", e.public, e.node)),
                );
            }
        }
        match problems.into_iter().min_by_key(|e| (e.line, e.column)) {
            Some(e) => Err(e),
            None => Ok(self.graph),
        }
    }

    fn statement(&mut self) -> Result<(), FbpError> {
        if let (Tok::Word(w), Tok::Eq) = (self.peek().tok.clone(), &self.peek_at(1).tok) {
            let keyword = self.next();
            self.next();
            return match w.as_str() {
                "INPORT" => self.export(false, &keyword),
                "OUTPORT" => self.export(true, &keyword),
                "DEFAULT_INPORT" | "DEFAULT_OUTPORT" => {
                    let p = self.port_after(&keyword, &format!("'{w}='"))?;
                    if w == "DEFAULT_INPORT" {
                        self.default_inport = p.name;
                    } else {
                        self.default_outport = p.name;
                    }
                    Ok(())
                }
                _ => Err(keyword.error(format!(
                    "unknown statement '{w}=' (expected INPORT=, OUTPORT=, DEFAULT_INPORT= or DEFAULT_OUTPORT=)"
                ))),
            };
        }
        self.connection()
    }

    /// A port name (with optional index) that must follow `what`.
    fn port_after(&mut self, near: &Token, what: &str) -> Result<PortTok, FbpError> {
        let t = self.next();
        let Tok::Word(name) = &t.tok else {
            let at = if matches!(t.tok, Tok::Newline | Tok::Eof) { near } else { &t };
            return Err(at.error(format!("expected a port name after {what}, found {}", t.describe())));
        };
        if !valid_port_name(name) {
            return Err(t.error(format!("invalid port name '{name}'")));
        }
        let index = self.index();
        Ok(PortTok { name: name.clone(), index, at: t })
    }

    fn index(&mut self) -> Option<u32> {
        match self.peek().tok {
            Tok::Index(i) => {
                self.next();
                Some(i)
            }
            _ => None,
        }
    }

    /// `INPORT=node.PORT[index]:PUBLIC` (the index is accepted and dropped).
    fn export(&mut self, outport: bool, keyword: &Token) -> Result<(), FbpError> {
        let kind = if outport { "OUTPORT=" } else { "INPORT=" };
        let t = self.next();
        let Tok::Word(private) = &t.tok else {
            let at = if matches!(t.tok, Tok::Newline | Tok::Eof) { keyword } else { &t };
            return Err(at.error(format!("expected node.PORT after '{kind}', found {}", t.describe())));
        };
        let Some((node, port)) = private.split_once('.') else {
            return Err(t.error(format!("expected node.PORT after '{kind}', found '{private}'")));
        };
        if !valid_node_name(node) {
            return Err(t.error(format!("invalid node name '{node}'")));
        }
        if !valid_port_name(port) {
            return Err(t.error(format!("invalid port name '{port}' after '{node}.'")));
        }
        self.index();
        let colon = self.next();
        if colon.tok != Tok::Colon {
            return Err(colon
                .error(format!("expected ':' and a public port name after '{private}', found {}", colon.describe())));
        }
        let public = self.port_after(&colon, "':'")?;
        let exported = ExportedPort { node: node.to_string(), port: self.port_name(port), metadata: Map::new() };
        let public_name = self.port_name(&public.name);
        let map = if outport { &mut self.graph.outports } else { &mut self.graph.inports };
        map.insert(public_name.clone(), exported);
        self.exports.push(ExportRef { outport, public: public_name, node: node.to_string(), at: t });
        Ok(())
    }

    /// Records a use of node `name`, declaring it when a component is given.
    fn use_node(&mut self, name: &str, at: &Token, spec: Option<(ComponentSpec, Token)>) -> Result<(), FbpError> {
        if !valid_node_name(name) {
            return Err(at.error(format!("invalid node name '{name}'")));
        }
        if !self.graph.nodes.contains_key(name) {
            self.graph.nodes.insert(name.to_string(), Node::default());
            self.first_use.insert(name.to_string(), at.clone());
        }
        let node = self.graph.nodes.get_mut(name).expect("inserted above");
        if let Some((spec, spec_at)) = spec {
            if !spec.name.is_empty() {
                if node.component.is_empty() {
                    node.component = spec.name;
                } else if node.component != spec.name {
                    return Err(spec_at.error(format!(
                        "node '{name}' is already declared as '{}', cannot redeclare it as '{}'",
                        node.component, spec.name
                    )));
                }
            }
            node.metadata.extend(spec.metadata);
        }
        Ok(())
    }

    /// `(component)` alone: a node named `_<component with / as _>_<n>`.
    fn anonymous_node(&mut self, spec: ComponentSpec, at: &Token) -> Result<String, FbpError> {
        if spec.name.is_empty() {
            return Err(at.error("an anonymous node needs a component, like (core/Kick)"));
        }
        let n = self.anonymous.entry(spec.name.clone()).or_insert(0);
        *n += 1;
        let name = format!("_{}_{}", spec.name.replace('/', "_"), n);
        self.use_node(&name, at, Some((spec, at.clone())))?;
        Ok(name)
    }

    /// A node at the current token: `name`, `name(comp)` or `(comp)`.
    fn node(&mut self) -> Result<String, FbpError> {
        let t = self.next();
        match t.tok.clone() {
            Tok::Component(spec) => self.anonymous_node(spec, &t),
            Tok::Word(name) => {
                let spec = match &self.peek().tok {
                    Tok::Component(spec) if !self.peek().spaced => {
                        let spec = spec.clone();
                        Some((spec, self.next()))
                    }
                    _ => None,
                };
                self.use_node(&name, &t, spec)?;
                Ok(name)
            }
            _ => unreachable!("callers check for a word or a component"),
        }
    }

    /// An out-port after a node, if one is written.
    fn optional_port(&mut self) -> Result<Option<PortTok>, FbpError> {
        match &self.peek().tok {
            Tok::Word(_) => {
                let near = self.peek().clone();
                self.port_after(&near, "the node").map(Some)
            }
            _ => Ok(None),
        }
    }

    fn out_ref(&self, node: String, port: Option<PortTok>) -> PortRef {
        let (port, index) = match port {
            Some(p) => (p.name, p.index),
            None => (self.default_outport.clone(), None),
        };
        PortRef { node, port: self.port_name(&port), index }
    }

    fn connection(&mut self) -> Result<(), FbpError> {
        let first = self.peek().clone();
        let (mut source, mut pending_port) = match &first.tok {
            Tok::Data(data) => {
                self.next();
                (Source::Data(data.clone()), None)
            }
            Tok::Word(w) if matches!(w.as_str(), "true" | "false" | "null") && self.peek_at(1).tok == Tok::Arrow => {
                self.next();
                let data = match w.as_str() {
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    _ => Json::Null,
                };
                (Source::Data(data), None)
            }
            Tok::Word(w) if matches!(self.peek_at(1).tok, Tok::Index(_)) => {
                return Err(
                    first.error(format!("port '{w}' has no node: a connection starts with a node or with data"))
                );
            }
            Tok::Word(_) | Tok::Component(_) => {
                let node = self.node()?;
                let port = self.optional_port()?;
                if self.at_statement_end() && port.is_none() {
                    // A lone node declaration such as `reader(fs/ReadFile)`.
                    return Ok(());
                }
                let shown = port.as_ref().map(PortTok::shown);
                (Source::Port(self.out_ref(node, port)), shown)
            }
            Tok::Arrow => return Err(first.error("'->' needs a source before it: a node or data")),
            _ => {
                return Err(
                    first.error(format!("unexpected {}: expected a node, data or a statement", first.describe()))
                )
            }
        };
        loop {
            let arrow = self.next();
            if arrow.tok != Tok::Arrow {
                let after = match (&source, &pending_port) {
                    (Source::Data(_), _) => "the data".to_string(),
                    (_, Some(p)) => format!("port '{p}'"),
                    (Source::Port(r), None) => format!("node '{}'", r.node),
                };
                return Err(arrow.error(format!("expected '->' after {after}, found {}", arrow.describe())));
            }
            let (tgt, out_port) = self.target(&arrow)?;
            let connection = match source {
                Source::Data(data) => Connection::Iip { data, tgt: tgt.clone(), metadata: Map::new() },
                Source::Port(src) => Connection::Edge { src, tgt: tgt.clone(), metadata: Map::new() },
            };
            self.graph.connections.push(connection);
            if self.peek().tok != Tok::Arrow && out_port.is_none() {
                return Ok(());
            }
            pending_port = out_port.as_ref().map(PortTok::shown);
            source = Source::Port(self.out_ref(tgt.node, out_port));
        }
    }

    /// What follows `->`: `[PORT[i]] node [PORT[i]]`, the node as `name`,
    /// `name(comp)` or `(comp)`. Returns the in-side reference and the
    /// out-port, if any.
    fn target(&mut self, arrow: &Token) -> Result<(PortRef, Option<PortTok>), FbpError> {
        let t = self.peek().clone();
        let inport = match &t.tok {
            Tok::Component(_) => None,
            Tok::Word(_) => {
                let next = self.peek_at(1);
                let is_port = match &next.tok {
                    Tok::Index(_) => true,
                    Tok::Component(_) => next.spaced,
                    Tok::Word(_) => true,
                    _ => false,
                };
                if is_port {
                    let p = self.port_after(arrow, "'->'")?;
                    if !matches!(self.peek().tok, Tok::Word(_) | Tok::Component(_)) {
                        return Err(p.at.error(format!("port '{}' has no node after it", p.shown())));
                    }
                    Some(p)
                } else {
                    None
                }
            }
            Tok::Newline | Tok::Comma | Tok::Eof => {
                return Err(arrow.error("expected a port or node after '->'"));
            }
            _ => return Err(t.error(format!("expected a port or node after '->', found {}", t.describe()))),
        };
        let node = self.node()?;
        let (port, index) = match inport {
            Some(p) => (p.name, p.index),
            None => (self.default_inport.clone(), None),
        };
        let tgt = PortRef { node, port: self.port_name(&port), index };
        Ok((tgt, self.optional_port()?))
    }
}
