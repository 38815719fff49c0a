//! `gegl/pixelize`: every `size-x` × `size-y` block (aligned to the image origin;
//! partial blocks at the right and bottom edges) becomes the mean of its pixels,
//! averaged on premultiplied linear RGBA.

use super::{premultiply, unpremultiply_px, Registry};
use crate::ops::{filter_spec, linear_input, linear_output, FnOp, Inputs, OpError, Outputs, RunContext};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    reg.add(FnOp {
        spec: filter_spec(
            "gegl/pixelize",
            "Simplify image into an array of solid-colored rectangles",
            vec![
                PortSpec::int("size-x", 16, 1, 2048, "Width of blocks in pixels"),
                PortSpec::int("size-y", 16, 1, 2048, "Height of blocks in pixels"),
            ],
        ),
        run: pixelize,
    });
}

fn pixelize(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let size_x = inputs.int("size-x").clamp(1, 2048) as usize;
    let size_y = inputs.int("size-y").clamp(1, 2048) as usize;
    let (w, h, mut data) = linear_input(inputs)?;
    let (w, h) = (w as usize, h as usize);
    if w == 0 || h == 0 {
        return linear_output(w as u32, h as u32, data);
    }
    premultiply(&mut data);
    let blocks_x = w.div_ceil(size_x);
    // Sums in f64: a block may hold millions of pixels.
    let mut sums = vec![[0.0f64; 4]; blocks_x];
    let mut means = vec![[0.0f32; 4]; blocks_x];
    for y0 in (0..h).step_by(size_y) {
        ctx.check()?;
        let y1 = (y0 + size_y).min(h);
        sums.iter_mut().for_each(|s| *s = [0.0; 4]);
        for row in data[y0 * w * 4..y1 * w * 4].chunks_exact(w * 4) {
            for (x, px) in row.chunks_exact(4).enumerate() {
                let s = &mut sums[x / size_x];
                for c in 0..4 {
                    s[c] += px[c] as f64;
                }
            }
        }
        for (bx, (s, m)) in sums.iter().zip(means.iter_mut()).enumerate() {
            let cols = (size_x).min(w - bx * size_x);
            let n = (cols * (y1 - y0)) as f64;
            for c in 0..4 {
                m[c] = (s[c] / n) as f32;
            }
            unpremultiply_px(m);
        }
        for row in data[y0 * w * 4..y1 * w * 4].chunks_exact_mut(w * 4) {
            for (x, px) in row.chunks_exact_mut(4).enumerate() {
                px.copy_from_slice(&means[x / size_x]);
            }
        }
    }
    linear_output(w as u32, h as u32, data)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::pixels::Image;
    use crate::value::Value;

    const NAME: &str = "gegl/pixelize";

    fn sizes(x: i64, y: i64) -> Vec<(&'static str, Value)> {
        vec![("size-x", Value::Int(x)), ("size-y", Value::Int(y))]
    }

    #[test]
    fn blocks_become_their_mean_including_partial_ones() {
        // 3x1 with 2x1 blocks: [a, b] → mean, [c] alone.
        let data = [[0.0, 0.2, 0.4, 1.0], [1.0, 0.4, 0.0, 1.0], [0.3, 0.3, 0.3, 1.0]].concat();
        let out = run_linear(NAME, image(3, 1, data), &sizes(2, 2));
        assert_close(&out, &[[0.5, 0.3, 0.2, 1.0], [0.5, 0.3, 0.2, 1.0], [0.3, 0.3, 0.3, 1.0]].concat(), 1e-6);
    }

    #[test]
    fn mean_is_premultiplied() {
        // Red opaque + transparent green: colour stays red, alpha halves.
        let data = [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]].concat();
        let out = run_linear(NAME, image(1, 2, data), &sizes(1, 2));
        assert_close(&out, &[[1.0, 0.0, 0.0, 0.5], [1.0, 0.0, 0.0, 0.5]].concat(), 1e-6);
    }

    #[test]
    fn two_by_two_blocks_on_a_four_by_four_image() {
        let data: Vec<f32> = (0..16).flat_map(|i| [i as f32, 0.0, 0.0, 1.0]).collect();
        let out = run_linear(NAME, image(4, 4, data), &sizes(2, 2));
        let reds: Vec<f32> = out.chunks_exact(4).map(|p| p[0]).collect();
        // Block means: (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, 10.5, 12.5.
        let want = [2.5, 2.5, 4.5, 4.5, 2.5, 2.5, 4.5, 4.5, 10.5, 10.5, 12.5, 12.5, 10.5, 10.5, 12.5, 12.5];
        assert_close(&reds, &want, 1e-5);
    }

    #[test]
    fn block_size_one_is_identity_and_eight_bit_input_works() {
        let img = pattern(5, 4).to_srgb8_image();
        let src = img.to_linear_rgba().into_owned();
        let out = run_linear(NAME, img, &sizes(1, 1));
        assert_close(&out, &src, 1e-6);
        let rgb = Image::from_rgb8(2, 1, vec![0, 0, 0, 255, 255, 255]).unwrap();
        let out = run_linear(NAME, rgb, &[]);
        assert_close(&out, &[0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 1.0], 1e-6);
    }

    #[test]
    fn flat_stays_flat() {
        let px = [0.1, 0.6, 0.3, 0.8];
        let out = run_linear(NAME, image(20, 18, px.repeat(360)), &[]);
        assert_close(&out, &px.repeat(360), 1e-6);
    }
}
