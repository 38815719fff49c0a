//! Painting noflo-canvas command objects with tiny-skia, with HTML canvas
//! semantics: a current path built by shapes and filled (non-zero winding) or
//! stroked, fill and stroke styles as CSS colours (an invalid colour is ignored,
//! as a canvas ignores it), transforms applied to coordinates as they are added,
//! anti-aliased, blending in sRGB as browsers do.

use serde_json::Value as Json;
use tiny_skia::{BlendMode, Color as SkColor, FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

use crate::color::Color;
use crate::ops::{OpError, RunContext};
use crate::pixels::Image;

/// Deepest nesting of arrays, groups and transforms; deeper input is refused
/// instead of overflowing the stack.
const MAX_DEPTH: usize = 64;
/// Most shapes one draw may paint (recursion multiplies them).
const MAX_SHAPES: usize = 1_000_000;

/// Draws `commands` (one command object or nested arrays of them) onto a copy of
/// `canvas`.
pub fn draw(canvas: &Image, commands: &Json, clear: bool, ctx: &RunContext) -> Result<Image, OpError> {
    let (w, h) = canvas.dimensions();
    let size = tiny_skia::IntSize::from_wh(w, h).ok_or_else(|| OpError::Invalid("empty canvas".into()))?;
    let mut data = canvas.to_rgba8().into_owned();
    if clear {
        data.fill(0);
    } else {
        premultiply(&mut data);
    }
    let pixmap = Pixmap::from_vec(data, size).ok_or_else(|| OpError::Invalid("canvas size".into()))?;
    let mut painter = Painter {
        pixmap,
        fill: SkColor::BLACK,
        stroke: SkColor::BLACK,
        line_width: 1.0,
        transform: Affine::IDENTITY,
        path: PathBuilder::new(),
        shapes: 0,
        ctx,
    };
    painter.thing(commands, Wrap::None, 0)?;
    let mut data = painter.pixmap.take();
    demultiply(&mut data);
    Image::from_rgba8(w, h, data).map_err(|e| OpError::Invalid(e.to_string()))
}

/// A number from a command: JSON numbers, or numeric strings (IIPs from `.fbp`
/// files arrive as strings).
pub fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        Json::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// What happens around each shape of a fill or stroke.
#[derive(Clone, Copy)]
enum Wrap {
    None,
    Fill,
    Stroke { close: bool },
}

/// A 2D affine transform (a c e / b d f), as a canvas keeps one.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Affine([f64; 6]);

impl Affine {
    const IDENTITY: Affine = Affine([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn then(self, m: [f64; 6]) -> Affine {
        // self × m: m applies first, as canvas translate/rotate/scale compose.
        let [a, b, c, d, e, f] = self.0;
        let [ma, mb, mc, md, me, mf] = m;
        Affine([
            a * ma + c * mb,
            b * ma + d * mb,
            a * mc + c * md,
            b * mc + d * md,
            a * me + c * mf + e,
            b * me + d * mf + f,
        ])
    }
    fn apply(self, x: f64, y: f64) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        ((a * x + c * y + e) as f32, (b * x + d * y + f) as f32)
    }
    /// How much the transform scales lengths (for line widths).
    fn scale(self) -> f64 {
        let [a, b, c, d, ..] = self.0;
        (a * d - b * c).abs().sqrt()
    }
}

struct Painter<'a> {
    pixmap: Pixmap,
    fill: SkColor,
    stroke: SkColor,
    line_width: f64,
    transform: Affine,
    path: PathBuilder,
    shapes: usize,
    ctx: &'a RunContext,
}

fn field<'j>(v: &'j Json, k: &str) -> Option<&'j Json> {
    v.get(k)
}

fn num(v: &Json, k: &str) -> Option<f64> {
    field(v, k).and_then(number).filter(|n| n.is_finite())
}

fn point(v: &Json, k: &str) -> Option<(f64, f64)> {
    let p = field(v, k)?;
    Some((num(p, "x")?, num(p, "y")?))
}

fn css(v: Option<&Json>) -> Option<SkColor> {
    let text = v?.as_str()?;
    let c = Color::parse(text).ok()?;
    SkColor::from_rgba(c.r.clamp(0.0, 1.0), c.g.clamp(0.0, 1.0), c.b.clamp(0.0, 1.0), c.a.clamp(0.0, 1.0))
}

impl Painter<'_> {
    /// A command object (its `type` names what to do) or an array of them.
    fn thing(&mut self, thing: &Json, wrap: Wrap, depth: usize) -> Result<(), OpError> {
        if depth > MAX_DEPTH {
            return Err(OpError::Invalid(format!("drawing commands nest deeper than {MAX_DEPTH}")));
        }
        match thing {
            Json::Array(items) => {
                for item in items.iter().filter(|i| !i.is_null()) {
                    self.thing(item, wrap, depth + 1)?;
                }
                Ok(())
            }
            Json::Object(_) => {
                let Some(kind) = thing.get("type").and_then(Json::as_str) else { return Ok(()) };
                if !KNOWN.contains(&kind) {
                    return Ok(());
                }
                self.shapes += 1;
                if self.shapes > MAX_SHAPES {
                    return Err(OpError::Invalid(format!("more than {MAX_SHAPES} shapes in one drawing")));
                }
                if self.shapes.is_multiple_of(4096) {
                    self.ctx.check()?;
                }
                if !matches!(wrap, Wrap::None) {
                    self.path = PathBuilder::new();
                }
                self.command(kind, thing, depth)?;
                match wrap {
                    Wrap::None => {}
                    Wrap::Fill => {
                        self.path.close();
                        self.fill_current();
                    }
                    Wrap::Stroke { close } => {
                        if close {
                            self.path.close();
                        }
                        self.stroke_current();
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn command(&mut self, kind: &str, c: &Json, depth: usize) -> Result<(), OpError> {
        match kind {
            "fillStyle" => self.fill = css(c.get("value")).unwrap_or(self.fill),
            "strokeStyle" => self.stroke = css(c.get("value")).unwrap_or(self.stroke),
            "lineWidth" => {
                if let Some(w) = num(c, "value").filter(|w| *w > 0.0) {
                    self.line_width = w;
                }
            }
            "fill" => {
                let old = self.fill;
                if let Some(style) = c.get("fillstyle") {
                    self.fill = css(Some(style)).unwrap_or(self.fill);
                }
                if let Some(items) = c.get("items") {
                    self.thing(items, Wrap::Fill, depth + 1)?;
                }
                self.fill = old;
            }
            "stroke" => {
                let (old, old_width) = (self.stroke, self.line_width);
                if let Some(style) = c.get("strokestyle") {
                    self.stroke = css(Some(style)).unwrap_or(self.stroke);
                }
                if let Some(w) = num(c, "linewidth").filter(|w| *w > 0.0) {
                    self.line_width = w;
                }
                let close = c.get("closepath").and_then(Json::as_bool).unwrap_or(false);
                if let Some(items) = c.get("items") {
                    self.thing(items, Wrap::Stroke { close }, depth + 1)?;
                }
                self.stroke = old;
                self.line_width = old_width;
            }
            "rectangle" => {
                if let Some((x, y, w, h)) = rect(c) {
                    self.move_to(x, y);
                    self.line_to(x + w, y);
                    self.line_to(x + w, y + h);
                    self.line_to(x, y + h);
                    self.line_to(x, y);
                }
            }
            "path" => {
                if let Some(Json::Array(items)) = c.get("items") {
                    for (i, item) in items.iter().enumerate().filter(|(_, i)| !i.is_null()) {
                        self.path_item(item, i, depth + 1)?;
                    }
                }
            }
            "arc" => {
                if let (Some((cx, cy)), Some(r), Some(s), Some(e)) =
                    (point(c, "center"), num(c, "radius"), num(c, "start"), num(c, "end"))
                {
                    let reverse = c.get("reverse").and_then(Json::as_bool).unwrap_or(false);
                    self.arc(cx, cy, r, s, e, reverse);
                }
            }
            "circle" => {
                if let (Some((cx, cy)), Some(r)) = (point(c, "center"), num(c, "radius")) {
                    self.arc(cx, cy, r, 0.0, std::f64::consts::TAU, false);
                }
            }
            "fillRect" | "strokeRect" | "clearRect" => {
                if let Some((x, y, w, h)) = rect(c) {
                    let saved = std::mem::replace(&mut self.path, PathBuilder::new());
                    self.move_to(x, y);
                    self.line_to(x + w, y);
                    self.line_to(x + w, y + h);
                    self.line_to(x, y + h);
                    self.path.close();
                    match kind {
                        "fillRect" => self.fill_current(),
                        "strokeRect" => self.stroke_current(),
                        _ => self.clear_current(),
                    }
                    self.path = saved;
                }
            }
            "group" => {
                if let Some(Json::Array(items)) = c.get("groupables") {
                    for item in items {
                        self.thing(item, Wrap::None, depth + 1)?;
                    }
                }
            }
            "transform" => self.transform(c, 0, depth)?,
            "recurse" => {
                let count = num(c, "count").unwrap_or(0.0).clamp(0.0, 64.0) as usize;
                if let Some(Json::Array(items)) = c.get("recursables") {
                    for t in items.iter().filter(|t| t.get("type").and_then(Json::as_str) == Some("transform")) {
                        self.transform(t, count, depth)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A transform's items drawn under it, then the transform applied again
    /// `recurse` more times, nested.
    fn transform(&mut self, t: &Json, recurse: usize, depth: usize) -> Result<(), OpError> {
        let saved = self.transform;
        if let Some((x, y)) = point(t, "translate") {
            self.transform = self.transform.then([1.0, 0.0, 0.0, 1.0, x, y]);
        }
        if let Some(r) = num(t, "rotate") {
            let (s, c) = r.sin_cos();
            self.transform = self.transform.then([c, s, -s, c, 0.0, 0.0]);
        }
        let both = num(t, "scaleboth").filter(|s| *s != 0.0);
        let scale = both.map(|s| (s, s)).or_else(|| point(t, "scale").filter(|(x, y)| *x != 0.0 && *y != 0.0));
        if let Some((sx, sy)) = scale {
            self.transform = self.transform.then([sx, 0.0, 0.0, sy, 0.0, 0.0]);
        }
        if let Some(items) = t.get("items") {
            self.thing(items, Wrap::None, depth + 1)?;
        }
        if recurse > 0 {
            self.transform(t, recurse - 1, depth + 1)?;
        }
        self.transform = saved;
        Ok(())
    }

    fn path_item(&mut self, item: &Json, i: usize, depth: usize) -> Result<(), OpError> {
        if depth > MAX_DEPTH {
            return Err(OpError::Invalid(format!("drawing commands nest deeper than {MAX_DEPTH}")));
        }
        if let Json::Array(children) = item {
            for (j, child) in children.iter().enumerate() {
                self.path_item(child, j, depth + 1)?;
            }
            return Ok(());
        }
        match item.get("type").and_then(Json::as_str) {
            Some("point") => {
                if let (Some(x), Some(y)) = (num(item, "x"), num(item, "y")) {
                    if i == 0 {
                        self.move_to(x, y);
                    } else {
                        self.line_to(x, y);
                    }
                }
            }
            Some("beziercurve") => {
                if let (Some(c1), Some(c2), Some(e)) =
                    (point(item, "control1"), point(item, "control2"), point(item, "end"))
                {
                    let (a, b, c) = (
                        self.transform.apply(c1.0, c1.1),
                        self.transform.apply(c2.0, c2.1),
                        self.transform.apply(e.0, e.1),
                    );
                    self.ensure_start(a);
                    self.path.cubic_to(a.0, a.1, b.0, b.1, c.0, c.1);
                }
            }
            Some("arc") => self.command("arc", item, depth)?,
            _ => {}
        }
        Ok(())
    }

    fn move_to(&mut self, x: f64, y: f64) {
        let (x, y) = self.transform.apply(x, y);
        self.path.move_to(x, y);
    }

    fn line_to(&mut self, x: f64, y: f64) {
        let p = self.transform.apply(x, y);
        self.ensure_start(p);
        self.path.line_to(p.0, p.1);
    }

    /// A canvas lineTo or curve without a current point starts there.
    fn ensure_start(&mut self, p: (f32, f32)) {
        if self.path.is_empty() {
            self.path.move_to(p.0, p.1);
        }
    }

    /// Canvas `arc()`: a line from the current point to the arc's start, then the
    /// arc as cubic Béziers of at most a quarter turn each.
    fn arc(&mut self, cx: f64, cy: f64, r: f64, start: f64, end: f64, anticlockwise: bool) {
        if r <= 0.0 {
            return;
        }
        let tau = std::f64::consts::TAU;
        let mut sweep = end - start;
        if anticlockwise {
            sweep = if -sweep >= tau { -tau } else { -((start - end).rem_euclid(tau)) };
        } else {
            sweep = if sweep >= tau { tau } else { sweep.rem_euclid(tau) };
        }
        let at = |a: f64| (cx + r * a.cos(), cy + r * a.sin());
        let (sx, sy) = at(start);
        if self.path.is_empty() {
            self.move_to(sx, sy);
        } else {
            self.line_to(sx, sy);
        }
        let segments = (sweep.abs() / (tau / 4.0)).ceil().max(1.0) as usize;
        let step = sweep / segments as f64;
        let k = 4.0 / 3.0 * (step / 4.0).tan();
        let mut a = start;
        for _ in 0..segments {
            let b = a + step;
            let (x0, y0) = at(a);
            let (x3, y3) = at(b);
            let c1 = (x0 - k * r * a.sin(), y0 + k * r * a.cos());
            let c2 = (x3 + k * r * b.sin(), y3 - k * r * b.cos());
            let (p1, p2, p3) =
                (self.transform.apply(c1.0, c1.1), self.transform.apply(c2.0, c2.1), self.transform.apply(x3, y3));
            self.path.cubic_to(p1.0, p1.1, p2.0, p2.1, p3.0, p3.1);
            a = b;
        }
    }

    fn take_path(&mut self) -> Option<tiny_skia::Path> {
        std::mem::replace(&mut self.path, PathBuilder::new()).finish()
    }

    fn fill_current(&mut self) {
        let Some(path) = self.take_path() else { return };
        let mut paint = Paint::default();
        paint.set_color(self.fill);
        paint.anti_alias = true;
        self.pixmap.fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
    }

    fn stroke_current(&mut self) {
        let Some(path) = self.take_path() else { return };
        let mut paint = Paint::default();
        paint.set_color(self.stroke);
        paint.anti_alias = true;
        let stroke = Stroke { width: (self.line_width * self.transform.scale()) as f32, ..Stroke::default() };
        self.pixmap.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
    }

    fn clear_current(&mut self) {
        let Some(path) = self.take_path() else { return };
        let mut paint = Paint::default();
        paint.set_color(SkColor::TRANSPARENT);
        paint.blend_mode = BlendMode::Clear;
        paint.anti_alias = true;
        self.pixmap.fill_path(&path, &paint, FillRule::Winding, Transform::identity(), None);
    }
}

/// The command types painted; any other object is skipped, as noflo-canvas did.
const KNOWN: &[&str] = &[
    "fillStyle",
    "strokeStyle",
    "lineWidth",
    "fill",
    "stroke",
    "rectangle",
    "path",
    "arc",
    "circle",
    "fillRect",
    "strokeRect",
    "clearRect",
    "group",
    "transform",
    "recurse",
];

fn rect(c: &Json) -> Option<(f64, f64, f64, f64)> {
    let (x, y) = point(c, "point")?;
    Some((x, y, num(c, "width")?, num(c, "height")?))
}

fn premultiply(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        if a != 255 {
            for c in &mut px[..3] {
                *c = ((u16::from(*c) * a + 127) / 255) as u8;
            }
        }
    }
}

fn demultiply(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        if a != 255 && a != 0 {
            for c in &mut px[..3] {
                *c = ((u16::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}
