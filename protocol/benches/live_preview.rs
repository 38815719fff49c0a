//! Latency of a live edit: a `color1` packet into a running gradient-map graph on a
//! 1-megapixel input, until the new output packet (with its image description) is
//! queued for the client. Renders run inline here (no tokio runtime), so the time
//! is the runtime's own work: coercion, memoised re-evaluation of the nodes after
//! the change, the image digest and the messages.
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

    let info = RuntimeInfo { id: "bench".into(), label: "bench".into(), secret: None };
    let rt = Runtime::new(info, Registry::builtin());
    let (mut s, mut rx) = Session::connect(rt, 1 << 16);
    let mut send = |p: &str, c: &str, payload: serde_json::Value| {
        s.handle_text(&json!({"protocol": p, "command": c, "payload": payload}).to_string());
    };
    let g = "bench";
    send("graph", "clear", json!({"id": g}));
    for (id, c) in [("in", "gegl/nop"), ("grey", "gegl/grey"), ("map", "gegl/gradient-map"), ("out", "gegl/nop")] {
        send("graph", "addnode", json!({"id": id, "component": c, "graph": g}));
    }
    for (a, b) in [("in", "grey"), ("grey", "map"), ("map", "out")] {
        send(
            "graph",
            "addedge",
            json!({"src": {"node": a, "port": "output"}, "tgt": {"node": b, "port": "input"}, "graph": g}),
        );
    }
    send("graph", "addinport", json!({"public": "input", "node": "in", "port": "input", "graph": g}));
    send("graph", "addinport", json!({"public": "color1", "node": "map", "port": "color1", "graph": g}));
    send("graph", "addoutport", json!({"public": "output", "node": "out", "port": "output", "graph": g}));
    send("network", "start", json!({"graph": g}));
    let t = Instant::now();
    send(
        "runtime",
        "packet",
        json!({"graph": g, "port": "input", "event": "data", "payload": input.to_str().unwrap()}),
    );
    let first = t.elapsed();
    while rx.try_recv().is_ok() {}

    let mut times: Vec<Duration> = Vec::new();
    for i in 0..30 {
        let colour = format!("#{:02x}{:02x}00", (i * 8) % 256, 255 - (i * 8) % 256);
        let t = Instant::now();
        send("runtime", "packet", json!({"graph": g, "port": "color1", "event": "data", "payload": colour}));
        let mut got = false;
        while let Ok(m) = rx.try_recv() {
            got |= m.topic() == "runtime:packet";
        }
        times.push(t.elapsed());
        assert!(got, "an output packet after each edit");
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("input {w}x{h}: first render (decode + 4 nodes) {:.1} ms", ms(first));
    println!(
        "color1 edit -> new output packet: median {:.1} ms, p90 {:.1} ms, max {:.1} ms (budget 200 ms)",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        ms(times[times.len() - 1])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
