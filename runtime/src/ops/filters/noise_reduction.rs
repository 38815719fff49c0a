//! `gegl/noise-reduction`: edge-preserving (anisotropic) smoothing.
//!
//! Each iteration replaces every colour component `c` by the mean of `c` and one
//! value per neighbour pair through it (horizontal, vertical and both diagonals).
//! For a pair with differences `da`, `db` to the centre:
//! - when the smaller difference is at least half the larger one, the pair looks
//!   like a ramp or like noise on both sides, and contributes `c + (da + db) / 2`
//!   (the pair's mean: ramps are kept, isolated spikes pulled to their neighbours);
//! - otherwise one side is across an edge, and only the nearer neighbour
//!   (`c + smaller difference`) contributes, so edges do not blur.
//!
//! Computed on linear RGBA (straight alpha, edges clamped); alpha is kept.

use super::{par_rows, Registry};
use crate::ops::{filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/noise-reduction",
            "Anisotropic smoothing operation",
            vec![PortSpec::int(
                "iterations",
                4,
                0,
                32,
                "Controls the number of iterations; lower values give less plastic results",
            )],
        ),
        run: noise_reduction,
    });
}

/// What a neighbour pair adds to the centre value (see the module comment).
#[inline]
fn pair_delta(da: f32, db: f32) -> f32 {
    let (small, large) = if da.abs() <= db.abs() { (da, db) } else { (db, da) };
    if small.abs() * 2.0 >= large.abs() {
        (da + db) * 0.5
    } else {
        small
    }
}

fn noise_reduction(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let iterations = inputs.int("iterations").clamp(0, 32);
    if iterations == 0 {
        return Ok(Outputs::shared(img.clone()));
    }
    let (w, h, mut cur) = linear_input(inputs)?;
    let (w, h) = (w as usize, h as usize);
    let mut next = vec![0.0f32; cur.len()];
    for _ in 0..iterations {
        let src = &cur;
        par_rows(&mut next, w, ctx, |y, row| {
            let ym = y.saturating_sub(1);
            let yp = (y + 1).min(h - 1);
            let idx = |yy: usize, xx: usize| (yy * w + xx) * 4;
            for (x, px) in row.chunks_exact_mut(4).enumerate() {
                let xm = x.saturating_sub(1);
                let xp = (x + 1).min(w - 1);
                let pairs = [
                    (idx(y, xm), idx(y, xp)),
                    (idx(ym, x), idx(yp, x)),
                    (idx(ym, xm), idx(yp, xp)),
                    (idx(ym, xp), idx(yp, xm)),
                ];
                let ci = idx(y, x);
                for c in 0..3 {
                    let v = src[ci + c];
                    let mut acc = 0.0;
                    for &(a, b) in &pairs {
                        acc += pair_delta(src[a + c] - v, src[b + c] - v);
                    }
                    px[c] = v + acc / 5.0;
                }
                px[3] = src[ci + 3];
            }
        })?;
        std::mem::swap(&mut cur, &mut next);
    }
    linear_output(w as u32, h as u32, cur)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::value::Value;

    const NAME: &str = "gegl/noise-reduction";

    #[test]
    fn zero_iterations_is_identity() {
        let img = std::sync::Arc::new(pattern(4, 4));
        let out = run_shared(NAME, Some(img.clone()), &[("iterations", Value::Int(0))]).unwrap();
        assert!(std::sync::Arc::ptr_eq(&output(&out), &img));
    }

    #[test]
    fn flat_image_stays_flat() {
        let px = [0.3, 0.6, 0.9, 0.5];
        let out = run_linear(NAME, image(5, 4, px.repeat(20)), &[]);
        assert_close(&out, &px.repeat(20), 1e-6);
    }

    #[test]
    fn step_edges_stay_sharp() {
        let (w, h) = (8, 6);
        let mut data = Vec::new();
        for _y in 0..h {
            for x in 0..w {
                let v = if x < 4 { 0.1 } else { 0.9 };
                data.extend_from_slice(&[v, v, 1.0 - v, 1.0]);
            }
        }
        let out = run_linear(NAME, image(w, h, data.clone()), &[("iterations", Value::Int(8))]);
        assert_close(&out, &data, 1e-3);
    }

    #[test]
    fn linear_ramps_are_kept() {
        let data: Vec<f32> = (0..6 * 5)
            .flat_map(|i| {
                let x = (i % 6) as f32;
                [x * 0.1, 0.5, 0.2, 1.0]
            })
            .collect();
        let out = run_linear(NAME, image(6, 5, data.clone()), &[]);
        // Inside the ramp (edge columns see the clamped border).
        for y in 0..5 {
            for x in 1..5 {
                let i = (y * 6 + x) * 4;
                assert!((out[i] - data[i]).abs() < 1e-6, "{x},{y}: {}", out[i]);
            }
        }
    }

    #[test]
    fn isolated_noisy_pixel_is_reduced_without_spreading() {
        let (w, h) = (5, 5);
        let mut data = [0.2, 0.2, 0.2, 1.0].repeat(25);
        data[12 * 4] = 1.0;
        let one = run_linear(NAME, image(w, h, data.clone()), &[("iterations", Value::Int(1))]);
        // Exactly the mean of the pixel and its four pair means.
        assert!((one[12 * 4] - (1.0 + 4.0 * 0.2) / 5.0).abs() < 1e-6, "{}", one[12 * 4]);
        let out = run_linear(NAME, image(w, h, data), &[]);
        assert!((out[12 * 4] - 0.2).abs() < 0.01, "{}", out[12 * 4]);
        for (i, px) in out.chunks_exact(4).enumerate() {
            if i != 12 {
                assert!((px[0] - 0.2).abs() < 1e-6, "pixel {i}: {}", px[0]);
            }
        }
    }

    #[test]
    fn alpha_is_kept() {
        let img = pattern(6, 6);
        let src = img.to_linear_rgba().into_owned();
        let out = run_linear(NAME, img, &[]);
        for (o, s) in out.chunks_exact(4).zip(src.chunks_exact(4)) {
            assert_eq!(o[3], s[3]);
        }
    }

    #[test]
    fn pair_rule() {
        assert_eq!(pair_delta(0.0, 1.0), 0.0);
        assert_eq!(pair_delta(-0.5, 0.5), 0.0);
        assert_eq!(pair_delta(-1.0, -1.0), -1.0);
        assert_eq!(pair_delta(0.1, -0.8), 0.1);
    }
}
