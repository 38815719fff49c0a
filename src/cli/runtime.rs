//! `imgflo runtime`: the live FBP runtime (fbp-protocol over WebSocket, previews
//! over HTTP on the same port) for Flowhub, fbp-test and fbp-spec. `imgflo serve`
//! starts the same runtime beside the HTTP server through [`start`].
//!
//! Nothing is written on stderr before the "listening" line on stdout (fbp-spec
//! aborts on early stderr output; fbp-test waits for the first stdout chunk).

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use imgflo_protocol::{Runtime, RuntimeInfo, RuntimeOptions, ServerConfig};
use imgflo_runtime::eval::subgraph::with_graphs;
use imgflo_runtime::graph::file;
use imgflo_runtime::Registry;
use imgflo_server::fetch::{BlockingFetch, FetchConfig, Fetcher};
use tokio::net::TcpListener;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on. Anything but loopback needs --secret.
    #[arg(long, env = "IMGFLO_RUNTIME_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, env = "IMGFLO_RUNTIME_PORT", default_value_t = 3569)]
    port: u16,
    /// Secret clients must present to do more than ask what the runtime is.
    #[arg(long, env = "IMGFLO_RUNTIME_SECRET")]
    secret: Option<String>,
    /// Graphs (.json / .fbp) loaded at start, by file name without extension; graphs
    /// edited in the runtime are saved here.
    #[arg(long, env = "IMGFLO_GRAPHS_DIR", default_value = "graphs")]
    graphs_dir: PathBuf,
    /// Where the runtime keeps its id (`runtime-id`).
    #[arg(long, env = "IMGFLO_DATA_DIR", default_value = "var")]
    data_dir: PathBuf,
    /// The main graph (one of the loaded graphs), reported to Flowhub.
    #[arg(long)]
    graph: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Options `imgflo runtime` and `imgflo serve` share.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Human-readable name shown in Flowhub.
    #[arg(long, env = "IMGFLO_RUNTIME_LABEL", default_value = "imgflo")]
    label: String,
    /// Public base URL of the runtime's previews (default: http://<listen address>).
    #[arg(long, env = "IMGFLO_RUNTIME_PUBLIC_URL")]
    public_url: Option<String>,
    /// Do not save edited graphs to the graphs directory.
    #[arg(long, env = "IMGFLO_RUNTIME_READ_ONLY")]
    read_only: bool,
    /// Flowhub (or noflo-ui) address used in the printed live-mode URL.
    #[arg(long, env = "IMGFLO_IDE", default_value = "http://app.flowhub.io")]
    ide: String,
}

/// Everything needed to start a runtime.
pub struct Setup {
    pub addr: SocketAddr,
    pub secret: Option<String>,
    pub graphs_dir: PathBuf,
    pub data_dir: PathBuf,
    pub main_graph: Option<String>,
    pub common: Common,
    /// Address ranges images may be fetched from despite the SSRF rules.
    pub fetch: FetchConfig,
    pub max_pixels: u64,
}

/// A runtime bound to its port, not yet serving.
pub struct Bound {
    pub listener: TcpListener,
    pub runtime: Arc<Runtime>,
    pub addr: SocketAddr,
    /// The Flowhub live-mode URL.
    pub live_url: String,
    /// Graph files that could not be loaded (reported once listening).
    pub problems: Vec<String>,
}

/// Loads the graphs and binds the port. Must run inside the tokio runtime.
pub async fn start(setup: Setup) -> anyhow::Result<Bound> {
    let secret = setup.secret.filter(|s| !s.is_empty());
    if !setup.addr.ip().is_loopback() && secret.is_none() {
        anyhow::bail!(
            "refusing to listen on {} without a secret (only loopback addresses may go without)",
            setup.addr.ip()
        );
    }
    let id = imgflo_protocol::runtime_id(&setup.data_dir)
        .with_context(|| format!("cannot keep the runtime id in {}", setup.data_dir.display()))?;
    let fetcher = Fetcher::new(setup.fetch).context("cannot set up the image fetcher")?;
    let options = RuntimeOptions {
        base_url: setup.common.public_url.clone(),
        fetch: Some(Arc::new(BlockingFetch::new(fetcher, tokio::runtime::Handle::current()))),
        persist_dir: (!setup.common.read_only).then(|| setup.graphs_dir.clone()),
        max_pixels: setup.max_pixels,
        ..RuntimeOptions::default()
    };
    let (loaded, mut problems) = load_graphs(&setup.graphs_dir);
    let graphs: Vec<(String, imgflo_runtime::Graph)> = loaded.iter().map(|(n, g, _)| (n.clone(), g.clone())).collect();
    let (registry, subgraph_problems) = with_graphs(Registry::builtin(), &graphs);
    problems.extend(subgraph_problems);
    let info = RuntimeInfo { id: id.clone(), label: setup.common.label.clone(), secret: secret.clone() };
    let runtime = Runtime::with_options(info, registry, options);
    for (name, g, path) in loaded {
        runtime.insert_graph_from(&name, g, path);
    }
    if let Some(main) = &setup.main_graph {
        anyhow::ensure!(runtime.graph(main).is_some(), "no graph {main:?} in {}", setup.graphs_dir.display());
        runtime.set_main_graph(Some(main.clone()));
    }
    let listener = TcpListener::bind(setup.addr).await.with_context(|| format!("cannot listen on {}", setup.addr))?;
    let addr = listener.local_addr()?;
    let live_url = live_url(&setup.common.ide, addr, &id, secret.as_deref());
    Ok(Bound { listener, runtime, addr, live_url, problems })
}

/// The graphs of a directory (a missing directory has none), and what failed to load.
pub fn load_graphs(dir: &std::path::Path) -> (Vec<(String, imgflo_runtime::Graph, PathBuf)>, Vec<String>) {
    let mut graphs = Vec::new();
    let mut problems = Vec::new();
    match file::list_dir(dir) {
        Ok(files) => {
            for (name, path) in files {
                match file::load(&path) {
                    Ok(g) => graphs.push((name, g, path)),
                    Err(e) => problems.push(e.to_string()),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(format!("cannot read {}: {e}", dir.display())),
    }
    (graphs, problems)
}

/// Flowhub's live-mode URL for a runtime at `addr`.
pub fn live_url(ide: &str, addr: SocketAddr, id: &str, secret: Option<&str>) -> String {
    let mut params = format!("protocol=websocket&address=ws://{addr}&id={id}");
    if let Some(s) = secret {
        params.push_str("&secret=");
        params.push_str(s);
    }
    let encoded: String = form_urlencoded::byte_serialize(params.as_bytes()).collect();
    format!("{}#runtime/endpoint?{encoded}", ide.trim_end_matches('/'))
}

/// Serves a bound runtime until `shutdown`.
pub async fn serve(bound: Bound, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    for p in &bound.problems {
        tracing::warn!("graph not loaded: {p}");
    }
    tracing::info!(addr = %bound.addr, graphs = bound.runtime.graph_ids().len(), "runtime listening");
    let runtime = bound.runtime.clone();
    imgflo_protocol::serve(bound.listener, bound.runtime, ServerConfig::default(), shutdown).await?;
    imgflo_protocol::persist::save_all(&runtime);
    tracing::info!("runtime stopped");
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let setup = Setup {
            addr: SocketAddr::new(args.host, args.port),
            secret: args.secret,
            graphs_dir: args.graphs_dir,
            data_dir: args.data_dir,
            main_graph: args.graph,
            common: args.common,
            fetch: FetchConfig::default(),
            max_pixels: 100_000_000,
        };
        let bound = start(setup).await?;
        let shutdown = super::shutdown_signal();
        let mut out = std::io::stdout().lock();
        writeln!(out, "imgflo runtime listening on ws://{} (Flowhub: {})", bound.addr, bound.live_url)?;
        out.flush()?;
        drop(out);
        serve(bound, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}
