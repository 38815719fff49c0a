//! `gegl/motion-blur-linear`: the mean of samples along a segment through each pixel.
//!
//! The segment is `length` pixels long, centred on the pixel, at `angle` degrees
//! (0 = horizontal; image y grows downwards, so positive angles go clockwise on
//! screen). `ceil(length) + 1` evenly spaced samples are read with bilinear
//! interpolation, clamped to the edge, on premultiplied linear RGBA.

use super::{par_rows, premultiply, unpremultiply_px, Registry};
use crate::ops::{filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/motion-blur-linear",
            "Linear motion blur",
            vec![
                PortSpec::number("length", 10.0, 0.0, 1000.0, "Length of blur in pixels"),
                PortSpec::number("angle", 0.0, -180.0, 180.0, "Angle of blur in degrees"),
            ],
        ),
        run: motion_blur_linear,
    });
}

/// One sample: integer offset of the top-left neighbour and bilinear weights.
#[derive(Clone, Copy, Debug)]
struct Tap {
    dx: i64,
    dy: i64,
    fx: f32,
    fy: f32,
}

fn taps(length: f64, angle_deg: f64) -> Vec<Tap> {
    let n = length.ceil() as usize + 1;
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    (0..n)
        .map(|i| {
            let t = (i as f64 / (n - 1) as f64 - 0.5) * length;
            let (ox, oy) = (t * cos, t * sin);
            // Snap tiny rounding errors (e.g. cos 90°) so axis-aligned blurs are exact.
            let snap = |v: f64| {
                if (v - v.round()).abs() < 1e-9 {
                    v.round()
                } else {
                    v
                }
            };
            let (ox, oy) = (snap(ox), snap(oy));
            let (bx, by) = (ox.floor(), oy.floor());
            Tap { dx: bx as i64, dy: by as i64, fx: (ox - bx) as f32, fy: (oy - by) as f32 }
        })
        .collect()
}

fn motion_blur_linear(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let length = inputs.f64("length").clamp(0.0, 1000.0);
    let angle = inputs.f64("angle").clamp(-180.0, 180.0);
    if length <= 0.0 {
        return Ok(Outputs::shared(img.clone()));
    }
    let (w, h, mut src) = linear_input(inputs)?;
    let (w, h) = (w as usize, h as usize);
    premultiply(&mut src);
    let taps = taps(length, angle);
    let inv_n = 1.0 / taps.len() as f32;
    let (wi, hi) = (w as i64, h as i64);
    let mut out = vec![0.0f32; src.len()];
    par_rows(&mut out, w, ctx, |y, row| {
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let mut acc = [0.0f32; 4];
            for t in &taps {
                let x0 = (x as i64 + t.dx).clamp(0, wi - 1) as usize;
                let x1 = (x as i64 + t.dx + 1).clamp(0, wi - 1) as usize;
                let y0 = (y as i64 + t.dy).clamp(0, hi - 1) as usize;
                let y1 = (y as i64 + t.dy + 1).clamp(0, hi - 1) as usize;
                let (a, b) = ((y0 * w + x0) * 4, (y0 * w + x1) * 4);
                let (c, d) = ((y1 * w + x0) * 4, (y1 * w + x1) * 4);
                let (fx, fy) = (t.fx, t.fy);
                for k in 0..4 {
                    let top = src[a + k] + (src[b + k] - src[a + k]) * fx;
                    let bottom = src[c + k] + (src[d + k] - src[c + k]) * fx;
                    acc[k] += top + (bottom - top) * fy;
                }
            }
            for k in 0..4 {
                px[k] = acc[k] * inv_n;
            }
            unpremultiply_px(px);
        }
    })?;
    linear_output(w as u32, h as u32, out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::pixels::Image;
    use crate::value::Value;

    const NAME: &str = "gegl/motion-blur-linear";

    /// A 9x9 black image with a white vertical line in column 4.
    fn vertical_line() -> Image {
        let mut data = Vec::new();
        for _y in 0..9 {
            for x in 0..9 {
                let v = if x == 4 { 1.0 } else { 0.0 };
                data.extend_from_slice(&[v, v, v, 1.0]);
            }
        }
        image(9, 9, data)
    }

    fn params(length: f64, angle: f64) -> Vec<(&'static str, Value)> {
        vec![("length", Value::Number(length)), ("angle", Value::Number(angle))]
    }

    #[test]
    fn zero_length_is_identity() {
        let img = std::sync::Arc::new(pattern(3, 3));
        let out = run_shared(NAME, Some(img.clone()), &params(0.0, 30.0)).unwrap();
        assert!(std::sync::Arc::ptr_eq(&output(&out), &img));
    }

    #[test]
    fn horizontal_blur_spreads_a_vertical_line_horizontally_only() {
        // Length 2: three samples at -1, 0, +1 → each covered pixel gets 1/3.
        let out = run_linear(NAME, vertical_line(), &params(2.0, 0.0));
        for y in 0..9 {
            for x in 0..9 {
                let want = if (3..=5).contains(&x) { 1.0 / 3.0 } else { 0.0 };
                let v = out[(y * 9 + x) * 4];
                assert!((v - want).abs() < 1e-6, "{x},{y}: {v}");
            }
        }
    }

    #[test]
    fn vertical_blur_leaves_a_vertical_line_alone() {
        let img = vertical_line();
        let src = img.to_linear_rgba().into_owned();
        let out = run_linear(NAME, img, &params(4.0, 90.0));
        assert_close(&out, &src, 1e-6);
    }

    #[test]
    fn angle_90_spreads_vertically() {
        let mut data = [0.0, 0.0, 0.0, 1.0].repeat(49);
        data[24 * 4] = 1.0; // centre of 7x7
        let out = run_linear(NAME, image(7, 7, data), &params(2.0, 90.0));
        for y in 0..7 {
            for x in 0..7 {
                let want = if x == 3 && (2..=4).contains(&y) { 1.0 / 3.0 } else { 0.0 };
                assert!((out[(y * 7 + x) * 4] - want).abs() < 1e-6, "{x},{y}");
            }
        }
    }

    #[test]
    fn fractional_length_interpolates() {
        // Length 1: two samples at -0.5 and +0.5, each half of two pixels.
        let data = [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]].concat();
        let out = run_linear(NAME, image(3, 1, data), &params(1.0, 180.0));
        assert_close(&[out[0], out[4], out[8]], &[0.25, 0.5, 0.25], 1e-6);
    }

    #[test]
    fn flat_stays_flat_and_diagonals_work() {
        let px = [0.2, 0.4, 0.8, 0.5];
        let out = run_linear(NAME, image(6, 5, px.repeat(30)), &params(7.5, 33.0));
        assert_close(&out, &px.repeat(30), 1e-5);
    }

    #[test]
    fn transparent_pixels_do_not_bleed_colour() {
        let data = [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]].concat();
        let out = run_linear(NAME, image(3, 1, data), &params(2.0, 0.0));
        // The middle pixel: mean alpha 2/3, colour only from the red neighbours.
        assert_close(&out[4..8], &[1.0, 0.0, 0.0, 2.0 / 3.0], 1e-6);
    }
}
