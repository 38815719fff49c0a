//! JPEG through libjpeg-turbo's TurboJPEG API: header scan, shrink-on-load, CMYK/YCCK
//! with Adobe inversion, and encoding.

use turbojpeg::{Colorspace, Compressor, Decompressor, Image as TjImage, PixelFormat, ScalingFactor, Subsamp};

use super::{exif, CodecError};
use crate::pixels::Image;

/// What the marker segments before the scan tell.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    /// An Adobe APP14 segment is present (CMYK stored inverted, as Photoshop writes).
    pub adobe: bool,
    pub orientation: Option<u16>,
}

fn corrupt(message: impl Into<String>) -> CodecError {
    CodecError::Corrupt { format: "JPEG", message: message.into() }
}

/// Walks the marker segments up to the first scan.
pub fn scan(bytes: &[u8]) -> Result<JpegInfo, CodecError> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(corrupt("missing start-of-image marker"));
    }
    let mut info = JpegInfo::default();
    let mut pos = 2;
    let mut have_frame = false;
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            return Err(corrupt(format!("expected a marker at byte {pos}")));
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            pos += 2;
            continue;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        if len < 2 || pos + 2 + len > bytes.len() {
            return Err(corrupt("truncated marker segment"));
        }
        let seg = &bytes[pos + 4..pos + 2 + len];
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                if seg.len() < 6 {
                    return Err(corrupt("short frame header"));
                }
                info.height = u16::from_be_bytes([seg[1], seg[2]]) as u32;
                info.width = u16::from_be_bytes([seg[3], seg[4]]) as u32;
                info.components = seg[5];
                have_frame = true;
            }
            0xE1 if seg.starts_with(b"Exif\0\0") && info.orientation.is_none() => {
                info.orientation = exif::orientation(&seg[6..]);
            }
            0xEE if seg.starts_with(b"Adobe") => info.adobe = true,
            0xDA => break,
            0xD9 => break,
            _ => {}
        }
        pos += 2 + len;
    }
    if !have_frame {
        return Err(corrupt("no frame header"));
    }
    if info.width == 0 || info.height == 0 {
        return Err(corrupt("zero-sized frame"));
    }
    Ok(info)
}

fn tj_err(e: turbojpeg::Error) -> CodecError {
    corrupt(e.to_string())
}

/// The DCT scaling denominator (1, 2, 4 or 8) that keeps the image at least `target`
/// large (both sides), like libvips' shrink-on-load.
pub fn shrink_factor(width: u32, height: u32, target: Option<(u32, u32)>) -> usize {
    let Some((tw, th)) = target else { return 1 };
    for d in [8u32, 4, 2] {
        if width.div_ceil(d) >= tw.max(1) && height.div_ceil(d) >= th.max(1) {
            return d as usize;
        }
    }
    1
}

/// Decodes to 8-bit RGB (CMYK converted), scaled down by `denom` (1, 2, 4 or 8).
pub fn decode(bytes: &[u8], info: &JpegInfo, denom: usize) -> Result<Image, CodecError> {
    let mut d = Decompressor::new().map_err(tj_err)?;
    let header = d.read_header(bytes).map_err(tj_err)?;
    let scale = ScalingFactor::new(1, denom);
    d.set_scaling_factor(scale).map_err(tj_err)?;
    let scaled = header.scaled(scale);
    let (w, h) = (scaled.width, scaled.height);
    let cmyk = matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK);
    let (format, channels) = if cmyk { (PixelFormat::CMYK, 4) } else { (PixelFormat::RGB, 3) };
    let mut pixels = vec![0u8; w * h * channels];
    d.decompress(bytes, TjImage { pixels: pixels.as_mut_slice(), width: w, pitch: w * channels, height: h, format })
        .map_err(tj_err)?;
    if cmyk {
        pixels = cmyk_to_rgb(&pixels, info.adobe);
    }
    Image::from_rgb8(w as u32, h as u32, pixels).map_err(|e| corrupt(e.to_string()))
}

/// Naive CMYK → RGB (no colour management), as GEGL/babl did. Adobe files store
/// the inks inverted, so the stored value is already "255 − ink".
fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let (c, m, y, k) = if inverted {
            (px[0] as u32, px[1] as u32, px[2] as u32, px[3] as u32)
        } else {
            (255 - px[0] as u32, 255 - px[1] as u32, 255 - px[2] as u32, 255 - px[3] as u32)
        };
        out.push(((c * k + 127) / 255) as u8);
        out.push(((m * k + 127) / 255) as u8);
        out.push(((y * k + 127) / 255) as u8);
    }
    out
}

/// Encodes 8-bit RGB as JPEG.
pub fn encode(rgb: &[u8], width: u32, height: u32, quality: u8, progressive: bool) -> Result<Vec<u8>, CodecError> {
    // A grey picture (every pixel R = G = B, as after gegl/gray) is written as a
    // one-component JPEG, as GEGL's jpg-save wrote grey buffers: a third of the
    // work and a smaller file for the same pixels. A colour picture stops the scan
    // at its first coloured pixel.
    if rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]) {
        let luma: Vec<u8> = rgb.chunks_exact(3).map(|p| p[0]).collect();
        return compress(&luma, PixelFormat::GRAY, Subsamp::Gray, width, height, quality, progressive);
    }
    let subsamp = if quality >= 90 { Subsamp::None } else { Subsamp::Sub2x2 };
    compress(rgb, PixelFormat::RGB, subsamp, width, height, quality, progressive)
}

fn compress(
    pixels: &[u8],
    format: PixelFormat,
    subsamp: Subsamp,
    width: u32,
    height: u32,
    quality: u8,
    progressive: bool,
) -> Result<Vec<u8>, CodecError> {
    let err = |e: turbojpeg::Error| CodecError::Encode { format: "JPEG", message: e.to_string() };
    let mut c = Compressor::new().map_err(err)?;
    c.set_quality(quality.clamp(1, 100) as i32).map_err(err)?;
    c.set_subsamp(subsamp).map_err(err)?;
    c.set_optimize(true).map_err(err)?;
    c.set_progressive(progressive).map_err(err)?;
    let channels = format.size();
    c.compress_to_vec(TjImage {
        pixels,
        width: width as usize,
        pitch: width as usize * channels,
        height: height as usize,
        format,
    })
    .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_factor_keeps_at_least_the_target() {
        assert_eq!(shrink_factor(4224, 3168, Some((800, 600))), 4);
        assert_eq!(shrink_factor(1920, 1080, Some((800, 450))), 2);
        assert_eq!(shrink_factor(1920, 1080, Some((1000, 1))), 1);
        assert_eq!(shrink_factor(1920, 1080, None), 1);
        assert_eq!(shrink_factor(8000, 8000, Some((10, 10))), 8);
    }

    #[test]
    fn cmyk_conversion() {
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 255], true), vec![255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], false), vec![255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 0, 0, 0], false), vec![0, 255, 255]);
    }

    #[test]
    fn encode_then_scan_and_decode() {
        let (w, h) = (64u32, 48u32);
        let rgb: Vec<u8> = (0..w * h).flat_map(|i| [(i % 256) as u8, 128, 64]).collect();
        let jpg = encode(&rgb, w, h, 90, true).unwrap();
        let info = scan(&jpg).unwrap();
        assert_eq!((info.width, info.height, info.components), (64, 48, 3));
        let img = decode(&jpg, &info, 2).unwrap();
        assert_eq!(img.dimensions(), (32, 24));
    }

    #[test]
    fn grey_pictures_are_one_component_jpegs() {
        let (w, h) = (40u32, 24u32);
        let grey: Vec<u8> = (0..w * h).flat_map(|i| [(i % 256) as u8; 3]).collect();
        let jpg = encode(&grey, w, h, 90, true).unwrap();
        let info = scan(&jpg).unwrap();
        assert_eq!((info.width, info.height, info.components), (40, 24, 1));
        let back = decode(&jpg, &info, 1).unwrap();
        assert_eq!(back.dimensions(), (40, 24));
        let rgb = back.to_rgb8();
        assert!(rgb.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]));
        let close = rgb.iter().zip(&grey).all(|(a, b)| a.abs_diff(*b) <= 12);
        assert!(close, "decodes to the same greys");
        // One coloured pixel keeps all three components.
        let mut colour = grey.clone();
        colour[3 * 100] = 255;
        colour[3 * 100 + 1] = 0;
        assert_eq!(scan(&encode(&colour, w, h, 90, true).unwrap()).unwrap().components, 3);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(scan(b"\xFF\xD8\xFF\xC0\x00").is_err());
        assert!(scan(b"nope").is_err());
        let mut jpg = encode(&[0; 8 * 8 * 3], 8, 8, 80, false).unwrap();
        let info = scan(&jpg).unwrap();
        jpg.truncate(jpg.len() / 2);
        // Truncated scan data: libjpeg-turbo warns; we must not crash either way.
        let _ = decode(&jpg, &info, 1);
    }
}
