//! Loader and saver components: the only operations that do I/O.
//!
//! `gegl/load` (and the format-specific `gegl/jpg-load`, `gegl/png-load`) read a
//! local file named on `path`, or a `file://` URI on `uri`; other URIs go through the
//! run context's fetcher, which the live runtime supplies with its network rules.
//! Savers encode their input to the file on `path`.

use std::path::Path;

use super::{ComponentSpec, FileAccess, FnOp, Inputs, OpError, Outputs, Registry, RunContext};
use crate::codec::{self, DecodeOptions, EncodeOptions, OutputFormat, PngCompression};
use crate::value::PortSpec;

pub fn register(reg: &mut Registry) {
    for (name, description) in [
        ("gegl/load", "Multipurpose file loader, that uses other native handlers, and fallback conversion using Image Magick's convert."),
        ("gegl/jpg-load", "JPEG image loader"),
        ("gegl/png-load", "PNG image loader"),
    ] {
        reg.add(FnOp {
            spec: ComponentSpec {
                name,
                description,
                icon: super::icon_for(name),
                inports: vec![
                    PortSpec::string("path", Some(""), "Path of file to load."),
                    PortSpec::uri("uri", "URI for file to load."),
                ],
                outports: vec![PortSpec::buffer("output")],
            },
            run: run_load,
        });
    }
    let saver = |name: &'static str, description: &'static str, extra: Vec<PortSpec>| {
        let mut inports = vec![
            PortSpec::buffer("input"),
            PortSpec::string("path", Some(""), "Target path and filename, use '-' for stdout."),
        ];
        inports.extend(extra);
        ComponentSpec { name, description, icon: super::icon_for(name), inports, outports: vec![] }
    };
    reg.add(FnOp {
        spec: saver(
            "gegl/png-save",
            "PNG image saver, using libpng",
            vec![
                PortSpec::int("compression", 3, 1, 9, "PNG compression level from 1 to 9"),
                PortSpec::int("bitdepth", 16, 8, 16, "8 and 16 are the currently accepted values."),
            ],
        ),
        run: |i, c| run_save(i, c, OutputFormat::Png),
    });
    reg.add(FnOp {
        spec: saver(
            "gegl/jpg-save",
            "JPEG image saver, using libjpeg",
            vec![
                PortSpec::int("quality", 90, 1, 100, "JPEG compression quality (between 1 and 100)"),
                PortSpec::boolean("optimize", true, "Use optimized huffman tables"),
                PortSpec::boolean("progressive", true, "Create progressive JPEG images"),
            ],
        ),
        run: |i, c| run_save(i, c, OutputFormat::Jpeg),
    });
    reg.add(FnOp {
        spec: saver(
            "gegl/webp-save",
            "WebP image saver",
            vec![PortSpec::int("quality", 90, 1, 100, "WebP compression quality (between 1 and 100)")],
        ),
        run: |i, c| run_save(i, c, OutputFormat::Webp),
    });
    reg.add(FnOp {
        spec: saver(
            "gegl/save",
            "Multipurpose file saver, that uses other native save handlers depending on extension.",
            vec![],
        ),
        run: run_save_by_extension,
    });
}

/// Reads and decodes a local image file.
pub fn load_file(path: &Path, ctx: &RunContext) -> Result<crate::pixels::Image, OpError> {
    if ctx.files == FileAccess::None {
        return Err(OpError::Invalid(format!("cannot read {}: local files are not readable here", path.display())));
    }
    let bytes = std::fs::read(path).map_err(|e| OpError::Io(format!("cannot read {}: {e}", path.display())))?;
    let opts = DecodeOptions { max_pixels: ctx.limits.max_pixels, ..DecodeOptions::default() };
    let decoded = codec::decode(&bytes, &opts).map_err(|e| OpError::Invalid(format!("{}: {e}", path.display())))?;
    Ok(decoded.image)
}

fn run_load(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let uri = inputs.str("uri").trim();
    let path = inputs.str("path").trim();
    let target = if !uri.is_empty() {
        match uri.strip_prefix("file://") {
            Some(p) => p,
            None => return Ok(Outputs::image(load_remote(uri, ctx)?)),
        }
    } else {
        path
    };
    if target.is_empty() {
        // Not configured yet: idle, like a filter with nothing connected.
        return Err(OpError::MissingInput("path"));
    }
    Ok(Outputs::image(load_file(Path::new(target), ctx)?))
}

/// Fetches and decodes a remote image through the context's fetcher.
fn load_remote(uri: &str, ctx: &RunContext) -> Result<crate::pixels::Image, OpError> {
    let fetch = ctx
        .fetch
        .as_ref()
        .ok_or_else(|| OpError::Invalid(format!("cannot load {uri:?}: remote inputs are not available here")))?;
    let bytes = fetch.fetch(uri).map_err(|e| OpError::Io(format!("cannot fetch {uri}: {e}")))?;
    let opts = DecodeOptions { max_pixels: ctx.limits.max_pixels, ..DecodeOptions::default() };
    let decoded = codec::decode(&bytes, &opts).map_err(|e| OpError::Invalid(format!("{uri}: {e}")))?;
    Ok(decoded.image)
}

fn save(inputs: &Inputs, ctx: &RunContext, format: OutputFormat) -> Result<Outputs, OpError> {
    let img = inputs.require_image("input")?;
    let path = inputs.str("path");
    if path.is_empty() {
        return Err(OpError::Invalid("nothing to save to: set path".into()));
    }
    if ctx.files != FileAccess::ReadWrite {
        return Err(OpError::Invalid(format!("not saved to {path:?}: savers write no files here")));
    }
    let mut opts = EncodeOptions::new(format);
    if inputs.get("quality").is_some() {
        opts.quality = inputs.int("quality").clamp(1, 100) as u8;
    }
    if inputs.get("progressive").is_some() {
        opts.progressive = inputs.bool("progressive");
    }
    if inputs.get("compression").is_some() {
        opts.png_compression = match inputs.int("compression") {
            ..=3 => PngCompression::Fast,
            4..=6 => PngCompression::Default,
            _ => PngCompression::Best,
        };
    }
    let bytes = codec::encode(img, &opts).map_err(|e| OpError::Invalid(e.to_string()))?;
    write_atomic(Path::new(path), &bytes).map_err(|e| OpError::Io(format!("cannot write {path}: {e}")))?;
    Ok(Outputs::none())
}

fn run_save(inputs: &Inputs, ctx: &RunContext, format: OutputFormat) -> Result<Outputs, OpError> {
    save(inputs, ctx, format)
}

fn run_save_by_extension(inputs: &Inputs, ctx: &RunContext) -> Result<Outputs, OpError> {
    let path = inputs.str("path");
    let ext = Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or("");
    let format = OutputFormat::from_extension(&ext.to_ascii_lowercase())
        .ok_or_else(|| OpError::Invalid(format!("cannot tell the format of {path:?} from its extension")))?;
    save(inputs, ctx, format)
}

/// Writes a file so that readers never see it half-written: temp file, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pixels::Image;
    use crate::value::Value;
    use std::sync::Arc;

    #[test]
    fn save_then_load_round_trip() {
        let dir = std::env::temp_dir().join(format!("imgflo-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.png");
        let reg = Registry::builtin();
        let img = Arc::new(Image::from_rgb8(3, 2, (0..18).collect()).unwrap());
        let mut inputs = Inputs::defaults(reg.spec("gegl/save").unwrap());
        inputs.set("input", Value::Image(img.clone()));
        inputs.set("path", Value::String(path.display().to_string()));
        reg.get("gegl/save").unwrap().run(&inputs, &RunContext::default()).unwrap();
        let mut load = Inputs::defaults(reg.spec("gegl/load").unwrap());
        load.set("path", Value::String(path.display().to_string()));
        let out = reg.get("gegl/load").unwrap().run(&load, &RunContext::default()).unwrap();
        assert_eq!(**out.get("output").unwrap().as_image().unwrap(), *img);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_access_restricts_loaders_and_savers() {
        let dir = std::env::temp_dir().join(format!("imgflo-io-access-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("y.png");
        let reg = Registry::builtin();
        let img = Arc::new(Image::from_rgb8(2, 2, vec![7; 12]).unwrap());
        let mut save = Inputs::defaults(reg.spec("gegl/png-save").unwrap());
        save.set("input", Value::Image(img));
        save.set("path", Value::String(path.display().to_string()));
        let saver = reg.get("gegl/png-save").unwrap();
        for files in [FileAccess::ReadOnly, FileAccess::None] {
            let ctx = RunContext { files, ..RunContext::default() };
            assert!(matches!(saver.run(&save, &ctx), Err(OpError::Invalid(_))), "{files:?}");
            assert!(!path.exists(), "{files:?} wrote a file");
        }
        saver.run(&save, &RunContext::default()).unwrap();
        assert!(path.exists());
        let mut load = Inputs::defaults(reg.spec("gegl/load").unwrap());
        load.set("path", Value::String(path.display().to_string()));
        let loader = reg.get("gegl/load").unwrap();
        let read_only = RunContext { files: FileAccess::ReadOnly, ..RunContext::default() };
        assert!(loader.run(&load, &read_only).is_ok());
        let none = RunContext { files: FileAccess::None, ..RunContext::default() };
        assert!(matches!(loader.run(&load, &none), Err(OpError::Invalid(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_file_and_remote_uri_are_errors() {
        let reg = Registry::builtin();
        let mut load = Inputs::defaults(reg.spec("gegl/load").unwrap());
        load.set("path", Value::String("/nonexistent/x.png".into()));
        assert!(matches!(reg.get("gegl/load").unwrap().run(&load, &RunContext::default()), Err(OpError::Io(_))));
        load.set("uri", Value::String("http://example.com/a.png".into()));
        assert!(reg.get("gegl/load").unwrap().run(&load, &RunContext::default()).is_err());
    }
}
