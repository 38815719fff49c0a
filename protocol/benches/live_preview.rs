//! Latency of a live edit: a `color1` change on a running gradient-map graph with a
//! 1-megapixel input, until the new output packet (with its image description) is
//! queued for the client. First with renders inline (no tokio runtime): the
//! runtime's own work (coercion, memoised re-evaluation of the nodes after the
//! change, the image digest, the messages). Then as `imgflo runtime` runs it, on a
//! tokio runtime with renders on the blocking pool: a graph edit (the IIP change
//! Flowhub sends) renders at once; a `runtime:packet` first waits for the packet
//! burst to settle (`PACKET_SETTLE`).
//!
//! `cargo bench -p imgflo-protocol --bench live_preview`

use std::time::{Duration, Instant};

use imgflo_protocol::{Runtime, RuntimeInfo, Session};
use imgflo_runtime::codec::{encode, EncodeOptions, OutputFormat};
use imgflo_runtime::{Image, Registry};
use serde_json::json;

fn main() {
    let dir = std::env::temp_dir().join(format!("imgflo-bench-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (1200u32, 850u32); // ~1 MP
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            px.extend([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]);
        }
    }
    let input = dir.join("input.png");
    let png = encode(&Image::from_rgb8(w, h, px).unwrap(), &EncodeOptions::new(OutputFormat::Png)).unwrap();
    std::fs::write(&input, png).unwrap();
    let input = input.to_str().unwrap().to_string();
    println!("input {w}x{h}, 30 edits each, budget 200 ms");

    let (mut s, mut rx) = start_graph();
    let t = Instant::now();
    send(&mut s, "runtime", "packet", json!({"graph": G, "port": "input", "event": "data", "payload": input}));
    let first = t.elapsed();
    while rx.try_recv().is_ok() {}
    let mut times = Vec::new();
    for i in 0..30 {
        let t = Instant::now();
        send(&mut s, "runtime", "packet", json!({"graph": G, "port": "color1", "event": "data", "payload": colour(i)}));
        let mut got = false;
        while let Ok(m) = rx.try_recv() {
            got |= m.topic() == "runtime:packet";
        }
        times.push(t.elapsed());
        assert!(got, "an output packet after each edit");
    }
    println!("inline: first render (PNG decode + 4 nodes) {:.1} ms", ms(first));
    report("inline: color1 packet -> output packet", times);

    let tokio_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    tokio_rt.block_on(async {
        let (mut s, mut rx) = start_graph();
        send(&mut s, "runtime", "packet", json!({"graph": G, "port": "input", "event": "data", "payload": input}));
        wait_for(&mut rx, "runtime:packet", "").await;
        let mut edits = Vec::new();
        for i in 0..30 {
            // Flowhub changes an IIP: removeinitial (the first time there is none),
            // then addinitial.
            let tgt = json!({"node": "map", "port": "color1"});
            let t = Instant::now();
            send(&mut s, "graph", "removeinitial", json!({"tgt": tgt, "graph": G}));
            send(&mut s, "graph", "addinitial", json!({"src": {"data": colour(i)}, "tgt": tgt, "graph": G}));
            // Plain edits show previews: the one on the edge out of the map.
            wait_for(&mut rx, "network:data", "map() OUTPUT -> INPUT out()").await;
            edits.push(t.elapsed());
        }
        // Packets come last: a packet on color1 overrides its IIP from then on.
        let mut packets = Vec::new();
        for i in 0..30 {
            let t = Instant::now();
            let p = json!({"graph": G, "port": "color1", "event": "data", "payload": colour(i + 1)});
            send(&mut s, "runtime", "packet", p);
            wait_for(&mut rx, "runtime:packet", "").await;
            packets.push(t.elapsed());
        }
        report("served: graph edit (IIP change) -> new preview URL of the output edge", edits);
        report("served: color1 packet -> output packet (with the packet settle)", packets);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

const G: &str = "bench";

fn send(s: &mut Session, p: &str, c: &str, payload: serde_json::Value) {
    s.handle_text(&json!({"protocol": p, "command": c, "payload": payload}).to_string());
}

/// A started grey -> gradient-map graph with `input` and `color1` exported.
fn start_graph() -> (Session, tokio::sync::mpsc::Receiver<imgflo_protocol::messages::Message>) {
    let info = RuntimeInfo { id: "bench".into(), label: "bench".into(), secret: None };
    let rt = Runtime::new(info, Registry::builtin());
    let (mut s, rx) = Session::connect(rt, 1 << 16);
    send(&mut s, "graph", "clear", json!({"id": G}));
    for (id, c) in [("in", "gegl/nop"), ("grey", "gegl/grey"), ("map", "gegl/gradient-map"), ("out", "gegl/nop")] {
        send(&mut s, "graph", "addnode", json!({"id": id, "component": c, "graph": G}));
    }
    for (a, b) in [("in", "grey"), ("grey", "map"), ("map", "out")] {
        let edge = json!({"src": {"node": a, "port": "output"}, "tgt": {"node": b, "port": "input"}, "graph": G});
        send(&mut s, "graph", "addedge", edge);
    }
    send(&mut s, "graph", "addinport", json!({"public": "input", "node": "in", "port": "input", "graph": G}));
    send(&mut s, "graph", "addinport", json!({"public": "color1", "node": "map", "port": "color1", "graph": G}));
    send(&mut s, "graph", "addoutport", json!({"public": "output", "node": "out", "port": "output", "graph": G}));
    send(&mut s, "network", "start", json!({"graph": G}));
    (s, rx)
}

/// Waits for a message with `topic` whose payload mentions `needle`.
async fn wait_for(rx: &mut tokio::sync::mpsc::Receiver<imgflo_protocol::messages::Message>, topic: &str, needle: &str) {
    let wait = async {
        while let Some(m) = rx.recv().await {
            if m.topic() == topic && m.payload.to_string().contains(needle) {
                return;
            }
        }
        panic!("session closed");
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("no {topic} with {needle}"));
}

fn colour(i: usize) -> String {
    format!("#{:02x}{:02x}00", (i * 8) % 256, 255 - (i * 8) % 256)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: median {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        ms(times[times.len() - 1])
    );
}
