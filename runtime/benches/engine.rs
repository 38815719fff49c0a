//! Engine benchmarks: codecs, resize, blur, and six whole requests done in-process.
//!
//! A small timing harness (no criterion): each benchmark runs a few warm-up times,
//! then `IMGFLO_BENCH_ITERS` (default 15) timed iterations on one thread, and
//! reports the median, p90 and minimum in milliseconds. The six "request"
//! benchmarks do what a server request does (bytes in → probe → decode with
//! shrink-on-load → `run_graph` → `encode` → bytes) and also report the median time
//! of each of those stages.
//!
//! ```text
//! cargo bench --bench engine                          # everything
//! cargo bench --bench engine -- request/              # only names containing "request/"
//! cargo bench --bench engine -- --json out.json       # also write {op: median_ms} for the six requests
//! IMGFLO_BENCH_ITERS=30 cargo bench --bench engine    # more iterations
//! ```
//!
//! The images are read from `../shared/fixtures/bench` beside the workspace root
//! (`IMGFLO_BENCH_FIXTURES` overrides it); without them the benchmarks are skipped.
//! Run without `--bench` (as `cargo test --benches` does), each benchmark runs once as
//! a smoke test.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imgflo_runtime::codec::{self, DecodeOptions, EncodeOptions, OutputFormat, PngCompression};
use imgflo_runtime::eval::{run_graph, GraphInput};
use imgflo_runtime::graph::{ExportedPort, PortRef};
use imgflo_runtime::ops::{blur, resize, RunContext};
use imgflo_runtime::{Graph, Image, Registry};
use serde_json::Value as Json;

const DEFAULT_ITERS: usize = 15;
const DEFAULT_WARMUP: usize = 2;

/// Command line: `[--bench] [--json FILE] [FILTER]`.
struct Config {
    /// Run as a benchmark (cargo bench passes `--bench`); otherwise once each.
    bench: bool,
    json: Option<PathBuf>,
    filter: Option<String>,
    iters: usize,
    warmup: usize,
}

impl Config {
    fn from_args() -> Result<Config, String> {
        let env_count = |name: &str, default: usize| -> Result<usize, String> {
            match std::env::var(name) {
                Ok(v) => v.trim().parse().map_err(|_| format!("{name}={v:?}: expected a whole number")),
                Err(_) => Ok(default),
            }
        };
        let mut cfg = Config {
            bench: false,
            json: None,
            filter: None,
            iters: env_count("IMGFLO_BENCH_ITERS", DEFAULT_ITERS)?.max(1),
            warmup: env_count("IMGFLO_BENCH_WARMUP", DEFAULT_WARMUP)?,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => cfg.bench = true,
                "--json" => cfg.json = Some(args.next().ok_or("--json needs a file name")?.into()),
                // Flags the test harness convention passes; nothing to do for them.
                "--nocapture" | "--quiet" | "-q" | "--exact" => {}
                s if s.starts_with('-') => return Err(format!("unknown option {s:?}")),
                s => cfg.filter = Some(s.to_string()),
            }
        }
        if !cfg.bench {
            cfg.iters = 1;
            cfg.warmup = 0;
        }
        Ok(cfg)
    }
}

/// Stage boundaries inside one iteration.
struct Laps {
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Laps {
    fn new() -> Laps {
        Laps { last: Instant::now(), laps: Vec::new() }
    }
    /// Ends the stage `name` here.
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median (mean of the middle two for an even count) of sorted values.
fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

struct Runner {
    cfg: Config,
    /// Median ms of the request benchmarks, by op name, in run order.
    requests: serde_json::Map<String, Json>,
    ran: usize,
}

impl Runner {
    fn selected(&self, name: &str) -> bool {
        self.cfg.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    /// Whether any of `names` will run (to skip the setup of a group).
    fn any_selected(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.selected(n))
    }

    /// Times `f`; its laps, if it records any, are reported as stage medians.
    fn bench(&mut self, name: &str, mut f: impl FnMut(&mut Laps)) -> Option<f64> {
        if !self.selected(name) {
            return None;
        }
        for _ in 0..self.cfg.warmup {
            f(&mut Laps::new());
        }
        let mut totals = Vec::with_capacity(self.cfg.iters);
        let mut stages: Vec<(&'static str, Vec<f64>)> = Vec::new();
        for _ in 0..self.cfg.iters {
            let start = Instant::now();
            let mut laps = Laps { last: start, laps: Vec::new() };
            f(&mut laps);
            totals.push(ms(start.elapsed()));
            for (i, (stage, d)) in laps.laps.into_iter().enumerate() {
                match stages.get_mut(i) {
                    Some((_, v)) => v.push(ms(d)),
                    None => stages.push((stage, vec![ms(d)])),
                }
            }
        }
        let totals = sorted(totals);
        let med = median(&totals);
        let mut line = format!(
            "{name:<52} median {med:>9.2} ms   p90 {:>9.2} ms   min {:>9.2} ms",
            percentile(&totals, 90.0),
            totals[0]
        );
        if !stages.is_empty() {
            let parts: Vec<String> =
                stages.into_iter().map(|(stage, v)| format!("{stage} {:.2}", median(&sorted(v)))).collect();
            line.push_str(&format!("   [{}]", parts.join(" | ")));
        }
        println!("{line}");
        self.ran += 1;
        Some(med)
    }
}

fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IMGFLO_BENCH_FIXTURES") {
        return dir.into();
    }
    // runtime/ → workspace root → its sibling shared/.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/bench");
    dir.canonicalize().unwrap_or(dir)
}

// ---- graphs, built as a graph file would describe them ----

fn export(graph: &mut Graph, inport: bool, public: &str, node: &str, port: &str) {
    let p = ExportedPort { node: node.into(), port: port.into(), metadata: Default::default() };
    if inport {
        graph.inports.insert(public.into(), p);
    } else {
        graph.outports.insert(public.into(), p);
    }
}

/// One node of `component` between the `input` and `output` ports, with `params`
/// exported as (public name, node port) and constant `iips` (port, value).
fn one_node_graph(component: &str, params: &[(&str, &str)], iips: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    g.add_node("op", component);
    export(&mut g, true, "input", "op", "input");
    export(&mut g, false, "output", "op", "output");
    for (public, port) in params {
        export(&mut g, true, public, "op", port);
    }
    for (port, value) in iips {
        g.add_iip(Json::String(value.to_string()), PortRef::new("op", *port), Default::default());
    }
    g
}

/// `passthrough`: nop → nop; with `width`/`height` it only resizes.
fn passthrough_graph() -> Graph {
    let mut g = Graph::new();
    g.add_node("in", "gegl/nop");
    g.add_node("out", "gegl/nop");
    g.add_edge(PortRef::new("in", "output"), PortRef::new("out", "input"), Default::default());
    export(&mut g, true, "input", "in", "input");
    export(&mut g, false, "output", "out", "output");
    g
}

/// One of the six requests compared with sharp and the vips CLI.
struct Request {
    /// Key in the JSON output (shared with bench/sharp/bench.mjs and bench/run.sh).
    key: &'static str,
    file: &'static str,
    graph: Graph,
    /// Request parameters, as strings (as a URL query gives them).
    params: Vec<(String, Json)>,
    format: OutputFormat,
    quality: u8,
    expect: (u32, u32),
}

fn params(kv: &[(&str, &str)]) -> Vec<(String, Json)> {
    kv.iter().map(|(k, v)| (k.to_string(), Json::String(v.to_string()))).collect()
}

fn requests() -> Vec<Request> {
    let req = |key, file, graph, kv: &[(&str, &str)], format, expect| Request {
        key,
        file,
        graph,
        params: params(kv),
        format,
        quality: 80,
        expect,
    };
    vec![
        req("resize-large-jpg", "large.jpg", passthrough_graph(), &[("width", "800")], OutputFormat::Jpeg, (800, 600)),
        req(
            "resize-medium-jpg",
            "medium.jpg",
            passthrough_graph(),
            &[("width", "800")],
            OutputFormat::Jpeg,
            (800, 450),
        ),
        req(
            "blur-medium-png",
            "medium.jpg",
            one_node_graph("gegl/gaussian-blur", &[("std-dev-x", "std-dev-x"), ("std-dev-y", "std-dev-y")], &[]),
            &[("std-dev-x", "10"), ("std-dev-y", "10")],
            OutputFormat::Png,
            (1920, 1080),
        ),
        req(
            "crop-large-png",
            "large.jpg",
            // `width`/`height` are the server's resize parameters: the crop size is
            // exported under other names, as the original crop.fbp does.
            one_node_graph(
                "gegl/crop",
                &[("x", "x"), ("y", "y"), ("cropwidth", "width"), ("cropheight", "height")],
                &[],
            ),
            &[("x", "100"), ("y", "100"), ("cropwidth", "500"), ("cropheight", "500")],
            OutputFormat::Png,
            (500, 500),
        ),
        req(
            "grey-medium-jpg",
            "medium.jpg",
            one_node_graph("gegl/gray", &[], &[]),
            &[],
            OutputFormat::Jpeg,
            (1920, 1080),
        ),
        req(
            "fill300-medium-png",
            "medium.png",
            one_node_graph("imgflo/resize", &[], &[("width", "300"), ("height", "300"), ("fit", "fill")]),
            &[],
            OutputFormat::Png,
            (300, 300),
        ),
    ]
}

/// What a server does with one request: bytes in, encoded bytes out.
fn serve(bytes: &[u8], r: &Request, laps: &mut Laps) -> Vec<u8> {
    let probe = codec::probe(bytes).expect("probe");
    let size = |name: &str| {
        r.params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_str()?.trim().parse::<f64>().ok())
            .unwrap_or(-1.0)
    };
    let target = resize::keepaspect_size((probe.width, probe.height), size("width"), size("height"));
    let decoded = codec::decode(bytes, &DecodeOptions { target, ..DecodeOptions::default() }).expect("decode");
    laps.lap("decode");
    let input = GraphInput { image: Some(Arc::new(decoded.image)), params: r.params.clone() };
    let out = run_graph(&r.graph, Registry::builtin(), &input, &RunContext::default()).expect("run_graph");
    laps.lap("graph");
    let mut opts = EncodeOptions::new(r.format);
    opts.quality = r.quality;
    let encoded = codec::encode(&out.image, &opts).expect("encode");
    laps.lap("encode");
    encoded
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn decode(bytes: &[u8], target: Option<(u32, u32)>) -> Image {
    codec::decode(bytes, &DecodeOptions { target, ..DecodeOptions::default() }).expect("decode").image
}

fn encode(img: &Image, format: OutputFormat, f: impl FnOnce(&mut EncodeOptions)) -> Vec<u8> {
    let mut opts = EncodeOptions::new(format);
    opts.quality = 80;
    f(&mut opts);
    codec::encode(img, &opts).expect("encode")
}

fn main() -> ExitCode {
    let cfg = match Config::from_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("engine bench: {e}");
            return ExitCode::from(2);
        }
    };
    let dir = fixtures_dir();
    if !dir.join("large.jpg").is_file() {
        println!("engine bench: fixtures not found at {}; benchmarks skipped", dir.display());
        return ExitCode::SUCCESS;
    }
    let mode = if cfg.bench {
        format!("{} warm-up + {} timed iterations each, one thread", cfg.warmup, cfg.iters)
    } else {
        "test mode: each benchmark once (pass --bench to measure)".to_string()
    };
    println!("engine bench ({mode}); fixtures {}", dir.display());
    let mut run = Runner { cfg, requests: Default::default(), ran: 0 };

    let medium_jpg = read(&dir, "medium.jpg");
    let large_jpg = read(&dir, "large.jpg");
    let medium_png = read(&dir, "medium.png");
    let ctx = RunContext::default();

    // ---- decode ----
    run.bench("decode/medium.jpg 1920x1080", |_| {
        black_box(decode(&medium_jpg, None));
    });
    run.bench("decode/large.jpg 4224x3168", |_| {
        black_box(decode(&large_jpg, None));
    });
    run.bench("decode/large.jpg at 1/4 (shrink-on-load, 1056x792)", |_| {
        black_box(decode(&large_jpg, Some((800, 600))));
    });
    run.bench("decode/medium.png 1920x1080", |_| {
        black_box(decode(&medium_png, None));
    });

    // ---- resize ----
    let linear = resize::sampler_alg("linear");
    run.bench("resize/large.jpg->800 with shrink-on-load", |laps| {
        let img = decode(&large_jpg, Some((800, 600)));
        laps.lap("decode");
        black_box(resize::resize(&img, 800, 600, linear, &ctx).expect("resize"));
        laps.lap("resize");
    });
    run.bench("resize/large.jpg->800 without shrink-on-load", |laps| {
        let img = decode(&large_jpg, None);
        laps.lap("decode");
        black_box(resize::resize(&img, 800, 600, linear, &ctx).expect("resize"));
        laps.lap("resize");
    });
    let names = [
        "resize/pixels 4224x3168->800x600 linear",
        "resize/pixels 1056x792->800x600 linear",
        "resize/pixels 1920x1080->300x300 lanczos3",
    ];
    if run.any_selected(&names) {
        let large = decode(&large_jpg, None);
        let quarter = decode(&large_jpg, Some((800, 600)));
        let medium = decode(&medium_png, None);
        run.bench(names[0], |_| {
            black_box(resize::resize(&large, 800, 600, linear, &ctx).expect("resize"));
        });
        run.bench(names[1], |_| {
            black_box(resize::resize(&quarter, 800, 600, linear, &ctx).expect("resize"));
        });
        run.bench(names[2], |_| {
            black_box(resize::resize(&medium, 300, 300, resize::sampler_alg("lanczos3"), &ctx).expect("resize"));
        });
    }

    // ---- blur (σ 10 on medium) ----
    let names = [
        "blur/medium sigma 10 (the gegl/gaussian-blur node)",
        "blur/medium 8-bit -> linear f32 (to_linear_rgba)",
        "blur/medium sigma 10 kernel only (IIR, f32 RGBA)",
        "blur/medium linear f32 -> 8-bit sRGB (to_srgb8_auto)",
    ];
    if run.any_selected(&names) {
        let medium = Arc::new(decode(&medium_jpg, None));
        let graph =
            one_node_graph("gegl/gaussian-blur", &[("std-dev-x", "std-dev-x"), ("std-dev-y", "std-dev-y")], &[]);
        let input =
            GraphInput { image: Some(medium.clone()), params: params(&[("std-dev-x", "10"), ("std-dev-y", "10")]) };
        run.bench(names[0], |_| {
            black_box(run_graph(&graph, Registry::builtin(), &input, &ctx).expect("run_graph"));
        });
        run.bench(names[1], |_| {
            black_box(medium.to_linear_rgba());
        });
        let mut premul = medium.to_linear_rgba().into_owned();
        blur::premultiply(&mut premul);
        let (w, h) = medium.dimensions();
        run.bench(names[2], |_| {
            black_box(
                blur::gaussian_blur_premultiplied(&premul, w, h, 10.0, 10.0, blur::Abyss::Clamp, &ctx).expect("blur"),
            );
        });
        let float = Image::from_rgba_f32(w, h, premul.clone()).expect("image");
        run.bench(names[3], |_| {
            black_box(float.to_srgb8_auto());
        });
    }

    // ---- encode ----
    let names = [
        "encode/jpeg q80 800x600 progressive (server default)",
        "encode/jpeg q80 800x600 baseline",
        "encode/jpeg q80 1920x1080 progressive",
        "encode/png medium 1920x1080 (Fast, server default)",
        "encode/png medium 1920x1080 (Default compression)",
    ];
    if run.any_selected(&names) {
        let small = decode(&large_jpg, Some((800, 600)));
        let small = resize::resize(&small, 800, 600, linear, &ctx).expect("resize");
        let medium = decode(&medium_png, None);
        run.bench(names[0], |_| {
            black_box(encode(&small, OutputFormat::Jpeg, |_| {}));
        });
        run.bench(names[1], |_| {
            black_box(encode(&small, OutputFormat::Jpeg, |o| o.progressive = false));
        });
        run.bench(names[2], |_| {
            black_box(encode(&medium, OutputFormat::Jpeg, |_| {}));
        });
        run.bench(names[3], |_| {
            black_box(encode(&medium, OutputFormat::Png, |_| {}));
        });
        run.bench(names[4], |_| {
            black_box(encode(&medium, OutputFormat::Png, |o| o.png_compression = PngCompression::Default));
        });
    }

    // ---- the six requests, end to end ----
    for r in requests() {
        let name = format!("request/{}", r.key);
        if !run.selected(&name) {
            continue;
        }
        let bytes = read(&dir, r.file);
        // Check the result once before timing it.
        let out = serve(&bytes, &r, &mut Laps::new());
        let got = decode(&out, None).dimensions();
        assert_eq!(got, r.expect, "{name}: wrong output size");
        let label = format!("{name} ({} bytes out)", out.len());
        if let Some(med) = run.bench(&label, |laps| {
            black_box(serve(&bytes, &r, laps));
        }) {
            run.requests.insert(r.key.to_string(), serde_json::json!((med * 1000.0).round() / 1000.0));
        }
    }

    if run.ran == 0 {
        eprintln!("engine bench: no benchmark matches {:?}", run.cfg.filter.as_deref().unwrap_or(""));
    }
    if let Some(path) = &run.cfg.json {
        let text = serde_json::to_string_pretty(&Json::Object(run.requests.clone())).expect("json");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("engine bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
