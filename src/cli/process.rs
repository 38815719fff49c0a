//! `imgflo process`: one graph run on a file, as a request would do it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use imgflo_runtime::codec::{self, DecodeOptions, EncodeOptions, OutputFormat};
use imgflo_runtime::eval::{decode_input, run_graph, GraphInput};
use imgflo_runtime::graph::file;
use imgflo_runtime::ops::RunContext;
use imgflo_runtime::{Graph, Registry};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A graph file (.json or .fbp), or the name of a graph in --graphs-dir.
    graph: String,
    /// Input image file.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output file; the format comes from its extension (jpg, jpeg, png, webp, gif).
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
    if let Some(rt) = graph.runtime_type().filter(|t| *t != "imgflo") {
        bail!("graph runtime {rt:?} is not supported by this engine yet");
    }
    let format = OutputFormat::from_extension(&ext)
        .with_context(|| format!("unsupported output format {ext:?} (jpg, jpeg, png, webp, gif)"))?;

    let image = match input_bytes {
        Some(bytes) => Some(Arc::new(decode_input(&bytes, &params, DecodeOptions::default().max_pixels)?)),
        None => None,
    };
    let input = GraphInput { image, params };
    let out = run_graph(&graph, Registry::builtin(), &input, &RunContext::default())?;
    let mut opts = EncodeOptions::new(format);
    opts.quality = args.quality;
    let bytes = codec::encode(&out.image, &opts)?;
    imgflo_runtime::ops::io::write_atomic(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    Ok(ExitCode::SUCCESS)
}
