use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::graph::{ExportedPort, PortRef};
use crate::ops::{filter_spec, FnOp};
use crate::pixels::Image;
use crate::value::PortSpec;

static COUNTED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// A registry with the built-ins plus `test/count`, which counts its runs and adds
/// `amount` to the red channel.
fn registry() -> Registry {
    let mut reg = Registry::builtin().clone();
    reg.add(FnOp {
        spec: filter_spec("test/count", "Counts runs", vec![PortSpec::number("amount", 0.0, -1.0, 1.0, "Red offset")]),
        run: |inputs, _| {
            COUNTED_RUNS.fetch_add(1, Ordering::SeqCst);
            let (w, h, mut px) = crate::ops::linear_input(inputs)?;
            for p in px.chunks_exact_mut(4) {
                p[0] += inputs.f64("amount") as f32;
            }
            crate::ops::linear_output(w, h, px)
        },
    });
    reg
}

/// in(nop) -> a(test/count) -> b(test/count) -> out(nop), plus a branch a -> c(count).
fn chain() -> Graph {
    let mut g = Graph::new();
    for (id, c) in
        [("in", "gegl/nop"), ("a", "test/count"), ("b", "test/count"), ("c", "test/count"), ("out", "gegl/nop")]
    {
        g.add_node(id, c);
    }
    for (s, t) in [("in", "a"), ("a", "b"), ("b", "out"), ("a", "c")] {
        g.add_edge(PortRef::new(s, "output"), PortRef::new(t, "input"), Default::default());
    }
    g.inports.insert("input".into(), ExportedPort { node: "in".into(), port: "input".into(), ..Default::default() });
    g.inports.insert("amount".into(), ExportedPort { node: "b".into(), port: "amount".into(), ..Default::default() });
    g.outports
        .insert("output".into(), ExportedPort { node: "out".into(), port: "output".into(), ..Default::default() });
    g
}

fn input() -> Overrides {
    let mut o = Overrides::new();
    o.set("in", "input", Value::Image(Arc::new(Image::from_rgb8(2, 2, vec![0; 12]).unwrap())));
    o
}

#[test]
fn only_affected_nodes_recompute_after_a_change() {
    let reg = registry();
    let mut net = Network::new(chain(), &reg).unwrap();
    let ctx = RunContext::default();
    let mut o = input();
    net.evaluate(&["out", "c"], &o, &ctx).unwrap();
    assert_eq!(net.stats(), EvalStats { executed: 5, reused: 0 });

    // Nothing changed: everything reused.
    net.evaluate(&["out", "c"], &o, &ctx).unwrap();
    assert_eq!(net.stats(), EvalStats { executed: 0, reused: 5 });

    // A parameter of b: b and out run again; in, a and c are reused.
    o.set("b", "amount", Value::Number(0.5));
    net.evaluate(&["out", "c"], &o, &ctx).unwrap();
    assert_eq!(net.stats(), EvalStats { executed: 2, reused: 3 });
    let px = net.node_outputs("out").unwrap().get("output").unwrap().as_image().unwrap().to_linear_rgba();
    assert!((px[0] - 0.5).abs() < 1e-6);

    // An IIP edit through the graph: a changes, so a, b, c and out run.
    let mut g = net.graph().clone();
    g.add_iip(json!(0.25), PortRef::new("a", "amount"), Default::default());
    net.set_graph(g).unwrap();
    net.evaluate(&["out", "c"], &o, &ctx).unwrap();
    assert_eq!(net.stats(), EvalStats { executed: 4, reused: 1 });
}

#[test]
fn an_edge_change_recomputes_downstream_only() {
    let reg = registry();
    let mut net = Network::new(chain(), &reg).unwrap();
    let ctx = RunContext::default();
    let o = input();
    net.evaluate(&["out"], &o, &ctx).unwrap();
    let mut g = net.graph().clone();
    // Route out from a instead of b.
    g.remove_edge(&PortRef::new("b", "output"), &PortRef::new("out", "input"));
    g.add_edge(PortRef::new("a", "output"), PortRef::new("out", "input"), Default::default());
    net.set_graph(g).unwrap();
    net.evaluate(&["out"], &o, &ctx).unwrap();
    assert_eq!(net.stats(), EvalStats { executed: 1, reused: 2 });
}

#[test]
fn run_once_evaluates_each_needed_node_once() {
    let reg = registry();
    let mut net = Network::new(chain(), &reg).unwrap();
    let before = COUNTED_RUNS.load(Ordering::SeqCst);
    let out = net.run_once(&["out"], &input(), &RunContext::default()).unwrap();
    assert!(out[0].get("output").is_some());
    // a and b run; c is not needed for out.
    assert_eq!(net.stats().executed, 4);
    assert!(COUNTED_RUNS.load(Ordering::SeqCst) - before >= 2);
}

#[test]
fn compile_errors_are_precise() {
    let reg = registry();
    let mut g = chain();
    g.add_node("x", "gegl/nope");
    assert!(matches!(Network::new(g, &reg), Err(GraphError::UnknownComponent { .. })));

    let mut g = chain();
    g.add_edge(PortRef::new("a", "nothere"), PortRef::new("b", "input"), Default::default());
    assert!(matches!(Network::new(g, &reg), Err(GraphError::UnknownPort { direction: "outport", .. })));

    let mut g = chain();
    g.add_iip(json!("purple"), PortRef::new("a", "amount"), Default::default());
    assert!(matches!(Network::new(g, &reg), Err(GraphError::InvalidIip { .. })));

    let mut g = chain();
    g.add_edge(PortRef::new("out", "output"), PortRef::new("in", "input"), Default::default());
    assert!(matches!(Network::new(g, &reg), Err(GraphError::Cycle(_))));

    let mut g = chain();
    g.add_node("r", "core/Repeat");
    g.add_edge(PortRef::new("r", "out"), PortRef::new("a", "input"), Default::default());
    assert!(Network::new(g, &reg).is_ok(), "message ports connect to anything");

    let mut g = chain();
    g.add_iip(json!(1), PortRef::new("a", "unknown-property"), Default::default());
    let net = Network::new(g, &reg).unwrap();
    assert_eq!(net.warnings().len(), 1);
}

#[test]
fn cancellation_is_checked_between_nodes() {
    let reg = registry();
    let mut net = Network::new(chain(), &reg).unwrap();
    let ctx = RunContext::default();
    ctx.cancel.cancel();
    assert!(matches!(net.run_once(&["out"], &input(), &ctx), Err(EvalError::Cancelled)));
    let ctx =
        RunContext { cancel: crate::ops::Cancel::with_deadline(std::time::Instant::now()), ..RunContext::default() };
    assert!(matches!(net.run_once(&["out"], &input(), &ctx), Err(EvalError::DeadlineExceeded)));
}

#[test]
fn run_graph_binds_parameters_and_resizes_the_input() {
    let reg = registry();
    let img = Arc::new(Image::from_rgb8(40, 20, vec![0; 40 * 20 * 3]).unwrap());
    let run = |params: Vec<(&str, serde_json::Value)>| {
        let input = GraphInput {
            image: Some(img.clone()),
            params: params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        };
        run_graph(&chain(), &reg, &input, &RunContext::default())
    };
    let out = run(vec![("amount", json!("0.5")), ("width", json!("10"))]).unwrap();
    assert_eq!(out.image.dimensions(), (10, 5));
    assert!((out.image.to_linear_rgba()[0] - 0.5).abs() < 1e-6);

    match run(vec![("nope", json!("1"))]) {
        Err(EvalError::UnknownParameter { name, valid }) => {
            assert_eq!(name, "nope");
            assert_eq!(valid, vec!["amount", "width", "height", "video_bitrate", "video_framerate"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(run(vec![("amount", json!("lots"))]), Err(EvalError::InvalidParameter { .. })));
    assert!(matches!(run(vec![("height", json!("x"))]), Err(EvalError::InvalidParameter { .. })));
}

#[test]
fn evaluate_all_reports_failing_nodes_and_idles_unconnected_ones() {
    let reg = registry();
    let mut g = chain();
    // A crop with an impossible size fails; a blur with nothing connected is idle.
    g.add_node("bad", "gegl/crop");
    g.add_edge(PortRef::new("a", "output"), PortRef::new("bad", "input"), Default::default());
    g.add_iip(json!(-5), PortRef::new("bad", "width"), Default::default());
    g.add_node("after", "gegl/nop");
    g.add_edge(PortRef::new("bad", "output"), PortRef::new("after", "input"), Default::default());
    g.add_node("alone", "gegl/gaussian-blur");
    let mut net = Network::new(g, &reg).unwrap();
    let overrides = input();
    let failures = net.evaluate_all(&overrides, &RunContext::default(), &|_, _| true).unwrap();
    let failed: Vec<&str> = failures.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(failed, ["bad"], "{failures:?}");
    assert!(net.node_outputs("out").is_some(), "the healthy branch still ran");
    assert!(net.node_outputs("after").is_none(), "nothing reached the node after the failure");
    assert!(net.node_outputs("alone").is_none());
    // Unchanged inputs: everything is reused, the failure is reported again.
    let again = net.evaluate_all(&overrides, &RunContext::default(), &|_, _| true).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(net.stats().executed, 0);
    // Excluded components do not run.
    let mut net = Network::new(chain(), &reg).unwrap();
    net.evaluate_all(&input(), &RunContext::default(), &|_, c| c != "test/count").unwrap();
    assert!(net.node_outputs("in").is_some());
    assert!(net.node_outputs("a").is_none());
}

/// Two fills into `canvas/Draw`'s array port `commands`: both drawn, in connection
/// order (the later fill covers the earlier), and an edge beats an IIP to the same
/// port whatever their order (NoFlo sends IIPs first).
#[test]
fn array_ports_collect_every_edge_in_order() {
    let g = crate::graph::json::from_str(
        r##"{"properties": {"environment": {"type": "noflo-nodejs"}},
            "processes": {
              "split": {"component": "core/Split"},
              "w": {"component": "objects/ExtractProperty"},
              "origin": {"component": "canvas/MakePoint"},
              "all": {"component": "canvas/MakeRectangle"},
              "half": {"component": "canvas/MakeRectangle"},
              "red": {"component": "canvas/Fill"},
              "blue": {"component": "canvas/Fill"},
              "draw": {"component": "canvas/Draw"}},
            "connections": [
              {"src": {"process": "split", "port": "out"}, "tgt": {"process": "w", "port": "in"}},
              {"src": {"process": "split", "port": "out"}, "tgt": {"process": "draw", "port": "canvas"}},
              {"src": {"process": "w", "port": "out"}, "tgt": {"process": "all", "port": "width"}},
              {"data": 1, "tgt": {"process": "all", "port": "width"}},
              {"data": "width", "tgt": {"process": "w", "port": "key"}},
              {"data": 0, "tgt": {"process": "origin", "port": "x"}},
              {"data": 0, "tgt": {"process": "origin", "port": "y"}},
              {"src": {"process": "origin", "port": "point"}, "tgt": {"process": "all", "port": "point"}},
              {"src": {"process": "origin", "port": "point"}, "tgt": {"process": "half", "port": "point"}},
              {"data": 4, "tgt": {"process": "all", "port": "height"}},
              {"data": 2, "tgt": {"process": "half", "port": "width"}},
              {"data": 4, "tgt": {"process": "half", "port": "height"}},
              {"src": {"process": "all", "port": "rectangle"}, "tgt": {"process": "red", "port": "items"}},
              {"src": {"process": "half", "port": "rectangle"}, "tgt": {"process": "blue", "port": "items"}},
              {"data": "#f00", "tgt": {"process": "red", "port": "fillstyle"}},
              {"data": "#00f", "tgt": {"process": "blue", "port": "fillstyle"}},
              {"src": {"process": "red", "port": "fill"}, "tgt": {"process": "draw", "port": "commands"}},
              {"src": {"process": "blue", "port": "fill"}, "tgt": {"process": "draw", "port": "commands"}}],
            "inports": {"canvas": {"process": "split", "port": "in"}},
            "outports": {"output": {"process": "draw", "port": "canvas"}}}"##,
    )
    .unwrap();
    let reg = Registry::builtin();
    let params = vec![("width".to_string(), json!("4")), ("height".to_string(), json!("4"))];
    let out = run_graph(&g, reg, &GraphInput { image: None, params }, &RunContext::default()).unwrap();
    assert_eq!(out.image.dimensions(), (4, 4), "a blank canvas of width x height");
    let px = out.image.to_rgba8();
    assert_eq!(&px[..4], &[0, 0, 255, 255], "blue, drawn second, over red");
    assert_eq!(&px[12..16], &[255, 0, 0, 255], "red across the whole width (the edge beat the IIP 1)");
    assert!(matches!(
        run_graph(
            &g,
            reg,
            &GraphInput { image: None, params: vec![("canvas".into(), json!("x"))] },
            &RunContext::default()
        ),
        Err(EvalError::UnknownParameter { .. })
    ));
}
