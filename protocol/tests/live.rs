//! The live image network, driven by plain calls (renders run inline outside a
//! tokio runtime): previews on edges, image packets on exported outports, only the
//! affected nodes re-evaluated after an edit, errors naming the failing node, the
//! `/process` preview endpoint, and graphs saved to the graphs directory.

use std::path::PathBuf;
use std::sync::Arc;

use imgflo_protocol::{http, Message, Runtime, RuntimeInfo, RuntimeOptions, Session};
use imgflo_runtime::{Image, Registry};
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn runtime(options: RuntimeOptions) -> Arc<Runtime> {
    let info = RuntimeInfo { id: "6b1f0e0e-7a43-4c1a-9d5e-2d2c3f1a0b11".into(), label: "test".into(), secret: None };
    Runtime::with_options(info, Registry::builtin(), options)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imgflo-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 64x48 gradient PNG in `dir`.
fn input_png(dir: &std::path::Path) -> String {
    let mut px = Vec::new();
    for y in 0..48u32 {
        for x in 0..64u32 {
            px.extend([(x * 4) as u8, (y * 5) as u8, 128]);
        }
    }
    let img = Image::from_rgb8(64, 48, px).unwrap();
    let bytes = imgflo_runtime::codec::encode(
        &img,
        &imgflo_runtime::codec::EncodeOptions::new(imgflo_runtime::codec::OutputFormat::Png),
    )
    .unwrap();
    let path = dir.join("input.png");
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

fn send(s: &mut Session, protocol: &str, command: &str, payload: Value) -> Vec<Message> {
    s.handle_text(&json!({"protocol": protocol, "command": command, "payload": payload}).to_string())
}

fn drain(rx: &mut mpsc::Receiver<Message>) -> Vec<Message> {
    let mut out = Vec::new();
    while let Ok(m) = rx.try_recv() {
        out.push(m);
    }
    out
}

fn of<'a>(msgs: &'a [Message], topic: &str) -> Vec<&'a Value> {
    msgs.iter().filter(|m| m.topic() == topic).map(|m| &m.payload).collect()
}

/// in(nop) -> map(gradient-map) -> out(nop), exported input, color1, output.
fn build(s: &mut Session, graph: &str) {
    send(s, "graph", "clear", json!({"id": graph}));
    for (id, c) in [("in", "gegl/nop"), ("map", "gegl/gradient-map"), ("out", "gegl/nop")] {
        send(s, "graph", "addnode", json!({"id": id, "component": c, "graph": graph}));
    }
    for (a, b) in [("in", "map"), ("map", "out")] {
        let r = send(
            s,
            "graph",
            "addedge",
            json!({"src": {"node": a, "port": "output"}, "tgt": {"node": b, "port": "input"}, "graph": graph}),
        );
        assert_eq!(r[0].topic(), "graph:addedge", "{r:?}");
    }
    for (public, node, port, cmd) in [
        ("input", "in", "input", "addinport"),
        ("color1", "map", "color1", "addinport"),
        ("output", "out", "output", "addoutport"),
    ] {
        send(s, "graph", cmd, json!({"public": public, "node": node, "port": port, "graph": graph}));
    }
}

#[test]
fn edits_rerender_and_announce_previews_and_image_packets() {
    let dir = temp_dir("announce");
    let input = input_png(&dir);
    let rt = runtime(RuntimeOptions::default());
    let (mut s, mut rx) = Session::connect(rt.clone(), 4096);
    build(&mut s, "g");
    send(&mut s, "network", "start", json!({"graph": "g"}));
    drain(&mut rx);

    let r =
        send(&mut s, "runtime", "packet", json!({"graph": "g", "port": "input", "event": "data", "payload": input}));
    assert_eq!(r[0].topic(), "runtime:packetsent");
    let msgs = drain(&mut rx);
    let data = of(&msgs, "network:data");
    assert_eq!(data.len(), 2, "{msgs:?}");
    for d in &data {
        assert_eq!(d["data"]["type"], "previewurl");
        let url = d["data"]["url"].as_str().unwrap();
        assert!(url.starts_with("http://") && url.contains("/process?graph=g&node="), "{url}");
    }
    let packets = of(&msgs, "runtime:packet");
    assert_eq!(packets.len(), 1);
    let first = packets[0]["payload"].clone();
    assert_eq!(packets[0]["port"], "output");
    assert_eq!((first["width"].as_u64(), first["height"].as_u64()), (Some(64), Some(48)));
    assert_eq!(first["digest"].as_str().unwrap().len(), 32);
    let output = of(&msgs, "network:output");
    assert_eq!(output.len(), 1);
    assert_eq!(output[0]["type"], "previewurl");
    assert!(output[0]["message"].is_string());

    // A parameter edit: only the edge after the changed node is announced again,
    // and the output's pixels change.
    send(&mut s, "runtime", "packet", json!({"graph": "g", "port": "color1", "event": "data", "payload": "#ff0000"}));
    let msgs = drain(&mut rx);
    let data = of(&msgs, "network:data");
    assert_eq!(data.len(), 1, "{msgs:?}");
    assert_eq!(data[0]["src"]["node"], "map");
    let second = of(&msgs, "runtime:packet")[0]["payload"].clone();
    assert_ne!(second["digest"], first["digest"]);
    assert_ne!(second["url"], first["url"], "the preview URL changes with every render");

    // An IIP edit on a running network re-renders too: new previews, but no output
    // packet (those answer packets in).
    send(
        &mut s,
        "graph",
        "addinitial",
        json!({"src": {"data": "#00ff00"}, "tgt": {"node": "map", "port": "color1"}, "graph": "g"}),
    );
    let msgs = drain(&mut rx);
    assert!(of(&msgs, "runtime:packet").is_empty(), "{msgs:?}");
    let data = of(&msgs, "network:data");
    assert_eq!(data.len(), 1, "{msgs:?}");
    assert_eq!(data[0]["src"]["node"], "map");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failing_node_is_named_and_the_rest_keeps_working() {
    let dir = temp_dir("fail");
    let input = input_png(&dir);
    let rt = runtime(RuntimeOptions::default());
    let (mut s, mut rx) = Session::connect(rt.clone(), 4096);
    build(&mut s, "g");
    send(&mut s, "graph", "addnode", json!({"id": "crop", "component": "gegl/crop", "graph": "g"}));
    send(
        &mut s,
        "graph",
        "addedge",
        json!({"src": {"node": "in", "port": "output"}, "tgt": {"node": "crop", "port": "input"}, "graph": "g"}),
    );
    send(
        &mut s,
        "graph",
        "addinitial",
        json!({"src": {"data": -3}, "tgt": {"node": "crop", "port": "width"}, "graph": "g"}),
    );
    send(&mut s, "network", "start", json!({"graph": "g"}));
    send(&mut s, "runtime", "packet", json!({"graph": "g", "port": "input", "event": "data", "payload": input}));
    let msgs = drain(&mut rx);
    let errors = of(&msgs, "network:processerror");
    assert_eq!(errors.len(), 1, "{msgs:?}");
    assert_eq!(errors[0]["id"], "crop");
    assert_eq!(errors[0]["graph"], "g");
    assert_eq!(of(&msgs, "runtime:packet").len(), 1, "the output still renders");

    // A bad value in a packet is an error on that node, not a crash.
    send(
        &mut s,
        "runtime",
        "packet",
        json!({"graph": "g", "port": "color1", "event": "data", "payload": "not-a-colour"}),
    );
    let msgs = drain(&mut rx);
    assert!(of(&msgs, "network:processerror").iter().any(|e| e["id"] == "map"), "{msgs:?}");
    // With its error port exported, a node reports there instead (graph tests
    // expect errors that way).
    send(&mut s, "graph", "addoutport", json!({"public": "error", "node": "map", "port": "error", "graph": "g"}));
    drain(&mut rx);
    send(&mut s, "runtime", "packet", json!({"graph": "g", "port": "color1", "event": "data", "payload": "#zz"}));
    let msgs = drain(&mut rx);
    assert!(!of(&msgs, "network:processerror").iter().any(|e| e["id"] == "map"), "{msgs:?}");
    let errors: Vec<_> = of(&msgs, "runtime:packet").into_iter().filter(|p| p["port"] == "error").collect();
    assert_eq!(errors.len(), 1, "{msgs:?}");
    assert!(errors[0]["payload"]["message"].as_str().unwrap().contains("color1"), "{msgs:?}");
    assert!(!of(&msgs, "runtime:packet").iter().any(|p| p["port"] == "output"), "a refused value shows nothing");
    // A missing file too.
    send(
        &mut s,
        "runtime",
        "packet",
        json!({"graph": "g", "port": "input", "event": "data", "payload": "/nonexistent.png"}),
    );
    let msgs = drain(&mut rx);
    assert!(of(&msgs, "network:processerror").iter().any(|e| e["id"] == "in"), "{msgs:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn process_serves_previews_as_png() {
    let dir = temp_dir("process");
    let input = input_png(&dir);
    let rt = runtime(RuntimeOptions { node_preview_box: 32, ..RuntimeOptions::default() });
    let (mut s, _rx) = Session::connect(rt.clone(), 4096);
    build(&mut s, "g");
    send(&mut s, "graph", "addnode", json!({"id": "lonely", "component": "gegl/gaussian-blur", "graph": "g"}));
    send(&mut s, "network", "start", json!({"graph": "g"}));
    send(&mut s, "runtime", "packet", json!({"graph": "g", "port": "input", "event": "data", "payload": input}));

    let decode = |a: &http::Answer| {
        assert_eq!((a.status, a.content_type), (200, "image/png"), "{}", String::from_utf8_lossy(&a.body));
        imgflo_runtime::codec::decode(&a.body, &Default::default()).unwrap().image.dimensions()
    };
    // An ordinary node fits the preview box; the graph output is full size.
    assert_eq!(decode(&http::process(&rt, "graph=g&node=map&rev=3")), (32, 24));
    assert_eq!(decode(&http::process(&rt, "graph=g&node=out&timestamp=1")), (64, 48));
    for (query, needle) in [
        ("graph=g&node=lonely", "no image"),
        ("graph=g&node=nope", "no node"),
        ("graph=nope&node=map", "no graph"),
        ("node=map", "give the graph"),
    ] {
        let a = http::process(&rt, query);
        assert_eq!(a.status, 400, "{query}");
        assert!(String::from_utf8_lossy(&a.body).contains(needle), "{query}: {}", String::from_utf8_lossy(&a.body));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn previews_render_on_demand_for_graphs_not_started() {
    let dir = temp_dir("ondemand");
    let input = input_png(&dir);
    let rt = runtime(RuntimeOptions::default());
    let (mut s, mut rx) = Session::connect(rt.clone(), 4096);
    send(&mut s, "graph", "clear", json!({"id": "g"}));
    send(&mut s, "graph", "addnode", json!({"id": "load", "component": "gegl/load", "graph": "g"}));
    send(&mut s, "graph", "addnode", json!({"id": "blur", "component": "gegl/gaussian-blur", "graph": "g"}));
    send(
        &mut s,
        "graph",
        "addedge",
        json!({"src": {"node": "load", "port": "output"}, "tgt": {"node": "blur", "port": "input"}, "graph": "g"}),
    );
    send(
        &mut s,
        "graph",
        "addinitial",
        json!({"src": {"data": input}, "tgt": {"node": "load", "port": "path"}, "graph": "g"}),
    );
    drain(&mut rx);
    let a = http::process(&rt, "graph=g&node=blur");
    assert_eq!(a.status, 200);
    assert!(of(&drain(&mut rx), "network:data").is_empty(), "a network that is not started announces nothing");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn edited_graphs_are_saved_to_the_graphs_dir() {
    let dir = temp_dir("persist");
    let rt = runtime(RuntimeOptions { persist_dir: Some(dir.clone()), ..RuntimeOptions::default() });
    let (mut s, _rx) = Session::connect(rt.clone(), 4096);
    build(&mut s, "project/main");
    build(&mut s, "fixture.AbCdE12345");
    let path = dir.join("project_main.json");
    let saved = imgflo_runtime::graph::file::load(&path).unwrap();
    assert_eq!(saved.runtime_type(), Some("imgflo"));
    assert_eq!(saved.nodes.len(), 3);
    assert_eq!(saved.inports.len(), 2);
    assert!(saved.outports.contains_key("output"));
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "fixtures and temp files are not left behind: {names:?}");

    // A graph loaded from .fbp is saved as .json; the .fbp moves aside.
    let fbp = dir.join("tiny.fbp");
    std::fs::write(&fbp, "INPORT=a.INPUT:INPUT\nOUTPORT=a.OUTPUT:OUTPUT\na(gegl/nop)\n").unwrap();
    rt.insert_graph_from("tiny", imgflo_runtime::graph::file::load(&fbp).unwrap(), fbp.clone());
    send(&mut s, "graph", "addnode", json!({"id": "b", "component": "gegl/nop", "graph": "tiny"}));
    assert!(dir.join("tiny.json").exists());
    assert!(!fbp.exists() && dir.join("tiny.fbp.orig").exists());
    assert_eq!(imgflo_runtime::graph::file::load(&dir.join("tiny.json")).unwrap().nodes.len(), 2);

    // Read-only (no persist dir, as `--read-only` sets): a graph loaded from a file
    // is edited live but neither it nor anything beside it is written.
    let ro = temp_dir("persist-ro");
    let fbp = ro.join("tiny.fbp");
    let text = "INPORT=a.INPUT:INPUT\nOUTPORT=a.OUTPUT:OUTPUT\na(gegl/nop)\n";
    std::fs::write(&fbp, text).unwrap();
    let rt = runtime(RuntimeOptions::default());
    let (mut s, _rx) = Session::connect(rt.clone(), 4096);
    rt.insert_graph_from("tiny", imgflo_runtime::graph::file::load(&fbp).unwrap(), fbp.clone());
    send(&mut s, "graph", "addnode", json!({"id": "b", "component": "gegl/nop", "graph": "tiny"}));
    build(&mut s, "other");
    std::thread::sleep(std::time::Duration::from_millis(400)); // past the persist debounce
    assert_eq!(rt.graph("tiny").unwrap().nodes.len(), 2, "the edit applied");
    let names: Vec<_> = std::fs::read_dir(&ro).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["tiny.fbp"]);
    assert_eq!(std::fs::read_to_string(&fbp).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&ro).unwrap();
}
