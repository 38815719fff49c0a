//! Scaling: GEGL's `gegl/scale-size-keepaspect` (what the server inserts for
//! `width`/`height`), `gegl/scale-size`, `gegl/scale-ratio`, and `imgflo/resize` with
//! fit modes and gravity. All use fast_image_resize (SIMD convolution, alpha handled
//! by premultiplying) on the image's own layout: 8-bit sRGB stays 8-bit.

use fast_image_resize as fr;

use super::{filter_spec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::pixels::{Image, Pixels};
use crate::value::PortSpec;

/// GEGL's sampler names.
pub const SAMPLERS: &[&str] = &["nearest", "linear", "cubic", "nohalo", "lohalo"];

/// The resampling filters `imgflo/resize` offers.
pub const FILTERS: &[&str] = &["nearest", "box", "bilinear", "catmull-rom", "mitchell", "lanczos3"];

pub fn sampler_alg(name: &str) -> fr::ResizeAlg {
    use fr::{FilterType, ResizeAlg};
    match name {
        "nearest" => ResizeAlg::Nearest,
        "linear" | "bilinear" => ResizeAlg::Convolution(FilterType::Bilinear),
        "box" => ResizeAlg::Convolution(FilterType::Box),
        "cubic" | "catmull-rom" => ResizeAlg::Convolution(FilterType::CatmullRom),
        "mitchell" => ResizeAlg::Convolution(FilterType::Mitchell),
        _ => ResizeAlg::Convolution(FilterType::Lanczos3),
    }
}

pub fn register(reg: &mut Registry) {
    let sampler = || PortSpec::enumeration("sampler", "linear", SAMPLERS, "Sampler used internally");
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/scale-size-keepaspect",
            "Scales the buffer to a size, preserving aspect ratio when only one dimension is given",
            vec![
                PortSpec::number(
                    "x",
                    -1.0,
                    -9_000_000.0,
                    9_000_000.0,
                    "Horizontal size (-1 or 0: from the aspect ratio)",
                ),
                PortSpec::number(
                    "y",
                    -1.0,
                    -9_000_000.0,
                    9_000_000.0,
                    "Vertical size (-1 or 0: from the aspect ratio)",
                ),
                sampler(),
            ],
        ),
        run: run_keepaspect,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/scale-size",
            "Scales the buffer according to a size.",
            vec![
                PortSpec::number("x", 100.0, 0.0, 9_000_000.0, "Horizontal size"),
                PortSpec::number("y", 100.0, 0.0, 9_000_000.0, "Vertical size"),
                sampler(),
            ],
        ),
        run: run_scale_size,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/scale-ratio",
            "Scales the buffer according to a ratio.",
            vec![
                PortSpec::number("x", 1.0, 0.0, 1000.0, "Horizontal scale factor"),
                PortSpec::number("y", 1.0, 0.0, 1000.0, "Vertical scale factor"),
                sampler(),
            ],
        ),
        run: run_scale_ratio,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/resize",
            "Resizes to a width and/or height: contain (fit inside, keep aspect), cover (fill and crop at the gravity) or fill (stretch)",
            vec![
                PortSpec::int("width", 0, 0, 100_000, "Target width in pixels (0: from the height and aspect ratio)"),
                PortSpec::int("height", 0, 0, 100_000, "Target height in pixels (0: from the width and aspect ratio)"),
                PortSpec::enumeration("fit", "contain", &["contain", "cover", "fill"], "How the image fits the box"),
                PortSpec::enumeration(
                    "gravity",
                    "center",
                    super::geometry::GRAVITIES,
                    "Which part is kept when cover crops",
                ),
                PortSpec::enumeration("filter", "lanczos3", FILTERS, "Resampling filter"),
                PortSpec::boolean("enlarge", true, "Allow the result to be larger than the input"),
            ],
        ),
        run: run_resize,
    });
}

/// Resizes an image to exactly `w`x`h` with `alg`, keeping its layout.
pub fn resize(img: &Image, w: u32, h: u32, alg: fr::ResizeAlg, ctx: &RunContext) -> Result<Image, OpError> {
    ctx.check_size(w as u64, h as u64)?;
    if (w, h) == img.dimensions() {
        return Ok(img.clone());
    }
    if w == 0 || h == 0 || img.width() == 0 || img.height() == 0 {
        return Err(OpError::Invalid(format!("cannot resize {}x{} to {w}x{h}", img.width(), img.height())));
    }
    let (sw, sh) = img.dimensions();
    let (ty, bytes): (fr::PixelType, &[u8]) = match img.pixels() {
        Pixels::Rgb8(v) => (fr::PixelType::U8x3, v),
        Pixels::Rgba8(v) => (fr::PixelType::U8x4, v),
        Pixels::RgbaF32(v) => (fr::PixelType::F32x4, bytemuck::cast_slice(v)),
    };
    let err = |e: &dyn std::fmt::Display| OpError::Invalid(format!("resize failed: {e}"));
    let src = fr::images::ImageRef::new(sw, sh, bytes, ty).map_err(|e| err(&e))?;
    let mut dst = fr::images::Image::new(w, h, ty);
    let options = fr::ResizeOptions::new().resize_alg(alg).use_alpha(img.has_alpha());
    fr::Resizer::new().resize(&src, &mut dst, &options).map_err(|e| err(&e))?;
    let out = dst.into_vec();
    let result = match ty {
        fr::PixelType::U8x3 => Image::from_rgb8(w, h, out),
        fr::PixelType::U8x4 => Image::from_rgba8(w, h, out),
        _ => Image::from_rgba_f32(w, h, bytemuck::pod_collect_to_vec(&out)),
    };
    result.map_err(|e| OpError::Invalid(e.to_string()))
}

/// GEGL `scale-size-keepaspect`: both ≤ 0 → unchanged; one given → the other from the
/// aspect ratio; both given → exactly that size.
pub fn keepaspect_size(src: (u32, u32), x: f64, y: f64) -> Option<(u32, u32)> {
    let (sw, sh) = (src.0 as f64, src.1 as f64);
    let (w, h) = match (x > 0.0, y > 0.0) {
        (false, false) => return None,
        (true, false) => (x, sh * x / sw),
        (false, true) => (sw * y / sh, y),
        (true, true) => (x, y),
    };
    Some(((w.round() as u32).max(1), (h.round() as u32).max(1)))
}

fn run_keepaspect(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    match keepaspect_size(img.dimensions(), inputs.f64("x"), inputs.f64("y")) {
        None => Ok(Outputs::shared(img.clone())),
        Some((w, h)) => Ok(Outputs::image(resize(img, w, h, sampler_alg(inputs.str("sampler")), ctx)?)),
    }
}

fn run_scale_size(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let w = (inputs.f64("x").round() as u32).max(1);
    let h = (inputs.f64("y").round() as u32).max(1);
    Ok(Outputs::image(resize(img, w, h, sampler_alg(inputs.str("sampler")), ctx)?))
}

fn run_scale_ratio(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let w = ((img.width() as f64 * inputs.f64("x")).round() as u32).max(1);
    let h = ((img.height() as f64 * inputs.f64("y")).round() as u32).max(1);
    Ok(Outputs::image(resize(img, w, h, sampler_alg(inputs.str("sampler")), ctx)?))
}

/// The size `imgflo/resize` scales to before any crop, and the final box.
pub fn fit_box(src: (u32, u32), width: u32, height: u32, fit: &str, enlarge: bool) -> Option<((u32, u32), (u32, u32))> {
    let (sw, sh) = (src.0 as f64, src.1 as f64);
    if width == 0 && height == 0 {
        return None;
    }
    let (bw, bh) = match (width, height) {
        (0, h) => (sw * h as f64 / sh, h as f64),
        (w, 0) => (w as f64, sh * w as f64 / sw),
        (w, h) => (w as f64, h as f64),
    };
    let (mut scaled, target) = match fit {
        "fill" => ((bw, bh), (bw, bh)),
        "cover" => {
            let s = (bw / sw).max(bh / sh);
            ((sw * s, sh * s), (bw, bh))
        }
        _ => {
            let s = (bw / sw).min(bh / sh);
            ((sw * s, sh * s), (sw * s, sh * s))
        }
    };
    let mut target = target;
    if !enlarge && (scaled.0 > sw || scaled.1 > sh) {
        let s = (sw / scaled.0).min(sh / scaled.1);
        scaled = (scaled.0 * s, scaled.1 * s);
        target = (target.0.min(scaled.0), target.1.min(scaled.1));
    }
    let r = |v: f64| (v.round() as u32).max(1);
    Some(((r(scaled.0), r(scaled.1)), (r(target.0), r(target.1))))
}

fn run_resize(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let width = inputs.int("width").max(0) as u32;
    let height = inputs.int("height").max(0) as u32;
    let Some((scaled, target)) = fit_box(img.dimensions(), width, height, inputs.str("fit"), inputs.bool("enlarge"))
    else {
        return Ok(Outputs::shared(img.clone()));
    };
    let resized = resize(img, scaled.0, scaled.1, sampler_alg(inputs.str("filter")), ctx)?;
    if scaled == target {
        return Ok(Outputs::image(resized));
    }
    let (x, y) = super::geometry::gravity_offset(inputs.str("gravity"), scaled, target);
    Ok(Outputs::image(super::geometry::crop_image(&resized, x as i64, y as i64, target.0, target.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepaspect_rules() {
        assert_eq!(keepaspect_size((1440, 1000), -1.0, -1.0), None);
        assert_eq!(keepaspect_size((1440, 1000), 0.0, 0.0), None);
        assert_eq!(keepaspect_size((1440, 1000), 2000.0, -1.0), Some((2000, 1389)));
        assert_eq!(keepaspect_size((1440, 1000), -1.0, 500.0), Some((720, 500)));
        assert_eq!(keepaspect_size((1440, 1000), 100.0, 100.0), Some((100, 100)));
    }

    #[test]
    fn fit_modes() {
        assert_eq!(fit_box((400, 200), 100, 100, "contain", true), Some(((100, 50), (100, 50))));
        assert_eq!(fit_box((400, 200), 100, 100, "cover", true), Some(((200, 100), (100, 100))));
        assert_eq!(fit_box((400, 200), 100, 100, "fill", true), Some(((100, 100), (100, 100))));
        assert_eq!(fit_box((400, 200), 800, 0, "contain", false), Some(((400, 200), (400, 200))));
        assert_eq!(fit_box((400, 200), 0, 0, "contain", true), None);
    }

    #[test]
    fn resize_keeps_layout_and_flat_colour() {
        let ctx = RunContext::default();
        let img = Image::from_rgb8(8, 8, [10u8, 200, 30].repeat(64)).unwrap();
        let out = resize(&img, 3, 5, sampler_alg("lanczos3"), &ctx).unwrap();
        assert_eq!(out.dimensions(), (3, 5));
        assert_eq!(out.to_rgb8().as_ref(), [10u8, 200, 30].repeat(15).as_slice());
        let f = Image::filled_linear(8, 8, [0.25, 0.5, 0.75, 0.5]);
        let out = resize(&f, 4, 4, sampler_alg("linear"), &ctx).unwrap();
        for px in out.to_linear_rgba().chunks_exact(4) {
            assert!((px[0] - 0.25).abs() < 1e-5 && (px[3] - 0.5).abs() < 1e-5, "{px:?}");
        }
    }

    #[test]
    fn transparent_pixels_do_not_bleed_colour() {
        // Left half opaque red, right half transparent green: the edge must stay red.
        let mut data = Vec::new();
        for _ in 0..4 {
            for x in 0..8 {
                data.extend_from_slice(if x < 4 { &[255, 0, 0, 255] } else { &[0, 255, 0, 0] });
            }
        }
        let img = Image::from_rgba8(8, 4, data).unwrap();
        let out = resize(&img, 4, 2, sampler_alg("lanczos3"), &RunContext::default()).unwrap();
        let px = out.to_rgba8();
        let edge = &px[4..8]; // x = 1
        assert!(edge[1] < 10, "green bled into {edge:?}");
    }

    fn run(name: &str, img: Image, params: &[(&'static str, crate::value::Value)]) -> Image {
        let op = Registry::builtin().get(name).unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", crate::value::Value::Image(std::sync::Arc::new(img)));
        for (k, v) in params {
            inputs.set(k, v.clone());
        }
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        (**out.get("output").unwrap().as_image().unwrap()).clone()
    }

    /// Left half red, right half blue: which part a crop kept shows in its colours.
    fn red_blue(w: u32, h: u32) -> Image {
        let px = |x: u32| if x < w / 2 { [255, 0, 0] } else { [0, 0, 255] };
        Image::from_rgb8(w, h, (0..w * h).flat_map(|i| px(i % w)).collect()).unwrap()
    }

    #[test]
    fn resize_component_fits_covers_and_fills() {
        use crate::value::Value::{Bool, Int, String as S};
        let size = |params: &[(&'static str, crate::value::Value)]| {
            run("imgflo/resize", red_blue(400, 200), params).dimensions()
        };
        assert_eq!(size(&[("width", Int(100)), ("height", Int(100))]), (100, 50));
        assert_eq!(size(&[("width", Int(100))]), (100, 50));
        assert_eq!(size(&[("height", Int(50))]), (100, 50));
        assert_eq!(size(&[("width", Int(100)), ("height", Int(100)), ("fit", S("cover".into()))]), (100, 100));
        assert_eq!(size(&[("width", Int(100)), ("height", Int(100)), ("fit", S("fill".into()))]), (100, 100));
        assert_eq!(size(&[("width", Int(800)), ("enlarge", Bool(false))]), (400, 200));
        assert_eq!(size(&[("width", Int(800))]), (800, 400));
        // Cover keeps the part named by the gravity.
        let cover = |gravity: &str| {
            let params =
                [("width", Int(50)), ("height", Int(50)), ("fit", S("cover".into())), ("gravity", S(gravity.into()))];
            let img = run("imgflo/resize", red_blue(400, 200), &params);
            assert_eq!(img.dimensions(), (50, 50));
            img.to_rgb8()
                .chunks(3)
                .take(50)
                .map(|p| {
                    if p[0] > 200 {
                        'r'
                    } else if p[2] > 200 {
                        'b'
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
        };
        // Scaled to 100x50 with the edge at x = 50: west keeps x 0-49, east 50-99,
        // centre 25-74 (a few blended pixels at the edge).
        let west = cover("west");
        assert!(west[..45].chars().all(|c| c == 'r'), "{west}");
        let east = cover("east");
        assert!(east[5..].chars().all(|c| c == 'b'), "{east}");
        let centre = cover("center");
        assert!(centre[..20].chars().all(|c| c == 'r') && centre[30..].chars().all(|c| c == 'b'), "{centre}");
    }

    #[test]
    fn scale_size_stretches_to_both_sizes() {
        use crate::value::Value::Number;
        let out = run("gegl/scale-size", red_blue(40, 20), &[("x", Number(10.0)), ("y", Number(30.0))]);
        assert_eq!(out.dimensions(), (10, 30));
        let out = run("gegl/scale-ratio", red_blue(40, 20), &[("x", Number(0.5)), ("y", Number(2.0))]);
        assert_eq!(out.dimensions(), (20, 40));
        let out = run("gegl/scale-size-keepaspect", red_blue(40, 20), &[("x", Number(10.0))]);
        assert_eq!(out.dimensions(), (10, 5));
    }

    #[test]
    fn refuses_results_over_the_pixel_limit() {
        let mut ctx = RunContext::default();
        ctx.limits.max_pixels = 100;
        let img = Image::from_rgb8(2, 2, vec![0; 12]).unwrap();
        assert!(matches!(resize(&img, 20, 20, sampler_alg("nearest"), &ctx), Err(OpError::TooLarge { .. })));
    }
}
