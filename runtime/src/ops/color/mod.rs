//! Point colour operations: greyscale, opacity, brightness/contrast, inversions and
//! threshold here; sepia, levels and hue/saturation in [`tone`].
//!
//! Every operation maps each pixel on its own, in linear light unless it is said to
//! work on sRGB-encoded ("R'G'B'") values. Results are not clamped (the saver clamps).

mod tone;

use super::{
    composer_spec, filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, Registry, RunContext,
};
use crate::pixels::srgb::{linear_to_srgb, srgb_to_linear};
use crate::pixels::{Image, Pixels};
use crate::value::PortSpec;

/// Weights of linear R, G and B in the luminance Y (babl's sRGB primaries, D50-adapted).
pub const LUMA: [f32; 3] = [0.222_504_5, 0.716_878_6, 0.060_616_9];

/// Linear-light luminance of an RGB(A) pixel.
#[inline(always)]
pub fn luminance(px: &[f32; 4]) -> f32 {
    LUMA[0] * px[0] + LUMA[1] * px[1] + LUMA[2] * px[2]
}

/// Pixels processed between cancellation checks.
const BLOCK: usize = 1 << 16;

/// Rows processed between cancellation checks in row loops.
const ROWS: usize = 64;

pub fn register(reg: &mut Registry) {
    let gray = "Turns the image grayscale";
    reg.add(FnOp { spec: filter_spec("gegl/gray", gray, vec![]), run: gray_op });
    reg.add(FnOp { spec: filter_spec("gegl/grey", gray, vec![]), run: gray_op });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/example",
            "Converts to linear-light luminance grey, keeping alpha (imgflo's customgrey example op)",
            vec![],
        ),
        run: gray_op,
    });
    reg.add(FnOp {
        spec: composer_spec(
            "gegl/opacity",
            "Weights the opacity of the input both the value of the aux input and the global value property.",
            vec![PortSpec::number(
                "value",
                1.0,
                -10.0,
                10.0,
                "Global opacity value that is always used on top of the optional auxiliary input buffer.",
            )],
        ),
        run: opacity,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/brightness-contrast",
            "Changes the light level and contrast.",
            vec![
                PortSpec::number(
                    "contrast",
                    1.0,
                    -5.0,
                    5.0,
                    "Magnitude of contrast scaling >1.0 brighten < 1.0 darken",
                ),
                PortSpec::number("brightness", 0.0, -3.0, 3.0, "Amount to increase brightness"),
            ],
        ),
        run: brightness_contrast,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/invert-linear",
            "Inverts the components (except alpha) in linear light, the result is the corresponding \
             \"negative\" image.",
            vec![],
        ),
        run: invert_linear,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/invert-gamma",
            "Inverts the components (except alpha) in perceptual (sRGB-encoded) space, the result is the \
             corresponding \"negative\" image.",
            vec![],
        ),
        run: invert_srgb,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/invert",
            "Inverts the colours in sRGB-encoded space (the negative people expect); alpha kept",
            vec![],
        ),
        run: invert_srgb,
    });
    reg.add(FnOp {
        spec: composer_spec(
            "gegl/threshold",
            "Thresholds the image to white/black based on either the global value set in the value \
             property, or per pixel from the aux input.",
            vec![PortSpec::number(
                "value",
                0.5,
                -200.0,
                200.0,
                "Scalar threshold level (overridden if an auxiliary input buffer is provided.)",
            )],
        ),
        run: threshold,
    });
    tone::register(reg);
}

/// Applies `f` to every pixel of `input` in linear light (straight alpha).
pub(crate) fn map_linear(inputs: &Inputs, ctx: &RunContext, f: impl Fn(&mut [f32; 4])) -> Result<Outputs, OpError> {
    let (w, h, mut data) = linear_input(inputs)?;
    for block in data.chunks_mut(BLOCK * 4) {
        ctx.check()?;
        for px in block.chunks_exact_mut(4) {
            f(px.try_into().expect("4 channels"));
        }
    }
    linear_output(w, h, data)
}

/// Applies `f` to every pixel of `input` with sRGB-encoded colour (straight alpha).
pub(crate) fn map_srgb(inputs: &Inputs, ctx: &RunContext, f: impl Fn(&mut [f32; 4])) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let mut data = srgb_rgba(img);
    for block in data.chunks_mut(BLOCK * 4) {
        ctx.check()?;
        for px in block.chunks_exact_mut(4) {
            let px: &mut [f32; 4] = px.try_into().expect("4 channels");
            f(px);
            for c in &mut px[..3] {
                *c = srgb_to_linear(*c);
            }
        }
    }
    linear_output(img.width(), img.height(), data)
}

/// Straight-alpha RGBA with sRGB-encoded colour (exact for 8-bit pixels).
pub(crate) fn srgb_rgba(img: &Image) -> Vec<f32> {
    const UNIT: f32 = 1.0 / 255.0;
    match img.pixels() {
        Pixels::Rgb8(v) => {
            let mut out = Vec::with_capacity(img.pixel_count() * 4);
            for p in v.chunks_exact(3) {
                out.extend_from_slice(&[p[0] as f32 * UNIT, p[1] as f32 * UNIT, p[2] as f32 * UNIT, 1.0]);
            }
            out
        }
        Pixels::Rgba8(v) => v.iter().map(|&b| b as f32 * UNIT).collect(),
        Pixels::RgbaF32(v) => {
            let mut out = v.clone();
            for px in out.chunks_exact_mut(4) {
                for c in &mut px[..3] {
                    *c = linear_to_srgb(*c);
                }
            }
            out
        }
    }
}

/// Runs `f(pixel, aux_pixel)` over `data` (a `width`-wide linear RGBA image) with the
/// pixel of `aux` at the same place; places outside `aux` read as transparent black.
fn with_aux(
    data: &mut [f32],
    width: u32,
    aux: &Image,
    ctx: &RunContext,
    f: impl Fn(&mut [f32; 4], &[f32; 4]),
) -> Result<(), OpError> {
    let row = width as usize * 4;
    if row == 0 {
        return Ok(());
    }
    let mask = aux.to_linear_rgba();
    let mrow = aux.width() as usize * 4;
    let n = row.min(mrow);
    for (y, drow) in data.chunks_exact_mut(row).enumerate() {
        if y % ROWS == 0 {
            ctx.check()?;
        }
        let rest = if y < aux.height() as usize {
            let m = &mask[y * mrow..y * mrow + n];
            let (inside, rest) = drow.split_at_mut(n);
            for (px, mp) in inside.chunks_exact_mut(4).zip(m.chunks_exact(4)) {
                f(px.try_into().expect("4 channels"), mp.try_into().expect("4 channels"));
            }
            rest
        } else {
            drow
        };
        for px in rest.chunks_exact_mut(4) {
            f(px.try_into().expect("4 channels"), &[0.0; 4]);
        }
    }
    Ok(())
}

fn gray_op(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    map_linear(inputs, ctx, |px| {
        let y = luminance(px);
        px[0] = y;
        px[1] = y;
        px[2] = y;
    })
}

fn opacity(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let input = inputs.require_image("input")?;
    let value = inputs.f64("value") as f32;
    match inputs.image("aux") {
        None if value == 1.0 => Ok(Outputs::shared(input.clone())),
        None => map_linear(inputs, ctx, |px| px[3] *= value),
        Some(aux) => {
            let mut data = input.to_linear_rgba().into_owned();
            with_aux(&mut data, input.width(), aux, ctx, |px, m| {
                px[3] *= value * luminance(m) * m[3];
            })?;
            linear_output(input.width(), input.height(), data)
        }
    }
}

fn brightness_contrast(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let contrast = inputs.f64("contrast") as f32;
    let brightness = inputs.f64("brightness") as f32;
    map_linear(inputs, ctx, |px| {
        for c in &mut px[..3] {
            *c = (*c - 0.5) * contrast + brightness + 0.5;
        }
    })
}

fn invert_linear(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    map_linear(inputs, ctx, |px| {
        for c in &mut px[..3] {
            *c = 1.0 - *c;
        }
    })
}

fn invert_srgb(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    map_srgb(inputs, ctx, |px| {
        for c in &mut px[..3] {
            *c = 1.0 - *c;
        }
    })
}

#[inline(always)]
fn set_level(px: &mut [f32; 4], white: bool) {
    let v = if white { 1.0 } else { 0.0 };
    px[0] = v;
    px[1] = v;
    px[2] = v;
}

fn threshold(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let value = inputs.f64("value") as f32;
    match inputs.image("aux") {
        None => map_linear(inputs, ctx, |px| set_level(px, luminance(px) >= value)),
        Some(aux) => {
            let input = inputs.require_image("input")?;
            let mut data = input.to_linear_rgba().into_owned();
            with_aux(&mut data, input.width(), aux, ctx, |px, m| {
                set_level(px, luminance(px) >= luminance(m));
            })?;
            linear_output(input.width(), input.height(), data)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::value::Value;

    /// Runs component `name` of this module on `input` with `params` over the defaults.
    pub(crate) fn run(name: &str, input: Option<Image>, params: &[(&'static str, Value)]) -> Result<Outputs, OpError> {
        let mut reg = Registry::empty();
        register(&mut reg);
        let op = reg.get(name).unwrap_or_else(|| panic!("no {name}"));
        let mut inputs = Inputs::defaults(op.spec());
        if let Some(img) = input {
            inputs.set("input", Value::Image(Arc::new(img)));
        }
        for (port, v) in params {
            inputs.set(port, v.clone());
        }
        op.run(&inputs, &RunContext::default())
    }

    pub(crate) fn output(out: &Outputs) -> &Arc<Image> {
        out.get("output").and_then(Value::as_image).expect("an output image")
    }

    pub(crate) fn pixels(out: &Outputs) -> Vec<f32> {
        output(out).to_linear_rgba().into_owned()
    }

    pub(crate) fn linear(w: u32, h: u32, data: &[f32]) -> Image {
        Image::from_rgba_f32(w, h, data.to_vec()).unwrap()
    }

    pub(crate) fn num(v: f64) -> Value {
        Value::Number(v)
    }

    #[track_caller]
    pub(crate) fn assert_close(got: &[f32], want: &[f32], tol: f32) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= tol, "value {i}: got {g}, want {w} ({got:?} vs {want:?})");
        }
    }

    const ALL: [&str; 10] = [
        "gegl/gray",
        "gegl/grey",
        "imgflo/example",
        "gegl/opacity",
        "gegl/brightness-contrast",
        "gegl/invert-linear",
        "gegl/invert-gamma",
        "imgflo/invert",
        "gegl/threshold",
        "gegl/sepia",
    ];

    #[test]
    fn missing_input_is_an_error() {
        for name in ALL.iter().chain(&["imgflo/levels", "imgflo/hue-saturation"]) {
            let err = run(name, None, &[]).err();
            assert!(matches!(err, Some(OpError::MissingInput("input"))), "{name}: {err:?}");
        }
    }

    #[test]
    fn gray_uses_babl_weights_and_keeps_alpha() {
        let img = linear(3, 1, &[1.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.25]);
        for name in ["gegl/gray", "gegl/grey", "imgflo/example"] {
            let out = run(name, Some(img.clone()), &[]).unwrap();
            assert_eq!(output(&out).dimensions(), (3, 1));
            #[rustfmt::skip]
            assert_close(&pixels(&out), &[
                0.222_504_5, 0.222_504_5, 0.222_504_5, 0.5,
                0.716_878_6, 0.716_878_6, 0.716_878_6, 1.0,
                1.0, 1.0, 1.0, 0.25,
            ], 1e-6);
        }
    }

    #[test]
    fn gray_of_8bit_input() {
        let img = Image::from_rgb8(2, 1, vec![255, 255, 255, 0, 0, 0]).unwrap();
        let out = run("gegl/gray", Some(img), &[]).unwrap();
        assert_close(&pixels(&out), &[1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0], 1e-6);
    }

    #[test]
    fn opacity_scales_alpha_only_and_unclamped() {
        let img = linear(2, 1, &[0.2, 0.4, 0.6, 1.0, 0.1, 0.1, 0.1, 0.5]);
        let out = run("gegl/opacity", Some(img.clone()), &[("value", num(0.5))]).unwrap();
        assert_close(&pixels(&out), &[0.2, 0.4, 0.6, 0.5, 0.1, 0.1, 0.1, 0.25], 1e-7);
        let out = run("gegl/opacity", Some(img), &[("value", num(2.0))]).unwrap();
        assert_close(&pixels(&out), &[0.2, 0.4, 0.6, 2.0, 0.1, 0.1, 0.1, 1.0], 1e-7);
    }

    #[test]
    fn opacity_one_without_aux_passes_through() {
        let mut reg = Registry::empty();
        register(&mut reg);
        let op = reg.get("gegl/opacity").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        let img = Arc::new(Image::from_rgb8(1, 1, vec![1, 2, 3]).unwrap());
        inputs.set("input", Value::Image(img.clone()));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        assert!(Arc::ptr_eq(output(&out), &img));
    }

    #[test]
    fn opacity_with_smaller_aux_mask() {
        let img = linear(3, 2, &[0.5; 24]);
        // Aux 2x1: white opaque, white half-transparent; everything else is outside it.
        let aux = linear(2, 1, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]);
        let mut reg = Registry::empty();
        register(&mut reg);
        let op = reg.get("gegl/opacity").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(img)));
        inputs.set("aux", Value::Image(Arc::new(aux)));
        inputs.set("value", num(0.5));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        let px = pixels(&out);
        let alphas: Vec<f32> = px.chunks_exact(4).map(|p| p[3]).collect();
        assert_close(&alphas, &[0.25, 0.125, 0.0, 0.0, 0.0, 0.0], 1e-6);
        assert!(px.chunks_exact(4).all(|p| p[..3] == [0.5, 0.5, 0.5]));
    }

    #[test]
    fn brightness_contrast() {
        let img = linear(3, 1, &[0.25, 0.5, 0.75, 0.3, 1.0, 0.0, 0.2, 1.0, 0.9, 0.8, 0.7, 0.6]);
        let same = run("gegl/brightness-contrast", Some(img.clone()), &[]).unwrap();
        assert_close(&pixels(&same), &img.to_linear_rgba(), 1e-6);
        let out = run("gegl/brightness-contrast", Some(img.clone()), &[("contrast", num(2.0))]).unwrap();
        #[rustfmt::skip]
        assert_close(&pixels(&out), &[0.0, 0.5, 1.0, 0.3, 1.5, -0.5, -0.1, 1.0, 1.3, 1.1, 0.9, 0.6], 1e-6);
        let out = run("gegl/brightness-contrast", Some(img), &[("brightness", num(0.1))]).unwrap();
        #[rustfmt::skip]
        assert_close(&pixels(&out), &[0.35, 0.6, 0.85, 0.3, 1.1, 0.1, 0.3, 1.0, 1.0, 0.9, 0.8, 0.6], 1e-6);
    }

    #[test]
    fn invert_linear_and_gamma() {
        let half = srgb_to_linear(0.5);
        let img = linear(2, 1, &[0.2, half, 1.0, 0.4, 0.0, 0.0, 0.0, 1.0]);
        let out = run("gegl/invert-linear", Some(img.clone()), &[]).unwrap();
        assert_close(&pixels(&out), &[0.8, 1.0 - half, 0.0, 0.4, 1.0, 1.0, 1.0, 1.0], 1e-6);
        for name in ["gegl/invert-gamma", "imgflo/invert"] {
            let out = run(name, Some(img.clone()), &[]).unwrap();
            let want_r = srgb_to_linear(1.0 - linear_to_srgb(0.2));
            assert_close(&pixels(&out), &[want_r, half, 0.0, 0.4, 1.0, 1.0, 1.0, 1.0], 1e-6);
        }
    }

    #[test]
    fn invert_srgb_of_bytes_is_exact() {
        let img = Image::from_rgba8(2, 1, vec![0, 128, 255, 77, 10, 20, 30, 255]).unwrap();
        let out = run("imgflo/invert", Some(img), &[]).unwrap();
        assert_eq!(output(&out).to_rgba8().as_ref(), &[255, 127, 0, 77, 245, 235, 225, 255]);
    }

    #[test]
    fn threshold_on_linear_luminance() {
        let img = linear(3, 1, &[0.6, 0.6, 0.6, 0.5, 0.4, 0.4, 0.4, 1.0, 0.0, 1.0, 0.0, 1.0]);
        let out = run("gegl/threshold", Some(img.clone()), &[]).unwrap();
        #[rustfmt::skip]
        assert_close(&pixels(&out), &[1.0, 1.0, 1.0, 0.5, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.0);
        let out = run("gegl/threshold", Some(img), &[("value", num(0.8))]).unwrap();
        #[rustfmt::skip]
        assert_close(&pixels(&out), &[0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], 0.0);
    }

    #[test]
    fn threshold_level_from_aux() {
        let img = linear(3, 1, &[0.6, 0.6, 0.6, 1.0, 0.4, 0.4, 0.4, 1.0, 0.1, 0.1, 0.1, 1.0]);
        // Levels 0.7 and 0.3; the third pixel is outside aux (level 0).
        let aux = linear(2, 1, &[0.7, 0.7, 0.7, 1.0, 0.3, 0.3, 0.3, 1.0]);
        let mut reg = Registry::empty();
        register(&mut reg);
        let op = reg.get("gegl/threshold").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(img)));
        inputs.set("aux", Value::Image(Arc::new(aux)));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        #[rustfmt::skip]
        assert_close(&pixels(&out), &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0.0);
    }

    #[test]
    fn cancellation_is_honoured() {
        let mut reg = Registry::empty();
        register(&mut reg);
        let op = reg.get("gegl/gray").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(linear(1, 1, &[0.0; 4]))));
        let ctx = RunContext::default();
        ctx.cancel.cancel();
        assert!(matches!(op.run(&inputs, &ctx), Err(OpError::Cancelled)));
    }
}
