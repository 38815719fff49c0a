//! CSS-like colour parsing, as GEGL's colour parser accepted it.
//!
//! Colours are kept as sRGB-encoded (perceptual) RGBA floats in 0..=1; ops convert
//! to linear light where they compute.

use std::fmt;

/// An RGBA colour with sRGB-encoded components in 0..=1 and straight alpha.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Color {
    pub r: f32,
    pub g: f32,
    pub b: f32,
    pub a: f32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid colour {0:?}: expected #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba() or a colour name")]
pub struct ColorParseError(pub String);

impl Color {
    pub const BLACK: Color = Color::rgba(0.0, 0.0, 0.0, 1.0);
    pub const WHITE: Color = Color::rgba(1.0, 1.0, 1.0, 1.0);
    pub const TRANSPARENT: Color = Color::rgba(0.0, 0.0, 0.0, 0.0);

    pub const fn rgba(r: f32, g: f32, b: f32, a: f32) -> Color {
        Color { r, g, b, a }
    }

    /// Parses `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(r, g, b)`, `rgba(r, g, b, a)`
    /// (components 0-255 or percentages, alpha 0-1) and the CSS colour names.
    pub fn parse(text: &str) -> Result<Color, ColorParseError> {
        let err = || ColorParseError(text.to_string());
        let s = text.trim();
        if let Some(hex) = s.strip_prefix('#') {
            return parse_hex(hex).ok_or_else(err);
        }
        let lower = s.to_ascii_lowercase();
        if let Some(args) =
            lower.strip_prefix("rgba(").or_else(|| lower.strip_prefix("rgb(")).and_then(|rest| rest.strip_suffix(')'))
        {
            return parse_functional(args).ok_or_else(err);
        }
        named(&lower).ok_or_else(err)
    }

    /// `#rrggbbaa`, the form GEGL metadata used for defaults.
    pub fn to_hex(&self) -> String {
        let c = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        format!("#{:02x}{:02x}{:02x}{:02x}", c(self.r), c(self.g), c(self.b), c(self.a))
    }

    /// The colour's components in linear light (alpha unchanged).
    pub fn to_linear(&self) -> [f32; 4] {
        use crate::pixels::srgb::srgb_to_linear;
        [srgb_to_linear(self.r), srgb_to_linear(self.g), srgb_to_linear(self.b), self.a]
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

fn parse_hex(hex: &str) -> Option<Color> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
    let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    let (r, g, b, a) = match hex.len() {
        3 | 4 => {
            let short = |i| digit(i).map(|d| d * 17);
            let a = if hex.len() == 4 { short(3)? } else { 255 };
            (short(0)?, short(1)?, short(2)?, a)
        }
        6 | 8 => {
            let a = if hex.len() == 8 { pair(6)? } else { 255 };
            (pair(0)?, pair(2)?, pair(4)?, a)
        }
        _ => return None,
    };
    let f = |v: u8| v as f32 / 255.0;
    Some(Color::rgba(f(r), f(g), f(b), f(a)))
}

fn parse_functional(args: &str) -> Option<Color> {
    let parts: Vec<&str> = args.split(',').map(str::trim).collect();
    if parts.len() != 3 && parts.len() != 4 {
        return None;
    }
    let channel = |p: &str| -> Option<f32> {
        let v = if let Some(pct) = p.strip_suffix('%') {
            pct.trim().parse::<f32>().ok()? / 100.0
        } else {
            p.parse::<f32>().ok()? / 255.0
        };
        v.is_finite().then_some(v.clamp(0.0, 1.0))
    };
    let alpha = match parts.get(3) {
        Some(p) => {
            let v = if let Some(pct) = p.strip_suffix('%') {
                pct.trim().parse::<f32>().ok()? / 100.0
            } else {
                p.parse::<f32>().ok()?
            };
            if !v.is_finite() {
                return None;
            }
            v.clamp(0.0, 1.0)
        }
        None => 1.0,
    };
    Some(Color::rgba(channel(parts[0])?, channel(parts[1])?, channel(parts[2])?, alpha))
}

fn named(name: &str) -> Option<Color> {
    if name == "transparent" {
        return Some(Color::TRANSPARENT);
    }
    let rgb: u32 = match name {
        "black" => 0x000000,
        "white" => 0xffffff,
        "red" => 0xff0000,
        "lime" => 0x00ff00,
        "green" => 0x008000,
        "blue" => 0x0000ff,
        "yellow" => 0xffff00,
        "cyan" | "aqua" => 0x00ffff,
        "magenta" | "fuchsia" => 0xff00ff,
        "gray" | "grey" => 0x808080,
        "silver" => 0xc0c0c0,
        "maroon" => 0x800000,
        "olive" => 0x808000,
        "navy" => 0x000080,
        "purple" => 0x800080,
        "teal" => 0x008080,
        "orange" => 0xffa500,
        "pink" => 0xffc0cb,
        "brown" => 0xa52a2a,
        "gold" => 0xffd700,
        "indigo" => 0x4b0082,
        "violet" => 0xee82ee,
        "coral" => 0xff7f50,
        "salmon" => 0xfa8072,
        "khaki" => 0xf0e68c,
        "beige" => 0xf5f5dc,
        "ivory" => 0xfffff0,
        "lavender" => 0xe6e6fa,
        "turquoise" => 0x40e0d0,
        "tan" => 0xd2b48c,
        "chocolate" => 0xd2691e,
        "crimson" => 0xdc143c,
        "darkgray" | "darkgrey" => 0xa9a9a9,
        "lightgray" | "lightgrey" => 0xd3d3d3,
        "dimgray" | "dimgrey" => 0x696969,
        "darkred" => 0x8b0000,
        "darkgreen" => 0x006400,
        "darkblue" => 0x00008b,
        "lightblue" => 0xadd8e6,
        "skyblue" => 0x87ceeb,
        "steelblue" => 0x4682b4,
        "orangered" => 0xff4500,
        "tomato" => 0xff6347,
        "hotpink" => 0xff69b4,
        "seagreen" => 0x2e8b57,
        "forestgreen" => 0x228b22,
        "limegreen" => 0x32cd32,
        "slategray" | "slategrey" => 0x708090,
        "wheat" => 0xf5deb3,
        "plum" => 0xdda0dd,
        "orchid" => 0xda70d6,
        "sienna" => 0xa0522d,
        "peru" => 0xcd853f,
        "firebrick" => 0xb22222,
        "midnightblue" => 0x191970,
        "royalblue" => 0x4169e1,
        "whitesmoke" => 0xf5f5f5,
        "snow" => 0xfffafa,
        _ => return None,
    };
    let f = |shift: u32| ((rgb >> shift) & 0xff) as f32 / 255.0;
    Some(Color::rgba(f(16), f(8), f(0), 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_hex_form() {
        assert_eq!(Color::parse("#f00").unwrap(), Color::rgba(1.0, 0.0, 0.0, 1.0));
        assert_eq!(Color::parse("#f008").unwrap().a, 136.0 / 255.0);
        assert_eq!(Color::parse("#00ff00").unwrap(), Color::rgba(0.0, 1.0, 0.0, 1.0));
        assert_eq!(Color::parse("#0000ff80").unwrap().a, 128.0 / 255.0);
        assert_eq!(Color::parse("#0A2A2F").unwrap().to_hex(), "#0a2a2fff");
    }

    #[test]
    fn parses_functional_and_named() {
        assert_eq!(Color::parse("rgb(255, 0, 0)").unwrap(), Color::rgba(1.0, 0.0, 0.0, 1.0));
        assert_eq!(Color::parse("rgba(0,0,255,0.5)").unwrap().a, 0.5);
        assert_eq!(Color::parse("rgb(100%, 0%, 50%)").unwrap().b, 0.5);
        assert_eq!(Color::parse("White").unwrap(), Color::WHITE);
        assert_eq!(Color::parse("transparent").unwrap().a, 0.0);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "#", "#12", "#12345", "#gggggg", "rgb(1,2)", "rgb(a,b,c)", "notacolour", "#ff00ff00ff"] {
            assert!(Color::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
