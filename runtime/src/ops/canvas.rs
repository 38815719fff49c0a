//! Canvas building blocks: solid fill, padding/border, and overlaying `aux` on
//! `input` at a position (watermarks).

use super::{composer_spec, filter_spec, ComponentSpec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::ops::geometry::{gravity_offset, GRAVITIES};
use crate::pixels::Image;
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    let mut fill = filter_spec(
        "imgflo/fill",
        "A solid colour: the size of the input image if one is connected, else width x height",
        vec![
            PortSpec::int("width", 100, 1, 100_000, "Width when there is no input"),
            PortSpec::int("height", 100, 1, 100_000, "Height when there is no input"),
            PortSpec::color("color", "#ffffffff", "Fill colour"),
        ],
    );
    fill.icon = "square";
    reg.add(FnOp { spec: fill, run: run_fill });
    reg.add(FnOp {
        spec: filter_spec(
            "imgflo/pad",
            "Adds a border of a colour around the image",
            vec![
                PortSpec::int("top", 0, 0, 100_000, "Pixels added above"),
                PortSpec::int("right", 0, 0, 100_000, "Pixels added on the right"),
                PortSpec::int("bottom", 0, 0, 100_000, "Pixels added below"),
                PortSpec::int("left", 0, 0, 100_000, "Pixels added on the left"),
                PortSpec::color("color", "#00000000", "Border colour"),
            ],
        ),
        run: run_pad,
    });
    reg.add(FnOp { spec: overlay_spec(), run: run_overlay });
}

fn overlay_spec() -> ComponentSpec {
    composer_spec(
        "imgflo/overlay",
        "Draws aux (a watermark or logo) over input at a gravity and offset, with an opacity",
        vec![
            PortSpec::enumeration("gravity", "southeast", GRAVITIES, "Where aux is placed"),
            PortSpec::int(
                "x",
                0,
                -100_000,
                100_000,
                "Horizontal offset from the gravity position (towards the centre)",
            ),
            PortSpec::int("y", 0, -100_000, 100_000, "Vertical offset from the gravity position (towards the centre)"),
            PortSpec::number("opacity", 1.0, 0.0, 1.0, "Opacity of aux"),
        ],
    )
}

fn run_fill(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let (w, h) = match inputs.image("input") {
        Some(img) => img.dimensions(),
        None => (inputs.int("width") as u32, inputs.int("height") as u32),
    };
    ctx.check_size(w as u64, h as u64)?;
    Ok(Outputs::image(Image::filled_linear(w, h, inputs.color("color").to_linear())))
}

fn run_pad(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let (t, r, b, l) =
        (inputs.int("top") as u32, inputs.int("right") as u32, inputs.int("bottom") as u32, inputs.int("left") as u32);
    if t + r + b + l == 0 {
        return Ok(Outputs::shared(img.clone()));
    }
    let (w, h) = (img.width() + l + r, img.height() + t + b);
    ctx.check_size(w as u64, h as u64)?;
    let mut out = Image::filled_linear(w, h, inputs.color("color").to_linear()).into_linear_rgba();
    paste(&mut out, w, &img.to_linear_rgba(), img.width(), l as i64, t as i64, 1.0, false);
    super::linear_output(w, h, out)
}

fn run_overlay(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let Some(aux) = inputs.image("aux") else {
        return Ok(Outputs::shared(img.clone()));
    };
    ctx.check()?;
    let (w, h) = img.dimensions();
    let gravity = inputs.str("gravity");
    let (ax, ay) = aux.dimensions();
    let (gx, gy) = gravity_offset(gravity, (w.max(ax), h.max(ay)), (ax, ay));
    let (mut x, mut y) = (gx as i64 - (w.max(ax) - w) as i64 / 2, gy as i64 - (h.max(ay) - h) as i64 / 2);
    // Offsets point towards the centre, as in most image servers' watermark options.
    let (dx, dy) = (inputs.int("x"), inputs.int("y"));
    x += if gravity.ends_with("east") { -dx } else { dx };
    y += if gravity.starts_with("south") { -dy } else { dy };
    let mut out = img.to_linear_rgba().into_owned();
    paste(&mut out, w, &aux.to_linear_rgba(), ax, x, y, inputs.f64("opacity") as f32, true);
    super::linear_output(w, h, out)
}

/// Composites `src` (straight linear RGBA, `sw` wide) onto `dst` at (x, y); `over`
/// blends with source-over, else copies.
#[allow(clippy::too_many_arguments)]
fn paste(dst: &mut [f32], dw: u32, src: &[f32], sw: u32, x: i64, y: i64, opacity: f32, over: bool) {
    let dh = (dst.len() / 4 / dw as usize) as i64;
    let sh = (src.len() / 4 / sw as usize) as i64;
    for sy in 0..sh {
        let ty = y + sy;
        if ty < 0 || ty >= dh {
            continue;
        }
        for sx in 0..sw as i64 {
            let tx = x + sx;
            if tx < 0 || tx >= dw as i64 {
                continue;
            }
            let s = &src[((sy * sw as i64 + sx) * 4) as usize..][..4];
            let d = &mut dst[((ty * dw as i64 + tx) * 4) as usize..][..4];
            if !over {
                d.copy_from_slice(s);
                continue;
            }
            let sa = s[3] * opacity;
            let da = d[3];
            let oa = sa + da * (1.0 - sa);
            for c in 0..3 {
                let v = s[c] * sa + d[c] * da * (1.0 - sa);
                d[c] = if oa > 0.0 { v / oa } else { 0.0 };
            }
            d[3] = oa;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::sync::Arc;

    #[test]
    fn fill_without_input_uses_width_and_height() {
        let op = Registry::builtin().get("imgflo/fill").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("width", Value::Int(3));
        inputs.set("height", Value::Int(2));
        let out = op.run(&inputs, &RunContext::default()).unwrap();
        let img = out.get("output").unwrap().as_image().unwrap();
        assert_eq!(img.dimensions(), (3, 2));
        assert_eq!(img.to_rgba8()[..4], [255, 255, 255, 255]);
    }

    #[test]
    fn pad_adds_border() {
        let op = Registry::builtin().get("imgflo/pad").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(Image::from_rgb8(1, 1, vec![255, 0, 0]).unwrap())));
        inputs.set("left", Value::Int(2));
        inputs.set("top", Value::Int(1));
        inputs.set("color", Value::Color(crate::Color::parse("#0000ff").unwrap()));
        let img = op.run(&inputs, &RunContext::default()).unwrap().0.remove(0).1;
        let img = img.as_image().unwrap();
        assert_eq!(img.dimensions(), (3, 2));
        let px = img.to_rgba8();
        assert_eq!(px[..4], [0, 0, 255, 255]);
        assert_eq!(px[(3 + 2) * 4..(3 + 2) * 4 + 4], [255, 0, 0, 255]);
    }

    #[test]
    fn overlay_places_aux_at_the_gravity() {
        let op = Registry::builtin().get("imgflo/overlay").unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        inputs.set("input", Value::Image(Arc::new(Image::from_rgb8(4, 4, vec![0; 48]).unwrap())));
        inputs.set("aux", Value::Image(Arc::new(Image::from_rgb8(1, 1, vec![255, 255, 255]).unwrap())));
        let img = op.run(&inputs, &RunContext::default()).unwrap().0.remove(0).1;
        let px = img.as_image().unwrap().to_rgba8();
        assert_eq!(px[15 * 4], 255, "south-east corner is white");
        assert_eq!(px[0], 0);
    }
}
