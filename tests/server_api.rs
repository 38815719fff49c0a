//! The HTTP URL API against the real binary on port 0: the original server suite's
//! behaviours (§6.3) plus cache, single-flight, chaining, SSRF and path rules.

mod common;

use std::time::Duration;

use common::{client, metric, token, ServerProc, TempDir};
use imgflo_runtime::codec::{self, EncodeOptions, OutputFormat};
use imgflo_runtime::Image;
use serde_json::Value;

/// A server with our graphs (copied, so tests may edit them), a files dir with a
/// generated 256x192 PNG (`grid.png`), and the given env.
struct Setup {
    _dirs: (TempDir, TempDir, TempDir),
    graphs: std::path::PathBuf,
    data: std::path::PathBuf,
    server: ServerProc,
}

fn grid_png() -> Vec<u8> {
    let (w, h) = (256u32, 192u32);
    let data = (0..w * h).flat_map(|i| [((i % w) * 255 / w) as u8, ((i / w) * 255 / h) as u8, 90]).collect();
    codec::encode(&Image::from_rgb8(w, h, data).unwrap(), &EncodeOptions::new(OutputFormat::Png)).unwrap()
}

fn setup(extra: &[&str], env: &[(&str, &str)]) -> Setup {
    let (graphs, data, files) = (TempDir::new("graphs"), TempDir::new("data"), TempDir::new("files"));
    common::copy_dir(&common::repo_graphs(), graphs.path());
    std::fs::write(files.path().join("grid.png"), grid_png()).unwrap();
    let g = graphs.path().display().to_string();
    let d = data.path().display().to_string();
    let f = files.path().display().to_string();
    let mut args = vec!["--graphs-dir", &g, "--data-dir", &d, "--files-dir", &f, "--graph-poll-ms", "100"];
    args.extend_from_slice(extra);
    let server = ServerProc::start(&args, env);
    Setup { graphs: graphs.path().to_path_buf(), data: data.path().to_path_buf(), _dirs: (graphs, data, files), server }
}

async fn get(s: &ServerProc, path: &str) -> reqwest::Response {
    client().get(s.url(path)).send().await.unwrap()
}

async fn post(s: &ServerProc, path: &str) -> reqwest::Response {
    client().post(s.url(path)).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn processes_then_serves_from_cache() {
    let s = setup(&[], &[]);
    let path = "/graph/crop.png?input=files/grid.png&x=10&y=20&cropwidth=30&cropheight=40";
    let r = get(&s.server, path).await;
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["x-imgflo-cache"], "miss");
    let loc = location(&r);
    assert!(loc.contains("/cache/") && loc.ends_with(".png"), "{loc}");
    let img = client().get(&loc).send().await.unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/png");
    let etag = img.headers()["etag"].to_str().unwrap().to_string();
    assert!(img.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let bytes = img.bytes().await.unwrap();
    let decoded = codec::decode(&bytes, &Default::default()).unwrap();
    assert_eq!((decoded.width, decoded.height), (30, 40));

    // Conditional GET and HEAD.
    let r = client().get(&loc).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(r.status(), 304);
    let r = client().head(&loc).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Repeat: a cache hit, same location; reordered parameters share the entry.
    let hits = metric(&s.server, "imgflo_cache_requests_total{outcome=\"hit\"}").await;
    let r = get(&s.server, "/graph/crop.png?cropheight=40&y=20&input=files%2Fgrid.png&cropwidth=30&x=10").await;
    assert_eq!((r.status().as_u16(), location(&r)), (301, loc.clone()));
    assert_eq!(r.headers()["x-imgflo-cache"], "hit");
    assert_eq!(metric(&s.server, "imgflo_cache_requests_total{outcome=\"hit\"}").await, hits + 1.0);

    // Pages that cannot see redirects ask for JSON.
    let r = client().get(s.server.url(path)).header("accept", "application/json").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!((body["location"].as_str().unwrap(), body["cache"].as_str().unwrap()), (loc.as_str(), "hit"));

    // No extension: JPEG; .jpeg is the same entry as .jpg.
    let a = location(&get(&s.server, "/graph/crop?input=files/grid.png").await);
    let b = location(&get(&s.server, "/graph/crop.jpeg?input=files/grid.png").await);
    assert!(a.ends_with(".jpg"));
    assert_eq!(a, b);
}

#[tokio::test]
async fn size_limits_for_get_and_post() {
    let s = setup(&[], &[]);
    for q in ["height=30000&width=1000", "height=5100", "width=abc"] {
        let path = format!("/graph/passthrough.jpg?input=files/grid.png&{q}");
        assert_eq!(get(&s.server, &path).await.status(), 422, "GET {q}");
        assert_eq!(post(&s.server, &path).await.status(), 422, "POST {q}");
    }
    let r = get(&s.server, "/graph/passthrough.jpg?input=files/grid.png&width=64").await;
    assert_eq!(r.status(), 301);
}

#[tokio::test]
async fn error_bodies_are_json_with_the_right_status() {
    let s = setup(&[], &[]);
    let r = get(&s.server, "/graph/gradientmap.jpg?input=files/grid.png&skeke=1&oooor=2").await;
    assert_eq!(r.status(), 449);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 449);
    assert!(body["parameters"]["color1"]["type"] == "color", "{body}");
    assert!(body["parameters"]["width"].is_object());

    let r = get(&s.server, "/graph/gradientmap.svg?input=files/grid.png").await;
    assert_eq!(r.status(), 449);
    let body: Value = r.json().await.unwrap();
    assert!(body["supported"].as_array().unwrap().contains(&Value::from("png")));

    let r = get(&s.server, "/graph/gaussianblur.png?input=files/grid.png&abyss-policy=purple").await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["parameter"], "abyss-policy");

    let r = get(&s.server, "/graph/nosuchgraph.png?input=files/grid.png").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 404);

    let r = get(&s.server, "/graph/crop.png?input=files/__nonexisting_image___.jpg").await;
    assert_eq!(r.status(), 504);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 504);
    assert!(body["error"].as_str().unwrap().contains("__nonexisting_image___"));
    assert!(!body.to_string().contains(s.data.to_str().unwrap()), "no internal paths: {body}");

    let r = get(&s.server, "/graph/crop.png?input=chrome-search://x/http://example.com/a.png").await;
    assert_eq!(r.status(), 504);

    // Not an image.
    std::fs::write(s.graphs.join("../notimage.txt"), "hello").ok();
    let r = get(&s.server, "/graph/crop.png?input=files/..%2Fnotimage.txt").await;
    assert_eq!(r.status(), 504, "a path escaping the files dir is refused");
}

#[tokio::test]
async fn post_preheats_then_get_hits() {
    let s = setup(&[], &[]);
    let path = "/graph/passthrough.png?input=files/grid.png&ignored=post";
    let r = post(&s.server, path).await;
    assert_eq!(r.status(), 202);
    let loc = location(&r);
    assert!(loc.contains("/cache/"));
    let mut ok = false;
    for _ in 0..100 {
        if client().get(&loc).send().await.unwrap().status() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "background job finished");
    let r = post(&s.server, path).await;
    assert_eq!((r.status().as_u16(), location(&r)), (301, loc.clone()));
    let r = get(&s.server, path).await;
    assert_eq!((r.status().as_u16(), location(&r)), (301, loc));
}

#[tokio::test]
async fn graphs_listing() {
    let s = setup(&[], &[]);
    let r = get(&s.server, "/graphs").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    let graphs = body["graphs"].as_object().unwrap();
    for name in ["gradientmap", "crop", "croprotate", "gaussianblur", "passthrough", "noop", "retro"] {
        assert!(graphs.contains_key(name), "missing {name}");
    }
    let g = &graphs["gaussianblur"]["inports"];
    assert_eq!(g["std-dev-x"]["metadata"]["default"], 1.5);
    assert_eq!(g["std-dev-x"]["metadata"]["maximum"], 1500.0);
    assert_eq!(g["abyss-policy"]["metadata"]["values"], serde_json::json!(["none", "clamp", "black", "white"]));
    assert_eq!(g["width"]["metadata"]["type"], "int");
    assert!(!graphs.contains_key("imgflo-server"));
    // Exactly the graphs of graphs/, by file stem.
    let mut files: Vec<String> = std::fs::read_dir(common::repo_graphs())
        .unwrap()
        .filter_map(|e| e.unwrap().path().file_stem().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    files.sort();
    let mut listed: Vec<String> = graphs.keys().cloned().collect();
    listed.sort();
    assert_eq!(listed, files);
    for name in ["crop", "gradientmap", "gaussianblur", "noop"] {
        assert!(graphs[name]["properties"]["description"].is_string(), "{name} has a description");
    }
}

#[tokio::test]
async fn edited_graph_is_reprocessed() {
    let s = setup(&[], &[]);
    let path = "/graph/mygraph.png?input=files/grid.png";
    std::fs::write(
        s.graphs.join("mygraph.fbp"),
        "INPORT=c.INPUT:INPUT\nOUTPORT=c.OUTPUT:OUTPUT\nc(gegl/crop)\n'20' -> WIDTH c\n'20' -> HEIGHT c\n",
    )
    .unwrap();
    let mut first = None;
    for _ in 0..50 {
        let r = get(&s.server, path).await;
        if r.status() == 301 {
            first = Some(location(&r));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = first.expect("new graph picked up without restart");
    std::fs::write(
        s.graphs.join("mygraph.fbp"),
        "INPORT=c.INPUT:INPUT\nOUTPORT=c.OUTPUT:OUTPUT\nc(gegl/crop)\n'25' -> WIDTH c\n'20' -> HEIGHT c\n",
    )
    .unwrap();
    let mut second = first.clone();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        second = location(&get(&s.server, path).await);
        if second != first {
            break;
        }
    }
    assert_ne!(first, second, "edited graph must not serve the old result");
    let bytes = client().get(&second).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(codec::probe(&bytes).unwrap().width, 25);
    std::fs::remove_file(s.graphs.join("mygraph.fbp")).unwrap();
    let mut gone = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if get(&s.server, path).await.status() == 404 {
            gone = true;
            break;
        }
    }
    assert!(gone, "removed graph is no longer served");
}

#[tokio::test]
async fn concurrent_identical_misses_are_processed_once() {
    let s = setup(&[], &[]);
    let before = metric(&s.server, "imgflo_processed_total").await;
    let path = s.server.url("/graph/gaussianblur.png?input=files/grid.png&std-dev-x=8&std-dev-y=8");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let url = path.clone();
        tasks.push(tokio::spawn(async move { client().get(url).send().await.unwrap() }));
    }
    let mut locations = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status(), 301);
        locations.push(location(&r));
    }
    locations.dedup();
    assert_eq!(locations.len(), 1);
    assert_eq!(metric(&s.server, "imgflo_processed_total").await, before + 1.0);
}

#[tokio::test]
async fn chained_requests_run_in_process() {
    let s = setup(&[], &[]);
    let inner = "graph/crop.png?input=files/grid.png&cropwidth=50&cropheight=40";
    let outer = format!("/graph/passthrough.png?input={}", urlencode(inner));
    let r = get(&s.server, &outer).await;
    assert_eq!(r.status(), 301, "{:?}", r.text().await);
    let loc = location(&get(&s.server, &outer).await);
    let bytes = client().get(&loc).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(codec::probe(&bytes).unwrap().width, 50);
    // Too deep.
    let mut nested = "graph/passthrough.png?input=files/grid.png".to_string();
    for i in 0..4 {
        nested = format!("graph/passthrough.png?ignored={i}&input={}", urlencode(&nested));
    }
    let r = get(&s.server, &format!("/{nested}")).await;
    assert_eq!(r.status(), 504);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn ssrf_is_refused_and_paths_are_safe() {
    let s = setup(&[], &[]);
    let own = s.server.url("/files/grid.png");
    let port = own.rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    for target in [
        own.clone(),
        format!("http://[::ffff:127.0.0.1]:{port}/files/grid.png"),
        format!("http://localhost:{port}/files/grid.png"),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ] {
        let r = get(&s.server, &format!("/graph/crop.png?input={}", urlencode(&target))).await;
        assert_eq!(r.status(), 504, "{target} must be refused");
    }
    for p in [
        "/files/../Cargo.toml",
        "/files/%2e%2e/Cargo.toml",
        "/files/..%2fCargo.toml",
        "/cache/..%2f..%2fimgflo.db",
        "/cache/../imgflo.db",
        "/cache/abc",
    ] {
        let r = get(&s.server, p).await;
        assert_eq!(r.status(), 404, "{p}");
    }
}

#[tokio::test]
async fn allowed_private_range_and_redirect_to_loopback() {
    // Allowed: fetch from our own /files over loopback.
    let s = setup(&["--allow-private", "127.0.0.1/32"], &[]);
    let own = s.server.url("/files/grid.png");
    let r = get(&s.server, &format!("/graph/crop.png?input={}", urlencode(&own))).await;
    assert_eq!(r.status(), 301);
    // A redirect from an allowed address to a refused one (127.0.0.2).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/x.png\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let r = get(&s.server, &format!("/graph/crop.png?input={}", urlencode(&format!("http://{addr}/a.png")))).await;
    assert_eq!(r.status(), 504);
}

#[tokio::test]
async fn auth_matrix() {
    let env = [
        ("IMGFLO_API_KEY", "ooShei0queigeeke"),
        ("IMGFLO_API_SECRET", "reeva9aijo1Ooj9w"),
        ("IMGFLO_ADMIN_KEY", "niem4Hoodaku"),
        ("IMGFLO_ADMIN_SECRET", "reiL1ohqu1do"),
    ];
    let s = setup(&[], &env);
    let signed = |key: &str, secret: &str, spec: &str, query: &str| {
        format!("/graph/{key}/{}/{spec}?{query}", token(spec, &format!("?{query}"), secret))
    };
    let q = "input=files%2Fgrid.png&cropwidth=11";
    // Unsigned when auth is on.
    assert_eq!(get(&s.server, &format!("/graph/crop.png?{q}")).await.status(), 403);
    assert_eq!(post(&s.server, &format!("/graph/crop.png?{q}")).await.status(), 403);
    // Good signature.
    let r = get(&s.server, &signed("ooShei0queigeeke", "reeva9aijo1Ooj9w", "crop.png", q)).await;
    assert_eq!(r.status(), 301);
    let loc = location(&r);
    // Wrong secret, unknown key.
    assert_eq!(get(&s.server, &signed("ooShei0queigeeke", "wrong", "crop.png", q)).await.status(), 403);
    assert_eq!(get(&s.server, &signed("nokey", "reeva9aijo1Ooj9w", "crop.png", q)).await.status(), 403);
    // The token covers the query exactly: a changed query is refused.
    let tampered = signed("ooShei0queigeeke", "reeva9aijo1Ooj9w", "crop.png", q).replace("11", "12");
    assert_eq!(get(&s.server, &tampered).await.status(), 403);
    // _nocache: admin only.
    let nq = format!("{q}&_nocache=true");
    assert_eq!(get(&s.server, &signed("ooShei0queigeeke", "reeva9aijo1Ooj9w", "crop.png", &nq)).await.status(), 403);
    assert_eq!(get(&s.server, &format!("/graph/crop.png?{nq}")).await.status(), 403);
    let processed_before = processed(&s.server).await;
    assert_eq!(get(&s.server, &signed("niem4Hoodaku", "reiL1ohqu1do", "crop.png", &nq)).await.status(), 301);
    assert_eq!(processed(&s.server).await, processed_before + 1, "admin _nocache reprocesses");
    // POST follows the same rules.
    assert_eq!(post(&s.server, &signed("ooShei0queigeeke", "wrong", "crop.png", q)).await.status(), 403);
    assert_eq!(post(&s.server, &signed("ooShei0queigeeke", "reeva9aijo1Ooj9w", "crop.png", &nq)).await.status(), 403);
    let q2 = "input=files%2Fgrid.png&cropwidth=12";
    assert_eq!(post(&s.server, &signed("ooShei0queigeeke", "reeva9aijo1Ooj9w", "crop.png", q2)).await.status(), 202);

    // Apps added to the database while the server runs take effect at once.
    let db = s.data.display().to_string();
    let add = |args: &[&str]| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_imgflo"))
            .args(["app", "--data-dir", &db])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let zero = add(&["add", "zero@example.com", "zero quota", "--quota", "0"]);
    let (zk, zs) = (zero["key"].as_str().unwrap().to_string(), zero["secret"].as_str().unwrap().to_string());
    // Quota 0: cached results only.
    let cached = signed(&zk, &zs, "crop.png", q);
    let r = get(&s.server, &cached).await;
    assert_eq!((r.status().as_u16(), location(&r)), (301, loc), "quota 0 may read the cache");
    let fresh = signed(&zk, &zs, "crop.png", "input=files%2Fgrid.png&cropwidth=13");
    assert_eq!(get(&s.server, &fresh).await.status(), 403, "quota 0 may not process");
    assert_eq!(post(&s.server, &fresh).await.status(), 403, "quota 0 may not pre-heat");
    // Disabled: nothing, not even cached results.
    add(&["set", &zk, "--enabled", "false", "--quota", "5"]);
    assert_eq!(get(&s.server, &cached).await.status(), 403);
    assert_eq!(post(&s.server, &cached).await.status(), 403);
}

/// The `imgflo_processed_total` counter from /metrics.
async fn processed(s: &ServerProc) -> u64 {
    let text = get(s, "/metrics").await.text().await.unwrap();
    let line = text.lines().find(|l| l.starts_with("imgflo_processed_total ")).expect("processed counter");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn inputs_that_are_not_images_or_too_large_get_422() {
    let s = setup(&["--max-input-megapixels", "0.04"], &[]);
    let files = s._dirs.2.path();
    std::fs::write(files.join("notimage.png"), "hello, not a PNG").unwrap();
    std::fs::write(files.join("truncated.png"), &grid_png()[..200]).unwrap();
    for name in ["notimage.png", "truncated.png"] {
        let r = get(&s.server, &format!("/graph/crop.png?input=files/{name}")).await;
        assert_eq!(r.status(), 422, "{name}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], 422);
        assert!(body["error"].as_str().unwrap().contains(name), "{body}");
    }
    // grid.png is 256x192 = 0.049 MP, over the 0.04 MP input limit: refused from its
    // header, before decoding.
    let r = get(&s.server, "/graph/crop.png?input=files/grid.png").await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("limit"), "{body}");
    assert_eq!(processed(&s.server).await, 0);
}

#[tokio::test]
async fn head_on_a_processing_url_redirects_without_a_body() {
    let s = setup(&[], &[]);
    let path = "/graph/crop.png?input=files/grid.png&cropwidth=17&cropheight=9";
    let r = client().head(s.server.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 301);
    let loc = location(&r);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = get(&s.server, path).await;
    assert_eq!((r.status().as_u16(), location(&r)), (301, loc.clone()));
    assert_eq!(r.headers()["x-imgflo-cache"], "hit");
    let img = client().get(&loc).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(codec::decode(&img, &Default::default()).unwrap().image.dimensions(), (17, 9));
}

#[tokio::test]
async fn debug_redirects_to_the_ui() {
    let s = setup(&[], &[]);
    let r = get(&s.server, "/graph/crop.jpg?input=files%2Fgrid.png&x=130&height=111&debug=1").await;
    assert_eq!(r.status(), 302);
    let loc = location(&r);
    assert!(loc.starts_with("/debug/graph/crop.jpg?"), "{loc}");
    assert!(
        loc.contains("height=111") && loc.contains("x=130") && loc.contains("input=files") && !loc.contains("debug=")
    );
    let r = get(&s.server, &loc).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn version_health_and_metrics() {
    let s = setup(&[], &[]);
    let v: Value = get(&s.server, "/version").await.json().await.unwrap();
    assert!(v["version"].is_string());
    assert_eq!(get(&s.server, "/healthz").await.status(), 200);
    assert_eq!(get(&s.server, "/readyz").await.status(), 200);
    let files: Value = get(&s.server, "/files/").await.json().await.unwrap();
    assert_eq!(files, serde_json::json!(["grid.png"]));
    let rt: Value = get(&s.server, "/runtime").await.json().await.unwrap();
    assert_eq!(rt["running"], false);
    get(&s.server, "/nope").await;
    let text = get(&s.server, "/metrics").await.text().await.unwrap();
    assert!(text.contains("imgflo_http_requests_total{route=\"other\",status=\"404\"} 1"), "{text}");
    assert!(text.contains("imgflo_queue_depth"));
}

#[tokio::test]
async fn noop_copies_bytes() {
    let s = setup(&[], &[]);
    let r = get(&s.server, "/graph/noop?input=files/grid.png").await;
    assert_eq!(r.status(), 301);
    let bytes = client().get(location(&r)).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), grid_png().as_slice());
    assert_eq!(get(&s.server, "/graph/noop?input=files/grid.png&x=1").await.status(), 449);
    // An extension asks for no conversion: noop.jpg over a PNG keeps the PNG bytes
    // (and they are served as what they are).
    let r = get(&s.server, "/graph/noop.jpg?input=files/grid.png").await;
    assert_eq!(r.status(), 301);
    let img = client().get(location(&r)).send().await.unwrap();
    assert_eq!(img.headers()["content-type"], "image/png");
    assert_eq!(img.bytes().await.unwrap().as_ref(), grid_png().as_slice());
    // Without an input there is nothing to copy: a clear error, not a hang.
    let r = get(&s.server, "/graph/noop").await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["parameter"], "input");
}
