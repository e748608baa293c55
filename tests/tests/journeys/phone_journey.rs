//! Whole phone journeys in a real browser: the wizard served by mobile-api at `/` in
//! personal-phone mode, from the first page to the QR, then "My declarations".
//!
//! - English at 360×640: the QR read off the screen verifies against mobile-api's
//!   signed trust list; the device keeps it (app.js); Change from /my amends it through
//!   the wizard: a new QR, the old one refused at the gate (`token.superseded`); Delete
//!   erases it and the device forgets it.
//! - Korean at 360×640: the QR is shown again on /my with mobile-api stopped.
//! - Japanese at 430×932, the passport typed from the photo page.
//! - Simplified, then Traditional Chinese at 360×640, one declaration each; the last
//!   one changed through the API while open in the wizard: the "changed elsewhere" page.
//! - English in landscape, 640×360.
//!
//! On every page of every run: axe-core (WCAG 2.2 AA) finds nothing, no sideways
//! scroll, and no URL ever holds the edit token. Screenshots in
//! `target/artifacts/phone/`.

use crate::browser::{
    answer_all_no, assert_axe_clean, assert_no_horizontal_scroll, click, css, js, phone, read_qr,
    shot, start_driver, type_into, wait_true,
};
use crate::phone_app::{verify_with_trust_list, wait_for_offline_shell};
use fantoccini::Client;
use serde_json::Value;
use shared::i18n::{Lang, t};
use tests::{System, Traveller, codes};

const DIR: &str = "phone";

/// Checks every page gets: accessibility, no sideways scroll, a screenshot.
async fn page(c: &Client, lang: &str, name: &str) {
    let what = format!("{name} ({lang})");
    assert_axe_clean(c, &what).await;
    assert_no_horizontal_scroll(c, &what).await;
    shot(c, DIR, &format!("wizard-{lang}-{name}")).await;
}

/// Every URL the browser went to in this tab (the current one is enough: each step
/// is a page of its own), checked for the edit tokens seen so far.
async fn assert_no_token_in_url(c: &Client, tokens: &[String]) {
    let url = c.current_url().await.unwrap().to_string();
    for tk in tokens {
        assert!(
            !url.contains(tk.as_str()),
            "the edit token is in the URL {url}"
        );
    }
}

/// How the passport is given.
enum Passport<'a> {
    Mrz(&'a Traveller),
    PhotoPage(&'a Traveller),
}

/// From the start page to the result page in `lang`; returns the device's copy of the
/// issued declaration (the result page's data block, as app.js kept it).
async fn declare(c: &Client, base: &str, lang: &str, passport: Passport<'_>) -> Value {
    declare_as(c, base, lang, lang, passport).await
}

/// [`declare`], screenshots named `wizard-<tag>-…`.
async fn declare_as(
    c: &Client,
    base: &str,
    lang: &str,
    tag: &str,
    passport: Passport<'_>,
) -> Value {
    c.goto(&format!("{base}/")).await.unwrap();
    css(c, &format!("button[value=\"{lang}\"]")).await;
    page(c, tag, "01-start").await;
    click(c, &format!("button[value=\"{lang}\"]")).await;
    css(c, "#f-mrz").await;
    page(c, tag, "02-passport").await;
    match passport {
        Passport::Mrz(who) => {
            type_into(c, "#f-mrz", &who.mrz()).await;
            click(c, "#read").await;
            css(c, "#next").await;
            page(c, tag, "03-passport-read").await;
            click(c, "#next").await;
        }
        Passport::PhotoPage(who) => {
            let d = &who.td3;
            type_into(c, "#f-p-surname", &d.surname).await;
            type_into(c, "#f-p-given_names", &d.given_names).await;
            type_into(c, "#f-p-nationality", &d.nationality).await;
            set_date(c, "#f-p-birth_date", d.birth_date).await;
            css(c, "#f-p-sex").await.select_by_value("F").await.unwrap();
            type_into(c, "#f-p-passport_number", &d.document_number).await;
            set_date(c, "#f-p-passport_expiry", d.expiry_date).await;
            page(c, tag, "03-passport-typed").await;
            click(c, "#typed-next").await;
        }
    }
    css(c, "#f-flight").await;
    page(c, tag, "04-trip").await;
    type_into(c, "#f-flight", "NH212").await;
    type_into(c, "#f-origin", "LHR").await;
    type_into(c, "#f-address_in_japan", "1-1 Marunouchi Chiyoda-ku Tokyo").await;
    type_into(c, "#f-phone", "+81 90 1234 5678").await;
    type_into(c, "#f-occupation", "Engineer").await;
    click(c, "#next").await;
    css(c, "#f-aged_20_plus").await;
    page(c, tag, "05-party").await;
    click(c, "#next").await;
    css(c, "#f-q-prohibited").await;
    page(c, tag, "06-questions").await;
    answer_all_no(c).await;
    click(c, "#next").await;
    css(c, "#add-row").await;
    page(c, tag, "07-items").await;
    click(c, "#next").await;
    css(c, ".review").await;
    page(c, tag, "08-review").await;
    click(c, "#next").await;
    result_page(c, tag, "09-result").await
}

/// A date field set the way a date picker sets it (typing into one depends on the
/// locale's field order).
async fn set_date(c: &Client, sel: &str, date: time::Date) {
    css(c, sel).await;
    let (sel, value) = (
        serde_json::to_string(sel).unwrap(),
        shared::domain::format_date(date),
    );
    js(
        c,
        &format!("var e = document.querySelector({sel}); e.value = '{value}'; e.dispatchEvent(new Event('change', {{bubbles: true}})); return true;"),
    )
    .await;
}

/// On the result page: wait until app.js has kept the declaration, check the page and
/// return the kept copy.
async fn result_page(c: &Client, lang: &str, name: &str) -> Value {
    css(c, "#verdict").await;
    css(c, "#qr svg").await;
    css(c, "#kept-on-device:not([hidden])").await;
    page(c, lang, name).await;
    let issued: Value = serde_json::from_str(
        &css(c, "#issued-declaration")
            .await
            .prop("textContent")
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let kept = js(
        c,
        "return JSON.parse(localStorage.getItem('egate.declarations.v1') || '[]');",
    )
    .await;
    let kept = kept
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["declaration_id"] == issued["declaration_id"])
        .cloned()
        .expect("the issued declaration is kept on the device");
    assert_eq!(kept["token"], issued["token"]);
    assert_eq!(kept["edit_token"], issued["edit_token"]);
    kept
}

fn card(id: &str) -> String {
    format!(".decl[data-id=\"{id}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_on_a_360_phone_declare_keep_change_and_delete() {
    let sys = System::spawn().await;
    let hanako = Traveller::hanako();
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 360, 640).await;

    let first = declare(&c, &base, "en", Passport::Mrz(&hanako)).await;
    let id = first["declaration_id"].as_str().unwrap().to_owned();
    let edit_token = first["edit_token"].as_str().unwrap().to_owned();
    let tokens = vec![edit_token.clone()];
    assert_no_token_in_url(&c, &tokens).await;
    let old_qr = read_qr(&c, "#qr svg", DIR, "wizard-en-result").await;
    assert_eq!(old_qr, first["token"].as_str().unwrap());
    let v = verify_with_trust_list(&sys, &old_qr).await;
    assert_eq!(v.claims.iss, "mobile-api");
    assert_eq!(v.claims.summary.flight, "NH212");
    assert_eq!(
        css(&c, "#verdict")
            .await
            .attr("data-lane")
            .await
            .unwrap()
            .as_deref(),
        Some("green")
    );

    // Done → My declarations, with the same QR.
    click(&c, "#finish").await;
    css(&c, &format!("{} .qr svg", card(&id))).await;
    assert!(c.current_url().await.unwrap().path() == "/my");
    page(&c, "en", "10-my").await;
    let on_my = read_qr(&c, &format!("{} .qr svg", card(&id)), DIR, "wizard-en-my").await;
    assert_eq!(on_my, old_qr);

    // Change: the wizard opens the declaration (by POST), five bottles of whisky added.
    click(&c, &format!("{} .change", card(&id))).await;
    css(&c, "#amending").await;
    assert_no_token_in_url(&c, &tokens).await;
    page(&c, "en", "11-amending-review").await;
    c.goto(&format!("{base}/items")).await.unwrap();
    click(&c, "#add-row").await;
    css(&c, "#f-item-0-category")
        .await
        .select_by_value("whisky")
        .await
        .unwrap();
    type_into(&c, "#f-item-0-quantity", "5").await;
    type_into(&c, "#f-item-0-size", "750").await;
    type_into(&c, "#f-item-0-amount", "250").await;
    css(&c, "#f-item-0-currency")
        .await
        .select_by_value("USD")
        .await
        .unwrap();
    page(&c, "en", "12-amending-items").await;
    click(&c, "#next").await;
    css(&c, ".review").await;
    click(&c, "#next").await;
    let amended = result_page(&c, "en", "13-amended-result").await;
    assert_no_token_in_url(&c, &tokens).await;
    assert_eq!(amended["declaration_id"], first["declaration_id"]);
    let new_qr = read_qr(&c, "#qr svg", DIR, "wizard-en-amended").await;
    assert_ne!(new_qr, old_qr, "an edit gives a new QR");
    assert_eq!(new_qr, amended["token"].as_str().unwrap());
    verify_with_trust_list(&sys, &new_qr).await;
    assert_eq!(
        css(&c, "#verdict")
            .await
            .attr("data-lane")
            .await
            .unwrap()
            .as_deref(),
        Some("red")
    );
    // The device keeps one entry for the declaration: the new QR.
    click(&c, "#finish").await;
    css(&c, &format!("{} .qr svg", card(&id))).await;
    assert_eq!(
        css(&c, "#my-list")
            .await
            .attr("data-count")
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );
    let shown = read_qr(
        &c,
        &format!("{} .qr svg", card(&id)),
        DIR,
        "wizard-en-my-amended",
    )
    .await;
    assert_eq!(shown, new_qr);

    // The gate refuses the old QR, takes the new one.
    sys.gate_refresh().await;
    let old = sys.scan(&old_qr, &hanako.mrz()).await;
    assert_eq!(old["decision"], "red", "{old}");
    assert!(
        codes(&old).contains(&"token.superseded".to_owned()),
        "{old}"
    );
    let new = sys.scan(&new_qr, &hanako.mrz()).await;
    assert!(
        !codes(&new).contains(&"token.superseded".to_owned()),
        "{new}"
    );

    // Delete: erased on the server, forgotten on the device.
    click(&c, &format!("{} .delete", card(&id))).await;
    click(&c, &format!("{} .delete-yes", card(&id))).await;
    wait_true(
        &c,
        "the list to be empty",
        "return document.getElementById('my-list').getAttribute('data-count') === '0';",
    )
    .await;
    assert_eq!(
        css(&c, "#status").await.text().await.unwrap(),
        t(Lang::En, "app-my-deleted")
    );
    let kept = js(&c, "return localStorage.getItem('egate.declarations.v1');").await;
    assert!(!kept.to_string().contains(&id), "{kept}");
    page(&c, "en", "14-my-after-delete").await;
    let r = sys
        .http
        .get(sys.mobile.url(&format!("/v1/declarations/{id}")))
        .bearer_auth(&edit_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "erased");
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn korean_on_a_360_phone_the_qr_is_shown_again_with_the_server_stopped() {
    let mut sys = System::spawn().await;
    let who = Traveller::erik();
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 360, 640).await;

    // A check digit typed wrong first: the error is named on its field, in Korean.
    c.goto(&format!("{base}/")).await.unwrap();
    click(&c, "button[value=\"ko\"]").await;
    let mut bad = who.mrz();
    let at = bad.find('\n').unwrap() + 1 + 9; // the passport number's check digit
    let wrong = if &bad[at..=at] == "1" { "2" } else { "1" };
    bad.replace_range(at..=at, wrong);
    type_into(&c, "#f-mrz", &bad).await;
    click(&c, "#read").await;
    assert_eq!(
        css(&c, "#e-passport_number").await.text().await.unwrap(),
        t(Lang::Ko, "kiosk-error-mrz-check-digit")
    );
    page(&c, "ko", "02b-passport-check-digit").await;

    let issued = declare(&c, &base, "ko", Passport::Mrz(&who)).await;
    let id = issued["declaration_id"].as_str().unwrap().to_owned();
    assert_no_token_in_url(&c, &[issued["edit_token"].as_str().unwrap().to_owned()]).await;
    let qr = read_qr(&c, "#qr svg", DIR, "wizard-ko-result").await;
    verify_with_trust_list(&sys, &qr).await;
    click(&c, "#finish").await;
    css(&c, &format!("{} .qr svg", card(&id))).await;
    assert_eq!(
        css(&c, "html").await.attr("lang").await.unwrap().as_deref(),
        Some("ko")
    );
    page(&c, "ko", "10-my").await;
    wait_for_offline_shell(&c).await;
    // What the service worker keeps: the shell only, never the result page (it holds the
    // edit token) nor anything of the API, after a whole journey through them.
    let cached = c
        .execute_async(
            "var done = arguments[arguments.length - 1];
             caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) {
               return caches.open(k).then(function (cache) { return cache.keys(); }); })); })
             .then(function (lists) { done([].concat.apply([], lists).map(function (r) {
               return new URL(r.url).pathname; })); });",
            vec![],
        )
        .await
        .unwrap();
    let cached: Vec<String> = serde_json::from_value(cached).unwrap();
    assert!(!cached.is_empty());
    for path in &cached {
        assert!(
            mobile_api::app_shell::SHELL_PATHS.contains(&path.as_str()),
            "the service worker cached {path}: {cached:?}"
        );
    }

    sys.mobile.stop().await;
    c.refresh().await.unwrap();
    css(&c, &format!("{} .qr svg", card(&id))).await;
    assert_eq!(
        css(&c, "h1").await.text().await.unwrap(),
        t(Lang::Ko, "app-my-title")
    );
    shot(&c, DIR, "wizard-ko-11-my-offline").await;
    let offline = read_qr(
        &c,
        &format!("{} .qr svg", card(&id)),
        DIR,
        "wizard-ko-offline",
    )
    .await;
    assert_eq!(offline, qr, "the same QR offline");
    assert_axe_clean(&c, "/my offline (ko)").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn japanese_on_a_430_phone_with_the_passport_typed_from_the_photo_page() {
    let sys = System::spawn().await;
    let who = Traveller::hanako();
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 430, 932).await;
    let issued = declare(&c, &base, "ja", Passport::PhotoPage(&who)).await;
    let qr = read_qr(&c, "#qr svg", DIR, "wizard-ja-result").await;
    assert_eq!(qr, issued["token"].as_str().unwrap());
    verify_with_trust_list(&sys, &qr).await;
    // A page that does not exist, in the session's language.
    c.goto(&format!("{base}/no-such-page")).await.unwrap();
    css(&c, "main").await;
    page(&c, "ja", "15-not-found").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simplified_then_traditional_chinese_on_a_360_phone_every_page_is_accessible() {
    // One browser, two whole declarations: zh-Hans, "Done", then zh-Hant (each language
    // chosen on the start page), axe on every page of both.
    let sys = System::spawn().await;
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 360, 640).await;
    let mut last = Value::Null;
    for (lang, who) in [
        ("zh-Hans", Traveller::erik()),
        ("zh-Hant", Traveller::hanako()),
    ] {
        let issued = declare(&c, &base, lang, Passport::Mrz(&who)).await;
        last = issued.clone();
        let id = issued["declaration_id"].as_str().unwrap().to_owned();
        assert_eq!(
            css(&c, "html").await.attr("lang").await.unwrap().as_deref(),
            Some(lang)
        );
        click(&c, "#finish").await;
        css(&c, &format!("{} .qr svg", card(&id))).await;
        page(&c, lang, "10-my").await;
    }

    // The last one opened for a change, amended meanwhile elsewhere (the API, as another
    // device would), then confirmed here: the "changed elsewhere" page, back to /my.
    let id = last["declaration_id"].as_str().unwrap().to_owned();
    click(&c, &format!("{} .change", card(&id))).await;
    css(&c, "#amending").await;
    let api = reqwest::Client::new();
    let url = format!("{base}/v1/declarations/{id}");
    let edit_token = last["edit_token"].as_str().unwrap();
    let current: Value = api
        .get(&url)
        .bearer_auth(edit_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let put = api
        .put(&url)
        .bearer_auth(edit_token)
        .json(&current["declaration"])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    click(&c, "#next").await;
    css(&c, "#reopen").await;
    assert_eq!(
        css(&c, "h1").await.text().await.unwrap(),
        t(Lang::ZhHant, "kiosk-error-conflict")
    );
    page(&c, "zh-Hant", "12-changed-elsewhere").await;
    click(&c, "#reopen").await;
    css(&c, &format!("{} .qr svg", card(&id))).await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_landscape_on_a_640x360_phone_nothing_scrolls_sideways() {
    let sys = System::spawn().await;
    let base = sys.mobile.url("");
    let driver = start_driver();
    let c = phone(&driver, 640, 360).await;
    let issued = declare_as(
        &c,
        &base,
        "en",
        "en-landscape",
        Passport::Mrz(&Traveller::hanako()),
    )
    .await;
    let qr = read_qr(&c, "#qr svg", DIR, "wizard-en-landscape").await;
    assert_eq!(qr, issued["token"].as_str().unwrap());
    click(&c, "#finish").await;
    let id = issued["declaration_id"].as_str().unwrap();
    css(&c, &format!("{} .qr svg", card(id))).await;
    page(&c, "en-landscape", "10-my").await;
    c.close().await.unwrap();
}
