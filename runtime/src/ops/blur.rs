//! `gegl/gaussian-blur`: a Gaussian blur on premultiplied linear RGBA.
//!
//! Like GEGL's `filter=auto`, small deviations (≤ 1) use an exact sampled kernel (FIR)
//! and larger ones the recursive Young–van Vliet filter (IIR), whose cost does not
//! grow with the deviation. Edges are extended by the abyss policy: `clamp` repeats
//! the edge pixel, `none` is transparent, `black`/`white` are opaque colours.

use super::{filter_spec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::value::PortSpec;

/// What lies beyond the image edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abyss {
    None,
    Clamp,
    Black,
    White,
}

impl Abyss {
    pub fn parse(s: &str) -> Abyss {
        match s {
            "none" => Abyss::None,
            "black" => Abyss::Black,
            "white" => Abyss::White,
            _ => Abyss::Clamp,
        }
    }
    /// The constant outside the image (premultiplied), or None for `clamp`.
    fn constant(self) -> Option<[f32; 4]> {
        match self {
            Abyss::None => Some([0.0; 4]),
            Abyss::Black => Some([0.0, 0.0, 0.0, 1.0]),
            Abyss::White => Some([1.0; 4]),
            Abyss::Clamp => None,
        }
    }
}

/// How the kernel is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    Auto,
    Fir,
    Iir,
}

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/gaussian-blur",
            "Performs an averaging of neighboring pixels with the normal distribution as weighting",
            vec![
                PortSpec::number("std-dev-x", 1.5, 0.0, 1500.0, "Standard deviation for the horizontal axis"),
                PortSpec::number("std-dev-y", 1.5, 0.0, 1500.0, "Standard deviation (spatial scale factor)"),
                PortSpec::enumeration(
                    "filter",
                    "auto",
                    &["auto", "fir", "iir"],
                    "How the gaussian kernel is discretized",
                ),
                PortSpec::enumeration(
                    "abyss-policy",
                    "clamp",
                    &["none", "clamp", "black", "white"],
                    "How image edges are handled",
                ),
                PortSpec::boolean("clip-extent", true, "Should the output extent be clipped to the input extent"),
            ],
        ),
        run: run_gaussian,
    });
}

fn run_gaussian(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let sx = inputs.f64("std-dev-x") as f32;
    let sy = inputs.f64("std-dev-y") as f32;
    if sx <= 0.0 && sy <= 0.0 {
        return Ok(Outputs::shared(img.clone()));
    }
    let filter = match inputs.str("filter") {
        "fir" => Filter::Fir,
        "iir" => Filter::Iir,
        _ => Filter::Auto,
    };
    let abyss = Abyss::parse(inputs.str("abyss-policy"));
    let (w, h) = img.dimensions();
    let mut data = img.to_linear_rgba().into_owned();
    premultiply(&mut data);
    // Without clip-extent the result covers what the blur spreads into: 3·⌈σ⌉
    // more pixels on each side, as GEGL's gblur-1d grows its bounding box.
    let (mx, my) = if inputs.bool("clip-extent") { (0, 0) } else { (spread(sx), spread(sy)) };
    let (w, h, data) = if mx + my > 0 {
        let (pw, ph) = (u64::from(w) + 2 * mx as u64, u64::from(h) + 2 * my as u64);
        ctx.check_size(pw, ph)?;
        (pw as u32, ph as u32, pad(&data, w as usize, h as usize, mx, my, abyss))
    } else {
        (w, h, data)
    };
    let mut out = blur_with(&data, w, h, sx, sy, abyss, filter, ctx)?;
    unpremultiply(&mut out);
    super::linear_output(w, h, out)
}

/// How far a blur of standard deviation `sigma` spreads, in whole pixels.
fn spread(sigma: f32) -> usize {
    if sigma > 0.0 {
        3 * sigma.ceil() as usize
    } else {
        0
    }
}

/// Surrounds premultiplied RGBA with `mx` columns and `my` rows of what the
/// abyss policy says lies outside (edge pixels for clamp).
fn pad(data: &[f32], w: usize, h: usize, mx: usize, my: usize, abyss: Abyss) -> Vec<f32> {
    let (pw, ph) = (w + 2 * mx, h + 2 * my);
    let mut out = Vec::with_capacity(pw * ph * 4);
    for py in 0..ph {
        let sy = py.saturating_sub(my).min(h - 1);
        let inside_y = py >= my && py < my + h;
        for px in 0..pw {
            let inside = inside_y && px >= mx && px < mx + w;
            let sx = px.saturating_sub(mx).min(w - 1);
            let v = match abyss.constant() {
                Some(c) if !inside => c,
                _ => {
                    let i = (sy * w + sx) * 4;
                    [data[i], data[i + 1], data[i + 2], data[i + 3]]
                }
            };
            out.extend_from_slice(&v);
        }
    }
    out
}

/// Blurs premultiplied linear RGBA (4 floats per pixel); returns a new buffer.
pub fn gaussian_blur_premultiplied(
    data: &[f32],
    width: u32,
    height: u32,
    sigma_x: f32,
    sigma_y: f32,
    abyss: Abyss,
    ctx: &RunContext,
) -> Result<Vec<f32>, OpError> {
    blur_with(data, width, height, sigma_x, sigma_y, abyss, Filter::Auto, ctx)
}

#[allow(clippy::too_many_arguments)]
fn blur_with(
    data: &[f32],
    width: u32,
    height: u32,
    sigma_x: f32,
    sigma_y: f32,
    abyss: Abyss,
    filter: Filter,
    ctx: &RunContext,
) -> Result<Vec<f32>, OpError> {
    let (w, h) = (width as usize, height as usize);
    let mut buf = data.to_vec();
    if w == 0 || h == 0 {
        return Ok(buf);
    }
    let use_iir = |s: f32| match filter {
        Filter::Fir => false,
        Filter::Iir => s >= 0.5,
        Filter::Auto => s > 1.0,
    };
    if sigma_x > 0.0 {
        let mut line = Vec::new();
        let mut out = Vec::new();
        for (y, row) in buf.chunks_exact_mut(w * 4).enumerate() {
            if y % 64 == 0 {
                ctx.check()?;
            }
            line.clear();
            line.extend_from_slice(row);
            if use_iir(sigma_x) {
                iir_line(&line, &mut out, sigma_x, abyss);
            } else {
                fir_line(&line, &mut out, sigma_x, abyss);
            }
            row.copy_from_slice(&out);
        }
    }
    if sigma_y > 0.0 {
        ctx.check()?;
        buf = if use_iir(sigma_y) {
            iir_columns(&buf, w, h, sigma_y, abyss, ctx)?
        } else {
            fir_columns(&buf, w, h, sigma_y, abyss, ctx)?
        };
    }
    Ok(buf)
}

pub fn premultiply(data: &mut [f32]) {
    for px in data.chunks_exact_mut(4) {
        let a = px[3];
        px[0] *= a;
        px[1] *= a;
        px[2] *= a;
    }
}

pub fn unpremultiply(data: &mut [f32]) {
    for px in data.chunks_exact_mut(4) {
        let a = px[3];
        if a.abs() > 1e-12 {
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
}

/// Young–van Vliet recursive Gaussian coefficients: (B, b1/b0, b2/b0, b3/b0).
fn yvv_coefficients(sigma: f32) -> (f64, f64, f64, f64) {
    let s = sigma as f64;
    let q = if s >= 2.5 { 0.98711 * s - 0.96330 } else { 3.97156 - 4.14554 * (1.0 - 0.26891 * s).max(0.0).sqrt() };
    let q2 = q * q;
    let q3 = q2 * q;
    let b0 = 1.57825 + 2.44413 * q + 1.4281 * q2 + 0.422205 * q3;
    let b1 = 2.44413 * q + 2.85619 * q2 + 1.26661 * q3;
    let b2 = -(1.4281 * q2 + 1.26661 * q3);
    let b3 = 0.422205 * q3;
    let big_b = 1.0 - (b1 + b2 + b3) / b0;
    (big_b, b1 / b0, b2 / b0, b3 / b0)
}

/// How far the edge extension must reach for the recursion to settle.
fn padding(sigma: f32) -> usize {
    (sigma * 4.0).ceil() as usize + 3
}

/// One line of RGBA pixels through the forward and backward recursions. The state is
/// kept in f64: with large deviations the poles are close to 1 and f32 drifts.
fn iir_line(line: &[f32], out: &mut Vec<f32>, sigma: f32, abyss: Abyss) {
    let n = line.len() / 4;
    let (bb, a1, a2, a3) = yvv_coefficients(sigma);
    let pad = padding(sigma);
    let px = |i: usize| -> [f64; 4] { [0, 1, 2, 3].map(|c| line[i * 4 + c] as f64) };
    let left = abyss.constant().map(|c| c.map(f64::from)).unwrap_or_else(|| px(0));
    let right = abyss.constant().map(|c| c.map(f64::from)).unwrap_or_else(|| px(n - 1));
    // Forward pass over the line and `pad` samples of right extension; the left
    // extension is infinite, so the recursion starts in its steady state.
    let total = n + pad;
    let mut fwd = vec![[0f64; 4]; total];
    let (mut w1, mut w2, mut w3) = (left, left, left);
    for (i, slot) in fwd.iter_mut().enumerate() {
        let x = if i < n { px(i) } else { right };
        let w = [0, 1, 2, 3].map(|c| bb * x[c] + a1 * w1[c] + a2 * w2[c] + a3 * w3[c]);
        *slot = w;
        w3 = w2;
        w2 = w1;
        w1 = w;
    }
    // Backward pass from the steady state of the right extension.
    out.clear();
    out.resize(n * 4, 0.0);
    let (mut y1, mut y2, mut y3) = (right, right, right);
    for i in (0..total).rev() {
        let w = fwd[i];
        let y = [0, 1, 2, 3].map(|c| bb * w[c] + a1 * y1[c] + a2 * y2[c] + a3 * y3[c]);
        if i < n {
            for c in 0..4 {
                out[i * 4 + c] = y[c] as f32;
            }
        }
        y3 = y2;
        y2 = y1;
        y1 = y;
    }
}

/// The vertical pass, a whole row at a time (cache friendly, vectorisable). The
/// recursion state rows are f64; the stored forward pass is f32.
fn iir_columns(
    data: &[f32],
    w: usize,
    h: usize,
    sigma: f32,
    abyss: Abyss,
    ctx: &RunContext,
) -> Result<Vec<f32>, OpError> {
    let stride = w * 4;
    let (bb, a1, a2, a3) = yvv_coefficients(sigma);
    let pad = padding(sigma);
    let row = |y: usize| &data[y * stride..(y + 1) * stride];
    let edge_row = |y: usize| -> Vec<f64> {
        match abyss.constant() {
            Some(c) => c.iter().map(|&v| v as f64).cycle().take(stride).collect(),
            None => row(y).iter().map(|&v| v as f64).collect(),
        }
    };
    let top = edge_row(0);
    let bottom = edge_row(h - 1);
    let bottom32: Vec<f32> = bottom.iter().map(|&v| v as f32).collect();
    let total = h + pad;
    let mut fwd = vec![0f32; total * stride];
    {
        let (mut w1, mut w2, mut w3) = (top.clone(), top.clone(), top);
        let mut cur = vec![0f64; stride];
        for y in 0..total {
            if y % 64 == 0 {
                ctx.check()?;
            }
            let x = if y < h { row(y) } else { &bottom32[..] };
            for i in 0..stride {
                cur[i] = bb * x[i] as f64 + a1 * w1[i] + a2 * w2[i] + a3 * w3[i];
            }
            for (d, c) in fwd[y * stride..(y + 1) * stride].iter_mut().zip(&cur) {
                *d = *c as f32;
            }
            std::mem::swap(&mut w3, &mut w2);
            std::mem::swap(&mut w2, &mut w1);
            std::mem::swap(&mut w1, &mut cur);
        }
    }
    let mut out = vec![0f32; h * stride];
    let (mut y1, mut y2, mut y3) = (bottom.clone(), bottom.clone(), bottom);
    let mut cur = vec![0f64; stride];
    for y in (0..total).rev() {
        if y % 64 == 0 {
            ctx.check()?;
        }
        let wrow = &fwd[y * stride..(y + 1) * stride];
        for i in 0..stride {
            cur[i] = bb * wrow[i] as f64 + a1 * y1[i] + a2 * y2[i] + a3 * y3[i];
        }
        if y < h {
            for (d, c) in out[y * stride..(y + 1) * stride].iter_mut().zip(&cur) {
                *d = *c as f32;
            }
        }
        std::mem::swap(&mut y3, &mut y2);
        std::mem::swap(&mut y2, &mut y1);
        std::mem::swap(&mut y1, &mut cur);
    }
    Ok(out)
}

/// A normalised sampled Gaussian kernel of radius ceil(3σ)+1.
fn kernel(sigma: f32) -> Vec<f32> {
    let r = (sigma * 3.0).ceil() as i64 + 1;
    let mut k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

fn sample(line: &[f32], i: i64, n: usize, abyss: Abyss) -> [f32; 4] {
    if i < 0 || i >= n as i64 {
        if let Some(c) = abyss.constant() {
            return c;
        }
    }
    let i = i.clamp(0, n as i64 - 1) as usize * 4;
    [line[i], line[i + 1], line[i + 2], line[i + 3]]
}

fn fir_line(line: &[f32], out: &mut Vec<f32>, sigma: f32, abyss: Abyss) {
    let n = line.len() / 4;
    let k = kernel(sigma);
    let r = (k.len() / 2) as i64;
    out.clear();
    out.resize(line.len(), 0.0);
    for i in 0..n {
        let mut acc = [0f32; 4];
        for (j, kv) in k.iter().enumerate() {
            let s = sample(line, i as i64 + j as i64 - r, n, abyss);
            for c in 0..4 {
                acc[c] += kv * s[c];
            }
        }
        out[i * 4..i * 4 + 4].copy_from_slice(&acc);
    }
}

fn fir_columns(
    data: &[f32],
    w: usize,
    h: usize,
    sigma: f32,
    abyss: Abyss,
    ctx: &RunContext,
) -> Result<Vec<f32>, OpError> {
    let stride = w * 4;
    let k = kernel(sigma);
    let r = (k.len() / 2) as i64;
    let constant: Option<Vec<f32>> = abyss.constant().map(|c| c.iter().copied().cycle().take(stride).collect());
    let mut out = vec![0f32; h * stride];
    for y in 0..h {
        if y % 64 == 0 {
            ctx.check()?;
        }
        let dst = &mut out[y * stride..(y + 1) * stride];
        for (j, kv) in k.iter().enumerate() {
            let sy = y as i64 + j as i64 - r;
            let src: &[f32] = match (&constant, sy < 0 || sy >= h as i64) {
                (Some(c), true) => c,
                _ => {
                    let sy = sy.clamp(0, h as i64 - 1) as usize;
                    &data[sy * stride..(sy + 1) * stride]
                }
            };
            for (d, s) in dst.iter_mut().zip(src) {
                *d += kv * s;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Inputs;
    use crate::pixels::Image;
    use crate::value::Value;
    use std::sync::Arc;

    fn blur(img: Image, sx: f64, sy: f64, abyss: &str) -> Image {
        let reg = Registry::builtin();
        let op = reg.get("gegl/gaussian-blur").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(img)));
        inputs.set("std-dev-x", Value::Number(sx));
        inputs.set("std-dev-y", Value::Number(sy));
        inputs.set("abyss-policy", Value::String(abyss.into()));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        (**out.get("output").unwrap().as_image().unwrap()).clone()
    }

    #[test]
    fn without_clip_extent_the_output_grows_by_the_spread() {
        let reg = Registry::builtin();
        let op = reg.get("gegl/gaussian-blur").unwrap();
        let run = |abyss: &str, clip: bool| {
            let mut inputs = Inputs::defaults(op.spec());
            inputs.set("input", Value::Image(Arc::new(Image::filled_linear(30, 6, [1.0, 0.0, 0.0, 1.0]))));
            inputs.set("std-dev-x", Value::Number(2.0));
            inputs.set("std-dev-y", Value::Number(0.5));
            inputs.set("abyss-policy", Value::String(abyss.into()));
            inputs.set("clip-extent", Value::Bool(clip));
            (**op.run(&inputs, &RunContext::default()).unwrap().get("output").unwrap().as_image().unwrap()).clone()
        };
        assert_eq!(run("none", true).dimensions(), (30, 6));
        // σx 2 spreads 6 pixels, σy 0.5 spreads 3.
        let grown = run("none", false);
        assert_eq!(grown.dimensions(), (42, 12));
        let px = grown.to_linear_rgba();
        let at = |x: usize, y: usize| &px[(y * 42 + x) * 4..][..4];
        assert!(at(0, 0)[3] < 0.01, "the far corner stays nearly empty");
        assert!(at(4, 6)[3] > 0.05 && at(4, 6)[3] < 0.5, "the blur fades out beside the image");
        assert!((at(21, 6)[3] - 1.0).abs() < 1e-3, "the middle is untouched: {}", at(21, 6)[3]);
        // Clamp extends the edge: still red and opaque all over.
        let clamped = run("clamp", false).to_linear_rgba().into_owned();
        assert!(clamped.chunks(4).all(|p| (p[0] - 1.0).abs() < 1e-3 && (p[3] - 1.0).abs() < 1e-3));
    }

    #[test]
    fn flat_image_stays_flat_with_clamp() {
        for sigma in [0.7, 1.5, 10.0, 60.0] {
            let img = Image::filled_linear(40, 30, [0.3, 0.5, 0.7, 1.0]);
            let out = blur(img, sigma, sigma, "clamp");
            for v in out.to_linear_rgba().chunks_exact(4) {
                assert!((v[0] - 0.3).abs() < 1e-4 && (v[2] - 0.7).abs() < 1e-4, "σ={sigma}: {v:?}");
                assert!((v[3] - 1.0).abs() < 1e-4, "σ={sigma}: {v:?}");
            }
        }
    }

    #[test]
    fn iir_matches_exact_gaussian_on_an_impulse() {
        let n = 201;
        let mut line = vec![0f32; n * 4];
        line[100 * 4..100 * 4 + 4].copy_from_slice(&[1.0; 4]);
        let (mut iir, mut fir) = (Vec::new(), Vec::new());
        iir_line(&line, &mut iir, 8.0, Abyss::None);
        fir_line(&line, &mut fir, 8.0, Abyss::None);
        let peak = fir[100 * 4];
        for i in 0..n {
            assert!((iir[i * 4] - fir[i * 4]).abs() < peak * 0.03, "at {i}: {} vs {}", iir[i * 4], fir[i * 4]);
        }
        let sum: f32 = iir.iter().step_by(4).sum();
        assert!((sum - 1.0).abs() < 1e-3, "mass {sum}");
    }

    #[test]
    fn abyss_none_fades_edges_to_transparent() {
        let img = Image::filled_linear(20, 20, [1.0, 1.0, 1.0, 1.0]);
        let out = blur(img, 3.0, 3.0, "none");
        let px = out.to_linear_rgba();
        assert!(px[3] < 0.5, "corner alpha {}", px[3]);
        // Colour is unchanged where there is any alpha (un-premultiplied).
        assert!((px[0] - 1.0).abs() < 1e-3);
        let centre = (10 * 20 + 10) * 4;
        assert!(px[centre + 3] > 0.97, "centre alpha {}", px[centre + 3]);
    }

    #[test]
    fn black_abyss_darkens_edges_only() {
        let img = Image::filled_linear(30, 30, [1.0, 1.0, 1.0, 1.0]);
        let out = blur(img, 2.0, 2.0, "black");
        let px = out.to_linear_rgba();
        assert!(px[0] < 0.7);
        assert!((px[3] - 1.0).abs() < 1e-4);
        assert!(px[(15 * 30 + 15) * 4] > 0.999);
    }

    #[test]
    fn zero_deviation_is_identity_and_shares_the_buffer() {
        let img = Arc::new(Image::from_rgb8(2, 1, vec![1, 2, 3, 4, 5, 6]).unwrap());
        let reg = Registry::builtin();
        let op = reg.get("gegl/gaussian-blur").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(img.clone()));
        inputs.set("std-dev-x", Value::Number(0.0));
        inputs.set("std-dev-y", Value::Number(0.0));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        assert!(Arc::ptr_eq(out.get("output").unwrap().as_image().unwrap(), &img));
    }

    #[test]
    fn horizontal_only_blur_keeps_rows_apart() {
        let mut data = vec![0f32; 10 * 10 * 4];
        for x in 0..10 {
            data[(5 * 10 + x) * 4..(5 * 10 + x) * 4 + 4].copy_from_slice(&[1.0; 4]);
        }
        let out = blur_with(&data, 10, 10, 2.0, 0.0, Abyss::None, Filter::Auto, &RunContext::default()).unwrap();
        assert_eq!(out[(4 * 10 + 5) * 4], 0.0);
        assert!(out[(5 * 10 + 5) * 4] > 0.9);
    }

    #[test]
    fn cancellation_stops_the_blur() {
        let ctx = RunContext::default();
        ctx.cancel.cancel();
        let data = vec![0f32; 4 * 4 * 4];
        assert!(matches!(
            gaussian_blur_premultiplied(&data, 4, 4, 5.0, 5.0, Abyss::Clamp, &ctx),
            Err(OpError::Cancelled)
        ));
    }
}
