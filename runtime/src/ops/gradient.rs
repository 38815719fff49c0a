//! `gegl/gradient-map`: maps luminance through a gradient of up to five colour stops.
//!
//! As GEGL did: a 2048-entry table of colours linearly interpolated between
//! consecutive stops (in sRGB-encoded RGBA when `srgb` is on, else linear RGBA); each
//! pixel's luminance picks an entry (Y' when `srgb`, else linear Y), and the output
//! alpha is the table's alpha times the pixel's alpha.

use super::{filter_spec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::color::Color;
use crate::pixels::srgb::{linear_to_srgb, srgb_to_linear};
use crate::value::{PortSpec, Value};

const ENTRIES: usize = 2048;
/// babl's luminance weights for linear sRGB primaries (D50-adapted).
pub const LUMA: [f32; 3] = [0.222_504_5, 0.716_878_6, 0.060_616_9];

pub fn register(reg: &mut Registry) {
    let colors = [
        ("color1", "#000000ff", "Color 1"),
        ("color2", "#ffffffff", "Color 2"),
        ("color3", "#ffffffff", "Color 3"),
        ("color4", "#ffffffff", "Color 4"),
        ("color5", "#ffffffff", "Color 5"),
    ];
    let stops = [
        ("stop1", 0.0, "Stop 1"),
        ("stop2", 1.0, "Stop 2"),
        ("stop3", 1.0, "Stop 3"),
        ("stop4", 1.0, "Stop 4"),
        ("stop5", 1.0, "Stop 5"),
    ];
    let mut params: Vec<PortSpec> = colors.iter().map(|&(n, d, desc)| PortSpec::color(n, d, desc)).collect();
    params.extend(stops.iter().map(|&(n, d, desc)| PortSpec {
        minimum: None,
        maximum: None,
        ..PortSpec::number(n, d, 0.0, 0.0, desc)
    }));
    params.push(PortSpec::boolean("srgb", false, "sRGB"));
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/gradient-map",
            "Applies a color gradient, mapping the luminance of the input to the gradient's colours",
            params,
        ),
        run,
    });
}

/// The gradient table: RGBA entries in the working space (encoded when `srgb`).
fn table(stops: &[(f64, [f32; 4])], srgb: bool) -> Vec<[f32; 4]> {
    let to_space = |c: [f32; 4]| {
        if srgb {
            c
        } else {
            [srgb_to_linear(c[0]), srgb_to_linear(c[1]), srgb_to_linear(c[2]), c[3]]
        }
    };
    (0..ENTRIES)
        .map(|i| {
            let x = i as f64 / (ENTRIES - 1) as f64;
            if x <= stops[0].0 {
                return to_space(stops[0].1);
            }
            for pair in stops.windows(2) {
                let ((s0, c0), (s1, c1)) = (pair[0], pair[1]);
                if x <= s1 {
                    let t = if s1 > s0 { ((x - s0) / (s1 - s0)) as f32 } else { 1.0 };
                    let (a, b) = (to_space(c0), to_space(c1));
                    return [0, 1, 2, 3].map(|k| a[k] + (b[k] - a[k]) * t);
                }
            }
            to_space(stops[stops.len() - 1].1)
        })
        .collect()
}

fn run(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let srgb = inputs.bool("srgb");
    let stops: Vec<(f64, [f32; 4])> = (1..=5)
        .map(|i| {
            let c: Color = match inputs.get(&format!("color{i}")) {
                Some(Value::Color(c)) => *c,
                _ => Color::WHITE,
            };
            (inputs.f64(&format!("stop{i}")), [c.r, c.g, c.b, c.a])
        })
        .collect();
    let lut = table(&stops, srgb);
    ctx.check()?;
    let (w, h) = img.dimensions();
    let mut data = img.to_linear_rgba().into_owned();
    for px in data.chunks_exact_mut(4) {
        let mut y = LUMA[0] * px[0] + LUMA[1] * px[1] + LUMA[2] * px[2];
        if srgb {
            y = linear_to_srgb(y);
        }
        let idx = (y * (ENTRIES - 1) as f32).clamp(0.0, (ENTRIES - 1) as f32) as usize;
        let e = lut[idx];
        if srgb {
            px[0] = srgb_to_linear(e[0]);
            px[1] = srgb_to_linear(e[1]);
            px[2] = srgb_to_linear(e[2]);
        } else {
            px[0] = e[0];
            px[1] = e[1];
            px[2] = e[2];
        }
        px[3] *= e[3];
    }
    super::linear_output(w, h, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Image;
    use std::sync::Arc;

    fn map(img: Image, params: &[(&'static str, Value)]) -> Vec<u8> {
        let op = Registry::builtin().get("gegl/gradient-map").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(img)));
        for (k, v) in params {
            inputs.set(k, v.clone());
        }
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        out.get("output").unwrap().as_image().unwrap().to_rgba8().into_owned()
    }

    #[test]
    fn default_gradient_maps_black_to_black_and_white_to_white() {
        let img = Image::from_rgb8(2, 1, vec![0, 0, 0, 255, 255, 255]).unwrap();
        assert_eq!(map(img, &[]), vec![0, 0, 0, 255, 255, 255, 255, 255]);
    }

    #[test]
    fn two_colour_gradient_in_srgb_hits_the_midpoint() {
        let red = Value::Color(Color::parse("#ff0000").unwrap());
        let blue = Value::Color(Color::parse("#0000ff").unwrap());
        // sRGB 128 grey is Y' ≈ 0.5: halfway between red and blue in encoded space.
        let img = Image::from_rgb8(1, 1, vec![128, 128, 128]).unwrap();
        let px = map(img, &[("color1", red), ("color2", blue), ("srgb", Value::Bool(true))]);
        assert!((px[0] as i32 - 127).abs() <= 1 && (px[2] as i32 - 128).abs() <= 1, "{px:?}");
        assert_eq!(px[1], 0);
    }

    #[test]
    fn alpha_is_multiplied() {
        let img = Image::from_rgba8(1, 1, vec![255, 255, 255, 128]).unwrap();
        let half = Value::Color(Color::parse("#ffffff80").unwrap());
        let px = map(img, &[("color2", half)]);
        assert_eq!(px[3], 64);
    }
}
