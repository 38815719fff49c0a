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
    // The server closed the connection on shutdown.
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match a.next().await {
                None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok());
}
