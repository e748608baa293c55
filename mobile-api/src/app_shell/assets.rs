//! The embedded static files of the shell, each with its content type and a strong
//! `ETag`; the service worker with the shell's version written into it.

use super::gzip;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");
const SW_JS: &str = include_str!("../../assets/sw.js");
const ICON_192: &[u8] = include_bytes!("../../assets/icons/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../../assets/icons/icon-512.png");
const MASKABLE_512: &[u8] = include_bytes!("../../assets/icons/maskable-512.png");

/// Placeholder in `sw.js` replaced by [`shell_version`].
const VERSION_PLACEHOLDER: &str = "__SHELL_VERSION__";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const PNG: &str = "image/png";

/// One embedded file, ready to serve: as is, and gzipped when that is smaller (text).
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: String,
    gzipped: Option<Vec<u8>>,
}

impl Asset {
    fn new(body: &'static [u8], content_type: &'static str) -> Asset {
        // PNG is compressed already: text only.
        let gzipped = (content_type != PNG)
            .then(|| gzip::compress(body))
            .filter(|gz| gz.len() < body.len());
        Asset {
            body,
            content_type,
            etag: etag_of(body),
            gzipped,
        }
    }
}

fn etag_of(body: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    format!("\"{}\"", hex::encode(&digest.as_ref()[..16]))
}

static APP_JS_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(APP_JS.as_bytes(), JS));
static APP_CSS_ASSET: LazyLock<Asset> = LazyLock::new(|| Asset::new(APP_CSS.as_bytes(), CSS));
static ICONS: LazyLock<[(&str, Asset); 3]> = LazyLock::new(|| {
    [
        ("icon-192.png", Asset::new(ICON_192, PNG)),
        ("icon-512.png", Asset::new(ICON_512, PNG)),
        ("maskable-512.png", Asset::new(MASKABLE_512, PNG)),
    ]
});

/// The shell's version: a hash of every file the service worker caches whose bytes are
/// fixed at build time (the pages are rendered per request, their code is in the
/// binary, so the package version stands for them).
pub fn shell_version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(env!("CARGO_PKG_VERSION").as_bytes());
        for part in [
            APP_JS.as_bytes(),
            APP_CSS.as_bytes(),
            SW_JS.as_bytes(),
            ICON_192,
            ICON_512,
            MASKABLE_512,
        ] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        hex::encode(&ctx.finish().as_ref()[..8])
    });
    &VERSION
}

static SW_ASSET: LazyLock<Asset> = LazyLock::new(|| {
    let body: &'static str = SW_JS.replace(VERSION_PLACEHOLDER, shell_version()).leak();
    Asset::new(body.as_bytes(), JS)
});

/// `200` with the file (gzipped when the request takes it), or `304` when the request's
/// `If-None-Match` names this representation. Each encoding has its own strong `ETag`.
fn serve(headers: &HeaderMap, a: &'static Asset) -> Response {
    let gz = a.gzipped.as_deref().filter(|_| gzip::accepted(headers));
    let etag = match gz {
        Some(_) => format!("{}-gz\"", a.etag.trim_end_matches('"')),
        None => a.etag.clone(),
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        gz.unwrap_or(a.body).into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gz.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// `GET /app.js`.
pub async fn app_js(headers: HeaderMap) -> Response {
    serve(&headers, &APP_JS_ASSET)
}

/// `GET /app.css`.
pub async fn app_css(headers: HeaderMap) -> Response {
    serve(&headers, &APP_CSS_ASSET)
}

/// The service worker's own CSP (a worker script's response CSP governs the worker):
/// it fetches from this origin only, and nothing else. `frame-ancestors 'none'` as on
/// every response (it replaces the service's default policy): the script opened as a
/// document may not be framed either.
const SW_CSP: &str = "default-src 'none'; connect-src 'self'; frame-ancestors 'none'";

/// `GET /sw.js`: the service worker, with the shell's version in it.
pub async fn service_worker(headers: HeaderMap) -> Response {
    let mut resp = serve(&headers, &SW_ASSET);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SW_CSP),
    );
    resp
}

/// `GET /icons/{name}`: one of the three icons, 404 (problem+json) for anything else.
pub async fn icon(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ICONS.iter().find(|(n, _)| *n == name) {
        Some((_, a)) => serve(&headers, a),
        None => shared::web::Problem::not_found().into_response(),
    }
}
