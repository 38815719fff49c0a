//! Loading the image a packet names: a local path or `file://` URI, or an
//! `http(s)` URL through the runtime's fetcher (which applies the server's network
//! rules). The decoder checks the pixel limit before decoding.

use std::path::Path;

use imgflo_runtime::codec::{self, DecodeOptions};
use imgflo_runtime::Image;

use crate::session::RuntimeOptions;

/// Reads and decodes the image at `source`.
pub fn load_image(source: &str, options: &RuntimeOptions) -> Result<Image, String> {
    let lower = source.to_ascii_lowercase();
    let bytes = if lower.starts_with("http://") || lower.starts_with("https://") {
        let fetch = options.fetch.as_ref().ok_or_else(|| format!("cannot fetch {source}: no network access here"))?;
        fetch.fetch(source).map_err(|e| format!("cannot fetch {source}: {e}"))?
    } else {
        let path = source.strip_prefix("file://").unwrap_or(source);
        if lower.contains("://") && !lower.starts_with("file://") {
            return Err(format!("cannot load {source}: only http, https and file inputs are supported"));
        }
        std::fs::read(Path::new(path)).map_err(|e| format!("cannot read {path}: {e}"))?
    };
    let opts = DecodeOptions { max_pixels: options.max_pixels, ..DecodeOptions::default() };
    codec::decode(&bytes, &opts).map(|d| d.image).map_err(|e| format!("{source}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_load() {
        let options = RuntimeOptions::default();
        assert!(load_image("http://example.com/a.png", &options).unwrap_err().contains("no network access"));
        assert!(load_image("ftp://example.com/a.png", &options).unwrap_err().contains("only http"));
        assert!(load_image("/nonexistent/a.png", &options).unwrap_err().contains("cannot read"));
    }
}
