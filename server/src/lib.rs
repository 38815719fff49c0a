//! imgflo's HTTP URL API: processing URLs (plain and signed), the disk result cache,
//! graph listing, example files, the debug UI, health and metrics.
//!
//! Built on the engine (`imgflo-runtime`); image work runs on bounded worker lanes
//! off the async executor. See ARCHITECTURE.md.

pub mod apps;
pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod fetch;
pub mod graphs;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod process;
pub mod request;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use imgflo_runtime::Registry;
use tokio::net::TcpListener;
use tracing::Instrument;

pub use config::Config;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot open the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Apps(#[from] apps::AppError),
    #[error(transparent)]
    Fetch(#[from] fetch::FetchError),
}

/// Everything a request needs, shared.
pub struct State {
    pub cfg: Config,
    pub registry: &'static Registry,
    pub graphs: graphs::GraphStore,
    pub cache: cache::DiskCache,
    pub auth: auth::Authenticator,
    pub fetcher: fetch::Fetcher,
    pub urgent: jobs::Lane,
    pub background: jobs::Lane,
    pub video: jobs::Lane,
    pub flights: jobs::Flights,
    pub metrics: metrics::Metrics,
    pub local_port: u16,
}

/// A server bound to its port, not yet serving.
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
}

impl Server {
    /// Opens the data directory, database, cache and graphs, and binds the port.
    pub async fn bind(cfg: Config) -> Result<Server, ServerError> {
        let data_err = |source| ServerError::DataDir { path: cfg.data_dir.display().to_string(), source };
        std::fs::create_dir_all(&cfg.data_dir).map_err(data_err)?;
        let db = apps::database_path(&cfg.data_dir, cfg.database_url.as_deref())?;
        let store = apps::AppStore::open(&db)?;
        let auth = auth::Authenticator::new(store, cfg.env_apps.clone());
        if !auth.enabled().unwrap_or(true) {
            tracing::warn!("no API keys configured: authentication is off and anyone may process images");
        }
        let cache = cache::DiskCache::open(&cfg.data_dir.join("cache"), cfg.cache_max_bytes).map_err(data_err)?;
        let fetcher = fetch::Fetcher::new(cfg.fetch.clone())?;
        let graphs = graphs::GraphStore::open(&cfg.graphs_dir);
        let addr = SocketAddr::new(cfg.host, cfg.port);
        let listener = TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })?;
        let local_port = listener.local_addr().map(|a| a.port()).unwrap_or(cfg.port);
        let state = State {
            registry: Registry::builtin(),
            graphs,
            cache,
            auth,
            fetcher,
            urgent: jobs::Lane::new("urgent", cfg.workers, cfg.queue_capacity),
            background: jobs::Lane::new("background", cfg.background_workers, cfg.background_queue),
            video: jobs::Lane::new("video", cfg.video_workers, cfg.video_queue),
            flights: jobs::Flights::default(),
            metrics: metrics::Metrics::default(),
            local_port,
            cfg,
        };
        Ok(Server { listener, state: Arc::new(state) })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, lets open requests
    /// finish and waits for running jobs.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server { listener, state } = self;
        let watcher = state.graphs.watch(state.cfg.graph_poll);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        let id = uuid::Uuid::new_v4();
                        let span = tracing::info_span!("request", %id, method = %req.method(), path = %req.uri().path(), %peer);
                        async move {
                            let started = Instant::now();
                            let handled = http::handle(state.clone(), req).await;
                            http::log(handled.route, handled.response.status().as_u16(), handled.cache, started, &state.metrics);
                            let mut response = handled.response;
                            if let Ok(v) = hyper::header::HeaderValue::from_str(&id.to_string()) {
                                response.headers_mut().insert("x-request-id", v);
                            }
                            if let Some(outcome) = handled.cache {
                                response.headers_mut().insert("x-imgflo-cache", hyper::header::HeaderValue::from_static(outcome));
                            }
                            Ok::<_, std::convert::Infallible>(response)
                        }
                        .instrument(span)
                    });
                    let conn = http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(std::time::Duration::from_secs(20))
                        .serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                _ = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: finishing open requests");
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(state.cfg.job_deadline.max(state.cfg.video_deadline) + std::time::Duration::from_secs(5)) => {
                tracing::warn!("open requests did not finish in time");
            }
        }
        state.urgent.drain(state.cfg.workers).await;
        state.background.drain(state.cfg.background_workers).await;
        state.video.drain(state.cfg.video_workers).await;
        watcher.abort();
        Ok(())
    }
}
