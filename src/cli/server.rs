//! `imgflo server` / `imgflo serve`: the HTTP URL API on its embedded defaults.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use imgflo_server::auth::Authenticator;
use imgflo_server::{Config, Server};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "IMGFLO_HOST", default_value = "0.0.0.0")]
    host: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Database (imgflo.db) and result cache (cache/) live here.
    #[arg(long, env = "IMGFLO_DATA_DIR", default_value = "var")]
    data_dir: PathBuf,
    /// Graphs served by name (.json / .fbp), reloaded on change.
    #[arg(long, env = "IMGFLO_GRAPHS_DIR", default_value = "graphs")]
    graphs_dir: PathBuf,
    /// Example inputs, served under /files/ and usable as `input=files/...`.
    #[arg(long, env = "IMGFLO_FILES_DIR", default_value = "ui/files")]
    files_dir: PathBuf,
    /// Static files of the testing/debug page.
    #[arg(long, env = "IMGFLO_UI_DIR", default_value = "ui")]
    ui_dir: PathBuf,
    /// Base of the Location URLs (default: http://<Host header>).
    #[arg(long, env = "IMGFLO_BASE_URL")]
    base_url: Option<String>,
    /// Address ranges inputs may be fetched from despite the SSRF rules (CIDR, comma-separated).
    #[arg(long, env = "IMGFLO_ALLOW_PRIVATE", value_delimiter = ',')]
    allow_private: Vec<ipnet::IpNet>,
    /// Requested width × height limit, in megapixels.
    #[arg(long, env = "IMGFLO_SIZE_LIMIT", default_value_t = 25.0)]
    size_limit: f64,
    /// Largest input image, in megapixels (checked before decoding).
    #[arg(long, env = "IMGFLO_MAX_INPUT_MP", default_value_t = 100.0)]
    max_input_megapixels: f64,
    /// Processing workers (default: one per core).
    #[arg(long, env = "IMGFLO_WORKERS")]
    workers: Option<usize>,
    /// Jobs that may wait for a worker before requests get 503.
    #[arg(long, env = "IMGFLO_QUEUE")]
    queue: Option<usize>,
    /// Longest a job may run, in seconds (fractions allowed, at least 1 ms).
    #[arg(long, env = "IMGFLO_DEADLINE", default_value_t = 30.0, value_parser = parse_seconds)]
    deadline: f64,
    /// Disk cache size cap, in megabytes (least recently used entries go first).
    #[arg(long, env = "IMGFLO_CACHE_MAX_MB", default_value_t = 2048)]
    cache_max_mb: u64,
    /// Largest input download, in megabytes.
    #[arg(long, env = "IMGFLO_MAX_DOWNLOAD_MB", default_value_t = 50)]
    max_download_mb: u64,
    /// How often the graphs directory is checked for changes, in milliseconds.
    #[arg(long, env = "IMGFLO_GRAPH_POLL_MS", default_value_t = 1000)]
    graph_poll_ms: u64,
    /// A SQLite database path instead of <data-dir>/imgflo.db.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

impl Args {
    fn config(self) -> Config {
        let mut cfg = Config {
            host: self.host,
            port: self.port,
            data_dir: self.data_dir,
            graphs_dir: self.graphs_dir,
            files_dir: self.files_dir,
            ui_dir: self.ui_dir,
            base_url: self.base_url,
            ..Config::default()
        };
        cfg.fetch.allow = self.allow_private;
        cfg.fetch.max_bytes = self.max_download_mb << 20;
        cfg.size_limit_megapixels = self.size_limit;
        cfg.max_input_pixels = (self.max_input_megapixels * 1e6) as u64;
        if let Some(w) = self.workers {
            cfg.workers = w.max(1);
            cfg.queue_capacity = 64 * cfg.workers;
        }
        if let Some(q) = self.queue {
            cfg.queue_capacity = q;
        }
        cfg.job_deadline = Duration::from_secs_f64(self.deadline);
        cfg.cache_max_bytes = self.cache_max_mb << 20;
        cfg.database_url = self.database_url;
        cfg.graph_poll = Duration::from_millis(self.graph_poll_ms.max(10));
        cfg.env_apps = Authenticator::env_apps(|k| std::env::var(k).ok());
        cfg
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = args.config();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let server = Server::bind(cfg).await.context("cannot start the server")?;
        let addr = server.local_addr();
        let shutdown = super::shutdown_signal();
        println!("imgflo server listening on http://{addr}");
        tracing::info!(%addr, "listening");
        server.serve(shutdown).await?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// `imgflo serve`: the HTTP server plus the live runtime.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    server: Args,
    /// Address the live runtime listens on. Anything but loopback needs --runtime-secret.
    #[arg(long, env = "IMGFLO_RUNTIME_HOST", default_value = "127.0.0.1")]
    runtime_host: IpAddr,
    /// Port of the live runtime (0: any free port).
    #[arg(long, env = "IMGFLO_RUNTIME_PORT", default_value_t = 3569)]
    runtime_port: u16,
    /// Secret Flowhub must present to the live runtime.
    #[arg(long, env = "IMGFLO_RUNTIME_SECRET")]
    runtime_secret: Option<String>,
    /// Serve HTTP only, without the live runtime.
    #[arg(long, env = "IMGFLO_NO_RUNTIME")]
    no_runtime: bool,
    #[command(flatten)]
    common: super::runtime::Common,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.no_runtime {
        return run(args.server);
    }
    let mut cfg = args.server.config();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let setup = super::runtime::Setup {
            addr: std::net::SocketAddr::new(args.runtime_host, args.runtime_port),
            secret: args.runtime_secret,
            graphs_dir: cfg.graphs_dir.clone(),
            data_dir: cfg.data_dir.clone(),
            main_graph: None,
            common: args.common,
            fetch: cfg.fetch.clone(),
            max_pixels: cfg.max_input_pixels,
        };
        let bound = super::runtime::start(setup).await?;
        cfg.runtime_info = Some(serde_json::json!({
            "running": true,
            "address": format!("ws://{}", bound.addr),
            "flowhub": bound.live_url,
        }));
        let server = Server::bind(cfg).await.context("cannot start the server")?;
        let addr = server.local_addr();
        let shutdown = super::shutdown_signal();
        println!("imgflo server listening on http://{addr}");
        println!("imgflo runtime listening on ws://{} (Flowhub: {})", bound.addr, bound.live_url);
        tracing::info!(%addr, runtime = %bound.addr, "listening");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let live = tokio::spawn(super::runtime::serve(bound, stopped(stop_rx.clone())));
        let signal = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        server.serve(signal).await?;
        live.await??;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// A duration in seconds: finite, from 1 ms to a day.
fn parse_seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if v.is_finite() && (0.001..=86_400.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s} is out of range (0.001 to 86400 seconds)"))
    }
}
