//! Geometry: crop, rotations (exact for multiples of 90°, resampled otherwise),
//! flips and EXIF orientation. Exact moves keep the image's layout (no float trip).

use super::{filter_spec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::ops::resize::SAMPLERS;
use crate::pixels::transform::{self, Orientation};
use crate::pixels::{Image, Pixels};
use crate::value::PortSpec;

pub const GRAVITIES: &[&str] =
    &["center", "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"];

const UNBOUNDED: f64 = 1e9;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/crop",
            "Crop a buffer",
            vec![
                PortSpec::number("x", 0.0, -UNBOUNDED, UNBOUNDED, "X"),
                PortSpec::number("y", 0.0, -UNBOUNDED, UNBOUNDED, "Y"),
                PortSpec::number("width", 10.0, -UNBOUNDED, UNBOUNDED, "Width"),
                PortSpec::number("height", 10.0, -UNBOUNDED, UNBOUNDED, "Height"),
            ],
        ),
        run: run_crop,
    });
    let rotate_params = |origin: bool| {
        let mut p = vec![PortSpec::number(
            "degrees",
            0.0,
            -UNBOUNDED,
            UNBOUNDED,
            "Angle to rotate (counter-clockwise on screen, as GEGL did)",
        )];
        if origin {
            p.push(PortSpec::number("origin-x", 0.0, -UNBOUNDED, UNBOUNDED, "X coordinate of origin"));
            p.push(PortSpec::number("origin-y", 0.0, -UNBOUNDED, UNBOUNDED, "Y coordinate of origin"));
        }
        p.push(PortSpec::enumeration("sampler", "linear", SAMPLERS, "Sampler used internally"));
        p
    };
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/rotate-on-center",
            "Rotate the buffer around its center, taking care of possible offsets.",
            rotate_params(false),
        ),
        run: run_rotate,
    });
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/rotate",
            "Rotate the buffer around the specified origin (the result is placed at the origin of its bounding box).",
            rotate_params(true),
        ),
        run: run_rotate,
    });
    reg.add(FnOp {
        spec: filter_spec("imgflo/flip", "Mirrors the image top to bottom", vec![]),
        run: |i, _| oriented(i, Orientation::FlipV),
    });
    reg.add(FnOp {
        spec: filter_spec("imgflo/flop", "Mirrors the image left to right", vec![]),
        run: |i, _| oriented(i, Orientation::FlipH),
    });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/rotate90",
            "Turns the image by a multiple of 90 degrees clockwise, exactly",
            vec![PortSpec::enumeration("angle", "90", &["0", "90", "180", "270"], "Clockwise angle")],
        ),
        run: |i, _| {
            let o = match i.str("angle") {
                "90" => Orientation::Rotate90,
                "180" => Orientation::Rotate180,
                "270" => Orientation::Rotate270,
                _ => Orientation::Normal,
            };
            oriented(i, o)
        },
    });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/orient",
            "Applies an EXIF orientation (1-8) so the image displays upright (images are auto-oriented on load; this is for pixels that were not)",
            vec![PortSpec::int("orientation", 1, 1, 8, "EXIF orientation value")],
        ),
        run: |i, _| oriented(i, Orientation::from_exif(i.int("orientation") as u16)),
    });
}

fn oriented(inputs: &Inputs, o: Orientation) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    if o == Orientation::Normal {
        return Ok(Outputs::shared(img.clone()));
    }
    Ok(Outputs::image(transform::orient(img, o)))
}

/// A crop rectangle's pixel bounds (GEGL rounds the rectangle to whole pixels).
fn crop_rect(x: f64, y: f64, w: f64, h: f64) -> Result<(i64, i64, u32, u32), OpError> {
    let (x0, y0) = (x.floor(), y.floor());
    let (x1, y1) = ((x + w).ceil(), (y + h).ceil());
    if x1 - x0 < 1.0 || y1 - y0 < 1.0 {
        return Err(OpError::Invalid(format!("crop of {w}x{h} is empty")));
    }
    Ok((x0 as i64, y0 as i64, (x1 - x0) as u32, (y1 - y0) as u32))
}

fn run_crop(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let (x, y, w, h) = crop_rect(inputs.f64("x"), inputs.f64("y"), inputs.f64("width"), inputs.f64("height"))?;
    ctx.check_size(w as u64, h as u64)?;
    if (x, y, w, h) == (0, 0, img.width(), img.height()) {
        return Ok(Outputs::shared(img.clone()));
    }
    Ok(Outputs::image(crop_image(img, x, y, w, h)))
}

/// Crops any image (see [`transform::crop`]).
pub fn crop_image(img: &Image, x: i64, y: i64, w: u32, h: u32) -> Image {
    transform::crop(img, x, y, w, h)
}

/// Where an `inner` box sits inside `outer` for a gravity (offsets into the larger).
pub fn gravity_offset(gravity: &str, outer: (u32, u32), inner: (u32, u32)) -> (u32, u32) {
    let dx = outer.0.saturating_sub(inner.0);
    let dy = outer.1.saturating_sub(inner.1);
    let x = if gravity.ends_with("west") {
        0
    } else if gravity.ends_with("east") {
        dx
    } else {
        dx / 2
    };
    let y = if gravity.starts_with("north") {
        0
    } else if gravity.starts_with("south") {
        dy
    } else {
        dy / 2
    };
    (x, y)
}

fn run_rotate(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    // GEGL's positive angles turn counter-clockwise on screen (checked against the
    // original's croprotate reference); below, angles are clockwise.
    let degrees = -inputs.f64("degrees");
    let turns = degrees / 90.0;
    if (turns - turns.round()).abs() < 1e-9 {
        let o = match (turns.round() as i64).rem_euclid(4) {
            0 => return Ok(Outputs::shared(img.clone())),
            1 => Orientation::Rotate90,
            2 => Orientation::Rotate180,
            _ => Orientation::Rotate270,
        };
        return Ok(Outputs::image(transform::orient(img, o)));
    }
    Ok(Outputs::image(rotate_resampled(img, degrees, inputs.str("sampler"), ctx)?))
}

/// Rotates clockwise by `degrees` about the centre; the result is the rotated
/// image's bounding box, transparent outside the image.
pub fn rotate_resampled(img: &Image, degrees: f64, sampler: &str, ctx: &RunContext) -> Result<Image, OpError> {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let (s, c) = degrees.to_radians().sin_cos();
    let corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)];
    let (cx, cy) = (w / 2.0, h / 2.0);
    let rot = |(x, y): (f64, f64)| {
        let (dx, dy) = (x - cx, y - cy);
        (dx * c - dy * s, dx * s + dy * c)
    };
    let pts: Vec<(f64, f64)> = corners.iter().map(|&p| rot(p)).collect();
    let min_x = pts.iter().map(|p| p.0).fold(f64::MAX, f64::min);
    let max_x = pts.iter().map(|p| p.0).fold(f64::MIN, f64::max);
    let min_y = pts.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let max_y = pts.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let (x0, y0) = ((min_x + 1e-6).floor(), (min_y + 1e-6).floor());
    let ow = ((max_x - 1e-6).ceil() - x0).max(1.0) as u32;
    let oh = ((max_y - 1e-6).ceil() - y0).max(1.0) as u32;
    ctx.check_size(ow as u64, oh as u64)?;
    let src = Sampler::new(img);
    let mut out = vec![0f32; ow as usize * oh as usize * 4];
    for oy in 0..oh as usize {
        if oy % 64 == 0 {
            ctx.check()?;
        }
        for ox in 0..ow as usize {
            // Inverse rotation of the output pixel centre.
            let (px, py) = (x0 + ox as f64 + 0.5, y0 + oy as f64 + 0.5);
            let sx = px * c + py * s + cx;
            let sy = -px * s + py * c + cy;
            let v = match sampler {
                "nearest" => src.nearest(sx, sy),
                "cubic" | "nohalo" | "lohalo" => src.cubic(sx, sy),
                _ => src.linear(sx, sy),
            };
            out[(oy * ow as usize + ox) * 4..][..4].copy_from_slice(&v);
        }
    }
    crate::ops::blur::unpremultiply(&mut out);
    Image::from_rgba_f32(ow, oh, out).map_err(|e| OpError::Invalid(e.to_string()))
}

/// Premultiplied linear samples of an image, transparent outside it.
struct Sampler {
    w: i64,
    h: i64,
    data: Vec<f32>,
}

impl Sampler {
    fn new(img: &Image) -> Sampler {
        let mut data = img.to_linear_rgba().into_owned();
        crate::ops::blur::premultiply(&mut data);
        Sampler { w: img.width() as i64, h: img.height() as i64, data }
    }
    #[inline]
    fn at(&self, x: i64, y: i64) -> [f32; 4] {
        if x < 0 || y < 0 || x >= self.w || y >= self.h {
            return [0.0; 4];
        }
        let i = ((y * self.w + x) * 4) as usize;
        [self.data[i], self.data[i + 1], self.data[i + 2], self.data[i + 3]]
    }
    fn nearest(&self, x: f64, y: f64) -> [f32; 4] {
        self.at(x.floor() as i64, y.floor() as i64)
    }
    fn linear(&self, x: f64, y: f64) -> [f32; 4] {
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (x0, y0) = (fx.floor(), fy.floor());
        let (tx, ty) = ((fx - x0) as f32, (fy - y0) as f32);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (a, b, c, d) = (self.at(x0, y0), self.at(x0 + 1, y0), self.at(x0, y0 + 1), self.at(x0 + 1, y0 + 1));
        let mut o = [0f32; 4];
        for k in 0..4 {
            let top = a[k] + (b[k] - a[k]) * tx;
            let bottom = c[k] + (d[k] - c[k]) * tx;
            o[k] = top + (bottom - top) * ty;
        }
        o
    }
    fn cubic(&self, x: f64, y: f64) -> [f32; 4] {
        // Catmull-Rom on a 4x4 neighbourhood.
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (x0, y0) = (fx.floor(), fy.floor());
        let (tx, ty) = ((fx - x0) as f32, (fy - y0) as f32);
        let weights = |t: f32| {
            let t2 = t * t;
            let t3 = t2 * t;
            [-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1.0, -1.5 * t3 + 2.0 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2]
        };
        let (wx, wy) = (weights(tx), weights(ty));
        let mut o = [0f32; 4];
        for (j, wyj) in wy.iter().enumerate() {
            for (i, wxi) in wx.iter().enumerate() {
                let p = self.at(x0 as i64 - 1 + i as i64, y0 as i64 - 1 + j as i64);
                for k in 0..4 {
                    o[k] += p[k] * wxi * wyj;
                }
            }
        }
        o
    }
}

/// True when every pixel of an 8-bit image is opaque (used by savers and tests).
pub fn is_opaque(img: &Image) -> bool {
    match img.pixels() {
        Pixels::Rgb8(_) => true,
        Pixels::Rgba8(v) => v.chunks_exact(4).all(|p| p[3] == 255),
        Pixels::RgbaF32(v) => v.chunks_exact(4).all(|p| p[3] >= 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::sync::Arc;

    fn run(name: &str, img: Image, params: &[(&'static str, Value)]) -> Image {
        let op = Registry::builtin().get(name).unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(img)));
        for (k, v) in params {
            inputs.set(k, v.clone());
        }
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        (**out.get("output").unwrap().as_image().unwrap()).clone()
    }

    fn grid(w: u32, h: u32) -> Image {
        Image::from_rgb8(w, h, (0..w * h).flat_map(|i| [i as u8, 7, 9]).collect()).unwrap()
    }

    #[test]
    fn default_crop_is_ten_by_ten_at_the_origin() {
        let out = run("gegl/crop", grid(20, 20), &[]);
        assert_eq!(out.dimensions(), (10, 10));
        assert_eq!(out.to_rgb8()[..3], [0, 7, 9]);
        assert_eq!(out.to_rgb8()[3 * 10..3 * 10 + 3], [20, 7, 9]);
    }

    #[test]
    fn crop_with_offsets() {
        let out = run(
            "gegl/crop",
            grid(16, 16),
            &[
                ("x", Value::Number(3.0)),
                ("y", Value::Number(2.0)),
                ("width", Value::Number(4.0)),
                ("height", Value::Number(2.0)),
            ],
        );
        assert_eq!(out.dimensions(), (4, 2));
        assert_eq!(out.to_rgb8()[0], 2 * 16 + 3);
    }

    #[test]
    fn empty_crop_is_an_error() {
        let op = Registry::builtin().get("gegl/crop").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(grid(4, 4))));
        inputs.set("width", Value::Number(0.0));
        assert!(op.run(&inputs, &RunContext::default()).is_err());
    }

    #[test]
    fn quarter_turns_are_exact_and_keep_bytes() {
        let img = grid(3, 2);
        let out = run("gegl/rotate-on-center", img.clone(), &[("degrees", Value::Number(90.0))]);
        assert_eq!(out.dimensions(), (2, 3));
        assert_eq!(out, transform::orient(&img, Orientation::Rotate270), "positive is counter-clockwise");
        let back = run("gegl/rotate-on-center", out, &[("degrees", Value::Number(-90.0))]);
        assert_eq!(back, img);
    }

    #[test]
    fn arbitrary_rotation_grows_the_canvas_with_transparent_corners() {
        let img = Image::filled_linear(10, 10, [1.0, 0.5, 0.25, 1.0]);
        let out = run("gegl/rotate-on-center", img, &[("degrees", Value::Number(45.0))]);
        // The rotated square spans ±7.07 pixels around the centre: 16 whole pixels.
        assert_eq!(out.dimensions(), (16, 16));
        let px = out.to_linear_rgba();
        assert_eq!(px[3], 0.0, "corner must be transparent");
        let c = (8 * 16 + 8) * 4;
        assert!((px[c] - 1.0).abs() < 1e-4 && (px[c + 3] - 1.0).abs() < 1e-4);
    }

    /// Black and white halves: a resampled rotation shows which sampler ran.
    fn halves() -> Image {
        Image::from_rgb8(8, 8, (0..64).flat_map(|i| if i % 8 < 4 { [0; 3] } else { [255; 3] }).collect()).unwrap()
    }

    fn opaque_greys(img: &Image) -> Vec<u8> {
        let px = img.to_rgba8();
        let mut v: Vec<u8> = px.chunks(4).filter(|p| p[3] == 255).map(|p| p[0]).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn samplers_differ_as_they_should() {
        let at = |sampler: &str| {
            let params = [("degrees", Value::Number(30.0)), ("sampler", Value::String(sampler.into()))];
            run("gegl/rotate-on-center", halves(), &params)
        };
        // Nearest copies source pixels: only black and white inside.
        assert_eq!(opaque_greys(&at("nearest")), [0, 255]);
        // Linear and cubic blend across the edge.
        for sampler in ["linear", "cubic", "nohalo", "lohalo"] {
            let greys = opaque_greys(&at(sampler));
            assert!(greys.iter().any(|&g| g > 20 && g < 235), "{sampler} blends: {greys:?}");
        }
        // Cubic is sharper than linear: fewer mid-grey pixels.
        let mid = |img: &Image| img.to_rgba8().chunks(4).filter(|p| p[3] == 255 && p[0] > 60 && p[0] < 195).count();
        assert!(mid(&at("cubic")) <= mid(&at("linear")));
    }

    #[test]
    fn gegl_rotate_gives_the_rotated_bounding_box() {
        // Origins only move the result in GEGL's infinite plane; the saved image is
        // its bounding box, so origin-x/origin-y do not change the pixels here.
        let img = grid(6, 4);
        let a = run("gegl/rotate", img.clone(), &[("degrees", Value::Number(-90.0))]);
        assert_eq!(a, transform::orient(&img, Orientation::Rotate90));
        let params = [("degrees", Value::Number(-90.0)), ("origin-x", Value::Number(100.0))];
        assert_eq!(run("gegl/rotate", img.clone(), &params), a);
        let b = run("gegl/rotate", img, &[("degrees", Value::Number(30.0))]);
        // 6x4 turned 30° spans ±3.60 by ±3.23 pixels around its centre: whole
        // pixels from -4 to 4 each way.
        assert_eq!(b.dimensions(), (8, 8));
    }

    #[test]
    fn orient_applies_each_exif_value() {
        let img = grid(3, 2);
        let expected = [
            (1, img.clone()),
            (2, transform::orient(&img, Orientation::FlipH)),
            (3, transform::orient(&img, Orientation::Rotate180)),
            (4, transform::orient(&img, Orientation::FlipV)),
            (6, transform::orient(&img, Orientation::Rotate90)),
            (8, transform::orient(&img, Orientation::Rotate270)),
        ];
        for (v, want) in expected {
            assert_eq!(run("imgflo/orient", img.clone(), &[("orientation", Value::Int(v))]), want, "orientation {v}");
        }
        // 5 and 7 transpose: the size swaps and the corner pixels move as a mirror.
        for v in [5, 7] {
            let out = run("imgflo/orient", img.clone(), &[("orientation", Value::Int(v))]);
            assert_eq!(out.dimensions(), (2, 3), "orientation {v}");
        }
        let t = run("imgflo/orient", img.clone(), &[("orientation", Value::Int(5))]);
        assert_eq!(t.to_rgb8()[..3], img.to_rgb8()[..3], "transpose keeps the top-left pixel");
    }

    #[test]
    fn flips() {
        let img = grid(2, 1);
        assert_eq!(run("imgflo/flop", img.clone(), &[]).to_rgb8()[0], 1);
        assert_eq!(run("imgflo/flip", img, &[]).to_rgb8()[0], 0);
    }

    #[test]
    fn gravity() {
        assert_eq!(gravity_offset("center", (10, 10), (4, 2)), (3, 4));
        assert_eq!(gravity_offset("northwest", (10, 10), (4, 2)), (0, 0));
        assert_eq!(gravity_offset("southeast", (10, 10), (4, 2)), (6, 8));
        assert_eq!(gravity_offset("east", (10, 10), (4, 2)), (6, 4));
    }
}
