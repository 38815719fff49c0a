//! Records the git commit the server was built from, for `GET /version`.

fn main() {
    println!("cargo:rerun-if-env-changed=IMGFLO_COMMIT");
    if std::env::var("IMGFLO_COMMIT").is_ok() {
        return;
    }
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=IMGFLO_COMMIT={commit}");
    if let Ok(head) = std::process::Command::new("git").args(["rev-parse", "--git-dir"]).output() {
        if let Ok(dir) = String::from_utf8(head.stdout) {
            println!("cargo:rerun-if-changed={}/HEAD", dir.trim());
        }
    }
}
