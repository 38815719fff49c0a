//! `gegl/c2g`: colour to grey with spatial envelopes (STRESS-style).
//!
//! For every pixel and iteration a few pixels are sampled at random in a disc
//! around it; the per-channel minimum and maximum of the samples (and the pixel)
//! form the envelopes, and the pixel's grey value is where it lies between them:
//! `|p - min| / (|p - min| + |max - p|)` (Euclidean RGB distances, sRGB-encoded).
//! The iterations are averaged.
//!
//! Sampling uses a table of random offsets built once per run; each pixel and
//! iteration reads a window of it starting at a hash of its coordinates, so no
//! random generator runs per sample and the result is deterministic.

use super::rng::{hash3, Rng};
use super::{par_rows, Registry};
use crate::ops::{filter_spec, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::pixels::srgb::{linear_to_srgb, srgb_to_linear};
use crate::pixels::{Image, Pixels};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/c2g",
            "Color to grayscale conversion, uses envelopes formed from spatial color differences to perform color-feature preserving grayscale spatial contrast enhancement",
            vec![
                PortSpec::int(
                    "radius",
                    300,
                    2,
                    6000,
                    "Neighborhood taken into account, this is the radius in pixels taken into account when deciding which colors map to which gray values",
                ),
                PortSpec::int(
                    "samples",
                    4,
                    1,
                    1000,
                    "Number of samples to do per iteration looking for the range of colors",
                ),
                PortSpec::int(
                    "iterations",
                    10,
                    1,
                    1000,
                    "Number of iterations, a higher number of iterations provides less noisy results at a computational cost",
                ),
            ],
        ),
        run: c2g,
    });
}

/// Size of the offset table (a power of two).
const TABLE_SIZE: usize = 4096;
const TABLE_MASK: usize = TABLE_SIZE - 1;
/// Seed of the offset table: fixed, so results are reproducible.
const TABLE_SEED: u64 = 0xc2c2_0001;

/// Random offsets in a disc of `radius`: uniform angle and uniform distance (so
/// the density falls as 1/r, favouring the near neighbourhood, as in STRESS).
fn offset_table(radius: f64) -> Vec<(i32, i32)> {
    let mut rng = Rng::new(TABLE_SEED);
    (0..TABLE_SIZE)
        .map(|_| {
            let angle = rng.next_f64() * std::f64::consts::TAU;
            let dist = rng.next_f64() * radius;
            ((dist * angle.cos()).round() as i32, (dist * angle.sin()).round() as i32)
        })
        .collect()
}

/// sRGB-encoded RGB of every pixel as 16-bit integers (the fourth value is
/// padding), and alpha. 8-bit values map exactly (`v * 257`); float values are
/// clamped to 0..=1. Small pixels keep the random reads cache-friendly.
fn encoded_rgb(img: &Image) -> (Vec<[u16; 4]>, Vec<f32>) {
    let n = img.pixel_count();
    let mut rgb = Vec::with_capacity(n);
    let mut alpha = Vec::with_capacity(n);
    let wide = |v: u8| v as u16 * 257;
    let quantise = |v: f32| (linear_to_srgb(v).clamp(0.0, 1.0) * 65535.0 + 0.5) as u16;
    match img.pixels() {
        Pixels::Rgb8(v) => {
            for p in v.chunks_exact(3) {
                rgb.push([wide(p[0]), wide(p[1]), wide(p[2]), 0]);
                alpha.push(1.0);
            }
        }
        Pixels::Rgba8(v) => {
            for p in v.chunks_exact(4) {
                rgb.push([wide(p[0]), wide(p[1]), wide(p[2]), 0]);
                alpha.push(p[3] as f32 / 255.0);
            }
        }
        Pixels::RgbaF32(v) => {
            for p in v.chunks_exact(4) {
                rgb.push([quantise(p[0]), quantise(p[1]), quantise(p[2]), 0]);
                alpha.push(p[3]);
            }
        }
    }
    (rgb, alpha)
}

/// Euclidean RGB distance (in 16-bit steps: only ratios of distances are used).
#[inline]
fn dist(a: [u16; 4], b: [u16; 4]) -> f32 {
    let d = |c: usize| a[c] as f32 - b[c] as f32;
    (d(0) * d(0) + d(1) * d(1) + d(2) * d(2)).sqrt()
}

fn c2g(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let radius = inputs.int("radius").clamp(2, 6000) as f64;
    let samples = inputs.int("samples").clamp(1, 1000) as usize;
    let iterations = inputs.int("iterations").clamp(1, 1000) as usize;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (rgb, alpha) = encoded_rgb(img);
    let table = offset_table(radius);
    let (wi, hi) = (w as i32, h as i32);
    let mut out = vec![0.0f32; w * h * 4];
    par_rows(&mut out, w, ctx, |y, row| {
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let i = y * w + x;
            let p = rgb[i];
            let mut sum = 0.0f32;
            for it in 0..iterations {
                let (mut lo, mut hi_env) = (p, p);
                let start = hash3(x as u64, y as u64, it as u64) as usize;
                for s in 0..samples {
                    let (dx, dy) = table[(start + s) & TABLE_MASK];
                    let sx = (x as i32 + dx).clamp(0, wi - 1) as usize;
                    let sy = (y as i32 + dy).clamp(0, hi - 1) as usize;
                    let q = rgb[sy * w + sx];
                    for c in 0..3 {
                        lo[c] = lo[c].min(q[c]);
                        hi_env[c] = hi_env[c].max(q[c]);
                    }
                }
                let nom = dist(p, lo);
                let den = nom + dist(hi_env, p);
                sum += if den > 0.0 { nom / den } else { 0.5 };
            }
            let grey = srgb_to_linear(sum / iterations as f32);
            px.copy_from_slice(&[grey, grey, grey, alpha[i]]);
        }
    })?;
    crate::ops::linear_output(w as u32, h as u32, out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::value::Value;

    #[test]
    fn flat_image_is_mid_grey() {
        let img = image(3, 2, [0.2, 0.7, 0.1, 0.6].repeat(6));
        let out = run_linear("gegl/c2g", img, &[]);
        let mid = srgb_to_linear(0.5);
        for px in out.chunks_exact(4) {
            assert_close(px, &[mid, mid, mid, 0.6], 1e-6);
        }
    }

    #[test]
    fn single_pixel_is_mid_grey() {
        let out = run_linear("gegl/c2g", image(1, 1, vec![1.0, 0.0, 0.0, 1.0]), &[]);
        let mid = srgb_to_linear(0.5);
        assert_close(&out, &[mid, mid, mid, 1.0], 1e-6);
    }

    #[test]
    fn extremes_of_the_neighbourhood_become_black_and_white() {
        // Black and white stripes: every pixel's envelope spans black..white once a
        // sample hits the other colour, which 50 samples per iteration always do.
        let mut data = Vec::new();
        for _y in 0..4 {
            for x in 0..6 {
                let v = (x % 2) as f32;
                data.extend_from_slice(&[v, v, v, 1.0]);
            }
        }
        let params = [("radius", Value::Int(4)), ("samples", Value::Int(50))];
        let out = run_linear("gegl/c2g", image(6, 4, data.clone()), &params);
        assert_close(&out, &data, 1e-6);
    }

    #[test]
    fn grey_reflects_position_between_envelopes() {
        // A pixel halfway (in sRGB) between black and white neighbours maps to 0.5.
        let dark = [0.0, 0.0, 0.0, 1.0];
        let white = [1.0, 1.0, 1.0, 1.0];
        let mid = srgb_to_linear(0.5);
        let data = [dark, [mid, mid, mid, 1.0], white].concat();
        let params = [("radius", Value::Int(3)), ("samples", Value::Int(60))];
        let out = run_linear("gegl/c2g", image(3, 1, data), &params);
        assert!((out[4] - mid).abs() < 1e-5, "{}", out[4]);
        assert!(out[0].abs() < 1e-6 && (out[8] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn output_is_grey_deterministic_and_keeps_alpha() {
        let img = pattern(40, 30);
        let params = [("radius", Value::Int(10))];
        let a = run_linear("gegl/c2g", img.clone(), &params);
        let b = run_linear("gegl/c2g", img.clone(), &params);
        assert_eq!(a, b);
        let src = img.to_linear_rgba();
        for (o, s) in a.chunks_exact(4).zip(src.chunks_exact(4)) {
            assert_eq!(o[0], o[1]);
            assert_eq!(o[1], o[2]);
            assert!((0.0..=1.0).contains(&o[0]));
            assert_eq!(o[3], s[3]);
        }
    }

    #[test]
    fn eight_bit_input_matches_float_input() {
        let img = pattern(20, 10).to_srgb8_image();
        let lin = image(20, 10, img.to_linear_rgba().into_owned());
        let params = [("radius", Value::Int(6))];
        let a = run_linear("gegl/c2g", img, &params);
        let b = run_linear("gegl/c2g", lin, &params);
        assert_close(&a, &b, 1e-4);
    }

    #[test]
    fn large_images_are_deterministic_across_threads() {
        // Large images are split between threads; sampling depends only on
        // coordinates, so two runs agree exactly.
        let img = pattern(300, 250);
        let params = [("radius", Value::Int(5)), ("iterations", Value::Int(2))];
        let a = run_linear("gegl/c2g", img.clone(), &params);
        let b = run_linear("gegl/c2g", img, &params);
        assert_eq!(a, b);
    }
}
