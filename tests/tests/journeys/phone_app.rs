//! The phone app in a real browser at a phone viewport: "My declarations" (`/my`) lists
//! the QR codes kept on the device, shows them again with mobile-api stopped (the service
//! worker's copy of the shell, the QR codes from the device's storage), the QR read off
//! the screen verifies against mobile-api's signed trust list, Delete erases the
//! declaration (the gate then refuses its QR) and the device forgets it; axe-core finds
//! no WCAG 2.2 AA violation in English, Korean and Japanese, and no page scrolls
//! sideways. Screenshots in `target/artifacts/phone/`.

use crate::browser::{
    Driver, WAIT, assert_axe_clean, assert_no_horizontal_scroll, click, css, js, phone, read_qr,
    shot, start_driver, wait_true,
};
use fantoccini::Client;
use serde_json::{Value, json};
use shared::i18n::{Lang, t};
use shared::token::signed_list::{RootPublicKey, verify_list};
use shared::token::{TrustList, VerifyOptions, decode_and_verify};
use tests::{System, Traveller, codes};

const DIR: &str = "phone";

/// A declaration made through the API, as the device keeps it (the result page's data
/// block: id, edit token, QR text and SVG, expiry, arrival date, language).
async fn declared(sys: &System, who: &Traveller, lang: &str) -> Value {
    let body = who.declaration(json!([]));
    let (status, created) = sys.declare(&body).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let token = created["edit_token"].as_str().unwrap();
    let svg = sys
        .http
        .get(sys.mobile.url(&format!("/v1/declarations/{id}/qr.svg")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    json!({
        "declaration_id": id,
        "edit_token": token,
        "token": created["qr"]["text"],
        "qr_svg": svg,
        "expires_at": created["qr"]["expires_at"],
        "arrival_date": body["trip"]["arrival_date"],
        "lang": lang,
    })
}

/// Put `entries` in the device's storage as app.js keeps them.
async fn keep_on_device(c: &Client, entries: &[Value]) {
    let list = serde_json::to_string(entries).unwrap();
    js(
        c,
        &format!(
            "localStorage.setItem('egate.declarations.v1', JSON.stringify({list})); return true;"
        ),
    )
    .await;
}

/// Ids kept in the device's storage.
async fn kept_ids(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return JSON.parse(localStorage.getItem('egate.declarations.v1') || '[]')
                 .map(function (d) { return d.declaration_id; });",
    )
    .await;
    serde_json::from_value(v).unwrap()
}

/// Open `/my` (in `lang`, when given) and wait until app.js has drawn the list.
async fn open_my(c: &Client, base: &str, lang: Option<&str>) {
    let url = match lang {
        Some(l) => format!("{base}/my?lang={l}"),
        None => format!("{base}/my"),
    };
    c.goto(&url).await.unwrap();
    css(c, "#my-list[data-state=\"ready\"]").await;
}

async fn count(c: &Client) -> u64 {
    css(c, "#my-list[data-state=\"ready\"]")
        .await
        .attr("data-count")
        .await
        .unwrap()
        .and_then(|n| n.parse().ok())
        .unwrap()
}

/// Wait until the service worker controls the page and holds `/my` in its cache.
pub async fn wait_for_offline_shell(c: &Client) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let ready = c
            .execute_async(
                "var done = arguments[arguments.length - 1];
                 if (!('serviceWorker' in navigator)) { done(false); return; }
                 navigator.serviceWorker.getRegistration()
                   .then(function (reg) { return reg && reg.active ? caches.keys() : []; })
                   .then(function (keys) { return Promise.all(keys.map(function (k) {
                     return caches.open(k).then(function (cache) { return cache.match('/my'); }); })); })
                   .then(function (hits) { done(!!navigator.serviceWorker.controller && hits.some(Boolean)); },
                         function () { done(false); });",
                vec![],
            )
            .await
            .unwrap();
        if ready == Value::Bool(true) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service worker never took the page over with /my cached"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        c.refresh().await.unwrap();
        css(c, "#my-list[data-state=\"ready\"]").await;
    }
}

/// Verify a QR text against mobile-api's trust list, signed by the operator's root key.
pub async fn verify_with_trust_list(sys: &System, qr: &str) -> shared::token::Verified {
    let signed = sys
        .http
        .get(sys.mobile.url("/v1/trust-list"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let root = RootPublicKey::of(&sys.trust_root);
    let list = verify_list(&signed, &root, "mobile-api", now, 60, None)
        .expect("mobile-api's trust list verifies with the root key");
    let mut trust = TrustList::new();
    trust.add_jwks(&list.jwks).unwrap();
    decode_and_verify(qr, &trust, VerifyOptions { now, skew_secs: 60 })
        .expect("the QR on the phone verifies against mobile-api's trust list")
}

fn card(id: &str) -> String {
    format!(".decl[data-id=\"{id}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_declarations_on_a_phone_show_the_kept_qr_offline_and_delete_forgets_it() {
    let mut sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let erik = Traveller::erik();
    let kept = declared(&sys, &hanako, "en").await;
    let deleted = declared(&sys, &erik, "en").await;
    let (kept_id, deleted_id) = (
        kept["declaration_id"].as_str().unwrap().to_owned(),
        deleted["declaration_id"].as_str().unwrap().to_owned(),
    );
    let base = sys.mobile.url("");
    let driver: Driver = start_driver();
    let c = phone(&driver, 360, 640).await;

    // Nothing kept yet: the empty list, in the five languages, accessible, no sideways scroll.
    for lang in ["en", "ko", "ja", "zh-Hans", "zh-Hant"] {
        open_my(&c, &base, Some(lang)).await;
        assert_eq!(count(&c).await, 0);
        let l = Lang::from_code(lang).unwrap();
        assert_eq!(
            css(&c, "#my-list .empty").await.text().await.unwrap(),
            t(l, "app-my-empty")
        );
        assert_axe_clean(&c, &format!("/my empty ({lang})")).await;
        assert_no_horizontal_scroll(&c, &format!("/my empty ({lang})")).await;
        shot(&c, DIR, &format!("my-empty-{lang}")).await;
    }

    // Two declarations on the device.
    open_my(&c, &base, Some("en")).await;
    keep_on_device(&c, &[kept.clone(), deleted.clone()]).await;
    for lang in ["en", "ko", "ja"] {
        open_my(&c, &base, Some(lang)).await;
        assert_eq!(count(&c).await, 2);
        css(&c, &format!("{} .qr svg", card(&kept_id))).await;
        assert_axe_clean(&c, &format!("/my with two QR codes ({lang})")).await;
        assert_no_horizontal_scroll(&c, &format!("/my with two QR codes ({lang})")).await;
        shot(&c, DIR, &format!("my-two-{lang}")).await;
    }
    open_my(&c, &base, Some("en")).await;

    // The QR on the screen is the one issued, and it verifies.
    let on_screen = read_qr(&c, &format!("{} .qr svg", card(&kept_id)), DIR, "my-en").await;
    assert_eq!(on_screen, kept["token"].as_str().unwrap());
    let v = verify_with_trust_list(&sys, &on_screen).await;
    assert_eq!(v.claims.iss, "mobile-api");

    // Delete: asks first, "keep it" keeps it.
    click(&c, &format!("{} .delete", card(&deleted_id))).await;
    click(&c, &format!("{} .delete-no", card(&deleted_id))).await;
    assert_eq!(count(&c).await, 2);
    click(&c, &format!("{} .delete", card(&deleted_id))).await;
    assert_axe_clean(&c, "/my asking to confirm a delete (en)").await;
    shot(&c, DIR, "my-delete-confirm-en").await;
    click(&c, &format!("{} .delete-yes", card(&deleted_id))).await;
    wait_true(
        &c,
        "the deleted declaration to leave the list",
        "return document.getElementById('my-list').getAttribute('data-count') === '1';",
    )
    .await;
    assert_eq!(
        css(&c, "#status").await.text().await.unwrap(),
        t(Lang::En, "app-my-deleted")
    );
    assert_eq!(kept_ids(&c).await, vec![kept_id.clone()]);
    shot(&c, DIR, "my-after-delete-en").await;
    // Erased on the server: the edit token opens nothing, the gate refuses the QR.
    let r = sys
        .http
        .get(sys.mobile.url(&format!("/v1/declarations/{deleted_id}")))
        .bearer_auth(deleted["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sys.gate_refresh().await;
    let scan = sys
        .scan(deleted["token"].as_str().unwrap(), &erik.mrz())
        .await;
    assert_eq!(scan["decision"], "red", "{scan}");
    assert!(
        codes(&scan).contains(&"token.superseded".to_owned()),
        "{scan}"
    );

    // Offline: the service worker holds the shell; mobile-api stops; /my still shows
    // the same QR, read off the screen.
    wait_for_offline_shell(&c).await;
    sys.mobile.stop().await;
    c.refresh().await.unwrap();
    css(&c, &format!("{} .qr svg", card(&kept_id))).await;
    assert_eq!(count(&c).await, 1);
    shot(&c, DIR, "my-offline-en").await;
    let offline = read_qr(
        &c,
        &format!("{} .qr svg", card(&kept_id)),
        DIR,
        "my-offline-en",
    )
    .await;
    assert_eq!(offline, on_screen);
    let rendered_ms = css(&c, "#my-list")
        .await
        .attr("data-rendered-ms")
        .await
        .unwrap()
        .unwrap_or_default();
    std::fs::write(
        crate::browser::artifacts(DIR).join("offline-first-qr.txt"),
        format!("offline_my_qr_rendered_ms={rendered_ms}\n"),
    )
    .unwrap();
    assert_axe_clean(&c, "/my offline (en)").await;
    // Any other page offline falls back to the kept /my.
    c.goto(&format!("{base}/")).await.unwrap();
    css(&c, &format!("{} .qr svg", card(&kept_id))).await;
    // Deleting offline says so and keeps the declaration.
    click(&c, &format!("{} .delete", card(&kept_id))).await;
    click(&c, &format!("{} .delete-yes", card(&kept_id))).await;
    wait_true(
        &c,
        "the offline message",
        "return document.getElementById('status').textContent.length > 0;",
    )
    .await;
    assert_eq!(kept_ids(&c).await, vec![kept_id.clone()]);
    shot(&c, DIR, "my-offline-delete-refused-en").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_declaration_past_its_expiry_disappears_from_the_device() {
    let sys = System::spawn().await;
    let mut old = declared(&sys, &Traveller::hanako(), "ko").await;
    let current = declared(&sys, &Traveller::erik(), "ko").await;
    old["expires_at"] = json!(1_577_977_200); // unix seconds, as the result page hands it over
    old["arrival_date"] = json!("2020-01-01");
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 430, 932).await;
    open_my(&c, &base, Some("ko")).await;
    keep_on_device(&c, &[old.clone(), current.clone()]).await;
    open_my(&c, &base, Some("ko")).await;
    assert_eq!(count(&c).await, 1);
    assert_eq!(
        kept_ids(&c).await,
        vec![current["declaration_id"].as_str().unwrap().to_owned()]
    );
    let qr = read_qr(
        &c,
        &format!(
            "{} .qr svg",
            card(current["declaration_id"].as_str().unwrap())
        ),
        DIR,
        "my-ko-430",
    )
    .await;
    assert_eq!(qr, current["token"].as_str().unwrap());
    assert_axe_clean(&c, "/my (ko, 430×932)").await;
    assert_no_horizontal_scroll(&c, "/my (ko, 430×932)").await;
    shot(&c, DIR, "my-ko-430").await;
    c.close().await.unwrap();
}

/// An attack on the device's storage (another script of the origin, a tampered backup):
/// entries that would inject markup or script. The malformed ones are dropped; the QR SVG
/// is rebuilt from allowed elements and attributes only, so nothing runs and the page stays
/// accessible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_entries_in_device_storage_run_no_script_and_bad_ones_are_dropped() {
    let sys = System::spawn().await;
    let good = declared(&sys, &Traveller::hanako(), "en").await;
    let mut svg_attack = good.clone();
    svg_attack["declaration_id"] = json!("svgattack001");
    svg_attack["qr_svg"] = json!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" onload=\"window.pwned=1\">\
         <script>window.pwned=2</script>\
         <foreignObject width=\"10\" height=\"10\"><img xmlns=\"http://www.w3.org/1999/xhtml\" src=\"x\" onerror=\"window.pwned=3\"/></foreignObject>\
         <a href=\"javascript:window.pwned=4\"><rect width=\"10\" height=\"10\" onclick=\"window.pwned=5\"/></a>\
         <rect width=\"10\" height=\"10\" fill=\"#fff\" style=\"background:url(x)\"/></svg>"
    );
    let mut bad_id = good.clone();
    bad_id["declaration_id"] = json!("\"><img src=x onerror=window.pwned=6>");
    let mut bad_token = good.clone();
    bad_token["declaration_id"] = json!("badtoken0001");
    bad_token["edit_token"] = json!("a b\" onmouseover=\"window.pwned=7");
    let mut bad_svg = good.clone();
    bad_svg["declaration_id"] = json!("notansvg0001");
    bad_svg["qr_svg"] = json!("<img src=x onerror=window.pwned=8>");
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 360, 640).await;
    open_my(&c, &base, Some("en")).await;
    keep_on_device(&c, &[good.clone(), svg_attack, bad_id, bad_token, bad_svg]).await;
    open_my(&c, &base, Some("en")).await;
    // The good one and the SVG one (its other fields are well formed); the rest dropped.
    assert_eq!(count(&c).await, 2);
    let v = js(
        &c,
        "return {pwned: typeof window.pwned,
                 dangerous: document.querySelectorAll(
                   '#my-list script, #my-list foreignObject, #my-list a, #my-list img, #my-list [onload], #my-list [onclick], #my-list [style]').length};",
    )
    .await;
    assert_eq!(v["pwned"], "undefined", "a script from storage ran");
    assert_eq!(v["dangerous"], 0, "markup from storage reached the page");
    css(&c, &format!("{} .qr svg rect", card("svgattack001"))).await;
    let good_id = good["declaration_id"].as_str().unwrap();
    let qr = read_qr(
        &c,
        &format!("{} .qr svg", card(good_id)),
        DIR,
        "my-tampered",
    )
    .await;
    assert_eq!(qr, good["token"].as_str().unwrap());
    assert_axe_clean(&c, "/my with tampered storage (en)").await;
    shot(&c, DIR, "my-tampered-en").await;
    c.close().await.unwrap();
}
