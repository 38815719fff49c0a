//! `gegl/noise-cie-lch`: random offsets on CIE LCh(ab) lightness, chroma and hue.
//!
//! Linear RGB (sRGB primaries) → XYZ → CIE Lab (D65 white) → LCh; each of L, C, h
//! gets an offset `distance * r`, where `r` is the smallest in magnitude of
//! `holdness` uniform values in [-1, 1) (more holdness, smaller offsets). L is
//! clamped to 0..100, C to ≥ 0, the hue wraps. The random values come from
//! (seed, x, y), so a pixel's result does not depend on the rest of the image.

use super::rng::{hash3, Rng};
use super::{par_rows, Registry};
use crate::ops::{filter_spec, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/noise-cie-lch",
            "Randomize lightness, chroma and hue independently",
            vec![
                PortSpec::int("holdness", 2, 1, 8, "A high value lowers the randomness of the noise"),
                PortSpec::number("lightness-distance", 40.0, 0.0, 100.0, "Lightness"),
                PortSpec::number("chroma-distance", 40.0, 0.0, 100.0, "Chroma"),
                PortSpec::number("hue-distance", 3.0, 0.0, 180.0, "Hue"),
                PortSpec::int("seed", 0, 0, 2_147_483_647, "Random seed"),
            ],
        ),
        run: noise_cie_lch,
    });
}

/// Linear sRGB to CIE XYZ (D65).
const RGB_TO_XYZ: [[f64; 3]; 3] = [
    [0.412_456_4, 0.357_576_1, 0.180_437_5],
    [0.212_672_9, 0.715_152_2, 0.072_175_0],
    [0.019_333_9, 0.119_192_0, 0.950_304_1],
];

/// CIE XYZ (D65) to linear sRGB.
const XYZ_TO_RGB: [[f64; 3]; 3] = [
    [3.240_454_2, -1.537_138_5, -0.498_531_4],
    [-0.969_266_0, 1.876_010_8, 0.041_556_0],
    [0.055_643_4, -0.204_025_9, 1.057_225_2],
];

/// The white point: XYZ of RGB (1, 1, 1), so that greys have no chroma.
fn white() -> [f64; 3] {
    RGB_TO_XYZ.map(|row| row[0] + row[1] + row[2])
}

const EPS_ROOT: f64 = 6.0 / 29.0;

fn lab_f(t: f64) -> f64 {
    if t > EPS_ROOT * EPS_ROOT * EPS_ROOT {
        t.cbrt()
    } else {
        t / (3.0 * EPS_ROOT * EPS_ROOT) + 4.0 / 29.0
    }
}

fn lab_f_inv(u: f64) -> f64 {
    if u > EPS_ROOT {
        u * u * u
    } else {
        3.0 * EPS_ROOT * EPS_ROOT * (u - 4.0 / 29.0)
    }
}

fn mul(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    m.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
}

/// Linear RGB to (L, C, h in degrees).
pub(crate) fn rgb_to_lch(rgb: [f64; 3], wp: [f64; 3]) -> [f64; 3] {
    let xyz = mul(&RGB_TO_XYZ, rgb);
    let fx = lab_f(xyz[0] / wp[0]);
    let fy = lab_f(xyz[1] / wp[1]);
    let fz = lab_f(xyz[2] / wp[2]);
    let l = 116.0 * fy - 16.0;
    let a = 500.0 * (fx - fy);
    let b = 200.0 * (fy - fz);
    [l, a.hypot(b), b.atan2(a).to_degrees()]
}

/// (L, C, h in degrees) to linear RGB.
pub(crate) fn lch_to_rgb(lch: [f64; 3], wp: [f64; 3]) -> [f64; 3] {
    let (l, c, h) = (lch[0], lch[1], lch[2].to_radians());
    let (a, b) = (c * h.cos(), c * h.sin());
    let fy = (l + 16.0) / 116.0;
    let fx = fy + a / 500.0;
    let fz = fy - b / 200.0;
    let xyz = [wp[0] * lab_f_inv(fx), wp[1] * lab_f_inv(fy), wp[2] * lab_f_inv(fz)];
    mul(&XYZ_TO_RGB, xyz)
}

/// The smallest in magnitude of `holdness` uniform values in [-1, 1).
#[inline]
fn held(rng: &mut Rng, holdness: u32) -> f64 {
    let mut best = rng.symmetric();
    for _ in 1..holdness {
        let v = rng.symmetric();
        if v.abs() < best.abs() {
            best = v;
        }
    }
    best
}

fn noise_cie_lch(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let holdness = inputs.int("holdness").clamp(1, 8) as u32;
    let dl = inputs.f64("lightness-distance").clamp(0.0, 100.0);
    let dc = inputs.f64("chroma-distance").clamp(0.0, 100.0);
    let dh = inputs.f64("hue-distance").clamp(0.0, 180.0);
    let seed = inputs.int("seed").clamp(0, 2_147_483_647) as u64;
    if dl == 0.0 && dc == 0.0 && dh == 0.0 {
        return Ok(Outputs::shared(img.clone()));
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.to_linear_rgba();
    let wp = white();
    let mut out = vec![0.0f32; src.len()];
    par_rows(&mut out, w, ctx, |y, row| {
        let src_row = &src[y * w * 4..(y + 1) * w * 4];
        for (x, (o, s)) in row.chunks_exact_mut(4).zip(src_row.chunks_exact(4)).enumerate() {
            let mut rng = Rng::new(hash3(seed, x as u64, y as u64));
            let lch = rgb_to_lch([s[0] as f64, s[1] as f64, s[2] as f64], wp);
            let l = (lch[0] + dl * held(&mut rng, holdness)).clamp(0.0, 100.0);
            let c = (lch[1] + dc * held(&mut rng, holdness)).max(0.0);
            let hue = (lch[2] + dh * held(&mut rng, holdness)).rem_euclid(360.0);
            let rgb = lch_to_rgb([l, c, hue], wp);
            o.copy_from_slice(&[rgb[0] as f32, rgb[1] as f32, rgb[2] as f32, s[3]]);
        }
    })?;
    crate::ops::linear_output(w as u32, h as u32, out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::value::Value;

    const NAME: &str = "gegl/noise-cie-lch";

    fn zero() -> Vec<(&'static str, Value)> {
        vec![
            ("lightness-distance", Value::Number(0.0)),
            ("chroma-distance", Value::Number(0.0)),
            ("hue-distance", Value::Number(0.0)),
        ]
    }

    #[test]
    fn lab_of_known_colours() {
        let wp = white();
        let w = rgb_to_lch([1.0, 1.0, 1.0], wp);
        assert!((w[0] - 100.0).abs() < 1e-9 && w[1] < 1e-9);
        let g = rgb_to_lch([0.5, 0.5, 0.5], wp);
        assert!(g[1] < 1e-9 && (g[0] - 76.0693).abs() < 1e-3, "{g:?}");
        let red = rgb_to_lch([1.0, 0.0, 0.0], wp);
        assert!((red[0] - 53.24).abs() < 0.05, "{red:?}");
        assert!((red[1] - 104.55).abs() < 0.1, "{red:?}");
        assert!((red[2] - 40.0).abs() < 0.1, "{red:?}");
    }

    #[test]
    fn lch_round_trip() {
        let wp = white();
        for rgb in [[0.0, 0.0, 0.0], [0.001, 0.5, 0.9], [1.0, 0.2, 0.0], [0.3, 0.3, 0.31]] {
            let back = lch_to_rgb(rgb_to_lch(rgb, wp), wp);
            for c in 0..3 {
                assert!((back[c] - rgb[c]).abs() < 1e-6, "{rgb:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn zero_distances_are_identity() {
        let img = std::sync::Arc::new(pattern(4, 3));
        let out = run_shared(NAME, Some(img.clone()), &zero()).unwrap();
        assert!(std::sync::Arc::ptr_eq(&output(&out), &img));
    }

    #[test]
    fn tiny_distances_are_nearly_identity() {
        let img = pattern(6, 5);
        let src = img.to_linear_rgba().into_owned();
        let mut params = zero();
        params[0].1 = Value::Number(1e-7);
        let out = run_linear(NAME, img, &params);
        assert_close(&out, &src, 1e-4);
    }

    #[test]
    fn deterministic_by_seed_and_alpha_kept() {
        let img = pattern(8, 8);
        let a = run_linear(NAME, img.clone(), &[]);
        let b = run_linear(NAME, img.clone(), &[]);
        assert_eq!(a, b);
        let c = run_linear(NAME, img.clone(), &[("seed", Value::Int(5))]);
        assert_ne!(a, c);
        let src = img.to_linear_rgba();
        for (o, s) in a.chunks_exact(4).zip(src.chunks_exact(4)) {
            assert_eq!(o[3], s[3]);
        }
    }

    #[test]
    fn noise_does_not_depend_on_the_rest_of_the_image() {
        let px = [0.4, 0.3, 0.2, 1.0];
        let small = run_linear(NAME, image(2, 2, px.repeat(4)), &[]);
        let big = run_linear(NAME, image(5, 5, px.repeat(25)), &[]);
        assert_eq!(&small[..8], &big[..8]);
        assert_eq!(&small[8..16], &big[20..28]);
    }

    #[test]
    fn lightness_noise_only_changes_lightness_within_range() {
        let mut params = zero();
        params[0].1 = Value::Number(10.0);
        let grey = [0.2, 0.2, 0.2, 1.0];
        let out = run_linear(NAME, image(16, 16, grey.repeat(256)), &params);
        let wp = white();
        let l0 = rgb_to_lch([0.2, 0.2, 0.2], wp)[0];
        let mut changed = 0;
        for px in out.chunks_exact(4) {
            let lch = rgb_to_lch([px[0] as f64, px[1] as f64, px[2] as f64], wp);
            assert!(lch[1] < 1e-3, "chroma {}", lch[1]);
            assert!((lch[0] - l0).abs() <= 10.0 + 1e-3);
            changed += usize::from((lch[0] - l0).abs() > 0.01);
        }
        assert!(changed > 200);
    }

    #[test]
    fn holdness_lowers_the_noise() {
        let img = image(32, 32, [0.3, 0.4, 0.5, 1.0].repeat(1024));
        let spread = |hold: i64| {
            let out = run_linear(NAME, img.clone(), &[("holdness", Value::Int(hold))]);
            out.chunks_exact(4).map(|p| (p[1] - 0.4).abs()).sum::<f32>()
        };
        assert!(spread(8) < spread(1) * 0.5);
    }

    #[test]
    fn lightness_is_clamped() {
        let mut params = zero();
        params[0].1 = Value::Number(100.0);
        let out = run_linear(NAME, image(8, 8, [1.0, 1.0, 1.0, 1.0].repeat(64)), &params);
        assert!(out.iter().all(|v| *v <= 1.0 + 1e-5 && *v >= -1e-5));
    }
}
