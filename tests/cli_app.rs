//! `imgflo app ...` run as a real process against a temporary data directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("imgflo-cli-app-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn imgflo(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .arg("app")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("IMGFLO_DATA_DIR")
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "status {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn add_list_set_remove() {
    let tmp = TempDir::new();
    let data = tmp.0.join("data");

    let app = json(&imgflo(&data, &["add", "owner@example.com", "My site", "--quota", "3"]));
    let key = app["key"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 32);
    assert_eq!(app["secret"].as_str().unwrap().len(), 32);
    assert_eq!(app["owner_email"], "owner@example.com");
    assert_eq!(app["label"], "My site");
    assert_eq!(app["processing_quota"], 3);
    assert_eq!(app["enabled"], true);
    assert_eq!(app["admin"], false);
    assert!(data.join("imgflo.db").is_file());

    let admin = json(&imgflo(&data, &["add", "ops@example.com", "ops", "--admin"]));
    assert_eq!(admin["admin"], true);
    assert_eq!(admin["processing_quota"], 1);

    let list = json(&imgflo(&data, &["list"]));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], app);
    assert_eq!(list[1], admin);

    let changed = json(&imgflo(&data, &["set", &key, "--enabled", "false"]));
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["processing_quota"], 3);
    let changed = json(&imgflo(&data, &["set", &key, "--quota", "0"]));
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["processing_quota"], 0);

    let removed = json(&imgflo(&data, &["remove", &key]));
    assert_eq!(removed, serde_json::json!({ "removed": true }));
    let again = imgflo(&data, &["remove", &key]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(serde_json::from_slice::<Value>(&again.stdout).unwrap(), serde_json::json!({ "removed": false }));
    assert_eq!(json(&imgflo(&data, &["list"])).as_array().unwrap().len(), 1);

    // Unknown key for set: an error.
    let out = imgflo(&data, &["set", &key, "--enabled", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no application"));
}

#[test]
fn errors_exit_2() {
    let tmp = TempDir::new();
    for args in [
        &["add", "not-an-email", "label"][..],
        &["add", "@example.com", "label"],
        &["add", "a@b", ""],
        &["add", "a@b", "label", "--quota", "-1"],
    ] {
        let out = imgflo(&tmp.0, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("invalid application"), "{args:?}");
    }
    assert_eq!(json(&imgflo(&tmp.0, &["list"])), serde_json::json!([]));
}

#[test]
fn database_url() {
    let tmp = TempDir::new();
    let db = tmp.0.join("elsewhere/apps.db");
    let out = Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .args(["app", "add", "a@b", "via url"])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("IMGFLO_DATA_DIR", tmp.0.join("unused"))
        .output()
        .unwrap();
    json(&out);
    assert!(db.is_file());
    assert!(!tmp.0.join("unused").exists());

    let out = Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .args(["app", "list"])
        .env("DATABASE_URL", "postgres://user:hunter2@db.example.com/imgflo")
        .env("IMGFLO_DATA_DIR", &tmp.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("only SQLite"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
