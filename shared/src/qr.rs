//! QR codes for the signed declaration token: rendering (PNG, inline SVG) and decoding
//! (clean renders and camera frames, PNG or JPEG).
//!
//! - Rendering uses the `qrcode` crate for the symbol (optimal segmentation: a token
//!   `"CD1:" + Base45` is entirely in the QR alphanumeric set, so it is encoded in
//!   alphanumeric mode, with numeric runs where they are shorter) and draws the PNG
//!   itself from the module matrix with fast DEFLATE: a few thousand renders a second.
//! - Decoding uses `rxing` (a ZXing port) with "try harder": it reads blurred, rotated,
//!   JPEG-compressed camera images that `rqrr` misses (and `rqrr` panics on some
//!   valid renders, so it is not used at all).
//! - The decoded text is returned byte for byte: never trimmed nor normalised (Base45
//!   contains spaces).
//!
//! Everything here is CPU-bound: async callers go through `spawn_blocking`.

mod decode;
mod render;

pub use decode::{MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, decode_image, decode_luma};
pub use qrcode::EcLevel;
pub use render::{
    MAX_PX_PER_MODULE, render_png, render_png_with, render_svg, render_svg_with, version,
};

/// Why a QR code could not be rendered or read.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The text does not fit in the largest QR code (version 40) at the chosen level.
    #[error("text too long for a QR code")]
    TooLong,
    /// The QR encoder or the PNG encoder failed, or a rendering parameter is out of range.
    #[error("QR encoding failed: {0}")]
    Encode(String),
    /// The bytes are not a readable PNG or JPEG image.
    #[error("not a readable PNG or JPEG image: {0}")]
    ImageFormat(String),
    /// The image (bytes or pixel dimensions) is over the accepted limits.
    #[error("image too large (max {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} px, {MAX_IMAGE_BYTES} bytes)")]
    ImageTooLarge,
    /// No QR code was found in the image.
    #[error("no QR code found in the image")]
    NotFound,
    /// A QR code was found but could not be read (damaged beyond error correction).
    #[error("QR code unreadable: {0}")]
    Unreadable(String),
}

/// Rendering options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrOptions {
    /// Error correction level; `Q` (25 % of codewords recoverable) by default, robust on
    /// screens and receipt printers.
    pub ec: EcLevel,
    /// Width of the white margin around the symbol, in modules; 4 by default (the
    /// minimum ISO/IEC 18004 asks for).
    pub quiet_zone: u32,
}

impl Default for QrOptions {
    fn default() -> Self {
        Self {
            ec: EcLevel::Q,
            quiet_zone: 4,
        }
    }
}

#[cfg(test)]
mod tests;
