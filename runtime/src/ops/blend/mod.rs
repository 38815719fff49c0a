//! SVG 1.2 compositing: the Porter-Duff operators and the blend modes (`svg/*`).
//!
//! `input` is the backdrop (destination D), `aux` the layer on top (source S). As in
//! GEGL, the arithmetic is on premultiplied RGBA: linear light by default, or
//! sRGB-encoded colour when `srgb` is set. Each mode is a function on one
//! premultiplied pixel pair; [`composite`] is generic over it, so every mode gets its
//! own inlined pixel loop.

use super::{composer_spec, linear_output, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::pixels::srgb::{linear_to_srgb, srgb_to_linear, u8_to_linear_table};
use crate::pixels::{Image, Pixels};
use crate::value::PortSpec;

mod modes;
#[cfg(test)]
mod tests;

use modes::*;

/// One premultiplied RGBA pixel.
pub(crate) type Px = [f32; 4];

type RunFn = fn(&Inputs, &RunContext) -> Result<Outputs, OpError>;

pub(crate) const TRANSPARENT: Px = [0.0; 4];

/// Rows blended between cancellation checks.
const ROWS: usize = 64;

pub fn register(reg: &mut Registry) {
    fn add(reg: &mut Registry, name: &'static str, description: &'static str, run: RunFn) {
        let srgb = PortSpec::boolean("srgb", false, "Use sRGB gamma instead of linear");
        reg.add(FnOp { spec: composer_spec(name, description, vec![srgb]), run });
    }
    add(reg, "svg/clear", "Porter-Duff clear: fully transparent everywhere", |i, c| composite(i, c, clear));
    add(reg, "svg/src", "Porter-Duff source: aux only, input discarded", |i, c| composite(i, c, src));
    add(reg, "svg/dst", "Porter-Duff destination: input only, aux discarded", |i, c| composite(i, c, dst));
    add(reg, "svg/src-over", "Porter-Duff source over: aux composited over input", |i, c| composite(i, c, src_over));
    add(reg, "svg/dst-over", "Porter-Duff destination over: input composited over aux", |i, c| {
        composite(i, c, dst_over)
    });
    add(reg, "svg/src-in", "Porter-Duff source in: aux where input is opaque", |i, c| composite(i, c, src_in));
    add(reg, "svg/dst-in", "Porter-Duff destination in: input where aux is opaque", |i, c| composite(i, c, dst_in));
    add(reg, "svg/src-out", "Porter-Duff source out: aux where input is transparent", |i, c| composite(i, c, src_out));
    add(reg, "svg/dst-out", "Porter-Duff destination out: input where aux is transparent", |i, c| {
        composite(i, c, dst_out)
    });
    add(reg, "svg/src-atop", "Porter-Duff source atop: aux over input, inside input only", |i, c| {
        composite(i, c, src_atop)
    });
    add(reg, "svg/dst-atop", "Porter-Duff destination atop: input over aux, inside aux only", |i, c| {
        composite(i, c, dst_atop)
    });
    add(reg, "svg/xor", "Porter-Duff xor: aux and input where the other is transparent", |i, c| composite(i, c, xor));
    add(reg, "svg/multiply", "SVG blend mode multiply of aux onto input", |i, c| composite(i, c, multiply));
    add(reg, "svg/screen", "SVG blend mode screen of aux onto input", |i, c| composite(i, c, screen));
    add(reg, "svg/overlay", "SVG blend mode overlay of aux onto input", |i, c| composite(i, c, overlay));
    add(reg, "svg/darken", "SVG blend mode darken of aux onto input", |i, c| composite(i, c, darken));
    add(reg, "svg/lighten", "SVG blend mode lighten of aux onto input", |i, c| composite(i, c, lighten));
    add(reg, "svg/color-dodge", "SVG blend mode color-dodge of aux onto input", |i, c| composite(i, c, color_dodge));
    add(reg, "svg/color-burn", "SVG blend mode color-burn of aux onto input", |i, c| composite(i, c, color_burn));
    add(reg, "svg/hard-light", "SVG blend mode hard-light of aux onto input", |i, c| composite(i, c, hard_light));
    add(reg, "svg/soft-light", "SVG blend mode soft-light of aux onto input", |i, c| composite(i, c, soft_light));
    add(reg, "svg/difference", "SVG blend mode difference of aux onto input", |i, c| composite(i, c, difference));
    add(reg, "svg/exclusion", "SVG blend mode exclusion of aux onto input", |i, c| composite(i, c, exclusion));
    add(reg, "svg/plus", "SVG blend mode plus: aux added to input", |i, c| composite(i, c, plus));
}

/// Composites `aux` onto `input` with the per-pixel operator `f` (premultiplied
/// source, premultiplied destination → premultiplied result).
fn composite<F: Fn(Px, Px) -> Px>(inputs: &Inputs, ctx: &RunContext, f: F) -> Result<Outputs, OpError> {
    let Some(aux) = inputs.image("aux") else {
        return Ok(Outputs::shared(inputs.require_image("input")?.clone()));
    };
    let srgb = inputs.bool("srgb");
    let (width, height, mut data) = match inputs.image("input") {
        Some(input) => (input.width(), input.height(), premultiplied(input, srgb)),
        None => (aux.width(), aux.height(), vec![0.0; aux.pixel_count() * 4]),
    };
    let src = premultiplied(aux, srgb);
    blend_rows(&mut data, width, &src, aux.width(), aux.height(), ctx, f)?;
    unpremultiply(&mut data, srgb);
    linear_output(width, height, data)
}

/// Replaces every destination pixel `d` of the `width`-wide image `dst` by `f(s, d)`,
/// `s` being the pixel of `src` (`src_w`x`src_h`) at the same place, or transparent.
fn blend_rows<F: Fn(Px, Px) -> Px>(
    dst: &mut [f32],
    width: u32,
    src: &[f32],
    src_w: u32,
    src_h: u32,
    ctx: &RunContext,
    f: F,
) -> Result<(), OpError> {
    let row = width as usize * 4;
    if row == 0 {
        return Ok(());
    }
    let src_row = src_w as usize * 4;
    let n = row.min(src_row);
    for (y, d_row) in dst.chunks_exact_mut(row).enumerate() {
        if y % ROWS == 0 {
            ctx.check()?;
        }
        let rest = if y < src_h as usize {
            let s_row = &src[y * src_row..y * src_row + n];
            let (inside, rest) = d_row.split_at_mut(n);
            for (d, s) in inside.chunks_exact_mut(4).zip(s_row.chunks_exact(4)) {
                let out = f(px(s), px(d));
                d.copy_from_slice(&out);
            }
            rest
        } else {
            d_row
        };
        for d in rest.chunks_exact_mut(4) {
            let out = f(TRANSPARENT, px(d));
            d.copy_from_slice(&out);
        }
    }
    Ok(())
}

#[inline(always)]
fn px(s: &[f32]) -> Px {
    [s[0], s[1], s[2], s[3]]
}

/// Premultiplied RGBA of `img`, colour in linear light or (with `srgb`) sRGB-encoded.
fn premultiplied(img: &Image, srgb: bool) -> Vec<f32> {
    let table: [f32; 256] = if srgb { std::array::from_fn(|i| i as f32 / 255.0) } else { *u8_to_linear_table() };
    let mut out = Vec::with_capacity(img.pixel_count() * 4);
    match img.pixels() {
        Pixels::Rgb8(v) => {
            for p in v.chunks_exact(3) {
                out.extend_from_slice(&[table[p[0] as usize], table[p[1] as usize], table[p[2] as usize], 1.0]);
            }
        }
        Pixels::Rgba8(v) => {
            for p in v.chunks_exact(4) {
                let a = p[3] as f32 / 255.0;
                out.extend_from_slice(&[
                    table[p[0] as usize] * a,
                    table[p[1] as usize] * a,
                    table[p[2] as usize] * a,
                    a,
                ]);
            }
        }
        Pixels::RgbaF32(v) if srgb => {
            for p in v.chunks_exact(4) {
                let a = p[3];
                out.extend_from_slice(&[
                    linear_to_srgb(p[0]) * a,
                    linear_to_srgb(p[1]) * a,
                    linear_to_srgb(p[2]) * a,
                    a,
                ]);
            }
        }
        Pixels::RgbaF32(v) => {
            for p in v.chunks_exact(4) {
                let a = p[3];
                out.extend_from_slice(&[p[0] * a, p[1] * a, p[2] * a, a]);
            }
        }
    }
    out
}

/// Back to straight alpha (colour 0 where alpha is 0) and, with `srgb`, to linear light.
fn unpremultiply(data: &mut [f32], srgb: bool) {
    for p in data.chunks_exact_mut(4) {
        let a = p[3];
        let k = if a == 0.0 { 0.0 } else { 1.0 / a };
        for c in &mut p[..3] {
            *c *= k;
            if srgb {
                *c = srgb_to_linear(*c);
            }
        }
    }
}

/// Composites straight-alpha linear RGBA `src` over `dst` in place (same length).
pub fn src_over_linear(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
        let (sa, da) = (s[3], d[3]);
        let a = sa + da - sa * da;
        let k = if a == 0.0 { 0.0 } else { 1.0 / a };
        for i in 0..3 {
            d[i] = (s[i] * sa + d[i] * da * (1.0 - sa)) * k;
        }
        d[3] = a;
    }
}
