//! Running suites over a [`Link`]: build each suite's fixture graph through the
//! protocol, start its network, run the cases step by step, stop it. The rules
//! follow fbp-spec: inputs go one packet at a time (each acknowledged), a step is
//! complete once as many exported ports have sent data as the step expects, a
//! packet on an exported `error` port that is not expected, or a network error
//! for the graph, fails the case. Unlike fbp-spec, every case has a timeout
//! (default 10 s), and a dropped connection fails instead of passing.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use imgflo_runtime::graph::{Connection, Graph, PortRef};
use serde_json::{json, Map, Value as Json};

use super::expect;
use super::link::Link;
use super::suite::{Case, Step, Suite};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// An indented tree like fbp-spec's.
    Human,
    /// Test Anything Protocol.
    Tap,
}

/// How one case ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

/// One case's result.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub suite: String,
    pub case: String,
    pub assertion: String,
    pub outcome: Outcome,
}

/// Every result of a run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub results: Vec<CaseResult>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.outcome == Outcome::Pass).count()
    }
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| matches!(r.outcome, Outcome::Fail(_))).count()
    }
    pub fn skipped(&self) -> usize {
        self.results.iter().filter(|r| matches!(r.outcome, Outcome::Skip(_))).count()
    }
}

/// Default time a case (or a suite's setup) may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// After a step is complete, later packets within this window still count (the
/// last packet per port is checked).
const QUIET: Duration = Duration::from_millis(50);

/// Runs `suites`, printing each result as it comes, then the `N passed, N failed` line.
pub async fn run_suites<L: Link>(link: &mut L, suites: &[Suite], out: &mut dyn Write, style: Style) -> Report {
    let mut report = Report::default();
    let total: usize = suites.iter().map(Suite::case_count).sum();
    if style == Style::Tap {
        let _ = writeln!(out, "TAP version 13\n1..{total}");
    }
    let components = match list_components(link).await {
        Ok(c) => c,
        Err(e) => {
            for s in suites {
                for c in &s.cases {
                    record(&mut report, out, style, s, c, Outcome::Fail(format!("component:list: {e}")));
                }
            }
            summary(&report, out, style);
            return report;
        }
    };
    for suite in suites {
        if style == Style::Human {
            let _ = writeln!(out, "{}", suite.name);
        }
        if let Some(reason) = &suite.skip {
            for c in &suite.cases {
                record(&mut report, out, style, suite, c, Outcome::Skip(reason.clone()));
            }
            continue;
        }
        if suite.cases.iter().all(|c| c.skip.is_some()) {
            for c in &suite.cases {
                record(&mut report, out, style, suite, c, Outcome::Skip(c.skip.clone().unwrap_or_default()));
            }
            continue;
        }
        let graph_id = match setup(link, suite, &components).await {
            Ok(id) => id,
            Err(e) => {
                for c in &suite.cases {
                    record(&mut report, out, style, suite, c, Outcome::Fail(format!("setup: {e}")));
                }
                continue;
            }
        };
        for case in &suite.cases {
            let outcome = match &case.skip {
                Some(reason) => Outcome::Skip(reason.clone()),
                None => {
                    let timeout = case.timeout.or(suite.timeout).map_or(DEFAULT_TIMEOUT, Duration::from_millis);
                    match run_case(link, &graph_id, case, timeout).await {
                        Ok(()) => Outcome::Pass,
                        Err(e) => Outcome::Fail(e),
                    }
                }
            };
            record(&mut report, out, style, suite, case, outcome);
        }
        let _ = link.request("network", "stop", json!({"graph": graph_id}), &["stopped"]).await;
    }
    summary(&report, out, style);
    report
}

fn record(report: &mut Report, out: &mut dyn Write, style: Style, suite: &Suite, case: &Case, outcome: Outcome) {
    let n = report.results.len() + 1;
    let _ = match (style, &outcome) {
        (Style::Human, Outcome::Pass) => writeln!(out, "  {}\n    {}: ✓", case.name, case.assertion),
        (Style::Human, Outcome::Fail(e)) => writeln!(out, "  {}\n    {}: ✗ {e}", case.name, case.assertion),
        (Style::Human, Outcome::Skip(r)) => writeln!(out, "  {}\n    SKIP: {r}", case.name),
        (Style::Tap, Outcome::Pass) => writeln!(out, "ok {n} - {}: {}", suite.name, case.name),
        (Style::Tap, Outcome::Fail(e)) => {
            writeln!(out, "not ok {n} - {}: {}\n  # {}", suite.name, case.name, e.replace('\n', "\n  # "))
        }
        (Style::Tap, Outcome::Skip(r)) => writeln!(out, "ok {n} - {}: {} # SKIP {r}", suite.name, case.name),
    };
    report.results.push(CaseResult {
        suite: suite.name.clone(),
        case: case.name.clone(),
        assertion: case.assertion.clone(),
        outcome,
    });
}

fn summary(report: &Report, out: &mut dyn Write, style: Style) {
    let prefix = if style == Style::Tap { "# " } else { "" };
    let skipped = report.skipped();
    let extra = if skipped > 0 { format!(" ({skipped} skipped)") } else { String::new() };
    let _ = writeln!(out, "{prefix}{} passed, {} failed{extra}", report.passed() + skipped, report.failed());
}

/// `component:list`: every component's definition by name.
async fn list_components<L: Link>(link: &mut L) -> Result<HashMap<String, Json>, String> {
    link.request("component", "list", json!({}), &["componentsready"]).await?;
    let mut components = HashMap::new();
    while let Some(m) = link.next_event(Duration::ZERO).await {
        if m.protocol == "component" && m.command == "component" {
            if let Some(name) = m.payload.get("name").and_then(Json::as_str) {
                components.insert(name.to_string(), m.payload.clone());
            }
        }
    }
    Ok(components)
}

/// The suite's graph: its fixture, or the topic component as node `testee` with
/// every port exported under its own name.
pub fn fixture_graph(suite: &Suite, components: &HashMap<String, Json>) -> Result<Graph, String> {
    if let Some(f) = &suite.fixture {
        return match f.kind.as_str() {
            "fbp" => imgflo_runtime::graph::fbp::parse(&f.data).map_err(|e| format!("fixture: {e}")),
            "json" => imgflo_runtime::graph::json::from_str(&f.data).map_err(|e| format!("fixture: {e}")),
            other => Err(format!("unknown fixture type {other:?} (fbp or json)")),
        };
    }
    let def = components.get(&suite.topic).ok_or_else(|| format!("no component {:?} in the runtime", suite.topic))?;
    let mut g = Graph::new();
    g.add_node("testee", suite.topic.clone());
    let ids = |key: &str| -> Vec<String> {
        def.get(key)
            .and_then(Json::as_array)
            .map(|ports| ports.iter().filter_map(|p| p.get("id").and_then(Json::as_str)).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (ins, outs) = (ids("inPorts"), ids("outPorts"));
    if ins.is_empty() || outs.is_empty() {
        return Err(format!("{} needs inports and outports to be tested without a fixture", suite.topic));
    }
    for p in ins {
        g.inports.insert(p.clone(), export("testee", &p));
    }
    for p in outs {
        g.outports.insert(p.clone(), export("testee", &p));
    }
    Ok(g)
}

fn export(node: &str, port: &str) -> imgflo_runtime::graph::ExportedPort {
    imgflo_runtime::graph::ExportedPort { node: node.into(), port: port.into(), ..Default::default() }
}

/// fbp-spec's graph id: `properties.name`, else `properties.id`, else a fixture id.
fn graph_id(g: &Graph) -> String {
    for key in ["name", "id"] {
        if let Some(s) = g.properties.get(key).and_then(Json::as_str).filter(|s| !s.is_empty()) {
            return s.to_string();
        }
    }
    let random: String = uuid::Uuid::new_v4().simple().to_string().chars().take(10).collect();
    format!("fixture.{random}")
}

fn port(r: &PortRef) -> Json {
    let mut p = json!({"node": r.node, "port": r.port});
    if let Some(i) = r.index {
        p["index"] = json!(i);
    }
    p
}

/// Sends the fixture graph and starts its network; returns the graph id.
async fn setup<L: Link>(link: &mut L, suite: &Suite, components: &HashMap<String, Json>) -> Result<String, String> {
    let g = fixture_graph(suite, components)?;
    let id = graph_id(&g);
    let clear = json!({"id": id, "name": id, "main": false, "icon": "", "description": ""});
    link.request("graph", "clear", clear, &["clear"]).await?;
    for (node, n) in &g.nodes {
        let payload = json!({"id": node, "component": n.component, "metadata": {}, "graph": id});
        link.request("graph", "addnode", payload, &["addnode"]).await?;
    }
    for c in &g.connections {
        match c {
            Connection::Edge { src, tgt, .. } => {
                let payload = json!({"src": port(src), "tgt": port(tgt), "metadata": {}, "graph": id});
                link.request("graph", "addedge", payload, &["addedge"]).await?;
            }
            Connection::Iip { data, tgt, .. } => {
                let payload = json!({"src": {"data": data}, "tgt": port(tgt), "metadata": {}, "graph": id});
                link.request("graph", "addinitial", payload, &["addinitial"]).await?;
            }
        }
    }
    for (cmd, ports) in [("addinport", &g.inports), ("addoutport", &g.outports)] {
        for (public, p) in ports {
            let payload = json!({"public": public, "node": p.node, "port": p.port, "graph": id});
            link.request("graph", cmd, payload, &[cmd]).await?;
        }
    }
    link.request("network", "start", json!({"graph": id}), &["started"]).await?;
    Ok(id)
}

async fn run_case<L: Link>(link: &mut L, graph: &str, case: &Case, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let many = case.steps.len() > 1;
    let mut failures = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        if let Err(e) = run_step(link, graph, step, deadline).await {
            if !many {
                return Err(e);
            }
            failures.push(format!("step {}: {e}", i + 1));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

async fn run_step<L: Link>(link: &mut L, graph: &str, step: &Step, deadline: Instant) -> Result<(), String> {
    // Whatever arrived before this step does not count.
    while link.next_event(Duration::ZERO).await.is_some() {}
    link.step_inputs(true, graph);
    for (port, value) in &step.inputs {
        let payload = json!({"graph": graph, "port": port, "event": "data", "payload": value});
        let sent = link.request("runtime", "packet", payload, &["packetsent"]).await;
        if let Err(e) = sent {
            link.step_inputs(false, graph);
            return Err(format!("{port}: {e}"));
        }
    }
    link.step_inputs(false, graph);
    let expected: Vec<&str> = step.expect.iter().map(|(p, _)| p.as_str()).collect();
    let mut received: Map<String, Json> = Map::new();
    let mut complete_at: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let wait = match complete_at {
            Some(t) => QUIET.saturating_sub(now - t),
            None => deadline.saturating_duration_since(now),
        };
        let Some(m) = link.next_event(wait).await else {
            if complete_at.is_some() || expected.is_empty() || !link.asynchronous() {
                break;
            }
            let missing: Vec<&&str> = expected.iter().filter(|p| !received.contains_key(**p)).collect();
            return Err(format!("timed out waiting for packets on {missing:?}"));
        };
        let for_us = m.payload.get("graph").and_then(Json::as_str).is_none_or(|g| g == graph);
        match (m.protocol.as_str(), m.command.as_str()) {
            ("runtime", "packet") if for_us && m.payload.get("event").and_then(Json::as_str) == Some("data") => {
                let port = m.payload.get("port").and_then(Json::as_str).unwrap_or("").to_string();
                let data = m.payload.get("payload").cloned().unwrap_or(Json::Null);
                if port == "error" && !expected.contains(&"error") {
                    let msg =
                        data.get("message").and_then(Json::as_str).map_or_else(|| data.to_string(), str::to_string);
                    return Err(format!("error: {msg}"));
                }
                received.insert(port, data);
                if complete_at.is_none() && received.len() >= expected.len() {
                    complete_at = Some(Instant::now());
                }
            }
            ("network", "error") | ("network", "processerror") if for_us => {
                let p = &m.payload;
                let msg = p.get("message").or_else(|| p.get("error")).and_then(Json::as_str).unwrap_or("error");
                let node = p.get("id").and_then(Json::as_str).map(|n| format!(" in {n}")).unwrap_or_default();
                return Err(format!("{}{node}: {msg}", m.command));
            }
            ("runtime", "error") => {
                return Err(format!(
                    "runtime:error: {}",
                    m.payload.get("message").and_then(Json::as_str).unwrap_or("")
                ));
            }
            _ => {}
        }
    }
    for (port, expectations) in &step.expect {
        let value = received.get(port).ok_or_else(|| format!("no packet on {port}"))?;
        for e in expectations {
            expect::check(e, value).map_err(|msg| format!("{port}: {msg}"))?;
        }
    }
    Ok(())
}
