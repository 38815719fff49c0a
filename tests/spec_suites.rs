//! The fbp-spec suites under `fbp-spec/`, run in-process by `imgflo spec` (no
//! Node needed), and a suite of wrong expectations that must all fail.

use std::process::Command;

fn spec(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .arg("spec")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_suite_passes_in_process() {
    let (code, out) = spec(&["fbp-spec", "--tap"]);
    let passed = out.lines().filter(|l| l.starts_with("ok ")).count();
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("not ok")).collect();
    assert!(failed.is_empty(), "{out}");
    assert_eq!(code, Some(0), "{out}");
    let (_, count) = spec(&["fbp-spec", "--count"]);
    let total: usize = count.trim().parse().unwrap();
    assert!(total >= 60, "at least 60 cases, found {total}");
    assert_eq!(passed, total, "every case reported: {out}");
    assert!(out.contains(&format!("# {total} passed, 0 failed")), "{out}");
}

#[test]
fn wrong_expectations_fail() {
    let (code, out) = spec(&["tests/data/spec/failing.yaml"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.trim_end().ends_with("0 passed, 6 failed"), "{out}");
    for needle in [
        "expected 640 to equal 641",
        "nothing at $.nothing",
        "unknown expectation",
        "no/such/image.png",
        "nosuchport",
        "gegl/does-not-exist",
    ] {
        assert!(out.contains(needle), "{needle} in {out}");
    }
}
