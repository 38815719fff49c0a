//! The engine's subcommands run as real processes: `imgflo process`,
//! `imgflo graphs check` and `imgflo compare`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::TempDir;
use imgflo_runtime::codec::{self, DecodeOptions, EncodeOptions, OutputFormat};
use imgflo_runtime::Image;

fn imgflo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imgflo"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("IMGFLO_GRAPHS_DIR")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn decode(path: &Path) -> Image {
    codec::decode(&std::fs::read(path).unwrap(), &DecodeOptions::default()).unwrap().image
}

fn write_png(path: &Path, img: &Image) {
    std::fs::write(path, codec::encode(img, &EncodeOptions::new(OutputFormat::Png)).unwrap()).unwrap();
}

#[test]
fn process_runs_a_graph_by_name_with_parameters() {
    let dir = TempDir::new("cli-process");
    let out_path = dir.path().join("out.png");
    let out = imgflo(&[
        "process",
        "crop",
        "--input",
        "ui/files/example.jpg",
        "--set",
        "x=10",
        "--set",
        "cropwidth=64",
        "--set",
        "cropheight=32",
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(decode(&out_path).dimensions(), (64, 32));
    assert_eq!(codec::sniff(&std::fs::read(&out_path).unwrap()).unwrap().mime(), "image/png");

    // A graph file path, `width` resizing the input first, and JPEG by extension.
    let jpg = dir.path().join("small.jpg");
    let out = imgflo(&[
        "process",
        "graphs/passthrough.fbp",
        "--input",
        "ui/files/example.jpg",
        "--set",
        "width=320",
        "--output",
        jpg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(decode(&jpg).dimensions(), (320, 200));
}

#[test]
fn process_reports_bad_requests() {
    let dir = TempDir::new("cli-process-bad");
    let target = dir.path().join("x.png");
    let t = target.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["process", "nosuchgraph", "--input", "ui/files/example.jpg", "--output", t], "nosuchgraph"),
        (&["process", "crop", "--input", "ui/files/example.jpg", "--set", "bogus=1", "--output", t], "bogus"),
        (&["process", "crop", "--input", "ui/files/example.jpg", "--set", "x=abc", "--output", t], "x"),
        (&["process", "crop", "--input", "Cargo.toml", "--output", t], "image"),
    ];
    for (args, mention) in cases {
        let out = imgflo(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(mention), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!target.exists(), "{args:?} left an output");
    }
}

#[test]
fn graphs_check_validates_a_directory() {
    let out = imgflo(&["graphs", "check", "graphs"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("ok   gradientmap"), "{text}");
    assert!(text.lines().last().unwrap().ends_with(" passed, 0 failed"), "{text}");

    let dir = TempDir::new("cli-check");
    std::fs::write(dir.path().join("good.fbp"), "INPORT=n.INPUT:INPUT\nOUTPORT=n.OUTPUT:OUTPUT\nn(gegl/nop)\n")
        .unwrap();
    std::fs::write(dir.path().join("unknown.fbp"), "n(gegl/no-such-op)\n").unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"processes\": ").unwrap();
    let out = imgflo(&["graphs", "check", dir.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(text.contains("ok   good"), "{text}");
    assert!(text.contains("FAIL unknown") && text.contains("gegl/no-such-op"), "{text}");
    assert!(text.contains("FAIL broken"), "{text}");
    assert!(text.contains("1 passed, 2 failed"), "{text}");
}

#[test]
fn compare_measures_delta_e_against_a_tolerance() {
    let dir = TempDir::new("cli-compare");
    let grey = |v: u8| Image::from_rgb8(8, 8, vec![v; 8 * 8 * 3]).unwrap();
    let (a, b, c) = (dir.path().join("a.png"), dir.path().join("b.png"), dir.path().join("c.png"));
    write_png(&a, &grey(128));
    write_png(&b, &grey(130)); // L* differs by about 0.8
    write_png(&c, &Image::from_rgb8(4, 8, vec![128; 4 * 8 * 3]).unwrap());
    let (a, b, c) = (a.to_str().unwrap(), b.to_str().unwrap(), c.to_str().unwrap());

    let same = imgflo(&["compare", a, a]);
    assert!(same.status.success());
    assert!(stdout(&same).starts_with("OK: max ΔE 0.000"), "{}", stdout(&same));

    let close = imgflo(&["compare", a, b]);
    assert!(close.status.success(), "{}", stdout(&close));
    let strict = imgflo(&["compare", a, b, "--tolerance", "0.1"]);
    assert!(!strict.status.success());
    assert!(stdout(&strict).starts_with("FAIL: max ΔE 0.783"), "{}", stdout(&strict));

    let sizes = imgflo(&["compare", a, c]);
    assert!(!sizes.status.success());
    assert!(stdout(&sizes).starts_with("FAIL"), "{}", stdout(&sizes));
}
