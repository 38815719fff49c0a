//! `imgflo runtime`: the live FBP runtime (fbp-protocol over WebSocket) for Flowhub,
//! fbp-test and fbp-spec.
//!
//! Nothing is written on stderr before the "listening" line on stdout (fbp-spec
//! aborts on early stderr output; fbp-test waits for the first stdout chunk).

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use imgflo_protocol::{Runtime, RuntimeInfo, ServerConfig};
use imgflo_runtime::graph::file;
use imgflo_runtime::Registry;

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
    /// Graphs (.json / .fbp) loaded at start, by file name without extension.
    #[arg(long, env = "IMGFLO_GRAPHS_DIR", default_value = "graphs")]
    graphs_dir: PathBuf,
    /// Where the runtime keeps its id (`runtime-id`).
    #[arg(long, env = "IMGFLO_DATA_DIR", default_value = "var")]
    data_dir: PathBuf,
    /// The main graph (one of the loaded graphs), reported to Flowhub.
    #[arg(long)]
    graph: Option<String>,
    /// Human-readable name shown in Flowhub.
    #[arg(long, env = "IMGFLO_RUNTIME_LABEL", default_value = "imgflo")]
    label: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let secret = args.secret.filter(|s| !s.is_empty());
    if !args.host.is_loopback() && secret.is_none() {
        anyhow::bail!("refusing to listen on {} without --secret (only loopback addresses may go without)", args.host);
    }
    let id = imgflo_protocol::runtime_id(&args.data_dir)
        .with_context(|| format!("cannot keep the runtime id in {}", args.data_dir.display()))?;
    let runtime = Runtime::new(RuntimeInfo { id, label: args.label, secret }, Registry::builtin());

    // Problems with individual graphs are reported once listening (stderr stays quiet before).
    let mut problems = Vec::new();
    match file::list_dir(&args.graphs_dir) {
        Ok(files) => {
            for (name, path) in files {
                match file::load(&path) {
                    Ok(g) => runtime.insert_graph(&name, g),
                    Err(e) => problems.push(e.to_string()),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(format!("cannot read {}: {e}", args.graphs_dir.display())),
    }
    if let Some(main) = &args.graph {
        anyhow::ensure!(runtime.graph(main).is_some(), "no graph {main:?} in {}", args.graphs_dir.display());
        runtime.set_main_graph(Some(main.clone()));
    }

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let addr = SocketAddr::new(args.host, args.port);
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "imgflo runtime listening on ws://{addr}")?;
        out.flush()?;
        drop(out);
        for p in problems {
            tracing::warn!("graph not loaded: {p}");
        }
        tracing::info!(%addr, graphs = runtime.graph_ids().len(), "runtime listening");
        imgflo_protocol::serve(listener, runtime, ServerConfig::default(), shutdown_signal()).await?;
        tracing::info!("runtime stopped");
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
