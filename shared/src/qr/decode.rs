//! Reading a QR code from an image: PNG or JPEG bytes, or a greyscale frame.

use super::QrError;
use image::{GrayImage, ImageFormat, ImageReader, Limits};
use rxing::common::HybridBinarizer;
use rxing::qrcode::QRCodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Exceptions, Luma8LuminanceSource, Reader};
use std::collections::HashSet;
use std::io::Cursor;

/// Largest accepted image width or height, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// Largest accepted encoded image, in bytes.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// Read the QR code in a PNG or JPEG image and return its text, byte for byte.
///
/// Refuses, before decoding any pixel, inputs over [`MAX_IMAGE_BYTES`] or whose header
/// declares more than [`MAX_IMAGE_SIDE`] pixels on a side ([`QrError::ImageTooLarge`]);
/// anything that is not a PNG or JPEG is an [`QrError::ImageFormat`] error.
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::ImageTooLarge);
    }
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| QrError::ImageFormat(e.to_string()))
    };
    let probe = reader()?;
    match probe.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg) => {}
        _ => return Err(QrError::ImageFormat("not a PNG or JPEG image".into())),
    }
    let (w, h) = probe
        .into_dimensions()
        .map_err(|e| QrError::ImageFormat(e.to_string()))?;
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(QrError::ImageTooLarge);
    }
    let mut full = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    // An RGBA16 frame at the maximum side, plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(MAX_IMAGE_SIDE) * u64::from(MAX_IMAGE_SIDE) * 8 + (16 << 20));
    full.limits(limits);
    let img = full.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => QrError::ImageTooLarge,
        other => QrError::ImageFormat(other.to_string()),
    })?;
    decode_luma(&img.into_luma8())
}

/// Read the QR code in a greyscale image and return its text, byte for byte.
///
/// `rxing`'s zxing-cpp-derived detector first, then its classic ZXing detector, both in
/// "try harder" mode; then the same on the inverted image (light-on-dark codes).
/// `rqrr` is not used: it is no faster here and panics on some valid renders
/// (`assert!(scan >= 1)` in its grid sizing, seen at 1 px/module).
pub fn decode_luma(img: &GrayImage) -> Result<String, QrError> {
    let (w, h) = img.dimensions();
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(QrError::ImageTooLarge);
    }
    // Smallest possible QR symbol: 21 modules of at least one pixel.
    if w < 21 || h < 21 {
        return Err(QrError::NotFound);
    }
    decode_rxing(img)
}

fn decode_rxing(img: &GrayImage) -> Result<String, QrError> {
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(true),
        // Only byte-mode segments without an ECI depend on it; tokens are alphanumeric.
        CharacterSet: Some("UTF-8".to_owned()),
        ..DecodeHints::default()
    };
    let (w, h) = img.dimensions();
    let source = Luma8LuminanceSource::new(img.as_raw().clone(), w, h);
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));

    let mut last = match read_once(&mut bitmap, &hints) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    bitmap.get_black_matrix_mut().flip_self();
    match read_once(&mut bitmap, &hints) {
        Ok(text) => return Ok(text),
        Err(e) => {
            if !matches!(e, Exceptions::NotFoundException(_)) {
                last = e;
            }
        }
    }
    Err(match last {
        Exceptions::NotFoundException(_) => QrError::NotFound,
        other => QrError::Unreadable(other.to_string()),
    })
}

fn read_once(
    bitmap: &mut BinaryBitmap<HybridBinarizer<Luma8LuminanceSource>>,
    hints: &DecodeHints,
) -> Result<String, Exceptions> {
    let first = QrReader.decode_with_hints(bitmap, hints);
    let result = match first {
        Ok(r) => r,
        Err(e1) => QRCodeReader
            .decode_with_hints(bitmap, hints)
            .map_err(|e2| {
                // Prefer the more informative error (a found-but-damaged code over "not found").
                if matches!(e2, Exceptions::NotFoundException(_)) {
                    e1
                } else {
                    e2
                }
            })?,
    };
    Ok(result.getText().to_owned())
}
