//! Video through image graphs, frame by frame, with the `ffmpeg` and `ffprobe`
//! programs (Debian's ffmpeg package): a reader that decodes a file to RGBA frames
//! on a pipe, and a writer that encodes frames to H.264 MP4, taking the audio of
//! the source along (copied when MP4 can hold it, else re-encoded to AAC).
//!
//! Children are killed when a reader or writer is dropped (errors, cancellation),
//! their stderr is drained on threads so neither side can block, and limits on
//! duration, frame count and frame size are checked from the probe before any
//! frame is decoded, then again while frames arrive.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde_json::Value as Json;

use crate::pixels::Image;

/// Why a video could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("ffmpeg is not available ({0}); install the ffmpeg package to process video")]
    Missing(String),
    #[error("not a readable video: {0}")]
    Unreadable(String),
    #[error("video is over a limit: {0}")]
    TooLarge(String),
    #[error("video encoding failed: {0}")]
    Encode(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What a video may be.
#[derive(Clone, Copy, Debug)]
pub struct VideoLimits {
    pub max_duration_s: f64,
    pub max_frames: u64,
    pub max_frame_pixels: u64,
}

impl Default for VideoLimits {
    fn default() -> Self {
        VideoLimits { max_duration_s: 300.0, max_frames: 9000, max_frame_pixels: 8_300_000 }
    }
}

/// What `ffprobe` says of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoInfo {
    /// Display size (rotation metadata applied, as ffmpeg applies it on decode).
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub duration_s: f64,
    pub audio_codec: Option<String>,
}

/// The ffmpeg demuxer for bytes that start like a video container we accept:
/// MP4/MOV (`ftyp`), ASF/WMV, Matroska/WebM, AVI, MPEG-PS or FLV. Anything else
/// (playlists, concat scripts, images) is not a video: ffmpeg is never left to
/// guess, so no input can make it open other files or URLs.
pub fn container(bytes: &[u8]) -> Option<&'static str> {
    const ASF: [u8; 8] = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11];
    if bytes.get(4..8) == Some(b"ftyp") {
        Some("mov")
    } else if bytes.starts_with(&ASF) {
        Some("asf")
    } else if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("matroska")
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"AVI ") {
        Some("avi")
    } else if bytes.starts_with(&[0x00, 0x00, 0x01, 0xBA]) {
        Some("mpeg")
    } else if bytes.starts_with(b"FLV") {
        Some("flv")
    } else {
        None
    }
}

/// Whether bytes are a video container we read (see [`container`]).
pub fn is_video(bytes: &[u8]) -> bool {
    container(bytes).is_some()
}

/// The input options for a file: local files only, the demuxer its bytes name.
fn input_args(cmd: &mut Command, path: &Path) -> Result<(), VideoError> {
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    let format = container(&head[..n]).ok_or_else(|| VideoError::Unreadable("not a video container".into()))?;
    cmd.args(["-protocol_whitelist", "file", "-f", format, "-i"]).arg(path);
    Ok(())
}

fn ffmpeg_command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.arg("-v").arg("error");
    if program == "ffmpeg" {
        c.arg("-nostdin");
    }
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn spawn(mut cmd: Command, program: &str) -> Result<Child, VideoError> {
    cmd.spawn().map_err(|e| VideoError::Missing(format!("{program}: {e}")))
}

/// Reads a child's stderr to the end on a thread (at most 64 KiB kept).
fn drain(child: &mut Child) -> Option<JoinHandle<String>> {
    let mut err = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(n) = err.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if buf.len() < 65536 {
                buf.extend_from_slice(&chunk[..n]);
            }
        }
        String::from_utf8_lossy(&buf).trim().to_string()
    }))
}

fn parse_rate(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0 && n > 0.0).then_some(n / d)
}

/// Probes a file with `ffprobe`.
pub fn probe(path: &Path) -> Result<VideoInfo, VideoError> {
    let mut cmd = ffmpeg_command("ffprobe");
    cmd.args(["-print_format", "json", "-show_format", "-show_streams"]);
    input_args(&mut cmd, path)?;
    let out = spawn(cmd, "ffprobe")?.wait_with_output()?;
    if !out.status.success() {
        return Err(VideoError::Unreadable(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let v: Json = serde_json::from_slice(&out.stdout).map_err(|e| VideoError::Unreadable(e.to_string()))?;
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1)
        .ok_or_else(|| VideoError::Unreadable("no video stream".into()))?;
    let audio_codec =
        streams.iter().find(|s| s["codec_type"] == "audio").and_then(|s| s["codec_name"].as_str()).map(String::from);
    let (mut width, mut height) =
        (video["width"].as_u64().unwrap_or(0) as u32, video["height"].as_u64().unwrap_or(0) as u32);
    if width == 0 || height == 0 {
        return Err(VideoError::Unreadable("video stream without a size".into()));
    }
    let rotation = video["side_data_list"]
        .as_array()
        .and_then(|l| l.iter().find_map(|d| d["rotation"].as_f64()))
        .or_else(|| video["tags"]["rotate"].as_str().and_then(|r| r.parse().ok()))
        .unwrap_or(0.0);
    if (rotation.abs() - 90.0).abs() < 1.0 || (rotation.abs() - 270.0).abs() < 1.0 {
        std::mem::swap(&mut width, &mut height);
    }
    let fps = ["avg_frame_rate", "r_frame_rate"]
        .iter()
        .find_map(|k| video[*k].as_str().and_then(parse_rate))
        .filter(|f| *f <= 1000.0)
        .unwrap_or(25.0);
    let duration_s = [&video["duration"], &v["format"]["duration"]]
        .iter()
        .find_map(|d| d.as_str().and_then(|s| s.parse::<f64>().ok()))
        .unwrap_or(0.0);
    Ok(VideoInfo { width, height, fps, duration_s, audio_codec })
}

/// Checks a probed video against limits, before decoding.
pub fn check_limits(info: &VideoInfo, fps: f64, limits: &VideoLimits) -> Result<(), VideoError> {
    if info.duration_s > limits.max_duration_s {
        return Err(VideoError::TooLarge(format!(
            "{:.1} s is longer than {:.0} s",
            info.duration_s, limits.max_duration_s
        )));
    }
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels > limits.max_frame_pixels {
        return Err(VideoError::TooLarge(format!(
            "frames of {}x{} are over {} pixels",
            info.width, info.height, limits.max_frame_pixels
        )));
    }
    let frames = (info.duration_s * fps).ceil() as u64;
    if frames > limits.max_frames {
        return Err(VideoError::TooLarge(format!("about {frames} frames is over {}", limits.max_frames)));
    }
    Ok(())
}

/// Frames of a video file, decoded by `ffmpeg` to RGBA on a pipe.
pub struct VideoReader {
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    width: u32,
    height: u32,
    frames: u64,
    max_frames: u64,
}

impl VideoReader {
    /// Starts decoding; with `fps`, frames are resampled to that rate.
    pub fn open(
        path: &Path,
        info: &VideoInfo,
        fps: Option<f64>,
        limits: &VideoLimits,
    ) -> Result<VideoReader, VideoError> {
        let mut cmd = ffmpeg_command("ffmpeg");
        input_args(&mut cmd, path)?;
        cmd.args(["-map", "0:v:0", "-an", "-sn"]);
        if let Some(r) = fps {
            cmd.arg("-vf").arg(format!("fps={r}"));
        }
        cmd.args(["-f", "rawvideo", "-pix_fmt", "rgba", "-"]);
        let mut child = spawn(cmd, "ffmpeg")?;
        let stderr = drain(&mut child);
        let stdout = child.stdout.take().expect("piped stdout");
        Ok(VideoReader {
            child,
            stdout,
            stderr,
            width: info.width,
            height: info.height,
            frames: 0,
            max_frames: limits.max_frames,
        })
    }

    /// The next frame, or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<Image>, VideoError> {
        let len = self.width as usize * self.height as usize * 4;
        let mut buf = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            match self.stdout.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            let status = self.child.wait()?;
            let message = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
            if !status.success() {
                return Err(VideoError::Unreadable(message));
            }
            if self.frames == 0 {
                return Err(VideoError::Unreadable(format!("no frames decoded {message}").trim().to_string()));
            }
            return Ok(None);
        }
        if filled < len {
            return Err(VideoError::Unreadable(format!("truncated frame ({filled} of {len} bytes)")));
        }
        self.frames += 1;
        if self.frames > self.max_frames {
            return Err(VideoError::TooLarge(format!("more than {} frames", self.max_frames)));
        }
        Image::from_rgba8(self.width, self.height, buf).map(Some).map_err(|e| VideoError::Unreadable(e.to_string()))
    }
}

impl Drop for VideoReader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Encoding settings.
#[derive(Clone, Debug)]
pub struct VideoSettings {
    pub fps: f64,
    pub bitrate_kbps: u32,
    /// A file whose first audio stream goes into the output.
    pub audio_from: Option<(PathBuf, String)>,
}

/// Frames to an H.264 MP4 file, encoded by `ffmpeg` from a pipe. The size is set
/// by the first frame.
pub struct VideoWriter {
    out: PathBuf,
    settings: VideoSettings,
    child: Option<(Child, ChildStdin, Option<JoinHandle<String>>)>,
    size: (u32, u32),
}

impl VideoWriter {
    pub fn new(out: &Path, settings: VideoSettings) -> VideoWriter {
        VideoWriter { out: out.to_path_buf(), settings, child: None, size: (0, 0) }
    }

    fn start(&mut self, w: u32, h: u32) -> Result<(), VideoError> {
        let mut cmd = ffmpeg_command("ffmpeg");
        cmd.arg("-y")
            .args(["-f", "rawvideo", "-pix_fmt", "rgba", "-s", &format!("{w}x{h}")])
            .arg("-r")
            .arg(format!("{}", self.settings.fps))
            .args(["-i", "-"]);
        if let Some((audio, _)) = &self.settings.audio_from {
            input_args(&mut cmd, audio)?;
            cmd.args(["-map", "0:v:0", "-map", "1:a:0"]);
            let copy = matches!(self.settings.audio_from.as_ref().map(|a| a.1.as_str()), Some("aac" | "mp3" | "alac"));
            if copy {
                cmd.args(["-c:a", "copy"]);
            } else {
                cmd.args(["-c:a", "aac", "-b:a", "128k"]);
            }
        }
        cmd.args(["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"])
            .arg("-b:v")
            .arg(format!("{}k", self.settings.bitrate_kbps))
            // yuv420p needs even sizes.
            .args(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-movflags", "+faststart", "-f", "mp4"])
            .arg(&self.out);
        cmd.stdin(Stdio::piped()).stdout(Stdio::null());
        let mut child = spawn(cmd, "ffmpeg")?;
        let stderr = drain(&mut child);
        let stdin = child.stdin.take().expect("piped stdin");
        self.child = Some((child, stdin, stderr));
        self.size = (w, h);
        Ok(())
    }

    pub fn write(&mut self, frame: &Image) -> Result<(), VideoError> {
        let (w, h) = frame.dimensions();
        if self.child.is_none() {
            self.start(w, h)?;
        }
        if (w, h) != self.size {
            return Err(VideoError::Encode(format!(
                "frames differ in size ({}x{} and {w}x{h})",
                self.size.0, self.size.1
            )));
        }
        let (_, stdin, _) = self.child.as_mut().expect("started");
        if let Err(e) = stdin.write_all(&frame.to_rgba8()) {
            let message = self.finish_child().err().map(|e| e.to_string()).unwrap_or_default();
            return Err(VideoError::Encode(format!("{e} {message}").trim().to_string()));
        }
        Ok(())
    }

    fn finish_child(&mut self) -> Result<(), VideoError> {
        let Some((mut child, stdin, stderr)) = self.child.take() else {
            return Err(VideoError::Encode("no frames to encode".into()));
        };
        drop(stdin);
        let status = child.wait()?;
        let message = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        if !status.success() {
            return Err(VideoError::Encode(message));
        }
        Ok(())
    }

    /// Closes the pipe and waits for the file.
    pub fn finish(mut self) -> Result<(), VideoError> {
        self.finish_child()
    }
}

impl Drop for VideoWriter {
    fn drop(&mut self) {
        if let Some((mut child, _, _)) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A file in the temporary directory, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(extension: &str) -> TempFile {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!("imgflo-{}-{}.{extension}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        TempFile(std::env::temp_dir().join(name))
    }
    pub fn with_bytes(extension: &str, bytes: &[u8]) -> Result<TempFile, VideoError> {
        let f = TempFile::new(extension);
        std::fs::write(&f.0, bytes)?;
        Ok(f)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `frame_fn` on every frame of the video in `input` and encodes the results
/// to MP4 bytes, keeping the audio. `fps` resamples; `check` runs before each frame
/// (cancellation and deadlines).
pub fn transcode<E>(
    input: &[u8],
    fps: Option<f64>,
    bitrate_kbps: u32,
    limits: &VideoLimits,
    check: &dyn Fn() -> Result<(), E>,
    frame_fn: &mut dyn FnMut(Arc<Image>) -> Result<Arc<Image>, E>,
) -> Result<Vec<u8>, TranscodeError<E>> {
    let src = TempFile::with_bytes("in", input).map_err(TranscodeError::Video)?;
    let info = probe(src.path()).map_err(TranscodeError::Video)?;
    let rate = fps.unwrap_or(info.fps);
    let video = TranscodeError::Video;
    check_limits(&info, rate, limits).map_err(video)?;
    let mut reader = VideoReader::open(src.path(), &info, fps, limits).map_err(video)?;
    let out = TempFile::new("mp4");
    let audio = info.audio_codec.clone().map(|c| (src.path().to_path_buf(), c));
    let mut writer = VideoWriter::new(out.path(), VideoSettings { fps: rate, bitrate_kbps, audio_from: audio });
    while let Some(frame) = reader.next_frame().map_err(video)? {
        check().map_err(TranscodeError::Frame)?;
        let processed = frame_fn(Arc::new(frame)).map_err(TranscodeError::Frame)?;
        writer.write(&processed).map_err(video)?;
    }
    writer.finish().map_err(video)?;
    std::fs::read(out.path()).map_err(|e| video(e.into()))
}

/// The first frame of a video (a still requested from a video input).
pub fn first_frame(input: &[u8], limits: &VideoLimits) -> Result<Image, VideoError> {
    let src = TempFile::with_bytes("in", input)?;
    let info = probe(src.path())?;
    check_limits(&VideoInfo { duration_s: 0.0, ..info.clone() }, info.fps, limits)?;
    let mut reader = VideoReader::open(src.path(), &info, None, limits)?;
    reader.next_frame()?.ok_or_else(|| VideoError::Unreadable("no frames".into()))
}

/// Encodes frames (an animation) to MP4 bytes at `fps`.
pub fn encode_frames(frames: &[Arc<Image>], fps: f64, bitrate_kbps: u32) -> Result<Vec<u8>, VideoError> {
    let out = TempFile::new("mp4");
    let mut writer = VideoWriter::new(out.path(), VideoSettings { fps, bitrate_kbps, audio_from: None });
    for f in frames {
        writer.write(f)?;
    }
    writer.finish()?;
    Ok(std::fs::read(out.path())?)
}

/// A transcode failure: the video, or the graph on a frame.
#[derive(Debug)]
pub enum TranscodeError<E> {
    Video(VideoError),
    Frame(E),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_recognised_by_magic() {
        assert!(is_video(b"\0\0\0\x18ftypmp42rest"));
        assert!(is_video(&[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0]));
        assert!(is_video(&[0x1A, 0x45, 0xDF, 0xA3, 1]));
        assert!(is_video(b"RIFF\0\0\0\0AVI LIST"));
        assert!(!is_video(b"RIFF\0\0\0\0WEBPVP8 "));
        assert!(!is_video(b"\xff\xd8\xff\xe0"));
        assert!(!is_video(b""));
        assert!(!is_video(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd"), "playlists are not videos");
        assert_eq!(container(b"\0\0\0\x18ftypisom"), Some("mov"));
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("30/1"), Some(30.0));
        assert_eq!(parse_rate("30000/1001").map(|r| (r * 100.0).round()), Some(2997.0));
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("25"), Some(25.0));
    }

    #[test]
    fn limits_are_checked_from_the_probe() {
        let info = VideoInfo { width: 1920, height: 1080, fps: 30.0, duration_s: 10.0, audio_codec: None };
        assert!(check_limits(&info, 30.0, &VideoLimits::default()).is_ok());
        let short = VideoLimits { max_duration_s: 5.0, ..VideoLimits::default() };
        assert!(check_limits(&info, 30.0, &short).is_err());
        let few = VideoLimits { max_frames: 100, ..VideoLimits::default() };
        assert!(check_limits(&info, 30.0, &few).is_err());
        let small = VideoLimits { max_frame_pixels: 1000, ..VideoLimits::default() };
        assert!(check_limits(&info, 30.0, &small).is_err());
    }

    #[test]
    fn garbage_is_unreadable_not_a_hang() {
        if Command::new("ffprobe").arg("-version").output().is_err() {
            eprintln!("skipped: ffprobe is not installed");
            return;
        }
        let err =
            transcode::<()>(b"\0\0\0\x18ftypmp42garbage", None, 128, &VideoLimits::default(), &|| Ok(()), &mut Ok);
        assert!(matches!(err, Err(TranscodeError::Video(VideoError::Unreadable(_)))), "{err:?}");
    }

    #[test]
    fn frames_round_trip_through_mp4() {
        if Command::new("ffmpeg").arg("-version").output().is_err() {
            eprintln!("skipped: ffmpeg is not installed");
            return;
        }
        let frames: Vec<Arc<Image>> = (0..10u8)
            .map(|i| Arc::new(Image::from_rgba8(33, 20, [i * 25, 100, 200, 255].repeat(33 * 20)).unwrap()))
            .collect();
        let mp4 = encode_frames(&frames, 10.0, 200).unwrap();
        assert!(is_video(&mp4));
        let mut seen = 0;
        let out = transcode::<()>(&mp4, None, 200, &VideoLimits::default(), &|| Ok(()), &mut |f| {
            seen += 1;
            assert_eq!(f.dimensions(), (34, 20), "padded to an even width");
            Ok(f)
        })
        .unwrap();
        assert_eq!(seen, 10);
        let src = TempFile::with_bytes("mp4", &out).unwrap();
        let info = probe(src.path()).unwrap();
        assert_eq!((info.width, info.height), (34, 20));
        assert!((info.duration_s - 1.0).abs() < 0.15, "{}", info.duration_s);
        assert_eq!(info.audio_codec, None);
    }
}
