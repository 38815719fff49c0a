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

const ENCODE_MAX: f32 = 65535.0;

/// Linear float to 8-bit sRGB through a 65536-entry table: one multiply, a clamp
/// and a load per value, no branches (NaN saturates to index 0). The table step is
/// finer than the 8-bit steps everywhere, including near black.
pub struct Encoder {
    table: Vec<u8>,
}

impl Encoder {
    pub fn get() -> &'static Encoder {
        static ENC: OnceLock<Encoder> = OnceLock::new();
        ENC.get_or_init(|| {
            let table = (0..=ENCODE_MAX as usize)
                .map(|i| (linear_to_srgb(i as f32 / ENCODE_MAX) * 255.0 + 0.5) as u8)
                .collect();
            Encoder { table }
        })
    }

    #[inline]
    pub fn encode(&self, v: f32) -> u8 {
        // clamp keeps NaN, and `as usize` turns NaN into 0.
        let i = (v * ENCODE_MAX + 0.5).clamp(0.0, ENCODE_MAX) as usize;
        self.table[i]
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
    fn encoder_handles_out_of_range_values() {
        let enc = Encoder::get();
        assert_eq!(enc.encode(f32::NAN), 0);
        assert_eq!(enc.encode(-3.0), 0);
        assert_eq!(enc.encode(7.0), 255);
        assert_eq!(enc.encode(f32::INFINITY), 255);
        assert_eq!(enc.encode(srgb_to_linear(100.0 / 255.0)), 100);
    }

    #[test]
    fn curve_endpoints() {
        assert_eq!(srgb_to_linear(0.0), 0.0);
        assert!((srgb_to_linear(1.0) - 1.0).abs() < 1e-6);
        assert!((linear_to_srgb(0.214_041) - 0.5).abs() < 1e-3);
    }
}
