//! `imgflo runtime` and `imgflo serve` as processes: the one stdout line with the
//! address and Flowhub URL, a stable id, HTTP on the runtime's port, refusing to
//! listen publicly without a secret, prompt exit on SIGTERM, and `serve` reporting
//! its runtime at `/runtime`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{client, TempDir};

fn spawn(args: &[&str]) -> (Child, Vec<String>, usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .args(args)
        .env("IMGFLO_LOG", "warn")
        .env_remove("IMGFLO_RUNTIME_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines_wanted = if args[0] == "serve" { 2 } else { 1 };
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..lines_wanted {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        lines.push(line.trim().to_string());
    }
    (child, lines, lines_wanted)
}

fn terminate(mut child: Child) -> String {
    let started = Instant::now();
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "exits promptly on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    err
}

fn ws_address(line: &str) -> String {
    line.split_whitespace().find(|w| w.starts_with("ws://")).unwrap_or_else(|| panic!("{line}")).to_string()
}

#[tokio::test]
async fn runtime_prints_its_address_keeps_its_id_and_stops_on_sigterm() {
    let dir = TempDir::new("cli-runtime");
    let data = dir.path().join("var");
    let graphs = dir.path().join("graphs");
    common::copy_dir(&common::repo_graphs(), &graphs);
    let args =
        ["runtime", "--port", "0", "--data-dir", data.to_str().unwrap(), "--graphs-dir", graphs.to_str().unwrap()];
    let (child, lines, _) = spawn(&args);
    let line = &lines[0];
    assert!(line.starts_with("imgflo runtime listening on ws://127.0.0.1:"), "{line}");
    let id = std::fs::read_to_string(data.join("runtime-id")).unwrap().trim().to_string();
    assert!(line.contains("#runtime/endpoint?protocol%3Dwebsocket%26address%3Dws%3A%2F%2F127.0.0.1"), "{line}");
    assert!(line.contains(&id), "the Flowhub URL carries the id: {line}");
    let http = ws_address(line).replace("ws://", "http://");
    let about: serde_json::Value = client().get(format!("{http}/")).send().await.unwrap().json().await.unwrap();
    assert_eq!(about["id"], id.as_str());
    assert!(about["graphs"].as_array().unwrap().iter().any(|g| g == "gradientmap"), "{about}");
    let r = client().get(format!("{http}/process?graph=gradientmap&node=nope")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let stderr = terminate(child);
    assert!(stderr.is_empty(), "quiet on stderr: {stderr}");

    // Same id after a restart.
    let (child, _, _) = spawn(&args);
    let again = std::fs::read_to_string(data.join("runtime-id")).unwrap();
    assert_eq!(again.trim(), id);
    terminate(child);
}

#[test]
fn runtime_refuses_a_public_address_without_a_secret() {
    let dir = TempDir::new("cli-runtime-public");
    let out = Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .args(["runtime", "--host", "0.0.0.0", "--port", "0", "--data-dir", dir.path().to_str().unwrap()])
        .env_remove("IMGFLO_RUNTIME_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without a secret"), "{out:?}");
}

#[tokio::test]
async fn serve_runs_the_runtime_beside_the_server() {
    let dir = TempDir::new("cli-serve");
    let d = dir.path();
    let (child, lines, _) = spawn(&[
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--runtime-port",
        "0",
        "--data-dir",
        d.join("var").to_str().unwrap(),
        "--graphs-dir",
        d.join("graphs").to_str().unwrap(),
        "--read-only",
    ]);
    let http = lines[0].rsplit(' ').next().unwrap().to_string();
    assert!(http.starts_with("http://127.0.0.1:"), "{lines:?}");
    let ws = ws_address(&lines[1]);
    let info: serde_json::Value = client().get(format!("{http}/runtime")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["running"], true);
    assert_eq!(info["address"], ws.as_str());
    assert!(info["flowhub"].as_str().unwrap().contains("runtime/endpoint"));
    terminate(child);
}
