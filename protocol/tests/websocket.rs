//! End to end over a real socket: the runtime on port 0, a tokio-tungstenite client
//! asking for the `noflo` subprotocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use imgflo_protocol::{Runtime, RuntimeInfo, ServerConfig};
use imgflo_runtime::Registry;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("reply in time").unwrap().unwrap();
        if let Frame::Text(t) = frame {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn send(ws: &mut Ws, protocol: &str, command: &str, payload: Value) {
    let text = json!({"protocol": protocol, "command": command, "payload": payload}).to_string();
    ws.send(Frame::text(text)).await.unwrap();
}

async fn connect(addr: std::net::SocketAddr) -> Ws {
    let mut req = format!("ws://{addr}/").into_client_request().unwrap();
    req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("noflo"));
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(resp.headers().get("Sec-WebSocket-Protocol").unwrap(), "noflo");
    ws
}

#[tokio::test]
async fn talks_fbp_protocol_over_websocket() {
    let info = RuntimeInfo { id: "6b1f0e0e-7a43-4c1a-9d5e-2d2c3f1a0b11".into(), label: "t".into(), secret: None };
    let runtime = Runtime::new(info, Registry::builtin());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(imgflo_protocol::serve(listener, runtime.clone(), ServerConfig::default(), async {
        let _ = stop_rx.await;
    }));

    let mut a = connect(addr).await;
    send(&mut a, "runtime", "getruntime", json!({})).await;
    let r = recv(&mut a).await;
    assert_eq!((r["protocol"].clone(), r["command"].clone()), (json!("runtime"), json!("runtime")));
    assert_eq!(r["payload"]["version"], "0.7");

    // A second client sees the first one's edits and network events.
    let mut b = connect(addr).await;
    send(&mut a, "graph", "clear", json!({"id": "bar", "main": true, "baseDir": "/x"})).await;
    assert_eq!(recv(&mut a).await["payload"], json!({"id": "bar", "main": true}));
    assert_eq!(recv(&mut b).await["command"], "clear");
    send(&mut a, "graph", "addnode", json!({"id": "Hello", "component": "core/Repeat", "graph": "bar"})).await;
    send(&mut a, "graph", "addnode", json!({"id": "World", "component": "core/Drop", "graph": "bar"})).await;
    let edge = json!({"src": {"node": "Hello", "port": "out"}, "tgt": {"node": "World", "port": "in"}, "graph": "bar"});
    send(&mut a, "graph", "addedge", edge).await;
    let iip = json!({"src": {"data": "Hello, world!"}, "tgt": {"node": "Hello", "port": "in"}, "graph": "bar"});
    send(&mut a, "graph", "addinitial", iip).await;
    for _ in 0..4 {
        assert_eq!(recv(&mut a).await["protocol"], "graph");
        assert_eq!(recv(&mut b).await["protocol"], "graph");
    }
    send(&mut a, "network", "start", json!({"graph": "bar"})).await;
    for ws in [&mut a, &mut b] {
        assert_eq!(recv(ws).await["command"], "started");
        assert_eq!(recv(ws).await["payload"]["id"], "DATA -> IN Hello()");
        assert_eq!(recv(ws).await["payload"]["id"], "Hello() OUT -> IN World()");
    }

    // Garbage gets an error and the connection stays usable.
    a.send(Frame::text("not json")).await.unwrap();
    assert_eq!(recv(&mut a).await["command"], "error");
    send(&mut a, "network", "getstatus", json!({"graph": "bar"})).await;
    assert_eq!(recv(&mut a).await["payload"], json!({"graph": "bar", "running": false, "started": true}));

    drop(b);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("server stops").unwrap().unwrap();
    assert!(closes(&mut a).await, "the server closed the connection on shutdown");
}

/// Whether the connection ends (close frame, error or end of stream) within 5 s.
async fn closes(ws: &mut Ws) -> bool {
    let end = async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), end).await.is_ok()
}

#[tokio::test]
async fn oversized_messages_get_an_error() {
    let info = RuntimeInfo { id: "6b1f0e0e-7a43-4c1a-9d5e-2d2c3f1a0b11".into(), label: "t".into(), secret: None };
    let runtime = Runtime::new(info, Registry::builtin());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig { max_message_bytes: 1024, ..ServerConfig::default() };
    let server = tokio::spawn(imgflo_protocol::serve(listener, runtime, config, std::future::pending()));
    let mut ws = connect(addr).await;
    // Over the cap: an error, and the connection stays usable.
    let big = json!({"protocol": "graph", "command": "clear", "payload": {"id": "x".repeat(2000)}}).to_string();
    ws.send(Frame::text(big)).await.unwrap();
    let r = recv(&mut ws).await;
    assert_eq!((r["protocol"].as_str(), r["command"].as_str()), (Some("runtime"), Some("error")));
    assert!(r["payload"]["message"].as_str().unwrap().contains("over the limit of 1024 bytes"), "{r}");
    send(&mut ws, "runtime", "getruntime", json!({})).await;
    assert_eq!(recv(&mut ws).await["command"], "runtime");
    // Far over it: an error, then the connection closes.
    ws.send(Frame::text("y".repeat(64 * 1024))).await.unwrap();
    let r = recv(&mut ws).await;
    assert_eq!(r["command"], "error", "{r}");
    assert!(closes(&mut ws).await, "the connection closes");
    server.abort();
}

/// A plain HTTP/1.1 GET; returns the status and body.
async fn http_get(addr: std::net::SocketAddr, target: &str) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await.expect("answer in time").unwrap();
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head[9..12].parse().unwrap();
    (status, head, buf[head_end..].to_vec())
}

#[tokio::test]
async fn previews_are_served_over_http_on_the_same_port() {
    let dir = std::env::temp_dir().join(format!("imgflo-ws-preview-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = imgflo_runtime::Image::from_rgb8(40, 30, vec![200; 40 * 30 * 3]).unwrap();
    let png = imgflo_runtime::codec::encode(
        &img,
        &imgflo_runtime::codec::EncodeOptions::new(imgflo_runtime::codec::OutputFormat::Png),
    )
    .unwrap();
    let input = dir.join("in.png");
    std::fs::write(&input, png).unwrap();

    let info = RuntimeInfo { id: "6b1f0e0e-7a43-4c1a-9d5e-2d2c3f1a0b11".into(), label: "t".into(), secret: None };
    let runtime = Runtime::new(info, Registry::builtin());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(imgflo_protocol::serve(listener, runtime, ServerConfig::default(), async {
        let _ = stop_rx.await;
    }));

    let (status, head, body) = http_get(addr, "/").await;
    assert_eq!(status, 200, "{head}");
    assert!(String::from_utf8_lossy(&body).contains("\"imgflo\""));
    let (status, _, body) = http_get(addr, "/process?graph=nope&node=x").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("no graph"));
    assert_eq!(http_get(addr, "/elsewhere").await.0, 404);

    let mut ws = connect(addr).await;
    let cmds = [
        ("graph", "clear", json!({"id": "p"})),
        ("graph", "addnode", json!({"id": "in", "component": "gegl/nop", "graph": "p"})),
        ("graph", "addnode", json!({"id": "inv", "component": "gegl/invert-gamma", "graph": "p"})),
        (
            "graph",
            "addedge",
            json!({"src": {"node": "in", "port": "output"}, "tgt": {"node": "inv", "port": "input"}, "graph": "p"}),
        ),
        ("graph", "addinport", json!({"public": "input", "node": "in", "port": "input", "graph": "p"})),
        ("graph", "addoutport", json!({"public": "output", "node": "inv", "port": "output", "graph": "p"})),
        ("network", "start", json!({"graph": "p"})),
        (
            "runtime",
            "packet",
            json!({"graph": "p", "port": "input", "event": "data", "payload": input.to_str().unwrap()}),
        ),
    ];
    for (p, c, payload) in cmds {
        send(&mut ws, p, c, payload).await;
    }
    let packet = loop {
        let m = recv(&mut ws).await;
        if m["command"] == "packet" && m["protocol"] == "runtime" {
            break m;
        }
    };
    let url = packet["payload"]["payload"]["url"].as_str().unwrap_or_else(|| panic!("{packet}")).to_string();
    assert!(url.starts_with(&format!("http://{addr}/process?")), "{url}");
    let (status, head, body) = http_get(addr, &url[format!("http://{addr}").len()..]).await;
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: image/png"));
    let shown = imgflo_runtime::codec::decode(&body, &Default::default()).unwrap().image;
    assert_eq!(shown.dimensions(), (40, 30));
    assert_eq!(&shown.to_rgba8()[..4], &[55, 55, 55, 255], "the inverted grey");

    drop(ws);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("server stops").unwrap().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
