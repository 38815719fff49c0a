//! sRGB transfer curve and fast lookup tables between 8-bit sRGB and linear light.

use std::sync::OnceLock;

/// Exact sRGB decoding of one component (0..=1 in, 0..=1 out; values outside are
/// extended linearly/mirrored as babl does for float).
#[inline]
pub fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Exact sRGB encoding of one linear component.
#[inline]
pub fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// 8-bit sRGB to linear float.
pub fn u8_to_linear_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0.0; 256];
        for (i, v) in t.iter_mut().enumerate() {
            *v = srgb_to_linear(i as f32 / 255.0);
        }
        t
    })
}

const ENCODE_STEPS: usize = 1 << 16;

/// Linear float to 8-bit sRGB through a 65536-entry table (exact to the rounding of
/// the 8-bit result for every input we produce: the table is finer than the 8-bit
/// steps everywhere, including near black).
pub struct Encoder {
    table: Vec<u8>,
}

impl Encoder {
    pub fn get() -> &'static Encoder {
        static ENC: OnceLock<Encoder> = OnceLock::new();
        ENC.get_or_init(|| {
            let table = (0..ENCODE_STEPS)
                .map(|i| {
                    let lin = (i as f32 + 0.5) / ENCODE_STEPS as f32;
                    (linear_to_srgb(lin) * 255.0 + 0.5) as u8
                })
                .collect();
            Encoder { table }
        })
    }

    #[inline]
    pub fn encode(&self, v: f32) -> u8 {
        if v.is_nan() || v <= 0.0 {
            return 0;
        }
        if v >= 1.0 {
            return 255;
        }
        self.table[(v * ENCODE_STEPS as f32) as usize]
    }
}

/// A straight-alpha float (0..=1) to u8 with rounding and clamping.
#[inline]
pub fn unit_to_u8(v: f32) -> u8 {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= 1.0 {
        255
    } else {
        (v * 255.0 + 0.5) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        let dec = u8_to_linear_table();
        let enc = Encoder::get();
        for i in 0..=255u8 {
            assert_eq!(enc.encode(dec[i as usize]), i);
        }
    }

    #[test]
    fn curve_endpoints() {
        assert_eq!(srgb_to_linear(0.0), 0.0);
        assert!((srgb_to_linear(1.0) - 1.0).abs() < 1e-6);
        assert!((linear_to_srgb(0.214_041) - 0.5).abs() < 1e-3);
    }
}
