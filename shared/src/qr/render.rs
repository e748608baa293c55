//! Rendering a text to a QR code: PNG (8-bit grey, fast DEFLATE) and inline SVG.

use super::{QrError, QrOptions};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, Version};
use std::fmt::Write as _;

/// Largest accepted `px_per_module` (a version-40 code is then 5,920 px wide).
pub const MAX_PX_PER_MODULE: u32 = 32;
/// Largest accepted quiet zone, in modules.
const MAX_QUIET_ZONE: u32 = 16;
/// Pixels per module of the SVG's intrinsic `width`/`height` (CSS may override them).
const SVG_PX_PER_MODULE: usize = 4;

const DARK: u8 = 0;
const LIGHT: u8 = 255;

/// The encoded symbol: side in modules (without quiet zone) and dark flags, row-major.
struct Matrix {
    width: usize,
    dark: Vec<bool>,
}

fn encode_err(e: qrcode::types::QrError) -> QrError {
    match e {
        qrcode::types::QrError::DataTooLong => QrError::TooLong,
        other => QrError::Encode(other.to_string()),
    }
}

/// Segment and size `text` (optimal segmentation, smallest version at `ec`).
fn bits(text: &str, ec: EcLevel) -> Result<qrcode::bits::Bits, QrError> {
    qrcode::bits::encode_auto(text.as_bytes(), ec).map_err(encode_err)
}

/// Encode `text` into a module matrix.
///
/// Same steps and same result as `QrCode::with_error_correction_level`, but the mask is
/// chosen with [`penalty`] on a flat matrix: `qrcode`'s own penalty scoring takes ~5 ms
/// for a version-14 symbol (90 % of a render), this one ~0.1 ms.
fn encode(text: &str, ec: EcLevel) -> Result<Matrix, QrError> {
    let bits = bits(text, ec)?;
    let version = bits.version();
    let (data, ecc) =
        qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).map_err(encode_err)?;
    let mut canvas = Canvas::new(version, ec);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ecc);
    let width =
        usize::try_from(version.width()).map_err(|_| QrError::Encode("bad version".into()))?;
    let mut best: Option<(u32, Vec<bool>)> = None;
    for pattern in MASKS {
        let mut masked = canvas.clone();
        masked.apply_mask(pattern);
        let dark: Vec<bool> = masked
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        let score = penalty(&dark, width);
        // Strictly lower: the first of equal scores wins, as in `qrcode`.
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.ok_or_else(|| QrError::Encode("no mask".into()))?;
    Ok(Matrix { width, dark })
}

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// ISO/IEC 18004 section 7.8.3 mask penalty, computed exactly as `qrcode` 0.14 does (so the
/// same mask is chosen): N1 runs of 5+ (3 + extra), N2 2×2 blocks (3 each), N3
/// finder-like `#.###.#` without 4 light modules on one side (40 each), N4 balance
/// (|dark·200/total − 100|).
fn penalty(dark: &[bool], w: usize) -> u32 {
    let mut transposed = vec![false; dark.len()];
    for (y, row) in dark.chunks_exact(w).enumerate() {
        for (x, &d) in row.iter().enumerate() {
            transposed[x * w + y] = d;
        }
    }
    let mut score: u32 = dark
        .chunks_exact(w)
        .chain(transposed.chunks_exact(w))
        .map(line_penalty)
        .sum();
    // N2
    for rows in dark.windows(2 * w).step_by(w) {
        let (top, bottom) = rows.split_at(w);
        for x in 0..w - 1 {
            let c = top[x];
            if top[x + 1] == c && bottom[x] == c && bottom[x + 1] == c {
                score += 3;
            }
        }
    }
    // N4
    let dark_count = dark.iter().filter(|d| **d).count();
    let ratio = dark_count * 200 / dark.len();
    score + ratio.abs_diff(100) as u32
}

/// N1 and N3 along one row or column.
fn line_penalty(line: &[bool]) -> u32 {
    const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
    let mut score = 0;
    let mut run = 1;
    for j in 1..=line.len() {
        if j < line.len() && line[j] == line[j - 1] {
            run += 1;
        } else {
            if run >= 5 {
                score += run - 2;
            }
            run = 1;
        }
    }
    for (j, window) in line.windows(7).enumerate() {
        if window != FINDER {
            continue;
        }
        let dark_before = line[j.saturating_sub(4)..j].contains(&true);
        let dark_after = line[j + 7..(j + 11).min(line.len())].contains(&true);
        if !dark_before || !dark_after {
            score += 40;
        }
    }
    score
}

fn check_quiet_zone(opts: &QrOptions) -> Result<usize, QrError> {
    if opts.quiet_zone > MAX_QUIET_ZONE {
        return Err(QrError::Encode(format!(
            "quiet zone must be at most {MAX_QUIET_ZONE} modules"
        )));
    }
    Ok(opts.quiet_zone as usize)
}

/// The QR version (1–40) that `text` needs at error correction level Q, the level
/// [`render_png`] and [`render_svg`] use.
pub fn version(text: &str) -> Result<i16, QrError> {
    match bits(text, EcLevel::Q)?.version() {
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
pub fn render_png_with(
    text: &str,
    px_per_module: u32,
    opts: &QrOptions,
) -> Result<Vec<u8>, QrError> {
    if !(1..=MAX_PX_PER_MODULE).contains(&px_per_module) {
        return Err(QrError::Encode(format!(
            "px_per_module must be 1..={MAX_PX_PER_MODULE}"
        )));
    }
    let quiet = check_quiet_zone(opts)?;
    let m = encode(text, opts.ec)?;
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
    let m = encode(text, opts.ec)?;
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

/// The dark modules of `text`'s symbol, row-major (for comparison with `qrcode`).
#[cfg(test)]
pub(super) fn encode_for_tests(text: &str, ec: EcLevel) -> Result<Vec<bool>, QrError> {
    encode(text, ec).map(|m| m.dark)
}
