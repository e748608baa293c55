//! gzip for the shell's text files and `/my` (RFC 1952 around miniz_oxide's deflate),
//! when the request's `Accept-Encoding` takes it. Only responses that hold no secret are
//! compressed: a compressed secret beside attacker-chosen text leaks through the length
//! (BREACH), and nothing the shell serves holds one.

use axum::http::{HeaderMap, header};
use std::sync::LazyLock;

/// Whether `Accept-Encoding` takes gzip (a `q=0` refuses it).
pub fn accepted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .take(32)
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// `data` as a gzip member (best compression: the files are compressed once).
pub fn compress(data: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, 9);
    let mut out = Vec::with_capacity(deflated.len() + 18);
    // Magic, deflate, no flags, no time, maximum compression, unknown OS.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

static CRC_TABLE: LazyLock<[u32; 256]> = LazyLock::new(|| {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *entry = c;
    }
    table
});

/// CRC-32 (ISO 3309, as gzip uses).
fn crc32(data: &[u8]) -> u32 {
    let table = &*CRC_TABLE;
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_member_inflates_back_and_carries_the_crc_of_the_original() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        let text = "My declarations ".repeat(200);
        let gz = compress(text.as_bytes());
        assert!(gz.len() < text.len() / 10);
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
        let body = &gz[10..gz.len() - 8];
        let back = miniz_oxide::inflate::decompress_to_vec(body).unwrap();
        assert_eq!(back, text.as_bytes());
        let crc = u32::from_le_bytes(gz[gz.len() - 8..gz.len() - 4].try_into().unwrap());
        assert_eq!(crc, crc32(text.as_bytes()));
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        let h = |v: &'static str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(v));
            m
        };
        assert!(accepted(&h("gzip, deflate, br")));
        assert!(accepted(&h("br;q=1.0, GZIP;q=0.5")));
        assert!(accepted(&h("*")));
        assert!(!accepted(&h("gzip;q=0, br")));
        assert!(!accepted(&h("identity")));
        assert!(!accepted(&HeaderMap::new()));
    }
}
