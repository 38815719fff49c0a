//! Decoding and encoding images.
//!
//! Formats are recognised by their magic bytes only. Dimensions are read from the
//! header first and an image over the pixel limit is refused before any pixel is
//! decoded. EXIF orientation is applied on load. JPEG goes through libjpeg-turbo
//! (TurboJPEG), with DCT-domain downscaling when the caller says how small the image
//! will be used ("shrink on load"); the other formats through the `image` crate.

pub mod animation;
mod decode;
mod encode;
mod exif;
mod jpeg;
mod sniff;

pub use decode::{decode, probe, DecodeOptions, Decoded, Probe};
pub use encode::{encode, EncodeOptions, OutputFormat, PngCompression};
pub use sniff::{sniff, ImageFormat};

/// Why an image could not be decoded or encoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("not a supported image (JPEG, PNG, GIF, WebP, BMP or TIFF)")]
    UnknownFormat,
    #[error("image of {width}x{height} pixels is over the limit of {limit} pixels")]
    TooLarge { width: u64, height: u64, limit: u64 },
    #[error("corrupt or unsupported {format} image: {message}")]
    Corrupt { format: &'static str, message: String },
    #[error("could not encode {format}: {message}")]
    Encode { format: &'static str, message: String },
}
