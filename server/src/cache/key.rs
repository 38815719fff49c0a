//! Cache keys: validation and computation.
//!
//! A key is the lowercase hex SHA-256 of a canonical encoding of everything that determines a result, optionally
//! followed by `.` and the output extension. Keys become file names, so anything outside that grammar (path
//! separators, dots, uppercase, percent escapes) is rejected by [`CacheKey::parse`].

use std::fmt;

use sha2::{Digest, Sha256};

/// Length of the hex digest part of a key.
pub(crate) const HASH_HEX_LEN: usize = 64;
/// Longest accepted extension (`jpeg`, `webp`, `tiff`, ... fit; `.` not counted).
const MAX_EXT_LEN: usize = 5;
/// Domain separation tag; bump the version when the encoding changes so old entries simply stop matching.
const KEY_DOMAIN: &[u8] = b"imgflo-cache-key/v1";

/// A validated cache key: 64 lowercase hex chars, optionally `.` + 1-5 chars of `[a-z0-9]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(String);

impl CacheKey {
    /// Validates `s`; `None` unless it matches the key grammar exactly.
    pub fn parse(s: &str) -> Option<CacheKey> {
        let (hash, ext) = match s.split_once('.') {
            Some((hash, ext)) => (hash, Some(ext)),
            None => (s, None),
        };
        if hash.len() != HASH_HEX_LEN || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        if let Some(ext) = ext {
            if ext.is_empty()
                || ext.len() > MAX_EXT_LEN
                || !ext.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                return None;
            }
        }
        Some(CacheKey(s.to_owned()))
    }

    /// The key as text (also its file name).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The extension without the dot, if any.
    pub fn extension(&self) -> Option<&str> {
        self.0.get(HASH_HEX_LEN + 1..).filter(|e| !e.is_empty())
    }

    /// The 64-char hex digest part.
    pub(crate) fn hash_hex(&self) -> &str {
        self.0.get(..HASH_HEX_LEN).unwrap_or(&self.0)
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Feeds one length-prefixed field, so no two different part lists encode to the same bytes.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Computes the key for a result: SHA-256 over a domain tag and the length-prefixed parts (the parameter list is
/// preceded by its count), in hex, plus `.` + `ext` when `ext` is non-empty.
///
/// `params` must already be decoded and sorted by the caller; the function hashes them in the given order. `ext`
/// is hashed too and should be a valid extension (1-5 of `[a-z0-9]`); anything else is dropped from the file name
/// (the hash still covers it) so the result is always a valid [`CacheKey`].
pub fn compute_key(graph: &str, graph_version: &str, params: &[(String, String)], input: &str, ext: &str) -> CacheKey {
    let mut h = Sha256::new();
    field(&mut h, KEY_DOMAIN);
    field(&mut h, graph.as_bytes());
    field(&mut h, graph_version.as_bytes());
    h.update((params.len() as u64).to_be_bytes());
    for (name, value) in params {
        field(&mut h, name.as_bytes());
        field(&mut h, value.as_bytes());
    }
    field(&mut h, input.as_bytes());
    field(&mut h, ext.as_bytes());
    let mut key = hex::encode(h.finalize());
    if !ext.is_empty() {
        let with_ext = format!("{key}.{ext}");
        if CacheKey::parse(&with_ext).is_some() {
            key = with_ext;
        }
    }
    CacheKey(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parse_accepts_valid_keys() {
        let k = CacheKey::parse(HEX).expect("bare hash");
        assert_eq!(k.as_str(), HEX);
        assert_eq!(k.extension(), None);
        let with_ext = format!("{HEX}.jpeg");
        let k = CacheKey::parse(&with_ext).expect("with ext");
        assert_eq!(k.extension(), Some("jpeg"));
        assert_eq!(k.hash_hex(), HEX);
        assert_eq!(k.to_string(), with_ext);
        assert!(CacheKey::parse(&format!("{HEX}.mp4")).is_some());
        assert!(CacheKey::parse(&format!("{HEX}.abcde")).is_some());
    }

    #[test]
    fn parse_rejects_bad_keys() {
        let bad = [
            "../x".to_string(),
            "a/b".to_string(),
            "%2e%2e".to_string(),
            "%2e%2e%2f".to_string(),
            String::new(),
            HEX.to_uppercase(),
            HEX[..63].to_string(),
            format!("{HEX}0"),
            format!("{}g", &HEX[..63]),
            format!("{HEX}."),
            format!("{HEX}.abcdef"),
            format!("{HEX}.tar.gz"),
            format!("{HEX}.JPG"),
            format!("{HEX}.j/g"),
            format!("{HEX}.j-g"),
            format!("{HEX}/"),
            format!("../{}", &HEX[..61]),
            format!(".tmp-{HEX}-0011"),
            format!("{}\0", &HEX[..63]),
            format!("{}é", &HEX[..62]),
        ];
        for s in &bad {
            assert!(CacheKey::parse(s).is_none(), "accepted {s:?}");
        }
    }

    #[test]
    fn compute_key_is_pinned() {
        // Cross-checked against an independent Python (hashlib + struct) implementation of the encoding.
        let k = compute_key("crop", "v1", &p(&[("height", "110"), ("width", "130")]), "files/grid.jpg", "jpg");
        assert_eq!(k.as_str(), "34ac60db7750babe7504c598befbcd5939b7128319f8fa76225a8b7a89533071.jpg");
        let k = compute_key("", "", &[], "", "");
        assert_eq!(k.as_str(), "0a9b008017c71dc0bb7f57cb413d3199b7bbc00a1c79da6414320f5807cc7d90");
    }

    #[test]
    fn compute_key_changes_with_each_part() {
        let params = p(&[("a", "1"), ("b", "2")]);
        let base = compute_key("g", "v1", &params, "in.png", "png");
        assert_eq!(base, compute_key("g", "v1", &params, "in.png", "png"), "stable");
        let variants = [
            compute_key("h", "v1", &params, "in.png", "png"),
            compute_key("g", "v2", &params, "in.png", "png"),
            compute_key("g", "v1", &p(&[("a", "1"), ("b", "3")]), "in.png", "png"),
            compute_key("g", "v1", &p(&[("a", "1"), ("c", "2")]), "in.png", "png"),
            compute_key("g", "v1", &p(&[("a", "1")]), "in.png", "png"),
            compute_key("g", "v1", &p(&[("b", "2"), ("a", "1")]), "in.png", "png"),
            compute_key("g", "v1", &params, "in2.png", "png"),
            compute_key("g", "v1", &params, "in.png", "jpg"),
            compute_key("g", "v1", &params, "in.png", ""),
        ];
        for v in &variants {
            assert_ne!(v.hash_hex(), base.hash_hex(), "{v} collides with {base}");
        }
    }

    #[test]
    fn compute_key_encoding_is_unambiguous() {
        let a = compute_key("ab", "c", &[], "", "");
        let b = compute_key("a", "bc", &[], "", "");
        assert_ne!(a, b);
        let a = compute_key("g", "", &p(&[("a", "b=c")]), "", "");
        let b = compute_key("g", "", &p(&[("a=b", "c")]), "", "");
        assert_ne!(a, b);
        let a = compute_key("g", "", &p(&[("a", "")]), "x", "");
        let b = compute_key("g", "", &[], "ax", "");
        assert_ne!(a, b);
        let a = compute_key("g", "", &p(&[("", "")]), "", "");
        let b = compute_key("g", "", &[], "", "");
        assert_ne!(a, b);
    }

    #[test]
    fn compute_key_extension_handling() {
        let k = compute_key("g", "v", &[], "i", "webp");
        assert_eq!(k.extension(), Some("webp"));
        assert!(CacheKey::parse(k.as_str()).is_some());
        let k = compute_key("g", "v", &[], "i", "");
        assert_eq!(k.extension(), None);
        assert_eq!(k.as_str().len(), 64);
        // An invalid extension never reaches the file name.
        for ext in ["../x", "JPG", "toolong", "a.b"] {
            let k = compute_key("g", "v", &[], "i", ext);
            assert_eq!(k.extension(), None, "{ext}");
            assert!(CacheKey::parse(k.as_str()).is_some());
        }
    }
}
