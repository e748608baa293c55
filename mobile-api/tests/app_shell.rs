//! The phone app's shell over real HTTP (mobile-api served on port 0): content types,
//! the page CSP with a fresh nonce per response, no resource from another origin, the
//! language choice, the manifest and its icons, the service worker's version and what
//! it may cache, revalidation by ETag, and the size of a first load.

use reqwest::header::HeaderMap;
use serde_json::Value;
use shared::i18n::{Lang, t};

struct Served {
    base: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let state = mobile_api::build(mobile_api::Config::for_tests(dir.path()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(mobile_api::serve(listener, state, async {
        let _ = rx.await;
    }));
    Served {
        base,
        http: reqwest::Client::new(),
        _stop: tx,
        _dir: dir,
    }
}

impl Served {
    async fn get(&self, path: &str, headers: &[(&'static str, &str)]) -> (u16, HeaderMap, Vec<u8>) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let h = r.headers().clone();
        (status, h, r.bytes().await.unwrap().to_vec())
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn nonce_of(csp: &str) -> String {
    csp.split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a nonce in the CSP")
        .to_owned()
}

#[tokio::test]
async fn my_page_has_a_fresh_nonce_per_response_and_loads_nothing_from_elsewhere() {
    let s = serve().await;
    let (st, h1, body1) = s.get("/my", &[]).await;
    assert_eq!(st, 200);
    assert_eq!(header(&h1, "content-type"), "text/html; charset=utf-8");
    let csp = header(&h1, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "style-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let html = String::from_utf8(body1).unwrap();
    let n1 = nonce_of(csp);
    assert!(html.contains(&format!("<script src=\"/app.js\" nonce=\"{n1}\" defer>")));
    let (_, h2, _) = s.get("/my", &[]).await;
    assert_ne!(n1, nonce_of(header(&h2, "content-security-policy")));
    // Nothing from another origin: every src/href is a path on this origin.
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            assert!(
                part.starts_with('/') || part.starts_with('#'),
                "{attr}{part:.40}"
            );
        }
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert_eq!(header(&h1, "x-content-type-options"), "nosniff");
    assert!(h1.get("service-worker-allowed").is_none());
}

#[tokio::test]
async fn my_page_speaks_the_query_the_stored_choice_or_accept_language() {
    let s = serve().await;
    let (_, h, body) = s.get("/my", &[("accept-language", "ko-KR,ko;q=0.9")]).await;
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("<html lang=\"ko\">"));
    assert!(html.contains(&t(Lang::Ko, "app-my-title")));
    assert!(
        h.get("set-cookie").is_none(),
        "no choice made, nothing stored"
    );

    let (_, h, body) = s
        .get("/my?lang=zh-Hant", &[("accept-language", "ko")])
        .await;
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<html lang=\"zh-Hant\">")
    );
    let cookie = header(&h, "set-cookie");
    assert!(cookie.starts_with("egate_lang=zh-Hant;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let (_, _, body) = s
        .get(
            "/my",
            &[("cookie", "egate_lang=ja"), ("accept-language", "ko")],
        )
        .await;
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<html lang=\"ja\">")
    );

    // Nonsense is ignored, never an error.
    let long = format!("/my?lang={}", "x".repeat(5000));
    for path in ["/my?lang=xx", "/my?lang", "/my?&&=&lang=%ZZ", long.as_str()] {
        let (st, _, body) = s.get(path, &[("accept-language", "en")]).await;
        assert_eq!(st, 200, "{path}");
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains("<html lang=\"en\">")
        );
    }
}

#[tokio::test]
async fn the_manifest_names_the_app_in_the_device_language_with_its_icons() {
    let s = serve().await;
    let (st, h, body) = s
        .get("/manifest.webmanifest", &[("accept-language", "ja")])
        .await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-type"), "application/manifest+json");
    let m: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["name"], t(Lang::Ja, "app-name"));
    assert_eq!(m["start_url"], "/my");
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["lang"], "ja");
    assert!(m["theme_color"].as_str().unwrap().starts_with('#'));
    let icons = m["icons"].as_array().unwrap();
    let mut seen = Vec::new();
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        let (st, h, png) = s.get(src, &[]).await;
        assert_eq!(st, 200, "{src}");
        assert_eq!(header(&h, "content-type"), "image/png");
        let img = image_size(&png);
        let sizes = icon["sizes"].as_str().unwrap();
        assert_eq!(format!("{}x{}", img.0, img.1), sizes, "{src}");
        seen.push((
            sizes.to_owned(),
            icon["purpose"].as_str().unwrap().to_owned(),
        ));
    }
    for want in [
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    ] {
        assert!(
            seen.iter().any(|(s, p)| s == want.0 && p == want.1),
            "{want:?} missing: {seen:?}"
        );
    }
    for path in ["/icons/..%2Fapp.js", "/icons/other.png", "/icons/"] {
        let (st, _, _) = s.get(path, &[]).await;
        assert_eq!(st, 404, "{path}");
    }
}

/// Width and height from a PNG's IHDR.
fn image_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

#[tokio::test]
async fn scripts_and_styles_have_their_types_and_revalidate_by_etag() {
    let s = serve().await;
    for (path, ty) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
    ] {
        let (st, h, body) = s.get(path, &[]).await;
        assert_eq!(st, 200, "{path}");
        assert_eq!(header(&h, "content-type"), ty, "{path}");
        assert_eq!(header(&h, "cache-control"), "no-cache", "{path}");
        assert!(!body.is_empty());
        let etag = header(&h, "etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() > 10, "{path}: {etag}");
        let (st, _, body) = s.get(path, &[("if-none-match", &etag)]).await;
        assert_eq!(st, 304, "{path}");
        assert!(body.is_empty());
        let (st, _, _) = s.get(path, &[("if-none-match", "\"other\"")]).await;
        assert_eq!(st, 200, "{path}");
    }
}

#[tokio::test]
async fn the_service_worker_carries_the_shell_version_and_never_caches_the_api() {
    let s = serve().await;
    let (_, h, body) = s.get("/sw.js", &[]).await;
    // Its own CSP governs the worker: fetches to this origin only.
    assert_eq!(
        header(&h, "content-security-policy"),
        "default-src 'none'; connect-src 'self'; frame-ancestors 'none'"
    );
    let sw = String::from_utf8(body).unwrap();
    assert!(
        !sw.contains("__SHELL_VERSION__"),
        "the version is written in"
    );
    let version = sw
        .split("var VERSION = \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    assert_eq!(version, mobile_api::app_shell::shell_version());
    assert!(version.len() == 16 && version.bytes().all(|b| b.is_ascii_hexdigit()));
    // Every path it caches is served, and only /my among the pages.
    for path in mobile_api::app_shell::SHELL_PATHS {
        assert!(sw.contains(&format!("\"{path}\"")), "{path} not in sw.js");
        let (st, _, _) = s.get(path, &[]).await;
        assert_eq!(st, 200, "{path}");
    }
    assert!(sw.contains("url.pathname.indexOf(\"/v1/\") === 0) return;"));
    assert!(sw.contains("var OFFLINE_PAGE = \"/my\";"));
}

#[tokio::test]
async fn app_js_never_puts_the_edit_token_in_a_url_or_the_console() {
    let s = serve().await;
    let (_, _, body) = s.get("/app.js", &[]).await;
    let js = String::from_utf8(body).unwrap();
    assert!(!js.contains("console."), "no console output at all");
    assert!(!js.contains("?edit_token") && !js.contains("&edit_token"));
    assert!(!js.contains("location.href") && !js.contains("history."));
    assert!(js.contains("\"Authorization\": \"Bearer \" + d.edit_token"));
    assert!(
        js.contains("f.method = \"post\";") && js.contains("f.action = \"/declarations/edit\";")
    );
}

/// Bytes of a page's first load (the page, its script, its style sheet, the manifest and
/// the icon): under 60 KB uncompressed, and gzip (what browsers take) makes it far less.
#[tokio::test]
async fn a_first_load_of_my_page_is_under_60_kb_in_every_language() {
    let s = serve().await;
    let first_load = [
        "/app.js",
        "/app.css",
        "/manifest.webmanifest",
        "/icons/icon-192.png",
    ];
    let gz = [("accept-encoding", "gzip, deflate, br")];
    let (mut plain, mut zipped) = (0, 0);
    for path in first_load {
        plain += s.get(path, &[]).await.2.len();
        zipped += s.get(path, &gz).await.2.len();
    }
    for lang in Lang::ALL {
        let path = format!("/my?lang={}", lang.code());
        let total = plain + s.get(&path, &[]).await.2.len();
        assert!(total < 60 * 1024, "{lang}: {total} bytes");
        let total_gz = zipped + s.get(&path, &gz).await.2.len();
        assert!(
            total_gz < total / 2,
            "{lang}: {total_gz} of {total} bytes gzipped"
        );
    }
}

#[tokio::test]
async fn text_is_gzipped_when_the_browser_takes_it_with_its_own_etag() {
    let s = serve().await;
    let gz = ("accept-encoding", "gzip");
    for path in ["/app.js", "/app.css", "/sw.js", "/my"] {
        let (st, h, body) = s.get(path, &[gz]).await;
        assert_eq!(st, 200, "{path}");
        assert_eq!(header(&h, "content-encoding"), "gzip", "{path}");
        assert!(header(&h, "vary").contains("Accept-Encoding"), "{path}");
        assert_eq!(&body[..2], &[0x1f, 0x8b], "{path}");
        let (_, plain_h, plain) = s.get(path, &[]).await;
        assert!(plain_h.get("content-encoding").is_none(), "{path}");
        assert!(body.len() < plain.len(), "{path}");
        if path != "/my" {
            let etag = header(&h, "etag").to_owned();
            assert_ne!(
                etag,
                header(&plain_h, "etag"),
                "{path}: one ETag per encoding"
            );
            let (st, _, _) = s.get(path, &[gz, ("if-none-match", &etag)]).await;
            assert_eq!(st, 304, "{path}");
        }
    }
    // Refused gzip, or PNG: as is.
    let (_, h, _) = s.get("/app.js", &[("accept-encoding", "gzip;q=0")]).await;
    assert!(h.get("content-encoding").is_none());
    let (_, h, _) = s.get("/icons/icon-512.png", &[gz]).await;
    assert!(h.get("content-encoding").is_none());
}
