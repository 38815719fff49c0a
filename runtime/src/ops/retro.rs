//! `imgfloextra/retro-curve`: retro colour looks in the style of GNOME Photos'
//! filters, as per-channel tone curves on 8-bit sRGB values.
//!
//! The curves are our own: a few hand-picked control points per channel,
//! interpolated with monotone cubic (Fritsch–Carlson) splines, approximating the
//! looks. They are not the original's tables.
//!
//! - `prog` ("1977"): lifted blacks, a warm pink cast, faded highlights.
//! - `indie` ("Brannan"): more contrast, a yellow-green cast, then saturation
//!   pushed 10% away from the largest channel.
//! - `batcave` ("Gotham"): half desaturated, then cold blue shadows and high
//!   contrast.
//! - `country` ("Nashville"): contrast 1.1 and brightness −0.05 first, then warm
//!   pink/peach curves.
//!
//! 8-bit input is processed as is and keeps its layout; float input is encoded to
//! 8-bit sRGB first. Alpha is kept.

use std::sync::OnceLock;

use super::{filter_spec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::pixels::{Image, Pixels};
use crate::value::PortSpec;

const PRESETS: &[&str] = &["none", "prog", "indie", "batcave", "country"];

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "imgfloextra/retro-curve",
            "Applies a retro colour curve preset (GNOME Photos-style looks)",
            vec![PortSpec::enumeration("preset", "prog", PRESETS, "Which curve to apply")],
        ),
        run: retro_curve,
    });
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Preset {
    Prog,
    Indie,
    Batcave,
    Country,
}

impl Preset {
    fn parse(s: &str) -> Option<Preset> {
        match s {
            "prog" => Some(Preset::Prog),
            "indie" => Some(Preset::Indie),
            "batcave" => Some(Preset::Batcave),
            "country" => Some(Preset::Country),
            _ => None,
        }
    }
}

/// Control points (input, output) on the 0..=255 scale, increasing in both.
type Points = &'static [(f32, f32)];

/// Red, green and blue control points of each preset.
fn control_points(p: Preset) -> [Points; 3] {
    match p {
        Preset::Prog => [
            &[(0.0, 42.0), (64.0, 98.0), (128.0, 162.0), (192.0, 212.0), (255.0, 240.0)],
            &[(0.0, 26.0), (64.0, 72.0), (128.0, 132.0), (192.0, 192.0), (255.0, 234.0)],
            &[(0.0, 36.0), (64.0, 80.0), (128.0, 138.0), (192.0, 192.0), (255.0, 228.0)],
        ],
        Preset::Indie => [
            &[(0.0, 8.0), (64.0, 50.0), (128.0, 136.0), (192.0, 212.0), (255.0, 250.0)],
            &[(0.0, 6.0), (64.0, 54.0), (128.0, 142.0), (192.0, 218.0), (255.0, 252.0)],
            &[(0.0, 18.0), (64.0, 48.0), (128.0, 110.0), (192.0, 178.0), (255.0, 224.0)],
        ],
        Preset::Batcave => [
            &[(0.0, 0.0), (64.0, 36.0), (128.0, 124.0), (192.0, 212.0), (255.0, 250.0)],
            &[(0.0, 4.0), (64.0, 44.0), (128.0, 128.0), (192.0, 210.0), (255.0, 248.0)],
            &[(0.0, 28.0), (64.0, 72.0), (128.0, 140.0), (192.0, 206.0), (255.0, 244.0)],
        ],
        Preset::Country => [
            &[(0.0, 34.0), (64.0, 96.0), (128.0, 170.0), (192.0, 228.0), (255.0, 255.0)],
            &[(0.0, 16.0), (64.0, 72.0), (128.0, 138.0), (192.0, 202.0), (255.0, 242.0)],
            &[(0.0, 44.0), (64.0, 84.0), (128.0, 128.0), (192.0, 172.0), (255.0, 208.0)],
        ],
    }
}

/// A monotone cubic Hermite spline through control points (Fritsch–Carlson
/// tangents), so increasing points give a non-decreasing curve without overshoot.
struct Spline {
    xs: Vec<f32>,
    ys: Vec<f32>,
    ms: Vec<f32>,
}

impl Spline {
    fn new(points: &[(f32, f32)]) -> Spline {
        let xs: Vec<f32> = points.iter().map(|p| p.0).collect();
        let ys: Vec<f32> = points.iter().map(|p| p.1).collect();
        let n = xs.len();
        let d: Vec<f32> = (0..n - 1).map(|k| (ys[k + 1] - ys[k]) / (xs[k + 1] - xs[k])).collect();
        let mut ms = vec![0.0; n];
        ms[0] = d[0];
        ms[n - 1] = d[n - 2];
        for k in 1..n - 1 {
            ms[k] = if d[k - 1] * d[k] <= 0.0 { 0.0 } else { (d[k - 1] + d[k]) * 0.5 };
        }
        for k in 0..n - 1 {
            if d[k] == 0.0 {
                ms[k] = 0.0;
                ms[k + 1] = 0.0;
                continue;
            }
            let (a, b) = (ms[k] / d[k], ms[k + 1] / d[k]);
            let s = a * a + b * b;
            if s > 9.0 {
                let t = 3.0 / s.sqrt();
                ms[k] = t * a * d[k];
                ms[k + 1] = t * b * d[k];
            }
        }
        Spline { xs, ys, ms }
    }

    fn eval(&self, x: f32) -> f32 {
        let n = self.xs.len();
        let x = x.clamp(self.xs[0], self.xs[n - 1]);
        let k = (0..n - 1).rfind(|&k| self.xs[k] <= x).unwrap_or(0);
        let hk = self.xs[k + 1] - self.xs[k];
        let t = (x - self.xs[k]) / hk;
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * self.ys[k]
            + (t3 - 2.0 * t2 + t) * hk * self.ms[k]
            + (-2.0 * t3 + 3.0 * t2) * self.ys[k + 1]
            + (t3 - t2) * hk * self.ms[k + 1]
    }
}

/// Per-channel lookup tables of a preset.
struct Curves {
    rgb: [[u8; 256]; 3],
}

/// The tone transform applied before the curves (identity except for country).
fn pre_tone(p: Preset, v: f32) -> f32 {
    match p {
        // GEGL brightness-contrast on 0..1: (v - 0.5) * contrast + 0.5 + brightness.
        Preset::Country => (((v / 255.0 - 0.5) * 1.1 + 0.5 - 0.05) * 255.0).clamp(0.0, 255.0),
        _ => v,
    }
}

fn build(p: Preset) -> Curves {
    let points = control_points(p);
    let mut rgb = [[0u8; 256]; 3];
    for (lut, pts) in rgb.iter_mut().zip(points) {
        let spline = Spline::new(pts);
        for (i, v) in lut.iter_mut().enumerate() {
            *v = spline.eval(pre_tone(p, i as f32)).round().clamp(0.0, 255.0) as u8;
        }
    }
    Curves { rgb }
}

fn curves(p: Preset) -> &'static Curves {
    static TABLES: OnceLock<[Curves; 4]> = OnceLock::new();
    let all = TABLES
        .get_or_init(|| [build(Preset::Prog), build(Preset::Indie), build(Preset::Batcave), build(Preset::Country)]);
    &all[p as usize]
}

/// Applies a preset in place to 8-bit pixels of `channels` (3 or 4) bytes.
fn apply(p: Preset, data: &mut [u8], channels: usize) {
    let c = curves(p);
    for px in data.chunks_exact_mut(channels) {
        let (mut r, mut g, mut b) = (px[0] as i32, px[1] as i32, px[2] as i32);
        if p == Preset::Batcave {
            // Halfway to Rec. 601 luma.
            let y = (77 * r + 150 * g + 29 * b + 128) >> 8;
            r = (r + y + 1) >> 1;
            g = (g + y + 1) >> 1;
            b = (b + y + 1) >> 1;
        }
        r = c.rgb[0][r as usize] as i32;
        g = c.rgb[1][g as usize] as i32;
        b = c.rgb[2][b as usize] as i32;
        if p == Preset::Indie {
            // Saturation +10%: every channel moves away from the largest one.
            let m = r.max(g).max(b);
            let push = |v: i32| (v - ((m - v) * 10 + 50) / 100).max(0);
            (r, g, b) = (push(r), push(g), push(b));
        }
        px[0] = r as u8;
        px[1] = g as u8;
        px[2] = b as u8;
    }
}

fn retro_curve(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let name = inputs.str("preset");
    let preset = match name {
        "none" => return Ok(Outputs::shared(img.clone())),
        other => Preset::parse(other).ok_or_else(|| {
            OpError::Invalid(format!("unknown preset {other:?}: allowed values are {}", PRESETS.join(", ")))
        })?,
    };
    let (w, h) = img.dimensions();
    let (mut data, channels) = match img.pixels() {
        Pixels::Rgb8(v) => (v.clone(), 3),
        Pixels::Rgba8(v) => (v.clone(), 4),
        Pixels::RgbaF32(_) => match img.to_srgb8_image().into_pixels() {
            Pixels::Rgb8(v) => (v, 3),
            Pixels::Rgba8(v) => (v, 4),
            Pixels::RgbaF32(_) => unreachable!("to_srgb8_image gives 8-bit pixels"),
        },
    };
    let band = (w as usize * channels * 64).max(channels);
    for chunk in data.chunks_mut(band) {
        ctx.check()?;
        apply(preset, chunk, channels);
    }
    let out = if channels == 3 { Image::from_rgb8(w, h, data) } else { Image::from_rgba8(w, h, data) }
        .map_err(|e| OpError::Invalid(e.to_string()))?;
    Ok(Outputs::image(out))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ops::filters::testutil::{output, run, run_shared};
    use crate::pixels::Layout;
    use crate::value::Value;

    const NAME: &str = "imgfloextra/retro-curve";
    const ALL: [Preset; 4] = [Preset::Prog, Preset::Indie, Preset::Batcave, Preset::Country];

    fn one(preset: &str, rgb: [u8; 3]) -> [u8; 3] {
        let img = Image::from_rgb8(1, 1, rgb.to_vec()).unwrap();
        let out = run(NAME, Some(img), &[("preset", Value::String(preset.into()))]).unwrap();
        let px = output(&out).to_rgb8().into_owned();
        [px[0], px[1], px[2]]
    }

    #[test]
    fn none_is_identity() {
        let img = Arc::new(Image::from_rgb8(1, 1, vec![1, 2, 3]).unwrap());
        let out = run_shared(NAME, Some(img.clone()), &[("preset", Value::String("none".into()))]).unwrap();
        assert!(Arc::ptr_eq(&output(&out), &img));
    }

    #[test]
    fn default_is_prog_and_missing_input_fails() {
        assert_eq!(run(NAME, None, &[]).unwrap_err().to_string(), OpError::MissingInput("input").to_string());
        let img = Image::from_rgb8(1, 1, vec![128, 128, 128]).unwrap();
        let out = output(&run(NAME, Some(img), &[]).unwrap());
        assert_eq!(out.to_rgb8().as_ref(), one("prog", [128, 128, 128]).as_slice());
    }

    #[test]
    fn curves_are_monotone() {
        for p in ALL {
            for lut in &curves(p).rgb {
                assert!(lut.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
            }
        }
    }

    #[test]
    fn spline_passes_through_its_points() {
        let s = Spline::new(&[(0.0, 10.0), (100.0, 50.0), (255.0, 240.0)]);
        for (x, y) in [(0.0, 10.0), (100.0, 50.0), (255.0, 240.0)] {
            assert!((s.eval(x) - y).abs() < 1e-3);
        }
    }

    #[test]
    fn prog_lifts_blacks_warms_and_fades() {
        assert!(one("prog", [0, 0, 0]).iter().all(|&v| v > 0));
        let [r, g, b] = one("prog", [128, 128, 128]);
        assert!(r > g && b > g, "pink: {r} {g} {b}");
        assert!(one("prog", [255, 255, 255]).iter().all(|&v| v < 255));
    }

    #[test]
    fn indie_is_contrasty_and_yellow_green() {
        let [r, g, b] = one("indie", [128, 128, 128]);
        assert!(r > b + 10 && g > b + 10 && g >= r, "{r} {g} {b}");
        let dark = one("indie", [64, 64, 64]);
        let light = one("indie", [192, 192, 192]);
        assert!(light[1] as i32 - dark[1] as i32 > 128 + 20);
        // The saturation push lowers the non-maximal channels.
        let c = curves(Preset::Indie);
        let [r, _, b] = one("indie", [200, 100, 50]);
        assert!(r < c.rgb[0][200] || b < c.rgb[2][50]);
    }

    #[test]
    fn batcave_is_cold_contrasty_and_desaturated() {
        let [r, _, b] = one("batcave", [50, 50, 50]);
        assert!(b > r + 15, "shadows {r} {b}");
        let [r, g, b] = one("batcave", [128, 128, 128]);
        assert!(r.abs_diff(g) < 10 && b.abs_diff(g) < 20, "{r} {g} {b}");
        let out = one("batcave", [200, 50, 50]);
        assert!(out[0] as i32 - (out[1] as i32) < 150, "{out:?}");
        assert!(one("batcave", [40, 40, 40])[0] < 40);
    }

    #[test]
    fn country_is_warm() {
        let [r, g, b] = one("country", [128, 128, 128]);
        assert!(r > g && g > b, "{r} {g} {b}");
        // Brightness/contrast first: black maps through 0 after the pre-tone.
        assert_eq!(curves(Preset::Country).rgb[0][0], 34);
    }

    #[test]
    fn alpha_and_layout_are_kept() {
        let img = Image::from_rgba8(2, 1, vec![10, 20, 30, 77, 200, 100, 0, 255]).unwrap();
        let out = output(&run(NAME, Some(img), &[]).unwrap());
        assert_eq!(out.layout(), Layout::Rgba8);
        let px = out.to_rgba8();
        assert_eq!((px[3], px[7]), (77, 255));
        let img = Image::from_rgb8(1, 1, vec![1, 2, 3]).unwrap();
        assert_eq!(output(&run(NAME, Some(img), &[]).unwrap()).layout(), Layout::Rgb8);
    }

    #[test]
    fn float_input_is_encoded_first() {
        let bytes = vec![10, 120, 250, 128, 60, 60, 60, 255];
        let byte_img = Image::from_rgba8(2, 1, bytes).unwrap();
        let float_img = Image::from_rgba_f32(2, 1, byte_img.to_linear_rgba().into_owned()).unwrap();
        for p in ["prog", "indie", "batcave", "country"] {
            let params = [("preset", Value::String(p.into()))];
            let a = output(&run(NAME, Some(byte_img.clone()), &params).unwrap());
            let b = output(&run(NAME, Some(float_img.clone()), &params).unwrap());
            assert_eq!(b.layout(), Layout::Rgba8);
            assert_eq!(a.to_rgba8(), b.to_rgba8(), "{p}");
        }
    }
}
