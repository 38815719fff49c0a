//! `imgflo spec`: graph tests in the fbp-spec YAML format, run in-process on the
//! engine (default) or against a runtime at `--address`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use imgflo_protocol::spec::{self, InProcess, Style, WebSocketLink};
use imgflo_protocol::{Runtime, RuntimeInfo, RuntimeOptions};
use imgflo_runtime::Registry;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Suite files or directories (every .yaml / .yml inside).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// A runtime to test over the FBP protocol (e.g. ws://127.0.0.1:3569); without
    /// it the suites run in this process (local image files only).
    #[arg(long)]
    address: Option<String>,
    /// The runtime's secret.
    #[arg(long, env = "IMGFLO_RUNTIME_SECRET")]
    secret: Option<String>,
    /// Graphs offered as `graphs/<name>` components in-process.
    #[arg(long, env = "IMGFLO_GRAPHS_DIR", default_value = "graphs")]
    graphs_dir: PathBuf,
    /// Print TAP instead of the human-readable tree.
    #[arg(long)]
    tap: bool,
    /// Print how many cases the suites hold, and run nothing.
    #[arg(long)]
    count: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut suites = Vec::new();
    for p in &args.paths {
        suites.extend(spec::load_path(p)?);
    }
    if args.count {
        println!("{}", suites.iter().map(|s| s.case_count()).sum::<usize>());
        return Ok(ExitCode::SUCCESS);
    }
    let style = if args.tap { Style::Tap } else { Style::Human };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = rt.block_on(async {
        let mut out = std::io::stdout().lock();
        match &args.address {
            Some(address) => {
                let mut link = WebSocketLink::connect(address, args.secret.clone())
                    .await
                    .map_err(anyhow::Error::msg)
                    .context("cannot reach the runtime")?;
                Ok::<_, anyhow::Error>(spec::run_suites(&mut link, &suites, &mut out, style).await)
            }
            None => {
                let info = RuntimeInfo { id: "in-process".into(), label: "imgflo spec".into(), secret: None };
                let options = RuntimeOptions { inline_renders: true, ..RuntimeOptions::default() };
                let (loaded, problems) = super::runtime::load_graphs(&args.graphs_dir);
                let graphs: Vec<_> = loaded.into_iter().map(|(n, g, _)| (n, g)).collect();
                let (registry, more) = imgflo_runtime::eval::subgraph::with_graphs(Registry::builtin(), &graphs);
                for p in problems.iter().chain(&more) {
                    eprintln!("warning: {p}");
                }
                let runtime = Runtime::with_options(info, registry, options);
                let mut link = InProcess::new(runtime);
                Ok(spec::run_suites(&mut link, &suites, &mut out, style).await)
            }
        }
    })?;
    Ok(if report.failed() > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
