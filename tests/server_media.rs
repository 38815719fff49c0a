//! Media beyond still photos over HTTP, against the real binary: generative canvas
//! graphs (deterministic, sized), animated GIF/WebP through image graphs (frames,
//! delays and loops kept), and MP4 video frame by frame (duration, audio, grey
//! frames through customgrey).

mod common;

use std::sync::Arc;

use common::{client, ServerProc, TempDir};
use imgflo_runtime::codec::animation::{self, Animation, AnimationLimits, Frame};
use imgflo_runtime::codec::{self, OutputFormat};
use imgflo_runtime::video;
use imgflo_runtime::Image;
use serde_json::Value;

struct Setup {
    _dirs: (TempDir, TempDir),
    server: ServerProc,
}

/// Three 40x30 frames (red, green, blue), 100/200/50 ms, looping twice.
fn animated_gif() -> Vec<u8> {
    let frame = |rgba: [u8; 4], delay_ms| Frame {
        image: Arc::new(Image::from_rgba8(40, 30, rgba.repeat(40 * 30)).unwrap()),
        delay_ms,
    };
    let anim = Animation {
        frames: vec![frame([255, 0, 0, 255], 100), frame([0, 255, 0, 255], 200), frame([0, 0, 255, 255], 50)],
        loop_count: 2,
    };
    animation::encode_animation(&anim, OutputFormat::Gif, 90).unwrap()
}

fn setup() -> Setup {
    setup_with(&[])
}

fn setup_with(extra: &[&str]) -> Setup {
    let (data, files) = (TempDir::new("data"), TempDir::new("files"));
    std::fs::write(files.path().join("anim.gif"), animated_gif()).unwrap();
    std::fs::write(
        files.path().join("still.png"),
        codec::encode(
            &Image::from_rgb8(64, 48, vec![200; 64 * 48 * 3]).unwrap(),
            &codec::EncodeOptions::new(OutputFormat::Png),
        )
        .unwrap(),
    )
    .unwrap();
    if let Some(fx) = common::shared_fixtures() {
        std::fs::copy(fx.join("images/video-3dpmic.mp4"), files.path().join("video.mp4")).unwrap();
    }
    let g = common::repo_graphs().display().to_string();
    let d = data.path().display().to_string();
    let f = files.path().display().to_string();
    let mut args = vec!["--graphs-dir", g.as_str(), "--data-dir", d.as_str(), "--files-dir", f.as_str()];
    args.extend_from_slice(extra);
    let server = ServerProc::start(&args, &[]);
    Setup { _dirs: (data, files), server }
}

/// GET a processing URL, follow its 301 to the cache, return the bytes and type.
async fn fetch(s: &ServerProc, path: &str) -> (Vec<u8>, String) {
    let r = client().get(s.url(path)).send().await.unwrap();
    let status = r.status();
    if status != 301 {
        panic!("{path}: status {status}: {}", r.text().await.unwrap_or_default());
    }
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let r = client().get(&loc).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    (r.bytes().await.unwrap().to_vec(), ct)
}

fn decode(bytes: &[u8]) -> Image {
    codec::decode(bytes, &Default::default()).unwrap().image
}

fn rgba_at(img: &Image, x: u32, y: u32) -> [u8; 4] {
    let d = img.to_rgba8();
    let i = ((y * img.width() + x) * 4) as usize;
    [d[i], d[i + 1], d[i + 2], d[i + 3]]
}

#[tokio::test]
async fn canvas_graph_fills_a_blank_canvas_or_the_input() {
    let s = setup();
    let (png, ct) = fetch(&s.server, "/graph/canvas.png?color=%2387a9a7").await;
    assert_eq!(ct, "image/png");
    let img = decode(&png);
    assert_eq!(img.dimensions(), (600, 400), "the original's blank canvas size");
    let data = img.to_rgba8();
    assert!(data.chunks_exact(4).all(|p| p == [0x87, 0xa9, 0xa7, 255]), "every pixel the colour");

    let img = decode(&fetch(&s.server, "/graph/canvas.jpg?color=red&width=120&height=80").await.0);
    assert_eq!(img.dimensions(), (120, 80), "width and height size the blank canvas");
    let [r, g, b, _] = rgba_at(&img, 60, 40);
    assert!(r > 240 && g < 15 && b < 15);

    // With an input, the input is the canvas and width resizes the output after.
    let img = decode(&fetch(&s.server, "/graph/canvas.png?color=%230000ff&input=files/still.png&width=32").await.0);
    assert_eq!(img.dimensions(), (32, 24));
    assert_eq!(rgba_at(&img, 5, 5), [0, 0, 255, 255]);

    let r = client().get(s.server.url("/graph/canvas.png?color=notacolour")).send().await.unwrap();
    assert_eq!(r.status(), 301, "an invalid CSS colour is ignored, as a canvas ignores it");
    let r = client().get(s.server.url("/graph/canvas.png?canvas=x")).send().await.unwrap();
    assert_eq!(r.status(), 449, "the canvas port is not a parameter");
}

#[tokio::test]
async fn delaunay_triangles_are_deterministic_per_seed_and_size() {
    let s = setup();
    let path = "/graph/delaunay_triangles.png?seed=foobar&width=300&height=200";
    let (a, _) = fetch(&s.server, path).await;
    assert_eq!(decode(&a).dimensions(), (300, 200));
    // A second server, its own cache: the same picture, byte for byte.
    let other = setup();
    let (b, _) = fetch(&other.server, path).await;
    assert_eq!(a, b, "same seed and size, same image");
    let (c, _) = fetch(&s.server, "/graph/delaunay_triangles.png?seed=other&width=300&height=200").await;
    assert_ne!(decode(&a).to_rgba8(), decode(&c).to_rgba8(), "another seed, another picture");
    let img = decode(&fetch(&s.server, "/graph/delaunay_triangles.jpg?seed=foobar").await.0);
    assert_eq!(img.dimensions(), (600, 400));
    // Many colours: triangles, not the plain background.
    let data = img.to_rgba8();
    let mut colours: Vec<[u8; 3]> =
        data.chunks_exact(4).step_by(97).map(|p| [p[0] / 16, p[1] / 16, p[2] / 16]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() >= 8, "{} colours", colours.len());
}

#[tokio::test]
async fn generative_graphs_are_listed_with_their_size_parameters() {
    let s = setup();
    let v: Value = client().get(s.server.url("/graphs")).send().await.unwrap().json().await.unwrap();
    for name in ["canvas", "delaunay_triangles"] {
        let ports = v["graphs"][name]["inports"].as_object().unwrap_or_else(|| panic!("{name} listed"));
        assert!(!ports.contains_key("canvas"), "{name}: internal canvas port hidden");
        assert_eq!(ports["width"]["process"], "canvas");
        assert_eq!(ports["height"]["metadata"]["type"], "int");
    }
    assert!(v["graphs"]["canvas"]["inports"]["color"].is_object());
    assert!(v["graphs"]["delaunay_triangles"]["inports"]["seed"].is_object());
}

#[tokio::test]
async fn animated_gif_runs_the_graph_on_every_frame() {
    let s = setup();
    let limits = AnimationLimits::default();
    let (gif, ct) = fetch(&s.server, "/graph/passthrough.gif?input=files/anim.gif&width=20").await;
    assert_eq!(ct, "image/gif");
    let anim = animation::decode_animation(&gif, &limits).unwrap().expect("still animated");
    assert_eq!(anim.frames.len(), 3);
    assert_eq!(anim.frames.iter().map(|f| f.delay_ms).collect::<Vec<_>>(), vec![100, 200, 50]);
    assert_eq!(anim.loop_count, 2);
    assert_eq!(anim.frames[0].image.dimensions(), (20, 15), "width resized every frame");
    let [r, g, b, _] = rgba_at(&anim.frames[1].image, 10, 7);
    assert!(g > 200 && r < 40 && b < 40, "second frame green: {r} {g} {b}");

    // customgrey on every frame, out as animated WebP.
    let (webp, ct) = fetch(&s.server, "/graph/customgrey.webp?input=files/anim.gif").await;
    assert_eq!(ct, "image/webp");
    let anim = animation::decode_animation(&webp, &limits).unwrap().expect("animated WebP");
    assert_eq!(anim.frames.len(), 3);
    for f in &anim.frames {
        let [r, g, b, _] = rgba_at(&f.image, 20, 15);
        assert!(r.abs_diff(g) <= 3 && g.abs_diff(b) <= 3, "grey: {r} {g} {b}");
    }

    // As PNG: the first frame.
    let img = decode(&fetch(&s.server, "/graph/passthrough.png?input=files/anim.gif").await.0);
    assert_eq!(rgba_at(&img, 0, 0), [255, 0, 0, 255]);
}

fn have_ffmpeg() -> bool {
    std::process::Command::new("ffprobe").arg("-version").output().is_ok()
}

#[tokio::test]
async fn mp4_video_goes_through_customgrey_frame_by_frame() {
    if common::shared_fixtures().is_none() || !have_ffmpeg() {
        println!("SKIPPED: needs ../shared/fixtures and ffmpeg");
        return;
    }
    let s = setup();
    let (mp4, ct) = fetch(&s.server, "/graph/customgrey.mp4?input=files/video.mp4").await;
    assert_eq!(ct, "video/mp4");
    let source = std::fs::read(common::shared_fixtures().unwrap().join("images/video-3dpmic.mp4")).unwrap();
    let src = video::TempFile::with_bytes("mp4", &source).unwrap();
    let out = video::TempFile::with_bytes("mp4", &mp4).unwrap();
    let (a, b) = (video::probe(src.path()).unwrap(), video::probe(out.path()).unwrap());
    assert_eq!((b.width, b.height), (a.width, a.height));
    assert!((a.duration_s - b.duration_s).abs() < 0.1, "duration {} vs {}", a.duration_s, b.duration_s);
    assert!(b.audio_codec.is_some(), "audio passed through");
    // Every frame decodes, and every frame is grey.
    let mut frames = 0;
    let mut worst = 0u8;
    video::transcode::<()>(&mp4, None, 128, &Default::default(), &|| Ok(()), &mut |f| {
        frames += 1;
        let d = f.to_rgba8();
        for p in d.chunks_exact(4).step_by(101) {
            worst = worst.max(p[0].abs_diff(p[1])).max(p[1].abs_diff(p[2]));
        }
        Ok(f)
    })
    .unwrap();
    assert_eq!(frames, 30);
    assert!(worst <= 12, "frames are grey (largest channel spread {worst})");

    // video_framerate and video_bitrate: same duration at 10 frames/s, and a
    // lower bitrate gives a smaller file.
    let (slow, _) =
        fetch(&s.server, "/graph/customgrey.mp4?input=files/video.mp4&video_framerate=10&video_bitrate=100").await;
    let f = video::TempFile::with_bytes("mp4", &slow).unwrap();
    let info = video::probe(f.path()).unwrap();
    assert!((info.fps - 10.0).abs() < 0.01, "fps {}", info.fps);
    assert!((info.duration_s - a.duration_s).abs() < 0.15, "duration {} vs {}", info.duration_s, a.duration_s);
    let (rich, _) =
        fetch(&s.server, "/graph/customgrey.mp4?input=files/video.mp4&video_framerate=10&video_bitrate=4000").await;
    assert!(slow.len() < rich.len(), "100 kb/s gives {} bytes, 4000 kb/s {}", slow.len(), rich.len());

    // A still of a video (its first frame), and MP4 of a still refused.
    let img = decode(&fetch(&s.server, "/graph/passthrough.jpg?input=files/video.mp4&width=212").await.0);
    assert_eq!(img.dimensions(), (212, 120));
    let r = client().get(s.server.url("/graph/customgrey.mp4?input=files/still.png")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("MP4"), "{body}");
    // An animated GIF becomes a video of its frames.
    let (mp4, _) = fetch(&s.server, "/graph/passthrough.mp4?input=files/anim.gif").await;
    let f = video::TempFile::with_bytes("mp4", &mp4).unwrap();
    let info = video::probe(f.path()).unwrap();
    assert_eq!((info.width, info.height), (40, 30));
    assert!((info.duration_s - 0.35).abs() < 0.2, "{}", info.duration_s);
}

/// Video runs on its own lane: with one image worker, a still image is processed
/// while an MP4 job is still running.
#[tokio::test]
async fn image_requests_do_not_wait_for_video() {
    if common::shared_fixtures().is_none() || !have_ffmpeg() {
        println!("SKIPPED: needs ../shared/fixtures and ffmpeg");
        return;
    }
    let s = setup_with(&["--workers", "1"]);
    let url = s.server.url("/graph/customgrey.mp4?input=files/video.mp4&video_framerate=90");
    let video = tokio::spawn(async move { client().get(url).send().await.unwrap().status() });
    // Wait until the video job is running (the in-flight gauge counts it).
    let mut running = false;
    for _ in 0..200 {
        let text = client().get(s.server.url("/metrics")).send().await.unwrap().text().await.unwrap();
        if text.lines().any(|l| l == "imgflo_jobs_in_flight 1") {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(running, "the video job started");
    let r =
        client().get(s.server.url("/graph/passthrough.png?input=files/still.png&ignored=lane")).send().await.unwrap();
    assert_eq!(r.status(), 301);
    assert!(!video.is_finished(), "the still was done while the video was still processing");
    assert_eq!(video.await.unwrap(), 301);
}
