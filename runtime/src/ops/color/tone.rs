//! Tonal adjustments: sepia, levels and hue/saturation/lightness.

use super::{map_linear, map_srgb};
use crate::ops::{filter_spec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/sepia",
            "Converts the input image to sepia tones",
            vec![
                PortSpec::number("scale", 1.0, 0.0, 1.0, "Strength of the sepia effect"),
                PortSpec::boolean("srgb", true, "Use sRGB gamma instead of linear"),
            ],
        ),
        run: sepia,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/levels",
            "Remaps input levels: black point, white point and gamma, in sRGB-encoded values",
            vec![
                PortSpec::number("in-low", 0.0, 0.0, 1.0, "Input value mapped to the output low level (black point)"),
                PortSpec::number("in-high", 1.0, 0.0, 1.0, "Input value mapped to the output high level (white point)"),
                PortSpec::number("gamma", 1.0, 0.01, 10.0, "Gamma of the mapping: above 1 brightens the midtones"),
                PortSpec::number("out-low", 0.0, 0.0, 1.0, "Lowest output value"),
                PortSpec::number("out-high", 1.0, 0.0, 1.0, "Highest output value"),
            ],
        ),
        run: levels,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/hue-saturation",
            "Rotates hue and scales saturation and lightness (HSL, sRGB-encoded)",
            vec![
                PortSpec::number("hue", 0.0, -180.0, 180.0, "Hue rotation in degrees"),
                PortSpec::number("saturation", 1.0, 0.0, 10.0, "Saturation multiplier"),
                PortSpec::number("lightness", 0.0, -1.0, 1.0, "Amount added to the lightness"),
            ],
        ),
        run: hue_saturation,
    });
}

fn sepia(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let scale = inputs.f64("scale") as f32;
    let f = move |px: &mut [f32; 4]| {
        let [r, g, b, _] = *px;
        let tone =
            [0.393 * r + 0.769 * g + 0.189 * b, 0.349 * r + 0.686 * g + 0.168 * b, 0.272 * r + 0.534 * g + 0.131 * b];
        for (c, t) in px.iter_mut().zip(tone) {
            *c += (t - *c) * scale;
        }
    };
    if inputs.bool("srgb") {
        map_srgb(inputs, ctx, f)
    } else {
        map_linear(inputs, ctx, f)
    }
}

fn levels(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let in_low = inputs.f64("in-low") as f32;
    let in_high = inputs.f64("in-high") as f32;
    let inv_gamma = 1.0 / (inputs.f64("gamma") as f32).max(0.01);
    let out_low = inputs.f64("out-low") as f32;
    let out_range = inputs.f64("out-high") as f32 - out_low;
    let in_range = in_high - in_low;
    map_srgb(inputs, ctx, |px| {
        for c in &mut px[..3] {
            let t = if in_range != 0.0 {
                ((*c - in_low) / in_range).clamp(0.0, 1.0)
            } else if *c >= in_low {
                // A zero-width input range is a hard step at the black point.
                1.0
            } else {
                0.0
            };
            let t = if inv_gamma == 1.0 { t } else { t.powf(inv_gamma) };
            *c = out_low + out_range * t;
        }
    })
}

fn hue_saturation(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let hue = (inputs.f64("hue") / 360.0) as f32;
    let saturation = inputs.f64("saturation") as f32;
    let lightness = inputs.f64("lightness") as f32;
    map_srgb(inputs, ctx, |px| {
        let [h, s, l] = rgb_to_hsl([px[0], px[1], px[2]]);
        let h = (h + hue).rem_euclid(1.0);
        let s = (s * saturation).clamp(0.0, 1.0);
        let l = (l + lightness).clamp(0.0, 1.0);
        let [r, g, b] = hsl_to_rgb([h, s, l]);
        px[0] = r;
        px[1] = g;
        px[2] = b;
    })
}

/// RGB (clamped to 0..=1) to hue (turns, 0..1), saturation and lightness.
pub(crate) fn rgb_to_hsl(rgb: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(|c| c.clamp(0.0, 1.0));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let l = (max + min) * 0.5;
    let d = max - min;
    if d <= 0.0 {
        return [0.0, 0.0, l];
    }
    let s = if l > 0.5 { d / (2.0 - max - min) } else { d / (max + min) };
    let h = if max == r {
        (g - b) / d + if g < b { 6.0 } else { 0.0 }
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    [h / 6.0, s, l]
}

/// Hue (turns), saturation and lightness to RGB.
pub(crate) fn hsl_to_rgb(hsl: [f32; 3]) -> [f32; 3] {
    let [h, s, l] = hsl;
    if s <= 0.0 {
        return [l, l, l];
    }
    let q = if l < 0.5 { l * (1.0 + s) } else { l + s - l * s };
    let p = 2.0 * l - q;
    let channel = |t: f32| {
        let t = t.rem_euclid(1.0);
        if t < 1.0 / 6.0 {
            p + (q - p) * 6.0 * t
        } else if t < 0.5 {
            q
        } else if t < 2.0 / 3.0 {
            p + (q - p) * (2.0 / 3.0 - t) * 6.0
        } else {
            p
        }
    };
    [channel(h + 1.0 / 3.0), channel(h), channel(h - 1.0 / 3.0)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::color::tests::{assert_close, linear, num, output, pixels, run};
    use crate::pixels::srgb::srgb_to_linear;
    use crate::pixels::Image;
    use crate::value::Value;

    /// A 3x1 image from sRGB-encoded straight RGBA values.
    fn encoded(px: &[f32]) -> Image {
        let lin: Vec<f32> = px
            .chunks_exact(4)
            .flat_map(|p| [srgb_to_linear(p[0]), srgb_to_linear(p[1]), srgb_to_linear(p[2]), p[3]])
            .collect();
        linear(px.len() as u32 / 4, 1, &lin)
    }

    fn encoded_out(out: &Outputs) -> Vec<f32> {
        pixels(out)
            .chunks_exact(4)
            .flat_map(|p| {
                use crate::pixels::srgb::linear_to_srgb;
                [linear_to_srgb(p[0]), linear_to_srgb(p[1]), linear_to_srgb(p[2]), p[3]]
            })
            .collect()
    }

    fn sample() -> Image {
        Image::from_rgba8(3, 1, vec![0, 64, 128, 255, 200, 100, 50, 128, 255, 255, 255, 0]).unwrap()
    }

    #[test]
    fn identity_parameters_are_identity() {
        let img = sample();
        let want = img.to_linear_rgba().into_owned();
        let sepia0 = [("scale", num(0.0))];
        for (name, params) in
            [("imgflo/levels", &[][..]), ("imgflo/hue-saturation", &[][..]), ("gegl/sepia", &sepia0[..])]
        {
            let out = run(name, Some(img.clone()), params).unwrap();
            assert_eq!(output(&out).dimensions(), (3, 1));
            assert_close(&pixels(&out), &want, 1e-5);
        }
    }

    #[test]
    fn sepia_matrix_linear_and_srgb() {
        let white = linear(1, 1, &[1.0, 1.0, 1.0, 0.5]);
        let out = run("gegl/sepia", Some(white.clone()), &[("srgb", Value::Bool(false))]).unwrap();
        assert_close(&pixels(&out), &[1.351, 1.203, 0.937, 0.5], 1e-5);
        let out = run("gegl/sepia", Some(white), &[]).unwrap();
        let want = [srgb_to_linear(1.351), srgb_to_linear(1.203), srgb_to_linear(0.937), 0.5];
        assert_close(&pixels(&out), &want, 1e-5);
        // Half strength on encoded pure red: mix of (1,0,0) and (.393,.349,.272).
        let red = encoded(&[1.0, 0.0, 0.0, 1.0]);
        let out = run("gegl/sepia", Some(red), &[("scale", num(0.5))]).unwrap();
        assert_close(&encoded_out(&out), &[0.6965, 0.1745, 0.136, 1.0], 1e-5);
    }

    #[test]
    fn levels_remaps_encoded_values() {
        let img = encoded(&[0.4, 0.1, 0.9, 1.0]);
        let out = run("imgflo/levels", Some(img), &[("in-low", num(0.2)), ("in-high", num(0.6))]).unwrap();
        assert_close(&encoded_out(&out), &[0.5, 0.0, 1.0, 1.0], 1e-5);

        let img = encoded(&[0.25, 0.0, 1.0, 0.5]);
        let out = run("imgflo/levels", Some(img.clone()), &[("gamma", num(2.0))]).unwrap();
        assert_close(&encoded_out(&out), &[0.5, 0.0, 1.0, 0.5], 1e-5);
        let params = [("out-low", num(0.2)), ("out-high", num(0.8))];
        let out = run("imgflo/levels", Some(img), &params).unwrap();
        assert_close(&encoded_out(&out), &[0.35, 0.2, 0.8, 0.5], 1e-5);
    }

    #[test]
    fn levels_with_empty_input_range_is_a_step() {
        let img = encoded(&[0.4, 0.5, 0.6, 1.0]);
        let params = [("in-low", num(0.5)), ("in-high", num(0.5))];
        let out = run("imgflo/levels", Some(img), &params).unwrap();
        assert_close(&encoded_out(&out), &[0.0, 1.0, 1.0, 1.0], 1e-5);
    }

    #[test]
    fn hue_saturation_lightness() {
        let red = encoded(&[1.0, 0.0, 0.0, 0.7]);
        let out = run("imgflo/hue-saturation", Some(red.clone()), &[("hue", num(120.0))]).unwrap();
        assert_close(&encoded_out(&out), &[0.0, 1.0, 0.0, 0.7], 1e-5);
        let out = run("imgflo/hue-saturation", Some(red.clone()), &[("hue", num(-120.0))]).unwrap();
        assert_close(&encoded_out(&out), &[0.0, 0.0, 1.0, 0.7], 1e-5);
        let out = run("imgflo/hue-saturation", Some(red.clone()), &[("saturation", num(0.0))]).unwrap();
        assert_close(&encoded_out(&out), &[0.5, 0.5, 0.5, 0.7], 1e-5);
        let out = run("imgflo/hue-saturation", Some(red), &[("lightness", num(1.0))]).unwrap();
        assert_close(&encoded_out(&out), &[1.0, 1.0, 1.0, 0.7], 1e-5);
        let dull = encoded(&[0.6, 0.4, 0.4, 1.0]);
        let out = run("imgflo/hue-saturation", Some(dull), &[("saturation", num(2.0))]).unwrap();
        assert_close(&encoded_out(&out), &[0.7, 0.3, 0.3, 1.0], 1e-5);
    }

    #[test]
    fn hsl_round_trips() {
        for r in 0..=10 {
            for g in 0..=10 {
                for b in 0..=10 {
                    let rgb = [r as f32 / 10.0, g as f32 / 10.0, b as f32 / 10.0];
                    assert_close(&hsl_to_rgb(rgb_to_hsl(rgb)), &rgb, 1e-6);
                }
            }
        }
    }
}
