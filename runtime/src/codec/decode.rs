//! Decoding with a pixel limit checked on the header, and EXIF auto-orientation.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};

use super::{jpeg, sniff, CodecError, ImageFormat};
use crate::pixels::transform::{self, Orientation};
use crate::pixels::Image;

/// How to decode.
#[derive(Clone, Debug)]
pub struct DecodeOptions {
    /// Refuse images with more pixels than this (checked before decoding).
    pub max_pixels: u64,
    /// The size (after orientation) the image will be scaled to, if known: JPEGs
    /// are then decoded at the smallest DCT scale that is still at least this big.
    pub target: Option<(u32, u32)>,
    /// Apply the EXIF orientation so the image is upright.
    pub auto_orient: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { max_pixels: 100_000_000, target: None, auto_orient: true }
    }
}

/// A decoded image with what was learnt about the file.
#[derive(Debug)]
pub struct Decoded {
    pub image: Image,
    pub format: ImageFormat,
    /// Size of the full image as displayed (after orientation, before any shrink).
    pub width: u32,
    pub height: u32,
}

/// The format and displayed size of an image, from its header only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub orientation: Orientation,
}

fn image_format(f: ImageFormat) -> image::ImageFormat {
    match f {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Bmp => image::ImageFormat::Bmp,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
    }
}

fn corrupt(format: ImageFormat, e: impl std::fmt::Display) -> CodecError {
    CodecError::Corrupt { format: format.name(), message: e.to_string() }
}

fn orientation_of(o: image::metadata::Orientation) -> Orientation {
    use image::metadata::Orientation as O;
    match o {
        O::NoTransforms => Orientation::Normal,
        O::FlipHorizontal => Orientation::FlipH,
        O::Rotate180 => Orientation::Rotate180,
        O::FlipVertical => Orientation::FlipV,
        O::Rotate90FlipH => Orientation::Transpose,
        O::Rotate90 => Orientation::Rotate90,
        O::Rotate270FlipH => Orientation::Transverse,
        O::Rotate270 => Orientation::Rotate270,
    }
}

fn decoder(bytes: &[u8], format: ImageFormat) -> Result<impl ImageDecoder + '_, CodecError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    reader.no_limits();
    reader.into_decoder().map_err(|e| corrupt(format, e))
}

/// Reads format, size and orientation without decoding pixels.
pub fn probe(bytes: &[u8]) -> Result<Probe, CodecError> {
    let format = sniff(bytes).ok_or(CodecError::UnknownFormat)?;
    let (w, h, orientation) = if format == ImageFormat::Jpeg {
        let info = jpeg::scan(bytes)?;
        let o = info.orientation.map_or(Orientation::Normal, Orientation::from_exif);
        (info.width, info.height, o)
    } else {
        let mut d = decoder(bytes, format)?;
        let (w, h) = d.dimensions();
        let o = d.orientation().map(orientation_of).unwrap_or(Orientation::Normal);
        (w, h, o)
    };
    let (width, height) = if o_swaps(orientation) { (h, w) } else { (w, h) };
    Ok(Probe { format, width, height, orientation })
}

fn o_swaps(o: Orientation) -> bool {
    o.swaps_axes()
}

fn check_limit(w: u32, h: u32, limit: u64) -> Result<(), CodecError> {
    if w as u64 * h as u64 > limit {
        return Err(CodecError::TooLarge { width: w as u64, height: h as u64, limit });
    }
    Ok(())
}

/// Decodes an image of any supported format.
pub fn decode(bytes: &[u8], opts: &DecodeOptions) -> Result<Decoded, CodecError> {
    let format = sniff(bytes).ok_or(CodecError::UnknownFormat)?;
    if format == ImageFormat::Jpeg {
        return decode_jpeg(bytes, opts);
    }
    let mut d = decoder(bytes, format)?;
    let (w, h) = d.dimensions();
    check_limit(w, h, opts.max_pixels)?;
    let orientation = if opts.auto_orient {
        d.orientation().map(orientation_of).unwrap_or(Orientation::Normal)
    } else {
        Orientation::Normal
    };
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(16).max(1 << 20));
    d.set_limits(limits).map_err(|e| corrupt(format, e))?;
    let dynamic = DynamicImage::from_decoder(d).map_err(|e| corrupt(format, e))?;
    let image = from_dynamic(dynamic).map_err(|e| corrupt(format, e))?;
    let image = if orientation == Orientation::Normal { image } else { transform::orient(&image, orientation) };
    let (width, height) = image.dimensions();
    Ok(Decoded { image, format, width, height })
}

fn decode_jpeg(bytes: &[u8], opts: &DecodeOptions) -> Result<Decoded, CodecError> {
    let info = jpeg::scan(bytes)?;
    check_limit(info.width, info.height, opts.max_pixels)?;
    let orientation = match (opts.auto_orient, info.orientation) {
        (true, Some(v)) => Orientation::from_exif(v),
        _ => Orientation::Normal,
    };
    // The target is in displayed orientation; the decoder scales stored pixels.
    let target = opts.target.map(|(tw, th)| if orientation.swaps_axes() { (th, tw) } else { (tw, th) });
    let denom = jpeg::shrink_factor(info.width, info.height, target);
    let image = jpeg::decode(bytes, &info, denom)?;
    let image = if orientation == Orientation::Normal { image } else { transform::orient(&image, orientation) };
    let (width, height) = if orientation.swaps_axes() { (info.height, info.width) } else { (info.width, info.height) };
    Ok(Decoded { image, format: ImageFormat::Jpeg, width, height })
}

/// Converts a decoded `image` crate picture to ours: 8-bit stays 8-bit sRGB (grey
/// widened to RGB), deeper images become linear f32 so no precision is lost.
fn from_dynamic(img: DynamicImage) -> Result<Image, crate::pixels::SizeMismatch> {
    let (w, h) = (img.width(), img.height());
    match img {
        DynamicImage::ImageRgb8(b) => Image::from_rgb8(w, h, b.into_raw()),
        DynamicImage::ImageRgba8(b) => Image::from_rgba8(w, h, b.into_raw()),
        DynamicImage::ImageLuma8(b) => Image::from_rgb8(w, h, b.into_raw().iter().flat_map(|&v| [v, v, v]).collect()),
        DynamicImage::ImageLumaA8(b) => {
            Image::from_rgba8(w, h, b.into_raw().chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect())
        }
        other => {
            let rgba = other.into_rgba32f().into_raw();
            let mut lin = rgba;
            for px in lin.chunks_exact_mut(4) {
                for c in &mut px[..3] {
                    *c = crate::pixels::srgb::srgb_to_linear(*c);
                }
            }
            Image::from_rgba_f32(w, h, lin)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode, EncodeOptions, OutputFormat};

    fn png_bytes(img: &Image) -> Vec<u8> {
        encode(img, &EncodeOptions::new(OutputFormat::Png)).unwrap()
    }

    #[test]
    fn unknown_bytes_are_refused() {
        assert!(matches!(decode(b"hello world", &DecodeOptions::default()), Err(CodecError::UnknownFormat)));
        assert!(matches!(probe(b"<svg/>"), Err(CodecError::UnknownFormat)));
    }

    #[test]
    fn pixel_limit_is_checked_before_decoding() {
        let img = Image::from_rgb8(40, 30, vec![9; 40 * 30 * 3]).unwrap();
        let bytes = png_bytes(&img);
        let opts = DecodeOptions { max_pixels: 1000, ..DecodeOptions::default() };
        assert!(matches!(decode(&bytes, &opts), Err(CodecError::TooLarge { width: 40, height: 30, .. })));
        let p = probe(&bytes).unwrap();
        assert_eq!((p.format, p.width, p.height), (ImageFormat::Png, 40, 30));
    }

    #[test]
    fn truncated_files_error_cleanly() {
        let img = Image::from_rgba8(16, 16, vec![200; 16 * 16 * 4]).unwrap();
        let bytes = png_bytes(&img);
        for n in [8, 20, 40, bytes.len() / 2, bytes.len() - 5] {
            assert!(decode(&bytes[..n], &DecodeOptions::default()).is_err(), "len {n}");
        }
    }

    #[test]
    fn png_round_trip_keeps_alpha_and_bytes() {
        let data: Vec<u8> = (0..8 * 4).flat_map(|i| [i as u8, 255 - i as u8, 3, (i * 8) as u8]).collect();
        let img = Image::from_rgba8(8, 4, data).unwrap();
        let back = decode(&png_bytes(&img), &DecodeOptions::default()).unwrap();
        assert_eq!(back.image, img);
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod layout_tests;
