//! Spatial and noise filters: colour to grey, noise reduction and noise, motion
//! blur, edge detection, sharpening, pixelisation and vignetting (GEGL 0.3.10 names
//! and ports).

mod c2g;
mod edge_sobel;
mod motion_blur;
mod noise_cie_lch;
mod noise_reduction;
mod pixelize;
pub(crate) mod rng;
mod unsharp_mask;
mod vignette;

use std::sync::{Mutex, PoisonError};

use super::{OpError, Registry, RunContext};

pub fn register(reg: &mut Registry) {
    c2g::register(reg);
    noise_reduction::register(reg);
    noise_cie_lch::register(reg);
    motion_blur::register(reg);
    edge_sobel::register(reg);
    unsharp_mask::register(reg);
    pixelize::register(reg);
    vignette::register(reg);
}

/// Straight to premultiplied alpha, in place (RGBA f32).
fn premultiply(data: &mut [f32]) {
    for px in data.chunks_exact_mut(4) {
        let a = px[3];
        px[0] *= a;
        px[1] *= a;
        px[2] *= a;
    }
}

/// Premultiplied to straight alpha, in place; fully transparent pixels get colour 0.
fn unpremultiply(data: &mut [f32]) {
    for px in data.chunks_exact_mut(4) {
        unpremultiply_px(px);
    }
}

#[inline]
fn unpremultiply_px(px: &mut [f32]) {
    let a = px[3];
    if a != 0.0 {
        let inv = 1.0 / a;
        px[0] *= inv;
        px[1] *= inv;
        px[2] *= inv;
    } else {
        px[0] = 0.0;
        px[1] = 0.0;
        px[2] = 0.0;
    }
}

/// Images smaller than this many pixels are processed on the calling thread.
const PARALLEL_MIN_PIXELS: usize = 1 << 16;

/// Calls `f(y, row)` for every row of an RGBA f32 buffer `width` pixels wide,
/// sharing the rows between a few threads for large images and checking for
/// cancellation before every row. `f` must only depend on `y` and shared data so
/// the result does not depend on the split.
fn par_rows<F>(out: &mut [f32], width: usize, ctx: &RunContext, f: F) -> Result<(), OpError>
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let row_len = width * 4;
    if row_len == 0 || out.is_empty() {
        return Ok(());
    }
    let height = out.len() / row_len;
    let threads = if out.len() / 4 < PARALLEL_MIN_PIXELS {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(16).min(height)
    };
    if threads <= 1 {
        for (y, row) in out.chunks_exact_mut(row_len).enumerate() {
            ctx.check()?;
            f(y, row);
        }
        return Ok(());
    }
    // Threads take the next row from a shared queue: rows being worked on at the
    // same time are neighbours, which keeps the pixels they read in cache and
    // balances uneven rows.
    let rows = Mutex::new(out.chunks_exact_mut(row_len).enumerate());
    std::thread::scope(|s| {
        let (f, rows) = (&f, &rows);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || -> Result<(), OpError> {
                    loop {
                        let next = rows.lock().unwrap_or_else(PoisonError::into_inner).next();
                        let Some((y, row)) = next else {
                            return Ok(());
                        };
                        ctx.check()?;
                        f(y, row);
                    }
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

#[cfg(test)]
pub(super) mod testutil {
    use std::sync::Arc;

    use crate::ops::{Inputs, OpError, Outputs, Registry, RunContext};
    use crate::pixels::Image;
    use crate::value::Value;

    /// Runs the filter `name` with its defaults, the given input and parameters.
    pub fn run(name: &str, input: Option<Image>, params: &[(&'static str, Value)]) -> Result<Outputs, OpError> {
        run_shared(name, input.map(Arc::new), params)
    }

    pub fn run_shared(
        name: &str,
        input: Option<Arc<Image>>,
        params: &[(&'static str, Value)],
    ) -> Result<Outputs, OpError> {
        let mut reg = Registry::empty();
        super::register(&mut reg);
        crate::ops::retro::register(&mut reg);
        let op = reg.get(name).unwrap_or_else(|| panic!("no component {name}"));
        let mut inputs = Inputs::defaults(op.spec());
        if let Some(img) = input {
            inputs.set("input", Value::Image(img));
        }
        for (port, v) in params {
            assert!(op.spec().inport(port).is_some(), "{name} has no port {port}");
            inputs.set(port, v.clone());
        }
        op.run(&inputs, &RunContext::default())
    }

    pub fn output(out: &Outputs) -> Arc<Image> {
        out.get("output").and_then(Value::as_image).expect("an output image").clone()
    }

    /// Runs and returns the output as linear RGBA.
    pub fn run_linear(name: &str, input: Image, params: &[(&'static str, Value)]) -> Vec<f32> {
        let out = run(name, Some(input), params).expect("op runs");
        output(&out).to_linear_rgba().into_owned()
    }

    pub fn image(w: u32, h: u32, data: Vec<f32>) -> Image {
        Image::from_rgba_f32(w, h, data).expect("valid size")
    }

    /// A deterministic, non-trivial test image.
    pub fn pattern(w: u32, h: u32) -> Image {
        let mut data = Vec::with_capacity((w * h * 4) as usize);
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f32, y as f32);
                data.extend_from_slice(&[
                    (xf * 0.37 + yf * 0.11).sin() * 0.5 + 0.5,
                    ((xf * yf) * 0.05).cos() * 0.4 + 0.5,
                    ((x + 2 * y) % 7) as f32 / 7.0,
                    1.0 - ((x + y) % 3) as f32 * 0.25,
                ]);
            }
        }
        image(w, h, data)
    }

    pub fn assert_close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol, "value {i}: {x} vs {y}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Inputs, RunContext};
    use crate::value::PortType;

    const NAMES: [&str; 8] = [
        "gegl/c2g",
        "gegl/noise-reduction",
        "gegl/noise-cie-lch",
        "gegl/motion-blur-linear",
        "gegl/edge-sobel",
        "gegl/unsharp-mask",
        "gegl/pixelize",
        "gegl/vignette",
    ];

    #[test]
    fn registers_every_filter_with_its_ports() {
        let mut reg = Registry::empty();
        register(&mut reg);
        assert_eq!(reg.len(), NAMES.len());
        let c2g = reg.spec("gegl/c2g").unwrap();
        let ports: Vec<_> = c2g.inports.iter().map(|p| p.name).collect();
        assert_eq!(ports, ["input", "radius", "samples", "iterations"]);
        assert_eq!(c2g.inport("radius").unwrap().ty, PortType::Int);
        let v = reg.spec("gegl/vignette").unwrap();
        let ports: Vec<_> = v.inports.iter().map(|p| p.name).collect();
        assert_eq!(ports, ["input", "color", "radius", "softness", "gamma", "proportion", "x", "y"]);
        for name in NAMES {
            let spec = reg.spec(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(spec.outports.len(), 1, "{name}");
            assert_eq!(spec.outports[0].name, "output");
        }
    }

    #[test]
    fn every_filter_needs_an_input() {
        for name in NAMES {
            let err = testutil::run(name, None, &[]).unwrap_err();
            assert!(matches!(err, OpError::MissingInput("input")), "{name}: {err}");
        }
    }

    #[test]
    fn every_filter_keeps_size_and_handles_empty_images() {
        for name in NAMES {
            let out = testutil::run(name, Some(testutil::pattern(5, 3)), &[]).unwrap();
            assert_eq!(testutil::output(&out).dimensions(), (5, 3), "{name}");
            let out = testutil::run(name, Some(testutil::image(0, 0, vec![])), &[]).unwrap();
            assert_eq!(testutil::output(&out).dimensions(), (0, 0), "{name}");
        }
    }

    #[test]
    fn cancellation_stops_a_filter() {
        let mut reg = Registry::empty();
        register(&mut reg);
        let op = reg.get("gegl/c2g").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", crate::value::Value::Image(std::sync::Arc::new(testutil::pattern(300, 300))));
        let ctx = RunContext::default();
        ctx.cancel.cancel();
        assert!(matches!(op.run(&inputs, &ctx), Err(OpError::Cancelled)));
    }

    #[test]
    fn premultiply_round_trip_and_transparent_pixels() {
        let mut d = vec![0.5, 0.2, 1.0, 0.5, 0.3, 0.3, 0.3, 0.0];
        premultiply(&mut d);
        assert_eq!(&d[..4], &[0.25, 0.1, 0.5, 0.5]);
        unpremultiply(&mut d);
        assert_eq!(&d[..4], &[0.5, 0.2, 1.0, 0.5]);
        assert_eq!(&d[4..], &[0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn par_rows_visits_every_row_once_in_order() {
        let (w, h) = (300usize, 400usize);
        let mut buf = vec![0.0f32; w * h * 4];
        par_rows(&mut buf, w, &RunContext::default(), |y, row| {
            for v in row.iter_mut() {
                *v += y as f32;
            }
        })
        .unwrap();
        for (y, row) in buf.chunks_exact(w * 4).enumerate() {
            assert!(row.iter().all(|&v| v == y as f32));
        }
    }
}
