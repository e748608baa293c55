//! QR render/decode and MRZ parse throughput.
//!
//! `cargo bench -p shared --bench qr`; compare `render_png` with
//! `python3 bench/segno_png.py` (same text, same scale, same quiet zone and level).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use image::{GrayImage, ImageEncoder, Luma};
use shared::qr::{decode_image, render_png, render_svg};

/// The benchmark text: "CD1:" + Base45 of 233 pseudo-random bytes = 354 characters,
/// the size of a typical signed declaration token. `bench/segno_png.py` builds the same.
fn token() -> String {
    let mut x: u32 = 1;
    let bytes: Vec<u8> = (0..233)
        .map(|_| {
            // Numerical Recipes LCG, mirrored in the Python script.
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    format!("CD1:{}", base45::encode(bytes))
}

/// A 640×480 camera-like JPEG: the QR (4 px/module) rotated 7°, blurred, low contrast,
/// pasted off-centre on a textured grey background with sensor noise, quality 75.
fn camera_jpeg(text: &str) -> Vec<u8> {
    let qr = image::load_from_memory(&render_png(text, 4).expect("render"))
        .expect("png")
        .into_luma8();
    // Rotate on a canvas 24 px larger on each side, so the symbol's corners stay inside.
    let margin = 24;
    let (w, h) = (qr.width() + 2 * margin, qr.height() + 2 * margin);
    let (s, c) = 7f32.to_radians().sin_cos();
    let rotated = GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - w as f32 / 2.0, y as f32 - h as f32 / 2.0);
        let (sx, sy) = (
            c * dx + s * dy + w as f32 / 2.0,
            -s * dx + c * dy + h as f32 / 2.0,
        );
        let (sx, sy) = (sx - margin as f32, sy - margin as f32);
        if sx < 0.0 || sy < 0.0 || sx >= qr.width() as f32 || sy >= qr.height() as f32 {
            Luma([255])
        } else {
            *qr.get_pixel(sx as u32, sy as u32)
        }
    });
    let qr = image::imageops::blur(&rotated, 1.0);
    let mut frame =
        GrayImage::from_fn(640, 480, |x, y| Luma([(100 + (x / 8 + y / 12) % 40) as u8]));
    let (ox, oy) = (640 - w - 30, (480 - h) / 2);
    let mut seed: u32 = 7;
    for (x, y, p) in frame.enumerate_pixels_mut() {
        let base = if x >= ox && y >= oy && x < ox + w && y < oy + h {
            40.0 + f32::from(qr.get_pixel(x - ox, y - oy).0[0]) * (160.0 / 255.0)
        } else {
            f32::from(p.0[0])
        };
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = (seed >> 24) as f32 / 10.0 - 12.8;
        p.0[0] = (base + noise).clamp(0.0, 255.0) as u8;
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75)
        .write_image(frame.as_raw(), 640, 480, image::ExtendedColorType::L8)
        .expect("jpeg");
    out
}

const SPECIMEN: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

fn bench(c: &mut Criterion) {
    let text = token();
    let png = render_png(&text, 4).expect("render");
    let jpeg = camera_jpeg(&text);
    assert_eq!(decode_image(&png).expect("clean decode"), text);
    assert_eq!(decode_image(&jpeg).expect("camera decode"), text);

    c.bench_function("qr/render_png_350ch_4px", |b| {
        b.iter(|| render_png(black_box(&text), 4))
    });
    c.bench_function("qr/render_svg_350ch", |b| {
        b.iter(|| render_svg(black_box(&text)))
    });
    c.bench_function("qr/decode_clean_png", |b| {
        b.iter(|| decode_image(black_box(&png)))
    });
    c.bench_function("qr/decode_camera_jpeg_640x480", |b| {
        b.iter(|| decode_image(black_box(&jpeg)))
    });
    let today = time::macros::date!(2026 - 11 - 01);
    c.bench_function("mrz/parse_td3", |b| {
        b.iter(|| shared::mrz::parse_td3(black_box(SPECIMEN), today))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
