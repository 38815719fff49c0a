//! Bad input is an error value, never a panic: every parser and decoder is fed
//! thousands of mutations of valid inputs (bytes flipped, inserted, deleted,
//! truncated, spliced) from a fixed-seed generator, so a failure is reproducible.

use std::path::Path;
use std::sync::Arc;

use crate::codec::{self, DecodeOptions, EncodeOptions, OutputFormat};
use crate::eval::{run_graph, GraphInput};
use crate::graph::{fbp, json};
use crate::ops::RunContext;
use crate::pixels::Image;
use crate::testing::{mutate, Rng};
use crate::{color, Registry};

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/fbp")
}

#[test]
fn graph_parsers_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut seeds: Vec<(bool, Vec<u8>)> = Vec::new();
    let dirs = [data_dir(), data_dir().join("errors")];
    for entry in dirs.iter().flat_map(|d| std::fs::read_dir(d).unwrap()) {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let is_fbp = path.extension().is_some_and(|e| e == "fbp");
        seeds.push((is_fbp, std::fs::read(&path).unwrap()));
    }
    assert!(seeds.len() >= 10, "parser cases in tests/data/fbp");
    let registry = Registry::builtin();
    for i in 0..20_000 {
        let (is_fbp, seed) = &seeds[i % seeds.len()];
        let text = String::from_utf8_lossy(&mutate(&mut rng, seed)).into_owned();
        let parsed = if *is_fbp { fbp::parse(&text).ok() } else { json::from_str(&text).ok() };
        // What parses is also compiled against the components, as a server would.
        if let Some(graph) = parsed {
            let _ = crate::eval::Network::new(graph, registry);
        }
    }
}

#[test]
fn colour_parser_never_panics() {
    let mut rng = Rng(42);
    let seeds: [&[u8]; 6] =
        [b"#a1b2c3", b"#abcd", b"rgb(10, 20, 30)", b"rgba(1,2,3,0.5)", b"transparent", b"hsl(1,2%,3%)"];
    for i in 0..20_000 {
        let text = String::from_utf8_lossy(&mutate(&mut rng, seeds[i % seeds.len()])).into_owned();
        let _ = color::Color::parse(&text);
    }
}

#[test]
fn decoders_never_panic_on_damaged_files() {
    let (w, h) = (24u32, 16u32);
    let rgba: Vec<u8> = (0..w * h).flat_map(|i| [(i * 9) as u8, (i * 3) as u8, 200, (i * 5) as u8]).collect();
    let img = Image::from_rgba8(w, h, rgba).unwrap();
    let opaque = Image::from_rgb8(w, h, img.to_rgb8().into_owned()).unwrap();
    let mut seeds: Vec<Vec<u8>> = OutputFormat::ALL
        .iter()
        .map(|&f| codec::encode(if f == OutputFormat::Jpeg { &opaque } else { &img }, &EncodeOptions::new(f)).unwrap())
        .collect();
    let mut baseline = EncodeOptions::new(OutputFormat::Jpeg);
    baseline.progressive = false;
    seeds.push(codec::encode(&opaque, &baseline).unwrap());
    // Damaged headers may claim any size: a small limit keeps each attempt cheap,
    // and the limit itself is what is being tested.
    let opts = DecodeOptions { max_pixels: 1 << 20, ..DecodeOptions::default() };
    let mut rng = Rng(7);
    let mut decoded = 0;
    for i in 0..6_000 {
        let bytes = mutate(&mut rng, &seeds[i % seeds.len()]);
        if let Ok(d) = codec::decode(&bytes, &opts) {
            assert!(u64::from(d.image.width()) * u64::from(d.image.height()) <= 1 << 20);
            decoded += 1;
        }
        let _ = codec::probe(&bytes);
    }
    assert!(decoded > 0, "some mutations still decode");
}

#[test]
fn shipped_graphs_refuse_bad_parameter_values_without_panicking() {
    let graphs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../graphs");
    let photo = Arc::new(Image::from_rgb8(12, 8, vec![120; 12 * 8 * 3]).unwrap());
    let values =
        ["", "-1", "1e308", "-1e308", "NaN", "inf", "0x10", "#zzz", "rgb(", "true", "[]", "{}", "\u{0}", "9999999"];
    let mut rng = Rng(99);
    for (name, path) in crate::graph::file::list_dir(&graphs).unwrap() {
        let graph = crate::graph::file::load(&path).unwrap();
        let ports: Vec<String> = graph.inports.keys().filter(|k| *k != "input").cloned().collect();
        for _ in 0..20 {
            let mut params = Vec::new();
            for p in &ports {
                if rng.below(2) == 0 {
                    params.push((p.clone(), serde_json::json!(values[rng.below(values.len())])));
                }
            }
            let input = GraphInput { image: Some(photo.clone()), params };
            if let Err(e) = run_graph(&graph, Registry::builtin(), &input, &RunContext::default()) {
                assert!(!e.to_string().is_empty(), "{name}: an error says what is wrong");
            }
        }
    }
}
