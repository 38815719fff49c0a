//! Fetcher tests against tiny canned-response HTTP servers on loopback addresses.

use super::*;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the test server does for one request.
enum Reply {
    /// Write these bytes and close.
    Raw(Vec<u8>),
    /// Chunked 200 response of `count` chunks of `size` bytes, no Content-Length.
    Chunked { size: usize, count: usize },
    /// Write these bytes (headers), then hang.
    ThenStall(Vec<u8>),
    /// Never answer.
    Stall,
}

fn ok(body: &str) -> Reply {
    Reply::Raw(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).into())
}

fn redirect(status: u16, location: &str) -> Reply {
    Reply::Raw(
        format!("HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .into(),
    )
}

fn status(code: u16) -> Reply {
    Reply::Raw(format!("HTTP/1.1 {code} Whatever\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope").into())
}

type Handler = dyn Fn(&str, SocketAddr) -> Reply + Send + Sync;

/// A server on `ip:0`; returns its address and the number of connections it accepted.
async fn serve(
    ip: &str,
    handler: impl Fn(&str, SocketAddr) -> Reply + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).await.expect("bind test server");
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let handler: Arc<Handler> = Arc::new(handler);
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer(stream, addr, handler.clone()));
        }
    });
    (addr, hits)
}

async fn answer(mut stream: TcpStream, addr: SocketAddr, handler: Arc<Handler>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    match handler(&path, addr) {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
        }
        Reply::Chunked { size, count } => {
            if stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await.is_err() {
                return;
            }
            let mut piece = format!("{size:x}\r\n").into_bytes();
            piece.extend(std::iter::repeat_n(b'x', size));
            piece.extend_from_slice(b"\r\n");
            for _ in 0..count {
                if stream.write_all(&piece).await.is_err() {
                    return;
                }
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
        Reply::ThenStall(bytes) => {
            let _ = stream.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Reply::Stall => tokio::time::sleep(Duration::from_secs(60)).await,
    }
    let _ = stream.shutdown().await;
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

fn config(allow: &[&str]) -> FetchConfig {
    FetchConfig {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(10),
        allow: nets(allow),
        ..FetchConfig::default()
    }
}

fn fetcher(allow: &[&str]) -> Fetcher {
    Fetcher::new(config(allow)).unwrap()
}

/// A fetcher whose resolver answers from a fixed table (anything else: not found).
fn fetcher_with_names(cfg: FetchConfig, names: &[(&str, &[&str])]) -> Fetcher {
    let table: HashMap<String, Vec<IpAddr>> =
        names.iter().map(|(n, ips)| (n.to_string(), ips.iter().map(|ip| ip.parse().unwrap()).collect())).collect();
    let table = Arc::new(table);
    let lookup: LookupFn = Arc::new(move |host: String| {
        let found = table.get(&host).cloned();
        Box::pin(async move { found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown test name")) })
    });
    Fetcher::with_lookup(cfg, lookup).unwrap()
}

#[tokio::test]
async fn fetch_ok_when_allowed() {
    let (addr, _) = serve("127.0.0.1", |_, _| ok("hello")).await;
    let f = fetcher(&["127.0.0.0/8"]);
    assert_eq!(&f.fetch(&format!("http://{addr}/a.png")).await.unwrap()[..], b"hello");
    // Through the (system) resolver too.
    let port = addr.port();
    assert_eq!(&f.fetch(&format!("http://localhost:{port}/a.png")).await.unwrap()[..], b"hello");
}

#[tokio::test]
async fn loopback_refused_without_allow() {
    let (addr, hits) = serve("127.0.0.1", |_, _| ok("hello")).await;
    let port = addr.port();
    let f = fetcher(&[]);
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://0.0.0.0:{port}/"),
    ] {
        let err = f.fetch(&url).await.unwrap_err();
        assert!(matches!(err, FetchError::Forbidden { .. }), "{url}: {err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection may reach the server");
}

#[tokio::test]
async fn redirect_to_forbidden_literal_is_refused() {
    let (target, target_hits) = serve("127.0.0.2", |_, _| ok("internal")).await;
    let (addr, _) = serve("127.0.0.1", move |_, _| redirect(302, &format!("http://{target}/secret"))).await;
    let err = fetcher(&["127.0.0.1/32"]).fetch(&format!("http://{addr}/start")).await.unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err}");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0);
    // The same chain succeeds when the second hop is allowed (so the refusal above is the policy's doing).
    let body = fetcher(&["127.0.0.0/8"]).fetch(&format!("http://{addr}/start")).await.unwrap();
    assert_eq!(&body[..], b"internal");
}

#[tokio::test]
async fn redirect_to_forbidden_name_is_refused() {
    let (target, target_hits) = serve("127.0.0.2", |_, _| ok("internal")).await;
    let port = target.port();
    let (addr, _) = serve("127.0.0.1", move |_, _| redirect(301, &format!("http://internal.test:{port}/x"))).await;
    let names: &[(&str, &[&str])] = &[("internal.test", &["127.0.0.2"])];
    let f = fetcher_with_names(config(&["127.0.0.1/32"]), names);
    let err = f.fetch(&format!("http://{addr}/start")).await.unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err}");
    assert!(err.to_string().contains("internal.test"), "{err}");
    assert!(!err.to_string().contains("127.0.0.2"), "the resolved address must not leak: {err}");
    assert_eq!(target_hits.load(Ordering::SeqCst), 0);
    let f = fetcher_with_names(config(&["127.0.0.0/8"]), names);
    assert_eq!(&f.fetch(&format!("http://{addr}/start")).await.unwrap()[..], b"internal");
}

#[tokio::test]
async fn resolver_uses_only_allowed_addresses() {
    let (addr, _) = serve("127.0.0.1", |_, _| ok("fine")).await;
    let port = addr.port();
    let names: &[(&str, &[&str])] =
        &[("mixed.test", &["10.255.255.1", "192.168.0.1", "127.0.0.1"]), ("private.test", &["10.0.0.1", "fd00::1"])];
    let mut cfg = config(&["127.0.0.1/32"]);
    // If a forbidden address were tried first, the connect to it would eat this whole budget.
    cfg.total_timeout = Duration::from_secs(3);
    let f = fetcher_with_names(cfg, names);
    assert_eq!(&f.fetch(&format!("http://mixed.test:{port}/")).await.unwrap()[..], b"fine");
    let err = f.fetch(&format!("http://private.test:{port}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err}");
    assert!(!err.to_string().contains("10.0.0.1"), "{err}");
    let err = f.fetch(&format!("http://unknown.test:{port}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
}

#[tokio::test]
async fn follows_relative_redirects() {
    let (addr, _) = serve("127.0.0.1", |path, me| match path {
        "/a" => redirect(301, "/dir/b"),
        "/dir/b" => redirect(303, "c?x=1"),
        "/dir/c?x=1" => redirect(307, &format!("//{me}/d")),
        "/d" => redirect(308, "../e#frag"),
        "/e" => ok("done"),
        _ => status(404),
    })
    .await;
    let f = fetcher(&["127.0.0.0/8"]);
    assert_eq!(&f.fetch(&format!("http://{addr}/a")).await.unwrap()[..], b"done");
}

#[tokio::test]
async fn redirect_limit() {
    // /r/N redirects to /r/N+1 until N == 3, then answers.
    let (addr, _) = serve("127.0.0.1", |path, _| {
        let n: usize = path.trim_start_matches("/r/").parse().unwrap_or(0);
        if n >= 3 {
            ok("end")
        } else {
            redirect(302, &format!("/r/{}", n + 1))
        }
    })
    .await;
    let url = format!("http://{addr}/r/0");
    let mut cfg = config(&["127.0.0.0/8"]);
    cfg.max_redirects = 3;
    assert_eq!(&Fetcher::new(cfg.clone()).unwrap().fetch(&url).await.unwrap()[..], b"end");
    cfg.max_redirects = 2;
    let err = Fetcher::new(cfg.clone()).unwrap().fetch(&url).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { .. }), "{err}");
    // A loop is cut at the limit too.
    let (loop_addr, hits) = serve("127.0.0.1", |_, _| redirect(302, "/again")).await;
    let err = Fetcher::new(cfg).unwrap().fetch(&format!("http://{loop_addr}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { .. }), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn non_2xx_is_status() {
    let (addr, _) = serve("127.0.0.1", |path, _| match path {
        "/missing" => status(404),
        "/broken" => status(500),
        "/noloc" => Reply::Raw(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()),
        _ => ok("x"),
    })
    .await;
    let f = fetcher(&["127.0.0.0/8"]);
    for (path, code) in [("/missing", 404), ("/broken", 500), ("/noloc", 302)] {
        match f.fetch(&format!("http://{addr}{path}")).await {
            Err(FetchError::Status { status, .. }) => assert_eq!(status, code, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn body_over_limit_without_content_length() {
    let (addr, _) = serve("127.0.0.1", |path, _| match path {
        "/big" => Reply::Chunked { size: 1000, count: 200 },
        _ => Reply::Chunked { size: 1000, count: 100 },
    })
    .await;
    let mut cfg = config(&["127.0.0.0/8"]);
    cfg.max_bytes = 100_000;
    let f = Fetcher::new(cfg).unwrap();
    let err = f.fetch(&format!("http://{addr}/big")).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 100_000, .. }), "{err}");
    // Exactly at the limit is accepted.
    assert_eq!(f.fetch(&format!("http://{addr}/exact")).await.unwrap().len(), 100_000);
}

#[tokio::test]
async fn content_length_over_limit_fails_fast() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nxxxx".to_vec();
    let (addr, _) = serve("127.0.0.1", move |_, _| Reply::ThenStall(head.clone())).await;
    let mut cfg = config(&["127.0.0.0/8"]);
    cfg.max_bytes = 1000;
    cfg.total_timeout = Duration::from_secs(10);
    let started = Instant::now();
    let err = Fetcher::new(cfg).unwrap().fetch(&format!("http://{addr}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn slow_server_times_out() {
    let (addr, _) = serve("127.0.0.1", |path, _| match path {
        "/slow-head" => Reply::Stall,
        _ => Reply::ThenStall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc".to_vec()),
    })
    .await;
    let mut cfg = config(&["127.0.0.0/8"]);
    cfg.total_timeout = Duration::from_millis(300);
    let f = Fetcher::new(cfg).unwrap();
    for path in ["/slow-head", "/slow-body"] {
        let started = Instant::now();
        let err = f.fetch(&format!("http://{addr}{path}")).await.unwrap_err();
        assert!(matches!(err, FetchError::Timeout { .. }), "{path}: {err}");
        assert!(started.elapsed() < Duration::from_secs(2), "{path}: took {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn bad_urls() {
    let f = fetcher(&["127.0.0.0/8"]);
    for url in [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "garbage",
        "",
        "http://",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "http://user:pass@example.com/a.png",
        "http://user@example.com/a.png",
        "http://exa mple.com/",
    ] {
        let err = f.fetch(url).await.unwrap_err();
        assert!(matches!(err, FetchError::BadUrl { .. }), "{url:?}: {err}");
    }
}

#[tokio::test]
async fn redirect_to_other_scheme_is_bad_url() {
    let (addr, _) = serve("127.0.0.1", |path, _| match path {
        "/file" => redirect(302, "file:///etc/passwd"),
        "/creds" => redirect(302, "http://admin:admin@127.0.0.1/"),
        _ => redirect(302, "gopher://127.0.0.1/"),
    })
    .await;
    let f = fetcher(&["127.0.0.0/8"]);
    for path in ["/file", "/creds", "/gopher"] {
        let err = f.fetch(&format!("http://{addr}{path}")).await.unwrap_err();
        assert!(matches!(err, FetchError::BadUrl { .. }), "{path}: {err}");
    }
}

#[tokio::test]
async fn connection_refused_is_network() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = fetcher(&["127.0.0.0/8"]).fetch(&format!("http://{addr}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
}

#[tokio::test]
async fn https_client_works() {
    // The TLS stack is set up (crypto provider, verifier): a handshake against a server that answers plain text
    // fails cleanly.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n").await;
            let _ = stream.shutdown().await;
        }
    });
    let f = fetcher(&["127.0.0.0/8"]);
    let err = f.fetch(&format!("https://{addr}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // And https URLs are subject to the same address policy.
    let err = fetcher(&[]).fetch(&format!("https://{addr}/")).await.unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err}");
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
}

#[test]
fn defaults() {
    let cfg = FetchConfig::default();
    assert_eq!(cfg.connect_timeout, Duration::from_secs(5));
    assert_eq!(cfg.total_timeout, Duration::from_secs(20));
    assert_eq!(cfg.max_bytes, 50 * 1024 * 1024);
    assert_eq!(cfg.max_redirects, 5);
    assert!(cfg.allow.is_empty());
    assert!(cfg.user_agent.starts_with("imgflo-server/"));
    // Building a client needs no runtime and no network.
    let f = Fetcher::new(cfg).unwrap();
    let _clone = f.clone();
}
