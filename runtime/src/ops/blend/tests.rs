use std::sync::Arc;

use super::*;
use crate::value::Value;

const NAMES: [&str; 24] = [
    "svg/clear",
    "svg/src",
    "svg/dst",
    "svg/src-over",
    "svg/dst-over",
    "svg/src-in",
    "svg/dst-in",
    "svg/src-out",
    "svg/dst-out",
    "svg/src-atop",
    "svg/dst-atop",
    "svg/xor",
    "svg/multiply",
    "svg/screen",
    "svg/overlay",
    "svg/darken",
    "svg/lighten",
    "svg/color-dodge",
    "svg/color-burn",
    "svg/hard-light",
    "svg/soft-light",
    "svg/difference",
    "svg/exclusion",
    "svg/plus",
];

fn run_arcs(name: &str, input: Option<Arc<Image>>, aux: Option<Arc<Image>>, srgb: bool) -> Result<Outputs, OpError> {
    let mut reg = Registry::empty();
    register(&mut reg);
    let op = reg.get(name).unwrap_or_else(|| panic!("no {name}"));
    let mut inputs = Inputs::defaults(op.spec());
    if let Some(img) = input {
        inputs.set("input", Value::Image(img));
    }
    if let Some(img) = aux {
        inputs.set("aux", Value::Image(img));
    }
    inputs.set("srgb", Value::Bool(srgb));
    op.run(&inputs, &RunContext::default())
}

fn run(name: &str, input: &Image, aux: &Image) -> Vec<f32> {
    pixels(&run_arcs(name, Some(Arc::new(input.clone())), Some(Arc::new(aux.clone())), false).unwrap())
}

fn output(out: &Outputs) -> &Arc<Image> {
    out.get("output").and_then(Value::as_image).expect("an output image")
}

fn pixels(out: &Outputs) -> Vec<f32> {
    output(out).to_linear_rgba().into_owned()
}

fn solid(w: u32, h: u32, rgba: [f32; 4]) -> Image {
    Image::filled_linear(w, h, rgba)
}

#[track_caller]
fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "value {i}: got {g}, want {w} ({got:?} vs {want:?})");
    }
}

#[test]
fn specs_have_the_srgb_flag() {
    let mut reg = Registry::empty();
    register(&mut reg);
    assert_eq!(reg.len(), NAMES.len());
    for name in NAMES {
        let spec = reg.spec(name).unwrap();
        let names: Vec<_> = spec.inports.iter().map(|p| p.name).collect();
        assert_eq!(names, ["input", "aux", "srgb"], "{name}");
        assert!(matches!(spec.inport("srgb").unwrap().default, Some(Value::Bool(false))));
    }
}

#[test]
fn missing_aux_passes_input_through() {
    let img = Arc::new(Image::from_rgb8(1, 1, vec![1, 2, 3]).unwrap());
    for name in NAMES {
        let out = run_arcs(name, Some(img.clone()), None, false).unwrap();
        assert!(Arc::ptr_eq(output(&out), &img), "{name}");
    }
}

#[test]
fn missing_input_and_aux_is_an_error() {
    for name in NAMES {
        let err = run_arcs(name, None, None, false).err();
        assert!(matches!(err, Some(OpError::MissingInput("input"))), "{name}: {err:?}");
    }
}

#[test]
fn missing_input_is_a_transparent_backdrop() {
    let aux = Arc::new(solid(2, 3, [0.2, 0.4, 0.6, 0.5]));
    let out = run_arcs("svg/src-over", None, Some(aux.clone()), false).unwrap();
    assert_eq!(output(&out).dimensions(), (2, 3));
    assert_close(&pixels(&out), &aux.to_linear_rgba(), 1e-6);
    let out = run_arcs("svg/src-in", None, Some(aux), false).unwrap();
    assert_close(&pixels(&out), &[0.0; 24], 0.0);
}

#[test]
fn screen_of_half_greys() {
    let grey = solid(2, 2, [0.5, 0.5, 0.5, 1.0]);
    assert_close(&run("svg/screen", &grey, &grey), &[0.75, 0.75, 0.75, 1.0].repeat(4), 1e-6);
}

#[test]
fn src_over_opaque_and_transparent_aux() {
    let input = solid(2, 1, [0.1, 0.2, 0.3, 1.0]);
    let opaque = solid(2, 1, [0.9, 0.8, 0.7, 1.0]);
    assert_close(&run("svg/src-over", &input, &opaque), &opaque.to_linear_rgba(), 1e-6);
    let clear = solid(2, 1, [0.9, 0.8, 0.7, 0.0]);
    assert_close(&run("svg/src-over", &input, &clear), &input.to_linear_rgba(), 1e-6);
    // Half-transparent aux over half-transparent input.
    let half_in = solid(1, 1, [0.0, 0.0, 1.0, 0.5]);
    let half_aux = solid(1, 1, [1.0, 0.0, 0.0, 0.5]);
    // Premultiplied: S = (.5,0,0,.5), D = (0,0,.5,.5) → (.5, 0, .25, .75).
    assert_close(&run("svg/src-over", &half_in, &half_aux), &[2.0 / 3.0, 0.0, 1.0 / 3.0, 0.75], 1e-6);
}

#[test]
fn dst_over_keeps_opaque_input_and_fills_transparent() {
    let opaque = solid(1, 1, [0.1, 0.2, 0.3, 1.0]);
    let clear = solid(1, 1, [0.0, 0.0, 0.0, 0.0]);
    let aux = solid(1, 1, [0.9, 0.8, 0.7, 1.0]);
    assert_close(&run("svg/dst-over", &opaque, &aux), &[0.1, 0.2, 0.3, 1.0], 1e-6);
    assert_close(&run("svg/dst-over", &clear, &aux), &[0.9, 0.8, 0.7, 1.0], 1e-6);
}

#[test]
fn porter_duff_alphas() {
    let d = solid(1, 1, [0.0, 0.0, 1.0, 0.5]);
    let s = solid(1, 1, [1.0, 0.0, 0.0, 0.5]);
    for (name, alpha, colour) in [
        ("svg/clear", 0.0, [0.0, 0.0, 0.0]),
        ("svg/src", 0.5, [1.0, 0.0, 0.0]),
        ("svg/dst", 0.5, [0.0, 0.0, 1.0]),
        ("svg/dst-over", 0.75, [1.0 / 3.0, 0.0, 2.0 / 3.0]),
        ("svg/src-in", 0.25, [1.0, 0.0, 0.0]),
        ("svg/dst-in", 0.25, [0.0, 0.0, 1.0]),
        ("svg/src-out", 0.25, [1.0, 0.0, 0.0]),
        ("svg/dst-out", 0.25, [0.0, 0.0, 1.0]),
        ("svg/src-atop", 0.5, [0.5, 0.0, 0.5]),
        ("svg/dst-atop", 0.5, [0.5, 0.0, 0.5]),
        ("svg/xor", 0.5, [0.5, 0.0, 0.5]),
    ] {
        let got = run(name, &d, &s);
        assert_close(&got[3..], &[alpha], 1e-6);
        assert_close(&got[..3], &colour, 1e-6);
    }
}

#[test]
fn multiply_with_white_is_identity() {
    let input = Image::from_rgba_f32(3, 1, vec![0.1, 0.5, 0.9, 1.0, 0.3, 0.2, 0.1, 1.0, 0.7, 0.7, 0.0, 1.0]).unwrap();
    let white = solid(3, 1, [1.0, 1.0, 1.0, 1.0]);
    assert_close(&run("svg/multiply", &input, &white), &input.to_linear_rgba(), 1e-6);
    assert_close(&run("svg/multiply", &white, &input), &input.to_linear_rgba(), 1e-6);
    let half = solid(1, 1, [0.5, 0.5, 0.5, 0.5]);
    let grey = solid(1, 1, [0.5, 0.5, 0.5, 1.0]);
    // Sca·Dca + Dca·(1 − Sa) = .125 + .25.
    assert_close(&run("svg/multiply", &grey, &half), &[0.375, 0.375, 0.375, 1.0], 1e-6);
}

#[test]
fn difference_with_itself_is_black() {
    let img = Image::from_rgba_f32(2, 1, vec![0.1, 0.5, 0.9, 1.0, 0.3, 0.2, 0.1, 1.0]).unwrap();
    assert_close(&run("svg/difference", &img, &img), &[0.0, 0.0, 0.0, 1.0].repeat(2), 1e-6);
}

#[test]
fn srgb_flag_changes_a_half_blend() {
    let black = Arc::new(solid(1, 1, [0.0, 0.0, 0.0, 1.0]));
    let half_white = Arc::new(solid(1, 1, [1.0, 1.0, 1.0, 0.5]));
    let lin = run_arcs("svg/src-over", Some(black.clone()), Some(half_white.clone()), false).unwrap();
    assert_close(&pixels(&lin), &[0.5, 0.5, 0.5, 1.0], 1e-6);
    let enc = run_arcs("svg/src-over", Some(black), Some(half_white), true).unwrap();
    let v = srgb_to_linear(0.5);
    assert_close(&pixels(&enc), &[v, v, v, 1.0], 1e-6);
}

#[test]
fn aux_smaller_than_input() {
    let red = solid(3, 2, [1.0, 0.0, 0.0, 1.0]);
    let blue = solid(2, 1, [0.0, 0.0, 1.0, 1.0]);
    let out = run_arcs("svg/src-over", Some(Arc::new(red.clone())), Some(Arc::new(blue.clone())), false).unwrap();
    assert_eq!(output(&out).dimensions(), (3, 2));
    let px = pixels(&out);
    let b = [0.0, 0.0, 1.0, 1.0];
    let r = [1.0, 0.0, 0.0, 1.0];
    assert_close(&px, &[b, b, r, r, r, r].concat(), 1e-6);
    let t = [0.0; 4];
    assert_close(&run("svg/src-in", &red, &blue), &[b, b, t, t, t, t].concat(), 1e-6);
}

#[test]
fn aux_larger_than_input() {
    let red = solid(1, 2, [1.0, 0.0, 0.0, 1.0]);
    let aux =
        Image::from_rgba_f32(2, 2, [[0.0, 1.0, 0.0, 1.0], [9.0; 4], [0.0, 0.0, 1.0, 1.0], [9.0; 4]].concat()).unwrap();
    let out = run_arcs("svg/src-over", Some(Arc::new(red)), Some(Arc::new(aux)), false).unwrap();
    assert_eq!(output(&out).dimensions(), (1, 2));
    assert_close(&pixels(&out), &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0], 1e-6);
}

#[test]
fn eight_bit_inputs() {
    let input = Image::from_rgb8(2, 1, vec![10, 20, 30, 40, 50, 60]).unwrap();
    let aux = Image::from_rgba8(1, 1, vec![255, 0, 0, 255]).unwrap();
    let out = run_arcs("svg/src-over", Some(Arc::new(input)), Some(Arc::new(aux)), true).unwrap();
    assert_eq!(output(&out).to_rgba8().as_ref(), &[255, 0, 0, 255, 40, 50, 60, 255]);
}

/// A per-pixel operator.
type Kernel = fn(Px, Px) -> Px;

/// Opaque straight values through a mode kernel.
fn opaque(f: Kernel, s: f32, d: f32) -> f32 {
    let r = f([s, s, s, 1.0], [d, d, d, 1.0]);
    assert_eq!(r[3], 1.0);
    r[0]
}

#[test]
fn blend_mode_known_values() {
    let cases: [(&str, Kernel, f32, f32, f32); 20] = [
        ("multiply", multiply, 0.2, 0.3, 0.06),
        ("screen", screen, 0.2, 0.3, 0.44),
        ("overlay dark", overlay, 0.2, 0.3, 0.12),
        ("overlay light", overlay, 0.2, 0.8, 0.68),
        ("darken", darken, 0.2, 0.3, 0.2),
        ("lighten", lighten, 0.2, 0.3, 0.3),
        ("hard-light dark", hard_light, 0.2, 0.3, 0.12),
        ("hard-light light", hard_light, 0.8, 0.3, 0.72),
        ("difference", difference, 0.2, 0.3, 0.1),
        ("exclusion", exclusion, 0.2, 0.3, 0.38),
        ("color-dodge", color_dodge, 0.5, 0.25, 0.5),
        ("color-dodge white", color_dodge, 1.0, 0.25, 1.0),
        ("color-dodge saturates", color_dodge, 0.5, 0.6, 1.0),
        ("color-burn", color_burn, 0.5, 0.75, 0.5),
        ("color-burn black", color_burn, 0.0, 0.75, 0.0),
        ("soft-light neutral", soft_light, 0.5, 0.3, 0.3),
        ("soft-light dark (draft sign)", soft_light, 0.0, 0.5, 0.75),
        // Draft formula: 0.1 · (1 − 0.9 · 0.2 · 2.2).
        ("soft-light light, dark backdrop", soft_light, 0.6, 0.1, 0.0604),
        ("soft-light light", soft_light, 1.0, 0.25, 0.5),
        ("plus", plus, 0.5, 0.25, 0.75),
    ];
    for (what, f, s, d, want) in cases {
        let got = opaque(f, s, d);
        assert!((got - want).abs() < 1e-6, "{what}: got {got}, want {want}");
    }
}

#[test]
fn plus_clamps_alpha_only_to_one() {
    let r = plus([0.25, 0.25, 0.25, 0.5], [0.25, 0.25, 0.25, 0.5]);
    assert_eq!(r, [0.5, 0.5, 0.5, 1.0]);
    let r = plus([1.0, 0.5, 0.0, 1.0], [1.0, 0.25, 0.0, 1.0]);
    assert_eq!(r, [1.0, 0.75, 0.0, 1.0]);
}

#[test]
fn blend_modes_are_finite_and_in_range_at_the_edges() {
    let modes: [Kernel; 12] = [
        multiply,
        screen,
        overlay,
        darken,
        lighten,
        color_dodge,
        color_burn,
        hard_light,
        soft_light,
        difference,
        exclusion,
        plus,
    ];
    let values = [0.0, 0.25, 0.5, 1.0];
    for f in modes {
        for sa in values {
            for da in values {
                for sc in values {
                    for dc in values {
                        let (sc, dc) = (sc * sa, dc * da);
                        let r = f([sc, sc, sc, sa], [dc, dc, dc, da]);
                        assert!(r.iter().all(|v| v.is_finite()), "{r:?}");
                        assert!(r[0] >= 0.0 && r[0] <= r[3] && r[3] <= 1.0, "{sc} {sa} {dc} {da}: {r:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn transparent_source_leaves_blend_backdrop() {
    let d = [0.15, 0.3, 0.45, 0.5];
    for f in [multiply, screen, overlay, darken, lighten, color_dodge, color_burn, hard_light, soft_light] {
        assert_close(&f(TRANSPARENT, d), &d, 1e-6);
    }
}

#[test]
fn src_over_linear_helper() {
    let mut dst = vec![0.0, 0.0, 0.0, 1.0, 0.2, 0.4, 0.6, 0.0];
    src_over_linear(&mut dst, &[1.0, 1.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0]);
    assert_close(&dst, &[0.5, 0.5, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0], 1e-6);
}

#[test]
fn cancellation_is_honoured() {
    let mut reg = Registry::empty();
    register(&mut reg);
    let op = reg.get("svg/src-over").unwrap();
    let mut inputs = Inputs::defaults(op.spec());
    inputs.set("input", Value::Image(Arc::new(solid(1, 1, [0.0; 4]))));
    inputs.set("aux", Value::Image(Arc::new(solid(1, 1, [0.0; 4]))));
    let ctx = RunContext::default();
    ctx.cancel.cancel();
    assert!(matches!(op.run(&inputs, &ctx), Err(OpError::Cancelled)));
}
