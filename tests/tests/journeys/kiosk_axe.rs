//! The kiosk's pages checked with axe-core (WCAG 2.2 AA) in a real browser on the
//! kiosk's screen, in English, Korean and Japanese: every step of a declaration from the
//! start page to the receipt, a step with field errors, the time-out and not-found
//! pages. The kiosk's own browser tests (kiosk/tests/browser.rs) are untouched; this one
//! only adds the accessibility check. Screenshots in `target/artifacts/kiosk-axe/`.

use crate::browser::{
    answer_all_no, assert_axe_clean, assert_no_horizontal_scroll, click, css, kiosk_screen, shot,
    start_driver, type_into,
};
use fantoccini::Client;
use tests::{System, Traveller};

const DIR: &str = "kiosk-axe";

async fn check(c: &Client, lang: &str, page: &str) {
    let name = format!("kiosk {page} ({lang})");
    assert_axe_clean(c, &name).await;
    assert_no_horizontal_scroll(c, &name).await;
    shot(c, DIR, &format!("{lang}-{page}")).await;
}

/// One declaration, every page checked on the way.
async fn walk(c: &Client, base: &str, lang: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    css(c, &format!("button[value=\"{lang}\"]")).await;
    check(c, lang, "01-start").await;
    click(c, &format!("button[value=\"{lang}\"]")).await;
    css(c, "#f-mrz").await;
    check(c, lang, "02-passport").await;
    // A check digit wrong: the error summary and the field's message.
    let mut bad = Traveller::hanako().mrz();
    let second = bad.find('\n').map_or(44, |i| i + 1);
    // The passport number's check digit is the 10th character of the second line.
    let at = second + 9;
    let wrong = if &bad[at..=at] == "0" { "1" } else { "0" };
    bad.replace_range(at..=at, wrong);
    type_into(c, "#f-mrz", &bad).await;
    click(c, "#read").await;
    css(c, ".error-summary").await;
    check(c, lang, "02b-passport-error").await;
    type_into(c, "#f-mrz", &Traveller::hanako().mrz()).await;
    click(c, "#read").await;
    css(c, "#next").await;
    check(c, lang, "03-passport-read").await;
    click(c, "#next").await;
    css(c, "#f-flight").await;
    check(c, lang, "04-trip").await;
    // Nothing typed: every field's error.
    click(c, "#next").await;
    css(c, ".error-summary").await;
    check(c, lang, "04b-trip-errors").await;
    type_into(c, "#f-flight", "JL43").await;
    type_into(c, "#f-origin", "LHR").await;
    type_into(
        c,
        "#f-address_in_japan",
        "Hotel Sakura 1-2-3 Ginza Chuo-ku Tokyo",
    )
    .await;
    type_into(c, "#f-phone", "+81 90 1234 5678").await;
    type_into(c, "#f-occupation", "Librarian").await;
    click(c, "#next").await;
    css(c, "#f-aged_20_plus").await;
    check(c, lang, "05-party").await;
    click(c, "#next").await;
    css(c, "#f-q-prohibited").await;
    check(c, lang, "06-questions").await;
    answer_all_no(c).await;
    click(c, "#next").await;
    css(c, "#add-row").await;
    click(c, "#add-row").await;
    css(c, "#f-item-0-category").await;
    check(c, lang, "07-items").await;
    css(c, "#f-item-0-category")
        .await
        .select_by_value("clothing")
        .await
        .unwrap();
    type_into(c, "#f-item-0-quantity", "1").await;
    type_into(c, "#f-item-0-amount", "50").await;
    css(c, "#f-item-0-currency")
        .await
        .select_by_value("USD")
        .await
        .unwrap();
    click(c, "#next").await;
    css(c, ".review").await;
    check(c, lang, "08-review").await;
    click(c, "#next").await;
    css(c, "#verdict").await;
    check(c, lang, "09-result").await;
    click(c, "#print").await;
    css(c, "body.receipt").await;
    check(c, lang, "10-receipt").await;
    c.back().await.unwrap();
    click(c, "#finish").await;
    css(c, "button[value=\"ja\"]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kiosk_page_has_no_wcag_2_2_aa_violation_in_english_korean_and_japanese() {
    let sys = System::spawn().await;
    let base = sys.kiosk.url("");
    let driver = start_driver();
    let c = kiosk_screen(&driver).await;
    for lang in ["en", "ko", "ja"] {
        walk(&c, &base, lang).await;
    }
    // The pages outside the steps.
    c.goto(&format!("{base}/timeout")).await.unwrap();
    css(&c, "main").await;
    check(&c, "en", "11-timeout").await;
    c.goto(&format!("{base}/no-such-page")).await.unwrap();
    css(&c, "main").await;
    check(&c, "en", "12-not-found").await;
    c.close().await.unwrap();
}
