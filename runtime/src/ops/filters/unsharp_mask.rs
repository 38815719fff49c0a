//! `gegl/unsharp-mask`: `out = in + scale · (in − blur(in))` where the difference
//! is over `threshold`, per colour channel of premultiplied linear RGBA (Gaussian
//! blur with clamped edges). Alpha is kept.

use super::{premultiply, unpremultiply, Registry};
use crate::ops::blur::{gaussian_blur_premultiplied, Abyss};
use crate::ops::{filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/unsharp-mask",
            "Sharpen by adding the difference from a Gaussian-blurred copy",
            vec![
                PortSpec::number("std-dev", 3.0, 0.0, 300.0, "Standard deviation (spatial scale factor)"),
                PortSpec::number("scale", 0.5, 0.0, 300.0, "Scale, strength of effect"),
                PortSpec::number("threshold", 0.0, 0.0, 1.0, "Threshold"),
            ],
        ),
        run: unsharp_mask,
    });
}

fn unsharp_mask(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let std_dev = inputs.f64("std-dev").clamp(0.0, 300.0) as f32;
    let scale = inputs.f64("scale").clamp(0.0, 300.0) as f32;
    let threshold = inputs.f64("threshold").clamp(0.0, 1.0) as f32;
    if std_dev <= 0.0 || scale <= 0.0 {
        // The blur is the image itself, or nothing is added.
        return Ok(Outputs::shared(img.clone()));
    }
    let (w, h, mut data) = linear_input(inputs)?;
    premultiply(&mut data);
    let blurred = gaussian_blur_premultiplied(&data, w, h, std_dev, std_dev, Abyss::Clamp, ctx)?;
    ctx.check()?;
    for (p, b) in data.chunks_exact_mut(4).zip(blurred.chunks_exact(4)) {
        for c in 0..3 {
            let d = p[c] - b[c];
            if d.abs() > threshold {
                p[c] += scale * d;
            }
        }
    }
    unpremultiply(&mut data);
    linear_output(w, h, data)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    const NAME: &str = "gegl/unsharp-mask";

    fn step() -> Vec<f32> {
        let mut data = Vec::new();
        for _y in 0..5 {
            for x in 0..12 {
                let v = if x < 6 { 0.2 } else { 0.8 };
                data.extend_from_slice(&[v, v, v, 1.0]);
            }
        }
        data
    }

    #[test]
    fn flat_stays_flat() {
        let px = [0.3, 0.5, 0.7, 0.6];
        let out = run_linear(NAME, image(7, 6, px.repeat(42)), &[]);
        assert_close(&out, &px.repeat(42), 1e-5);
    }

    #[test]
    fn zero_scale_or_deviation_is_identity() {
        let img = std::sync::Arc::new(pattern(5, 5));
        for p in [("scale", Value::Number(0.0)), ("std-dev", Value::Number(0.0))] {
            let out = run_shared(NAME, Some(img.clone()), &[p]).unwrap();
            assert!(std::sync::Arc::ptr_eq(&output(&out), &img));
        }
    }

    #[test]
    fn edges_overshoot_on_both_sides() {
        let out = run_linear(NAME, image(12, 5, step()), &[("std-dev", Value::Number(1.5))]);
        let row: Vec<f32> = (0..12).map(|x| out[(2 * 12 + x) * 4]).collect();
        assert!(row[5] < 0.2 - 0.01, "{row:?}");
        assert!(row[6] > 0.8 + 0.01, "{row:?}");
        // Far from the edge nothing changes.
        assert!((row[0] - 0.2).abs() < 1e-3 && (row[11] - 0.8).abs() < 1e-3, "{row:?}");
        // Alpha kept.
        assert!(out.chunks_exact(4).all(|p| p[3] == 1.0));
    }

    #[test]
    fn scale_multiplies_the_difference() {
        let sharp = |scale: f64| {
            let params = [("std-dev", Value::Number(1.5)), ("scale", Value::Number(scale))];
            run_linear(NAME, image(12, 5, step()), &params)[(2 * 12 + 5) * 4]
        };
        let (d1, d2) = (0.2 - sharp(1.0), 0.2 - sharp(2.0));
        assert!(d1 > 0.0 && (d2 - 2.0 * d1).abs() < 1e-5, "{d1} {d2}");
    }

    #[test]
    fn threshold_skips_small_differences() {
        let params = [("std-dev", Value::Number(1.5)), ("threshold", Value::Number(1.0))];
        let out = run_linear(NAME, image(12, 5, step()), &params);
        assert_close(&out, &step(), 1e-6);
    }
}
