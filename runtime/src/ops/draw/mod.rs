//! 2D drawing on a canvas, with the components and the command objects of
//! noflo-canvas, so that NoFlo's generative graphs (the original `canvas` and
//! `delaunay_triangles`) run unchanged.
//!
//! Shape builders (`canvas/MakePoint`, `canvas/Fill`, ...) turn their inputs into
//! command objects (`{"type": "rectangle", "point": ..., "width": ...}`);
//! `canvas/Draw` paints a list of them onto its canvas, an image, with
//! tiny-skia (see `paint`). A canvas is an ordinary image, so a photo can be drawn
//! on and any image component can follow.
//!
//! Builders are "arrayable" as in noflo-canvas: when one property is an array, the
//! builder makes an array of shapes as long as the longest array, each taking the
//! i-th value of every array property (a shorter array repeats from its start) and
//! every plain property as it is.

mod paint;

use serde_json::{json, Map, Value as Json};

use super::{ComponentSpec, OpError, Operation, Outputs, Registry, RunContext};
use crate::ops::Inputs;
use crate::pixels::Image;
use crate::value::{PortSpec, PortType, Value};

pub use paint::draw;

/// A blank canvas when a generative graph has no input, as the original server
/// made one.
pub const DEFAULT_CANVAS: (u32, u32) = (600, 400);

pub fn register(reg: &mut Registry) {
    reg.add(CreateCanvas { spec: create_canvas_spec() });
    reg.add(DrawOp { spec: draw_spec() });
    let shapes: Vec<(&'static str, &'static str, &'static str, &'static str, Vec<Prop>)> = vec![
        ("canvas/MakePoint", "point", "crosshairs", "Creates a point or points", vec![req("x"), req("y")]),
        (
            "canvas/MakeRectangle",
            "rectangle",
            "square-o",
            "Creates a rectangle or rectangles",
            vec![req("point"), req("width"), req("height")],
        ),
        ("canvas/MakeCircle", "circle", "circle-o", "Creates a circle or circles", vec![req("center"), req("radius")]),
        (
            "canvas/MakeArc",
            "arc",
            "power-off",
            "Creates an arc or arcs (angles in radians)",
            vec![req("center"), req("radius"), req("start"), req("end"), with_default("reverse", json!(false))],
        ),
        (
            "canvas/MakeBezierCurve",
            "beziercurve",
            "bezier-curve",
            "Creates a cubic Bézier curve segment for a path",
            vec![req("control1"), req("control2"), req("end")],
        ),
        ("canvas/MakePath", "path", "star-o", "Makes a path of points, arcs and curves", vec![many("items")]),
        (
            "canvas/MakeRGBColor",
            "color",
            "tint",
            "Creates CSS rgb()/rgba() colours from red, green, blue (0-255) and alpha (0-1)",
            vec![req("red"), req("green"), req("blue"), opt("alpha")],
        ),
        ("canvas/Fill", "fill", "square", "Fills the received paths, rectangles, circles and arcs", {
            vec![many("items"), opt("fillstyle")]
        }),
        (
            "canvas/Stroke",
            "stroke",
            "square-o",
            "Strokes lines of paths, rectangles, circles and arcs",
            vec![many("items"), opt("strokestyle"), opt("linewidth"), with_default("closepath", json!(false))],
        ),
        ("canvas/FillRect", "fillRect", "pencil-square", "Fills a rectangle", {
            vec![req("point"), req("width"), req("height")]
        }),
        ("canvas/StrokeRect", "strokeRect", "pencil-square-o", "Strokes a rectangle", {
            vec![req("point"), req("width"), req("height")]
        }),
        ("canvas/ClearRect", "clearRect", "eraser", "Clears a rectangle to transparent", {
            vec![req("point"), req("width"), req("height")]
        }),
        ("canvas/FillStyle", "fillStyle", "tint", "Sets the fill colour for what follows", vec![req("value")]),
        ("canvas/StrokeStyle", "strokeStyle", "tint", "Sets the stroke colour for what follows", vec![req("value")]),
        ("canvas/LineWidth", "lineWidth", "minus", "Sets the line width for what follows", vec![req("value")]),
    ];
    for (name, kind, icon, description, props) in shapes {
        reg.add(ShapeOp::new(name, kind, icon, description, props));
    }
}

/// A property of a shape builder.
struct Prop {
    name: &'static str,
    required: bool,
    /// An array port: each connection (or index) gives one element.
    addressable: bool,
    default: Option<Json>,
}

fn req(name: &'static str) -> Prop {
    Prop { name, required: true, addressable: false, default: None }
}
fn opt(name: &'static str) -> Prop {
    Prop { name, required: false, addressable: false, default: None }
}
fn many(name: &'static str) -> Prop {
    Prop { name, required: true, addressable: true, default: None }
}
fn with_default(name: &'static str, default: Json) -> Prop {
    Prop { name, required: false, addressable: false, default: Some(default) }
}

/// A noflo-canvas shape builder: its inputs become one command object, or an array
/// of them when an input is an array.
struct ShapeOp {
    spec: ComponentSpec,
    kind: &'static str,
    props: Vec<Prop>,
}

impl ShapeOp {
    fn new(
        name: &'static str,
        kind: &'static str,
        icon: &'static str,
        description: &'static str,
        props: Vec<Prop>,
    ) -> ShapeOp {
        let inports = props
            .iter()
            .map(|p| {
                let mut port = PortSpec::message(p.name, prop_description(p.name));
                port.addressable = p.addressable;
                port.default = p.default.clone().map(Value::Json);
                port
            })
            .collect();
        let outports = vec![PortSpec::message(kind, "The shape (or shapes) made")];
        ShapeOp { spec: ComponentSpec { name, description, icon, inports, outports }, kind, props }
    }
}

fn prop_description(name: &str) -> &'static str {
    match name {
        "x" | "y" => "Coordinate in pixels (a number, or an array of numbers)",
        "point" => "Top-left point",
        "center" => "Centre point",
        "width" | "height" => "Size in pixels",
        "radius" => "Radius in pixels",
        "start" | "end" => "Angle in radians, or end point of a curve",
        "reverse" => "Anticlockwise",
        "control1" | "control2" => "Control point",
        "items" => "Shapes (paths, rectangles, circles, arcs), or points and curves of a path",
        "red" | "green" | "blue" => "Channel, 0 to 255",
        "alpha" => "Opacity, 0 to 1",
        "fillstyle" | "strokestyle" | "value" => "CSS colour, or a width for lineWidth",
        "linewidth" => "Line width in pixels",
        "closepath" => "Draw a line back to the start",
        _ => "Shape property",
    }
}

impl Operation for ShapeOp {
    fn spec(&self) -> &ComponentSpec {
        &self.spec
    }
    fn run(&self, inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
        let mut props = Map::new();
        props.insert("type".into(), json!(self.kind));
        for p in &self.props {
            match inputs.get(p.name).map(Value::to_json) {
                Some(v) if p.addressable => {
                    let Json::Array(elements) = v else { return Ok(Outputs::none()) };
                    if elements.is_empty() || elements.iter().any(Json::is_null) {
                        return Ok(Outputs::none());
                    }
                    props.insert(p.name.into(), Json::Array(elements));
                }
                Some(v) => {
                    props.insert(p.name.into(), v);
                }
                None if p.required => return Ok(Outputs::none()),
                None => {}
            }
        }
        let made = match self.kind {
            "color" => make_colors(props),
            "path" => make_path(props),
            _ => {
                for p in self.props.iter().filter(|p| p.addressable) {
                    let elements = props.remove(p.name).unwrap_or_default();
                    props.insert(p.name.into(), zip_elements(elements)?);
                }
                expand(Json::Object(props))
            }
        };
        Ok(match made {
            Some(v) => Outputs(vec![(self.kind, Value::Json(v))]),
            None => Outputs::none(),
        })
    }
}

/// noflo-canvas's expansion of an object (or array) whose values may be arrays:
/// None when a value is null or an empty array; the value itself when none is an
/// array; else one element per index up to the longest array.
fn expand(value: Json) -> Option<Json> {
    let entries: Vec<(Option<String>, Json)> = match value {
        Json::Object(m) => m.into_iter().map(|(k, v)| (Some(k), v)).collect(),
        Json::Array(a) => a.into_iter().map(|v| (None, v)).collect(),
        other => return Some(other),
    };
    let mut longest = 0;
    for (_, v) in &entries {
        match v {
            Json::Null => return None,
            Json::Array(a) if a.is_empty() => return None,
            Json::Array(a) => longest = longest.max(a.len()),
            _ => {}
        }
    }
    let is_object = entries.first().is_some_and(|(k, _)| k.is_some());
    let pick = |v: &Json, i: usize| match v {
        Json::Array(a) => a[i % a.len()].clone(),
        other => other.clone(),
    };
    if longest == 0 {
        return Some(rebuild(is_object, entries));
    }
    let out = (0..longest)
        .map(|i| rebuild(is_object, entries.iter().map(|(k, v)| (k.clone(), pick(v, i))).collect()))
        .collect();
    Some(Json::Array(out))
}

fn rebuild(is_object: bool, entries: Vec<(Option<String>, Json)>) -> Json {
    if is_object {
        Json::Object(entries.into_iter().map(|(k, v)| (k.unwrap_or_default(), v)).collect())
    } else {
        Json::Array(entries.into_iter().map(|(_, v)| v).collect())
    }
}

/// The elements of an array port, expanded (one array of shapes per connection
/// becomes one element per shape).
fn zip_elements(elements: Json) -> Result<Json, OpError> {
    expand(elements).ok_or_else(|| OpError::Invalid("an array port received an empty array".into()))
}

fn make_colors(props: Map<String, Json>) -> Option<Json> {
    let any_array = props.values().any(Json::is_array);
    if !any_array {
        return Some(json!(css_color(&Json::Object(props))?));
    }
    match expand(Json::Object(props))? {
        Json::Array(items) => {
            items.iter().map(|c| css_color(c).map(Json::String)).collect::<Option<Vec<_>>>().map(Json::Array)
        }
        other => css_color(&other).map(Json::String),
    }
}

/// `rgb(r, g, b)` or `rgba(r, g, b, a)`, channels rounded as noflo-canvas did.
fn css_color(c: &Json) -> Option<String> {
    let channel = |k: &str| paint::number(c.get(k)?).map(|v| v.round());
    let (r, g, b) = (channel("red")?, channel("green")?, channel("blue")?);
    Some(match c.get("alpha").and_then(paint::number) {
        Some(a) => format!("rgba({r}, {g}, {b}, {a})"),
        None => format!("rgb({r}, {g}, {b})"),
    })
}

/// MakePath: points and curves in connection order; one array of points makes one
/// path of them; several arrays make one path per index.
fn make_path(props: Map<String, Json>) -> Option<Json> {
    let Some(Json::Array(items)) = props.get("items").cloned() else { return None };
    let arrays = items.iter().filter(|i| i.is_array()).count();
    if arrays == 0 {
        Some(json!({"type": "path", "items": items}))
    } else if items.len() == 1 {
        Some(json!({"type": "path", "items": items[0]}))
    } else {
        expand(json!({"type": "path", "items": expand(Json::Array(items))?}))
    }
}

fn create_canvas_spec() -> ComponentSpec {
    ComponentSpec {
        name: "canvas/CreateCanvas",
        description: "Makes a blank (transparent) canvas of the given size",
        icon: "pencil-square",
        inports: vec![
            PortSpec::int("width", i64::from(DEFAULT_CANVAS.0), 1, 100_000, "Width in pixels"),
            PortSpec::int("height", i64::from(DEFAULT_CANVAS.1), 1, 100_000, "Height in pixels"),
        ],
        outports: vec![PortSpec { ty: PortType::Buffer, ..PortSpec::buffer("canvas") }],
    }
}

struct CreateCanvas {
    spec: ComponentSpec,
}

impl Operation for CreateCanvas {
    fn spec(&self) -> &ComponentSpec {
        &self.spec
    }
    fn run(&self, inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
        let (w, h) = (inputs.int("width") as u32, inputs.int("height") as u32);
        Ok(Outputs(vec![("canvas", Value::Image(std::sync::Arc::new(blank_canvas(w, h, ctx)?)))]))
    }
}

/// A transparent canvas, checked against the pixel limit.
pub fn blank_canvas(width: u32, height: u32, ctx: &RunContext) -> Result<Image, OpError> {
    ctx.check_size(u64::from(width), u64::from(height))?;
    Image::from_rgba8(width, height, vec![0; width as usize * height as usize * 4])
        .map_err(|e| OpError::Invalid(e.to_string()))
}

fn draw_spec() -> ComponentSpec {
    let mut commands = PortSpec::message("commands", "Drawing commands (fills, strokes, ...), drawn in index order");
    commands.addressable = true;
    ComponentSpec {
        name: "canvas/Draw",
        description: "Draws the received drawing commands onto the canvas",
        icon: "pencil",
        inports: vec![
            PortSpec::buffer("canvas"),
            commands,
            PortSpec::message("tick", "Draw now (drawing happens whenever canvas and commands are there)"),
            PortSpec::boolean("drawevery", false, "Draw on every new command (always, in a one-shot evaluation)"),
            PortSpec::boolean("clearevery", false, "Clear the canvas to transparent before drawing"),
        ],
        outports: vec![PortSpec::buffer("canvas")],
    }
}

struct DrawOp {
    spec: ComponentSpec,
}

impl Operation for DrawOp {
    fn spec(&self) -> &ComponentSpec {
        &self.spec
    }
    fn run(&self, inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
        let canvas = inputs.require_image("canvas")?;
        let commands = inputs.get("commands").map(Value::to_json).unwrap_or(Json::Null);
        let out = draw(canvas, &commands, inputs.bool("clearevery"), ctx)?;
        Ok(Outputs(vec![("canvas", Value::Image(std::sync::Arc::new(out)))]))
    }
}

#[cfg(test)]
mod tests;
