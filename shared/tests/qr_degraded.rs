//! QR round trips through real, degraded images: small modules, rotation, blur, JPEG,
//! a noisy camera-like frame; and inputs that must fail cleanly (no QR, random bytes).

use image::imageops::{self, FilterType};
use image::{GrayImage, ImageEncoder, Luma};
use proptest::prelude::*;
use shared::qr::{QrError, decode_image, decode_luma, render_png, render_svg, version};

/// xorshift64*: deterministic test randomness without another dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 32) as u8).collect()
    }
}

/// "CD1:" + Base45 of random bytes: the shape of a real token (≈ 1.5 chars per byte).
fn token_like(seed: u64, raw_len: usize) -> String {
    let mut rng = Rng(seed);
    format!("CD1:{}", base45::encode(rng.bytes(raw_len)))
}

fn luma(png: &[u8]) -> GrayImage {
    image::load_from_memory(png).unwrap().into_luma8()
}

fn to_png(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    out
}

fn to_jpeg(img: &GrayImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    out
}

/// Rotate about the centre by `degrees` with bilinear sampling on a canvas grown by a
/// white margin of 12 % a side (so that the symbol's corners stay in the picture).
fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let (m, n) = (img.width() * 12 / 100, img.height() * 12 / 100);
    let mut canvas = GrayImage::from_pixel(img.width() + 2 * m, img.height() + 2 * n, Luma([255]));
    imageops::replace(&mut canvas, img, i64::from(m), i64::from(n));
    let img = &canvas;
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let sx = c * dx + s * dy + cx - 0.5;
        let sy = -s * dx + c * dy + cy - 0.5;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let px = |x: f32, y: f32| -> f32 {
            if x < 0.0 || y < 0.0 || x >= w as f32 || y >= h as f32 {
                255.0
            } else {
                f32::from(img.get_pixel(x as u32, y as u32).0[0])
            }
        };
        let v = px(x0, y0) * (1.0 - fx) * (1.0 - fy)
            + px(x0 + 1.0, y0) * fx * (1.0 - fy)
            + px(x0, y0 + 1.0) * (1.0 - fx) * fy
            + px(x0 + 1.0, y0 + 1.0) * fx * fy;
        Luma([v.round().clamp(0.0, 255.0) as u8])
    })
}

/// A 640×480 grey, noisy "camera" frame with `qr` pasted at an offset at reduced
/// contrast (black → 40, white → 200), then sensor noise over everything.
fn camera_frame(qr: &GrayImage, seed: u64) -> GrayImage {
    let mut rng = Rng(seed);
    let mut frame =
        GrayImage::from_fn(640, 480, |x, y| Luma([(100 + (x / 8 + y / 12) % 40) as u8]));
    let (ox, oy) = (640 - qr.width() - 37, (480 - qr.height()) / 2 + 11);
    for (x, y, p) in qr.enumerate_pixels() {
        let v = 40.0 + f32::from(p.0[0]) * (160.0 / 255.0);
        frame.put_pixel(ox + x, oy + y, Luma([v as u8]));
    }
    for p in frame.pixels_mut() {
        let noise = (rng.next() % 25) as i16 - 12;
        p.0[0] = (i16::from(p.0[0]) + noise).clamp(0, 255) as u8;
    }
    frame
}

#[test]
fn a_realistic_token_round_trips_through_png_at_every_scale() {
    for (seed, raw) in [(1, 200), (2, 260), (3, 330)] {
        let text = token_like(seed, raw);
        assert!((300..=500).contains(&text.len()), "{}", text.len());
        for px in [1, 2, 3, 4, 6, 10] {
            let png = render_png(&text, px).unwrap();
            assert_eq!(decode_image(&png).unwrap(), text, "raw {raw} px {px}");
        }
    }
}

#[test]
fn svg_round_trips_when_rasterised() {
    // The SVG is one path of horizontal runs `M x y h n v 1 h -n z`: rasterise exactly
    // those rectangles and read the result.
    let text = token_like(4, 240);
    let svg = render_svg(&text).unwrap();
    let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let side: u32 = view.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let scale = 3;
    let mut img = GrayImage::from_pixel(side * scale, side * scale, Luma([255]));
    for run in d.split('z').filter(|r| !r.is_empty()) {
        let nums: Vec<u32> = run
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let (x, y, n) = (nums[0], nums[1], nums[2]);
        for px in x * scale..(x + n) * scale {
            for py in y * scale..(y + 1) * scale {
                img.put_pixel(px, py, Luma([0]));
            }
        }
    }
    assert_eq!(decode_luma(&img).unwrap(), text);
}

#[test]
fn scaled_down_to_two_pixels_per_module_still_reads() {
    let text = token_like(5, 260);
    // Rendered natively at 2 px/module, and resampled from 8 to 2.4 px/module.
    assert_eq!(decode_image(&render_png(&text, 2).unwrap()).unwrap(), text);
    let big = luma(&render_png(&text, 8).unwrap());
    let w = big.width() * 3 / 10;
    let small = imageops::resize(&big, w, w, FilterType::Triangle);
    assert_eq!(decode_luma(&small).unwrap(), text);
}

#[test]
fn rotated_seven_degrees_still_reads() {
    let text = token_like(6, 260);
    let img = luma(&render_png(&text, 4).unwrap());
    for deg in [7.0, -7.0] {
        assert_eq!(decode_luma(&rotate(&img, deg)).unwrap(), text, "{deg}°");
    }
    // Larger angles need a larger canvas so that the symbol's corners stay in the image.
    let mut canvas = GrayImage::from_pixel(img.width() * 3 / 2, img.height() * 3 / 2, Luma([255]));
    imageops::replace(
        &mut canvas,
        &img,
        i64::from(img.width() / 4),
        i64::from(img.height() / 4),
    );
    for deg in [30.0, 90.0, 180.0] {
        assert_eq!(decode_luma(&rotate(&canvas, deg)).unwrap(), text, "{deg}°");
    }
}

#[test]
fn gaussian_blur_still_reads() {
    let text = token_like(7, 260);
    let img = luma(&render_png(&text, 4).unwrap());
    let blurred = imageops::blur(&img, 1.0);
    assert_eq!(decode_image(&to_png(&blurred)).unwrap(), text);
    let rotated_blurred = imageops::blur(&rotate(&img, 7.0), 1.0);
    assert_eq!(decode_luma(&rotated_blurred).unwrap(), text);
}

#[test]
fn jpeg_at_quality_60_still_reads() {
    let text = token_like(8, 260);
    let img = luma(&render_png(&text, 3).unwrap());
    assert_eq!(decode_image(&to_jpeg(&img, 60)).unwrap(), text);
    let rgb = image::DynamicImage::ImageLuma8(img).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 60)
        .write_image(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    assert_eq!(decode_image(&out).unwrap(), text);
}

#[test]
fn a_noisy_camera_frame_reads() {
    let text = token_like(9, 240);
    let qr = luma(&render_png(&text, 4).unwrap());
    let qr = imageops::blur(&rotate(&qr, 7.0), 1.0);
    let frame = camera_frame(&qr, 9);
    assert_eq!(decode_luma(&frame).unwrap(), text);
    assert_eq!(decode_image(&to_jpeg(&frame, 60)).unwrap(), text);
}

#[test]
fn an_image_with_no_qr_is_not_found() {
    let frame = camera_frame(&GrayImage::from_pixel(200, 200, Luma([255])), 10);
    assert!(matches!(
        decode_image(&to_jpeg(&frame, 80)),
        Err(QrError::NotFound)
    ));
    assert!(matches!(
        decode_image(&to_png(&frame)),
        Err(QrError::NotFound)
    ));
}

#[test]
fn random_bytes_are_an_image_format_error() {
    let mut rng = Rng(11);
    for n in [0, 1, 7, 100, 5000] {
        assert!(
            matches!(decode_image(&rng.bytes(n)), Err(QrError::ImageFormat(_))),
            "{n}"
        );
    }
}

#[test]
fn qr_versions_at_level_q_for_token_lengths() {
    // Reported figures (alphanumeric mode, level Q).
    let mut rng = Rng(12);
    let set = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut seen = Vec::new();
    for len in [120, 200, 300, 400, 500] {
        let text: String = (0..len)
            .map(|_| set[(rng.next() % 45) as usize] as char)
            .collect();
        seen.push((len, version(&text).unwrap()));
    }
    eprintln!("QR versions at level Q: {seen:?}");
    assert_eq!(
        seen,
        vec![(120, 7), (200, 10), (300, 13), (400, 15), (500, 17)]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_image(&bytes);
    }

    #[test]
    fn random_bytes_behind_an_image_signature_never_panic(
        jpeg in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = if jpeg { vec![0xFF, 0xD8, 0xFF, 0xE0] } else { b"\x89PNG\r\n\x1a\n".to_vec() };
        bytes.extend_from_slice(&tail);
        let _ = decode_image(&bytes);
    }

    #[test]
    fn random_grey_images_never_panic(w in 0u32..160, h in 0u32..160, seed in any::<u64>()) {
        let mut rng = Rng(seed | 1);
        let img = GrayImage::from_fn(w, h, |_, _| Luma([if rng.next() & 1 == 0 { 0 } else { 255 }]));
        let _ = decode_luma(&img);
    }
}

/// A valid QR camera JPEG with a few bytes overwritten: corrupt pixel data reaches the
/// detector and decoder, which must fail cleanly, never panic.
#[test]
fn corrupted_qr_jpegs_never_panic() {
    let text = token_like(13, 200);
    let qr = luma(&render_png(&text, 3).unwrap());
    let jpeg = to_jpeg(&rotate(&qr, 5.0), 70);
    let mut rng = Rng(13);
    for _ in 0..150 {
        let mut bytes = jpeg.clone();
        for _ in 0..1 + rng.next() % 6 {
            let i = 200 + (rng.next() as usize) % (bytes.len() - 200);
            bytes[i] = rng.next() as u8;
        }
        let _ = decode_image(&bytes);
    }
}

/// Random black and white blocks drawn over a QR code: damaged symbols must fail
/// cleanly (or decode to the exact text), never panic.
#[test]
fn damaged_qr_symbols_never_panic() {
    let text = token_like(14, 200);
    let clean = luma(&render_png(&text, 3).unwrap());
    let mut rng = Rng(14);
    for _ in 0..150 {
        let mut img = rotate(&clean, (rng.next() % 20) as f32 - 10.0);
        for _ in 0..1 + rng.next() % 8 {
            let (x, y) = (
                (rng.next() % u64::from(img.width())) as u32,
                (rng.next() % u64::from(img.height())) as u32,
            );
            let (bw, bh) = (1 + (rng.next() % 40) as u32, 1 + (rng.next() % 40) as u32);
            let v = if rng.next() & 1 == 0 { 0 } else { 255 };
            for px in x..(x + bw).min(img.width()) {
                for py in y..(y + bh).min(img.height()) {
                    img.put_pixel(px, py, Luma([v]));
                }
            }
        }
        if let Ok(got) = decode_luma(&img) {
            assert_eq!(got, text);
        }
    }
}
