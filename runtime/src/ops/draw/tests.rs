use std::sync::Arc;

use serde_json::json;

use super::*;

fn run(name: &str, values: Vec<(&'static str, Value)>) -> Outputs {
    let op = Registry::builtin().get(name).unwrap();
    let mut inputs = Inputs::defaults(op.spec());
    for (p, v) in values {
        inputs.set(p, v);
    }
    op.run(&inputs, &RunContext::default()).unwrap()
}

fn j(v: Json) -> Value {
    Value::Json(v)
}

fn pixel(img: &Image, x: u32, y: u32) -> [u8; 4] {
    let data = img.to_rgba8();
    let i = ((y * img.width() + x) * 4) as usize;
    [data[i], data[i + 1], data[i + 2], data[i + 3]]
}

fn canvas(w: u32, h: u32) -> Arc<Image> {
    Arc::new(blank_canvas(w, h, &RunContext::default()).unwrap())
}

#[test]
fn builders_make_command_objects() {
    let out = run("canvas/MakePoint", vec![("x", j(json!(1))), ("y", j(json!(2)))]);
    assert_eq!(out.get("point").unwrap().to_json(), json!({"type": "point", "x": 1, "y": 2}));
    // A missing required property: nothing yet.
    assert!(run("canvas/MakePoint", vec![("x", j(json!(1)))]).0.is_empty());
}

#[test]
fn array_properties_expand_and_shorter_arrays_repeat() {
    let out = run("canvas/MakePoint", vec![("x", j(json!([1, 2, 3]))), ("y", j(json!([10, 20])))]);
    assert_eq!(
        out.get("point").unwrap().to_json(),
        json!([
            {"type": "point", "x": 1, "y": 10},
            {"type": "point", "x": 2, "y": 20},
            {"type": "point", "x": 3, "y": 10}
        ])
    );
    assert!(run("canvas/MakePoint", vec![("x", j(json!([]))), ("y", j(json!(1)))]).0.is_empty());
}

#[test]
fn colours_are_css_strings() {
    let out = run(
        "canvas/MakeRGBColor",
        vec![("red", j(json!(10.4))), ("green", j(json!(20.6))), ("blue", j(json!(30))), ("alpha", j(json!(0.9)))],
    );
    assert_eq!(out.get("color").unwrap().to_json(), json!("rgba(10, 21, 30, 0.9)"));
    let out =
        run("canvas/MakeRGBColor", vec![("red", j(json!([255, 0]))), ("green", j(json!(0))), ("blue", j(json!(0)))]);
    assert_eq!(out.get("color").unwrap().to_json(), json!(["rgb(255, 0, 0)", "rgb(0, 0, 0)"]));
}

#[test]
fn fill_of_many_paths_cycles_its_colours() {
    let paths = json!([{"type": "path", "items": []}, {"type": "path", "items": []}, {"type": "path", "items": []}]);
    let out = run("canvas/Fill", vec![("items", j(json!([paths]))), ("fillstyle", j(json!(["red", "blue"])))]);
    let fills = out.get("fill").unwrap().to_json();
    let styles: Vec<_> = fills.as_array().unwrap().iter().map(|f| f["fillstyle"].clone()).collect();
    assert_eq!(styles, vec![json!("red"), json!("blue"), json!("red")]);
    assert_eq!(fills[1]["items"], json!([{"type": "path", "items": []}]));
}

#[test]
fn the_canvas_graph_covers_the_canvas_with_its_colour() {
    let rect = json!({"type": "rectangle", "point": {"type": "point", "x": 0, "y": 0}, "width": 60, "height": 40});
    let fill = run("canvas/Fill", vec![("items", j(json!([rect]))), ("fillstyle", j(json!("#87a9a7")))]);
    let out = run(
        "canvas/Draw",
        vec![
            ("canvas", Value::Image(canvas(60, 40))),
            ("commands", j(json!([fill.get("fill").unwrap().to_json()]))),
            ("clearevery", Value::Bool(true)),
        ],
    );
    let img = out.get("canvas").unwrap().as_image().unwrap().clone();
    for (x, y) in [(0, 0), (59, 39), (30, 20)] {
        assert_eq!(pixel(&img, x, y), [0x87, 0xa9, 0xa7, 255]);
    }
}

#[test]
fn shapes_paint_where_they_are_and_nowhere_else() {
    let circle = json!({"type": "circle", "center": {"x": 20, "y": 20}, "radius": 10});
    let tri = json!({"type": "path", "items": [{"type": "point", "x": 30, "y": 0}, {"type": "point", "x": 40, "y": 0}, {"type": "point", "x": 30, "y": 10}]});
    let commands = json!([
        {"type": "fill", "items": [circle, tri], "fillstyle": "rgba(255, 0, 0, 0.5)"},
        {"type": "stroke", "items": [{"type": "rectangle", "point": {"x": 2, "y": 2}, "width": 5, "height": 5}], "strokestyle": "#00f", "linewidth": 2},
        {"type": "fillRect", "point": {"x": 45, "y": 30}, "width": 5, "height": 5}
    ]);
    let img = draw(&canvas(50, 40), &commands, false, &RunContext::default()).unwrap();
    assert_eq!(pixel(&img, 20, 20), [255, 0, 0, 128], "inside the circle, half opaque");
    assert_eq!(pixel(&img, 20, 35)[3], 0, "outside the circle");
    assert_eq!(pixel(&img, 32, 2), [255, 0, 0, 128], "inside the triangle");
    assert_eq!(pixel(&img, 38, 8)[3], 0, "beyond the triangle's hypotenuse");
    assert_eq!(pixel(&img, 2, 4), [0, 0, 255, 255], "on the stroked edge");
    assert_eq!(pixel(&img, 4, 4)[3], 0, "stroke leaves the inside empty");
    assert_eq!(pixel(&img, 47, 32), [0, 0, 0, 255], "fillRect in the default black");
}

#[test]
fn drawing_over_a_photo_keeps_what_is_not_covered() {
    let photo = Arc::new(Image::from_rgb8(4, 4, vec![200; 48]).unwrap());
    let commands = json!({"type": "fillRect", "point": {"x": 0, "y": 0}, "width": 2, "height": 4, "fillstyle": "x"});
    let img = draw(&photo, &json!([{"type": "fillStyle", "value": "#fff"}, commands]), false, &RunContext::default())
        .unwrap();
    assert_eq!(pixel(&img, 0, 0), [255, 255, 255, 255]);
    assert_eq!(pixel(&img, 3, 3), [200, 200, 200, 255]);
    let cleared = draw(&photo, &json!([]), true, &RunContext::default()).unwrap();
    assert_eq!(pixel(&cleared, 3, 3), [0, 0, 0, 0]);
}

#[test]
fn invalid_colours_are_ignored_and_transforms_move_shapes() {
    let commands = json!([
        {"type": "fillStyle", "value": "#0f0"},
        {"type": "fillStyle", "value": "not a colour"},
        {"type": "transform", "translate": {"x": 10, "y": 0}, "items": [
            {"type": "fillRect", "point": {"x": 0, "y": 0}, "width": 2, "height": 2}
        ]}
    ]);
    let img = draw(&canvas(20, 4), &commands, false, &RunContext::default()).unwrap();
    assert_eq!(pixel(&img, 10, 1), [0, 255, 0, 255]);
    assert_eq!(pixel(&img, 1, 1)[3], 0);
}

#[test]
fn hostile_commands_are_refused_not_crashing() {
    let mut deep = json!({"type": "fillRect", "point": {"x": 0, "y": 0}, "width": 1, "height": 1});
    for _ in 0..200 {
        deep = json!([deep]);
    }
    assert!(draw(&canvas(2, 2), &deep, false, &RunContext::default()).is_err());
    let weird = json!([1, "x", null, {"type": "nope"}, {"type": "fillRect", "point": {"x": "a"}}, {"type": "circle", "radius": -1, "center": {"x": 0, "y": 0}}]);
    assert!(draw(&canvas(2, 2), &weird, false, &RunContext::default()).is_ok());
}

#[test]
fn paths_join_points_and_arrays_of_points() {
    let p = |x: i32, y: i32| json!({"type": "point", "x": x, "y": y});
    // Points on separate connections: one path through them in order.
    let out = run("canvas/MakePath", vec![("items", j(json!([p(0, 0), p(4, 0), p(0, 4)])))]);
    assert_eq!(out.get("path").unwrap().to_json(), json!({"type": "path", "items": [p(0, 0), p(4, 0), p(0, 4)]}));
    // One array of points: one path of them.
    let out = run("canvas/MakePath", vec![("items", j(json!([[p(0, 0), p(1, 1)]])))]);
    assert_eq!(out.get("path").unwrap().to_json()["items"], json!([p(0, 0), p(1, 1)]));
    // Two arrays: one path per index.
    let out = run("canvas/MakePath", vec![("items", j(json!([[p(0, 0), p(1, 1)], [p(5, 5), p(6, 6)]])))]);
    let paths = out.get("path").unwrap().to_json();
    assert_eq!(paths.as_array().unwrap().len(), 2);
    assert_eq!(paths[1]["items"], json!([p(1, 1), p(6, 6)]));
    // Stroke keeps its default closepath; arcs draw.
    let arc = json!({"type": "arc", "center": {"x": 10, "y": 10}, "radius": 8, "start": 0, "end": std::f64::consts::PI, "reverse": false});
    let out = run(
        "canvas/Stroke",
        vec![("items", j(json!([arc]))), ("strokestyle", j(json!("#fff"))), ("linewidth", j(json!(3)))],
    );
    let stroke = out.get("stroke").unwrap().to_json();
    assert_eq!(stroke[0]["closepath"], json!(false));
    let img = draw(&canvas(20, 20), &stroke, false, &RunContext::default()).unwrap();
    assert_eq!(pixel(&img, 10, 18)[3], 255, "the lower half-circle is stroked");
    assert_eq!(pixel(&img, 10, 2)[3], 0, "the upper half is not");
}

#[test]
fn every_builder_makes_its_command() {
    let p = |x: i32, y: i32| j(json!({"type": "point", "x": x, "y": y}));
    // (component, its inputs, the outport, the command it sends)
    type Case = (&'static str, Vec<(&'static str, Value)>, &'static str, Json);
    let cases: Vec<Case> = vec![
        (
            "canvas/MakeRectangle",
            vec![("point", p(1, 2)), ("width", j(json!(3))), ("height", j(json!(4)))],
            "rectangle",
            json!({"type": "rectangle", "point": {"type": "point", "x": 1, "y": 2}, "width": 3, "height": 4}),
        ),
        (
            "canvas/MakeCircle",
            vec![("center", p(5, 5)), ("radius", j(json!(2)))],
            "circle",
            json!({"type": "circle", "center": {"type": "point", "x": 5, "y": 5}, "radius": 2}),
        ),
        (
            "canvas/MakeArc",
            vec![("center", p(0, 0)), ("radius", j(json!(1))), ("start", j(json!(0))), ("end", j(json!(1.5)))],
            "arc",
            json!({"type": "arc", "center": {"type": "point", "x": 0, "y": 0}, "radius": 1, "start": 0, "end": 1.5, "reverse": false}),
        ),
        (
            "canvas/MakeBezierCurve",
            vec![("control1", p(0, 1)), ("control2", p(2, 1)), ("end", p(3, 0))],
            "beziercurve",
            json!({"type": "beziercurve", "control1": {"type": "point", "x": 0, "y": 1}, "control2": {"type": "point", "x": 2, "y": 1}, "end": {"type": "point", "x": 3, "y": 0}}),
        ),
        (
            "canvas/FillRect",
            vec![("point", p(0, 0)), ("width", j(json!(2))), ("height", j(json!(2)))],
            "fillRect",
            json!({"type": "fillRect", "point": {"type": "point", "x": 0, "y": 0}, "width": 2, "height": 2}),
        ),
        (
            "canvas/StrokeRect",
            vec![("point", p(0, 0)), ("width", j(json!(2))), ("height", j(json!(2)))],
            "strokeRect",
            json!({"type": "strokeRect", "point": {"type": "point", "x": 0, "y": 0}, "width": 2, "height": 2}),
        ),
        (
            "canvas/ClearRect",
            vec![("point", p(0, 0)), ("width", j(json!(2))), ("height", j(json!(2)))],
            "clearRect",
            json!({"type": "clearRect", "point": {"type": "point", "x": 0, "y": 0}, "width": 2, "height": 2}),
        ),
        (
            "canvas/FillStyle",
            vec![("value", j(json!("#123")))],
            "fillStyle",
            json!({"type": "fillStyle", "value": "#123"}),
        ),
        (
            "canvas/StrokeStyle",
            vec![("value", j(json!("red")))],
            "strokeStyle",
            json!({"type": "strokeStyle", "value": "red"}),
        ),
        ("canvas/LineWidth", vec![("value", j(json!(3)))], "lineWidth", json!({"type": "lineWidth", "value": 3})),
    ];
    for (name, inputs, port, expected) in cases {
        let out = run(name, inputs);
        assert_eq!(out.get(port).map(Value::to_json), Some(expected), "{name}");
    }
    // Without a required property there is nothing to send yet.
    assert!(run("canvas/MakeCircle", vec![("radius", j(json!(2)))]).0.is_empty());
}

#[test]
fn create_canvas_is_blank_and_limited() {
    let out = run("canvas/CreateCanvas", vec![("width", Value::Int(7)), ("height", Value::Int(3))]);
    let img = out.get("canvas").unwrap().as_image().unwrap().clone();
    assert_eq!(img.dimensions(), (7, 3));
    assert!(img.to_rgba8().iter().all(|&b| b == 0), "transparent");
    let op = Registry::builtin().get("canvas/CreateCanvas").unwrap();
    let mut inputs = Inputs::defaults(op.spec());
    inputs.set("width", Value::Int(100_000));
    inputs.set("height", Value::Int(100_000));
    assert!(matches!(op.run(&inputs, &RunContext::default()), Err(OpError::TooLarge { .. })));
}

#[test]
fn styles_curves_and_clearing_draw_as_a_canvas_would() {
    let p = |x: i32, y: i32| json!({"type": "point", "x": x, "y": y});
    let curve = json!({"type": "beziercurve", "control1": p(5, 0), "control2": p(15, 0), "end": p(20, 10)});
    let commands = json!([
        {"type": "fillStyle", "value": "#f00"},
        {"type": "fillRect", "point": p(0, 12), "width": 24, "height": 8},
        {"type": "clearRect", "point": p(4, 14), "width": 4, "height": 4},
        {"type": "strokeStyle", "value": "#00f"},
        {"type": "lineWidth", "value": 2},
        {"type": "stroke", "items": [{"type": "path", "items": [p(0, 10), curve]}]},
        {"type": "strokeRect", "point": p(16, 14), "width": 4, "height": 4}
    ]);
    let img = draw(&canvas(24, 20), &commands, false, &RunContext::default()).unwrap();
    // The curve's midpoint is at (10, 2.5): the 2-pixel line covers row 2 there.
    assert_eq!(pixel(&img, 10, 2), [0, 0, 255, 255], "on the curve");
    assert_eq!(pixel(&img, 10, 9)[3], 0, "not on the chord: the path is not closed");
    assert_eq!(pixel(&img, 1, 13), [255, 0, 0, 255], "filled in the style set before");
    assert_eq!(pixel(&img, 5, 15), [0, 0, 0, 0], "cleared to transparent");
    assert_eq!(pixel(&img, 16, 16), [0, 0, 255, 255], "strokeRect edge in the stroke style");
    assert_eq!(pixel(&img, 18, 16), [255, 0, 0, 255], "strokeRect leaves the inside");
}
