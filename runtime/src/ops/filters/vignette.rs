//! `gegl/vignette`: blends a colour over the image, more the further from a centre.
//!
//! The distance to the centre (`x`, `y` as fractions of the size) is normalised so
//! that 1 reaches the image corners: for `proportion` 0 the shape is a circle
//! (distance over half the diagonal), for 1 an ellipse with the image's aspect,
//! and in between the axis scales are interpolated. The strength rises with a
//! smoothstep from 0 at `radius · (1 − softness)` to 1 at `radius`, raised to
//! `gamma`; the colour (linear, with its alpha) is mixed over the premultiplied
//! pixel by that strength, so a transparent colour erases.

use super::{par_rows, premultiply, unpremultiply_px, Registry};
use crate::ops::{filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/vignette",
            "Applies a vignette to an image",
            vec![
                PortSpec::color(
                    "color",
                    "#000000",
                    "Defaults to 'black', you can use transparency here to erase portions of an image",
                ),
                PortSpec::number(
                    "radius",
                    1.2,
                    0.0,
                    3.0,
                    "How far out vignetting goes as portion of half image diagonal",
                ),
                PortSpec::number("softness", 0.8, 0.0, 1.0, "Softness"),
                PortSpec::number("gamma", 2.0, 1.0, 20.0, "Falloff linearity"),
                PortSpec::number("proportion", 1.0, 0.0, 1.0, "How close we are to image proportions"),
                PortSpec::number("x", 0.5, 0.0, 1.0, "Horizontal center of vignetting"),
                PortSpec::number("y", 0.5, 0.0, 1.0, "Vertical center of vignetting"),
            ],
        ),
        run: vignette,
    });
}

/// Vignette strength (0..=1) at normalised distance `d`.
fn strength(d: f32, radius: f32, softness: f32, gamma: f32) -> f32 {
    let outer = radius;
    let inner = radius * (1.0 - softness);
    if d >= outer {
        1.0
    } else if d <= inner {
        0.0
    } else {
        let t = (d - inner) / (outer - inner);
        (t * t * (3.0 - 2.0 * t)).powf(gamma)
    }
}

fn vignette(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let lin = inputs.color("color").to_linear();
    let col = [lin[0] * lin[3], lin[1] * lin[3], lin[2] * lin[3], lin[3]];
    let radius = inputs.f64("radius").clamp(0.0, 3.0) as f32;
    let softness = inputs.f64("softness").clamp(0.0, 1.0) as f32;
    let gamma = inputs.f64("gamma").clamp(1.0, 20.0) as f32;
    let proportion = inputs.f64("proportion").clamp(0.0, 1.0) as f32;
    let cx = inputs.f64("x") as f32;
    let cy = inputs.f64("y") as f32;
    let (w, h, mut data) = linear_input(inputs)?;
    let (wf, hf) = (w.max(1) as f32, h.max(1) as f32);
    let half_diag = wf.hypot(hf) * 0.5;
    let lerp = |a: f32, b: f32| a + (b - a) * proportion;
    let sx = lerp(1.0 / half_diag, std::f32::consts::SQRT_2 / wf);
    let sy = lerp(1.0 / half_diag, std::f32::consts::SQRT_2 / hf);
    let (cx, cy) = (cx * wf, cy * hf);
    premultiply(&mut data);
    par_rows(&mut data, w as usize, ctx, |y, row| {
        let dy = (y as f32 + 0.5 - cy) * sy;
        for (x, px) in row.chunks_exact_mut(4).enumerate() {
            let dx = (x as f32 + 0.5 - cx) * sx;
            let s = strength(dx.hypot(dy), radius, softness, gamma);
            if s > 0.0 {
                for c in 0..4 {
                    px[c] += (col[c] - px[c]) * s;
                }
            }
            unpremultiply_px(px);
        }
    })?;
    linear_output(w, h, data)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::strength;
    use crate::color::Color;
    use crate::value::Value;

    const NAME: &str = "gegl/vignette";

    #[test]
    fn strength_curve() {
        assert_eq!(strength(0.1, 1.0, 0.5, 2.0), 0.0);
        assert_eq!(strength(1.0, 1.0, 0.5, 2.0), 1.0);
        assert!((strength(0.75, 1.0, 0.5, 1.0) - 0.5).abs() < 1e-6);
        assert!((strength(0.75, 1.0, 0.5, 2.0) - 0.25).abs() < 1e-6);
        assert_eq!(strength(0.5, 0.5, 0.0, 2.0), 1.0);
        assert_eq!(strength(0.49, 0.5, 0.0, 2.0), 0.0);
    }

    #[test]
    fn centre_is_kept_and_corners_darken() {
        let (w, h) = (21u32, 11u32);
        let px = [0.8, 0.6, 0.4, 1.0];
        let out = run_linear(NAME, image(w, h, px.repeat((w * h) as usize)), &[]);
        let at = |x: u32, y: u32| &out[((y * w + x) * 4) as usize..((y * w + x) * 4 + 4) as usize];
        assert_close(at(10, 5), &px, 1e-6);
        let corner = at(0, 0);
        assert!(corner[0] < 0.8 * 0.5, "{corner:?}");
        assert_eq!(corner[3], 1.0);
        // Darker further out along the middle row, symmetric about the centre.
        for x in 11..20 {
            assert!(at(x + 1, 5)[0] <= at(x, 5)[0]);
            assert!((at(x, 5)[0] - at(20 - x, 5)[0]).abs() < 1e-6);
        }
    }

    #[test]
    fn zero_radius_paints_the_colour_everywhere() {
        let params = [("radius", Value::Number(0.0)), ("color", Value::Color(Color::parse("#ff0000").unwrap()))];
        let out = run_linear(NAME, pattern(4, 3), &params);
        assert_close(&out, &[1.0, 0.0, 0.0, 1.0].repeat(12), 1e-6);
    }

    #[test]
    fn transparent_colour_erases() {
        let params = [("radius", Value::Number(0.0)), ("color", Value::Color(Color::TRANSPARENT))];
        let px = [0.5, 0.5, 0.5, 1.0];
        let out = run_linear(NAME, image(3, 3, px.repeat(9)), &params);
        assert!(out.chunks_exact(4).all(|p| p[3] == 0.0));
        // A soft vignette keeps the colour and lowers alpha.
        let params = [("color", Value::Color(Color::TRANSPARENT)), ("radius", Value::Number(1.0))];
        let out = run_linear(NAME, image(9, 9, px.repeat(81)), &params);
        assert_close(&out[..3], &px[..3], 1e-6);
        assert!(out[3] < 1.0);
    }

    #[test]
    fn proportion_zero_is_circular() {
        // On a wide image, with a circle, points at the same pixel distance from the
        // centre horizontally and vertically get the same value.
        let (w, h) = (41u32, 21u32);
        let px = [1.0, 1.0, 1.0, 1.0];
        let params = [("proportion", Value::Number(0.0)), ("radius", Value::Number(0.5))];
        let out = run_linear(NAME, image(w, h, px.repeat((w * h) as usize)), &params);
        let v = |x: u32, y: u32| out[((y * w + x) * 4) as usize];
        assert!((v(20 + 8, 10) - v(20, 10 + 8)).abs() < 1e-6);
        assert!(v(20 + 8, 10) < 1.0);
        // With the image's proportions, the horizontal point is relatively closer.
        let params = [("proportion", Value::Number(1.0)), ("radius", Value::Number(0.5))];
        let out = run_linear(NAME, image(w, h, px.repeat((w * h) as usize)), &params);
        let v = |x: u32, y: u32| out[((y * w + x) * 4) as usize];
        assert!(v(20 + 8, 10) > v(20, 10 + 8));
    }

    #[test]
    fn centre_can_move() {
        let (w, h) = (10u32, 10u32);
        let px = [1.0, 1.0, 1.0, 1.0];
        let params = [("x", Value::Number(0.0)), ("y", Value::Number(0.0))];
        let out = run_linear(NAME, image(w, h, px.repeat(100)), &params);
        assert!(out[0] > 0.99);
        assert!(out[99 * 4] < out[0]);
    }
}
