//! In-memory images.
//!
//! An [`Image`] is immutable once produced and shared as `Arc<Image>` between nodes.
//! Pixels are kept in the cheapest layout that is exact for the work done so far:
//! 8-bit sRGB (RGB or RGBA, straight alpha) straight from the decoder, and linear-light
//! RGBA `f32` (straight alpha) once an operation that computes in linear light has run.
//! Ops that are exact on bytes (crop, flips, rotations by 90°, nop) never convert.

pub mod srgb;
pub mod transform;

use std::borrow::Cow;

/// How the pixels of an [`Image`] are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// 3 bytes per pixel, sRGB-encoded, opaque.
    Rgb8,
    /// 4 bytes per pixel, sRGB-encoded colour, straight alpha.
    Rgba8,
    /// 4 `f32` per pixel, linear-light colour, straight alpha, unclamped.
    RgbaF32,
}

impl Layout {
    pub fn channels(self) -> usize {
        match self {
            Layout::Rgb8 => 3,
            Layout::Rgba8 | Layout::RgbaF32 => 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pixels {
    Rgb8(Vec<u8>),
    Rgba8(Vec<u8>),
    RgbaF32(Vec<f32>),
}

/// A raster image. Invariant: the pixel vector holds exactly
/// `width * height * layout.channels()` values.
///
/// Every image made gets a process-unique `id` (a clone keeps it: same pixels), which
/// the evaluator uses to tell whether a node's inputs changed without hashing pixels.
#[derive(Clone, Debug)]
pub struct Image {
    width: u32,
    height: u32,
    pixels: Pixels,
    id: u64,
}

impl PartialEq for Image {
    fn eq(&self, other: &Image) -> bool {
        self.width == other.width && self.height == other.height && self.pixels == other.pixels
    }
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("pixel buffer of {got} values does not fit a {width}x{height} {layout:?} image")]
pub struct SizeMismatch {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub got: usize,
}

impl Image {
    pub fn new(width: u32, height: u32, pixels: Pixels) -> Result<Image, SizeMismatch> {
        let img = Image { width, height, pixels, id: next_id() };
        let want = width as usize * height as usize * img.layout().channels();
        if img.len_values() != want {
            return Err(SizeMismatch { width, height, layout: img.layout(), got: img.len_values() });
        }
        Ok(img)
    }

    pub fn from_rgb8(width: u32, height: u32, data: Vec<u8>) -> Result<Image, SizeMismatch> {
        Image::new(width, height, Pixels::Rgb8(data))
    }

    pub fn from_rgba8(width: u32, height: u32, data: Vec<u8>) -> Result<Image, SizeMismatch> {
        Image::new(width, height, Pixels::Rgba8(data))
    }

    pub fn from_rgba_f32(width: u32, height: u32, data: Vec<f32>) -> Result<Image, SizeMismatch> {
        Image::new(width, height, Pixels::RgbaF32(data))
    }

    /// A `width`x`height` image of one colour (given in linear light, straight alpha).
    pub fn filled_linear(width: u32, height: u32, rgba: [f32; 4]) -> Image {
        let n = width as usize * height as usize;
        let mut data = Vec::with_capacity(n * 4);
        for _ in 0..n {
            data.extend_from_slice(&rgba);
        }
        Image { width, height, pixels: Pixels::RgbaF32(data), id: next_id() }
    }

    /// Process-unique identity of these pixels.
    pub fn id(&self) -> u64 {
        self.id
    }
    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }
    pub fn layout(&self) -> Layout {
        match &self.pixels {
            Pixels::Rgb8(_) => Layout::Rgb8,
            Pixels::Rgba8(_) => Layout::Rgba8,
            Pixels::RgbaF32(_) => Layout::RgbaF32,
        }
    }
    pub fn pixels(&self) -> &Pixels {
        &self.pixels
    }
    pub fn into_pixels(self) -> Pixels {
        self.pixels
    }
    fn len_values(&self) -> usize {
        match &self.pixels {
            Pixels::Rgb8(v) | Pixels::Rgba8(v) => v.len(),
            Pixels::RgbaF32(v) => v.len(),
        }
    }

    /// Whether any pixel may be less than fully opaque.
    pub fn has_alpha(&self) -> bool {
        !matches!(self.pixels, Pixels::Rgb8(_))
    }

    /// Linear-light RGBA f32, converting from 8-bit sRGB if needed.
    pub fn to_linear_rgba(&self) -> Cow<'_, [f32]> {
        let lut = srgb::u8_to_linear_table();
        match &self.pixels {
            Pixels::RgbaF32(v) => Cow::Borrowed(v),
            Pixels::Rgb8(v) => {
                let mut out = Vec::with_capacity(self.pixel_count() * 4);
                for px in v.chunks_exact(3) {
                    out.extend_from_slice(&[lut[px[0] as usize], lut[px[1] as usize], lut[px[2] as usize], 1.0]);
                }
                Cow::Owned(out)
            }
            Pixels::Rgba8(v) => {
                let mut out = Vec::with_capacity(self.pixel_count() * 4);
                for px in v.chunks_exact(4) {
                    out.extend_from_slice(&[
                        lut[px[0] as usize],
                        lut[px[1] as usize],
                        lut[px[2] as usize],
                        px[3] as f32 / 255.0,
                    ]);
                }
                Cow::Owned(out)
            }
        }
    }

    /// Owned linear-light RGBA f32 (moves the buffer when it already is one).
    pub fn into_linear_rgba(self) -> Vec<f32> {
        match self.pixels {
            Pixels::RgbaF32(v) => v,
            _ => self.to_linear_rgba().into_owned(),
        }
    }

    /// 8-bit sRGB RGBA, converting if needed (floats are clamped).
    pub fn to_rgba8(&self) -> Cow<'_, [u8]> {
        match &self.pixels {
            Pixels::Rgba8(v) => Cow::Borrowed(v),
            Pixels::Rgb8(v) => {
                let mut out = Vec::with_capacity(self.pixel_count() * 4);
                for px in v.chunks_exact(3) {
                    out.extend_from_slice(&[px[0], px[1], px[2], 255]);
                }
                Cow::Owned(out)
            }
            Pixels::RgbaF32(v) => Cow::Owned(encode_f32(v, 4)),
        }
    }

    /// 8-bit sRGB RGB with alpha dropped (as GEGL's savers to alpha-less formats did).
    pub fn to_rgb8(&self) -> Cow<'_, [u8]> {
        match &self.pixels {
            Pixels::Rgb8(v) => Cow::Borrowed(v),
            Pixels::Rgba8(v) => Cow::Owned(v.chunks_exact(4).flat_map(|px| [px[0], px[1], px[2]]).collect()),
            Pixels::RgbaF32(v) => Cow::Owned(encode_f32(v, 3)),
        }
    }

    /// The 8-bit form a saver should write: RGB when every pixel is opaque, else RGBA.
    pub fn to_srgb8_auto(&self) -> (Layout, Cow<'_, [u8]>) {
        match &self.pixels {
            Pixels::Rgb8(v) => (Layout::Rgb8, Cow::Borrowed(v)),
            Pixels::Rgba8(v) => {
                if v.chunks_exact(4).all(|px| px[3] == 255) {
                    (Layout::Rgb8, self.to_rgb8())
                } else {
                    (Layout::Rgba8, Cow::Borrowed(v))
                }
            }
            Pixels::RgbaF32(v) => {
                let rgba = encode_f32(v, 4);
                if rgba.chunks_exact(4).all(|px| px[3] == 255) {
                    let rgb = rgba.chunks_exact(4).flat_map(|px| [px[0], px[1], px[2]]).collect();
                    (Layout::Rgb8, Cow::Owned(rgb))
                } else {
                    (Layout::Rgba8, Cow::Owned(rgba))
                }
            }
        }
    }

    /// The image converted to 8-bit (keeping alpha if it has any).
    pub fn to_srgb8_image(&self) -> Image {
        let (layout, data) = self.to_srgb8_auto();
        let pixels = match layout {
            Layout::Rgb8 => Pixels::Rgb8(data.into_owned()),
            _ => Pixels::Rgba8(data.into_owned()),
        };
        Image { width: self.width, height: self.height, pixels, id: next_id() }
    }
}

/// Linear float RGBA to 8-bit sRGB with `channels` (3 or 4) per output pixel.
fn encode_f32(v: &[f32], channels: usize) -> Vec<u8> {
    let enc = srgb::Encoder::get();
    let mut out = Vec::with_capacity(v.len() / 4 * channels);
    for px in v.chunks_exact(4) {
        out.push(enc.encode(px[0]));
        out.push(enc.encode(px[1]));
        out.push(enc.encode(px[2]));
        if channels == 4 {
            out.push(srgb::unit_to_u8(px[3]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_wrong_buffer_size() {
        assert!(Image::from_rgb8(2, 2, vec![0; 11]).is_err());
        assert!(Image::from_rgba_f32(1, 1, vec![0.0; 4]).is_ok());
    }

    #[test]
    fn byte_float_byte_is_lossless() {
        let data: Vec<u8> = (0..=255u8).flat_map(|v| [v, 255 - v, v / 2, v]).collect();
        let img = Image::from_rgba8(256, 1, data.clone()).unwrap();
        let lin = Image::from_rgba_f32(256, 1, img.to_linear_rgba().into_owned()).unwrap();
        assert_eq!(lin.to_rgba8().as_ref(), data.as_slice());
    }

    #[test]
    fn opaque_rgba_saves_as_rgb() {
        let img = Image::from_rgba8(1, 1, vec![1, 2, 3, 255]).unwrap();
        let (layout, data) = img.to_srgb8_auto();
        assert_eq!(layout, Layout::Rgb8);
        assert_eq!(data.as_ref(), &[1, 2, 3]);
    }
}
