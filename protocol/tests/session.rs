//! Sessions driven by plain calls, no sockets: each graph command's reply, errors
//! that keep the session usable, the component list, network runs, broadcasts.

use std::sync::Arc;

use imgflo_protocol::{Message, Runtime, RuntimeInfo, Session};
use imgflo_runtime::Registry;
use serde_json::{json, Value};

fn runtime(secret: Option<&str>) -> Arc<Runtime> {
    let info = RuntimeInfo {
        id: "6b1f0e0e-7a43-4c1a-9d5e-2d2c3f1a0b11".into(),
        label: "test".into(),
        secret: secret.map(str::to_string),
    };
    Runtime::new(info, Registry::builtin())
}

fn send(s: &mut Session, protocol: &str, command: &str, payload: Value) -> Vec<Message> {
    s.handle_text(&json!({"protocol": protocol, "command": command, "payload": payload}).to_string())
}

fn topics(msgs: &[Message]) -> Vec<String> {
    msgs.iter().map(Message::topic).collect()
}

fn one(msgs: Vec<Message>, topic: &str) -> Value {
    assert_eq!(topics(&msgs), vec![topic.to_string()], "{msgs:?}");
    msgs.into_iter().next().unwrap().payload
}

/// A session with graph `foo` holding Repeat1 -> Drop1 and an IIP on Repeat1.in.
fn with_graph(rt: &Arc<Runtime>) -> Session {
    let (mut s, _rx) = Session::connect(rt.clone(), 1024);
    send(&mut s, "graph", "clear", json!({"id": "foo", "main": true, "baseDir": "/x"}));
    send(&mut s, "graph", "addnode", json!({"id": "Repeat1", "component": "core/Repeat", "graph": "foo"}));
    send(&mut s, "graph", "addnode", json!({"id": "Drop1", "component": "core/Drop", "graph": "foo"}));
    send(
        &mut s,
        "graph",
        "addedge",
        json!({"src": {"node": "Repeat1", "port": "out"}, "tgt": {"node": "Drop1", "port": "in"}, "graph": "foo"}),
    );
    send(
        &mut s,
        "graph",
        "addinitial",
        json!({"src": {"data": "hi"}, "tgt": {"node": "Repeat1", "port": "in"}, "graph": "foo"}),
    );
    s
}

#[test]
fn getruntime_describes_the_runtime() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt, 16);
    let p = one(send(&mut s, "runtime", "getruntime", json!({})), "runtime:runtime");
    assert_eq!(p["type"], "imgflo");
    assert_eq!(p["version"], "0.7");
    assert_eq!(p["id"], "6b1f0e0e-7a43-4c1a-9d5e-2d2c3f1a0b11");
    assert_eq!(p["label"], "test");
    for cap in ["protocol:graph", "protocol:network", "protocol:component", "protocol:runtime", "component:getsource"] {
        assert!(p["capabilities"].as_array().unwrap().contains(&json!(cap)), "{cap}");
    }
    assert_eq!(p["capabilities"], p["allCapabilities"]);
}

#[test]
fn graph_commands_echo_exactly() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt.clone(), 1024);
    let clear = json!({"id": "foo", "main": true, "name": "Foo graph"});
    let mut with_base = clear.clone();
    with_base["baseDir"] = json!("/somewhere");
    assert_eq!(one(send(&mut s, "graph", "clear", with_base), "graph:clear"), clear);

    let node = json!({"id": "Repeat1", "component": "core/Repeat", "metadata": {"hello": "World"}, "graph": "foo"});
    assert_eq!(one(send(&mut s, "graph", "addnode", node.clone()), "graph:addnode"), node);
    let node = json!({"id": "Drop1", "component": "core/Drop", "metadata": {}, "graph": "foo"});
    assert_eq!(one(send(&mut s, "graph", "addnode", node.clone()), "graph:addnode"), node);
    let edge = json!({"src": {"node": "Repeat1", "port": "out"}, "tgt": {"node": "Drop1", "port": "in"}, "metadata": {"route": 5}, "graph": "foo"});
    assert_eq!(one(send(&mut s, "graph", "addedge", edge.clone()), "graph:addedge"), edge);

    for (change, merged) in [
        (json!({"sort": 1}), json!({"sort": 1})),
        (json!({"tag": "awesome"}), json!({"sort": 1, "tag": "awesome"})),
        (json!({}), json!({"sort": 1, "tag": "awesome"})),
        (json!({"sort": null, "tag": null}), json!({})),
    ] {
        let p = one(
            send(&mut s, "graph", "changenode", json!({"id": "Drop1", "metadata": change, "graph": "foo"})),
            "graph:changenode",
        );
        assert_eq!(p, json!({"id": "Drop1", "metadata": merged, "graph": "foo"}));
    }

    let iip = json!({"src": {"data": "Hello, world!"}, "tgt": {"node": "Repeat1", "port": "in"}, "metadata": {}, "graph": "foo"});
    assert_eq!(one(send(&mut s, "graph", "addinitial", iip.clone()), "graph:addinitial"), iip);

    let removed = send(&mut s, "graph", "removenode", json!({"id": "Drop1", "graph": "foo"}));
    assert_eq!(topics(&removed), ["graph:removeedge", "graph:removenode"]);
    assert_eq!(
        removed[0].payload,
        json!({"src": {"node": "Repeat1", "port": "out"}, "tgt": {"node": "Drop1", "port": "in"}, "graph": "foo"})
    );
    assert_eq!(removed[1].payload, json!({"id": "Drop1", "graph": "foo"}));

    let p = one(
        send(&mut s, "graph", "removeinitial", json!({"tgt": {"node": "Repeat1", "port": "in"}, "graph": "foo"})),
        "graph:removeinitial",
    );
    assert_eq!(p, json!({"src": {"data": "Hello, world!"}, "tgt": {"node": "Repeat1", "port": "in"}, "graph": "foo"}));

    let rename = json!({"from": "Repeat1", "to": "RepeatRenamed", "graph": "foo"});
    assert_eq!(one(send(&mut s, "graph", "renamenode", rename.clone()), "graph:renamenode"), rename);

    let inport = json!({"public": "in", "node": "RepeatRenamed", "port": "in", "graph": "foo"});
    let msgs = send(&mut s, "graph", "addinport", inport.clone());
    assert_eq!(topics(&msgs), ["graph:addinport", "runtime:ports"]);
    assert_eq!(msgs[0].payload, inport);
    assert_eq!(msgs[1].payload["inPorts"][0]["id"], "in");
    assert_eq!(msgs[1].payload["inPorts"][0]["type"], "all");
    let outport = json!({"public": "out", "node": "RepeatRenamed", "port": "out", "graph": "foo"});
    assert_eq!(send(&mut s, "graph", "addoutport", outport.clone())[0].payload, outport);
    let msgs = send(&mut s, "graph", "removeoutport", json!({"public": "out", "graph": "foo"}));
    assert_eq!(msgs[0].payload, json!({"public": "out", "graph": "foo"}));
    assert_eq!(msgs[1].payload["outPorts"], json!([]));

    let g = rt.graph("foo").unwrap();
    assert!(g.nodes.contains_key("RepeatRenamed"));
    assert!(g.connections.is_empty());
    assert_eq!(g.inports["in"].node, "RepeatRenamed");
}

#[test]
fn errors_keep_the_session_usable() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt.clone(), 1024);
    let p = one(send(&mut s, "graph", "addnode", json!({"id": "a", "component": "core/Repeat"})), "graph:error");
    assert_eq!(p, json!({"message": "No graph specified"}));
    let p = one(
        send(&mut s, "graph", "addnode", json!({"id": "a", "component": "core/Repeat", "graph": "nope"})),
        "graph:error",
    );
    assert_eq!(p, json!({"message": "Requested graph not found"}));

    let msgs = s.handle_text("{ this is not json");
    assert_eq!(topics(&msgs), ["runtime:error"]);
    assert!(msgs[0].payload["message"].as_str().unwrap().contains("not valid JSON"));
    let msgs = s.handle_text(r#"{"protocol": "graph", "payload": {}}"#);
    assert_eq!(topics(&msgs), ["graph:error"]);

    send(&mut s, "graph", "clear", json!({"id": "g"}));
    let p = one(send(&mut s, "graph", "addnode", json!({"id": "a", "graph": "g"})), "graph:error");
    assert!(p["message"].as_str().unwrap().contains("component"), "{p}");
    let p = one(send(&mut s, "graph", "removenode", json!({"id": "missing", "graph": "g"})), "graph:error");
    assert_eq!(p["message"], "Node missing not found");
    let p = one(send(&mut s, "graph", "frobnicate", json!({"graph": "g"})), "graph:error");
    assert_eq!(p["message"], "graph:frobnicate not supported");
    let p =
        one(send(&mut s, "component", "source", json!({"name": "x", "language": "c", "code": ""})), "component:error");
    assert!(p["message"].as_str().unwrap().contains("not supported"), "{p}");

    // Still fine after all that.
    let node = json!({"id": "a", "component": "core/Repeat", "graph": "g"});
    assert_eq!(one(send(&mut s, "graph", "addnode", node.clone()), "graph:addnode"), node);

    // Ports the component does not have are refused, and nothing is added.
    send(&mut s, "graph", "addnode", json!({"id": "b", "component": "gegl/crop", "graph": "g"}));
    let edge = |src: &str, tgt: &str| json!({"src": {"node": "a", "port": src}, "tgt": {"node": "b", "port": tgt}, "graph": "g"});
    let p = one(send(&mut s, "graph", "addedge", edge("out", "nosuch")), "graph:error");
    assert_eq!(p["message"], "Component gegl/crop of node b has no inport nosuch");
    let p = one(send(&mut s, "graph", "addedge", edge("in", "input")), "graph:error");
    assert_eq!(p["message"], "Component core/Repeat of node a has no outport in");
    let iip = json!({"src": {"data": 3}, "tgt": {"node": "b", "port": "widht"}, "graph": "g"});
    let p = one(send(&mut s, "graph", "addinitial", iip), "graph:error");
    assert!(p["message"].as_str().unwrap().ends_with("has no inport widht"), "{p}");
    let export = json!({"public": "x", "node": "b", "port": "nosuch", "graph": "g"});
    one(send(&mut s, "graph", "addinport", export.clone()), "graph:error");
    one(send(&mut s, "graph", "addoutport", export), "graph:error");
    let g = rt.graph("g").unwrap();
    assert!(g.connections.is_empty() && g.inports.is_empty() && g.outports.is_empty());
    // Case as the fbp parser leaves it, and every node's error outport, are fine.
    one(send(&mut s, "graph", "addedge", edge("OUT", "Width")), "graph:addedge");
    let export = json!({"public": "err", "node": "b", "port": "error", "graph": "g"});
    assert_eq!(topics(&send(&mut s, "graph", "addoutport", export)), ["graph:addoutport", "runtime:ports"]);
}

#[test]
fn component_list_ends_with_componentsready() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt, 4096);
    let msgs = send(&mut s, "component", "list", json!({}));
    let (last, components) = msgs.split_last().unwrap();
    assert_eq!(last.topic(), "component:componentsready");
    assert_eq!(last.payload, json!(components.len()));
    assert_eq!(components.len(), Registry::builtin().len());
    let repeat = components.iter().find(|m| m.payload["name"] == "core/Repeat").expect("core/Repeat listed");
    assert_eq!(repeat.payload["subgraph"], false);
    assert_eq!(repeat.payload["inPorts"][0]["id"], "in");
    assert!(components.iter().any(|m| m.payload["name"] == "core/Drop"));
    for m in components {
        assert_eq!(m.topic(), "component:component");
        for port in m.payload["inPorts"].as_array().unwrap().iter().chain(m.payload["outPorts"].as_array().unwrap()) {
            let port = port.as_object().unwrap();
            assert!(port.contains_key("id") && port.contains_key("type"));
            assert!(!port.contains_key("minimum") && !port.contains_key("maximum"), "{}", m.payload["name"]);
        }
    }
}

#[test]
fn getsource_of_a_graph_is_its_json() {
    let rt = runtime(None);
    let mut s = with_graph(&rt);
    let p = one(send(&mut s, "component", "getsource", json!({"name": "foo"})), "component:source");
    assert_eq!(p["language"], "json");
    let g = imgflo_runtime::graph::json::from_str(p["code"].as_str().unwrap()).unwrap();
    assert!(g.nodes.contains_key("Repeat1"));
    let p = one(send(&mut s, "component", "getsource", json!({"name": "core/Repeat"})), "component:error");
    assert!(p["message"].as_str().unwrap().contains("core/Repeat"));
}

#[test]
fn network_runs_iips_through_edges() {
    let rt = runtime(None);
    let mut s = with_graph(&rt);
    let status = |s: &mut Session| one(send(s, "network", "getstatus", json!({"graph": "foo"})), "network:status");
    assert_eq!(status(&mut s), json!({"graph": "foo", "running": false, "started": false}));

    let msgs = send(&mut s, "network", "start", json!({"graph": "foo"}));
    assert_eq!(topics(&msgs), ["network:started", "network:data", "network:data"]);
    assert_eq!(msgs[0].payload["started"], true);
    assert!(msgs[0].payload["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        msgs[1].payload,
        json!({"id": "DATA -> IN Repeat1()", "graph": "foo", "tgt": {"node": "Repeat1", "port": "in"}, "data": "hi"})
    );
    assert_eq!(
        msgs[2].payload,
        json!({"id": "Repeat1() OUT -> IN Drop1()", "graph": "foo", "src": {"node": "Repeat1", "port": "out"},
               "tgt": {"node": "Drop1", "port": "in"}, "data": "hi"})
    );
    assert_eq!(status(&mut s), json!({"graph": "foo", "running": false, "started": true}));

    let p = one(send(&mut s, "network", "stop", json!({"graph": "foo"})), "network:stopped");
    assert_eq!((p["started"].clone(), p["running"].clone()), (json!(false), json!(false)));
    assert!(p["uptime"].is_number());
    assert_eq!(status(&mut s), json!({"graph": "foo", "running": false, "started": false}));
}

#[test]
fn packets_flow_between_exported_ports() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt, 1024);
    send(&mut s, "graph", "clear", json!({"id": "fixture.abc", "main": false}));
    send(&mut s, "graph", "addnode", json!({"id": "a", "component": "core/Repeat", "graph": "fixture.abc"}));
    send(&mut s, "graph", "addnode", json!({"id": "b", "component": "core/Repeat", "graph": "fixture.abc"}));
    send(
        &mut s,
        "graph",
        "addedge",
        json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "b", "port": "in"}, "graph": "fixture.abc"}),
    );
    send(&mut s, "graph", "addinport", json!({"public": "in", "node": "a", "port": "in", "graph": "fixture.abc"}));
    send(&mut s, "graph", "addoutport", json!({"public": "out", "node": "b", "port": "out", "graph": "fixture.abc"}));

    let packet = json!({"graph": "fixture.abc", "port": "in", "event": "data", "payload": {"n": 1}});
    let p = one(send(&mut s, "runtime", "packet", packet.clone()), "runtime:error");
    assert_eq!(p["message"], "Network fixture.abc is not running");

    send(&mut s, "network", "start", json!({"graph": "fixture.abc"}));
    for n in 1..=2 {
        let mut packet = packet.clone();
        packet["payload"] = json!({"n": n});
        let msgs = send(&mut s, "runtime", "packet", packet.clone());
        assert_eq!(topics(&msgs), ["runtime:packetsent", "network:data", "runtime:packet"]);
        assert_eq!(msgs[0].payload, packet);
        assert_eq!(
            msgs[2].payload,
            json!({"graph": "fixture.abc", "port": "out", "event": "data", "payload": {"n": n}})
        );
    }
    let p = one(
        send(&mut s, "runtime", "packet", json!({"graph": "fixture.abc", "port": "nope", "event": "data"})),
        "runtime:error",
    );
    assert_eq!(p["message"], "Cannot find internal port for nope");
}

#[test]
fn loops_are_cut_off() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt, 1 << 16);
    send(&mut s, "graph", "clear", json!({"id": "loop"}));
    send(&mut s, "graph", "addnode", json!({"id": "a", "component": "core/Repeat", "graph": "loop"}));
    send(
        &mut s,
        "graph",
        "addedge",
        json!({"src": {"node": "a", "port": "out"}, "tgt": {"node": "a", "port": "in"}, "graph": "loop"}),
    );
    send(
        &mut s,
        "graph",
        "addinitial",
        json!({"src": {"data": 1}, "tgt": {"node": "a", "port": "in"}, "graph": "loop"}),
    );
    let msgs = send(&mut s, "network", "start", json!({"graph": "loop"}));
    assert_eq!(msgs.last().unwrap().topic(), "network:error");
    let p = one(send(&mut s, "network", "getstatus", json!({"graph": "loop"})), "network:status");
    assert_eq!(p["running"], false);
}

#[test]
fn edits_and_events_reach_every_client_replies_only_the_requester() {
    let rt = runtime(None);
    let (mut a, _rxa) = Session::connect(rt.clone(), 1024);
    let (mut b, mut rxb) = Session::connect(rt.clone(), 1024);
    let echo = send(&mut a, "graph", "clear", json!({"id": "g"}));
    assert_eq!(rxb.try_recv().unwrap(), echo[0]);
    send(&mut a, "network", "getstatus", json!({"graph": "g"}));
    assert!(rxb.try_recv().is_err(), "status is a direct reply");
    send(&mut b, "runtime", "getruntime", json!({}));
    assert_eq!(rxb.try_recv().unwrap().topic(), "runtime:runtime");
    drop(a);
    assert_eq!(rt.clients(), 1);
}

#[test]
fn request_ids_are_answered_with_response_to() {
    let rt = runtime(None);
    let (mut s, _rx) = Session::connect(rt, 16);
    let msgs = s.handle_text(r#"{"protocol":"graph","command":"clear","payload":{"id":"g"},"requestId":"r1"}"#);
    assert_eq!(msgs[0].response_to.as_deref(), Some("r1"));
    let msgs = s.handle_text(r#"{"protocol":"graph","command":"clear","payload":{"id":"g"}}"#);
    assert!(msgs[0].to_text().find("responseTo").is_none());
}

#[test]
fn a_secret_guards_everything_but_getruntime() {
    let rt = runtime(Some("s3cret"));
    let (mut s, _rx) = Session::connect(rt, 16);
    let p = one(send(&mut s, "runtime", "getruntime", json!({})), "runtime:runtime");
    assert_eq!(p["capabilities"], json!([]));
    assert!(!p["allCapabilities"].as_array().unwrap().is_empty());
    let p = one(send(&mut s, "graph", "clear", json!({"id": "g"})), "graph:error");
    assert_eq!(p["message"], "graph:clear is not permitted");
    let msgs = s.handle_text(r#"{"protocol":"graph","command":"clear","payload":{"id":"g","secret":"s3cret"}}"#);
    assert_eq!(one(msgs, "graph:clear"), json!({"id": "g"}));
    let msgs = s.handle_text(r#"{"protocol":"graph","command":"clear","payload":{"id":"h"},"secret":"s3cret"}"#);
    assert_eq!(one(msgs, "graph:clear"), json!({"id": "h"}));
}

#[test]
fn a_client_that_does_not_read_is_dropped() {
    let rt = runtime(None);
    let (mut s, mut rx) = Session::connect(rt, 4);
    send(&mut s, "component", "list", json!({}));
    let mut got = 0;
    while rx.try_recv().is_ok() {
        got += 1;
    }
    assert_eq!(got, 4);
    assert!(matches!(rx.try_recv(), Err(tokio::sync::mpsc::error::TryRecvError::Disconnected)));
}

/// Damaged messages (mutations of a real session's) get error replies or are
/// applied, never a panic, and the session still answers afterwards.
#[test]
fn damaged_messages_never_panic() {
    use imgflo_runtime::testing::{mutate, Rng};
    let rt = runtime(None);
    let (mut s, mut rx) = Session::connect(rt, 1 << 16);
    let seeds: Vec<Vec<u8>> = [
        json!({"protocol": "graph", "command": "clear", "payload": {"id": "m", "main": true}}),
        json!({"protocol": "graph", "command": "addnode", "payload": {"id": "a", "component": "gegl/crop", "graph": "m", "metadata": {"x": 1.5}}}),
        json!({"protocol": "graph", "command": "addnode", "payload": {"id": "b", "component": "core/Repeat", "graph": "m"}}),
        json!({"protocol": "graph", "command": "addedge", "payload": {"src": {"node": "a", "port": "output"}, "tgt": {"node": "b", "port": "in", "index": 0}, "graph": "m"}}),
        json!({"protocol": "graph", "command": "addinitial", "payload": {"src": {"data": [1, {"x": null}]}, "tgt": {"node": "a", "port": "width"}, "graph": "m"}}),
        json!({"protocol": "graph", "command": "renamenode", "payload": {"from": "a", "to": "c", "graph": "m"}}),
        json!({"protocol": "graph", "command": "addinport", "payload": {"public": "in", "node": "a", "port": "input", "graph": "m"}}),
        json!({"protocol": "graph", "command": "addgroup", "payload": {"name": "g", "nodes": ["a", "b"], "graph": "m"}}),
        json!({"protocol": "network", "command": "start", "payload": {"graph": "m"}}),
        json!({"protocol": "runtime", "command": "packet", "payload": {"graph": "m", "port": "in", "event": "data", "payload": "nonexistent.png"}}),
        json!({"protocol": "component", "command": "getsource", "payload": {"name": "gegl/crop"}}),
        json!({"protocol": "network", "command": "getstatus", "payload": {"graph": "m"}}),
    ]
    .iter()
    .map(|m| m.to_string().into_bytes())
    .collect();
    let mut rng = Rng(0xf00d);
    for i in 0..10_000 {
        let text = String::from_utf8_lossy(&mutate(&mut rng, &seeds[i % seeds.len()])).into_owned();
        s.handle_text(&text);
        while rx.try_recv().is_ok() {}
    }
    let msgs = send(&mut s, "runtime", "getruntime", json!({}));
    assert_eq!(msgs[0].topic(), "runtime:runtime");
    assert_eq!(msgs[0].payload["version"], "0.7");
}
