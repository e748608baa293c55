//! `/my` ("My declarations") and the web app manifest, in the passenger's language.
//!
//! The page is rendered on the server in one of the five languages (Fluent, the same
//! files as every other screen) and holds no declaration: `app.js` fills the list in from
//! the phone's storage, with the messages it needs handed over in a JSON data block, so
//! the service worker can keep one copy of the page for offline use.
//!
//! Language: `?lang=<code>` (the language links) wins and is remembered on the device in
//! the `egate_lang` cookie (a preference, not a secret); then that cookie; then
//! `Accept-Language`; English otherwise.

use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::i18n::{self, Lang};
use std::fmt::Write as _;

/// The cookie holding the device's language choice (also read by the wizard's pages).
pub const LANG_COOKIE: &str = "egate_lang";

/// The theme colour (manifest, `<meta name="theme-color">`, app.css's header).
pub const THEME_COLOUR: &str = "#0b3d91";

/// Longest query string read; longer ones are ignored (the page is still served).
const MAX_QUERY: usize = 256;

/// The language asked for in the query (`lang=`), if it is one of the five.
fn query_lang(query: Option<&str>) -> Option<Lang> {
    let q = query.filter(|q| q.len() <= MAX_QUERY)?;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::from_code(v))
}

/// The language remembered in [`LANG_COOKIE`], if any.
fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == LANG_COOKIE)
        .and_then(|(_, v)| Lang::from_code(v))
}

/// The page language: query, then the device's stored choice, then `Accept-Language`.
pub fn page_lang(query: Option<&str>, headers: &HeaderMap) -> Lang {
    query_lang(query)
        .or_else(|| cookie_lang(headers))
        .unwrap_or_else(|| crate::lang_of(headers))
}

/// Escape text for HTML content and double-quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The messages app.js needs, as JSON safe inside `<script type="application/json">`
/// (`<` escaped, so no text can close the element). `{date}` stays a placeholder that
/// app.js fills in.
fn script_messages(lang: Lang) -> String {
    let t = |k: &str| i18n::t(lang, k);
    let with_date = |k: &str| i18n::t_args(lang, k, &[("date", "{date}".into())]);
    let messages = serde_json::json!({
        "loading": t("app-my-loading"),
        "empty": t("app-my-empty"),
        "arrival": with_date("app-my-arrival"),
        "expires": with_date("app-my-expires"),
        "show": t("app-my-show"),
        "qr_label": with_date("app-my-qr-label"),
        "change": t("app-my-change"),
        "delete": t("app-my-delete"),
        "delete_confirm": t("app-my-delete-confirm"),
        "delete_yes": t("app-my-delete-yes"),
        "delete_no": t("app-my-delete-no"),
        "deleted": t("app-my-deleted"),
        "offline": t("app-my-offline"),
        "failed": t("app-my-failed"),
        "kept": t("app-my-kept"),
        "my_link": t("app-my-link"),
    });
    messages.to_string().replace('<', "\\u003c")
}

/// The HTML of `/my` in `lang`, with the CSP nonce of this response.
///
/// Referrer policy `same-origin` (not the service's `no-referrer`): with `no-referrer` a
/// browser sends `Origin: null` on the Change form's POST, and the wizard's edit entry
/// accepts only a same-origin `Origin`. Nothing leaves for another origin either way.
pub fn render(lang: Lang, nonce: &str) -> String {
    let t = |k: &str| esc(&i18n::t(lang, k));
    let code = lang.code();
    let mut langs = String::new();
    for l in Lang::ALL {
        let current = if l == lang {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            langs,
            "<li><a href=\"/my?lang={c}\" lang=\"{c}\" hreflang=\"{c}\"{current}>{name}</a></li>",
            c = l.code(),
            name = esc(l.native_name()),
        );
    }
    format!(
        r##"<!DOCTYPE html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="theme-color" content="{THEME_COLOUR}">
<meta name="description" content="{description}">
<title>{title} — {app}</title>
<link rel="manifest" href="/manifest.webmanifest">
<link rel="icon" type="image/png" sizes="192x192" href="/icons/icon-192.png">
<link rel="apple-touch-icon" href="/icons/icon-192.png">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" nonce="{nonce}" defer></script>
</head>
<body>
<a class="skip" href="#main">{skip}</a>
<header class="top">
<p class="brand">{app}</p>
<nav aria-label="{language}"><ul class="langs">{langs}</ul></nav>
</header>
<main id="main" tabindex="-1">
<h1>{title}</h1>
<div id="status" class="status" role="status" aria-live="polite"></div>
<div id="my-list" class="my-list" data-state="loading">
<p class="muted">{loading}</p>
<noscript><p>{noscript}</p></noscript>
</div>
<p>{intro}</p>
<p><a class="button" href="/">{new}</a></p>
<p class="muted">{device_note}</p>
</main>
<script type="application/json" id="app-messages">{messages}</script>
</body>
</html>
"##,
        description = t("app-description"),
        title = t("app-my-title"),
        app = t("app-name"),
        skip = t("app-skip"),
        language = t("app-language"),
        intro = t("app-my-intro"),
        loading = t("app-my-loading"),
        noscript = t("app-my-noscript"),
        new = t("app-my-new"),
        device_note = t("app-my-device-note"),
        messages = script_messages(lang),
    )
}

/// The page CSP: scripts only with this response's nonce (app.js), styles and images
/// from this origin (QR codes are inline SVG), requests only to this origin (the delete
/// call), forms only to this origin (the edit form), no framing.
pub fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// `GET /my`.
pub async fn get(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let chosen = query_lang(query.as_deref());
    let lang = page_lang(query.as_deref(), &headers);
    let nonce = match shared::web::try_random_token() {
        Ok(n) => n,
        Err(e) => return shared::web::Problem::from(e).into_response(),
    };
    let page = render(lang, &nonce);
    let gzipped = super::gzip::accepted(&headers);
    let mut resp = if gzipped {
        (StatusCode::OK, super::gzip::compress(page.as_bytes())).into_response()
    } else {
        (StatusCode::OK, page).into_response()
    };
    let h = resp.headers_mut();
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Revalidated every time online; the offline copy is the service worker's.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie, Accept-Encoding"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if let Some(l) = chosen {
        let secure = if state.config.tls.is_some() {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    resp
}

/// `GET /manifest.webmanifest`: the web app manifest in the device's language.
pub async fn manifest(headers: HeaderMap) -> Response {
    let lang = page_lang(None, &headers);
    let body = serde_json::json!({
        "id": "/my",
        "name": i18n::t(lang, "app-name"),
        "short_name": i18n::t(lang, "app-short-name"),
        "description": i18n::t(lang, "app-description"),
        "lang": lang.code(),
        "dir": "ltr",
        "start_url": "/my",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [
            {"src": "/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": "/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"}
        ]
    });
    let mut resp = body.to_string().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/manifest+json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_query_wins_then_the_stored_choice_then_accept_language() {
        let h = headers(&[("cookie", "a=b; egate_lang=ko"), ("accept-language", "ja")]);
        assert_eq!(page_lang(Some("lang=zh-Hant"), &h), Lang::ZhHant);
        assert_eq!(page_lang(None, &h), Lang::Ko);
        assert_eq!(page_lang(Some("lang=xx"), &h), Lang::Ko);
        let h = headers(&[("accept-language", "ja,en;q=0.5")]);
        assert_eq!(page_lang(None, &h), Lang::Ja);
        assert_eq!(page_lang(None, &HeaderMap::new()), Lang::En);
    }

    #[test]
    fn the_messages_block_cannot_close_its_script_element() {
        for lang in Lang::ALL {
            let page = render(lang, "n");
            let block = page.split("id=\"app-messages\">").nth(1).unwrap();
            let json = block.split("</script>").next().unwrap();
            assert!(!json.contains('<'));
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert!(v["arrival"].as_str().unwrap().contains("{date}"), "{lang}");
        }
    }
}
