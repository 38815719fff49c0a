//! `imgflo process`: one graph run on a file, as a request would do it.

use anyhow::{bail, Context};
use imgflo_runtime::graph::file;
use imgflo_runtime::ops::RunContext;
use imgflo_runtime::pipeline::{self, InputLimits, Output, Request};
use imgflo_runtime::{Graph, Registry};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A graph file (.json or .fbp), or the name of a graph in --graphs-dir.
    graph: String,
    /// Input file: an image, an animated GIF/WebP or a video.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output file; the format comes from its extension (jpg, jpeg, png, webp, gif,
    /// mp4). Animations stay animated as gif/webp; video and animations become mp4.
    #[arg(long)]
    output: PathBuf,
    /// Set a graph parameter (repeatable): name=value.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Where graph names are looked up.
    #[arg(long, default_value = "graphs", env = "IMGFLO_GRAPHS_DIR")]
    graphs_dir: PathBuf,
    /// JPEG/WebP quality.
    #[arg(long, default_value_t = 90)]
    quality: u8,
}

pub fn resolve_graph(spec: &str, graphs_dir: &Path) -> anyhow::Result<Graph> {
    let direct = Path::new(spec);
    if file::is_graph_file(direct) && direct.exists() {
        return Ok(file::load(direct)?);
    }
    for ext in ["json", "fbp"] {
        let p = graphs_dir.join(format!("{spec}.{ext}"));
        if p.exists() {
            return Ok(file::load(&p)?);
        }
    }
    bail!("no graph {spec:?} (not a file, and not in {})", graphs_dir.display())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let graph = resolve_graph(&args.graph, &args.graphs_dir)?;
    let ext = args.output.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let params: Vec<(String, serde_json::Value)> = args
        .set
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').with_context(|| format!("--set {kv:?}: expected NAME=VALUE"))?;
            Ok((k.to_string(), serde_json::Value::String(v.to_string())))
        })
        .collect::<anyhow::Result<_>>()?;
    let input_bytes = match &args.input {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => None,
    };

    if graph.runtime_type() == Some("noop") {
        let bytes = input_bytes.context("the noop graph copies its input: give --input")?;
        imgflo_runtime::ops::io::write_atomic(&args.output, &bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(rt) = graph.runtime_type().filter(|t| !matches!(*t, "imgflo" | "noflo-browser" | "noflo-nodejs")) {
        bail!("graph runtime {rt:?} is not supported by this engine");
    }
    let output = Output::from_extension(&ext)
        .with_context(|| format!("unsupported output format {ext:?} (jpg, jpeg, png, webp, gif, mp4)"))?;
    let request = Request {
        graph: &graph,
        registry: Registry::builtin(),
        input: input_bytes.as_deref(),
        params: &params,
        output,
        quality: args.quality,
        limits: InputLimits::default(),
    };
    let bytes = pipeline::process(&request, &RunContext::default())?;
    imgflo_runtime::ops::io::write_atomic(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    Ok(ExitCode::SUCCESS)
}
