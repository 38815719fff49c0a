//! `gegl/edge-sobel`: Sobel gradients per colour channel.
//!
//! The kernels are scaled by 1/4, so a 0 → 1 step gives a gradient of 1 next to
//! it. With both directions the result is `sqrt(gx² + gy²) / √2`; with one it is
//! that gradient, as an absolute value unless `keep-sign` is set. Linear RGBA,
//! straight alpha, edges clamped; alpha is kept.

use super::{par_rows, Registry};
use crate::ops::{filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/edge-sobel",
            "Specialized direction-dependent edge detection",
            vec![
                PortSpec::boolean("horizontal", true, "Horizontal"),
                PortSpec::boolean("vertical", true, "Vertical"),
                PortSpec::boolean(
                    "keep-sign",
                    false,
                    "Keep negative values in result; when off, the absolute value of the result is used instead.",
                ),
            ],
        ),
        run: edge_sobel,
    });
}

fn edge_sobel(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let horizontal = inputs.bool("horizontal");
    let vertical = inputs.bool("vertical");
    let keep_sign = inputs.bool("keep-sign");
    let (w, h, src) = linear_input(inputs)?;
    let (w, h) = (w as usize, h as usize);
    let mut out = vec![0.0f32; src.len()];
    par_rows(&mut out, w, ctx, |y, row| {
        let ym = y.saturating_sub(1);
        let yp = (y + 1).min(h - 1);
        let at = |yy: usize, xx: usize, c: usize| src[(yy * w + xx) * 4 + c];
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let xm = x.saturating_sub(1);
            let xp = (x + 1).min(w - 1);
            for (c, o) in px.iter_mut().take(3).enumerate() {
                let (tl, tm, tr) = (at(ym, xm, c), at(ym, x, c), at(ym, xp, c));
                let (ml, mr) = (at(y, xm, c), at(y, xp, c));
                let (bl, bm, br) = (at(yp, xm, c), at(yp, x, c), at(yp, xp, c));
                let gx = ((tr + 2.0 * mr + br) - (tl + 2.0 * ml + bl)) * 0.25;
                let gy = ((bl + 2.0 * bm + br) - (tl + 2.0 * tm + tr)) * 0.25;
                let g = match (horizontal, vertical) {
                    (true, true) => (gx * gx + gy * gy).sqrt() * std::f32::consts::FRAC_1_SQRT_2,
                    (true, false) => gx,
                    (false, true) => gy,
                    (false, false) => 0.0,
                };
                *o = if keep_sign { g } else { g.abs() };
            }
            px[3] = src[(y * w + x) * 4 + 3];
        }
    })?;
    linear_output(w as u32, h as u32, out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    const NAME: &str = "gegl/edge-sobel";

    /// 4x3: columns 0-1 at 0, columns 2-3 at 1 (a vertical step), alpha 0.7.
    fn vertical_step(rising: bool) -> Vec<f32> {
        let mut data = Vec::new();
        for _y in 0..3 {
            for x in 0..4 {
                let v = if (x >= 2) == rising { 1.0 } else { 0.0 };
                data.extend_from_slice(&[v, v * 0.5, 0.0, 0.7]);
            }
        }
        data
    }

    fn flags(h: bool, v: bool, keep: bool) -> Vec<(&'static str, Value)> {
        vec![("horizontal", Value::Bool(h)), ("vertical", Value::Bool(v)), ("keep-sign", Value::Bool(keep))]
    }

    #[test]
    fn flat_gives_zero_and_keeps_alpha() {
        let out = run_linear(NAME, image(3, 3, [0.5, 0.2, 0.9, 0.4].repeat(9)), &[]);
        assert_close(&out, &[0.0, 0.0, 0.0, 0.4].repeat(9), 0.0);
    }

    #[test]
    fn vertical_step_responds_to_horizontal_gradient_only() {
        let out = run_linear(NAME, image(4, 3, vertical_step(true)), &flags(true, false, false));
        for y in 0..3 {
            let row: Vec<f32> = (0..4).map(|x| out[(y * 4 + x) * 4]).collect();
            assert_close(&row, &[0.0, 1.0, 1.0, 0.0], 1e-6);
            assert!((out[(y * 4 + 1) * 4 + 1] - 0.5).abs() < 1e-6);
            assert_eq!(out[(y * 4 + 1) * 4 + 3], 0.7);
        }
        let out = run_linear(NAME, image(4, 3, vertical_step(true)), &flags(false, true, false));
        assert!(out.chunks_exact(4).all(|p| p[0] == 0.0 && p[1] == 0.0 && p[2] == 0.0));
    }

    #[test]
    fn both_directions_scale_by_one_over_root_two() {
        let out = run_linear(NAME, image(4, 3, vertical_step(true)), &[]);
        assert!((out[4] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6, "{}", out[4]);
    }

    #[test]
    fn keep_sign_keeps_falling_edges_negative() {
        let signed = run_linear(NAME, image(4, 3, vertical_step(false)), &flags(true, false, true));
        assert!((signed[4] + 1.0).abs() < 1e-6, "{}", signed[4]);
        let abs = run_linear(NAME, image(4, 3, vertical_step(false)), &flags(true, false, false));
        assert!((abs[4] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn horizontal_step_responds_to_vertical_gradient() {
        // 1x3 column: 0, 0, 1 → gy at the middle row is 1 (edge clamped).
        let data = [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]].concat();
        let out = run_linear(NAME, image(1, 3, data), &flags(false, true, true));
        assert!((out[4] - 1.0).abs() < 1e-6, "{}", out[4]);
        assert!(out[0].abs() < 1e-6);
    }
}
