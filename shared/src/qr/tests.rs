//! Unit tests of rendering and decoding on clean renders; degraded camera images are in
//! `shared/tests/qr_degraded.rs`.

use super::*;
use qrcode::bits::Bits;
use qrcode::{QrCode, Version};

const TOKEN_LIKE: &str =
    "CD1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEQ/7*3C:GR6ZPG1 /N:KM4 JG7";

/// The version the same text needs when forced into one alphanumeric segment.
fn alphanumeric_version(text: &str) -> i16 {
    for v in 1..=40 {
        let mut bits = Bits::new(Version::Normal(v));
        let ok = bits.push_alphanumeric_data(text.as_bytes()).is_ok()
            && bits.push_terminator(EcLevel::Q).is_ok();
        if ok && QrCode::with_bits(bits, EcLevel::Q).is_ok() {
            return v;
        }
    }
    panic!("does not fit")
}

fn alphanumeric_text(len: usize) -> String {
    const SET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut s = String::from("CD1:");
    let mut x: u32 = 12345;
    while s.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        s.push(SET[(x >> 16) as usize % SET.len()] as char);
    }
    s
}

#[test]
fn token_text_is_encoded_in_alphanumeric_mode() {
    for len in [120, 200, 300, 350, 400, 500] {
        let text = alphanumeric_text(len);
        let v = version(&text).unwrap();
        // Optimal segmentation may only do better than a single alphanumeric segment.
        assert!(v <= alphanumeric_version(&text), "len {len}: v{v}");
        // Byte mode would need a much larger symbol at these lengths.
        let byte_v = {
            let mut v = 0;
            for cand in 1..=40 {
                let mut bits = Bits::new(Version::Normal(cand));
                if bits.push_byte_data(text.as_bytes()).is_ok()
                    && bits.push_terminator(EcLevel::Q).is_ok()
                    && QrCode::with_bits(bits, EcLevel::Q).is_ok()
                {
                    v = cand;
                    break;
                }
            }
            v
        };
        assert!(byte_v == 0 || v < byte_v, "len {len}: v{v} byte v{byte_v}");
    }
}

#[test]
fn versions_at_level_q_for_typical_lengths() {
    let got: Vec<(usize, i16)> = [120, 200, 300, 400, 500]
        .iter()
        .map(|&n| (n, version(&alphanumeric_text(n)).unwrap()))
        .collect();
    // Alphanumeric capacities at Q (ISO/IEC 18004 table 7): v7 122, v9 180, v11 251,
    // v12 287, v13 331, v14 362, v15 412, v16 450, v17 504.
    assert_eq!(
        got,
        vec![(120, 7), (200, 10), (300, 13), (400, 15), (500, 17)]
    );
}

#[test]
fn png_round_trips_at_several_scales() {
    for px in [1, 2, 3, 4, 8] {
        let png = render_png(TOKEN_LIKE, px).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(decode_image(&png).unwrap(), TOKEN_LIKE, "px {px}");
    }
}

#[test]
fn px_per_module_out_of_range_is_an_error() {
    assert!(matches!(render_png(TOKEN_LIKE, 0), Err(QrError::Encode(_))));
    assert!(matches!(
        render_png(TOKEN_LIKE, 33),
        Err(QrError::Encode(_))
    ));
    assert!(render_png(TOKEN_LIKE, 32).is_ok());
}

#[test]
fn png_has_the_quiet_zone_and_expected_size() {
    let v = version(TOKEN_LIKE).unwrap() as u32;
    let modules = 17 + 4 * v;
    let png = render_png(TOKEN_LIKE, 3).unwrap();
    let img = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(img.dimensions(), ((modules + 8) * 3, (modules + 8) * 3));
    // quiet zone is white, top-left finder corner is black
    assert_eq!(img.get_pixel(11, 11).0[0], 255);
    assert_eq!(img.get_pixel(12, 12).0[0], 0);
    let opts = QrOptions {
        quiet_zone: 1,
        ..QrOptions::default()
    };
    let png = render_png_with(TOKEN_LIKE, 1, &opts).unwrap();
    let img = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(img.width(), modules + 2);
}

#[test]
fn too_long_text_is_too_long() {
    let text = "A".repeat(5000);
    assert!(matches!(render_png(&text, 4), Err(QrError::TooLong)));
    assert!(matches!(render_svg(&text), Err(QrError::TooLong)));
    assert!(matches!(version(&text), Err(QrError::TooLong)));
}

#[test]
fn svg_is_inline_ready() {
    let svg = render_svg(TOKEN_LIKE).unwrap();
    assert!(svg.starts_with("<svg "));
    assert!(!svg.contains("<?xml"));
    assert!(svg.contains(r#"shape-rendering="crispEdges""#));
    let side = 17 + 4 * version(TOKEN_LIKE).unwrap() as usize + 8;
    assert!(svg.contains(&format!(r#"viewBox="0 0 {side} {side}""#)));
    assert!(svg.contains(&format!(r#"width="{}""#, side * 4)));
    assert!(svg.ends_with("</svg>"));
}

#[test]
fn image_without_qr_is_not_found() {
    let img = image::GrayImage::from_fn(200, 150, |x, y| {
        image::Luma([((x * 7 + y * 13) % 251) as u8])
    });
    assert!(matches!(decode_luma(&img), Err(QrError::NotFound)));
    let blank = image::GrayImage::from_pixel(300, 300, image::Luma([255]));
    assert!(matches!(decode_luma(&blank), Err(QrError::NotFound)));
    let tiny = image::GrayImage::from_pixel(3, 3, image::Luma([0]));
    assert!(matches!(decode_luma(&tiny), Err(QrError::NotFound)));
}

#[test]
fn random_bytes_are_an_image_format_error() {
    assert!(matches!(
        decode_image(b"not an image at all"),
        Err(QrError::ImageFormat(_))
    ));
    assert!(matches!(decode_image(b""), Err(QrError::ImageFormat(_))));
    // A PNG signature followed by garbage.
    assert!(matches!(
        decode_image(b"\x89PNG\r\n\x1a\n garbage"),
        Err(QrError::ImageFormat(_))
    ));
}

#[test]
fn oversized_images_are_refused_before_decoding() {
    assert!(matches!(
        decode_image(&vec![0u8; MAX_IMAGE_BYTES + 1]),
        Err(QrError::ImageTooLarge)
    ));
    // A valid PNG header declaring 5000×5000 pixels, with no pixel data behind it.
    let png = png_header(5000, 5000);
    let got = decode_image(&png);
    assert!(matches!(got, Err(QrError::ImageTooLarge)), "{got:?}");
    let wide = image::GrayImage::new(MAX_IMAGE_SIDE + 1, 21);
    assert!(matches!(decode_luma(&wide), Err(QrError::ImageTooLarge)));
}

/// A PNG signature, an IHDR chunk (8-bit grey) and a tiny bogus IDAT: enough for a
/// header read, far from enough pixels.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x01, 0x03, 0x00]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn text_with_spaces_comes_back_untrimmed() {
    let text = " CD1: A B  ";
    let png = render_png(text, 4).unwrap();
    assert_eq!(decode_image(&png).unwrap(), text);
}

#[test]
fn fast_mask_selection_matches_the_qrcode_crate() {
    for len in [10, 60, 120, 200, 350, 500, 900] {
        for ec in [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H] {
            let text = alphanumeric_text(len);
            let ours = render::encode_for_tests(&text, ec).unwrap();
            let theirs: Vec<bool> = QrCode::with_error_correction_level(text.as_bytes(), ec)
                .unwrap()
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            assert!(ours == theirs, "len {len} {ec:?}");
        }
    }
}
