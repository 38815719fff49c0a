//! Exact pixel transforms: crops and the eight EXIF orientations (flips and turns by
//! multiples of 90°). They move pixels without touching their values, on any layout.

use super::{Image, Pixels};

/// An EXIF orientation (tag 0x0112): how the stored pixels must be transformed to
/// display upright.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// 1: as stored.
    Normal,
    /// 2: mirrored left-right.
    FlipH,
    /// 3: turned 180°.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipV,
    /// 5: mirrored along the main diagonal.
    Transpose,
    /// 6: turn 90° clockwise to display.
    Rotate90,
    /// 7: mirrored along the anti-diagonal.
    Transverse,
    /// 8: turn 270° clockwise (90° counter-clockwise) to display.
    Rotate270,
}

impl Orientation {
    pub fn from_exif(v: u16) -> Orientation {
        match v {
            2 => Orientation::FlipH,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipV,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// Whether width and height swap.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Orientation::Transpose | Orientation::Rotate90 | Orientation::Transverse | Orientation::Rotate270
        )
    }

    /// The source pixel of output pixel (x, y) for a source of `w`x`h`.
    #[inline]
    fn source(self, x: usize, y: usize, w: usize, h: usize) -> (usize, usize) {
        match self {
            Orientation::Normal => (x, y),
            Orientation::FlipH => (w - 1 - x, y),
            Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
            Orientation::FlipV => (x, h - 1 - y),
            Orientation::Transpose => (y, x),
            Orientation::Rotate90 => (y, h - 1 - x),
            Orientation::Transverse => (w - 1 - y, h - 1 - x),
            Orientation::Rotate270 => (w - 1 - y, x),
        }
    }
}

fn orient_vec<T: Copy + Default>(src: &[T], w: usize, h: usize, c: usize, o: Orientation) -> Vec<T> {
    let (ow, oh) = if o.swaps_axes() { (h, w) } else { (w, h) };
    let mut out = vec![T::default(); src.len()];
    for y in 0..oh {
        let row = &mut out[y * ow * c..(y + 1) * ow * c];
        for x in 0..ow {
            let (sx, sy) = o.source(x, y, w, h);
            let s = (sy * w + sx) * c;
            row[x * c..x * c + c].copy_from_slice(&src[s..s + c]);
        }
    }
    out
}

/// Applies an orientation; `Normal` returns a clone.
pub fn orient(img: &Image, o: Orientation) -> Image {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (ow, oh) = if o.swaps_axes() { (img.height(), img.width()) } else { (img.width(), img.height()) };
    let pixels = match img.pixels() {
        Pixels::Rgb8(v) => Pixels::Rgb8(orient_vec(v, w, h, 3, o)),
        Pixels::Rgba8(v) => Pixels::Rgba8(orient_vec(v, w, h, 4, o)),
        Pixels::RgbaF32(v) => Pixels::RgbaF32(orient_vec(v, w, h, 4, o)),
    };
    Image::new(ow, oh, pixels).expect("orientation keeps the pixel count")
}

fn crop_vec<T: Copy + Opaque>(
    src: &[T],
    (w, h): (usize, usize),
    c: usize,
    (x, y): (i64, i64),
    (cw, ch): (usize, usize),
    fill: &[T],
) -> Vec<T> {
    let mut out = Vec::with_capacity(cw * ch * fill.len());
    let oc = fill.len();
    for oy in 0..ch as i64 {
        let sy = y + oy;
        let row_inside = sy >= 0 && sy < h as i64;
        // The part of this output row that lies inside the source.
        let x0 = x.max(0).min(w as i64);
        let x1 = (x + cw as i64).max(0).min(w as i64);
        let before = (x0 - x).clamp(0, cw as i64) as usize;
        if !row_inside || x1 <= x0 {
            for _ in 0..cw {
                out.extend_from_slice(fill);
            }
            continue;
        }
        for _ in 0..before {
            out.extend_from_slice(fill);
        }
        let start = (sy as usize * w + x0 as usize) * c;
        let end = (sy as usize * w + x1 as usize) * c;
        if oc == c {
            out.extend_from_slice(&src[start..end]);
        } else {
            // Widening RGB to RGBA: the caller gives the opaque alpha as fill[3].
            for px in src[start..end].chunks_exact(c) {
                out.extend_from_slice(px);
                out.push(fill[oc - 1].max_opaque());
            }
        }
        let after = cw - before - (x1 - x0) as usize;
        for _ in 0..after {
            out.extend_from_slice(fill);
        }
    }
    out
}

/// Picks the opaque alpha value when widening RGB to RGBA.
trait Opaque {
    fn max_opaque(self) -> Self;
}
impl Opaque for u8 {
    fn max_opaque(self) -> u8 {
        255
    }
}
impl Opaque for f32 {
    fn max_opaque(self) -> f32 {
        1.0
    }
}

/// Cuts the `cw`x`ch` rectangle at (x, y); parts outside the image are transparent
/// (an RGB image gains alpha only when the rectangle leaves it).
pub fn crop(img: &Image, x: i64, y: i64, cw: u32, ch: u32) -> Image {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let inside = x >= 0 && y >= 0 && x + cw as i64 <= w as i64 && y + ch as i64 <= h as i64;
    let size = (cw as usize, ch as usize);
    let pixels = match img.pixels() {
        Pixels::Rgb8(v) if inside => Pixels::Rgb8(crop_vec(v, (w, h), 3, (x, y), size, &[0, 0, 0])),
        Pixels::Rgb8(v) => Pixels::Rgba8(crop_vec(v, (w, h), 3, (x, y), size, &[0, 0, 0, 0])),
        Pixels::Rgba8(v) => Pixels::Rgba8(crop_vec(v, (w, h), 4, (x, y), size, &[0, 0, 0, 0])),
        Pixels::RgbaF32(v) => Pixels::RgbaF32(crop_vec(v, (w, h), 4, (x, y), size, &[0.0; 4])),
    };
    Image::new(cw, ch, pixels).expect("crop builds the exact size")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(w: u32, h: u32) -> Image {
        let data = (0..w * h).flat_map(|i| [i as u8, 0, 0]).collect();
        Image::from_rgb8(w, h, data).unwrap()
    }

    fn reds(img: &Image) -> Vec<u8> {
        img.to_rgb8().chunks_exact(3).map(|p| p[0]).collect()
    }

    #[test]
    fn orientations_move_pixels_exactly() {
        // 3x2 source:  0 1 2 / 3 4 5
        let img = numbered(3, 2);
        assert_eq!(reds(&orient(&img, Orientation::FlipH)), [2, 1, 0, 5, 4, 3]);
        assert_eq!(reds(&orient(&img, Orientation::FlipV)), [3, 4, 5, 0, 1, 2]);
        assert_eq!(reds(&orient(&img, Orientation::Rotate180)), [5, 4, 3, 2, 1, 0]);
        let cw = orient(&img, Orientation::Rotate90);
        assert_eq!(cw.dimensions(), (2, 3));
        assert_eq!(reds(&cw), [3, 0, 4, 1, 5, 2]);
        assert_eq!(reds(&orient(&img, Orientation::Rotate270)), [2, 5, 1, 4, 0, 3]);
        assert_eq!(reds(&orient(&img, Orientation::Transpose)), [0, 3, 1, 4, 2, 5]);
        assert_eq!(reds(&orient(&img, Orientation::Transverse)), [5, 2, 4, 1, 3, 0]);
    }

    #[test]
    fn crop_inside_keeps_layout() {
        let img = numbered(4, 4);
        let c = crop(&img, 1, 2, 2, 2);
        assert_eq!(c.layout(), super::super::Layout::Rgb8);
        assert_eq!(reds(&c), [9, 10, 13, 14]);
    }

    #[test]
    fn crop_outside_is_transparent() {
        let img = numbered(2, 2);
        let c = crop(&img, -1, 0, 3, 3);
        let px = c.to_rgba8();
        assert_eq!(&px[0..4], &[0, 0, 0, 0]);
        assert_eq!(&px[4..8], &[0, 0, 0, 255]);
        assert_eq!(&px[8..12], &[1, 0, 0, 255]);
        assert_eq!(&px[24..36], &[0; 12]);
    }
}
