//! A JSON description of an image, for places that report images without sending
//! pixels: the live runtime's packets and graph tests' assertions.
//!
//! `{type: "image", width, height, format, mean: {r, g, b, a}, digest}`: `format` is
//! the pixel layout, `mean` the average of each 8-bit sRGB channel (0-255, two
//! decimals), `digest` the MD5 of the size and the 8-bit RGBA pixels, so two images
//! with the same digest look the same.

use md5::{Digest, Md5};
use serde_json::{json, Value as Json};

use crate::pixels::{Image, Pixels};

/// The description of `image`.
pub fn describe_image(image: &Image) -> Json {
    let rgba = image.to_rgba8();
    let mut sums = [0u64; 4];
    for px in rgba.chunks_exact(4) {
        for (s, &v) in sums.iter_mut().zip(px) {
            *s += u64::from(v);
        }
    }
    let n = (rgba.len() / 4).max(1) as f64;
    let mean = |i: usize| (sums[i] as f64 / n * 100.0).round() / 100.0;
    let mut hasher = Md5::new();
    hasher.update(image.width().to_le_bytes());
    hasher.update(image.height().to_le_bytes());
    hasher.update(&rgba);
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let format = match image.pixels() {
        Pixels::Rgb8(_) => "rgb8",
        Pixels::Rgba8(_) => "rgba8",
        Pixels::RgbaF32(_) => "rgbaf32",
    };
    json!({
        "type": "image",
        "width": image.width(),
        "height": image.height(),
        "format": format,
        "mean": {"r": mean(0), "g": mean(1), "b": mean(2), "a": mean(3)},
        "digest": digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_size_mean_and_digest() {
        let img = Image::from_rgb8(2, 1, vec![255, 0, 0, 0, 0, 255]).unwrap();
        let d = describe_image(&img);
        assert_eq!(d["width"], 2);
        assert_eq!(d["height"], 1);
        assert_eq!(d["format"], "rgb8");
        assert_eq!(d["mean"]["r"], 127.5);
        assert_eq!(d["mean"]["g"], 0.0);
        assert_eq!(d["mean"]["a"], 255.0);
        let same = Image::from_rgb8(2, 1, vec![255, 0, 0, 0, 0, 255]).unwrap();
        assert_eq!(describe_image(&same)["digest"], d["digest"]);
        let other = Image::from_rgb8(2, 1, vec![255, 0, 0, 0, 0, 254]).unwrap();
        assert_ne!(describe_image(&other)["digest"], d["digest"]);
        let tall = Image::from_rgb8(1, 2, vec![255, 0, 0, 0, 0, 255]).unwrap();
        assert_ne!(describe_image(&tall)["digest"], d["digest"]);
        assert_eq!(d["digest"].as_str().unwrap().len(), 32);
    }
}
