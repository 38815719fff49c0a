//! Values carried on ports, port types, and the coercion of raw (string or JSON)
//! values to a port's type.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::color::Color;
use crate::pixels::Image;

/// The type of a port, with imgflo's names (as sent in `component:component`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortType {
    /// An image.
    Buffer,
    Int,
    Number,
    Boolean,
    String,
    Color,
    Enum,
    Uri,
    /// Any JSON message (message components such as `core/Repeat`).
    All,
}

impl PortType {
    pub fn as_str(self) -> &'static str {
        match self {
            PortType::Buffer => "buffer",
            PortType::Int => "int",
            PortType::Number => "number",
            PortType::Boolean => "boolean",
            PortType::String => "string",
            PortType::Color => "color",
            PortType::Enum => "enum",
            PortType::Uri => "uri",
            PortType::All => "all",
        }
    }
}

/// A value on a port.
#[derive(Clone, Debug)]
pub enum Value {
    Image(Arc<Image>),
    Int(i64),
    Number(f64),
    Bool(bool),
    /// Strings, enum nicks and URIs.
    String(String),
    Color(Color),
    /// Any other JSON message.
    Json(serde_json::Value),
}

impl Value {
    pub fn as_image(&self) -> Option<&Arc<Image>> {
        match self {
            Value::Image(img) => Some(img),
            _ => None,
        }
    }

    /// The value as JSON (images are described, not serialised).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Image(img) => json!({"type": "image", "width": img.width(), "height": img.height()}),
            Value::Int(v) => json!(v),
            Value::Number(v) => json!(v),
            Value::Bool(v) => json!(v),
            Value::String(v) => json!(v),
            Value::Color(c) => json!(c.to_hex()),
            Value::Json(v) => v.clone(),
        }
    }

    /// Feeds a stable identity of the value into a hasher (images by their id).
    pub fn hash_into<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Value::Image(img) => img.id().hash(h),
            Value::Int(v) => v.hash(h),
            Value::Number(v) => v.to_bits().hash(h),
            Value::Bool(v) => v.hash(h),
            Value::String(v) => v.hash(h),
            Value::Color(c) => [c.r, c.g, c.b, c.a].map(f32::to_bits).hash(h),
            Value::Json(v) => v.to_string().hash(h),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Image(img) => write!(f, "<image {}x{}>", img.width(), img.height()),
            Value::String(s) => f.write_str(s),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

/// Description of one port of a component.
#[derive(Clone, Debug)]
pub struct PortSpec {
    pub name: &'static str,
    pub ty: PortType,
    pub description: &'static str,
    pub default: Option<Value>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    /// Allowed values of an `enum` port.
    pub values: &'static [&'static str],
    /// An array port: every connection to it gives one element, in index order.
    pub addressable: bool,
}

/// Why a raw value could not be given to a port.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoerceError {
    #[error("expected a number, got {0:?}")]
    NotANumber(String),
    #[error("expected an integer, got {0:?}")]
    NotAnInteger(String),
    #[error("expected true or false, got {0:?}")]
    NotABoolean(String),
    #[error("{0}")]
    BadColor(#[from] crate::color::ColorParseError),
    #[error("unknown value {got:?}: allowed values are {allowed}")]
    UnknownEnumValue { got: String, allowed: String },
    #[error("an image port takes an image, not {0:?}")]
    NotAnImage(String),
}

impl PortSpec {
    /// A port carrying images.
    pub const fn buffer(name: &'static str) -> PortSpec {
        PortSpec {
            name,
            ty: PortType::Buffer,
            description: "Image buffer",
            default: None,
            minimum: None,
            maximum: None,
            values: &[],
            addressable: false,
        }
    }

    pub fn number(name: &'static str, default: f64, min: f64, max: f64, description: &'static str) -> PortSpec {
        PortSpec {
            name,
            ty: PortType::Number,
            description,
            default: Some(Value::Number(default)),
            minimum: Some(min),
            maximum: Some(max),
            values: &[],
            addressable: false,
        }
    }

    pub fn int(name: &'static str, default: i64, min: i64, max: i64, description: &'static str) -> PortSpec {
        PortSpec {
            name,
            ty: PortType::Int,
            description,
            default: Some(Value::Int(default)),
            minimum: Some(min as f64),
            maximum: Some(max as f64),
            values: &[],
            addressable: false,
        }
    }

    pub fn boolean(name: &'static str, default: bool, description: &'static str) -> PortSpec {
        PortSpec {
            name,
            ty: PortType::Boolean,
            description,
            default: Some(Value::Bool(default)),
            minimum: None,
            maximum: None,
            values: &[],
            addressable: false,
        }
    }

    pub fn color(name: &'static str, default: &'static str, description: &'static str) -> PortSpec {
        PortSpec {
            name,
            ty: PortType::Color,
            description,
            default: Some(Value::Color(Color::parse(default).expect("valid default colour"))),
            minimum: None,
            maximum: None,
            values: &[],
            addressable: false,
        }
    }

    pub fn enumeration(
        name: &'static str,
        default: &'static str,
        values: &'static [&'static str],
        description: &'static str,
    ) -> PortSpec {
        debug_assert!(values.contains(&default));
        PortSpec {
            name,
            ty: PortType::Enum,
            description,
            default: Some(Value::String(default.to_string())),
            minimum: None,
            maximum: None,
            values,
            addressable: false,
        }
    }

    pub fn string(name: &'static str, default: Option<&'static str>, description: &'static str) -> PortSpec {
        PortSpec {
            name,
            ty: PortType::String,
            description,
            default: default.map(|d| Value::String(d.to_string())),
            minimum: None,
            maximum: None,
            values: &[],
            addressable: false,
        }
    }

    pub fn uri(name: &'static str, description: &'static str) -> PortSpec {
        PortSpec { ty: PortType::Uri, ..PortSpec::string(name, None, description) }
    }

    pub fn message(name: &'static str, description: &'static str) -> PortSpec {
        PortSpec { ty: PortType::All, ..PortSpec::string(name, None, description) }
    }

    /// The default as JSON, as graph metadata and `component:component` show it.
    pub fn default_json(&self) -> Option<serde_json::Value> {
        self.default.as_ref().map(Value::to_json)
    }

    /// Converts a raw value (a JSON IIP, or a string from a URL or a `.fbp` file) to
    /// this port's type. Numbers are clamped to the port's range as GEGL did; a value
    /// that is not of the type at all is an error, never a silent default.
    pub fn coerce(&self, raw: &serde_json::Value) -> Result<Value, CoerceError> {
        use serde_json::Value as J;
        let text = || match raw {
            J::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self.ty {
            PortType::Number => {
                let v = match raw {
                    J::Number(n) => n.as_f64(),
                    J::String(s) => parse_f64(s),
                    _ => None,
                }
                .filter(|v| v.is_finite())
                .ok_or_else(|| CoerceError::NotANumber(text()))?;
                Ok(Value::Number(self.clamp(v)))
            }
            PortType::Int => {
                let v = match raw {
                    J::Number(n) => n.as_i64().map(|i| i as f64).or_else(|| n.as_f64().map(f64::trunc)),
                    J::String(s) => parse_f64(s).map(f64::trunc),
                    _ => None,
                }
                .filter(|v| v.is_finite())
                .ok_or_else(|| CoerceError::NotAnInteger(text()))?;
                Ok(Value::Int(self.clamp(v) as i64))
            }
            PortType::Boolean => match raw {
                J::Bool(b) => Ok(Value::Bool(*b)),
                J::Number(n) if n.as_f64() == Some(0.0) => Ok(Value::Bool(false)),
                J::Number(n) if n.as_f64() == Some(1.0) => Ok(Value::Bool(true)),
                J::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
                    "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
                    _ => Err(CoerceError::NotABoolean(s.clone())),
                },
                _ => Err(CoerceError::NotABoolean(text())),
            },
            PortType::Color => match raw {
                J::String(s) => Ok(Value::Color(Color::parse(s)?)),
                _ => Err(CoerceError::BadColor(crate::color::ColorParseError(text()))),
            },
            PortType::Enum => {
                let s = text();
                if self.values.contains(&s.as_str()) {
                    Ok(Value::String(s))
                } else {
                    Err(CoerceError::UnknownEnumValue { got: s, allowed: self.values.join(", ") })
                }
            }
            PortType::String | PortType::Uri => Ok(Value::String(text())),
            PortType::All => Ok(Value::Json(raw.clone())),
            PortType::Buffer => Err(CoerceError::NotAnImage(text())),
        }
    }

    fn clamp(&self, v: f64) -> f64 {
        let v = self.minimum.map_or(v, |m| v.max(m));
        self.maximum.map_or(v, |m| v.min(m))
    }
}

/// Parses a number as `strtod` would accept a whole string (surrounding white space
/// allowed, nothing else).
fn parse_f64(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_parsed_and_clamped() {
        let p = PortSpec::number("std-dev-x", 1.5, 0.0, 1500.0, "");
        assert!(matches!(p.coerce(&json!("60")), Ok(Value::Number(v)) if v == 60.0));
        assert!(matches!(p.coerce(&json!(2000)), Ok(Value::Number(v)) if v == 1500.0));
        assert!(matches!(p.coerce(&json!("-3")), Ok(Value::Number(v)) if v == 0.0));
        assert!(p.coerce(&json!("abc")).is_err());
        assert!(p.coerce(&json!("")).is_err());
        assert!(p.coerce(&json!("nan")).is_err());
        assert!(p.coerce(&json!(true)).is_err());
    }

    #[test]
    fn ints_truncate_like_strtoll() {
        let p = PortSpec::int("iterations", 4, 0, 32, "");
        assert!(matches!(p.coerce(&json!("1.5")), Ok(Value::Int(1))));
        assert!(matches!(p.coerce(&json!(99)), Ok(Value::Int(32))));
        assert!(p.coerce(&json!("four")).is_err());
    }

    #[test]
    fn enums_and_booleans_are_strict() {
        let p = PortSpec::enumeration("abyss-policy", "clamp", &["none", "clamp", "black", "white"], "");
        assert!(p.coerce(&json!("black")).is_ok());
        let err = p.coerce(&json!("purple")).unwrap_err();
        assert!(err.to_string().contains("none, clamp, black, white"));
        let b = PortSpec::boolean("srgb", false, "");
        assert!(matches!(b.coerce(&json!("TRUE")), Ok(Value::Bool(true))));
        assert!(matches!(b.coerce(&json!(false)), Ok(Value::Bool(false))));
        assert!(b.coerce(&json!("maybe")).is_err());
    }

    #[test]
    fn colours_parse_or_fail() {
        let p = PortSpec::color("color1", "#000000", "");
        assert!(matches!(p.coerce(&json!("#ff0000")), Ok(Value::Color(c)) if c.r == 1.0));
        assert!(p.coerce(&json!("#zz0000")).is_err());
    }
}
