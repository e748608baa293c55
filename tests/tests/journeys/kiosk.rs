//! A passenger without the app: declares at the kiosk, reads the QR off the result
//! page, and passes the gate.

use super::*;

async fn post(web: &reqwest::Client, url: String, fields: &[(&str, &str)], page: &str) -> String {
    let mut form: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    form.push(("csrf", csrf_of(page)));
    let r = web.post(url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_kiosk_passenger_gets_a_qr_on_screen_that_the_gate_accepts_green() {
    let sys = System::spawn().await;
    let k = |p: &str| sys.kiosk.url(p);
    let erik = Traveller::erik();
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let start = web.get(k("/")).send().await.unwrap().text().await.unwrap();
    let page = post(&web, k("/start"), &[("lang", "en")], &start).await;
    let mrz = erik.mrz();
    let page = post(
        &web,
        k("/passport"),
        &[("mrz", &mrz), ("action", "read")],
        &page,
    )
    .await;
    assert!(page.contains("LARSSON"), "fields filled from the MRZ");
    let page = post(
        &web,
        k("/passport"),
        &[("mrz", &mrz), ("action", "next")],
        &page,
    )
    .await;
    let today = page
        .split("name=\"arrival_date\" type=\"date\" max=\"")
        .nth(1)
        .expect("trip page with an arrival date")[..10]
        .to_owned();
    let page = post(
        &web,
        k("/trip"),
        &[
            ("flight", "SK983"),
            ("origin", "CPH"),
            ("arrival_date", &today),
            ("address_in_japan", "Hotel Okura, Toranomon, Tokyo"),
            ("phone", "+46 70 123 4567"),
            ("occupation", "Architect"),
            ("action", "next"),
        ],
        &page,
    )
    .await;
    let page = post(
        &web,
        k("/party"),
        &[
            ("aged_20_plus", "1"),
            ("aged_6_to_19", "0"),
            ("under_6", "0"),
            ("action", "next"),
        ],
        &page,
    )
    .await;
    let mut answers: Vec<(&str, &str)> = [
        "q-prohibited",
        "q-over-allowance",
        "q-commercial",
        "q-for-others",
        "q-means-of-payment",
        "q-precious-metal",
        "q-unaccompanied",
    ]
    .iter()
    .map(|q| (*q, "no"))
    .collect();
    answers.push(("action", "next"));
    let page = post(&web, k("/questions"), &answers, &page).await;
    let page = post(&web, k("/items"), &[("action", "next")], &page).await;
    let result = post(&web, k("/review"), &[("action", "confirm")], &page).await;
    assert!(result.contains("data-lane=\"green\""), "GREEN at the kiosk");

    let png = svg_qr_to_png(&inline_svg(&result), 4);
    let qr = shared::qr::decode_image(&png).expect("the on-screen QR decodes");
    assert!(qr.starts_with("CD1:"));
    let d = sys.scan_image(png, &erik.mrz()).await;
    assert_eq!(d["decision"], "green", "{d}");

    // Finishing wipes the session: the result page is gone.
    post(&web, k("/finish"), &[], &result).await;
    let again = web
        .get(k("/result"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("LARSSON") && !again.contains("SE9876543"));
}
