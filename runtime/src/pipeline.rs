//! One whole request on the engine: input bytes (a still image, an animation or a
//! video) and parameters in, encoded output bytes out. The server and the CLI
//! both run requests through [`process`].
//!
//! - A still (or a GIF/WebP requested as JPEG or PNG: its first frame) is decoded
//!   with the pixel limit and shrink-on-load, run once, encoded.
//! - An animated GIF/WebP requested as GIF or WebP runs the graph on every frame
//!   and keeps delays and loop count; as MP4 it becomes a video.
//! - A video requested as MP4 runs the graph on every frame (audio kept); as an
//!   image format it gives its first frame, processed.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::codec::animation::{self, Animation, AnimationLimits, Frame};
use crate::codec::{self, CodecError, EncodeOptions, OutputFormat};
use crate::eval::{decode_input, EvalError, PreparedGraph};
use crate::graph::Graph;
use crate::ops::{Registry, RunContext};
use crate::pixels::Image;
use crate::video::{self, TranscodeError, VideoError, VideoLimits};

/// The default video bitrate, kb/s (GEGL's ff-save default, which the original
/// used when none was given).
pub const DEFAULT_VIDEO_BITRATE: u32 = 128;

/// What the request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Image(OutputFormat),
    /// H.264 in MP4.
    Video,
}

impl Output {
    /// From a request's extension: `jpg`, `jpeg`, `png`, `webp`, `gif` or `mp4`.
    pub fn from_extension(ext: &str) -> Option<Output> {
        if ext == "mp4" {
            return Some(Output::Video);
        }
        OutputFormat::from_extension(ext).map(Output::Image)
    }
    pub fn mime(self) -> &'static str {
        match self {
            Output::Image(f) => f.mime(),
            Output::Video => "video/mp4",
        }
    }
}

/// Limits on inputs.
#[derive(Clone, Copy, Debug)]
pub struct InputLimits {
    /// Pixels of a still input (checked from the header).
    pub max_pixels: u64,
    pub animation: AnimationLimits,
    pub video: VideoLimits,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_pixels: codec::DecodeOptions::default().max_pixels,
            animation: AnimationLimits::default(),
            video: VideoLimits::default(),
        }
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The input is not a supported image, or over a limit.
    #[error(transparent)]
    Input(CodecError),
    /// The input video cannot be read or is over a limit.
    #[error(transparent)]
    InputVideo(VideoError),
    /// The graph (parameters, a node) failed.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// MP4 was asked of an input that has no frames to make a video of.
    #[error("an MP4 output needs a video or an animated GIF/WebP input")]
    NotAVideo,
    /// Encoding the output failed.
    #[error(transparent)]
    Encode(CodecError),
    /// Encoding the video failed (ffmpeg missing or failing).
    #[error(transparent)]
    EncodeVideo(VideoError),
}

/// One request.
pub struct Request<'a> {
    pub graph: &'a Graph,
    pub registry: &'a Registry,
    pub input: Option<&'a [u8]>,
    pub params: &'a [(String, Json)],
    pub output: Output,
    pub quality: u8,
    pub limits: InputLimits,
}

/// Runs a request: decode, evaluate (per frame for animations and video), encode.
pub fn process(req: &Request, ctx: &RunContext) -> Result<Vec<u8>, PipelineError> {
    let mut prepared = PreparedGraph::new(req.graph, req.registry, req.params)?;
    let opts = prepared.options();
    let bitrate = opts.video_bitrate.unwrap_or(DEFAULT_VIDEO_BITRATE);
    let Some(bytes) = req.input else {
        let out = prepared.run(None, ctx)?;
        return match req.output {
            Output::Image(format) => encode(&out.image, format, req.quality),
            Output::Video => Err(PipelineError::NotAVideo),
        };
    };
    if video::is_video(bytes) {
        return match req.output {
            Output::Video => {
                let check = || ctx.check().map_err(|e| EvalError::from_op("", "", e));
                let mut frame = |img: Arc<Image>| prepared.run(Some(img), ctx).map(|o| o.image);
                video::transcode(bytes, opts.video_framerate, bitrate, &req.limits.video, &check, &mut frame).map_err(
                    |e| match e {
                        TranscodeError::Video(
                            v @ (VideoError::Missing(_) | VideoError::Encode(_) | VideoError::Io(_)),
                        ) => PipelineError::EncodeVideo(v),
                        TranscodeError::Video(v) => PipelineError::InputVideo(v),
                        TranscodeError::Frame(e) => PipelineError::Eval(e),
                    },
                )
            }
            Output::Image(format) => {
                let first = video::first_frame(bytes, &req.limits.video).map_err(|e| match e {
                    v @ VideoError::Missing(_) => PipelineError::EncodeVideo(v),
                    v => PipelineError::InputVideo(v),
                })?;
                encode(&prepared.run(Some(Arc::new(first)), ctx)?.image, format, req.quality)
            }
        };
    }
    let animated = matches!(req.output, Output::Video | Output::Image(OutputFormat::Gif | OutputFormat::Webp))
        && animation::frame_count(bytes).is_some_and(|n| n > 1);
    if animated {
        let anim = animation::decode_animation(bytes, &req.limits.animation)
            .map_err(PipelineError::Input)?
            .ok_or(PipelineError::NotAVideo)?;
        let mut frames = Vec::with_capacity(anim.frames.len());
        for f in anim.frames {
            ctx.check().map_err(|e| EvalError::from_op("", "", e))?;
            frames.push(Frame { image: prepared.run(Some(f.image), ctx)?.image, delay_ms: f.delay_ms });
        }
        let anim = Animation { frames, loop_count: anim.loop_count };
        return match req.output {
            Output::Image(format) => {
                animation::encode_animation(&anim, format, req.quality).map_err(PipelineError::Encode)
            }
            Output::Video => {
                let total: u32 = anim.frames.iter().map(|f| f.delay_ms.max(20)).sum();
                let fps = opts.video_framerate.unwrap_or(anim.frames.len() as f64 * 1000.0 / f64::from(total.max(1)));
                let images: Vec<Arc<Image>> = anim.frames.into_iter().map(|f| f.image).collect();
                video::encode_frames(&images, fps, bitrate).map_err(PipelineError::EncodeVideo)
            }
        };
    }
    if req.output == Output::Video {
        return Err(PipelineError::NotAVideo);
    }
    let image = decode_input(bytes, req.params, req.limits.max_pixels).map_err(PipelineError::Input)?;
    let out = prepared.run(Some(Arc::new(image)), ctx)?;
    match req.output {
        Output::Image(format) => encode(&out.image, format, req.quality),
        Output::Video => Err(PipelineError::NotAVideo),
    }
}

fn encode(image: &Image, format: OutputFormat, quality: u8) -> Result<Vec<u8>, PipelineError> {
    let mut opts = EncodeOptions::new(format);
    opts.quality = quality;
    codec::encode(image, &opts).map_err(PipelineError::Encode)
}
