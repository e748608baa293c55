//! Rendering a text to a QR code: PNG (8-bit grey, fast DEFLATE) and inline SVG.

use super::{QrError, QrOptions};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use qrcode::{Color, EcLevel, QrCode, Version};
use std::fmt::Write as _;

/// Largest accepted `px_per_module` (a version-40 code is then 5,920 px wide).
pub const MAX_PX_PER_MODULE: u32 = 32;
/// Largest accepted quiet zone, in modules.
const MAX_QUIET_ZONE: u32 = 64;
/// Pixels per module of the SVG's intrinsic `width`/`height` (CSS may override them).
const SVG_PX_PER_MODULE: usize = 4;

const DARK: u8 = 0;
const LIGHT: u8 = 255;

/// The encoded symbol: side in modules (without quiet zone) and dark flags, row-major.
struct Matrix {
    width: usize,
    dark: Vec<bool>,
}

fn encode(text: &str, ec: EcLevel) -> Result<(QrCode, Matrix), QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), ec).map_err(|e| match e {
        qrcode::types::QrError::DataTooLong => QrError::TooLong,
        other => QrError::Encode(other.to_string()),
    })?;
    let width = code.width();
    let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
    Ok((code, Matrix { width, dark }))
}

fn check_quiet_zone(opts: &QrOptions) -> Result<usize, QrError> {
    if opts.quiet_zone > MAX_QUIET_ZONE {
        return Err(QrError::Encode(format!("quiet zone must be at most {MAX_QUIET_ZONE} modules")));
    }
    Ok(opts.quiet_zone as usize)
}

/// The QR version (1–40) that `text` needs at error correction level Q, the level
/// [`render_png`] and [`render_svg`] use.
pub fn version(text: &str) -> Result<i16, QrError> {
    let (code, _) = encode(text, EcLevel::Q)?;
    match code.version() {
        Version::Normal(v) | Version::Micro(v) => Ok(v),
    }
}

/// Render `text` as a PNG QR code (level Q, quiet zone of 4 modules), `px_per_module`
/// pixels per module (1–32; anything else is an [`QrError::Encode`] error).
pub fn render_png(text: &str, px_per_module: u32) -> Result<Vec<u8>, QrError> {
    render_png_with(text, px_per_module, &QrOptions::default())
}

/// Render `text` as a PNG QR code with explicit options.
///
/// The PNG is 8-bit greyscale, black on white, compressed with the fast DEFLATE setting
/// (a QR image compresses very well anyway: each pixel row repeats `px_per_module` times).
pub fn render_png_with(text: &str, px_per_module: u32, opts: &QrOptions) -> Result<Vec<u8>, QrError> {
    if !(1..=MAX_PX_PER_MODULE).contains(&px_per_module) {
        return Err(QrError::Encode(format!("px_per_module must be 1..={MAX_PX_PER_MODULE}")));
    }
    let quiet = check_quiet_zone(opts)?;
    let (_, m) = encode(text, opts.ec)?;
    let scale = px_per_module as usize;
    let side_modules = m.width + 2 * quiet;
    let side = side_modules * scale;

    let mut pixels = vec![LIGHT; side * side];
    let mut row = vec![LIGHT; side];
    for (y, module_row) in m.dark.chunks_exact(m.width).enumerate() {
        row.fill(LIGHT);
        for (x, _) in module_row.iter().enumerate().filter(|(_, d)| **d) {
            let start = (quiet + x) * scale;
            row[start..start + scale].fill(DARK);
        }
        let top = (quiet + y) * scale;
        for py in top..top + scale {
            pixels[py * side..(py + 1) * side].copy_from_slice(&row);
        }
    }

    let side_u32 = u32::try_from(side).map_err(|_| QrError::Encode("image too large".into()))?;
    let mut out = Vec::with_capacity(side * side / 16 + 256);
    // `Up` turns every repeated pixel row into zeros; `Fast` is fdeflate's fast path.
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Up)
        .write_image(&pixels, side_u32, side_u32, ExtendedColorType::L8)
        .map_err(|e| QrError::Encode(e.to_string()))?;
    Ok(out)
}

/// Render `text` as a standalone `<svg>` element (level Q, quiet zone of 4 modules).
///
/// No XML prolog, so it can be inlined in HTML; `viewBox` in modules,
/// `shape-rendering="crispEdges"`, intrinsic size of 4 px per module.
pub fn render_svg(text: &str) -> Result<String, QrError> {
    render_svg_with(text, &QrOptions::default())
}

/// Render `text` as a standalone `<svg>` element with explicit options.
///
/// The dark modules are one `<path>` of horizontal runs (`M x y h n v 1 h -n z`) over a
/// white background `<rect>`.
pub fn render_svg_with(text: &str, opts: &QrOptions) -> Result<String, QrError> {
    let quiet = check_quiet_zone(opts)?;
    let (_, m) = encode(text, opts.ec)?;
    let side = m.width + 2 * quiet;
    let px = side * SVG_PX_PER_MODULE;
    let mut svg = String::with_capacity(m.dark.len() * 3 + 400);
    // `write!` to a String cannot fail.
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" width="{px}" height="{px}" shape-rendering="crispEdges" role="img" aria-label="QR code"><rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d=""##
    );
    for (y, module_row) in m.dark.chunks_exact(m.width).enumerate() {
        let mut x = 0;
        while x < m.width {
            if !module_row[x] {
                x += 1;
                continue;
            }
            let start = x;
            while x < m.width && module_row[x] {
                x += 1;
            }
            let run = x - start;
            let _ = write!(svg, "M{} {}h{run}v1h-{run}z", start + quiet, y + quiet);
        }
    }
    svg.push_str(r#""/></svg>"#);
    Ok(svg)
}
