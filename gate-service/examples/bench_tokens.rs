//! Benchmark fixture: `cargo run --release -p gate-service --example bench_tokens -- <data dir> <n>`
//! writes, under `<data dir>/bench/`, a JWKS for a fresh issuer key (`issuer.jwks.json`,
//! trust it with `EGATE_GATE_ISSUERS=bench=<that file>`), `bodies.txt` (one
//! `POST /v1/scans` JSON body per line, each with its own token so one-time use does
//! not turn the load into replays) and a 640×480 camera-like JPEG frame holding one more
//! token (`frame.jpg`, its MRZ in `frame_mrz.txt`). The binding key is the gate's
//! (`<data dir>/binding.key`, created if absent).

use shared::domain::{Declared, Sex};
use shared::mrz::{Td3, build_td3};
use shared::token::{BindingKey, Claims, Jwks, SigningKey, Summary};
use std::io::Write as _;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map_or("./data", String::as_str));
    let n: usize = args.get(1).map_or(Ok(50_000), |s| s.parse())?;
    let out = dir.join("bench");
    std::fs::create_dir_all(&out)?;
    // The E-Gate device the load scans as: registered in the gate's database, its key
    // (printed once by `egate device add` in real life) in `bench/gate.key`.
    let gate_dir = dir.join("gate");
    std::fs::create_dir_all(&gate_dir)?;
    let db = shared::db::Db::open(&gate_dir.join("gate.db"), gate_service::db::MIGRATIONS)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let device_key = tokio::runtime::Builder::new_current_thread()
        .build()?
        .block_on(gate_service::devices::add(
            &db,
            "B-01",
            gate_service::devices::DeviceKind::Gate,
            now,
        ))?;
    db.close();
    std::fs::write(out.join("gate.key"), &device_key)?;
    let binding_key = BindingKey::load_or_generate(&dir.join("binding.key"))?;
    let key = SigningKey::generate()?;
    std::fs::write(
        out.join("issuer.jwks.json"),
        serde_json::to_vec(&Jwks {
            keys: vec![key.jwk()],
        })?,
    )?;

    let birth = time::macros::date!(1974 - 08 - 12);
    let td3 = Td3 {
        document_code: "P".into(),
        issuing_state: "UTO".into(),
        surname: "ERIKSSON".into(),
        given_names: "ANNA MARIA".into(),
        document_number: "L898902C3".into(),
        nationality: "UTO".into(),
        birth_date: birth,
        sex: Sex::Female,
        expiry_date: time::macros::date!(2035 - 04 - 15),
        optional_data: String::new(),
    };
    let mrz = build_td3(&td3);
    let binding = binding_key.bind("UTO", "L898902C3", birth);
    let now = time::OffsetDateTime::now_utc();
    let token = || {
        let claims = Claims {
            iss: "bench".into(),
            iat: now.unix_timestamp(),
            exp: now.unix_timestamp() + 7 * 86_400,
            cti: shared::token::new_cti(),
            summary: Summary {
                declaration_id: "BENCHdecl001".into(),
                revision: 1,
                profile_id: shared::rules::RulesProfile::jp_2026_ref().id.clone(),
                arrival_date: now.date(),
                flight: "NH212".into(),
                binding,
                declared: Declared::default(),
            },
        };
        shared::token::encode(&key, &claims)
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(out.join("bodies.txt"))?);
    for _ in 0..n {
        let body = serde_json::json!({ "qr": token()?, "mrz": mrz });
        writeln!(f, "{body}")?;
    }
    f.flush()?;

    // A camera-like frame: the QR at ~4 px/module off-centre on a textured, noisy
    // background, slightly blurred, saved as JPEG.
    let png = shared::qr::render_png(&token()?, 4)?;
    let qr = image::load_from_memory(&png)?.into_luma8();
    let mut frame = image::GrayImage::from_fn(640, 480, |x, y| {
        let v = 90
            + ((x / 7 + y / 5) % 40)
            + ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 23);
        image::Luma([v as u8])
    });
    let (ox, oy) = (150u32, 70u32);
    for (x, y, p) in qr.enumerate_pixels() {
        if ox + x < 640 && oy + y < 480 {
            // Dim the white, lift the black: a phone screen under gate lighting.
            let v = if p.0[0] > 127 { 215 } else { 40 };
            frame.put_pixel(ox + x, oy + y, image::Luma([v]));
        }
    }
    let frame = image::imageops::blur(&frame, 0.8);
    let mut jpg = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 85).encode_image(&frame)?;
    std::fs::write(out.join("frame.jpg"), jpg.into_inner())?;
    std::fs::write(out.join("frame_mrz.txt"), &mrz)?;
    println!(
        "wrote {n} bodies, issuer.jwks.json and frame.jpg to {}",
        out.display()
    );
    Ok(())
}
