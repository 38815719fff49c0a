//! Source fetching: HTTP(S) GET of `input` URLs with SSRF protection, limits and timeouts, and safe resolution of
//! local `files/...` paths.
//!
//! The destination policy ([`is_forbidden`]) is enforced after DNS resolution by a custom resolver that only hands
//! allowed addresses to the connector (no gap between check and connect), on IP-literal hosts before sending, and on
//! every redirect hop (redirects are followed here, not by reqwest). No proxy is used, so the policy cannot be
//! bypassed through `HTTP_PROXY`.

mod ip;
mod path;
#[cfg(test)]
mod tests;

pub use ip::is_forbidden;
pub use path::{resolve_in_dir, PathError};

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{header, StatusCode, Url};

/// Limits and policy of a [`Fetcher`].
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Per-connection TCP connect timeout.
    pub connect_timeout: Duration,
    /// Deadline for the whole fetch: DNS, connects, every redirect hop and the body.
    pub total_timeout: Duration,
    /// Largest body accepted; the body is streamed and never buffered past this.
    pub max_bytes: u64,
    /// Most redirects followed before giving up.
    pub max_redirects: usize,
    /// Address ranges reachable despite [`is_forbidden`]'s rules (e.g. `10.0.0.0/8` for an internal image store).
    pub allow: Vec<IpNet>,
    /// `User-Agent` header sent with each request.
    pub user_agent: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(20),
            max_bytes: 50 * 1024 * 1024,
            max_redirects: 5,
            allow: Vec::new(),
            user_agent: concat!("imgflo-server/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Why a fetch failed. `url` is the URL of the hop that failed (the original URL for timeouts and redirect limits).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an http(s) URL, unparsable, with credentials, or without a host.
    #[error("bad source URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The destination host resolves only to addresses that are not allowed.
    #[error("source {url} points to an address that is not allowed")]
    Forbidden { url: String },
    /// The final response was not a 2xx.
    #[error("source {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    /// The body is larger than the configured maximum.
    #[error("source {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    /// Connect timeout or total deadline exceeded.
    #[error("timed out fetching {url}")]
    Timeout { url: String },
    /// More redirects than allowed.
    #[error("too many redirects fetching {url}")]
    TooManyRedirects { url: String },
    /// Connection, TLS or protocol failure.
    #[error("network error fetching {url}: {message}")]
    Network { url: String, message: String },
    /// The HTTP client could not be built (in [`Fetcher::new`]).
    #[error("cannot build the HTTP client: {message}")]
    Client { message: String },
}

/// Marker error returned by the resolver when every address of a name is forbidden; found again by walking the
/// error chain of the reqwest error.
#[derive(Debug)]
struct ForbiddenDestination;

impl std::fmt::Display for ForbiddenDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("destination address not allowed")
    }
}

impl std::error::Error for ForbiddenDestination {}

type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
/// Name → addresses. Tokio's `lookup_host` in production; a fixed table in tests.
type LookupFn = Arc<dyn Fn(String) -> LookupFuture + Send + Sync>;

fn system_lookup() -> LookupFn {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) })
    })
}

/// DNS resolver that drops forbidden addresses and fails when none is left.
struct GuardedResolver {
    allow: Arc<[IpNet]>,
    lookup: LookupFn,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let lookup = (self.lookup)(name.as_str().to_owned());
        Box::pin(async move {
            let ips = lookup.await?;
            if ips.is_empty() {
                return Err(io::Error::new(io::ErrorKind::NotFound, "name resolved to no address").into());
            }
            let ok: Vec<SocketAddr> =
                ips.into_iter().filter(|ip| !is_forbidden(*ip, &allow)).map(|ip| SocketAddr::new(ip, 0)).collect();
            if ok.is_empty() {
                return Err(Box::new(ForbiddenDestination) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(ok.into_iter()) as Addrs)
        })
    }
}

/// Install rustls' ring provider as the process default (once; another provider already installed is kept).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// HTTP(S) source fetcher. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    allow: Arc<[IpNet]>,
    total_timeout: Duration,
    max_bytes: u64,
    max_redirects: usize,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("allow", &self.allow)
            .field("total_timeout", &self.total_timeout)
            .field("max_bytes", &self.max_bytes)
            .field("max_redirects", &self.max_redirects)
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// Build a fetcher with the system resolver.
    pub fn new(cfg: FetchConfig) -> Result<Fetcher, FetchError> {
        Fetcher::with_lookup(cfg, system_lookup())
    }

    fn with_lookup(cfg: FetchConfig, lookup: LookupFn) -> Result<Fetcher, FetchError> {
        install_crypto_provider();
        let allow: Arc<[IpNet]> = cfg.allow.into();
        let client = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .user_agent(cfg.user_agent)
            .dns_resolver(Arc::new(GuardedResolver { allow: allow.clone(), lookup }))
            .build()
            .map_err(|e| FetchError::Client { message: error_chain(&e) })?;
        Ok(Fetcher {
            client,
            allow,
            total_timeout: cfg.total_timeout,
            max_bytes: cfg.max_bytes,
            max_redirects: cfg.max_redirects,
        })
    }

    /// GET an http(s) URL, following up to `max_redirects` redirects, and return the body of the final 2xx
    /// response (never more than `max_bytes`).
    pub async fn fetch(&self, url: &str) -> Result<Bytes, FetchError> {
        match tokio::time::timeout(self.total_timeout, self.fetch_inner(url)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout { url: url.to_owned() }),
        }
    }

    async fn fetch_inner(&self, raw: &str) -> Result<Bytes, FetchError> {
        let mut current = parse_url(raw)?;
        let mut redirects = 0;
        loop {
            self.check_target(&current)?;
            let response = self.client.get(current.clone()).send().await.map_err(|e| map_error(&current, &e))?;
            let status = response.status();
            if is_followed_redirect(status) {
                let Some(location) = response.headers().get(header::LOCATION) else {
                    return Err(FetchError::Status { url: current.to_string(), status: status.as_u16() });
                };
                if redirects >= self.max_redirects {
                    return Err(FetchError::TooManyRedirects { url: raw.to_owned() });
                }
                redirects += 1;
                current = redirect_target(&current, location)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status { url: current.to_string(), status: status.as_u16() });
            }
            return self.read_body(&current, response).await;
        }
    }

    /// Refuse IP-literal hosts that the policy forbids (reqwest skips the resolver for them).
    fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        // The URL parser normalises IPv4 forms (`0x7f.1`, `2130706433`) to dotted quads and IPv6 to `[...]`.
        let host = url.host_str().unwrap_or("");
        let ip: Option<IpAddr> = host.trim_start_matches('[').trim_end_matches(']').parse().ok();
        match ip {
            Some(ip) if is_forbidden(ip, &self.allow) => Err(FetchError::Forbidden { url: url.to_string() }),
            _ => Ok(()),
        }
    }

    async fn read_body(&self, url: &Url, mut response: reqwest::Response) -> Result<Bytes, FetchError> {
        let too_large = || FetchError::TooLarge { url: url.to_string(), limit: self.max_bytes };
        let declared = response.content_length();
        if declared.is_some_and(|len| len > self.max_bytes) {
            return Err(too_large());
        }
        // Pre-allocate from Content-Length, but not blindly: at most 1 MiB up front.
        let initial = declared.unwrap_or(0).min(self.max_bytes).min(1 << 20);
        let mut body = BytesMut::with_capacity(usize::try_from(initial).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| map_error(url, &e))? {
            if body.len() as u64 + chunk.len() as u64 > self.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Parse and validate a source URL: http(s), no credentials, non-empty host.
fn parse_url(raw: &str) -> Result<Url, FetchError> {
    let bad = |reason: &str| FetchError::BadUrl { url: raw.to_owned(), reason: reason.to_owned() };
    let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    validate_url(url).map_err(bad)
}

fn validate_url(url: Url) -> Result<Url, &'static str> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs can be fetched");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in URLs are not allowed");
    }
    match url.host_str() {
        None | Some("") => Err("missing host"),
        Some(_) => Ok(url),
    }
}

/// Resolve a `Location` header against the URL it came from and validate the result.
fn redirect_target(from: &Url, location: &header::HeaderValue) -> Result<Url, FetchError> {
    let loc = String::from_utf8_lossy(location.as_bytes()).into_owned();
    let bad = |reason: String| FetchError::BadUrl { url: loc.clone(), reason };
    let Ok(text) = location.to_str() else {
        return Err(bad("redirect Location is not ASCII".to_owned()));
    };
    let next = from.join(text).map_err(|e| bad(format!("bad redirect Location: {e}")))?;
    validate_url(next).map_err(|reason| bad(format!("redirect refused: {reason}")))
}

/// Classify a reqwest error: forbidden destination (from the resolver), timeout, or network failure.
fn map_error(url: &Url, err: &reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<ForbiddenDestination>() {
            return FetchError::Forbidden { url: url.to_string() };
        }
        source = e.source();
    }
    if err.is_timeout() {
        return FetchError::Timeout { url: url.to_string() };
    }
    FetchError::Network { url: url.to_string(), message: error_chain(err) }
}

/// `err: source: source...`, without reqwest's own "for url (...)" prefix when it has causes.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut source = err.source();
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// A [`Fetcher`] for the engine's loaders ([`imgflo_runtime::ops::Fetch`]), which run
/// on blocking threads: each fetch runs on the given tokio runtime and is waited for.
#[derive(Debug)]
pub struct BlockingFetch {
    fetcher: Fetcher,
    handle: tokio::runtime::Handle,
}

impl BlockingFetch {
    pub fn new(fetcher: Fetcher, handle: tokio::runtime::Handle) -> BlockingFetch {
        BlockingFetch { fetcher, handle }
    }
}

impl imgflo_runtime::ops::Fetch for BlockingFetch {
    fn fetch(&self, uri: &str) -> Result<Vec<u8>, String> {
        self.handle.block_on(self.fetcher.fetch(uri)).map(|b| b.to_vec()).map_err(|e| e.to_string())
    }
}
