//! Animated GIF and WebP: frames decoded into full-canvas RGBA images (GIF disposal
//! applied as browsers apply it), with their delays and loop count, and encoded
//! back. Frame count and total pixels are checked from the container before any
//! frame is decoded, so an animation bomb is refused cheaply.

use std::io::Cursor;

use super::{sniff, CodecError, ImageFormat, OutputFormat};
use crate::pixels::Image;

/// What an animation may hold.
#[derive(Clone, Copy, Debug)]
pub struct AnimationLimits {
    pub max_frames: usize,
    /// Canvas pixels times frames.
    pub max_total_pixels: u64,
}

impl Default for AnimationLimits {
    fn default() -> Self {
        AnimationLimits { max_frames: 1000, max_total_pixels: 200_000_000 }
    }
}

/// One frame: the whole canvas as it shows, and how long it shows.
#[derive(Clone, Debug)]
pub struct Frame {
    pub image: std::sync::Arc<Image>,
    pub delay_ms: u32,
}

/// A decoded animation.
#[derive(Clone, Debug)]
pub struct Animation {
    pub frames: Vec<Frame>,
    /// 0 loops forever.
    pub loop_count: u16,
}

/// The number of frames of a GIF or WebP, read from the container without decoding
/// pixels; `None` for other formats or unreadable data.
pub fn frame_count(bytes: &[u8]) -> Option<usize> {
    match sniff(bytes)? {
        ImageFormat::Gif => gif_scan(bytes).ok().map(|(_, _, n)| n),
        ImageFormat::Webp => Some(webp_scan(bytes)?.2),
        _ => None,
    }
}

/// Decodes every frame of an animated GIF or WebP. `Ok(None)` when the image is
/// not an animation (one frame, or another format).
pub fn decode_animation(bytes: &[u8], limits: &AnimationLimits) -> Result<Option<Animation>, CodecError> {
    let (format, (w, h, frames)) = match sniff(bytes) {
        Some(ImageFormat::Gif) => ("GIF", gif_scan(bytes)?),
        Some(ImageFormat::Webp) => match webp_scan(bytes) {
            Some(scan) => ("WebP", scan),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    if frames < 2 {
        return Ok(None);
    }
    check_limits(w, h, frames, limits)?;
    let anim = if format == "GIF" { decode_gif(bytes)? } else { decode_webp(bytes)? };
    Ok(Some(anim))
}

fn check_limits(w: u32, h: u32, frames: usize, limits: &AnimationLimits) -> Result<(), CodecError> {
    if frames > limits.max_frames {
        return Err(CodecError::Corrupt {
            format: "animation",
            message: format!("{frames} frames is over the limit of {}", limits.max_frames),
        });
    }
    let total = u64::from(w) * u64::from(h) * frames as u64;
    if total > limits.max_total_pixels {
        return Err(CodecError::TooLarge {
            width: u64::from(w),
            height: u64::from(h) * frames as u64,
            limit: limits.max_total_pixels,
        });
    }
    Ok(())
}

fn gif_err(e: impl std::fmt::Display) -> CodecError {
    CodecError::Corrupt { format: "GIF", message: e.to_string() }
}

/// Canvas size and frame count of a GIF, without decoding its frames.
fn gif_scan(bytes: &[u8]) -> Result<(u32, u32, usize), CodecError> {
    let mut opts = gif::DecodeOptions::new();
    opts.skip_frame_decoding(true);
    let mut dec = opts.read_info(Cursor::new(bytes)).map_err(gif_err)?;
    let mut n = 0;
    // With frame decoding skipped, this steps over each frame's data undecoded.
    while dec.read_next_frame().map_err(gif_err)?.is_some() {
        n += 1;
        if n > 100_000 {
            break;
        }
    }
    Ok((u32::from(dec.width()), u32::from(dec.height()), n))
}

fn decode_gif(bytes: &[u8]) -> Result<Animation, CodecError> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut dec = opts.read_info(Cursor::new(bytes)).map_err(gif_err)?;
    let (cw, ch) = (usize::from(dec.width()), usize::from(dec.height()));
    let loop_count = match dec.repeat() {
        gif::Repeat::Infinite => 0,
        gif::Repeat::Finite(n) => n.max(1),
    };
    let mut canvas = vec![0u8; cw * ch * 4];
    let mut frames = Vec::new();
    while let Some(f) = dec.read_next_frame().map_err(gif_err)? {
        let (fx, fy, fw, fh) = (usize::from(f.left), usize::from(f.top), usize::from(f.width), usize::from(f.height));
        let previous = (f.dispose == gif::DisposalMethod::Previous).then(|| canvas.clone());
        for y in 0..fh.min(ch.saturating_sub(fy)) {
            for x in 0..fw.min(cw.saturating_sub(fx)) {
                let s = (y * fw + x) * 4;
                let Some(px) = f.buffer.get(s..s + 4) else { continue };
                if px[3] != 0 {
                    let d = ((fy + y) * cw + fx + x) * 4;
                    canvas[d..d + 4].copy_from_slice(px);
                }
            }
        }
        let image = Image::from_rgba8(cw as u32, ch as u32, canvas.clone()).map_err(gif_err)?;
        frames.push(Frame { image: std::sync::Arc::new(image), delay_ms: u32::from(f.delay) * 10 });
        match f.dispose {
            gif::DisposalMethod::Background => {
                for y in fy..(fy + fh).min(ch) {
                    let row = (y * cw + fx.min(cw)) * 4..(y * cw + (fx + fw).min(cw)) * 4;
                    canvas[row].fill(0);
                }
            }
            gif::DisposalMethod::Previous => canvas = previous.unwrap_or(canvas),
            _ => {}
        }
    }
    Ok(Animation { frames, loop_count })
}

/// Canvas size and frame count of a WebP from its RIFF chunks (VP8X and ANMF).
fn webp_scan(bytes: &[u8]) -> Option<(u32, u32, usize)> {
    let mut pos = 12;
    let (mut w, mut h, mut frames) = (0, 0, 0);
    let mut animated = false;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        let data = bytes.get(pos + 8..pos + 8 + size.min(bytes.len() - pos - 8))?;
        match id {
            b"VP8X" if data.len() >= 10 => {
                animated = data[0] & 0x02 != 0;
                let u24 = |b: &[u8]| u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
                w = u24(&data[4..7]) + 1;
                h = u24(&data[7..10]) + 1;
            }
            b"ANMF" => frames += 1,
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    Some((w, h, if animated { frames } else { 1 }))
}

fn decode_webp(bytes: &[u8]) -> Result<Animation, CodecError> {
    let err = |message: String| CodecError::Corrupt { format: "WebP", message };
    let anim = webp::AnimDecoder::new(bytes).decode().map_err(err)?;
    let mut frames = Vec::with_capacity(anim.len());
    let mut last_end = 0;
    for i in 0..anim.len() {
        let f = anim.get_frame(i).ok_or_else(|| err(format!("frame {i} missing")))?;
        let (w, h) = (f.width(), f.height());
        let image = match f.get_layout() {
            webp::PixelLayout::Rgba => Image::from_rgba8(w, h, f.get_image().to_vec()),
            webp::PixelLayout::Rgb => Image::from_rgb8(w, h, f.get_image().to_vec()),
        }
        .map_err(|e| err(e.to_string()))?;
        // libwebp gives each frame's end time.
        let end = f.get_time_ms().max(last_end);
        frames.push(Frame { image: std::sync::Arc::new(image), delay_ms: (end - last_end) as u32 });
        last_end = end;
    }
    Ok(Animation { frames, loop_count: anim.loop_count.min(u32::from(u16::MAX)) as u16 })
}

/// Encodes frames (all of one size) as an animated GIF or WebP.
pub fn encode_animation(anim: &Animation, format: OutputFormat, quality: u8) -> Result<Vec<u8>, CodecError> {
    let first = anim.frames.first().ok_or(CodecError::Encode { format: "animation", message: "no frames".into() })?;
    let (w, h) = first.image.dimensions();
    if let Some(f) = anim.frames.iter().find(|f| f.image.dimensions() != (w, h)) {
        let (fw, fh) = f.image.dimensions();
        return Err(CodecError::Encode {
            format: "animation",
            message: format!("frames differ in size ({w}x{h} and {fw}x{fh})"),
        });
    }
    match format {
        OutputFormat::Gif => encode_gif(anim, w, h),
        OutputFormat::Webp => encode_webp(anim, w, h, quality),
        other => Err(CodecError::Encode { format: other.extension(), message: "not an animation format".into() }),
    }
}

fn encode_gif(anim: &Animation, w: u32, h: u32) -> Result<Vec<u8>, CodecError> {
    let err = |e: gif::EncodingError| CodecError::Encode { format: "GIF", message: e.to_string() };
    let (gw, gh) = match (u16::try_from(w), u16::try_from(h)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(CodecError::Encode { format: "GIF", message: format!("{w}x{h} is over 65535") }),
    };
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, gw, gh, &[]).map_err(err)?;
        enc.set_repeat(if anim.loop_count == 0 { gif::Repeat::Infinite } else { gif::Repeat::Finite(anim.loop_count) })
            .map_err(err)?;
        for f in &anim.frames {
            let mut rgba = f.image.to_rgba8().into_owned();
            let mut frame = gif::Frame::from_rgba_speed(gw, gh, &mut rgba, 10);
            frame.delay = (f.delay_ms / 10).min(u32::from(u16::MAX)) as u16;
            // Every frame is the whole canvas: clear before the next, so transparent
            // pixels show what the source showed, not the frame before.
            frame.dispose = gif::DisposalMethod::Background;
            enc.write_frame(&frame).map_err(err)?;
        }
    }
    Ok(out)
}

fn encode_webp(anim: &Animation, w: u32, h: u32, quality: u8) -> Result<Vec<u8>, CodecError> {
    let err = |message: String| CodecError::Encode { format: "WebP", message };
    let mut config = webp::WebPConfig::new().map_err(|_| err("config".into()))?;
    config.quality = f32::from(quality);
    let buffers: Vec<Vec<u8>> = anim.frames.iter().map(|f| f.image.to_rgba8().into_owned()).collect();
    let mut enc = webp::AnimEncoder::new(w, h, &config);
    enc.set_loop_count(i32::from(anim.loop_count));
    let mut t = 0i32;
    for (buf, f) in buffers.iter().zip(&anim.frames) {
        enc.add_frame(webp::AnimFrame::from_rgba(buf, w, h, t));
        t = t.saturating_add(f.delay_ms.min(i32::MAX as u32) as i32);
    }
    let mem = enc.try_encode().map_err(|e| err(format!("{e:?}")))?;
    Ok(mem.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn solid(w: u32, h: u32, rgba: [u8; 4]) -> Arc<Image> {
        Arc::new(Image::from_rgba8(w, h, rgba.repeat((w * h) as usize)).unwrap())
    }

    fn three_frames() -> Animation {
        Animation {
            frames: vec![
                Frame { image: solid(8, 6, [255, 0, 0, 255]), delay_ms: 100 },
                Frame { image: solid(8, 6, [0, 255, 0, 255]), delay_ms: 200 },
                Frame { image: solid(8, 6, [0, 0, 255, 255]), delay_ms: 50 },
            ],
            loop_count: 3,
        }
    }

    #[test]
    fn gif_round_trip_keeps_frames_delays_and_loops() {
        let bytes = encode_animation(&three_frames(), OutputFormat::Gif, 90).unwrap();
        assert_eq!(frame_count(&bytes), Some(3));
        let back = decode_animation(&bytes, &AnimationLimits::default()).unwrap().unwrap();
        assert_eq!(back.frames.iter().map(|f| f.delay_ms).collect::<Vec<_>>(), vec![100, 200, 50]);
        assert_eq!(back.loop_count, 3);
        assert_eq!(&back.frames[1].image.to_rgba8()[..4], &[0, 255, 0, 255]);
        assert_eq!(back.frames[2].image.dimensions(), (8, 6));
    }

    #[test]
    fn webp_round_trip_keeps_frames_and_delays() {
        let bytes = encode_animation(&three_frames(), OutputFormat::Webp, 90).unwrap();
        assert_eq!(frame_count(&bytes), Some(3));
        let back = decode_animation(&bytes, &AnimationLimits::default()).unwrap().unwrap();
        assert_eq!(back.frames.len(), 3);
        assert_eq!(back.loop_count, 3);
        let delays: Vec<u32> = back.frames.iter().map(|f| f.delay_ms).collect();
        assert_eq!(&delays[..2], &[100, 200], "the last frame's duration is the encoder's to choose");
        let px = &back.frames[0].image.to_rgba8()[..3].to_vec();
        assert!(px[0] > 200 && px[1] < 50, "first frame red: {px:?}");
    }

    #[test]
    fn stills_are_not_animations_and_limits_refuse_bombs() {
        let one = Animation { frames: vec![three_frames().frames[0].clone()], loop_count: 0 };
        let bytes = encode_animation(&one, OutputFormat::Gif, 90).unwrap();
        assert!(decode_animation(&bytes, &AnimationLimits::default()).unwrap().is_none());
        let three = encode_animation(&three_frames(), OutputFormat::Gif, 90).unwrap();
        let few = AnimationLimits { max_frames: 2, ..AnimationLimits::default() };
        assert!(decode_animation(&three, &few).is_err());
        let small = AnimationLimits { max_total_pixels: 100, ..AnimationLimits::default() };
        assert!(matches!(decode_animation(&three, &small), Err(CodecError::TooLarge { .. })));
        assert!(decode_animation(b"GIF89a\x01", &AnimationLimits::default()).is_err());
    }

    /// A 4x4 GIF: a red first frame, then 2x2 patches disposed as `dispose`.
    fn patched_gif(dispose: gif::DisposalMethod) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let palette = [255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 0, 0];
            let mut enc = gif::Encoder::new(&mut out, 4, 4, &palette).unwrap();
            let frame = |left, top, size: u16, index: u8, dispose| gif::Frame {
                left,
                top,
                width: size,
                height: size,
                delay: 5,
                dispose,
                buffer: std::borrow::Cow::Owned(vec![index; usize::from(size * size)]),
                ..gif::Frame::default()
            };
            enc.write_frame(&frame(0, 0, 4, 0, gif::DisposalMethod::Keep)).unwrap();
            enc.write_frame(&frame(0, 0, 2, 1, dispose)).unwrap();
            enc.write_frame(&frame(2, 2, 2, 2, gif::DisposalMethod::Keep)).unwrap();
        }
        out
    }

    fn at(img: &Image, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * img.width() + x) * 4) as usize;
        let d = img.to_rgba8();
        [d[i], d[i + 1], d[i + 2], d[i + 3]]
    }

    #[test]
    fn partial_frames_are_composited_with_their_disposal() {
        let (red, blue, green) = ([255, 0, 0, 255], [0, 0, 255, 255], [0, 255, 0, 255]);
        let decode = |d| decode_animation(&patched_gif(d), &AnimationLimits::default()).unwrap().unwrap();
        for d in [gif::DisposalMethod::Keep, gif::DisposalMethod::Background, gif::DisposalMethod::Previous] {
            let anim = decode(d);
            assert_eq!(anim.frames.len(), 3);
            assert_eq!(anim.frames[0].delay_ms, 50);
            let second = &anim.frames[1].image;
            assert_eq!((at(second, 0, 0), at(second, 3, 3)), (blue, red), "{d:?}: the patch over the first frame");
            let third = &anim.frames[2].image;
            assert_eq!(at(third, 3, 3), green, "{d:?}");
            assert_eq!(at(third, 3, 0), red, "{d:?}");
            let expected = match d {
                gif::DisposalMethod::Keep => blue,
                gif::DisposalMethod::Background => [0, 0, 0, 0],
                _ => red,
            };
            assert_eq!(at(third, 0, 0), expected, "{d:?}: the second patch after its disposal");
        }
    }

    #[test]
    fn frames_of_different_sizes_are_refused() {
        let mut anim = three_frames();
        anim.frames[1].image = solid(4, 4, [0, 0, 0, 255]);
        assert!(encode_animation(&anim, OutputFormat::Gif, 90).is_err());
    }
}
