//! Image comparison by colour distance, as the original imgflo test suite did
//! (GEGL's `gegl-imgcmp`): per pixel the CIE76 ΔE between the two colours in CIE
//! Lab (D50, as babl), or the alpha difference × 100 if that is larger.

use crate::pixels::srgb::srgb_to_linear;
use crate::pixels::Image;

/// The distance between two images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    pub max: f64,
    pub mean: f64,
    /// Pixels whose distance is over 1.0.
    pub over_one: usize,
    pub pixels: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("images differ in size: {a:?} vs {b:?}")]
pub struct SizeDiffers {
    pub a: (u32, u32),
    pub b: (u32, u32),
}

/// Linear sRGB (D50-adapted primaries) to XYZ, then to Lab against the D50 white.
pub fn linear_rgb_to_lab(r: f64, g: f64, b: f64) -> [f64; 3] {
    let x = 0.436_074_7 * r + 0.385_064_9 * g + 0.143_080_4 * b;
    let y = 0.222_504_5 * r + 0.716_878_6 * g + 0.060_616_9 * b;
    let z = 0.013_932_2 * r + 0.097_104_5 * g + 0.714_173_3 * b;
    let f = |t: f64| {
        const E: f64 = 216.0 / 24389.0;
        const K: f64 = 24389.0 / 27.0;
        if t > E {
            t.cbrt()
        } else {
            (K * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.964_212), f(y), f(z / 0.825_188));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Compares two images of the same size.
pub fn compare(a: &Image, b: &Image) -> Result<Difference, SizeDiffers> {
    if a.dimensions() != b.dimensions() {
        return Err(SizeDiffers { a: a.dimensions(), b: b.dimensions() });
    }
    let (pa, pb) = (a.to_linear_rgba(), b.to_linear_rgba());
    let (mut max, mut sum, mut over) = (0f64, 0f64, 0usize);
    for (x, y) in pa.chunks_exact(4).zip(pb.chunks_exact(4)) {
        let clamp = |v: f32| v.clamp(0.0, 1.0) as f64;
        let la = linear_rgb_to_lab(clamp(x[0]), clamp(x[1]), clamp(x[2]));
        let lb = linear_rgb_to_lab(clamp(y[0]), clamp(y[1]), clamp(y[2]));
        let de = ((la[0] - lb[0]).powi(2) + (la[1] - lb[1]).powi(2) + (la[2] - lb[2]).powi(2)).sqrt();
        let da = (clamp(x[3]) - clamp(y[3])).abs() * 100.0;
        let d = de.max(da);
        max = max.max(d);
        sum += d;
        if d > 1.0 {
            over += 1;
        }
    }
    let n = a.pixel_count();
    Ok(Difference { max, mean: if n == 0 { 0.0 } else { sum / n as f64 }, over_one: over, pixels: n })
}

/// sRGB-encoded 8-bit colour to Lab (for tests and tools).
pub fn srgb8_to_lab(rgb: [u8; 3]) -> [f64; 3] {
    let l = |v: u8| srgb_to_linear(v as f32 / 255.0) as f64;
    linear_rgb_to_lab(l(rgb[0]), l(rgb[1]), l(rgb[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_reference_values() {
        let white = srgb8_to_lab([255, 255, 255]);
        assert!((white[0] - 100.0).abs() < 0.01 && white[1].abs() < 0.05 && white[2].abs() < 0.05, "{white:?}");
        let black = srgb8_to_lab([0, 0, 0]);
        assert!(black[0].abs() < 1e-9);
        // sRGB red in Lab D50 is about (54.3, 80.8, 69.9).
        let red = srgb8_to_lab([255, 0, 0]);
        assert!((red[0] - 54.29).abs() < 0.2 && (red[1] - 80.8).abs() < 0.5 && (red[2] - 69.9).abs() < 0.5, "{red:?}");
    }

    #[test]
    fn identical_images_have_zero_distance() {
        let a = Image::from_rgb8(2, 1, vec![10, 20, 30, 200, 100, 0]).unwrap();
        let d = compare(&a, &a.clone()).unwrap();
        assert_eq!((d.max, d.mean, d.over_one), (0.0, 0.0, 0));
    }

    #[test]
    fn distance_grows_with_difference_and_alpha_counts() {
        let a = Image::from_rgba8(1, 1, vec![128, 128, 128, 255]).unwrap();
        let b = Image::from_rgba8(1, 1, vec![130, 128, 128, 255]).unwrap();
        let c = Image::from_rgba8(1, 1, vec![128, 128, 128, 250]).unwrap();
        let small = compare(&a, &b).unwrap().max;
        assert!(small > 0.3 && small < 2.0, "{small}");
        let alpha = compare(&a, &c).unwrap().max;
        assert!((alpha - 5.0 / 255.0 * 100.0).abs() < 1e-6, "{alpha}");
        assert!(compare(&a, &Image::from_rgb8(2, 1, vec![0; 6]).unwrap()).is_err());
    }
}
