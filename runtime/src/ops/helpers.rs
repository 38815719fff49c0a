//! The NoFlo helper components that generative (canvas) graphs use, with the
//! names and ports of the NoFlo libraries they come from: `core/Split`,
//! `objects/ExtractProperty`, `math/Add`, `strings/SubStr`, `md5/CalculateHash`,
//! `seedrandom/RandomArray` and `geometry/Delaunay`.
//!
//! In NoFlo these fire when their inputs have arrived; here each runs once its
//! required inputs have values and produces nothing otherwise, so a node whose
//! inputs never arrive is idle, as it would be in NoFlo.

use md5::{Digest, Md5};
use serde_json::{json, Value as Json};

use super::{ComponentSpec, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::seedrandom::SeedRandom;
use crate::value::{PortSpec, PortType, Value};

/// Largest array `seedrandom/RandomArray` makes (an IIP of 10^9 must not take the
/// machine's memory).
pub const MAX_RANDOM_COUNT: i64 = 100_000;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: spec(
            "core/Split",
            "Sends each packet it receives to every connection of its outport",
            "expand",
            vec![PortSpec::message("in", "Packet to send on")],
            vec![PortSpec::message("out", "The same packet, to every connection")],
        ),
        run: |inputs, _| Ok(forward(inputs, "in", "out")),
    });
    reg.add(FnOp {
        spec: spec(
            "objects/ExtractProperty",
            "Given a key, sends the value of that property of the incoming object (an image has width and height)",
            "arrow-right",
            vec![
                PortSpec::message("in", "An object to extract the property from"),
                optional_string("key", "Property name"),
            ],
            vec![PortSpec::message("out", "Value of the property")],
        ),
        run: run_extract_property,
    });
    reg.add(FnOp {
        spec: spec(
            "math/Add",
            "Adds two numbers",
            "plus",
            vec![optional_number("augend", "First number"), optional_number("addend", "Second number")],
            vec![PortSpec { ty: PortType::Number, ..PortSpec::message("sum", "augend + addend") }],
        ),
        run: run_add,
    });
    reg.add(FnOp {
        spec: spec(
            "strings/SubStr",
            "Produces a substring: limit characters from index (JavaScript substr)",
            "scissors",
            vec![
                optional_string("in", "String to extract a part from"),
                PortSpec::int(
                    "index",
                    0,
                    -1_000_000,
                    1_000_000,
                    "Index of the first character (negative: from the end)",
                ),
                PortSpec {
                    default: None,
                    ..PortSpec::int("limit", 0, 0, 1_000_000, "Number of characters (all when not given)")
                },
            ],
            vec![PortSpec { ty: PortType::String, ..PortSpec::message("out", "The substring") }],
        ),
        run: run_substr,
    });
    reg.add(FnOp {
        spec: spec(
            "md5/CalculateHash",
            "MD5 hash of a string, as 32 lowercase hex digits",
            "lock",
            vec![optional_string("in", "String to hash")],
            vec![PortSpec { ty: PortType::String, ..PortSpec::message("hash", "Hex digest") }],
        ),
        run: run_md5,
    });
    reg.add(FnOp {
        spec: spec(
            "seedrandom/RandomArray",
            "count random numbers between min and max, the same for the same seed (the JavaScript seedrandom sequence)",
            "random",
            vec![
                PortSpec::string("seed", Some(""), "Seed string"),
                optional_number("min", "Smallest value"),
                optional_number("max", "Largest value (exclusive)"),
                PortSpec { default: None, ..PortSpec::int("count", 1, 1, MAX_RANDOM_COUNT, "How many numbers") },
            ],
            vec![PortSpec::message("numbers", "The numbers (one number when count is 1)")],
        ),
        run: run_random_array,
    });
    reg.add(FnOp {
        spec: spec(
            "geometry/Delaunay",
            "Delaunay triangulation of points: one closed path per triangle",
            "toggle-up",
            vec![PortSpec::message("points", "Points ({x, y} objects)")],
            vec![PortSpec::message("paths", "Triangles as paths of three points")],
        ),
        run: run_delaunay,
    });
}

fn spec(
    name: &'static str,
    description: &'static str,
    icon: &'static str,
    inports: Vec<PortSpec>,
    outports: Vec<PortSpec>,
) -> ComponentSpec {
    ComponentSpec { name, description, icon, inports, outports }
}

fn optional_string(name: &'static str, description: &'static str) -> PortSpec {
    PortSpec::string(name, None, description)
}

fn optional_number(name: &'static str, description: &'static str) -> PortSpec {
    PortSpec { default: None, minimum: None, maximum: None, ..PortSpec::number(name, 0.0, 0.0, 0.0, description) }
}

fn forward(inputs: &Inputs, from: &str, to: &'static str) -> Outputs {
    match inputs.get(from) {
        Some(v) => Outputs(vec![(to, v.clone())]),
        None => Outputs::none(),
    }
}

/// A value read as a number as JavaScript's `Number()` would for the values graphs
/// send: numbers, booleans and numeric strings.
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s.trim().parse().ok(),
        Value::Json(Json::Number(n)) => n.as_f64(),
        Value::Json(Json::String(s)) => s.trim().parse().ok(),
        Value::Json(Json::Bool(b)) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// A value read as text (strings as they are, anything else as its JSON).
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) | Value::Json(Json::String(s)) => s.clone(),
        other => other.to_json().to_string(),
    }
}

fn run_extract_property(inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
    let (Some(object), Some(key)) = (inputs.get("in"), inputs.get("key").map(as_text)) else {
        return Ok(Outputs::none());
    };
    let value = match object {
        Value::Image(img) => match key.as_str() {
            "width" => Some(Value::Int(i64::from(img.width()))),
            "height" => Some(Value::Int(i64::from(img.height()))),
            _ => None,
        },
        Value::Json(Json::Object(map)) => map.get(&key).cloned().map(Value::Json),
        Value::Json(Json::Array(items)) => {
            key.parse::<usize>().ok().and_then(|i| items.get(i)).cloned().map(Value::Json)
        }
        _ => None,
    };
    Ok(match value {
        Some(v) => Outputs(vec![("out", v)]),
        None => Outputs::none(),
    })
}

fn run_add(inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
    let a = inputs.get("augend").and_then(as_number);
    let b = inputs.get("addend").and_then(as_number);
    Ok(match (a, b) {
        (Some(a), Some(b)) => Outputs(vec![("sum", Value::Number(a + b))]),
        _ => Outputs::none(),
    })
}

/// JavaScript's `substr(index, limit)` on characters.
pub fn substr(s: &str, index: i64, limit: Option<i64>) -> String {
    let len = s.chars().count() as i64;
    let start = if index < 0 { (len + index).max(0) } else { index.min(len) };
    let count = limit.unwrap_or(len - start).clamp(0, len - start);
    s.chars().skip(start as usize).take(count as usize).collect()
}

fn run_substr(inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
    let Some(text) = inputs.get("in").map(as_text) else { return Ok(Outputs::none()) };
    let limit = inputs.get("limit").and_then(as_number).map(|v| v as i64);
    Ok(Outputs(vec![("out", Value::String(substr(&text, inputs.int("index"), limit)))]))
}

fn run_md5(inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
    let Some(text) = inputs.get("in").map(as_text) else { return Ok(Outputs::none()) };
    let digest = Md5::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Outputs(vec![("hash", Value::String(hex))]))
}

fn run_random_array(inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
    let num = |p| inputs.get(p).and_then(as_number);
    let (Some(min), Some(max), Some(count)) = (num("min"), num("max"), num("count")) else {
        return Ok(Outputs::none());
    };
    let count = count as i64;
    if count < 1 {
        return Ok(Outputs::none());
    }
    if count > MAX_RANDOM_COUNT {
        return Err(OpError::Invalid(format!("count {count} is over the limit of {MAX_RANDOM_COUNT}")));
    }
    let mut rng = SeedRandom::new(&inputs.get("seed").map(as_text).unwrap_or_default());
    let spread = max - min;
    let mut draw = || json!(min + rng.next_f64() * spread);
    let numbers = if count == 1 { draw() } else { Json::Array((0..count).map(|_| draw()).collect()) };
    Ok(Outputs(vec![("numbers", Value::Json(numbers))]))
}

fn point_json(x: f64, y: f64) -> Json {
    json!({"type": "point", "x": number_json_f(x), "y": number_json_f(y)})
}

fn number_json_f(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
}

fn run_delaunay(inputs: &Inputs, _: &RunContext) -> Result<Outputs, OpError> {
    let Some(Value::Json(Json::Array(items))) = inputs.get("points") else { return Ok(Outputs::none()) };
    let mut points = Vec::with_capacity(items.len());
    for item in items {
        let coord = |k: &str| item.get(k).and_then(Json::as_f64);
        match (coord("x"), coord("y")) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => points.push(delaunator::Point { x, y }),
            _ => return Err(OpError::Invalid(format!("not a point: {item}"))),
        }
    }
    if points.len() < 3 {
        return Ok(Outputs::none());
    }
    let triangulation = delaunator::triangulate(&points);
    let paths: Vec<Json> = triangulation
        .triangles
        .chunks_exact(3)
        .map(|t| {
            let items: Vec<Json> = t.iter().map(|&i| point_json(points[i].x, points[i].y)).collect();
            json!({"type": "path", "items": items})
        })
        .collect();
    Ok(Outputs(vec![("paths", Value::Json(Json::Array(paths)))]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Image;
    use std::sync::Arc;

    fn run(name: &str, values: Vec<(&'static str, Value)>) -> Outputs {
        let op = Registry::builtin().get(name).unwrap();
        let mut inputs = Inputs::defaults(op.spec());
        for (p, v) in values {
            inputs.set(p, v);
        }
        op.run(&inputs, &RunContext::default()).unwrap()
    }

    #[test]
    fn split_forwards_any_packet_and_waits_for_one() {
        for v in [Value::Json(json!({"a": [1, 2]})), Value::Int(3), Value::String("s".into())] {
            let out = run("core/Split", vec![("in", v.clone())]);
            assert_eq!(out.get("out").map(Value::to_json), Some(v.to_json()));
        }
        let img = Arc::new(Image::from_rgba8(1, 1, vec![1, 2, 3, 4]).unwrap());
        let out = run("core/Split", vec![("in", Value::Image(img.clone()))]);
        assert!(Arc::ptr_eq(out.get("out").unwrap().as_image().unwrap(), &img), "images are shared, not copied");
        assert!(run("core/Split", vec![]).0.is_empty());
    }

    #[test]
    fn extract_property_reads_image_sizes_and_object_keys() {
        let img = Arc::new(Image::from_rgba8(3, 2, vec![0; 24]).unwrap());
        let out =
            run("objects/ExtractProperty", vec![("in", Value::Image(img)), ("key", Value::String("height".into()))]);
        assert!(matches!(out.get("out"), Some(Value::Int(2))));
        let out = run(
            "objects/ExtractProperty",
            vec![("in", Value::Json(json!({"a": {"b": 1}}))), ("key", Value::String("a".into()))],
        );
        assert_eq!(out.get("out").unwrap().to_json(), json!({"b": 1}));
        let out =
            run("objects/ExtractProperty", vec![("in", Value::Json(json!({}))), ("key", Value::String("a".into()))]);
        assert!(out.0.is_empty(), "a missing property sends nothing");
    }

    #[test]
    fn add_needs_both_numbers() {
        let out = run("math/Add", vec![("augend", Value::Int(600)), ("addend", Value::Json(json!(200)))]);
        assert!(matches!(out.get("sum"), Some(Value::Number(v)) if *v == 800.0));
        assert!(run("math/Add", vec![("augend", Value::Int(1))]).0.is_empty());
    }

    #[test]
    fn substr_follows_javascript() {
        assert_eq!(substr("3858f62230ac", 0, Some(5)), "3858f");
        assert_eq!(substr("abcdef", 2, None), "cdef");
        assert_eq!(substr("abcdef", -2, None), "ef");
        assert_eq!(substr("abcdef", 4, Some(10)), "ef");
        assert_eq!(substr("abcdef", 9, Some(2)), "");
        assert_eq!(substr("abcdef", 1, Some(-1)), "");
        let out = run(
            "strings/SubStr",
            vec![("in", Value::String("hello".into())), ("index", Value::Int(1)), ("limit", Value::Int(3))],
        );
        assert_eq!(out.get("out").unwrap().to_json(), json!("ell"));
    }

    #[test]
    fn md5_is_hex() {
        let out = run("md5/CalculateHash", vec![("in", Value::String("foobar".into()))]);
        assert_eq!(out.get("hash").unwrap().to_json(), json!("3858f62230ac3c915f300c664312c63f"));
    }

    #[test]
    fn random_array_gives_the_javascript_numbers() {
        // seedrandom(md5("foobar")) scaled to [-200, 300), as Node printed it.
        let out = run(
            "seedrandom/RandomArray",
            vec![
                ("seed", Value::String("3858f62230ac3c915f300c664312c63f".into())),
                ("min", Value::Int(-200)),
                ("max", Value::Number(300.0)),
                ("count", Value::Int(3)),
            ],
        );
        assert_eq!(
            out.get("numbers").unwrap().to_json(),
            json!([53.10330213415722, 63.809471775769794, 217.8550060149309])
        );
        let one = run(
            "seedrandom/RandomArray",
            vec![("min", Value::Int(0)), ("max", Value::Int(1)), ("count", Value::Int(1))],
        );
        assert_eq!(one.get("numbers").unwrap().to_json(), json!(0.23144008215179881), "count 1 sends a number");
        assert!(run("seedrandom/RandomArray", vec![("min", Value::Int(0))]).0.is_empty());
    }

    #[test]
    fn delaunay_triangulates_a_square_into_two_triangles() {
        let pts = json!([
            {"type": "point", "x": 0, "y": 0}, {"type": "point", "x": 10, "y": 0},
            {"type": "point", "x": 10, "y": 10}, {"type": "point", "x": 0, "y": 11}
        ]);
        let out = run("geometry/Delaunay", vec![("points", Value::Json(pts))]);
        let paths = out.get("paths").unwrap().to_json();
        let paths = paths.as_array().unwrap();
        assert_eq!(paths.len(), 2);
        for p in paths {
            assert_eq!(p["type"], "path");
            assert_eq!(p["items"].as_array().unwrap().len(), 3);
        }
        assert!(run("geometry/Delaunay", vec![("points", Value::Json(json!([{"x": 0, "y": 0}])))]).0.is_empty());
        let bad = Registry::builtin().get("geometry/Delaunay").unwrap();
        let mut inputs = Inputs::new();
        inputs.set("points", Value::Json(json!([{"x": "a"}, {"x": 1, "y": 2}, {"x": 3, "y": 4}])));
        assert!(bad.run(&inputs, &RunContext::default()).is_err());
    }
}
