//! Decoding the layouts each format can hold: grey, grey+alpha, palette and
//! 16-bit PNG, BMP, TIFF, and YCCK (Adobe CMYK) JPEG.

use std::io::Cursor;

use image::{ExtendedColorType, ImageEncoder};

use super::*;

fn rgba(bytes: &[u8]) -> Image {
    decode(bytes, &DecodeOptions::default()).unwrap().image
}

fn pixel(img: &Image, x: u32, y: u32) -> [u8; 4] {
    let i = ((y * img.width() + x) * 4) as usize;
    let d = img.to_rgba8();
    [d[i], d[i + 1], d[i + 2], d[i + 3]]
}

fn png(data: &[u8], w: u32, h: u32, color: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(data, w, h, color).unwrap();
    out
}

#[test]
fn grey_and_grey_alpha_png() {
    let img = rgba(&png(&[0, 128, 255, 7], 2, 2, ExtendedColorType::L8));
    assert_eq!(img.dimensions(), (2, 2));
    assert_eq!(pixel(&img, 1, 0), [128, 128, 128, 255]);
    assert_eq!(pixel(&img, 0, 1), [255, 255, 255, 255]);
    let img = rgba(&png(&[10, 255, 200, 0], 2, 1, ExtendedColorType::La8));
    assert_eq!(pixel(&img, 0, 0), [10, 10, 10, 255]);
    assert_eq!(pixel(&img, 1, 0)[3], 0);
}

#[test]
fn sixteen_bit_png_keeps_the_high_byte() {
    // Big-endian 16-bit samples, as PNG stores them: 0xABCD rounds to 0xAC.
    let samples: Vec<u16> = vec![0xABCD, 0x0000, 0xFFFF];
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_ne_bytes()).collect();
    let img = rgba(&png(&data, 1, 1, ExtendedColorType::Rgb16));
    let [r, g, b, a] = pixel(&img, 0, 0);
    assert!((i32::from(r) - 0xAB).abs() <= 1, "{r:#x}");
    assert_eq!((g, b, a), (0, 255, 255));
}

#[test]
fn palette_png_with_transparency() {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 3, 1);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255]);
        enc.set_trns(vec![255, 128, 0]);
        enc.write_header().unwrap().write_image_data(&[0, 1, 2]).unwrap();
    }
    let img = rgba(&out);
    assert_eq!(pixel(&img, 0, 0), [255, 0, 0, 255]);
    assert_eq!(pixel(&img, 1, 0), [0, 255, 0, 128]);
    assert_eq!(pixel(&img, 2, 0)[3], 0);
}

#[test]
fn bmp_and_tiff() {
    let data: Vec<u8> = (0..4 * 3).flat_map(|i| [i as u8 * 20, 100, 255 - i as u8]).collect();
    let mut bmp = Vec::new();
    image::codecs::bmp::BmpEncoder::new(&mut bmp).write_image(&data, 4, 3, ExtendedColorType::Rgb8).unwrap();
    let mut tiff = Cursor::new(Vec::new());
    image::codecs::tiff::TiffEncoder::new(&mut tiff).write_image(&data, 4, 3, ExtendedColorType::Rgb8).unwrap();
    for (name, bytes) in [("bmp", bmp), ("tiff", tiff.into_inner())] {
        let d = decode(&bytes, &DecodeOptions::default()).unwrap();
        assert_eq!((d.width, d.height), (4, 3), "{name}");
        assert_eq!(d.image.to_rgb8().as_ref(), data.as_slice(), "{name} is lossless");
    }
}

#[test]
fn ycck_jpeg_is_inverted_cmyk() {
    // libjpeg-turbo stores CMYK input as YCCK with an Adobe marker; Adobe's
    // convention is inverted ink (255 = none). Left half red, right half white.
    let (w, h) = (32usize, 16usize);
    let cmyk: Vec<u8> = (0..w * h).flat_map(|i| if i % w < 16 { [255, 0, 0, 255] } else { [255; 4] }).collect();
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_quality(100).unwrap();
    c.set_subsamp(turbojpeg::Subsamp::None).unwrap();
    let tj = turbojpeg::Image {
        pixels: cmyk.as_slice(),
        width: w,
        pitch: w * 4,
        height: h,
        format: turbojpeg::PixelFormat::CMYK,
    };
    let jpg = c.compress_to_vec(tj).unwrap();
    let info = jpeg::scan(&jpg).unwrap();
    assert_eq!(info.components, 4);
    let img = rgba(&jpg);
    let close = |a: [u8; 4], b: [u8; 4]| a.iter().zip(b).all(|(x, y)| (i32::from(*x) - i32::from(y)).abs() <= 6);
    assert!(close(pixel(&img, 4, 8), [255, 0, 0, 255]), "{:?}", pixel(&img, 4, 8));
    assert!(close(pixel(&img, 28, 8), [255, 255, 255, 255]), "{:?}", pixel(&img, 28, 8));
}
