//! Parsing processing URLs: `/graph/<graphspec>` and `/graph/<key>/<token>/<graphspec>`,
//! where graphspec is `name[.ext]`, plus the query (input, parameters, `_nocache`,
//! `debug`).

use crate::error::ApiError;

/// A parsed processing request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessingUrl {
    pub key: Option<String>,
    pub token: Option<String>,
    /// The last path component exactly as sent (used by the token).
    pub graphspec: String,
    pub graph: String,
    /// Output extension as given (`jpg`, `jpeg`, `png`, ...); empty for `noop`
    /// without extension. Defaults to `jpg`.
    pub ext: String,
    /// The raw query string without `?` (used by the token).
    pub raw_query: String,
    pub input: Option<String>,
    /// Parameters (not `input`, `_nocache`, `debug`), decoded, in request order.
    pub params: Vec<(String, String)>,
    pub no_cache: bool,
    pub debug: bool,
}

impl ProcessingUrl {
    /// `?` + raw query, or empty: the "search" of the original token formula.
    pub fn search(&self) -> String {
        if self.raw_query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.raw_query)
        }
    }

    /// The output format name used in cache keys (`jpeg` is `jpg`).
    pub fn normalized_ext(&self) -> &str {
        if self.ext == "jpeg" {
            "jpg"
        } else {
            &self.ext
        }
    }

    /// Parameters sorted by name: the canonical form for cache keys.
    pub fn canonical_params(&self) -> Vec<(String, String)> {
        let mut p = self.params.clone();
        p.sort();
        p
    }
}

fn truthy(v: &str) -> bool {
    !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false" | "no" | "off")
}

/// Parses the path segments after `/graph/` and the raw query.
pub fn parse(segments: &[&str], raw_query: &str) -> Result<ProcessingUrl, ApiError> {
    let (key, token, graphspec) = match segments {
        [spec] => (None, None, *spec),
        [key, token, spec] => (Some(key.to_string()), Some(token.to_string()), *spec),
        _ => return Err(ApiError::NotFound("no such route: use /graph/<name> or /graph/<key>/<token>/<name>".into())),
    };
    let decoded_spec =
        percent_decode(graphspec).ok_or_else(|| ApiError::BadRequest("invalid percent-encoding in path".into()))?;
    let (graph, ext) = match decoded_spec.rsplit_once('.') {
        Some((g, e)) => (g.to_string(), e.to_string()),
        None => {
            let ext = if decoded_spec == "noop" { "" } else { "jpg" };
            (decoded_spec.clone(), ext.to_string())
        }
    };
    if !crate::graphs::valid_name(&graph) {
        return Err(ApiError::UnknownGraph(graph));
    }
    let mut url = ProcessingUrl {
        key,
        token,
        graphspec: graphspec.to_string(),
        graph,
        ext,
        raw_query: raw_query.to_string(),
        input: None,
        params: Vec::new(),
        no_cache: false,
        debug: false,
    };
    let mut seen = std::collections::HashSet::new();
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        let (k, v) = (k.into_owned(), v.into_owned());
        if !seen.insert(k.clone()) {
            return Err(ApiError::InvalidParameter { name: k, message: "given more than once".into(), allowed: None });
        }
        match k.as_str() {
            "input" => url.input = (!v.is_empty()).then_some(v),
            "_nocache" => url.no_cache = v == "true",
            "debug" => url.debug = truthy(&v),
            _ => url.params.push((k, v)),
        }
    }
    Ok(url)
}

/// Decodes `%XX` escapes (not `+`) in a path segment; None for invalid UTF-8 or escapes.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The size-limit rule of the original (§4.5): a missing dimension counts as
/// sqrt(limit) − 1; the request must satisfy width × height < limit. Non-numeric
/// values fail the rule.
pub fn within_size_limit(params: &[(String, String)], limit_megapixels: f64) -> bool {
    let limit = limit_megapixels * 1_000_000.0;
    let missing = limit.sqrt() - 1.0;
    let dim = |name: &str| -> Option<f64> {
        match params.iter().find(|(k, _)| k == name) {
            None => Some(missing),
            Some((_, v)) => v.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
        }
    };
    match (dim("width"), dim("height")) {
        (Some(w), Some(h)) => w * h < limit,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Damaged URLs (mutations of real ones) are refused or parsed, never a panic;
    /// what parses goes through the size rule and the cache key as a request would.
    #[test]
    fn damaged_urls_never_panic() {
        use imgflo_runtime::testing::{mutate, Rng};
        let seeds: [&[u8]; 4] = [
            b"gradientmap.png?input=files%2Fa.jpg&color1=%23ff0000&width=300",
            b"KEY/0123456789abcdef0123456789abcdef/crop.jpeg?x=1&y=2&_nocache=true",
            b"noop?input=http%3A%2F%2Fexample.com%2Fa%20b.gif&debug=1",
            b"croprotate.webp?degrees=-90&height=1e3&width=%E2%82%AC",
        ];
        let mut rng = Rng(0x5eed);
        for i in 0..20_000 {
            let url = String::from_utf8_lossy(&mutate(&mut rng, seeds[i % seeds.len()])).into_owned();
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            let segments: Vec<&str> = path.split('/').collect();
            if let Ok(u) = parse(&segments, query) {
                let _ = within_size_limit(&u.params, 25.0);
                let _ = crate::cache::compute_key(&u.graph, "v", &u.canonical_params(), "", u.normalized_ext());
                let _ = u.search();
            }
            let _ = percent_decode(query);
        }
    }

    #[test]
    fn plain_and_signed_forms() {
        let u = parse(&["gradientmap.png"], "input=files%2Fa.jpg&color1=%23ff0000").unwrap();
        assert_eq!((u.graph.as_str(), u.ext.as_str()), ("gradientmap", "png"));
        assert_eq!(u.input.as_deref(), Some("files/a.jpg"));
        assert_eq!(u.params, vec![("color1".to_string(), "#ff0000".to_string())]);
        let s = parse(&["KEY", "TOKEN", "crop"], "").unwrap();
        assert_eq!((s.key.as_deref(), s.token.as_deref(), s.ext.as_str()), (Some("KEY"), Some("TOKEN"), "jpg"));
        assert_eq!(s.search(), "");
        assert!(parse(&["a", "b"], "").is_err());
    }

    #[test]
    fn noop_defaults_to_no_extension_and_jpeg_normalises() {
        assert_eq!(parse(&["noop"], "").unwrap().ext, "");
        let u = parse(&["crop.jpeg"], "").unwrap();
        assert_eq!(u.normalized_ext(), "jpg");
        assert_eq!(u.graphspec, "crop.jpeg");
    }

    #[test]
    fn flags_are_not_parameters() {
        let u = parse(&["crop"], "_nocache=true&debug=1&x=3").unwrap();
        assert!(u.no_cache && u.debug);
        assert_eq!(u.params.len(), 1);
        assert!(!parse(&["crop"], "_nocache=1").unwrap().no_cache);
        assert!(parse(&["crop"], "x=1&x=2").is_err());
    }

    #[test]
    fn size_rule_matches_the_original() {
        let p = |w: Option<&str>, h: Option<&str>| {
            let mut v = Vec::new();
            if let Some(w) = w {
                v.push(("width".to_string(), w.to_string()));
            }
            if let Some(h) = h {
                v.push(("height".to_string(), h.to_string()));
            }
            within_size_limit(&v, 25.0)
        };
        assert!(!p(Some("1000"), Some("30000")));
        assert!(!p(None, Some("5100")));
        assert!(p(Some("5001"), None));
        assert!(!p(Some("5002"), None));
        assert!(!p(Some("abc"), None));
        assert!(p(None, None));
        assert!(p(Some("0"), Some("-5")));
    }
}
