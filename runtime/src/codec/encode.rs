//! Encoding to the output formats.

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::{jpeg, CodecError};
use crate::pixels::{Image, Layout};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl OutputFormat {
    /// From a request's extension (`jpg`, `jpeg`, `png`, `webp`, `gif`), exactly.
    pub fn from_extension(ext: &str) -> Option<OutputFormat> {
        match ext {
            "jpg" | "jpeg" => Some(OutputFormat::Jpeg),
            "png" => Some(OutputFormat::Png),
            "webp" => Some(OutputFormat::Webp),
            "gif" => Some(OutputFormat::Gif),
            _ => None,
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Gif => "gif",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::Webp => "image/webp",
            OutputFormat::Gif => "image/gif",
        }
    }
    pub const ALL: [OutputFormat; 4] = [OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::Webp, OutputFormat::Gif];
}

/// PNG deflate effort. `Fast` is the default: see BENCHMARKS.md for the measured
/// size/speed trade-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PngCompression {
    Fast,
    Default,
    Best,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EncodeOptions {
    pub format: OutputFormat,
    /// JPEG and WebP quality, 1-100 (GEGL's jpg-save default 90).
    pub quality: u8,
    /// Progressive JPEG (GEGL's default).
    pub progressive: bool,
    pub png_compression: PngCompression,
}

impl EncodeOptions {
    pub fn new(format: OutputFormat) -> EncodeOptions {
        EncodeOptions { format, quality: 90, progressive: true, png_compression: PngCompression::Fast }
    }
}

fn enc_err(format: &'static str, e: impl std::fmt::Display) -> CodecError {
    CodecError::Encode { format, message: e.to_string() }
}

/// Encodes an image. Alpha is dropped for JPEG (as GEGL's jpg-save did); PNG and
/// WebP keep it only when some pixel is not opaque.
pub fn encode(img: &Image, opts: &EncodeOptions) -> Result<Vec<u8>, CodecError> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Err(enc_err("image", "cannot encode an empty image"));
    }
    match opts.format {
        OutputFormat::Jpeg => jpeg::encode(&img.to_rgb8(), w, h, opts.quality, opts.progressive),
        OutputFormat::Png => {
            let (layout, data) = img.to_srgb8_auto();
            let color = if layout == Layout::Rgb8 { ExtendedColorType::Rgb8 } else { ExtendedColorType::Rgba8 };
            let (compression, filter) = match opts.png_compression {
                PngCompression::Fast => (CompressionType::Fast, FilterType::Adaptive),
                PngCompression::Default => (CompressionType::Default, FilterType::Adaptive),
                PngCompression::Best => (CompressionType::Best, FilterType::Adaptive),
            };
            let mut out = Vec::new();
            PngEncoder::new_with_quality(&mut out, compression, filter)
                .write_image(&data, w, h, color)
                .map_err(|e| enc_err("PNG", e))?;
            Ok(out)
        }
        OutputFormat::Webp => {
            let (layout, data) = img.to_srgb8_auto();
            let encoder = if layout == Layout::Rgb8 {
                webp::Encoder::from_rgb(&data, w, h)
            } else {
                webp::Encoder::from_rgba(&data, w, h)
            };
            let mem = encoder
                .encode_simple(false, opts.quality.clamp(1, 100) as f32)
                .map_err(|e| enc_err("WebP", format!("{e:?}")))?;
            Ok(mem.to_vec())
        }
        OutputFormat::Gif => {
            let rgba = img.to_rgba8();
            let mut out = Vec::new();
            {
                let mut enc = GifEncoder::new_with_speed(Cursor::new(&mut out), 10);
                enc.encode(&rgba, w, h, ExtendedColorType::Rgba8).map_err(|e| enc_err("GIF", e))?;
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, sniff, DecodeOptions, ImageFormat};

    fn sample() -> Image {
        let data = (0..32 * 16).flat_map(|i| [(i * 7 % 256) as u8, (i % 256) as u8, 100]).collect();
        Image::from_rgb8(32, 16, data).unwrap()
    }

    #[test]
    fn every_format_round_trips_its_size() {
        for format in OutputFormat::ALL {
            let bytes = encode(&sample(), &EncodeOptions::new(format)).unwrap();
            let sniffed = sniff(&bytes).unwrap();
            assert_eq!(sniffed.extension(), format.extension(), "{format:?}");
            let back = decode(&bytes, &DecodeOptions::default()).unwrap();
            assert_eq!(back.image.dimensions(), (32, 16), "{format:?}");
        }
    }

    #[test]
    fn jpeg_is_close_to_the_source() {
        let bytes = encode(&sample(), &EncodeOptions::new(OutputFormat::Jpeg)).unwrap();
        let back = decode(&bytes, &DecodeOptions::default()).unwrap().image;
        let diff: u64 = back
            .to_rgb8()
            .iter()
            .zip(sample().to_rgb8().iter())
            .map(|(a, b)| (*a as i64 - *b as i64).unsigned_abs())
            .sum();
        assert!(diff / (32 * 16 * 3) < 12, "mean abs diff {}", diff / (32 * 16 * 3));
        assert_eq!(sniff(&bytes), Some(ImageFormat::Jpeg));
    }

    #[test]
    fn png_keeps_alpha_only_when_needed() {
        let opaque = encode(&sample(), &EncodeOptions::new(OutputFormat::Png)).unwrap();
        assert_eq!(opaque[25], 2, "colour type RGB");
        let alpha = Image::from_rgba8(1, 1, vec![1, 2, 3, 4]).unwrap();
        let bytes = encode(&alpha, &EncodeOptions::new(OutputFormat::Png)).unwrap();
        assert_eq!(bytes[25], 6, "colour type RGBA");
    }
}
